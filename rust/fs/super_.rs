// SPDX-License-Identifier: GPL-2.0

//! The super block: layers, mount-time checks, the root, statfs,
//! `/proc/mounts`, remount, and dentry revalidation
//! (`fs/overlayfs/super.c`).

#![forbid(unsafe_code)]

use super::inode::{self, OvlInode, OvlPath};
use super::params::MountCtx;
use super::util::{CBuf, OVERLAYFS_SUPER_MAGIC};
use super::Rovl;
use crate::logic::options::{self, Config, Defaults, Xino};
use crate::logic::xattr::{OvlXattr, XattrNs};
use crate::vfs::dentry::{self, DEntry};
use crate::vfs::fs::{FcLog, FileSystem, New, Param, Root, SuperBlock};
use crate::vfs::real::{AnonDev, Cred, Mount, Path, RealDentry, StatFs};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::seq_file::{seq_print, SeqFile};
use kernel::sync::aref::ARef;

/// A layer of the mount (`struct ovl_layer`).
pub(crate) struct Layer {
    /// The private mount of the layer.
    pub(crate) mnt: Mount,
    /// One fsid per underlying file system (0 is the upper's).
    pub(crate) fsid: usize,
    /// The path as given at mount, for `/proc/mounts` and messages.
    pub(crate) name: CBuf,
    /// A data-only layer.
    pub(crate) data_only: bool,
    /// The layer's file system has a case-folding encoding
    /// (`sb_has_encoding`), so that its directories may be case-insensitive.
    pub(crate) has_encoding: bool,
    /// xattr whiteouts were found on this layer.
    has_xwhiteouts: AtomicBool,
}

impl Layer {
    /// Whether xattr whiteouts were seen on this layer.
    pub(crate) fn has_xwhiteouts(&self) -> bool {
        self.has_xwhiteouts.load(Ordering::Relaxed)
    }

    /// Records that this layer has xattr whiteouts (`ovl_layer_set_xwhiteouts`).
    pub(crate) fn set_xwhiteouts(&self) {
        self.has_xwhiteouts.store(true, Ordering::Relaxed);
    }
}

/// A file system under the layers (`struct ovl_sb`).
struct LayerFs {
    sb_id: usize,
    pseudo_dev: AnonDev,
}

/// Per-super-block state (`struct ovl_fs`).
pub(crate) struct OvlFs {
    /// The mounter's credentials, used for all access to the layers.
    pub(crate) creator_cred: Cred,
    /// The lower layers, top first; data-only layers last.
    pub(crate) layers: KVec<Layer>,
    /// The number of data-only layers.
    pub(crate) numdatalayer: usize,
    /// The file systems of the non-data layers; index `fsid - 1`.
    fs: KVec<LayerFs>,
    pub(crate) config: Config,
    defaults: Defaults,
    lowerdir_all: Option<CBuf>,
    /// The longest name the layers allow.
    pub(crate) namelen: i64,
    /// -1: xino disabled, 0: all layers on one file system, 1..32: the
    /// number of high inode number bits used for the fsid.
    pub(crate) xino_mode: i32,
    last_ino: AtomicU64,
    /// Identities of the layer root inodes, sorted (overlapping layers
    /// are refused at mount, and trapped at lookup).
    traps: KVec<usize>,
    /// The root's lower stack (merged layers only).
    root_stack: KVec<(usize, ARef<RealDentry>)>,
    stack_depth: i32,
    maxbytes: i64,
    time_gran: u32,
}

impl OvlFs {
    /// The xattr name space of the overlay's own xattrs.
    pub(crate) fn xattr_ns(&self) -> XattrNs {
        if self.config.userxattr {
            XattrNs::User
        } else {
            XattrNs::Trusted
        }
    }

    /// Runs `f` with the mounter's credentials (`with_ovl_creds`).
    pub(crate) fn with_creds<R>(&self, f: impl FnOnce() -> R) -> R {
        self.creator_cred.with(f)
    }

    /// The number of merged (not data-only) lower layers
    /// (`ovl_numlowerlayer`).
    pub(crate) fn numlowerlayer(&self) -> usize {
        self.layers.len() - self.numdatalayer
    }

    /// The layer with index `idx` (1-based, as `struct ovl_layer`).
    pub(crate) fn layer(&self, idx: usize) -> Result<&Layer> {
        idx.checked_sub(1).and_then(|i| self.layers.get(i)).ok_or(EIO)
    }

    /// Whether redirects are followed (`ovl_redirect_follow`).
    pub(crate) fn redirect_follow(&self) -> bool {
        self.config.redirect != options::Redirect::NoFollow
    }

    /// All layers on one file system (`ovl_same_fs`).
    pub(crate) fn same_fs(&self) -> bool {
        self.xino_mode == 0
    }

    /// Inode numbers are unique on the overlay's st_dev (`ovl_same_dev`).
    pub(crate) fn same_dev(&self) -> bool {
        self.xino_mode >= 0
    }

    /// The xino bits (`ovl_xino_bits`).
    pub(crate) fn xino_bits(&self) -> u32 {
        if self.xino_mode > 0 {
            self.xino_mode as u32
        } else {
            0
        }
    }

    /// Warn about inode numbers that overflow the xino bits (`ovl_xino_warn`).
    pub(crate) fn xino_warn(&self) -> bool {
        self.config.xino == Xino::On
    }

    /// The pseudo st_dev of the file system with `fsid` (non-samefs, no xino).
    pub(crate) fn pseudo_dev(&self, fsid: usize) -> u32 {
        fsid.checked_sub(1).and_then(|i| self.fs.get(i)).map_or(0, |f| f.pseudo_dev.dev())
    }

    /// A new non-persistent inode number (`ovl_next_ino`).
    pub(crate) fn next_ino(&self) -> u64 {
        let mut ino = self.last_ino.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if ino == 0 {
            ino = self.last_ino.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        }
        ino
    }

    /// Whether `dentry` is a layer root reached through another layer
    /// (`ovl_lookup_trap_inode`).
    pub(crate) fn is_trap(&self, dentry: &RealDentry) -> bool {
        dentry.inode().is_some_and(|i| self.traps.binary_search(&i.id()).is_ok())
    }

    /// The root's lower stack.
    pub(crate) fn root_stack(&self) -> &[(usize, ARef<RealDentry>)] {
        &self.root_stack
    }
}

/// Why a mount failed: logs `msg` (with `arg`) and returns `err`.
fn fail(log: &FcLog<'_>, msg: &str, arg: Option<&[u8]>, err: Error) -> Error {
    log.error(None, msg, arg);
    err
}

/// Sets up the layers of a lower-only mount (`ovl_get_lowerstack`,
/// `ovl_lower_dir`, `ovl_get_layers`, `ovl_check_overlapping_layers`).
pub(crate) fn get_tree(ctx: &mut MountCtx, log: &FcLog<'_>) -> Result<OvlFs> {
    if ctx.upper.is_some() || ctx.work.is_some() {
        return Err(fail(log, "upperdir/workdir are not supported yet (read-only lower mounts only)", None, EINVAL));
    }
    if ctx.lower.is_empty() {
        return Err(fail(log, "missing 'lowerdir'", None, EINVAL));
    }
    let nr = ctx.lower.len();
    let nr_data = ctx.nr_data();
    // xino: enough free high bits are assumed until a layer says otherwise.
    let mut xino_mode: i32 = if ctx.config.xino != Xino::Off { 32 } else { -1 };

    let mut paths = KVec::with_capacity(nr, GFP_KERNEL)?;
    let mut namelen = 0i64;
    let (mut stack_depth, mut maxbytes, mut time_gran) = (0i32, i64::MAX, 1u32);
    for l in ctx.lower.iter() {
        let path = Path::lookup_dir(l.path.as_cstr()).map_err(|e| {
            if e == ENOTDIR {
                fail(log, "not a directory", Some(l.path.bytes()), EINVAL)
            } else {
                fail(log, "failed to resolve", Some(l.path.bytes()), e)
            }
        })?;
        // ovl_mount_dir_check; overlayfs also stacks layers that are all
        // case-insensitive, rovl does not (Documentation/read-path.rst).
        if path.dentry().is_casefolded() {
            return Err(fail(log, "case-insensitive directory not supported by rovl", Some(l.path.bytes()), EINVAL));
        }
        if super::util::dentry_weird(path.dentry(), path.dentry().sb_has_encoding()) {
            return Err(fail(log, "filesystem not supported", Some(l.path.bytes()), EINVAL));
        }
        // ovl_check_namelen
        let mut st = StatFs::new();
        path.statfs(&mut st).map_err(|e| fail(log, "statfs failed on", Some(l.path.bytes()), e))?;
        namelen = namelen.max(st.namelen());
        stack_depth = stack_depth.max(path.stack_depth());
        // ovl_can_decode_fh: only a layer whose file handles are the
        // generic 32-bit ones (and that we may decode) is known to have
        // inode numbers of 32 bits; others may use all the bits.
        let fh = path.export_ops();
        if !(fh.can_decode && crate::vfs::capable_dac_read_search() && fh.ino32) {
            xino_mode = -1;
        }
        if !l.data_only {
            maxbytes = maxbytes.min(path.maxbytes());
            time_gran = time_gran.max(path.time_gran());
        }
        paths.push(path, GFP_KERNEL)?;
    }
    // Like overlayfs, which resolves the layers while parsing: path errors
    // come first, then the option rules, then the layer counts.
    ctx.config
        .verify(false, nr_data, crate::vfs::capable_sys_admin())
        .map_err(|e| fail(log, e.message(), None, if e.is_permission() { EPERM } else { EINVAL }))?;
    if nr == 1 {
        return Err(fail(log, "at least 2 lowerdir are needed while upperdir nonexistent", None, EINVAL));
    }
    if nr == nr_data {
        return Err(fail(log, "at least one non-data lowerdir is required", None, EINVAL));
    }
    let stack_depth = stack_depth + 1;
    if stack_depth > crate::vfs::MAX_STACK_DEPTH {
        return Err(fail(log, "maximum fs stacking depth exceeded", None, EINVAL));
    }

    // Traps: a layer root twice is a conflict; a layer root below another
    // layer's root is an overlap.
    let mut traps = KVec::with_capacity(nr, GFP_KERNEL)?;
    for (p, l) in paths.iter().zip(ctx.lower.iter()) {
        let id = p.dentry().inode().ok_or(EIO)?.id();
        match traps.binary_search(&id) {
            Ok(_) => return Err(fail(log, "conflicting lowerdir path", Some(l.path.bytes()), crate::vfs::eloop())),
            Err(pos) => traps.insert_within_capacity(pos, id).map_err(|_| ENOMEM)?,
        }
    }
    for (p, l) in paths.iter().zip(ctx.lower.iter()) {
        let mut cur: ARef<RealDentry> = p.dentry().into();
        loop {
            let parent = cur.parent();
            if parent.id() == cur.id() {
                break;
            }
            if parent.inode().is_some_and(|i| traps.binary_search(&i.id()).is_ok()) {
                return Err(fail(log, "overlapping lowerdir path", Some(l.path.bytes()), crate::vfs::eloop()));
            }
            cur = parent;
        }
    }

    // ovl_get_layers: fsid 0 is the upper's, even without one; data-only
    // layers share the "null fs" after the last one.
    let mut fs: KVec<LayerFs> = KVec::new();
    let mut layers = KVec::with_capacity(nr, GFP_KERNEL)?;
    for (p, l) in paths.iter().zip(ctx.lower.iter()) {
        let fsid = if l.data_only {
            fs.len() + 1
        } else {
            let sb_id = p.sb_id();
            match fs.iter().position(|f| f.sb_id == sb_id) {
                Some(k) => k + 1,
                None => {
                    let dev = AnonDev::new()
                        .map_err(|e| fail(log, "failed to get anonymous bdev for lowerpath", None, e))?;
                    fs.push(LayerFs { sb_id, pseudo_dev: dev }, GFP_KERNEL)?;
                    fs.len()
                }
            }
        };
        let mnt = Mount::clone_private_readonly(p)
            .map_err(|e| fail(log, "failed to clone lowerpath", Some(l.path.bytes()), e))?;
        let has_encoding = mnt.root().sb_has_encoding();
        layers.push(
            Layer {
                mnt,
                fsid,
                name: l.path.try_clone()?,
                data_only: l.data_only,
                has_encoding,
                has_xwhiteouts: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?;
    }
    // numfs as overlayfs counts it: the upper slot plus the lower ones.
    let numfs = fs.len() + 1;
    if numfs - 1 == 1 {
        if ctx.config.xino == Xino::On {
            pr_info!("\"xino=on\" is useless with all layers on same fs, ignore.\n");
        }
        xino_mode = 0;
    } else if ctx.config.xino == Xino::Off {
        xino_mode = -1;
    } else if xino_mode < 0 {
        // Bits for the fsid (0 reserved for upper) plus one for the
        // non-persistent inode number range.
        xino_mode = (usize::BITS - 1 - (numfs - 1).leading_zeros()) as i32 + 2;
    }
    if xino_mode > 0 {
        pr_info!("\"xino\" feature enabled using {} upper inode bits.\n", xino_mode);
    }

    let mut root_stack = KVec::with_capacity(nr - nr_data, GFP_KERNEL)?;
    for (i, l) in layers.iter().enumerate().take(nr - nr_data) {
        root_stack.push((i + 1, ARef::from(l.mnt.root())), GFP_KERNEL)?;
    }

    Ok(OvlFs {
        creator_cred: Cred::current()?,
        numdatalayer: nr_data,
        layers,
        fs,
        config: ctx.config,
        defaults: ctx.defaults,
        lowerdir_all: ctx.lowerdir_all.as_ref().map(CBuf::try_clone).transpose()?,
        namelen,
        xino_mode,
        // ovl_fill_super starts at 1: the first non-persistent number is 2.
        last_ino: AtomicU64::new(1),
        traps,
        root_stack,
        stack_depth,
        maxbytes,
        time_gran,
    })
}

/// `ovl_fill_super` for a lower-only mount: super block fields and the root
/// (`ovl_get_root`).
fn fill_super(sb: &mut SuperBlock<Rovl, New>) -> Result<Root<Rovl>> {
    let ofs = sb.data();
    let (depth, maxbytes, gran) = (ofs.stack_depth, ofs.maxbytes, ofs.time_gran);
    sb.set_magic(OVERLAYFS_SUPER_MAGIC);
    sb.set_stack_depth(depth);
    sb.set_maxbytes(maxbytes);
    sb.set_time_gran(gran);
    sb.set_read_only();
    sb.set_posix_acl();
    let ofs = sb.data();
    let mut stack = KVec::with_capacity(ofs.root_stack.len(), GFP_KERNEL)?;
    for (layer, d) in ofs.root_stack.iter() {
        stack.push(OvlPath { layer: *layer, dentry: d.clone() }, GFP_KERNEL)?;
    }
    // Look for the xwhiteouts marker (overlay.opaque=x) except in the
    // lowest layer.
    let mut flags = 0;
    ofs.with_creds(|| -> Result {
        for p in stack.iter().take(stack.len().saturating_sub(1)) {
            let layer = ofs.layer(p.layer)?;
            if ofs.dir_xattr_val(layer, &p.dentry, OvlXattr::Opaque) == b'x' {
                layer.set_xwhiteouts();
                flags |= super::DENTRY_XWHITEOUTS;
            }
        }
        Ok(())
    })?;
    let reval = inode::stack_reval(&stack);
    let inode = inode::get_root_inode(sb, stack)?;
    Ok(Root { inode, flags, reval })
}

/// `ovl_statfs`: the top layer's statfs with the overlay's type and the
/// longest name of all layers.
fn statfs(sb: &SuperBlock<Rovl>, buf: &mut StatFs) -> Result {
    let ofs = sb.data();
    let (idx, root) = ofs.root_stack.first().ok_or(EIO)?;
    let layer = ofs.layer(*idx)?;
    ofs.with_creds(|| layer.mnt.statfs(root, buf))?;
    buf.set_namelen(ofs.namelen);
    buf.set_type(OVERLAYFS_SUPER_MAGIC);
    Ok(())
}

/// Writes into a seq_file with `core::fmt`.
struct SeqWriter<'a>(&'a SeqFile);

impl Write for SeqWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        seq_print!(self.0, "{}", s);
        Ok(())
    }
}

/// `ovl_show_options`.
fn show_options(sb: &SuperBlock<Rovl>, seq: &SeqFile) -> Result {
    let ofs = sb.data();
    let mut w = SeqWriter(seq);
    let r = (|| -> core::fmt::Result {
        match &ofs.lowerdir_all {
            Some(all) => options::show_option(&mut w, "lowerdir", all.bytes())?,
            None => {
                for l in ofs.layers.iter() {
                    let key = if l.data_only { "datadir+" } else { "lowerdir+" };
                    options::show_option(&mut w, key, l.name.bytes())?;
                }
            }
        }
        ofs.config.show(&mut w, &ofs.defaults, ofs.same_fs())
    })();
    // A full seq_file buffer is detected by the seq_file code itself.
    let _ = r;
    Ok(())
}

#[vtable]
impl FileSystem for Rovl {
    #[cfg(not(rovl_dropin))]
    const NAME: &'static CStr = c"rovl";
    #[cfg(rovl_dropin)]
    const NAME: &'static CStr = c"overlay";
    type Context = MountCtx;
    type Data = OvlFs;
    type INodeData = OvlInode;

    fn init_context() -> Result<MountCtx> {
        Ok(MountCtx::new())
    }

    fn parse_param(ctx: &mut MountCtx, param: &Param<'_>, log: &FcLog<'_>) -> Result {
        ctx.parse(param, log)
    }

    fn get_tree(ctx: &mut MountCtx, log: &FcLog<'_>) -> Result<OvlFs> {
        get_tree(ctx, log)
    }

    fn fill_super(sb: &mut SuperBlock<Self, New>, _log: &FcLog<'_>) -> Result<Root<Self>> {
        fill_super(sb)
    }

    /// `ovl_reconfigure`: a mount without an upper layer stays read-only.
    fn reconfigure(_sb: &SuperBlock<Self>, _ctx: &mut MountCtx, read_only: bool) -> Result {
        if read_only {
            Ok(())
        } else {
            Err(EROFS)
        }
    }

    fn statfs(sb: &SuperBlock<Self>, buf: &mut StatFs) -> Result {
        statfs(sb, buf)
    }

    fn show_options(sb: &SuperBlock<Self>, seq: &SeqFile) -> Result {
        show_options(sb, seq)
    }

    fn option_end(s: &[u8]) -> Option<usize> {
        options::next_opt_end(s)
    }
}

/// `ovl_dentry_revalidate_common`: each real dentry with a revalidation
/// operation (remote file systems) is asked.
#[vtable]
impl dentry::Operations for Rovl {
    fn revalidate(dentry: &DEntry<Self>, rcu: bool, flags: u32, weak: bool) -> Result<bool> {
        // Careful in RCU mode: the inode may be gone.
        let Some(inode) = dentry.inode() else {
            return Err(crate::vfs::echild());
        };
        for p in inode.data().stack.iter() {
            if !p.dentry.revalidate(rcu, flags, weak)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

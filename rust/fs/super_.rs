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
use crate::vfs::write::{InUse, WbErrSample, WriteAccess};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::prelude::*;
use kernel::new_mutex;
use kernel::sync::Mutex;
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
    /// File handles of the layer's file system can be decoded
    /// (`ovl_can_decode_fh`, with the mounter's privileges).
    pub(crate) can_decode_fh: bool,
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
    /// The file system's UUID is not unique among the layers: origin
    /// file handles are not decoded on it.
    pub(crate) bad_uuid: bool,
    /// Its UUID (`s_uuid`).
    uuid: [u8; 16],
}

/// The work directories of a mount with an upper layer.
pub(crate) struct WorkDirs {
    /// The `workdir` given at mount.
    pub(crate) base: ARef<RealDentry>,
    /// `work` below it, where changes are prepared; `None` when it could
    /// not be made (the mount is then read-only).
    pub(crate) work: Option<ARef<RealDentry>>,
    /// `index` below it with `index=on` (which replaces `work` then).
    pub(crate) index: Option<ARef<RealDentry>>,
    /// The upper file system supports `O_TMPFILE` (`ofs->tmpfile`).
    pub(crate) tmpfile: bool,
    /// The exclusive-use bits on the upper and work directories, when they
    /// were not in use already.
    _inuse: (Option<InUse>, Option<InUse>),
    /// The upper file system's writeback error state at mount
    /// (`ofs->errseq`), for `volatile`'s [`OvlFs::sync_status`].
    wb_err: WbErrSample,
}

/// The shared whiteout of the work directory.
#[derive(Default)]
pub(crate) struct SharedWhiteout {
    /// A whiteout in the work directory that new whiteouts link to.
    pub(crate) dentry: Option<ARef<RealDentry>>,
    /// Linking failed with something else than `EMLINK`: no sharing
    /// (`ofs->no_shared_whiteout`).
    pub(crate) no_share: bool,
}

/// Per-super-block state (`struct ovl_fs`).
pub(crate) struct OvlFs {
    /// The mounter's credentials, used for all access to the layers.
    pub(crate) creator_cred: Cred,
    /// The lower layers, top first; data-only layers last.
    pub(crate) layers: KVec<Layer>,
    /// The number of data-only layers.
    pub(crate) numdatalayer: usize,
    /// The upper layer (`layers[0]` in overlayfs).
    pub(crate) upper: Option<Layer>,
    /// The work directories, with an upper layer: held (with their
    /// exclusive-use bits) for the life of the mount.
    _workdirs: Option<WorkDirs>,
    /// The overlay's UUID (`s_uuid`), for `f_fsid`.
    uuid: [u8; 16],
    /// The upper file system has no overlay xattr support (probed at
    /// mount, or found on a later write).
    pub(crate) noxattr: AtomicBool,
    /// The whiteout new whiteouts are hard links of (`ofs->whiteout`,
    /// under `ofs->whiteout_lock`).
    pub(crate) whiteout: Pin<KBox<Mutex<SharedWhiteout>>>,
    /// The file systems of the non-data lower layers; index `fsid - 1`.
    fs: KVec<LayerFs>,
    /// The pseudo st_dev of the upper file system (fsid 0).
    upper_dev: Option<AnonDev>,
    pub(crate) config: Config,
    defaults: Defaults,
    lowerdir_all: Option<CBuf>,
    upperdir: Option<CBuf>,
    workdir: Option<CBuf>,
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

impl Drop for OvlFs {
    /// Dentries on the layers go before the layers' private mounts.
    fn drop(&mut self) {
        self.whiteout.lock().dentry = None;
        self._workdirs = None;
        self.root_stack.clear();
    }
}

impl OvlFs {
    /// The mount's stacking depth (`s_stack_depth`).
    pub(crate) fn stack_depth(&self) -> i32 {
        self.stack_depth
    }

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

    /// The layer with index `idx` (0: the upper layer, lower layers from
    /// 1, as `struct ovl_layer`).
    pub(crate) fn layer(&self, idx: usize) -> Result<&Layer> {
        match idx.checked_sub(1) {
            Some(i) => self.layers.get(i).ok_or(EIO),
            None => self.upper.as_ref().ok_or(EIO),
        }
    }

    /// The directory where changes are prepared (`ofs->workdir`): the
    /// index directory with `index=on`, else `work`.
    pub(crate) fn workdir(&self) -> Option<&RealDentry> {
        let w = self._workdirs.as_ref()?;
        w.index.as_deref().or(w.work.as_deref())
    }

    /// The upper file system supports `O_TMPFILE`.
    pub(crate) fn tmpfile(&self) -> bool {
        self._workdirs.as_ref().is_some_and(|w| w.tmpfile)
    }

    /// Data is synced on copy-up (`ovl_should_sync`: not `volatile`).
    pub(crate) fn should_sync(&self) -> bool {
        self.config.fsync != options::Fsync::Volatile
    }

    /// `ovl_sync_status`: whether fsync and syncfs must sync the upper
    /// layer (not with `volatile`); with `volatile`, the upper file
    /// system's writeback error since the mount, if any.
    pub(crate) fn sync_status(&self) -> Result<bool> {
        if self.should_sync() {
            return Ok(true);
        }
        match (&self.upper, &self._workdirs) {
            (Some(up), Some(w)) => up.mnt.wb_err_since(w.wb_err).map(|()| false),
            _ => Ok(false),
        }
    }

    /// Metadata is synced on copy-up too (`fsync=strict`).
    pub(crate) fn should_sync_metadata(&self) -> bool {
        self.config.fsync == options::Fsync::Strict
    }

    /// Every copy-up is indexed, directories too (`ovl_index_all`): for
    /// NFS export.
    pub(crate) fn index_all(&self) -> bool {
        self.config.nfs_export && self.config.index
    }

    /// A merged directory's lower must be its origin (`ovl_verify_lower`,
    /// the same condition as [`Self::index_all`] in overlayfs).
    pub(crate) fn verify_lower(&self) -> bool {
        self.index_all()
    }

    /// The index directory (`ofs->workdir` with `index=on`), if any.
    pub(crate) fn indexdir(&self) -> Option<&RealDentry> {
        self._workdirs.as_ref().and_then(|w| w.index.as_deref())
    }

    /// The overlay has a UUID of its own for `f_fsid` (`ovl_has_fsid`).
    pub(crate) fn has_fsid(&self) -> bool {
        matches!(self.config.uuid, options::Uuid::On | options::Uuid::Auto)
    }

    /// Whether the file system with `fsid` has a UUID not unique among the
    /// layers.
    pub(crate) fn bad_uuid(&self, fsid: usize) -> bool {
        fsid.checked_sub(1).and_then(|i| self.fs.get(i)).is_some_and(|f| f.bad_uuid)
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
        match fsid.checked_sub(1) {
            Some(i) => self.fs.get(i).map_or(0, |f| f.pseudo_dev.dev()),
            None => self.upper_dev.as_ref().map_or(0, |d| d.dev()),
        }
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

/// The upper layer and work directories, set up (`ovl_get_upper`,
/// `ovl_get_workdir`, `ovl_make_workdir`).
struct UpperSetup {
    /// Dentries on the upper layer: dropped before its mount (`layer`).
    workdirs: WorkDirs,
    layer: Layer,
    noxattr: bool,
    /// The upper file system's inode numbers fit in 32 bits (or were not
    /// probed: no work directory).
    ino32: bool,
    sb_id: usize,
    uuid: [u8; 16],
    namelen: i64,
    stack_depth: i32,
    time_gran: u32,
}

/// `ovl_report_in_use`: an error with `index=on`, a warning otherwise.
fn report_in_use(config: &Config, name: &str) -> Result {
    if config.index {
        pr_err!(
            "{} is in-use as upperdir/workdir of another mount, mount with '-o index=off' to override exclusive upperdir protection.\n",
            name
        );
        Err(EBUSY)
    } else {
        pr_warn!(
            "{} is in-use as upperdir/workdir of another mount, accessing files from both mounts will result in undefined behavior.\n",
            name
        );
        Ok(())
    }
}

/// `ovl_workdir_create`: makes `name` below the work base directory, empty
/// (an old one is cleaned up first) unless `persist`; `Ok(None)` when it
/// cannot be made and the mount must be read-only.
fn workdir_create(
    ofs: &WorkCtx<'_>,
    wa: &WriteAccess<'_>,
    base: &RealDentry,
    name: &str,
    persist: bool,
) -> Result<Option<ARef<RealDentry>>> {
    let mut retried = false;
    let fail = |e: Error| {
        pr_warn!(
            "failed to create directory {}/{} (errno: {}); mounting read-only\n",
            kernel::str::BStr::from_bytes(ofs.workdir_name),
            name,
            -e.to_errno()
        );
        Ok(None)
    };
    loop {
        let c = match wa.start_creating(base, name.as_bytes()) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        if c.dentry().inode().is_some() {
            let work = c.keep();
            if persist {
                return Ok(Some(work));
            }
            if retried {
                return fail(EEXIST);
            }
            retried = true;
            match super::readdir::workdir_cleanup(ofs, wa, base, &work, 0) {
                Err(e) if e == EINVAL => return Err(e),
                _ => continue,
            }
        }
        let work = match c.mkdir(crate::vfs::S_IFDIR) {
            Ok(w) => w,
            Err(e) => return fail(e),
        };
        // Weird file system returning a hashed negative dentry (kernfs)?
        if work.inode().is_none() {
            return fail(EINVAL);
        }
        // Remove the POSIX ACLs the directory may have inherited.
        for default in [true, false] {
            match wa.remove_acl(&work, default) {
                Ok(()) => {}
                Err(e) if e == crate::vfs::enodata() || e == crate::vfs::eopnotsupp() => {}
                Err(e) => return fail(e),
            }
        }
        // Clear any inherited mode bits.
        if let Err(e) = wa.chmod(&work, crate::vfs::S_IFDIR) {
            return fail(e);
        }
        return Ok(Some(work));
    }
}

/// What the work directory code needs of the mount being set up.
pub(crate) struct WorkCtx<'a> {
    /// The upper layer's private mount.
    pub(crate) mnt: &'a Mount,
    /// The `workdir` option, for messages.
    pub(crate) workdir_name: &'a [u8],
    /// The mounter's credentials.
    pub(crate) cred: &'a Cred,
}

/// A name for a temporary file (`ovl_tempname`): `#` and a counter.
pub(crate) fn tempname(buf: &mut [u8; 16]) -> &[u8] {
    static TEMP_ID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
    let id = TEMP_ID.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let mut n = 0;
    if let Some(b) = buf.first_mut() {
        *b = b'#';
        n = 1;
    }
    let mut digits = [0u8; 8];
    let mut k = 0;
    let mut v = id;
    loop {
        if let Some(d) = digits.get_mut(k) {
            *d = b"0123456789abcdef".get((v & 15) as usize).copied().unwrap_or(b'0');
        }
        k += 1;
        v >>= 4;
        if v == 0 || k >= digits.len() {
            break;
        }
    }
    for i in (0..k).rev() {
        if let (Some(dst), Some(src)) = (buf.get_mut(n), digits.get(i)) {
            *dst = *src;
            n += 1;
        }
    }
    buf.get(..n).unwrap_or(&[])
}

/// `ovl_check_rename_whiteout`: whether the upper file system supports
/// `RENAME_WHITEOUT`, tried in the work directory.
fn check_rename_whiteout(mnt: &Mount, wa: &WriteAccess<'_>, workdir: &RealDentry) -> Result<bool> {
    let mut b1 = [0u8; 16];
    let name1 = tempname(&mut b1);
    let temp = wa.start_creating(workdir, name1)?.create(crate::vfs::S_IFREG)?;
    let mut b2 = [0u8; 16];
    let name2 = tempname(&mut b2);
    let res = match wa.rename_in_dir(workdir, &temp, name2, crate::vfs::write::RENAME_WHITEOUT) {
        Ok(()) => {
            // What is left under the old name?
            match mnt.lookup_positive(workdir, name1) {
                Ok(Some(w)) => {
                    let is_wh = w.file_type() == Some(crate::vfs::FileType::Chr) && w.inode().is_some_and(|i| i.rdev() == 0);
                    if is_wh {
                        let _ = cleanup(wa, workdir, &w);
                    }
                    Ok(is_wh)
                }
                Ok(None) => Ok(false),
                Err(e) => Err(e),
            }
        }
        Err(e) if e == EINVAL => Ok(false),
        Err(e) => Err(e),
    };
    let _ = cleanup(wa, workdir, &temp);
    res
}

/// `ovl_cleanup`: removes `child` of `dir`, logging a failure.
pub(crate) fn cleanup(wa: &WriteAccess<'_>, dir: &RealDentry, child: &RealDentry) -> Result {
    let r = wa.start_removing(dir, child)?;
    let res = if r.dentry().can_lookup() { r.rmdir() } else { r.unlink() };
    if let Err(e) = res {
        child.with_name(|n| pr_err!("cleanup of '{}' failed ({})\n", kernel::str::BStr::from_bytes(n), e.to_errno()));
    }
    Ok(())
}

/// `ovl_lookup_or_create`: `name` in `parent`, made with `mode` (a
/// directory or an empty file, no permissions) if missing.
fn lookup_or_create(wa: &WriteAccess<'_>, parent: &RealDentry, name: &str, dir: bool) -> Result<ARef<RealDentry>> {
    let c = wa.start_creating(parent, name.as_bytes())?;
    if c.dentry().inode().is_some() {
        return Ok(c.keep());
    }
    if dir {
        c.mkdir(crate::vfs::S_IFDIR)
    } else {
        c.create(crate::vfs::S_IFREG)
    }
}

/// `ovl_create_volatile_dirty`: `work/incompat/volatile/dirty` marks a
/// `volatile` mount's upper layer until a clean unmount.
fn create_volatile_dirty(wa: &WriteAccess<'_>, base: &RealDentry) -> Result {
    let mut d: ARef<RealDentry> = base.into();
    for (i, name) in ["work", "incompat", "volatile", "dirty"].iter().enumerate() {
        d = lookup_or_create(wa, &d, name, i < 3)?;
    }
    Ok(())
}

/// `ovl_check_d_type_supported`: whether reading `dir` gives file types.
fn check_d_type(mnt: &Mount, dir: &RealDentry, cred: &Cred) -> Result<bool> {
    let f = mnt.open(dir, crate::vfs::real::open_flags::RDONLY, cred)?;
    let mut supported = false;
    f.read_dir(&mut |e| {
        if e.name != b"." && e.name != b".." && e.dtype != crate::vfs::DT_UNKNOWN {
            supported = true;
        }
        true
    })?;
    Ok(supported)
}

/// Resolves a layer path like a path argument of mount(2) and checks it
/// (`ovl_mount_dir_check`; overlayfs also stacks layers that are all
/// case-insensitive, rovl does not: Documentation/read-path.rst).  An
/// upper or work directory must also be writable and not on a stacking
/// file system.
fn mount_dir_check(name: &CBuf, upper: bool, log: &FcLog<'_>) -> Result<Path> {
    let path = Path::lookup_dir(name.as_cstr()).map_err(|e| {
        if e == ENOTDIR {
            fail(log, "not a directory", Some(name.bytes()), EINVAL)
        } else {
            fail(log, "failed to resolve", Some(name.bytes()), e)
        }
    })?;
    if path.dentry().is_casefolded() {
        return Err(fail(log, "case-insensitive directory not supported by rovl", Some(name.bytes()), EINVAL));
    }
    if super::util::dentry_weird(path.dentry(), path.dentry().sb_has_encoding()) {
        return Err(fail(log, "filesystem not supported", Some(name.bytes()), EINVAL));
    }
    if upper && path.dentry().has_real_op() {
        return Err(fail(log, "filesystem not supported as upperdir", Some(name.bytes()), EINVAL));
    }
    if upper && path.mnt_is_readonly() {
        return Err(fail(log, "filesystem is read-only", Some(name.bytes()), EINVAL));
    }
    Ok(path)
}

/// Resolves `upperdir` and `workdir` (`ovl_mount_dir_check`; overlayfs
/// resolves them while parsing, so their errors come first).
fn resolve_upper(ctx: &mut MountCtx, log: &FcLog<'_>) -> Result<Option<(Path, Path)>> {
    let Some(upperdir) = ctx.upper.as_ref() else {
        if let Some(w) = ctx.work.take() {
            pr_info!("option \"workdir={}\" is useless in a non-upper mount, ignore\n", kernel::str::BStr::from_bytes(w.bytes()));
        }
        return Ok(None);
    };
    let upath = mount_dir_check(upperdir, true, log)?;
    let Some(workname) = ctx.work.as_ref() else {
        return Err(fail(log, "missing 'workdir'", None, EINVAL));
    };
    let wpath = mount_dir_check(workname, true, log)?;
    Ok(Some((upath, wpath)))
}

/// `ovl_get_upper` + `ovl_get_workdir` + `ovl_make_workdir`.
fn get_upper(ctx: &mut MountCtx, upath: Path, wpath: Path, cred: &Cred) -> Result<UpperSetup> {
    let upperdir = ctx.upper.as_ref().ok_or(EINVAL)?;
    let workname = ctx.work.as_ref().ok_or(EINVAL)?;
    let config = &mut ctx.config;
    // ovl_get_upper
    if upath.mnt_is_readonly() {
        pr_err!("upper fs is r/o, try multi-lower layers mount\n");
        return Err(EINVAL);
    }
    let mut st = StatFs::new();
    upath.statfs(&mut st)?;
    let namelen = st.namelen();
    let mnt = Mount::clone_private(&upath).inspect_err(|_| pr_err!("failed to clone upperpath\n"))?;
    let upper_inuse = InUse::try_take(mnt.root());
    if upper_inuse.is_none() {
        report_in_use(config, "upperdir")?;
    }
    let wb_err = mnt.wb_err_sample();
    if config.fsync == options::Fsync::Volatile && mnt.wb_err_since(wb_err).is_err() {
        pr_err!("Cannot mount volatile when upperdir has an unseen error. Sync upperdir fs to clear state.\n");
        return Err(EIO);
    }

    // ovl_get_workdir
    if !upath.same_mount(&wpath) {
        pr_err!("workdir and upperdir must reside under the same mount\n");
        return Err(EINVAL);
    }
    if wpath.dentry().is_subdir(upath.dentry()) || upath.dentry().is_subdir(wpath.dentry()) {
        pr_err!("workdir and upperdir must be separate subtrees\n");
        return Err(EINVAL);
    }
    let base: ARef<RealDentry> = wpath.dentry().into();
    let work_inuse = InUse::try_take(&base);
    if work_inuse.is_none() {
        report_in_use(config, "workdir")?;
    }

    // ovl_make_workdir
    let wctx = WorkCtx { mnt: &mnt, workdir_name: workname.bytes(), cred };
    let fh = upath.export_ops();
    let can_decode_fh = fh.can_decode && crate::vfs::capable_dac_read_search();
    let mut noxattr = false;
    let mut tmpfile = false;
    let work = {
        let wa = mnt.want_write()?;
        let work = workdir_create(&wctx, &wa, &base, "work", false)?;
        if let Some(w) = &work {
            let d_type = check_d_type(&mnt, &base, cred)?;
            if !d_type {
                pr_warn!("upper fs needs to support d_type.\n");
            }
            tmpfile = wa.tmpfile(w, crate::vfs::S_IFREG, cred).is_ok();
            if !tmpfile {
                pr_warn!("upper fs does not support tmpfile.\n");
            }
            let rename_whiteout = check_rename_whiteout(&mnt, &wa, w)?;
            if !rename_whiteout {
                pr_warn!("upper fs does not support RENAME_WHITEOUT.\n");
            }
            let ns = if config.userxattr { XattrNs::User } else { XattrNs::Trusted };
            let mut nb = [0u8; 32];
            let opaque = super::util::xattr_name(ns, OvlXattr::Opaque, &mut nb);
            match wa.setxattr(w, opaque, b"0", 0) {
                Ok(()) => {
                    let _ = wa.removexattr(w, opaque);
                }
                Err(e) => {
                    pr_warn!("failed to set xattr on upper\n");
                    noxattr = true;
                    if config.redirect != options::Redirect::NoFollow {
                        config.redirect = options::Redirect::NoFollow;
                        pr_warn!("...falling back to redirect_dir=nofollow.\n");
                    }
                    if config.metacopy {
                        config.metacopy = false;
                        pr_warn!("...falling back to metacopy=off.\n");
                    }
                    if config.index {
                        config.index = false;
                        pr_warn!("...falling back to index=off.\n");
                    }
                    if matches!(config.uuid, options::Uuid::On | options::Uuid::Auto) {
                        config.uuid = options::Uuid::Null;
                        pr_warn!("...falling back to uuid=null.\n");
                    }
                    if config.xino == Xino::Auto {
                        config.xino = Xino::Off;
                        pr_warn!("...falling back to xino=off.\n");
                    }
                    if e == EPERM && !config.userxattr {
                        pr_info!("try mounting with 'userxattr' option\n");
                    }
                }
            }
            if w.is_remote() && (!d_type || !rename_whiteout || noxattr) {
                pr_err!("upper fs missing required features.\n");
                return Err(EINVAL);
            }
            if config.fsync == options::Fsync::Volatile {
                create_volatile_dirty(&wa, &base).inspect_err(|_| pr_err!("Failed to create volatile/dirty file.\n"))?;
            }
            if config.index && !can_decode_fh {
                config.index = false;
                pr_warn!("upper fs does not support file handles, falling back to index=off.\n");
            }
            if config.nfs_export && !config.index {
                pr_warn!("NFS export requires \"index=on\", falling back to nfs_export=off.\n");
                config.nfs_export = false;
            }
        }
        work
    };
    let has_encoding = mnt.root().sb_has_encoding();
    Ok(UpperSetup {
        ino32: work.is_none() || (can_decode_fh && fh.ino32),
        layer: Layer {
            mnt,
            fsid: 0,
            name: upperdir.try_clone()?,
            data_only: false,
            has_encoding,
            has_xwhiteouts: AtomicBool::new(false),
            can_decode_fh,
        },
        workdirs: WorkDirs { base, work, index: None, tmpfile, _inuse: (upper_inuse, work_inuse), wb_err },
        noxattr,
        namelen,
        stack_depth: upath.stack_depth(),
        time_gran: upath.time_gran(),
        sb_id: upath.sb_id(),
        uuid: upath.dentry().sb_uuid(),
    })
}

/// `ovl_init_uuid_xattr`: the overlay's persistent UUID, from the upper
/// root's uuid xattr, made on the first mount of a new overlay.
fn init_uuid_xattr(config: &mut Config, upper: &Layer, out: &mut [u8; 16]) {
    let ns = if config.userxattr { XattrNs::User } else { XattrNs::Trusted };
    let root = upper.mnt.root();
    let mut nb = [0u8; 32];
    let uuid_name = super::util::xattr_name(ns, OvlXattr::Uuid, &mut nb);
    let mut set = false;
    let res = (|| -> Result<()> {
        match upper.mnt.getxattr(root, uuid_name, Some(&mut out[..])) {
            Ok(16) => return Ok(()),
            Err(e) if e == crate::vfs::enodata() => {}
            Ok(_) => return Err(ERANGE),
            Err(e) => return Err(e),
        }
        if config.uuid == options::Uuid::Auto {
            let mut nb2 = [0u8; 32];
            let impure = super::util::xattr_name(ns, OvlXattr::Impure, &mut nb2);
            match upper.mnt.getxattr(root, impure, None) {
                Ok(n) if n > 0 => {
                    // Any mount of an old overlay: uuid=null.
                    config.uuid = options::Uuid::Null;
                    *out = [0; 16];
                    return Err(EEXIST);
                }
                Err(e) if e == crate::vfs::enodata() => config.uuid = options::Uuid::On,
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        *out = crate::vfs::write::uuid_gen();
        set = true;
        let wa = upper.mnt.want_write()?;
        wa.setxattr(root, uuid_name, &out[..], 0)
    })();
    match res {
        Ok(()) => {}
        Err(e) if e == EEXIST && config.uuid == options::Uuid::Null => {}
        Err(e) => {
            config.uuid = options::Uuid::Null;
            *out = [0; 16];
            pr_warn!(
                "failed to {} uuid ({}, err={}); falling back to uuid=null.\n",
                if set { "set" } else { "get" },
                kernel::str::BStr::from_bytes(upper.name.bytes()),
                e.to_errno()
            );
        }
    }
}

/// Sets up the layers of a lower-only mount (`ovl_get_lowerstack`,
/// `ovl_lower_dir`, `ovl_get_layers`, `ovl_check_overlapping_layers`).
pub(crate) fn get_tree(ctx: &mut MountCtx, log: &FcLog<'_>) -> Result<OvlFs> {
    let upper_paths = resolve_upper(ctx, log)?;
    let has_upper = upper_paths.is_some();
    if ctx.lower.is_empty() {
        return Err(fail(log, "missing 'lowerdir'", None, EINVAL));
    }
    let nr = ctx.lower.len();
    let nr_data = ctx.nr_data();
    // xino: enough free high bits are assumed until a layer says otherwise.
    let mut xino_mode: i32 = if ctx.config.xino != Xino::Off { 32 } else { -1 };

    let mut paths = KVec::with_capacity(nr, GFP_KERNEL)?;
    // Whether each layer's file handles can be decoded (ovl_can_decode_fh).
    let mut decodes = KVec::with_capacity(nr, GFP_KERNEL)?;
    let mut namelen = 0i64;
    let (mut stack_depth, mut maxbytes, mut time_gran) = (0i32, i64::MAX, 1u32);
    for l in ctx.lower.iter() {
        let path = mount_dir_check(&l.path, false, log)?;
        // ovl_check_namelen
        let mut st = StatFs::new();
        path.statfs(&mut st).map_err(|e| fail(log, "statfs failed on", Some(l.path.bytes()), e))?;
        namelen = namelen.max(st.namelen());
        stack_depth = stack_depth.max(path.stack_depth());
        // ovl_can_decode_fh: only a layer whose file handles are the
        // generic 32-bit ones (and that we may decode) is known to have
        // inode numbers of 32 bits; others may use all the bits.
        let fh = path.export_ops();
        let can_decode = fh.can_decode && crate::vfs::capable_dac_read_search();
        if !(can_decode && fh.ino32) {
            xino_mode = -1;
        }
        if !l.data_only {
            maxbytes = maxbytes.min(path.maxbytes());
            time_gran = time_gran.max(path.time_gran());
        }
        paths.push(path, GFP_KERNEL)?;
        decodes.push(can_decode, GFP_KERNEL)?;
    }
    // Like overlayfs, which resolves the layers while parsing: path errors
    // come first, then the option rules, then the layer counts.
    ctx.config
        .verify(has_upper, nr_data, crate::vfs::capable_sys_admin())
        .map_err(|e| fail(log, e.message(), None, if e.is_permission() { EPERM } else { EINVAL }))?;
    let creator_cred = Cred::current()?;
    let mut up = match upper_paths {
        Some((u, w)) => Some(get_upper(ctx, u, w, &creator_cred)?),
        None => None,
    };
    let up_time_gran = up.as_ref().map_or(1, |u| u.time_gran);
    // ovl_lower_dir, after the upper layer as in overlayfs: index, NFS
    // export and (with an upper layer) xino=auto need file handles on
    // every layer.
    for (&can_decode, l) in decodes.iter().zip(ctx.lower.iter()) {
        if can_decode {
            continue;
        }
        if ctx.config.nfs_export || (ctx.config.index && has_upper) {
            ctx.config.index = false;
            ctx.config.nfs_export = false;
            pr_warn!(
                "fs on '{}' does not support file handles, falling back to index=off,nfs_export=off.\n",
                kernel::str::BStr::from_bytes(l.path.bytes())
            );
        }
        if ctx.config.xino == Xino::Auto && has_upper {
            ctx.config.xino = Xino::Off;
            pr_warn!(
                "fs on '{}' does not support file handles, falling back to xino=off.\n",
                kernel::str::BStr::from_bytes(l.path.bytes())
            );
        }
    }
    if let Some(u) = &up {
        namelen = namelen.max(u.namelen);
        stack_depth = stack_depth.max(u.stack_depth);
        if !u.ino32 {
            xino_mode = -1;
        }
    }
    if nr == 1 && !has_upper {
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
    // layer's root is an overlap.  The upper and work directories first
    // (ovl_get_upper, ovl_get_workdir, ovl_make_workdir).
    let mut traps = KVec::with_capacity(nr + 3, GFP_KERNEL)?;
    let mut add_trap = |d: &RealDentry, what: &str, arg: Option<&[u8]>| -> Result {
        let id = d.inode().ok_or(EIO)?.id();
        match traps.binary_search(&id) {
            Ok(_) => {
                pr_err!("conflicting {} path\n", what);
                Err(fail(log, "conflicting path", arg, crate::vfs::eloop()))
            }
            Err(pos) => traps.insert_within_capacity(pos, id).map_err(|_| ENOMEM),
        }
    };
    if let Some(u) = &up {
        add_trap(u.layer.mnt.root(), "upperdir", None)?;
        add_trap(&u.workdirs.base, "workdir", None)?;
        if let Some(w) = &u.workdirs.work {
            add_trap(w, "workdir", None)?;
        }
    }
    for (p, l) in paths.iter().zip(ctx.lower.iter()) {
        let id = p.dentry().inode().ok_or(EIO)?.id();
        match traps.binary_search(&id) {
            Ok(_) => return Err(fail(log, "conflicting lowerdir path", Some(l.path.bytes()), crate::vfs::eloop())),
            Err(pos) => traps.insert_within_capacity(pos, id).map_err(|_| ENOMEM)?,
        }
        if p.dentry().is_inuse() {
            report_in_use(&ctx.config, "lowerdir")?;
        }
    }
    // ovl_check_overlapping_layers: the ancestors of the upper and work
    // directories must not be in use by another mount; those of the lower
    // layers must not be layer roots either.
    let check_layer = |d: &RealDentry, name: &str, is_lower: bool, arg: Option<&[u8]>| -> Result {
        let mut cur: ARef<RealDentry> = d.into();
        loop {
            let parent = cur.parent();
            if parent.id() == cur.id() {
                return Ok(());
            }
            if is_lower && parent.inode().is_some_and(|i| traps.binary_search(&i.id()).is_ok()) {
                return Err(fail(log, "overlapping lowerdir path", arg, crate::vfs::eloop()));
            } else if parent.is_inuse() {
                report_in_use(&ctx.config, name)?;
            }
            cur = parent;
        }
    };
    if let Some(u) = &up {
        check_layer(u.layer.mnt.root(), "upperdir", false, None)?;
        check_layer(&u.workdirs.base, "workdir", false, None)?;
    }
    for (p, l) in paths.iter().zip(ctx.lower.iter()) {
        check_layer(p.dentry(), "lowerdir", true, Some(l.path.bytes()))?;
    }

    // ovl_get_layers: fsid 0 is the upper's, even without one; data-only
    // layers share the "null fs" after the last one.
    let origin_uuid = ctx.config.uuid != options::Uuid::Off;
    let null_uuid = [0u8; 16];
    let mut upper_is_lower = false;
    let mut fs: KVec<LayerFs> = KVec::new();
    let mut layers = KVec::with_capacity(nr, GFP_KERNEL)?;
    for ((p, l), &can_decode_fh) in paths.iter().zip(ctx.lower.iter()).zip(decodes.iter()) {
        let sb_id = p.sb_id();
        let fsid = if l.data_only {
            fs.len() + 1
        } else if up.as_ref().is_some_and(|u| u.sb_id == sb_id) {
            upper_is_lower = true;
            0
        } else {
            match fs.iter().position(|f| f.sb_id == sb_id) {
                Some(k) => k + 1,
                None => {
                    // ovl_get_fsid / ovl_lower_uuid_ok
                    let sb_uuid = p.dentry().sb_uuid();
                    let uuid = if origin_uuid { sb_uuid } else { null_uuid };
                    let matches = |other: &[u8; 16]| if origin_uuid { *other == uuid } else { uuid == null_uuid };
                    let mut bad_uuid = false;
                    if ctx.config.nfs_export || up.is_some() {
                        let offline = !ctx.config.index
                            && !ctx.config.metacopy
                            && ctx.config.redirect != options::Redirect::On
                            && ctx.config.xino != Xino::On;
                        if offline && uuid == null_uuid {
                            bad_uuid = true;
                        } else {
                            for f in fs.iter_mut() {
                                if matches(&f.uuid) {
                                    f.bad_uuid = true;
                                    bad_uuid = true;
                                    break;
                                }
                            }
                            if !bad_uuid && upper_is_lower && up.as_ref().is_some_and(|u| matches(&u.uuid)) {
                                bad_uuid = true;
                            }
                        }
                    }
                    if bad_uuid {
                        let mut warn = false;
                        if ctx.config.xino == Xino::Auto {
                            ctx.config.xino = Xino::Off;
                            warn = true;
                        }
                        if ctx.config.index || ctx.config.nfs_export {
                            ctx.config.index = false;
                            ctx.config.nfs_export = false;
                            warn = true;
                        }
                        if warn {
                            let what = if uuid == null_uuid { "null" } else { "conflicting" };
                            pr_warn!(
                                "{} uuid in non-single lower fs '{}', falling back to xino={},index=off,nfs_export=off.\n",
                                what,
                                kernel::str::BStr::from_bytes(l.path.bytes()),
                                ctx.config.xino.name()
                            );
                        }
                    }
                    let dev = AnonDev::new()
                        .map_err(|e| fail(log, "failed to get anonymous bdev for lowerpath", None, e))?;
                    fs.push(LayerFs { sb_id, pseudo_dev: dev, bad_uuid, uuid: sb_uuid }, GFP_KERNEL)?;
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
                can_decode_fh,
            },
            GFP_KERNEL,
        )?;
    }
    // numfs as overlayfs counts it: the upper slot plus the lower ones.
    let numfs = fs.len() + 1;
    if numfs - usize::from(up.is_none()) == 1 {
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

    // The overlay's own UUID for f_fsid (ovl_init_uuid_xattr).
    let mut uuid = [0u8; 16];
    if let Some(u) = &up {
        if matches!(ctx.config.uuid, options::Uuid::On | options::Uuid::Auto) {
            init_uuid_xattr(&mut ctx.config, &u.layer, &mut uuid);
        }
    }
    let upper_dev = match &up {
        Some(_) => Some(AnonDev::new()?),
        None => None,
    };
    let (upper, workdirs, noxattr) = match up.take() {
        Some(u) => (Some(u.layer), Some(u.workdirs), u.noxattr),
        None => (None, None, false),
    };
    if upper.is_some() {
        time_gran = up_time_gran;
    }

    let mut ofs = OvlFs {
        creator_cred,
        numdatalayer: nr_data,
        layers,
        upper,
        _workdirs: workdirs,
        uuid,
        noxattr: AtomicBool::new(noxattr),
        whiteout: KBox::pin_init(new_mutex!(SharedWhiteout::default()), GFP_KERNEL)?,
        upper_dev,
        upperdir: ctx.upper.as_ref().map(CBuf::try_clone).transpose()?,
        workdir: ctx.work.as_ref().map(CBuf::try_clone).transpose()?,
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
    };
    if ofs.config.index && ofs.upper.is_some() && ofs._workdirs.as_ref().is_some_and(|w| w.work.is_some()) {
        get_indexdir(&mut ofs)?;
    }
    if ofs._workdirs.as_ref().is_some_and(|w| w.work.is_none()) {
        // Shown as index=off for a forced read-only mount.
        ofs.config.index = false;
        if ofs.config.nfs_export {
            pr_warn!("NFS export requires an index dir, falling back to nfs_export=off.\n");
            ofs.config.nfs_export = false;
        }
    }
    // overlayfs falls back to nfs_export=off with metacopy=on here ("NFS
    // export is not supported with metadata only copy up"): rovl decodes
    // metacopy files (export.rs) and keeps both.
    Ok(ofs)
}

/// `ovl_get_indexdir`: the upper root must have the top lower root as
/// origin (recorded on first use); `work/index` replaces `work/work`, is
/// tied to the upper root (`overlay.upper`) and cleaned of stale entries.
fn get_indexdir(ofs: &mut OvlFs) -> Result {
    let (layer_idx, origin) = ofs.root_stack.first().map(|(l, d)| (*l, d.clone())).ok_or(EIO)?;
    let upper = ofs.upper.as_ref().ok_or(EIO)?;
    let upper_root: ARef<RealDentry> = upper.mnt.root().into();
    let base = ofs._workdirs.as_ref().map(|w| w.base.clone()).ok_or(EIO)?;
    let workdir_name = ofs.workdir.as_ref().map(|w| w.try_clone()).transpose()?.ok_or(EIO)?;
    // Errors before the index dir exists (and a conflicting index dir)
    // fail the mount at once; later ones first hint at deleting it
    // (overlayfs's `goto out` and `if (err || !ofs->workdir)`).
    let no_hint = |e: Error| (e, false);
    let r = (|| -> core::result::Result<Option<ARef<RealDentry>>, (Error, bool)> {
        let layer = ofs.layer(layer_idx).map_err(no_hint)?;
        if !layer.can_decode_fh {
            return Err((EIO, false));
        }
        let fh = super::copy_up::encode_real_fh(ofs, origin.inode().ok_or(EIO).map_err(no_hint)?, false).map_err(no_hint)?;
        let upper = ofs.upper.as_ref().ok_or(EIO).map_err(no_hint)?;
        let wa = upper.mnt.want_write().map_err(no_hint)?;
        super::namei::verify_set_fh(ofs, Some(&wa), &upper_root, OvlXattr::Origin, &fh).map_err(|e| {
            pr_err!("failed to verify upper root origin\n");
            (e, false)
        })?;
        let wctx = WorkCtx { mnt: &upper.mnt, workdir_name: workdir_name.bytes(), cred: &ofs.creator_cred };
        let hint = |e: Error| (e, true);
        let Some(index) = workdir_create(&wctx, &wa, &base, "index", true).map_err(hint)? else {
            return Ok(None);
        };
        if ofs.is_trap(&index) {
            pr_err!("conflicting indexdir path\n");
            return Err((crate::vfs::eloop(), false));
        }
        // Older kernels stored the upper root's handle as the index dir's
        // origin: a mismatch is logged (what counts is 'upper').
        if ofs.has_xattr(upper, &index, OvlXattr::Origin)
            && super::namei::verify_origin_xattr(ofs, None, &index, OvlXattr::Origin, &upper_root, true).is_err()
        {
            pr_err!("failed to verify index dir 'origin' xattr\n");
        }
        super::namei::verify_origin_xattr(ofs, Some(&wa), &index, OvlXattr::Upper, &upper_root, true).map_err(|e| {
            pr_err!("failed to verify index dir 'upper' xattr\n");
            (e, true)
        })?;
        super::readdir::indexdir_cleanup(ofs, &wctx, &wa, &index).map_err(hint)?;
        Ok(Some(index))
    })();
    let index = match r {
        Ok(i) => i,
        Err((e, hint)) => {
            if hint {
                pr_warn!("try deleting index dir or mounting with '-o index=off' to disable inodes index.\n");
            }
            return Err(e);
        }
    };
    if index.is_none() {
        pr_warn!("try deleting index dir or mounting with '-o index=off' to disable inodes index.\n");
    }
    if let Some(i) = &index {
        let id = i.inode().ok_or(EIO)?.id();
        if let Err(pos) = ofs.traps.binary_search(&id) {
            ofs.traps.reserve(1, GFP_KERNEL)?;
            ofs.traps.insert_within_capacity(pos, id).map_err(|_| ENOMEM)?;
        }
    }
    if let Some(w) = ofs._workdirs.as_mut() {
        // The index directory acts as the work directory; work/work is no
        // longer a trap (its dentry goes).
        if let Some(old) = w.work.as_ref().and_then(|d| d.inode()).map(|i| i.id()) {
            if let Ok(pos) = ofs.traps.binary_search(&old) {
                let _ = ofs.traps.remove(pos);
            }
        }
        w.work = index.clone();
        w.index = index;
    }
    Ok(())
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
    let uuid = sb.data().uuid;
    if uuid != [0u8; 16] {
        sb.set_uuid(&uuid);
    }
    // ovl_force_readonly: no upper layer, or no work directory.
    if sb.data().upper.is_none() || sb.data().workdir().is_none() {
        sb.set_read_only();
    }
    sb.set_posix_acl();
    // Decodable file handles with nfs_export=on; with nfs_export=off,
    // handles that only identify objects (fanotify), if every layer has
    // file handles (`ofs->nofh`).
    let nofh = Iterator::chain(sb.data().layers.iter(), sb.data().upper.iter()).any(|l| !l.can_decode_fh);
    if sb.data().config.nfs_export {
        sb.set_export_ops(crate::vfs::export::Decode::Yes);
    } else if !nofh {
        sb.set_export_ops(crate::vfs::export::Decode::No);
    }
    let ofs = sb.data();
    let mut stack = KVec::with_capacity(ofs.root_stack.len(), GFP_KERNEL)?;
    let upper: Option<ARef<RealDentry>> = ofs.upper.as_ref().map(|u| ARef::from(u.mnt.root()));
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
    let mut reval = inode::stack_reval(&stack);
    // The root is "connected" for NFS export (`OVL_E_CONNECTED`).
    let mut flags = flags | super::DENTRY_CONNECTED;
    if let Some(u) = &upper {
        reval = reval.union(u.reval_flags());
        flags |= super::DENTRY_UPPER_ALIAS;
    }
    let inode = inode::get_root_inode(sb, upper, stack)?;
    Ok(Root { inode, flags, reval })
}

/// `ovl_statfs`: the top layer's statfs with the overlay's type and the
/// longest name of all layers.
fn statfs(sb: &SuperBlock<Rovl>, buf: &mut StatFs) -> Result {
    let ofs = sb.data();
    match &ofs.upper {
        Some(u) => ofs.with_creds(|| u.mnt.statfs(u.mnt.root(), buf))?,
        None => {
            let (idx, root) = ofs.root_stack.first().ok_or(EIO)?;
            let layer = ofs.layer(*idx)?;
            ofs.with_creds(|| layer.mnt.statfs(root, buf))?;
        }
    }
    buf.set_namelen(ofs.namelen);
    buf.set_type(OVERLAYFS_SUPER_MAGIC);
    if ofs.has_fsid() {
        buf.set_fsid_from_uuid(&ofs.uuid);
    }
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
        if let Some(u) = &ofs.upperdir {
            options::show_option(&mut w, "upperdir", u.bytes())?;
        }
        if let Some(wd) = &ofs.workdir {
            options::show_option(&mut w, "workdir", wd.bytes())?;
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

    /// `ovl_reconfigure`: a mount without an upper layer or work directory
    /// stays read-only.
    fn reconfigure(sb: &SuperBlock<Self>, _ctx: &mut MountCtx, read_only: bool) -> Result {
        let ofs = sb.data();
        if read_only {
            // Going read-only: the upper file system is synced.
            if let Some(up) = &ofs.upper {
                if ofs.should_sync() {
                    up.mnt.sync_fs()?;
                }
            }
            return Ok(());
        }
        if ofs.upper.is_none() || ofs.workdir().is_none() {
            return Err(EROFS);
        }
        Ok(())
    }

    fn statfs(sb: &SuperBlock<Self>, buf: &mut StatFs) -> Result {
        statfs(sb, buf)
    }

    /// `ovl_sync_fs`: syncfs(2) syncs the upper file system (not with
    /// `volatile`: `EIO` then if it had a writeback error since the
    /// mount), once, in the waiting pass.
    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result {
        let ofs = sb.data();
        if !ofs.sync_status().map_err(|_| EIO)? || !wait {
            return Ok(());
        }
        match &ofs.upper {
            Some(up) => up.mnt.sync_fs(),
            None => Ok(()),
        }
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
        for p in inode.data().all_layers() {
            if !p.dentry.revalidate(rcu, flags, weak)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `ovl_d_real`: a regular file's real dentry: the upper one for its
    /// metadata, and for its data once copied up with it; else the top
    /// lower one for the metadata and the lower data (looked up if lazy)
    /// for the data.  Anything else is its own.
    fn real<'a>(dentry: &'a DEntry<Self>, data: bool) -> Option<&'a RealDentry> {
        let inode = dentry.inode()?;
        if inode.file_type() != crate::vfs::FileType::Reg {
            return None;
        }
        let oi = inode.data();
        if let Some(u) = oi.upper() {
            if !data || oi.test(super::inode::flag::UPPERDATA) {
                return Some(&u.dentry);
            }
        }
        let real = if data {
            super::namei::lookup_lowerdata(inode).ok().and_then(|()| oi.lowerdata())
        } else {
            oi.lowers().first()
        };
        if real.is_none() {
            let mut nb = [0u8; 256];
            let name = dentry.name_copy(&mut nb).unwrap_or(b"?");
            pr_warn!("d_real({}, {}): real dentry not found\n", kernel::str::BStr::from_bytes(name), u8::from(!data));
        }
        real.map(|p| &*p.dentry)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Copy-up (`fs/overlayfs/copy_up.c`): before an object of a lower layer is
//! changed, it is copied to the upper layer, parents first.  The copy is
//! made in the work directory under a temporary name, given its data,
//! xattrs, origin file handle and attributes there, and only then renamed
//! to its place in the upper layer, so that an interrupted copy-up never
//! leaves a partial object in the upper layer (the temporary is removed at
//! the next mount, with the rest of the work directory).  With
//! `metacopy=on`, a regular file changed only in its metadata goes up
//! without its data (`overlay.metacopy`); the data follows when the file
//! is opened for writing or truncated.
//!
//! With `index=on`, a lower hard link is copied up into the index, named
//! after its origin's file handle, and each of its names is then linked to
//! it; `overlay.nlink` keeps the overlay nlink across mounts.
//!
//! Not yet: `O_TMPFILE` copy-up (the work directory is always used: same
//! result on disk), fileattr flags, LSM hooks.

#![forbid(unsafe_code)]

use super::inode::{flag, OvlInode};
use super::super_::{OvlFs, Layer};
use super::util::CBuf;
use super::Rovl;
use crate::logic::fh;
use crate::logic::metacopy;
use crate::logic::options::Verity;
use crate::logic::xattr::{self as lx, OvlXattr};
use crate::vfs::dentry::DEntry;
use crate::vfs::inode::{inode_flags, FileAttrBuf, INode};
use crate::vfs::real::{
    open_flags, Cred, Kstat, RealDentry, RealFile, RealInode, ACL_TYPE_ACCESS, ACL_TYPE_DEFAULT, STATX_BASIC_STATS,
    STATX_TIMES,
};
use crate::vfs::write::WriteAccess;
use crate::vfs::FileType;
use core::cell::Cell;
use core::ffi::CStr;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// `ovl_encode_real_fh`: the `ovl_fb` of a non-connectable file handle of
/// `inode` (flagged as an upper inode's with `is_upper`).
pub(crate) fn encode_real_fh(ofs: &OvlFs, inode: &RealInode, is_upper: bool) -> Result<KVec<u8>> {
    let mut fid = [0u8; fh::MAX_HANDLE_SZ];
    let (fh_type, len) = inode.encode_fh(&mut fid)?;
    let fh_type = u8::try_from(fh_type).map_err(|_| EIO)?;
    let uuid = if ofs.config.uuid != crate::logic::options::Uuid::Off { inode.sb_uuid() } else { [0u8; fh::UUID_SIZE] };
    let mut out = [0u8; fh::FB_MAX_LEN];
    let n = fh::encode_fb(&mut out, fh_type, &uuid, fid.get(..len).ok_or(EIO)?, fh::encode_flags(is_upper))
        .map_err(|_| EIO)?;
    let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
    v.extend_from_slice(out.get(..n).ok_or(EIO)?, GFP_KERNEL)?;
    Ok(v)
}

/// Whether open `flags` need the data in the upper layer
/// (`ovl_open_flags_need_copy_up`: opened for writing, or truncated).
pub(crate) fn open_flags_need_data(flags: u32) -> bool {
    let acc = flags & open_flags::ACCMODE;
    acc == open_flags::WRONLY || acc == open_flags::RDWR || flags & open_flags::TRUNC != 0
}

/// `ovl_dentry_needs_data_copy_up`: a regular file whose data is still
/// below, opened with `flags` that need it.
fn needs_data_copy_up(inode: &INode<Rovl>, flags: u32) -> bool {
    inode.file_type() == FileType::Reg && open_flags_need_data(flags) && !inode.data().test(flag::UPPERDATA)
}

/// `ovl_dentry_has_upper_alias`.
pub(crate) fn has_upper_alias(dentry: &DEntry<Rovl>) -> bool {
    dentry.flags() & super::DENTRY_UPPER_ALIAS != 0
}

/// `ovl_already_copied_up`: a dentry decoded from a file handle
/// (disconnected) has no upper alias of its own; its upper inode is
/// enough.
fn already_copied_up(dentry: &DEntry<Rovl>, inode: &INode<Rovl>, flags: u32) -> bool {
    inode.data().has_upper()
        && (has_upper_alias(dentry) || dentry.is_disconnected())
        && !needs_data_copy_up(inode, flags)
}

/// `ovl_need_index`: lower hard links are copied up through the index
/// (one upper inode for all their names); with NFS export, every object
/// with a lower one is indexed (`ovl_index_all`).
pub(crate) fn need_index(ofs: &OvlFs, dentry: &DEntry<Rovl>) -> bool {
    let Some(lower) = dentry.inode().and_then(|i| i.data().lowers().first()) else {
        return false;
    };
    if ofs.indexdir().is_none() {
        return false;
    }
    if ofs.index_all() {
        return true;
    }
    !lower.dentry.can_lookup() && lower.dentry.inode().is_some_and(|li| li.nlink() > 1)
}

/// `ovl_set_nlink_common`: records the overlay nlink relative to the
/// nlink of `real` (upper: "U%+i", lower: "L%+i") in `overlay.nlink`.
fn set_nlink_common(ofs: &OvlFs, wa: &WriteAccess<'_>, inode: &INode<Rovl>, real: &RealDentry, upper: &RealDentry, tag: u8) -> Result {
    use crate::logic::xattrval::{format_nlink, NlinkBase};
    let rn = real.inode().ok_or(EIO)?.nlink();
    let base = if tag == b'U' { NlinkBase::Upper } else { NlinkBase::Lower };
    let v = format_nlink(base, inode.nlink(), rn);
    let mut nb = [0u8; 32];
    let name = super::util::xattr_name(ofs.xattr_ns(), OvlXattr::Nlink, &mut nb);
    wa.setxattr(upper, name, v.as_bytes(), 0)
}

/// `ovl_set_nlink_upper`.
pub(crate) fn set_nlink_upper(ofs: &OvlFs, wa: &WriteAccess<'_>, inode: &INode<Rovl>) -> Result {
    let upper = inode.data().upper_dentry()?;
    set_nlink_common(ofs, wa, inode, &upper, &upper, b'U')
}

/// `ovl_set_nlink_lower`.
fn set_nlink_lower(ofs: &OvlFs, wa: &WriteAccess<'_>, inode: &INode<Rovl>) -> Result {
    let upper = inode.data().upper_dentry()?;
    let lower = inode.data().lowers().first().ok_or(EIO)?.dentry.clone();
    set_nlink_common(ofs, wa, inode, &lower, &upper, b'L')
}

/// `ovl_need_meta_copy_up`: only the metadata goes up.  Not for a dentry
/// decoded from a file handle (disconnected, NFS export): its copy is
/// only in the index, where a later lookup by name must find the data
/// without a path to follow.
fn need_meta_copy_up(ofs: &OvlFs, dentry: &DEntry<Rovl>, inode: &INode<Rovl>, ft: FileType, flags: u32) -> bool {
    if !ofs.config.metacopy || ft != FileType::Reg || open_flags_need_data(flags) || dentry.is_disconnected() {
        return false;
    }
    // verity=require: a full copy unless the data has fs-verity.
    if ofs.config.verity == Verity::Require {
        let mut buf = [0u8; metacopy::DIGEST_MAX];
        return inode.data().lowerdata().is_some_and(|data| {
            ofs.with_creds(|| super::namei::verity_digest(ofs, data, &mut buf)).is_ok_and(|d| d.is_some())
        });
    }
    true
}

/// `ovl_get_verity_digest`: the fs-verity digest of the data to record in
/// the metacopy xattr (with `verity=on` or `verity=require`, which needs
/// one).
fn metacopy_digest<'b>(c: &Ctx<'_>, buf: &'b mut [u8; metacopy::DIGEST_MAX]) -> Result<Option<metacopy::Digest<'b>>> {
    let ofs = c.ofs;
    if ofs.config.verity == Verity::Off || FileType::of_mode(c.stat.mode()) != FileType::Reg {
        return Ok(None);
    }
    let data = c.inode.data().lowerdata().ok_or(EIO)?;
    let warn = |msg: &str| data.dentry.with_name(|n| warn_rl!("lower file '{}' {}\n", kernel::str::BStr::from_bytes(n), msg));
    let digest = super::namei::verity_digest(ofs, data, buf).map_err(|_| {
        warn("failed to load fs-verity info");
        EIO
    })?;
    if digest.is_none() && ofs.config.verity == Verity::Require {
        warn("has no fs-verity digest");
        return Err(EIO);
    }
    Ok(digest)
}

/// The parent a copy-up goes into: its overlay inode, upper directory
/// (`destdir`) and times (`pstat`, restored after the change).
struct ParentDir<'a> {
    inode: &'a INode<Rovl>,
    upper: ARef<RealDentry>,
    stat: Kstat,
}

/// What one copy-up works with (`struct ovl_copy_up_ctx`).
struct Ctx<'a> {
    ofs: &'a OvlFs,
    inode: &'a INode<Rovl>,
    /// `None` for a dentry decoded from a file handle (disconnected): it
    /// is copied up to the index only.
    parent: Option<ParentDir<'a>>,
    upper: &'a Layer,
    /// The lower object copied (`lowerpath`) and its layer.
    lower: &'a RealDentry,
    lower_layer: &'a Layer,
    stat: Kstat,
    link: Option<CBuf>,
    workdir: &'a RealDentry,
    metacopy: bool,
    /// The metacopy xattr written has an fs-verity digest.
    metacopy_digest: Cell<bool>,
    metadata_fsync: bool,
}

/// `ovl_copy_up`: copies `dentry` up (metadata only where `metacopy=on`
/// allows it), parents first.
pub(crate) fn copy_up(dentry: &DEntry<Rovl>) -> Result {
    copy_up_flags(dentry, 0)
}

/// `ovl_copy_up_with_data`: copies `dentry` up with its data.
pub(crate) fn copy_up_with_data(dentry: &DEntry<Rovl>) -> Result {
    copy_up_flags(dentry, open_flags::WRONLY)
}

/// `ovl_maybe_copy_up`: the copy-up an open with `flags` needs.
pub(crate) fn maybe_copy_up(dentry: &DEntry<Rovl>, flags: u32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    if already_copied_up(dentry, inode, flags) {
        return Ok(());
    }
    if matches!(inode.file_type(), FileType::Chr | FileType::Blk | FileType::Fifo | FileType::Sock) {
        return Ok(());
    }
    if !open_flags_need_data(flags) {
        return Ok(());
    }
    copy_up_flags(dentry, flags)
}

/// `ovl_copy_up_flags`.  With NFS export, a dentry decoded from a file
/// handle (disconnected, a non-directory) is copied up to the index dir
/// without a link into an upper directory.
fn copy_up_flags(dentry: &DEntry<Rovl>, flags: u32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let disconnected = dentry.is_disconnected();
    if disconnected && dentry.is_dir() {
        return Err(EIO);
    }
    super::namei::lookup_lowerdata(inode)?;
    loop {
        let inode = dentry.inode().ok_or(EIO)?;
        if already_copied_up(dentry, inode, flags) {
            return Ok(());
        }
        let ofs = inode.super_block().data();
        if disconnected {
            ofs.with_creds(|| copy_up_one(None, dentry, flags))?;
            continue;
        }
        // The topmost ancestor not copied up yet (the root always is).
        let mut next: ARef<DEntry<Rovl>> = dentry.into();
        let parent = loop {
            let parent = next.parent();
            if parent.inode().is_some_and(|p| p.data().has_upper()) {
                break parent;
            }
            if next.is_root() {
                return Err(EIO);
            }
            next = parent;
        };
        ofs.with_creds(|| copy_up_one(Some(&parent), &next, flags))?;
    }
}

/// `ovl_copy_up_one`: copies `dentry`, whose `parent` has an upper
/// directory (`None`: disconnected), with the mounter's credentials (held
/// by the caller).
fn copy_up_one(parent: Option<&DEntry<Rovl>>, dentry: &DEntry<Rovl>, flags: u32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let oi: &OvlInode = inode.data();
    let workdir = ofs.workdir().ok_or(EROFS)?;
    let upper = ofs.upper.as_ref().ok_or(EROFS)?;
    let lowerpath = oi.lowers().first().ok_or(EIO)?;
    let lower_layer = ofs.layer(lowerpath.layer)?;
    let mut stat = Kstat::new();
    lower_layer.mnt.getattr(&lowerpath.dentry, &mut stat, STATX_BASIC_STATS, 0)?;
    if !stat.owner_mapped() {
        return Err(EOVERFLOW);
    }
    let ft = FileType::of_mode(stat.mode());
    let parent = match parent {
        Some(p) => {
            let pinode = p.inode().ok_or(EIO)?;
            let destdir = pinode.data().upper_dentry()?;
            let mut pstat = Kstat::new();
            upper.mnt.getattr(&destdir, &mut pstat, STATX_TIMES, 0)?;
            Some(ParentDir { inode: pinode, upper: destdir, stat: pstat })
        }
        None => None,
    };
    if flags & open_flags::TRUNC != 0 {
        stat.set_size(0);
    }
    let link = if ft == FileType::Symlink {
        Some(CBuf::new(&lower_layer.mnt.read_link(&lowerpath.dentry)?)?)
    } else {
        None
    };
    let c = Ctx {
        ofs,
        inode,
        parent,
        upper,
        lower: &lowerpath.dentry,
        lower_layer,
        stat,
        link,
        workdir,
        metacopy: need_meta_copy_up(ofs, dentry, inode, ft, flags),
        metacopy_digest: Cell::new(false),
        metadata_fsync: ofs.should_sync_metadata() && matches!(ft, FileType::Reg | FileType::Dir),
    };
    // ovl_copy_up_start: one copy-up per inode at a time; another may
    // have done the work meanwhile.
    let _lock = inode.lock()?;
    if already_copied_up(dentry, inode, flags) {
        return Ok(());
    }
    if !oi.has_upper() {
        do_copy_up(&c, dentry)?;
    }
    if let Some(p) = &c.parent {
        if !has_upper_alias(dentry) {
            link_up(&c, p, dentry)?;
        }
    }
    if needs_data_copy_up(inode, flags) {
        copy_up_meta_inode_data(&c)?;
    }
    Ok(())
}

/// `ovl_link_up`: links the upper inode (found through the index) under
/// the name of `dentry` in its parent's upper directory.
fn link_up(c: &Ctx<'_>, p: &ParentDir<'_>, dentry: &DEntry<Rovl>) -> Result {
    let ofs = c.ofs;
    let wa = c.upper.mnt.want_write()?;
    super::namei::set_impure(ofs, &wa, p.inode)?;
    set_nlink_lower(ofs, &wa, c.inode)?;
    let upper = c.inode.data().upper_dentry()?;
    let mut nb = [0u8; 256];
    let name = dentry.name_copy(&mut nb)?;
    let linked = wa.start_creating(&p.upper, name)?.link(&upper)?;
    // Restore the parent's times (best effort).
    wa.set_times(&p.upper, &p.stat);
    dentry.set_flags(super::DENTRY_UPPER_ALIAS);
    dentry.set_reval(super::inode::stack_reval(c.inode.data().lowers()).union(linked.reval_flags()));
    set_nlink_upper(ofs, &wa, c.inode)
}

/// `ovl_do_copy_up`: an indexed non-directory (a lower hard link with
/// `index=on`, anything with NFS export) goes to the index (named after
/// its origin's handle) and is linked into place afterwards ([`link_up`]);
/// anything else straight into its parent, an indexed directory with an
/// index entry made before it goes into place.
fn do_copy_up(c: &Ctx<'_>, dentry: &DEntry<Rovl>) -> Result {
    let ft = FileType::of_mode(c.stat.mode());
    let indexed = need_index(c.ofs, dentry);
    // (The work dir of an indexed directory is the index dir: with
    // index=on it is rovl's work dir for everything.)
    let to_index = indexed && ft != FileType::Dir;
    // The origin is recorded unless copy-up breaks a lower hard link.
    let origin = ft == FileType::Dir || c.stat.nlink() == 1 || to_index;
    let origin_fh = if origin && c.lower_layer.can_decode_fh {
        Some(encode_real_fh(c.ofs, c.lower.inode().ok_or(EIO)?, false)?)
    } else {
        None
    };
    let mut nb = [0u8; 256];
    let index_name;
    let (destdir, name): (ARef<RealDentry>, &[u8]) = if to_index {
        index_name = super::namei::index_name_of(c.ofs, c.lower_layer, c.lower)?.ok_or(EIO)?;
        (c.ofs.indexdir().ok_or(EIO)?.into(), &index_name)
    } else if let Some(p) = &c.parent {
        let wa = c.upper.mnt.want_write()?;
        // The parent may now hold a non-pure upper entry.
        super::namei::set_impure(c.ofs, &wa, p.inode)?;
        (p.upper.clone(), dentry.name_copy(&mut nb)?)
    } else {
        // A disconnected dentry can only be copied up to the index.
        return Err(EIO);
    };
    let origin = origin.then_some(origin_fh.as_deref());
    // O_TMPFILE for a regular file where the upper file system has it.
    if ft == FileType::Reg && c.ofs.tmpfile() {
        copy_up_tmpfile(c, dentry, &destdir, name, origin)?;
    } else {
        copy_up_workdir(c, dentry, &destdir, name, origin)?;
    }
    if indexed {
        c.inode.data().set(flag::INDEX);
    }
    let wa = c.upper.mnt.want_write()?;
    let p = match &c.parent {
        Some(p) if !to_index => p,
        // The index entry's nlink until the link into place (the only
        // link of a disconnected dentry's copy).
        _ => return set_nlink_upper(c.ofs, &wa, c.inode),
    };
    // Restore the parent's times (best effort).
    wa.set_times(&p.upper, &p.stat);
    dentry.set_flags(super::DENTRY_UPPER_ALIAS);
    if let Some(u) = c.inode.data().upper() {
        dentry.set_reval(super::inode::stack_reval(c.inode.data().lowers()).union(u.dentry.reval_flags()));
    }
    Ok(())
}

/// `ovl_copy_up_tmpfile`: a regular file is copied into an unnamed
/// temporary file of the work directory (`O_TMPFILE`), linked into place
/// once complete: an interrupted copy-up leaves nothing behind.
fn copy_up_tmpfile(c: &Ctx<'_>, dentry: &DEntry<Rovl>, destdir: &RealDentry, name: &[u8], origin: Option<Option<&[u8]>>) -> Result {
    let tmpfile = with_copy_up_creds(c, dentry, |cred| {
        let wa = c.upper.mnt.want_write()?;
        wa.tmpfile(c.workdir, c.stat.mode(), cred)
    })?;
    let temp = tmpfile.dentry();
    if !c.metacopy && c.stat.size() != 0 {
        copy_up_file(c, &tmpfile, c.stat.size(), !c.metadata_fsync)?;
    }
    let wa = c.upper.mnt.want_write()?;
    copy_up_metadata(c, &wa, &temp, origin)?;
    wa.start_creating(destdir, name)?.link(&temp)?;
    copied_up(c, temp);
    Ok(())
}

/// `ovl_prep_cu_creds`: `f` run with the credentials an LSM wants the
/// copy created with (`security_inode_copy_up`), if any, else with the
/// current ones (the mounter's); `f` is given them.
fn with_copy_up_creds<R>(c: &Ctx<'_>, dentry: &DEntry<Rovl>, f: impl FnOnce(&Cred) -> Result<R>) -> Result<R> {
    match Cred::for_copy_up(dentry)? {
        Some(cred) => cred.with(|| f(&cred)),
        None => f(&c.ofs.creator_cred),
    }
}

/// The inode's state once its copy `upper` is in place.
fn copied_up(c: &Ctx<'_>, upper: ARef<RealDentry>) {
    let oi = c.inode.data();
    if c.metacopy_digest.get() {
        oi.set(flag::HAS_DIGEST);
    } else {
        oi.clear(flag::HAS_DIGEST);
    }
    oi.clear(flag::VERIFIED_DIGEST);
    if !c.metacopy {
        oi.set(flag::UPPERDATA);
    }
    let is_dir = c.inode.file_type() == FileType::Dir;
    super::inode::inode_update(c.inode, upper);
    if is_dir {
        oi.set(flag::WHITEOUTS);
    }
}

/// `ovl_copy_up_workdir`: the copy is made in the work directory and
/// renamed into place once complete.  `origin`: the origin file handle to
/// record (`Some(None)`: a null one, for a lower layer without file
/// handles).
fn copy_up_workdir(c: &Ctx<'_>, dentry: &DEntry<Rovl>, destdir: &RealDentry, name: &[u8], origin: Option<Option<&[u8]>>) -> Result {
    let ofs = c.ofs;
    let temp = with_copy_up_creds(c, dentry, |_| {
        let wa = c.upper.mnt.want_write()?;
        let cattr = super::dir::CAttr {
            // The mode cannot be set at creation (umask): set afterwards.
            mode: c.stat.mode() & crate::vfs::S_IFMT,
            rdev: c.stat.rdev(),
            link: c.link.as_ref().map(|l| l.as_cstr()),
            hardlink: None,
        };
        super::dir::create_temp(ofs, &wa, c.workdir, &cattr)
    })?;
    let cleanup = |temp: &RealDentry| {
        if let Ok(wa) = c.upper.mnt.want_write() {
            let _ = super::super_::cleanup(&wa, c.workdir, temp);
        }
    };
    // Data first: writing data after the xattrs would drop
    // security.capability.
    if let Err(e) = copy_up_data(c, &temp) {
        cleanup(&temp);
        return Err(e);
    }
    let wa = c.upper.mnt.want_write()?;
    // An indexed directory (`c->indexed`) gets its index entry first.
    if FileType::of_mode(c.stat.mode()) == FileType::Dir && need_index(ofs, dentry) {
        if let Err(e) = create_index(c, &wa, &temp) {
            let _ = super::super_::cleanup(&wa, c.workdir, &temp);
            return Err(e);
        }
    }
    let r = (|| -> Result {
        // temp or workdir moved under us: EIO.
        let mut rd = wa.start_renaming_dentry(c.workdir, &temp, destdir, name, 0).map_err(|_| EIO)?;
        copy_up_metadata(c, &wa, &temp, origin)?;
        rd.rename(0)
    })();
    if let Err(e) = r {
        let _ = super::super_::cleanup(&wa, c.workdir, &temp);
        return Err(e);
    }
    copied_up(c, temp);
    Ok(())
}

/// `ovl_create_index`: the index entry of a directory copied up with NFS
/// export: an empty directory named after its origin's handle, whose
/// `overlay.upper` holds the handle of the upper directory `upper` (the
/// copy, before it goes into place).  Non-directories are copied up to
/// the index directly instead.
fn create_index(c: &Ctx<'_>, wa: &WriteAccess<'_>, upper: &RealDentry) -> Result {
    let ofs = c.ofs;
    let indexdir = ofs.indexdir().ok_or(EIO)?;
    // Not indexed before its copy-up.
    if c.inode.data().test(flag::INDEX) {
        return Err(EIO);
    }
    let name = super::namei::index_name_of(ofs, c.lower_layer, c.lower)?.ok_or(EIO)?;
    let cattr = super::dir::CAttr { mode: crate::vfs::S_IFDIR, rdev: 0, link: None, hardlink: None };
    let temp = super::dir::create_temp(ofs, wa, indexdir, &cattr)?;
    let r = (|| -> Result {
        // ovl_set_upper_fh
        let fh = encode_real_fh(ofs, upper.inode().ok_or(EIO)?, true)?;
        ofs.check_setxattr(wa, &temp, OvlXattr::Upper, &fh)?;
        let mut rd = wa.start_renaming_dentry(indexdir, &temp, indexdir, &name, 0)?;
        rd.rename(0)
    })();
    if r.is_err() {
        let _ = super::super_::cleanup(wa, indexdir, &temp);
    }
    r
}

/// `ovl_copy_up_data`: the data of a regular file, into `temp` (unless
/// metadata only, or empty).
fn copy_up_data(c: &Ctx<'_>, temp: &RealDentry) -> Result {
    if FileType::of_mode(c.stat.mode()) != FileType::Reg || c.metacopy || c.stat.size() == 0 {
        return Ok(());
    }
    let new_file = c.upper.mnt.open(temp, open_flags::LARGEFILE | open_flags::WRONLY, &c.ofs.creator_cred)?;
    copy_up_file(c, &new_file, c.stat.size(), !c.metadata_fsync)
}

/// `ovl_copy_up_file`: copies `len` bytes of the inode's data (from the
/// layer that holds it) into `new_file`; fsyncs it with `datasync` unless
/// `volatile`.
fn copy_up_file(c: &Ctx<'_>, new_file: &RealFile, len: i64, datasync: bool) -> Result {
    let data = c.inode.data().lowerdata().ok_or(EIO)?;
    let layer = c.ofs.layer(data.layer)?;
    let old_file = layer.mnt.open(&data.dentry, open_flags::LARGEFILE | open_flags::RDONLY, &c.ofs.creator_cred)?;
    new_file.copy_data_from(&old_file, len)?;
    if c.ofs.should_sync() && datasync {
        new_file.fsync(0, i64::MAX, false)?;
    }
    Ok(())
}

/// `ovl_copy_up_metadata`: xattrs, origin, metacopy marker, size, mode,
/// owner and times of the copy `temp`.
fn copy_up_metadata(c: &Ctx<'_>, wa: &WriteAccess<'_>, temp: &RealDentry, origin: Option<Option<&[u8]>>) -> Result {
    let ofs = c.ofs;
    copy_xattr(ofs, c.lower_layer, c.lower, wa, temp)?;
    let ft = FileType::of_mode(c.stat.mode());
    if c.inode.i_flags() & FATTR_I_FLAGS != 0 && matches!(ft, FileType::Reg | FileType::Dir) {
        copy_fileattr(c, wa, temp)?;
    }
    if let Some(fh) = origin {
        // ovl_set_origin_fh: EPERM (user.* xattrs on a special file) is
        // not an error.
        match ofs.check_setxattr(wa, temp, OvlXattr::Origin, fh.unwrap_or(&[])) {
            Err(e) if e == EPERM => {}
            r => r?,
        }
    }
    if c.metacopy {
        // ovl_set_metacopy_xattr: empty without a digest.
        let mut buf = [0u8; metacopy::DIGEST_MAX];
        let digest = metacopy_digest(c, &mut buf)?;
        let mut v = [0u8; metacopy::MAX_SIZE];
        let n = metacopy::encode(&mut v, digest.as_ref()).ok_or(EIO)?;
        c.metacopy_digest.set(digest.is_some());
        ofs.check_setxattr_xerr(wa, temp, OvlXattr::Metacopy, v.get(..n).unwrap_or(&[]), Some(crate::vfs::eopnotsupp()))?;
    }
    wa.set_stat_attrs(temp, &c.stat, ft == FileType::Reg, true)?;
    if ofs.should_sync() && c.metadata_fsync {
        let f = c.upper.mnt.open(temp, open_flags::LARGEFILE | open_flags::RDONLY, &ofs.creator_cred)?;
        f.fsync(0, i64::MAX, false)?;
    }
    Ok(())
}

/// The inode flags that come from fileattr flags (`OVL_FATTR_I_FLAGS_MASK`).
const FATTR_I_FLAGS: u32 = super::inode::PROT_I_FLAGS | inode_flags::SYNC | inode_flags::NOATIME;

/// `ovl_copy_fileattr`: the lower inode's append-only and immutable flags
/// go to overlay.protattr of `temp`, its sync and noatime flags to `temp`
/// itself (a file system without fileattr is no error).
fn copy_fileattr(c: &Ctx<'_>, wa: &WriteAccess<'_>, temp: &RealDentry) -> Result {
    let no_fileattr = |e: Error| e == ENOTTY || e == EINVAL;
    let mut old = FileAttrBuf::new();
    match old.with(|fa| c.lower_layer.mnt.fileattr_get(c.lower, fa)) {
        Err(e) if no_fileattr(e) => return Ok(()),
        Err(e) => {
            pr_warn!("failed to retrieve lower fileattr (err={})\n", e.to_errno());
            return Err(e);
        }
        Ok(()) => {}
    }
    let prot = old.with(|fa| fa.prot_flags());
    if prot != 0 {
        match super::inode::set_protattr(c.ofs, wa, c.inode, temp, prot) {
            Err(e) if e == EPERM => kernel::pr_warn_once!("copying fileattr: no xattr on upper\n"),
            r => r?,
        }
    }
    if !old.with(|fa| fa.has_sync_noatime()) {
        return Ok(());
    }
    let mut new = FileAttrBuf::new();
    match new.with(|fa| c.upper.mnt.fileattr_get(temp, fa)) {
        Err(e) if no_fileattr(e) => {
            kernel::pr_warn_once!("copying fileattr: no support on upper\n");
            return Ok(());
        }
        Err(e) => {
            pr_warn!("failed to retrieve upper fileattr (err={})\n", e.to_errno());
            return Err(e);
        }
        Ok(()) => {}
    }
    old.with(|o| new.with(|n| {
        n.copy_sync_noatime(o);
        wa.fileattr_set(temp, n)
    }))
}

/// `ovl_copy_up_meta_inode_data`: the data of a file copied up metadata
/// only before; then the metacopy marker goes.
fn copy_up_meta_inode_data(c: &Ctx<'_>) -> Result {
    let ofs = c.ofs;
    let oi = c.inode.data();
    let upper = oi.upper().ok_or(EIO)?;
    // Writing the data drops security.capability: keep it.
    let cap = if c.stat.size() != 0 {
        match c.upper.mnt.getxattr(&upper.dentry, c"security.capability", None) {
            Ok(n) if n > 0 => {
                let mut v = KVec::from_elem(0u8, n, GFP_KERNEL)?;
                let m = c.upper.mnt.getxattr(&upper.dentry, c"security.capability", Some(&mut v))?;
                v.truncate(m);
                Some(v)
            }
            Ok(_) => None,
            Err(e) if e == crate::vfs::enodata() || e == crate::vfs::eopnotsupp() => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    copy_up_data(c, &upper.dentry)?;
    let wa = c.upper.mnt.want_write()?;
    if let Some(cap) = &cap {
        wa.setxattr(&upper.dentry, c"security.capability", cap, 0)?;
    }
    let mut nb = [0u8; 32];
    wa.removexattr(&upper.dentry, super::util::xattr_name(ofs.xattr_ns(), OvlXattr::Metacopy, &mut nb))?;
    oi.clear(flag::HAS_DIGEST);
    oi.clear(flag::VERIFIED_DIGEST);
    oi.set(flag::UPPERDATA);
    Ok(())
}

/// `ovl_must_copy_xattr`: xattrs whose copy must not fail.
fn must_copy_xattr(name: &[u8]) -> bool {
    name == b"system.posix_acl_access" || name == b"system.posix_acl_default" || name.starts_with(b"security.")
}

/// `ovl_copy_xattr`: the xattrs of `old` (on `layer`), except the
/// overlay's own, onto `new`; POSIX ACLs through the ACL interface.
pub(crate) fn copy_xattr(ofs: &OvlFs, layer: &Layer, old: &RealDentry, wa: &WriteAccess<'_>, new: &RealDentry) -> Result {
    let size = match layer.mnt.listxattr(old, None) {
        Ok(0) => return Ok(()),
        Ok(n) => n,
        Err(e) if e == crate::vfs::eopnotsupp() => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut list = KVVec::from_elem(0u8, size, GFP_KERNEL)?;
    let len = layer.mnt.listxattr(old, Some(&mut list))?;
    let list = list.get(..len).ok_or(EIO)?;
    let ns = ofs.xattr_ns();
    let mut value: KVVec<u8> = KVVec::new();
    let mut rest = list;
    while !rest.is_empty() {
        // A list not ending in NUL: a broken file system.
        let end = rest.iter().position(|&b| b == 0).ok_or(EIO)?;
        let (with_nul, tail) = rest.split_at(end + 1);
        rest = tail;
        let name = CStr::from_bytes_with_nul(with_nul).map_err(|_| EIO)?;
        let nb = name.to_bytes();
        if lx::is_private(nb, ns) {
            continue;
        }
        if !old.lsm_copy_up_xattr(name)? {
            continue;
        }
        if nb == b"system.posix_acl_access" || nb == b"system.posix_acl_default" {
            let t = if nb == b"system.posix_acl_access" { ACL_TYPE_ACCESS } else { ACL_TYPE_DEFAULT };
            match layer.mnt.get_acl(old, t) {
                Ok(acl) => wa.set_acl(new, name, &acl)?,
                Err(e) if e == crate::vfs::enodata() || e == crate::vfs::eopnotsupp() => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        // ovl_do_getxattr into a buffer grown as needed (a buffer of
        // length 0 would be a size query).
        let n = loop {
            if value.is_empty() {
                let need = layer.mnt.getxattr(old, name, None)?;
                if need == 0 {
                    break 0;
                }
                value = KVVec::from_elem(0u8, need, GFP_KERNEL)?;
            }
            match layer.mnt.getxattr(old, name, Some(value.as_mut_slice())) {
                Ok(n) if n <= value.len() => break n,
                Ok(_) => return Err(EIO),
                // Grown meanwhile: ask again.
                Err(e) if e == ERANGE => value = KVVec::new(),
                Err(e) => return Err(e),
            }
        };
        match wa.setxattr(new, name, value.get(..n).ok_or(EIO)?, 0) {
            Ok(()) => {}
            Err(e) if e == crate::vfs::eopnotsupp() && !must_copy_xattr(nb) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

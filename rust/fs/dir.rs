// SPDX-License-Identifier: GPL-2.0

//! Directory operations (`fs/overlayfs/dir.c`): create, mkdir, mknod,
//! symlink, link, unlink, rmdir and rename, on the upper layer, with
//! whiteouts over lower entries, opaque directories and redirects, the
//! hard-link index (`ovl_nlink_start`/`_end`) and, with NFS export, index
//! entries whited out when the last link of an indexed object goes.

#![forbid(unsafe_code)]

use super::inode::{self as oinode, flag, OvlInode};
use super::super_::{self, OvlFs};
use super::{Rovl, DENTRY_OPAQUE};
use crate::logic::options::Redirect;
use crate::logic::xattr::OvlXattr;
use crate::vfs::dentry::{DEntry, Named};
use crate::vfs::inode::{INode, NewObject};
use crate::vfs::real::{Acl, Cred, Kstat, RealDentry, STATX_BASIC_STATS};
use crate::vfs::write::{WriteAccess, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, WHITEOUT_DEV};
use crate::vfs::FileType;
use core::ffi::CStr;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// The longest absolute redirect written (`redirect_max`).
const REDIRECT_MAX: usize = 256;

/// What to create (`struct ovl_cattr`).
pub(crate) struct CAttr<'a> {
    /// The mode, with the file type.
    pub(crate) mode: u16,
    pub(crate) rdev: u32,
    /// A symlink's target.
    pub(crate) link: Option<&'a CStr>,
    /// An existing upper inode to link instead.
    pub(crate) hardlink: Option<&'a RealDentry>,
}

/// `ovl_create_real`: creates the entry `c` locked for creation.
fn create_real(c: crate::vfs::write::Creating<'_>, attr: &CAttr<'_>) -> Result<ARef<RealDentry>> {
    if c.dentry().inode().is_some() {
        return Err(crate::vfs::estale());
    }
    let d = if let Some(old) = attr.hardlink {
        c.link(old)?
    } else {
        match FileType::of_mode(attr.mode) {
            FileType::Reg => c.create(attr.mode)?,
            FileType::Dir => c.mkdir(attr.mode)?,
            FileType::Chr | FileType::Blk | FileType::Fifo | FileType::Sock => c.mknod(attr.mode, attr.rdev)?,
            FileType::Symlink => c.symlink(attr.link.ok_or(EINVAL)?)?,
            FileType::Unknown => return Err(EPERM),
        }
    };
    if d.inode().is_none() {
        return Err(EIO);
    }
    Ok(d)
}

/// `ovl_create_temp`: a new object under a temporary name in `workdir`.
pub(crate) fn create_temp(_ofs: &OvlFs, wa: &WriteAccess<'_>, workdir: &RealDentry, attr: &CAttr<'_>) -> Result<ARef<RealDentry>> {
    let mut b = [0u8; 16];
    let name = super_::tempname(&mut b);
    create_real(wa.start_creating(workdir, name)?, attr)
}

/// `ovl_whiteout`: a whiteout in the work directory, to be renamed into
/// place: a new hard link of the shared whiteout (one inode for all
/// whiteouts, as overlayfs makes them), or the shared whiteout itself when
/// it cannot take more links.
fn whiteout(ofs: &OvlFs, wa: &WriteAccess<'_>, workdir: &RealDentry) -> Result<ARef<RealDentry>> {
    let mut shared = ofs.whiteout.lock();
    if shared.dentry.is_none() {
        let mut b = [0u8; 16];
        let name = super_::tempname(&mut b);
        shared.dentry = Some(wa.start_creating(workdir, name)?.vfs_whiteout()?);
    }
    if !shared.no_share {
        let mut b = [0u8; 16];
        let name = super_::tempname(&mut b);
        let old = shared.dentry.as_ref().ok_or(EIO)?;
        match wa.start_creating(workdir, name).and_then(|c| c.link(old)) {
            Ok(link) => return Ok(link),
            Err(e) if e == crate::vfs::emlink() => {}
            Err(e) => {
                pr_warn!(
                    "Failed to link whiteout - disabling whiteout inode sharing(nlink={}, err={})\n",
                    old.inode().map_or(0, |i| i.nlink()),
                    e.to_errno() as u32
                );
                shared.no_share = true;
            }
        }
    }
    shared.dentry.take().ok_or(EIO)
}

/// `ovl_cleanup_and_whiteout`: replaces `dentry` (a child of the upper
/// directory `dir`, maybe negative) by a whiteout made in `workdir`; a
/// directory is exchanged with it and then removed.
pub(crate) fn cleanup_and_whiteout(ofs: &OvlFs, wa: &WriteAccess<'_>, workdir: &RealDentry, dir: &RealDentry, dentry: &RealDentry) -> Result {
    let wh = whiteout(ofs, wa, workdir)?;
    let flags = if dentry.can_lookup() { RENAME_EXCHANGE } else { 0 };
    let r = wa.start_renaming_two(workdir, &wh, dir, dentry, flags).and_then(|mut rd| rd.rename(flags));
    if let Err(e) = r {
        let _ = super_::cleanup(wa, workdir, &wh);
        return Err(e);
    }
    if flags != 0 {
        let _ = super_::cleanup(wa, workdir, dentry);
    }
    Ok(())
}

/// `ovl_set_opaque_xerr`: marks the upper directory of `dentry` opaque.
fn set_opaque_xerr(ofs: &OvlFs, wa: &WriteAccess<'_>, dentry: &DEntry<Rovl>, upper: &RealDentry, xerr: Error) -> Result {
    ofs.check_setxattr_xerr(wa, upper, OvlXattr::Opaque, b"y", Some(xerr))?;
    dentry.set_flags(DENTRY_OPAQUE);
    Ok(())
}

fn is_opaque(dentry: &DEntry<Rovl>) -> bool {
    dentry.flags() & DENTRY_OPAQUE != 0
}

/// `ovl_dentry_is_whiteout`: a negative dentry over an upper whiteout.
fn is_whiteout(dentry: &DEntry<Rovl>) -> bool {
    dentry.inode().is_none() && is_opaque(dentry)
}

fn upper_of(dentry: &DEntry<Rovl>) -> Option<ARef<RealDentry>> {
    dentry.inode().and_then(|i| i.data().upper().map(|u| u.dentry.clone()))
}

/// `ovl_type_merge`.
fn type_merge(dentry: &DEntry<Rovl>) -> bool {
    dentry.inode().is_some_and(|i| i.data().is_merge())
}

/// `ovl_type_origin`.
fn type_origin(dentry: &DEntry<Rovl>) -> bool {
    dentry.inode().is_some_and(|i| i.data().has_origin())
}

/// `ovl_type_merge_or_lower`.
fn type_merge_or_lower(dentry: &DEntry<Rovl>) -> bool {
    dentry.inode().is_some_and(|i| i.data().is_merge() || !i.data().has_upper())
}

/// `ovl_pure_upper`: no lower and never held whiteouts.
fn pure_upper(dentry: &DEntry<Rovl>) -> bool {
    dentry.inode().is_some_and(|i| i.data().lowers().is_empty() && !i.data().test(flag::WHITEOUTS))
}

/// `ovl_matches_upper`.
fn matches_upper(dentry: &DEntry<Rovl>, upper: &RealDentry) -> bool {
    upper_of(dentry).is_some_and(|u| u.same_inode(upper))
}

/// `ovl_allow_offline_changes`.
fn allow_offline_changes(ofs: &OvlFs) -> bool {
    !ofs.config.index && !ofs.config.metacopy && ofs.config.redirect != Redirect::On && ofs.config.xino != crate::logic::options::Xino::On
}

/// `ovl_nlink_start`: before a change of the links of `dentry`'s inode,
/// takes the inode's copy-up lock and, for an indexed inode, records the
/// overlay nlink relative to the upper inode's (`overlay.nlink`), so that
/// it stays right whether the change succeeds or not.  A lower hard link
/// to be whited out is copied up first, to have an index entry to record
/// it in.
fn nlink_start<'a>(ofs: &OvlFs, dentry: &'a DEntry<Rovl>) -> Result<crate::vfs::inode::INodeLock<'a, Rovl>> {
    let inode = dentry.inode().ok_or(ENOENT)?;
    if super::copy_up::need_index(ofs, dentry) && !super::copy_up::has_upper_alias(dentry) {
        super::copy_up::copy_up(dentry)?;
    }
    let lock = inode.lock()?;
    if !dentry.is_dir() && inode.data().test(flag::INDEX) {
        let up = ofs.upper.as_ref().ok_or(EROFS)?;
        ofs.with_creds(|| super::copy_up::set_nlink_upper(ofs, &up.mnt.want_write()?, inode))?;
    }
    Ok(lock)
}

/// `ovl_nlink_end`: the index entry of an inode whose last link went is
/// removed (`ovl_cleanup_index`).
fn nlink_end(ofs: &OvlFs, dentry: &DEntry<Rovl>, lock: crate::vfs::inode::INodeLock<'_, Rovl>) {
    if let Some(inode) = dentry.inode() {
        if inode.data().test(flag::INDEX) && inode.nlink() == 0 {
            if let Err(e) = ofs.with_creds(|| cleanup_index(ofs, inode)) {
                let (mut pb, mut nb) = ([0u8; 256], [0u8; 256]);
                let parent = dentry.parent();
                let p = parent.name_copy(&mut pb).unwrap_or(b"?");
                let n = dentry.name_copy(&mut nb).unwrap_or(b"?");
                pr_err!(
                    "cleanup index of '{}/{}' failed ({})\n",
                    kernel::str::BStr::from_bytes(p),
                    kernel::str::BStr::from_bytes(n),
                    e.to_errno()
                );
            }
        }
    }
    drop(lock);
}

/// `ovl_cleanup_index`: removes the index entry of an inode with no link
/// left (with NFS export: replaces it by a whiteout), or, if the upper
/// inode still has other links (a lower hard link
/// was added meanwhile: keeps it and fixes the nlink).
fn cleanup_index(ofs: &OvlFs, inode: &INode<Rovl>) -> Result {
    let oi = inode.data();
    let lower = oi.lowers().first().ok_or(EIO)?;
    let upper = oi.upper_dentry()?;
    let indexdir = ofs.indexdir().ok_or(EIO)?;
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let name = super::namei::index_name_of(ofs, ofs.layer(lower.layer)?, &lower.dentry)?.ok_or(EIO)?;
    let wa = up.mnt.want_write()?;
    let un = upper.inode().ok_or(EIO)?.nlink();
    if inode.file_type() != FileType::Dir && un != 1 {
        super::util::with_name2(&upper, |n| {
            warn_rl!("cleanup linked index ({}, ino={}, nlink={})\n", kernel::str::BStr::from_bytes(n), upper.inode().map_or(0, |i| i.ino()), un)
        });
        inode.set_nlink(un.saturating_sub(1));
        return super::copy_up::set_nlink_upper(ofs, &wa, inode);
    }
    let index = up.mnt.lookup_unlocked(indexdir, &name)?;
    if ofs.index_all() {
        // A whiteout entry: a handle of the object is stale from now on.
        cleanup_and_whiteout(ofs, &wa, indexdir, indexdir, &index)?;
    } else if index.inode().is_some() {
        super_::cleanup(&wa, indexdir, &index)?;
    }
    Ok(())
}

/// `ovl_instantiate`: `dentry` gets the overlay inode of the new upper
/// object `newdentry` (a new inode), or of `hardlink` (one more link).
fn instantiate(named: &Named<'_, Rovl>, newdentry: ARef<RealDentry>, hardlink: Option<&INode<Rovl>>) -> Result {
    named.dentry().set_flags(super::DENTRY_UPPER_ALIAS);
    let parent = named.parent();
    let sb = parent.inode().ok_or(EIO)?.super_block();
    match hardlink {
        None => {
            let inode = oinode::get_inode(sb, Some(newdentry), KVec::new(), None, false, false, false)?;
            named.instantiate(inode);
        }
        Some(inode) => {
            inode.inc_nlink();
            named.instantiate(inode.into());
            // Look the new upper hard link up again to find its lower.
            named.dentry().drop_hash();
        }
    }
    Ok(())
}

/// `ovl_create_upper`.
fn create_upper(ofs: &OvlFs, wa: &WriteAccess<'_>, named: &Named<'_, Rovl>, parent: &INode<Rovl>, attr: &CAttr<'_>, hardlink: Option<&INode<Rovl>>) -> Result {
    let upperdir = parent.data().upper_dentry()?;
    let newdentry = create_real(wa.start_creating(&upperdir, named.name())?, attr)?;
    if parent.data().is_merge() && newdentry.can_lookup() && !allow_offline_changes(ofs) {
        // Only an optimisation: may fail.
        let _ = set_opaque_xerr(ofs, wa, named.dentry(), &newdentry, EIO);
    }
    dir_modified(parent, false);
    if let Err(e) = instantiate(named, newdentry.clone(), hardlink) {
        let _ = super_::cleanup(wa, &upperdir, &newdentry);
        return Err(e);
    }
    Ok(())
}

/// `ovl_create_over_whiteout`: the new object is made in the work
/// directory and renamed over the upper whiteout (a directory is
/// exchanged with it, made opaque).
fn create_over_whiteout(ofs: &OvlFs, wa: &WriteAccess<'_>, named: &Named<'_, Rovl>, parent: &INode<Rovl>, attr: &CAttr<'_>, hardlink: Option<&INode<Rovl>>, acls: Option<(Acl, Acl)>) -> Result {
    let workdir = ofs.workdir().ok_or(EROFS)?;
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upperdir = parent.data().upper_dentry()?;
    let upper = up.mnt.lookup_unlocked(&upperdir, named.name())?;
    if upper.inode().is_none() || !ofs.is_whiteout(up, &upper) {
        return Err(crate::vfs::estale());
    }
    let newdentry = create_temp(ofs, wa, workdir, attr)?;
    let is_dir = FileType::of_mode(attr.mode) == FileType::Dir;
    let r = (|| -> Result {
        let mut rd = wa.start_renaming_two(workdir, &newdentry, &upperdir, &upper, 0)?;
        // The mode may have been changed by the umask (e.g. an sgid dir).
        if hardlink.is_none()
            && FileType::of_mode(attr.mode) != FileType::Symlink
            && newdentry.inode().map(|i| i.mode()) != Some(attr.mode)
        {
            wa.chmod(&newdentry, attr.mode)?;
        }
        if let Some((dflt, acl)) = &acls {
            wa.set_acl(&newdentry, c"system.posix_acl_access", acl)?;
            wa.set_acl(&newdentry, c"system.posix_acl_default", dflt)?;
        }
        if hardlink.is_none() && is_dir {
            set_opaque_xerr(ofs, wa, named.dentry(), &newdentry, EIO)?;
            rd.rename(RENAME_EXCHANGE)?;
            drop(rd);
            let _ = super_::cleanup(wa, workdir, &upper);
        } else {
            rd.rename(0)?;
        }
        Ok(())
    })();
    if let Err(e) = r {
        let _ = super_::cleanup(wa, workdir, &newdentry);
        return Err(e);
    }
    dir_modified(parent, false);
    if let Err(e) = instantiate(named, newdentry.clone(), hardlink) {
        let _ = super_::cleanup(wa, &upperdir, &newdentry);
        return Err(e);
    }
    Ok(())
}

/// `ovl_create_or_link`: with the mounter's credentials, or (for a new
/// object) the mounter's with the caller's file system owner.
fn create_or_link(named: &Named<'_, Rovl>, parent: &INode<Rovl>, attr: &CAttr<'_>, hardlink: Option<&INode<Rovl>>, origin: bool, owner: Option<crate::vfs::real::Owner>) -> Result {
    let ofs = parent.super_block().data();
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    // ACLs for an object made in the work directory: from the parent.
    let over_whiteout = is_whiteout(named.dentry());
    let (mode, acls) = if hardlink.is_none() && over_whiteout {
        let (m, dflt, acl) = parent.posix_acl_create(attr.mode)?;
        (m, Some((dflt, acl)))
    } else {
        (attr.mode, None)
    };
    let attr = CAttr { mode, ..*attr };
    ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        if origin {
            super::namei::set_impure(ofs, &wa, parent)?;
        }
        let run = || {
            if over_whiteout {
                create_over_whiteout(ofs, &wa, named, parent, &attr, hardlink, acls)
            } else {
                create_upper(ofs, &wa, named, parent, &attr, hardlink)
            }
        };
        match owner {
            Some(o) => Cred::current_as(&o)?.with(run),
            None => run(),
        }
    })
}

/// `ovl_create_object`: create, mkdir, mknod, symlink.
pub(crate) fn create_object(dir: &INode<Rovl>, named: &Named<'_, Rovl>, mode: u16, new: NewObject<'_>) -> Result {
    let (mode, rdev, link) = match new {
        NewObject::File => ((mode & 0o7777) | crate::vfs::S_IFREG, 0, None),
        NewObject::Dir => ((mode & 0o7777) | crate::vfs::S_IFDIR, 0, None),
        NewObject::Node(rdev) => {
            // No whiteouts made through the overlay.
            if FileType::of_mode(mode) == FileType::Chr && rdev == WHITEOUT_DEV {
                return Err(EPERM);
            }
            (mode, rdev, None)
        }
        NewObject::Symlink(target) => (crate::vfs::S_IFLNK_MODE, 0, Some(target)),
    };
    super::copy_up::copy_up(&named.parent())?;
    let (mode, owner) = dir.new_child_owner(mode);
    let attr = CAttr { mode, rdev, link, hardlink: None };
    create_or_link(named, dir, &attr, None, false, Some(owner))
}

/// `ovl_tmpfile` / `ovl_create_tmpfile`: an unnamed upper file, opened
/// for `file`.
pub(crate) fn tmpfile(dir: &INode<Rovl>, file: &crate::vfs::file::OpeningFile<'_, Rovl>, mode: u16) -> Result<(ARef<INode<Rovl>>, super::file::OvlFile)> {
    let ofs = dir.super_block().data();
    if !ofs.tmpfile() {
        return Err(crate::vfs::eopnotsupp());
    }
    let dentry = file.dentry();
    super::copy_up::copy_up(&dentry.parent())?;
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let _wa = up.mnt.want_write()?;
    let (mode, owner) = dir.new_child_owner(mode);
    let parent_upper = dir.data().upper_dentry()?;
    // O_NOATIME is fine: the owner is the caller.
    let flags = file.flags() | crate::vfs::real::open_flags::LARGEFILE | crate::vfs::real::open_flags::NOATIME;
    let realfile = ofs.with_creds(|| -> Result<_> {
        let cred = Cred::current_as(&owner)?;
        cred.with(|| up.mnt.open_backing_tmpfile(file, &parent_upper, flags, mode, &cred))
    })?;
    let newdentry = realfile.dentry();
    let inode = oinode::get_inode(dir.super_block(), Some(newdentry), KVec::new(), None, false, false, false)?;
    dentry.set_flags(super::DENTRY_UPPER_ALIAS);
    Ok((inode, super::file::OvlFile::Reg(super::file::RegFile::new(realfile)?)))
}

/// `ovl_link`.
pub(crate) fn link(old: &DEntry<Rovl>, dir: &INode<Rovl>, new: &Named<'_, Rovl>) -> Result {
    // A link of a metacopy file records the path of its data in a
    // redirect, which a dentry decoded from a file handle (NFS export)
    // does not know: its data goes up first.
    if old.is_disconnected() {
        super::copy_up::copy_up_with_data(old)?;
    } else {
        super::copy_up::copy_up(old)?;
    }
    super::copy_up::copy_up(&new.parent())?;
    let inode = old.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let lock = nlink_start(ofs, old)?;
    let r = (|| -> Result {
        if inode.data().is_metacopy(inode.file_type()) {
            let up = ofs.upper.as_ref().ok_or(EROFS)?;
            ofs.with_creds(|| set_redirect(ofs, &up.mnt.want_write()?, old, false))?;
        }
        let upper = inode.data().upper_dentry()?;
        let attr = CAttr { mode: 0, rdev: 0, link: None, hardlink: Some(&upper) };
        create_or_link(new, dir, &attr, Some(inode), type_origin(old), None)
    })();
    nlink_end(ofs, old, lock);
    r
}

/// `ovl_lower_positive`: whether the name of `dentry` exists (and is not a
/// whiteout) in a lower layer of its parent.
fn lower_positive(ofs: &OvlFs, dentry: &DEntry<Rovl>, name: &[u8]) -> bool {
    let Some(inode) = dentry.inode() else {
        return is_opaque(dentry);
    };
    if !inode.data().has_upper() {
        return true;
    }
    let parent = dentry.parent();
    let Some(pinode) = parent.inode() else {
        return false;
    };
    ofs.with_creds(|| {
        for p in pinode.data().lowers() {
            let Ok(layer) = ofs.layer(p.layer) else {
                return true;
            };
            match layer.mnt.lookup_positive(&p.dentry, name) {
                Ok(Some(d)) => return !ofs.is_whiteout(layer, &d),
                Ok(None) => {}
                Err(e) if e == crate::vfs::enametoolong() => {}
                // Something is there that we could not look at.
                Err(_) => return true,
            }
        }
        false
    })
}

/// `ovl_clear_empty`: replaces the upper directory of `dentry` (holding
/// only `whiteouts`) by an empty opaque one, with its xattrs and
/// attributes.
fn clear_empty(ofs: &OvlFs, wa: &WriteAccess<'_>, dentry: &DEntry<Rovl>, whiteouts: &[KVec<u8>]) -> Result<ARef<RealDentry>> {
    let workdir = ofs.workdir().ok_or(EROFS)?;
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upperdir = dentry.parent().inode().ok_or(EIO)?.data().upper_dentry()?;
    let upper = upper_of(dentry).ok_or(EIO)?;
    let mut stat = Kstat::new();
    up.mnt.getattr(&upper, &mut stat, STATX_BASIC_STATS, 0)?;
    if FileType::of_mode(stat.mode()) != FileType::Dir {
        return Err(crate::vfs::estale());
    }
    let attr = CAttr { mode: stat.mode(), rdev: 0, link: None, hardlink: None };
    let opaquedir = create_temp(ofs, wa, workdir, &attr)?;
    let r = (|| -> Result {
        let mut rd = wa.start_renaming_two(workdir, &opaquedir, &upperdir, &upper, RENAME_EXCHANGE)?;
        super::copy_up::copy_xattr(ofs, up, &upper, wa, &opaquedir)?;
        set_opaque_xerr(ofs, wa, dentry, &opaquedir, EIO)?;
        wa.set_stat_attrs(&opaquedir, &stat, false, true)?;
        rd.rename(RENAME_EXCHANGE)
    })();
    if let Err(e) = r {
        let _ = super_::cleanup(wa, workdir, &opaquedir);
        return Err(e);
    }
    // ovl_cleanup_whiteouts, then the old directory.
    for name in whiteouts {
        if let Ok(w) = up.mnt.lookup_unlocked(&upper, name) {
            if w.inode().is_some() {
                let _ = super_::cleanup(wa, &upper, &w);
            }
        }
    }
    let _ = super_::cleanup(wa, workdir, &upper);
    // The dentry's upper is not that directory any more.
    dentry.drop_hash();
    Ok(opaquedir)
}

/// `ovl_check_empty_dir`: `ENOTEMPTY` unless the merged directory holds
/// only whiteouts; the names of the upper whiteouts.
fn check_empty_dir(dentry: &DEntry<Rovl>) -> Result<KVec<KVec<u8>>> {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    ofs.with_creds(|| super::readdir::upper_whiteouts_if_empty(ofs, dentry, inode.data()))
}

/// `ovl_do_remove`: unlink and rmdir.
pub(crate) fn remove(_dir: &INode<Rovl>, named: &Named<'_, Rovl>, is_dir: bool) -> Result {
    let dentry = named.dentry();
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let lower_pos = lower_positive(ofs, dentry, named.name());
    let list = if is_dir && (lower_pos || !pure_upper(dentry)) { check_empty_dir(dentry)? } else { KVec::new() };
    let parent = named.parent();
    super::copy_up::copy_up(&parent)?;
    let pinode = parent.inode().ok_or(EIO)?;
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upperdir = pinode.data().upper_dentry()?;
    let lock = nlink_start(ofs, dentry)?;
    let r = ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        let opaquedir = if list.is_empty() { None } else { Some(clear_empty(ofs, &wa, dentry, &list)?) };
        let upper = up.mnt.lookup_unlocked(&upperdir, named.name())?;
        if let Some(o) = &opaquedir {
            if !upper.same_inode(o) {
                return Err(crate::vfs::estale());
            }
        }
        if !lower_pos {
            // ovl_remove_upper
            if opaquedir.is_none() && !matches_upper(dentry, &upper) {
                return Err(crate::vfs::estale());
            }
            let r = wa.start_removing(&upperdir, &upper)?;
            if is_dir {
                r.rmdir()?;
            } else {
                r.unlink()?;
            }
            drop(r);
            dir_modified(pinode, type_origin(dentry));
        } else {
            // ovl_remove_and_whiteout
            if opaquedir.is_none() && inode.data().has_upper() && !matches_upper(dentry, &upper) {
                return Err(crate::vfs::estale());
            }
            cleanup_and_whiteout(ofs, &wa, ofs.workdir().ok_or(EROFS)?, &upperdir, &upper)?;
            dir_modified(pinode, true);
        }
        dentry.drop_hash();
        Ok(())
    });
    if r.is_ok() {
        if is_dir {
            inode.clear_nlink();
        } else {
            inode.drop_nlink_unless_aliased(dentry);
        }
    }
    nlink_end(ofs, dentry, lock);
    r?;
    if inode.data().has_upper() {
        oinode::copyattr(inode);
    }
    Ok(())
}

/// The redirect stored on the upper object of `dentry`, if any.
fn get_stored_redirect(ofs: &OvlFs, dentry: &DEntry<Rovl>) -> Option<KVec<u8>> {
    let upper = upper_of(dentry)?;
    let layer = ofs.upper.as_ref()?;
    ofs.getxattr_value(layer, &upper, OvlXattr::Redirect).ok().flatten()
}

/// `ovl_get_redirect`: the name of `dentry`, or the path from the nearest
/// absolute redirect (or the root) down to it.
fn build_redirect(ofs: &OvlFs, dentry: &DEntry<Rovl>, absolute: bool) -> Result<KVec<u8>> {
    let mut nb = [0u8; 256];
    if !absolute {
        let mut v = KVec::new();
        v.extend_from_slice(dentry.name_copy(&mut nb)?, GFP_KERNEL)?;
        return Ok(v);
    }
    // Built from the end, as overlayfs does, within REDIRECT_MAX bytes.
    let mut buf = [0u8; REDIRECT_MAX];
    let mut start = buf.len();
    let mut d: ARef<DEntry<Rovl>> = dentry.into();
    while !d.is_root() {
        let stored = get_stored_redirect(ofs, &d);
        let name: &[u8] = match &stored {
            Some(r) => r,
            None => d.name_copy(&mut nb)?,
        };
        let abs = name.first() == Some(&b'/');
        if name.len() + usize::from(!abs) > start {
            return Err(crate::vfs::exdev());
        }
        start -= name.len();
        buf.get_mut(start..start + name.len()).ok_or(EIO)?.copy_from_slice(name);
        if abs {
            break;
        }
        start -= 1;
        *buf.get_mut(start).ok_or(EIO)? = b'/';
        d = d.parent();
    }
    let mut v = KVec::new();
    v.extend_from_slice(buf.get(start..).ok_or(EIO)?, GFP_KERNEL)?;
    Ok(v)
}

/// `ovl_need_absolute_redirect`.
fn need_absolute_redirect(dentry: &DEntry<Rovl>, samedir: bool) -> bool {
    if !samedir {
        return true;
    }
    if dentry.is_dir() {
        return false;
    }
    // A lower hard link: its upper links may be in several directories.
    dentry
        .inode()
        .and_then(|i| i.data().lowers().first().and_then(|l| l.dentry.inode().map(|li| li.nlink() > 1)))
        .unwrap_or(false)
}

/// `ovl_set_redirect`: records where the lower object of `dentry` is
/// (before it moves), unless already recorded; `EXDEV` if that fails (the
/// caller then copies in user space).  Mounter's credentials held.
fn set_redirect(ofs: &OvlFs, wa: &WriteAccess<'_>, dentry: &DEntry<Rovl>, samedir: bool) -> Result {
    let absolute = need_absolute_redirect(dentry, samedir);
    if let Some(r) = get_stored_redirect(ofs, dentry) {
        if !absolute || r.first() == Some(&b'/') {
            return Ok(());
        }
    }
    let redirect = build_redirect(ofs, dentry, absolute)?;
    let upper = upper_of(dentry).ok_or(EIO)?;
    match ofs.check_setxattr_xerr(wa, &upper, OvlXattr::Redirect, &redirect, Some(crate::vfs::exdev())) {
        Ok(()) => Ok(()),
        Err(e) => {
            warn_rl!("failed to set redirect ({})\n", e.to_errno());
            Err(crate::vfs::exdev())
        }
    }
}

/// `ovl_can_move`: directories with lower parts move only with
/// `redirect_dir=on`.
fn can_move(ofs: &OvlFs, dentry: &DEntry<Rovl>) -> bool {
    ofs.config.redirect == Redirect::On || !dentry.is_dir() || !type_merge_or_lower(dentry)
}

/// `ovl_rename`.
pub(crate) fn rename(old_n: &Named<'_, Rovl>, new_n: &Named<'_, Rovl>, flags: u32) -> Result {
    let old = old_n.dentry();
    let new = new_n.dentry();
    let inode = old.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    if flags & !(RENAME_EXCHANGE | RENAME_NOREPLACE) != 0 {
        return Err(EINVAL);
    }
    let mut flags = flags & !RENAME_NOREPLACE;
    let overwrite = flags & RENAME_EXCHANGE == 0;
    let is_dir = old.is_dir();
    let new_is_dir = new.inode().is_some() && new.is_dir();
    // ovl_rename_start
    if !can_move(ofs, old) || (!overwrite && !can_move(ofs, new)) {
        return Err(crate::vfs::exdev());
    }
    let list = if overwrite && new_is_dir && !pure_upper(new) { check_empty_dir(new)? } else { KVec::new() };
    let mut cleanup_whiteout = false;
    if overwrite {
        if lower_positive(ofs, old, old_n.name()) {
            if !is_whiteout(new) {
                // Whiteout the source.
                flags |= RENAME_WHITEOUT;
            } else {
                // Switch the whiteouts.
                flags |= RENAME_EXCHANGE;
            }
        } else if is_dir && is_whiteout(new) {
            flags |= RENAME_EXCHANGE;
            cleanup_whiteout = true;
        }
    }
    super::copy_up::copy_up(old)?;
    let new_parent = new_n.parent();
    super::copy_up::copy_up(&new_parent)?;
    if !overwrite {
        super::copy_up::copy_up(new)?;
    }
    let nlock = if overwrite && new.inode().is_some() { Some(nlink_start(ofs, new)?) } else { None };
    let r = rename_upper(ofs, old_n, new_n, flags, overwrite, is_dir, new_is_dir, &list, cleanup_whiteout);
    if let Some(l) = nlock {
        nlink_end(ofs, new, l);
    }
    r
}

/// `ovl_rename_upper`.
#[allow(clippy::too_many_arguments)]
fn rename_upper(
    ofs: &OvlFs,
    old_n: &Named<'_, Rovl>,
    new_n: &Named<'_, Rovl>,
    flags: u32,
    overwrite: bool,
    is_dir: bool,
    new_is_dir: bool,
    list: &[KVec<u8>],
    cleanup_whiteout: bool,
) -> Result {
    let (old, new) = (old_n.dentry(), new_n.dentry());
    let inode = old.inode().ok_or(EIO)?;
    let new_parent = new_n.parent();
    let old_parent = old_n.parent();
    let (opi, npi) = (old_parent.inode().ok_or(EIO)?, new_parent.inode().ok_or(EIO)?);
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let old_upperdir = opi.data().upper_dentry()?;
    let new_upperdir = npi.data().upper_dentry()?;
    let samedir = core::ptr::eq(opi, npi);
    // ovl_rename_upper, with the mounter's credentials
    ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        let opaquedir = if list.is_empty() { None } else { Some(clear_empty(ofs, &wa, new, list)?) };
        if !samedir {
            if type_origin(old) {
                super::namei::set_impure(ofs, &wa, npi)?;
            }
            if !overwrite && type_origin(new) {
                super::namei::set_impure(ofs, &wa, opi)?;
            }
        }
        let mut whiteout_left = None;
        {
            let mut rd = wa.start_renaming(&old_upperdir, old_n.name(), &new_upperdir, new_n.name(), flags)?;
            let stale = crate::vfs::estale();
            if !matches_upper(old, rd.old()) {
                return Err(stale);
            }
            let old_opaque = is_opaque(old);
            let new_opaque = is_opaque(new);
            if new.inode().is_some() && upper_of(new).is_some() {
                match &opaquedir {
                    Some(o) => {
                        if !rd.new().same_inode(o) {
                            return Err(stale);
                        }
                    }
                    None => {
                        if !matches_upper(new, rd.new()) {
                            return Err(stale);
                        }
                    }
                }
            } else if rd.new().inode().is_some() {
                if !new_opaque || !ofs.is_whiteout(up, rd.new()) {
                    return Err(stale);
                }
            } else if flags & RENAME_EXCHANGE != 0 {
                return Err(stale);
            }
            if rd.old().same_inode(rd.new()) {
                return Err(stale);
            }
            if type_merge_or_lower(old) {
                set_redirect(ofs, &wa, old, samedir)?;
            } else if is_dir && !old_opaque && type_merge(&new_parent) {
                set_opaque_xerr(ofs, &wa, old, rd.old(), crate::vfs::exdev())?;
            }
            if !overwrite && type_merge_or_lower(new) {
                set_redirect(ofs, &wa, new, samedir)?;
            } else if !overwrite && new_is_dir && !new_opaque && type_merge(&old_parent) {
                set_opaque_xerr(ofs, &wa, new, rd.new(), crate::vfs::exdev())?;
            }
            rd.rename(flags)?;
            if cleanup_whiteout {
                let w: ARef<RealDentry> = rd.new().into();
                whiteout_left = Some(w);
            }
        }
        if let Some(w) = whiteout_left {
            let _ = super_::cleanup(&wa, &old_upperdir, &w);
        }
        Ok(())
    })?;
    if overwrite {
        if let Some(ni) = new.inode() {
            if new_is_dir {
                ni.clear_nlink();
            } else {
                ni.drop_nlink_unless_aliased(new);
            }
        }
    }
    let new_origin = new.inode().is_some() && type_origin(new);
    dir_modified(opi, type_origin(old) || (!overwrite && new_origin));
    dir_modified(npi, type_origin(old) || new_origin);
    oinode::copyattr(inode);
    if let Some(ni) = new.inode() {
        if ni.data().has_upper() {
            oinode::copyattr(ni);
        }
    }
    Ok(())
}

/// `ovl_dir_modified`: the directory's times from its upper directory,
/// and a new version for the readdir cache.
pub(crate) fn dir_modified(dir: &INode<Rovl>, impurity: bool) {
    oinode::copyattr(dir);
    let oi: &OvlInode = dir.data();
    if oi.test(flag::WHITEOUTS) || impurity {
        oi.version_inc();
    }
}

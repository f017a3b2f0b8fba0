// SPDX-License-Identifier: GPL-2.0

//! Changing *other* file systems, as a stacking file system does on the file
//! system it writes to: write access to a private mount, entries created and
//! removed with their parent directory locked, renames in one directory,
//! extended attributes and modes; plus file handles decoded on a mount and
//! the exclusive-use bit of an inode (`I_OVL_INUSE`).
//!
//! Directory operations follow the VFS's `start_creating()` /
//! `start_removing_dentry()` / `end_dirop()` protocol: the guard types below
//! hold the parent's lock, so an entry can only be created or removed while
//! its parent is locked, and the lock is released exactly once.

use super::bindings;
use super::nonnull_from_err_ptr;
use super::inode::Iattr;
use super::real::{Acl, Cred, Kstat, Mount, Path, RealDentry, RealFile};
use core::marker::PhantomData;
use core::ffi::CStr;
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

impl Path {
    /// Whether the path's mount is read-only (`__mnt_is_readonly`).
    pub(crate) fn mnt_is_readonly(&self) -> bool {
        // SAFETY: the path holds a reference to its mount.
        unsafe { bindings::rovl_h_mnt_is_readonly(self.0.mnt) }
    }

    /// Whether both paths are on the same mount.
    pub(crate) fn same_mount(&self, other: &Path) -> bool {
        self.0.mnt == other.0.mnt
    }
}

impl RealDentry {
    /// Whether `self` is `ancestor` or below it (`is_subdir`).
    pub(crate) fn is_subdir(&self, ancestor: &RealDentry) -> bool {
        // SAFETY: both dentries are valid.
        unsafe { bindings::is_subdir(self.as_ptr(), ancestor.as_ptr()) }
    }

    /// Whether the dentry's inode has the exclusive-use bit set.
    pub(crate) fn is_inuse(&self) -> bool {
        // SAFETY: the dentry is valid and, checked first, positive.
        self.inode().is_some() && unsafe { bindings::rovl_h_is_inuse(self.as_ptr()) }
    }

    /// Whether the dentry has (weak) revalidation operations: it is on a
    /// remote file system.
    pub(crate) fn is_remote(&self) -> bool {
        // SAFETY: the dentry is valid.
        unsafe { bindings::rovl_h_d_is_remote(self.as_ptr()) }
    }

    /// Whether the dentry has a `d_real` operation (`DCACHE_OP_REAL`): it
    /// belongs to a stacking file system.
    pub(crate) fn has_real_op(&self) -> bool {
        // SAFETY: the dentry is valid; `d_flags` is read racily, as the VFS
        // does for this bit, which is set before the dentry is visible.
        unsafe { (*self.as_ptr()).d_flags & bindings::ROVL_DCACHE_OP_REAL != 0 }
    }

    /// The UUID of the dentry's file system (`s_uuid`).
    pub(crate) fn sb_uuid(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: the super block is pinned by the dentry; `out` has 16 bytes.
        unsafe { bindings::rovl_h_sb_uuid((*self.as_ptr()).d_sb, out.as_mut_ptr()) };
        out
    }
}

impl super::real::RealInode {
    /// `get_write_access` (no `O_WRONLY` open of a file being executed, and
    /// the other way round), released on drop.
    pub(crate) fn get_write_access(&self) -> Result<InodeWriteAccess<'_>> {
        // SAFETY: the inode is valid.
        to_result(unsafe { bindings::rovl_h_get_write_access(self.as_ptr()) })?;
        Ok(InodeWriteAccess(self))
    }

    /// Encodes a non-connectable file handle of the inode
    /// (`exportfs_encode_inode_fh`) into `out`: its type and length in
    /// bytes (a multiple of 4).  `EIO` when the file system cannot.
    pub(crate) fn encode_fh(&self, out: &mut [u8; 128]) -> Result<(i32, usize)> {
        let mut words = [0u32; 32];
        let mut dwords: core::ffi::c_int = 32;
        // SAFETY: the inode is valid; `words` holds `dwords` words.
        let t = unsafe { bindings::rovl_h_encode_inode_fh(self.as_ptr(), words.as_mut_ptr(), &mut dwords) };
        let n = usize::try_from(dwords).map_err(|_| EIO)?;
        if t < 0 || t == 0xff || n > words.len() {
            return Err(EIO);
        }
        for (i, w) in words.iter().enumerate().take(n) {
            if let Some(dst) = out.get_mut(i * 4..i * 4 + 4) {
                dst.copy_from_slice(&w.to_ne_bytes());
            }
        }
        Ok((t, n * 4))
    }

    /// The UUID of the inode's file system (`s_uuid`).
    pub(crate) fn sb_uuid(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        // SAFETY: the super block is pinned by the inode; `out` has 16 bytes.
        unsafe { bindings::rovl_h_sb_uuid((*self.as_ptr()).i_sb, out.as_mut_ptr()) };
        out
    }
}

/// The exclusive-use bit of an inode (`I_OVL_INUSE`), held until drop.
pub(crate) struct InUse(ARef<RealDentry>);

impl InUse {
    /// Takes the bit on `dentry`'s inode: `None` if the dentry is negative
    /// or another user holds the bit.
    pub(crate) fn try_take(dentry: &RealDentry) -> Option<InUse> {
        dentry.inode()?;
        // SAFETY: the dentry is valid and positive.
        unsafe { bindings::rovl_h_inuse_trylock(dentry.as_ptr()) }.then(|| InUse(dentry.into()))
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        // SAFETY: the dentry is positive (checked in `try_take`, and a
        // referenced positive dentry stays positive) and we hold the bit.
        unsafe { bindings::rovl_h_inuse_unlock(self.0.as_ptr()) };
    }
}

/// A new random UUID (`uuid_gen`).
pub(crate) fn uuid_gen() -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `out` has 16 bytes.
    unsafe { bindings::rovl_h_uuid_gen(out.as_mut_ptr()) };
    out
}

/// `RENAME_WHITEOUT`: a rename that leaves a 0/0 character device behind.
pub(crate) const RENAME_WHITEOUT: u32 = bindings::ROVL_RENAME_WHITEOUT;

impl Mount {
    /// Clones the mount of `path` into a private, writable mount rooted at
    /// `path`'s dentry, without the atime flags of the original.
    pub(crate) fn clone_private(path: &Path) -> Result<Mount> {
        // SAFETY: `path` is valid.
        let mnt = nonnull_from_err_ptr(unsafe { bindings::clone_private_mount(&path.0) })?;
        // SAFETY: the new mount is private to us and not yet visible.
        unsafe { bindings::rovl_h_mnt_clear_atime_flags(mnt.as_ptr()) };
        Ok(Mount(mnt))
    }

    /// Syncs the mount's file system (`sync_filesystem` under `s_umount`).
    pub(crate) fn sync_fs(&self) -> Result {
        // SAFETY: the mount and its super block are valid.
        to_result(unsafe { bindings::rovl_h_sync_mnt_sb(self.0.as_ptr()) })
    }

    /// A sample of the mount's file system writeback error state
    /// (`errseq_sample` of `s_wb_err`), for [`Mount::wb_err_since`].
    pub(crate) fn wb_err_sample(&self) -> WbErrSample {
        // SAFETY: the mount and its super block are valid.
        WbErrSample(unsafe { bindings::rovl_h_mnt_wb_err_sample(self.0.as_ptr()) })
    }

    /// The writeback error of the mount's file system since `since`, if
    /// any (`errseq_check`).
    pub(crate) fn wb_err_since(&self, since: WbErrSample) -> Result {
        // SAFETY: the mount and its super block are valid.
        to_result(unsafe { bindings::rovl_h_mnt_wb_err_check(self.0.as_ptr(), since.0) })
    }

    /// `touch_atime` of `dentry` on this mount.
    pub(crate) fn touch_atime(&self, dentry: &RealDentry) {
        // SAFETY: the mount and the dentry are valid.
        unsafe { bindings::rovl_h_touch_atime(self.0.as_ptr(), dentry.as_ptr()) };
    }

    /// Write access to the mount (`mnt_want_write`), held until the guard
    /// is dropped (`mnt_drop_write`).
    pub(crate) fn want_write(&self) -> Result<WriteAccess<'_>> {
        // SAFETY: the mount is valid.
        to_result(unsafe { bindings::rovl_h_mnt_want_write(self.0.as_ptr()) })?;
        Ok(WriteAccess { mnt: self })
    }

    /// Decodes a file handle (`fid`, `fh_type`) on this mount
    /// (`exportfs_decode_fh`).  With `connected`, a directory is only
    /// accepted hashed and below the mount's root.
    pub(crate) fn decode_fh(&self, fid: &[u8], fh_type: i32, connected: bool) -> Result<ARef<RealDentry>> {
        // The handle is an array of 32-bit words: copy it aligned.
        let mut words = [0u32; 32];
        let n = fid.len() / 4;
        if fid.len() % 4 != 0 || n > words.len() {
            return Err(super::estale());
        }
        for (i, w) in words.iter_mut().enumerate().take(n) {
            if let Some(&[a, b, c, d]) = fid.get(i * 4..i * 4 + 4) {
                *w = u32::from_ne_bytes([a, b, c, d]);
            }
        }
        // SAFETY: the mount is valid; `words` holds `n` words.
        let d = unsafe {
            bindings::rovl_h_decode_fh(self.0.as_ptr(), words.as_ptr().cast(), n as i32, fh_type, connected)
        };
        // SAFETY: a referenced dentry on success.
        nonnull_from_err_ptr(d).map(|d| unsafe { RealDentry::from_owned(d) })
    }
}

/// Write access to a mount (`mnt_want_write`); every change goes through it.
pub(crate) struct WriteAccess<'a> {
    mnt: &'a Mount,
}

impl Drop for WriteAccess<'_> {
    fn drop(&mut self) {
        // SAFETY: paired with the successful mnt_want_write in `want_write`.
        unsafe { bindings::rovl_h_mnt_drop_write(self.mnt.0.as_ptr()) };
    }
}

impl<'a> WriteAccess<'a> {
    /// Looks `name` up in `parent` and locks `parent` for creating it
    /// (`start_creating`).  The entry may exist already.
    pub(crate) fn start_creating<'b>(&'b self, parent: &'b RealDentry, name: &[u8]) -> Result<Creating<'b>> {
        if !parent.can_lookup() {
            return Err(ENOTDIR);
        }
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: `parent` is a valid directory dentry on this mount
        // (checked above: a positive directory stays one while referenced);
        // `name` is valid for `len` bytes.
        let child = unsafe {
            bindings::rovl_h_start_creating(self.mnt.idmap(), parent.as_ptr(), name.as_ptr().cast(), len)
        };
        Ok(Creating { wa: self, parent, child: nonnull_from_err_ptr(child)? })
    }

    /// Locks `parent` for removing `child` (`start_removing_dentry`);
    /// `ESTALE` etc. if `child` is no longer `parent`'s child.
    pub(crate) fn start_removing<'b>(&'b self, parent: &'b RealDentry, child: &RealDentry) -> Result<Removing<'b>> {
        if !parent.can_lookup() {
            return Err(ENOTDIR);
        }
        // SAFETY: both dentries are valid; `parent` is a directory.
        let child = unsafe { bindings::rovl_h_start_removing_dentry(parent.as_ptr(), child.as_ptr()) };
        Ok(Removing { wa: self, parent, child: nonnull_from_err_ptr(child)? })
    }

    /// Renames `child` of `dir` to `new_name` in the same directory, with
    /// rename `flags` (`start_renaming_dentry`, `vfs_rename`, `end_renaming`).
    pub(crate) fn rename_in_dir(&self, dir: &RealDentry, child: &RealDentry, new_name: &[u8], flags: u32) -> Result {
        let len = u32::try_from(new_name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: the dentries are valid; `new_name` is valid for `len` bytes.
        to_result(unsafe {
            bindings::rovl_h_rename_in_dir(
                self.mnt.idmap(),
                dir.as_ptr(),
                child.as_ptr(),
                new_name.as_ptr().cast(),
                len,
                flags,
            )
        })
    }

    /// `vfs_setxattr`.
    pub(crate) fn setxattr(&self, dentry: &RealDentry, name: &CStr, value: &[u8], flags: i32) -> Result {
        // SAFETY: the dentry is valid; `name` is NUL-terminated; `value` is
        // valid for its length.
        to_result(unsafe {
            bindings::rovl_h_setxattr(
                self.mnt.idmap(),
                dentry.as_ptr(),
                name.as_ptr().cast(),
                value.as_ptr().cast(),
                value.len(),
                flags,
            )
        })
    }

    /// `vfs_removexattr`.
    pub(crate) fn removexattr(&self, dentry: &RealDentry, name: &CStr) -> Result {
        // SAFETY: as above.
        to_result(unsafe { bindings::rovl_h_removexattr(self.mnt.idmap(), dentry.as_ptr(), name.as_ptr().cast()) })
    }

    /// `vfs_remove_acl` of the access or (`default`) default POSIX ACL.
    pub(crate) fn remove_acl(&self, dentry: &RealDentry, default: bool) -> Result {
        // SAFETY: the dentry is valid.
        to_result(unsafe { bindings::rovl_h_remove_acl(self.mnt.idmap(), dentry.as_ptr(), default) })
    }

    /// Sets the mode (`notify_change` with `ATTR_MODE`, inode locked).
    pub(crate) fn chmod(&self, dentry: &RealDentry, mode: u16) -> Result {
        dentry.inode().ok_or(ENOENT)?;
        // SAFETY: the dentry is valid and positive (checked above).
        to_result(unsafe { bindings::rovl_h_chmod(self.mnt.idmap(), dentry.as_ptr(), mode) })
    }

    /// `notify_change` of the attributes of a `setattr` on `dentry` (its
    /// inode locked here).
    pub(crate) fn notify_change(&self, dentry: &RealDentry, attr: &mut Iattr) -> Result {
        dentry.inode().ok_or(ENOENT)?;
        // SAFETY: the dentry is valid and positive; the iattr is ours.
        to_result(unsafe { bindings::rovl_h_notify_change(self.mnt.idmap(), dentry.as_ptr(), attr.as_ptr()) })
    }

    /// Gives `dentry` the size (`size`) and the mode, owner and times
    /// (`attrs`) of `stat` (`ovl_set_size`, `ovl_set_attr`); times are set
    /// on a best-effort basis.
    pub(crate) fn set_stat_attrs(&self, dentry: &RealDentry, stat: &Kstat, size: bool, attrs: bool) -> Result {
        dentry.inode().ok_or(ENOENT)?;
        // SAFETY: the dentry is valid and positive; `stat` is valid.
        to_result(unsafe {
            bindings::rovl_h_set_stat_attrs(self.mnt.idmap(), dentry.as_ptr(), stat.as_ptr(), size, attrs)
        })
    }

    /// Gives `dentry` the access and modification times of `stat`, best
    /// effort (`ovl_set_timestamps`).
    pub(crate) fn set_times(&self, dentry: &RealDentry, stat: &Kstat) {
        if dentry.inode().is_some() {
            // SAFETY: the dentry is valid and positive; `stat` is valid.
            unsafe { bindings::rovl_h_set_times(self.mnt.idmap(), dentry.as_ptr(), stat.as_ptr()) };
        }
    }

    /// Sets the POSIX ACL `name` (a copy of `acl`) on `dentry` (`vfs_set_acl`).
    pub(crate) fn set_acl(&self, dentry: &RealDentry, name: &CStr, acl: &Acl) -> Result {
        let p = acl.as_ptr();
        if p.is_null() {
            return Ok(());
        }
        // SAFETY: the dentry and ACL are valid; the helper sets a clone.
        to_result(unsafe { bindings::rovl_h_set_acl_clone(self.mnt.idmap(), dentry.as_ptr(), name.as_ptr().cast(), p) })
    }

    /// `vfs_set_acl` of `acl_type` to `acl`, or `vfs_remove_acl` (`None`).
    pub(crate) fn set_or_remove_acl(&self, dentry: &RealDentry, acl_type: i32, acl: Option<&Acl>) -> Result {
        // SAFETY: the dentry and ACL are valid for the call.
        to_result(unsafe {
            match acl {
                Some(a) => bindings::rovl_h_set_acl_type(self.mnt.idmap(), dentry.as_ptr(), acl_type, a.as_ptr()),
                None => bindings::rovl_h_remove_acl_name(self.mnt.idmap(), dentry.as_ptr(), acl_type),
            }
        })
    }

    /// `vfs_fileattr_set` of `dentry`.
    pub(crate) fn fileattr_set(&self, dentry: &RealDentry, fa: &mut super::inode::FileAttr) -> Result {
        // SAFETY: both are valid for the call.
        to_result(unsafe { bindings::rovl_h_fileattr_set(self.mnt.idmap(), dentry.as_ptr(), fa.as_ptr()) })
    }

    /// Locks both parents for renaming `old_name` in `old_parent` to
    /// `new_name` in `new_parent` and looks both up (`start_renaming`).
    pub(crate) fn start_renaming<'b>(
        &'b self,
        old_parent: &RealDentry,
        old_name: &[u8],
        new_parent: &RealDentry,
        new_name: &[u8],
        flags: u32,
    ) -> Result<Renaming<'b>> {
        let ol = u32::try_from(old_name.len()).map_err(|_| super::enametoolong())?;
        let nl = u32::try_from(new_name.len()).map_err(|_| super::enametoolong())?;
        let mut rd = Renaming { _wa: PhantomData, rd: bindings::renamedata::default() };
        // SAFETY: the dentries are valid; the names are valid for their
        // lengths; `rd` is ours and ended by the guard only on success.
        let err = unsafe {
            bindings::rovl_h_start_renaming(
                &mut rd.rd, self.mnt.idmap(), old_parent.as_ptr(), old_name.as_ptr().cast(), ol,
                new_parent.as_ptr(), new_name.as_ptr().cast(), nl, flags,
            )
        };
        Renaming::started(rd, err)
    }

    /// Locks both parents for renaming `old` (a child of `old_parent`) to
    /// `new_name` in `new_parent` (`start_renaming_dentry`).
    pub(crate) fn start_renaming_dentry<'b>(
        &'b self,
        old_parent: &RealDentry,
        old: &RealDentry,
        new_parent: &RealDentry,
        new_name: &[u8],
        flags: u32,
    ) -> Result<Renaming<'b>> {
        let nl = u32::try_from(new_name.len()).map_err(|_| super::enametoolong())?;
        let mut rd = Renaming { _wa: PhantomData, rd: bindings::renamedata::default() };
        // SAFETY: as in `start_renaming`.
        let err = unsafe {
            bindings::rovl_h_start_renaming_dentry(
                &mut rd.rd, self.mnt.idmap(), old_parent.as_ptr(), old.as_ptr(),
                new_parent.as_ptr(), new_name.as_ptr().cast(), nl, flags,
            )
        };
        Renaming::started(rd, err)
    }

    /// Locks both parents for renaming `old` (in `old_parent`) over `new`
    /// (in `new_parent`) (`start_renaming_two_dentries`).
    pub(crate) fn start_renaming_two<'b>(
        &'b self,
        old_parent: &RealDentry,
        old: &RealDentry,
        new_parent: &RealDentry,
        new: &RealDentry,
        flags: u32,
    ) -> Result<Renaming<'b>> {
        let mut rd = Renaming { _wa: PhantomData, rd: bindings::renamedata::default() };
        // SAFETY: as in `start_renaming`.
        let err = unsafe {
            bindings::rovl_h_start_renaming_two(
                &mut rd.rd, self.mnt.idmap(), old_parent.as_ptr(), old.as_ptr(), new_parent.as_ptr(), new.as_ptr(), flags,
            )
        };
        Renaming::started(rd, err)
    }

    /// Opens an unnamed temporary file in `dir` for writing
    /// (`kernel_tmpfile_open`) with credentials `cred`.
    pub(crate) fn tmpfile(&self, dir: &RealDentry, mode: u16, cred: &Cred) -> Result<RealFile> {
        // SAFETY: the mount, dentry and credentials are valid.
        let f = unsafe { bindings::rovl_h_tmpfile_open(self.mnt.0.as_ptr(), dir.as_ptr(), mode, cred.as_ptr()) };
        nonnull_from_err_ptr(f).map(RealFile)
    }
}

/// A name looked up in a directory locked for creating it
/// (`start_creating`); the lock is released and the dentry dropped at drop
/// (`end_creating`), or by the operation that consumes the guard.
pub(crate) struct Creating<'a> {
    wa: &'a WriteAccess<'a>,
    parent: &'a RealDentry,
    /// A referenced dentry, negative unless the name exists.
    child: NonNull<bindings::dentry>,
}

impl Drop for Creating<'_> {
    fn drop(&mut self) {
        // SAFETY: `child` came from start_creating and its lock is held.
        unsafe { bindings::rovl_h_end_dirop(self.child.as_ptr()) };
    }
}

impl Creating<'_> {
    /// The entry: negative unless the name exists.
    pub(crate) fn dentry(&self) -> &RealDentry {
        // SAFETY: we hold a reference to `child`.
        unsafe { RealDentry::from_raw(self.child.as_ptr()) }
    }

    /// Ends the operation and keeps a reference to the entry
    /// (`end_creating_keep`).
    pub(crate) fn keep(self) -> ARef<RealDentry> {
        let d: ARef<RealDentry> = self.dentry().into();
        drop(self);
        d
    }

    /// `vfs_mkdir` with `mode`; the directory (which may be another dentry
    /// than the one looked up) with the lock released.
    pub(crate) fn mkdir(self, mode: u16) -> Result<ARef<RealDentry>> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the parent is locked and `child` is its negative child;
        // vfs_mkdir consumes `child` (and the lock on failure).
        let de = unsafe { bindings::rovl_h_mkdir(this.wa.mnt.idmap(), this.parent.as_ptr(), this.child.as_ptr(), mode) };
        let de = nonnull_from_err_ptr(de)?;
        // SAFETY: on success `de` is referenced and its parent still locked:
        // take a reference for the caller and end the operation.
        unsafe {
            let d: ARef<RealDentry> = RealDentry::from_raw(de.as_ptr()).into();
            bindings::rovl_h_end_dirop(de.as_ptr());
            Ok(d)
        }
    }

    /// `vfs_mknod` (device, FIFO, socket).
    pub(crate) fn mknod(self, mode: u16, rdev: u32) -> Result<ARef<RealDentry>> {
        // SAFETY: the parent is locked and `child` is its negative child.
        to_result(unsafe {
            bindings::rovl_h_mknod(self.wa.mnt.idmap(), self.parent.as_ptr(), self.child.as_ptr(), mode, rdev)
        })?;
        Ok(self.keep())
    }

    /// `vfs_symlink` to `target`.
    pub(crate) fn symlink(self, target: &CStr) -> Result<ARef<RealDentry>> {
        // SAFETY: as above; `target` is NUL-terminated.
        to_result(unsafe {
            bindings::rovl_h_symlink(self.wa.mnt.idmap(), self.parent.as_ptr(), self.child.as_ptr(), target.as_ptr().cast())
        })?;
        Ok(self.keep())
    }

    /// `vfs_link` of `old` (on the same mount) here.
    pub(crate) fn link(self, old: &RealDentry) -> Result<ARef<RealDentry>> {
        // SAFETY: as above; `old` is valid.
        to_result(unsafe {
            bindings::rovl_h_link(self.wa.mnt.idmap(), old.as_ptr(), self.parent.as_ptr(), self.child.as_ptr())
        })?;
        Ok(self.keep())
    }

    /// `vfs_whiteout`: a 0/0 character device.
    pub(crate) fn vfs_whiteout(self) -> Result<ARef<RealDentry>> {
        // SAFETY: as above.
        to_result(unsafe { bindings::rovl_h_whiteout(self.wa.mnt.idmap(), self.parent.as_ptr(), self.child.as_ptr()) })?;
        Ok(self.keep())
    }

    /// `vfs_create` of a regular file with `mode`; the new file, with the
    /// lock released.
    pub(crate) fn create(self, mode: u16) -> Result<ARef<RealDentry>> {
        // SAFETY: the parent is locked and `child` is its negative child.
        to_result(unsafe { bindings::rovl_h_create(self.wa.mnt.idmap(), self.child.as_ptr(), mode) })?;
        Ok(self.keep())
    }
}

/// A child locked in its directory for removal (`start_removing_dentry`);
/// released at drop (`end_removing`).
pub(crate) struct Removing<'a> {
    wa: &'a WriteAccess<'a>,
    parent: &'a RealDentry,
    child: NonNull<bindings::dentry>,
}

impl Drop for Removing<'_> {
    fn drop(&mut self) {
        // SAFETY: `child` came from start_removing_dentry, lock held.
        unsafe { bindings::rovl_h_end_dirop(self.child.as_ptr()) };
    }
}

impl Removing<'_> {
    /// The child.
    pub(crate) fn dentry(&self) -> &RealDentry {
        // SAFETY: we hold a reference to `child`.
        unsafe { RealDentry::from_raw(self.child.as_ptr()) }
    }

    /// `vfs_rmdir`.
    pub(crate) fn rmdir(&self) -> Result {
        // SAFETY: the parent is locked and `child` is its child.
        to_result(unsafe { bindings::rovl_h_rmdir(self.wa.mnt.idmap(), self.parent.as_ptr(), self.child.as_ptr()) })
    }

    /// `vfs_unlink`.
    pub(crate) fn unlink(&self) -> Result {
        // SAFETY: the parent is locked and `child` is its child.
        to_result(unsafe { bindings::rovl_h_unlink(self.wa.mnt.idmap(), self.parent.as_ptr(), self.child.as_ptr()) })
    }
}

/// Two entries locked for a rename (`start_renaming*`), unlocked at drop
/// (`end_renaming`).
pub(crate) struct Renaming<'a> {
    _wa: PhantomData<&'a WriteAccess<'a>>,
    rd: bindings::renamedata,
}

impl Renaming<'_> {
    fn started(rd: Self, err: i32) -> Result<Self> {
        if err != 0 {
            // Nothing to end: forget the guard.
            core::mem::forget(rd);
            return Err(Error::from_errno(err));
        }
        Ok(rd)
    }

    /// The entry renamed.
    pub(crate) fn old(&self) -> &RealDentry {
        // SAFETY: start_renaming* stored a referenced dentry, kept until
        // end_renaming.
        unsafe { RealDentry::from_raw(bindings::rovl_h_rd_old(&self.rd)) }
    }

    /// The target entry (negative unless it exists).
    pub(crate) fn new(&self) -> &RealDentry {
        // SAFETY: as above.
        unsafe { RealDentry::from_raw(bindings::rovl_h_rd_new(&self.rd)) }
    }

    /// `vfs_rename` with `flags`.
    pub(crate) fn rename(&mut self, flags: u32) -> Result {
        // SAFETY: both parents are locked and the dentries referenced.
        to_result(unsafe { bindings::rovl_h_rd_rename(&mut self.rd, flags) })
    }
}

impl Drop for Renaming<'_> {
    fn drop(&mut self) {
        // SAFETY: started successfully (see `started`), ended once.
        unsafe { bindings::rovl_h_end_renaming(&mut self.rd) };
    }
}

/// `RENAME_EXCHANGE`.
pub(crate) const RENAME_EXCHANGE: u32 = bindings::ROVL_RENAME_EXCHANGE;
/// `RENAME_NOREPLACE`.
pub(crate) const RENAME_NOREPLACE: u32 = bindings::ROVL_RENAME_NOREPLACE;
/// `WHITEOUT_DEV`: the device number `vfs_whiteout` gives.
pub(crate) const WHITEOUT_DEV: u32 = bindings::ROVL_WHITEOUT_DEV;

impl Mount {
    /// Looks up `name` in `dir` (on this mount), taking the directory's
    /// lock for the lookup only: a negative dentry if there is no such
    /// entry (`lookup_one_unlocked`).
    pub(crate) fn lookup_unlocked(&self, dir: &RealDentry, name: &[u8]) -> Result<ARef<RealDentry>> {
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: `dir` is valid; `name` is valid for `len` bytes.
        let d = unsafe { bindings::rovl_h_lookup_unlocked(self.idmap(), dir.as_ptr(), name.as_ptr().cast(), len) };
        // SAFETY: a referenced dentry on success.
        nonnull_from_err_ptr(d).map(|d| unsafe { RealDentry::from_owned(d) })
    }

    /// The target of the symbolic link `dentry` (`vfs_get_link`), without
    /// the NUL.
    pub(crate) fn read_link(&self, dentry: &RealDentry) -> Result<KVec<u8>> {
        let mut buf = KVec::from_elem(0u8, 4096, GFP_KERNEL)?;
        // SAFETY: the dentry is valid; `buf` has 4096 bytes.
        let len = unsafe { bindings::rovl_h_read_link(dentry.as_ptr(), buf.as_mut_ptr().cast(), 4096) };
        let len = usize::try_from(len).map_err(|_| Error::from_errno(len))?;
        buf.truncate(len);
        Ok(buf)
    }
}

impl RealFile {
    /// Copies `len` bytes from the start of `src` to the start of this file:
    /// a clone if the file system can, else by splicing chunks, skipping
    /// the holes `SEEK_DATA` finds (so that sparse files stay sparse).
    /// `EINTR` on a fatal signal.
    pub(crate) fn copy_data_from(&self, src: &RealFile, mut len: i64) -> Result {
        const CHUNK: i64 = 1 << 20;
        if len < 0 {
            return Err(EIO);
        }
        // SAFETY: both files are valid.
        if unsafe { bindings::rovl_h_clone_file_range(src.as_ptr(), self.as_ptr(), len) } == len {
            return Ok(());
        }
        src.verify_area(false, 0, len)?;
        self.verify_area(true, 0, len)?;
        // SAFETY: the file is valid.
        let mut skip_hole = unsafe { bindings::rovl_h_file_can_lseek(src.as_ptr()) };
        let (mut old_pos, mut new_pos, mut data_pos) = (0i64, 0i64, -1i64);
        while len > 0 {
            let this = len.min(CHUNK);
            // SAFETY: no preconditions.
            if unsafe { bindings::rovl_h_fatal_signal_pending() } {
                return Err(Error::from_errno(-bindings::ROVL_EINTR));
            }
            if skip_hole && data_pos < old_pos {
                // SAFETY: the file is valid.
                data_pos = unsafe { bindings::vfs_llseek(src.as_ptr(), old_pos, bindings::ROVL_SEEK_DATA) };
                if data_pos > old_pos {
                    len -= data_pos - old_pos;
                    old_pos = data_pos;
                    new_pos = data_pos;
                    continue;
                } else if data_pos == -i64::from(bindings::ROVL_ENXIO) {
                    break;
                } else if data_pos < 0 {
                    skip_hole = false;
                }
            }
            if old_pos != new_pos || old_pos.checked_add(this).is_none() {
                return Err(EIO);
            }
            // SAFETY: both files are valid; the positions are ours.
            let n = unsafe {
                bindings::rovl_h_splice_direct(src.as_ptr(), &mut old_pos, self.as_ptr(), &mut new_pos, this as usize)
            };
            if n <= 0 {
                return Err(if n < 0 { Error::from_errno(n as i32) } else { EIO });
            }
            len -= n as i64;
        }
        Ok(())
    }

    /// The dentry the file is open on.
    pub(crate) fn dentry(&self) -> ARef<RealDentry> {
        // SAFETY: an open file pins its dentry; we take a reference.
        unsafe { RealDentry::from_raw(bindings::rovl_h_file_dentry(self.as_ptr())) }.into()
    }

    /// Whether the file is open on `dentry`.
    pub(crate) fn is_on(&self, dentry: &RealDentry) -> bool {
        // SAFETY: the file is valid; its dentry is only compared.
        core::ptr::eq(unsafe { bindings::rovl_h_file_dentry(self.as_ptr()) }, dentry.as_ptr())
    }

    /// Copies, clones or dedupes `len` bytes from `src` at `pos_in` to this
    /// file at `pos_out` (`vfs_copy_file_range`, `vfs_clone_file_range`,
    /// `vfs_dedupe_file_range_one`); the bytes done.
    pub(crate) fn copy_from(&self, src: &RealFile, pos_in: i64, pos_out: i64, len: i64, flags: u32, op: super::file::CopyOp) -> Result<i64> {
        // SAFETY: both files are valid.
        let r = unsafe { bindings::rovl_h_copyfile(src.as_ptr(), pos_in, self.as_ptr(), pos_out, len, flags, op as i32) };
        if r < 0 {
            return Err(i32::try_from(r).map_or(EIO, Error::from_errno));
        }
        Ok(r)
    }

    /// Applies the `F_SETFL` flags of `flags` (`O_APPEND`, `O_NONBLOCK`,
    /// `O_DIRECT`) to this file, with `setfl`'s checks.
    pub(crate) fn change_flags(&self, flags: u32) -> Result {
        // SAFETY: the file is valid; the helper takes f_lock.
        to_result(unsafe { bindings::rovl_h_file_change_flags(self.as_ptr(), flags, bindings::ROVL_O_SETFL_PASSED) })
    }

    /// `rw_verify_area` of `len` bytes at `pos` (file locks, the LSM and
    /// fsnotify's pre-content hooks), for a read or a `write`.
    pub(crate) fn verify_area(&self, write: bool, pos: i64, len: i64) -> Result {
        // SAFETY: the file is valid.
        to_result(unsafe { bindings::rovl_h_rw_verify_area(write, self.as_ptr(), pos, len) })
    }

    /// `vfs_fsync_range`.
    pub(crate) fn fsync(&self, start: i64, end: i64, datasync: bool) -> Result {
        // SAFETY: the file is valid.
        to_result(unsafe { bindings::rovl_h_fsync(self.as_ptr(), start, end, datasync) })
    }

    /// The file's own `flush` by lock owner `id`, if it has one.
    pub(crate) fn flush(&self, id: super::file::LockOwner) -> Result {
        // SAFETY: the file is valid; the owner is passed on as the VFS gave it.
        to_result(unsafe { bindings::rovl_h_flush(self.as_ptr(), id.as_raw()) })
    }

    /// `vfs_fadvise`.
    pub(crate) fn fadvise(&self, offset: i64, len: i64, advice: i32) -> Result {
        // SAFETY: the file is valid.
        to_result(unsafe { bindings::vfs_fadvise(self.as_ptr(), offset, len, advice) })
    }

    /// `vfs_fallocate`.
    pub(crate) fn fallocate(&self, mode: i32, offset: i64, len: i64) -> Result {
        // SAFETY: the file is valid.
        to_result(unsafe { bindings::rovl_h_fallocate(self.as_ptr(), mode, offset, len) })
    }
}

/// A file system's writeback error state at one time ([`Mount::wb_err_sample`]).
#[derive(Clone, Copy)]
pub(crate) struct WbErrSample(u32);

/// Write access to an inode ([`super::real::RealInode::get_write_access`]).
pub(crate) struct InodeWriteAccess<'a>(&'a super::real::RealInode);

impl Drop for InodeWriteAccess<'_> {
    fn drop(&mut self) {
        // SAFETY: paired with the successful get_write_access.
        unsafe { bindings::rovl_h_put_write_access(self.0.as_ptr()) };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The VFS binding layer.
//!
//! This is the only part of rovl that touches raw kernel pointers.  It owns
//! every reference count (dget/dput, ihold/iput, path_get/path_put, private
//! mounts, credentials) through RAII types, and exposes safe wrappers to the
//! overlay logic in [`crate::fs`], which contains no `unsafe` code.
//!
//! * [`bindings`]: bindgen output for `bindings_helper.h` (generated at build
//!   time) and the C one-line helpers of `helpers.c`.
//! * this file: reference-counted wrappers of dentries, inodes, paths,
//!   mounts, credentials and files, and the kernel calls rovl makes on them.
//! * [`ops`]: the `extern "C"` entry points the VFS calls (file system type,
//!   fs_context, super block, inode, dentry, file and xattr operations).

mod bindings;
pub(crate) mod ops;

use core::ffi::c_void;
use core::ptr::NonNull;
use kernel::error::{from_err_ptr, to_result};
use kernel::prelude::*;
use kernel::sync::aref::{ARef, AlwaysRefCounted};
use kernel::types::Opaque;

/// Converts a kernel `ERR_PTR`-or-pointer into a [`Result`] of a non-null pointer.
fn nonnull_from_err_ptr<T>(ptr: *mut T) -> Result<NonNull<T>> {
    NonNull::new(from_err_ptr(ptr)?).ok_or(EIO)
}

/// Converts a kernel `ssize_t`-style return value into a [`Result`].
fn to_len(ret: isize) -> Result<usize> {
    if ret < 0 {
        // Errno values are small negative numbers; anything else is a bug in
        // the callee, reported as EIO rather than trusted.
        Err(i32::try_from(ret).map_or(EIO, Error::from_errno))
    } else {
        Ok(ret.unsigned_abs())
    }
}

/// A dentry of any file system.
#[repr(transparent)]
pub(crate) struct Dentry(Opaque<bindings::dentry>);

// SAFETY: dentries are reference counted with dget/dput, which may be called
// from any thread.
unsafe impl AlwaysRefCounted for Dentry {
    fn inc_ref(&self) {
        // SAFETY: `self` is a valid dentry, and we hold a reference to it.
        unsafe { bindings::rovl_h_dget(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller passes a reference it owns.
        unsafe { bindings::dput(obj.as_ptr().cast()) };
    }
}

// SAFETY: a dentry may be referenced and released from any thread.
unsafe impl Send for Dentry {}
// SAFETY: all access through `&Dentry` goes through thread-safe kernel APIs.
unsafe impl Sync for Dentry {}

impl Dentry {
    /// # Safety
    ///
    /// `ptr` must point to a valid dentry that stays valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Dentry {
        // SAFETY: `Dentry` is a transparent wrapper of `struct dentry`, and
        // the caller guarantees validity for `'a`.
        unsafe { &*ptr.cast::<Dentry>() }
    }

    /// # Safety
    ///
    /// `ptr` must be a dentry reference owned by the caller, which moves it
    /// into the returned [`ARef`].
    unsafe fn from_owned(ptr: NonNull<bindings::dentry>) -> ARef<Dentry> {
        // SAFETY: ownership of the reference moves to the `ARef`.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// The name of the dentry.  Stable while the parent directory is locked
    /// (as it is in `->lookup`).
    pub(crate) fn name(&self) -> &[u8] {
        let mut len = 0u32;
        // SAFETY: `self` is valid; the helper only reads `d_name`.
        let name = unsafe { bindings::rovl_h_dentry_name(self.as_ptr(), &mut len) };
        if name.is_null() {
            return &[];
        }
        // SAFETY: `d_name.name` points to `d_name.len` bytes, valid while
        // the name is stable (see above) and thus for the borrow of `self`.
        unsafe { core::slice::from_raw_parts(name, len as usize) }
    }

    /// The inode of the dentry, `None` for a negative dentry.
    pub(crate) fn inode(&self) -> Option<&Inode> {
        // SAFETY: `self` is valid.
        let inode = unsafe { bindings::rovl_h_d_inode(self.as_ptr()) };
        // SAFETY: a positive dentry pins its inode while we hold the dentry.
        NonNull::new(inode).map(|i| unsafe { Inode::from_raw(i.as_ptr()) })
    }
}

/// An inode of any file system.
#[repr(transparent)]
pub(crate) struct Inode(Opaque<bindings::inode>);

// SAFETY: inodes are reference counted with ihold/iput, from any thread.
unsafe impl AlwaysRefCounted for Inode {
    fn inc_ref(&self) {
        // SAFETY: `self` is valid and we hold a reference.
        unsafe { bindings::ihold(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller passes a reference it owns.
        unsafe { bindings::iput(obj.as_ptr().cast()) };
    }
}

// SAFETY: an inode may be referenced and released from any thread.
unsafe impl Send for Inode {}
// SAFETY: all access through `&Inode` goes through thread-safe kernel APIs
// or reads of fields that are stable for the life of the inode.
unsafe impl Sync for Inode {}

/// The type of an inode, from the `S_IFMT` bits of its mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum InodeKind {
    Dir,
    Reg,
    Symlink,
    /// Character/block devices, FIFOs and sockets.
    Special,
}

impl Inode {
    /// # Safety
    ///
    /// `ptr` must point to a valid inode that stays valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Inode {
        // SAFETY: transparent wrapper; validity guaranteed by the caller.
        unsafe { &*ptr.cast::<Inode>() }
    }

    fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// The inode number.
    pub(crate) fn ino(&self) -> u64 {
        // SAFETY: `i_ino` is set before the inode is published and never
        // changes afterwards.
        unsafe { (*self.as_ptr()).i_ino as u64 }
    }

    /// The file type of the inode.
    pub(crate) fn kind(&self) -> InodeKind {
        // SAFETY: the type bits of `i_mode` never change after creation.
        let mode = unsafe { (*self.as_ptr()).i_mode } & bindings::ROVL_S_IFMT;
        if mode == bindings::ROVL_S_IFDIR {
            InodeKind::Dir
        } else if mode == bindings::ROVL_S_IFREG {
            InodeKind::Reg
        } else if mode == bindings::ROVL_S_IFLNK {
            InodeKind::Symlink
        } else {
            InodeKind::Special
        }
    }
}

/// An owned `struct path` (a mount and a dentry on it), released with path_put.
pub(crate) struct Path(bindings::path);

// SAFETY: path references may be taken and dropped on any thread.
unsafe impl Send for Path {}
// SAFETY: a shared `Path` is only read.
unsafe impl Sync for Path {}

impl Path {
    /// Resolves `name` like a user path argument of mount(2): following
    /// symlinks, and requiring a directory.
    pub(crate) fn lookup_dir(name: &CStr) -> Result<Path> {
        let mut path = bindings::path::default();
        // SAFETY: `name` is NUL-terminated; `path` is written on success.
        to_result(unsafe {
            bindings::kern_path(
                name.as_ptr().cast(),
                bindings::ROVL_LOOKUP_FOLLOW | bindings::ROVL_LOOKUP_DIRECTORY,
                &mut path,
            )
        })?;
        // INVARIANT: kern_path returned a referenced path.
        Ok(Path(path))
    }

    /// Builds a path from a private mount and a dentry on it.
    pub(crate) fn new(mnt: &PrivateMount, dentry: &Dentry) -> Path {
        let path = bindings::path { mnt: mnt.0.as_ptr(), dentry: dentry.as_ptr() };
        // SAFETY: both are valid; path_get takes a reference on each.
        unsafe { bindings::path_get(&path) };
        Path(path)
    }

    /// The dentry of the path.
    pub(crate) fn dentry(&self) -> &Dentry {
        // SAFETY: the path holds a reference to its dentry.
        unsafe { Dentry::from_raw(self.0.dentry) }
    }

    /// The super block of the path's mount.
    fn sb(&self) -> *mut bindings::super_block {
        // SAFETY: the path holds a reference to its mount.
        unsafe { (*self.0.mnt).mnt_sb }
    }

    /// `s_stack_depth` of the file system the path is on.
    pub(crate) fn stack_depth(&self) -> i32 {
        // SAFETY: the super block is pinned by the mount reference.
        unsafe { (*self.sb()).s_stack_depth }
    }

    /// `vfs_getattr` on the path.
    fn getattr(&self, stat: *mut bindings::kstat, mask: u32, flags: u32) -> Result {
        // SAFETY: `self` is a valid path; `stat` is the VFS's kstat.
        to_result(unsafe { bindings::vfs_getattr(&self.0, stat, mask, flags) })
    }

    /// `vfs_statfs` on the path.
    fn statfs(&self, buf: *mut bindings::kstatfs) -> Result {
        // SAFETY: `self` is a valid path; `buf` is the VFS's kstatfs.
        to_result(unsafe { bindings::vfs_statfs(&self.0, buf) })
    }
}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own a reference on both members.
        unsafe { bindings::path_put(&self.0) };
    }
}

/// A private clone of a layer's mount (clone_private_mount), released with
/// kern_unmount.  Lookups in the layer go through it, so that the layer
/// stays reachable whatever happens to the mount namespace it came from.
pub(crate) struct PrivateMount(NonNull<bindings::vfsmount>);

// SAFETY: the mount is reference counted and usable from any thread.
unsafe impl Send for PrivateMount {}
// SAFETY: a shared `PrivateMount` is only read.
unsafe impl Sync for PrivateMount {}

impl PrivateMount {
    /// Clones the mount of `path` into a private, read-only, noatime mount
    /// rooted at `path`'s dentry, as overlayfs does for lower layers.
    pub(crate) fn clone_lower(path: &Path) -> Result<PrivateMount> {
        // SAFETY: `path` is valid.
        let mnt = nonnull_from_err_ptr(unsafe { bindings::clone_private_mount(&path.0) })?;
        // SAFETY: the new mount is private to us and not yet visible.
        unsafe { bindings::rovl_h_mnt_make_lower(mnt.as_ptr()) };
        Ok(PrivateMount(mnt))
    }

    /// The root dentry of the mount.
    pub(crate) fn root(&self) -> &Dentry {
        // SAFETY: `mnt_root` is pinned by the mount for its lifetime.
        unsafe { Dentry::from_raw((*self.0.as_ptr()).mnt_root) }
    }

    fn idmap(&self) -> *mut bindings::mnt_idmap {
        // SAFETY: the mount is valid.
        unsafe { bindings::rovl_h_mnt_idmap(self.0.as_ptr()) }
    }

    /// Looks up `name` in `dir` (a dentry on this mount), returning the
    /// positive dentry, `Ok(None)` if there is no such entry.
    pub(crate) fn lookup_positive(&self, dir: &Dentry, name: &[u8]) -> Result<Option<ARef<Dentry>>> {
        let len = u32::try_from(name.len()).map_err(|_| Error::from_errno(-(bindings::ROVL_ENAMETOOLONG)))?;
        // SAFETY: `dir` is a valid directory dentry on this mount and `name`
        // is valid for `len` bytes; lookup_one_positive_unlocked takes the
        // directory lock itself.
        let ret = unsafe {
            bindings::rovl_h_lookup_positive(self.idmap(), dir.as_ptr(), name.as_ptr().cast(), len)
        };
        match nonnull_from_err_ptr(ret) {
            // SAFETY: the lookup returned a referenced dentry.
            Ok(d) => Ok(Some(unsafe { Dentry::from_owned(d) })),
            Err(e) if e == ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for PrivateMount {
    fn drop(&mut self) {
        // SAFETY: we own the private mount.
        unsafe { bindings::kern_unmount(self.0.as_ptr()) };
    }
}

/// Credentials (the mounter's, used for all access to the layers).
pub(crate) struct Cred(NonNull<bindings::cred>);

// SAFETY: credentials are reference counted and immutable once prepared.
unsafe impl Send for Cred {}
// SAFETY: see above.
unsafe impl Sync for Cred {}

impl Cred {
    /// A copy of the current task's credentials.
    pub(crate) fn current() -> Result<Cred> {
        // SAFETY: prepare_creds has no preconditions.
        NonNull::new(unsafe { bindings::prepare_creds() }).map(Cred).ok_or(ENOMEM)
    }

    /// Runs `f` with these credentials as the current task's subjective
    /// credentials.
    pub(crate) fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: `self` is valid; the old credentials are restored below.
        let old = unsafe { bindings::rovl_h_override_creds(self.0.as_ptr()) };
        let r = f();
        // SAFETY: restores what override_creds returned, on the same task.
        unsafe { bindings::rovl_h_revert_creds(old) };
        r
    }
}

impl Drop for Cred {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { bindings::rovl_h_put_cred(self.0.as_ptr()) };
    }
}

/// An open file on a layer (opened by rovl, not by a user), released with fput.
///
/// Stored in `file->private_data` as the raw `struct file` pointer
/// ([`RealFile::into_raw`], [`RealFile::peek_raw`], [`RealFile::from_raw`]).
pub(crate) struct RealFile(NonNull<bindings::file>);

// SAFETY: files are reference counted and usable from any thread.
unsafe impl Send for RealFile {}
// SAFETY: the VFS serialises what needs serialising (f_pos) itself.
unsafe impl Sync for RealFile {}

impl RealFile {
    fn into_raw(self) -> *mut c_void {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p.cast()
    }

    /// # Safety
    ///
    /// `p` must come from [`RealFile::into_raw`] and not be used afterwards.
    unsafe fn from_raw(p: *mut c_void) -> Option<RealFile> {
        Self::peek_raw(p).map(RealFile)
    }

    /// The file stored by [`RealFile::into_raw`] in `p`, which keeps owning it.
    fn peek_raw(p: *mut c_void) -> Option<NonNull<bindings::file>> {
        NonNull::new(p.cast())
    }
}

impl Drop for RealFile {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the file.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}

/// Parameters of a new overlay super block, decided by the overlay logic.
pub(crate) struct SbParams {
    pub(crate) stack_depth: i32,
    pub(crate) maxbytes: i64,
    pub(crate) time_gran: u32,
    pub(crate) read_only: bool,
}

/// The maximum stacking depth of file systems.
pub(crate) const MAX_STACK_DEPTH: i32 = bindings::ROVL_FILESYSTEM_MAX_STACK_DEPTH;

/// `s_time_gran` of the file system `path` is on.
pub(crate) fn time_gran_of(path: &Path) -> u32 {
    // SAFETY: the super block is pinned by the path.
    unsafe { (*path.sb()).s_time_gran }
}

/// `s_maxbytes` of the file system `path` is on.
pub(crate) fn maxbytes_of(path: &Path) -> i64 {
    // SAFETY: the super block is pinned by the path.
    unsafe { (*path.sb()).s_maxbytes }
}

/// Module parameters: the defaults of the overlayfs feature options.
pub(crate) fn param_defaults() -> crate::logic::options::Defaults {
    // SAFETY: plain reads of module parameter variables; the kernel writes
    // them from sysfs with a single store, and a torn read of a bool is
    // impossible.
    unsafe {
        crate::logic::options::Defaults {
            redirect_dir: core::ptr::read_volatile(&raw const bindings::rovl_param_redirect_dir),
            redirect_always_follow: core::ptr::read_volatile(
                &raw const bindings::rovl_param_redirect_always_follow,
            ),
            index: core::ptr::read_volatile(&raw const bindings::rovl_param_index),
            nfs_export: core::ptr::read_volatile(&raw const bindings::rovl_param_nfs_export),
            metacopy: core::ptr::read_volatile(&raw const bindings::rovl_param_metacopy),
            xino_auto: core::ptr::read_volatile(&raw const bindings::rovl_param_xino_auto),
        }
    }
}

/// `EOPNOTSUPP`, which the kernel crate does not name.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-bindings::ROVL_EOPNOTSUPP)
}

/// `capable(CAP_SYS_ADMIN)` of the current task.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_capable_sys_admin(false) }
}

/// `ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)` of the current task.
pub(crate) fn capable_sys_admin_noaudit() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_capable_sys_admin(true) }
}

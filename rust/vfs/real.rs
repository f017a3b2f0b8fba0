// SPDX-License-Identifier: GPL-2.0

//! Objects of *other* file systems, as a stacking file system reaches them:
//! paths, private mounts, dentries, inodes, open files, credentials, and the
//! VFS calls made on them.  Nothing here refers to the state of the file
//! system built on these bindings.
//!
//! Names of other file systems' dentries may change under a concurrent
//! rename, so they are only read through a name snapshot
//! ([`RealDentry::with_name`]).

use super::bindings;
use super::dentry::RevalFlags;
use super::file::{self, DirEmitter, File, OpeningFile, ReadIo, SpliceIo, Vma, WriteIo};
use super::fs::FileSystem;
use super::{nonnull_from_err_ptr, to_len, FileType};
use core::ffi::{c_int, CStr};
use kernel::ffi::c_char;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicI64, Ordering};
use kernel::cred::Credential;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::sync::aref::{ARef, AlwaysRefCounted};
use kernel::types::Opaque;

// The C operation tables, all-zero (NULL pointers, `None`) by default.
macro_rules! zeroed_table {
    ($($name:ident: $ty:ident),* $(,)?) => {$(
        pub(super) const fn $name() -> bindings::$ty {
            // SAFETY: a C operation table of function pointers (`Option`)
            // and plain integers, for which all-zeroes is the valid empty value.
            unsafe { core::mem::zeroed() }
        }
    )*};
}
zeroed_table!(
    zeroed_super_operations: super_operations,
    zeroed_inode_operations: inode_operations,
    zeroed_file_operations: file_operations,
    zeroed_dentry_operations: dentry_operations,
);

// ---------------------------------------------------------------------------
// Dentries and inodes of other file systems.

/// A dentry of another file system.
#[repr(transparent)]
pub(crate) struct RealDentry(Opaque<bindings::dentry>);

// SAFETY: dentries are reference counted with dget/dput, from any thread.
unsafe impl AlwaysRefCounted for RealDentry {
    fn inc_ref(&self) {
        // SAFETY: `self` is valid and referenced.
        unsafe { bindings::rovl_h_dget(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller passes a reference it owns.
        unsafe { bindings::dput(obj.as_ptr().cast()) };
    }
}

// SAFETY: a dentry may be referenced and released from any thread.
unsafe impl Send for RealDentry {}
// SAFETY: all access through `&RealDentry` goes through thread-safe APIs.
unsafe impl Sync for RealDentry {}

impl RealDentry {
    /// # Safety
    ///
    /// `ptr` must be a valid dentry for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a RealDentry {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<RealDentry>() }
    }

    /// # Safety
    ///
    /// `ptr` must be a dentry reference owned by the caller, which moves
    /// into the result.
    pub(super) unsafe fn from_owned(ptr: NonNull<bindings::dentry>) -> ARef<RealDentry> {
        // SAFETY: ownership of the reference moves to the `ARef`.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    /// An identity of the dentry, for comparisons only.
    pub(crate) fn id(&self) -> usize {
        self.as_ptr() as usize
    }

    /// Whether both dentries are positive, on the same inode.
    pub(crate) fn same_inode(&self, other: &RealDentry) -> bool {
        matches!((self.inode(), other.inode()), (Some(a), Some(b)) if a.id() == b.id())
    }

    /// Whether an LSM lets the xattr `name` of this dentry be copied up
    /// (`security_inode_copy_up_xattr`; `false`: discard it).
    pub(crate) fn lsm_copy_up_xattr(&self, name: &CStr) -> Result<bool> {
        // SAFETY: the dentry is valid; `name` is NUL-terminated.
        let r = unsafe { bindings::rovl_h_security_copy_up_xattr(self.as_ptr(), name.as_char_ptr()) };
        if r == -bindings::ROVL_ECANCELED {
            return Ok(false);
        }
        if r < 0 && r != super::eopnotsupp().to_errno() {
            return Err(Error::from_errno(r));
        }
        Ok(true)
    }

    /// The inode, `None` for a negative dentry.
    pub(crate) fn inode(&self) -> Option<&RealInode> {
        // SAFETY: `self` is valid (`d_inode`: a plain read).
        let inode = unsafe { (*self.as_ptr()).d_inode };
        // SAFETY: a positive dentry pins its inode while we hold the dentry.
        NonNull::new(inode).map(|i| unsafe { RealInode::from_raw(i.as_ptr()) })
    }

    /// The file type, `None` for a negative dentry.
    pub(crate) fn file_type(&self) -> Option<FileType> {
        self.inode().map(RealInode::file_type)
    }

    fn d_flags(&self) -> u32 {
        // SAFETY: `self` is valid; a racy read of d_flags, as the VFS does
        // (READ_ONCE).
        unsafe { ptr::read_volatile(&raw const (*self.as_ptr()).d_flags) }
    }

    /// Whether the dentry is a directory one can look names up in
    /// (`d_can_lookup`).
    pub(crate) fn can_lookup(&self) -> bool {
        self.d_flags() & bindings::ROVL_DCACHE_ENTRY_TYPE == bindings::ROVL_DCACHE_DIRECTORY_TYPE
    }

    /// Whether the dentry is a regular file, a special file or a symlink
    /// (`d_is_file || d_is_symlink`).
    pub(crate) fn is_file_or_symlink(&self) -> bool {
        let t = self.d_flags() & bindings::ROVL_DCACHE_ENTRY_TYPE;
        t == bindings::ROVL_DCACHE_REGULAR_TYPE
            || t == bindings::ROVL_DCACHE_SPECIAL_TYPE
            || t == bindings::ROVL_DCACHE_SYMLINK_TYPE
    }

    /// Whether the dentry was decoded from a file handle and is not known
    /// to be connected to its root (`DCACHE_DISCONNECTED`).
    pub(crate) fn is_disconnected(&self) -> bool {
        self.d_flags() & bindings::ROVL_DCACHE_DISCONNECTED != 0
    }

    /// Whether the dentry is unhashed (`d_unhashed`): removed, or never
    /// looked up by name.
    pub(crate) fn is_unhashed(&self) -> bool {
        // SAFETY: the dentry is valid.
        unsafe { bindings::rovl_h_d_unhashed(self.as_ptr()) }
    }

    /// Whether the dentry is an automount point or manages transit
    /// (`DCACHE_NEED_AUTOMOUNT | DCACHE_MANAGE_TRANSIT`).
    pub(crate) fn is_managed(&self) -> bool {
        self.d_flags() & bindings::ROVL_DCACHE_MANAGED != 0
    }

    /// Whether the dentry has its own name hash or comparison
    /// (`DCACHE_OP_HASH | DCACHE_OP_COMPARE`).
    pub(crate) fn has_custom_names(&self) -> bool {
        self.d_flags() & bindings::ROVL_DCACHE_CUSTOM_NAMES != 0
    }

    /// Whether the dentry's file system has a case-folding encoding
    /// (`sb_has_encoding`).
    pub(crate) fn sb_has_encoding(&self) -> bool {
        // SAFETY: `self` is valid; `d_sb` pins the super block.
        unsafe { bindings::rovl_h_sb_has_encoding((*self.as_ptr()).d_sb) }
    }

    /// Whether the dentry is a case-insensitive directory of a case-folding
    /// file system (`sb_has_encoding(d_sb) && IS_CASEFOLDED(d_inode)`).
    pub(crate) fn is_casefolded(&self) -> bool {
        // SAFETY: `self` is valid; the helper checks for a negative dentry.
        unsafe { bindings::rovl_h_d_is_casefolded(self.as_ptr()) }
    }

    /// Which revalidation operations the dentry has.
    pub(crate) fn reval_flags(&self) -> RevalFlags {
        RevalFlags(self.d_flags() & bindings::ROVL_DCACHE_REVAL)
    }

    /// The parent (`dget_parent`); the root is its own parent.
    pub(crate) fn parent(&self) -> ARef<RealDentry> {
        // SAFETY: `self` is valid; dget_parent returns a referenced dentry.
        unsafe { RealDentry::from_owned(NonNull::new_unchecked(bindings::dget_parent(self.as_ptr()))) }
    }

    /// Calls `f` with a stable snapshot of the dentry's name.
    pub(crate) fn with_name<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut snap = core::mem::MaybeUninit::<bindings::name_snapshot>::uninit();
        // SAFETY: the snapshot lives in this frame and does not move until
        // it is released below; `self` is valid.
        unsafe { bindings::take_dentry_name_snapshot(snap.as_mut_ptr(), self.as_ptr()) };
        let mut len = 0u32;
        // SAFETY: the snapshot is initialised; its name stays valid until
        // release.
        let name = unsafe { bindings::rovl_h_snapshot_name(snap.as_mut_ptr(), &mut len) };
        let bytes = if name.is_null() {
            &[][..]
        } else {
            // SAFETY: see above.
            unsafe { core::slice::from_raw_parts(name, len as usize) }
        };
        let r = f(bytes);
        // SAFETY: taken above, released once; `bytes` is no longer used.
        unsafe { bindings::release_dentry_name_snapshot(snap.as_mut_ptr()) };
        r
    }

    /// Revalidates the dentry with its own `d_revalidate` (`weak`: its
    /// `d_weak_revalidate`), if it has one.  `Ok(true)`: valid;
    /// `Err(ESTALE)`: invalid (and invalidated, outside RCU walk);
    /// `Err(ECHILD)`: retry outside RCU walk.
    pub(crate) fn revalidate(&self, rcu: bool, flags: u32, weak: bool) -> Result<bool> {
        let d = self.as_ptr();
        let f = self.d_flags();
        let ret = if weak {
            if f & bindings::ROVL_DCACHE_OP_WEAK_REVALIDATE == 0 {
                return Ok(true);
            }
            // SAFETY: the dentry has a weak revalidate operation; it is
            // referenced by the caller.
            unsafe { bindings::rovl_h_d_op_weak_revalidate(d, flags) }
        } else {
            if f & bindings::ROVL_DCACHE_OP_REVALIDATE == 0 {
                return Ok(true);
            }
            // SAFETY: in RCU walk the parent and its inode stay valid for
            // the grace period (read once); outside it dget_parent pins the
            // parent.  The name snapshot is taken and released in the
            // helper's frame, around the call.
            unsafe { bindings::rovl_h_d_op_revalidate(d, flags, rcu) }
        };
        if ret > 0 {
            Ok(true)
        } else if ret == 0 {
            if !rcu {
                // SAFETY: `d` is referenced, outside RCU walk.
                unsafe { bindings::d_invalidate(d) };
            }
            Err(super::estale())
        } else {
            Err(Error::from_errno(ret))
        }
    }
}

/// An inode of another file system.
#[repr(transparent)]
pub(crate) struct RealInode(Opaque<bindings::inode>);

impl RealInode {
    /// # Safety
    ///
    /// `ptr` must be a valid inode for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a RealInode {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<RealInode>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// An identity of the inode, for comparisons and inode cache keys.
    pub(crate) fn id(&self) -> usize {
        self.as_ptr() as usize
    }

    /// The inode number.
    pub(crate) fn ino(&self) -> u64 {
        // SAFETY: `i_ino` never changes after the inode is published.
        unsafe { (*self.as_ptr()).i_ino as u64 }
    }

    /// The mode.
    pub(crate) fn mode(&self) -> u16 {
        // SAFETY: a racy read of i_mode, as the VFS does.
        unsafe { ptr::read_volatile(&raw const (*self.as_ptr()).i_mode) }
    }

    /// The file type.
    pub(crate) fn file_type(&self) -> FileType {
        FileType::of_mode(self.mode())
    }

    /// The device number of a device special file (`i_rdev`).
    pub(crate) fn rdev(&self) -> u32 {
        // SAFETY: `i_rdev` never changes.
        unsafe { (*self.as_ptr()).i_rdev }
    }

    /// The size (`i_size_read`).
    pub(crate) fn size(&self) -> i64 {
        // SAFETY: `self` is valid; i_size_read handles concurrent updates.
        unsafe { bindings::rovl_h_i_size_read(self.as_ptr()) }
    }

    /// Whether the inode has fs-verity but its verity information is not
    /// loaded yet (it loads when the file is opened).
    pub(crate) fn verity_needs_load(&self) -> bool {
        // SAFETY: `self` is valid.
        unsafe { bindings::rovl_h_verity_needs_load(self.as_ptr()) }
    }

    /// The fs-verity digest of the inode (`fsverity_get_digest`) into
    /// `out`: `(size, algorithm)`, `None` if it has none.
    pub(crate) fn verity_digest(&self, out: &mut [u8; 64]) -> Option<(usize, u8)> {
        let mut alg = 0u8;
        // SAFETY: `self` is valid; `out` has FS_VERITY_MAX_DIGEST_SIZE bytes.
        let n = unsafe { bindings::rovl_h_fsverity_get_digest(self.as_ptr(), out.as_mut_ptr(), &mut alg) };
        usize::try_from(n).ok().filter(|&n| n > 0 && n <= out.len()).map(|n| (n, alg))
    }

    /// The inode's own `fiemap` (`EOPNOTSUPP` without one), filling
    /// `info`.
    pub(crate) fn fiemap(&self, info: &mut super::inode::Fiemap, start: u64, len: u64) -> Result {
        // SAFETY: the inode and the request are valid for the call.
        to_result(unsafe { bindings::rovl_h_fiemap(self.as_ptr(), info.as_ptr(), start, len) })
    }

    /// The link count.
    pub(crate) fn nlink(&self) -> u32 {
        // SAFETY: a racy read of the link count, as the VFS does.
        unsafe { bindings::rovl_h_i_nlink(self.as_ptr()) }
    }

    /// The inode flags (`i_flags`, `S_*`).
    pub(crate) fn i_flags(&self) -> u32 {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_i_flags(self.as_ptr()) }
    }

    /// Whether the inode has a `set_acl` operation.
    pub(crate) fn has_set_acl(&self) -> bool {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_has_set_acl(self.as_ptr()) }
    }

    /// Whether the inode's file system has POSIX ACLs (`IS_POSIXACL`).
    pub(crate) fn is_posixacl(&self) -> bool {
        // SAFETY: the super block is pinned by the inode.
        unsafe { ((*(*self.as_ptr()).i_sb).s_flags & bindings::ROVL_SB_POSIXACL as usize) != 0 }
    }

    /// The inode's POSIX ACL of type `acl_type` (`get_inode_acl`).
    pub(crate) fn get_inode_acl(&self, acl_type: i32) -> Result<Acl> {
        // SAFETY: `self` is valid; the result is a referenced ACL, NULL or
        // an error.
        let acl = unsafe { bindings::get_inode_acl(self.as_ptr(), acl_type) };
        kernel::error::from_err_ptr(acl).map(|p| Acl { ptr: p, owned: true })
    }

    /// The cached ACL for RCU walk (`get_cached_acl_rcu`): not referenced,
    /// valid for the RCU read section.
    pub(crate) fn get_cached_acl_rcu(&self, acl_type: i32) -> Acl {
        // SAFETY: the caller is in RCU walk (the VFS holds the RCU read
        // lock around the ->get_inode_acl call this answers).
        let acl = unsafe { bindings::get_cached_acl_rcu(self.as_ptr(), acl_type) };
        Acl { ptr: acl, owned: false }
    }
}

/// A POSIX ACL returned to the VFS by `get_inode_acl`: NULL (none), a
/// referenced ACL, or an RCU-protected one.
pub(crate) struct Acl {
    ptr: *mut bindings::posix_acl,
    owned: bool,
}

impl Acl {
    /// No ACL.
    pub(crate) fn none() -> Acl {
        Acl { ptr: ptr::null_mut(), owned: false }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::posix_acl {
        self.ptr
    }

    /// # Safety
    ///
    /// `ptr` is an ACL that stays referenced while the value lives.
    pub(super) unsafe fn borrowed_raw(ptr: *mut bindings::posix_acl) -> Acl {
        Acl { ptr, owned: false }
    }

    /// # Safety
    ///
    /// `ptr` is NULL or an ACL whose reference the caller gives away.
    pub(super) unsafe fn from_owned_raw(ptr: *mut bindings::posix_acl) -> Acl {
        Acl { ptr, owned: true }
    }

    pub(super) fn into_raw(self) -> *mut bindings::posix_acl {
        let p = self.ptr;
        core::mem::forget(self);
        p
    }
}

impl Drop for Acl {
    fn drop(&mut self) {
        if self.owned && !self.ptr.is_null() {
            // SAFETY: we own one reference (`owned`).
            unsafe { bindings::rovl_h_posix_acl_release(self.ptr) };
        }
    }
}

/// The `delayed_call` of a `get_link`.
#[repr(transparent)]
pub(crate) struct DelayedCall(Opaque<bindings::delayed_call>);

impl DelayedCall {
    /// # Safety
    ///
    /// `ptr` must be valid and not used elsewhere for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::delayed_call) -> &'a mut DelayedCall {
        // SAFETY: transparent wrapper; exclusive per the contract.
        unsafe { &mut *ptr.cast::<DelayedCall>() }
    }
}

/// A symlink body returned by `get_link` (its lifetime is managed by the
/// `DelayedCall` it was produced with).
pub(crate) struct LinkTarget(*const c_char);

impl LinkTarget {
    pub(super) fn into_raw(self) -> *const c_char {
        self.0
    }
}

/// A C structure an operation fills in (`kstat`, `kstatfs`): owned, or
/// borrowed from the VFS for the duration of the operation.
macro_rules! out_struct {
    ($(#[$m:meta])* $name:ident, $c:ident) => {
        $(#[$m])*
        #[repr(transparent)]
        pub(crate) struct $name(bindings::$c);

        impl $name {
            /// An empty one, to be filled.
            pub(crate) fn new() -> $name {
                $name(bindings::$c::default())
            }

            /// # Safety
            ///
            /// `ptr` must be valid and not used elsewhere for `'a`.
            pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::$c) -> &'a mut $name {
                // SAFETY: transparent wrapper; exclusive per the contract.
                unsafe { &mut *ptr.cast::<$name>() }
            }
        }
    };
}

out_struct!(
    /// The `kstat` filled by `getattr`.
    Kstat, kstat
);
out_struct!(
    /// The `kstatfs` filled by `statfs`.
    StatFs, kstatfs
);

impl Kstat {
    pub(crate) fn set_dev(&mut self, dev: u32) {
        self.0.dev = dev;
    }
    pub(crate) fn ino(&self) -> u64 {
        self.0.ino
    }
    pub(crate) fn set_ino(&mut self, ino: u64) {
        self.0.ino = ino;
    }
    pub(crate) fn nlink(&self) -> u32 {
        self.0.nlink
    }
    /// Adds the `STATX_ATTR_*` of `inode`'s own flags (immutable, append)
    /// to the attributes (`generic_fill_statx_attr`).
    pub(crate) fn fill_attr_from<T: FileSystem>(&mut self, inode: &super::inode::INode<T>) {
        // SAFETY: both are valid; the helper only reads the inode's flags.
        unsafe { bindings::rovl_h_generic_fill_statx_attr(inode.as_ptr(), &mut self.0) };
    }
    pub(crate) fn set_nlink(&mut self, n: u32) {
        self.0.nlink = n;
    }
    pub(crate) fn blocks(&self) -> u64 {
        self.0.blocks
    }
    pub(crate) fn set_blocks(&mut self, b: u64) {
        self.0.blocks = b;
    }
    pub(crate) fn size(&self) -> i64 {
        self.0.size
    }
    pub(crate) fn blksize(&self) -> u32 {
        self.0.blksize
    }
    /// The mode.
    pub(crate) fn mode(&self) -> u16 {
        // SAFETY: reads a field of the kstat.
        unsafe { bindings::rovl_h_stat_mode(&self.0) }
    }
    /// The device number of a device.
    pub(crate) fn rdev(&self) -> u32 {
        // SAFETY: reads a field of the kstat.
        unsafe { bindings::rovl_h_stat_rdev(&self.0) }
    }
    /// Whether the owner and group map into the current user namespace.
    pub(crate) fn owner_mapped(&self) -> bool {
        // SAFETY: reads fields of the kstat.
        unsafe { bindings::rovl_h_kuid_mapped(&self.0) }
    }
    /// Makes the size `size` (e.g. 0 for a truncating copy-up).
    pub(crate) fn set_size(&mut self, size: i64) {
        self.0.size = size;
    }
    pub(super) fn as_ptr(&self) -> *const bindings::kstat {
        &self.0
    }
}

impl StatFs {
    pub(crate) fn set_type(&mut self, magic: u64) {
        self.0.f_type = magic as _;
    }
    pub(crate) fn namelen(&self) -> i64 {
        self.0.f_namelen as i64
    }
    pub(crate) fn set_namelen(&mut self, n: i64) {
        self.0.f_namelen = n as _;
    }
    /// Sets `f_fsid` from a UUID (`uuid_to_fsid`).
    pub(crate) fn set_fsid_from_uuid(&mut self, uuid: &[u8; 16]) {
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = *uuid;
        let v = u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]) ^ u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
        self.0.f_fsid.val = [v as u32 as i32, (v >> 32) as u32 as i32];
    }
}

// ---------------------------------------------------------------------------
// Paths and mounts.

/// An owned `struct path` (a mount and a dentry on it).
pub(crate) struct Path(pub(super) bindings::path);

// SAFETY: path references may be taken and dropped on any thread.
unsafe impl Send for Path {}
// SAFETY: a shared `Path` is only read.
unsafe impl Sync for Path {}

impl Path {
    /// Resolves `name` like a path argument of mount(2): following
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
        Ok(Path(path))
    }

    /// The dentry.
    pub(crate) fn dentry(&self) -> &RealDentry {
        // SAFETY: the path holds a reference to its dentry.
        unsafe { RealDentry::from_raw(self.0.dentry) }
    }

    fn sb(&self) -> *mut bindings::super_block {
        // SAFETY: the path holds a reference to its mount.
        unsafe { (*self.0.mnt).mnt_sb }
    }

    /// `s_stack_depth` of the path's file system.
    pub(crate) fn stack_depth(&self) -> i32 {
        // SAFETY: the super block is pinned by the mount reference.
        unsafe { (*self.sb()).s_stack_depth }
    }

    /// `s_maxbytes` of the path's file system.
    pub(crate) fn maxbytes(&self) -> i64 {
        // SAFETY: as above.
        unsafe { (*self.sb()).s_maxbytes }
    }

    /// `s_time_gran` of the path's file system.
    pub(crate) fn time_gran(&self) -> u32 {
        // SAFETY: as above.
        unsafe { (*self.sb()).s_time_gran }
    }

    /// An identity of the path's super block, for comparisons only.
    pub(crate) fn sb_id(&self) -> usize {
        self.sb() as usize
    }

    /// `vfs_statfs` on the path.
    pub(crate) fn statfs(&self, buf: &mut StatFs) -> Result {
        // SAFETY: the path is valid; `buf` is ours.
        to_result(unsafe { bindings::vfs_statfs(&self.0, &mut buf.0) })
    }

    /// What the path's file system offers for file handles.
    pub(crate) fn export_ops(&self) -> ExportOps {
        // SAFETY: the super block is pinned by the mount reference.
        let v = unsafe { bindings::rovl_h_sb_export_ops(self.sb()) };
        ExportOps { can_decode: v & 1 != 0, ino32: v & 2 != 0 }
    }

}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: we own a reference on both members.
        unsafe { bindings::path_put(&self.0) };
    }
}

/// A private clone of a mount (`clone_private_mount`), released with
/// `kern_unmount`: lookups go through it, so what it reaches stays
/// reachable whatever happens to the mount namespace it came from.
pub(crate) struct Mount(pub(super) NonNull<bindings::vfsmount>);

// SAFETY: the mount is reference counted and usable from any thread.
unsafe impl Send for Mount {}
// SAFETY: a shared `Mount` is only read.
unsafe impl Sync for Mount {}

impl Mount {
    /// Clones the mount of `path` into a private, read-only, noatime mount
    /// rooted at `path`'s dentry.
    pub(crate) fn clone_private_readonly(path: &Path) -> Result<Mount> {
        // SAFETY: `path` is valid.
        let mnt = nonnull_from_err_ptr(unsafe { bindings::clone_private_mount(&path.0) })?;
        // SAFETY: the new mount is private to us and not yet visible.
        unsafe { bindings::rovl_h_mnt_set_readonly_noatime(mnt.as_ptr()) };
        Ok(Mount(mnt))
    }

    /// The root dentry.
    pub(crate) fn root(&self) -> &RealDentry {
        // SAFETY: `mnt_root` is pinned by the mount for its lifetime.
        unsafe { RealDentry::from_raw((*self.0.as_ptr()).mnt_root) }
    }

    pub(super) fn idmap(&self) -> *mut bindings::mnt_idmap {
        // SAFETY: the mount is valid; `mnt_idmap()` reads the pointer with
        // acquire semantics (smp_load_acquire), as here.
        unsafe { core::sync::atomic::AtomicPtr::from_ptr(&raw mut (*self.0.as_ptr()).mnt_idmap).load(Ordering::Acquire) }
    }

    /// Whether the mount is idmapped.
    pub(crate) fn is_idmapped(&self) -> bool {
        // SAFETY: the mount is valid.
        unsafe { bindings::rovl_h_is_idmapped_mnt(self.0.as_ptr()) }
    }

    fn path_of(&self, dentry: &RealDentry) -> bindings::path {
        bindings::path { mnt: self.0.as_ptr(), dentry: dentry.as_ptr() }
    }

    /// Looks up `name` in `dir` without permission checks
    /// (`lookup_noperm_positive_unlocked`); `None` if it does not exist.
    pub(crate) fn lookup_noperm_positive(&self, dir: &RealDentry, name: &[u8]) -> Result<Option<ARef<RealDentry>>> {
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: `dir` is a valid dentry on this mount and `name` is valid
        // for `len` bytes.
        let ret = unsafe { bindings::rovl_h_lookup_noperm_positive(dir.as_ptr(), name.as_ptr().cast(), len) };
        match nonnull_from_err_ptr(ret) {
            // SAFETY: the lookup returned a referenced dentry.
            Ok(d) => Ok(Some(unsafe { RealDentry::from_owned(d) })),
            Err(e) if e == ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Looks up `name` in the directory `dir` (a dentry on this mount),
    /// taking the directory's lock; `Ok(None)` if there is no such entry.
    pub(crate) fn lookup_positive(&self, dir: &RealDentry, name: &[u8]) -> Result<Option<ARef<RealDentry>>> {
        self.lookup_positive_opt(dir, name, false)
    }

    /// [`Mount::lookup_positive`]; with `drop_negative`, a negative dentry
    /// that nobody else uses is dropped from the dcache instead of kept
    /// (for a caller that caches the negative result itself).
    pub(crate) fn lookup_positive_opt(
        &self,
        dir: &RealDentry,
        name: &[u8],
        drop_negative: bool,
    ) -> Result<Option<ARef<RealDentry>>> {
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: `dir` is a valid dentry on this mount and `name` is valid
        // for `len` bytes.
        let ret = unsafe {
            bindings::rovl_h_lookup_positive(self.idmap(), dir.as_ptr(), name.as_ptr().cast(), len, drop_negative)
        };
        match nonnull_from_err_ptr(ret) {
            // SAFETY: the lookup returned a referenced dentry.
            Ok(d) => Ok(Some(unsafe { RealDentry::from_owned(d) })),
            Err(e) if e == ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `vfs_fileattr_get` of `dentry` (`ENOTTY` if unsupported).
    pub(crate) fn fileattr_get(&self, dentry: &RealDentry, fa: &mut super::inode::FileAttr) -> Result {
        // SAFETY: both are valid for the call.
        to_result(unsafe { bindings::rovl_h_fileattr_get(dentry.as_ptr(), fa.as_ptr()) })
    }

    /// Resolves `path` (relative) from the mount's root, staying beneath it,
    /// without following symlinks or crossing mounts (`vfs_path_lookup`
    /// with `LOOKUP_BENEATH | LOOKUP_NO_SYMLINKS | LOOKUP_NO_XDEV`).
    pub(crate) fn lookup_beneath(&self, path: &CStr) -> Result<ARef<RealDentry>> {
        let mut out = bindings::path::default();
        // SAFETY: the root and mount are valid; `path` is NUL-terminated.
        to_result(unsafe {
            bindings::vfs_path_lookup(
                self.root().as_ptr(),
                self.0.as_ptr(),
                path.as_ptr().cast(),
                bindings::ROVL_LOOKUP_BENEATH_STRICT,
                &mut out,
            )
        })?;
        // SAFETY: `out` holds a reference on both members; we keep the
        // dentry's and drop the mount's.
        unsafe {
            bindings::mntput(out.mnt);
            Ok(RealDentry::from_owned(NonNull::new(out.dentry).ok_or(EIO)?))
        }
    }

    /// `vfs_getxattr` of `name` on `dentry` (on this mount).
    pub(crate) fn getxattr(&self, dentry: &RealDentry, name: &CStr, buf: Option<&mut [u8]>) -> Result<usize> {
        let (p, len) = match buf {
            Some(b) => (b.as_mut_ptr(), b.len()),
            None => (ptr::null_mut(), 0),
        };
        // SAFETY: `dentry` is valid; `name` is NUL-terminated; `p` is NULL
        // or valid for `len` bytes.
        to_len(unsafe {
            bindings::vfs_getxattr(self.idmap(), dentry.as_ptr(), name.as_ptr().cast(), p.cast(), len)
        })
    }

    /// `vfs_listxattr` on `dentry`.
    pub(crate) fn listxattr(&self, dentry: &RealDentry, buf: Option<&mut [u8]>) -> Result<usize> {
        let (p, len) = match buf {
            Some(b) => (b.as_mut_ptr(), b.len()),
            None => (ptr::null_mut(), 0),
        };
        // SAFETY: `dentry` is valid; `p` is NULL or valid for `len` bytes.
        to_len(unsafe { bindings::vfs_listxattr(dentry.as_ptr(), p.cast(), len) })
    }

    /// `vfs_getattr_nosec` on `dentry` (on this mount).
    pub(crate) fn getattr(&self, dentry: &RealDentry, stat: &mut Kstat, mask: u32, flags: u32) -> Result {
        let path = self.path_of(dentry);
        // SAFETY: the path's members are valid for the call; `stat` is ours.
        to_result(unsafe { bindings::vfs_getattr_nosec(&path, &mut stat.0, mask, flags) })
    }

    /// `vfs_statfs` on `dentry` (on this mount).
    pub(crate) fn statfs(&self, dentry: &RealDentry, buf: &mut StatFs) -> Result {
        let path = self.path_of(dentry);
        // SAFETY: as above.
        to_result(unsafe { bindings::vfs_statfs(&path, &mut buf.0) })
    }

    /// `inode_permission` on `dentry`'s inode through this mount's idmap.
    pub(crate) fn inode_permission(&self, inode: &RealInode, mask: i32) -> Result {
        // SAFETY: both are valid.
        to_result(unsafe { bindings::inode_permission(self.idmap(), inode.as_ptr(), mask) })
    }

    /// `inode_owner_or_capable` through this mount's idmap.
    pub(crate) fn owner_or_capable(&self, inode: &RealInode) -> bool {
        // SAFETY: both are valid.
        unsafe { bindings::inode_owner_or_capable(self.idmap(), inode.as_ptr()) }
    }

    /// Opens `dentry` (on this mount) with `flags` and credentials `cred`.
    pub(crate) fn open(&self, dentry: &RealDentry, flags: u32, cred: &Cred) -> Result<RealFile> {
        let path = self.path_of(dentry);
        // SAFETY: all pointers are valid for the call.
        let f = unsafe { bindings::dentry_open(&path, flags as c_int, cred.as_ptr()) };
        nonnull_from_err_ptr(f).map(RealFile)
    }

    /// Opens `dentry` (on this mount) as a backing file of the open file
    /// `user` (after a copy-up).
    pub(crate) fn open_backing_of<T: FileSystem>(&self, user: &File<T>, dentry: &RealDentry, flags: u32, cred: &Cred) -> Result<RealFile> {
        let path = self.path_of(dentry);
        // SAFETY: `user` is an open file; the rest is valid for the call.
        let f = unsafe { bindings::backing_file_open(user.as_ptr(), flags as c_int, &path, cred.as_ptr()) };
        nonnull_from_err_ptr(f).map(RealFile)
    }

    /// Opens an unnamed file of `mode` in `parent` (on this mount) as the
    /// backing file of the file `user` being opened by `->tmpfile`
    /// (`backing_tmpfile_open`).
    pub(crate) fn open_backing_tmpfile<T: FileSystem>(
        &self,
        user: &OpeningFile<'_, T>,
        parent: &RealDentry,
        flags: u32,
        mode: u16,
        cred: &Cred,
    ) -> Result<RealFile> {
        // SAFETY: `user` is the file being opened; the rest is valid.
        let f = unsafe {
            bindings::rovl_h_backing_tmpfile_open(user.as_ptr(), flags as c_int, self.0.as_ptr(), parent.as_ptr(), mode, cred.as_ptr())
        };
        nonnull_from_err_ptr(f).map(RealFile)
    }

    /// Opens `dentry` (on this mount) as the backing file of `user`.
    pub(crate) fn open_backing<T: FileSystem>(
        &self,
        user: &OpeningFile<'_, T>,
        dentry: &RealDentry,
        flags: u32,
        cred: &Cred,
    ) -> Result<RealFile> {
        let path = self.path_of(dentry);
        // SAFETY: `user` is the file being opened; the rest is valid.
        let f = unsafe { bindings::backing_file_open(user.as_ptr(), flags as c_int, &path, cred.as_ptr()) };
        nonnull_from_err_ptr(f).map(RealFile)
    }

    /// `vfs_get_acl` of type `acl_type` on `dentry` (on this mount).
    pub(crate) fn get_acl(&self, dentry: &RealDentry, acl_type: i32) -> Result<Acl> {
        // SAFETY: `dentry` is valid; the result is a referenced ACL, NULL or
        // an error.
        let acl = unsafe { bindings::rovl_h_vfs_get_acl(self.idmap(), dentry.as_ptr(), acl_type) };
        kernel::error::from_err_ptr(acl).map(|p| Acl { ptr: p, owned: true })
    }

    /// `vfs_get_link` on `dentry`.
    pub(crate) fn get_link(&self, dentry: &RealDentry, done: &mut DelayedCall) -> Result<LinkTarget> {
        // SAFETY: `dentry` is valid; `done` is the caller's delayed call.
        let p = unsafe { bindings::vfs_get_link(dentry.as_ptr(), done.0.get()) };
        kernel::error::from_err_ptr(p.cast_mut()).map(|p| LinkTarget(p.cast_const()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // SAFETY: we own the private mount.
        unsafe { bindings::kern_unmount(self.0.as_ptr()) };
    }
}

// ---------------------------------------------------------------------------
// Open files of other file systems.

/// An open file of another file system, released with `fput`.
pub(crate) struct RealFile(pub(super) NonNull<bindings::file>);

// SAFETY: files are reference counted and usable from any thread.
unsafe impl Send for RealFile {}
// SAFETY: the VFS serialises what needs serialising itself; `f_pos` is
// accessed atomically.
unsafe impl Sync for RealFile {}

/// An entry read from a directory by [`RealFile::read_dir`].
pub(crate) struct DirEntry<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) ino: u64,
    pub(crate) dtype: u32,
}

#[repr(C)]
struct ReadDirCtx<'a> {
    ctx: bindings::dir_context,
    f: &'a mut dyn FnMut(&DirEntry<'_>) -> bool,
    count: usize,
}

unsafe extern "C" fn read_dir_actor(
    ctx: *mut bindings::dir_context,
    name: *const c_char,
    namelen: c_int,
    offset: i64,
    ino: u64,
    dtype: u32,
) -> bool {
    // SAFETY: `ctx` is the first field of the ReadDirCtx that
    // `read_dir` passed to iterate_dir; the name is valid for `namelen`.
    unsafe {
        let rd = &mut *ctx.cast::<ReadDirCtx<'_>>();
        let Ok(len) = usize::try_from(namelen) else {
            return false;
        };
        rd.count += 1;
        let name = core::slice::from_raw_parts(name.cast::<u8>(), len);
        let _ = offset;
        (rd.f)(&DirEntry { name, ino, dtype })
    }
}

#[repr(C)]
struct MapCtx<'a> {
    ctx: bindings::dir_context,
    orig: *mut bindings::dir_context,
    map: &'a mut dyn FnMut(&[u8], u64) -> u64,
}

unsafe extern "C" fn map_actor(
    ctx: *mut bindings::dir_context,
    name: *const c_char,
    namelen: c_int,
    offset: i64,
    ino: u64,
    dtype: u32,
) -> bool {
    // SAFETY: `ctx` is the first field of the MapCtx that `iterate_mapped`
    // passed to iterate_dir; the caller's context is valid; the name is
    // valid for `namelen` bytes.
    unsafe {
        let m = &mut *ctx.cast::<MapCtx<'_>>();
        let Ok(len) = usize::try_from(namelen) else {
            return false;
        };
        let ino = (m.map)(core::slice::from_raw_parts(name.cast::<u8>(), len), ino);
        let orig = m.orig;
        let res = match (*orig).actor {
            Some(actor) => actor(orig, name, namelen, offset, ino, dtype),
            None => false,
        };
        m.ctx.count = (*orig).count;
        res
    }
}

impl RealFile {
    pub(super) fn as_ptr(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }

    fn pos_atomic(&self) -> &AtomicI64 {
        // SAFETY: `f_pos` is an aligned loff_t of the valid file.
        unsafe { AtomicI64::from_ptr(&raw mut (*self.as_ptr()).f_pos) }
    }

    /// The file position.
    pub(crate) fn pos(&self) -> i64 {
        self.pos_atomic().load(Ordering::Relaxed)
    }

    /// The open flags (`f_flags`).
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: the file is valid.
        unsafe { bindings::rovl_h_file_flags(self.as_ptr()) }
    }

    /// Sets the file position.
    pub(crate) fn set_pos(&self, pos: i64) {
        self.pos_atomic().store(pos, Ordering::Relaxed)
    }

    /// `vfs_llseek`.
    pub(crate) fn llseek(&self, offset: i64, whence: i32) -> Result<i64> {
        // SAFETY: the file is valid.
        let r = unsafe { bindings::vfs_llseek(self.as_ptr(), offset, whence) };
        if r < 0 {
            Err(i32::try_from(r).map_or(EIO, Error::from_errno))
        } else {
            Ok(r)
        }
    }

    /// Iterates the directory into the caller's readdir context
    /// (`iterate_dir`, which keeps `ctx->pos` in step with the file).
    pub(crate) fn iterate_into(&self, emitter: &mut DirEmitter) -> Result {
        // SAFETY: the file and the context are valid for the call.
        to_result(unsafe { bindings::iterate_dir(self.as_ptr(), emitter.as_ptr()) })
    }

    /// Iterates the directory into the caller's readdir context, with the
    /// inode number of each entry mapped by `map(name, ino)`.
    pub(crate) fn iterate_mapped(
        &self,
        emitter: &mut DirEmitter,
        map: &mut dyn FnMut(&[u8], u64) -> u64,
    ) -> Result {
        let orig = emitter.as_ptr();
        let mut m = MapCtx {
            // SAFETY: `orig` is the caller's valid context.
            ctx: bindings::dir_context {
                actor: Some(map_actor),
                pos: 0,
                count: unsafe { (*orig).count },
                dt_flags_mask: 0,
            },
            orig,
            map,
        };
        // SAFETY: `m` outlives the call; our actor forwards to the
        // caller's context, which is valid for the call.
        let r = to_result(unsafe { bindings::iterate_dir(self.as_ptr(), &mut m.ctx) });
        emitter.set_pos(m.ctx.pos);
        r
    }

    /// Reads the whole directory from the current position, calling `f` for
    /// each entry until it returns `false`.
    pub(crate) fn read_dir(&self, f: &mut dyn FnMut(&DirEntry<'_>) -> bool) -> Result {
        let mut rd = ReadDirCtx {
            ctx: bindings::dir_context { actor: Some(read_dir_actor), pos: 0, count: 0, dt_flags_mask: 0 },
            f,
            count: 0,
        };
        loop {
            rd.count = 0;
            // SAFETY: `rd` outlives the call; iterate_dir sets ctx.pos from
            // the file position and passes `&rd.ctx` to our actor.
            to_result(unsafe { bindings::iterate_dir(self.as_ptr(), &mut rd.ctx) })?;
            if rd.count == 0 {
                return Ok(());
            }
        }
    }

    fn backing_ctx<T: FileSystem>(cred: &Cred) -> bindings::backing_file_ctx {
        bindings::backing_file_ctx {
            cred: cred.as_ptr(),
            accessed: Some(file::accessed::<T>),
            end_write: Some(file::end_write::<T>),
        }
    }

    /// `backing_file_read_iter` of `io` (a read of `user`) on this file.
    pub(crate) fn backing_read_iter<T: FileSystem>(&self, _user: &File<T>, io: &mut ReadIo, cred: &Cred) -> Result<usize> {
        let mut ctx = Self::backing_ctx::<T>(cred);
        // SAFETY: `io` holds the VFS's kiocb and iterator for the call.
        to_len(unsafe { bindings::backing_file_read_iter(self.as_ptr(), io.1, io.0, (*io.0).ki_flags, &mut ctx) })
    }

    /// `backing_file_splice_read` of `io` (of `user`) on this file.
    pub(crate) fn backing_splice_read<T: FileSystem>(&self, user: &File<T>, io: &mut SpliceIo, cred: &Cred) -> Result<usize> {
        let mut ctx = Self::backing_ctx::<T>(cred);
        let mut iocb = bindings::kiocb::default();
        // SAFETY: `iocb` is a local kiocb for the user file; `io.ppos` is
        // the VFS's position, read before and written after the call.
        unsafe {
            bindings::rovl_h_init_sync_kiocb(&mut iocb, user.as_ptr());
            iocb.ki_pos = *io.ppos;
            let ret = bindings::backing_file_splice_read(self.as_ptr(), &mut iocb, io.pipe, io.len, io.flags, &mut ctx);
            *io.ppos = iocb.ki_pos;
            to_len(ret)
        }
    }

    /// `backing_file_write_iter` of `io` (a write of `user`) on this
    /// file; without `sync`, `O_SYNC`/`O_DSYNC` are not passed on.
    pub(crate) fn backing_write_iter<T: FileSystem>(&self, _user: &File<T>, io: &mut WriteIo, cred: &Cred, sync: bool) -> Result<usize> {
        let mut ctx = Self::backing_ctx::<T>(cred);
        // SAFETY: `io` holds the VFS's kiocb and iterator for the call.
        to_len(unsafe {
            let fl = bindings::rovl_h_iocb_flags(io.0, sync);
            bindings::backing_file_write_iter(self.as_ptr(), io.1, io.0, fl, &mut ctx)
        })
    }

    /// `backing_file_splice_write` of `io` (of `user`) on this file.
    pub(crate) fn backing_splice_write<T: FileSystem>(&self, user: &File<T>, io: &mut SpliceIo, cred: &Cred) -> Result<usize> {
        let mut ctx = Self::backing_ctx::<T>(cred);
        // SAFETY: a kiocb on the user file at the position of the splice,
        // written back after the call; the pipe is valid for the call.
        unsafe {
            let mut iocb = bindings::kiocb::default();
            bindings::rovl_h_init_sync_kiocb(&mut iocb, user.as_ptr());
            iocb.ki_pos = *io.ppos;
            let ret = bindings::backing_file_splice_write(io.pipe, self.as_ptr(), &mut iocb, io.len, io.flags, &mut ctx);
            *io.ppos = iocb.ki_pos;
            to_len(ret)
        }
    }

    /// `backing_file_mmap` of `vma` (of `user`) on this file.
    pub(crate) fn backing_mmap<T: FileSystem>(&self, _user: &File<T>, vma: &mut Vma, cred: &Cred) -> Result {
        let mut ctx = Self::backing_ctx::<T>(cred);
        // SAFETY: all pointers are valid for the call.
        to_result(unsafe { bindings::backing_file_mmap(self.as_ptr(), vma.0, &mut ctx) })
    }
}

impl Drop for RealFile {
    fn drop(&mut self) {
        // SAFETY: we own one reference to the file.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}

/// What a file system offers for file handles.
pub(crate) struct ExportOps {
    /// File handles can be decoded (`exportfs_can_decode_fh`).
    pub(crate) can_decode: bool,
    /// Its file handles are the generic 32-bit inode number and generation
    /// (`encode_fh == generic_encode_ino32_fh`): its inode numbers fit in
    /// 32 bits.
    pub(crate) ino32: bool,
}

/// `STATX_INO`.
pub(crate) const STATX_INO: u32 = bindings::ROVL_STATX_INO;
/// `STATX_BLOCKS`.
pub(crate) const STATX_BLOCKS: u32 = bindings::ROVL_STATX_BLOCKS;
/// `STATX_BASIC_STATS`.
pub(crate) const STATX_BASIC_STATS: u32 = bindings::ROVL_STATX_BASIC_STATS;
/// `STATX_ATIME | STATX_MTIME`.
pub(crate) const STATX_TIMES: u32 = bindings::ROVL_STATX_TIMES;
/// `ACL_TYPE_ACCESS`, `ACL_TYPE_DEFAULT`.
pub(crate) const ACL_TYPE_ACCESS: i32 = bindings::ROVL_ACL_TYPE_ACCESS;
pub(crate) const ACL_TYPE_DEFAULT: i32 = bindings::ROVL_ACL_TYPE_DEFAULT;
/// `STATX_NLINK`.
pub(crate) const STATX_NLINK: u32 = bindings::ROVL_STATX_NLINK;

/// Open flags (`O_*`).
pub(crate) mod open_flags {
    use super::bindings;
    pub(crate) const RDONLY: u32 = bindings::ROVL_O_RDONLY;
    pub(crate) const LARGEFILE: u32 = bindings::ROVL_O_LARGEFILE;
    pub(crate) const NOATIME: u32 = bindings::ROVL_O_NOATIME;
    pub(crate) const APPEND: u32 = bindings::ROVL_O_APPEND;
    pub(crate) const WRONLY: u32 = bindings::ROVL_O_WRONLY;
    pub(crate) const RDWR: u32 = bindings::ROVL_O_RDWR;
    pub(crate) const TRUNC: u32 = bindings::ROVL_O_TRUNC;
    pub(crate) const CREAT: u32 = bindings::ROVL_O_CREAT;
    pub(crate) const EXCL: u32 = bindings::ROVL_O_EXCL;
    pub(crate) const NOCTTY: u32 = bindings::ROVL_O_NOCTTY;
    pub(crate) const ACCMODE: u32 = bindings::ROVL_O_ACCMODE;

    /// `ACC_MODE`: the `MAY_*` bits the access mode of `flags` needs.
    pub(crate) fn acc_mode(flags: u32) -> i32 {
        match flags & bindings::ROVL_O_ACCMODE {
            0 => super::super::may::READ,
            1 => super::super::may::WRITE,
            _ => super::super::may::READ | super::super::may::WRITE,
        }
    }
}

/// An anonymous device number (`get_anon_bdev`), freed on drop.
pub(crate) struct AnonDev(u32);

impl AnonDev {
    /// A new anonymous device number.
    pub(crate) fn new() -> Result<AnonDev> {
        let mut dev = 0u32;
        // SAFETY: `dev` is written on success.
        to_result(unsafe { bindings::get_anon_bdev(&mut dev) })?;
        Ok(AnonDev(dev))
    }

    /// The device number.
    pub(crate) fn dev(&self) -> u32 {
        self.0
    }
}

impl Drop for AnonDev {
    fn drop(&mut self) {
        // SAFETY: allocated by get_anon_bdev in `new`, freed once.
        unsafe { bindings::free_anon_bdev(self.0) };
    }
}

/// Whether a ratelimited message may be printed now (`printk_ratelimit`).
pub(crate) fn printk_ratelimit() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_printk_ratelimit() }
}

// ---------------------------------------------------------------------------
// Credentials.

/// The owner of a new inode (`kuid_t`, `kgid_t`), see
/// [`super::inode::INode::new_child_owner`].
#[derive(Default, Clone, Copy)]
pub(crate) struct Owner {
    pub(super) uid: bindings::kuid_t,
    pub(super) gid: bindings::kgid_t,
}

/// Credentials (e.g. of the task that mounted), for access to other file
/// systems on behalf of callers.
pub(crate) struct Cred(ARef<Credential>);

impl Cred {
    /// A copy of the current task's credentials (`prepare_creds`).
    pub(crate) fn current() -> Result<Cred> {
        // SAFETY: prepare_creds has no preconditions; it returns a new
        // credential with one reference, or NULL.
        let p = NonNull::new(unsafe { bindings::prepare_creds() }).ok_or(ENOMEM)?;
        // SAFETY: we own the reference; `Credential` wraps `struct cred`.
        Ok(Cred(unsafe { ARef::from_raw(p.cast::<Credential>()) }))
    }

    pub(super) fn as_ptr(&self) -> *const bindings::cred {
        self.0.as_ptr().cast()
    }

    /// A copy of the current task's credentials whose file system owner
    /// is `owner` (what new inodes are made with).
    pub(crate) fn current_as(owner: &Owner) -> Result<Cred> {
        // SAFETY: the helper copies the current credentials.
        let p = unsafe { bindings::rovl_h_creds_as(owner.uid, owner.gid) };
        let p = nonnull_from_err_ptr(p.cast_mut())?;
        // SAFETY: we own the new credential's reference.
        Ok(Cred(unsafe { ARef::from_raw(p.cast::<Credential>()) }))
    }

    /// The credentials an LSM wants the copy-up of `dentry` (ours) made
    /// with (`security_inode_copy_up`, from the current ones), if others.
    pub(crate) fn for_copy_up<T: super::fs::FileSystem>(dentry: &super::dentry::DEntry<T>) -> Result<Option<Cred>> {
        let mut new: *mut bindings::cred = core::ptr::null_mut();
        // SAFETY: the dentry is valid; `new` is NULL or, set by the LSM, a
        // new credential whose reference we own.
        let r = unsafe { bindings::rovl_h_security_copy_up(dentry.as_ptr(), &mut new) };
        // SAFETY: as above.
        let cred = NonNull::new(new).map(|p| Cred(unsafe { ARef::from_raw(p.cast::<Credential>()) }));
        to_result(r)?;
        Ok(cred)
    }

    /// Makes these the current task's subjective credentials until the
    /// guard is dropped (`override_creds` / `revert_creds`).
    pub(crate) fn override_creds(&self) -> CredGuard<'_> {
        // SAFETY: `self` is valid and outlives the guard, which restores
        // the old credentials on the same task.
        let old = unsafe { bindings::rovl_h_override_creds(self.as_ptr()) };
        CredGuard { old, _cred: core::marker::PhantomData }
    }

    /// Runs `f` with these credentials.
    pub(crate) fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.override_creds();
        f()
    }
}

/// Restores the previous credentials on drop.
pub(crate) struct CredGuard<'a> {
    old: *const bindings::cred,
    _cred: core::marker::PhantomData<&'a Cred>,
}

impl Drop for CredGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: restores what override_creds returned, on the same task
        // (the guard is not Send: it holds a raw pointer).
        unsafe { bindings::rovl_h_revert_creds(self.old) };
    }
}


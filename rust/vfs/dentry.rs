// SPDX-License-Identifier: GPL-2.0

//! Dentries of a file system written on these bindings, and dentry operations.
//!
//! `d_fsdata` of our dentries holds flags only (a word of bits the file
//! system defines), never references, so dentries need no `d_release`.
//! A dentry's name is only offered by [`Unhashed`], the new dentry of a
//! `->lookup`, whose parent is locked, so that the name is stable.

use super::bindings;
use super::fs::FileSystem;
use super::inode::INode;
use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::ptr::NonNull;
use kernel::prelude::*;
use kernel::sync::aref::{ARef, AlwaysRefCounted};
use kernel::types::Opaque;

/// A dentry of file system `T`.
#[repr(transparent)]
pub(crate) struct DEntry<T>(Opaque<bindings::dentry>, PhantomData<T>);

// SAFETY: dentries are reference counted with dget/dput, from any thread.
unsafe impl<T> AlwaysRefCounted for DEntry<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is valid and referenced.
        unsafe { bindings::rovl_h_dget(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller passes a reference it owns.
        unsafe { bindings::dput(obj.as_ptr().cast()) };
    }
}

// SAFETY: a dentry may be referenced and released from any thread; its
// flags word is accessed atomically.
unsafe impl<T> Send for DEntry<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for DEntry<T> {}

impl<T: FileSystem> DEntry<T> {
    /// The parent dentry (`dget_parent`); the root is its own parent.
    pub(crate) fn parent(&self) -> ARef<DEntry<T>> {
        // SAFETY: dget_parent returns a referenced dentry of the same
        // file system (never NULL).
        unsafe { ARef::from_raw(NonNull::new_unchecked(bindings::dget_parent(self.as_ptr()).cast())) }
    }

    /// # Safety
    ///
    /// `ptr` must be a dentry of `T`, valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::dentry) -> &'a Self {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::dentry {
        self.0.get()
    }

    fn fsdata(&self) -> &AtomicUsize {
        // SAFETY: `d_fsdata` is a pointer-sized, pointer-aligned word that
        // only these bindings access (as flags), atomically.
        unsafe { AtomicUsize::from_ptr((&raw mut (*self.as_ptr()).d_fsdata).cast()) }
    }

    /// The flags word of the dentry.
    pub(crate) fn flags(&self) -> usize {
        self.fsdata().load(Ordering::Acquire)
    }

    /// Sets the bits `bits` in the flags word.
    pub(crate) fn set_flags(&self, bits: usize) {
        self.fsdata().fetch_or(bits, Ordering::AcqRel);
    }

    /// The inode, `None` for a negative dentry.  Safe in RCU walk: our
    /// inodes are freed after an RCU grace period.
    pub(crate) fn inode(&self) -> Option<&INode<T>> {
        // SAFETY: `d_inode` is read once; a positive dentry of ours pins a
        // complete inode of ours, and in RCU walk the inode stays valid for
        // the grace period.
        let inode = unsafe { bindings::rovl_h_d_inode_rcu(self.as_ptr()) };
        // SAFETY: see above.
        (!inode.is_null()).then(|| unsafe { INode::from_raw(inode) })
    }

    /// Sets which revalidation operations the dentry needs.
    pub(crate) fn set_reval(&self, reval: RevalFlags) {
        // SAFETY: the helper updates d_flags under d_lock.
        unsafe { bindings::rovl_h_d_set_reval(self.as_ptr(), reval.0) };
    }
}

/// Which revalidation operations (`DCACHE_OP_REVALIDATE`,
/// `DCACHE_OP_WEAK_REVALIDATE`) dentries of other file systems have; see
/// [`super::real::RealDentry::reval_flags`].
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RevalFlags(pub(super) u32);

impl RevalFlags {
    /// No revalidation.
    pub(crate) const NONE: RevalFlags = RevalFlags(0);

    /// The union of two sets.
    pub(crate) fn union(self, other: RevalFlags) -> RevalFlags {
        RevalFlags(self.0 | other.0)
    }
}

/// The new, unhashed dentry of a `->lookup`.
///
/// # Invariants
///
/// The parent directory is locked by the VFS for the life of the value, so
/// the dentry's name and parent are stable.
pub(crate) struct Unhashed<'a, T>(&'a DEntry<T>);

impl<'a, T: FileSystem> Unhashed<'a, T> {
    /// # Safety
    ///
    /// `ptr` must be the dentry of a `->lookup` in progress on a directory
    /// of `T` (parent locked), valid for `'a`.
    pub(super) unsafe fn from_raw(ptr: *mut bindings::dentry) -> Self {
        // SAFETY: per the contract.
        Unhashed(unsafe { DEntry::from_raw(ptr) })
    }

    /// The name looked up.
    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: by the type invariant, `d_name` is stable for `'a`.
        unsafe { stable_name(self.0) }
    }

    /// The dentry itself.
    pub(crate) fn dentry(&self) -> &DEntry<T> {
        self.0
    }
}

/// The name of `d`.
///
/// # Safety
///
/// `d`'s name must be stable for `'a` (its parent locked).
unsafe fn stable_name<'a, T: FileSystem>(d: &'a DEntry<T>) -> &'a [u8] {
    let mut len = 0u32;
    // SAFETY: `d` is valid; the name is stable per the contract.
    let name = unsafe { bindings::rovl_h_dentry_name(d.as_ptr(), &mut len) };
    if name.is_null() {
        return &[];
    }
    // SAFETY: `d_name.name` points to `d_name.len` bytes, stable for `'a`.
    unsafe { core::slice::from_raw_parts(name, len as usize) }
}

/// A dentry of a directory operation (create, link, unlink, rename...).
///
/// # Invariants
///
/// The VFS holds the parent directory locked for the life of the value, so
/// the dentry's name and parent are stable.
pub(crate) struct Named<'a, T>(&'a DEntry<T>);

impl<'a, T: FileSystem> Named<'a, T> {
    /// # Safety
    ///
    /// `ptr` must be a dentry of `T` whose parent the VFS holds locked for
    /// `'a`.
    pub(super) unsafe fn from_raw(ptr: *mut bindings::dentry) -> Self {
        // SAFETY: per the contract.
        Named(unsafe { DEntry::from_raw(ptr) })
    }

    /// The name.
    pub(crate) fn name(&self) -> &[u8] {
        // SAFETY: by the type invariant.
        unsafe { stable_name(self.0) }
    }

    /// The dentry itself.
    pub(crate) fn dentry(&self) -> &DEntry<T> {
        self.0
    }

    /// The parent (stable, see the invariant).
    pub(crate) fn parent(&self) -> ARef<DEntry<T>> {
        self.0.parent()
    }

    /// Makes the (negative) dentry positive with `inode` (`d_instantiate`).
    pub(crate) fn instantiate(&self, inode: ARef<INode<T>>) {
        // SAFETY: the dentry is negative and its parent locked; d_instantiate
        // consumes the inode reference.
        unsafe { bindings::rovl_h_d_instantiate(self.0.as_ptr(), ARef::into_raw(inode).as_ptr().cast()) };
    }
}

impl<T: FileSystem> DEntry<T> {
    /// A copy of the current name into `buf` (through a name snapshot, so
    /// that a concurrent rename cannot tear it); `ENAMETOOLONG` if it does
    /// not fit.
    pub(crate) fn name_copy<'b>(&self, buf: &'b mut [u8; 256]) -> Result<&'b [u8]> {
        // SAFETY: the dentry is valid; `buf` has 256 bytes.
        let len = unsafe { bindings::rovl_h_dentry_name_copy(self.as_ptr(), buf.as_mut_ptr(), 256) };
        buf.get(..len as usize).ok_or_else(super::enametoolong)
    }

    /// Unhashes the dentry (`d_drop`): the next lookup of its name makes a
    /// new one.
    pub(crate) fn drop_hash(&self) {
        // SAFETY: the dentry is valid.
        unsafe { bindings::rovl_h_d_drop(self.as_ptr()) };
    }

    /// Whether this is the root of its tree (`IS_ROOT`).
    pub(crate) fn is_root(&self) -> bool {
        // SAFETY: the dentry is valid.
        unsafe { bindings::rovl_h_is_root(self.as_ptr()) }
    }

    /// An identity of the dentry, for comparisons only.
    pub(crate) fn id(&self) -> usize {
        self.as_ptr() as usize
    }

    /// Whether the dentry is disconnected: obtained from a file handle, not
    /// (yet) known to be reachable from the root (`DCACHE_DISCONNECTED`).
    pub(crate) fn is_disconnected(&self) -> bool {
        // SAFETY: the dentry is valid; a racy read of d_flags as the VFS
        // does.
        let f = unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).d_flags) };
        f & bindings::ROVL_DCACHE_DISCONNECTED != 0
    }

    /// Looks up the child `name` of this directory dentry, without
    /// permission checks and without the directory locked
    /// (`lookup_noperm_unlocked`); the result may be negative.
    pub(crate) fn lookup_child(&self, name: &[u8]) -> Result<ARef<DEntry<T>>> {
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: `self` is a referenced dentry of ours; the name is read
        // during the call only.
        let d = unsafe { bindings::rovl_h_lookup_noperm_unlocked(name.as_ptr(), len, self.as_ptr()) };
        let d = super::nonnull_from_err_ptr(d)?;
        // SAFETY: a referenced dentry of the same file system, ours now.
        Ok(unsafe { ARef::from_raw(d.cast()) })
    }

    /// A dentry of `inode` (`d_obtain_alias`): an existing alias, else a
    /// new disconnected one.  Consumes the inode reference.
    pub(crate) fn obtain_alias(inode: ARef<INode<T>>) -> Result<ARef<DEntry<T>>> {
        let i = ARef::into_raw(inode);
        // SAFETY: d_obtain_alias consumes the inode reference (also on
        // failure) and returns a referenced dentry of the inode's super
        // block, or an error.
        let d = unsafe { bindings::d_obtain_alias(i.as_ptr().cast()) };
        let d = super::nonnull_from_err_ptr(d)?;
        // SAFETY: see above.
        Ok(unsafe { ARef::from_raw(d.cast()) })
    }

    /// Whether the dentry is a directory (`d_is_dir`).
    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: the dentry is valid.
        unsafe { bindings::rovl_h_d_is_dir(self.as_ptr()) }
    }
}

// ---------------------------------------------------------------------------
// Dentry operations.

/// Dentry operations.  Optional methods fill the C table only when
/// implemented.  Which dentries they are called for is chosen per dentry
/// with [`DEntry::set_reval`].
#[vtable]
pub(crate) trait Operations: Sized {
    /// `d_revalidate` (`weak` false) or `d_weak_revalidate` (`weak` true):
    /// `Ok(true)` if the dentry is valid.  `rcu` is set in RCU walk.
    fn revalidate(_dentry: &DEntry<Self>, _rcu: bool, _flags: u32, _weak: bool) -> Result<bool> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `d_real`: the real dentry holding the data (`data`, `D_REAL_DATA`)
    /// or the metadata (`D_REAL_METADATA`) of `dentry`, `None` for
    /// `dentry` itself.  The binding layer passes the answer on through
    /// the real file system's own `d_real`.
    fn real<'a>(_dentry: &'a DEntry<Self>, _data: bool) -> Option<&'a super::real::RealDentry> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const OPS: bindings::dentry_operations = bindings::dentry_operations {
        d_revalidate: if T::HAS_REVALIDATE { Some(d_revalidate::<T>) } else { None },
        d_weak_revalidate: if T::HAS_REVALIDATE { Some(d_weak_revalidate::<T>) } else { None },
        d_real: if T::HAS_REAL { Some(d_real::<T>) } else { None },
        ..super::real::zeroed_dentry_operations()
    };
}

pub(super) fn dentry_ops<T: FileSystem>() -> &'static bindings::dentry_operations {
    &Tables::<T>::OPS
}

unsafe extern "C" fn d_real<T: FileSystem>(dentry: *mut bindings::dentry, ty: bindings::d_real_type) -> *mut bindings::dentry {
    // SAFETY: the VFS passes a referenced dentry of ours.
    let d = unsafe { DEntry::<T>::from_raw(dentry) };
    match T::real(d, ty == bindings::d_real_type_D_REAL_DATA) {
        // SAFETY: the real dentry is pinned by ours (held by its inode or
        // entry) while the caller holds ours; a stacked real file system
        // answers for its own.
        Some(r) => unsafe { bindings::rovl_h_d_real(r.as_ptr(), ty) },
        None => dentry,
    }
}

fn reval_result(r: Result<bool>) -> c_int {
    match r {
        Ok(v) => c_int::from(v),
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn d_revalidate<T: FileSystem>(
    _dir: *mut bindings::inode,
    _name: *const bindings::qstr,
    dentry: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    let rcu = flags & bindings::ROVL_LOOKUP_RCU != 0;
    // SAFETY: the VFS passes a dentry of ours, valid for the call (in RCU
    // walk, for the grace period).
    reval_result(T::revalidate(unsafe { DEntry::<T>::from_raw(dentry) }, rcu, flags, false))
}

unsafe extern "C" fn d_weak_revalidate<T: FileSystem>(dentry: *mut bindings::dentry, flags: c_uint) -> c_int {
    // SAFETY: the VFS passes a referenced dentry of ours.
    reval_result(T::revalidate(unsafe { DEntry::<T>::from_raw(dentry) }, false, flags, true))
}

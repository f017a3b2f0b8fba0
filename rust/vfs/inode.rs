// SPDX-License-Identifier: GPL-2.0

//! Inodes of a file system written on these bindings, their per-inode data and
//! the inode operations.
//!
//! Each inode is an [`INodeWithData`]: the VFS inode, the key it is hashed
//! by in the inode cache, and the file system's `T::INodeData`.  The key is
//! stored apart from the data, so that `iget5_locked`'s `set` (which runs
//! under a spin lock) only stores it; the data is written afterwards through
//! [`NewINode::init`], before the inode is unlocked and visible.  A
//! [`NewINode`] dropped without `init` fails the inode (`iget_failed`).
//!
//! The data is dropped only after an RCU grace period (readers in RCU path
//! walk may still look at it after the inode is destroyed), in process
//! context (dropping it may sleep, e.g. to release references to other
//! file systems' dentries): `free_inode`, called by RCU, pushes the inode
//! onto a lock-free list and, when the list was empty, queues the one work
//! item that drops the data and frees the memory of every inode on it (as
//! `delayed_fput` batches files: one work item per batch of RCU callbacks,
//! not per inode).  [`flush_deferred_frees`] waits for all of them.

use super::bindings;
use super::dentry::{DEntry, Unhashed};
use super::fs::{FileSystem, SuperBlock};
use super::real::{Acl, DelayedCall, Kstat, LinkTarget, Mount, Owner, RealInode};
use super::dentry::Named;
use super::{from_len, from_result, FileType};
use core::ffi::{c_int, c_uint, c_void, CStr};
use kernel::ffi::c_char;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use kernel::sync::aref::{ARef, AlwaysRefCounted};
use kernel::types::Opaque;

/// The memory of one inode: the VFS inode first, then our fields.
#[repr(C)]
pub(super) struct INodeWithData<T: FileSystem> {
    inode: Opaque<bindings::inode>,
    /// The next inode on the list of destroyed inodes ([`FREE_LIST`]);
    /// only used after the inode's RCU grace period.
    free_next: *mut c_void,
    /// The file system's per-inode lock ([`INode::lock`]), initialised
    /// once by the slab constructor.
    lock: Opaque<bindings::mutex>,
    /// The inode cache key (0 for inodes that are not hashed).
    key: usize,
    /// Whether `data` is initialised.
    init: bool,
    data: MaybeUninit<T::INodeData>,
}

/// An inode of file system `T`.
///
/// # Invariants
///
/// The inode is embedded in an [`INodeWithData<T>`] whose data is
/// initialised: references are only handed out for complete inodes.
#[repr(transparent)]
pub(crate) struct INode<T>(Opaque<bindings::inode>, PhantomData<T>);

// SAFETY: inodes are reference counted with ihold/iput, from any thread.
unsafe impl<T> AlwaysRefCounted for INode<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is valid and referenced.
        unsafe { bindings::ihold(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller passes a reference it owns.
        unsafe { bindings::iput(obj.as_ptr().cast()) };
    }
}

// SAFETY: the inode data is `Send + Sync` (required by `FileSystem`), and
// the VFS inode is usable from any thread.
unsafe impl<T> Send for INode<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for INode<T> {}

impl<T: FileSystem> INode<T> {
    /// # Safety
    ///
    /// `ptr` must be a complete inode of `T`, valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::inode {
        self.0.get()
    }

    fn outer(&self) -> *mut INodeWithData<T> {
        // The VFS inode is the first field of the repr(C) INodeWithData.
        self.as_ptr().cast()
    }

    /// Any dentry of this inode (`d_find_any_alias`).
    pub(crate) fn find_any_alias(&self) -> Option<ARef<super::dentry::DEntry<T>>> {
        // SAFETY: the inode is valid; the result is a referenced dentry of
        // ours or NULL.
        let d = unsafe { bindings::d_find_any_alias(self.as_ptr()) };
        // SAFETY: see above; the reference moves to the ARef.
        NonNull::new(d).map(|d| unsafe { ARef::from_raw(d.cast()) })
    }

    /// The file system's data of this inode.
    pub(crate) fn data(&self) -> &T::INodeData {
        // SAFETY: by the type invariant, the data is initialised; it is only
        // dropped when the inode is destroyed.
        unsafe { (*self.outer()).data.assume_init_ref() }
    }

    /// The super block of this inode.
    pub(crate) fn super_block(&self) -> &SuperBlock<T> {
        // SAFETY: an inode pins its super block; `i_sb` never changes.
        unsafe { SuperBlock::from_raw((*self.as_ptr()).i_sb) }
    }

    /// The inode number (`i_ino`).
    pub(crate) fn ino(&self) -> u64 {
        // SAFETY: `i_ino` is set before the inode is published.
        unsafe { (*self.as_ptr()).i_ino as u64 }
    }

    /// The link count (`i_nlink`).
    pub(crate) fn nlink(&self) -> u32 {
        // SAFETY: the inode is valid; `i_nlink` is read with READ_ONCE.
        unsafe { bindings::rovl_h_i_nlink(self.as_ptr()) }
    }

    /// The file type.
    pub(crate) fn file_type(&self) -> FileType {
        // SAFETY: the type bits of `i_mode` never change.
        FileType::of_mode(unsafe { (*self.as_ptr()).i_mode })
    }

    /// `generic_permission` on this inode with the caller's credentials
    /// (mode bits and POSIX ACLs through `get_inode_acl`).
    pub(crate) fn generic_permission(&self, mask: i32) -> Result {
        // SAFETY: `self` is a valid inode; the nop idmap is static.
        kernel::error::to_result(unsafe { bindings::rovl_h_generic_permission(self.as_ptr(), mask) })
    }

    /// Takes the inode's own lock (a mutex the VFS never takes, unlike
    /// `i_rwsem`), killable: `EINTR` if a fatal signal arrives first.
    pub(crate) fn lock(&self) -> Result<INodeLock<'_, T>> {
        // SAFETY: the mutex was initialised by the slab constructor and
        // lives as long as the inode.
        let ret = unsafe { bindings::rovl_h_mutex_lock_killable((*self.outer()).lock.get()) };
        if ret != 0 {
            return Err(Error::from_errno(-bindings::ROVL_EINTR));
        }
        Ok(INodeLock(self))
    }

    /// Takes the VFS lock of the inode (`inode_lock`, `i_rwsem` for
    /// writing); only where the VFS does not hold it already.
    pub(crate) fn lock_vfs(&self) -> INodeVfsLock<'_, T> {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_inode_lock(self.as_ptr()) };
        INodeVfsLock(self)
    }

    /// Copies owner, mode, times and size from `real`, seen through
    /// `mnt`'s idmapping (`ovl_copyattr`).
    pub(crate) fn copy_attr(&self, mnt: &Mount, real: &RealInode) {
        // SAFETY: all three are valid; the helper takes `i_lock`.
        unsafe { bindings::rovl_h_copyattr(self.as_ptr(), mnt.0.as_ptr(), real.as_ptr()) };
    }

    /// Sets the access time to `real`'s.
    pub(crate) fn atime_from(&self, real: &RealInode) {
        // SAFETY: both inodes are valid; times are set as the VFS sets them.
        unsafe { bindings::rovl_h_inode_atime_from(self.as_ptr(), real.as_ptr()) };
    }

    /// Sets the modification and change times to `real`'s.
    pub(crate) fn cmtime_from(&self, real: &RealInode) {
        // SAFETY: both inodes are valid; times are set as the VFS sets them.
        unsafe { bindings::rovl_h_inode_cmtime_from(self.as_ptr(), real.as_ptr()) };
    }

    /// `inc_nlink`.
    pub(crate) fn inc_nlink(&self) {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_inc_nlink(self.as_ptr()) };
    }

    /// Whether the owner of the inode is the caller, or the caller has
    /// `CAP_FOWNER` (`inode_owner_or_capable`).
    pub(crate) fn owner_or_capable(&self) -> bool {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_owner_or_capable(self.as_ptr()) }
    }

    /// Whether setting an access ACL must drop the set-group-ID bit (the
    /// caller is not in the group and may not keep it).
    pub(crate) fn acl_kills_sgid(&self) -> bool {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_acl_kills_sgid(self.as_ptr()) }
    }

    /// The inode flags (`i_flags`, `S_*`).
    pub(crate) fn i_flags(&self) -> u32 {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_i_flags(self.as_ptr()) }
    }

    /// Sets the inode flags in `mask` to `flags` (`inode_set_flags`).
    pub(crate) fn set_i_flags(&self, flags: u32, mask: u32) {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_inode_set_flags(self.as_ptr(), flags, mask) };
    }

    /// Hashes an inode that is not in the inode cache (from
    /// [`SuperBlock::new_inode`]) under `key`, as [`SuperBlock::iget`]
    /// would have (`__insert_inode_hash`); nothing if it is hashed.
    pub(crate) fn hash_as(&self, key: usize) {
        // SAFETY: the inode is valid.  While unhashed, no iget5 test reads
        // its key; the insertion (under the hash lock) publishes it.
        unsafe {
            if bindings::rovl_h_inode_unhashed(self.as_ptr()) {
                (*self.outer()).key = key;
                bindings::rovl_h_insert_inode_hash(self.as_ptr(), key as _);
            }
        }
    }

    /// `drop_nlink`, unless `dentry` is not the inode's only hashed name
    /// and the count would drop to 0.
    pub(crate) fn drop_nlink_unless_aliased(&self, dentry: &DEntry<T>) {
        // SAFETY: both are valid; the helper walks the aliases under i_lock.
        unsafe { bindings::rovl_h_drop_nlink_alias(self.as_ptr(), dentry.as_ptr()) };
    }

    /// `set_nlink`.
    pub(crate) fn set_nlink(&self, n: u32) {
        // SAFETY: the inode is valid.
        unsafe { bindings::set_nlink(self.as_ptr(), n) };
    }

    /// `clear_nlink`.
    pub(crate) fn clear_nlink(&self) {
        // SAFETY: the inode is valid.
        unsafe { bindings::rovl_h_clear_nlink(self.as_ptr()) };
    }

    /// `posix_acl_create` for a new object of `mode` in this directory:
    /// the mode to give it (the umask applied unless the directory has a
    /// default ACL) and its default and access ACLs.
    pub(crate) fn posix_acl_create(&self, mode: u16) -> Result<(u16, Acl, Acl)> {
        let mut m = mode;
        let mut dflt = ptr::null_mut();
        let mut acl = ptr::null_mut();
        // SAFETY: the directory is valid; the outputs are ours.
        let err = unsafe { bindings::rovl_h_posix_acl_create(self.as_ptr(), &mut m, &mut dflt, &mut acl) };
        kernel::error::to_result(err)?;
        // SAFETY: on success, posix_acl_create gave us a reference to each
        // non-NULL ACL.
        Ok((m, unsafe { Acl::from_owned_raw(dflt) }, unsafe { Acl::from_owned_raw(acl) }))
    }

    /// The owner and mode of a new inode that the current task makes in
    /// this directory with `mode` (`inode_init_owner`: the set-group-ID
    /// bit of the directory is inherited).
    pub(crate) fn new_child_owner(&self, mode: u16) -> (u16, Owner) {
        let mut m = mode;
        let mut o = Owner::default();
        // SAFETY: the inode is valid; the outputs are ours.
        unsafe { bindings::rovl_h_init_owner(self.as_ptr(), &mut m, &mut o.uid, &mut o.gid) };
        (m, o)
    }
}

/// The VFS lock of [`INode::lock_vfs`], released on drop.
pub(crate) struct INodeVfsLock<'a, T: FileSystem>(&'a INode<T>);

impl<T: FileSystem> Drop for INodeVfsLock<'_, T> {
    fn drop(&mut self) {
        // SAFETY: taken in `INode::lock_vfs`.
        unsafe { bindings::rovl_h_inode_unlock(self.0.as_ptr()) };
    }
}

/// The per-inode lock of [`INode::lock`], released on drop.
pub(crate) struct INodeLock<'a, T: FileSystem>(&'a INode<T>);

impl<T: FileSystem> Drop for INodeLock<'_, T> {
    fn drop(&mut self) {
        // SAFETY: taken in `INode::lock`.
        unsafe { bindings::rovl_h_mutex_unlock((*self.0.outer()).lock.get()) };
    }
}

/// An inode from [`SuperBlock::iget`]: one from the cache, or a new one.
pub(crate) enum IGet<T: FileSystem> {
    /// An inode that was already in the cache.
    Existing(ARef<INode<T>>),
    /// A new inode, locked, to be initialised.
    New(NewINode<T>),
}

/// A new inode of `T` whose data is not initialised yet.
pub(crate) struct NewINode<T: FileSystem> {
    ptr: NonNull<INodeWithData<T>>,
    /// Obtained from `iget5_locked` (locked, `I_NEW`), not `new_inode`.
    hashed: bool,
}

/// How a new inode is initialised ([`NewINode::init`]).
pub(crate) struct INodeParams<'a> {
    /// The inode whose attributes (mode, owner, times, size, nlink, flags)
    /// are copied.
    pub(crate) attrs_from: &'a RealInode,
    /// `i_ino`.
    pub(crate) ino: u64,
    /// `i_nlink`.
    pub(crate) nlink: u32,
    /// Do not cache POSIX ACLs in the inode: ask `get_inode_acl` each time.
    pub(crate) dont_cache_acl: bool,
    /// Which `i_flags` of `attrs_from` are kept ([`inode_flags`]); the
    /// others (e.g. `S_DAX`, `S_VERITY`, `S_PRIVATE`) belong to the other
    /// file system's inode.
    pub(crate) keep_flags: u32,
    /// `i_flags` set in addition ([`inode_flags`]).
    pub(crate) extra_flags: u32,
}

/// Inode flags (`S_*` of `i_flags`).
pub(crate) mod inode_flags {
    use super::bindings;
    pub(crate) const SYNC: u32 = bindings::ROVL_S_SYNC;
    pub(crate) const NOATIME: u32 = bindings::ROVL_S_NOATIME;
    pub(crate) const APPEND: u32 = bindings::ROVL_S_APPEND;
    pub(crate) const IMMUTABLE: u32 = bindings::ROVL_S_IMMUTABLE;
    pub(crate) const CASEFOLD: u32 = bindings::ROVL_S_CASEFOLD;
}

impl<T: FileSystem> NewINode<T> {
    /// Initialises the inode with `data` and makes it visible.
    pub(crate) fn init(self, p: &INodeParams<'_>, data: T::INodeData) -> ARef<INode<T>> {
        let outer = self.ptr.as_ptr();
        let hashed = self.hashed;
        core::mem::forget(self);
        // SAFETY: the inode is new: locked (I_NEW) or not yet published, so
        // we own all of its fields until unlock_new_inode.
        unsafe {
            (*outer).data.write(data);
            (*outer).init = true;
            let inode = (*outer).inode.get();
            let real = p.attrs_from.as_ptr();
            bindings::fsstack_copy_attr_all(inode, real);
            bindings::fsstack_copy_inode_size(inode, real);
            (*inode).i_ino = p.ino as _;
            bindings::set_nlink(inode, p.nlink);
            bindings::rovl_h_inode_init_flags(inode, p.dont_cache_acl, p.keep_flags, p.extra_flags);
            // Lockdep classes per stacking depth (the mode is set).
            bindings::rovl_h_lockdep_annotate_inode(inode, (*outer).lock.get());
            let mode = (*inode).i_mode;
            match FileType::of_mode(mode) {
                FileType::Dir => {
                    (*inode).i_op = Tables::<T>::dir_iops();
                    bindings::rovl_h_set_fop(inode, super::file::dir_fops::<T>());
                }
                FileType::Reg => {
                    (*inode).i_op = Tables::<T>::file_iops();
                    bindings::rovl_h_set_fop(inode, super::file::reg_fops::<T>());
                    // O_DIRECT opens allowed (do_dentry_open checks direct_IO).
                    bindings::rovl_h_set_reg_aops(inode);
                }
                FileType::Symlink => (*inode).i_op = Tables::<T>::symlink_iops(),
                _ => {
                    (*inode).i_op = Tables::<T>::special_iops();
                    bindings::init_special_inode(inode, mode, (*real).i_rdev);
                }
            }
            if hashed {
                bindings::unlock_new_inode(inode);
            }
            ARef::from_raw(NonNull::new_unchecked(inode.cast::<INode<T>>()))
        }
    }
}

impl<T: FileSystem> Drop for NewINode<T> {
    fn drop(&mut self) {
        // SAFETY: the inode was never initialised (`init` is false, so
        // destroy_inode leaves the data alone); we own its one reference.
        unsafe {
            let inode = (*self.ptr.as_ptr()).inode.get();
            if self.hashed {
                bindings::iget_failed(inode);
            } else {
                bindings::iput(inode);
            }
        }
    }
}

/// The slab cache of `INodeWithData<T>`: one per module (the module
/// registers one file system type).
pub(super) struct INodeCache<T>(PhantomData<T>);

static INODE_CACHE: AtomicPtr<bindings::kmem_cache> = AtomicPtr::new(ptr::null_mut());
static FREE_WQ: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(ptr::null_mut());
/// Destroyed inodes whose data is still to be dropped, linked through
/// `free_next` (a push-only stack emptied whole by [`drop_inodes_work`], so
/// no ABA problem).
static FREE_LIST: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// The work item that empties [`FREE_LIST`].
struct FreeWork(Opaque<bindings::work_struct>);
// SAFETY: the work_struct is only touched through the workqueue API, which
// does its own locking; it is initialised once, before any inode exists.
unsafe impl Sync for FreeWork {}
static FREE_WORK: FreeWork = FreeWork(Opaque::uninit());

/// Waits until the data of every destroyed inode has been dropped.  May
/// sleep; not in RCU read sections.
pub(super) fn flush_deferred_frees() {
    // SAFETY: rcu_barrier waits for pending free_inode callbacks, so every
    // inode destroyed before this call is on FREE_LIST or already freed;
    // the workqueue exists (and the work item is initialised) while the
    // file system is registered.
    unsafe {
        bindings::rcu_barrier();
        let wq = FREE_WQ.load(Ordering::Acquire);
        if !wq.is_null() {
            sweep_and_flush(wq);
        }
    }
}

/// Queues the work item and waits for it.  An inode's free_inode queues
/// the work only when it found the list empty; one that pushed behind an
/// inode of another super block whose free_inode has not queued the work
/// yet (a callback still running, outside the caller's rcu_barrier) would
/// not be waited for by a flush alone.  The work queued here empties the
/// list after the pushes that rcu_barrier waited for (a pending run has
/// not emptied it yet; a running one is queued again).
///
/// # Safety
///
/// `wq` is FREE_WQ, and FREE_WORK is initialised.
unsafe fn sweep_and_flush(wq: *mut bindings::workqueue_struct) {
    // SAFETY: as the caller promises.
    unsafe {
        bindings::rovl_h_queue_work(wq, FREE_WORK.0.get());
        bindings::rovl_h_flush_workqueue(wq);
    }
}

impl<T: FileSystem> INodeCache<T> {
    pub(super) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: the name is a static C string; the constructor only
        // initialises the embedded VFS inode.
        let cache = unsafe {
            bindings::rovl_h_inode_cache_create(
                name.as_ptr().cast(),
                core::mem::size_of::<INodeWithData<T>>() as c_uint,
                Some(inode_ctor::<T>),
            )
        };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: the name is a static C string.
        let wq = unsafe { bindings::rovl_h_alloc_workqueue(name.as_ptr().cast()) };
        if wq.is_null() {
            // SAFETY: the cache is unused.
            unsafe { bindings::kmem_cache_destroy(cache) };
            return Err(ENOMEM);
        }
        if FREE_WQ
            .compare_exchange(ptr::null_mut(), wq, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: both are unused.
            unsafe {
                bindings::destroy_workqueue(wq);
                bindings::kmem_cache_destroy(cache);
            }
            return Err(EBUSY);
        }
        // SAFETY: FREE_WQ was null, so no other cache exists and the work
        // item is idle (the last cache's drop destroyed its workqueue, which
        // waited for it).
        unsafe { bindings::rovl_h_init_work(FREE_WORK.0.get(), Some(drop_inodes_work::<T>)) };
        if INODE_CACHE
            .compare_exchange(ptr::null_mut(), cache, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: the cache is unused.
            unsafe { bindings::kmem_cache_destroy(cache) };
            return Err(EBUSY);
        }
        Ok(INodeCache(PhantomData))
    }
}

impl<T> Drop for INodeCache<T> {
    fn drop(&mut self) {
        // SAFETY: the file system is unregistered and none of its super
        // blocks is left; rcu_barrier waits for the RCU-delayed inode frees,
        // sweep_and_flush for the data drops of the inodes they listed.
        unsafe {
            bindings::rcu_barrier();
            let wq = FREE_WQ.swap(ptr::null_mut(), Ordering::AcqRel);
            sweep_and_flush(wq);
            bindings::destroy_workqueue(wq);
            bindings::kmem_cache_destroy(INODE_CACHE.swap(ptr::null_mut(), Ordering::AcqRel));
        }
    }
}

unsafe extern "C" fn inode_ctor<T: FileSystem>(p: *mut c_void) {
    // SAFETY: the slab calls the constructor on a new object of our cache.
    unsafe {
        let p = p.cast::<INodeWithData<T>>();
        bindings::inode_init_once((*p).inode.get());
        bindings::rovl_h_mutex_init((*p).lock.get());
    }
}

pub(super) unsafe extern "C" fn alloc_inode<T: FileSystem>(
    sb: *mut bindings::super_block,
) -> *mut bindings::inode {
    // SAFETY: the cache exists while the file system is registered.
    let p = unsafe { bindings::rovl_h_alloc_inode_sb(sb, INODE_CACHE.load(Ordering::Acquire)) }
        .cast::<INodeWithData<T>>();
    if p.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `p` is a fresh object; the data is not initialised.
    unsafe {
        (*p).key = 0;
        (*p).init = false;
        (*p).inode.get()
    }
}

pub(super) unsafe extern "C" fn free_inode<T: FileSystem>(inode: *mut bindings::inode) {
    let p = inode.cast::<INodeWithData<T>>();
    let mut head = FREE_LIST.load(Ordering::Relaxed);
    loop {
        // SAFETY: called by RCU after the grace period that follows the
        // inode's destruction: nobody refers to it any more, and
        // `free_next` is ours until the push below publishes it.
        unsafe { (*p).free_next = head };
        match FREE_LIST.compare_exchange_weak(head, p.cast(), Ordering::Release, Ordering::Relaxed) {
            Ok(_) => break,
            Err(h) => head = h,
        }
    }
    // The list was empty: no run of the work item is pending that will
    // take this inode (a pending run empties the list only once started),
    // so queue one.
    if head.is_null() {
        // SAFETY: the work item is initialised and the workqueue exists
        // while the file system is registered (its drop waits for RCU).
        unsafe { bindings::rovl_h_queue_work(FREE_WQ.load(Ordering::Acquire), FREE_WORK.0.get()) };
    }
}

unsafe extern "C" fn drop_inodes_work<T: FileSystem>(_work: *mut bindings::work_struct) {
    let mut p = FREE_LIST.swap(ptr::null_mut(), Ordering::Acquire).cast::<INodeWithData<T>>();
    while !p.is_null() {
        // SAFETY: every inode on the list was pushed by free_inode after
        // its RCU grace period; the swap made the whole list ours.
        unsafe {
            let next = (*p).free_next.cast::<INodeWithData<T>>();
            if (*p).init {
                (*p).init = false;
                (*p).data.assume_init_drop();
            }
            bindings::kmem_cache_free(INODE_CACHE.load(Ordering::Acquire), p.cast());
            bindings::rovl_h_cond_resched();
            p = next;
        }
    }
}

unsafe extern "C" fn inode_test<T: FileSystem>(inode: *mut bindings::inode, data: *mut c_void) -> c_int {
    // SAFETY: called by iget5_locked on our inodes with the hash lock held;
    // `key` is only written by inode_set under the same lock.
    c_int::from(unsafe { (*inode.cast::<INodeWithData<T>>()).key } == data as usize)
}

unsafe extern "C" fn inode_set<T: FileSystem>(inode: *mut bindings::inode, data: *mut c_void) -> c_int {
    // SAFETY: the new inode is private to iget5_locked until unlocked.
    unsafe { (*inode.cast::<INodeWithData<T>>()).key = data as usize };
    0
}

pub(super) fn iget<T: FileSystem>(sb: *mut bindings::super_block, hash: u64, key: usize) -> Result<IGet<T>> {
    // SAFETY: `sb` is a live super block of `T` (callers hold a
    // `SuperBlock<T>` reference); the key is passed by value.
    let inode = unsafe {
        bindings::iget5_locked(sb, hash as _, Some(inode_test::<T>), Some(inode_set::<T>), key as *mut c_void)
    };
    let Some(inode) = NonNull::new(inode) else {
        return Err(ENOMEM);
    };
    // SAFETY: iget5_locked returned a referenced inode.
    if unsafe { bindings::rovl_h_inode_is_new(inode.as_ptr()) } {
        Ok(IGet::New(NewINode { ptr: inode.cast(), hashed: true }))
    } else {
        // SAFETY: not new, so complete (iget5_locked waits for I_NEW to
        // clear, and failed inodes are unhashed); we own the reference.
        Ok(IGet::Existing(unsafe { ARef::from_raw(inode.cast()) }))
    }
}

/// The complete inode with hash `hash` and key `key` in the inode cache,
/// if any (`ilookup5`).
pub(super) fn ilookup<T: FileSystem>(sb: *mut bindings::super_block, hash: u64, key: usize) -> Option<ARef<INode<T>>> {
    // SAFETY: `sb` is a live super block of `T`; the key is passed by value.
    let inode = unsafe { bindings::ilookup5(sb, hash as _, Some(inode_test::<T>), key as *mut c_void) };
    // SAFETY: ilookup5 waits for I_NEW to clear and skips failed inodes, so
    // a returned inode is complete; we own the reference.
    NonNull::new(inode).map(|i| unsafe { ARef::from_raw(i.cast()) })
}

pub(super) fn new_inode<T: FileSystem>(sb: *mut bindings::super_block) -> Result<NewINode<T>> {
    // SAFETY: `sb` is a live super block of `T`.
    let inode = NonNull::new(unsafe { bindings::new_inode(sb) }).ok_or(ENOMEM)?;
    Ok(NewINode { ptr: inode.cast(), hashed: false })
}

// ---------------------------------------------------------------------------
// Inode operations.

/// Inode operations.  Optional methods fill the C tables only when
/// implemented.
#[vtable]
pub(crate) trait Operations: Sized {
    /// Looks up `dentry` in the directory `dir`; `None` for a negative
    /// dentry.
    fn lookup(
        _dir: &INode<Self>,
        _dentry: &Unhashed<'_, Self>,
        _flags: u32,
    ) -> Result<Option<ARef<INode<Self>>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `getattr`.
    fn getattr(_dentry: &DEntry<Self>, _stat: &mut Kstat, _mask: u32, _flags: u32) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `permission`; `mask` may contain `MAY_NOT_BLOCK` (RCU walk).
    fn permission(_inode: &INode<Self>, _mask: i32) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `get_link`; `dentry` is `None` in RCU walk.
    fn get_link(
        _dentry: Option<&DEntry<Self>>,
        _inode: &INode<Self>,
        _done: &mut DelayedCall,
    ) -> Result<LinkTarget> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `listxattr`: into `buf`, or the size needed if `buf` is `None`.
    fn listxattr(_dentry: &DEntry<Self>, _buf: Option<&mut [u8]>) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `get_acl` (for getxattr of the ACL names, getfacl).
    fn get_acl(_dentry: &DEntry<Self>, _acl_type: i32) -> Result<Acl> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `get_inode_acl`.
    fn get_inode_acl(_inode: &INode<Self>, _acl_type: i32, _rcu: bool) -> Result<Acl> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `setattr` (the inode is locked by the VFS).
    fn setattr(_dentry: &DEntry<Self>, _attr: &mut Iattr) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `create`, `mkdir`, `mknod`, `symlink`: makes `dentry` (negative, its
    /// name stable) an object of type and permissions `mode` and
    /// instantiates it ([`Named::instantiate`]).
    fn create(_dir: &INode<Self>, _dentry: &Named<'_, Self>, _mode: u16, _new: NewObject<'_>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `link`: `new` (negative) becomes another name of `old`.
    fn link(_old: &DEntry<Self>, _dir: &INode<Self>, _new: &Named<'_, Self>) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `unlink` (`is_dir` false) and `rmdir` (`is_dir` true).
    fn remove(_dir: &INode<Self>, _dentry: &Named<'_, Self>, _is_dir: bool) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `set_acl` of `acl_type` (`None`: remove it).
    fn set_acl(_dentry: &DEntry<Self>, _acl: Option<&Acl>, _acl_type: i32) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `update_time` of the access time (`atime`) or of the change and
    /// modification times, not waiting if `nowait` (`IOCB_NOWAIT`).
    fn update_time(_inode: &INode<Self>, _atime: bool, _nowait: bool) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fiemap` (regular files): the extents of `len` bytes at `start`.
    fn fiemap(_inode: &INode<Self>, _info: &mut Fiemap, _start: u64, _len: u64) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fileattr_get` (lsattr, `FS_IOC_FSGETXATTR`).
    fn fileattr_get(_dentry: &DEntry<Self>, _fa: &mut FileAttr) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fileattr_set` (chattr, `FS_IOC_FSSETXATTR`).
    fn fileattr_set(_dentry: &DEntry<Self>, _fa: &mut FileAttr) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `rename` with `RENAME_*` `flags`; both parents are locked.
    fn rename(_old: &Named<'_, Self>, _new: &Named<'_, Self>, _flags: u32) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The flags of a `fileattr_get`/`fileattr_set` (`struct file_kattr`).
pub(crate) struct FileAttr(*mut bindings::file_kattr);

impl FileAttr {
    /// The append-only and immutable flags, as inode flags
    /// ([`inode_flags::APPEND`], [`inode_flags::IMMUTABLE`]).
    pub(crate) fn prot_flags(&self) -> u32 {
        // SAFETY: valid for the operation.
        unsafe { bindings::rovl_h_fa_prot(self.0) }
    }

    /// Adds the append-only and immutable flags of inode flags `iflags`.
    pub(crate) fn add_prot_flags(&mut self, iflags: u32) {
        // SAFETY: valid for the operation, ours.
        unsafe { bindings::rovl_h_fa_set_prot(self.0, iflags, true) };
    }

    /// Clears the append-only and immutable flags.
    pub(crate) fn clear_prot_flags(&mut self) {
        // SAFETY: as above.
        unsafe { bindings::rovl_h_fa_set_prot(self.0, 0, false) };
    }

    /// Sets the `FS_SYNC_FL`/`FS_NOATIME_FL` flags (and their
    /// `FS_XFLAG_*` twins) to those of `from`.
    pub(crate) fn copy_sync_noatime(&mut self, from: &FileAttr) {
        // SAFETY: both are valid for the operation; `self` is ours to change.
        unsafe { bindings::rovl_h_fa_copy_sync_noatime(self.0, from.0) };
    }

    /// Whether `FS_SYNC_FL` or `FS_NOATIME_FL` is set.
    pub(crate) fn has_sync_noatime(&self) -> bool {
        // SAFETY: valid for the operation.
        unsafe { bindings::rovl_h_fa_has_sync_noatime(self.0) }
    }

    pub(super) fn as_ptr(&mut self) -> *mut bindings::file_kattr {
        self.0
    }
}

/// A `fiemap` request being filled (`struct fiemap_extent_info`).
pub(crate) struct Fiemap(*mut bindings::fiemap_extent_info);

impl Fiemap {
    pub(super) fn as_ptr(&mut self) -> *mut bindings::fiemap_extent_info {
        self.0
    }
}

/// A `struct file_kattr` of our own (the flags of a real inode, read and
/// written through [`FileAttrBuf::with`]).
pub(crate) struct FileAttrBuf(bindings::file_kattr);

impl FileAttrBuf {
    /// An empty one, asking for the flags (`flags_valid`).
    pub(crate) fn new() -> Self {
        // SAFETY: all-zeroes is a valid file_kattr (no pointers).
        let mut fa: bindings::file_kattr = unsafe { core::mem::zeroed() };
        fa.set_flags_valid(true);
        Self(fa)
    }

    /// `f` with a [`FileAttr`] of this buffer (it cannot outlive the call).
    pub(crate) fn with<R>(&mut self, f: impl FnOnce(&mut FileAttr) -> R) -> R {
        let mut fa = FileAttr(&mut self.0);
        f(&mut fa)
    }
}

/// What kind of object `create` makes.
pub(crate) enum NewObject<'a> {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A device, FIFO or socket with device number `rdev`.
    Node(u32),
    /// A symbolic link to the target.
    Symlink(&'a CStr),
}

/// The attributes a `setattr` changes (`struct iattr`).
pub(crate) struct Iattr(*mut bindings::iattr);

/// `ia_valid` bits (`ATTR_*`).
pub(crate) mod attr {
    use super::bindings;
    pub(crate) const SIZE: u32 = bindings::ROVL_ATTR_SIZE;
    pub(crate) const MODE: u32 = bindings::ROVL_ATTR_MODE;
    pub(crate) const KILL_SUID_SGID: u32 = bindings::ROVL_ATTR_KILL_SUID_SGID;
    pub(crate) const FILE_OPEN: u32 = bindings::ROVL_ATTR_FILE_OPEN;
}

impl Iattr {
    /// The `ATTR_*` bits of what changes.
    pub(crate) fn valid(&self) -> u32 {
        // SAFETY: the iattr is valid for the setattr call.
        unsafe { bindings::rovl_h_iattr_valid(self.0) }
    }

    /// Clears `ATTR_*` bits.
    pub(crate) fn clear(&mut self, bits: u32) {
        // SAFETY: as above; we have it exclusively.
        unsafe { bindings::rovl_h_iattr_clear(self.0, bits) };
    }

    /// `setattr_prepare` on `dentry` (permission and limit checks).
    pub(crate) fn prepare<T: FileSystem>(&mut self, dentry: &DEntry<T>) -> Result {
        // SAFETY: both are valid for the call.
        kernel::error::to_result(unsafe { bindings::rovl_h_setattr_prepare(dentry.as_ptr(), self.0) })
    }

    pub(super) fn as_ptr(&mut self) -> *mut bindings::iattr {
        self.0
    }
}

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const DIR: bindings::inode_operations = bindings::inode_operations {
        lookup: if T::HAS_LOOKUP { Some(lookup::<T>) } else { None },
        create: if T::HAS_CREATE { Some(create::<T>) } else { None },
        mkdir: if T::HAS_CREATE { Some(mkdir::<T>) } else { None },
        mknod: if T::HAS_CREATE { Some(mknod::<T>) } else { None },
        symlink: if T::HAS_CREATE { Some(symlink::<T>) } else { None },
        link: if T::HAS_LINK { Some(link::<T>) } else { None },
        unlink: if T::HAS_REMOVE { Some(unlink::<T>) } else { None },
        rmdir: if T::HAS_REMOVE { Some(rmdir::<T>) } else { None },
        rename: if T::HAS_RENAME { Some(rename::<T>) } else { None },
        tmpfile: if T::HAS_TMPFILE { Some(super::file::tmpfile::<T>) } else { None },
        ..Self::COMMON
    };
    const FILE: bindings::inode_operations = bindings::inode_operations {
        fiemap: if T::HAS_FIEMAP { Some(fiemap::<T>) } else { None },
        ..Self::COMMON
    };
    const SPECIAL: bindings::inode_operations = Self::COMMON;
    const SYMLINK: bindings::inode_operations = bindings::inode_operations {
        get_link: if T::HAS_GET_LINK { Some(get_link::<T>) } else { None },
        permission: None,
        get_inode_acl: None,
        get_acl: None,
        set_acl: None,
        fileattr_get: None,
        fileattr_set: None,
        ..Self::COMMON
    };
    const COMMON: bindings::inode_operations = bindings::inode_operations {
        getattr: if T::HAS_GETATTR { Some(getattr::<T>) } else { None },
        permission: if T::HAS_PERMISSION { Some(permission::<T>) } else { None },
        listxattr: if T::HAS_LISTXATTR { Some(listxattr::<T>) } else { None },
        get_inode_acl: if T::HAS_GET_INODE_ACL { Some(get_inode_acl::<T>) } else { None },
        get_acl: if T::HAS_GET_ACL { Some(get_acl::<T>) } else { None },
        setattr: if T::HAS_SETATTR { Some(setattr::<T>) } else { None },
        set_acl: if T::HAS_SET_ACL { Some(set_acl::<T>) } else { None },
        fileattr_get: if T::HAS_FILEATTR_GET { Some(fileattr_get::<T>) } else { None },
        fileattr_set: if T::HAS_FILEATTR_SET { Some(fileattr_set::<T>) } else { None },
        update_time: if T::HAS_UPDATE_TIME { Some(update_time::<T>) } else { None },
        ..super::real::zeroed_inode_operations()
    };

    fn dir_iops() -> &'static bindings::inode_operations {
        &Self::DIR
    }
    fn file_iops() -> &'static bindings::inode_operations {
        &Self::FILE
    }
    fn special_iops() -> &'static bindings::inode_operations {
        &Self::SPECIAL
    }
    fn symlink_iops() -> &'static bindings::inode_operations {
        &Self::SYMLINK
    }
}

unsafe extern "C" fn lookup<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    flags: c_uint,
) -> *mut bindings::dentry {
    // SAFETY: the VFS calls ->lookup with the parent locked, on a new
    // unhashed dentry whose parent is a positive dentry of ours.
    let (dir_ref, unhashed) = unsafe { (INode::<T>::from_raw(dir), Unhashed::<T>::from_raw(dentry)) };
    let inode = match T::lookup(dir_ref, &unhashed, flags) {
        Ok(Some(i)) => ARef::into_raw(i).as_ptr().cast::<bindings::inode>(),
        Ok(None) => ptr::null_mut(),
        Err(e) => return e.to_ptr(),
    };
    // SAFETY: `dentry` is the new dentry; d_splice_alias consumes the inode
    // reference (NULL makes a negative dentry).
    unsafe { bindings::d_splice_alias(inode, dentry) }
}

unsafe extern "C" fn getattr<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    flags: c_uint,
) -> c_int {
    // SAFETY: the VFS passes a valid path on one of our mounts (so a
    // positive dentry of ours) and the kstat to fill.
    let (dentry, stat) = unsafe { (DEntry::<T>::from_raw((*path).dentry), Kstat::from_raw(stat)) };
    from_result(T::getattr(dentry, stat, request_mask, flags))
}

unsafe extern "C" fn permission<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    inode: *mut bindings::inode,
    mask: c_int,
) -> c_int {
    // SAFETY: the VFS passes one of our inodes; in RCU walk it stays valid
    // for the call (inodes are freed after an RCU grace period).
    from_result(T::permission(unsafe { INode::<T>::from_raw(inode) }, mask))
}

unsafe extern "C" fn get_link<T: FileSystem>(
    dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    done: *mut bindings::delayed_call,
) -> *const c_char {
    // SAFETY: the VFS passes our inode, our dentry (NULL in RCU walk) and
    // its delayed call for the link body.
    let (dentry, inode, done) = unsafe {
        (
            (!dentry.is_null()).then(|| DEntry::<T>::from_raw(dentry)),
            INode::<T>::from_raw(inode),
            DelayedCall::from_raw(done),
        )
    };
    match T::get_link(dentry, inode, done) {
        Ok(l) => l.into_raw(),
        Err(e) => e.to_ptr(),
    }
}

unsafe extern "C" fn listxattr<T: FileSystem>(
    dentry: *mut bindings::dentry,
    list: *mut c_char,
    size: usize,
) -> isize {
    let buf = if list.is_null() || size == 0 {
        None
    } else {
        // SAFETY: the VFS passes a kernel buffer of `size` bytes.
        Some(unsafe { core::slice::from_raw_parts_mut(list.cast::<u8>(), size) })
    };
    // SAFETY: the VFS holds a reference to our positive dentry.
    from_len(T::listxattr(unsafe { DEntry::<T>::from_raw(dentry) }, buf))
}

unsafe extern "C" fn get_inode_acl<T: FileSystem>(
    inode: *mut bindings::inode,
    acl_type: c_int,
    rcu: bool,
) -> *mut bindings::posix_acl {
    // SAFETY: the VFS passes one of our inodes, valid for the call.
    match T::get_inode_acl(unsafe { INode::<T>::from_raw(inode) }, acl_type, rcu) {
        Ok(acl) => acl.into_raw(),
        Err(e) => e.to_ptr(),
    }
}

unsafe extern "C" fn get_acl<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl_type: c_int,
) -> *mut bindings::posix_acl {
    // SAFETY: the VFS passes a referenced positive dentry of ours.
    match T::get_acl(unsafe { DEntry::<T>::from_raw(dentry) }, acl_type) {
        Ok(acl) => acl.into_raw(),
        Err(e) => e.to_ptr(),
    }
}

unsafe extern "C" fn setattr<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> c_int {
    // SAFETY: the VFS passes a referenced positive dentry of ours (its
    // inode locked) and the iattr, ours for the call.
    from_result(T::setattr(unsafe { DEntry::<T>::from_raw(dentry) }, &mut Iattr(attr)))
}

/// Calls `T::create` on the negative `dentry` of locked directory `dir`.
///
/// # Safety
///
/// `dir` must be our directory, locked by the VFS, `dentry` its negative
/// child (name stable while the directory is locked).
unsafe fn do_create<T: FileSystem>(dir: *mut bindings::inode, dentry: *mut bindings::dentry, mode: u16, new: NewObject<'_>) -> c_int {
    // SAFETY: per the contract.
    let (dir, named) = unsafe { (INode::<T>::from_raw(dir), Named::<T>::from_raw(dentry)) };
    from_result(T::create(dir, &named, mode, new))
}

unsafe extern "C" fn create<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    _excl: bool,
) -> c_int {
    // SAFETY: the VFS calls ->create with `dir` locked on its negative child.
    unsafe { do_create::<T>(dir, dentry, mode, NewObject::File) }
}

unsafe extern "C" fn mkdir<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
) -> *mut bindings::dentry {
    // SAFETY: as in `create`; NULL means `dentry` itself was instantiated.
    match unsafe { do_create::<T>(dir, dentry, mode, NewObject::Dir) } {
        0 => ptr::null_mut(),
        e => Error::from_errno(e).to_ptr(),
    }
}

unsafe extern "C" fn mknod<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: bindings::umode_t,
    rdev: bindings::dev_t,
) -> c_int {
    // SAFETY: as in `create`.
    unsafe { do_create::<T>(dir, dentry, mode, NewObject::Node(rdev)) }
}

unsafe extern "C" fn symlink<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const c_char,
) -> c_int {
    // SAFETY: as in `create`; the target is a C string valid for the call.
    unsafe {
        let target = CStr::from_ptr(target.cast());
        do_create::<T>(dir, dentry, bindings::ROVL_S_IFLNK | 0o777, NewObject::Symlink(target))
    }
}

unsafe extern "C" fn link<T: FileSystem>(
    old: *mut bindings::dentry,
    dir: *mut bindings::inode,
    new: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS passes our positive `old`, our directory `dir`
    // (locked) and its negative child `new`.
    let (old, dir, new) = unsafe { (DEntry::<T>::from_raw(old), INode::<T>::from_raw(dir), Named::<T>::from_raw(new)) };
    from_result(T::link(old, dir, &new))
}

unsafe extern "C" fn unlink<T: FileSystem>(dir: *mut bindings::inode, dentry: *mut bindings::dentry) -> c_int {
    // SAFETY: the VFS passes our locked directory and its positive child.
    let (dir, d) = unsafe { (INode::<T>::from_raw(dir), Named::<T>::from_raw(dentry)) };
    from_result(T::remove(dir, &d, false))
}

unsafe extern "C" fn rmdir<T: FileSystem>(dir: *mut bindings::inode, dentry: *mut bindings::dentry) -> c_int {
    // SAFETY: as in `unlink`.
    let (dir, d) = unsafe { (INode::<T>::from_raw(dir), Named::<T>::from_raw(dentry)) };
    from_result(T::remove(dir, &d, true))
}

unsafe extern "C" fn rename<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    _old_dir: *mut bindings::inode,
    old: *mut bindings::dentry,
    _new_dir: *mut bindings::inode,
    new: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    // SAFETY: the VFS holds the rename lock and both parents' locks: the
    // names and parents of both dentries are stable.
    let (old, new) = unsafe { (Named::<T>::from_raw(old), Named::<T>::from_raw(new)) };
    from_result(T::rename(&old, &new, flags))
}

unsafe extern "C" fn set_acl<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl: *mut bindings::posix_acl,
    acl_type: c_int,
) -> c_int {
    // SAFETY: the VFS passes a referenced positive dentry of ours (inode
    // locked) and an ACL it keeps a reference to for the call (or NULL).
    let borrowed = (!acl.is_null()).then(|| unsafe { Acl::borrowed_raw(acl) });
    from_result(T::set_acl(unsafe { DEntry::<T>::from_raw(dentry) }, borrowed.as_ref(), acl_type))
}

unsafe extern "C" fn update_time<T: FileSystem>(inode: *mut bindings::inode, ty: bindings::fs_update_time, flags: c_uint) -> c_int {
    // SAFETY: the VFS passes one of our inodes, referenced for the call.
    let inode = unsafe { INode::<T>::from_raw(inode) };
    from_result(T::update_time(inode, ty == bindings::fs_update_time_FS_UPD_ATIME, flags & bindings::ROVL_IOCB_NOWAIT != 0))
}

unsafe extern "C" fn fiemap<T: FileSystem>(inode: *mut bindings::inode, info: *mut bindings::fiemap_extent_info, start: u64, len: u64) -> c_int {
    // SAFETY: the VFS passes one of our inodes and the request it fills,
    // both valid for the call.
    from_result(T::fiemap(unsafe { INode::<T>::from_raw(inode) }, &mut Fiemap(info), start, len))
}

unsafe extern "C" fn fileattr_get<T: FileSystem>(dentry: *mut bindings::dentry, fa: *mut bindings::file_kattr) -> c_int {
    // SAFETY: the VFS passes a referenced positive dentry of ours and the
    // fileattr to fill.
    from_result(T::fileattr_get(unsafe { DEntry::<T>::from_raw(dentry) }, &mut FileAttr(fa)))
}

unsafe extern "C" fn fileattr_set<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    fa: *mut bindings::file_kattr,
) -> c_int {
    // SAFETY: as above; the inode is locked by the VFS.
    from_result(T::fileattr_set(unsafe { DEntry::<T>::from_raw(dentry) }, &mut FileAttr(fa)))
}

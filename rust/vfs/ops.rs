// SPDX-License-Identifier: GPL-2.0

//! The entry points the VFS calls: file system type, fs_context, super
//! block, inode, dentry, file and xattr operations.
//!
//! Every function here converts the raw arguments into the safe wrappers of
//! [`super`] and calls the overlay logic in [`crate::fs`]; the decisions are
//! made there.  Object ownership:
//!
//! * `fc->fs_private`: a [`MountCtx`] (KBox), freed by `->free`.
//! * `fc->s_fs_info`, then `sb->s_fs_info`: an [`SbInfo`] (KBox), moved to the
//!   super block by `sget_fc`, freed by [`kill_sb`] after the generic
//!   shutdown has evicted all inodes and dentries.
//! * `dentry->d_fsdata`: one reference to the real (layer) dentry, dropped
//!   by [`d_release`]; NULL for negative dentries.
//! * [`RovlInode::real`]: one reference to the real inode, dropped by
//!   [`destroy_inode`].
//! * `file->private_data`: the [`RealFile`] opened on the layer, dropped by
//!   `->release`.

use super::{bindings, Dentry, Inode, InodeKind, Path, RealFile, SbParams};
use crate::fs::{CBuf, MountCtx, ParamError, SbInfo};
use core::ffi::{c_int, c_uint, c_void, CStr};
use kernel::ffi::c_char;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// A static kernel operations table.
#[repr(transparent)]
struct Table<T>(T);
// SAFETY: the tables are immutable after initialisation and only contain
// function pointers and pointers to static data.
unsafe impl<T> Sync for Table<T> {}

/// The file system type, mutable because the VFS links it into its list.
#[repr(transparent)]
struct FsType(core::cell::UnsafeCell<bindings::file_system_type>);
// SAFETY: only the VFS writes the structure, under its own locks, between
// register_filesystem and unregister_filesystem.
unsafe impl Sync for FsType {}

const fn zeroed<T>() -> T {
    // SAFETY: only used for the C operation tables and structures below,
    // for which all-zeroes (NULL pointers, `None`) is the valid default.
    unsafe { core::mem::zeroed() }
}

/// The file system type name: "rovl", or "overlay" in the drop-in build.
#[cfg(not(rovl_dropin))]
pub(crate) const FS_NAME: &CStr = c"rovl";
#[cfg(rovl_dropin)]
pub(crate) const FS_NAME: &CStr = c"overlay";

static FS_TYPE: FsType = FsType(core::cell::UnsafeCell::new(bindings::file_system_type {
    name: FS_NAME.as_ptr().cast(),
    init_fs_context: Some(init_fs_context),
    kill_sb: Some(kill_sb),
    ..zeroed()
}));

static INODE_CACHE: AtomicPtr<bindings::kmem_cache> = AtomicPtr::new(ptr::null_mut());

/// The registration of the file system type; unregisters it on drop.
pub(crate) struct Registration(());

impl Registration {
    /// Creates the inode cache and registers the file system type.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        // SAFETY: the name is a static C string; the constructor only
        // initialises the embedded VFS inode.
        let cache = unsafe {
            bindings::rovl_h_inode_cache_create(
                c"rovl_inode".as_ptr().cast(),
                core::mem::size_of::<RovlInode>() as c_uint,
                Some(inode_ctor),
            )
        };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        INODE_CACHE.store(cache, Ordering::Release);
        // SAFETY: the file system type is not registered yet, so nobody
        // else accesses it.
        unsafe { (*FS_TYPE.0.get()).owner = module.as_ptr().cast() };
        // SAFETY: FS_TYPE is static and fully initialised.
        let ret = unsafe { bindings::register_filesystem(FS_TYPE.0.get()) };
        if ret != 0 {
            // SAFETY: the cache is unused.
            unsafe { bindings::kmem_cache_destroy(cache) };
            INODE_CACHE.store(ptr::null_mut(), Ordering::Release);
            return Err(Error::from_errno(ret));
        }
        Ok(Registration(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.  After unregistering, no new super
        // blocks can appear, and module unload is only possible with none
        // mounted; rcu_barrier waits for the RCU-delayed inode frees.
        unsafe {
            bindings::unregister_filesystem(FS_TYPE.0.get());
            bindings::rcu_barrier();
            bindings::kmem_cache_destroy(INODE_CACHE.swap(ptr::null_mut(), Ordering::AcqRel));
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers to get from raw VFS objects to our data.

fn err_ptr<T>(e: Error) -> *mut T {
    e.to_ptr()
}

/// The [`SbInfo`] of a super block.
///
/// # Safety
///
/// `sb` must be a live rovl super block whose `s_fs_info` is set, and the
/// returned reference must not outlive it.
unsafe fn sb_info<'a>(sb: *mut bindings::super_block) -> &'a SbInfo {
    // SAFETY: per the function's contract, `s_fs_info` is our KBox<SbInfo>,
    // freed only in kill_sb after all users are gone.
    unsafe { &*(*sb).s_fs_info.cast::<SbInfo>() }
}

/// The real (layer) dentry behind one of our positive dentries.
///
/// # Safety
///
/// `dentry` must be a valid rovl dentry, and the returned reference must not
/// outlive the caller's reference to it.
unsafe fn real_dentry<'a>(dentry: *mut bindings::dentry) -> Result<&'a Dentry> {
    // SAFETY: `d_fsdata` is set before the dentry becomes positive, and
    // cleared only by d_release.
    let real = unsafe { (*dentry).d_fsdata }.cast::<bindings::dentry>();
    if real.is_null() {
        return Err(EIO);
    }
    // SAFETY: our dentry holds a reference to the real dentry.
    Ok(unsafe { Dentry::from_raw(real) })
}

/// The real path behind one of our dentries.
///
/// # Safety
///
/// As for [`real_dentry`]; `dentry` must belong to a live rovl super block.
unsafe fn real_path(dentry: *mut bindings::dentry) -> Result<(&'static SbInfo, Path)> {
    // SAFETY: per the contract; `d_sb` is constant.  The 'static lifetime is
    // confined to this module's callbacks, which run while the sb is alive.
    let sbi = unsafe { sb_info((*dentry).d_sb) };
    // SAFETY: per the contract.
    let real = unsafe { real_dentry(dentry) }?;
    Ok((sbi, sbi.real_path(real)))
}

// ---------------------------------------------------------------------------
// fs_context

unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> c_int {
    let ctx = match KBox::new(MountCtx::new(super::param_defaults()), GFP_KERNEL) {
        Ok(c) => c,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: `fc` is the new context; we own fs_private and ops.
    unsafe {
        (*fc).fs_private = KBox::into_raw(ctx).cast();
        (*fc).ops = &FC_OPS.0;
    }
    0
}

static FC_OPS: Table<bindings::fs_context_operations> = Table(bindings::fs_context_operations {
    free: Some(fc_free),
    parse_param: Some(fc_parse_param),
    parse_monolithic: Some(fc_parse_monolithic),
    get_tree: Some(fc_get_tree),
    reconfigure: Some(fc_reconfigure),
    ..zeroed()
});

/// # Safety
///
/// `fc` must be a context initialised by [`init_fs_context`].
unsafe fn mount_ctx<'a>(fc: *mut bindings::fs_context) -> &'a mut MountCtx {
    // SAFETY: fs_private is our MountCtx for the life of the context, and
    // the VFS serialises the context operations.
    unsafe { &mut *(*fc).fs_private.cast::<MountCtx>() }
}

/// Logs "prefix: msg: arg" (parts optional) as an error of the mount:
/// into the fs_context log for fsopen(2) users, else the kernel log.
fn fc_error(fc: *mut bindings::fs_context, prefix: Option<&CStr>, msg: &str, arg: Option<&CStr>) {
    let len = c_int::try_from(msg.len()).unwrap_or(0);
    let cstr = |s: Option<&CStr>| s.map_or(ptr::null(), |s| s.as_ptr().cast());
    // SAFETY: `fc` is valid; `msg` is valid for `len` bytes; `prefix` and
    // `arg` are NULL or NUL-terminated.
    unsafe { bindings::rovl_h_fc_error(fc, cstr(prefix), msg.as_ptr().cast(), len, cstr(arg)) };
}

unsafe extern "C" fn fc_free(fc: *mut bindings::fs_context) {
    // SAFETY: both pointers are ours (see the module documentation) or NULL.
    unsafe {
        let ctx = (*fc).fs_private.cast::<MountCtx>();
        if !ctx.is_null() {
            drop(KBox::from_raw(ctx));
            (*fc).fs_private = ptr::null_mut();
        }
        let sbi = (*fc).s_fs_info.cast::<SbInfo>();
        if !sbi.is_null() {
            drop(KBox::from_raw(sbi));
            (*fc).s_fs_info = ptr::null_mut();
        }
    }
}

unsafe extern "C" fn fc_parse_param(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    // SAFETY: the VFS passes a valid parameter; `key` is a C string.
    let key = unsafe { CStr::from_ptr((*param).key.cast()) };
    // SAFETY: as above; `type_` says which union member is valid.
    let value = unsafe {
        match (*param).type_() {
            bindings::fs_value_type_fs_value_is_flag => None,
            bindings::fs_value_type_fs_value_is_string => {
                let s = (*param).__bindgen_anon_1.string;
                if s.is_null() {
                    None
                } else {
                    Some(CStr::from_ptr(s.cast()))
                }
            }
            _ => {
                fc_error(fc, Some(key), "unsupported parameter type", None);
                return EINVAL.to_errno();
            }
        }
    };
    // SAFETY: `fc` was initialised by init_fs_context.
    let ctx = unsafe { mount_ctx(fc) };
    let reconf = {
        // SAFETY: `fc` is valid.
        let purpose = unsafe { (*fc).purpose() };
        purpose == bindings::fs_context_purpose_FS_CONTEXT_FOR_RECONFIGURE
    };
    match ctx.parse(key.to_bytes(), value.map(CStr::to_bytes), reconf) {
        Ok(()) => 0,
        // Unknown keys go back to the VFS, which handles "source" and
        // reports other unknown parameters.
        Err(ParamError::NoParam) => ENOPARAM.to_errno(),
        Err(ParamError::Invalid(msg, e)) => {
            fc_error(fc, Some(key), msg, None);
            e.to_errno()
        }
    }
}

/// Legacy mount(2) data: split at commas not escaped by a backslash, like
/// overlayfs, so that layer paths may contain escaped commas.
unsafe extern "C" fn fc_parse_monolithic(fc: *mut bindings::fs_context, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the NUL-terminated mount data (or NULL), which the
    // VFS lets us split in place.
    unsafe { bindings::vfs_parse_monolithic_sep(fc, data, Some(next_opt)) }
}

/// The separator callback of [`fc_parse_monolithic`] (`ovl_next_opt`).
unsafe extern "C" fn next_opt(s: *mut *mut c_char) -> *mut c_char {
    // SAFETY: `*s` is NULL or points into the NUL-terminated mount data.
    unsafe {
        let begin = *s;
        if begin.is_null() {
            return ptr::null_mut();
        }
        let opt = CStr::from_ptr(begin.cast()).to_bytes();
        match crate::logic::options::next_opt_end(opt) {
            Some(i) => {
                // `i` is the index of a comma inside the string.
                *begin.add(i) = 0;
                *s = begin.add(i + 1);
            }
            None => *s = ptr::null_mut(),
        }
        begin
    }
}

unsafe extern "C" fn fc_get_tree(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` was initialised by init_fs_context.
    let ctx = unsafe { mount_ctx(fc) };
    let sbi = match ctx.build() {
        Ok(sbi) => sbi,
        Err(e) => {
            fc_error(fc, None, e.msg, e.arg.as_ref().map(CBuf::as_cstr));
            return e.errno.to_errno();
        }
    };
    let sbi = match KBox::new(sbi, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: sget_fc moves s_fs_info into the new super block; until then,
    // fc_free releases it.
    unsafe {
        (*fc).s_fs_info = KBox::into_raw(sbi).cast();
        bindings::get_tree_nodev(fc, Some(fill_super))
    }
}

unsafe extern "C" fn fc_reconfigure(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is valid; `root` is set for reconfiguration.
    let (sb_flags, root) = unsafe { ((*fc).sb_flags, (*fc).root) };
    if root.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: the super block is active during reconfiguration.
    let sbi = unsafe { sb_info((*root).d_sb) };
    match sbi.reconfigure(sb_flags & bindings::ROVL_SB_RDONLY != 0) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn fill_super(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> c_int {
    // SAFETY: sget_fc moved our SbInfo into `s_fs_info`.
    let sbi = unsafe { sb_info(sb) };
    let SbParams { stack_depth, maxbytes, time_gran, read_only } = match sbi.sb_params() {
        Ok(p) => p,
        Err(e) => {
            fc_error(fc, None, e.msg, e.arg.as_ref().map(CBuf::as_cstr));
            return e.errno.to_errno();
        }
    };
    // SAFETY: the super block is new and locked; we own its fields.
    unsafe {
        (*sb).s_magic = bindings::ROVL_OVERLAYFS_SUPER_MAGIC;
        (*sb).s_stack_depth = stack_depth;
        (*sb).s_maxbytes = maxbytes;
        (*sb).s_time_gran = time_gran;
        (*sb).s_op = &SUPER_OPS.0;
        (*sb).s_xattr = XATTR_HANDLERS.0.as_ptr();
        if read_only {
            (*sb).s_flags |= bindings::ROVL_SB_RDONLY as usize;
        }
        bindings::set_default_d_op(sb, &DENTRY_OPS.0);
    }
    let root_real = sbi.lower_root();
    let Some(real_inode) = root_real.inode() else {
        return EIO.to_errno();
    };
    // SAFETY: `sb` is our new super block.
    let inode = match unsafe { get_inode(sb, real_inode) } {
        Ok(i) => i,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: d_make_root consumes the inode reference (also on failure).
    let root = unsafe { bindings::d_make_root(inode) };
    if root.is_null() {
        return ENOMEM.to_errno();
    }
    let real: ARef<Dentry> = root_real.into();
    // SAFETY: the root dentry is ours and not yet visible.
    unsafe {
        (*root).d_fsdata = ARef::into_raw(real).as_ptr().cast();
        (*sb).s_root = root;
    }
    0
}

unsafe extern "C" fn kill_sb(sb: *mut bindings::super_block) {
    // SAFETY: called once by the VFS when the super block dies.  The
    // generic shutdown evicts all our inodes and dentries (dropping their
    // references to the layers) before we free the SbInfo, which owns the
    // layer mounts.
    unsafe {
        let sbi = (*sb).s_fs_info.cast::<SbInfo>();
        bindings::kill_anon_super(sb);
        if !sbi.is_null() {
            drop(KBox::from_raw(sbi));
        }
    }
}

// ---------------------------------------------------------------------------
// super_operations

static SUPER_OPS: Table<bindings::super_operations> = Table(bindings::super_operations {
    alloc_inode: Some(alloc_inode),
    destroy_inode: Some(destroy_inode),
    free_inode: Some(free_inode),
    drop_inode: Some(bindings::inode_just_drop),
    statfs: Some(statfs),
    show_options: Some(show_options),
    ..zeroed()
});

/// The rovl inode: the VFS inode and the real inode it stands for.
#[repr(C)]
struct RovlInode {
    vfs: bindings::inode,
    real: Option<ARef<Inode>>,
}

unsafe extern "C" fn inode_ctor(p: *mut c_void) {
    // SAFETY: the slab calls the constructor on a new RovlInode object.
    unsafe { bindings::inode_init_once(&raw mut (*p.cast::<RovlInode>()).vfs) };
}

/// # Safety
///
/// `inode` must be an inode allocated by [`alloc_inode`].
unsafe fn rovl_inode(inode: *mut bindings::inode) -> *mut RovlInode {
    // `vfs` is the first field of the repr(C) RovlInode.
    inode.cast()
}

unsafe extern "C" fn alloc_inode(sb: *mut bindings::super_block) -> *mut bindings::inode {
    // SAFETY: the cache exists while the file system is registered.
    let ri = unsafe {
        bindings::rovl_h_alloc_inode_sb(sb, INODE_CACHE.load(Ordering::Acquire))
    }
    .cast::<RovlInode>();
    if ri.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `ri` is a fresh object; `real` is not initialised yet.
    unsafe {
        (&raw mut (*ri).real).write(None);
        &raw mut (*ri).vfs
    }
}

unsafe extern "C" fn destroy_inode(inode: *mut bindings::inode) {
    // SAFETY: the inode is ours and dying; nobody else looks at `real`.
    drop(unsafe { (*rovl_inode(inode)).real.take() });
}

unsafe extern "C" fn free_inode(inode: *mut bindings::inode) {
    // SAFETY: RCU-delayed free of an object of our cache; `real` was
    // dropped by destroy_inode.
    unsafe {
        bindings::kmem_cache_free(INODE_CACHE.load(Ordering::Acquire), rovl_inode(inode).cast())
    };
}

unsafe extern "C" fn statfs(dentry: *mut bindings::dentry, buf: *mut bindings::kstatfs) -> c_int {
    // SAFETY: the VFS passes a dentry of a live rovl super block.
    let sbi = unsafe { sb_info((*dentry).d_sb) };
    let path = sbi.real_path(sbi.lower_root());
    match sbi.cred.with(|| path.statfs(buf)) {
        Ok(()) => {
            // SAFETY: `buf` was filled in above.
            unsafe { (*buf).f_type = bindings::ROVL_OVERLAYFS_SUPER_MAGIC as _ };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Writes into a seq_file.
struct SeqWriter(*mut bindings::seq_file);

impl core::fmt::Write for SeqWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: the seq_file is valid during ->show_options; seq_write
        // records overflow in the seq_file itself.
        unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

unsafe extern "C" fn show_options(m: *mut bindings::seq_file, root: *mut bindings::dentry) -> c_int {
    // SAFETY: `root` is the root of a live rovl super block.
    let sbi = unsafe { sb_info((*root).d_sb) };
    // A full seq_file buffer is detected by the seq_file code itself.
    let _ = sbi.show_options(&mut SeqWriter(m));
    0
}

// ---------------------------------------------------------------------------
// Inodes

unsafe extern "C" fn inode_test(inode: *mut bindings::inode, data: *mut c_void) -> c_int {
    // SAFETY: called by iget5_locked on our inodes, with the hash lock held.
    let real = unsafe { &(*rovl_inode(inode)).real };
    c_int::from(real.as_ref().is_some_and(|r| ptr::eq(&**r, data.cast::<Inode>())))
}

unsafe extern "C" fn inode_set(inode: *mut bindings::inode, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the real inode passed to iget5_locked by get_inode,
    // which holds a reference to it, so we can take another one.
    let real = unsafe { &*data.cast::<Inode>() };
    // SAFETY: the new inode is private to iget5_locked until unlocked.
    unsafe { (*rovl_inode(inode)).real = Some(real.into()) };
    0
}

/// Gets (or creates) the rovl inode for a real inode.
///
/// # Safety
///
/// `sb` must be a live rovl super block.
unsafe fn get_inode(sb: *mut bindings::super_block, real: &Inode) -> Result<*mut bindings::inode> {
    // SAFETY: `real` is referenced by the caller for the whole call.
    let inode = unsafe {
        bindings::iget5_locked(
            sb,
            real.ino(),
            Some(inode_test),
            Some(inode_set),
            ptr::from_ref(real).cast_mut().cast(),
        )
    };
    if inode.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: iget5_locked returned a referenced inode.
    if !unsafe { bindings::rovl_h_inode_is_new(inode) } {
        return Ok(inode);
    }
    let rp = real.as_ptr();
    // SAFETY: the inode is new and locked (I_NEW): we initialise it.
    unsafe {
        (*inode).i_ino = (*rp).i_ino;
        bindings::fsstack_copy_attr_all(inode, rp);
        bindings::fsstack_copy_inode_size(inode, rp);
        match real.kind() {
            InodeKind::Dir => {
                (*inode).i_op = &DIR_IOPS.0;
                bindings::rovl_h_set_fop(inode, &DIR_FOPS.0);
            }
            InodeKind::Reg => {
                (*inode).i_op = &FILE_IOPS.0;
                bindings::rovl_h_set_fop(inode, &FILE_FOPS.0);
            }
            InodeKind::Symlink => (*inode).i_op = &SYMLINK_IOPS.0,
            InodeKind::Special => {
                (*inode).i_op = &FILE_IOPS.0;
                bindings::init_special_inode(inode, (*rp).i_mode, (*rp).i_rdev);
            }
        }
        bindings::unlock_new_inode(inode);
    }
    Ok(inode)
}

static DIR_IOPS: Table<bindings::inode_operations> = Table(bindings::inode_operations {
    lookup: Some(lookup),
    getattr: Some(getattr),
    listxattr: Some(listxattr),
    ..zeroed()
});

static FILE_IOPS: Table<bindings::inode_operations> = Table(bindings::inode_operations {
    getattr: Some(getattr),
    listxattr: Some(listxattr),
    ..zeroed()
});

static SYMLINK_IOPS: Table<bindings::inode_operations> = Table(bindings::inode_operations {
    get_link: Some(get_link),
    getattr: Some(getattr),
    listxattr: Some(listxattr),
    ..zeroed()
});

unsafe extern "C" fn lookup(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: c_uint,
) -> *mut bindings::dentry {
    // SAFETY: the VFS calls ->lookup with the parent locked, so `d_parent`
    // is stable and is one of our positive directory dentries.
    let (sb, parent) = unsafe { ((*dir).i_sb, (*dentry).d_parent) };
    // SAFETY: see above.
    let (sbi, real_parent) = match unsafe { real_path(parent) } {
        Ok((sbi, p)) => (sbi, p),
        Err(e) => return err_ptr(e),
    };
    // SAFETY: `dentry` is valid for the call.
    let name = unsafe { Dentry::from_raw(dentry) }.name();
    let real = match sbi.lookup(real_parent.dentry(), name) {
        Ok(Some(real)) => real,
        // SAFETY: a negative dentry: splice with no inode.
        Ok(None) => return unsafe { bindings::d_splice_alias(ptr::null_mut(), dentry) },
        Err(e) => return err_ptr(e),
    };
    let Some(real_inode) = real.inode() else {
        return err_ptr(EIO);
    };
    // SAFETY: `sb` is the live super block of `dir`.
    let inode = match unsafe { get_inode(sb, real_inode) } {
        Ok(i) => i,
        Err(e) => return err_ptr(e),
    };
    // SAFETY: `dentry` is new and not hashed yet; d_fsdata is ours and is
    // set before the dentry becomes positive.  d_splice_alias consumes the
    // inode reference.
    unsafe {
        (*dentry).d_fsdata = ARef::into_raw(real).as_ptr().cast();
        bindings::d_splice_alias(inode, dentry)
    }
}

unsafe extern "C" fn getattr(
    _idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    flags: c_uint,
) -> c_int {
    // SAFETY: the VFS passes a valid path on a rovl mount.
    let dentry = unsafe { (*path).dentry };
    // SAFETY: as above.
    let (sbi, real) = match unsafe { real_path(dentry) } {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    if let Err(e) = sbi.cred.with(|| real.getattr(stat, request_mask, flags)) {
        return e.to_errno();
    }
    // All layers are on one file system (a single lower layer): real inode
    // numbers are unique, so report the overlay's st_dev like overlayfs.
    // SAFETY: `stat` was filled in above; `d_sb` is constant.
    unsafe { (*stat).dev = (*(*dentry).d_sb).s_dev };
    0
}

unsafe extern "C" fn get_link(
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    done: *mut bindings::delayed_call,
) -> *const c_char {
    if dentry.is_null() {
        // RCU walk: the real file system may sleep.
        return err_ptr(ECHILD);
    }
    // SAFETY: the VFS holds a reference to `dentry`.
    let (sbi, real) = match unsafe { real_path(dentry) } {
        Ok(x) => x,
        Err(e) => return err_ptr(e),
    };
    // SAFETY: `done` is the VFS's delayed call for the link body.
    sbi.cred.with(|| unsafe { bindings::vfs_get_link(real.dentry().as_ptr(), done) })
}

unsafe extern "C" fn listxattr(dentry: *mut bindings::dentry, list: *mut c_char, size: usize) -> isize {
    // SAFETY: the VFS holds a reference to `dentry`.
    let (sbi, real) = match unsafe { real_path(dentry) } {
        Ok(x) => x,
        Err(e) => return e.to_errno() as isize,
    };
    let buf = if list.is_null() || size == 0 {
        None
    } else {
        // SAFETY: the VFS passes a kernel buffer of `size` bytes.
        Some(unsafe { core::slice::from_raw_parts_mut(list.cast::<u8>(), size) })
    };
    match sbi.listxattr(real.dentry(), buf) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `vfs_listxattr` on a real dentry, into `buf` (or just the size).
pub(crate) fn real_listxattr(real: &Dentry, buf: Option<&mut [u8]>) -> Result<usize> {
    let (p, len) = match buf {
        Some(b) => (b.as_mut_ptr(), b.len()),
        None => (ptr::null_mut(), 0),
    };
    // SAFETY: `real` is valid; `p` is NULL or valid for `len` bytes.
    super::to_len(unsafe { bindings::vfs_listxattr(real.as_ptr(), p.cast(), len) })
}

/// `vfs_getxattr` on a real dentry of `sbi`'s lower layer.
pub(crate) fn real_getxattr(
    sbi: &SbInfo,
    real: &Dentry,
    name: &CStr,
    buf: Option<&mut [u8]>,
) -> Result<usize> {
    let (p, len) = match buf {
        Some(b) => (b.as_mut_ptr(), b.len()),
        None => (ptr::null_mut(), 0),
    };
    // SAFETY: `real` is valid; `name` is NUL-terminated; `p` is NULL or
    // valid for `len` bytes.
    super::to_len(unsafe {
        bindings::vfs_getxattr(sbi.lower_mnt().idmap(), real.as_ptr(), name.as_ptr().cast(), p.cast(), len)
    })
}

// ---------------------------------------------------------------------------
// Dentries

static DENTRY_OPS: Table<bindings::dentry_operations> = Table(bindings::dentry_operations {
    d_release: Some(d_release),
    ..zeroed()
});

unsafe extern "C" fn d_release(dentry: *mut bindings::dentry) {
    // SAFETY: the dentry is dying; d_fsdata is ours (NULL or an owned
    // reference to the real dentry).
    unsafe {
        if let Some(real) = NonNull::new((*dentry).d_fsdata.cast::<bindings::dentry>()) {
            (*dentry).d_fsdata = ptr::null_mut();
            drop(Dentry::from_owned(real));
        }
    }
}

// ---------------------------------------------------------------------------
// Files

static FILE_FOPS: Table<bindings::file_operations> = Table(bindings::file_operations {
    open: Some(file_open),
    release: Some(file_release),
    llseek: Some(file_llseek),
    read_iter: Some(file_read_iter),
    splice_read: Some(file_splice_read),
    mmap: Some(file_mmap),
    ..zeroed()
});

static DIR_FOPS: Table<bindings::file_operations> = Table(bindings::file_operations {
    open: Some(dir_open),
    release: Some(file_release),
    llseek: Some(file_llseek),
    read: Some(bindings::generic_read_dir),
    iterate_shared: Some(dir_iterate),
    ..zeroed()
});

/// The real file behind one of our open files, and the file's [`SbInfo`].
///
/// # Safety
///
/// `file` must be an open rovl file, and the results must not be used
/// after it is released.
unsafe fn open_file<'a>(file: *mut bindings::file) -> Result<(*mut bindings::file, &'a SbInfo)> {
    // SAFETY: private_data holds our RealFile from open to release; the
    // inode of an open file pins its super block.
    unsafe {
        let real = RealFile::peek_raw((*file).private_data).ok_or(EIO)?;
        Ok((real.as_ptr(), sb_info((*rovl_inode_of_file(file)).i_sb)))
    }
}

/// Opens the real file behind a rovl file being opened, with the mounter's
/// credentials: a backing file for regular files (so that reads and mmap go
/// through the backing-file helpers), a plain file for directories.
///
/// # Safety
///
/// `file` must be a rovl file being opened.
unsafe fn open_real(file: *mut bindings::file, dir: bool) -> c_int {
    // SAFETY: the VFS passes the file being opened, on one of our dentries.
    let (sbi, real) = match unsafe { real_path(bindings::rovl_h_file_dentry(file)) } {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the file is being opened; its flags are stable.
    let flags = unsafe { (*file).f_flags } as c_int;
    let open = || -> Result<RealFile> {
        let Some(real_inode) = real.dentry().inode() else {
            return Err(EIO);
        };
        // SAFETY: valid idmap and inode.
        kernel::error::to_result(unsafe {
            bindings::rovl_h_inode_permission_open(sbi.lower_mnt().idmap(), real_inode.as_ptr(), flags)
        })?;
        let cred = sbi.cred.0.as_ptr();
        // SAFETY: `file` is the user file, `real` a valid path, and `cred`
        // (the mounter's credentials, also the current ones) is valid.
        let f = unsafe {
            if dir {
                bindings::dentry_open(&real.0, flags, cred)
            } else {
                bindings::backing_file_open(file, flags, &real.0, cred)
            }
        };
        super::nonnull_from_err_ptr(f).map(RealFile)
    };
    match sbi.cred.with(open) {
        Ok(real) => {
            // SAFETY: private_data is ours from open to release.
            unsafe { (*file).private_data = real.into_raw() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn file_open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: called by the VFS on a rovl file being opened.
    unsafe { open_real(file, false) }
}

unsafe extern "C" fn dir_open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: called by the VFS on a rovl directory being opened.
    unsafe { open_real(file, true) }
}

unsafe extern "C" fn file_release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: the file is being released; private_data is ours.
    unsafe {
        drop(RealFile::from_raw((*file).private_data));
        (*file).private_data = ptr::null_mut();
    }
    0
}

unsafe extern "C" fn file_llseek(file: *mut bindings::file, offset: i64, whence: c_int) -> i64 {
    // SAFETY: `file` is open; the VFS serialises f_pos users of a file
    // (f_pos_lock), and the real file is private to this file.
    let (real, sbi) = match unsafe { open_file(file) } {
        Ok(x) => x,
        Err(e) => return e.to_errno().into(),
    };
    sbi.cred.with(|| {
        // SAFETY: see above.
        unsafe {
            (*real).f_pos = (*file).f_pos;
            let ret = bindings::vfs_llseek(real, offset, whence);
            (*file).f_pos = (*real).f_pos;
            ret
        }
    })
}

/// # Safety
///
/// `file` must be an open file.
unsafe fn rovl_inode_of_file(file: *mut bindings::file) -> *mut bindings::inode {
    // SAFETY: see the contract.
    unsafe { bindings::rovl_h_file_inode(file) }
}

unsafe extern "C" fn file_accessed(file: *mut bindings::file) {
    // Keep the overlay inode's times in sync with the real inode's, as
    // overlayfs does after reads.
    // SAFETY: the backing-file helpers pass the user (rovl) file.
    unsafe {
        let inode = rovl_inode_of_file(file);
        if let Some(real) = &(*rovl_inode(inode)).real {
            bindings::rovl_h_copy_attr_times(inode, real.as_ptr());
        }
    }
}

fn backing_ctx(sbi: &SbInfo) -> bindings::backing_file_ctx {
    bindings::backing_file_ctx {
        cred: sbi.cred.0.as_ptr(),
        accessed: Some(file_accessed),
        end_write: None,
    }
}

unsafe extern "C" fn file_read_iter(iocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
    // SAFETY: the VFS passes a valid kiocb of an open rovl file.
    let file = unsafe { (*iocb).ki_filp };
    // SAFETY: `file` is the open rovl file of the kiocb.
    let (real, sbi) = match unsafe { open_file(file) } {
        Ok(x) => x,
        Err(e) => return e.to_errno() as isize,
    };
    let mut ctx = backing_ctx(sbi);
    // SAFETY: all pointers are valid for the call.
    unsafe { bindings::backing_file_read_iter(real, iter, iocb, (*iocb).ki_flags, &mut ctx) }
}

unsafe extern "C" fn file_splice_read(
    file: *mut bindings::file,
    ppos: *mut i64,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: the VFS passes an open rovl file.
    let (real, sbi) = match unsafe { open_file(file) } {
        Ok(x) => x,
        Err(e) => return e.to_errno() as isize,
    };
    let mut ctx = backing_ctx(sbi);
    let mut iocb = bindings::kiocb::default();
    // SAFETY: `iocb` is a local kiocb for `file`; `ppos` is the VFS's
    // position, read before and written after the call.
    unsafe {
        bindings::rovl_h_init_sync_kiocb(&mut iocb, file);
        iocb.ki_pos = *ppos;
        let ret = bindings::backing_file_splice_read(real, &mut iocb, pipe, len, flags, &mut ctx);
        *ppos = iocb.ki_pos;
        ret
    }
}

unsafe extern "C" fn file_mmap(file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: the VFS passes an open rovl file.
    let (real, sbi) = match unsafe { open_file(file) } {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    let mut ctx = backing_ctx(sbi);
    // SAFETY: all pointers are valid for the call.
    unsafe { bindings::backing_file_mmap(real, vma, &mut ctx) }
}

unsafe extern "C" fn dir_iterate(file: *mut bindings::file, ctx: *mut bindings::dir_context) -> c_int {
    // SAFETY: the VFS passes an open rovl file.
    let (real, sbi) = match unsafe { open_file(file) } {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    // A directory of a single lower layer is not merged: its entries and
    // their inode numbers are the real directory's (see getattr).
    // SAFETY: iterate_dir takes the real directory's lock and keeps
    // `ctx->pos` in step with the real file's position.
    sbi.cred.with(|| unsafe { bindings::iterate_dir(real, ctx) })
}

// ---------------------------------------------------------------------------
// Extended attributes

static XATTR_HANDLER: Table<bindings::xattr_handler> = Table(bindings::xattr_handler {
    // Catch-all: every name goes through the overlay's own name mapping.
    prefix: c"".as_ptr().cast(),
    get: Some(xattr_get),
    ..zeroed()
});

static XATTR_HANDLERS: Table<[*const bindings::xattr_handler; 2]> =
    Table([&XATTR_HANDLER.0, ptr::null()]);

unsafe extern "C" fn xattr_get(
    _handler: *const bindings::xattr_handler,
    dentry: *mut bindings::dentry,
    _inode: *mut bindings::inode,
    name: *const c_char,
    buffer: *mut c_void,
    size: usize,
) -> c_int {
    // SAFETY: the VFS passes a referenced dentry and a C string name.
    let (sbi, real, name) = match unsafe { real_path(dentry) } {
        Ok((sbi, real)) => (sbi, real, unsafe { CStr::from_ptr(name.cast()) }),
        Err(e) => return e.to_errno(),
    };
    let buf = if buffer.is_null() || size == 0 {
        None
    } else {
        // SAFETY: the VFS passes a kernel buffer of `size` bytes.
        Some(unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) })
    };
    match sbi.getxattr(real.dentry(), name, buf) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

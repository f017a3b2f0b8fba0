// SPDX-License-Identifier: GPL-2.0

//! File system registration, fs_context and super block operations.
//!
//! A file system implements [`FileSystem`] (plus the operation traits of
//! [`crate::vfs::inode`], [`crate::vfs::file`], [`crate::vfs::dentry`]) and
//! registers it with [`Registration`].  Ownership of the C objects:
//!
//! * `fc->fs_private`: a `KBox<T::Context>`, freed by `->free`;
//! * `fc->s_fs_info`, then `sb->s_fs_info`: a `KBox<T::Data>`, moved to the
//!   super block by `sget_fc`, freed by `kill_sb` after the generic shutdown
//!   has evicted all inodes and dentries;
//! * inodes: see [`crate::vfs::inode`]; files: see [`crate::vfs::file`].

use super::bindings;
use super::dentry::{self, DEntry, RevalFlags};
use super::{export, file, xattr};
use super::inode::{self, INode, INodeCache};
use super::{from_result, real};
use core::ffi::{c_int, c_void, CStr};
use kernel::ffi::c_char;
use core::marker::PhantomData;
use core::ptr;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::sync::aref::ARef;
use kernel::types::Opaque;

/// A file system type.
///
/// The associated types hold the file system's state: `Context` while a
/// mount is being configured, `Data` per super block, `INodeData` per inode
/// (and [`file::Operations::FileData`] per open file).
#[vtable]
pub(crate) trait FileSystem:
    Sized + Send + Sync + 'static + inode::Operations + file::Operations + dentry::Operations + xattr::Operations
    + export::Operations
{
    /// The file system type name, as given to mount(2).
    const NAME: &'static CStr;
    /// The fs_context private data.
    type Context: Send;
    /// The per-super-block data.
    type Data: Send + Sync;
    /// The per-inode data.
    type INodeData: Send + Sync;

    /// A new mount context.
    fn init_context() -> Result<Self::Context>;

    /// One mount parameter.  `Err(ENOPARAM)` hands it back to the VFS (which
    /// handles "source" and reports unknown parameters).
    fn parse_param(ctx: &mut Self::Context, param: &Param<'_>, log: &FcLog<'_>) -> Result;

    /// Creates the super block data from the configured context.
    fn get_tree(ctx: &mut Self::Context, log: &FcLog<'_>) -> Result<Self::Data>;

    /// Fills in a new super block and returns its root.
    fn fill_super(sb: &mut SuperBlock<Self, New>, log: &FcLog<'_>) -> Result<Root<Self>>;

    /// Reconfiguration (remount) with the parameters parsed into `ctx`.
    fn reconfigure(sb: &SuperBlock<Self>, ctx: &mut Self::Context, read_only: bool) -> Result;

    /// `statfs(2)`.
    fn statfs(sb: &SuperBlock<Self>, buf: &mut real::StatFs) -> Result;

    /// `sync_fs` (`wait`: the second, waiting pass of syncfs(2)).
    fn sync_fs(_sb: &SuperBlock<Self>, _wait: bool) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// The mount options for `/proc/mounts`.
    fn show_options(sb: &SuperBlock<Self>, seq: &SeqFile) -> Result;

    /// Legacy mount(2) data: the index of the comma that ends the first
    /// option of `s`, if any.  Without it, the data is split at every comma.
    fn option_end(_s: &[u8]) -> Option<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A mount parameter.
pub(crate) struct Param<'a> {
    /// The key.
    pub(crate) key: &'a [u8],
    /// The value, `None` for a flag.
    pub(crate) value: Option<&'a [u8]>,
    /// Whether this is a reconfiguration (remount).
    pub(crate) reconfigure: bool,
    /// Whether the parameter came through the old mount(2) API.
    pub(crate) old_api: bool,
}

/// The error log of a mount (the fs_context log for fsopen(2) users, else
/// the kernel log), and its flags.
pub(crate) struct FcLog<'a>(*mut bindings::fs_context, PhantomData<&'a ()>);

impl FcLog<'_> {
    /// Logs "prefix: msg: arg" (prefix and arg optional) as an error.
    pub(crate) fn error(&self, prefix: Option<&[u8]>, msg: &str, arg: Option<&[u8]>) {
        let part = |s: Option<&[u8]>| match s {
            Some(s) => (s.as_ptr(), c_int::try_from(s.len()).unwrap_or(0)),
            None => (ptr::null(), 0),
        };
        let (p, plen) = part(prefix);
        let (a, alen) = part(arg);
        let (m, mlen) = part(Some(msg.as_bytes()));
        // SAFETY: `self.0` is the live fs_context of the operation this log
        // was made for; each part is NULL or valid for its length.
        unsafe { bindings::rovl_h_fc_error(self.0, p.cast(), plen, m.cast(), mlen, a.cast(), alen) };
    }
}

/// The super block state while it is being filled.
pub(crate) struct New;
/// The super block state once it is live.
pub(crate) struct Ready;

/// A super block of file system `T`.
///
/// # Invariants
///
/// `s_fs_info` points to the `T::Data` of the super block, for its whole
/// life (set before `fill_super`, freed by `kill_sb`).
#[repr(transparent)]
pub(crate) struct SuperBlock<T, S = Ready>(
    Opaque<bindings::super_block>,
    PhantomData<(T, S)>,
);

impl<T: FileSystem, S> SuperBlock<T, S> {
    /// # Safety
    ///
    /// `ptr` must be a super block of `T` in state `S`, valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::super_block) -> &'a Self {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The file system's data of this super block.
    pub(crate) fn data(&self) -> &T::Data {
        // SAFETY: by the type invariant.
        unsafe { &*(*self.as_ptr()).s_fs_info.cast::<T::Data>() }
    }

    /// `s_dev`, the device number of this super block.
    pub(crate) fn dev(&self) -> u32 {
        // SAFETY: `s_dev` is set when the super block is created.
        unsafe { (*self.as_ptr()).s_dev }
    }

    /// Gets the inode with hash `hash` and key `key` from the inode cache,
    /// or a new locked inode to initialise.
    pub(crate) fn iget(&self, hash: u64, key: usize) -> Result<inode::IGet<T>> {
        inode::iget(self.as_ptr(), hash, key)
    }

    /// A new inode that is not in the inode cache.
    pub(crate) fn new_inode(&self) -> Result<inode::NewINode<T>> {
        inode::new_inode(self.as_ptr())
    }

    /// The inode with hash `hash` and key `key` if it is in the inode
    /// cache (`ilookup5`).
    pub(crate) fn ilookup(&self, hash: u64, key: usize) -> Option<ARef<INode<T>>> {
        inode::ilookup(self.as_ptr(), hash, key)
    }
}

impl<T: FileSystem> SuperBlock<T> {
    /// The root dentry (`s_root`).
    pub(crate) fn root(&self) -> &DEntry<T> {
        // SAFETY: a ready super block has its root until it is killed, and
        // `self` borrows the live super block.
        unsafe { DEntry::from_raw((*self.as_ptr()).s_root) }
    }
}

impl<T: FileSystem> SuperBlock<T, New> {
    /// Sets the export operations (`s_export_op`): decodable handles or
    /// only encodable ones.
    pub(crate) fn set_export_ops(&mut self, decode: export::Decode) {
        // SAFETY: the new super block is ours alone; the table is static.
        unsafe { (*self.as_ptr()).s_export_op = export::table::<T>(decode) };
    }

    /// Sets `s_magic`.
    pub(crate) fn set_magic(&mut self, magic: u64) {
        // SAFETY: the new super block is ours alone (sb lock held, not live).
        unsafe { (*self.as_ptr()).s_magic = magic as _ };
    }

    /// Sets `s_maxbytes`.
    pub(crate) fn set_maxbytes(&mut self, v: i64) {
        // SAFETY: as above.
        unsafe { (*self.as_ptr()).s_maxbytes = v };
    }

    /// Sets `s_time_gran`.
    pub(crate) fn set_time_gran(&mut self, v: u32) {
        // SAFETY: as above.
        unsafe { (*self.as_ptr()).s_time_gran = v };
    }

    /// Sets `s_stack_depth`.
    pub(crate) fn set_stack_depth(&mut self, v: i32) {
        // SAFETY: as above.
        unsafe { (*self.as_ptr()).s_stack_depth = v };
    }

    /// Makes the super block read-only.
    pub(crate) fn set_read_only(&mut self) {
        // SAFETY: as above.
        unsafe { (*self.as_ptr()).s_flags |= bindings::ROVL_SB_RDONLY as usize };
    }

    /// Enables POSIX ACLs (`SB_POSIXACL`).
    pub(crate) fn set_posix_acl(&mut self) {
        // SAFETY: as above.
        unsafe { (*self.as_ptr()).s_flags |= bindings::ROVL_SB_POSIXACL as usize };
    }

    /// Sets the super block's UUID (`super_set_uuid`).
    pub(crate) fn set_uuid(&mut self, uuid: &[u8; 16]) {
        // SAFETY: as above; `uuid` has 16 bytes.
        unsafe { bindings::rovl_h_super_set_uuid(self.as_ptr(), uuid.as_ptr()) };
    }

}

/// The root of a new super block, returned by [`FileSystem::fill_super`].
pub(crate) struct Root<T> {
    /// The root inode.
    pub(crate) inode: ARef<INode<T>>,
    /// The root dentry's flags (see [`DEntry::flags`]).
    pub(crate) flags: usize,
    /// Which revalidation operations the root dentry needs.
    pub(crate) reval: RevalFlags,
}

/// The storage of a file system type: a `static`, because lockdep needs
/// the lock class keys embedded in `struct file_system_type` to be in static
/// memory.
#[repr(transparent)]
pub(crate) struct FsTypeStorage(Opaque<bindings::file_system_type>);

// SAFETY: only the VFS writes the structure after registration, under its
// own locks; before it, only `Registration::new` does, once.
unsafe impl Sync for FsTypeStorage {}

impl FsTypeStorage {
    /// An empty file system type, to be filled by [`Registration::new`].
    pub(crate) const fn new() -> Self {
        FsTypeStorage(Opaque::uninit())
    }
}

/// The registration of a file system type; unregisters it on drop.
pub(crate) struct Registration<T: FileSystem> {
    fs_type: &'static FsTypeStorage,
    _cache: INodeCache<T>,
}

// SAFETY: the registration is only dropped (unregister_filesystem), which
// may happen on any thread.
unsafe impl<T: FileSystem> Send for Registration<T> {}
// SAFETY: no method takes `&self`.
unsafe impl<T: FileSystem> Sync for Registration<T> {}

impl<T: FileSystem> Registration<T> {
    /// Creates the inode cache and registers the file system type in
    /// `storage` (which must not be registered already).
    pub(crate) fn new(
        module: &'static ThisModule,
        storage: &'static FsTypeStorage,
        cache_name: &'static CStr,
    ) -> Result<Self> {
        let cache = INodeCache::<T>::new(cache_name)?;
        let fs_type = storage;
        let p = fs_type.0.get();
        // SAFETY: the file system type is not registered (the inode cache,
        // one per module, was created just now, so no registration of this
        // module exists): nobody else accesses it.
        unsafe {
            p.write(bindings::file_system_type::default());
            (*p).name = T::NAME.as_ptr().cast();
            (*p).owner = module.as_ptr().cast();
            (*p).init_fs_context = Some(init_fs_context::<T>);
            (*p).kill_sb = Some(kill_sb::<T>);
        }
        // SAFETY: `p` is static.
        let ret = unsafe { bindings::register_filesystem(p) };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(Registration { fs_type, _cache: cache })
    }
}

impl<T: FileSystem> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `new`.  After unregistering no new super
        // blocks can appear, and module unload is only possible with none
        // mounted; the inode cache is destroyed after this (field order).
        unsafe { bindings::unregister_filesystem(self.fs_type.0.get()) };
    }
}

// ---------------------------------------------------------------------------
// Trampolines.

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const FC_OPS: bindings::fs_context_operations = bindings::fs_context_operations {
        free: Some(fc_free::<T>),
        parse_param: Some(fc_parse_param::<T>),
        parse_monolithic: if T::HAS_OPTION_END { Some(fc_parse_monolithic::<T>) } else { None },
        get_tree: Some(fc_get_tree::<T>),
        reconfigure: Some(fc_reconfigure::<T>),
        dup: None,
    };

    const SUPER_OPS: bindings::super_operations = bindings::super_operations {
        alloc_inode: Some(inode::alloc_inode::<T>),
        free_inode: Some(inode::free_inode::<T>),
        drop_inode: Some(bindings::inode_just_drop),
        statfs: Some(statfs::<T>),
        show_options: Some(show_options::<T>),
        sync_fs: if T::HAS_SYNC_FS { Some(sync_fs::<T>) } else { None },
        ..super::real::zeroed_super_operations()
    };
}

/// The fs_context of a callback.
///
/// # Safety
///
/// `fc` must be a context initialised by [`init_fs_context`] for `T`.
unsafe fn context<'a, T: FileSystem>(fc: *mut bindings::fs_context) -> &'a mut T::Context {
    // SAFETY: fs_private is our context for the life of the fs_context, and
    // the VFS serialises the context operations.
    unsafe { &mut *(*fc).fs_private.cast::<T::Context>() }
}

unsafe extern "C" fn init_fs_context<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    let ctx = match T::init_context().and_then(|c| Ok(KBox::new(c, GFP_KERNEL)?)) {
        Ok(c) => c,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: `fc` is the new context; we own fs_private and ops.
    unsafe {
        (*fc).fs_private = KBox::into_raw(ctx).cast();
        (*fc).ops = &Tables::<T>::FC_OPS;
    }
    0
}

unsafe extern "C" fn fc_free<T: FileSystem>(fc: *mut bindings::fs_context) {
    // SAFETY: both pointers are ours (see the module documentation) or NULL.
    unsafe {
        let ctx = (*fc).fs_private.cast::<T::Context>();
        if !ctx.is_null() {
            drop(KBox::from_raw(ctx));
            (*fc).fs_private = ptr::null_mut();
        }
        let data = (*fc).s_fs_info.cast::<T::Data>();
        if !data.is_null() {
            drop(KBox::from_raw(data));
            (*fc).s_fs_info = ptr::null_mut();
        }
    }
}

unsafe extern "C" fn fc_parse_param<T: FileSystem>(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    let log = FcLog(fc, PhantomData);
    // SAFETY: the VFS passes a valid parameter; `key` is a C string.
    let key = unsafe { CStr::from_ptr((*param).key.cast()) }.to_bytes();
    // SAFETY: as above; `type_` says which union member is valid.
    let value = unsafe {
        match (*param).type_() {
            bindings::fs_value_type_fs_value_is_flag => None,
            bindings::fs_value_type_fs_value_is_string => {
                let s = (*param).__bindgen_anon_1.string;
                if s.is_null() {
                    None
                } else {
                    Some(CStr::from_ptr(s.cast()).to_bytes())
                }
            }
            _ => {
                log.error(Some(key), "unsupported parameter type", None);
                return EINVAL.to_errno();
            }
        }
    };
    // SAFETY: `fc` is valid for the call.
    let (reconfigure, old_api) = unsafe {
        (
            (*fc).purpose() == bindings::fs_context_purpose_FS_CONTEXT_FOR_RECONFIGURE,
            (*fc).oldapi(),
        )
    };
    let p = Param { key, value, reconfigure, old_api };
    // SAFETY: `fc` was initialised by init_fs_context::<T>.
    from_result(T::parse_param(unsafe { context::<T>(fc) }, &p, &log))
}

unsafe extern "C" fn fc_get_tree<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    let log = FcLog(fc, PhantomData);
    // SAFETY: `fc` was initialised by init_fs_context::<T>.
    let data = match T::get_tree(unsafe { context::<T>(fc) }, &log) {
        Ok(d) => d,
        Err(e) => return e.to_errno(),
    };
    let data = match KBox::new(data, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: sget_fc moves s_fs_info into the new super block; until then,
    // fc_free releases it.
    unsafe {
        (*fc).s_fs_info = KBox::into_raw(data).cast();
        bindings::get_tree_nodev(fc, Some(fill_super::<T>))
    }
}

unsafe extern "C" fn fc_reconfigure<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: `fc` is valid; `root` is set for reconfiguration.
    let (sb_flags, root) = unsafe { ((*fc).sb_flags, (*fc).root) };
    if root.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: the super block of a reconfigured mount is live and ours.
    let sb = unsafe { SuperBlock::<T>::from_raw((*root).d_sb) };
    // SAFETY: `fc` was initialised by init_fs_context::<T>.
    let ctx = unsafe { context::<T>(fc) };
    from_result(T::reconfigure(sb, ctx, sb_flags & bindings::ROVL_SB_RDONLY != 0))
}

unsafe extern "C" fn fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> c_int {
    let log = FcLog(fc, PhantomData);
    // SAFETY: the super block is new and locked; sget_fc moved our data
    // into `s_fs_info`.  We own its fields until we return.
    unsafe {
        (*sb).s_op = &Tables::<T>::SUPER_OPS;
        (*sb).s_xattr = xattr::handlers::<T>();
        bindings::set_default_d_op(sb, dentry::dentry_ops::<T>());
    }
    // SAFETY: as above: the super block is in the `New` state, ours alone.
    let new = unsafe { &mut *sb.cast::<SuperBlock<T, New>>() };
    let root = match T::fill_super(new, &log) {
        Ok(r) => r,
        Err(e) => return e.to_errno(),
    };
    let inode = ARef::into_raw(root.inode);
    // SAFETY: d_make_root consumes the inode reference (also on failure).
    let dentry = unsafe { bindings::d_make_root(inode.as_ptr().cast()) };
    if dentry.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: the root dentry is ours and not yet visible.
    unsafe {
        let d = DEntry::<T>::from_raw(dentry);
        d.set_flags(root.flags);
        d.set_reval(root.reval);
        (*sb).s_root = dentry;
    }
    0
}

unsafe extern "C" fn kill_sb<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: called once by the VFS when the super block dies.  The generic
    // shutdown evicts all our inodes and dentries; their data (which may
    // refer to what the super block data owns) is dropped before we free
    // the super block data.
    unsafe {
        let data = (*sb).s_fs_info.cast::<T::Data>();
        bindings::kill_anon_super(sb);
        inode::flush_deferred_frees();
        if !data.is_null() {
            drop(KBox::from_raw(data));
        }
    }
}

unsafe extern "C" fn statfs<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buf: *mut bindings::kstatfs,
) -> c_int {
    // SAFETY: the VFS passes a dentry of a live super block of ours and the
    // kstatfs to fill, both valid for the call.
    let (sb, buf) = unsafe { (SuperBlock::<T>::from_raw((*dentry).d_sb), real::StatFs::from_raw(buf)) };
    from_result(T::statfs(sb, buf))
}

unsafe extern "C" fn show_options<T: FileSystem>(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> c_int {
    // SAFETY: `root` is the root of a live super block of ours; the
    // seq_file is used by this thread only during the call.
    let (sb, seq) = unsafe { (SuperBlock::<T>::from_raw((*root).d_sb), SeqFile::from_raw(m.cast())) };
    from_result(T::show_options(sb, seq))
}

/// The separator callback for `vfs_parse_monolithic_sep`.
unsafe extern "C" fn next_opt<T: FileSystem>(s: *mut *mut c_char) -> *mut c_char {
    // SAFETY: `*s` is NULL or points into the NUL-terminated mount data,
    // which we may split in place.
    unsafe {
        let begin = *s;
        if begin.is_null() {
            return ptr::null_mut();
        }
        let opt = CStr::from_ptr(begin.cast()).to_bytes();
        match T::option_end(opt) {
            Some(i) if i < opt.len() => {
                *begin.add(i) = 0;
                *s = begin.add(i + 1);
            }
            _ => *s = ptr::null_mut(),
        }
        begin
    }
}

unsafe extern "C" fn fc_parse_monolithic<T: FileSystem>(
    fc: *mut bindings::fs_context,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the NUL-terminated mount data (or NULL).
    unsafe { bindings::vfs_parse_monolithic_sep(fc, data, Some(next_opt::<T>)) }
}

unsafe extern "C" fn sync_fs<T: FileSystem>(sb: *mut bindings::super_block, wait: c_int) -> c_int {
    // SAFETY: the VFS passes a live super block of ours.
    from_result(T::sync_fs(unsafe { SuperBlock::<T>::from_raw(sb) }, wait != 0))
}

// SPDX-License-Identifier: GPL-2.0

//! Open files of a file system written on these bindings, file operations and
//! the readdir emitter.
//!
//! `file->private_data` holds a `KBox<T::FileData>` from a successful
//! `->open` to `->release`.

use super::bindings;
use super::dentry::DEntry;
use super::fs::FileSystem;
use super::inode::INode;
use super::{from_len, from_result};
use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicI64, Ordering};
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::types::Opaque;

/// An open file of file system `T`.
///
/// # Invariants
///
/// `private_data` holds the file's `KBox<T::FileData>`.
#[repr(transparent)]
pub(crate) struct File<T>(Opaque<bindings::file>, PhantomData<T>);

impl<T: FileSystem> File<T> {
    /// # Safety
    ///
    /// `ptr` must be an open file of `T` (opened successfully), valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a Self {
        // SAFETY: transparent wrapper; validity per the contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::file {
        self.0.get()
    }

    /// The file system's data of this open file.
    pub(crate) fn data(&self) -> &T::FileData {
        // SAFETY: by the type invariant.
        unsafe { &*(*self.as_ptr()).private_data.cast::<T::FileData>() }
    }

    /// The inode of the file.
    pub(crate) fn inode(&self) -> &INode<T> {
        // SAFETY: an open file pins its inode, a complete inode of ours.
        unsafe { INode::from_raw(bindings::rovl_h_file_inode(self.as_ptr())) }
    }

    /// The dentry of the file.
    pub(crate) fn dentry(&self) -> &DEntry<T> {
        // SAFETY: an open file pins its dentry.
        unsafe { DEntry::from_raw(bindings::rovl_h_file_dentry(self.as_ptr())) }
    }

    /// `file_remove_privs`: drops set-user-ID/set-group-ID bits (and
    /// security.capability) before a change of the data.
    pub(crate) fn remove_privs(&self) -> Result {
        // SAFETY: the file is open.
        kernel::error::to_result(unsafe { bindings::rovl_h_file_remove_privs(self.as_ptr()) })
    }

    /// The open flags (`f_flags`; `F_SETFL` changes some).
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: the file is open; the helper reads f_flags once.
        unsafe { bindings::rovl_h_file_flags(self.as_ptr()) }
    }

    /// `touch_atime` of the file's path (calls the inode's `update_time`).
    pub(crate) fn touch_atime(&self) {
        // SAFETY: the file is open, so is its path.
        unsafe { bindings::rovl_h_file_touch_atime(self.as_ptr()) };
    }

    /// The file position (`f_pos`), read once.
    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: `f_pos` is an aligned loff_t; the VFS serialises its
        // writers (f_pos_lock) and we access it atomically.
        unsafe { AtomicI64::from_ptr(&raw mut (*self.as_ptr()).f_pos) }.load(Ordering::Relaxed)
    }

    /// Sets the file position.
    pub(crate) fn set_pos(&self, pos: i64) {
        // SAFETY: as in `pos`.
        unsafe { AtomicI64::from_ptr(&raw mut (*self.as_ptr()).f_pos) }.store(pos, Ordering::Relaxed)
    }
}

/// A file of `T` being opened (its data does not exist yet).
pub(crate) struct OpeningFile<'a, T>(*mut bindings::file, PhantomData<&'a T>);

impl<T: FileSystem> OpeningFile<'_, T> {
    /// The open flags (`f_flags`).
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: the file being opened is valid; f_flags is stable here.
        unsafe { (*self.0).f_flags }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::file {
        self.0
    }

    /// The dentry the file is opened on.
    pub(crate) fn dentry(&self) -> &DEntry<T> {
        // SAFETY: the file being opened holds its path.
        unsafe { DEntry::from_raw(bindings::rovl_h_file_dentry(self.0)) }
    }
}

/// The `dir_context` of a readdir: emits entries at positions.
pub(crate) struct DirEmitter(*mut bindings::dir_context);

impl DirEmitter {
    /// The position (`ctx->pos`).
    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: the context is valid for the readdir call and ours.
        unsafe { (*self.0).pos }
    }

    /// Sets the position.
    pub(crate) fn set_pos(&mut self, pos: i64) {
        // SAFETY: as above.
        unsafe { (*self.0).pos = pos };
    }

    /// Emits an entry at the current position (`dir_emit`); `false` if the
    /// caller's buffer is full (stop, and do not advance the position).
    pub(crate) fn emit(&mut self, name: &[u8], ino: u64, dtype: u32) -> bool {
        let Ok(len) = c_int::try_from(name.len()) else {
            return false;
        };
        // SAFETY: the context and its actor are valid for the call; the
        // name is valid for `len` bytes.
        unsafe {
            let ctx = self.0;
            match (*ctx).actor {
                Some(actor) => actor(ctx, name.as_ptr().cast(), len, (*ctx).pos, ino, dtype),
                None => false,
            }
        }
    }

    pub(super) fn as_ptr(&mut self) -> *mut bindings::dir_context {
        self.0
    }

    /// Looks `name` up in the directory being read (`lookup_one`, with the
    /// directory locked as it is during readdir): `None` if negative.
    pub(crate) fn lookup_child<T: FileSystem>(
        &mut self,
        dir: &File<T>,
        name: &[u8],
    ) -> Result<Option<ARef<DEntry<T>>>> {
        let len = u32::try_from(name.len()).map_err(|_| super::enametoolong())?;
        // SAFETY: a DirEmitter exists only during ->iterate_shared of `dir`,
        // which holds the directory's lock; `name` is valid for `len` bytes.
        let d = unsafe { bindings::rovl_h_lookup_one(dir.dentry().as_ptr(), name.as_ptr().cast(), len) };
        let d = super::nonnull_from_err_ptr(d)?;
        // SAFETY: lookup_one returned a referenced dentry of `dir`'s file
        // system, positive or negative.
        let d: ARef<DEntry<T>> = unsafe { ARef::from_raw(d.cast()) };
        Ok(d.inode().is_some().then_some(d))
    }
}

/// A read of `read_iter`: the kiocb and the destination iterator.
pub(crate) struct ReadIo(pub(super) *mut bindings::kiocb, pub(super) *mut bindings::iov_iter);
/// A `splice_read`: position, pipe, length and flags.
pub(crate) struct SpliceIo {
    pub(super) ppos: *mut i64,
    pub(super) pipe: *mut bindings::pipe_inode_info,
    pub(super) len: usize,
    pub(super) flags: c_uint,
}
/// A `write_iter`: the kiocb and the data.
pub(crate) struct WriteIo(pub(super) *mut bindings::kiocb, pub(super) *mut bindings::iov_iter);

impl WriteIo {
    /// The number of bytes to write.
    pub(crate) fn count(&self) -> usize {
        // SAFETY: the iterator is valid for the call.
        unsafe { bindings::rovl_h_iov_iter_count(self.1) }
    }
}

/// What [`Operations::copy_file`] does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyOp {
    /// `copy_file_range`.
    Copy = 0,
    /// A clone (`FICLONE`, `FICLONERANGE`).
    Clone = 1,
    /// A dedupe (`FIDEDUPERANGE`).
    Dedupe = 2,
}

/// `REMAP_FILE_DEDUP`, `REMAP_FILE_ADVISORY`.
pub(crate) const REMAP_FILE_DEDUP: u32 = bindings::ROVL_REMAP_FILE_DEDUP;
pub(crate) const REMAP_FILE_ADVISORY: u32 = bindings::ROVL_REMAP_FILE_ADVISORY;

/// A memory mapping being set up by `mmap`.
pub(crate) struct Vma(pub(super) *mut bindings::vm_area_struct);

/// File operations (regular files and directories).  Optional methods fill
/// the C tables only when implemented.
#[vtable]
pub(crate) trait Operations: Sized {
    /// The per-open-file data.
    type FileData: Send + Sync;

    /// Opens `file`; returns its data.
    fn open(inode: &INode<Self>, file: &OpeningFile<'_, Self>) -> Result<Self::FileData>;

    /// Called when the file is released, before its data is dropped.
    fn release(_file: &File<Self>) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `llseek`: returns the new position.
    fn llseek(_file: &File<Self>, _offset: i64, _whence: i32) -> Result<i64> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `read_iter`.
    fn read_iter(_file: &File<Self>, _io: &mut ReadIo) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `splice_read`.
    fn splice_read(_file: &File<Self>, _io: &mut SpliceIo) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `mmap`.
    fn mmap(_file: &File<Self>, _vma: &mut Vma) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `iterate_shared` (directories).
    fn iterate(_file: &File<Self>, _emitter: &mut DirEmitter) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called by the backing-file helpers after an access through `file`
    /// (to update its times from the backing file).
    fn accessed(_file: &File<Self>) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Called by the backing-file helpers at the end of a write through
    /// `file`.
    fn end_write(_file: &File<Self>) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `write_iter` (the file's inode is not locked).
    fn write_iter(_file: &File<Self>, _io: &mut WriteIo) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `splice_write`.
    fn splice_write(_file: &File<Self>, _io: &mut SpliceIo) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fsync` of the range `start..=end`.
    fn fsync(_file: &File<Self>, _start: i64, _end: i64, _datasync: bool) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `tmpfile` in directory `dir`: an unnamed file of `mode` for `file`
    /// (being opened): its inode and the file's data.
    fn tmpfile(_dir: &INode<Self>, _file: &OpeningFile<'_, Self>, _mode: u16) -> Result<(ARef<INode<Self>>, Self::FileData)> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `copy_file_range` (`op` [`CopyOp::Copy`]) and `remap_file_range`
    /// (clone or dedupe) from `file_in` to `file_out`, both ours.
    fn copy_file(
        _file_in: &File<Self>,
        _pos_in: i64,
        _file_out: &File<Self>,
        _pos_out: i64,
        _len: i64,
        _flags: u32,
        _op: CopyOp,
    ) -> Result<i64> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fallocate`.
    fn fallocate(_file: &File<Self>, _mode: i32, _offset: i64, _len: i64) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `flush` (at each close of a file descriptor) by lock owner `id`.
    fn flush(_file: &File<Self>, _id: LockOwner) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fadvise` (`posix_fadvise` advice `advice` on `len` bytes at
    /// `offset`).
    fn fadvise(_file: &File<Self>, _offset: i64, _len: i64, _advice: i32) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Regular files take leases (`F_SETLEASE`) as local files do
    /// (`generic_setlease`).
    const LEASES: bool = false;
}

/// The lock owner of a `flush` (`fl_owner_t`), passed on as it is.
#[derive(Clone, Copy)]
pub(crate) struct LockOwner(bindings::fl_owner_t);

impl LockOwner {
    pub(super) fn as_raw(self) -> bindings::fl_owner_t {
        self.0
    }
}

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const REG: bindings::file_operations = bindings::file_operations {
        open: Some(open::<T>),
        release: Some(release::<T>),
        llseek: if T::HAS_LLSEEK { Some(llseek::<T>) } else { None },
        read_iter: if T::HAS_READ_ITER { Some(read_iter::<T>) } else { None },
        splice_read: if T::HAS_SPLICE_READ { Some(splice_read::<T>) } else { None },
        mmap: if T::HAS_MMAP { Some(mmap::<T>) } else { None },
        write_iter: if T::HAS_WRITE_ITER { Some(write_iter::<T>) } else { None },
        splice_write: if T::HAS_SPLICE_WRITE { Some(splice_write::<T>) } else { None },
        fsync: if T::HAS_FSYNC { Some(fsync::<T>) } else { None },
        fallocate: if T::HAS_FALLOCATE { Some(fallocate::<T>) } else { None },
        copy_file_range: if T::HAS_COPY_FILE { Some(copy_file_range::<T>) } else { None },
        remap_file_range: if T::HAS_COPY_FILE { Some(remap_file_range::<T>) } else { None },
        flush: if T::HAS_FLUSH { Some(flush::<T>) } else { None },
        fadvise: if T::HAS_FADVISE { Some(fadvise::<T>) } else { None },
        setlease: if T::LEASES { Some(bindings::rovl_h_generic_setlease) } else { None },
        ..super::real::zeroed_file_operations()
    };
    const DIR: bindings::file_operations = bindings::file_operations {
        open: Some(open::<T>),
        release: Some(release::<T>),
        llseek: if T::HAS_LLSEEK { Some(llseek::<T>) } else { None },
        read: Some(bindings::generic_read_dir),
        iterate_shared: if T::HAS_ITERATE { Some(iterate::<T>) } else { None },
        fsync: if T::HAS_FSYNC { Some(fsync::<T>) } else { None },
        ..super::real::zeroed_file_operations()
    };
}

pub(super) fn reg_fops<T: FileSystem>() -> &'static bindings::file_operations {
    &Tables::<T>::REG
}

pub(super) fn dir_fops<T: FileSystem>() -> &'static bindings::file_operations {
    &Tables::<T>::DIR
}

unsafe extern "C" fn open<T: FileSystem>(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    let opening = OpeningFile::<T>(file, PhantomData);
    // SAFETY: the VFS passes our inode and the file being opened on it.
    let data = match T::open(unsafe { INode::<T>::from_raw(inode) }, &opening) {
        Ok(d) => d,
        Err(e) => return e.to_errno(),
    };
    match KBox::new(data, GFP_KERNEL) {
        Ok(b) => {
            // SAFETY: private_data is ours from open to release.
            unsafe { (*file).private_data = KBox::into_raw(b).cast() };
            0
        }
        Err(_) => ENOMEM.to_errno(),
    }
}

unsafe extern "C" fn release<T: FileSystem>(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    if T::HAS_RELEASE {
        // SAFETY: the file is being released, but still open: its data is
        // set (open succeeded).
        T::release(unsafe { File::<T>::from_raw(file) });
    }
    // SAFETY: the file is being released; private_data is our KBox.
    unsafe {
        let p = (*file).private_data.cast::<T::FileData>();
        (*file).private_data = ptr::null_mut();
        if !p.is_null() {
            drop(KBox::from_raw(p));
        }
    }
    0
}

unsafe extern "C" fn llseek<T: FileSystem>(file: *mut bindings::file, offset: i64, whence: c_int) -> i64 {
    // SAFETY: the VFS passes an open file of ours.
    match T::llseek(unsafe { File::<T>::from_raw(file) }, offset, whence) {
        Ok(p) => p,
        Err(e) => e.to_errno().into(),
    }
}

unsafe extern "C" fn read_iter<T: FileSystem>(iocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
    // SAFETY: the VFS passes a valid kiocb of an open file of ours.
    let file = unsafe { File::<T>::from_raw((*iocb).ki_filp) };
    from_len(T::read_iter(file, &mut ReadIo(iocb, iter)))
}

unsafe extern "C" fn splice_read<T: FileSystem>(
    file: *mut bindings::file,
    ppos: *mut i64,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: the VFS passes an open file of ours.
    let f = unsafe { File::<T>::from_raw(file) };
    from_len(T::splice_read(f, &mut SpliceIo { ppos, pipe, len, flags }))
}

unsafe extern "C" fn mmap<T: FileSystem>(file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: the VFS passes an open file of ours.
    from_result(T::mmap(unsafe { File::<T>::from_raw(file) }, &mut Vma(vma)))
}

unsafe extern "C" fn iterate<T: FileSystem>(file: *mut bindings::file, ctx: *mut bindings::dir_context) -> c_int {
    // SAFETY: the VFS passes an open directory of ours and its context.
    from_result(T::iterate(unsafe { File::<T>::from_raw(file) }, &mut DirEmitter(ctx)))
}

/// The `accessed` callback of the backing-file helpers.
pub(super) unsafe extern "C" fn accessed<T: FileSystem>(file: *mut bindings::file) {
    if T::HAS_ACCESSED {
        // SAFETY: the backing-file helpers pass the user file, an open
        // file of ours.
        T::accessed(unsafe { File::<T>::from_raw(file) });
    }
}

/// The `end_write` callback of the backing-file helpers.
pub(super) unsafe extern "C" fn end_write<T: FileSystem>(iocb: *mut bindings::kiocb, _ret: isize) {
    if T::HAS_END_WRITE {
        // SAFETY: the backing-file helpers pass the kiocb of the user file,
        // an open file of ours.
        T::end_write(unsafe { File::<T>::from_raw((*iocb).ki_filp) });
    }
}

unsafe extern "C" fn write_iter<T: FileSystem>(iocb: *mut bindings::kiocb, iter: *mut bindings::iov_iter) -> isize {
    // SAFETY: the VFS passes a valid kiocb of an open file of ours.
    let file = unsafe { File::<T>::from_raw((*iocb).ki_filp) };
    from_len(T::write_iter(file, &mut WriteIo(iocb, iter)))
}

unsafe extern "C" fn splice_write<T: FileSystem>(
    pipe: *mut bindings::pipe_inode_info,
    file: *mut bindings::file,
    ppos: *mut i64,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: the VFS passes an open file of ours.
    let f = unsafe { File::<T>::from_raw(file) };
    from_len(T::splice_write(f, &mut SpliceIo { ppos, pipe, len, flags }))
}

unsafe extern "C" fn fsync<T: FileSystem>(file: *mut bindings::file, start: i64, end: i64, datasync: c_int) -> c_int {
    // SAFETY: the VFS passes an open file of ours.
    from_result(T::fsync(unsafe { File::<T>::from_raw(file) }, start, end, datasync != 0))
}

unsafe extern "C" fn fallocate<T: FileSystem>(file: *mut bindings::file, mode: c_int, offset: i64, len: i64) -> kernel::ffi::c_long {
    // SAFETY: the VFS passes an open file of ours.
    from_result(T::fallocate(unsafe { File::<T>::from_raw(file) }, mode, offset, len)) as kernel::ffi::c_long
}

unsafe extern "C" fn flush<T: FileSystem>(file: *mut bindings::file, id: bindings::fl_owner_t) -> c_int {
    // SAFETY: the VFS passes an open file of ours.
    from_result(T::flush(unsafe { File::<T>::from_raw(file) }, LockOwner(id)))
}

unsafe extern "C" fn fadvise<T: FileSystem>(file: *mut bindings::file, offset: i64, len: i64, advice: c_int) -> c_int {
    // SAFETY: the VFS passes an open file of ours.
    from_result(T::fadvise(unsafe { File::<T>::from_raw(file) }, offset, len, advice))
}

/// The `->tmpfile` inode operation (directories): see
/// [`Operations::tmpfile`].
pub(super) unsafe extern "C" fn tmpfile<T: FileSystem>(
    _idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    file: *mut bindings::file,
    mode: bindings::umode_t,
) -> c_int {
    let opening = OpeningFile::<T>(file, PhantomData);
    // SAFETY: the VFS passes our directory (locked) and the file being
    // opened on a new unhashed dentry in it.
    let (inode, data) = match T::tmpfile(unsafe { INode::<T>::from_raw(dir) }, &opening, mode) {
        Ok(r) => r,
        Err(e) => return e.to_errno(),
    };
    let data = match KBox::new(data, GFP_KERNEL) {
        Ok(b) => KBox::into_raw(b),
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: the helper gives the inode reference to the dentry and sets
    // private_data before opening; without FMODE_OPENED `release` is not
    // called, so the data is ours to free then.
    unsafe {
        let ret = bindings::rovl_h_finish_tmpfile(file, ARef::into_raw(inode).as_ptr().cast(), data.cast());
        if !bindings::rovl_h_file_opened(file) {
            (*file).private_data = ptr::null_mut();
            drop(KBox::from_raw(data));
        }
        ret
    }
}

unsafe extern "C" fn copy_file_range<T: FileSystem>(
    file_in: *mut bindings::file,
    pos_in: i64,
    file_out: *mut bindings::file,
    pos_out: i64,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: the VFS calls ->copy_file_range of file_out's operations only
    // when file_in has the same operations: both are open files of ours.
    let (fi, fo) = unsafe { (File::<T>::from_raw(file_in), File::<T>::from_raw(file_out)) };
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    match T::copy_file(fi, pos_in, fo, pos_out, len, flags, CopyOp::Copy) {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

unsafe extern "C" fn remap_file_range<T: FileSystem>(
    file_in: *mut bindings::file,
    pos_in: i64,
    file_out: *mut bindings::file,
    pos_out: i64,
    len: i64,
    remap_flags: c_uint,
) -> i64 {
    // SAFETY: the VFS remaps only within one super block: both files are
    // open files of ours.
    let (fi, fo) = unsafe { (File::<T>::from_raw(file_in), File::<T>::from_raw(file_out)) };
    let op = if remap_flags & REMAP_FILE_DEDUP != 0 { CopyOp::Dedupe } else { CopyOp::Clone };
    match T::copy_file(fi, pos_in, fo, pos_out, len, remap_flags, op) {
        Ok(n) => n,
        Err(e) => e.to_errno().into(),
    }
}

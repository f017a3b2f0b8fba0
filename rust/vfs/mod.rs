// SPDX-License-Identifier: GPL-2.0

//! The VFS binding layer: a generic, safe interface to the Linux VFS for a
//! file system written in safe Rust.
//!
//! These bindings know nothing about the file system built on it.  It follows
//! the shape of the Rust VFS abstractions proposed for the kernel (a
//! [`fs::FileSystem`] trait with associated per-super-block, per-inode and
//! per-file data types, a typed [`fs::SuperBlock`] with a distinct state
//! while it is being filled, [`inode::INode`], an unhashed dentry that alone
//! offers its name in `->lookup`, a directory emitter for readdir) and of the
//! kernel crate (`ARef`, `Opaque`, `Credential`, `SeqFile`).
//!
//! * [`fs`]: registration, fs_context and super block operations;
//! * [`inode`]: inodes of the file system, their data and operations;
//! * [`dentry`]: dentries of the file system and their operations;
//! * [`export`]: file handles (export operations);
//! * [`file`]: open files of the file system, their operations, readdir;
//! * [`real`]: objects of *other* file systems reached by a stacking file
//!   system (paths, private mounts, dentries, inodes, files, credentials);
//! * [`write`]: changing other file systems (directory entries under their
//!   parent's lock, xattrs, modes), file handles, exclusive use of inodes;
//! * `bindings`: bindgen output and one-line C helpers (`helpers.c`).
//!
//! Every `extern "C"` function here only converts its arguments, calls a
//! trait method and converts the result.  All `unsafe` code of the module
//! lives under this directory.

mod bindings;
pub(crate) mod dentry;
pub(crate) mod export;
pub(crate) mod file;
pub(crate) mod fs;
pub(crate) mod inode;
pub(crate) mod real;
pub(crate) mod write;
pub(crate) mod xattr;

use core::ptr::NonNull;
use kernel::error::from_err_ptr;
use kernel::prelude::*;

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

/// Converts a `Result<usize>` into a `ssize_t`-style return value.
fn from_len(r: Result<usize>) -> isize {
    match r {
        Ok(n) => isize::try_from(n).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

/// Converts a `Result` into an `int` return value.
fn from_result(r: Result) -> core::ffi::c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// A module parameter of type `bool`, by name (declared in C, see
/// `rust/module_params.c`); `None` if there is no such parameter.
pub(crate) fn module_param_bool(name: &CStr) -> Option<bool> {
    let mut val = false;
    // SAFETY: `name` is NUL-terminated; `val` is written on success only.
    let found = unsafe { bindings::rovl_module_param_bool(name.as_ptr().cast(), &mut val) };
    found.then_some(val)
}

/// Errno values the kernel crate does not name.
macro_rules! errnos {
    ($($name:ident = $c:ident,)*) => {$(
        #[doc = concat!("`", stringify!($c), "` (as `-", stringify!($c), "` without the `ROVL_` prefix).")]
        pub(crate) fn $name() -> Error {
            Error::from_errno(-bindings::$c)
        }
    )*};
}

errnos! {
    eopnotsupp = ROVL_EOPNOTSUPP,
    enametoolong = ROVL_ENAMETOOLONG,
    estale = ROVL_ESTALE,
    eremote = ROVL_EREMOTE,
    enodata = ROVL_ENODATA,
    eloop = ROVL_ELOOP,
    echild = ROVL_ECHILD,
    exdev = ROVL_EXDEV,
    enotempty = ROVL_ENOTEMPTY,
    emlink = ROVL_EMLINK,
}

/// The maximum stacking depth of file systems (`FILESYSTEM_MAX_STACK_DEPTH`).
pub(crate) const MAX_STACK_DEPTH: i32 = bindings::ROVL_FILESYSTEM_MAX_STACK_DEPTH;
/// `S_IFMT`: the file type bits of a mode.
pub(crate) const S_IFMT: u16 = bindings::ROVL_S_IFMT;
/// `S_IFDIR`: the mode of a directory, without permissions.
pub(crate) const S_IFDIR: u16 = bindings::ROVL_S_IFDIR;
/// `S_IFREG`: the mode of a regular file, without permissions.
pub(crate) const S_IFREG: u16 = bindings::ROVL_S_IFREG;
/// `S_ISGID`.
pub(crate) const S_ISGID: u16 = bindings::ROVL_S_ISGID;
/// `S_IFLNK`: the mode of a symbolic link, without permissions.
pub(crate) const S_IFLNK_MODE: u16 = bindings::ROVL_S_IFLNK;
/// `DT_UNKNOWN`: a directory entry of unknown type.
pub(crate) const DT_UNKNOWN: u32 = bindings::ROVL_DT_UNKNOWN;

/// `capable(CAP_SYS_ADMIN)` of the current task.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_capable(bindings::ROVL_CAP_SYS_ADMIN, false) }
}

/// `ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN)` of the current task.
pub(crate) fn capable_sys_admin_noaudit() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_capable(bindings::ROVL_CAP_SYS_ADMIN, true) }
}

/// `capable(CAP_DAC_READ_SEARCH)` of the current task.
pub(crate) fn capable_dac_read_search() -> bool {
    // SAFETY: no preconditions.
    unsafe { bindings::rovl_h_capable(bindings::ROVL_CAP_DAC_READ_SEARCH, false) }
}

/// Permission mask bits (`MAY_*`).
pub(crate) mod may {
    use super::bindings;
    pub(crate) const WRITE: i32 = bindings::ROVL_MAY_WRITE;
    pub(crate) const READ: i32 = bindings::ROVL_MAY_READ;
    pub(crate) const APPEND: i32 = bindings::ROVL_MAY_APPEND;
    pub(crate) const OPEN: i32 = bindings::ROVL_MAY_OPEN;
}

/// The file type bits of a mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FileType {
    Dir,
    Reg,
    Symlink,
    Chr,
    Blk,
    Fifo,
    Sock,
    /// No valid type bits.
    Unknown,
}

impl FileType {
    /// The type of mode `mode`.
    pub(crate) fn of_mode(mode: u16) -> FileType {
        match u32::from(mode) & u32::from(bindings::ROVL_S_IFMT) {
            m if m == u32::from(bindings::ROVL_S_IFDIR) => FileType::Dir,
            m if m == u32::from(bindings::ROVL_S_IFREG) => FileType::Reg,
            m if m == u32::from(bindings::ROVL_S_IFLNK) => FileType::Symlink,
            m if m == u32::from(bindings::ROVL_S_IFCHR) => FileType::Chr,
            m if m == u32::from(bindings::ROVL_S_IFBLK) => FileType::Blk,
            m if m == u32::from(bindings::ROVL_S_IFIFO) => FileType::Fifo,
            m if m == u32::from(bindings::ROVL_S_IFSOCK) => FileType::Sock,
            _ => FileType::Unknown,
        }
    }

}

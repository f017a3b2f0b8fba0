// SPDX-License-Identifier: GPL-2.0

//! Extended attribute operations: one catch-all handler (empty prefix), so
//! that every name reaches the file system's own name mapping.

use super::bindings;
use super::dentry::DEntry;
use super::fs::FileSystem;
use super::inode::INode;
use core::ffi::{c_int, c_void, CStr};
use kernel::ffi::c_char;
use core::marker::PhantomData;
use core::ptr;
use kernel::prelude::*;

/// Extended attribute operations.
#[vtable]
pub(crate) trait Operations: Sized {
    /// `getxattr` of `name` (the full name): into `buf`, or the size needed
    /// if `buf` is `None`.
    fn xattr_get(
        _dentry: &DEntry<Self>,
        _inode: &INode<Self>,
        _name: &CStr,
        _buf: Option<&mut [u8]>,
    ) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `setxattr` of `name` to `value`, or `removexattr` (`value` `None`),
    /// with `XATTR_CREATE`/`XATTR_REPLACE` `flags`.
    fn xattr_set(
        _dentry: &DEntry<Self>,
        _inode: &INode<Self>,
        _name: &CStr,
        _value: Option<&[u8]>,
        _flags: i32,
    ) -> Result {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const HANDLER: bindings::xattr_handler = bindings::xattr_handler {
        name: ptr::null(),
        prefix: c"".as_ptr().cast(),
        flags: 0,
        list: None,
        get: if T::HAS_XATTR_GET { Some(get::<T>) } else { None },
        set: if T::HAS_XATTR_SET { Some(set::<T>) } else { None },
    };
    const HANDLERS: [*const bindings::xattr_handler; 2] = [&Self::HANDLER, ptr::null()];
}

/// The `s_xattr` array of `T`.
pub(super) fn handlers<T: FileSystem>() -> *const *const bindings::xattr_handler {
    let h: &'static [*const bindings::xattr_handler; 2] = &Tables::<T>::HANDLERS;
    h.as_ptr()
}

unsafe extern "C" fn get<T: FileSystem>(
    _handler: *const bindings::xattr_handler,
    dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const c_char,
    buffer: *mut c_void,
    size: usize,
) -> c_int {
    let buf = if buffer.is_null() || size == 0 {
        None
    } else {
        // SAFETY: the VFS passes a kernel buffer of `size` bytes.
        Some(unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), size) })
    };
    // SAFETY: the VFS passes a referenced dentry of ours, its inode, and a
    // C string name.
    let r = unsafe {
        T::xattr_get(DEntry::<T>::from_raw(dentry), INode::<T>::from_raw(inode), CStr::from_ptr(name.cast()), buf)
    };
    match r {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn set<T: FileSystem>(
    _handler: *const bindings::xattr_handler,
    _idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const c_char,
    buffer: *const c_void,
    size: usize,
    flags: c_int,
) -> c_int {
    let value = if buffer.is_null() {
        None
    } else if size == 0 {
        Some(&[][..])
    } else {
        // SAFETY: the VFS passes a kernel buffer of `size` bytes.
        Some(unsafe { core::slice::from_raw_parts(buffer.cast::<u8>(), size) })
    };
    // SAFETY: the VFS passes a referenced dentry of ours, its inode (locked),
    // and a C string name.
    let r = unsafe {
        T::xattr_set(DEntry::<T>::from_raw(dentry), INode::<T>::from_raw(inode), CStr::from_ptr(name.cast()), value, flags)
    };
    super::from_result(r)
}

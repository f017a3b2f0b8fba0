// SPDX-License-Identifier: GPL-2.0

//! Export operations (`struct export_operations`): file handles of a file
//! system written on these bindings, for `name_to_handle_at(2)`,
//! `open_by_handle_at(2)`, fanotify and the NFS server.
//!
//! A file system implements [`Operations`] and picks one of two tables for
//! a super block with [`super::fs::SuperBlock::set_export_ops`]: handles
//! that can be decoded ([`Decode::Yes`]: all operations), or handles that
//! only identify an object ([`Decode::No`]: `encode_fh` alone, as fanotify
//! needs).

use super::bindings;
use super::dentry::DEntry;
use super::fs::{FileSystem, SuperBlock};
use super::inode::INode;
use core::ffi::c_int;
use kernel::ffi::c_char;
use core::marker::PhantomData;
use core::ptr;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// `FILEID_INVALID`: the type `encode_fh` returns when it cannot encode.
const FILEID_INVALID: c_int = 0xff;

/// Which export operations a super block offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decode {
    /// Handles are encoded and decoded (`fh_to_dentry`, ...).
    Yes,
    /// Handles are only encoded (a non-decodable file id).
    No,
}

/// An encoded file handle: its length in bytes and its type.
pub(crate) struct Encoded {
    /// The length in bytes (a multiple of 4 in the VFS's words).
    pub(crate) len: usize,
    /// The file handle type (`fh_type`), never `FILEID_INVALID`.
    pub(crate) fh_type: u8,
}

/// Export operations.
#[vtable]
pub(crate) trait Operations: Sized {
    /// `encode_fh`: encodes a handle of `inode` into `buf` if it fits and
    /// returns its length and type (the binding layer tells the caller the
    /// length it needs when it does not fit).  `connectable`: the caller
    /// asks for a handle with the parent.
    fn encode_fh(_inode: &INode<Self>, _buf: &mut [u8], _connectable: bool) -> Result<Encoded> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fh_to_dentry`: the dentry a handle (`fid`, its words as bytes, of
    /// type `fh_type`) names; `None`: stale.
    fn fh_to_dentry(_sb: &SuperBlock<Self>, _fid: &[u8], _fh_type: i32) -> Result<Option<ARef<DEntry<Self>>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `fh_to_parent`: the parent named by a connectable handle.
    fn fh_to_parent(_sb: &SuperBlock<Self>, _fid: &[u8], _fh_type: i32) -> Result<Option<ARef<DEntry<Self>>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `get_parent`: the parent of a directory dentry.
    fn get_parent(_child: &DEntry<Self>) -> Result<ARef<DEntry<Self>>> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// `get_name`: the name of `child` in `parent`, copied into `name`
    /// (`NAME_MAX` + 1 bytes); returns its length.
    fn get_name(_parent: &DEntry<Self>, _child: &DEntry<Self>, _name: &mut [u8]) -> Result<usize> {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

struct Tables<T>(PhantomData<T>);

impl<T: FileSystem> Tables<T> {
    const DECODE: bindings::export_operations = bindings::export_operations {
        encode_fh: if T::HAS_ENCODE_FH { Some(encode_fh::<T>) } else { None },
        fh_to_dentry: if T::HAS_FH_TO_DENTRY { Some(fh_to_dentry::<T>) } else { None },
        fh_to_parent: if T::HAS_FH_TO_PARENT { Some(fh_to_parent::<T>) } else { None },
        get_name: if T::HAS_GET_NAME { Some(get_name::<T>) } else { None },
        get_parent: if T::HAS_GET_PARENT { Some(get_parent::<T>) } else { None },
        ..zeroed_export_operations()
    };

    const FID: bindings::export_operations = bindings::export_operations {
        encode_fh: if T::HAS_ENCODE_FH { Some(encode_fh::<T>) } else { None },
        ..zeroed_export_operations()
    };
}

const fn zeroed_export_operations() -> bindings::export_operations {
    // SAFETY: an all-zero `export_operations` is valid: every field is an
    // optional function pointer or an integer.
    unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
}

/// The table for `decode`.
pub(super) fn table<T: FileSystem>(decode: Decode) -> &'static bindings::export_operations {
    match decode {
        Decode::Yes => &Tables::<T>::DECODE,
        Decode::No => &Tables::<T>::FID,
    }
}

unsafe extern "C" fn encode_fh<T: FileSystem>(
    inode: *mut bindings::inode,
    fh: *mut u32,
    max_len: *mut c_int,
    parent: *mut bindings::inode,
) -> c_int {
    // SAFETY: the VFS passes a referenced inode of ours and `*max_len`
    // words at `fh`.
    let (inode, words) = unsafe { (INode::<T>::from_raw(inode), *max_len) };
    let buflen = usize::try_from(words).unwrap_or(0) * 4;
    // SAFETY: `fh` has `buflen` bytes, ours for the call (it may be NULL
    // with a length of 0 when the caller asks for the size).
    let buf: &mut [u8] = if fh.is_null() || buflen == 0 {
        &mut []
    } else {
        unsafe { core::slice::from_raw_parts_mut(fh.cast::<u8>(), buflen) }
    };
    match T::encode_fh(inode, buf, !parent.is_null()) {
        Ok(e) => {
            // SAFETY: `max_len` is valid (above).
            unsafe { *max_len = e.len.div_ceil(4) as c_int };
            if e.len > buflen || c_int::from(e.fh_type) == FILEID_INVALID {
                FILEID_INVALID
            } else {
                c_int::from(e.fh_type)
            }
        }
        Err(_) => FILEID_INVALID,
    }
}

fn to_dentry_ptr<T: FileSystem>(r: Result<Option<ARef<DEntry<T>>>>) -> *mut bindings::dentry {
    match r {
        Ok(Some(d)) => ARef::into_raw(d).as_ptr().cast(),
        Ok(None) => ptr::null_mut(),
        Err(e) => e.to_ptr(),
    }
}

/// The handle words of a `fh_to_*` call as bytes.
///
/// # Safety
///
/// `fid` must point to `fh_len` words valid for `'a`.
unsafe fn fid_bytes<'a>(fid: *mut bindings::fid, fh_len: c_int) -> &'a [u8] {
    let len = usize::try_from(fh_len).unwrap_or(0) * 4;
    if fid.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { core::slice::from_raw_parts(fid.cast::<u8>(), len) }
}

/// The decoding method of a `fh_to_*` operation.
type FhTo<T> = fn(&SuperBlock<T>, &[u8], i32) -> Result<Option<ARef<DEntry<T>>>>;

/// A `fh_to_*` call with its arguments converted.
///
/// # Safety
///
/// `sb` must be a live super block of `T`, `fid` point to `fh_len` words.
unsafe fn fh_to<T: FileSystem>(
    sb: *mut bindings::super_block,
    fid: *mut bindings::fid,
    fh_len: c_int,
    fh_type: c_int,
    f: FhTo<T>,
) -> *mut bindings::dentry {
    // SAFETY: per the contract.
    let (sb, fid) = unsafe { (SuperBlock::<T>::from_raw(sb), fid_bytes(fid, fh_len)) };
    to_dentry_ptr(f(sb, fid, fh_type))
}

unsafe extern "C" fn fh_to_dentry<T: FileSystem>(
    sb: *mut bindings::super_block,
    fid: *mut bindings::fid,
    fh_len: c_int,
    fh_type: c_int,
) -> *mut bindings::dentry {
    // SAFETY: the VFS passes a live super block of ours and `fh_len` words
    // of handle.
    unsafe { fh_to(sb, fid, fh_len, fh_type, T::fh_to_dentry) }
}

unsafe extern "C" fn fh_to_parent<T: FileSystem>(
    sb: *mut bindings::super_block,
    fid: *mut bindings::fid,
    fh_len: c_int,
    fh_type: c_int,
) -> *mut bindings::dentry {
    // SAFETY: as in fh_to_dentry.
    unsafe { fh_to(sb, fid, fh_len, fh_type, T::fh_to_parent) }
}

unsafe extern "C" fn get_parent<T: FileSystem>(child: *mut bindings::dentry) -> *mut bindings::dentry {
    // SAFETY: the VFS passes a referenced dentry of ours.
    let child = unsafe { DEntry::<T>::from_raw(child) };
    to_dentry_ptr(T::get_parent(child).map(Some))
}

unsafe extern "C" fn get_name<T: FileSystem>(
    parent: *mut bindings::dentry,
    name: *mut c_char,
    child: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS passes referenced dentries of ours and a buffer of
    // NAME_MAX + 1 bytes.
    let (parent, child, buf) = unsafe {
        (
            DEntry::<T>::from_raw(parent),
            DEntry::<T>::from_raw(child),
            core::slice::from_raw_parts_mut(name.cast::<u8>(), bindings::ROVL_NAME_MAX as usize + 1),
        )
    };
    match T::get_name(parent, child, buf) {
        // The name is NUL-terminated within the buffer.
        Ok(len) => match buf.get_mut(len) {
            Some(nul) => {
                *nul = 0;
                0
            }
            None => super::enametoolong().to_errno(),
        },
        Err(e) => e.to_errno(),
    }
}

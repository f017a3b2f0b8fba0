// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the overlay's operations (`fs/overlayfs/util.c`).

#![forbid(unsafe_code)]

use super::super_::{Layer, OvlFs};
use crate::logic::errno::Errno;
use crate::logic::xattr::{OvlXattr, XattrNs};
use crate::vfs::write::WriteAccess;
use crate::vfs::real::RealDentry;
use crate::vfs::FileType;
use core::ffi::CStr;
use kernel::prelude::*;

/// The overlay's magic number (`OVERLAYFS_SUPER_MAGIC`), for statfs.
pub(crate) const OVERLAYFS_SUPER_MAGIC: u64 = 0x794c_7630;

/// A NUL-terminated byte string owned by the module (a path or a name).
pub(crate) struct CBuf(KVec<u8>);

impl CBuf {
    /// Copies `bytes` and appends a NUL; refuses embedded NULs.
    pub(crate) fn new(bytes: &[u8]) -> Result<CBuf> {
        if bytes.contains(&0) {
            return Err(EINVAL);
        }
        let mut v = KVec::with_capacity(bytes.len() + 1, GFP_KERNEL)?;
        v.extend_from_slice(bytes, GFP_KERNEL)?;
        v.push(0, GFP_KERNEL)?;
        Ok(CBuf(v))
    }

    /// A copy.
    pub(crate) fn try_clone(&self) -> Result<CBuf> {
        CBuf::new(self.bytes())
    }

    /// The bytes without the terminating NUL.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.split_last().map_or(&[], |(_, b)| b)
    }

    /// The string as a C string.
    pub(crate) fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"")
    }
}

/// `ovl_dentry_weird`: an object the overlay does not stack (automount
/// points, objects that are neither directories nor files nor symlinks,
/// custom name hashing or comparison outside case-folding file systems).
/// `has_encoding`: the dentry's file system has a case-folding encoding.
pub(crate) fn dentry_weird(d: &RealDentry, has_encoding: bool) -> bool {
    if !d.can_lookup() && !d.is_file_or_symlink() {
        return true;
    }
    if d.is_managed() {
        return true;
    }
    if has_encoding {
        return false;
    }
    d.has_custom_names()
}

/// Concatenates byte strings into a new buffer.
pub(crate) fn concat(parts: &[&[u8]]) -> Result<KVec<u8>> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
    for p in parts {
        v.extend_from_slice(p, GFP_KERNEL)?;
    }
    Ok(v)
}

/// Maps an errno named by the pure-logic modules to a kernel error.
pub(crate) fn errno(e: Errno) -> Error {
    match e {
        Errno::Inval => EINVAL,
        Errno::NoData => crate::vfs::enodata(),
        Errno::Stale => crate::vfs::estale(),
        Errno::Io => EIO,
        Errno::Range => ERANGE,
        Errno::Acces => EACCES,
        Errno::NameTooLong => crate::vfs::enametoolong(),
        Errno::Overflow => EOVERFLOW,
    }
}

/// The full name of overlay xattr `ox` in the mount's name space, as a C
/// string, in `buf`.
pub(crate) fn xattr_name<'a>(ns: XattrNs, ox: OvlXattr, buf: &'a mut [u8; 32]) -> &'a CStr {
    let prefix = ns.prefix();
    let suffix = ox.suffix().as_bytes();
    let n = prefix.len() + suffix.len();
    let mut parts = Iterator::chain(Iterator::chain(prefix.iter(), suffix), &[0u8]);
    if n >= buf.len() {
        return c"";
    }
    for b in buf.iter_mut() {
        *b = parts.next().copied().unwrap_or(0);
    }
    CStr::from_bytes_until_nul(buf.as_slice()).unwrap_or(c"")
}

impl OvlFs {
    /// Reads overlay xattr `ox` of `dentry` on `layer` into `buf`
    /// (`ovl_getxattr`), with the mounter's credentials (the caller holds
    /// them).  `Ok(None)` if absent or unsupported.
    pub(crate) fn getxattr_ovl(
        &self,
        layer: &Layer,
        dentry: &RealDentry,
        ox: OvlXattr,
        buf: Option<&mut [u8]>,
    ) -> Result<Option<usize>> {
        let mut name = [0u8; 32];
        let name = xattr_name(self.xattr_ns(), ox, &mut name);
        match layer.mnt.getxattr(dentry, name, buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e == crate::vfs::enodata() || e == crate::vfs::eopnotsupp() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads a whole overlay xattr value (`ovl_getxattr_value`): `Ok(None)`
    /// if absent.
    pub(crate) fn getxattr_value(&self, layer: &Layer, dentry: &RealDentry, ox: OvlXattr) -> Result<Option<KVec<u8>>> {
        // Try a small buffer first: most values (opaque, redirect names)
        // are short; ERANGE means a longer value.
        let mut small = [0u8; 256];
        match self.getxattr_ovl(layer, dentry, ox, Some(&mut small)) {
            Ok(None) => return Ok(None),
            Ok(Some(n)) => {
                let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
                v.extend_from_slice(small.get(..n).ok_or(EIO)?, GFP_KERNEL)?;
                return Ok(Some(v));
            }
            Err(e) if e == ERANGE => {}
            Err(e) => return Err(e),
        }
        let Some(n) = self.getxattr_ovl(layer, dentry, ox, None)? else {
            return Ok(None);
        };
        let mut v = KVec::from_elem(0u8, n, GFP_KERNEL)?;
        match self.getxattr_ovl(layer, dentry, ox, Some(&mut v))? {
            Some(m) if m <= v.len() => {
                v.truncate(m);
                Ok(Some(v))
            }
            Some(_) => Err(EIO),
            None => Ok(None),
        }
    }

    /// Whether overlay xattr `ox` exists on `dentry` (`ovl_path_check_*`).
    pub(crate) fn has_xattr(&self, layer: &Layer, dentry: &RealDentry, ox: OvlXattr) -> bool {
        matches!(self.getxattr_ovl(layer, dentry, ox, None), Ok(Some(_)))
    }

    /// `ovl_check_setxattr`: sets the overlay xattr `ox` on the upper
    /// `dentry`; without xattr support on the upper layer, `Ok` (and
    /// nothing is stored).
    pub(crate) fn check_setxattr(&self, wa: &WriteAccess<'_>, dentry: &RealDentry, ox: OvlXattr, value: &[u8]) -> Result {
        self.check_setxattr_xerr(wa, dentry, ox, value, None)
    }

    /// `ovl_check_setxattr` with its `xerr`: what to return (`None`: `Ok`)
    /// when the upper layer has no xattr support.
    pub(crate) fn check_setxattr_xerr(
        &self,
        wa: &WriteAccess<'_>,
        dentry: &RealDentry,
        ox: OvlXattr,
        value: &[u8],
        xerr: Option<Error>,
    ) -> Result {
        use core::sync::atomic::Ordering;
        let xres = || match xerr {
            Some(e) => Err(e),
            None => Ok(()),
        };
        if self.noxattr.load(Ordering::Relaxed) {
            return xres();
        }
        let mut name = [0u8; 32];
        let name = xattr_name(self.xattr_ns(), ox, &mut name);
        match wa.setxattr(dentry, name, value, 0) {
            Err(e) if e == crate::vfs::eopnotsupp() => {
                pr_warn!("cannot set {} xattr on upper\n", name.to_str().unwrap_or("overlay"));
                self.noxattr.store(true, Ordering::Relaxed);
                xres()
            }
            r => r,
        }
    }

    /// Whether `dentry` on `layer` is a whiteout (`ovl_path_is_whiteout`):
    /// a 0/0 character device, or an empty regular file with the whiteout
    /// xattr.
    pub(crate) fn is_whiteout(&self, layer: &Layer, dentry: &RealDentry) -> bool {
        let Some(inode) = dentry.inode() else {
            return false;
        };
        match inode.file_type() {
            FileType::Chr => inode.rdev() == 0,
            FileType::Reg => self.is_xwhiteout(layer, dentry),
            _ => false,
        }
    }

    /// The one-byte value of a directory's overlay xattr `ox`, 0 if absent
    /// or of another size (`ovl_get_dir_xattr_val`).
    pub(crate) fn dir_xattr_val(&self, layer: &Layer, dentry: &RealDentry, ox: OvlXattr) -> u8 {
        if dentry.file_type() != Some(FileType::Dir) {
            return 0;
        }
        let mut val = [0u8; 1];
        match self.getxattr_ovl(layer, dentry, ox, Some(&mut val)) {
            Ok(Some(1)) => val.first().copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// `ovl_path_check_xwhiteout_xattr`: an empty regular file with the
    /// whiteout xattr.
    pub(crate) fn is_xwhiteout(&self, layer: &Layer, dentry: &RealDentry) -> bool {
        let empty = dentry.inode().is_some_and(|i| i.file_type() == FileType::Reg && i.size() == 0);
        empty && self.has_xattr(layer, dentry, OvlXattr::Xwhiteout)
    }
}

/// Runs `f` with "parent/name" of `d`, as `%pd2` prints it.
pub(crate) fn with_name2<R>(d: &RealDentry, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buf = [0u8; 2 * 255 + 1];
    let mut n = d.parent().with_name(|p| {
        let k = p.len().min(255);
        if let (Some(dst), Some(src)) = (buf.get_mut(..k), p.get(..k)) {
            dst.copy_from_slice(src);
        }
        k
    });
    if let Some(b) = buf.get_mut(n) {
        *b = b'/';
        n += 1;
    }
    let n = d.with_name(|p| {
        let k = p.len().min(255);
        if let (Some(dst), Some(src)) = (buf.get_mut(n..n + k), p.get(..k)) {
            dst.copy_from_slice(src);
        }
        n + k
    });
    f(buf.get(..n).unwrap_or(&[]))
}

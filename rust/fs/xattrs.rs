// SPDX-License-Identifier: GPL-2.0

//! Extended attributes (`fs/overlayfs/xattrs.c`): the real inode's, with the
//! overlay's own names hidden and escaped names mapped.

#![forbid(unsafe_code)]

use super::util::{self, CBuf};
use super::Rovl;
use crate::logic::xattr::{self, UserXattr};
use crate::vfs::dentry::DEntry;
use crate::vfs::inode::INode;
use core::ffi::CStr;
use kernel::prelude::*;

/// `ovl_listxattr`: the real inode's names, minus overlay private ones,
/// with escaped names unescaped.  A size query returns the real size, an
/// upper bound, as overlayfs does.  A list without its final NUL (a broken
/// real file system) is `-EIO`.
pub(crate) fn listxattr(dentry: &DEntry<Rovl>, out: Option<&mut [u8]>) -> Result<usize> {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let layer = ofs.layer(real.layer)?;
    match out {
        None => ofs.with_creds(|| layer.mnt.listxattr(&real.dentry, None)),
        Some(out) => {
            let len = ofs.with_creds(|| layer.mnt.listxattr(&real.dentry, Some(&mut *out)))?;
            if len == 0 {
                return Ok(0);
            }
            if out.get(len - 1) != Some(&0) {
                return Err(EIO);
            }
            Ok(xattr::list_filter_in_place(out, len, ofs.xattr_ns(), crate::vfs::capable_sys_admin_noaudit()))
        }
    }
}

/// `ovl_xattr_get` through the name mapping (`ovl_own_xattr_get`,
/// `ovl_other_xattr_get`).
pub(crate) fn getxattr(inode: &INode<Rovl>, name: &CStr, buf: Option<&mut [u8]>) -> Result<usize> {
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let layer = ofs.layer(real.layer)?;
    let ns = ofs.xattr_ns();
    match xattr::map_user_name(name.to_bytes(), ns) {
        UserXattr::Plain => ofs.with_creds(|| layer.mnt.getxattr(&real.dentry, name, buf)),
        UserXattr::Escape => {
            let prefix = ns.prefix();
            let rest = name.to_bytes().get(prefix.len()..).ok_or(EINVAL)?;
            let full = CBuf::new(&util::concat(&[prefix, xattr::ESCAPE, rest])?)?;
            ofs.with_creds(|| layer.mnt.getxattr(&real.dentry, full.as_cstr(), buf))
        }
        UserXattr::TooLong => Err(crate::vfs::eopnotsupp()),
    }
}

/// `ovl_xattr_set`: on the upper inode, after copy-up; a removal of an
/// xattr the lower inode does not have fails without copy-up.
pub(crate) fn setxattr(dentry: &DEntry<Rovl>, inode: &INode<Rovl>, name: &CStr, value: Option<&[u8]>, flags: i32) -> Result {
    let ofs = inode.super_block().data();
    let ns = ofs.xattr_ns();
    let escaped;
    let name: &CStr = match xattr::map_user_name(name.to_bytes(), ns) {
        UserXattr::Plain => name,
        UserXattr::Escape => {
            let prefix = ns.prefix();
            let rest = name.to_bytes().get(prefix.len()..).ok_or(EINVAL)?;
            escaped = CBuf::new(&util::concat(&[prefix, xattr::ESCAPE, rest])?)?;
            escaped.as_cstr()
        }
        UserXattr::TooLong => return Err(crate::vfs::eopnotsupp()),
    };
    if value.is_none() && !inode.data().has_upper() {
        let real = inode.data().real()?;
        let layer = ofs.layer(real.layer)?;
        ofs.with_creds(|| layer.mnt.getxattr(&real.dentry, name, None))?;
    }
    if !inode.data().has_upper() {
        super::copy_up::copy_up(dentry)?;
    }
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upper = inode.data().upper_dentry()?;
    let r = ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        match value {
            Some(v) => wa.setxattr(&upper, name, v, flags),
            None => wa.removexattr(&upper, name),
        }
    });
    // c/mtime
    super::inode::copyattr(inode);
    r
}

#[vtable]
impl crate::vfs::xattr::Operations for Rovl {
    fn xattr_get(_dentry: &DEntry<Self>, inode: &INode<Self>, name: &CStr, buf: Option<&mut [u8]>) -> Result<usize> {
        getxattr(inode, name, buf)
    }

    fn xattr_set(dentry: &DEntry<Self>, inode: &INode<Self>, name: &CStr, value: Option<&[u8]>, flags: i32) -> Result {
        setxattr(dentry, inode, name, value, flags)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The overlay, in safe Rust on the VFS binding layer ([`crate::vfs`]).
//!
//! One concept per file, as in the C overlayfs (`fs/overlayfs/`): mount
//! parameters ([`params`]), the super block and layers ([`super_`]),
//! lookup ([`namei`]), inodes ([`inode`]), readdir ([`readdir`]), open files
//! ([`file`]), extended attributes ([`xattrs`]) and helpers ([`util`]).
//! Each function that follows a C function names it.
//!
//! At this stage every mount is read-only: lower layers only, as overlayfs
//! does for a mount without upper layer, or with an upper layer (`-o ro`),
//! read as overlayfs reads it; copy-up ([`copy_up`]) has only the file
//! handles it stores so far.

#![forbid(unsafe_code)]

/// `pr_warn_ratelimited`: a warning, unless too many were printed lately.
macro_rules! warn_rl {
    ($($arg:tt)*) => {
        if crate::vfs::real::printk_ratelimit() {
            kernel::pr_warn!($($arg)*);
        }
    };
}

pub(crate) mod copy_up;
pub(crate) mod dir;
pub(crate) mod file;
pub(crate) mod inode;
pub(crate) mod namei;
pub(crate) mod params;
pub(crate) mod readdir;
pub(crate) mod super_;
pub(crate) mod util;
pub(crate) mod xattrs;

/// The overlay file system type.
pub(crate) struct Rovl;

/// Dentry flags (`OVL_E_*`): an opaque directory.
pub(crate) const DENTRY_OPAQUE: usize = 1 << 0;
/// Dentry flags: a directory that may hold xattr whiteouts.
pub(crate) const DENTRY_XWHITEOUTS: usize = 1 << 1;
/// Dentry flags: the upper inode is linked under this dentry's name in the
/// upper layer (`OVL_E_UPPER_ALIAS`), not only reached through the index.
pub(crate) const DENTRY_UPPER_ALIAS: usize = 1 << 2;

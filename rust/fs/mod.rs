// SPDX-License-Identifier: GPL-2.0

//! The overlay, in safe Rust on the VFS binding layer ([`crate::vfs`]).
//!
//! One concept per file, as in the C overlayfs (`fs/overlayfs/`): mount
//! parameters ([`params`]), the super block and layers ([`super_`]),
//! lookup ([`namei`]), inodes ([`inode`]), readdir ([`readdir`]), open files
//! ([`file`]), extended attributes ([`xattrs`]) and helpers ([`util`]).
//! Each function that follows a C function names it.
//!
//! With an upper layer the overlay is writable: copy-up ([`copy_up`]),
//! directory operations ([`dir`]); file handles and NFS export are in
//! [`export`].

#![forbid(unsafe_code)]

/// `pr_warn_ratelimited`: a warning, unless too many were printed lately.
macro_rules! warn_rl {
    ($($arg:tt)*) => {
        if crate::vfs::real::printk_ratelimit() {
            kernel::pr_warn!($($arg)*);
        }
    };
}

/// `new_mutex!` with one lock class per stacking depth of the mount
/// (`depth`: its `s_stack_depth`): a rovl mount on a rovl mount takes the
/// same mutex of both, the outer's first (as the inode locks, annotated
/// per depth by the binding layer).  Each expansion of `static_lock_class!`
/// is a class of its own, so the two arms are alike on purpose; the kernel
/// allows two stacking levels (`FILESYSTEM_MAX_STACK_DEPTH`).
macro_rules! new_mutex_depth {
    ($inner:expr, $depth:expr) => {
        if $depth <= 1 {
            kernel::sync::Mutex::new($inner, kernel::optional_name!(), kernel::static_lock_class!())
        } else {
            kernel::sync::Mutex::new($inner, kernel::optional_name!(), kernel::static_lock_class!())
        }
    };
}

pub(crate) mod copy_up;
pub(crate) mod dir;
pub(crate) mod export;
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
/// Dentry flags: connected for NFS export (`OVL_E_CONNECTED`): its
/// ancestors can be reconnected from its origin's layer.
pub(crate) const DENTRY_CONNECTED: usize = 1 << 3;

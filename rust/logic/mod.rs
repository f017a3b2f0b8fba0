// SPDX-License-Identifier: GPL-2.0

//! Pure logic shared by the kernel module and the host crate (`Cargo.toml`,
//! whose root is `host.rs`): no kernel dependency, `core` only, no panics.
//! Keep the module list in sync with `host.rs`.

pub mod errno;
pub mod fh;
pub mod ino;
pub mod metacopy;
pub mod options;
pub mod readdir;
pub mod redirect;
pub mod xattr;
pub mod xattrval;

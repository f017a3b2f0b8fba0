// SPDX-License-Identifier: GPL-2.0

//! Host build of rovl's pure-logic modules, for `cargo test`.  The same
//! files are compiled into the kernel module through `mod.rs`; keep the
//! module list in sync with it.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod errno;
pub mod fh;
pub mod ino;
pub mod metacopy;
pub mod options;
pub mod readdir;
pub mod redirect;
pub mod xattr;
pub mod xattrval;

#[cfg(test)]
mod fuzz;

// SPDX-License-Identifier: GPL-2.0

//! Host build of rovl's pure-logic modules, for `cargo test`.  The same
//! files are compiled into the kernel module through `mod.rs`; keep the
//! module list in sync with it.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod options;
pub mod xattr;

#[cfg(test)]
mod fuzz;

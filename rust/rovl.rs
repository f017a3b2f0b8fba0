// SPDX-License-Identifier: GPL-2.0

//! rovl: an overlay filesystem variant, written in Rust.
//!
//! rovl keeps overlayfs's on-disk format (the `trusted.overlay.*` /
//! `user.overlay.*` xattrs and its file handles), so layers move freely
//! between rovl and the in-kernel overlayfs, and adds finalized merged
//! directories and `nfs_export=on` together with `metacopy=on`.
//!
//! Layout:
//! * [`logic`]: pure logic (mount options, xattr names, file-handle format)
//!   shared with the host crate, tested by `cargo test` and KUnit.
//! * [`vfs`]: the VFS binding layer, the only code that is not safe Rust.
//! * [`fs`]: the overlay logic, safe Rust on top of [`vfs`].

mod fs;
// Shared with the host crate: `pub` items there are crate-visible here,
// and some are only used by later stages or by tests.
#[allow(unreachable_pub, dead_code)]
mod logic;
mod vfs;

use kernel::prelude::*;

#[cfg(not(rovl_dropin))]
module! {
    type: Rovl,
    name: "rovl",
    authors: ["The rovl developers"],
    description: "Overlay filesystem variant with finalized directories (Rust)",
    license: "GPL",
    alias: ["fs-rovl"],
}

#[cfg(rovl_dropin)]
module! {
    type: Rovl,
    name: "overlay",
    authors: ["The rovl developers"],
    description: "Overlay filesystem variant with finalized directories (Rust, drop-in build)",
    license: "GPL",
    alias: ["fs-overlay"],
}

struct Rovl {
    _registration: vfs::fs::Registration<fs::Rovl>,
}

impl kernel::Module for Rovl {
    fn init(module: &'static ThisModule) -> Result<Self> {
        static FS_TYPE: vfs::fs::FsTypeStorage = vfs::fs::FsTypeStorage::new();
        let registration = vfs::fs::Registration::new(module, &FS_TYPE, c"rovl_inode")?;
        pr_info!(
            "registered file system type {:?}\n",
            <fs::Rovl as vfs::fs::FileSystem>::NAME
        );
        Ok(Rovl { _registration: registration })
    }
}

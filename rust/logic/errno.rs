// SPDX-License-Identifier: GPL-2.0

//! The errno values that the ported overlayfs functions return, by name.
//!
//! The pure-logic modules never depend on the kernel crate, so their errors
//! say which errno overlayfs would return through [`Errno`]; the kernel side
//! maps it to `kernel::error::code::*` (the numbers differ between
//! architectures, the names do not).

#![forbid(unsafe_code)]

/// An errno value, by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Errno {
    /// `EINVAL`.
    Inval,
    /// `ENODATA`.
    NoData,
    /// `ESTALE`.
    Stale,
    /// `EIO`.
    Io,
    /// `ERANGE`.
    Range,
    /// `EACCES`.
    Acces,
    /// `ENAMETOOLONG`.
    NameTooLong,
    /// `EOVERFLOW`.
    Overflow,
}

impl Errno {
    /// The C name of the errno value.
    pub fn name(self) -> &'static str {
        match self {
            Errno::Inval => "EINVAL",
            Errno::NoData => "ENODATA",
            Errno::Stale => "ESTALE",
            Errno::Io => "EIO",
            Errno::Range => "ERANGE",
            Errno::Acces => "EACCES",
            Errno::NameTooLong => "ENAMETOOLONG",
            Errno::Overflow => "EOVERFLOW",
        }
    }
}

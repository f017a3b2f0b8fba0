// SPDX-License-Identifier: GPL-2.0

//! The `overlay.redirect` xattr: where a renamed directory (or, with
//! metacopy, a file) was found in the lower layers.
//!
//! Mirrors `ovl_get_redirect_xattr` (`fs/overlayfs/util.c`) and the way
//! `ovl_check_redirect` / `ovl_lookup_layer` / `ovl_lookup_single`
//! (`namei.c`) of Linux 7.2 use the value:
//!
//! * the value is read into a zeroed buffer one byte longer than the value
//!   and then used as a C string, so it ends at its first NUL byte;
//! * an absolute redirect starts with `/`; each of its components is
//!   looked up from the root of the lower layers; none may be empty (`/`,
//!   `//`, `/a//b` and `/a/` are invalid);
//! * a relative redirect replaces the last path component and must not
//!   contain `/`;
//! * a zero-length value is invalid.
//!
//! An invalid value fails the lookup with `-EINVAL` after overlayfs logs
//! `pr_warn_ratelimited("invalid redirect (%s)\n", value)` (see
//! [`RedirectError::message`]).  `.`, `..` and empty (relative, after the
//! NUL cut) names are not refused here but by the lookup of the component,
//! which fails the overlay lookup with `-EACCES`; see [`check_component`].
//!
//! Pure logic: `core` only, no allocation, no panics on any input.

#![forbid(unsafe_code)]

use super::errno::Errno;

/// `XATTR_SIZE_MAX`: no xattr value is longer.
pub const XATTR_SIZE_MAX: usize = 65536;
/// `NAME_MAX`: the longest name a file system looks up.
pub const NAME_MAX: usize = 255;
/// `PATH_MAX`: the longest path `vfs_path_lookup` accepts (with its NUL),
/// which limits absolute redirects into data-only layers.
pub const PATH_MAX: usize = 4096;

/// The message overlayfs logs when reading the xattr fails
/// (`"failed to get redirect (%i)"`, with the error).
pub const GET_FAILED_MSG: &str = "failed to get redirect";

/// A valid redirect, borrowed from the xattr value (cut at its first NUL).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Redirect<'a> {
    /// Starts with `/`: a path from the root of the lower layers.
    Absolute(AbsRedirect<'a>),
    /// A single name that replaces the last component (may be empty if
    /// the value starts with a NUL byte, see [`check_component`]).
    Relative(&'a [u8]),
}

impl<'a> Redirect<'a> {
    /// The redirect as overlayfs uses it (up to the first NUL).
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Redirect::Absolute(a) => a.as_bytes(),
            Redirect::Relative(r) => r,
        }
    }

    /// Whether it starts with `/`.
    pub fn is_absolute(&self) -> bool {
        matches!(self, Redirect::Absolute(_))
    }
}

/// A valid absolute redirect: `/` followed by non-empty components
/// separated by single slashes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AbsRedirect<'a> {
    path: &'a [u8],
}

impl<'a> AbsRedirect<'a> {
    /// The whole path, with its leading `/`.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.path
    }

    /// The components, in lookup order (`ovl_lookup_layer`).
    pub fn components(&self) -> Components<'a> {
        Components { rest: self.path.get(1..).unwrap_or(&[]) }
    }
}

/// Iterator over the components of an [`AbsRedirect`].
#[derive(Clone, Debug)]
pub struct Components<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Components<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let s = self.rest;
        match s.iter().position(|&c| c == b'/') {
            Some(i) => {
                self.rest = s.get(i + 1..).unwrap_or(&[]);
                s.get(..i)
            }
            None => {
                self.rest = &[];
                Some(s)
            }
        }
    }
}

/// Why a redirect value is invalid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RedirectError {
    /// A zero-length value.
    Empty,
    /// An absolute redirect with an empty component (`/`, `//`, `/a/`).
    EmptyComponent,
    /// A relative redirect containing `/`.
    SlashInRelative,
    /// Longer than any xattr value can be (`XATTR_SIZE_MAX`); cannot come
    /// from `getxattr`, which fails with `-ERANGE` or `-E2BIG` instead.
    TooLong,
}

impl RedirectError {
    /// The text overlayfs logs, followed by the value in parentheses
    /// (`pr_warn_ratelimited("invalid redirect (%s)\n", buf)`).
    pub fn message(&self) -> &'static str {
        "invalid redirect"
    }

    /// What the lookup returns: `-EINVAL` (`-ERANGE` for [`Self::TooLong`]).
    pub fn errno(&self) -> Errno {
        match self {
            RedirectError::TooLong => Errno::Range,
            _ => Errno::Inval,
        }
    }
}

/// Validates an `overlay.redirect` xattr value (`ovl_get_redirect_xattr`).
pub fn parse_redirect(value: &[u8]) -> Result<Redirect<'_>, RedirectError> {
    if value.is_empty() {
        return Err(RedirectError::Empty);
    }
    if value.len() > XATTR_SIZE_MAX {
        return Err(RedirectError::TooLong);
    }
    // The C string ends at the first NUL.
    let s = match value.iter().position(|&c| c == 0) {
        Some(i) => value.get(..i).unwrap_or(&[]),
        None => value,
    };
    if s.first() == Some(&b'/') {
        // Every '/' must be followed by a non-empty component.
        let mut prev_slash = false;
        for &c in s {
            if c == b'/' && prev_slash {
                return Err(RedirectError::EmptyComponent);
            }
            prev_slash = c == b'/';
        }
        if prev_slash {
            return Err(RedirectError::EmptyComponent);
        }
        Ok(Redirect::Absolute(AbsRedirect { path: s }))
    } else if s.contains(&b'/') {
        Err(RedirectError::SlashInRelative)
    } else {
        Ok(Redirect::Relative(s))
    }
}

/// Why the lookup of one redirect component fails.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ComponentError {
    /// Empty, `.` or `..` (or holding `/` or NUL, which a valid redirect
    /// component cannot): `lookup_noperm_common` returns `-EACCES` and the
    /// overlay lookup fails with it.
    Acces,
    /// Longer than `NAME_MAX`: the real file system returns
    /// `-ENAMETOOLONG`, which `ovl_lookup_single` treats as "not found".
    NameTooLong,
}

impl ComponentError {
    /// The errno of the component lookup.
    pub fn errno(&self) -> Errno {
        match self {
            ComponentError::Acces => Errno::Acces,
            ComponentError::NameTooLong => Errno::NameTooLong,
        }
    }
}

/// Checks a name before it is looked up in a lower layer, as the VFS does
/// for overlayfs (`lookup_noperm_common`, then the usual `NAME_MAX` limit of
/// the real file system).
pub fn check_component(name: &[u8]) -> Result<(), ComponentError> {
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&c| c == b'/' || c == 0) {
        Err(ComponentError::Acces)
    } else if name.len() > NAME_MAX {
        Err(ComponentError::NameTooLong)
    } else {
        Ok(())
    }
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_redirect))]
mod tests {
    use super::*;

    /// Whether the components of `v` (absolute) are exactly `want`.
    fn comps_are(v: &[u8], want: &[&[u8]]) -> bool {
        match parse_redirect(v) {
            Ok(Redirect::Absolute(a)) => a.components().eq(want.iter().copied()),
            _ => false,
        }
    }

    #[test]
    fn absolute() {
        assert!(comps_are(b"/a", &[b"a"]));
        assert!(comps_are(b"/a/bc/d", &[b"a", b"bc", b"d"]));
        assert!(comps_are(b"/./..", &[b".", b".."]));
        assert_eq!(parse_redirect(b"/a/b").map(|r| r.as_bytes()), Ok(&b"/a/b"[..]));
        assert_eq!(parse_redirect(b"/a/b").map(|r| r.is_absolute()), Ok(true));
        assert_eq!(parse_redirect(b"/"), Err(RedirectError::EmptyComponent));
        assert_eq!(parse_redirect(b"//"), Err(RedirectError::EmptyComponent));
        assert_eq!(parse_redirect(b"//a"), Err(RedirectError::EmptyComponent));
        assert_eq!(parse_redirect(b"/a//b"), Err(RedirectError::EmptyComponent));
        assert_eq!(parse_redirect(b"/a/"), Err(RedirectError::EmptyComponent));
    }

    #[test]
    fn relative() {
        assert_eq!(parse_redirect(b"name"), Ok(Redirect::Relative(b"name")));
        assert_eq!(parse_redirect(b".."), Ok(Redirect::Relative(b"..")));
        assert_eq!(parse_redirect(b"a/b"), Err(RedirectError::SlashInRelative));
        assert_eq!(parse_redirect(b"a/"), Err(RedirectError::SlashInRelative));
        assert_eq!(parse_redirect(b""), Err(RedirectError::Empty));
        assert_eq!(RedirectError::SlashInRelative.errno(), Errno::Inval);
        assert_eq!(RedirectError::Empty.message(), "invalid redirect");
    }

    #[test]
    fn nul_ends_the_value() {
        assert_eq!(parse_redirect(b"a\0/b"), Ok(Redirect::Relative(b"a")));
        assert!(comps_are(b"/a\0/", &[b"a"]));
        assert_eq!(parse_redirect(b"/\0a"), Err(RedirectError::EmptyComponent));
        assert_eq!(parse_redirect(b"/a/\0b"), Err(RedirectError::EmptyComponent));
        // overlayfs accepts this as an empty relative redirect; the lookup
        // of the empty name then fails with EACCES.
        assert_eq!(parse_redirect(b"\0/x"), Ok(Redirect::Relative(b"")));
        assert_eq!(check_component(b""), Err(ComponentError::Acces));
    }

    #[test]
    fn components_lookup_rules() {
        assert_eq!(check_component(b"a"), Ok(()));
        assert_eq!(check_component(b"..."), Ok(()));
        assert_eq!(check_component(b"."), Err(ComponentError::Acces));
        assert_eq!(check_component(b".."), Err(ComponentError::Acces));
        assert_eq!(check_component(b"a/b"), Err(ComponentError::Acces));
        assert_eq!(check_component(b"a\0"), Err(ComponentError::Acces));
        assert_eq!(check_component(&[b'x'; NAME_MAX]), Ok(()));
        assert_eq!(check_component(&[b'x'; NAME_MAX + 1]), Err(ComponentError::NameTooLong));
        assert_eq!(ComponentError::NameTooLong.errno(), Errno::NameTooLong);
        assert_eq!(ComponentError::Acces.errno(), Errno::Acces);
    }
}

/// Host-only: needs buffers too large for a kernel stack.
#[cfg(test)]
mod host_tests {
    use super::*;

    #[test]
    fn length_limit() {
        let mut big = std::vec![b'a'; XATTR_SIZE_MAX + 1];
        assert_eq!(parse_redirect(&big), Err(RedirectError::TooLong));
        assert_eq!(RedirectError::TooLong.errno(), Errno::Range);
        big[0] = b'/';
        assert_eq!(parse_redirect(&big[..XATTR_SIZE_MAX]).map(|r| r.as_bytes().len()), Ok(XATTR_SIZE_MAX));
        big[XATTR_SIZE_MAX / 2] = b'/';
        assert_eq!(parse_redirect(&big[..XATTR_SIZE_MAX]).map(|r| r.as_bytes().len()), Ok(XATTR_SIZE_MAX));
    }
}

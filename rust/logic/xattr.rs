// SPDX-License-Identifier: GPL-2.0

//! Overlayfs private xattr names and how the overlay shows the xattrs of the
//! real inodes.
//!
//! Mirrors `fs/overlayfs/xattrs.c` and `overlayfs.h` of Linux 7.2: names
//! under `trusted.overlay.` (or `user.overlay.` with `userxattr`) are the
//! overlay's own and never listed; users reach that name space through the
//! escaped form `<prefix>overlay.<name>` on the real inode.

#![forbid(unsafe_code)]

/// The xattr name space of the overlay's own xattrs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum XattrNs {
    /// `trusted.overlay.` (the default).
    Trusted,
    /// `user.overlay.` (mount option `userxattr`).
    User,
}

impl XattrNs {
    /// The prefix of the overlay's own xattrs.
    pub fn prefix(self) -> &'static [u8] {
        match self {
            XattrNs::Trusted => b"trusted.overlay.",
            XattrNs::User => b"user.overlay.",
        }
    }
}

/// The escape inserted after the prefix (`OVL_XATTR_ESCAPE_PREFIX`).
pub const ESCAPE: &[u8] = b"overlay.";

/// Maximum length of an xattr name (`XATTR_NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The overlay's own xattrs (`enum ovl_xattr`), by suffix.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OvlXattr {
    Opaque,
    Redirect,
    Origin,
    Impure,
    Nlink,
    Upper,
    Uuid,
    Metacopy,
    Protattr,
    Xwhiteout,
}

impl OvlXattr {
    /// The name without the prefix.
    pub fn suffix(self) -> &'static str {
        match self {
            OvlXattr::Opaque => "opaque",
            OvlXattr::Redirect => "redirect",
            OvlXattr::Origin => "origin",
            OvlXattr::Impure => "impure",
            OvlXattr::Nlink => "nlink",
            OvlXattr::Upper => "upper",
            OvlXattr::Uuid => "uuid",
            OvlXattr::Metacopy => "metacopy",
            OvlXattr::Protattr => "protattr",
            OvlXattr::Xwhiteout => "whiteout",
        }
    }
}

fn is_own(name: &[u8], ns: XattrNs) -> bool {
    name.starts_with(ns.prefix())
}

fn is_escaped(name: &[u8], ns: XattrNs) -> bool {
    name.get(ns.prefix().len()..).is_some_and(|r| r.starts_with(ESCAPE)) && is_own(name, ns)
}

/// A private overlay xattr: own prefix, not escaped (`ovl_is_private_xattr`).
pub fn is_private(name: &[u8], ns: XattrNs) -> bool {
    is_own(name, ns) && !is_escaped(name, ns)
}

/// How a name asked for through the overlay maps to the real inode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UserXattr {
    /// The same name on the real inode.
    Plain,
    /// The escaped name: prefix + "overlay." + the rest (`ovl_own_xattr_get`).
    Escape,
    /// Not supported: the escaped name would be longer than `NAME_MAX`.
    TooLong,
}

/// Maps a name asked for by a user to the real inode's name space.
pub fn map_user_name(name: &[u8], ns: XattrNs) -> UserXattr {
    if !is_own(name, ns) {
        UserXattr::Plain
    } else if name.len().saturating_add(ESCAPE.len()) > NAME_MAX {
        UserXattr::TooLong
    } else {
        UserXattr::Escape
    }
}

/// Whether a real xattr name is listed through the overlay (`ovl_can_list`):
/// never the private ones; other `trusted.*` names only for a privileged
/// caller (`privileged` = CAP_SYS_ADMIN in the initial user namespace).
pub fn can_list(name: &[u8], ns: XattrNs, privileged: bool) -> bool {
    if is_private(name, ns) {
        false
    } else if !name.starts_with(b"trusted.") {
        true
    } else {
        privileged
    }
}

/// Filters, in place, the first `len` bytes of `buf`, a listxattr result of
/// the real inode (NUL-terminated names), into what the overlay lists
/// (`ovl_listxattr`): names that may not be listed are removed and escaped
/// names lose their escape.  Returns the new length.  A malformed list (a
/// last name without its NUL) is cut at the last complete name.
pub fn list_filter_in_place(buf: &mut [u8], len: usize, ns: XattrNs, privileged: bool) -> usize {
    let len = len.min(buf.len());
    let (mut rd, mut wr) = (0usize, 0usize);
    while rd < len {
        let Some(nul) = buf.get(rd..len).and_then(|r| r.iter().position(|&c| c == 0)) else {
            break;
        };
        let end = rd + nul + 1; // one past the NUL
        let (keep_from, keep) = {
            let name = buf.get(rd..rd + nul).unwrap_or(&[]);
            if !can_list(name, ns, privileged) {
                (0, false)
            } else if is_escaped(name, ns) {
                (ns.prefix().len() + ESCAPE.len(), true)
            } else {
                (0, true)
            }
        };
        if keep {
            if keep_from == 0 {
                buf.copy_within(rd..end, wr);
                wr += end - rd;
            } else {
                let plen = ns.prefix().len();
                buf.copy_within(rd..rd + plen, wr);
                buf.copy_within(rd + keep_from..end, wr + plen);
                wr += plen + (end - rd - keep_from);
            }
        }
        rd = end;
    }
    wr
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_xattr))]
mod tests {
    use super::*;

    #[test]
    fn private_and_escaped_names() {
        assert!(is_private(b"trusted.overlay.opaque", XattrNs::Trusted));
        assert!(!is_private(b"trusted.overlay.overlay.opaque", XattrNs::Trusted));
        assert!(!is_private(b"user.overlay.opaque", XattrNs::Trusted));
        assert!(is_private(b"user.overlay.opaque", XattrNs::User));
        assert!(!is_private(b"trusted.overlay.x", XattrNs::User));
        assert!(!is_private(b"user.foo", XattrNs::Trusted));
    }

    #[test]
    fn user_names_map_to_escaped() {
        assert_eq!(map_user_name(b"user.foo", XattrNs::Trusted), UserXattr::Plain);
        assert_eq!(map_user_name(b"trusted.overlay.foo", XattrNs::Trusted), UserXattr::Escape);
        assert_eq!(map_user_name(b"trusted.overlay.foo", XattrNs::User), UserXattr::Plain);
        let mut long = [b'a'; 250];
        long[..16].copy_from_slice(b"trusted.overlay.");
        assert_eq!(map_user_name(&long, XattrNs::Trusted), UserXattr::TooLong);
    }

    #[test]
    fn listing_hides_and_unescapes() {
        let mut buf = *b"user.a\0trusted.overlay.opaque\0trusted.overlay.overlay.mine\0trusted.x\0user.b\0";
        let n = buf.len();
        let m = list_filter_in_place(&mut buf, n, XattrNs::Trusted, true);
        assert_eq!(buf.get(..m), Some(&b"user.a\0trusted.overlay.mine\0trusted.x\0user.b\0"[..]));
        let mut buf = *b"trusted.x\0user.b\0";
        let n = buf.len();
        let m = list_filter_in_place(&mut buf, n, XattrNs::Trusted, false);
        assert_eq!(buf.get(..m), Some(&b"user.b\0"[..]));
    }

    #[test]
    fn listing_malformed_is_cut() {
        let mut buf = *b"user.a\0user.b";
        let n = buf.len();
        assert_eq!(list_filter_in_place(&mut buf, n, XattrNs::Trusted, true), 7);
        let mut buf = *b"x\0";
        assert_eq!(list_filter_in_place(&mut buf, 100, XattrNs::Trusted, true), 2);
        let mut empty: [u8; 0] = [];
        assert_eq!(list_filter_in_place(&mut empty, 0, XattrNs::User, true), 0);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Values of the small overlay xattrs as the read path interprets them:
//! `overlay.opaque`, `overlay.impure`, `overlay.whiteout`, `overlay.nlink`,
//! `overlay.uuid` and `overlay.protattr` (the file handles, redirects and
//! metacopy are in `fh`, `redirect` and `metacopy`).
//!
//! Mirrors `fs/overlayfs/util.c` (`ovl_get_dir_xattr_val`,
//! `ovl_path_check_xwhiteout_xattr`, `ovl_is_whiteout`,
//! `ovl_init_uuid_xattr`, `ovl_check_protattr`, `ovl_set_protattr`),
//! `inode.c` (`ovl_get_nlink`, `ovl_set_nlink_*`), `namei.c`
//! (`ovl_lookup_single`) and `readdir.c` of Linux 7.2.
//!
//! The functions take the whole value as the caller read it; where
//! overlayfs reads into a small buffer, a longer value fails `getxattr` with
//! `-ERANGE` and the functions here give the result overlayfs then gives.
//!
//! Pure logic: `core` only, no allocation, no panics on any input.

#![forbid(unsafe_code)]

use super::options::Uuid;

// --- overlay.opaque / overlay.impure ------------------------------------------

/// The value of a one-byte directory xattr (`ovl_get_dir_xattr_val`): the
/// byte if the inode is a directory and the value exactly one byte long
/// (overlayfs reads into a one-byte buffer), else 0.  `value`: `None` if
/// the xattr is absent or could not be read.
pub fn dir_xattr_val(is_dir: bool, value: Option<&[u8]>) -> u8 {
    match value {
        Some(&[v]) if is_dir => v,
        _ => 0,
    }
}

/// What `overlay.opaque` says about a directory (`ovl_get_opaquedir_val`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Opaque {
    /// Not opaque: absent, or any other value.
    No,
    /// `y`: hides the lower layers below.
    Yes,
    /// `x`: not opaque, but may hold xattr whiteouts (`overlay.whiteout`).
    XWhiteouts,
}

/// Interprets `overlay.opaque` of a directory (`ovl_get_opaquedir_val`,
/// `ovl_is_opaquedir`).  Non-directories are never opaque this way.
pub fn opaque(is_dir: bool, value: Option<&[u8]>) -> Opaque {
    match dir_xattr_val(is_dir, value) {
        b'y' => Opaque::Yes,
        b'x' => Opaque::XWhiteouts,
        _ => Opaque::No,
    }
}

/// What `ovl_lookup_single` does with a directory found in a layer,
/// given its `overlay.opaque`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpaqueAction {
    /// Go on (and look at the redirect).
    Continue,
    /// `x` on the last element in a lower layer: the merged directory may
    /// hold xwhiteouts from this layer (`d->xwhiteouts`,
    /// `ovl_layer_set_xwhiteouts`); go on.
    XWhiteouts,
    /// `y`: stop looking in lower layers; the result is opaque only for the
    /// last path element (`d->opaque`).
    Stop {
        /// Mark the resulting dentry opaque.
        opaque: bool,
    },
}

/// The decision of `ovl_lookup_single` on `overlay.opaque` of a directory
/// (`x` is ignored in the upper layer and on intermediate elements of an
/// absolute redirect).
pub fn lookup_opaque(val: Opaque, last_element: bool, is_upper: bool) -> OpaqueAction {
    match val {
        Opaque::XWhiteouts if last_element && !is_upper => OpaqueAction::XWhiteouts,
        Opaque::Yes => OpaqueAction::Stop { opaque: last_element },
        _ => OpaqueAction::Continue,
    }
}

/// Whether an upper directory is impure, i.e. may hold copied-up entries
/// whose `d_ino` must be fixed (`ovl_is_impuredir`: `overlay.impure` is `y`).
pub fn is_impure(is_dir: bool, value: Option<&[u8]>) -> bool {
    dir_xattr_val(is_dir, value) == b'y'
}

/// The value overlayfs writes to `overlay.impure` and `overlay.opaque`
/// (`ovl_set_impure`, `ovl_set_opaque`).
pub const YES: &[u8] = b"y";

// --- whiteouts -----------------------------------------------------------------

/// `S_IFMT`.
pub const S_IFMT: u32 = 0o170000;
/// `S_IFCHR`.
pub const S_IFCHR: u32 = 0o020000;
/// `S_IFREG`.
pub const S_IFREG: u32 = 0o100000;
/// `S_IFDIR`.
pub const S_IFDIR: u32 = 0o040000;
/// `DT_REG`.
pub const DT_REG: u8 = 8;
/// `DT_CHR`.
pub const DT_CHR: u8 = 2;

/// A classic whiteout: a character device 0/0 (`ovl_is_whiteout`,
/// `IS_WHITEOUT`).  `rdev` is the kernel's `dev_t`.
pub fn is_whiteout_inode(mode: u32, rdev: u32) -> bool {
    mode & S_IFMT == S_IFCHR && rdev == 0
}

/// Whether a file must be checked for `overlay.whiteout`: only an empty
/// regular file can be an xattr whiteout (`ovl_path_check_xwhiteout_xattr`).
pub fn may_be_xwhiteout(mode: u32, size: i64) -> bool {
    mode & S_IFMT == S_IFREG && size == 0
}

/// An xattr whiteout (`ovl_path_check_xwhiteout_xattr`): an empty regular
/// file with `overlay.whiteout` of any value (even empty).
pub fn is_xwhiteout(mode: u32, size: i64, has_xattr: bool) -> bool {
    may_be_xwhiteout(mode, size) && has_xattr
}

/// A whiteout of either kind (`ovl_path_is_whiteout`).
pub fn is_whiteout(mode: u32, rdev: u32, size: i64, has_whiteout_xattr: bool) -> bool {
    is_whiteout_inode(mode, rdev) || is_xwhiteout(mode, size, has_whiteout_xattr)
}

/// Whether readdir must check an entry for `overlay.whiteout`
/// (`ovl_cache_entry_new`: `check_xwhiteout`): the directory of this layer
/// was marked `opaque=x` at lookup (`in_xwhiteouts_dir`: the layer has
/// xwhiteouts and so has the overlay dentry) and the entry is a regular file.
pub fn readdir_check_xwhiteout(layer_has_xwhiteouts: bool, dentry_has_xwhiteouts: bool, d_type: u8) -> bool {
    layer_has_xwhiteouts && dentry_has_xwhiteouts && d_type == DT_REG
}

// --- overlay.nlink ---------------------------------------------------------------

/// Overlayfs reads `overlay.nlink` into a 12-byte buffer (`char buf[13]`).
pub const NLINK_MAX: usize = 12;

/// The inode `overlay.nlink` is relative to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NlinkBase {
    /// `L`: the lower (origin) inode.
    Lower,
    /// `U`: the upper (index) inode.
    Upper,
}

/// A parsed `overlay.nlink`: the overlay nlink is `base nlink + diff`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Nlink {
    /// Which inode's nlink the difference applies to.
    pub base: NlinkBase,
    /// The difference.
    pub diff: i32,
}

/// Why `overlay.nlink` gives no link count; overlayfs then logs
/// "failed to get index nlink" and uses the fallback.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NlinkError {
    /// The xattr is absent or unreadable (overlayfs logs the error).
    NoValue,
    /// Longer than [`NLINK_MAX`] (`getxattr` fails with `-ERANGE`).
    TooLong,
    /// Does not start with `L`/`U` and `+`/`-` (logged with err=0).
    Format,
    /// The number is not a decimal `int` (`kstrtoint`: `-EINVAL`).
    BadNumber,
    /// The number does not fit an `int` (`kstrtoint`: `-ERANGE`).
    Overflow,
    /// The resulting link count is not positive (logged with err=0).
    NotPositive,
}

/// Parses `overlay.nlink` ("U+n", "L-n", ...) as `ovl_get_nlink` does: the
/// value ends at its first NUL; after the letter comes what `kstrtoint`
/// accepts in base 10: a sign, decimal digits, one optional newline.
pub fn parse_nlink(value: &[u8]) -> Result<Nlink, NlinkError> {
    if value.len() > NLINK_MAX {
        return Err(NlinkError::TooLong);
    }
    let s = match value.iter().position(|&c| c == 0) {
        Some(i) => value.get(..i).unwrap_or(&[]),
        None => value,
    };
    let base = match s.first() {
        Some(b'L') => NlinkBase::Lower,
        Some(b'U') => NlinkBase::Upper,
        _ => return Err(NlinkError::Format),
    };
    let neg = match s.get(1) {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Err(NlinkError::Format),
    };
    let mut digits = s.get(2..).unwrap_or(&[]);
    if let Some((b'\n', rest)) = digits.split_last() {
        digits = rest;
    }
    if digits.is_empty() {
        return Err(NlinkError::BadNumber);
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(NlinkError::BadNumber);
        }
        // At most 10 digits fit in the buffer: no i64 overflow.
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    let n = if neg { -n } else { n };
    let diff = i32::try_from(n).map_err(|_| NlinkError::Overflow)?;
    Ok(Nlink { base, diff })
}

impl Nlink {
    /// The overlay link count from the base inode's (`ovl_get_nlink`, with
    /// the kernel's wrapping `int` arithmetic).
    pub fn apply(&self, lower_nlink: u32, upper_nlink: u32) -> Result<u32, NlinkError> {
        let base = match self.base {
            NlinkBase::Lower => lower_nlink,
            NlinkBase::Upper => upper_nlink,
        };
        let nlink = i32::from_ne_bytes(base.to_ne_bytes()).wrapping_add(self.diff);
        u32::try_from(nlink).ok().filter(|&n| n > 0).ok_or(NlinkError::NotPositive)
    }
}

/// `ovl_get_nlink`: the link count of an indexed inode.  `lower_nlink` is
/// `None` without a lower inode, `has_upper` whether there is an upper
/// (index) inode, `value` the `overlay.nlink` xattr (`None`: unreadable).
/// `Ok(None)`: use the fallback without further ado (no lower or upper
/// inode, or the lower one has a single link); `Err`: log "failed to get
/// index nlink" and use the fallback.
pub fn get_nlink(
    lower_nlink: Option<u32>,
    upper_nlink: Option<u32>,
    value: Option<&[u8]>,
) -> Result<Option<u32>, NlinkError> {
    let (Some(lower), Some(upper)) = (lower_nlink, upper_nlink) else {
        return Ok(None);
    };
    if lower == 1 {
        return Ok(None);
    }
    let v = value.ok_or(NlinkError::NoValue)?;
    parse_nlink(v)?.apply(lower, upper).map(Some)
}

/// A formatted `overlay.nlink` value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NlinkValue {
    buf: [u8; NLINK_MAX],
    len: usize,
}

impl NlinkValue {
    /// The value to store.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Formats `overlay.nlink` like `ovl_set_nlink_upper` / `ovl_set_nlink_lower`
/// (`"U%+i"` / `"L%+i"` of `(int)(overlay nlink - real nlink)`).
pub fn format_nlink(base: NlinkBase, overlay_nlink: u32, real_nlink: u32) -> NlinkValue {
    let diff = i32::from_ne_bytes(overlay_nlink.wrapping_sub(real_nlink).to_ne_bytes());
    let mut v = NlinkValue { buf: [0; NLINK_MAX], len: 0 };
    let mut push = |c: u8| {
        if let Some(b) = v.buf.get_mut(v.len) {
            *b = c;
            v.len += 1;
        }
    };
    push(match base {
        NlinkBase::Lower => b'L',
        NlinkBase::Upper => b'U',
    });
    push(if diff < 0 { b'-' } else { b'+' });
    let mut mag = diff.unsigned_abs();
    let mut digits = [0u8; 10];
    let mut nd = 0;
    loop {
        if let Some(d) = digits.get_mut(nd) {
            // `mag % 10` is a single digit.
            *d = b'0' + u8::try_from(mag % 10).unwrap_or(0);
            nd += 1;
        }
        mag /= 10;
        if mag == 0 || nd >= digits.len() {
            break;
        }
    }
    for &d in digits.get(..nd).unwrap_or(&[]).iter().rev() {
        push(d);
    }
    v
}

// --- overlay.uuid ----------------------------------------------------------------

/// `UUID_SIZE`.
pub const UUID_SIZE: usize = 16;

/// The persistent uuid of an overlay in `overlay.uuid` of the upper root:
/// exactly 16 bytes (overlayfs reads into a 16-byte buffer; anything else
/// is a failure).
pub fn parse_uuid(value: &[u8]) -> Option<[u8; UUID_SIZE]> {
    <[u8; UUID_SIZE]>::try_from(value).ok()
}

/// Why an xattr could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReadError {
    /// `-ENODATA`: not there.
    NoData,
    /// Any other error, including `-ERANGE` for a value too long for the
    /// buffer overlayfs reads it into.
    Other,
}

/// What `ovl_init_uuid_xattr` does at mount (with an upper layer and
/// `uuid=on` or `uuid=auto`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UuidInit {
    /// Use the stored uuid as the overlay's `s_uuid`.
    Use([u8; UUID_SIZE]),
    /// Generate a uuid and store it in `overlay.uuid`; if that fails, fall
    /// back to `uuid=null` ("failed to set uuid").  `config` is the `uuid=`
    /// mode from now on (`auto` becomes `on` for a new overlay).
    Generate {
        /// The new `uuid=` mode.
        config: Uuid,
    },
    /// An old overlay (the upper root is already impure) mounted with
    /// `uuid=auto`: downgrade to `uuid=null`, keep no persistent uuid.
    Downgrade,
    /// Reading failed: fall back to `uuid=null` ("failed to get uuid").
    Fail,
}

/// The decision of `ovl_init_uuid_xattr`.  `uuid_xattr`: the value of
/// `overlay.uuid`; `impure_xattr`: the size of `overlay.impure` of the
/// upper root (only read with `uuid=auto`).
pub fn init_uuid(
    mode: Uuid,
    uuid_xattr: Result<&[u8], ReadError>,
    impure_xattr: impl FnOnce() -> Result<usize, ReadError>,
) -> UuidInit {
    match uuid_xattr {
        Ok(v) => return parse_uuid(v).map_or(UuidInit::Fail, UuidInit::Use),
        Err(ReadError::Other) => return UuidInit::Fail,
        Err(ReadError::NoData) => {}
    }
    let mut config = mode;
    if mode == Uuid::Auto {
        match impure_xattr() {
            Ok(n) if n > 0 => return UuidInit::Downgrade,
            Ok(_) => {}
            Err(ReadError::NoData) => config = Uuid::On,
            Err(ReadError::Other) => return UuidInit::Fail,
        }
    }
    UuidInit::Generate { config }
}

// --- overlay.protattr ---------------------------------------------------------------

/// `OVL_PROTATTR_MAX`: overlayfs reads `overlay.protattr` into a buffer of
/// this size.
pub const PROTATTR_MAX: usize = 32;

/// The protection flags kept in `overlay.protattr` instead of on the upper
/// inode (`S_APPEND`, `S_IMMUTABLE`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ProtAttr {
    /// `a`: append-only.
    pub append: bool,
    /// `i`: immutable.
    pub immutable: bool,
}

/// Why `overlay.protattr` is ignored.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProtattrError {
    /// Longer than [`PROTATTR_MAX`]: `getxattr` fails, ignored silently.
    TooLong,
    /// Empty or holding other letters: ignored after logging
    /// [`PROTATTR_INVALID_MSG`].
    Invalid,
}

/// What overlayfs logs for an invalid `overlay.protattr`
/// (`"incompatible overlay.protattr format (%pd2, len=%d)"`).
pub const PROTATTR_INVALID_MSG: &str = "incompatible overlay.protattr format";

/// Parses `overlay.protattr` (`ovl_check_protattr`): a non-empty string of
/// `a` and `i`.  The inode gets these flags in addition to the upper
/// inode's own `S_APPEND`/`S_IMMUTABLE`; on error it keeps the upper
/// inode's.
pub fn parse_protattr(value: &[u8]) -> Result<ProtAttr, ProtattrError> {
    if value.len() > PROTATTR_MAX {
        return Err(ProtattrError::TooLong);
    }
    if value.is_empty() {
        return Err(ProtattrError::Invalid);
    }
    let mut p = ProtAttr::default();
    for &c in value {
        match c {
            b'a' => p.append = true,
            b'i' => p.immutable = true,
            _ => return Err(ProtattrError::Invalid),
        }
    }
    Ok(p)
}

/// A formatted `overlay.protattr` value (`ovl_set_protattr`); empty means
/// "remove the xattr".
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProtattrValue {
    buf: [u8; 2],
    len: usize,
}

impl ProtattrValue {
    /// The value to store.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Formats `overlay.protattr` like `ovl_set_protattr`: `a` then `i`.
pub fn format_protattr(p: ProtAttr) -> ProtattrValue {
    match (p.append, p.immutable) {
        (true, true) => ProtattrValue { buf: *b"ai", len: 2 },
        (true, false) => ProtattrValue { buf: *b"a\0", len: 1 },
        (false, true) => ProtattrValue { buf: *b"i\0", len: 1 },
        (false, false) => ProtattrValue { buf: [0; 2], len: 0 },
    }
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_xattrval))]
mod tests {
    use super::*;

    #[test]
    fn opaque_values() {
        assert_eq!(opaque(true, Some(b"y")), Opaque::Yes);
        assert_eq!(opaque(true, Some(b"x")), Opaque::XWhiteouts);
        assert_eq!(opaque(true, Some(b"n")), Opaque::No);
        assert_eq!(opaque(true, Some(b"yy")), Opaque::No);
        assert_eq!(opaque(true, Some(b"")), Opaque::No);
        assert_eq!(opaque(true, None), Opaque::No);
        assert_eq!(opaque(false, Some(b"y")), Opaque::No);
        assert_eq!(dir_xattr_val(true, Some(b"q")), b'q');
        assert!(is_impure(true, Some(YES)));
        assert!(!is_impure(true, Some(b"x")));
        assert!(!is_impure(false, Some(b"y")));
    }

    #[test]
    fn opaque_lookup() {
        assert_eq!(lookup_opaque(Opaque::Yes, true, true), OpaqueAction::Stop { opaque: true });
        assert_eq!(lookup_opaque(Opaque::Yes, false, false), OpaqueAction::Stop { opaque: false });
        assert_eq!(lookup_opaque(Opaque::XWhiteouts, true, false), OpaqueAction::XWhiteouts);
        assert_eq!(lookup_opaque(Opaque::XWhiteouts, true, true), OpaqueAction::Continue);
        assert_eq!(lookup_opaque(Opaque::XWhiteouts, false, false), OpaqueAction::Continue);
        assert_eq!(lookup_opaque(Opaque::No, true, false), OpaqueAction::Continue);
    }

    #[test]
    fn whiteouts() {
        assert!(is_whiteout_inode(S_IFCHR | 0o600, 0));
        assert!(!is_whiteout_inode(S_IFCHR | 0o600, 1));
        assert!(!is_whiteout_inode(S_IFREG, 0));
        assert!(is_xwhiteout(S_IFREG | 0o644, 0, true));
        assert!(!is_xwhiteout(S_IFREG | 0o644, 1, true));
        assert!(!is_xwhiteout(S_IFREG | 0o644, 0, false));
        assert!(!is_xwhiteout(S_IFDIR | 0o755, 0, true));
        assert!(is_whiteout(S_IFCHR, 0, 0, false));
        assert!(is_whiteout(S_IFREG, 5, 0, true));
        assert!(!is_whiteout(S_IFREG, 0, 0, false));
        assert!(readdir_check_xwhiteout(true, true, DT_REG));
        assert!(!readdir_check_xwhiteout(true, true, DT_CHR));
        assert!(!readdir_check_xwhiteout(false, true, DT_REG));
    }

    #[test]
    fn nlink_parse() {
        assert_eq!(parse_nlink(b"U+0"), Ok(Nlink { base: NlinkBase::Upper, diff: 0 }));
        assert_eq!(parse_nlink(b"L-3"), Ok(Nlink { base: NlinkBase::Lower, diff: -3 }));
        assert_eq!(parse_nlink(b"U+007\n"), Ok(Nlink { base: NlinkBase::Upper, diff: 7 }));
        assert_eq!(parse_nlink(b"L+2\0junk"), Ok(Nlink { base: NlinkBase::Lower, diff: 2 }));
        assert_eq!(parse_nlink(b"U-2147483648"), Ok(Nlink { base: NlinkBase::Upper, diff: i32::MIN }));
        assert_eq!(parse_nlink(b"U+2147483648"), Err(NlinkError::Overflow));
        assert_eq!(parse_nlink(b"U+99999999999"), Err(NlinkError::TooLong));
        assert_eq!(parse_nlink(b"X+1"), Err(NlinkError::Format));
        assert_eq!(parse_nlink(b"U1"), Err(NlinkError::Format));
        assert_eq!(parse_nlink(b"U"), Err(NlinkError::Format));
        assert_eq!(parse_nlink(b""), Err(NlinkError::Format));
        assert_eq!(parse_nlink(b"U\0+1"), Err(NlinkError::Format));
        assert_eq!(parse_nlink(b"U+"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U+\n"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U++1"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U--1"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U+1a"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U+1\n\n"), Err(NlinkError::BadNumber));
        assert_eq!(parse_nlink(b"U+ 1"), Err(NlinkError::BadNumber));
    }

    #[test]
    fn nlink_apply() {
        assert_eq!(get_nlink(None, Some(2), Some(b"U+1")), Ok(None));
        assert_eq!(get_nlink(Some(3), None, Some(b"U+1")), Ok(None));
        assert_eq!(get_nlink(Some(1), Some(2), Some(b"junk")), Ok(None));
        assert_eq!(get_nlink(Some(3), Some(2), None), Err(NlinkError::NoValue));
        assert_eq!(get_nlink(Some(3), Some(2), Some(b"U+1")), Ok(Some(3)));
        assert_eq!(get_nlink(Some(3), Some(2), Some(b"L-1")), Ok(Some(2)));
        assert_eq!(get_nlink(Some(3), Some(2), Some(b"L-3")), Err(NlinkError::NotPositive));
        assert_eq!(get_nlink(Some(3), Some(2), Some(b"x")), Err(NlinkError::Format));
        // The kernel's int arithmetic wraps.
        let n = Nlink { base: NlinkBase::Upper, diff: 1 };
        assert_eq!(n.apply(0, u32::MAX), Err(NlinkError::NotPositive));
        assert_eq!(n.apply(0, 0x7fff_ffff), Err(NlinkError::NotPositive));
        assert_eq!(n.apply(0, 0x7fff_fffe), Ok(0x7fff_ffff));
    }

    #[test]
    fn nlink_format() {
        assert_eq!(format_nlink(NlinkBase::Upper, 3, 3).as_bytes(), b"U+0");
        assert_eq!(format_nlink(NlinkBase::Lower, 5, 2).as_bytes(), b"L+3");
        assert_eq!(format_nlink(NlinkBase::Upper, 2, 12).as_bytes(), b"U-10");
        assert_eq!(format_nlink(NlinkBase::Upper, 0, 0x8000_0000).as_bytes(), b"U-2147483648");
        assert_eq!(format_nlink(NlinkBase::Lower, 0x7fff_ffff, 0).as_bytes(), b"L+2147483647");
        let v = format_nlink(NlinkBase::Lower, 7, 100);
        assert_eq!(parse_nlink(v.as_bytes()).and_then(|n| n.apply(100, 0)), Ok(7));
    }

    #[test]
    fn uuid_init() {
        let u = [7u8; UUID_SIZE];
        let none = || Err(ReadError::NoData);
        assert_eq!(parse_uuid(&u), Some(u));
        assert_eq!(parse_uuid(&u[..15]), None);
        assert_eq!(init_uuid(Uuid::Auto, Ok(&u), none), UuidInit::Use(u));
        assert_eq!(init_uuid(Uuid::On, Ok(&u[..3]), none), UuidInit::Fail);
        assert_eq!(init_uuid(Uuid::On, Err(ReadError::Other), none), UuidInit::Fail);
        assert_eq!(
            init_uuid(Uuid::On, Err(ReadError::NoData), none),
            UuidInit::Generate { config: Uuid::On }
        );
        assert_eq!(
            init_uuid(Uuid::Auto, Err(ReadError::NoData), none),
            UuidInit::Generate { config: Uuid::On }
        );
        assert_eq!(init_uuid(Uuid::Auto, Err(ReadError::NoData), || Ok(1)), UuidInit::Downgrade);
        assert_eq!(
            init_uuid(Uuid::Auto, Err(ReadError::NoData), || Ok(0)),
            UuidInit::Generate { config: Uuid::Auto }
        );
        assert_eq!(init_uuid(Uuid::Auto, Err(ReadError::NoData), || Err(ReadError::Other)), UuidInit::Fail);
    }

    #[test]
    fn protattr() {
        assert_eq!(parse_protattr(b"a"), Ok(ProtAttr { append: true, immutable: false }));
        assert_eq!(parse_protattr(b"ia"), Ok(ProtAttr { append: true, immutable: true }));
        assert_eq!(parse_protattr(b"iii"), Ok(ProtAttr { append: false, immutable: true }));
        assert_eq!(parse_protattr(b""), Err(ProtattrError::Invalid));
        assert_eq!(parse_protattr(b"ax"), Err(ProtattrError::Invalid));
        assert_eq!(parse_protattr(b"a\0"), Err(ProtattrError::Invalid));
        assert_eq!(parse_protattr(&[b'a'; PROTATTR_MAX]), Ok(ProtAttr { append: true, immutable: false }));
        assert_eq!(parse_protattr(&[b'a'; PROTATTR_MAX + 1]), Err(ProtattrError::TooLong));
        for (a, i) in [(false, false), (true, false), (false, true), (true, true)] {
            let p = ProtAttr { append: a, immutable: i };
            let v = format_protattr(p);
            assert_eq!(v.as_bytes().is_empty(), !a && !i);
            if a || i {
                assert_eq!(parse_protattr(v.as_bytes()), Ok(p));
            }
        }
        assert_eq!(format_protattr(ProtAttr { append: true, immutable: true }).as_bytes(), b"ai");
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The `overlay.metacopy` xattr: a regular file whose data is still in a
//! lower layer, optionally with the fs-verity digest the data must have.
//!
//! Mirrors `struct ovl_metacopy` (`fs/overlayfs/overlayfs.h`),
//! `ovl_check_metacopy_xattr`, `ovl_validate_verity` and
//! `ovl_set_metacopy_xattr` (`util.c`) of Linux 7.2.  The value is either
//! empty (metacopy without digest) or:
//!
//! ```text
//! offset 0: version      0
//!        1: len          size of the value: 4 + digest bytes
//!        2: flags        0
//!        3: digest_algo  FS_VERITY_HASH_ALG_* (0: no digest)
//!        4: digest[]     len - 4 bytes (at most 64)
//! ```
//!
//! All errors are `-EIO` (after the message of [`MetacopyError::message`])
//! except a value longer than the 68-byte buffer overlayfs reads it into,
//! which `getxattr` fails with `-ERANGE` (logged as "failed to get metacopy").
//! Lookup reads only the size of the value (see [`check_size`]); the version
//! and `len` are checked when the digest is needed (see [`parse`]).
//!
//! Pure logic: `core` only, no allocation, no panics on any input.

#![forbid(unsafe_code)]

use super::errno::Errno;
use super::options::Verity;

/// `FS_VERITY_MAX_DIGEST_SIZE` (SHA-512).
pub const DIGEST_MAX: usize = 64;
/// `OVL_METACOPY_MAX_SIZE`: `sizeof(struct ovl_metacopy)`.
pub const MAX_SIZE: usize = 4 + DIGEST_MAX;
/// `OVL_METACOPY_MIN_SIZE`: the header without digest.
pub const MIN_SIZE: usize = 4;
/// `FS_VERITY_HASH_ALG_SHA256`.
pub const VERITY_ALG_SHA256: u8 = 1;
/// `FS_VERITY_HASH_ALG_SHA512`.
pub const VERITY_ALG_SHA512: u8 = 2;

/// Why a metacopy xattr (or its digest) is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MetacopyError {
    /// 1 to 3 bytes.
    TooSmall,
    /// `version` is not 0.
    UnsupportedVersion,
    /// `len` differs from the size of the value.
    InvalidSize,
    /// Longer than [`MAX_SIZE`]: `getxattr` into overlayfs's buffer fails
    /// with `-ERANGE`.
    TooLarge,
}

impl MetacopyError {
    /// What overlayfs logs, after "metacopy file '<name>' " (for
    /// [`Self::TooLarge`]: the whole message, followed by " (-34)").
    pub fn message(&self) -> &'static str {
        match self {
            MetacopyError::TooSmall => "has too small xattr",
            MetacopyError::UnsupportedVersion => "has unsupported version",
            MetacopyError::InvalidSize => "has invalid xattr size",
            MetacopyError::TooLarge => "failed to get metacopy",
        }
    }

    /// The errno overlayfs returns.
    pub fn errno(&self) -> Errno {
        match self {
            MetacopyError::TooLarge => Errno::Range,
            _ => Errno::Io,
        }
    }
}

/// A fs-verity digest: the algorithm (`FS_VERITY_HASH_ALG_*`) and its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Digest<'a> {
    /// `FS_VERITY_HASH_ALG_*`, never 0 here.
    pub algo: u8,
    /// The digest bytes (`len - 4` of them, possibly none).
    pub bytes: &'a [u8],
}

/// A checked metacopy xattr value (`struct ovl_metacopy`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Metacopy<'a> {
    /// `flags` (0 in all values overlayfs writes; not interpreted).
    pub flags: u8,
    /// `digest_algo`; 0: no digest.
    pub digest_algo: u8,
    /// The digest bytes.
    pub digest: &'a [u8],
}

impl<'a> Metacopy<'a> {
    /// The digest to verify the lower data against, if any.
    pub fn digest(&self) -> Option<Digest<'a>> {
        if self.digest_algo == 0 {
            None
        } else {
            Some(Digest { algo: self.digest_algo, bytes: self.digest })
        }
    }

    /// What `ovl_check_metacopy_xattr` returns for it: the size, with an
    /// empty value counted as [`MIN_SIZE`].
    pub fn size(&self) -> usize {
        MIN_SIZE + self.digest.len()
    }
}

/// The lookup-time check (`ovl_check_metacopy_xattr` without data): only
/// the size of the value is known.  Returns what overlayfs returns (the
/// size, [`MIN_SIZE`] for an empty value); a present xattr makes the file
/// a metacopy file.
pub fn check_size(size: usize) -> Result<usize, MetacopyError> {
    match size {
        0 => Ok(MIN_SIZE),
        s if s < MIN_SIZE => Err(MetacopyError::TooSmall),
        s => Ok(s),
    }
}

/// Parses a whole value (`ovl_check_metacopy_xattr` with data).
pub fn parse(value: &[u8]) -> Result<Metacopy<'_>, MetacopyError> {
    if value.is_empty() {
        return Ok(Metacopy { flags: 0, digest_algo: 0, digest: &[] });
    }
    if value.len() > MAX_SIZE {
        return Err(MetacopyError::TooLarge);
    }
    let (Some(&version), Some(&len), Some(&flags), Some(&digest_algo)) =
        (value.first(), value.get(1), value.get(2), value.get(3))
    else {
        return Err(MetacopyError::TooSmall);
    };
    if version != 0 {
        return Err(MetacopyError::UnsupportedVersion);
    }
    if usize::from(len) != value.len() {
        return Err(MetacopyError::InvalidSize);
    }
    Ok(Metacopy { flags, digest_algo, digest: value.get(MIN_SIZE..).unwrap_or(&[]) })
}

/// Checks a metacopy xattr value and returns its digest, if any: `Ok(None)`
/// for a metacopy file without digest (an empty value or `digest_algo` 0).
pub fn check_metacopy(value: &[u8]) -> Result<Option<Digest<'_>>, MetacopyError> {
    parse(value).map(|m| m.digest())
}

/// Why the lower data of a metacopy file fails fs-verity validation; all
/// are `-EIO`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VerityError {
    /// The metacopy xattr itself is invalid.
    Metacopy(MetacopyError),
    /// `verity=require` and the metacopy file has no digest.
    NoDigest,
    /// The lower data file has no fs-verity digest.
    NoVerity,
    /// The digests differ (algorithm, size or bytes).
    WrongDigest,
}

impl VerityError {
    /// What overlayfs logs: after "metacopy file '<name>' " for the first
    /// two, after "lower file '<name>' " for the others.
    pub fn message(&self) -> &'static str {
        match self {
            VerityError::Metacopy(e) => e.message(),
            VerityError::NoDigest => "has no digest specified",
            VerityError::NoVerity => "has no fs-verity digest",
            VerityError::WrongDigest => "has the wrong fs-verity digest",
        }
    }

    /// The errno overlayfs returns.
    pub fn errno(&self) -> Errno {
        match self {
            VerityError::Metacopy(e) => e.errno(),
            _ => Errno::Io,
        }
    }
}

/// First half of `ovl_validate_verity`: the digest the lower data must
/// have.  `value` is the metacopy xattr (`None`: absent), `is_reg` whether
/// the metacopy inode is a regular file.  `Ok(None)`: nothing to check;
/// otherwise load the lower file's fs-verity digest (a failure to load it
/// is `-EIO`, "failed to load fs-verity info") and call [`verity_compare`].
pub fn verity_expected<'a>(
    mode: Verity,
    is_reg: bool,
    value: Option<&'a [u8]>,
) -> Result<Option<Digest<'a>>, VerityError> {
    if mode == Verity::Off || !is_reg {
        return Ok(None);
    }
    let digest = match value {
        Some(v) => parse(v).map_err(VerityError::Metacopy)?.digest(),
        None => None,
    };
    match digest {
        None if mode == Verity::Require => Err(VerityError::NoDigest),
        d => Ok(d),
    }
}

/// Second half of `ovl_validate_verity`: compares the expected digest with
/// the lower file's (`actual`: `None` when `fsverity_get_digest` found none).
pub fn verity_compare(expected: &Digest<'_>, actual: Option<&Digest<'_>>) -> Result<(), VerityError> {
    let actual = actual.filter(|a| !a.bytes.is_empty()).ok_or(VerityError::NoVerity)?;
    if expected.bytes.len() != actual.bytes.len()
        || expected.algo != actual.algo
        || expected.bytes != actual.bytes
    {
        return Err(VerityError::WrongDigest);
    }
    Ok(())
}

/// Encodes a metacopy xattr value into `out` (`ovl_set_metacopy_xattr`):
/// empty without digest, else the header and the digest.  Returns the
/// length; `None` if `out` is too small or the digest longer than
/// [`DIGEST_MAX`] or its algorithm 0.
pub fn encode(out: &mut [u8], digest: Option<&Digest<'_>>) -> Option<usize> {
    let Some(d) = digest else {
        return Some(0);
    };
    if d.algo == 0 || d.bytes.len() > DIGEST_MAX {
        return None;
    }
    let n = MIN_SIZE + d.bytes.len();
    let dst = out.get_mut(..n)?;
    let hdr = [0, u8::try_from(n).ok()?, 0, d.algo];
    for (o, s) in dst.iter_mut().zip(hdr.iter().chain(d.bytes)) {
        *o = *s;
    }
    Some(n)
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_metacopy))]
mod tests {
    use super::*;

    const SHA256: [u8; 32] = [0x5a; 32];

    #[test]
    fn sizes_at_lookup() {
        assert_eq!(check_size(0), Ok(MIN_SIZE));
        assert_eq!(check_size(1), Err(MetacopyError::TooSmall));
        assert_eq!(check_size(3), Err(MetacopyError::TooSmall));
        assert_eq!(check_size(4), Ok(4));
        assert_eq!(check_size(1000), Ok(1000));
        assert_eq!(MetacopyError::TooSmall.errno(), Errno::Io);
    }

    #[test]
    fn values() {
        assert_eq!(check_metacopy(b""), Ok(None));
        assert_eq!(parse(b"").map(|m| m.size()), Ok(MIN_SIZE));
        assert_eq!(check_metacopy(&[0, 4, 0, 0]), Ok(None));
        assert_eq!(parse(&[0, 4, 7, 0]).map(|m| m.flags), Ok(7));
        let mut v = [0u8; 36];
        assert_eq!(encode(&mut v, Some(&Digest { algo: VERITY_ALG_SHA256, bytes: &SHA256 })), Some(36));
        assert_eq!(v.get(..4), Some(&[0, 36, 0, 1][..]));
        assert_eq!(check_metacopy(&v), Ok(Some(Digest { algo: 1, bytes: &SHA256 })));
        assert_eq!(parse(&v).map(|m| m.size()), Ok(36));
        // digest_algo 0 with digest bytes: no digest.
        let mut z = v;
        z[3] = 0;
        assert_eq!(check_metacopy(&z), Ok(None));
        // An algorithm but no bytes: a digest that matches nothing.
        assert_eq!(check_metacopy(&[0, 4, 0, 2]), Ok(Some(Digest { algo: 2, bytes: &[] })));
    }

    #[test]
    fn invalid_values() {
        assert_eq!(check_metacopy(&[0]), Err(MetacopyError::TooSmall));
        assert_eq!(check_metacopy(&[0, 3, 0]), Err(MetacopyError::TooSmall));
        assert_eq!(check_metacopy(&[1, 4, 0, 0]), Err(MetacopyError::UnsupportedVersion));
        assert_eq!(check_metacopy(&[0, 5, 0, 0]), Err(MetacopyError::InvalidSize));
        assert_eq!(check_metacopy(&[0, 4, 0, 0, 9]), Err(MetacopyError::InvalidSize));
        assert_eq!(check_metacopy(&[0; MAX_SIZE + 1]), Err(MetacopyError::TooLarge));
        assert_eq!(MetacopyError::TooLarge.errno(), Errno::Range);
        let mut full = [0u8; MAX_SIZE];
        full[1] = MAX_SIZE as u8;
        full[3] = VERITY_ALG_SHA512;
        assert_eq!(check_metacopy(&full).map(|d| d.map(|d| d.bytes.len())), Ok(Some(DIGEST_MAX)));
        assert_eq!(MetacopyError::UnsupportedVersion.message(), "has unsupported version");
    }

    #[test]
    fn verity() {
        let mut v = [0u8; 36];
        let d = Digest { algo: VERITY_ALG_SHA256, bytes: &SHA256 };
        assert_eq!(encode(&mut v, Some(&d)), Some(36));
        assert_eq!(verity_expected(Verity::Off, true, Some(&v)), Ok(None));
        assert_eq!(verity_expected(Verity::On, false, Some(&[9])), Ok(None));
        assert_eq!(verity_expected(Verity::On, true, None), Ok(None));
        assert_eq!(verity_expected(Verity::On, true, Some(b"")), Ok(None));
        assert_eq!(verity_expected(Verity::Require, true, None), Err(VerityError::NoDigest));
        assert_eq!(verity_expected(Verity::Require, true, Some(&[0, 4, 0, 0])), Err(VerityError::NoDigest));
        assert_eq!(
            verity_expected(Verity::On, true, Some(&[2])),
            Err(VerityError::Metacopy(MetacopyError::TooSmall))
        );
        assert_eq!(verity_expected(Verity::Require, true, Some(&v)), Ok(Some(d)));
        assert_eq!(verity_compare(&d, Some(&d)), Ok(()));
        assert_eq!(verity_compare(&d, None), Err(VerityError::NoVerity));
        let other = Digest { algo: VERITY_ALG_SHA512, bytes: &SHA256 };
        assert_eq!(verity_compare(&d, Some(&other)), Err(VerityError::WrongDigest));
        let short = Digest { algo: VERITY_ALG_SHA256, bytes: &SHA256[..31] };
        assert_eq!(verity_compare(&d, Some(&short)), Err(VerityError::WrongDigest));
        let flipped = [0x5bu8; 32];
        let wrong = Digest { algo: VERITY_ALG_SHA256, bytes: &flipped };
        assert_eq!(verity_compare(&d, Some(&wrong)), Err(VerityError::WrongDigest));
        assert_eq!(VerityError::WrongDigest.errno(), Errno::Io);
    }

    #[test]
    fn encoding() {
        let mut out = [0u8; MAX_SIZE];
        assert_eq!(encode(&mut out, None), Some(0));
        assert_eq!(encode(&mut out, Some(&Digest { algo: 0, bytes: &SHA256 })), None);
        assert_eq!(encode(&mut out, Some(&Digest { algo: 1, bytes: &[0; DIGEST_MAX + 1] })), None);
        assert_eq!(encode(&mut out[..35], Some(&Digest { algo: 1, bytes: &SHA256 })), None);
        assert_eq!(encode(&mut out, Some(&Digest { algo: 2, bytes: &[7; DIGEST_MAX] })), Some(MAX_SIZE));
    }
}

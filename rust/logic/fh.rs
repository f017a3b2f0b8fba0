// SPDX-License-Identifier: GPL-2.0

//! Overlayfs file handles: the `overlay.origin` / `overlay.upper` xattr
//! values, the names of index entries and the handles exported to NFS.
//!
//! Mirrors `fs/overlayfs/overlayfs.h`, `namei.c`, `export.c` and
//! `copy_up.c` of Linux 7.2.  The on-disk form is `struct ovl_fb`:
//!
//! ```text
//! offset  0: version   0 (OVL_FH_VERSION)
//!         1: magic     0xfb (OVL_FH_MAGIC)
//!         2: len       header (21 bytes) + fid bytes
//!         3: flags     OVL_FH_FLAG_{BIG_ENDIAN,ANY_ENDIAN,PATH_UPPER}
//!         4: type      fid type of the real file system's handle
//!         5: uuid[16]  uuid of the real file system (null with uuid=off)
//!        21: fid[]     the real file handle, a whole number of 32-bit words
//! ```
//!
//! The exported (NFS) form is `struct ovl_fh`: three zero bytes of padding
//! (`OVL_FH_WIRE_OFFSET`) that keep `fid` 32-bit aligned, then the `ovl_fb`;
//! its file handle type is `OVL_FILEID_V1` (0xf8).  Handles of type
//! `OVL_FILEID_V0` (0xfb, from old kernels) hold the `ovl_fb` without the
//! padding.
//!
//! # Error mapping
//!
//! [`FhError::errno`] gives what overlayfs's helper returns; what the
//! callers make of it differs, as in overlayfs:
//!
//! * origin / upper xattr ([`fh_from_xattr`], `ovl_get_fh`): an empty value
//!   and [`FhError::Unknown`] (`-ENODATA`, a newer version, unknown flags or
//!   another byte order) mean "origin unknown", silently; [`FhError::Invalid`]
//!   (`-EINVAL`) is logged as [`INVALID_ORIGIN_MSG`] and then also treated as
//!   "no origin".  `ovl_check_origin` turns a handle that decodes to nothing
//!   (`-ESTALE`) into "no origin" too; `ovl_verify_fh` reports a mismatch as
//!   `-ESTALE` and no handle as `-ENODATA`.
//! * index entry names ([`fb_from_index_name`], `ovl_verify_index`): every
//!   error is logged as "failed to verify index" and the entry is refused.
//! * exported handles ([`check_wire`], `ovl_fh_to_dentry`): the error is
//!   returned as is (`-EINVAL` or `-ENODATA`) after logging
//!   [`DECODE_FAILED_MSG`]; a handle that no longer decodes gives `-ESTALE`.
//! * decoding the fid ([`Fb::stale_is_unknown`], `ovl_decode_real_fh`):
//!   `-ESTALE` from the real file system means "origin unknown" for a lower
//!   handle and stays `-ESTALE` for an upper one.
//! * encoding ([`encode_fb`], `ovl_encode_real_fh`): an unusable real handle
//!   is `-EIO`.
//!
//! Pure logic: `core` only, no allocation, no panics on any input.

#![forbid(unsafe_code)]

use super::errno::Errno;

/// `OVL_FH_VERSION`.
pub const VERSION: u8 = 0;
/// `OVL_FH_MAGIC`.
pub const MAGIC: u8 = 0xfb;
/// `OVL_FH_FLAG_BIG_ENDIAN`: the fid was encoded on a big-endian CPU.
pub const FLAG_BIG_ENDIAN: u8 = 1 << 0;
/// `OVL_FH_FLAG_ANY_ENDIAN`: the fid decodes on any CPU.
pub const FLAG_ANY_ENDIAN: u8 = 1 << 1;
/// `OVL_FH_FLAG_PATH_UPPER`: the fid is of an upper inode.
pub const FLAG_PATH_UPPER: u8 = 1 << 2;
/// `OVL_FH_FLAG_ALL`.
pub const FLAG_ALL: u8 = FLAG_BIG_ENDIAN | FLAG_ANY_ENDIAN | FLAG_PATH_UPPER;
/// `OVL_FH_FLAG_CPU_ENDIAN`: the byte-order flag of this CPU.
pub const FLAG_CPU_ENDIAN: u8 = if cfg!(target_endian = "big") { FLAG_BIG_ENDIAN } else { 0 };

/// `OVL_FILEID_V0`: exported handle type of old kernels (fid not aligned).
pub const FILEID_V0: i32 = 0xfb;
/// `OVL_FILEID_V1`: exported handle type (32-bit aligned fid).
pub const FILEID_V1: i32 = 0xf8;
/// `FILEID_INVALID`.
pub const FILEID_INVALID: u8 = 0xff;
/// `MAX_HANDLE_SZ`: the largest real file handle, in bytes.
pub const MAX_HANDLE_SZ: usize = 128;

/// `sizeof(uuid_t)`.
pub const UUID_SIZE: usize = 16;
/// `sizeof(struct ovl_fb)`: the header before the fid.
pub const FB_HEADER_LEN: usize = 21;
/// `OVL_FH_WIRE_OFFSET`: padding before the `ovl_fb` in `struct ovl_fh`.
pub const WIRE_OFFSET: usize = 3;
/// `sizeof(struct ovl_fh)`: the smallest exported handle.
pub const FH_HEADER_LEN: usize = WIRE_OFFSET + FB_HEADER_LEN;
/// `OVL_FH_FID_OFFSET`: offset of the fid in `struct ovl_fh` (aligned).
pub const FH_FID_OFFSET: usize = FH_HEADER_LEN;
/// The largest `ovl_fb` overlayfs writes (header + `MAX_HANDLE_SZ`).
pub const FB_MAX_LEN: usize = FB_HEADER_LEN + MAX_HANDLE_SZ;
/// The largest exported `ovl_fh` overlayfs writes.
pub const FH_MAX_LEN: usize = WIRE_OFFSET + FB_MAX_LEN;
/// Index entry names shorter than this are invalid (`ovl_verify_index`).
pub const INDEX_NAME_MIN: usize = 2 * FB_HEADER_LEN;

/// The message overlayfs logs for an invalid stored handle (`ovl_get_fh`:
/// `"invalid origin (%*phN)"`, followed by the value in hex).
pub const INVALID_ORIGIN_MSG: &str = "invalid origin";
/// The message overlayfs logs when an exported handle does not decode
/// (`ovl_fh_to_dentry`: `"failed to decode file handle (len=%d, type=%d,
/// flags=%x, err=%i)"`).
pub const DECODE_FAILED_MSG: &str = "failed to decode file handle";

const NULL_UUID: [u8; UUID_SIZE] = [0; UUID_SIZE];

/// Why a file handle was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FhError {
    /// Malformed: too short, `len` beyond the buffer, bad magic, bad hex in
    /// an index name, or an exported handle of an unknown type (`-EINVAL`).
    Invalid,
    /// Valid but not usable here: newer version, unknown flags, or encoded
    /// on a CPU of the other byte order; "origin unknown" (`-ENODATA`).
    Unknown,
    /// The real file handle cannot be stored: type `FILEID_INVALID`, longer
    /// than `MAX_HANDLE_SZ`, not whole 32-bit words, or unknown flags
    /// (`-EIO`, `ovl_encode_real_fh`).
    Encode,
    /// The output buffer is too small (`-EOVERFLOW`, as `name_to_handle_at`
    /// reports a too small handle buffer).
    NoSpace,
}

impl FhError {
    /// The errno overlayfs's helper returns for this error.
    pub fn errno(self) -> Errno {
        match self {
            FhError::Invalid => Errno::Inval,
            FhError::Unknown => Errno::NoData,
            FhError::Encode => Errno::Io,
            FhError::NoSpace => Errno::Overflow,
        }
    }
}

/// A checked `struct ovl_fb` (see [`check_fb`]), borrowed from its buffer.
///
/// Equality compares the first `len` bytes, as `ovl_verify_fh` does.
#[derive(Clone, Copy, Debug)]
pub struct Fb<'a> {
    /// The whole buffer: at least [`FB_HEADER_LEN`] and at least `len` bytes.
    buf: &'a [u8],
}

impl PartialEq for Fb<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Fb<'_> {}

impl<'a> Fb<'a> {
    fn byte(&self, i: usize) -> u8 {
        self.buf.get(i).copied().unwrap_or(0)
    }

    /// `version` (0).
    pub fn version(&self) -> u8 {
        self.byte(0)
    }

    /// `len`: header + fid bytes.
    pub fn fb_len(&self) -> u8 {
        self.byte(2)
    }

    /// `flags`: `FLAG_*`.
    pub fn flags(&self) -> u8 {
        self.byte(3)
    }

    /// `type`: the fid type of the real file system's handle.
    pub fn fh_type(&self) -> u8 {
        self.byte(4)
    }

    /// `uuid`: the uuid of the real file system the fid belongs to.
    pub fn uuid(&self) -> &'a [u8; UUID_SIZE] {
        self.buf
            .get(5..FB_HEADER_LEN)
            .and_then(|s| <&[u8; UUID_SIZE]>::try_from(s).ok())
            .unwrap_or(&NULL_UUID)
    }

    /// The fid bytes, `FB_HEADER_LEN..len`; empty when `len` is shorter than
    /// the header.
    pub fn fid(&self) -> &'a [u8] {
        self.buf.get(FB_HEADER_LEN..usize::from(self.fb_len())).unwrap_or(&[])
    }

    /// The length in 32-bit words that `ovl_decode_real_fh` passes to
    /// `exportfs_decode_fh` (`(len - 21) >> 2`); `None` when `len` is shorter
    /// than the header, where overlayfs passes a negative length that the
    /// real file system refuses: treat it as `-ESTALE` from the decoder.
    pub fn fid_dwords(&self) -> Option<usize> {
        usize::from(self.fb_len()).checked_sub(FB_HEADER_LEN).map(|b| b >> 2)
    }

    /// The part of the fid that is decoded: `fid_dwords()` whole words.
    pub fn decode_fid(&self) -> Option<&'a [u8]> {
        let n = self.fid_dwords()?.checked_mul(4)?;
        self.fid().get(..n)
    }

    /// The handle as overlayfs stores, compares and names it: the first
    /// `len` bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf.get(..usize::from(self.fb_len())).unwrap_or(&[])
    }

    /// `OVL_FH_FLAG_PATH_UPPER`: the fid is of an upper inode.
    pub fn is_upper(&self) -> bool {
        self.flags() & FLAG_PATH_UPPER != 0
    }

    /// `OVL_FH_FLAG_ANY_ENDIAN`.
    pub fn is_any_endian(&self) -> bool {
        self.flags() & FLAG_ANY_ENDIAN != 0
    }

    /// `OVL_FH_FLAG_BIG_ENDIAN`.
    pub fn is_big_endian(&self) -> bool {
        self.flags() & FLAG_BIG_ENDIAN != 0
    }

    /// Whether the fid decodes on this CPU.  Always true for a checked
    /// handle: [`check_fb`] refuses the other byte order as "unknown".
    pub fn is_native_endian(&self) -> bool {
        self.is_any_endian() || self.flags() & FLAG_BIG_ENDIAN == FLAG_CPU_ENDIAN
    }

    /// Whether `-ESTALE` from decoding the fid means "origin unknown"
    /// (lower handles) rather than an error (upper handles), as in
    /// `ovl_decode_real_fh`.
    pub fn stale_is_unknown(&self) -> bool {
        !self.is_upper()
    }
}

/// Checks an `ovl_fb` buffer (`ovl_check_fb_len`, with `fb_len` the buffer
/// length).  Bytes after `len` are allowed and ignored, as in overlayfs.
pub fn check_fb(buf: &[u8]) -> Result<Fb<'_>, FhError> {
    let (Some(&version), Some(&magic), Some(&len), Some(&flags)) =
        (buf.first(), buf.get(1), buf.get(2), buf.get(3))
    else {
        return Err(FhError::Invalid);
    };
    if buf.len() < FB_HEADER_LEN || buf.len() < usize::from(len) {
        return Err(FhError::Invalid);
    }
    if magic != MAGIC {
        return Err(FhError::Invalid);
    }
    // Larger version and unknown flags: "origin unknown".
    if version > VERSION || flags & !FLAG_ALL != 0 {
        return Err(FhError::Unknown);
    }
    // Endianness mismatch: "origin unknown".
    if flags & FLAG_ANY_ENDIAN == 0 && flags & FLAG_BIG_ENDIAN != FLAG_CPU_ENDIAN {
        return Err(FhError::Unknown);
    }
    Ok(Fb { buf })
}

/// Interprets the value of an `overlay.origin` or `overlay.upper` xattr
/// (`ovl_get_fh`).  `Ok(None)`: no usable handle — an empty value ("copied up
/// but origin unknown") or a handle of another version, flag set or byte
/// order.  `Err(Invalid)`: overlayfs logs [`INVALID_ORIGIN_MSG`] with the
/// value in hex and then also goes on without a handle.
///
/// (Linux 7.2 has no other legacy form: a first byte 0 is version 0.)
pub fn fh_from_xattr(value: &[u8]) -> Result<Option<Fb<'_>>, FhError> {
    if value.is_empty() {
        return Ok(None);
    }
    match check_fb(value) {
        Ok(fb) => Ok(Some(fb)),
        Err(FhError::Unknown) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a stored handle may be decoded on a layer whose file system has
/// uuid `sb_uuid` (`ovl_uuid_match`): with `origin_uuid` (any `uuid=` but
/// `off`) the uuids must be equal, with `uuid=off` the stored one must be
/// null.
pub fn uuid_match(origin_uuid: bool, fh_uuid: &[u8; UUID_SIZE], sb_uuid: &[u8; UUID_SIZE]) -> bool {
    if origin_uuid {
        fh_uuid == sb_uuid
    } else {
        *fh_uuid == NULL_UUID
    }
}

/// Checks an exported handle: `fid` holds the `fh_len << 2` bytes the VFS
/// passes to `fh_to_dentry`, `fh_type` its type (`ovl_fh_to_dentry`,
/// `ovl_fid_to_fh`, `ovl_check_fh_len`).  For `OVL_FILEID_V1` the `ovl_fb`
/// starts after the padding; for the old `OVL_FILEID_V0` at the start (and
/// overlayfs only looks at the first `len - 3` bytes).
pub fn check_wire(fid: &[u8], fh_type: i32) -> Result<Fb<'_>, FhError> {
    let fb = match fh_type {
        FILEID_V1 => fid.get(WIRE_OFFSET..),
        FILEID_V0 => fid.len().checked_sub(WIRE_OFFSET).filter(|&n| n > 0).and_then(|n| fid.get(..n)),
        _ => None,
    }
    .ok_or(FhError::Invalid)?;
    if fid.len() < FH_HEADER_LEN {
        return Err(FhError::Invalid);
    }
    check_fb(fb)
}

/// The flags `ovl_encode_real_fh` stores: this CPU's byte order, plus
/// `FLAG_PATH_UPPER` for an upper inode.
pub fn encode_flags(is_upper: bool) -> u8 {
    if is_upper {
        FLAG_CPU_ENDIAN | FLAG_PATH_UPPER
    } else {
        FLAG_CPU_ENDIAN
    }
}

/// Encodes an `ovl_fb` into `out` (the layout of `ovl_encode_real_fh`):
/// `fh_type` and `fid` are what `exportfs_encode_inode_fh` gave (`fid` a
/// whole number of 32-bit words, at most `MAX_HANDLE_SZ` bytes), `uuid` the
/// real file system's uuid (pass a null uuid with `uuid=off`), `flags` from
/// [`encode_flags`].  Returns the length, `FB_HEADER_LEN + fid.len()`: the
/// xattr value is `out[..len]`.
pub fn encode_fb(
    out: &mut [u8],
    fh_type: u8,
    uuid: &[u8; UUID_SIZE],
    fid: &[u8],
    flags: u8,
) -> Result<usize, FhError> {
    if fh_type == FILEID_INVALID
        || fid.len() > MAX_HANDLE_SZ
        || !fid.len().is_multiple_of(4)
        || flags & !FLAG_ALL != 0
    {
        return Err(FhError::Encode);
    }
    let n = FB_HEADER_LEN + fid.len();
    let len = u8::try_from(n).map_err(|_| FhError::Encode)?;
    let dst = out.get_mut(..n).ok_or(FhError::NoSpace)?;
    let hdr = [VERSION, MAGIC, len, flags, fh_type];
    for (d, s) in dst.iter_mut().zip(hdr.iter().chain(uuid).chain(fid)) {
        *d = *s;
    }
    Ok(n)
}

/// Encodes the exported form (`struct ovl_fh`, type [`FILEID_V1`]) into
/// `out`, as `ovl_dentry_to_fid` copies it out: three zero bytes, then the
/// `ovl_fb` of [`encode_fb`].  Returns the length in bytes, a multiple of
/// four (`*max_len` is that divided by four).
pub fn encode_wire(
    out: &mut [u8],
    fh_type: u8,
    uuid: &[u8; UUID_SIZE],
    fid: &[u8],
    flags: u8,
) -> Result<usize, FhError> {
    let need = wire_len(fid.len());
    if out.len() < need {
        // Report a bad real handle before a small buffer, like overlayfs
        // (which encodes first and compares with the buffer size after).
        let mut scratch = [0u8; FB_MAX_LEN];
        encode_fb(&mut scratch, fh_type, uuid, fid, flags)?;
        return Err(FhError::NoSpace);
    }
    let (pad, fb) = out.split_at_mut_checked(WIRE_OFFSET).ok_or(FhError::NoSpace)?;
    let n = encode_fb(fb, fh_type, uuid, fid, flags)?;
    pad.fill(0);
    Ok(WIRE_OFFSET + n)
}

/// `OVL_FH_LEN`: the exported length for a fid of `fid_len` bytes.
pub fn wire_len(fid_len: usize) -> usize {
    FH_HEADER_LEN.saturating_add(fid_len)
}

/// Copies a checked handle into the exported form (padding + the first
/// `len` bytes), e.g. for a handle read from an xattr.  Returns the length.
pub fn fb_to_wire(fb: &Fb<'_>, out: &mut [u8]) -> Result<usize, FhError> {
    let b = fb.as_bytes();
    let n = WIRE_OFFSET + b.len();
    let dst = out.get_mut(..n).ok_or(FhError::NoSpace)?;
    for (d, s) in dst.iter_mut().zip([0u8; WIRE_OFFSET].iter().chain(b)) {
        *d = *s;
    }
    Ok(n)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The name of the index entry of a handle (`ovl_get_index_name_fh`): the
/// first `len` bytes in lower-case hex (`bin2hex`).  Returns the name, the
/// first `2 * len` bytes of `out`.
pub fn index_name<'o>(fb: &Fb<'_>, out: &'o mut [u8]) -> Result<&'o [u8], FhError> {
    let b = fb.as_bytes();
    let n = b.len().checked_mul(2).ok_or(FhError::NoSpace)?;
    let dst = out.get_mut(..n).ok_or(FhError::NoSpace)?;
    let mut it = dst.iter_mut();
    for &byte in b {
        if let (Some(hi), Some(lo)) = (it.next(), it.next()) {
            *hi = HEX.get(usize::from(byte >> 4)).copied().unwrap_or(b'0');
            *lo = HEX.get(usize::from(byte & 0xf)).copied().unwrap_or(b'0');
        }
    }
    Ok(dst)
}

/// `hex_to_bin`: either case.
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the name of an index entry back into its handle
/// (`ovl_verify_index`): at least [`INDEX_NAME_MIN`] characters, read as
/// `name.len() / 2` hex bytes (a last odd character is ignored, as in
/// overlayfs) into `out`, then checked with [`check_fb`].  Any error makes
/// overlayfs refuse the entry.
pub fn fb_from_index_name<'o>(name: &[u8], out: &'o mut [u8]) -> Result<Fb<'o>, FhError> {
    if name.len() < INDEX_NAME_MIN {
        return Err(FhError::Invalid);
    }
    let n = name.len() / 2;
    let dst = out.get_mut(..n).ok_or(FhError::NoSpace)?;
    let mut src = name.iter().copied();
    for d in dst.iter_mut() {
        let (Some(hi), Some(lo)) = (src.next().and_then(hex_val), src.next().and_then(hex_val)) else {
            return Err(FhError::Invalid);
        };
        *d = (hi << 4) | lo;
    }
    check_fb(dst)
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_fh))]
mod tests {
    use super::*;

    const UUID: [u8; UUID_SIZE] =
        [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01];
    const FID: [u8; 8] = [1, 0, 0, 0, 0x2a, 0, 0, 0];

    /// A valid stored handle: header + FID (29 bytes), native byte order.
    fn sample(flags: u8) -> [u8; 29] {
        let mut b = [0u8; 29];
        let _ = encode_fb(&mut b, 1, &UUID, &FID, flags);
        b
    }

    #[test]
    fn encode_layout() {
        let mut out = [0xeeu8; 40];
        assert_eq!(encode_fb(&mut out, 1, &UUID, &FID, encode_flags(false)), Ok(29));
        assert_eq!(out.get(..5), Some(&[0, 0xfb, 29, FLAG_CPU_ENDIAN, 1][..]));
        assert_eq!(out.get(5..21), Some(&UUID[..]));
        assert_eq!(out.get(21..29), Some(&FID[..]));
        assert_eq!(out.get(29), Some(&0xee));
        assert_eq!(encode_flags(true), FLAG_CPU_ENDIAN | FLAG_PATH_UPPER);
        let mut wire = [0xeeu8; 40];
        assert_eq!(encode_wire(&mut wire, 1, &UUID, &FID, encode_flags(true)), Ok(32));
        assert_eq!(wire.get(..4), Some(&[0, 0, 0, 0][..]));
        assert_eq!(
            wire.get(3..32),
            encode_fb(&mut out, 1, &UUID, &FID, encode_flags(true)).ok().and_then(|n| out.get(..n))
        );
        assert_eq!(wire_len(FID.len()), 32);
        assert_eq!(wire_len(FID.len()) % 4, 0);
    }

    #[test]
    fn encode_refuses() {
        let mut out = [0u8; FH_MAX_LEN];
        assert_eq!(encode_fb(&mut out, FILEID_INVALID, &UUID, &FID, 0), Err(FhError::Encode));
        assert_eq!(encode_fb(&mut out, 1, &UUID, &[1, 2, 3], 0), Err(FhError::Encode));
        assert_eq!(encode_fb(&mut out, 1, &UUID, &[0; MAX_HANDLE_SZ + 4], 0), Err(FhError::Encode));
        assert_eq!(encode_fb(&mut out, 1, &UUID, &FID, 0x08), Err(FhError::Encode));
        assert_eq!(encode_fb(&mut out, 1, &UUID, &[0; MAX_HANDLE_SZ], 0), Ok(FB_MAX_LEN));
        assert_eq!(encode_wire(&mut out, 1, &UUID, &[0; MAX_HANDLE_SZ], 0), Ok(FH_MAX_LEN));
        let mut small = [0u8; 28];
        assert_eq!(encode_fb(&mut small, 1, &UUID, &FID, 0), Err(FhError::NoSpace));
        let mut small = [0u8; 31];
        assert_eq!(encode_wire(&mut small, 1, &UUID, &FID, 0), Err(FhError::NoSpace));
        assert_eq!(encode_wire(&mut small, FILEID_INVALID, &UUID, &FID, 0), Err(FhError::Encode));
        assert_eq!(FhError::Encode.errno(), Errno::Io);
    }

    #[test]
    fn check_accepts_and_reads() {
        let b = sample(encode_flags(true));
        let fb = check_fb(&b);
        assert!(fb.is_ok());
        if let Ok(fb) = fb {
            assert_eq!(fb.version(), 0);
            assert_eq!(fb.fb_len(), 29);
            assert_eq!(fb.fh_type(), 1);
            assert_eq!(fb.uuid(), &UUID);
            assert_eq!(fb.fid(), &FID[..]);
            assert_eq!(fb.fid_dwords(), Some(2));
            assert_eq!(fb.decode_fid(), Some(&FID[..]));
            assert!(fb.is_upper());
            assert!(!fb.stale_is_unknown());
            assert!(fb.is_native_endian());
            assert_eq!(fb.as_bytes(), &b[..]);
        }
        // Trailing bytes after len are ignored.
        let mut long = [0u8; 40];
        long[..29].copy_from_slice(&b);
        long[35] = 9;
        assert_eq!(check_fb(&long).map(|f| f.as_bytes()), Ok(&b[..]));
        assert_eq!(check_fb(&long), check_fb(&b));
        // Any-endian handles pass on both byte orders.
        let any = sample(FLAG_ANY_ENDIAN | (FLAG_CPU_ENDIAN ^ FLAG_BIG_ENDIAN));
        assert!(check_fb(&any).is_ok());
    }

    #[test]
    fn check_refuses() {
        let b = sample(0);
        assert_eq!(check_fb(&[]), Err(FhError::Invalid));
        assert_eq!(check_fb(&b[..20]), Err(FhError::Invalid));
        assert_eq!(check_fb(&b[..28]), Err(FhError::Invalid));
        let mut m = b;
        m[1] = 0xfa;
        assert_eq!(check_fb(&m), Err(FhError::Invalid));
        let mut m = b;
        m[0] = 1;
        assert_eq!(check_fb(&m), Err(FhError::Unknown));
        let mut m = b;
        m[3] = 0x08;
        assert_eq!(check_fb(&m), Err(FhError::Unknown));
        let mut m = b;
        m[3] = FLAG_CPU_ENDIAN ^ FLAG_BIG_ENDIAN;
        assert_eq!(check_fb(&m), Err(FhError::Unknown));
        assert_eq!(FhError::Unknown.errno(), Errno::NoData);
        assert_eq!(FhError::Invalid.errno(), Errno::Inval);
        // len shorter than the header: accepted, but nothing to decode.
        let mut m = b;
        m[2] = 3;
        let fb = check_fb(&m);
        assert_eq!(fb.map(|f| f.fid_dwords()), Ok(None));
        assert_eq!(fb.map(|f| f.fid()), Ok(&[][..]));
        assert_eq!(fb.map(|f| f.as_bytes()), Ok(&m[..3]));
        // A fid that is not whole words decodes its whole words only.
        let mut m = b;
        m[2] = 27;
        assert_eq!(check_fb(&m).map(|f| f.decode_fid()), Ok(Some(&FID[..4])));
    }

    #[test]
    fn xattr_values() {
        assert_eq!(fh_from_xattr(b""), Ok(None));
        let b = sample(0);
        assert_eq!(fh_from_xattr(&b).map(|o| o.map(|f| f.fh_type())), Ok(Some(1)));
        let mut m = b;
        m[0] = 7;
        assert_eq!(fh_from_xattr(&m), Ok(None));
        assert_eq!(fh_from_xattr(b"\0"), Err(FhError::Invalid));
        assert_eq!(fh_from_xattr(b"y"), Err(FhError::Invalid));
        assert!(uuid_match(true, &UUID, &UUID));
        assert!(!uuid_match(true, &UUID, &NULL_UUID));
        assert!(uuid_match(false, &NULL_UUID, &UUID));
        assert!(!uuid_match(false, &UUID, &UUID));
    }

    #[test]
    fn wire_forms() {
        let mut w = [0u8; 32];
        assert_eq!(encode_wire(&mut w, 1, &UUID, &FID, 0), Ok(32));
        assert_eq!(check_wire(&w, FILEID_V1).map(|f| f.fid()), Ok(&FID[..]));
        assert_eq!(check_wire(&w, 0x81), Err(FhError::Invalid));
        assert_eq!(check_wire(&w[..20], FILEID_V1), Err(FhError::Invalid));
        assert_eq!(check_wire(&[], FILEID_V0), Err(FhError::Invalid));
        assert_eq!(check_wire(&w[..3], FILEID_V0), Err(FhError::Invalid));
        // V0: the ovl_fb at offset 0, rounded up to whole words.
        let mut v0 = [0u8; 32];
        v0[..29].copy_from_slice(&sample(0));
        assert_eq!(check_wire(&v0, FILEID_V0).map(|f| f.fid()), Ok(&FID[..]));
        let fb = check_wire(&w, FILEID_V1);
        let mut again = [0u8; 32];
        assert_eq!(fb.and_then(|f| fb_to_wire(&f, &mut again)), Ok(32));
        assert_eq!(again, w);
        assert_eq!(fb.and_then(|f| fb_to_wire(&f, &mut again[..31])), Err(FhError::NoSpace));
    }

    #[test]
    fn index_names() {
        let b = sample(0);
        let fb = check_fb(&b);
        let mut name = [0u8; 2 * FB_MAX_LEN];
        let n = fb.and_then(|f| index_name(&f, &mut name).map(|s| s.len()));
        assert_eq!(n, Ok(58));
        assert_eq!(name.get(..10), Some(&b"00fb1d0001"[..]));
        let mut back = [0u8; FB_MAX_LEN];
        assert_eq!(fb_from_index_name(&name[..58], &mut back).map(|f| f.as_bytes()), Ok(&b[..]));
        // Upper case and an odd trailing character are accepted.
        let mut upper = name;
        upper[3] = b'B';
        upper[58] = b'z';
        assert_eq!(fb_from_index_name(&upper[..59], &mut back).map(|f| f.fb_len()), Ok(29));
        upper[4] = b'g';
        assert_eq!(fb_from_index_name(&upper[..58], &mut back), Err(FhError::Invalid));
        assert_eq!(fb_from_index_name(&name[..41], &mut back), Err(FhError::Invalid));
        assert_eq!(fb_from_index_name(&name[..58], &mut back[..10]), Err(FhError::NoSpace));
        let mut small = [0u8; 57];
        assert_eq!(fb.and_then(|f| index_name(&f, &mut small).map(|s| s.len())), Err(FhError::NoSpace));
    }
}

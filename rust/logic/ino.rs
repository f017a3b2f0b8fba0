// SPDX-License-Identifier: GPL-2.0

//! Inode numbers and devices the overlay reports: `st_ino`/`st_dev` of
//! `stat(2)`, `i_ino`, and `d_ino` of `readdir(3)`, including the `xino`
//! feature that folds a layer's fsid into the high bits of the real inode
//! number.
//!
//! Mirrors Linux 7.2: `ovl_same_fs`, `ovl_same_dev`, `ovl_xino_bits`
//! (`overlayfs.h`); the `xino_mode` set-up of `ovl_fill_super`,
//! `ovl_lower_dir`, `ovl_make_workdir` and `ovl_get_layers`, and the fsid
//! assignment of `ovl_get_fsid` / `ovl_lower_uuid_ok` / `ovl_get_data_fsid`
//! (`super.c`); `ovl_map_dev_ino`, `ovl_getattr`, `ovl_map_ino`,
//! `ovl_next_ino` (`inode.c`); `ovl_calc_d_ino`, `ovl_remap_lower_ino`,
//! `ovl_cache_update`, `ovl_fill_real`, `ovl_need_adjust_d_ino`
//! (`readdir.c`).
//!
//! `xino_mode` ([`XinoMode`]) is -1 when not all inodes can share the
//! overlay's `st_dev`, 0 when all layers are on one file system (real inode
//! numbers are used as they are), and otherwise the number of high bits
//! taken from the real inode numbers: the top bits hold the fsid (0 for the
//! upper file system, also with no upper layer), the lowest of them marks
//! the non-persistent numbers used when a real inode number is too big.
//! (Linux 7.2 has no `OVL_XINO_ALLOWED`; 32 bits are used when every layer
//! has 32-bit inode numbers, see [`xino_setup`].)
//!
//! Pure logic over integers: `core` only, no panics on any input (shifts
//! that overlayfs never makes give 0 instead of overflowing).

#![forbid(unsafe_code)]

use super::options::Xino;

/// `OVL_MAX_STACK`: the most lower layers.
pub const MAX_STACK: u32 = 500;

/// `ofs->xino_mode`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct XinoMode(i32);

impl XinoMode {
    /// -1: not all inodes on the overlay `st_dev`.
    pub const DISABLED: XinoMode = XinoMode(-1);
    /// 0: all layers on the same file system.
    pub const SAME_FS: XinoMode = XinoMode(0);

    /// From the raw value (values outside -1..=64 behave like -1 or 64).
    pub fn from_raw(mode: i32) -> Self {
        XinoMode(mode.clamp(-1, 64))
    }

    /// The raw value.
    pub fn raw(self) -> i32 {
        self.0
    }

    /// `ovl_same_fs`: all layers on the same file system.
    pub fn same_fs(self) -> bool {
        self.0 == 0
    }

    /// `ovl_same_dev`: all overlay inodes have the same `st_dev`.
    pub fn same_dev(self) -> bool {
        self.0 >= 0
    }

    /// `ovl_xino_bits`: high inode number bits used for the fsid (0: none).
    pub fn bits(self) -> u32 {
        if self.same_dev() {
            self.0.unsigned_abs()
        } else {
            0
        }
    }
}

/// A message `xino_setup` makes overlayfs log.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum XinoMsg {
    /// `pr_warn`: 32-bit kernel.
    NotSupported32Bit,
    /// `pr_info`: `xino=on` with all layers on one file system.
    Useless,
    /// `pr_info`: xino in use, with this many bits.
    Enabled(u32),
}

impl XinoMsg {
    /// The message text (for [`XinoMsg::Enabled`], print the bits where
    /// the text has `%d`: "\"xino\" feature enabled using %d upper inode
    /// bits.").
    pub fn message(&self) -> &'static str {
        match self {
            XinoMsg::NotSupported32Bit => "xino not supported on 32bit kernel, falling back to xino=off.",
            XinoMsg::Useless => "\"xino=on\" is useless with all layers on same fs, ignore.",
            XinoMsg::Enabled(_) => "\"xino\" feature enabled using %d upper inode bits.",
        }
    }
}

/// The outcome of [`xino_setup`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct XinoSetup {
    /// `ofs->xino_mode`.
    pub mode: XinoMode,
    /// The `xino=` option from now on (`off` on a 32-bit kernel).
    pub xino: Xino,
    /// What to log, in order (at most two).
    pub msgs: [Option<XinoMsg>; 2],
}

/// Computes `ofs->xino_mode` as `ovl_fill_super`, `ovl_lower_dir`,
/// `ovl_make_workdir` and `ovl_get_layers` do, from: the final `xino=` mode
/// (after the fallbacks to `off` of [`fsid_uuid_check`] and for layers
/// without file handles), `BITS_PER_LONG`, whether every layer (upper too)
/// encodes file handles of type `FILEID_INO32_GEN` (32-bit inode numbers),
/// `numfs` (file systems including the reserved fsid 0 for the upper, see
/// [`find_fsid`]) and whether there is an upper layer.
pub fn xino_setup(xino: Xino, bits_per_long: u32, all_ino32: bool, numfs: u32, has_upper: bool) -> XinoSetup {
    let mut msgs = [None, None];
    let mut xino = xino;
    // "Assume underlying fs uses 32bit inodes unless proven otherwise".
    let mut mode: i32 = 0;
    if xino != Xino::Off {
        mode = i32::try_from(bits_per_long.saturating_sub(32)).unwrap_or(0);
        if mode == 0 {
            msgs[0] = Some(XinoMsg::NotSupported32Bit);
            xino = Xino::Off;
        }
    }
    if !all_ino32 {
        mode = -1;
    }
    if numfs.saturating_sub(u32::from(!has_upper)) == 1 {
        if xino == Xino::On {
            msgs[1] = Some(XinoMsg::Useless);
        }
        mode = 0;
    } else if xino == Xino::Off {
        mode = -1;
    } else if mode < 0 {
        // Bits for the fsid (fsid 0 is the upper even without one) plus
        // the bit of the non-persistent range.
        let fsid_bits = numfs.saturating_sub(1).checked_ilog2().unwrap_or(0);
        mode = i32::try_from(fsid_bits + 2).unwrap_or(-1);
    }
    if mode > 0 {
        msgs[1] = Some(XinoMsg::Enabled(mode.unsigned_abs()));
    }
    XinoSetup { mode: XinoMode::from_raw(mode), xino, msgs }
}

/// `ofs->fs[i]` for the fsid of a layer (`ovl_get_fsid`): the index of the
/// file system `sb` among those already known (`fs[0]` is the upper's, or
/// unused without upper), or `None`: a new fsid, `fs.len()`.
pub fn find_fsid<T: PartialEq>(fs: &[T], sb: &T) -> Option<usize> {
    fs.iter().position(|f| f == sb)
}

/// `ovl_get_data_fsid`: data-only layers share the fsid after the last
/// lower file system (a "null fs" without pseudo dev).
pub fn data_fsid(numfs: u32) -> u32 {
    numfs
}

/// What a new lower file system's uuid means (`ovl_lower_uuid_ok`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UuidCheck {
    /// Origin file handles can be matched to this file system.
    Ok,
    /// Null uuid and none of the features that need it: not usable.
    Null,
    /// Same uuid as the already known lower file system `fs[i]`: neither
    /// can be used (overlayfs sets `bad_uuid` on both).
    Conflict(usize),
}

/// `ovl_lower_uuid_ok`: `uuid` is the new file system's uuid as overlayfs
/// uses it (null with `uuid=off`), `lowers` the uuids of the known file
/// systems that hold lower layers (`fs[i].is_lower`), with their index.
/// `allow_offline_changes`: none of index, metacopy, `redirect_dir=on`,
/// `xino=on` (`ovl_allow_offline_changes`).  `origin_uuid`: `uuid=` is not
/// `off`.
pub fn lower_uuid_check<'a>(
    nfs_export: bool,
    has_upper: bool,
    allow_offline_changes: bool,
    origin_uuid: bool,
    uuid: &[u8; 16],
    lowers: impl IntoIterator<Item = (usize, &'a [u8; 16])>,
) -> UuidCheck {
    if !nfs_export && !has_upper {
        return UuidCheck::Ok;
    }
    let null = *uuid == [0; 16];
    if allow_offline_changes && null {
        return UuidCheck::Null;
    }
    for (i, sb_uuid) in lowers {
        // ovl_uuid_match(ofs, fs[i].sb, uuid)
        let matches = if origin_uuid { uuid == sb_uuid } else { null };
        if matches {
            return UuidCheck::Conflict(i);
        }
    }
    UuidCheck::Ok
}

/// The feature fallbacks of `ovl_get_fsid` for a file system whose uuid is
/// not usable ([`lower_uuid_check`] not `Ok`): returns the new `xino=`,
/// `index`, `nfs_export`, and whether to log "<null|conflicting> uuid in
/// non-single lower fs '...', falling back to xino=...,index=off,nfs_export=off.".
pub fn fsid_uuid_check(xino: Xino, index: bool, nfs_export: bool) -> (Xino, bool, bool, bool) {
    let mut warn = false;
    let mut xino = xino;
    if xino == Xino::Auto {
        xino = Xino::Off;
        warn = true;
    }
    if index || nfs_export {
        warn = true;
    }
    (xino, false, false, warn)
}

fn shr(v: u64, n: u32) -> u64 {
    v.checked_shr(n).unwrap_or(0)
}

fn shl(v: u64, n: u32) -> u64 {
    v.checked_shl(n).unwrap_or(0)
}

/// `ino | fsid << (64 - bits + 1)` if `ino` leaves the high `bits` bits
/// free, the mapping of `ovl_map_dev_ino`, `ovl_map_ino` and
/// `ovl_remap_lower_ino`; `None` without xino bits or when `ino` is too big.
pub fn xino_map(ino: u64, bits: u32, fsid: u32) -> Option<u64> {
    if bits == 0 {
        return None;
    }
    let shift = 64u32.saturating_sub(bits);
    if shr(ino, shift) != 0 {
        return None;
    }
    Some(ino | shl(u64::from(fsid), shift + 1))
}

/// The device `stat(2)` reports.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StDev {
    /// The overlay's `s_dev`.
    Overlay,
    /// The pseudo device of the layer's file system, `ofs->fs[fsid].pseudo_dev`.
    Pseudo(u32),
}

/// `st_dev` / `st_ino` as `ovl_map_dev_ino` sets them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DevIno {
    /// `st_dev`.
    pub dev: StDev,
    /// `st_ino`.
    pub ino: u64,
    /// Log "inode number too big (..., ino=%llu, xinobits=%d)" (xino=on).
    pub warn_too_big: bool,
}

/// `ovl_map_dev_ino`: `ino` and `fsid` as chosen by [`getattr_ino`],
/// `i_ino` the overlay inode's number (used for directories that cannot be
/// mapped), `warn` is `xino=on` (`ovl_xino_warn`).
pub fn map_dev_ino(x: XinoMode, warn: bool, ino: u64, fsid: u32, is_dir: bool, i_ino: u64) -> DevIno {
    if x.same_fs() {
        return DevIno { dev: StDev::Overlay, ino, warn_too_big: false };
    }
    let bits = x.bits();
    let mut warn_too_big = false;
    if bits != 0 {
        if let Some(mapped) = xino_map(ino, bits, fsid) {
            return DevIno { dev: StDev::Overlay, ino: mapped, warn_too_big: false };
        }
        warn_too_big = warn;
    }
    if is_dir {
        DevIno { dev: StDev::Overlay, ino: i_ino, warn_too_big }
    } else {
        DevIno { dev: StDev::Pseudo(fsid), ino, warn_too_big }
    }
}

/// The overlay dentry as `ovl_getattr` sees it (`ovl_path_type` and flags).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Real {
    /// No upper: the real inode is in the lower layer of fsid `fsid`.
    Lower {
        /// `ovl_layer_lower(dentry)->fsid`.
        fsid: u32,
    },
    /// Upper without a copy-up origin whose inode number is kept.
    Upper,
    /// Upper with its origin (`OVL_TYPE_ORIGIN`) in the layer of `fsid`.
    Origin {
        /// `ovl_layer_lower(dentry)->fsid`.
        fsid: u32,
        /// `st_ino` of the origin.
        ino: u64,
        /// `st_nlink` of the origin (asked for non-directories only).
        nlink: u32,
    },
}

/// `st_ino` and the fsid `ovl_getattr` passes to `ovl_map_dev_ino`: the
/// real inode's `real_ino`, or the origin's when that is safe (indexed, or
/// not `verify_lower` and a directory or a single-link file).
/// `index`: the inode has `OVL_INDEX`; `verify_lower`: `nfs_export=on` and
/// `index=on` (`ovl_verify_lower`).
pub fn getattr_ino(
    x: XinoMode,
    is_dir: bool,
    real: Real,
    real_ino: u64,
    index: bool,
    verify_lower: bool,
) -> (u64, u32) {
    if is_dir && !x.same_dev() {
        return (real_ino, 0);
    }
    match real {
        Real::Lower { fsid } => (real_ino, fsid),
        Real::Upper => (real_ino, 0),
        Real::Origin { fsid, ino, nlink } => {
            if index || (!verify_lower && (is_dir || nlink == 1)) {
                (ino, fsid)
            } else {
                (real_ino, 0)
            }
        }
    }
}

/// `stat(2)`'s `st_nlink` rules of `ovl_getattr` after the real one:
/// merged directories report 1, indexed non-directories the overlay
/// inode's own count.
pub fn getattr_nlink(is_dir: bool, merge: bool, index: bool, real_nlink: u32, i_nlink: u32) -> u32 {
    if is_dir && merge {
        1
    } else if !is_dir && index {
        i_nlink
    } else {
        real_nlink
    }
}

/// `i_ino` of a new overlay inode (`ovl_map_ino`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IIno {
    /// Use this number.
    Ino(u64),
    /// A directory whose number cannot be mapped: allocate a
    /// non-persistent one with [`next_ino`].
    Next,
}

/// `ovl_map_ino`: `ino`/`fsid` of the inode the overlay inode is keyed on.
pub fn map_ino(x: XinoMode, ino: u64, fsid: u32, is_dir: bool) -> IIno {
    if x.same_fs() {
        return IIno::Ino(ino);
    }
    if let Some(mapped) = xino_map(ino, x.bits(), fsid) {
        return IIno::Ino(mapped);
    }
    if is_dir {
        IIno::Next
    } else {
        IIno::Ino(ino)
    }
}

/// `ovl_next_ino` and the tail of `ovl_map_ino`: `inc` is
/// `atomic_long_inc_return(&ofs->last_ino)` (called again if it gives 0);
/// with xino bits the number moves into the non-persistent range (only the
/// lowest xino bit set).
pub fn next_ino(x: XinoMode, mut inc: impl FnMut() -> u64) -> u64 {
    let mut ino = inc();
    if ino == 0 {
        ino = inc();
    }
    let bits = x.bits();
    if bits != 0 {
        ino &= shr(u64::MAX, bits);
        ino |= shl(1, 64u32.saturating_sub(bits));
    }
    ino
}

/// `ovl_remap_lower_ino`: `d_ino` of an entry of a lower layer with xino
/// bits.  `Err(ino)`: too big, reported unchanged (log "d_ino too big" with
/// `xino=on`).
pub fn remap_lower_ino(ino: u64, bits: u32, fsid: u32) -> Result<u64, u64> {
    xino_map(ino, bits, fsid).ok_or(ino)
}

/// `ovl_calc_d_ino`: whether a merged-directory cache entry's `d_ino` must
/// be recomputed at iteration time ([`cache_entry_ino`]) rather than taken
/// from the real directory.  `iterating`: the cache is for `iterate`
/// (`rdd->dentry` set); `is_upper`: the entry comes from the upper layer;
/// `dir_impure`: the directory has `OVL_IMPURE`.
pub fn calc_d_ino(iterating: bool, x: XinoMode, name: &[u8], is_upper: bool, dir_impure: bool) -> bool {
    if !iterating {
        return false;
    }
    if x.bits() != 0 || name == b".." {
        return true;
    }
    if !is_upper {
        return false;
    }
    name == b"." || dir_impure
}

/// Whether `ovl_cache_update` looks the entry up at all: with a common
/// `st_dev` (to fix `d_ino`) or to check for an xattr whiteout.
pub fn cache_update_lookup(x: XinoMode, check_xwhiteout: bool) -> bool {
    x.same_dev() || check_xwhiteout
}

/// The overlay entry found by `ovl_cache_update`'s lookup.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entry {
    /// `OVL_TYPE_ORIGIN`: report the overlay's own `st_ino`.
    Origin,
    /// Upper without origin: the real number.
    Upper,
    /// Lower only, in the layer of `fsid`.
    Lower {
        /// `ovl_layer_lower(this)->fsid`.
        fsid: u32,
    },
}

/// What `d_ino` a merged-directory entry gets (`ovl_cache_update` after a
/// successful lookup).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EntryIno {
    /// This number.
    Ino(u64),
    /// This number, which was too big to remap (log "d_ino too big" with
    /// `xino=on`).
    TooBig(u64),
    /// `vfs_getattr(STATX_INO)` of the overlay entry and its `st_ino`.
    Stat,
}

/// `ovl_cache_update` after the lookup: `real_ino` is the real directory's
/// `d_ino`, `update_ino` whether `d_ino` is to be recomputed (it was 0).
pub fn cache_entry_ino(x: XinoMode, update_ino: bool, real_ino: u64, entry: Entry) -> EntryIno {
    if !x.same_dev() || !update_ino {
        return EntryIno::Ino(real_ino);
    }
    match entry {
        Entry::Origin => EntryIno::Stat,
        Entry::Lower { fsid } if x.bits() != 0 => match remap_lower_ino(real_ino, x.bits(), fsid) {
            Ok(i) => EntryIno::Ino(i),
            Err(i) => EntryIno::TooBig(i),
        },
        _ => EntryIno::Ino(real_ino),
    }
}

/// `ovl_need_adjust_d_ino`: whether iterating a non-merged directory must
/// translate `d_ino` ([`RealDirTranslate`]) rather than pass the real
/// directory's entries through.  `impure`: opened on the upper layer and
/// `OVL_IMPURE`; `parent_merge`: the parent is a merged directory.
pub fn need_adjust_d_ino(x: XinoMode, impure: bool, parent_merge: bool) -> bool {
    if x.bits() != 0 {
        return true;
    }
    x.same_fs() && (impure || parent_merge)
}

/// The `d_ino` translation of `ovl_iterate_real` / `ovl_fill_real`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RealDirTranslate {
    /// `st_ino` of the parent for `..` when the parent is merged, else 0.
    pub parent_ino: u64,
    /// The impure cache is in use (upper dir with `OVL_IMPURE`).
    pub has_cache: bool,
    /// `ovl_xino_bits`.
    pub bits: u32,
    /// The fsid of the directory's lower layer (0 if none or no xino bits).
    pub fsid: u32,
}

impl RealDirTranslate {
    /// `d_ino` for an entry `name` with real `d_ino` `ino`; `cache` looks
    /// the name up in the impure cache.  `Err(ino)`: too big to remap
    /// (log "d_ino too big" with `xino=on`).
    pub fn d_ino(&self, name: &[u8], ino: u64, cache: impl FnOnce(&[u8]) -> Option<u64>) -> Result<u64, u64> {
        if self.parent_ino != 0 && name == b".." {
            Ok(self.parent_ino)
        } else if self.has_cache {
            Ok(cache(name).unwrap_or(ino))
        } else if self.bits != 0 {
            remap_lower_ino(ino, self.bits, self.fsid)
        } else {
            Ok(ino)
        }
    }
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_ino))]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert!(XinoMode::SAME_FS.same_fs() && XinoMode::SAME_FS.same_dev());
        assert_eq!(XinoMode::SAME_FS.bits(), 0);
        assert!(!XinoMode::DISABLED.same_dev() && !XinoMode::DISABLED.same_fs());
        assert_eq!(XinoMode::DISABLED.bits(), 0);
        assert_eq!(XinoMode::from_raw(3).bits(), 3);
        assert_eq!(XinoMode::from_raw(-7), XinoMode::DISABLED);
        assert_eq!(XinoMode::from_raw(1000).raw(), 64);
    }

    #[test]
    fn setup() {
        // One lower fs, no upper: same fs.
        let s = xino_setup(Xino::On, 64, false, 2, false);
        assert_eq!((s.mode, s.msgs), (XinoMode::SAME_FS, [None, Some(XinoMsg::Useless)]));
        // Upper and lowers on the upper's fs.
        assert_eq!(xino_setup(Xino::Auto, 64, false, 1, true).mode, XinoMode::SAME_FS);
        // Two file systems, xino off.
        assert_eq!(xino_setup(Xino::Off, 64, true, 2, true).mode, XinoMode::DISABLED);
        // Not all 32-bit: bits for the fsids plus one.
        let s = xino_setup(Xino::Auto, 64, false, 2, true);
        assert_eq!((s.mode.raw(), s.msgs[1]), (2, Some(XinoMsg::Enabled(2))));
        assert_eq!(xino_setup(Xino::Auto, 64, false, 3, true).mode.raw(), 3);
        assert_eq!(xino_setup(Xino::Auto, 64, false, 5, true).mode.raw(), 4);
        assert_eq!(xino_setup(Xino::On, 64, false, 502, true).mode.raw(), 10);
        // All 32-bit inode numbers: 32 bits.
        assert_eq!(xino_setup(Xino::Auto, 64, true, 3, true).mode.raw(), 32);
        // 32-bit kernel.
        let s = xino_setup(Xino::On, 32, true, 3, true);
        assert_eq!(
            (s.mode, s.xino, s.msgs[0]),
            (XinoMode::DISABLED, Xino::Off, Some(XinoMsg::NotSupported32Bit))
        );
        assert_eq!(XinoMsg::Useless.message(), "\"xino=on\" is useless with all layers on same fs, ignore.");
    }

    #[test]
    fn fsids() {
        assert_eq!(find_fsid(&[10, 20, 30], &20), Some(1));
        assert_eq!(find_fsid(&[10, 20], &40), None);
        assert_eq!(data_fsid(3), 3);
        let a = [1u8; 16];
        let b = [2u8; 16];
        let null = [0u8; 16];
        let lowers = [(1usize, &a)];
        assert_eq!(lower_uuid_check(false, false, true, true, &null, lowers), UuidCheck::Ok);
        assert_eq!(lower_uuid_check(false, true, true, true, &null, lowers), UuidCheck::Null);
        assert_eq!(lower_uuid_check(false, true, false, true, &null, lowers), UuidCheck::Ok);
        assert_eq!(lower_uuid_check(true, false, false, true, &a, lowers), UuidCheck::Conflict(1));
        assert_eq!(lower_uuid_check(true, false, false, true, &b, lowers), UuidCheck::Ok);
        assert_eq!(lower_uuid_check(true, false, false, false, &null, lowers), UuidCheck::Conflict(1));
        assert_eq!(fsid_uuid_check(Xino::Auto, false, false), (Xino::Off, false, false, true));
        assert_eq!(fsid_uuid_check(Xino::On, true, false), (Xino::On, false, false, true));
        assert_eq!(fsid_uuid_check(Xino::Off, false, false), (Xino::Off, false, false, false));
    }

    #[test]
    fn stat_mapping() {
        let x2 = XinoMode::from_raw(2);
        assert_eq!(xino_map(5, 2, 1), Some(5 | 1 << 63));
        assert_eq!(xino_map(5, 2, 0), Some(5));
        assert_eq!(xino_map(1 << 62, 2, 1), None);
        assert_eq!(xino_map(5, 0, 1), None);
        assert_eq!(xino_map(5, 32, 3), Some(5 | 3 << 33));
        assert_eq!(
            map_dev_ino(XinoMode::SAME_FS, true, 7, 1, false, 99),
            DevIno { dev: StDev::Overlay, ino: 7, warn_too_big: false }
        );
        assert_eq!(
            map_dev_ino(x2, true, 7, 1, false, 99),
            DevIno { dev: StDev::Overlay, ino: 7 | 1 << 63, warn_too_big: false }
        );
        assert_eq!(
            map_dev_ino(x2, true, u64::MAX, 1, false, 99),
            DevIno { dev: StDev::Pseudo(1), ino: u64::MAX, warn_too_big: true }
        );
        assert_eq!(
            map_dev_ino(x2, false, u64::MAX, 1, true, 99),
            DevIno { dev: StDev::Overlay, ino: 99, warn_too_big: false }
        );
        assert_eq!(
            map_dev_ino(XinoMode::DISABLED, true, 7, 2, false, 99),
            DevIno { dev: StDev::Pseudo(2), ino: 7, warn_too_big: false }
        );
        assert_eq!(
            map_dev_ino(XinoMode::DISABLED, true, 7, 2, true, 99),
            DevIno { dev: StDev::Overlay, ino: 99, warn_too_big: false }
        );
    }

    #[test]
    fn getattr_choice() {
        let same = XinoMode::SAME_FS;
        let origin = Real::Origin { fsid: 1, ino: 50, nlink: 1 };
        assert_eq!(getattr_ino(same, false, Real::Lower { fsid: 2 }, 10, false, false), (10, 2));
        assert_eq!(getattr_ino(same, false, Real::Upper, 10, false, false), (10, 0));
        assert_eq!(getattr_ino(same, false, origin, 10, false, false), (50, 1));
        assert_eq!(getattr_ino(same, false, origin, 10, false, true), (10, 0));
        assert_eq!(getattr_ino(same, false, origin, 10, true, true), (50, 1));
        let linked = Real::Origin { fsid: 1, ino: 50, nlink: 2 };
        assert_eq!(getattr_ino(same, false, linked, 10, false, false), (10, 0));
        assert_eq!(getattr_ino(same, true, linked, 10, false, false), (50, 1));
        // Directories without a common st_dev keep the real number.
        assert_eq!(getattr_ino(XinoMode::DISABLED, true, origin, 10, true, false), (10, 0));
        assert_eq!(getattr_ino(XinoMode::DISABLED, false, origin, 10, false, false), (50, 1));
        assert_eq!(getattr_nlink(true, true, false, 5, 9), 1);
        assert_eq!(getattr_nlink(false, false, true, 5, 9), 9);
        assert_eq!(getattr_nlink(true, false, false, 5, 9), 5);
    }

    #[test]
    fn inode_numbers() {
        let x2 = XinoMode::from_raw(2);
        assert_eq!(map_ino(XinoMode::SAME_FS, u64::MAX, 3, true), IIno::Ino(u64::MAX));
        assert_eq!(map_ino(x2, 9, 1, false), IIno::Ino(9 | 1 << 63));
        assert_eq!(map_ino(x2, u64::MAX, 1, false), IIno::Ino(u64::MAX));
        assert_eq!(map_ino(x2, u64::MAX, 1, true), IIno::Next);
        assert_eq!(map_ino(XinoMode::DISABLED, 9, 1, true), IIno::Next);
        assert_eq!(map_ino(XinoMode::DISABLED, 9, 1, false), IIno::Ino(9));
        let mut c = 0u64;
        assert_eq!(
            next_ino(XinoMode::DISABLED, || {
                c = c.wrapping_add(1);
                c
            }),
            1
        );
        let mut c = u64::MAX;
        assert_eq!(
            next_ino(XinoMode::DISABLED, || {
                c = c.wrapping_add(1);
                c
            }),
            1
        );
        let mut c = 6u64;
        assert_eq!(
            next_ino(x2, || {
                c += 1;
                c
            }),
            7 | 1 << 62
        );
        let mut c = u64::MAX - 1;
        assert_eq!(
            next_ino(x2, || {
                c += 1;
                c
            }),
            (u64::MAX >> 2) | 1 << 62
        );
    }

    #[test]
    fn readdir_d_ino() {
        let x2 = XinoMode::from_raw(2);
        assert!(!calc_d_ino(false, x2, b"a", true, true));
        assert!(calc_d_ino(true, x2, b"a", false, false));
        assert!(calc_d_ino(true, XinoMode::SAME_FS, b"..", false, false));
        assert!(!calc_d_ino(true, XinoMode::SAME_FS, b"a", false, true));
        assert!(calc_d_ino(true, XinoMode::SAME_FS, b".", true, false));
        assert!(!calc_d_ino(true, XinoMode::SAME_FS, b"a", true, false));
        assert!(calc_d_ino(true, XinoMode::SAME_FS, b"a", true, true));
        assert!(cache_update_lookup(XinoMode::SAME_FS, false));
        assert!(!cache_update_lookup(XinoMode::DISABLED, false));
        assert!(cache_update_lookup(XinoMode::DISABLED, true));
        assert_eq!(cache_entry_ino(x2, true, 4, Entry::Origin), EntryIno::Stat);
        assert_eq!(cache_entry_ino(x2, false, 4, Entry::Origin), EntryIno::Ino(4));
        assert_eq!(cache_entry_ino(XinoMode::DISABLED, true, 4, Entry::Origin), EntryIno::Ino(4));
        assert_eq!(cache_entry_ino(x2, true, 4, Entry::Lower { fsid: 1 }), EntryIno::Ino(4 | 1 << 63));
        assert_eq!(cache_entry_ino(x2, true, u64::MAX, Entry::Lower { fsid: 1 }), EntryIno::TooBig(u64::MAX));
        assert_eq!(cache_entry_ino(XinoMode::SAME_FS, true, 4, Entry::Lower { fsid: 1 }), EntryIno::Ino(4));
        assert_eq!(cache_entry_ino(x2, true, 4, Entry::Upper), EntryIno::Ino(4));
        assert_eq!(remap_lower_ino(4, 2, 1), Ok(4 | 1 << 63));
        assert_eq!(remap_lower_ino(1 << 63, 2, 1), Err(1 << 63));
    }

    #[test]
    fn real_dir_translation() {
        assert!(need_adjust_d_ino(XinoMode::from_raw(2), false, false));
        assert!(!need_adjust_d_ino(XinoMode::DISABLED, true, true));
        assert!(!need_adjust_d_ino(XinoMode::SAME_FS, false, false));
        assert!(need_adjust_d_ino(XinoMode::SAME_FS, true, false));
        assert!(need_adjust_d_ino(XinoMode::SAME_FS, false, true));
        let t = RealDirTranslate { parent_ino: 77, has_cache: true, bits: 0, fsid: 0 };
        assert_eq!(t.d_ino(b"..", 5, |_| Some(1)), Ok(77));
        assert_eq!(t.d_ino(b"a", 5, |n| if n == b"a" { Some(40) } else { None }), Ok(40));
        assert_eq!(t.d_ino(b"b", 5, |_| None), Ok(5));
        let t = RealDirTranslate { parent_ino: 0, has_cache: false, bits: 2, fsid: 1 };
        assert_eq!(t.d_ino(b"..", 5, |_| None), Ok(5 | 1 << 63));
        assert_eq!(t.d_ino(b"x", u64::MAX, |_| None), Err(u64::MAX));
        let t = RealDirTranslate { parent_ino: 0, has_cache: false, bits: 0, fsid: 0 };
        assert_eq!(t.d_ino(b"x", 5, |_| Some(9)), Ok(5));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Overlay inodes: their layers, inode numbers, attributes and permissions
//! (`fs/overlayfs/inode.c`, parts of `util.c`).

#![forbid(unsafe_code)]

use super::readdir::DirCaches;
use super::super_::OvlFs;
use super::util::CBuf;
use super::Rovl;
use crate::logic::ino;
use crate::logic::xattr::OvlXattr;
use crate::vfs::dentry::{DEntry, Named, RevalFlags, Unhashed};
use crate::vfs::fs::SuperBlock;
use crate::vfs::inode::{self, attr as iattr, inode_flags, FileAttr, Fiemap, IGet, INode, INodeParams, Iattr, NewObject};
use crate::vfs::real::{Acl, DelayedCall, Kstat, LinkTarget, RealDentry};
use crate::vfs::write::WriteAccess;
use crate::vfs::{may, FileType};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::{Mutex, SetOnce};

/// A real dentry on a layer (`struct ovl_path`); `layer` is the 1-based
/// layer index.
#[derive(Clone)]
pub(crate) struct OvlPath {
    pub(crate) layer: usize,
    pub(crate) dentry: ARef<RealDentry>,
}

/// Inode flags (`enum ovl_inode_flag`).
pub(crate) mod flag {
    /// A directory that may hold whiteouts: iterate it merged.
    pub(crate) const WHITEOUTS: usize = 1 << 0;
    /// The inode number is that of a lower inode (stable).
    pub(crate) const CONST_INO: usize = 1 << 1;
    /// The metacopy xattr holds a digest.
    pub(crate) const HAS_DIGEST: usize = 1 << 2;
    /// The fs-verity digest of the data was verified.
    pub(crate) const VERIFIED_DIGEST: usize = 1 << 3;
    /// The upper inode has the data (not a metacopy file).
    pub(crate) const UPPERDATA: usize = 1 << 4;
    /// An upper directory that holds copied-up entries (`overlay.impure`).
    pub(crate) const IMPURE: usize = 1 << 5;
    /// The upper inode is (a hard link of) an index entry (`OVL_INDEX`).
    pub(crate) const INDEX: usize = 1 << 6;
    /// A metacopy file whose data a file handle decodes to is the data
    /// its lookup found (checked at the first encoding, NFS export).
    pub(crate) const EXPORT_DATA: usize = 1 << 7;
}

/// The data of a metacopy file whose data lies in a data-only layer,
/// looked up at first open (`ovl_maybe_lookup_lowerdata`).
pub(crate) struct LazyData {
    /// The absolute redirect to the data, from the data layers' roots.
    pub(crate) redirect: CBuf,
    /// The data, once found.
    pub(crate) found: SetOnce<OvlPath>,
}

/// Per-inode data (`struct ovl_inode` + `struct ovl_entry`).
pub(crate) struct OvlInode {
    /// The upper dentry (layer 0), set once: at lookup, or by copy-up
    /// (`oi->__upperdentry`).
    upper: SetOnce<OvlPath>,
    /// The lower stack, top first (`oe->__lowerstack`).
    pub(crate) stack: KVec<OvlPath>,
    /// The lazily looked-up data of a metacopy file, if any.
    pub(crate) lazy_data: Option<LazyData>,
    /// `enum ovl_inode_flag` bits.
    pub(crate) flags: AtomicUsize,
    /// The version of a directory, bumped by changes that the readdir
    /// caches must see (`oi->version`).
    version: AtomicU64,
    /// The readdir caches of a directory (`ovl_dir_cache`).
    pub(crate) dir_cache: Option<Pin<KBox<Mutex<DirCaches>>>>,
}

impl OvlInode {
    /// Whether flag `f` is set.  (Acquire: what was written before the
    /// flag was set, e.g. the upper data, is seen.)
    pub(crate) fn test(&self, f: usize) -> bool {
        self.flags.load(Ordering::Acquire) & f != 0
    }

    /// Sets flag `f`.
    pub(crate) fn set(&self, f: usize) {
        self.flags.fetch_or(f, Ordering::Release);
    }

    /// Clears flag `f`.
    pub(crate) fn clear(&self, f: usize) {
        self.flags.fetch_and(!f, Ordering::Release);
    }

    /// Sets the upper dentry after a copy-up; the caller holds the inode's
    /// copy-up lock, so it is set once.  See [`inode_update`].
    fn set_upper(&self, dentry: ARef<RealDentry>) {
        self.upper.populate(OvlPath { layer: 0, dentry });
    }

    /// The directory's version (`ovl_inode_version_get`).
    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// A change the readdir caches must see (`ovl_dir_version_inc`).
    pub(crate) fn version_inc(&self) {
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A regular file whose data is in another layer (`ovl_is_metacopy_dentry`).
    pub(crate) fn is_metacopy(&self, ft: FileType) -> bool {
        if ft != FileType::Reg {
            return false;
        }
        if self.has_upper() {
            return !self.test(flag::UPPERDATA);
        }
        self.numlower() > 1
    }

    /// The upper dentry, if any (`ovl_i_dentry_upper`).
    pub(crate) fn upper(&self) -> Option<&OvlPath> {
        self.upper.as_ref()
    }

    /// The upper dentry, `EIO` if there is none (where the caller made
    /// sure there is one: copied up, or a parent of an upper entry).
    pub(crate) fn upper_dentry(&self) -> Result<ARef<RealDentry>> {
        self.upper.as_ref().map(|u| u.dentry.clone()).ok_or(EIO)
    }

    /// Whether the inode has an upper dentry.
    pub(crate) fn has_upper(&self) -> bool {
        self.upper.as_ref().is_some()
    }

    /// The lower stack (`ovl_lowerstack`).
    pub(crate) fn lowers(&self) -> &[OvlPath] {
        &self.stack
    }

    /// The upper dentry, then the lower stack.
    pub(crate) fn all_layers(&self) -> impl Iterator<Item = &OvlPath> {
        Iterator::chain(self.upper.as_ref().into_iter(), self.stack.iter())
    }

    /// The number of lower layers, the lazy data counted (`ovl_numlower`).
    pub(crate) fn numlower(&self) -> usize {
        self.stack.len() + usize::from(self.lazy_data.is_some())
    }

    /// The real path metadata comes from: the upper dentry, else the top
    /// of the lower stack (`ovl_i_path_real`).
    pub(crate) fn real(&self) -> Result<&OvlPath> {
        self.upper.as_ref().or(self.stack.first()).ok_or(EIO)
    }

    /// The real path data comes from (`ovl_i_path_realdata`): the upper
    /// dentry if it has the data, else the bottom of the stack or the
    /// lazily found data; `None` if not looked up yet.
    pub(crate) fn lowerdata(&self) -> Option<&OvlPath> {
        if let Some(u) = self.upper.as_ref() {
            if self.test(flag::UPPERDATA) {
                return Some(u);
            }
        }
        match &self.lazy_data {
            Some(l) => l.found.as_ref(),
            None => self.stack.last(),
        }
    }

    /// A directory (only directories have a readdir cache).
    fn is_dir(&self) -> bool {
        self.dir_cache.is_some()
    }

    /// `OVL_TYPE_MERGE`: a directory of several layers, or a file whose
    /// upper has no data (metacopy) or that is in several lower layers.
    pub(crate) fn is_merge(&self) -> bool {
        if self.has_upper() {
            self.numlower() > 0 && (self.is_dir() || !self.test(flag::UPPERDATA))
        } else {
            self.numlower() > 1
        }
    }

    /// The upper inode has a copy-up origin whose inode number it uses
    /// (`OVL_TYPE_ORIGIN`).
    pub(crate) fn has_origin(&self) -> bool {
        self.has_upper() && self.numlower() > 0 && self.test(flag::CONST_INO)
    }
}

/// The union of the revalidation flags of a stack (`ovl_dentry_init_reval`).
pub(crate) fn stack_reval(stack: &[OvlPath]) -> RevalFlags {
    stack.iter().fold(RevalFlags::NONE, |acc, p| acc.union(p.dentry.reval_flags()))
}

/// `ovl_map_ino`: the overlay `i_ino` for real inode number `ino` on `fsid`.
fn map_ino(ofs: &OvlFs, ino: u64, fsid: usize, is_dir: bool) -> u64 {
    let bits = ofs.xino_bits();
    if ofs.same_fs() {
        return ino;
    }
    if let Some(mapped) = ino::xino_map(ino, bits, fsid as u32) {
        return mapped;
    }
    if is_dir {
        // A non-persistent number, in the range of the lowest xino bit.
        let mut i = ofs.next_ino();
        if bits > 0 {
            i &= u64::MAX >> bits;
            i |= 1u64 << (64 - bits);
        }
        return i;
    }
    ino
}

/// `ovl_is_impuredir`: an upper directory with `overlay.impure` = "y".
fn is_impuredir(ofs: &OvlFs, dentry: &RealDentry) -> bool {
    ofs.upper.as_ref().is_some_and(|u| ofs.dir_xattr_val(u, dentry, OvlXattr::Impure) == b'y')
}

fn new_data(
    ofs: &OvlFs,
    upper: Option<ARef<RealDentry>>,
    stack: KVec<OvlPath>,
    lazy_data: Option<LazyData>,
    is_dir: bool,
    mut flags: usize,
) -> Result<OvlInode> {
    let real = match &upper {
        Some(u) => (0, u),
        None => {
            let p = stack.first().ok_or(EIO)?;
            (p.layer, &p.dentry)
        }
    };
    if is_dir {
        // A directory that may hold whiteouts: merged, or with an origin
        // (it was copied up by an overlay that used it as upper).
        let layer = ofs.layer(real.0)?;
        if (upper.is_some() && !stack.is_empty())
            || stack.len() > 1
            || ofs.with_creds(|| ofs.has_xattr(layer, real.1, OvlXattr::Origin))
        {
            flags |= flag::WHITEOUTS;
        }
        if upper.is_some() && ofs.with_creds(|| is_impuredir(ofs, real.1)) {
            flags |= flag::IMPURE;
        }
    }
    let dir_cache = if is_dir { Some(KBox::pin_init(new_mutex_depth!(DirCaches::default(), ofs.stack_depth()), GFP_KERNEL)?) } else { None };
    let up = SetOnce::new();
    if let Some(u) = upper {
        up.populate(OvlPath { layer: 0, dentry: u });
    }
    Ok(OvlInode { upper: up, stack, lazy_data, flags: AtomicUsize::new(flags), version: AtomicU64::new(0), dir_cache })
}

/// `ovl_hash_bylower`: whether the inode is hashed by its lower inode
/// (whose number it then keeps) rather than its upper one.
fn hash_bylower(ofs: &OvlFs, upper: bool, lower: Option<&RealDentry>, index: bool) -> bool {
    let Some(lower) = lower else {
        return false;
    };
    if index {
        return true;
    }
    if ofs.upper.is_none() {
        return true;
    }
    // A lower hard link is or will be broken on copy up (no index).
    if (upper || ofs.indexdir().is_none()) && !lower.can_lookup() && lower.inode().is_some_and(|i| i.nlink() > 1) {
        return false;
    }
    if ofs.config.nfs_export && upper {
        return false;
    }
    true
}

/// `ovl_get_nlink`: the nlink of an upper hard link of a lower inode, from
/// `overlay.nlink` ([`xattrval::get_nlink`]).
pub(crate) fn get_nlink(ofs: &OvlFs, lower: Option<&RealDentry>, upper: Option<&RealDentry>, fallback: u32) -> u32 {
    use crate::logic::xattrval::{self, NlinkError};
    let (Some(lower), Some(upper)) = (lower, upper) else {
        return fallback;
    };
    let (Some(li), Some(ui)) = (lower.inode(), upper.inode()) else {
        return fallback;
    };
    if li.nlink() == 1 {
        return fallback;
    }
    let Some(layer) = ofs.upper.as_ref() else {
        return fallback;
    };
    let mut buf = [0u8; xattrval::NLINK_MAX];
    let (value, read_err) = match ofs.with_creds(|| ofs.getxattr_ovl(layer, upper, OvlXattr::Nlink, Some(&mut buf))) {
        Ok(Some(n)) => (buf.get(..n), 0),
        Ok(None) => (None, crate::vfs::enodata().to_errno()),
        Err(e) => (None, e.to_errno()),
    };
    let len = value.map_or(0, |v| v.len() as i32);
    match xattrval::get_nlink(Some(li.nlink()), Some(ui.nlink()), value) {
        Ok(Some(n)) => n,
        Ok(None) => fallback,
        Err(e) => {
            // The err overlayfs logs: the getxattr error, the value's
            // length for a bad format, kstrtoint's error, 0 for a link
            // count that is not positive.
            let err = match e {
                NlinkError::NoValue => read_err,
                NlinkError::TooLong | NlinkError::Overflow => ERANGE.to_errno(),
                NlinkError::Format => len,
                NlinkError::BadNumber => EINVAL.to_errno(),
                NlinkError::NotPositive => 0,
            };
            super::util::with_name2(upper, |n| {
                warn_rl!("failed to get index nlink ({}, err={})\n", kernel::str::BStr::from_bytes(n), err)
            });
            fallback
        }
    }
}

/// The real inode flags an overlay inode shares (`OVL_COPY_I_FLAGS_MASK`).
const COPY_I_FLAGS: u32 =
    inode_flags::SYNC | inode_flags::NOATIME | inode_flags::APPEND | inode_flags::IMMUTABLE | inode_flags::CASEFOLD;

/// `ovl_check_protattr`: the append-only and immutable flags an upper
/// inode has in `overlay.protattr` ("a", "i"), added to the real ones.
fn protattr_flags(ofs: &OvlFs, upper: Option<&RealDentry>) -> u32 {
    let (Some(upper), Some(layer)) = (upper, ofs.upper.as_ref()) else {
        return 0;
    };
    let mut buf = [0u8; 32];
    let n = match ofs.with_creds(|| ofs.getxattr_ovl(layer, upper, OvlXattr::Protattr, Some(&mut buf))) {
        Ok(Some(n)) => n,
        _ => return 0,
    };
    let mut flags = 0;
    let v = buf.get(..n).unwrap_or(&[]);
    for &c in v {
        match c {
            b'a' => flags |= inode_flags::APPEND,
            b'i' => flags |= inode_flags::IMMUTABLE,
            _ => {
                flags = u32::MAX;
                break;
            }
        }
    }
    if n == 0 || flags == u32::MAX {
        super::util::with_name2(upper, |nm| {
            warn_rl!("incompatible overlay.protattr format ({}, len={})\n", kernel::str::BStr::from_bytes(nm), n)
        });
        return 0;
    }
    flags
}

/// `ovl_verify_inode`: the layers of a cached inode must be those just
/// looked up.  `strict` (a directory from lookup): also none more.
fn verify_inode(inode: &INode<Rovl>, strict: bool, upper: Option<&RealDentry>, lower: Option<&RealDentry>) -> bool {
    let oi = inode.data();
    let (ino_upper, ino_lower) = (oi.upper(), oi.lowers().first());
    if strict {
        // A real lower directory moved to the upper layer under us, or the
        // lookup of an uncovered redirect origin.
        if (lower.is_none() && ino_lower.is_some()) || (upper.is_none() && ino_upper.is_some()) {
            return false;
        }
    }
    if let Some(l) = lower {
        if !ino_lower.is_some_and(|p| p.dentry.same_inode(l)) {
            return false;
        }
    }
    if let Some(u) = upper {
        if !ino_upper.is_some_and(|p| p.dentry.same_inode(u)) {
            return false;
        }
    }
    true
}

/// `ovl_get_inode`: inodes are hashed by their lower inode where they keep
/// its number (`ovl_hash_bylower`), else by their upper inode; a lower
/// hard link that copy-up would break gets an inode of its own.
pub(crate) fn get_inode(
    sb: &SuperBlock<Rovl>,
    upper: Option<ARef<RealDentry>>,
    lowers: KVec<OvlPath>,
    lazy_data: Option<LazyData>,
    digest: bool,
    uppermetacopy: bool,
    index: bool,
) -> Result<ARef<INode<Rovl>>> {
    let ofs = sb.data();
    let lower = lowers.first();
    let bylower = hash_bylower(ofs, upper.is_some(), lower.map(|p| &*p.dentry), index);
    let realinode = match (&upper, lower) {
        (Some(u), _) => u.inode().ok_or(EIO)?,
        (None, Some(l)) => l.dentry.inode().ok_or(EIO)?,
        (None, None) => return Err(EIO),
    };
    let is_dir = realinode.file_type() == FileType::Dir;
    let lower_fsid = match lower {
        Some(l) => ofs.layer(l.layer)?.fsid,
        None => 0,
    };
    let mut flags = 0;
    if bylower {
        flags |= flag::CONST_INO;
    }
    if digest {
        flags |= flag::HAS_DIGEST;
    }
    if index {
        flags |= flag::INDEX;
    }
    if upper.is_some() && !uppermetacopy {
        flags |= flag::UPPERDATA;
    }
    if upper.is_some() || bylower {
        let key_inode = if bylower { lower.and_then(|l| l.dentry.inode()).ok_or(EIO)? } else { realinode };
        let key = key_inode.id();
        let key_ino = key_inode.ino();
        let fsid = if bylower { lower_fsid } else { 0 };
        let nlink = if is_dir {
            1
        } else {
            get_nlink(ofs, lower.map(|p| &*p.dentry), upper.as_deref(), realinode.nlink())
        };
        let attrs: ARef<RealDentry> = match (&upper, lower) {
            (Some(u), _) => u.clone(),
            (None, Some(l)) => l.dentry.clone(),
            (None, None) => return Err(EIO),
        };
        match sb.iget(key as u64, key)? {
            IGet::Existing(inode) => {
                if !verify_inode(&inode, is_dir, upper.as_deref(), lower.map(|p| &*p.dentry)) {
                    warn_rl!("failed to get inode ({})\n", crate::vfs::estale().to_errno());
                    return Err(crate::vfs::estale());
                }
                Ok(inode)
            }
            IGet::New(new) => {
                let ino = map_ino(ofs, key_ino, fsid, is_dir);
                let data = new_data(ofs, upper, lowers, lazy_data, is_dir, flags)?;
                let attrs = attrs.inode().ok_or(EIO)?;
                let extra_flags = protattr_flags(ofs, data.upper().map(|p| &*p.dentry));
                Ok(new.init(&INodeParams { attrs_from: attrs, ino, nlink, dont_cache_acl: true, keep_flags: COPY_I_FLAGS, extra_flags }, data))
            }
        }
    } else {
        // A lower hard link that copy-up would break: not hashed.
        let l = lower.ok_or(EIO)?;
        let real: ARef<RealDentry> = l.dentry.clone();
        let ri = real.inode().ok_or(EIO)?;
        let ino = map_ino(ofs, ri.ino(), lower_fsid, is_dir);
        // As new_inode leaves it (stat(2) asks the real inode anyway).
        let nlink = 1;
        let data = new_data(ofs, None, lowers, lazy_data, is_dir, flags)?;
        let new = sb.new_inode()?;
        Ok(new.init(&INodeParams { attrs_from: ri, ino, nlink, dont_cache_acl: true, keep_flags: COPY_I_FLAGS, extra_flags: 0 }, data))
    }
}

/// `ovl_lookup_inode`: the overlay inode hashed by the real inode of
/// `real` (an upper dentry with `is_upper`), if it is in the inode cache;
/// `ESTALE` if its layers are not `real`.
pub(crate) fn lookup_inode(sb: &SuperBlock<Rovl>, real: &RealDentry, is_upper: bool) -> Result<Option<ARef<INode<Rovl>>>> {
    let key = real.inode().ok_or(EIO)?.id();
    let Some(inode) = sb.ilookup(key as u64, key) else {
        return Ok(None);
    };
    let (upper, lower) = if is_upper { (Some(real), None) } else { (None, Some(real)) };
    if !verify_inode(&inode, false, upper, lower) {
        return Err(crate::vfs::estale());
    }
    Ok(Some(inode))
}

/// The root inode (`ovl_get_root`): not hashed, always iterated merged;
/// with an upper layer it has the upper root's inode number.
pub(crate) fn get_root_inode(
    sb: &SuperBlock<Rovl, crate::vfs::fs::New>,
    upper: Option<ARef<RealDentry>>,
    stack: KVec<OvlPath>,
) -> Result<ARef<INode<Rovl>>> {
    let ofs = sb.data();
    let (real, fsid): (ARef<RealDentry>, usize) = match (&upper, stack.first()) {
        (Some(u), _) => (u.clone(), 0),
        (None, Some(top)) => (top.dentry.clone(), ofs.layer(top.layer)?.fsid),
        (None, None) => return Err(EIO),
    };
    let attrs = real.inode().ok_or(EIO)?;
    let ino = map_ino(ofs, attrs.ino(), fsid, true);
    let flags = if upper.is_some() { flag::UPPERDATA } else { flag::CONST_INO };
    let data = new_data(ofs, upper, stack, None, true, flags | flag::WHITEOUTS)?;
    let new = sb.new_inode()?;
    // ovl_get_root does not look at overlay.protattr.
    Ok(new.init(&INodeParams { attrs_from: attrs, ino, nlink: 1, dont_cache_acl: true, keep_flags: COPY_I_FLAGS, extra_flags: 0 }, data))
}

/// `ovl_map_dev_ino`: st_dev/st_ino as the overlay reports them.
fn map_dev_ino(ofs: &OvlFs, inode: &INode<Rovl>, stat: &mut Kstat, fsid: usize) {
    let sb_dev = inode.super_block().dev();
    if ofs.same_fs() {
        stat.set_dev(sb_dev);
        return;
    }
    let bits = ofs.xino_bits();
    if bits > 0 {
        if let Some(mapped) = ino::xino_map(stat.ino(), bits, fsid as u32) {
            stat.set_ino(mapped);
            stat.set_dev(sb_dev);
            return;
        } else if ofs.xino_warn() {
            warn_rl!("inode number too big (ino={}, xinobits={})\n", stat.ino(), bits);
        }
    }
    if inode.file_type() == FileType::Dir {
        stat.set_dev(sb_dev);
        stat.set_ino(inode.ino());
    } else {
        stat.set_dev(ofs.pseudo_dev(fsid));
    }
}

/// `ovl_getattr`.
pub(crate) fn getattr(dentry: &DEntry<Rovl>, stat: &mut Kstat, mask: u32, flags: u32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let oi = inode.data();
    let real = oi.real()?;
    let layer = ofs.layer(real.layer)?;
    let is_dir = inode.file_type() == FileType::Dir;
    // ovl_is_metacopy_dentry: a regular file whose data is in another layer.
    let mut metacopy_blocks = oi.is_metacopy(inode.file_type());
    ofs.with_creds(|| layer.mnt.getattr(&real.dentry, stat, mask, flags))?;
    // The immutable/append-only flags of the overlay inode.
    stat.fill_attr_from(inode);
    let mut fsid = 0;
    if !is_dir || ofs.same_dev() {
        if !oi.has_upper() {
            fsid = layer.fsid;
        } else if oi.has_origin() {
            // The copy-up origin's inode number, unless a broken hard link
            // (index=off) could give it to several upper files.
            let lower = oi.lowers().first().ok_or(EIO)?;
            let ll = ofs.layer(lower.layer)?;
            let mut ls = Kstat::new();
            let lmask = crate::vfs::real::STATX_INO | crate::vfs::real::STATX_BLOCKS | if is_dir { 0 } else { crate::vfs::real::STATX_NLINK };
            ofs.with_creds(|| ll.mnt.getattr(&lower.dentry, &mut ls, lmask, flags))?;
            if oi.test(flag::INDEX) || (!ofs.verify_lower() && (is_dir || ls.nlink() == 1)) {
                fsid = ll.fsid;
                stat.set_ino(ls.ino());
            }
            if metacopy_blocks && oi.lowerdata().is_some_and(|d| d.dentry.id() == lower.dentry.id()) {
                stat.set_blocks(ls.blocks());
                metacopy_blocks = false;
            }
        }
        if metacopy_blocks {
            // With lazy data lookup, guess the blocks from the size rather
            // than look the data up on stat(2).
            match oi.lowerdata() {
                Some(data) => {
                    let dl = ofs.layer(data.layer)?;
                    let mut ds = Kstat::new();
                    ofs.with_creds(|| dl.mnt.getattr(&data.dentry, &mut ds, crate::vfs::real::STATX_BLOCKS, flags))?;
                    stat.set_blocks(ds.blocks());
                }
                None => {
                    let bs = u64::from(stat.blksize().max(1));
                    let size = u64::try_from(stat.size()).unwrap_or(0);
                    stat.set_blocks(size.div_ceil(bs).saturating_mul(bs) >> 9);
                }
            }
        }
    }
    map_dev_ino(ofs, inode, stat, fsid);
    if is_dir && oi.is_merge() {
        // Counting subdirectories of all layers is not worth it: nlink=1
        // pacifies find and other utilities.
        stat.set_nlink(1);
    }
    // An indexed inode's nlink counts the upper hard links and the lower
    // ones not covered, not the index entry itself.
    if !is_dir && oi.test(flag::INDEX) {
        stat.set_nlink(inode.nlink());
    }
    Ok(())
}

/// `ovl_permission`: the caller against the overlay inode (mode bits and
/// ACLs through `get_inode_acl`), then the mounter against the real inode.
pub(crate) fn permission(inode: &INode<Rovl>, mask: i32) -> Result {
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let Some(realinode) = real.dentry.inode() else {
        return Err(crate::vfs::echild());
    };
    inode.generic_permission(mask)?;
    let mut mask = mask;
    let special = matches!(realinode.file_type(), FileType::Chr | FileType::Blk | FileType::Fifo | FileType::Sock);
    if !inode.data().has_upper() && !special && mask & may::WRITE != 0 {
        // No upper: the mounter must be able to read the file to copy it up.
        mask &= !(may::WRITE | may::APPEND);
        mask |= may::READ;
    }
    let layer = ofs.layer(real.layer)?;
    ofs.with_creds(|| layer.mnt.inode_permission(realinode, mask))
}

/// `ovl_inode_update`: `inode` was copied up to `upper`; an inode that was
/// not hashed (a lower hard link whose link copy-up broke) is hashed by its
/// upper inode now, as a lookup of that upper inode would find it.
pub(crate) fn inode_update(inode: &INode<Rovl>, upper: ARef<RealDentry>) {
    let key = upper.inode().map(|i| i.id());
    inode.data().set_upper(upper);
    if let Some(key) = key {
        inode.hash_as(key);
    }
}

/// `ovl_copyattr`: owner, mode, times and size of `inode` from its real
/// inode.
pub(crate) fn copyattr(inode: &INode<Rovl>) {
    let ofs = inode.super_block().data();
    let Ok(real) = inode.data().real() else {
        return;
    };
    let (Ok(layer), Some(ri)) = (ofs.layer(real.layer), real.dentry.inode()) else {
        return;
    };
    inode.copy_attr(&layer.mnt, ri);
}

/// `ovl_setattr`: copy-up (with the data for a truncation), then the
/// change on the upper inode.
pub(crate) fn setattr(dentry: &DEntry<Rovl>, attr: &mut Iattr) -> Result {
    attr.prepare(dentry)?;
    let size = attr.valid() & iattr::SIZE != 0;
    if size {
        super::copy_up::copy_up_with_data(dentry)?;
    } else {
        super::copy_up::copy_up(dentry)?;
    }
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upper = inode.data().upper_dentry()?;
    let _wr = if size { Some(upper.inode().ok_or(EIO)?.get_write_access()?) } else { None };
    if attr.valid() & iattr::KILL_SUID_SGID != 0 {
        attr.clear(iattr::MODE);
    }
    // No ATTR_FILE (an overlay file) nor ATTR_OPEN (no O_TRUNC was passed
    // to the upper file system) for the upper file system.
    attr.clear(iattr::FILE_OPEN);
    ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        wa.notify_change(&upper, attr)
    })?;
    copyattr(inode);
    Ok(())
}

/// `ovl_set_acl` / `ovl_set_or_remove_acl`.
pub(crate) fn set_acl(dentry: &DEntry<Rovl>, acl: Option<&Acl>, acl_type: i32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let workdir = ofs.workdir().ok_or(crate::vfs::eopnotsupp())?;
    let realinode = inode.data().real()?.dentry.inode().ok_or(EIO)?;
    if !workdir.inode().is_some_and(|w| w.is_posixacl()) || !realinode.has_set_acl() {
        return Err(crate::vfs::eopnotsupp());
    }
    if acl_type == crate::vfs::real::ACL_TYPE_DEFAULT && inode.file_type() != FileType::Dir {
        return if acl.is_some() { Err(EACCES) } else { Ok(()) };
    }
    if !inode.owner_or_capable() {
        return Err(EPERM);
    }
    // The set-group-ID bit the mounter's credentials would keep.
    if acl_type == crate::vfs::real::ACL_TYPE_ACCESS && inode.acl_kills_sgid() {
        super::copy_up::copy_up(dentry)?;
        let up = ofs.upper.as_ref().ok_or(EROFS)?;
        let upper = inode.data().upper_dentry()?;
        let mode = upper.inode().ok_or(EIO)?.mode() & !crate::vfs::S_ISGID;
        ofs.with_creds(|| up.mnt.want_write().and_then(|wa| wa.chmod(&upper, mode)))?;
        copyattr(inode);
    }
    if acl.is_none() && !inode.data().has_upper() {
        // Nothing to remove on the lower file: no copy-up.
        let real = inode.data().real()?;
        let layer = ofs.layer(real.layer)?;
        ofs.with_creds(|| layer.mnt.get_acl(&real.dentry, acl_type))?;
    }
    if !inode.data().has_upper() {
        super::copy_up::copy_up(dentry)?;
    }
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upper = inode.data().upper_dentry()?;
    let r = ofs.with_creds(|| up.mnt.want_write().and_then(|wa| wa.set_or_remove_acl(&upper, acl_type, acl)));
    copyattr(inode);
    r
}

/// The protection flags overlay.protattr stands for (`OVL_PROT_I_FLAGS_MASK`).
pub(crate) const PROT_I_FLAGS: u32 = inode_flags::APPEND | inode_flags::IMMUTABLE;

/// `ovl_update_time`: an access time goes to the upper inode, and the
/// overlay inode takes it from there (change and modification times come
/// from the upper inode on changes: nothing to do for them).
fn update_time(inode: &INode<Rovl>, atime: bool, nowait: bool) -> Result {
    let ofs = inode.super_block().data();
    let (true, Some(layer), Some(up)) = (atime, &ofs.upper, inode.data().upper()) else {
        return Ok(());
    };
    if nowait {
        return Err(EAGAIN);
    }
    layer.mnt.touch_atime(&up.dentry);
    if let Some(real) = up.dentry.inode() {
        inode.atime_from(real);
    }
    Ok(())
}

/// `ovl_fileattr_get`: the real inode's, plus the protection flags of the
/// overlay inode (from overlay.protattr).
pub(crate) fn fileattr_get(dentry: &DEntry<Rovl>, fa: &mut FileAttr) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let layer = ofs.layer(real.layer)?;
    let r = ofs.with_creds(|| layer.mnt.fileattr_get(&real.dentry, fa));
    fa.add_prot_flags(inode.i_flags());
    r
}

/// `ovl_set_protattr`: the append-only and immutable flags (inode flags
/// `iflags`) of `inode` kept in overlay.protattr of `upper` (removed when
/// neither is set), never on the upper inode itself.
pub(crate) fn set_protattr(ofs: &OvlFs, wa: &WriteAccess<'_>, inode: &INode<Rovl>, upper: &RealDentry, iflags: u32) -> Result {
    let mut v = KVec::new();
    if iflags & inode_flags::APPEND != 0 {
        v.push(b'a', GFP_KERNEL)?;
    }
    if iflags & inode_flags::IMMUTABLE != 0 {
        v.push(b'i', GFP_KERNEL)?;
    }
    if !v.is_empty() {
        // Not without xattrs: the flags are never set on the upper inode.
        ofs.check_setxattr_xerr(wa, upper, OvlXattr::Protattr, &v, Some(EPERM))?;
    } else if inode.i_flags() & PROT_I_FLAGS != 0 {
        let mut nb = [0u8; 32];
        match wa.removexattr(upper, super::util::xattr_name(ofs.xattr_ns(), OvlXattr::Protattr, &mut nb)) {
            Err(e) if e != crate::vfs::eopnotsupp() && e != crate::vfs::enodata() => return Err(e),
            _ => {}
        }
    }
    inode.set_i_flags(iflags, PROT_I_FLAGS);
    Ok(())
}

/// `ovl_fileattr_set`: after copy-up, the append-only and immutable flags
/// go to overlay.protattr (`ovl_set_protattr`), the others to the upper
/// inode.
pub(crate) fn fileattr_set(dentry: &DEntry<Rovl>, fa: &mut FileAttr) -> Result {
    super::copy_up::copy_up(dentry)?;
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let up = ofs.upper.as_ref().ok_or(EROFS)?;
    let upper = inode.data().upper_dentry()?;
    ofs.with_creds(|| -> Result {
        let wa = up.mnt.want_write()?;
        set_protattr(ofs, &wa, inode, &upper, fa.prot_flags())?;
        fa.clear_prot_flags();
        wa.fileattr_set(&upper, fa)
    })?;
    // The real inode's flags merged with those of overlay.protattr.
    let real_flags = upper.inode().map_or(0, |i| i.i_flags()) & COPY_I_FLAGS;
    inode.set_i_flags(real_flags | (inode.i_flags() & PROT_I_FLAGS), COPY_I_FLAGS);
    copyattr(inode);
    Ok(())
}

/// `ovl_get_link`.
pub(crate) fn get_link(dentry: Option<&DEntry<Rovl>>, done: &mut DelayedCall) -> Result<LinkTarget> {
    let Some(dentry) = dentry else {
        return Err(crate::vfs::echild());
    };
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let layer = ofs.layer(real.layer)?;
    ofs.with_creds(|| layer.mnt.get_link(&real.dentry, done))
}

/// `ovl_get_inode_acl` (`do_ovl_get_acl` with `noperm`).
pub(crate) fn get_inode_acl(inode: &INode<Rovl>, acl_type: i32, rcu: bool) -> Result<Acl> {
    let ofs = inode.super_block().data();
    let real = inode.data().real()?;
    let Some(realinode) = real.dentry.inode() else {
        return Err(crate::vfs::echild());
    };
    if !realinode.is_posixacl() {
        return Ok(Acl::none());
    }
    let layer = ofs.layer(real.layer)?;
    if rcu {
        // An idmapped layer needs the ACL remapped: not in RCU walk.
        if layer.mnt.is_idmapped() {
            return Err(crate::vfs::echild());
        }
        return Ok(realinode.get_cached_acl_rcu(acl_type));
    }
    ofs.with_creds(|| realinode.get_inode_acl(acl_type))
}

#[vtable]
impl inode::Operations for Rovl {
    fn lookup(dir: &INode<Self>, dentry: &Unhashed<'_, Self>, _flags: u32) -> Result<Option<ARef<INode<Self>>>> {
        super::namei::lookup(dir, dentry)
    }

    fn getattr(dentry: &DEntry<Self>, stat: &mut Kstat, mask: u32, flags: u32) -> Result {
        getattr(dentry, stat, mask, flags)
    }

    fn setattr(dentry: &DEntry<Self>, attr: &mut Iattr) -> Result {
        setattr(dentry, attr)
    }

    fn set_acl(dentry: &DEntry<Self>, acl: Option<&Acl>, acl_type: i32) -> Result {
        set_acl(dentry, acl, acl_type)
    }

    fn fileattr_get(dentry: &DEntry<Self>, fa: &mut FileAttr) -> Result {
        fileattr_get(dentry, fa)
    }

    fn update_time(inode: &INode<Self>, atime: bool, nowait: bool) -> Result {
        update_time(inode, atime, nowait)
    }

    /// `ovl_fiemap`: the extents of the inode holding the data.
    fn fiemap(inode: &INode<Self>, info: &mut Fiemap, start: u64, len: u64) -> Result {
        let ofs = inode.super_block().data();
        let data = inode.data().lowerdata().ok_or(EIO)?;
        let real = data.dentry.inode().ok_or(EIO)?;
        ofs.with_creds(|| real.fiemap(info, start, len))
    }

    fn fileattr_set(dentry: &DEntry<Self>, fa: &mut FileAttr) -> Result {
        fileattr_set(dentry, fa)
    }

    fn create(dir: &INode<Self>, dentry: &Named<'_, Self>, mode: u16, new: NewObject<'_>) -> Result {
        super::dir::create_object(dir, dentry, mode, new)
    }

    fn link(old: &DEntry<Self>, dir: &INode<Self>, new: &Named<'_, Self>) -> Result {
        super::dir::link(old, dir, new)
    }

    fn remove(dir: &INode<Self>, dentry: &Named<'_, Self>, is_dir: bool) -> Result {
        super::dir::remove(dir, dentry, is_dir)
    }

    fn rename(old: &Named<'_, Self>, new: &Named<'_, Self>, flags: u32) -> Result {
        super::dir::rename(old, new, flags)
    }

    fn permission(inode: &INode<Self>, mask: i32) -> Result {
        permission(inode, mask)
    }

    fn get_link(dentry: Option<&DEntry<Self>>, _inode: &INode<Self>, done: &mut DelayedCall) -> Result<LinkTarget> {
        get_link(dentry, done)
    }

    fn listxattr(dentry: &DEntry<Self>, buf: Option<&mut [u8]>) -> Result<usize> {
        super::xattrs::listxattr(dentry, buf)
    }

    fn get_inode_acl(inode: &INode<Self>, acl_type: i32, rcu: bool) -> Result<Acl> {
        get_inode_acl(inode, acl_type, rcu)
    }

    /// `ovl_get_acl`: the real inode's ACL, checked with the mounter's
    /// credentials.
    fn get_acl(dentry: &DEntry<Self>, acl_type: i32) -> Result<Acl> {
        let inode = dentry.inode().ok_or(EIO)?;
        let ofs = inode.super_block().data();
        let real = inode.data().real()?;
        let Some(realinode) = real.dentry.inode() else {
            return Err(EIO);
        };
        if !realinode.is_posixacl() {
            return Ok(Acl::none());
        }
        let layer = ofs.layer(real.layer)?;
        ofs.with_creds(|| layer.mnt.get_acl(&real.dentry, acl_type))
    }
}

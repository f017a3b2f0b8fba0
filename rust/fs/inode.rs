// SPDX-License-Identifier: GPL-2.0

//! Overlay inodes: their layers, inode numbers, attributes and permissions
//! (`fs/overlayfs/inode.c`, parts of `util.c`).

#![forbid(unsafe_code)]

use super::readdir::DirCache;
use super::super_::OvlFs;
use super::util::CBuf;
use super::Rovl;
use crate::logic::ino;
use crate::logic::xattr::OvlXattr;
use crate::vfs::dentry::{DEntry, RevalFlags, Unhashed};
use crate::vfs::fs::SuperBlock;
use crate::vfs::inode::{self, IGet, INode, INodeParams};
use crate::vfs::real::{Acl, DelayedCall, Kstat, LinkTarget, RealDentry};
use crate::vfs::{may, FileType};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::{Arc, Mutex, SetOnce};

/// A real dentry on a layer (`struct ovl_path`); `layer` is the 1-based
/// layer index.
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
    /// The lower stack, top first (`oe->__lowerstack`).
    pub(crate) stack: KVec<OvlPath>,
    /// The lazily looked-up data of a metacopy file, if any.
    pub(crate) lazy_data: Option<LazyData>,
    /// `enum ovl_inode_flag` bits.
    pub(crate) flags: AtomicUsize,
    /// The merged readdir cache of a directory (`ovl_dir_cache`).
    pub(crate) dir_cache: Option<Pin<KBox<Mutex<Option<(Arc<DirCache>, usize)>>>>>,
}

impl OvlInode {
    /// Whether flag `f` is set.
    pub(crate) fn test(&self, f: usize) -> bool {
        self.flags.load(Ordering::Relaxed) & f != 0
    }

    /// Sets flag `f`.
    pub(crate) fn set(&self, f: usize) {
        self.flags.fetch_or(f, Ordering::Relaxed);
    }

    /// A regular file whose data is in another layer (`ovl_is_metacopy_dentry`).
    pub(crate) fn is_metacopy(&self, ft: FileType) -> bool {
        ft == FileType::Reg && self.numlower() > 1
    }

    /// The number of lower layers, the lazy data counted (`ovl_numlower`).
    pub(crate) fn numlower(&self) -> usize {
        self.stack.len() + usize::from(self.lazy_data.is_some())
    }

    /// The real path metadata comes from: the top of the stack
    /// (`ovl_i_path_real` without upper).
    pub(crate) fn real(&self) -> Result<&OvlPath> {
        self.stack.first().ok_or(EIO)
    }

    /// The real path data comes from (`ovl_i_path_realdata`): the bottom
    /// of the stack, or the lazily found data; `None` if not looked up yet.
    pub(crate) fn lowerdata(&self) -> Option<&OvlPath> {
        match &self.lazy_data {
            Some(l) => l.found.as_ref(),
            None => self.stack.last(),
        }
    }

    /// A merged directory (`OVL_TYPE_MERGE` without upper).
    pub(crate) fn is_merge(&self) -> bool {
        self.numlower() > 1
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

fn new_data(ofs: &OvlFs, stack: KVec<OvlPath>, lazy_data: Option<LazyData>, is_dir: bool) -> Result<OvlInode> {
    let real = stack.first().ok_or(EIO)?;
    let mut flags = flag::CONST_INO;
    if is_dir {
        // A directory that may hold whiteouts: merged, or with an origin
        // (it was copied up by an overlay that used it as upper).
        let layer = ofs.layer(real.layer)?;
        if stack.len() > 1 || ofs.with_creds(|| ofs.has_xattr(layer, &real.dentry, OvlXattr::Origin)) {
            flags |= flag::WHITEOUTS;
        }
    }
    let dir_cache = if is_dir { Some(KBox::pin_init(new_mutex!(None), GFP_KERNEL)?) } else { None };
    Ok(OvlInode { stack, lazy_data, flags: AtomicUsize::new(flags), dir_cache })
}

/// `ovl_get_inode` for a lower-only overlay: inodes are hashed by their top
/// lower inode, so that all dentries (hard links) of it share one inode.
pub(crate) fn get_inode(
    sb: &SuperBlock<Rovl>,
    stack: KVec<OvlPath>,
    lazy_data: Option<LazyData>,
    digest: bool,
) -> Result<ARef<INode<Rovl>>> {
    let ofs = sb.data();
    let top = stack.first().ok_or(EIO)?;
    let real = top.dentry.inode().ok_or(EIO)?;
    let is_dir = real.file_type() == FileType::Dir;
    let fsid = ofs.layer(top.layer)?.fsid;
    let key = real.id();
    match sb.iget(key as u64, key)? {
        IGet::Existing(inode) => Ok(inode),
        IGet::New(new) => {
            let ino = map_ino(ofs, real.ino(), fsid, is_dir);
            let nlink = if is_dir { 1 } else { real.nlink() };
            let real: ARef<RealDentry> = top.dentry.clone();
            let data = new_data(ofs, stack, lazy_data, is_dir)?;
            if digest {
                data.flags.fetch_or(flag::HAS_DIGEST, Ordering::Relaxed);
            }
            let attrs = real.inode().ok_or(EIO)?;
            Ok(new.init(&INodeParams { attrs_from: attrs, ino, nlink, dont_cache_acl: true }, data))
        }
    }
}

/// The root inode (`ovl_get_root`): not hashed, always iterated merged.
pub(crate) fn get_root_inode(sb: &SuperBlock<Rovl, crate::vfs::fs::New>, stack: KVec<OvlPath>) -> Result<ARef<INode<Rovl>>> {
    let ofs = sb.data();
    let top = stack.first().ok_or(EIO)?;
    let real: ARef<RealDentry> = top.dentry.clone();
    let attrs = real.inode().ok_or(EIO)?;
    let fsid = ofs.layer(top.layer)?.fsid;
    let ino = map_ino(ofs, attrs.ino(), fsid, true);
    let data = new_data(ofs, stack, None, true)?;
    data.flags.fetch_or(flag::WHITEOUTS, Ordering::Relaxed);
    let new = sb.new_inode()?;
    Ok(new.init(&INodeParams { attrs_from: attrs, ino, nlink: 1, dont_cache_acl: true }, data))
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

/// `ovl_getattr` without an upper layer.
pub(crate) fn getattr(dentry: &DEntry<Rovl>, stat: &mut Kstat, mask: u32, flags: u32) -> Result {
    let inode = dentry.inode().ok_or(EIO)?;
    let ofs = inode.super_block().data();
    let oi = inode.data();
    let real = oi.real()?;
    let layer = ofs.layer(real.layer)?;
    let is_dir = inode.file_type() == FileType::Dir;
    // ovl_is_metacopy_dentry: a regular file whose data is in another layer.
    let metacopy_blocks = oi.is_metacopy(inode.file_type());
    ofs.with_creds(|| layer.mnt.getattr(&real.dentry, stat, mask, flags))?;
    let mut fsid = 0;
    if !is_dir || ofs.same_dev() {
        fsid = layer.fsid;
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
    if !special && mask & may::WRITE != 0 {
        // No upper: the mounter must be able to read the file to copy it up.
        mask &= !(may::WRITE | may::APPEND);
        mask |= may::READ;
    }
    let layer = ofs.layer(real.layer)?;
    ofs.with_creds(|| layer.mnt.inode_permission(realinode, mask))
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

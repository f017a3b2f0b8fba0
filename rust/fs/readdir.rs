// SPDX-License-Identifier: GPL-2.0

//! Directory reading (`fs/overlayfs/readdir.c`): merged directories are read
//! once from all their layers into a cache shared by the open files of the
//! directory; pure directories iterate the real directory.

#![forbid(unsafe_code)]

use super::inode::{flag, OvlInode};
use super::super_::OvlFs;
use super::Rovl;
use crate::vfs::dentry::DEntry;
use crate::vfs::file::{DirEmitter, File};
use crate::vfs::inode::INode;
use crate::vfs::real::{open_flags, Kstat, RealDentry, RealFile, STATX_INO};
use crate::vfs::{may, FileType};
use core::cmp::Ordering as CmpOrdering;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::rbtree::RBTree;
use kernel::sync::{Arc, Mutex};

const DT_CHR: u32 = 2;
const DT_REG: u32 = 8;

/// One entry of a merged directory (`struct ovl_cache_entry`).
struct Entry {
    name: KVec<u8>,
    dtype: u32,
    real_ino: u64,
    /// 0: to be computed at iteration (`ovl_cache_update`).
    ino: u64,
    /// The fsid of the layer the entry was found on.
    fsid: usize,
    /// The layer the entry was found on (1-based).
    layer: usize,
    is_whiteout: bool,
    check_xwhiteout: bool,
}

/// The merged entries of a directory, in iteration order (`struct
/// ovl_dir_cache`): the lowest layer's entries first (so that offsets stay
/// reasonably constant), then those only in higher layers.
pub(crate) struct DirCache {
    entries: KVec<Entry>,
}

/// A name, ordered like `strncmp` over the bytes, for the merge index.
struct NameKey(KVec<u8>);

impl PartialEq for NameKey {
    fn eq(&self, o: &Self) -> bool {
        self.0.as_slice() == o.0.as_slice()
    }
}
impl Eq for NameKey {}
impl PartialOrd for NameKey {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for NameKey {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        self.0.as_slice().cmp(o.0.as_slice())
    }
}

/// Opens a real directory for reading (`ovl_path_open`), with the
/// mounter's credentials (held by the caller).
pub(crate) fn path_open(ofs: &OvlFs, layer: usize, dentry: &RealDentry, flags: u32) -> Result<RealFile> {
    let layer = ofs.layer(layer)?;
    let inode = dentry.inode().ok_or(EIO)?;
    layer.mnt.inode_permission(inode, may::READ | may::OPEN)?;
    let mut flags = flags;
    // O_NOATIME is an optimisation: only where permitted.
    if layer.mnt.owner_or_capable(inode) {
        flags |= open_flags::NOATIME;
    }
    layer.mnt.open(dentry, flags, &ofs.creator_cred)
}

/// `ovl_dir_read_merged`: reads all layers of `dir` (top first).
fn read_merged(ofs: &OvlFs, dentry: &DEntry<Rovl>, oi: &OvlInode) -> Result<DirCache> {
    let mut index: RBTree<NameKey, usize> = RBTree::new();
    let mut entries: KVec<Entry> = KVec::new();
    // Iteration order: `middle` (lowest layer), then `upper_order`.
    let mut upper_order: KVec<usize> = KVec::new();
    let mut middle: KVec<usize> = KVec::new();
    let mut moved: KVec<bool> = KVec::new();
    let xino = ofs.xino_bits() > 0;
    let has_xwhiteouts_flag = dentry.flags() & super::DENTRY_XWHITEOUTS != 0;
    let n = oi.stack.len();
    for (i, p) in oi.stack.iter().enumerate() {
        let is_lowest = i + 1 == n;
        let layer = ofs.layer(p.layer)?;
        let in_xwhiteouts_dir = layer.has_xwhiteouts() && has_xwhiteouts_flag;
        let file = path_open(ofs, p.layer, &p.dentry, open_flags::RDONLY | open_flags::LARGEFILE)?;
        let first_new = entries.len();
        let mut err = Ok(());
        file.read_dir(&mut |e| {
            let r = (|| -> Result {
                let key = NameKey(kvec_from(e.name)?);
                if let Some(&idx) = index.get(&key) {
                    if is_lowest {
                        middle.push(idx, GFP_KERNEL)?;
                        if let Some(m) = moved.get_mut(idx) {
                            *m = true;
                        }
                    }
                    return Ok(());
                }
                // ovl_calc_d_ino: with xino all numbers are remapped, and
                // ".." always points to the overlay parent.
                let ino = if xino || e.name == b".." { 0 } else { e.ino };
                let idx = entries.len();
                entries.push(
                    Entry {
                        name: kvec_from(e.name)?,
                        dtype: e.dtype,
                        real_ino: e.ino,
                        ino,
                        fsid: layer.fsid,
                        layer: p.layer,
                        is_whiteout: false,
                        check_xwhiteout: in_xwhiteouts_dir && e.dtype == DT_REG,
                    },
                    GFP_KERNEL,
                )?;
                moved.push(false, GFP_KERNEL)?;
                index.try_create_and_insert(key, idx, GFP_KERNEL)?;
                if is_lowest {
                    middle.push(idx, GFP_KERNEL)?;
                } else {
                    upper_order.push(idx, GFP_KERNEL)?;
                }
                Ok(())
            })();
            match r {
                Ok(()) => true,
                Err(x) => {
                    err = Err(x);
                    false
                }
            }
        })?;
        err?;
        // ovl_check_whiteouts: character devices read from this layer.
        for e in entries.iter_mut().skip(first_new) {
            if e.dtype == DT_CHR {
                if let Ok(Some(d)) = layer.mnt.lookup_positive(&p.dentry, &e.name) {
                    e.is_whiteout = d.inode().is_some_and(|i| i.file_type() == FileType::Chr && i.rdev() == 0);
                }
            }
        }
    }
    let mut order = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for &i in middle.iter() {
        order.push(i, GFP_KERNEL)?;
    }
    for &i in upper_order.iter() {
        if !moved.get(i).copied().unwrap_or(false) {
            order.push(i, GFP_KERNEL)?;
        }
    }
    // Reorder the entries into iteration order.
    let mut slots: KVec<Option<Entry>> = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for e in entries.into_iter() {
        slots.push(Some(e), GFP_KERNEL)?;
    }
    let mut sorted = KVec::with_capacity(order.len(), GFP_KERNEL)?;
    for &i in order.iter() {
        if let Some(e) = slots.get_mut(i).and_then(Option::take) {
            sorted.push(e, GFP_KERNEL)?;
        }
    }
    Ok(DirCache { entries: sorted })
}

fn kvec_from(b: &[u8]) -> Result<KVec<u8>> {
    let mut v = KVec::with_capacity(b.len(), GFP_KERNEL)?;
    v.extend_from_slice(b, GFP_KERNEL)?;
    Ok(v)
}

/// `ovl_remap_lower_ino`: a lower inode number in the fsid's xino range.
fn remap_lower_ino(ofs: &OvlFs, ino: u64, fsid: usize, name: &[u8]) -> u64 {
    let bits = ofs.xino_bits();
    let shift = 64 - bits;
    if ino >> shift != 0 {
        if ofs.xino_warn() {
            warn_rl!(
                "d_ino too big ({}, ino={}, xinobits={})\n",
                kernel::str::BStr::from_bytes(name),
                ino,
                bits
            );
        }
        return ino;
    }
    ino | ((fsid as u64) << (shift + 1))
}

/// The fsid of the top layer of an overlay dentry's inode.
fn top_fsid(ofs: &OvlFs, d: &DEntry<Rovl>) -> Result<usize> {
    let inode = d.inode().ok_or(EIO)?;
    Ok(ofs.layer(inode.data().real()?.layer)?.fsid)
}

/// `ovl_cache_update` for an overlay without upper layer: the d_ino of an
/// entry, and whether it is an xattr whiteout.
fn cache_update(ofs: &OvlFs, file: &File<Rovl>, e: &mut Entry) -> Result {
    let update_ino = e.ino == 0;
    let mut ino = e.real_ino;
    if ofs.same_dev() || e.check_xwhiteout {
        let fsid = if e.name.as_slice() == b"." {
            top_fsid(ofs, file.dentry())?
        } else if e.name.as_slice() == b".." {
            top_fsid(ofs, &file.dentry().parent())?
        } else {
            if e.check_xwhiteout {
                let layer = ofs.layer(e.layer)?;
                let dir = file.inode().data().stack.iter().find(|p| p.layer == e.layer).ok_or(EIO)?;
                if let Ok(Some(d)) = layer.mnt.lookup_positive(&dir.dentry, &e.name) {
                    if ofs.is_xwhiteout(layer, &d) {
                        e.is_whiteout = true;
                    }
                }
                e.check_xwhiteout = false;
            }
            e.fsid
        };
        if ofs.same_dev() && update_ino && ofs.xino_bits() > 0 {
            ino = remap_lower_ino(ofs, ino, fsid, &e.name);
        }
    }
    e.ino = ino;
    Ok(())
}

/// The state of an open directory (`struct ovl_dir_file`).
pub(crate) struct DirFile {
    /// The top layer's directory.
    real: RealFile,
    /// Iterated as the real directory (not merged).
    is_real: bool,
    state: Pin<KBox<Mutex<DirState>>>,
}

struct DirState {
    cache: Option<Arc<DirCache>>,
    cursor: usize,
}

/// `ovl_dir_open`.
pub(crate) fn open(inode: &INode<Rovl>, flags: u32) -> Result<DirFile> {
    let ofs = inode.super_block().data();
    let oi = inode.data();
    let real = oi.real()?;
    let real = ofs.with_creds(|| {
        path_open(ofs, real.layer, &real.dentry, open_flags::RDONLY | (flags & open_flags::LARGEFILE))
    })?;
    Ok(DirFile {
        real,
        is_real: !oi.test(flag::WHITEOUTS),
        state: KBox::pin_init(new_mutex!(DirState { cache: None, cursor: 0 }), GFP_KERNEL)?,
    })
}

/// Releases a directory's reference on the inode's shared cache.
pub(crate) fn release(inode: &INode<Rovl>, df: &DirFile) {
    let mut st = df.state.lock();
    if let Some(cache) = st.cache.take() {
        if let Some(shared) = &inode.data().dir_cache {
            let mut sh = shared.lock();
            if let Some((c, users)) = &mut *sh {
                if Arc::ptr_eq(c, &cache) {
                    *users -= 1;
                    if *users == 0 {
                        *sh = None;
                    }
                }
            }
        }
    }
}

/// `ovl_cache_get`: the merged cache of the directory, read if needed.
fn cache_get(file: &File<Rovl>) -> Result<Arc<DirCache>> {
    let inode = file.inode();
    let ofs = inode.super_block().data();
    let shared = inode.data().dir_cache.as_ref().ok_or(EIO)?;
    let mut sh = shared.lock();
    if let Some((c, users)) = &mut *sh {
        *users += 1;
        return Ok(c.clone());
    }
    let cache = Arc::new(read_merged(ofs, file.dentry(), inode.data())?, GFP_KERNEL)?;
    *sh = Some((cache.clone(), 1));
    Ok(cache)
}

/// `ovl_iterate_merged`.
fn iterate_merged(file: &File<Rovl>, df: &DirFile, emitter: &mut DirEmitter) -> Result {
    let ofs = file.inode().super_block().data();
    let mut st = df.state.lock();
    if st.cache.is_none() {
        let c = cache_get(file)?;
        st.cache = Some(c);
        st.cursor = usize::try_from(emitter.pos()).unwrap_or(usize::MAX);
    }
    let Some(cache) = st.cache.clone() else {
        return Err(EIO);
    };
    while let Some(e) = cache.entries.get(st.cursor) {
        // The cache is shared and immutable: compute per-open values on a
        // copy of the fields.
        let mut ent = Entry {
            name: KVec::new(),
            dtype: e.dtype,
            real_ino: e.real_ino,
            ino: e.ino,
            fsid: e.fsid,
            layer: e.layer,
            is_whiteout: e.is_whiteout,
            check_xwhiteout: e.check_xwhiteout,
        };
        if !ent.is_whiteout && (ent.ino == 0 || ent.check_xwhiteout) {
            ent.name = kvec_from(&e.name)?;
            cache_update(ofs, file, &mut ent)?;
        }
        if !ent.is_whiteout && !emitter.emit(&e.name, ent.ino, ent.dtype) {
            break;
        }
        st.cursor += 1;
        emitter.set_pos(emitter.pos() + 1);
    }
    Ok(())
}

/// `ovl_iterate_real`: the real directory, with d_ino adjusted for ".."
/// of a merged parent and for xino.
fn iterate_real(file: &File<Rovl>, df: &DirFile, emitter: &mut DirEmitter) -> Result {
    let inode = file.inode();
    let ofs = inode.super_block().data();
    let fsid = ofs.layer(inode.data().real()?.layer)?.fsid;
    let parent = file.dentry().parent();
    let mut parent_ino = 0u64;
    if parent.inode().is_some_and(|p| p.data().is_merge()) {
        let mut st = Kstat::new();
        super::inode::getattr(&parent, &mut st, STATX_INO, 0)?;
        parent_ino = st.ino();
    }
    let xino = ofs.xino_bits() > 0;
    df.real.iterate_mapped(emitter, &mut |name, ino| {
        if parent_ino != 0 && name == b".." {
            parent_ino
        } else if xino {
            remap_lower_ino(ofs, ino, fsid, name)
        } else {
            ino
        }
    })
}

/// `ovl_need_adjust_d_ino`.
fn need_adjust_d_ino(ofs: &OvlFs, file: &File<Rovl>) -> bool {
    if ofs.xino_bits() > 0 {
        return true;
    }
    if !ofs.same_fs() {
        return false;
    }
    file.dentry().parent().inode().is_some_and(|p| p.data().is_merge())
}

/// `ovl_iterate`.
pub(crate) fn iterate(file: &File<Rovl>, df: &DirFile, emitter: &mut DirEmitter) -> Result {
    let ofs = file.inode().super_block().data();
    ofs.with_creds(|| {
        if !df.is_real {
            iterate_merged(file, df, emitter)
        } else if need_adjust_d_ino(ofs, file) {
            iterate_real(file, df, emitter)
        } else {
            df.real.iterate_into(emitter)
        }
    })
}

/// `ovl_dir_llseek`.
pub(crate) fn llseek(file: &File<Rovl>, df: &DirFile, offset: i64, whence: i32) -> Result<i64> {
    if df.is_real {
        let r = df.real.llseek(offset, whence)?;
        file.set_pos(df.real.pos());
        return Ok(r);
    }
    let offset = match whence {
        1 => offset.checked_add(file.pos()).ok_or(EINVAL)?, // SEEK_CUR
        0 => offset,                                         // SEEK_SET
        _ => return Err(EINVAL),
    };
    if offset < 0 {
        return Err(EINVAL);
    }
    if offset != file.pos() {
        file.set_pos(offset);
        let mut st = df.state.lock();
        if st.cache.is_some() {
            st.cursor = usize::try_from(offset).unwrap_or(usize::MAX);
        }
    }
    Ok(offset)
}

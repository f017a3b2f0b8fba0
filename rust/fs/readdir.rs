// SPDX-License-Identifier: GPL-2.0

//! Directory reading (`fs/overlayfs/readdir.c`): merged directories are read
//! once from all their layers into a cache shared by the open files of the
//! directory; pure directories iterate the real directory.

#![forbid(unsafe_code)]

use super::inode::{flag, OvlInode};
use super::super_::OvlFs;
use crate::logic::ino;
use super::Rovl;
use crate::vfs::dentry::DEntry;
use crate::vfs::file::{DirEmitter, File};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::sync::aref::ARef;
use crate::vfs::inode::INode;
use crate::vfs::real::{open_flags, Kstat, RealDentry, RealFile, STATX_INO};
use crate::vfs::{may, FileType};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

const DT_CHR: u32 = 2;
const DT_REG: u32 = 8;

/// One entry of a merged directory (`struct ovl_cache_entry`); its name is
/// in the cache's name buffer.
#[derive(Clone, Copy)]
struct Entry {
    name_off: usize,
    name_len: usize,
    dtype: u32,
    real_ino: u64,
    /// 0: to be computed at iteration (`ovl_cache_update`).
    ino: u64,
    /// The position of that layer in the directory's stack (0: top).
    depth: usize,
    is_whiteout: bool,
    check_xwhiteout: bool,
}

/// The merged entries of a directory, in iteration order (`struct
/// ovl_dir_cache`): the lowest layer's entries first (so that offsets stay
/// reasonably constant), then those only in higher layers.  The names are
/// kept in one buffer.
pub(crate) struct DirCache {
    names: KVec<u8>,
    entries: KVec<Entry>,
    /// Per entry, what iteration found out (`p->ino`, `p->is_whiteout` of
    /// overlayfs, which updates its cache entries in place): 0 not yet,
    /// [`STALE`] a stale entry (hidden), else the d_ino.
    done: KVec<AtomicU64>,
}

/// See [`DirCache::done`].
const STALE: u64 = u64::MAX;

impl DirCache {
    fn name(&self, e: &Entry) -> &[u8] {
        name_in(&self.names, e)
    }
}

fn name_in<'a>(names: &'a [u8], e: &Entry) -> &'a [u8] {
    names.get(e.name_off..e.name_off.saturating_add(e.name_len)).unwrap_or(&[])
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

/// `ovl_dir_read_merged`: reads all layers of `dir` (top first).  Where
/// overlayfs keeps an rb-tree of names while reading, the entries of all
/// layers are read into one name buffer and merged by sorting their indices
/// by (name, layer): the first of each name is the topmost, which is kept.
fn read_merged(ofs: &OvlFs, dentry: &DEntry<Rovl>, oi: &OvlInode) -> Result<DirCache> {
    let mut names: KVec<u8> = KVec::new();
    let mut all: KVec<Entry> = KVec::new();
    let xino = ofs.xino_bits() > 0;
    let has_xwhiteouts_flag = dentry.flags() & super::DENTRY_XWHITEOUTS != 0;
    let lowest = oi.stack.len().saturating_sub(1);
    for (depth, p) in oi.stack.iter().enumerate() {
        let layer = ofs.layer(p.layer)?;
        let in_xwhiteouts_dir = layer.has_xwhiteouts() && has_xwhiteouts_flag;
        let file = path_open(ofs, p.layer, &p.dentry, open_flags::RDONLY | open_flags::LARGEFILE)?;
        let first_new = all.len();
        let mut err = Ok(());
        file.read_dir(&mut |e| {
            let r = (|| -> Result {
                let name_off = names.len();
                names.extend_from_slice(e.name, GFP_KERNEL)?;
                // ovl_calc_d_ino: with xino all numbers are remapped, and
                // ".." always points to the overlay parent.
                let ino = if xino || e.name == b".." { 0 } else { e.ino };
                all.push(
                    Entry {
                        name_off,
                        name_len: e.name.len(),
                        dtype: e.dtype,
                        real_ino: e.ino,
                        ino,
                        depth,
                        is_whiteout: false,
                        check_xwhiteout: in_xwhiteouts_dir && e.dtype == DT_REG,
                    },
                    GFP_KERNEL,
                )?;
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
        for e in all.iter_mut().skip(first_new) {
            if e.dtype == DT_CHR {
                if let Ok(Some(d)) = layer.mnt.lookup_positive(&p.dentry, name_in(&names, e)) {
                    e.is_whiteout = d.inode().is_some_and(|i| i.file_type() == FileType::Chr && i.rdev() == 0);
                }
            }
        }
    }

    // Group equal names, topmost first (a name appears once per layer).
    let count = all.len();
    let mut idx: KVec<usize> = KVec::with_capacity(count, GFP_KERNEL)?;
    for i in 0..count {
        idx.push(i, GFP_KERNEL)?;
    }
    let key = |i: &usize| all.get(*i).map(|e| (name_in(&names, e), e.depth));
    idx.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    // For each entry: the entry kept for its name, and whether the name is
    // in the lowest layer.
    let mut rep: KVec<usize> = KVec::from_elem(0usize, count, GFP_KERNEL)?;
    let mut in_lowest: KVec<bool> = KVec::from_elem(false, count, GFP_KERNEL)?;
    let mut g = 0usize;
    while g < count {
        let first = idx.get(g).copied().ok_or(EIO)?;
        let gname = all.get(first).map(|e| name_in(&names, e)).ok_or(EIO)?;
        let mut end = g + 1;
        while let Some(&j) = idx.get(end) {
            if all.get(j).map(|e| name_in(&names, e)) != Some(gname) {
                break;
            }
            end += 1;
        }
        let group = idx.get(g..end).ok_or(EIO)?;
        let lowest_here = group.iter().any(|&j| all.get(j).is_some_and(|e| e.depth == lowest));
        for &j in group {
            *rep.get_mut(j).ok_or(EIO)? = first;
            *in_lowest.get_mut(j).ok_or(EIO)? = lowest_here;
        }
        g = end;
    }
    // The lowest layer's names in its order (each as the topmost entry of
    // that name), then the names only in higher layers, in read order.
    let mut entries = KVec::with_capacity(count, GFP_KERNEL)?;
    for (i, e) in all.iter().enumerate() {
        if e.depth == lowest {
            let r = rep.get(i).copied().ok_or(EIO)?;
            entries.push(*all.get(r).ok_or(EIO)?, GFP_KERNEL)?;
        }
    }
    for (i, e) in all.iter().enumerate() {
        let kept = rep.get(i) == Some(&i);
        if e.depth != lowest && kept && !in_lowest.get(i).copied().unwrap_or(true) {
            entries.push(*e, GFP_KERNEL)?;
        }
    }
    let mut done = KVec::with_capacity(entries.len(), GFP_KERNEL)?;
    for _ in 0..entries.len() {
        done.push(AtomicU64::new(0), GFP_KERNEL)?;
    }
    Ok(DirCache { names, entries, done })
}

/// `ovl_remap_lower_ino`: a lower inode number in the fsid's xino range.
fn remap_lower_ino(ofs: &OvlFs, ino: u64, fsid: usize, name: &[u8]) -> u64 {
    let bits = ofs.xino_bits();
    ino::remap_lower_ino(ino, bits, fsid as u32).unwrap_or_else(|ino| {
        if ofs.xino_warn() {
            warn_rl!(
                "d_ino too big ({}, ino={}, xinobits={})\n",
                kernel::str::BStr::from_bytes(name),
                ino,
                bits
            );
        }
        ino
    })
}

/// The fsid of the top layer of an overlay dentry's inode.
fn top_fsid(ofs: &OvlFs, d: &DEntry<Rovl>) -> Result<usize> {
    let inode = d.inode().ok_or(EIO)?;
    Ok(ofs.layer(inode.data().real()?.layer)?.fsid)
}

/// `ovl_cache_update` for an overlay without upper layer: the d_ino of an
/// entry, by a lookup of the entry through the overlay (which also finds
/// xattr whiteouts and entries whose lookup fails: those are stale and
/// hidden; a failed lookup also fails the readdir, as in overlayfs).
/// Returns the d_ino, or [`STALE`].
fn cache_update(
    ofs: &OvlFs,
    file: &File<Rovl>,
    emitter: &mut DirEmitter,
    e: &Entry,
    name: &[u8],
) -> (u64, Result) {
    let update_ino = e.ino == 0;
    let ino = e.real_ino;
    if !ofs.same_dev() && !e.check_xwhiteout {
        return (ino, Ok(()));
    }
    let this: ARef<DEntry<Rovl>> = if name == b"." {
        file.dentry().into()
    } else if name == b".." {
        file.dentry().parent()
    } else {
        match emitter.lookup_child(file, name) {
            Ok(Some(d)) => d,
            Ok(None) => return (STALE, Ok(())),
            Err(err) => {
                warn_rl!(
                    "failed to look up ({}) for ino ({})\n",
                    kernel::str::BStr::from_bytes(name),
                    err.to_errno()
                );
                return (STALE, Err(err));
            }
        }
    };
    if !ofs.same_dev() || !update_ino || ofs.xino_bits() == 0 {
        return (ino, Ok(()));
    }
    match top_fsid(ofs, &this) {
        Ok(fsid) => (remap_lower_ino(ofs, ino, fsid, name), Ok(())),
        Err(err) => (ino, Err(err)),
    }
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
        let done = cache.done.get(st.cursor).ok_or(EIO)?;
        let name = cache.name(e);
        let mut ino = e.ino;
        let mut stale = e.is_whiteout;
        if !stale {
            match done.load(Ordering::Relaxed) {
                0 if e.ino == 0 || e.check_xwhiteout => {
                    let (i, r) = cache_update(ofs, file, emitter, e, name);
                    // Kept in the cache, as overlayfs updates its entry.
                    if i != 0 {
                        done.store(i, Ordering::Relaxed);
                    }
                    r?;
                    stale = i == STALE;
                    ino = i;
                }
                0 => {}
                STALE => stale = true,
                i => ino = i,
            }
        }
        if !stale && !emitter.emit(name, ino, e.dtype) {
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

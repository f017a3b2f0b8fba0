// SPDX-License-Identifier: GPL-2.0

//! Directory reading (`fs/overlayfs/readdir.c`): merged directories are read
//! once from all their layers into a cache shared by the open files of the
//! directory; pure directories iterate the real directory.

#![forbid(unsafe_code)]

use super::inode::{flag, OvlInode};
use super::super_::{OvlFs, WorkCtx};
use crate::vfs::write::WriteAccess;
use crate::logic::ino;
use crate::logic::xattr::OvlXattr;
use crate::logic::readdir as merge;
use super::Rovl;
use crate::vfs::dentry::DEntry;
use crate::vfs::file::{DirEmitter, File};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::sync::aref::ARef;
use crate::vfs::inode::INode;
use crate::vfs::real::{open_flags, Kstat, RealDentry, RealFile, STATX_INO};
use crate::vfs::{may, FileType};
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

const DT_CHR: u32 = 2;
const DT_REG: u32 = 8;

/// One entry of a merged directory (`struct ovl_cache_entry`); its name is
/// in the cache's name buffer.
#[derive(Clone, Copy)]
struct Entry {
    name_off: u32,
    name_len: u16,
    /// The position of that layer in the directory's stack (0: top).
    depth: u16,
    dtype: u8,
    is_whiteout: bool,
    check_xwhiteout: bool,
    real_ino: u64,
    /// 0: to be computed at iteration (`ovl_cache_update`).
    ino: u64,
}

/// The merged entries of a directory (`struct ovl_dir_cache`): every entry
/// read from the layers, and the order of iteration
/// ([`crate::logic::readdir::merge`]).  The names are kept in one buffer.
pub(crate) struct DirCache {
    names: KVVec<u8>,
    all: KVVec<Entry>,
    /// Indices into `all`, in iteration order.
    order: KVVec<u32>,
    /// Per position of `order`, what iteration found out (`p->ino`,
    /// `p->is_whiteout` of overlayfs, which updates its cache entries in
    /// place): 0 not yet, [`STALE`] a stale entry (hidden), else the d_ino.
    done: KVVec<AtomicU64>,
}

/// See [`DirCache::done`].
const STALE: u64 = u64::MAX;

impl DirCache {
    /// The entry at position `pos` of the iteration, with its name and
    /// iteration state.
    fn at(&self, pos: usize) -> Option<(&Entry, &[u8], &AtomicU64)> {
        let e = self.all.get(*self.order.get(pos)? as usize)?;
        Some((e, name_in(&self.names, e), self.done.get(pos)?))
    }
}

fn name_in<'a>(names: &'a [u8], e: &Entry) -> &'a [u8] {
    let off = e.name_off as usize;
    names.get(off..off + usize::from(e.name_len)).unwrap_or(&[])
}

/// `ovl_check_empty_dir`: `ENOTEMPTY` unless the merged directory holds
/// only whiteouts (and `.`, `..`); the names of its upper whiteouts,
/// which removing it must clear.  Mounter's credentials held.
pub(crate) fn upper_whiteouts_if_empty(ofs: &OvlFs, dentry: &DEntry<Rovl>, oi: &OvlInode) -> Result<KVec<KVec<u8>>> {
    let cache = read_merged(ofs, dentry, oi)?;
    let has_upper = oi.has_upper();
    let mut out = KVec::new();
    let mut pos = 0;
    while let Some((e, name, _)) = cache.at(pos) {
        pos += 1;
        if e.is_whiteout {
            if has_upper && e.depth == 0 {
                let mut n = KVec::new();
                n.extend_from_slice(name, GFP_KERNEL)?;
                out.push(n, GFP_KERNEL)?;
            }
            continue;
        }
        if name == b"." || name == b".." {
            continue;
        }
        return Err(crate::vfs::enotempty());
    }
    Ok(out)
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

/// `ovl_dir_read_merged`: reads all layers of `dir` (top first) into one
/// name buffer and an array of entries, then orders them by the merge
/// rules ([`crate::logic::readdir::merge`], where overlayfs keeps an
/// rb-tree of names while reading).
fn read_merged(ofs: &OvlFs, dentry: &DEntry<Rovl>, oi: &OvlInode) -> Result<DirCache> {
    let mut names: KVVec<u8> = KVVec::new();
    let mut all: KVVec<Entry> = KVVec::new();
    let xino = ofs.xino_bits() > 0;
    let has_xwhiteouts_flag = dentry.flags() & super::DENTRY_XWHITEOUTS != 0;
    let impure = oi.test(flag::IMPURE);
    let lowest = oi.all_layers().count().saturating_sub(1);
    for (depth, p) in oi.all_layers().enumerate() {
        let layer = ofs.layer(p.layer)?;
        let in_xwhiteouts_dir = layer.has_xwhiteouts() && has_xwhiteouts_flag;
        let is_upper = p.layer == 0;
        let depth = u16::try_from(depth).map_err(|_| EIO)?;
        let file = path_open(ofs, p.layer, &p.dentry, open_flags::RDONLY | open_flags::LARGEFILE)?;
        let first_new = all.len();
        let mut err = Ok(());
        file.read_dir(&mut |e| {
            let r = (|| -> Result {
                let name_off = u32::try_from(names.len()).map_err(|_| ENOMEM)?;
                let name_len = u16::try_from(e.name.len()).map_err(|_| EIO)?;
                names.extend_from_slice(e.name, GFP_KERNEL)?;
                // ovl_calc_d_ino: with xino all numbers are remapped,
                // ".." always points to the overlay parent, and upper
                // entries of an impure directory may have an origin.
                let recalc = xino
                    || e.name == b".."
                    || (is_upper && (e.name == b"." || impure));
                let ino = if recalc { 0 } else { e.ino };
                let dtype = e.dtype as u8;
                all.push(
                    Entry {
                        name_off,
                        name_len,
                        depth,
                        dtype,
                        is_whiteout: false,
                        check_xwhiteout: in_xwhiteouts_dir && u32::from(dtype) == DT_REG,
                        real_ino: e.ino,
                        ino,
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
            if u32::from(e.dtype) == DT_CHR {
                if let Ok(Some(d)) = layer.mnt.lookup_positive(&p.dentry, name_in(&names, e)) {
                    e.is_whiteout = d.inode().is_some_and(|i| i.file_type() == FileType::Chr && i.rdev() == 0);
                }
            }
        }
    }

    let n = all.len();
    if n > merge::MAX_ENTRIES {
        return Err(EOVERFLOW);
    }
    let mut table = KVVec::from_elem(0u32, merge::table_len(n).ok_or(ENOMEM)?, GFP_KERNEL)?;
    let mut rep = KVVec::from_elem(0u32, n, GFP_KERNEL)?;
    let mut order = KVVec::from_elem(0u32, n, GFP_KERNEL)?;
    let k = merge::merge(
        n,
        |i| all.get(i).map_or(&[][..], |e| name_in(&names, e)),
        |i| all.get(i).map_or(0, |e| usize::from(e.depth)),
        lowest,
        &mut table,
        &mut rep,
        &mut order,
    )
    .ok_or(EIO)?;
    drop((table, rep));
    order.truncate(k);
    let mut done = KVVec::with_capacity(k, GFP_KERNEL)?;
    for _ in 0..k {
        done.push(AtomicU64::new(0), GFP_KERNEL)?;
    }
    Ok(DirCache { names, all, order, done })
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
    if !ofs.same_dev() || !update_ino {
        return (ino, Ok(()));
    }
    let Some(inode) = this.inode() else {
        return (ino, Err(EIO));
    };
    let oi = inode.data();
    if oi.has_origin() {
        // A copied-up entry: the inode number stat(2) gives.
        let mut st = Kstat::new();
        return match super::inode::getattr(&this, &mut st, STATX_INO, 0) {
            Ok(()) => (st.ino(), Ok(())),
            Err(err) => (ino, Err(err)),
        };
    }
    if ofs.xino_bits() == 0 || oi.has_upper() {
        return (ino, Ok(()));
    }
    match top_fsid(ofs, &this) {
        Ok(fsid) => (remap_lower_ino(ofs, ino, fsid, name), Ok(())),
        Err(err) => (ino, Err(err)),
    }
}

/// `ovl_dir_read_impure`: the entries of an impure upper directory (one
/// that holds copied-up entries) whose d_ino is not the real one.
fn read_impure(ofs: &OvlFs, file: &File<Rovl>, emitter: &mut DirEmitter) -> Result<KVec<(KVec<u8>, u64)>> {
    let oi = file.inode().data();
    let up = oi.upper().ok_or(EIO)?;
    let real = path_open(ofs, up.layer, &up.dentry, open_flags::RDONLY | open_flags::LARGEFILE)?;
    let names = collect_names(&real)?;
    drop(real);
    let mut out = KVec::new();
    for (name, real_ino) in names {
        let e = Entry {
            name_off: 0,
            name_len: 0,
            depth: 0,
            dtype: 0,
            is_whiteout: false,
            check_xwhiteout: false,
            real_ino,
            ino: 0,
        };
        let (ino, r) = cache_update(ofs, file, emitter, &e, &name);
        r?;
        if ino != real_ino && ino != STALE {
            out.push((name, ino), GFP_KERNEL)?;
        }
    }
    if out.is_empty() {
        // No entry needs another d_ino: a good opportunity to get rid of
        // an unneeded "impure" mark (best effort, as overlayfs).
        if let Ok(wa) = ofs.layer(0)?.mnt.want_write() {
            let mut nb = [0u8; 32];
            let _ = wa.removexattr(&up.dentry, super::util::xattr_name(ofs.xattr_ns(), OvlXattr::Impure, &mut nb));
        }
        oi.clear(flag::IMPURE);
    }
    Ok(out)
}

/// The d_ino of the entries of an impure upper directory that differ from
/// the real ones, sorted by name (`ovl_cache_get_impure`).
type ImpureCache = KVec<(KVec<u8>, u64)>;

/// The readdir caches of a directory, shared by its open files; each is
/// valid for the directory version it was read at.
#[derive(Default)]
pub(crate) struct DirCaches {
    /// The merged entries, the number of open files using them, the version.
    merged: Option<(Arc<DirCache>, usize, u64)>,
    /// The impure d_ino cache and its version.
    impure: Option<(Arc<ImpureCache>, u64)>,
}

/// The state of an open directory (`struct ovl_dir_file`).
pub(crate) struct DirFile {
    /// The top layer's directory.
    real: RealFile,
    /// Iterated as the real directory (not merged); becomes false when the
    /// directory is copied up (`od->is_real`).
    is_real: core::sync::atomic::AtomicBool,
    state: Pin<KBox<Mutex<DirState>>>,
}

struct DirState {
    cache: Option<Arc<DirCache>>,
    /// The directory version `cache` was read at.
    version: u64,
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
        is_real: core::sync::atomic::AtomicBool::new(!oi.test(flag::WHITEOUTS)),
        state: KBox::pin_init(new_mutex_depth!(DirState { cache: None, version: 0, cursor: 0 }, ofs.stack_depth()), GFP_KERNEL)?,
    })
}

/// Drops an open directory's reference on the inode's shared cache
/// (`ovl_cache_put`).
fn cache_put(inode: &INode<Rovl>, st: &mut DirState) {
    if let Some(cache) = st.cache.take() {
        if let Some(shared) = &inode.data().dir_cache {
            let mut sh = shared.lock();
            if let Some((c, users, _)) = &mut sh.merged {
                if Arc::ptr_eq(c, &cache) {
                    *users -= 1;
                    if *users == 0 {
                        sh.merged = None;
                    }
                }
            }
        }
    }
}

/// Releases a directory's reference on the inode's shared cache.
pub(crate) fn release(inode: &INode<Rovl>, df: &DirFile) {
    cache_put(inode, &mut df.state.lock());
}

/// `ovl_dir_reset`: at a rewind, a cache of an older version of the
/// directory is dropped, and a directory copied up since it was opened is
/// now read merged.
fn dir_reset(file: &File<Rovl>, df: &DirFile) {
    let inode = file.inode();
    let oi = inode.data();
    {
        let mut st = df.state.lock();
        let old = st.cache.as_ref().is_some_and(|_| st.version != oi.version());
        if old {
            cache_put(inode, &mut st);
            st.cursor = 0;
        }
    }
    if oi.test(flag::WHITEOUTS) {
        df.is_real.store(false, Ordering::Relaxed);
    }
}

/// `ovl_cache_get`: the merged cache of the directory, read if needed.
fn cache_get(file: &File<Rovl>) -> Result<(Arc<DirCache>, u64)> {
    let inode = file.inode();
    let ofs = inode.super_block().data();
    let oi = inode.data();
    let shared = oi.dir_cache.as_ref().ok_or(EIO)?;
    let mut sh = shared.lock();
    let version = oi.version();
    if let Some((c, users, v)) = &mut sh.merged {
        if *v == version {
            *users += 1;
            return Ok((c.clone(), version));
        }
    }
    // Open files of the old version keep their copy.
    sh.merged = None;
    let cache = Arc::new(read_merged(ofs, file.dentry(), oi)?, GFP_KERNEL)?;
    sh.merged = Some((cache.clone(), 1, version));
    Ok((cache, version))
}

/// `ovl_iterate_merged`.
fn iterate_merged(file: &File<Rovl>, df: &DirFile, emitter: &mut DirEmitter) -> Result {
    let ofs = file.inode().super_block().data();
    let mut st = df.state.lock();
    if st.cache.is_none() {
        let (c, v) = cache_get(file)?;
        st.cache = Some(c);
        st.version = v;
        st.cursor = usize::try_from(emitter.pos()).unwrap_or(usize::MAX);
    }
    let Some(cache) = st.cache.clone() else {
        return Err(EIO);
    };
    while let Some((e, name, done)) = cache.at(st.cursor) {
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
        if !stale && !emitter.emit(name, ino, e.dtype.into()) {
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
    let impure = if is_impure_dir(file) { Some(impure_get(ofs, file, emitter)?) } else { None };
    let impure = impure.as_deref();
    df.real.iterate_mapped(emitter, &mut |name, ino| {
        if parent_ino != 0 && name == b".." {
            parent_ino
        } else if let Some(c) = impure {
            c.binary_search_by(|(n, _)| n.as_slice().cmp(name)).ok().and_then(|i| c.get(i)).map_or(ino, |(_, i)| *i)
        } else if xino {
            remap_lower_ino(ofs, ino, fsid, name)
        } else {
            ino
        }
    })
}

/// `ovl_cache_get_impure`: the impure d_ino cache of the current version
/// of the directory, read if needed.
fn impure_get(ofs: &OvlFs, file: &File<Rovl>, emitter: &mut DirEmitter) -> Result<Arc<ImpureCache>> {
    let oi = file.inode().data();
    let shared = oi.dir_cache.as_ref().ok_or(EIO)?;
    let version = oi.version();
    if let Some((c, v)) = &shared.lock().impure {
        if *v == version {
            return Ok(c.clone());
        }
    }
    let mut v = read_impure(ofs, file, emitter)?;
    v.sort_unstable_by(|a, b| a.0.as_slice().cmp(b.0.as_slice()));
    let c = Arc::new(v, GFP_KERNEL)?;
    shared.lock().impure = Some((c.clone(), version));
    Ok(c)
}

/// `ovl_is_impure_dir`: a pure upper directory with copied-up entries.
fn is_impure_dir(file: &File<Rovl>) -> bool {
    let oi = file.inode().data();
    oi.has_upper() && oi.test(flag::IMPURE)
}

/// `ovl_need_adjust_d_ino`.
fn need_adjust_d_ino(ofs: &OvlFs, file: &File<Rovl>) -> bool {
    if ofs.xino_bits() > 0 {
        return true;
    }
    if !ofs.same_fs() {
        return false;
    }
    is_impure_dir(file) || file.dentry().parent().inode().is_some_and(|p| p.data().is_merge())
}

/// `ovl_iterate`.
pub(crate) fn iterate(file: &File<Rovl>, df: &DirFile, emitter: &mut DirEmitter) -> Result {
    let ofs = file.inode().super_block().data();
    if emitter.pos() == 0 {
        dir_reset(file, df);
    }
    ofs.with_creds(|| {
        if !df.is_real.load(Ordering::Relaxed) {
            iterate_merged(file, df, emitter)
        } else if need_adjust_d_ino(ofs, file) {
            iterate_real(file, df, emitter)
        } else {
            df.real.iterate_into(emitter)
        }
    })
}

/// `ovl_dir_fsync`: the upper directory (opened now if the directory was
/// copied up after it was opened); nothing for a lower one.
pub(crate) fn fsync(ofs: &OvlFs, df: &DirFile, inode: &INode<Rovl>, start: i64, end: i64, datasync: bool) -> Result {
    let Some(up) = inode.data().upper() else {
        return Ok(());
    };
    ofs.with_creds(|| {
        if df.real.is_on(&up.dentry) {
            return df.real.fsync(start, end, datasync);
        }
        let f = path_open(ofs, 0, &up.dentry, open_flags::RDONLY | open_flags::LARGEFILE)?;
        f.fsync(start, end, datasync)
    })
}

/// `ovl_dir_llseek`.
pub(crate) fn llseek(file: &File<Rovl>, df: &DirFile, offset: i64, whence: i32) -> Result<i64> {
    if offset == 0 && whence == 0 {
        dir_reset(file, df);
    }
    if df.is_real.load(Ordering::Relaxed) {
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

/// The names and inode numbers of the entries of an open directory, but
/// `.` and `..` (`ovl_dir_read` with `ovl_fill_plain`).
fn collect_names(f: &RealFile) -> Result<KVec<(KVec<u8>, u64)>> {
    let mut names: KVec<(KVec<u8>, u64)> = KVec::new();
    let mut err: Result = Ok(());
    f.read_dir(&mut |e| {
        if e.name == b"." || e.name == b".." {
            return true;
        }
        let mut v = KVec::new();
        if let Err(x) = v.extend_from_slice(e.name, GFP_KERNEL).and_then(|_| names.push((v, e.ino), GFP_KERNEL).map_err(Into::into)) {
            err = Err(x.into());
            return false;
        }
        true
    })?;
    err.map(|_| names)
}

/// [`collect_names`] of a directory on the upper layer, read with the
/// mounter's credentials while the mount is set up.
fn read_names(w: &WorkCtx<'_>, dir: &RealDentry) -> Result<KVec<(KVec<u8>, u64)>> {
    collect_names(&w.mnt.open(dir, open_flags::RDONLY, w.cred)?)
}

/// `ovl_workdir_cleanup`: removes `dentry` (a child of `parent` in the work
/// directory), emptying directories down to two levels first.
pub(crate) fn workdir_cleanup(
    ofs: &WorkCtx<'_>,
    wa: &WriteAccess<'_>,
    parent: &RealDentry,
    dentry: &RealDentry,
    level: u32,
) -> Result {
    if !dentry.can_lookup() || level > 1 {
        return super::super_::cleanup(wa, parent, dentry);
    }
    let err = {
        let r = wa.start_removing(parent, dentry)?;
        r.rmdir()
    };
    if err.is_err() {
        workdir_cleanup_recurse(ofs, wa, dentry, level + 1)?;
        super::super_::cleanup(wa, parent, dentry)?;
    }
    Ok(())
}

/// `ovl_workdir_cleanup_recurse`: empties the directory `dir`; a non-empty
/// `incompat` directory two levels down means the layer has a feature this
/// overlay does not know, and fails the mount.
fn workdir_cleanup_recurse(ofs: &WorkCtx<'_>, wa: &WriteAccess<'_>, dir: &RealDentry, level: u32) -> Result {
    let incompat = level == 2 && dir.with_name(|n| n == b"incompat");
    let names = read_names(ofs, dir)?;
    for (name, _) in names.iter() {
        if incompat {
            pr_err!("overlay with incompat feature '{}' cannot be mounted\n", kernel::str::BStr::from_bytes(name));
            return Err(EINVAL);
        }
        let child = match ofs.mnt.lookup_positive(dir, name) {
            Ok(Some(c)) => c,
            _ => continue,
        };
        workdir_cleanup(ofs, wa, dir, &child, level)?;
    }
    Ok(())
}

/// `ovl_indexdir_cleanup`: removes stale index entries, orphan ones (with
/// `nfs_export`, replaced by whiteouts: handles of their objects stay
/// stale) and leftovers of interrupted index operations.
pub(crate) fn indexdir_cleanup(ofs: &OvlFs, wctx: &WorkCtx<'_>, wa: &WriteAccess<'_>, indexdir: &RealDentry) -> Result {
    let r = (|| -> Result {
        for (name, _) in read_names(wctx, indexdir)?.iter() {
            let Some(index) = wctx.mnt.lookup_positive(indexdir, name)? else {
                continue;
            };
            // A leftover of an interrupted index create or cleanup.
            if name.first() == Some(&b'#') {
                workdir_cleanup(wctx, wa, indexdir, &index, 1)?;
                continue;
            }
            match super::namei::verify_index(ofs, &index) {
                Ok(()) => {}
                Err(e) if e == ENOENT && ofs.config.nfs_export => {
                    super::dir::cleanup_and_whiteout(ofs, wa, indexdir, indexdir, &index)?
                }
                Err(e) if e == crate::vfs::estale() || e == ENOENT => super::super_::cleanup(wa, indexdir, &index)?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })();
    if let Err(e) = &r {
        pr_err!("failed index dir cleanup ({})\n", e.to_errno());
    }
    r
}

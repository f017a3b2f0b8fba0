// SPDX-License-Identifier: GPL-2.0

//! Lookup across the layers (`fs/overlayfs/namei.c`): whiteouts, opaque
//! directories, redirects, metacopy files and their data, data-only layers.

#![forbid(unsafe_code)]

use super::inode::{self, LazyData, OvlInode, OvlPath};
use super::super_::{Layer, OvlFs};
use super::util::{self, CBuf};
use super::Rovl;
use crate::logic::fh;
use crate::logic::metacopy;
use crate::logic::redirect;
use crate::logic::xattr::OvlXattr;
use crate::vfs::dentry::Unhashed;
use crate::vfs::inode::INode;
use crate::vfs::real::RealDentry;
use crate::vfs::write::WriteAccess;
use crate::vfs::FileType;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// The name or path being looked up: the dentry's name, until a redirect
/// replaces it.
enum LookupName<'a> {
    Dentry(&'a [u8]),
    Redirect(KVec<u8>),
}

impl core::ops::Deref for LookupName<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            LookupName::Dentry(n) => n,
            LookupName::Redirect(v) => v,
        }
    }
}

/// `struct ovl_lookup_data`.
struct LookupData<'a> {
    /// The name or path being looked up (a redirect replaces it).
    name: LookupName<'a>,
    is_dir: bool,
    opaque: bool,
    xwhiteouts: bool,
    stop: bool,
    last: bool,
    /// A redirect was found (the current `name` comes from one).
    redirect: bool,
    /// The metacopy xattr size of the last non-dir found, 0 if none.
    metacopy: usize,
    /// The last redirect was absolute.
    absolute_redirect: bool,
    /// Looking up in the upper layer.
    is_upper: bool,
}

/// `ovl_get_redirect_xattr`: the validated redirect of `dentry`, if any.
fn get_redirect(ofs: &OvlFs, layer: &Layer, dentry: &RealDentry) -> Result<Option<KVec<u8>>> {
    let value = match ofs.getxattr_value(layer, dentry, OvlXattr::Redirect) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(None),
        Err(e) => {
            warn_rl!("{} ({})\n", redirect::GET_FAILED_MSG, e.to_errno());
            return Err(e);
        }
    };
    match redirect::parse_redirect(&value) {
        Ok(r) => {
            let mut v = KVec::new();
            v.extend_from_slice(r.as_bytes(), GFP_KERNEL)?;
            Ok(Some(v))
        }
        Err(e) => {
            warn_rl!(
                "{} ({})\n",
                e.message(),
                kernel::str::BStr::from_bytes(value.get(..value.len().min(256)).unwrap_or(&[]))
            );
            Err(util::errno(e.errno()))
        }
    }
}

/// `ovl_check_redirect`: follows a redirect of `dentry`; `prelen` bytes of
/// the current name precede the component looked up, what follows it
/// starts at `post_start`.
fn check_redirect(ofs: &OvlFs, layer: &Layer, dentry: &RealDentry, d: &mut LookupData<'_>, prelen: usize, post_start: usize) -> Result {
    d.absolute_redirect = false;
    let Some(buf) = get_redirect(ofs, layer, dentry)? else {
        return Ok(());
    };
    let post = d.name.get(post_start..).ok_or(EIO)?;
    let name = if buf.first() == Some(&b'/') {
        d.absolute_redirect = true;
        // An absolute redirect below an opaque ancestor of an absolute
        // lookup resumes the lookup in lower layers.
        d.stop = false;
        util::concat(&[&buf, post])?
    } else {
        util::concat(&[d.name.get(..prelen).ok_or(EIO)?, &buf, post])?
    };
    d.redirect = true;
    d.name = LookupName::Redirect(name);
    Ok(())
}

/// `ovl_check_metacopy_xattr` without data: the xattr size (empty counts
/// as the minimum size), 0 for none.
fn check_metacopy_size(ofs: &OvlFs, layer: &Layer, dentry: &RealDentry) -> Result<usize> {
    if dentry.file_type() != Some(FileType::Reg) {
        return Ok(0);
    }
    match ofs.getxattr_ovl(layer, dentry, OvlXattr::Metacopy, None) {
        Ok(None) => Ok(0),
        Ok(Some(n)) => metacopy::check_size(n).map_err(|e| {
            dentry.with_name(|nm| {
                warn_rl!("metacopy file '{}': {}\n", kernel::str::BStr::from_bytes(nm), e.message())
            });
            util::errno(e.errno())
        }),
        Err(e) if ofs.config.userxattr && e == EACCES => Ok(0),
        Err(e) => {
            warn_rl!("failed to get metacopy ({})\n", e.to_errno());
            Err(e)
        }
    }
}

/// `ovl_check_origin`: the copy-up origin of the upper non-directory
/// `upper`, decoded from its `overlay.origin` file handle on the lower
/// layers; `None` if it has none or it is gone.
fn check_origin(ofs: &OvlFs, upper: &RealDentry) -> Result<Option<OvlPath>> {
    let Some(fb) = get_fh(ofs, upper, OvlXattr::Origin)? else {
        return Ok(None);
    };
    let fb = fh::check_fb(&fb).map_err(|_| EIO)?;
    match check_origin_fh(ofs, &fb, false, Some(upper)) {
        Ok(o) => Ok(Some(o)),
        Err(e) if e == crate::vfs::estale() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The lower stack of a regular file decoded from a file handle (NFS
/// export), from its topmost lower dentry `top`: `top` alone if it has its
/// data, else `top` and the file holding the data, found (with
/// `metacopy=on`) by following the copy-up origins (`overlay.origin`) of
/// metacopy files down the lower layers, or, for a metacopy file whose
/// data is in a data-only layer, by its absolute redirect (looked up at
/// first open; also with `metacopy=off`, as lookup allows).
///
/// A lookup by name finds the data by path and redirect instead; both find
/// the same file unless the lower layers were changed offline after the
/// metacopy files were made (overlayfs leaves that undefined; rovl checks
/// that they agree before it gives out a handle, [`decoded_data_agrees`]).
/// Also returns the metacopy xattr size of `top` (0: not a metacopy file).
/// `EPERM` for a metacopy file with `metacopy=off` (as lookup: "refusing
/// to follow metacopy origin"), `EIO` when no data is found (logged with
/// `warn`).
pub(crate) fn decoded_stack(ofs: &OvlFs, top: OvlPath, warn: bool) -> Result<(KVec<OvlPath>, Option<LazyData>, usize)> {
    let mut stack = KVec::with_capacity(2, GFP_KERNEL)?;
    let top_mc = ofs.with_creds(|| check_metacopy_size(ofs, ofs.layer(top.layer)?, &top.dentry))?;
    let mut cur = top.clone();
    stack.push(top, GFP_KERNEL)?;
    let mut mc = top_mc;
    let mut lazy = None;
    while mc != 0 {
        let layer = ofs.layer(cur.layer)?;
        let next = if ofs.config.metacopy {
            ofs.with_creds(|| -> Result<Option<OvlPath>> {
                let Some(fb) = get_fh_on(ofs, layer, &cur.dentry, OvlXattr::Origin)? else {
                    return Ok(None);
                };
                let fb = fh::check_fb(&fb).map_err(|_| EIO)?;
                match check_origin_fh_from(ofs, &fb, false, None, cur.layer + 1) {
                    // The data of a regular file is a regular file.
                    Ok(o) if o.dentry.file_type() == Some(FileType::Reg) => Ok(Some(o)),
                    Ok(_) => Err(crate::vfs::estale()),
                    Err(e) if e == crate::vfs::estale() => Ok(None),
                    Err(e) => Err(e),
                }
            })?
        } else {
            None
        };
        let Some(next) = next else {
            // The data in a data-only layer, by absolute redirect.
            if ofs.numdatalayer > 0 {
                if let Some(r) = ofs.with_creds(|| get_redirect(ofs, layer, &cur.dentry))? {
                    if r.first() == Some(&b'/') {
                        lazy = Some(LazyData { redirect: CBuf::new(&r)?, found: Default::default() });
                        break;
                    }
                }
            }
            if !ofs.config.metacopy {
                if warn {
                    cur.dentry.with_name(|n| {
                        warn_rl!("refusing to follow metacopy origin for ({})\n", kernel::str::BStr::from_bytes(n))
                    });
                }
                return Err(EPERM);
            }
            if warn {
                cur.dentry.with_name(|n| {
                    warn_rl!("metacopy with no lower data found - abort lookup ({})\n", kernel::str::BStr::from_bytes(n))
                });
            }
            return Err(EIO);
        };
        mc = ofs.with_creds(|| check_metacopy_size(ofs, ofs.layer(next.layer)?, &next.dentry))?;
        cur = next;
        if mc == 0 {
            stack.push(cur.clone(), GFP_KERNEL)?;
        }
    }
    Ok((stack, lazy, top_mc))
}

/// Whether decoding a handle of the metacopy inode `oi` (lower stack from
/// its top lower file, [`decoded_stack`]) finds the data its lookup by
/// name found: the same data file, or the same data-only redirect.
pub(crate) fn decoded_data_agrees(ofs: &OvlFs, oi: &OvlInode) -> bool {
    let Some(top) = oi.lowers().first() else {
        return true;
    };
    match decoded_stack(ofs, top.clone(), false) {
        Ok((stack, lazy, _)) => match (&oi.lazy_data, lazy) {
            (Some(a), Some(b)) => a.redirect.bytes() == b.redirect.bytes(),
            (None, None) => match (oi.lowers().last(), stack.last()) {
                (Some(a), Some(b)) => a.dentry.same_inode(&b.dentry),
                _ => false,
            },
            _ => false,
        },
        Err(_) => false,
    }
}

/// The metacopy xattr size of the upper file `upper` (0: not metacopy).
pub(crate) fn upper_metacopy_size(ofs: &OvlFs, upper: &RealDentry) -> Result<usize> {
    ofs.with_creds(|| check_metacopy_size(ofs, ofs.layer(0)?, upper))
}

/// `ovl_check_origin` for a decoded upper file (`ovl_obtain_alias`).
pub(crate) fn upper_origin(ofs: &OvlFs, upper: &RealDentry) -> Result<Option<OvlPath>> {
    ofs.with_creds(|| check_origin(ofs, upper))
}

/// `ovl_check_origin_fh`: the lower dentry the handle `fb` names, on the
/// first lower layer that decodes it; `ESTALE` if none does or (with
/// `upper`) it is of another type than `upper`.
pub(crate) fn check_origin_fh(ofs: &OvlFs, fb: &fh::Fb<'_>, connected: bool, upper: Option<&RealDentry>) -> Result<OvlPath> {
    check_origin_fh_from(ofs, fb, connected, upper, 1)
}

/// [`check_origin_fh`] on the lower layers from `first` down.
fn check_origin_fh_from(ofs: &OvlFs, fb: &fh::Fb<'_>, connected: bool, upper: Option<&RealDentry>, first: usize) -> Result<OvlPath> {
    let mut found = None;
    for idx in first..=ofs.numlowerlayer() {
        let l = ofs.layer(idx)?;
        if l.fsid != 0 && ofs.bad_uuid(l.fsid) {
            continue;
        }
        if let Some(d) = decode_real_fh(ofs, fb, l, connected)? {
            found = Some(OvlPath { layer: idx, dentry: d });
            break;
        }
    }
    let o = found.ok_or(crate::vfs::estale())?;
    if let Some(upper) = upper {
        let (ut, ot) = (upper.file_type(), o.dentry.file_type());
        if !ofs.is_whiteout(ofs.layer(0)?, upper) && ut != ot {
            upper.with_name(|n| {
                warn_rl!("invalid origin ({}, ftype={:?}, origin ftype={:?}).\n", kernel::str::BStr::from_bytes(n), ut, ot)
            });
            return Err(crate::vfs::estale());
        }
    }
    Ok(o)
}

/// `ovl_get_fh`: the handle (`ovl_fb` bytes, checked) an upper dentry's
/// xattr `ox` holds; `None` for none, an empty one ("origin unknown"), one
/// that cannot be read or is invalid (those logged); an error only for a
/// lack of memory.
fn get_fh(ofs: &OvlFs, dentry: &RealDentry, ox: OvlXattr) -> Result<Option<KVec<u8>>> {
    get_fh_on(ofs, ofs.layer(0)?, dentry, ox)
}

/// [`get_fh`] on any layer.
fn get_fh_on(ofs: &OvlFs, layer: &Layer, dentry: &RealDentry, ox: OvlXattr) -> Result<Option<KVec<u8>>> {
    let value = match ofs.getxattr_value(layer, dentry, ox) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(None),
        Err(e) if e == ENOMEM => return Err(e),
        Err(e) => {
            warn_rl!("failed to get origin ({})\n", e.to_errno());
            return Ok(None);
        }
    };
    match fh::fh_from_xattr(&value) {
        Ok(Some(fb)) => {
            let mut v = KVec::new();
            v.extend_from_slice(fb.as_bytes(), GFP_KERNEL)?;
            Ok(Some(v))
        }
        Ok(None) => Ok(None),
        Err(_) => {
            warn_rl!("{} ({:?})\n", fh::INVALID_ORIGIN_MSG, kernel::str::BStr::from_bytes(&value));
            Ok(None)
        }
    }
}

/// `ovl_get_fh` for comparisons (`ovl_verify_fh`): the stored handle's
/// bytes, `ENODATA` when there is none or it cannot be read.
fn stored_fh(ofs: &OvlFs, dentry: &RealDentry, ox: OvlXattr) -> Result<KVec<u8>> {
    get_fh(ofs, dentry, ox).ok().flatten().ok_or_else(crate::vfs::enodata)
}

/// `ovl_verify_set_fh`: `dentry`'s (upper layer) xattr `ox` must hold the
/// handle `fb`; stored if missing and `set` (write access given).
pub(crate) fn verify_set_fh(ofs: &OvlFs, wa: Option<&WriteAccess<'_>>, dentry: &RealDentry, ox: OvlXattr, fb: &[u8]) -> Result {
    match stored_fh(ofs, dentry, ox) {
        Ok(v) if v.as_slice() == fb => Ok(()),
        Ok(_) => Err(crate::vfs::estale()),
        Err(e) if e == crate::vfs::enodata() => match wa {
            Some(wa) => {
                let mut nb = [0u8; 32];
                wa.setxattr(dentry, util::xattr_name(ofs.xattr_ns(), ox, &mut nb), fb, 0)
            }
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// `ovl_verify_origin_xattr`: `dentry`'s xattr `ox` must hold the handle
/// of `real` (stored if missing with write access `wa`).
pub(crate) fn verify_origin_xattr(
    ofs: &OvlFs,
    wa: Option<&WriteAccess<'_>>,
    dentry: &RealDentry,
    ox: OvlXattr,
    real: &RealDentry,
    is_upper: bool,
) -> Result {
    let r = real
        .inode()
        .ok_or(EIO)
        .and_then(|i| super::copy_up::encode_real_fh(ofs, i, is_upper))
        .and_then(|fb| verify_set_fh(ofs, wa, dentry, ox, &fb));
    if let Err(e) = r {
        let ino = real.inode().map_or(0, |i| i.ino());
        real.with_name(|n| {
            warn_rl!(
                "failed to verify {} ({}, ino={}, err={})\n",
                if is_upper { "upper" } else { "origin" },
                kernel::str::BStr::from_bytes(n),
                ino,
                e.to_errno()
            )
        });
    }
    r
}

/// `ovl_get_index_name`: the name of the index entry of lower `origin`
/// on `layer` (the hex of its handle); `None` when the layer's handles
/// cannot be decoded.
pub(crate) fn index_name_of(ofs: &OvlFs, layer: &Layer, origin: &RealDentry) -> Result<Option<KVec<u8>>> {
    if !layer.can_decode_fh {
        return Ok(None);
    }
    let fb = super::copy_up::encode_real_fh(ofs, origin.inode().ok_or(EIO)?, false)?;
    index_name_fh(&fh::check_fb(&fb).map_err(|_| EIO)?).map(Some)
}

/// `ovl_get_index_name_fh`: the index entry name of the handle `fb`.
fn index_name_fh(fb: &fh::Fb<'_>) -> Result<KVec<u8>> {
    let mut out = KVec::from_elem(0u8, fb.as_bytes().len() * 2, GFP_KERNEL)?;
    let n = fh::index_name(fb, &mut out).map_err(|_| EIO)?.len();
    out.truncate(n);
    Ok(out)
}

/// `ovl_lookup_index`: the index entry of the lower inode `origin` (on
/// `layer`); with `upper`, an entry of another inode is not this one's.
/// `verify` (lookup): a whiteout entry is corrupt and a directory entry
/// must point to `upper`; without (decoding a file handle), a whiteout
/// entry means the handle is stale.
pub(crate) fn lookup_index(
    ofs: &OvlFs,
    upper: Option<&RealDentry>,
    layer: &Layer,
    origin: &RealDentry,
    verify: bool,
) -> Result<Option<ARef<RealDentry>>> {
    let Some(indexdir) = ofs.indexdir() else {
        return Ok(None);
    };
    let Some(name) = index_name_of(ofs, layer, origin)? else {
        return Ok(None);
    };
    let up = ofs.layer(0)?;
    let index = match up.mnt.lookup_positive(indexdir, &name) {
        Ok(Some(i)) => i,
        Ok(None) => return Ok(None),
        Err(e) => {
            warn_rl!(
                "failed inode index lookup (ino={}, key={}, err={});\noverlayfs: mount with '-o index=off' to disable inodes index.\n",
                origin.inode().map_or(0, |i| i.ino()),
                kernel::str::BStr::from_bytes(&name),
                e.to_errno()
            );
            return Err(e);
        }
    };
    let whiteout = ofs.is_whiteout(up, &index);
    if whiteout && !verify {
        // All lower aliases were unlinked: a stale handle, no warning.
        return Err(crate::vfs::estale());
    }
    let (it, ot) = (index.file_type(), origin.file_type());
    if util::dentry_weird(&index, up.has_encoding) || whiteout || it != ot {
        let mode = |d: &RealDentry| d.inode().map_or(0, |i| i.mode() & crate::vfs::S_IFMT);
        util::with_name2(&index, |n| {
            warn_rl!("bad index found (index={}, ftype={:x}, origin ftype={:x}).\n", kernel::str::BStr::from_bytes(n), mode(&index), mode(origin))
        });
        return Err(EIO);
    }
    if origin.can_lookup() && verify {
        let Some(u) = upper else {
            util::with_name2(origin, |o| {
                util::with_name2(&index, |n| {
                    warn_rl!(
                        "suspected uncovered redirected dir found (origin={}, index={}).\n",
                        kernel::str::BStr::from_bytes(o),
                        kernel::str::BStr::from_bytes(n)
                    )
                })
            });
            return Err(EIO);
        };
        // The directory index's `upper` xattr must point to the upper dir.
        if let Err(e) = verify_origin_xattr(ofs, None, &index, OvlXattr::Upper, u, true) {
            if e == crate::vfs::estale() {
                util::with_name2(u, |un| {
                    util::with_name2(origin, |o| {
                        util::with_name2(&index, |n| {
                            warn_rl!(
                                "suspected multiply redirected dir found (upper={}, origin={}, index={}).\n",
                                kernel::str::BStr::from_bytes(un),
                                kernel::str::BStr::from_bytes(o),
                                kernel::str::BStr::from_bytes(n)
                            )
                        })
                    })
                });
            }
            return Err(EIO);
        }
        return Ok(Some(index));
    }
    if let Some(u) = upper {
        if u.inode().map(|i| i.id()) != index.inode().map(|i| i.id()) {
            return Ok(None);
        }
    }
    Ok(Some(index))
}

/// `ovl_index_upper`: the upper object of an index entry: the entry
/// itself for a non-directory, the directory its `overlay.upper` handle
/// names for a directory (`None`: no handle).
pub(crate) fn index_upper(ofs: &OvlFs, index: &RealDentry, connected: bool) -> Result<Option<ARef<RealDentry>>> {
    if !index.can_lookup() {
        return Ok(Some(index.into()));
    }
    let up = ofs.layer(0)?;
    let Some(fb) = ofs.with_creds(|| get_fh(ofs, index, OvlXattr::Upper))? else {
        return Ok(None);
    };
    let fb = fh::check_fb(&fb).map_err(|_| EIO)?;
    let upper = decode_real_fh(ofs, &fb, up, connected)?.ok_or(crate::vfs::estale())?;
    if !upper.can_lookup() {
        util::with_name2(index, |n| {
            util::with_name2(&upper, |u| {
                warn_rl!("invalid index upper ({}, upper={}).\n", kernel::str::BStr::from_bytes(n), kernel::str::BStr::from_bytes(u))
            })
        });
        return Err(EIO);
    }
    Ok(Some(upper))
}

/// `ovl_get_index_fh`: the index entry named after the handle `fb`, for
/// decoding an exported handle; `ESTALE` for a whiteout entry.
pub(crate) fn get_index_fh(ofs: &OvlFs, fb: &fh::Fb<'_>) -> Result<Option<ARef<RealDentry>>> {
    let Some(indexdir) = ofs.indexdir() else {
        return Ok(None);
    };
    let name = index_name_fh(fb)?;
    let up = ofs.layer(0)?;
    let Some(index) = up.mnt.lookup_noperm_positive(indexdir, &name)? else {
        return Ok(None);
    };
    if ofs.with_creds(|| ofs.is_whiteout(up, &index)) {
        return Err(crate::vfs::estale());
    }
    if util::dentry_weird(&index, up.has_encoding) {
        return Err(EIO);
    }
    Ok(Some(index))
}

/// `ovl_verify_index`: an index entry must be named by the handle of its
/// origin, which its upper object's `overlay.origin` holds (a
/// non-directory entry is its upper object; a directory entry names it
/// in `overlay.upper`, checked with `nfs_export` only: it is expensive).
/// `ENOENT` for an orphan entry (all its lower aliases gone, or its upper
/// directory), `ESTALE` for a stale one.
pub(crate) fn verify_index(ofs: &OvlFs, index: &RealDentry) -> Result {
    let Some(inode) = index.inode() else {
        return Ok(());
    };
    let r = (|| -> Result {
        let mut buf = [0u8; fh::FB_MAX_LEN];
        let fb = index
            .with_name(|n| fh::fb_from_index_name(n, &mut buf).map(|fb| {
                let mut v = KVec::new();
                v.extend_from_slice(fb.as_bytes(), GFP_KERNEL).map(|_| v)
            }))
            .map_err(|_| EINVAL)??;
        // Whiteout entries mark handles of unlinked objects stale; they
        // have no origin.
        if ofs.is_whiteout(ofs.layer(0)?, index) {
            return Ok(());
        }
        if index.can_lookup() && !ofs.config.nfs_export {
            return Ok(());
        }
        let upper = match index_upper(ofs, index, false) {
            Ok(Some(u)) => u,
            // A stale 'upper': the upper dir was removed, an orphan.
            Err(e) if e == crate::vfs::estale() => return Err(ENOENT),
            Ok(None) => return Err(crate::vfs::estale()),
            Err(e) => return Err(e),
        };
        let stored = stored_fh(ofs, &upper, OvlXattr::Origin)?;
        if stored.as_slice() != fb.as_slice() {
            return Err(crate::vfs::estale());
        }
        if !index.can_lookup() && inode.nlink() == 1 {
            let fbv = fh::check_fb(&fb).map_err(|_| EINVAL)?;
            let origin = check_origin_fh(ofs, &fbv, false, Some(index))?;
            if super::inode::get_nlink(ofs, Some(&origin.dentry), Some(index), 0) == 0 {
                return Err(ENOENT);
            }
        }
        Ok(())
    })();
    let ftype = inode.mode() & crate::vfs::S_IFMT;
    match r {
        Err(e) if e == ENOENT => {
            util::with_name2(index, |n| {
                warn_rl!("orphan index entry ({}, ftype={:x}, nlink={})\n", kernel::str::BStr::from_bytes(n), ftype, inode.nlink())
            });
            Err(e)
        }
        Err(e) => {
            util::with_name2(index, |n| {
                warn_rl!("failed to verify index ({}, ftype={:x}, err={})\n", kernel::str::BStr::from_bytes(n), ftype, e.to_errno())
            });
            Err(e)
        }
        Ok(()) => Ok(()),
    }
}

/// `ovl_fix_origin`: stores the handle of `lower` (an empty one when its
/// layer has none) as the origin of the merged upper directory `upper`
/// that has none, and marks the parent impure.  overlayfs does this on
/// lookup even in a read-only mount; so does rovl.
fn fix_origin(ofs: &OvlFs, dir: &INode<Rovl>, lower: &RealDentry, layer: &Layer, upper: &RealDentry) -> Result {
    let up = ofs.layer(0)?;
    if ofs.has_xattr(up, upper, OvlXattr::Origin) {
        return Ok(());
    }
    let fh = if layer.can_decode_fh {
        Some(super::copy_up::encode_real_fh(ofs, lower.inode().ok_or(EIO)?, false)?)
    } else {
        None
    };
    let wa = up.mnt.want_write()?;
    let r = ofs.check_setxattr(&wa, upper, OvlXattr::Origin, fh.as_deref().unwrap_or(&[]));
    // Not on symlinks or special files ("user." xattrs).
    let r = match r {
        Err(e) if e == EPERM => Ok(()),
        r => r,
    };
    r?;
    set_impure(ofs, &wa, dir)
}

/// `ovl_set_impure`: marks the upper directory of `dir` as holding
/// copied-up entries.
pub(crate) fn set_impure(ofs: &OvlFs, wa: &WriteAccess<'_>, dir: &INode<Rovl>) -> Result {
    let oi = dir.data();
    if oi.test(inode::flag::IMPURE) {
        return Ok(());
    }
    let up = oi.upper().ok_or(EIO)?;
    ofs.check_setxattr(wa, &up.dentry, OvlXattr::Impure, b"y")?;
    oi.set(inode::flag::IMPURE);
    Ok(())
}

/// `ovl_decode_real_fh`: the dentry a stored file handle names on `layer`;
/// `None` when it cannot be decoded there (no privilege, another file
/// system, a stale lower handle, an unsupported object).
pub(crate) fn decode_real_fh(ofs: &OvlFs, fb: &fh::Fb<'_>, layer: &Layer, connected: bool) -> Result<Option<ARef<RealDentry>>> {
    if !crate::vfs::capable_dac_read_search() {
        return Ok(None);
    }
    let origin_uuid = ofs.config.uuid != crate::logic::options::Uuid::Off;
    if !fh::uuid_match(origin_uuid, fb.uuid(), &layer.mnt.root().sb_uuid()) {
        return Ok(None);
    }
    let Some(fid) = fb.decode_fid() else {
        return if fb.stale_is_unknown() { Ok(None) } else { Err(crate::vfs::estale()) };
    };
    match layer.mnt.decode_fh(fid, i32::from(fb.fh_type()), connected) {
        Ok(d) => {
            if util::dentry_weird(&d, layer.has_encoding) {
                return Ok(None);
            }
            Ok(Some(d))
        }
        Err(e) if e == crate::vfs::estale() && fb.stale_is_unknown() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `ovl_lookup_single`: looks up one component in `base` on `layer`.
fn lookup_single(
    ofs: &OvlFs,
    layer: &Layer,
    base: &RealDentry,
    d: &mut LookupData<'_>,
    name_range: (usize, usize),
    prelen: usize,
    post_start: usize,
) -> Result<Option<ARef<RealDentry>>> {
    let last_element = post_start >= d.name.len();
    let name = d.name.get(name_range.0..name_range.1).ok_or(EIO)?;
    // The stack is case-sensitive (rovl refuses case-insensitive layers): a
    // directory made case-insensitive since is not consulted.
    if layer.has_encoding && base.is_casefolded() {
        base.with_name(|n| {
            warn_rl!("failed lookup in lower ({}, name='{}', err={}): parent wrong casefold\n",
                kernel::str::BStr::from_bytes(n), kernel::str::BStr::from_bytes(name), crate::vfs::estale().to_errno())
        });
        return Err(crate::vfs::estale());
    }
    // An upper negative dentry is dropped: the overlay's own negative
    // dentry caches the result (as ovl_lookup_single's drop_negative).
    let this = match layer.mnt.lookup_positive_opt(base, name, d.is_upper) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(None),
        Err(e) if e == crate::vfs::enametoolong() => return Ok(None),
        Err(e) => return Err(e),
    };
    if layer.has_encoding && this.is_casefolded() {
        warn_rl!(
            "failed lookup in lower (name='{}', err={}): child wrong casefold\n",
            kernel::str::BStr::from_bytes(name),
            crate::vfs::eremote().to_errno()
        );
        return Err(crate::vfs::eremote());
    }
    if util::dentry_weird(&this, layer.has_encoding) {
        warn_rl!(
            "failed lookup in lower (name='{}', err={}): unsupported object type\n",
            kernel::str::BStr::from_bytes(name),
            crate::vfs::eremote().to_errno()
        );
        return Err(crate::vfs::eremote());
    }
    if ofs.is_whiteout(layer, &this) {
        d.stop = true;
        d.opaque = true;
        return Ok(None);
    }
    // After a metacopy file, only a regular file can hold its data.
    if last_element && d.metacopy != 0 && this.file_type() != Some(FileType::Reg) {
        d.stop = true;
        return Ok(None);
    }
    if !this.can_lookup() {
        if d.is_dir || !last_element {
            d.stop = true;
            return Ok(None);
        }
        let mc = check_metacopy_size(ofs, layer, &this)?;
        d.metacopy = mc;
        d.stop = mc == 0;
        if mc == 0 || d.last {
            return Ok(Some(this));
        }
    } else {
        if ofs.is_trap(&this) {
            warn_rl!(
                "failed lookup in lower (name='{}', err={}): overlapping layers\n",
                kernel::str::BStr::from_bytes(name),
                crate::vfs::eloop().to_errno()
            );
            return Err(crate::vfs::eloop());
        }
        if last_element {
            d.is_dir = true;
        }
        if d.last {
            return Ok(Some(this));
        }
        // overlay.opaque=x means a directory with xattr whiteouts.
        let val = ofs.dir_xattr_val(layer, &this, OvlXattr::Opaque);
        if last_element && !d.is_upper && val == b'x' {
            d.xwhiteouts = true;
            layer.set_xwhiteouts();
        } else if val == b'y' {
            d.stop = true;
            if last_element {
                d.opaque = true;
            }
            return Ok(Some(this));
        }
    }
    check_redirect(ofs, layer, &this, d, prelen, post_start)?;
    Ok(Some(this))
}

/// `ovl_lookup_layer`: the name, or an absolute path one component at a
/// time from `base` (a layer root).
fn lookup_layer(ofs: &OvlFs, layer: &Layer, base: &RealDentry, d: &mut LookupData<'_>) -> Result<Option<ARef<RealDentry>>> {
    if d.name.first() != Some(&b'/') {
        let len = d.name.len();
        return lookup_single(ofs, layer, base, d, (0, len), 0, len);
    }
    let mut cur: ARef<RealDentry> = base.into();
    let mut pos = 1usize; // after the leading '/'
    loop {
        if !cur.can_lookup() {
            return Ok(None);
        }
        let end = d.name.get(pos..).ok_or(EIO)?.iter().position(|&c| c == b'/').map_or(d.name.len(), |i| pos + i);
        let at_end = end >= d.name.len();
        // A redirect may rewrite the name: positions count from the end.
        let rem_after = d.name.len() - end;
        match lookup_single(ofs, layer, &cur, d, (pos, end), pos, end)? {
            None => return Ok(None),
            Some(next) => {
                if at_end {
                    return Ok(Some(next));
                }
                cur = next;
            }
        }
        pos = d.name.len().checked_sub(rem_after).ok_or(EIO)? + 1;
        if pos > d.name.len() {
            return Err(EIO);
        }
    }
}

/// `ovl_check_follow_redirect`: following redirects and metacopy origins
/// is allowed by the mount options.
fn check_follow_redirect(ofs: &OvlFs, d: &LookupData<'_>, name: &[u8]) -> bool {
    if d.metacopy != 0 && !ofs.config.metacopy {
        warn_rl!("refusing to follow metacopy origin for ({})\n", kernel::str::BStr::from_bytes(name));
        return false;
    }
    if d.redirect && !ofs.redirect_follow() {
        warn_rl!("refusing to follow redirect for ({})\n", kernel::str::BStr::from_bytes(name));
        return false;
    }
    true
}

/// `ovl_lookup` / `ovl_lookup_layers` for an overlay without upper layer.
pub(crate) fn lookup(dir: &INode<Rovl>, dentry: &Unhashed<'_, Rovl>) -> Result<Option<ARef<INode<Rovl>>>> {
    let sb = dir.super_block();
    let ofs = sb.data();
    let dname = dentry.name();
    if i64::try_from(dname.len()).unwrap_or(i64::MAX) > ofs.namelen {
        return Err(crate::vfs::enametoolong());
    }
    let poe: &OvlInode = dir.data();
    let check_redirect = ofs.redirect_follow() || ofs.numdatalayer > 0;
    let mut d = LookupData {
        name: LookupName::Dentry(dname),
        is_dir: false,
        opaque: false,
        xwhiteouts: false,
        stop: false,
        last: if check_redirect { false } else { poe.numlower() == 0 },
        redirect: false,
        metacopy: 0,
        absolute_redirect: false,
        is_upper: false,
    };
    let poe_lowers = poe.lowers();
    let mut stack: KVec<OvlPath> = KVec::with_capacity(poe_lowers.len().max(1), GFP_KERNEL)?;
    let mut metacopy_size = 0usize;
    let roe = ofs.root_stack();
    let numlower_root = roe.len();
    let mut upperdentry: Option<ARef<RealDentry>> = None;
    let mut origin: Option<OvlPath> = None;
    let mut uppermetacopy = false;
    let mut upperopaque = false;
    let mut verified_origin: Option<usize> = None;

    ofs.with_creds(|| -> Result {
        // The parent stack, switched to the root's after an absolute
        // redirect: (layer index, dentry) pairs.
        let mut use_root = false;
        if let Some(updir) = poe.upper() {
            let layer = ofs.layer(0)?;
            d.is_upper = true;
            let this = lookup_layer(ofs, layer, &updir.dentry, &mut d)?;
            d.is_upper = false;
            if let Some(this) = this {
                if this.has_real_op() {
                    return Err(crate::vfs::eremote());
                }
                if !d.is_dir {
                    origin = check_origin(ofs, &this)?;
                    if d.metacopy != 0 {
                        uppermetacopy = true;
                    }
                    metacopy_size = d.metacopy;
                }
                upperdentry = Some(this);
            }
            if d.redirect && d.name.first() == Some(&b'/') {
                use_root = true;
            }
            upperopaque = d.opaque;
        }
        let mut i = 0usize;
        loop {
            let len = if use_root { roe.len() } else { poe_lowers.len() };
            if d.stop || i >= len {
                break;
            }
            let (layer_idx, base): (usize, &RealDentry) = if use_root {
                let (l, dd) = roe.get(i).ok_or(EIO)?;
                (*l, dd)
            } else {
                let p = poe_lowers.get(i).ok_or(EIO)?;
                (p.layer, &p.dentry)
            };
            if !check_follow_redirect(ofs, &d, dname) {
                return Err(EPERM);
            }
            if !check_redirect {
                d.last = i == len - 1;
            } else if d.is_dir || ofs.numdatalayer == 0 {
                d.last = layer_idx == numlower_root;
            }
            let layer = ofs.layer(layer_idx)?;
            let this = lookup_layer(ofs, layer, base, &mut d)?;
            i += 1;
            let Some(this) = this else {
                continue;
            };
            // A merged upper directory without origin (made outside
            // overlayfs, or by an old one): record the lower one.
            if let Some(up) = &upperdentry {
                if stack.is_empty() && d.is_dir && !ofs.noxattr.load(core::sync::atomic::Ordering::Relaxed) {
                    fix_origin(ofs, dir, &this, layer, up)?;
                }
            }
            // With index=on, the origin of a non-directory upper must be
            // the lower found by path (a metacopy file's data).  With
            // nfs_export (`ovl_verify_lower`), a directory is not merged
            // with a lower one that is not its origin.  Only a verified
            // origin is used to look the index up.
            if let Some(up) = &upperdentry {
                if stack.is_empty()
                    && ((d.is_dir && ofs.verify_lower()) || (!d.is_dir && ofs.config.index && origin.is_some()))
                {
                    if let Err(e) = verify_origin_xattr(ofs, None, up, OvlXattr::Origin, &this, false) {
                        if d.is_dir {
                            break;
                        }
                        return Err(e);
                    }
                    verified_origin = Some(layer_idx);
                }
            }
            if upperdentry.is_none() && stack.is_empty() && !d.is_dir && d.metacopy != 0 {
                metacopy_size = d.metacopy;
            }
            if d.metacopy != 0 && !stack.is_empty() {
                // Intermediate metacopy files are not kept, only the top
                // one; continue so that an absolute redirect on this one
                // still switches to the root's stack.
                drop(this);
            } else {
                stack.push(OvlPath { layer: layer_idx, dentry: this }, GFP_KERNEL)?;
            }
            if d.stop {
                break;
            }
            if d.redirect && d.name.first() == Some(&b'/') && !use_root {
                use_root = true;
                // Continue with the layer below the current one.
                i = layer_idx;
            }
        }
        Ok(())
    })?;

    // Defer the lookup of data in data-only layers to the first open.
    let mut lazy = None;
    if d.metacopy != 0 && !stack.is_empty() && ofs.numdatalayer > 0 && d.absolute_redirect {
        d.metacopy = 0;
        lazy = Some(LazyData { redirect: CBuf::new(&d.name)?, found: Default::default() });
    } else if !check_follow_redirect(ofs, &d, dname) {
        return Err(EPERM);
    }
    if d.metacopy != 0 || (uppermetacopy && stack.is_empty()) {
        warn_rl!(
            "metacopy with no lower data found - abort lookup ({})\n",
            kernel::str::BStr::from_bytes(dname)
        );
        return Err(EIO);
    } else if !d.is_dir && upperdentry.is_some() && stack.is_empty() {
        // A copied-up file: its origin, found by file handle, gives its
        // inode number.
        if let Some(o) = origin.take() {
            verified_origin = Some(o.layer);
            stack.push(o, GFP_KERNEL)?;
        }
    }
    // Found in the upper directory (not through the index).
    let upper_alias = upperdentry.is_some();
    // The index: looked up by the origin (verified if there is an upper),
    // or by the lower found without upper; for directories with
    // nfs_export only (`ovl_index_all`).
    let mut index = false;
    let index_origin = if upperdentry.is_some() { verified_origin.and(stack.first()) } else { stack.first() };
    if let Some(o) = index_origin {
        if (!d.is_dir || ofs.index_all()) && ofs.indexdir().is_some() {
            let layer = ofs.layer(o.layer)?;
            let found = ofs.with_creds(|| lookup_index(ofs, upperdentry.as_deref(), layer, &o.dentry, true))?;
            if let Some(ix) = found {
                index = true;
                if upperdentry.is_none() && !d.is_dir {
                    // Copied up through another hard link: the index is
                    // the upper inode.
                    let up = ofs.layer(0)?;
                    let (redirect, mc) = ofs.with_creds(|| -> Result<(bool, usize)> {
                        let r = get_redirect(ofs, up, &ix)?.is_some();
                        Ok((r, check_metacopy_size(ofs, up, &ix)?))
                    })?;
                    if redirect {
                        d.redirect = true;
                    }
                    d.metacopy = mc;
                    uppermetacopy = mc != 0;
                    metacopy_size = mc;
                    if !check_follow_redirect(ofs, &d, dname) {
                        return Err(EPERM);
                    }
                    upperdentry = Some(ix);
                }
            }
        }
    }
    let mut reval = inode::stack_reval(&stack);
    if let Some(u) = &upperdentry {
        reval = reval.union(u.reval_flags());
    }
    if upper_alias {
        dentry.dentry().set_flags(super::DENTRY_UPPER_ALIAS);
    }
    if upperopaque || d.xwhiteouts {
        let mut f = 0;
        if upperopaque {
            f |= super::DENTRY_OPAQUE;
        }
        if d.xwhiteouts {
            f |= super::DENTRY_XWHITEOUTS;
        }
        dentry.dentry().set_flags(f);
    }
    dentry.dentry().set_reval(reval);
    if stack.is_empty() && upperdentry.is_none() {
        return Ok(None);
    }
    // A lazy data lookup only makes sense for a regular file.
    if lazy.is_some() && d.is_dir {
        lazy = None;
    }
    let digest = metacopy_size > metacopy::MIN_SIZE;
    inode::get_inode(sb, upperdentry, stack, lazy, digest, uppermetacopy, index).map(Some)
}

/// `ovl_maybe_lookup_lowerdata`: looks up the data of a metacopy file in
/// the data-only layers, by its absolute redirect, once.
pub(crate) fn lookup_lowerdata(inode: &INode<Rovl>) -> Result {
    let oi = inode.data();
    let Some(lazy) = &oi.lazy_data else {
        return Ok(());
    };
    if lazy.found.as_ref().is_some() {
        return Ok(());
    }
    let ofs = inode.super_block().data();
    let redirect = lazy.redirect.as_cstr();
    if redirect.to_bytes().first() != Some(&b'/') {
        return Err(EIO);
    }
    let r = ofs.with_creds(|| -> Result<OvlPath> {
        let mut err = ENOENT;
        for (i, layer) in ofs.layers.iter().enumerate().skip(ofs.numlowerlayer()) {
            match layer.mnt.lookup_beneath(redirect) {
                Ok(d) => {
                    if util::dentry_weird(&d, layer.has_encoding) {
                        err = crate::vfs::eremote();
                        continue;
                    }
                    // Only a regular file can hold the data.
                    if d.file_type() != Some(FileType::Reg) {
                        err = ENOENT;
                        continue;
                    }
                    return Ok(OvlPath { layer: i + 1, dentry: d });
                }
                Err(e) => err = e,
            }
        }
        Err(err)
    });
    match r {
        Ok(p) => {
            // Someone may have been faster: theirs is as good as ours.
            let _ = lazy.found.populate(p);
            Ok(())
        }
        Err(e) => {
            warn_rl!("lazy lowerdata lookup failed (err={})\n", e.to_errno());
            Err(e)
        }
    }
}

/// The fs-verity digest of the lower data `data`, if it has one
/// (`ovl_ensure_verity_loaded`, which opens the file to load its verity
/// information, then `fsverity_get_digest`); called with the mounter's
/// credentials.
pub(crate) fn verity_digest<'b>(ofs: &OvlFs, data: &OvlPath, buf: &'b mut [u8; metacopy::DIGEST_MAX]) -> Result<Option<metacopy::Digest<'b>>> {
    let dinode = data.dentry.inode().ok_or(EIO)?;
    if dinode.verity_needs_load() {
        let layer = ofs.layer(data.layer)?;
        layer.mnt.open(&data.dentry, crate::vfs::real::open_flags::RDONLY, &ofs.creator_cred)?;
    }
    let Some((n, algo)) = dinode.verity_digest(buf) else {
        return Ok(None);
    };
    Ok(buf.get(..n).map(|bytes| metacopy::Digest { algo, bytes }))
}

/// `ovl_maybe_validate_verity` / `ovl_validate_verity`: with `verity=on` or
/// `verity=require`, the data of a metacopy file must have the fs-verity
/// digest its metacopy xattr names (once per inode).
pub(crate) fn validate_verity(inode: &INode<Rovl>) -> Result {
    let ofs = inode.super_block().data();
    let oi = inode.data();
    if ofs.config.verity == crate::logic::options::Verity::Off
        || !oi.is_metacopy(inode.file_type())
        || oi.test(inode::flag::VERIFIED_DIGEST)
    {
        return Ok(());
    }
    let meta = oi.real()?;
    let name_warn = |msg: &str, d: &RealDentry, what: &str| {
        d.with_name(|n| warn_rl!("{} '{}' {}\n", what, kernel::str::BStr::from_bytes(n), msg));
    };
    if !oi.test(inode::flag::HAS_DIGEST) {
        if ofs.config.verity == crate::logic::options::Verity::Require {
            name_warn("has no digest specified", &meta.dentry, "metacopy file");
            return Err(EIO);
        }
        return Ok(());
    }
    let data = oi.lowerdata().ok_or(EIO)?;
    let meta_layer = ofs.layer(meta.layer)?;
    ofs.with_creds(|| -> Result {
        let value = ofs.getxattr_value(meta_layer, &meta.dentry, OvlXattr::Metacopy)?;
        let expected = match metacopy::verity_expected(ofs.config.verity, true, value.as_deref()) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(()),
            Err(e) => {
                name_warn(e.message(), &meta.dentry, "metacopy file");
                return Err(util::errno(e.errno()));
            }
        };
        let mut buf = [0u8; metacopy::DIGEST_MAX];
        let actual = verity_digest(ofs, data, &mut buf).inspect_err(|_| {
            name_warn("failed to load fs-verity info", &data.dentry, "lower file");
        })?;
        metacopy::verity_compare(&expected, actual.as_ref()).map_err(|e| {
            name_warn(e.message(), &data.dentry, "lower file");
            util::errno(e.errno())
        })
    })?;
    oi.set(inode::flag::VERIFIED_DIGEST);
    Ok(())
}

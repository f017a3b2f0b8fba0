// SPDX-License-Identifier: GPL-2.0

//! NFS export (`fs/overlayfs/export.c`): overlay file handles, and their
//! decoding back to overlay dentries after the caches were dropped, after
//! a remount, a copy-up or a rename.
//!
//! A handle is the `struct ovl_fh` of a real inode, in the on-disk format
//! of `overlay.origin` ([`crate::logic::fh`]):
//!
//! | object                                  | handle of |
//! |-----------------------------------------|-----------|
//! | pure upper, non-indexed upper, the root  | upper (U) |
//! | indexed upper, not copied up            | lower (L) |
//!
//! so that a handle given out before a copy-up still decodes after it:
//! with `nfs_export=on` every copy-up is indexed (`ovl_index_all`) and the
//! index entry, named after the lower handle, leads to the upper inode.
//! Non-directories decode to a disconnected dentry of their overlay inode;
//! directories to a connected dentry, reconnected by looking their
//! ancestors up in the overlay by name (`ovl_lookup_real`).

#![forbid(unsafe_code)]

use super::inode::{self, flag, OvlPath};
use super::namei;
use super::super_::OvlFs;
use super::Rovl;
use crate::logic::fh;
use crate::vfs::dentry::DEntry;
use crate::vfs::export::{self, Encoded};
use crate::vfs::fs::SuperBlock;
use crate::vfs::inode::INode;
use crate::vfs::real::RealDentry;
use kernel::prelude::*;
use kernel::str::BStr;
use kernel::sync::aref::ARef;

/// `ovl_encode_maybe_copy_up`.
fn encode_maybe_copy_up(dentry: &DEntry<Rovl>) -> Result {
    if dentry.inode().is_some_and(|i| i.data().has_upper()) {
        return Ok(());
    }
    super::copy_up::copy_up(dentry).inspect_err(|e| {
        let mut nb = [0u8; 256];
        let name = dentry.name_copy(&mut nb).unwrap_or(b"?");
        warn_rl!("failed to copy up on encode ({}, err={})\n", BStr::from_bytes(name), e.to_errno());
    })
}

/// `ovl_connectable_layer`: the lowest layer from which a connectable
/// handle of `dentry` can be encoded.
///
/// Before a non-upper directory handle of layer N is encoded, overlayfs
/// makes sure the overlay dentry can be reconnected from the real one
/// decoded on layer N: all ancestors up to a "layer N connected" one must
/// be "layer N connectable", else an ancestor is copied up (and indexed),
/// which connects it ([`connect_layer`]).
fn connectable_layer(dentry: &DEntry<Rovl>) -> usize {
    let Some(inode) = dentry.inode() else {
        return 0;
    };
    let oi = inode.data();
    // The overlay root can be reached from the root of any layer.
    if dentry.id() == inode.super_block().root().id() {
        return oi.numlower();
    }
    // An unindexed merge dir is connectable with no lower layer.
    if oi.has_upper() && !oi.test(flag::INDEX) {
        return 0;
    }
    // The upper/overlay path can be found from an indexed/lower dentry.
    oi.lowers().first().map_or(0, |l| l.layer)
}

/// `ovl_connect_layer`: `dentry` is "connected" if all its ancestors up
/// to the root or a connected ancestor have the same uppermost lower layer
/// as its origin; a connectable ancestor may need a copy-up to make it so.
/// A connected dentry stays connected: the result is kept in its flags.
/// Returns the origin's layer.
fn connect_layer(dentry: &DEntry<Rovl>) -> Result<usize> {
    let inode = dentry.inode().ok_or(EIO)?;
    let origin_layer = match inode.data().lowers().first() {
        Some(l) if dentry.id() != inode.super_block().root().id() => l.layer,
        _ => return Err(EIO),
    };
    if dentry.flags() & super::DENTRY_CONNECTED != 0 {
        return Ok(origin_layer);
    }
    // The topmost origin-layer-connectable ancestor.
    let mut next: ARef<DEntry<Rovl>> = dentry.into();
    loop {
        let parent = next.parent();
        if parent.id() == next.id() {
            return Err(EIO);
        }
        // A parent that is not origin layer connectable: copy up `next`,
        // which is, and we are done.
        if connectable_layer(&parent) < origin_layer {
            encode_maybe_copy_up(&next)?;
            break;
        }
        // A connected or indexed parent: done.
        if parent.flags() & super::DENTRY_CONNECTED != 0
            || parent.inode().is_some_and(|p| p.data().test(flag::INDEX))
        {
            break;
        }
        next = parent;
    }
    dentry.set_flags(super::DENTRY_CONNECTED);
    Ok(origin_layer)
}

/// `ovl_check_encode_origin`: whether the handle of `inode` is that of its
/// lower (origin) inode, `true`, or of its upper inode, `false`.
///
/// The origin is encoded where the object may have been encoded before its
/// copy-up, so that handles stay the same: a non-upper object, or an
/// indexed upper one.  A non-indexed upper was copied up before NFS export
/// was enabled (or has no origin): its upper handle.
fn check_encode_origin(inode: &INode<Rovl>) -> Result<bool> {
    let ofs = inode.super_block().data();
    let oi = inode.data();
    let decodable = ofs.config.nfs_export;
    // No upper layer.
    if ofs.upper.is_none() {
        return Ok(true);
    }
    // A lower handle for a non-upper, non-decodable object.
    if !oi.has_upper() && !decodable {
        return Ok(true);
    }
    // An upper handle for a pure upper object.
    if oi.lowers().is_empty() {
        return Ok(false);
    }
    // The root is never indexed: with an upper layer, its upper handle.
    if inode.super_block().root().inode().is_some_and(|r| core::ptr::eq(r, inode)) {
        return Ok(false);
    }
    // A decodable upper handle for a non-indexed upper object.
    if oi.has_upper() && decodable && !oi.test(flag::INDEX) {
        return Ok(false);
    }
    // A merge dir whose origin's ancestor is under a redirected lower dir
    // or a non-indexed upper cannot always be decoded: connect_layer tries
    // to make the origin's layer connected by copying up an ancestor.
    if !decodable || inode.file_type() != crate::vfs::FileType::Dir {
        return Ok(true);
    }
    let dentry = inode.find_any_alias().ok_or(ENOENT)?;
    connect_layer(&dentry)?;
    // A lower handle for an indexed or non-upper dir/non-dir.
    Ok(true)
}

/// `ovl_dentry_to_fid`: encodes the handle of `inode` into `buf` if it
/// fits; returns its length.
fn dentry_to_fid(ofs: &OvlFs, inode: &INode<Rovl>, buf: &mut [u8]) -> Result<usize> {
    let enc_lower = check_encode_origin(inode).inspect_err(|e| {
        warn_rl!("failed to encode file handle (ino={}, err={})\n", inode.ino(), e.to_errno());
    })?;
    let oi = inode.data();
    // A metacopy file whose data a decoding would not find, or find
    // elsewhere than its lookup did (no copy-up origins to follow, lower
    // layers changed offline): its data goes up first, so that the handle
    // always decodes to this file (checked once per inode).
    if ofs.config.nfs_export && oi.is_metacopy(inode.file_type()) && !oi.test(flag::EXPORT_DATA) {
        let ok = namei::decoded_data_agrees(ofs, oi)
            && (enc_lower
                || match oi.upper() {
                    Some(u) => namei::upper_origin(ofs, &u.dentry)?
                        .zip(oi.lowers().first())
                        .is_some_and(|(o, l)| o.dentry.same_inode(&l.dentry)),
                    None => false,
                });
        if ok {
            oi.set(flag::EXPORT_DATA);
        } else {
            let dentry = inode.find_any_alias().ok_or(ENOENT)?;
            super::copy_up::copy_up_with_data(&dentry).inspect_err(|e| {
                warn_rl!("failed to copy up on encode (ino={}, err={})\n", inode.ino(), e.to_errno());
            })?;
        }
    }
    let real = if enc_lower { &oi.lowers().first().ok_or(EIO)?.dentry } else { &oi.upper().ok_or(EIO)?.dentry };
    let fb = super::copy_up::encode_real_fh(ofs, real.inode().ok_or(EIO)?, !enc_lower)?;
    let fb = fh::check_fb(&fb).map_err(|_| EIO)?;
    let len = fh::WIRE_OFFSET + fb.as_bytes().len();
    if len <= buf.len() {
        fh::fb_to_wire(&fb, buf).map_err(|_| EIO)?;
    }
    Ok(len)
}

/// `ovl_obtain_alias`: a (disconnected) overlay dentry of a non-directory
/// from its real dentries and index entry.
fn obtain_alias(
    sb: &SuperBlock<Rovl>,
    upper_alias: Option<&RealDentry>,
    lowerpath: Option<&OvlPath>,
    index: Option<&RealDentry>,
) -> Result<ARef<DEntry<Rovl>>> {
    let upper = upper_alias.or(index);
    // Overlay directory dentries come from lookup_real.
    let real = upper.or(lowerpath.map(|l| &*l.dentry)).ok_or(EIO)?;
    if real.can_lookup() {
        return Err(EIO);
    }
    let ofs = sb.data();
    // With metacopy=on, an upper (index) file may hold the metadata only
    // and a lower one may be a metacopy file of a middle layer: the data
    // is then found below (overlayfs refuses nfs_export with metacopy for
    // want of this).  As lookup, a metacopy file is refused with
    // metacopy=off (but for a lower one whose data is in a data-only
    // layer).
    let upper_mc = match upper {
        Some(u) => namei::upper_metacopy_size(ofs, u)?,
        None => 0,
    };
    if upper_mc != 0 && !ofs.config.metacopy {
        super::util::with_name2(upper.ok_or(EIO)?, |n| {
            warn_rl!("refusing to follow metacopy origin for ({})\n", BStr::from_bytes(n))
        });
        return Err(EPERM);
    }
    let top = match lowerpath {
        Some(l) => Some(l.clone()),
        // A metacopy upper decoded by its own handle: its origin.
        None if upper_mc != 0 => Some(namei::upper_origin(ofs, upper.ok_or(EIO)?)?.ok_or_else(|| {
            warn_rl!("metacopy with no lower data found - abort lookup\n");
            EIO
        })?),
        None => None,
    };
    let (lowers, lazy, lower_mc) = match top {
        Some(t) if upper.is_none() || upper_mc != 0 => namei::decoded_stack(ofs, t, true)?,
        Some(t) => {
            let mut v = KVec::with_capacity(1, GFP_KERNEL)?;
            v.push(t, GFP_KERNEL)?;
            (v, None, 0)
        }
        None => (KVec::new(), None, 0),
    };
    let mc = if upper.is_some() { upper_mc } else { lower_mc };
    let digest = mc > crate::logic::metacopy::MIN_SIZE;
    let reval = inode::stack_reval(&lowers).union(upper.map_or(Default::default(), |u| u.reval_flags()));
    let inode = inode::get_inode(sb, upper.map(ARef::from), lowers, lazy, digest, upper_mc != 0, index.is_some())?;
    let dentry = DEntry::obtain_alias(inode)?;
    dentry.set_reval(reval);
    Ok(dentry)
}

/// `ovl_dentry_real_at`: the identity of the real dentry of `dentry` on
/// layer `idx` (compared only, as overlayfs compares the pointers).
fn real_id_at(dentry: &DEntry<Rovl>, idx: usize) -> Option<usize> {
    let oi = dentry.inode()?.data();
    if idx == 0 {
        return oi.upper().map(|u| u.dentry.id());
    }
    oi.lowers().iter().find(|l| l.layer == idx).map(|l| l.dentry.id())
}

/// Whether `dentry`'s real dentry on layer `idx` is `real`.
fn real_at_is(dentry: &DEntry<Rovl>, idx: usize, real: &RealDentry) -> bool {
    real_id_at(dentry, idx) == Some(real.id())
}

/// "failed to {what} (real, layer=, connected=, err=)".
fn warn_lookup_real(what: &str, real: &RealDentry, idx: usize, connected: &DEntry<Rovl>, e: Error) {
    let mut nb = [0u8; 256];
    let cname = connected.name_copy(&mut nb).unwrap_or(b"?");
    super::util::with_name2(real, |n| {
        warn_rl!(
            "failed to {} ({}, layer={}, connected={}, err={})\n",
            what,
            BStr::from_bytes(n),
            idx,
            BStr::from_bytes(cname),
            e.to_errno()
        )
    });
}

/// `ovl_lookup_real_one`: the child of `connected` whose real dentry on
/// layer `idx` is `real`, looked up by `real`'s name.  `ECHILD` if
/// `real`'s parent is no longer the real dentry of `connected`, `ESTALE`
/// if the child found is another object.
fn lookup_real_one(connected: &DEntry<Rovl>, real: &RealDentry, idx: usize) -> Result<ARef<DEntry<Rovl>>> {
    // A snapshot of the real name: a rename on the real layer may race.
    let this = real.with_name(|n| connected.lookup_child(n));
    let r = (|| {
        if !real_at_is(connected, idx, &real.parent()) {
            return Err(ECHILD);
        }
        let this = this?;
        if this.inode().is_none() {
            return Err(ENOENT);
        }
        if !real_at_is(&this, idx, real) {
            return Err(crate::vfs::estale());
        }
        Ok(this)
    })();
    r.inspect_err(|e| warn_lookup_real("lookup one by real", real, idx, connected, *e))
}

/// `ovl_lookup_real_inode`: an overlay dentry of the real `real` (layer
/// `idx`) in the inode cache, or through the index for a lower directory.
fn lookup_real_inode(sb: &SuperBlock<Rovl>, real: &RealDentry, idx: usize) -> Result<Option<ARef<DEntry<Rovl>>>> {
    let ofs = sb.data();
    // Decoding an upper dir from the index is expensive: first the caches.
    let mut this = inode::lookup_inode(sb, real, idx == 0)?.and_then(|i| i.find_any_alias());
    // A decoded lower dir: was it copied up, or removed?  Its index says.
    if this.is_none() && idx != 0 && ofs.indexdir().is_some() && real.can_lookup() {
        let layer = ofs.layer(idx)?;
        let index = ofs.with_creds(|| namei::lookup_index(ofs, None, layer, real, false))?;
        if let Some(index) = index {
            // The connected upper dir of the index.  lookup_real on a lower
            // layer recurses once, on the upper layer: the first level walks
            // lower parents back to the topmost indexed one, the second from
            // the indexed upper to the topmost connected one (or the root).
            let Some(upper) = namei::index_upper(ofs, &index, true)? else {
                return Ok(None);
            };
            this = Some(lookup_real(sb, &upper, 0)?);
        }
    }
    let Some(this) = this else {
        return Ok(None);
    };
    if !real_at_is(&this, idx, real) {
        return Err(EIO);
    }
    Ok(Some(this))
}

/// `ovl_lookup_real_ancestor`: an overlay dentry, from the caches or the
/// index, of the topmost such ancestor of `real`, or the root.
fn lookup_real_ancestor(sb: &SuperBlock<Rovl>, real: &RealDentry, idx: usize) -> Result<ARef<DEntry<Rovl>>> {
    let layer_root = sb.data().layer(idx)?.mnt.root().id();
    if real.id() == layer_root {
        return Ok(sb.root().into());
    }
    let mut next: ARef<RealDentry> = real.into();
    loop {
        let parent = next.parent();
        if let Some(ancestor) = lookup_real_inode(sb, &next, idx)? {
            return Ok(ancestor);
        }
        if parent.id() == layer_root {
            return Ok(sb.root().into());
        }
        // Moved out of the layer's root: not by an overlay rename.
        if parent.id() == next.id() {
            return Err(EXDEV);
        }
        next = parent;
    }
}

/// `ovl_lookup_real`: the connected overlay dentry whose real dentry on
/// layer `idx` is `real`: from its topmost known ancestor, the names of
/// the real path below it are looked up in the overlay one by one.
fn lookup_real(sb: &SuperBlock<Rovl>, real: &RealDentry, idx: usize) -> Result<ARef<DEntry<Rovl>>> {
    let layer_root = sb.data().layer(idx)?.mnt.root().id();
    let mut connected = lookup_real_ancestor(sb, real, idx)?;
    let r = loop {
        let real_connected = real_id_at(&connected, idx);
        if real_connected == Some(real.id()) {
            break Ok(());
        }
        // The topmost real ancestor not connected yet.
        let mut next: ARef<RealDentry> = real.into();
        let mut err = None;
        loop {
            let parent = next.parent();
            if Some(parent.id()) == real_connected {
                break;
            }
            // `real` moved out of `real_connected`: we hit the layer's
            // root and start again from the overlay root.
            if parent.id() == layer_root {
                connected = sb.root().into();
                break;
            }
            // Moved out of the layer's root: not by an overlay rename.
            if parent.id() == next.id() {
                err = Some(EXDEV);
                break;
            }
            next = parent;
        }
        if let Some(e) = err {
            break Err(e);
        }
        match lookup_real_one(&connected, &next, idx) {
            Ok(this) => connected = this,
            // An overlay rename of the child away from `connected` raced
            // with us: start again from the top, where the renamed
            // ancestor is likely in the cache now.
            Err(e) if e == ECHILD => match lookup_real_ancestor(sb, real, idx) {
                Ok(this) => connected = this,
                Err(e) => break Err(e),
            },
            Err(e) => break Err(e),
        }
    };
    r.map(|()| connected.clone()).inspect_err(|e| warn_lookup_real("lookup by real", real, idx, &connected, *e))
}

/// `ovl_get_dentry`: an overlay dentry from real dentries and the index:
/// disconnected for a non-directory, connected for a directory.
fn get_dentry(
    sb: &SuperBlock<Rovl>,
    upper: Option<&RealDentry>,
    lowerpath: Option<&OvlPath>,
    index: Option<&RealDentry>,
) -> Result<ARef<DEntry<Rovl>>> {
    let idx = if upper.is_some() { 0 } else { lowerpath.ok_or(EIO)?.layer };
    let real = upper.or(index).or(lowerpath.map(|l| &*l.dentry)).ok_or(EIO)?;
    if !real.can_lookup() {
        return obtain_alias(sb, upper, lowerpath, index);
    }
    // A removed empty directory.
    if real.is_disconnected() || real.is_unhashed() {
        return Err(ENOENT);
    }
    lookup_real(sb, real, idx)
}

/// `ovl_upper_fh_to_d`.
fn upper_fh_to_d(sb: &SuperBlock<Rovl>, fb: &fh::Fb<'_>) -> Result<Option<ARef<DEntry<Rovl>>>> {
    let ofs = sb.data();
    let Some(up) = ofs.upper.as_ref() else {
        return Err(EACCES);
    };
    let Some(upper) = namei::decode_real_fh(ofs, fb, up, true)? else {
        return Ok(None);
    };
    get_dentry(sb, Some(&upper), None, None).map(Some)
}

/// `ovl_lower_fh_to_d`.
fn lower_fh_to_d(sb: &SuperBlock<Rovl>, fb: &fh::Fb<'_>) -> Result<Option<ARef<DEntry<Rovl>>>> {
    let ofs = sb.data();
    // First the overlay inode in the inode cache, by origin.
    let mut origin = namei::check_origin_fh(ofs, fb, false, None)?;
    if !origin.dentry.can_lookup() || !origin.dentry.is_disconnected() {
        if let Some(inode) = inode::lookup_inode(sb, &origin.dentry, false)? {
            if let Some(d) = inode.find_any_alias() {
                return Ok(Some(d));
            }
        }
    }
    // Then the indexed upper or whiteout, by origin.
    let index = if ofs.indexdir().is_some() { namei::get_index_fh(ofs, fb)? } else { None };
    // Then a connected upper dir, through its index.
    if let Some(ix) = index.as_deref().filter(|i| i.can_lookup()) {
        let Some(upper) = namei::index_upper(ofs, ix, true)? else {
            return Ok(None);
        };
        return get_dentry(sb, Some(&upper), None, None).map(Some);
    }
    // The origin again, with the layer check of a connected decode.
    if origin.dentry.can_lookup() {
        origin = namei::check_origin_fh(ofs, fb, true, None)?;
    }
    if let Some(ix) = index.as_deref() {
        namei::verify_origin_xattr(ofs, None, ix, crate::logic::xattr::OvlXattr::Origin, &origin.dentry, false)?;
    }
    // A connected non-upper dir or a disconnected non-dir.
    get_dentry(sb, None, Some(&origin), index.as_deref()).map(Some)
}

/// `ovl_fh_to_dentry`.
fn fh_to_dentry(sb: &SuperBlock<Rovl>, fid: &[u8], fh_type: i32) -> Result<Option<ARef<DEntry<Rovl>>>> {
    let mut flags = 0;
    let r = fh::check_wire(fid, fh_type).map_err(|e| super::util::errno(e.errno())).and_then(|fb| {
        flags = fb.flags();
        if fb.is_upper() {
            upper_fh_to_d(sb, &fb)
        } else {
            lower_fh_to_d(sb, &fb)
        }
    });
    if let Err(e) = &r {
        if *e != crate::vfs::estale() {
            warn_rl!(
                "failed to decode file handle (len={}, type={}, flags={:x}, err={})\n",
                fid.len() / 4,
                fh_type,
                flags,
                e.to_errno()
            );
        }
    }
    r
}

#[vtable]
impl export::Operations for Rovl {
    fn encode_fh(inode: &INode<Self>, buf: &mut [u8], connectable: bool) -> Result<Encoded> {
        // Connectable file handles are not encoded (as overlayfs).
        if connectable {
            return Err(EINVAL);
        }
        let len = dentry_to_fid(inode.super_block().data(), inode, buf)?;
        Ok(Encoded { len, fh_type: fh::FILEID_V1 as u8 })
    }

    fn fh_to_dentry(sb: &SuperBlock<Self>, fid: &[u8], fh_type: i32) -> Result<Option<ARef<DEntry<Self>>>> {
        fh_to_dentry(sb, fid, fh_type)
    }

    fn fh_to_parent(_sb: &SuperBlock<Self>, _fid: &[u8], _fh_type: i32) -> Result<Option<ARef<DEntry<Self>>>> {
        warn_rl!("connectable file handles not supported; use 'no_subtree_check' exportfs option.\n");
        Err(EACCES)
    }

    fn get_name(_parent: &DEntry<Self>, _child: &DEntry<Self>, _name: &mut [u8]) -> Result<usize> {
        // fh_to_dentry gives connected directories and fh_to_parent is not
        // offered: the VFS has no reason to ask (overlayfs warns once).
        Err(EIO)
    }

    fn get_parent(_child: &DEntry<Self>) -> Result<ARef<DEntry<Self>>> {
        // As get_name.
        Err(EIO)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Copy-up (`fs/overlayfs/copy_up.c`).  At this stage: the file handles
//! that copy-up stores (`overlay.origin`, `overlay.upper`), which the index
//! of a read-only mount with an upper layer verifies.

#![forbid(unsafe_code)]

use super::super_::OvlFs;
use crate::logic::fh;
use crate::vfs::real::RealInode;
use kernel::prelude::*;

/// `ovl_encode_real_fh`: the `ovl_fb` of a non-connectable file handle of
/// `inode` (flagged as an upper inode's with `is_upper`).
pub(crate) fn encode_real_fh(ofs: &OvlFs, inode: &RealInode, is_upper: bool) -> Result<KVec<u8>> {
    let mut fid = [0u8; fh::MAX_HANDLE_SZ];
    let (fh_type, len) = inode.encode_fh(&mut fid)?;
    let fh_type = u8::try_from(fh_type).map_err(|_| EIO)?;
    let uuid = if ofs.config.uuid != crate::logic::options::Uuid::Off { inode.sb_uuid() } else { [0u8; fh::UUID_SIZE] };
    let mut out = [0u8; fh::FB_MAX_LEN];
    let n = fh::encode_fb(&mut out, fh_type, &uuid, fid.get(..len).ok_or(EIO)?, fh::encode_flags(is_upper))
        .map_err(|_| EIO)?;
    let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
    v.extend_from_slice(out.get(..n).ok_or(EIO)?, GFP_KERNEL)?;
    Ok(v)
}

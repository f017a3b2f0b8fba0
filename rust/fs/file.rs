// SPDX-License-Identifier: GPL-2.0

//! Open files (`fs/overlayfs/file.c`): regular files are read through a
//! backing file on the layer that holds their data; directories are in
//! [`super::readdir`].

#![forbid(unsafe_code)]

use super::readdir::{self, DirFile};
use super::Rovl;
use crate::vfs::file::{self, CopyOp, DirEmitter, File, LockOwner, OpeningFile, ReadIo, SpliceIo, Vma, WriteIo, REMAP_FILE_ADVISORY, REMAP_FILE_DEDUP};
use crate::vfs::inode::INode;
use crate::vfs::real::{open_flags, RealFile};
use crate::vfs::{may, FileType};
use kernel::prelude::*;
use kernel::sync::SetOnce;

/// An open overlay file.
pub(crate) enum OvlFile {
    /// A regular file and its backing file.
    Reg(RegFile),
    /// A directory.
    Dir(DirFile),
}

/// An open regular file: the backing file it was opened with, and the
/// upper file opened once the data was copied up after the open (open
/// files follow copy-up, as `ovl_real_file` makes them).
pub(crate) struct RegFile {
    real: RealFile,
    /// The real inode `real` is open on.
    real_id: usize,
    upper: SetOnce<RealFile>,
}

impl RegFile {
    /// An open file on `real`.
    pub(crate) fn new(real: RealFile) -> Result<RegFile> {
        let real_id = real.dentry().inode().ok_or(EIO)?.id();
        Ok(RegFile { real, real_id, upper: SetOnce::new() })
    }
}

/// `ovl_open`: copy-up if the open needs it, then the file holding the
/// data.
fn open_reg(inode: &INode<Rovl>, file: &OpeningFile<'_, Rovl>) -> Result<RegFile> {
    super::copy_up::maybe_copy_up(file.dentry(), file.flags())?;
    super::namei::lookup_lowerdata(inode)?;
    super::namei::validate_verity(inode)?;
    let data = inode.data().lowerdata().ok_or(EIO)?;
    let real_id = data.dentry.inode().ok_or(EIO)?.id();
    // O_CREAT, O_EXCL, O_NOCTTY and O_TRUNC were done by the VFS and copy-up.
    let flags = file.flags() & !(open_flags::CREAT | open_flags::EXCL | open_flags::NOCTTY | open_flags::TRUNC);
    Ok(RegFile { real: open_realfile(inode, file, flags)?, real_id, upper: SetOnce::new() })
}

/// `ovl_open_realfile`: opens the file holding the data, with the
/// mounter's credentials after checking them against the real inode.
fn open_realfile(inode: &INode<Rovl>, file: &OpeningFile<'_, Rovl>, flags: u32) -> Result<RealFile> {
    let ofs = inode.super_block().data();
    let data = inode.data().lowerdata().ok_or(EIO)?;
    let layer = ofs.layer(data.layer)?;
    let realinode = data.dentry.inode().ok_or(EIO)?;
    let mut flags = flags | open_flags::NOATIME;
    let mut acc = open_flags::acc_mode(flags);
    if flags & open_flags::APPEND != 0 {
        acc |= may::APPEND;
    }
    ofs.with_creds(|| {
        layer.mnt.inode_permission(realinode, may::OPEN | acc)?;
        if !layer.mnt.owner_or_capable(realinode) {
            flags &= !open_flags::NOATIME;
        }
        layer.mnt.open_backing(file, &data.dentry, flags, &ofs.creator_cred)
    })
}

/// `ovl_real_file`: the real file to use now: the one opened, or, if the
/// data was copied up since, the upper file (opened once, with the flags
/// of the open); flags changed by `F_SETFL` since are passed on.
fn reg(file: &File<Rovl>) -> Result<&RealFile> {
    let real = reg_file(file)?;
    // Did the flags change since the open (F_SETFL)?
    let flags = file.flags();
    if (flags ^ real.flags()) & !open_flags::NOATIME != 0 {
        real.change_flags(flags)?;
    }
    Ok(real)
}

fn reg_file(file: &File<Rovl>) -> Result<&RealFile> {
    let r = match file.data() {
        OvlFile::Reg(r) => r,
        OvlFile::Dir(_) => return Err(EISDIR),
    };
    let inode = file.inode();
    let data = inode.data().lowerdata().ok_or(EIO)?;
    if data.dentry.inode().map(|i| i.id()) == Some(r.real_id) {
        return Ok(&r.real);
    }
    if let Some(u) = r.upper.as_ref() {
        return Ok(u);
    }
    let ofs = inode.super_block().data();
    let layer = ofs.layer(data.layer)?;
    let flags = r.real.flags() & !(open_flags::CREAT | open_flags::EXCL | open_flags::NOCTTY | open_flags::TRUNC);
    let f = ofs.with_creds(|| layer.mnt.open_backing_of(file, &data.dentry, flags, &ofs.creator_cred))?;
    // Another thread may have been faster: its file is as good.
    let _ = r.upper.populate(f);
    r.upper.as_ref().ok_or(EIO)
}

#[vtable]
impl file::Operations for Rovl {
    type FileData = OvlFile;

    fn open(inode: &INode<Self>, file: &OpeningFile<'_, Self>) -> Result<OvlFile> {
        match inode.file_type() {
            FileType::Dir => readdir::open(inode, file.flags()).map(OvlFile::Dir),
            _ => open_reg(inode, file).map(OvlFile::Reg),
        }
    }

    /// `ovl_file_accessed`: after a read or mmap, the change and
    /// modification times from the upper inode, and the access time to it
    /// (`touch_atime` calls [`super::inode`]'s `update_time`).
    fn accessed(file: &File<Self>) {
        if file.flags() & open_flags::NOATIME != 0 {
            return;
        }
        let inode = file.inode();
        let Some(up) = inode.data().upper() else {
            return;
        };
        if let Some(real) = up.dentry.inode() {
            inode.cmtime_from(real);
        }
        file.touch_atime();
    }

    /// `ovl_file_end_write`: size and times from the real inode.
    fn end_write(file: &File<Self>) {
        super::inode::copyattr(file.inode());
    }

    /// `ovl_write_iter`.
    fn write_iter(file: &File<Self>, io: &mut WriteIo) -> Result<usize> {
        if io.count() == 0 {
            return Ok(0);
        }
        let inode = file.inode();
        let ofs = inode.super_block().data();
        let _g = inode.lock_vfs();
        // Update the mode.
        super::inode::copyattr(inode);
        reg(file)?.backing_write_iter(file, io, &ofs.creator_cred, ofs.should_sync())
    }

    /// `ovl_splice_write`.
    fn splice_write(file: &File<Self>, io: &mut SpliceIo) -> Result<usize> {
        let inode = file.inode();
        let ofs = inode.super_block().data();
        let _g = inode.lock_vfs();
        super::inode::copyattr(inode);
        reg(file)?.backing_splice_write(file, io, &ofs.creator_cred)
    }

    /// `ovl_fsync` / `ovl_dir_fsync`: the upper file, unless `volatile`
    /// (then the upper file system's writeback error since the mount, if
    /// any); a lower file is never synced: it may be on a read-only fs.
    fn fsync(file: &File<Self>, start: i64, end: i64, datasync: bool) -> Result {
        let inode = file.inode();
        let ofs = inode.super_block().data();
        if !ofs.sync_status()? {
            return Ok(());
        }
        let oi = inode.data();
        let Some(up) = oi.upper() else {
            return Ok(());
        };
        match file.data() {
            OvlFile::Reg(_) => {
                // The data of a merged file is below: nothing to sync.
                if datasync && oi.is_merge() {
                    return Ok(());
                }
                if !oi.test(super::inode::flag::UPPERDATA) {
                    // Metadata only in the upper layer: sync that file.
                    let layer = ofs.layer(0)?;
                    let f = ofs.with_creds(|| layer.mnt.open(&up.dentry, open_flags::RDONLY | open_flags::LARGEFILE, &ofs.creator_cred))?;
                    return ofs.with_creds(|| f.fsync(start, end, datasync));
                }
                let real = reg(file)?;
                ofs.with_creds(|| real.fsync(start, end, datasync))
            }
            OvlFile::Dir(d) => readdir::fsync(ofs, d, inode, start, end, datasync),
        }
    }

    fn tmpfile(dir: &INode<Self>, file: &OpeningFile<'_, Self>, mode: u16) -> Result<(kernel::sync::aref::ARef<INode<Self>>, OvlFile)> {
        super::dir::tmpfile(dir, file, mode)
    }

    /// `ovl_copyfile`: `copy_file_range`, clone and dedupe on the real
    /// files (a dedupe never copies up: `EPERM` unless both are upper).
    fn copy_file(file_in: &File<Self>, pos_in: i64, file_out: &File<Self>, pos_out: i64, len: i64, flags: u32, op: CopyOp) -> Result<i64> {
        if op != CopyOp::Copy && flags & !(REMAP_FILE_DEDUP | REMAP_FILE_ADVISORY) != 0 {
            return Err(EINVAL);
        }
        if op == CopyOp::Dedupe && !(file_in.inode().data().has_upper() && file_out.inode().data().has_upper()) {
            return Err(EPERM);
        }
        let inode_out = file_out.inode();
        let ofs = inode_out.super_block().data();
        let _g = inode_out.lock_vfs();
        if op != CopyOp::Dedupe {
            // Update the mode.
            super::inode::copyattr(inode_out);
            file_out.remove_privs()?;
        }
        let real_out = reg(file_out)?;
        let real_in = reg(file_in)?;
        // Across two mounts, the copy checks read access with the
        // destination's mounter: the source's is checked here.
        let ofs_in = file_in.inode().super_block().data();
        if !core::ptr::eq(ofs_in, ofs) {
            ofs_in.with_creds(|| real_in.verify_area(false, pos_in, len))?;
        }
        let r = ofs.with_creds(|| real_out.copy_from(real_in, pos_in, pos_out, len, flags, op));
        // Update the size.
        super::inode::copyattr(inode_out);
        r
    }

    /// Leases as on local files (`generic_setlease`).
    const LEASES: bool = true;

    /// `ovl_flush`: the real file's flush (e.g. NFS's close-to-open).
    fn flush(file: &File<Self>, id: LockOwner) -> Result {
        let ofs = file.inode().super_block().data();
        let real = reg(file)?;
        ofs.with_creds(|| real.flush(id))
    }

    /// `ovl_fadvise`: the advice goes to the real file.
    fn fadvise(file: &File<Self>, offset: i64, len: i64, advice: i32) -> Result {
        let ofs = file.inode().super_block().data();
        let real = reg(file)?;
        ofs.with_creds(|| real.fadvise(offset, len, advice))
    }

    /// `ovl_fallocate`.
    fn fallocate(file: &File<Self>, mode: i32, offset: i64, len: i64) -> Result {
        let inode = file.inode();
        let ofs = inode.super_block().data();
        let _g = inode.lock_vfs();
        super::inode::copyattr(inode);
        file.remove_privs()?;
        let real = reg(file)?;
        let r = ofs.with_creds(|| real.fallocate(mode, offset, len));
        super::inode::copyattr(inode);
        r
    }

    fn release(file: &File<Self>) {
        if let OvlFile::Dir(d) = file.data() {
            readdir::release(file.inode(), d);
        }
    }

    /// `ovl_llseek` / `ovl_dir_llseek`.
    fn llseek(file: &File<Self>, offset: i64, whence: i32) -> Result<i64> {
        match file.data() {
            OvlFile::Dir(d) => readdir::llseek(file, d, offset, whence),
            OvlFile::Reg(_) => {
                if offset == 0 && whence == 1 {
                    return Ok(file.pos());
                }
                let real = reg(file)?;
                let ofs = file.inode().super_block().data();
                real.set_pos(file.pos());
                let r = ofs.with_creds(|| real.llseek(offset, whence))?;
                file.set_pos(real.pos());
                Ok(r)
            }
        }
    }

    /// `ovl_read_iter`.
    fn read_iter(file: &File<Self>, io: &mut ReadIo) -> Result<usize> {
        let ofs = file.inode().super_block().data();
        reg(file)?.backing_read_iter(file, io, &ofs.creator_cred)
    }

    /// `ovl_splice_read`.
    fn splice_read(file: &File<Self>, io: &mut SpliceIo) -> Result<usize> {
        let ofs = file.inode().super_block().data();
        reg(file)?.backing_splice_read(file, io, &ofs.creator_cred)
    }

    /// `ovl_mmap`.
    fn mmap(file: &File<Self>, vma: &mut Vma) -> Result {
        let ofs = file.inode().super_block().data();
        reg(file)?.backing_mmap(file, vma, &ofs.creator_cred)
    }

    /// `ovl_iterate`.
    fn iterate(file: &File<Self>, emitter: &mut DirEmitter) -> Result {
        match file.data() {
            OvlFile::Dir(d) => readdir::iterate(file, d, emitter),
            OvlFile::Reg(_) => Err(ENOTDIR),
        }
    }
}

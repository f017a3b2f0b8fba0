// SPDX-License-Identifier: GPL-2.0

//! Open files (`fs/overlayfs/file.c`): regular files are read through a
//! backing file on the layer that holds their data; directories are in
//! [`super::readdir`].

#![forbid(unsafe_code)]

use super::readdir::{self, DirFile};
use super::Rovl;
use crate::vfs::file::{self, DirEmitter, File, OpeningFile, ReadIo, SpliceIo, Vma};
use crate::vfs::inode::INode;
use crate::vfs::real::{open_flags, RealFile};
use crate::vfs::{may, FileType};
use kernel::prelude::*;

/// An open overlay file.
pub(crate) enum OvlFile {
    /// A regular file and its backing file.
    Reg(RealFile),
    /// A directory.
    Dir(DirFile),
}

/// `ovl_open` / `ovl_open_realfile`: opens the file holding the data, with
/// the mounter's credentials after checking them against the real inode.
fn open_reg(inode: &INode<Rovl>, file: &OpeningFile<'_, Rovl>) -> Result<RealFile> {
    super::namei::lookup_lowerdata(inode)?;
    super::namei::validate_verity(inode)?;
    let ofs = inode.super_block().data();
    let data = inode.data().lowerdata().ok_or(EIO)?;
    let layer = ofs.layer(data.layer)?;
    let realinode = data.dentry.inode().ok_or(EIO)?;
    let mut flags = file.flags() | open_flags::NOATIME;
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

fn reg(file: &File<Rovl>) -> Result<&RealFile> {
    match file.data() {
        OvlFile::Reg(r) => Ok(r),
        OvlFile::Dir(_) => Err(EISDIR),
    }
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

    fn release(file: &File<Self>) {
        if let OvlFile::Dir(d) = file.data() {
            readdir::release(file.inode(), d);
        }
    }

    /// `ovl_llseek` / `ovl_dir_llseek`.
    fn llseek(file: &File<Self>, offset: i64, whence: i32) -> Result<i64> {
        match file.data() {
            OvlFile::Dir(d) => readdir::llseek(file, d, offset, whence),
            OvlFile::Reg(real) => {
                if offset == 0 && whence == 1 {
                    return Ok(file.pos());
                }
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

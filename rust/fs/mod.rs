// SPDX-License-Identifier: GPL-2.0

//! The overlay logic, in safe Rust on top of the VFS binding layer.
//!
//! At this stage rovl mounts one lower layer read-only and passes every
//! operation through to the real lower inodes, like overlayfs does for a
//! lower-only mount with a single layer.

#![forbid(unsafe_code)]

use crate::logic::options::{self, Config, Defaults, Opt};
use crate::logic::xattr::{self, UserXattr, XattrNs};
use crate::vfs::{self, ops, Cred, Dentry, Path, PrivateMount, SbParams};
use core::ffi::CStr;
use kernel::prelude::*;
use kernel::sync::aref::ARef;

/// Why a mount parameter was refused.
pub(crate) enum ParamError {
    /// Not one of ours: the VFS handles it ("source") or reports it.
    NoParam,
    /// Refused, with a message for the log and the errno.
    Invalid(&'static str, Error),
}

/// Why a mount failed, for the log: `msg: arg`.
pub(crate) struct MountError {
    pub(crate) msg: &'static str,
    pub(crate) arg: Option<CBuf>,
    pub(crate) errno: Error,
}

impl MountError {
    fn new(msg: &'static str, errno: Error) -> Self {
        MountError { msg, arg: None, errno }
    }

    fn with(msg: &'static str, arg: &CBuf, errno: Error) -> Self {
        MountError { msg, arg: arg.try_clone().ok(), errno }
    }
}

/// A NUL-terminated byte string owned by the module (a path name).
pub(crate) struct CBuf(KVec<u8>);

impl CBuf {
    /// Copies `bytes` and appends a NUL; refuses embedded NULs.
    fn new(bytes: &[u8]) -> Result<CBuf> {
        if bytes.contains(&0) {
            return Err(EINVAL);
        }
        let mut v = KVec::with_capacity(bytes.len() + 1, GFP_KERNEL)?;
        v.extend_from_slice(bytes, GFP_KERNEL)?;
        v.push(0, GFP_KERNEL)?;
        Ok(CBuf(v))
    }

    fn try_clone(&self) -> Result<CBuf> {
        CBuf::new(self.bytes())
    }

    /// The bytes without the terminating NUL.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.split_last().map_or(&[], |(_, b)| b)
    }

    /// The string as a C string.
    pub(crate) fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.0).unwrap_or(c"")
    }
}

/// The state of a mount being configured (fs_context private data).
pub(crate) struct MountCtx {
    defaults: Defaults,
    config: Config,
    /// The lower layers, unescaped, in order (top first).
    lower: KVec<CBuf>,
    /// The `lowerdir=` value as given (escapes kept), for /proc/mounts.
    lowerdir_opt: Option<CBuf>,
    upper: Option<CBuf>,
    work: Option<CBuf>,
}

impl MountCtx {
    /// A new context; `defaults` are the module parameters at this moment.
    pub(crate) fn new(defaults: Defaults) -> Self {
        MountCtx {
            config: Config::new(&defaults),
            defaults,
            lower: KVec::new(),
            lowerdir_opt: None,
            upper: None,
            work: None,
        }
    }

    /// Handles one mount parameter.
    pub(crate) fn parse(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        reconfigure: bool,
    ) -> Result<(), ParamError> {
        let opt = match options::parse_opt(key, value) {
            Ok(o) => o,
            Err(options::OptError::Unknown) => return Err(ParamError::NoParam),
            Err(_) => return Err(ParamError::Invalid("bad value for mount option", EINVAL)),
        };
        if reconfigure {
            // Like overlayfs: layer and feature options cannot change on
            // remount; they are silently kept (mount(8) resends them all).
            return Ok(());
        }
        match opt {
            Opt::LowerDir(v) => self.set_lowerdir(v),
            Opt::LowerDirAppend(v) => self.append_lower(v),
            Opt::DataDirAppend(_) => Err(ParamError::Invalid(
                "data-only lower layers are not supported yet",
                EINVAL,
            )),
            Opt::UpperDir(v) => {
                self.upper = Some(cbuf_param(v)?);
                Ok(())
            }
            Opt::WorkDir(v) => {
                self.work = Some(cbuf_param(v)?);
                Ok(())
            }
            other => {
                self.config.apply(&other);
                Ok(())
            }
        }
    }

    fn set_lowerdir(&mut self, v: &[u8]) -> Result<(), ParamError> {
        self.lower.clear();
        self.lowerdir_opt = None;
        if v.is_empty() {
            // "lowerdir=" clears the list, as with overlayfs.
            return Ok(());
        }
        self.lowerdir_opt = Some(cbuf_param(v)?);
        for seg in options::split_lowerdir(v) {
            let seg = seg.map_err(|e| ParamError::Invalid(e.message(), EINVAL))?;
            if seg.data_only {
                return Err(ParamError::Invalid(
                    "data-only lower layers are not supported yet",
                    EINVAL,
                ));
            }
            let mut buf = [0u8; 4096];
            let n = options::unescape_into(seg.raw, &mut buf)
                .ok_or(ParamError::Invalid("lowerdir path too long", EINVAL))?;
            self.append_lower(buf.get(..n).unwrap_or(&[]))?;
        }
        Ok(())
    }

    fn append_lower(&mut self, path: &[u8]) -> Result<(), ParamError> {
        let p = cbuf_param(path)?;
        self.lower
            .push(p, GFP_KERNEL)
            .map_err(|_| ParamError::Invalid("out of memory", ENOMEM))
    }

    /// Checks the configuration and opens the layers.
    pub(crate) fn build(&mut self) -> Result<SbInfo, MountError> {
        if self.upper.is_some() || self.work.is_some() {
            return Err(MountError::new(
                "upperdir/workdir are not supported yet (read-only lower mounts only)",
                EINVAL,
            ));
        }
        let lowerdir = match self.lower.as_slice() {
            [] => return Err(MountError::new("missing 'lowerdir'", EINVAL)),
            [one] => one,
            _ => {
                return Err(MountError::new(
                    "more than one lower layer is not supported yet",
                    EINVAL,
                ))
            }
        };
        self.config
            .verify(false, 0, vfs::capable_sys_admin())
            .map_err(|e| MountError::new(e.message(), if e.is_permission() { EPERM } else { EINVAL }))?;
        let path = Path::lookup_dir(lowerdir.as_cstr()).map_err(|e| {
            if e == ENOTDIR {
                // Like overlayfs: a layer that is not a directory is an
                // invalid option value.
                MountError::with("lowerdir is not a directory", lowerdir, EINVAL)
            } else {
                MountError::with("failed to resolve lowerdir", lowerdir, e)
            }
        })?;
        let stack_depth = path.stack_depth();
        let maxbytes = vfs::maxbytes_of(&path);
        let time_gran = vfs::time_gran_of(&path);
        let lower = PrivateMount::clone_lower(&path)
            .map_err(|e| MountError::with("failed to clone lowerpath", lowerdir, e))?;
        let cred = Cred::current().map_err(|e| MountError::new("out of memory", e))?;
        Ok(SbInfo {
            cred,
            lower,
            lower_name: lowerdir
                .try_clone()
                .map_err(|e| MountError::new("out of memory", e))?,
            stack_depth,
            maxbytes,
            time_gran,
            lowerdir_opt: self.lowerdir_opt.as_ref().map(CBuf::try_clone).transpose()
                .map_err(|e| MountError::new("out of memory", e))?,
            config: self.config,
            defaults: self.defaults,
        })
    }
}

fn cbuf_param(v: &[u8]) -> Result<CBuf, ParamError> {
    CBuf::new(v).map_err(|e| {
        if e == EINVAL {
            ParamError::Invalid("invalid path", EINVAL)
        } else {
            ParamError::Invalid("out of memory", e)
        }
    })
}


/// Per-super-block state of a mounted rovl.
pub(crate) struct SbInfo {
    /// The mounter's credentials, used for all access to the layers.
    pub(crate) cred: Cred,
    lower: PrivateMount,
    lower_name: CBuf,
    lowerdir_opt: Option<CBuf>,
    stack_depth: i32,
    maxbytes: i64,
    time_gran: u32,
    config: Config,
    defaults: Defaults,
}

impl SbInfo {
    /// The private mount of the lower layer.
    pub(crate) fn lower_mnt(&self) -> &PrivateMount {
        &self.lower
    }

    /// The root of the lower layer.
    pub(crate) fn lower_root(&self) -> &Dentry {
        self.lower.root()
    }

    /// The path of a real dentry of the lower layer.
    pub(crate) fn real_path(&self, real: &Dentry) -> Path {
        Path::new(&self.lower, real)
    }

    /// Super block parameters for the new mount.
    pub(crate) fn sb_params(&self) -> Result<SbParams, MountError> {
        let depth = self.stack_depth.saturating_add(1);
        if depth > vfs::MAX_STACK_DEPTH {
            return Err(MountError::with(
                "maximum fs stacking depth exceeded",
                &self.lower_name,
                EINVAL,
            ));
        }
        Ok(SbParams { stack_depth: depth, maxbytes: self.maxbytes, time_gran: self.time_gran, read_only: true })
    }

    /// Writes the mount options for /proc/mounts, like overlayfs.
    pub(crate) fn show_options(&self, w: &mut impl core::fmt::Write) -> core::fmt::Result {
        // Like overlayfs: the lowerdir= string as given, or the layers
        // added one by one with lowerdir+=.
        match &self.lowerdir_opt {
            Some(raw) => options::show_option(w, "lowerdir", raw.bytes())?,
            None => options::show_option(w, "lowerdir+", self.lower_name.bytes())?,
        }
        // A single lower layer: all layers are on one file system.
        self.config.show(w, &self.defaults, true)
    }

    /// Remount: a mount without an upper layer stays read-only.
    pub(crate) fn reconfigure(&self, read_only: bool) -> Result {
        if read_only {
            Ok(())
        } else {
            Err(EROFS)
        }
    }

    /// Looks `name` up in the real directory `dir`.
    pub(crate) fn lookup(&self, dir: &Dentry, name: &[u8]) -> Result<Option<ARef<Dentry>>> {
        self.cred.with(|| self.lower.lookup_positive(dir, name))
    }

    fn xattr_ns(&self) -> XattrNs {
        if self.config.userxattr {
            XattrNs::User
        } else {
            XattrNs::Trusted
        }
    }

    /// listxattr: the real inode's names, minus overlay private ones,
    /// with escaped overlay names unescaped (`ovl_listxattr`).  A size
    /// query returns the real size, an upper bound, as overlayfs does.
    pub(crate) fn listxattr(&self, real: &Dentry, out: Option<&mut [u8]>) -> Result<usize> {
        match out {
            None => self.cred.with(|| ops::real_listxattr(real, None)),
            Some(out) => {
                let len = self.cred.with(|| ops::real_listxattr(real, Some(&mut *out)))?;
                Ok(xattr::list_filter_in_place(out, len, self.xattr_ns(), vfs::capable_sys_admin_noaudit()))
            }
        }
    }

    /// getxattr through the overlay's name mapping: names under the
    /// overlay's own prefix are read from their escaped form.
    pub(crate) fn getxattr(&self, real: &Dentry, name: &CStr, buf: Option<&mut [u8]>) -> Result<usize> {
        let ns = self.xattr_ns();
        match xattr::map_user_name(name.to_bytes(), ns) {
            UserXattr::Plain => self.cred.with(|| ops::real_getxattr(self, real, name, buf)),
            UserXattr::Escape => {
                let prefix = ns.prefix();
                let rest = name.to_bytes().get(prefix.len()..).ok_or(EINVAL)?;
                let mut full = KVec::with_capacity(name.to_bytes().len() + xattr::ESCAPE.len(), GFP_KERNEL)?;
                full.extend_from_slice(prefix, GFP_KERNEL)?;
                full.extend_from_slice(xattr::ESCAPE, GFP_KERNEL)?;
                full.extend_from_slice(rest, GFP_KERNEL)?;
                let full = CBuf::new(&full)?;
                self.cred.with(|| ops::real_getxattr(self, real, full.as_cstr(), buf))
            }
            UserXattr::TooLong => Err(vfs::eopnotsupp()),
        }
    }
}

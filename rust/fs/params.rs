// SPDX-License-Identifier: GPL-2.0

//! Mount parameters (`fs/overlayfs/params.c`): the fs_context state, the
//! layer list and the feature options.

#![forbid(unsafe_code)]

use super::util::CBuf;
use crate::logic::options::{self, Config, Defaults, Opt};
use crate::vfs::fs::{FcLog, Param};
use kernel::prelude::*;

/// `OVL_MAX_STACK`: the maximum number of lower layers.
pub(crate) const OVL_MAX_STACK: usize = 500;

/// A lower layer as given at mount.
pub(crate) struct LayerSpec {
    /// The path, unescaped.
    pub(crate) path: CBuf,
    /// A data-only layer (`::` in `lowerdir=`, or `datadir+=`).
    pub(crate) data_only: bool,
}

/// The state of a mount being configured (`struct ovl_fs_context`).
pub(crate) struct MountCtx {
    pub(crate) defaults: Defaults,
    pub(crate) config: Config,
    /// The lower layers, in order (top first), data-only layers last.
    pub(crate) lower: KVec<LayerSpec>,
    /// The `lowerdir=` value as given (escapes kept), for /proc/mounts.
    pub(crate) lowerdir_all: Option<CBuf>,
    pub(crate) upper: Option<CBuf>,
    pub(crate) work: Option<CBuf>,
}

/// The module parameters: the defaults of the feature options.
fn module_defaults() -> Defaults {
    let b = |name: &CStr, dflt: bool| crate::vfs::module_param_bool(name).unwrap_or(dflt);
    Defaults {
        redirect_dir: b(c"redirect_dir", false),
        redirect_always_follow: b(c"redirect_always_follow", true),
        index: b(c"index", false),
        nfs_export: b(c"nfs_export", false),
        metacopy: b(c"metacopy", false),
        xino_auto: b(c"xino_auto", false),
    }
}

fn invalid(log: &FcLog<'_>, key: &[u8], msg: &str) -> Error {
    log.error(Some(key), msg, None);
    EINVAL
}

impl MountCtx {
    /// A new context with the module parameters of this moment
    /// (`ovl_init_fs_context`).
    pub(crate) fn new() -> Self {
        let defaults = module_defaults();
        MountCtx {
            config: Config::new(&defaults),
            defaults,
            lower: KVec::new(),
            lowerdir_all: None,
            upper: None,
            work: None,
        }
    }

    /// One mount parameter (`ovl_parse_param`).
    pub(crate) fn parse(&mut self, p: &Param<'_>, log: &FcLog<'_>) -> Result {
        if p.reconfigure {
            // On remount overlayfs has always ignored all mount options
            // through the old API; the new API refuses changes.
            if p.old_api {
                return Ok(());
            }
            log.error(None, "No changes allowed in reconfigure", None);
            return Err(EINVAL);
        }
        let opt = match options::parse_opt(p.key, p.value) {
            Ok(o) => o,
            Err(options::OptError::Unknown) => return Err(ENOPARAM),
            Err(e) => return Err(invalid(log, p.key, e.message())),
        };
        match opt {
            Opt::LowerDir(v) => self.set_lowerdir(v, log),
            Opt::LowerDirAppend(v) => self.append_layer(v, false, log),
            Opt::DataDirAppend(v) => self.append_layer(v, true, log),
            Opt::UpperDir(v) => {
                self.upper = Some(cbuf(v, log)?);
                Ok(())
            }
            Opt::WorkDir(v) => {
                self.work = Some(cbuf(v, log)?);
                Ok(())
            }
            // redirect_dir=off means follow or nofollow, by the module
            // parameter redirect_always_follow (ovl_parse_param).
            Opt::Redirect(options::Redirect::Off) => {
                let r = if self.defaults.redirect_always_follow {
                    options::Redirect::Follow
                } else {
                    options::Redirect::NoFollow
                };
                self.config.apply(&Opt::Redirect(r));
                Ok(())
            }
            other => {
                self.config.apply(&other);
                Ok(())
            }
        }
    }

    /// The number of data-only layers.
    pub(crate) fn nr_data(&self) -> usize {
        self.lower.iter().filter(|l| l.data_only).count()
    }

    /// `lowerdir=`: replaces all lower layers (`ovl_parse_param_lowerdir`).
    fn set_lowerdir(&mut self, v: &[u8], log: &FcLog<'_>) -> Result {
        self.lower.clear();
        self.lowerdir_all = None;
        if v.is_empty() {
            return Ok(());
        }
        if v.first() == Some(&b':') {
            return Err(invalid(log, b"lowerdir", "cannot append lower layer"));
        }
        let (nl, nd) = options::validate_lowerdir(v).map_err(|e| invalid(log, b"lowerdir", e.message()))?;
        if nl + nd > OVL_MAX_STACK {
            return Err(invalid(log, b"lowerdir", "too many lower directories, limit is 500"));
        }
        self.lowerdir_all = Some(cbuf(v, log)?);
        let mut seen_data = false;
        for seg in options::split_lowerdir(v) {
            let seg = seg.map_err(|e| invalid(log, b"lowerdir", e.message()))?;
            if seen_data && !seg.data_only {
                return Err(invalid(log, b"lowerdir", "regular lower layers cannot follow data lower layers"));
            }
            seen_data |= seg.data_only;
            let mut buf = KVec::from_elem(0u8, seg.raw.len(), GFP_KERNEL)?;
            let n = options::unescape_into(seg.raw, &mut buf).ok_or(EINVAL)?;
            buf.truncate(n);
            self.push_layer(&buf, seg.data_only, log)?;
        }
        Ok(())
    }

    /// `lowerdir+=` / `datadir+=` (`ovl_parse_layer`).
    fn append_layer(&mut self, v: &[u8], data_only: bool, log: &FcLog<'_>) -> Result {
        let key: &[u8] = if data_only { b"datadir+" } else { b"lowerdir+" };
        if self.lowerdir_all.is_some() {
            return Err(invalid(log, key, "lowerdir+ and datadir+ cannot follow lowerdir"));
        }
        if !data_only && self.nr_data() > 0 {
            return Err(invalid(log, key, "regular lower layers cannot follow data layers"));
        }
        if self.lower.len() >= OVL_MAX_STACK {
            return Err(invalid(log, key, "too many lower directories, limit is 500"));
        }
        self.push_layer(v, data_only, log)
    }

    fn push_layer(&mut self, path: &[u8], data_only: bool, log: &FcLog<'_>) -> Result {
        let path = cbuf(path, log)?;
        self.lower.push(LayerSpec { path, data_only }, GFP_KERNEL)?;
        Ok(())
    }
}

fn cbuf(v: &[u8], log: &FcLog<'_>) -> Result<CBuf> {
    CBuf::new(v).map_err(|e| {
        if e == EINVAL {
            log.error(None, "invalid path", None);
        }
        e
    })
}

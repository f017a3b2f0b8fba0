// SPDX-License-Identifier: GPL-2.0

//! Overlayfs mount options: parsing, the dependency rules between the
//! feature options, and their rendering for `/proc/mounts`.
//!
//! Mirrors `fs/overlayfs/params.c` of Linux 7.2 (`ovl_parameter_spec`,
//! `ovl_next_opt`, `ovl_parse_param_split_lowerdirs`, `ovl_unescape`,
//! `ovl_fs_params_verify`, `ovl_show_options`).  Pure logic: `core` only,
//! no allocation, no panics on any input.

#![forbid(unsafe_code)]

use core::fmt::{self, Write};

/// `redirect_dir=`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Redirect {
    Off,
    Follow,
    NoFollow,
    On,
}

/// `xino=`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Xino {
    Off,
    Auto,
    On,
}

/// `uuid=`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Uuid {
    Off,
    Null,
    Auto,
    On,
}

/// `verity=`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verity {
    Off,
    On,
    Require,
}

/// `fsync=` (`volatile` is `fsync=volatile`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fsync {
    Volatile,
    Auto,
    Strict,
}

macro_rules! named_enum {
    ($ty:ty { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $ty {
            /// The option value as written in mount options.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            fn parse(v: &[u8]) -> Option<Self> {
                $(if v == $name.as_bytes() { return Some(Self::$variant); })*
                None
            }
        }
    };
}

named_enum!(Redirect { Off = "off", Follow = "follow", NoFollow = "nofollow", On = "on" });
named_enum!(Xino { Off = "off", Auto = "auto", On = "on" });
named_enum!(Uuid { Off = "off", Null = "null", Auto = "auto", On = "on" });
named_enum!(Verity { Off = "off", On = "on", Require = "require" });
named_enum!(Fsync { Volatile = "volatile", Auto = "auto", Strict = "strict" });

fn parse_bool(v: &[u8]) -> Option<bool> {
    match v {
        b"on" => Some(true),
        b"off" => Some(false),
        _ => None,
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// The module parameters that give the defaults of the feature options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Defaults {
    pub redirect_dir: bool,
    pub redirect_always_follow: bool,
    pub index: bool,
    pub nfs_export: bool,
    pub metacopy: bool,
    pub xino_auto: bool,
}

impl Defaults {
    /// Default `redirect_dir` mode (`ovl_redirect_mode_def`).
    pub fn redirect(&self) -> Redirect {
        if self.redirect_dir {
            Redirect::On
        } else if self.redirect_always_follow {
            Redirect::Follow
        } else {
            Redirect::NoFollow
        }
    }

    /// Default `xino` mode (`ovl_xino_def`).
    pub fn xino(&self) -> Xino {
        if self.xino_auto {
            Xino::Auto
        } else {
            Xino::Off
        }
    }
}

/// One parsed mount option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Opt<'a> {
    /// `lowerdir=` (colon-separated list, see [`split_lowerdir`]).
    LowerDir(&'a [u8]),
    /// `lowerdir+=` (one layer appended).
    LowerDirAppend(&'a [u8]),
    /// `datadir+=` (one data-only layer appended).
    DataDirAppend(&'a [u8]),
    UpperDir(&'a [u8]),
    WorkDir(&'a [u8]),
    DefaultPermissions,
    Redirect(Redirect),
    Index(bool),
    Uuid(Uuid),
    NfsExport(bool),
    UserXattr,
    Xino(Xino),
    Metacopy(bool),
    Verity(Verity),
    Fsync(Fsync),
    /// `volatile`, the same as `fsync=volatile`.
    Volatile,
    /// `override_creds` / `nooverride_creds`.
    OverrideCreds(bool),
}

/// Why an option was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OptError {
    /// Not an overlay option (the VFS may still know it, e.g. "source").
    Unknown,
    /// The option needs a value.
    MissingValue,
    /// The option is a flag and takes no value.
    UnexpectedValue,
    /// The value is not one of those the option accepts.
    BadValue,
}

impl OptError {
    /// A message for the kernel log.
    pub fn message(&self) -> &'static str {
        match self {
            OptError::Unknown => "unknown mount option",
            OptError::MissingValue => "mount option needs a value",
            OptError::UnexpectedValue => "mount option takes no value",
            OptError::BadValue => "bad value for mount option",
        }
    }
}

/// Parses one option (`value` is `None` for a flag), like `fs_parse` with
/// `ovl_parameter_spec`.
pub fn parse_opt<'a>(key: &'a [u8], value: Option<&'a [u8]>) -> Result<Opt<'a>, OptError> {
    let flag = |o: Opt<'a>| match value {
        None => Ok(o),
        Some(_) => Err(OptError::UnexpectedValue),
    };
    let val = || value.ok_or(OptError::MissingValue);
    let enm = |f: fn(&[u8]) -> Option<Opt<'a>>| f(val()?).ok_or(OptError::BadValue);
    match key {
        // "lowerdir" accepts an empty string; the others need a value.
        b"lowerdir" => Ok(Opt::LowerDir(val()?)),
        b"lowerdir+" => nonempty(val()?).map(Opt::LowerDirAppend),
        b"datadir+" => nonempty(val()?).map(Opt::DataDirAppend),
        b"upperdir" => nonempty(val()?).map(Opt::UpperDir),
        b"workdir" => nonempty(val()?).map(Opt::WorkDir),
        b"default_permissions" => flag(Opt::DefaultPermissions),
        b"userxattr" => flag(Opt::UserXattr),
        b"volatile" => flag(Opt::Volatile),
        b"override_creds" => flag(Opt::OverrideCreds(true)),
        b"nooverride_creds" => flag(Opt::OverrideCreds(false)),
        b"redirect_dir" => enm(|v| Redirect::parse(v).map(Opt::Redirect)),
        b"index" => enm(|v| parse_bool(v).map(Opt::Index)),
        b"uuid" => enm(|v| Uuid::parse(v).map(Opt::Uuid)),
        b"nfs_export" => enm(|v| parse_bool(v).map(Opt::NfsExport)),
        b"xino" => enm(|v| Xino::parse(v).map(Opt::Xino)),
        b"metacopy" => enm(|v| parse_bool(v).map(Opt::Metacopy)),
        b"verity" => enm(|v| Verity::parse(v).map(Opt::Verity)),
        b"fsync" => enm(|v| Fsync::parse(v).map(Opt::Fsync)),
        _ => Err(OptError::Unknown),
    }
}

fn nonempty(v: &[u8]) -> Result<&[u8], OptError> {
    if v.is_empty() {
        Err(OptError::BadValue)
    } else {
        Ok(v)
    }
}

/// The index of the comma that ends the first option of legacy mount(2)
/// option data, skipping commas escaped by a backslash (`ovl_next_opt`);
/// `None` if the first option runs to the end.
pub fn next_opt_end(data: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(&c) = data.get(i) {
        match c {
            b'\\' => i += 2,
            b',' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Splits legacy mount(2) option data into options (see [`next_opt_end`]).
/// Escapes stay in the returned options.
pub fn split_monolithic(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    core::iter::from_fn(move || {
        let s = rest?;
        match next_opt_end(s) {
            Some(i) => {
                rest = s.get(i + 1..);
                s.get(..i)
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// Splits `key=value` at the first `=`.
pub fn split_key_value(opt: &[u8]) -> (&[u8], Option<&[u8]>) {
    match opt.iter().position(|&c| c == b'=') {
        Some(i) => (opt.get(..i).unwrap_or(opt), opt.get(i + 1..)),
        None => (opt, None),
    }
}

/// One layer of a `lowerdir=` value, escapes still in place.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LowerSeg<'a> {
    pub raw: &'a [u8],
    /// After a `::`: a data-only lower layer.
    pub data_only: bool,
}

/// Why a `lowerdir=` value is invalid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LowerDirError {
    /// ":::" or longer (`ovl_parse_param_split_lowerdirs`).
    TooManyColons,
    /// The value ends with an unescaped colon.
    TrailingColon,
    /// An empty layer name (a leading colon).
    Empty,
    /// A regular layer after a data-only one.
    RegularAfterData,
}

impl LowerDirError {
    /// The message overlayfs logs for this error.
    pub fn message(&self) -> &'static str {
        match self {
            LowerDirError::TooManyColons => {
                "only single ':' or double '::' sequences of unescaped colons in lowerdir mount option allowed."
            }
            LowerDirError::TrailingColon => "unescaped trailing colons in lowerdir mount option.",
            LowerDirError::Empty => "empty lowerdir",
            LowerDirError::RegularAfterData => "regular lower layers cannot follow data lower layers",
        }
    }
}

/// Splits a `lowerdir=` value into layers: `:` separates lower layers, `::`
/// starts the data-only layers; a backslash escapes the next character.
/// Yields an error (and stops) at the first invalid spot.
pub fn split_lowerdir(v: &[u8]) -> impl Iterator<Item = Result<LowerSeg<'_>, LowerDirError>> {
    let mut pos = Some(0usize);
    let mut data_only = false;
    core::iter::from_fn(move || {
        let start = pos?;
        let mut i = start;
        loop {
            match v.get(i) {
                None => {
                    pos = None;
                    break;
                }
                Some(b'\\') => i += 2,
                Some(b':') => {
                    let colons = v.get(i..).map_or(0, |r| r.iter().take_while(|&&c| c == b':').count());
                    let next = i + colons;
                    let err = if colons > 2 {
                        Some(LowerDirError::TooManyColons)
                    } else if next >= v.len() {
                        Some(LowerDirError::TrailingColon)
                    } else {
                        None
                    };
                    if let Some(e) = err {
                        pos = None;
                        return Some(Err(e));
                    }
                    let seg = v.get(start..i).unwrap_or(&[]);
                    let this_data = data_only;
                    if colons == 2 {
                        data_only = true;
                    }
                    pos = Some(next);
                    return Some(check_seg(seg, this_data, &mut pos));
                }
                Some(_) => i += 1,
            }
        }
        let seg = v.get(start..).unwrap_or(&[]);
        Some(check_seg(seg, data_only, &mut pos))
    })
}

fn check_seg<'a>(
    seg: &'a [u8],
    data_only: bool,
    pos: &mut Option<usize>,
) -> Result<LowerSeg<'a>, LowerDirError> {
    if seg.is_empty() {
        *pos = None;
        return Err(LowerDirError::Empty);
    }
    Ok(LowerSeg { raw: seg, data_only })
}

/// Checks a whole `lowerdir=` value; returns the number of regular and
/// data-only layers.  An empty value is valid and means "no layers".
pub fn validate_lowerdir(v: &[u8]) -> Result<(usize, usize), LowerDirError> {
    if v.is_empty() {
        return Ok((0, 0));
    }
    let (mut lower, mut data) = (0usize, 0usize);
    for seg in split_lowerdir(v) {
        if seg?.data_only {
            data += 1;
        } else {
            lower += 1;
        }
    }
    Ok((lower, data))
}

/// Copies `seg` into `out` without its backslash escapes (`ovl_unescape`);
/// returns the length, or `None` if `out` is too small.
pub fn unescape_into(seg: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    let mut it = seg.iter();
    while let Some(&c) = it.next() {
        let c = if c == b'\\' {
            match it.next() {
                Some(&e) => e,
                None => break,
            }
        } else {
            c
        };
        *out.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

/// Why a configuration is refused (`ovl_fs_params_verify`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VerifyError {
    MetacopyRedirect(Redirect),
    NfsExportIndexOff,
    UserxattrRedirect(Redirect),
    UserxattrMetacopy,
    RedirectNeedsPrivilege,
    MetacopyNeedsPrivilege,
    VerityNeedsPrivilege,
    DataNeedsPrivilege,
}

impl VerifyError {
    /// The message overlayfs logs for this error.
    pub fn message(&self) -> &'static str {
        use Redirect::*;
        match self {
            VerifyError::MetacopyRedirect(Off) => "conflicting options: metacopy=on,redirect_dir=off",
            VerifyError::MetacopyRedirect(Follow) => "conflicting options: metacopy=on,redirect_dir=follow",
            VerifyError::MetacopyRedirect(NoFollow) => {
                "conflicting options: metacopy=on,redirect_dir=nofollow"
            }
            VerifyError::MetacopyRedirect(On) => "conflicting options: metacopy=on,redirect_dir=on",
            VerifyError::NfsExportIndexOff => "conflicting options: nfs_export=on,index=off",
            VerifyError::UserxattrRedirect(Off) => "conflicting options: userxattr,redirect_dir=off",
            VerifyError::UserxattrRedirect(Follow) => "conflicting options: userxattr,redirect_dir=follow",
            VerifyError::UserxattrRedirect(NoFollow) => {
                "conflicting options: userxattr,redirect_dir=nofollow"
            }
            VerifyError::UserxattrRedirect(On) => "conflicting options: userxattr,redirect_dir=on",
            VerifyError::UserxattrMetacopy => "conflicting options: userxattr,metacopy=on",
            VerifyError::RedirectNeedsPrivilege => {
                "redirect_dir requires permission to access trusted xattrs"
            }
            VerifyError::MetacopyNeedsPrivilege => "metacopy requires permission to access trusted xattrs",
            VerifyError::VerityNeedsPrivilege => "verity requires permission to access trusted xattrs",
            VerifyError::DataNeedsPrivilege => {
                "lower data-only dirs require permission to access trusted xattrs"
            }
        }
    }

    /// The errno overlayfs returns: EPERM for missing privileges, else EINVAL.
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            VerifyError::RedirectNeedsPrivilege
                | VerifyError::MetacopyNeedsPrivilege
                | VerifyError::VerityNeedsPrivilege
                | VerifyError::DataNeedsPrivilege
        )
    }
}

/// Which options the user set explicitly (`struct ovl_opt_set`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct OptSet {
    metacopy: bool,
    redirect: bool,
    nfs_export: bool,
    index: bool,
}

/// The feature configuration of a mount (`struct ovl_config`, minus paths).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Config {
    pub redirect: Redirect,
    pub index: bool,
    pub uuid: Uuid,
    pub nfs_export: bool,
    pub xino: Xino,
    pub metacopy: bool,
    pub verity: Verity,
    pub fsync: Fsync,
    pub userxattr: bool,
    pub default_permissions: bool,
    pub override_creds: bool,
    set: OptSet,
}

impl Config {
    /// The defaults, from the module parameters (`ovl_init_fs_context`).
    pub fn new(d: &Defaults) -> Self {
        Config {
            redirect: d.redirect(),
            index: d.index,
            uuid: Uuid::Auto,
            nfs_export: d.nfs_export,
            xino: d.xino(),
            metacopy: d.metacopy,
            verity: Verity::Off,
            fsync: Fsync::Auto,
            userxattr: false,
            default_permissions: false,
            override_creds: true,
            set: OptSet::default(),
        }
    }

    /// Records a feature option (path options are the caller's business).
    pub fn apply(&mut self, opt: &Opt<'_>) {
        match *opt {
            Opt::DefaultPermissions => self.default_permissions = true,
            Opt::Redirect(r) => {
                self.redirect = r;
                self.set.redirect = true;
            }
            Opt::Index(b) => {
                self.index = b;
                self.set.index = true;
            }
            Opt::Uuid(u) => self.uuid = u,
            Opt::NfsExport(b) => {
                self.nfs_export = b;
                self.set.nfs_export = true;
            }
            Opt::UserXattr => self.userxattr = true,
            Opt::Xino(x) => self.xino = x,
            Opt::Metacopy(b) => {
                self.metacopy = b;
                self.set.metacopy = true;
            }
            Opt::Verity(v) => self.verity = v,
            Opt::Fsync(f) => self.fsync = f,
            Opt::Volatile => self.fsync = Fsync::Volatile,
            Opt::OverrideCreds(b) => self.override_creds = b,
            Opt::LowerDir(_)
            | Opt::LowerDirAppend(_)
            | Opt::DataDirAppend(_)
            | Opt::UpperDir(_)
            | Opt::WorkDir(_) => {}
        }
    }

    /// Resolves the dependencies between options and refuses conflicts,
    /// in the order of `ovl_fs_params_verify`.  `privileged` is
    /// `capable(CAP_SYS_ADMIN)` of the mounter.
    pub fn verify(&mut self, has_upper: bool, nr_data: usize, privileged: bool) -> Result<(), VerifyError> {
        let mut set = self.set;
        if !has_upper {
            if self.index && set.index {
                set.index = false;
            }
            self.index = false;
            if self.fsync == Fsync::Volatile {
                self.fsync = Fsync::Auto;
            }
            if self.uuid == Uuid::On {
                self.uuid = Uuid::Null;
            }
            if self.redirect == Redirect::Follow {
                self.redirect = Redirect::On;
            }
        }

        if self.metacopy && self.redirect != Redirect::On {
            if set.metacopy && set.redirect {
                return Err(VerifyError::MetacopyRedirect(self.redirect));
            }
            if set.redirect {
                self.metacopy = false;
            } else {
                self.redirect = Redirect::On;
            }
        }

        if self.nfs_export && !self.index {
            if !has_upper && self.redirect != Redirect::NoFollow {
                self.nfs_export = false;
            } else if set.nfs_export && set.index {
                return Err(VerifyError::NfsExportIndexOff);
            } else if set.index {
                self.nfs_export = false;
            } else {
                self.index = true;
            }
        }

        // overlayfs refuses nfs_export=on with metacopy=on (or turns one
        // off): rovl decodes file handles of metacopy files and keeps both.

        if self.userxattr {
            if set.redirect && self.redirect != Redirect::NoFollow {
                return Err(VerifyError::UserxattrRedirect(self.redirect));
            }
            if self.metacopy && set.metacopy {
                return Err(VerifyError::UserxattrMetacopy);
            }
            self.redirect = Redirect::NoFollow;
            self.metacopy = false;
        }

        if !self.userxattr && !privileged {
            if set.redirect && self.redirect != Redirect::NoFollow {
                return Err(VerifyError::RedirectNeedsPrivilege);
            }
            if self.metacopy && set.metacopy {
                return Err(VerifyError::MetacopyNeedsPrivilege);
            }
            if self.verity != Verity::Off {
                return Err(VerifyError::VerityNeedsPrivilege);
            }
            if nr_data > 0 {
                return Err(VerifyError::DataNeedsPrivilege);
            }
        }
        Ok(())
    }

    /// Writes the feature options like `ovl_show_options` (after the layer
    /// paths).  `same_fs`: all layers on one file system (xino not shown).
    pub fn show<W: Write>(&self, w: &mut W, d: &Defaults, same_fs: bool) -> fmt::Result {
        if self.default_permissions {
            w.write_str(",default_permissions")?;
        }
        if self.redirect != d.redirect() {
            write!(w, ",redirect_dir={}", self.redirect.name())?;
        }
        if self.index != d.index {
            write!(w, ",index={}", on_off(self.index))?;
        }
        if self.uuid != Uuid::Auto {
            write!(w, ",uuid={}", self.uuid.name())?;
        }
        if self.nfs_export != d.nfs_export {
            write!(w, ",nfs_export={}", on_off(self.nfs_export))?;
        }
        if self.xino != d.xino() && !same_fs {
            write!(w, ",xino={}", self.xino.name())?;
        }
        if self.metacopy != d.metacopy {
            write!(w, ",metacopy={}", on_off(self.metacopy))?;
        }
        if self.fsync != Fsync::Auto {
            write!(w, ",fsync={}", self.fsync.name())?;
        }
        if self.userxattr {
            w.write_str(",userxattr")?;
        }
        if self.verity != Verity::Off {
            write!(w, ",verity={}", self.verity.name())?;
        }
        Ok(())
    }
}

/// Writes `,name=value` like `seq_show_option`: the characters
/// `, \t\n\\` of the value become octal escapes (`\040` for a space).
/// Bytes that are not UTF-8 are written as octal escapes too.
pub fn show_option<W: Write>(w: &mut W, name: &str, value: &[u8]) -> fmt::Result {
    write!(w, ",{}=", name)?;
    let mut rest = value;
    while !rest.is_empty() {
        let (chunk, tail) = match core::str::from_utf8(rest) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                (core::str::from_utf8(good).unwrap_or(""), bad)
            }
        };
        for c in chunk.chars() {
            match c {
                ',' | ' ' | '\t' | '\n' | '\\' => write!(w, "\\{:03o}", c as u32)?,
                c => w.write_char(c)?,
            }
        }
        match tail.split_first() {
            Some((&b, t)) => {
                write!(w, "\\{:03o}", b)?;
                rest = t;
            }
            None => rest = &[],
        }
    }
    Ok(())
}

#[cfg(any(test, rovl_kernel))]
#[cfg_attr(rovl_kernel, kernel::prelude::kunit_tests(rovl_options))]
mod tests {
    use super::*;

    const D: Defaults = Defaults {
        redirect_dir: false,
        redirect_always_follow: true,
        index: false,
        nfs_export: false,
        metacopy: false,
        xino_auto: false,
    };

    struct Buf {
        b: [u8; 256],
        n: usize,
    }
    impl Buf {
        fn new() -> Self {
            Buf { b: [0; 256], n: 0 }
        }
        fn get(&self) -> &[u8] {
            self.b.get(..self.n).unwrap_or(&[])
        }
    }
    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for &c in s.as_bytes() {
                *self.b.get_mut(self.n).ok_or(fmt::Error)? = c;
                self.n += 1;
            }
            Ok(())
        }
    }

    #[test]
    fn parse_known_options() {
        assert_eq!(parse_opt(b"lowerdir", Some(b"/a:/b")), Ok(Opt::LowerDir(b"/a:/b")));
        assert_eq!(parse_opt(b"lowerdir", Some(b"")), Ok(Opt::LowerDir(b"")));
        assert_eq!(parse_opt(b"upperdir", Some(b"")), Err(OptError::BadValue));
        assert_eq!(parse_opt(b"redirect_dir", Some(b"nofollow")), Ok(Opt::Redirect(Redirect::NoFollow)));
        assert_eq!(parse_opt(b"redirect_dir", Some(b"maybe")), Err(OptError::BadValue));
        assert_eq!(parse_opt(b"index", Some(b"on")), Ok(Opt::Index(true)));
        assert_eq!(parse_opt(b"index", None), Err(OptError::MissingValue));
        assert_eq!(parse_opt(b"volatile", None), Ok(Opt::Volatile));
        assert_eq!(parse_opt(b"volatile", Some(b"x")), Err(OptError::UnexpectedValue));
        assert_eq!(parse_opt(b"nooverride_creds", None), Ok(Opt::OverrideCreds(false)));
        assert_eq!(parse_opt(b"source", Some(b"none")), Err(OptError::Unknown));
        assert_eq!(parse_opt(b"xino", Some(b"auto")), Ok(Opt::Xino(Xino::Auto)));
        assert_eq!(parse_opt(b"uuid", Some(b"null")), Ok(Opt::Uuid(Uuid::Null)));
        assert_eq!(parse_opt(b"verity", Some(b"require")), Ok(Opt::Verity(Verity::Require)));
        assert_eq!(parse_opt(b"fsync", Some(b"strict")), Ok(Opt::Fsync(Fsync::Strict)));
    }

    #[test]
    fn monolithic_split_honours_escapes() {
        let mut it = split_monolithic(b"lowerdir=/a\\,b,index=on,,x");
        assert_eq!(it.next(), Some(&b"lowerdir=/a\\,b"[..]));
        assert_eq!(it.next(), Some(&b"index=on"[..]));
        assert_eq!(it.next(), Some(&b""[..]));
        assert_eq!(it.next(), Some(&b"x"[..]));
        assert_eq!(it.next(), None);
        assert_eq!(split_key_value(b"a=b=c"), (&b"a"[..], Some(&b"b=c"[..])));
        assert_eq!(split_key_value(b"flag"), (&b"flag"[..], None));
        assert_eq!(next_opt_end(b"a\\,b,c"), Some(4));
        assert_eq!(next_opt_end(b"abc\\"), None);
    }

    #[test]
    fn lowerdir_split_layers() {
        let mut it = split_lowerdir(b"/l1:/l\\:2::/d1::/d2");
        assert_eq!(it.next(), Some(Ok(LowerSeg { raw: b"/l1", data_only: false })));
        assert_eq!(it.next(), Some(Ok(LowerSeg { raw: b"/l\\:2", data_only: false })));
        assert_eq!(it.next(), Some(Ok(LowerSeg { raw: b"/d1", data_only: true })));
        assert_eq!(it.next(), Some(Ok(LowerSeg { raw: b"/d2", data_only: true })));
        assert_eq!(it.next(), None);
        assert_eq!(validate_lowerdir(b"/a:/b::/c"), Ok((2, 1)));
        assert_eq!(validate_lowerdir(b""), Ok((0, 0)));
    }

    #[test]
    fn lowerdir_split_errors() {
        assert_eq!(validate_lowerdir(b"/a:"), Err(LowerDirError::TrailingColon));
        assert_eq!(validate_lowerdir(b"/a::"), Err(LowerDirError::TrailingColon));
        assert_eq!(validate_lowerdir(b"/a:::/b"), Err(LowerDirError::TooManyColons));
        assert_eq!(validate_lowerdir(b":/a"), Err(LowerDirError::Empty));
        assert_eq!(validate_lowerdir(b"/a\\:"), Ok((1, 0)));
    }

    #[test]
    fn unescape_removes_backslashes() {
        let mut out = [0u8; 16];
        assert_eq!(unescape_into(b"/a\\:b\\\\c", &mut out), Some(6));
        assert_eq!(out.get(..6), Some(&b"/a:b\\c"[..]));
        assert_eq!(unescape_into(b"trailing\\", &mut out), Some(8));
        let mut small = [0u8; 2];
        assert_eq!(unescape_into(b"abc", &mut small), None);
    }

    #[test]
    fn verify_lower_only_defaults() {
        let mut c = Config::new(&D);
        c.apply(&Opt::Index(true));
        assert_eq!(c.verify(false, 0, true), Ok(()));
        assert!(!c.index);
        assert_eq!(c.redirect, Redirect::On);
    }

    #[test]
    fn verify_metacopy_redirect() {
        let mut c = Config::new(&D);
        c.apply(&Opt::Metacopy(true));
        c.apply(&Opt::Redirect(Redirect::Off));
        assert_eq!(c.verify(true, 0, true), Err(VerifyError::MetacopyRedirect(Redirect::Off)));
        let mut c = Config::new(&D);
        c.apply(&Opt::Metacopy(true));
        assert_eq!(c.verify(true, 0, true), Ok(()));
        assert_eq!(c.redirect, Redirect::On);
        let mut c = Config::new(&Defaults { metacopy: true, ..D });
        c.apply(&Opt::Redirect(Redirect::NoFollow));
        assert_eq!(c.verify(true, 0, true), Ok(()));
        assert!(!c.metacopy);
    }

    #[test]
    fn verify_nfs_export_rules() {
        let mut c = Config::new(&D);
        c.apply(&Opt::NfsExport(true));
        assert_eq!(c.verify(true, 0, true), Ok(()));
        assert!(c.index);
        let mut c = Config::new(&D);
        c.apply(&Opt::NfsExport(true));
        c.apply(&Opt::Index(false));
        assert_eq!(c.verify(true, 0, true), Err(VerifyError::NfsExportIndexOff));
        // Both kept (overlayfs: "conflicting options").
        let mut c = Config::new(&D);
        c.apply(&Opt::NfsExport(true));
        c.apply(&Opt::Metacopy(true));
        assert_eq!(c.verify(true, 0, true), Ok(()));
        assert!(c.nfs_export && c.metacopy && c.index);
        let mut c = Config::new(&Defaults { metacopy: true, ..D });
        c.apply(&Opt::NfsExport(true));
        assert_eq!(c.verify(true, 0, true), Ok(()));
        assert!(c.nfs_export && c.metacopy);
        let mut c = Config::new(&D);
        c.apply(&Opt::NfsExport(true));
        assert_eq!(c.verify(false, 0, true), Ok(()));
        assert!(!c.nfs_export);
    }

    #[test]
    fn verify_userxattr_and_privilege() {
        let mut c = Config::new(&D);
        c.apply(&Opt::UserXattr);
        c.apply(&Opt::Redirect(Redirect::On));
        assert_eq!(c.verify(true, 0, true), Err(VerifyError::UserxattrRedirect(Redirect::On)));
        let mut c = Config::new(&D);
        c.apply(&Opt::UserXattr);
        assert_eq!(c.verify(true, 0, false), Ok(()));
        assert_eq!(c.redirect, Redirect::NoFollow);
        let mut c = Config::new(&D);
        c.apply(&Opt::Metacopy(true));
        assert_eq!(c.verify(true, 0, false), Err(VerifyError::MetacopyNeedsPrivilege));
        assert!(VerifyError::MetacopyNeedsPrivilege.is_permission());
    }

    #[test]
    fn show_only_non_defaults() {
        let mut b = Buf::new();
        let c = Config::new(&D);
        assert_eq!(c.show(&mut b, &D, true), Ok(()));
        assert_eq!(b.get(), b"");
        let mut c = Config::new(&D);
        c.apply(&Opt::Index(true));
        c.apply(&Opt::Xino(Xino::On));
        c.apply(&Opt::DefaultPermissions);
        c.apply(&Opt::Uuid(Uuid::Off));
        let mut b = Buf::new();
        assert_eq!(c.show(&mut b, &D, false), Ok(()));
        assert_eq!(b.get(), b",default_permissions,index=on,uuid=off,xino=on");
    }

    #[test]
    fn show_option_escapes() {
        let mut b = Buf::new();
        assert_eq!(show_option(&mut b, "lowerdir", b"/a b,c\\d:e"), Ok(()));
        assert_eq!(b.get(), b",lowerdir=/a\\040b\\054c\\134d:e");
        let mut b = Buf::new();
        assert_eq!(show_option(&mut b, "upperdir", b"/x\xff"), Ok(()));
        assert_eq!(b.get(), b",upperdir=/x\\377");
    }
}

# SPDX-License-Identifier: GPL-2.0
"""On-disk state of layers, comparable between two copies of a stack.

Two copies of a stack have different inode numbers, generations, file system
uuids (except where fixed) and times.  So:
  * overlay file handles (overlay.origin, overlay.upper, the names of
    work/index entries) are decoded by what they name: the (layer, path) of
    the file whose name_to_handle_at(2) handle has the same type and fid, in
    the layers of the same copy (Decoder);
  * overlay.uuid is compared by presence and length only;
  * the other overlay xattrs (redirect, opaque, impure, metacopy, nlink,
    protattr, whiteout, escaped overlay.overlay.* names) and all other
    xattrs are compared as they are;
  * hard links are shown as the first path (sorted) with the same inode;
  * times go through a Clock: the phase of the test that set them.
"""
import ctypes
import os
import stat

import dump
import gen
import sysutil
from sysutil import oserr

MAX_HANDLE_SZ = 128
FH_MAGIC = 0xfb
FH_HDR = 21          # version, magic, len, flags, type, uuid[16]


class FileHandle(ctypes.Structure):
    _fields_ = [("handle_bytes", ctypes.c_uint), ("handle_type", ctypes.c_int),
                ("f_handle", ctypes.c_ubyte * MAX_HANDLE_SZ)]


_n2h = sysutil.libc.name_to_handle_at
_n2h.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(FileHandle),
                 ctypes.POINTER(ctypes.c_int), ctypes.c_int]
_n2h.restype = ctypes.c_int


def name_to_handle(path):
    """(type, fid bytes) of path (not following a final symlink), or None."""
    fh = FileHandle()
    fh.handle_bytes = MAX_HANDLE_SZ
    mid = ctypes.c_int()
    if _n2h(sysutil.AT_FDCWD, os.fsencode(path), ctypes.byref(fh), ctypes.byref(mid), 0) != 0:
        return None
    return fh.handle_type, bytes(fh.f_handle[:fh.handle_bytes])


def fs_uuid(path):
    try:
        return sysutil.getfsuuid(path)
    except OSError:
        return None


class Decoder:
    """Overlay file handle -> what it names, within one copy of a stack."""

    def __init__(self):
        self.map = {}       # (type, fid) -> set of (label, fs uuid)

    def add_tree(self, root, tag):
        u = fs_uuid(root)
        for rel in ["."] + sorted(gen.scan(root)):
            full = root if rel == "." else os.path.join(root, rel)
            h = name_to_handle(full)
            if h is not None:
                self.map.setdefault(h, set()).add(("%s:%s" % (tag, rel), u))

    def decode(self, raw):
        if len(raw) < FH_HDR or raw[1] != FH_MAGIC or raw[0] != 0 or raw[2] != len(raw):
            # (corrupt.py truncates real handles: their uuid and fid bytes
            # differ between the copies; the header does not)
            return "malformed fh (%d bytes, header %s)" % (len(raw), raw[:5].hex())
        flags, typ, uuid, fid = raw[3], raw[4], raw[5:21], raw[21:]
        hits = self.map.get((typ, fid))
        if not hits:
            return "fh(flags=%#x,type=%d,len=%d,uuid=%s) -> not found" % (
                flags, typ, len(raw), "null" if not any(uuid) else "set")
        if not any(uuid):
            us = "null"
        elif all(u == uuid for _, u in hits if u is not None):
            us = "fs"
        else:
            us = "other"
        return "fh(flags=%#x,uuid=%s) -> %s" % (flags, us, "|".join(sorted(l for l, _ in hits)))


def content(full, size):
    c, seg, _ = dump.content(full, size)
    return c if seg is None else "%s segs=%s" % (c, seg)


def xattrs(full, prefix, dec):
    """{name: normalized value} of every xattr of full."""
    out = {}
    try:
        names = sorted(os.listxattr(full, follow_symlinks=False))
    except OSError as e:
        return {"(listxattr)": oserr(e)}
    for n in names:
        try:
            v = os.getxattr(full, n, follow_symlinks=False)
        except OSError as e:
            out[n] = oserr(e)
            continue
        key = n[len(prefix):] if n.startswith(prefix) else None
        if key in ("origin", "upper"):
            out[n] = dec.decode(v)
        elif key == "uuid":
            out[n] = "(present, %d bytes)" % len(v)
        else:
            out[n] = dump.fmt_value(v)
    return out


def tree_state(root, prefix, dec, clock, times=True, contents=True, order=False):
    """{rel: record} of a layer / upper directory ('.' is root)."""
    out = {}
    ino_first = {}
    rels = ["."] + sorted(gen.scan(root), key=dump.relkey)
    for rel in rels:
        full = root if rel == "." else os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError as e:
            out[rel] = {"lstat": oserr(e)}
            continue
        r = {"type": dump.ftype(st.st_mode), "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "owner": "%d:%d" % (st.st_uid, st.st_gid), "nlink": str(st.st_nlink)}
        if not stat.S_ISDIR(st.st_mode):
            r["size"] = str(st.st_size)
            first = ino_first.setdefault(st.st_ino, rel)
            if first != rel:
                r["hardlink_of"] = first
        else:
            r["size"] = str(st.st_size)
            if order:
                try:
                    r["order"] = " ".join(os.listdir(full))
                except OSError as e:
                    r["order"] = oserr(e)
        if times:
            r["mtime"] = clock.mtime(st.st_mtime_ns)
            r["ctime"] = clock.ctime(st.st_ctime_ns)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            r["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        elif stat.S_ISLNK(st.st_mode):
            try:
                r["readlink"] = repr(os.readlink(full))
            except OSError as e:
                r["readlink"] = oserr(e)
        elif stat.S_ISREG(st.st_mode) and contents:
            r["content"] = content(full, st.st_size)
        for n, v in xattrs(full, prefix, dec).items():
            r["x:" + n] = v
        out[rel] = r
    return out


def work_state(work, prefix, dec, upper_state):
    """The work dir: work/ (temporary names "#N" come from a counter shared
    by every overlay mount: types only) and index/ (names decoded; entries
    with temporary names as a list)."""
    out = {}
    try:
        top = sorted(os.listdir(work))
    except OSError as e:
        return {"(work)": oserr(e)}
    out["(entries)"] = " ".join(top)
    wk = os.path.join(work, "work")
    if os.path.isdir(wk):
        kinds = []
        for n in sorted(os.listdir(wk)):
            try:
                st = os.lstat(os.path.join(wk, n))
                kinds.append("%s/nlink=%d" % (dump.ftype(st.st_mode), st.st_nlink))
            except OSError as e:
                kinds.append(oserr(e))
        out["work"] = " ".join(sorted(kinds))
    idx = os.path.join(work, "index")
    if os.path.isdir(idx):
        upper_by_ino = {}
        for rel, rec in upper_state.items():
            if "ino" in rec:
                upper_by_ino.setdefault(rec["ino"], rel)
        temps = []
        for n in sorted(os.listdir(idx)):
            full = os.path.join(idx, n)
            if n.startswith("#"):
                # a temporary name (a counter shared by every overlay mount)
                name = None
            else:
                try:
                    name = "index:" + dec.decode(bytes.fromhex(n))
                except ValueError:
                    name = "index:(name) " + n
            try:
                st = os.lstat(full)
            except OSError as e:
                out[name] = oserr(e)
                continue
            r = "%s %04o nlink=%d" % (dump.ftype(st.st_mode), stat.S_IMODE(st.st_mode),
                                      st.st_nlink)
            r += " upper=%s" % upper_by_ino.get(st.st_ino, "-")
            xs = xattrs(full, prefix, dec)
            r += "".join(" %s=%s" % kv for kv in sorted(xs.items()))
            if name is None:
                temps.append(r)
                continue
            if name in out:
                name += " (again)"
            out[name] = r
        if temps:
            out["index:(temporary names)"] = " | ".join(sorted(temps))
    return out


def upper_inodes(root):
    """{rel: {"ino": st_ino}} of root, for work_state."""
    out = {}
    for rel in ["."] + sorted(gen.scan(root)):
        full = root if rel == "." else os.path.join(root, rel)
        try:
            out[rel] = {"ino": os.lstat(full).st_ino}
        except OSError:
            pass
    return out


def compare(what, a, b):
    """Differences of two {rel: record} (or {key: value}) maps:
    [(what path, field, a, b)]."""
    out = []
    for p in sorted(set(a) | set(b), key=dump.relkey):
        ra, rb = a.get(p), b.get(p)
        if ra is None or rb is None or not isinstance(ra, dict) or not isinstance(rb, dict):
            if ra != rb:
                out.append(("(%s) %s" % (what, p), "(path)" if isinstance(ra or rb, dict)
                            else "value", _summ(ra), _summ(rb)))
            continue
        for f in sorted(set(ra) | set(rb)):
            va, vb = ra.get(f, "(none)"), rb.get(f, "(none)")
            if va != vb:
                out.append(("(%s) %s" % (what, p), f, va, vb))
    return out


def _summ(r):
    if r is None:
        return "(absent)"
    if isinstance(r, dict):
        return "%s %s" % (r.get("type", r.get("lstat", "?")), r.get("mode", ""))
    return r

# SPDX-License-Identifier: GPL-2.0
"""Random file system operations for the operation-sequence differential test.

make_op() draws one operation (a JSON-able dict: "op" plus its arguments,
relative paths, data as a seed and a length) from a random.Random and the
current merged tree of the oracle's mount; run_op() performs it under a
mount point and returns its result as a string: "OK", "OK:<value>" (bytes
written, a hash of what was read, the names of a directory...) or the errno
name.  The same dict run under two mount points must give the same string.

Safety: every open() has O_NOFOLLOW|O_NONBLOCK (never follow a symlink out of
the mount, never block on a FIFO), and only regular files are ever read or
written (an existing device node is reported as "nonreg:chr", not opened:
the layers hold a block device 7:0, i.e. /dev/loop0).
"""
import ctypes
import hashlib
import os
import random
import stat
import zlib

import disk
import sysutil
from sysutil import oserr

NAMES = ["a", "b", "c", "d", "e", "f", "dir", "sub", "x1", "x2", "file", "g",
         "n1", "n2", "new"]
ODD_NAMES = ["with space", "\u00fcn\u00efc\u00f6de", "L" * 255, ".hidden",
             "a:b", "a,b", "-dash", "x" * 100]
UIDS = [0, 0, 0, 1000, 2000, 65534]
MODES_F = [0o644, 0o644, 0o600, 0o640, 0o755, 0o444, 0o000, 0o4755, 0o2750, 0o604]
MODES_D = [0o755, 0o755, 0o700, 0o750, 0o711, 0o1777, 0o2775, 0o555]
SIZES = [0, 1, 4095, 4096, 100000, 3 << 20, 1 << 32]
XNAMES = ["user.foo", "user.bar", "user.comment", "user.mime_type"]

O_COMMON = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
RENAME_WHITEOUT = 4
FALLOC = {"alloc": 0, "keep": 1, "punch": 3, "zero": 0x10}
RENAME_FLAGS = {"plain": 0, "noreplace": sysutil.RENAME_NOREPLACE,
                "exchange": sysutil.RENAME_EXCHANGE, "whiteout": RENAME_WHITEOUT}

libc = sysutil.libc
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.fallocate.restype = ctypes.c_int
libc.fchmodat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint, ctypes.c_int]
libc.fchmodat.restype = ctypes.c_int
AT_SYMLINK_NOFOLLOW = 0x100

# (name, weight)
OPS = [("create", 10), ("write", 8), ("append", 4), ("otrunc", 2), ("ftruncate", 3),
       ("truncate", 2), ("openrw", 2), ("read", 5), ("readdir", 4), ("lstat", 3),
       ("chmod", 5), ("chown", 4), ("utimes", 3), ("setxattr", 4), ("removexattr", 2),
       ("getxattr", 2), ("mkdir", 6), ("rmdir", 3), ("rmtree", 1), ("unlink", 5),
       ("mknod", 2), ("symlink", 3), ("link", 3), ("rename", 5), ("rename_dir", 4),
       ("fsync", 2), ("fallocate", 2), ("copy_file_range", 2), ("tmpfile", 1)]


def data(dseed, n):
    return random.Random(dseed).randbytes(n)


# ---------------------------------------------------------------- drawing
class Picker:
    """Path choices from the oracle's merged tree (sorted (rel, kind) list,
    kinds of gen.scan: d f l o) and the paths of its lower layers."""

    def __init__(self, rng, ents, lower_paths):
        self.rng = rng
        self.ents = ents
        self.kind = dict(ents)
        self.lower = lower_paths

    def name(self):
        if self.rng.random() < 0.06:
            return self.rng.choice(ODD_NAMES)
        return self.rng.choice(NAMES)

    def pick(self, kinds):
        """An existing path of one of kinds; sometimes a path of the lower
        layers (maybe whited out or renamed away by now)."""
        rng = self.rng
        if self.lower and rng.random() < 0.08:
            return rng.choice(self.lower)
        c = [r for r, k in self.ents if k in kinds]
        if not c:
            c = [r for r, _ in self.ents] or [self.name()]
        return rng.choice(c)

    def pick_dir(self):
        c = [""] + [r for r, k in self.ents if k == "d"]
        return self.rng.choice(c)

    def new_path(self):
        d = self.pick_dir()
        n = self.name()
        return d + "/" + n if d else n

    def target(self):
        rng = self.rng
        k = rng.random()
        if k < 0.5:
            return rng.choice(NAMES)
        if k < 0.65:
            return rng.choice(NAMES) + "/" + rng.choice(NAMES)
        if k < 0.8:
            return "/nonexistent/" + rng.choice(NAMES)
        if k < 0.9:
            return "t" * rng.randint(100, 600)
        return "."

    def size(self):
        k = self.rng.random()
        if k < 0.1:
            return 0
        if k < 0.6:
            return self.rng.randint(1, 300)
        if k < 0.9:
            return self.rng.randint(301, 20000)
        return self.rng.randint(20001, 300000)

    def offset(self):
        rng = self.rng
        return rng.choice([0, 0, rng.randrange(70000), 4096, 1 << 20, rng.randrange(1 << 33)])


def make_op(rng, ents, lower_paths):
    """Draw one operation."""
    p = Picker(rng, ents, lower_paths)
    total = sum(w for _, w in OPS)
    x = rng.randrange(total)
    for name, w in OPS:
        if x < w:
            break
        x -= w
    o = {"op": name}
    r = rng.random
    if name == "create":
        o["path"] = p.new_path() if r() < 0.75 else p.pick("f")
        o["flags"] = rng.choice(["plain", "excl", "trunc", "trunc"])
        o["mode"] = rng.choice(MODES_F)
        o["len"] = p.size()
        o["dseed"] = rng.randrange(1 << 30)
    elif name in ("write", "append"):
        o["path"] = p.pick("f")
        o["len"] = min(p.size(), 65536) or 1
        o["dseed"] = rng.randrange(1 << 30)
        if name == "write":
            o["off"] = p.offset()
    elif name in ("otrunc", "openrw", "read"):
        o["path"] = p.pick("f" if r() < 0.9 else "dflo")
    elif name in ("ftruncate", "truncate"):
        o["path"] = p.pick("f" if r() < 0.9 else "dflo")
        o["size"] = rng.choice(SIZES)
    elif name == "readdir":
        o["path"] = p.pick("d" if r() < 0.9 else "flo") if r() < 0.85 else ""
    elif name == "lstat":
        o["path"] = p.pick("dflo")
    elif name == "chmod":
        o["path"] = p.pick("dflo")
        o["mode"] = rng.choice(MODES_D if p.kind.get(o["path"]) == "d" else MODES_F)
    elif name == "chown":
        o["path"] = p.pick("dflo") if r() < 0.95 else ""
        o["uid"] = rng.choice(UIDS + [-1])
        o["gid"] = rng.choice(UIDS + [-1])
    elif name == "utimes":
        o["path"] = p.pick("dflo")
        if r() < 0.25:
            o["now"] = True
        else:
            # in the past: told apart from the times the operations set
            o["atime"] = rng.randrange(10**9, 15 * 10**8) * 10**9 + rng.randrange(10**9)
            o["mtime"] = rng.randrange(10**9, 15 * 10**8) * 10**9 + rng.randrange(10**9)
    elif name == "setxattr":
        o["path"] = p.pick("dflo")
        o["name"] = rng.choice(XNAMES)
        k = r()
        o["vlen"] = 0 if k < 0.1 else rng.randint(1, 64) if k < 0.85 else rng.randint(1000, 4000)
        o["dseed"] = rng.randrange(1 << 30)
        o["xflags"] = rng.choice([0, 0, 1, 2])     # XATTR_CREATE, XATTR_REPLACE
    elif name in ("removexattr", "getxattr"):
        o["path"] = p.pick("dflo")
        o["name"] = rng.choice(XNAMES) if name == "removexattr" or r() < 0.7 else ""
    elif name == "mkdir":
        o["path"] = p.new_path() if r() < 0.9 else p.pick("dflo")
        o["mode"] = rng.choice(MODES_D)
    elif name in ("rmdir", "rmtree"):
        o["path"] = p.pick("d" if r() < 0.9 else "flo")
        if name == "rmtree":
            o["recreate"] = r() < 0.6
    elif name == "unlink":
        o["path"] = p.pick("flo" if r() < 0.9 else "d")
    elif name == "mknod":
        o["path"] = p.new_path() if r() < 0.9 else p.pick("dflo")
        k = r()
        o["kind"] = "fifo" if k < 0.7 else "chr-1-3" if k < 0.93 else "chr-0-0"
    elif name == "symlink":
        o["path"] = p.new_path() if r() < 0.9 else p.pick("dflo")
        o["target"] = p.target()
    elif name == "link":
        o["src"] = p.pick("flo")
        o["dst"] = p.new_path() if r() < 0.8 else p.pick("dflo")
    elif name == "rename":
        o["src"] = p.pick("flo" if r() < 0.8 else "dflo")
        o["dst"] = p.pick("dflo") if r() < 0.4 else p.new_path()
        o["flags"] = rng.choice(["plain", "plain", "plain", "noreplace", "exchange",
                                 "exchange", "whiteout"])
    elif name == "rename_dir":
        o["src"] = p.pick("d")
        if r() < 0.5:
            o["dst"] = os.path.join(os.path.dirname(o["src"]), p.name())
        else:
            o["dst"] = p.pick("d") if r() < 0.2 else p.new_path()
        o["flags"] = rng.choice(["plain", "plain", "plain", "noreplace", "exchange"])
    elif name == "fsync":
        o["path"] = p.pick("f" if r() < 0.8 else "d")
        o["wr"] = r() < 0.5
        o["data"] = r() < 0.3
    elif name == "fallocate":
        o["path"] = p.pick("f")
        o["mode"] = rng.choice(sorted(FALLOC))
        o["off"] = rng.choice([0, rng.randrange(70000), 1 << 20])
        o["len"] = rng.choice([1, 4096, rng.randrange(1, 300000)])
    elif name == "copy_file_range":
        o["src"] = p.pick("f")
        o["dst"] = p.pick("f") if r() < 0.7 else p.new_path()
        o["off_in"] = rng.choice([0, 0, rng.randrange(70000)])
        o["off_out"] = rng.choice([0, rng.randrange(70000), 1 << 20])
        o["count"] = rng.choice([1, 4096, rng.randrange(1, 262144)])
    elif name == "tmpfile":
        o["dir"] = p.pick_dir()
        o["mode"] = rng.choice(MODES_F)
        o["len"] = p.size()
        o["dseed"] = rng.randrange(1 << 30)
        o["dst"] = p.new_path() if r() < 0.7 else None
    return o


NS_OPS = ("create", "mkdir", "rmdir", "rmtree", "unlink", "mknod", "symlink", "link",
          "rename", "rename_dir", "copy_file_range", "tmpfile")


def renames(o, res):
    """Whether o, with result res, may have changed the names or kinds of
    the merged tree (then the tree is scanned again before the next
    operation)."""
    return o["op"] in NS_OPS and not res.startswith("E") and not res.startswith("nonreg")


def describe(o):
    """op(args) for reports."""
    args = []
    for k, v in o.items():
        if k == "op":
            continue
        if isinstance(v, str) and len(v) > 40:
            v = v[:20] + "...(%d)" % len(v)
        args.append("%s=%r" % (k, v))
    return "%s(%s)" % (o["op"], ", ".join(args))


# ------------------------------------------------------------- performing
def _full(root, rel):
    return os.path.join(root, rel) if rel else root


def _ftype(m):
    return {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk",
            stat.S_IFCHR: "chr", stat.S_IFBLK: "blk", stat.S_IFIFO: "fifo",
            stat.S_IFSOCK: "sock"}.get(stat.S_IFMT(m), "?")


class NonReg(Exception):
    pass


def _open(path, flags, mode=0o644):
    """open() of a regular file (or a new one with O_CREAT); raises NonReg
    for anything else that exists (not opened)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            raise NonReg(_ftype(st.st_mode))
    except FileNotFoundError:
        if not flags & os.O_CREAT:
            raise
    fd = os.open(path, flags | O_COMMON, mode)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        os.close(fd)
        raise NonReg(_ftype(st.st_mode))
    return fd


def _write_all(fd, b, off=None):
    n = 0
    while n < len(b):
        k = os.write(fd, b[n:]) if off is None else os.pwrite(fd, b[n:], off + n)
        if k <= 0:
            break
        n += k
    return n


def _hash_fd(fd, cap=8 << 20):
    h = hashlib.sha256()
    n = 0
    while n < cap:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    return "%s/%d" % (h.hexdigest()[:16], n)


def _names(lst, cap=8):
    s = [x if len(x) <= 24 else x[:12] + "..(%d)" % len(x) for x in lst[:cap]]
    return "[" + ",".join(s) + (",+%d" % (len(lst) - cap) if len(lst) > cap else "") + "]"


# ------------------------------------------------------- file handles
# With nfs_export=on, handle operations are drawn between the others (from
# their own random.Random, so that the sequences of the other seeds stay
# as they were): "fh_save" takes the handle of a path (name_to_handle_at),
# "fh_open" opens a saved one (open_by_handle_at) and shows the object (a
# file's contents, a directory's path and entries), "fh_drop" drops the
# caches first (the decoding then starts from the real file systems).
FH_OPS = [("fh_save", 5), ("fh_open", 6), ("fh_drop", 2)]
O_PATH = 0o10000000


def make_fh_op(rng, ents, nsaved):
    """Draw one handle operation; nsaved: the handles saved so far."""
    x = rng.randrange(sum(w for _, w in FH_OPS))
    for name, w in FH_OPS:
        if x < w:
            break
        x -= w
    if name != "fh_save" and nsaved == 0:
        name = "fh_save"
    if name == "fh_save":
        c = [""] + [r for r, _ in ents]
        return {"op": "fh_save", "path": rng.choice(c)}
    return {"op": name, "idx": rng.randrange(nsaved)}


def run_fh_op(root, o, saved):
    """Perform the handle operation o under root; saved: this mount's
    list of saved handles (fh_save appends to it, also a failure, so that
    the indexes stay aligned between the two mounts)."""
    libc = sysutil.libc
    if o["op"] == "fh_save":
        fh = disk.FileHandle()
        fh.handle_bytes = disk.MAX_HANDLE_SZ
        mnt = ctypes.c_int()
        if libc.name_to_handle_at(-100, os.fsencode(_full(root, o["path"])), ctypes.byref(fh),
                                  ctypes.byref(mnt), 0) != 0:   # a symlink itself
            saved.append(None)
            return sysutil.ename(ctypes.get_errno())
        saved.append((fh.handle_type, bytes(fh.f_handle[:fh.handle_bytes])))
        return "OK:type=%d,len=%d" % (fh.handle_type, fh.handle_bytes)
    if o["op"] == "fh_drop":
        sysutil.drop_caches()
    h = saved[o["idx"]]
    if h is None:
        return "nohandle"
    fh = disk.FileHandle()
    fh.handle_type, fh.handle_bytes = h[0], len(h[1])
    ctypes.memmove(fh.f_handle, h[1], len(h[1]))
    mfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fd = libc.open_by_handle_at(mfd, ctypes.byref(fh), O_PATH | os.O_CLOEXEC)
        if fd < 0:
            return sysutil.ename(ctypes.get_errno())
    finally:
        os.close(mfd)
    try:
        st = os.fstat(fd)
        proc = "/proc/self/fd/%d" % fd
        if stat.S_ISDIR(st.st_mode):
            path = os.readlink(proc)
            rel = os.path.relpath(path, root) if path.startswith(root) else "?" + path
            return "dir:%s:%s" % (rel, _names(sorted(os.listdir(proc))))
        if stat.S_ISREG(st.st_mode):
            # (reopened through /proc: a regular file, never a FIFO)
            rfd = os.open(proc, os.O_RDONLY | os.O_CLOEXEC)
            try:
                return "reg:%o:%s" % (st.st_mode & 0o7777, _hash_fd(rfd))
            finally:
                os.close(rfd)
        return "other:%o" % st.st_mode
    finally:
        os.close(fd)


def run_op(root, o):
    """Perform o under root; its result as a string."""
    try:
        return _run(root, o)
    except NonReg as e:
        return "nonreg:%s" % e
    except OSError as e:
        return oserr(e)
    except (ValueError, OverflowError) as e:
        return "X:%s" % type(e).__name__


def _run(root, o):
    op = o["op"]
    f = _full(root, o.get("path", ""))
    if op == "create":
        fl = os.O_WRONLY | os.O_CREAT | {"plain": 0, "excl": os.O_EXCL,
                                         "trunc": os.O_TRUNC}[o["flags"]]
        fd = _open(f, fl, o["mode"])
        try:
            return "OK:%d" % _write_all(fd, data(o["dseed"], o["len"]))
        finally:
            os.close(fd)
    if op in ("write", "append"):
        fd = _open(f, os.O_WRONLY | (os.O_APPEND if op == "append" else 0))
        try:
            b = data(o["dseed"], o["len"])
            n = _write_all(fd, b, o.get("off"))
            return "OK:%d@%d" % (n, os.lseek(fd, 0, os.SEEK_CUR) if op == "append" else o["off"])
        finally:
            os.close(fd)
    if op == "otrunc":
        os.close(_open(f, os.O_WRONLY | os.O_TRUNC))
        return "OK"
    if op == "openrw":
        os.close(_open(f, os.O_RDWR))
        return "OK"
    if op == "ftruncate":
        fd = _open(f, os.O_WRONLY)
        try:
            os.ftruncate(fd, o["size"])
            return "OK:%d" % os.fstat(fd).st_size
        finally:
            os.close(fd)
    if op == "truncate":
        st = os.lstat(f)
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
            return "nonreg:%s" % _ftype(st.st_mode)
        os.truncate(f, o["size"])
        return "OK"
    if op == "read":
        fd = _open(f, os.O_RDONLY)
        try:
            return "OK:" + _hash_fd(fd)
        finally:
            os.close(fd)
    if op == "readdir":
        st = os.lstat(f)
        if stat.S_ISLNK(st.st_mode):
            return "nonreg:lnk"
        names = [os.fsdecode(e[0]) for e in sysutil.getdents_all(f)]
        return "OK:%d:%08x:%s" % (len(names), zlib.crc32("/".join(names).encode(
            errors="surrogateescape")), _names(names))
    if op == "lstat":
        st = os.lstat(f)
        s = "%s %04o %d:%d size=%d nlink=%d" % (_ftype(st.st_mode), stat.S_IMODE(st.st_mode),
                                                st.st_uid, st.st_gid, st.st_size, st.st_nlink)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            s += " rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        return "OK:" + s
    if op == "chmod":
        if libc.fchmodat(sysutil.AT_FDCWD, os.fsencode(f), o["mode"], AT_SYMLINK_NOFOLLOW):
            return sysutil.ename(ctypes.get_errno())
        return "OK"
    if op == "chown":
        os.chown(f, o["uid"], o["gid"], follow_symlinks=False)
        return "OK"
    if op == "utimes":
        if o.get("now"):
            os.utime(f, None, follow_symlinks=False)
        else:
            os.utime(f, ns=(o["atime"], o["mtime"]), follow_symlinks=False)
        return "OK"
    if op == "setxattr":
        os.setxattr(f, o["name"], data(o["dseed"], o["vlen"]), o["xflags"],
                    follow_symlinks=False)
        return "OK"
    if op == "removexattr":
        os.removexattr(f, o["name"], follow_symlinks=False)
        return "OK"
    if op == "getxattr":
        if not o["name"]:
            return "OK:" + " ".join(sorted(os.listxattr(f, follow_symlinks=False)))
        v = os.getxattr(f, o["name"], follow_symlinks=False)
        return "OK:%s/%d" % (hashlib.sha256(v).hexdigest()[:12], len(v))
    if op == "mkdir":
        os.mkdir(f, o["mode"])
        return "OK"
    if op == "rmdir":
        os.rmdir(f)
        return "OK"
    if op == "rmtree":
        return _rmtree(f, o["recreate"])
    if op == "unlink":
        os.unlink(f)
        return "OK"
    if op == "mknod":
        if o["kind"] == "fifo":
            os.mkfifo(f, 0o640)
        elif o["kind"] == "chr-1-3":
            os.mknod(f, 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        else:
            os.mknod(f, 0o644 | stat.S_IFCHR, 0)
        return "OK"
    if op == "symlink":
        os.symlink(o["target"], f)
        return "OK"
    if op == "link":
        os.link(_full(root, o["src"]), _full(root, o["dst"]), follow_symlinks=False)
        return "OK"
    if op in ("rename", "rename_dir"):
        sysutil.renameat2(_full(root, o["src"]), _full(root, o["dst"]),
                          RENAME_FLAGS[o["flags"]])
        return "OK"
    if op == "fsync":
        st = os.lstat(f)
        if stat.S_ISDIR(st.st_mode):
            fd = os.open(f, os.O_RDONLY | os.O_DIRECTORY | O_COMMON)
        else:
            fd = _open(f, os.O_WRONLY if o["wr"] else os.O_RDONLY)
        try:
            (os.fdatasync if o["data"] else os.fsync)(fd)
            return "OK"
        finally:
            os.close(fd)
    if op == "fallocate":
        fd = _open(f, os.O_WRONLY)
        try:
            if libc.fallocate(fd, FALLOC[o["mode"]], o["off"], o["len"]) != 0:
                return sysutil.ename(ctypes.get_errno())
            return "OK:%d" % os.fstat(fd).st_size
        finally:
            os.close(fd)
    if op == "copy_file_range":
        fi = _open(_full(root, o["src"]), os.O_RDONLY)
        try:
            fo = _open(_full(root, o["dst"]), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                n = os.copy_file_range(fi, fo, o["count"], o["off_in"], o["off_out"])
                return "OK:%d" % n
            finally:
                os.close(fo)
        finally:
            os.close(fi)
    if op == "tmpfile":
        d = _full(root, o["dir"])
        fd = os.open(d, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, o["mode"])
        try:
            n = _write_all(fd, data(o["dseed"], o["len"]))
            res = "OK:%d" % n
            if o["dst"] is not None:
                try:
                    os.link("/proc/self/fd/%d" % fd, _full(root, o["dst"]))
                    res += " link:OK"
                except OSError as e:
                    res += " link:" + oserr(e)
            return res
        finally:
            os.close(fd)
    raise ValueError("unknown op " + op)


def _rmtree(f, recreate):
    """Remove everything under directory f (deepest first, in sorted order),
    then f; maybe make it again (an opaque directory over a lower one)."""
    st = os.lstat(f)
    if not stat.S_ISDIR(st.st_mode):
        return "nonreg:%s" % _ftype(st.st_mode)
    import gen
    sub = gen.scan(f)
    errs = 0
    for rel, k in sorted(sub.items(), key=lambda x: (-x[0].count("/"), x[0])):
        try:
            (os.rmdir if k == "d" else os.unlink)(os.path.join(f, rel))
        except OSError:
            errs += 1
    res = "removed %d/%d" % (len(sub) - errs, len(sub))
    try:
        os.rmdir(f)
        res += " rmdir:OK"
    except OSError as e:
        return res + " rmdir:" + oserr(e)
    if recreate:
        try:
            os.mkdir(f, 0o755)
            res += " mkdir:OK"
        except OSError as e:
            res += " mkdir:" + oserr(e)
    return res

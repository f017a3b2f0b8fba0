# SPDX-License-Identifier: GPL-2.0
"""System calls the Python standard library lacks, through ctypes.

mount(2)/umount2(2), the new mount API (fsopen/fsconfig/fsmount/move_mount),
raw getdents64(2), renameat2(2), libc's opendir/readdir/telldir/seekdir,
POSIX ACL xattr encoding, and /dev/kmsg reading/marking.  x86_64 only (the
test VM's architecture).
"""
import ctypes
import errno
import os
import struct

libc = ctypes.CDLL(None, use_errno=True)

_syscall = libc.syscall
_syscall.restype = ctypes.c_long

SYS_renameat2 = 316
SYS_getdents64 = 217
SYS_move_mount = 429
SYS_fsopen = 430
SYS_fsconfig = 431
SYS_fsmount = 432

AT_FDCWD = -100
FSOPEN_CLOEXEC = 1
FSCONFIG_SET_FLAG = 0
FSCONFIG_SET_STRING = 1
FSCONFIG_CMD_CREATE = 6
FSMOUNT_CLOEXEC = 1
MOUNT_ATTR_RDONLY = 1
MOVE_MOUNT_F_EMPTY_PATH = 4

MS_RDONLY = 1
MNT_DETACH = 2

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


def ename(e):
    """errno number -> its name (EIO, ENOENT...)."""
    return errno.errorcode.get(e, "E%d" % e)


def oserr(exc):
    """An OSError -> its errno name."""
    if exc.errno is None:
        return "E?(%s)" % exc
    return ename(exc.errno)


def _raise():
    e = ctypes.get_errno()
    raise OSError(e, os.strerror(e))


def _b(s):
    if s is None:
        return None
    return s if isinstance(s, bytes) else os.fsencode(s)


libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_ulong, ctypes.c_char_p]
libc.mount.restype = ctypes.c_int
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.umount2.restype = ctypes.c_int


def mount(source, target, fstype, flags=0, data=None):
    if libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)) != 0:
        _raise()


def umount(target, flags=0):
    if libc.umount2(_b(target), flags) != 0:
        _raise()


def _fsconfig(fd, cmd, key=None, value=None, aux=0):
    rc = _syscall(ctypes.c_long(SYS_fsconfig), ctypes.c_int(fd),
                  ctypes.c_uint(cmd), ctypes.c_char_p(_b(key)),
                  ctypes.c_char_p(_b(value)), ctypes.c_int(aux))
    if rc < 0:
        _raise()


def _fs_log(fd):
    """Drain the fs_context message log of an fsopen() fd."""
    msgs = []
    while True:
        try:
            m = os.read(fd, 4096)
        except OSError:
            break
        if not m:
            break
        msgs.append(m.decode(errors="replace").rstrip("\n"))
    return msgs


def mount_fsconfig(fstype, target, params, attr=0):
    """Mount with the new API.  params: list of (key, value-or-None); attr:
    the MOUNT_ATTR_* flags of fsmount().

    Returns (errno-name-or-"OK", step, messages): the step that failed
    ("fsopen", "fsconfig KEY", "create", "fsmount", "move_mount").
    """
    fd = _syscall(ctypes.c_long(SYS_fsopen), ctypes.c_char_p(_b(fstype)),
                  ctypes.c_uint(FSOPEN_CLOEXEC))
    if fd < 0:
        return ename(ctypes.get_errno()), "fsopen", []
    fd = int(fd)
    step = "?"
    try:
        try:
            _fsconfig(fd, FSCONFIG_SET_STRING, "source", "rovl-diff")
            for key, value in params:
                step = "fsconfig " + key
                if value is None:
                    _fsconfig(fd, FSCONFIG_SET_FLAG, key)
                else:
                    _fsconfig(fd, FSCONFIG_SET_STRING, key, value)
            step = "create"
            _fsconfig(fd, FSCONFIG_CMD_CREATE)
            step = "fsmount"
            mfd = _syscall(ctypes.c_long(SYS_fsmount), ctypes.c_int(fd),
                           ctypes.c_uint(FSMOUNT_CLOEXEC), ctypes.c_uint(attr))
            if mfd < 0:
                _raise()
            mfd = int(mfd)
            try:
                step = "move_mount"
                rc = _syscall(ctypes.c_long(SYS_move_mount), ctypes.c_int(mfd),
                              ctypes.c_char_p(b""), ctypes.c_int(AT_FDCWD),
                              ctypes.c_char_p(_b(target)),
                              ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH))
                if rc < 0:
                    _raise()
            finally:
                os.close(mfd)
        except OSError as e:
            return oserr(e), step, _fs_log(fd)
        return "OK", "", _fs_log(fd)
    finally:
        os.close(fd)


def renameat2(old, new, flags):
    rc = _syscall(ctypes.c_long(SYS_renameat2), ctypes.c_int(AT_FDCWD),
                  ctypes.c_char_p(_b(old)), ctypes.c_int(AT_FDCWD),
                  ctypes.c_char_p(_b(new)), ctypes.c_uint(flags))
    if rc < 0:
        _raise()


def getdents(fd, bufsize=32768):
    """One getdents64() call: list of (name bytes, d_type, d_ino, d_off)."""
    buf = ctypes.create_string_buffer(bufsize)
    n = _syscall(ctypes.c_long(SYS_getdents64), ctypes.c_int(fd), buf,
                 ctypes.c_uint(bufsize))
    if n < 0:
        _raise()
    raw = buf.raw[:n]
    out = []
    off = 0
    while off < n:
        d_ino, d_off, reclen, d_type = struct.unpack_from("<QqHB", raw, off)
        if reclen == 0:
            raise OSError(errno.EUCLEAN, "getdents64 returned reclen 0")
        name = raw[off + 19:off + reclen].split(b"\0", 1)[0]
        out.append((name, d_type, d_ino, d_off))
        off += reclen
    return out


def getdents_all(path, bufsize=32768, limit=100000):
    """All entries of a directory by raw getdents64 calls."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        out = []
        while True:
            chunk = getdents(fd, bufsize)
            if not chunk:
                return out
            out.extend(chunk)
            if len(out) > limit:
                raise OSError(errno.EOVERFLOW, "more than %d entries" % limit)
    finally:
        os.close(fd)


class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]


libc.opendir.argtypes = [ctypes.c_char_p]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.argtypes = [ctypes.c_void_p]
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.telldir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
libc.seekdir.restype = None
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.rewinddir.restype = None
libc.closedir.argtypes = [ctypes.c_void_p]
libc.closedir.restype = ctypes.c_int


class Dir:
    """libc DIR stream (opendir/readdir/telldir/seekdir)."""

    def __init__(self, path):
        ctypes.set_errno(0)
        self.d = libc.opendir(_b(path))
        if not self.d:
            _raise()

    def read(self):
        """Next name (bytes) or None at the end; OSError on error."""
        ctypes.set_errno(0)
        p = libc.readdir(self.d)
        if not p:
            e = ctypes.get_errno()
            if e:
                raise OSError(e, os.strerror(e))
            return None
        return p.contents.d_name

    def tell(self):
        ctypes.set_errno(0)
        r = libc.telldir(self.d)
        if r < 0:
            _raise()
        return r

    def seek(self, pos):
        libc.seekdir(self.d, pos)

    def rewind(self):
        libc.rewinddir(self.d)

    def close(self):
        if self.d:
            libc.closedir(self.d)
            self.d = None


# POSIX ACL xattr format (include/uapi/linux/posix_acl_xattr.h)
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ = 0x01, 0x02, 0x04
ACL_GROUP, ACL_MASK, ACL_OTHER = 0x08, 0x10, 0x20
ACL_UNDEFINED_ID = 0xFFFFFFFF


def acl_xattr(entries):
    """[(tag, perm, id-or-None)] -> system.posix_acl_* value (sorted)."""
    ents = sorted((t, ACL_UNDEFINED_ID if i is None else i, p) for t, p, i in entries)
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, i, p in ents)


class Kmsg:
    """Reads new kernel log records since the last call; writes markers."""

    def __init__(self):
        try:
            self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
            os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            self.fd = None

    def read(self):
        out = []
        if self.fd is None:
            return out
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:  # overwritten records; go on
                    continue
                break
            if not rec:
                break
            line = rec.decode(errors="replace").split("\n", 1)[0]
            out.append(line.split(";", 1)[-1])
        return out

    @staticmethod
    def mark(msg):
        try:
            with open("/dev/kmsg", "w") as f:
                f.write("<6>rovl-diff: %s\n" % msg)
        except OSError:
            pass


def drop_caches():
    if os.environ.get("ROVL_DIFF_NO_DROP") == "1":   # development on a shared host
        return
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def mountinfo_opts(target):
    """Super-block options of the mount at target from /proc/self/mountinfo."""
    target = os.path.realpath(target)
    found = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.rstrip("\n").partition(" - ")
            fields = left.split(" ")
            mp = fields[4].encode().decode("unicode_escape") if "\\" in fields[4] else fields[4]
            if mp == target:
                rf = right.split(" ", 2)
                found = rf[2] if len(rf) > 2 else ""
    return found


FS_IOC_GETFSUUID = 0x80111500     # _IOR(0x15, 0, struct fsuuid2 { u8 len; u8 uuid[16]; })


def getfsuuid(path):
    """sb->s_uuid of the file system of path (FS_IOC_GETFSUUID): bytes of
    s_uuid_len, or raises OSError (ENOTTY: no uuid)."""
    import fcntl
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        b = fcntl.ioctl(fd, FS_IOC_GETFSUUID, bytes(17))
    finally:
        os.close(fd)
    return bytes(b[1:1 + min(b[0], 16)])


def statfs_fsid(path):
    """f_fsid of statfs(2) as the kernel fills it: (val[0], val[1]) as
    unsigned 32-bit words (glibc's statvfs() f_fsid folds them)."""
    buf = ctypes.create_string_buffer(120)      # struct statfs (x86_64: 120 bytes)
    if libc.statfs(_b(path), buf) != 0:
        _raise()
    return struct.unpack_from("<II", buf.raw, 56)   # after 7 longs


STATX_BTIME = 0x800
AT_SYMLINK_NOFOLLOW = 0x100


def btime_ns(path):
    """Birth time (statx STATX_BTIME) in ns, or None where the file system
    does not report it.  With the inode number it tells a file made afresh
    from the old one on file systems that reuse inode numbers (ext4)."""
    buf = ctypes.create_string_buffer(256)    # struct statx
    if libc.statx(AT_FDCWD, _b(path), AT_SYMLINK_NOFOLLOW, STATX_BTIME, buf) != 0:
        return None
    mask, = struct.unpack_from("<I", buf.raw, 0)
    if not mask & STATX_BTIME:
        return None
    sec, nsec = struct.unpack_from("<qI", buf.raw, 80)   # stx_btime
    return sec * 10**9 + nsec

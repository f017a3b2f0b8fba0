# SPDX-License-Identifier: GPL-2.0
"""Full dump of a mounted overlay, in a form comparable between file systems.

Every value is a string (or a list of strings) and no raw device or inode
number appears except where it is stable: (st_dev, st_ino) pairs are mapped
to equality classes (the first path, in sorted order, that had the pair).
Errors are dumped as errno names, per operation.

Per path ('.' is the root):
  type mode uid gid size nlink rdev blocks blksize mtime ctime   lstat(2)
  dev ino                     equality classes of st_dev and (st_dev, st_ino)
  ino_raw                     st_ino if stable across drop_caches and remount
  stable_dc stable_remount    class and st_ino unchanged after drop_caches /
                              after umount + mount
  readlink content segments mmap     symlink target; sha256/length of the
                              data (open:ERR / read:ERR); SEEK_DATA/SEEK_HOLE
                              map; mmap read equal to read(2)
  xattrs x:NAME xp:NAME       listxattr, each value, probes of overlay names
  dirents                     raw getdents64: [name, d_type, d_ino-relation] in
                              order; d_ino-relation '=' (equal to st_ino of the
                              entry), '~PATH' (st_ino of another path), '?',
                              'u' (the entry's st_ino is not stable)
  getdents_small seekdir      small-buffer getdents64 with lseek(d_off)
                              replay; libc telldir/seekdir/rewinddir replay
  nr_*                        the same path as uid/gid 1000 without groups:
                              lstat, access R/W/X, read, list, readlink, xattrs
"""
import hashlib
import json
import mmap
import os
import random
import stat
import zlib

import sysutil
from sysutil import oserr

FULL_READ_MAX = 8 << 20     # larger files: hash of the data segments only
SEG_READ_MAX = 16 << 20
MMAP_MAX = 256 << 10
MAX_PATHS = 6000
MAX_DEPTH = 40
NR_READ_MAX = 64 << 10

DT = {0: "unknown", 1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk",
      12: "sock", 14: "wht"}
# getxattr of overlay names that are not listed: they must stay hidden (or
# show the escaped value) on both sides.
PROBES = ["trusted.overlay.redirect", "trusted.overlay.metacopy",
          "trusted.overlay.whiteout", "user.overlay.opaque"]


def relkey(p):
    return () if p == "." else tuple(p.split("/"))


def join(p, name):
    return name if p == "." else p + "/" + name


def parent(p):
    if p == ".":
        return None
    d = os.path.dirname(p)
    return d or "."


def ftype(m):
    return {stat.S_IFREG: "reg", stat.S_IFDIR: "dir", stat.S_IFLNK: "lnk",
            stat.S_IFCHR: "chr", stat.S_IFBLK: "blk", stat.S_IFIFO: "fifo",
            stat.S_IFSOCK: "sock"}.get(stat.S_IFMT(m), "?%o" % stat.S_IFMT(m))


def fmt_value(v):
    if len(v) > 96:
        return "len=%d sha=%s" % (len(v), hashlib.sha256(v).hexdigest()[:16])
    if all(32 <= c < 127 for c in v):
        return "'%s'" % v.decode()
    return "0x" + v.hex()


def _access(path, mode):
    if sysutil.libc.access(os.fsencode(path), mode) == 0:
        return "OK"
    return sysutil.ename(sysutil.ctypes.get_errno())


sysutil.libc.access.argtypes = [sysutil.ctypes.c_char_p, sysutil.ctypes.c_int]
sysutil.libc.access.restype = sysutil.ctypes.c_int


def _segments(fd, size):
    segs = []
    pos = 0
    while pos < size and len(segs) < 64:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == 6:  # ENXIO: no more data
                break
            raise
        h = os.lseek(fd, d, os.SEEK_HOLE)
        segs.append((d, h))
        pos = h
    return segs


def content(full, size):
    """(content, segments, mmap) fields of a regular file."""
    try:
        fd = os.open(full, os.O_RDONLY)
    except OSError as e:
        return "open:" + oserr(e), None, None
    seg_s = None
    mm_s = None
    try:
        h = hashlib.sha256()
        n = 0
        try:
            if size <= FULL_READ_MAX:
                while True:
                    b = os.read(fd, 1 << 20)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
                    if n > FULL_READ_MAX + (1 << 20):
                        break
                c = "%s/%d" % (h.hexdigest()[:20], n)
            else:
                # Hash the non-zero 4 KiB blocks of the data segments with
                # their offsets: independent of how the lower fs allocates.
                segs = _segments(fd, size)
                for s, e in segs:
                    want = min(e - s, SEG_READ_MAX - n)
                    if want <= 0:
                        break
                    b = os.pread(fd, want, s)
                    n += len(b)
                    start = s - s % 4096
                    b = bytes(s - start) + b
                    for o in range(0, len(b), 4096):
                        blk = b[o:o + 4096]
                        if blk.count(0) != len(blk):
                            h.update((start + o).to_bytes(8, "little"))
                            h.update(blk)
                tail = os.pread(fd, 16, size - 8)
                h.update(tail)
                c = "sparse:%s+%d" % (h.hexdigest()[:20], len(tail))
        except OSError as e:
            c = "read:" + oserr(e)
        segs = None
        if size > 0:
            try:
                segs = _segments(fd, size)
                seg_s = " ".join("%d-%d" % s for s in segs[:16]) + (" ..." if len(segs) > 16 else "")
            except OSError as e:
                seg_s = oserr(e)
        # mmap only fully allocated files: a read fault on a tmpfs hole
        # allocates a page, which would change the layer between the dumps.
        if 0 < size <= MMAP_MAX and segs == [(0, size)] and not c.startswith("read:"):
            mm_s = _mmap_check(fd, c)
        return c, seg_s, mm_s
    finally:
        os.close(fd)


def _mmap_check(fd, expect):
    """Read the file through a shared read-only mapping.  The mapping is copied
    by write(2) into a memfd, so that a page beyond the real file's end gives a
    short write or EFAULT instead of killing the tester with SIGBUS."""
    try:
        m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    except OSError as e:
        return "mmap:" + oserr(e)
    except ValueError:
        return "mmap:ValueError"
    mfd = os.memfd_create("rovl-diff-mmap")
    try:
        done = 0
        mv = memoryview(m)
        try:
            while done < len(m):
                n = os.write(mfd, mv[done:])
                if n <= 0:
                    break
                done += n
            err = ""
        except OSError as e:
            err = " " + oserr(e)
        finally:
            mv.release()
        data = os.pread(mfd, done, 0) if done else b""
        got = "%s/%d" % (hashlib.sha256(data).hexdigest()[:20], len(data))
        if got == expect and not err:
            return "same"
        return "differs: %s%s" % (got, err)
    finally:
        os.close(mfd)
        m.close()


def check_small(full, names, rng):
    """Read with a 300-byte buffer, lseek to recorded d_off values, re-read."""
    fd = os.open(full, os.O_RDONLY | os.O_DIRECTORY)
    try:
        seq = []
        while True:
            ch = sysutil.getdents(fd, 300)
            if not ch:
                break
            seq.extend(ch)
            if len(seq) > len(names) + 10:
                break
        got = [e[0] for e in seq]
        if got != names:
            return "small-buffer order %s vs %s" % (_short(got), _short(names))
        for k in sorted(rng.sample(range(len(seq)), min(4, len(seq)))):
            os.lseek(fd, seq[k][3], os.SEEK_SET)
            nxt = [e[0] for e in sysutil.getdents(fd, 300)]
            exp = names[k + 1:k + 1 + len(nxt)]
            if nxt != exp or (not nxt and k + 1 < len(names)):
                return "after lseek(d_off of %r): %s, expected %s" % (
                    names[k], _short(nxt), _short(names[k + 1:k + 4]))
        os.lseek(fd, 0, os.SEEK_SET)
        first = [e[0] for e in sysutil.getdents(fd, 300)]
        if first != names[:len(first)] or (names and not first):
            return "after lseek(0): %s, expected %s" % (_short(first), _short(names[:3]))
        return "ok"
    finally:
        os.close(fd)


def check_seekdir(full, names, rng):
    """libc opendir/readdir/telldir, then seekdir to random positions and replay."""
    d = sysutil.Dir(full)
    try:
        pos, got = [], []
        while True:
            p = d.tell()
            n = d.read()
            if n is None:
                break
            pos.append(p)
            got.append(n)
            if len(got) > len(names) + 10:
                break
        if got != names:
            return "readdir order %s vs getdents %s" % (_short(got), _short(names))
        end = d.tell()
        for k in rng.sample(range(len(got)), min(5, len(got))):
            d.seek(pos[k])
            r = []
            for _ in range(3):
                n = d.read()
                if n is None:
                    break
                r.append(n)
            if r != got[k:k + 3]:
                return "after seekdir(telldir before %r): %s, expected %s" % (
                    got[k], _short(r), _short(got[k:k + 3]))
        d.seek(end)
        n = d.read()
        if n is not None:
            return "after seekdir(end): got %r" % n
        d.rewind()
        n = d.read()
        if names and n != names[0]:
            return "after rewinddir: %r, expected %r" % (n, names[0])
        return "ok"
    finally:
        d.close()


def _short(lst, n=6):
    s = [x.decode(errors="replace") if isinstance(x, bytes) else str(x) for x in lst[:n]]
    return "[" + ", ".join(s) + (", ...(%d)" % len(lst) if len(lst) > n else "") + "]"


class Dump:
    """One mount's dump.  raw data first, then finalize() into comparable fields."""

    def __init__(self, mnt, seed, probes=()):
        self.mnt = mnt
        self.seed = seed
        self.probes = PROBES + [x for x in probes if x not in PROBES]
        self.fields = {}     # path -> {field: value}
        self.st = {}         # path -> os.stat_result
        self.dents = {}      # path -> [(name, d_type, d_ino)]
        self.truncated = False

    def rng_for(self, p):
        return random.Random(zlib.crc32(("%d:%s" % (self.seed, p)).encode()))

    def full(self, p):
        return self.mnt if p == "." else os.path.join(self.mnt, p)

    def walk(self, union):
        """BFS from the root plus every path of any layer (union)."""
        bydepth = {0: {"."}}
        for u in union:
            bydepth.setdefault(len(relkey(u)), set()).add(u)
        depth = 0
        count = 0
        while depth <= max(bydepth):
            for p in sorted(bydepth.get(depth, ()), key=relkey):
                if p in self.fields:
                    continue
                if count >= MAX_PATHS or depth > MAX_DEPTH:
                    self.truncated = True
                    break
                par = parent(p)
                if par is not None:
                    pst = self.st.get(par)
                    if pst is None or not stat.S_ISDIR(pst.st_mode):
                        continue   # not reachable by lookup; parent's fields say why
                count += 1
                for child in self.one(p):
                    bydepth.setdefault(depth + 1, set()).add(child)
            depth += 1

    def one(self, p):
        """Dump one path; returns the names of its directory entries."""
        rec = {}
        self.fields[p] = rec
        full = self.full(p)
        try:
            st = os.lstat(full)
        except OSError as e:
            rec["lstat"] = oserr(e)
            return []
        self.st[p] = st
        rec["type"] = ftype(st.st_mode)
        rec["mode"] = "%04o" % stat.S_IMODE(st.st_mode)
        rec["uid"] = str(st.st_uid)
        rec["gid"] = str(st.st_gid)
        rec["size"] = str(st.st_size)
        rec["nlink"] = str(st.st_nlink)
        rec["blocks"] = str(st.st_blocks)
        rec["blksize"] = str(st.st_blksize)
        rec["mtime"] = str(st.st_mtime_ns)
        rec["ctime"] = str(st.st_ctime_ns)
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            rec["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        children = []
        if stat.S_ISLNK(st.st_mode):
            try:
                rec["readlink"] = repr(os.readlink(full))
            except OSError as e:
                rec["readlink"] = oserr(e)
        elif stat.S_ISREG(st.st_mode):
            c, seg, mm = content(full, st.st_size)
            rec["content"] = c
            if seg is not None:
                rec["segments"] = seg
            if mm is not None:
                rec["mmap"] = mm
        elif stat.S_ISDIR(st.st_mode):
            try:
                ents = sysutil.getdents_all(full)
            except OSError as e:
                rec["dirents"] = "getdents:" + oserr(e)
                ents = None
            if ents is not None:
                self.dents[p] = [(n, t, i) for n, t, i, _ in ents]
                names = [e[0] for e in ents]
                try:
                    rec["getdents_small"] = check_small(full, names, self.rng_for(p))
                except OSError as e:
                    rec["getdents_small"] = oserr(e)
                try:
                    rec["seekdir"] = check_seekdir(full, names, self.rng_for(p))
                except OSError as e:
                    rec["seekdir"] = oserr(e)
                children = sorted(os.fsdecode(n) for n in names if n not in (b".", b".."))
                children = [join(p, n) for n in children]
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
            rec["xattrs"] = " ".join(names)
        except OSError as e:
            names = []
            rec["xattrs"] = oserr(e)
        for n in names + [x for x in self.probes if x not in names]:
            key = ("x:" if n in names else "xp:") + n
            try:
                rec[key] = fmt_value(os.getxattr(full, n, follow_symlinks=False))
            except OSError as e:
                rec[key] = oserr(e)
        return children

    def restat(self):
        out = {}
        for p in sorted(self.fields, key=relkey):
            try:
                st = os.lstat(self.full(p))
                out[p] = (st.st_dev, st.st_ino)
            except OSError as e:
                out[p] = oserr(e)
        return out

    def nonroot(self, uid=1000, gid=1000):
        """The same paths as uid/gid 1000 without supplementary groups (forked child)."""
        paths = sorted(self.fields, key=relkey)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            out = {}
            try:
                os.setgroups([])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
                for p in paths:
                    out[p] = _nonroot_one(self.full(p))
            except BaseException as e:  # noqa: BLE001 - report anything to the parent
                out = {"__error__": "%s: %s" % (type(e).__name__, e)}
            data = json.dumps(out).encode()
            try:
                while data:
                    n = os.write(w, data)
                    data = data[n:]
            finally:
                os._exit(0)
        os.close(w)
        chunks = []
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError("non-root child exited with status %d" % status)
        res = json.loads(b"".join(chunks))
        if "__error__" in res:
            raise RuntimeError("non-root child: " + res["__error__"])
        for p, rec in res.items():
            self.fields[p].update(rec)

    def finalize(self, dc, rem):
        """Turn raw st_dev/st_ino/d_ino into classes; stability; dirents."""
        order = sorted(self.fields, key=relkey)
        cls, devcls = {}, {}
        for p in order:
            st = self.st.get(p)
            if st is not None:
                cls.setdefault((st.st_dev, st.st_ino), p)
                devcls.setdefault(st.st_dev, p)
        cls2 = {}
        if rem is not None:
            for p in order:
                v = rem.get(p)
                if isinstance(v, tuple):
                    cls2.setdefault(v, p)
        try:
            pst = os.lstat(os.path.dirname(self.mnt))
        except OSError:
            pst = None
        for p in order:
            rec = self.fields[p]
            st = self.st.get(p)
            if st is None:
                continue
            rec["ino"] = cls[(st.st_dev, st.st_ino)]
            rec["dev"] = devcls[st.st_dev]
            v = dc.get(p)
            if v == (st.st_dev, st.st_ino):
                rec["stable_dc"] = "yes"
            else:
                rec["stable_dc"] = "no: %s" % (v if isinstance(v, str) else "changed")
            if rem is None:
                rec["stable_remount"] = "no: no remount"
            else:
                v = rem.get(p)
                if not isinstance(v, tuple):
                    rec["stable_remount"] = "no: %s" % v
                elif cls2.get(v) != rec["ino"]:
                    rec["stable_remount"] = "no: class %s" % cls2.get(v)
                elif v[1] != st.st_ino:
                    rec["stable_remount"] = "no: st_ino changed"
                else:
                    rec["stable_remount"] = "yes"
            stable = rec["stable_dc"] == "yes" and rec["stable_remount"] == "yes"
            rec["ino_raw"] = str(st.st_ino) if stable else "unstable"
        # st_ino -> first path, over stable numbers only: a volatile st_ino
        # (overlayfs's own i_ino of directories on layers of several file
        # systems without xino) must not match a d_ino by chance.
        inofirst = {}
        for p in order:
            st = self.st.get(p)
            if st is not None and self.fields[p].get("ino_raw") != "unstable":
                inofirst.setdefault(st.st_ino, p)
        for p in order:
            rec = self.fields[p]
            st = self.st.get(p)
            if st is None or p not in self.dents:
                continue
            lst = []
            for name, dt, dino in self.dents[p]:
                n = os.fsdecode(name)
                if n == ".":
                    tp = p
                elif n == "..":
                    tp = parent(p) if p != "." else None
                else:
                    tp = join(p, n)
                tst = self.st.get(tp) if tp is not None else pst
                if tp is not None and self.fields.get(tp, {}).get("ino_raw") == "unstable":
                    rel = "u"      # relation to a volatile st_ino: not comparable
                elif tst is not None and tst.st_ino == dino:
                    rel = "="
                elif dino in inofirst:
                    rel = "~" + inofirst[dino]
                else:
                    rel = "?"
                lst.append([n, DT.get(dt, str(dt)), rel])
            rec["dirents"] = lst
        return self.fields


def _nonroot_one(full):
    rec = {}
    try:
        st = os.lstat(full)
        rec["nr_lstat"] = "OK"
    except OSError as e:
        rec["nr_lstat"] = oserr(e)
        return rec
    rec["nr_access"] = "R:%s W:%s X:%s" % (_access(full, os.R_OK), _access(full, os.W_OK),
                                          _access(full, os.X_OK))
    if stat.S_ISREG(st.st_mode):
        try:
            fd = os.open(full, os.O_RDONLY)
            try:
                b = os.read(fd, NR_READ_MAX)
                rec["nr_read"] = "%s/%d" % (hashlib.sha256(b).hexdigest()[:20], len(b))
            except OSError as e:
                rec["nr_read"] = "read:" + oserr(e)
            finally:
                os.close(fd)
        except OSError as e:
            rec["nr_read"] = "open:" + oserr(e)
    elif stat.S_ISDIR(st.st_mode):
        try:
            names = sorted(os.listdir(full))
            rec["nr_list"] = "%d names crc=%08x" % (
                len(names), zlib.crc32("/".join(names).encode(errors="surrogateescape")))
        except OSError as e:
            rec["nr_list"] = oserr(e)
    elif stat.S_ISLNK(st.st_mode):
        try:
            rec["nr_readlink"] = repr(os.readlink(full))
        except OSError as e:
            rec["nr_readlink"] = oserr(e)
    try:
        rec["nr_xattrs"] = " ".join(sorted(os.listxattr(full, follow_symlinks=False)))
    except OSError as e:
        rec["nr_xattrs"] = oserr(e)
    return rec


# ------------------------------------------------- on-disk state of a layer
def disk_state(root):
    """What a mount could change in a directory tree on disk (the upper layer
    or the work dir): per path ('.' is root) type, mode, owner, size, nlink,
    rdev, symlink target, inode number, mtime, ctime and every xattr.  Not
    atime (reads update it) and not file data (a read-only mount does not
    write it; size and mtime would show it)."""
    out = {}
    for rel in ["."] + sorted(_scan(root), key=relkey):
        full = root if rel == "." else os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError as e:
            out[rel] = {"lstat": oserr(e)}
            continue
        r = {"type": ftype(st.st_mode), "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "owner": "%d:%d" % (st.st_uid, st.st_gid), "size": str(st.st_size),
             "nlink": str(st.st_nlink),
             # inode identity: number and birth time (ext4 reuses numbers)
             "ino": "%d/%s" % (st.st_ino, sysutil.btime_ns(full)),
             "mtime": str(st.st_mtime_ns), "ctime": str(st.st_ctime_ns)}
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            r["rdev"] = "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        if stat.S_ISLNK(st.st_mode):
            try:
                r["readlink"] = repr(os.readlink(full))
            except OSError as e:
                r["readlink"] = oserr(e)
        xs = {}
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError as e:
            names = []
            r["listxattr"] = oserr(e)
        for n in names:
            try:
                xs[n] = os.getxattr(full, n, follow_symlinks=False).hex()
            except OSError as e:
                xs[n] = oserr(e)
        r["xattrs"] = xs
        out[rel] = r
    return out


def _scan(root):
    import gen
    return gen.scan(root)


# Fields whose value is not comparable between two mounts: only whether
# the mount changed it.
_CHANGED_ONLY = ("ino", "mtime", "ctime")


def _xval(name, hexv, new):
    """A value of an xattr in a change description; a new overlay.uuid is
    random (only its length is comparable)."""
    if hexv.startswith("E") and not all(c in "0123456789abcdef" for c in hexv):
        return hexv                          # errno of getxattr
    v = bytes.fromhex(hexv)
    if new and name.endswith(".overlay.uuid") and not name.endswith(
            ".overlay.overlay.uuid") and len(v) == 16:
        return "(a new 16-byte uuid)"
    return fmt_value(v)


def disk_delta(pre, post):
    """{(path, field): description} of the changes from pre to post."""
    out = {}
    for p in sorted(set(pre) | set(post), key=relkey):
        a, b = pre.get(p), post.get(p)
        if a is None:
            out[(p, "(path)")] = "created %s" % b.get("type", b.get("lstat"))
            continue
        if b is None:
            out[(p, "(path)")] = "removed %s" % a.get("type", a.get("lstat"))
            continue
        for f in sorted((set(a) | set(b)) - {"xattrs"}):
            va, vb = a.get(f, "(none)"), b.get(f, "(none)")
            if va != vb:
                out[(p, f)] = "changed" if f in _CHANGED_ONLY else "%s -> %s" % (va, vb)
        xa, xb = a.get("xattrs", {}), b.get("xattrs", {})
        for n in sorted(set(xa) | set(xb)):
            if n not in xb:
                out[(p, "x:" + n)] = "removed (was %s)" % _xval(n, xa[n], False)
            elif n not in xa:
                out[(p, "x:" + n)] = "set to %s" % _xval(n, xb[n], True)
            elif xa[n] != xb[n]:
                out[(p, "x:" + n)] = "changed %s -> %s" % (_xval(n, xa[n], False),
                                                         _xval(n, xb[n], True))
    return out


def compare_disk(what, da, db):
    """Differences between two disk_delta()s: [(path, field, a, b)]; path is
    '(WHAT) PATH'."""
    out = []
    for k in sorted(set(da) | set(db), key=lambda k: (relkey(k[0]), k[1])):
        va, vb = da.get(k, "unchanged"), db.get(k, "unchanged")
        if va != vb:
            out.append(("(%s) %s" % (what, k[0]), k[1], va, vb))
    return out


# ---------------------------------------------------------------- compare
# Fields where an unstable oracle value means "not comparable".
_STABILITY = ("ino_raw", "stable_dc", "stable_remount")


def _unstable(v):
    return v == "unstable" or (isinstance(v, str) and v.startswith("no"))


def compare(a, b):
    """Differences between two dumps: list of (path, field, a-value, b-value)."""
    out = []
    if a["mount"] != b["mount"]:
        def why(d):
            log = d.get("mount_log")
            return d["mount"] + (" (%s)" % " / ".join(log) if log else "")
        return [("(mount)", "mount", why(a), why(b))]
    for key in ("mountopts", "statvfs", "remount", "truncated", "nonroot",
                "fsid", "fsuuid", "statfs_src", "fsid_remount", "fsuuid_remount"):
        if key in a and key in b and a[key] != b[key]:
            out.append(("(mount)", key, a[key], b[key]))
    if a["mount"] != "OK":
        return out
    pa, pb = a["paths"], b["paths"]
    for p in sorted(set(pa) | set(pb), key=relkey):
        ra, rb = pa.get(p), pb.get(p)
        if ra is None or rb is None:
            out.append((p, "(path)", _summary(ra), _summary(rb)))
            continue
        if ra.get("lstat") != rb.get("lstat"):
            # one side failed lstat: one line, not one per field
            out.append((p, "lstat", _summary(ra), _summary(rb)))
            continue
        for f in sorted(set(ra) | set(rb)):
            va, vb = ra.get(f, "(none)"), rb.get(f, "(none)")
            if va == vb:
                continue
            if f in _STABILITY and _unstable(va):
                continue
            if f == "dirents" and isinstance(va, list) and isinstance(vb, list):
                out.extend(_cmp_dirents(p, va, vb))
                continue
            out.append((p, f, va, vb))
    return out


def _summary(r):
    if r is None:
        return "(absent)"
    if "lstat" in r:
        return r["lstat"]
    return "OK (%s %s)" % (r.get("type"), r.get("mode"))


def _cmp_dirents(p, va, vb):
    out = []
    da = {e[0]: e for e in va}
    db = {e[0]: e for e in vb}
    if len(da) != len(va) or len(db) != len(vb):
        out.append((p, "dirents(duplicates)", "%d/%d" % (len(va), len(da)),
                    "%d/%d" % (len(vb), len(db))))
    for n in sorted(set(da) | set(db)):
        ea, eb = da.get(n), db.get(n)
        if ea is not None and eb is not None and ea[2] == "u" and ea[:2] == eb[:2]:
            continue      # the oracle's d_ino relation is not stable
        if ea != eb:
            out.append((p, "dirent %r" % n, " ".join(da.get(n, ["(absent)"])[1:]) or "(absent)",
                        " ".join(db.get(n, ["(absent)"])[1:]) or "(absent)"))
    if not out and [e[0] for e in va] != [e[0] for e in vb]:
        out.append((p, "dirents(order)", _short(va, 8), _short(vb, 8)))
    return out

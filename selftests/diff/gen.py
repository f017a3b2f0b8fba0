# SPDX-License-Identifier: GPL-2.0
"""Seeded generator of overlayfs layer stacks, built by the in-kernel overlayfs.

Given a seed, Stack.build() creates, under a work directory:
  * a base layer L0 written directly (files, dirs, symlinks, hard links, FIFOs,
    char devices, sparse files, user./trusted. xattrs, owners, modes, ACLs);
  * rounds 1..R: the in-kernel overlayfs is mounted with lowerdir=L(r-1):...:L0,
    upperdir=Lr and a random option set (redirect_dir=on, metacopy=on,
    index=on|off, xino=on|auto|off, sometimes uuid=..., or userxattr), a random
    sequence of operations runs on it, it is unmounted, and Lr becomes the top
    lower layer of the next round.  So the layers hold whiteouts, opaque
    directories, redirects, metacopy files, origins, escaped xattrs written by
    overlayfs itself;
  * optionally data-only layers with hand-written metacopy files carrying
    absolute redirects into them, xattr-whiteouts in opaque=x directories,
    and deliberate corruption of overlay xattrs (see corrupt.py).
Layers live on the /tmp tmpfs, and optionally on a private tmpfs and on
ext4/xfs loop images.  Everything that is random comes from random.Random(seed),
so a seed always builds the same stack (inode numbers aside).
"""
import errno
import os
import random
import stat
import subprocess

import corrupt
import sysutil
from sysutil import oserr

NAMES = ["a", "b", "c", "d", "e", "f", "dir", "sub", "x1", "x2", "file", "g"]
ODD_NAMES = ["with space", "\u00fcn\u00efc\u00f6de", "L" * 255, ".hidden",
             "a:b", "a,b", "-dash", "#hash", "x" * 100]
UIDS = [0, 0, 0, 1000, 2000, 65534]
MODES_F = [0o644, 0o644, 0o600, 0o640, 0o755, 0o444, 0o000, 0o4755, 0o2750, 0o604, 0o660]
MODES_D = [0o755, 0o755, 0o755, 0o700, 0o750, 0o711, 0o1777, 0o2775, 0o555, 0o705]


class GenError(Exception):
    """The oracle could not build the stack: an internal error of the tester."""


def scan(root):
    """rel path -> kind ('d','f','l','o') of everything under root, without
    following symlinks.  d_type only (os.scandir): under TCG with KASAN an
    lstat costs milliseconds."""
    out = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            it = os.scandir(os.path.join(root, rel) if rel else root)
        except OSError:
            continue
        with it:
            while True:
                try:
                    e = next(it)
                except StopIteration:
                    break
                except OSError:      # readdir itself failed (EIO, EPERM...)
                    break
                r = rel + "/" + e.name if rel else e.name
                try:
                    if e.is_symlink():
                        k = "l"
                    elif e.is_dir(follow_symlinks=False):
                        k = "d"
                    elif e.is_file(follow_symlinks=False):
                        k = "f"
                    else:
                        k = "o"
                except OSError:
                    continue
                out[r] = k
                if k == "d":
                    stack.append(r)
    return out


class FsHost:
    """A file system that hosts layers: the /tmp tmpfs, a private tmpfs or a loop image."""

    def __init__(self, kind, path, log):
        self.kind = kind
        self.path = path
        self.mounted = False
        os.makedirs(path, mode=0o755, exist_ok=True)
        os.chmod(path, 0o755)
        if kind == "tmpfs":
            sysutil.mount("tmpfs", path, "tmpfs", 0, "size=1g,mode=0755")
            self.mounted = True
        elif kind in ("ext4", "xfs"):
            img = path + ".img"
            size = 160 << 20 if kind == "ext4" else 320 << 20
            with open(img, "wb") as f:
                f.truncate(size)
            if kind == "ext4":
                cmd = ["mkfs.ext4", "-q", "-F", "-I", "256", img]
            else:
                cmd = ["mkfs.xfs", "-q", "-f", img]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                raise GenError("%s failed (%d): %s" % (" ".join(cmd), r.returncode,
                                                     r.stdout.decode(errors="replace")))
            r = subprocess.run(["mount", "-t", kind, "-o", "loop", img, path],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                raise GenError("mount -o loop %s failed (%d): %s" % (
                    img, r.returncode, r.stdout.decode(errors="replace")))
            self.mounted = True
            os.chmod(path, 0o755)
        log("fs %s at %s" % (kind, path))

    def mkdir(self, name):
        p = os.path.join(self.path, name)
        os.mkdir(p, 0o755)
        os.chmod(p, 0o755)
        return p


class Stack:
    """One seeded stack.  After build(): layers (top first), datalayers, variants."""

    def __init__(self, seed, workdir, log):
        self.seed = seed
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.log = log
        self.mounts = []         # everything we mounted, to unmount in reverse
        self.fs = []
        self.layers = []         # normal lower layers, top first
        self.datalayers = []     # data-only layers, in order
        self.prefix = "trusted.overlay."
        self.profile = {}
        self.variants = []
        self.scans = {}          # layer -> scan(), for the dumps (after build)
        self.empty = None        # empty layer of the "single" variant
        self.mnt = os.path.join(workdir, "mnt")
        self.upper_work = None   # work dir of the last round (for the upper variant)
        # Choices of the upper variant come from their own generator, so that
        # adding it did not change the stacks (and variants) of any seed.
        self.urng = random.Random("rovl-diff-upper:%d" % seed)

    # ------------------------------------------------------------- profile
    def plan(self):
        rng = self.rng
        p = {}
        p["rounds"] = rng.choice([2, 2, 3, 3, 3, 4])
        p["userxattr"] = rng.random() < 0.08
        extra = rng.random()
        if extra < 0.70:
            kinds = []
        elif extra < 0.82:
            kinds = ["tmpfs"]
        elif extra < 0.88:
            kinds = ["ext4"]
        elif extra < 0.92:
            # two ext4 file systems: 32-bit inode numbers, so xino uses 32
            # bits (only if no layer is on the tmpfs, which has its own
            # file handles: see below)
            kinds = ["ext4", "ext4"]
        else:
            kinds = ["xfs"]
        p["fs"] = ["tmp"] + kinds
        # which fs hosts each layer: index 0 = L0 (base), r = upper of round r
        p["layer_fs"] = [rng.randrange(len(p["fs"])) for _ in range(p["rounds"] + 1)]
        if kinds == ["ext4", "ext4"]:
            p["layer_fs"] = [1 + i % 2 for i in p["layer_fs"]]
        rounds = []
        for _ in range(p["rounds"]):
            o = {"index": rng.choice(["on", "on", "off"]),
                 "xino": rng.choice(["on", "auto", "off"]),
                 "ops": rng.randint(30, 90)}
            if rng.random() < 0.15:
                o["uuid"] = rng.choice(["on", "null", "off"])
            if not p["userxattr"]:
                o["metacopy"] = "on" if rng.random() < 0.9 else "off"
            rounds.append(o)
        p["round_opts"] = rounds
        p["acl"] = rng.random() < 0.6
        p["datalayers"] = rng.choice([0, 0, 0, 1, 1, 2])
        p["datafs"] = rng.randrange(len(p["fs"]))
        p["xwhiteouts"] = rng.random() < 0.3
        p["corrupt"] = rng.random() < 0.3
        p["mount_api"] = "fsconfig" if rng.random() < 0.3 else "legacy"
        prim = {"xino": rng.choice(["on", "auto", "off"])}
        if p["userxattr"]:
            prim["userxattr"] = True
        else:
            prim["redirect_dir"] = rng.choice(["on", "follow"])
            prim["metacopy"] = "on"
        if rng.random() < 0.3:
            prim["index"] = rng.choice(["on", "off"])
        variants = [("main", prim, None)]
        r = rng.random()
        if r < 0.15:
            alt = {"xino": rng.choice(["on", "auto", "off"]),
                   "redirect_dir": rng.choice(["nofollow", "off", "follow"]),
                   "metacopy": rng.choice(["on", "off"])}
            if p["userxattr"]:
                alt = {"xino": alt["xino"], "userxattr": True}
            variants.append(("opts2", alt, None))
        elif r < 0.3:
            variants.append(("partial", dict(prim), rng.randint(2, p["rounds"])))
        self.plan_upper(p, prim, variants)
        p["variants"] = variants
        self.profile = p
        self.prefix = "user.overlay." if p["userxattr"] else "trusted.overlay."
        return p

    def plan_upper(self, p, prim, variants):
        """The upper variant (about half of the seeds): the top layer, written
        by the last round's overlayfs, is mounted as upperdir= (with the
        round's work dir) over the other layers, read-only and with index=off
        (rovl supports nothing else with an upper layer), after the
        lower-only variants.  Options as the main variant's, with
        redirect_dir=on (redirect_dir=follow conflicts with metacopy=on when
        there is an upper layer), sometimes metacopy=off with
        redirect_dir=follow/nofollow/off, sometimes uuid=...; sometimes the
        upper layer loses overlay.uuid on its root (as if written by an older
        kernel), overlay.impure on its root (uuid=auto then makes a new uuid)
        or overlay.origin on some merge directories (overlayfs writes it back
        on lookup)."""
        urng = self.urng
        if urng.random() >= 0.5:
            p["upper"] = None
            return
        uo = {"upper": True, "index": "off", "xino": prim["xino"]}
        if p["userxattr"]:
            uo["userxattr"] = True
        elif urng.random() < 0.8 or p["datalayers"]:
            uo["redirect_dir"] = "on"
            uo["metacopy"] = "on"
        else:
            uo["redirect_dir"] = urng.choice(["follow", "nofollow", "off"])
            uo["metacopy"] = "off"
        if urng.random() < 0.4:
            uo["uuid"] = urng.choice(["on", "null", "off", "auto"])
        p["upper"] = {"opts": uo,
                      "drop_uuid": urng.random() < 0.3,
                      "drop_root_impure": urng.random() < 0.2,
                      "drop_origin": urng.random() < 0.25}
        variants.append(("upper", uo, None))

    def prepare_upper(self):
        """Hand-made changes of the upper layer (profile["upper"]), made just
        before the upper variant (the lower-only variants see the layer as
        the round left it).  Returns a description."""
        u = self.profile["upper"]
        top = self.layers[0]
        done = []
        if u["drop_uuid"]:
            if self.try_("upper: removexattr " + self.prefix + "uuid", os.removexattr,
                         top, self.prefix + "uuid"):
                done.append("root uuid removed")
        if u["drop_root_impure"]:
            if self.try_("upper: removexattr " + self.prefix + "impure", os.removexattr,
                         top, self.prefix + "impure"):
                done.append("root impure removed")
        if u["drop_origin"]:
            cands = []
            for rel, k in sorted(scan(top).items()):
                if k != "d":
                    continue
                try:
                    os.getxattr(os.path.join(top, rel), self.prefix + "origin",
                                follow_symlinks=False)
                    cands.append(rel)
                except OSError:
                    pass
            for rel in self.urng.sample(cands, min(len(cands), self.urng.randint(1, 3))):
                if self.try_("upper: removexattr " + self.prefix + "origin", os.removexattr,
                             os.path.join(top, rel), self.prefix + "origin"):
                    done.append("origin of %s removed" % rel)
        return "; ".join(done) or "none"

    def describe(self):
        p = self.profile
        feats = []
        if p["userxattr"]:
            feats.append("userxattr")
        if p["datalayers"]:
            feats.append("data-only=%d" % p["datalayers"])
        if p["xwhiteouts"]:
            feats.append("xwhiteouts")
        if p["corrupt"]:
            feats.append("corrupt")
        if p["acl"]:
            feats.append("acl")
        if p["mount_api"] != "legacy":
            feats.append(p["mount_api"])
        u = p.get("upper")
        if u:
            uo = u["opts"]
            extra = [k for k in ("drop_uuid", "drop_root_impure", "drop_origin") if u[k]]
            feats.append("upper=yes(%s%s)" % (
                ",".join("%s=%s" % (k, uo[k]) for k in ("redirect_dir", "metacopy", "uuid")
                         if k in uo) or "userxattr", "".join("," + e for e in extra)))
        else:
            feats.append("upper=no")
        fs = ",".join(p["fs"][i] for i in p["layer_fs"])
        return "rounds=%d layers-on=%s %s" % (p["rounds"], fs, " ".join(feats))

    # ------------------------------------------------------------ building
    def build(self):
        self.plan()
        p = self.profile
        os.makedirs(self.mnt, 0o755, exist_ok=True)
        for i, kind in enumerate(p["fs"]):
            if kind == "tmp":
                fs = FsHost(kind, os.path.join(self.workdir, "fs0"), self.log)
            else:
                fs = FsHost(kind, os.path.join(self.workdir, "fs%d" % i), self.log)
                self.mounts.append(fs.path)
            self.fs.append(fs)
        base = self.fs[p["layer_fs"][0]].mkdir("L0")
        self.make_base(base)
        stack = [base]
        for r in range(1, p["rounds"] + 1):
            fs = self.fs[p["layer_fs"][r]]
            upper = fs.mkdir("L%d" % r)
            work = fs.mkdir("W%d" % r)
            self.round(r, list(reversed(stack)), upper, work, p["round_opts"][r - 1])
            stack.append(upper)
            self.upper_work = work
        self.layers = list(reversed(stack))
        if p["xwhiteouts"]:
            self.make_xwhiteouts()
        if p["datalayers"]:
            self.make_datalayers()
        if p["corrupt"]:
            corrupt.corrupt(self)

    # Base layer: written directly, not through overlayfs.
    def make_base(self, root):
        rng = self.rng
        os.chmod(root, 0o755)
        dirs = [""]
        for _ in range(rng.randint(5, 14)):
            parent = rng.choice(dirs)
            if parent.count("/") >= 3:
                continue
            name = self.pick_name()
            rel = os.path.join(parent, name) if parent else name
            try:
                os.mkdir(os.path.join(root, rel), rng.choice(MODES_D))
                dirs.append(rel)
            except OSError:
                pass
        files = []
        for d in dirs:
            for _ in range(rng.randint(1, 8)):
                name = self.pick_name()
                rel = os.path.join(d, name) if d else name
                full = os.path.join(root, rel)
                if os.path.lexists(full):
                    continue
                k = rng.random()
                try:
                    if k < 0.55:
                        self.write_file(full, create=True)
                        files.append(rel)
                    elif k < 0.7:
                        os.symlink(self.symlink_target(rel), full)
                    elif k < 0.78 and files:
                        os.link(os.path.join(root, rng.choice(files)), full)
                    elif k < 0.85:
                        os.mkfifo(full, 0o644)
                    elif k < 0.9:
                        os.mknod(full, 0o644 | stat.S_IFCHR, os.makedev(1, rng.choice([3, 5, 7])))
                    else:
                        with open(full, "wb") as f:
                            f.truncate(rng.choice([1 << 20, 64 << 20, 5 << 30]))
                            f.seek(rng.randrange(1 << 20))
                            f.write(rng.randbytes(rng.randint(1, 9000)))
                        files.append(rel)
                except OSError as e:
                    self.log("base %s: %s" % (rel, oserr(e)))
        ents = sorted(scan(root).items())
        for rel, k in ents:
            full = os.path.join(root, rel)
            if k == "l":
                if rng.random() < 0.1:
                    self.try_("base lchown", os.lchown, full, rng.choice(UIDS), rng.choice(UIDS))
                continue
            if rng.random() < 0.3:
                self.try_("base chown", os.chown, full, rng.choice(UIDS), rng.choice(UIDS))
            if rng.random() < 0.3:
                self.try_("base chmod", os.chmod, full,
                          rng.choice(MODES_D if k == "d" else MODES_F))
            if rng.random() < 0.3:
                self.set_random_xattr(full, raw=True)
        if self.profile["acl"]:
            for rel, k in ents:
                if k in ("d", "f") and rng.random() < 0.3:
                    self.set_acl(os.path.join(root, rel), k == "d")

    # ------------------------------------------------------------- helpers
    def try_(self, what, fn, *args, **kw):
        try:
            fn(*args, **kw)
            self.log("%s %s: OK" % (what, " ".join(str(a) for a in args[:1])))
            return True
        except OSError as e:
            self.log("%s %s: %s" % (what, " ".join(str(a) for a in args[:1]), oserr(e)))
            return False

    def pick_name(self):
        if self.rng.random() < 0.07:
            return self.rng.choice(ODD_NAMES)
        return self.rng.choice(NAMES)

    def symlink_target(self, rel):
        rng = self.rng
        k = rng.random()
        if k < 0.4:
            return rng.choice(NAMES)
        if k < 0.6:
            return "../" + rng.choice(NAMES)
        if k < 0.7:
            return "/nonexistent/" + rng.choice(NAMES)
        if k < 0.8:
            return "t" * rng.randint(100, 1000)
        if k < 0.9:
            return "/dev/null"
        return "."

    def content_size(self):
        k = self.rng.random()
        if k < 0.15:
            return 0
        if k < 0.6:
            return self.rng.randint(1, 300)
        if k < 0.85:
            return self.rng.randint(301, 20000)
        if k < 0.97:
            return self.rng.randint(20001, 200000)
        return self.rng.randint(200001, 1500000)

    def write_file(self, full, create=False):
        rng = self.rng
        n = self.content_size()
        # O_NONBLOCK: never block on a FIFO that happens to have the name
        flags = os.O_WRONLY | os.O_NONBLOCK | (os.O_CREAT | os.O_TRUNC if create else 0)
        fd = os.open(full, flags, rng.choice(MODES_F) if create else 0o644)
        try:
            if create or rng.random() < 0.5:
                os.write(fd, rng.randbytes(n))
            else:
                off = rng.choice([0, rng.randrange(70000), 1 << 20, rng.randrange(1 << 33)])
                os.pwrite(fd, rng.randbytes(min(n, 20000) or 1), off)
        finally:
            os.close(fd)

    def xattr_name(self):
        rng = self.rng
        k = rng.random()
        if k < 0.45:
            return "user." + rng.choice(["foo", "bar", "comment", "mime_type"])
        if k < 0.85:
            return "trusted." + rng.choice(["foo", "bar", "x"])
        if k < 0.92:
            return self.prefix + rng.choice(["foo", "redirect", "opaque", "whiteout", "metacopy"])
        return self.prefix + "overlay." + rng.choice(["foo", "opaque"])

    def xattr_value(self):
        rng = self.rng
        k = rng.random()
        if k < 0.1:
            return b""
        if k < 0.7:
            return ("v%d" % rng.randrange(1000)).encode()
        if k < 0.9:
            return rng.randbytes(rng.randint(1, 64))
        return rng.randbytes(rng.randint(1000, 4000))

    def set_random_xattr(self, full, raw=False):
        name = self.xattr_name()
        if raw and name.startswith(self.prefix):
            # Written directly on a layer this would be an overlay xattr;
            # write it escaped (what overlayfs writes for it).
            name = self.prefix + "overlay." + name[len(self.prefix):]
        return self.try_("setxattr " + name, os.setxattr, full, name,
                         self.xattr_value(), 0, follow_symlinks=False)

    def set_acl(self, full, is_dir):
        rng = self.rng
        s = os.lstat(full)
        m = s.st_mode
        who = rng.choice([1000, 1000, 2000])
        kind = rng.choice(["deny", "grant", "group", "grant"])
        uo, go, ot = (m >> 6) & 7, (m >> 3) & 7, m & 7
        ents = [(sysutil.ACL_USER_OBJ, uo, None), (sysutil.ACL_OTHER, ot, None)]
        if kind == "deny":
            ents += [(sysutil.ACL_USER, 0, who), (sysutil.ACL_GROUP_OBJ, go, None),
                     (sysutil.ACL_MASK, 7, None)]
        elif kind == "grant":
            ents += [(sysutil.ACL_USER, 5 if is_dir else rng.choice([4, 6]), who),
                     (sysutil.ACL_GROUP_OBJ, go, None),
                     (sysutil.ACL_MASK, rng.choice([7, 5, 4]), None)]
        else:
            ents += [(sysutil.ACL_GROUP, 5 if is_dir else 4, who),
                     (sysutil.ACL_GROUP_OBJ, go, None), (sysutil.ACL_MASK, 7, None)]
        ok = self.try_("setfacl %s %d" % (kind, who), os.setxattr, full,
                       "system.posix_acl_access", sysutil.acl_xattr(ents), 0,
                       follow_symlinks=False)
        if is_dir and rng.random() < 0.3:
            dents = [(sysutil.ACL_USER_OBJ, 7, None), (sysutil.ACL_GROUP_OBJ, 5, None),
                     (sysutil.ACL_USER, rng.choice([0, 5, 7]), who),
                     (sysutil.ACL_MASK, 7, None), (sysutil.ACL_OTHER, 5, None)]
            self.try_("setfacl default", os.setxattr, full, "system.posix_acl_default",
                      sysutil.acl_xattr(dents), 0, follow_symlinks=False)
        return ok

    # ------------------------------------------------------------- rounds
    def round_options(self, lowers, upper, work, o):
        opts = ["lowerdir=" + ":".join(lowers), "upperdir=" + upper, "workdir=" + work]
        if self.profile["userxattr"]:
            opts.append("userxattr")
        else:
            opts.append("redirect_dir=on")
            opts.append("metacopy=" + o.get("metacopy", "on"))
        opts.append("index=" + o["index"])
        opts.append("xino=" + o["xino"])
        if "uuid" in o:
            opts.append("uuid=" + o["uuid"])
        return opts

    def round(self, r, lowers, upper, work, o):
        opts = self.round_options(lowers, upper, work, o)
        data = ",".join(opts)
        try:
            sysutil.mount("overlay", self.mnt, "overlay", 0, data)
        except OSError as e:
            # Deterministic fallback: the safest options.
            self.log("round %d: mount -o %s: %s; retrying with index=off,xino=off"
                     % (r, data, oserr(e)))
            o = dict(o, index="off", xino="off")
            o.pop("uuid", None)
            opts = self.round_options(lowers, upper, work, o)
            data = ",".join(opts)
            try:
                sysutil.mount("overlay", self.mnt, "overlay", 0, data)
            except OSError as e2:
                raise GenError("round %d: in-kernel overlay refused -o %s: %s"
                               % (r, data, oserr(e2)))
        self.log("round %d: mounted overlay -o %s" % (r, data))
        try:
            self.run_ops(r, o["ops"])
        finally:
            try:
                sysutil.umount(self.mnt)
            except OSError as e:
                raise GenError("round %d: umount: %s" % (r, oserr(e)))

    def run_ops(self, r, nops):
        rng = self.rng
        m = self.mnt
        ops = [(self.op_create, 14), (self.op_write, 8), (self.op_truncate, 4),
               (self.op_mkdir, 7), (self.op_unlink, 6), (self.op_rmdir, 3),
               (self.op_rmtree, 1), (self.op_rename_file, 7), (self.op_rename_dir, 6),
               (self.op_exchange, 1), (self.op_chmod, 6), (self.op_chown, 4),
               (self.op_utime, 2), (self.op_link, 4), (self.op_symlink, 3),
               (self.op_setxattr, 5), (self.op_removexattr, 2), (self.op_mknod, 3),
               (self.op_acl, 3 if self.profile["acl"] else 0)]
        total = sum(w for _, w in ops)
        ents = None
        for i in range(nops):
            if i % 10 == 0:
                ents = sorted(scan(m).items())
            x = rng.randrange(total)
            for fn, w in ops:
                if x < w:
                    break
                x -= w
            try:
                fn(m, ents)
            except OSError as e:
                self.log("  op %s: %s" % (fn.__name__, oserr(e)))
                continue

    def pick(self, ents, kinds):
        c = [rel for rel, k in ents if k in kinds]
        return self.rng.choice(c) if c else None

    def pick_dir(self, ents):
        c = [""] + [rel for rel, k in ents if k == "d"]
        return self.rng.choice(c)

    def new_path(self, ents):
        d = self.pick_dir(ents)
        n = self.pick_name()
        return os.path.join(d, n) if d else n

    def op(self, name, fn, *args, **kw):
        try:
            fn(*args, **kw)
            res = "OK"
        except OSError as e:
            res = oserr(e)
        shown = [os.path.relpath(a, self.mnt) if isinstance(a, str) and a.startswith(self.mnt)
                 else str(a) for a in args]
        self.log("  %s %s -> %s" % (name, " ".join(shown), res))
        return res == "OK"

    def op_create(self, m, ents):
        rel = self.new_path(ents)
        full = os.path.join(m, rel)
        self.op("create", self.write_file, full, True)

    def op_write(self, m, ents):
        rel = self.pick(ents, "f")
        if rel:
            self.op("write", self.write_file, os.path.join(m, rel))

    def op_truncate(self, m, ents):
        rel = self.pick(ents, "f")
        if rel:
            size = self.rng.choice([0, 1, 4095, 100000, 3 << 20, 64 << 20, 1 << 32])
            self.op("truncate", os.truncate, os.path.join(m, rel), size)

    def op_mkdir(self, m, ents):
        rel = self.new_path(ents)
        self.op("mkdir", os.mkdir, os.path.join(m, rel), self.rng.choice(MODES_D))

    def op_unlink(self, m, ents):
        rel = self.pick(ents, "flo")
        if rel:
            self.op("unlink", os.unlink, os.path.join(m, rel))

    def op_rmdir(self, m, ents):
        rel = self.pick(ents, "d")
        if rel:
            self.op("rmdir", os.rmdir, os.path.join(m, rel))

    def op_rmtree(self, m, ents):
        """Remove a whole tree (whiteouts of every lower entry); maybe recreate
        it, which makes an opaque directory."""
        rel = self.pick(ents, "d")
        if not rel:
            return
        full = os.path.join(m, rel)
        sub = sorted(scan(full).items(), key=lambda x: -x[0].count("/"))
        for r2, k in sorted(sub, key=lambda x: (-x[0].count("/"), x[0])):
            p = os.path.join(full, r2)
            try:
                if k == "d":
                    os.rmdir(p)
                else:
                    os.unlink(p)
            except OSError:
                pass
        ok = self.op("rmtree", os.rmdir, full)
        if ok and self.rng.random() < 0.6:
            self.op("mkdir-opaque", os.mkdir, full, 0o755)
            if self.rng.random() < 0.5:
                self.op("create", self.write_file, os.path.join(full, self.pick_name()), True)

    def op_rename_file(self, m, ents):
        src = self.pick(ents, "flo")
        if not src:
            return
        if self.rng.random() < 0.4:
            dst = self.pick(ents, "flo") or self.new_path(ents)
        else:
            dst = self.new_path(ents)
        self.op("rename", os.rename, os.path.join(m, src), os.path.join(m, dst))

    def op_rename_dir(self, m, ents):
        src = self.pick(ents, "d")
        if not src:
            return
        if self.rng.random() < 0.5:
            dst = os.path.join(os.path.dirname(src), self.pick_name())  # relative redirect
        else:
            dst = self.new_path(ents)                                  # absolute redirect
        self.op("rename-dir", os.rename, os.path.join(m, src), os.path.join(m, dst))

    def op_exchange(self, m, ents):
        a, b = self.pick(ents, "fdl"), self.pick(ents, "fdl")
        if a and b:
            self.op("exchange", sysutil.renameat2, os.path.join(m, a), os.path.join(m, b),
                    sysutil.RENAME_EXCHANGE)

    def op_chmod(self, m, ents):
        rel = self.pick(ents, "fdo")
        if rel:
            k = dict(ents)[rel]
            self.op("chmod", os.chmod, os.path.join(m, rel),
                    self.rng.choice(MODES_D if k == "d" else MODES_F))

    def op_chown(self, m, ents):
        rel = self.pick(ents, "fdlo")
        if rel:
            self.op("chown", os.chown, os.path.join(m, rel), self.rng.choice(UIDS),
                    self.rng.choice(UIDS), follow_symlinks=False)

    def op_utime(self, m, ents):
        rel = self.pick(ents, "fd")
        if rel:
            t = self.rng.randrange(1 << 31)
            self.op("utime", os.utime, os.path.join(m, rel), ns=(t * 10**9, t * 10**9 + 7))

    def op_link(self, m, ents):
        src = self.pick(ents, "f")
        if src:
            self.op("link", os.link, os.path.join(m, src), os.path.join(m, self.new_path(ents)))

    def op_symlink(self, m, ents):
        rel = self.new_path(ents)
        self.op("symlink", os.symlink, self.symlink_target(rel), os.path.join(m, rel))

    def op_setxattr(self, m, ents):
        rel = self.pick(ents, "fdl")
        if rel:
            name = self.xattr_name()
            self.op("setxattr " + name, os.setxattr, os.path.join(m, rel), name,
                    self.xattr_value(), follow_symlinks=False)

    def op_removexattr(self, m, ents):
        rel = self.pick(ents, "fd")
        if not rel:
            return
        full = os.path.join(m, rel)
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError:
            return
        names = [n for n in names if not n.startswith("system.")]
        if names:
            n = self.rng.choice(names)
            self.op("removexattr " + n, os.removexattr, full, n, follow_symlinks=False)

    def op_mknod(self, m, ents):
        rel = self.new_path(ents)
        full = os.path.join(m, rel)
        k = self.rng.random()
        if k < 0.5:
            self.op("mkfifo", os.mkfifo, full, 0o640)
        elif k < 0.85:
            self.op("mknod-c", os.mknod, full, 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        elif k < 0.93:
            self.op("mknod-b", os.mknod, full, 0o600 | stat.S_IFBLK, os.makedev(7, 0))
        else:
            self.op("mknod-c-0-0", os.mknod, full, 0o644 | stat.S_IFCHR, 0)

    def op_acl(self, m, ents):
        rel = self.pick(ents, "fd")
        if rel:
            self.set_acl(os.path.join(m, rel), dict(ents)[rel] == "d")

    # ------------------------------------------------ hand-made structures
    def make_xwhiteouts(self):
        """xattr-whiteouts: in a layer Lk (k above something), a directory marked
        overlay.opaque=x holding zero-size regular files with overlay.whiteout
        for names of the layers below (Documentation/filesystems/overlayfs.rst,
        "whiteouts and opaque directories")."""
        rng = self.rng
        if len(self.layers) < 2:
            return
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(len(self.layers) - 1)
            layer = self.layers[k]
            below = {}
            for lower in reversed(self.layers[k + 1:]):
                below.update(scan(lower))
            here = scan(layer)
            cands = sorted(d for d, kind in below.items() if kind == "d" and here.get(d) == "d")
            cands.append("")
            d = rng.choice(cands)
            full = os.path.join(layer, d) if d else layer
            names = sorted(os.path.basename(p) for p in below
                           if os.path.dirname(p) == d and p not in here)
            mark = rng.random()
            if mark < 0.8:
                self.try_("xwh opaque=x", os.setxattr, full, self.prefix + "opaque", b"x")
            elif mark < 0.9:
                self.try_("xwh opaque=y", os.setxattr, full, self.prefix + "opaque", b"y")
            for n in rng.sample(names, min(len(names), rng.randint(1, 4))) + ["xwh-only"]:
                p = os.path.join(full, n)
                try:
                    with open(p, "wb") as f:
                        if rng.random() < 0.1:
                            f.write(b"not empty")
                    name = self.prefix + "whiteout"
                    if rng.random() < 0.1:
                        name = self.prefix + "overlay.whiteout"   # escaped: not a whiteout
                    os.setxattr(p, name, b"" if rng.random() < 0.7 else b"y")
                    self.log("xwhiteout %s (%s)" % (os.path.relpath(p, self.workdir), name))
                except OSError as e:
                    self.log("xwhiteout %s: %s" % (p, oserr(e)))

    def make_datalayers(self):
        """Data-only layers (lowerdir=...::data) and metacopy files with absolute
        redirects into them ("Data-only lower layers" in overlayfs.rst)."""
        rng = self.rng
        fs = self.fs[self.profile["datafs"]]
        blobs = {}
        for i in range(self.profile["datalayers"]):
            d = fs.mkdir("D%d" % i)
            self.datalayers.append(d)
            for j in range(rng.randint(3, 8)):
                rel = rng.choice(["blobs/%02x/%d" % (rng.randrange(4), j), "b%d" % j,
                                  "deep/er/b%d" % j])
                full = os.path.join(d, rel)
                os.makedirs(os.path.dirname(full), 0o755, exist_ok=True)
                if os.path.exists(full):
                    continue
                with open(full, "wb") as f:
                    if rng.random() < 0.1:
                        f.truncate(rng.choice([1 << 20, 3 << 30]))
                        f.seek(rng.randrange(1 << 20))
                    f.write(rng.randbytes(self.content_size()))
                if rng.random() < 0.3:
                    os.chmod(full, rng.choice(MODES_F))
                blobs.setdefault("/" + rel, os.path.getsize(full))
            if rng.random() < 0.3:
                os.makedirs(os.path.join(d, "adir"), exist_ok=True)
                blobs.setdefault("/adir", 0)
        targets = sorted(blobs.items())
        nlayers = max(1, len(self.layers) - 1)  # not on the bottom layer only
        for n in range(rng.randint(3, 8)):
            layer = self.layers[rng.randrange(nlayers)]
            here = scan(layer)
            dirs = [""] + sorted(d for d, k in here.items() if k == "d")
            d = rng.choice(dirs)
            name = "mc%d" % n
            full = os.path.join(layer, d, name)
            target, size = rng.choice(targets)
            k = rng.random()
            redirect = target
            if k < 0.06:
                redirect = "/missing/blob"
            elif k < 0.1:
                redirect = target.lstrip("/")           # relative: not for data layers
            elif k < 0.13:
                redirect = "/" + target.lstrip("/").replace("/", "//")
            try:
                with open(full, "wb") as f:
                    f.truncate(size if rng.random() < 0.9 else size + 1)
                mc = b"" if rng.random() < 0.7 else bytes([0, 4, 0, 0])
                os.setxattr(full, self.prefix + "metacopy", mc)
                os.setxattr(full, self.prefix + "redirect", redirect.encode())
                if rng.random() < 0.3:
                    os.chmod(full, rng.choice(MODES_F))
                if rng.random() < 0.2:
                    os.chown(full, rng.choice(UIDS), rng.choice(UIDS))
                if rng.random() < 0.2:
                    os.link(full, full + "-link")
                self.log("metacopy %s -> %s" % (os.path.relpath(full, self.workdir), redirect))
            except OSError as e:
                self.log("metacopy %s: %s" % (full, oserr(e)))

    # ------------------------------------------------------------ mounting
    def lower_options(self, opts, ntop=None, empty=False):
        """Mount parameters of a lower-only mount: [(key, value-or-None)] and
        the legacy option string.  ntop: only the top ntop layers, no data
        layers; "single": the top layer alone, plus the empty layer if empty
        (overlayfs needs two lower layers without an upper one)."""
        upper = opts.get("upper")
        if ntop == "single":
            layers = [self.layers[0]] + ([self.empty] if empty else [])
        elif upper:
            # the top layer is the upper layer, the others lower layers
            layers = self.layers[1:] if ntop is None else self.layers[1:ntop]
        else:
            layers = self.layers if ntop is None else self.layers[:ntop]
        data = [] if ntop is not None else self.datalayers
        params = []
        if upper:
            # read-only: MS_RDONLY (legacy) or the "ro" flag (fsconfig)
            if self.profile["mount_api"] == "fsconfig":
                params.append(("ro", None))
        if self.profile["mount_api"] == "fsconfig":
            for l in layers:
                params.append(("lowerdir+", l))
            for d in data:
                params.append(("datadir+", d))
        else:
            params.append(("lowerdir", ":".join(layers) + "".join("::" + d for d in data)))
        if upper:
            params.append(("upperdir", self.layers[0]))
            params.append(("workdir", self.upper_work))
        for key in ("redirect_dir", "metacopy", "index", "xino", "uuid"):
            if key in opts:
                params.append((key, opts[key]))
        if opts.get("userxattr"):
            params.append(("userxattr", None))
        legacy = ",".join(k if v is None else "%s=%s" % (k, v) for k, v in params)
        if upper and self.profile["mount_api"] != "fsconfig":
            legacy = "ro," + legacy      # shown in reports; mount_lower uses MS_RDONLY
        return params, legacy

    def mount_lower(self, fstype, opts, ntop=None):
        """Mount the stack lower-only at self.mnt.  Returns (result, messages)."""
        params, legacy = self.lower_options(opts, ntop, fstype == "overlay")
        ro = bool(opts.get("upper"))
        if self.profile["mount_api"] == "fsconfig":
            res, step, msgs = sysutil.mount_fsconfig(
                fstype, self.mnt, params, sysutil.MOUNT_ATTR_RDONLY if ro else 0)
            if res != "OK":
                return "%s (%s)" % (res, step.split(" ")[0]), msgs
            return "OK", msgs
        if ro:
            legacy = legacy[len("ro,"):]
        try:
            sysutil.mount("rovl-diff", self.mnt, fstype, sysutil.MS_RDONLY if ro else 0, legacy)
            return "OK", []
        except OSError as e:
            return oserr(e), []

    def cleanup(self):
        errs = []
        for m in [self.mnt] + list(reversed(self.mounts)):
            for _ in range(10):
                try:
                    sysutil.umount(m)
                except OSError as e:
                    if e.errno in (errno.EINVAL, errno.ENOENT):
                        break
                    errs.append("umount %s: %s" % (m, oserr(e)))
                    try:
                        sysutil.umount(m, sysutil.MNT_DETACH)
                    except OSError:
                        pass
                    break
        return errs

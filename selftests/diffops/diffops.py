# SPDX-License-Identifier: GPL-2.0
"""Operation-sequence differential test of rovl against the in-kernel overlayfs.

    python3 diffops.py OUTDIR          (run by guest.sh, as root, in the test VM)

For each seed: build two identical copies of a layer stack with the
read-path tester's generator (selftests/diff/gen.py, run twice with the same
seed), give each an empty upper layer and work dir, mount copy A read-write
with "overlay" and copy B with the file system under test (default rovl)
using the same options, run the same random operation sequence on both and
compare the result of every operation, the merged views (full dumps,
selftests/diff/dump.py) every K operations and at the end, then the upper
layers and work dirs on disk, then mount each upper layer read-only by the
file system that wrote it and by the other one and compare the two dumps
(the on-disk format is shared both ways).  Prints
progress, every failing sequence with its first differences and a
reproduction command, and as its last line
    differential ops vs overlay: N sequences, M differences
where M counts the sequences with at least one difference (a refused mount,
an internal error of the tester count too).  Exit status 0 iff M = 0.

Environment: see README.rst (ROVL_DIFFOPS_*).
"""
import bisect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "diff"))
sys.path.insert(0, HERE)

import disk      # noqa: E402
import dump      # noqa: E402
import gen       # noqa: E402
import ops       # noqa: E402
import sysutil   # noqa: E402
from sysutil import oserr  # noqa: E402

# The CI seeds: chosen (README.rst, "CI seeds") so that together they cover
# userxattr, data-only layers, layers on a private tmpfs / ext4 / xfs / two
# ext4, corrupt layers, xattr-whiteouts, ACLs, the upper layer on tmpfs,
# ext4 and xfs, index on/off, metacopy on/off, redirect_dir
# on/follow/nofollow/off, xino on/auto/off, uuid=..., and the fsconfig API;
# 707 found a copy-up bug (a lower file with xattrs on xfs, copied up by an
# O_TRUNC open, failed with EIO).
CI_SEEDS = [929, 472, 1118, 1752, 97, 6, 707]
DEF_OPS = 60
DEF_EVERY = 15

FS_A = "overlay"
MODPARAMS = ["redirect_dir", "redirect_always_follow", "index", "nfs_export",
             "metacopy", "xino_auto", "redirect_max"]
KMSG_BAD = ("WARNING:", "BUG:", "KASAN", "Oops", "general protection",
            "UBSAN", "circular locking", "kernel BUG", "refcount_t:")
CLOCK_REALTIME_COARSE = 5
LOWER_TIME_BASE = 1_300_000_000 * 10**9
UPPER_ROOT_TIME = 1_350_000_000 * 10**9 + 123456789


def say(msg=""):
    print(msg, flush=True)


def modparams(name):
    out = {}
    for p in MODPARAMS:
        try:
            with open("/sys/module/%s/parameters/%s" % (name, p)) as f:
                out[p] = f.read().strip()
        except OSError:
            out[p] = None
    return out


class Clock:
    """Phases of a sequence on the CLOCK_REALTIME time line.  mark() waits
    until the coarse clock (what file times come from; a multigrain
    fine-grained time is never below it) has passed the fine clock's reading
    at the end of the previous phase, so that every file time set in a phase
    lies between its mark and the next one.  A time is then shown as the
    phase that set it: "@op12", "@dump20", "@mount"...  Times before the
    first mark: mtime as it is (the generator's layers get deterministic
    mtimes, utimes sets times in the past), ctime as "pre"."""

    def __init__(self):
        self.cs = []
        self.labels = []

    def mark(self, label):
        f = time.clock_gettime_ns(time.CLOCK_REALTIME)
        while True:
            c = time.clock_gettime_ns(CLOCK_REALTIME_COARSE)
            if c > f:
                break
            time.sleep(0.001)
        self.cs.append(c)
        self.labels.append(label)

    def _phase(self, t):
        i = bisect.bisect_right(self.cs, t) - 1
        return None if i < 0 else "@" + self.labels[i]

    def mtime(self, t):
        return self._phase(int(t)) or "=%d" % int(t)

    def ctime(self, t):
        return self._phase(int(t)) or "pre"


class SubprocessShim:
    """gen.py's subprocess, with mkfs.ext4 given a fixed uuid and directory
    hash seed (per seed and image name): ext4 returns the entries of a
    directory in hash order, so both copies of a stack need the same seed
    to list their lower directories in the same order."""

    def __init__(self, seed):
        self.seed = seed

    def __getattr__(self, name):
        return getattr(subprocess, name)

    def run(self, cmd, *args, **kw):
        if cmd and cmd[0] == "mkfs.ext4":
            img = cmd[-1]
            h = zlib.crc32(("%d:%s" % (self.seed, os.path.basename(img))).encode())
            u = "%08x-1234-4321-8765-%012x" % (h, self.seed & 0xffffffffffff)
            cmd = cmd[:-1] + ["-U", u, "-E", "hash_seed=" + u, img]
        return subprocess.run(cmd, *args, **kw)


class Laps:
    """Where the time of a sequence goes (printed with its result)."""

    def __init__(self):
        self.t = time.time()
        self.acc = {}

    def lap(self, what):
        now = time.time()
        self.acc[what] = self.acc.get(what, 0) + now - self.t
        self.t = now

    def __str__(self):
        return " ".join("%s %.0fs" % kv for kv in self.acc.items())


class Side:
    def __init__(self, name, fstype, wd):
        self.name = name          # "A" / "B"
        self.fstype = fstype
        self.wd = wd
        self.stack = None
        self.upper = None
        self.work = None
        self.mnt = None
        self.mounted = False
        self.dec = disk.Decoder()
        self.genlog = []


def set_layer_times(stack):
    """Deterministic mtimes (and atimes) for every entry of every layer, so
    that the two copies show the same times where overlayfs shows a lower
    layer's (or a copied-up file keeps it)."""
    for i, layer in enumerate(stack.layers + stack.datalayers):
        for rel in ["."] + sorted(gen.scan(layer)):
            t = LOWER_TIME_BASE + zlib.crc32(("%d:%s" % (i, rel)).encode()) * 1000003
            full = layer if rel == "." else os.path.join(layer, rel)
            try:
                os.utime(full, ns=(t, t), follow_symlinks=False)
            except OSError:
                pass


def layer_tags(stack):
    return ([("L%d" % i, l) for i, l in enumerate(stack.layers)] +
            [("D%d" % i, d) for i, d in enumerate(stack.datalayers)])


def choose(seed, stack):
    """Mount options and the upper layer's file system, from the seed."""
    rng = random.Random("rovl-diffops:%d" % seed)
    p = stack.profile
    o = {"api": "fsconfig" if rng.random() < 0.25 else "legacy"}
    if p["userxattr"]:
        o["userxattr"] = True
    else:
        mc = "on" if p["datalayers"] or rng.random() < 0.65 else "off"
        o["metacopy"] = mc
        o["redirect_dir"] = "on" if mc == "on" else rng.choice(
            ["on", "on", "follow", "nofollow", "off"])
    o["index"] = rng.choice(["on", "off", "off"])
    o["xino"] = rng.choice(["on", "auto", "off"])
    if rng.random() < 0.2:
        o["uuid"] = rng.choice(["on", "null", "off", "auto"])
    ufs = 0 if rng.random() < 0.6 else rng.randrange(len(p["fs"]))
    # NFS export (which overlayfs refuses with metacopy): drawn from a
    # random.Random of its own, so that the other draws of every seed stay
    # as they were.
    nfs = random.Random("rovl-diffops-nfs:%d" % seed)
    if not p["userxattr"] and o.get("metacopy") == "off" and nfs.random() < 0.35:
        o["nfs_export"] = "on"
        o["index"] = "on"
    return o, ufs


def ladder(opts):
    """The option sets to try, in order, until the oracle accepts one."""
    out = [dict(opts)]
    o = dict(opts, index="off", xino="off")
    o.pop("uuid", None)
    o.pop("nfs_export", None)
    out.append(o)
    if not opts.get("userxattr"):
        out.append(dict(o, metacopy="on", redirect_dir="on"))
    out.append(dict(out[-1], nodata=True))
    return out


def mount_params(side, opts, ro=False):
    st = side.stack
    data = [] if opts.get("nodata") else st.datalayers
    params = []
    if opts["api"] == "fsconfig":
        if ro:
            params.append(("ro", None))
        params += [("lowerdir+", l) for l in st.layers] + [("datadir+", d) for d in data]
    else:
        params.append(("lowerdir", ":".join(st.layers) + "".join("::" + d for d in data)))
    params += [("upperdir", side.upper), ("workdir", side.work)]
    for key in ("redirect_dir", "metacopy", "index", "nfs_export", "xino", "uuid"):
        if key in opts:
            params.append((key, opts[key]))
    if opts.get("userxattr"):
        params.append(("userxattr", None))
    legacy = ",".join(k if v is None else "%s=%s" % (k, v) for k, v in params)
    return params, legacy


def opts_summary(opts):
    s = ",".join(("%s=%s" % (k, v) if v is not True else k) for k, v in opts.items()
                 if k not in ("api", "nodata"))
    if opts.get("nodata"):
        s += ",(no data-only layers)"
    return s + ("" if opts["api"] == "legacy" else " (fsconfig)")


def do_mount(side, fstype, opts, ro=False):
    """Mount side's stack at side.mnt; returns (result, messages)."""
    params, legacy = mount_params(side, opts, ro)
    if opts["api"] == "fsconfig":
        res, step, msgs = sysutil.mount_fsconfig(
            fstype, side.mnt, params, sysutil.MOUNT_ATTR_RDONLY if ro else 0)
        return (res if res == "OK" else "%s (%s)" % (res, step.split(" ")[0])), msgs
    try:
        sysutil.mount("rovl-diffops", side.mnt, fstype, sysutil.MS_RDONLY if ro else 0, legacy)
        return "OK", []
    except OSError as e:
        return oserr(e), []


def umount(side):
    if side.mounted:
        sysutil.umount(side.mnt)
        side.mounted = False


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.mkdir(path, 0o755)
    os.chmod(path, 0o755)


def fresh_upper(side):
    fresh_dir(side.upper)
    fresh_dir(side.work)
    os.utime(side.upper, ns=(UPPER_ROOT_TIME, UPPER_ROOT_TIME))


def relations(dm, fields):
    """dirents: [name, d_type, relation] as in dump.Dump.finalize, except
    that a d_ino is matched against the st_ino of other paths on the same
    st_dev only, and not at all ('u') when the mount shows several st_dev
    (layers on several file systems without xino): there a copied-up file
    has the st_ino of its origin on a lower file system and the d_ino of its
    upper inode, so any equality is by chance, and the copies' inode
    numbers, hence the chances, differ."""
    order = sorted(fields, key=dump.relkey)
    samedev = len({st.st_dev for st in dm.st.values()}) <= 1
    first = {}
    for p in order:
        st = dm.st.get(p)
        if st is not None and fields[p].get("ino_raw") != "unstable":
            first.setdefault((st.st_dev, st.st_ino), p)
    try:
        pst = os.lstat(os.path.dirname(dm.mnt))
    except OSError:
        pst = None
    for p in order:
        if p not in dm.dents or "dirents" not in fields[p] or \
                not isinstance(fields[p]["dirents"], list):
            continue
        lst = []
        for name, dt, dino in dm.dents[p]:
            n = os.fsdecode(name)
            if n == ".":
                tp = p
            elif n == "..":
                tp = dump.parent(p) if p != "." else None
            else:
                tp = dump.join(p, n)
            tst = dm.st.get(tp) if tp is not None else pst
            if tp is not None and (not samedev or
                                   fields.get(tp, {}).get("ino_raw") == "unstable"):
                rel = "u"
            elif tst is not None and tst.st_ino == dino:
                rel = "="
            else:
                hit = first.get((tst.st_dev, dino)) if tst is not None else None
                rel = "~" + hit if hit else "?"
            lst.append([n, dump.DT.get(dt, str(dt)), rel])
        fields[p]["dirents"] = lst


def _fmt(v, cap=2000):
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\n", "\\n").replace("\t", "\\t")
    return s if len(s) <= cap else s[:cap] + "...(%d)" % len(s)


class Runner:
    def __init__(self, outdir):
        self.outdir = outdir
        env = os.environ.get
        self.fs_b = env("ROVL_DIFFOPS_FS_B", "rovl")
        self.nops = int(env("ROVL_DIFFOPS_OPS", str(DEF_OPS)))
        self.every = int(env("ROVL_DIFFOPS_DUMP_EVERY", str(DEF_EVERY)))
        self.show = int(env("ROVL_DIFFOPS_SHOW", "8"))
        self.keep = env("ROVL_DIFFOPS_KEEP") == "1"
        self.mutate = env("ROVL_DIFFOPS_MUTATE", "")
        self.name_a = FS_A
        self.name_b = self.fs_b if self.fs_b != FS_A else FS_A + "(b)"
        self.kmsg = sysutil.Kmsg()
        pa, pb = modparams(FS_A), modparams(self.fs_b)
        self.opts_comparable = pa == pb
        self.modnote = "" if self.opts_comparable else (
            "module parameters differ (%s: %s; %s: %s): mount options in "
            "/proc/self/mountinfo not compared" % (FS_A, pa, self.fs_b, pb))
        self.workroot = tempfile.mkdtemp(prefix="rovl-diffops.", dir="/tmp")
        os.chmod(self.workroot, 0o755)
        self.kernel_notes = []

    # ------------------------------------------------------------ helpers
    def kcheck(self, seed, what, kfile):
        lines = self.kmsg.read()
        if lines:
            kfile.write("--- %s\n" % what)
            for l in lines:
                kfile.write(l + "\n")
        bad = [l for l in lines if any(b in l for b in KMSG_BAD)]
        if bad:
            note = "seed %d (%s): kernel log: %s" % (seed, what, bad[0])
            self.kernel_notes.append(note)
            say("[diffops] NOTE " + note)
        return lines

    def dump_sides(self, seed, sides, union, prefix):
        """Dump the mounted sides (drop_caches, walk each, drop_caches,
        restat each: st_ino stability, non-root pass each); returns one
        comparable dump dict per side."""
        probes = [prefix + x for x in ("origin", "impure", "nlink", "uuid", "upper",
                                       "protattr")]
        sysutil.drop_caches()
        dms = []
        for s in sides:
            dm = dump.Dump(s.mnt, seed, probes)
            dm.walk(union)
            dms.append(dm)
        sysutil.drop_caches()
        dcs = [dm.restat() for dm in dms]
        out = []
        for s, dm, dc in zip(sides, dms, dcs):
            d = {"mount": "OK", "fs": s.fstype}
            if self.opts_comparable:
                mo = sysutil.mountinfo_opts(s.mnt) or "(none)"
                d["mountopts"] = mo.replace(s.wd, "<copy>")
            try:
                sv = os.statvfs(s.mnt)
                d["statvfs"] = "bsize=%d namemax=%d flag=%#x" % (sv.f_bsize, sv.f_namemax,
                                                                 sv.f_flag)
            except OSError as e:
                d["statvfs"] = oserr(e)
            try:
                dm.nonroot()
                d["nonroot"] = "OK"
            except RuntimeError as e:
                d["nonroot"] = str(e)
            d["truncated"] = dm.truncated
            fields = dm.finalize(dc, dc)
            for rec in fields.values():
                if "mtime" in rec:
                    rec["mtime"] = self.clock.mtime(rec["mtime"])
                if "ctime" in rec:
                    rec["ctime"] = self.clock.ctime(rec["ctime"])
                if rec.get("ino_raw") not in (None, "unstable"):
                    rec["ino_raw"] = "stable"    # the copies' numbers differ
            relations(dm, fields)
            d["paths"] = fields
            out.append(d)
        return out

    # ---------------------------------------------------------- one seed
    def run_seq(self, seed, idx, n):
        sdir = os.path.join(self.outdir, "seed-%d" % seed)
        shutil.rmtree(sdir, ignore_errors=True)
        os.makedirs(sdir)
        wd = os.path.join(self.workroot, "s%d" % seed)
        os.mkdir(wd, 0o755)
        self.clock = Clock()
        self.laps = Laps()
        A = Side("A", FS_A, os.path.join(wd, "A"))
        B = Side("B", self.fs_b, os.path.join(wd, "B"))
        sides = [A, B]
        res = {"seed": seed, "op_diffs": [], "tree_diff": None, "dump_diffs": [],
               "dump_at": None, "final_diffs": [], "disk_diffs": [], "cross_diffs": [],
               "cross_disk_diffs": [], "cross_done": [], "refused": None, "internal": None,
               "notes": []}
        oplog = open(os.path.join(sdir, "ops.log"), "w")
        kfile = open(os.path.join(sdir, "kmsg.txt"), "w")
        t0 = time.time()
        say("[diffops] seed %d (%d/%d): start" % (seed, idx, n))
        sysutil.Kmsg.mark("diffops seed %d start" % seed)
        self.kmsg.read()
        try:
            self.seq_body(seed, sides, res, sdir, oplog, kfile)
        except Exception as e:  # noqa: BLE001 - any tester failure is a difference
            res["internal"] = "%s: %s" % (type(e).__name__, e)
            with open(os.path.join(sdir, "internal-error.txt"), "w") as f:
                traceback.print_exc(file=f)
            say("[diffops] seed %d: INTERNAL ERROR: %s" % (seed, res["internal"]))
            for l in traceback.format_exc().rstrip().split("\n")[-6:]:
                say("    " + l)
        finally:
            errs = []
            for s in sides:
                try:
                    umount(s)
                except OSError as e:
                    errs.append("umount %s: %s" % (s.mnt, oserr(e)))
                    try:
                        sysutil.umount(s.mnt, sysutil.MNT_DETACH)
                    except OSError:
                        pass
                if s.stack is not None:
                    errs += s.stack.cleanup()
                with open(os.path.join(sdir, "gen-%s.log" % s.name), "w") as f:
                    f.write("\n".join(s.genlog) + "\n")
            shutil.rmtree(wd, ignore_errors=True)
            self.kcheck(seed, "cleanup", kfile)
            kfile.close()
            oplog.close()
            if errs and not res["internal"]:
                res["internal"] = "cleanup: " + "; ".join(errs)
                say("[diffops] seed %d: INTERNAL ERROR: %s" % (seed, res["internal"]))
        return self.report(res, sdir, time.time() - t0)

    def seq_body(self, seed, sides, res, sdir, oplog, kfile):
        A, B = sides
        # 1. two copies of the stack
        for s in sides:
            os.mkdir(s.wd, 0o755)
            gen.subprocess = SubprocessShim(seed)
            s.stack = gen.Stack(seed, s.wd, s.genlog.append)
            try:
                s.stack.build()
            finally:
                gen.subprocess = subprocess
                self.kcheck(seed, "build %s" % s.name, kfile)
            set_layer_times(s.stack)
        stA = A.stack
        prefix = stA.prefix
        self.laps.lap("build")
        with open(os.path.join(sdir, "profile.json"), "w") as f:
            json.dump(stA.profile, f, indent=1)
        sysutil.drop_caches()    # settle the layers (XFS trims preallocation at eviction)
        for s in sides:
            for tag, root in layer_tags(s.stack):
                s.dec.add_tree(root, tag)
        # the copies must be the same (what the generator does is deterministic)
        same = []
        for (tag, la), (_, lb) in zip(layer_tags(stA), layer_tags(B.stack)):
            sa = disk.tree_state(la, prefix, A.dec, self.clock, order=True)
            sb = disk.tree_state(lb, prefix, B.dec, self.clock, order=True)
            same += disk.compare("copy " + tag, sa, sb)
        if same:
            with open(os.path.join(sdir, "copies-differ.txt"), "w") as f:
                for x in same:
                    f.write("%s\t%s\tA=%s\tB=%s\n" % tuple(_fmt(v) for v in x))
            raise RuntimeError("the two copies of the stack differ (%d differences, "
                               "first: %s %s A=%s B=%s)" % ((len(same),) + tuple(
                                   _fmt(v, 100) for v in same[0])))
        self.laps.lap("check")
        # 2. options, upper layers
        opts, ufs = choose(seed, stA)
        for s in sides:
            host = s.stack.fs[ufs]
            s.upper = os.path.join(host.path, "U")
            s.work = os.path.join(host.path, "UW")
            s.mnt = s.stack.mnt
            fresh_upper(s)
        say("[diffops] seed %d: %s; upper on %s; -o %s" % (
            seed, stA.describe(), stA.profile["fs"][ufs], opts_summary(opts)))
        lower_paths = set()
        union = set()
        for tag, root in layer_tags(stA):
            sc = gen.scan(root)
            union.update(sc)
            if tag.startswith("L"):
                lower_paths.update(sc)
        lower_paths = sorted(lower_paths)
        union = sorted(union, key=dump.relkey)[:dump.MAX_PATHS]
        # 3. mount: the oracle decides the options
        self.clock.mark("mount")
        tried = []
        for o in ladder(opts):
            r, msgs = do_mount(A, FS_A, o)
            kl = self.kcheck(seed, "mount A -o " + opts_summary(o), kfile)
            if r == "OK":
                A.mounted = True
                opts = o
                break
            tried.append("%s: %s (%s)" % (opts_summary(o), r, " / ".join(
                msgs + [l for l in kl if "overlayfs" in l][-2:])))
            fresh_upper(A)
        if not A.mounted:
            raise RuntimeError("%s refused every option set: %s" % (FS_A, "; ".join(tried)))
        if tried:
            say("[diffops] seed %d: %s refused %s; using -o %s" % (
                seed, FS_A, "; ".join(tried), opts_summary(opts)))
        r, msgs = do_mount(B, self.fs_b, opts)
        kl = self.kcheck(seed, "mount B", kfile)
        if r == "OK":
            B.mounted = True
        else:
            why = [m[2:] if m[:2] in ("e ", "w ", "i ") else m for m in msgs]
            why += [l for l in kl if self.fs_b in l and l not in why and
                    "rovl: " + l not in why and "rovl-diff" not in l]
            res["refused"] = "%s: rw mount refused (%s%s)" % (
                self.fs_b, r, ": " + " / ".join(why[-2:]) if why else "")
            say("[diffops] seed %d: %s; running the sequence on %s alone, for the "
                "cross-mount of its upper layer" % (seed, res["refused"], FS_A))
        live = [s for s in sides if s.mounted]
        # 4. the sequence
        rng = random.Random("rovl-diffops-ops:%d" % seed)
        # handle operations with nfs_export=on (ops.FH_OPS), between the
        # others, from a random.Random of their own
        fh_rng = random.Random("rovl-diffops-fh:%d" % seed) if opts.get("nfs_export") == "on" else None
        fh_saved = {s.name: [] for s in sides}
        mutate_at = self.nops // 2 if self.mutate == "1" else -1
        ents_new = True
        tree_checked = True
        ents = None
        for i in range(self.nops):
            if ents is None:
                ents = sorted(gen.scan(A.mnt).items())
            if B.mounted and tree_checked and ents_new:
                eb = sorted(gen.scan(B.mnt).items())
                if eb != ents:
                    da, db = dict(ents), dict(eb)
                    p = next(p for p in sorted(set(da) | set(db), key=dump.relkey)
                             if da.get(p) != db.get(p))
                    res["tree_diff"] = (i, p, da.get(p, "(absent)"), db.get(p, "(absent)"))
                    tree_checked = False
            ents_new = False
            if fh_rng is not None and fh_rng.random() < 0.25:
                o = ops.make_fh_op(fh_rng, ents, len(fh_saved["A"]))
                self.clock.mark("op%d" % i)
                ra = ops.run_fh_op(A.mnt, o, fh_saved["A"])
                rb = ops.run_fh_op(B.mnt, o, fh_saved["B"]) if B.mounted else None
            else:
                o = ops.make_op(rng, ents, lower_paths)
                self.laps.lap("scan")
                self.clock.mark("op%d" % i)
                ra = ops.run_op(A.mnt, o)
                rb = ops.run_op(B.mnt, o) if B.mounted else None
            self.laps.lap("ops")
            if i == mutate_at and B.mounted:
                res["notes"].append("self-check mutation after op %d: %s" % (i, mutate(B)))
            bad = B.mounted and ra != rb
            if ops.renames(o, ra) or i == mutate_at:
                # scan the trees again before the next operation (only on
                # what the oracle did: the sequence must not depend on B)
                ents = None
                ents_new = True
            oplog.write("#%d %s -> %s=%s%s\n" % (
                i, ops.describe(o), FS_A, ra, "" if rb is None else " %s=%s%s" % (
                    self.name_b, rb, "   <<< DIFFERS" if bad else "")))
            if bad:
                res["op_diffs"].append((i, o, ra, rb))
            if (self.every > 0 and (i + 1) % self.every == 0 and i + 1 < self.nops
                    and B.mounted and not res["dump_diffs"]):
                self.clock.mark("dump%d" % (i + 1))
                da, db = self.dump_sides(seed, sides, union, prefix)
                dd = dump.compare(da, db)
                if dd:
                    res["dump_diffs"] = dd
                    res["dump_at"] = i + 1
                    self.save_dumps(sdir, "after-op%d" % (i + 1), da, db)
                self.laps.lap("dumps")
            self.kcheck(seed, "op %d" % i, kfile)
        self.laps.lap("ops")
        # 5. final dumps
        self.clock.mark("final")
        finals = self.dump_sides(seed, live, union, prefix)
        final = dict(zip([s.name for s in live], finals))
        if B.mounted:
            res["final_diffs"] = dump.compare(final["A"], final["B"])
            if res["final_diffs"] or self.keep:
                self.save_dumps(sdir, "final", final["A"], final["B"])
        self.kcheck(seed, "final dumps", kfile)
        self.laps.lap("dumps")
        # 6. the upper layers and work dirs on disk
        self.clock.mark("umount")
        for s in live:
            umount(s)
        self.kcheck(seed, "umount", kfile)
        states = {}
        for s in live:
            s.dec.add_tree(s.upper, "U")
            states[s.name] = self.disk_state(s, prefix)
        if B in live:
            res["disk_diffs"] = (disk.compare("upper", states["A"][0], states["B"][0]) +
                                 disk.compare("work", states["A"][1], states["B"][1]))
        with open(os.path.join(sdir, "upper-disk.json"), "w") as f:
            json.dump(states, f, indent=0, sort_keys=True)
        self.laps.lap("disk")
        # 7. cross mounts, read-only: A's upper by FS_B, B's upper by overlay.
        # Each is compared with a read-only mount of the same layers by the
        # file system that wrote them, just before (not with the final
        # read-write dump: overlayfs itself shows another st_blocks for a
        # metacopy file whose data it has not looked up yet, another st_ino
        # for hard links broken by copy-up, after a remount).
        post = {}
        for s, fs in ((A, self.fs_b), (B, FS_A)):
            if s not in live:
                continue
            na = {"A": FS_A, "B": self.name_b}[s.name]
            nb = self.name_b if fs != FS_A else FS_A
            what = "%s's upper" % na
            dumps = []
            for phase, f in (("ro-own", s.fstype), ("ro-cross", fs)):
                self.clock.mark(phase)
                if phase == "ro-cross" and s is B and self.mutate == "disk":
                    res["notes"].append("self-check mutation on disk: %s" % mutate_disk(B))
                r, msgs = do_mount(s, f, opts, ro=True)
                kl = self.kcheck(seed, "%s mount of %s's upper by %s" % (phase, s.name, f), kfile)
                if r != "OK":
                    why = [l for l in msgs + kl if "rovl-diff" not in l][-2:]
                    dumps.append({"mount": r + (": " + " / ".join(why) if why else "")})
                    continue
                s.mounted = True
                try:
                    (d,) = self.dump_sides(seed, [s], union, prefix)
                finally:
                    umount(s)
                dumps.append(d)
                self.kcheck(seed, "%s dump of %s" % (phase, s.name), kfile)
            dd = dump.compare(dumps[0], dumps[1])
            res["cross_done"].append("%s by %s: %d paths, %d difference(s)" % (
                what, nb, len(dumps[1].get("paths", {})), len(dd)))
            res["cross_diffs"] += [("%s: %s" % (what, p), f, a, b) for p, f, a, b in dd]
            if dd or self.keep:
                self.save_dumps(sdir, "cross-%s" % s.name, dumps[0], dumps[1],
                                names=("ro-%s" % na, "ro-%s" % nb))
            post[s.name] = self.disk_state(s, prefix)
            self.laps.lap("cross")
        # what the read-only mounts changed on disk must be the same
        if "A" in post and "B" in post:
            ch = {}
            for nm in ("A", "B"):
                ch[nm] = {(p, f): "%s -> %s" % (_fmt(a, 200), _fmt(b, 200)) for p, f, a, b in
                          disk.compare("upper", states[nm][0], post[nm][0]) +
                          disk.compare("work", states[nm][1], post[nm][1])}
            res["cross_disk_diffs"] = [
                ("(changed by the read-only mounts) " + k[0], k[1], ch["A"].get(k, "unchanged"),
                 ch["B"].get(k, "unchanged"))
                for k in sorted(set(ch["A"]) | set(ch["B"])) if ch["A"].get(k) != ch["B"].get(k)]

    def disk_state(self, s, prefix):
        up = disk.tree_state(s.upper, prefix, s.dec, self.clock)
        wk = disk.work_state(s.work, prefix, s.dec, disk.upper_inodes(s.upper))
        return up, wk

    def save_dumps(self, sdir, what, da, db, names=None):
        na, nb = names or (FS_A, self.name_b)
        for nm, d in ((na, da), (nb, db)):
            with open(os.path.join(sdir, "dump-%s-%s.json" % (what, nm)), "w") as f:
                json.dump(d, f, indent=0, sort_keys=True)

    # ------------------------------------------------------------ report
    def report(self, res, sdir, secs):
        seed = res["seed"]
        a, b = FS_A, self.name_b
        reasons = []
        if res["internal"]:
            reasons.append("internal error: " + res["internal"])
        if res["refused"]:
            reasons.append(res["refused"])
        if res["op_diffs"]:
            reasons.append("%d operation result(s) differ" % len(res["op_diffs"]))
        if res["tree_diff"]:
            reasons.append("merged tree differs before op %d" % res["tree_diff"][0])
        if res["dump_diffs"]:
            reasons.append("dump after op %d differs (%d)" % (res["dump_at"],
                                                              len(res["dump_diffs"])))
        if res["final_diffs"]:
            reasons.append("final dump differs (%d)" % len(res["final_diffs"]))
        if res["disk_diffs"]:
            reasons.append("upper layer on disk differs (%d)" % len(res["disk_diffs"]))
        if res["cross_diffs"]:
            reasons.append("cross-mount differs (%d)" % len(res["cross_diffs"]))
        if res["cross_disk_diffs"]:
            reasons.append("read-only cross-mounts changed the disk differently (%d)" %
                           len(res["cross_disk_diffs"]))
        with open(os.path.join(sdir, "diff.txt"), "w") as f:
            for r in reasons:
                f.write("# %s\n" % r)
            for i, o, ra, rb in res["op_diffs"]:
                f.write("op #%d\t%s\t%s=%s\t%s=%s\n" % (i, ops.describe(o), a, ra, b, rb))
            for key in ("dump_diffs", "final_diffs", "disk_diffs", "cross_diffs",
                        "cross_disk_diffs"):
                la, lb = {"cross_diffs": ("by-writer", "by-other"),
                          "cross_disk_diffs": ("A-by-%s" % b, "B-by-%s" % a)}.get(key, (a, b))
                for p, fld, va, vb in res[key][:2000]:
                    f.write("%s\t%s\t%s\t%s=%s\t%s=%s\n" % (key, p, fld, la, _fmt(va), lb,
                                                           _fmt(vb)))
        for nt in res["notes"]:
            say("[diffops] seed %d: %s" % (seed, nt))
        if not reasons:
            say("[diffops] ok seed %d: %d ops in %.0fs (%s)" % (seed, self.nops, secs, self.laps))
            return False
        say("[diffops] FAIL seed %d in %.0fs (%s): %s; details in %s" % (
            seed, secs, self.laps, "; ".join(reasons), sdir))
        show = self.show
        if res["refused"]:
            for c in res["cross_done"]:
                say("    read-only cross-mount of %s" % c)
        if res["op_diffs"]:
            i, o, ra, rb = res["op_diffs"][0]
            say("    first differing op #%d: %s: %s=%s %s=%s" % (i, ops.describe(o), a, ra, b, rb))
        if res["tree_diff"]:
            i, p, va, vb = res["tree_diff"]
            say("    merged tree before op #%d: %s: %s=%s %s=%s" % (i, p, a, va, b, vb))
        for key, title in (("dump_diffs", "dump after op %s" % res["dump_at"]),
                           ("final_diffs", "final dump"), ("disk_diffs", "on disk"),
                           ("cross_diffs", "cross-mount (read-only; by the file system that "
                            "wrote the upper layer vs by the other)"),
                           ("cross_disk_diffs", "on disk after the cross-mounts")):
            lst = res[key]
            if not lst:
                continue
            la, lb = {"cross_diffs": ("by-writer", "by-other"),
                      "cross_disk_diffs": ("A-by-%s" % b, "B-by-%s" % a)}.get(key, (a, b))
            say("    %s: %d difference(s)%s" % (title, len(lst), "" if len(lst) <= show
                                                 else ", first %d:" % show))
            for p, fld, va, vb in lst[:show]:
                say("      %s: %s: %s=%s %s=%s" % (p, fld, la, _fmt(va, 160), lb, _fmt(vb, 160)))
        env = ""
        if self.fs_b != "rovl":
            env += "ROVL_DIFFOPS_FS_B=%s " % self.fs_b
        if self.nops != DEF_OPS:
            env += "ROVL_DIFFOPS_OPS=%d " % self.nops
        if self.every != DEF_EVERY:
            env += "ROVL_DIFFOPS_DUMP_EVERY=%d " % self.every
        if self.mutate:
            env += "ROVL_DIFFOPS_MUTATE=%s " % self.mutate
        say("    reproduce: %sselftests/diffops/run.sh %d   (in the VM: %sROVL_DIFFOPS_SEEDS=%d "
            "selftests/diffops/guest.sh ROVL_KO OVERLAY_KO OUTDIR)" % (env, seed, env, seed))
        return True

    def run(self, seeds):
        say("[diffops] %d sequence(s) of %d ops, dumps every %d: %s vs %s%s%s" % (
            len(seeds), self.nops, self.every, FS_A, self.fs_b,
            " (self-check: mutate=%s)" % self.mutate if self.mutate else "",
            "" if not self.modnote else "; " + self.modnote))
        nfail = 0
        failing = []
        t0 = time.time()
        for i, seed in enumerate(seeds, 1):
            if self.run_seq(seed, i, len(seeds)):
                nfail += 1
                failing.append(seed)
            with open(os.path.join(self.outdir, "progress.json"), "w") as f:
                json.dump({"sequences": i, "differences": nfail, "failing": failing}, f)
        shutil.rmtree(self.workroot, ignore_errors=True)
        say("[diffops] %d sequences in %.0fs; failing seeds: %s" % (
            len(seeds), time.time() - t0, " ".join(map(str, failing)) or "none"))
        for nt in self.kernel_notes:
            say("[diffops] kernel log report: " + nt)
        say("differential ops vs overlay: %d sequences, %d differences" % (len(seeds), nfail))
        return 0 if nfail == 0 else 1


def mutate(side):
    """Self-check: one extra change on side B only (through its mount): flip
    o+r of the first entry of the root with a mode, else create a file."""
    for rel, k in sorted(gen.scan(side.mnt).items()):
        if k in ("f", "d") and "/" not in rel:
            full = os.path.join(side.mnt, rel)
            try:
                m = os.lstat(full).st_mode
                os.chmod(full, (m ^ 0o004) & 0o7777)
                return "chmod o^r %s" % rel
            except OSError:
                continue
    with open(os.path.join(side.mnt, "zz-selfcheck"), "w") as f:
        f.write("x")
    return "created zz-selfcheck"


def mutate_disk(side):
    """Self-check: change B's upper layer on disk between its two read-only
    mounts: flip o+r of the first upper entry that is a regular file or a
    directory, else set a user xattr on its root."""
    for rel, k in sorted(gen.scan(side.upper).items()):
        if k in ("f", "d"):
            full = os.path.join(side.upper, rel)
            m = os.lstat(full).st_mode
            os.chmod(full, (m ^ 0o004) & 0o7777)
            return "chmod o^r %s" % rel
    os.setxattr(side.upper, "user.zz-selfcheck", b"1")
    return "set user.zz-selfcheck on the upper root"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    env = os.environ.get("ROVL_DIFFOPS_SEEDS", "").split()
    try:
        seeds = [int(s, 0) for s in env] if env else list(CI_SEEDS)
    except ValueError:
        print("ROVL_DIFFOPS_SEEDS: not a list of integers: %r" % env, file=sys.stderr)
        return 2
    os.umask(0o022)
    return Runner(outdir).run(seeds)


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: GPL-2.0
"""Differential test of rovl against the in-kernel overlayfs (the oracle).

    python3 difftest.py OUTDIR          (run by guest.sh, as root, in the test VM)

For each seed: build a layer stack with the in-kernel overlayfs (gen.py),
mount it lower-only with "overlay" and with the file system under test
(default "rovl") using the same options, dump both (dump.py), compare.
Prints progress, one line per difference (capped), the seed and a
reproduction command of each failing stack, and as its last line
    differential vs overlay: N stacks, M differences
where M is the number of stacks with at least one difference (an internal
error of the tester counts as a difference).  Exit status 0 iff M = 0.

Environment:
  ROVL_DIFF_SEEDS   space-separated seeds (default: CI_SEEDS below)
  ROVL_DIFF_FS_B    file system under test (default rovl); "overlay" compares
                    the oracle with itself (must give 0 differences)
  ROVL_DIFF_MUTATE  1: self-check; change the top layer between the two dumps
                    of each stack (every stack must then show a difference)
  ROVL_DIFF_KEEP    1: keep the dumps of passing stacks too
  ROVL_DIFF_SHOW    differences printed per stack (default 12; all go to the
                    stack's diff.txt, capped at 2000)
  ROVL_DIFF_SINGLE  1: development aid while rovl mounts one lower layer only:
                    compare mounts of each stack's top layer alone (overlay
                    gets an extra empty lower layer, as in selftests/common/rc;
                    the root's nlink and '..' d_ino and the mount options are then
                    not compared)
"""
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True

import dump      # noqa: E402
import gen       # noqa: E402
import sysutil   # noqa: E402
from sysutil import oserr  # noqa: E402

# The CI seeds: a cost-weighted greedy cover of the profile features (see
# README.rst): 2-4 rounds; round options index on/off, xino on/auto/off,
# metacopy=off, uuid=on/null/off; userxattr (also with data-only layers);
# layers on a private tmpfs, ext4 and xfs (several file systems: xino);
# 1 and 2 data-only layers; xattr-whiteouts; corruption (also with data-only
# layers and xattr-whiteouts); ACLs; fsconfig (also with datadir+); lower-only
# options redirect_dir on/follow, xino on/auto/off, index on/off; second
# option sets (redirect_dir=nofollow/off, metacopy=off) and partial stacks.
# Then 11 (layers on the tmpfs and on ext4) and 80 (all layers on two ext4
# file systems with xino: 32 xino bits; it caught rovl taking ext4 for a
# file system with 64-bit inode numbers).
CI_SEEDS = [530, 1136, 2076, 178, 1422, 1432, 1404, 2573, 2955, 899, 1164, 11, 80]

MODPARAMS = ["redirect_dir", "redirect_always_follow", "index", "nfs_export",
             "metacopy", "xino_auto", "redirect_max"]
KMSG_BAD = ("WARNING:", "BUG:", "KASAN", "Oops", "general protection",
            "UBSAN", "circular locking", "kernel BUG", "refcount_t:")
FS_A = "overlay"


def say(msg=""):
    print(msg, flush=True)


def modparams(name):
    d = "/sys/module/%s/parameters" % name
    out = {}
    for p in MODPARAMS:
        try:
            with open(os.path.join(d, p)) as f:
                out[p] = f.read().strip()
        except OSError:
            out[p] = None
    return out


def union_paths(stack, ntop):
    """Every path of the (first ntop) layers and the data-only layers."""
    if ntop == "single":
        layers = stack.layers[:1]
    else:
        layers = stack.layers if ntop is None else stack.layers[:ntop]
    out = set()
    for l in layers + stack.datalayers:
        if l not in stack.scans:
            stack.scans[l] = gen.scan(l)
        out.update(stack.scans[l])
    return sorted(out, key=dump.relkey)[:dump.MAX_PATHS]


class Runner:
    def __init__(self, outdir):
        self.outdir = outdir
        self.fs_b = os.environ.get("ROVL_DIFF_FS_B", "rovl")
        self.mutate = os.environ.get("ROVL_DIFF_MUTATE") == "1"
        self.keep = os.environ.get("ROVL_DIFF_KEEP") == "1"
        self.show = int(os.environ.get("ROVL_DIFF_SHOW", "12"))
        self.single = os.environ.get("ROVL_DIFF_SINGLE") == "1"
        # label of the second side in reports
        self.name_b = self.fs_b if self.fs_b != FS_A else FS_A + "(b)"
        self.kmsg = sysutil.Kmsg()
        pa, pb = modparams(FS_A), modparams(self.fs_b)
        self.opts_comparable = pa == pb
        self.modnote = "" if self.opts_comparable else (
            "module parameters differ (%s: %s; %s: %s): mount options in "
            "/proc/self/mountinfo not compared" % (FS_A, pa, self.fs_b, pb))
        self.workroot = tempfile.mkdtemp(prefix="rovl-diff.", dir="/tmp")
        os.chmod(self.workroot, 0o755)
        self.kernel_notes = []
        self.pending = []     # kernel log lines read by dump_fs, for check_kmsg

    # ------------------------------------------------------------- one fs
    def dump_fs(self, stack, fstype, vname, opts, ntop, union, log):
        d = {"fs": fstype, "variant": vname}
        res, msgs = stack.mount_lower(fstype, opts, ntop)
        d["mount"] = res
        klines = self.kmsg.read()
        self.pending.extend(klines)
        if res != "OK":
            # why, for the report (not compared: the messages name the fs)
            d["mount_log"] = msgs + [l for l in klines if "drop_caches" not in l][-3:]
            return d
        mnt = stack.mnt
        t0 = time.time()
        try:
            dm = dump.Dump(mnt, stack.seed)
            dm.walk(union)
            if self.opts_comparable:
                d["mountopts"] = sysutil.mountinfo_opts(mnt) or "(none)"
            try:
                sv = os.statvfs(mnt)
                d["statvfs"] = "bsize=%d namemax=%d flag=%#x" % (sv.f_bsize, sv.f_namemax,
                                                                 sv.f_flag)
            except OSError as e:
                d["statvfs"] = oserr(e)
            sysutil.drop_caches()
            dc = dm.restat()
            sysutil.umount(mnt)
            res2, _ = stack.mount_lower(fstype, opts, ntop)
            d["remount"] = res2
            rem = None
            if res2 == "OK":
                rem = dm.restat()
                try:
                    dm.nonroot()
                    d["nonroot"] = "OK"
                except RuntimeError as e:
                    d["nonroot"] = str(e)
            d["truncated"] = dm.truncated
            d["paths"] = dm.finalize(dc, rem)
        finally:
            try:
                sysutil.umount(mnt)
            except OSError as e:
                if e.errno != 22:  # EINVAL: not mounted (remount failed)
                    log("umount %s: %s" % (mnt, oserr(e)))
                    raise
        log("%s %s: %d paths in %.1fs" % (fstype, vname, len(d["paths"]), time.time() - t0))
        return d

    def check_kmsg(self, seed, what, lines, kfile):
        lines = self.pending + lines
        self.pending = []
        if not lines:
            return
        kfile.write("--- %s\n" % what)
        for l in lines:
            kfile.write(l + "\n")
        bad = [l for l in lines if any(b in l for b in KMSG_BAD)]
        if bad:
            note = "seed %d (%s): kernel log: %s" % (seed, what, bad[0])
            self.kernel_notes.append(note)
            say("[diff] NOTE " + note)

    # ---------------------------------------------------------- one stack
    def run_stack(self, seed, i, n):
        sdir = os.path.join(self.outdir, "seed-%d" % seed)
        shutil.rmtree(sdir, ignore_errors=True)
        os.makedirs(sdir)
        genlog = []
        log = genlog.append
        wd = os.path.join(self.workroot, "s%d" % seed)
        os.mkdir(wd, 0o755)
        os.chmod(wd, 0o755)
        stack = gen.Stack(seed, wd, log)
        diffs = []          # (variant, path, field, a, b)
        internal = None
        t0 = time.time()
        say("[diff] seed %d (%d/%d): start" % (seed, i, n))
        sysutil.Kmsg.mark("seed %d start" % seed)
        self.kmsg.read()
        kfile = open(os.path.join(sdir, "kmsg.txt"), "w")
        npaths = 0
        try:
            try:
                stack.build()
            finally:
                self.check_kmsg(seed, "build", self.kmsg.read(), kfile)
                with open(os.path.join(sdir, "profile.json"), "w") as f:
                    json.dump(stack.profile, f, indent=1)
            # Settle the layers before the first dump: XFS trims its
            # speculative preallocation past EOF when an inode is evicted,
            # which would change st_blocks and SEEK_DATA between the two
            # file systems' dumps (one of which drops caches).
            sysutil.drop_caches()
            say("[diff] seed %d: %s; built in %.1fs" % (
                seed, stack.describe(), time.time() - t0))
            mutated = None
            variants = stack.profile["variants"]
            ignore = set()
            if self.single:
                top_fs = stack.fs[stack.profile["layer_fs"][-1]]
                stack.empty = top_fs.mkdir("EMPTY")
                variants = [("single", variants[0][1], "single")]
                # artefacts of overlay's extra empty layer: a merged root
                ignore = {(".", "nlink"), (".", "dirent '..'"), ("(mount)", "mountopts")}
            for vname, opts, ntop in variants:
                union = union_paths(stack, ntop)
                da = self.dump_fs(stack, FS_A, vname, opts, ntop, union, log)
                self.check_kmsg(seed, "%s %s" % (FS_A, vname), self.kmsg.read(), kfile)
                if self.mutate and mutated is None:
                    mutated = mutate(stack, log)
                    say("[diff] seed %d: self-check mutation: %s" % (seed, mutated))
                db = self.dump_fs(stack, self.fs_b, vname, opts, ntop, union, log)
                self.check_kmsg(seed, "%s %s" % (self.fs_b, vname), self.kmsg.read(), kfile)
                npaths = max(npaths, len(da.get("paths", {})))
                dd = [x for x in dump.compare(da, db) if (x[0], x[1]) not in ignore]
                diffs.extend((vname,) + x for x in dd)
                _, legacy = stack.lower_options(opts, ntop, self.fs_b == FS_A)
                say("[diff] seed %d: %s (-o %s): %s %s%s, %s %s%s: %d difference(s)" % (
                    seed, vname, _optsummary(legacy), FS_A, da["mount"],
                    " %d paths" % len(da["paths"]) if "paths" in da else "",
                    self.fs_b, db["mount"],
                    " %d paths" % len(db["paths"]) if "paths" in db else "", len(dd)))
                if dd or self.keep:
                    for dmp in (da, db):
                        with open(os.path.join(sdir, "dump-%s-%s.json" % (
                                dmp["fs"] + ("-b" if dmp is db else ""), vname)), "w") as f:
                            json.dump(dmp, f, indent=0, sort_keys=True)
        except Exception as e:  # noqa: BLE001 - any tester failure is a difference
            internal = "%s: %s" % (type(e).__name__, e)
            with open(os.path.join(sdir, "internal-error.txt"), "w") as f:
                traceback.print_exc(file=f)
            say("[diff] seed %d: INTERNAL ERROR: %s" % (seed, internal))
            for l in traceback.format_exc().rstrip().split("\n")[-6:]:
                say("    " + l)
        finally:
            if diffs or internal:
                try:
                    write_layers(stack, os.path.join(sdir, "layers.txt"))
                except Exception as e:  # noqa: BLE001
                    log("layer listing failed: %s" % e)
            errs = stack.cleanup()
            for e in errs:
                log(e)
            shutil.rmtree(wd, ignore_errors=True)
            self.check_kmsg(seed, "cleanup", self.kmsg.read(), kfile)
            kfile.close()
            with open(os.path.join(sdir, "gen.log"), "w") as f:
                f.write("\n".join(genlog) + "\n")
            if errs and not internal:
                internal = "cleanup: " + "; ".join(errs)
                say("[diff] seed %d: INTERNAL ERROR: %s" % (seed, internal))
        with open(os.path.join(sdir, "diff.txt"), "w") as f:
            if internal:
                f.write("internal error: %s\n" % internal)
            for v, p, fld, a, b in diffs[:2000]:
                f.write("%s\t%s\t%s\t%s=%s\t%s=%s\n" % (v, p, fld, FS_A, _fmt(a),
                                                       self.name_b, _fmt(b)))
            if len(diffs) > 2000:
                f.write("... %d more\n" % (len(diffs) - 2000))
        failed = bool(diffs or internal)
        if failed:
            say("[diff] FAIL seed %d: %d difference(s)%s in %.1fs; details in %s" % (
                seed, len(diffs), " + internal error" if internal else "",
                time.time() - t0, sdir))
            for v, p, fld, a, b in diffs[:self.show]:
                say("    %s %s: %s: %s=%s %s=%s" % (v, p, fld, FS_A, _fmt(a, 200),
                                                   self.name_b, _fmt(b, 200)))
            if len(diffs) > self.show:
                say("    ... %d more in %s" % (len(diffs) - self.show,
                                               os.path.join(sdir, "diff.txt")))
            env = "" if self.fs_b == "rovl" else "ROVL_DIFF_FS_B=%s " % self.fs_b
            env += "ROVL_DIFF_MUTATE=1 " if self.mutate else ""
            env += "ROVL_DIFF_SINGLE=1 " if self.single else ""
            say("    reproduce: %sscripts/difftest.sh %d   (in the VM: %sROVL_DIFF_SEEDS=%d "
                "selftests/diff/guest.sh ROVL_KO OVERLAY_KO OUTDIR)" % (env, seed, env, seed))
        else:
            say("[diff] ok seed %d: %d paths in %.1fs" % (seed, npaths, time.time() - t0))
        if not failed and not self.keep:
            for fn in ("kmsg.txt",):
                p = os.path.join(sdir, fn)
                if os.path.exists(p) and os.path.getsize(p) == 0:
                    os.unlink(p)
        return failed

    def run(self, seeds):
        say("[diff] %d stack(s): %s vs %s%s%s" % (
            len(seeds), FS_A, self.fs_b, " (self-check: mutate between dumps)"
            if self.mutate else "", "" if not self.modnote else "; " + self.modnote))
        nfail = 0
        failing = []
        t0 = time.time()
        for i, seed in enumerate(seeds, 1):
            if self.run_stack(seed, i, len(seeds)):
                nfail += 1
                failing.append(seed)
            with open(os.path.join(self.outdir, "progress.json"), "w") as f:
                json.dump({"stacks": i, "differences": nfail, "failing": failing}, f)
        shutil.rmtree(self.workroot, ignore_errors=True)
        say("[diff] %d stacks in %.0fs; failing seeds: %s" % (
            len(seeds), time.time() - t0, " ".join(map(str, failing)) or "none"))
        for n in self.kernel_notes:
            say("[diff] kernel log report: " + n)
        say("differential vs overlay: %d stacks, %d differences" % (len(seeds), nfail))
        return 0 if nfail == 0 else 1


def _optsummary(legacy):
    parts = []
    for p in legacy.split(","):
        if p.startswith("lowerdir="):
            v = p[len("lowerdir="):]
            parts.append("lowerdir=%d layers%s" % (v.count(":") - 2 * v.count("::") + 1,
                                                   "" if "::" not in v else
                                                   " (%d data)" % v.count("::")))
        elif p.startswith(("lowerdir+=", "datadir+=")):
            continue
        else:
            parts.append(p)
    n_plus = legacy.count("lowerdir+=")
    if n_plus:
        parts.insert(0, "fsconfig lowerdir+ x%d datadir+ x%d" % (n_plus, legacy.count("datadir+=")))
    return ",".join(parts)


def _fmt(v, cap=2000):
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\n", "\\n").replace("\t", "\\t")
    return s if len(s) <= cap else s[:cap] + "...(%d)" % len(s)


def write_layers(stack, path):
    """A raw listing of every layer with overlay-relevant metadata (for debugging)."""
    with open(path, "w") as f:
        for li, layer in enumerate(stack.layers + stack.datalayers):
            f.write("=== layer %d: %s\n" % (li, layer))
            for rel in [""] + sorted(gen.scan(layer)):
                full = os.path.join(layer, rel) if rel else layer
                try:
                    st = os.lstat(full)
                except OSError as e:
                    f.write("%s: %s\n" % (rel or ".", oserr(e)))
                    continue
                info = "%s %04o %d:%d size=%d ino=%d" % (
                    dump.ftype(st.st_mode), st.st_mode & 0o7777, st.st_uid, st.st_gid,
                    st.st_size, st.st_ino)
                if dump.ftype(st.st_mode) in ("chr", "blk"):
                    info += " rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
                try:
                    xs = sorted(os.listxattr(full, follow_symlinks=False))
                except OSError:
                    xs = []
                for x in xs:
                    try:
                        info += " %s=%s" % (x, dump.fmt_value(
                            os.getxattr(full, x, follow_symlinks=False)))
                    except OSError as e:
                        info += " %s:%s" % (x, oserr(e))
                f.write("%s: %s\n" % (rel or ".", info))


def mutate(stack, log):
    """Self-check: change the top layer so that the second dump must differ."""
    rng = random.Random(stack.seed ^ 0x5EED)
    top = stack.layers[0]
    ents = sorted(gen.scan(top).items())
    files = []
    for rel, k in ents:
        if k != "f":
            continue
        full = os.path.join(top, rel)
        try:
            if os.path.getsize(full) == 0 or any(
                    "overlay." in x for x in os.listxattr(full)):
                continue
        except OSError:
            continue
        files.append(rel)
    kind = rng.choice(["content", "chmod", "newfile", "whiteout"])
    if kind in ("content", "chmod") and files:
        rel = rng.choice(files)
        full = os.path.join(top, rel)
        if kind == "content":
            with open(full, "r+b") as f:
                off = rng.randrange(os.path.getsize(full))
                f.seek(off)
                b = f.read(1)
                f.seek(off)
                f.write(bytes([b[0] ^ 0x20]))
            return "flipped a byte at %d of %s" % (off, rel)
        m = os.stat(full).st_mode
        os.chmod(full, (m ^ 0o004) & 0o7777)
        return "chmod o^r %s" % rel
    if kind == "whiteout" and len(stack.layers) > 1:
        below = sorted(n for n, k in gen.scan(stack.layers[1]).items()
                       if "/" not in n and k in ("f", "l") and n not in dict(ents))
        if below:
            n = rng.choice(below)
            os.mknod(os.path.join(top, n), 0o644 | 0o020000, 0)
            return "0/0 whiteout for %s in the top layer" % n
    with open(os.path.join(top, "zz-selfcheck"), "w") as f:
        f.write("new\n")
    return "new file zz-selfcheck in the top layer"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    env = os.environ.get("ROVL_DIFF_SEEDS", "").split()
    try:
        seeds = [int(s, 0) for s in env] if env else list(CI_SEEDS)
    except ValueError:
        print("ROVL_DIFF_SEEDS: not a list of integers: %r" % env, file=sys.stderr)
        return 2
    os.umask(0o022)
    return Runner(outdir).run(seeds)


if __name__ == "__main__":
    sys.exit(main())

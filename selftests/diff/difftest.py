# SPDX-License-Identifier: GPL-2.0
"""Differential test of rovl against the in-kernel overlayfs (the oracle).

    python3 difftest.py OUTDIR          (run by guest.sh, as root, in the test VM)

For each seed: build a layer stack with the in-kernel overlayfs (gen.py),
mount it lower-only with "overlay" and with the file system under test
(default "rovl") using the same options, dump both (dump.py), compare.
About half of the seeds also mount the stack with its top layer as the
upper layer (read-only, index=off: the "upper" variant), one file system
after the other, and compare also what the mounts changed on disk in the
upper layer and the work dir (put back between the two).
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
import stat
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
# file system with 64-bit inode numbers).  The upper variant (read-only
# mount with upperdir=): 178, 1404, 2573, 1164 and 11 have it, and 475
# (userxattr; uuid=on writes user.overlay.uuid on an upper root without
# one) and 2411 (uuid=auto on an upper root without uuid nor impure: a new
# uuid) were added for it.
CI_SEEDS = [530, 1136, 2076, 178, 1422, 1432, 1404, 2573, 2955, 899, 1164, 11, 80,
            475, 2411]

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
        upper = bool(opts.get("upper"))
        t0 = time.time()
        try:
            probes = []
            if upper:
                # the private xattrs of upper layers must stay hidden too
                probes = [stack.prefix + x for x in ("origin", "impure", "nlink", "uuid",
                                                     "upper", "protattr")]
            dm = dump.Dump(mnt, stack.seed, probes)
            dm.walk(union)
            if self.opts_comparable:
                d["mountopts"] = sysutil.mountinfo_opts(mnt) or "(none)"
            try:
                sv = os.statvfs(mnt)
                d["statvfs"] = "bsize=%d namemax=%d flag=%#x" % (sv.f_bsize, sv.f_namemax,
                                                                 sv.f_flag)
            except OSError as e:
                d["statvfs"] = oserr(e)
            ids = None
            if upper:
                ids = fs_ids(stack, mnt, d)
            sysutil.drop_caches()
            dc = dm.restat()
            sysutil.umount(mnt)
            res2, _ = stack.mount_lower(fstype, opts, ntop)
            d["remount"] = res2
            rem = None
            if res2 == "OK":
                if upper:
                    d2 = {}
                    ids2 = fs_ids(stack, mnt, d2)
                    d["fsid_remount"] = "same" if ids2[0] == ids[0] else "changed: %s" % (
                        d2["fsid"])
                    d["fsuuid_remount"] = "same" if ids2[1] == ids[1] else "changed: %s" % (
                        d2["fsuuid"])
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

    def upper_states(self, stack):
        """On-disk state of the upper layer and the work dir."""
        return (dump.disk_state(stack.layers[0]), dump.disk_state(stack.upper_work))

    def restore_upper(self, stack, pre, log):
        """Put the upper layer and the work dir back as they were in pre =
        (upper state, work state), so that both file systems mount the same
        upper layer and work dir.  A mount may write overlay.uuid, set
        overlay.origin (and overlay.impure on the parent) on merge dirs
        without one, remove an unneeded overlay.impure, and it empties
        work/work: leftovers of the generator's round there (the shared
        whiteout "#N", a hard link of the upper layer's whiteouts) are made
        again, as hard links of the same upper inode.  Inode numbers, times
        and the work/work directory itself (made afresh by every mount) are
        not restored; the comparison of the changes only says whether they
        changed."""
        top, work = stack.layers[0], stack.upper_work
        for root, st in ((top, pre[0]), (work, pre[1])):
            now = dump.disk_state(root)
            # what the mount made: remove it (deepest first)
            for rel in sorted(set(now) - set(st), key=lambda r: (-len(dump.relkey(r)), r)):
                full = os.path.join(root, rel)
                try:
                    if now[rel].get("type") == "dir":
                        shutil.rmtree(full)
                    else:
                        os.unlink(full)
                    log("restore %s: removed %s" % (root, rel))
                except OSError as e:
                    log("restore %s: remove %s: %s" % (root, rel, oserr(e)))
            # what the mount removed: make it again (shallowest first)
            upper_by_ino = {}
            for rel, r in pre[0].items():
                if r.get("type") not in (None, "dir"):
                    upper_by_ino.setdefault(r["ino"], rel)
            for rel in sorted(set(st) - set(now), key=lambda r: (len(dump.relkey(r)), r)):
                _recreate(root, rel, st[rel], top, upper_by_ino, log)
            now = dump.disk_state(root)
            for rel in sorted(set(st) & set(now), key=dump.relkey):
                full = root if rel == "." else os.path.join(root, rel)
                a, b = st[rel], now[rel]
                if "type" not in a or "type" not in b:
                    continue
                try:
                    if a["type"] != "lnk" and a["mode"] != b["mode"]:
                        os.chmod(full, int(a["mode"], 8))
                        log("restore %s %s: mode %s" % (root, rel, a["mode"]))
                    if a["owner"] != b["owner"]:
                        u, g = map(int, a["owner"].split(":"))
                        os.chown(full, u, g, follow_symlinks=False)
                        log("restore %s %s: owner %s" % (root, rel, a["owner"]))
                except OSError as e:
                    log("restore %s %s: %s" % (root, rel, oserr(e)))
                _restore_xattrs(full, a.get("xattrs", {}), b.get("xattrs", {}),
                                "restore %s %s" % (root, rel), log)

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
            upper_done = None
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
                upper = bool(opts.get("upper"))
                if upper and upper_done is None:
                    upper_done = stack.prepare_upper()
                    log("upper layer prepared: %s" % upper_done)
                    if upper_done != "none":
                        say("[diff] seed %d: upper layer: %s" % (seed, upper_done))
                union = union_paths(stack, ntop)
                if upper:
                    pre_a = self.upper_states(stack)
                da = self.dump_fs(stack, FS_A, vname, opts, ntop, union, log)
                self.check_kmsg(seed, "%s %s" % (FS_A, vname), self.kmsg.read(), kfile)
                if upper:
                    post_a = self.upper_states(stack)
                    self.restore_upper(stack, pre_a, log)
                if self.mutate and (mutated is None or upper):
                    # the upper variant gets a mutation of its own (the
                    # first one is in both of its dumps)
                    mutated = mutate(stack, log, 1 if upper else 0)
                    say("[diff] seed %d: self-check mutation: %s" % (seed, mutated))
                if upper:
                    pre_b = self.upper_states(stack)
                db = self.dump_fs(stack, self.fs_b, vname, opts, ntop, union, log)
                self.check_kmsg(seed, "%s %s" % (self.fs_b, vname), self.kmsg.read(), kfile)
                npaths = max(npaths, len(da.get("paths", {})))
                dd = [x for x in dump.compare(da, db) if (x[0], x[1]) not in ignore]
                if upper:
                    if self.mutate:
                        # and a change on disk that only the second mount "made"
                        os.setxattr(stack.layers[0], "user.rovl-diff-selfcheck", b"1")
                        say("[diff] seed %d: self-check: user.rovl-diff-selfcheck set on "
                            "the upper root after the second mount" % seed)
                    post_b = self.upper_states(stack)
                    self.restore_upper(stack, pre_b, log)
                    # What each mount (mount, dump, umount, mount, umount)
                    # changed on disk must be the same.
                    dla = [dump.disk_delta(pre_a[i], post_a[i]) for i in (0, 1)]
                    dlb = [dump.disk_delta(pre_b[i], post_b[i]) for i in (0, 1)]
                    # The ctime of an upper entry that both mounts wrote
                    # (overlay.origin of a merge dir, overlay.uuid of the
                    # root) is the time of the write: not comparable.
                    both = {p for (p, f), v in dla[0].items()
                            if f == "ctime" and dlb[0].get((p, f)) == v}
                    dd = [x for x in dd if not (x[1] == "ctime" and x[0] in both)]
                    dd += dump.compare_disk("upper-disk", dla[0], dlb[0])
                    dd += dump.compare_disk("work-disk", dla[1], dlb[1])
                    da["disk_changes"] = _delta_json(dla)
                    db["disk_changes"] = _delta_json(dlb)
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
        elif p.startswith(("upperdir=", "workdir=")):
            k, _, v = p.partition("=")
            parts.append("%s=%s" % (k, os.path.basename(v)))
        else:
            parts.append(p)
    n_plus = legacy.count("lowerdir+=")
    if n_plus:
        parts.insert(0, "fsconfig lowerdir+ x%d datadir+ x%d" % (n_plus, legacy.count("datadir+=")))
    return ",".join(parts)


def _restore_xattrs(full, want, have, what, log):
    for n in sorted(set(want) | set(have)):
        va, vb = want.get(n), have.get(n)
        if va == vb:
            continue
        try:
            if va is None:
                os.removexattr(full, n, follow_symlinks=False)
                log("%s: removed %s" % (what, n))
            elif not va.startswith("E"):
                os.setxattr(full, n, bytes.fromhex(va), follow_symlinks=False)
                log("%s: set %s back" % (what, n))
        except OSError as e:
            log("%s: %s %s" % (what, n, oserr(e)))


def _recreate(root, rel, r, top, upper_by_ino, log):
    """Make path rel of root again as described by disk_state() record r: a
    hard link of the upper layer's inode it shared (the shared whiteout in
    work/), else a new object of that type, mode, owner and xattrs."""
    full = os.path.join(root, rel)
    t = r.get("type")
    try:
        twin = upper_by_ino.get(r.get("ino")) if t != "dir" and int(r.get("nlink", 1)) > 1 else None
        if twin is not None:
            os.link(os.path.join(top, twin), full)
            log("restore %s: %s linked again to upper %s" % (root, rel, twin))
            return
        if t == "dir":
            os.mkdir(full, 0o700)
        elif t in ("chr", "blk"):
            ma, mi = map(int, r["rdev"].split(":"))
            os.mknod(full, (stat.S_IFCHR if t == "chr" else stat.S_IFBLK) | 0o600,
                     os.makedev(ma, mi))
        elif t == "fifo":
            os.mkfifo(full, 0o600)
        elif t == "lnk":
            os.symlink(eval(r["readlink"]), full)   # noqa: S307 - our own repr()
        elif t == "reg":
            os.close(os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            if int(r["size"]):
                os.truncate(full, int(r["size"]))
        else:
            log("restore %s: cannot make %s (%s) again" % (root, rel, t))
            return
        if t != "lnk":
            os.chmod(full, int(r["mode"], 8))
        u, g = map(int, r["owner"].split(":"))
        os.chown(full, u, g, follow_symlinks=False)
        _restore_xattrs(full, r.get("xattrs", {}), {}, "restore %s %s" % (root, rel), log)
        log("restore %s: %s (%s) made again" % (root, rel, t))
    except (OSError, ValueError, KeyError) as e:
        log("restore %s: make %s again: %s" % (root, rel, e))


def _delta_json(deltas):
    return {w: {"%s %s" % k: v for k, v in sorted(d.items())}
            for w, d in zip(("upper", "work"), deltas)}


def _fsid_of(path):
    try:
        return sysutil.statfs_fsid(path)
    except OSError:
        return None


def _fsuuid_of(path):
    try:
        return sysutil.getfsuuid(path)
    except OSError:
        return None


def _uuid_to_fsid(u):
    """uuid_to_fsid() of the kernel (f_fsid of an overlay with a uuid): the
    two little-endian 64-bit halves xor-ed, as val[0] (low) and val[1]."""
    v = int.from_bytes(u[:8], "little") ^ int.from_bytes(u[8:16], "little")
    return (v & 0xffffffff, v >> 32)


def fs_ids(stack, mnt, d):
    """f_fsid, s_uuid (FS_IOC_GETFSUUID) and where statfs comes from, of the
    mount at mnt with an upper layer, as relations: 'uuid-xattr' (from the
    upper root's overlay.uuid as it is on disk now), 'upper-fs' / 'lower-fs'
    (the same as the file system of the upper / top lower layer), 'zero'.
    Sets d[fsid], d[fsuuid], d[statfs_src]; returns the raw values (for the
    stability check after remount)."""
    top, low = stack.layers[0], stack.layers[1]
    try:
        ux = os.getxattr(top, stack.prefix + "uuid")
    except OSError:
        ux = None
    try:
        fsid = sysutil.statfs_fsid(mnt)
        cands = [("uuid-xattr", _uuid_to_fsid(ux) if ux and len(ux) == 16 else None),
                 ("upper-fs", _fsid_of(top)), ("lower-fs", _fsid_of(low)), ("zero", (0, 0))]
        d["fsid"] = next((n for n, v in cands if v == fsid), "other")
    except OSError as e:
        fsid = None
        d["fsid"] = oserr(e)
    try:
        fu = sysutil.getfsuuid(mnt)
        cands = [("uuid-xattr", ux), ("upper-fs", _fsuuid_of(top)),
                 ("lower-fs", _fsuuid_of(low)), ("zero", bytes(len(fu)))]
        d["fsuuid"] = "%s/len=%d" % (next((n for n, v in cands if v == fu), "other"), len(fu))
    except OSError as e:
        fu = None
        d["fsuuid"] = oserr(e)
    try:
        sv = os.statvfs(mnt)
        key = (sv.f_blocks, sv.f_bsize, sv.f_files)
        src = "other"
        for n, p in (("upper-fs", top), ("lower-fs", low)):
            s2 = os.statvfs(p)
            if (s2.f_blocks, s2.f_bsize, s2.f_files) == key:
                src = n
                break
        d["statfs_src"] = src
    except OSError as e:
        d["statfs_src"] = oserr(e)
    return fsid, fu


def _fmt(v, cap=2000):
    s = v if isinstance(v, str) else json.dumps(v)
    s = s.replace("\n", "\\n").replace("\t", "\\t")
    return s if len(s) <= cap else s[:cap] + "...(%d)" % len(s)


def write_layers(stack, path):
    """A raw listing of every layer with overlay-relevant metadata (for debugging)."""
    with open(path, "w") as f:
        extra = []
        if stack.profile.get("upper") and stack.upper_work:
            extra = [stack.upper_work]
        for li, layer in enumerate(stack.layers + stack.datalayers + extra):
            what = "layer %d" % li
            if li == 0 and stack.profile.get("upper"):
                what += " (the upper layer of the upper variant)"
            elif extra and layer == extra[0] and li == len(stack.layers) + len(stack.datalayers):
                what = "work dir of the upper variant"
            f.write("=== %s: %s\n" % (what, layer))
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


def mutate(stack, log, salt=0):
    """Self-check: change the top layer so that the second dump must differ."""
    rng = random.Random((stack.seed ^ 0x5EED) + salt)
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
    name = "zz-selfcheck" + ("%d" % salt if salt else "")
    with open(os.path.join(top, name), "w") as f:
        f.write("new\n")
    return "new file %s in the top layer" % name


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

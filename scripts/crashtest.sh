#!/usr/bin/env bash
# Crash test of copy-up: power off the test VM in the middle of big
# copy-ups, boot again, and check that every file is either untouched or
# fully copied up, never partially.  Not part of CI: too slow (RUNS + 1
# boots of the TCG VM, each copying or reading hundreds of MiB; 2 to 3
# minutes per run).
#
#   scripts/crashtest.sh FSTYP [RUNS]
#
# FSTYP is "overlay" (the test kernel's in-kernel overlayfs, for reference)
# or "rovl" (./rovl.ko: run make first); RUNS defaults to 3.
#
# The layers live on an ext4 image that persists across boots: a file in
# the results directory, which the guest sees over 9p (scripts/vm-run.sh
# mounts it at /tmp/results) and mounts through a loop device.  Whatever
# the guest wrote to it before the power-off is in the host's file; what
# was still in the guest's page cache is lost, as on a power failure.  The
# image is made once, on the host (mkfs.ext4 -d): lower/ holds two dense
# 64 MiB files, sparse files of 256 and 128 MiB, a dense 16 MiB file and a
# small tree; upper/ and work/ are empty.
#
# Each run is one boot of the VM (scripts/vm-run.sh, unchanged): load the
# module, mount the ext4, mount the overlay read-write (-t FSTYP,
# index=off,metacopy=off,redirect_dir=on,xino=off) and start, each in a
# process of its own, a one-byte write into the middle of a 64 MiB file,
# chmod of the other (data copy-ups: metacopy=off), truncate(2) of the 256
# MiB sparse file, a one-byte write into a hole of the 128 MiB one,
# open(O_TRUNC) + write of the 16 MiB one, and an append, a setxattr and a
# utimes in the small tree.  The guest then tells the host (a marker file in
# the results directory), which waits a random delay (uniform between 1 s
# and ROVL_CRASH_MAXDELAY, default 180 s, lowered to the copy-ups' duration
# once a run has finished them before its power-off: 60 to 100 s in the TCG
# VM) and kills QEMU with SIGKILL.  The next boot (the next run's, or a
# last one) mounts the ext4 (journal replay), checks it with e2fsck -fn,
# then checks every file in the upper layer as the disk holds it: a
# regular file whose content is the lower content, or the lower content
# with the change made (a change not yet written back may be lost), with
# the lower owner, xattrs and mode (or the new one); the upper layer may
# hold only directories and regular files that exist in the lower layer.  Then a fresh read-write mount of the same
# layers with FSTYP: work/work must be empty, the merged tree must have
# exactly the lower names, and copied files must read as their upper copy.
# Then the upper layer is emptied for the next run.
#
# Prints one line per run and ends with "crash test: N runs, M partial" (M:
# the runs that found at least one partial file or a bad fresh mount).
# Exit status 0 if no run found anything partial and every step worked;
# 1 if one did; 2 if the harness failed (a boot, the module, e2fsck).
#
# Environment: ROVL_CRASH_DIR (where the image, the markers and the VM's
# results go; default a new directory under $TMPDIR or /tmp; the image
# needs up to 1 GiB of disk space), ROVL_CRASH_MAXDELAY, ROVL_CRASH_SEED
# (seed for the delays), ROVL_VM_TIMEOUT (per boot, default 1800 s).
#
# Internally, "crashtest.sh --guest ..." is what runs inside the VM.
set -uo pipefail

# ---------------------------------------------------------------- guest --
# guest_py MODE ARGS: the checks and the copy-ups (python3, one process:
# every exec is slow in the TCG VM).
guest_py() {
	python3 - "$@" <<'PY'
import ctypes, errno, hashlib, json, os, shutil, signal, stat, sys, time

mode, FSTYP, DISK, MNT, RES, run = sys.argv[1:7]
L, U, W = DISK + "/lower", DISK + "/upper", DISK + "/work"
OPTS = "lowerdir=%s,upperdir=%s,workdir=%s,index=off,metacopy=off,redirect_dir=on,xino=off" % (L, U, W)
MiB = 1 << 20
BLK = 65536
ZERO = bytes(BLK)
libc = ctypes.CDLL(None, use_errno=True)
BIG_OFF, HOLE_OFF, TRUNC_TO, MTIME = 32 * MiB + 7, 96 * MiB + 3, 150 * MiB, 1000000000
FILES = ["big-write", "big-chmod", "sparse-trunc", "sparse-hole", "otrunc",
         "tree/d1/d2/append", "tree/d1/xattr", "tree/d3/utimes"]


def say(*a):
    print(*a, flush=True)


def die(msg):
    say("ERROR:", msg)
    sys.exit(2)


def ovl_mount():
    if libc.mount(b"none", MNT.encode(), FSTYP.encode(), 0, OPTS.encode()) != 0:
        e = ctypes.get_errno()
        die("read-write mount -t %s of the layers: %s" % (FSTYP, errno.errorcode.get(e, str(e))))


def ovl_umount():
    if libc.umount2(MNT.encode(), 0) != 0:
        e = ctypes.get_errno()
        die("umount of the overlay: %s" % errno.errorcode.get(e, str(e)))


def marker(name, text=""):
    with open(os.path.join(RES, name), "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


# --- content digests
def data_blocks(fd, size):
    offs, pos = set(), 0
    while pos < size:
        try:
            d = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break
            raise
        h = min(os.lseek(fd, d, os.SEEK_HOLE), size)
        off = d - d % BLK
        while off < h:
            offs.add(off)
            off += BLK
        pos = off
    return offs


def digest(path, size=None, patch=None):
    """(size, md5 over the non-zero 64 KiB blocks and their offsets) of the
    file, or of it cut/extended to SIZE with PATCH = (offset, bytes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        real = os.fstat(fd).st_size
        size = real if size is None else size
        offs = data_blocks(fd, min(size, real))
        if patch:
            offs.add(patch[0] - patch[0] % BLK)
            size = max(size, patch[0] + len(patch[1]))
        h = hashlib.md5()
        for off in sorted(offs):
            if off >= size:
                continue
            n = min(BLK, size - off)
            b = os.pread(fd, n, off) if off < real else b""
            b = b[:n] + bytes(n - len(b[:n]))
            if patch and off <= patch[0] < off + n:
                p = patch[0] - off
                b = (b[:p] + patch[1] + b[p + len(patch[1]):])[:n]
            if b != ZERO[:n]:
                h.update(b"%d:" % off)
                h.update(b)
        return (size, h.hexdigest())
    finally:
        os.close(fd)


def bytes_digest(data):
    h = hashlib.md5()
    for off in range(0, len(data), BLK):
        b = data[off:off + BLK]
        if b != ZERO[:len(b)]:
            h.update(b"%d:" % off)
            h.update(b)
    return (len(data), h.hexdigest())


def list_tree(top):
    out = {}
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            p = os.path.join(root, n)
            out[os.path.relpath(p, top)] = os.lstat(p)
    return out


if mode == "run":
    def write_at(rel, off, data):
        fd = os.open(os.path.join(MNT, rel), os.O_WRONLY)
        os.pwrite(fd, data, off)
        os.close(fd)

    def otrunc():
        fd = os.open(MNT + "/otrunc", os.O_WRONLY | os.O_TRUNC)
        os.write(fd, b"new\n")
        os.close(fd)

    def append():
        fd = os.open(MNT + "/tree/d1/d2/append", os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"appended\n")
        os.close(fd)

    OPS = [
        ("big-write", lambda: write_at("big-write", BIG_OFF, b"X")),
        ("big-chmod", lambda: os.chmod(MNT + "/big-chmod", 0o600)),
        ("sparse-trunc", lambda: os.truncate(MNT + "/sparse-trunc", TRUNC_TO)),
        ("sparse-hole", lambda: write_at("sparse-hole", HOLE_OFF, b"Y")),
        ("otrunc", otrunc),
        ("append", append),
        ("xattr", lambda: os.setxattr(MNT + "/tree/d1/xattr", "user.tag", b"set")),
        ("utimes", lambda: os.utime(MNT + "/tree/d3/utimes", (MTIME, MTIME))),
    ]
    ovl_mount()
    r, w = os.pipe()
    pids = {}
    for name, fn in OPS:
        pid = os.fork()
        if pid == 0:
            os.close(w)
            os.read(r, 1)
            try:
                fn()
                os._exit(0)
            except BaseException as e:
                os.write(1, ("ERROR: %s: %r\n" % (name, e)).encode())
                os._exit(10)
        pids[pid] = name
    os.close(r)
    t0 = time.monotonic()
    marker("started-" + run)
    os.close(w)
    bad = []
    prog = open(os.path.join(RES, "progress-" + run), "w")
    while pids:
        pid, st = os.wait()
        name = pids.pop(pid)
        if st:
            bad.append(name)
        # which copy-ups ended before the power-off (host side log)
        prog.write("%.1f %s %s\n" % (time.monotonic() - t0, name, "failed" if st else "done"))
        prog.flush()
        os.fsync(prog.fileno())
    el = time.monotonic() - t0
    say("run %s: copy-ups done after %.1fs%s" % (run, el, ", FAILED: %s" % bad if bad else ""))
    marker("finished-" + run, "%.1f %s\n" % (el, "failed" if bad else "ok"))
    # wait for the power-off: nothing is synced or unmounted on purpose
    time.sleep(100000)
    sys.exit(0)


LT = list_tree(L)
lp = lambda rel: os.path.join(L, rel)
VFILE = os.path.join(RES, "variants.json")
if mode == "variants":
    # on the host, once: the acceptable contents of every file (reading the
    # big lower files in the VM would take minutes)
    V = {rel: {digest(lp(rel)): "lower"} for rel in FILES}
    V["big-write"][digest(lp("big-write"), patch=(BIG_OFF, b"X"))] = "written"
    V["sparse-trunc"][digest(lp("sparse-trunc"), size=TRUNC_TO)] = "truncated"
    V["sparse-hole"][digest(lp("sparse-hole"), patch=(HOLE_OFF, b"Y"))] = "written"
    V["otrunc"][bytes_digest(b"")] = "emptied"
    V["otrunc"][bytes_digest(b"new\n")] = "rewritten"
    size = LT["tree/d1/d2/append"].st_size
    V["tree/d1/d2/append"][digest(lp("tree/d1/d2/append"), patch=(size, b"appended\n"))] = "appended"
    with open(VFILE, "w") as f:
        json.dump({rel: [[d[0], d[1], label] for d, label in v.items()] for rel, v in V.items()}, f)
    sys.exit(0)
with open(VFILE) as f:
    VARIANTS = {rel: {(d[0], d[1]): d[2] for d in v} for rel, v in json.load(f).items()}

states, digests, problems = {}, {}, []
up = list_tree(U)
for p, st in sorted(up.items()):
    if p not in LT:
        states[p] = "PARTIAL: unexpected upper entry (mode %o, size %d)" % (st.st_mode, st.st_size)
    elif stat.S_IFMT(st.st_mode) != stat.S_IFMT(LT[p].st_mode):
        states[p] = "PARTIAL: upper entry of another type (mode %o)" % st.st_mode
    elif stat.S_ISREG(st.st_mode) and p not in FILES:
        states[p] = "PARTIAL: copied up without any operation on it"
for rel in FILES:
    if rel in states:
        continue
    if rel not in up:
        states[rel] = "untouched"
        continue
    st, lst, p = up[rel], LT[rel], os.path.join(U, rel)
    d = digests[rel] = digest(p)
    label = VARIANTS[rel].get(d)
    bad = []
    if label is None:
        bad.append("content (size %d, lower %d)" % (st.st_size, lst.st_size))
    if (st.st_uid, st.st_gid) != (lst.st_uid, lst.st_gid):
        bad.append("owner")
    modes = {stat.S_IMODE(lst.st_mode)} | ({0o600} if rel == "big-chmod" else set())
    if stat.S_IMODE(st.st_mode) not in modes:
        bad.append("mode %o" % stat.S_IMODE(st.st_mode))
    xs = {n: os.getxattr(p, n) for n in os.listxattr(p) if n.startswith("user.")}
    want = {n: os.getxattr(lp(rel), n) for n in os.listxattr(lp(rel)) if n.startswith("user.")}
    if rel == "tree/d1/xattr" and xs.get("user.tag") == b"set":
        want["user.tag"] = b"set"
    if xs != want:
        bad.append("xattrs %s" % sorted(xs))
    states[rel] = "PARTIAL: " + ", ".join(bad) if bad else "copied (%s)" % label
for rel in sorted(states):
    say("  %s: %s" % (rel, states[rel]))

# a fresh read-write mount of the same layers
ovl_mount()
try:
    left = sorted(os.listdir(W + "/work")) if os.path.isdir(W + "/work") else ["(no work/work)"]
    if left:
        problems.append("work/work after a fresh mount: %s" % left)
    merged = set(list_tree(MNT))
    if merged != set(LT):
        problems.append("merged names: extra %s, missing %s"
                        % (sorted(merged - set(LT)), sorted(set(LT) - merged)))
    for rel, d in digests.items():
        if digest(os.path.join(MNT, rel)) != d:
            problems.append("%s: merged content differs from the upper copy" % rel)
finally:
    ovl_umount()
for p in problems:
    say("  PARTIAL:", p)

partial = sum(s.startswith("PARTIAL") for s in states.values()) + len(problems)
count = lambda w: sum(s.startswith(w) for s in states.values())
say("RESULT run=%s files=%d untouched=%d copied=%d partial=%d"
    % (run, len(FILES), count("untouched"), count("copied"), partial))
# empty the upper layer for the next run
for n in os.listdir(U):
    p = os.path.join(U, n)
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    else:
        os.unlink(p)
os.sync()
PY
}

# guest FSTYP KO [check RUN] [run RUN]: inside the VM.
guest() {
	local fstyp=$1 ko=$2 res=/tmp/results
	shift 2
	local disk=/tmp/crash/disk mnt=/tmp/crash/mnt img=$res/disk.img
	mkdir -p "$disk" "$mnt"
	if ! grep -qw "$fstyp" /proc/filesystems; then
		insmod "$ko" || { echo "ERROR: insmod $ko"; return 2; }
	fi
	if [ "${1:-}" = check ]; then
		# the mount after the power-off replays the journal; then e2fsck
		mount -o loop "$img" "$disk" || { echo "ERROR: mount of the image"; return 2; }
		umount "$disk" || { echo "ERROR: umount of the image"; return 2; }
		if ! e2fsck -fn "$img" > "$res/fsck-$2.txt" 2>&1; then
			echo "ERROR: e2fsck -fn after run $2 (see fsck-$2.txt)"
			return 2
		fi
		mount -o loop "$img" "$disk" || { echo "ERROR: mount of the image"; return 2; }
		guest_py check "$fstyp" "$disk" "$mnt" "$res" "$2" > "$res/check-$2.txt" 2>&1
		local rc=$?
		cat "$res/check-$2.txt"
		[ "$rc" = 0 ] || return 2
		shift 2
		umount "$disk" || { echo "ERROR: umount of the image"; return 2; }
	fi
	if [ "${1:-}" = run ]; then
		mount -o loop "$img" "$disk" || { echo "ERROR: mount of the image"; return 2; }
		guest_py run "$fstyp" "$disk" "$mnt" "$res" "$2"
		return 2	# not reached unless the copy-ups failed to start
	fi
	return 0
}

if [ "${1:-}" = --guest ]; then
	shift
	guest "$@"
	exit
fi

# ----------------------------------------------------------------- host --
. "$(dirname "$0")/env.sh"
fstyp=${1:-}
runs=${2:-3}
case "$fstyp" in
overlay|rovl) ;;
*) rovl_die "usage: scripts/crashtest.sh overlay|rovl [RUNS]" ;;
esac
case "$runs" in
''|*[!0-9]*|0) rovl_die "RUNS must be a positive number" ;;
esac
kdir=$(rovl_kdir)
if [ "$fstyp" = overlay ]; then
	ko=$kdir/fs/overlayfs/overlay.ko
else
	ko=$ROVL_TOP/rovl.ko
fi
[ -f "$ko" ] || rovl_die "no $ko (scripts/setup.sh; make)"
dir=${ROVL_CRASH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/rovl-crash.XXXXXX")}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
maxdelay=${ROVL_CRASH_MAXDELAY:-180}
seed=${ROVL_CRASH_SEED:-$(date +%s)}
RANDOM=$seed
rovl_log "crash test of $fstyp, $runs runs, seed $seed, in $dir"

# --- the image: lower files made on the host, put in by mkfs.ext4 -d
stage=$dir/stage
rm -rf "$stage" "$dir"/disk.img "$dir"/variants.json "$dir"/progress-* "$dir"/started-* "$dir"/finished-* "$dir"/check-* "$dir"/fsck-*
mkdir -p "$stage/lower" "$stage/upper" "$stage/work"
python3 - "$stage/lower" <<'PY' || rovl_die "making the lower layer"
import os, sys
L = sys.argv[1]
MiB = 1 << 20


def pattern(tag, size):
    tag = tag.encode()
    return b"".join((b"%s@%d;" % (tag, o)).ljust(4096, b"\xa5") for o in range(0, size, 4096))[:size]


def make(rel, size, extents):
    p = os.path.join(L, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        for off, n in extents:
            for o in range(off, off + n, 8 * MiB):
                f.seek(o)
                f.write(pattern(rel + str(o), min(8 * MiB, off + n - o)))
        f.truncate(size)
    os.utime(p, (999999000, 999999000))


make("big-write", 64 * MiB, [(0, 64 * MiB)])
make("big-chmod", 64 * MiB, [(0, 64 * MiB)])
make("sparse-trunc", 256 * MiB, [(0, MiB), (100 * MiB, 4 * MiB), (200 * MiB, MiB), (256 * MiB - 4096, 4096)])
make("sparse-hole", 128 * MiB, [(0, MiB), (64 * MiB, MiB)])
make("otrunc", 16 * MiB, [(0, 16 * MiB)])
make("tree/d1/d2/append", 10000, [(0, 10000)])
make("tree/d1/xattr", 5000, [(0, 5000)])
make("tree/d3/utimes", 3000, [(0, 3000)])
make("tree/d3/never", 100, [(0, 100)])
make("tree/d4/sub/deep", 100, [(0, 100)])
for rel in ("big-write", "big-chmod", "tree/d1/xattr"):
    os.setxattr(os.path.join(L, rel), "user.orig", b"lower " + rel.encode())
os.chmod(os.path.join(L, "tree/d1"), 0o750)
PY
guest_py variants none "$stage" none "$dir" 0 || rovl_die "digests of the lower files"
truncate -s 1G "$dir/disk.img" &&
	mkfs.ext4 -q -F -d "$stage" -E lazy_itable_init=1,lazy_journal_init=1,nodiscard "$dir/disk.img" ||
	rovl_die "mkfs.ext4 -d"
rm -rf "$stage"

# qemu_of PID: the QEMU process among PID's descendants.
qemu_of() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do
		case "$(cat "/proc/$c/comm" 2>/dev/null)" in
		qemu-system*) echo "$c"; return 0 ;;
		esac
		qemu_of "$c" && return 0
	done
	return 1
}

# boot I ARGS...: one VM run of "crashtest.sh --guest $fstyp $ko ARGS" in
# the background; its log in $dir/vm-I.log.
boot() {
	local i=$1
	shift
	"$ROVL_TOP/scripts/vm-run.sh" -o "$dir" -t "${ROVL_VM_TIMEOUT:-1800}" -- \
		scripts/crashtest.sh --guest "$fstyp" "$ko" "$@" > "$dir/vm-$i.log" 2>&1 &
	vm=$!
}

harness_fail() {
	rovl_log "$*"
	for f in "$dir/job.log" "$dir/vm-$i.log"; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
	done
	exit 2
}

# interrupted (^C, an error): power off a VM still running
vm=
trap '[ -n "$vm" ] && kill -0 "$vm" 2>/dev/null && q=$(qemu_of "$vm") && kill -9 "$q"' EXIT

partial_runs=0
for i in $(seq 1 "$runs"); do
	if [ "$i" = 1 ]; then
		boot "$i" run "$i"
	else
		boot "$i" check $((i - 1)) run "$i"
	fi
	# a check of the previous run comes first, then the copy-ups start
	while [ ! -f "$dir/started-$i" ]; do
		kill -0 "$vm" 2>/dev/null || { wait "$vm"; harness_fail "run $i: the VM ended before the copy-ups started (status $?)"; }
		sleep 0.2
	done
	if [ "$i" -gt 1 ]; then
		line=$(grep '^RESULT ' "$dir/check-$((i - 1)).txt")
		echo "run $((i - 1)): ${line#RESULT run=$((i - 1)) }"
		grep -q ' partial=0$' <<< "$line" || partial_runs=$((partial_runs + 1))
	fi
	# a random delay in [1, maxdelay] seconds, in tenths
	delay=$(( 10 + RANDOM % (maxdelay * 10 - 9) ))
	start=$(date +%s%N)
	while [ $(( ($(date +%s%N) - start) / 100000000 )) -lt "$delay" ]; do
		kill -0 "$vm" 2>/dev/null || { wait "$vm"; harness_fail "run $i: the VM ended before the power-off (status $?)"; }
		sleep 0.1
	done
	q=$(qemu_of "$vm") || harness_fail "run $i: no QEMU process under $vm"
	kill -9 "$q"
	wait "$vm"
	vrc=$?
	[ "$vrc" = 4 ] || harness_fail "run $i: scripts/vm-run.sh exited with status $vrc after the power-off (expected 4)"
	done_ops=$(awk '{ printf "%s%s", sep, $2; sep = ", " }' "$dir/progress-$i" 2>/dev/null)
	if [ -f "$dir/finished-$i" ]; then
		read -r took st < "$dir/finished-$i"
		[ "$st" = ok ] || harness_fail "run $i: a copy-up failed (see $dir/job.log)"
		rovl_log "run $i: power-off after $((delay / 10)).$((delay % 10))s, after the copy-ups finished (${took}s)"
		# later runs: a delay within the copy-ups' time
		m=${took%.*}
		[ "$m" -ge 2 ] && [ "$m" -lt "$maxdelay" ] && maxdelay=$m
	else
		rovl_log "run $i: power-off after $((delay / 10)).$((delay % 10))s, copy-ups in flight (finished: ${done_ops:-none})"
	fi
done
# the last check
boot check check "$runs"
wait "$vm"
vrc=$?
[ "$vrc" = 0 ] || harness_fail "the last check: scripts/vm-run.sh exited with status $vrc"
line=$(grep '^RESULT ' "$dir/check-$runs.txt") || harness_fail "no result from the last check"
echo "run $runs: ${line#RESULT run=$runs }"
grep -q ' partial=0$' <<< "$line" || partial_runs=$((partial_runs + 1))
for i in $(seq 1 "$runs"); do
	grep -q PARTIAL "$dir/check-$i.txt" && { echo "--- run $i"; grep PARTIAL "$dir/check-$i.txt"; }
done
echo "crash test: $runs runs, $partial_runs partial"
[ "$partial_runs" = 0 ]

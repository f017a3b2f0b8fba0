#!/bin/bash
# Differential test of rovl against the in-kernel overlayfs, in the test VM.
#
#   selftests/diff/guest.sh ROVL_KO OVERLAY_KO OUTDIR
#
# Runs as root inside the VM (scripts/vm-run.sh).  Loads both modules if they
# are not loaded, runs the seeds of $ROVL_DIFF_SEEDS (space-separated;
# default: the CI seeds of difftest.py), writes details into OUTDIR/seed-N/,
# prints progress, and as its last line
#     differential vs overlay: N stacks, M differences
# (M: stacks with at least one difference; an internal error of the tester
# counts as one).  Exit status 0 iff M = 0.  See selftests/diff/README.rst.
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -ne 3 ]; then
	echo "usage: $0 ROVL_KO OVERLAY_KO OUTDIR" >&2
	echo "differential vs overlay: 0 stacks, 1 differences"
	exit 2
fi
rovl_ko=$1 overlay_ko=$2 outdir=$3
fs_b=${ROVL_DIFF_FS_B:-rovl}

fail() {
	echo "[diff] error: $*"
	echo "differential vs overlay: 0 stacks, 1 differences"
	exit 1
}

# load NAME KO [PARAMS...]: insmod unless loaded ("File exists" is fine).
load() {
	local name=$1 ko=$2 out rc
	shift 2
	[ -d "/sys/module/$name" ] && return 0
	out=$(insmod "$ko" "$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && ! grep -q 'File exists' <<< "$out"; then
		echo "[diff] insmod $ko $*: $out (exit status $rc)"
		return 1
	fi
	return 0
}

load overlay "$overlay_ko" || fail "cannot load $overlay_ko"
if [ "$fs_b" = rovl ]; then
	if [ ! -d /sys/module/rovl ]; then
		# Give rovl the defaults of the loaded overlayfs, so that the mount
		# options shown in /proc/self/mountinfo can be compared too.
		params=()
		for p in redirect_dir redirect_always_follow index nfs_export metacopy xino_auto; do
			[ -r "/sys/module/overlay/parameters/$p" ] &&
				params+=("$p=$(cat "/sys/module/overlay/parameters/$p")")
		done
		if ! load rovl "$rovl_ko" "${params[@]}"; then
			echo "[diff] retrying insmod without module parameters"
			load rovl "$rovl_ko" || fail "cannot load $rovl_ko"
		fi
	fi
	grep -qw rovl /proc/filesystems || fail "file system type rovl not registered"
fi
grep -qw overlay /proc/filesystems || fail "file system type overlay not registered"

# One "rovl-diff: seed N start" marker per stack goes to the kernel log, so
# that a report there can be attributed; don't let /dev/kmsg rate-limit them.
[ -w /proc/sys/kernel/printk_devkmsg ] && echo on > /proc/sys/kernel/printk_devkmsg

mkdir -p "$outdir" || fail "cannot create $outdir"
rm -f "$outdir/progress.json"
PYTHONDONTWRITEBYTECODE=1 python3 "$here/difftest.py" "$outdir"
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
	exit $rc
fi
# The tester itself died: report what it got through, plus this failure.
n=0 m=0
if [ -f "$outdir/progress.json" ]; then
	read -r n m < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["stacks"], d["differences"])' "$outdir/progress.json")
fi
echo "[diff] error: the tester exited with status $rc after $n stack(s)"
echo "differential vs overlay: $n stacks, $((m + 1)) differences"
exit 1

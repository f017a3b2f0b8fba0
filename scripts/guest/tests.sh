#!/bin/bash
# Runs inside the test VM (scripts/run-tests.sh starts it through
# scripts/vm-run.sh):
#
#   scripts/guest/tests.sh MODULE.ko [FSTYPE [OVERLAY_KO [PART]]]
#
# PART is "all" (the default), "selftests" or "diff": scripts/run-tests.sh
# runs the selftests and the differential tests in two VMs at once.
#
# clears kmemleak's record of the boot, loads the module (its KUnit suites
# run at load time) and, PART all or selftests, saves their KTAP output and
# runs selftests/check, then (PART all or diff, FSTYPE rovl only, when they
# exist) the differential tests
# selftests/diff/guest.sh and selftests/diffops/guest.sh (MODULE.ko
# OVERLAY_KO /tmp/results/diff[ops]), checks that
# nothing is left mounted, asks kmemleak for a scan while the module is
# still loaded (so that its functions have names in the traces), unloads the
# module and scans again.  Writes into /tmp/results:
#   ktap.txt, selftests.log, selftests.rc, diff.out and diffops.out (the
#   testers' output), diff.rc, diffops.rc, mounts-left.txt, rmmod.rc,
#   kmemleak.txt and kmemleak-rmmod.txt with a .status each ("ok" or what
#   went wrong).
# Exit status 0 when every step ran (the results are in the files), else 1.
set -u
ko=${1:?module path}
fstype=${2:-rovl}
overlay_ko=${3:-}
part=${4:-all}
case "$part" in all|selftests|diff) ;; *) echo "bad PART $part"; exit 1 ;; esac
res=/tmp/results
cd "$(dirname "$0")/../.."

kmemleak=/sys/kernel/debug/kmemleak
# kmemleak_scan OUT: report what kmemleak finds unreferenced now into OUT,
# OUT.status says whether the scan worked.  kmemleak reports only objects
# older than 5 seconds; a second scan drops objects that were only in
# transit during the first one.  'clear' afterwards, so that the next scan
# reports only new leaks.
kmemleak_scan() {
	local out=$1
	rm -f "$out" "$out.status"
	if [ ! -e "$kmemleak" ]; then
		echo "no $kmemleak" > "$out.status"; return
	fi
	sleep 5
	if echo scan > "$kmemleak" && echo scan > "$kmemleak" && cat "$kmemleak" > "$out" &&
	   echo clear > "$kmemleak"; then
		echo ok > "$out.status"
	else
		echo "writing 'scan' to $kmemleak failed (kmemleak disabled?)" > "$out.status"
	fi
}

# Forget the boot: 'clear' only hides objects that a scan has already
# reported, so scan first (everything allocated more than 5 seconds ago).
if [ -e "$kmemleak" ]; then
	sleep 5
	echo scan > "$kmemleak" && echo clear > "$kmemleak" ||
		echo "kmemleak: clearing the boot's objects failed"
fi

mark=$(dmesg | wc -l)
if ! insmod "$ko"; then
	echo "insmod $ko failed"
	exit 1
fi
# KTAP: the KUnit lines printed at load time, without printk timestamps.
[ "$part" = diff ] ||
	dmesg | tail -n +$((mark + 1)) | sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' |
	sed -n '/^KTAP version/,$p' > "$res/ktap.txt"

# Selftests that compare with, or prepare layers by, the in-kernel
# overlayfs (026, 027) need it loaded: they are skipped without it.
if [ -n "$overlay_ko" ] && ! grep -qw overlay /proc/filesystems; then
	insmod "$overlay_ko" || echo "insmod $overlay_ko failed"
fi
if [ "$part" != diff ]; then
	# the module loaded here (selftests/tests/030, which installs the
	# checkout's build, loads this one back if it leaves none loaded)
	[ "$fstype" = rovl ] && export ROVL_KO=$ko
	FSTYP=$fstype RESULT_DIR=$res/selftests selftests/check 2>&1 | tee "$res/selftests.log"
	echo "${PIPESTATUS[0]}" > "$res/selftests.rc"
fi

# Differential tests against the in-kernel overlayfs (FSTYPE rovl only):
# selftests/diff/ (stacks read by both; last line "differential vs overlay:
# N stacks, M differences") and selftests/diffops/ (the same random
# operations on a stack mounted read-write by each; "differential ops vs
# overlay: N sequences, M differences").  Their seeds and time limits come
# through the environment (ROVL_DIFF_SEEDS, ROVL_DIFF_TIMEOUT,
# ROVL_DIFFOPS_SEEDS, ROVL_DIFFOPS_TIMEOUT).
# difftest NAME TIMEOUT: runs selftests/NAME/guest.sh into $res/NAME*
difftest() {
	[ "$part" != selftests ] && [ "$fstype" = rovl ] && [ -x "selftests/$1/guest.sh" ] ||
		return 0
	echo "== differential tests (selftests/$1/guest.sh)"
	timeout -k 10 "$2" "selftests/$1/guest.sh" "$ko" "$overlay_ko" "$res/$1" > "$res/$1.out" 2>&1
	echo $? > "$res/$1.rc"
	tail -n 5 "$res/$1.out"
}
difftest diff "${ROVL_DIFF_TIMEOUT:-900}"
difftest diffops "${ROVL_DIFFOPS_TIMEOUT:-1500}"

# Everything must be unmounted by now: a leftover mount keeps the module
# busy and its objects referenced.  Report it, then unmount it so that the
# leak scan and the unload still say something.
awk -v t="$fstype" '$3 == t || $3 == "overlay" || $3 == "rovl"' /proc/self/mounts > "$res/mounts-left.txt"
awk '{ print $2 }' "$res/mounts-left.txt" | sort -r | while read -r m; do
	umount -l "$(printf '%b' "$m")"
done

kmemleak_scan "$res/kmemleak.txt"

rmmod "$fstype"; echo $? > "$res/rmmod.rc"

kmemleak_scan "$res/kmemleak-rmmod.txt"
exit 0

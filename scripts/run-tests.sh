#!/usr/bin/env bash
# The whole rovl test suite, one command:
#   1. set-up (idempotent: packages, bindgen, kernel source, test kernel);
#   2. host unit tests: cargo test (rust/logic);
#   3. the module build;
#   4. one QEMU VM on the test kernel: load the module (KUnit suites run and
#      are parsed with the kernel's kunit.py), selftests/check, unload,
#      kmemleak scan;
#   5. the kernel log check: any WARN, BUG, oops, KASAN, lockdep, list
#      corruption, hung task or leak report fails the run.
# Ends with the line "N passed, N failed".  Exit status 0 only if all passed;
# 3 if the VM never booted (a boot failure, not a test result).
#
# ROVL_FSTYPE=overlay runs the same VM tests against the in-kernel overlayfs
# module of the test kernel, for side-by-side comparison.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROVL_TOP"

fstype=${ROVL_FSTYPE:-rovl}
passed=0 failed=0
ok() { passed=$((passed + ${2:-1})); printf '[rovl] PASS: %s\n' "$1"; }
bad() { failed=$((failed + ${2:-1})); printf '[rovl] FAIL: %s\n' "$1"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit "${1:-1}"
}

t0=$(date +%s)
if ! "$ROVL_TOP/scripts/setup.sh"; then
	bad "set-up"
	finish
fi
t_setup=$(( $(date +%s) - t0 ))

# --- host unit tests ----------------------------------------------------
if [ -f Cargo.toml ]; then
	log=$(mktemp)
	if cargo test --quiet 2>&1 | tee "$log"; then :; fi
	n_ok=0 n_bad=0
	while read -r p f; do
		n_ok=$((n_ok + p)); n_bad=$((n_bad + f))
	done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
	if [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ]; then
		bad "cargo test produced no results (build failure?)"
	else
		[ "$n_ok" -gt 0 ] && ok "cargo test: $n_ok host unit tests" "$n_ok"
		[ "$n_bad" -gt 0 ] && bad "cargo test: $n_bad host unit tests" "$n_bad"
	fi
	rm -f "$log"
fi

# --- module build ---------------------------------------------------------
kdir=$(rovl_kdir)
if [ "$fstype" = rovl ]; then
	if make -s modules; then ok "module build"; else bad "module build"; finish; fi
	ko="$ROVL_TOP/rovl.ko"
else
	ko="$kdir/fs/overlayfs/$fstype.ko"
	[ -f "$ko" ] || { bad "no $ko in the test kernel"; finish; }
fi

# --- the VM ----------------------------------------------------------------
res=${ROVL_RESULTS:-$ROVL_TOP/results}
rm -rf "$res"; mkdir -p "$res"
t1=$(date +%s)
"$ROVL_TOP/scripts/vm-run.sh" -o "$res" -- scripts/guest/tests.sh "$ko" "$fstype"
vm_rc=$?
t_vm=$(( $(date +%s) - t1 ))
if [ "$vm_rc" = 3 ]; then
	bad "BOOT FAILURE: the test VM never reached user space (see $res/console.log)"
	finish 3
fi
[ "$vm_rc" = 4 ] && bad "the VM died or hung while testing (see $res/console.log)"

# KUnit
if [ "$fstype" = rovl ]; then
	if [ -s "$res/ktap.txt" ]; then
		kunit="$(rovl_ksrc)/tools/testing/kunit/kunit.py"
		python3 "$kunit" parse < "$res/ktap.txt" > "$res/kunit.log" 2>&1
		kunit_rc=$?
		sed -n '/Testing complete/p;/\[FAILED\]\|\[CRASHED\]/p' "$res/kunit.log"
		line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$res/kunit.log" | tail -n 1)
		kp=$(sed -nE 's/.*passed: ([0-9]+).*/\1/p' <<< "$line")
		kf=$(sed -nE 's/.*failed: ([0-9]+).*/\1/p' <<< "$line")
		kc=$(sed -nE 's/.*crashed: ([0-9]+).*/\1/p' <<< "$line")
		kp=${kp:-0}; kf=$(( ${kf:-0} + ${kc:-0} ))
		[ "$kp" -gt 0 ] && ok "KUnit: $kp cases" "$kp"
		[ "$kf" -gt 0 ] && bad "KUnit: $kf cases failed or crashed" "$kf"
		if [ "$kunit_rc" -ne 0 ] && [ "$kf" -eq 0 ]; then bad "KUnit: kunit.py parse failed"; fi
		[ -z "$line" ] && bad "KUnit: no result line from kunit.py"
	else
		bad "KUnit: no KTAP output after loading the module"
	fi
fi

# selftests
if [ -f "$res/selftests.log" ]; then
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$res/selftests.log" | tail -n 1)
	if [ -n "$line" ]; then
		read -r sp _ sf _ ss _ <<< "${line//,/}"
		[ "$sp" -gt 0 ] && ok "selftests: $sp passed ($ss skipped)" "$sp"
		[ "$sf" -gt 0 ] && bad "selftests: $sf failed" "$sf"
	else
		bad "selftests: no summary line"
	fi
else
	bad "selftests did not run"
fi

# module unload
if [ "$(cat "$res/rmmod.rc" 2>/dev/null)" = 0 ]; then ok "module unload"; else bad "module unload"; fi

# kernel log
pattern='WARNING:|BUG:|kernel BUG|Oops|general protection fault|KASAN|UBSAN|'
pattern+='possible circular locking|possible recursive locking|inconsistent lock state|'
pattern+='DEBUG_LOCKS_WARN_ON|INFO: trying to register non-static key|'
pattern+='INFO: task .* blocked|Kernel panic|list_add corruption|list_del corruption|'
pattern+='Slab cache still has objects|Objects remaining|refcount_t:|VFS: Busy inodes'
if grep -hEn "$pattern" "$res/console.log" "$res/dmesg.txt" 2>/dev/null | sort -u > "$res/splats.txt" &&
   [ -s "$res/splats.txt" ]; then
	bad "kernel log: warnings or errors (see $res/console.log)"
	head -n 20 "$res/splats.txt"
else
	ok "kernel log clean"
fi
if grep -qE 'rovl|overlay' "$res/kmemleak.txt" 2>/dev/null; then
	bad "kmemleak: leaks in the module"; head -n 30 "$res/kmemleak.txt"
elif [ -s "$res/kmemleak.txt" ]; then
	echo "[rovl] note: kmemleak reports not attributed to the module (see $res/kmemleak.txt)"
fi

echo "[rovl] times: set-up ${t_setup}s, VM ${t_vm}s; results in $res"
finish

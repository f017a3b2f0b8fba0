#!/usr/bin/env bash
# The whole rovl test suite, one command:
#   1. set-up (idempotent: packages, bindgen, kernel source, test kernel);
#   2. host unit tests: cargo test (rust/logic);
#   3. the module build, and the packaging checks (scripts/check-packaging.sh:
#      DKMS, the Debian package, the in-tree install, modules_install);
#   4. two QEMU VMs at once on the test kernel (ROVL_VM_SPLIT=0: one VM for
#      all): in the first, load the module (KUnit suites run and are parsed
#      with the kernel's kunit.py) and selftests/check (each test with a
#      timeout); in the second, the differential tests against the in-kernel
#      overlayfs (selftests/diff/guest.sh and selftests/diffops/guest.sh,
#      when present); in each, then, a check that nothing is left mounted, a
#      kmemleak scan with the module still loaded, unload, a second kmemleak
#      scan;
#   5. the kernel log check: any WARN, BUG, oops, KASAN, lockdep, list
#      corruption or hung task fails the run, and so does any kmemleak
#      report.
# Prints the totals per kind ("host:", "kunit:", "vm:", "differential:",
# "checks:"; each "N passed, N failed") and ends with the overall line
# "N passed, N failed".  Exit status 0 only if all passed; 3 if a VM never
# booted (a boot failure, not a test result).
#
# ROVL_FSTYPE=overlay runs the same VM tests against the in-kernel overlayfs
# module of the test kernel, for side-by-side comparison.
# Passed into the VM: SELFTEST_TIMEOUT (seconds per selftest, default 300),
# ROVL_DIFF_SEEDS (stacks/seeds of the differential tests), ROVL_DIFF_TIMEOUT,
# ROVL_DIFFOPS_SEEDS, ROVL_DIFFOPS_TIMEOUT (the operation-sequence tests).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROVL_TOP"

fstype=${ROVL_FSTYPE:-rovl}
kinds=(host kunit vm differential checks)
declare -A kpass kfail
for k in "${kinds[@]}"; do kpass[$k]=0; kfail[$k]=0; done
# ok KIND MESSAGE [COUNT], bad KIND MESSAGE [COUNT]
ok() { kpass[$1]=$(( ${kpass[$1]} + ${3:-1} )); printf '[rovl] PASS: %s\n' "$2"; }
bad() { kfail[$1]=$(( ${kfail[$1]} + ${3:-1} )); printf '[rovl] FAIL: %s\n' "$2"; }
finish() {
	local k passed=0 failed=0
	for k in "${kinds[@]}"; do
		echo "$k: ${kpass[$k]} passed, ${kfail[$k]} failed"
		passed=$((passed + ${kpass[$k]})); failed=$((failed + ${kfail[$k]}))
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit "${1:-1}"
}

t0=$(date +%s)
if ! "$ROVL_TOP/scripts/setup.sh"; then
	bad checks "set-up"
	finish
fi
t_setup=$(( $(date +%s) - t0 ))

# --- host unit tests ----------------------------------------------------
if [ -f Cargo.toml ]; then
	log=$(mktemp)
	cargo test --quiet 2>&1 | tee "$log"
	cargo_rc=${PIPESTATUS[0]}
	n_ok=0 n_bad=0
	while read -r p f; do
		n_ok=$((n_ok + p)); n_bad=$((n_bad + f))
	done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log")
	[ "$n_ok" -gt 0 ] && ok host "cargo test: $n_ok host unit tests" "$n_ok"
	[ "$n_bad" -gt 0 ] && bad host "cargo test: $n_bad host unit tests" "$n_bad"
	if [ "$n_ok" -eq 0 ] && [ "$n_bad" -eq 0 ]; then
		bad host "cargo test produced no results (exit status $cargo_rc; build failure?)"
	elif [ "$cargo_rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
		# e.g. a test binary that crashed (no result line of its own) or a
		# doctest build failure after the unit tests passed.
		bad host "cargo test exited with status $cargo_rc"
	fi
	rm -f "$log"
fi

# --- the binding-layer boundary --------------------------------------------
# rust/vfs knows nothing about the overlay; no unsafe outside it; every
# unsafe block has a SAFETY comment (scripts/check-boundary.sh).
if "$ROVL_TOP/scripts/check-boundary.sh" > "${TMPDIR:-/tmp}/rovl-boundary.$$" 2>&1; then
	ok checks "binding-layer boundary"
else
	bad checks "binding-layer boundary"; cat "${TMPDIR:-/tmp}/rovl-boundary.$$"
fi
rm -f "${TMPDIR:-/tmp}/rovl-boundary.$$"

# --- module build ---------------------------------------------------------
kdir=$(rovl_kdir)
overlay_ko="$kdir/fs/overlayfs/overlay.ko"
if [ "$fstype" = rovl ]; then
	if make -s modules; then ok checks "module build"; else bad checks "module build"; finish; fi
	ko="$ROVL_TOP/rovl.ko"
else
	ko="$kdir/fs/overlayfs/$fstype.ko"
	[ -f "$ko" ] || { bad checks "no $ko in the test kernel"; finish; }
fi

# --- the VMs ----------------------------------------------------------------
# The selftests (with KUnit) and the differential tests run in two VMs:
# TCG keeps each VM mostly on one host CPU, and they are the two long parts.
# The first VM starts now, the packaging checks run beside it, then the
# second VM.  ROVL_VM_SPLIT=0 runs everything in the first VM.
res=${ROVL_RESULTS:-$ROVL_TOP/results}
rm -rf "$res"; mkdir -p "$res"
guest_env=()
for v in SELFTEST_TIMEOUT ROVL_DIFF_SEEDS ROVL_DIFF_TIMEOUT ROVL_DIFFOPS_SEEDS ROVL_DIFFOPS_TIMEOUT; do
	[ -n "${!v+set}" ] && guest_env+=("$v=${!v}")
done
# run_vm DIR PART: one VM running scripts/guest/tests.sh's PART into DIR,
# on DIR's copy of the module (the packaging checks run make again)
run_vm() {
	"$ROVL_TOP/scripts/vm-run.sh" -o "$1" -t "${ROVL_VM_TIMEOUT:-4800}" -- \
		env "${guest_env[@]}" scripts/guest/tests.sh "/tmp/results/${ko##*/}" "$fstype" \
		"$overlay_ko" "$2"
}
dres=$res        # the differential tests' results
vmdirs=("$res")
vmnames=("")
part=all
if [ "$fstype" = rovl ] && [ "${ROVL_VM_SPLIT:-1}" != 0 ] &&
   { [ -x selftests/diff/guest.sh ] || [ -x selftests/diffops/guest.sh ]; }; then
	part=selftests
	dres=$res/diffvm
	vmdirs+=("$dres")
	vmnames=(" (selftests VM)" " (differential VM)")
fi
for d in "${vmdirs[@]}"; do
	mkdir -p "$d" && cp "$ko" "$d/" || { bad checks "copying $ko into $d"; finish; }
done
# the initramfs and the accelerator probe, once, before two VMs ask for them
"$ROVL_TOP/scripts/mkinitramfs.sh" > /dev/null &&
	ROVL_ACCEL=$("$ROVL_TOP/scripts/vm-run.sh" --accel) ||
	{ bad checks "VM set-up (initramfs, accelerator probe)"; finish; }
export ROVL_ACCEL
t1=$(date +%s)
run_vm "$res" "$part" > "$res/vm.log" 2>&1 &
vpid=$!
# the first VM does not outlive this script
kill_tree() { local p; for p in $(pgrep -P "$1"); do kill_tree "$p"; done; kill "$1" 2>/dev/null; }
trap 'kill_tree "$vpid"' EXIT
trap 'exit 130' INT TERM
# vm_rc0: the first VM's status, once it has ended
vm_rc0() { wait "$vpid"; vm_rcs=($?); cat "$res/vm.log"; }

# --- packaging -----------------------------------------------------------
# DKMS, the Debian package, the in-tree install, modules_install
# (scripts/check-packaging.sh): one check per "ok NAME" / "FAIL NAME" line.
if [ "$fstype" = rovl ]; then
	pkg_log="${TMPDIR:-/tmp}/rovl-packaging-log.$$"
	"$ROVL_TOP/scripts/check-packaging.sh" > "$pkg_log" 2>&1
	pkg_rc=$?
	while read -r st name; do
		if [ "$st" = ok ]; then ok checks "packaging: $name"; else bad checks "packaging: $name"; fi
	done < <(grep -E '^(ok|FAIL) ' "$pkg_log")
	if [ "$pkg_rc" != 0 ]; then
		grep -q '^FAIL ' "$pkg_log" || bad checks "packaging: scripts/check-packaging.sh exited with status $pkg_rc"
		grep -v '^ok ' "$pkg_log" | tail -n 40
	fi
	rm -f "$pkg_log"
fi

# --- the VMs, continued -------------------------------------------------------
vm_rcs=()
unset drc
# the first VM's boot failure (status 3) ends the run before the second VM
kill -0 "$vpid" 2>/dev/null || vm_rc0
if [ "$part" = selftests ] && [ "${vm_rcs[0]:-}" != 3 ]; then
	run_vm "$dres" diff
	drc=$?
fi
[ ${#vm_rcs[@]} -gt 0 ] || vm_rc0
if [ -n "${drc+set}" ]; then vm_rcs+=("$drc"); else vmdirs=("$res"); fi
t_vm=$(( $(date +%s) - t1 ))
for i in "${!vmdirs[@]}"; do
	d=${vmdirs[$i]} n=${vmnames[$i]} vm_rc=${vm_rcs[$i]}
	case "$vm_rc" in
	0) ;;
	3) bad checks "BOOT FAILURE: the test VM$n never reached user space (see $d/console.log)" ;;
	4) bad checks "the VM$n died or hung while testing (see $d/console.log)" ;;
	*) bad checks "the test job in the VM$n exited with status $vm_rc (see $d/job.log)"
	   tail -n 20 "$d/job.log" 2>/dev/null ;;
	esac
done
for vm_rc in "${vm_rcs[@]}"; do [ "$vm_rc" = 3 ] && finish 3; done

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
		[ "$kp" -gt 0 ] && ok kunit "KUnit: $kp cases" "$kp"
		[ "$kf" -gt 0 ] && bad kunit "KUnit: $kf cases failed or crashed" "$kf"
		if [ "$kunit_rc" -ne 0 ] && [ "$kf" -eq 0 ]; then bad kunit "KUnit: kunit.py parse failed"; fi
		[ -z "$line" ] && bad kunit "KUnit: no result line from kunit.py"
	else
		bad kunit "KUnit: no KTAP output after loading the module"
	fi
else
	echo "[rovl] note: KUnit not run (the suites are rovl's; ROVL_FSTYPE=$fstype)"
fi

# selftests
if [ -f "$res/selftests.log" ]; then
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$res/selftests.log" | tail -n 1)
	if [ -n "$line" ]; then
		read -r sp _ sf _ ss _ <<< "${line//,/}"
		[ "$sp" -gt 0 ] && ok vm "selftests: $sp passed ($ss skipped)" "$sp"
		[ "$sf" -gt 0 ] && bad vm "selftests: $sf failed" "$sf"
		src=$(cat "$res/selftests.rc" 2>/dev/null)
		if [ "$sf" -eq 0 ] && [ "$src" != 0 ]; then
			bad vm "selftests/check exited with status ${src:-?}"
		fi
	else
		bad vm "selftests: no summary line"
	fi
else
	bad vm "selftests did not run"
fi

# differential tests against the in-kernel overlayfs, run in the VM by
# scripts/guest/tests.sh when fstype is rovl: selftests/diff (stacks read by
# both) and selftests/diffops (operation sequences run on both).
# difftest NAME OUTFILE LAST-LINE-PREFIX UNIT
difftest() {
	local name=$1 base=$2 prefix=$3 unit=$4 line= drc dn dm f
	# The result line: in NAME.log (if the tester writes one), else in its
	# output (NAME.out, saved by scripts/guest/tests.sh).
	for f in "$base.log" "$base.out"; do
		[ -n "$line" ] && break
		line=$(grep -E "^$prefix: [0-9]+ $unit, [0-9]+ differences\$" "$dres/$f" 2>/dev/null | tail -n 1)
	done
	drc=$(cat "$dres/$base.rc" 2>/dev/null)
	if [ -n "$line" ]; then
		echo "$line"
		dn=$(sed -E "s/^$prefix: ([0-9]+) .*/\1/" <<< "$line")
		dm=$(sed -E 's/.*, ([0-9]+) differences$/\1/' <<< "$line")
		[ "$dn" -gt "$dm" ] && ok differential "$name: $((dn - dm)) $unit identical" $((dn - dm))
		[ "$dm" -gt 0 ] && bad differential "$name: $dm differences (see $dres/$base.out and $dres/$base/)" "$dm"
		[ "$dn" -eq 0 ] && [ "$dm" -eq 0 ] && bad differential "$name: no $unit tested"
		if [ "$dm" -eq 0 ] && [ "$drc" != 0 ]; then
			bad differential "$name: exited with status ${drc:-?}"
		fi
	else
		bad differential "$name: no result line (exit status ${drc:-?}; see $dres/$base.out)"
		tail -n 20 "$dres/$base.out" 2>/dev/null
	fi
}
if [ "$fstype" = rovl ]; then
	if [ -x selftests/diff/guest.sh ]; then
		difftest differential diff "differential vs overlay" stacks
	else
		echo "[rovl] note: differential tests not run (no selftests/diff/guest.sh)"
	fi
	if [ -x selftests/diffops/guest.sh ]; then
		difftest "differential ops" diffops "differential ops vs overlay" sequences
	else
		echo "[rovl] note: differential operation tests not run (no selftests/diffops/guest.sh)"
	fi
else
	echo "[rovl] note: differential tests not run (ROVL_FSTYPE=$fstype)"
fi

# per VM: nothing left mounted after the tests, the module unloads,
# kmemleak finds nothing
for i in "${!vmdirs[@]}"; do
	d=${vmdirs[$i]} n=${vmnames[$i]}
	if [ -f "$d/mounts-left.txt" ]; then
		if [ -s "$d/mounts-left.txt" ]; then
			bad checks "mounts left behind by the tests$n:"; sed 's/^/    /' "$d/mounts-left.txt"
		else
			ok checks "no mounts left behind$n"
		fi
	else
		bad checks "the mount check did not run$n"
	fi

	if [ "$(cat "$d/rmmod.rc" 2>/dev/null)" = 0 ]; then
		ok checks "module unload$n"
	else
		bad checks "module unload$n"
	fi

	# kmemleak: any report fails, whoever the object belongs to (the
	# boot's allocations were cleared before the module was loaded).  The
	# first scan runs with the module loaded, so its functions have names
	# in the traces; the second, after rmmod, finds what the module's exit
	# left behind.
	for f in kmemleak.txt kmemleak-rmmod.txt; do
		what="with the module loaded$n"
		[ "$f" = kmemleak.txt ] || what="after unloading the module$n"
		st=$(cat "$d/$f.status" 2>/dev/null)
		if [ "$st" != ok ]; then
			bad checks "kmemleak scan $what: ${st:-did not run}"
		elif [ -s "$d/$f" ]; then
			n_leaks=$(grep -c '^unreferenced object' "$d/$f")
			bad checks "kmemleak: $n_leaks suspected leaks, scan $what (see $d/$f)"
			head -n 40 "$d/$f"
		else
			ok checks "kmemleak: no leaks $what"
		fi
	done
done

# kernel log
pattern='WARNING:|BUG:|kernel BUG|Oops|general protection fault|KASAN|UBSAN|'
pattern+='possible circular locking|possible recursive locking|inconsistent lock state|'
pattern+='DEBUG_LOCKS_WARN_ON|INFO: trying to register non-static key|'
pattern+='INFO: task .* blocked( in I/O wait)? for more than [0-9]+ seconds|'
pattern+='Kernel panic|list_add corruption|list_del corruption|'
pattern+='Slab cache still has objects|Objects remaining|refcount_t:|VFS: Busy inodes'
# (grep's status is not used: no match is 1, a missing dmesg.txt 2)
logs=()
for d in "${vmdirs[@]}"; do logs+=("$d/console.log" "$d/dmesg.txt"); done
grep -Hn -E "$pattern" "${logs[@]}" 2>/dev/null | sort -u > "$res/splats.txt"
if [ -s "$res/splats.txt" ]; then
	bad checks "kernel log: warnings or errors (see $res/splats.txt)"
	head -n 20 "$res/splats.txt"
else
	ok checks "kernel log clean"
fi

echo "[rovl] times: set-up ${t_setup}s, VMs ${t_vm}s (with the packaging checks); results in $res"
finish

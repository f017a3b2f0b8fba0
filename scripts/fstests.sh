#!/usr/bin/env bash
# fstests' overlay and generic tests (./check -overlay) in the test VM, against
# the in-kernel overlayfs and against rovl, side by side.
#
#   FSTESTS_DIR=/path/to/built/fstests scripts/fstests.sh [-f overlay|rovl|both] [-o DIR]
#           [-t SECONDS] [-b xfs|ext4] [-- CHECK_ARGS...]
#   scripts/fstests.sh -r DIR...  (the table of earlier runs' results again)
#
# FSTESTS_DIR is a checkout of fstests (xfstests) built by its README (`make`);
# this project holds no fstests code and neither fetches nor builds it
# (Documentation/rovl.rst, "fstests").  In one VM boot on the test kernel
# (scripts/vm-run.sh), for each file system chosen by -f (default both, the
# in-kernel overlayfs first): the module is loaded as the module "overlay" --
# for overlay the test kernel's own fs/overlayfs/overlay.ko, for rovl the
# drop-in overlay.ko (make ROVL_DROPIN=1) built from a copy of this work tree
# (the work tree's own build products are left alone) --, the base file
# systems are made afresh (-b, default xfs, on two loop devices in the guest)
# and fstests' `./check -overlay CHECK_ARGS` runs (scripts/fstests-guest.sh).
# CHECK_ARGS are fstests' own test selection arguments, passed through as
# they are (default: -g overlay/quick, 3 to 5 hours per file system under
# TCG; the issue's full run, days: `-- -g overlay/auto -g generic/auto`;
# single tests: `-- overlay/001 generic/001`).
#
# Prints a table with the result of every test for each file system (pass,
# fail, notrun; "incomplete" for a test that was running when check was
# stopped by the time limit or the VM died; "-" for a test the run never got
# to; "unknown" for a name check does not know), a line
# `fstests FS: N passed, N failed, N notrun` per file system (and the counts
# of the other kinds, if any) and the list of tests that overlay passes and
# rovl does not.  When check runs no test at all (e.g. it cannot mount the
# scratch overlay), its last words follow.
#
# Options:
#   -f FS       overlay, rovl or both (default both)
#   -o DIR      results directory (default /tmp/rovl-fstests.XXXXXX): table.txt,
#               FS/ (fstests' RESULT_BASE: result.xml, per-test .out.bad, .full,
#               .notrun, .dmesg), FS.log (check's output), FS.rc, FS.module,
#               job.log, dmesg.txt, console.log, module-build.log
#   -t SECONDS  time limit of each file system's check run (default 43200);
#               the VM's own limit is their sum plus 15 minutes
#   -b FSTYP    base file system under the overlay: xfs (default) or ext4
#   -r DIR...   print the table of the results in DIR again, run nothing; with
#               several DIRs (runs of parts of a selection) one merged table,
#               a later DIR's result of a test replacing an earlier one's; a
#               DIR may also be a table printed before (DIR/table.txt, or a
#               merged table kept elsewhere), read as the results it lists
# Environment: FSTESTS_DIR (required), ROVL_FSTESTS_DEV_SIZE (size of TEST_DEV
# and SCRATCH_DEV, sparse, default 10G as fstests' README advises),
# ROVL_FSTESTS_IMAGES (tmpfs, the default: the loop devices' files in a tmpfs
# in the guest's memory; results: in DIR/images, on the host's disk, for
# tests that write much: slower),
# ROVL_FSTESTS_MODPARAMS (the module parameters both modules are loaded with;
# default: overlayfs's defaults in the test kernel's config, e.g.
# "redirect_dir=Y ... metacopy=Y"; empty: each module's own defaults),
# ROVL_VM_MEM (default 4G here), ROVL_ACCEL, ROVL_KFLAVOUR=bench (the benchmark
# kernel: no KASAN, lockdep or kmemleak; 10-15x faster under TCG).
# Exit status: 0 when the VM ran and each check exited by itself (status 0 or
# 1: failed tests, and a check that could run no test, are results, shown in
# the table), else non-zero (a build, the VM, the time limit).
set -euo pipefail
. "$(dirname "$0")/env.sh"
# paths given on the command line are the caller's
caller_pwd=$PWD
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$caller_pwd/$1" ;; esac; }
cd "$ROVL_TOP"

# table DIR...: the side-by-side table of the results in the DIRs
# (FS/result.xml, FS.log for each FS listed in DIR/filesystems).  With
# several DIRs (runs of parts of a long selection, e.g. the full run over
# several days) a test's result in a later DIR replaces that of an earlier
# one, unless it is "incomplete" there.
# The header line of a printed table (its file systems' columns): an awk
# pattern, so that the free text heading a kept table cannot pass for it.
table_header='/^test( +(overlay|rovl))+ *$/'
table() {
	local dir fs
	local -a fss=() dfss
	for dir in "$@"; do
		if [ -f "$dir" ]; then
			# an earlier table (table.txt, or a merged table kept
			# elsewhere): its header line names the file systems
			read -r -a dfss < <(awk "$table_header"' { $1 = ""; print; exit }' "$dir")
			[ ${#dfss[@]} -gt 0 ] || rovl_die "$dir: not a table of scripts/fstests.sh (no header line)"
		else
			[ -f "$dir/filesystems" ] || rovl_die "$dir: no results of scripts/fstests.sh (no filesystems file)"
			read -r -a dfss < "$dir/filesystems"
		fi
		for fs in "${dfss[@]}"; do
			[[ " ${fss[*]} " == *" $fs "* ]] || fss+=("$fs")
		done
	done
	# overlay first, the column the other is compared with
	if [[ " ${fss[*]} " == *" overlay "* ]] && [ "${fss[0]}" != overlay ]; then fss=(overlay rovl); fi
	{
		for dir in "$@"; do
			if [ -f "$dir" ]; then
				# a table's rows: "test result result ..." under its header;
				# "-" (not reached) is no result
				awk "$table_header"' { n = NF; for (i = 2; i <= NF; i++) fs[i] = $i; next }
					n && $1 ~ /^[a-z0-9]+\/[0-9]+$/ && NF == n {
						for (i = 2; i <= n; i++) if ($i != "-") print fs[i], $1, $i
					}' "$dir"
				continue
			fi
			read -r -a dfss < "$dir/filesystems"
			for fs in "${dfss[@]}"; do
				# result.xml (check -R xunit-quiet) is rewritten before every
				# test with the results so far: one <testcase> per finished
				# test, with <skipped> (notrun) or <failure> (fail) inside.
				if [ -f "$dir/$fs/result.xml" ]; then
					awk -v fs="$fs" '
						/<testcase / {
							match($0, / name="[^"]*"/)
							name = substr($0, RSTART + 7, RLENGTH - 8); st = "pass"; next
						}
						/<skipped/ { st = "notrun"; next }
						/<failure/ { st = "fail"; next }
						/<\/testcase>/ { if (name != "") print fs, name, st; name = ""; next }
					' "$dir/$fs/result.xml"
				fi
				# Tests check started but that have no result (the time limit,
				# a dead VM): the last test named in check's output.
				if [ -f "$dir/$fs.log" ]; then
					awk -v fs="$fs" '$1 ~ /^[a-z0-9]+\/[0-9]+$/ && !/\[expunged\]/ {
						print fs, $1, (/ - unknown test, ignored$/ ? "unknown" : "incomplete")
					}' "$dir/$fs.log"
				fi
			done
		done
	} | awk -v order="${fss[*]}" '
		{
			key = $1 SUBSEP $2
			# a real result wins over "incomplete" (from the log, or a
			# later run that did not finish it); else the later one wins
			if (!(key in st) || $3 != "incomplete") st[key] = $3
			if (!($2 in seen)) { seen[$2] = 1; tests[++nt] = $2 }
		}
		END {
			nf = split(order, fs, " ")
			# tests in fstests order: by directory, then number
			for (i = 2; i <= nt; i++)
				for (j = i; j > 1 && before(tests[j], tests[j - 1]); j--) {
					t = tests[j]; tests[j] = tests[j - 1]; tests[j - 1] = t
				}
			printf "%-14s", "test"
			for (f = 1; f <= nf; f++) printf " %-10s", fs[f]
			printf "\n"
			for (i = 1; i <= nt; i++) {
				printf "%-14s", tests[i]
				for (f = 1; f <= nf; f++) {
					s = ((fs[f], tests[i]) in st) ? st[fs[f], tests[i]] : "-"
					printf " %-10s", s
					count[fs[f], s]++
				}
				printf "\n"
				if (nf == 2 && fs[1] == "overlay" && st["overlay", tests[i]] == "pass") {
					r = "-"
					if (("rovl", tests[i]) in st) r = st["rovl", tests[i]]
					if (r != "pass") regress[++nr] = tests[i] " (rovl: " r ")"
				}
			}
			printf "\n"
			for (f = 1; f <= nf; f++) {
				printf "fstests %s: %d passed, %d failed, %d notrun", fs[f],
					count[fs[f], "pass"], count[fs[f], "fail"], count[fs[f], "notrun"]
				if (count[fs[f], "incomplete"]) printf ", %d incomplete", count[fs[f], "incomplete"]
				if (count[fs[f], "-"]) printf ", %d not reached", count[fs[f], "-"]
				if (count[fs[f], "unknown"]) printf ", %d unknown to check", count[fs[f], "unknown"]
				printf "\n"
			}
			if (nf == 2 && fs[1] == "overlay") {
				printf "overlay passes, rovl does not: %d\n", nr
				for (i = 1; i <= nr; i++) printf "  %s\n", regress[i]
			}
		}
		function before(a, b,   da, db, na, nb) {
			da = a; sub(/\/.*/, "", da); db = b; sub(/\/.*/, "", db)
			if (da != db) return da < db
			na = a; sub(/.*\//, "", na); nb = b; sub(/.*\//, "", nb)
			return na + 0 < nb + 0
		}'
	for dir in "$@"; do
		[ -d "$dir" ] || continue
		read -r -a dfss < "$dir/filesystems"
		for fs in "${dfss[@]}"; do
			local rc=missing
			[ -f "$dir/$fs.rc" ] && rc=$(cat "$dir/$fs.rc")
			if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
				echo "note: $fs: check did not run to its end ($rc; see $dir/$fs.log)"
			elif [ ! -f "$dir/$fs/result.xml" ]; then
				echo "note: $fs: check ran no test (see $dir/$fs.log); its last words:"
				grep -v '^[[:space:]]*$' "$dir/$fs.log" 2>/dev/null | tail -n 3 | sed 's/^/  /'
			fi
		done
	done
}

usage() { sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
which=both out= limit=43200 base=xfs
while getopts f:o:t:b:r:h opt; do
	case $opt in
	f) which=$OPTARG ;;
	o) out=$(abspath "$OPTARG") ;;
	t) limit=$OPTARG ;;
	b) base=$OPTARG ;;
	r)
		shift $((OPTIND - 1))
		dirs=()
		for d in "$OPTARG" "$@"; do dirs+=("$(abspath "$d")"); done
		table "${dirs[@]}"
		exit ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
check_args=("$@")
[ ${#check_args[@]} -gt 0 ] || check_args=(-g overlay/quick)
case "$which" in
overlay) fss=(overlay) ;;
rovl) fss=(rovl) ;;
both) fss=(overlay rovl) ;;
*) rovl_die "-f $which: not overlay, rovl or both" ;;
esac
case "$base" in xfs|ext4) ;; *) rovl_die "-b $base: not xfs or ext4" ;; esac
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || rovl_die "-t $limit: not a number of seconds"

# --- the fstests checkout ------------------------------------------------------------
[ -n "${FSTESTS_DIR:-}" ] ||
	rovl_die "FSTESTS_DIR is not set: point it to a built fstests checkout, e.g.
  git clone git://git.kernel.org/pub/scm/fs/xfs/xfstests-dev.git ~/xfstests && make -C ~/xfstests
  FSTESTS_DIR=~/xfstests $0
(build dependencies: fstests' README; Documentation/rovl.rst, \"fstests\")"
FSTESTS_DIR=$(cd "$(abspath "$FSTESTS_DIR")" 2>/dev/null && pwd) || rovl_die "FSTESTS_DIR=$FSTESTS_DIR: no such directory"
[ -x "$FSTESTS_DIR/check" ] && [ -f "$FSTESTS_DIR/README.overlay" ] && [ -d "$FSTESTS_DIR/tests/overlay" ] ||
	rovl_die "FSTESTS_DIR=$FSTESTS_DIR is not an fstests checkout (no check, README.overlay, tests/overlay)"
[ -x "$FSTESTS_DIR/ltp/fsstress" ] && [ -f "$FSTESTS_DIR/tests/overlay/group.list" ] &&
	[ -f "$FSTESTS_DIR/tests/generic/group.list" ] ||
	rovl_die "FSTESTS_DIR=$FSTESTS_DIR is not built (no ltp/fsstress or tests/*/group.list): run make there (fstests' README)"

# --- the modules -----------------------------------------------------------------------
kdir=$(rovl_kdir)
if [ ! -f "$kdir/.rovl-built" ]; then
	if [ "$ROVL_KFLAVOUR" = bench ]; then rovl_die "bench kernel not built; run ROVL_KFLAVOUR=bench scripts/build-kernel.sh"; fi
	rovl_die "test kernel not built; run scripts/setup.sh"
fi
overlay_ko="$kdir/fs/overlayfs/overlay.ko"
[ -f "$overlay_ko" ] || rovl_die "no $overlay_ko (the test kernel's overlayfs module)"

[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/rovl-fstests.XXXXXX")
mkdir -p "$out"
out=$(cd "$out" && pwd)
for fs in overlay rovl; do
	rm -rf "${out:?}/$fs" "$out/$fs.log" "$out/$fs.rc" "$out/$fs.module" "$out/$fs.ko" "$out/images"
done
rm -f "$out/table.txt" "$out/filesystems" "$out/fstests.tar"

runs=()
for fs in "${fss[@]}"; do
	if [ "$fs" = overlay ]; then
		cp "$overlay_ko" "$out/overlay.ko"
	else
		# overlay.ko (ROVL_DROPIN=1) from a copy of the work tree (tracked
		# and untracked files, without build products), as scripts/bench.sh
		mod=$(mktemp -d "${TMPDIR:-/tmp}/rovl-fstests-src.XXXXXX")
		trap 'rm -rf "$mod"' EXIT
		rovl_copy_worktree "$mod"
		rovl_log "building rovl as the drop-in overlay.ko (log: $out/module-build.log)"
		if ! nice -n 10 make -C "$mod" KDIR="$kdir" KMAKE_ARGS="${ROVL_KMAKE_ARGS[*]}" ROVL_DROPIN=1 modules \
				> "$out/module-build.log" 2>&1; then
			tail -n 30 "$out/module-build.log" >&2
			rovl_die "the drop-in overlay.ko does not build"
		fi
		[ "$(modinfo -F name "$mod/overlay.ko")" = overlay ] || rovl_die "the drop-in module is not named overlay"
		cp "$mod/overlay.ko" "$out/rovl.ko"
	fi
	runs+=("$fs:/tmp/results/$fs.ko")
done
echo "${fss[*]}" > "$out/filesystems"

# The same configuration for both: overlayfs takes its parameters' defaults
# from the kernel config (CONFIG_OVERLAY_FS_*), rovl has its own (off), and
# fstests decides on features by /sys/module/overlay/parameters.  Both are
# loaded with the values of the test kernel's config, unless
# ROVL_FSTESTS_MODPARAMS says otherwise ("" for each module's own defaults).
kconf() { if grep -q "^CONFIG_OVERLAY_FS_$1=y" "$kdir/.config"; then echo Y; else echo N; fi; }
modparams=${ROVL_FSTESTS_MODPARAMS-redirect_dir=$(kconf REDIRECT_DIR) redirect_always_follow=$(kconf REDIRECT_ALWAYS_FOLLOW) index=$(kconf INDEX) nfs_export=$(kconf NFS_EXPORT) xino_auto=$(kconf XINO_AUTO) metacopy=$(kconf METACOPY)}

rovl_log "packing $FSTESTS_DIR for the guest"
tar -C "$FSTESTS_DIR" --exclude=./.git --exclude=./results -cf "$out/fstests.tar" .
rev=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- rust Kbuild Makefile)" ] || rev+=" + uncommitted changes"
{
	echo "rovl $rev"
	echo "fstests $(git -C "$FSTESTS_DIR" describe --always --dirty 2>/dev/null || echo unknown) ($FSTESTS_DIR)"
	echo "kernel $(rovl_kversion) ($kdir)"
	echo "base $base, module parameters: ${modparams:-(defaults)}, check -overlay ${check_args[*]}"
} > "$out/info.txt"

# --- one VM boot -------------------------------------------------------------------------
export ROVL_VM_MEM=${ROVL_VM_MEM:-4G}
vm_limit=$((limit * ${#fss[@]} + 900))
rovl_log "running fstests (${fss[*]}: check -overlay ${check_args[*]}) in the VM ($ROVL_VM_MEM, limit ${vm_limit}s); results in $out"
pass_env=("ROVL_FSTESTS_MODPARAMS=$modparams")
for v in ROVL_FSTESTS_DEV_SIZE ROVL_FSTESTS_IMAGES; do
	if [ -n "${!v:-}" ]; then pass_env+=("$v=${!v}"); fi
done
rc=0
scripts/vm-run.sh -o "$out" -t "$vm_limit" -- \
	env "${pass_env[@]}" scripts/fstests-guest.sh /tmp/results "$limit" "$base" "$kdir/.config" \
	"${runs[@]}" -- "${check_args[@]}" > "$out/vm-run.log" 2>&1 || rc=$?
rm -f "$out/fstests.tar"
if [ -d "$out/images" ]; then rm -rf "$out/images"; fi
if [ "$rc" -ne 0 ]; then
	cat "$out/vm-run.log" >&2
	if [ -f "$out/job.log" ]; then tail -n 30 "$out/job.log" >&2; fi
	rovl_log "the VM failed (status $rc); the table shows what finished"
fi
cat "$out/info.txt" > "$out/table.txt"
echo >> "$out/table.txt"
table "$out" >> "$out/table.txt"
cat "$out/table.txt"
for fs in "${fss[@]}"; do
	r=$(cat "$out/$fs.rc" 2>/dev/null || echo missing)
	# check exits 1 when a test failed: that is a result, not a failure of the run
	if [ "$r" != 0 ] && [ "$r" != 1 ]; then rc=1; fi
done
rovl_log "results in $out"
exit "$rc"

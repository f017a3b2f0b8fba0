#!/usr/bin/env bash
# Speed of rovl against the in-kernel overlayfs, on the benchmark kernel.
#
#   scripts/bench.sh [-o DIR]
#   scripts/bench.sh -r DIR     (the table of an earlier run's results again)
#
# Builds, on first use, the benchmark flavour of the test kernel
# (ROVL_KFLAVOUR=bench: the test kernel's config without its debug checks,
# cached in $ROVL_CACHE/kernel/<version>-bench-<hash>), rovl.ko against it
# from a copy of this work tree (the work tree's own rovl.ko is left alone)
# and the workload driver selftests/bench/rovlbench.c; then, in one VM boot,
# runs the same workloads on the same stack of three lower layers
# through rovl and through overlayfs (selftests/bench/guest.sh) and prints a
# table of ops/s, cold and warm, with the ratio rovl/overlay.  Results in
# DIR (default /tmp/rovl-bench.*): table.txt, samples.txt, job.log, dmesg.txt.
# See Documentation/benchmark.rst.
#
# Environment: ROVL_BENCH_ROUNDS (8), ROVL_BENCH_WARM (5), ROVL_BENCH_ONLY,
# ROVL_BENCH_BIG_MIB (512), ROVL_BENCH_WARM_RW (2), ROVL_BENCH_CHOWN_DIRS
# (100), ROVL_VM_MEM (6G here, 9G with ROVL_BENCH_BIG_MIB over 512), ROVL_ACCEL,
# ROVL_BENCH_TIMEOUT (VM time limit in seconds, 3600).
# Exit status: 0, or non-zero if a build, the VM, a workload's check or the
# kernel log check failed.
set -euo pipefail
export ROVL_KFLAVOUR=bench
. "$(dirname "$0")/env.sh"
cd "$ROVL_TOP"

# table DIR: the table of the results in DIR (host.txt, info.txt, samples.txt).
table() {
	local dir=$1
	info() { sed -n "s/^$1 //p" "$dir/info.txt"; }
	host() { sed -n "s/^$1 //p" "$dir/host.txt"; }
	echo "rovl benchmark: rovl $(host rev) vs in-kernel overlayfs"
	echo "kernel: $(host flavour) flavour, $(host kernel) ($(host kdir)); accelerator: $(host accel)"
	echo "VM: $(info cpus) CPU(s), $(info mem), clocksource $(info clocksource);" \
		"stack: 3 lower layers on one ext4 (loop file on tmpfs), large file $(info big_mib) MiB"
	echo "workloads that read: a lower-only mount; that write: a mount with a fresh upper layer on the same ext4" \
		"before each pass, options $(info rw_opts)"
	echo "cold: 1 pass after drop_caches and a fresh mount; warm: the $(info warm) passes that follow" \
		"($(info warm_rw) for workloads that write), timed together; the two file systems' passes alternate"
	echo "ops/s: median of $(info rounds) rounds; ratio rovl/overlay: median (and range) of the rounds' ratios"
	echo
	awk -v order="$(info workloads)" -v units="$("$dir/rovlbench" list | awk '{ printf "%s:%s ", $1, $2 }')" '
		# per round, the passes of a phase are timed together: ops / time
		{
			key = $3 " " $4 " " $2
			if (!((key, $1) in ops)) { n[key]++; round[key, n[key]] = $1 }
			ops[key, $1] += $5; ns[key, $1] += $6
		}
		function rate(key, r) { return ops[key, r] * 1e9 / ns[key, r] }
		# median of a[1..m] (sorted in place); lo, hi: the extremes
		function median(a, m,   i, j, t) {
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			lo = a[1]; hi = a[m]
			return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		END {
			nu = split(units, u, " ")
			for (i = 1; i <= nu; i++) { split(u[i], kv, ":"); unit[kv[1]] = kv[2] }
			printf "%-11s %-6s %-5s %12s %13s %7s %13s\n", "workload", "op", "cache",
				"rovl ops/s", "overlay ops/s", "ratio", "ratio min-max"
			nw = split(order, wl, " ")
			for (i = 1; i <= nw; i++)
				for (p = 1; p <= 2; p++) {
					ph = p == 1 ? "cold" : "warm"
					kr = wl[i] " " ph " rovl"; ko = wl[i] " " ph " overlay"
					if (!n[kr] || n[kr] != n[ko]) { missing = 1; continue }
					m = n[kr]
					for (j = 1; j <= m; j++) {
						r = round[kr, j]
						if (!((ko, r) in ops)) { missing = 1; continue }
						x[j] = rate(kr, r); y[j] = rate(ko, r); q[j] = x[j] / y[j]
					}
					mr = median(x, m); mo = median(y, m); mq = median(q, m)
					printf "%-11s %-6s %-5s %12.0f %13.0f %6.2fx %6.2f-%-6.2f\n",
						wl[i], unit[wl[i]], ph, mr, mo, mq, lo, hi
				}
			if (missing) { print "samples missing" > "/dev/stderr"; exit 1 }
		}' "$dir/samples.txt"
}

usage() { sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=
while getopts o:r:h opt; do
	case $opt in
	o) out=$OPTARG ;;
	r) table "$OPTARG"; exit ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

src=$(rovl_ksrc) || true
[ -n "$src" ] && [ -f "$src/Makefile" ] && [ -x "$ROVL_BINDGEN" ] ||
	rovl_die "the kernel source or bindgen is missing: run scripts/setup.sh first"
command -v gcc > /dev/null || rovl_die "gcc is missing"

# --- the benchmark kernel, built on demand (one build at a time) ------------
kdir=$(rovl_kdir)
if [ ! -f "$kdir/.rovl-built" ]; then
	exec 9> "$ROVL_CACHE/.bench-kernel.lock"
	flock 9
	rovl_log "building the benchmark kernel (first use; about as long as the test kernel)"
	nice -n 19 "$ROVL_TOP/scripts/build-kernel.sh"
	exec 9>&-
fi
kver=$(rovl_kversion)
overlay_ko="$kdir/fs/overlayfs/overlay.ko"
[ -f "$overlay_ko" ] || rovl_die "no $overlay_ko"

[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/rovl-bench.XXXXXX")
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/samples.txt" "$out/info.txt" "$out/host.txt" "$out/table.txt"

# --- rovl.ko against the benchmark kernel, from a copy of the work tree ------
# (tracked and untracked files, without build products), so that the work
# tree's own rovl.ko, built against the test kernel, stays as it is.
mod=$(mktemp -d "${TMPDIR:-/tmp}/rovl-bench-src.XXXXXX")
trap 'rm -rf "$mod"' EXIT
rovl_copy_worktree "$mod"
rovl_log "building rovl.ko against $kdir (log: $out/module-build.log)"
if ! nice -n 10 make -C "$mod" KDIR="$kdir" KMAKE_ARGS="${ROVL_KMAKE_ARGS[*]}" modules \
		> "$out/module-build.log" 2>&1; then
	tail -n 30 "$out/module-build.log" >&2
	rovl_die "rovl.ko does not build against the benchmark kernel"
fi
cp "$mod/rovl.ko" "$out/rovl.ko"
cp "$overlay_ko" "$out/overlay.ko"
gcc -O2 -static -Wall -Wextra -o "$out/rovlbench" selftests/bench/rovlbench.c ||
	rovl_die "the workload driver does not build"
rev=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- rust Kbuild Makefile)" ] || rev+=" + uncommitted changes"
{
	echo "rev $rev"
	echo "flavour $ROVL_KFLAVOUR"
	echo "kernel $kver"
	echo "kdir $kdir"
} > "$out/host.txt"

# --- one VM boot --------------------------------------------------------------
pass_env=()
for v in ROVL_BENCH_ROUNDS ROVL_BENCH_WARM ROVL_BENCH_WARM_RW ROVL_BENCH_CHOWN_DIRS ROVL_BENCH_ONLY ROVL_BENCH_BIG_MIB ROVL_BENCH_PERF ROVL_BENCH_PERF_COLD; do
	if [ -n "${!v:-}" ]; then pass_env+=("$v=${!v}"); fi
done
# the layers, in a tmpfs in the guest's memory, take 2.3G with
# ROVL_BENCH_BIG_MIB=1024 and a copy-up 1G more: 9G then
if [ "${ROVL_BENCH_BIG_MIB:-512}" -gt 512 ]; then export ROVL_VM_MEM=${ROVL_VM_MEM:-9G}; fi
export ROVL_VM_MEM=${ROVL_VM_MEM:-6G}
rovl_log "running the workloads in the VM ($ROVL_VM_MEM; results in $out)"
rc=0
scripts/vm-run.sh -o "$out" -t "${ROVL_BENCH_TIMEOUT:-3600}" -- \
	env "${pass_env[@]}" selftests/bench/guest.sh \
	/tmp/results/rovl.ko /tmp/results/overlay.ko /tmp/results/rovlbench /tmp/results \
	> "$out/vm-run.log" 2>&1 || rc=$?
accel=$(sed -n 's/.*VM (\([a-z]*\)) ran for.*/\1/p' "$out/vm-run.log" | tail -n 1)
echo "accel ${accel:-unknown}" >> "$out/host.txt"
if [ "$rc" -ne 0 ]; then
	cat "$out/vm-run.log" >&2
	if [ -f "$out/job.log" ]; then tail -n 30 "$out/job.log" >&2; fi
	rovl_die "the benchmark VM failed (status $rc); see $out"
fi
if ! table "$out" > "$out/table.txt"; then
	cat "$out/table.txt"
	rovl_die "incomplete samples in $out"
fi
cat "$out/table.txt"

# --- the kernel log: a benchmark of a kernel that warned is no result -----------
pattern='WARNING:|BUG:|kernel BUG|Oops|general protection fault|UBSAN|'
pattern+='Kernel panic|list_add corruption|list_del corruption|refcount_t:|VFS: Busy inodes|'
pattern+='rust_kernel: panicked'
if grep -aE "$pattern" "$out/dmesg.txt" > "$out/kernel-log-reports.txt"; then
	cat "$out/kernel-log-reports.txt" >&2
	rovl_die "kernel log reports during the benchmark (see $out/dmesg.txt)"
fi
rovl_log "results in $out"

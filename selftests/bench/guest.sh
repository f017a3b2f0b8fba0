#!/bin/bash
# Runs inside the benchmark VM (see scripts/bench.sh and
# Documentation/benchmark.rst):
#
#   guest.sh ROVL_KO OVERLAY_KO ROVLBENCH OUT
#
# Loads both modules, builds the layer stack (rovlbench gen) on an ext4 file
# system in a loop file on tmpfs, then for each round and workload, with the
# two file systems (overlay and rovl) in an order that alternates between
# rounds: for each, sync, drop_caches, a fresh lower-only mount of the same
# three layers and one cold pass; then ROVL_BENCH_WARM warm passes of each,
# alternating.  Appends "ROUND FS WORKLOAD cold|warm OPS NANOSECONDS" lines
# (one per pass) to OUT/samples.txt and writes OUT/info.txt.
# Environment: ROVL_BENCH_ROUNDS (default 7), ROVL_BENCH_WARM (5),
# ROVL_BENCH_ONLY (space-separated workloads, default all),
# ROVL_BENCH_BIG_MIB (size of the large file, default 512).
set -euo pipefail
ko=${1:?rovl.ko} overlay_ko=${2:?overlay.ko} bench=${3:?rovlbench} out=${4:?output dir}
rounds=${ROVL_BENCH_ROUNDS:-7}
warm=${ROVL_BENCH_WARM:-5}
fstype=$(basename "$ko" .ko)

log() { printf '[bench] %s\n' "$*"; printf 'rovl-bench: %s\n' "$*" > /dev/kmsg; }
secs() { date +%s; }

workloads=()
while read -r wl _; do
	if [ -z "${ROVL_BENCH_ONLY:-}" ] || [[ " $ROVL_BENCH_ONLY " == *" $wl "* ]]; then
		workloads+=("$wl")
	fi
done < <("$bench" list)
[ ${#workloads[@]} -gt 0 ] || { echo "no workload selected (ROVL_BENCH_ONLY=$ROVL_BENCH_ONLY)"; exit 1; }

insmod "$overlay_ko"
insmod "$ko"

w=/tmp/bench
mkdir -p "$w/layers"
# ext4 in a loop file on tmpfs: drop_caches really drops the lower file
# system's dentries, inodes and pages (tmpfs would keep them), and re-reading
# them costs no disk.  noatime: no atime writes during the passes.
truncate -s 2G "$w/img"
mkfs.ext4 -q -F -N 262144 -E lazy_itable_init=0,lazy_journal_init=0 "$w/img"
mount -o loop,noatime "$w/img" "$w/layers"
t0=$(secs)
"$bench" gen "$w/layers"
sync
log "layers built in $(( $(secs) - t0 ))s: $(df -h --output=used "$w/layers" | tail -n 1 | tr -d ' ') used, $(df --output=iused "$w/layers" | tail -n 1 | tr -d ' ') inodes"
lower="$w/layers/l0:$w/layers/l1:$w/layers/l2"

{
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "mem $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "rounds $rounds"
	echo "warm $warm"
	echo "big_mib ${ROVL_BENCH_BIG_MIB:-512}"
	echo "workloads ${workloads[*]}"
} > "$out/info.txt"

samples="$out/samples.txt"
: > "$samples"
tmp=$(mktemp)
# run ROUND FS WORKLOAD PHASE: one pass on FS's mount point
run() {
	"$bench" run "$3" "$w/mnt-$2" 1 > "$tmp"
	sed "s/^/$1 $2 $3 $4 /" "$tmp" >> "$samples"
}
cold() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

# Both file systems are mounted side by side, each on its own mount point;
# their passes alternate, so that a change of speed of the host (TCG on a
# shared machine) hits both alike.
t0=$(secs)
for ((r = 1; r <= rounds; r++)); do
	order="overlay $fstype"
	[ $((r % 2)) = 0 ] && order="$fstype overlay"
	for wl in "${workloads[@]}"; do
		log "round $r/$rounds: $wl ($order)"
		for fs in $order; do
			mkdir -p "$w/mnt-$fs"
		done
		# cold: each file system's pass after drop_caches (which drops the
		# other's dentries as well, unused once its pass is over) and on
		# a fresh mount
		for fs in $order; do
			cold
			mount -t "$fs" -o "lowerdir=$lower" none "$w/mnt-$fs"
			run "$r" "$fs" "$wl" cold
		done
		for ((i = 1; i <= warm; i++)); do
			for fs in $order; do
				run "$r" "$fs" "$wl" warm
			done
		done
		for fs in $order; do
			umount "$w/mnt-$fs"
		done
	done
done
log "passes done in $(( $(secs) - t0 ))s"

umount "$w/layers"
rmmod "$fstype"
rmmod overlay
log "done"

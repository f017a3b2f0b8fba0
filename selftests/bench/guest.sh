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
# alternating.  Workloads that write ("rw" in rovlbench list) get a fresh
# upper layer (and work dir, on the same ext4) before each pass, on a mount
# with RW_OPTS, and ROVL_BENCH_WARM_RW warm passes.  Appends "ROUND FS WORKLOAD cold|warm OPS NANOSECONDS" lines
# (one per pass) to OUT/samples.txt and writes OUT/info.txt.
# Environment: ROVL_BENCH_ROUNDS (default 8), ROVL_BENCH_WARM (5),
# ROVL_BENCH_ONLY (space-separated workloads, default all),
# ROVL_BENCH_BIG_MIB (size of the large file, and of the small files copied
# up, default 512), ROVL_BENCH_WARM_RW (2), ROVL_BENCH_CHOWN_DIRS (100:
# 100,000 files for chown -R -h).
set -euo pipefail
ko=${1:?rovl.ko} overlay_ko=${2:?overlay.ko} bench=${3:?rovlbench} out=${4:?output dir}
rounds=${ROVL_BENCH_ROUNDS:-8}
warm=${ROVL_BENCH_WARM:-5}
warm_rw=${ROVL_BENCH_WARM_RW:-2}
# the options of read-write mounts, stated (the modules' defaults differ)
RW_OPTS=index=off,metacopy=on,redirect_dir=on,xino=off
fstype=$(basename "$ko" .ko)

log() { printf '[bench] %s\n' "$*"; printf 'rovl-bench: %s\n' "$*" > /dev/kmsg; }
secs() { date +%s; }

workloads=()
declare -A kind
while read -r wl _ k; do
	kind[$wl]=$k
	if [ -z "${ROVL_BENCH_ONLY:-}" ] || [[ " $ROVL_BENCH_ONLY " == *" $wl "* ]]; then
		workloads+=("$wl")
	fi
done < <("$bench" list)
[ ${#workloads[@]} -gt 0 ] || { echo "no workload selected (ROVL_BENCH_ONLY=$ROVL_BENCH_ONLY)"; exit 1; }

insmod "$overlay_ko"
insmod "$ko"

w=/tmp/bench
mkdir -p "$w"
# a tmpfs of its own, larger than /tmp's default half of the memory: with
# ROVL_BENCH_BIG_MIB=1024 the layers take 2.3G and a copy-up 1G more
mount -t tmpfs -o size=80% rovlbench "$w"
mkdir -p "$w/layers"
# ext4 in a loop file on tmpfs: drop_caches really drops the lower file
# system's dentries, inodes and pages (tmpfs would keep them), and re-reading
# them costs no disk.  noatime: no atime writes during the passes; discard:
# what the upper layers free goes back to the tmpfs.
truncate -s 6G "$w/img"
mkfs.ext4 -q -F -N 655360 -E lazy_itable_init=0,lazy_journal_init=0 "$w/img"
mount -o loop,noatime,discard "$w/img" "$w/layers"
t0=$(secs)
"$bench" gen "$w/layers"
sync
log "layers built in $(( $(secs) - t0 ))s: $(df -h --output=used "$w/layers" | tail -n 1 | tr -d ' ') used, $(df --output=iused "$w/layers" | tail -n 1 | tr -d ' ') inodes"
lower="$w/layers/l0:$w/layers/l1:$w/layers/l2"
export ROVL_BENCH_TAR=$w/layers/src.tar

{
	echo "kernel $(uname -r)"
	echo "cpus $(nproc)"
	echo "clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "mem $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)"
	echo "rounds $rounds"
	echo "warm $warm"
	echo "big_mib ${ROVL_BENCH_BIG_MIB:-512}"
	echo "warm_rw $warm_rw"
	echo "rw_opts $RW_OPTS"
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
# settle: everything written out, and ext4's journal checkpointed (a freeze
# flushes it), so that no pass pays for the metadata the one before it wrote
# (an upper layer's 10,000 whiteouts, its removal)
settle() {
	sync
	fsfreeze -f "$w/layers"
	fsfreeze -u "$w/layers"
}
cold() {
	settle
	echo 3 > /proc/sys/vm/drop_caches
}
# The upper and work directories of the file system that runs first in a
# round are u-a and w-a, the other's u-b and w-b: the order alternates, so
# each file system gets each pair in half the rounds.  (For a directory
# made in its root, ext4 looks for a block group from one chosen by a hash
# of the name (find_group_orlov); with names of their own, each file
# system's layers would keep a placement of their own.)
declare -A slot
# fresh FS WORKLOAD: for a workload that writes, a fresh upper layer and
# work dir for FS (the last pass's are removed; the caller settles the
# removal, so that the next timed pass does not pay for it; not timed)
fresh() {
	if [ "${kind[$2]}" = rw ]; then
		rm -rf "$w/layers/u-${slot[$1]}" "$w/layers/w-${slot[$1]}"
		mkdir "$w/layers/u-${slot[$1]}" "$w/layers/w-${slot[$1]}"
	fi
}
# mount_fs FS WORKLOAD: FS's mount for WORKLOAD
mount_fs() {
	if [ "${kind[$2]}" = rw ]; then
		mount -t "$1" -o "lowerdir=$lower,upperdir=$w/layers/u-${slot[$1]},workdir=$w/layers/w-${slot[$1]},$RW_OPTS" none "$w/mnt-$1"
	else
		mount -t "$1" -o "lowerdir=$lower" none "$w/mnt-$1"
	fi
}

# Both file systems are mounted side by side, each on its own mount point;
# their passes alternate, so that a change of speed of the host (TCG on a
# shared machine) hits both alike.
t0=$(secs)
for ((r = 1; r <= rounds; r++)); do
	order="overlay $fstype"
	[ $((r % 2)) = 0 ] && order="$fstype overlay"
	read -r first second <<< "$order"
	slot[$first]=a slot[$second]=b
	for wl in "${workloads[@]}"; do
		log "round $r/$rounds: $wl ($order)"
		for fs in $order; do
			mkdir -p "$w/mnt-$fs"
		done
		# cold: each file system's pass after drop_caches (which drops the
		# other's dentries as well, unused once its pass is over) and on
		# a fresh mount
		for fs in $order; do
			fresh "$fs" "$wl"
			cold
			mount_fs "$fs" "$wl"
			run "$r" "$fs" "$wl" cold
			if [ "${kind[$wl]}" = rw ]; then umount "$w/mnt-$fs"; fi
		done
		n=$warm
		[ "${kind[$wl]}" = rw ] && n=$warm_rw
		for ((i = 1; i <= n; i++)); do
			for fs in $order; do
				if [ "${kind[$wl]}" = rw ]; then fresh "$fs" "$wl"; settle; mount_fs "$fs" "$wl"; fi
				run "$r" "$fs" "$wl" warm
				if [ "${kind[$wl]}" = rw ]; then umount "$w/mnt-$fs"; fi
			done
		done
		if [ "${kind[$wl]}" = ro ]; then
			for fs in $order; do
				umount "$w/mnt-$fs"
			done
		fi
	done
done
log "passes done in $(( $(secs) - t0 ))s"

# ROVL_BENCH_PERF=1: after the timed passes, a CPU profile of each workload
# on each file system (perf record -a -e cpu-clock; not timed): 5 cold
# passes (ROVL_BENCH_PERF_COLD; each after umount, drop_caches and mount,
# which the profile includes) and 10 warm passes (5 for workloads that
# write, each on a fresh upper layer: its removal and the mount are in the
# profile, alike for both), each reported as
# OUT/perf-FS-WORKLOAD-PHASE.txt (symbols by share of samples, self) and
# -incl.txt (with callees; call graphs recorded); the data in .data beside
# it, the guest's symbols in OUT/kallsyms.
if [ -n "${ROVL_BENCH_PERF:-}" ]; then
	perf=$(command -v perf) || { echo "ROVL_BENCH_PERF: no perf on the host"; exit 1; }
	cat /proc/kallsyms > "$out/kallsyms"
	ncold=${ROVL_BENCH_PERF_COLD:-5}
	for wl in "${workloads[@]}"; do
		for fs in overlay "$fstype"; do
			m="$w/mnt-$fs"
			if [ "${kind[$wl]}" = ro ]; then mount_fs "$fs" "$wl"; fi
			for phase in cold warm; do
				drop=
				[ "$phase" = cold ] && drop="sync; echo 3 > /proc/sys/vm/drop_caches;"
				if [ "${kind[$wl]}" = rw ]; then
					# the same names for both (placement, above)
					u="$w/layers/u-p" wd="$w/layers/w-p"
					n=$ncold
					cmd="for i in \$(seq $n); do rm -rf $u $wd; mkdir $u $wd; $drop"
					cmd+=" mount -t $fs -o lowerdir=$lower,upperdir=$u,workdir=$wd,$RW_OPTS none $m;"
					cmd+=" $bench run $wl $m 1; umount $m; done"
				elif [ "$phase" = cold ]; then
					cmd="for i in \$(seq $ncold); do umount $m; $drop"
					cmd+=" mount -t $fs -o lowerdir=$lower none $m; $bench run $wl $m 1; done"
				else
					cmd="$bench run $wl $m 10"
				fi
				data="$w/perf-$fs-$wl-$phase.data"
				"$perf" record -q -a -g -e cpu-clock -o "$data" -- sh -c "$cmd" > /dev/null
				cp "$data" "$out/"
				# (perf 6.1's demangler crashes on some Rust symbols)
				"$perf" report -i "$data" --stdio --no-children --sort sym --no-demangle -g none \
					--percent-limit 0.3 > "$out/perf-$fs-$wl-$phase.txt" 2> /dev/null ||
					log "perf report failed for $data"
				"$perf" report -i "$data" --stdio --children --sort sym --no-demangle -g none \
					--percent-limit 1 > "$out/perf-$fs-$wl-$phase-incl.txt" 2> /dev/null ||
					log "perf report failed for $data"
				log "profile $fs $wl $phase: $(grep -c '%' "$out/perf-$fs-$wl-$phase.txt") symbols"
			done
			if [ "${kind[$wl]}" = ro ]; then umount "$m"; fi
		done
	done
fi

rm -rf "$w/layers"/u-* "$w/layers"/w-*
umount "$w/layers"
rmmod "$fstype"
rmmod overlay
log "done"

#!/usr/bin/env bash
# Long differential runs of rovl against the in-kernel overlayfs.
#
#   scripts/difftest.sh [-n COUNT] [-b BATCH] [-o DIR] [SEED...]
#
# Runs selftests/diff/guest.sh in the test VM (scripts/vm-run.sh) on the given
# seeds, or on COUNT random ones (default 20), BATCH seeds per VM boot
# (default 25), one VM at a time.  Prints each failing seed with the reason
# (differences, tester error, kernel log report, VM crash or hang) and a
# reproduction command; ends with "difftest: N stacks, M failing" and exits
# non-zero if any seed failed.  Results: DIR (default /tmp/rovl-difftest.*),
# one batch-K/ per VM boot holding job.log, dmesg.txt and diff/seed-N/.
#
# Builds nothing but rovl.ko ("make -s modules", when a source is newer than
# it).  Environment: ROVL_KO (use this rovl.ko instead), ROVL_DIFF_FS_B,
# ROVL_DIFF_MUTATE, ROVL_DIFF_SINGLE, ROVL_DIFF_KEEP, ROVL_DIFF_SHOW (passed to the tester, see
# selftests/diff/README.rst), ROVL_DIFF_BATCH_TIMEOUT (seconds per boot).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROVL_TOP" || exit 1

usage() { sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
count=20 batch=25 out=
while getopts n:b:o:h opt; do
	case $opt in
	n) count=$OPTARG ;;
	b) batch=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[[ $count =~ ^[0-9]+$ && $batch =~ ^[1-9][0-9]*$ ]] || usage

seeds=()
for s in "$@"; do
	[[ $s =~ ^[0-9]+$ ]] || rovl_die "not a seed: $s"
	seeds+=("$s")
done
if [ ${#seeds[@]} -eq 0 ]; then
	for ((i = 0; i < count; i++)); do
		seeds+=("$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')")
	done
fi
[ ${#seeds[@]} -gt 0 ] || rovl_die "no seeds"

kdir=$(rovl_kdir)
overlay_ko="$kdir/fs/overlayfs/overlay.ko"
[ -f "$overlay_ko" ] || rovl_die "no $overlay_ko: run scripts/setup.sh"
fs_b=${ROVL_DIFF_FS_B:-rovl}
rovl_ko=${ROVL_KO:-$ROVL_TOP/rovl.ko}
if [ "$fs_b" = rovl ] && [ -z "${ROVL_KO:-}" ]; then
	if [ ! -f "$rovl_ko" ] ||
	   [ -n "$(find rust Kbuild Makefile Kconfig -newer "$rovl_ko" -print -quit 2>/dev/null)" ]; then
		rovl_log "building rovl.ko (make -s modules)"
		make -s modules || rovl_die "module build failed"
	fi
fi
if [ "$fs_b" = rovl ]; then
	[ -f "$rovl_ko" ] || rovl_die "no $rovl_ko"
fi

[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/rovl-difftest.XXXXXX")
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
rovl_log "${#seeds[@]} seed(s), $batch per VM boot; results in $out"

pattern='WARNING:|BUG:|kernel BUG|Oops|general protection fault|KASAN|UBSAN|'
pattern+='possible circular locking|possible recursive locking|inconsistent lock state|'
pattern+='DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|Kernel panic|list_add corruption|'
pattern+='list_del corruption|refcount_t:|VFS: Busy inodes'

declare -A failed=()     # seed -> reason
nstacks=0
pass_env=()
for v in ROVL_DIFF_FS_B ROVL_DIFF_MUTATE ROVL_DIFF_SINGLE ROVL_DIFF_KEEP ROVL_DIFF_SHOW; do
	[ -n "${!v:-}" ] && pass_env+=("$v=${!v}")
done
repro_env=""
for e in "${pass_env[@]}"; do
	case $e in ROVL_DIFF_FS_B=*|ROVL_DIFF_MUTATE=*|ROVL_DIFF_SINGLE=*) repro_env+="$e " ;; esac
done

fail_seed() {  # SEED REASON [DETAIL-LINES]
	if [ -z "${failed[$1]:-}" ]; then
		failed[$1]=$2
	else
		failed[$1]+="; $2"
	fi
	echo "FAIL seed $1: $2"
	[ -n "${3:-}" ] && printf '%s\n' "$3"
	echo "    reproduce: ${repro_env}scripts/difftest.sh $1"
}

queue=("${seeds[@]}")
k=0
while [ ${#queue[@]} -gt 0 ]; do
	k=$((k + 1))
	cur=("${queue[@]:0:batch}")
	queue=("${queue[@]:batch}")
	bdir="$out/batch-$k"
	mkdir -p "$bdir"
	# The guest sees /tmp as a fresh tmpfs: hand it the modules through the
	# results directory, wherever they come from.
	cp "$overlay_ko" "$bdir/overlay.ko" || exit 1
	if [ "$fs_b" = rovl ]; then cp "$rovl_ko" "$bdir/rovl.ko" || exit 1; fi
	tmo=${ROVL_DIFF_BATCH_TIMEOUT:-$((300 + 120 * ${#cur[@]}))}
	rovl_log "batch $k: ${#cur[@]} seed(s): ${cur[*]}"
	scripts/vm-run.sh -o "$bdir" -t "$tmo" -- env "${pass_env[@]}" "ROVL_DIFF_SEEDS=${cur[*]}" \
		selftests/diff/guest.sh /tmp/results/rovl.ko /tmp/results/overlay.ko /tmp/results/diff \
		> "$bdir/vm-run.log" 2>&1
	rc=$?
	log="$bdir/job.log"
	if [ "$rc" -eq 3 ]; then
		cat "$bdir/vm-run.log"
		rovl_log "batch $k: BOOT FAILURE; seeds not run: ${cur[*]} ${queue[*]}"
		echo "difftest: $nstacks stacks, ${#failed[@]} failing (stopped: the VM does not boot)"
		exit 3
	fi
	# seeds that finished, and their verdicts
	done_seeds=()
	if [ -f "$log" ]; then
		while read -r s; do done_seeds+=("$s"); done < <(
			sed -nE 's/^\[diff\] (ok|FAIL) seed ([0-9]+).*/\2/p' "$log")
		while read -r s rest; do
			# with its first differences, as the tester printed them
			fail_seed "$s" "${rest//\/tmp\/results/$bdir}" "$(
				sed -n "/^\[diff\] FAIL seed $s:/,/^\[diff\]/p" "$log" |
				grep -E '^    ' | grep -v 'reproduce:' | head -n 13 |
				sed "s|/tmp/results|$bdir|g")"
		done < <(sed -nE 's/^\[diff\] FAIL seed ([0-9]+): (.*)/\1 \2/p' "$log")
	fi
	nstacks=$((nstacks + ${#done_seeds[@]}))
	# kernel log reports, attributed to the seed that was running
	if [ -f "$bdir/dmesg.txt" ]; then
		while IFS=$'\t' read -r s line; do
			if [ "$s" = none ]; then
				rovl_log "batch $k: kernel log report before the first seed: $line"
				failed[batch-$k]="kernel log: $line"
			else
				fail_seed "$s" "kernel log: $line"
			fi
		done < <(awk -v pat="$pattern" '
			/rovl-diff: seed [0-9]+ start/ { match($0, /seed [0-9]+/); cur = substr($0, RSTART + 5, RLENGTH - 5) }
			$0 ~ pat && !((cur == "" ? "none" : cur) in seen) {
				c = (cur == "" ? "none" : cur); seen[c] = 1
				sub(/^\[ *[0-9.]+\] /, ""); print c "\t" $0
			}
		' "$bdir/dmesg.txt")
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		# The VM died or hung (rc 4), or the tester failed: blame the seed
		# that was running, put the ones not started back in the queue.
		running=$(sed -nE 's/^\[diff\] seed ([0-9]+) \([0-9]+\/[0-9]+\).*/\1/p' "$log" 2>/dev/null | tail -n 1)
		if [ -z "$running" ]; then
			running=$(grep -aoE 'rovl-diff: seed [0-9]+ start' "$bdir/console.log" 2>/dev/null |
				tail -n 1 | grep -oE '[0-9]+ ' | tr -d ' ')
		fi
		[ -z "$running" ] && running=${cur[0]}
		if [ "$rc" -eq 4 ]; then
			why="the VM died or hung (see $bdir/console.log)"
		else
			why="the tester exited with status $rc (see $log)"
		fi
		if ! printf '%s\n' "${done_seeds[@]}" | grep -qx "$running"; then
			fail_seed "$running" "$why"
			nstacks=$((nstacks + 1))
			done_seeds+=("$running")
		else
			rovl_log "batch $k: $why"
		fi
		rest=()
		for s in "${cur[@]}"; do
			printf '%s\n' "${done_seeds[@]}" | grep -qx "$s" || rest+=("$s")
		done
		if [ ${#rest[@]} -gt 0 ]; then
			rovl_log "batch $k: requeueing ${#rest[@]} seed(s) not run"
			queue=("${rest[@]}" "${queue[@]}")
		fi
	elif [ ${#done_seeds[@]} -ne ${#cur[@]} ]; then
		fail_seed "${cur[0]}" "batch $k ran ${#done_seeds[@]} of ${#cur[@]} seeds (see $log)"
	fi
	last=$(tail -n 1 "$log" 2>/dev/null)
	rovl_log "batch $k: ${last:-no result line}"
done

echo "difftest: $nstacks stacks, ${#failed[@]} failing${failed[*]:+: $(printf '%s\n' "${!failed[@]}" | sort -n | tr '\n' ' ')}"
[ ${#failed[@]} -eq 0 ]

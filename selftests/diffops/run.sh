#!/usr/bin/env bash
# Run the operation-sequence differential test in the test VM, from the host.
#
#   selftests/diffops/run.sh [-o DIR] [-t TIMEOUT_S] [SEED...]
#
# Copies overlay.ko (of the test kernel) and rovl.ko ($ROVL_KO, default the
# checkout's; not rebuilt) into DIR (default: a new /tmp/rovl-diffops.*), then
# runs selftests/diffops/guest.sh in one VM (scripts/vm-run.sh) on the given
# seeds (default: the CI seeds).  The ROVL_DIFFOPS_* variables of the
# environment are passed on (README.rst).  Output: the tester's, whose last
# line is "differential ops vs overlay: N sequences, M differences"; details
# in DIR/diffops/seed-N/, the VM's logs in DIR.  Exit status: the tester's
# (vm-run.sh's 3/4 for a VM that did not boot / died).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/env.sh"
cd "$top" || exit 1

out= tmo=
while getopts o:t:h opt; do
	case $opt in
	o) out=$OPTARG ;;
	t) tmo=$OPTARG ;;
	*) sed -n '3,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for s in "$@"; do
	[[ $s =~ ^[0-9]+$ ]] || rovl_die "not a seed: $s"
done

kdir=$(rovl_kdir)
overlay_ko="$kdir/fs/overlayfs/overlay.ko"
[ -f "$overlay_ko" ] || rovl_die "no $overlay_ko: run scripts/setup.sh"
fs_b=${ROVL_DIFFOPS_FS_B:-rovl}
rovl_ko=${ROVL_KO:-$top/rovl.ko}
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/rovl-diffops.XXXXXX")
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
# The guest sees /tmp as a fresh tmpfs: hand it the modules through the
# results directory (a copy: rovl.ko may be rebuilt meanwhile).
cp "$overlay_ko" "$out/overlay.ko" || exit 1
if [ "$fs_b" = rovl ]; then
	[ -f "$rovl_ko" ] || rovl_die "no $rovl_ko (make modules)"
	cp "$rovl_ko" "$out/rovl.ko" || exit 1
fi
envs=()
for v in $(compgen -v ROVL_DIFFOPS_); do
	[ "$v" = ROVL_DIFFOPS_SEEDS ] && continue
	envs+=("$v=${!v}")
done
if [ $# -gt 0 ]; then
	envs+=("ROVL_DIFFOPS_SEEDS=$*")
elif [ -n "${ROVL_DIFFOPS_SEEDS:-}" ]; then
	envs+=("ROVL_DIFFOPS_SEEDS=$ROVL_DIFFOPS_SEEDS")
fi
n=$#
[ "$n" -gt 0 ] || n=8
"$top/scripts/vm-run.sh" -o "$out" -t "${tmo:-$((300 + 240 * n))}" -- \
	env "${envs[@]}" selftests/diffops/guest.sh /tmp/results/rovl.ko \
	/tmp/results/overlay.ko /tmp/results/diffops
rc=$?
[ -f "$out/job.log" ] && cat "$out/job.log"
exit $rc

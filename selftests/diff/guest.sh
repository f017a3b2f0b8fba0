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
DT_TAG='[diff]' DT_LAST='differential vs overlay' DT_UNIT=stacks
. "$here/guest-lib.sh"
dt_load_modules "$rovl_ko" "$overlay_ko" "${ROVL_DIFF_FS_B:-rovl}"
dt_run "$here/difftest.py" "$outdir"

#!/bin/bash
# Operation-sequence differential test of rovl against the in-kernel
# overlayfs, in the test VM.
#
#   selftests/diffops/guest.sh ROVL_KO OVERLAY_KO OUTDIR
#
# Runs as root inside the VM (scripts/vm-run.sh).  Loads both modules if they
# are not loaded, runs the seeds of $ROVL_DIFFOPS_SEEDS (space-separated;
# default: the CI seeds of diffops.py), writes details into OUTDIR/seed-N/,
# prints progress, and as its last line
#     differential ops vs overlay: N sequences, M differences
# (M: sequences with at least one difference; a refused mount or an internal
# error of the tester counts as one).  Exit status 0 iff M = 0.  See
# selftests/diffops/README.rst.
set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -ne 3 ]; then
	echo "usage: $0 ROVL_KO OVERLAY_KO OUTDIR" >&2
	echo "differential ops vs overlay: 0 sequences, 1 differences"
	exit 2
fi
rovl_ko=$1 overlay_ko=$2 outdir=$3
DT_TAG='[diffops]' DT_LAST='differential ops vs overlay' DT_UNIT=sequences
. "$here/../diff/guest-lib.sh"
dt_load_modules "$rovl_ko" "$overlay_ko" "${ROVL_DIFFOPS_FS_B:-rovl}"
dt_run "$here/diffops.py" "$outdir"

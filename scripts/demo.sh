#!/usr/bin/env bash
# The main job, for a newcomer: set everything up (first run: packages,
# bindgen, kernel source, test kernel; later runs: seconds), build rovl.ko,
# boot the test kernel in QEMU, mount a small overlay and show it working.
set -euo pipefail
. "$(dirname "$0")/env.sh"

"$ROVL_TOP/scripts/setup.sh"
rovl_log "building the module"
make -C "$ROVL_TOP" -s modules
rovl_log "booting the test kernel (this takes a minute under TCG)"
res=$(mktemp -d "${TMPDIR:-/tmp}/rovl-demo.XXXXXX")
rc=0
"$ROVL_TOP/scripts/vm-run.sh" -o "$res" -t 600 -- scripts/demo-guest.sh "$ROVL_TOP/rovl.ko" || rc=$?
cat "$res/job.log" 2>/dev/null || true
if [ "$rc" = 0 ]; then
	rovl_log "demo passed (VM log: $res/console.log)"
else
	rovl_log "demo FAILED (exit $rc); VM log: $res/console.log"
fi
exit "$rc"

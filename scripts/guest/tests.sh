#!/bin/bash
# Runs inside the test VM (scripts/run-tests.sh starts it through
# scripts/vm-run.sh): loads the module (its KUnit suites run at load time),
# saves their KTAP output, runs selftests/check, unloads the module and asks
# kmemleak for a scan.  Writes into /tmp/results:
#   ktap.txt, selftests.log, selftests.rc, rmmod.rc, kmemleak.txt
set -u
ko=${1:?module path}
fstype=${2:-rovl}
res=/tmp/results
cd "$(dirname "$0")/../.."

mark=$(dmesg | wc -l)
if ! insmod "$ko"; then
	echo "insmod $ko failed"
	exit 1
fi
# KTAP: the KUnit lines printed at load time, without printk timestamps.
dmesg | tail -n +$((mark + 1)) | sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' |
	sed -n '/^KTAP version/,$p' > "$res/ktap.txt"

FSTYP=$fstype RESULT_DIR=$res/selftests selftests/check 2>&1 | tee "$res/selftests.log"
echo "${PIPESTATUS[0]}" > "$res/selftests.rc"

rmmod "$fstype"; echo $? > "$res/rmmod.rc"

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak; sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak > "$res/kmemleak.txt"
fi
exit 0

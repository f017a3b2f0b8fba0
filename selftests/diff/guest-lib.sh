# Shared by the differential testers' guest scripts (selftests/diff/guest.sh,
# selftests/diffops/guest.sh), sourced after setting:
#   DT_TAG   message prefix, e.g. "[diff]"
#   DT_LAST  the last line's text before the counts, e.g. "differential vs overlay"
#   DT_UNIT  what is counted, e.g. "stacks" (also the key in progress.json)
# Every way out prints "$DT_LAST: N $DT_UNIT, M differences" last; a failure
# of the tester itself counts as a difference, never as a pass.

dt_fail() {
	echo "$DT_TAG error: $*"
	echo "$DT_LAST: 0 $DT_UNIT, 1 differences"
	exit 1
}

# dt_load NAME KO [PARAMS...]: insmod unless loaded ("File exists" is fine).
dt_load() {
	local name=$1 ko=$2 out rc
	shift 2
	[ -d "/sys/module/$name" ] && return 0
	out=$(insmod "$ko" "$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && ! grep -q 'File exists' <<< "$out"; then
		echo "$DT_TAG insmod $ko $*: $out (exit status $rc)"
		return 1
	fi
	return 0
}

# dt_load_modules ROVL_KO OVERLAY_KO FS_B: the in-kernel overlayfs, and
# rovl (for FS_B=rovl) with the defaults of the loaded overlayfs, so that the
# mount options shown in /proc/self/mountinfo can be compared too.
dt_load_modules() {
	local rovl_ko=$1 overlay_ko=$2 fs_b=$3 p params=()
	dt_load overlay "$overlay_ko" || dt_fail "cannot load $overlay_ko"
	if [ "$fs_b" = rovl ]; then
		if [ ! -d /sys/module/rovl ]; then
			for p in redirect_dir redirect_always_follow index nfs_export metacopy xino_auto; do
				[ -r "/sys/module/overlay/parameters/$p" ] &&
					params+=("$p=$(cat "/sys/module/overlay/parameters/$p")")
			done
			if ! dt_load rovl "$rovl_ko" "${params[@]}"; then
				echo "$DT_TAG retrying insmod without module parameters"
				dt_load rovl "$rovl_ko" || dt_fail "cannot load $rovl_ko"
			fi
		fi
		grep -qw rovl /proc/filesystems || dt_fail "file system type rovl not registered"
	fi
	grep -qw overlay /proc/filesystems || dt_fail "file system type overlay not registered"
	# Per-seed markers go to the kernel log, so that a report there can be
	# attributed; don't let /dev/kmsg rate-limit them.
	[ -w /proc/sys/kernel/printk_devkmsg ] && echo on > /proc/sys/kernel/printk_devkmsg
	return 0
}

# dt_run SCRIPT OUTDIR: runs the Python tester and exits with its status; if
# it died, reports what it got through plus this failure.
dt_run() {
	local script=$1 outdir=$2 rc n=0 m=0
	mkdir -p "$outdir" || dt_fail "cannot create $outdir"
	rm -f "$outdir/progress.json"
	PYTHONDONTWRITEBYTECODE=1 python3 "$script" "$outdir"
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
		exit $rc
	fi
	if [ -f "$outdir/progress.json" ]; then
		read -r n m < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]], d["differences"])' \
			"$outdir/progress.json" "$DT_UNIT")
	fi
	echo "$DT_TAG error: the tester exited with status $rc after $n $DT_UNIT"
	echo "$DT_LAST: $n $DT_UNIT, $((m + 1)) differences"
	exit 1
}

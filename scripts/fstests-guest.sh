#!/bin/bash
# Runs inside the test VM (scripts/fstests.sh starts it through
# scripts/vm-run.sh):
#
#   scripts/fstests-guest.sh RES TIME_LIMIT BASE_FSTYP KCONFIG FS:MODULE.ko... -- CHECK_ARGS...
#
# Runs fstests' `./check -overlay CHECK_ARGS` once per FS:MODULE.ko pair, in
# that order, with MODULE.ko loaded as the module "overlay" (the in-kernel
# overlayfs or rovl built as the drop-in overlay.ko), each run on freshly
# made base file systems (BASE_FSTYP on two loop devices: TEST_DEV and
# SCRATCH_DEV) and under TIME_LIMIT seconds.  fstests comes as RES/fstests.tar
# (a built checkout, made by scripts/fstests.sh) and runs from a copy in the
# guest's tmpfs, as the guest's root file system is read-only.  The users and
# groups fstests needs (fsgqa, fsgqa2, 123456-fsgqa) are added to copies of
# /etc/passwd, /etc/group and /etc/shadow bound over the originals.
#
# Writes into RES, per FS: FS/ (fstests' RESULT_BASE: result.xml, per-test
# .out.bad, .full, .notrun, .dmesg), FS.log (check's output), FS.rc (check's
# exit status, "timeout" or what went wrong before check ran), FS.module
# (which module was loaded, as /sys/module/overlay shows it).
# Environment: ROVL_FSTESTS_MODPARAMS (parameters for insmod, both modules),
# ROVL_FSTESTS_DEV_SIZE (size of each loop device, sparse, default 10G),
# ROVL_FSTESTS_IMAGES (tmpfs: the images in a tmpfs in the guest, the
# default; results: in RES/images, on the host's disk).
set -u
res=${1:?results dir}
limit=${2:?time limit}
base_fstyp=${3:?base fs type}
kconfig=${4:?kernel config}
shift 4
runs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	runs+=("$1")
	shift
done
[ "${1:-}" = -- ] && shift
check_args=("$@")

log() { printf '[fstests-guest] %s\n' "$*"; }

# --- users and groups ---------------------------------------------------------
etc=/run/fstests-etc
mkdir -p "$etc"
for f in passwd group shadow; do
	if [ -f "/etc/$f" ]; then cp "/etc/$f" "$etc/$f"; else : > "$etc/$f"; fi
	chmod 644 "$etc/$f"
done
chmod 640 "$etc/shadow"
id=20000
for u in fsgqa fsgqa2 123456-fsgqa; do
	id=$((id + 1))
	while cut -d: -f3 "$etc/passwd" | grep -qx "$id" || cut -d: -f3 "$etc/group" | grep -qx "$id"; do
		id=$((id + 1))
	done
	grep -q "^$u:" "$etc/group" || echo "$u:x:$id:" >> "$etc/group"
	if ! grep -q "^$u:" "$etc/passwd"; then
		mkdir -p "/tmp/home/$u"
		echo "$u:x:$id:$id::/tmp/home/$u:/bin/bash" >> "$etc/passwd"
		chown "$id:$id" "/tmp/home/$u"
	fi
	grep -q "^$u:" "$etc/shadow" || echo "$u:*:19000:0:99999:7:::" >> "$etc/shadow"
done
for f in passwd group shadow; do
	[ -f "/etc/$f" ] && mount --bind "$etc/$f" "/etc/$f"
done
id fsgqa > /dev/null && id fsgqa2 > /dev/null && id 123456-fsgqa > /dev/null ||
	log "warning: the fsgqa users are not all known"

# --- the loopback interface ----------------------------------------------------------
# The guest has no network, and its lo is down: fstests' locktest
# (generic/131, 478) runs a server and a client over TCP on localhost.
if ! ip link set lo up 2> /dev/null && ! busybox ifconfig lo 127.0.0.1 up 2> /dev/null; then
	log "warning: cannot bring up lo (locktest will fail)"
fi

# --- fstests, copied into the tmpfs -----------------------------------------------
fst=/tmp/fstests
mkdir -p "$fst"
if ! tar -xf "$res/fstests.tar" -C "$fst"; then
	log "cannot unpack $res/fstests.tar"
	for r in "${runs[@]}"; do echo "fstests copy failed" > "$res/${r%%:*}.rc"; done
	exit 1
fi
rm -f "$res/fstests.tar"
chmod 755 "$fst"

# --- the base file systems: two loop devices ----------------------------------------
size=${ROVL_FSTESTS_DEV_SIZE:-10G}
if [ "${ROVL_FSTESTS_IMAGES:-tmpfs}" = results ]; then
	img=$res/images
	mkdir -p "$img"
else
	img=/tmp/fstests-img
	mkdir -p "$img"
	# its own tmpfs, larger than /tmp's default half of the memory; the
	# images are sparse, so only what the tests write takes memory
	mount -t tmpfs -o size=80% fstests-img "$img"
fi
truncate -s "$size" "$img/test.img" "$img/scratch.img"
test_dev=$(losetup -f --show "$img/test.img") && scratch_dev=$(losetup -f --show "$img/scratch.img") || {
	log "losetup failed"
	for r in "${runs[@]}"; do echo "losetup failed" > "$res/${r%%:*}.rc"; done
	exit 1
}
mnt=/tmp/fstests-mnt
mkdir -p "$mnt/test" "$mnt/scratch"
log "TEST_DEV=$test_dev SCRATCH_DEV=$scratch_dev ($base_fstyp, $size each, images in $img)"

cat > "$fst/local.config" <<EOF
export FSTYP=$base_fstyp
export TEST_DEV=$test_dev
export TEST_DIR=$mnt/test
export SCRATCH_DEV=$scratch_dev
export SCRATCH_MNT=$mnt/scratch
export KCONFIG_PATH=$kconfig
EOF

mkfs_base() {
	case "$base_fstyp" in
	xfs) mkfs.xfs -q -f "$1" ;;
	ext4) mkfs.ext4 -q -F "$1" ;;
	*) mkfs -t "$base_fstyp" "$1" ;;
	esac
}

# Whatever a run leaves mounted on the base file systems goes before the
# next one (the module must be unloadable).
unmount_all() {
	local m
	for _ in 1 2 3; do
		awk -v d="$mnt" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
			sort -r | while read -r m; do umount -l "$m" 2> /dev/null; done
	done
}

# --- one run per file system -----------------------------------------------------
for r in "${runs[@]}"; do
	fs=${r%%:*}
	ko=${r#*:}
	out=$res/$fs
	rm -rf "$out"
	mkdir -p "$out"
	log "== $fs: $ko"
	unmount_all
	if [ -d /sys/module/overlay ] && ! rmmod overlay; then
		log "cannot unload the module overlay left by the previous run"
		echo "rmmod of the previous module failed" > "$res/$fs.rc"
		continue
	fi
	# shellcheck disable=SC2086 # a list of parameters
	if ! insmod "$ko" ${ROVL_FSTESTS_MODPARAMS:-}; then
		echo "insmod $ko failed" > "$res/$fs.rc"
		continue
	fi
	# Which module is loaded: what modinfo says of the file against what
	# /sys/module/overlay says of the loaded one (version, srcversion; the
	# taint "O" marks an out-of-tree module such as rovl)
	sysmod() { cat "/sys/module/overlay/$1" 2>/dev/null; }
	{
		echo "module file: $ko ${ROVL_FSTESTS_MODPARAMS:-}"
		echo "file: name=$(modinfo -F name "$ko" 2>/dev/null) version=$(modinfo -F version "$ko" 2>/dev/null) srcversion=$(modinfo -F srcversion "$ko" 2>/dev/null)"
		echo "loaded: name=overlay version=$(sysmod version) srcversion=$(sysmod srcversion)"
		echo "loaded taint: $(sysmod taint)"
		echo "description: $(modinfo -F description "$ko" 2>/dev/null)"
		echo "loaded modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
		echo "file systems: $(grep -w overlay /proc/filesystems | tr -s '\t\n' '  ')"
		for p in /sys/module/overlay/parameters/*; do
			[ -e "$p" ] && echo "parameter ${p##*/}=$(cat "$p")"
		done
	} > "$res/$fs.module"
	if [ "$(sed -n 's/^file: //p' "$res/$fs.module")" != "$(sed -n 's/^loaded: //p' "$res/$fs.module")" ]; then
		log "the loaded overlay module is not $ko"
		echo "wrong module loaded" > "$res/$fs.rc"
		continue
	fi
	sed -n '2,4p' "$res/$fs.module"
	if ! mkfs_base "$test_dev" > /dev/null || ! mkfs_base "$scratch_dev" > /dev/null; then
		echo "mkfs.$base_fstyp failed" > "$res/$fs.rc"
		continue
	fi
	start=$(date +%s)
	(
		cd "$fst" || exit 125
		# check runs each test in a new session; its own time limit is ours
		exec timeout -k 60 "$limit" env RESULT_BASE="$out" ./check -overlay -R xunit-quiet "${check_args[@]}"
	) > "$res/$fs.log" 2>&1 < /dev/null
	rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo timeout > "$res/$fs.rc"
	else
		echo "$rc" > "$res/$fs.rc"
	fi
	log "$fs: check exited with $(cat "$res/$fs.rc") after $(( $(date +%s) - start ))s"
	tail -n 4 "$res/$fs.log"
	unmount_all
done
unmount_all
if [ -d /sys/module/overlay ]; then rmmod overlay || log "rmmod overlay failed at the end"; fi
losetup -d "$test_dev" "$scratch_dev"
exit 0

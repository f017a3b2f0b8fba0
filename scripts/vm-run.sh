#!/usr/bin/env bash
# Run a command inside a QEMU VM booted on the rovl test kernel.
#
#   scripts/vm-run.sh [-o RESULTS_DIR] [-t TIMEOUT_S] -- COMMAND [ARGS...]
#   scripts/vm-run.sh --accel      # print the accelerator a VM would use
#
# The guest sees the host's root file system read-only (so COMMAND can be any
# host path, e.g. a script of this repository), tmpfs on /tmp, /run and
# /var/tmp except for the checkout and $ROVL_CACHE, which stay visible at
# their own paths wherever they are, and RESULTS_DIR read-write at
# /tmp/results.  COMMAND runs as root in bash, in the repository directory.
# Afterwards RESULTS_DIR holds job.log (the command's output), rc (its exit
# status), dmesg.txt (the guest's kernel log) and console.log (the serial
# console).
#
# Accelerator: KVM if a probe boot reaches user space (the verdict is cached
# per test kernel; --accel runs the probe if needed and prints it), else
# TCG; ROVL_ACCEL=kvm|tcg forces one, ROVL_VM_CPU overrides the -cpu model.
# ROVL_KFLAVOUR=bench boots the benchmark kernel (scripts/env.sh) instead of
# the test kernel; ROVL_VM_KERNEL=<bzImage>
# boots that image instead (e.g. a kernel with rovl built in,
# Documentation/install.rst).
#
# Exit status: COMMAND's status; 3 if the VM never reached user space (after
# one retry: a boot failure, not a test result); 4 if the VM died or timed
# out while COMMAND ran (kernel panic, hang).
set -euo pipefail
. "$(dirname "$0")/env.sh"

results=
timeout_s=${ROVL_VM_TIMEOUT:-1800}
accel_only=
while [ $# -gt 0 ]; do
	case "$1" in
	--accel) accel_only=1; shift ;;
	-o) results=$2; shift 2 ;;
	-t) timeout_s=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || [ -n "$accel_only" ] ||
	rovl_die "usage: vm-run.sh [-o DIR] [-t SECONDS] -- COMMAND... | vm-run.sh --accel"

kdir=$(rovl_kdir)
kernel="$kdir/arch/x86/boot/bzImage"
if [ "$ROVL_KFLAVOUR" = test ]; then
	[ -f "$kdir/.rovl-built" ] && [ -f "$kernel" ] || rovl_die "test kernel not built; run scripts/setup.sh"
else
	[ -f "$kdir/.rovl-built" ] && [ -f "$kernel" ] ||
		rovl_die "$ROVL_KFLAVOUR kernel not built; run ROVL_KFLAVOUR=$ROVL_KFLAVOUR scripts/build-kernel.sh"
fi
if [ -n "${ROVL_VM_KERNEL:-}" ]; then
	[ -f "$ROVL_VM_KERNEL" ] || rovl_die "ROVL_VM_KERNEL=$ROVL_VM_KERNEL: no such file"
	kernel=$ROVL_VM_KERNEL
fi
initrd=$("$ROVL_TOP/scripts/mkinitramfs.sh")
tmp_results=
[ -n "$results" ] || { results=$(mktemp -d "${TMPDIR:-/tmp}/rovl-vm.XXXXXX"); tmp_results=1; }
mkdir -p "$results"
results=$(cd "$results" && pwd)

# boot ACCEL TIMEOUT: one VM run of $results/job.sh; console to console.log.
boot() {
	# -cpu max panicked one TCG boot in five; under KVM, -cpu host (on this
	# machine kind it fails at once, where qemu64 hangs after SeaBIOS).
	local accel=$1 tmo=$2 cpu=qemu64
	[ "$accel" = kvm ] && cpu=host
	cpu=${ROVL_VM_CPU:-$cpu}
	rm -f "$results/rc" "$results/job.log" "$results/dmesg.txt"
	timeout --foreground -k 5 "$tmo" qemu-system-x86_64 \
		-accel "$accel" -cpu "$cpu" -smp 2 -m "${ROVL_VM_MEM:-3G}" \
		-nographic -no-reboot -monitor none -serial "file:$results/console.log" \
		-nic none -kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=5 panic=-1 kmemleak=on rdinit=/init" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev "local,id=results,path=$results,security_model=none" \
		-device virtio-9p-pci,fsdev=results,mount_tag=results \
		</dev/null >/dev/null 2>"$results/qemu.err" || true
	grep -q 'ROVL-GUEST-UP' "$results/console.log" 2>/dev/null
}

pick_accel() {
	if [ -n "${ROVL_ACCEL:-}" ]; then
		echo "$ROVL_ACCEL"; return
	fi
	local verdict="$kdir/.rovl-accel"
	if [ ! -f "$verdict" ]; then
		local v=tcg
		if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			echo 'true' > "$results/job.sh"
			if boot kvm 60 && [ -f "$results/rc" ]; then v=kvm; fi
		fi
		echo "$v" > "$verdict.$$" && mv "$verdict.$$" "$verdict"
		rovl_log "accelerator probe: $v"
	fi
	cat "$verdict"
}

accel=$(pick_accel)
if [ -n "$accel_only" ]; then
	[ -n "$tmp_results" ] && rm -rf "$results"
	echo "$accel"
	exit 0
fi
# Host directories the guest must see at their own paths even where it
# mounts a tmpfs (/tmp, /run, /var/tmp): the checkout and the cache (modules,
# the kernel tree).  Read by scripts/guest/init.
printf '%s\n' "$ROVL_TOP" "$(readlink -f "$ROVL_CACHE")" | sort -u > "$results/guest-paths"
{
	echo "cd $(printf %q "$ROVL_TOP") || exit 125"
	# the same cache as here (HOME differs in the guest): make and
	# scripts/env.sh find the kernel tree
	echo "export ROVL_CACHE=$(printf %q "$(readlink -f "$ROVL_CACHE")")"
	printf '%q ' "$@"; echo
} > "$results/job.sh"

start=$(date +%s)
tries=0
while :; do
	tries=$((tries + 1))
	if boot "$accel" "$timeout_s"; then
		break
	fi
	if [ "$tries" -ge 2 ]; then
		rovl_log "BOOT FAILURE: the VM ($accel) never reached user space (2 tries); console tail:"
		tail -n 30 "$results/console.log" >&2 || true
		exit 3
	fi
	rovl_log "boot did not reach user space; retrying once"
done
rovl_log "VM ($accel) ran for $(( $(date +%s) - start ))s; results in $results"

if [ ! -f "$results/rc" ]; then
	rovl_log "the VM died or timed out while the command ran; console tail:"
	tail -n 40 "$results/console.log" >&2 || true
	exit 4
fi
exit "$(cat "$results/rc")"

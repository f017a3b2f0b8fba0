#!/usr/bin/env bash
# Build the test VM's initramfs: busybox-static plus scripts/guest/init.
# The init mounts the host's root file system read-only over 9p and chroots
# into it, so the tests use the host's tools (bash, attr, xfsprogs, python3).
# Prints the path of the (cached) initramfs.
set -euo pipefail
. "$(dirname "$0")/env.sh"

busybox=/bin/busybox
[ -x "$busybox" ] || rovl_die "busybox-static is not installed (scripts/setup.sh)"
init="$ROVL_TOP/scripts/guest/init"
key=$(cat "$busybox" "$init" | sha256sum | cut -c1-12)
out="$ROVL_CACHE/initramfs-$key.cpio.gz"
if [ ! -f "$out" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot}
	cp "$busybox" "$tmp/bin/busybox"
	ln -s busybox "$tmp/bin/sh"
	cp "$init" "$tmp/init"
	chmod 755 "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp.$$"
	mv "$out.tmp.$$" "$out"
fi
echo "$out"

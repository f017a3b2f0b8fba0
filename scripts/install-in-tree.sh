#!/usr/bin/env bash
# Put rovl into a kernel source tree as fs/rovl (Documentation/install.rst,
# "In a kernel tree"):
#
#   scripts/install-in-tree.sh KSRC           copy the sources to KSRC/fs/rovl
#                                             (replacing an older copy) and
#                                             hook them into fs/Kconfig and
#                                             fs/Makefile
#   scripts/install-in-tree.sh --remove KSRC  take rovl out of KSRC again
#
# Then configure the tree with CONFIG_ROVL_FS=y (built in: the file system is
# registered at boot) or CONFIG_ROVL_FS=m (the module rovl.ko), e.g.
#   scripts/config --file .config -e ROVL_FS && make olddefconfig
# and build it as usual.  KUnit: fs/rovl/.kunitconfig, for
#   tools/testing/kunit/kunit.py run --kunitconfig=fs/rovl --arch=x86_64
# Both hooks are added once (running the script again only refreshes the
# sources); edited files are replaced, not written in place.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'install-in-tree.sh: %s\n' "$*" >&2; exit 1; }

remove=
if [ "${1:-}" = --remove ]; then remove=1; shift; fi
[ $# -eq 1 ] || die "usage: install-in-tree.sh [--remove] KERNEL_SOURCE_TREE"
ksrc=$1
for f in Makefile Kconfig fs/Kconfig fs/Makefile; do
	[ -f "$ksrc/$f" ] || die "$ksrc is not a kernel source tree (no $f)"
done

kconfig_line='source "fs/rovl/Kconfig"'
make_line='obj-$(CONFIG_ROVL_FS)		+= rovl/'

# add_line FILE LINE ANCHOR_REGEX: add LINE after the first line matching
# ANCHOR_REGEX (at the end if none does), unless FILE has LINE already.
add_line() {
	local file=$1 line=$2 anchor=$3
	grep -qxF -- "$line" "$file" && return 0
	awk -v line="$line" -v anchor="$anchor" '
		{ print }
		!done && $0 ~ anchor { print line; done = 1 }
		END { if (!done) print line }' "$file" > "$file.rovl-tmp"
	mv "$file.rovl-tmp" "$file"
}

# del_line FILE LINE: remove every line equal to LINE from FILE.
del_line() {
	local file=$1 line=$2
	grep -qxF -- "$line" "$file" || return 0
	grep -vxF -- "$line" "$file" > "$file.rovl-tmp" || true
	mv "$file.rovl-tmp" "$file"
}

if [ -n "$remove" ]; then
	del_line "$ksrc/fs/Kconfig" "$kconfig_line"
	del_line "$ksrc/fs/Makefile" "$make_line"
	rm -rf "$ksrc/fs/rovl"
	echo "rovl removed from $ksrc (fs/rovl, fs/Kconfig, fs/Makefile)"
	exit 0
fi

rm -rf "$ksrc/fs/rovl"
"$top/scripts/package.sh" tree "$ksrc/fs/rovl"
add_line "$ksrc/fs/Kconfig" "$kconfig_line" '^source "fs/overlayfs/Kconfig"$'
add_line "$ksrc/fs/Makefile" "$make_line" '^obj-\$\(CONFIG_OVERLAY_FS\)'
echo "rovl $(cat "$ksrc/fs/rovl/VERSION") installed in $ksrc/fs/rovl"
echo "next: enable CONFIG_ROVL_FS (=y built in, =m module) and build the kernel"

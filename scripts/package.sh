#!/usr/bin/env bash
# Assemble rovl for the install routes of Documentation/install.rst into a
# build directory (the packaging sources are in scripts/packaging/):
#
#   scripts/package.sh tree DIR    the sources as they go into a kernel
#                                  tree's fs/rovl (Kbuild, Kconfig, rust/,
#                                  VERSION, .kunitconfig, Documentation/);
#                                  scripts/install-in-tree.sh uses it
#   scripts/package.sh dkms DIR    a DKMS source tree: "dkms add DIR"
#   scripts/package.sh deb OUTDIR  the Debian source package rovl and the
#                                  binary package rovl-dkms, built with
#                                  dpkg-buildpackage in OUTDIR/rovl-<version>;
#                                  the results (.deb, .dsc, .changes, ...)
#                                  land in OUTDIR
#
# DIR must not exist or be empty.  The version is scripts/version.sh's, and
# is written to DIR/VERSION (Kbuild reads it).  For "deb", the maintainer is
# $DEBFULLNAME <$DEBEMAIL> if set, else the author of the last commit.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
pkg=$top/scripts/packaging
die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: package.sh tree|dkms|deb DIR"
what=$1 dest=$2
version=$("$top/scripts/version.sh") || die "no version"

# newdir DIR: create DIR, which must not exist or be empty; print its path.
newdir() {
	if [ -e "$1" ] && [ -n "$(ls -A "$1")" ]; then die "$1 exists and is not empty"; fi
	mkdir -p "$1" && (cd "$1" && pwd)
}

# sources DIR: what Kbuild builds the module from, and its version.
sources() {
	local d=$1 f
	cp "$top/Kbuild" "$top/Kconfig" "$d/"
	# the Rust crate, the C helpers and the bindgen input; not what a
	# build generated
	(cd "$top" && find rust -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \
		-o -name bindgen_parameters \) ! -name bindings_generated.rs -print0) |
	while IFS= read -r -d '' f; do
		install -D -m 644 "$top/$f" "$d/$f"
	done
	[ -f "$d/rust/rovl.rs" ] || die "rust/rovl.rs missing from $d"
	echo "$version" > "$d/VERSION"
}

dkms_tree() {
	local d=$1
	sources "$d"
	install -m 755 "$pkg/dkms-make.sh" "$d/"
	sed "s/#MODULE_VERSION#/$version/" "$pkg/dkms.conf" > "$d/dkms.conf"
}

case "$what" in
tree)
	d=$(newdir "$dest")
	sources "$d"
	cp "$pkg/kunitconfig" "$d/.kunitconfig"
	mkdir -p "$d/Documentation"
	cp "$top"/Documentation/*.rst "$d/Documentation/"
	;;
dkms)
	d=$(newdir "$dest")
	dkms_tree "$d"
	;;
deb)
	out=$(newdir "$dest")
	d="$out/rovl-$version"
	mkdir "$d"
	dkms_tree "$d"
	cp "$pkg/dkms.conf" "$d/dkms.conf"	# dh_dkms -V fills in the version
	cp "$top/README.md" "$pkg/rovl.conf" "$d/"
	mkdir "$d/Documentation"
	cp "$top"/Documentation/*.rst "$d/Documentation/"
	cp -r "$pkg/debian" "$d/debian"
	cp "$pkg/dkms.conf" "$d/debian/rovl-dkms.dkms"
	maint=
	if [ -n "${DEBEMAIL:-}" ]; then
		maint="${DEBFULLNAME:-rovl developers} <$DEBEMAIL>"
	elif [ -e "$top/.git" ]; then
		maint=$(git -C "$top" log -1 --format='%an <%ae>' 2>/dev/null || true)
	fi
	[ -n "$maint" ] || die "no maintainer: set DEBEMAIL (and DEBFULLNAME)"
	sed -i "s|@MAINTAINER@|$maint|" "$d/debian/control"
	commit=
	[ -e "$top/.git" ] && commit=$(git -C "$top" rev-parse HEAD 2>/dev/null || true)
	{
		echo "rovl ($version) unstable; urgency=medium"
		echo
		echo "  * Built from rovl $version."
		[ -z "$commit" ] || echo "    Git commit $commit."
		echo
		echo " -- $maint  $(date -R)"
	} > "$d/debian/changelog"
	(cd "$d" && dpkg-buildpackage -us -uc) > "$out/build.log" 2>&1 || {
		tail -n 30 "$out/build.log" >&2
		die "dpkg-buildpackage failed (log: $out/build.log)"
	}
	ls "$out"/rovl-dkms_*_all.deb
	;;
*)
	die "usage: package.sh tree|dkms|deb DIR"
	;;
esac

#!/usr/bin/env bash
# The install routes of Documentation/install.rst, checked without a VM
# (the autoload in a running kernel is selftests/tests/030):
#   version           scripts/version.sh gives a release (+ the commit)
#   in-tree           scripts/install-in-tree.sh into a copy of the test
#                     kernel's fs/Kconfig + fs/Makefile: hooks added once,
#                     sources in fs/rovl, --remove restores the files
#   modules_install   make modules_install INSTALL_MOD_PATH=<tmp>: rovl.ko
#                     in updates/, depmod knows the fs-rovl alias
#   dkms build        dkms add + build against the test kernel's build tree,
#                     with private dkms/source/install trees (no system
#                     state is touched); the module's version and vermagic
#   dkms install      dkms install into the private module tree + depmod
#   dkms remove       dkms remove takes it out again
#   dkms non-Rust     against a kernel configured without CONFIG_RUST: dkms
#                     skips it (exit 77) before any compiler runs
#   kbuild non-Rust   make against such a kernel: one line saying so
#   deb build         scripts/package.sh deb (dpkg-buildpackage)
#   deb contents      what rovl-dkms holds, its version and dkms.conf; its
#                     /usr/src tree is the DKMS tree built above
#   lintian           no error or warning
# Prints "ok NAME" or "FAIL NAME" (with details) per check and exits
# non-zero if any failed.  Needs the test kernel (scripts/setup.sh).
# The work directory is removed unless a check failed (ROVL_KEEP=1 keeps it).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROVL_TOP"

kdir=$(rovl_kdir)
ksrc=$(rovl_ksrc)
[ -f "$kdir/.rovl-built" ] || rovl_die "test kernel not built; run scripts/setup.sh"
kver=$(cat "$kdir/include/config/kernel.release")
work=$(mktemp -d "${TMPDIR:-/tmp}/rovl-packaging.XXXXXX")
failed=0
pass() { echo "ok $1"; }
fail() {
	echo "FAIL $1"; shift
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/    /'
	failed=$((failed + 1))
}
# show FILE [N]: its last N (15) lines, for a failure's details
show() { tail -n "${2:-15}" "$1" 2>/dev/null; }

# --- version ------------------------------------------------------------
version=$(scripts/version.sh 2>&1)
if [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(\+git[0-9]+\.g[0-9a-f]{12}(\.dirty)?)?$ ]]; then
	pass "version ($version)"
else
	fail "version" "scripts/version.sh: '$version'"
fi

# --- in a kernel tree ------------------------------------------------------
t=$work/ktree
mkdir -p "$t/fs"
cp "$ksrc/Makefile" "$ksrc/Kconfig" "$t/"
cp "$ksrc/fs/Kconfig" "$ksrc/fs/Makefile" "$t/fs/"
why=()
if ! scripts/install-in-tree.sh "$t" > "$work/intree.log" 2>&1 ||
   ! scripts/install-in-tree.sh "$t" >> "$work/intree.log" 2>&1; then
	why+=("install-in-tree.sh failed: $(tail -n 3 "$work/intree.log")")
fi
[ "$(grep -cxF 'source "fs/rovl/Kconfig"' "$t/fs/Kconfig")" = 1 ] || why+=("fs/Kconfig: not one source line")
[ "$(grep -cx 'obj-$(CONFIG_ROVL_FS)[[:space:]]*+= rovl/' "$t/fs/Makefile")" = 1 ] || why+=("fs/Makefile: not one obj- line")
for f in Kbuild Kconfig VERSION .kunitconfig rust/rovl.rs rust/version.c rust/vfs/helpers.c; do
	[ -f "$t/fs/rovl/$f" ] || why+=("fs/rovl/$f missing")
done
[ "$(cat "$t/fs/rovl/VERSION" 2>/dev/null)" = "$version" ] || why+=("fs/rovl/VERSION is not $version")
grep -qx 'CONFIG_ROVL_FS=y' "$t/fs/rovl/.kunitconfig" 2>/dev/null || why+=(".kunitconfig without CONFIG_ROVL_FS=y")
[ -e "$t/fs/rovl/rust/vfs/bindings_generated.rs" ] && why+=("generated bindings copied")
if scripts/install-in-tree.sh --remove "$t" >> "$work/intree.log" 2>&1; then
	cmp -s "$ksrc/fs/Kconfig" "$t/fs/Kconfig" || why+=("--remove: fs/Kconfig not restored")
	cmp -s "$ksrc/fs/Makefile" "$t/fs/Makefile" || why+=("--remove: fs/Makefile not restored")
	[ -e "$t/fs/rovl" ] && why+=("--remove: fs/rovl still there")
else
	why+=("install-in-tree.sh --remove failed")
fi
if [ ${#why[@]} -eq 0 ]; then pass "in-tree install and removal"; else fail "in-tree install and removal" "${why[@]}"; fi

# --- make modules_install ---------------------------------------------------
why=()
if ! make -s modules > "$work/make.log" 2>&1; then
	why+=("make modules failed:" "$(show "$work/make.log")")
fi
mi=$work/modinst
if [ ${#why[@]} -eq 0 ]; then
	if make -s modules_install INSTALL_MOD_PATH="$mi" > "$work/modinst.log" 2>&1; then
		[ -f "$mi/lib/modules/$kver/updates/rovl.ko" ] || why+=("no lib/modules/$kver/updates/rovl.ko")
		grep -qx 'alias fs-rovl rovl' "$mi/lib/modules/$kver/modules.alias" 2>/dev/null ||
			why+=("depmod: no 'alias fs-rovl rovl' in modules.alias")
		v=$(modinfo -b "$mi" -k "$kver" -F version rovl 2>&1)
		[ "$v" = "$version" ] || why+=("modinfo -F version: '$v', not '$version'")
	else
		why+=("make modules_install failed:" "$(show "$work/modinst.log")")
	fi
fi
if [ ${#why[@]} -eq 0 ]; then pass "make modules_install + depmod"; else fail "make modules_install + depmod" "${why[@]}"; fi

# --- DKMS ------------------------------------------------------------------
# Private trees: nothing under /var/lib/dkms, /usr/src or /lib/modules.
dk=$work/dkms
mkdir -p "$dk/var" "$dk/usrsrc" "$dk/root/lib/modules/$kver"
dkms_opts=(--dkmstree "$dk/var" --sourcetree "$dk/usrsrc" --installtree "$dk/root/lib/modules")
mv_opts=(-m rovl -v "$version")
# the test kernel's make arguments (LLVM=1, the Debian rustc, our bindgen)
kmake_args="${ROVL_KMAKE_ARGS[*]}"
scripts/package.sh dkms "$dk/src" > "$work/dkms-src.log" 2>&1 || fail "dkms tree" "$(show "$work/dkms-src.log")"
why=()
if ! dkms add "${dkms_opts[@]}" "$dk/src" > "$work/dkms-add.log" 2>&1; then
	why+=("dkms add failed:" "$(show "$work/dkms-add.log")")
elif ! env ROVL_KMAKE_ARGS="$kmake_args" nice -n 10 dkms build "${dkms_opts[@]}" "${mv_opts[@]}" \
		-k "$kver" --kernelsourcedir "$kdir" > "$work/dkms-build.log" 2>&1; then
	why+=("dkms build failed:" "$(show "$work/dkms-build.log")")
	why+=("make.log:" "$(show "$dk/var/rovl/$version/build/make.log" 20)")
else
	built=$dk/var/rovl/$version/$kver/$(uname -m)/module/rovl.ko
	if [ -f "$built" ]; then
		v=$(modinfo -F version "$built"); vm=$(modinfo -F vermagic "$built")
		[ "$v" = "$version" ] || why+=("version of the built module: '$v'")
		[ "${vm%% *}" = "$kver" ] || why+=("vermagic of the built module: '$vm'")
	else
		why+=("no $built")
	fi
fi
if [ ${#why[@]} -eq 0 ]; then pass "dkms build ($kver)"; else fail "dkms build ($kver)" "${why[@]}"; fi

why=()
if dkms install "${dkms_opts[@]}" "${mv_opts[@]}" -k "$kver" --kernelsourcedir "$kdir" \
		--no-depmod > "$work/dkms-install.log" 2>&1; then
	[ -f "$dk/root/lib/modules/$kver/updates/dkms/rovl.ko" ] || why+=("not in updates/dkms")
	dkms status "${dkms_opts[@]}" "${mv_opts[@]}" -k "$kver" | grep -q ': installed$' ||
		why+=("dkms status: $(dkms status "${dkms_opts[@]}" "${mv_opts[@]}" -k "$kver")")
	depmod -b "$dk/root" "$kver" 2>/dev/null
	grep -qx 'alias fs-rovl rovl' "$dk/root/lib/modules/$kver/modules.alias" 2>/dev/null ||
		why+=("depmod: no fs-rovl alias")
else
	why+=("dkms install failed:" "$(show "$work/dkms-install.log")")
fi
if [ ${#why[@]} -eq 0 ]; then pass "dkms install + depmod"; else fail "dkms install + depmod" "${why[@]}"; fi

why=()
if dkms remove "${dkms_opts[@]}" "${mv_opts[@]}" --all --no-depmod > "$work/dkms-remove.log" 2>&1; then
	[ -e "$dk/root/lib/modules/$kver/updates/dkms/rovl.ko" ] && why+=("module still installed")
	[ -n "$(dkms status "${dkms_opts[@]}" -m rovl)" ] && why+=("dkms status: still listed")
else
	why+=("dkms remove failed:" "$(show "$work/dkms-remove.log")")
fi
if [ ${#why[@]} -eq 0 ]; then pass "dkms remove"; else fail "dkms remove" "${why[@]}"; fi

# A kernel configured without Rust (like Debian's): for dkms its .config
# (and include/) is all that counts.
nr=$dk/norust
mkdir -p "$nr/include"
grep -v '^CONFIG_RUST=y' "$kdir/.config" > "$nr/.config"
dkms add "${dkms_opts[@]}" "$dk/src" > /dev/null 2>&1
dkms build "${dkms_opts[@]}" "${mv_opts[@]}" -k "$kver-norust" --kernelsourcedir "$nr" > "$work/dkms-norust.log" 2>&1
rc=$?
if [ "$rc" = 77 ] && grep -q 'BUILD_EXCLUSIVE directive which does not match' "$work/dkms-norust.log" &&
   [ ! -e "$dk/var/rovl/$version/build/make.log" ]; then
	pass "dkms skips a kernel without Rust"
else
	fail "dkms skips a kernel without Rust" "dkms build exited with $rc:" "$(show "$work/dkms-norust.log")"
fi

# The same for make: a view of the test kernel's build tree whose
# configuration says no CONFIG_RUST.
sh=$work/norust-tree
mkdir -p "$sh/include/config"
for e in "$kdir"/* "$kdir"/.config "$kdir"/include/* "$kdir"/include/config/*; do
	r=${e#"$kdir"/}
	case "$r" in include|include/config|Makefile|.config|include/config/auto.conf) continue ;; esac
	ln -s "$e" "$sh/$r"
done
grep -v '^CONFIG_RUST=y' "$kdir/include/config/auto.conf" > "$sh/include/config/auto.conf"
grep -v '^CONFIG_RUST=y' "$kdir/.config" > "$sh/.config"
printf 'export KBUILD_OUTPUT = %s\ninclude %s/Makefile\n' "$sh" "$ksrc" > "$sh/Makefile"
cp -a "$dk/src" "$work/src-norust"
make -s -C "$sh" M="$work/src-norust" "${ROVL_KMAKE_ARGS[@]}" modules > "$work/kbuild-norust.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && [ "$(grep -c 'rovl needs a kernel built with Rust support (CONFIG_RUST=y)' "$work/kbuild-norust.log")" = 1 ] &&
   ! grep -qiE 'error:|warning:' "$work/kbuild-norust.log"; then
	pass "kbuild: one line for a kernel without Rust"
else
	fail "kbuild: one line for a kernel without Rust" "make exited with $rc:" "$(show "$work/kbuild-norust.log")"
fi

# --- Debian package ----------------------------------------------------------
deb=
if deb=$(scripts/package.sh deb "$work/deb" 2> "$work/deb.log") && [ -f "$deb" ]; then
	pass "deb build ($(basename "$deb"))"
else
	fail "deb build" "$(show "$work/deb.log" 30)"
	deb=
fi
if [ -n "$deb" ]; then
	why=()
	dpkg-deb -c "$deb" | awk '{ print $1, $NF }' > "$work/deb-contents.txt"
	src=./usr/src/rovl-$version
	doc=./usr/share/doc/rovl-dkms
	for f in "$src/dkms.conf" "$src/Kbuild" "$src/Kconfig" "$src/VERSION" "$src/rust/rovl.rs" \
		"$src/rust/version.c" "$src/rust/vfs/helpers.c" "$src/rust/vfs/bindgen_parameters" \
		"$doc/copyright" "$doc/changelog.gz" "$doc/README.md.gz" "$doc/install.rst.gz" \
		"$doc/rovl.rst.gz" "$doc/examples/rovl.conf"; do
		grep -q "^-rw-r--r-- $f\$" "$work/deb-contents.txt" || why+=("missing: $f")
	done
	grep -q "^-rwxr-xr-x $src/dkms-make.sh\$" "$work/deb-contents.txt" || why+=("missing or not executable: $src/dkms-make.sh")
	bad=$(grep -E '\.(o|ko|cmd)$|bindings_generated|/\.git' "$work/deb-contents.txt")
	[ -z "$bad" ] || why+=("unexpected files:" "$bad")
	[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || why+=("Version: $(dpkg-deb -f "$deb" Version)")
	dpkg-deb -f "$deb" Depends | grep -q dkms || why+=("Depends without dkms")
	x=$work/deb-x
	dpkg-deb -x "$deb" "$x"
	grep -qx "PACKAGE_VERSION=\"$version\"" "$x/usr/src/rovl-$version/dkms.conf" 2>/dev/null ||
		why+=("dkms.conf: PACKAGE_VERSION is not $version")
	diff -r "$dk/src" "$x/usr/src/rovl-$version" > "$work/deb-vs-dkms.diff" 2>&1 ||
		why+=("/usr/src/rovl-$version differs from the DKMS tree:" "$(head -n 10 "$work/deb-vs-dkms.diff")")
	dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst 2>/dev/null | grep -q 'common.postinst' ||
		why+=("postinst does not run dkms's common.postinst")
	if [ ${#why[@]} -eq 0 ]; then pass "deb contents"; else fail "deb contents" "${why[@]}"; fi

	changes=$(ls "$work"/deb/*.changes)
	if lintian --fail-on error,warning "$changes" > "$work/lintian.log" 2>&1 &&
	   ! grep -qE '^[EW]: ' "$work/lintian.log"; then
		pass "lintian"
	else
		fail "lintian" "$(grep -v 'running with root privileges' "$work/lintian.log")"
	fi
fi

if [ "$failed" -eq 0 ] && [ -z "${ROVL_KEEP:-}" ]; then
	rm -rf "$work"
else
	echo "work directory: $work"
fi
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Set up everything rovl needs on a Debian 12 (bookworm) machine, idempotently:
#   1. Debian packages: the Rust-for-Linux toolchain (rustc-web + rust-web-src,
#      clang/lld/llvm 19, libclang) and what the tests need (QEMU, busybox,
#      kernel build deps, xfsprogs, attr, acl, ...) and the packaging tools
#      (dkms, debhelper, dh-dkms, lintian);
#   2. bindgen-cli from the Rust crate registry, into the cache;
#   3. the kernel source: Debian's linux-source-$ROVL_KSERIES package, taken
#      from a newer Debian suite for download only (nothing is installed from
#      it), falling back to the newest linux-source-7.x on offer;
#   4. the test kernel (scripts/build-kernel.sh), cached by version + config.
# A second run finds everything in place and takes seconds.
set -euo pipefail
. "$(dirname "$0")/env.sh"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# One set-up at a time per cache: two at once (the demo in one terminal, the
# tests in another) would build the kernel into the same directory together.
mkdir -p "$ROVL_CACHE"
exec 9>"$ROVL_CACHE/.setup.lock"
if ! flock -n 9; then
	rovl_log "another set-up is running on $ROVL_CACHE; waiting for it"
	flock 9
fi

# ---------------------------------------------------------------------------
# 1. Debian packages
PKGS=(rustc-web rust-web-src clang-19 lld-19 llvm-19 libclang-19-dev
      qemu-system-x86 busybox-static flex bison bc libelf-dev libssl-dev
      cpio kmod xfsprogs e2fsprogs attr acl dwarves python3 xz-utils zstd
      make gcc libc6-dev nfs-kernel-server
      fio)                    # io_uring in selftest 040
# packaging (scripts/check-packaging.sh): DKMS, building the Debian package
# rovl-dkms, lintian
PKGS+=(dkms dh-dkms debhelper dpkg-dev lintian)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	rovl_log "installing Debian packages: ${missing[*]}"
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------------------
# 2. bindgen
if ! "$ROVL_BINDGEN" --version 2>/dev/null | grep -q " $ROVL_BINDGEN_VERSION\$"; then
	command -v cargo >/dev/null || rovl_die "cargo not found (install Rust with rustup or Debian's cargo)"
	rovl_log "installing bindgen-cli $ROVL_BINDGEN_VERSION into $ROVL_CACHE/tools"
	cargo install --quiet --locked bindgen-cli --version "$ROVL_BINDGEN_VERSION" \
		--root "$ROVL_CACHE/tools"
fi

# ---------------------------------------------------------------------------
# 3. Kernel source
fetch_kernel_source() {
	local apt="$ROVL_CACHE/apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$ROVL_CACHE/src"
	# A private apt configuration: the newer suite is visible only to these
	# commands, and only for `apt-get download`.
	cat > "$apt/sources.list" <<-EOF
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main
	EOF
	local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
	rovl_log "looking for linux-source-$ROVL_KSERIES"
	apt-get "${opts[@]}" update -qq
	local pkg="linux-source-$ROVL_KSERIES"
	if ! apt-cache "${opts[@]}" show "$pkg" >/dev/null 2>&1; then
		pkg=$(apt-cache "${opts[@]}" pkgnames linux-source-7. | sort -V | tail -n 1)
		[ -n "$pkg" ] || rovl_die "no linux-source-7.x package found"
		rovl_log "linux-source-$ROVL_KSERIES not on offer, falling back to $pkg"
	fi
	local series=${pkg#linux-source-}
	local tmp
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get "${opts[@]}" download -qq "$pkg")
	local deb
	deb=$(ls "$tmp"/*.deb)
	rovl_log "unpacking $(basename "$deb")"
	rm -rf "$ROVL_CACHE/src/$pkg.partial"
	mkdir -p "$ROVL_CACHE/src/$pkg.partial"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" | xz -dc -T0 |
		tar -x -C "$ROVL_CACHE/src/$pkg.partial"
	rm -rf "$ROVL_CACHE/src/$pkg"
	mv "$ROVL_CACHE/src/$pkg.partial/$pkg" "$ROVL_CACHE/src/$pkg"
	rmdir "$ROVL_CACHE/src/$pkg.partial"
	dpkg-deb -f "$deb" Version > "$ROVL_CACHE/src/$pkg/.debian-version"
	rm -rf "$tmp"
	ln -sfn "$pkg" "$ROVL_CACHE/src/current"
	rovl_log "kernel source: $pkg $(cat "$ROVL_CACHE/src/$pkg/.debian-version") (series $series)"
}

src=$(rovl_ksrc || true)
if [ -z "$src" ] || [ ! -f "$src/Makefile" ]; then
	fetch_kernel_source
fi

# ---------------------------------------------------------------------------
# 4. Test kernel
"$ROVL_TOP/scripts/build-kernel.sh"

rovl_log "set-up done: kernel $(rovl_kversion) in $(rovl_kdir)"

# shellcheck shell=bash
# Common environment for every rovl script.  Source it, don't run it.
#
# Everything that is expensive to make (toolchain extras, kernel source, the
# built test kernel) lives in a cache outside the repository, so a second run
# reuses it and `git clean` never throws it away.

ROVL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROVL_CACHE=${ROVL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rovl}

# Kernel series to build the test kernel from: Debian's linux-source-$ROVL_KSERIES.
# If that package is not on offer, scripts/setup.sh falls back to the newest 7.x.
ROVL_KSERIES=${ROVL_KSERIES:-7.2}

ROVL_LLVM_BIN=/usr/lib/llvm-19/bin
ROVL_RUSTC=/usr/bin/rustc                     # Debian rustc-web (sysroot /usr)
ROVL_BINDGEN_VERSION=0.72.1
ROVL_BINDGEN=$ROVL_CACHE/tools/bin/bindgen    # cargo install --locked bindgen-cli

export PATH="$ROVL_LLVM_BIN:$PATH"

# Arguments every make invocation against the kernel tree must share: the
# kernel decides RUST_IS_AVAILABLE from these, so they must be identical for
# the kernel build and for the out-of-tree module build.
ROVL_KMAKE_ARGS=(LLVM=1 "RUSTC=$ROVL_RUSTC" "BINDGEN=$ROVL_BINDGEN" "HOSTRUSTC=$ROVL_RUSTC")

# Kernel flavour: "test" (the default: the test kernel, with the debug checks
# the tests rely on) or "bench" (scripts/bench.sh: the same fragment minus its
# "debug checks" block, plus scripts/kernel/bench-kernel.config; built only on
# demand by scripts/bench.sh, never by set-up or CI).
ROVL_KFLAVOUR=${ROVL_KFLAVOUR:-test}
case "$ROVL_KFLAVOUR" in
test|bench) ;;
*) printf '[rovl] error: ROVL_KFLAVOUR=%s: not "test" or "bench"\n' "$ROVL_KFLAVOUR" >&2; return 1 ;;
esac

# The config fragment of the flavour, on stdout.
rovl_kfragment() {
	local test="$ROVL_TOP/scripts/kernel/test-kernel.config"
	if [ "$ROVL_KFLAVOUR" = test ]; then
		cat "$test"
	else
		awk '/^# --- debug checks/ { skip = 1; next } /^# ---/ { skip = 0 } !skip' "$test" &&
			cat "$ROVL_TOP/scripts/kernel/bench-kernel.config"
	fi
}

rovl_config_hash() {
	if [ "$ROVL_KFLAVOUR" = test ]; then
		sha256sum "$ROVL_TOP/scripts/kernel/test-kernel.config" | cut -c1-12
	else
		local frag
		frag=$(rovl_kfragment) || return 1
		printf '%s\n' "$frag" | sha256sum | cut -c1-12
	fi
}

# The unpacked source tree of the test kernel (set by setup.sh, recorded in
# $ROVL_CACHE/src/current).
rovl_ksrc() {
	local cur="$ROVL_CACHE/src/current"
	[ -e "$cur" ] && readlink -f "$cur"
}

rovl_kversion() {
	make -s -C "$(rovl_ksrc)" kernelversion 2>/dev/null
}

# Build directory of the kernel: keyed by kernel version + config hash
# (+ the flavour's name, except for the test kernel).
rovl_kdir() {
	local flavour=
	[ "$ROVL_KFLAVOUR" = test ] || flavour="$ROVL_KFLAVOUR-"
	echo "$ROVL_CACHE/kernel/$(rovl_kversion)-$flavour$(rovl_config_hash)"
}

rovl_log() { printf '[rovl] %s\n' "$*" >&2; }
rovl_die() { printf '[rovl] error: %s\n' "$*" >&2; exit 1; }

# rovl_copy_worktree DEST: copies the checkout's tracked and untracked
# (not ignored) files, without build products, into DEST, so that a module
# can be built there against another kernel while the work tree's own
# rovl.ko stays as it is.
rovl_copy_worktree() {
	(cd "$ROVL_TOP" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -f "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done |
		tar --null -T - -cf - | tar -xf - -C "$1")
}

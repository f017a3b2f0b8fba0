#!/bin/sh
# DKMS build command of rovl (MAKE[0] in dkms.conf), run in the build copy
# of the sources:
#
#   ./dkms-make.sh KERNEL_BUILD_DIR KERNELRELEASE [MAKE ARGUMENTS...]
#
# Builds rovl.ko with the make arguments the kernel was built with, which a
# Rust module must share with its kernel:
#   * LLVM=1 if the kernel was built with clang (and, when there is no plain
#     "clang" on PATH, /usr/lib/llvm-N/bin of the kernel's clang version);
#   * $ROVL_KMAKE_ARGS from the environment, e.g.
#     ROVL_KMAKE_ARGS="RUSTC=/usr/bin/rustc BINDGEN=/opt/bin/bindgen";
#   * whatever dkms appends (CC=clang LD=ld.lld for a clang-built kernel).
# The rustc used must be the one the kernel was built with: a different one
# is refused with one line (in make.log) rather than a screen of errors.
set -eu
kdir=$1 kver=$2
shift 2
conf=$kdir/.config
[ -f "$conf" ] || { echo "rovl: no kernel configuration at $conf" >&2; exit 1; }

args=
if grep -q '^CONFIG_CC_IS_CLANG=y' "$conf"; then
	args=LLVM=1
	if ! command -v clang >/dev/null 2>&1; then
		v=$(sed -n 's/^CONFIG_CLANG_VERSION=\([0-9]*\)$/\1/p' "$conf")
		if [ -n "$v" ] && [ -x "/usr/lib/llvm-$((v / 10000))/bin/clang" ]; then
			PATH=/usr/lib/llvm-$((v / 10000))/bin:$PATH
			export PATH
		fi
	fi
fi

# The rustc that make will use: the last RUSTC= argument, else "rustc".
rustc=rustc
for a in ${ROVL_KMAKE_ARGS:-} "$@"; do
	case "$a" in RUSTC=*) rustc=${a#RUSTC=} ;; esac
done
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$conf")
have=$("$rustc" --version 2>/dev/null || true)
# (without CONFIG_RUST, Kbuild says so itself)
if grep -q '^CONFIG_RUST=y' "$conf" && [ "$have" != "$want" ]; then
	echo "rovl: kernel $kver was built with \"$want\" but $rustc is \"${have:-not found}\"; pass the kernel's rustc in ROVL_KMAKE_ARGS=\"RUSTC=...\"" >&2
	exit 1
fi

# shellcheck disable=SC2086 # word splitting of the argument lists is meant
exec make -j"$(nproc)" -C "$kdir" M="$(pwd)" KERNELRELEASE="$kver" $args ${ROVL_KMAKE_ARGS:-} "$@" modules

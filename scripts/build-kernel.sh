#!/usr/bin/env bash
# Build the rovl test kernel (bzImage + the Rust metadata out-of-tree modules
# need) from the unpacked Debian source with LLVM=1, into a cache directory
# keyed by kernel version + hash of scripts/kernel/test-kernel.config.
# A finished build is recognised by its stamp file and reused.
# ROVL_KFLAVOUR=bench builds the benchmark kernel instead (scripts/env.sh).
set -euo pipefail
. "$(dirname "$0")/env.sh"

src=$(rovl_ksrc) || true
[ -n "$src" ] && [ -f "$src/Makefile" ] || rovl_die "no kernel source; run scripts/setup.sh first"
kdir=$(rovl_kdir)
stamp="$kdir/.rovl-built"
if [ -f "$stamp" ]; then
	rovl_log "$ROVL_KFLAVOUR kernel cached: $kdir"
	exit 0
fi

mkdir -p "$kdir"
# The flavour's config fragment, kept with the build (the test kernel's is
# the file in the repository itself).
frag="$ROVL_TOP/scripts/kernel/test-kernel.config"
if [ "$ROVL_KFLAVOUR" != test ]; then
	frag="$kdir/rovl-$ROVL_KFLAVOUR.config"
	rovl_kfragment > "$frag"
fi
jobs=${ROVL_JOBS:-$(( $(nproc) + 1 ))}
mk() { make -C "$src" O="$kdir" "${ROVL_KMAKE_ARGS[@]}" "$@"; }

rovl_log "configuring $(rovl_kversion) in $kdir"
mk -s rustavailable
mk -s tinyconfig
# Merge our fragment on top of tinyconfig, then let Kconfig resolve the rest.
"$src/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" \
	"$frag" >/dev/null
mk -s olddefconfig

# Every option of the fragment must have survived: a silently dropped option
# (unmet dependency) would give a kernel that cannot run the tests.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qx -- "$line" "$kdir/.config"; then
			rovl_log "config option not applied: $line"; missing=1
		fi ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		if grep -q "^$opt=" "$kdir/.config"; then
			rovl_log "config option not unset: $opt"; missing=1
		fi ;;
	esac
done < "$frag"
[ "$missing" = 0 ] || rovl_die "config fragment does not apply cleanly"

rovl_log "building kernel with -j$jobs (log: $kdir/build.log)"
start=$(date +%s)
if ! mk -j"$jobs" bzImage modules > "$kdir/build.log" 2>&1; then
	tail -40 "$kdir/build.log" >&2
	rovl_die "kernel build failed"
fi
# Out-of-tree Rust modules need the kernel's rust metadata and the prepared tree.
mk -s -j"$jobs" modules_prepare >> "$kdir/build.log" 2>&1
echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - start ))s" > "$stamp"
rovl_log "$ROVL_KFLAVOUR kernel built in $(( $(date +%s) - start ))s: $kdir"

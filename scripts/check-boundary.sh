#!/usr/bin/env bash
# Keeps the boundary between the VFS binding layer and the overlay:
#   1. nothing under rust/vfs imports the overlay (crate::fs) or the pure
#      logic (crate::logic), or names an overlay concept;
#   2. every file under rust/fs and rust/logic forbids unsafe code, and none
#      contains an `unsafe` block or function;
#   3. every `unsafe` block under rust/vfs (generated bindings excepted) has a
#      `// SAFETY:` comment in the lines just above it.
# Prints one line per violation and "boundary: N violations"; exit status 1
# if there is any.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
v() { echo "boundary: $*"; bad=$((bad + 1)); }

vfs_files=$(ls rust/vfs/*.rs rust/vfs/*.c rust/vfs/*.h rust/vfs/bindgen_parameters 2>/dev/null |
	grep -v -e bindings_generated.rs)
for f in $vfs_files; do
	while IFS= read -r hit; do
		v "$f: names the overlay: $hit"
	done < <(perl -ne 'my $l = $_; $l =~ s/\bOpaque\b//g; $l =~ s/binding layer//gi;
		print "$.: $_" if $l =~ /crate::(fs|logic)\b/ ||
			$l =~ /\b(whiteouts?|opaque|redirects?|metacopy|upper|lower|layers?|overlay|overlayfs)\b/i' "$f")
done

for f in rust/fs/*.rs rust/logic/*.rs; do
	grep -q '^#!\[forbid(unsafe_code)\]' "$f" || {
		# host.rs / mod.rs / fuzz.rs of rust/logic are covered by the crate
		# attributes of the files they include; require it elsewhere.
		case "$f" in rust/logic/host.rs|rust/logic/mod.rs|rust/logic/fuzz.rs) ;;
		*) v "$f: missing #![forbid(unsafe_code)]" ;; esac
	}
	grep -nE '\bunsafe\b *(\{|fn|impl)' "$f" | while IFS= read -r hit; do
		echo "boundary: $f: unsafe outside rust/vfs: $hit"
	done
	n=$(grep -cE '\bunsafe\b *(\{|fn|impl)' "$f")
	bad=$((bad + n))
done

for f in rust/vfs/*.rs; do
	case "$f" in rust/vfs/bindings.rs|rust/vfs/bindings_generated.rs) continue ;; esac
	while IFS= read -r ln; do
		v "$f:$ln: unsafe block without a SAFETY comment"
	done < <(awk '
		/\/\/ SAFETY:/ { last = NR }
		/unsafe *\{/ && !/unsafe impl/ && !/^ *\/\// {
			if (!(last && NR - last <= 6)) print NR
		}' "$f")
done

echo "boundary: $bad violations"
[ "$bad" -eq 0 ]

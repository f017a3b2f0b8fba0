#!/usr/bin/env bash
# Print rovl's version, for the module (modinfo -F version), the DKMS tree
# and the Debian package alike:
#
#   scripts/version.sh        e.g. 0.1.0, or 0.1.0+git286.gc821e6f3a2b1[.dirty]
#
# The release is the version in Cargo.toml (the one source of truth).  In a
# git checkout of rovl the commit is appended: "+git<N>.g<commit>", N being
# the number of commits since the tag v<release> (or since the first commit
# when there is no such tag), ".dirty" when tracked files have changes.  A
# checkout exactly at the tag v<release>, clean, is just "<release>".  The
# result is a valid Debian native version and sorts after the release.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

release=$(sed -nE '/^\[package\]/,/^\[/ s/^version *= *"([^"]+)".*/\1/p' "$top/Cargo.toml" | head -n 1)
case "$release" in
[0-9]*) ;;
*) echo "version.sh: no version in $top/Cargo.toml" >&2; exit 1 ;;
esac

# Only a checkout of rovl itself counts (not, say, a kernel tree under git
# that holds a copy of these files).
if [ -e "$top/.git" ] && command -v git >/dev/null &&
   [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$top" ] &&
   commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null); then
	if git -C "$top" rev-parse -q --verify "refs/tags/v$release" >/dev/null; then
		n=$(git -C "$top" rev-list --count "v$release..HEAD")
	else
		n=$(git -C "$top" rev-list --count HEAD)
	fi
	dirty=
	git -C "$top" diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
	if [ "$n" = 0 ] && [ -z "$dirty" ] &&
	   git -C "$top" rev-parse -q --verify "refs/tags/v$release" >/dev/null; then
		echo "$release"
	else
		echo "$release+git$n.g$commit$dirty"
	fi
else
	echo "$release"
fi

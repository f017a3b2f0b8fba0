#!/bin/bash
# Runs inside the test VM (see scripts/demo.sh): builds a small lower tree,
# mounts it through rovl and shows that lookups, reads, symlinks and xattrs
# go through the overlay.  $1 is the module to load.
set -eu
ko=${1:?module path}
fstype=$(basename "$ko" .ko)

base=$(mktemp -d /tmp/rovl-demo.XXXXXX)
lower=$base/lower mnt=$base/mnt
mkdir -p "$lower/bin" "$lower/lib/python3" "$mnt"
printf 'hello from the lower layer\n' > "$lower/README"
printf '#!/bin/sh\necho tool v1.2\n' > "$lower/bin/tool"
chmod 755 "$lower/bin/tool"
ln -s ../README "$lower/bin/readme-link"
printf 'print("hi")\n' > "$lower/lib/python3/mod.py"
setfattr -n user.origin -v release-1.2 "$lower/README" 2>/dev/null || true

run() { printf '$ %s\n' "$*"; "$@"; }

run insmod "$ko"
run mount -t "$fstype" -o "lowerdir=$lower" none "$mnt"
run grep " $mnt " /proc/mounts
run ls -la "$mnt" "$mnt/bin"
run cat "$mnt/README"
run cat "$mnt/bin/readme-link"
run "$mnt/bin/tool"
run getfattr -d "$mnt/README" || true
run stat -c '%n ino=%i size=%s mode=%a' "$lower/README" "$mnt/README"
printf '$ touch %s/new   (read-only: expect EROFS)\n' "$mnt"
touch "$mnt/new" 2>&1 || true
run umount "$mnt"
run rmmod "$fstype"
echo "demo OK"

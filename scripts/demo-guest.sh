#!/bin/bash
# Runs inside the test VM (see scripts/demo.sh): builds two small lower
# layers (a release tree and a newer one that updates a file, adds one and
# deletes one with a whiteout), mounts the stack through rovl and shows the
# merged view: lookups, reads, symlinks, xattrs, merged readdir; then mounts
# it again with an upper layer and changes it (copy-up, metadata only with
# metacopy=on, a whiteout, a new directory) and shows what went to the
# upper layer.  $1 is the module to load.
set -eu
ko=${1:?module path}
fstype=$(basename "$ko" .ko)

base=$(mktemp -d /tmp/rovl-demo.XXXXXX)
lower=$base/lower top=$base/top mnt=$base/mnt
mkdir -p "$lower/bin" "$lower/lib/python3" "$mnt" "$top/bin" "$top/lib/python3"
printf 'hello from the lower layer\n' > "$lower/README"
printf '#!/bin/sh\necho tool v1.2\n' > "$lower/bin/tool"
chmod 755 "$lower/bin/tool"
ln -s ../README "$lower/bin/readme-link"
printf 'print("hi")\n' > "$lower/lib/python3/mod.py"
setfattr -n user.origin -v release-1.2 "$lower/README" 2>/dev/null || true
printf 'print("old")\n' > "$lower/lib/python3/old.py"
# the newer layer: a new tool version, a new module, old.py deleted
printf '#!/bin/sh\necho tool v1.3\n' > "$top/bin/tool"
chmod 755 "$top/bin/tool"
printf 'print("new")\n' > "$top/lib/python3/new.py"
mknod "$top/lib/python3/old.py" c 0 0	# a whiteout, as overlayfs writes it

run() { printf '$ %s\n' "$*"; "$@"; }

run insmod "$ko"
run mount -t "$fstype" -o "lowerdir=$top:$lower" none "$mnt"
run grep " $mnt " /proc/mounts
run ls -la "$mnt" "$mnt/bin"
run ls "$lower/lib/python3" "$top/lib/python3" "$mnt/lib/python3"
run cat "$mnt/README"
run cat "$mnt/bin/readme-link"
run "$mnt/bin/tool"
run getfattr -d "$mnt/README" || true
run stat -c '%n ino=%i size=%s mode=%a' "$lower/README" "$mnt/README"
printf '$ touch %s/new   (no upper layer: read-only, expect EROFS)\n' "$mnt"
touch "$mnt/new" 2>&1 || true
run umount "$mnt"

# The same stack with an upper layer: changes go there, the lower layers
# stay as they are.
upper=$base/upper work=$base/work
mkdir -p "$upper" "$work"
run mount -t "$fstype" -o "lowerdir=$top:$lower,upperdir=$upper,workdir=$work,metacopy=on,redirect_dir=on" none "$mnt"
run chown -R -h 1000:1000 "$mnt/lib"	# metadata-only copy-up
run sh -c "echo 'local note' >> $mnt/README"	# data copy-up
run rm "$mnt/bin/tool"	# a whiteout over the lower file
run mkdir "$mnt/local"
run ls -la "$mnt" "$mnt/lib/python3"
run cat "$mnt/README"
run umount "$mnt"
run find "$upper" -printf '%M %u %s %p\n'
run getfattr -R -d -m trusted.overlay. -e text "$upper" || true
run cat "$lower/README"
run rmmod "$fstype"
echo "demo OK"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/boot/example/tap-initrd.sh [OUT]: the README's CI example's initrd: a static busybox
# whose /init prints a TAP plan and two results, then "ALL TESTS DONE", and powers the guest
# off. OUT defaults to ./initrd.gz. Needs busybox-static (or BUSYBOX=a static busybox) and cpio.
set -euo pipefail
out=$(realpath -m "${1:-initrd.gz}")
bb=${BUSYBOX:-/bin/busybox}   # BUSYBOX=PATH: another static busybox
[ -x "$bb" ] || { echo "tap-initrd: no $bb (apt-get install busybox-static)" >&2; exit 2; }
# the initrd has no libraries: a dynamic busybox (Debian's busybox package) cannot run there
[[ "$(ldd "$bb" 2>&1 || true)" == *"not a dynamic executable"* ]] ||
    { echo "tap-initrd: $bb is not static (apt-get install busybox-static)" >&2; exit 2; }
command -v cpio > /dev/null || { echo "tap-initrd: cpio is missing (apt-get install cpio)" >&2; exit 2; }
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin"
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
echo 1..2
echo ok 1 - boots
echo ok 2 - math $((6*7))
echo ALL TESTS DONE
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$out"
echo "$out"

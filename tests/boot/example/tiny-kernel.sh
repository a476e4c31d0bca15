#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/boot/example/tiny-kernel.sh SOURCE [OUT]: the README's CI example's kernel, built the way
# a user's CI job builds its own: Linux's tinyconfig plus what a Xen PV guest with a console and
# an initramfs needs, from SOURCE (a kernel source tree, or its tarball: kernel.org's
# linux-6.x.tar.xz, or Debian's /usr/src/linux-source-6.1.tar.xz from the linux-source-6.1
# package). The tree is unpacked and built in OUT (default: ./tiny-kernel); the last line
# printed is the bzImage's path. Needs make, gcc, flex, bison, bc, libelf-dev.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 SOURCE-DIR-OR-TARBALL [OUT]" >&2; exit 2; }
src=$1 out=$(realpath -m "${2:-tiny-kernel}")
# what SOURCE is first (a wrong path is named as such whatever the machine lacks), then the tools
if [ -d "$src" ]; then
    [ -f "$src/Makefile" ] && [ -d "$src/arch/x86" ] || { echo "tiny-kernel: $src is not a Linux source tree" >&2; exit 2; }
    tree=$(realpath "$src")
elif [ -f "$src" ]; then
    top=$( (tar tf "$src" 2>/dev/null || true) | head -1 | cut -d/ -f1)
    [ -n "$top" ] || { echo "tiny-kernel: $src is not a tarball" >&2; exit 2; }
else
    echo "tiny-kernel: $src: no such file or directory" >&2; exit 2
fi
for t in make gcc flex bison bc; do
    command -v "$t" > /dev/null || { echo "tiny-kernel: $t is missing (apt-get install make gcc flex bison bc libelf-dev)" >&2; exit 2; }
done
if [ -f "$src" ]; then
    mkdir -p "$out"
    [ -f "$out/$top/Makefile" ] || tar xf "$src" -C "$out"
    tree=$out/$top
    [ -d "$tree/arch/x86" ] || { echo "tiny-kernel: $src holds no Linux source tree" >&2; exit 2; }
fi
mkdir -p "$out/build"
make -s -C "$tree" O="$out/build" tinyconfig
# a 64-bit PV guest: Xen's console (hvc0), an initramfs (gzip), ELF and #! programs, /proc,
# /sys and devtmpfs for busybox's init, printk for the kernel's own lines
"$tree/scripts/config" --file "$out/build/.config" -e 64BIT -e PRINTK -e TTY -e BLK_DEV_INITRD \
    -e RD_GZIP -e BINFMT_ELF -e BINFMT_SCRIPT -e PROC_FS -e SYSFS -e DEVTMPFS -e HYPERVISOR_GUEST \
    -e PARAVIRT -e XEN -e XEN_PV -e HVC_XEN
make -s -C "$tree" O="$out/build" olddefconfig
for o in XEN_PV HVC_XEN BLK_DEV_INITRD DEVTMPFS; do
    grep -q "^CONFIG_$o=y" "$out/build/.config" || { echo "tiny-kernel: CONFIG_$o did not stay on after olddefconfig" >&2; exit 1; }
done
make -s -C "$tree" O="$out/build" -j"$(nproc)" bzImage
echo "$out/build/arch/x86/boot/bzImage"

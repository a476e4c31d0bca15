#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/guest-cli.sh: tests/boot/guest (your kernel in the bed) refuses bad input before
# anything boots, naming it, with exit 2: a kernel that does not exist or is not a kernel, an
# ELF kernel for HVM, an initrd that is missing or empty, an ISO that is not ISO 9660, options
# of hvmctl run it sets itself or that hvmctl run refuses (a mistyped source prefix), a config
# that hvmctl check finds bad. Good input goes as far as the boot (HVMD_GUEST_CHECK_ONLY=1
# stops there). No Xen, no bed, no QEMU.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TEST=guest-cli
T=$(mktemp -d /tmp/hvmd-guest-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x build/hvmctl ] || { bad setup "build/hvmctl not built"; exit 1; }
# (no HVMCTL_CONF or HVMCTL_HVMD here: the command checks HVM configs against the build's hvmd
# and hvmctl's defaults by itself, as on a CI runner without hvmd installed)
# a file that looks like a bzImage (0xaa55 at 0x1fe, HdrS at 0x202), an ELF file, an ISO
python3 - "$T" <<'PY'
import sys
d = sys.argv[1]
b = bytearray(4096); b[0x1fe:0x200] = b"\x55\xaa"; b[0x202:0x206] = b"HdrS"
open(d + "/bzImage", "wb").write(b)
open(d + "/vmlinux", "wb").write(b"\x7fELF" + bytes(4092))
iso = bytearray(0x9000); iso[0x8001:0x8006] = b"CD001"
open(d + "/good.iso", "wb").write(iso)
open(d + "/initrd.gz", "wb").write(b"\x1f\x8b" + bytes(100))
open(d + "/text", "w").write("not a kernel\n" * 100)
PY
: > "$T/empty"
mkdir -p "$T/bed"; : > "$T/bed/xen.elf"; : > "$T/bed/vmlinuz"; : > "$T/bed/dom0.cpio"
# NAME EXIT REGEX(output) ARGS...
check() {
    local name=$1 want=$2 re=$3 rc; shift 3
    HVMD_GUEST_CHECK_ONLY=1 tests/boot/guest --bed "$T/bed" --out "$T/out" "$@" > "$T/o" 2>&1; rc=$?
    if [ $rc != "$want" ]; then bad "$name" "exit $rc, not $want: $(head -3 "$T/o")"
    elif ! grep -qE -e "$re" "$T/o"; then bad "$name" "no /$re/ in: $(head -5 "$T/o")"
    elif [ -e "$T/out" ]; then bad "$name" "it made the results folder"
    else pass "$name"; fi
}
check no-kernel 2 "kernel $T/nope: no such file" --kernel "$T/nope"
check not-a-kernel 2 "kernel $T/text: not a kernel" --kernel "$T/text"
check empty-kernel 2 "kernel $T/empty: empty file" --kernel "$T/empty"
check kernel-is-dir 2 "kernel $T: not a regular file" --kernel "$T"
check elf-for-hvm 2 "an ELF file; an HVM guest's direct kernel boot takes a Linux bzImage" --kernel "$T/vmlinux" --type hvm
check no-initrd 2 "initrd $T/nope.gz: no such file" --kernel "$T/bzImage" --initrd "$T/nope.gz"
check empty-initrd 2 "initrd $T/empty: empty file" --kernel "$T/bzImage" --initrd "$T/empty"
check iso-not-iso 2 "ISO $T/text: not an ISO 9660 image" --iso "$T/text"
check iso-pv 2 "an ISO boots in an HVM guest" --iso "$T/good.iso" --type pv
check nothing 2 "give --kernel FILE" --type pv
check both 2 "not both" --kernel "$T/bzImage" --iso "$T/good.iso"
check own-junit 2 "hvmctl run option --junit: this command sets it" --kernel "$T/bzImage" -- --junit x.xml
check own-artifacts 2 "hvmctl run option --artifacts: this command sets it" --kernel "$T/bzImage" -- --artifacts=d
check mistyped-source 2 "no source 'seral' \(did you mean serial\?\)" --kernel "$T/bzImage" -- --expect 'seral:login'
check bad-tests-format 2 "no format 'junit'" --kernel "$T/bzImage" -- --tests junit
check bad-cfg 2 "memory: 'lots' is not a number" --kernel "$T/bzImage" --cfg 'memory = "lots"'
check args-before-dashes 2 "hvmctl run's options go after --" --kernel "$T/bzImage" stray
check good-pv 0 "checked, not booted" --kernel "$T/bzImage" --initrd "$T/initrd.gz" --cmdline 'console=hvc0 x=1' -- --tests tap --expect 'pv:^DONE$'
check good-pvh-elf 0 "checked, not booted" --kernel "$T/vmlinux" --type pvh
check good-iso 0 "checked, not booted" --iso "$T/good.iso" -- --expect 'serial:login: '
check good-hvm-kernel 0 "checked, not booted" --kernel "$T/bzImage" --type hvm -- --send 'serial:login' 'root\n'
check write-needs-console 2 "--write 'login: ': the pattern must name the console" --kernel "$T/bzImage" -- --write 'login: ' 'root\n'
check bad-login 2 "--login 'a b'" --kernel "$T/bzImage" -- --login 'a b'
check bad-reboots 2 "--reboots -1: a number of reboots" --kernel "$T/bzImage" -- --reboots -1
check no-bed 2 "$T/none/xen.elf is missing: build the bed first" --kernel "$T/bzImage" --bed "$T/none"

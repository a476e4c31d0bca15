#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/hvmd-cli.sh: hvmd's command line before it touches Xen, as the programs that start
# it meet it: libvirt's libxl driver runs `EMULATOR -help` and takes the emulator for qemu-xen
# unless its text has qemu-traditional's "Options specific to the Xen version:" (an exit status
# other than 0 is an error in libvirtd's log); --version / -version; an unknown option is
# refused with exit 1 and its name; hvmctl --version says the same version.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMD=${HVMD:-$PWD/build/hvmd}
TEST=hvmd-cli
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x "$HVMD" ] || { bad setup "$HVMD not built"; exit 1; }

for opt in -help --help -h; do
    out=$("$HVMD" "$opt" 2>&1); rc=$?
    if [ $rc != 0 ]; then bad "help$opt" "exit $rc"
    elif grep -q "Options specific to the Xen version:" <<<"$out"; then bad "help$opt" "reads as qemu-traditional to libvirt"
    elif ! grep -q -- "-xen-domid" <<<"$out" || ! grep -q -- "-machine" <<<"$out"; then bad "help$opt" "no usage: $(head -2 <<<"$out")"
    else pass "help$opt"; fi
done
for opt in --version -version; do
    out=$("$HVMD" "$opt" 2>&1); rc=$?
    if [ $rc = 0 ] && grep -qE '^hvmd [0-9]' <<<"$out"; then pass "version$opt"
    else bad "version$opt" "exit $rc: $out"; fi
done
# hvmctl says the same version (debian/changelog's, through the Makefile)
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
v=$("$HVMD" --version 2>&1 | cut -d' ' -f2)
out=$("$HVMCTL" --version 2>&1); rc=$?
if [ $rc = 0 ] && [ "$out" = "hvmctl $v" ]; then pass hvmctl-version
else bad hvmctl-version "exit $rc: '$out', not 'hvmctl $v'"; fi
out=$("$HVMD" -xen-domid 1 -m 128 -frobnicate 2>&1); rc=$?
if [ $rc = 1 ] && grep -q -- "-frobnicate" <<<"$out"; then pass unknown-option
else bad unknown-option "exit $rc: $(head -3 <<<"$out")"; fi

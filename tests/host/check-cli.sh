#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/check-cli.sh: `hvmctl check` lints xl.cfg files on a machine without Xen, as a CI
# job before it boots anything: a table of good and bad files, each with the exit status (0 good,
# 1 errors, 2 cannot tell) and the message it must print.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
TEST=check-cli
T=$(mktemp -d /tmp/hvmd-check-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x "$HVMCTL" ] || { bad setup "$HVMCTL not built"; exit 1; }
touch "$T/vmlinuz" "$T/disk.img"
export HVMCTL_CONF=$T/none.conf   # hvmctl's defaults, not this machine's settings
export HVMCTL_HVMD=$PWD/build/hvmd # the default device model, not installed here
pv() { printf 'name = "%s"\ntype = "pv"\nkernel = "%s/vmlinuz"\nmemory = 128\n' "$1" "$T"; }
pv good > "$T/good.cfg"
printf 'name = "iso"\ntype = "hvm"\nmemory = 256\ndisk = [ "format=raw,vdev=hda,access=rw,target=%s/disk.img" ]\n' "$T" > "$T/hvm.cfg"
{ pv word; echo 'frobnicate = 1'; } > "$T/unknown-key.cfg"
{ pv nokernel | sed "s|$T/vmlinuz|$T/no-such-kernel|"; } > "$T/no-kernel.cfg"
{ pv mem; echo 'memory = "lots"'; } > "$T/bad-value.cfg"
{ pv syn; echo 'vcpus = = 2'; } > "$T/syntax.cfg"
{ pv disk; echo "disk = [ 'format=raw,vdev=xvda,access=rw,target=$T/no-such.img' ]"; } > "$T/no-disk.cfg"
printf 'type = "pv"\nkernel = "%s/vmlinuz"\n' "$T" > "$T/no-name.cfg"
mkdir "$T/dir.cfg"

# NAME EXIT REGEX(output) ARGS...
check() {
    local name=$1 want=$2 re=$3 rc; shift 3
    "$HVMCTL" check "$@" > "$T/out" 2>&1; rc=$?
    if [ $rc != "$want" ]; then bad "$name" "exit $rc, not $want: $(head -3 "$T/out")"
    elif ! grep -qE -e "$re" "$T/out"; then bad "$name" "no /$re/ in: $(head -3 "$T/out")"
    else pass "$name"; fi
}
check good-pv 0 "good.cfg: good \(pv guest good\)" "$T/good.cfg"
check good-hvm 0 "hvm.cfg: good \(hvm guest iso\)" "$T/hvm.cfg"
check unknown-key-warns 0 "unknown-key.cfg:5: warning: frobnicate: unknown key" "$T/unknown-key.cfg"
check no-kernel 1 "no-kernel.cfg:3: kernel: .*no-such-kernel" "$T/no-kernel.cfg"
check bad-value 1 "bad-value.cfg:5: memory" "$T/bad-value.cfg"
check syntax 1 "syntax.cfg:5: config parsing error" "$T/syntax.cfg"
check no-disk 1 "no-disk.cfg:5: disk: .*no-such.img" "$T/no-disk.cfg"
check no-name 1 "no-name.cfg.*name" "$T/no-name.cfg"
check unreadable 2 "no-such.cfg: cannot read" "$T/no-such.cfg"
check directory 2 "dir.cfg" "$T/dir.cfg"
check one-bad-of-two 1 "bad-value.cfg: 1 error" "$T/good.cfg" "$T/bad-value.cfg"
check cannot-tell-wins 2 "no-such.cfg: cannot read" "$T/bad-value.cfg" "$T/no-such.cfg"
check overrides-xl-form 0 "good.cfg: good \(pv guest other\)" "$T/good.cfg" 'memory=64; name=other'
check bad-override 1 "command line: memory" "$T/good.cfg" 'memory=lots'
check no-file 2 "no config file" 
"$HVMCTL" check -q "$T/good.cfg" > "$T/out" 2>&1; rc=$?
[ $rc = 0 ] && [ ! -s "$T/out" ] && pass quiet || bad quiet "exit $rc: $(head -2 "$T/out")"

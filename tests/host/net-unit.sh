#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/net-unit.sh: `hvmctl network check` as the hvmctl-network unit's ExecStartPre: a
# network.conf with an error at boot fails the unit before anything is brought up, with the
# file and line in the journal; a missing file is named; the example the package ships is valid.
# check only reads the file: no namespace, no run directory is made.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
TEST=net-unit
T=$(mktemp -d /tmp/hvmd-netunit.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x "$HVMCTL" ] || { bad setup "$HVMCTL not built"; exit 1; }
unit=toolstack/host/hvmctl-network.service
[ "$(sed -n 's/^ExecStartPre=//p' "$unit")" = "/usr/sbin/hvmctl network check" ] && pass unit-checks-first ||
    bad unit-checks-first "$unit's ExecStartPre is not 'hvmctl network check'"
check() { HVMD_RUN_DIR="$T/run" "$HVMCTL" network check -c "$1" > "$T/out" 2> "$T/err"; }
printf '[xenbr0]\nmode = bridge\nnetdev = eth0\n\n[nat0]\nmode = brdge\nsubnet = 10.0.1.1/24\n' > "$T/bad.conf"
check "$T/bad.conf"; rc=$?
[ $rc = 1 ] && grep -q "^hvmctl: $T/bad.conf:6: mode 'brdge': want bridge, route or nat$" "$T/err" &&
    pass bad-line || bad bad-line "exit $rc: $(cat "$T/err")"
[ ! -e "$T/run" ] && pass bad-leaves-nothing || bad bad-leaves-nothing "check made $T/run"
check "$T/none.conf"; rc=$?
[ $rc = 1 ] && grep -q "$T/none.conf: No such file or directory" "$T/err" && pass missing-file ||
    bad missing-file "exit $rc: $(cat "$T/err")"
# (the example bridges eth0, which check looks for on the host: in a network namespace of its
# own that has one, so that the machine running the test needs none)
HVMD_RUN_DIR="$T/run" unshare -n sh -c 'ip link add eth0 type veth peer name eth0p && exec "$0" network check -c toolstack/host/network.conf.example' \
    "$HVMCTL" > "$T/out" 2> "$T/err"; rc=$?
[ $rc = 0 ] && grep -q "network.conf.example: 2 networks, valid" "$T/out" && pass example-valid ||
    bad example-valid "exit $rc: $(cat "$T/out" "$T/err")"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/deb-prerm.sh: the package's prerm (debian/hvmd.prerm) with a stand-in hvmctl that
# records what it is asked: on remove (and so on every purge) it takes hvmctl's networks down,
# and when that fails (guests still on a bridge) it says so and lets the removal go on; on an
# upgrade it leaves the networks alone; without hvmctl it does nothing.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TEST=deb-prerm
PRERM=$PWD/debian/hvmd.prerm
T=$(mktemp -d /tmp/hvmd-prerm.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
mkdir -p "$T/bin" "$T/empty"
cat > "$T/bin/hvmctl" <<HV
#!/bin/bash
echo "\$*" >> "$T/calls"
[ -e "$T/busy" ] && { echo "hvmctl: xenbr0: vif3.0 still uses it (-f takes it down all the same)" >&2; exit 1; }
exit 0
HV
chmod +x "$T/bin/hvmctl"
run() { : > "$T/calls"; env PATH="$T/bin:/usr/bin:/bin" sh "$PRERM" "$@" > "$T/out" 2> "$T/err"; }

run remove; rc=$?
[ $rc = 0 ] && [ "$(cat "$T/calls")" = "network down" ] && pass remove-down || bad remove-down "exit $rc, calls: $(cat "$T/calls")"
touch "$T/busy"
run remove; rc=$?
[ $rc = 0 ] && grep -q "vif3.0 still uses it" "$T/err" && grep -q "hvmd: the networks above stay up" "$T/err" &&
    pass remove-busy || bad remove-busy "exit $rc: $(cat "$T/err")"
rm -f "$T/busy"
run upgrade 0.1; rc=$?
[ $rc = 0 ] && [ ! -s "$T/calls" ] && pass upgrade-leaves || bad upgrade-leaves "exit $rc, calls: $(cat "$T/calls")"
: > "$T/calls"; env PATH="$T/empty:/usr/bin:/bin" sh "$PRERM" remove > "$T/out" 2> "$T/err"; rc=$?
[ $rc = 0 ] && [ ! -s "$T/calls" ] && pass no-hvmctl || bad no-hvmctl "exit $rc: $(cat "$T/err")"

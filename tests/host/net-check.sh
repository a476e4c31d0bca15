#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/net-check.sh: `hvmctl network check` reports every error of a config, not only the
# first (each with its file and line), and checks what it can on the host: a netdev that does
# not exist, a NAT address another interface already holds (127.0.0.1 on lo). Read-only: it
# changes nothing on the machine, so no namespaces are needed.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
TEST=net-check
T=$(mktemp -d /tmp/hvmd-net-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
[ -x "$HVMCTL" ] || { bad setup "$HVMCTL not built"; exit 1; }
run() { "$HVMCTL" network -c "$T/$1.conf" --run-dir "$T/run" check > "$T/$1.out" 2>&1; echo $? > "$T/$1.rc"; }
has() { grep -qF -e "$2" "$T/$1.out"; }

printf '[a]\nmode = bridge\ncolour = blue\nstp = maybe\n[b c]\nmode = nat\n[n]\nmode = nat\nsubnet = 10.0.300.1/24\n[m]\nmode=nat\n[a]\nmode = route\n' > "$T/many.conf"
run many
if [ "$(cat "$T/many.rc")" != 1 ]; then bad every-error "exit $(cat "$T/many.rc"), not 1"
elif ! has many "many.conf:3: unknown key 'colour'" || ! has many "many.conf:4: stp 'maybe'" ||
     ! has many "many.conf:5: network name 'b c' is not a valid interface name" ||
     ! has many "many.conf:9: subnet '10.0.300.1/24' is not" ||
     ! has many "many.conf:10: [m]: nat mode needs subnet" ||
     ! has many "[a] is defined twice (first at line 1)"; then bad every-error "$(cat "$T/many.out")"
elif [ "$(grep -c 'many.conf:' "$T/many.out")" != 6 ]; then bad every-error "not 6 errors: $(cat "$T/many.out")"
else pass every-error; fi

printf '[xenbr0]\nmode = bridge\nnetdev = nosuchnic0\n[nat0]\nmode = nat\nsubnet = 127.0.0.1/8\n' > "$T/host.conf"
run host
if [ "$(cat "$T/host.rc")" != 1 ]; then bad host-checks "exit $(cat "$T/host.rc"), not 1: $(cat "$T/host.out")"
elif ! has host "host.conf:1: [xenbr0]: netdev nosuchnic0: no such network interface on this host"; then bad host-checks "netdev: $(cat "$T/host.out")"
elif ! has host "host.conf:4: [nat0]: subnet 127.0.0.1/8: 127.0.0.1 is already in use on lo"; then bad host-checks "address: $(cat "$T/host.out")"
elif ! has host "2 problems on this host"; then bad host-checks "count: $(cat "$T/host.out")"
else pass host-checks; fi

printf '[xenbr0]\nmode = bridge\nnetdev = lo\n[nat9]\nmode = nat\nsubnet = 10.254.253.1/24\n' > "$T/good.conf"
run good
if [ "$(cat "$T/good.rc")" = 0 ] && has good "2 networks, valid"; then pass good
else bad good "exit $(cat "$T/good.rc"): $(cat "$T/good.out")"; fi

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/hvmctl-guests.sh: /usr/lib/hvmd/hvmctl-guests (the hvmctl-guests unit) with stand-ins
# for hvmctl and xl that record what they are asked: start creates each /etc/hvmd/auto file's
# guest (none, with a message and exit 1, while Xen is not up), skips (and names) a file without a name and a guest whose create fails, leaves a running
# guest of the same name alone, and exits 0 so that systemd keeps the guests it did start; stop
# asks only the guests it started to power off, then presses the power button of one that stays
# and destroys it; a usage error exits 2.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TEST=hvmctl-guests
SCRIPT=$PWD/toolstack/host/hvmctl-guests
T=$(mktemp -d /tmp/hvmd-guests.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass() { echo "PASS $TEST/$1"; }
bad() { echo "FAIL $TEST/$1: $2"; }
mkdir -p "$T/auto" "$T/bin" "$T/run"
# xl domid NAME: running if $T/running/NAME exists
# xl info: fails while $T/noxen exists (Xen not up)
cat > "$T/bin/xl" <<XL
#!/bin/bash
case \$1 in
    info) [ -e "$T/noxen" ] && { echo "xencall: error: Could not obtain handle on privileged command interface: No such file or directory" >&2; exit 1; }; exit 0 ;;
    domid) [ -e "$T/running/\$2" ] ;;
    *) exit 1 ;;
esac
XL
# hvmctl: create FILE (fails for a file with "fail" in its name), shutdown [-F] -w --timeout S NAME
# (a guest named "stubborn" stays up until destroyed), destroy NAME; each call is logged
cat > "$T/bin/hvmctl" <<HV
#!/bin/bash
echo "\$*" >> "$T/calls"
case \$1 in
    create) f=\${@: -1}; case \$f in *fail*) echo "hvmctl: \$f:3: memory: not a number" >&2; exit 1 ;; esac
            n=\$(sed -n "s/^name *= *[\"']\\([a-z]*\\)[\"'].*/\\1/p" "\$f"); touch "$T/running/\$n" ;;
    shutdown) n=\${@: -1}; [ "\$n" = stubborn ] && exit 1; rm -f "$T/running/\$n" ;;
    destroy) rm -f "$T/running/\$2" ;;
esac
HV
chmod +x "$T/bin/xl" "$T/bin/hvmctl"
mkdir -p "$T/running"
printf 'name = "web"\nmemory = 256\n' > "$T/auto/10-web.cfg"
printf "name = 'stubborn' # a comment\n" > "$T/auto/20-stubborn.cfg"
printf 'memory = 256\n' > "$T/auto/30-noname.cfg"
printf 'name = "broken"\n' > "$T/auto/40-fail.cfg"
printf 'name = "already"\n' > "$T/auto/50-already.cfg"
touch "$T/running/already"
run() { env PATH="$T/bin:$PATH" HVMCTL="$T/bin/hvmctl" HVMCTL_AUTO_DIR="$T/auto" HVMD_RUN_DIR="$T/run" \
        HVMCTL_GUESTS_TIMEOUT=5 bash "$SCRIPT" "$@" > "$T/out" 2> "$T/err"; }

touch "$T/noxen"
run start; rc=$?
[ $rc = 1 ] && grep -q "Xen is not up (xl info: xencall: error: Could not obtain handle.*): no guest started" "$T/err" &&
    [ ! -e "$T/calls" ] && [ ! -e "$T/run/autostarted" ] && pass start-without-xen ||
    bad start-without-xen "exit $rc: $(cat "$T/err")"
rm -f "$T/noxen"
run start; rc=$?
[ $rc = 0 ] && pass start-exit-0 || bad start-exit-0 "exit $rc"
[ "$(tr '\n' ' ' < "$T/run/autostarted")" = "web stubborn " ] && pass start-records ||
    bad start-records "autostarted: $(tr '\n' ' ' < "$T/run/autostarted")"
grep -q "30-noname.cfg: no name" "$T/err" && pass start-no-name || bad start-no-name "$(cat "$T/err")"
grep -q "40-fail.cfg: broken not started" "$T/err" && grep -q "memory: not a number" "$T/err" &&
    pass start-bad-file || bad start-bad-file "$(cat "$T/err")"
grep -q "already (.*) already runs: left alone" "$T/out" && ! grep -q "50-already" "$T/calls" &&
    pass start-leaves-running || bad start-leaves-running "$(cat "$T/out")"
grep -q "2 guest(s) started, 2 not" "$T/out" && pass start-summary || bad start-summary "$(tail -1 "$T/out")"

: > "$T/calls"
run stop; rc=$?
[ $rc = 0 ] && pass stop-exit-0 || bad stop-exit-0 "exit $rc"
grep -qx "shutdown -w --timeout 5 web" "$T/calls" && pass stop-shutdown || bad stop-shutdown "$(cat "$T/calls")"
grep -qx "shutdown -F -w --timeout 30 stubborn" "$T/calls" && grep -qx "destroy stubborn" "$T/calls" &&
    grep -q "stubborn did not power off" "$T/err" && pass stop-stubborn || bad stop-stubborn "$(cat "$T/calls")"
! grep -q already "$T/calls" && [ -e "$T/running/already" ] && pass stop-leaves-others || bad stop-leaves-others "$(cat "$T/calls")"
[ ! -e "$T/run/autostarted" ] && [ -z "$(ls "$T/running" | grep -v already)" ] && pass stop-all-gone ||
    bad stop-all-gone "left: $(ls "$T/running")"
run frobnicate; rc=$?
[ $rc = 2 ] && grep -q "usage: hvmctl-guests start|stop" "$T/err" && pass usage || bad usage "exit $rc"

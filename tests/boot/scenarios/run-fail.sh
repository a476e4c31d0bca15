# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl run fails fast and always tears down: a PV guest whose kernel panics fails within seconds with reason "Kernel panic" (not at its step timeout); an HVM guest with nothing to boot, under hvmd (hvmctl's default), fails on SeaBIOS's "No bootable device" (on Xen's console, and on the serial port, which hvmd's SeaBIOS also writes to, and on hvmd's VGA text screen); a guest that never prints its marker fails at its step timeout; a --fail pattern fails at once; SIGTERM mid-run gives exit 2; each leaves nothing behind
# step: panic 150
# step: no-boot-device 120
# step: step-timeout 150
# step: fail-pattern 150
# step: sigterm 150
# step: reports 30
. /etc/hvmd-lib.sh
# verdict NAME RC KIND: the run exited RC, its JSON says KIND, nothing is left
verdict() {
    [ "$RC" = "$2" ] || fail "$1: exit status $RC, not $2: $(tail -1 /tmp/$1.out)"
    [ "$(json_str /tmp/$1.json kind)" = "$3" ] || fail "$1: kind '$(json_str /tmp/$1.json kind)', not $3"
    echo "<run> $1: $(tail -1 /tmp/$1.out)"
    nothing_left || fail "$1: hvmctl run left something behind"
}

# 1. a kernel panic (no init: the kernel cannot mount a root) fails at once, not at 150 s
pv_cfg panic "rdinit=/no-such-init panic=0" > /tmp/panic.cfg
hvmctl_run /tmp/panic.out /tmp/panic.cfg --step-timeout 150 --expect 'pv:HVMD-GUEST-UP' \
    --json /tmp/panic.json --junit /tmp/panic.xml
verdict panic 1 check:panic
json_str /tmp/panic.json reason | grep -q '^Kernel panic on pv at ' || fail "panic: reason '$(json_str /tmp/panic.json reason)'"
grep -q '^FAIL panic (domain [0-9]*): Kernel panic on pv at .*: .*Kernel panic - not syncing' /tmp/panic.out || fail "panic: summary line"
grep -q '<failure message="Kernel panic on pv at' /tmp/panic.xml || fail "panic: no JUnit failure"
t=$(json_num /tmp/panic.json boot_s)
awk -v t="$t" 'BEGIN { exit !(t < 100) }' || fail "panic: decided at $t s, not well before the 150 s step timeout"
metric panic_decided_s "$t" s
step panic

# 2. an HVM guest with nothing to boot, under hvmctl's default device model (hvmd): SeaBIOS says
# so on Xen's console (its debug port 0xe9, as under qemu-xen) and, through hvmd's sercon port,
# on the serial port; whichever the run reads first decides
hvm_cfg noboot default 'memory = 128' 'cpuid =' 'boot = "c"' 'serial = "pty"' > /tmp/noboot.cfg
hvmctl_run /tmp/noboot.out /tmp/noboot.cfg --step-timeout 100 \
    --expect HVMD-GUEST-UP --json /tmp/noboot.json
verdict noboot 1 check:no-boot-device
grep -q '"device_model": "/usr/lib/hvmd/hvmd (' /tmp/noboot.json || fail "noboot: not under hvmd"
grep -qE '"source": "(xen|serial)", "at_s": [0-9.]*, "line": "No bootable device' /tmp/noboot.json || fail "noboot: the failure is not SeaBIOS's line"
grep -q '^\[ *[0-9.]*\] No bootable device' hvmctl-run/noboot/xen.log || fail "noboot: not seen on Xen's console"
metric noboot_decided_s "$(json_num /tmp/noboot.json boot_s)" s
sed 's/^/<vga> /' hvmctl-run/noboot/vga.txt 2>/dev/null
grep -q 'No bootable device' hvmctl-run/noboot/vga.txt || fail "noboot: the VGA text screen does not show SeaBIOS's message"
step no-boot-device

# 3. a marker that never comes: the step's own timeout, counted from the step before
pv_cfg silent "quiet" > /tmp/silent.cfg
hvmctl_run /tmp/silent.out /tmp/silent.cfg --step-timeout 120 --expect 'pv:^HVMD-GUEST-DONE$' \
    --step-timeout 10 --expect 'pv:NEVER-PRINTED' --json /tmp/silent.json --junit /tmp/silent.xml
verdict silent 1 step-timeout
json_str /tmp/silent.json reason | grep -q '^step 2 (/NEVER-PRINTED/) not seen within its 10 s' || fail "silent: reason '$(json_str /tmp/silent.json reason)'"
grep -q '"step": 1, .*"status": "pass"' /tmp/silent.json || fail "silent: step 1 did not pass"
grep -q '<testcase [^>]*name="step 2: /NEVER-PRINTED/ on pv" time="1[0-9]\.' /tmp/silent.xml || fail "silent: JUnit step 2 time"
step step-timeout

# 4. a --fail pattern: the guest's own check fails (no disk carries its header)
pv_cfg checkfail "quiet hvmd.checks=disk-pattern" > /tmp/checkfail.cfg
hvmctl_run /tmp/checkfail.out /tmp/checkfail.cfg --step-timeout 120 --expect 'pv:^HVMD-GUEST-DONE$' \
    --fail 'pv:^HVMD-CHECK [a-z-]+ FAIL' --json /tmp/checkfail.json
verdict checkfail 1 fail-pattern
grep -q '"line": "HVMD-CHECK disk-pattern FAIL' /tmp/checkfail.json || fail "checkfail: the failing line is not in the JSON"
step fail-pattern

# 5. SIGTERM while the guest runs: the run ends with exit 2 and still tears down
pv_cfg term "quiet" > /tmp/term.cfg
hvmctl run /tmp/term.cfg --step-timeout 140 --expect NEVER-PRINTED --json /tmp/term.json \
    > /tmp/term.out 2>&1 &
pid=$!
relay /tmp/term.out run
wait_re /tmp/term.out 'HVMD-GUEST-UP' 120 || fail "term: the guest did not come up"
kill -TERM "$pid"
wait "$pid"; RC=$?
sleep 0.3
verdict term 2 interrupted
json_str /tmp/term.json reason | grep -q '^interrupted by Terminated' || fail "term: reason '$(json_str /tmp/term.json reason)'"
step sigterm

export_file /tmp/panic.json run-fail-panic.json
export_file /tmp/panic.xml run-fail-panic.xml
export_file /tmp/silent.xml run-fail-silent.xml
export_file /tmp/term.json run-fail-term.json
step reports

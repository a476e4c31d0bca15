# SPDX-License-Identifier: GPL-2.0-only
# about: issue 20's idle figure: what hvmd costs while a Linux guest idles (the ISO guest's idle-screen check: 60 s in which nothing runs), over 10 s of it: hvmd's own timer wake-ups per second (QMP x-hvmd-io-stats' timer-wakeups: the loop's timer expirations), its context switches per second (/proc/PID/status, voluntary + involuntary), the guest's requests per second and hvmd's CPU; (a) libxl's defaults for a guest with a NIC: vga="cirrus" (hvmd serves its standard VGA), vnc=1 with no client, a vif with no model (rtl8139) on a plain bridge; (b) vga="stdvga" and usbdevice="tablet", the guest's uhci-hcd and hid-generic loaded and the tablet's event device held open (the usb-tablet check first), so the tablet's interrupt TD NAKs all along
# option: manual = yes
# (figure-taking for issue 20; make check proves the tablet in hvmd-xl-qmp)
# step: bridge-up 60
# step: a-guest-up 360
# step: a-idle 120
# step: b-guest-up 360
# step: b-tablet 200
# step: b-idle 120
. /etc/hvmd-lib.sh
IDLE_S=${IDLE_S:-10}
# IDLE_DM_BIN: another hvmd binary in dom0 (hvmd-idle-wakeups-main: main's, before the UHCI's
# parked timer and the timer-wakeups counter: its wake-ups are then not reported)
plain_bridge
step bridge-up

wakeups() { dm_qmp "$d" '{"execute":"x-hvmd-io-stats"}' | grep -o '"timer-wakeups":[0-9]*' | head -1 | cut -d: -f2; }
requests() { dm_qmp "$d" '{"execute":"x-hvmd-io-stats"}' | grep -o '"\(pio\|mmio\|pci-config\|buffered\)":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'; }
ctxt() { awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$pid/status"; }
run_ns() { awk '{ print $1 }' "/proc/$pid/schedstat"; }
# measure TAG: the figures over IDLE_S seconds of the guest's idle time (the context switches
# and CPU without the QMP queries that take the counters)
measure() {
    local tag=$1 w0 w1 r0 r1 c0 c1 n0 n1 t0m s
    local q0 sq
    q0=$(now); w0=$(wakeups); r0=$(requests); sleep 1 # hvmd done with the queries' connections
    c0=$(ctxt); n0=$(run_ns); t0m=$(now)
    [ -n "$w0" ] || [ -n "${IDLE_DM_BIN:-}" ] || fail "x-hvmd-io-stats has no timer-wakeups"
    sleep "$IDLE_S"
    c1=$(ctxt); n1=$(run_ns); s=$(elapsed "$t0m") # before the QMP queries, which wake hvmd
    w1=$(wakeups); r1=$(requests); sq=$(elapsed "$q0") # the counters' own span
    grep -q "HVMD-IDLE-END" "$log" && fail "the guest's idle time ended before the measurement did"
    [ -z "$w0" ] || metric "${tag}_timer_wakeups_per_s" "$(awk -v a="$w0" -v b="$w1" -v s="$sq" 'BEGIN { printf "%.2f", (b - a) / s }')" /s
    metric "${tag}_ctxt_switches_per_s" "$(awk -v a="$c0" -v b="$c1" -v s="$s" 'BEGIN { printf "%.2f", (b - a) / s }')" /s
    metric "${tag}_guest_requests_per_s" "$(awk -v a="$r0" -v b="$r1" -v s="$sq" 'BEGIN { printf "%.2f", (b - a) / s }')" /s
    metric "${tag}_dm_cpu_ms_per_s" "$(awk -v a="$n0" -v b="$n1" -v s="$s" 'BEGIN { printf "%.3f", (b - a) / s / 1e6 }')" ms/s
    info "$tag: over $s s: timer wake-ups $w0 -> $w1, context switches $c0 -> $c1, requests $r0 -> $r1"
}

# Once the guest's idle-screen check says it idles: the measurement as TAG, then DOMAIN destroyed,
# its hvmd gone, and its log's lines matching PATTERN shown.
idle_then_destroy() {
    local tag=$1 dom=$2 pattern=$3
    wait_re "$log" "HVMD-IDLE-NOW|HVMD-CHECK idle-screen FAIL" 100 || fail "the guest's idle-screen check did not start"
    grep -q "HVMD-CHECK idle-screen FAIL" "$log" && { grep "idle-screen" "$log"; fail "idle-screen failed"; }
    sleep 2
    measure "$tag"
    xl destroy "$dom" || fail "xl destroy $dom"
    within 11 gone "$pid" || fail "hvmd (pid $pid) still runs after xl destroy"
    grep -E "$pattern" "$dmlog" | sed 's/^/== /'
}

# (a) libxl's defaults with a NIC
check_disk /tmp/disk-a.img 16 idle-screen poweroff
hvm_cfg idlea hvmd "$(cd_disks /media/linux.iso /tmp/disk-a.img)" 'boot = "d"' 'vga = "cirrus"' \
    'vnc = 1' 'vif = [ "mac=00:16:3e:00:09:21,bridge=xenbr0" ]' > /tmp/idlea.cfg
dm_bin /tmp/idlea.cfg "${IDLE_DM_BIN:-}"
xl_start idlea
guest_up 350
step a-guest-up
idle_then_destroy idle_a idlea "rtl8139|vga|requests served"
step a-idle

# (b) the standard VGA and the USB tablet, its driver polling
check_disk /tmp/disk-b.img 16 usb-tablet idle-screen poweroff
hvm_cfg idleb hvmd "$(cd_disks /media/linux.iso /tmp/disk-b.img)" 'boot = "d"' 'vga = "stdvga"' \
    'usbdevice = "tablet"' > /tmp/idleb.cfg
dm_bin /tmp/idleb.cfg "${IDLE_DM_BIN:-}"
xl_start idleb
guest_up 350
step b-guest-up
wait_re "$log" "HVMD-TABLET-READY|HVMD-CHECK usb-tablet FAIL" 190 || fail "the guest's usb-tablet check found no tablet"
grep -q "HVMD-TABLET-READY" "$log" || { guest_checks_passed "$log" usb-tablet; fail "the guest found no USB tablet"; }
dm_qmp "$d" '{"execute": "input-send-event", "arguments": {"events": [{"type": "abs", "data": {"axis": "x", "value": 12345}}, {"type": "abs", "data": {"axis": "y", "value": 23456}}, {"type": "btn", "data": {"down": true, "button": "left"}}]}}' \
    > /tmp/idleb-input.log 2>&1 || { cat /tmp/idleb-input.log; fail "QMP input-send-event failed"; }
wait_re "$log" "HVMD-CHECK usb-tablet" 60 || fail "the usb-tablet check did not finish"
guest_checks_passed "$log" usb-tablet || fail "in-guest usb-tablet check failed"
step b-tablet
idle_then_destroy idle_b idleb "uhci|usb|requests served"
plain_bridge_down
step b-idle

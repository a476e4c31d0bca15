# SPDX-License-Identifier: GPL-2.0-only
# about: stock xl commands that speak QMP to hvmd on a running Linux guest (issue 21): xl list -l prints the configuration (query-cpus-fast), xl qemu-monitor-command answers, refused commands (usbctrl-attach, screendump) leave the guest running, xl save -c checkpoints it (hvmd saves its device state) and it runs on, and xl vcpu-set hot-plugs a second vCPU that the guest onlines and offlines, and a USB tablet (usbdevice="tablet") enumerates in the guest and QMP input-send-event puts its pointer at an absolute position read back from /dev/input/eventN, and the guest suspends to RAM (PM1a_CNT SLP_TYP=1: CMOS 0x0F, HVM_PARAM_ACPI_S_STATE 3, QMP suspended) and xl trigger s3resume (system_wakeup) wakes it (with its hot-plugged vCPU 1 and the tablet open; the refused commands run on the resumed guest)
# step: dm-running 90
# step: guest-up 300
# step: list-l 120
# step: monitor 120
# step: vcpu-set 360
# step: vcpu-online 240
# step: tablet 120
# step: s3-suspended 90
# step: s3-resumed 120
# step: refused 300
# step: destroy 120
. /etc/hvmd-lib.sh
checks="vcpu-hotplug usb-tablet s3"
hotplug_guest xq "hvmd.checks=${checks// /,}"
step dm-running
wait_re "$con" HVMD-GUEST-UP 295 || fail "no HVMD-GUEST-UP on the serial console"
step guest-up
# alive: hvmd runs, the domain is neither crashed nor paused, and its vCPU 0 still gets time
vcpu_time() { xl vcpu-list xq | awk '$3 == 0 { print $6 }'; }
alive() {
    [ -d "/proc/$pid" ] || fail "hvmd (pid $pid) is gone after $1"
    local st; st=$(xl list xq 2>/dev/null | awk 'NR == 2 { print $5 }')
    case $st in *c*|*p*|"") fail "after $1 the domain is '$st' (crashed, paused or gone)" ;; esac
}

# xl list -l: libxl retrieves the configuration (query-cpus-fast for the present vCPUs)
xl -v list -l xq > /tmp/xq-list.json 2> /tmp/xq-list.err || { cat /tmp/xq-list.err; fail "xl list -l xq failed"; }
grep -q '"c_info"' /tmp/xq-list.json || { cat /tmp/xq-list.json /tmp/xq-list.err; fail "xl list -l printed no configuration"; }
grep -q '"name": "xq"' /tmp/xq-list.json || fail "xl list -l: no name xq"
grep -qiE "command query-cpus|unable to retrieve" /tmp/xq-list.err && { cat /tmp/xq-list.err; fail "xl list -l: configuration retrieval failed"; }
info "xl list -l: $(wc -l < /tmp/xq-list.json) lines; avail_vcpus: $(grep -A3 '"avail_vcpus"' /tmp/xq-list.json | tr -d ' \n')"
alive "xl list -l"
step list-l

# xl qemu-monitor-command (human-monitor-command)
out=$(xl qemu-monitor-command xq "info status") || fail "xl qemu-monitor-command xq 'info status' failed"
info "info status: $out"
echo "$out" | grep -q "VM status: running" || fail "info status answered '$out'"
out=$(xl qemu-monitor-command xq "info version") || fail "info version failed"
info "info version: $out"
echo "$out" | grep -q "^7\.2\.0" || fail "info version answered '$out'"
out=$(xl qemu-monitor-command xq "xp /4xw 0xf0000") || fail "xp failed"
info "xp: $out"
echo "$out" | grep -qE "^00000000000f0000: 0x[0-9a-f]{8} 0x[0-9a-f]{8}" || fail "xp answered '$out'"
xl qemu-monitor-command xq "help" | grep -q "^xp " || fail "help lists no xp"
xl qemu-monitor-command xq "info block" > /dev/null || fail "info block failed"
alive "qemu-monitor-command"
step monitor

# vCPU hot-plug (--ignore-host: the bed has one physical CPU): the guest asks for it, xl vcpu-set sends query-cpus-fast,
# query-hotpluggable-cpus and device_add of cpu 1
wait_re "$con" HVMD-VCPU-PLUG-NOW 350 || fail "the guest's vcpu-hotplug check did not start"
xl -v vcpu-set --ignore-host xq 2 > /tmp/xq-vcpu.log 2>&1 || { cat /tmp/xq-vcpu.log; fail "xl vcpu-set --ignore-host xq 2 failed"; }
grep -q "vCPU 1 plugged" "$dmlog" || fail "hvmd did not plug vCPU 1"
step vcpu-set
wait_re "$con" "HVMD-VCPU-ONLINE|HVMD-CHECK vcpu-hotplug FAIL" 230 || fail "the guest did not bring cpu1 online"
wait_re "$con" "HVMD-VCPU-OFFLINE|HVMD-CHECK vcpu-hotplug FAIL" 60 || fail "the guest did not take cpu1 offline"
guest_checks_passed "$con" vcpu-hotplug || { wait_re "$con" "HVMD-CHECK vcpu-hotplug" 30; guest_checks_passed "$con" vcpu-hotplug || fail "in-guest vcpu-hotplug check failed"; }
xl vcpu-list xq | sed 's/^/== /'
step vcpu-online

# the USB tablet (usbdevice="tablet": -usb -usbdevice tablet): the guest enumerates it, then an
# absolute position sent by QMP input-send-event (as a VNC client's pointer would be) reaches
# the guest's /dev/input/eventN
# what hvmd costs while the idle guest has not started the controller, then while the
# guest's driver polls an idle tablet (its reader stays open): CPU ms per second
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
cpu_ms_per_s() { # SECONDS
    local c0 c1 t0 t1; c0=$(cpu); t0=$(now); sleep "$1"; c1=$(cpu); t1=$(now)
    awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", (b - a) * 10 / (e - s) }'
}
wait_re "$con" "HVMD-TABLET-IDLE" 60 || fail "the guest's usb-tablet check did not start"
metric dm_cpu_idle_ms_per_s "$(cpu_ms_per_s 5)" ms/s
wait_re "$con" "HVMD-TABLET-READY|HVMD-CHECK usb-tablet FAIL" 110 || fail "the guest's usb-tablet check found no tablet"
grep -q "HVMD-TABLET-READY" "$con" || { guest_checks_passed "$con" usb-tablet; fail "the guest found no USB tablet"; }
dm_qmp "$d" '{"execute": "input-send-event", "arguments": {"events": [{"type": "abs", "data": {"axis": "x", "value": 12345}}, {"type": "abs", "data": {"axis": "y", "value": 23456}}, {"type": "btn", "data": {"down": true, "button": "left"}}]}}' \
    > /tmp/xq-input.log 2>&1 || { cat /tmp/xq-input.log; fail "QMP input-send-event failed"; }
wait_re "$con" "HVMD-TABLET-AT" 60 || fail "the guest saw no tablet events"
grep -q "HVMD-TABLET-AT x=12345 y=23456 left=1" "$con" || fail "the guest's pointer is not where QMP put it: $(grep -o 'HVMD-TABLET-AT.*' "$con")"
wait_re "$con" "HVMD-CHECK usb-tablet" 30 || fail "the usb-tablet check did not finish"
guest_checks_passed "$con" usb-tablet || fail "in-guest usb-tablet check failed"
metric dm_cpu_tablet_idle_ms_per_s "$(cpu_ms_per_s 5)" ms/s
grep -E "uhci|usb" "$dmlog" | sed 's/^/== /'
step tablet

# S3: the guest suspends to RAM itself (its vCPU 1, hot-plugged above, offline; the tablet open)
# once a line is typed on its serial console (the idle figures above are taken first);
# system_wakeup brings it back: SeaBIOS at the reset vector jumps via 40:67 (CMOS 0x0F = 0x0A) to
# the waking vector hvmd read from the FACS (dm/QMP.md, S3)
wait_re "$con" HVMD-S3-READY 60 || fail "the guest's s3 check did not start"
tty=$(xenstore-read /local/domain/$d/serial/0/tty) || fail "no serial/0/tty for the guest"
printf 'go\r' > "$tty" || fail "cannot type on the guest's console ($tty)"
wait_re "$con" HVMD-S3-NOW 60 || fail "the guest's s3 check did not go on (typed on $tty)"
wait_re "$dmlog" "suspended to RAM" 60 || { grep -iE "piix4|sleep|S3" "$dmlog"; fail "hvmd did not see the guest enter S3"; }
out=$(xl qemu-monitor-command xq "info status")
info "while suspended: $out"
echo "$out" | grep -q "paused (suspended)" || fail "info status while suspended answered '$out'"
step s3-suspended
xl trigger xq s3resume 2> /tmp/xq-trig.log || true   # xl exits 0 even on failure
grep -q "failed" /tmp/xq-trig.log && { cat /tmp/xq-trig.log; fail "xl trigger s3resume failed"; }
grep -q "resumes from S3" "$dmlog" || fail "hvmd did not wake the guest"
# (4-16 s on the bed; 60 s leaves room for the guest's USB tablet reset, 5 s a lost control
# transfer. The hang that once needed more was hvmd's S3 path: see dm/QMP.md, S3)
wait_re "$con" "HVMD-S3-BACK|HVMD-CHECK s3 FAIL" 60 || {
    xl dmesg | grep "(d$d)" | tail -30; xl vcpu-list xq; xl debug-keys v; sleep 1; xl dmesg | tail -40
    xl sysrq xq w; sleep 5; xl sysrq xq l; sleep 5; xl vcpu-list xq   # blocked tasks, CPUs' stacks
    fail "the guest did not come back from S3"; }
grep -o "HVMD-S3-BACK.*" "$con" | head -1 | sed 's/^/== /'
xl dmesg | grep "(d$d)" | grep -iE "resume|smp|cpu\(s\)" | sed 's/^/== /'
out=$(xl qemu-monitor-command xq "info status")
echo "$out" | grep -q "VM status: running" || fail "after system_wakeup info status answered '$out'"
step s3-resumed
wait_re "$con" HVMD-GUEST-DONE 120 || fail "the guest's checks did not finish"
guest_checks_passed "$con" $checks || fail "in-guest checks failed"

# refused: a display command, a USB controller (device_add usb-ehci): each is refused with a
# clear message, and the guest runs on; then a checkpoint (xl save -c), and the guest runs on
out=$(xl qemu-monitor-command xq "screendump /tmp/x.ppm")
info "screendump: $out"
echo "$out" | grep -q "no display" || fail "screendump answered '$out'"
xl usbctrl-attach xq version=2 > /tmp/xq-usb.log 2>&1 && fail "xl usbctrl-attach succeeded on hvmd"
info "usbctrl-attach: $(grep -iE "qmp|valid device|failed" /tmp/xq-usb.log | head -3 | tr '\n' ' ')"
alive "usbctrl-attach"
# xl save -c (a checkpoint): the guest suspends, hvmd saves its device state (QMP stop, add-fd,
# xen-save-devices-state, with xen-set-global-dirty-log around the memory stream), libxl
# resumes the guest (cont) and it runs on. (Into /dev/null: dom0's tmpfs has no room for the
# 256 MB guest's image; hvmd-save keeps and restores one.)
xl -v save -c xq /dev/null > /tmp/xq-save.log 2>&1 || { tail -40 /tmp/xq-save.log; fail "xl save -c xq failed"; }
grep -q "device state saved" "$dmlog" || { tail -20 "$dmlog"; fail "hvmd did not save its device state"; }
info "xl save -c: hvmd: $(grep -o 'device state saved.*' "$dmlog" | tail -1)"
grep -q "dirty log on" "$dmlog" || fail "hvmd never had the dirty log on during the save"
sleep 2
alive "xl save -c"
out=$(xl qemu-monitor-command xq "info status")
echo "$out" | grep -q "VM status: running" || fail "after the checkpoint, info status answered '$out'"
t0=$(vcpu_time); sleep 15; t1=$(vcpu_time)
info "vCPU 0 time $t0 s, 15 s later $t1 s"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b > a) }' || fail "the guest's vCPU 0 got no time after the refused commands"
xl sysrq xq h 2>/dev/null && wait_re "$con" "sysrq.*HELP" 30 && info "the guest answered xl sysrq (xenbus) after the refused commands"
step refused

xl destroy xq || fail "xl destroy xq"
end=$(( $(secs) + 60 ))
while [ -d "/proc/$pid" ] && [ "$(secs)" -lt "$end" ]; do sleep 0.2; done
sleep 1
nothing_left || fail "destroy left something behind"
grep -E "QMP|piix4|vCPU|S3|devices reset|uhci" "$dmlog" | sed 's/^/== /'
step destroy

# SPDX-License-Identifier: GPL-2.0-only
# about: S3 suspend/resume again and again in one boot (the hvmd-xl-qmp flake: a guest whose resume never ends): hvmd-xl-qmp's guest (vcpus=1 maxvcpus=2, vCPU 1 hot-plugged, onlined and offlined, the USB tablet open) suspends to RAM N times (hvmd.s3loop, default 30), dom0 wakes it with xl trigger s3resume each time after a short random pause; a cycle that does not come back within 60 s dumps Xen's and the guest's view and fails, naming the cycle
# option: manual = yes
# step: guest-up 300
# step: vcpu-online 400
# step: tablet 200
# step: s3-loop 1500
# step: destroy 120
. /etc/hvmd-lib.sh
n=30; times=0   # hvmd.s3loop=N, hvmd.s3loop-times=1 (each device's PM call on the console: slow)
for w in $(cat /proc/cmdline); do
    case $w in hvmd.s3loop=*) n=${w#hvmd.s3loop=} ;; hvmd.s3loop-times=*) times=${w#*=} ;; esac
done
checks="vcpu-hotplug usb-tablet s3-loop"
hotplug_guest xs3 "hvmd.s3loop=$n hvmd.s3loop-times=$times hvmd.checks=${checks// /,}"
wait_re "$con" HVMD-GUEST-UP 295 || fail "no HVMD-GUEST-UP on the serial console"
step guest-up
wait_re "$con" HVMD-VCPU-PLUG-NOW 350 || fail "the guest's vcpu-hotplug check did not start"
xl vcpu-set --ignore-host xs3 2 > /tmp/xs3-vcpu.log 2>&1 || { cat /tmp/xs3-vcpu.log; fail "xl vcpu-set failed"; }
wait_re "$con" "HVMD-VCPU-OFFLINE|HVMD-CHECK vcpu-hotplug FAIL" 300 || fail "the guest did not online and offline cpu1"
step vcpu-online
wait_re "$con" "HVMD-TABLET-READY|HVMD-CHECK usb-tablet FAIL" 170 || fail "the guest found no tablet"
dm_qmp "$d" '{"execute": "input-send-event", "arguments": {"events": [{"type": "abs", "data": {"axis": "x", "value": 12345}}, {"type": "abs", "data": {"axis": "y", "value": 23456}}, {"type": "btn", "data": {"down": true, "button": "left"}}]}}' > /dev/null || fail "QMP input-send-event failed"
wait_re "$con" "HVMD-CHECK usb-tablet" 60 || fail "the usb-tablet check did not finish"
guest_checks_passed "$con" vcpu-hotplug usb-tablet || fail "in-guest checks failed"
step tablet

dump() {
    xl dmesg | grep "(d$d)" | tail -20; xl vcpu-list xs3
    # each vCPU's local APIC (ISR at 0x100, IRR at 0x200), where the bed's dom0 has xen-hvmctx
    # (it has not so far); Xen's 'q' shows each vCPU's upcall_pend
    ! command -v xen-hvmctx > /dev/null || xen-hvmctx "$d" 2>&1 | grep -vE '^ +(MTRR|mtrr|CPU_MSR|msr)' | head -400
    xl debug-keys q; xl debug-keys v; sleep 1; xl dmesg | tail -120
    xl sysrq xs3 w; sleep 5; xl sysrq xs3 q; sleep 5; xl sysrq xs3 l; sleep 5; xl vcpu-list xs3
    grep -vE "^.{13}hvmd info: guest: debugcon" "$dmlog" | tail -30
}
i=1
while [ "$i" -le "$n" ]; do
    wait_re "$con" "HVMD-S3L-NOW i=$i go|HVMD-CHECK s3-loop FAIL" 60 || { dump; fail "cycle $i: the guest did not start its suspend"; }
    grep -q "HVMD-CHECK s3-loop FAIL" "$con" && fail "cycle $i: $(grep -o 'HVMD-CHECK s3-loop FAIL.*' "$con")"
    end=$(( $(secs) + 60 ))
    while [ "$(grep -c "suspended to RAM" "$dmlog")" -lt "$i" ]; do
        [ "$(secs)" -lt "$end" ] || { dump; fail "cycle $i: hvmd did not see the guest enter S3"; }
        sleep 0.2
    done
    sleep "$(( RANDOM % 3 )).$(( RANDOM % 10 ))"
    xl trigger xs3 s3resume 2> /tmp/xs3-trig.log || true
    grep -q "failed" /tmp/xs3-trig.log && { cat /tmp/xs3-trig.log; fail "cycle $i: xl trigger s3resume failed"; }
    wait_re "$con" "HVMD-S3L-BACK i=$i " 60 || { dump; fail "cycle $i of $n: the guest did not come back from S3 ($((i - 1)) cycles passed)"; }
    info "cycle $i: $(grep -o "HVMD-S3L-BACK i=$i .*" "$con" | head -1)"
    i=$((i + 1))
done
wait_re "$con" "HVMD-CHECK s3-loop" 60 || fail "the s3-loop check did not finish"
guest_checks_passed "$con" s3-loop || fail "in-guest s3-loop check failed"
metric s3_cycles "$n"
step s3-loop

xl destroy xs3 || fail "xl destroy xs3"
end=$(( $(secs) + 60 ))
while [ -d "/proc/$pid" ] && [ "$(secs)" -lt "$end" ]; do sleep 0.2; done
sleep 1
nothing_left || fail "destroy left something behind"
step destroy

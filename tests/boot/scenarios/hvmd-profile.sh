# SPDX-License-Identifier: GPL-2.0-only
# about: make profile's hvmd half (qemu-profile: the same under qemu-xen): the Linux ISO guest boots from the CD-ROM under xentrace, one trace per phase (firmware: xl create to SeaBIOS's "Booting from 0000:7c00" on Xen's console; boot loader: to Linux's first Xen upcall registration, "dNv0: upcall vector"; kernel: to HVMD-GUEST-UP), each summarised in dom0 by xenalyze (the guest's exits per I/O port and MMIO address, with the time spent in them; its vCPU's runstates) and exported; under hvmd also its own round-trip counters (QMP x-hvmd-io-stats) at each boundary; metrics: each phase's wall time (PROFILE_BOOT=kernel: hvmd-kernel-profile's direct kernel boot)
# option: manual = yes
# (make profile runs it with qemu-profile and prints the table; make check leaves it out)
# step: dm-running 90
# step: firmware 120
# step: loader 600
# step: kernel 300
# step: poweroff 120
. /etc/hvmd-lib.sh
dm=${PROFILE_DM:-hvmd}
# PROFILE_BOOT: iso (this scenario, qemu-profile) or kernel (hvmd-kernel-profile,
# qemu-kernel-profile: direct kernel boot)
boot=${PROFILE_BOOT:-iso}
if [ "$boot" = kernel ]; then
    # the guest of make bench's pair hvmd-kernel / hvmd-kernel-qemu, as hvmd-kernel.sh writes
    # it (its xl.cfg and, under hvmd, its qdisk image; KERNEL_CFG_ONLY: it stops there): its
    # serial port on a pty, read through xl console as there; SeaBIOS hands over to the kernel
    # loader option ROM (linuxboot_dma.bin, fw_cfg DMA) with "Booting from SEG:OFF"
    KERNEL_DM=$dm; KERNEL_CFG_ONLY=1
    . "$(dirname "$0")/hvmd-kernel.sh"
    name=kern; handover='[0-9a-f]{4}:[0-9a-f]{4}'
else
    name=prof; vga=
    [ "$dm" = hvmd ] || { name=qprof; vga='vga ='; }
    check_disk /tmp/$name.img 16 poweroff
    hvm_cfg $name "$dm" "$(cd_disks /media/linux.iso /tmp/$name.img)" 'boot = "d"' ${vga:+"$vga"} > /tmp/$name.cfg
    handover=0000:7c00
fi
hz=$(xl info | awk '$1 == "cpu_mhz" { printf "%d", $3 * 1000000 }')
info "cpu_mhz from xl info: $hz Hz"
# xentrace: the HVM class (exits, their handlers: I/O ports and MMIO with addresses) and the
# scheduler's (which vCPU runs, and its blocks: xenalyze names the domain and counts them),
# 1024 pages per CPU read every 200 ms (dom0 shares the bed's one physical CPU with the guest:
# the tracer's own work shows up as the guest's wait); the same size each time (Xen refuses
# another once one is set, and xentrace without -S asks for 32)
tpid=
trace_start() {
    xentrace -D -e 0x000af000 -S 1024 -s 200 "/tmp/$name-$1.trace" 2> "/tmp/$name-$1.xentrace.log" & tpid=$!
    sleep 0.3
}
# trace_stop: xentrace ends on SIGINT after its next read of the buffers; wait until it has
# gone (a new one started before fails to bind its VIRQ, "File exists"), then check that none
# failed
trace_stop() {
    local i=0
    [ -n "$tpid" ] || return 0
    kill -INT "$tpid" 2>/dev/null
    # (exited: no /proc entry, or a zombie until the wait below)
    while [ -d "/proc/$tpid" ] && ! grep -q '^State:.*Z' "/proc/$tpid/status" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ $i -lt 50 ] || kill -KILL "$tpid" 2>/dev/null
    wait "$tpid" 2>/dev/null
    tpid=
    ! grep -q ERROR /tmp/$name-*.xentrace.log || { cat /tmp/$name-*.xentrace.log; fail "xentrace failed"; }
}
snap() { [ "$dm" = hvmd ] && dm_qmp "$d" '{"execute":"x-hvmd-io-stats"}' > "/tmp/$name-stats-$1.json" 2>&1; true; }
# dmesg_wait REGEX SECS: REGEX in xl dmesg within SECS (polled every second)
dmesg_wait() {
    local end
    _deadline "$2"; end=$END
    while _before "$end"; do
        xl dmesg | grep -qE "$1" && return 0
        sleep 1 # (each xl costs the nested dom0 a fork and libxl's start: the guest waits on dom0)
    done
    return 1
}
trap 'trace_stop; stop_relays' EXIT
trace_start firmware
xl_start $name
# (direct boot: the console as hvmd-kernel reads it, xl console on the pty, into the file
# guest_up waits on)
[ "$boot" = kernel ] && { xl console -t serial $name > "$log" 2>&1 & }
step dm-running
dmesg_wait "\\(d$d\\) Booting from $handover" 115 || fail "no 'Booting from $handover' on Xen's console"
t1=$(now); trace_stop; snap firmware; trace_start loader
step firmware
dmesg_wait "d${d}v0: upcall vector" 595 || fail "Linux never registered its upcall vector"
t2=$(now); trace_stop; snap loader; trace_start kernel
step loader
guest_up 295
t3=$(now); trace_stop; snap kernel
step kernel
metric firmware_s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" s
metric loader_s "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')" s
metric kernel_s "$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')" s
metric create_to_marker_s "$(awk -v a="$t0" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')" s
if [ "$boot" = kernel ]; then
    # (hvmd-kernel's guest goes on to its checks and waits for a reboot: the profile ends at the
    # marker)
    xl destroy $name || fail "xl destroy $name"
    wait_gone $name 110 || fail "$name is still there after xl destroy"
    rm -f /tmp/kern-qd.img
else
    powers_off $name 110
fi
for ph in firmware loader kernel; do
    ls -l "/tmp/$name-$ph.trace" | sed 's/^/== /'
    sed 's/^/== xentrace: /' "/tmp/$name-$ph.xentrace.log" | tail -3
    xenalyze --svm-mode --cpu-hz="$hz" --summary --show-default-domain-summary --with-pio-enumeration --with-mmio-enumeration \
        "/tmp/$name-$ph.trace" > "/tmp/$name-$ph.txt" 2> "/tmp/$name-$ph.err" || { tail -5 "/tmp/$name-$ph.err"; fail "xenalyze failed on the $ph trace"; }
    info "$ph: xenalyze $(wc -l < "/tmp/$name-$ph.txt") lines"
    export_file "/tmp/$name-$ph.txt" "xenalyze-$ph.txt"
    rm -f "/tmp/$name-$ph.trace"
    [ "$dm" = hvmd ] && export_file "/tmp/$name-stats-$ph.json" "stats-$ph.json"
done
[ "$dm" = hvmd ] && grep -E "requests served|round trips" "$dmlog" | sed 's/^/== /'
sleep 1
nothing_left || fail "poweroff left something behind"
step poweroff

# SPDX-License-Identifier: GPL-2.0-only
# about: one guest port access served by hvmd against the floor (issue 20): the Linux ISO guest under hvmd times 400 inb and 400 outb of the 16550's scratch register (0x3ff, no side effect) against the same on port 0x600, claimed in the same boot by hvmd-floor (tests/bench/floor.c: a minimal ioreq server in dom0 that reads a constant and drops writes), 7 interleaved rounds; metrics: both per-access times (medians) and hvmd's ratio to the floor, in and out (qemu-floor: the same under qemu-xen)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 620
# step: measured 240
# step: poweroff 120
. /etc/hvmd-lib.sh
# qemu-floor runs this same script with FLOOR_DM=qemu-xen: the same guest under Debian's qemu-xen
dm=${FLOOR_DM:-hvmd}
name=floor; vga=
[ "$dm" = hvmd ] || { name=qfloor; vga='vga ='; }
check_disk /tmp/$name.img 16 port-speed poweroff
hvm_cfg $name "$dm" "$(cd_disks /media/linux.iso /tmp/$name.img)" 'boot = "d"' ${vga:+"$vga"} > /tmp/$name.cfg
# FLOOR_DM_BIN: another hvmd binary in dom0 (hvmd-floor-main: main's, for a before / after
# comparison in one bed; make bed MAIN_HVMD=PATH puts it there)
dm_bin /tmp/$name.cfg "${FLOOR_DM_BIN:-}"
xl_start $name
step dm-running
# the floor's ioreq server beside the device model, for the whole boot (the guest waits for it)
# FLOOR_UNMASK=late: the floor unmasks after its notify (hvmd-floor-late)
HVMD_FLOOR_UNMASK=${FLOOR_UNMASK:-} /usr/lib/hvmd/tests/hvmd-floor "$d" 0x600 2> /tmp/$name-floor.log & fpid=$!
sleep 1
cat /tmp/$name-floor.log | sed 's/^/== /'
gone $fpid && fail "hvmd-floor did not start"
guest_up 600; step guest-up
wait_fast "$log" "hvmd-portbench: start" 200 || { kill $fpid; fail "the port-speed check did not start"; }
c0=$(dm_cpu_s "$pid"); f0=$(dm_cpu_s "$fpid")
wait_fast "$log" "HVMD-CHECK port-speed (PASS|FAIL)" 230 || { kill $fpid; fail "the port-speed check did not finish"; }
info "CPU during the measurement: device model $(awk -v a="$c0" -v b="$(dm_cpu_s "$pid")" 'BEGIN { print b - a }') s, floor $(awk -v a="$f0" -v b="$(dm_cpu_s "$fpid")" 'BEGIN { print b - a }') s"
kill $fpid; wait $fpid
sed 's/^/== /' /tmp/$name-floor.log
guest_checks_passed "$log" port-speed || fail "the port-speed check failed"
line=$(grep "HVMD-CHECK port-speed PASS" "$log")
v() { echo "$line" | sed -n "s/.* $1=\([0-9]*\)(.*/\1/p"; }
metric dm_in_ns "$(v dm_in_ns)" ns
metric floor_in_ns "$(v floor_in_ns)" ns
metric dm_out_ns "$(v dm_out_ns)" ns
metric floor_out_ns "$(v floor_out_ns)" ns
metric dm_over_floor_in "$(awk -v m="$(v in_ratio_milli)" 'BEGIN { printf "%.3f", m / 1000 }')"
metric dm_over_floor_out "$(awk -v m="$(v out_ratio_milli)" 'BEGIN { printf "%.3f", m / 1000 }')"
step measured
powers_off $name 110
sleep 1
nothing_left || fail "poweroff left something behind"
step poweroff

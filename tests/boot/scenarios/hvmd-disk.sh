# SPDX-License-Identifier: GPL-2.0-only
# about: disk throughput inside the Linux ISO guest on hvmd's emulated IDE disk (ata_piix, bus-master DMA, O_DIRECT in the guest): sequential and random reads, sequential writes with fsync
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 360
# step: measured 300
# step: poweroff 120
. /etc/hvmd-lib.sh
# qemu-disk runs this same script with DISK_DM=qemu-xen: the same guest under Debian's qemu-xen
# (with qemu-xen's default display: no vga line). Neither device model's log is relayed.
dm=${DISK_DM:-hvmd}
name=disk; vga=
[ "$dm" = hvmd ] || { name=qdisk; vga='vga ='; }
check_disk /tmp/$name.img 64 disk-speed poweroff
hvm_cfg $name "$dm" "$(cd_disks /media/linux.iso /tmp/$name.img)" 'boot = "d"' ${vga:+"$vga"} > /tmp/$name.cfg
# DISK_DM_BIN: another hvmd binary in dom0 (hvmd-disk-main: an older or main's build, for a
# before / after comparison in one bed; make bed MAIN_HVMD=PATH puts it there)
dm_bin /tmp/$name.cfg "${DISK_DM_BIN:-}"
xl_start $name
step dm-running
guest_up 350; step guest-up
wait_fast "$log" "hvmd-diskbench: start" 200 || fail "the disk-speed check did not start"
e0=$(dm_events); t0=$(now)
# each phase's device-model requests (dom0's count of its event channels) and, under hvmd, its
# own counters per port (QMP x-hvmd-io-stats, exported): read in the guest's quiet gap after the
# phase (the guest check's gap), not while it measures
snap() { [ "$dm" = hvmd ] && dm_qmp "$d" '{"execute":"x-hvmd-io-stats"}' > "/tmp/$name-stats-$1.json" 2>&1; true; }
snap start
ep=$e0
for ph in seq-read rand-read seq-write; do
    wait_fast "$log" "hvmd-diskbench: $ph done" 290 || fail "the disk-speed check did not finish $ph"
    e=$(dm_events); snap "$ph"
    info "device-model requests in $ph: $((e - ep))"
    metric "dm_requests_${ph//-/_}" $((e - ep))
    ep=$e
done
wait_fast "$log" "HVMD-CHECK disk-speed (PASS|FAIL)" 290 || fail "the disk-speed check did not finish"
e1=$(dm_events); dt=$(elapsed "$t0")
if [ "$dm" = hvmd ]; then
    for ph in start seq-read rand-read seq-write; do
        # (an hvmd without x-hvmd-io-stats, hvmd-disk-main's older build, answers an error)
        grep -q '"return"' "/tmp/$name-stats-$ph.json" && export_file "/tmp/$name-stats-$ph.json" "stats-$ph.json"
    done
fi
grep 'evtchn:' /proc/interrupts | sed 's/^/== /'
info "device-model requests during the measurement: $((e1 - e0)) in $dt s"
[ $((e1 - e0)) -gt 1000 ] || fail "too few device-model requests counted ($((e1 - e0))): is /proc/interrupts naming the device model's event channels?"
metric dm_requests_bench $((e1 - e0))
metric dm_requests_per_s "$(awk -v n=$((e1 - e0)) -v t="$dt" 'BEGIN { printf "%.0f", n / t }')" "/s"
guest_checks_passed "$log" disk-speed || fail "the disk-speed check failed"
line=$(grep "HVMD-CHECK disk-speed PASS" "$log")
for kv in seq_read_mb_s:MB/s rand_read_iops:IO/s seq_write_mb_s:MB/s; do
    k=${kv%%:*}
    metric "disk_$k" "$(echo "$line" | sed -n "s/.*$k=\([0-9.]*\).*/\1/p")" "${kv#*:}"
done
step measured
powers_off $name 110
sleep 1
if [ "$dm" = hvmd ]; then
    sed -n '/requests served/,/guest memory/p' "$dmlog" | sed 's/^/== /'
    grep -E "ide: [0-9]+ ATA|ide: [0-9]+ bus master|ide trace" "$dmlog" | sed 's/^/== /'
    n=$(sed -n 's/.*requests served: \([0-9]*\) pio, \([0-9]*\) mmio, \([0-9]*\) pci-config.*/\1 \2 \3/p' "$dmlog" | awk '{ print $1 + $2 + $3 }')
    metric dm_requests "$n"
fi
nothing_left || fail "poweroff left something behind"
step poweroff

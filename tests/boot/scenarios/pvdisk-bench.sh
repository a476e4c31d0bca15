# SPDX-License-Identifier: GPL-2.0-only
# about: PV disk figures, one run: the same PV guest (Debian kernel, busybox initrd) boots three times with the same 64 MiB raw image as /dev/xvda, served by hvmd's qdisk (-machine xenpv, device_model_override under stock xl), by qemu-xen's qdisk (libxl's own device model) and by dom0's kernel blkback (libxl's phy backend); each time the guest measures sequential 1 MiB reads and writes and random 4 KiB reads at queue depth 1 and 32 (O_DIRECT, hvmd-diskbench), with the requests the block layer sent per event-channel notification to the backend (dom0's interrupts) and from it (the guest's); then an HVM guest's direct-kernel boot to its disk-pattern check on a PV disk (qdisk) against the same on an emulated IDE disk (xen_emul_unplug=never)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: hvmd 300
# step: qemu 300
# step: blkback 300
# step: hvm-pv 240
# step: hvm-ide 240
. /etc/hvmd-lib.sh
img=/tmp/pvd.img
# the notifications a backend got: dom0's interrupts of the user-space backends' event channels
# (evtchn:hvmd, evtchn:qemu-system-i38) and of blkback's (blkif-backend)
be_irqs() {
    awk '$NF ~ /^(evtchn:(hvmd|qemu)|blkif-backend)/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i }
         END { print s + 0 }' /proc/interrupts
}
# run NAME: boot the PV guest with the disk served by NAME (hvmd | qemu | blkback), measure
run() {
    local be=$1 name=pvd-$1 log=/var/log/xen/console/guest-pvd-$1.log line e0 e1 req kv k v
    local -a extra=('on_poweroff = "destroy"')
    rm -f "$img"; check_disk "$img" 64 pvdisk-speed poweroff
    case $be in
        hvmd) extra+=("disk = [ \"format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$img\" ]"
                      'device_model_version = "qemu-xen"' 'device_model_override = "/usr/lib/hvmd/hvmd"') ;;
        qemu) extra+=("disk = [ \"format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$img\" ]"
                      'device_model_version = "qemu-xen"') ;;
        blkback) extra+=("disk = [ \"format=raw,vdev=xvda,access=rw,backendtype=phy,target=$img\" ]") ;;
    esac
    pv_cfg "$name" quiet "${extra[@]}" > "/tmp/$name.cfg"
    rm -f "$log"
    xl create "/tmp/$name.cfg" || fail "xl create $name"
    d=$(domid "$name")
    info "$be: domain $d, backend $(xenstore-list "/local/domain/0/backend" | tr '\n' ' ')"
    relay "$log" "$name"
    wait_fast "$log" "hvmd-diskbench: start" 200 || fail "$be: the pvdisk-speed check did not start"
    e0=$(be_irqs)
    wait_fast "$log" "HVMD-CHECK pvdisk-speed (PASS|FAIL)" 250 || fail "$be: the pvdisk-speed check did not finish"
    e1=$(be_irqs)
    guest_checks_passed "$log" pvdisk-speed || fail "$be: the pvdisk-speed check failed"
    line=$(grep "HVMD-CHECK pvdisk-speed PASS" "$log")
    info "$be: $line; backend notifications $((e1 - e0))"
    for kv in seq_read_mb_s:MB/s rand_read_iops:IO/s rand_read_qd32_iops:IO/s seq_write_mb_s:MB/s; do
        k=${kv%%:*}; v=$(echo "$line" | sed -n "s/.* $k=\([0-9.]*\).*/\1/p")
        metric "${be}_$k" "$v" "${kv#*:}"
        eval "M_${be}_$k=$v"
    done
    req=$(echo "$line" | sed -n 's/.* requests=\([0-9]*\).*/\1/p')
    v=$(echo "$line" | sed -n 's/.* guest_irqs=\([0-9]*\).*/\1/p')
    metric "${be}_requests" "$req"
    [ $((e1 - e0)) -gt 0 ] && metric "${be}_requests_per_kick" "$(awk -v r="$req" -v n=$((e1 - e0)) 'BEGIN { printf "%.2f", r / n }')"
    [ "${v:-0}" -gt 0 ] && metric "${be}_requests_per_irq" "$(awk -v r="$req" -v n="$v" 'BEGIN { printf "%.2f", r / n }')"
    wait_gone "$name" 110 || fail "$be: the guest did not power off"
    [ "$be" = hvmd ] && grep "disconnected:" "/var/log/xen/qemu-dm-$name.log" | sed 's/^/== /'
    clean_after "$be: the poweroff"
}
run hvmd; step hvmd
run qemu; step qemu
run blkback; step blkback
for k in seq_read_mb_s rand_read_iops rand_read_qd32_iops seq_write_mb_s; do
    eval "h=\$M_hvmd_$k q=\$M_qemu_$k b=\$M_blkback_$k"
    metric "hvmd_over_qemu_$k" "$(awk -v a="$h" -v b="$q" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
    metric "hvmd_over_blkback_$k" "$(awk -v a="$h" -v b="$b" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
done

# the same HVM boot (direct kernel, hvmd) to its disk-pattern check: PV disk against emulated IDE
hvm_boot() {
    local kind=$1 name=hb-$1 t0 con qd unplug=
    rm -f /tmp/hb.img; check_disk /tmp/hb.img 64 disk-pattern
    if [ "$kind" = pv ]; then qd='disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/tmp/hb.img" ]'
    else qd='disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/hb.img" ]'; unplug=' xen_emul_unplug=never'; fi
    hvm_cfg "$name" hvmd 'serial = "pty"' 'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
        "cmdline = \"console=ttyS0,115200 quiet hvmd.checks=poweroff$unplug\"" "$qd" 'vkb_device = 0' > "/tmp/$name.cfg"
    con=/tmp/$name-console.log
    t0=$(now)
    xl create "/tmp/$name.cfg" || fail "xl create $name"
    xl console -t serial "$name" > "$con" 2>&1 &
    wait_re "$con" HVMD-GUEST-UP 200 || fail "$kind: no HVMD-GUEST-UP"
    metric "hvm_${kind}_create_to_marker_s" "$(elapsed "$t0")" s
    wait_re "$con" "HVMD-CHECK disk-pattern (PASS|FAIL)" 200 || fail "$kind: no disk-pattern check"
    metric "hvm_${kind}_create_to_disk_checked_s" "$(elapsed "$t0")" s
    guest_checks_passed "$con" disk-pattern || fail "$kind: the disk-pattern check failed"
    grep "HVMD-CHECK disk-pattern" "$con" | tr -d '\r' | sed "s/^/== $kind: /"
    case $kind in
        pv) grep -q "disk-pattern PASS /dev/xvda" "$con" || fail "pv: the pattern was not checked through blkfront" ;;
        ide) grep -q "disk-pattern PASS /dev/sd" "$con" || fail "ide: the pattern was not checked on the emulated disk" ;;
    esac
    wait_gone "$name" 110 || fail "$kind: the guest did not power off"
    clean_after "$kind: the poweroff"
}
hvm_boot pv; step hvm-pv
hvm_boot ide; step hvm-ide
rm -f "$img" /tmp/hb.img

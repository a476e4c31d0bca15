# SPDX-License-Identifier: GPL-2.0-only
# about: PV disk figures, one run: the same PV guest (Debian kernel, busybox initrd) boots six times (two rounds in the order hvmd qemu blkback, blkback qemu hvmd; the figures are means) with the same 64 MiB raw image as /dev/xvda, served by hvmd's qdisk (-machine xenpv, device_model_override under stock xl), by qemu-xen's qdisk (libxl's own device model) and by dom0's kernel blkback (libxl's phy backend); each time the guest measures sequential 1 MiB reads and writes and random 4 KiB reads at queue depth 1 and 32 (O_DIRECT, hvmd-diskbench), with the requests the block layer sent per event-channel notification from the backend (the guest's interrupts) and, for hvmd, per notification to it (hvmd's own count); then an HVM guest's direct-kernel boot to its disk-pattern check on a PV disk (qdisk) against the same on an emulated IDE disk (xen_emul_unplug=never)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: round-1 900
# step: round-2 900
# step: hvm-pv 240
# step: hvm-ide 240
. /etc/hvmd-lib.sh
img=/tmp/pvd.img
# probe: seconds dom0 takes for a fixed loop now, before each boot: the bed's load (other beds
# share the machine); figures of boots whose probes differ much do not compare
probe() { local t i; t=$(now); for (( i = 0; i < 100000; i++ )); do :; done; elapsed "$t"; }
# run NAME ROUND: boot the PV guest with the disk served by NAME (hvmd | qemu | blkback), measure
run() {
    local be=$1 name=pvd-$1$2 log=/var/log/xen/console/guest-pvd-$1$2.log line req kv k v
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
    line=$(probe); info "$be round $2: dom0 load probe $line s"
    eval "M_${be}_probe=\"\${M_${be}_probe} $line\""
    rm -f "$log"
    xl create "/tmp/$name.cfg" || fail "xl create $name"
    d=$(domid "$name")
    info "$be: domain $d, backend $(xenstore-list "/local/domain/0/backend" | tr '\n' ' ')"
    relay "$log" "$name"
    wait_fast "$log" "hvmd-diskbench: start" 200 || fail "$be: the pvdisk-speed check did not start"
    wait_fast "$log" "HVMD-CHECK pvdisk-speed (PASS|FAIL)" 250 || fail "$be: the pvdisk-speed check did not finish"
    guest_checks_passed "$log" pvdisk-speed || fail "$be: the pvdisk-speed check failed"
    line=$(grep "HVMD-CHECK pvdisk-speed PASS" "$log")
    info "$be: $line"
    for kv in seq_read_mb_s:MB/s rand_read_iops:IO/s rand_read_qd32_iops:IO/s seq_write_mb_s:MB/s; do
        k=${kv%%:*}; v=$(echo "$line" | sed -n "s/.* $k=\([0-9.]*\).*/\1/p")
        eval "M_${be}_$k=\"\${M_${be}_$k} $v\""
    done
    req=$(echo "$line" | sed -n 's/.* requests=\([0-9]*\).*/\1/p')
    v=$(echo "$line" | sed -n 's/.* guest_irqs=\([0-9]*\).*/\1/p')
    eval "M_${be}_requests=\"\${M_${be}_requests} $req\""
    [ "${v:-0}" -gt 0 ] && eval "M_${be}_requests_per_irq=\"\${M_${be}_requests_per_irq} $(awk -v r="$req" -v n="$v" 'BEGIN { printf "%.2f", r / n }')\""
    wait_gone "$name" 110 || fail "$be: the guest did not power off"
    if [ "$be" = hvmd ]; then
        grep "disconnected:" "/var/log/xen/qemu-dm-$name.log" | sed 's/^/== /'
        # hvmd's own count of the frontend's notifications (events) for the requests it answered
        v=$(sed -n 's/.*disconnected: \([0-9]*\) requests answered .* \([0-9]*\) events from the frontend.*/\1 \2/p' "/var/log/xen/qemu-dm-$name.log" | tail -1)
        [ -n "$v" ] && eval "M_hvmd_requests_per_event=\"\${M_hvmd_requests_per_event} $(echo "$v" | awk '$2 > 0 { printf "%.2f", $1 / $2 }')\""
        export_file "/var/log/xen/qemu-dm-$name.log" "hvmd-$name.log"
    fi
    clean_after "$be: the poweroff"
}
# two rounds in the order hvmd qemu blkback, blkback qemu hvmd: a bed that gets slower or faster
# over the run weighs on all three alike; the figures are the means
run hvmd 1; run qemu 1; run blkback 1; step round-1
run blkback 2; run qemu 2; run hvmd 2; step round-2
mean() { echo "$@" | tr ' ' '\n' | grep . | awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n }'; }
for be in hvmd qemu blkback; do
    for kv in seq_read_mb_s:MB/s rand_read_iops:IO/s rand_read_qd32_iops:IO/s seq_write_mb_s:MB/s \
              requests: requests_per_irq: requests_per_event: probe:s; do
        k=${kv%%:*}; eval "v=\${M_${be}_$k:-}"
        [ -n "$v" ] || continue
        info "$be $k:$v"
        metric "${be}_$k" "$(mean $v)" "${kv#*:}"
        eval "A_${be}_$k=$(mean $v)"
    done
done
for k in seq_read_mb_s rand_read_iops rand_read_qd32_iops seq_write_mb_s; do
    eval "h=\$A_hvmd_$k q=\$A_qemu_$k b=\$A_blkback_$k"
    metric "hvmd_over_qemu_$k" "$(awk -v a="$h" -v b="$q" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
    metric "hvmd_over_blkback_$k" "$(awk -v a="$h" -v b="$b" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
    # each round's own ratio (hvmd and qemu-xen ran next to each other in both rounds)
    eval "h=\$M_hvmd_$k q=\$M_qemu_$k"
    for r in 1 2; do
        metric "hvmd_over_qemu_${k}_round$r" "$(echo "$h" "$q" | awk -v r="$r" '{ n = NF / 2; a = $(r); b = $(n + r); printf "%.2f", b ? a / b : 0 }')"
    done
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
    info "$kind: dom0 load probe $(probe) s"
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

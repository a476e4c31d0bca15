# about: the same disk throughput figures under Debian's qemu-xen (the anchor device model), for the hvmd-disk / qemu-disk pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 360
# step: measured 300
# step: poweroff 120
. /etc/hvmd-lib.sh
name=disk
dm=/usr/lib/hvmd/hvmd
extra='device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"'
[ "${0##*/}" = qemu-disk.sh ] && { name=qdisk; dm=; extra=; }
check_disk /tmp/$name.img 64 disk-speed poweroff
cat > /tmp/$name.cfg <<CFG
name = "$name"
type = "hvm"
memory = 256
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
$extra
vnc = 0
disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/$name.img",
         "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/linux.iso" ]
boot = "d"
serial = "file:/tmp/$name-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
CFG
log=/tmp/$name-serial.log
dmlog=/var/log/xen/qemu-dm-$name.log
xl create /tmp/$name.cfg || { cat "$dmlog"; fail "xl create /tmp/$name.cfg"; }
relay "$log" $name
step dm-running
wait_re "$log" HVMD-GUEST-UP 350 || fail "no HVMD-GUEST-UP on the guest's serial port"
step guest-up
wait_fast "$log" "hvmd-diskbench: start" 200 || fail "the disk-speed check did not start"
e0=$(dm_events); t0=$(now)
wait_fast "$log" "HVMD-CHECK disk-speed (PASS|FAIL)" 290 || fail "the disk-speed check did not finish"
e1=$(dm_events); dt=$(elapsed "$t0")
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
wait_gone $name 110 || fail "the guest did not power off"
sleep 1
if [ -n "$dm" ]; then
    grep -E "requests served|ide: [0-9]+ ATA" "$dmlog" | sed 's/^/== /'
    n=$(sed -n 's/.*requests served: \([0-9]*\) pio, \([0-9]*\) mmio, \([0-9]*\) pci-config.*/\1 \2 \3/p' "$dmlog" | awk '{ print $1 + $2 + $3 }')
    metric dm_requests "$n"
fi
nothing_left || fail "poweroff left something behind"
step poweroff

# SPDX-License-Identifier: GPL-2.0-only
# about: a PVH guest under stock xl whose disk is backendtype=qdisk: libxl spawns hvmd (device_model_override) with -machine xenpv, hvmd serves the disk as a backend-only process (no ioreq server, no emulated device), the guest's blkfront runs its disk-pattern check on /dev/xvda, and after its power-off the pattern is in the image and nothing is left
# option: manual = yes
# step: dm-running 60
# step: guest-up 180
# step: disk 120
# step: poweroff 120
. /etc/hvmd-lib.sh
check_disk /tmp/pvhqd.img 64 disk-pattern
pv_cfg pvhqd "quiet hvmd.checks=poweroff" 'type = "pvh"' 'on_poweroff = "destroy"' \
    'device_model_version = "qemu-xen"' 'device_model_override = "/usr/lib/hvmd/hvmd"' \
    'disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/tmp/pvhqd.img" ]' > /tmp/pvhqd.cfg
cat /tmp/pvhqd.cfg
log=/var/log/xen/console/guest-pvhqd.log
dmlog=/var/log/xen/qemu-dm-pvhqd.log
t0=$(now)
xl create /tmp/pvhqd.cfg || { cat "$dmlog"; fail "xl create /tmp/pvhqd.cfg"; }
d=$(domid pvhqd); pid=$(dm_pid "$d")
relay "$log" pvhqd
relay "$dmlog" hvmd
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "libxl started no device model for the PVH guest's qdisk disk"
args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
info "device model: $args"
case $args in *"-machine xenpv"*) ;; *) fail "the device model was not started with -machine xenpv" ;; esac
[ "$(xenstore-read "/local/domain/0/device-model/$d/state")" = running ] || fail "device-model state is not running"
grep -q "machine xenpv: PV backends only" "$dmlog" || fail "hvmd did not start as a backend-only process"
metric create_to_dm_running_s "$(elapsed "$t0")" s
step dm-running
wait_re "$log" HVMD-GUEST-UP 170 || { tail -20 "$dmlog"; fail "no HVMD-GUEST-UP on the PVH guest's console"; }
metric create_to_marker_s "$(elapsed "$t0")" s
dm_metrics "$pid"
step guest-up
wait_re "$log" "HVMD-CHECK disk-pattern" 110 || { grep -i qdisk "$dmlog" | tail; fail "no disk-pattern check on the qdisk disk"; }
guest_checks_passed "$log" disk-pattern || { grep -i qdisk "$dmlog" | tail; fail "the disk-pattern check on the qdisk disk failed"; }
grep -q "HVMD-CHECK disk-pattern PASS /dev/xvda" "$log" || fail "the pattern was not checked on /dev/xvda (blkfront)"
grep -q "backend/qdisk/$d/51712: connected" "$dmlog" || fail "hvmd's qdisk did not log its connection to vbd 51712"
grep -E "qdisk/$d/51712: (x86|connected)" "$dmlog" | sed 's/^/== /'
step disk
wait_gone pvhqd 110 || fail "the PVH guest's poweroff was not carried out"
end=$(( $(secs) + 60 ))
while [ -d "/proc/$pid" ] && [ "$(secs)" -lt "$end" ]; do sleep 0.2; done
[ -d "/proc/$pid" ] && fail "hvmd (pid $pid) still runs a minute after the guest powered off"
pattern_on_image /tmp/pvhqd.img || fail "the guest's pattern is not in the qdisk image after power-off"
rm -f /tmp/pvhqd.img
clean_after power-off
step poweroff

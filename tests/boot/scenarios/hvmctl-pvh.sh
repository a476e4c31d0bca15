# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl builds the same Debian kernel + busybox initrd as a PVH guest from an xl.cfg: it reaches its marker, create -c shows its PV console, hvmctl list shows it as pvh with its monitor, its own poweroff is carried out (on_poweroff = destroy), the console ends with it, and nothing is left; its backendtype=qdisk disk is served by hvmd -machine xenpv, which hvmctl gives a PV or PVH guest with a qdisk disk by default, and the guest's blkfront passes the pattern check on /dev/xvda (the pattern is in the image after the poweroff)
# step: guest-up 180
# step: listed 30
# step: powered-off 120
. /etc/hvmd-lib.sh
# with a qdisk disk: libxl starts a device model for it, hvmctl's default one (hvmd -machine xenpv)
rm -f /tmp/pvh-qd.img; check_disk /tmp/pvh-qd.img 64 disk-pattern
{ echo "# a PVH guest, as xl.cfg(5) describes it"
  pv_cfg pvh "quiet hvmd.checks=poweroff" 'type = "pvh"' 'on_poweroff = "destroy"' \
    'disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/tmp/pvh-qd.img" ]'; } > /tmp/pvh.cfg
log=/var/log/xen/console/guest-pvh.log
t0=$(now)
# create -c: build it, then stay on its console (here into a file: input is /dev/null)
hvmctl create -c /tmp/pvh.cfg > /tmp/pvh-console.out 2>&1 < /dev/null &
cpid=$!
relay "$log" pvh
wait_re "$log" HVMD-GUEST-UP 170 || fail "no HVMD-GUEST-UP on the PVH guest's console"
metric create_to_marker_s "$(elapsed "$t0")" s
d=$(domid pvh); pid=$(dm_pid "$d")
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "libxl started no device model for the PVH guest's qdisk disk"
args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
info "device model: $args"
case $args in /usr/lib/hvmd/hvmd*"-machine xenpv"*) ;; *) fail "hvmctl did not give the PVH guest hvmd -machine xenpv" ;; esac
grep -q "device model /usr/lib/hvmd/hvmd -machine xenpv" /tmp/pvh-console.out || { head -5 /tmp/pvh-console.out; fail "hvmctl create did not say which device model serves the qdisk disk"; }
step guest-up
hvmctl list
hvmctl list --json pvh > /tmp/list.json
cat /tmp/list.json
grep -q '"type": "pvh"' /tmp/list.json || fail "hvmctl list does not show a pvh guest"
grep -q '"monitor_pid": [0-9]' /tmp/list.json || fail "hvmctl list shows no monitor for pvh"
step listed
# the guest powers itself off after its checks; the monitor destroys it (on_poweroff)
wait_re "$log" "HVMD-CHECK disk-pattern" 100 || fail "no disk-pattern check on the qdisk disk"
guest_checks_passed "$log" disk-pattern || { grep -i qdisk /var/log/xen/qemu-dm-pvh.log | tail; fail "the disk-pattern check on the qdisk disk failed"; }
grep -q "HVMD-CHECK disk-pattern PASS /dev/xvda" "$log" || fail "the pattern was not checked on /dev/xvda (blkfront)"
grep -q "backend/qdisk/$d/51712: connected" /var/log/xen/qemu-dm-pvh.log || fail "hvmd's qdisk did not log its connection to vbd 51712"
wait_gone pvh 110 || fail "the PVH guest's poweroff was not carried out"
within 60 gone "$pid" || fail "hvmd (pid $pid) still runs 30 s after the guest powered off"
pattern_on_image /tmp/pvh-qd.img || fail "the guest's pattern is not in the qdisk image after power-off"
rm -f /tmp/pvh-qd.img
grep -q "shut down (poweroff): destroy" /var/log/xen/hvmctl-pvh.log || { cat /var/log/xen/hvmctl-pvh.log; fail "the monitor did not log the poweroff"; }
cat /var/log/xen/hvmctl-pvh.log
clean_after "the poweroff"
within 21 no_process '^hvmctl create' || fail "the monitor is still running"
# the console of create -c saw the guest, and ended when the guest went
within 21 gone "$cpid" || fail "hvmctl create -c did not end with its guest"
wait "$cpid" || fail "hvmctl create -c exited with status $?"
grep -q "HVMD-GUEST-UP" /tmp/pvh-console.out || { cat /tmp/pvh-console.out; fail "create -c did not show the guest's console"; }
grep -q "HVMD-GUEST-DONE" /tmp/pvh-console.out || fail "create -c missed the end of the guest's init"
step powered-off

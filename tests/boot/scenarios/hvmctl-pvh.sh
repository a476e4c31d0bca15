# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl builds the same Debian kernel + busybox initrd as a PVH guest from an xl.cfg: it reaches its marker, create -c shows its PV console, hvmctl list shows it as pvh with its monitor, its own poweroff is carried out (on_poweroff = destroy), the console ends with it, and nothing is left
# step: guest-up 180
# step: listed 30
# step: powered-off 120
. /etc/hvmd-lib.sh
{ echo "# a PVH guest, as xl.cfg(5) describes it"
  pv_cfg pvh "quiet hvmd.checks=poweroff" 'type = "pvh"' 'on_poweroff = "destroy"'; } > /tmp/pvh.cfg
log=/var/log/xen/console/guest-pvh.log
t0=$(now)
# create -c: build it, then stay on its console (here into a file: input is /dev/null)
hvmctl create -c /tmp/pvh.cfg > /tmp/pvh-console.out 2>&1 < /dev/null &
cpid=$!
relay "$log" pvh
wait_re "$log" HVMD-GUEST-UP 170 || fail "no HVMD-GUEST-UP on the PVH guest's console"
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
hvmctl list
hvmctl list --json pvh > /tmp/list.json
cat /tmp/list.json
grep -q '"type": "pvh"' /tmp/list.json || fail "hvmctl list does not show a pvh guest"
grep -q '"monitor_pid": [0-9]' /tmp/list.json || fail "hvmctl list shows no monitor for pvh"
step listed
# the guest powers itself off after its checks; the monitor destroys it (on_poweroff)
wait_gone pvh 110 || fail "the PVH guest's poweroff was not carried out"
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

# about: hvmctl builds the same Debian kernel + busybox initrd as a PVH guest from an xl.cfg: it reaches its marker, create -c shows its PV console, hvmctl list shows it as pvh with its monitor, its own poweroff is carried out (on_poweroff = destroy), the console ends with it, and nothing is left
# step: guest-up 180
# step: listed 30
# step: powered-off 120
. /etc/hvmd-lib.sh
cat > /tmp/pvh.cfg <<CFG
# a PVH guest, as xl.cfg(5) describes it
name = "pvh"
type = "pvh"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=hvc0 quiet hvmd.checks=poweroff"
memory = 256
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
CFG
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
sleep 1
nothing_left || fail "the poweroff left something behind"
n=0; while [ -n "$(pids_of '^hvmctl create')" ] && [ $n -lt 20 ]; do sleep 0.5; n=$((n+1)); done
[ -z "$(pids_of '^hvmctl create')" ] || fail "the monitor is still running"
# the console of create -c saw the guest, and ended when the guest went
n=0; while kill -0 "$cpid" 2>/dev/null && [ $n -lt 20 ]; do sleep 0.5; n=$((n+1)); done
kill -0 "$cpid" 2>/dev/null && fail "hvmctl create -c did not end with its guest"
wait "$cpid" || fail "hvmctl create -c exited with status $?"
grep -q "HVMD-GUEST-UP" /tmp/pvh-console.out || { cat /tmp/pvh-console.out; fail "create -c did not show the guest's console"; }
grep -q "HVMD-GUEST-DONE" /tmp/pvh-console.out || fail "create -c missed the end of the guest's init"
step powered-off

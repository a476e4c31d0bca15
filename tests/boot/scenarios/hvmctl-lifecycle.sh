# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl keeps a guest's lifecycle after create returns: pause/unpause work, a guest that reboots is built again (new domain, its init runs again, the old domain's nodes are gone; its backendtype=qdisk disk is served by a new hvmd -machine xenpv, on which its blkfront passes the pattern check again), hvmctl shutdown -w powers it off and it is gone, a crashed guest is preserved or destroyed as on_crash says, and after each nothing is left behind
# step: paused 180
# step: rebooted 180
# step: shut-down 120
# step: crash-preserved 120
# step: crash-destroyed 120
. /etc/hvmd-lib.sh
state_of() { xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
count() { grep -c "$1" "$2" 2>/dev/null || true; }

# --- pause / unpause -----------------------------------------------------------------------------
# with a qdisk disk (hvmctl gives it hvmd -machine xenpv), on which each boot runs the pattern check
rm -f /tmp/lc-qd.img; check_disk /tmp/lc-qd.img 64 disk-pattern
pv_cfg lc quiet 'disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/tmp/lc-qd.img" ]' > /tmp/lc.cfg
log=/var/log/xen/console/guest-lc.log
hvmctl create /tmp/lc.cfg || fail "hvmctl create lc"
relay "$log" lc
wait_re "$log" HVMD-GUEST-DONE 170 || fail "lc did not come up"
# qd_served DOMID N: the domain's device model (its pid into QD_PID) is hvmd -machine xenpv, and
# N pattern checks passed
qd_served() {
    local pid args
    pid=$(dm_pid "$1"); QD_PID=$pid
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "no device model for domain $1's qdisk disk"
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    case $args in /usr/lib/hvmd/hvmd*"-machine xenpv"*) ;; *) fail "domain $1's device model is not hvmd -machine xenpv: $args" ;; esac
    [ "$(count "HVMD-CHECK disk-pattern PASS /dev/xvda" "$log")" -ge "$2" ] || { grep "HVMD-CHECK disk-pattern" "$log"; fail "domain $1: the pattern check on the qdisk disk did not pass"; }
}
qd_served "$(domid lc)" 1; dm1=$QD_PID
info "lc's qdisk disk: hvmd pid $dm1"
hvmctl pause lc || fail "hvmctl pause"
case $(state_of lc) in *p*) ;; *) fail "lc is not paused after hvmctl pause: $(state_of lc)" ;; esac
hvmctl list lc
t1=$(xl list lc | awk 'NR == 2 { print $6 }'); sleep 2; t2=$(xl list lc | awk 'NR == 2 { print $6 }')
[ "$t1" = "$t2" ] || fail "a paused guest used CPU time ($t1 -> $t2)"
hvmctl unpause lc || fail "hvmctl unpause"
case $(state_of lc) in *p*) fail "lc is still paused after hvmctl unpause" ;; esac
step paused

# --- reboot: the monitor builds the guest again -------------------------------------------------
d1=$(domid lc)
hvmctl reboot lc || fail "hvmctl reboot lc"
n=0
while [ $n -lt 120 ]; do
    d2=$(domid lc)
    [ -n "$d2" ] && [ "$d2" != "$d1" ] && break
    sleep 0.5; n=$((n+1))
done
[ -n "$d2" ] && [ "$d2" != "$d1" ] || fail "lc was not built again after its reboot (domid ${d2:-none})"
info "lc rebooted: domain $d1 -> $d2"
n=0; while [ "$(count HVMD-GUEST-UP "$log")" -lt 2 ] && [ $n -lt 240 ]; do sleep 0.5; n=$((n+1)); done
[ "$(count HVMD-GUEST-UP "$log")" -ge 2 ] || fail "the rebuilt guest's init did not run"
xenstore-exists "/local/domain/$d1" && fail "the old domain's xenstore tree is still there"
for t in $(xenstore-list /local/domain/0/backend 2>/dev/null); do
    xenstore-exists "/local/domain/0/backend/$t/$d1" && fail "backend/$t/$d1 is still there"
done
grep -q "shut down (reboot): restart" /var/log/xen/hvmctl-lc.log || fail "the monitor did not log the restart"
# the rebuilt guest's disk: a new hvmd serves it, the old one is gone, blkfront passes again
wait_re "$log" "HVMD-GUEST-DONE" 60 || true
n=0; while [ "$(count "HVMD-CHECK disk-pattern" "$log")" -lt 2 ] && [ $n -lt 120 ]; do sleep 0.5; n=$((n+1)); done
qd_served "$d2" 2; dm2=$QD_PID
[ "$dm2" != "$dm1" ] || fail "the rebuilt guest has the old device model (pid $dm1)"
within 21 gone "$dm1" || fail "the old domain's hvmd (pid $dm1) still runs"
info "lc rebooted: its qdisk disk is served by hvmd pid $dm2 (was $dm1), the pattern check passed again"
step rebooted

# --- shutdown -w: powered off, on_poweroff = destroy ------------------------------------------------
wait_re "$log" 'HVMD-GUEST-DONE' 60 || true
hvmctl shutdown -w --timeout 100 lc || fail "hvmctl shutdown -w lc"
xl list lc >/dev/null 2>&1 && fail "lc is still there after shutdown -w"
pattern_on_image /tmp/lc-qd.img || fail "the guest's pattern is not in the qdisk image after the shutdown"
rm -f /tmp/lc-qd.img
clean_after "the shutdown"
within 21 no_process '^hvmctl create' || fail "lc's monitor is still running"
cat /var/log/xen/hvmctl-lc.log
step shut-down

# --- a crash, on_crash = preserve: kept, crashed, until destroyed ----------------------------------
# no init in the initrd: the kernel panics at once, and a PV kernel's panic is a crash for Xen
pv_cfg crash1 rdinit=/nonexistent 'on_crash = "preserve"' > /tmp/crash1.cfg
hvmctl create /tmp/crash1.cfg || fail "hvmctl create crash1"
n=0; while [ $n -lt 200 ]; do case $(state_of crash1) in *c*) break ;; esac; sleep 0.5; n=$((n+1)); done
case $(state_of crash1) in *c*) ;; *) fail "crash1 did not crash or was not preserved: '$(state_of crash1)'" ;; esac
hvmctl list crash1
grep -q "shut down (crash): preserve" /var/log/xen/hvmctl-crash1.log || { cat /var/log/xen/hvmctl-crash1.log; fail "the monitor did not log the crash"; }
hvmctl destroy crash1 || fail "hvmctl destroy crash1"
wait_gone crash1 30 || fail "crash1 is still there"
clean_after "destroying the crashed guest"
step crash-preserved

# --- a crash, on_crash = destroy (the default) ----------------------------------------------------
pv_cfg crash2 rdinit=/nonexistent > /tmp/crash2.cfg
hvmctl create /tmp/crash2.cfg || fail "hvmctl create crash2"
wait_gone crash2 100 || fail "crash2 was not destroyed after its crash"
grep -q "shut down (crash): destroy" /var/log/xen/hvmctl-crash2.log || { cat /var/log/xen/hvmctl-crash2.log; fail "the monitor did not log the crash"; }
clean_after "the crash"
within 21 no_process '^hvmctl create' || fail "a monitor is still running"
step crash-destroyed

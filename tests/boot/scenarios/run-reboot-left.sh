# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl run --reboots checks every domain of a run for leftovers, not only the last: a PV guest reboots once; a xenstore backend node of its first domain that libxl does not know of (written by the test) is still there after the reboot's destroy, so the run ends with exit 2, kind teardown, the node and "before reboot 1" in its reason, while the second domain passed its step (that followed reboots leaving nothing pass is shown by guest-selftest, two reboots, in make check)
# option: manual = yes
# step: left 240
. /etc/hvmd-lib.sh
pv_cfg rbleft "quiet hvmd.checks=reboot" > /tmp/rbleft.cfg
hvmctl run /tmp/rbleft.cfg --reboots 1 --step-timeout 150 --expect 'pv:HVMD-GUEST-UP' \
    --expect 'pv:HVMD-GUEST-UP' --json /tmp/rbleft.json > /tmp/rbleft.out 2>&1 &
pid=$!
relay /tmp/rbleft.out run
d=
for _ in $(seq 1 600); do d=$(xl domid rbleft 2>/dev/null) && break; d=; sleep 0.2; done
[ -n "$d" ] || fail "the guest's first domain was not created"
xenstore-write "/local/domain/0/backend/hvmctl-test/$d/0/state" 1
wait "$pid"; RC=$?
sleep 0.3
xenstore-rm /local/domain/0/backend/hvmctl-test 2>/dev/null
[ "$RC" = 2 ] || fail "exit status $RC, not 2: $(tail -1 /tmp/rbleft.out)"
[ "$(json_str /tmp/rbleft.json kind)" = teardown ] || fail "kind '$(json_str /tmp/rbleft.json kind)', not teardown"
reason=$(json_str /tmp/rbleft.json reason)
echo "<run> reason: $reason"
case $reason in
    *"xenstore /local/domain/0/backend/hvmctl-test/$d (domain $d, before reboot 1)"*) ;;
    *) fail "the reason does not name domain $d's leftover: $reason" ;;
esac
grep -q '"step": 2, .*"status": "pass"' /tmp/rbleft.json || fail "step 2 (the second domain's marker) did not pass"
grep -q "domain $d, destroyed at reboot 1, left: xenstore /local/domain/0/backend/hvmctl-test/$d" /tmp/rbleft.out || fail "no log line at the reboot"
nothing_left || fail "left something behind"
step left

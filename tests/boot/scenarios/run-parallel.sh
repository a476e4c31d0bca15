# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl run -j 2 runs three PV guests two at a time, each isolated with its own verdict (pass, Kernel panic, pass), exit 1, one JSON and one JUnit file for all, runs overlapping in time, and nothing left behind
# step: parallel 400
# step: reports 30
. /etc/hvmd-lib.sh
pv_cfg par-a "quiet hvmd.checks=poweroff" > /tmp/par-a.cfg
pv_cfg par-b "rdinit=/no-such-init panic=0" > /tmp/par-b.cfg
pv_cfg par-c "quiet hvmd.checks=poweroff" > /tmp/par-c.cfg
t0=$(now)
hvmctl run -j 2 /tmp/par-a.cfg /tmp/par-b.cfg /tmp/par-c.cfg --step-timeout 170 \
    --expect 'pv:^HVMD-GUEST-UP' --expect 'pv:^HVMD-GUEST-DONE$' --wait-poweroff \
    --artifacts /tmp/art --json /tmp/par.json --junit /tmp/par.xml > /tmp/par.out 2>&1 &
pid=$!
relay /tmp/par.out run
wait "$pid"; rc=$?
wall=$(elapsed "$t0")
sleep 0.3
[ "$rc" = 1 ] || { for f in /tmp/art/par-*/hvmctl.log; do sed "s|^|<$f> |" "$f"; done; fail "exit status $rc, not 1 (one guest fails)"; }
grep -q '^PASS par-a (domain [0-9]*): 3 steps' /tmp/par.out || fail "par-a did not pass"
grep -q '^FAIL par-b (domain [0-9]*): Kernel panic on pv' /tmp/par.out || fail "par-b did not fail with a Kernel panic"
grep -q '^PASS par-c (domain [0-9]*): 3 steps' /tmp/par.out || fail "par-c did not pass"
grep -q '^hvmctl run: 2 passed, 1 failed, 0 errors (3 configs, -j 2, ' /tmp/par.out || fail "no total line"
# each run has its own folder and console
for n in a b c; do
    grep -q '"verdict": "' /tmp/art/par-$n/result.json || fail "par-$n has no result.json"
    [ -s /tmp/art/par-$n/pv.log ] || fail "par-$n has no pv.log"
    grep -q "par-$n" /tmp/art/par-$n/result.json || fail "par-$n's result names another guest"
done
grep -q 'HVMD-GUEST-UP' /tmp/art/par-b/pv.log && fail "par-b's console holds another guest's marker"
grep -q '"verdict": "fail"' /tmp/par.json || fail "par.json: overall verdict is not fail"
[ "$(grep -c '<testsuite ' /tmp/par.xml)" = 3 ] || fail "par.xml: not 3 test suites"
# side by side: the three runs took longer together than the wall time
sum=$(grep -o '"duration_s": [0-9.]*' /tmp/par.json | tail -n +2 | awk '{ s += $2 } END { printf "%.2f", s }')
info "wall $wall s, sum of the runs $sum s"
awk -v w="$wall" -v s="$sum" 'BEGIN { exit !(w < s * 0.9) }' || fail "the runs did not overlap (wall $wall s, sum $sum s)"
metric parallel_wall_s "$wall" s
metric parallel_sum_s "$sum" s
nothing_left || fail "hvmctl run -j 2 left something behind"
[ -z "$(pids_of '^hvmctl run')" ] || fail "an hvmctl run process is still there: $(pids_of '^hvmctl run')"
step parallel
export_file /tmp/par.json run-parallel.json
export_file /tmp/par.xml run-parallel.xml
step reports

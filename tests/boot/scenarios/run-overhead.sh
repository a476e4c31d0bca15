# SPDX-License-Identifier: GPL-2.0-only
# about: the cost of hvmctl run over bare xl create + xl console: the same PV guest, to its marker and then its own poweroff, booted alternately by each (twice, in the same boot); the times to the marker and to the end, their ratios, and hvmctl run's CPU time
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: xl-first 240
# step: run-first 240
# step: xl-second 240
# step: run-second 240
. /etc/hvmd-lib.sh
# the guest: it powers itself off after its marker
guest_cfg() { pv_cfg "$1" "quiet hvmd.checks=poweroff" 'on_poweroff = "destroy"'; }
# cpu_of FILE: the CPU seconds (user + system) in a `times` output's children line
cpu_of() {
    tail -1 "$1" | awk '{ gsub("s", "", $1); gsub("s", "", $2); split($1, u, "m"); split($2, s, "m");
                          printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}
xl_boot() { # xl create, xl console to a file, the marker, the poweroff (xl's monitor destroys)
    local n=$1 t0 m
    guest_cfg "$n" > "/tmp/$n.cfg"
    t0=$(now)
    # xl create in a subshell whose `times` then holds its CPU (the domain build, as in hvmctl run)
    ( xl create "/tmp/$n.cfg" > "/tmp/$n.create" 2>&1; rc=$?; times > "/tmp/$n.times"; exit $rc ) ||
        { cat "/tmp/$n.create"; fail "xl create $n"; }
    XL_CREATE="$XL_CREATE $(elapsed "$t0")"
    ( xl console -t pv "$n" > "/tmp/$n.con" 2>&1 < /dev/null; times > "/tmp/$n.ctimes" ) &
    wait_fast "/tmp/$n.con" 'HVMD-GUEST-UP' 200 || fail "xl: no marker from $n"
    m=$(elapsed "$t0")
    wait_gone "$n" 120 || fail "xl: $n did not power off"
    XL_M="$XL_M $m"; XL_T="$XL_T $(elapsed "$t0")"
    wait
    XL_CPU="$XL_CPU $(awk -v a="$(cpu_of "/tmp/$n.times")" -v b="$(cpu_of "/tmp/$n.ctimes")" 'BEGIN { printf "%.2f", a + b }')"
    clean_after xl
}
run_boot() { # the same through hvmctl run
    local n=$1 t0 m pid
    guest_cfg "$n" > "/tmp/$n.cfg"
    t0=$(now)
    # in a subshell whose `times` then holds hvmctl run's CPU (and its children's) alone
    ( hvmctl run "/tmp/$n.cfg" --expect 'pv:^HVMD-GUEST-UP' --expect 'pv:^HVMD-GUEST-DONE$' \
        --wait-poweroff --step-timeout 200 --artifacts /tmp/art --json "/tmp/$n.json" > "/tmp/$n.out" 2>&1
      rc=$?; times > "/tmp/$n.times"; exit $rc ) &
    pid=$!
    wait_fast "/tmp/$n.out" '\] HVMD-GUEST-UP' 200 || fail "run: no marker from $n"
    m=$(elapsed "$t0")
    wait "$pid" || { sed 's/^/<run> /' "/tmp/$n.out"; fail "hvmctl run $n failed"; }
    RUN_M="$RUN_M $m"; RUN_T="$RUN_T $(elapsed "$t0")"
    RUN_CPU="$RUN_CPU $(cpu_of "/tmp/$n.times")"
    RUN_CREATE="$RUN_CREATE $(sed -n 's/.*"create_s": \([0-9.]*\).*/\1/p' "/tmp/$n.json" | head -1)"
    grep -E 'HVMD-GUEST-UP' "/tmp/$n.out" | head -1 | sed 's/^/<run> /'
    tail -1 "/tmp/$n.out" | sed 's/^/<run> /'
    clean_after "hvmctl run"
}
xl_boot ovx1; step xl-first
run_boot ovr1; step run-first
xl_boot ovx2; step xl-second
run_boot ovr2; step run-second
mean() { echo "$@" | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF }'; }
info "xl: create$XL_CREATE marker$XL_M total$XL_T cpu$XL_CPU; hvmctl run: create$RUN_CREATE marker$RUN_M total$RUN_T cpu$RUN_CPU"
metric xl_marker_s "$(mean $XL_M)" s
metric run_marker_s "$(mean $RUN_M)" s
metric xl_total_s "$(mean $XL_T)" s
metric run_total_s "$(mean $RUN_T)" s
metric run_over_xl_marker "$(awk -v a="$(mean $RUN_M)" -v b="$(mean $XL_M)" 'BEGIN { printf "%.3f", a / b }')"
metric run_over_xl_total "$(awk -v a="$(mean $RUN_T)" -v b="$(mean $XL_T)" 'BEGIN { printf "%.3f", a / b }')"
metric xl_create_s "$(mean $XL_CREATE)" s
metric run_create_s "$(mean $RUN_CREATE)" s
metric xl_cpu_s "$(mean $XL_CPU)" s
metric run_cpu_s "$(mean $RUN_CPU)" s

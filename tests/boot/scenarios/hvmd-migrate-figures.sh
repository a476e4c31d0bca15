# SPDX-License-Identifier: GPL-2.0-only
# about: save/restore and migration figures of the Linux ISO guest under hvmd (qemu-migrate-figures: the same under qemu-xen, the make bench pair): the device model's state (QMP stop, xen-save-devices-state / xen-load-devices-state to a file, cont: its size and the time of each, five of each per round trip), and a localhost live migration (xl migrate -s ""): its time and the guest's downtime as the guest sees it (the largest gap in a 10 ms tick loop, in-guest check ticker: one turn of its loop takes ~100-250 ms in the nested guest, which bounds the resolution of the figure)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 360
# step: dm-state 120
# step: migrated 400
# step: cleaned 120
. /etc/hvmd-lib.sh
dm=${MIG_DM:-hvmd}
name=mf; extra=
# hvmd's seccomp filter lets it open no file by path once started (libxl passes the state file
# by fd); this measurement names a file, so that both device models are timed the same way
[ "$dm" = hvmd ] && extra='device_model_args_hvm = [ "-sandbox", "off" ]'
# (qemu-xen with its default display, as qemu-disk: no vga line)
vga=; [ "$dm" = hvmd ] || { name=qmf; vga='vga ='; }
check_disk /tmp/$name.img 16 ticker
printf 'HVMD-CHECKS: ticker\nHVMD-TICKER-SECONDS: 600\n' | dd of=/tmp/$name.img conv=notrunc 2>/dev/null
hvm_cfg $name "$dm" "$(cd_disks /media/linux.iso /tmp/$name.img)" 'boot = "d"' 'memory = 128' ${extra:+"$extra"} ${vga:+"$vga"} > /tmp/$name.cfg
xl_start $name
step dm-running
guest_up 350; step guest-up
wait_re "$log" "HVMD-TICKER start" 120 || fail "the ticker check did not start"

# --- the device model's state: N saves (then N loads) in one QMP connection (stop, N commands,
# cont), and the same connection with query-status in their place. A QMP round trip from dom0
# costs ~100 ms here, more than a save: the figures are per command, round trip included, with
# the round trip alone beside them (hvmd's log has its own time for a save and a load)
N=10
st=/tmp/$name.state
q() { printf '{"execute":"%s"%s}' "$1" "${2:+,\"arguments\":$2}"; }
cmds() { # CMD ARGS: N of them between stop and cont
    local i; set -- "$(q "$1" "$2")"
    q stop; echo
    for i in $(seq 1 $N); do echo "$1"; done
    q cont; echo
}
# timed CMD ARGS: the seconds they took, or "failed: the answer"
timed() {
    local t; t=$(now); mapfile -t c < <(cmds "$@")
    if dm_qmp "$d" "${c[@]}" > /tmp/$name-qmp.out; then elapsed "$t"
    else echo "failed: $(grep -m1 -i error /tmp/$name-qmp.out)"; fi
}
save_args="{\"filename\":\"$st\",\"live\":false}"
load_args="{\"filename\":\"$st\"}"
base=$(timed query-status)
ts=$(timed xen-save-devices-state "$save_args")
bytes=$(stat -c %s "$st")
base2=$(timed query-status)
info "QMP: $N x query-status $base s / $base2 s, $N saves $ts s; state $bytes bytes"
case $base$base2$ts in *failed*) fail "QMP query-status or xen-save-devices-state failed" ;; esac
per() { awk -v a="$1" -v n=$N 'BEGIN { printf "%.1f", a * 1000 / n }'; }
metric dm_state_bytes "$bytes" B
metric qmp_roundtrip_ms "$(awk -v a="$base" -v b="$base2" -v n=$N 'BEGIN { printf "%.1f", (a + b) * 500 / n }')" ms
metric dm_save_qmp_ms "$(per "$ts")" ms
l=$(grep -o "device state saved: .*" "$dmlog" 2>/dev/null | tail -1); [ -z "$l" ] || info "hvmd: $l"
step dm-state

# --- a localhost live migration while the guest ticks: the largest gap it saw after
n0=$(grep -ac "HVMD-TICKER gap" "$log")
info "gaps before the migration (startup): $(grep -a "HVMD-TICKER gap" "$log" | tr '\n' ' ')"
t=$(now)
xl -v migrate -s "" $name "xl migrate-receive" > /tmp/$name-migrate.log 2>&1 || { tail -30 /tmp/$name-migrate.log; fail "xl migrate failed"; }
metric migrate_s "$(elapsed "$t")" s
grep -iE "migration (sender|target)" /tmp/$name-migrate.log | tail -4 | sed 's/^/== /'
d2=$(domid $name)
[ -n "$d2" ] && [ "$d2" != "$d" ] || fail "no new domain after the migration"
d=$d2
sleep 3
# the receiver's device model may have opened the serial file anew (truncated): then every gap
# in it came after the migration
n1=$(grep -ac "HVMD-TICKER gap" "$log")
if [ "$n1" -lt "$n0" ]; then gaps=$(grep -a "HVMD-TICKER gap" "$log"); else gaps=$(grep -a "HVMD-TICKER gap" "$log" | tail -n +$((n0 + 1))); fi
info "gaps after: $(echo "$gaps" | tr '\n' ' ')"
down=$(echo "$gaps" | awk '{ if ($3 > m) m = $3 } END { print m + 0 }')
[ "$down" -gt 0 ] || { tail -5 "$log"; fail "the guest saw no gap over 150 ms: did it run on?"; }
metric migrate_downtime_ms "$down" ms
step migrated

# --- the loads last, into the migrated guest's device model (N of the state saved above)
tl=$(timed xen-load-devices-state "$load_args")
info "QMP: $N loads $tl s"
# (Debian's QEMU 7.2 refuses to load the state it saved into a guest that ran: its figure is
# then left out)
case $tl in
    failed*) info "xen-load-devices-state: $tl"; dm_qmp "$d" "$(q cont)" > /dev/null || true ;;
    *) metric dm_load_qmp_ms "$(per "$tl")" ms ;;
esac
l=$(grep -o "device state loaded: .*" /var/log/xen/qemu-dm-$name*.log 2>/dev/null | tail -1); [ -z "$l" ] || info "hvmd: $l"
rm -f "$st"
xl destroy $name
clean_after "the figures"
step cleaned

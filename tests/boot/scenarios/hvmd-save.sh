# SPDX-License-Identifier: GPL-2.0-only
# about: (the guest has no PV drivers, xen_platform_pci = 0: libxl pauses it for each save without telling it, so a disk or CD-ROM request can be in flight; hvmd completes it before it writes its state and says so) xl save / xl restore / xl migrate (to this dom0, through `xl migrate -s ""`) of the Linux ISO guest under stock xl + hvmd while it writes and reads back its disk and reads its CD-ROM (in-guest check save-io): hvmd writes its device state through QMP xen-save-devices-state (add-fd), the restored hvmd loads it from -incoming fd:N, the guest's I/O loop and serial console carry on after each, its checks pass and the host image holds its pattern; a saved image of a newer format version and a truncated one are refused on xl restore with hvmd's message (a newer device version and a corrupted field: test_save, test_snapshot), leaving no domain or process
# step: dm-running 90
# step: guest-up 360
# step: io-running 200
# step: saved 240
# step: restored 240
# step: io-after-restore 200
# step: migrated 400
# step: io-after-migrate 200
# step: migrate-refused 240
# step: hvmctl-migrated 400
# step: hvmctl-saved 240
# step: hvmctl-restored 300
# step: checks 400
# step: host-image 120
# step: refused 300
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 save-io disk-pattern poweroff
# (save-io's rounds: enough for every save, restore and migration below, ~2.5 s each; the
# scenario ends the loop after the last restore)
printf 'HVMD-CHECKS: save-io disk-pattern poweroff\nHVMD-SAVE-ROUNDS: 30\n' | dd of=/tmp/disk.img conv=notrunc 2>/dev/null
# 128 MB: dom0 (512 MB, all of it RAM) holds a saved image at a time in its tmpfs /tmp
# no PV drivers (no platform device): libxl suspends the guest through Xen without its notice,
# in the middle of its I/O (with them, Linux quiesces its disks first)
hvm_cfg sv hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'memory = 128' 'xen_platform_pci = 0' > /tmp/sv.cfg
xl_start sv hvmd
step dm-running
guest_up 350; step guest-up

# the I/O rounds as they come; N: the last round on the console so far
round() { save_io_round "$1"; }
{ wait_re "$log" "HVMD-SAVE-IO round 2" 190 && wait_save_io_round "$log" 10; } || { tail -20 "$log"; fail "the guest's save-io check did not start"; }
step io-running

# --- xl save: the guest suspends, hvmd writes its state into libxl's file (add-fd), the
# domain goes; the saved image carries it as the emulator record
r0=$(round "$log")
cp "$log" /tmp/sv-serial-before-save.log
t=$(now)
xl -v save sv /tmp/sv.save > /tmp/sv-save.log 2>&1 || { tail -30 /tmp/sv-save.log; cat "$dmlog"; fail "xl save sv failed"; }
metric save_s "$(elapsed "$t")" s
grep -E "xen-save-devices-state|xen-set-global-dirty-log|device state" /tmp/sv-save.log | head -5 | sed 's/^/== save: /'
line=$(grep -o "device state saved.*" "$dmlog" | tail -1)
[ -n "$line" ] || { cat "$dmlog"; fail "hvmd did not say it saved its device state"; }
info "hvmd: $line"
set -- $line; state_bytes=$4; metric dm_state_bytes "$state_bytes" B; metric dm_save_ms "$7" ms
info "saved image: $(stat -c %s /tmp/sv.save) bytes, the guest at round $r0"
wait_gone sv 30 || fail "the saved domain is still there"
clean_after "xl save"
step saved

# --- xl restore: hvmd starts with -incoming fd:N and loads the state before the guest runs
t=$(now)
xl -v restore /tmp/sv.save > /tmp/sv-restore.log 2>&1 || { tail -30 /tmp/sv-restore.log; cat "$dmlog"; fail "xl restore failed"; }
metric restore_s "$(elapsed "$t")" s
d=$(domid sv); pid=$(dm_pid "$d")
[ -n "$d" ] && [ -n "$pid" ] || fail "no restored domain sv with a device model"
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qE -- "-incoming fd:[0-9]+" || fail "hvmd was not started with -incoming fd:N: $(tr '\0' ' ' < /proc/$pid/cmdline)"
line=$(grep -o "\-incoming .*device state loaded.*" "$dmlog" | tail -1)
[ -n "$line" ] || { cat "$dmlog"; fail "the restored hvmd did not load the device state"; }
info "hvmd: $line"
set -- $line; metric dm_load_ms "$9" ms
rm -f /tmp/sv.save
step restored
# the guest goes on where it was: its serial console (a new file: hvmd opens it anew, as QEMU)
# shows the rounds after the one it was in
wait_re "$log" "HVMD-SAVE-IO round" 190 || { xl dmesg | grep "(d$d)" | tail -20; tail "$dmlog"; fail "no I/O round on the console after the restore"; }
r1=$(round "$log")
info "after the restore: round $r1 (saved in round $r0)"
[ "$r1" -ge "$r0" ] || fail "the guest started over (round $r1 after round $r0)"
step io-after-restore

# --- xl migrate to this dom0 (-s "": the host argument is the receiver's command), received by
# hvmctl migrate-receive (xl's protocol) with a new config (-C) that adds dm_restrict = 1: the
# receiving hvmd runs deprivileged, and so does every hvmd of this guest from here on
wait_re "$log" "HVMD-SAVE-IO round $((r1 + 1))" 120 || fail "the restored guest's I/O stalled at round $r1"
r2=$(round "$log")
{ cat /tmp/sv.cfg; echo 'dm_restrict = 1'; } > /tmp/sv-r.cfg
t=$(now)
xl -v migrate -s "" -C /tmp/sv-r.cfg sv "hvmctl migrate-receive" > /tmp/sv-migrate.log 2>&1 || { tail -40 /tmp/sv-migrate.log; fail "xl migrate sv to hvmctl migrate-receive failed"; }
metric migrate_s "$(elapsed "$t")" s
grep -iE "migration|dirty|iteration|transferred|saved|loaded|migrate-receive" /tmp/sv-migrate.log | tail -8 | sed 's/^/== migrate: /'
d2=$(domid sv); pid2=$(dm_pid "$d2")
[ -n "$d2" ] && [ "$d2" != "$d" ] || fail "after the migration no new domain sv (was $d, now '$d2')"
for i in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
[ -d "/proc/$pid" ] && fail "the sender's hvmd (pid $pid) is still running 20 s after the migration"
xl list | sed 's/^/== /'
grep -q "xen-set-global-dirty-log\|dirty log on" /var/log/xen/qemu-dm-sv*.log 2>/dev/null && info "hvmd had the dirty log on during the live phase"
d=$d2; pid=$pid2
# restricted (dm_restrict = 1): the per-domain uid, libxl's chroot, no capability
restricted() {
    local st=/proc/$pid/status root
    grep -qE "^Uid:[[:space:]]+$((131072 + d))[[:space:]]" "$st" || fail "$1: hvmd does not run as uid $((131072 + d)): $(grep ^Uid "$st")"
    grep -qE '^CapEff:[[:space:]]*0+$' "$st" || fail "$1: hvmd has capabilities"
    root=$(readlink "/proc/$pid/root")
    case $root in */xen/qemu-root-$d) ;; *) fail "$1: hvmd is not in libxl's chroot (its root is $root)" ;; esac
    info "$1: hvmd (pid $pid) runs as uid $((131072 + d)) in $root"
}
restricted "migrated in"
monlog=/var/log/xen/hvmctl-sv.log
grep -q "took on domain $d " "$monlog" || { cat "$monlog"; fail "hvmctl migrate-receive left no monitor with domain $d"; }
step migrated
wait_re "$log" "HVMD-SAVE-IO round" 190 || fail "no I/O round on the console after the migration"
r3=$(round "$log")
info "after the migration: round $r3 (migrated in round $r2)"
[ "$r3" -ge "$r2" ] || fail "the guest started over (round $r3 after round $r2)"
step io-after-migrate

# --- hvmctl migrate that cannot succeed: each says why, the guest runs on here as it was, and
# nothing is left of the receiving side
runs_on() { # WHAT
    local st
    [ "$(domid sv)" = "$d" ] || fail "$1: the guest is no longer domain $d ($(xl list | tail -n +2 | tr '\n' ' '))"
    st=$(xl list sv | awk 'NR == 2 { print $5 }')
    case $st in *s*|*p*|*c*|*d*) fail "$1: the guest is not running (state $st)" ;; esac
    [ "$(dm_pid "$d")" = "$pid" ] && [ -d "/proc/$pid" ] || fail "$1: the guest's hvmd is gone"
    [ -z "$(xl list | grep -E -- '--incoming|--migratedaway')" ] || fail "$1: a half-migrated domain is left: $(xl list)"
    [ "$(xl list | tail -n +2 | wc -l)" = 2 ] || fail "$1: other domains are left: $(xl list | tail -n +2 | tr '\n' ' ')"
    [ "$(xenstore-list /local/domain/0/device-model | tr '\n' ' ')" = "$d " ] || fail "$1: other device models are left: $(xenstore-list /local/domain/0/device-model | tr '\n' ' ')"
}
refuse_migrate() { # WHAT REGEX ARGS...: hvmctl migrate ARGS fails saying REGEX
    local what=$1 re=$2; shift 2
    hvmctl migrate "$@" > /tmp/sv-mig-bad.log 2>&1 && fail "hvmctl migrate $what succeeded"
    grep -qE "$re" /tmp/sv-mig-bad.log || { cat /tmp/sv-mig-bad.log; fail "hvmctl migrate $what: no '$re'"; }
    info "$what: $(grep -E "$re" /tmp/sv-mig-bad.log | tail -1)"
}
refuse_migrate "of an unknown domain" "no domain 'nosuch'" -s "" nosuch "hvmctl migrate-receive"
refuse_migrate "to an unreachable host" "the receiver did not start .*guest runs on here" -s "ssh -o BatchMode=yes -o ConnectTimeout=5" sv 192.0.2.1
runs_on "unreachable host"
# a receiver that takes 16 MiB of the stream and dies: the live phase fails, the guest resumes
refuse_migrate "to a receiver that dies" "sending failed.*guest runs on here" -s "" sv \
    "printf 'xl migration receiver ready, send binary domain data.\\n'; head -c 16777216 > /dev/null"
runs_on "receiver died"
wait_re "$log" "HVMD-SAVE-IO round $((r3 + 1))" 120 || fail "the guest's I/O stalled at round $r3 after the failed migrations"
step migrate-refused

# --- hvmctl migrate (live) to xl migrate-receive on this dom0: the restricted hvmd saves, a
# restricted hvmd loads; the sender's monitor (hvmctl migrate-receive's) ends with its domain
r3=$(round "$log")
t=$(now)
hvmctl migrate -s "" sv "xl migrate-receive" > /tmp/sv-hvmctl-mig.log 2>&1 || { tail -30 /tmp/sv-hvmctl-mig.log; fail "hvmctl migrate sv failed"; }
metric hvmctl_migrate_s "$(elapsed "$t")" s
grep -vE "Saving memory: iter .* [1-9][0-9]?%" /tmp/sv-hvmctl-mig.log | tail -6 | sed 's/^/== hvmctl migrate: /'
grep -q "migrated sv to " /tmp/sv-hvmctl-mig.log || fail "hvmctl migrate did not say it migrated sv"
d2=$(domid sv); pid2=$(dm_pid "$d2")
[ -n "$d2" ] && [ "$d2" != "$d" ] || fail "after hvmctl migrate no new domain sv (was $d, now '$d2')"
for i in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
[ -d "/proc/$pid" ] && fail "the sender's hvmd (pid $pid) is still running 20 s after hvmctl migrate"
for i in $(seq 1 20); do grep -q "domain $d is gone" "$monlog" && break; sleep 0.5; done
grep -q "domain $d is gone" "$monlog" || { tail -5 "$monlog"; fail "the monitor of the migrated-away domain $d did not end"; }
d=$d2; pid=$pid2
restricted "hvmctl migrate"
wait_re "$log" "HVMD-SAVE-IO round" 190 || fail "no I/O round on the console after hvmctl migrate"
r4=$(round "$log")
info "after hvmctl migrate: round $r4 (migrated in round $r3)"
[ "$r4" -ge "$r3" ] || fail "the guest started over (round $r4 after round $r3)"
step hvmctl-migrated

# --- hvmctl save / hvmctl restore (libxl's calls, xl's image format), progress on stderr
wait_re "$log" "HVMD-SAVE-IO round $((r4 + 1))" 120 || fail "the migrated guest's I/O stalled at round $r4"
r4=$(round "$log")
hvmctl save sv /tmp/sv-hvmctl.save > /tmp/sv-hvmctl-save.log 2>&1 || { tail -20 /tmp/sv-hvmctl-save.log; fail "hvmctl save sv failed"; }
# (the saving hvmd was the migration's receiver: its log is the newest with a save in it)
line=$(grep -h -o "device state saved.*" $(ls -t /var/log/xen/qemu-dm-sv*.log) 2>/dev/null | head -1)
[ -n "$line" ] || fail "hvmctl save: hvmd did not say it saved its device state"
info "hvmd: $line"
set -- $line; state_bytes=$4
sed 's/^/== hvmctl save: /' /tmp/sv-hvmctl-save.log | grep -vE "^== hvmctl save: .*Saving memory: iter .* [1-9][0-9]?%" | tail -8
wait_gone sv 30 || fail "hvmctl save left the domain"
clean_after "hvmctl save"
step hvmctl-saved
hvmctl restore /tmp/sv-hvmctl.save > /tmp/sv-hvmctl-restore.log 2>&1 || { cat /tmp/sv-hvmctl-restore.log; fail "hvmctl restore failed"; }
tail -4 /tmp/sv-hvmctl-restore.log | sed 's/^/== hvmctl restore: /'
d=$(domid sv); pid=$(dm_pid "$d")
[ -n "$d" ] && [ -n "$pid" ] || fail "hvmctl restore: no domain sv with a device model"
restricted "hvmctl restore"
grep -q "took on domain $d " "$monlog" || { cat "$monlog"; fail "hvmctl restore left no monitor with domain $d"; }
wait_re "$log" "HVMD-SAVE-IO round" 190 || fail "no I/O round on the console after hvmctl restore"
r5=$(round "$log")
info "after hvmctl restore: round $r5 (saved in round $r4)"
[ "$r5" -ge "$r4" ] || fail "the guest started over (round $r5 after round $r4)"
# the loop's end: a line in the disk's second sector, which save-io reads after each round
# (the rounds left would cost ~2.5 s each)
printf 'HVMD-SAVE-STOP\n' | dd of=/tmp/disk.img bs=512 seek=1 conv=notrunc 2>/dev/null
# bad input: a file that is no saved image, a missing file; nothing is built
hvmctl restore /etc/hvmd-lib.sh > /tmp/sv-hvmctl-bad.log 2>&1 && fail "hvmctl restore of a shell script succeeded"
grep -q "not a saved domain" /tmp/sv-hvmctl-bad.log || { cat /tmp/sv-hvmctl-bad.log; fail "hvmctl restore of a non-image: unclear error"; }
hvmctl save nosuchdomain /tmp/x.save > /tmp/sv-hvmctl-bad.log 2>&1 && fail "hvmctl save of a missing domain succeeded"
[ ! -e /tmp/x.save ] || fail "hvmctl save of a missing domain left a file"
step hvmctl-restored

guest_done 390 save-io disk-pattern; step checks
# hvmctl restore's monitor carries out on_poweroff = "destroy"
wait_gone sv 110 || fail "the restored guest was not destroyed after its poweroff (its monitor: $(tail -3 "$monlog"))"
grep -q "domain $d shut down (poweroff): destroy" "$monlog" || { tail -5 "$monlog"; fail "the monitor did not carry out on_poweroff"; }
info "monitor: $(grep "domain $d " "$monlog" | tail -2 | tr '\n' ' ')"
image_kept /tmp/disk.img
n=$(cat /var/log/xen/qemu-dm-sv*.log* 2>/dev/null | grep -c "in flight at the save")
info "saves that found a disk or CD-ROM request in flight (completed first): $n of 4"
metric saves_with_io_in_flight "$n"
step host-image

# --- bad saved images (hvmctl's, in xl's format): each refused by xl restore, nothing left
# behind. The image ends with the emulator record (header, id, index, hvmd's stream, padding
# to 8 bytes) and the end record (8 bytes): hvmd's stream starts STATE_BYTES + padding + 8
# bytes before the end. Each damage is made in place and undone (dom0 has no room for copies).
img=/tmp/sv-hvmctl.save
size=$(stat -c %s $img)
pad=$(( (8 - state_bytes % 8) % 8 ))
at=$(( size - 8 - pad - state_bytes ))
[ "$(dd if=$img bs=1 skip=$at count=8 2>/dev/null)" = HVMDSTAT ] || fail "no hvmd stream at $at in the saved image"
poke() { printf "$2" | dd of=$img bs=1 seek="$1" conv=notrunc 2>/dev/null; }
refused() { # WHAT REGEX: xl restore of the image fails, hvmd's log says REGEX, nothing is left
    local what=$1 re=$2 l
    xl restore $img > /tmp/sv-bad.log 2>&1 && fail "xl restore of the $what image succeeded"
    sleep 1
    clean_after "the refused restore of the $what image"
    l=$(grep -hE "$re" /var/log/xen/qemu-dm-sv.log 2>/dev/null | tail -1)
    [ -n "$l" ] || { tail -5 /tmp/sv-bad.log; tail -5 /var/log/xen/qemu-dm-sv.log; fail "the $what image: no '$re' from hvmd"; }
    info "$what: xl: $(grep -iE "error|fail" /tmp/sv-bad.log | tail -1)"
    info "$what: hvmd: ${l#*hvmd}"
}
poke $((at + 8)) '\011'
refused "newer-format" "device state refused.*format version 9"
poke $((at + 8)) '\001'
# (a newer device version and a corrupted field name take the same path through xl and libxl;
# test_save and test_snapshot refuse them, and every other field, on the host: ~10 s each here)
# truncated inside hvmd's stream (and the record that carries it)
truncate -s $((at + state_bytes / 2)) $img
xl restore $img > /tmp/sv-bad.log 2>&1 && fail "xl restore of the truncated image succeeded"
clean_after "the refused restore of the truncated image"
info "truncated: xl: $(grep -iE "error|fail" /tmp/sv-bad.log | tail -1)"
rm -f $img
step refused

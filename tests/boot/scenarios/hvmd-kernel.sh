# SPDX-License-Identifier: GPL-2.0-only
# about: an HVM guest with kernel=/ramdisk= (direct boot through hvmd's fw_cfg DMA) reaches its marker, its console on hvmd's 16550 read through xl console, and its default PV keyboard (no vkb_device line) is connected to hvmd's vkbd backend without the 25 s wait, a channel (PV console 1) carries a line from the guest to dom0 (read on the pty named in device/console/1/tty), and a backendtype=qdisk disk served by hvmd's qdisk passes the guest's pattern check on /dev/xvda; the guest unloads and loads xen-blkfront (its disk closed and opened again without a reboot: hvmd offers the device again) and reads the pattern back; while it then writes and reads back its qdisk disk in a loop (check save-io), xl save and xl restore: hvmd's qdisk completes what it has in flight at the save and takes nothing more from the ring (its log says how many requests it found), the resumed blkfront connects to the restored hvmd's qdisk and sends again what it had not seen answered, the loop carries on, its check passes and the image holds the pattern; then it reboots under xl's on_reboot = "restart": its reset reaches Xen through hvmd, xl builds a new domain with a new hvmd, whose qdisk the new blkfront connects to and on which the pattern check passes again; its ACPI power-off reaches Xen through hvmd's PIIX4 and leaves nothing behind
# step: dm-running 90
# step: guest-up 300
# step: saved-restored 150
# step: rebooted 240
# step: poweroff 120
. /etc/hvmd-lib.sh
# hvmd-kernel-qemu runs this same script with KERNEL_DM=qemu-xen: the same guest, Debian's qemu-xen
dm=${KERNEL_DM:-hvmd}
# no vkb_device line: libxl adds its default PV keyboard (backend/vkbd/D/0), which hvmd serves;
# unserved, Linux's xen-kbdfront would hold the guest 25 s
# under hvmd also a channel (PV console 1, served by hvmd's console backend on a pty), which
# the guest writes a line to (its check "channel") and dom0 reads through xl console -n 1
# and a disk with backendtype=qdisk that hvmd's qdisk backend serves to the guest's blkfront
# (the guest unplugs its emulated IDE twin), on which the guest runs its disk-pattern check
# (hvmd-kernel-vkb0 runs it with KERNEL_VKB0=1: vkb_device = 0 and none of these, the figure
# from before hvmd served the PV keyboard)
extras=0; [ "$dm" = hvmd ] && [ -z "${KERNEL_VKB0:-}" ] && extras=1
# with them, after the checks, a reboot under xl's on_reboot = "restart" and the pattern check
# again through the new domain's hvmd (not under hvmd-kernel-restrict: not tried there)
reboot=0; [ $extras = 1 ] && [ -z "${KERNEL_RESTRICT:-}" ] && reboot=1
# and before the reboot, while the guest writes and reads back its qdisk disk in a loop (its
# check save-io), xl save and xl restore (issue 17: a PV disk served by hvmd's qdisk saved with
# its requests, the guest's blkfront resuming on the new hvmd); hvmd-kernel-migrate (manual,
# KERNEL_MIGRATE=1) then also xl migrate to this dom0
save=$reboot
# 128 MB (all variants, so that hvmd-kernel-qemu stays the same guest): dom0 (512 MB, all RAM)
# holds the saved image in its tmpfs /tmp (at 96 MB the guest's disk-pattern check was killed:
# out of memory)
mem='memory = 128'
vkb='tsc_mode = "native"'; [ -n "${KERNEL_VKB0:-}" ] && vkb='vkb_device = 0'
# (hvmd-kernel-restrict runs it with KERNEL_RESTRICT=1: the same under dm_restrict = 1)
rst='vcpus = 1'; [ -n "${KERNEL_RESTRICT:-}" ] && rst='dm_restrict = 1'
if [ $extras = 1 ]; then
    # two channels: xl 4.17 numbers channels from 0 (xl_parse.c ARRAY_EXTEND_INIT sets devid =
    # index), so libxl refuses the first as console 0 ("Primary console has invalid
    # configuration", logged; the domain is built anyway) and only the second is console 1
    chan='channel = [ "name=org.hvmd.lost,connection=pty", "name=org.hvmd.test,connection=pty" ]'
    # (with the reboot no poweroff on the command line: the first boot waits for the reboot
    # below, and the second finds poweroff in the disk's check line, which the scenario adds
    # before it)
    checks=channel,poweroff; [ $reboot = 1 ] && checks=channel
    # disk-reopen: xen-blkfront unloaded and loaded again, the pattern read back through the
    # new connection (hvmd offers the device again to the unbound frontend)
    if [ $save = 1 ]; then
        # save-io's rounds: a cap; the scenario ends the loop (HVMD-SAVE-STOP in sector 1)
        check_disk /tmp/kern-qd.img 64 disk-pattern disk-reopen save-io
        printf 'HVMD-CHECKS: disk-pattern disk-reopen save-io\nHVMD-SAVE-ROUNDS: 200\n' |
            dd of=/tmp/kern-qd.img conv=notrunc 2>/dev/null
    else
        check_disk /tmp/kern-qd.img 64 disk-pattern disk-reopen
    fi
    qd='disk = [ "format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=/tmp/kern-qd.img" ]'
    # libxl's default (hvm_cfg's is destroy): the reboot below builds the guest again
    rbt='on_crash = "destroy"'; [ $reboot = 1 ] && rbt='on_reboot = "restart"'
else chan='vcpus = 1'; checks=poweroff; qd='memory = 256'; rbt='on_crash = "destroy"'; fi
hvm_cfg kern "$dm" 'serial = "pty"' 'kernel = "/media/guest-vmlinuz"' \
    'ramdisk = "/media/guest-initrd.gz"' "cmdline = \"console=ttyS0,115200 quiet hvmd.checks=$checks\"" \
    "$chan" "$qd" "$vkb" "$rst" "$rbt" "$mem" > /tmp/kern.cfg
# (hvmd-kernel-profile and qemu-kernel-profile source this script with KERNEL_CFG_ONLY=1 for
# this guest's xl.cfg and qdisk image, and boot it themselves)
[ -z "${KERNEL_CFG_ONLY:-}" ] || return 0
dmlog=/var/log/xen/qemu-dm-kern.log
con=/tmp/kern-console.log
# when the device model's xenstore state turns "running" (to time exec -> running)
# (the domain's id is not known before xl create returns: the first device model to run is it)
( while :; do
      for i in $(xenstore-list /local/domain/0/device-model 2>/dev/null); do
          [ "$(xenstore-read "/local/domain/0/device-model/$i/state" 2>/dev/null)" = running ] &&
              { now > /tmp/dm-running.t; exit 0; }
      done
      sleep 0.05
  done ) &
t0=$(now)
xl create /tmp/kern.cfg || { cat "$dmlog"; fail "xl create /tmp/kern.cfg"; }
d=$(domid kern); pid=$(dm_pid "$d")
relay "$dmlog" "$dm"
wait_re /tmp/dm-running.t . 10 || fail "did not see device-model/$d/state turn running"
metric exec_to_running_s "$(awk -v s="$(awk '{ print $22 }' /proc/$pid/stat)" '{ printf "%.2f", $1 - s / 100 }' /tmp/dm-running.t)" s
[ "$(xenstore-read /local/domain/0/device-model/$d/state)" = running ] || fail "device-model state is not running"
tty=$(xenstore-read /local/domain/$d/serial/0/tty) || fail "libxl wrote no serial/0/tty (QMP query-chardev)"
info "domain $d, $dm pid $pid, serial console $tty"
if [ -n "${KERNEL_RESTRICT:-}" ]; then
    grep -E '^(Uid|CapEff|Seccomp):' "/proc/$pid/status" | sed 's/^/== hvmd /'
    grep -qE "^Uid:[[:space:]]+$((131072 + d))[[:space:]]" "/proc/$pid/status" || fail "hvmd does not run as uid $((131072 + d)) under dm_restrict"
    case $(readlink "/proc/$pid/root") in */xen/qemu-root-$d) ;; *) fail "hvmd is not in libxl's chroot" ;; esac
    grep -q "xenstore broker hvmd-xs" "$dmlog" || fail "hvmd's PV backends do not go through the xenstore broker"
fi
metric create_to_dm_running_s "$(elapsed "$t0")" s
# the console, as a user reads it
xl console -t serial kern > "$con" 2>&1 &
relay "$con" kern
step dm-running
if [ $extras = 1 ]; then
    chtty=$(xenstore-read "/local/domain/$d/device/console/1/tty" 2>/dev/null)
    info "channel org.hvmd.test: console 1 on ${chtty:-nothing}"
    [ -n "$chtty" ] || fail "hvmd wrote no tty for console 1 (the channel)"
    # read the pty itself: xenconsole (xl console -t pv -n 1) takes a lock per domain
    # (/var/lock/xenconsole.D), which the serial console's xl console below holds
    ( stty -F "$chtty" raw -echo 2>/dev/null; exec cat "$chtty" ) > /tmp/kern-chan.log 2>&1 &
fi
wait_re "$con" HVMD-GUEST-UP 295 || { xl dmesg | grep "(d$d)" | tail -20; fail "no HVMD-GUEST-UP on the serial console"; }
metric create_to_marker_s "$(elapsed "$t0")" s
# the default PV keyboard: xen-kbdfront (the frontend, only it writes its state) Connected
fe_st=$(xenstore-read "/local/domain/$d/device/vkbd/0/state" 2>/dev/null)
be_st=$(xenstore-read "/local/domain/0/backend/vkbd/$d/0/state" 2>/dev/null)
info "vkbd 0: frontend state ${fe_st:-none}, backend state ${be_st:-none}"
if [ $extras = 1 ]; then
    [ "$fe_st" = 4 ] && [ "$be_st" = 4 ] || { grep -i vkbd "$dmlog"; fail "vkbd 0 is not connected (frontend ${fe_st:-none}, backend ${be_st:-none})"; }
    xenstore-read "/local/domain/0/device-model/$d/backends/vkbd" > /dev/null 2>&1 || fail "hvmd did not list vkbd in device-model/$d/backends"
fi
# (at the marker, before the guest's checks power it off)
dm_metrics "$pid"
set -- $(awk '{ print $14, $15 }' "/proc/$pid/stat"); metric dm_cpu_ticks $(( $1 + $2 )) ticks
if [ $extras = 1 ]; then
    wait_re /tmp/kern-chan.log HVMD-CHANNEL-LINE 60 || { grep -E "HVMD-CHECK|console" "$con" "$dmlog" | tail; fail "no line from the guest on console 1 (channel) in dom0"; }
    info "channel: $(grep -m1 HVMD-CHANNEL-LINE /tmp/kern-chan.log | tr -d '\r')"
    grep -q "HVMD-CHECK channel PASS" "$con" || wait_re "$con" "HVMD-CHECK channel PASS" 30 || fail "the guest's channel check did not pass"
    wait_re "$con" "HVMD-CHECK disk-pattern" 120 || fail "no disk-pattern check on the qdisk disk"
    guest_checks_passed "$con" disk-pattern || { grep -i qdisk "$dmlog" | tail; fail "the disk-pattern check on the qdisk disk failed"; }
    grep -q "HVMD-CHECK disk-pattern PASS /dev/xvda" "$con" || fail "the pattern was not checked on /dev/xvda (blkfront)"
    grep -q "backend/qdisk/$d/51712: connected" "$dmlog" || fail "hvmd's qdisk did not log its connection to vbd 51712"
    wait_re "$con" "HVMD-CHECK disk-reopen" 60 || fail "no disk-reopen check"
    guest_checks_passed "$con" disk-reopen || { grep -i qdisk "$dmlog" | tail; fail "the qdisk disk did not come back with the pattern after xen-blkfront was unloaded and loaded"; }
    grep -q "backend/qdisk/$d/51712: the frontend closed without Closing" "$dmlog" || fail "hvmd did not see blkfront's unbind"
    [ "$(grep -c "backend/qdisk/$d/51712: connected" "$dmlog")" -ge 2 ] || fail "blkfront did not connect a second time"
fi
step guest-up
if [ $save = 1 ]; then
    # --- xl save / xl restore in the middle of the guest's qdisk I/O loop. The guest has PV
    # drivers: libxl asks it to suspend (control/shutdown = suspend); Linux freezes its tasks
    # (a task waiting for its disk I/O is frozen only once that I/O is done) and suspends
    # without quiescing blkfront, so requests can still be in hvmd's hands: hvmd's save
    # completes them, takes nothing more from the ring and says how many it found. On resume
    # blkfront connects to the new hvmd's qdisk and sends again every request it did not see
    # answered; the loop goes on, its check passes and the image holds the pattern.
    round() { save_io_round "$1"; }
    { wait_re "$con" "HVMD-SAVE-IO round 1" 60 && wait_save_io_round "$con" 10; } || { tail -5 "$con"; fail "the guest's save-io loop on the qdisk disk did not start"; }
    r0=$(round "$con")
    t=$(now)
    xl save kern /tmp/kern.save > /tmp/kern-save.log 2>&1 || { tail -20 /tmp/kern-save.log; tail -20 "$dmlog"; fail "xl save kern failed"; }
    metric save_s "$(elapsed "$t")" s
    line=$(grep -o "device state saved.*" "$dmlog" | tail -1)
    [ -n "$line" ] || { tail -20 "$dmlog"; fail "hvmd did not say it saved its device state"; }
    qsave=$(grep -o "backend/qdisk/$d/51712: at the save.*" "$dmlog" | tail -1)
    [ -n "$qsave" ] || { grep -i qdisk "$dmlog" | tail; fail "hvmd's qdisk said nothing at the save"; }
    info "hvmd: $line; $qsave (the guest was in round $r0 when xl save began)"
    set -- $qsave; metric qdisk_in_flight_at_save "$5"
    wait_gone kern 30 || fail "the saved domain is still there"
    clean_after "xl save"
    t=$(now)
    xl restore /tmp/kern.save > /tmp/kern-restore.log 2>&1 || { tail -20 /tmp/kern-restore.log; tail -20 "$dmlog"; fail "xl restore failed"; }
    metric restore_s "$(elapsed "$t")" s
    rm -f /tmp/kern.save
    d2=$(domid kern); pid2=$(dm_pid "$d2")
    [ -n "$d2" ] && [ -n "$pid2" ] && [ "$d2" != "$d" ] || fail "no restored domain kern with a device model"
    grep -q "device state loaded" "$dmlog" || { tail -20 "$dmlog"; fail "the restored hvmd did not load the device state"; }
    d=$d2; pid=$pid2
    # (the console anew: hvmd opens the pty anew, as QEMU)
    con=/tmp/kern-console-r.log
    xl console -t serial kern > "$con" 2>&1 &
    relay "$con" kern-r
    # a round that begins after the restore: the one in progress at the save finished
    # through the new hvmd
    wait_save_io_round "$con" 60 || { tail -20 "$dmlog"; xl dmesg | grep "(d$d)" | tail; fail "no I/O round on the console after the restore"; }
    grep -q "backend/qdisk/$d/51712: connected" "$dmlog" || fail "blkfront did not connect to the restored hvmd's qdisk"
    r1=$(round "$con")
    info "after the restore: round $r1 (xl save began in round $r0)"
    [ "$r1" -gt "$r0" ] || fail "the guest's loop started over (round $r1 after round $r0)"
    if [ -n "${KERNEL_MIGRATE:-}" ]; then
        # (hvmd-kernel-migrate, manual: its step took 23-48 s in the bed) xl migrate to this dom0 (-s "": the host
        # argument is the receiver's command)
        step saved-restored
        wait_re "$con" "HVMD-SAVE-IO round $((r1 + 1))" 30 || fail "the restored guest's loop stalled at round $r1"
        r2=$(round "$con")
        t=$(now)
        xl migrate -s "" kern "xl migrate-receive" > /tmp/kern-migrate.log 2>&1 || { tail -20 /tmp/kern-migrate.log; tail -20 "$dmlog"; fail "xl migrate kern failed"; }
        metric migrate_s "$(elapsed "$t")" s
        # (the receiver's hvmd logs into qemu-dm-kern--incoming.log: xl names the domain so
        # until the sender's is gone)
        qsave=$(grep -h -o "backend/qdisk/$d/51712: at the save.*" /var/log/xen/qemu-dm-kern*.log* 2>/dev/null | tail -1)
        [ -n "$qsave" ] || fail "the sending hvmd's qdisk said nothing at the save"
        info "sending hvmd: $qsave (the migration began in round $r2)"
        set -- $qsave; metric qdisk_in_flight_at_migrate "$5"
        d2=$(domid kern); pid2=$(dm_pid "$d2")
        [ -n "$d2" ] && [ -n "$pid2" ] && [ "$d2" != "$d" ] || fail "after the migration no new domain kern (was $d)"
        within 40 gone "$pid" || fail "the sender's hvmd (pid $pid) still runs after the migration"
        d=$d2; pid=$pid2
        con=/tmp/kern-console-m.log
        xl console -t serial kern > "$con" 2>&1 &
        relay "$con" kern-m
        wait_save_io_round "$con" 60 || { tail -20 "$dmlog"; fail "no I/O round on the console after the migration"; }
        grep -qh "backend/qdisk/$d/51712: connected" /var/log/xen/qemu-dm-kern*.log* || fail "blkfront did not connect to the migrated-to hvmd's qdisk"
        r3=$(round "$con")
        info "after the migration: round $r3 (the migration began in round $r2)"
        [ "$r3" -gt "$r2" ] || fail "the guest's loop started over (round $r3 after round $r2)"
    fi
    # the loop's end: a line in the disk's second sector, which save-io reads after each round
    printf 'HVMD-SAVE-STOP\n' | dd of=/tmp/kern-qd.img bs=512 seek=1 conv=notrunc 2>/dev/null
    wait_re "$con" "HVMD-CHECK save-io" 60 || fail "the save-io loop did not end"
    guest_checks_passed "$con" save-io || { grep -i qdisk "$dmlog" | tail; fail "the guest's save-io check on the qdisk disk failed across the save and restore"; }
    pattern_on_image /tmp/kern-qd.img || fail "the guest's pattern is not in the qdisk image after the save-io loop"
    if [ -n "${KERNEL_MIGRATE:-}" ]; then step migrated; else step saved-restored; fi
fi
if [ $reboot = 1 ]; then
    # a reboot under stock xl (on_reboot = "restart", libxl's default): xl reboot asks the guest
    # (control/shutdown); Linux resets the machine (no reboot_cmd in the initramfs: kernel_restart),
    # which hvmd hands to Xen as the domain's reboot; xl destroys the domain (its hvmd goes) and
    # builds a new one with a new hvmd. The new blkfront connects to the new hvmd's qdisk and the
    # pattern check passes again, on the same image; this boot also powers off (its check line)
    wait_re "$con" HVMD-GUEST-DONE 60 || fail "the first boot did not finish its checks"
    printf 'HVMD-CHECKS: %s\n' "disk-pattern poweroff" | dd of=/tmp/kern-qd.img conv=notrunc 2>/dev/null
    t1=$(now)
    xl reboot kern || fail "xl reboot kern"
    d2=
    for (( i = 0; i < 240; i++ )); do
        d2=$(domid kern)
        [ -n "$d2" ] && [ "$d2" != "$d" ] && break
        sleep 0.5
    done
    [ -n "$d2" ] && [ "$d2" != "$d" ] || { { xl list; tail -40 /var/log/xen/xl-kern.log; ls -l /var/log/xen; tail -20 "$dmlog"; } 2>&1 | sed 's/^/== /'; fail "kern was not built again after its reboot (domid ${d2:-none})"; }
    within 120 xenstore-read "/local/domain/$d2/serial/0/tty" > /dev/null || fail "no serial tty for the rebuilt domain $d2"
    pid2=$(dm_pid "$d2")
    [ -n "$pid2" ] && [ "$pid2" != "$pid" ] || fail "the rebuilt domain $d2 has no new device model (${pid2:-none})"
    info "kern rebooted: domain $d -> $d2, $dm pid $pid -> $pid2"
    within 41 gone "$pid" || fail "the old domain's $dm (pid $pid) still runs after the reboot"
    con2=/tmp/kern-console2.log
    xl console -t serial kern > "$con2" 2>&1 &
    relay "$con2" kern2
    wait_re "$con2" HVMD-GUEST-UP 200 || fail "no HVMD-GUEST-UP from the rebuilt guest"
    metric reboot_to_marker_s "$(elapsed "$t1")" s
    wait_re "$con2" "HVMD-CHECK disk-pattern" 120 || fail "no disk-pattern check after the reboot"
    guest_checks_passed "$con2" disk-pattern || { grep -i qdisk "$dmlog" | tail; fail "the disk-pattern check on the qdisk disk failed after the reboot"; }
    grep -q "HVMD-CHECK disk-pattern PASS /dev/xvda" "$con2" || fail "after the reboot the pattern was not checked on /dev/xvda (blkfront)"
    grep -q "backend/qdisk/$d2/51712: connected" "$dmlog" || fail "the new hvmd's qdisk did not log its connection to domain $d2's vbd 51712"
    d=$d2; pid=$pid2; con=$con2
fi
step rebooted
wait_gone kern 115 || fail "the guest did not power off (ACPI S5 through $dm's PIIX4)"
# libxl sends the device model SIGHUP as it destroys the domain: time how long it lingers
g0=$(now); end=$(( $(secs) + 60 ))
while [ -d "/proc/$pid" ] && [ "$(secs)" -lt "$end" ]; do sleep 0.2; done
[ -d "/proc/$pid" ] && fail "$dm (pid $pid) still runs a minute after the guest powered off"
metric dm_gone_after_domain_s "$(elapsed "$g0")" s
if [ $extras = 1 ]; then
    pattern_on_image /tmp/kern-qd.img || fail "the guest's pattern is not in the qdisk image after power-off"
    rm -f /tmp/kern-qd.img
fi
clean_after power-off
[ "$dm" = hvmd ] && grep -E "requests served|fw_cfg|guest asks|xen-platform|unplug" "$dmlog" | sed 's/^/== /'
step poweroff

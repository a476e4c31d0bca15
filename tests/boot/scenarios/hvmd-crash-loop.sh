# SPDX-License-Identifier: GPL-2.0-only
# about: issue 16's SIGKILL figure: hvmd-iso-crash's check N times (dom0 command line hvmd.crash-trials=N, default 20), each on a new domain and a new zeroed image: a Linux guest under hvmd (direct kernel boot, its IDE disk served by hvmd: xen_emul_unplug=never) writes a pattern with O_DIRECT and fsync (FLUSH CACHE), reads it back, and hvmd is killed with SIGKILL; the host-side image holds every synced block, and xl destroy leaves nothing behind. Metrics: trials and lost (trials whose image lacks the synced pattern)
# option: manual = yes
# step: trials 3600
# step: end-of-trials 30
. /etc/hvmd-lib.sh
trials=20
for w in $(cat /proc/cmdline); do
    case $w in hvmd.crash-trials=*) trials=${w#*=} ;; esac
done
lost=0; t_all=$(now)
for (( i = 1; i <= trials; i++ )); do
    # a fresh image each time: a pattern found in it was written by this trial's guest
    rm -f /tmp/crash-disk.img
    check_disk /tmp/crash-disk.img 64 disk-pattern
    hvm_cfg crashloop hvmd 'disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/crash-disk.img" ]' \
        'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
        'cmdline = "console=ttyS0,115200 quiet xen_emul_unplug=never"' > /tmp/crashloop.cfg
    rm -f /tmp/crashloop-serial.log
    xl_start crashloop
    wait_re "$log" "HVMD-CHECK disk-pattern (PASS|FAIL)" 300 || { xl dmesg | grep "(d$d)" | tail; tail "$log"; fail "trial $i: the guest's disk-pattern check did not finish"; }
    guest_checks_passed "$log" disk-pattern || fail "trial $i: the in-guest disk-pattern check failed"
    grep -aq "HVMD-CHECK disk-pattern PASS /dev/sd" "$log" || fail "trial $i: the pattern was not written through the emulated IDE disk ($(grep -a 'HVMD-CHECK disk-pattern' "$log"))"
    kill -KILL "$pid" || fail "trial $i: kill -KILL $pid"
    within 11 gone "$pid" || fail "trial $i: hvmd (pid $pid) survived SIGKILL"
    if pattern_on_image /tmp/crash-disk.img; then r=kept; else r=LOST; lost=$((lost + 1)); fi
    xl destroy crashloop || fail "trial $i: xl destroy after the device model died"
    clean_after "trial $i's xl destroy"
    stop_relays
    info "trial $i: domain $d, hvmd pid $pid killed after the guest's fsync: synced pattern $r ($(elapsed "$t_all") s so far)"
done
step trials
metric crash_trials "$trials"
metric crash_lost "$lost"
rm -f /tmp/crash-disk.img
[ "$lost" = 0 ] || fail "$lost of $trials trials lost synced data after SIGKILL"
step end-of-trials

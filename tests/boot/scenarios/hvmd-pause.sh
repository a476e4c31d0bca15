# SPDX-License-Identifier: GPL-2.0-only
# about: xl pause, unpause and shutdown work on an HVM guest under hvmd: while paused the guest makes no progress and hvmd burns no CPU (no timer runs), after unpause it boots on to its marker, and xl shutdown (through the PV control node) powers it off leaving nothing behind
# step: dm-running 90
# step: paused 120
# step: unpaused 60
# step: guest-up 300
# step: shutdown 120
. /etc/hvmd-lib.sh
hvm_cfg pause hvmd 'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
    'cmdline = "console=ttyS0,115200"' > /tmp/pause.cfg
xl_start pause hvmd
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
size() { wc -c < "$log"; }
step dm-running
# pause in the middle of the kernel's boot, once it prints on the serial port
wait_re "$log" "Linux version" 115 || fail "the kernel did not start printing"
xl pause pause || fail "xl pause"
xl list pause | awk 'NR == 2 { print $5 }' | grep -q p || fail "xl list does not show the domain paused"
s1=$(size); c1=$(cpu); p0=$(now)
sleep 10
s2=$(size); c2=$(cpu)
[ "$s1" = "$s2" ] || fail "the guest printed while paused ($s1 -> $s2 bytes)"
metric paused_s "$(elapsed "$p0")" s
metric dm_cpu_ticks_while_paused $((c2 - c1)) ticks
[ $((c2 - c1)) -le 2 ] || fail "hvmd used $((c2 - c1)) ticks of CPU while the guest was paused"
step paused
xl unpause pause || fail "xl unpause"
xl list pause | awk 'NR == 2 { print $5 }' | grep -q p && fail "xl list still shows the domain paused"
step unpaused
wait_re "$log" HVMD-GUEST-UP 295 || fail "no HVMD-GUEST-UP after unpause"
[ "$(size)" -gt "$s2" ] || fail "no progress after unpause"
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
guest_done 60
xl shutdown -w pause || fail "xl shutdown"
within 11 gone "$pid" || fail "hvmd (pid $pid) still runs after the guest shut down"
clean_after "xl shutdown"
grep -E "QMP|guest asks|signal" "$dmlog" | sed 's/^/== /'
step shutdown

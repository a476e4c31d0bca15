# SPDX-License-Identifier: GPL-2.0-only
# about: the Linux ISO guest under hvmd writes a pattern to the emulated disk with O_DIRECT and fsync (FLUSH CACHE); hvmd is then killed with SIGKILL, and the host-side image holds every synced block
# step: dm-running 90
# step: guest-up 360
# step: synced 240
# step: killed 60
# step: host-image 90
# step: destroyed 60
. /etc/hvmd-lib.sh
# the guest writes the pattern, reads it back, and then waits (no poweroff)
check_disk /tmp/disk.img 64 disk-pattern
hvm_cfg crash hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' > /tmp/crash.cfg
xl_start crash hvmd
step dm-running
guest_up 350; step guest-up
# disk-pattern passes only after dd's fsync returned: the guest saw its writes and the flush
wait_re "$log" "HVMD-CHECK disk-pattern (PASS|FAIL)" 230 || fail "the guest's disk-pattern check did not finish"
guest_checks_passed "$log" disk-pattern || fail "in-guest disk-pattern check failed"
step synced
kill -KILL "$pid" || fail "kill -KILL $pid"
within 11 gone "$pid" || fail "hvmd (pid $pid) survived SIGKILL"
info "hvmd (pid $pid) killed"
step killed
pattern_on_image /tmp/disk.img || fail "the synced pattern is not in the host-side image after SIGKILL"
step host-image
xl destroy crash || fail "xl destroy after the device model died"
clean_after "xl destroy"
step destroyed

# SPDX-License-Identifier: GPL-2.0-only
# about: xl cd-eject and xl cd-insert (QMP eject, add-fd with SCM_RIGHTS, blockdev-change-medium) on hvmd's IDE CD-ROM while the Linux guest runs: the guest sees the medium go and the new one come, reads it, and its size is the new image's
# step: dm-running 90
# step: guest-up 360
# step: ejected 240
# step: gone 200
# step: inserted 60
# step: new-medium 280
# step: poweroff 120
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 16 cd-change poweroff
hvm_cfg cd hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' > /tmp/cd.cfg
new=/media/grub-rescue-cdrom.iso
xl_start cd hvmd
step dm-running
guest_up 350; step guest-up
wait_re "$log" "HVMD-CD-EJECT-NOW" 230 || fail "the guest could not read the CD-ROM"
# the guest opens the drive now and then (Linux locks it while open): retry a refused eject
ok=
for i in 1 2 3 4 5 6 7 8 9 10; do
    if xl cd-eject cd hdc; then ok=1; break; fi
    sleep 1
done
[ -n "$ok" ] || fail "xl cd-eject cd hdc failed ten times"
grep -q "tray opened" "$dmlog" || fail "hvmd did not open the tray"
step ejected
wait_re "$log" "HVMD-CD-GONE" 190 || fail "the guest did not see the medium go"
step gone
xl cd-insert cd hdc "$new" || fail "xl cd-insert cd hdc $new"
grep -q "new medium /dev/fdset/" "$dmlog" || fail "hvmd did not take the new medium from a descriptor set (add-fd)"
step inserted
want=$(dd if="$new" bs=2048 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
size=$(( $(stat -c %s "$new") / 2048 * 4 ))
wait_re "$log" "HVMD-CD-NEW md5=" 270 || fail "the guest did not read a new medium"
# the console may hand the line over in pieces: give the rest of it a moment before judging
wait_re "$log" "HVMD-CD-NEW md5=$want sectors512=$size" 10 || { grep "HVMD-CD-NEW" "$log"; fail "the guest read something other than $new (md5 $want, $size sectors)"; }
guest_done 60 cd-change; step new-medium
powers_off cd 110
clean_after poweroff
grep -E "tray|new medium|QMP" "$dmlog" | sed 's/^/== /'
step poweroff

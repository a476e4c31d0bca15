# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl boots the test ISO from the emulated CD-ROM of an HVM guest whose file names no device model and no display: hvmctl's default, hvmd (hvmctl says so), with hvmctl's default display, the standard VGA (-device VGA; SeaBIOS ran its VGA BIOS), the guest's serial port reaches hvmctl console, ata_piix sees disk and CD, hvmd offers libxl's default PV keyboard, hvmctl log shows the device model's log, cd-eject and cd-insert change the medium, hvmctl shutdown -w powers the guest off through its PV control interface and nothing is left (hvmctl-hvm-qemu: the same under qemu-xen)
# step: guest-up 360
# step: checks 240
# step: cd 120
# step: powered-off 120
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix
# the device model and display are hvmctl's choice
hvm_cfg iso default "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' > /tmp/iso.cfg
# paused, so that the console is attached before the first byte on the serial port
t0=$(now)
hvmctl create -p /tmp/iso.cfg > /tmp/create.out 2>&1 || { cat /tmp/create.out; hvmctl log iso; fail "hvmctl create /tmp/iso.cfg"; }
cat /tmp/create.out
dm=$(sed -n 's/^hvmctl: iso: device model //p' /tmp/create.out)
[ -n "$dm" ] || fail "hvmctl did not say which device model the HVM guest gets"
info "hvmctl says: device model $dm"
log=/tmp/iso-serial.log
hvmctl console iso > "$log" 2>&1 < /dev/null &
hvmctl unpause iso || fail "hvmctl unpause iso"
relay "$log" iso
d=$(domid iso); pid=$(dm_pid "$d"); exe=$(readlink "/proc/$pid/exe")
info "domain $d, device model pid $pid: $exe"
case $exe in
    */hvmd) metric dm_is_hvmd 1; case $dm in /*hvmd*) ;; *) fail "hvmctl said '$dm' but runs $exe" ;; esac ;;
    *qemu*) metric dm_is_hvmd 0; case $dm in qemu-xen*) ;; *) fail "hvmctl said '$dm' but runs $exe" ;; esac ;;
    *) fail "an unknown device model runs: $exe" ;;
esac
# hvmd is hvmctl's default; a variant that switched hvmctl.conf (hvmctl-hvm-qemu) says which one
# it must be
case ${HVMCTL_EXPECT_DM:-hvmd}:$exe in
    hvmd:*/hvmd|qemu-xen:*qemu*) ;;
    *) fail "expected device model ${HVMCTL_EXPECT_DM:-hvmd}, runs $exe" ;;
esac
# the file has no vga=: hvmctl's default display, the standard VGA, under either device model
cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline")
info "device model command line: $cmdline"
case $cmdline in
    *"-device VGA,"*|*"-device VGA "*) ;;
    *) fail "the device model was not asked for the standard VGA (-device VGA)" ;;
esac
hvmctl list
wait_re "$log" HVMD-GUEST-UP 350 || fail "no HVMD-GUEST-UP on the guest's serial port (hvmctl console)"
metric create_to_marker_s "$(elapsed "$t0")" s
# the device model's CPU to the marker (hvmd against qemu-xen: hvmctl-hvm against hvmctl-hvm-qemu)
metric dm_cpu_s "$(dm_cpu_s "$pid")" s
# ... which hvmd offers (backend InitWait; this guest boots with xen_emul_unplug=never, so its
# kernel loads no PV frontend and the device stays there)
case $exe in
    */hvmd) be_st=$(xenstore-read "/local/domain/0/backend/vkbd/$d/0/state" 2>/dev/null)
            info "vkbd 0: backend state ${be_st:-none}, frontend $(xenstore-read "/local/domain/$d/device/vkbd/0/state" 2>/dev/null)"
            case $be_st in 2|4) ;; *) fail "hvmd does not offer the default PV keyboard (backend state ${be_st:-none})" ;; esac ;;
esac
step guest-up
guest_done 230 ata-piix; step checks
# the device model's log, under its guest's name
hvmctl log iso > /tmp/dm.log || fail "hvmctl log iso"
info "device model log: $(wc -l < /tmp/dm.log) lines"
# hvmd's VGA: its video RAM, and SeaBIOS ran the VGA BIOS from its ROM BAR (whose debug port
# lines hvmd logs)
case $exe in
    */hvmd) grep -q 'vga: video RAM at 0x' /tmp/dm.log || fail "hvmd's log shows no VGA"
            grep -q 'debugcon: Start SeaVGABIOS' /tmp/dm.log || fail "the VGA BIOS did not run under hvmd" ;;
esac
# the CD-ROM: the kernel and initrd are in RAM by now, so the medium may come and go
be=$(xenstore-read "/local/domain/$d/device/vbd/5632/backend") || fail "no vbd 5632 (hdc) for iso"
info "hdc: $be = $(xenstore-read "$be/params")"
hvmctl cd-eject iso hdc || fail "hvmctl cd-eject iso hdc"
case $(xenstore-read "$be/params") in *linux.iso*) fail "hdc still holds linux.iso after cd-eject" ;; esac
hvmctl cd-insert iso hdc /media/grub-rescue-cdrom.iso || fail "hvmctl cd-insert iso hdc"
case $(xenstore-read "$be/params") in *grub-rescue-cdrom.iso*) ;; *) fail "hdc does not hold the new image: $(xenstore-read "$be/params")" ;; esac
hvmctl cd-insert iso hdc /media/no-such.iso 2> /tmp/err.out && fail "cd-insert of a missing file succeeded"
grep -q "no-such.iso: No such file" /tmp/err.out || fail "no message for a missing image"
step cd
# a clean poweroff, asked through the guest's PV control interface (xenbus of the platform device)
hvmctl shutdown -w --timeout 100 iso || fail "hvmctl shutdown -w iso"
grep -q "shut down (poweroff): destroy" /var/log/xen/hvmctl-iso.log || { cat /var/log/xen/hvmctl-iso.log; fail "the monitor did not log the poweroff"; }
clean_after "the poweroff"
step powered-off

# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, seen on the serial port through SeaBIOS's sercon
# step: dm-running 90
# step: booting-cd 120
# step: grub 540
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg grub hvmd 'memory = 128' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' > /tmp/grub.cfg
xl_start grub hvmd; step dm-running
sercon_text "Booting from DVD/CD" 115 create_to_cd_boot_s || fail "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "GNU GRUB +version" 290 create_to_grub_s || fail "no GRUB banner on the serial port"
sercon_text "Use the .* keys to select which entry" 240 || fail "no GRUB menu on the serial port"
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step grub
xl destroy grub || fail "xl destroy"
clean_after "xl destroy"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

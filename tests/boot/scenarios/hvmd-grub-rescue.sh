# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, seen on the serial port through SeaBIOS's sercon; with vnc=1, libxl learns hvmd's VNC port by QMP query-vnc, and a VNC client (libvncclient) in dom0 types a command at GRUB's prompt that runs
# step: dm-running 90
# step: booting-cd 120
# step: grub 540
# step: vnc-typed 150
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg grub hvmd 'memory = 128' 'vnc = 1' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' > /tmp/grub.cfg
xl_start grub hvmd; step dm-running
sercon_text "Booting from DVD/CD" 115 create_to_cd_boot_s || fail "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "GNU GRUB +version" 290 create_to_grub_s || fail "no GRUB banner on the serial port"
sercon_text "Use the .* keys to select which entry" 240 || fail "no GRUB menu on the serial port"
# VNC: the port libxl wrote (from query-vnc); a key through a VNC client stops GRUB's 30 s
# countdown, leaving the menu on the screen
vport=$(xenstore-read "/local/domain/$d/console/vnc-port") || fail "libxl wrote no console/vnc-port"
vlisten=$(xenstore-read "/local/domain/$d/console/vnc-listen")
info "VNC: libxl says $vlisten port $vport"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:Down || fail "the VNC client failed (Down)"
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step grub
# VNC: at GRUB's command line, typed through a VNC client: the command's output (not its echo)
# comes back on the serial port
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:c sleep:2000 'text:set v=OK; echo VNC-TYPED-$v' \
    key:Return sleep:1000 || fail "the VNC client failed (typing)"
sercon_text "VNC-TYPED-OK" 60 || fail "the command typed through VNC did not run (no VNC-TYPED-OK)"
grep -E "vnc: " "$dmlog" | sed 's/^/== /'
step vnc-typed
xl destroy grub || fail "xl destroy"
clean_after "xl destroy"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

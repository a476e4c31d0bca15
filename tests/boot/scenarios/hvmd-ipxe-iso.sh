# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched ipxe.iso boots from hvmd's IDE CD-ROM under stock xl and iPXE starts (its banner, then its attempt to boot with no NIC), seen on the serial port through SeaBIOS's sercon
# step: dm-running 90
# step: booting-cd 120
# step: ipxe 300
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg ipxe hvmd 'memory = 128' "$(cd_disks /media/ipxe.iso)" 'boot = "d"' > /tmp/ipxe.cfg
xl_start ipxe hvmd; step dm-running
sercon_text "Booting from DVD/CD" 115 create_to_cd_boot_s || fail "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "iPXE.*Open Source Network Boot Firmware" 290 create_to_ipxe_banner_s || fail "no iPXE banner on the serial port"
sercon_text "No more network devices|No bootable device|Nothing to boot" 200 create_to_ipxe_done_s ||
    fail "iPXE did not finish trying to boot"
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step ipxe
xl destroy ipxe || fail "xl destroy"
clean_after "xl destroy"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

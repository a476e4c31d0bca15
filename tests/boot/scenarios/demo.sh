# SPDX-License-Identifier: GPL-2.0-only
# about: make demo: an HVM guest boots the Linux ISO from the emulated CD-ROM on real Xen (nested in QEMU), its console shown live
# option: manual = yes
# step: guest-up 400
# step: guest-done 240
. /etc/hvmd-lib.sh
dm=${HVMD_DEMO_DM:-hvmd}
for w in $(cat /proc/cmdline); do case $w in hvmd.demo-dm=*) dm=${w#hvmd.demo-dm=} ;; esac; done
case $dm in
    hvmd) what="hvmd (/usr/lib/hvmd/hvmd, under stock xl)" ;;
    *) dm=qemu-xen; what="Debian's qemu-xen (the anchor, for comparison)" ;;
esac
info "dom0 is up: Xen 4.17, xl, xenstored; the device model for this guest is $what"
check_disk /tmp/disk.img 64 ata-piix disk-pattern
hvm_cfg demo "$dm" "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' > /tmp/demo.cfg
info "xl create: hvmloader and SeaBIOS lines appear as (d1) ..., the guest's serial console as <demo> ..."
info "after 'Booting from DVD/CD', isolinux loads the kernel and initrd from the CD: the slow part under nested TCG"
xl_start demo
wait_re "$log" HVMD-GUEST-UP 390 || fail "the guest did not reach its marker"
info "the guest reached its marker $(elapsed "$t0") s after xl create"
step guest-up
guest_done 230 ata-piix disk-pattern
info "in the guest: ata_piix found the disk and the CD-ROM; a pattern written to the disk read back"
xl destroy demo
step guest-done

# SPDX-License-Identifier: GPL-2.0-only
# about: the anchor: an HVM guest under Debian's qemu-xen (vga="stdvga") boots the Linux ISO from the emulated CD-ROM, ata_piix sees disk and CD, a pattern written to the emulated disk reads back and is in the host image after poweroff; the guest times its display writes (vga-speed)
# option: manual = yes
# (a make bench anchor, run by tests/bench/run; make check leaves it out for time: qemu-xen
# booting the ISO in the bed is in make check through hvmctl-hvm-qemu)
# step: guest-up 360
# step: checks 240
# step: poweroff 120
# step: host-image 30
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix vga-speed disk-pattern poweroff
# hvmd-iso's guest and xl.cfg (the standard VGA too, so that the pair compares like with like),
# under Debian's qemu-xen (whose log is not relayed)
hvm_cfg iso qemu-xen "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'vga = "stdvga"' > /tmp/iso.cfg
xl_start iso
info "domain $d, device model pid $pid"
guest_up 350
metric create_to_marker_s "$(elapsed "$t0")" s
# qemu-xen's figures at the marker, as hvmd-iso takes hvmd's
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step guest-up
guest_done 230 ata-piix vga-speed disk-pattern; step checks
vga_speed_metrics
powers_off iso 110; step poweroff
image_kept /tmp/disk.img
step host-image

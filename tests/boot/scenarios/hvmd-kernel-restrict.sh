# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-kernel under dm_restrict = 1: hvmd as uid 131072+domid in libxl's chroot with restricted Xen handles, and still its PV keyboard connects, the channel carries its line and the qdisk disk passes the guest's pattern check (PV backends through the xenstore broker; grants through hvmd's own gntdev handle, dm/RESTRICT.md), which qemu-xen under dm_restrict cannot serve
# option: manual = yes
# step: dm-running 90
# step: guest-up 300
# step: rebooted 30
# step: poweroff 120
KERNEL_RESTRICT=1
. "$(dirname "$0")/hvmd-kernel.sh"

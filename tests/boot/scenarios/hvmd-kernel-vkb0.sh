# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-kernel as it was before hvmd served PV backends: vkb_device = 0, no channel, no qdisk disk (the before figure for create_to_marker_s; without vkb_device = 0 and without a vkbd backend, Linux's xen-kbdfront holds the boot up to 30 s)
# option: manual = yes
# step: dm-running 90
# step: guest-up 300
# step: rebooted 30
# step: poweroff 120
KERNEL_VKB0=1
. "$(dirname "$0")/hvmd-kernel.sh"

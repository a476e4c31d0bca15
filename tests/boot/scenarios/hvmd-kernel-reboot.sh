# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-kernel's guest (qdisk disk, channel, default PV keyboard), then a reboot under stock xl with on_reboot = "restart": the guest's reset reaches Xen through hvmd, xl builds a new domain with a new hvmd, whose qdisk the new blkfront connects to and on which the pattern check passes again
# option: manual = yes
# step: dm-running 90
# step: guest-up 300
# step: rebooted 240
# step: poweroff 120
KERNEL_REBOOT=1
. "$(dirname "$0")/hvmd-kernel.sh"

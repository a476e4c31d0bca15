# SPDX-License-Identifier: GPL-2.0-only
# about: make profile BOOT=kernel's qemu-xen half: hvmd-kernel-profile's traced direct kernel boot under Debian's qemu-xen, hvmd-kernel-qemu's guest and xl.cfg (no device-model counters: the hypervisor's trace only)
# option: manual = yes
# (make profile BOOT=kernel runs it with hvmd-kernel-profile and prints the table; make check leaves it out)
# step: dm-running 90
# step: firmware 120
# step: loader 300
# step: kernel 300
# step: poweroff 120
PROFILE_BOOT=kernel PROFILE_DM=qemu-xen
. "$(dirname "$0")/hvmd-profile.sh"

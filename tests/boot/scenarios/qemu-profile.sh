# SPDX-License-Identifier: GPL-2.0-only
# about: make profile's qemu-xen half: hvmd-profile's traced ISO boot under Debian's qemu-xen (no device-model counters: the hypervisor's trace only)
# option: manual = yes
# (make profile runs it with hvmd-profile and prints the table; make check leaves it out)
# step: dm-running 90
# step: firmware 120
# step: loader 600
# step: kernel 300
# step: poweroff 120
PROFILE_DM=qemu-xen
. "$(dirname "$0")/hvmd-profile.sh"

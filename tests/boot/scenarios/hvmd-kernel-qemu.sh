# SPDX-License-Identifier: GPL-2.0-only
# about: the anchor for hvmd-kernel: the same guest and xl.cfg under Debian's qemu-xen (make bench pairs them)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 300
# step: rebooted 30
# step: poweroff 120
KERNEL_DM=qemu-xen
. "$(dirname "$0")/hvmd-kernel.sh"

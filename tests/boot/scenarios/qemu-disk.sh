# SPDX-License-Identifier: GPL-2.0-only
# about: the same disk throughput figures under Debian's qemu-xen (the anchor device model), for the hvmd-disk / qemu-disk pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 360
# step: measured 300
# step: poweroff 120
DISK_DM=qemu-xen
. "$(dirname "$0")/hvmd-disk.sh"

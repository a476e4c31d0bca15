# SPDX-License-Identifier: GPL-2.0-only
# about: the same port-access figures under Debian's qemu-xen (its 16550's scratch register against the floor in the same boot), for the hvmd-floor / qemu-floor pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 620
# step: measured 240
# step: poweroff 120
FLOOR_DM=qemu-xen
. "$(dirname "$0")/hvmd-floor.sh"

# SPDX-License-Identifier: GPL-2.0-only
# about: the same network figures under Debian's qemu-xen (the anchor device model), for the hvmd-netbench / qemu-netbench pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 900
# step: poweroff 120
NET_DM=qemu-xen
. "$(dirname "$0")/hvmd-netbench.sh"

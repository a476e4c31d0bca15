# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-netbench's network figures with model=e1000 (Linux's e1000 on hvmd's 82540EM), for the hvmd-netbench-e1000 / qemu-netbench-e1000 pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 900
# step: poweroff 120
NET_MODEL=e1000
. "$(dirname "$0")/hvmd-netbench.sh"

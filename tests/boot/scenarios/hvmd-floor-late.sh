# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-floor with the floor unmasking its port after the notify (hvmd's order) instead of before it: which order is the least a device model can cost in this bed (issue 20)
# option: manual = yes
# step: dm-running 90
# step: guest-up 620
# step: measured 240
# step: poweroff 120
FLOOR_UNMASK=late
. "$(dirname "$0")/hvmd-floor.sh"

# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-floor with another hvmd (make bed MAIN_HVMD=PATH: main's build) as the device model, for a before / after comparison of one port access in one bed
# option: manual = yes
# step: dm-running 90
# step: guest-up 620
# step: measured 240
# step: poweroff 120
FLOOR_DM_BIN=/usr/lib/hvmd/tests/hvmd-main
. "$(dirname "$0")/hvmd-floor.sh"

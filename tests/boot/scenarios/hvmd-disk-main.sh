# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-disk with another hvmd (make bed MAIN_HVMD=PATH: main's or an older build) as the device model, for a before / after comparison of the IDE disk figures in one bed
# option: manual = yes
# step: dm-running 90
# step: guest-up 360
# step: measured 300
# step: poweroff 120
DISK_DM_BIN=/usr/lib/hvmd/tests/hvmd-main
. "$(dirname "$0")/hvmd-disk.sh"

# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-idle-wakeups with another hvmd (make bed MAIN_HVMD=PATH: main's build) as the device model: its context switches, requests and CPU per second while the guest idles, for a before / after comparison in one bed (main's hvmd has no timer-wakeups counter)
# option: manual = yes
# step: bridge-up 60
# step: a-guest-up 360
# step: a-idle 120
# step: b-guest-up 360
# step: b-tablet 200
# step: b-idle 120
IDLE_DM_BIN=/usr/lib/hvmd/tests/hvmd-main
. "$(dirname "$0")/hvmd-idle-wakeups.sh"

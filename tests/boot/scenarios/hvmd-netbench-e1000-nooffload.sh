# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-netbench-e1000 with the tap's offloads turned off (HVMD_TAP_OFFLOAD=0 in hvmd's environment, through a wrapper as device_model_override): dom0 then segments and sums every frame and hvmd reads them one by one, as before dm/net_offload; the before figure in the same bed run
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 900
# step: poweroff 120
printf '#!/bin/sh\nHVMD_TAP_OFFLOAD=0 exec /usr/lib/hvmd/hvmd "$@"\n' > /tmp/hvmd-nooffload
chmod 755 /tmp/hvmd-nooffload
NET_DM_BIN=/tmp/hvmd-nooffload
NET_MODEL=e1000
. "$(dirname "$0")/hvmd-netbench.sh"
grep -aq "offloaded" "$dmlog" && fail "hvmd still offloaded the tap"
rm -f /tmp/hvmd-nooffload

# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-netbench with the rtl8139's held TxOK turned off (HVMD_RTL8139_TOK_HOLD=0 in hvmd's environment, through a wrapper as device_model_override): the before figure, in the same bed run, of whether holding C+ transmit completions slows the download (the guest's ACKs are transmits too)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 900
# step: poweroff 120
printf '#!/bin/sh\nHVMD_RTL8139_TOK_HOLD=0 exec /usr/lib/hvmd/hvmd "$@"\n' > /tmp/hvmd-nohold
chmod 755 /tmp/hvmd-nohold
NET_DM_BIN=/tmp/hvmd-nohold
. "$(dirname "$0")/hvmd-netbench.sh"
grep -aq "TxOK not held" "$dmlog" || fail "hvmd did not say its TxOK was not held"
rm -f /tmp/hvmd-nohold

# SPDX-License-Identifier: GPL-2.0-only
# about: the runner itself: an HVM guest whose ISO never prints the marker (GRUB rescue waits at its prompt) fails at its step timeout, and no QEMU is left
# expect: FAIL step 'guest-up' timed out
# step: guest-up 20
. /etc/hvmd-lib.sh
hvm_cfg silent default 'memory = 128' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' \
    'serial = "file:/tmp/silent-serial.log"' > /tmp/silent.cfg
xl create /tmp/silent.cfg || fail "xl create"
# Wait far longer than the step timeout: the runner, not this script, must end the scenario.
wait_re /tmp/silent-serial.log HVMD-GUEST-UP 100000
step guest-up

# SPDX-License-Identifier: GPL-2.0-only
# about: make profile BOOT=kernel's hvmd half (qemu-kernel-profile: the same under qemu-xen): hvmd-kernel's guest and xl.cfg (direct kernel boot through fw_cfg DMA, the make bench pair's) boots under xentrace, one trace per phase (firmware: xl create to SeaBIOS handing over to the kernel loader option ROM, "Booting from SEG:OFF" on Xen's console; loader: the ROM reading the kernel and initrd through fw_cfg DMA and Linux up to its first Xen upcall registration, "dNv0: upcall vector"; kernel: to HVMD-GUEST-UP), each summarised in dom0 by xenalyze and exported, with hvmd's own round-trip counters (QMP x-hvmd-io-stats) at each boundary; then xl destroy (the profile ends at the marker); metrics: each phase's wall time
# option: manual = yes
# (make profile BOOT=kernel runs it with qemu-kernel-profile and prints the table; make check leaves it out)
# step: dm-running 90
# step: firmware 120
# step: loader 300
# step: kernel 300
# step: poweroff 120
PROFILE_BOOT=kernel
. "$(dirname "$0")/hvmd-profile.sh"

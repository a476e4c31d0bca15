# SPDX-License-Identifier: GPL-2.0-only
# about: S3 under hvmd with stock xl, then everything of hvmd-xl-qmp: the guest suspends to RAM (PM1a_CNT SLP_TYP=1: CMOS 0x0F, HVM_PARAM_ACPI_S_STATE 3, QMP suspended) and xl trigger s3resume (system_wakeup) wakes it. Manual: the resume hangs in SeaBIOS after its broadcast SIPI (dm/QMP.md); also: xl list -l prints the configuration (query-cpus-fast), xl qemu-monitor-command answers, refused commands (usbctrl-attach, screendump) leave the guest running, xl save -c gets past configuration retrieval, xl vcpu-set hot-plugs a second vCPU that the guest onlines and offlines, and xl trigger s3resume wakes the guest from suspend to RAM
# option: manual = yes
# step: dm-running 90
# step: guest-up 300
# step: list-l 120
# step: monitor 120
# step: vcpu-set 360
# step: vcpu-online 240
# step: tablet 120
# step: s3-suspended 300
# step: s3-resumed 300
# step: refused 300
# step: destroy 120
XQ_S3=1
. "$(dirname "$0")/hvmd-xl-qmp.sh"

# SPDX-License-Identifier: GPL-2.0-only
# about: the hvmctl-hvm scenario with qemu-xen as hvmctl's default device model (/etc/hvmd/hvmctl.conf: device_model = "qemu-xen", the one line; hvmd is the default without it): the test ISO boots from qemu-xen's CD-ROM with hvmctl's default display (-device VGA), serial through hvmctl console, log, cd-eject/cd-insert, shutdown -w, nothing left
# step: guest-up 360
# step: checks 240
# step: cd 120
# step: powered-off 120
sed -i 's/^device_model = .*/device_model = "qemu-xen"/' /etc/hvmd/hvmctl.conf
grep -q '^device_model = "qemu-xen"' /etc/hvmd/hvmctl.conf && grep -q '^vga = "stdvga"' /etc/hvmd/hvmctl.conf ||
    { echo "@@HVMD-FAIL cannot switch hvmctl.conf to qemu-xen"; exit 1; }
HVMCTL_EXPECT_DM=qemu-xen
. /scenarios/hvmctl-hvm.sh

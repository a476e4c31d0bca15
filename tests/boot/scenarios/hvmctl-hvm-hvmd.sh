# SPDX-License-Identifier: GPL-2.0-only
# about: the hvmctl-hvm scenario with hvmd as hvmctl's default device model (/etc/hvmd/hvmctl.conf: device_model = "hvmd", the one line; hvmctl then asks for no VGA, which hvmd does not serve yet; the PV keyboard is libxl's default, which hvmd offers (this guest loads no PV frontend)): the test ISO boots from hvmd's CD-ROM, serial through hvmctl console, log, cd-eject/cd-insert, shutdown -w, nothing left
# step: guest-up 360
# step: checks 240
# step: cd 120
# step: powered-off 120
sed -i 's/^device_model = .*/device_model = "hvmd"/' /etc/hvmd/hvmctl.conf
grep -q '^device_model = "hvmd"' /etc/hvmd/hvmctl.conf && grep -q '^vga = "stdvga"' /etc/hvmd/hvmctl.conf ||
    { echo "@@HVMD-FAIL cannot switch hvmctl.conf to hvmd"; exit 1; }
HVMCTL_EXPECT_DM=hvmd
. /scenarios/hvmctl-hvm.sh

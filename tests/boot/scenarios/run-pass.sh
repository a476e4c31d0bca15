# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl run passes a PV guest (two ordered markers on its PV console, then its own poweroff) and an HVM guest booting the test ISO under hvmd, hvmctl's default device model (SeaBIOS on Xen's console, then isolinux and two markers on its emulated serial port; the VGA BIOS's debug-port lines in the device model's log; a login asked on tty0 only (a getty on the display) answered by --login-on screen from the prompts it reads on the text screen; --send types a line on the display keyboard that the guest reads from tty0; isolinux's banner and the typed line on hvmd's VGA text screen, the last screen as screen.png); exit 0, the JSON and JUnit files hold each step's time and parse on the host; nothing is left
# step: pv-pass 240
# step: hvm-pass 1000
# step: reports 30
. /etc/hvmd-lib.sh
pv_cfg runpv "quiet hvmd.checks=poweroff" > /tmp/runpv.cfg
hvmctl_run /tmp/pv.out /tmp/runpv.cfg --step-timeout 170 --expect 'pv:^HVMD-GUEST-UP kernel' \
    --expect 'pv:^HVMD-GUEST-DONE$' --wait-poweroff --artifacts /tmp/art \
    --json /tmp/pv.json --junit /tmp/pv.xml
[ "$RC" = 0 ] || fail "hvmctl run of the PV guest exited with $RC, not 0: $(tail -1 /tmp/pv.out)"
tail -1 /tmp/pv.out | grep -q '^PASS runpv (domain [0-9]*): 3 steps in ' || fail "summary line: $(tail -1 /tmp/pv.out)"
grep -q '"verdict": "pass"' /tmp/pv.json || fail "pv.json has no pass verdict"
[ "$(grep -c '"status": "pass", "at_s": ' /tmp/pv.json)" = 3 ] || fail "pv.json: not 3 timed steps"
[ "$(grep -c '<testcase ' /tmp/pv.xml)" = 5 ] || fail "pv.xml: not 5 test cases (create, 3 steps, teardown)"
grep -qE '<failure|<error|<skipped' /tmp/pv.xml && fail "pv.xml reports a problem"
# the artifacts: the PV console with timestamps, the merged log
grep -qE '^\[ *[0-9]+\.[0-9]{3}\] HVMD-GUEST-UP kernel' /tmp/art/runpv/pv.log || fail "no timestamped marker in pv.log"
grep -q '| HVMD-GUEST-DONE' /tmp/art/runpv/console.log || fail "console.log lacks the marker"
metric pv_marker_s "$(grep -o '"step": 1, [^}]*' /tmp/pv.json | grep -o '"at_s": [0-9.]*' | awk '{print $2}')" s
metric pv_run_s "$(json_num /tmp/pv.json duration_s)" s
metric pv_teardown_s "$(grep -o '"teardown": {"ok": true, "s": [0-9.]*' /tmp/pv.json | awk '{print $NF}')" s
nothing_left || fail "hvmctl run left something behind (PV)"
step pv-pass

# HVM: the ISO from the CD-ROM under hvmctl's default device model (hvmd) and display (its
# standard VGA), serial on a pty. SeaBIOS writes its debug output to Xen's port 0xe9 under hvmd
# as under qemu-xen (Xen's console: the xen source); the VGA BIOS writes to port 0x402, which
# hvmd logs ("guest: debugcon: ...", the dm source).
# The guest's typed check asks for a line on its VGA console (tty0) with HVMD-TYPE-NOW: hvmctl
# run --send types it on the display keyboard (hvmd's sendkey into the i8042).
# Before it, the screen-login check asks for a login on tty0 only (a getty on the display):
# --login-on screen reads its prompts from the text screen and types the answers.
check_disk /tmp/runhvm-checks.img 1 screen-login typed
hvm_cfg runhvm default "$(cd_disks /media/linux.iso /tmp/runhvm-checks.img)" 'boot = "d"' 'serial = "pty"' > /tmp/runhvm.cfg
# (generous timeouts: on a loaded 2-core machine this boot has taken 6 minutes under qemu-xen)
hvmctl_run /tmp/hvm.out /tmp/runhvm.cfg --timeout 900 --step-timeout 120 \
    --expect 'xen:^SeaBIOS \(version' --step-timeout 300 --expect 'serial:^ISOLINUX' \
    --step-timeout 600 --expect 'serial:^HVMD-GUEST-UP kernel' \
    --login root:s3cret --login-on screen --step-timeout 150 --expect 'screen:^HVMD-SCREEN-LOGIN root ok$' \
    --send 'serial:^HVMD-TYPE-NOW' 'echo hvmd-typed_OK! \\\n' \
    --step-timeout 150 --expect 'serial:^HVMD-TYPED echo hvmd-typed_OK! \\$' \
    --step-timeout 200 --expect 'serial:^HVMD-GUEST-DONE$' --artifacts /tmp/art \
    --json /tmp/hvm.json --junit /tmp/hvm.xml
[ "$RC" = 0 ] || fail "hvmctl run of the HVM guest exited with $RC, not 0: $(tail -1 /tmp/hvm.out)"
grep -q '"verdict": "pass"' /tmp/hvm.json || fail "hvm.json has no pass verdict"
grep -q '"device_model": "/usr/lib/hvmd/hvmd (' /tmp/hvm.json || fail "hvm.json does not say hvmd"
[ "$(grep -c '"status": "pass", "at_s": ' /tmp/hvm.json)" = 6 ] || fail "hvm.json: not 6 timed steps"
grep -q "HVMD-CHECK screen-login PASS logged in as root on try 1" /tmp/art/runhvm/serial.log || fail "the guest's screen-login check did not pass on its first try"
grep -q '"screen": {"followed": true' /tmp/hvm.json || fail "hvm.json: the screen is not a followed source"
grep -q 'hvmdguest login: root$' /tmp/art/runhvm/screen.log || fail "screen.log lacks the answered login prompt"
! grep -q 's3cret' /tmp/art/runhvm/screen.log || fail "the password shows on the screen"
grep -q "HVMD-CHECK typed PASS" /tmp/art/runhvm/serial.log || fail "the guest's typed check did not pass"
grep -q '"source": "xen", "line": "SeaBIOS (version' /tmp/hvm.json || fail "step 1 did not come from Xen's console"
grep -q '"source": "serial", "line": "HVMD-GUEST-UP' /tmp/hvm.json || fail "step 3 did not come from the serial port"
[ -s /tmp/art/runhvm/dm.log ] || fail "the device model's log was not followed"
# hvmd's log, followed: the VGA BIOS it gave the guest ran (its debug port)
grep -q 'debugcon: Start SeaVGABIOS' /tmp/art/runhvm/dm.log || fail "dm.log: no VGA BIOS output from hvmd's debug port"
# the VGA text screen at the end: what SeaBIOS and isolinux drew on it
[ -s /tmp/art/runhvm/vga.txt ] || fail "no VGA text screen in the artifacts"
sed 's/^/<vga> /' /tmp/art/runhvm/vga.txt
grep -q 'ISOLINUX 6.04' /tmp/art/runhvm/vga.txt || fail "the VGA text screen lacks isolinux's banner"
grep -q '"vga": {"file": "vga.txt"' /tmp/hvm.json || fail "hvm.json does not name vga.txt"
# what --send typed, echoed by the guest's VT on the text screen (the text window is guest
# memory then), and the last screen as a PNG from the device model
grep -q 'echo hvmd-typed_OK! \\' /tmp/art/runhvm/vga.txt || fail "the typed line is not on the VGA text screen"
[ -s /tmp/art/runhvm/screen.png ] || fail "no screen.png in the artifacts"
head -c 8 /tmp/art/runhvm/screen.png | od -An -c | grep -q "P   N   G" || fail "screen.png is not a PNG"
export_binary /tmp/art/runhvm/screen.png run-pass-screen.png
metric hvm_marker_s "$(grep -o '"step": 3, [^}]*' /tmp/hvm.json | grep -o '"at_s": [0-9.]*' | awk '{print $2}')" s
metric hvm_run_s "$(json_num /tmp/hvm.json duration_s)" s
nothing_left || fail "hvmctl run left something behind (HVM)"
step hvm-pass

export_file /tmp/pv.json run-pass-pv.json
export_file /tmp/pv.xml run-pass-pv.xml
export_file /tmp/hvm.json run-pass-hvm.json
export_file /tmp/hvm.xml run-pass-hvm.xml
step reports

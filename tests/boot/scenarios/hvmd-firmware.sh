# SPDX-License-Identifier: GPL-2.0-only
# about: hvmloader and SeaBIOS run under hvmd (2 vCPUs, an event channel each) (their (dN) lines on Xen's console), SeaBIOS's console reaches hvmd's serial port through sercon and reports no bootable device, and xl destroy leaves no hvmd process and no device-model xenstore node behind
# step: dm-running 90
# step: hvmloader 60
# step: seabios 60
# step: no-boot-device 120
# step: destroyed 60
. /etc/hvmd-lib.sh
# no disk at all
hvm_cfg fw hvmd 'memory = 64' 'vcpus = 2' 'boot = "c"' > /tmp/fw.cfg
xl_start fw hvmd
info "domain $d, device model pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
[ "$(xenstore-read /local/domain/0/device-model/$d/state)" = running ] || fail "device-model state is not running"
grep -q "2 vCPU(s)" "$dmlog" || fail "hvmd did not serve both vCPUs"
metric create_to_dm_running_s "$(elapsed "$t0")" s
step dm-running
# Xen's console: hvmloader's and SeaBIOS's (dN) lines (guest_loglvl=all)
dmesg_has() { xl dmesg | grep -qE "$1"; }
end=$(( $(secs) + 55 ))
until dmesg_has "\\(d$d\\) HVM Loader"; do [ "$(secs)" -lt "$end" ] || fail "no hvmloader line on Xen's console"; sleep 0.5; done
step hvmloader
end=$(( $(secs) + 55 ))
until dmesg_has "\\(d$d\\) SeaBIOS \\(version"; do [ "$(secs)" -lt "$end" ] || fail "no SeaBIOS line on Xen's console"; sleep 0.5; done
xl dmesg | grep -E "\\(d$d\\) (Found QEMU fw_cfg|QEMU fw_cfg DMA|.*sercon|Searching bootorder|Scan for option roms)" | sed 's/^/== /'
step seabios
wait_re "$log" "No bootable device" 115 || { xl dmesg | grep "(d$d)" | tail -30; fail "SeaBIOS's console did not report 'No bootable device' on the serial port"; }
metric create_to_no_boot_device_s "$(elapsed "$t0")" s
dm_metrics "$pid"
grep -q "Press ESC" "$log" && fail "the boot menu prompt was shown (etc/show-boot-menu should be 0)"
step no-boot-device
xl destroy fw || fail "xl destroy"
within 11 gone "$pid" || fail "hvmd (pid $pid) still runs after xl destroy"
clean_after "xl destroy"
[ -e "/var/run/xen/qmp-libxl-$d" ] && fail "the QMP socket /var/run/xen/qmp-libxl-$d is left behind"
grep -E "requests served|signal" "$dmlog" | sed 's/^/== /'
step destroyed

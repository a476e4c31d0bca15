# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd's emulated NICs on dom0 taps under stock xl, a plain dom0 bridge with dnsmasq: the Linux ISO guest with a vif of model=e1000 (what Windows guests' files name) gets an address by DHCP through Linux's e1000 on hvmd's 82540EM, pings dom0 and moves 4 MiB each way over TCP (64 under make bench) with matching md5s; its tap is gone after poweroff, and a create that fails after hvmd made its tap leaves none; a guest with libxl's default NIC (no model: rtl8139) whose kernel unplugs the emulated NICs (xen_emul_unplug=nics) gets the same over its PV vif and hvmd logs the unplug. (The rtl8139 carries hvmctl-pxe's network boot and check.)
# step: bridge-up 60
# step: iso-up 360
# step: iso-net 600
# step: iso-off 120
# step: failed-create 90
# step: unplug 300
. /etc/hvmd-lib.sh
# --- a plain bridge under stock xl ---
plain_bridge
net_serve
step bridge-up

check_disk /tmp/disk.img 16 net poweroff
hvm_cfg netiso hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' \
    'vif = [ "mac=00:16:3e:00:09:01,model=e1000,bridge=xenbr0" ]' > /tmp/netiso.cfg
xl_start netiso hvmd
info "domain $d, hvmd $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-device e1000" || fail "libxl did not ask for an e1000"
grep -q "82540EM at 00:04.0" "$dmlog" || { cat "$dmlog"; fail "hvmd did not make the e1000"; }
[ -e "/sys/class/net/xenbr0/brif/vif$d.0-emu" ] || fail "vif$d.0-emu is not on xenbr0 ($(ls /sys/class/net/xenbr0/brif | tr '\n' ' '))"
guest_up 350; step iso-up
ev0=$(dm_events)
net_done 590
metric iso_net_ioreqs "$(( $(dm_events) - ev0 ))"
net_checked "$log" iso e1000
grep -a "e1000" "$log" | head -3 | sed 's/^/<guest> /'
step iso-net
powers_off netiso 110
grep -E "e1000|82540EM|net net0|requests served" "$dmlog" | sed 's/^/== /'
sleep 1
[ -z "$(taps)" ] || fail "taps left after poweroff: $(taps)"
clean_after poweroff
step iso-off

# a create that fails after hvmd made its tap: an option hvmd refuses, after the -netdev
hvm_cfg badnic hvmd "$(cd_disks /media/linux.iso)" 'vif = [ "bridge=xenbr0" ]' \
    'device_model_args_hvm = [ "-device", "no-such-device" ]' > /tmp/badnic.cfg
xl create /tmp/badnic.cfg >/tmp/badnic.out 2>&1 && fail "xl create with a device hvmd refuses succeeded"
grep -a "no-such-device" /var/log/xen/qemu-dm-badnic.log | head -2 | sed 's/^/== /'
grep -aq "tap vif" /var/log/xen/qemu-dm-badnic.log || info "(hvmd's log does not show the tap: $(tail -3 /var/log/xen/qemu-dm-badnic.log))"
wait_gone badnic 30 || xl destroy badnic 2>/dev/null
sleep 1
[ -z "$(taps)" ] || fail "taps left after a failed create: $(taps)"
clean_after "the failed create"
step failed-create
# unplug: a guest whose kernel unplugs the emulated NICs (xen_emul_unplug=nics, through the Xen
# platform device) reaches dom0 over its PV vif (dom0's netback) instead
hvm_cfg unplug hvmd 'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
    'cmdline = "console=ttyS0,115200 quiet xen_emul_unplug=nics hvmd.checks=net,poweroff"' \
    'vkb_device = 0' 'vif = [ "mac=00:16:3e:00:09:03,bridge=xenbr0" ]' > /tmp/unplug.cfg
net_serve
xl_start unplug hvmd
guest_up 300
net_done 590
grep -a "HVMD-CHECK net PASS" "$log" | grep -q "drv=vif " || fail "the guest did not use its PV vif"
grep -a "unplugs the emulated NIC" "$dmlog" | sed 's/^/== /'
grep -aq "unplugs the emulated NIC" "$dmlog" || fail "hvmd did not log the NIC's unplug"
net_checked "$log" unplug
powers_off unplug 110
sleep 1
[ -z "$(taps)" ] || fail "taps left after poweroff: $(taps)"
clean_after poweroff
step unplug
plain_bridge_down


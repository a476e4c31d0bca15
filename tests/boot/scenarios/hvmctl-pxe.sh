# SPDX-License-Identifier: GPL-2.0-only
# about: PXE served by an hvmctl NAT network (boot-dir, boot-file): an HVM guest under hvmd (created by stock xl on the network's bridge) with an empty disk, boot="n" and a vif that names no model (libxl's default rtl8139) boots the project's kernel and initrd through iPXE's rtl8139 ROM in hvmd's ROM BAR (DHCP and the boot script by TFTP from the network's dnsmasq, on that bridge only; the script fetches kernel and initrd over HTTP from dom0) to its marker, then runs the network check over the NAT network on Linux's 8139cp (DHCP, ping dom0, 4 MiB (64 under make bench) each way over TCP with matching md5s); the e1000 is hvmd-net's; no tap left, the network comes down
# step: nat-up 60
# step: pxe-up 600
# step: pxe-net 600
# step: pxe-off 120
. /etc/hvmd-lib.sh
# --- PXE from an hvmctl NAT network, the guest under hvmd with libxl's default NIC (rtl8139) ---
# The network's dnsmasq hands out the script by DHCP + TFTP (boot-dir, boot-file); the script
# fetches the kernel and initrd over HTTP from dom0, as iPXE deployments do (TFTP moves one
# block per round trip: the 11 MB took iPXE 130 s here; HTTP rides TCP's window)
pxe_network_up net,poweroff
net_serve
step nat-up

dd if=/dev/zero of=/tmp/empty.img bs=1M count=0 seek=16 2>/dev/null
hvm_cfg pxe hvmd 'disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/empty.img" ]' 'boot = "n"' \
    'vif = [ "mac=00:16:3e:00:09:02,bridge=nat0" ]' > /tmp/pxe.cfg
# created by stock xl on the network's bridge, with libxl's default NIC (hvmctl would give an
# unnamed vif an e1000; hvmctl-net creates its HVM guest under hvmd with hvmctl)
xl_start pxe hvmd
info "domain $d, hvmd $pid"
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-device rtl8139" || fail "libxl did not ask for an rtl8139"
[ -e "/sys/class/net/nat0/brif/vif$d.0-emu" ] || fail "vif$d.0-emu is not on nat0 ($(ls /sys/class/net/nat0/brif | tr '\n' ' '))"
wait_re "$log" HVMD-GUEST-UP 590 || { xl dmesg | grep "(d$d)" | tail -20; tail -20 "$dmlog"; grep -a tftp /run/hvmd/dnsmasq-nat0.log 2>/dev/null | tail; fail "the PXE guest did not come up"; }
metric pxe_create_to_marker_s "$(elapsed "$t0")" s
grep -a "DHCP\|TFTP\|sent /tmp/pxe" /run/hvmd/dnsmasq-nat0.log 2>/dev/null | tail -6 | sed 's/^/== dnsmasq /'
grep -aq "iPXE script from the network's boot-dir" "$log" || fail "iPXE did not run the boot script from the network's TFTP"
grep -aqE "http://10.0.100.1:8000/initrd.gz\.\.\..* ok" "$log" || fail "iPXE did not fetch the initrd over HTTP"
step pxe-up
net_done 590
net_checked "$log" pxe "8139cp|8139too"
step pxe-net
powers_off pxe 110
sleep 1
[ -z "$(taps)" ] || fail "taps left: $(taps)"
grep -E "rtl8139|requests served" "$dmlog" | sed 's/^/== /'
hvmctl network down || fail "hvmctl network down"
clean_after "the PXE guest"
step pxe-off

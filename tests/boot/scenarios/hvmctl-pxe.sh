# SPDX-License-Identifier: GPL-2.0-only
# about: PXE served by an hvmctl NAT network (boot-dir, boot-file): an HVM guest under hvmd (created by stock xl on the network's bridge) with an empty disk, boot="n" and model=rtl8139 boots the project's kernel and initrd through iPXE's ROM in hvmd's ROM BAR (DHCP + TFTP from the network's dnsmasq, on that bridge only) to its marker, then runs the network check over the NAT network (DHCP, ping dom0, 4 MiB (64 under make bench) each way over TCP with matching md5s); no tap left, the network comes down
# step: nat-up 60
# step: pxe-up 600
# step: pxe-net 600
# step: pxe-off 120
. /etc/hvmd-lib.sh
# MiB each way: the issue asks 64; on the shared bed (a round trip 5-15 times TESTBED's under
# load) the rtl8139 guest took 129 s for 64 MiB down and moved 35 MiB up in 400 s, so make
# check moves 4 (make bench, hvmd.bench=1: 64; hvmd-netbench moves 64)
NET_MB=${NET_MB:-4}; bench_run && NET_MB=64
taps() { ls /sys/class/net | grep -- '-emu$' | tr '\n' ' '; }
# the guest's checks done within SECS (else what dom0 saw of the network, and fail)
net_done() {
    wait_re "$log" HVMD-GUEST-DONE "$1" && { guest_done 5 net; return; }
    info "the guest's net check did not end: dom0's view"
    grep -E 'vif|xenbr0|nat0' /proc/net/dev | sed 's/^/== /'
    ls -la /tmp/up.bin 2>&1 | sed 's/^/== /'
    tail -15 "$dmlog" | sed 's/^/== /'
    guest_done 5 net
}
# dom0's side of the network check (images/guest/checks/net): a 64 MiB file behind httpd on
# port 8000, a listener on 5001 for the guest's 64 MiB
serve() {
    mkdir -p /tmp/www
    [ -f /tmp/www/down ] || dd if=/dev/urandom of=/tmp/www/down bs=1M count="$NET_MB" 2>/dev/null
    md5sum < /tmp/www/down > /tmp/www/down.md5
    echo "$NET_MB" > /tmp/www/up.mb
    [ -n "$(pids_of 'httpd -p 8000')" ] || busybox httpd -p 8000 -h /tmp/www || fail "httpd"
    rm -f /tmp/up.bin
    (sleep 100000 | busybox nc -l -p 5001 > /tmp/up.bin) &
}
# net_checked LOG LABEL: the guest's net check passed and dom0 got the md5 it sent
net_checked() {
    local line up got
    line=$(grep -a "HVMD-CHECK net PASS" "$1" | head -1)
    info "$2: ${line#*PASS }"
    up=$(echo "$line" | grep -o 'up_md5=[0-9a-f]*' | cut -d= -f2)
    within 60 no_process 'nc -l -p 5001' || fail "$2: dom0's listener is still waiting"
    got=$(md5sum < /tmp/up.bin | cut -d' ' -f1)
    [ -n "$up" ] && [ "$up" = "$got" ] || fail "$2: dom0 received md5 $got ($(wc -c < /tmp/up.bin) bytes), the guest sent $up"
    for k in down_s up_s; do
        s=$(echo "$line" | grep -o "$k=[0-9.]*" | cut -d= -f2)
        [ -n "$s" ] && metric "${2}_${k%_s}_MBps" "$(awk -v s="$s" -v m="$NET_MB" 'BEGIN { printf "%.2f", m / (s > 0 ? s : 0.1) }')" MB/s
    done
}

# --- PXE from an hvmctl NAT network, the guest under hvmd with model=rtl8139 ---
mkdir -p /tmp/pxe
cp /media/guest-vmlinuz /tmp/pxe/vmlinuz && cp /media/guest-initrd.gz /tmp/pxe/initrd.gz && chmod -R a+rX /tmp/pxe
cat > /tmp/pxe/boot.ipxe <<'IPXE'
#!ipxe
echo hvmd-net: iPXE script from the network's boot-dir
kernel vmlinuz console=ttyS0,115200 xen_emul_unplug=never quiet hvmd.checks=net,poweroff
initrd initrd.gz
boot
IPXE
cat > /etc/hvmd/network.conf <<CONF
[nat0]
mode = nat
subnet = 10.0.100.1/24
boot-dir = /tmp/pxe
boot-file = boot.ipxe
CONF
hvmctl network up || fail "hvmctl network up"
hvmctl network show | sed 's/^/    /'
[ -n "$(pids_of 'dnsmasq.*--tftp-root=/tmp/pxe')" ] || fail "the network's dnsmasq serves no TFTP"
serve
step nat-up

dd if=/dev/zero of=/tmp/empty.img bs=1M count=0 seek=16 2>/dev/null
hvm_cfg pxe hvmd 'disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/empty.img" ]' 'boot = "n"' \
    'vif = [ "mac=00:16:3e:00:09:02,model=rtl8139,bridge=nat0" ]' > /tmp/pxe.cfg
# created by stock xl on the network's bridge (hvmctl create of an HVM guest under hvmd failed
# in the bed once, unexplained: hvmctl-net keeps qemu-xen for now)
xl_start pxe hvmd
info "domain $d, hvmd $pid"
[ -e "/sys/class/net/nat0/brif/vif$d.0-emu" ] || fail "vif$d.0-emu is not on nat0 ($(ls /sys/class/net/nat0/brif | tr '\n' ' '))"
wait_re "$log" HVMD-GUEST-UP 590 || { xl dmesg | grep "(d$d)" | tail -20; tail -20 "$dmlog"; grep -a tftp /run/hvmd/dnsmasq-nat0.log 2>/dev/null | tail; fail "the PXE guest did not come up"; }
metric pxe_create_to_marker_s "$(elapsed "$t0")" s
grep -a "DHCP\|TFTP\|sent /tmp/pxe" /run/hvmd/dnsmasq-nat0.log 2>/dev/null | tail -6 | sed 's/^/== dnsmasq /'
step pxe-up
net_done 590
net_checked "$log" pxe
step pxe-net
powers_off pxe 110
sleep 1
[ -z "$(taps)" ] || fail "taps left: $(taps)"
grep -E "rtl8139|requests served" "$dmlog" | sed 's/^/== /'
hvmctl network down || fail "hvmctl network down"
clean_after "the PXE guest"
step pxe-off

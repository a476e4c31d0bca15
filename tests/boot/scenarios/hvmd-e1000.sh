# SPDX-License-Identifier: GPL-2.0-only
# about: the Linux ISO guest with a vif of model=e1000 under stock xl and hvmd: Linux's e1000 drives hvmd's 82540EM on a dom0 tap that xl's vif-bridge puts on a bridge; the guest gets an address by DHCP from dom0's dnsmasq, pings dom0, and moves 8 MiB (64 under make bench) each way over TCP (dom0's file down by HTTP, the same bytes back up by nc) with checksums that match dom0's
# step: dm-running 150
# step: guest-up 360
# step: net 900
# step: poweroff 120
. /etc/hvmd-lib.sh
# dom0's side: a bridge with an address, DHCP on it, a file to fetch and a receiver
ip link add xenbr0 type bridge || fail "cannot make the bridge"
ip addr add 10.0.0.1/24 dev xenbr0 && ip link set xenbr0 up || fail "cannot set up xenbr0"
# dnsmasq drops to nobody, whom the bed's dom0 does not know yet
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >> /etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >> /etc/group
dnsmasq --conf-file=/dev/null --port=0 --interface=xenbr0 --except-interface=lo --bind-interfaces \
    --dhcp-range=10.0.0.100,10.0.0.150,255.255.255.0,1h --dhcp-leasefile=/tmp/e1000.leases \
    --pid-file=/tmp/dnsmasq.pid --log-dhcp --log-facility=/tmp/dnsmasq.log ||
    fail "dnsmasq did not start"
mkdir -p /tmp/www
# MiB each way: 8 in make check (the upload runs at a doorbell round trip per frame: 64 MiB
# took 290-330 s on the loaded bed), 64 under make bench; bytes that tell their blocks apart
# (urandom takes a minute of dom0's TCG time here)
mb=8; bench_run && mb=64
i=0; while [ $i -lt 10 ]; do echo "HVMD-E1000 block $i"; cat /media/linux.iso; i=$((i+1)); done |
    head -c $((mb << 20)) > /tmp/www/to-guest
busybox httpd -p 8080 -h /tmp/www || fail "httpd did not start"
# (a background job's stdin is /dev/null: nc would half-close at once and the guest's nc stop)
(sleep 100000 | busybox nc -l -p 5001 > /tmp/from-guest) &
check_disk /tmp/disk.img 16 e1000-net poweroff
hvm_cfg e1000 hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'memory = 384' \
    'vif = [ "model=e1000,mac=00:16:3e:00:10:01,bridge=xenbr0" ]' > /tmp/e1000.cfg
xl_start e1000 hvmd
info "domain $d, device model pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
grep -q "82540EM at 00:04.0" "$dmlog" || { cat "$dmlog"; fail "hvmd did not make the e1000"; }
info "bridge ports: $(ls /sys/class/net/xenbr0/brif | tr '\n' ' ')"
[ -e "/sys/class/net/xenbr0/brif/vif$d.0-emu" ] || fail "vif$d.0-emu is not on xenbr0"
step dm-running
guest_up 350
dm_metrics "$pid" # at the marker: the guest powers off right after its check
step guest-up
wait_re "$log" "HVMD-GUEST-DONE" 880 || { tail -30 "$log" | sed 's/^/<serial-log> /'; cat /tmp/dnsmasq.log; fail "the network check did not finish"; }
line=$(grep -a "HVMD-CHECK e1000-net" "$log" | head -1)
info "$line"
grep -E "e1000|DHCPACK" /tmp/dnsmasq.log "$dmlog" | sed 's/^/== /' | tail -20
case $line in *" PASS "*) ;; *) fail "the guest's e1000 check failed: $line" ;; esac
field() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
want_rx=$(md5sum < /tmp/www/to-guest | cut -d' ' -f1)
[ "$(field rx_md5)" = "$want_rx" ] || fail "dom0 -> guest: the guest read $(field rx_bytes) bytes with md5 $(field rx_md5), dom0 sent $want_rx"
within 120 no_process 'nc -l -p 5001' || fail "dom0's receiver did not see the end of the upload"
got_tx=$(md5sum < /tmp/from-guest | cut -d' ' -f1)
[ "$(field tx_md5)" = "$got_tx" ] || fail "guest -> dom0: dom0 got $(wc -c < /tmp/from-guest) bytes with md5 $got_tx, the guest sent $(field tx_md5)"
[ "$got_tx" = "$want_rx" ] || fail "guest -> dom0: the bytes that came back differ from those sent"
[ "$(wc -c < /tmp/from-guest)" = $((mb << 20)) ] || fail "guest -> dom0: $(wc -c < /tmp/from-guest) bytes"
metric dhcp_s "$(field dhcp_s)" s
metric ping_rtt_ms "$(field rtt_ms)" ms
metric net_mib "$mb" MiB
metric rx_s "$(field rx_s)" s
metric tx_s "$(field tx_s)" s
step net
powers_off e1000 110
grep -E "e1000 nic|net net0" "$dmlog" | sed 's/^/== /'
kill "$(cat /tmp/dnsmasq.pid)" 2>/dev/null
for p in $(pids_of 'busybox httpd') $(pids_of '^sleep 100000'); do kill "$p"; done
ip link del xenbr0
clean_after poweroff
step poweroff

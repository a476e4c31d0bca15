# SPDX-License-Identifier: GPL-2.0-only
# about: network figures for make bench: the Linux ISO guest with model=rtl8139 on a plain dom0 bridge under stock xl (hvmd; NET_DM=qemu-xen: Debian's qemu-xen, the qemu-netbench half of the pair): DHCP, ping, 64 MiB each way over TCP (the guest check net), with the device model's round trips per MB and its CPU
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 400
# step: poweroff 120
. /etc/hvmd-lib.sh
dm=${NET_DM:-hvmd}
ip link add xenbr0 type bridge && ip addr add 10.9.0.1/24 dev xenbr0 && ip link set xenbr0 up ||
    fail "cannot make the bridge"
dnsmasq --conf-file=/dev/null --pid-file=/tmp/dnsmasq-br.pid --interface=xenbr0 --bind-interfaces \
    --except-interface=lo --dhcp-range=10.9.0.50,10.9.0.99,255.255.255.0,600 --port=0 \
    --dhcp-leasefile=/tmp/dnsmasq-br.leases || fail "dnsmasq on xenbr0"
mkdir -p /tmp/www
dd if=/dev/urandom of=/tmp/www/down bs=1M count=64 2>/dev/null
md5sum < /tmp/www/down > /tmp/www/down.md5
echo 64 > /tmp/www/up.mb
busybox httpd -p 8000 -h /tmp/www || fail "httpd"
(sleep 100000 | busybox nc -l -p 5001 > /tmp/up.bin) &
step bridge-up
check_disk /tmp/disk.img 16 net poweroff
hvm_cfg netbench "$dm" "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' \
    'vif = [ "mac=00:16:3e:00:09:05,model=rtl8139,bridge=xenbr0" ]' > /tmp/netbench.cfg
xl_start netbench
guest_up 350
step guest-up
ev0=$(dm_events); cpu0=$(dm_cpu_s "$pid"); t=$(now)
guest_done 390 net
ev=$(( $(dm_events) - ev0 ))
line=$(grep -a "HVMD-CHECK net PASS" "$log" | head -1)
info "${line#*PASS }"
within 60 no_process 'nc -l -p 5001' || fail "dom0's listener is still waiting"
up=$(echo "$line" | grep -o 'up_md5=[0-9a-f]*' | cut -d= -f2)
[ "$up" = "$(md5sum < /tmp/up.bin | cut -d' ' -f1)" ] || fail "dom0 received other bytes than the guest sent"
for k in down up; do
    s=$(echo "$line" | grep -o "${k}_s=[0-9.]*" | cut -d= -f2)
    metric "net_${k}_MBps" "$(awk -v s="$s" 'BEGIN { printf "%.2f", 64 / (s > 0 ? s : 0.1) }')" MB/s
done
metric net_ioreqs_per_MB "$(awk -v e="$ev" 'BEGIN { printf "%.0f", e / 128 }')"
metric net_dm_cpu_ms_per_MB "$(awk -v a="$cpu0" -v b="$(dm_cpu_s "$pid")" 'BEGIN { printf "%.1f", (b - a) * 1000 / 128 }')" ms
step measured
powers_off netbench 110
clean_after poweroff
step poweroff

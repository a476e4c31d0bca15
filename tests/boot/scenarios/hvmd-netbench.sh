# SPDX-License-Identifier: GPL-2.0-only
# about: network figures for make bench: the Linux ISO guest with model=rtl8139 (NET_MODEL=e1000: the e1000, hvmd-netbench-e1000) on a plain dom0 bridge under stock xl (hvmd; NET_DM=qemu-xen: Debian's qemu-xen, the qemu-netbench half of the pair): DHCP, ping, 64 MiB each way over TCP (the guest check net), with the device model's round trips per MB and its CPU
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 400
# step: poweroff 120
NET_MB=64
. /etc/hvmd-lib.sh
dm=${NET_DM:-hvmd}
model=${NET_MODEL:-rtl8139}
plain_bridge
net_serve
step bridge-up
check_disk /tmp/disk.img 16 net poweroff
hvm_cfg netbench "$dm" "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' \
    "vif = [ \"mac=00:16:3e:00:09:05,model=$model,bridge=xenbr0\" ]" > /tmp/netbench.cfg
xl_start netbench
guest_up 350
step guest-up
ev0=$(dm_events); cpu0=$(dm_cpu_s "$pid"); t=$(now)
guest_done 390 net
ev=$(( $(dm_events) - ev0 ))
net_checked "$log" net
metric net_ioreqs_per_MB "$(awk -v e="$ev" 'BEGIN { printf "%.0f", e / 128 }')"
metric net_dm_cpu_ms_per_MB "$(awk -v a="$cpu0" -v b="$(dm_cpu_s "$pid")" 'BEGIN { printf "%.1f", (b - a) * 1000 / 128 }')" ms
step measured
powers_off netbench 110
clean_after poweroff
step poweroff

# SPDX-License-Identifier: GPL-2.0-only
# about: network figures for make bench: the Linux ISO guest with model=rtl8139 (NET_MODEL=e1000: the e1000, hvmd-netbench-e1000) on a plain dom0 bridge under stock xl (hvmd; NET_DM=qemu-xen: Debian's qemu-xen, the qemu-netbench half of the pair): DHCP, ping, then in one boot 16 MiB down (dom0 to guest) three times and 1 MiB up three times over TCP (the guest check net; the medians and the slowest and fastest round), with the device model's round trips per MB and per frame, its CPU and all of dom0's per MB
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: bridge-up 60
# step: guest-up 360
# step: measured 900
# step: poweroff 120
# 8 MiB each way: the 8139cp's upload under hvmd before its TxOK change ran past the guest's
# 400 s timeout with 64, and with 16, on a loaded bed (about 0.05 MB/s)
# Session 9: each way sized apart and three rounds of each in one boot (downloads of 8 MiB
# lasted 2.5-11 s and moved 2x between beds); qemu-xen's rtl8139 uploads at ~0.03 MB/s, so
# the upload is small
NET_MB=${NET_MB:-8}
NET_DOWN_MB=${NET_DOWN_MB:-16}
NET_UP_MB=${NET_UP_MB:-1}
NET_ROUNDS=${NET_ROUNDS:-3}
NET_TIMEOUT=${NET_TIMEOUT:-600}
. /etc/hvmd-lib.sh
dm=${NET_DM:-hvmd}
model=${NET_MODEL:-rtl8139}
plain_bridge
net_serve
step bridge-up
check_disk /tmp/disk.img 16 net poweroff
hvm_cfg netbench "$dm" "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' \
    "vif = [ \"mac=00:16:3e:00:09:05,model=$model,bridge=xenbr0\" ]" > /tmp/netbench.cfg
# NET_DM_BIN: another hvmd binary in dom0 (a before / after comparison in one bed)
dm_bin /tmp/netbench.cfg "${NET_DM_BIN:-}"
xl_start netbench
guest_up 350
step guest-up
# the download and the upload apart: the guest says "down in" between them. Frames counted on
# dom0's side of the tap (its rx: the guest's frames, its tx: dom0's), the same for both models
tap=/sys/class/net/vif$d.0-emu/statistics
# dom0's CPU (all of it: the device model, the tap and bridge, httpd, nc), in ticks
dom0_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
ev0=$(dm_events); cpu0=$(dm_cpu_s "$pid"); k0=$(dom0_ticks); g0=$(cat $tap/rx_packets); h0=$(cat $tap/tx_packets); b0=$(cat $tap/tx_bytes)
wait_fast "$log" "HVMD-NET .*down in" 890 || info "no 'down in' from the guest"
ev1=$(dm_events); g1=$(cat $tap/rx_packets); h1=$(cat $tap/tx_packets); b1=$(cat $tap/tx_bytes); cpu1=$(dm_cpu_s "$pid"); k1=$(dom0_ticks)
# (counted when the upload ends: the guest powers off right after its checks, its tap goes)
wait_fast "$log" "HVMD-NET up in" 890 || info "no 'up in' from the guest"
ev2=$(dm_events); g2=$(cat $tap/rx_packets); h2=$(cat $tap/tx_packets); cpu2=$(dm_cpu_s "$pid"); k2=$(dom0_ticks)
guest_done 390 net
ev=$(( ev2 - ev0 ))
info "requests $ev0 $ev1 $ev2, the guest's frames $g0 $g1 $g2, dom0's $h0 $h1 $h2, dm CPU $cpu0 $cpu1 $cpu2 s, dom0 ticks $k0 $k1 $k2"
net_checked "$log" net
down_mb=$(( NET_DOWN_MB * NET_ROUNDS )) up_mb=$(( NET_UP_MB * NET_ROUNDS ))
metric net_down_ioreqs_per_MB "$(awk -v e="$(( ev1 - ev0 ))" -v m="$down_mb" 'BEGIN { printf "%.0f", e / m }')"
metric net_up_ioreqs_per_MB "$(awk -v e="$(( ev2 - ev1 ))" -v m="$up_mb" 'BEGIN { printf "%.0f", e / m }')"
# per frame dom0 sent while the guest downloaded, and per frame the guest sent while uploading,
# and how many of its frames dom0 answered with one
# dom0's frames down are counted as 1,514-byte frames of its bytes: through a tap with offloads
# (hvmd's) dom0 hands over TCP segments of several frames, which tx_packets counts once
df=$(( (b1 - b0) / 1514 ))
info "dom0's packets on the tap while the guest downloaded: $(( h1 - h0 )), as 1,514-byte frames: $df"
metric net_down_ioreqs_per_frame "$(awk -v e="$(( ev1 - ev0 ))" -v n="$df" 'BEGIN { printf "%.2f", e / (n ? n : 1) }')"
metric net_down_acks_per_frame "$(awk -v a="$(( g1 - g0 ))" -v n="$df" 'BEGIN { printf "%.2f", a / (n ? n : 1) }')"
metric net_up_ioreqs_per_frame "$(awk -v e="$(( ev2 - ev1 ))" -v n="$(( g2 - g1 ))" 'BEGIN { printf "%.2f", e / (n ? n : 1) }')"
metric net_up_bytes_per_frame "$(awk -v n="$(( g2 - g1 ))" -v m="$up_mb" 'BEGIN { printf "%.0f", m * 1048576 / (n ? n : 1) }')" B
metric net_up_frames_per_ack "$(awk -v n="$(( g2 - g1 ))" -v a="$(( h2 - h1 ))" 'BEGIN { printf "%.2f", n / (a ? a : 1) }')"
metric net_ioreqs_per_MB "$(awk -v e="$ev" -v m="$(( down_mb + up_mb ))" 'BEGIN { printf "%.0f", e / m }')"
metric net_dm_cpu_ms_per_MB "$(awk -v m="$(( down_mb + up_mb ))" -v a="$cpu0" -v b="$cpu2" 'BEGIN { printf "%.1f", (b - a) * 1000 / m }')" ms
metric net_down_dm_cpu_ms_per_MB "$(awk -v m="$down_mb" -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", (b - a) * 1000 / m }')" ms
metric net_up_dm_cpu_ms_per_MB "$(awk -v m="$up_mb" -v a="$cpu1" -v b="$cpu2" 'BEGIN { printf "%.1f", (b - a) * 1000 / m }')" ms
metric net_down_dom0_cpu_ms_per_MB "$(awk -v m="$down_mb" -v a="$k0" -v b="$k1" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / m }')" ms
metric net_up_dom0_cpu_ms_per_MB "$(awk -v m="$up_mb" -v a="$k1" -v b="$k2" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 1000 / hz / m }')" ms
step measured
powers_off netbench 110
# hvmd's own counts (its exit log): requests per register, frames
grep -aE "rtl8139|e1000|82540EM|requests served|mmio.*reads" "$dmlog" 2>/dev/null | tail -40 | sed 's/^/== /'
clean_after poweroff
plain_bridge_down
step poweroff

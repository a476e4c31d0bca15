# SPDX-License-Identifier: GPL-2.0-only
# about: issue 13's display figures on the Linux ISO under hvmd (vga="stdvga", vnc=1): the guest times 1,000 writes to the text buffer at 0xb8000 and a 1024x768x32 framebuffer fill (vga-speed, paired with baseline-qemu-iso in make bench); the text window is guest memory then, and a line the guest writes to tty0 is read back through the monitor; at an idle text screen (a Linux guest that polls nothing), hvmd's CPU over 10 s with no client and with a VNC client watching, and its resident memory with that client beside the video RAM it maps; then the bochs DRM driver takes the VGA out of text mode (the text window's pages move out)
# option: manual = yes
# (figure-taking for make bench; make check proves the behaviour in hvmd-iso and hvmd-grub-rescue)
# step: guest-up 360
# step: idle 240
# step: checks 240
# step: poweroff 120
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 vga-speed idle-screen bochs-drm poweroff
hvm_cfg disp hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'vga = "stdvga"' 'vnc = 1' > /tmp/disp.cfg
xl_start disp hvmd
guest_up 350
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
wait_re "$log" "HVMD-IDLE-NOW|HVMD-CHECK idle-screen FAIL" 200 || fail "the guest's idle-screen check did not start"
grep -q "HVMD-CHECK idle-screen FAIL" "$log" && { grep "idle-screen" "$log"; fail "idle-screen failed"; }
sleep 2
# the line the guest wrote to tty0, read back from the text window (guest memory now)
vga_text disp /tmp/disp-screen.txt || fail "xp 0xb8000 failed"
sed 's/^/== screen: /' /tmp/disp-screen.txt | head -5
grep -q "HVMD idle screen on tty0" /tmp/disp-screen.txt || fail "the guest's tty0 line is not on the VGA text screen"
export_file /tmp/disp-screen.txt
# hvmd's CPU (ns on the CPU, /proc/PID/schedstat) over 10 s with no client, then over 10 s
# with a VNC client connected and watching (it asks for incremental updates all along)
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
vport=$(xenstore-read "/local/domain/$d/console/vnc-port") || fail "libxl wrote no console/vnc-port"
vlisten=$(xenstore-read "/local/domain/$d/console/vnc-listen")
ns0=$(run_ns "$pid"); sleep 10; ns1=$(run_ns "$pid")
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" sleep:13000 >/dev/null & vpid=$!
sleep 2; ns2=$(run_ns "$pid"); sleep 10; ns3=$(run_ns "$pid")
# memory with that client: VmRSS / VmHWM, and the part of them that is the guest's pages
# hvmd maps (video RAM, the text window, ioreq pages: /dev/xen/privcmd mappings)
set -- $(dm_mem_kb "$pid"); rss=$1; hwm=$2
mapped=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { p = ($0 ~ /privcmd/) } p && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$pid/smaps")
wait "$vpid" || fail "the watching VNC client failed"
grep -q "HVMD-IDLE-END" "$log" && fail "the guest's idle time ended before the measurement did"
metric dm_cpu_ms_per_s_idle_text_no_client "$(awk -v a="$ns0" -v b="$ns1" 'BEGIN { printf "%.3f", (b - a) / 10e6 }')" ms/s
metric dm_cpu_ms_per_s_idle_text_vnc_watching "$(awk -v a="$ns2" -v b="$ns3" 'BEGIN { printf "%.3f", (b - a) / 10e6 }')" ms/s
metric dm_rss_vnc_client_kb "$rss" kB
metric dm_hwm_vnc_client_kb "$hwm" kB
metric dm_guest_pages_mapped_kb "$mapped" kB
metric dm_rss_beyond_guest_pages_kb "$((rss - mapped))" kB
grep -E "vnc: |vga" "$dmlog" | sed 's/^/== /'
screendump disp /tmp/disp-screen.png png && export_binary /tmp/disp-screen.png
step idle
guest_done 230 vga-speed idle-screen bochs-drm; step checks
vga_speed_metrics
powers_off disp 110; step poweroff
grep -E "requests served|vga" "$dmlog" | sed 's/^/== /'

# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, seen on the serial port through SeaBIOS's sercon; with vnc=1, libxl learns hvmd's VNC port by QMP query-vnc, and a VNC client (libvncclient) in dom0 types a command at GRUB's prompt that runs
# step: dm-running 90
# step: booting-cd 120
# step: grub 540
# step: vnc-typed 600
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg grub hvmd 'memory = 128' 'vnc = 1' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' > /tmp/grub.cfg
xl_start grub hvmd; step dm-running
sercon_text "Booting from DVD/CD" 115 create_to_cd_boot_s || fail "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "GNU GRUB +version" 290 create_to_grub_s || fail "no GRUB banner on the serial port"
sercon_text "Use the .* keys to select which entry" 240 || fail "no GRUB menu on the serial port"
# VNC: the port libxl wrote (from query-vnc); once GRUB has drawn its menu and counts down
# (sercon draws slowly: keys sent before GRUB reads them overflow the BIOS's 15-key buffer), a
# key through a VNC client stops the 30 s countdown, leaving the menu on the screen
sercon_text "executed automatically in" 120 || fail "no GRUB countdown on the serial port"
vport=$(xenstore-read "/local/domain/$d/console/vnc-port") || fail "libxl wrote no console/vnc-port"
vlisten=$(xenstore-read "/local/domain/$d/console/vnc-listen")
info "VNC: libxl says $vlisten port $vport"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:Down || fail "the VNC client failed (Down)"
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step grub
# VNC: at GRUB's command line, typed through a VNC client: the command's output (VNCOK, which is
# not what was typed: echo VNC$v) comes back on the serial port
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:c || fail "the VNC client failed (c)"
# GRUB draws through sercon slowly and the BIOS keeps 15 keys: one short line at a time, each
# once GRUB shows its prompt
prompts() { sed "s/$(printf '\033')\[[0-9;?]*[A-Za-z]//g" "$log" | grep -o "grub>" | wc -l; }
wait_prompts() { local i; for (( i = 0; i < $2 * 2; i++ )); do [ "$(prompts)" -ge "$1" ] && return 0; sleep 0.5; done; return 1; }
wait_prompts 1 240 || fail "no GRUB prompt after c typed through VNC"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" 'text:set v=OK' key:Return || fail "the VNC client failed (set)"
wait_prompts 2 240 || fail "no second GRUB prompt after a line typed through VNC"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" 'text:echo VNC$v' key:Return || fail "the VNC client failed (echo)"
sercon_text "VNCOK" 240 || fail "the command typed through VNC did not run (no VNCOK)"
# figures: hvmd's CPU (ns on the CPU, /proc/PID/schedstat) over 5 s at GRUB's idle prompt with
# no client, then over 5 s with a VNC client watching; its memory with that client connected
run_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }
ns0=$(run_ns "$pid"); sleep 5; ns1=$(run_ns "$pid")
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" sleep:7000 >/dev/null & vpid=$!
sleep 1; ns2=$(run_ns "$pid"); sleep 5; ns3=$(run_ns "$pid")
set -- $(dm_mem_kb "$pid"); metric vnc_client_rss_kb "$1" kB
wait "$vpid" || fail "the watching VNC client failed"
metric dm_cpu_ms_per_s_no_client "$(awk -v a="$ns0" -v b="$ns1" 'BEGIN { printf "%.3f", (b - a) / 5e6 }')" ms/s
metric dm_cpu_ms_per_s_vnc_watching "$(awk -v a="$ns2" -v b="$ns3" 'BEGIN { printf "%.3f", (b - a) / 5e6 }')" ms/s
grep -E "vnc: " "$dmlog" | sed 's/^/== /'
step vnc-typed
xl destroy grub || fail "xl destroy"
clean_after "xl destroy"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

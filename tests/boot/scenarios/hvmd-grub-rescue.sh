# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, with libxl's default display (no vga line: -device cirrus-vga, served by hvmd's standard VGA, said in its log): seen on the serial port through SeaBIOS's sercon (split mode beside the VGA BIOS), read back from the VGA text screen with xl qemu-monitor-command "xp 0xb8000", and in a screendump (PPM checked in dom0, PNG exported); with vnc=1, libxl learns hvmd's VNC port by QMP query-vnc, and a VNC client (libvncclient) in dom0 stops GRUB's countdown and types a command at GRUB's prompt that runs
# step: dm-running 90
# step: booting-cd 240
# step: grub 540
# step: screen 120
# step: vnc-typed 600
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg grub hvmd 'memory = 128' 'vga = ' 'vnc = 1' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' > /tmp/grub.cfg
# stop: the guest is destroyed and hvmd's request counts shown, then the scenario fails with $1
stop() { xl destroy grub; sleep 2; grep -A40 "requests served" "$dmlog" | sed 's/^/== /'; fail "$1"; }
xl_start grub hvmd; step dm-running
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-device cirrus-vga" || fail "libxl did not ask for cirrus-vga (its default)"
grep -q "hvmd serves the standard VGA .* for a Cirrus request" "$dmlog" || fail "hvmd's log does not say it serves the standard VGA for cirrus-vga"
sercon_text "Booting from DVD/CD" 235 create_to_cd_boot_s || stop "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "GNU GRUB +version" 290 create_to_grub_s || stop "no GRUB banner on the serial port"
sercon_text "Use the .* keys to select which entry" 240 || stop "no GRUB menu on the serial port"
# VNC: the port libxl wrote (from query-vnc); once GRUB has drawn its menu and counts down
# (sercon draws slowly: keys sent before GRUB reads them overflow the BIOS's 15-key buffer), a
# key through a VNC client stops the 30 s countdown, leaving the menu on the screen
sercon_text "executed automatically in" 120 || stop "no GRUB countdown on the serial port"
vport=$(xenstore-read "/local/domain/$d/console/vnc-port") || fail "libxl wrote no console/vnc-port"
vlisten=$(xenstore-read "/local/domain/$d/console/vnc-listen")
info "VNC: libxl says $vlisten port $vport"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:Down || fail "the VNC client failed (Down)"
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step grub
# the same menu on the VGA text screen, through the monitor (as xl users read it)
ok=
for i in 1 2 3 4 5 6 7 8 9 10; do
    vga_text grub /tmp/grub-screen.txt || fail "xp 0xb8000 failed"
    grep -q "GNU GRUB" /tmp/grub-screen.txt && grep -q "Use the .* keys to select" /tmp/grub-screen.txt && { ok=1; break; }
    sleep 2
done
sed 's/^/== screen: /' /tmp/grub-screen.txt
export_file /tmp/grub-screen.txt
[ -n "$ok" ] || fail "GRUB's menu is not on the VGA text screen (0xb8000)"
screendump grub /tmp/grub-screen.ppm ppm || fail "screendump (PPM) failed"
hdr=$(head -c 15 /tmp/grub-screen.ppm | tr '\n' ' ')
info "screendump PPM: $hdr, $(wc -c < /tmp/grub-screen.ppm) bytes"
[ "$hdr" = "P6 720 400 255 " ] || fail "the screendump is not a 720x400 PPM of the text screen: '$hdr'"
lit=$(tail -c +16 /tmp/grub-screen.ppm | tr -d '\000' | wc -c)
metric screendump_lit_bytes "$lit"
[ "$lit" -gt 5000 ] || fail "the screendump is (nearly) black: $lit bytes not zero"
screendump grub /tmp/grub-screen.png png || fail "screendump (PNG) failed"
head -c 8 /tmp/grub-screen.png | od -An -c | grep -q "P   N   G" || fail "the PNG screendump has no PNG signature"
export_binary /tmp/grub-screen.png
step screen
# VNC: at GRUB's command line, typed through a VNC client: the command's output (VNCOK, which is
# not what was typed: echo VNC$v) comes back on the serial port
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" key:c || fail "the VNC client failed (c)"
# GRUB draws through sercon slowly and the BIOS keeps 15 keys: one short line at a time, each
# once GRUB shows its prompt
# GRUB's prompts: on the serial port (sercon), or on the VGA text screen, whichever shows more
# (with the VGA, sercon mirrors GRUB's output and a prompt line without its newline may not
# reach the serial log yet)
prompts() {
    local a b
    a=$(sed "s/$(printf '\033')\[[0-9;?]*[A-Za-z]//g" "$log" | grep -o "grub>" | wc -l)
    b=0; vga_text grub /tmp/grub-prompt.txt 2>/dev/null && b=$(grep -o "grub>" /tmp/grub-prompt.txt | wc -l)
    [ "$a" -ge "$b" ] && echo "$a" || echo "$b"
}
wait_prompts() { local i; for (( i = 0; i < $2; i += 2 )); do [ "$(prompts)" -ge "$1" ] && return 0; sleep 2; done; return 1; }
wait_prompts 1 240 || fail "no GRUB prompt after c typed through VNC"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" 'text:set v=OK' key:Return || fail "the VNC client failed (set)"
wait_prompts 2 240 || fail "no second GRUB prompt after a line typed through VNC"
/usr/lib/hvmd/tests/vnctype "$vlisten:$vport" 'text:echo VNC$v' key:Return || fail "the VNC client failed (echo)"
vncok() { grep -q "VNCOK" "$log" || { vga_text grub /tmp/grub-ok.txt 2>/dev/null && grep -q "^VNCOK" /tmp/grub-ok.txt; }; }
within 240 vncok || fail "the command typed through VNC did not run (no VNCOK on the serial port or the screen)"
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
grep -E "requests served|ide1 |ide1-ctl|vga|screendump" "$dmlog" | sed 's/^/== /'
step destroyed

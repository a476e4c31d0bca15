# SPDX-License-Identifier: GPL-2.0-only
# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, with libxl's default display (no vga line: -device cirrus-vga, served by hvmd's standard VGA, said in its log): seen on the serial port through SeaBIOS's sercon (split mode beside the VGA BIOS), read back from the VGA text screen with xl qemu-monitor-command "xp 0xb8000", and in a screendump (PPM checked in dom0, PNG exported)
# step: dm-running 90
# step: booting-cd 240
# step: grub 540
# step: screen 120
# step: destroyed 60
. /etc/hvmd-lib.sh
hvm_cfg grub hvmd 'memory = 128' 'vga = ' "$(cd_disks /media/grub-rescue-cdrom.iso)" 'boot = "d"' > /tmp/grub.cfg
# stop: the guest is destroyed and hvmd's request counts shown, then the scenario fails with $1
stop() { xl destroy grub; sleep 2; grep -A40 "requests served" "$dmlog" | sed 's/^/== /'; fail "$1"; }
xl_start grub hvmd; step dm-running
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-device cirrus-vga" || fail "libxl did not ask for cirrus-vga (its default)"
grep -q "hvmd serves the standard VGA .* for a Cirrus request" "$dmlog" || fail "hvmd's log does not say it serves the standard VGA for cirrus-vga"
sercon_text "Booting from DVD/CD" 235 create_to_cd_boot_s || stop "SeaBIOS did not boot from the CD-ROM"
step booting-cd
sercon_text "GNU GRUB +version" 290 create_to_grub_s || stop "no GRUB banner on the serial port"
sercon_text "Use the .* keys to select which entry" 240 || stop "no GRUB menu on the serial port"
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
xl destroy grub || fail "xl destroy"
clean_after "xl destroy"
grep -E "requests served|ide1 |ide1-ctl|vga|screendump" "$dmlog" | sed 's/^/== /'
step destroyed

# SPDX-License-Identifier: GPL-2.0-only
# about: the Linux ISO boots from hvmd's emulated IDE CD-ROM under stock xl (device_model_override), ata_piix sees disk and CD, a pattern written to hvmd's emulated disk reads back and is in the host image after poweroff; hvmd runs in its seccomp sandbox with no new privileges; with vga="stdvga" (-device VGA) Linux's bochs DRM driver sets a VBE linear-framebuffer mode, whose resolution the guest reports and a screendump (PPM checked, PNG exported) shows
# step: dm-running 90
# step: guest-up 360
# step: display 200
# step: checks 240
# step: poweroff 120
# step: host-image 90
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix vga-speed bochs-drm disk-pattern poweroff
hvm_cfg iso hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'vga = "stdvga"' > /tmp/iso.cfg
xl_start iso hvmd
info "domain $d, device model pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
step dm-running
guest_up 350
metric create_to_marker_s "$(elapsed "$t0")" s
# hvmd is sandboxed by default: seccomp filter mode and no new privileges
grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" | sed 's/^/== hvmd /'
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || fail "hvmd runs without its seccomp filter"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" || fail "hvmd may gain privileges (NoNewPrivs is not 1)"
grep -q "sandbox on" "$dmlog" || fail "hvmd's log does not say it entered its sandbox"
# the device model's figures at the marker (the guest powers off right after its checks)
dm_metrics "$pid"; metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step guest-up
# the bochs DRM driver's mode, as the guest reports it, and in a screendump of hvmd's display
wait_re "$log" "HVMD-BOCHS-MODE|HVMD-CHECK bochs-drm FAIL" 190 || fail "the guest's bochs-drm check did not report"
mode=$(grep -o "HVMD-BOCHS-MODE [0-9]*x[0-9]* [0-9]*" "$log" | head -1)
[ -n "$mode" ] || { grep "bochs-drm" "$log"; fail "bochs DRM set no framebuffer mode"; }
info "guest: $mode"
set -- $mode; w=${2%x*}; h=${2#*x}
screendump iso /tmp/iso-screen.ppm ppm || fail "screendump (PPM) failed"
hdr=$(head -c 20 /tmp/iso-screen.ppm | head -n 3 | tr '\n' ' ')
info "screendump PPM: $hdr"
[ "$hdr" = "P6 $w $h 255 " ] || fail "the screendump is not the guest's ${w}x${h} mode: '$hdr'"
metric vbe_mode "${w}x${h}x$3"
screendump iso /tmp/iso-screen.png png || fail "screendump (PNG) failed"
export_binary /tmp/iso-screen.png
grep -E "vga|screendump" "$dmlog" | sed 's/^/== /'
step display
guest_done 230 ata-piix vga-speed bochs-drm disk-pattern; step checks
vga_speed_metrics
powers_off iso 110; step poweroff
image_kept /tmp/disk.img
grep -E "requests served|ide[01]|ide: " "$dmlog" | sed 's/^/== /'
step host-image

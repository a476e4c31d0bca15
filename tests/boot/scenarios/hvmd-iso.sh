# SPDX-License-Identifier: GPL-2.0-only
# about: the Linux ISO boots from hvmd's emulated IDE CD-ROM under stock xl (device_model_override), ata_piix sees disk and CD, a pattern written to hvmd's emulated disk reads back and is in the host image after poweroff; hvmd runs in its seccomp sandbox with no new privileges
# step: dm-running 90
# step: guest-up 360
# step: checks 240
# step: poweroff 120
# step: host-image 90
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix disk-pattern poweroff
hvm_cfg iso hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' > /tmp/iso.cfg
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
guest_done 230 ata-piix disk-pattern; step checks
powers_off iso 110; step poweroff
image_kept /tmp/disk.img
grep -E "requests served|ide[01]|ide: " "$dmlog" | sed 's/^/== /'
step host-image

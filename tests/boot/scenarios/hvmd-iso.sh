# about: the Linux ISO boots from hvmd's emulated IDE CD-ROM under stock xl (device_model_override), ata_piix sees disk and CD, a pattern written to hvmd's emulated disk reads back and is in the host image after poweroff; hvmd runs in its seccomp sandbox with no new privileges
# step: dm-running 90
# step: guest-up 360
# step: checks 240
# step: poweroff 120
# step: host-image 90
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix disk-pattern poweroff
cat > /tmp/iso.cfg <<CFG
name = "iso"
type = "hvm"
memory = 256
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"
vnc = 0
disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/disk.img",
         "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/linux.iso" ]
boot = "d"
serial = "file:/tmp/iso-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
log=/tmp/iso-serial.log
dmlog=/var/log/xen/qemu-dm-iso.log
t0=$(now)
xl create /tmp/iso.cfg || { cat "$dmlog"; fail "xl create /tmp/iso.cfg"; }
relay "$log" iso
relay "$dmlog" hvmd
d=$(domid iso); pid=$(dm_pid "$d")
info "domain $d, device model pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)"
step dm-running
wait_re "$log" HVMD-GUEST-UP 350 || { xl dmesg | grep "(d$d)" | tail -20; fail "no HVMD-GUEST-UP on the guest's serial port"; }
metric create_to_marker_s "$(elapsed "$t0")" s
# hvmd is sandboxed by default: seccomp filter mode and no new privileges
grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" | sed 's/^/== hvmd /'
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || fail "hvmd runs without its seccomp filter"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" || fail "hvmd may gain privileges (NoNewPrivs is not 1)"
grep -q "sandbox on" "$dmlog" || fail "hvmd's log does not say it entered its sandbox"
# the device model's figures at the marker (the guest powers off right after its checks)
set -- $(dm_mem_kb "$pid"); metric dm_rss_kb "$1" kB; metric dm_hwm_kb "$2" kB
metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step guest-up
wait_re "$log" HVMD-GUEST-DONE 230 || fail "the guest's checks did not finish"
guest_checks_passed "$log" ata-piix disk-pattern || fail "in-guest checks failed"
step checks
wait_gone iso 110 || fail "the guest did not power off"
step poweroff
pattern_on_image /tmp/disk.img || fail "the pattern is not in the host-side image"
sleep 1
nothing_left || fail "poweroff left something behind"
grep -E "requests served|ide[01]|ide: " "$dmlog" | sed 's/^/== /'
step host-image

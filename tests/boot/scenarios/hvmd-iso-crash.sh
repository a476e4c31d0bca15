# about: the Linux ISO guest under hvmd writes a pattern to the emulated disk with O_DIRECT and fsync (FLUSH CACHE); hvmd is then killed with SIGKILL, and the host-side image holds every synced block
# step: dm-running 90
# step: guest-up 360
# step: synced 240
# step: killed 60
# step: host-image 90
# step: destroyed 60
. /etc/hvmd-lib.sh
# the guest writes the pattern, reads it back, and then waits (no poweroff)
check_disk /tmp/disk.img 64 disk-pattern
cat > /tmp/crash.cfg <<CFG
name = "crash"
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
serial = "file:/tmp/crash-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
log=/tmp/crash-serial.log
dmlog=/var/log/xen/qemu-dm-crash.log
t0=$(now)
xl create /tmp/crash.cfg || { cat "$dmlog"; fail "xl create /tmp/crash.cfg"; }
relay "$log" crash
relay "$dmlog" hvmd
d=$(domid crash); pid=$(dm_pid "$d")
step dm-running
wait_re "$log" HVMD-GUEST-UP 350 || fail "no HVMD-GUEST-UP on the guest's serial port"
step guest-up
# disk-pattern passes only after dd's fsync returned: the guest saw its writes and the flush
wait_re "$log" "HVMD-CHECK disk-pattern (PASS|FAIL)" 230 || fail "the guest's disk-pattern check did not finish"
guest_checks_passed "$log" disk-pattern || fail "in-guest disk-pattern check failed"
step synced
kill -KILL "$pid" || fail "kill -KILL $pid"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -d "/proc/$pid" ] || break; sleep 0.5; done
[ -d "/proc/$pid" ] && fail "hvmd (pid $pid) survived SIGKILL"
info "hvmd (pid $pid) killed"
step killed
pattern_on_image /tmp/disk.img || fail "the synced pattern is not in the host-side image after SIGKILL"
step host-image
xl destroy crash || fail "xl destroy after the device model died"
sleep 1
nothing_left || fail "xl destroy left something behind"
step destroyed

# about: xl pause, unpause and shutdown work on an HVM guest under hvmd: while paused the guest makes no progress and hvmd burns no CPU (no timer runs), after unpause it boots on to its marker, and xl shutdown (through the PV control node) powers it off leaving nothing behind
# step: dm-running 90
# step: paused 120
# step: unpaused 60
# step: guest-up 300
# step: shutdown 120
. /etc/hvmd-lib.sh
cat > /tmp/pause.cfg <<CFG
name = "pause"
type = "hvm"
memory = 256
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"
vnc = 0
vkb_device = 0      # hvmd serves no PV backend yet: without this the guest waits 25 s for vkbd
serial = "file:/tmp/pause-serial.log"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=ttyS0,115200"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
log=/tmp/pause-serial.log
dmlog=/var/log/xen/qemu-dm-pause.log
t0=$(now)
xl create /tmp/pause.cfg || { cat "$dmlog"; fail "xl create /tmp/pause.cfg"; }
d=$(domid pause); pid=$(dm_pid "$d")
relay "$log" pause
relay "$dmlog" hvmd
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
size() { wc -c < "$log"; }
step dm-running
# pause in the middle of the kernel's boot, once it prints on the serial port
wait_re "$log" "Linux version" 115 || fail "the kernel did not start printing"
xl pause pause || fail "xl pause"
xl list pause | awk 'NR == 2 { print $5 }' | grep -q p || fail "xl list does not show the domain paused"
s1=$(size); c1=$(cpu); p0=$(now)
sleep 10
s2=$(size); c2=$(cpu)
[ "$s1" = "$s2" ] || fail "the guest printed while paused ($s1 -> $s2 bytes)"
metric paused_s "$(elapsed "$p0")" s
metric dm_cpu_ticks_while_paused $((c2 - c1)) ticks
[ $((c2 - c1)) -le 2 ] || fail "hvmd used $((c2 - c1)) ticks of CPU while the guest was paused"
step paused
xl unpause pause || fail "xl unpause"
xl list pause | awk 'NR == 2 { print $5 }' | grep -q p && fail "xl list still shows the domain paused"
step unpaused
wait_re "$log" HVMD-GUEST-UP 295 || fail "no HVMD-GUEST-UP after unpause"
[ "$(size)" -gt "$s2" ] || fail "no progress after unpause"
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
wait_re "$log" HVMD-GUEST-DONE 60 || fail "the guest init did not finish"
xl shutdown -w pause || fail "xl shutdown"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -d "/proc/$pid" ] || break; sleep 0.5; done
[ -d "/proc/$pid" ] && fail "hvmd (pid $pid) still runs after the guest shut down"
sleep 1
nothing_left || fail "xl shutdown left something behind"
grep -E "QMP|guest asks|signal" "$dmlog" | sed 's/^/== /'
step shutdown

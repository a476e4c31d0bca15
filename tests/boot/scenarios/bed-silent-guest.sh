# about: the runner itself: an HVM guest whose ISO never prints the marker (GRUB rescue waits at its prompt) fails at its step timeout, and no QEMU is left
# expect: FAIL step 'guest-up' timed out
# step: guest-up 45
. /etc/hvmd-lib.sh
cat > /tmp/silent.cfg <<CFG
name = "silent"
type = "hvm"
memory = 128
tsc_mode = "native"
cpuid = "host,family=0x17"
disk = [ "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/grub-rescue-cdrom.iso" ]
boot = "d"
serial = "file:/tmp/silent-serial.log"
vnc = 0
CFG
xl create /tmp/silent.cfg || fail "xl create"
# Wait far longer than the step timeout: the runner, not this script, must end the scenario.
wait_re /tmp/silent-serial.log HVMD-GUEST-UP 100000
step guest-up

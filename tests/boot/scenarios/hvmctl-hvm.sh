# about: hvmctl boots the test ISO from the emulated CD-ROM of an HVM guest with its default device model (it says which: qemu-xen until hvmd boots ISOs), the guest's serial port reaches hvmctl console, ata_piix sees disk and CD, the guest's own ACPI poweroff is carried out and nothing is left
# step: guest-up 360
# step: checks 240
# step: powered-off 120
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix poweroff
cat > /tmp/iso.cfg <<CFG
name = "iso"
type = "hvm"
memory = 256
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/disk.img",
         "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/linux.iso" ]
boot = "d"
vnc = 0
CFG
# paused, so that the console is attached before the first byte on the serial port
t0=$(now)
hvmctl create -p /tmp/iso.cfg > /tmp/create.out 2>&1 || { cat /tmp/create.out; fail "hvmctl create /tmp/iso.cfg"; }
cat /tmp/create.out
dm=$(sed -n 's/^hvmctl: iso: device model //p' /tmp/create.out)
[ -n "$dm" ] || fail "hvmctl did not say which device model the HVM guest gets"
info "device model: $dm"
case $dm in *hvmd*) metric dm_is_hvmd 1 ;; *) metric dm_is_hvmd 0 ;; esac
hvmctl console iso > /tmp/iso-serial.log 2>&1 < /dev/null &
hvmctl unpause iso || fail "hvmctl unpause iso"
relay /tmp/iso-serial.log iso
d=$(domid iso); pid=$(dm_pid "$d")
info "domain $d, device model pid $pid ($(readlink /proc/$pid/exe))"
hvmctl list
wait_re /tmp/iso-serial.log HVMD-GUEST-UP 350 || fail "no HVMD-GUEST-UP on the guest's serial port (hvmctl console)"
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
wait_re /tmp/iso-serial.log HVMD-GUEST-DONE 230 || fail "the guest's checks did not finish"
guest_checks_passed /tmp/iso-serial.log ata-piix || fail "in-guest checks failed"
step checks
wait_gone iso 110 || fail "the guest's poweroff was not carried out"
sleep 1
nothing_left || fail "the poweroff left something behind"
step powered-off

# about: make demo: an HVM guest boots the Linux ISO from the emulated CD-ROM on real Xen (nested in QEMU), its console shown live
# option: manual = yes
# step: guest-up 400
# step: guest-done 240
. /etc/hvmd-lib.sh
dm=${HVMD_DEMO_DM:-hvmd}
for w in $(cat /proc/cmdline); do case $w in hvmd.demo-dm=*) dm=${w#hvmd.demo-dm=} ;; esac; done
case $dm in
    hvmd) override='device_model_override = "/usr/lib/hvmd/hvmd"'; what="hvmd (/usr/lib/hvmd/hvmd, under stock xl)" ;;
    *) override=''; what="Debian's qemu-xen (the anchor, for comparison)" ;;
esac
info "dom0 is up: Xen 4.17, xl, xenstored; the device model for this guest is $what"
check_disk /tmp/disk.img 64 ata-piix disk-pattern
cat > /tmp/demo.cfg <<CFG
name = "demo"
type = "hvm"
memory = 256
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
$override
vga = "none"
disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/disk.img",
         "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/linux.iso" ]
boot = "d"
serial = "file:/tmp/demo-serial.log"
vnc = 0
CFG
info "xl create: hvmloader and SeaBIOS lines appear as (d1) ..., the guest's serial console as <guest> ..."
info "after 'Booting from DVD/CD', isolinux loads the kernel and initrd from the CD: the slow part under nested TCG"
t0=$(now)
xl create /tmp/demo.cfg || fail "xl create /tmp/demo.cfg"
relay /tmp/demo-serial.log guest
wait_re /tmp/demo-serial.log HVMD-GUEST-UP 390 || fail "the guest did not reach its marker"
info "the guest reached its marker $(elapsed "$t0") s after xl create"
step guest-up
wait_re /tmp/demo-serial.log HVMD-GUEST-DONE 230 || fail "the guest's checks did not finish"
guest_checks_passed /tmp/demo-serial.log ata-piix disk-pattern || fail "in-guest checks failed"
info "in the guest: ata_piix found the disk and the CD-ROM; a pattern written to the disk read back"
xl destroy demo
step guest-done

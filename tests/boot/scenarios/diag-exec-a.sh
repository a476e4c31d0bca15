# about: diagnostic: busybox exec crashes while an HVM guest runs
# step: done 600
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 64 ata-piix
cat > /tmp/iso.cfg <<CFG
name = "iso"
type = "hvm"
memory = 256
tsc_mode = "native"
cpuid = "host,family=0x17"
disk = [ "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/linux.iso" ]
boot = "d"
serial = "file:/tmp/iso-serial.log"
vnc = 0
CFG
xl create /tmp/iso.cfg
n=0; segv=0
while [ $n -lt 1500 ]; do busybox true; [ $? -ge 128 ] && segv=$((segv+1)); n=$((n+1)); done
echo "DIAG execs=$n segv=$segv"
dmesg | grep -c segfault
step done

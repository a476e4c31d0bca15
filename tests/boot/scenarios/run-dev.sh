# about: development scratch (manual): does plain xl create fail to decompress the kernel while another PV guest boots?
# option: manual = yes
# option: qemu-cpu = max,-pcid,-invpcid
# step: dev 900
. /etc/hvmd-lib.sh
pv_cfg() {
    cat <<CFG
name = "$1"
type = "pv"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=hvc0 $2"
memory = 256
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
CFG
}
grep -ow 'xsave[a-z]*\|pclmulqdq\|avx\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/^/<cpu> /'; echo
xl dmesg | grep -i xsave | sed 's/^/<xen> /'
bad=0
for i in 1 2 3 4 5 6 7 8; do
    pv_cfg xa$i "quiet" > /tmp/xa.cfg
    pv_cfg xb$i "quiet hvmd.checks=poweroff" > /tmp/xb.cfg
    xl create /tmp/xa.cfg > /dev/null 2>&1
    sleep 6
    xl create /tmp/xb.cfg > /tmp/xb.out 2>&1 || { bad=$((bad+1)); grep xc: /tmp/xb.out | head -1 | sed 's/^/<xlb> /'; }
    xl destroy xa$i; wait_gone xb$i 200; xl destroy xb$i 2>/dev/null
done
metric xz_failures "$bad"
step dev

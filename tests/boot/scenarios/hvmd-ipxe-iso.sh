# about: the untouched ipxe.iso boots from hvmd's IDE CD-ROM under stock xl and iPXE starts (its banner, then its attempt to boot with no NIC), seen on the serial port through SeaBIOS's sercon
# step: dm-running 90
# step: booting-cd 120
# step: ipxe 300
# step: destroyed 60
. /etc/hvmd-lib.sh
# text_re FILE REGEX TIMEOUT: like wait_re, on FILE's text without the ANSI escapes sercon
# puts around the BIOS console's characters
esc=$(printf '\033')
text_re() {
    local end=$(( $(secs) + $3 ))
    while [ "$(secs)" -lt "$end" ]; do
        sed "s/${esc}\[[0-9;?]*[A-Za-z]//g" "$1" 2>/dev/null | grep -qE "$2" && return 0
        sleep 0.5
    done
    return 1
}
cat > /tmp/ipxe.cfg <<CFG
name = "ipxe"
type = "hvm"
memory = 128
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"
vnc = 0
disk = [ "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/ipxe.iso" ]
boot = "d"
serial = "file:/tmp/ipxe-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
log=/tmp/ipxe-serial.log
dmlog=/var/log/xen/qemu-dm-ipxe.log
t0=$(now)
xl create /tmp/ipxe.cfg || { cat "$dmlog"; fail "xl create /tmp/ipxe.cfg"; }
relay "$log" ipxe
relay "$dmlog" hvmd
d=$(domid ipxe); pid=$(dm_pid "$d")
step dm-running
text_re "$log" "Booting from DVD/CD" 115 || fail "SeaBIOS did not boot from the CD-ROM"
metric create_to_cd_boot_s "$(elapsed "$t0")" s
step booting-cd
text_re "$log" "iPXE.*Open Source Network Boot Firmware" 290 || fail "no iPXE banner on the serial port"
metric create_to_ipxe_banner_s "$(elapsed "$t0")" s
text_re "$log" "No more network devices|No bootable device|Nothing to boot" 200 || fail "iPXE did not finish trying to boot"
metric create_to_ipxe_done_s "$(elapsed "$t0")" s
set -- $(dm_mem_kb "$pid"); metric dm_rss_kb "$1" kB; metric dm_hwm_kb "$2" kB
metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step ipxe
xl destroy ipxe || fail "xl destroy"
sleep 1
nothing_left || fail "xl destroy left something behind"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

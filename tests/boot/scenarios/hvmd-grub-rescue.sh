# about: the untouched grub-rescue-cdrom.iso boots from hvmd's IDE CD-ROM under stock xl to GRUB's menu, seen on the serial port through SeaBIOS's sercon
# step: dm-running 90
# step: booting-cd 120
# step: grub 540
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
cat > /tmp/grub.cfg <<CFG
name = "grub"
type = "hvm"
memory = 128
vcpus = 1
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"
vnc = 0
disk = [ "format=raw,vdev=hdc,access=ro,devtype=cdrom,target=/media/grub-rescue-cdrom.iso" ]
boot = "d"
serial = "file:/tmp/grub-serial.log"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
log=/tmp/grub-serial.log
dmlog=/var/log/xen/qemu-dm-grub.log
t0=$(now)
xl create /tmp/grub.cfg || { cat "$dmlog"; fail "xl create /tmp/grub.cfg"; }
relay "$log" grub
relay "$dmlog" hvmd
d=$(domid grub); pid=$(dm_pid "$d")
step dm-running
text_re "$log" "Booting from DVD/CD" 115 || fail "SeaBIOS did not boot from the CD-ROM"
metric create_to_cd_boot_s "$(elapsed "$t0")" s
step booting-cd
text_re "$log" "GNU GRUB +version" 290 || fail "no GRUB banner on the serial port"
metric create_to_grub_s "$(elapsed "$t0")" s
text_re "$log" "Use the .* keys to select which entry" 240 || fail "no GRUB menu on the serial port"
set -- $(dm_mem_kb "$pid"); metric dm_rss_kb "$1" kB; metric dm_hwm_kb "$2" kB
metric dm_cpu_s "$(dm_cpu_s "$pid")" s
step grub
xl destroy grub || fail "xl destroy"
sleep 1
nothing_left || fail "xl destroy left something behind"
grep -E "requests served|ide1 |ide1-ctl" "$dmlog" | sed 's/^/== /'
step destroyed

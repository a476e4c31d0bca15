# SPDX-License-Identifier: GPL-2.0-only
# about: libvirt's libxl driver runs hvmd (issue 19): libvirtd in dom0 (Debian's libvirt-daemon-driver-xen), a domain XML with <emulator>/usr/lib/hvmd/hvmd</emulator>: virsh define and start boot the Linux ISO from hvmd's IDE CD-ROM to its marker (its serial console on the pty libvirt reports), virsh change-media ejects the CD and inserts another that the guest reads, virsh shutdown powers it off, and a second start ends with virsh destroy; nothing is left behind
# option: dom0-extra = libvirt
# (dom0's initramfs is 150 MB with libvirt: held and unpacked at once, it needs more than 512 MB)
# option: dom0-mem = 768M
# option: manual = yes
# step: libvirtd-up 60
# step: started 120
# step: guest-up 420
# step: ejected 240
# step: gone 200
# step: inserted 60
# step: new-medium 280
# step: shutdown 180
# step: destroyed 120
. /etc/hvmd-lib.sh
# libvirtd serves on /run/libvirt, virsh looks in /var/run/libvirt (one place on a Debian host,
# where /var/run is a link to /run; the bed's dom0 has a /var/run of its own)
mkdir -p /run/libvirt /var/lib/libvirt/libxl /var/log/libvirt/libxl /etc/libvirt /var/cache/libvirt
ln -sfn /run/libvirt /var/run/libvirt
LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd > /var/log/libvirt/libvirtd.out 2>&1 &
echo $! > /run/libvirtd.pid
V() { virsh -c xen:///system "$@"; }
within 120 V version > /tmp/virsh-version 2>&1 || { tail -5 /tmp/virsh-version; cat /var/log/libvirt/libvirtd.out /var/log/libvirt/libvirtd.log; fail "virsh cannot reach libvirtd's libxl driver"; }
info "$(tr '\n' ' ' < /tmp/virsh-version)"
relay /var/log/libvirt/libvirtd.log libvirtd
step libvirtd-up
check_disk /tmp/disk.img 16 cd-change
cat > /tmp/lv.xml <<'XML'
<domain type='xen'>
  <name>lv</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom'>/usr/lib/xen-4.17/boot/hvmloader</loader>
    <boot dev='cdrom'/>
  </os>
  <features><acpi/><apic/><pae/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/lib/hvmd/hvmd</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/tmp/disk.img'/>
      <target dev='hda' bus='ide'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/media/linux.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>
XML
V define /tmp/lv.xml || fail "virsh define"
V start lv || { tail -30 /var/log/libvirt/libvirtd.log; ls /var/log/libvirt/libxl; cat /var/log/libvirt/libxl/*; fail "virsh start lv"; }
d=$(domid lv) || fail "no domain lv after virsh start"
pid=$(dm_pid "$d")
dmlog=$(ls /var/log/libvirt/libxl/lv-device-model.log /var/log/libvirt/libxl/*lv*.log 2>/dev/null | head -1)
info "domain $d, device model pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline | cut -c1-200), log ${dmlog:-none}"
[ "$(readlink /proc/$pid/exe)" = /usr/lib/hvmd/hvmd ] || fail "the device model is $(readlink /proc/$pid/exe), not hvmd"
[ -n "$dmlog" ] && relay "$dmlog" hvmd
tty=$(V ttyconsole lv) || tty=$(xenstore-read /local/domain/$d/serial/0/tty)
info "serial console on $tty (virsh ttyconsole)"
log=/tmp/lv-serial.log
( stty -F "$tty" raw -echo 2>/dev/null; exec cat "$tty" ) > "$log" 2>&1 &
relay "$log" lv
step started
guest_up 410; step guest-up
wait_re "$log" "HVMD-CD-EJECT-NOW" 230 || fail "the guest could not read the CD-ROM"
ok=
for i in 1 2 3 4 5 6 7 8 9 10; do
    if V change-media lv hdc --eject; then ok=1; break; fi
    sleep 1
done
[ -n "$ok" ] || fail "virsh change-media lv hdc --eject failed ten times"
step ejected
wait_re "$log" "HVMD-CD-GONE" 190 || fail "the guest did not see the medium go"
step gone
new=/media/grub-rescue-cdrom.iso
V change-media lv hdc "$new" --insert || fail "virsh change-media lv hdc $new --insert"
step inserted
want=$(dd if="$new" bs=2048 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
wait_re "$log" "HVMD-CD-NEW md5=$want" 270 || { grep "HVMD-CD-NEW" "$log"; fail "the guest did not read $new"; }
guest_done 60 cd-change; step new-medium
V shutdown lv || fail "virsh shutdown lv"
wait_gone lv 170 || fail "the guest did not power off after virsh shutdown"
[ "$(V domstate lv)" = "shut off" ] || fail "virsh domstate lv: $(V domstate lv)"
step shutdown
V start lv || fail "virsh start lv (again)"
d=$(domid lv) || fail "no domain lv after the second virsh start"
V destroy lv || fail "virsh destroy lv"
wait_gone lv 30 || fail "virsh destroy left domain lv"
V undefine lv || fail "virsh undefine lv"
clean_after destroy
step destroyed

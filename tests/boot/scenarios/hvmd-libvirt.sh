# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd on a Xen host as its package installs it (issue 19): dpkg installs the project's .deb (make deb) in place of the overlay's copies, the units' commands bring the example network.conf's networks up (hvmctl-network) and create the guest of /etc/hvmd/auto (hvmctl-guests) whose xl.cfg carries README's snippet unchanged, which boots from hvmd's CD-ROM; then libvirt's libxl driver runs the package's hvmd: libvirtd in dom0 (Debian's libvirt-daemon-driver-xen), a domain XML with <emulator>/usr/lib/hvmd/hvmd</emulator>: virsh define and start boot the Linux ISO to its marker (its serial console on the pty libvirt reports), virsh change-media ejects the CD and inserts another that the guest reads, virsh shutdown powers it off, and a second start ends with virsh destroy; dpkg --purge takes the networks down and leaves nothing of the package; dom0 is left as it was
# option: dom0-extra = libvirt
# (dom0's initramfs is 150 MB with libvirt: held and unpacked at once, it needs more than 512 MB)
# option: dom0-mem = 768M
# (libvirt decodes the bed's CPU, TCG's without VME, only with the bed's copy of its cpu_map:
# images/bed.sh; an Intel-vendor outer CPU starts libvirt too, but then Xen's SVM gives the HVM
# guest an Intel CPU whose MSR_IA32_MISC_ENABLE it does not emulate, and Linux triple-faults)
# step: deb-installed 60
# step: networks-up 60
# step: autostart-cd-boot 240
# step: autostart-stopped 60
# step: libvirtd-up 60
# step: started 120
# step: guest-up 420
# step: ejected 240
# step: gone 200
# step: inserted 60
# step: new-medium 280
# step: shutdown 180
# step: destroyed 120
# step: purged 60
. /etc/hvmd-lib.sh
info "xl info: $(xl info | grep -E 'hw_caps|virt_caps|xen_version' | tr -s ' ' | tr '\n' ' ')"

# --- the Debian package, installed by dpkg over the bed's copies ---------------------------
deb=$(ls /media/deb/hvmd_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no /media/deb/hvmd_*_amd64.deb in dom0 (make deb, then make bed)"
# dom0 as found, to give back at the end: the overlay's copies of the package's files set aside,
# dpkg's database (the bed's packages, images/bed.sh) saved
files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|' | grep -v '/$')
aside=/tmp/deb-aside; mkdir -p "$aside"
for f in $files; do
    if [ -e "$f" ] || [ -L "$f" ]; then mkdir -p "$aside${f%/*}"; mv "$f" "$aside$f"; fi
done
cp -a /var/lib/dpkg /tmp/dpkg-before
dpkg -i "$deb" > /tmp/dpkg-i.log 2>&1 || { cat /tmp/dpkg-i.log; fail "dpkg -i ${deb##*/}"; }
dpkg -V hvmd || fail "dpkg -V hvmd: the installed files are not the package's"
v=$(dpkg-query -W -f '${Version}' hvmd)
[ "$(/usr/lib/hvmd/hvmd --version)" = "hvmd $v" ] || fail "hvmd --version: $(/usr/lib/hvmd/hvmd --version), not hvmd $v"
[ "$(hvmctl --version)" = "hvmctl $v" ] || fail "hvmctl --version: $(hvmctl --version), not hvmctl $v"
info "dpkg -i ${deb##*/}: hvmd $v, $(echo $files | wc -w) files, dependencies met by dom0's packages"
step deb-installed

# --- the units' commands, as systemd runs them at boot ----------------------------------------
# unit_run UNIT KEY...: each KEY= command line of the package's UNIT, in order; each must succeed
unit_run() {
    local u=/lib/systemd/system/$1 k c; shift
    [ -f "$u" ] || fail "no $u in the package"
    for k in "$@"; do
        while IFS= read -r c; do
            info "${u##*/}: $k=$c"
            $c || fail "${u##*/}: $k=$c failed"
        done < <(sed -n "s/^$k=//p" "$u")
    done
}
# the example network.conf as shipped (a bridge on eth0, a NAT network); eth0 stands in for the
# NIC the bed's dom0 does not have
ls /sys/class/net | sort > /tmp/net.before
ip tuntap add dev eth0 mode tap || fail "cannot make a tap for eth0"
ip link set eth0 up
cp /usr/share/doc/hvmd/examples/network.conf /etc/hvmd/network.conf || fail "no example network.conf"
unit_run hvmctl-network.service ExecStartPre ExecStart
for b in xenbr0 nat0; do [ -d /sys/class/net/$b/bridge ] || fail "no bridge $b after hvmctl-network's commands"; done
[ -n "$(pids_of '^[^ ]*dnsmasq ')" ] || fail "no dnsmasq for nat0"
step networks-up
# an autostart guest: the ISO guest whose xl.cfg switches to hvmd with README's lines as they are
mkdir -p /etc/hvmd/auto
{ hvm_cfg autoiso default 'serial = "file:/tmp/autoiso-serial.log"' 'on_poweroff = "destroy"' \
      'on_reboot = "destroy"' 'on_crash = "destroy"' "$(cd_disks /media/linux.iso)"
  cat /etc/readme-xl-snippet; } > /etc/hvmd/auto/autoiso.cfg
grep -q . /etc/readme-xl-snippet || fail "no xl.cfg snippet in README's On your Xen host"
info "README's lines: $(tr '\n' ' ' < /etc/readme-xl-snippet)"
log=/tmp/autoiso-serial.log; t0=$(now)
unit_run hvmctl-guests.service ExecStart
d=$(domid autoiso) || fail "hvmctl-guests start did not create autoiso"
pid=$(dm_pid "$d")
[ "$(readlink /proc/$pid/exe)" = /usr/lib/hvmd/hvmd ] || fail "autoiso's device model is $(readlink /proc/$pid/exe)"
[ "$(dpkg -S /usr/lib/hvmd/hvmd)" = "hvmd: /usr/lib/hvmd/hvmd" ] || fail "dpkg -S /usr/lib/hvmd/hvmd: $(dpkg -S /usr/lib/hvmd/hvmd 2>&1)"
relay "$log" autoiso
sercon_text "Booting from DVD/CD" 230 autostart_to_cd_boot_s || fail "autoiso did not boot from hvmd's CD-ROM"
step autostart-cd-boot
# the host going down: hvmctl-guests stop asks it to power off; in isolinux it cannot, so after
# HVMCTL_GUESTS_TIMEOUT the power button, and after HVMCTL_GUESTS_BUTTON_TIMEOUT hvmctl destroy
HVMCTL_GUESTS_TIMEOUT=2 HVMCTL_GUESTS_BUTTON_TIMEOUT=2 unit_run hvmctl-guests.service ExecStop
wait_gone autoiso 10 || fail "autoiso is still there after hvmctl-guests stop"
clean_after "hvmctl-guests stop"
step autostart-stopped

# --- libvirt's libxl driver with the package's hvmd -----------------------------------------
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
  <clock offset='utc'>
    <timer name='tsc' mode='native'/>
  </clock>
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

# --- purge: the networks come down with the package (its prerm), nothing of it is left --------
rm -rf /etc/hvmd/auto /etc/hvmd/network.conf      # the administrator's files, not the package's
dpkg --purge hvmd > /tmp/dpkg-purge.log 2>&1 || { cat /tmp/dpkg-purge.log; fail "dpkg --purge hvmd"; }
cat /tmp/dpkg-purge.log
left=$(for f in $files /etc/hvmd; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
[ -z "$left" ] || fail "dpkg --purge left: $left"
ip link del eth0
ls /sys/class/net | sort > /tmp/net.after
diff /tmp/net.before /tmp/net.after || fail "the network devices differ from before hvmctl-network"
[ -z "$(pids_of '^[^ ]*dnsmasq ')" ] || fail "dnsmasq still runs after the purge"
# dom0 as it was: libvirtd stopped and its run-time state gone, the bed's copies back, dpkg's
# database as the bed made it
kill "$(cat /run/libvirtd.pid)" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "$(pids_of '^[^ ]*libvirtd ')" ] || break; sleep 0.5; done
[ -z "$(pids_of '^[^ ]*libvirtd ')" ] || fail "libvirtd did not stop"
rm -rf /run/libvirt /var/run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirtd.pid
rm -rf /var/lib/dpkg /var/log/dpkg.log; mv /tmp/dpkg-before /var/lib/dpkg
cp -a "$aside"/. / && rm -rf "$aside"
step purged

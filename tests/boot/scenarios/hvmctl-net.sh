# SPDX-License-Identifier: GPL-2.0-only
# about: with the hvmctl network up (bridge mode on a stand-in NIC), hvmctl create puts a PV guest's vif and an HVM guest's vif and, under hvmd (hvmctl's default device model), its emulated NIC's tap (vifD.N, vifD.N-emu) on the default bridge through hvmctl's own hotplug entry, without bridge= or script= in the guests' files; destroying the guests takes them off, and the network comes down as it went up
# step: network-up 60
# step: pv-vif 120
# step: hvm-vif 120
# step: down 60
. /etc/hvmd-lib.sh
# a stand-in for dom0's NIC (the bed's dom0 has none): a tap device
ip tuntap add dev eth0 mode tap || fail "cannot make a tap for eth0"
ip link set eth0 up
cat > /etc/hvmd/network.conf <<CONF
[xenbr0]
mode = bridge
netdev = eth0
CONF
ls /sys/class/net | sort > /tmp/net.before
hvmctl network up || fail "hvmctl network up"
hvmctl network show
[ -d /sys/class/net/xenbr0/bridge ] || fail "no bridge xenbr0 after network up"
step network-up

ports() { ls /sys/class/net/xenbr0/brif 2>/dev/null | tr '\n' ' '; }
pv_cfg pvnet quiet 'memory = 128' 'vif = [ "mac=00:16:3e:00:00:11" ]' > /tmp/pv.cfg
hvmctl create -n /tmp/pv.cfg > /tmp/pv.json || fail "hvmctl create -n"
grep -q '"bridge": "xenbr0"' /tmp/pv.json || { cat /tmp/pv.json; fail "the vif did not get the network's bridge"; }
grep -q '"script": ".*vif-hvmctl"' /tmp/pv.json || grep -q '"script": ".*hvmctl"' /tmp/pv.json || fail "the vif did not get hvmctl's hotplug entry"
d=$(hvmctl create /tmp/pv.cfg) || fail "hvmctl create pvnet"
info "pvnet is domain $d; bridge ports: $(ports)"
[ -e "/sys/class/net/xenbr0/brif/vif$d.0" ] || fail "vif$d.0 is not on xenbr0 (ports: $(ports))"
[ "$(cat /sys/class/net/vif$d.0/operstate 2>/dev/null)" != down ] || info "(vif$d.0 is down: the guest has not connected yet)"
hvmctl vif list 2>/dev/null | sed 's/^/    /'
hvmctl destroy pvnet || fail "hvmctl destroy pvnet"
wait_gone pvnet 30 || fail "pvnet is still there"
sleep 1
[ ! -e "/sys/class/net/vif$d.0" ] || fail "vif$d.0 is still there after destroy"
[ -z "$(ports | sed 's/eth0 //')" ] || fail "ports left on xenbr0: $(ports)"
nothing_left || fail "destroying pvnet left something behind"
step pv-vif

# an HVM guest, built paused (it need not run): its device model, hvmctl's default (hvmd), makes
# vifD.0-emu for the emulated NIC, libxl the PV vifD.0
hvm_cfg hvmnet default 'memory = 128' 'cpuid =' "$(cd_disks /media/linux.iso)" \
    'vif = [ "mac=00:16:3e:00:00:12" ]' > /tmp/hvm.cfg
d=$(hvmctl create -p /tmp/hvm.cfg 2> /tmp/hvm.err) || { cat /tmp/hvm.err; cat /var/log/xen/qemu-dm-hvmnet.log; cat /var/log/xen/hvmctl-hvmnet.log; fail "hvmctl create hvmnet"; }
cat /tmp/hvm.err
pid=$(dm_pid "$d"); exe=$(readlink "/proc/$pid/exe")
case $exe in */hvmd) ;; *) fail "hvmnet's device model is $exe, not hvmd" ;; esac
info "hvmnet is domain $d (device model $exe); bridge ports: $(ports)"
[ -e "/sys/class/net/xenbr0/brif/vif$d.0-emu" ] || fail "vif$d.0-emu is not on xenbr0 (ports: $(ports))"
[ -e "/sys/class/net/xenbr0/brif/vif$d.0" ] || fail "vif$d.0 is not on xenbr0 (ports: $(ports))"
hvmctl destroy hvmnet || fail "hvmctl destroy hvmnet"
wait_gone hvmnet 30 || fail "hvmnet is still there"
sleep 1
[ -z "$(ports | sed 's/eth0 //')" ] || fail "ports left on xenbr0: $(ports)"
nothing_left || fail "destroying hvmnet left something behind"
step hvm-vif

hvmctl network down || fail "hvmctl network down"
ls /sys/class/net | sort > /tmp/net.after
diff /tmp/net.before /tmp/net.after || fail "the network devices differ from before network up"
step down
ip link del eth0

#!/bin/bash
# Bad input: each is refused with a message that names what is wrong, and dom0 is left exactly as
# it was (links, addresses, routes, nftables, sysctls, processes, hvmctl's run directory).
TEST=net-errors
. "$(dirname "$0")/lib.sh"

world 6 || setup_failed "cannot build the namespaces"
# a second NIC already in a bridge hvmctl did not make, and a guest's vif
mkns lan2 && link dom0 eth1 lan2 eth0 && ip -n "$P-dom0" link add br-other type bridge &&
ip -n "$P-dom0" link set eth1 master br-other || setup_failed "br-other"
guest g5 vif5.0 00:16:3e:00:05:00 || setup_failed "guest"

conf() { cat >"$T/$1.conf"; }   # conf NAME <<EOF ... EOF
conf nonetdev <<EOF
[xenbr0]
mode = bridge
netdev = eth9
EOF
refused missing-netdev dom0 "network xenbr0: netdev eth9: no such device" \
    network -c "$T/nonetdev.conf" up
conf clash <<EOF
[eth0]
mode = nat
subnet = 10.213.106.1/24
EOF
refused name-clash dom0 "network eth0: name clash: a device named eth0 already exists (veth device)" \
    network -c "$T/clash.conf" up
conf taken <<EOF
[xenbr1]
mode = bridge
netdev = eth1
EOF
refused nic-in-another-bridge dom0 "network xenbr1: netdev eth1 is already a port of bridge br-other" \
    network -c "$T/taken.conf" up
conf badsubnet <<EOF
[nat0]
mode = nat
subnet = 10.213.300.1/24
EOF
refused invalid-subnet dom0 "badsubnet.conf:3: subnet '10.213.300.1/24' is not an IPv4 address" \
    network -c "$T/badsubnet.conf" up
conf prefix <<EOF
[nat0]
mode = nat
subnet = 10.213.106.1/31
EOF
refused invalid-prefix dom0 "prefix.conf:3: subnet '10.213.106.1/31': prefix length /31, want /8 to /30" \
    network -c "$T/prefix.conf" up
conf netaddr <<EOF
[nat0]
mode = nat
subnet = 10.213.106.0/24
EOF
refused subnet-network-address dom0 "10.213.106.0 is the network address of the subnet" \
    network -c "$T/netaddr.conf" up
conf overlap <<EOF
[nat0]
mode = nat
subnet = 10.213.6.1/25
EOF
refused subnet-overlaps-host dom0 "network nat0: subnet 10.213.6.1/25 overlaps 10.213.6.2/24 on eth0" \
    network -c "$T/overlap.conf" up
conf badkey <<EOF
[xenbr0]
mode = bridge
colour = blue
EOF
refused unknown-key dom0 "badkey.conf:3: unknown key 'colour'" network -c "$T/badkey.conf" up
conf stp <<EOF
[xenbr0]
mode = bridge
stp = on
forward-delay = 1
EOF
refused stp-forward-delay dom0 "[xenbr0]: with stp on, forward-delay must be 2 to 30 seconds" \
    network -c "$T/stp.conf" up
conf range <<EOF
[nat0]
mode = nat
subnet = 10.213.106.1/24
dhcp-range = 10.213.106.1 10.213.106.50
EOF
refused dhcp-range-holds-dom0 dom0 "dhcp-range 10.213.106.1 - 10.213.106.50 holds dom0's own address" \
    network -c "$T/range.conf" up
refused missing-config dom0 "$T/none.conf: No such file or directory" network -c "$T/none.conf" up
# all or nothing: xenbr0 would come up, nat0's dnsmasq cannot start, so xenbr0 is undone too
conf half <<EOF
[xenbr0]
mode = bridge
netdev = eth0

[nat0]
mode = nat
subnet = 10.213.106.1/24
dnsmasq = /bin/false
EOF
refused all-or-nothing dom0 "network nat0: /bin/false did not start" network -c "$T/half.conf" up
refused down-not-up dom0 "network xenbr0 is not up" network down xenbr0

# vifs: with a network up
conf good <<EOF
[xenbr0]
mode = bridge
netdev = eth0
EOF
ok good-up hv dom0 network -c "$T/good.conf" up
for _ in $(seq 30); do   # let the new bridge get its carrier before taking snapshots
    ip -n "$P-dom0" -o link show xenbr0 | grep -q 'state UP' && break
    sleep 0.1
done
refused mac-multicast dom0 "invalid MAC: 01:16:3e:00:00:01 is a multicast address" \
    vif add vif5.0 --mac 01:16:3e:00:00:01
refused mac-garbage dom0 "invalid MAC: 'zz:16:3e:00:00:01' is not a MAC address" \
    vif add vif5.0 --mac zz:16:3e:00:00:01
refused vif-missing dom0 "vif vif9.9: no such device" vif add vif9.9
refused vif-no-network dom0 "vif vif5.0: network nat9 is not up" vif add vif5.0 --network nat9
refused vif-is-bridge dom0 "vif br-other is a bridge, not a guest's vif or tap" vif add br-other
refused vif-remove-unknown dom0 "vif vif5.0 is not in any hvmctl network" vif remove vif5.0
refused bad-ip dom0 "--ip 10.213.6.300: '10.213.6.300' is not an IPv4 address" \
    vif add vif5.0 --ip 10.213.6.300
ok good-down hv dom0 network down
finish

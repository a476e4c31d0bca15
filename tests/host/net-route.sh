#!/bin/bash
# Route mode: forwarding and proxy ARP in dom0; each vif gets dom0's address as a /32, proxy ARP
# and a host route (protocol 175) to its guest's static address, metric 2 for a vif and 1 for a
# tap, also through the libxl hotplug entry with ip= in xenstore. Guests reach the LAN and the LAN
# reaches the guests' own addresses through dom0; after down everything is as before.
TEST=net-route
. "$(dirname "$0")/lib.sh"

world 2 || setup_failed "cannot build the namespaces"
network_conf <<EOF
[routed]
mode = route
netdev = eth0
EOF
dom0mac=$(ip -n "$P-dom0" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

ok up hv dom0 network up
check forwarding-on "ip_forward or proxy_arp on eth0 is not on" \
    bash -c "[ \$(ip netns exec $P-dom0 cat /proc/sys/net/ipv4/ip_forward) = 1 ] &&
             [ \$(ip netns exec $P-dom0 cat /proc/sys/net/ipv4/conf/eth0/proxy_arp) = 1 ]"

# a guest with a static address in the LAN's subnet, dom0 as its gateway
guest g5 vif5.0 00:16:3e:00:05:00
ip -n "$P-g5" addr add 10.213.2.50/24 dev eth0
ip -n "$P-g5" route add default via 10.213.2.2
refused vif-needs-ip dom0 "vif vif5.0: route mode needs the guest's address" vif add vif5.0
ok vif-add hv dom0 vif add vif5.0 --ip 10.213.2.50
check host-route "no 'proto 175' host route to 10.213.2.50 via vif5.0 with src 10.213.2.2 metric 2" \
    grep -q '10.213.2.50 dev vif5.0 proto 175 scope link src 10.213.2.2 metric 2' \
    <(ip -n "$P-dom0" route)
check vif-proxy-arp "vif5.0 lacks dom0's /32 or proxy ARP" \
    bash -c "ip -n $P-dom0 -o addr show vif5.0 | grep -q 'inet 10.213.2.2/32' &&
             [ \$(ip netns exec $P-dom0 cat /proc/sys/net/ipv4/conf/vif5.0/proxy_arp) = 1 ]"
check guest-reaches-lan "the guest cannot ping the LAN target" can g5 10.213.2.1
check lan-reaches-guest "the LAN cannot ping the guest's 10.213.2.50" can lan 10.213.2.50
check lan-via-dom0 "the LAN does not reach 10.213.2.50 through dom0's MAC $dom0mac" \
    grep -q "10.213.2.50 dev eth0 lladdr $dom0mac" <(ip -n "$P-lan" neigh)
serve() {
    rm -f "$T/ready"
    in_ns "$1" env READY="$T/ready" timeout 40 python3 "$HOSTDIR/peer.py" serve "$2" "$3" 30 &
    disown
    for _ in $(seq 50); do [ -e "$T/ready" ] && return 0; sleep 0.1; done
    return 1
}
serve lan 10.213.2.1 7000
seen=$(in_ns g5 python3 "$HOSTDIR/peer.py" ask 10.213.2.1 7000 2>&1)
check lan-sees-guest-address "the LAN saw '$seen', not the guest's own 10.213.2.50" [ "$seen" = 10.213.2.50 ]

# the libxl hotplug entry: ip= comes from xenstore; the vif and the emulated NIC's tap
ln -s "$HVMCTL" "$T/vif-hvmctl"
cat >"$T/xs-preload" <<EOF
backend/vif/7/0/bridge=routed
backend/vif/7/0/ip=10.213.2.70
backend/vif/7/0/mac=00:16:3e:00:07:00
backend/vif/7/0/type=vif_ioemu
EOF
python3 "$HOSTDIR/fake-xenstored.py" "$T/xs.sock" "$T/xs.dump" "$T/xs-preload" &
disown
for _ in $(seq 50); do [ -S "$T/xs.sock" ] && break; sleep 0.1; done
hotplug() {
    in_ns dom0 env -i PATH="$PATH" HVMD_RUN_DIR="$T/run-dom0" XENSTORED_PATH="$T/xs.sock" \
        script="$T/vif-hvmctl" XENBUS_TYPE=vif XENBUS_PATH="backend/vif/$1/0" \
        XENBUS_BASE_PATH=backend netdev= INTERFACE="vif$1.0-emu" vif="vif$1.0" \
        "$T/vif-hvmctl" "$2" "type_if=$3" </dev/null
}
guest g7 vif7.0 00:16:3e:00:07:00
ip -n "$P-g7" addr add 10.213.2.70/24 dev eth0
ip -n "$P-g7" route add default via 10.213.2.2
ok hotplug-online hotplug 7 online vif
check hotplug-guest-reaches-lan "the hotplugged guest cannot ping the LAN" can g7 10.213.2.1
# an HVM guest has the emulated NIC's tap too (its device model holds it); its route wins, metric 1
ip -n "$P-dom0" tuntap add dev vif7.0-emu mode tap
ok hotplug-tap-add hotplug 7 add tap
check hotplug-routes "no metric 2 route via vif7.0 and metric 1 route via vif7.0-emu to 10.213.2.70" \
    bash -c "ip -n $P-dom0 route | grep -q '10.213.2.70 dev vif7.0 proto 175 scope link src 10.213.2.2 metric 2' &&
             ip -n $P-dom0 route | grep -q '10.213.2.70 dev vif7.0-emu proto 175 scope link src 10.213.2.2 metric 1'"
check hotplug-connected "hotplug-status is not 'connected'" \
    grep -qx '/local/domain/0/backend/vif/7/0/hotplug-status=connected' "$T/xs.dump"

shows "show lacks the routed vifs or their routes" \
    '^network routed: route mode, default' 'vif vif5.0 -> 10.213.2.50' \
    '10.213.2.70/32 dev vif7.0-emu src 10.213.2.2 metric 1'

refused down-refused-in-use dom0 "network routed is in use by vif5.0, vif7.0, vif7.0-emu" network down
if hv dom0 vif remove vif5.0 && hotplug 7 remove tap && hotplug 7 offline vif 2>"$T/err"; then
    pass vif-remove
else
    fail vif-remove "$(cat "$T/err")"
fi
check routes-gone "a proto 175 route is left" bash -c "! ip -n $P-dom0 route | grep -q 'proto 175'"
delns g5; delns g7; ip -n "$P-dom0" tuntap del dev vif7.0-emu mode tap
ok down hv dom0 network down
check down-restores-all "after down, dom0 is not as it was before up" same_as dom0 "$T/pristine"
rm -f "$T/xs.sock"
finish

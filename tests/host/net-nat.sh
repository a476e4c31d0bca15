#!/bin/bash
# NAT mode: an internal bridge nat0 with dom0 on 10.213.103.1/24, masquerading out of dom0's NIC
# through nftables (table ip hvmctl), DHCP by hvmctl's own dnsmasq, a fixed lease and a port
# forward. Guests get addresses and reach the LAN; the LAN sees only dom0's address; after down no
# bridge, rule, process or file is left; a dnsmasq that cannot start rolls the whole up back.
TEST=net-nat
. "$(dirname "$0")/lib.sh"

world 3 || setup_failed "cannot build the namespaces"
network_conf <<EOF
[nat0]
mode = nat
subnet = 10.213.103.1/24
netdev = eth0
dhcp-range = 10.213.103.100 10.213.103.149
lease = 600
dns = off
forward = tcp 8022 10.213.103.50 22
EOF
serve() {  # serve NS ADDR PORT: peer.py for 30 s in the background, waits until it listens
    rm -f "$T/ready"
    in_ns "$1" env READY="$T/ready" timeout 40 python3 "$HOSTDIR/peer.py" serve "$2" "$3" 30 &
    disown
    for _ in $(seq 50); do [ -e "$T/ready" ] && return 0; sleep 0.1; done
    return 1
}

ok up hv dom0 network up
check nat-bridge "nat0 is not up with 10.213.103.1/24" \
    grep -q 'inet 10.213.103.1/24' <(ip -n "$P-dom0" -o addr show nat0)
check nat-rules "table ip hvmctl lacks the masquerade or the port forward" \
    bash -c "ip netns exec $P-dom0 nft list table ip hvmctl >'$T/nft' &&
             grep -q 'ip saddr 10.213.103.0/24 ip daddr != 10.213.103.0/24 oifname \"eth0\" masquerade' '$T/nft' &&
             grep -q 'tcp dport 8022 dnat to 10.213.103.50:22' '$T/nft'"
check nat-forwarding "ip_forward is not on" grep -qx 1 <(in_ns dom0 cat /proc/sys/net/ipv4/ip_forward)
check nat-dnsmasq "hvmctl's dnsmasq is not running in dom0" \
    grep -qx dnsmasq <(for p in $(ip netns pids "$P-dom0"); do cat /proc/$p/comm; done)

guest g5 vif5.0 00:16:3e:00:05:00
ok vif-add hv dom0 vif add vif5.0
ip5=$(dhcp g5 eth0)
check guest-dhcp "the guest got no lease from hvmctl's dnsmasq ($(tail -2 "$T/udhcpc-g5.log"))" \
    grep -qE '^10\.213\.103\.1[0-4][0-9]$' <<<"$ip5"
check guest-reaches-lan "the guest cannot ping the LAN target through NAT" can g5 10.213.3.1
serve lan 10.213.3.1 7000
seen=$(in_ns g5 python3 "$HOSTDIR/peer.py" ask 10.213.3.1 7000 2>&1)
check lan-sees-only-dom0 "the LAN saw '$seen', not dom0's 10.213.3.2" [ "$seen" = 10.213.3.2 ]
check lan-no-guest-neighbour "the LAN knows the guest's address or MAC" \
    bash -c "! ip -n $P-lan neigh | grep -qE '10\.213\.103\.|00:16:3e:00:05:00'"

guest g6 vif6.0 00:16:3e:00:06:00
if hv dom0 vif add vif6.0 --mac 00:16:3e:00:06:00 --ip 10.213.103.50 2>"$T/err"; then
    pass vif-add-fixed
else
    fail vif-add-fixed "$(cat "$T/err")"
fi
ip6=$(dhcp g6 eth0)
check fixed-lease "the guest with a fixed lease got '$ip6', not 10.213.103.50" [ "$ip6" = 10.213.103.50 ]
serve g6 10.213.103.50 22
seen=$(in_ns lan python3 "$HOSTDIR/peer.py" ask 10.213.3.2 8022 2>&1)
check port-forward "LAN -> dom0:8022 did not reach the guest's port 22 (got '$seen')" \
    [ "$seen" = 10.213.3.1 ]

shows "show lacks the NAT bridge, dnsmasq, leases, forwards or rules" \
    '^network nat0: nat mode' 'dnsmasq pid [0-9]*, running' '10.213.103.50 +00:16:3e:00:06:00' \
    'table ip hvmctl' 'forward tcp 8022 -> 10.213.103.50:22'

refused down-refused-in-use dom0 "network nat0 is in use by vif5.0, vif6.0" network down
if hv dom0 vif remove vif5.0 && hv dom0 vif remove vif6.0 2>"$T/err"; then pass vif-remove
else fail vif-remove "$(cat "$T/err")"; fi
check fixed-lease-gone "the fixed lease is still in dnsmasq's hosts file" \
    bash -c "! grep -q 00:16:3e:00:06:00 '$T/run-dom0/dnsmasq-nat0.hosts'"
delns g5; delns g6
ok down hv dom0 network down
check down-leaves-nothing "after down, dom0 is not as it was before up" same_as dom0 "$T/pristine"

# a dnsmasq that does not start: the bridge, the rules and forwarding made before it are undone
sed 's|^dns = off|dns = off\ndnsmasq = /bin/false|' "$T/network.conf" >"$T/bad.conf"
refused dnsmasq-fails-rollback dom0 "network nat0: /bin/false did not start" \
    network -c "$T/bad.conf" up
finish

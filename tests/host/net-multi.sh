#!/bin/bash
# Two bridges on two NICs in one config (what xend's network-wrapper did): xenbr0 on eth0 to one
# LAN, xenbr1 on eth1 to another with STP on, forward delay and ageing set. Each guest gets its
# lease from its own LAN only, and frames of one bridge never reach the other's guests.
TEST=net-multi
. "$(dirname "$0")/lib.sh"

mkns dom0 && mkns lan1 && mkns lan2 &&
link dom0 eth0 lan1 eth0 && link dom0 eth1 lan2 eth0 &&
lan lan1 eth0 10.213.4.1/24 10.213.4.100 10.213.4.149 &&
lan lan2 eth0 10.213.5.1/24 10.213.5.100 10.213.5.149 &&
ip -n "$P-dom0" addr add 10.213.4.2/24 dev eth0 &&
ip -n "$P-dom0" addr add 10.213.5.2/24 dev eth1 &&
ip -n "$P-dom0" route add default via 10.213.4.1 ||
    setup_failed "cannot build the namespaces"
network_conf <<EOF
[xenbr0]
mode = bridge
netdev = eth0

[xenbr1]
mode = bridge
netdev = eth1
stp = on
forward-delay = 4
ageing = 120
EOF

ok up hv dom0 network up
check two-bridges "eth0/eth1 are not ports of xenbr0/xenbr1" \
    bash -c "ip -n $P-dom0 -o link show eth0 | grep -q 'master xenbr0' &&
             ip -n $P-dom0 -o link show eth1 | grep -q 'master xenbr1'"
check bridge-settings "xenbr1 does not have stp on, forward delay 4 s, ageing 120 s" \
    grep -qE 'forward_delay 400 .*ageing_time 12000 stp_state 1 ' <(ip -n "$P-dom0" -d link show xenbr1)

guest ga vif10.0 00:16:3e:00:0a:00
guest gb vif11.0 00:16:3e:00:0b:00
if hv dom0 vif add vif10.0 --network xenbr0 2>"$T/err" &&
   hv dom0 vif add vif11.0 --network xenbr1 2>>"$T/err"; then
    pass vif-add
else
    fail vif-add "$(cat "$T/err")"
fi
# STP: the new port listens and learns for 2 x forward-delay before it forwards
for _ in $(seq 30); do
    hv dom0 network show xenbr1 2>/dev/null | grep -qE '^ +vif11.0 +forwarding' && break
    sleep 0.5
done
check stp-forwarding "vif11.0 never reached the forwarding state on xenbr1" \
    grep -qE '^ +vif11.0 +forwarding' <(hv dom0 network show xenbr1)

# watch gb's wire while ga broadcasts (DHCP, then an ARP-ing ping to its LAN)
in_ns gb timeout 12 tcpdump -i eth0 -nn -e -l 'ether src 00:16:3e:00:0a:00' >"$T/gb.cap" 2>/dev/null &
in_ns lan1 timeout 12 tcpdump -i eth0 -nn -e -l 'ether src 00:16:3e:00:0a:00' >"$T/lan1.cap" 2>/dev/null &
sleep 1.5
ipa=$(dhcp ga eth0)
ipb=$(dhcp gb eth0)
check guest-a-lease "guest A got '$ipa', not a lease from LAN 1" grep -qE '^10\.213\.4\.1[0-4][0-9]$' <<<"$ipa"
check guest-b-lease "guest B got '$ipb', not a lease from LAN 2" grep -qE '^10\.213\.5\.1[0-4][0-9]$' <<<"$ipb"
check guest-a-reaches-lan1 "guest A cannot ping LAN 1" can ga 10.213.4.1
check guest-b-reaches-lan2 "guest B cannot ping LAN 2" can gb 10.213.5.1
wait
check leases-apart "a guest's MAC is in the other LAN's leases" \
    bash -c "grep -q 00:16:3e:00:0a:00 '$T/lease-lan1' && ! grep -q 00:16:3e:00:0a:00 '$T/lease-lan2' &&
             grep -q 00:16:3e:00:0b:00 '$T/lease-lan2' && ! grep -q 00:16:3e:00:0b:00 '$T/lease-lan1'"
check frames-apart "guest B's wire saw guest A's frames (or LAN 1 saw none: $(wc -l <"$T/lan1.cap"))" \
    bash -c "grep -q '00:16:3e:00:0a:00 >' '$T/lan1.cap' && ! grep -q '00:16:3e:00:0a:00' '$T/gb.cap'"

if hv dom0 vif remove vif10.0 && hv dom0 vif remove vif11.0 2>"$T/err"; then pass vif-remove
else fail vif-remove "$(cat "$T/err")"; fi
delns ga; delns gb
ok down hv dom0 network down
check down-restores-all "after down, dom0 is not as it was before up" same_as dom0 "$T/pristine"
finish

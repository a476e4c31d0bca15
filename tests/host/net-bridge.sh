#!/bin/bash
# Bridge mode: dom0's NIC (a veth to a LAN namespace) taken by xenbr0 with its addresses and
# default route; guests behind vifs (veths) and a tap get DHCP from the LAN's server and reach the
# LAN; the LAN sees the guests' own MACs; the libxl hotplug entry (vif-hvmctl, called with the
# arguments and environment libxl gives a vif script, against a stand-in xenstored) plumbs a vif
# and a vifD.N-emu tap; `down` is refused while vifs use the bridge, and after it the NIC is back
# exactly as it was.
TEST=net-bridge
. "$(dirname "$0")/lib.sh"

world 1 || setup_failed "cannot build the namespaces"
network_conf <<EOF
# the LAN behind eth0 is 10.213.1.0/24
[xenbr0]
mode = bridge
netdev = eth0
EOF
mac0=$(ip -n "$P-dom0" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

# --- up -------------------------------------------------------------------------------------
ok up hv dom0 network up
check bridge-took-nic "eth0 is not a port of xenbr0" \
    grep -q 'master xenbr0' <(ip -n "$P-dom0" -o link show eth0)
check bridge-took-address "10.213.1.2/24 is not on xenbr0 (or still on eth0)" \
    bash -c "ip -n $P-dom0 -o addr show xenbr0 | grep -q 10.213.1.2/24 &&
             ! ip -n $P-dom0 -o addr show eth0 | grep -q 'inet '"
check bridge-took-route "the default route does not go through xenbr0" \
    grep -q 'default via 10.213.1.1 dev xenbr0 proto static' <(ip -n "$P-dom0" route)
check bridge-took-mac "xenbr0 does not have eth0's MAC $mac0" \
    grep -q "link/ether $mac0" <(ip -n "$P-dom0" -o link show xenbr0)
check bridge-stp-off "xenbr0 has STP on or forward delay != 0" \
    grep -q 'stp_state 0 .*' <(ip -n "$P-dom0" -d link show xenbr0)
check dom0-reaches-lan "dom0 cannot ping the LAN through xenbr0" can dom0 10.213.1.1
out=$(hv dom0 network up 2>&1)
check up-again-harmless "a second up did not say 'already up'" grep -q 'already up' <<<"$out"

# --- a guest behind a vif -------------------------------------------------------------------
guest g5 vif5.0 00:16:3e:00:05:00
ok vif-add hv dom0 vif add vif5.0 --mac 00:16:3e:00:05:00
check vif-host-mac "vif5.0 does not carry fe:ff:ff:ff:ff:ff" \
    grep -q 'master xenbr0.*link/ether fe:ff:ff:ff:ff:ff' <(ip -n "$P-dom0" -o link show vif5.0)
ip5=$(dhcp g5 eth0)
check guest-dhcp "the guest got no DHCP lease from the LAN ($(tail -2 "$T/udhcpc-g5.log"))" \
    grep -qE '^10\.213\.1\.1[0-4][0-9]$' <<<"$ip5"
check guest-reaches-lan "the guest cannot ping the LAN target 10.213.1.1" can g5 10.213.1.1
check lan-sees-guest-mac "the LAN's lease and neighbour table do not show 00:16:3e:00:05:00" \
    bash -c "grep -q '00:16:3e:00:05:00 $ip5' '$T/lease-lan' &&
             ip -n $P-lan neigh show $ip5 | grep -q 00:16:3e:00:05:00"

# --- the libxl hotplug entry: a PV vif and an emulated NIC's tap ------------------------------
ln -s "$HVMCTL" "$T/vif-hvmctl"
cat >"$T/xs-preload" <<EOF
backend/vif/7/0/frontend-id=7
backend/vif/7/0/handle=0
backend/vif/7/0/bridge=xenbr0
backend/vif/7/0/mac=00:16:3e:00:07:00
backend/vif/7/0/script=$T/vif-hvmctl
backend/vif/7/0/type=vif_ioemu
backend/vif/7/0/hotplug-status=
backend/vif/9/0/bridge=xenbr0
backend/vif/9/0/script=$T/vif-hvmctl
EOF
python3 "$HOSTDIR/fake-xenstored.py" "$T/xs.sock" "$T/xs.dump" "$T/xs-preload" &
disown
for _ in $(seq 50); do [ -S "$T/xs.sock" ] && break; sleep 0.1; done
# libxl: script online type_if=vif, env script XENBUS_TYPE XENBUS_PATH XENBUS_BASE_PATH netdev
# INTERFACE (vif_ioemu) vif; stdin /dev/null
hotplug() {  # hotplug DOMID ACTION TYPE
    in_ns dom0 env -i PATH="$PATH" HVMD_RUN_DIR="$T/run-dom0" XENSTORED_PATH="$T/xs.sock" \
        script="$T/vif-hvmctl" XENBUS_TYPE=vif XENBUS_PATH="backend/vif/$1/0" \
        XENBUS_BASE_PATH=backend netdev= INTERFACE="vif$1.0-emu" vif="vif$1.0" \
        "$T/vif-hvmctl" "$2" "type_if=$3" </dev/null
}
guest g7 vif7.0 00:16:3e:00:07:00
ok hotplug-online hotplug 7 online vif
check hotplug-connected "hotplug-status is not 'connected' in xenstore" \
    grep -qx '/local/domain/0/backend/vif/7/0/hotplug-status=connected' "$T/xs.dump"
check hotplug-vif-port "vif7.0 is not a port of xenbr0" \
    grep -q 'master xenbr0' <(ip -n "$P-dom0" -o link show vif7.0)
ip7=$(dhcp g7 eth0)
check hotplug-guest-dhcp "the hotplugged guest got no lease" grep -qE '^10\.213\.1\.' <<<"$ip7"
check hotplug-guest-reaches-lan "the hotplugged guest cannot ping the LAN" can g7 10.213.1.1
ip -n "$P-dom0" tuntap add dev vif7.0-emu mode tap
check hotplug-tap-online-noop "online type_if=tap did something or failed" \
    bash -c "$(declare -f hotplug in_ns); P=$P T=$T; hotplug 7 online tap &&
             ! ip -n $P-dom0 -o link show vif7.0-emu | grep -q master"
ok hotplug-tap-add hotplug 7 add tap
check hotplug-tap-port "vif7.0-emu is not a port of xenbr0 with MAC fe:ff:ff:ff:ff:ff, mtu 1500" \
    grep -qE 'mtu 1500 .*master xenbr0.*link/ether fe:ff:ff:ff:ff:ff' \
    <(ip -n "$P-dom0" -o link show vif7.0-emu)
hotplug 9 online vif 2>"$T/err"; rc=$?
check hotplug-error-reported "a vif that does not exist was not refused with hotplug-error" \
    bash -c "[ $rc = 1 ] && grep -q 'vif9.0: no such device' '$T/err' &&
             grep -qx '/local/domain/0/backend/vif/9/0/hotplug-status=error' '$T/xs.dump' &&
             grep -q '^/local/domain/0/backend/vif/9/0/hotplug-error=vif vif9.0: no such device' '$T/xs.dump'"

# --- show ---------------------------------------------------------------------------------------
shows "show lacks the bridge, its ports with STP state, or the guest's learned MAC" \
    '^network xenbr0: bridge mode, default' '^ +eth0 +forwarding' '^ +vif5.0 +forwarding' \
    '^ +vif5.0 +00:16:3e:00:05:00 +no'

# --- down while in use, then vifs removed, then down ---------------------------------------------
refused down-refused-in-use dom0 "network xenbr0 is in use by vif5.0, vif7.0, vif7.0-emu" network down
if hotplug 7 remove tap && hotplug 7 offline vif && hv dom0 vif remove vif5.0 2>"$T/err"; then
    pass vif-remove
else
    fail vif-remove "$(cat "$T/err")"
fi
check vifs-released "a vif is still a port of xenbr0" \
    bash -c "! ip -n $P-dom0 -o link show | grep -v '^[0-9]*: eth0' | grep -q 'master xenbr0'"
delns g5; delns g7; ip -n "$P-dom0" tuntap del dev vif7.0-emu mode tap
ok down hv dom0 network down
check down-restores-all "after down, dom0 is not as it was before up" same_as dom0 "$T/pristine"
check dom0-reaches-lan-after "dom0 cannot ping the LAN after down" can dom0 10.213.1.1
rm -f "$T/xs.sock"
finish

# tests/host/lib.sh: sourced by the host network tests (tests/host/net-*.sh).
#
# Every test builds its own throwaway network namespaces and never touches the machine's own
# interfaces: a "dom0" namespace where hvmctl runs, "lan" namespaces behind a veth that plays
# dom0's physical NIC (a DHCP server and a ping target on private test addresses that exist only
# in these namespaces), and "guest" namespaces behind veths that play the guests' vifs. All
# traffic is bounded (ping -c N -W 2, udhcpc -t/-T, timeouts), and the EXIT trap removes the
# namespaces and their processes whatever happens.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HVMCTL=${HVMCTL:-$PWD/build/hvmctl}
HOSTDIR=$PWD/tests/host
T=$(mktemp -d /tmp/hvmd-host.XXXXXX)
chmod 755 "$T"               # as /run/hvmd: dnsmasq rereads its hosts file after dropping root
P=hv$$                       # namespace name prefix, unique per test run
NSES=()
npass=0
nfail=0

for tool in ip dnsmasq busybox ping python3 nft tcpdump; do
    if ! command -v "$tool" >/dev/null; then
        echo "FAIL ${TEST:-host}: setup: $tool is missing (images/deps host installs it)"
        exit 1
    fi
done
[ -x "$HVMCTL" ] || { echo "FAIL ${TEST:-host}: setup: $HVMCTL not built"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "FAIL ${TEST:-host}: setup: network namespaces need root"; exit 1; }

cleanup() {
    local ns pid
    for ns in "${NSES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    done
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# setup_failed WHY: the test cannot even begin
setup_failed() { echo "FAIL $TEST/setup: $*"; exit 1; }
pass() { npass=$((npass + 1)); echo "PASS $TEST/$1"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $TEST/$1: $2"; }
# check NAME DESCRIPTION-OF-FAILURE CMD...
check() { local n=$1 why=$2; shift 2; if "$@"; then pass "$n"; else fail "$n" "$why"; fi; }
# ok NAME CMD...: CMD succeeds, else NAME fails with CMD's error output as the reason
ok() { local n=$1; shift; if "$@" 2>"$T/err"; then pass "$n"; else fail "$n" "$(cat "$T/err")"; fi; }
# shows WHY REGEX...: `hvmctl network show` in dom0 has a line matching each (extended) REGEX;
# else the case "show" fails with WHY, and the output follows
shows() {
    local why=$1 re; shift
    hv dom0 network show >"$T/show" 2>&1
    for re in "$@"; do
        grep -qE -- "$re" "$T/show" && continue
        fail show "$why"
        sed 's/^/    /' "$T/show"
        return
    done
    pass show
}

mkns() {   # mkns NAME: a namespace $P-NAME with lo up
    ip netns add "$P-$1" || return 1
    NSES+=("$P-$1")
    ip -n "$P-$1" link set lo up
}
# delns NAME: end its processes and delete it (its veths go with it)
delns() {
    local pid
    for pid in $(ip netns pids "$P-$1" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    for _ in $(seq 20); do [ -z "$(ip netns pids "$P-$1" 2>/dev/null)" ] && break; sleep 0.1; done
    # deleting the veths here is synchronous (a namespace's own teardown is not)
    ip -n "$P-$1" -o link show | awk -F'[:@ ]+' '$2 != "lo" {print $2}' |
        while read -r l; do ip -n "$P-$1" link del "$l" 2>/dev/null; done
    ip netns del "$P-$1"
}
in_ns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }

# hv NS ARGS...: run hvmctl in namespace NS with this test's run directory and config
hv() {
    local ns=$1; shift
    ip netns exec "$P-$ns" env HVMD_RUN_DIR="$T/run-$ns" HVMD_NETWORK_CONF="$T/network.conf" \
        "$HVMCTL" "$@"
}

# link NS1 IF1 NS2 IF2 [MAC2]: a veth pair between two namespaces
link() {
    ip link add "$P-a" type veth peer name "$P-b" || return 1
    ip link set "$P-a" netns "$P-$1" name "$2" || return 1
    ip link set "$P-b" netns "$P-$3" name "$4" || return 1
    [ -n "${5:-}" ] && ip -n "$P-$3" link set "$4" address "$5"
    ip -n "$P-$1" link set "$2" up
    ip -n "$P-$3" link set "$4" up
}

# lan NS IF ADDR/PLEN DHCP-FIRST DHCP-LAST: a LAN router with a DHCP server (dnsmasq)
lan() {
    local ns=$1 ifc=$2 addr=$3
    ip -n "$P-$ns" addr add "$addr" dev "$ifc" || return 1
    in_ns "$ns" dnsmasq --conf-file=/dev/null --interface="$ifc" --bind-interfaces \
        --except-interface=lo --port=0 --dhcp-range="$4,$5,255.255.255.0,600" \
        --dhcp-option=option:router,"${addr%/*}" --dhcp-authoritative \
        --dhcp-leasefile="$T/lease-$ns" --pid-file="$T/dnsmasq-$ns.pid" \
        --log-facility="$T/dnsmasq-$ns.log"
}

# dhcp NS IF: ask for an address with busybox udhcpc (3 tries, 2 s apart); prints it
dhcp() {
    local ns=$1 ifc=$2
    cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc hook: configure what the server offered
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "${router:-}" ] && ip route replace default via "${router%% *}" dev "$interface"
    echo "$ip" >"$IPFILE"
    ;;
esac
exit 0
EOF
    chmod +x "$T/udhcpc.sh"
    rm -f "$T/ip-$ns"
    in_ns "$ns" env IPFILE="$T/ip-$ns" timeout 20 busybox udhcpc -i "$ifc" -n -q -f -t 3 -T 2 \
        -s "$T/udhcpc.sh" >"$T/udhcpc-$ns.log" 2>&1 || return 1
    cat "$T/ip-$ns"
}

# can NS ADDR: 3 pings, 2 s timeout each
can() { in_ns "$1" ping -c 3 -i 0.3 -W 2 "$2" >/dev/null 2>&1; }
cannot() { ! in_ns "$1" ping -c 2 -i 0.3 -W 1 "$2" >/dev/null 2>&1; }

# snapshot NS: everything hvmctl could change in a namespace, to compare before/after
snapshot() {
    local ns=$P-$1 i
    echo "## links"
    ip -n "$ns" -o link show | sed -E 's/^[0-9]+: //; s/\\ +/ /g' | sort
    echo "## addresses"
    ip -n "$ns" -o addr show | sed -E 's/^[0-9]+: //' | grep -v ' fe80::' | sort
    echo "## routes"
    ip -n "$ns" route show table all | grep -vE '^(local |multicast )?(fe80|ff00)::' | sort
    echo "## nftables"
    ip netns exec "$ns" nft list ruleset
    echo "## sysctl"
    ip netns exec "$ns" cat /proc/sys/net/ipv4/ip_forward
    for i in /proc/sys/net/ipv4/conf/*/proxy_arp; do
        echo "$i $(ip netns exec "$ns" cat "$i" 2>/dev/null)"
    done | sed "s|/proc/sys/net/ipv4/conf/||"
    echo "## processes"
    for i in $(ip netns pids "$ns"); do cat "/proc/$i/comm" 2>/dev/null; done | sort
    echo "## run directory"
    [ -d "$T/run-$1" ] && (cd "$T/run-$1" && find . -type f ! -name lock | sort)
    return 0
}

# same_as NS FILE: the namespace looks exactly as snapshot FILE says (diff on stderr if not)
same_as() {
    snapshot "$1" >"$T/now"
    diff -u "$2" "$T/now" >"$T/diff" && return 0
    sed 's/^/    /' "$T/diff" | head -40 >&2
    return 1
}

# refused NAME NS EXPECT ARGS...: hvmctl ARGS fails, says EXPECT, and leaves NS as it was
refused() {
    local name=$1 ns=$2 expect=$3 out rc
    shift 3
    snapshot "$ns" >"$T/before"
    out=$(hv "$ns" "$@" 2>&1); rc=$?
    if [ $rc = 0 ]; then fail "$name" "hvmctl $* succeeded, expected an error"; return; fi
    if ! grep -qF -- "$expect" <<<"$out"; then
        fail "$name" "error message '$out' does not say '$expect'"; return
    fi
    if ! same_as "$ns" "$T/before"; then fail "$name" "hvmctl $* left changes behind"; return; fi
    pass "$name"
}

# a fresh dom0 with one NIC (eth0) to a LAN namespace: dom0 ADDR/PLEN, LAN router .1
# world N: LAN 10.213.N.0/24 (router .1 with DHCP .100-.149), dom0 eth0 10.213.N.2, default via .1
world() {
    local n=$1
    mkns dom0 && mkns lan || return 1
    link dom0 eth0 lan eth0 || return 1
    lan lan eth0 "10.213.$n.1/24" "10.213.$n.100" "10.213.$n.149" || return 1
    ip -n "$P-dom0" addr add "10.213.$n.2/24" dev eth0 || return 1
    ip -n "$P-dom0" route add default via "10.213.$n.1" proto static || return 1
}

# guest NAME VIF MAC: a guest namespace with eth0 (MAC) whose peer in dom0 is VIF
guest() {
    mkns "$1" || return 1
    link dom0 "$2" "$1" eth0 "$3"
}

# network_conf <<EOF: hvmctl's network.conf for this test (stdin), and dom0 as it is before the
# network comes up (the snapshot $T/pristine)
network_conf() { cat >"$T/network.conf"; snapshot dom0 >"$T/pristine"; }

finish() {
    [ "$nfail" = 0 ]
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `hvmctl console --web` in a real browser: hvmd's VNC server (build/vncfake: dm/vnc.c on a
# fakexen machine showing a fixed picture) behind `hvmctl console --web --vnc`, which runs
# websockify with noVNC's pages; headless Chromium opens the printed URL; the page's canvas
# shows the picture, keys typed in the page reach the guest's i8042, and websockify listens on
# the one address asked for and nothing else does. All of it in a network namespace of its own.
# Needs Debian's novnc, websockify, chromium and python3-websocket (images/deps web).
TEST=console-web
top=$(cd "$(dirname "$0")/../.." && pwd)
ns=hvmd-web-$$
T=$(mktemp -d)
pids=()
pass() { echo "PASS $TEST/$1"; }
fail() { echo "FAIL $TEST/$1: $2"; }
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    # and whatever they started (websockify's per-client children, Chromium's zygote and
    # crash handler): everything still running in the namespace
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
for x in /usr/bin/websockify /usr/share/novnc/vnc.html /usr/bin/chromium; do
    [ -e "$x" ] || { fail setup "no $x (images/deps web: novnc websockify chromium)"; exit 1; }
done
/usr/bin/python3 -c "import websocket" 2>/dev/null || { fail setup "no python3-websocket"; exit 1; }
make -s -C "$top" build/vncfake build/hvmctl >/dev/null || { fail setup "make build/vncfake"; exit 1; }
ip netns add "$ns" && ip -n "$ns" link set lo up || { fail setup "network namespace"; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }

in_ns "$top/build/vncfake" 127.0.0.1:7 120 > "$T/vncfake.log" 2>&1 & pids+=($!)
in_ns "$top/build/hvmctl" console --web --vnc 127.0.0.1:5907 > "$T/web.log" 2>&1 & pids+=($!)
url=
for _ in $(seq 50); do
    url=$(grep -oE 'http://[^ ]+' "$T/web.log" | head -1)
    [ -n "$url" ] && in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/6087" 2>/dev/null && break
    sleep 0.2
done
if [[ $url == "http://127.0.0.1:6087/vnc.html?autoconnect=true&resize=scale" ]]; then
    pass url
else
    fail url "hvmctl printed '$url' ($(cat "$T/web.log"))"
fi
# what listens: the VNC server (hvmd's, as it was asked) and websockify on 127.0.0.1:6087 only
listening=$(in_ns ss -Hltn | awk '{ print $4 }' | sort | tr '\n' ' ')
if [ "$listening" = "127.0.0.1:5907 127.0.0.1:6087 " ]; then
    pass listens-only-where-asked
else
    fail listens-only-where-asked "listening: $listening"
fi
in_ns chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T/chrome" \
    --remote-debugging-address=127.0.0.1 --remote-debugging-port=9229 --window-size=800,600 \
    about:blank > "$T/chromium.log" 2>&1 & pids+=($!)
in_ns /usr/bin/python3 "$top/tests/host/console-web.py" 9229 "$url" "$T/vncfake.log" \
    "$T/page.png" || true
mkdir -p "$top/build/host" && cp "$T/page.png" "$top/build/host/console-web.png" 2>/dev/null
grep -q "vnc: client 127.0.0.1 connected" "$T/vncfake.log" && pass vnc-client-was-websockify ||
    fail vnc-client-was-websockify "$(tail -3 "$T/vncfake.log")"

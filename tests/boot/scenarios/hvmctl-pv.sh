# about: hvmctl builds a PV guest (Debian kernel, busybox initrd) from an xl.cfg through libxl: it reaches its marker as fast as under xl create (same run, interleaved), hvmctl console shows its console, hvmctl list shows it, hvmctl destroy leaves nothing
# step: xl-first 180
# step: hvmctl-first 180
# step: xl-second 180
# step: hvmctl-second 180
# step: console 180
# step: destroyed 60
. /etc/hvmd-lib.sh
pv_cfg() { # pv_cfg NAME [CMDLINE-EXTRA]
    cat <<CFG
name = "$1"
type = "pv"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=hvc0 quiet${2:+ $2}"
memory = 256
vcpus = 1
tsc_mode = "native"
on_poweroff = "destroy"
CFG
}
# boot NAME TOOL: create the guest with TOOL (xl | hvmctl), time it to HVMD-GUEST-UP on its
# console log (xenconsoled's, the same file for both tools), destroy it, check nothing is left
boot() {
    local name=$1 tool=$2 log=/var/log/xen/console/guest-$1.log t0 t
    pv_cfg "$name" > "/tmp/$name.cfg"
    rm -f "$log"
    t0=$(now)
    if [ "$tool" = xl ]; then
        xl create "/tmp/$name.cfg" >/tmp/create.out 2>&1 || { cat /tmp/create.out; fail "xl create $name"; }
    else
        hvmctl create "/tmp/$name.cfg" >/tmp/create.out 2>&1 || { cat /tmp/create.out; fail "hvmctl create $name"; }
    fi
    cat /tmp/create.out
    wait_re "$log" HVMD-GUEST-UP 170 || { cat "$log"; fail "$tool: no HVMD-GUEST-UP from $name"; }
    t=$(elapsed "$t0")
    info "$tool create -> marker: $t s"
    eval "T_${tool}=\"\${T_${tool}} $t\""
    wait_re "$log" HVMD-GUEST-DONE 60 || fail "$tool: $name did not finish its init"
    if [ "$tool" = xl ]; then xl destroy "$name"; else hvmctl destroy "$name" || fail "hvmctl destroy $name"; fi
    wait_gone "$name" 30 || fail "$name is still there after destroy"
    sleep 1
    nothing_left || fail "destroying $name left something behind"
}
boot xl1 xl; step xl-first
boot hv1 hvmctl; step hvmctl-first
boot xl2 xl; step xl-second
boot hv2 hvmctl; step hvmctl-second
set -- $T_xl; xa=$1 xb=$2
set -- $T_hvmctl; ha=$1 hb=$2
metric xl_create_to_marker_s "$(awk -v a="$xa" -v b="$xb" 'BEGIN { printf "%.2f", (a + b) / 2 }')" s
metric hvmctl_create_to_marker_s "$(awk -v a="$ha" -v b="$hb" 'BEGIN { printf "%.2f", (a + b) / 2 }')" s
metric hvmctl_over_xl "$(awk -v a="$xa" -v b="$xb" -v c="$ha" -v d="$hb" 'BEGIN { printf "%.3f", (c + d) / (a + b) }')"

# the console: built paused, console attached, then unpaused: every line reaches hvmctl console
pv_cfg pv > /tmp/pv.cfg
hvmctl create -p /tmp/pv.cfg || fail "hvmctl create -p"
hvmctl list
hvmctl list --json > /tmp/list.json; cat /tmp/list.json
grep -q '"name": "pv".*"state": "[-r][-b]p' /tmp/list.json || fail "hvmctl list --json does not show pv paused"
hvmctl console pv > /tmp/console.out 2>&1 < /dev/null &
cpid=$!
sleep 1
hvmctl unpause pv || fail "hvmctl unpause"
wait_re /tmp/console.out HVMD-GUEST-DONE 170 || { cat /tmp/console.out; fail "hvmctl console did not show the guest's console"; }
grep -q "HVMD-GUEST-UP" /tmp/console.out || fail "the console missed HVMD-GUEST-UP"
grep -q "hvmctl: connected to pv" /tmp/console.out || fail "no connect message"
info "console: $(grep -c . /tmp/console.out) lines"
step console
hvmctl destroy pv || fail "hvmctl destroy pv"
wait_gone pv 30 || fail "pv is still there"
# the console client ends when its domain goes
n=0; while kill -0 "$cpid" 2>/dev/null && [ $n -lt 20 ]; do sleep 0.5; n=$((n+1)); done
kill -0 "$cpid" 2>/dev/null && fail "hvmctl console did not end with its domain"
sleep 1
nothing_left || fail "hvmctl destroy left something behind"
[ -z "$(pids_of '^hvmctl create')" ] || fail "a monitor is still running: $(pids_of '^hvmctl create')"
step destroyed

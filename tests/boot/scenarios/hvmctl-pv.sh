# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl builds a PV guest (Debian kernel, busybox initrd) from an xl.cfg through libxl: it reaches its marker as fast as under xl create (same run: one of each under make check, four of each in the order xl hvmctl hvmctl xl twice under make bench), hvmctl console shows its console, hvmctl list shows it, hvmctl destroy leaves nothing; under make check both guests also have a backendtype=qdisk disk that hvmd serves with -machine xenpv (stock xl: device_model_override; hvmctl: its default), the guest's blkfront passes the pattern check on /dev/xvda, and after SIGKILL of hvmd the flushed pattern is in the host image
# step: round-1 400
# step: round-2 400
# step: console 180
# step: destroyed 60
. /etc/hvmd-lib.sh
# boot NAME TOOL [qdisk]: create the guest with TOOL (xl | hvmctl), time it to HVMD-GUEST-UP on
# its console log (xenconsoled's, the same file for both tools), destroy it, check nothing is
# left. With qdisk: the guest also has a backendtype=qdisk disk, which libxl gives to a device
# model (-machine xenpv): hvmd, through device_model_override under xl and by default under
# hvmctl; the guest runs its pattern check on it through blkfront, and once the check passed
# (O_DIRECT writes, fsync: flushed) hvmd is killed with SIGKILL and the pattern must be in the
# host image
boot() {
    local name=$1 tool=$2 qd=${3:-} log=/var/log/xen/console/guest-$1.log t0 t img=/tmp/$1-qd.img
    local -a extra=('on_poweroff = "destroy"')
    if [ -n "$qd" ]; then
        rm -f "$img"; check_disk "$img" 64 disk-pattern
        extra+=("disk = [ \"format=raw,vdev=xvda,access=rw,backendtype=qdisk,target=$img\" ]")
        [ "$tool" = xl ] && extra+=('device_model_version = "qemu-xen"' 'device_model_override = "/usr/lib/hvmd/hvmd"')
    fi
    pv_cfg "$name" quiet "${extra[@]}" > "/tmp/$name.cfg"
    rm -f "$log"
    t0=$(now)
    if [ "$tool" = xl ]; then
        xl create "/tmp/$name.cfg" >/tmp/create.out 2>&1 || { cat /tmp/create.out; fail "xl create $name"; }
    else
        hvmctl create "/tmp/$name.cfg" >/tmp/create.out 2>&1 || { cat /tmp/create.out; fail "hvmctl create $name"; }
    fi
    c=$(elapsed "$t0")
    cat /tmp/create.out
    wait_re "$log" HVMD-GUEST-UP 170 || { cat "$log"; fail "$tool: no HVMD-GUEST-UP from $name"; }
    t=$(elapsed "$t0")
    info "$tool create: returned after $c s, marker after $t s"
    eval "T_${tool}=\"\${T_${tool}} $t\"; C_${tool}=\"\${C_${tool}} $c\""
    wait_re "$log" HVMD-GUEST-DONE 120 || { info "uptime $(now)"; tail -5 "$log"; fail "$tool: $name did not finish its init"; }
    [ -n "$qd" ] && qdisk_killed "$name" "$tool" "$log" "$img"
    if [ "$tool" = xl ]; then xl destroy "$name"; else hvmctl destroy "$name" || fail "hvmctl destroy $name"; fi
    wait_gone "$name" 30 || fail "$name is still there after destroy"
    clean_after "destroying $name"
}
# qdisk_killed NAME TOOL LOG IMAGE: the PV guest NAME's qdisk disk was served by hvmd -machine
# xenpv and passed the pattern check on /dev/xvda; SIGKILL hvmd; the pattern is in IMAGE
qdisk_killed() {
    local name=$1 tool=$2 log=$3 img=$4 d pid args
    d=$(domid "$name"); pid=$(dm_pid "$d")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "$tool: libxl started no device model for $name's qdisk disk"
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    info "$tool: $name's device model: $args"
    case $args in /usr/lib/hvmd/hvmd*"-machine xenpv"*) ;; *) fail "$tool: $name's device model is not hvmd -machine xenpv" ;; esac
    guest_checks_passed "$log" disk-pattern || { grep -i qdisk "/var/log/xen/qemu-dm-$name.log" | tail; fail "$tool: the pattern check on $name's qdisk disk failed"; }
    grep -q "HVMD-CHECK disk-pattern PASS /dev/xvda" "$log" || fail "$tool: the pattern was not checked on /dev/xvda (blkfront)"
    grep -q "backend/qdisk/$d/51712: connected" "/var/log/xen/qemu-dm-$name.log" || fail "$tool: hvmd's qdisk did not log its connection to vbd 51712"
    kill -KILL "$pid" || fail "kill -KILL $pid"
    within 11 gone "$pid" || fail "hvmd (pid $pid) survived SIGKILL"
    pattern_on_image "$img" || fail "$tool: the flushed pattern is not in $img after SIGKILL of hvmd"
    info "$tool: $name's hvmd (pid $pid) killed; the flushed pattern is in $img"
}
# make check: one of each (the figure is make bench's), each with a qdisk disk (above); make
# bench's rounds have no disk (the figure is the plain PV boot's); make bench: four of each in the order
# xl hvmctl hvmctl xl, twice, so that a host that gets slower or faster over the run (the other
# scenarios on these machines) weighs on both tools alike
qd=qdisk; bench_run && qd=
boot xl1 xl $qd; boot hv1 hvmctl $qd; step round-1
if bench_run; then boot hv2 hvmctl; boot xl2 xl; boot xl3 xl; boot hv3 hvmctl; boot hv4 hvmctl; boot xl4 xl; fi; step round-2
mean() { echo "$@" | tr ' ' '\n' | grep . | awk '{ s += $1; n++ } END { printf "%.2f", s / n }'; }
xm=$(mean $T_xl); hm=$(mean $T_hvmctl)
info "xl create -> marker: $T_xl (mean $xm); hvmctl create -> marker: $T_hvmctl (mean $hm)"
info "the create command itself: xl $C_xl, hvmctl $C_hvmctl"
metric xl_create_to_marker_s "$xm" s
metric hvmctl_create_to_marker_s "$hm" s
metric hvmctl_over_xl "$(awk -v a="$xm" -v b="$hm" 'BEGIN { printf "%.3f", b / a }')"
metric xl_create_cmd_s "$(mean $C_xl)" s
metric hvmctl_create_cmd_s "$(mean $C_hvmctl)" s

# the console: built paused, console attached, then unpaused: every line reaches hvmctl console
pv_cfg pv quiet 'on_poweroff = "destroy"' > /tmp/pv.cfg
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
within 21 gone "$cpid" || fail "hvmctl console did not end with its domain"
clean_after "hvmctl destroy"
[ -z "$(pids_of '^hvmctl create')" ] || fail "a monitor is still running: $(pids_of '^hvmctl create')"
step destroyed

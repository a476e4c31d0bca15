# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the boot scenarios in dom0 (bash). Talks to the runner on the host through the
# console: lines starting with @@HVMD- are markers the runner acts on (tests/boot/run).
now() { local u _r; read -r u _r < /proc/uptime; echo "$u"; }
# secs: whole seconds of uptime, without forking (busybox's static date has crashed here)
secs() { local u _r; read -r u _r < /proc/uptime; echo "${u%.*}"; }
# step NAME: this scenario step is done (the runner times each step against its timeout)
step() { echo "@@HVMD-STEP $1 uptime $(now)${2:+ $2}"; }
# metric KEY VALUE [UNIT]: a figure for result.json and make bench
metric() { [ -n "$2" ] || fail "metric $1 has no value"; echo "@@HVMD-METRIC $1 $2${3:+ $3}"; }
fail() { echo "@@HVMD-FAIL $*"; exit 1; }
# export_file PATH [NAME]: hand a text file to the host (build/boot/SCENARIO/files/NAME); the
# runner checks that a .json or .xml one parses
export_file() {
    local n=${2:-${1##*/}} l
    [ -f "$1" ] || fail "export_file: no $1"
    while IFS= read -r l || [ -n "$l" ]; do echo "@@HVMD-FILE $n $l"; done < "$1"
}
info() { echo "== $*"; }
# bench_run: true when make bench runs this scenario (hvmd.bench=1 on dom0's command line):
# figures then take their full number of samples; make check proves the behaviour with fewer
bench_run() { grep -qw "hvmd.bench=1" /proc/cmdline; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# wait_fast FILE REGEX SECS: as wait_re, polling every 0.1 s with bash builtins only, for a
# scenario that measures: a fork and exec costs dom0 (one PV vCPU, nested) real time, and a
# loop of grep and sleep would slow the very thing measured. Reads each line once (fd 8), and
# sleeps on a fifo nobody writes (fd 9).
wait_fast() {
    local f=$1 re=$2 line part= end rc=1
    [ -p /tmp/.hvmd-tick ] || mkfifo /tmp/.hvmd-tick || return 1
    exec 9<> /tmp/.hvmd-tick
    _deadline "$3"; end=$END
    while [ ! -f "$f" ] && _before "$end"; do read -r -t 0.1 -u 9 line; done
    if [ -f "$f" ]; then
        exec 8< "$f"
        while _before "$end"; do
            while IFS= read -r -u 8 line; do
                line=$part$line; part=
                [[ $line =~ $re ]] && { rc=0; break 2; }
            done
            part=$part$line         # a line not finished yet
            read -r -t 0.1 -u 9 line
        done
        exec 8<&-
    fi
    exec 9>&-
    return $rc
}
# _up: whole seconds of uptime into UP, in this shell: a $(secs) subshell has come back empty
# under load here, which ended waits at once ("[: : integer expression expected")
_up() { local u _r; read -r u _r < /proc/uptime; UP=${u%.*}; }
# _before END: the uptime has not reached END (a clock read that failed is not the deadline)
_before() { _up; [ -z "$UP" ] || [ "$UP" -lt "$1" ]; }
# _deadline SECONDS: END = the uptime SECONDS from now
_deadline() { _up; while [ -z "$UP" ]; do sleep 0.1; _up; done; END=$(( UP + $1 )); }
# wait_re FILE REGEX TIMEOUT: wait until FILE has a line matching REGEX (extended)
wait_re() {
    local f=$1 re=$2 t=$3 end
    _deadline "$t"; end=$END
    while _before "$end"; do
        grep -qE "$re" "$f" 2>/dev/null && return 0
        sleep 0.5
    done
    return 1
}
# save_io_round FILE: the last round of the guest's save-io check on FILE's complete lines
# (empty if none). A line the serial console is still writing ("HVMD-SAVE-IO round " before
# its digits, or half of them) does not count: read as round 0, it failed hvmd-kernel once
# ("the guest's loop started over (round 0 after round 3)").
save_io_round() {
    local n
    [ -f "$1" ] || return 0
    n=$(wc -l < "$1")
    head -n "$n" "$1" | grep -oE "HVMD-SAVE-IO round [0-9]+" | tail -1 | awk '{ print $3 + 0 }'
}
# wait_save_io_round FILE SECS: until FILE has a complete save-io round line
wait_save_io_round() {
    local end
    _deadline "$2"; end=$END
    while _before "$end"; do
        [ -n "$(save_io_round "$1")" ] && return 0
        sleep 0.5
    done
    return 1
}
# relay FILE PREFIX: copy FILE's lines to the console as they come, prefixed, in the background
relay() {
    touch "$1"
    tail -n +1 -F "$1" 2>/dev/null | awk -v p="<$2> " '{ print p $0; fflush() }' &
    RELAY_PIDS="$RELAY_PIDS $!"
}
stop_relays() { for p in $RELAY_PIDS $(pids_of 'tail -n \+1 -F'); do kill "$p" 2>/dev/null; done; true; }
# pids_of REGEX: pids of the processes whose command line (arguments joined by spaces, with a
# space after the last) matches REGEX, extended (busybox has no pgrep). Bash builtins only: a
# tr and a grep per process took dom0 (one nested PV vCPU) 5 s per call.
pids_of() {
    local d cmd arg re=$1
    for d in /proc/[0-9]*; do
        [ "${d#/proc/}" = $$ ] && continue
        cmd=
        { while IFS= read -r -d '' arg; do cmd+="$arg "; done; } 2>/dev/null < "$d/cmdline" || continue
        [ -n "$cmd" ] && [[ $cmd =~ $re ]] && echo "${d#/proc/}"
    done
    true
}
trap stop_relays EXIT

# --- guest configs: the test guests' xl.cfg files, written to stdout ------------------------
# xl_cfg DEFAULT... -- LINE...: the DEFAULT lines ("key = value") in their order, a LINE that
# sets the same key taking its default's place ("key =" alone drops the key), then the other
# LINEs in their order (a LINE may span lines: a disk list)
xl_cfg() {
    local -a def=() add=()
    local l a i
    while [ $# -gt 0 ] && [ "$1" != -- ]; do def+=("$1"); shift; done
    shift
    add=("$@")
    for l in "${def[@]}"; do
        for i in "${!add[@]}"; do
            a=${add[$i]}
            [ "${a%% =*}" = "${l%% =*}" ] || continue
            l=$a; unset "add[$i]"; break
        done
        [[ $l =~ ^[a-z_]+\ =\ *$ ]] || printf '%s\n' "$l"
    done
    for a in "${add[@]}"; do printf '%s\n' "$a"; done
}
# pv_cfg NAME ARGS [LINE...]: the PV test guest NAME: /media's Debian kernel and busybox initrd,
# kernel command line "console=hvc0 ARGS", 256 MB, 1 vCPU; LINEs as xl_cfg's ('type = "pvh"'
# makes it PVH). Its first eight lines are always name, type, kernel, ramdisk, cmdline, memory,
# vcpus, tsc_mode: hvmctl-errors checks messages that name those line numbers.
pv_cfg() {
    local n=$1 args=$2; shift 2
    xl_cfg "name = \"$n\"" 'type = "pv"' 'kernel = "/media/guest-vmlinuz"' \
        'ramdisk = "/media/guest-initrd.gz"' "cmdline = \"console=hvc0${args:+ $args}\"" \
        'memory = 256' 'vcpus = 1' 'tsc_mode = "native"' -- "$@"
}
# dm_bin CFG BIN: make xl.cfg CFG run the hvmd binary BIN (in dom0) instead of the installed
# one; nothing if BIN is empty (the *-main scenarios' before / after comparisons in one bed:
# make bed MAIN_HVMD=PATH puts main's build at /usr/lib/hvmd/tests/hvmd-main)
dm_bin() {
    [ -n "$2" ] || return 0
    [ -x "$2" ] || fail "no $2 in dom0 (make bed MAIN_HVMD=/path/to/main/build/hvmd)"
    sed -i "s|/usr/lib/hvmd/hvmd\"|$2\"|" "$1"
}
# hvm_cfg NAME DM [LINE...]: the HVM test guest NAME, 256 MB, 1 vCPU, no VNC. DM hvmd: under
# stock xl with hvmd (device_model_override); qemu-xen: Debian's qemu-xen; for both no VGA, the
# serial port into /tmp/NAME-serial.log, destroyed on poweroff, reboot and crash. DM default:
# none of these lines, the toolstack chooses. LINEs as xl_cfg's (the boot medium, other keys).
hvm_cfg() {
    local n=$1 dm=$2; shift 2
    local -a def=("name = \"$n\"" 'type = "hvm"' 'memory = 256' 'vcpus = 1' 'tsc_mode = "native"'
                  'cpuid = "host,family=0x17"')
    case $dm in
        hvmd|qemu-xen)
            def+=('device_model_version = "qemu-xen"')
            [ "$dm" = hvmd ] && def+=('device_model_override = "/usr/lib/hvmd/hvmd"')
            def+=('vga = "none"' 'vnc = 0' "serial = \"file:/tmp/$n-serial.log\""
                  'on_poweroff = "destroy"' 'on_reboot = "destroy"' 'on_crash = "destroy"') ;;
        default) def+=('vnc = 0') ;;
        *) fail "hvm_cfg $n: device model '$dm' is not hvmd, qemu-xen or default" ;;
    esac
    xl_cfg "${def[@]}" -- "$@"
}
# cd_disks ISO [IMAGE]: the disk line of a guest with ISO in its IDE CD-ROM (hdc) and the raw
# IMAGE, if given, as its first IDE disk (hda)
cd_disks() {
    local cd="\"format=raw,vdev=hdc,access=ro,devtype=cdrom,target=$1\""
    if [ -n "$2" ]; then
        printf 'disk = [ "format=raw,vdev=hda,access=rw,target=%s",\n         %s ]\n' "$2" "$cd"
    else
        printf 'disk = [ %s ]\n' "$cd"
    fi
}

# --- an HVM guest under stock xl -----------------------------------------------------------
# xl_start NAME [PREFIX]: xl create /tmp/NAME.cfg (hvm_cfg's), the device model's log shown if
# it fails; relays the guest's serial port (<NAME>) and, given PREFIX, the device model's log
# (<PREFIX>). Sets t0 (the uptime just before the create), log (the serial port's file), dmlog
# (the device model's log), d (the domain) and pid (its device model's process).
xl_start() {
    log=/tmp/$1-serial.log
    dmlog=/var/log/xen/qemu-dm-$1.log
    t0=$(now)
    xl create "/tmp/$1.cfg" || { cat "$dmlog"; fail "xl create /tmp/$1.cfg"; }
    relay "$log" "$1"
    [ -z "$2" ] || relay "$dmlog" "$2"
    d=$(domid "$1"); pid=$(dm_pid "$d")
}
# guest_up SECS: HVMD-GUEST-UP on the serial port ($log) within SECS (else the domain's last
# lines on Xen's console, and fail)
guest_up() {
    wait_re "$log" HVMD-GUEST-UP "$1" && return 0
    xl dmesg | grep "(d$d)" | tail -20
    fail "no HVMD-GUEST-UP on the guest's serial port"
}
# guest_done SECS [CHECK...]: HVMD-GUEST-DONE on the serial port ($log) within SECS, and each
# in-guest CHECK passed (else the log's last lines, and fail)
guest_done() {
    local t=$1; shift
    wait_re "$log" HVMD-GUEST-DONE "$t" || { tail -40 "$log" | sed 's/^/<serial-log> /'; fail "the guest's checks did not finish"; }
    guest_checks_passed "$log" "$@" || { tail -40 "$log" | sed 's/^/<serial-log> /'; fail "in-guest checks failed: $*"; }
}
# powers_off NAME SECS: the guest powers itself off (and xl's on_poweroff destroys it) within SECS
powers_off() { wait_gone "$1" "$2" || fail "the guest did not power off"; }
# image_kept IMAGE: after the guest's poweroff, the pattern its disk-pattern check wrote is in
# the host-side IMAGE, and a second later nothing is left
image_kept() {
    pattern_on_image "$1" || fail "the pattern is not in the host-side image"
    clean_after poweroff
}
# sercon_text REGEX SECS [METRIC]: REGEX on the serial port ($log, text_re) within SECS, and the
# time since the create ($t0) as METRIC
sercon_text() {
    text_re "$log" "$1" "$2" || return 1
    [ -z "$3" ] || metric "$3" "$(elapsed "$t0")" s
}
# dm_metrics PID: the device model's resident and peak memory, as metrics dm_rss_kb, dm_hwm_kb
dm_metrics() { set -- $(dm_mem_kb "$1"); metric dm_rss_kb "$1" kB; metric dm_hwm_kb "$2" kB; }
# clean_after WHAT: within 10 s of WHAT, nothing is left (nothing_left), else fail naming WHAT
# and what is left (a domain xl shutdown -w saw shut down is still dying for a few seconds
# while Xen frees its memory: seen in hvmd-pause)
clean_after() {
    local i
    for (( i = 0; i < 20; i++ )); do
        sleep 0.5
        nothing_left >/dev/null && return 0
    done
    nothing_left || fail "$1 left something behind"
}
# within TRIES CMD...: CMD succeeds, tried up to TRIES times half a second apart
within() {
    local n=$1 i; shift
    for (( i = 1; ; i++ )); do
        "$@" && return 0
        [ "$i" -lt "$n" ] || return 1
        sleep 0.5
    done
}
# gone PID: the process has exited
gone() { [ ! -d "/proc/$1" ]; }
# no_process REGEX: no process's command line matches REGEX (pids_of)
no_process() { [ -z "$(pids_of "$1")" ]; }
# text_re FILE REGEX TIMEOUT: as wait_re, on FILE's text without the ANSI escapes SeaBIOS's
# sercon puts around the BIOS console's characters
text_re() {
    local end esc=$'\033'
    _deadline "$3"; end=$END
    while _before "$end"; do
        sed "s/${esc}\[[0-9;?]*[A-Za-z]//g" "$1" 2>/dev/null | grep -qE "$2" && return 0
        sleep 0.5
    done
    return 1
}

# vga_text DOMAIN FILE: the VGA text screen (80x25 at 0xb8000) of DOMAIN's device model, read
# with the monitor's xp as xl users do, characters only, one line per row, into FILE
vga_text() {
    xl qemu-monitor-command "$1" "xp /4000xb 0xb8000" > "$2.xp" || return 1
    awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^0x/) b[n++] = $i + 0 }
         END { if (n < 4000) exit 1
               for (r = 0; r < 25; r++) { l = ""
                   for (c = 0; c < 80; c++) { ch = b[2 * (r * 80 + c)]
                       l = l sprintf("%c", (ch >= 32 && ch < 127) ? ch : 32) }
                   sub(/ +$/, "", l); print l } }' "$2.xp" > "$2"
}
# screendump DOMAIN FILE [png|ppm]: the monitor's screendump of DOMAIN's screen into FILE
screendump() {
    local out
    out=$(xl qemu-monitor-command "$1" "screendump $2 -f ${3:-ppm}") || return 1
    [ -z "$out" ] || { info "screendump: $out"; return 1; }
    [ -s "$2" ]
}
# export_binary PATH [NAME]: hand a binary file to the host as base64 text (files/NAME.b64;
# base64 -d gives it back)
export_binary() { base64 "$1" > "/tmp/${2:-${1##*/}}.b64" && export_file "/tmp/${2:-${1##*/}}.b64"; }

# vga_speed_metrics: the guest's vga-speed check's figures ($log) as metrics
vga_speed_metrics() {
    local line
    line=$(grep -a "HVMD-CHECK vga-speed PASS" "$log" | head -1)
    [ -n "$line" ] || return 0
    metric vga_text_1000_writes_us "$(echo "$line" | sed -n 's/.*text_1000_us=\([0-9]*\).*/\1/p')" us
    local fill
    fill=$(echo "$line" | sed -n 's/.*lfb_fill_us=\([0-9]*\).*/\1/p')
    if [ -n "$fill" ]; then metric vga_lfb_fill_1024x768x32_us "$fill" us; else info "vga-speed: ${line#*PASS }"; fi
}

# --- hvmctl run ------------------------------------------------------------------------------
# hvmctl_run LOG ARGS...: hvmctl run ARGS, its output into LOG and relayed with a "<run> " prefix
# (the bed's runner must not take a guest's console line, a panic, for dom0's); exit status in RC
hvmctl_run() {
    local log=$1 pid; shift
    hvmctl run "$@" > "$log" 2>&1 &
    pid=$!
    relay "$log" run
    wait "$pid"; RC=$?
    sleep 0.3
}
# json_str FILE KEY, json_num FILE KEY: the first string or number value of "KEY" in FILE
json_str() { grep -o "\"$2\": \"[^\"]*\"" "$1" | head -1 | sed 's/^[^:]*: "//; s/"$//'; }
json_num() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | awk '{ print $2 }'; }

# check_disk PATH SIZE_MB CHECK...: a raw image whose first sector asks the guest for CHECKs
check_disk() {
    local p=$1 mb=$2; shift 2
    dd if=/dev/zero of="$p" bs=1M count=0 seek="$mb" 2>/dev/null
    printf 'HVMD-CHECKS: %s\n' "$*" | dd of="$p" conv=notrunc 2>/dev/null
}
# pattern_on_image PATH: the guest's disk-pattern check left its pattern at 1 MiB in PATH
pattern_on_image() {
    local want got
    want=$(hvmd-pattern 8192 | md5sum | cut -d' ' -f1)
    got=$(dd if="$1" bs=1M skip=1 count=4 2>/dev/null | md5sum | cut -d' ' -f1)
    [ "$want" = "$got" ]
}
# guest_checks_passed LOG CHECK...: each CHECK reported PASS in the guest's console LOG
guest_checks_passed() {
    local log=$1 c; shift
    for c in "$@"; do
        grep -q "HVMD-CHECK $c PASS" "$log" || { grep "HVMD-CHECK $c" "$log"; return 1; }
    done
}
domid() { xl domid "$1" 2>/dev/null; }
dm_pid() { xenstore-read "/local/domain/$1/image/device-model-pid" 2>/dev/null; }
# dm_qmp DOMID JSON...: QMP commands to the device model of DOMID on the socket libxl leaves
# alone (libxenstat's), one answer line each; non-zero if one failed (images/hvmd-qmp.c)
dm_qmp() { local d=$1; shift; hvmd-qmp "/var/run/xen/qmp-libxenstat-$d" "$@"; }
# dm_mem_kb PID: resident (VmRSS) and peak (VmHWM) memory of a process, "rss hwm" in kB
dm_mem_kb() { awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { print r, h }' "/proc/$1/status"; }
# dm_events: event-channel notifications delivered so far to device-model processes in dom0
# (hvmd or qemu-xen): Xen signals one for every synchronous ioreq it hands a device model, so
# the difference between two readings counts the requests served in between, whichever model
dm_events() {
    awk '$NF ~ /^evtchn:(hvmd|qemu|xen-qemu)/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i }
         END { print s + 0 }' /proc/interrupts
}
# dm_cpu_s PID: user+system CPU time the process has used, in seconds
dm_cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
# wait_gone NAME TIMEOUT: the domain has left xl list
wait_gone() {
    local end
    _deadline "$2"; end=$END
    while _before "$end"; do
        xl list "$1" >/dev/null 2>&1 || return 0
        sleep 0.5
    done
    return 1
}
# nothing_left: no guest domain, no device model, no device-model or backend xenstore node
nothing_left() {
    local left=
    local doms; doms=$(xl list | tail -n +2 | grep -v '^Domain-0' | awk '{ print $1 "(id " $2 ", " $5 ")" }' | tr '\n' ' ')
    [ -z "$doms" ] || left="$left domains:$doms"
    local dms; dms=$(pids_of '^[^ ]*(xen-qemu-system|/hvmd )' | tr '\n' ' ')
    [ -z "$dms" ] || left="$left device-model-pids:$dms"
    [ -z "$(xenstore-list /local/domain/0/device-model 2>/dev/null)" ] || left="$left xenstore:/local/domain/0/device-model/$(xenstore-list /local/domain/0/device-model | tr '\n' ' ')"
    local t
    for t in $(xenstore-list /local/domain/0/backend 2>/dev/null); do
        [ -z "$(xenstore-list "/local/domain/0/backend/$t" 2>/dev/null)" ] || left="$left xenstore:backend/$t/$(xenstore-list "/local/domain/0/backend/$t" | tr '\n' ' ')"
    done
    [ -z "$left" ] || { echo "left behind:$left"; return 1; }
}

# ---- the guest's network check (images/guest/checks/net) and dom0's side of it ----
# NET_MB: MiB each way; make check moves 4 (on the shared bed a round trip costs 5-15 times
# TESTBED's; the rtl8139 guest took 129 s for 64 MiB down), make bench (hvmd.bench=1) 64
NET_MB=${NET_MB:-4}; bench_run && NET_MB=64
# taps: the emulated NICs' taps (vifD.N-emu) dom0 has
taps() { ls /sys/class/net | grep -- '-emu$' | tr '\n' ' '; }
# plain_bridge: the bridge a stock-xl host has (xenbr0, 10.9.0.1/24) with dnsmasq's DHCP on it;
# plain_bridge_down removes both
plain_bridge() {
    ip link add xenbr0 type bridge && ip addr add 10.9.0.1/24 dev xenbr0 && ip link set xenbr0 up ||
        fail "cannot make the bridge"
    dnsmasq --conf-file=/dev/null --pid-file=/tmp/dnsmasq-br.pid --interface=xenbr0 --bind-interfaces \
        --except-interface=lo --dhcp-range=10.9.0.50,10.9.0.99,255.255.255.0,600 --port=0 \
        --dhcp-leasefile=/tmp/dnsmasq-br.leases || fail "dnsmasq on xenbr0"
}
plain_bridge_down() { kill "$(cat /tmp/dnsmasq-br.pid)" 2>/dev/null; ip link del xenbr0; }
# median FORMAT N...: the median of the numbers N (sorted by the caller), printf'd with FORMAT
median() {
    local f=$1; shift
    awk -v a="$(eval echo \${$(( ($# + 1) / 2 ))})" -v b="$(eval echo \${$(( $# / 2 + 1 ))})" -v f="$f" \
        'BEGIN { printf f, (a + b) / 2 }'
}
# hotplug_guest NAME CHECKS: hvmd-xl-qmp's guest under stock xl + hvmd (the bed's kernel and
# initrd, vcpus=1 maxvcpus=2, a USB tablet, no VGA, serial on a pty) running the in-guest
# CHECKS (their kernel arguments too, e.g. "hvmd.s3loop=5 hvmd.checks=s3-loop"); sets d, pid,
# dmlog and con (its serial console's log, followed)
hotplug_guest() {
    local n=$1 args=$2
    cat > "/tmp/$n.cfg" <<CFG
name = "$n"
type = "hvm"
memory = 256
vcpus = 1
maxvcpus = 2
tsc_mode = "native"
cpuid = "host,family=0x17"
device_model_version = "qemu-xen"
device_model_override = "/usr/lib/hvmd/hvmd"
vga = "none"
vnc = 0
serial = "pty"
usbdevice = "tablet"
kernel = "/media/guest-vmlinuz"
ramdisk = "/media/guest-initrd.gz"
cmdline = "console=ttyS0,115200 quiet no_console_suspend $args"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
    dmlog=/var/log/xen/qemu-dm-$n.log
    con=/tmp/$n-console.log
    xl create "/tmp/$n.cfg" || { cat "$dmlog"; fail "xl create /tmp/$n.cfg"; }
    d=$(domid "$n"); pid=$(dm_pid "$d")
    relay "$dmlog" hvmd
    xl console -t serial "$n" > "$con" 2>&1 &
    relay "$con" "$n"
}
# pxe_network_up CHECKS: the NAT network nat0 (10.0.100.1/24) whose dnsmasq hands out
# /tmp/pxe/boot.ipxe by DHCP + TFTP (boot-dir, boot-file); the script fetches the bed's guest
# kernel and initrd over HTTP from dom0 (/tmp/www on port 8000: the caller starts httpd) and
# boots them with hvmd.checks=CHECKS
pxe_network_up() {
    mkdir -p /tmp/pxe /tmp/www
    cp /media/guest-vmlinuz /tmp/www/vmlinuz && cp /media/guest-initrd.gz /tmp/www/initrd.gz && chmod -R a+rX /tmp/www
    cat > /tmp/pxe/boot.ipxe <<IPXE
#!ipxe
echo hvmd-net: iPXE script from the network's boot-dir
kernel http://10.0.100.1:8000/vmlinuz console=ttyS0,115200 xen_emul_unplug=never quiet hvmd.checks=$1
initrd http://10.0.100.1:8000/initrd.gz
boot
IPXE
    chmod -R a+rX /tmp/pxe
    cat > /etc/hvmd/network.conf <<CONF
[nat0]
mode = nat
subnet = 10.0.100.1/24
boot-dir = /tmp/pxe
boot-file = boot.ipxe
CONF
    hvmctl network up || fail "hvmctl network up"
    hvmctl network show | sed 's/^/    /'
    [ -n "$(pids_of 'dnsmasq.*--tftp-root=/tmp/pxe')" ] || fail "the network's dnsmasq serves no TFTP"
}
# net_serve: dom0's side: NET_MB MiB behind httpd on port 8000 (/down, /down.md5, /up.mb) and
# a listener on 5001 for the guest's NET_MB MiB (into /tmp/up.bin). Figures: NET_DOWN_MB and
# NET_UP_MB size each way apart, NET_ROUNDS times each (listeners on 5001..5000+NET_ROUNDS,
# into /tmp/up.bin, /tmp/up.2, ...), NET_TIMEOUT the guest's seconds per transfer
net_serve() {
    local down_mb=${NET_DOWN_MB:-$NET_MB} r=${NET_ROUNDS:-1} i
    mkdir -p /tmp/www
    [ "$(stat -c %s /tmp/www/down 2>/dev/null)" = $((down_mb << 20)) ] ||
        dd if=/dev/urandom of=/tmp/www/down bs=1M count="$down_mb" 2>/dev/null
    md5sum < /tmp/www/down > /tmp/www/down.md5
    if [ "$r" = 1 ] && [ -z "${NET_TIMEOUT:-}" ]; then echo "${NET_UP_MB:-$NET_MB}"
    else echo "${NET_UP_MB:-$NET_MB} $r ${NET_TIMEOUT:-400}"; fi > /tmp/www/up.mb
    [ -n "$(pids_of 'httpd -p 8000')" ] || busybox httpd -p 8000 -h /tmp/www || fail "httpd"
    rm -f /tmp/up.bin /tmp/up.[0-9]*
    # (a background job's stdin is /dev/null: nc would half-close at once and the guest's nc stop)
    (sleep 100000 | busybox nc -l -p 5001 > /tmp/up.bin) &
    for (( i = 2; i <= r; i++ )); do
        (sleep 100000 | busybox nc -l -p $((5000 + i)) > /tmp/up.$i) &
    done
}
# net_done SECS: the guest's checks done within SECS (else what dom0 saw of the network, and fail)
net_done() {
    wait_re "$log" HVMD-GUEST-DONE "$1" && { guest_done 5 net; return; }
    info "the guest's net check did not end: dom0's view"
    grep -E 'vif|xenbr|nat0' /proc/net/dev | sed 's/^/== /'
    ls -la /tmp/up.bin 2>&1 | sed 's/^/== /'
    tail -15 "$dmlog" | sed 's/^/== /'
    guest_done 5 net
}
# net_checked LOG LABEL [DRV]: the guest's net check passed (over a driver DRV matches, a regex, if
# given) and dom0
# got the md5 it sent; metrics LABEL_down_MBps and LABEL_up_MBps (with NET_ROUNDS: each
# round's upload checked, the medians, and LABEL_down_MBps_min/_max, LABEL_up_MBps_min/_max)
net_checked() {
    local line up got k s f r=${NET_ROUNDS:-1} i mb list
    local down_mb=${NET_DOWN_MB:-$NET_MB} up_mb=${NET_UP_MB:-$NET_MB} label=$2
    line=$(grep -a "HVMD-CHECK net PASS" "$1" | head -1)
    info "$2: ${line#*PASS }"
    [ -z "${3:-}" ] || echo "$line" | grep -Eq "drv=($3) " || fail "$2: the guest's check did not run over $3: $line"
    up=$(echo "$line" | grep -o 'up_md5=[0-9a-f]*' | cut -d= -f2)
    within 60 no_process 'nc -l -p 50[0-9][0-9]' || fail "$2: dom0's listener is still waiting"
    for (( i = 1; i <= r; i++ )); do
        f=/tmp/up.$i; [ "$i" = 1 ] && f=/tmp/up.bin
        got=$(md5sum < "$f" | cut -d' ' -f1)
        [ -n "$up" ] && [ "$up" = "$got" ] || fail "$2: dom0 received md5 $got ($(wc -c < "$f") bytes), the guest sent $up"
        [ "$(wc -c < "$f")" = $((up_mb << 20)) ] || fail "$2: dom0 received $(wc -c < "$f") bytes, not $up_mb MiB"
    done
    for k in down_s up_s; do
        mb=$down_mb; [ "$k" = up_s ] && mb=$up_mb
        list=$(echo "$line" | grep -o " ${k%_s}s=[0-9.,]*" | cut -d= -f2)
        if [ -n "$list" ]; then
            # MB/s of each round: the median, the slowest and the fastest
            set -- $(echo "$list" | tr ',' '\n' | awk -v m="$mb" '{ print m / ($1 > 0 ? $1 : 0.1) }' | sort -g)
            metric "${label}_${k%_s}_MBps" "$(median %.3f "$@")" MB/s
            metric "${label}_${k%_s}_MBps_min" "$(printf %.3f "$1")" MB/s
            metric "${label}_${k%_s}_MBps_max" "$(eval printf %.3f \${$#})" MB/s
            continue
        fi
        s=$(echo "$line" | grep -o "$k=[0-9.]*" | cut -d= -f2)
        [ -n "$s" ] && metric "${label}_${k%_s}_MBps" "$(awk -v s="$s" -v m="$mb" 'BEGIN { printf "%.2f", m / (s > 0 ? s : 0.1) }')" MB/s
    done
}

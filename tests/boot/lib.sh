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
# relay FILE PREFIX: copy FILE's lines to the console as they come, prefixed, in the background
relay() {
    touch "$1"
    tail -n +1 -F "$1" 2>/dev/null | awk -v p="<$2> " '{ print p $0; fflush() }' &
    RELAY_PIDS="$RELAY_PIDS $!"
}
stop_relays() { for p in $RELAY_PIDS $(pids_of 'tail -n \+1 -F'); do kill "$p" 2>/dev/null; done; true; }
# pids_of REGEX: pids of the processes whose command line matches REGEX (busybox has no pgrep)
pids_of() {
    local d cmd
    for d in /proc/[0-9]*; do
        [ "${d#/proc/}" = $$ ] && continue
        cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
        [ -n "$cmd" ] && echo "$cmd" | grep -qE "$1" && echo "${d#/proc/}"
    done
    true
}
trap stop_relays EXIT

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
    [ "$(xl list | tail -n +2 | grep -vc '^Domain-0')" = 0 ] || left="$left domains:$(xl list | tail -n +2 | grep -v '^Domain-0' | awk '{print $1}' | tr '\n' ' ')"
    local dms; dms=$(pids_of '^[^ ]*(xen-qemu-system|/hvmd )' | tr '\n' ' ')
    [ -z "$dms" ] || left="$left device-model-pids:$dms"
    [ -z "$(xenstore-list /local/domain/0/device-model 2>/dev/null)" ] || left="$left xenstore:/local/domain/0/device-model/$(xenstore-list /local/domain/0/device-model | tr '\n' ' ')"
    local t
    for t in $(xenstore-list /local/domain/0/backend 2>/dev/null); do
        [ -z "$(xenstore-list "/local/domain/0/backend/$t" 2>/dev/null)" ] || left="$left xenstore:backend/$t/$(xenstore-list "/local/domain/0/backend/$t" | tr '\n' ' ')"
    done
    [ -z "$left" ] || { echo "left behind:$left"; return 1; }
}

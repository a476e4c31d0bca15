#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/boot/between.sh (dom0's /etc/hvmd-between.sh): what the bed's init (images/dom0-init)
# runs around the scenarios when one dom0 runs several of them one after another.
#   between.sh snapshot        before the first: what dom0 has when it is up (processes,
#                              network devices, mounts, xenstore's keys, /etc/hvmd and /etc/xen)
#   between.sh check NAME      after NAME ended well: NAME left nothing of the product behind
#                              (domains, device models, xl, hvmctl or dnsmasq processes, network
#                              devices, mounts, xenstore nodes); prints @@HVMD-FAIL naming each
#                              thing and exits 1 if it did. Then puts back what scenarios may
#                              change without it being a leftover of the product (their files in
#                              /tmp, the logs, the configuration they wrote, the test's own
#                              background processes), so that the next scenario starts as if
#                              dom0 had just booted, and prints @@HVMD-CLEAN NAME.
# A leftover found here is a real defect (a stray tap, a domain, a device model that outlived
# its guest) or a scenario that does not clean up after itself: both fail that scenario.
. /etc/hvmd-lib.sh
S=/run/.bed-snapshot

# the processes of dom0 now: "PID COMM" for every user-space process (kernel threads have an
# empty command line), less this script and the init's shell
procs() {
    local d c a
    for d in /proc/[0-9]*; do
        a=; IFS= read -r -d '' a < "$d/cmdline" 2>/dev/null   # (a file of /proc has size 0)
        [ -n "$a" ] || continue
        read -r c < "$d/comm" 2>/dev/null || continue
        echo "${d#/proc/} $c"
    done | sort
}
# xenstore's nodes where a guest's toolstack and device model write (not the whole tree: one
# xenstore request is a round trip to xenstored, slow in the nested dom0; nothing_left looks at
# backends and device-model too)
# added FILE: the lines of stdin that FILE does not have (dom0's busybox has no comm)
added() { awk 'NR == FNR { old[$0] = 1; next } !($0 in old)' "$1" -; }
xskeys() {
    local p
    for p in /local/domain /vm /libxl /local/domain/0/device-model /local/domain/0/backend; do
        xenstore-list "$p" 2>/dev/null | sed "s|^|$p/|"
    done | sort
}

snapshot() {
    rm -rf "$S"; mkdir -p "$S/etc"
    procs > "$S/procs"
    ls /sys/class/net | sort > "$S/net"
    awk '{ print $2 }' /proc/mounts | sort > "$S/mounts"
    xskeys > "$S/xs"
    local e
    for e in hvmd xen; do [ -e "/etc/$e" ] && cp -a "/etc/$e" "$S/etc/"; done
    true
}

check() {
    local name=$1 left= p c i new t0
    t0=$(now)
    # the domains and device models nothing_left (lib.sh) looks for; a dying domain may take a
    # few seconds to go
    for (( i = 0; i < 20; i++ )); do new=$(nothing_left) && break; sleep 0.5; done
    [ $i -lt 20 ] || left="$left ${new#left behind:};"
    [ $i = 0 ] || info "between: waited for the domains and device models to go ($i times: ${new#left behind:})"
    info "between: $(elapsed "$t0") s domains"
    # processes started since dom0 came up: the product's are leftovers, the test's own (a tail
    # relaying a log, a sleep) are stopped
    local -a stray=()
    while read -r p c; do
        case $c in
            hvmd*|qemu*|xl|hvmctl*|dnsmasq|xenconsole|vif-*|libvirtd|virsh|virtlogd) left="$left process $c (pid $p);" ;;
            *) stray+=("$p") ;;
        esac
    done < <(procs | awk 'NR == FNR { old[$1] = 1; next } !($1 in old)' "$S/procs" - | grep -v -e "^$$ " -e "^$PPID ")
    info "between: $(elapsed "$t0") s processes"
    new=$(ls /sys/class/net | sort | added "$S/net" | tr '\n' ' ')
    [ -z "$new" ] || left="$left network devices: $new;"
    new=$(awk '{ print $2 }' /proc/mounts | sort | added "$S/mounts" | tr '\n' ' ')
    [ -z "$new" ] || left="$left mounts: $new;"
    new=$(xskeys | added "$S/xs" | head -5 | tr '\n' ' ')
    [ -z "$new" ] || left="$left xenstore: $new;"
    info "between: $(elapsed "$t0") s xenstore"
    if [ -n "$left" ]; then
        echo "@@HVMD-FAIL $name left behind:$left"
        return 1
    fi
    # the test's own: processes, files, logs, the configuration it wrote
    [ ${#stray[@]} -eq 0 ] || kill -9 "${stray[@]}" 2>/dev/null
    rm -rf /tmp/* /tmp/.[!.]* /run/hvmd 2>/dev/null
    find /var/log/xen -type f -delete 2>/dev/null
    local e
    for e in hvmd xen; do
        rm -rf "/etc/$e"
        [ -e "$S/etc/$e" ] && cp -a "$S/etc/$e" /etc/
    done
    echo "@@HVMD-CLEAN $name (checked and reset in $(elapsed "$t0") s)"
}

case $1 in
    snapshot) snapshot ;;
    check) check "$2" ;;
    *) echo "usage: between.sh snapshot | check NAME" >&2; exit 2 ;;
esac

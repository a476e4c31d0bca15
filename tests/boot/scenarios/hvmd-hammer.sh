# SPDX-License-Identifier: GPL-2.0-only
# about: issue 16's hostile guest: a Linux HVM guest under hvmd (direct kernel boot, stdvga, USB tablet, an IDE disk and the CD, e1000 and rtl8139 on a bridge) runs hvmd-hammer (images/guest/hammer.c: with iopl(3), random values and widths on every port 0-0xffff, string I/O, every PCI memory and ROM BAR, the VGA window, PCI configuration space with BARs moved and put back; a small skip list of the documented reset and power-off writes) for 10 minutes (dom0 command line hvmd.hammer-seconds=N for a shorter run); a guest that dies of its own damage is replaced by a new domain (counted as lifetimes). Checked: no hvmd ever exits while its domain is there, each hvmd's log stays under 1 MB and shows no assert or sanitizer report, dom0 answers xl list and xenstore-read every few seconds (the worst latency is a metric), and xl destroy leaves nothing behind
# option: manual = yes
# step: dm-running 120
# step: hammer-start 300
# step: hammered 2700
# step: destroyed 60
. /etc/hvmd-lib.sh
total=600; seed0=$(( $(date +%s) % 100000 ))
for w in $(cat /proc/cmdline); do
    case $w in hvmd.hammer-seconds=*) total=${w#*=} ;; hvmd.hammer-seed=*) seed0=${w#*=} ;; esac
done
# (a cap on the whole run: guests that die at once must not hold the bed for ever)
cap=$(( total * 3 + 900 ))
info "hammer: $total s in all, seeds from $seed0"
# the devices a guest can reach: two NICs on a bridge with no traffic of its own, an IDE disk
# (scratch) and the CD, the USB tablet, the standard VGA
ip link add xenbr0 type bridge && ip link set xenbr0 up || fail "cannot make the bridge"
dd if=/dev/zero of=/tmp/hammer-disk.img bs=1M count=0 seek=16 2>/dev/null
probe_max=0; probe_n=0
# probe: dom0 answers xl list and a xenstore read; its time in probe_last, the worst in probe_max
probe() {
    local t; t=$(now)
    xl list > /dev/null 2>&1
    xenstore-read /local/domain/0/name > /dev/null 2>&1
    probe_last=$(elapsed "$t")
    probe_n=$((probe_n + 1))
    probe_max=$(awk -v a="$probe_max" -v b="$probe_last" 'BEGIN { print (b > a) ? b : a }')
}
probe; info "dom0 probe before any guest: $probe_last s"; probe_max=0
lives=0; hammered=0; start=$(secs); dead_guest=0; hung=0; logmax=0
while [ "$hammered" -lt "$total" ]; do
    [ $(( $(secs) - start )) -lt "$cap" ] || fail "the guests kept dying: $hammered s of $total hammered in $lives lifetimes"
    lives=$((lives + 1)); seed=$((seed0 + lives)); left=$((total - hammered))
    hvm_cfg hammer hvmd "$(cd_disks /media/linux.iso /tmp/hammer-disk.img)" \
        'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
        "cmdline = \"console=ttyS0,115200 loglevel=3 xen_emul_unplug=never hvmd.checks=hammer hvmd.hammer=$left hvmd.hammer-seed=$seed\"" \
        'vga = "stdvga"' 'usbdevice = "tablet"' "serial = \"file:/tmp/hammer-$lives.log\"" \
        'vif = [ "mac=00:16:3e:00:16:01,model=e1000,bridge=xenbr0", "mac=00:16:3e:00:16:02,model=rtl8139,bridge=xenbr0" ]' \
        > /tmp/hammer.cfg
    rm -f "/tmp/hammer-$lives.log"
    xl_start hammer
    log=/tmp/hammer-$lives.log
    relay "$log" "hammer-$lives"
    [ -n "$pid" ] || fail "lifetime $lives: no device model for domain ${d:-none}"
    info "lifetime $lives: domain $d, hvmd pid $pid, seed $seed, $left s to hammer"
    [ $lives = 1 ] && step dm-running
    wait_re "$log" "HVMD-HAMMER start" 290 || { xl dmesg | grep "(d$d)" | tail -20; tail -20 "$dmlog"; fail "lifetime $lives: the hammer did not start"; }
    info "lifetime $lives: $(grep -a -o 'HVMD-HAMMER start.*' "$log" | head -1)"
    [ $lives = 1 ] && step hammer-start
    t_start=$(secs); beat=$t_start; beats=0; why=
    while :; do
        sleep 3
        probe
        if ! xl list hammer > /dev/null 2>&1; then why="the domain went away"; break; fi
        if gone "$pid"; then
            # (the domain may just be going: libxl kills hvmd as it destroys it)
            sleep 2
            xl list hammer > /dev/null 2>&1 && { tail -30 "$dmlog"; fail "lifetime $lives: hvmd (pid $pid) exited while its domain $d is there"; }
            why="the domain went away"; break
        fi
        grep -aq "HVMD-HAMMER done" "$log" && { why="done"; break; }
        n=$(grep -ac "HVMD-HAMMER alive" "$log")
        [ "$n" != "$beats" ] && { beats=$n; beat=$(secs); }
        if [ $(( $(secs) - beat )) -gt 60 ]; then why="no heartbeat for 60 s (guest hung)"; break; fi
        [ $(( hammered + $(secs) - t_start )) -lt $((total + 30)) ] || { why="time"; break; }
    done
    spent=$(( $(secs) - t_start ))
    # the time the hammer ran: to its last heartbeat (5 s apart), or to its end
    last_t=$(grep -a -o "HVMD-HAMMER alive t=[0-9]*" "$log" | tail -1 | sed 's/.*t=//')
    case $why in done|time) ran=$spent ;; *) ran=${last_t:-0} ;; esac
    hammered=$((hammered + ran))
    info "lifetime $lives ended after $spent s ($ran s hammered, $hammered s in all): $why; worst dom0 probe so far ${probe_max} s"
    grep -a "HVMD-HAMMER \(run\|done\)" "$log" | tail -3 | sed 's/^/== guest: /'
    if [ "$why" != done ] && [ "$why" != time ]; then
        dead_guest=$((dead_guest + 1))
        [ "$why" = "the domain went away" ] || hung=$((hung + 1))
        xl dmesg | grep -a "d$d" | tail -6 | sed 's/^/== xen: /'
        tail -4 "$log" | sed 's/^/== guest: /'
    fi
    tail -3 "$dmlog" | sed 's/^/== hvmd: /'
    if [ -d "/proc/$pid" ]; then
        info "hvmd pid $pid: $(awk '{ print "state " $3 }' "/proc/$pid/stat"), cpu $(dm_cpu_s "$pid") s, rss $(dm_mem_kb "$pid" | cut -d' ' -f1) kB"
        dm_metrics "$pid"
        metric dm_cpu_s "$(dm_cpu_s "$pid")" s
    fi
    xl destroy hammer 2>/dev/null
    within 40 gone "$pid" || fail "lifetime $lives: hvmd (pid $pid) still runs 20 s after xl destroy"
    clean_after "lifetime $lives's xl destroy"
    sz=$(wc -c < "$dmlog")
    info "lifetime $lives: hvmd's log $sz bytes"
    [ "$sz" -gt "$logmax" ] && logmax=$sz
    [ "$sz" -lt 1048576 ] || fail "lifetime $lives: hvmd's log is $sz bytes (over 1 MB)"
    if grep -aE "Assertion|AddressSanitizer|UndefinedBehaviorSanitizer|runtime error|Segmentation|SIGSEGV|SIGABRT|Aborted" "$dmlog"; then
        fail "lifetime $lives: hvmd's log shows an assert, a sanitizer report or a crash"
    fi
    grep -a "requests served" "$dmlog" | tail -1 | sed 's/^/== hvmd: /'
    # what fills the log: its lines by kind (numbers folded), and the first refused requests
    info "lifetime $lives: hvmd's log lines $(wc -l < "$dmlog"), by kind (the 12 commonest):"
    sed -E 's/^[0-9:.]+ hvmd //; s/0x[0-9a-f]+/N/g; s/[0-9]+/N/g' "$dmlog" | sort | uniq -c | sort -rn |
        head -12 | sed 's/^/== hvmd-log: /'
    grep -a "request refused" "$dmlog" | head -3 | sed 's/^/== hvmd: /'
    # the guest's console: how much it printed (the UART is hammered too)
    info "lifetime $lives: guest console $(wc -c < "$log") bytes"
    stop_relays
done
step hammered
metric hammer_total_s "$hammered" s
metric hammer_lifetimes "$lives"
metric hammer_guest_deaths "$dead_guest"
metric hammer_guest_hangs "$hung"
metric hammer_dm_log_max_bytes "$logmax" B
metric dom0_probe_max_s "$probe_max" s
metric dom0_probes "$probe_n"
ip link del xenbr0
rm -f /tmp/hammer-disk.img
clean_after "the hammer"
step destroyed

# SPDX-License-Identifier: GPL-2.0-only
# about: hvmctl refuses bad guest configs with a message naming file, line and key (invalid value, missing kernel, missing disk, impossible memory, name clash, syntax error), warns of unknown keys, and a create that fails half-way (a device model that does not start, a vif script that fails after the device model made its tap) leaves no domain, device model, tap, backend or xenstore node: the host is as before
# step: refused 240
# step: clash 240
# step: half-way 300
. /etc/hvmd-lib.sh
# a bridge for the vifs below, as `hvmctl network up` would make
ip link add xenbr0 type bridge && ip link set xenbr0 up || fail "cannot make xenbr0"
# what "the host as before" means: domains, device models, monitors, network devices, xenstore
host_state() {
    xl list | tail -n +2 | awk '{ print "domain", $1 }'
    pids_of '^[^ ]*(xen-qemu-system|/hvmd |hvmctl create)' | sed 's/^/process /'
    ls /sys/class/net | sed 's/^/netdev /'
    # dom0's nodes with a value (an empty directory left by a removal is no state)
    xenstore-ls -f /local/domain/0 2>/dev/null | grep -v ' = ""$' | sed 's/^/xs /'
    xenstore-list /local/domain | sed 's/^/xsdom /'
    ls /var/lib/xen | grep userdata | sed 's/^/userdata /'
}
host_state | sort > /tmp/state.before
same_host() {
    host_state | sort > /tmp/state.now
    diff /tmp/state.before /tmp/state.now > /tmp/state.diff || { cat /tmp/state.diff; fail "$1 changed the host"; }
}
# good NAME [LINE...]: a PV guest that boots, with LINEs changed or added (pv_cfg: the line
# numbers of a key stay those of good NAME: memory is line 6, the first added key line 9)
good() { local n=$1; shift; pv_cfg "$n" quiet "$@"; }
# refused FILE 'message' [ARGS...]: hvmctl create FILE ARGS fails and says 'message'
refused() {
    local f=$1 msg=$2; shift 2
    if hvmctl create "$f" "$@" > /tmp/err.out 2>&1; then
        cat /tmp/err.out; fail "hvmctl create $f $* was not refused"
    fi
    sed 's/^/    /' /tmp/err.out
    grep -qF -- "$msg" /tmp/err.out || fail "hvmctl create $f: no message '$msg'"
    same_host "hvmctl create $f $*"
}
# each a good file with one line changed or added
good bad 'memory = "lots"' > /tmp/value.cfg
refused /tmp/value.cfg "/tmp/value.cfg:6: memory: 'lots' is not a number"
good bad 'type = "hvn"' > /tmp/type.cfg
refused /tmp/type.cfg "/tmp/type.cfg:2: type: 'hvn' is not hvm, pv or pvh"
good bad 'kernel = "/media/no-such-vmlinuz"' > /tmp/kernel.cfg
refused /tmp/kernel.cfg "/tmp/kernel.cfg:3: kernel: /media/no-such-vmlinuz: No such file or directory"
good bad 'disk = [ "format=raw,vdev=xvda,access=rw,target=/tmp/no-such.img" ]' > /tmp/disk.cfg
refused /tmp/disk.cfg "/tmp/disk.cfg:9: disk: entry 1 (xvda): target /tmp/no-such.img: No such file or directory"
good bad 'memory = 100000' > /tmp/mem.cfg
refused /tmp/mem.cfg "/tmp/mem.cfg:6: memory: 100000 MB"
grep -q "is more than the .* MB the host has free" /tmp/err.out || fail "the memory message does not say what the host has"
good bad 'vcpus = 0' > /tmp/vcpus.cfg
refused /tmp/vcpus.cfg "/tmp/vcpus.cfg:7: vcpus: 0 is out of range"
good bad 'memory = = 256' > /tmp/syntax.cfg
refused /tmp/syntax.cfg "/tmp/syntax.cfg:6: config parsing error"
refused /tmp/no-such.cfg "/tmp/no-such.cfg: cannot read: No such file or directory"
good bad > /tmp/ok.cfg
refused /tmp/ok.cfg "command line: memory: 'lots' is not a number" memory=lots
# an unknown key is a warning, as with xl: the dry run passes and says so
good typo 'memroy = 512' > /tmp/typo.cfg
hvmctl create -n /tmp/typo.cfg > /tmp/typo.json 2> /tmp/err.out || { cat /tmp/err.out; fail "a typo'd key made the create fail"; }
cat /tmp/err.out
grep -qF "/tmp/typo.cfg:9: warning: memroy: unknown key, ignored" /tmp/err.out || fail "no warning for an unknown key"
grep -q '"name": "typo"' /tmp/typo.json || fail "the dry run printed no config"
same_host "hvmctl create -n"
step refused

# a name clash: the second guest of that name is refused, naming the line
good clash > /tmp/clash.cfg
hvmctl create /tmp/clash.cfg || fail "hvmctl create /tmp/clash.cfg"
{ echo "# the same name again"; good clash; } > /tmp/clash2.cfg
if hvmctl create /tmp/clash2.cfg > /tmp/err.out 2>&1; then fail "a second domain named clash was created"; fi
cat /tmp/err.out
grep -qF "/tmp/clash2.cfg:2: name: a domain named 'clash' already exists (id " /tmp/err.out || fail "no message for the name clash"
[ "$(xl list | grep -c '^clash ')" = 1 ] || fail "not exactly one domain clash"
hvmctl destroy clash || fail "hvmctl destroy clash"
wait_gone clash 30 || fail "clash is still there"
within 21 no_process '^hvmctl create'
sleep 1
same_host "the name clash"
step clash

# half-way failures: libxl has built part of the guest when it fails
cat > /tmp/baddm.sh <<'SH'
#!/bin/sh
echo "a device model that does not start" >&2
exit 1
SH
cat > /tmp/badvif.sh <<'SH'
#!/bin/sh
echo "badvif: $*" >&2
exit 1
SH
chmod +x /tmp/baddm.sh /tmp/badvif.sh
hvm() { # hvm NAME LINE...: an HVM guest with the test ISO in its CD-ROM, and LINEs (a NIC)
    local n=$1; shift
    hvm_cfg "$n" default 'memory = 128' 'cpuid =' "$(cd_disks /media/linux.iso)" 'boot = "d"' "$@"
}
# a device model that exits at once: libxl gives up on it
hvm baddm 'vif = [ "bridge=xenbr0" ]' 'device_model_override = "/tmp/baddm.sh"' > /tmp/baddm.cfg
if hvmctl create /tmp/baddm.cfg > /tmp/err.out 2>&1; then cat /tmp/err.out; fail "a guest with a failing device model was created"; fi
cat /tmp/err.out
grep -q "not created" /tmp/err.out || fail "no 'not created' message"
clean_after "a failed create (device model)"
same_host "the failed create (device model)"
# the vif script fails after the device model (hvmctl's default, hvmd) has made its tap vifD.0-emu:
# all of it must go
hvm badvif 'vif = [ "bridge=xenbr0,script=/tmp/badvif.sh" ]' > /tmp/badvif.cfg
if hvmctl create /tmp/badvif.cfg > /tmp/err.out 2>&1; then cat /tmp/err.out; fail "a guest whose vif script fails was created"; fi
cat /tmp/err.out
grep -q "not created" /tmp/err.out || fail "no 'not created' message"
grep -q "badvif" /tmp/err.out /var/log/xen/xen-hotplug.log 2>/dev/null || info "(the vif script's message is not in hvmctl's output)"
clean_after "a failed create (vif script)"
same_host "the failed create (vif script)"
# and the same for a PV guest, whose vif backend libxl had made
good badpv 'vif = [ "bridge=xenbr0,script=/tmp/badvif.sh" ]' > /tmp/badpv.cfg
if hvmctl create /tmp/badpv.cfg > /tmp/err.out 2>&1; then cat /tmp/err.out; fail "a PV guest whose vif script fails was created"; fi
cat /tmp/err.out
clean_after "a failed PV create (vif script)"
same_host "the failed PV create (vif script)"
step half-way
ip link del xenbr0

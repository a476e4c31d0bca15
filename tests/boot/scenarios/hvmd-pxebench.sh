# SPDX-License-Identifier: GPL-2.0-only
# about: the PXE figure for make bench: hvmctl-pxe's guest (an empty disk, boot="n", a vif with no model: libxl's default rtl8139, created by stock xl on an hvmctl NAT network whose dnsmasq serves boot-dir and boot-file) boots the project's kernel and initrd through the rtl8139's iPXE ROM (the script by TFTP, kernel and initrd over HTTP from dom0) to its marker, then powers off; three creates in one bed run, the time from each create to the marker (median, slowest, fastest: pxe_create_to_marker_s); under hvmd (PXE_DM=qemu-xen: Debian's qemu-xen with its own iPXE ROM, qemu-pxebench, the other half of the pair)
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: nat-up 60
# step: pxe-boots 1500
# step: pxe-off 120
. /etc/hvmd-lib.sh
dm=${PXE_DM:-hvmd}
rounds=${PXE_ROUNDS:-3}
pxe_network_up poweroff
[ -n "$(pids_of 'httpd -p 8000')" ] || busybox httpd -p 8000 -h /tmp/www || fail "httpd"
step nat-up

dd if=/dev/zero of=/tmp/empty.img bs=1M count=0 seek=16 2>/dev/null
times=
for (( i = 1; i <= rounds; i++ )); do
    # a guest of its own name each round: its serial and device-model logs apart
    hvm_cfg pxe$i "$dm" 'disk = [ "format=raw,vdev=hda,access=rw,target=/tmp/empty.img" ]' 'boot = "n"' \
        'vif = [ "mac=00:16:3e:00:09:02,bridge=nat0" ]' > /tmp/pxe$i.cfg
    xl_start pxe$i
    info "round $i of $rounds: domain $d, $dm $pid"
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-device rtl8139" || fail "libxl did not ask for an rtl8139"
    wait_fast "$log" HVMD-GUEST-UP 590 || { xl dmesg | grep "(d$d)" | tail -20; tail -20 "$dmlog"; fail "the PXE guest did not come up (round $i)"; }
    s=$(elapsed "$t0")
    info "round $i: create to marker $s s"
    times="$times $s"
    # (SeaBIOS's and iPXE's text reach the serial port through sercon under hvmd)
    grep -aq "iPXE script from the network's boot-dir" "$log" || [ "$dm" != hvmd ] ||
        fail "iPXE did not run the boot script from the network's TFTP"
    powers_off pxe$i 110
    sleep 1
    [ -z "$(taps)" ] || fail "taps left: $(taps)"
done
step pxe-boots
set -- $(printf '%s\n' $times | sort -g)
metric pxe_create_to_marker_s "$(median %.2f "$@")" s
metric pxe_create_to_marker_s_min "$1" s
metric pxe_create_to_marker_s_max "$(eval echo \${$#})" s
info "create to marker, each round:$times"
[ -z "$(pids_of 'httpd -p 8000')" ] || kill $(pids_of 'httpd -p 8000')
hvmctl network down || fail "hvmctl network down"
clean_after "the PXE guests"
step pxe-off

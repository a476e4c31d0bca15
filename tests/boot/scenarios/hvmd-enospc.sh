# SPDX-License-Identifier: GPL-2.0-only
# about: the stop policy for host I/O errors on real Xen: hvmd -io-error werror=enospc (device_model_args_hvm), the guest's IDE disk image on a dom0 tmpfs too small for what the guest writes: at ENOSPC hvmd keeps the write and pauses the domain (xl list shows it paused, QMP query-status says io-error, the ENOSPC in its log), the tmpfs grows, xl unpause (QMP cont, then the unpause) retries the kept write, and the guest's disk-pattern check passes with its pattern whole in the image: nothing lost
# option: manual = yes
# (issue 16's error policy; a kernel-boot guest: 231 s on the bed with HVMD_TIMEOUT_SCALE=2)
# step: dm-running 90
# step: io-error 300
# step: resumed 60
# step: poweroff 180
. /etc/hvmd-lib.sh
full=/tmp/enospc-fs
mkdir -p $full
mountpoint -q $full && umount $full
# 2 MiB: the check header's page fits, the guest's 4 MiB pattern at 1 MiB does not
mount -t tmpfs -o size=2m tmpfs $full || fail "cannot mount a tmpfs at $full"
trap 'stop_relays; umount $full 2>/dev/null' EXIT
check_disk $full/disk.img 64 disk-pattern
hvm_cfg enospc hvmd 'kernel = "/media/guest-vmlinuz"' 'ramdisk = "/media/guest-initrd.gz"' \
    'cmdline = "console=ttyS0,115200 quiet xen_emul_unplug=never hvmd.checks=poweroff"' \
    "disk = [ \"format=raw,vdev=hda,access=rw,target=$full/disk.img\" ]" \
    'device_model_args_hvm = [ "-io-error", "werror=enospc" ]' > /tmp/enospc.cfg
xl_start enospc hvmd
step dm-running
paused() { xl list enospc 2>/dev/null | awk 'NR == 2 { print $5 }' | grep -q p; }
within 580 paused || { tail -20 "$dmlog"; fail "the domain was not paused at ENOSPC"; }
metric create_to_io_error_s "$(elapsed "$t0")" s
st=$(dm_qmp "$d" '{"execute":"query-status"}') || fail "QMP query-status: $st"
info "query-status: $st"
echo "$st" | grep -q '"status": *"io-error"' || fail "query-status does not say io-error: $st"
echo "$st" | grep -q '"running": *false' || fail "query-status says running: $st"
grep -q "No space left on device" "$dmlog" || fail "hvmd logged no ENOSPC"
grep -q "HVMD-CHECK disk-pattern" "$log" && fail "the guest's check ended while the domain was paused"
s1=$(wc -c < "$log"); sleep 5; s2=$(wc -c < "$log")
[ "$s1" = "$s2" ] || fail "the guest printed while paused at the I/O error ($s1 -> $s2 bytes)"
step io-error
mount -o remount,size=80m $full || fail "cannot grow the tmpfs"
xl unpause enospc || fail "xl unpause"
paused && fail "xl list still shows the domain paused after xl unpause"
st=$(dm_qmp "$d" '{"execute":"query-status"}') || fail "QMP query-status: $st"
echo "$st" | grep -q '"status": *"running"' || fail "query-status after xl unpause: $st"
grep -q "kept requests were retried" "$dmlog" || fail "hvmd did not say it retried the kept requests"
step resumed
guest_done 170 disk-pattern
powers_off enospc 60
pattern_on_image $full/disk.img || fail "the guest's pattern is not whole in the image"
grep -E "host I/O error|kept requests|No space" "$dmlog" | head -5 | sed 's/^/== /'
clean_after "the guest's power-off"
step poweroff

# SPDX-License-Identifier: GPL-2.0-only
# about: xl cd-eject and xl cd-insert (QMP eject, add-fd with SCM_RIGHTS, blockdev-change-medium) on hvmd's IDE CD-ROM while the Linux guest runs: the guest sees the medium go and the new one come, reads it, and its size is the new image's; all of it with dm_restrict = 1: hvmd runs as uid 131072+domid (xen-qemuuser-range-base) in libxl's chroot with no capability, no new privileges and its seccomp filter, its privcmd handles cannot map another domain's memory nor make a dm_op on it (HVMD_RESTRICT_PROBE: EPERM, the kernel's restriction), its helpers hold no more than they need, its PV keyboard backend reaches xenstore through the broker, and the guest's disk-pattern check passes past libxl's 256 KiB file-size limit
# step: dm-running 90
# step: guest-up 360
# step: ejected 240
# step: gone 200
# step: inserted 60
# step: new-medium 280
# step: poweroff 120
. /etc/hvmd-lib.sh
check_disk /tmp/disk.img 16 cd-change poweroff
hvm_cfg cd hvmd "$(cd_disks /media/linux.iso /tmp/disk.img)" 'boot = "d"' 'dm_restrict = 1' > /tmp/cd.cfg
new=/media/grub-rescue-cdrom.iso
# HVMD_RESTRICT_PROBE=0: hvmd tries a map of domain 0's memory and a dm_op on it through its
# own handles once restricted (and through a fresh handle before), and logs the outcome
HVMD_RESTRICT_PROBE=0 xl_start cd hvmd
# --- dm_restrict, seen from dom0 ---
uid=$((131072 + d)); seen=
st=/proc/$pid/status
grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs|Seccomp):' "$st" | sed 's/^/== hvmd /'
grep -qE "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$" "$st" || fail "hvmd does not run as uid $uid (xen-qemuuser-range-base + $d)"
grep -qE "^Gid:[[:space:]]+131072[[:space:]]+131072[[:space:]]+131072[[:space:]]+131072\$" "$st" || fail "hvmd does not run as gid 131072"
grep -qE '^Groups:[[:space:]]*131072[[:space:]]*$' "$st" || fail "hvmd keeps supplementary groups"
grep -qE '^CapEff:[[:space:]]*0+$' "$st" || fail "hvmd has capabilities"
grep -q '^Seccomp:[[:space:]]*2$' "$st" || fail "hvmd runs without its seccomp filter"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || fail "hvmd may gain privileges"
root=$(readlink "/proc/$pid/root"); info "hvmd's root: $root"
case $root in */xen/qemu-root-$d) ;; *) fail "hvmd is not in libxl's chroot (its root is $root)" ;; esac
grep "restrict probe" "$dmlog" | sed 's/^/== /'
grep -q "after the restriction, hvmd's handles: map of domain 0 gfn 0: Operation not permitted; dm_op on domain 0: Operation not permitted; dm_op on its own domain $d: allowed" "$dmlog" || fail "hvmd's restricted handles reach domain 0, or not its own"
grep -q "dm_restrict: file size limit raised" "$dmlog" || fail "hvmd did not fit libxl's file-size limit to its disk image"
grep -q "cannot load libgcc_s" "$dmlog" && fail "hvmd's sandbox could not preload libgcc_s (the chroot came first)"
grep -q "sandbox on: .*grants are mapped by the broker" "$dmlog" || fail "hvmd's filter still allows its own grant maps under dm_restrict"
# the helpers: hvmd-xc (hypercalls) and hvmd-xs (xenstore broker) as the same user in the
# chroot, hvmd-cleaner (removes hvmd's sockets at exit) uid 0 without any capability
for c in /proc/[0-9]*; do
    [ "$(awk '/^PPid:/ {print $2}' "$c/status" 2>/dev/null)" = "$pid" ] || continue
    n=$(cat "$c/comm"); r=$(readlink "$c/root")
    info "helper $n: $(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs):' "$c/status" | tr -s '\t\n' '  ') root $r"
    case $n in
        hvmd-xc|hvmd-xs)
            grep -qE "^Uid:[[:space:]]+$uid[[:space:]]" "$c/status" || fail "$n does not run as uid $uid"
            case $r in */xen/qemu-root-$d) ;; *) fail "$n is not in the chroot" ;; esac ;;
        hvmd-cleaner)
            grep -qE '^CapEff:[[:space:]]*0+$' "$c/status" && grep -qE '^CapBnd:[[:space:]]*0+$' "$c/status" || fail "hvmd-cleaner keeps capabilities" ;;
        *) fail "an unexpected child of hvmd: $n" ;;
    esac
    seen="$seen $n"
done
case $seen in *hvmd-xc*) ;; *) fail "no hvmd-xc helper" ;; esac
case $seen in *hvmd-xs*) ;; *) fail "no xenstore broker hvmd-xs" ;; esac
# the PV keyboard's backend came up through the broker (the ISO guest loads no PV frontend:
# xen_emul_unplug=never, so the backend stays offered, InitWait)
be_st=$(xenstore-read "/local/domain/0/backend/vkbd/$d/0/state" 2>/dev/null)
info "vkbd 0: backend state ${be_st:-none}"
case $be_st in 2|4) ;; *) grep -i "vkbd\|hvmd-xs" "$dmlog"; fail "hvmd's vkbd backend is not offered under dm_restrict (state ${be_st:-none})" ;; esac
xenstore-read "/local/domain/0/device-model/$d/backends/vkbd" > /dev/null 2>&1 || fail "hvmd did not list vkbd in device-model/$d/backends"
grep -q "hvmd-xs: refused" "$dmlog" && { grep "hvmd-xs: refused" "$dmlog"; fail "the broker refused a request of hvmd's own backends"; }
step dm-running
guest_up 350; step guest-up
wait_re "$log" "HVMD-CD-EJECT-NOW" 230 || fail "the guest could not read the CD-ROM"
# the guest opens the drive now and then (Linux locks it while open): retry a refused eject
ok=
for i in 1 2 3 4 5 6 7 8 9 10; do
    if xl cd-eject cd hdc; then ok=1; break; fi
    sleep 1
done
[ -n "$ok" ] || fail "xl cd-eject cd hdc failed ten times"
grep -q "tray opened" "$dmlog" || fail "hvmd did not open the tray"
step ejected
wait_re "$log" "HVMD-CD-GONE" 190 || fail "the guest did not see the medium go"
step gone
xl cd-insert cd hdc "$new" || fail "xl cd-insert cd hdc $new"
grep -q "new medium /dev/fdset/" "$dmlog" || fail "hvmd did not take the new medium from a descriptor set (add-fd)"
step inserted
want=$(dd if="$new" bs=2048 count=16 2>/dev/null | md5sum | cut -d' ' -f1)
size=$(( $(stat -c %s "$new") / 2048 * 4 ))
wait_re "$log" "HVMD-CD-NEW md5=" 270 || fail "the guest did not read a new medium"
# the console may hand the line over in pieces: give the rest of it a moment before judging
wait_re "$log" "HVMD-CD-NEW md5=$want sectors512=$size" 10 || { grep "HVMD-CD-NEW" "$log"; fail "the guest read something other than $new (md5 $want, $size sectors)"; }
guest_done 60 cd-change; step new-medium
powers_off cd 110
clean_after poweroff
grep -E "tray|new medium|QMP" "$dmlog" | sed 's/^/== /'
step poweroff

# SPDX-License-Identifier: GPL-2.0-only
# about: the bed works: a PVH guest (Debian kernel, busybox initramfs) boots under stock xl to its marker, and xl destroy leaves nothing
# option: manual = yes
# (a make bench anchor, run by tests/bench/run; make check leaves it out for time: a PVH
# guest booting in the bed is in make check through hvmctl-pvh)
# step: guest-up 180
# step: destroyed 60
. /etc/hvmd-lib.sh
pv_cfg pvh quiet 'type = "pvh"' 'on_poweroff = "destroy"' > /tmp/pvh.cfg
log=/var/log/xen/console/guest-pvh.log
t0=$(now)
xl create /tmp/pvh.cfg || fail "xl create /tmp/pvh.cfg"
relay "$log" pvh
wait_re "$log" HVMD-GUEST-DONE 170 || fail "no HVMD-GUEST-DONE on the PVH guest's console"
metric create_to_marker_s "$(elapsed "$t0")" s
step guest-up
xl destroy pvh || fail "xl destroy"
clean_after "xl destroy"
step destroyed

# SPDX-License-Identifier: GPL-2.0-only
# about: the PXE figure under Debian's qemu-xen (its rtl8139 and its own iPXE ROM), for the hvmd-pxebench / qemu-pxebench pair: three creates to the PXE-booted guest's marker in one bed run
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: nat-up 60
# step: pxe-boots 1500
# step: pxe-off 120
PXE_DM=qemu-xen
. "$(dirname "$0")/hvmd-pxebench.sh"

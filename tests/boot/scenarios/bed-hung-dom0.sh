# SPDX-License-Identifier: GPL-2.0-only
# about: the runner itself: a dom0 script that hangs fails at its step timeout, and no QEMU is left
# expect: FAIL step 'hang' timed out
# step: hang 15
. /etc/hvmd-lib.sh
info "this script hangs on purpose; the runner must fail it after 15 s and kill QEMU"
sleep 100000
step hang

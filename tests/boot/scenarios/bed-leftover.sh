# SPDX-License-Identifier: GPL-2.0-only
# about: the runner itself: a scenario that ends well but leaves a network device behind fails, naming it (dom0's check after every scenario, tests/boot/between.sh, which shared beds rely on)
# expect: FAIL left behind:.*network devices: stray0
# step: made 30
. /etc/hvmd-lib.sh
info "this script leaves a tap behind on purpose; the check after it must fail it, naming stray0"
ip tuntap add dev stray0 mode tap || fail "cannot make a tap"
step made

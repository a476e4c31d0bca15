# SPDX-License-Identifier: GPL-2.0-only
# about: the new user of tests/boot/guest ("your kernel in the bed"), run on the host: a kernel and an initrd of its own outside the bed's media, with its own command line, booted with the documented command; a login answered by --login on each of three boots, typed commands, two reboots followed, TAP lines as JUnit cases (a pass, a failure, a skip), exit 1; bad input refused before a boot (tests/boot/guest-selftest; its checks in build/boot/guest-selftest/output.log)
# option: host = tests/boot/guest-selftest
# step: run 600
fail "guest-selftest runs on the host (tests/boot/run starts tests/boot/guest-selftest), not in dom0"

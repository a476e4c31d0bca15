# SPDX-License-Identifier: GPL-2.0-only
# about: the same save/restore and migration figures under Debian's qemu-xen (the anchor device model), for the hvmd-migrate-figures / qemu-migrate-figures pair
# option: manual = yes
# (a make bench figure, run by tests/bench/run; make check leaves it out for time)
# step: dm-running 90
# step: guest-up 360
# step: dm-state 120
# step: migrated 400
# step: cleaned 120
MIG_DM=qemu-xen
. "$(dirname "$0")/hvmd-migrate-figures.sh"

# SPDX-License-Identifier: GPL-2.0-only
# about: hvmd-kernel with, after its xl save and xl restore, an xl migrate to this dom0 (`xl migrate -s "" kern "xl migrate-receive"`) in the middle of the guest's save-io loop on its qdisk disk: the sending hvmd's qdisk completes what it has in flight and takes nothing more (its log says how many), the guest's blkfront connects to the receiving hvmd's qdisk and its loop carries on (kept out of make check: the migration, its live phase with the loop dirtying memory, took 16-30 s in the bed, the step 23-48 s)
# option: manual = yes
# step: dm-running 90
# step: guest-up 300
# step: saved-restored 150
# step: migrated 150
# step: rebooted 240
# step: poweroff 120
KERNEL_MIGRATE=1
. "$(dirname "$0")/hvmd-kernel.sh"

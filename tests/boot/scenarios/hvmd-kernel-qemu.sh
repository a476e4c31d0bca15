# about: the anchor for hvmd-kernel: the same guest and xl.cfg under Debian's qemu-xen (make bench pairs them)
# step: dm-running 90
# step: guest-up 300
# step: poweroff 120
KERNEL_DM=qemu-xen
. "$(dirname "$0")/hvmd-kernel.sh"

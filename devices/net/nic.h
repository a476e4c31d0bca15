/* SPDX-License-Identifier: GPL-2.0-only */
/* What the emulated NICs (devices/net/) share: where on the PCI bus each goes. */
#ifndef HVMD_DEVICES_NET_NIC_H
#define HVMD_DEVICES_NET_NIC_H

#include <stddef.h>
#include <stdint.h>
#include "dm/config.h"
#include "dm/net_offload.h"
#include "dm/util.h"
#include "dm/vm.h"

/* The first NIC's slot, 00:04.0, as under qemu-xen (00:02.0 VGA, 00:03.0 the platform device). */
#define NIC_FIRST_SLOT 4

/* 1 if MODEL (a -device's first word) is a NIC model hvmd emulates. */
int nic_model(const char *model);

/* Where the NIC of -device option O goes: slot 4 for the first NIC on the command line (of any
 * model), the next for the next, as qemu-xen places them; the next free slot if another
 * function holds that one. The slot, or -ENOSPC. */
int nic_slot(struct vm *vm, const struct cfg_opt *o);

/* The Internet checksum: net_csum_add / net_csum_fold (dm/net_offload.h); network byte order:
 * get_be16 ... put_be32 (dm/util.h). */

#endif

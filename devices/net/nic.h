/* SPDX-License-Identifier: GPL-2.0-only */
/* What the emulated NICs (devices/net/) share: where on the PCI bus each goes. */
#ifndef HVMD_DEVICES_NET_NIC_H
#define HVMD_DEVICES_NET_NIC_H

#include <stddef.h>
#include <stdint.h>
#include "dm/config.h"
#include "dm/vm.h"

/* The first NIC's slot, 00:04.0, as under qemu-xen (00:02.0 VGA, 00:03.0 the platform device). */
#define NIC_FIRST_SLOT 4

/* 1 if MODEL (a -device's first word) is a NIC model hvmd emulates. */
int nic_model(const char *model);

/* Where the NIC of -device option O goes: slot 4 for the first NIC on the command line (of any
 * model), the next for the next, as qemu-xen places them; the next free slot if another
 * function holds that one. The slot, or -ENOSPC. */
int nic_slot(struct vm *vm, const struct cfg_opt *o);

/* The Internet checksum (RFC 1071): SUM plus the 16-bit big-endian words of P (LEN bytes, an odd
 * last byte padded with zero), and that sum folded and complemented. */
uint32_t nic_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t nic_csum_fold(uint32_t sum);

/* Network byte order in frames. */
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Xen's I/O requests: validate and dispatch them, and serve the shared pages they come in.
 *
 * A synchronous request sits in its vCPU's slot of the shared ioreq page. ioreq_serve_slot
 * copies it once into private memory, validates the copy, handles it, and answers in the slot
 * (data for a read, then state IORESP_READY after a write barrier). Buffered requests (writes
 * Xen does not wait for: VGA memory, TIMEOFFSET) come through a ring of 511 slots; an 8-byte
 * one takes two slots (low half, then high half).
 *
 * Handling:
 *   PIO         the port table (bus.h); data_is_ptr: rep ins/outs through guest memory
 *   COPY (MMIO) the MMIO map; data_is_ptr: rep movs between the device and guest memory;
 *               count > 1 without a pointer: rep stos (the same value to successive items)
 *   PCI_CONFIG  the PCI bus (pci.h); addr = SBDF << 32 | register
 *   INVALIDATE  drop the map cache (mem.h)
 *   TIMEOFFSET  the guest moved its RTC by data seconds: recorded
 * Item i of a rep request is at addr +/- i * size (df: downwards); so is its guest memory.
 * Malformed requests (unknown type, size, count or segment) are logged, counted, and answered
 * as an absent device would (reads all-ones), so the vCPU never waits forever. */
#ifndef HVMD_IOREQ_H
#define HVMD_IOREQ_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/hvm/ioreq.h>
#include "dm/vm.h"

/* Xen clips a rep request to 4096 items (hvmemul_linear_to_phys). */
#define IOREQ_MAX_COUNT 4096

/* Handle one request that is already a private copy. A read leaves its result in REQ->data.
 * Returns 0, or -EINVAL if REQ was malformed (and was answered as absent). */
int ioreq_handle(struct vm *vm, ioreq_t *req);

/* Serve a vCPU's shared slot. Returns 1 if a response was written (notify the vCPU's
 * event channel), 0 if the slot held no ready request. */
int ioreq_serve_slot(struct vm *vm, ioreq_t *slot);

/* Drain the buffered ring. Returns the number of requests handled, or -EIO if its pointers
 * are impossible (then it is left as it is). */
int ioreq_serve_buffered(struct vm *vm, buffered_iopage_t *pg);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Where guest port and MMIO accesses go: a flat table of the 65,536 ports (one byte each,
 * naming one of up to 255 regions) and a sorted array of MMIO ranges searched by bisection.
 * Adding a region that overlaps another is refused with -EEXIST. Adding and removing a region
 * also tells the hypervisor to route (or stop routing) that range to this process.
 * A device's ops see offsets relative to its region's base. */
#ifndef HVMD_BUS_H
#define HVMD_BUS_H

#include <stdint.h>
#include "dm/hv.h"
#include "dm/util.h"

struct io_ops {
    /* SIZE is 1, 2, 4 (or 8 for MMIO); OFF + SIZE <= the region's length. */
    uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
    void (*write)(void *opaque, uint64_t off, unsigned size, uint64_t val);
    /* Optional, for string I/O on a port (rep insb/w/l, rep outsb/w/l): move up to COUNT items
     * of SIZE bytes between the device and BUF (guest order) in one call, and return how many
     * were moved; any rest goes through read / write one item at a time. */
    uint32_t (*read_rep)(void *opaque, uint64_t off, unsigned size, uint32_t count, void *buf);
    uint32_t (*write_rep)(void *opaque, uint64_t off, unsigned size, uint32_t count,
                          const void *buf);
};

struct io_region {
    const char *name;
    enum hv_space space; /* HV_PIO or HV_MMIO */
    uint64_t base, len;
    const struct io_ops *ops;
    void *opaque;
    uint64_t reads, writes; /* accesses served (a rep counts once) */
    /* round trips: synchronous requests Xen handed hvmd whose first byte is in this region
     * (ioreq_serve_slot; buffered writes are not round trips), in all and, for the first
     * IO_REGION_PORTS ports of a port region, per port and direction ([0] reads, [1] writes) */
    uint64_t trips;
    uint32_t port_trips[2][16];
};
#define IO_REGION_PORTS 16

struct bus;

struct bus *bus_new(const struct hv *hv);
void bus_free(struct bus *bus); /* removes every region still there */

/* Claim [BASE, BASE+LEN) for OPS. *OUT (optional) gets the region, for bus_del. */
int bus_add_pio(struct bus *bus, const char *name, uint16_t base, uint32_t len,
                const struct io_ops *ops, void *opaque, struct io_region **out) WUR;
int bus_add_mmio(struct bus *bus, const char *name, uint64_t base, uint64_t len,
                 const struct io_ops *ops, void *opaque, struct io_region **out) WUR;
void bus_del(struct bus *bus, struct io_region *r);

/* The region holding port PORT / address ADDR, or NULL. */
struct io_region *bus_find_pio(struct bus *bus, uint16_t port);
struct io_region *bus_find_mmio(struct bus *bus, uint64_t addr);

/* One access, as a guest makes it. A read of nothing returns all-ones; an access that spans
 * regions is split into bytes. */
uint64_t bus_pio_read(struct bus *bus, uint16_t port, unsigned size);
void bus_pio_write(struct bus *bus, uint16_t port, unsigned size, uint64_t val);
uint64_t bus_mmio_read(struct bus *bus, uint64_t addr, unsigned size);
void bus_mmio_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val);

/* Call FN for every region (PIO first, then MMIO in address order). */
void bus_for_each(struct bus *bus, void (*fn)(void *opaque, const struct io_region *r),
                  void *opaque);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Guest memory: the one accessor every device uses for guest RAM (DESIGN.md rule 3).
 * Every access is bounds-checked against the guest's RAM ([0, lowmem_end) and
 * [4 GiB, highmem_end)) and against what the hypervisor would map; an access outside RAM fails
 * with -EFAULT and touches nothing, so DMA can target guest RAM only. Since guest memory is
 * never a device, a device doing DMA never re-enters a device.
 *
 * Behind it, a map cache: 1 MiB buckets of foreign mappings, mapped on first use, at most
 * MEM_MAX_BUCKETS at once (the least recently used goes), all dropped on INVALIDATE (the
 * guest's memory map changed, e.g. ballooning). A bucket mapped while one of its pages was not
 * RAM is mapped again when an access needs that page (once per access). */
#ifndef HVMD_MEM_H
#define HVMD_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "dm/hv.h"
#include "dm/util.h"

#define MEM_PAGE_SHIFT 12
#define MEM_PAGE_SIZE (1u << MEM_PAGE_SHIFT)
#define MEM_BUCKET_SHIFT 20
#define MEM_BUCKET_PAGES (1u << (MEM_BUCKET_SHIFT - MEM_PAGE_SHIFT))
#define MEM_MAX_BUCKETS 64
#define MEM_4G (1ull << 32)

struct mem;

/* RAM below 4 GiB ends at LOWMEM_END; RAM above, if any, is [4 GiB, HIGHMEM_END)
 * (HIGHMEM_END <= 4 GiB: none). */
struct mem *mem_new(const struct hv *hv, uint64_t lowmem_end, uint64_t highmem_end);
void mem_free(struct mem *mem);

/* Copy LEN bytes from / to guest-physical GPA. 0, or -EFAULT if any byte is not guest RAM
 * (then nothing is copied for a read... and for a write, nothing written). */
int mem_read(struct mem *mem, uint64_t gpa, void *buf, size_t len) WUR;
int mem_write(struct mem *mem, uint64_t gpa, const void *buf, size_t len) WUR;
/* Read LEN (at most MEM_FW_MAX) bytes of the firmware's tables at GPA: guest RAM as mem_read,
 * or the region hvmloader keeps its ACPI tables in, [MEM_FW_BASE, 4 GiB), which is not RAM to
 * mem_read (no device may DMA there). Read-only, for the PIIX4 at S3 (the OS's waking vector
 * in the FACS). 0 or -EFAULT. */
#define MEM_FW_BASE 0xfc000000ull
#define MEM_FW_MAX 4096
int mem_read_firmware(struct mem *mem, uint64_t gpa, void *buf, size_t len) WUR;
/* Is [GPA, GPA+LEN) inside guest RAM? (Bounds only; mapping may still fail.) */
int mem_is_ram(const struct mem *mem, uint64_t gpa, size_t len);

/* Drop every cached mapping (IOREQ_TYPE_INVALIDATE). Pins stay valid. */
void mem_invalidate(struct mem *mem);

/* A mapping of [gpa, gpa+len) of its own, for a transfer that outlives one request (async disk
 * I/O straight into guest memory). PTR stays valid until mem_unpin, whatever the map cache does. */
struct mem_pin {
    void *ptr;
    void *base;
    size_t npages;
    uint64_t gfn;    /* the first page's frame */
};
int mem_pin(struct mem *mem, uint64_t gpa, size_t len, struct mem_pin *pin) WUR;
void mem_unpin(struct mem *mem, struct mem_pin *pin);

/* For fuzzers and tests (QEMU's generic-fuzz hooks its DMA reads the same way): FN(OPAQUE,
 * gpa, len, write) runs before every mem_read / mem_write of guest RAM ([GPA, GPA+LEN) is
 * inside RAM; the access may still fail on a hole), so a fake hypervisor can fill memory a
 * device is about to read. NULL: none (hvmd itself never sets one). */
typedef void mem_hook_fn(void *opaque, uint64_t gpa, size_t len, int write);
void mem_set_hook(struct mem *mem, mem_hook_fn *fn, void *opaque);

/* Migration's dirty log (QMP xen-set-global-dirty-log): while ON, every page mem_write
 * writes, and every page of a pin when it is unpinned (a disk read may have written it), is
 * reported to the hypervisor as modified. */
void mem_set_dirty_log(struct mem *mem, int on);
int mem_dirty_log(const struct mem *mem);
struct mem_stats {
    uint64_t maps;       /* buckets mapped */
    uint64_t evictions;  /* buckets unmapped to make room */
    uint64_t invalidations;
    uint64_t remaps;     /* buckets mapped again for a page that was not mapped before */
    uint64_t faults;     /* accesses refused */
    uint64_t modified;   /* pages reported modified under the dirty log */
};
const struct mem_stats *mem_stats(const struct mem *mem);

#endif

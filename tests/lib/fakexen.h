/* SPDX-License-Identifier: GPL-2.0-only */
/* An in-process stand-in for Xen, for unit tests and fuzzers (DESIGN.md: "Unit tests drive a
 * device by port and MMIO accesses, as a guest would, through an in-process ioreq source").
 *
 * It implements the hypervisor interface (hv.h) over plain memory and plays Xen's part of
 * every guest access: it routes a port / MMIO access to hvmd only if hvmd claimed that range
 * (otherwise a read is all-ones, as under Xen), latches 0xcf8 and turns 0xcfc-0xcff into
 * PCI_CONFIG requests for the functions hvmd claimed, writes the request into a vCPU slot of
 * a shared ioreq page exactly as Xen does, lets hvmd serve it (ioreq_serve_slot), and checks
 * the answer's state. Guest RAM is a buffer; interrupt lines, MSIs and shutdown requests are
 * recorded for the test to look at. */
#ifndef HVMD_TESTS_FAKEXEN_H
#define HVMD_TESTS_FAKEXEN_H

#include <stddef.h>
#include <stdint.h>
#include "dm/ioreq.h"
#include "dm/vm.h"

#define FX_MAX_RANGES 512
#define FX_MAX_MSI 64

struct fx_range {
    enum hv_space space;
    uint64_t start, end;
};

/* Guest memory filled on demand (fx_fill_*): patterns, and the ranges not to fill again. */
#define FX_FILL_PATTERNS 8
#define FX_FILL_PATTERN_MAX 64
#define FX_FILL_RANGES 128
struct fx_fill {
    int on;
    struct { uint8_t data[FX_FILL_PATTERN_MAX]; uint8_t len, stride; } pat[FX_FILL_PATTERNS];
    unsigned next;               /* the pattern the next fill uses (round robin) */
    uint8_t counter;             /* stamped every STRIDE bytes, so ring entries differ */
    struct { uint64_t start, end; } done[FX_FILL_RANGES]; /* a ring: the oldest goes first */
    unsigned n_done, head;
    size_t budget;               /* bytes it may still fill */
    const uint8_t *src;          /* without patterns: these bytes, from a moving offset */
    size_t src_len, src_at;
    uint64_t fills, bytes;       /* what it filled */
};

struct fakexen {
    struct vm vm;
    struct hv hv;
    struct loop *loop;
    uint8_t *ram;            /* guest RAM, ram_size bytes (allocation rounded up to 1 MiB) */
    size_t ram_size;
    uint8_t *hole;           /* per page: 1 = the hypervisor refuses to map it */
    struct fx_range ranges[FX_MAX_RANGES];
    unsigned n_ranges;
    uint8_t isa[16];
    uint8_t intx[32][4];
    uint8_t link[4];
    unsigned isa_changes[16];    /* how often each ISA line changed level */
    struct { uint64_t addr; uint32_t data; } msi[FX_MAX_MSI];
    unsigned n_msi;
    int shutdown_reason;         /* -1: none asked */
    unsigned shutdowns;
    unsigned max_vcpus;          /* the domain's vCPUs (1 unless a test sets more) */
    uint8_t vcpu_online[16];     /* those up in the hypervisor (vCPU 0 at start) */
    int vcpu_info_err;           /* what vcpu_info fails with, 0: it works */
    int s_state;                 /* HVM_PARAM_ACPI_S_STATE as last set (0 at start) */
    unsigned s_state_sets;       /* set_s_state calls */
    unsigned power_buttons;      /* power_button presses */
    unsigned pause_count;        /* pauses not yet undone (Xen's controller pause count) */
    unsigned pauses, unpauses;   /* pause calls that worked */
    uint64_t modified_pages;     /* pages reported with modified_memory (dirty log on) */
    uint64_t modified_last;      /* the last report's first frame */
    uint32_t cf8;                /* as Xen latches it */
    shared_iopage_t *iopage;     /* one vCPU */
    buffered_iopage_t *bufpage;
    unsigned maps, unmaps;       /* map_gfn / unmap_gfn calls */
    uint64_t forwarded;          /* accesses that reached hvmd */
    uint64_t absorbed;           /* accesses Xen answered itself (nobody claimed them) */
    /* video RAM given with vram_alloc: guest pages at gfn.., accessed by fx_mmio_* directly
     * (no request: they are RAM), writes marking them dirty as Xen's dirty-VRAM tracking would */
    struct fx_vram {
        uint8_t *mem;
        uint64_t gfn;
        size_t n;
        uint8_t *dirty;          /* a byte per page */
    } vram;                      /* the first vram_alloc (the VGA's video RAM) */
    struct fx_vram vram_more[3]; /* later ones (the VGA's text window pages), in order */
    int vram_refuse;             /* what vram_alloc fails with (e.g. -ENOSYS), 0: it works */
    /* guest pages outside RAM that map_gfn maps (hvmloader's ACPI tables at 0xfc000000):
     * FW_N pages from frame FW_GFN, set by the test (calloc'd; freed with the source) */
    uint8_t *fw;
    uint64_t fw_gfn;
    size_t fw_n;
    unsigned vram_moves;
    unsigned hold_busy;          /* hold fails with -EAGAIN this many more times */
    int held;                    /* holds not yet let go */
    unsigned holds;              /* holds that worked */
    uint64_t vram_accesses;      /* guest accesses that went to video RAM directly */
    struct fx_fill fill;
};

/* A fresh source with RAM_SIZE bytes of guest RAM (< 4 GiB), a vm on it, and a loop.
 * NULL on allocation failure. */
struct fakexen *fx_new(size_t ram_size);
/* As Xen's memory stream leaves a restored domain: N pages of video RAM (DATA) at frame GFN,
 * not mapped by anyone yet (a VGA created with -incoming maps them at load). 0 or -errno. */
int fx_vram_restore(struct fakexen *fx, uint64_t gfn, const void *data, size_t n);
void fx_free(struct fakexen *fx);
static inline struct vm *fx_vm(struct fakexen *fx) { return &fx->vm; }

/* Guest memory filled on demand, for fuzzers (as QEMU's generic-fuzz does): once on, when a
 * device reads guest RAM (dm/mem.h's hook) that neither the input nor a device wrote and that
 * was not filled before, those bytes are filled first from the input's patterns (round
 * robin; each repeated over the range, with a counter byte every STRIDE bytes if STRIDE is not
 * 0), so descriptor rings, PRD tables, fw_cfg DMA descriptors and frame lists a device
 * follows hold fuzzer-chosen bytes without the input placing them. Ranges already filled or
 * written are not filled again (a device that reads a descriptor twice sees it unchanged),
 * only the parts of a read around them. BUDGET: bytes it may fill in all; one access gets at
 * most FX_FILL_ACCESS_MAX (descriptors are small: a large data buffer keeps the rest as it
 * is). Until a pattern is set the source's bytes are used (fx_fill_source: the fuzz input),
 * else nothing is filled. */
#define FX_FILL_ACCESS_MAX 4096
void fx_fill_enable(struct fakexen *fx, size_t budget);
/* Pattern slot I (modulo FX_FILL_PATTERNS): LEN bytes (1..FX_FILL_PATTERN_MAX) of P. */
void fx_fill_pattern(struct fakexen *fx, unsigned i, const uint8_t *p, size_t len,
                     uint8_t stride);
/* Without patterns, fill from P (LEN bytes; kept, not copied), cyclically from a moving
 * offset. */
void fx_fill_source(struct fakexen *fx, const uint8_t *p, size_t len);
/* [GPA, GPA+LEN) holds bytes put there on purpose (the input wrote them): never filled. */
void fx_fill_mark(struct fakexen *fx, uint64_t gpa, size_t len);

/* Mark guest page GFN as one the hypervisor will not map (a hole). */
void fx_set_hole(struct fakexen *fx, uint64_t gfn);

/* Guest port and MMIO accesses. */
uint32_t fx_in(struct fakexen *fx, uint16_t port, unsigned size);
void fx_out(struct fakexen *fx, uint16_t port, unsigned size, uint32_t val);
uint64_t fx_mmio_read(struct fakexen *fx, uint64_t addr, unsigned size);
void fx_mmio_write(struct fakexen *fx, uint64_t addr, unsigned size, uint64_t val);
/* rep insX / outsX: COUNT items of SIZE between PORT and guest memory at GPA (DF: downwards). */
void fx_rep_in(struct fakexen *fx, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df);
void fx_rep_out(struct fakexen *fx, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df);
/* PCI config cycles through 0xcf8 / 0xcfc, as firmware makes them. */
uint32_t fx_cfg_read(struct fakexen *fx, uint8_t devfn, unsigned reg, unsigned size);
void fx_cfg_write(struct fakexen *fx, uint8_t devfn, unsigned reg, unsigned size, uint32_t val);

/* Send REQ through the vCPU slot as Xen would (state READY), let hvmd serve it, and copy the
 * answer back into REQ. Returns 0 if hvmd answered with IORESP_READY, -EPROTO otherwise. */
int fx_request(struct fakexen *fx, ioreq_t *req);
/* Queue a buffered request as Xen's ioreq_send_buffered does (8 bytes: two slots). Returns 0,
 * or -ENOSPC if the ring is full (Xen would then send it synchronously). */
int fx_buffered_push(struct fakexen *fx, uint8_t type, uint32_t addr, unsigned size, uint64_t data);
/* Let hvmd drain the ring; returns what ioreq_serve_buffered returned. */
int fx_buffered_serve(struct fakexen *fx);

/* Is [start, end] of SPACE claimed by hvmd (whole, within one claim)? */
int fx_claimed(const struct fakexen *fx, enum hv_space space, uint64_t start, uint64_t end);

#endif

/* The in-process ioreq source (see testsrc.h). */
#include "testsrc.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the hypervisor interface, over plain memory ---- */

static int ts_map_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct testsrc *ts = be;
    if (end < start)
        return -EINVAL;
    for (unsigned i = 0; i < ts->n_ranges; i++) {
        struct ts_range *r = &ts->ranges[i];
        if (r->space == space && start <= r->end && end >= r->start)
            return -EEXIST; /* as Xen's rangeset check */
    }
    if (ts->n_ranges == TS_MAX_RANGES)
        return -ENOSPC;
    ts->ranges[ts->n_ranges++] = (struct ts_range){ space, start, end };
    return 0;
}

static int ts_unmap_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct testsrc *ts = be;
    for (unsigned i = 0; i < ts->n_ranges; i++) {
        struct ts_range *r = &ts->ranges[i];
        if (r->space == space && r->start == start && r->end == end) {
            *r = ts->ranges[--ts->n_ranges];
            return 0;
        }
    }
    return -ENOENT;
}

static int ts_set_isa_irq(void *be, unsigned irq, unsigned level)
{
    struct testsrc *ts = be;
    if (irq >= 16)
        return -EINVAL;
    if (ts->isa[irq] != level)
        ts->isa_changes[irq]++;
    ts->isa[irq] = (uint8_t)level;
    return 0;
}

static int ts_set_pci_intx(void *be, unsigned slot, unsigned intx, unsigned level)
{
    struct testsrc *ts = be;
    if (slot >= 32 || intx >= 4)
        return -EINVAL;
    ts->intx[slot][intx] = (uint8_t)level;
    return 0;
}

static int ts_set_pci_link(void *be, unsigned link, unsigned irq)
{
    struct testsrc *ts = be;
    if (link >= 4 || irq >= 16)
        return -EINVAL;
    ts->link[link] = (uint8_t)irq;
    return 0;
}

static int ts_inject_msi(void *be, uint64_t addr, uint32_t data)
{
    struct testsrc *ts = be;
    if (ts->n_msi == TS_MAX_MSI)
        return -ENOSPC;
    ts->msi[ts->n_msi].addr = addr;
    ts->msi[ts->n_msi].data = data;
    ts->n_msi++;
    return 0;
}

static int ts_shutdown(void *be, enum hv_shutdown reason)
{
    struct testsrc *ts = be;
    ts->shutdown_reason = (int)reason;
    ts->shutdowns++;
    return 0;
}

static size_t alloc_size(size_t ram_size)
{
    size_t b = (size_t)1 << MEM_BUCKET_SHIFT;
    return (ram_size + b - 1) / b * b;
}

static int ts_map_gfn(void *be, uint64_t gfn, size_t n, void **addr, int *err)
{
    struct testsrc *ts = be;
    size_t pages = alloc_size(ts->ram_size) >> MEM_PAGE_SHIFT;
    if (gfn >= pages || n > pages - gfn)
        return -EINVAL; /* callers never ask beyond the allocation (mem.c checks RAM first) */
    for (size_t i = 0; i < n; i++) {
        uint64_t g = gfn + i;
        err[i] = (g << MEM_PAGE_SHIFT) >= ts->ram_size || ts->hole[g] ? -EFAULT : 0;
    }
    *addr = ts->ram + (gfn << MEM_PAGE_SHIFT);
    ts->maps++;
    return 0;
}

static void ts_unmap_gfn(void *be, void *addr, size_t n)
{
    struct testsrc *ts = be;
    (void)addr;
    (void)n;
    ts->unmaps++;
}

static const struct hv_ops ts_ops = {
    .map_range = ts_map_range,
    .unmap_range = ts_unmap_range,
    .set_isa_irq = ts_set_isa_irq,
    .set_pci_intx = ts_set_pci_intx,
    .set_pci_link = ts_set_pci_link,
    .inject_msi = ts_inject_msi,
    .shutdown = ts_shutdown,
    .map_gfn = ts_map_gfn,
    .unmap_gfn = ts_unmap_gfn,
};

struct testsrc *ts_new(size_t ram_size)
{
    struct testsrc *ts = calloc(1, sizeof(*ts));
    if (!ts || ram_size >= MEM_4G)
        goto fail;
    ts->ram_size = ram_size;
    ts->ram = calloc(1, alloc_size(ram_size) ? alloc_size(ram_size) : 1);
    ts->hole = calloc(1, (alloc_size(ram_size) >> MEM_PAGE_SHIFT) + 1);
    ts->iopage = aligned_alloc(4096, 4096);
    ts->bufpage = aligned_alloc(4096, 4096);
    ts->loop = loop_new();
    if (!ts->ram || !ts->hole || !ts->iopage || !ts->bufpage || !ts->loop)
        goto fail;
    memset(ts->iopage, 0, 4096);
    memset(ts->bufpage, 0, 4096);
    ts->shutdown_reason = -1;
    ts->hv.ops = &ts_ops;
    ts->hv.be = ts;
    if (vm_init(&ts->vm, &ts->hv, ts->loop, NULL, 1, ram_size, 0) < 0)
        goto fail;
    return ts;
fail:
    if (ts) {
        loop_free(ts->loop);
        free(ts->bufpage);
        free(ts->iopage);
        free(ts->hole);
        free(ts->ram);
        free(ts);
    }
    return NULL;
}

void ts_free(struct testsrc *ts)
{
    if (!ts)
        return;
    vm_fini(&ts->vm);
    loop_free(ts->loop);
    free(ts->bufpage);
    free(ts->iopage);
    free(ts->hole);
    free(ts->ram);
    free(ts);
}

void ts_set_hole(struct testsrc *ts, uint64_t gfn)
{
    if (gfn < (alloc_size(ts->ram_size) >> MEM_PAGE_SHIFT))
        ts->hole[gfn] = 1;
}

int ts_claimed(const struct testsrc *ts, enum hv_space space, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < ts->n_ranges; i++) {
        const struct ts_range *r = &ts->ranges[i];
        if (r->space == space && start >= r->start && end <= r->end)
            return 1;
    }
    return 0;
}

/* ---- playing Xen's part of an access ---- */

int ts_request(struct testsrc *ts, ioreq_t *req)
{
    ioreq_t *slot = &ts->iopage->vcpu_ioreq[0];
    ioreq_t p = *req;
    p.state = STATE_IOREQ_NONE;
    p.vp_eport = 7;
    *slot = p;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->state = STATE_IOREQ_READY;
    ts->forwarded++;
    if (ioreq_serve_slot(&ts->vm, slot) != 1 || slot->state != STATE_IORESP_READY)
        return -EPROTO;
    req->data = slot->data;
    slot->state = STATE_IOREQ_NONE;
    return 0;
}

static uint64_t send(struct testsrc *ts, uint8_t type, uint64_t addr, unsigned size,
                     uint32_t count, uint64_t data, int ptr, int dir, int df)
{
    ioreq_t req = { 0 };
    req.type = type;
    req.addr = addr;
    req.size = size;
    req.count = count;
    req.data = data;
    req.data_is_ptr = ptr ? 1 : 0;
    req.dir = dir ? 1 : 0;
    req.df = df ? 1 : 0;
    if (ts_request(ts, &req) < 0)
        return ~0ull;
    return req.data;
}

/* Xen's routing of a port access (ioreq_server_select): 0xcfc-0xcff with an enabled address
 * in 0xcf8 goes to the server that claimed that function, as PCI_CONFIG; the rest by range. */
static int pio_route(struct testsrc *ts, uint16_t port, unsigned size, int dir, uint64_t *data)
{
    if ((port & ~3) == 0xcfc && (ts->cf8 & 0x80000000u)) {
        uint32_t devfn = (ts->cf8 >> 8) & 0xff, busn = (ts->cf8 >> 16) & 0xff;
        uint32_t reg = (ts->cf8 & 0xfc) | (port & 3);
        uint32_t sbdf = busn << 8 | devfn;
        if (ts_claimed(ts, HV_PCI, sbdf, sbdf)) {
            uint64_t r = send(ts, IOREQ_TYPE_PCI_CONFIG, (uint64_t)sbdf << 32 | reg, size, 1,
                              *data, 0, dir, 0);
            if (dir == IOREQ_READ)
                *data = r;
            return 1;
        }
        ts->absorbed++;
        if (dir == IOREQ_READ)
            *data = ones(size);
        return 0;
    }
    if (port == 0xcf8 && size == 4 && dir == IOREQ_WRITE)
        ts->cf8 = (uint32_t)*data; /* Xen latches it, then passes the write on */
    if (!ts_claimed(ts, HV_PIO, port, (uint64_t)port + size - 1)) {
        ts->absorbed++;
        if (dir == IOREQ_READ)
            *data = ones(size);
        return 0;
    }
    uint64_t r = send(ts, IOREQ_TYPE_PIO, port, size, 1, *data, 0, dir, 0);
    if (dir == IOREQ_READ)
        *data = r;
    return 1;
}

uint32_t ts_in(struct testsrc *ts, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    pio_route(ts, port, size, IOREQ_READ, &v);
    return (uint32_t)(v & ones(size));
}

void ts_out(struct testsrc *ts, uint16_t port, unsigned size, uint32_t val)
{
    uint64_t v = val & ones(size);
    pio_route(ts, port, size, IOREQ_WRITE, &v);
}

uint64_t ts_mmio_read(struct testsrc *ts, uint64_t addr, unsigned size)
{
    if (!ts_claimed(ts, HV_MMIO, addr, addr + size - 1)) {
        ts->absorbed++;
        return ones(size);
    }
    return send(ts, IOREQ_TYPE_COPY, addr, size, 1, 0, 0, IOREQ_READ, 0) & ones(size);
}

void ts_mmio_write(struct testsrc *ts, uint64_t addr, unsigned size, uint64_t val)
{
    if (!ts_claimed(ts, HV_MMIO, addr, addr + size - 1)) {
        ts->absorbed++;
        return;
    }
    send(ts, IOREQ_TYPE_COPY, addr, size, 1, val & ones(size), 0, IOREQ_WRITE, 0);
}

void ts_rep_in(struct testsrc *ts, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df)
{
    if (!ts_claimed(ts, HV_PIO, port, (uint64_t)port + size - 1)) {
        ts->absorbed++;
        return;
    }
    send(ts, IOREQ_TYPE_PIO, port, size, count, gpa, 1, IOREQ_READ, df);
}

void ts_rep_out(struct testsrc *ts, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df)
{
    if (!ts_claimed(ts, HV_PIO, port, (uint64_t)port + size - 1)) {
        ts->absorbed++;
        return;
    }
    send(ts, IOREQ_TYPE_PIO, port, size, count, gpa, 1, IOREQ_WRITE, df);
}

uint32_t ts_cfg_read(struct testsrc *ts, uint8_t devfn, unsigned reg, unsigned size)
{
    ts_out(ts, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc));
    return ts_in(ts, (uint16_t)(0xcfc + (reg & 3)), size);
}

void ts_cfg_write(struct testsrc *ts, uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
    ts_out(ts, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc));
    ts_out(ts, (uint16_t)(0xcfc + (reg & 3)), size, val);
}

int ts_buffered_push(struct testsrc *ts, uint8_t type, uint32_t addr, unsigned size, uint64_t data)
{
    buffered_iopage_t *pg = ts->bufpage;
    buf_ioreq_t bp = { 0 };
    int qw = size == 8;
    bp.type = type;
    bp.addr = addr & 0xfffff;
    bp.data = (uint32_t)data;
    bp.dir = IOREQ_WRITE;
    bp.size = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    if (pg->write_pointer - pg->read_pointer >= (uint32_t)(IOREQ_BUFFER_SLOT_NUM - qw))
        return -ENOSPC;
    pg->buf_ioreq[pg->write_pointer % IOREQ_BUFFER_SLOT_NUM] = bp;
    if (qw) {
        bp.data = (uint32_t)(data >> 32);
        pg->buf_ioreq[(pg->write_pointer + 1) % IOREQ_BUFFER_SLOT_NUM] = bp;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    pg->write_pointer += qw ? 2 : 1;
    /* Xen rebases both pointers once the reader is past a full ring (atomic mode). */
    if (pg->read_pointer >= IOREQ_BUFFER_SLOT_NUM) {
        uint32_t n = pg->read_pointer / IOREQ_BUFFER_SLOT_NUM;
        pg->read_pointer -= n * IOREQ_BUFFER_SLOT_NUM;
        pg->write_pointer -= n * IOREQ_BUFFER_SLOT_NUM;
    }
    return 0;
}

int ts_buffered_serve(struct testsrc *ts)
{
    return ioreq_serve_buffered(&ts->vm, ts->bufpage);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The in-process ioreq source (see fakexen.h). */
#include "tests/lib/fakexen.h"
#include "dm/input.h"
#include "dm/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the hypervisor interface, over plain memory ---- */

static int fx_map_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct fakexen *fx = be;
    if (end < start)
        return -EINVAL;
    for (unsigned i = 0; i < fx->n_ranges; i++) {
        struct fx_range *r = &fx->ranges[i];
        if (r->space == space && start <= r->end && end >= r->start)
            return -EEXIST; /* as Xen's rangeset check */
    }
    if (fx->n_ranges == FX_MAX_RANGES)
        return -ENOSPC;
    fx->ranges[fx->n_ranges++] = (struct fx_range){ space, start, end };
    return 0;
}

static int fx_unmap_range(void *be, enum hv_space space, uint64_t start, uint64_t end)
{
    struct fakexen *fx = be;
    for (unsigned i = 0; i < fx->n_ranges; i++) {
        struct fx_range *r = &fx->ranges[i];
        if (r->space == space && r->start == start && r->end == end) {
            *r = fx->ranges[--fx->n_ranges];
            return 0;
        }
    }
    return -ENOENT;
}

static int fx_set_isa_irq(void *be, unsigned irq, unsigned level)
{
    struct fakexen *fx = be;
    if (irq >= 16)
        return -EINVAL;
    if (fx->isa[irq] != level)
        fx->isa_changes[irq]++;
    fx->isa[irq] = (uint8_t)level;
    return 0;
}

static int fx_set_pci_intx(void *be, unsigned slot, unsigned intx, unsigned level)
{
    struct fakexen *fx = be;
    if (slot >= 32 || intx >= 4)
        return -EINVAL;
    fx->intx[slot][intx] = (uint8_t)level;
    return 0;
}

static int fx_set_pci_link(void *be, unsigned link, unsigned irq)
{
    struct fakexen *fx = be;
    if (link >= 4 || irq >= 16)
        return -EINVAL;
    fx->link[link] = (uint8_t)irq;
    return 0;
}

static int fx_inject_msi(void *be, uint64_t addr, uint32_t data)
{
    struct fakexen *fx = be;
    if (fx->n_msi == FX_MAX_MSI)
        return -ENOSPC;
    fx->msi[fx->n_msi].addr = addr;
    fx->msi[fx->n_msi].data = data;
    fx->n_msi++;
    return 0;
}

static int fx_shutdown(void *be, enum hv_shutdown reason)
{
    struct fakexen *fx = be;
    fx->shutdown_reason = (int)reason;
    fx->shutdowns++;
    return 0;
}

static size_t alloc_size(size_t ram_size)
{
    size_t b = (size_t)1 << MEM_BUCKET_SHIFT;
    return (ram_size + b - 1) / b * b;
}

static int fx_map_gfn(void *be, uint64_t gfn, size_t n, void **addr, int *err)
{
    struct fakexen *fx = be;
    size_t pages = alloc_size(fx->ram_size) >> MEM_PAGE_SHIFT;
    for (unsigned r = 0; r < 4; r++) { /* video RAM's pages, the text window's */
        struct fx_vram *v = r == 0 ? &fx->vram : &fx->vram_more[r - 1];
        if (v->mem && gfn == v->gfn && n == v->n) {
            for (size_t i = 0; i < n; i++)
                err[i] = 0;
            *addr = v->mem;
            fx->maps++;
            return 0;
        }
    }
    if (fx->fw && gfn >= fx->fw_gfn && n <= fx->fw_n && gfn - fx->fw_gfn <= fx->fw_n - n) {
        for (size_t i = 0; i < n; i++)
            err[i] = 0;
        *addr = fx->fw + ((gfn - fx->fw_gfn) << MEM_PAGE_SHIFT);
        fx->maps++;
        return 0;
    }
    if (gfn >= pages || n > pages - gfn)
        return -EINVAL; /* callers never ask beyond the allocation (mem.c checks RAM first) */
    for (size_t i = 0; i < n; i++) {
        uint64_t g = gfn + i;
        err[i] = (g << MEM_PAGE_SHIFT) >= fx->ram_size || fx->hole[g] ? -EFAULT : 0;
    }
    *addr = fx->ram + (gfn << MEM_PAGE_SHIFT);
    fx->maps++;
    return 0;
}

static void fx_unmap_gfn(void *be, void *addr, size_t n)
{
    struct fakexen *fx = be;
    (void)addr;
    (void)n;
    fx->unmaps++;
}

static int fx_vcpu_info(void *be, unsigned *max, uint8_t *online, size_t len)
{
    struct fakexen *fx = be;
    *max = fx->max_vcpus;
    memset(online, 0, len);
    if (fx->vcpu_info_err)
        return fx->vcpu_info_err;
    memcpy(online, fx->vcpu_online, len < sizeof(fx->vcpu_online) ? len : sizeof(fx->vcpu_online));
    return 0;
}

static int fx_set_s_state(void *be, unsigned state)
{
    struct fakexen *fx = be;
    if (state != 0 && state != 3)
        return -EINVAL;
    /* as Xen's hvm_s3_suspend / hvm_s3_resume: EINVAL unless the domain changes state */
    if ((state == 3) == (fx->s_state == 3))
        return -EINVAL;
    fx->s_state = (int)state;
    fx->s_state_sets++;
    return 0;
}

static int fx_power_button(void *be)
{
    struct fakexen *fx = be;
    fx->power_buttons++;
    return 0;
}

static int fx_hold(void *be, int on)
{
    struct fakexen *fx = be;
    if (!on) {
        fx->held--;
        return 0;
    }
    if (fx->hold_busy) { /* a vCPU's request in flight: as many tries as the test says */
        fx->hold_busy--;
        return -EAGAIN;
    }
    fx->held++;
    fx->holds++;
    return 0;
}

/* vram_alloc's regions: I 0 is fx->vram, 1.. fx->vram_more */
#define FX_VRAMS 4
static struct fx_vram *fx_region(struct fakexen *fx, unsigned i)
{
    return i == 0 ? &fx->vram : &fx->vram_more[i - 1];
}

static int fx_vram_alloc(void *be, uint64_t gfn, size_t n, void **addr)
{
    struct fakexen *fx = be;
    struct fx_vram *v = NULL;
    if (fx->vram_refuse)
        return fx->vram_refuse;
    for (unsigned i = 0; i < FX_VRAMS && !v; i++)
        if (!fx_region(fx, i)->mem)
            v = fx_region(fx, i);
    if (!v || n == 0)
        return -EBUSY; /* four are all a test needs */
    for (unsigned i = 0; i < FX_VRAMS; i++) {
        struct fx_vram *o = fx_region(fx, i);
        if (o->mem && gfn < o->gfn + o->n && o->gfn < gfn + n)
            return -EEXIST; /* Xen would populate over nothing but a hole */
    }
    v->mem = calloc(n, MEM_PAGE_SIZE);
    v->dirty = calloc(n, 1);
    if (!v->mem || !v->dirty) {
        free(v->mem);
        free(v->dirty);
        v->mem = v->dirty = NULL;
        return -ENOMEM;
    }
    v->gfn = gfn;
    v->n = n;
    *addr = v->mem;
    return 0;
}

static void fx_vram_free(void *be, void *addr, size_t n)
{
    struct fakexen *fx = be;
    (void)n;
    for (unsigned i = 0; i < FX_VRAMS; i++) {
        struct fx_vram *v = fx_region(fx, i);
        if (addr && addr == v->mem) {
            free(v->mem);
            free(v->dirty);
            memset(v, 0, sizeof(*v));
        }
    }
}

static int fx_vram_move(void *be, uint64_t from, uint64_t to, size_t n)
{
    struct fakexen *fx = be;
    struct fx_vram *v = NULL;
    for (unsigned i = 0; i < FX_VRAMS; i++)
        if (fx_region(fx, i)->mem && fx_region(fx, i)->gfn == from)
            v = fx_region(fx, i);
    if (!v || n != v->n)
        return -EINVAL;
    for (unsigned i = 0; i < FX_VRAMS; i++) {
        struct fx_vram *o = fx_region(fx, i);
        if (o != v && o->mem && to < o->gfn + o->n && o->gfn < to + n)
            return -EEXIST; /* (Xen would drop the pages there: hvmd must never ask it) */
    }
    v->gfn = to;
    fx->vram_moves++;
    return 0;
}

static int fx_vram_dirty(void *be, uint64_t gfn, size_t n, uint8_t *bitmap)
{
    struct fakexen *fx = be;
    memset(bitmap, 0, (n + 7) / 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t g = gfn + i;
        for (unsigned k = 0; k < FX_VRAMS; k++) {
            struct fx_vram *v = fx_region(fx, k);
            if (!v->mem || g < v->gfn || g >= v->gfn + v->n)
                continue;
            if (v->dirty[g - v->gfn])
                bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            v->dirty[g - v->gfn] = 0;
        }
    }
    return 0;
}

/* The region of video RAM holding guest address ADDR (SIZE bytes), or NULL if ADDR is not
 * in one. */
static struct fx_vram *vram_region(struct fakexen *fx, uint64_t addr, unsigned size)
{
    for (unsigned i = 0; i < FX_VRAMS; i++) {
        struct fx_vram *v = fx_region(fx, i);
        uint64_t base = v->gfn << MEM_PAGE_SHIFT, len = (uint64_t)v->n << MEM_PAGE_SHIFT;
        if (v->mem && addr >= base && addr + size <= base + len) {
            fx->vram_accesses++;
            return v;
        }
    }
    return NULL;
}

/* As Xen's domain_pause_by_systemcontroller: a count; unpausing a domain nobody paused fails. */
static int fx_pause(void *be, int on)
{
    struct fakexen *fx = be;
    if (on) {
        if (fx->pause_count >= 255)
            return -EOVERFLOW;
        fx->pause_count++;
        fx->pauses++;
        return 0;
    }
    if (!fx->pause_count)
        return -EINVAL;
    fx->pause_count--;
    fx->unpauses++;
    return 0;
}

static int fx_modified_memory(void *be, uint64_t gfn, size_t n)
{
    struct fakexen *fx = be;
    fx->modified_pages += n;
    fx->modified_last = gfn;
    return 0;
}

static const struct hv_ops fx_ops = HV_OPS_OF(fx);

int fx_vram_restore(struct fakexen *fx, uint64_t gfn, const void *data, size_t n)
{
    struct fx_vram *v = NULL;
    for (unsigned i = 0; i < FX_VRAMS && !v; i++)
        if (!fx_region(fx, i)->mem)
            v = fx_region(fx, i);
    if (!v || n == 0)
        return -EEXIST;
    v->mem = malloc(n * MEM_PAGE_SIZE);
    v->dirty = calloc(n, 1);
    if (!v->mem || !v->dirty) {
        free(v->mem);
        free(v->dirty);
        v->mem = v->dirty = NULL;
        return -ENOMEM;
    }
    memcpy(v->mem, data, n * MEM_PAGE_SIZE);
    v->gfn = gfn;
    v->n = n;
    return 0;
}

/* What fx_new allocates, freed (the vm aside); FX may be NULL or half made. */
static void release(struct fakexen *fx)
{
    if (!fx)
        return;
    loop_free(fx->loop);
    free(fx->vram.mem);   /* (restored pages no device adopted) */
    free(fx->vram.dirty);
    for (unsigned i = 0; i < 3; i++) {
        free(fx->vram_more[i].mem);
        free(fx->vram_more[i].dirty);
    }
    free(fx->fw);
    free(fx->bufpage);
    free(fx->iopage);
    free(fx->hole);
    free(fx->ram);
    free(fx);
}

struct fakexen *fx_new(size_t ram_size)
{
    struct fakexen *fx = calloc(1, sizeof(*fx));
    if (!fx || ram_size >= MEM_4G)
        goto fail;
    fx->ram_size = ram_size;
    fx->ram = calloc(1, alloc_size(ram_size) ? alloc_size(ram_size) : 1);
    fx->hole = calloc(1, (alloc_size(ram_size) >> MEM_PAGE_SHIFT) + 1);
    fx->iopage = aligned_alloc(4096, 4096);
    fx->bufpage = aligned_alloc(4096, 4096);
    fx->loop = loop_new();
    if (!fx->ram || !fx->hole || !fx->iopage || !fx->bufpage || !fx->loop)
        goto fail;
    memset(fx->iopage, 0, 4096);
    memset(fx->bufpage, 0, 4096);
    fx->shutdown_reason = -1;
    fx->max_vcpus = 1;
    fx->vcpu_online[0] = 1;
    fx->hv.ops = &fx_ops;
    fx->hv.be = fx;
    if (vm_init(&fx->vm, &fx->hv, fx->loop, NULL, 1, ram_size, 0) < 0)
        goto fail;
    return fx;
fail:
    release(fx);
    return NULL;
}

void fx_free(struct fakexen *fx)
{
    if (!fx)
        return;
    input_fini(&fx->vm); /* the input targets devices registered (dm/input.h) */
    vm_fini(&fx->vm);
    for (unsigned i = FX_VRAMS; i-- > 0;)
        fx_vram_free(fx, fx_region(fx, i)->mem, fx_region(fx, i)->n);
    release(fx);
}

/* ---- guest memory filled on demand ---- */

void fx_fill_mark(struct fakexen *fx, uint64_t gpa, size_t len)
{
    struct fx_fill *f = &fx->fill;
    if (!f->on || !len)
        return;
    unsigned slot = f->n_done < FX_FILL_RANGES ? f->n_done++ : (f->head++ % FX_FILL_RANGES);
    f->done[slot].start = gpa;
    f->done[slot].end = gpa + len;
}

void fx_fill_pattern(struct fakexen *fx, unsigned i, const uint8_t *p, size_t len,
                     uint8_t stride)
{
    struct fx_fill *f = &fx->fill;
    i %= FX_FILL_PATTERNS;
    if (len > FX_FILL_PATTERN_MAX)
        len = FX_FILL_PATTERN_MAX;
    memcpy(f->pat[i].data, p, len);
    f->pat[i].len = (uint8_t)len;
    f->pat[i].stride = stride;
}

/* Fill [gpa, end) but what is done already; DEPTH bounds the splitting. */
static void fill_range(struct fakexen *fx, uint64_t gpa, uint64_t end, unsigned depth)
{
    struct fx_fill *f = &fx->fill;
    if (gpa >= end || depth > 8 || !f->budget)
        return;
    for (unsigned i = 0; i < f->n_done; i++) {
        uint64_t s = f->done[i].start, e = f->done[i].end;
        if (gpa < e && end > s) { /* overlap: only the parts on either side */
            fill_range(fx, gpa, MIN(end, s), depth + 1);
            fill_range(fx, MAX(gpa, e), end, depth + 1);
            return;
        }
    }
    unsigned p = FX_FILL_PATTERNS;
    for (unsigned k = 0; k < FX_FILL_PATTERNS; k++) {
        unsigned c = (f->next + k) % FX_FILL_PATTERNS;
        if (f->pat[c].len) {
            p = c;
            break;
        }
    }
    size_t n = (size_t)MIN(end - gpa, (uint64_t)f->budget);
    if (n > FX_FILL_ACCESS_MAX)
        n = FX_FILL_ACCESS_MAX;
    if (p == FX_FILL_PATTERNS) {
        if (!f->src_len)
            return; /* no pattern, no source: memory as it is */
        for (size_t k = 0; k < n; k++)
            fx->ram[gpa + k] = f->src[(f->src_at + k) % f->src_len];
        f->src_at = (f->src_at + 7) % f->src_len; /* the next fill starts elsewhere */
    } else {
        f->next = p + 1;
        const uint8_t *d = f->pat[p].data;
        unsigned len = f->pat[p].len, stride = f->pat[p].stride;
        for (size_t k = 0; k < n; k++) {
            uint8_t v = d[k % len];
            if (stride && k % stride == 0)
                v = f->counter++;
            fx->ram[gpa + k] = v;
        }
    }
    f->budget -= n;
    f->fills++;
    f->bytes += n;
    fx_fill_mark(fx, gpa, n);
}

static void fill_hook(void *opaque, uint64_t gpa, size_t len, int write)
{
    struct fakexen *fx = opaque;
    if (gpa >= fx->ram_size || len > fx->ram_size - gpa)
        return; /* RAM above 4 GiB: the fake has none */
    if (write)
        fx_fill_mark(fx, gpa, len); /* a device's own data: read back as it wrote it */
    else
        fill_range(fx, gpa, gpa + len, 0);
}

void fx_fill_source(struct fakexen *fx, const uint8_t *p, size_t len)
{
    fx->fill.src = p;
    fx->fill.src_len = len;
    fx->fill.src_at = 0;
}

void fx_fill_enable(struct fakexen *fx, size_t budget)
{
    memset(&fx->fill, 0, sizeof(fx->fill));
    fx->fill.on = 1;
    fx->fill.budget = budget;
    mem_set_hook(fx->vm.mem, fill_hook, fx);
}

void fx_set_hole(struct fakexen *fx, uint64_t gfn)
{
    if (gfn < (alloc_size(fx->ram_size) >> MEM_PAGE_SHIFT))
        fx->hole[gfn] = 1;
}

int fx_claimed(const struct fakexen *fx, enum hv_space space, uint64_t start, uint64_t end)
{
    for (unsigned i = 0; i < fx->n_ranges; i++) {
        const struct fx_range *r = &fx->ranges[i];
        if (r->space == space && start >= r->start && end <= r->end)
            return 1;
    }
    return 0;
}

/* ---- playing Xen's part of an access ---- */

int fx_request(struct fakexen *fx, ioreq_t *req)
{
    ioreq_t *slot = &fx->iopage->vcpu_ioreq[0];
    ioreq_t p = *req;
    p.state = STATE_IOREQ_NONE;
    p.vp_eport = 7;
    *slot = p;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->state = STATE_IOREQ_READY;
    fx->forwarded++;
    if (ioreq_serve_slot(&fx->vm, slot) != 1 || slot->state != STATE_IORESP_READY)
        return -EPROTO;
    req->data = slot->data;
    slot->state = STATE_IOREQ_NONE;
    return 0;
}

static uint64_t send(struct fakexen *fx, uint8_t type, uint64_t addr, unsigned size,
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
    if (fx_request(fx, &req) < 0)
        return ~0ull;
    return req.data;
}

/* Xen's routing of a port access (ioreq_server_select): 0xcfc-0xcff with an enabled address
 * in 0xcf8 goes to the server that claimed that function, as PCI_CONFIG; the rest by range. */
static int pio_route(struct fakexen *fx, uint16_t port, unsigned size, int dir, uint64_t *data)
{
    if ((port & ~3) == 0xcfc && (fx->cf8 & 0x80000000u)) {
        uint32_t devfn = (fx->cf8 >> 8) & 0xff, busn = (fx->cf8 >> 16) & 0xff;
        uint32_t reg = (fx->cf8 & 0xfc) | (port & 3);
        uint32_t sbdf = busn << 8 | devfn;
        if (fx_claimed(fx, HV_PCI, sbdf, sbdf)) {
            uint64_t r = send(fx, IOREQ_TYPE_PCI_CONFIG, (uint64_t)sbdf << 32 | reg, size, 1,
                              *data, 0, dir, 0);
            if (dir == IOREQ_READ)
                *data = r;
            return 1;
        }
        fx->absorbed++;
        if (dir == IOREQ_READ)
            *data = ones(size);
        return 0;
    }
    if (port == 0xcf8 && size == 4 && dir == IOREQ_WRITE)
        fx->cf8 = (uint32_t)*data; /* Xen latches it, then passes the write on */
    if (!fx_claimed(fx, HV_PIO, port, (uint64_t)port + size - 1)) {
        fx->absorbed++;
        if (dir == IOREQ_READ)
            *data = ones(size);
        return 0;
    }
    uint64_t r = send(fx, IOREQ_TYPE_PIO, port, size, 1, *data, 0, dir, 0);
    if (dir == IOREQ_READ)
        *data = r;
    return 1;
}

uint32_t fx_in(struct fakexen *fx, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    pio_route(fx, port, size, IOREQ_READ, &v);
    return (uint32_t)(v & ones(size));
}

void fx_out(struct fakexen *fx, uint16_t port, unsigned size, uint32_t val)
{
    uint64_t v = val & ones(size);
    pio_route(fx, port, size, IOREQ_WRITE, &v);
}

uint64_t fx_mmio_read(struct fakexen *fx, uint64_t addr, unsigned size)
{
    struct fx_vram *v = vram_region(fx, addr, size);
    if (v) {
        uint64_t val = 0;
        memcpy(&val, v->mem + (addr - (v->gfn << MEM_PAGE_SHIFT)), size);
        return val;
    }
    if (!fx_claimed(fx, HV_MMIO, addr, addr + size - 1)) {
        fx->absorbed++;
        return ones(size);
    }
    return send(fx, IOREQ_TYPE_COPY, addr, size, 1, 0, 0, IOREQ_READ, 0) & ones(size);
}

void fx_mmio_write(struct fakexen *fx, uint64_t addr, unsigned size, uint64_t val)
{
    struct fx_vram *v = vram_region(fx, addr, size);
    if (v) {
        memcpy(v->mem + (addr - (v->gfn << MEM_PAGE_SHIFT)), &val, size);
        for (uint64_t a = addr; a < addr + size; a = (a | (MEM_PAGE_SIZE - 1)) + 1)
            v->dirty[(a >> MEM_PAGE_SHIFT) - v->gfn] = 1;
        return;
    }
    if (!fx_claimed(fx, HV_MMIO, addr, addr + size - 1)) {
        fx->absorbed++;
        return;
    }
    send(fx, IOREQ_TYPE_COPY, addr, size, 1, val & ones(size), 0, IOREQ_WRITE, 0);
}

void fx_rep_in(struct fakexen *fx, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df)
{
    if (!fx_claimed(fx, HV_PIO, port, (uint64_t)port + size - 1)) {
        fx->absorbed++;
        return;
    }
    send(fx, IOREQ_TYPE_PIO, port, size, count, gpa, 1, IOREQ_READ, df);
}

void fx_rep_out(struct fakexen *fx, uint16_t port, unsigned size, uint32_t count, uint64_t gpa, int df)
{
    if (!fx_claimed(fx, HV_PIO, port, (uint64_t)port + size - 1)) {
        fx->absorbed++;
        return;
    }
    send(fx, IOREQ_TYPE_PIO, port, size, count, gpa, 1, IOREQ_WRITE, df);
}

uint32_t fx_cfg_read(struct fakexen *fx, uint8_t devfn, unsigned reg, unsigned size)
{
    fx_out(fx, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc));
    return fx_in(fx, (uint16_t)(0xcfc + (reg & 3)), size);
}

void fx_cfg_write(struct fakexen *fx, uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
    fx_out(fx, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (reg & 0xfc));
    fx_out(fx, (uint16_t)(0xcfc + (reg & 3)), size, val);
}

int fx_buffered_push(struct fakexen *fx, uint8_t type, uint32_t addr, unsigned size, uint64_t data)
{
    buffered_iopage_t *pg = fx->bufpage;
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

int fx_buffered_serve(struct fakexen *fx)
{
    return ioreq_serve_buffered(&fx->vm, fx->bufpage);
}

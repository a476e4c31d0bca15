/* SPDX-License-Identifier: GPL-2.0-only */
/* I/O request validation and dispatch (see ioreq.h). */
#include "dm/ioreq.h"
#include "dm/log.h"

#include <errno.h>
#include <string.h>

#define REP_CHUNK 4096 /* bytes moved per step of a rep request */

static int size_ok(uint32_t size, uint32_t max)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && size <= max;
}

static const char *type_name(uint8_t t)
{
    switch (t) {
    case IOREQ_TYPE_PIO: return "pio";
    case IOREQ_TYPE_COPY: return "mmio";
    case IOREQ_TYPE_PCI_CONFIG: return "pci-config";
    case IOREQ_TYPE_TIMEOFFSET: return "timeoffset";
    case IOREQ_TYPE_INVALIDATE: return "invalidate";
    default: return "unknown";
    }
}

static int bad(struct vm *vm, ioreq_t *req, const char *why)
{
    vm->ioreq.bad++;
    log_guest(&vm->ioreq_rl, "ioreq", "%s request refused (%s): addr %#llx size %u count %u ptr %u dir %u",
              type_name(req->type), why, (unsigned long long)req->addr, req->size, req->count,
              req->data_is_ptr, req->dir);
    if (req->dir == IOREQ_READ && !req->data_is_ptr)
        req->data = ones(size_ok(req->size, 8) ? req->size : 8);
    return -EINVAL;
}

/* One item of a port or MMIO access. */
static uint64_t item_read(struct vm *vm, int pio, uint64_t addr, unsigned size)
{
    return pio ? bus_pio_read(vm->bus, (uint16_t)addr, size) : bus_mmio_read(vm->bus, addr, size);
}

static void item_write(struct vm *vm, int pio, uint64_t addr, unsigned size, uint64_t val)
{
    if (pio)
        bus_pio_write(vm->bus, (uint16_t)addr, size, val);
    else
        bus_mmio_write(vm->bus, addr, size, val);
}

/* Where item I of a request is on the device: a port stays, an MMIO address moves (down with df). */
static uint64_t item_addr(const ioreq_t *req, int pio, uint32_t i)
{
    uint64_t off = (uint64_t)i * req->size;
    if (pio)
        return req->addr;
    return req->df ? req->addr - off : req->addr + off;
}

/* Reverse the order of N items of SIZE bytes in BUF (df: guest memory runs the other way). */
static void reverse_items(uint8_t *buf, uint32_t n, unsigned size)
{
    uint8_t tmp[8];
    for (uint32_t i = 0, j = n - 1; i < j; i++, j--) {
        memcpy(tmp, buf + i * size, size);
        memcpy(buf + i * size, buf + j * size, size);
        memcpy(buf + j * size, tmp, size);
    }
}

/* Items [first, first+n) of a rep request with a guest-memory pointer: the lowest guest
 * address they occupy. */
static uint64_t rep_mem_lo(const ioreq_t *req, uint32_t first, uint32_t n)
{
    uint64_t step = req->size;
    return req->df ? req->data - (uint64_t)(first + n - 1) * step : req->data + first * step;
}

/* The memory side of a rep MMIO request that is not RAM but another MMIO range this process
 * serves (rep movs inside the VGA window, as the VGA BIOS scrolls: Xen sends the source
 * side with the destination as the pointer): byte by byte through the bus, as QEMU's memory
 * API would. 0, or -EFAULT if [GPA, GPA+LEN) is not one region. */
static int mmio_side(struct vm *vm, uint64_t gpa, uint8_t *buf, size_t len, int write)
{
    struct io_region *r = bus_find_mmio(vm->bus, gpa);
    if (!r || gpa + len > r->base + r->len)
        return -EFAULT;
    for (size_t i = 0; i < len; i++) {
        if (write)
            bus_mmio_write(vm->bus, gpa + i, 1, buf[i]);
        else
            buf[i] = (uint8_t)bus_mmio_read(vm->bus, gpa + i, 1);
    }
    return 0;
}

/* rep ins / outs / movs with data_is_ptr. For PIO the port stays; for MMIO the device
 * address moves with the items, the same way as guest memory. */
static void do_rep(struct vm *vm, ioreq_t *req, int pio)
{
    uint8_t buf[REP_CHUNK];
    const unsigned size = req->size;
    const uint32_t per_chunk = REP_CHUNK / size;
    for (uint32_t done = 0; done < req->count;) {
        uint32_t n = MIN(req->count - done, per_chunk);
        uint64_t lo = rep_mem_lo(req, done, n);
        uint32_t k = 0;
        /* The device's bulk hooks, for a port FIFO the whole item fits in. Looked up per chunk:
         * an access may change what the bus holds (an unplug, say). */
        struct io_region *r = pio ? bus_find_pio(vm->bus, (uint16_t)req->addr) : NULL;
        int bulk = r && req->addr - r->base + size <= r->len;

        if (req->dir == IOREQ_READ) {
            /* device -> guest memory */
            if (bulk && r->ops->read_rep) {
                uint32_t got = r->ops->read_rep(r->opaque, req->addr - r->base, size, n, buf);
                k = MIN(got, n);
                r->reads++;
            }
            for (; k < n; k++)
                stn(buf + k * size, size, item_read(vm, pio, item_addr(req, pio, done + k), size));
            if (req->df)
                reverse_items(buf, n, size);
            if (mem_write(vm->mem, lo, buf, (size_t)n * size) < 0 &&
                (pio || mmio_side(vm, lo, buf, (size_t)n * size, 1) < 0))
                log_guest(&vm->ioreq_rl, "ioreq", "rep %s read: guest memory %#llx+%u is not RAM",
                          type_name(req->type), (unsigned long long)lo, n * size);
        } else {
            /* guest memory -> device */
            if (mem_read(vm->mem, lo, buf, (size_t)n * size) < 0 &&
                (pio || mmio_side(vm, lo, buf, (size_t)n * size, 0) < 0)) {
                log_guest(&vm->ioreq_rl, "ioreq", "rep %s write: guest memory %#llx+%u is not RAM",
                          type_name(req->type), (unsigned long long)lo, n * size);
                memset(buf, 0xff, (size_t)n * size);
            }
            if (req->df)
                reverse_items(buf, n, size);
            if (bulk && r->ops->write_rep) {
                uint32_t put = r->ops->write_rep(r->opaque, req->addr - r->base, size, n, buf);
                k = MIN(put, n);
                r->writes++;
            }
            for (; k < n; k++)
                item_write(vm, pio, item_addr(req, pio, done + k), size, ldn(buf + k * size, size));
        }
        done += n;
    }
    vm->ioreq.rep_items += req->count;
}

/* A port or MMIO request without a memory pointer; count > 1 is rep stos to MMIO. */
static void do_direct(struct vm *vm, ioreq_t *req, int pio)
{
    const unsigned size = req->size;
    for (uint32_t i = 0; i < req->count; i++) {
        if (req->dir == IOREQ_READ)
            req->data = item_read(vm, pio, item_addr(req, pio, i), size);
        else
            item_write(vm, pio, item_addr(req, pio, i), size, req->data & ones(size));
    }
    if (req->count > 1)
        vm->ioreq.rep_items += req->count;
}

int ioreq_handle(struct vm *vm, ioreq_t *req)
{
    switch (req->type) {
    case IOREQ_TYPE_PIO:
    case IOREQ_TYPE_COPY: {
        int pio = req->type == IOREQ_TYPE_PIO;
        if (!size_ok(req->size, pio ? 4 : 8))
            return bad(vm, req, "size");
        if (req->count == 0 || req->count > IOREQ_MAX_COUNT)
            return bad(vm, req, "count");
        if (pio && req->addr > 0xffff)
            return bad(vm, req, "port");
        if (pio)
            vm->ioreq.pio++;
        else
            vm->ioreq.mmio++;
        if (req->data_is_ptr)
            do_rep(vm, req, pio);
        else
            do_direct(vm, req, pio);
        return 0;
    }
    case IOREQ_TYPE_PCI_CONFIG: {
        uint32_t sbdf = (uint32_t)(req->addr >> 32);
        uint32_t reg = (uint32_t)req->addr;
        if (!size_ok(req->size, 4) || req->count != 1 || req->data_is_ptr)
            return bad(vm, req, "size/count");
        vm->ioreq.pci_config++;
        if ((sbdf >> 8) != 0 || reg >= PCI_CFG_SIZE) {
            /* Another segment or bus, or extended config space: nothing there. */
            if (req->dir == IOREQ_READ)
                req->data = ones(req->size);
            return 0;
        }
        if (req->dir == IOREQ_READ)
            req->data = pci_cfg_read(vm->pci, (uint8_t)sbdf, reg, req->size);
        else
            pci_cfg_write(vm->pci, (uint8_t)sbdf, reg, req->size, (uint32_t)req->data);
        return 0;
    }
    case IOREQ_TYPE_INVALIDATE:
        vm->ioreq.invalidate++;
        mem_invalidate(vm->mem);
        return 0;
    case IOREQ_TYPE_TIMEOFFSET:
        vm->ioreq.timeoffset++;
        /* wraps rather than overflows: the sum of a hostile guest's RTC moves is only a figure */
        vm->rtc_offset = (int64_t)((uint64_t)vm->rtc_offset + req->data);
        log_limited(&vm->guest_rl, LOG_DEBUG, "guest moved its RTC by %lld s (total %lld s)",
                    (long long)(int64_t)req->data, (long long)vm->rtc_offset);
        return 0;
    default:
        return bad(vm, req, "type");
    }
}

/* One round trip of REQ (a synchronous request) counted where make profile reads it: in the
 * region that holds its first byte (per port for a port region's first IO_REGION_PORTS
 * ports), else as unclaimed. Plain counters: the index is bounded by the region's length. */
static void count_trip(struct vm *vm, const ioreq_t *req)
{
    if (req->type != IOREQ_TYPE_PIO && req->type != IOREQ_TYPE_COPY)
        return;
    struct io_region *r = NULL;
    if (req->type == IOREQ_TYPE_PIO) {
        if (req->addr <= 0xffff)
            r = bus_find_pio(vm->bus, (uint16_t)req->addr);
    } else {
        r = bus_find_mmio(vm->bus, req->addr);
    }
    if (!r) {
        vm->ioreq.unclaimed++;
        return;
    }
    r->trips++;
    uint64_t off = req->addr - r->base;
    if (r->space == HV_PIO && off < IO_REGION_PORTS)
        r->port_trips[req->dir == IOREQ_WRITE][off]++;
}

int ioreq_serve_slot(struct vm *vm, ioreq_t *slot)
{
    ioreq_t req;

    /* Xen fills the slot, then sets state READY after a write barrier: look at the state,
     * then (after a read barrier) take the one private copy everything below works on. */
    memcpy(&req, slot, sizeof(req));
    if (req.state != STATE_IOREQ_READY)
        return 0;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&req, slot, sizeof(req));
    slot->state = STATE_IOREQ_INPROCESS;
    count_trip(vm, &req);
    ioreq_handle(vm, &req);
    /* Answer: data first, then the state, with a barrier between (Xen reads state first). */
    slot->data = req.data;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    slot->state = STATE_IORESP_READY;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return 1;
}

int ioreq_serve_buffered(struct vm *vm, buffered_iopage_t *pg)
{
    int handled = 0;

    for (;;) {
        /* Xen may rebase both pointers at once (cmpxchg on the pair): read them as a pair. */
        uint64_t both = __atomic_load_n((uint64_t *)(void *)pg, __ATOMIC_ACQUIRE);
        uint32_t rd = (uint32_t)both, wr = (uint32_t)(both >> 32);
        if (rd == wr)
            break;
        if (wr - rd > IOREQ_BUFFER_SLOT_NUM) {
            log_err("buffered ioreq ring: impossible pointers read %u write %u", rd, wr);
            return -EIO;
        }
        buf_ioreq_t b;
        memcpy(&b, &pg->buf_ioreq[rd % IOREQ_BUFFER_SLOT_NUM], sizeof(b));
        unsigned qw = b.size == 3;
        ioreq_t req = { 0 };
        req.type = b.type;
        req.dir = b.dir;
        req.size = 1u << b.size;
        req.count = 1;
        req.addr = b.addr;
        req.data = b.data;
        req.state = STATE_IOREQ_READY;
        if (qw) {
            if (wr - rd < 2) {
                log_err("buffered ioreq ring: 8-byte request missing its second half");
                return -EIO;
            }
            buf_ioreq_t hi;
            memcpy(&hi, &pg->buf_ioreq[(rd + 1) % IOREQ_BUFFER_SLOT_NUM], sizeof(hi));
            req.data |= (uint64_t)hi.data << 32;
        }
        vm->ioreq.buffered++;
        if (req.dir == IOREQ_READ)
            bad(vm, &req, "buffered read");
        else
            ioreq_handle(vm, &req);
        handled++;
        /* Xen may rebase the pair concurrently: advance read_pointer atomically. */
        __atomic_fetch_add(&pg->read_pointer, qw + 1, __ATOMIC_RELEASE);
    }
    return handled;
}

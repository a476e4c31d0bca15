/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/ioreq: requests written into the shared slot and the buffered ring as Xen writes them,
 * served by hvmd, answers checked. Devices here are small recorders / FIFOs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dm/log.h"
#include "tests/lib/fakexen.h"

/* A port FIFO: reads return 0, 1, 2, ... (one counter per item), writes are appended to a log.
 * With bulk hooks or without. */
struct fifo {
    uint32_t next;
    uint8_t log[65536];
    uint32_t logged;
    unsigned bulk_reads, bulk_writes, single_reads, single_writes;
    uint32_t bulk_limit; /* items the bulk hooks take per call (0: all) */
};

static uint64_t fifo_read(void *opaque, uint64_t off, unsigned size)
{
    struct fifo *f = opaque;
    f->single_reads++;
    return f->next++ & ones(size);
}

static void fifo_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct fifo *f = opaque;
    f->single_writes++;
    if (f->logged + size <= sizeof(f->log)) {
        stn(f->log + f->logged, size, val);
        f->logged += size;
    }
}

static uint32_t fifo_read_rep(void *opaque, uint64_t off, unsigned size, uint32_t count, void *buf)
{
    struct fifo *f = opaque;
    uint32_t n = f->bulk_limit && f->bulk_limit < count ? f->bulk_limit : count;
    f->bulk_reads++;
    for (uint32_t i = 0; i < n; i++)
        stn((uint8_t *)buf + i * size, size, f->next++ & ones(size));
    return n;
}

static uint32_t fifo_write_rep(void *opaque, uint64_t off, unsigned size, uint32_t count,
                               const void *buf)
{
    struct fifo *f = opaque;
    uint32_t n = f->bulk_limit && f->bulk_limit < count ? f->bulk_limit : count;
    f->bulk_writes++;
    if (f->logged + n * size <= sizeof(f->log)) {
        memcpy(f->log + f->logged, buf, n * size);
        f->logged += n * size;
    }
    return n;
}

static const struct io_ops fifo_ops = { .read = fifo_read, .write = fifo_write };
static const struct io_ops fifo_bulk_ops = { .read = fifo_read, .write = fifo_write,
                                             .read_rep = fifo_read_rep,
                                             .write_rep = fifo_write_rep };

/* MMIO recorder: 4 KiB of registers backed by an array. */
struct regs {
    uint8_t r[4096];
    unsigned writes;
};
static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
    struct regs *g = opaque;
    return ldn(g->r + off, size);
}
static void regs_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct regs *g = opaque;
    g->writes++;
    stn(g->r + off, size, val);
}
static const struct io_ops regs_ops = { .read = regs_read, .write = regs_write };

static void test_slot_state_machine(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    assert_int_equal(bus_add_pio(fx->vm.bus, "fifo", 0x170, 1, &fifo_ops, f, NULL), 0);
    ioreq_t *slot = &fx->iopage->vcpu_ioreq[0];

    /* A slot that is not READY is left alone. */
    memset(slot, 0, sizeof(*slot));
    slot->state = STATE_IOREQ_NONE;
    assert_int_equal(ioreq_serve_slot(&fx->vm, slot), 0);
    slot->state = STATE_IORESP_READY;
    assert_int_equal(ioreq_serve_slot(&fx->vm, slot), 0);
    assert_int_equal(f->single_reads, 0);

    /* A READY read comes back IORESP_READY with the data, the rest of the slot untouched. */
    ioreq_t p = { .type = IOREQ_TYPE_PIO, .addr = 0x170, .size = 1, .count = 1, .dir = IOREQ_READ };
    p.vp_eport = 33;
    p.state = STATE_IOREQ_READY;
    f->next = 0x42;
    *slot = p;
    assert_int_equal(ioreq_serve_slot(&fx->vm, slot), 1);
    assert_int_equal(slot->state, STATE_IORESP_READY);
    assert_int_equal(slot->data, 0x42);
    assert_int_equal(slot->vp_eport, 33);
    assert_int_equal(slot->addr, 0x170);
    assert_int_equal(fx->vm.ioreq.pio, 1);
    free(f);
    fx_free(fx);
}

static void test_malformed_requests_answered(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    assert_int_equal(bus_add_pio(fx->vm.bus, "fifo", 0x170, 8, &fifo_ops, f, NULL), 0);
    struct { uint8_t type; uint64_t addr; uint32_t size, count; } bad[] = {
        { IOREQ_TYPE_PIO, 0x170, 3, 1 },          /* size 3 */
        { IOREQ_TYPE_PIO, 0x170, 8, 1 },          /* 8-byte port access */
        { IOREQ_TYPE_PIO, 0x170, 0, 1 },
        { IOREQ_TYPE_PIO, 0x170, 1, 0 },          /* no items */
        { IOREQ_TYPE_PIO, 0x170, 1, 4097 },       /* more than Xen ever sends */
        { IOREQ_TYPE_PIO, 0x10170, 1, 1 },        /* port beyond 16 bits */
        { IOREQ_TYPE_COPY, 0xf0000000, 16, 1 },
        { IOREQ_TYPE_PCI_CONFIG, 0, 8, 1 },
        { IOREQ_TYPE_PCI_CONFIG, 0, 4, 2 },
        { 5, 0, 4, 1 },                           /* unknown types */
        { 0xff, 0, 4, 1 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        ioreq_t req = { .type = bad[i].type, .addr = bad[i].addr, .size = bad[i].size,
                        .count = bad[i].count, .dir = IOREQ_READ, .data = 0x1234 };
        assert_int_equal(fx_request(fx, &req), 0); /* answered, so the vCPU goes on */
        assert_true(req.data == 0xffffffffffffffffull || req.data == ones(req.size));
    }
    assert_int_equal(fx->vm.ioreq.bad, ARRAY_SIZE(bad));
    assert_int_equal(f->single_reads + f->single_writes, 0); /* the device saw none of them */
    free(f);
    fx_free(fx);
}

static void check_rep_in(struct fakexen *fx, struct fifo *f, unsigned size, uint32_t count, int df)
{
    uint64_t gpa = 0x10000;
    memset(fx->ram, 0xee, 0x40000);
    f->next = 1;
    fx_rep_in(fx, 0x170, size, count, gpa, df);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t a = df ? gpa - (uint64_t)i * size : gpa + (uint64_t)i * size;
        assert_int_equal(ldn(fx->ram + a, size), (i + 1) & ones(size));
    }
    /* nothing outside the items */
    uint64_t lo = df ? gpa - (uint64_t)(count - 1) * size : gpa;
    assert_int_equal(fx->ram[lo - 1], 0xee);
    assert_int_equal(fx->ram[lo + (uint64_t)count * size], 0xee);
}

static void test_rep_ins(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    assert_int_equal(bus_add_pio(fx->vm.bus, "fifo", 0x170, 8, &fifo_bulk_ops, f, NULL), 0);
    unsigned sizes[] = { 1, 2, 4 };
    for (unsigned s = 0; s < 3; s++) {
        check_rep_in(fx, f, sizes[s], 1, 0);
        check_rep_in(fx, f, sizes[s], 1000, 0);
        check_rep_in(fx, f, sizes[s], 4096, 0);
        check_rep_in(fx, f, sizes[s], 1000, 1);
        check_rep_in(fx, f, sizes[s], 4096, 1);
    }
    /* A page of words (an ATA sector's worth and more) is one bulk call per 4 KiB. */
    f->bulk_reads = 0;
    f->single_reads = 0;
    check_rep_in(fx, f, 2, 2048, 0);
    assert_int_equal(f->bulk_reads, 1);
    assert_int_equal(f->single_reads, 0);
    /* A device that takes fewer items in bulk gets the rest one by one. */
    f->bulk_limit = 10;
    f->bulk_reads = 0;
    check_rep_in(fx, f, 2, 100, 0);
    assert_int_equal(f->bulk_reads, 1);
    assert_int_equal(f->single_reads, 90);
    assert_int_equal(fx->vm.ioreq.rep_items > 0, 1);
    free(f);
    fx_free(fx);
}

static void test_rep_outs(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    struct fifo *g = calloc(1, sizeof(*g));
    assert_int_equal(bus_add_pio(fx->vm.bus, "bulk", 0x170, 8, &fifo_bulk_ops, f, NULL), 0);
    assert_int_equal(bus_add_pio(fx->vm.bus, "plain", 0x1f0, 8, &fifo_ops, g, NULL), 0);
    for (unsigned i = 0; i < 0x4000; i++)
        fx->ram[0x8000 + i] = (uint8_t)(i * 13 + 1);

    fx_rep_out(fx, 0x170, 2, 3000, 0x8000, 0);
    assert_int_equal(f->logged, 6000);
    assert_memory_equal(f->log, fx->ram + 0x8000, 6000);
    fx_rep_out(fx, 0x1f0, 4, 100, 0x8000, 0);
    assert_int_equal(g->single_writes, 100);
    assert_memory_equal(g->log, fx->ram + 0x8000, 400);

    /* df: items come from descending addresses, the first at the given one */
    f->logged = 0;
    fx_rep_out(fx, 0x170, 4, 3, 0x9000, 1);
    assert_int_equal(f->logged, 12);
    assert_memory_equal(f->log + 0, fx->ram + 0x9000, 4);
    assert_memory_equal(f->log + 4, fx->ram + 0x8ffc, 4);
    assert_memory_equal(f->log + 8, fx->ram + 0x8ff8, 4);
    free(f);
    free(g);
    fx_free(fx);
}

static void test_rep_guest_memory_outside_ram(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    assert_int_equal(bus_add_pio(fx->vm.bus, "fifo", 0x170, 8, &fifo_bulk_ops, f, NULL), 0);
    uint64_t faults = mem_stats(fx->vm.mem)->faults;
    /* into the MMIO hole, across the end of RAM, wrapping downwards below 0 */
    fx_rep_in(fx, 0x170, 2, 100, 0xfee00000, 0);
    fx_rep_in(fx, 0x170, 4, 100, (1 << 20) - 8, 0);
    fx_rep_in(fx, 0x170, 4, 100, 8, 1);
    fx_rep_out(fx, 0x170, 4, 100, 0xfee00000, 0);
    assert_int_equal(mem_stats(fx->vm.mem)->faults, faults + 4);
    /* a write from unreadable memory reaches the device as all-ones */
    assert_int_equal(f->logged, 400);
    assert_int_equal(ld32(f->log), 0xffffffff);
    free(f);
    fx_free(fx);
}

static void test_mmio_rep_movs_and_stos(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct regs *g = calloc(1, sizeof(*g));
    assert_int_equal(bus_add_mmio(fx->vm.bus, "regs", 0xf1000000, 4096, &regs_ops, g, NULL), 0);
    for (unsigned i = 0; i < 256; i++)
        fx->ram[0x3000 + i] = (uint8_t)i;

    /* rep movsd RAM -> MMIO: both addresses advance */
    ioreq_t req = { .type = IOREQ_TYPE_COPY, .addr = 0xf1000100, .size = 4, .count = 64,
                    .data = 0x3000, .data_is_ptr = 1, .dir = IOREQ_WRITE };
    assert_int_equal(fx_request(fx, &req), 0);
    assert_memory_equal(g->r + 0x100, fx->ram + 0x3000, 256);
    assert_int_equal(g->writes, 64);

    /* rep movsq MMIO -> RAM, backwards */
    memset(fx->ram + 0x5000, 0, 0x100);
    ioreq_t rd = { .type = IOREQ_TYPE_COPY, .addr = 0xf10001f8, .size = 8, .count = 4,
                   .data = 0x50f8, .data_is_ptr = 1, .dir = IOREQ_READ, .df = 1 };
    assert_int_equal(fx_request(fx, &rd), 0);
    assert_memory_equal(fx->ram + 0x50e0, g->r + 0x1e0, 32);

    /* rep stosw to MMIO: no pointer, the value repeated at successive addresses */
    ioreq_t st = { .type = IOREQ_TYPE_COPY, .addr = 0xf1000800, .size = 2, .count = 5,
                   .data = 0xabcd, .dir = IOREQ_WRITE };
    assert_int_equal(fx_request(fx, &st), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ld16(g->r + 0x800 + 2 * i), 0xabcd);
    assert_int_equal(ld16(g->r + 0x80a), 0);
    free(g);
    fx_free(fx);
}

static void test_pci_config_other_bus_and_invalidate(void **state)
{
    struct fakexen *fx = fx_new(4 << 20);
    ioreq_t req = { .type = IOREQ_TYPE_PCI_CONFIG, .addr = (1ull << 40) | 0, .size = 4,
                    .count = 1, .dir = IOREQ_READ };
    assert_int_equal(fx_request(fx, &req), 0);
    assert_int_equal(req.data, 0xffffffff);
    req.addr = (1ull << 48) | 0; /* segment 1 */
    assert_int_equal(fx_request(fx, &req), 0);
    assert_int_equal(req.data, 0xffffffff);

    uint32_t v;
    assert_int_equal(mem_read(fx->vm.mem, 0, &v, 4), 0);
    assert_int_equal(fx->maps, 1);
    ioreq_t inv = { .type = IOREQ_TYPE_INVALIDATE, .size = 4, .count = 1 };
    assert_int_equal(fx_request(fx, &inv), 0);
    assert_int_equal(fx->unmaps, 1);
    assert_int_equal(fx->vm.ioreq.invalidate, 1);
    fx_free(fx);
}

static void test_buffered_ring_wraps(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct fifo *f = calloc(1, sizeof(*f));
    assert_int_equal(bus_add_mmio(fx->vm.bus, "vga", 0xa0000, 0x20000, &fifo_ops, f, NULL), 0);
    uint32_t sent = 0;
    /* 3000 writes in batches of 400: the ring (511 slots) wraps several times, and Xen rebases
     * the pointers as it goes. */
    for (int batch = 0; batch < 8; batch++) {
        for (int i = 0; i < 400 && sent < 3000; i++, sent++)
            assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_COPY, 0xa0000 + (sent % 0x1000), 1,
                                              sent & 0xff), 0);
        assert_true(fx_buffered_serve(fx) > 0);
    }
    assert_int_equal(f->logged, 3000);
    for (uint32_t i = 0; i < 3000; i++)
        assert_int_equal(f->log[i], i & 0xff);
    assert_int_equal(fx->vm.ioreq.buffered, 3000);
    assert_int_equal(fx->bufpage->read_pointer, fx->bufpage->write_pointer);
    /* a full ring refuses more (Xen then sends synchronously) */
    for (int i = 0; i < 511; i++)
        assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_COPY, 0xa0000, 1, 0), 0);
    assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_COPY, 0xa0000, 1, 0), -ENOSPC);
    assert_int_equal(fx_buffered_serve(fx), 511);
    free(f);
    fx_free(fx);
}

static void test_buffered_8_bytes_two_slots(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    /* TIMEOFFSET: 8 bytes, low half then high half; at the ring's end it wraps mid-pair */
    fx->bufpage->read_pointer = fx->bufpage->write_pointer = 510;
    assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_TIMEOFFSET, 0, 8, (uint64_t)-3600), 0);
    assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_TIMEOFFSET, 0, 8, 0x100000001ull), 0);
    assert_int_equal(fx_buffered_serve(fx), 2);
    assert_int_equal(fx->vm.rtc_offset, -3600 + 0x100000001ll);
    assert_int_equal(fx->vm.ioreq.timeoffset, 2);
    /* a guest moving its RTC by huge amounts makes the sum wrap, not overflow (fuzz_ioreq) */
    assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_TIMEOFFSET, 0, 8, 0x4b6fffffffffffffull), 0);
    assert_int_equal(fx_buffered_push(fx, IOREQ_TYPE_TIMEOFFSET, 0, 8, 0x4b6fffffffffffffull), 0);
    assert_int_equal(fx_buffered_serve(fx), 2);
    fx_free(fx);
}

static void test_buffered_ring_corrupt(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    buffered_iopage_t *pg = fx->bufpage;
    /* write pointer more than a ring ahead */
    pg->read_pointer = 0;
    pg->write_pointer = 600;
    assert_int_equal(fx_buffered_serve(fx), -EIO);
    assert_int_equal(pg->read_pointer, 0);
    /* write pointer behind the read pointer */
    pg->read_pointer = 10;
    pg->write_pointer = 5;
    assert_int_equal(fx_buffered_serve(fx), -EIO);
    /* an 8-byte request whose second half is not there yet */
    pg->read_pointer = 0;
    pg->write_pointer = 1;
    memset(&pg->buf_ioreq[0], 0, sizeof(pg->buf_ioreq[0]));
    pg->buf_ioreq[0].type = IOREQ_TYPE_TIMEOFFSET;
    pg->buf_ioreq[0].size = 3;
    assert_int_equal(fx_buffered_serve(fx), -EIO);
    /* a buffered read makes no sense: refused, but the ring moves on */
    pg->read_pointer = 0;
    pg->write_pointer = 1;
    pg->buf_ioreq[0].type = IOREQ_TYPE_COPY;
    pg->buf_ioreq[0].size = 0;
    pg->buf_ioreq[0].dir = IOREQ_READ;
    assert_int_equal(fx_buffered_serve(fx), 1);
    assert_int_equal(fx->vm.ioreq.bad, 1);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_state_machine),
        cmocka_unit_test(test_malformed_requests_answered),
        cmocka_unit_test(test_rep_ins),
        cmocka_unit_test(test_rep_outs),
        cmocka_unit_test(test_rep_guest_memory_outside_ram),
        cmocka_unit_test(test_mmio_rep_movs_and_stos),
        cmocka_unit_test(test_pci_config_other_bus_and_invalidate),
        cmocka_unit_test(test_buffered_ring_wraps),
        cmocka_unit_test(test_buffered_8_bytes_two_slots),
        cmocka_unit_test(test_buffered_ring_corrupt),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

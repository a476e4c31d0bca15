/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/bus: the port table and the MMIO range map, driven through the in-process ioreq source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include "dm/log.h"
#include "tests/lib/fakexen.h"

struct rec {
    uint64_t last_off, last_val;
    unsigned last_size, reads, writes;
    uint64_t value; /* what reads return */
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned size)
{
    struct rec *r = opaque;
    r->last_off = off;
    r->last_size = size;
    r->reads++;
    return r->value;
}

static void rec_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct rec *r = opaque;
    r->last_off = off;
    r->last_size = size;
    r->last_val = val;
    r->writes++;
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };

static void test_pio_dispatch_offsets(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct rec a = { .value = 0x12345678 };
    struct io_region *r;
    assert_non_null(fx);
    assert_int_equal(bus_add_pio(fx->vm.bus, "a", 0x3f8, 8, &rec_ops, &a, &r), 0);
    assert_true(fx_claimed(fx, HV_PIO, 0x3f8, 0x3ff));
    assert_false(fx_claimed(fx, HV_PIO, 0x3f7, 0x3f8));

    assert_int_equal(fx_in(fx, 0x3fd, 1), 0x78);
    assert_int_equal(a.last_off, 5);
    assert_int_equal(a.last_size, 1);
    fx_out(fx, 0x3fa, 2, 0xbeef);
    assert_int_equal(a.last_off, 2);
    assert_int_equal(a.last_val, 0xbeef);
    assert_int_equal(r->reads, 1);
    assert_int_equal(r->writes, 1);

    /* Nobody claimed 0x2f8: Xen answers all-ones and hvmd never sees it. */
    uint64_t fwd = fx->forwarded;
    assert_int_equal(fx_in(fx, 0x2f8, 1), 0xff);
    assert_int_equal(fx_in(fx, 0x2f8, 4), 0xffffffff);
    assert_int_equal(fx->forwarded, fwd);

    bus_del(fx->vm.bus, r);
    assert_false(fx_claimed(fx, HV_PIO, 0x3f8, 0x3f8));
    assert_null(bus_find_pio(fx->vm.bus, 0x3f8));
    fx_free(fx);
}

static void test_pio_overlap_rejected(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct rec a = { 0 }, b = { 0 };
    assert_int_equal(bus_add_pio(fx->vm.bus, "a", 0x60, 1, &rec_ops, &a, NULL), 0);
    assert_int_equal(bus_add_pio(fx->vm.bus, "b", 0x5e, 4, &rec_ops, &b, NULL), -EEXIST);
    assert_int_equal(bus_add_pio(fx->vm.bus, "b", 0x60, 1, &rec_ops, &b, NULL), -EEXIST);
    /* adjacent is fine */
    assert_int_equal(bus_add_pio(fx->vm.bus, "b", 0x61, 1, &rec_ops, &b, NULL), 0);
    assert_int_equal(bus_add_pio(fx->vm.bus, "z", 0x100, 0, &rec_ops, &b, NULL), -EINVAL);
    assert_int_equal(bus_add_pio(fx->vm.bus, "z", 0xfffe, 4, &rec_ops, &b, NULL), -EINVAL);
    /* the failed adds left nothing claimed */
    assert_false(fx_claimed(fx, HV_PIO, 0x5e, 0x5e));
    fx_free(fx);
}

static void test_pio_straddle_split(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct rec a = { .value = 0x11 }, b = { .value = 0x22 };
    assert_int_equal(bus_add_pio(fx->vm.bus, "a", 0x70, 1, &rec_ops, &a, NULL), 0);
    assert_int_equal(bus_add_pio(fx->vm.bus, "b", 0x71, 1, &rec_ops, &b, NULL), 0);
    /* A 2-byte access over two regions is split into bytes, in order. */
    assert_int_equal(bus_pio_read(fx->vm.bus, 0x70, 2), 0x2211);
    bus_pio_write(fx->vm.bus, 0x70, 2, 0xaabb);
    assert_int_equal(a.last_val, 0xbb);
    assert_int_equal(b.last_val, 0xaa);
    /* A byte nobody holds reads 0xff inside a split access. */
    assert_int_equal(bus_pio_read(fx->vm.bus, 0x71, 2), 0xff22);
    fx_free(fx);
}

static void test_pio_region_limit(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct rec a = { 0 };
    int i, r = 0;
    for (i = 0; i < 300 && r == 0; i++)
        r = bus_add_pio(fx->vm.bus, "many", (uint16_t)(0x1000 + i), 1, &rec_ops, &a, NULL);
    assert_int_equal(r, -ENOSPC);
    /* 255 regions, one of them the PCI bus's 0xcf8 */
    assert_int_equal(i - 1, 254);
    fx_free(fx);
}

static void test_mmio_sorted_map(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct rec d[40];
    struct io_region *r[40];
    memset(d, 0, sizeof(d));
    /* insert out of order */
    for (int i = 0; i < 40; i++) {
        int k = (i * 17) % 40;
        d[k].value = (uint64_t)k;
        assert_int_equal(bus_add_mmio(fx->vm.bus, "m", 0xf0000000ull + (uint64_t)k * 0x2000, 0x1000,
                                      &rec_ops, &d[k], &r[k]), 0);
    }
    for (int k = 0; k < 40; k++) {
        assert_int_equal(fx_mmio_read(fx, 0xf0000000ull + (uint64_t)k * 0x2000 + 0x10, 4), (uint64_t)k);
        assert_int_equal(d[k].last_off, 0x10);
        /* the gap after each region belongs to nobody */
        assert_int_equal(fx_mmio_read(fx, 0xf0000000ull + (uint64_t)k * 0x2000 + 0x1000, 4), 0xffffffff);
        assert_null(bus_find_mmio(fx->vm.bus, 0xf0000000ull + (uint64_t)k * 0x2000 + 0x1fff));
    }
    /* overlaps on either side, and containment, are refused; exact neighbours are not */
    struct rec x = { 0 };
    assert_int_equal(bus_add_mmio(fx->vm.bus, "x", 0xf0000800, 0x1000, &rec_ops, &x, NULL), -EEXIST);
    assert_int_equal(bus_add_mmio(fx->vm.bus, "x", 0xf0001800, 0x1000, &rec_ops, &x, NULL), -EEXIST);
    assert_int_equal(bus_add_mmio(fx->vm.bus, "x", 0xefffffff, 0x100000, &rec_ops, &x, NULL), -EEXIST);
    assert_int_equal(bus_add_mmio(fx->vm.bus, "x", 0xf0001000, 0x1000, &rec_ops, &x, NULL), 0);
    assert_int_equal(bus_add_mmio(fx->vm.bus, "x", ~0ull - 10, 100, &rec_ops, &x, NULL), -EINVAL);
    /* 8-byte MMIO accesses reach the device whole */
    fx_mmio_write(fx, 0xf0002008, 8, 0x1122334455667788ull);
    assert_int_equal(d[1].last_size, 8);
    assert_int_equal(d[1].last_val, 0x1122334455667788ull);
    /* removal from the middle keeps the order */
    bus_del(fx->vm.bus, r[20]);
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0000000ull + 20 * 0x2000, 0xf0000000ull + 20 * 0x2000));
    assert_null(bus_find_mmio(fx->vm.bus, 0xf0000000ull + 20 * 0x2000));
    assert_ptr_equal(bus_find_mmio(fx->vm.bus, 0xf0000000ull + 21 * 0x2000 + 5), r[21]);
    assert_ptr_equal(bus_find_mmio(fx->vm.bus, 0xf0000000ull + 19 * 0x2000 + 5), r[19]);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pio_dispatch_offsets),
        cmocka_unit_test(test_pio_overlap_rejected),
        cmocka_unit_test(test_pio_straddle_split),
        cmocka_unit_test(test_pio_region_limit),
        cmocka_unit_test(test_mmio_sorted_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

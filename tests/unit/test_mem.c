/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/mem: the bounds-checked guest memory accessor and its map cache, over the in-process
 * source's RAM buffer (which counts map / unmap calls as Xen's foreign mappings would be). */
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

#define MiB (1u << 20)

static void test_read_write_roundtrip(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    uint8_t buf[300], out[300];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7);
    assert_int_equal(mem_write(m, 0x1234, buf, sizeof(buf)), 0);
    assert_memory_equal(fx->ram + 0x1234, buf, sizeof(buf));
    assert_int_equal(mem_read(m, 0x1234, out, sizeof(out)), 0);
    assert_memory_equal(out, buf, sizeof(buf));
    /* across a bucket boundary (1 MiB) */
    assert_int_equal(mem_write(m, MiB - 100, buf, sizeof(buf)), 0);
    assert_memory_equal(fx->ram + MiB - 100, buf, sizeof(buf));
    assert_int_equal(mem_read(m, MiB - 100, out, sizeof(out)), 0);
    assert_memory_equal(out, buf, sizeof(buf));
    /* zero length is fine and does nothing */
    assert_int_equal(mem_read(m, 0, out, 0), 0);
    fx_free(fx);
}

static void test_bounds(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    uint8_t buf[16];
    memset(buf, 0xab, sizeof(buf));
    /* the last bytes of RAM are fine, one past is not */
    assert_int_equal(mem_write(m, 4 * MiB - 16, buf, 16), 0);
    assert_int_equal(mem_write(m, 4 * MiB - 15, buf, 16), -EFAULT);
    assert_int_equal(mem_read(m, 4 * MiB, buf, 1), -EFAULT);
    /* wrapping ranges, MMIO hole, above 4 GiB without high RAM */
    assert_int_equal(mem_read(m, ~0ull - 4, buf, 16), -EFAULT);
    assert_int_equal(mem_read(m, 0xfee00000, buf, 4), -EFAULT);
    assert_int_equal(mem_read(m, 0x100000000ull, buf, 4), -EFAULT);
    assert_false(mem_is_ram(m, 0, 0));
    assert_true(mem_is_ram(m, 0, 4 * MiB));
    assert_int_equal(mem_stats(m)->faults, 5);
    fx_free(fx);
}

/* The firmware's tables: RAM as mem_read, or hvmloader's region [0xfc000000, 4 GiB) mapped for
 * the read and let go at once; nothing else (the MMIO hole, the APIC page, beyond 4 GiB). */
static void test_read_firmware(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    uint8_t buf[MEM_FW_MAX + 1];
    fx->fw = calloc(4, 4096);
    fx->fw_gfn = MEM_FW_BASE >> 12;
    fx->fw_n = 4;
    memcpy(fx->fw + 4096 - 2, "FACS", 4); /* across a page boundary */
    memcpy(fx->ram + 0xf5b30, "RSD PTR ", 8);
    assert_int_equal(mem_read_firmware(m, 0xf5b30, buf, 8), 0);
    assert_memory_equal(buf, "RSD PTR ", 8);
    unsigned maps = fx->maps, unmaps = fx->unmaps;
    assert_int_equal(mem_read_firmware(m, MEM_FW_BASE + 4096 - 2, buf, 4), 0);
    assert_memory_equal(buf, "FACS", 4);
    assert_int_equal(fx->maps, maps + 1);
    assert_int_equal(fx->unmaps, unmaps + 1);
    assert_int_equal(mem_read_firmware(m, MEM_FW_BASE, buf, MEM_FW_MAX), 0);
    assert_int_equal(mem_read_firmware(m, MEM_FW_BASE, buf, MEM_FW_MAX + 1), -EFAULT);
    assert_int_equal(mem_read_firmware(m, 0xfee00000, buf, 4), -EFAULT); /* in the region, not mapped */
    assert_int_equal(mem_read_firmware(m, MEM_FW_BASE - 2, buf, 4), -EFAULT);
    assert_int_equal(mem_read_firmware(m, 0xf0000000, buf, 4), -EFAULT);
    assert_int_equal(mem_read_firmware(m, 0xfffffffeull, buf, 4), -EFAULT);
    assert_int_equal(mem_read_firmware(m, 0x100000000ull, buf, 4), -EFAULT);
    /* the accessor for devices still refuses the region */
    assert_int_equal(mem_read(m, MEM_FW_BASE, buf, 4), -EFAULT);
    fx_free(fx);
    (void)state;
}

static void test_hole_fails_whole_access(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    uint8_t buf[3 * 4096];
    memset(buf, 0x5a, sizeof(buf));
    fx_set_hole(fx, (2 * MiB) >> 12); /* first page of the third bucket */
    /* inside one bucket: the hole page faults, its neighbour in the bucket does not */
    assert_int_equal(mem_read(m, 2 * MiB, buf, 1), -EFAULT);
    assert_int_equal(mem_write(m, 2 * MiB + 4096, buf, 8), 0);
    /* a write that spans buckets and hits the hole writes nothing at all */
    memset(fx->ram + 2 * MiB - 4096, 0, 4096);
    assert_int_equal(mem_write(m, 2 * MiB - 4096, buf, sizeof(buf)), -EFAULT);
    for (unsigned i = 0; i < 4096; i++)
        assert_int_equal(fx->ram[2 * MiB - 4096 + i], 0);
    fx_free(fx);
}

static void test_cache_maps_once_and_invalidates(void **state)
{
    struct fakexen *fx = fx_new(8 * MiB);
    struct mem *m = fx->vm.mem;
    uint32_t v;
    for (int i = 0; i < 100; i++)
        assert_int_equal(mem_read(m, 0x1000 + (uint64_t)i * 8, &v, 4), 0);
    assert_int_equal(fx->maps, 1);
    assert_int_equal(mem_read(m, 5 * MiB, &v, 4), 0);
    assert_int_equal(fx->maps, 2);
    assert_int_equal(mem_read(m, 0x2000, &v, 4), 0);
    assert_int_equal(fx->maps, 2);
    /* INVALIDATE drops every bucket; the next access maps again */
    mem_invalidate(m);
    assert_int_equal(fx->unmaps, 2);
    assert_int_equal(mem_read(m, 0x2000, &v, 4), 0);
    assert_int_equal(fx->maps, 3);
    assert_int_equal(mem_stats(m)->invalidations, 1);
    fx_free(fx);
}

static void test_cache_evicts_least_recent(void **state)
{
    struct fakexen *fx = fx_new((MEM_MAX_BUCKETS + 8) * MiB);
    struct mem *m = fx->vm.mem;
    uint8_t v = 0;
    /* touch every bucket once, bucket 0 again and again so it stays */
    for (unsigned b = 0; b < MEM_MAX_BUCKETS + 8; b++) {
        fx->ram[(size_t)b * MiB] = (uint8_t)b;
        assert_int_equal(mem_read(m, (uint64_t)b * MiB, &v, 1), 0);
        assert_int_equal(v, (uint8_t)b);
        assert_int_equal(mem_read(m, 0, &v, 1), 0);
    }
    assert_int_equal(mem_stats(m)->evictions, 8);
    unsigned maps = fx->maps;
    assert_int_equal(mem_read(m, 0, &v, 1), 0); /* still cached */
    assert_int_equal(fx->maps, maps);
    assert_int_equal(mem_read(m, 1 * MiB, &v, 1), 0); /* bucket 1 was the oldest: gone */
    assert_int_equal(fx->maps, maps + 1);
    fx_free(fx);
}

static void test_pin_survives_invalidate(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    struct mem_pin pin;
    assert_int_equal(mem_pin(m, MiB - 10, 20, &pin), 0);
    assert_ptr_equal(pin.ptr, fx->ram + MiB - 10);
    mem_invalidate(m);
    memcpy(pin.ptr, "0123456789abcdefghij", 20);
    mem_unpin(m, &pin);
    assert_memory_equal(fx->ram + MiB - 10, "0123456789abcdefghij", 20);
    assert_null(pin.ptr);
    /* beyond RAM, or over a hole: refused, nothing left mapped */
    assert_int_equal(mem_pin(m, 4 * MiB - 4, 8, &pin), -EFAULT);
    fx_set_hole(fx, 3);
    unsigned unmaps = fx->unmaps;
    assert_int_equal(mem_pin(m, 2 * 4096, 3 * 4096, &pin), -EFAULT);
    assert_int_equal(fx->unmaps, unmaps + 1);
    assert_null(pin.ptr);
    fx_free(fx);
}

/* Issue 16 item 4: a page that was not RAM when its bucket was mapped (ballooned out) and
 * is RAM now (given back, with no INVALIDATE from Xen) is served: the bucket is mapped again.
 * A page that is still a hole costs one mapping per access, no more. */
static void test_page_back_after_hole(void **state)
{
    struct fakexen *fx = fx_new(4 * MiB);
    struct mem *m = fx->vm.mem;
    uint64_t gfn = (2 * MiB >> 12) + 5;
    uint8_t buf[64];
    memset(buf, 0x6b, sizeof(buf));
    fx_set_hole(fx, gfn);
    assert_int_equal(mem_write(m, 2 * MiB, buf, 8), 0); /* maps the bucket, hole recorded */
    unsigned maps = fx->maps;
    assert_int_equal(mem_write(m, gfn << 12, buf, 8), -EFAULT);
    assert_int_equal(fx->maps, maps + 1); /* tried once more, still a hole */
    assert_int_equal(mem_read(m, gfn << 12, buf, 8), -EFAULT);
    assert_int_equal(fx->maps, maps + 2);
    /* a spanning access over the hole: one remap, not one per walk or per bucket */
    assert_int_equal(mem_read(m, 2 * MiB - 8, buf, 5 * 4096 + 16), -EFAULT);
    assert_int_equal(mem_stats(m)->remaps, 3);
    assert_int_equal(fx->maps, maps + 4); /* and bucket 1, first mapped now */
    fx->hole[gfn] = 0; /* the balloon gives the page back */
    assert_int_equal(mem_write(m, (gfn << 12) + 8, buf, sizeof(buf)), 0);
    assert_memory_equal(fx->ram + (gfn << 12) + 8, buf, sizeof(buf));
    assert_int_equal(fx->maps, maps + 5);
    assert_int_equal(mem_read(m, (gfn << 12) + 8, buf, sizeof(buf)), 0);
    assert_int_equal(fx->maps, maps + 5); /* the new mapping stays */
    assert_int_equal(mem_stats(m)->remaps, 4);
    assert_int_equal(fx->maps - fx->unmaps, 2); /* buckets 1 and 2: no mapping leaked */
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_write_roundtrip),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_read_firmware),
        cmocka_unit_test(test_hole_fails_whole_access),
        cmocka_unit_test(test_cache_maps_once_and_invalidates),
        cmocka_unit_test(test_cache_evicts_least_recent),
        cmocka_unit_test(test_pin_survives_invalidate),
        cmocka_unit_test(test_page_back_after_hole),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

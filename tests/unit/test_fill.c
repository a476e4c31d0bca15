/* SPDX-License-Identifier: GPL-2.0-only */
/* Guest memory filled on demand for the fuzzers (tests/lib/fakexen.h fx_fill_*, dm/mem.h's
 * hook): a device's read of memory nobody wrote gets the patterns, what the input wrote or a
 * device wrote is never filled over, a range is filled once, only the parts around what is
 * done, the budget holds; and the IDE bus master follows a PRD table that only the fill made. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/ide_guest.h"

static void test_fill_rules(void **state)
{
    (void)state;
    struct fakexen *fx = fx_new(1 << 20);
    struct mem *m = fx->vm.mem;
    uint8_t b[64];
    assert_non_null(fx);
    fx_fill_enable(fx, 200);
    /* no pattern yet: memory as it is */
    assert_int_equal(mem_read(m, 0x1000, b, 16), 0);
    assert_int_equal(b[0], 0);
    static const uint8_t p0[] = { 0xa1, 0xa2, 0xa3 };
    fx_fill_pattern(fx, 0, p0, sizeof(p0), 0);
    assert_int_equal(mem_read(m, 0x2000, b, 7), 0);
    assert_memory_equal(b, ((uint8_t[]){ 0xa1, 0xa2, 0xa3, 0xa1, 0xa2, 0xa3, 0xa1 }), 7);
    /* read again: the same bytes, not filled again */
    fx->ram[0x2000] = 0x11; /* as if the device's own view */
    assert_int_equal(mem_read(m, 0x2000, b, 7), 0);
    assert_int_equal(b[0], 0x11);
    /* what the input wrote stays; the parts around it are filled (round robin: pattern 1) */
    static const uint8_t p1[] = { 0x5a };
    fx_fill_pattern(fx, 1, p1, sizeof(p1), 4);
    memset(fx->ram + 0x3004, 0x77, 4);
    fx_fill_mark(fx, 0x3004, 4);
    assert_int_equal(mem_read(m, 0x3000, b, 12), 0);
    assert_memory_equal(b + 4, ((uint8_t[]){ 0x77, 0x77, 0x77, 0x77 }), 4);
    assert_int_equal(b[1], 0x5a);                   /* pattern 1 */
    assert_true(b[0] != 0x5a);                      /* its counter byte (stride 4) */
    assert_int_equal(b[8], 0xa1);                   /* the right side: the next pattern, 0 */
    /* what a device wrote is read back as written */
    memset(b, 0xee, 16);
    assert_int_equal(mem_write(m, 0x4000, b, 16), 0);
    memset(b, 0, 16);
    assert_int_equal(mem_read(m, 0x4000, b, 16), 0);
    assert_int_equal(b[15], 0xee);
    /* the budget: 200 bytes in all, 7 + 8 used; a large read is filled only so far */
    assert_int_equal(mem_read(m, 0x8000, b, 64), 0);
    uint8_t big[512];
    assert_int_equal(mem_read(m, 0x9000, big, sizeof(big)), 0);
    assert_true(fx->fill.bytes <= 200);
    assert_int_equal(big[511], 0);
    fx_free(fx);
}

/* READ DMA with the bus master pointed at a PRD table nobody wrote: the fill makes it (one
 * entry: G_BUF, 512 bytes, end of table) and the sector lands there */
static void test_ide_follows_filled_prd(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 64, .cd_sectors = ~0ull };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, PRI_CTL, 0);
    fx_fill_enable(g->fx, 1 << 20);
    uint8_t prd[8];
    st32(prd, G_BUF);
    st32(prd + 4, 512 | 0x80000000u);
    fx_fill_pattern(g->fx, 0, prd, sizeof(prd), 0);
    memset(g->fx->ram + G_BUF, 0, 512);
    fx_fill_mark(g->fx, G_BUF, 512); /* the buffer is the guest's: not filled */
    ideg_bm_setup(g, 0, 0x60000, 1);
    ideg_lba28(g, PRI, 0, 9, 1);
    ideg_out(g, PRI + 7, 0xc8);
    ideg_bm_start(g, 0, 1);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x04);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 9, 1, 512, 0), 0);
    assert_true(g->fx->fill.fills >= 1);
    ideg_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_rules),
        cmocka_unit_test(test_ide_follows_filled_prd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/xen_platform: the PCI function and the unplug protocol, driven as Linux's
 * xen-platform-pci / xen_unplug code and Windows PV drivers do. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"

struct bed {
    struct fakexen *fx;
    struct machine m;
    unsigned unplug_calls, unplug_mask;
    char lines[8][300];
    unsigned n_lines;
    unsigned all_lines;     /* every line logged */
};

static void on_unplug(void *opaque, unsigned mask)
{
    struct bed *b = opaque;
    b->unplug_calls++;
    b->unplug_mask = mask;
}

static void sink(void *opaque, enum log_level level, const char *line)
{
    struct bed *b = opaque;
    b->all_lines++;
    if (b->n_lines < 8 && strstr(line, "driver log:"))
        snprintf(b->lines[b->n_lines++], sizeof(b->lines[0]), "%s", line);
}

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256];
    b->fx = fx_new(16 << 20);
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    assert_int_equal(vm_on_unplug(&b->fx->vm, on_unplug, b), 0);
    log_set_sink(sink, b);
    log_set_level(LOG_INFO);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    log_set_sink(NULL, NULL);
    log_set_level(LOG_ERR);
    machine_destroy(&b->m);
    fx_free(b->fx);
    free(b);
    return 0;
}

static void test_pci_function(void **state)
{
    struct bed *b = *state;
    uint8_t df = PCI_DEVFN(3, 0);
    assert_int_equal(fx_cfg_read(b->fx, df, 0, 4), 0x00015853);
    assert_int_equal(fx_cfg_read(b->fx, df, 8, 4), 0xff800001);
    assert_int_equal(fx_cfg_read(b->fx, df, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR 0: 256 bytes of I/O; BAR 1: 16 MiB prefetchable memory */
    fx_cfg_write(b->fx, df, 0x10, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(b->fx, df, 0x10, 4), 0xffffff01);
    fx_cfg_write(b->fx, df, 0x14, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(b->fx, df, 0x14, 4), 0xff000008);
    fx_cfg_write(b->fx, df, 0x10, 4, 0xc100);
    fx_cfg_write(b->fx, df, 0x14, 4, 0xf2000000);
    fx_cfg_write(b->fx, df, PCI_COMMAND, 2, 3);
    /* BAR 0 offset 0: platform flags; offset 8: log */
    fx_out(b->fx, 0xc100, 1, 1);
    assert_int_equal(fx_in(b->fx, 0xc100, 1), 1);
    assert_int_equal(fx_in(b->fx, 0x10, 1), 1); /* the same flags as the fixed port */
    for (const char *p = "from bar\n"; *p; p++)
        fx_out(b->fx, 0xc108, 1, (uint8_t)*p);
    assert_int_equal(b->n_lines, 1);
    assert_non_null(strstr(b->lines[0], "driver log: from bar"));
    /* BAR 1 is address space for grant mappings: reads 0 */
    assert_int_equal(fx_mmio_read(b->fx, 0xf2000000, 4), 0);
    assert_int_equal(fx_mmio_read(b->fx, 0xf2fffffc, 4), 0);
}

static void test_unplug_protocol(void **state)
{
    struct bed *b = *state;
    /* 1. magic, 2. protocol version */
    assert_int_equal(fx_in(b->fx, 0x10, 2), 0x49d2);
    assert_int_equal(fx_in(b->fx, 0x12, 1), 1);
    /* 3. product number, 4. build number, 5. magic again (not blacklisted) */
    fx_out(b->fx, 0x12, 2, 3);
    fx_out(b->fx, 0x10, 4, 0x12345);
    assert_int_equal(fx_in(b->fx, 0x10, 2), 0x49d2);
    assert_int_equal(b->unplug_calls, 0);
    /* 6. unplug IDE disks and NICs */
    fx_out(b->fx, 0x10, 2, 0x3);
    assert_int_equal(b->unplug_calls, 1);
    assert_int_equal(b->unplug_mask, 0x3);
    /* unknown bits are not passed on */
    fx_out(b->fx, 0x10, 2, 0xfff0);
    assert_int_equal(b->unplug_mask, 0);
    /* log port: a line per newline */
    for (const char *p = "Xen PV drivers up\nsecond"; *p; p++)
        fx_out(b->fx, 0x12, 1, (uint8_t)*p);
    assert_int_equal(b->n_lines, 1);
    assert_non_null(strstr(b->lines[0], "driver log: Xen PV drivers up"));
    fx_out(b->fx, 0x12, 1, '\n');
    assert_int_equal(b->n_lines, 2);
    assert_non_null(strstr(b->lines[1], "second"));
    /* a long line without newline is cut, not overflowed */
    for (int i = 0; i < 1000; i++)
        fx_out(b->fx, 0x12, 1, 'x');
    assert_true(b->n_lines >= 3);
    /* nothing else there */
    assert_int_equal(fx_in(b->fx, 0x11, 1), 0xff);
    assert_int_equal(fx_in(b->fx, 0x14, 1), 0xff);
}

/* A guest that hammers the fixed ports: 10,000 unplug writes, 10,000 build numbers, 10,000
 * driver log lines and 10,000 ignored writes give a bounded number of log lines (issue 16
 * item 6: each unplug and build number was a line). */
static void test_flood_bounded(void **state)
{
    struct bed *b = *state;
    struct timespec t0, t1;
    b->all_lines = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 10000; i++)
        fx_out(b->fx, 0x10, 2, (uint32_t)i & 3);
    unsigned unplug = b->all_lines;
    for (int i = 0; i < 10000; i++)
        fx_out(b->fx, 0x10, 4, (uint32_t)i);
    unsigned build = b->all_lines - unplug;
    for (int i = 0; i < 10000; i++)
        fx_out(b->fx, 0x12, 1, '\n');
    for (int i = 0; i < 10000; i++)
        fx_out(b->fx, 0x11, 1, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(b->unplug_calls, 10000); /* every request still reaches the devices */
    /* the limit's windows that began meanwhile (a slow run sees more) */
    unsigned w = (unsigned)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000) /
                 LOG_WINDOW_MS + 1;
    print_message("10,000 writes each: %u unplug lines, %u build lines, %u lines in all\n",
                  unplug, build, b->all_lines);
    assert_true(unplug <= (LOG_BURST + 1) * w);
    assert_true(build <= (LOG_BURST + 1) * w);
    assert_true(b->all_lines <= 4 * (LOG_BURST + 1) * w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pci_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplug_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_bounded, setup, teardown),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/i8042: the keyboard controller through ports 0x60 / 0x64, in the order SeaBIOS and
 * Linux's i8042 driver talk to it, and its reset line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"

struct bed {
    struct fakexen *fx;
    struct machine m;
};

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256];
    b->fx = fx_new(16 << 20);
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    machine_destroy(&b->m);
    fx_free(b->fx);
    free(b);
    return 0;
}

static uint8_t status(struct bed *b) { return (uint8_t)fx_in(b->fx, 0x64, 1); }
static void cmd(struct bed *b, uint8_t c) { fx_out(b->fx, 0x64, 1, c); }
static void data(struct bed *b, uint8_t d) { fx_out(b->fx, 0x60, 1, d); }

/* Read a reply as a driver does: the first status poll must already show it. */
static uint8_t reply(struct bed *b, int aux)
{
    uint8_t st = status(b);
    assert_true(st & 0x01);
    assert_int_equal(!!(st & 0x20), aux);
    return (uint8_t)fx_in(b->fx, 0x60, 1);
}

static void test_controller_selftest_and_ccb(void **state)
{
    struct bed *b = *state;
    assert_int_equal(status(b) & 0x01, 0);      /* nothing waiting */
    assert_int_not_equal(status(b), 0xff);      /* there is a controller */
    cmd(b, 0xaa);
    assert_int_equal(reply(b, 0), 0x55);
    assert_true(status(b) & 0x04);              /* system flag after the self test */
    cmd(b, 0xab);
    assert_int_equal(reply(b, 0), 0x00);
    cmd(b, 0x20);
    uint8_t ccb = reply(b, 0);
    assert_int_equal(ccb, 0x43);
    /* write the command byte: interrupts off, translation on */
    cmd(b, 0x60);
    assert_true(status(b) & 0x08);              /* last write was a command */
    data(b, 0x44);
    cmd(b, 0x20);
    assert_int_equal(reply(b, 0), 0x44);
    /* read the output port, then an empty buffer stays empty */
    cmd(b, 0xd0);
    assert_int_equal(reply(b, 0), 0x03);
    assert_int_equal(status(b) & 0x01, 0);
}

static void test_keyboard_commands_and_irq1(void **state)
{
    struct bed *b = *state;
    /* IRQ 1 follows the output buffer when the command byte enables it */
    data(b, 0xff);                              /* keyboard reset */
    assert_int_equal(b->fx->isa[1], 1);
    assert_int_equal(reply(b, 0), 0xfa);
    assert_int_equal(b->fx->isa[1], 1);         /* next byte loaded at once */
    assert_int_equal(reply(b, 0), 0xaa);
    assert_int_equal(b->fx->isa[1], 0);
    data(b, 0xf2);                              /* identify */
    assert_int_equal(reply(b, 0), 0xfa);
    assert_int_equal(reply(b, 0), 0xab);
    assert_int_equal(reply(b, 0), 0x83);
    data(b, 0xed);                              /* LEDs, then the parameter */
    assert_int_equal(reply(b, 0), 0xfa);
    data(b, 0x07);
    assert_int_equal(reply(b, 0), 0xfa);
    data(b, 0xf0);                              /* get scan code set */
    assert_int_equal(reply(b, 0), 0xfa);
    data(b, 0x00);
    assert_int_equal(reply(b, 0), 0xfa);
    assert_int_equal(reply(b, 0), 0x02);
    data(b, 0xee);
    assert_int_equal(reply(b, 0), 0xee);
    /* with keyboard interrupts off, no IRQ */
    cmd(b, 0x60);
    data(b, 0x40);
    data(b, 0xf4);
    assert_int_equal(b->fx->isa[1], 0);
    assert_int_equal(reply(b, 0), 0xfa);
}

static void test_aux_port(void **state)
{
    struct bed *b = *state;
    /* Linux's aux detection: loop a byte through the aux output buffer, expecting IRQ 12 */
    cmd(b, 0xa9);
    assert_int_equal(reply(b, 0), 0x00);
    cmd(b, 0xd3);
    data(b, 0x5a);
    assert_int_equal(b->fx->isa[12], 1);
    assert_int_equal(reply(b, 1), 0x5a);
    assert_int_equal(b->fx->isa[12], 0);
    /* mouse reset and identify through 0xd4 */
    cmd(b, 0xd4);
    data(b, 0xff);
    assert_int_equal(reply(b, 1), 0xfa);
    assert_int_equal(reply(b, 1), 0xaa);
    assert_int_equal(reply(b, 1), 0x00);
    cmd(b, 0xd4);
    data(b, 0xf3);
    assert_int_equal(reply(b, 1), 0xfa);
    cmd(b, 0xd4);
    data(b, 40);
    assert_int_equal(reply(b, 1), 0xfa);
    cmd(b, 0xd4);
    data(b, 0xe9);                              /* status: rate comes back */
    assert_int_equal(reply(b, 1), 0xfa);
    reply(b, 1);
    reply(b, 1);
    assert_int_equal(reply(b, 1), 40);
    cmd(b, 0xd4);
    data(b, 0xf2);
    assert_int_equal(reply(b, 1), 0xfa);
    assert_int_equal(reply(b, 1), 0x00);
}

static void test_reset_line(void **state)
{
    struct bed *b = *state;
    cmd(b, 0xff);                               /* pulse nothing */
    assert_int_equal(b->fx->shutdowns, 0);
    cmd(b, 0xd1);                               /* output port with the reset bit high */
    data(b, 0x03);
    assert_int_equal(b->fx->shutdowns, 0);
    cmd(b, 0xfe);                               /* pulse the reset line */
    assert_int_equal(b->fx->shutdowns, 1);
    assert_int_equal(b->fx->shutdown_reason, HV_REBOOT);
    cmd(b, 0xd1);
    data(b, 0x02);
    assert_int_equal(b->fx->shutdowns, 2);
}

static void test_odd_accesses(void **state)
{
    struct bed *b = *state;
    assert_int_equal(fx_in(b->fx, 0x60, 2) & 0xff00, 0xff00); /* 0x61 is Xen's, not ours */
    assert_int_equal(fx_in(b->fx, 0x64, 4), 0xffffffff);      /* not claimed as a dword */
    /* an unknown controller command is ignored, and a flood of replies is bounded */
    cmd(b, 0xc8);
    for (int i = 0; i < 200; i++)
        data(b, 0xf2);
    int n = 0;
    while ((status(b) & 1) && n < 1000) {
        fx_in(b->fx, 0x60, 1);
        n++;
    }
    assert_true(n <= 65);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controller_selftest_and_ccb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_commands_and_irq1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aux_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_accesses, setup, teardown),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <linux/input-event-codes.h>
#include "dm/config.h"
#include "dm/input.h"
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

/* Everything waiting in the output buffer, as the guest reads it (up to MAX bytes). */
static unsigned drain(struct bed *b, uint8_t *out, unsigned max, int aux)
{
    unsigned n = 0;
    while ((status(b) & 1) && n < max)
        out[n++] = reply(b, aux);
    return n;
}

static void expect_bytes(struct bed *b, int aux, const uint8_t *want, unsigned len)
{
    uint8_t got[80];
    unsigned n = drain(b, got, sizeof(got), aux);
    assert_int_equal(n, len);
    assert_memory_equal(got, want, len);
}
#define EXPECT(b, aux, ...)                                                                \
    do {                                                                                   \
        static const uint8_t w_[] = { __VA_ARGS__ };                                       \
        expect_bytes(b, aux, w_, sizeof(w_));                                              \
    } while (0)

static void press(struct bed *b, unsigned key)
{
    input_key(fx_vm(b->fx), key, 1);
    input_key(fx_vm(b->fx), key, 0);
}

static void set_ccb(struct bed *b, uint8_t v)
{
    cmd(b, 0x60);
    data(b, v);
}

static void test_keys_translated(void **state)
{
    struct bed *b = *state;
    /* the power-on command byte translates (as SeaBIOS and Linux leave it): set 1 */
    input_key(fx_vm(b->fx), KEY_A, 1);
    assert_int_equal(b->fx->isa[1], 1);
    EXPECT(b, 0, 0x1e);
    assert_int_equal(b->fx->isa[1], 0);
    input_key(fx_vm(b->fx), KEY_A, 0);
    EXPECT(b, 0, 0x9e);
    press(b, KEY_RIGHTCTRL);
    EXPECT(b, 0, 0xe0, 0x1d, 0xe0, 0x9d);
    press(b, KEY_RIGHTALT);                     /* AltGr */
    EXPECT(b, 0, 0xe0, 0x38, 0xe0, 0xb8);
    press(b, KEY_102ND);                        /* German < > | */
    EXPECT(b, 0, 0x56, 0xd6);
    press(b, KEY_F7);
    EXPECT(b, 0, 0x41, 0xc1);
    press(b, KEY_KPSLASH);
    EXPECT(b, 0, 0xe0, 0x35, 0xe0, 0xb5);
    press(b, KEY_PAUSE);                        /* make only */
    EXPECT(b, 0, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    press(b, KEY_SYSRQ);                        /* PrintScreen */
    EXPECT(b, 0, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    press(b, KEY_LEFTMETA);
    EXPECT(b, 0, 0xe0, 0x5b, 0xe0, 0xdb);
    /* each byte of a key is an edge on IRQ 1 (an interrupt handler reads one byte per
     * interrupt): the line drops at each read and rises with the next byte */
    unsigned before = b->fx->isa_changes[1];
    press(b, KEY_RIGHTCTRL);                    /* four bytes */
    EXPECT(b, 0, 0xe0, 0x1d, 0xe0, 0x9d);
    assert_int_equal(b->fx->isa_changes[1] - before, 8); /* up, then down and up per read */
    assert_int_equal(b->fx->isa[1], 0);
}

static void test_keys_set2(void **state)
{
    struct bed *b = *state;
    set_ccb(b, 0x03);                           /* interrupts on, no translation */
    press(b, KEY_A);
    EXPECT(b, 0, 0x1c, 0xf0, 0x1c);
    press(b, KEY_DELETE);
    EXPECT(b, 0, 0xe0, 0x71, 0xe0, 0xf0, 0x71);
    press(b, KEY_F7);
    EXPECT(b, 0, 0x83, 0xf0, 0x83);
    press(b, KEY_PAUSE);
    EXPECT(b, 0, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
    press(b, KEY_SYSRQ);
    EXPECT(b, 0, 0xe0, 0x12, 0xe0, 0x7c, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12);
    press(b, KEY_YEN);
    EXPECT(b, 0, 0x6a, 0xf0, 0x6a);
    /* the guest switches the keyboard to set 1 (translation still off), reads it back */
    data(b, 0xf0);
    data(b, 0x01);
    EXPECT(b, 0, 0xfa, 0xfa);
    data(b, 0xf0);
    data(b, 0x00);
    EXPECT(b, 0, 0xfa, 0xfa, 0x01);
    press(b, KEY_A);
    EXPECT(b, 0, 0x1e, 0x9e);
    /* set 3 is refused by staying in set 1; a reset goes back to set 2 */
    data(b, 0xf0);
    data(b, 0x03);
    EXPECT(b, 0, 0xfa, 0xfa);
    data(b, 0xff);
    EXPECT(b, 0, 0xfa, 0xaa);
    press(b, KEY_A);
    EXPECT(b, 0, 0x1c, 0xf0, 0x1c);
    /* keys while the keyboard is disabled (by the keyboard or the controller) are not sent */
    data(b, 0xf5);
    EXPECT(b, 0, 0xfa);
    press(b, KEY_A);
    assert_int_equal(status(b) & 1, 0);
    data(b, 0xf4);
    EXPECT(b, 0, 0xfa);
    cmd(b, 0xad);
    press(b, KEY_A);
    assert_int_equal(status(b) & 1, 0);
    cmd(b, 0xae);
    press(b, KEY_B);
    EXPECT(b, 0, 0x32, 0xf0, 0x32);
}

/* Every key that has a scan code has its own, in both sets, and each key a US and a German
 * layout need has one. */
static void test_key_table(void **state)
{
    struct bed *b = *state;
    static uint8_t seq[2][256][8];
    static unsigned len[2][256];
    for (int set = 0; set < 2; set++) {
        set_ccb(b, set ? 0x03 : 0x43);
        for (unsigned k = 1; k < 256; k++) {
            input_key(fx_vm(b->fx), k, 1);
            len[set][k] = drain(b, seq[set][k], 8, 0);
            input_key(fx_vm(b->fx), k, 0);
            uint8_t brk[8];
            unsigned nb = drain(b, brk, 8, 0);
            if (len[set][k] && k != KEY_PAUSE && k != KEY_SYSRQ && k != KEY_PRINT) {
                /* break = make | 0x80 (set 1), or F0 before the last byte (set 2) */
                if (!set) {
                    assert_int_equal(nb, len[set][k]);
                    assert_int_equal(brk[nb - 1], seq[set][k][nb - 1] | 0x80);
                } else {
                    assert_int_equal(nb, len[set][k] + 1);
                    assert_int_equal(brk[nb - 2], 0xf0);
                    assert_int_equal(brk[nb - 1], seq[set][k][len[set][k] - 1]);
                }
            }
        }
    }
    static const unsigned need[] = {
        KEY_ESC, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0, KEY_MINUS,
        KEY_EQUAL, KEY_BACKSPACE, KEY_TAB, KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I,
        KEY_O, KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_LEFTCTRL, KEY_A, KEY_S, KEY_D,
        KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE,
        KEY_LEFTSHIFT, KEY_BACKSLASH, KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M, KEY_COMMA,
        KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_KPASTERISK, KEY_LEFTALT, KEY_SPACE, KEY_CAPSLOCK,
        KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10, KEY_F11,
        KEY_F12, KEY_NUMLOCK, KEY_SCROLLLOCK, KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5,
        KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPMINUS, KEY_KPPLUS, KEY_KPDOT, KEY_KPENTER,
        KEY_KPSLASH, KEY_102ND, KEY_RIGHTCTRL, KEY_RIGHTALT, KEY_HOME, KEY_END, KEY_UP, KEY_DOWN,
        KEY_LEFT, KEY_RIGHT, KEY_PAGEUP, KEY_PAGEDOWN, KEY_INSERT, KEY_DELETE, KEY_LEFTMETA,
        KEY_RIGHTMETA, KEY_COMPOSE, KEY_PAUSE, KEY_SYSRQ,
    };
    for (unsigned i = 0; i < ARRAY_SIZE(need); i++) {
        assert_int_not_equal(len[0][need[i]], 0);
        assert_int_not_equal(len[1][need[i]], 0);
    }
    for (int set = 0; set < 2; set++)
        for (unsigned k = 1; k < 256; k++)
            for (unsigned j = k + 1; j < 256; j++)
                if (len[set][k] && len[set][k] == len[set][j] && k != KEY_SYSRQ)
                    assert_true(j == KEY_PRINT ||
                                memcmp(seq[set][k], seq[set][j], len[set][k]) != 0);
    /* set 1 is what the controller's translation makes of set 2: spot checks from the table
     * (set 2 code -> set 1 code) */
    static const uint8_t xlat[][2] = { { 0x76, 0x01 }, { 0x0d, 0x0f }, { 0x5a, 0x1c },
                                       { 0x83, 0x41 }, { 0x61, 0x56 }, { 0x7c, 0x37 },
                                       { 0x1f, 0x5b }, { 0x77, 0x45 }, { 0x07, 0x58 } };
    for (unsigned k = 1; k < 256; k++)
        for (unsigned i = 0; i < ARRAY_SIZE(xlat); i++)
            if (len[1][k] && seq[1][k][len[1][k] - 1] == xlat[i][0] && k != KEY_PAUSE &&
                k != KEY_SYSRQ && k != KEY_PRINT)
                assert_int_equal(seq[0][k][len[0][k] - 1], xlat[i][1]);
}

static void aux_cmd(struct bed *b, uint8_t v)
{
    cmd(b, 0xd4);
    data(b, v);
}

static void test_mouse_stream(void **state)
{
    struct bed *b = *state;
    /* no packets before the guest enables data reporting */
    input_rel(fx_vm(b->fx), 5, 5, 0, 0);
    assert_int_equal(status(b) & 1, 0);
    aux_cmd(b, 0xf4);
    EXPECT(b, 1, 0xfa);
    /* right 10, down 3 (PS/2: y up), left button */
    input_rel(fx_vm(b->fx), 10, 3, 0, INPUT_BTN_LEFT);
    assert_int_equal(b->fx->isa[12], 1);
    EXPECT(b, 1, 0x29, 10, 0xfd);
    input_rel(fx_vm(b->fx), -2, -1, 0, 0);
    EXPECT(b, 1, 0x18, 0xfe, 0x01);
    /* a button change alone is a packet; the wheel is not reported by a standard mouse */
    input_rel(fx_vm(b->fx), 0, 0, 1, INPUT_BTN_RIGHT | INPUT_BTN_MIDDLE);
    EXPECT(b, 1, 0x0e, 0, 0);
    /* a long move is split into packets of at most 255 */
    input_rel(fx_vm(b->fx), 600, 0, 0, 0);
    EXPECT(b, 1, 0x08, 0xff, 0, 0x08, 0xff, 0, 0x08, 90, 0);
    /* motion that does not fit the queue waits and goes out as the guest reads */
    for (int i = 0; i < 100; i++)
        input_rel(fx_vm(b->fx), 1, 0, 0, 0);
    uint8_t got[600];
    unsigned n = drain(b, got, sizeof(got), 1);
    assert_int_equal(n % 3, 0);
    int sum = 0;
    for (unsigned i = 0; i < n; i += 3) {
        assert_int_equal(got[i], 0x08);
        sum += got[i + 1];
    }
    assert_int_equal(sum, 100);
    /* reporting off: nothing streams, and motion from before is not sent later */
    aux_cmd(b, 0xf5);
    EXPECT(b, 1, 0xfa);
    input_rel(fx_vm(b->fx), 4, 4, 0, 0);
    assert_int_equal(status(b) & 1, 0);
    aux_cmd(b, 0xf4);
    EXPECT(b, 1, 0xfa);
    assert_int_equal(status(b) & 1, 0);
    /* remote mode: motion is summed and read with 0xeb */
    aux_cmd(b, 0xf0);
    EXPECT(b, 1, 0xfa);
    input_rel(fx_vm(b->fx), 3, 0, 0, 0);
    input_rel(fx_vm(b->fx), 4, 0, 0, 0);
    assert_int_equal(status(b) & 1, 0);
    aux_cmd(b, 0xeb);
    EXPECT(b, 1, 0xfa, 0x08, 7, 0);
}

static void test_mouse_intellimouse(void **state)
{
    struct bed *b = *state;
    static const uint8_t rates[] = { 200, 100, 80 };
    for (unsigned i = 0; i < 3; i++) {
        aux_cmd(b, 0xf3);
        aux_cmd(b, rates[i]);
        EXPECT(b, 1, 0xfa, 0xfa);
    }
    aux_cmd(b, 0xf2);
    EXPECT(b, 1, 0xfa, 0x03);
    aux_cmd(b, 0xf4);
    EXPECT(b, 1, 0xfa);
    /* scroll up (away from the user) is -1 in the fourth byte */
    input_rel(fx_vm(b->fx), 1, 0, 1, 0);
    EXPECT(b, 1, 0x08, 1, 0, 0xff);
    input_rel(fx_vm(b->fx), 0, 0, -2, 0);
    EXPECT(b, 1, 0x08, 0, 0, 2);
    /* a reset makes it a standard mouse again */
    aux_cmd(b, 0xff);
    EXPECT(b, 1, 0xfa, 0xaa, 0x00);
    aux_cmd(b, 0xf2);
    EXPECT(b, 1, 0xfa, 0x00);
    /* the absolute pointer, with no tablet, moves the mouse */
    aux_cmd(b, 0xf4);
    EXPECT(b, 1, 0xfa);
    input_abs(fx_vm(b->fx), 100, 100, 0, INPUT_BTN_LEFT);
    uint8_t got[16];
    unsigned n = drain(b, got, sizeof(got), 1);
    assert_true(n >= 3 && n % 3 == 0);
    assert_int_equal(got[n - 3] & 0x0f, 0x09);  /* left button held */
}

static void test_input_flood_bounded(void **state)
{
    struct bed *b = *state;
    aux_cmd(b, 0xf4);
    EXPECT(b, 1, 0xfa);
    /* a guest that reads nothing: keys and motion pile up only to the queue's bound */
    for (int i = 0; i < 1000; i++) {
        press(b, KEY_PAUSE);
        press(b, KEY_A);
        input_rel(fx_vm(b->fx), 1000, -1000, 3, (unsigned)i & 7);
    }
    /* a command still gets its reply after them, within the queue's length */
    data(b, 0xee);
    unsigned n = 0;
    int echo = 0;
    while ((status(b) & 1) && n < 64 && !echo) {
        echo = fx_in(b->fx, 0x60, 1) == 0xee;
        n++;
    }
    assert_true(echo);
    /* then the waiting motion streams out as the guest reads, and stops */
    n = 0;
    while ((status(b) & 1) && n < 100000) {
        fx_in(b->fx, 0x60, 1);
        n++;
    }
    assert_true(n < 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_controller_selftest_and_ccb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyboard_commands_and_irq1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aux_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_translated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_set2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mouse_intellimouse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_flood_bounded, setup, teardown),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

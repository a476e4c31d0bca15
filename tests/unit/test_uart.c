/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/uart: a 16550 driven through its ports as SeaBIOS and Linux's 8250 driver do, with a
 * real pty behind it (the test plays the console on the pty's other side) and a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"

#define COM1 0x3f8
#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    int console; /* the pty's slave side, as `xl console` opens it */
};

static void bed_up(struct bed *b, const char *serial)
{
    const char *argv[] = { "-xen-domid", "1", "-m", "16", "-serial", serial };
    char err[256];
    memset(b, 0, sizeof(*b));
    assert_int_equal(config_parse(&b->cfg, 6, argv, err, sizeof(err)), 0);
    b->fx = fx_new(16 << 20);
    b->fx->vm.cfg = &b->cfg;
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    b->console = -1;
    if (!strcmp(serial, "pty")) {
        assert_int_equal(b->fx->vm.n_chardevs, 1);
        const char *fn = chardev_filename(b->fx->vm.chardevs[0]);
        assert_memory_equal(fn, "pty:/dev/pts/", 13);
        assert_string_equal(chardev_label(b->fx->vm.chardevs[0]), "serial0");
        b->console = open(fn + 4, O_RDWR | O_NOCTTY);
        assert_true(b->console >= 0);
        struct termios t;
        tcgetattr(b->console, &t);
        cfmakeraw(&t);
        tcsetattr(b->console, TCSANOW, &t);
    }
}

static void bed_down(struct bed *b)
{
    if (b->console >= 0)
        close(b->console);
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
}

static uint8_t rd(struct bed *b, unsigned reg) { return (uint8_t)fx_in(b->fx, COM1 + reg, 1); }
static void wr(struct bed *b, unsigned reg, uint8_t v) { fx_out(b->fx, COM1 + reg, 1, v); }

/* Read N bytes from FD, waiting up to a second for them (a pty may deliver in pieces). */
static size_t read_all(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 1000) <= 0)
            break;
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Let the loop move what the console typed into the UART. */
static void pump(struct bed *b)
{
    for (int i = 0; i < 20; i++)
        loop_run_once(b->fx->loop, 10);
}

static void test_transmit_to_pty(void **state)
{
    struct bed b;
    bed_up(&b, "pty");
    /* SeaBIOS's sercon: wait for THRE|TEMT, then write; the first poll already sees it */
    uint64_t fwd = b.fx->forwarded;
    assert_int_equal(rd(&b, LSR) & 0x60, 0x60);
    for (const char *p = "Hello\n"; *p; p++)
        wr(&b, RBR, (uint8_t)*p);
    assert_int_equal(b.fx->forwarded - fwd, 7);
    char buf[16] = "";
    assert_int_equal(read_all(b.console, buf, 6), 6);
    assert_memory_equal(buf, "Hello\n", 6);
    /* polled use raises no interrupt */
    assert_int_equal(b.fx->isa_changes[4], 0);
    bed_down(&b);
}

static void test_thre_interrupt(void **state)
{
    struct bed b;
    bed_up(&b, "null");
    wr(&b, FCR, 0x07);
    assert_int_equal(rd(&b, IIR), 0xc1); /* FIFO on, nothing pending */
    wr(&b, IER, 0x02);                   /* enabling THRE interrupts with THR empty: one at once */
    assert_int_equal(b.fx->isa[4], 1);
    assert_int_equal(rd(&b, IIR), 0xc2);
    assert_int_equal(b.fx->isa[4], 0); /* reading IIR acknowledged it */
    assert_int_equal(rd(&b, IIR), 0xc1);
    /* each byte written gives a new edge */
    unsigned changes = b.fx->isa_changes[4];
    wr(&b, RBR, 'x');
    assert_int_equal(b.fx->isa[4], 1);
    assert_int_equal(b.fx->isa_changes[4], changes + 1);
    wr(&b, RBR, 'y');
    assert_int_equal(b.fx->isa_changes[4], changes + 3);
    wr(&b, IER, 0);
    assert_int_equal(b.fx->isa[4], 0);
    bed_down(&b);
}

static void test_receive_with_flow_control(void **state)
{
    struct bed b;
    bed_up(&b, "pty");
    wr(&b, FCR, 0x07 | 0x80); /* FIFO, trigger level 8 */
    wr(&b, IER, 0x01);
    assert_int_equal(write(b.console, "hi", 2), 2);
    pump(&b);
    assert_int_equal(rd(&b, LSR) & 1, 1);
    assert_int_equal(rd(&b, IIR), 0xcc); /* below the trigger: character timeout, at once */
    assert_int_equal(b.fx->isa[4], 1);
    assert_int_equal(rd(&b, RBR), 'h');
    assert_int_equal(rd(&b, RBR), 'i');
    assert_int_equal(rd(&b, LSR) & 1, 0);
    assert_int_equal(b.fx->isa[4], 0);

    /* 40 bytes into a 16-byte FIFO: the rest waits in the pty, nothing is lost */
    char msg[41];
    for (int i = 0; i < 40; i++)
        msg[i] = (char)('A' + i % 26);
    assert_int_equal(write(b.console, msg, 40), 40);
    pump(&b);
    assert_int_equal(rd(&b, IIR), 0xc4); /* at or above the trigger level */
    char got[41];
    int n = 0;
    for (int round = 0; round < 10 && n < 40; round++) {
        while (rd(&b, LSR) & 1)
            got[n++] = (char)rd(&b, RBR);
        pump(&b);
    }
    assert_int_equal(n, 40);
    assert_memory_equal(got, msg, 40);
    assert_int_equal(rd(&b, LSR) & 0x02, 0); /* no overrun */

    /* without the FIFO, one byte at a time */
    wr(&b, FCR, 0x00);
    assert_int_equal(write(b.console, "xyz", 3), 3);
    pump(&b);
    assert_int_equal(rd(&b, IIR), 0x04);
    n = 0;
    for (int round = 0; round < 10 && n < 3; round++) {
        while (rd(&b, LSR) & 1)
            got[n++] = (char)rd(&b, RBR);
        pump(&b);
    }
    assert_int_equal(n, 3);
    assert_memory_equal(got, "xyz", 3);
    bed_down(&b);
}

static void test_loopback_and_registers(void **state)
{
    struct bed b;
    bed_up(&b, "null");
    /* Linux's autoconfig: loopback with RTS and OUT2, MSR must read 0x90 */
    wr(&b, MCR, 0x10 | 0x0a);
    assert_int_equal(rd(&b, MSR) & 0xf0, 0x90);
    wr(&b, MCR, 0x1f);
    assert_int_equal(rd(&b, MSR) & 0xf0, 0xf0);
    /* transmitted bytes come back */
    wr(&b, RBR, 0x5a);
    assert_int_equal(rd(&b, LSR) & 1, 1);
    assert_int_equal(rd(&b, RBR), 0x5a);
    wr(&b, MCR, 0x0b);
    assert_int_equal(rd(&b, MSR) & 0xb0, 0xb0); /* outside loopback: CTS, DSR, DCD */
    /* divisor latch */
    wr(&b, LCR, 0x83);
    wr(&b, RBR, 0x01);
    wr(&b, IER, 0x00);
    assert_int_equal(rd(&b, RBR), 0x01);
    wr(&b, LCR, 0x03);
    assert_int_equal(rd(&b, IER), 0x00);
    assert_int_equal(rd(&b, LCR), 0x03);
    wr(&b, SCR, 0xa5);
    assert_int_equal(rd(&b, SCR), 0xa5);
    /* word accesses are not how a 16550 is used: all-ones, nothing changes */
    assert_int_equal(fx_in(b.fx, COM1 + LCR, 2), 0xffff);
    fx_out(b.fx, COM1 + LCR, 2, 0x8080);
    assert_int_equal(rd(&b, LCR), 0x03);
    bed_down(&b);
}

static void test_file_backend_and_absent_ports(void **state)
{
    char path[] = "/tmp/hvmd-uart-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct bed b;
    bed_up(&b, spec);
    for (const char *p = "HVMD-GUEST-UP\n"; *p; p++)
        wr(&b, RBR, (uint8_t)*p);
    /* COM2 is not there: Xen answers all-ones */
    assert_int_equal(fx_in(b.fx, 0x2f8 + LSR, 1), 0xff);
    bed_down(&b);
    char buf[64] = "";
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf)), 14);
    assert_string_equal(buf, "HVMD-GUEST-UP\n");
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transmit_to_pty),
        cmocka_unit_test(test_thre_interrupt),
        cmocka_unit_test(test_receive_with_flow_control),
        cmocka_unit_test(test_loopback_and_registers),
        cmocka_unit_test(test_file_backend_and_absent_ports),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

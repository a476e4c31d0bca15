/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/usb: the PIIX3 UHCI and the USB tablet, driven as a guest's driver drives them: a
 * frame list, an interrupt QH and a control QH in guest RAM, TDs linked into them; the tablet
 * enumerated (descriptors, SET_ADDRESS, SET_CONFIGURATION, HID class requests), then reports
 * read from its interrupt endpoint after input_abs. Also: a schedule that loops or points
 * outside guest RAM, malformed TDs, the idle pace, the state round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dm/input.h"
#include "dm/log.h"
#include "dm/qmp.h"
#include "dm/snapshot.h"
#include "tests/lib/machine.h"

#define DEVFN 0x0a      /* 00:01.2 */
#define IO 0xc000       /* where the test puts BAR 4 */
#define FL 0x100000     /* frame list */
#define QH_INT 0x101000 /* interrupt QH, linked from every frame */
#define QH_CTL 0x101100 /* control QH, after it */
#define TDS 0x102000
#define SETUP_BUF 0x103000
#define DATA_BUF 0x104000
#define INT_TD 0x105000
#define INT_BUF 0x106000

#define T 1u
#define Q 2u
#define VF 4u
#define ACTIVE (1u << 23)
#define STALLED (1u << 22)
#define NAKBIT (1u << 19)
#define IOC (1u << 24)
#define SPD (1u << 29)
#define CERR3 (3u << 27)

struct bed {
    struct fx_machine m;
    unsigned log_lines;
    char last_log[256];
};

static void sink(void *opaque, enum log_level level, const char *line)
{
    struct bed *b = opaque;
    b->log_lines++;
    snprintf(b->last_log, sizeof(b->last_log), "%s", line);
}

static struct fakexen *FX(struct bed *b) { return b->m.fx; }
static void w32(struct bed *b, uint32_t a, uint32_t v) { memcpy(FX(b)->ram + a, &v, 4); }
static uint32_t r32(struct bed *b, uint32_t a) { uint32_t v; memcpy(&v, FX(b)->ram + a, 4); return v; }
static uint16_t rd(struct bed *b, unsigned off) { return (uint16_t)fx_in(FX(b), (uint16_t)(IO + off), 2); }
static void wr(struct bed *b, unsigned off, uint16_t v) { fx_out(FX(b), (uint16_t)(IO + off), 2, v); }

static uint32_t token(uint8_t pid, unsigned addr, unsigned ep, unsigned toggle, unsigned len)
{
    return ((len ? len - 1 : 0x7ffu) << 21) | (toggle << 19) | (ep << 15) | (addr << 8) | pid;
}

static void td(struct bed *b, uint32_t a, uint32_t link, uint32_t ctrl, uint32_t tok, uint32_t buf)
{
    w32(b, a, link);
    w32(b, a + 4, ctrl);
    w32(b, a + 8, tok);
    w32(b, a + 12, buf);
}

/* Let frames run (the loop's timer) until DONE(b) or 2 s pass. */
static int wait_for(struct bed *b, int (*done)(struct bed *b, uint32_t arg), uint32_t arg)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (done(b, arg))
            return 1;
        loop_run_once(FX(b)->loop, 5);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 2000);
    return done(b, arg);
}

static int td_inactive(struct bed *b, uint32_t a) { return !(r32(b, a + 4) & ACTIVE); }
static int qh_idle(struct bed *b, uint32_t qh)
{
    uint32_t e = r32(b, qh + 4);
    return (e & T) || !(r32(b, (e & ~0xfu) + 4) & ACTIVE);
}

/* A control transfer to ADDR: SETUP, data stage of LEN bytes (IN or OUT) in 8-byte packets,
 * status stage with IOC. Returns the bytes received (IN) or 0, or -1 on a STALL. */
static int control(struct bed *b, unsigned addr, uint8_t type, uint8_t req, uint16_t value,
                   uint16_t index, uint16_t len, uint8_t *data)
{
    uint8_t setup[8] = { type, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index,
                         (uint8_t)(index >> 8), (uint8_t)len, (uint8_t)(len >> 8) };
    int in = type & 0x80;
    memcpy(FX(b)->ram + SETUP_BUF, setup, 8);
    if (!in && len)
        memcpy(FX(b)->ram + DATA_BUF, data, len);
    unsigned n = 0, toggle = 1;
    uint32_t a = TDS;
    td(b, a, (a + 32) | VF, ACTIVE | CERR3, token(0x2d, addr, 0, 0, 8), SETUP_BUF);
    for (unsigned off = 0; off < len; off += 8, toggle ^= 1) {
        a += 32;
        unsigned chunk = len - off < 8 ? len - off : 8;
        td(b, a, (a + 32) | VF, ACTIVE | CERR3 | (in ? SPD : 0),
           token(in ? 0x69 : 0xe1, addr, 0, toggle, chunk), DATA_BUF + off);
        n++;
    }
    a += 32;
    uint32_t status = a;
    td(b, status, T, ACTIVE | CERR3 | IOC, token(in ? 0xe1 : 0x69, addr, 0, 1, 0), 0);
    w32(b, QH_CTL + 4, TDS);
    for (int round = 0; round < 3; round++) {
        assert_true(wait_for(b, qh_idle, QH_CTL));
        uint32_t e = r32(b, QH_CTL + 4);
        if (e & T)
            break;
        uint32_t at = e & ~0xfu, ctrl = r32(b, at + 4);
        if (ctrl & STALLED)
            return -1;
        /* a short packet stopped the queue: the driver goes on with the status stage */
        assert_true(ctrl & SPD);
        assert_true(rd(b, 0x02) & 0x01);
        w32(b, QH_CTL + 4, status);
    }
    assert_true(r32(b, QH_CTL + 4) & T);
    assert_int_equal(r32(b, status + 4) & (ACTIVE | STALLED), 0);
    int got = 0;
    for (unsigned i = 1; i <= n && in; i++) {
        uint32_t ctrl = r32(b, TDS + 32 * i + 4);
        if (ctrl & ACTIVE)
            break;
        got += (int)(((ctrl & 0x7ff) + 1) & 0x7ff);
    }
    if (in && got)
        memcpy(data, FX(b)->ram + DATA_BUF, (size_t)got);
    return got;
}

static void bring_up(struct bed *b)
{
    /* firmware: BAR 4, I/O and bus master on */
    assert_int_equal(fx_cfg_read(FX(b), DEVFN, 0, 4), 0x70208086);
    assert_int_equal(fx_cfg_read(FX(b), DEVFN, 0x08, 4) >> 8, 0x0c0300);
    assert_int_equal(fx_cfg_read(FX(b), DEVFN, 0x3d, 1), 4);
    fx_cfg_write(FX(b), DEVFN, 0x20, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(FX(b), DEVFN, 0x20, 4), 0xffffffe1); /* 32 bytes of I/O */
    fx_cfg_write(FX(b), DEVFN, 0x20, 4, IO);
    fx_cfg_write(FX(b), DEVFN, 0x04, 2, 0x0005);
    /* the driver: reset, schedule, run */
    wr(b, 0x00, 0x0002);
    assert_int_equal(rd(b, 0x00), 0);
    assert_int_equal(rd(b, 0x02), 0x20);             /* halted */
    assert_int_equal(fx_in(FX(b), IO + 0x0c, 1), 0x40);
    assert_int_equal(rd(b, 0x14) & 0x80, 0);          /* two ports only */
    for (unsigned i = 0; i < 1024; i++)
        w32(b, FL + 4 * i, QH_INT | Q);
    w32(b, QH_INT, QH_CTL | Q);
    w32(b, QH_INT + 4, T);
    w32(b, QH_CTL, T);
    w32(b, QH_CTL + 4, T);
    fx_out(FX(b), IO + 0x08, 4, FL);
    assert_int_equal(fx_in(FX(b), IO + 0x08, 4), FL);
    wr(b, 0x06, 0);
    wr(b, 0x04, 0x000f);
    /* port 1: connected, changed; reset, enable */
    assert_int_equal(rd(b, 0x10) & 0x3, 0x3);
    assert_int_equal(rd(b, 0x12) & 0x1, 0);
    wr(b, 0x10, 0x0002);                              /* clear CSC */
    assert_int_equal(rd(b, 0x10) & 0x3, 0x1);
    wr(b, 0x10, 0x0200);
    wr(b, 0x10, 0x0000);
    wr(b, 0x10, 0x0004);
    assert_true(rd(b, 0x10) & 0x4);
    wr(b, 0x00, 0x00c1);                              /* run, configured, 64-byte packets */
    assert_int_equal(rd(b, 0x02) & 0x20, 0);
}

static void enumerate(struct bed *b)
{
    uint8_t d[128];
    memset(d, 0, sizeof(d));
    /* the first 8 bytes at address 0, as Linux asks */
    assert_int_equal(control(b, 0, 0x80, 6, 0x0100, 0, 8, d), 8);
    assert_int_equal(d[0], 18);
    assert_int_equal(d[7], 8);
    assert_int_equal(control(b, 0, 0x00, 5, 1, 0, 0, NULL), 0);       /* SET_ADDRESS 1 */
    assert_int_equal(control(b, 0, 0x80, 6, 0x0100, 0, 18, d), -1);   /* nobody at 0 now */
    /* a longer read than the descriptor: a short packet ends the data stage */
    assert_int_equal(control(b, 1, 0x80, 6, 0x0100, 0, 64, d), 18);
    assert_int_equal(d[8] | d[9] << 8, 0x0627);
    assert_int_equal(d[10] | d[11] << 8, 0x0001);
    assert_int_equal(control(b, 1, 0x80, 6, 0x0200, 0, 34, d), 34);
    assert_int_equal(d[2], 34);
    assert_int_equal(d[9 + 5], 3);                                     /* HID */
    assert_int_equal(d[18 + 1], 0x21);
    assert_int_equal(d[27 + 2], 0x81);                                 /* EP 1 IN */
    unsigned rlen = d[18 + 7];
    assert_int_equal(control(b, 1, 0x81, 6, 0x2200, 0, (uint16_t)rlen, d), (int)rlen);
    assert_int_equal(d[0], 0x05);
    assert_int_equal(control(b, 1, 0x80, 6, 0x0302, 0, 64, d), 2 + 2 * 15); /* product */
    assert_int_equal(d[2], 'h');
    assert_int_equal(control(b, 1, 0x80, 6, 0x0700, 0, 8, d), -1);   /* no such descriptor */
    assert_int_equal(control(b, 1, 0x00, 9, 1, 0, 0, NULL), 0);       /* SET_CONFIGURATION 1 */
    assert_int_equal(control(b, 1, 0x80, 8, 0, 0, 1, d), 1);
    assert_int_equal(d[0], 1);
    assert_int_equal(control(b, 1, 0x21, 0x0a, 0, 0, 0, NULL), 0);    /* SET_IDLE 0 */
    assert_int_equal(control(b, 1, 0xa1, 0x02, 0, 0, 1, d), 1);
    assert_int_equal(d[0], 0);
    assert_int_equal(control(b, 1, 0x80, 0, 0, 0, 2, d), 2);          /* GET_STATUS */
    assert_int_equal(d[0], 0);
    assert_int_equal(control(b, 1, 0x00, 3, 1, 0, 0, NULL), 0);       /* remote wake-up on */
    assert_int_equal(control(b, 1, 0x80, 0, 0, 0, 2, d), 2);
    assert_int_equal(d[0], 2);
    /* ENDPOINT_HALT on the interrupt endpoint: its transfers stall until cleared */
    assert_int_equal(control(b, 1, 0x02, 3, 0, 0x81, 0, NULL), 0);
    assert_int_equal(control(b, 1, 0x82, 0, 0, 0x81, 2, d), 2);
    assert_int_equal(d[0], 1);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    assert_true(wait_for(b, td_inactive, INT_TD));
    assert_true(r32(b, INT_TD + 4) & STALLED);
    assert_int_equal(rd(b, 0x02) & 0x02, 0x02);
    w32(b, QH_INT + 4, T);
    assert_int_equal(control(b, 1, 0x02, 1, 0, 0x81, 0, NULL), 0);
    assert_int_equal(control(b, 1, 0x82, 0, 0, 0x81, 2, d), 2);
    assert_int_equal(d[0], 0);
    assert_int_equal(control(b, 1, 0x82, 0, 0, 0x02, 2, d), -1);     /* no endpoint 2 OUT */
    wr(b, 0x02, 0x3f);
}

static int setup_bed(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256];
    const char *argv[] = { "-usb", "-usbdevice", "tablet" };
    log_set_sink(sink, b);
    assert_int_equal(fx_machine_up(&b->m, argv, 3, err, sizeof(err)), 0);
    *state = b;
    return 0;
}

static int teardown_bed(void **state)
{
    struct bed *b = *state;
    fx_machine_down(&b->m);
    log_set_sink(NULL, NULL);
    free(b);
    return 0;
}

static void test_enumerate_and_report(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    /* an interrupt IN TD: NAK while nothing happened */
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC | SPD, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    wr(b, 0x02, 0x3f);
    for (int i = 0; i < 10; i++)
        loop_run_once(FX(b)->loop, 5);
    assert_true(r32(b, INT_TD + 4) & ACTIVE);
    assert_true(r32(b, INT_TD + 4) & NAKBIT);
    assert_int_equal(FX(b)->intx[1][3], 0);
    /* the pointer moves: one report */
    input_abs(&FX(b)->vm, 0x1234, 0x5678, 0, INPUT_BTN_LEFT);
    assert_true(wait_for(b, td_inactive, INT_TD));
    uint32_t ctrl = r32(b, INT_TD + 4);
    assert_int_equal(ctrl & (STALLED | NAKBIT), 0);
    assert_int_equal(ctrl & 0x7ff, 5);                 /* 6 bytes: short, the queue stops */
    const uint8_t want[6] = { 1, 0x34, 0x12, 0x78, 0x56, 0 };
    assert_memory_equal(FX(b)->ram + INT_BUF, want, 6);
    assert_int_equal(rd(b, 0x02) & 0x01, 0x01);
    assert_int_equal(FX(b)->intx[1][3], 1);            /* INTD of slot 1 */
    wr(b, 0x02, 0x01);
    assert_int_equal(FX(b)->intx[1][3], 0);
    /* moves merge; a wheel step and a button change do not */
    input_abs(&FX(b)->vm, 100, 200, 0, 0);
    input_abs(&FX(b)->vm, 0x7fff, 0x7fff, 0, 0);
    input_abs(&FX(b)->vm, 0x7fff, 0x7fff, -1, INPUT_BTN_RIGHT);
    const uint8_t r1[6] = { 0, 0xff, 0x7f, 0xff, 0x7f, 0 }, r2[6] = { 2, 0xff, 0x7f, 0xff, 0x7f, 0xff };
    const uint8_t *wants[2] = { r1, r2 };
    for (int i = 0; i < 2; i++) {
        td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, (unsigned)(i + 1) & 1, 8), INT_BUF);
        w32(b, QH_INT + 4, INT_TD);
        assert_true(wait_for(b, td_inactive, INT_TD));
        assert_memory_equal(FX(b)->ram + INT_BUF, wants[i], 6);
    }
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 1, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    for (int i = 0; i < 10; i++)
        loop_run_once(FX(b)->loop, 5);
    assert_true(r32(b, INT_TD + 4) & ACTIVE);          /* nothing more */
    /* GET_REPORT: the state now */
    uint8_t d[8];
    w32(b, QH_INT + 4, T);
    assert_int_equal(control(b, 1, 0xa1, 0x01, 0x0100, 0, 6, d), 6);
    assert_int_equal(d[0], 2);
    assert_int_equal(d[1] | d[2] << 8, 0x7fff);
    /* global suspend: a report from the tablet (remote wake-up is on) signals resume */
    wr(b, 0x02, 0x3f);
    assert_int_equal(FX(b)->intx[1][3], 0);
    wr(b, 0x00, 0x0048);                               /* EGSM, configured, stopped */
    assert_int_equal(rd(b, 0x02) & 0x24, 0x20);
    input_abs(&FX(b)->vm, 3, 4, 0, 0);
    assert_int_equal(rd(b, 0x02) & 0x04, 0x04);        /* resume detect */
    assert_int_equal(rd(b, 0x10) & 0x40, 0x40);
    assert_int_equal(rd(b, 0x00) & 0x10, 0x10);        /* forced global resume */
    assert_int_equal(FX(b)->intx[1][3], 1);
    wr(b, 0x02, 0x04);
    wr(b, 0x10, 0x0004);                               /* RD off */
    wr(b, 0x00, 0x00c1);
    assert_int_equal(FX(b)->intx[1][3], 0);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    assert_true(wait_for(b, td_inactive, INT_TD));
    assert_int_equal(FX(b)->ram[INT_BUF + 1], 3);
    wr(b, 0x02, 0x3f);
    /* a port reset unconfigures it: input goes elsewhere, address 0 again */
    wr(b, 0x10, 0x0200);
    wr(b, 0x10, 0x0000);
    wr(b, 0x10, 0x0004);
    assert_int_equal(control(b, 0, 0x80, 6, 0x0100, 0, 8, d), 8);
}

/* An idle schedule (the tablet NAKs, nothing else) costs few wake-ups. */
static void test_idle_pace(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    unsigned wakeups = 0;
    struct timespec t0, t, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    uint16_t f0 = rd(b, 0x06);
    do {
        int n = loop_run_once(FX(b)->loop, 50);
        wakeups += n > 0 ? (unsigned)n : 0;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 500);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    uint16_t f1 = rd(b, 0x06);
    print_message("idle: %u wake-ups in 500 ms, FRNUM %u -> %u, %ld us of CPU\n", wakeups, f0, f1,
                  (long)((c1.tv_sec - c0.tv_sec) * 1000000 + (c1.tv_nsec - c0.tv_nsec) / 1000));
    assert_true(wakeups < 50);
    unsigned frames = (unsigned)((f1 - f0) & 0x7ff);
    assert_true(frames >= 400 && frames <= 600);       /* FRNUM still counts milliseconds */
    assert_true(r32(b, INT_TD + 4) & ACTIVE);
    /* input: back to the fast pace, delivered within a few frames */
    input_abs(&FX(b)->vm, 1, 2, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(wait_for(b, td_inactive, INT_TD));
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
    print_message("report delivered %ld ms after the input\n", ms);
    assert_true(ms < 50);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Serve the loop for MS milliseconds; as Linux's root-hub poll does (usbcore every 250 ms:
 * uhci_scan_schedule reads FRNUM, then PORTSC), read FRNUM and the ports every POLL_MS (0:
 * never). Returns the loop's timer wake-ups meanwhile. */
static uint64_t idle_for(struct bed *b, long ms, long poll_ms)
{
    struct timespec t0, last;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    last = t0;
    uint64_t w0 = loop_timer_wakeups(FX(b)->loop);
    while (ms_since(&t0) < ms) {
        loop_run_once(FX(b)->loop, 10);
        if (poll_ms && ms_since(&last) >= poll_ms) {
            clock_gettime(CLOCK_MONOTONIC, &last);
            (void)rd(b, 0x06);
            (void)rd(b, 0x10);
            (void)rd(b, 0x12);
        }
    }
    return loop_timer_wakeups(FX(b)->loop) - w0;
}

/* A guest that polls the registers as Linux does (every 250 ms) while the tablet NAKs: the
 * timer parks, no wake-up of hvmd's own; the poll's FRNUM read runs the frames that are due
 * (FRNUM counts milliseconds, a TD queued meanwhile runs at the next poll), input comes at
 * once, a register write brings the 1 ms pace back. */
static void test_idle_parked(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    (void)rd(b, 0x06);
    uint64_t settle = idle_for(b, 300, 250); /* the back-off: 1, 2, 4, 8, 16, 32 ms, parked */
    uint16_t f0 = rd(b, 0x06);
    uint64_t idle = idle_for(b, 1500, 250);
    uint16_t f1 = rd(b, 0x06);
    print_message("parked: %llu wake-ups settling, %llu in 1.5 s polled, FRNUM %u -> %u\n",
                  (unsigned long long)settle, (unsigned long long)idle, f0, f1);
    assert_true(settle <= 10);
    assert_true(idle <= 1); /* 0; one safety pass if this process stalled for 350 ms (32 ms pace: ~47) */
    unsigned frames = (unsigned)((f1 - f0) & 0x7ff);
    assert_true(frames >= 1400 && frames <= 2000);     /* FRNUM still counts milliseconds */
    assert_true(r32(b, INT_TD + 4) & ACTIVE);
    assert_true(r32(b, INT_TD + 4) & NAKBIT);
    /* input while parked: delivered within a few frames */
    struct timespec t0;
    input_abs(&FX(b)->vm, 5, 6, 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(wait_for(b, td_inactive, INT_TD));
    print_message("report delivered %ld ms after the input while parked\n", ms_since(&t0));
    assert_true(ms_since(&t0) < 50);
    assert_int_equal(FX(b)->ram[INT_BUF + 1], 5);
    wr(b, 0x02, 0x3f);
    /* parked again; a control transfer queued in memory alone runs at the guest's next poll */
    w32(b, QH_INT + 4, T);
    (void)idle_for(b, 300, 250);
    uint64_t w0 = loop_timer_wakeups(FX(b)->loop);
    uint8_t setup[8] = { 0x80, 8, 0, 0, 0, 0, 1, 0 }; /* GET_CONFIGURATION */
    memcpy(FX(b)->ram + SETUP_BUF, setup, 8);
    td(b, TDS, (TDS + 32) | VF, ACTIVE | CERR3, token(0x2d, 1, 0, 0, 8), SETUP_BUF);
    td(b, TDS + 32, (TDS + 64) | VF, ACTIVE | CERR3, token(0x69, 1, 0, 1, 1), DATA_BUF);
    td(b, TDS + 64, T, ACTIVE | CERR3 | IOC, token(0xe1, 1, 0, 1, 0), 0);
    w32(b, QH_CTL + 4, TDS);
    for (int i = 0; i < 5; i++)
        loop_run_once(FX(b)->loop, 10);
    assert_true(r32(b, TDS + 4) & ACTIVE);              /* nothing ran: parked */
    assert_int_equal(loop_timer_wakeups(FX(b)->loop), w0);
    (void)rd(b, 0x06);                                   /* the poll */
    assert_false(r32(b, TDS + 4) & ACTIVE);             /* the due frames ran the SETUP */
    assert_true(wait_for(b, qh_idle, QH_CTL));          /* and the 1 ms pace the rest */
    assert_true(r32(b, QH_CTL + 4) & T);
    assert_int_equal(FX(b)->ram[DATA_BUF], 1);
    assert_true(rd(b, 0x02) & 0x01);
    wr(b, 0x02, 0x3f);
    /* a register write: the 1 ms pace at once */
    (void)idle_for(b, 300, 250);
    w0 = loop_timer_wakeups(FX(b)->loop);
    wr(b, 0x04, 0x000f);
    loop_run_once(FX(b)->loop, 20);
    assert_int_equal(loop_timer_wakeups(FX(b)->loop), w0 + 1);
}

/* A guest that stops reading the registers (or never polls them): the parked timer's safety
 * pass comes UHCI_PARK_MS after the last read, then the 32 ms pace of before, so a TD queued
 * in memory alone still runs. */
static void test_park_safety(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    (void)rd(b, 0x06);
    (void)idle_for(b, 200, 0); /* parked: the last read was recent */
    uint8_t setup[8] = { 0x80, 8, 0, 0, 0, 0, 1, 0 };
    memcpy(FX(b)->ram + SETUP_BUF, setup, 8);
    FX(b)->ram[DATA_BUF] = 0;
    td(b, TDS, (TDS + 32) | VF, ACTIVE | CERR3, token(0x2d, 1, 0, 0, 8), SETUP_BUF);
    td(b, TDS + 32, (TDS + 64) | VF, ACTIVE | CERR3, token(0x69, 1, 0, 1, 1), DATA_BUF);
    td(b, TDS + 64, T, ACTIVE | CERR3 | IOC, token(0xe1, 1, 0, 1, 0), 0);
    w32(b, QH_CTL + 4, TDS);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct timespec t;
    do {
        loop_run_once(FX(b)->loop, 10);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (!(r32(b, QH_CTL + 4) & T) && ms_since(&t0) < 2000);
    long ms = ms_since(&t0);
    print_message("a TD queued while parked ran %ld ms later with no register access\n", ms);
    assert_true(r32(b, QH_CTL + 4) & T);
    assert_int_equal(FX(b)->ram[DATA_BUF], 1);
    assert_true(ms <= 1000); /* UHCI_PARK_MS (600) after the last read, less the 200 ms idle */
    /* no reads: not parked again, the 32 ms pace goes on (about 30 wake-ups a second) */
    uint64_t n = idle_for(b, 500, 0);
    print_message("unpolled idle: %llu wake-ups in 500 ms\n", (unsigned long long)n);
    assert_true(n >= 5 && n <= 40);
    (void)t;
}

/* S3 wake-up (machine_reset): the controller as after power-on, the tablet unconfigured. */
static void test_reset_hook(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    machine_reset(&b->m.m);
    assert_int_equal(rd(b, 0x00), 0);
    assert_int_equal(rd(b, 0x02), 0x20);
    assert_int_equal(rd(b, 0x04), 0);
    assert_int_equal(rd(b, 0x10) & 0x0007, 0x0003);   /* connected, changed, disabled */
    assert_int_equal(fx_cfg_read(FX(b), DEVFN, 0xc0, 2), 0x2000);
    /* back up: the tablet answers at address 0 again */
    bring_up(b);
    uint8_t d[8];
    assert_int_equal(control(b, 0, 0x80, 6, 0x0100, 0, 8, d), 8);
}

static int halted(struct bed *b, uint32_t bit) { return (rd(b, 0x02) & (0x20 | bit)) == (0x20 | bit); }

static void test_bad_schedules(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    /* a TD that links to itself, inactive: the frame ends at the budget, the HC runs on */
    td(b, TDS, TDS, 0, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, FL, TDS);
    w32(b, FL + 4, TDS);
    unsigned lines = b->log_lines;
    for (int i = 0; i < 10; i++)
        loop_run_once(FX(b)->loop, 5);
    assert_true(b->log_lines > lines);
    assert_non_null(strstr(b->last_log, "loop"));
    assert_int_equal(rd(b, 0x02) & 0x38, 0);
    /* QHs that link to each other with nothing to do: ended quietly */
    w32(b, QH_INT, QH_CTL | Q);
    w32(b, QH_CTL, QH_INT | Q);
    w32(b, QH_CTL + 4, T);
    for (unsigned i = 0; i < 1024; i++)
        w32(b, FL + 4 * i, QH_INT | Q);
    lines = b->log_lines;
    for (int i = 0; i < 10; i++)
        loop_run_once(FX(b)->loop, 5);
    assert_int_equal(rd(b, 0x02) & 0x38, 0);
    /* an active TD that loops to itself through a QH chain of depth-first TDs: bounded */
    td(b, TDS, TDS | VF, ACTIVE | CERR3, token(0x69, 5, 0, 0, 8), INT_BUF); /* nobody at 5 */
    w32(b, QH_CTL + 4, TDS);
    assert_true(wait_for(b, td_inactive, TDS));
    assert_true(r32(b, TDS + 4) & STALLED);           /* three time-outs */
    assert_int_equal(rd(b, 0x02) & 0x02, 0x02);        /* error interrupt */
    wr(b, 0x02, 0x3f);
    /* a QH outside guest RAM: host system error, halted, interrupt */
    w32(b, QH_INT, 0xf0000000u | Q);
    assert_true(wait_for(b, halted, 0x08));
    assert_int_equal(FX(b)->intx[1][3], 1);
    assert_int_equal(rd(b, 0x00) & 1, 0);
    wr(b, 0x02, 0x3f);
    assert_int_equal(FX(b)->intx[1][3], 0);
    /* the frame list outside guest RAM */
    fx_out(FX(b), IO + 0x08, 4, 0xfeed0000u);
    wr(b, 0x00, 0x0001);
    assert_true(halted(b, 0x08));
    wr(b, 0x02, 0x3f);
    fx_out(FX(b), IO + 0x08, 4, FL);
    /* a TD with an invalid PID: process error */
    w32(b, QH_INT, QH_CTL | Q);
    w32(b, QH_CTL, T);
    td(b, TDS, T, ACTIVE, token(0x55, 1, 0, 0, 8), INT_BUF);
    w32(b, QH_CTL + 4, TDS);
    wr(b, 0x00, 0x0001);
    assert_true(wait_for(b, halted, 0x10));
    wr(b, 0x02, 0x3f);
    /* a TD whose buffer is outside RAM */
    td(b, TDS, T, ACTIVE, token(0x2d, 0, 0, 0, 8), 0xfff00000u);
    wr(b, 0x00, 0x0001);
    assert_true(wait_for(b, halted, 0x08));
    /* and one with an invalid length */
    wr(b, 0x02, 0x3f);
    td(b, TDS, T, ACTIVE, (0x600u << 21) | 0xe1, INT_BUF);
    wr(b, 0x00, 0x0001);
    assert_true(wait_for(b, halted, 0x10));
}

static void test_registers_by_byte_and_word(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    /* FRNUM only while halted */
    wr(b, 0x00, 0x0000);
    wr(b, 0x06, 0x0123);
    assert_int_equal(rd(b, 0x06), 0x0123);
    fx_out(FX(b), IO + 0x0c, 1, 0x33);
    assert_int_equal(fx_in(FX(b), IO + 0x0c, 1), 0x33);
    /* a byte write to the high half of PORTSC1 leaves its change bits alone */
    assert_int_equal(rd(b, 0x10) & 0x0004, 0x0004);
    fx_out(FX(b), IO + 0x11, 1, 0x00);
    assert_int_equal(rd(b, 0x10) & 0x0085, 0x0085);
    /* random writes everywhere, then a reset puts it back */
    srand(7);
    for (int i = 0; i < 2000; i++)
        fx_out(FX(b), (uint16_t)(IO + (rand() & 31)), 1u << (rand() % 3), (uint32_t)rand());
    wr(b, 0x00, 0x0002);
    assert_int_equal(rd(b, 0x02), 0x20);
    assert_int_equal(rd(b, 0x10) & 0x0003, 0x0003);
}

static void test_state_round_trip(void **state)
{
    struct bed *b = *state;
    bring_up(b);
    enumerate(b);
    input_abs(&FX(b)->vm, 7, 9, 0, 0);
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m.m, &w), 0);
    /* change things, then load: back where it was */
    wr(b, 0x10, 0x0200);
    wr(b, 0x04, 0);
    struct snap_reader r;
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(machine_load(&b->m.m, &r), 0);
    assert_int_equal(rd(b, 0x04), 0x000f);
    assert_int_equal(rd(b, 0x10) & 0x0205, 0x0005);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    assert_true(wait_for(b, td_inactive, INT_TD));
    assert_int_equal(FX(b)->ram[INT_BUF + 1], 7);      /* the queued report survived */
    snap_writer_free(&w);
}

/* Refused and accepted command lines. */
static void test_command_line(void **state)
{
    (void)state;
    struct fx_machine m;
    char err[256];
    const char *ok1[] = { "-device", "piix3-usb-uhci,id=usb", "-device", "usb-tablet,bus=usb.0,port=2" };
    assert_int_equal(fx_machine_up(&m, ok1, 4, err, sizeof(err)), 0);
    assert_int_equal(fx_cfg_read(m.fx, DEVFN, 0, 4), 0x70208086);
    fx_machine_down(&m);
    const char *ok3[] = { "-device", "piix3-usb-uhci,id=hc", "-device", "usb-tablet,bus=hc.0" };
    assert_int_equal(fx_machine_up(&m, ok3, 4, err, sizeof(err)), 0);
    fx_machine_down(&m);
    const char *badbus[] = { "-device", "piix3-usb-uhci,id=hc", "-device", "usb-tablet,bus=xhci.0" };
    assert_int_not_equal(fx_machine_up(&m, badbus, 4, err, sizeof(err)), 0);
    const char *ok2[] = { "-usb" };
    assert_int_equal(fx_machine_up(&m, ok2, 1, err, sizeof(err)), 0);
    fx_machine_down(&m);
    const char *none[] = { "-serial", "pty" };
    assert_int_equal(fx_machine_up(&m, none, 0, err, sizeof(err)), 0);
    assert_int_equal(fx_cfg_read(m.fx, DEVFN, 0, 4), 0xffffffff);
    fx_machine_down(&m);
    const char *mouse[] = { "-usb", "-usbdevice", "mouse" };
    assert_int_not_equal(fx_machine_up(&m, mouse, 3, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "-usbdevice mouse"));
    assert_non_null(strstr(err, "tablet"));
    const char *ehci[] = { "-device", "usb-ehci,id=usb" };
    assert_int_not_equal(fx_machine_up(&m, ehci, 2, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "usb-ehci"));
    const char *three[] = { "-usb", "-usbdevice", "tablet", "-usbdevice", "tablet", "-usbdevice", "tablet" };
    assert_int_not_equal(fx_machine_up(&m, three, 7, err, sizeof(err)), 0);
    const char *nohc[] = { "-device", "usb-tablet" };
    assert_int_not_equal(fx_machine_up(&m, nohc, 2, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "usb-tablet"));
    assert_non_null(strstr(err, "UHCI"));
    const char *badport[] = { "-usb", "-device", "usb-tablet,port=3" };
    assert_int_not_equal(fx_machine_up(&m, badport, 3, err, sizeof(err)), 0);
}

/* QMP input-send-event as a source: the pointer moves without VNC. */
static char qmp_out[8192];
static size_t qmp_len;
static void collect(void *opaque, const char *data, size_t n)
{
    (void)opaque;
    if (qmp_len + n < sizeof(qmp_out)) {
        memcpy(qmp_out + qmp_len, data, n);
        qmp_len += n;
        qmp_out[qmp_len] = 0;
    }
}
static void op_nop(void *o) { (void)o; }
static const struct qmp_ops qops = { .stop = op_nop, .cont = op_nop, .quit = op_nop };

static const char *qmp(struct qmp_conn *c, const char *cmd)
{
    qmp_len = 0;
    qmp_out[0] = 0;
    assert_int_equal(qmp_conn_input(c, cmd, strlen(cmd)), 0);
    assert_int_equal(qmp_conn_input(c, "\n", 1), 0);
    return qmp_out;
}

static void test_qmp_input_send_event(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256], ch[160], path[64];
    snprintf(path, sizeof(path), "/tmp/hvmd-uhci-%d", getpid());
    snprintf(ch, sizeof(ch), "socket,id=libxl-cmd,path=%s,server=on,wait=off", path);
    const char *argv[] = { "-xen-domid", "7", "-m", "64", "-chardev", ch,
                           "-mon", "chardev=libxl-cmd,mode=control", "-usb", "-usbdevice", "tablet" };
    (void)state;
    assert_int_equal(config_parse(&b->m.cfg, 11, argv, err, sizeof(err)), 0);
    b->m.fx = fx_new(64 << 20);
    b->m.fx->vm.cfg = &b->m.cfg;
    struct qmp *q = qmp_new(&b->m.fx->vm, &b->m.cfg, &qops, b, err, sizeof(err));
    assert_non_null(q);
    b->m.fx->vm.qmp = q;
    assert_int_equal(machine_create(&b->m.m, &b->m.fx->vm, err, sizeof(err)), 0);
    struct qmp_conn *c = qmp_conn_new(q, collect, NULL);
    qmp(c, "{\"execute\":\"qmp_capabilities\"}");
    bring_up(b);
    enumerate(b);
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    assert_non_null(strstr(qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
                                  "{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":16384}},"
                                  "{\"type\":\"abs\",\"data\":{\"axis\":\"y\",\"value\":8192}},"
                                  "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"left\"}}]}}"),
                           "\"return\""));
    assert_true(wait_for(b, td_inactive, INT_TD));
    const uint8_t want[6] = { 1, 0x00, 0x40, 0x00, 0x20, 0 };
    assert_memory_equal(FX(b)->ram + INT_BUF, want, 6);
    /* a button alone keeps the position; the wheel is a button press */
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 1, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
           "{\"type\":\"btn\",\"data\":{\"down\":false,\"button\":\"left\"}},"
           "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"wheel-up\"}}]}}");
    assert_true(wait_for(b, td_inactive, INT_TD));
    const uint8_t want2[6] = { 0, 0x00, 0x40, 0x00, 0x20, 1 };
    assert_memory_equal(FX(b)->ram + INT_BUF, want2, 6);
    /* refusals: checked before anything is sent */
    assert_non_null(strstr(qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
                                  "{\"type\":\"abs\",\"data\":{\"axis\":\"x\",\"value\":1}},"
                                  "{\"type\":\"btn\",\"data\":{\"down\":true,\"button\":\"side\"}}]}}"),
                           "events[1]"));
    assert_non_null(strstr(qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
                                  "{\"type\":\"mtt\",\"data\":{}}]}}"), "not served"));
    assert_non_null(strstr(qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{}}"),
                           "Parameter 'events' is missing"));
    assert_non_null(strstr(qmp(c, "{\"execute\":\"input-send-event\",\"arguments\":{\"events\":["
                                  "{\"type\":\"key\",\"data\":{\"down\":true,\"key\":{\"type\":\"qcode\",\"data\":\"nokey\"}}}]}}"),
                           "qcode"));
    td(b, INT_TD, T, ACTIVE | CERR3 | IOC, token(0x69, 1, 1, 0, 8), INT_BUF);
    w32(b, QH_INT + 4, INT_TD);
    for (int i = 0; i < 10; i++)
        loop_run_once(FX(b)->loop, 5);
    assert_true(r32(b, INT_TD + 4) & ACTIVE); /* the refused command moved nothing */
    qmp_conn_free(c);
    machine_destroy(&b->m.m);
    qmp_free(q);
    fx_free(b->m.fx);
    config_free(&b->m.cfg);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enumerate_and_report, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_idle_pace, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_idle_parked, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_park_safety, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_bad_schedules, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_registers_by_byte_and_word, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_state_round_trip, setup_bed, teardown_bed),
        cmocka_unit_test_setup_teardown(test_reset_hook, setup_bed, teardown_bed),
        cmocka_unit_test(test_command_line),
        cmocka_unit_test(test_qmp_input_send_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

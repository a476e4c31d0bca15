/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/vnc: a real RFB client (written here, byte by byte) against the server on a fakexen
 * machine: the handshake, keys reaching the guest's i8042 as scan codes, the pointer reaching
 * its PS/2 mouse, a framebuffer update of the screen, VNC authentication (none set, wrong,
 * right), QMP query-vnc and change-vnc-password, a client sending garbage or leaving in the
 * middle of an update; and the whole of it in a child process under the seccomp sandbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/display.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "dm/sandbox.h"
#include "dm/vnc.h"
#include "tests/lib/capture.h"
#include "tests/lib/fakexen.h"

/* libvncserver's DES for VNC authentication (the client's side of the challenge) */
void rfbEncryptBytes(unsigned char *bytes, char *passwd);

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    struct vnc *vnc;
};

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256];
    /* libxl's command line with vga="none": a machine without a display adapter */
    const char *argv[] = { "-xen-domid", "1", "-m", "16" };
    assert_int_equal(config_parse(&b->cfg, 4, argv, err, sizeof(err)), 0);
    b->fx = fx_new(16 << 20);
    b->fx->vm.cfg = &b->cfg;
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    vnc_free(b->vnc);
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
    free(b);
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* LOOP: the server's loop to run while waiting (NULL: the server is another process). */
static int rd(struct loop *loop, int fd, void *buf, size_t n)
{
    size_t got = 0;
    double t0 = now();
    while (got < n && now() - t0 < 3) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t r = -1;
        if (poll(&pfd, 1, 0) > 0)
            r = read(fd, (char *)buf + got, n - got);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0)
            return -1; /* closed */
        if (loop)
            loop_run_once(loop, 10);
        else
            poll(&pfd, 1, 10);
    }
    return got == n ? 0 : -1;
}

static void wr(struct loop *loop, int fd, const void *buf, size_t n)
{
    assert_int_equal(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
    if (loop)
        for (int i = 0; i < 3; i++)
            loop_run_once(loop, 5);
}

static int tcp_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* The RFB 3.8 handshake up to ServerInit; SECTYPE 1 (none) or 2 (VNC authentication with
 * PASSWORD). Returns the SecurityResult (0: OK), width and height in *W, *H. */
static int handshake(struct loop *loop, int fd, int sectype, const char *password, unsigned *w,
                     unsigned *h)
{
    char ver[12];
    uint8_t n, types[8];
    assert_int_equal(rd(loop, fd, ver, 12), 0);
    assert_memory_equal(ver, "RFB 003.008\n", 12);
    wr(loop, fd, "RFB 003.008\n", 12);
    assert_int_equal(rd(loop, fd, &n, 1), 0);
    assert_true(n >= 1 && n <= 8);
    assert_int_equal(rd(loop, fd, types, n), 0);
    assert_non_null(memchr(types, sectype, n));
    uint8_t t = (uint8_t)sectype;
    wr(loop, fd, &t, 1);
    if (sectype == 2) {
        uint8_t ch[16];
        char pw[9] = { 0 };
        assert_int_equal(rd(loop, fd, ch, 16), 0);
        snprintf(pw, sizeof(pw), "%s", password);
        rfbEncryptBytes(ch, pw);
        wr(loop, fd, ch, 16);
    }
    uint32_t res;
    assert_int_equal(rd(loop, fd, &res, 4), 0);
    if (ntohl(res))
        return (int)ntohl(res);
    uint8_t shared = 1;
    wr(loop, fd, &shared, 1);
    uint8_t init[24];
    assert_int_equal(rd(loop, fd, init, 24), 0);
    *w = (unsigned)(init[0] << 8 | init[1]);
    *h = (unsigned)(init[2] << 8 | init[3]);
    assert_int_equal(init[4], 32);              /* bits per pixel */
    uint32_t nl;
    memcpy(&nl, init + 20, 4);
    nl = ntohl(nl);
    assert_true(nl < 64);
    char name[64];
    assert_int_equal(rd(loop, fd, name, nl), 0);
    assert_memory_equal(name, "hvmd", 4);
    return 0;
}

static void key_event(struct loop *loop, int fd, int down, uint32_t sym)
{
    uint8_t m[8] = { 4, (uint8_t)down, 0, 0 };
    uint32_t s = htonl(sym);
    memcpy(m + 4, &s, 4);
    wr(loop, fd, m, 8);
}

static void pointer_event(struct loop *loop, int fd, uint8_t mask, uint16_t x, uint16_t y)
{
    uint8_t m[6] = { 5, mask, (uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8), (uint8_t)y };
    wr(loop, fd, m, 6);
}

static void update_request(struct loop *loop, int fd, int incremental, uint16_t x, uint16_t y,
                           uint16_t w, uint16_t h)
{
    uint8_t m[10] = { 3, (uint8_t)incremental, (uint8_t)(x >> 8), (uint8_t)x, (uint8_t)(y >> 8),
                      (uint8_t)y, (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)(h >> 8), (uint8_t)h };
    wr(loop, fd, m, 10);
}

/* Read a FramebufferUpdate of raw rectangles; the pixel bytes' OR into *ORED. Returns the
 * number of pixels. */
static unsigned read_update(struct loop *loop, int fd, uint8_t *ored)
{
    uint8_t hd[4];
    unsigned pixels = 0;
    assert_int_equal(rd(loop, fd, hd, 4), 0);
    assert_int_equal(hd[0], 0);
    unsigned nrects = (unsigned)(hd[2] << 8 | hd[3]);
    for (unsigned r = 0; r < nrects; r++) {
        uint8_t rh[12];
        assert_int_equal(rd(loop, fd, rh, 12), 0);
        unsigned w = (unsigned)(rh[4] << 8 | rh[5]), h = (unsigned)(rh[6] << 8 | rh[7]);
        assert_int_equal(rh[8] | rh[9] | rh[10] | rh[11], 0); /* raw */
        static uint8_t px[640 * 480 * 4];
        assert_true(w * h * 4 <= sizeof(px));
        assert_int_equal(rd(loop, fd, px, w * h * 4), 0);
        for (unsigned i = 0; i < w * h * 4; i++)
            *ored |= px[i];
        pixels += w * h;
    }
    return pixels;
}

/* What the guest reads from the i8042 now. */
static unsigned guest_bytes(struct bed *b, uint8_t *out, unsigned max)
{
    unsigned n = 0;
    while ((fx_in(b->fx, 0x64, 1) & 1) && n < max)
        out[n++] = (uint8_t)fx_in(b->fx, 0x60, 1);
    return n;
}

static void test_keysyms(void **state)
{
    (void)state;
    assert_int_equal(vnc_keysym_to_key(0, 'a'), KEY_A);
    assert_int_equal(vnc_keysym_to_key(0, 'A'), KEY_A);
    assert_int_equal(vnc_keysym_to_key(0, 'z'), KEY_Z);
    assert_int_equal(vnc_keysym_to_key(0, '@'), KEY_2);
    assert_int_equal(vnc_keysym_to_key(0, '|'), KEY_BACKSLASH);
    assert_int_equal(vnc_keysym_to_key(0, 0xff0d), KEY_ENTER);
    assert_int_equal(vnc_keysym_to_key(0, 0xffe1), KEY_LEFTSHIFT);
    assert_int_equal(vnc_keysym_to_key(0, 0xffc9), KEY_F12);
    assert_int_equal(vnc_keysym_to_key(0, 0xfc), 0);            /* no u umlaut on en-us */
    /* German: Y and Z swapped, umlauts, AltGr symbols, the key beside left shift */
    assert_int_equal(vnc_keysym_to_key(1, 'z'), KEY_Y);
    assert_int_equal(vnc_keysym_to_key(1, 'Y'), KEY_Z);
    assert_int_equal(vnc_keysym_to_key(1, 0xfc), KEY_LEFTBRACE); /* ü */
    assert_int_equal(vnc_keysym_to_key(1, 0xdf), KEY_MINUS);     /* ß */
    assert_int_equal(vnc_keysym_to_key(1, '@'), KEY_Q);
    assert_int_equal(vnc_keysym_to_key(1, '|'), KEY_102ND);
    assert_int_equal(vnc_keysym_to_key(1, '-'), KEY_SLASH);
    assert_int_equal(vnc_keysym_to_key(1, 0xfe03), KEY_RIGHTALT);
    assert_int_equal(vnc_keysym_to_key(1, 0x20ac), KEY_E);       /* € */
}

static void test_keys_pointer_frames(void **state)
{
    struct bed *b = *state;
    struct loop *loop = b->fx->loop;
    char err[256];
    uint8_t g[64];
    unsigned w, h;
    assert_int_equal(vnc_new(&b->fx->vm, "127.0.0.1:40,to=99", NULL, &b->vnc, err, sizeof(err)), 0);
    struct vnc_info info;
    vnc_query(b->vnc, &info);
    assert_string_equal(info.host, "127.0.0.1");
    assert_true(info.port >= 5940 && info.port <= 5999);
    assert_string_equal(info.auth, "none");
    int fd = tcp_connect(info.port);
    assert_int_equal(handshake(loop, fd, 1, NULL, &w, &h), 0);
    assert_int_equal(vnc_clients(b->vnc), 1);
    assert_int_equal(w, 640);                   /* no display adapter: a black screen */
    assert_int_equal(h, 480);
    /* "a", then shift + "A": scan codes as the guest's firmware reads them (set 1) */
    key_event(loop, fd, 1, 'a');
    key_event(loop, fd, 0, 'a');
    key_event(loop, fd, 1, 0xffe1);
    key_event(loop, fd, 1, 'A');
    key_event(loop, fd, 0, 'A');
    key_event(loop, fd, 0, 0xffe1);
    key_event(loop, fd, 1, 0xff0d);
    key_event(loop, fd, 0, 0xff0d);
    static const uint8_t want[] = { 0x1e, 0x9e, 0x2a, 0x1e, 0x9e, 0xaa, 0x1c, 0x9c };
    assert_int_equal(guest_bytes(b, g, sizeof(g)), sizeof(want));
    assert_memory_equal(g, want, sizeof(want));
    /* the pointer: the guest enables its PS/2 mouse, the client moves and clicks */
    fx_out(b->fx, 0x64, 1, 0xd4);
    fx_out(b->fx, 0x60, 1, 0xf4);
    assert_int_equal(guest_bytes(b, g, sizeof(g)), 1);
    pointer_event(loop, fd, 0, 100, 100);
    pointer_event(loop, fd, 1, 120, 100);
    unsigned n = guest_bytes(b, g, sizeof(g));
    assert_true(n >= 3 && n % 3 == 0);
    assert_int_equal(g[n - 3] & 0x07, 1);       /* left button */
    assert_true(g[n - 2] > 0 && g[n - 2] < 0x80); /* moved right */
    /* a framebuffer update of a corner, black */
    update_request(loop, fd, 0, 0, 0, 16, 8);
    uint8_t ored = 0;
    assert_int_equal(read_update(loop, fd, &ored), 16 * 8);
    assert_int_equal(ored, 0);
    /* query-vnc through QMP says where it listens, as libxl reads it */
    /* leaving releases what was held */
    key_event(loop, fd, 1, 0xffe3);            /* ctrl down, then gone */
    guest_bytes(b, g, sizeof(g));
    close(fd);
    for (int i = 0; i < 20 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(vnc_clients(b->vnc), 0);
    /* ctrl released, and the left button (a mouse packet with no button) */
    n = guest_bytes(b, g, sizeof(g));
    assert_int_equal(n, 4);
    assert_non_null(memchr(g, 0x9d, n));
    assert_non_null(memchr(g, 0x08, n));
}

static void test_port_in_use(void **state)
{
    struct bed *b = *state;
    char err[256];
    struct vnc *other = NULL;
    assert_int_equal(vnc_new(&b->fx->vm, "127.0.0.1:60", NULL, &b->vnc, err, sizeof(err)), 0);
    /* the same display again: refused, naming the port; with to= the next one is taken */
    assert_true(vnc_new(&b->fx->vm, "127.0.0.1:60", NULL, &other, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "5960"));
    assert_null(other);
    assert_int_equal(vnc_new(&b->fx->vm, "127.0.0.1:60,to=61", NULL, &other, err, sizeof(err)), 0);
    struct vnc_info i;
    vnc_query(other, &i);
    assert_int_equal(i.port, 5961);
    vnc_free(other);
    /* none: no server */
    assert_int_equal(vnc_new(&b->fx->vm, "none", NULL, &other, err, sizeof(err)), 0);
    assert_null(other);
}

static void qmp_out(void *opaque, const char *data, size_t n)
{
    fx_capture_bytes(opaque, data, n);
}

static void test_password_and_qmp(void **state)
{
    struct bed *b = *state;
    struct loop *loop = b->fx->loop;
    char err[256];
    unsigned w, h;
    struct config cfg;
    const char *argv[] = { "-xen-domid", "7", "-m", "16" };
    static const struct qmp_ops ops = { 0 };
    struct fx_capture out = { 0 };

    assert_int_equal(vnc_new(&b->fx->vm, "127.0.0.1:70,password=on,to=99", NULL, &b->vnc, err,
                             sizeof(err)), 0);
    struct vnc_info info;
    vnc_query(b->vnc, &info);
    assert_string_equal(info.auth, "vnc");
    /* no password set yet: refused */
    int fd = tcp_connect(info.port);
    assert_int_not_equal(handshake(loop, fd, 2, "secret", &w, &h), 0);
    close(fd);
    /* QMP sets it, as libxl does for vncpasswd= */
    assert_int_equal(config_parse(&cfg, 4, argv, err, sizeof(err)), 0);
    struct qmp *q = qmp_new(&b->fx->vm, &cfg, &ops, NULL, err, sizeof(err));
    assert_non_null(q);
    qmp_vnc_register(q, b->vnc);
    struct qmp_conn *c = qmp_conn_new(q, qmp_out, &out);
    const char *m1 = "{\"execute\":\"qmp_capabilities\"}";
    assert_int_equal(qmp_conn_input(c, m1, strlen(m1)), 0);
    out.len = 0;
    const char *m2 = "{\"execute\":\"change-vnc-password\",\"arguments\":{\"password\":\"secret\"}}";
    assert_int_equal(qmp_conn_input(c, m2, strlen(m2)), 0);
    assert_string_equal(out.text, "{\"return\":{}}\r\n");
    out.len = 0;
    const char *m3 = "{\"execute\":\"query-vnc\"}";
    assert_int_equal(qmp_conn_input(c, m3, strlen(m3)), 0);
    char want[200];
    snprintf(want, sizeof(want), "{\"return\":{\"enabled\":true,\"host\":\"127.0.0.1\","
             "\"family\":\"ipv4\",\"service\":\"%u\",\"auth\":\"vnc\",\"clients\":[]}}\r\n",
             info.port);
    assert_string_equal(out.text, want);
    /* a wrong password: refused; the right one: in */
    fd = tcp_connect(info.port);
    assert_int_not_equal(handshake(loop, fd, 2, "wrong", &w, &h), 0);
    close(fd);
    fd = tcp_connect(info.port);
    assert_int_equal(handshake(loop, fd, 2, "secret", &w, &h), 0);
    close(fd);
    for (int i = 0; i < 10; i++)
        loop_run_once(loop, 5);
    qmp_conn_free(c);
    qmp_free(q);
    config_free(&cfg);
}

static void test_no_password_option(void **state)
{
    struct bed *b = *state;
    char err[256];
    assert_int_equal(vnc_new(&b->fx->vm, "127.0.0.1:80,to=99", NULL, &b->vnc, err, sizeof(err)), 0);
    assert_int_equal(vnc_set_password(b->vnc, "x", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "password=on"));
}

static void test_garbage_and_leaving_mid_update(void **state)
{
    struct bed *b = *state;
    struct loop *loop = b->fx->loop;
    unsigned w, h;
    int sv[2];
    b->vnc = vnc_new_unlistened(&b->fx->vm, NULL, 0);
    assert_non_null(b->vnc);
    /* garbage instead of a protocol version */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    char ver[12];
    assert_int_equal(rd(loop, sv[1], ver, 12), 0);
    wr(loop, sv[1], "GARBAGE!!!!!\n\xff\xfe", 15);
    for (int i = 0; i < 20 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(vnc_clients(b->vnc), 0);
    close(sv[1]);
    /* an unknown message type after the handshake */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    assert_int_equal(handshake(loop, sv[1], 1, NULL, &w, &h), 0);
    wr(loop, sv[1], "\xee\x01\x02\x03", 4);
    for (int i = 0; i < 20 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(vnc_clients(b->vnc), 0);
    close(sv[1]);
    /* a whole-screen update asked for, then gone before reading it */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    assert_int_equal(handshake(loop, sv[1], 1, NULL, &w, &h), 0);
    update_request(loop, sv[1], 0, 0, 0, 640, 480);
    close(sv[1]);
    for (int i = 0; i < 50 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(vnc_clients(b->vnc), 0);
    /* a message cut in the middle: the client is dropped after the wait, hvmd goes on */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    assert_int_equal(handshake(loop, sv[1], 1, NULL, &w, &h), 0);
    wr(loop, sv[1], "\x04\x01", 2);
    double t0 = now();
    for (int i = 0; i < 400 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_true(now() - t0 < 3);
    assert_int_equal(vnc_clients(b->vnc), 0);
    close(sv[1]);
}

/* QEMU's extended key event: acknowledged when offered, the scan code wins over the keysym */
static void test_qemu_extended_key(void **state)
{
    struct bed *b = *state;
    struct loop *loop = b->fx->loop;
    unsigned w, h;
    int sv[2];
    uint8_t g[16];
    b->vnc = vnc_new_unlistened(&b->fx->vm, NULL, 0);
    assert_non_null(b->vnc);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    assert_int_equal(handshake(loop, sv[1], 1, NULL, &w, &h), 0);
    static const uint8_t enc[] = { 2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe };
    wr(loop, sv[1], enc, sizeof(enc));
    uint8_t ack[16];
    assert_int_equal(rd(loop, sv[1], ack, 16), 0);
    static const uint8_t want_ack[16] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe };
    assert_memory_equal(ack, want_ack, 16);
    /* keysym y, scan code 0x2c (the key right of left shift: Z on a US keyboard) */
    static const uint8_t z_down[12] = { 255, 0, 0, 1, 0, 0, 0, 'y', 0, 0, 0, 0x2c };
    static const uint8_t z_up[12] = { 255, 0, 0, 0, 0, 0, 0, 'y', 0, 0, 0, 0x2c };
    static const uint8_t rctrl[12] = { 255, 0, 0, 1, 0, 0, 0xff, 0xe4, 0, 0, 0, 0x9d };
    static const uint8_t sym_only[12] = { 255, 0, 0, 1, 0, 0, 0, 'q', 0, 0, 0, 0 };
    wr(loop, sv[1], z_down, 12);
    wr(loop, sv[1], z_up, 12);
    wr(loop, sv[1], rctrl, 12);
    wr(loop, sv[1], sym_only, 12);              /* no scan code: the keysym counts */
    assert_int_equal(guest_bytes(b, g, sizeof(g)), 5);
    static const uint8_t want[] = { 0x2c, 0xac, 0xe0, 0x1d, 0x10 };
    assert_memory_equal(g, want, sizeof(want));
    assert_int_equal(vnc_qnum_to_key(0xc8), KEY_UP);
    assert_int_equal(vnc_qnum_to_key(0x01), KEY_ESC);
    assert_int_equal(vnc_qnum_to_key(0x7f), 0);
    /* an unknown subtype: the client is dropped */
    wr(loop, sv[1], "\xff\x07\0\0\0\0\0\0\0\0\0\0", 12);
    for (int i = 0; i < 20 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(vnc_clients(b->vnc), 0);
    close(sv[1]);
}

/* The frame timer: only while a client is connected; every 50 ms while the screen changes,
 * backing off to 400 ms while it does not. */
struct counting_adapter {
    struct display *d;
    unsigned refreshes;
    int changing;
};

static void ca_refresh(void *o)
{
    struct counting_adapter *a = o;
    a->refreshes++;
    struct display_surface *s = display_resize(a->d, 64, 32);
    if (s && a->changing) {
        s->pixels[0] = a->refreshes;
        display_damage(a->d, 0, 0, 1, 1);
    }
}

static int ca_text(void *o, struct display_text *t)
{
    (void)o;
    (void)t;
    return -ENOTSUP;
}

static const struct display_adapter_ops ca_ops = { .refresh = ca_refresh, .text = ca_text };

static unsigned refreshes_in(struct loop *loop, struct counting_adapter *a, double secs)
{
    unsigned before = a->refreshes;
    double t0 = now();
    while (now() - t0 < secs)
        loop_run_once(loop, 20);
    return a->refreshes - before;
}

static void test_frame_rate(void **state)
{
    struct bed *b = *state;
    struct loop *loop = b->fx->loop;
    struct counting_adapter a = { 0 };
    unsigned w, h;
    int sv[2];
    assert_int_equal(display_new(&b->fx->vm, &ca_ops, &a), 0);
    a.d = display_of(&b->fx->vm);
    b->vnc = vnc_new_unlistened(&b->fx->vm, NULL, 0);
    assert_non_null(b->vnc);
    assert_int_equal(refreshes_in(loop, &a, 0.3), 0);          /* nobody watching */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(vnc_add_client(b->vnc, sv[0]), 0);
    assert_int_equal(handshake(loop, sv[1], 1, NULL, &w, &h), 0);
    assert_int_equal(w, 64);
    /* an unchanging screen: one refresh every 2 s once backed off (50 ms doubling: 3.2 s) */
    refreshes_in(loop, &a, 3.3);
    unsigned idle = refreshes_in(loop, &a, 2.2);
    assert_true(idle >= 1 && idle <= 2);
    /* a changing one: about 20 a second (seen at the next idle refresh, within 2 s) */
    a.changing = 1;
    refreshes_in(loop, &a, 2.5);
    unsigned busy = refreshes_in(loop, &a, 1.0);
    assert_true(busy >= 12 && busy <= 22);
    close(sv[1]);
    for (int i = 0; i < 20 && vnc_clients(b->vnc); i++)
        loop_run_once(loop, 10);
    assert_int_equal(refreshes_in(loop, &a, 0.3), 0);          /* gone: no more */
    vnc_free(b->vnc);
    b->vnc = NULL;
    display_free(a.d);
}

/* ---- under the sandbox ---- */

struct child {
    struct vnc *vnc;
    int pipe_w;
    int seen_client;
    struct loop *loop;
};

static void child_key(void *opaque, unsigned code, int down)
{
    struct child *c = opaque;
    uint8_t m[2] = { (uint8_t)code, (uint8_t)down };
    if (write(c->pipe_w, m, 2) != 2)
        _exit(30);
}

static void child_tick(void *opaque)
{
    struct child *c = opaque;
    if (vnc_clients(c->vnc))
        c->seen_client = 1;
    else if (c->seen_client)
        loop_quit(c->loop, 0);
}

static void test_sandboxed(void **state)
{
    struct bed *b = *state;
    int p[2], port_pipe[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pipe(port_pipe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        struct child c = { .pipe_w = p[1], .loop = b->fx->loop };
        if (vnc_new(&b->fx->vm, "127.0.0.1:20,to=99", NULL, &c.vnc, err, sizeof(err)) < 0)
            _exit(10);
        struct input_target t = { .kind = INPUT_KEYBOARD, .priority = 100, .name = "test",
                                  .key = child_key, .opaque = &c };
        if (input_add_target(&b->fx->vm, &t) < 0)
            _exit(11);
        struct vnc_info i;
        vnc_query(c.vnc, &i);
        if (write(port_pipe[1], &i.port, sizeof(i.port)) != sizeof(i.port))
            _exit(12);
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(13);
        struct loop_timer *tick = loop_timer_new(b->fx->loop, child_tick, &c);
        for (int n = 0; n < 500 && !loop_quitting(b->fx->loop); n++) {
            loop_timer_arm(tick, 10 * 1000 * 1000);
            loop_run_once(b->fx->loop, 20);
        }
        _exit(c.seen_client && loop_quitting(b->fx->loop) ? 0 : 14);
    }
    unsigned port, w, h;
    assert_int_equal(read(port_pipe[0], &port, sizeof(port)), (ssize_t)sizeof(port));
    int fd = tcp_connect(port);
    assert_int_equal(handshake(NULL, fd, 1, NULL, &w, &h), 0);
    key_event(NULL, fd, 1, 'q');
    key_event(NULL, fd, 0, 'q');
    uint8_t m[4];
    assert_int_equal(rd(NULL, p[0], m, 4), 0);
    assert_int_equal(m[0], KEY_Q);
    assert_int_equal(m[1], 1);
    assert_int_equal(m[2], KEY_Q);
    assert_int_equal(m[3], 0);
    update_request(NULL, fd, 0, 0, 0, 640, 480);
    uint8_t ored = 0;
    assert_int_equal(read_update(NULL, fd, &ored), 640 * 480);
    update_request(NULL, fd, 1, 0, 0, 640, 480); /* incremental: answered on a frame tick */
    usleep(200 * 1000);
    close(fd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("the sandboxed server was killed by signal %d (a system call not allowed?)",
                 WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    close(p[0]);
    close(p[1]);
    close(port_pipe[0]);
    close(port_pipe[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keysyms),
        cmocka_unit_test_setup_teardown(test_keys_pointer_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_and_qmp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_password_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_leaving_mid_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qemu_extended_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandboxed, setup, teardown),
    };
    log_set_level(LOG_ERR);
    signal(SIGPIPE, SIG_IGN);
    /* test_port_in_use needs VNC displays 60 and 61 free: one test_vnc at a time on this
     * machine (make check runs the plain and the ASan build side by side) */
    int lock = open("/tmp/hvmd-test-vnc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lock < 0 || flock(lock, LOCK_EX) < 0) {
        perror("test_vnc: /tmp/hvmd-test-vnc.lock");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}

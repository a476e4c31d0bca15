/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/snapshot (the device-state stream), machine_save / machine_load, and each device's
 * save / load hooks: a device driven into a non-trivial state through the in-process ioreq
 * source, saved, loaded into a fresh machine from the same command line, must answer the guest
 * exactly as the first one does; a stream that is truncated, of another format or version,
 * or whose section or field does not match is refused with a message naming device and field,
 * and nothing is loaded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/snapshot.h"
#include "tests/lib/fakexen.h"

/* ---- the stream format ---- */

/* A stream of two sections exercising every field type and a name prefix. */
static void write_sample(struct snap_writer *w)
{
    static const uint8_t blob[5] = { 1, 2, 3, 4, 5 };
    snap_writer_init(w);
    snap_put_header(w);
    snap_section_begin(w, "alpha", 3);
    snap_put_u8(w, "a8", 0xa8);
    snap_put_u16(w, "a16", 0xa016);
    snap_put_u32(w, "a32", 0xa0000032);
    snap_put_u64(w, "a64", 0xa000000000000064ull);
    snap_put_bool(w, "flag", 7);
    snap_put_enter(w, "sub");
    snap_put_bytes(w, "blob", blob, sizeof(blob));
    snap_put_bytes(w, "empty", NULL, 0);
    snap_put_leave(w);
    snap_section_end(w);
    snap_section_begin(w, "beta", 1);
    snap_section_end(w);
    snap_put_end(w);
}

/* Read the sample back; 0 if it all matched, -EINVAL with snap_error set otherwise. */
static int read_sample(struct snap_reader *r)
{
    char dev[SNAP_NAME_MAX + 1];
    uint32_t ver, a32;
    uint8_t a8, blob[5];
    uint16_t a16;
    uint64_t a64;
    int flag;

    if (snap_get_header(r) < 0 || snap_section_open(r, dev, &ver) != 1)
        return -EINVAL;
    assert_string_equal(dev, "alpha");
    assert_int_equal(ver, 3);
    assert_int_equal(snap_version(r), 3);
    if (snap_get_u8(r, "a8", &a8) < 0 || snap_get_u16(r, "a16", &a16) < 0 ||
        snap_get_u32(r, "a32", &a32) < 0 || snap_get_u64(r, "a64", &a64) < 0 ||
        snap_get_bool(r, "flag", &flag) < 0)
        return -EINVAL;
    snap_get_enter(r, "sub");
    if (snap_get_bytes(r, "blob", blob, sizeof(blob)) < 0 || snap_get_bytes(r, "empty", NULL, 0) < 0)
        return -EINVAL;
    snap_get_leave(r);
    if (snap_section_close(r) < 0)
        return -EINVAL;
    assert_int_equal(a8, 0xa8);
    assert_int_equal(a16, 0xa016);
    assert_int_equal(a32, 0xa0000032);
    assert_true(a64 == 0xa000000000000064ull);
    assert_int_equal(flag, 1);
    assert_int_equal(blob[4], 5);
    if (snap_section_open(r, dev, &ver) != 1)
        return -EINVAL;
    assert_string_equal(dev, "beta");
    if (snap_section_close(r) < 0)
        return -EINVAL;
    return snap_section_open(r, dev, &ver) == 0 ? 0 : -EINVAL;
}

static void test_round_trip(void **state)
{
    struct snap_writer w;
    struct snap_reader r;
    write_sample(&w);
    assert_int_equal(snap_writer_error(&w), 0);
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(read_sample(&r), 0);
    assert_string_equal(snap_error(&r), "");
    /* a second pass over the same bytes */
    snap_reader_rewind(&r);
    char dev[SNAP_NAME_MAX + 1];
    uint32_t ver;
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_string_equal(dev, "alpha");

    /* to an fd and back */
    char path[] = "/tmp/test_snapshot.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(snap_write_fd(&w, fd), 0);
    uint8_t back[512];
    assert_int_equal(pread(fd, back, sizeof(back), 0), (ssize_t)w.len);
    assert_memory_equal(back, w.buf, w.len);
    close(fd);
    snap_writer_free(&w);
}

static void test_truncated_everywhere(void **state)
{
    struct snap_writer w;
    struct snap_reader r;
    write_sample(&w);
    for (size_t n = 0; n < w.len; n++) {
        /* a copy of exactly n bytes, so ASan sees any read past the end */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, w.buf, n);
        snap_reader_init(&r, p, n);
        assert_int_equal(read_sample(&r), -EINVAL);
        assert_true(r.failed);
        assert_true(strlen(snap_error(&r)) > 0);
        free(p);
    }
    snap_writer_free(&w);
}

static void expect_refused(const uint8_t *buf, size_t len, const char *msg)
{
    struct snap_reader r;
    snap_reader_init(&r, buf, len);
    assert_int_equal(read_sample(&r), -EINVAL);
    if (!strstr(snap_error(&r), msg))
        fail_msg("got \"%s\", expected \"%s\"", snap_error(&r), msg);
}

/* Replace the first occurrence of FROM (same length as TO) in the stream. */
static void patch(uint8_t *buf, size_t len, const void *from, const void *to, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(buf + i, from, n)) {
            memcpy(buf + i, to, n);
            return;
        }
    fail_msg("pattern not in the stream");
}

static void test_refusals(void **state)
{
    struct snap_writer w;
    write_sample(&w);
    uint8_t *b = malloc(w.len + 1);

    memcpy(b, w.buf, w.len);
    b[0] = 'X';
    expect_refused(b, w.len, "stream: not an hvmd device-state stream (bad magic)");

    memcpy(b, w.buf, w.len);
    b[SNAP_MAGIC_LEN] = 2;
    expect_refused(b, w.len, "stream: format version 2, this hvmd reads version 1");

    static const struct { const char *from, *to; size_t n; const char *msg; } cases[] = {
        /* a field of another name */
        { "a16", "b16", 3, "device alpha: field a16: the stream has field b16 here" },
        /* another type: the u16's type byte says u32 */
        { "\x03" "a16\x02", "\x03" "a16\x03", 5,
          "device alpha: field a16: is u32 (type 3) in the stream, expected u16" },
        /* another size, of the byte array under the prefix */
        { "sub.blob\x05\x05", "sub.blob\x05\x04", 10,
          "device alpha: field sub.blob: 4 bytes in the stream, expected 5" },
        /* a bool that is not 0 or 1 */
        { "flag\x01\x01\x00\x00\x00\x01", "flag\x01\x01\x00\x00\x00\x02", 10,
          "device alpha: field flag: 2 out of range [0, 1]" },
        /* a section length past the end of the stream */
        { "beta\x01\x00\x00\x00\x00", "beta\x01\x00\x00\x00\x09", 9,
          "device beta: section of 9 bytes, only 1 left in the stream" },
        /* a name with a character names may not have */
        { "a32", "a 2", 3, "device alpha: field a32: malformed field name in the stream" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(b, w.buf, w.len);
        patch(b, w.len, cases[i].from, cases[i].to, cases[i].n);
        expect_refused(b, w.len, cases[i].msg);
    }

    /* bytes after the end marker */
    memcpy(b, w.buf, w.len);
    b[w.len] = 0;
    expect_refused(b, w.len + 1, "stream: 1 bytes after the end marker");
    free(b);
    snap_writer_free(&w);
}

static void test_left_over_and_missing_fields(void **state)
{
    struct snap_writer w;
    struct snap_reader r;
    char dev[SNAP_NAME_MAX + 1];
    uint32_t ver;
    uint8_t v;

    snap_writer_init(&w);
    snap_put_header(&w);
    snap_section_begin(&w, "gamma", 1);
    snap_put_u8(&w, "one", 1);
    snap_put_u8(&w, "two", 2);
    snap_section_end(&w);
    snap_put_end(&w);

    /* a reader that knows only "one": "two" is left */
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(snap_get_u8(&r, "one", &v), 0);
    assert_int_equal(snap_section_close(&r), -EINVAL);
    assert_string_equal(snap_error(&r),
                        "device gamma: field two: not known to this hvmd (device state version 1)");

    /* a reader that wants a third: missing */
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(snap_get_u8(&r, "one", &v), 0);
    assert_int_equal(snap_get_u8(&r, "two", &v), 0);
    assert_int_equal(snap_get_u8(&r, "three", &v), -EINVAL);
    assert_int_equal(v, 0); /* outputs are zeroed on failure */
    assert_string_equal(snap_error(&r), "device gamma: field three: missing (the section ends before it)");
    /* sticky: the first error stays */
    assert_int_equal(snap_get_u8(&r, "four", &v), -EINVAL);
    assert_string_equal(snap_error(&r), "device gamma: field three: missing (the section ends before it)");

    /* range and consistency helpers name the field */
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(snap_get_u8_in(&r, "one", &v, 0, 1), 0);
    assert_int_equal(snap_get_u8_in(&r, "two", &v, 0, 1), -EINVAL);
    assert_string_equal(snap_error(&r), "device gamma: field two: 2 out of range [0, 1]");
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(snap_get_u8(&r, "one", &v), 0);
    assert_int_equal(snap_check(&r, v == 1, NULL, "fine"), 0);
    assert_int_equal(snap_check(&r, 0, "two", "disagrees with %s", "one"), -EINVAL);
    assert_string_equal(snap_error(&r), "device gamma: field two: disagrees with one");
    snap_writer_free(&w);

    /* the writer refuses names a reader would */
    snap_writer_init(&w);
    snap_put_header(&w);
    snap_section_begin(&w, "delta", 1);
    snap_put_u8(&w, "bad name", 1);
    assert_int_equal(snap_writer_error(&w), -EINVAL);
    snap_writer_free(&w);
}

/* ---- machines ---- */

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
};

static const char *const std_argv[] = { "-xen-domid", "1", "-m", "16", "-serial", "null",
                                        "-serial", "none", "-serial", "null", "-smp", "2" };

static void bed_up_argv(struct bed *b, const char *const *argv, int argc)
{
    char err[256];
    memset(b, 0, sizeof(*b));
    assert_int_equal(config_parse(&b->cfg, argc, argv, err, sizeof(err)), 0);
    b->fx = fx_new(16 << 20);
    assert_non_null(b->fx);
    b->fx->vm.cfg = &b->cfg;
    if (machine_create(&b->m, &b->fx->vm, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static void bed_up(struct bed *b)
{
    bed_up_argv(b, std_argv, (int)(sizeof(std_argv) / sizeof(std_argv[0])));
}

static void bed_down(struct bed *b)
{
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
}

static void save(struct bed *b, struct snap_writer *w)
{
    snap_writer_init(w);
    assert_int_equal(machine_save(&b->m, w), 0);
}

static int load(struct bed *b, const struct snap_writer *w, char *msg, size_t msglen)
{
    struct snap_reader r;
    snap_reader_init(&r, w->buf, w->len);
    int rc = machine_load(&b->m, &r);
    snprintf(msg, msglen, "%s", snap_error(&r));
    return rc;
}

#define COM1 0x3f8
#define COM3 0x3e8
#define PMBASE 0xb000
#define PLATFORM_IO 0xc000

/* What firmware and a driver would leave behind: a non-trivial state in every device. */
static void drive(struct fakexen *fx)
{
    /* i440fx: PAM and SMRAM */
    fx_cfg_write(fx, PCI_DEVFN(0, 0), 0x59, 4, 0x33331130);
    fx_cfg_write(fx, PCI_DEVFN(0, 0), 0x72, 1, 0x0a);
    /* piix3: PIRQ A -> 10, B -> 11, C off, D -> 5; SYS_RST */
    fx_cfg_write(fx, PCI_DEVFN(1, 0), 0x60, 4, 0x05800b0a);
    fx_out(fx, 0xcf9, 1, 0x02);
    /* piix4: PM base, PM I/O on, GPE enables */
    fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x40, 4, PMBASE | 1);
    fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x80, 1, 1);
    fx_out(fx, PMBASE + 4, 2, 0x0001);
    fx_out(fx, 0xafe2, 2, 0x0204);
    /* xen platform: BARs, decoding, flags, the drivers' product */
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x10, 4, PLATFORM_IO | 1);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x14, 4, 0xf0000000);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x04, 2, 3);
    fx_out(fx, 0x10, 1, 1);
    fx_out(fx, 0x12, 2, 3);
    fx_out(fx, 0x10, 4, 0x1234);
    /* COM1: divisor, FIFO with trigger 4, loopback with 6 bytes received, all interrupts */
    fx_out(fx, COM1 + 3, 1, 0x83);
    fx_out(fx, COM1 + 0, 1, 0x01);
    fx_out(fx, COM1 + 1, 1, 0x00);
    fx_out(fx, COM1 + 3, 1, 0x1b);
    fx_out(fx, COM1 + 2, 1, 0x47);
    fx_out(fx, COM1 + 4, 1, 0x1b);
    for (unsigned i = 0; i < 6; i++)
        fx_out(fx, COM1, 1, 'a' + i);
    fx_in(fx, COM1, 1);
    fx_out(fx, COM1 + 1, 1, 0x0f);
    fx_out(fx, COM1 + 7, 1, 0x5a);
    /* COM3: 16450 mode, one byte received with an overrun */
    fx_out(fx, COM3 + 4, 1, 0x10);
    fx_out(fx, COM3, 1, 'x');
    fx_out(fx, COM3, 1, 'y');
    fx_out(fx, COM3 + 1, 1, 0x05);
    /* i8042: keyboard identify (three replies, one read), the mouse in the middle of a rate */
    fx_out(fx, 0x60, 1, 0xf2);
    fx_in(fx, 0x60, 1);
    fx_out(fx, 0x64, 1, 0xd4);
    fx_out(fx, 0x60, 1, 0xf3);
    fx_out(fx, 0x64, 1, 0xd4);
    fx_out(fx, 0x60, 1, 0xe6);
    /* fw_cfg: the signature selected, two bytes read; a DMA address half written */
    fx_out(fx, 0x510, 2, 0x0000);
    fx_in(fx, 0x511, 1);
    fx_in(fx, 0x511, 1);
    fx_out(fx, 0x514, 4, 0x01000000);
}

/* Everything a guest can see, read the same way on both machines; reads that change state
 * change it the same way on both. */
struct view {
    uint8_t cfg[5][256];
    uint32_t ports[96];
    const char *what[96];
    unsigned n;
    uint8_t isa[16], link[4], intx[32][4];
    int shutdown_reason;
};

static void look(struct fakexen *fx, struct view *v)
{
    static const uint8_t fns[5] = { PCI_DEVFN(0, 0), PCI_DEVFN(1, 0), PCI_DEVFN(1, 1),
                                    PCI_DEVFN(1, 3), PCI_DEVFN(3, 0) };
    memset(v, 0, sizeof(*v));
    for (unsigned f = 0; f < 5; f++)
        for (unsigned reg = 0; reg < 256; reg += 4)
            st32(&v->cfg[f][reg], fx_cfg_read(fx, fns[f], reg, 4));
    memcpy(v->isa, fx->isa, sizeof(v->isa));
    memcpy(v->link, fx->link, sizeof(v->link));
    memcpy(v->intx, fx->intx, sizeof(v->intx));
#define P(x) (v->what[v->n] = #x, v->ports[v->n++] = (x))
    P(fx_in(fx, 0xcf9, 1));
    P(fx_in(fx, PMBASE + 4, 2));
    P(fx_in(fx, 0xafe0, 4));
    P(fx_in(fx, 0xaf00, 1));
    P(fx_in(fx, 0x10, 1));
    P(fx_in(fx, 0x10, 2));
    P(fx_in(fx, PLATFORM_IO, 1));
    P((uint32_t)fx_mmio_read(fx, 0xf0000000, 4));
    for (unsigned u = 0; u < 2; u++) {
        uint16_t base = u ? COM3 : COM1;
        P(fx_in(fx, base + 1, 1));
        P(fx_in(fx, base + 3, 1));
        P(fx_in(fx, base + 4, 1));
        P(fx_in(fx, base + 7, 1));
        P(fx_in(fx, base + 6, 1));
        for (unsigned i = 0; i < 8; i++) {
            P(fx_in(fx, base + 2, 1));
            P(fx_in(fx, base + 5, 1));
            P(fx_in(fx, base + 0, 1));
        }
    }
    fx_out(fx, COM1 + 3, 1, 0x9b);
    P(fx_in(fx, COM1 + 0, 1));
    P(fx_in(fx, COM1 + 1, 1));
    for (unsigned i = 0; i < 6; i++) {
        P(fx_in(fx, 0x64, 1));
        P(fx_in(fx, 0x60, 1));
    }
    fx_out(fx, 0x64, 1, 0xd4);
    fx_out(fx, 0x60, 1, 0xe9); /* mouse status: rate, resolution, scaling as left */
    for (unsigned i = 0; i < 5; i++)
        P(fx_in(fx, 0x60, 1));
    for (unsigned i = 0; i < 3; i++)
        P(fx_in(fx, 0x511, 1));
    fx_out(fx, 0x514, 4, 0); /* low half: runs a DMA at (hi << 32): not RAM, nothing happens */
    P(fx_in(fx, 0x511, 1));
#undef P
    v->shutdown_reason = fx->shutdown_reason;
}

static void test_machine_round_trip(void **state)
{
    struct bed a, b;
    struct snap_writer w;
    struct view va, vb;
    char msg[SNAP_MSG_MAX];

    bed_up(&a);
    drive(a.fx);
    save(&a, &w);
    bed_up(&b);
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), 0);

    /* the lines Xen was told about, before anything is read */
    assert_memory_equal(a.fx->isa, b.fx->isa, sizeof(a.fx->isa));
    assert_memory_equal(a.fx->link, b.fx->link, sizeof(a.fx->link));
    assert_int_equal(b.fx->link[0], 10);
    assert_int_equal(b.fx->link[3], 5);
    assert_int_equal(b.fx->isa[4], 1); /* COM1 and COM3 interrupts pending */
    assert_int_equal(b.fx->isa[1], 1); /* a keyboard byte waiting */
    assert_true(fx_claimed(b.fx, HV_PIO, PLATFORM_IO, PLATFORM_IO + 0xff));
    assert_true(fx_claimed(b.fx, HV_MMIO, 0xf0000000, 0xf0ffffff));
    assert_true(fx_claimed(b.fx, HV_PIO, PMBASE + 4, PMBASE + 5));

    look(a.fx, &va);
    look(b.fx, &vb);
    assert_memory_equal(va.cfg, vb.cfg, sizeof(va.cfg));
    assert_int_equal(va.n, vb.n);
    for (unsigned i = 0; i < va.n; i++)
        if (va.ports[i] != vb.ports[i])
            fail_msg("guest read %u (%s): %#x before the save, %#x after the load", i,
                     va.what[i], va.ports[i], vb.ports[i]);
    assert_memory_equal(va.isa, vb.isa, sizeof(va.isa));
    assert_memory_equal(va.intx, vb.intx, sizeof(va.intx));
    /* spot checks that the view saw something */
    assert_int_equal(va.cfg[0][0x72], 0x0a);
    assert_int_equal(va.ports[0], 0x02);

    /* and a second save of the loaded machine is the same stream */
    struct snap_writer w2;
    struct bed c;
    bed_up(&c);
    assert_int_equal(load(&c, &w, msg, sizeof(msg)), 0);
    save(&c, &w2);
    assert_int_equal(w.len, w2.len);
    assert_memory_equal(w.buf, w2.buf, w.len);
    /* an S5 write on the loaded machine powers off, as on the first */
    fx_out(c.fx, PMBASE + 4, 2, 0x2001);
    assert_int_equal(c.fx->shutdown_reason, HV_POWEROFF);

    snap_writer_free(&w2);
    snap_writer_free(&w);
    bed_down(&a);
    bed_down(&b);
    bed_down(&c);
}

/* Where field NAME's value starts in the stream (the first field of that name). */
static size_t field_value(const struct snap_writer *w, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + 1 + n + 5 <= w->len; i++)
        if (w->buf[i] == n && !memcmp(w->buf + i + 1, name, n))
            return i + 1 + n + 5;
    fail_msg("field %s not in the stream", name);
    return 0;
}

struct bad_case {
    const char *field;
    unsigned at;        /* byte of the value to change */
    uint8_t value;
    const char *msg;
};

static void test_device_fields_refused(void **state)
{
    static const struct bad_case cases[] = {
        { "pci.config", 0, 0x87, "device i440fx: field pci.config: byte 0 is 0x87, 0x86 here" },
        { "pci.intx_level", 0, 1, "device i440fx: field pci.intx_level: 1, but the status "
                                  "register's interrupt bit says 0" },
        { "rcr", 0, 0x06, "device piix3: field rcr: 0x6: only SYS_RST (0x2) reads back" },
        { "pm1_cnt", 0, 0x00, "device piix4-acpi: field pm1_cnt: 0: SCI_EN always reads 1" },
        { "gpe_sts", 0, 0x01, "device piix4-acpi: field gpe_sts: 0x1: only CPU hot-plug (bit 2) "
                              "raises a GPE here" },
        { "cpumap", 0, 0x00, "device piix4-acpi: field cpumap: vCPU 0 must be present" },
        { "cmos_index", 0, 0x80, "device piix4-acpi: field cmos_index: 128 out of range [0, 127]" },
        { "flags", 0, 2, "device xen-platform: field flags: 2 out of range [0, 1]" },
        { "ports", 0, 1, "device uart: field ports: COM ports 0x1 in the stream, 0x5 here" },
        { "serial0.ier", 0, 0x10, "device uart: field serial0.ier: 16 out of range [0, 15]" },
        { "serial2.rx_count", 0, 2, "device uart: field serial2.rx_count: 2 out of range [0, 1]" },
        { "serial0.lsr", 0, 0x01, "device uart: field serial0.lsr: 0x1: only the error bits" },
        { "status", 0, 0x00, "device i8042: field status: 0: only bits 0x3d, and 0x10 always set" },
        { "queue_len", 0, 65, "device i8042: field queue_len: 65 out of range [0, 64]" },
        { "queue_aux", 0, 2, "device i8042: field queue_aux: byte 0 is 2" },
        { "pending_cmd", 0, 0x20, "device i8042: field pending_cmd: 0x20 is no controller command" },
        { "aux_scaling", 0, 3, "device i8042: field aux_scaling: 3 out of range [1, 2]" },
        { "kbd_set", 0, 3, "device i8042: field kbd_set: 3 out of range [1, 2]" },
        { "aux_id", 0, 4, "device i8042: field aux_id: 4: 0 (standard mouse) or 3" },
        { "key", 0, 0x77, "device fw_cfg: field key: item 0x77 is not in this machine's fw_cfg" },
        { "offset", 0, 9, "device fw_cfg: field offset: 9 out of range [0, 4]" },
    };
    struct bed a, b;
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];

    bed_up(&a);
    drive(a.fx);
    save(&a, &w);
    bed_up(&b);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t at = field_value(&w, cases[i].field) + cases[i].at;
        uint8_t old = w.buf[at];
        w.buf[at] = cases[i].value;
        assert_int_equal(load(&b, &w, msg, sizeof(msg)), -EINVAL);
        if (strncmp(msg, cases[i].msg, strlen(cases[i].msg)))
            fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].field, msg, cases[i].msg);
        w.buf[at] = old;
    }
    /* nothing was loaded by any of them: b is still fresh */
    assert_int_equal(fx_in(b.fx, 0xcf9, 1), 0);
    assert_int_equal(b.fx->link[0], 0);
    assert_int_equal(fx_in(b.fx, 0x64, 1) & 1, 0);
    assert_false(fx_claimed(b.fx, HV_PIO, PMBASE + 4, PMBASE + 5));
    /* and the good stream still loads */
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), 0);
    assert_int_equal(fx_in(b.fx, 0xcf9, 1), 2);
    snap_writer_free(&w);
    bed_down(&a);
    bed_down(&b);
}

static void test_all_or_nothing(void **state)
{
    struct bed a, b;
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];

    bed_up(&a);
    drive(a.fx);
    save(&a, &w);
    /* truncated at every offset: refused, and the machine untouched */
    bed_up(&b);
    for (size_t n = 0; n < w.len; n++) {
        struct snap_writer t = { .buf = malloc(n ? n : 1), .len = n };
        memcpy(t.buf, w.buf, n);
        assert_int_equal(load(&b, &t, msg, sizeof(msg)), -EINVAL);
        free(t.buf);
    }
    assert_int_equal(fx_in(b.fx, 0xcf9, 1), 0);
    assert_int_equal(fx_in(b.fx, COM1 + 7, 1), 0);
    assert_int_equal(b.fx->link[0], 0);
    /* the last device refuses: none of the earlier ones took their state */
    size_t at = field_value(&w, "offset");
    w.buf[at] = 0xff;
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device fw_cfg: field offset: 255 out of range [0, 4]");
    assert_int_equal(fx_in(b.fx, 0xcf9, 1), 0);
    assert_int_equal(fx_in(b.fx, COM1 + 7, 1), 0);
    snap_writer_free(&w);
    bed_down(&a);
    bed_down(&b);
}

static void test_sections_refused(void **state)
{
    static const char *const no_acpi[] = { "-xen-domid", "1", "-m", "16", "-serial", "null",
                                           "-serial", "none", "-serial", "null", "-smp", "2",
                                           "-no-acpi" };
    struct bed a, b;
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];

    /* a stream without piix4-acpi into a machine with it: missing */
    bed_up_argv(&a, no_acpi, (int)(sizeof(no_acpi) / sizeof(no_acpi[0])));
    save(&a, &w);
    bed_up(&b);
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device piix4-acpi: missing from the stream (found xen-platform instead)");
    snap_writer_free(&w);
    /* and the other way: a section this machine has no device for */
    save(&b, &w);
    assert_int_equal(load(&a, &w, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device piix4-acpi: in the stream, not in this machine (configured differently)");

    /* an unknown device: rename xen-platform's section to a name no table has */
    size_t i;
    for (i = 0; i + 13 < w.len; i++)
        if (w.buf[i] == 12 && !memcmp(w.buf + i + 1, "xen-platform", 12))
            break;
    memcpy(w.buf + i + 1, "xen-platfarm", 12);
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device xen-platfarm: unknown device");
    memcpy(w.buf + i + 1, "xen-platform", 12);
    /* another state version of a device */
    w.buf[i + 13] = 9;
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device xen-platform: state version 9 in the stream, this hvmd reads version 1");
    w.buf[i + 13] = 1;
    /* a section too many after the last: the end marker replaced by a copy of a section */
    assert_int_equal(load(&b, &w, msg, sizeof(msg)), 0);
    struct snap_writer x;
    snap_writer_init(&x);
    uint8_t *tail = malloc(w.len + 64);
    memcpy(tail, w.buf, w.len - 1);
    size_t n = w.len - 1;
    static const uint8_t extra[] = { 9, 'd', 'e', 'b', 'u', 'g', 'p', 'o', 'r', 't', 1, 0, 0, 0,
                                     0, 0, 0, 0, 0 };
    memcpy(tail + n, extra, sizeof(extra));
    x.buf = tail;
    x.len = n + sizeof(extra);
    assert_int_equal(load(&b, &x, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "device debugport: a second section");
    free(tail);
    snap_writer_free(&w);
    bed_down(&a);
    bed_down(&b);
}

/* ---- the PCI helper: BARs, INTx, MSI, read-only bytes ---- */

static uint64_t zero_read(void *opaque, uint64_t off, unsigned size) { return 0x5a; }
static void zero_write(void *opaque, uint64_t off, unsigned size, uint64_t val) {}
static const struct io_ops zero_ops = { .read = zero_read, .write = zero_write };

static struct pci_dev *test_fn(struct fakexen *fx, uint16_t device)
{
    struct pci_dev *d = pci_dev_new(fx->vm.pci, PCI_DEVFN(5, 0), "test", 0x1234, device,
                                    0x020000, 1, NULL, NULL);
    assert_non_null(d);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_IO, 0x20, &zero_ops, NULL), 0);
    assert_int_equal(pci_bar_init(d, 2, PCI_BAR_MEM64, 0x1000, &zero_ops, NULL), 0);
    pci_set8(d, PCI_INTERRUPT_PIN, 1);
    assert_true(pci_msi_init(d) >= 0);
    assert_int_equal(pci_dev_add(d), 0);
    return d;
}

static void test_pci_state(void **state)
{
    struct fakexen *fa = fx_new(1 << 20), *fb = fx_new(1 << 20), *fc = fx_new(1 << 20);
    struct pci_dev *a = test_fn(fa, 0x5678), *b = test_fn(fb, 0x5678), *c = test_fn(fc, 0x5679);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), 0x10, 4, 0xd001);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), 0x18, 4, 0x00000000);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), 0x1c, 4, 0x00000010); /* 64 GiB */
    fx_cfg_write(fa, PCI_DEVFN(5, 0), 0x04, 2, 0x7);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), 0x3c, 1, 11);
    pci_set_irq(a, 1);
    unsigned msi = a->msi_cap;
    fx_cfg_write(fa, PCI_DEVFN(5, 0), msi + 4, 4, 0xfee00000);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), msi + 12, 2, 0x41);
    fx_cfg_write(fa, PCI_DEVFN(5, 0), msi + 16, 4, 1); /* masked */
    fx_cfg_write(fa, PCI_DEVFN(5, 0), msi + 2, 2, 1);  /* enabled */
    pci_msi_notify(a);                                 /* held back: pending */
    assert_int_equal(fa->n_msi, 0);

    struct snap_writer w;
    struct snap_reader r;
    struct pci_dev_state st;
    char dev[SNAP_NAME_MAX + 1];
    uint32_t ver;
    snap_writer_init(&w);
    snap_put_header(&w);
    snap_section_begin(&w, "test", 1);
    pci_dev_save(a, &w);
    snap_section_end(&w);
    snap_put_end(&w);

    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(pci_dev_load(b, &r, &st), 0);
    assert_int_equal(snap_section_close(&r), 0);
    assert_false(fx_claimed(fb, HV_PIO, 0xd000, 0xd01f)); /* nothing before the commit */
    pci_dev_commit(b, &st);
    assert_true(fx_claimed(fb, HV_PIO, 0xd000, 0xd01f));
    assert_true(fx_claimed(fb, HV_MMIO, 0x1000000000ull, 0x1000000fffull));
    assert_int_equal(fx_in(fb, 0xd004, 1), 0x5a);
    assert_int_equal(fb->intx[5][0], 1);
    assert_int_equal(fx_cfg_read(fb, PCI_DEVFN(5, 0), 0x3c, 1), 11);
    for (unsigned reg = 0; reg < 256; reg += 4)
        assert_int_equal(fx_cfg_read(fa, PCI_DEVFN(5, 0), reg, 4),
                         fx_cfg_read(fb, PCI_DEVFN(5, 0), reg, 4));
    /* the pending message goes out when the guest unmasks, as it would have on the first */
    fx_cfg_write(fb, PCI_DEVFN(5, 0), msi + 16, 4, 0);
    assert_int_equal(fb->n_msi, 1);
    assert_int_equal(fb->msi[0].data, 0x41);

    /* another device ID: a read-only byte differs */
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(pci_dev_load(c, &r, &st), -EINVAL);
    assert_string_equal(snap_error(&r), "device test: field pci.config: byte 0x2 is 0x78, 0x79 "
                                        "here: bits 0x1 are read-only");
    /* a BAR's type bits are read-only too */
    size_t at = field_value(&w, "pci.config");
    w.buf[at + 0x10] = 0x00;
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(snap_get_header(&r), 0);
    assert_int_equal(snap_section_open(&r, dev, &ver), 1);
    assert_int_equal(pci_dev_load(b, &r, &st), -EINVAL);
    assert_string_equal(snap_error(&r), "device test: field pci.config: byte 0x10 is 0, 0x1 "
                                        "here: bits 0x1 are read-only");
    snap_writer_free(&w);
    fx_free(fa);
    fx_free(fb);
    fx_free(fc);
}

static void quiet(void *opaque, enum log_level level, const char *line) {}

/* HVMD_WRITE_SEEDS=DIR: write real saves (a fresh machine, a driven one) as the seeds of
 * tests/fuzz/fuzz_snapshot, whose machine has this file's std_argv. */
static void write_seeds(const char *dir)
{
    struct bed b;
    struct snap_writer w;
    char path[4096];
    for (int driven = 0; driven < 2; driven++) {
        bed_up(&b);
        if (driven)
            drive(b.fx);
        save(&b, &w);
        snprintf(path, sizeof(path), "%s/%s", dir, driven ? "driven" : "fresh");
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(w.buf, 1, w.len, f), w.len);
        fclose(f);
        snap_writer_free(&w);
        bed_down(&b);
    }
}

static void test_write_seeds(void **state)
{
    const char *dir = getenv("HVMD_WRITE_SEEDS");
    if (dir)
        write_seeds(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_left_over_and_missing_fields),
        cmocka_unit_test(test_machine_round_trip),
        cmocka_unit_test(test_device_fields_refused),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_sections_refused),
        cmocka_unit_test(test_pci_state),
        cmocka_unit_test(test_write_seeds),
    };
    log_set_sink(quiet, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

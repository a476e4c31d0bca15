/* SPDX-License-Identifier: GPL-2.0-only */
/* Save, restore and migration (issue 17), through the in-process ioreq source:
 * - an IDE DMA write and a DMA read on a direct-I/O disk, in flight when the state is saved:
 *   the save completes them (the image holds the data, guest RAM the read), and the function
 *   loaded from the stream shows them complete and issues no request again;
 * - QMP xen-save-devices-state into an add-fd descriptor (as libxl's qemu-save.D, without
 *   O_TRUNC: a longer old file is truncated), then a whole machine created with
 *   -incoming fd:N loads it (dm/savestate.h), VGA video RAM mapped where Xen's memory stream
 *   left it rather than carried in the stream; its own save is byte for byte the same;
 * - every refusal: a truncated stream (at each length), a corrupted field, a newer format,
 *   a newer device version, a QEMU stream, an empty file: each named, the machine untouched;
 * - xen-set-global-dirty-log: the pages hvmd writes are reported modified while it is on;
 * - query-status "paused" after -incoming with -S, as libxl's dm_restrict start checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/display.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/mem.h"
#include "dm/qmp.h"
#include "dm/sandbox.h"
#include "dm/savestate.h"
#include "dm/snapshot.h"
#include "devices/ide/piix.h"
#include "tests/lib/ide_guest.h"
#include "tests/lib/machine.h"

/* ---- in-flight DMA ---- */

static struct ideg *direct(void)
{
    struct ideg_opts o = { .disk_sectors = 8192, .cd_sectors = 64, .cache = BLK_CACHE_NONE };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    assert_true(blk_direct(piix_ide_drive(g->ide, 0)->blk));
    return g;
}

static void read_image(const char *path, uint64_t lba, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)(lba * 512)), (ssize_t)len);
    close(fd);
}

/* WRITE DMA of 128 sectors at 1000, the engine started: the request is in the kernel's hands
 * when the save comes. The save waits for it; the stream holds a finished command; the
 * function loaded from it (a new host, the same image) writes nothing again. */
static void test_dma_write_in_flight(void **state)
{
    (void)state;
    struct ideg *a = direct(), *b = direct();
    struct ide_drive *da = piix_ide_drive(a->ide, 0);
    const struct blk_stats *bs = blk_stats(piix_ide_drive(b->ide, 0)->blk);
    for (unsigned i = 0; i < 128 * 512; i++)
        a->fx->ram[G_BUF + i] = (uint8_t)(i * 13 + 5);
    ideg_out(a, PRI_CTL, 0);
    struct ideg_prd e[] = { { G_BUF, 0x10000, 1 } };
    ideg_prd_table(a, G_PRD, e, 1);
    ideg_bm_setup(a, 0, G_PRD, 0);
    ideg_lba28(a, PRI, 0, 1000, 128);
    ideg_out(a, PRI + 7, 0xca);
    ideg_bm_start(a, 0, 0);
    if (!da->io_busy)
        fail_msg("not in flight: status %#x", ideg_alt(a, PRI));
    uint64_t writes0 = blk_stats(da->blk)->writes;

    struct snap_writer w;
    assert_int_equal(ideg_save(a, &w), 0);
    assert_int_equal(da->io_busy, 0);
    assert_int_equal(blk_stats(da->blk)->writes, writes0 + 1); /* done, once */
    uint8_t img[0x10000];
    read_image(a->disk, 1000, img, sizeof(img));
    assert_memory_equal(img, a->fx->ram + G_BUF, sizeof(img));

    memcpy(b->fx->ram, a->fx->ram, G_RAM);
    uint64_t bw = bs->writes, br = bs->reads;
    /* the restored domain has another id, which hvmd's default serial names: the drive keeps
     * the serial the guest knows (Linux revalidates its drives on resume and takes a drive
     * with another serial offline) */
    snprintf(piix_ide_drive(b->ide, 0)->serial, IDE_SERIAL_LEN + 1, "HVMD00990");
    char msg[SNAP_MSG_MAX];
    if (ideg_load(b, &w, msg, sizeof(msg)) < 0)
        fail_msg("load refused: %s", msg);
    assert_string_equal(piix_ide_drive(b->ide, 0)->serial, da->serial);
    snap_writer_free(&w);
    for (int i = 0; i < 20; i++)
        loop_run_once(b->fx->loop, 1);
    /* complete, as the guest left it: DRDY, the interrupt, the engine's interrupt bit */
    assert_int_equal(ideg_alt(b, PRI), 0x50);
    assert_int_equal(ideg_irq(b, PRI), 1);
    assert_int_equal(ideg_bm_status(b, 0) & 0x05, 0x04);
    assert_int_equal(bs->writes, bw); /* nothing written again */
    assert_int_equal(bs->reads, br);
    ideg_bm_stop(b, 0);
    assert_int_equal(ideg_status(b, PRI), 0x50);
    ideg_free(a);
    ideg_free(b);
}

/* READ DMA of 128 sectors in flight at the save: the data is in guest RAM before the stream
 * is written (so the memory stream, copied after, carries it), and nothing is read again. */
static void test_dma_read_in_flight(void **state)
{
    (void)state;
    struct ideg *a = direct(), *b = direct();
    struct ide_drive *da = piix_ide_drive(a->ide, 0);
    const struct blk_stats *bs = blk_stats(piix_ide_drive(b->ide, 0)->blk);
    ideg_out(a, PRI_CTL, 0);
    struct ideg_prd e[] = { { G_BUF, 0x10000, 1 } };
    ideg_prd_table(a, G_PRD, e, 1);
    ideg_bm_setup(a, 0, G_PRD, 1);
    ideg_lba28(a, PRI, 0, 2000, 128);
    ideg_out(a, PRI + 7, 0xc8);
    ideg_bm_start(a, 0, 1);
    assert_int_equal(da->io_busy, 1);
    struct snap_writer w;
    assert_int_equal(ideg_save(a, &w), 0);
    assert_int_equal(ideg_check(a->fx->ram + G_BUF, 2000, 128, 512, 0), 0);
    memcpy(b->fx->ram, a->fx->ram, G_RAM);
    uint64_t br = bs->reads;
    char msg[SNAP_MSG_MAX];
    if (ideg_load(b, &w, msg, sizeof(msg)) < 0)
        fail_msg("load refused: %s", msg);
    snap_writer_free(&w);
    for (int i = 0; i < 20; i++)
        loop_run_once(b->fx->loop, 1);
    assert_int_equal(ideg_alt(b, PRI), 0x50);
    assert_int_equal(ideg_irq(b, PRI), 1);
    assert_int_equal(ideg_bm_status(b, 0) & 0x05, 0x04);
    assert_int_equal(bs->reads, br);
    assert_int_equal(ideg_check(b->fx->ram + G_BUF, 2000, 128, 512, 0), 0);
    ideg_free(a);
    ideg_free(b);
}

/* ---- the whole machine through QMP and -incoming ---- */

struct bed {
    struct fx_machine m;
    struct qmp *qmp;
    struct qmp_conn *c;
    char out[65536];
    size_t outlen;
};

static int op_save(void *o, int fd, int live, char *err, size_t errlen)
{
    (void)live;
    return savestate_write(&((struct bed *)o)->m.m, fd, NULL, err, errlen);
}
static int op_load(void *o, int fd, char *err, size_t errlen)
{
    return savestate_read(&((struct bed *)o)->m.m, fd, NULL, err, errlen);
}
static void op_dirty(void *o, int on) { mem_set_dirty_log(((struct bed *)o)->m.fx->vm.mem, on); }
static void op_nop(void *o) { (void)o; }
static const struct qmp_ops ops = { .stop = op_nop, .cont = op_nop, .quit = op_nop,
                                    .save = op_save, .load = op_load, .dirty_log = op_dirty };

static void collect(void *opaque, const char *data, size_t n)
{
    struct bed *b = opaque;
    if (b->outlen + n < sizeof(b->out)) {
        memcpy(b->out + b->outlen, data, n);
        b->outlen += n;
        b->out[b->outlen] = 0;
    }
}

/* The machine (with a VGA of 4 MiB and an IDE disk) and a QMP connection to it. */
static struct bed *bed_up(const char *incoming, int stopped)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256];
    const char *extra[8] = { "-device", "VGA,vgamem_mb=4" };
    int n = 2;
    if (incoming) {
        extra[n++] = "-incoming";
        extra[n++] = incoming;
    }
    if (stopped)
        extra[n++] = "-S";
    assert_non_null(b);
    if (fx_machine_up(&b->m, extra, n, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    if (stopped)
        b->m.fx->vm.running = 0;
    b->qmp = qmp_new(&b->m.fx->vm, &b->m.cfg, &ops, b, err, sizeof(err));
    assert_non_null(b->qmp);
    b->c = qmp_conn_new(b->qmp, collect, b);
    const char *caps = "{\"execute\": \"qmp_capabilities\"}";
    assert_int_equal(qmp_conn_input(b->c, caps, strlen(caps)), 0);
    return b;
}

static void bed_down(struct bed *b)
{
    qmp_conn_free(b->c);
    qmp_free(b->qmp);
    fx_machine_down(&b->m);
    free(b);
}

/* Send CMD; the reply (what came after). */
static const char *qmp(struct bed *b, const char *cmd)
{
    size_t at = b->outlen;
    assert_int_equal(qmp_conn_input(b->c, cmd, strlen(cmd)), 0);
    return b->out + at;
}

/* The guest's work on machine B: VGA text, a VBE register, and
 * the BARs as hvmloader sets them. */
#define VGA_DF PCI_DEVFN(2, 0)
#define LFB 0xe0000000u
static void guest_work(struct fakexen *fx)
{
    fx_cfg_write(fx, VGA_DF, 0x10, 4, LFB);
    fx_cfg_write(fx, VGA_DF, PCI_COMMAND, 2, 3);
    fx_out(fx, 0x3c2, 1, 0x67);
    fx_out(fx, 0x3c4, 2, 0x0302); /* map mask: planes 0, 1 */
    fx_out(fx, 0x3ce, 2, 0x1005); /* odd/even */
    fx_out(fx, 0x3ce, 2, 0x0e06); /* b8000, odd/even */
    fx_out(fx, 0x3c4, 2, 0x0004);
    fx_mmio_write(fx, 0xb8000, 2, 0x1f41);
    fx_out(fx, 0x1ce, 2, 1);
    fx_out(fx, 0x1cf, 2, 800); /* VBE xres */
}

static struct snap_writer saved_of(struct machine *m)
{
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(machine_save(m, &w), 0);
    return w;
}

static void test_qmp_save_and_incoming(void **state)
{
    (void)state;
    struct bed *a = bed_up(NULL, 0);
    struct fakexen *fa = a->m.fx;
    guest_work(fa);
    /* as libxl: stop, add-fd of qemu-save.D opened without O_TRUNC (a longer file there) */
    char path[] = "build/hvmd-save-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char junk[1 << 16];
    memset(junk, 'J', sizeof(junk));
    for (int i = 0; i < 64; i++)
        assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_non_null(strstr(qmp(a, "{\"execute\": \"stop\"}"), "\"return\""));
    char fdpath[64];
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    int wfd = open(fdpath, O_WRONLY); /* as libxl opens it */
    assert_true(wfd >= 0);
    qmp_conn_pass_fd(a->c, wfd);
    assert_non_null(strstr(qmp(a, "{\"execute\": \"add-fd\"}"), "\"fdset-id\""));
    const char *rep = qmp(a, "{\"execute\": \"xen-save-devices-state\", \"arguments\": "
                             "{\"filename\": \"/dev/fdset/0\", \"live\": false}}");
    if (!strstr(rep, "\"return\"") || strstr(rep, "\"error\""))
        fail_msg("save: %s", rep);
    struct snap_writer want = saved_of(&a->m.m);
    off_t size = lseek(fd, 0, SEEK_END);
    assert_int_equal(size, (off_t)want.len); /* the old bytes are gone */
    /* small: video RAM is guest memory and goes with Xen's memory stream */
    assert_true(size < 64 * 1024);
    /* a save to a path hvmd cannot open: an error naming it */
    rep = qmp(a, "{\"execute\": \"xen-save-devices-state\", \"arguments\": "
                 "{\"filename\": \"/dev/fdset/9\"}}");
    assert_non_null(strstr(rep, "no such descriptor set"));

    /* the restored domain: Xen has put its RAM and video RAM back; hvmd starts with
     * -incoming fd:N and loads the stream before the guest runs */
    struct bed *b = bed_up("fd:99", 1);
    struct fakexen *fb = b->m.fx;
    assert_null(fb->vram.mem); /* a restoring VGA populates nothing */
    memcpy(fb->ram, fa->ram, 64 << 20);
    assert_int_equal(fx_vram_restore(fb, fa->vram.gfn, fa->vram.mem, fa->vram.n), 0);
    /* ... and the VGA's text window pages, wherever they were (parked or at 0xb8000) */
    assert_non_null(fa->vram_more[0].mem);
    assert_int_equal(fx_vram_restore(fb, fa->vram_more[0].gfn, fa->vram_more[0].mem,
                                     fa->vram_more[0].n), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    char err[400];
    struct savestate_stats st;
    if (savestate_read(&b->m.m, fd, &st, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_int_equal(st.bytes, want.len);
    struct snap_writer got = saved_of(&b->m.m);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.buf, want.buf, want.len);
    /* the guest sees its machine: text in the window, VBE, video RAM at the BAR */
    assert_int_equal(fx_mmio_read(fb, 0xb8000, 2), 0x1f41);
    fx_out(fb, 0x1ce, 2, 1);
    assert_int_equal(fx_in(fb, 0x1cf, 2), 800);
    assert_int_equal(fb->vram.gfn, LFB >> 12);
    fx_mmio_write(fb, LFB + 4096, 4, 0x11223344);
    assert_int_equal(((uint32_t *)fb->vram.mem)[1024], 0x11223344);
    /* libxl's dm_restrict start checks the run state: paused, not prelaunch */
    assert_non_null(strstr(qmp(b, "{\"execute\": \"query-status\"}"), "paused"));
    /* and xen-load-devices-state into the stopped machine takes the same stream */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    int rfd = open(fdpath, O_RDONLY);
    assert_true(rfd >= 0);
    qmp_conn_pass_fd(b->c, rfd);
    qmp(b, "{\"execute\": \"add-fd\"}");
    rep = qmp(b, "{\"execute\": \"xen-load-devices-state\", \"arguments\": "
                 "{\"filename\": \"/dev/fdset/0\"}}");
    if (!strstr(rep, "\"return\"") || strstr(rep, "\"error\""))
        fail_msg("load: %s", rep);
    snap_writer_free(&got);
    snap_writer_free(&want);
    close(fd);
    bed_down(a);
    bed_down(b);
}

/* ---- refusals ---- */

/* Load BYTES into a fresh machine through a descriptor: the error, and the machine untouched
 * (its state saved before and after is the same). */
static int refused(const void *bytes, size_t len, char *err, size_t errlen)
{
    struct bed *b = bed_up(NULL, 1);
    struct snap_writer before = saved_of(&b->m.m);
    int fd = memfd_create("state", 0);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    int r = savestate_read(&b->m.m, fd, NULL, err, errlen);
    close(fd);
    struct snap_writer after = saved_of(&b->m.m);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.buf, before.buf, before.len);
    snap_writer_free(&before);
    snap_writer_free(&after);
    bed_down(b);
    return r;
}

static void expect(const void *bytes, size_t len, const char *what)
{
    char err[400];
    if (refused(bytes, len, err, sizeof(err)) != -EINVAL)
        fail_msg("taken: %zu bytes (%s)", len, what);
    if (!strstr(err, what))
        fail_msg("expected \"%s\" in \"%s\"", what, err);
}

/* Where field NAME's value starts in W (after u8 type, u32 size). */
static size_t field_at(const struct snap_writer *w, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 1; i + n + 5 < w->len; i++)
        if (w->buf[i - 1] == n && !memcmp(w->buf + i, name, n))
            return i + n + 5;
    fail_msg("no field %s", name);
    return 0;
}

static void test_refusals(void **state)
{
    (void)state;
    struct bed *a = bed_up(NULL, 0);
    guest_work(a->m.fx);
    struct snap_writer w = saved_of(&a->m.m);
    bed_down(a);
    uint8_t *p = malloc(w.len);

    /* truncated anywhere: refused (every length up to the first sections, then a sample) */
    for (size_t len = 0; len < w.len; len += len < 600 ? 1 : 97) {
        char err[400];
        if (refused(w.buf, len, err, sizeof(err)) != -EINVAL)
            fail_msg("a stream cut at %zu of %zu bytes was taken", len, w.len);
        if (len > 18 && !strstr(err, "device "))
            fail_msg("cut at %zu: the message names no device: %s", len, err);
    }
    expect(w.buf, w.len - 1, "device state refused");
    /* a field out of range: named with its device */
    memcpy(p, w.buf, w.len);
    p[field_at(&w, "sr_index")] = 9;
    expect(p, w.len, "device vga: field sr_index");
    memcpy(p, w.buf, w.len);
    p[field_at(&w, "vram_gfn") + 4] = 0x10; /* far above the PCI hole */
    expect(p, w.len, "device vga: field vram_gfn");
    memcpy(p, w.buf, w.len);
    p[field_at(&w, "ch0.d0.serial") + 2] = 0x07;
    expect(p, w.len, "device ide: field ch0.d0.serial: byte 2 is 0x7");
    /* a corrupted name: the field asked for is not there */
    memcpy(p, w.buf, w.len);
    p[field_at(&w, "sr_index") - 6] ^= 0x20;
    expect(p, w.len, "field sr_index");
    /* a newer format, a newer device version */
    memcpy(p, w.buf, w.len);
    p[SNAP_MAGIC_LEN] = SNAP_FORMAT_VERSION + 1;
    expect(p, w.len, "format version 2");
    memcpy(p, w.buf, w.len);
    /* the vga section's version: after its name */
    for (size_t i = SNAP_MAGIC_LEN + 4; i + 4 < w.len; i++)
        if (w.buf[i] == 3 && !memcmp(w.buf + i + 1, "vga", 3)) {
            p[i + 4] = 99;
            break;
        }
    expect(p, w.len, "device vga: state version 99");
    /* a QEMU stream, nothing at all, garbage after the end */
    expect("QEVM\0\0\0\3", 8, "QEMU migration stream");
    expect("", 0, "too short");
    uint8_t *longer = malloc(w.len + 1);
    memcpy(longer, w.buf, w.len);
    longer[w.len] = 0;
    expect(longer, w.len + 1, "refused");
    free(longer);
    free(p);
    snap_writer_free(&w);
}

/* ---- migration's dirty log ---- */

static void test_dirty_log(void **state)
{
    (void)state;
    struct bed *b = bed_up(NULL, 0);
    struct fakexen *fx = b->m.fx;
    struct mem *mem = fx->vm.mem;
    uint8_t buf[8192] = { 1 };
    assert_int_equal(mem_write(mem, 0x200800, buf, sizeof(buf)), 0);
    assert_int_equal(fx->modified_pages, 0);
    assert_non_null(strstr(qmp(b, "{\"execute\": \"xen-set-global-dirty-log\", \"arguments\": "
                                  "{\"enable\": true}}"), "\"return\""));
    assert_int_equal(mem_write(mem, 0x200800, buf, sizeof(buf)), 0);
    assert_int_equal(fx->modified_pages, 3); /* 0x200800-0x2027ff: three pages */
    assert_int_equal(fx->modified_last, 0x200);
    /* a pinned transfer (disk DMA) is reported when it ends */
    struct mem_pin pin;
    assert_int_equal(mem_pin(mem, 0x300000, 4096, &pin), 0);
    mem_unpin(mem, &pin);
    assert_int_equal(fx->modified_pages, 4);
    assert_int_equal(fx->modified_last, 0x300);
    /* the VGA's writes to video RAM in guest memory through the legacy window */
    guest_work(fx);
    assert_true(fx->modified_pages > 4);
    assert_true(fx->modified_last >= fx->vram.gfn && fx->modified_last < fx->vram.gfn + fx->vram.n);
    uint64_t n = fx->modified_pages;
    qmp(b, "{\"execute\": \"xen-set-global-dirty-log\", \"arguments\": {\"enable\": false}}");
    assert_int_equal(mem_write(mem, 0x200800, buf, sizeof(buf)), 0);
    guest_work(fx);
    assert_int_equal(fx->modified_pages, n);
    /* its argument is required */
    assert_non_null(strstr(qmp(b, "{\"execute\": \"xen-set-global-dirty-log\"}"), "error"));
    bed_down(b);
}

/* The QMP save path under hvmd's seccomp filter (it runs after hvmd entered it): stop, add-fd,
 * xen-save-devices-state into a file longer than the stream (ftruncate), the dirty log on and
 * off around a DMA write, xen-load-devices-state, cont. A call outside the allow-list kills
 * the child with SIGSYS. */
static void test_save_sandboxed(void **state)
{
    (void)state;
    char path[] = "build/hvmd-save-sb-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char junk[4096];
    memset(junk, 'J', sizeof(junk));
    for (int i = 0; i < 64; i++)
        assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    close(fd);
    int wfd = open(path, O_WRONLY), rfd = open(path, O_RDONLY);
    assert_true(wfd >= 0 && rfd >= 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[300];
        struct bed *b = bed_up(NULL, 0);
        guest_work(b->m.fx);
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(5);
        static const char *const ok[] = {
            "{\"execute\": \"stop\"}",
            "{\"execute\": \"xen-set-global-dirty-log\", \"arguments\": {\"enable\": true}}",
            "{\"execute\": \"add-fd\"}",
            "{\"execute\": \"xen-save-devices-state\", \"arguments\": "
            "{\"filename\": \"/dev/fdset/0\", \"live\": true}}",
            "{\"execute\": \"xen-set-global-dirty-log\", \"arguments\": {\"enable\": false}}",
            "{\"execute\": \"add-fd\"}",
            "{\"execute\": \"xen-load-devices-state\", \"arguments\": "
            "{\"filename\": \"/dev/fdset/1\"}}",
            "{\"execute\": \"cont\"}",
        };
        for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
            if (i == 2)
                qmp_conn_pass_fd(b->c, wfd);
            if (i == 5)
                qmp_conn_pass_fd(b->c, rfd);
            if (i == 2) {
                uint8_t v = 1;
                if (mem_write(b->m.fx->vm.mem, 0x100000, &v, 1) < 0)
                    _exit(6);
            }
            const char *rep = qmp(b, ok[i]);
            if (!strstr(rep, "\"return\"") || strstr(rep, "\"error\"")) {
                fprintf(stderr, "%s -> %s\n", ok[i], rep);
                _exit(7);
            }
        }
        if (b->m.fx->modified_pages == 0)
            _exit(8);
        fflush(NULL);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    close(wfd);
    close(rfd);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: the save path made a system call outside hvmd's allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed save failed (status %#x)", st);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 12 && sb.st_size < 64 * 1024); /* the stream, the old bytes gone */
    char head[8];
    fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, head, 8), 8);
    assert_memory_equal(head, SNAP_MAGIC, 8);
    close(fd);
    unlink(path);
}

/* -incoming forms: fd:N and file:PATH; anything else refused naming it */
static void test_incoming_option(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    const char *a1[] = { "-xen-domid", "1", "-m", "16", "-incoming", "fd:7" };
    assert_int_equal(config_parse(&cfg, 6, a1, err, sizeof(err)), 0);
    assert_int_equal(cfg.incoming_fd, 7);
    assert_string_equal(cfg.incoming, "fd:7");
    config_free(&cfg);
    const char *a2[] = { "-xen-domid", "1", "-m", "16", "-incoming",
                         "file:/var/lib/xen/qemu-resume.3" };
    assert_int_equal(config_parse(&cfg, 6, a2, err, sizeof(err)), 0);
    assert_string_equal(cfg.incoming_path, "/var/lib/xen/qemu-resume.3");
    assert_int_equal(cfg.incoming_fd, -1);
    config_free(&cfg);
    const char *bad[] = { "tcp:0:4444", "fd:", "fd:x", "defer", "exec:cat" };
    for (unsigned i = 0; i < 5; i++) {
        const char *a3[] = { "-xen-domid", "1", "-m", "16", "-incoming", bad[i] };
        assert_int_equal(config_parse(&cfg, 6, a3, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "-incoming"));
    }
    const char *a4[] = { "-xen-domid", "1", "-m", "16" };
    assert_int_equal(config_parse(&cfg, 4, a4, err, sizeof(err)), 0);
    assert_null(cfg.incoming);
    assert_int_equal(cfg.incoming_fd, -1);
    config_free(&cfg);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dma_write_in_flight),
        cmocka_unit_test(test_dma_read_in_flight),
        cmocka_unit_test(test_qmp_save_and_incoming),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_dirty_log),
        cmocka_unit_test(test_incoming_option),
        cmocka_unit_test(test_save_sandboxed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

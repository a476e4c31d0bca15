/* SPDX-License-Identifier: GPL-2.0-only */
/* The error policy for host I/O errors (dm/block.h werror / rerror, dm/vm.h): an IDE disk's
 * host write fails with ENOSPC (injected through dm/block's error injection) under
 * werror=enospc: the request is kept, the domain paused (the fake hypervisor's pause count),
 * QMP says io-error with BLOCK_IO_ERROR and STOP; QMP cont retries it once the space is back
 * and the guest sees the command complete, nothing lost or written twice, flushed data intact;
 * a retry that fails again stays paused; xl unpause's order (cont on libxl's socket, then the
 * unpause) leaves the pause count right; reads under rerror=stop; a failed flush is stopped
 * once and then reported; a reset drops a kept request; report is unchanged; and the
 * -drive / -io-error options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dm/config.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "tests/lib/capture.h"
#include "tests/lib/ide_guest.h"

struct bed {
    struct ideg *g;
    struct config cfg;
    struct qmp *qmp;
    struct qmp_conn *c;
    struct fx_capture out;
};

static struct bed *bed_new(const struct ideg_opts *o)
{
    struct bed *b = calloc(1, sizeof(*b));
    const char *argv[] = { "-xen-domid", "3", "-m", "64" };
    char err[256];
    assert_non_null(b);
    b->g = ideg_new(o);
    assert_non_null(b->g);
    ideg_out(b->g, PRI_CTL, 0);
    assert_int_equal(config_parse(&b->cfg, 4, argv, err, sizeof(err)), 0);
    b->qmp = qmp_new(&b->g->fx->vm, &b->cfg, NULL, NULL, err, sizeof(err));
    assert_non_null(b->qmp);
    b->g->fx->vm.qmp = b->qmp;
    b->c = qmp_conn_new(b->qmp, fx_capture_bytes, &b->out);
    assert_non_null(b->c);
    const char *cap = "{\"execute\":\"qmp_capabilities\"}";
    assert_int_equal(qmp_conn_input(b->c, cap, strlen(cap)), 0);
    return b;
}

static void bed_free(struct bed *b)
{
    qmp_conn_free(b->c);
    piix_ide_free(b->g->ide); /* before QMP goes: a kept request is forgotten */
    b->g->ide = NULL;
    qmp_free(b->qmp);
    b->g->fx->vm.qmp = NULL;
    config_free(&b->cfg);
    ideg_free(b->g);
    free(b);
}

static const char *qmp(struct bed *b, const char *json)
{
    b->out.len = 0;
    b->out.text[0] = 0;
    assert_int_equal(qmp_conn_input(b->c, json, strlen(json)), 0);
    return b->out.text;
}

static struct blk *disk(struct bed *b)
{
    return piix_ide_drive(b->g->ide, 0)->blk;
}

static void file_read(struct bed *b, uint64_t lba, uint8_t *out, unsigned n)
{
    int fd = open(b->g->disk, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, out, 512u * n, (off_t)(lba * 512)), (ssize_t)(512u * n));
    close(fd);
}

/* WRITE DMA EXT (to_mem 0) or READ DMA EXT of N sectors at LBA from / to G_BUF. */
static void dma(struct bed *b, uint64_t lba, uint32_t n, int to_mem)
{
    struct ideg *g = b->g;
    struct ideg_prd e[8];
    uint32_t bytes = n * 512, i = 0;
    for (uint32_t off = 0; off < bytes; off += 0x10000, i++)
        e[i] = (struct ideg_prd){ G_BUF + off, MIN(bytes - off, 0x10000u), off + 0x10000 >= bytes };
    ideg_prd_table(g, G_PRD, e, i);
    ideg_bm_setup(g, 0, G_PRD, to_mem);
    ideg_lba48(g, PRI, 0, lba, n);
    ideg_out(g, PRI + 7, to_mem ? 0x25 : 0x35);
    ideg_bm_start(g, 0, to_mem);
}

/* The command ended well: status DRDY DSC, interrupt, bus master done. */
static void expect_done(struct bed *b)
{
    assert_int_equal(ideg_wait(b->g, PRI), 0x50);
    assert_int_equal(ideg_irq(b->g, PRI), 1);
    assert_int_equal(ideg_bm_status(b->g, 0) & 0x07, 0x04);
    ideg_bm_stop(b->g, 0);
    ideg_status(b->g, PRI); /* acknowledge */
}

/* The command is kept: BSY, no interrupt, the domain paused, QMP io-error. */
static void expect_kept(struct bed *b, unsigned pauses)
{
    ideg_run(b->g);
    assert_int_equal(ideg_alt(b->g, PRI) & 0x80, 0x80);
    assert_int_equal(ideg_irq(b->g, PRI), 0);
    assert_int_equal(b->g->fx->pause_count, pauses);
    assert_true(b->g->fx->vm.io_error);
    assert_non_null(strstr(qmp(b, "{\"execute\":\"query-status\",\"id\":7}"),
                           "{\"return\":{\"status\":\"io-error\",\"singlestep\":false,"
                           "\"running\":false},\"id\":7}"));
}

static void enospc_pauses_then_completes(enum blk_cache cache)
{
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .cache = cache,
                           .werror = BLK_POLICY_ENOSPC };
    struct bed *b = bed_new(&o);
    uint8_t *ram = b->g->fx->ram;
    uint8_t *sec = malloc(512 * 64);

    /* data the guest wrote and flushed before the disk filled up */
    for (unsigned s = 0; s < 16; s++)
        ideg_fill(ram + G_BUF + 512 * s, 7000 + s, 512, 3);
    dma(b, 100, 16, 0);
    expect_done(b);
    ideg_out(b->g, PRI + 7, 0xea); /* FLUSH CACHE EXT */
    assert_int_equal(ideg_wait(b->g, PRI), 0x50);
    ideg_status(b->g, PRI);
    uint64_t writes = blk_stats(disk(b))->writes;

    /* the host's disk is full: the write is kept, the guest paused */
    blk_inject_error(disk(b), BLK_WRITE, ENOSPC, 1);
    for (unsigned s = 0; s < 64; s++)
        ideg_fill(ram + G_BUF + 512 * s, 9000 + s, 512, 4);
    b->out.len = 0;
    b->out.text[0] = 0;
    dma(b, 1000, 64, 0);
    const char *ev = strstr(b->out.text, "\"event\":\"BLOCK_IO_ERROR\"");
    assert_non_null(ev);
    assert_non_null(strstr(ev, "\"data\":{\"device\":\"ide-768\",\"node-name\":\"ide-768\","
                               "\"operation\":\"write\",\"action\":\"stop\",\"nospace\":true,"
                               "\"reason\":\"No space left on device\"}"));
    assert_non_null(strstr(ev, "\"event\":\"STOP\""));
    expect_kept(b, 1);
    file_read(b, 1000, sec, 64);
    assert_int_equal(ideg_check(sec, 1000, 64, 512, 0), 0); /* nothing written yet */
    assert_int_equal(blk_stats(disk(b))->writes, writes);
    /* the guest's buffer may change while it is paused? It cannot: its vCPUs are stopped.
     * QMP queries do not disturb the kept request. */
    expect_kept(b, 1);

    /* space is back (the injection was for one request): cont retries it */
    const char *t = qmp(b, "{\"execute\":\"cont\",\"id\":8}");
    assert_non_null(strstr(t, "\"event\":\"RESUME\""));
    assert_non_null(strstr(t, "{\"return\":{},\"id\":8}"));
    assert_int_equal(b->g->fx->pause_count, 0);
    assert_int_equal(b->g->fx->unpauses, 1);
    assert_false(b->g->fx->vm.io_error);
    expect_done(b);
    assert_non_null(strstr(qmp(b, "{\"execute\":\"query-status\",\"id\":9}"),
                           "\"status\":\"running\",\"singlestep\":false,\"running\":true"));
    assert_int_equal(blk_stats(disk(b))->writes, writes + 1); /* once, not twice */
    assert_int_equal(blk_stats(disk(b))->bytes_written, (16 + 64) * 512u);

    /* a flush, then the file holds both writes */
    ideg_out(b->g, PRI + 7, 0xea);
    assert_int_equal(ideg_wait(b->g, PRI), 0x50);
    file_read(b, 1000, sec, 64);
    assert_int_equal(ideg_check(sec, 9000, 64, 512, 4), 0);
    file_read(b, 100, sec, 16);
    assert_int_equal(ideg_check(sec, 7000, 16, 512, 3), 0);
    file_read(b, 1064, sec, 1);
    assert_int_equal(ideg_check(sec, 1064, 1, 512, 0), 0); /* nothing past it */
    /* and the guest reads it back */
    memset(ram + G_BUF, 0, 512 * 64);
    dma(b, 1000, 64, 1);
    expect_done(b);
    assert_int_equal(ideg_check(ram + G_BUF, 9000, 64, 512, 4), 0);
    free(sec);
    bed_free(b);
}

static void test_enospc_stop_cont(void **state)
{
    (void)state;
    enospc_pauses_then_completes(BLK_CACHE_WRITEBACK);
}

static void test_enospc_stop_cont_direct(void **state)
{
    (void)state;
    enospc_pauses_then_completes(BLK_CACHE_NONE); /* the retry goes through libaio */
}

/* cont while the disk is still full: paused again (one pause held), then a later cont works */
static void test_cont_fails_again(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull,
                           .werror = BLK_POLICY_ENOSPC };
    struct bed *b = bed_new(&o);
    uint8_t sec[512 * 8];
    for (unsigned s = 0; s < 8; s++)
        ideg_fill(b->g->fx->ram + G_BUF + 512 * s, 500 + s, 512, 6);
    blk_inject_error(disk(b), BLK_WRITE, ENOSPC, 2);
    dma(b, 20, 8, 0);
    expect_kept(b, 1);
    b->out.len = 0;
    const char *t = qmp(b, "{\"execute\":\"cont\",\"id\":1}");
    assert_non_null(strstr(t, "\"action\":\"stop\""));
    assert_null(strstr(t, "RESUME"));
    expect_kept(b, 1);
    assert_int_equal(b->g->fx->pauses, 1);
    qmp(b, "{\"execute\":\"cont\",\"id\":2}");
    expect_done(b);
    assert_int_equal(b->g->fx->pause_count, 0);
    file_read(b, 20, sec, 8);
    assert_int_equal(ideg_check(sec, 500, 8, 512, 6), 0);
    bed_free(b);
}

/* xl unpause: cont on libxl's socket, then libxl unpauses the domain itself: hvmd hands its
 * pause over, and the count ends at 0 without a failed unpause */
static void test_xl_unpause_handover(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .werror = BLK_POLICY_STOP };
    struct bed *b = bed_new(&o);
    struct fakexen *fx = b->g->fx;
    blk_inject_error(disk(b), BLK_WRITE, EIO, 2);
    dma(b, 20, 8, 0);
    expect_kept(b, 1);
    /* still failing: hvmd adds a pause for libxl's unpause to take */
    vm_io_resume(&fx->vm, 1);
    assert_int_equal(fx->pause_count, 2);
    assert_int_equal(fx->hv.ops->pause(fx->hv.be, 0), 0); /* libxl */
    expect_kept(b, 1);
    /* works now: hvmd leaves the unpause to libxl */
    vm_io_resume(&fx->vm, 1);
    assert_int_equal(fx->pause_count, 1);
    assert_int_equal(fx->hv.ops->pause(fx->hv.be, 0), 0); /* libxl */
    assert_int_equal(fx->pause_count, 0);
    fx->vm.running = 1;
    expect_done(b);
    bed_free(b);
}

/* rerror=stop: a failed read is kept; after cont the guest gets the right data */
static void test_read_stop(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .rerror = BLK_POLICY_STOP };
    struct bed *b = bed_new(&o);
    uint8_t *ram = b->g->fx->ram;
    blk_inject_error(disk(b), BLK_READ, EIO, 1);
    memset(ram + G_BUF, 0, 512 * 32);
    b->out.len = 0;
    dma(b, 300, 32, 1);
    assert_non_null(strstr(b->out.text, "\"operation\":\"read\",\"action\":\"stop\","
                                        "\"nospace\":false,\"reason\":\"Input/output error\""));
    expect_kept(b, 1);
    qmp(b, "{\"execute\":\"cont\"}");
    expect_done(b);
    assert_int_equal(ideg_check(ram + G_BUF, 300, 32, 512, 0), 0);
    /* werror stays report: a write error goes to the guest */
    blk_inject_error(disk(b), BLK_WRITE, EIO, 1);
    dma(b, 300, 1, 0);
    assert_int_equal(ideg_wait(b->g, PRI), 0x41); /* DRDY ERR, as before */
    assert_int_equal(b->g->fx->pause_count, 0);
    bed_free(b);
}

/* werror=stop and a failed flush: stopped once; the flush cannot succeed later (a failed
 * fdatasync stays failed), so cont reports it to the guest instead of pausing it for good */
static void test_flush_stop_then_report(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .werror = BLK_POLICY_STOP };
    struct bed *b = bed_new(&o);
    blk_inject_error(disk(b), BLK_FLUSH, EIO, 1);
    ideg_out(b->g, PRI + 7, 0xe7); /* FLUSH CACHE */
    expect_kept(b, 1);
    b->out.len = 0;
    const char *t = qmp(b, "{\"execute\":\"cont\"}");
    assert_non_null(strstr(t, "\"operation\":\"write\",\"action\":\"report\""));
    assert_int_equal(ideg_wait(b->g, PRI) & 0x81, 0x01);
    assert_int_equal(ideg_irq(b->g, PRI), 1);
    assert_int_equal(b->g->fx->pause_count, 0);
    bed_free(b);
}

/* a reset while paused (QMP system_reset, SRST) drops the kept request: no retry after it */
static void test_reset_drops_kept(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .werror = BLK_POLICY_STOP };
    struct bed *b = bed_new(&o);
    uint8_t sec[512];
    for (unsigned s = 0; s < 4; s++)
        ideg_fill(b->g->fx->ram + G_BUF + 512 * s, 77 + s, 512, 9);
    blk_inject_error(disk(b), BLK_WRITE, EIO, 1);
    dma(b, 40, 4, 0);
    expect_kept(b, 1);
    ideg_bm_stop(b->g, 0);
    ideg_out(b->g, PRI_CTL, 0x04); /* SRST */
    ideg_out(b->g, PRI_CTL, 0x00);
    assert_null(b->g->fx->vm.kept);
    uint64_t writes = blk_stats(disk(b))->writes;
    qmp(b, "{\"execute\":\"cont\"}");
    assert_int_equal(blk_stats(disk(b))->writes, writes);
    assert_int_equal(b->g->fx->pause_count, 0);
    file_read(b, 40, sec, 1);
    assert_int_equal(ideg_check(sec, 40, 1, 512, 0), 0);
    bed_free(b);
}

/* report (the default) and enospc with another error: the guest gets the error, as before;
 * ignore: the command completes */
static void test_report_unchanged(void **state)
{
    (void)state;
    static const enum blk_policy pol[] = { BLK_POLICY_REPORT, BLK_POLICY_ENOSPC };
    for (unsigned i = 0; i < 2; i++) {
        struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .werror = pol[i] };
        struct bed *b = bed_new(&o);
        blk_inject_error(disk(b), BLK_WRITE, EIO, 1);
        b->out.len = 0;
        dma(b, 20, 8, 0);
        assert_non_null(strstr(b->out.text, "\"action\":\"report\",\"nospace\":false"));
        assert_int_equal(ideg_wait(b->g, PRI), 0x41); /* DRDY ERR, as before */
        assert_int_equal(ideg_in(b->g, PRI + 1), 0x04); /* ABRT */
        assert_int_equal(ideg_irq(b->g, PRI), 1);
        assert_int_equal(b->g->fx->pauses, 0);
        assert_false(b->g->fx->vm.io_error);
        assert_non_null(strstr(qmp(b, "{\"execute\":\"query-status\"}"), "\"running\":true"));
        ideg_bm_stop(b->g, 0);
        bed_free(b);
    }
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull, .rerror = BLK_POLICY_IGNORE };
    struct bed *b = bed_new(&o);
    blk_inject_error(disk(b), BLK_READ, EIO, 1);
    dma(b, 20, 8, 1);
    expect_done(b);
    assert_int_equal(b->g->fx->pauses, 0);
    bed_free(b);
}

/* a guest repeating a failing read cannot flood QMP with BLOCK_IO_ERROR */
static void test_report_events_limited(void **state)
{
    (void)state;
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = ~0ull };
    struct bed *b = bed_new(&o);
    blk_inject_error(disk(b), BLK_READ, EIO, 1000);
    b->out.len = 0;
    b->out.text[0] = 0;
    unsigned events = 0;
    for (unsigned i = 0; i < 200; i++) {
        size_t before = b->out.len;
        dma(b, 20, 1, 1);
        ideg_wait(b->g, PRI);
        ideg_bm_stop(b->g, 0);
        ideg_status(b->g, PRI);
        if (b->out.len != before)
            events++;
        if (b->out.len > 8000) {
            b->out.len = 0;
            b->out.text[0] = 0;
        }
    }
    assert_true(events >= 1 && events <= 10);
    bed_free(b);
}

/* libxl's -drive with werror= / rerror= (QEMU's syntax), and hvmd's -io-error default */
static void test_options(void **state)
{
    (void)state;
    char dir[200], img[256], d1[400], err[512];
    ideg_tmpdir(dir, sizeof(dir));
    snprintf(img, sizeof(img), "%s/d.img", dir);
    ideg_make_image(img, 64, 512, 0);
    static const struct {
        const char *io_error, *drive_extra;
        int ok;
        enum blk_policy w, r;
    } cases[] = {
        { NULL, "", 1, BLK_POLICY_REPORT, BLK_POLICY_REPORT },
        { NULL, ",werror=stop,rerror=report", 1, BLK_POLICY_STOP, BLK_POLICY_REPORT },
        { NULL, ",werror=enospc,rerror=ignore", 1, BLK_POLICY_ENOSPC, BLK_POLICY_IGNORE },
        { "stop", "", 1, BLK_POLICY_STOP, BLK_POLICY_STOP },
        { "werror=enospc", "", 1, BLK_POLICY_ENOSPC, BLK_POLICY_REPORT },
        { "werror=stop,rerror=stop", ",rerror=report", 1, BLK_POLICY_STOP, BLK_POLICY_REPORT },
        { NULL, ",werror=pause", 0, 0, 0 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        struct config cfg;
        struct machine m;
        const char *argv[12] = { "-xen-domid", "3", "-m", "64", "-drive", d1 };
        int argc = 6;
        snprintf(d1, sizeof(d1), "file=%s,if=ide,index=0,media=disk,format=raw,cache=writeback%s",
                 img, cases[i].drive_extra);
        if (cases[i].io_error) {
            argv[argc++] = "-io-error";
            argv[argc++] = cases[i].io_error;
        }
        assert_int_equal(config_parse(&cfg, argc, argv, err, sizeof(err)), 0);
        struct fakexen *fx = fx_new(48 << 20);
        fx->vm.cfg = &cfg;
        int r = machine_create(&m, &fx->vm, err, sizeof(err));
        assert_int_equal(r == 0, cases[i].ok);
        if (r == 0)
            machine_destroy(&m);
        fx_free(fx);
        config_free(&cfg);
        /* the policies themselves */
        if (cases[i].io_error) {
            assert_int_equal(config_parse(&cfg, argc, argv, err, sizeof(err)), 0);
            if (!strcmp(cases[i].drive_extra, ""))
                assert_true(cfg.werror == (int)cases[i].w && cfg.rerror == (int)cases[i].r);
            config_free(&cfg);
        }
    }
    const char *bad[] = { "-xen-domid", "3", "-io-error", "werror=halt" };
    struct config cfg;
    assert_int_equal(config_parse(&cfg, 4, bad, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-io-error"));
    unlink(img);
    rmdir(dir);
}

static void test_policy_action(void **state)
{
    (void)state;
    enum blk_policy p;
    assert_int_equal(blk_parse_policy("enospc", &p), 0);
    assert_int_equal(p, BLK_POLICY_ENOSPC);
    assert_int_equal(blk_policy_action(p, -ENOSPC), BLK_ACT_STOP);
    assert_int_equal(blk_policy_action(p, -EDQUOT), BLK_ACT_STOP);
    assert_int_equal(blk_policy_action(p, -EIO), BLK_ACT_REPORT);
    assert_int_equal(blk_policy_action(BLK_POLICY_STOP, -EIO), BLK_ACT_STOP);
    assert_int_equal(blk_policy_action(BLK_POLICY_IGNORE, -EIO), BLK_ACT_IGNORE);
    assert_int_equal(blk_policy_action(BLK_POLICY_REPORT, -ENOSPC), BLK_ACT_REPORT);
    assert_int_equal(blk_parse_policy("halt", &p), -EINVAL);
    assert_int_equal(blk_parse_policy(NULL, &p), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_action),
        cmocka_unit_test(test_enospc_stop_cont),
        cmocka_unit_test(test_enospc_stop_cont_direct),
        cmocka_unit_test(test_cont_fails_again),
        cmocka_unit_test(test_xl_unpause_handover),
        cmocka_unit_test(test_read_stop),
        cmocka_unit_test(test_flush_stop_then_report),
        cmocka_unit_test(test_reset_drops_kept),
        cmocka_unit_test(test_report_unchanged),
        cmocka_unit_test(test_report_events_limited),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The IDE function's state (devices/ide/piix.c, drive.c): a guest in the middle of a PIO read
 * on the primary channel, and of a CD-ROM packet waiting for the bus master on the secondary
 * (its PRD table programmed, the tray locked, sense pending), is saved and loaded into a fresh
 * function, where the guest carries on as if nothing happened; streams with a field out of
 * range or a drive the command line does not have are refused, naming the field, and leave
 * the function untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dm/snapshot.h"
#include "tests/lib/ide_guest.h"

static struct ideg *fresh(uint64_t cd_sectors)
{
    struct ideg_opts o = { .disk_sectors = 4096, .cd_sectors = cd_sectors };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    return g;
}

/* The guest's work in progress on G. */
static void drive_into_state(struct ideg *g)
{
    ideg_out(g, PRI_CTL, 0);
    ideg_out(g, SEC_CTL, 0);
    /* primary: READ SECTORS of 8 at 300, two of them read */
    ideg_lba28(g, PRI, 0, 300, 8);
    ideg_out(g, PRI + 7, 0x20);
    ideg_insw(g, PRI, G_BUF, 512);
    /* secondary: lock the tray, ask for an unsupported page (sense pending), then READ (10)
     * of 4 sectors at 20 by DMA, the PRD table set, the engine not yet started */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    ideg_packet(g, SEC, 0, lock, 0, 0);
    uint8_t bad[12] = { 0x5a, 0, 0x15, 0, 0, 0, 0, 0, 64 };
    ideg_packet(g, SEC, 0, bad, 64, 0);
    struct ideg_prd e[] = { { G_BUF + 0x10000, 4096, 0 }, { G_BUF + 0x20000, 4096, 1 } };
    ideg_prd_table(g, G_PRD, e, 2);
    ideg_bm_setup(g, 1, G_PRD, 1);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 20, 0, 0, 4 };
    assert_int_equal(ideg_packet(g, SEC, 0, rd, 0, 1) & 0x89, 0x08);
}

static void test_round_trip(void **state)
{
    struct ideg *a = fresh(64), *b = fresh(64);
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];
    drive_into_state(a);
    assert_int_equal(ideg_save(a, &w), 0);
    memcpy(b->fx->ram, a->fx->ram, G_RAM); /* the guest's memory comes along */
    assert_int_equal(ideg_load(b, &w, msg, sizeof(msg)), 0);
    snap_writer_free(&w);

    /* what the guest sees is the same */
    for (unsigned reg = 1; reg <= 6; reg++) {
        assert_int_equal(ideg_in(b, PRI + reg), ideg_in(a, PRI + reg));
        assert_int_equal(ideg_in(b, SEC + reg), ideg_in(a, SEC + reg));
    }
    assert_int_equal(ideg_alt(b, PRI), ideg_alt(a, PRI));
    assert_int_equal(ideg_alt(b, SEC), ideg_alt(a, SEC));
    assert_int_equal(ideg_irq(b, PRI), ideg_irq(a, PRI));
    assert_int_equal(ideg_bm_status(b, 1), ideg_bm_status(a, 1));
    assert_int_equal(fx_in(b->fx, ideg_bm(1) + 4, 4), G_PRD);

    /* and it carries on: the other six sectors by PIO ... */
    assert_int_equal(ideg_alt(b, PRI), 0x58);
    ideg_insw(b, PRI, G_BUF + 1024, 6 * 256);
    assert_int_equal(ideg_check(b->fx->ram + G_BUF, 300, 8, 512, 0), 0);
    assert_int_equal(ideg_alt(b, PRI), 0x50);
    /* ... the packet's data by DMA once the engine starts, with its interrupt */
    ideg_bm_start(b, 1, 1);
    assert_int_equal(ideg_wait(b, SEC), 0x50);
    assert_int_equal(ideg_bm_status(b, 1) & 0x07, 0x04);
    assert_int_equal(ideg_irq(b, SEC), 1);
    assert_int_equal(ideg_check(b->fx->ram + G_BUF + 0x10000, 20, 2, 2048, 1), 0);
    assert_int_equal(ideg_check(b->fx->ram + G_BUF + 0x20000, 22, 2, 2048, 1), 0);
    ideg_bm_stop(b, 1);
    /* ... and the tray is still locked */
    char err[256];
    assert_int_equal(ide_eject(b->ide, "ide-5632", 0, err, sizeof(err)), -EBUSY);
    ideg_free(a);
    ideg_free(b);
}

/* The value of field NAME in the stream (its bytes follow: u8 type, u32 size, value). */
static uint8_t *field(struct snap_writer *w, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 1; i + n + 5 < w->len; i++)
        if (w->buf[i - 1] == n && !memcmp(w->buf + i, name, n))
            return w->buf + i + n + 5;
    fail_msg("no field %s", name);
    return NULL;
}

static void refused(struct snap_writer *good, const char *name, uint64_t v, unsigned size,
                    const char *what)
{
    struct ideg *b = fresh(64);
    struct snap_writer w = *good;
    char msg[SNAP_MSG_MAX];
    w.buf = malloc(good->len);
    memcpy(w.buf, good->buf, good->len);
    stn(field(&w, name), size, v);
    if (ideg_load(b, &w, msg, sizeof(msg)) != -EINVAL)
        fail_msg("%s = %#llx was taken", name, (unsigned long long)v);
    if (!strstr(msg, what))
        fail_msg("expected \"%s\" in \"%s\"", what, msg);
    /* nothing changed: the fresh function's drives are as reset left them */
    assert_int_equal(ideg_alt(b, PRI), 0x50);
    assert_int_equal(ideg_in(b, PRI + 2), 1);
    assert_int_equal(ideg_bm_status(b, 1), 0);
    free(w.buf);
    ideg_free(b);
}

static void test_bad_streams_refused(void **state)
{
    struct ideg *a = fresh(64);
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];
    drive_into_state(a);
    assert_int_equal(ideg_save(a, &w), 0);
    refused(&w, "ch0.d0.x.cur", 0x7fffffff, 4, "device ide: field ch0.d0.x.cur");
    refused(&w, "ch0.d0.x.block_end", 4096, 4, "field ch0.d0.x.block_end");
    refused(&w, "ch0.d0.x.drq", 0, 4, "field ch0.d0.x.drq");
    refused(&w, "ch0.d0.x.remain", 1u << 30, 8, "field ch0.d0.x.remain");
    refused(&w, "ch0.d0.x.end", 9, 1, "field ch0.d0.x.end");
    refused(&w, "ch0.d0.heads", 0, 1, "field ch0.d0.heads");
    refused(&w, "ch0.d0.status", 0x80, 1, "field ch0.d0.status");
    refused(&w, "ch0.devctl", 0x10, 1, "field ch0.devctl");
    refused(&w, "ch1.d0.event", 7, 1, "field ch1.d0.event");
    refused(&w, "ch1.bm_status", 0x80, 1, "field ch1.bm_status");
    refused(&w, "ch1.prd_left", 0x20000, 4, "field ch1.prd_left");
    refused(&w, "ch1.dma_drive", 1, 1, "field ch1.dma_drive");
    refused(&w, "ch0.d1.kind", 1, 1, "field ch0.d1.kind");
    /* a machine without the CD-ROM the stream has */
    struct ideg *c = fresh(~0ull);
    assert_int_equal(ideg_load(c, &w, msg, sizeof(msg)), -EINVAL);
    assert_non_null(strstr(msg, "field ch1.d0.kind"));
    ideg_free(c);
    snap_writer_free(&w);
    ideg_free(a);
}

/* A disk the guest's PV driver unplugged stays unplugged after a load. */
static void test_unplugged_disk(void **state)
{
    struct ideg *a = fresh(64), *b = fresh(64);
    struct snap_writer w;
    char msg[SNAP_MSG_MAX];
    piix_ide_unplug(a->ide, VM_UNPLUG_IDE_DISKS);
    assert_int_equal(ideg_save(a, &w), 0);
    assert_int_equal(ideg_load(b, &w, msg, sizeof(msg)), 0);
    assert_int_equal(ideg_status(b, PRI), 0);
    assert_null(piix_ide_drive(b->ide, 0)->blk);
    snap_writer_free(&w);
    ideg_free(a);
    ideg_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_streams_refused),
        cmocka_unit_test(test_unplugged_disk),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

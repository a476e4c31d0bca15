/* SPDX-License-Identifier: GPL-2.0-only */
/* The seam between an IDE drive and its controller (devices/ide/dma.h): a fake controller of
 * a few lines, with a scatter list in host memory, drives a disk and a CD-ROM through
 * drive.h alone (no PIIX, no ports, no guest RAM), as an AHCI port would: the DMA data phase
 * waits for the engine, moves across the list's pieces, ends with dma_end and one interrupt;
 * a short list leaves the drive waiting, a fault ends the command with an error, a cancelled
 * engine leaves DRQ until a reset; an ATAPI packet reads by DMA through the same seam; PIO
 * on a bus of one drive. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/ide/drive.h"
#include "tests/lib/ide_guest.h"

#define SEGS 4

struct fake {
    struct ide_bus bus;
    struct ide_stats st;
    struct ratelimit rl;
    int ready;                       /* the engine runs */
    struct ide_drive *owner;         /* dma_start .. dma_end */
    uint8_t *seg[SEGS];
    size_t seg_len[SEGS];
    unsigned nseg, cur;              /* the list, and where the engine is in it */
    size_t off;
    int fault_at;                    /* segment that is "not guest RAM", or -1 */
    unsigned intrs, starts, ends, ends_done;
    int level;
    char dir[200], disk[256], iso[256];
};

static void f_intr(void *ctrl, struct ide_bus *bus)
{
    struct fake *f = ctrl;
    assert_ptr_equal(bus, &f->bus);
    f->intrs++;
}

static void f_irq(void *ctrl, struct ide_bus *bus, int level)
{
    struct fake *f = ctrl;
    f->level = level;
}

static void f_dma_start(void *ctrl, struct ide_drive *d)
{
    struct fake *f = ctrl;
    f->owner = d;
    f->starts++;
}

static int f_dma_ready(void *ctrl, struct ide_drive *d)
{
    struct fake *f = ctrl;
    return f->ready && f->owner == d;
}

static enum ide_dma_result f_dma_rw(void *ctrl, struct ide_drive *d, uint8_t *buf, size_t *n,
                                    int to_mem)
{
    struct fake *f = ctrl;
    size_t moved = 0;
    while (moved < *n) {
        if (f->cur == f->nseg) {
            *n = moved;
            f->ready = 0;
            return IDE_DMA_END;
        }
        if ((int)f->cur == f->fault_at) {
            *n = moved;
            f->ready = 0;
            return IDE_DMA_FAULT;
        }
        size_t k = MIN(*n - moved, f->seg_len[f->cur] - f->off);
        if (to_mem)
            memcpy(f->seg[f->cur] + f->off, buf + moved, k);
        else
            memcpy(buf + moved, f->seg[f->cur] + f->off, k);
        moved += k;
        f->off += k;
        if (f->off == f->seg_len[f->cur]) {
            f->cur++;
            f->off = 0;
        }
    }
    return IDE_DMA_OK;
}

static void f_dma_end(void *ctrl, struct ide_drive *d, int done)
{
    struct fake *f = ctrl;
    if (f->owner == d) {
        f->owner = NULL;
        f->ends++;
        f->ends_done += done != 0;
    }
}

static const struct ide_ctrl_ops fake_ops = {
    .intr = f_intr, .irq = f_irq,
    .dma_start = f_dma_start, .dma_ready = f_dma_ready,
    .dma_rw = f_dma_rw, .dma_end = f_dma_end,
};

static struct blk *open_image(const char *path, int ro)
{
    struct blk *b;
    char err[256];
    struct blk_opts o = { .path = path, .fd = -1, .readonly = ro };
    if (blk_open(&b, NULL, &o, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    return b;
}

/* A disk (2048 sectors) as master and a CD-ROM (64 sectors) as slave of one bus. */
static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    char err[256];
    ideg_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->disk, sizeof(f->disk), "%s/disk.img", f->dir);
    snprintf(f->iso, sizeof(f->iso), "%s/cd.iso", f->dir);
    ideg_make_image(f->disk, 2048, 512, 0);
    ideg_make_image(f->iso, 64, 2048, 1);
    f->fault_at = -1;
    ide_bus_init(&f->bus, "fake", &fake_ops, f, &f->st, &f->rl);
    struct ide_drive_conf disk = { IDE_DISK, open_image(f->disk, 0), "disk0" };
    struct ide_drive_conf cd = { IDE_CD, open_image(f->iso, 1), "cd0" };
    assert_int_equal(ide_drive_init(&f->bus, 0, &disk, "FAKE0", 0, err, sizeof(err)), 0);
    assert_int_equal(ide_drive_init(&f->bus, 1, &cd, "FAKE1", 1, err, sizeof(err)), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;
    for (unsigned u = 0; u < 2; u++)
        ide_drive_free(&f->bus.drive[u]);
    for (unsigned i = 0; i < SEGS; i++)
        free(f->seg[i]);
    unlink(f->disk);
    unlink(f->iso);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A scatter list of pieces of these sizes (0 ends it). */
static void sg(struct fake *f, size_t a, size_t b, size_t c)
{
    size_t len[3] = { a, b, c };
    f->nseg = 0;
    f->cur = 0;
    f->off = 0;
    for (unsigned i = 0; i < 3 && len[i]; i++) {
        free(f->seg[i]);
        f->seg[i] = calloc(1, len[i]);
        f->seg_len[i] = len[i];
        f->nseg++;
    }
}

/* The pieces' bytes, in order, into OUT. */
static size_t gather(struct fake *f, uint8_t *out)
{
    size_t n = 0;
    for (unsigned i = 0; i < f->nseg; i++) {
        memcpy(out + n, f->seg[i], f->seg_len[i]);
        n += f->seg_len[i];
    }
    return n;
}

static void task(struct fake *f, unsigned dev, uint32_t lba, uint8_t count, uint8_t cmd)
{
    ide_bus_write(&f->bus, 6, (uint8_t)(0xe0 | (dev ? 0x10 : 0) | ((lba >> 24) & 0x0f)));
    ide_bus_write(&f->bus, 2, count);
    ide_bus_write(&f->bus, 3, (uint8_t)lba);
    ide_bus_write(&f->bus, 4, (uint8_t)(lba >> 8));
    ide_bus_write(&f->bus, 5, (uint8_t)(lba >> 16));
    ide_bus_write(&f->bus, 7, cmd);
}

static void test_read_dma_across_pieces(void **state)
{
    struct fake *f = *state;
    struct ide_drive *d = &f->bus.drive[0];
    uint8_t buf[8 * 512];
    sg(f, 1000, 2096, 1000);
    task(f, 0, 100, 8, 0xc8);
    /* the command waits for the engine: DRQ, nothing moved, no interrupt */
    assert_int_equal(f->starts, 1);
    assert_ptr_equal(f->owner, d);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x58);
    assert_int_equal(f->st.dma_bytes, 0);
    assert_int_equal(f->intrs, 0);
    /* the engine starts: all of it inside this call (page cache), one interrupt */
    f->ready = 1;
    ide_dma_run(d);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x50);
    assert_int_equal(f->ends, 1);
    assert_int_equal(f->ends_done, 1);
    assert_int_equal(f->intrs, 1);
    assert_int_equal(f->level, 1);
    assert_int_equal(f->st.dma_bytes, 4096);
    assert_int_equal(gather(f, buf), 4096);
    assert_int_equal(ideg_check(buf, 100, 8, 512, 0), 0);
    /* the status read acknowledges */
    assert_int_equal(ide_bus_read(&f->bus, 7), 0x50);
    assert_int_equal(f->level, 0);
}

static void test_write_dma_then_pio_read(void **state)
{
    struct fake *f = *state;
    struct ide_drive *d = &f->bus.drive[0];
    uint8_t buf[4 * 512];
    sg(f, 512, 1536, 0);
    for (unsigned i = 0; i < 4; i++)
        ideg_fill(i == 0 ? f->seg[0] : f->seg[1] + (i - 1) * 512, 1500 + i, 512, 9);
    f->ready = 1;
    task(f, 0, 7, 4, 0xca);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x50);
    assert_int_equal(f->ends_done, 1);
    assert_int_equal(f->intrs, 1);
    /* read back by PIO: the first status poll sees the data (DRQ), one string moves it */
    task(f, 0, 7, 4, 0x20);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x58);
    ide_bus_data_in(&f->bus, buf, sizeof(buf));
    assert_int_equal(ideg_check(buf, 1500, 4, 512, 9), 0);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x50);
    assert_int_equal(f->st.pio_bytes, sizeof(buf));
    assert_null(f->owner);
    (void)d;
}

static void test_short_list_cancel_and_reset(void **state)
{
    struct fake *f = *state;
    struct ide_drive *d = &f->bus.drive[0];
    sg(f, 1024, 0, 0);
    f->ready = 1;
    task(f, 0, 0, 4, 0xc8);
    /* the list ended first: the engine stopped, the drive waits with DRQ, no interrupt */
    assert_int_equal(f->ready, 0);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x58);
    assert_int_equal(f->intrs, 0);
    assert_int_equal(f->ends, 0);
    assert_int_equal(f->st.dma_bytes, 1024);
    /* the guest stops the engine: the transfer goes, DRQ stays until a reset */
    ide_dma_cancel(d);
    assert_int_equal(f->ends, 1);
    assert_int_equal(f->ends_done, 0);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x58);
    task(f, 0, 0, 1, 0x20); /* ignored while DRQ */
    assert_int_equal(f->st.commands, 1);
    ide_bus_ctl_write(&f->bus, CTL_SRST);
    ide_bus_ctl_write(&f->bus, 0);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x50);
    assert_int_equal(ide_bus_read(&f->bus, 2), 1); /* the signature */
}

static void test_fault_ends_with_error(void **state)
{
    struct fake *f = *state;
    sg(f, 512, 512, 512);
    f->fault_at = 1;
    f->ready = 1;
    task(f, 0, 0, 3, 0xc8);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x41);
    assert_int_equal(ide_bus_read(&f->bus, 1), ER_ABRT);
    assert_int_equal(f->intrs, 1);
    assert_int_equal(f->ends, 1);
    assert_int_equal(f->ends_done, 0);
    assert_true(f->st.errors >= 1);
}

static void test_atapi_packet_by_dma(void **state)
{
    struct fake *f = *state;
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 3 }; /* READ (10): 3 sectors at 10 */
    uint8_t buf[3 * 2048];
    sg(f, 2048, 2048, 2048);
    f->ready = 1;
    ide_bus_write(&f->bus, 6, 0xb0);      /* the slave */
    ide_bus_write(&f->bus, 1, 0x01);      /* DMA */
    ide_bus_write(&f->bus, 7, 0xa0);      /* PACKET */
    assert_int_equal(ide_bus_alt_status(&f->bus) & 0x89, 0x08);
    assert_int_equal(ide_bus_read(&f->bus, 2), IR_COD);
    ide_bus_data_out(&f->bus, cdb, sizeof(cdb));
    /* a unit attention first? no: the medium was there from the start */
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x50);
    assert_int_equal(ide_bus_read(&f->bus, 2), IR_IO | IR_COD);
    assert_int_equal(f->ends_done, 1);
    assert_int_equal(f->intrs, 1);
    assert_int_equal(gather(f, buf), sizeof(buf));
    assert_int_equal(ideg_check(buf, 10, 3, 2048, 1), 0);
    assert_int_equal(f->st.packets, 1);
}

/* A packet's data-out by DMA that is not a medium write (MODE SELECT's parameter list) goes
 * to the command, not to the medium: with a CD-ROM image that could be written, byte 0 stays
 * (issue 16 item 9: it became a write at byte 0, failing only on read-only images). */
static void test_atapi_mode_select_by_dma(void **state)
{
    struct fake *f = *state;
    char err[256];
    ide_drive_free(&f->bus.drive[1]);
    struct ide_drive_conf cd = { IDE_CD, open_image(f->iso, 0), "cd0" }; /* writable */
    assert_int_equal(ide_drive_init(&f->bus, 1, &cd, "FAKE1", 1, err, sizeof(err)), 0);
    uint8_t cdb[12] = { 0x55, 0x10, 0, 0, 0, 0, 0, 0, 24 }; /* MODE SELECT (10), PF, 24 bytes */
    sg(f, 24, 0, 0);
    memset(f->seg[0], 0xee, 24);
    memset(f->seg[0], 0, 8); /* the header */
    f->ready = 1;
    ide_bus_write(&f->bus, 6, 0xb0);
    ide_bus_write(&f->bus, 1, 0x01);      /* DMA */
    ide_bus_write(&f->bus, 7, 0xa0);
    ide_bus_data_out(&f->bus, cdb, sizeof(cdb));
    assert_int_equal(ide_bus_alt_status(&f->bus) & 0x89, 0);
    assert_int_equal(f->ends_done, 1);
    uint8_t sec[2048];
    int fd = open(f->iso, O_RDONLY);
    assert_int_equal(pread(fd, sec, sizeof(sec), 0), (ssize_t)sizeof(sec));
    close(fd);
    assert_int_equal(ideg_check(sec, 0, 1, 2048, 1), 0);
}

/* A bus of one drive (as an AHCI port has): the slave position answers nothing. */
static void test_bus_of_one(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    char err[256];
    uint8_t buf[512];
    ideg_tmpdir(f->dir, sizeof(f->dir));
    snprintf(f->disk, sizeof(f->disk), "%s/disk.img", f->dir);
    ideg_make_image(f->disk, 64, 512, 0);
    ide_bus_init(&f->bus, "port0", &fake_ops, f, &f->st, &f->rl);
    struct ide_drive_conf disk = { IDE_DISK, open_image(f->disk, 0), NULL };
    struct ide_drive_conf none = { IDE_NONE, NULL, NULL };
    assert_int_equal(ide_drive_init(&f->bus, 0, &disk, "P0", 0, err, sizeof(err)), 0);
    assert_int_equal(ide_drive_init(&f->bus, 1, &none, "P1", 1, err, sizeof(err)), 0);
    task(f, 0, 63, 1, 0x20);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0x58);
    ide_bus_data_in(&f->bus, buf, sizeof(buf));
    assert_int_equal(ideg_check(buf, 63, 1, 512, 0), 0);
    ide_bus_write(&f->bus, 6, 0xb0);
    assert_int_equal(ide_bus_alt_status(&f->bus), 0);
    /* a medium without a drive is refused */
    struct ide_drive_conf bad = { IDE_NONE, open_image(f->disk, 0), NULL };
    assert_int_equal(ide_drive_init(&f->bus, 1, &bad, "P1", 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "medium but no drive"));
    *state = f;
    teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_dma_across_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_dma_then_pio_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_list_cancel_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fault_ends_with_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_packet_by_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atapi_mode_select_by_dma, setup, teardown),
        cmocka_unit_test(test_bus_of_one),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

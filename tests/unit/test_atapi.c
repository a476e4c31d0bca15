/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/ide/atapi.c: the CD-ROM as SeaBIOS, Linux's sr/cdrom and Windows drive it through the
 * in-process ioreq source: the ATAPI signature and IDENTIFY PACKET DEVICE, PIO reads with
 * SeaBIOS's 2048-byte limit (and what they cost in guest accesses) and with larger limits, DMA
 * reads, the informational commands (INQUIRY, READ CAPACITY, READ TOC in its formats, MODE
 * SENSE, GET CONFIGURATION, GET EVENT STATUS NOTIFICATION, READ DISC INFORMATION, MECHANISM
 * STATUS), bad packets, and media changes through the tray and QMP's eject / change medium. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/ide_guest.h"

#define CD_SECTORS 600

static int setup(void **state)
{
    struct ideg_opts o = { .disk_sectors = 0, .cd_sectors = CD_SECTORS };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, SEC_CTL, 0);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    ideg_free(*state);
    return 0;
}

static uint8_t *buf(struct ideg *g) { return g->fx->ram + G_BUF; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A packet command with a PIO data-in phase: the bytes read, or -1 if it ended in error
 * (then *SENSE holds key/asc/ascq). */
static long cmd_in(struct ideg *g, const uint8_t *cdb, uint16_t bcl, uint32_t *sense)
{
    uint8_t st = ideg_packet(g, SEC, 0, cdb, bcl, 0);
    if (st == 0xff)
        return -2;
    size_t n = ideg_atapi_pio_in(g, SEC, G_BUF, NULL);
    st = ideg_status(g, SEC);
    if (st & 0x01) {
        assert_int_equal(ideg_in(g, SEC + 2), 0x03); /* status phase */
        uint8_t err = ideg_in(g, SEC + 1);
        uint32_t s = ideg_sense(g, SEC, 0);
        assert_int_equal(err >> 4, s >> 16);
        if (sense)
            *sense = s;
        return -1;
    }
    assert_int_equal(st & 0x88, 0);
    assert_int_equal(ideg_in(g, SEC + 2), 0x03);
    return (long)n;
}

static uint32_t cmd_sense(struct ideg *g, const uint8_t *cdb)
{
    uint32_t s = 0;
    assert_int_equal(cmd_in(g, cdb, 0xfffe, &s), -1);
    return s;
}

static void test_signature_and_identify(void **state)
{
    struct ideg *g = *state;
    ideg_select(g, SEC, 0, 0);
    /* IDENTIFY DEVICE: aborted, and the signature says ATAPI */
    ideg_out(g, SEC + 7, 0xec);
    assert_int_equal(ideg_status(g, SEC) & 0x01, 0x01);
    assert_int_equal(ideg_in(g, SEC + 4), 0x14);
    assert_int_equal(ideg_in(g, SEC + 5), 0xeb);
    ideg_out(g, SEC + 7, 0xa1);
    assert_int_equal(ideg_irq(g, SEC), 1);
    assert_int_equal(ideg_status(g, SEC) & 0x89, 0x08);
    ideg_insw(g, SEC, G_BUF, 256);
    uint16_t w0 = ld16(buf(g));
    assert_int_equal(w0 >> 14, 2);          /* ATAPI */
    assert_int_equal((w0 >> 8) & 0x1f, 5);  /* CD-ROM */
    assert_true(w0 & 0x80);                 /* removable */
    assert_int_equal(w0 & 3, 0);            /* 12-byte packets */
    assert_int_equal((w0 >> 5) & 3, 2);     /* no interrupt before the packet */
    assert_int_equal(ideg_status(g, SEC) & 0x88, 0);
    /* DEVICE RESET (only ATAPI devices take it) */
    ideg_out(g, SEC + 7, 0x08);
    assert_int_equal(ideg_status(g, SEC), 0);
    assert_int_equal(ideg_in(g, SEC + 4), 0x14);
}

/* SeaBIOS's cdrom read: READ(10) with a 2048-byte limit, one DRQ block per sector; at each
 * block the first status poll sees DRQ. Guest accesses per sector: alternate status, status
 * and the rep insw. */
static void test_read10_pio_seabios(void **state)
{
    struct ideg *g = *state;
    ideg_out(g, SEC_CTL, 0x02);
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 17, 0, 0, 30 };
    ideg_select(g, SEC, 0, 0);
    ideg_out(g, SEC + 1, 0);
    ideg_out(g, SEC + 4, 0x00);
    ideg_out(g, SEC + 5, 0x08);
    ideg_out(g, SEC + 7, 0xa0);
    assert_int_equal(ideg_alt(g, SEC) & 0x89, 0x08);
    memcpy(g->fx->ram + G_CDB, cdb, 12);
    uint64_t before = g->fx->forwarded;
    ideg_outsw(g, SEC, G_CDB, 6);
    for (unsigned s = 0; s < 30; s++) {
        assert_int_equal(ideg_alt(g, SEC), 0x58);
        assert_int_equal(ideg_status(g, SEC), 0x58);
        ideg_insw(g, SEC, G_BUF + 2048 * s, 1024);
    }
    uint64_t accesses = g->fx->forwarded - before;
    assert_int_equal(ideg_status(g, SEC), 0x50);
    assert_int_equal(accesses, 1 + 30 * 3);
    assert_int_equal(ideg_check(buf(g), 17, 30, 2048, 1), 0);
    assert_int_equal(g->fx->isa_changes[15], 0);
}

static void test_read_pio_large_blocks_and_dma(void **state)
{
    struct ideg *g = *state;
    /* a limit of 0xfffe: whole sectors per DRQ block, 31 of them = 63488 bytes */
    uint8_t cdb[12] = { 0x28, 0, 0, 0, 1, 0, 0, 0, 100 };
    assert_int_equal(ideg_packet(g, SEC, 0, cdb, 0xfffe, 0) & 0x89, 0x08);
    assert_int_equal(ideg_in(g, SEC + 4) | ideg_in(g, SEC + 5) << 8, 31 * 2048);
    unsigned blocks;
    assert_int_equal(ideg_atapi_pio_in(g, SEC, G_BUF, &blocks), 100 * 2048);
    assert_int_equal(blocks, 4);
    assert_int_equal(ideg_status(g, SEC), 0x50);
    assert_int_equal(ideg_check(buf(g), 256, 100, 2048, 1), 0);
    /* a limit below a sector: 1000-byte blocks, the last one short */
    uint8_t one[12] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 1 };
    assert_int_equal(ideg_packet(g, SEC, 0, one, 1000, 0) & 0x89, 0x08);
    assert_int_equal(ideg_atapi_pio_in(g, SEC, G_BUF, &blocks), 2048);
    assert_int_equal(blocks, 3);
    assert_int_equal(ideg_check(buf(g), 5, 1, 2048, 1), 0);
    /* READ(12) by DMA, as ata_piix does */
    struct ideg_prd e[] = { { G_BUF, 0x10000, 0 }, { G_BUF + 0x10000, 0x4000, 1 } };
    ideg_prd_table(g, G_PRD, e, 2);
    ideg_bm_setup(g, 1, G_PRD, 1);
    uint8_t r12[12] = { 0xa8, 0, 0, 0, 0x01, 0x10, 0, 0, 0, 40 };
    ideg_select(g, SEC, 0, 0);
    ideg_out(g, SEC + 1, 1);
    ideg_out(g, SEC + 7, 0xa0);
    memcpy(g->fx->ram + G_CDB, r12, 12);
    ideg_outsw(g, SEC, G_CDB, 6);
    assert_int_equal(ideg_alt(g, SEC) & 0x89, 0x08); /* waiting for the engine */
    ideg_bm_start(g, 1, 1);
    assert_int_equal(ideg_irq(g, SEC), 1);
    assert_int_equal(ideg_status(g, SEC), 0x50);
    assert_int_equal(ideg_in(g, SEC + 2), 0x03);
    assert_int_equal(ideg_bm_status(g, 1) & 0x07, 0x04);
    ideg_bm_stop(g, 1);
    assert_int_equal(ideg_check(buf(g), 0x110, 40, 2048, 1), 0);
    /* READ CD, user data only */
    uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 9, 0, 0, 2, 0x10 };
    assert_int_equal(cmd_in(g, rcd, 0xfffe, NULL), 4096);
    assert_int_equal(ideg_check(buf(g), 9, 2, 2048, 1), 0);
    /* zero sectors: no data phase */
    uint8_t zero[12] = { 0x28, 0, 0, 0, 0, 9, 0, 0, 0 };
    assert_int_equal(cmd_in(g, zero, 0xfffe, NULL), 0);
}

static void test_informational_commands(void **state)
{
    struct ideg *g = *state;
    uint8_t *b = buf(g);
    uint8_t tur[12] = { 0x00 };
    assert_int_equal(cmd_in(g, tur, 0, NULL), 0);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 96 };
    assert_int_equal(cmd_in(g, inq, 0xfffe, NULL), 36);
    assert_int_equal(b[0], 0x05);
    assert_int_equal(b[1], 0x80);
    assert_memory_equal(b + 16, "DVD-ROM", 7);
    inq[4] = 5; /* the allocation length cuts the answer */
    assert_int_equal(cmd_in(g, inq, 0xfffe, NULL), 5);
    uint8_t cap[12] = { 0x25 };
    assert_int_equal(cmd_in(g, cap, 0xfffe, NULL), 8);
    assert_int_equal(rd32(b), CD_SECTORS - 1);
    assert_int_equal(rd32(b + 4), 2048);
    /* READ TOC format 0, LBA and MSF */
    uint8_t toc[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24 };
    assert_int_equal(cmd_in(g, toc, 0xfffe, NULL), 20);
    assert_int_equal(rd16(b), 18);
    assert_int_equal(b[2], 1);
    assert_int_equal(b[3], 1);
    assert_int_equal(b[5], 0x14);
    assert_int_equal(b[6], 1);
    assert_int_equal(rd32(b + 8), 0);
    assert_int_equal(b[14], 0xaa);
    assert_int_equal(rd32(b + 16), CD_SECTORS);
    toc[1] = 0x02;
    assert_int_equal(cmd_in(g, toc, 0xfffe, NULL), 20);
    assert_int_equal(b[9], 0);
    assert_int_equal(b[10], 2);      /* 00:02:00 */
    assert_int_equal(b[11], 0);
    assert_int_equal(b[17], 0);      /* lead-out at 600 + 150 frames = 00:10:00 */
    assert_int_equal(b[18], 10);
    assert_int_equal(b[19], 0);
    /* format 1 (sessions) and 2 (raw) */
    uint8_t ses[12] = { 0x43, 0, 1, 0, 0, 0, 0, 0, 12 };
    assert_int_equal(cmd_in(g, ses, 0xfffe, NULL), 12);
    assert_int_equal(rd16(b), 10);
    uint8_t raw[12] = { 0x43, 0x02, 2, 0, 0, 0, 0, 0x01, 0 };
    assert_int_equal(cmd_in(g, raw, 0xfffe, NULL), 48);
    assert_int_equal(b[4 + 3], 0xa0);
    assert_int_equal(b[4 + 2 * 11 + 3], 0xa2);
    /* the old format field in the control byte */
    uint8_t old[12] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40 };
    assert_int_equal(cmd_in(g, old, 0xfffe, NULL), 12);
    /* MODE SENSE(10) page 2A and all pages, MODE SENSE(6) */
    uint8_t ms[12] = { 0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128 };
    assert_int_equal(cmd_in(g, ms, 0xfffe, NULL), 8 + 22);
    assert_int_equal(b[8], 0x2a);
    assert_int_equal(b[9], 20);
    assert_int_equal(b[8 + 6] & 0x08, 0x08); /* eject supported */
    ms[2] = 0x3f;
    assert_int_equal(cmd_in(g, ms, 0xfffe, NULL), 8 + 8 + 16 + 22);
    assert_int_equal(rd16(b), 8 + 8 + 16 + 22 - 2);
    uint8_t ms6[12] = { 0x1a, 0, 0x01, 0, 255 };
    assert_int_equal(cmd_in(g, ms6, 0xfffe, NULL), 4 + 8);
    /* GET CONFIGURATION: current profile CD-ROM; one feature with RT=2 */
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0x02, 0 };
    long n = cmd_in(g, gc, 0xfffe, NULL);
    assert_true(n > 8);
    assert_int_equal(rd32(b), (uint32_t)n - 4);
    assert_int_equal(rd16(b + 6), 0x0008);
    uint8_t gc2[12] = { 0x46, 2, 0, 3, 0, 0, 0, 0, 64 };
    assert_int_equal(cmd_in(g, gc2, 0xfffe, NULL), 8 + 8);
    assert_int_equal(rd16(b + 8), 0x0003);
    /* READ DISC INFORMATION, MECHANISM STATUS, SET CD SPEED, PREVENT ALLOW, SEEK */
    uint8_t di[12] = { 0x51, 0, 0, 0, 0, 0, 0, 0, 34 };
    assert_int_equal(cmd_in(g, di, 0xfffe, NULL), 34);
    assert_int_equal(b[2] & 3, 2);
    uint8_t ti[12] = { 0x52, 1, 0, 0, 0, 1, 0, 0, 36 };
    assert_int_equal(cmd_in(g, ti, 0xfffe, NULL), 36);
    assert_int_equal(b[2], 1);
    assert_int_equal(rd32(b + 24), CD_SECTORS);
    ti[5] = 2; /* no track 2 */
    assert_int_equal(cmd_sense(g, ti), 0x052400);
    uint8_t mech[12] = { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8 };
    assert_int_equal(cmd_in(g, mech, 0xfffe, NULL), 8);
    uint8_t speed[12] = { 0xbb, 0, 0xff, 0xff };
    assert_int_equal(cmd_in(g, speed, 0, NULL), 0);
    uint8_t seek[12] = { 0x2b, 0, 0, 0, 0, 5 };
    assert_int_equal(cmd_in(g, seek, 0, NULL), 0);
    /* MODE SELECT(10): the parameter list is taken (PIO data-out) and ignored */
    uint8_t msel[12] = { 0x55, 0x10, 0, 0, 0, 0, 0, 0, 16 };
    assert_int_equal(ideg_packet(g, SEC, 0, msel, 16, 0) & 0x89, 0x08);
    assert_int_equal(ideg_irq(g, SEC), 1);         /* every packet data block interrupts */
    assert_int_equal(ideg_in(g, SEC + 2), 0x00); /* data out */
    ideg_outsw(g, SEC, G_BUF, 8);
    assert_int_equal(ideg_wait(g, SEC), 0x50);
    assert_int_equal(ideg_in(g, SEC + 2), 0x03);
}

static void test_bad_packets(void **state)
{
    struct ideg *g = *state;
    /* unknown opcode */
    uint8_t bad[12] = { 0xff };
    assert_int_equal(cmd_sense(g, bad), 0x052000);
    uint8_t audio[12] = { 0x45 };
    assert_int_equal(cmd_sense(g, audio), 0x052000);
    /* reads past the end, or starting past it */
    uint8_t past[12] = { 0x28, 0, 0, 0, 0x02, 0x50, 0, 0, 9 }; /* 592 + 9 > 600 */
    assert_int_equal(cmd_sense(g, past), 0x052100);
    uint8_t far[12] = { 0xa8, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1 };
    assert_int_equal(cmd_sense(g, far), 0x052100);
    uint8_t huge[12] = { 0xa8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(cmd_sense(g, huge), 0x052100);
    /* invalid fields: GESN without the polled bit, READ CD asking raw sectors, TOC format 7,
     * saved mode pages, an unknown mode page, a TOC starting at track 5, EVPD INQUIRY */
    uint8_t gesn[12] = { 0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8 };
    assert_int_equal(cmd_sense(g, gesn), 0x052400);
    uint8_t rcd[12] = { 0xbe, 0, 0, 0, 0, 0, 0, 0, 1, 0xf8 };
    assert_int_equal(cmd_sense(g, rcd), 0x052400);
    uint8_t toc7[12] = { 0x43, 0, 7, 0, 0, 0, 0, 0, 12 };
    assert_int_equal(cmd_sense(g, toc7), 0x052400);
    uint8_t saved[12] = { 0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64 };
    assert_int_equal(cmd_sense(g, saved), 0x053900);
    uint8_t page[12] = { 0x5a, 0, 0x05, 0, 0, 0, 0, 0, 64 };
    assert_int_equal(cmd_sense(g, page), 0x052400);
    uint8_t track5[12] = { 0x43, 0, 0, 0, 0, 0, 5, 0, 64 };
    assert_int_equal(cmd_sense(g, track5), 0x052400);
    uint8_t evpd[12] = { 0x12, 1, 0x80, 0, 64 };
    assert_int_equal(cmd_sense(g, evpd), 0x052400);
    /* after the error, a good command clears the sense */
    uint8_t tur[12] = { 0x00 };
    assert_int_equal(cmd_in(g, tur, 0, NULL), 0);
    assert_int_equal(ideg_sense(g, SEC, 0), 0);
    /* PACKET with the overlap bit: aborted at the ATA level */
    ideg_select(g, SEC, 0, 0);
    ideg_out(g, SEC + 1, 0x02);
    ideg_out(g, SEC + 7, 0xa0);
    assert_int_equal(ideg_status(g, SEC), 0x41);
    assert_int_equal(ideg_in(g, SEC + 1), 0x04);
    /* a packet cut short: the device waits for the rest; a reset ends it */
    ideg_out(g, SEC + 1, 0);
    ideg_out(g, SEC + 7, 0xa0);
    fx_out(g->fx, SEC, 2, 0x0028);
    assert_int_equal(ideg_alt(g, SEC) & 0x88, 0x08);
    ideg_out(g, SEC + 7, 0x08);
    assert_int_equal(ideg_status(g, SEC), 0);
    /* bytes and oversized strings on the data port go nowhere harmful */
    ideg_out(g, SEC + 7, 0xa0);
    memset(g->fx->ram + G_CDB, 0, 64);
    ideg_outsw(g, SEC, G_CDB, 32); /* 64 bytes for a 12-byte packet: TEST UNIT READY, rest dropped */
    assert_int_equal(ideg_wait(g, SEC), 0x50);
    assert_int_equal(ideg_in(g, SEC + 2), 0x03);
}

static void test_medium_change(void **state)
{
    struct ideg *g = *state;
    char err[256];
    uint8_t tur[12] = { 0x00 };
    uint8_t gesn[12] = { 0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8 };
    uint8_t *b = buf(g);

    /* no event yet; medium present, tray closed */
    assert_int_equal(cmd_in(g, gesn, 0xfffe, NULL), 8);
    assert_int_equal(b[2], 0x04);
    assert_int_equal(b[4], 0);
    assert_int_equal(b[5], 0x02);
    /* the guest locks the tray: QMP eject is refused and the guest is asked to eject */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    assert_int_equal(cmd_in(g, lock, 0, NULL), 0);
    assert_int_equal(ide_eject(g->ide, "ide-5632", 0, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "is locked"));
    assert_int_equal(cmd_in(g, gesn, 0xfffe, NULL), 8);
    assert_int_equal(b[4], 1); /* eject request */
    uint8_t eject[12] = { 0x1b, 0, 0, 0, 0x02 };
    assert_int_equal(cmd_sense(g, eject), 0x055302);
    lock[4] = 0;
    assert_int_equal(cmd_in(g, lock, 0, NULL), 0);
    /* QMP eject: the tray opens (an event for QMP), the medium goes */
    assert_int_equal(ide_eject(g->ide, "ide-5632", 0, err, sizeof(err)), 0);
    assert_int_equal(g->n_trays, 1);
    assert_int_equal(g->trays[0], 1);
    assert_int_equal(cmd_sense(g, tur), 0x023a02); /* no medium, tray open */
    uint8_t cap[12] = { 0x25 };
    assert_int_equal(cmd_sense(g, cap), 0x023a02);
    assert_int_equal(cmd_in(g, gesn, 0xfffe, NULL), 8);
    assert_int_equal(b[4], 3);    /* media removal */
    assert_int_equal(b[5], 0x01); /* tray open, nothing in it */
    /* eject again: nothing more happens */
    assert_int_equal(ide_eject(g->ide, "ide-5632", 0, err, sizeof(err)), 0);
    assert_int_equal(g->n_trays, 1);
    /* a new medium, as libxl passes it: add-fd's descriptor, opened read-only */
    ideg_make_image(g->iso2, 300, 2048, 77);
    struct blk *nb;
    struct blk_opts o = { .path = g->iso2, .fd = open(g->iso2, O_RDONLY), .readonly = 1 };
    assert_int_equal(blk_open(&nb, g->fx->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(ide_change_medium(g->ide, "ide-5632", nb, err, sizeof(err)), 0);
    assert_int_equal(g->n_trays, 2);
    assert_int_equal(g->trays[1], 2);
    /* the next command learns of it (unit attention), then all is well */
    assert_int_equal(cmd_sense(g, tur), 0x062800);
    assert_int_equal(cmd_in(g, tur, 0, NULL), 0);
    assert_int_equal(cmd_in(g, gesn, 0xfffe, NULL), 8);
    assert_int_equal(b[4], 2);    /* new media */
    assert_int_equal(b[5], 0x02);
    assert_int_equal(cmd_in(g, cap, 0xfffe, NULL), 8);
    assert_int_equal(rd32(b), 299);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 1, 0x20, 0, 0, 3 };
    assert_int_equal(cmd_in(g, rd, 0xfffe, NULL), 3 * 2048);
    assert_int_equal(ideg_check(b, 0x120, 3, 2048, 77), 0);
    /* the guest ejects (START STOP UNIT, LoEj) and loads again: same medium, unit attention */
    assert_int_equal(cmd_in(g, eject, 0, NULL), 0);
    assert_int_equal(g->trays[2], 1);
    assert_int_equal(cmd_sense(g, tur), 0x023a02);
    uint8_t load[12] = { 0x1b, 0, 0, 0, 0x03 };
    assert_int_equal(cmd_in(g, load, 0, NULL), 0);
    assert_int_equal(g->trays[3], 2);
    assert_int_equal(cmd_sense(g, tur), 0x062800);
    assert_int_equal(cmd_in(g, tur, 0, NULL), 0);
    /* change medium with the tray closed: it opens and closes (two events) */
    struct blk_opts o2 = { .path = g->iso, .fd = -1, .readonly = 1 };
    assert_int_equal(blk_open(&nb, g->fx->loop, &o2, err, sizeof(err)), 0);
    assert_int_equal(ide_change_medium(g->ide, "ide-5632", nb, err, sizeof(err)), 0);
    assert_int_equal(g->n_trays, 6);
    assert_int_equal(cmd_sense(g, tur), 0x062800);
    assert_int_equal(cmd_in(g, cap, 0xfffe, NULL), 8);
    assert_int_equal(rd32(b), CD_SECTORS - 1);
    /* names that are not a CD-ROM */
    assert_int_equal(ide_eject(g->ide, "nothing", 0, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "not found"));
}

/* A medium whose size is not a whole number of 2048-byte sectors is read as a medium has
 * whole sectors: its last sector is zero-filled beyond the file's end, READ CAPACITY names it,
 * and nothing reads 0xffffffff as the last LBA (issue 16 item 10: 512-2047 bytes gave 0
 * sectors and last LBA 0xffffffff; the tail of any other odd size was invisible). An image
 * under one 512-byte sector (0 bytes too) is refused when it is put in, saying why. */
static void test_odd_sized_media(void **state)
{
    struct ideg *g = *state;
    static const uint64_t sizes[] = { 512, 1000, 2047, 2049, 4095, 10 * 2048 + 1 };
    uint8_t tur[12] = { 0 }, cap[12] = { 0x25 };
    uint8_t *b = buf(g);
    char err[300], path[300];
    uint8_t *img = malloc(11 * 2048);
    snprintf(path, sizeof(path), "%s/odd.iso", g->dir);
    ideg_fill(img, 0, 2048, 5);
    for (unsigned s = 1; s < 11; s++)
        ideg_fill(img + 2048 * s, s, 2048, 5);
    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint64_t size = sizes[i], sectors = (size + 2047) / 2048;
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        assert_int_equal(write(fd, img, size), (ssize_t)size);
        close(fd);
        struct blk *nb = ideg_open(g, path, 1, BLK_CACHE_WRITEBACK);
        assert_non_null(nb);
        assert_int_equal(ide_change_medium(g->ide, "ide-5632", nb, err, sizeof(err)), 0);
        assert_int_equal(cmd_sense(g, tur), 0x062800);
        assert_int_equal(cmd_in(g, cap, 0xfffe, NULL), 8);
        if (rd32(b) != sectors - 1)
            fail_msg("%llu bytes: last LBA %#x, want %llu", (unsigned long long)size, rd32(b),
                     (unsigned long long)(sectors - 1));
        assert_int_equal(rd32(b + 4), 2048);
        /* the last sector: the file's bytes, then zeros */
        uint8_t rd[12] = { 0x28, 0, 0, 0, 0, (uint8_t)(sectors - 1), 0, 0, 1 };
        memset(b, 0xcc, 2048);
        assert_int_equal(cmd_in(g, rd, 0xfffe, NULL), 2048);
        size_t have = (size_t)(size - (sectors - 1) * 2048);
        assert_memory_equal(b, img + (sectors - 1) * 2048, have);
        for (size_t k = have; k < 2048; k++)
            if (b[k] != 0)
                fail_msg("%llu bytes: byte %zu of the last sector is %#x, not 0",
                         (unsigned long long)size, k, b[k]);
        /* by DMA too, all of it */
        struct ideg_prd e[] = { { G_BUF, (uint32_t)(sectors * 2048), 1 } };
        ideg_prd_table(g, G_PRD, e, 1);
        ideg_bm_setup(g, 1, G_PRD, 1);
        uint8_t rdall[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, (uint8_t)sectors };
        memset(b, 0xcc, sectors * 2048);
        ideg_packet(g, SEC, 0, rdall, 0, 1);
        ideg_bm_start(g, 1, 1);
        assert_int_equal(ideg_wait(g, SEC) & 0x89, 0);
        ideg_bm_stop(g, 1);
        assert_memory_equal(b, img, size);
        for (size_t k = size; k < sectors * 2048; k++)
            assert_int_equal(b[k], 0);
        /* past the end: an error, as for any medium */
        rd[5] = (uint8_t)sectors;
        assert_int_equal(cmd_sense(g, rd) >> 8, 0x0521);
    }
    /* too small to be a medium: refused when put in, the old one stays */
    static const uint64_t tiny[] = { 0, 1, 511 };
    for (unsigned i = 0; i < ARRAY_SIZE(tiny); i++) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        assert_int_equal(write(fd, img, tiny[i]), (ssize_t)tiny[i]);
        close(fd);
        struct blk *nb;
        struct blk_opts o = { .path = path, .fd = -1, .readonly = 1 };
        assert_int_equal(blk_open(&nb, g->fx->loop, &o, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "512-byte sector"));
    }
    assert_int_equal(cmd_in(g, cap, 0xfffe, NULL), 8);
    assert_int_equal(rd32(b), 10);
    unlink(path);
    free(img);
}

/* INQUIRY and REQUEST SENSE do not consume a pending unit attention; REQUEST SENSE reports it. */
static void test_unit_attention_rules(void **state)
{
    struct ideg *g = *state;
    char err[256];
    struct blk *nb;
    struct blk_opts o = { .path = g->iso, .fd = -1, .readonly = 1 };
    assert_int_equal(blk_open(&nb, g->fx->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(ide_change_medium(g->ide, "ide-5632", nb, err, sizeof(err)), 0);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    assert_int_equal(cmd_in(g, inq, 0xfffe, NULL), 36);
    assert_int_equal(ideg_sense(g, SEC, 0), 0x062800);
    uint8_t tur[12] = { 0x00 };
    assert_int_equal(cmd_in(g, tur, 0, NULL), 0);
}

static void test_empty_drive(void **state)
{
    struct ideg_opts o = { .disk_sectors = 0, .cd_sectors = 0 };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, SEC_CTL, 0);
    uint8_t tur[12] = { 0x00 };
    assert_int_equal(cmd_sense(g, tur), 0x023a01); /* no medium, tray closed */
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1 };
    assert_int_equal(cmd_sense(g, rd), 0x023a01);
    uint8_t inq[12] = { 0x12, 0, 0, 0, 36 };
    assert_int_equal(cmd_in(g, inq, 0xfffe, NULL), 36);
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    assert_true(cmd_in(g, gc, 0xfffe, NULL) > 8);
    assert_int_equal(rd16(g->fx->ram + G_BUF + 6), 0); /* no current profile */
    ideg_free(g);
}

/* A medium above 80 minutes' worth of sectors is a DVD: profile, READ DVD STRUCTURE. */
static void test_dvd(void **state)
{
    struct ideg *g = *state;
    char err[256];
    uint8_t *b = buf(g);
    int fd = open(g->iso2, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 400000ll * 2048), 0); /* sparse */
    close(fd);
    uint8_t ds[12] = { 0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04 };
    /* a CD: no DVD structures */
    assert_int_equal(cmd_sense(g, ds), 0x053002);
    struct blk *nb;
    struct blk_opts o = { .path = g->iso2, .fd = -1, .readonly = 1 };
    assert_int_equal(blk_open(&nb, g->fx->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(ide_change_medium(g->ide, "ide-5632", nb, err, sizeof(err)), 0);
    uint8_t tur[12] = { 0 };
    assert_int_equal(cmd_sense(g, tur), 0x062800);
    uint8_t gc[12] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 64 };
    assert_true(cmd_in(g, gc, 0xfffe, NULL) > 8);
    assert_int_equal(rd16(b + 6), 0x0010); /* DVD-ROM */
    assert_int_equal(cmd_in(g, ds, 0xfffe, NULL), 4 + 2048);
    assert_int_equal(rd16(b), 2050);
    assert_int_equal(b[4], 0x01);
    assert_int_equal(rd32(b + 8), 0x30000);
    assert_int_equal(rd32(b + 12), 0x30000 + 400000 - 1);
    ds[7] = 0x01;
    assert_int_equal(cmd_in(g, ds, 0xfffe, NULL), 8);
    ds[7] = 0xff;
    assert_int_equal(cmd_in(g, ds, 0xfffe, NULL), 4 + 16);
    assert_int_equal(b[4 + 12], 0xff);
    ds[7] = 0x02; /* no such structure here */
    assert_int_equal(cmd_sense(g, ds), 0x052400);
    ds[7] = 0x00;
    ds[6] = 1; /* no second layer */
    assert_int_equal(cmd_sense(g, ds), 0x052400);
    /* the audio control page */
    uint8_t ms[12] = { 0x5a, 0, 0x0e, 0, 0, 0, 0, 0, 64 };
    assert_int_equal(cmd_in(g, ms, 0xfffe, NULL), 8 + 16);
    assert_int_equal(b[8], 0x0e);
}

/* A CD-ROM as primary slave next to no master: firmware finds it by its signature. */
static void test_cd_as_primary_slave(void **state)
{
    struct ideg_opts o = { .disk_sectors = 0, .cd_sectors = 64, .cd_on_primary_slave = 1 };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, PRI_CTL, 0x04);
    ideg_out(g, PRI_CTL, 0x00);
    ideg_select(g, PRI, 0, 0);
    assert_int_equal(ideg_status(g, PRI), 0); /* no master */
    ideg_select(g, PRI, 1, 0);
    assert_int_equal(ideg_in(g, PRI + 4), 0x14);
    assert_int_equal(ideg_in(g, PRI + 5), 0xeb);
    uint8_t cap[12] = { 0x25 };
    assert_int_equal(ideg_packet(g, PRI, 1, cap, 8, 0) & 0x89, 0x08);
    assert_int_equal(ideg_atapi_pio_in(g, PRI, G_BUF, NULL), 8);
    assert_int_equal(rd32(g->fx->ram + G_BUF), 63);
    ideg_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signature_and_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read10_pio_seabios, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_pio_large_blocks_and_dma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_informational_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_medium_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_attention_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dvd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_sized_media, setup, teardown),
        cmocka_unit_test(test_empty_drive),
        cmocka_unit_test(test_cd_as_primary_slave),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

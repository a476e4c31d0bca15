/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/ide/ata.c: the ATA disk as SeaBIOS and ata_piix drive it through the in-process ioreq
 * source: IDENTIFY, PIO reads and writes in LBA28, LBA48 and CHS (single sectors and
 * MULTIPLE), DMA reads and writes, FLUSH CACHE reaching the file, SET FEATURES, READ NATIVE
 * MAX, out-of-range and oversized transfers, unknown commands, and how many guest accesses a
 * read costs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/ide_guest.h"

static int setup(void **state)
{
    struct ideg_opts o = { .disk_sectors = 20480, .cd_sectors = ~0ull };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, PRI_CTL, 0);
    *state = g;
    return 0;
}

static int setup_direct(void **state)
{
    struct ideg_opts o = { .disk_sectors = 20480, .cd_sectors = ~0ull, .cache = BLK_CACHE_NONE };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    assert_true(blk_direct(piix_ide_drive(g->ide, 0)->blk));
    ideg_out(g, PRI_CTL, 0);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    ideg_free(*state);
    return 0;
}

static void file_sector(struct ideg *g, uint64_t lba, uint8_t *out, unsigned n)
{
    int fd = open(g->disk, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, out, 512u * n, (off_t)(lba * 512)), (ssize_t)(512u * n));
    close(fd);
}

static uint16_t id_word(struct ideg *g, unsigned w)
{
    return ld16(g->fx->ram + G_BUF + 2 * w);
}

static void identify(struct ideg *g)
{
    ideg_select(g, PRI, 0, 0);
    ideg_out(g, PRI + 7, 0xec);
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_int_equal(ideg_status(g, PRI), 0x58);
    ideg_insw(g, PRI, G_BUF, 256);
    assert_int_equal(ideg_alt(g, PRI), 0x50);
}

static void test_identify(void **state)
{
    struct ideg *g = *state;
    identify(g);
    char model[41];
    for (unsigned i = 0; i < 20; i++) {
        model[2 * i] = (char)(id_word(g, 27 + i) >> 8);
        model[2 * i + 1] = (char)id_word(g, 27 + i);
    }
    model[40] = 0;
    assert_memory_equal(model, "HVMD HARDDISK ", 14);
    assert_int_equal(id_word(g, 0) & 0x8080, 0); /* ATA, not removable */
    assert_int_equal(id_word(g, 60) | (uint32_t)id_word(g, 61) << 16, 20480);
    assert_int_equal(id_word(g, 100) | (uint32_t)id_word(g, 101) << 16, 20480);
    assert_true(id_word(g, 83) & 0x0400);          /* LBA48 */
    assert_true(id_word(g, 49) & 0x0300);          /* LBA and DMA */
    assert_int_equal(id_word(g, 47) & 0xff, 16);   /* up to 16 sectors a block */
    /* integrity word: the 512 bytes sum to zero */
    uint8_t sum = 0;
    for (unsigned i = 0; i < 512; i++)
        sum = (uint8_t)(sum + g->fx->ram[G_BUF + i]);
    assert_int_equal(id_word(g, 255) & 0xff, 0xa5);
    assert_int_equal(sum, 0);
    /* IDENTIFY PACKET DEVICE and PACKET are not for a disk */
    ideg_out(g, PRI + 7, 0xa1);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    assert_int_equal(ideg_in(g, PRI + 1), 0x04);
    ideg_out(g, PRI + 7, 0xa0);
    assert_int_equal(ideg_status(g, PRI), 0x41);
}

/* SeaBIOS's ata_readwrite: READ SECTORS, then per sector: wait, rep insw 256. Each DRQ block
 * must be there at the first status read; count the guest's accesses. */
static void test_pio_read_lba28_and_cost(void **state)
{
    struct ideg *g = *state;
    ideg_out(g, PRI_CTL, 0x02); /* SeaBIOS runs with nIEN */
    ideg_lba28(g, PRI, 0, 300, 8);
    uint64_t before = g->fx->forwarded;
    ideg_out(g, PRI + 7, 0x20);
    for (unsigned s = 0; s < 8; s++) {
        assert_int_equal(ideg_alt(g, PRI), 0x58);
        assert_int_equal(ideg_status(g, PRI), 0x58);
        ideg_insw(g, PRI, G_BUF + 512 * s, 256);
    }
    uint64_t accesses = g->fx->forwarded - before;
    assert_int_equal(ideg_status(g, PRI), 0x50);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 300, 8, 512, 0), 0);
    assert_int_equal(accesses, 1 + 8 * 3); /* command; per sector alt status, status, one rep */
    assert_int_equal(piix_ide_stats(g->ide)->async_io, 0);
    assert_int_equal(g->fx->isa_changes[14], 0);
}

static void test_pio_read_with_interrupts_lba48_chs(void **state)
{
    struct ideg *g = *state;
    /* LBA48 beyond 28 bits is not there, within is */
    ideg_lba48(g, PRI, 0, 20000, 3);
    ideg_out(g, PRI + 7, 0x24);
    for (unsigned s = 0; s < 3; s++) {
        assert_int_equal(ideg_irq(g, PRI), 1); /* an interrupt for every block */
        assert_int_equal(ideg_status(g, PRI), 0x58);
        assert_int_equal(ideg_irq(g, PRI), 0);
        ideg_insw(g, PRI, G_BUF + 512 * s, 256);
    }
    assert_int_equal(ideg_irq(g, PRI), 0); /* none after the last data-in block */
    assert_int_equal(ideg_status(g, PRI), 0x50);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 20000, 3, 512, 0), 0);

    /* CHS: cylinder 2, head 3, sector 4 with the default 16 heads x 63 sectors */
    uint64_t lba = (2 * 16 + 3) * 63 + 4 - 1;
    ideg_out(g, PRI + 2, 1);
    ideg_out(g, PRI + 3, 4);
    ideg_out(g, PRI + 4, 2);
    ideg_out(g, PRI + 5, 0);
    ideg_select(g, PRI, 0, 3);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_status(g, PRI), 0x58);
    ideg_insw(g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, lba, 1, 512, 0), 0);
    /* sector 0 does not exist in CHS */
    ideg_out(g, PRI + 3, 0);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    assert_int_equal(ideg_in(g, PRI + 1), 0x14);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors */
    ideg_out(g, PRI + 2, 17);
    ideg_select(g, PRI, 0, 3);
    ideg_out(g, PRI + 7, 0x91);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    ideg_out(g, PRI + 2, 1);
    ideg_out(g, PRI + 3, 17);
    ideg_out(g, PRI + 4, 1);
    ideg_select(g, PRI, 0, 2);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_status(g, PRI), 0x58);
    ideg_insw(g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, (1 * 4 + 2) * 17 + 16, 1, 512, 0), 0);
}

static void test_pio_write_and_multiple(void **state)
{
    struct ideg *g = *state;
    uint8_t *ram = g->fx->ram;
    /* WRITE SECTORS: DRQ at once, no interrupt before the first block */
    for (unsigned s = 0; s < 4; s++)
        ideg_fill(ram + G_BUF + 512 * s, 5000 + s, 512, 9);
    ideg_lba28(g, PRI, 0, 40, 4);
    ideg_out(g, PRI + 7, 0x30);
    assert_int_equal(ideg_irq(g, PRI), 0);
    for (unsigned s = 0; s < 4; s++) {
        assert_int_equal(ideg_alt(g, PRI) & 0x88, 0x08);
        ideg_outsw(g, PRI, G_BUF + 512 * s, 256);
        assert_int_equal(ideg_irq(g, PRI), 1); /* ready for the next, or done */
        ideg_status(g, PRI);
    }
    assert_int_equal(ideg_alt(g, PRI), 0x50);
    uint8_t sec[512 * 4];
    file_sector(g, 40, sec, 4);
    assert_int_equal(ideg_check(sec, 5000, 4, 512, 9), 0);

    /* READ MULTIPLE with 4 sectors a block: 10 sectors are 3 blocks (4, 4, 2) */
    ideg_out(g, PRI + 2, 4);
    ideg_out(g, PRI + 7, 0xc6);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    ideg_lba28(g, PRI, 0, 1000, 10);
    ideg_out(g, PRI + 7, 0xc4);
    unsigned blocks = 0, words = 0;
    while (ideg_status(g, PRI) & 0x08) {
        unsigned n = MIN(4u * 256, (10 - words / 256) * 256);
        ideg_insw(g, PRI, G_BUF + 2 * words, n);
        words += n;
        blocks++;
    }
    assert_int_equal(blocks, 3);
    assert_int_equal(words, 10 * 256);
    assert_int_equal(ideg_check(ram + G_BUF, 1000, 10, 512, 0), 0);
    /* a 32-bit data port, as some drivers use it */
    ideg_lba28(g, PRI, 0, 7, 1);
    ideg_out(g, PRI + 7, 0x20);
    ideg_status(g, PRI);
    fx_rep_in(g->fx, PRI, 4, 128, G_BUF, 0);
    assert_int_equal(ideg_check(ram + G_BUF, 7, 1, 512, 0), 0);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    /* SET MULTIPLE MODE 0 disables; READ MULTIPLE then aborts; 3 is no power of two */
    ideg_out(g, PRI + 2, 0);
    ideg_out(g, PRI + 7, 0xc6);
    ideg_status(g, PRI);
    ideg_lba28(g, PRI, 0, 0, 1);
    ideg_out(g, PRI + 7, 0xc4);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    ideg_out(g, PRI + 2, 3);
    ideg_out(g, PRI + 7, 0xc6);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    /* WRITE MULTIPLE EXT with 16 */
    ideg_out(g, PRI + 2, 16);
    ideg_out(g, PRI + 7, 0xc6);
    ideg_status(g, PRI);
    for (unsigned s = 0; s < 20; s++)
        ideg_fill(ram + G_BUF + 512 * s, 7000 + s, 512, 3);
    ideg_lba48(g, PRI, 0, 100, 20);
    ideg_out(g, PRI + 7, 0x39);
    ideg_outsw(g, PRI, G_BUF, 16 * 256);
    assert_int_equal(ideg_status(g, PRI) & 0x08, 0x08);
    ideg_outsw(g, PRI, G_BUF + 16 * 512, 4 * 256);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    uint8_t big[512 * 20];
    file_sector(g, 100, big, 20);
    assert_int_equal(ideg_check(big, 7000, 20, 512, 3), 0);
}

static void dma(struct ideg *g, uint8_t cmd, uint64_t lba, uint32_t n, int lba48, int to_mem)
{
    struct ideg_prd e[64];
    uint32_t bytes = n * 512, i = 0;
    for (uint32_t off = 0; off < bytes; off += 0x10000, i++)
        e[i] = (struct ideg_prd){ G_BUF + off, MIN(bytes - off, 0x10000u), off + 0x10000 >= bytes };
    ideg_prd_table(g, G_PRD, e, i);
    ideg_bm_setup(g, 0, G_PRD, to_mem);
    if (lba48)
        ideg_lba48(g, PRI, 0, lba, n);
    else
        ideg_lba28(g, PRI, 0, (uint32_t)lba, (uint8_t)n);
    ideg_out(g, PRI + 7, cmd);
    ideg_bm_start(g, 0, to_mem);
}

static void dma_write_flush_read(struct ideg *g)
{
    uint8_t *ram = g->fx->ram;
    for (unsigned s = 0; s < 300; s++)
        ideg_fill(ram + G_BUF + 512 * s, 90000 + s, 512, 5);
    dma(g, 0x35, 12000, 300, 1, 0); /* WRITE DMA EXT */
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x04);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
    ideg_out(g, PRI + 7, 0xea); /* FLUSH CACHE EXT */
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_irq(g, PRI), 1);
    ideg_status(g, PRI);
    assert_true(blk_stats(piix_ide_drive(g->ide, 0)->blk)->flushes >= 1);
    uint8_t *sec = malloc(512 * 300);
    file_sector(g, 12000, sec, 300);
    assert_int_equal(ideg_check(sec, 90000, 300, 512, 5), 0);
    free(sec);
    memset(ram + G_BUF, 0, 512 * 300);
    dma(g, 0x25, 12000, 300, 1, 1); /* READ DMA EXT */
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_check(ram + G_BUF, 90000, 300, 512, 5), 0);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
}

static void test_dma_write_flush_read(void **state)
{
    struct ideg *g = *state;
    dma_write_flush_read(g);
    /* through the page cache, the data moved inside the guest's bus master start; only the
     * flush (an fdatasync through libaio) completed later */
    assert_int_equal(piix_ide_stats(g->ide)->async_io, 1);
    dma(g, 0xc8, 3, 16, 0, 1);
    assert_int_equal(ideg_alt(g, PRI), 0x50);
    assert_int_equal(ideg_irq(g, PRI), 1);
    ideg_bm_stop(g, 0);
}

static void test_dma_write_flush_read_direct(void **state)
{
    struct ideg *g = *state;
    dma_write_flush_read(g);
    assert_true(piix_ide_stats(g->ide)->async_io > 0);
    /* FUA write with the write cache off */
    ideg_out(g, PRI + 1, 0x82);
    ideg_out(g, PRI + 7, 0xef);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    identify(g);
    assert_int_equal(id_word(g, 85) & 0x20, 0);
    ideg_fill(g->fx->ram + G_BUF, 4242, 512, 7);
    dma(g, 0xca, 4242, 1, 0, 0);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    ideg_bm_stop(g, 0);
    uint8_t sec[512];
    file_sector(g, 4242, sec, 1);
    assert_int_equal(ideg_check(sec, 4242, 1, 512, 7), 0);
}

static void set_feature(struct ideg *g, uint8_t f, uint8_t want_status)
{
    ideg_out(g, PRI + 1, f);
    ideg_out(g, PRI + 7, 0xef);
    assert_int_equal(ideg_status(g, PRI), want_status);
}

/* The write cache the guest sees is the cache mode's (block.h): writeback (and none, unsafe)
 * has a volatile cache, on at power-on, that SET FEATURES turns off and on again;
 * writethrough (and directsync) has none: IDENTIFY words 82 and 85 say so, and enabling it is
 * aborted, so the guest never counts on flushes the host does not need (issue 16 'Also': the
 * drive reported its cache on whatever the mode). */
static void test_write_cache_matches_cache_mode(void **state)
{
    static const struct { enum blk_cache c; int cache; } modes[] = {
        { BLK_CACHE_WRITEBACK, 1 }, { BLK_CACHE_NONE, 1 }, { BLK_CACHE_UNSAFE, 1 },
        { BLK_CACHE_WRITETHROUGH, 0 }, { BLK_CACHE_DIRECTSYNC, 0 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
        struct ideg_opts o = { .disk_sectors = 2048, .cd_sectors = ~0ull, .cache = modes[i].c };
        struct ideg *g = ideg_new(&o);
        assert_non_null(g);
        ideg_out(g, PRI_CTL, 0);
        identify(g);
        if (((id_word(g, 82) >> 5) & 1) != modes[i].cache ||
            ((id_word(g, 85) >> 5) & 1) != modes[i].cache)
            fail_msg("cache mode %u: IDENTIFY words 82/85 %#x/%#x", (unsigned)modes[i].c,
                     id_word(g, 82), id_word(g, 85));
        set_feature(g, 0x82, 0x50); /* disabling is always fine */
        identify(g);
        assert_int_equal(id_word(g, 85) & 0x20, 0);
        assert_int_equal(id_word(g, 82) & 0x20, modes[i].cache ? 0x20 : 0);
        set_feature(g, 0x02, modes[i].cache ? 0x50 : 0x41);
        identify(g);
        assert_int_equal(id_word(g, 85) & 0x20, modes[i].cache ? 0x20 : 0);
        ideg_free(g);
    }
}

static void test_range_and_size_limits(void **state)
{
    struct ideg *g = *state;
    /* the last sector is readable, the one past it is not */
    ideg_lba28(g, PRI, 0, 20479, 1);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_status(g, PRI), 0x58);
    ideg_insw(g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 20479, 1, 512, 0), 0);
    ideg_lba28(g, PRI, 0, 20479, 2);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    assert_int_equal(ideg_in(g, PRI + 1), 0x14);
    /* count 0 is 256 sectors (LBA28) and 65536 (LBA48): past the end here */
    ideg_lba28(g, PRI, 0, 20300, 0);
    ideg_out(g, PRI + 7, 0xc8);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    ideg_lba48(g, PRI, 0, 0, 0);
    ideg_out(g, PRI + 7, 0x25);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    /* an address beyond 2^32 sectors */
    ideg_lba48(g, PRI, 0, 1ull << 40, 1);
    ideg_out(g, PRI + 7, 0x24);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    /* a count of 256 (0) within the disk: 128 KiB through DMA */
    dma(g, 0xc8, 10000, 256, 0, 1);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 10000, 256, 512, 0), 0);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
    /* READ VERIFY checks the range only */
    ideg_lba28(g, PRI, 0, 20400, 100);
    ideg_out(g, PRI + 7, 0x40);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    ideg_lba28(g, PRI, 0, 20000, 10);
    ideg_out(g, PRI + 7, 0x40);
    assert_int_equal(ideg_status(g, PRI), 0x50);
}

/* The largest transfer a command can ask for: 65536 sectors (32 MiB) in one READ DMA EXT. */
static void test_largest_transfer(void **state)
{
    struct ideg_opts o = { .disk_sectors = 70000, .cd_sectors = ~0ull };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    ideg_out(g, PRI_CTL, 0);
    struct ideg_prd *e = calloc(512, sizeof(*e));
    for (unsigned i = 0; i < 512; i++)
        e[i] = (struct ideg_prd){ (uint32_t)(0x800000 + i * 0x10000u), 0x10000, i == 511 };
    ideg_prd_table(g, G_PRD, e, 512);
    free(e);
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_lba48(g, PRI, 0, 1000, 0);
    ideg_out(g, PRI + 7, 0x25);
    ideg_bm_start(g, 0, 1);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x04);
    assert_int_equal(ideg_check(g->fx->ram + 0x800000, 1000, 65536, 512, 0), 0);
    ideg_free(g);
}

static void test_other_commands(void **state)
{
    struct ideg *g = *state;
    /* READ NATIVE MAX ADDRESS (EXT) */
    ideg_select(g, PRI, 0, 0x40);
    ideg_out(g, PRI + 7, 0x27);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    uint32_t max = ideg_in(g, PRI + 3) | (uint32_t)ideg_in(g, PRI + 4) << 8 |
                   (uint32_t)ideg_in(g, PRI + 5) << 16;
    assert_int_equal(max, 20479);
    ideg_out(g, PRI_CTL, 0x80);
    assert_int_equal(ideg_in(g, PRI + 3), 0);
    ideg_out(g, PRI_CTL, 0x00);
    ideg_out(g, PRI + 7, 0xf8);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    assert_int_equal(ideg_in(g, PRI + 6) & 0x0f, 0);
    /* SET FEATURES: transfer mode MWDMA2 shows in IDENTIFY; a bad mode aborts */
    ideg_out(g, PRI + 1, 0x03);
    ideg_out(g, PRI + 2, 0x22);
    ideg_out(g, PRI + 7, 0xef);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    identify(g);
    assert_int_equal(id_word(g, 63), 0x0407);
    ideg_out(g, PRI + 1, 0x03);
    ideg_out(g, PRI + 2, 0x50);
    ideg_out(g, PRI + 7, 0xef);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    ideg_out(g, PRI + 1, 0x99);
    ideg_out(g, PRI + 7, 0xef);
    assert_int_equal(ideg_status(g, PRI), 0x41);
    /* power commands, CHECK POWER MODE, RECALIBRATE, SEEK, EXECUTE DEVICE DIAGNOSTIC */
    static const uint8_t okcmds[] = { 0xe0, 0xe1, 0xe2, 0xe3, 0xe6, 0x10, 0x70, 0xe7 };
    for (unsigned i = 0; i < sizeof(okcmds); i++) {
        ideg_out(g, PRI + 7, okcmds[i]);
        assert_int_equal(ideg_wait(g, PRI), 0x50);
        ideg_status(g, PRI);
    }
    ideg_out(g, PRI + 7, 0x90);
    assert_int_equal(ideg_status(g, PRI), 0x50);
    assert_int_equal(ideg_in(g, PRI + 1), 0x01);
    assert_int_equal(ideg_in(g, PRI + 4), 0x00);
    /* unknown and unsupported commands: ABRT with an interrupt */
    static const uint8_t bad[] = { 0x00, 0xb0, 0x06, 0x2f, 0xf9, 0x37, 0x08, 0xff, 0x55 };
    for (unsigned i = 0; i < sizeof(bad); i++) {
        ideg_out(g, PRI + 7, bad[i]);
        assert_int_equal(ideg_irq(g, PRI), 1);
        assert_int_equal(ideg_status(g, PRI), 0x41);
        assert_int_equal(ideg_in(g, PRI + 1), 0x04);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_read_lba28_and_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_read_with_interrupts_lba48_chs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pio_write_and_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_write_flush_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_write_flush_read_direct, setup_direct, teardown),
        cmocka_unit_test(test_write_cache_matches_cache_mode),
        cmocka_unit_test_setup_teardown(test_range_and_size_limits, setup, teardown),
        cmocka_unit_test(test_largest_transfer),
        cmocka_unit_test_setup_teardown(test_other_commands, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

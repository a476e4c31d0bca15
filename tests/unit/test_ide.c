/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/ide/piix.c and drive.c: the PIIX3 IDE function as firmware and ata_piix see it,
 * through the in-process ioreq source: PCI config, the register file and soft reset,
 * interrupts and nIEN, absent devices, the bus master engine with good, short, long, endless
 * and malformed PRD tables, a bus master stopped mid-transfer, and a soft reset while a
 * medium request is in flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/lib/ide_guest.h"

static int setup(void **state)
{
    struct ideg_opts o = { .disk_sectors = 8192, .cd_sectors = 64 };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    *state = g;
    return 0;
}

static int setup_direct(void **state)
{
    struct ideg_opts o = { .disk_sectors = 8192, .cd_sectors = 64, .cache = BLK_CACHE_NONE };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    ideg_free(*state);
    return 0;
}

static void test_pci_function(void **state)
{
    struct ideg *g = *state;
    struct fakexen *fx = g->fx;
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0, 4), 0x70108086);
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 8, 4) >> 8, 0x010180);
    /* function 0 now says multi-function, so firmware looks at function 1 */
    assert_true(fx_cfg_read(fx, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1) & 0x80);
    /* no native-mode BARs; BAR4 is 16 ports of I/O */
    for (unsigned b = 0; b < 4; b++) {
        fx_cfg_write(fx, IDE_DEVFN, 0x10 + 4 * b, 4, 0xffffffff);
        assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0x10 + 4 * b, 4), 0);
    }
    fx_cfg_write(fx, IDE_DEVFN, 0x20, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0x20, 4), 0xfffffff1);
    fx_cfg_write(fx, IDE_DEVFN, 0x20, 4, BM_BASE);
    assert_true(fx_claimed(fx, HV_PIO, BM_BASE, BM_BASE + 15));
    /* the legacy ports, and nothing of the floppy's 0x3f7 */
    assert_true(fx_claimed(fx, HV_PIO, 0x1f0, 0x1f7));
    assert_true(fx_claimed(fx, HV_PIO, 0x3f6, 0x3f6));
    assert_false(fx_claimed(fx, HV_PIO, 0x3f7, 0x3f7));
    assert_true(fx_claimed(fx, HV_PIO, 0x170, 0x177));
    assert_true(fx_claimed(fx, HV_PIO, 0x376, 0x376));
    /* the timing registers ata_piix programs, and the decode-enable bits it checks */
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0x41, 1) & 0x80, 0x80);
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0x43, 1) & 0x80, 0x80);
    fx_cfg_write(fx, IDE_DEVFN, 0x44, 1, 0x33);
    assert_int_equal(fx_cfg_read(fx, IDE_DEVFN, 0x44, 1), 0x33);
    /* I/O decode off: the bus master registers go away */
    fx_cfg_write(fx, IDE_DEVFN, PCI_COMMAND, 2, 0);
    assert_false(fx_claimed(fx, HV_PIO, BM_BASE, BM_BASE + 15));
    assert_int_equal(ideg_in(g, ideg_bm(0) + 2), 0xff);
}

static void test_signatures_after_soft_reset(void **state)
{
    struct ideg *g = *state;
    /* primary: SRST with the slave selected; the master must be selected afterwards */
    ideg_select(g, PRI, 1, 0);
    ideg_out(g, PRI_CTL, 0x06);
    assert_int_equal(ideg_alt(g, PRI), 0); /* the absent slave answers nothing */
    ideg_select(g, PRI, 0, 0);
    assert_int_equal(ideg_alt(g, PRI) & 0x80, 0x80); /* the master is busy resetting */
    ideg_select(g, PRI, 1, 0);
    ideg_out(g, PRI_CTL, 0x02);
    assert_int_equal(ideg_alt(g, PRI), 0x50);
    assert_int_equal(ideg_in(g, PRI + 6) & 0x10, 0);
    assert_int_equal(ideg_in(g, PRI + 2), 1);
    assert_int_equal(ideg_in(g, PRI + 3), 1);
    assert_int_equal(ideg_in(g, PRI + 4), 0);
    assert_int_equal(ideg_in(g, PRI + 5), 0);
    assert_int_equal(ideg_in(g, PRI + 1), 1); /* diagnostics passed */
    /* the absent slave: status 0, so firmware sees nothing there */
    ideg_select(g, PRI, 1, 0);
    assert_int_equal(ideg_status(g, PRI), 0);
    /* a command to it is ignored */
    ideg_out(g, PRI + 7, 0xec);
    assert_int_equal(ideg_status(g, PRI), 0);
    assert_int_equal(ideg_irq(g, PRI), 0);
    /* secondary master: the ATAPI signature, status 0 */
    ideg_out(g, SEC_CTL, 0x06);
    ideg_out(g, SEC_CTL, 0x02);
    ideg_select(g, SEC, 0, 0);
    assert_int_equal(ideg_status(g, SEC), 0x00);
    assert_int_equal(ideg_in(g, SEC + 4), 0x14);
    assert_int_equal(ideg_in(g, SEC + 5), 0xeb);
}

static void test_empty_channel_reads_zero(void **state)
{
    struct ideg_opts o = { .disk_sectors = 64, .cd_sectors = ~0ull };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    /* SeaBIOS's presence check: write a pattern, read it back */
    ideg_out(g, SEC + 2, 0x55);
    ideg_out(g, SEC + 3, 0xaa);
    assert_int_equal(ideg_in(g, SEC + 2), 0);
    assert_int_equal(ideg_in(g, SEC + 3), 0);
    assert_int_equal(ideg_status(g, SEC), 0);
    assert_int_equal(ideg_alt(g, SEC), 0);
    ideg_out(g, SEC + 7, 0xec);
    assert_int_equal(ideg_status(g, SEC), 0);
    assert_int_equal(g->fx->isa_changes[15], 0);
    ideg_free(g);
}

static void test_registers_latch_and_hob(void **state)
{
    struct ideg *g = *state;
    ideg_select(g, PRI, 0, 0x40);
    ideg_out(g, PRI + 2, 0x12);
    ideg_out(g, PRI + 2, 0x34);
    ideg_out(g, PRI + 3, 0x56);
    ideg_out(g, PRI + 3, 0x78);
    assert_int_equal(ideg_in(g, PRI + 2), 0x34);
    assert_int_equal(ideg_in(g, PRI + 3), 0x78);
    ideg_out(g, PRI_CTL, 0x80); /* HOB: the previous values */
    assert_int_equal(ideg_in(g, PRI + 2), 0x12);
    assert_int_equal(ideg_in(g, PRI + 3), 0x56);
    /* a write to a command block register clears HOB */
    ideg_out(g, PRI + 4, 0x9a);
    assert_int_equal(ideg_in(g, PRI + 2), 0x34);
    assert_int_equal(ideg_in(g, PRI + 6), 0xe0);
    /* both devices latch the task file: the slave reads the same */
    ideg_select(g, PRI, 1, 0x40);
    assert_int_equal(ideg_in(g, PRI + 4), 0x9a);
    assert_int_equal(ideg_in(g, PRI + 6), 0xf0);
    /* data port bytes and odd sizes read as nothing */
    assert_int_equal(fx_in(g->fx, PRI, 1), 0xff);
}

static void test_interrupts_and_nien(void **state)
{
    struct ideg *g = *state;
    ideg_select(g, PRI, 0, 0);
    ideg_out(g, PRI_CTL, 0x00);
    /* CHECK POWER MODE: a no-data command, interrupt at the end */
    ideg_out(g, PRI + 7, 0xe5);
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_true(ideg_bm_status(g, 0) & 0x04);
    assert_int_equal(ideg_alt(g, PRI), 0x50); /* the alternate status leaves it */
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_int_equal(ideg_status(g, PRI), 0x50); /* the status clears it */
    assert_int_equal(ideg_irq(g, PRI), 0);
    assert_int_equal(ideg_in(g, PRI + 2), 0xff);
    /* write-1-to-clear of the bus master interrupt bit */
    ideg_out(g, ideg_bm(0) + 2, 0x04);
    assert_int_equal(ideg_bm_status(g, 0) & 0x04, 0);
    /* nIEN: no interrupt at all */
    unsigned changes = g->fx->isa_changes[14];
    ideg_out(g, PRI_CTL, 0x02);
    ideg_out(g, PRI + 7, 0xe5);
    assert_int_equal(ideg_alt(g, PRI), 0x50);
    assert_int_equal(g->fx->isa_changes[14], changes);
    assert_int_equal(ideg_bm_status(g, 0) & 0x04, 0);
    /* the drive-capable bits are the guest's; the simplex bit stays 0 */
    ideg_out(g, ideg_bm(0) + 2, 0xe0);
    assert_int_equal(ideg_bm_status(g, 0), 0x60);
}

/* READ DMA of COUNT sectors at LBA with the PRD entries E; returns the status. */
static uint8_t dma_read(struct ideg *g, uint32_t lba, uint8_t count, const struct ideg_prd *e,
                        unsigned n)
{
    ideg_prd_table(g, G_PRD, e, n);
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_lba28(g, PRI, 0, lba, count);
    ideg_out(g, PRI + 7, 0xc8);
    assert_int_equal(ideg_alt(g, PRI) & 0x88, 0x08); /* waiting for the engine */
    ideg_bm_start(g, 0, 1);
    return ideg_wait(g, PRI);
}

static void test_dma_prd_tables(void **state)
{
    struct ideg *g = *state;
    uint8_t *ram = g->fx->ram;
    ideg_out(g, PRI_CTL, 0);

    /* a table of odd pieces, exactly as long as the transfer; bit 0 of addresses and
     * lengths is ignored (1027 bytes at an odd address: 1026 bytes at the even one) */
    struct ideg_prd e1[] = { { G_BUF + 0x10001, 1027, 0 }, { G_BUF, 510, 0 },
                             { G_BUF + 0x20000, 0xf400, 0 }, { G_BUF + 0x50000, 1536, 1 } };
    memset(ram + G_BUF, 0, 0x60000);
    uint8_t st = dma_read(g, 100, 128, e1, 4);
    assert_int_equal(st, 0x50);
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x04); /* interrupt, not active */
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
    uint8_t *buf = malloc(65536);
    size_t off = 0;
    memcpy(buf + off, ram + G_BUF + 0x10000, 1026); off += 1026;
    memcpy(buf + off, ram + G_BUF, 510); off += 510;
    memcpy(buf + off, ram + G_BUF + 0x20000, 0xf400); off += 0xf400;
    memcpy(buf + off, ram + G_BUF + 0x50000, 1536); off += 1536;
    assert_int_equal(off, 65536);
    assert_int_equal(ideg_check(buf, 100, 128, 512, 0), 0);
    assert_int_equal(ram[G_BUF + 0x10000 + 1026], 0); /* nothing past the (even) length */
    free(buf);

    /* a table longer than the transfer: interrupt with the engine still active */
    struct ideg_prd e2[] = { { G_BUF, 0x10000, 0 }, { G_BUF + 0x10000, 0x10000, 1 } };
    st = dma_read(g, 0, 8, e2, 2);
    assert_int_equal(st, 0x50);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x05);
    assert_int_equal(ideg_check(ram + G_BUF, 0, 8, 512, 0), 0);
    ideg_bm_stop(g, 0);
    assert_int_equal(ideg_bm_status(g, 0) & 0x01, 0);
    ideg_status(g, PRI);

    /* a 64 KiB entry is written with length 0 */
    struct ideg_prd e3[] = { { G_BUF, 0x10000, 1 } };
    assert_int_equal(dma_read(g, 1000, 128, e3, 1), 0x50);
    assert_int_equal(ideg_check(ram + G_BUF, 1000, 128, 512, 0), 0);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
}

static void test_dma_prd_short_and_endless(void **state)
{
    struct ideg *g = *state;
    ideg_out(g, PRI_CTL, 0);

    /* shorter than the transfer: the engine stops without an interrupt, the device keeps
     * DRQ; a soft reset gets it back */
    struct ideg_prd e1[] = { { G_BUF, 1024, 1 } };
    uint8_t st = dma_read(g, 0, 4, e1, 1);
    assert_int_equal(st & 0x89, 0x08);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x00);
    assert_int_equal(ideg_irq(g, PRI), 0);
    ideg_out(g, PRI + 7, 0xe5); /* ignored while DRQ */
    assert_int_equal(ideg_alt(g, PRI) & 0x08, 0x08);
    ideg_bm_stop(g, 0);
    ideg_out(g, PRI_CTL, 0x04);
    ideg_out(g, PRI_CTL, 0x00);
    assert_int_equal(ideg_status(g, PRI), 0x50);

    /* a table with no end: 2-byte entries forever. The walk stops after 8192 of them. */
    static struct ideg_prd many[9000];
    for (unsigned i = 0; i < 9000; i++)
        many[i] = (struct ideg_prd){ (uint32_t)(G_BUF + 2 * i), 2, 0 };
    st = dma_read(g, 0, 64, many, 9000); /* 32 KiB: 16384 entries would be needed */
    assert_int_equal(st & 0x89, 0x08);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x00);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 0, 32, 512, 0), 0); /* 16 KiB moved */
    ideg_bm_stop(g, 0);
    ideg_out(g, PRI_CTL, 0x04);
    ideg_out(g, PRI_CTL, 0x00);
    assert_int_equal(ideg_status(g, PRI), 0x50);
}

static void test_dma_prd_outside_ram(void **state)
{
    struct ideg *g = *state;
    ideg_out(g, PRI_CTL, 0);

    /* the table itself beyond RAM */
    ideg_bm_setup(g, 0, 0xfff00000, 1);
    ideg_lba28(g, PRI, 0, 0, 1);
    ideg_out(g, PRI + 7, 0xc8);
    ideg_bm_start(g, 0, 1);
    uint8_t st = ideg_wait(g, PRI);
    assert_int_equal(st & 0x89, 0x01);
    assert_int_equal(ideg_in(g, PRI + 1), 0x04);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x06); /* error, interrupt, stopped */
    assert_int_equal(ideg_irq(g, PRI), 1);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);

    /* a buffer beyond RAM, and one that runs off the end of RAM */
    struct ideg_prd e1[] = { { G_RAM - 512, 1024, 1 } };
    st = dma_read(g, 0, 2, e1, 1);
    assert_int_equal(st & 0x89, 0x01);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x06);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
    struct ideg_prd e2[] = { { 0xfffffe00, 0x10000, 1 } };
    st = dma_read(g, 0, 2, e2, 1);
    assert_int_equal(st & 0x89, 0x01);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);

    /* a write from outside RAM: nothing reaches the disk */
    struct ideg_prd e3[] = { { G_RAM + 4096, 512, 1 } };
    ideg_prd_table(g, G_PRD, e3, 1);
    ideg_bm_setup(g, 0, G_PRD, 0);
    ideg_lba28(g, PRI, 0, 5, 1);
    ideg_out(g, PRI + 7, 0xca);
    ideg_bm_start(g, 0, 0);
    st = ideg_wait(g, PRI);
    assert_int_equal(st & 0x89, 0x01);
    ideg_bm_stop(g, 0);
    uint8_t sec[512];
    int fd = open(g->disk, O_RDONLY);
    assert_int_equal(pread(fd, sec, 512, 5 * 512), 512);
    close(fd);
    assert_int_equal(ideg_check(sec, 5, 1, 512, 0), 0);
}

/* With bus mastering off in the PCI command register the engine reaches no memory: a DMA
 * read writes no guest RAM, a DMA write takes nothing to the disk, and each command ends with
 * an error (ERR, ABRT; the bus master's error and interrupt bits), as a bus master that cannot
 * get the bus (issue 16 item 7: READ DMA wrote guest RAM). Turned on again, DMA works. */
static void test_dma_bus_master_off(void **state)
{
    struct ideg *g = *state;
    uint8_t *ram = g->fx->ram;
    ideg_out(g, PRI_CTL, 0);
    fx_cfg_write(g->fx, IDE_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO);
    memset(ram + G_BUF, 0xaa, 8192);
    struct ideg_prd e[] = { { G_BUF, 4096, 1 } };
    uint8_t st = dma_read(g, 10, 8, e, 1);
    assert_int_equal(st & 0x89, 0x01);
    assert_int_equal(ideg_in(g, PRI + 1), 0x04);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x06);
    assert_int_equal(ideg_irq(g, PRI), 1);
    for (unsigned i = 0; i < 8192; i++)
        if (ram[G_BUF + i] != 0xaa)
            fail_msg("guest RAM at %#x written with bus mastering off", G_BUF + i);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);

    /* a write: the sector keeps its data */
    memset(ram + G_BUF, 0x55, 512);
    ideg_prd_table(g, G_PRD, (struct ideg_prd[]){ { G_BUF, 512, 1 } }, 1);
    ideg_bm_setup(g, 0, G_PRD, 0);
    ideg_lba28(g, PRI, 0, 5, 1);
    ideg_out(g, PRI + 7, 0xca);
    ideg_bm_start(g, 0, 0);
    st = ideg_wait(g, PRI);
    assert_int_equal(st & 0x89, 0x01);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x06);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
    uint8_t sec[512];
    int fd = open(g->disk, O_RDONLY);
    assert_int_equal(pread(fd, sec, 512, 5 * 512), 512);
    close(fd);
    assert_int_equal(ideg_check(sec, 5, 1, 512, 0), 0);

    /* bus mastering back on: the same read works */
    fx_cfg_write(g->fx, IDE_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    st = dma_read(g, 10, 8, e, 1);
    assert_int_equal(st, 0x50);
    assert_int_equal(ideg_check(ram + G_BUF, 10, 8, 512, 0), 0);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);
}

static void test_bm_started_before_command(void **state)
{
    struct ideg *g = *state;
    ideg_out(g, PRI_CTL, 0);
    struct ideg_prd e[] = { { G_BUF, 4096, 1 } };
    ideg_prd_table(g, G_PRD, e, 1);
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_bm_start(g, 0, 1); /* nothing to do yet */
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x01);
    ideg_lba28(g, PRI, 0, 77, 8);
    ideg_out(g, PRI + 7, 0xc8);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_bm_status(g, 0) & 0x07, 0x04);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 77, 8, 512, 0), 0);
    ideg_bm_stop(g, 0);
}

/* With O_DIRECT the medium requests go through libaio: the guest sees BSY until the loop
 * takes the completion. A soft reset meanwhile waits for it and then leaves the drive clean. */
static void test_async_dma_and_reset_in_flight(void **state)
{
    struct ideg *g = *state;
    struct ide_drive *d = piix_ide_drive(g->ide, 0);
    assert_true(blk_direct(d->blk)); /* build/ must be on a file system that takes O_DIRECT */
    ideg_out(g, PRI_CTL, 0);
    struct ideg_prd e[] = { { G_BUF, 0x10000, 0 }, { G_BUF + 0x10000, 0x10000, 1 } };
    memset(g->fx->ram + G_BUF, 0, 0x20000);
    ideg_prd_table(g, G_PRD, e, 2);
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_lba28(g, PRI, 0, 256, 0); /* 256 sectors */
    ideg_out(g, PRI + 7, 0xc8);
    ideg_bm_start(g, 0, 1);
    assert_int_equal(ideg_alt(g, PRI) & 0x80, 0x80);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
    assert_int_equal(ideg_irq(g, PRI), 1);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 256, 256, 512, 0), 0);
    assert_true(piix_ide_stats(g->ide)->async_io > 0);
    ideg_bm_stop(g, 0);
    ideg_status(g, PRI);

    /* reset with a read in flight */
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_lba28(g, PRI, 0, 0, 0);
    ideg_out(g, PRI + 7, 0xc8);
    ideg_bm_start(g, 0, 1);
    assert_int_equal(ideg_alt(g, PRI) & 0x80, 0x80);
    ideg_out(g, PRI_CTL, 0x04);
    ideg_out(g, PRI_CTL, 0x00);
    uint8_t st = ideg_wait(g, PRI);
    assert_int_equal(st, 0x50);
    assert_int_equal(ideg_in(g, PRI + 2), 1);
    assert_int_equal(ideg_in(g, PRI + 3), 1);
    assert_int_equal(d->io_busy, 0);
    ideg_bm_stop(g, 0);
    /* and the drive works afterwards */
    struct ideg_prd e2[] = { { G_BUF, 512, 1 } };
    assert_int_equal(dma_read(g, 4000, 1, e2, 1), 0x50);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 4000, 1, 512, 0), 0);
    ideg_bm_stop(g, 0);
}

static int setup_direct_pair(void **state)
{
    struct ideg_opts o = { .disk_sectors = 8192, .cd_sectors = 64, .cache = BLK_CACHE_NONE,
                           .cd_on_primary_slave = 1 };
    struct ideg *g = ideg_new(&o);
    assert_non_null(g);
    *state = g;
    return 0;
}

/* EXECUTE DEVICE DIAGNOSTIC sent to the slave while the master's read is in flight: both
 * devices run it, so the master's request is waited for and dropped; the master shows the
 * diagnostic's result, not the abandoned read's DRQ, and takes commands after (issue 16 item
 * 8: the read completed into a stopped transfer, DRQ stayed up, every command was ignored). */
static void test_diagnostic_drains_both(void **state)
{
    struct ideg *g = *state;
    struct ide_drive *d = piix_ide_drive(g->ide, 0);
    assert_true(blk_direct(d->blk));
    ideg_out(g, PRI_CTL, 0);
    ideg_lba28(g, PRI, 0, 300, 8);
    ideg_out(g, PRI + 7, 0x20); /* READ SECTORS: the first block from the medium, in flight */
    assert_int_equal(ideg_alt(g, PRI) & 0x80, 0x80);
    ideg_select(g, PRI, 1, 0);
    ideg_out(g, PRI + 7, 0x90);
    for (int i = 0; i < 50; i++)
        loop_run_once(g->fx->loop, 2); /* whatever was in flight completes */
    assert_int_equal(d->io_busy, 0);
    assert_int_equal(ideg_in(g, PRI + 6) & 0x10, 0); /* device 0 selected */
    assert_int_equal(ideg_alt(g, PRI), 0x50);
    assert_int_equal(ideg_in(g, PRI + 1), 0x01);   /* diagnostics passed */
    assert_int_equal(ideg_in(g, PRI + 2), 1);      /* the signature */
    assert_int_equal(ideg_status(g, PRI), 0x50);
    /* both devices take commands */
    ideg_lba28(g, PRI, 0, 77, 1);
    ideg_out(g, PRI + 7, 0x20);
    assert_int_equal(ideg_wait(g, PRI), 0x58);
    ideg_insw(g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(g->fx->ram + G_BUF, 77, 1, 512, 0), 0);
    assert_int_equal(ideg_wait(g, PRI) & 0x89, 0);
    uint8_t tur[12] = { 0 };
    ideg_packet(g, PRI, 1, tur, 0, 0);
    assert_int_equal(ideg_wait(g, PRI) & 0x88, 0);
}

static void test_bm_stopped_mid_transfer(void **state)
{
    struct ideg *g = *state;
    struct ide_drive *d = piix_ide_drive(g->ide, 0);
    assert_true(blk_direct(d->blk));
    ideg_out(g, PRI_CTL, 0);
    struct ideg_prd e[] = { { G_BUF, 0x10000, 1 } };
    ideg_prd_table(g, G_PRD, e, 1);
    ideg_bm_setup(g, 0, G_PRD, 1);
    ideg_lba28(g, PRI, 0, 0, 128);
    ideg_out(g, PRI + 7, 0xc8);
    ideg_bm_start(g, 0, 1);
    ideg_bm_stop(g, 0); /* before the data came */
    assert_int_equal(d->io_busy, 0);
    assert_int_equal(ideg_alt(g, PRI) & 0x89, 0x08);
    assert_int_equal(ideg_bm_status(g, 0) & 0x01, 0);
    ideg_out(g, PRI_CTL, 0x04);
    ideg_out(g, PRI_CTL, 0x00);
    assert_int_equal(ideg_wait(g, PRI), 0x50);
}

/* A PV driver asks the platform device to unplug the emulated disks: they go, the CD-ROM
 * stays. The "aux" variant keeps the primary master. */
static void test_unplug(void **state)
{
    struct ideg *g = *state;
    piix_ide_unplug(g->ide, VM_UNPLUG_AUX_IDE_DISKS);
    ideg_out(g, PRI_CTL, 0);
    ideg_select(g, PRI, 0, 0);
    ideg_out(g, PRI + 7, 0xe5);
    assert_int_equal(ideg_status(g, PRI), 0x50); /* the primary master stays */
    piix_ide_unplug(g->ide, VM_UNPLUG_IDE_DISKS | VM_UNPLUG_NICS);
    assert_int_equal(ideg_status(g, PRI), 0);
    ideg_out(g, PRI + 3, 0xaa);
    assert_int_equal(ideg_in(g, PRI + 3), 0); /* nobody on the channel now */
    unsigned changes = g->fx->isa_changes[14];
    ideg_out(g, PRI + 7, 0xec);
    assert_int_equal(ideg_status(g, PRI), 0);
    assert_int_equal(g->fx->isa_changes[14], changes);
    /* the CD-ROM answers as before */
    ideg_select(g, SEC, 0, 0);
    ideg_out(g, SEC + 7, 0xa1);
    assert_int_equal(ideg_status(g, SEC) & 0x08, 0x08);
    ideg_insw(g, SEC, G_BUF, 256);
    assert_int_equal(ld16(g->fx->ram + G_BUF) >> 14, 2);
}

static void test_bad_configurations(void **state)
{
    struct fakexen *fx = fx_new(1 << 20);
    struct piix_ide *ide;
    char err[256];
    struct ide_drive_conf conf[4] = { { IDE_DISK, NULL, NULL } };
    assert_non_null(fx);
    struct pci_dev *f0 = pci_dev_new(fx->vm.pci, PCI_DEVFN(1, 0), "isa", 0x8086, 0x7000,
                                     0x060100, 0, NULL, NULL);
    assert_int_equal(pci_dev_add(f0), 0);
    /* a disk without an image */
    assert_int_equal(piix_ide_new(&fx->vm, conf, &ide, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no image"));
    /* a read-only hard disk */
    char dir[200], path[256];
    ideg_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ro.img", dir);
    ideg_make_image(path, 16, 512, 0);
    struct blk_opts o = { .path = path, .fd = -1, .readonly = 1 };
    assert_int_equal(blk_open(&conf[0].blk, fx->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(piix_ide_new(&fx->vm, conf, &ide, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "read-only"));
    /* nothing left behind: the ports are free again, and a good one can follow */
    assert_false(fx_claimed(fx, HV_PIO, 0x1f0, 0x1f7));
    assert_null(pci_dev_find(fx->vm.pci, IDE_DEVFN));
    o.readonly = 0;
    assert_int_equal(blk_open(&conf[0].blk, fx->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(piix_ide_new(&fx->vm, conf, &ide, err, sizeof(err)), 0);
    piix_ide_free(ide);
    assert_false(fx_claimed(fx, HV_PIO, 0x1f0, 0x1f7));
    unlink(path);
    rmdir(dir);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pci_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures_after_soft_reset, setup, teardown),
        cmocka_unit_test(test_empty_channel_reads_zero),
        cmocka_unit_test_setup_teardown(test_registers_latch_and_hob, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupts_and_nien, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_prd_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_prd_short_and_endless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_prd_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_bus_master_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bm_started_before_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_dma_and_reset_in_flight, setup_direct, teardown),
        cmocka_unit_test_setup_teardown(test_bm_stopped_mid_transfer, setup_direct, teardown),
        cmocka_unit_test_setup_teardown(test_diagnostic_drains_both, setup_direct_pair, teardown),
        cmocka_unit_test_setup_teardown(test_unplug, setup, teardown),
        cmocka_unit_test(test_bad_configurations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

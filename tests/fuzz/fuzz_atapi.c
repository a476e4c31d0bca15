/* libFuzzer target for the ATAPI CD-ROM (devices/ide/atapi.c) behind the IDE controller: a CD-ROM
 * with a medium at the secondary master and an empty one at the secondary slave, packets
 * whose bytes come from the input (PIO or DMA, any byte count limit), and media changes as
 * QMP makes them (eject, forced or not, and a new medium) at any point of a transfer. */
#include "tests/fuzz/ide_fuzz.h"

static void media(struct fakexen *fx, struct ide_drive_conf conf[4], uint8_t sel)
{
    conf[0].kind = IDE_DISK;
    conf[0].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0, BLK_CACHE_WRITEBACK, 0);
    conf[2].kind = IDE_CD;
    conf[2].id = "cd0";
    conf[2].blk = fz_blk(fx, fz_image("iso", 2 << 20, 1), 1, BLK_CACHE_WRITEBACK, 0);
    conf[3].kind = IDE_CD;
    conf[3].id = "cd1";
}

static void extra(struct fz *f, unsigned op)
{
    struct fakexen *fx = f->fx;
    char err[256];
    switch (op) {
    case 12: { /* PACKET: features, byte count limit, the 12 bytes of the command */
        uint8_t dev = (uint8_t)fz_u(f, 1);
        fx_out(fx, 0x176, 1, 0xa0 | (dev & 0x10));
        fx_out(fx, 0x171, 1, dev & 0x07);
        fx_out(fx, 0x174, 1, fz_u(f, 1));
        fx_out(fx, 0x175, 1, fz_u(f, 1));
        fx_out(fx, 0x177, 1, 0xa0);
        uint64_t gpa = 0x3000;
        for (unsigned i = 0; i < 12; i++)
            fx->ram[gpa + i] = (uint8_t)fz_u(f, 1);
        fx_rep_out(fx, 0x170, 2, 6, gpa, 0);
        break;
    }
    case 13: { /* QMP eject */
        uint8_t b = (uint8_t)fz_u(f, 1);
        (void)!ide_eject(f->ide, (b & 2) ? "cd1" : "cd0", b & 1, err, sizeof(err));
        break;
    }
    case 14: { /* QMP blockdev-change-medium */
        uint8_t b = (uint8_t)fz_u(f, 1);
        struct blk *nb = fz_blk(fx, fz_image("iso", 2 << 20, 1), 1, BLK_CACHE_WRITEBACK, 0);
        (void)!ide_change_medium(f->ide, (b & 2) ? "cd1" : "cd0", nb, err, sizeof(err));
        break;
    }
    default: { /* read a DRQ block the way the device announces it */
        uint32_t n = (fx_in(fx, 0x174, 1) | fx_in(fx, 0x175, 1) << 8) / 2 + 1;
        fx_rep_in(fx, 0x170, 2, n % IOREQ_MAX_COUNT + 1, 0x10000, 0);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_quiet();
    if (size < 1)
        return 0;
    struct fz *f = fz_new(media, data, size);
    while (fz_step(f, extra))
        ;
    fz_free(f);
    return 0;
}

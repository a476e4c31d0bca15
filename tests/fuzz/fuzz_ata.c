/* libFuzzer target for the IDE controller and the ATA disk command set (devices/ide/piix.c,
 * drive.c, ata.c): two disks on the primary channel, driven by whatever the input makes of
 * the task file, the data port, the bus master and PRD tables (tests/fuzz/ide_fuzz.h).
 * The first byte picks the primary master's cache mode (page cache, or
 * O_DIRECT + libaio one time in sixteen, whose completions come in when the input lets time
 * pass). */
#include "tests/fuzz/ide_fuzz.h"

static void extra(struct fz *f, unsigned op)
{
    struct fakexen *fx = f->fx;
    switch (op) {
    case 12: { /* an LBA48 command: previous and current halves of the task file */
        for (unsigned r = 1; r <= 5; r++) {
            fx_out(fx, (uint16_t)(0x1f0 + r), 1, fz_u(f, 1));
            fx_out(fx, (uint16_t)(0x1f0 + r), 1, fz_u(f, 1));
        }
        fx_out(fx, 0x1f6, 1, 0x40 | (fz_u(f, 1) & 0x10));
        fx_out(fx, 0x1f7, 1, fz_u(f, 1));
        break;
    }
    case 13: /* soft reset pulse, or a device control write */
        if (fz_u(f, 1) & 1) {
            fx_out(fx, 0x3f6, 1, 0x04);
            fx_out(fx, 0x3f6, 1, 0x00);
        } else {
            fx_out(fx, 0x3f6, 1, fz_u(f, 1));
        }
        break;
    case 14: { /* a whole DRQ block through the data port, as SeaBIOS moves it */
        uint32_t words = 256u * (1 + fz_u(f, 1) % 16);
        uint64_t gpa = (fz_u(f, 2) * 512u) % FZ_RAM;
        if (fz_u(f, 1) & 1)
            fx_rep_in(fx, 0x1f0, 2, words, gpa, 0);
        else
            fx_rep_out(fx, 0x1f0, 2, words, gpa, 0);
        break;
    }
    default:
        loop_run_once(fx->loop, 0);
        break;
    }
}

static void media(struct fakexen *fx, struct ide_drive_conf conf[4], uint8_t sel)
{
    conf[0].kind = IDE_DISK;
    conf[0].id = "ide-768";
    /* one input in sixteen (their io context costs 40 ms): O_DIRECT and libaio, completions
     * when the input lets time pass */
    int direct = (sel & 15) == 15;
    conf[0].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0,
                         direct ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK, direct);
    conf[1].kind = IDE_DISK;
    conf[1].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0, BLK_CACHE_WRITEBACK, 0);
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

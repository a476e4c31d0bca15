/* SPDX-License-Identifier: GPL-2.0-only */
/* ATA hard disk command set, for IDE drives (drive.h) behind any controller.
 * Spec: ATA/ATAPI-6 (T13/1410D) sections 6 (command descriptions) and 8.15 (IDENTIFY DEVICE).
 * Emulated: IDENTIFY DEVICE; READ / WRITE SECTORS, MULTIPLE and DMA in CHS, LBA28 and LBA48
 * (and the FUA EXT writes); READ VERIFY; FLUSH CACHE (EXT), completing only when the data is
 * durable; SET FEATURES (write cache, transfer mode, look-ahead, revert), SET MULTIPLE MODE,
 * INITIALIZE DEVICE PARAMETERS, RECALIBRATE, SEEK, READ NATIVE MAX ADDRESS (EXT), the power
 * commands (they change nothing but the answer to CHECK POWER MODE) and EXECUTE DEVICE
 * DIAGNOSTIC (in drive.c). Anything else ends with ABRT, as the spec wants for an unsupported
 * command.
 * Left out: SMART, security, HPA (SET MAX), DATA SET MANAGEMENT, logs, NCQ, streaming. */
#include "devices/ide/drive.h"
#include "dm/log.h"

#include <errno.h>
#include <string.h>

#define ATA_MAX_MULT 16

static void identify(struct ide_drive *d, uint16_t *w)
{
    uint64_t lba28 = MIN(d->sectors, (uint64_t)0x0fffffff);
    uint64_t chs = (uint64_t)d->cyls * d->heads * d->spt;
    memset(w, 0, 512);
    w[0] = 0x0040;                 /* fixed device */
    w[1] = (uint16_t)MIN(d->sectors / (16 * 63), (uint64_t)16383);
    w[3] = 16;
    w[6] = 63;
    ide_id_string(&w[10], d->serial, 10);
    ide_id_string(&w[23], "1.0", 4);
    ide_id_string(&w[27], "HVMD HARDDISK", 20);
    w[47] = 0x8000 | ATA_MAX_MULT;
    w[49] = 0x0b00;                /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;                /* PIO timing mode 2 (obsolete field) */
    w[53] = 0x0007;                /* words 54-58, 64-70 and 88 valid */
    w[54] = (uint16_t)MIN(d->cyls, 65535u);
    w[55] = (uint16_t)d->heads;
    w[56] = (uint16_t)d->spt;
    chs = MIN(chs, lba28);
    w[57] = (uint16_t)chs;
    w[58] = (uint16_t)(chs >> 16);
    w[59] = d->mult ? (uint16_t)(0x100 | d->mult) : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    ide_id_modes(d, w, 0x0007, 0x003f); /* multiword DMA 0-2, UDMA 0-5 (the controller
                                         * decides what is used) */
    w[64] = 0x0003;                /* PIO 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007e;                /* ATA-1 to ATA-6 */
    /* a volatile write cache where the cache mode has one (block.h: writethrough and
     * directsync make every write durable and have none) */
    w[82] = blk_write_cache(d->blk) ? 0x0020 : 0;
    w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400; /* FLUSH CACHE EXT, FLUSH CACHE, 48-bit */
    w[84] = 0x4000;
    w[85] = d->wce ? 0x0020 : 0;
    w[86] = 0x2000 | 0x1000 | 0x0400;
    w[87] = 0x4000;
    w[93] = d->unit ? 0x4b00 : 0x407f;
    w[100] = (uint16_t)d->sectors;
    w[101] = (uint16_t)(d->sectors >> 16);
    w[102] = (uint16_t)(d->sectors >> 32);
    w[103] = (uint16_t)(d->sectors >> 48);
    ide_id_checksum(w);
}

static void ata_init(struct ide_drive *d)
{
    uint64_t bytes = blk_size(d->blk);
    d->sectors = bytes / ATA_SECTOR;
    if (bytes % ATA_SECTOR)
        log_warn("ide: %s: the last %llu bytes (not a whole sector) are not visible to the guest",
                 blk_path(d->blk), (unsigned long long)(bytes % ATA_SECTOR));
    d->heads = 16;
    d->spt = 63;
    d->cyls = (uint32_t)MIN(d->sectors / (16 * 63), (uint64_t)16383);
    d->mult = ATA_MAX_MULT;
    d->wce = blk_write_cache(d->blk);
    d->xfer_mode = 0;
}

static void fail(struct ide_drive *d, uint8_t error)
{
    ide_done(d, ST_DRDY | ST_ERR, error, 1);
}

/* The address and count the task file names. 0, or -1 if it is no sector of the disk. */
static int task_range(struct ide_drive *d, int lba48, uint64_t *lba, uint64_t *count)
{
    if (lba48) {
        *lba = (uint64_t)d->lbal | (uint64_t)d->lbam << 8 | (uint64_t)d->lbah << 16 |
               (uint64_t)d->hob_lbal << 24 | (uint64_t)d->hob_lbam << 32 |
               (uint64_t)d->hob_lbah << 40;
        *count = (uint64_t)d->nsect | (uint64_t)d->hob_nsect << 8;
        if (*count == 0)
            *count = 65536;
    } else {
        if (d->select & DEV_LBA) {
            *lba = (uint64_t)d->lbal | (uint64_t)d->lbam << 8 | (uint64_t)d->lbah << 16 |
                   (uint64_t)(d->select & 0x0f) << 24;
        } else {
            unsigned cyl = d->lbam | (unsigned)d->lbah << 8, head = d->select & 0x0f;
            unsigned sect = d->lbal;
            if (sect == 0 || sect > d->spt || head >= d->heads)
                return -1;
            *lba = ((uint64_t)cyl * d->heads + head) * d->spt + sect - 1;
        }
        *count = d->nsect ? d->nsect : 256;
    }
    if (*lba >= d->sectors || *count > d->sectors - *lba)
        return -1;
    return 0;
}

static void rw_end(struct ide_drive *d, int err)
{
    if (err) {
        ide_guest_error(d, "%s failed: %d", d->x.out ? "write" : "read", err);
        fail(d, err == -EFAULT || d->x.out ? ER_ABRT : ER_UNC);
        return;
    }
    if (!d->x.out && !d->x.dma)
        ide_done(d, ST_DRDY | ST_DSC, 0, 0); /* PIO data-in: no interrupt after the last block */
    else
        ide_ok(d);
}

/* READ / WRITE in all their forms. */
static void rw(struct ide_drive *d, int lba48, unsigned flags, unsigned sectors_per_drq)
{
    uint64_t lba, count;
    if (task_range(d, lba48, &lba, &count) < 0) {
        ide_guest_error(d, "sector address out of range");
        fail(d, ER_IDNF | ER_ABRT);
        return;
    }
    ide_xfer(d, flags | IDE_XF_MEDIUM, lba * ATA_SECTOR, count * ATA_SECTOR,
             (size_t)sectors_per_drq * ATA_SECTOR, rw_end);
}

static void multiple(struct ide_drive *d, int lba48, unsigned flags)
{
    if (!d->mult) {
        fail(d, ER_ABRT); /* READ/WRITE MULTIPLE before SET MULTIPLE MODE enabled it */
        return;
    }
    rw(d, lba48, flags, d->mult);
}

static void identify_end(struct ide_drive *d, int err)
{
    ide_done(d, ST_DRDY | ST_DSC, 0, 0);
}

static void flush_end(struct ide_drive *d, int err)
{
    if (err)
        fail(d, ER_ABRT);
    else
        ide_ok(d);
}

static void verify(struct ide_drive *d, int lba48)
{
    uint64_t lba, count;
    if (task_range(d, lba48, &lba, &count) < 0)
        fail(d, ER_IDNF | ER_ABRT);
    else
        ide_ok(d);
}

static void set_features(struct ide_drive *d)
{
    switch (d->feature) {
    case 0x02: /* enable volatile write cache: only where there is one */
        if (!blk_write_cache(d->blk)) {
            fail(d, ER_ABRT);
            return;
        }
        d->wce = 1;
        break;
    case 0x82:
        d->wce = 0;
        break;
    case 0x03: /* set transfer mode */
        if (!ide_set_xfer_mode(d, d->nsect)) {
            fail(d, ER_ABRT);
            return;
        }
        break;
    case 0x55: case 0xaa: /* read look-ahead off / on */
    case 0x66: case 0xcc: /* revert to power-on defaults off / on */
        break;
    default:
        fail(d, ER_ABRT);
        return;
    }
    ide_ok(d);
}

static void native_max(struct ide_drive *d, int lba48)
{
    uint64_t max = lba48 ? d->sectors - 1 : MIN(d->sectors, (uint64_t)1 << 28) - 1;
    d->lbal = (uint8_t)max;
    d->lbam = (uint8_t)(max >> 8);
    d->lbah = (uint8_t)(max >> 16);
    if (lba48) {
        d->hob_lbal = (uint8_t)(max >> 24);
        d->hob_lbam = (uint8_t)(max >> 32);
        d->hob_lbah = (uint8_t)(max >> 40);
    } else {
        d->select = (uint8_t)((d->select & 0xf0) | ((max >> 24) & 0x0f));
    }
    ide_ok(d);
}

static void ata_exec(struct ide_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE */
        identify(d, (uint16_t *)(void *)d->buf);
        ide_xfer(d, 0, 0, 512, 512, identify_end);
        return;
    case 0x20: case 0x21: rw(d, 0, 0, 1); return;                       /* READ SECTORS */
    case 0x24: rw(d, 1, 0, 1); return;                                  /* READ SECTORS EXT */
    case 0xc4: multiple(d, 0, 0); return;                               /* READ MULTIPLE */
    case 0x29: multiple(d, 1, 0); return;                               /* READ MULTIPLE EXT */
    case 0x30: case 0x31: rw(d, 0, IDE_XF_OUT, 1); return;              /* WRITE SECTORS */
    case 0x34: rw(d, 1, IDE_XF_OUT, 1); return;                         /* WRITE SECTORS EXT */
    case 0xc5: multiple(d, 0, IDE_XF_OUT); return;                      /* WRITE MULTIPLE */
    case 0x39: multiple(d, 1, IDE_XF_OUT); return;                      /* WRITE MULTIPLE EXT */
    case 0xce: multiple(d, 1, IDE_XF_OUT | IDE_XF_FUA); return;         /* ... FUA EXT */
    case 0xc8: case 0xc9: rw(d, 0, IDE_XF_DMA, 1); return;              /* READ DMA */
    case 0x25: rw(d, 1, IDE_XF_DMA, 1); return;                         /* READ DMA EXT */
    case 0xca: case 0xcb: rw(d, 0, IDE_XF_DMA | IDE_XF_OUT, 1); return; /* WRITE DMA */
    case 0x35: rw(d, 1, IDE_XF_DMA | IDE_XF_OUT, 1); return;            /* WRITE DMA EXT */
    case 0x3d: rw(d, 1, IDE_XF_DMA | IDE_XF_OUT | IDE_XF_FUA, 1); return; /* ... FUA EXT */
    case 0x40: case 0x41: verify(d, 0); return;                         /* READ VERIFY */
    case 0x42: verify(d, 1); return;                                    /* READ VERIFY EXT */
    case 0xe7: case 0xea: ide_flush(d, flush_end); return;              /* FLUSH CACHE (EXT) */
    case 0xef: set_features(d); return;
    case 0xc6: /* SET MULTIPLE MODE */
        if (d->nsect > ATA_MAX_MULT || (d->nsect & (d->nsect - 1))) {
            fail(d, ER_ABRT);
            return;
        }
        d->mult = d->nsect;
        ide_ok(d);
        return;
    case 0x91: /* INITIALIZE DEVICE PARAMETERS: the CHS translation */
        if (d->nsect == 0) {
            fail(d, ER_ABRT);
            return;
        }
        d->heads = (d->select & 0x0f) + 1u;
        d->spt = d->nsect;
        d->cyls = (uint32_t)MIN(d->sectors / ((uint64_t)d->heads * d->spt), (uint64_t)65535);
        ide_ok(d);
        return;
    case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17:
    case 0x18: case 0x19: case 0x1a: case 0x1b: case 0x1c: case 0x1d: case 0x1e: case 0x1f:
    case 0x70: /* RECALIBRATE, SEEK */
        ide_ok(d);
        return;
    case 0xe5: case 0x98: /* CHECK POWER MODE: active or idle */
        d->nsect = 0xff;
        ide_ok(d);
        return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: /* STANDBY, IDLE (IMMEDIATE), SLEEP */
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x99:  /* their ATA-1 numbers */
        ide_ok(d);
        return;
    case 0xf8: native_max(d, 0); return;                 /* READ NATIVE MAX ADDRESS */
    case 0x27: native_max(d, 1); return;                 /* ... EXT */
    default:
        /* NOP, PACKET, IDENTIFY PACKET DEVICE, SMART, SET MAX, security, logs... */
        fail(d, ER_ABRT);
        return;
    }
}

static ide_end_fn *const ata_ends[] = { rw_end, identify_end, flush_end };
const struct ide_cmdset ide_ata = { .init = ata_init, .exec = ata_exec, .ends = ata_ends,
                                    .n_ends = ARRAY_SIZE(ata_ends) };

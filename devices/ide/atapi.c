/* SPDX-License-Identifier: GPL-2.0-only */
/* ATAPI CD-ROM / DVD-ROM, for IDE drives (drive.h) behind any controller.
 * Specs: ATA/ATAPI-6 (T13/1410D) for the PACKET protocol and IDENTIFY PACKET DEVICE; MMC-3
 * (T10/1363-D) and SPC-2 for the packet commands; SFF-8020i for the legacy TOC format field.
 * Emulated: the ATA commands an ATAPI device takes (PACKET with PIO or DMA data, IDENTIFY
 * PACKET DEVICE, IDENTIFY DEVICE aborted with the ATAPI signature, DEVICE RESET in drive.c,
 * SET FEATURES, the power commands), and the packet commands SeaBIOS, Linux's sr/cdrom and
 * Windows' cdrom.sys issue: TEST UNIT READY, REQUEST SENSE, INQUIRY, MODE SENSE (6/10: pages
 * 01h, 0Eh, 2Ah, 3Fh), MODE SELECT (accepted, ignored), START STOP UNIT (tray), PREVENT ALLOW
 * MEDIUM REMOVAL, READ CAPACITY, READ (10/12), READ CD (user data), SEEK, VERIFY, READ
 * TOC/PMA/ATIP (formats 0, 1, 2), READ DISC / TRACK INFORMATION, GET CONFIGURATION, GET EVENT
 * STATUS NOTIFICATION (media class, polled), READ DVD STRUCTURE (physical, copyright,
 * manufacturing, list), MECHANISM STATUS, SET CD SPEED, SYNCHRONIZE CACHE; 2048-byte sectors
 * of a single data track, a CD-ROM or (above 80 minutes' worth) a single-layer DVD-ROM; unit
 * attention after a medium change; the tray (opened by the guest or by QMP eject, closed by
 * the guest or by a new medium).
 * Left out: audio (PLAY, READ SUB-CHANNEL), raw sectors (READ CD other than user data),
 * writing, CSS keys (REPORT / SEND KEY), changers, asynchronous event notification. */
#include "devices/ide/drive.h"
#include "dm/log.h"
#include "dm/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* sense keys and additional sense codes */
#define SK_NO_SENSE 0x0
#define SK_NOT_READY 0x2
#define SK_MEDIUM_ERROR 0x3
#define SK_ILLEGAL_REQUEST 0x5
#define SK_UNIT_ATTENTION 0x6
#define SK_ABORTED_COMMAND 0xb
#define ASC_UNRECOVERED_READ 0x11
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_INCOMPATIBLE_FORMAT 0x30
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT 0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* GET EVENT STATUS NOTIFICATION media event codes */
#define EV_EJECT_REQUEST 1
#define EV_NEW_MEDIA 2
#define EV_MEDIA_REMOVAL 3

/* Above this many sectors the medium is a DVD (a CD holds at most about 80 minutes). */
#define CD_MAX_SECTORS (80u * 60 * 75)

/* An address as READ TOC gives it: MSF (minutes, seconds, frames, 2 s lead-in) or LBA. */
static void put_addr(uint8_t *p, uint32_t lba, int msf)
{
    if (msf) {
        uint32_t f = lba + 150;
        p[0] = 0;
        p[1] = (uint8_t)(f / (60 * 75));
        p[2] = (uint8_t)((f / 75) % 60);
        p[3] = (uint8_t)(f % 75);
    } else {
        put_be32(p, lba);
    }
}

static int present(const struct ide_drive *d) { return d->blk && !d->tray_open; }
static int is_dvd(const struct ide_drive *d) { return d->sectors > CD_MAX_SECTORS; }

/* A medium has whole sectors: an image whose size is not a multiple of 2048 bytes reads as
 * if zero-filled to the next sector (drive.c's load), so every byte is visible and a medium of
 * under 2048 bytes still has a sector (blk_open refuses one under 512 bytes). */
static uint64_t medium_sectors(const struct ide_drive *d)
{
    return d->blk ? (blk_size(d->blk) + CD_SECTOR - 1) / CD_SECTOR : 0;
}

static void atapi_init(struct ide_drive *d)
{
    d->sectors = medium_sectors(d);
    if (d->blk && blk_size(d->blk) % CD_SECTOR)
        log_info("ide: %s: %llu bytes, not a whole number of 2048-byte sectors: the last "
                 "sector reads as zeros past the image's end", blk_path(d->blk),
                 (unsigned long long)blk_size(d->blk));
    d->tray_open = 0;
    d->locked = 0;
    d->ua = 0;
    d->event = 0;
}

static void medium_changed(struct ide_drive *d)
{
    d->sectors = medium_sectors(d);
    if (d->blk) {
        d->ua = 1;
        d->event = EV_NEW_MEDIA;
    } else {
        d->ua = 0;
        d->event = EV_MEDIA_REMOVAL;
    }
}

/* ---- command completion ---- */

static void cmd_ok(struct ide_drive *d)
{
    d->sense_key = SK_NO_SENSE;
    d->asc = d->ascq = 0;
    d->nsect = IR_IO | IR_COD;
    ide_done(d, ST_DRDY | ST_DSC, 0, 1);
}

static void check(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense_key = key;
    d->asc = asc;
    d->ascq = ascq;
    d->nsect = IR_IO | IR_COD;
    ide_done(d, ST_DRDY | ST_ERR, (uint8_t)(key << 4), 1);
}

static void illegal(struct ide_drive *d, uint8_t asc)
{
    check(d, SK_ILLEGAL_REQUEST, asc, 0);
}

static int medium_ready(struct ide_drive *d)
{
    if (present(d))
        return 1;
    check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->tray_open ? 0x02 : 0x01);
    return 0;
}

static void data_end(struct ide_drive *d, int err)
{
    if (err == 0)
        cmd_ok(d);
    else if (err == -ENOMEDIUM)
        check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->tray_open ? 0x02 : 0x01);
    else if (err == -EFAULT)
        check(d, SK_ABORTED_COMMAND, 0, 0);
    else
        check(d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
}

/* The host's byte count limit for PIO (even, never 0). */
static size_t byte_limit(const struct ide_drive *d)
{
    size_t v = d->lbam | (size_t)d->lbah << 8;
    v &= ~(size_t)1;
    return v ? v : 0xfffe;
}

static unsigned data_flags(const struct ide_drive *d)
{
    return IDE_XF_ATAPI | (d->pkt_dma ? IDE_XF_DMA : 0);
}

/* Send the LEN bytes in d->buf, cut to ALLOC (the command's allocation length). */
static void reply(struct ide_drive *d, size_t len, size_t alloc);
/* The same for a structure whose first two bytes give the length of the rest. */
static void reply_sized(struct ide_drive *d, size_t len, size_t alloc)
{
    put_be16(d->buf, (uint16_t)(len - 2));
    reply(d, len, alloc);
}

static void reply(struct ide_drive *d, size_t len, size_t alloc)
{
    size_t n = MIN(len, alloc);
    if (n == 0) {
        cmd_ok(d);
        return;
    }
    ide_xfer(d, data_flags(d), 0, n, byte_limit(d), data_end);
}

/* ---- packet commands ---- */

static void inquiry(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    if (cdb[1] & 1) {
        illegal(d, ASC_INVALID_FIELD); /* no vital product data pages */
        return;
    }
    memset(b, 0, 36);
    b[0] = 0x05;     /* CD/DVD device */
    b[1] = 0x80;     /* removable */
    b[2] = 0x00;
    b[3] = 0x21;     /* ATAPI, response data format 1 */
    b[4] = 36 - 5;
    memcpy(b + 8, "HVMD    ", 8);
    memcpy(b + 16, "DVD-ROM         ", 16);
    memcpy(b + 32, "1.0 ", 4);
    reply(d, 36, get_be16(cdb + 3));
}

static void request_sense(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    if (d->ua) {
        d->ua = 0;
        d->sense_key = SK_UNIT_ATTENTION;
        d->asc = ASC_MEDIUM_CHANGED;
        d->ascq = 0;
    }
    b[0] = 0x70;     /* current error, fixed format */
    b[2] = d->sense_key;
    b[7] = 10;
    b[12] = d->asc;
    b[13] = d->ascq;
    reply(d, 18, cdb[4]);
}

static void read_capacity(struct ide_drive *d, const uint8_t *cdb)
{
    if (!medium_ready(d))
        return;
    /* the last LBA; a present medium has a sector at least (medium_sectors), and 0xffffffff
     * would say "too large: ask READ CAPACITY (16)", which MMC devices lack: a medium beyond
     * 8 TiB (past what 32-bit LBAs reach anyway) reports the last LBA they reach */
    put_be32(d->buf, (uint32_t)MIN(d->sectors - 1, (uint64_t)UINT32_MAX - 1));
    put_be32(d->buf + 4, CD_SECTOR);
    reply(d, 8, 8);
}

static void read_sectors(struct ide_drive *d, uint64_t lba, uint64_t count)
{
    if (!medium_ready(d))
        return;
    if (count == 0) {
        cmd_ok(d);
        return;
    }
    if (lba >= d->sectors || count > d->sectors - lba) {
        ide_guest_error(d, "read of %llu sectors at %llu beyond the %llu of the medium",
                        (unsigned long long)count, (unsigned long long)lba,
                        (unsigned long long)d->sectors);
        illegal(d, ASC_LBA_OUT_OF_RANGE);
        return;
    }
    /* PIO: whole sectors per DRQ block where the host's limit allows */
    size_t lim = byte_limit(d);
    size_t drq = lim >= CD_SECTOR ? lim / CD_SECTOR * CD_SECTOR : lim;
    ide_xfer(d, data_flags(d) | IDE_XF_MEDIUM, lba * CD_SECTOR, count * CD_SECTOR, drq, data_end);
}

static void read_cd(struct ide_drive *d, const uint8_t *cdb)
{
    unsigned type = (cdb[1] >> 2) & 7;
    uint64_t count = (uint64_t)cdb[6] << 16 | (uint64_t)cdb[7] << 8 | cdb[8];
    if (type != 0 && type != 2) {
        illegal(d, ASC_INVALID_FIELD); /* only Mode 1 data sectors here */
        return;
    }
    switch (cdb[9] & 0xf8) {
    case 0x00: /* nothing asked for */
        if (medium_ready(d))
            cmd_ok(d);
        return;
    case 0x10: /* user data */
        read_sectors(d, get_be32(cdb + 2), count);
        return;
    default:
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
}

/* A mode page of LEN bytes after its two-byte header, zeroed, at P + *N; *N moves past it. */
static uint8_t *mode_page(uint8_t *p, size_t *n, uint8_t code, uint8_t len)
{
    uint8_t *q = p + *n;
    memset(q, 0, 2u + len);
    q[0] = code;
    q[1] = len;
    *n += 2u + len;
    return q;
}

static size_t mode_pages(struct ide_drive *d, uint8_t *p, unsigned page, unsigned pc, int *ok)
{
    size_t n = 0;
    uint8_t *q;
    *ok = 1;
    if (page == 0x01 || page == 0x3f) {
        q = mode_page(p, &n, 0x01, 6); /* read error recovery */
        if (pc != 1)
            q[3] = 5; /* read retry count */
    }
    if (page == 0x0e || page == 0x3f) {
        /* CD audio control: ports 0 and 1 on channels 1 and 2, full volume */
        q = mode_page(p, &n, 0x0e, 14);
        if (pc != 1) {
            q[2] = 0x04;
            q[8] = 0x01;
            q[9] = 0xff;
            q[10] = 0x02;
            q[11] = 0xff;
        }
    }
    if (page == 0x2a || page == 0x3f) {
        /* CD/DVD capabilities and mechanical status */
        q = mode_page(p, &n, 0x2a, 20);
        if (pc != 1) {
            q[2] = 0x3b;   /* reads CD-R, CD-RW, DVD-ROM, DVD-R, DVD-RAM */
            q[4] = 0x71;   /* multi-session, mode 2 form 1 and 2, audio play */
            q[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0)); /* tray, eject, lock */
            put_be16(q + 8, 2816);    /* maximum read speed, kB/s (16x) */
            put_be16(q + 10, 256);    /* volume levels */
            put_be16(q + 12, 512);    /* buffer, kB */
            put_be16(q + 14, 2816);   /* current read speed */
        }
    }
    if (n == 0)
        *ok = 0;
    return n;
}

static void mode_sense(struct ide_drive *d, const uint8_t *cdb, int ten)
{
    unsigned pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
    size_t alloc = ten ? get_be16(cdb + 7) : cdb[4];
    size_t hdr = ten ? 8 : 4;
    uint8_t *b = d->buf;
    int ok;

    if (pc == 3) {
        illegal(d, ASC_SAVING_NOT_SUPPORTED);
        return;
    }
    size_t n = mode_pages(d, b + hdr, page, pc, &ok);
    if (!ok) {
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
    uint8_t type = d->tray_open ? 0x71 : d->blk ? 0x01 : 0x70;
    memset(b, 0, hdr);
    if (ten) {
        put_be16(b, (uint16_t)(hdr + n - 2));
        b[2] = type;
    } else {
        b[0] = (uint8_t)(hdr + n - 1);
        b[1] = type;
    }
    reply(d, hdr + n, alloc);
}

static void mode_select(struct ide_drive *d, const uint8_t *cdb, int ten)
{
    size_t len = ten ? get_be16(cdb + 7) : cdb[4];
    if (len == 0) {
        cmd_ok(d);
        return;
    }
    /* take the parameter list and keep nothing of it */
    ide_xfer(d, data_flags(d) | IDE_XF_OUT, 0, len, byte_limit(d), data_end);
}

static void start_stop(struct ide_drive *d, const uint8_t *cdb)
{
    int loej = cdb[4] & 2, start = cdb[4] & 1;
    if (loej && start && d->tray_open) {
        d->tray_open = 0;
        if (d->blk) {
            d->ua = 1;
            d->event = EV_NEW_MEDIA;
        }
        ide_tray_moved(d, 0);
    } else if (loej && !start) {
        if (d->locked) {
            illegal(d, ASC_REMOVAL_PREVENTED);
            d->ascq = 0x02;
            return;
        }
        if (!d->tray_open) {
            d->tray_open = 1;
            d->event = EV_MEDIA_REMOVAL;
            ide_tray_moved(d, 1);
        }
    }
    cmd_ok(d);
}

static void read_toc(struct ide_drive *d, const uint8_t *cdb)
{
    int msf = (cdb[1] & 2) != 0;
    unsigned format = cdb[2] & 0x0f, start = cdb[6];
    uint32_t leadout = (uint32_t)MIN(d->sectors, (uint64_t)UINT32_MAX);
    uint8_t *b = d->buf;
    size_t n;

    if (!medium_ready(d))
        return;
    if (format == 0)
        format = cdb[9] >> 6; /* SFF-8020i: the format in the control byte */
    memset(b, 0, 64);
    switch (format) {
    case 0: /* TOC */
        if (start > 1 && start != 0xaa) {
            illegal(d, ASC_INVALID_FIELD);
            return;
        }
        b[2] = 1;
        b[3] = 1;
        n = 4;
        if (start <= 1) {
            b[n + 1] = 0x14;  /* ADR 1, data track */
            b[n + 2] = 1;
            put_addr(b + n + 4, 0, msf);
            n += 8;
        }
        b[n + 1] = 0x14;
        b[n + 2] = 0xaa;      /* lead-out */
        put_addr(b + n + 4, leadout, msf);
        n += 8;
        break;
    case 1: /* multi-session information: one session, starting at track 1, LBA 0 */
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        put_addr(b + 8, 0, msf);
        n = 12;
        break;
    case 2: { /* raw TOC: points A0, A1, A2 and track 1 of session 1 */
        static const uint8_t points[4] = { 0xa0, 0xa1, 0xa2, 0x01 };
        b[2] = 1;
        b[3] = 1;
        n = 4;
        for (unsigned i = 0; i < 4; i++, n += 11) {
            uint8_t *e = b + n;
            e[0] = 1;
            e[1] = 0x14;
            e[3] = points[i];
            if (points[i] == 0xa0 || points[i] == 0xa1) {
                e[8] = 1;            /* first / last track */
            } else {
                uint8_t a[4];
                put_addr(a, points[i] == 0xa2 ? leadout : 0, 1);
                e[8] = a[1];
                e[9] = a[2];
                e[10] = a[3];
            }
        }
        break;
    }
    default:
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
    reply_sized(d, n, get_be16(cdb + 7));
}

static void disc_info(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    if (cdb[1] & 7) {
        illegal(d, ASC_INVALID_FIELD); /* only the standard disc information */
        return;
    }
    if (!medium_ready(d))
        return;
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;  /* last session complete, disc complete */
    b[3] = 1;     /* first track */
    b[4] = 1;     /* sessions */
    b[5] = 1;     /* first track of the last session */
    b[6] = 1;     /* last track of the last session */
    reply(d, 34, get_be16(cdb + 7));
}

/* READ TRACK INFORMATION: the one data track (by LBA inside it, by track 1, or session 1). */
static void track_info(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    unsigned type = cdb[1] & 3;
    uint32_t v = get_be32(cdb + 2);
    if (!medium_ready(d))
        return;
    if ((type == 0 && v >= d->sectors) || (type != 0 && v != 1) || type == 3) {
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
    uint32_t n = (uint32_t)MIN(d->sectors, (uint64_t)UINT32_MAX);
    memset(b, 0, 36);
    put_be16(b, 34);
    b[2] = 1;      /* track */
    b[3] = 1;      /* session */
    b[5] = 0x04;   /* data track, recorded uninterrupted */
    b[6] = 0x01;   /* data mode 1 */
    put_be32(b + 24, n);          /* track size */
    put_be32(b + 28, n - 1);      /* last recorded address */
    reply(d, 36, get_be16(cdb + 7));
}

/* READ DVD STRUCTURE: the physical format, copyright and manufacturing structures of a
 * single-layer DVD-ROM, and the list of them. */
static void dvd_structure(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    unsigned format = cdb[7];
    size_t n;
    if (cdb[1] & 0x0f) {
        illegal(d, ASC_INVALID_FIELD); /* only DVD media (not BD) */
        return;
    }
    if (format != 0xff) {
        if (!medium_ready(d))
            return;
        if (!is_dvd(d)) {
            check(d, SK_ILLEGAL_REQUEST, ASC_INCOMPATIBLE_FORMAT, 0x02);
            return;
        }
        if (cdb[6] != 0) {
            illegal(d, ASC_INVALID_FIELD); /* one layer */
            return;
        }
    }
    switch (format) {
    case 0x00: { /* physical format information */
        uint32_t first = 0x30000, last = first + (uint32_t)MIN(d->sectors, (uint64_t)0xffffff) - 1;
        memset(b, 0, 4 + 2048);
        b[4] = 0x01;   /* DVD-ROM, part version 1 */
        b[5] = 0x0f;   /* 120 mm, maximum rate not specified */
        b[6] = 0x01;   /* one layer, embossed (read-only) */
        put_be32(b + 8, first);
        put_be32(b + 12, last);
        n = 4 + 2048;
        break;
    }
    case 0x01: /* copyright: no protection, all regions */
        memset(b, 0, 8);
        n = 8;
        break;
    case 0x04: /* disc manufacturing information: nothing to say */
        memset(b, 0, 4 + 2048);
        n = 4 + 2048;
        break;
    case 0xff: { /* the structures there are */
        static const uint8_t list[][2] = { { 0x00, 8 }, { 0x01, 0 }, { 0x04, 8 }, { 0xff, 0 } };
        memset(b, 0, 4 + 4 * ARRAY_SIZE(list));
        for (unsigned i = 0; i < ARRAY_SIZE(list); i++) {
            uint8_t *e = b + 4 + 4 * i;
            e[0] = list[i][0];
            e[1] = 0x40; /* readable with READ DVD STRUCTURE */
            put_be16(e + 2, list[i][0] == 0x01 ? 4 : list[i][0] == 0xff ? 16 : 2048 + 4);
        }
        n = 4 + 4 * ARRAY_SIZE(list);
        break;
    }
    default:
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
    reply_sized(d, n, get_be16(cdb + 8));
}

/* GET CONFIGURATION: the features of a read-only CD/DVD drive. */
static size_t feature(uint8_t *p, uint16_t code, int current, const uint8_t *data, size_t len)
{
    put_be16(p, code);
    p[2] = (uint8_t)(0x02 | (current ? 0x01 : 0)); /* persistent where it applies, current */
    p[3] = (uint8_t)len;
    memcpy(p + 4, data, len);
    return 4 + len;
}

static void get_configuration(struct ide_drive *d, const uint8_t *cdb)
{
    unsigned rt = cdb[1] & 3, sfn = get_be16(cdb + 2);
    uint8_t *b = d->buf;
    int dvd = present(d) && is_dvd(d), cd = present(d) && !is_dvd(d);
    size_t n = 8;
    struct { uint16_t code; int current; uint8_t data[8]; size_t len; } f[6];
    unsigned nf = 0;

    if (rt == 3) {
        illegal(d, ASC_INVALID_FIELD);
        return;
    }
    f[nf++] = (typeof(f[0])){ 0x0000, 1, { 0x00, 0x10, dvd, 0, 0x00, 0x08, cd, 0 }, 8 };
    f[nf++] = (typeof(f[0])){ 0x0001, 1, { 0, 0, 0, 2, 0, 0, 0, 0 }, 8 }; /* core: ATAPI */
    f[nf++] = (typeof(f[0])){ 0x0003, 1, { 0x29, 0, 0, 0 }, 4 };          /* removable: tray */
    f[nf++] = (typeof(f[0])){ 0x0010, present(d), { 0, 0, 0x08, 0x00, 0, (uint8_t)(dvd ? 16 : 1), 0, 0 }, 8 };
    f[nf++] = (typeof(f[0])){ 0x001e, cd, { 0, 0, 0, 0 }, 4 };            /* CD read */
    f[nf++] = (typeof(f[0])){ 0x001f, dvd, { 0, 0, 0, 0 }, 4 };           /* DVD read */
    memset(b, 0, 8);
    put_be16(b + 6, dvd ? 0x0010 : cd ? 0x0008 : 0x0000); /* current profile */
    for (unsigned i = 0; i < nf; i++) {
        if (f[i].code < sfn)
            continue;
        if (rt == 1 && !f[i].current)
            continue;
        if (rt == 2 && f[i].code != sfn)
            continue;
        n += feature(b + n, f[i].code, f[i].current, f[i].data, f[i].len);
    }
    put_be32(b, (uint32_t)(n - 4));
    reply(d, n, get_be16(cdb + 7));
}

static void event_status(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    size_t n;
    if (!(cdb[1] & 1)) {
        illegal(d, ASC_INVALID_FIELD); /* asynchronous notification: not supported */
        return;
    }
    memset(b, 0, 8);
    b[3] = 0x10; /* supported classes: media */
    if (cdb[4] & 0x10) {
        b[2] = 0x04;
        b[4] = d->event;
        b[5] = (uint8_t)((present(d) ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->event = 0;
        n = 8;
    } else {
        b[2] = 0x80; /* no event available of the classes asked for */
        n = 4;
    }
    reply_sized(d, n, get_be16(cdb + 7));
}

static void mechanism_status(struct ide_drive *d, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[1] = d->tray_open ? 0x10 : 0;
    reply(d, 8, get_be16(cdb + 8));
}

static void packet(struct ide_drive *d, int err)
{
    const uint8_t *cdb = d->cdb;
    if (err) {
        check(d, SK_ABORTED_COMMAND, 0, 0);
        return;
    }
    memcpy(d->cdb, d->buf, sizeof(d->cdb));
    d->bus->st->packets++;
    uint8_t op = cdb[0];
    if (d->ua && op != 0x12 && op != 0x03 && op != 0x4a && op != 0x46) {
        /* the first command after a medium change learns of it (MMC 4.2.2) */
        d->ua = 0;
        check(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
        return;
    }
    switch (op) {
    case 0x00: /* TEST UNIT READY */
        if (medium_ready(d))
            cmd_ok(d);
        return;
    case 0x03: request_sense(d, cdb); return;
    case 0x12: inquiry(d, cdb); return;
    case 0x1a: mode_sense(d, cdb, 0); return;
    case 0x5a: mode_sense(d, cdb, 1); return;
    case 0x15: mode_select(d, cdb, 0); return;
    case 0x55: mode_select(d, cdb, 1); return;
    case 0x1b: start_stop(d, cdb); return;
    case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = cdb[4] & 1;
        cmd_ok(d);
        return;
    case 0x25: read_capacity(d, cdb); return;
    case 0x28: read_sectors(d, get_be32(cdb + 2), get_be16(cdb + 7)); return;  /* READ (10) */
    case 0xa8: read_sectors(d, get_be32(cdb + 2), get_be32(cdb + 6)); return;  /* READ (12) */
    case 0xbe: read_cd(d, cdb); return;
    case 0x2b: /* SEEK (10) */
    case 0x2f: /* VERIFY (10) */
        if (medium_ready(d))
            cmd_ok(d);
        return;
    case 0x43: read_toc(d, cdb); return;
    case 0x51: disc_info(d, cdb); return;
    case 0x52: track_info(d, cdb); return;
    case 0x46: get_configuration(d, cdb); return;
    case 0x4a: event_status(d, cdb); return;
    case 0xad: dvd_structure(d, cdb); return;
    case 0xbd: mechanism_status(d, cdb); return;
    case 0xbb: /* SET CD SPEED */
    case 0x35: /* SYNCHRONIZE CACHE */
        cmd_ok(d);
        return;
    default:
        ide_guest_error(d, "packet command %#04x not supported", op);
        illegal(d, ASC_INVALID_OPCODE);
        return;
    }
}

/* ---- ATA commands to an ATAPI device ---- */

static void identify(struct ide_drive *d, uint16_t *w)
{
    memset(w, 0, 512);
    w[0] = 0x85c0;   /* ATAPI, CD-ROM, removable, DRQ within 50 us, 12-byte packets */
    ide_id_string(&w[10], d->serial, 10);
    ide_id_string(&w[23], "1.0", 4);
    ide_id_string(&w[27], "HVMD DVD-ROM", 20);
    w[49] = 0x0b00;  /* IORDY, LBA, DMA */
    w[53] = 0x0007;
    ide_id_modes(d, w, 0x0007, 0x0007);
    w[64] = 0x0003;
    w[65] = w[66] = w[67] = w[68] = 120;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x007e;
    w[82] = 0x0210;  /* DEVICE RESET, PACKET */
    w[83] = 0x4000;
    w[84] = 0x4000;
    w[85] = 0x0210;
    w[87] = 0x4000;
    ide_id_checksum(w);
}

static void identify_end(struct ide_drive *d, int err)
{
    ide_done(d, ST_DRDY | ST_DSC, 0, 0);
}

static void atapi_exec(struct ide_drive *d, uint8_t cmd)
{
    switch (cmd) {
    case 0xa0: /* PACKET */
        if (d->feature & 0x02) {
            ide_abort(d); /* overlapped: not supported */
            return;
        }
        d->pkt_dma = d->feature & 1;
        ide_packet_xfer(d, packet);
        return;
    case 0xa1: /* IDENTIFY PACKET DEVICE */
        identify(d, (uint16_t *)(void *)d->buf);
        ide_xfer(d, 0, 0, 512, 512, identify_end);
        return;
    case 0xec: /* IDENTIFY DEVICE: aborted, with the signature that says "ATAPI" */
        ide_signature(d);
        ide_abort(d);
        return;
    case 0xef: /* SET FEATURES */
        switch (d->feature) {
        case 0x03:
            if (ide_set_xfer_mode(d, d->nsect))
                ide_ok(d);
            else
                ide_abort(d);
            return;
        case 0x02: case 0x82: case 0x55: case 0xaa: case 0x66: case 0xcc:
            ide_ok(d);
            return;
        default:
            ide_abort(d);
            return;
        }
    case 0xe5: case 0x98: /* CHECK POWER MODE */
        d->nsect = 0xff;
        ide_ok(d);
        return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: /* STANDBY, IDLE, SLEEP */
        ide_ok(d);
        return;
    default:
        ide_abort(d);
        return;
    }
}

static ide_end_fn *const atapi_ends[] = { data_end, identify_end, packet };
const struct ide_cmdset ide_atapi = { .init = atapi_init, .exec = atapi_exec, .ends = atapi_ends,
                                      .n_ends = ARRAY_SIZE(atapi_ends) };

/* ---- the tray and the medium, as QMP moves them ---- */

static int refuse_locked(struct ide_drive *d, char *err, size_t errlen)
{
    d->event = EV_EJECT_REQUEST; /* the guest may unlock and open the tray itself */
    snprintf(err, errlen, "Device '%s' is locked and force was not specified, wait for tray "
             "to open and try again", d->id);
    return -EBUSY;
}

int atapi_eject(struct ide_drive *d, int force, char *err, size_t errlen)
{
    if (d->locked && !d->tray_open && !force)
        return refuse_locked(d, err, errlen);
    if (!d->tray_open) {
        d->tray_open = 1;
        d->locked = 0;
        ide_tray_moved(d, 1);
    }
    if (d->blk) {
        ide_drop_medium(d);
        medium_changed(d);
    }
    return 0;
}

int atapi_change_medium(struct ide_drive *d, struct blk *blk, char *err, size_t errlen)
{
    if (!d->tray_open) {
        if (d->locked) {
            blk_close(blk);
            return refuse_locked(d, err, errlen);
        }
        d->tray_open = 1;
        ide_tray_moved(d, 1);
    }
    ide_drop_medium(d);
    d->blk = blk;
    d->tray_open = 0;
    medium_changed(d);
    ide_tray_moved(d, 0);
    return 0;
}

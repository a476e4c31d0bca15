/* SPDX-License-Identifier: GPL-2.0-only */
/* A small IDE guest driver for the unit tests (test_ide.c, test_ata.c, test_atapi.c, ...): it sets
 * up the PIIX3 IDE function on the in-process ioreq source with image files it creates, and
 * drives the registers, the data port (rep insw / outsw) and the bus master as ata_piix or
 * SeaBIOS would. Each sector of the images carries its own number, so a sector read from
 * the wrong place is caught. */
#ifndef HVMD_TEST_IDE_GUEST_H
#define HVMD_TEST_IDE_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dm/block.h"
#include "devices/ide/media.h"
#include "devices/ide/piix.h"
#include "dm/snapshot.h"
#include "tests/lib/fakexen.h"

#define PRI 0x1f0
#define PRI_CTL 0x3f6
#define SEC 0x170
#define SEC_CTL 0x376
#define BM_BASE 0xc000
#define IDE_DEVFN PCI_DEVFN(1, 1)

/* guest RAM layout the tests use */
#define G_RAM (48u << 20)
#define G_PRD 0x1000      /* PRD tables */
#define G_CDB 0x3000      /* command packets */
#define G_BUF 0x100000    /* data */

struct ideg_opts {
    uint64_t disk_sectors;   /* 0: no disk at hda */
    uint64_t cd_sectors;     /* 0: an empty CD-ROM at hdc; ~0: no CD-ROM */
    enum blk_cache cache;
    int cd_on_primary_slave; /* the CD at hdb instead of hdc */
    enum blk_policy werror, rerror; /* the disk's error policies (default report) */
};

struct ideg {
    struct fakexen *fx;
    struct piix_ide *ide;
    char dir[200];
    char disk[256], iso[256], iso2[256];
    uint64_t disk_sectors, cd_sectors;
    unsigned trays[8];       /* tray callback log: 1 open, 2 closed */
    unsigned n_trays;
};

/* Byte I of sector LBA of an image with sectors of SIZE: the sector's number in its first
 * eight bytes, then a pattern that depends on both. SALT tells two images apart. */
static inline uint8_t ideg_byte(uint64_t lba, unsigned i, unsigned salt)
{
    if (i < 8)
        return (uint8_t)(lba >> (8 * i));
    return (uint8_t)(lba * 31 + i * 7 + salt);
}

static inline void ideg_fill(uint8_t *p, uint64_t lba, unsigned size, unsigned salt)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = ideg_byte(lba, i, salt);
}

static inline int ideg_check(const uint8_t *p, uint64_t lba, uint64_t n, unsigned size,
                             unsigned salt)
{
    for (uint64_t s = 0; s < n; s++)
        for (unsigned i = 0; i < size; i++)
            if (p[s * size + i] != ideg_byte(lba + s, i, salt))
                return -1;
    return 0;
}

static inline void ideg_make_image(const char *path, uint64_t sectors, unsigned size,
                                   unsigned salt)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    uint8_t *b = malloc(size * 64u);
    if (fd < 0 || !b)
        abort();
    for (uint64_t s = 0; s < sectors; s += 64) {
        uint64_t n = MIN((uint64_t)64, sectors - s);
        for (uint64_t k = 0; k < n; k++)
            ideg_fill(b + k * size, s + k, size, salt);
        if (pwrite(fd, b, n * size, (off_t)(s * size)) != (ssize_t)(n * size))
            abort();
    }
    free(b);
    close(fd);
}

static inline void ideg_tray(void *opaque, const char *id, int open)
{
    struct ideg *g = opaque;
    if (g->n_trays < 8)
        g->trays[g->n_trays++] = open ? 1 : 2;
}

/* A directory on a file system that takes O_DIRECT (build/, where the tests run), else /tmp. */
static inline void ideg_tmpdir(char *dir, size_t len)
{
    struct stat st;
    snprintf(dir, len, "%s/hvmd-ide-XXXXXX", stat("build", &st) == 0 ? "build" : "/tmp");
    if (!mkdtemp(dir))
        abort();
}

static inline struct blk *ideg_open(struct ideg *g, const char *path, int ro, enum blk_cache c)
{
    struct blk *b;
    char err[256];
    struct blk_opts o = { .path = path, .fd = -1, .readonly = ro, .cache = c };
    if (blk_open(&b, g->fx->loop, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return b;
}

static inline struct ideg *ideg_new(const struct ideg_opts *o)
{
    struct ideg *g = calloc(1, sizeof(*g));
    struct ide_drive_conf conf[4] = { { 0 } };
    char err[256];
    if (!g)
        return NULL;
    ideg_tmpdir(g->dir, sizeof(g->dir));
    snprintf(g->disk, sizeof(g->disk), "%s/disk.img", g->dir);
    snprintf(g->iso, sizeof(g->iso), "%s/cd.iso", g->dir);
    snprintf(g->iso2, sizeof(g->iso2), "%s/cd2.iso", g->dir);
    g->disk_sectors = o->disk_sectors;
    g->cd_sectors = o->cd_sectors == ~0ull ? 0 : o->cd_sectors;
    g->fx = fx_new(G_RAM);
    if (!g->fx)
        return NULL;
    /* function 0 of slot 1 (the ISA bridge's place), so function 1 may join */
    struct pci_dev *f0 = pci_dev_new(g->fx->vm.pci, PCI_DEVFN(1, 0), "isa", 0x8086, 0x7000,
                                     0x060100, 0, NULL, NULL);
    if (!f0 || pci_dev_add(f0) < 0)
        return NULL;
    if (o->disk_sectors) {
        ideg_make_image(g->disk, o->disk_sectors, 512, 0);
        conf[0].kind = IDE_DISK;
        struct blk_opts bo = { .path = g->disk, .fd = -1, .cache = o->cache,
                               .werror = o->werror, .rerror = o->rerror };
        if (blk_open(&conf[0].blk, g->fx->loop, &bo, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            return NULL;
        }
        conf[0].id = "ide-768";
        if (!conf[0].blk)
            return NULL;
    }
    if (o->cd_sectors != ~0ull) {
        unsigned pos = o->cd_on_primary_slave ? 1 : 2;
        conf[pos].kind = IDE_CD;
        conf[pos].id = "ide-5632";
        if (o->cd_sectors) {
            ideg_make_image(g->iso, o->cd_sectors, 2048, 1);
            conf[pos].blk = ideg_open(g, g->iso, 1, BLK_CACHE_WRITEBACK);
            if (!conf[pos].blk)
                return NULL;
        }
    }
    if (piix_ide_new(&g->fx->vm, conf, &g->ide, err, sizeof(err)) < 0) {
        fprintf(stderr, "piix_ide_new: %s\n", err);
        return NULL;
    }
    ide_set_tray_cb(g->ide, ideg_tray, g);
    /* firmware's part: BAR4, I/O decode and bus mastering, IDE decode enable */
    fx_cfg_write(g->fx, IDE_DEVFN, 0x20, 4, BM_BASE);
    fx_cfg_write(g->fx, IDE_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    fx_cfg_write(g->fx, IDE_DEVFN, 0x40, 2, 0x8000);
    fx_cfg_write(g->fx, IDE_DEVFN, 0x42, 2, 0x8000);
    return g;
}

static inline void ideg_free(struct ideg *g)
{
    if (!g)
        return;
    piix_ide_free(g->ide);
    fx_free(g->fx);
    unlink(g->disk);
    unlink(g->iso);
    unlink(g->iso2);
    rmdir(g->dir);
    free(g);
}

static inline uint8_t ideg_in(struct ideg *g, uint16_t port) { return (uint8_t)fx_in(g->fx, port, 1); }
static inline void ideg_out(struct ideg *g, uint16_t port, uint8_t v) { fx_out(g->fx, port, 1, v); }
static inline uint8_t ideg_status(struct ideg *g, uint16_t base) { return ideg_in(g, base + 7); }
static inline uint8_t ideg_alt(struct ideg *g, uint16_t base)
{
    return ideg_in(g, base == PRI ? PRI_CTL : SEC_CTL);
}
static inline int ideg_irq(struct ideg *g, uint16_t base) { return g->fx->isa[base == PRI ? 14 : 15]; }

/* Let asynchronous completions in (the loop's eventfds). */
static inline void ideg_run(struct ideg *g)
{
    loop_run_once(g->fx->loop, 0);
}

/* Poll the alternate status until BSY clears (running the loop, as time passes for a real
 * guest); returns the status. */
static inline uint8_t ideg_wait(struct ideg *g, uint16_t base)
{
    uint8_t st = ideg_alt(g, base);
    for (int i = 0; i < 2000 && (st & 0x80); i++) {
        loop_run_once(g->fx->loop, 10);
        st = ideg_alt(g, base);
    }
    return st;
}

static inline void ideg_select(struct ideg *g, uint16_t base, unsigned dev, uint8_t extra)
{
    ideg_out(g, base + 6, (uint8_t)(0xa0 | (dev ? 0x10 : 0) | extra));
}

static inline void ideg_lba28(struct ideg *g, uint16_t base, unsigned dev, uint32_t lba, uint8_t n)
{
    ideg_out(g, base + 2, n);
    ideg_out(g, base + 3, (uint8_t)lba);
    ideg_out(g, base + 4, (uint8_t)(lba >> 8));
    ideg_out(g, base + 5, (uint8_t)(lba >> 16));
    ideg_select(g, base, dev, (uint8_t)(0x40 | ((lba >> 24) & 0x0f)));
}

static inline void ideg_lba48(struct ideg *g, uint16_t base, unsigned dev, uint64_t lba,
                              uint32_t n)
{
    ideg_out(g, base + 2, (uint8_t)(n >> 8));
    ideg_out(g, base + 3, (uint8_t)(lba >> 24));
    ideg_out(g, base + 4, (uint8_t)(lba >> 32));
    ideg_out(g, base + 5, (uint8_t)(lba >> 40));
    ideg_out(g, base + 2, (uint8_t)n);
    ideg_out(g, base + 3, (uint8_t)lba);
    ideg_out(g, base + 4, (uint8_t)(lba >> 8));
    ideg_out(g, base + 5, (uint8_t)(lba >> 16));
    ideg_select(g, base, dev, 0x40);
}

/* rep insw of WORDS words into guest RAM at GPA. */
static inline void ideg_insw(struct ideg *g, uint16_t base, uint64_t gpa, uint32_t words)
{
    while (words) {
        uint32_t n = MIN(words, (uint32_t)IOREQ_MAX_COUNT);
        fx_rep_in(g->fx, base, 2, n, gpa, 0);
        gpa += 2ull * n;
        words -= n;
    }
}

static inline void ideg_outsw(struct ideg *g, uint16_t base, uint64_t gpa, uint32_t words)
{
    while (words) {
        uint32_t n = MIN(words, (uint32_t)IOREQ_MAX_COUNT);
        fx_rep_out(g->fx, base, 2, n, gpa, 0);
        gpa += 2ull * n;
        words -= n;
    }
}

struct ideg_prd {
    uint32_t addr;
    uint32_t len;   /* 0x10000 for 64 KiB (written as 0) */
    int eot;
};

static inline void ideg_prd_table(struct ideg *g, uint64_t gpa, const struct ideg_prd *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = g->fx->ram + gpa + 8ull * i;
        st32(p, e[i].addr);
        st32(p + 4, (e[i].len & 0xffff) | (e[i].eot ? 0x80000000u : 0));
    }
}

static inline uint16_t ideg_bm(unsigned chan) { return (uint16_t)(BM_BASE + 8 * chan); }

/* ata_bmdma_setup: the PRD table and the direction, engine stopped. */
static inline void ideg_bm_setup(struct ideg *g, unsigned chan, uint32_t table, int to_mem)
{
    fx_out(g->fx, ideg_bm(chan) + 4, 4, table);
    ideg_out(g, ideg_bm(chan), to_mem ? 0x08 : 0);
    ideg_out(g, ideg_bm(chan) + 2, 0x06); /* clear interrupt and error */
}

static inline void ideg_bm_start(struct ideg *g, unsigned chan, int to_mem)
{
    ideg_out(g, ideg_bm(chan), (uint8_t)((to_mem ? 0x08 : 0) | 1));
}

static inline void ideg_bm_stop(struct ideg *g, unsigned chan)
{
    ideg_out(g, ideg_bm(chan), 0);
}

static inline uint8_t ideg_bm_status(struct ideg *g, unsigned chan)
{
    return ideg_in(g, ideg_bm(chan) + 2);
}

/* ATAPI: send CDB (12 bytes) with PACKET; BCL is the byte count limit. Returns the status
 * once the packet is taken (the device may already offer data). */
static inline uint8_t ideg_packet(struct ideg *g, uint16_t base, unsigned dev, const uint8_t *cdb,
                                  uint16_t bcl, int dma)
{
    ideg_select(g, base, dev, 0);
    ideg_out(g, base + 1, dma ? 1 : 0);
    ideg_out(g, base + 4, (uint8_t)bcl);
    ideg_out(g, base + 5, (uint8_t)(bcl >> 8));
    ideg_out(g, base + 7, 0xa0);
    uint8_t st = ideg_alt(g, base);
    if ((st & 0x88) != 0x08 || ideg_in(g, base + 2) != 0x01)
        return 0xff; /* no DRQ for the packet, or not in the command phase */
    memcpy(g->fx->ram + G_CDB, cdb, 12);
    memset(g->fx->ram + G_CDB + 12, 0, 4);
    ideg_outsw(g, base, G_CDB, 6);
    return ideg_wait(g, base);
}

/* ATAPI PIO data-in: read DRQ blocks (their byte count from the device) into RAM at GPA until
 * the device leaves DRQ; returns the bytes read. BLOCKS (optional) counts the DRQ blocks. */
static inline size_t ideg_atapi_pio_in(struct ideg *g, uint16_t base, uint64_t gpa, unsigned *blocks)
{
    size_t total = 0;
    unsigned nb = 0;
    for (int guard = 0; guard < 100000; guard++) {
        uint8_t st = ideg_wait(g, base);
        if (!(st & 0x08))
            break;
        if (ideg_in(g, base + 2) != 0x02)
            break; /* not a data-in phase */
        size_t n = ideg_in(g, base + 4) | (size_t)ideg_in(g, base + 5) << 8;
        ideg_status(g, base); /* acknowledge the interrupt */
        ideg_insw(g, base, gpa + total, (uint32_t)((n + 1) / 2)); /* an odd count: padded */
        total += n;
        nb++;
    }
    if (blocks)
        *blocks = nb;
    return total;
}

/* REQUEST SENSE: key << 16 | asc << 8 | ascq of the last error. */
static inline uint32_t ideg_sense(struct ideg *g, uint16_t base, unsigned dev)
{
    uint8_t cdb[12] = { 0x03, 0, 0, 0, 18 };
    ideg_packet(g, base, dev, cdb, 18, 0);
    size_t n = ideg_atapi_pio_in(g, base, G_BUF, NULL);
    if (n != 18)
        return 0xffffffff;
    uint8_t *s = g->fx->ram + G_BUF;
    return (uint32_t)(s[2] & 0xf) << 16 | (uint32_t)s[12] << 8 | s[13];
}

/* G's IDE controller alone as a device-state stream into W (initialised here): 0 or the
 * writer's error. */
static inline int ideg_save(struct ideg *g, struct snap_writer *w)
{
    snap_writer_init(w);
    snap_put_header(w);
    snap_section_begin(w, "ide", 2);
    piix_ide_save(g->ide, w);
    snap_section_end(w);
    snap_put_end(w);
    return snap_writer_error(w);
}

/* W's stream into G's IDE controller, both passes as machine_load makes them. 0, or -EINVAL
 * with the reader's message in MSG. */
static inline int ideg_load(struct ideg *g, const struct snap_writer *w, char *msg, size_t len)
{
    struct snap_reader r;
    char dev[SNAP_NAME_MAX + 1];
    uint32_t version;
    snap_reader_init(&r, w->buf, w->len);
    if (snap_get_header(&r) < 0)
        goto bad;
    for (int commit = 0; commit < 2; commit++) {
        snap_reader_rewind(&r);
        if (snap_section_open(&r, dev, &version) != 1 || piix_ide_load(g->ide, &r, commit) < 0 ||
            snap_section_close(&r) < 0)
            goto bad;
    }
    return 0;
bad:
    snprintf(msg, len, "%s", snap_error(&r));
    return -EINVAL;
}

#endif

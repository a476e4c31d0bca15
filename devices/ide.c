/* Intel 82371SB PIIX3 IDE controller, function 1 of the PIIX3 (00:01.1, 8086:7010).
 * Specs: Intel 82371FB/SB PIIX/PIIX3 datasheet (290550) sections 2.3 (function 1 config) and
 * 2.7 (bus master IDE registers); ATA/ATAPI-6 (T13/1410D) for the register protocol: task file,
 * device control and soft reset, the PIO data-in / data-out and DMA protocols, INTRQ; SFF-8038i
 * for the bus master PRD tables.
 * Emulated: both channels in compatibility mode (ports 0x1f0-0x1f7 / 0x3f6, IRQ 14 and
 * 0x170-0x177 / 0x376, IRQ 15; prog-if 0x80: fixed legacy mode, bus-master capable), master and
 * slave on each, the bus master registers in BAR4 (16 ports), the IDE timing registers
 * (0x40-0x44, 0x48-0x4b) as plain storage, soft reset (SRST), 8/16/32-bit data port access and
 * bulk `rep ins/outs` on it, and the data paths every command shares: PIO in / out in DRQ
 * blocks, DMA through PRD tables, reading and writing the medium synchronously when the page
 * cache allows it (so the guest's first status poll already sees the result) and through
 * libaio otherwise. The ATA and ATAPI command sets are in ata.c and atapi.c.
 * Left out: native-mode BARs 0-3 (the PIIX3 has none), the PIIX4's UDMA and the ICH's SATA
 * personalities, overlapped / queued commands, bus master PCI errors other than RAM faults.
 *
 * Guest-controlled loops are bounded: a PRD walk stops after IDE_PRD_MAX entries (a table
 * cannot hold more without crossing the 64 KiB boundary the spec forbids) and every entry
 * moves at least two bytes; PIO moves at most what the current DRQ block holds. */
#include "devices/ide.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/pci.h"
#include "dm/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDE_PRD_MAX 8192
/* bus master registers */
#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08    /* the bus master writes memory: a device-to-host transfer */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA0 0x20
#define BM_ST_DMA1 0x40

static struct ide_drive *selected(struct ide_channel *ch) { return &ch->drive[ch->cur]; }

void ide_guest_error(struct ide_drive *d, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_guest(&d->ch->ide->rl, "ide", "%s%u: %s", d->ch->idx ? "secondary" : "primary",
              d->unit, msg);
}

/* ATA strings: two characters a word, the first in the high byte, padded with spaces. */
void ide_id_string(uint16_t *w, const char *str, unsigned words)
{
    size_t n = strlen(str);
    for (unsigned i = 0; i < words * 2; i++) {
        uint8_t c = i < n ? (uint8_t)str[i] : ' ';
        if (i & 1)
            w[i / 2] |= c;
        else
            w[i / 2] = (uint16_t)(c << 8);
    }
}

/* IDENTIFY word 255: signature A5h and a checksum that makes the 512 bytes sum to zero. */
void ide_id_checksum(uint16_t *w)
{
    uint8_t sum = 0xa5;
    const uint8_t *b = (const uint8_t *)w;
    for (unsigned i = 0; i < 510; i++)
        sum = (uint8_t)(sum + b[i]);
    w[255] = (uint16_t)(0x00a5 | (uint16_t)((uint8_t)-sum) << 8);
}

/* ---- interrupts ---- */

static void update_irq(struct ide_channel *ch)
{
    int level = ch->irq_pending && !(ch->devctl & CTL_NIEN);
    if (level == ch->irq_level)
        return;
    ch->irq_level = level;
    irq_isa_set(&ch->ide->vm->irq, ch->idx ? 15 : 14, level);
}

void ide_set_irq(struct ide_drive *d)
{
    struct ide_channel *ch = d->ch;
    if (ch->devctl & CTL_NIEN)
        return; /* the device does not drive INTRQ: nothing reaches the PIIX either */
    ch->irq_pending = 1;
    ch->bm_status |= BM_ST_INTR;
    ch->ide->st.irqs++;
    update_irq(ch);
}

static void clear_irq(struct ide_channel *ch)
{
    ch->irq_pending = 0;
    update_irq(ch);
}

/* ---- transfers ---- */

static void io_done(struct blk_req *req, int ret);

/* Wait for the medium request in flight, if any, and make sure its completion changes
 * nothing (the transfer it belonged to is being abandoned). */
static void io_quiesce(struct ide_drive *d)
{
    d->gen++;
    if (d->io_busy && d->blk)
        blk_drain(d->blk);
    d->io_busy = 0;
}

static void xfer_stop(struct ide_drive *d)
{
    d->x.active = 0;
    if (d->ch->dma_drive == d)
        d->ch->dma_drive = NULL;
}

/* Submit D->req; CONT runs with the result. 1: completed now (CONT already ran), 0: in
 * flight (status BSY until it completes). */
static int io_submit_req(struct ide_drive *d, ide_io_fn *cont)
{
    if (!d->blk) {
        cont(d, -ENOMEDIUM);
        return 1;
    }
    d->req.done = io_done;
    d->req.opaque = d;
    d->io_cont = cont;
    d->io_gen = d->gen;
    int r = blk_submit(d->blk, &d->req);
    if (r == 1) {
        d->ch->ide->st.sync_io++;
        cont(d, d->req.ret);
        return 1;
    }
    if (r < 0) {
        cont(d, r);
        return 1;
    }
    d->ch->ide->st.async_io++;
    d->io_busy = 1;
    d->status = (uint8_t)((d->status | ST_BSY) & ~ST_DRQ);
    return 0;
}

static void finish_reset(struct ide_drive *d);

static void io_done(struct blk_req *req, int ret)
{
    struct ide_drive *d = req->opaque;
    d->io_busy = 0;
    if (d->io_gen != d->gen) {
        if (d->reset_pending)
            finish_reset(d);
        return;
    }
    d->status &= (uint8_t)~ST_BSY;
    d->io_cont(d, ret);
}

static void xfer_fail(struct ide_drive *d, int err)
{
    ide_end_fn *end = d->x.end;
    xfer_stop(d);
    d->ch->ide->st.errors++;
    end(d, err);
}

static void pio_block(struct ide_drive *d, int irq);
static void bm_run(struct ide_channel *ch);

/* The transfer moved its last byte. */
static void xfer_finish(struct ide_drive *d)
{
    struct ide_channel *ch = d->ch;
    ide_end_fn *end = d->x.end;
    if (d->x.dma) {
        /* The bus master goes idle if the PRD table ended with the transfer; if the table
         * has room left it stays active (SFF-8038i: interrupt with active set). */
        if (ch->prd_left == 0 && (ch->prd_eot || ch->prd_count >= IDE_PRD_MAX))
            ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    }
    xfer_stop(d);
    end(d, 0);
}

static void load_done(struct ide_drive *d, int ret);

/* In, medium: fill the buffer with the next chunk. 1 done (or failed: transfer over),
 * 0 in flight. */
static int load(struct ide_drive *d)
{
    struct ide_xfer *x = &d->x;
    size_t n = (size_t)MIN(x->unloaded, (uint64_t)IDE_BUF_SIZE);
    memset(&d->req, 0, sizeof(d->req));
    d->req.op = BLK_READ;
    d->req.off = x->pos;
    d->req.buf = d->buf;
    d->req.len = n;
    x->len = 0;
    x->cur = 0;
    return io_submit_req(d, load_done);
}

static void load_done(struct ide_drive *d, int ret)
{
    struct ide_xfer *x = &d->x;
    if (ret < 0) {
        xfer_fail(d, ret);
        return;
    }
    x->len = d->req.len;
    x->cur = 0;
    x->pos += d->req.len;
    x->unloaded -= d->req.len;
    if (x->dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        bm_run(d->ch);
    } else {
        pio_block(d, 1);
    }
}

static void store_done(struct ide_drive *d, int ret);

/* Out, medium: write what the buffer holds. 1 done, 0 in flight. */
static int store(struct ide_drive *d)
{
    struct ide_xfer *x = &d->x;
    memset(&d->req, 0, sizeof(d->req));
    d->req.op = BLK_WRITE;
    d->req.off = x->pos;
    d->req.buf = d->buf;
    d->req.len = x->cur;
    d->req.fua = d->x.fua || !d->wce;
    return io_submit_req(d, store_done);
}

static void store_done(struct ide_drive *d, int ret)
{
    struct ide_xfer *x = &d->x;
    if (ret < 0) {
        xfer_fail(d, ret);
        return;
    }
    x->pos += x->cur;
    x->cur = 0;
    if (x->remain == 0) {
        xfer_finish(d);
        return;
    }
    x->len = (size_t)MIN(x->remain, (uint64_t)IDE_BUF_SIZE);
    if (x->dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        bm_run(d->ch);
    } else {
        pio_block(d, 1);
    }
}

/* PIO: offer the next DRQ block. */
static void pio_block(struct ide_drive *d, int irq)
{
    struct ide_xfer *x = &d->x;
    size_t n = (size_t)MIN((uint64_t)x->drq, x->remain);
    n = MIN(n, x->len - x->cur);
    x->block_end = x->cur + n;
    if (x->atapi) {
        /* ATAPI: the byte count of this block and the phase (data in / out) */
        d->lbam = (uint8_t)n;
        d->lbah = (uint8_t)(n >> 8);
        d->nsect = x->out ? 0 : IR_IO;
    }
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    if (irq)
        ide_set_irq(d);
}

/* PIO: the guest reached the end of a DRQ block. */
static void pio_block_done(struct ide_drive *d)
{
    struct ide_xfer *x = &d->x;
    if (!x->out) {
        if (x->remain == 0) {
            d->status = ST_DRDY | ST_DSC;
            xfer_finish(d);
        } else if (x->cur == x->len) {
            load(d);
        } else {
            pio_block(d, 1);
        }
        return;
    }
    if (x->remain == 0 || x->cur == x->len) {
        if (!x->medium) {
            d->status = ST_DRDY | ST_DSC;
            xfer_finish(d);
        } else {
            store(d);
        }
        return;
    }
    pio_block(d, 1);
}

static int pio_ready(const struct ide_drive *d, int out)
{
    return d->x.active && !d->x.dma && d->x.out == out && (d->status & (ST_DRQ | ST_BSY)) == ST_DRQ;
}

/* Data-in: move up to N bytes to P; returns how many moved. */
static size_t pio_in(struct ide_drive *d, uint8_t *p, size_t n)
{
    struct ide_xfer *x = &d->x;
    size_t moved = 0;
    while (moved < n && pio_ready(d, 0)) {
        size_t k = MIN(n - moved, x->block_end - x->cur);
        memcpy(p + moved, d->buf + x->cur, k);
        x->cur += k;
        x->remain -= k;
        moved += k;
        if (x->cur == x->block_end)
            pio_block_done(d);
    }
    d->ch->ide->st.pio_bytes += moved;
    return moved;
}

static size_t pio_out(struct ide_drive *d, const uint8_t *p, size_t n)
{
    struct ide_xfer *x = &d->x;
    size_t moved = 0;
    while (moved < n && pio_ready(d, 1)) {
        size_t k = MIN(n - moved, x->block_end - x->cur);
        memcpy(d->buf + x->cur, p + moved, k);
        x->cur += k;
        x->remain -= k;
        moved += k;
        if (x->cur == x->block_end)
            pio_block_done(d);
    }
    d->ch->ide->st.pio_bytes += moved;
    return moved;
}

void ide_xfer(struct ide_drive *d, unsigned flags, uint64_t pos, uint64_t total, size_t drq,
              ide_end_fn *end)
{
    struct ide_xfer *x = &d->x;
    int out = (flags & IDE_XF_OUT) != 0, dma = (flags & IDE_XF_DMA) != 0;
    int medium = (flags & IDE_XF_MEDIUM) != 0;
    memset(x, 0, sizeof(*x));
    x->active = 1;
    x->out = out;
    x->dma = dma;
    x->medium = medium;
    x->fua = (flags & IDE_XF_FUA) != 0;
    x->atapi = (flags & IDE_XF_ATAPI) != 0;
    x->pos = pos;
    x->remain = total;
    x->unloaded = medium && !out ? total : 0;
    x->drq = drq ? drq : ATA_SECTOR;
    x->end = end;
    if (total == 0) {
        xfer_finish(d);
        return;
    }
    if (!medium)
        x->len = (size_t)MIN(total, (uint64_t)IDE_BUF_SIZE);
    else if (out)
        x->len = (size_t)MIN(total, (uint64_t)IDE_BUF_SIZE);
    if (dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        d->ch->dma_drive = d;
        bm_run(d->ch);
        return;
    }
    if (out || !medium)
        pio_block(d, !out || x->atapi); /* ATA data-out: the first block without an interrupt */
    else
        load(d);
}

void ide_packet_xfer(struct ide_drive *d, ide_end_fn *end)
{
    struct ide_xfer *x = &d->x;
    memset(x, 0, sizeof(*x));
    x->active = 1;
    x->out = 1;
    x->packet = 1;
    x->remain = sizeof(d->cdb);
    x->len = sizeof(d->cdb);
    x->drq = sizeof(d->cdb);
    x->block_end = sizeof(d->cdb);
    x->end = end;
    /* the byte count registers keep the host's limit; no interrupt (IDENTIFY PACKET DEVICE
     * word 0 says the device sets DRQ within 50 us) */
    d->nsect = IR_COD;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

void ide_done(struct ide_drive *d, uint8_t status, uint8_t error, int irq)
{
    d->status = status;
    d->error = error;
    if (status & ST_ERR)
        d->ch->ide->st.errors++;
    if (irq)
        ide_set_irq(d);
}

static void flush_done(struct ide_drive *d, int ret)
{
    ide_end_fn *end = d->x.end;
    d->x.end = NULL;
    end(d, ret < 0 ? ret : 0);
}

void ide_flush(struct ide_drive *d, ide_end_fn *end)
{
    memset(&d->req, 0, sizeof(d->req));
    d->req.op = BLK_FLUSH;
    d->x.end = end;
    io_submit_req(d, flush_done);
}

/* ---- the bus master ---- */

enum { PRD_OK, PRD_END, PRD_FAULT };

/* Move up to *N bytes between BUF and the memory the PRD table describes (TO_MEM: device to
 * host). *N becomes what moved. */
static int prd_move(struct ide_channel *ch, uint8_t *buf, size_t *n, int to_mem)
{
    struct mem *mem = ch->ide->vm->mem;
    size_t want = *n, moved = 0;
    int r = PRD_OK;
    while (moved < want) {
        if (ch->prd_left == 0) {
            uint8_t e[8];
            if (ch->prd_eot || ch->prd_count >= IDE_PRD_MAX) {
                r = PRD_END;
                break;
            }
            if (mem_read(mem, ch->prd_next, e, sizeof(e)) < 0) {
                r = PRD_FAULT;
                break;
            }
            uint32_t cnt = ld16(e + 4) & 0xfffe;
            ch->prd_addr = ld32(e) & ~1u;
            ch->prd_left = cnt ? cnt : 0x10000;
            ch->prd_eot = (ld32(e + 4) >> 31) & 1;
            ch->prd_next += 8;
            ch->prd_count++;
        }
        size_t k = MIN(want - moved, (size_t)ch->prd_left);
        /* a 32-bit bus master: nothing above 4 GiB */
        if (ch->prd_addr + k > MEM_4G) {
            r = PRD_FAULT;
            break;
        }
        int e = to_mem ? mem_write(mem, ch->prd_addr, buf + moved, k)
                       : mem_read(mem, ch->prd_addr, buf + moved, k);
        if (e < 0) {
            r = PRD_FAULT;
            break;
        }
        ch->prd_addr += k;
        ch->prd_left -= (uint32_t)k;
        moved += k;
    }
    *n = moved;
    ch->ide->st.dma_bytes += moved;
    return r;
}

/* Run the DMA transfer of the channel's drive as far as it goes now. Loads and stores that
 * complete synchronously call back here; the flag keeps that from nesting (the outer loop
 * carries on), so a long transfer runs in one flat loop. */
static void bm_run(struct ide_channel *ch)
{
    if (ch->bm_running)
        return;
    ch->bm_running = 1;
    for (;;) {
        struct ide_drive *d = ch->dma_drive;
        if (!d || !d->x.active || !d->x.dma || !(ch->bm_status & BM_ST_ACTIVE) || d->io_busy)
            break;
        struct ide_xfer *x = &d->x;
        if (x->remain == 0) {
            if (!x->out)
                xfer_finish(d);
            break;
        }
        if (!x->out && x->cur == x->len) {
            load(d); /* done: the loop goes on; in flight: io_busy ends it */
            continue;
        }
        size_t n = (size_t)MIN((uint64_t)(x->len - x->cur), x->remain);
        int r = prd_move(ch, d->buf + x->cur, &n, !x->out);
        x->cur += n;
        x->remain -= n;
        if (r == PRD_FAULT) {
            ide_guest_error(d, "bus master: PRD table %#x or a buffer it names is not guest RAM",
                            ch->bm_prd);
            ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
            xfer_fail(d, -EFAULT);
            break;
        }
        if (x->out && (x->cur == x->len || x->remain == 0)) {
            store(d); /* store_done finishes the transfer or makes room */
            continue;
        }
        if (r == PRD_END && x->remain > 0) {
            /* The PRD table is smaller than the transfer: the engine stops without an
             * interrupt, the device still wants data (the driver will time out and reset). */
            ide_guest_error(d, "bus master: PRD table %#x ended %llu bytes before the transfer",
                            ch->bm_prd, (unsigned long long)x->remain);
            ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
            break;
        }
    }
    ch->bm_running = 0;
}

static void bm_start(struct ide_channel *ch)
{
    ch->bm_status |= BM_ST_ACTIVE;
    ch->prd_next = ch->bm_prd;
    ch->prd_count = 0;
    ch->prd_left = 0;
    ch->prd_eot = 0;
    bm_run(ch);
}

static void bm_stop(struct ide_channel *ch)
{
    struct ide_drive *d = ch->dma_drive;
    if ((ch->bm_status & BM_ST_ACTIVE) && d && d->x.active) {
        /* Stopped in the middle of a transfer: the device keeps waiting (DRQ) until the
         * driver resets it; a medium request in flight is waited for and dropped. */
        io_quiesce(d);
        xfer_stop(d);
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
    }
    ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
}

static uint8_t bm_reg_read(struct ide_channel *ch, unsigned reg)
{
    switch (reg) {
    case 0: return ch->bm_cmd;
    case 2: return ch->bm_status;
    case 4: case 5: case 6: case 7: return (uint8_t)(ch->bm_prd >> (8 * (reg - 4)));
    default: return 0;
    }
}

static void bm_reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
    switch (reg) {
    case 0: {
        uint8_t old = ch->bm_cmd;
        /* the direction bit only changes while the engine is stopped */
        if (old & BM_CMD_START)
            ch->bm_cmd = (uint8_t)((old & BM_CMD_READ) | (v & BM_CMD_START));
        else
            ch->bm_cmd = v & (BM_CMD_START | BM_CMD_READ);
        if ((v & BM_CMD_START) && !(old & BM_CMD_START))
            bm_start(ch);
        else if (!(v & BM_CMD_START) && (old & BM_CMD_START))
            bm_stop(ch);
        break;
    }
    case 2:
        ch->bm_status = (uint8_t)((ch->bm_status & ~(v & (BM_ST_ERROR | BM_ST_INTR))) &
                                  ~(BM_ST_DMA0 | BM_ST_DMA1));
        ch->bm_status |= v & (BM_ST_DMA0 | BM_ST_DMA1);
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (reg - 4);
        ch->bm_prd = (ch->bm_prd & ~(0xffu << sh)) | ((uint32_t)v << sh);
        ch->bm_prd &= ~3u;
        break;
    }
    default:
        break;
    }
}

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        v |= (uint64_t)bm_reg_read(&s->ch[(o >> 3) & 1], o & 7) << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct ide *s = opaque;
    /* a dword to the PRD pointer at once, so a start that follows sees all of it */
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        bm_reg_write(&s->ch[(o >> 3) & 1], o & 7, (uint8_t)(val >> (8 * i)));
    }
}

static const struct io_ops bm_ops = { .read = bm_read, .write = bm_write };

/* ---- reset ---- */

void ide_signature(struct ide_drive *d)
{
    d->nsect = 1;
    d->lbal = 1;
    if (d->kind == IDE_CD) {
        d->lbam = 0x14;
        d->lbah = 0xeb;
    } else {
        d->lbam = 0;
        d->lbah = 0;
    }
    d->select = (uint8_t)(0xa0 | (d->unit ? DEV_DEV : 0));
}

static void finish_reset(struct ide_drive *d)
{
    d->reset_pending = 0;
    ide_signature(d);
    d->error = 1; /* diagnostics passed */
    d->status = d->kind == IDE_CD ? 0 : ST_DRDY | ST_DSC;
    d->feature = d->hob_feature = d->hob_nsect = d->hob_lbal = d->hob_lbam = d->hob_lbah = 0;
}

/* Reset one device (SRST, DEVICE RESET): the transfer goes, the settings stay. */
static void reset_drive(struct ide_drive *d)
{
    if (d->kind == IDE_NONE)
        return;
    int busy = d->io_busy;
    d->gen++;
    xfer_stop(d);
    memset(&d->x, 0, sizeof(d->x));
    if (busy) {
        /* the medium request in flight completes first; the reset ends with it */
        d->reset_pending = 1;
        d->status = ST_BSY;
        return;
    }
    finish_reset(d);
}

static void srst_begin(struct ide_channel *ch)
{
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        if (d->kind == IDE_NONE)
            continue;
        d->gen++;
        xfer_stop(d);
        d->status = ST_BSY;
    }
    clear_irq(ch);
}

static void srst_end(struct ide_channel *ch)
{
    for (unsigned u = 0; u < 2; u++)
        reset_drive(&ch->drive[u]);
    ch->cur = 0;
}

/* ---- the command block and control block registers ---- */

static int channel_empty(const struct ide_channel *ch)
{
    return ch->drive[0].kind == IDE_NONE && ch->drive[1].kind == IDE_NONE;
}

static uint8_t reg_read(struct ide_channel *ch, unsigned reg)
{
    struct ide_drive *d = selected(ch);
    int hob = (ch->devctl & CTL_HOB) != 0;
    if (channel_empty(ch))
        return 0;
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsect : d->nsect;
    case 3: return hob ? d->hob_lbal : d->lbal;
    case 4: return hob ? d->hob_lbam : d->lbam;
    case 5: return hob ? d->hob_lbah : d->lbah;
    case 6: return d->select;
    case 7:
        clear_irq(ch);
        return d->kind == IDE_NONE ? 0 : d->status;
    default: return 0xff;
    }
}

static void exec_command(struct ide_channel *ch, uint8_t cmd)
{
    struct ide_drive *d = selected(ch);
    if (d->kind == IDE_NONE)
        return; /* nobody answers */
    clear_irq(ch);
    if (d->status & (ST_BSY | ST_DRQ)) {
        /* only DEVICE RESET reaches a busy ATAPI device; anything else is ignored */
        if (!(d->kind == IDE_CD && cmd == 0x08)) {
            ide_guest_error(d, "command %#04x while %s ignored", cmd,
                            d->status & ST_BSY ? "busy" : "transferring data");
            return;
        }
    }
    if (d->io_busy)
        io_quiesce(d); /* an abandoned DMA's request: out of the way before a new one */
    ch->ide->st.commands++;
    if (cmd == 0x90) {
        /* EXECUTE DEVICE DIAGNOSTIC: both devices run it; device 0 reports */
        for (unsigned u = 0; u < 2; u++) {
            struct ide_drive *e = &ch->drive[u];
            if (e->kind == IDE_NONE)
                continue;
            xfer_stop(e);
            ide_signature(e);
            e->error = 1;
            e->status = e->kind == IDE_CD ? 0 : ST_DRDY | ST_DSC;
        }
        ch->cur = 0;
        ide_set_irq(&ch->drive[0]);
        return;
    }
    if (d->kind == IDE_CD && cmd == 0x08) {
        /* DEVICE RESET */
        reset_drive(d);
        return;
    }
    d->error = 0;
    if (d->kind == IDE_DISK)
        ata_exec(d, cmd);
    else
        atapi_exec(d, cmd);
}

static void reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
    if (reg >= 1 && reg <= 5)
        ch->devctl &= (uint8_t)~CTL_HOB;
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &ch->drive[u];
        switch (reg) {
        case 1: d->hob_feature = d->feature; d->feature = v; break;
        case 2: d->hob_nsect = d->nsect; d->nsect = v; break;
        case 3: d->hob_lbal = d->lbal; d->lbal = v; break;
        case 4: d->hob_lbam = d->lbam; d->lbam = v; break;
        case 5: d->hob_lbah = d->lbah; d->lbah = v; break;
        case 6: d->select = (uint8_t)((v & ~DEV_DEV) | 0xa0 | (u ? DEV_DEV : 0)); break;
        default: break;
        }
    }
    if (reg == 6)
        ch->cur = (v & DEV_DEV) ? 1 : 0;
    else if (reg == 7)
        exec_command(ch, v);
}

static void data_in(struct ide_channel *ch, uint8_t *p, size_t n)
{
    struct ide_drive *d = selected(ch);
    size_t moved = d->kind == IDE_NONE ? 0 : pio_in(d, p, n);
    if (moved < n)
        memset(p + moved, 0, n - moved); /* no data: reads 0 */
}

static void data_out(struct ide_channel *ch, const uint8_t *p, size_t n)
{
    struct ide_drive *d = selected(ch);
    if (d->kind != IDE_NONE)
        pio_out(d, p, n);
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide_channel *ch = opaque;
    uint64_t v = 0;
    if (off == 0 && size >= 2) {
        uint8_t b[4];
        data_in(ch, b, size);
        return ldn(b, size);
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(off + i == 0 ? 0xff : reg_read(ch, (unsigned)off + i)) << (8 * i);
    return v;
}

static void cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct ide_channel *ch = opaque;
    if (off == 0 && size >= 2) {
        uint8_t b[4];
        stn(b, size, val);
        data_out(ch, b, size);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        if (off + i != 0)
            reg_write(ch, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

/* rep insw / insl on the data port: the whole string in one go. */
static uint32_t cmd_read_rep(void *opaque, uint64_t off, unsigned size, uint32_t count, void *buf)
{
    struct ide_channel *ch = opaque;
    if (off != 0 || size < 2)
        return 0;
    data_in(ch, buf, (size_t)count * size);
    return count;
}

static uint32_t cmd_write_rep(void *opaque, uint64_t off, unsigned size, uint32_t count,
                              const void *buf)
{
    struct ide_channel *ch = opaque;
    if (off != 0 || size < 2)
        return 0;
    data_out(ch, buf, (size_t)count * size);
    return count;
}

static const struct io_ops cmd_ops = {
    .read = cmd_read,
    .write = cmd_write,
    .read_rep = cmd_read_rep,
    .write_rep = cmd_write_rep,
};

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    struct ide_channel *ch = opaque;
    struct ide_drive *d = selected(ch);
    /* alternate status: the status without touching the interrupt */
    uint8_t v = channel_empty(ch) || d->kind == IDE_NONE ? 0 : d->status;
    return size == 1 ? v : v | (ones(size) & ~0xffull);
}

static void ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct ide_channel *ch = opaque;
    uint8_t old = ch->devctl, v = (uint8_t)val;
    ch->devctl = v & (CTL_NIEN | CTL_SRST | CTL_HOB);
    if ((v & CTL_SRST) && !(old & CTL_SRST))
        srst_begin(ch);
    else if (!(v & CTL_SRST) && (old & CTL_SRST))
        srst_end(ch);
    update_irq(ch);
}

static const struct io_ops ctl_ops = { .read = ctl_read, .write = ctl_write };

/* ---- media (QMP) ---- */

void ide_tray_moved(struct ide_drive *d, int open)
{
    struct ide *s = d->ch->ide;
    log_info("ide: %s: tray %s", d->id[0] ? d->id : "cd-rom", open ? "opened" : "closed");
    if (s->tray_fn)
        s->tray_fn(s->tray_opaque, d->id, open);
}

static struct ide_drive *find_cd(struct ide *s, const char *id, char *err, size_t errlen)
{
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = &s->ch[i / 2].drive[i % 2];
        if (d->kind != IDE_NONE && id && strcmp(d->id, id) == 0) {
            if (d->kind != IDE_CD) {
                snprintf(err, errlen, "Device '%s' is not removable", id);
                return NULL;
            }
            return d;
        }
    }
    snprintf(err, errlen, "Device '%s' not found", id ? id : "");
    return NULL;
}

/* Drop D's medium (the transfer using it goes too). */
static void drop_medium(struct ide_drive *d)
{
    if (!d->blk)
        return;
    io_quiesce(d);
    if (d->x.active && d->x.medium)
        xfer_fail(d, -ENOMEDIUM);
    blk_close(d->blk);
    d->blk = NULL;
}

int ide_eject(struct ide *s, const char *id, int force, char *err, size_t errlen)
{
    struct ide_drive *d = find_cd(s, id, err, errlen);
    if (!d)
        return -ENODEV;
    if (d->locked && !d->tray_open && !force) {
        d->event = 1; /* eject request: the guest may unlock and open the tray itself */
        snprintf(err, errlen, "Device '%s' is locked and force was not specified, wait for "
                 "tray to open and try again", id);
        return -EBUSY;
    }
    if (!d->tray_open) {
        d->tray_open = 1;
        d->locked = 0;
        ide_tray_moved(d, 1);
    }
    if (d->blk) {
        drop_medium(d);
        atapi_medium_changed(d);
    }
    return 0;
}

int ide_change_medium(struct ide *s, const char *id, struct blk *blk, char *err, size_t errlen)
{
    struct ide_drive *d = find_cd(s, id, err, errlen);
    if (!d) {
        blk_close(blk);
        return -ENODEV;
    }
    if (!d->tray_open) {
        if (d->locked) {
            snprintf(err, errlen, "Device '%s' is locked and force was not specified, wait "
                     "for tray to open and try again", id);
            d->event = 1;
            blk_close(blk);
            return -EBUSY;
        }
        d->tray_open = 1;
        ide_tray_moved(d, 1);
    }
    drop_medium(d);
    d->blk = blk;
    d->tray_open = 0;
    atapi_medium_changed(d);
    ide_tray_moved(d, 0);
    return 0;
}

int ide_drive_info(struct ide *s, unsigned n, struct ide_drive_info *info)
{
    if (n >= 4)
        return -ENOENT;
    struct ide_drive *d = &s->ch[n / 2].drive[n % 2];
    memset(info, 0, sizeof(*info));
    info->kind = d->kind;
    if (d->kind == IDE_NONE)
        return 0;
    info->id = d->id;
    info->tray_open = d->tray_open;
    info->locked = d->locked;
    info->present = d->blk != NULL;
    info->file = d->blk ? blk_path(d->blk) : NULL;
    info->readonly = d->blk ? blk_readonly(d->blk) : d->kind == IDE_CD;
    return 0;
}

void ide_unplug(struct ide *s, unsigned mask)
{
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = &s->ch[i / 2].drive[i % 2];
        if (d->kind != IDE_DISK)
            continue;
        if (!(mask & VM_UNPLUG_IDE_DISKS) && !((mask & VM_UNPLUG_AUX_IDE_DISKS) && i != 0))
            continue;
        log_info("ide: the guest's PV driver unplugs the disk %s (%s)", blk_path(d->blk),
                 i == 0 ? "primary master" : i == 1 ? "primary slave" : i == 2 ? "secondary master"
                                                                        : "secondary slave");
        io_quiesce(d);
        xfer_stop(d);
        blk_close(d->blk);
        d->blk = NULL;
        d->kind = IDE_NONE;
        d->status = 0;
        if (channel_empty(d->ch))
            clear_irq(d->ch);
    }
}

void ide_set_tray_cb(struct ide *s, ide_tray_fn *fn, void *opaque)
{
    s->tray_fn = fn;
    s->tray_opaque = opaque;
}

const struct ide_stats *ide_stats(const struct ide *s) { return &s->st; }

/* ---- creation ---- */

void ide_free(struct ide *s)
{
    if (!s)
        return;
    for (unsigned c = 0; c < 2; c++) {
        struct ide_channel *ch = &s->ch[c];
        for (unsigned u = 0; u < 2; u++) {
            struct ide_drive *d = &ch->drive[u];
            io_quiesce(d);
            blk_close(d->blk);
            free(d->buf);
        }
        if (ch->irq_level)
            irq_isa_set(&s->vm->irq, c ? 15 : 14, 0);
        if (ch->cmd_region)
            bus_del(s->vm->bus, ch->cmd_region);
        if (ch->ctl_region)
            bus_del(s->vm->bus, ch->ctl_region);
    }
    if (s->pci)
        pci_dev_del(s->pci);
    free(s);
}

int ide_new(struct vm *vm, const struct ide_drive_conf conf[4], struct ide **out, char *err,
            size_t errlen)
{
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 }, ctl_base[2] = { 0x3f6, 0x376 };
    static const char *const cmd_name[2] = { "ide0", "ide1" }, *const ctl_name[2] = { "ide0-ctl", "ide1-ctl" };
    struct ide *s = calloc(1, sizeof(*s));
    int r = -ENOMEM;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "ide: out of memory");
        for (unsigned i = 0; i < 4; i++)
            blk_close(conf[i].blk);
        return -ENOMEM;
    }
    s->vm = vm;
    for (unsigned c = 0; c < 2; c++) {
        s->ch[c].ide = s;
        s->ch[c].idx = c;
        for (unsigned u = 0; u < 2; u++) {
            struct ide_drive *d = &s->ch[c].drive[u];
            const struct ide_drive_conf *dc = &conf[c * 2 + u];
            d->ch = &s->ch[c];
            d->unit = u;
            d->kind = dc->kind;
            d->blk = dc->blk;
            if (dc->id)
                snprintf(d->id, sizeof(d->id), "%s", dc->id);
            snprintf(d->serial, sizeof(d->serial), "HVMD%04u%u", vm->domid % 10000, c * 2 + u);
        }
    }
    /* validate every position before touching the bus */
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = &s->ch[i / 2].drive[i % 2];
        if (d->kind == IDE_NONE) {
            if (d->blk) {
                snprintf(err, errlen, "ide: position %u has a medium but no drive", i);
                r = -EINVAL;
                goto fail;
            }
            continue;
        }
        if (d->kind == IDE_DISK && !d->blk) {
            snprintf(err, errlen, "ide: the disk at position %u has no image", i);
            r = -EINVAL;
            goto fail;
        }
        if (d->kind == IDE_DISK && blk_readonly(d->blk)) {
            snprintf(err, errlen, "ide: %s: an IDE hard disk cannot be read-only (IDE has no "
                     "write protection); use media=cdrom or a writable image", blk_path(d->blk));
            r = -EINVAL;
            goto fail;
        }
        d->buf = blk_buf_alloc(IDE_BUF_SIZE);
        if (!d->buf) {
            snprintf(err, errlen, "ide: out of memory");
            goto fail;
        }
        if (d->kind == IDE_DISK)
            ata_init(d);
        else
            atapi_init(d);
        finish_reset(d);
    }
    s->pci = pci_dev_new(vm->pci, PCI_DEVFN(1, 1), "piix3-ide", 0x8086, 0x7010, 0x010180, 0x00,
                         NULL, s);
    if (!s->pci) {
        snprintf(err, errlen, "ide: out of memory");
        goto fail;
    }
    pci_set16(s->pci, PCI_STATUS, 0x0280); /* fast back-to-back, medium DEVSEL */
    pci_set_wmask(s->pci, 0x40, 4, 0xffffffff); /* IDETIM primary, secondary */
    pci_set_wmask(s->pci, 0x44, 1, 0xff);       /* SIDETIM */
    pci_set_wmask(s->pci, 0x48, 4, 0xffffffff); /* (PIIX4's UDMA control and timing) */
    r = pci_bar_init(s->pci, 4, PCI_BAR_IO, 16, &bm_ops, s);
    if (r < 0) {
        snprintf(err, errlen, "ide: bus master BAR: %s", strerror(-r));
        pci_dev_del(s->pci);
        s->pci = NULL;
        goto fail;
    }
    r = pci_dev_add(s->pci);
    if (r < 0) {
        snprintf(err, errlen, "ide: adding 00:01.1: %s", strerror(-r));
        pci_dev_del(s->pci);
        s->pci = NULL;
        goto fail;
    }
    for (unsigned c = 0; c < 2; c++) {
        struct ide_channel *ch = &s->ch[c];
        r = bus_add_pio(vm->bus, cmd_name[c], cmd_base[c], 8, &cmd_ops, ch, &ch->cmd_region);
        if (r < 0) {
            snprintf(err, errlen, "ide: ports %#x-%#x: %s", cmd_base[c], cmd_base[c] + 7,
                     strerror(-r));
            goto fail;
        }
        r = bus_add_pio(vm->bus, ctl_name[c], ctl_base[c], 1, &ctl_ops, ch, &ch->ctl_region);
        if (r < 0) {
            snprintf(err, errlen, "ide: port %#x: %s", ctl_base[c], strerror(-r));
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    ide_free(s);
    return r;
}

/* ---- the machine's IDE device: drives from the command line, QMP ---- */

/* What -drive may say: libxl's keys, and readonly / id / aio. */
static const char *const drive_keys[] = { "file", "if", "index", "media", "format", "cache",
                                          "readonly", "id", "aio" };

static int open_drive(struct vm *vm, const struct cfg_ide *p, struct blk **out)
{
    const struct cfg_opt *o = p->drive;
    const char *cache_s = cfg_get(o, "cache"), *aio = cfg_get(o, "aio");
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    char err[300];

    *out = NULL;
    for (unsigned i = 0; i < o->n_kv; i++) {
        unsigned k;
        for (k = 0; k < ARRAY_SIZE(drive_keys) && strcmp(o->kv[i].key, drive_keys[k]); k++)
            ;
        if (k == ARRAY_SIZE(drive_keys)) {
            log_err("-drive %s: %s= is not supported by hvmd", o->raw, o->kv[i].key);
            return -EINVAL;
        }
    }
    if (cache_s && blk_parse_cache(cache_s, &cache) < 0) {
        log_err("-drive %s: cache=%s: hvmd knows writeback, none, writethrough, directsync and "
                "unsafe", o->raw, cache_s);
        return -EINVAL;
    }
    if (aio && strcmp(aio, "native") && strcmp(aio, "threads")) {
        log_err("-drive %s: aio=%s: hvmd knows native and threads (it uses libaio either way)",
                o->raw, aio);
        return -EINVAL;
    }
    if (!p->file) {
        if (p->media == CFG_MEDIA_CDROM)
            return 0; /* an empty drive */
        log_err("-drive %s: a disk needs file=", o->raw);
        return -EINVAL;
    }
    struct blk_opts bo = { .path = p->file, .fd = -1, .readonly = p->readonly, .cache = cache };
    if (!strncmp(p->file, "/dev/fdset/", 11)) {
        bo.fd = qmp_open(vm->qmp, p->file, p->readonly ? O_RDONLY : O_RDWR, err, sizeof(err));
        if (bo.fd < 0) {
            log_err("-drive %s: %s", o->raw, err);
            return bo.fd;
        }
    }
    int r = blk_open(out, vm->loop, &bo, err, sizeof(err));
    if (r < 0) {
        log_err("-drive %s: %s", o->raw, err);
        return r;
    }
    log_info("ide: %s: %s, %llu bytes, %s%s", p->file,
             p->media == CFG_MEDIA_CDROM ? "CD-ROM" : "disk",
             (unsigned long long)blk_size(*out), blk_readonly(*out) ? "read-only, " : "",
             blk_direct(*out) ? "O_DIRECT + libaio" : "page cache");
    return 0;
}

static void qmp_tray(void *opaque, const char *id, int open)
{
    struct ide *s = opaque;
    char data[400], name[160];
    qmp_json_str(name, sizeof(name), id);
    snprintf(data, sizeof(data), "{\"device\": %s, \"tray-open\": %s, \"id\": %s}", name,
             open ? "true" : "false", name);
    qmp_event(s->vm->qmp, "DEVICE_TRAY_MOVED", data);
}

static const char *qmp_drive_name(struct qmp_req *r)
{
    const char *id = qmp_arg_str(r, "id");
    return id ? id : qmp_arg_str(r, "device");
}

static void qmp_eject(void *opaque, struct qmp_req *r)
{
    struct ide *s = opaque;
    char err[300];
    const char *id = qmp_drive_name(r);
    if (!id) {
        qmp_req_error(r, "GenericError", "Parameter 'id' is missing");
        return;
    }
    if (ide_eject(s, id, qmp_arg_bool(r, "force", 0), err, sizeof(err)) < 0)
        qmp_req_error(r, "GenericError", "%s", err);
}

static void qmp_change_medium(void *opaque, struct qmp_req *r)
{
    struct ide *s = opaque;
    char err[300];
    const char *id = qmp_drive_name(r), *file = qmp_arg_str(r, "filename");
    const char *fmt = qmp_arg_str(r, "format"), *mode = qmp_arg_str(r, "read-only-mode");
    struct blk *b;

    if (!id || !file) {
        qmp_req_error(r, "GenericError", "Parameter '%s' is missing", id ? "filename" : "id");
        return;
    }
    if (fmt && strcmp(fmt, "raw")) {
        qmp_req_error(r, "GenericError", "format '%s': hvmd reads raw images only", fmt);
        return;
    }
    if (mode && strcmp(mode, "retain") && strcmp(mode, "read-only")) {
        qmp_req_error(r, "GenericError", "read-only-mode '%s': a CD-ROM is read-only", mode);
        return;
    }
    int fd = qmp_open(s->vm->qmp, file, O_RDONLY, err, sizeof(err));
    if (fd < 0) {
        qmp_req_error(r, "GenericError", "%s", err);
        return;
    }
    struct blk_opts bo = { .path = file, .fd = fd, .readonly = 1 };
    if (blk_open(&b, s->vm->loop, &bo, err, sizeof(err)) < 0) {
        qmp_req_error(r, "GenericError", "%s", err);
        return;
    }
    if (ide_change_medium(s, id, b, err, sizeof(err)) < 0) {
        qmp_req_error(r, "GenericError", "%s", err);
        return;
    }
    log_info("ide: %s: new medium %s", id, file);
}

static void qmp_query_block(void *opaque, struct qmp_req *r)
{
    struct ide *s = opaque;
    char out[4096], name[160], file[600];
    size_t n = 0;
    n += (size_t)snprintf(out + n, sizeof(out) - n, "[");
    for (unsigned i = 0; i < 4 && n < sizeof(out); i++) {
        struct ide_drive_info info;
        if (ide_drive_info(s, i, &info) < 0 || info.kind == IDE_NONE)
            continue;
        qmp_json_str(name, sizeof(name), info.id ? info.id : "");
        n += (size_t)snprintf(out + n, sizeof(out) - n,
                              "%s{\"device\": %s, \"qdev\": %s, \"removable\": %s, "
                              "\"locked\": %s, \"type\": \"unknown\"",
                              n > 1 ? ", " : "", name, name,
                              info.kind == IDE_CD ? "true" : "false",
                              info.locked ? "true" : "false");
        if (info.kind == IDE_CD && n < sizeof(out))
            n += (size_t)snprintf(out + n, sizeof(out) - n, ", \"tray_open\": %s",
                                  info.tray_open ? "true" : "false");
        if (info.present && n < sizeof(out)) {
            qmp_json_str(file, sizeof(file), info.file);
            n += (size_t)snprintf(out + n, sizeof(out) - n,
                                  ", \"inserted\": {\"file\": %s, \"ro\": %s, \"drv\": \"raw\"}",
                                  file, info.readonly ? "true" : "false");
        }
        if (n < sizeof(out))
            n += (size_t)snprintf(out + n, sizeof(out) - n, "}");
    }
    if (n < sizeof(out))
        n += (size_t)snprintf(out + n, sizeof(out) - n, "]");
    if (n >= sizeof(out)) {
        qmp_req_error(r, "GenericError", "answer too long");
        return;
    }
    qmp_req_return(r, out);
}

static void unplug_hook(void *opaque, unsigned mask)
{
    ide_unplug(opaque, mask);
}

static void dev_ide_destroy(void *state)
{
    struct ide *s = state;
    if (!s)
        return;
    log_info("ide: %llu ATA commands, %llu ATAPI packets, %llu bytes by PIO, %llu by DMA; "
             "medium requests: %llu done at once, %llu asynchronously; %llu interrupts, "
             "%llu errors",
             (unsigned long long)s->st.commands, (unsigned long long)s->st.packets,
             (unsigned long long)s->st.pio_bytes, (unsigned long long)s->st.dma_bytes,
             (unsigned long long)s->st.sync_io, (unsigned long long)s->st.async_io,
             (unsigned long long)s->st.irqs, (unsigned long long)s->st.errors);
    if (s->vm->qmp)
        qmp_unregister(s->vm->qmp, s);
    ide_free(s);
}

static int dev_ide_create(struct vm *vm, void **state)
{
    struct config *cfg = (struct config *)vm->cfg;
    struct cfg_ide pos[4];
    struct ide_drive_conf conf[4];
    struct ide *s;
    char err[300];
    int r;

    *state = NULL;
    memset(pos, 0, sizeof(pos));
    memset(conf, 0, sizeof(conf));
    if (cfg && cfg_ide(cfg, pos, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -EINVAL;
    }
    for (unsigned i = 0; i < 4; i++) {
        if (pos[i].media == CFG_MEDIA_NONE)
            continue;
        r = open_drive(vm, &pos[i], &conf[i].blk);
        if (r < 0)
            goto fail;
        conf[i].kind = pos[i].media == CFG_MEDIA_CDROM ? IDE_CD : IDE_DISK;
        conf[i].id = pos[i].id;
    }
    r = ide_new(vm, conf, &s, err, sizeof(err));
    if (r < 0) {
        log_err("%s", err);
        return r; /* ide_new closed the media */
    }
    for (unsigned i = 0; i < 4; i++) {
        if (pos[i].drive)
            pos[i].drive->claimed = 1;
        if (pos[i].device)
            pos[i].device->claimed = 1;
    }
    r = vm_on_unplug(vm, unplug_hook, s);
    if (r < 0) {
        ide_free(s);
        return r;
    }
    if (vm->qmp) {
        ide_set_tray_cb(s, qmp_tray, s);
        if (qmp_register(vm->qmp, "eject", qmp_eject, s) < 0 ||
            qmp_register(vm->qmp, "blockdev-change-medium", qmp_change_medium, s) < 0 ||
            qmp_register(vm->qmp, "query-block", qmp_query_block, s) < 0) {
            log_err("ide: cannot register its QMP commands");
            dev_ide_destroy(s);
            return -EEXIST;
        }
    }
    *state = s;
    return 0;
fail:
    for (unsigned i = 0; i < 4; i++)
        blk_close(conf[i].blk);
    return r;
}

const struct device dev_ide = {
    .name = "ide",
    .create = dev_ide_create,
    .destroy = dev_ide_destroy,
};

/* SPDX-License-Identifier: GPL-2.0-only */
/* An IDE drive and its bus, apart from the controller (see drive.h).
 * Spec: ATA/ATAPI-6 (T13/1410D) for the register protocol: the task file, device control and
 * soft reset, the PIO data-in / data-out, DMA and PACKET protocols, INTRQ and nIEN, device
 * selection and the registers of an absent device.
 * Emulated: the data paths every command shares: PIO in / out in DRQ blocks (any size of
 * access, so a `rep insw` moves a whole block at once), DMA through the controller's engine
 * (dma.h), reading and writing the medium synchronously when the page cache allows it (so the
 * guest's first status poll already sees the result) and through libaio otherwise; soft reset
 * (SRST), DEVICE RESET and EXECUTE DEVICE DIAGNOSTIC; the 48-bit task file (HOB). The ATA and
 * ATAPI command sets are in ata.c and atapi.c, the controller's registers in piix.c.
 * Left out: overlapped and queued commands.
 *
 * Guest-controlled loops are bounded: PIO moves at most what the current DRQ block holds, and
 * a DMA pass ends when the controller's scatter list does (its own bound). */
#include "devices/ide/drive.h"
#include "dm/qmp.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ide_drive *selected(struct ide_bus *b) { return &b->drive[b->cur]; }

void ide_guest_error(struct ide_drive *d, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_guest(d->bus->rl, "ide", "%s%u: %s", d->bus->name, d->unit, msg);
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

void ide_id_modes(const struct ide_drive *d, uint16_t *w, uint16_t mwdma, uint16_t udma)
{
    w[63] = mwdma;
    if ((d->xfer_mode & 0xf8) == 0x20)
        w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    w[88] = udma;
    if ((d->xfer_mode & 0xf8) == 0x40)
        w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7));
}

int ide_set_xfer_mode(struct ide_drive *d, uint8_t m)
{
    /* PIO default (with or without IORDY), PIO flow control 0-4, multiword DMA 0-2, UDMA 0-5 */
    if (!(m <= 0x01 || (m >= 0x08 && m <= 0x0c) || (m >= 0x20 && m <= 0x22) ||
          (m >= 0x40 && m <= 0x45)))
        return 0;
    d->xfer_mode = m;
    return 1;
}

/* ---- interrupts ---- */

static void update_irq(struct ide_bus *b)
{
    int level = b->irq_pending && !(b->devctl & CTL_NIEN);
    if (level == b->irq_level)
        return;
    b->irq_level = level;
    b->ops->irq(b->ctrl, b, level);
}

void ide_set_irq(struct ide_drive *d)
{
    struct ide_bus *b = d->bus;
    if (b->devctl & CTL_NIEN)
        return; /* the device does not drive INTRQ: nothing reaches the controller either */
    b->irq_pending = 1;
    b->ops->intr(b->ctrl, b);
    b->st->irqs++;
    update_irq(b);
}

static void clear_irq(struct ide_bus *b)
{
    b->irq_pending = 0;
    update_irq(b);
}

/* ---- transfers ---- */

static void io_done(struct blk_req *req, int ret);

/* A request kept by the stop policy goes unretried (its command is being abandoned). */
static void kept_drop(struct ide_drive *d)
{
    if (!d->io_kept)
        return;
    if (d->bus->vm)
        vm_io_forget(d->bus->vm, &d->kept);
    d->io_kept = 0;
    d->io_busy = 0;
}

/* Wait for the medium request in flight, if any, and make sure its completion changes
 * nothing (the transfer it belonged to is being abandoned). */
static void io_quiesce(struct ide_drive *d)
{
    d->gen++;
    kept_drop(d);
    if (d->io_busy && d->blk)
        blk_drain(d->blk);
    d->io_busy = 0;
}

/* The host failed D->req with RET (< 0). What the medium's policy says: 1 the request is kept
 * (stop: the guest is paused, the request retried at cont), 0 CONT runs with *RET (report:
 * the error; ignore: the request's success). */
static int io_host_error(struct ide_drive *d, int *ret)
{
    struct vm *vm = d->bus->vm;
    enum blk_action a = blk_error_action(d->blk, d->req.op, *ret);
    if (a == BLK_ACT_STOP && !vm)
        a = BLK_ACT_REPORT; /* nobody to pause (tests without a machine) */
    if (a == BLK_ACT_STOP && d->retried && d->req.op == BLK_FLUSH)
        a = BLK_ACT_REPORT; /* a failed flush stays failed (block.h): no cont can mend it, so
                               the second failure goes to the guest instead of pausing it for
                               good */
    if (vm)
        qmp_block_io_error(vm->qmp, d->id[0] ? d->id : d->qname, d->req.op, a, *ret);
    if (a == BLK_ACT_IGNORE) {
        *ret = d->req.op == BLK_FLUSH ? 0 : (int)d->req.len;
        return 0;
    }
    if (a == BLK_ACT_REPORT)
        return 0;
    d->io_kept = 1;
    d->kept_err = *ret;
    d->io_busy = 1;
    d->status = (uint8_t)((d->status | ST_BSY) & ~ST_DRQ);
    vm_io_stop(vm, &d->kept);
    return 1;
}

/* The transfer is over; DONE: a DMA transfer moved its last byte. */
static void xfer_stop(struct ide_drive *d, int done)
{
    d->x.active = 0;
    d->bus->ops->dma_end(d->bus->ctrl, d, done);
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
        int ret = d->req.ret;
        d->bus->st->sync_io++;
        int kept = ret < 0 && io_host_error(d, &ret);
        d->retried = 0;
        if (kept)
            return 0; /* BSY until cont */
        cont(d, ret);
        return 1;
    }
    if (r < 0) {
        d->retried = 0;
        cont(d, r);
        return 1;
    }
    d->bus->st->async_io++;
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
        d->retried = 0;
        if (d->reset_pending)
            finish_reset(d);
        return;
    }
    int kept = ret < 0 && io_host_error(d, &ret);
    d->retried = 0;
    if (kept)
        return; /* BSY until cont */
    d->status &= (uint8_t)~ST_BSY;
    d->io_cont(d, ret);
}

/* QMP cont: submit the kept request again, as it was (the buffer still holds a write's data;
 * the guest was paused all along). */
static void kept_retry(struct vm_kept *k)
{
    struct ide_drive *d = container_of(k, struct ide_drive, kept);
    if (!d->io_kept)
        return;
    d->io_kept = 0;
    d->io_busy = 0;
    d->retried = 1;
    d->status &= (uint8_t)~ST_BSY;
    io_submit_req(d, d->io_cont);
}

/* A snapshot is taken while a request is kept: the request ends now with its error, as the
 * report policy would have ended it (a stream holds no request in flight). */
static void kept_give_up(struct ide_drive *d)
{
    int err = d->kept_err;
    kept_drop(d);
    d->status &= (uint8_t)~ST_BSY;
    d->io_cont(d, err);
}

static void xfer_fail(struct ide_drive *d, int err)
{
    ide_end_fn *end = d->x.end;
    xfer_stop(d, 0);
    d->bus->st->errors++;
    end(d, err);
}

static void pio_block(struct ide_drive *d, int irq);

/* The transfer moved its last byte. */
static void xfer_finish(struct ide_drive *d)
{
    ide_end_fn *end = d->x.end;
    xfer_stop(d, d->x.dma);
    end(d, 0);
}

/* The buffer was filled or emptied: the data phase goes on. */
static void xfer_resume(struct ide_drive *d)
{
    if (d->x.dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        ide_dma_run(d);
    } else {
        pio_block(d, 1);
    }
}

static void medium_done(struct ide_drive *d, int ret);

/* In, medium: fill the buffer with the next chunk. 1 done (or failed: transfer over),
 * 0 in flight. */
static int load(struct ide_drive *d)
{
    struct ide_xfer *x = &d->x;
    size_t n = (size_t)MIN(x->unloaded, (uint64_t)IDE_BUF_SIZE);
    uint64_t size = d->blk ? blk_size(d->blk) : 0;
    /* a CD-ROM's last sector may run past the image's end (a medium has whole sectors):
     * what lies beyond reads as zeros */
    size_t have = x->pos >= size ? 0 : (size_t)MIN((uint64_t)n, size - x->pos);
    memset(&d->req, 0, sizeof(d->req));
    d->req.op = BLK_READ;
    d->req.off = x->pos;
    d->req.buf = d->buf;
    d->req.len = have;
    x->len = 0;
    x->cur = 0;
    x->fill = n - have;
    if (have < n)
        memset(d->buf + have, 0, n - have);
    if (have == 0 && d->blk) {
        medium_done(d, 0);
        return 1;
    }
    return io_submit_req(d, medium_done);
}

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
    return io_submit_req(d, medium_done);
}

/* A load (in) or a store (out) completed: the data phase goes on, ends or fails. */
static void medium_done(struct ide_drive *d, int ret)
{
    struct ide_xfer *x = &d->x;
    if (ret < 0) {
        xfer_fail(d, ret);
        return;
    }
    if (!x->out) {
        size_t n = d->req.len + x->fill;
        x->len = n;
        x->cur = 0;
        x->pos += n;
        x->unloaded -= n;
        x->fill = 0;
        xfer_resume(d);
        return;
    }
    x->pos += x->cur;
    x->cur = 0;
    if (x->remain == 0) {
        xfer_finish(d);
        return;
    }
    x->len = (size_t)MIN(x->remain, (uint64_t)IDE_BUF_SIZE);
    xfer_resume(d);
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

/* PIO: move up to N bytes between P and the buffer (OUT: from P); returns how many moved.
 * A whole string access (rep insw) is one call, block after block. */
static size_t pio_move(struct ide_drive *d, uint8_t *p, size_t n, int out)
{
    struct ide_xfer *x = &d->x;
    size_t moved = 0;
    while (moved < n && pio_ready(d, out)) {
        size_t k = MIN(n - moved, x->block_end - x->cur);
        if (out)
            memcpy(d->buf + x->cur, p + moved, k);
        else
            memcpy(p + moved, d->buf + x->cur, k);
        x->cur += k;
        x->remain -= k;
        moved += k;
        if (x->cur == x->block_end)
            pio_block_done(d);
    }
    d->bus->st->pio_bytes += moved;
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
    if (!medium || out)
        x->len = (size_t)MIN(total, (uint64_t)IDE_BUF_SIZE);
    if (dma) {
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        d->bus->ops->dma_start(d->bus->ctrl, d);
        ide_dma_run(d);
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
        d->bus->st->errors++;
    if (irq)
        ide_set_irq(d);
}

void ide_ok(struct ide_drive *d) { ide_done(d, ST_DRDY | ST_DSC, 0, 1); }
void ide_abort(struct ide_drive *d) { ide_done(d, ST_DRDY | ST_ERR, ER_ABRT, 1); }

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

/* ---- DMA, with the controller's engine ---- */

void ide_dma_run(struct ide_drive *d)
{
    const struct ide_ctrl_ops *ops = d->bus->ops;
    void *ctrl = d->bus->ctrl;
    struct ide_xfer *x = &d->x;
    if (d->dma_running)
        return;
    d->dma_running = 1;
    for (;;) {
        if (!x->active || !x->dma || d->io_busy || !ops->dma_ready(ctrl, d))
            break;
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
        enum ide_dma_result r = ops->dma_rw(ctrl, d, d->buf + x->cur, &n, !x->out);
        x->cur += n;
        x->remain -= n;
        d->bus->st->dma_bytes += n;
        if (r == IDE_DMA_FAULT) {
            xfer_fail(d, -EFAULT);
            break;
        }
        if (x->out && (x->cur == x->len || x->remain == 0)) {
            if (!x->medium) {
                /* a command's parameter data (MODE SELECT): the buffer holds it all; it is
                 * the command's, not the medium's */
                xfer_finish(d);
                break;
            }
            store(d); /* store_done finishes the transfer or makes room */
            continue;
        }
        if (r == IDE_DMA_END && x->remain > 0) {
            /* The scatter list is smaller than the transfer: the engine stopped without an
             * interrupt, the device still wants data (the driver will time out and reset). */
            ide_guest_error(d, "DMA: the scatter list ended %llu bytes before the transfer",
                            (unsigned long long)x->remain);
            break;
        }
    }
    d->dma_running = 0;
}

void ide_dma_cancel(struct ide_drive *d)
{
    if (!d->x.active)
        return;
    io_quiesce(d);
    xfer_stop(d, 0);
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

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

/* The signature, diagnostics passed, and the status a device shows after a reset. */
static void reset_registers(struct ide_drive *d)
{
    ide_signature(d);
    d->error = 1;
    d->status = d->kind == IDE_CD ? 0 : ST_DRDY | ST_DSC;
}

static void finish_reset(struct ide_drive *d)
{
    d->reset_pending = 0;
    reset_registers(d);
    d->feature = d->hob_feature = d->hob_nsect = d->hob_lbal = d->hob_lbam = d->hob_lbah = 0;
}

/* Reset one device (SRST, DEVICE RESET): the transfer goes, the settings stay. */
static void reset_drive(struct ide_drive *d)
{
    if (d->kind == IDE_NONE)
        return;
    kept_drop(d);
    int busy = d->io_busy;
    d->gen++;
    xfer_stop(d, 0);
    memset(&d->x, 0, sizeof(d->x));
    if (busy) {
        /* the medium request in flight completes first; the reset ends with it */
        d->reset_pending = 1;
        d->status = ST_BSY;
        return;
    }
    finish_reset(d);
}

static void srst_begin(struct ide_bus *b)
{
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &b->drive[u];
        if (d->kind == IDE_NONE)
            continue;
        d->gen++;
        kept_drop(d);
        xfer_stop(d, 0);
        d->status = ST_BSY;
    }
    clear_irq(b);
}

static void srst_end(struct ide_bus *b)
{
    for (unsigned u = 0; u < 2; u++)
        reset_drive(&b->drive[u]);
    b->cur = 0;
}

/* ---- the command block and control block registers ---- */

int ide_bus_empty(const struct ide_bus *b)
{
    return b->drive[0].kind == IDE_NONE && b->drive[1].kind == IDE_NONE;
}

uint8_t ide_bus_read(struct ide_bus *b, unsigned reg)
{
    struct ide_drive *d = selected(b);
    int hob = (b->devctl & CTL_HOB) != 0;
    if (ide_bus_empty(b))
        return 0;
    switch (reg) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsect : d->nsect;
    case 3: return hob ? d->hob_lbal : d->lbal;
    case 4: return hob ? d->hob_lbam : d->lbam;
    case 5: return hob ? d->hob_lbah : d->lbah;
    case 6: return d->select;
    case 7:
        clear_irq(b);
        return d->kind == IDE_NONE ? 0 : d->status;
    default: return 0xff;
    }
}

static void exec_command(struct ide_bus *b, uint8_t cmd)
{
    struct ide_drive *d = selected(b);
    if (d->kind == IDE_NONE)
        return; /* nobody answers */
    clear_irq(b);
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
    b->st->commands++;
    if (cmd == 0x90) {
        /* EXECUTE DEVICE DIAGNOSTIC: both devices run it; device 0 reports. The other
         * device's medium request in flight is waited for and dropped with its transfer. */
        for (unsigned u = 0; u < 2; u++) {
            struct ide_drive *e = &b->drive[u];
            if (e->kind == IDE_NONE)
                continue;
            io_quiesce(e);
            xfer_stop(e, 0);
            memset(&e->x, 0, sizeof(e->x));
            e->reset_pending = 0;
            reset_registers(e);
        }
        b->cur = 0;
        ide_set_irq(&b->drive[0]);
        return;
    }
    if (d->kind == IDE_CD && cmd == 0x08) {
        /* DEVICE RESET */
        reset_drive(d);
        return;
    }
    d->error = 0;
    d->cmds->exec(d, cmd);
}

void ide_bus_write(struct ide_bus *b, unsigned reg, uint8_t v)
{
    if (reg >= 1 && reg <= 5)
        b->devctl &= (uint8_t)~CTL_HOB;
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &b->drive[u];
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
        b->cur = (v & DEV_DEV) ? 1 : 0;
    else if (reg == 7)
        exec_command(b, v);
}

void ide_bus_ctl_write(struct ide_bus *b, uint8_t v)
{
    uint8_t old = b->devctl;
    b->devctl = v & (CTL_NIEN | CTL_SRST | CTL_HOB);
    if ((v & CTL_SRST) && !(old & CTL_SRST))
        srst_begin(b);
    else if (!(v & CTL_SRST) && (old & CTL_SRST))
        srst_end(b);
    update_irq(b);
}

/* The status without touching the interrupt. */
uint8_t ide_bus_alt_status(struct ide_bus *b)
{
    struct ide_drive *d = selected(b);
    return ide_bus_empty(b) || d->kind == IDE_NONE ? 0 : d->status;
}

void ide_bus_data_in(struct ide_bus *b, uint8_t *p, size_t n)
{
    struct ide_drive *d = selected(b);
    size_t moved = d->kind == IDE_NONE ? 0 : pio_move(d, p, n, 0);
    if (moved < n)
        memset(p + moved, 0, n - moved); /* no data: reads 0 */
}

void ide_bus_data_out(struct ide_bus *b, const uint8_t *p, size_t n)
{
    struct ide_drive *d = selected(b);
    if (d->kind != IDE_NONE)
        pio_move(d, (uint8_t *)p, n, 1);
}

/* ---- the medium ---- */

void ide_tray_moved(struct ide_drive *d, int open)
{
    log_limited(&d->tray_rl, LOG_INFO, "ide: %s: tray %s", d->id[0] ? d->id : "cd-rom",
                open ? "opened" : "closed");
    if (d->tray_fn)
        d->tray_fn(d->tray_opaque, d->id, open);
}

void ide_drop_medium(struct ide_drive *d)
{
    if (!d->blk)
        return;
    io_quiesce(d);
    if (d->x.active && d->x.medium)
        xfer_fail(d, -ENOMEDIUM);
    blk_close(d->blk);
    d->blk = NULL;
}

void ide_drive_info(const struct ide_drive *d, struct ide_drive_info *info)
{
    memset(info, 0, sizeof(*info));
    info->kind = d->kind;
    if (d->kind == IDE_NONE)
        return;
    info->id = d->id;
    info->tray_open = d->tray_open;
    info->locked = d->locked;
    info->present = d->blk != NULL;
    info->file = d->blk ? blk_path(d->blk) : NULL;
    info->readonly = d->blk ? blk_readonly(d->blk) : d->kind == IDE_CD;
}

void ide_drive_unplug(struct ide_drive *d)
{
    io_quiesce(d);
    xfer_stop(d, 0);
    blk_close(d->blk);
    d->blk = NULL;
    d->kind = IDE_NONE;
    d->status = 0;
    if (ide_bus_empty(d->bus))
        clear_irq(d->bus);
}

/* ---- creation ---- */

void ide_bus_init(struct ide_bus *b, const char *name, const struct ide_ctrl_ops *ops,
                  void *ctrl, struct ide_stats *st, struct ratelimit *rl)
{
    *b = (struct ide_bus){ .name = name, .ops = ops, .ctrl = ctrl, .st = st, .rl = rl };
    for (unsigned u = 0; u < 2; u++) {
        b->drive[u].bus = b;
        b->drive[u].unit = u;
    }
}

int ide_drive_init(struct ide_bus *b, unsigned unit, const struct ide_drive_conf *conf,
                   const char *serial, unsigned pos, char *err, size_t errlen)
{
    struct ide_drive *d = &b->drive[unit];
    d->kind = conf->kind;
    d->blk = conf->blk;
    if (conf->id)
        snprintf(d->id, sizeof(d->id), "%s", conf->id);
    snprintf(d->qname, sizeof(d->qname), "ide%u-%s%u", (pos / 2) % 10,
             d->kind == IDE_CD ? "cd" : "hd", pos % 2);
    d->kept.retry = kept_retry;
    snprintf(d->serial, sizeof(d->serial), "%s", serial);
    if (d->kind == IDE_NONE) {
        if (d->blk) {
            snprintf(err, errlen, "ide: position %u has a medium but no drive", pos);
            return -EINVAL;
        }
        return 0;
    }
    if (d->kind == IDE_DISK && !d->blk) {
        snprintf(err, errlen, "ide: the disk at position %u has no image", pos);
        return -EINVAL;
    }
    if (d->kind == IDE_DISK && blk_readonly(d->blk)) {
        snprintf(err, errlen, "ide: %s: an IDE hard disk cannot be read-only (IDE has no "
                 "write protection); use media=cdrom or a writable image", blk_path(d->blk));
        return -EINVAL;
    }
    d->buf = blk_buf_alloc(IDE_BUF_SIZE);
    if (!d->buf) {
        snprintf(err, errlen, "ide: out of memory");
        return -ENOMEM;
    }
    d->cmds = d->kind == IDE_DISK ? &ide_ata : &ide_atapi;
    d->cmds->init(d);
    finish_reset(d);
    return 0;
}

void ide_drive_free(struct ide_drive *d)
{
    io_quiesce(d);
    blk_close(d->blk);
    d->blk = NULL;
    free(d->buf);
    d->buf = NULL;
}

/* ---- state (dm/snapshot.h) ---- */

/* The task file registers, saved and loaded by name. */
static const struct {
    const char *name;
    size_t off;
} taskfile[] = {
#define TF(f) { #f, offsetof(struct ide_drive, f) }
    TF(feature), TF(nsect), TF(lbal), TF(lbam), TF(lbah), TF(hob_feature), TF(hob_nsect),
    TF(hob_lbal), TF(hob_lbam), TF(hob_lbah), TF(select), TF(status), TF(error),
#undef TF
};

/* x.end as an index into the command set's table (0: none). */
static uint8_t end_index(const struct ide_drive *d)
{
    for (unsigned i = 0; d->cmds && i < d->cmds->n_ends; i++)
        if (d->cmds->ends[i] == d->x.end)
            return (uint8_t)(i + 1);
    return 0;
}

static uint8_t xfer_flags(const struct ide_xfer *x)
{
    return (uint8_t)((x->active ? 0x01 : 0) | (x->out ? 0x02 : 0) | (x->dma ? 0x04 : 0) |
                     (x->packet ? 0x08 : 0) | (x->medium ? 0x10 : 0) | (x->fua ? 0x20 : 0) |
                     (x->atapi ? 0x40 : 0));
}

static void drive_save(struct ide_drive *d, struct snap_writer *w)
{
    const struct ide_xfer *x = &d->x;
    snap_put_u8(w, "kind", (uint8_t)d->kind);
    /* the identity IDENTIFY reports: a restored guest revalidates its drives against it (its
     * default names the domain, whose id a restore or migration changes) */
    snap_put_bytes(w, "serial", d->serial, IDE_SERIAL_LEN);
    for (unsigned i = 0; i < ARRAY_SIZE(taskfile); i++)
        snap_put_u8(w, taskfile[i].name, *((const uint8_t *)d + taskfile[i].off));
    snap_put_u32(w, "cyls", d->cyls);
    snap_put_u8(w, "heads", (uint8_t)d->heads);
    snap_put_u8(w, "spt", (uint8_t)d->spt);
    snap_put_u8(w, "mult", (uint8_t)d->mult);
    snap_put_bool(w, "wce", d->wce);
    snap_put_u8(w, "xfer_mode", d->xfer_mode);
    snap_put_u8(w, "x.flags", xfer_flags(x));
    snap_put_u64(w, "x.pos", x->pos);
    snap_put_u64(w, "x.remain", x->remain);
    snap_put_u64(w, "x.unloaded", x->unloaded);
    snap_put_u32(w, "x.len", (uint32_t)x->len);
    snap_put_u32(w, "x.cur", (uint32_t)x->cur);
    snap_put_u32(w, "x.drq", (uint32_t)x->drq);
    snap_put_u32(w, "x.block_end", (uint32_t)x->block_end);
    snap_put_u8(w, "x.end", end_index(d));
    snap_put_bytes(w, "buf", d->buf, x->active ? x->len : 0);
    snap_put_bytes(w, "cdb", d->cdb, sizeof(d->cdb));
    snap_put_bool(w, "pkt_dma", d->pkt_dma);
    snap_put_u8(w, "sense_key", d->sense_key);
    snap_put_u8(w, "asc", d->asc);
    snap_put_u8(w, "ascq", d->ascq);
    snap_put_bool(w, "ua", d->ua);
    snap_put_bool(w, "tray_open", d->tray_open);
    snap_put_bool(w, "locked", d->locked);
    snap_put_u8(w, "event", d->event);
}

void ide_bus_save(struct ide_bus *b, struct snap_writer *w)
{
    static const char *const unit[2] = { "d0", "d1" };
    /* nothing in flight in a stream: each drive's medium request completes first (as time
     * passes), before any field is written, so its completion (status, the bus's interrupt,
     * the bus master's) is all in the stream, and nothing is left to do twice */
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &b->drive[u];
        if (d->io_kept)
            kept_give_up(d);
        /* (a save is the host's act, not the guest's: a line per drive per save at most) */
        if (d->io_busy && d->blk)
            log_info("ide: %s%u: a medium request was in flight at the save; it completes "
                     "before the state is written", b->name, u);
        while (d->io_busy && d->blk)
            blk_drain(d->blk);
    }
    snap_put_u8(w, "cur", (uint8_t)b->cur);
    snap_put_u8(w, "devctl", b->devctl);
    snap_put_bool(w, "irq_pending", b->irq_pending);
    for (unsigned u = 0; u < 2; u++) {
        snap_put_enter(w, unit[u]);
        drive_save(&b->drive[u], w);
        snap_put_leave(w);
    }
}

/* The transfer T in flight must be one the drive could have made: cursors inside the buffer,
 * counts that agree (so every PIO block and DMA pass makes progress), the medium's bytes. */
static int xfer_check(struct snap_reader *r, const struct ide_drive *t, uint8_t end)
{
    const struct ide_xfer *x = &t->x;
    uint64_t size = t->blk ? blk_size(t->blk) : UINT64_MAX;
    if (t->blk && t->kind == IDE_CD) /* whole sectors, the last one zero-filled (atapi.c) */
        size = (size + 2047) / 2048 * 2048;
    if (snap_check(r, !x->packet || (x->out && !x->dma && !x->medium), "x.flags",
                   "a packet is received by PIO") < 0 ||
        snap_check(r, x->len <= IDE_BUF_SIZE && x->cur <= x->len, "x.cur",
                   "%zu of %zu: outside the buffer", x->cur, x->len) < 0 ||
        snap_check(r, x->drq >= 1 && x->drq <= IDE_BUF_SIZE, "x.drq", "%zu", x->drq) < 0 ||
        snap_check(r, x->dma || (x->block_end >= x->cur && x->block_end <= x->len &&
                                 x->block_end - x->cur <= x->drq),
                   "x.block_end", "%zu: not a DRQ block from the cursor inside the buffer",
                   x->block_end) < 0 ||
        snap_check(r, (x->medium && !x->out) || x->unloaded == 0, "x.unloaded",
                   "only a read of the medium has bytes to load") < 0 ||
        snap_check(r, end >= 1 && end <= t->cmds->n_ends, "x.end", "%u: no such step", end) < 0)
        return -EINVAL;
    if (!x->medium)
        return snap_check(r, x->remain == x->len - x->cur, "x.remain",
                          "%llu: the buffer holds %zu", (unsigned long long)x->remain,
                          x->len - x->cur);
    if (!x->out)
        return snap_check(r, x->unloaded <= x->remain &&
                                 x->remain - x->unloaded == x->len - x->cur &&
                                 x->pos <= size && x->unloaded <= size - x->pos,
                          "x.remain", "%llu with %llu to load at %llu: not what the buffer "
                          "and the medium hold", (unsigned long long)x->remain,
                          (unsigned long long)x->unloaded, (unsigned long long)x->pos);
    return snap_check(r, x->len - x->cur <= x->remain && x->pos <= size &&
                             x->remain <= size - x->pos && x->cur <= size - x->pos - x->remain,
                      "x.remain", "%llu at %llu: beyond the medium or the buffer",
                      (unsigned long long)x->remain, (unsigned long long)x->pos);
}

static int valid_mode(uint8_t m)
{
    return m <= 0x01 || (m >= 0x08 && m <= 0x0c) || (m >= 0x20 && m <= 0x22) ||
           (m >= 0x40 && m <= 0x45);
}

/* Into T (a copy of the drive), checked; BUF receives the buffer's bytes. */
static int drive_load(struct snap_reader *r, struct ide_drive *t, const struct ide_bus *tb,
                      uint8_t *buf)
{
    struct ide_xfer *x = &t->x;
    enum ide_kind here = t->kind;
    uint8_t kind, heads, spt, mult, flags, end, sense;
    uint32_t len, cur, drq, block_end;
    if (snap_get_u8_in(r, "kind", &kind, IDE_NONE, IDE_CD) < 0 ||
        snap_check(r, kind == here || (kind == IDE_NONE && here == IDE_DISK), NULL,
                   "%u in the stream, %u here (the command line differs)", kind, here) < 0 ||
        snap_get_bytes(r, "serial", t->serial, IDE_SERIAL_LEN) < 0)
        return -EINVAL;
    t->serial[IDE_SERIAL_LEN] = 0;
    for (unsigned i = 0; i < IDE_SERIAL_LEN; i++)
        if (snap_check(r, !t->serial[i] || (t->serial[i] >= 0x20 && t->serial[i] < 0x7f),
                       "serial", "byte %u is %#x: not printable ASCII", i,
                       (unsigned char)t->serial[i]) < 0)
            return -EINVAL;
    for (unsigned i = 0; i < ARRAY_SIZE(taskfile); i++)
        if (snap_get_u8(r, taskfile[i].name, (uint8_t *)t + taskfile[i].off) < 0)
            return -EINVAL;
    if (snap_check(r, kind == IDE_NONE || (t->select & 0xb0) == (0xa0 | (t->unit ? DEV_DEV : 0)),
                   "select",
                   "%#x: not this device's", t->select) < 0 ||
        snap_check(r, !(t->status & ST_BSY) || (tb->devctl & CTL_SRST), "status",
                   "busy outside a soft reset") < 0 ||
        snap_get_u32(r, "cyls", &t->cyls) < 0 || snap_get_u8(r, "heads", &heads) < 0 ||
        snap_get_u8(r, "spt", &spt) < 0 || snap_get_u8(r, "mult", &mult) < 0 ||
        snap_get_bool(r, "wce", &t->wce) < 0 || snap_get_u8(r, "xfer_mode", &t->xfer_mode) < 0 ||
        snap_check(r, valid_mode(t->xfer_mode), NULL, "%#x: no such mode", t->xfer_mode) < 0)
        return -EINVAL;
    if (kind == IDE_DISK &&
        (snap_check(r, heads >= 1 && heads <= 16 && spt >= 1 && t->cyls <= 65535, "heads",
                    "CHS %u/%u/%u", t->cyls, heads, spt) < 0 ||
         snap_check(r, mult <= 16 && !(mult & (mult - 1)), "mult", "%u", mult) < 0))
        return -EINVAL;
    t->heads = heads;
    t->spt = spt;
    t->mult = mult;
    /* a medium here without a volatile write cache (cache=writethrough|directsync) keeps it
     * off, whatever the saving host's mode was */
    if (t->wce && (!t->blk || !blk_write_cache(t->blk)))
        t->wce = 0;
    if (snap_get_u8_in(r, "x.flags", &flags, 0, 0x7f) < 0 ||
        snap_get_u64(r, "x.pos", &x->pos) < 0 || snap_get_u64(r, "x.remain", &x->remain) < 0 ||
        snap_get_u64(r, "x.unloaded", &x->unloaded) < 0 || snap_get_u32(r, "x.len", &len) < 0 ||
        snap_get_u32(r, "x.cur", &cur) < 0 || snap_get_u32(r, "x.drq", &drq) < 0 ||
        snap_get_u32(r, "x.block_end", &block_end) < 0 || snap_get_u8(r, "x.end", &end) < 0)
        return -EINVAL;
    x->active = flags & 1;
    x->out = (flags >> 1) & 1;
    x->dma = (flags >> 2) & 1;
    x->packet = (flags >> 3) & 1;
    x->medium = (flags >> 4) & 1;
    x->fua = (flags >> 5) & 1;
    x->atapi = (flags >> 6) & 1;
    x->len = len;
    x->cur = cur;
    x->drq = drq;
    x->block_end = block_end;
    x->fill = 0;
    x->end = NULL;
    if (x->active) {
        if (snap_check(r, kind != IDE_NONE, "x.flags", "a transfer on an absent drive") < 0 ||
            xfer_check(r, t, end) < 0)
            return -EINVAL;
        x->end = t->cmds->ends[end - 1];
    }
    if (snap_get_bytes(r, "buf", buf, x->active ? x->len : 0) < 0 ||
        snap_get_bytes(r, "cdb", t->cdb, sizeof(t->cdb)) < 0 ||
        snap_get_bool(r, "pkt_dma", &t->pkt_dma) < 0 ||
        snap_get_u8_in(r, "sense_key", &sense, 0, 0x0f) < 0 || snap_get_u8(r, "asc", &t->asc) < 0 ||
        snap_get_u8(r, "ascq", &t->ascq) < 0 || snap_get_bool(r, "ua", &t->ua) < 0 ||
        snap_get_bool(r, "tray_open", &t->tray_open) < 0 ||
        snap_get_bool(r, "locked", &t->locked) < 0 || snap_get_u8_in(r, "event", &t->event, 0, 3) < 0)
        return -EINVAL;
    t->sense_key = sense;
    t->kind = (enum ide_kind)kind;
    return 0;
}

int ide_bus_load(struct ide_bus *b, struct snap_reader *r, struct ide_bus *t, uint8_t *scratch)
{
    static const char *const unit[2] = { "d0", "d1" };
    uint8_t cur;
    if (!scratch) /* the commit pass: the buffers are about to be written */
        for (unsigned u = 0; u < 2; u++)
            io_quiesce(&b->drive[u]);
    *t = *b;
    if (snap_get_u8_in(r, "cur", &cur, 0, 1) < 0 || snap_get_u8(r, "devctl", &t->devctl) < 0 ||
        snap_check(r, !(t->devctl & ~(CTL_NIEN | CTL_SRST | CTL_HOB)), NULL, "%#x", t->devctl) < 0 ||
        snap_get_bool(r, "irq_pending", &t->irq_pending) < 0)
        return -EINVAL;
    t->cur = cur;
    for (unsigned u = 0; u < 2; u++) {
        snap_get_enter(r, unit[u]);
        if (drive_load(r, &t->drive[u], t, scratch ? scratch : b->drive[u].buf) < 0)
            return -EINVAL;
        snap_get_leave(r);
    }
    return 0;
}

void ide_bus_commit(struct ide_bus *b, const struct ide_bus *t)
{
    for (unsigned u = 0; u < 2; u++) {
        struct ide_drive *d = &b->drive[u];
        if (t->drive[u].kind == IDE_NONE && d->kind != IDE_NONE)
            ide_drive_unplug(d); /* the guest's PV driver had taken it over */
        io_quiesce(d);
        unsigned gen = d->gen;
        struct blk *blk = d->blk;
        uint8_t *buf = d->buf;
        *d = t->drive[u];
        d->bus = b;
        d->blk = blk;
        d->buf = buf;
        d->gen = gen;
        d->io_busy = d->reset_pending = d->dma_running = 0;
        d->io_kept = 0;
        d->kept = (struct vm_kept){ .retry = kept_retry };
    }
    b->cur = t->cur;
    b->devctl = t->devctl;
    b->irq_pending = t->irq_pending;
    update_irq(b);
}

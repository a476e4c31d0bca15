/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel 82371SB PIIX3 IDE controller, function 1 of the PIIX3 (00:01.1, 8086:7010).
 * Specs: Intel 82371FB/SB PIIX/PIIX3 datasheet (290550) sections 2.3 (function 1 config) and
 * 2.7 (bus master IDE registers); SFF-8038i for the bus master PRD tables.
 * Emulated: both channels in compatibility mode (ports 0x1f0-0x1f7 / 0x3f6, IRQ 14 and
 * 0x170-0x177 / 0x376, IRQ 15; prog-if 0x80: fixed legacy mode, bus-master capable), master and
 * slave on each (drive.c: the task file, reset and the data phases; ata.c, atapi.c: the
 * command sets), 8/16/32-bit data port access and bulk `rep ins/outs` on it, the bus master
 * registers in BAR4 (16 ports) and its PRD walk (the DMA engine of dma.h), the IDE timing
 * registers (0x40-0x44, 0x48-0x4b) as plain storage.
 * Left out: native-mode BARs 0-3 (the PIIX3 has none), the PIIX4's UDMA and the ICH's SATA
 * personalities, bus master PCI errors other than RAM faults and a start with bus mastering
 * disabled (both end the transfer with ERR and the bus master's error bit).
 *
 * Guest-controlled loops are bounded: a PRD walk stops after IDE_PRD_MAX entries (a table
 * cannot hold more without crossing the 64 KiB boundary the spec forbids) and every entry
 * moves at least two bytes. */
#include "devices/ide/piix.h"
#include "dm/bus.h"
#include "dm/irq.h"
#include "dm/log.h"
#include "dm/mem.h"
#include "dm/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDE_PRD_MAX 8192
/* bus master registers */
#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08    /* the bus master writes memory: a device-to-host transfer */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INTR 0x04
#define BM_ST_DMA0 0x20
#define BM_ST_DMA1 0x40

struct piix_channel {
    struct piix_ide *s;
    unsigned idx;
    struct ide_bus bus;
    /* bus master */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
    uint32_t prd_next;      /* next PRD entry to fetch */
    unsigned prd_count;     /* entries fetched since start */
    uint64_t prd_addr;      /* the current entry's next byte */
    uint32_t prd_left;      /* bytes left in the current entry */
    int prd_eot;            /* the current entry is the table's last */
    struct ide_drive *dma_drive; /* a DMA transfer waits for or uses the engine */
    struct io_region *cmd_region, *ctl_region;
};

struct piix_ide {
    struct vm *vm;
    struct pci_dev *pci;
    struct piix_channel ch[2];
    struct ide_stats st;
    struct ratelimit rl;
};

/* ---- what the drives see of the controller (dma.h) ---- */

static void piix_intr(void *ctrl, struct ide_bus *bus)
{
    struct piix_channel *ch = ctrl;
    ch->bm_status |= BM_ST_INTR;
}

static void piix_irq(void *ctrl, struct ide_bus *bus, int level)
{
    struct piix_channel *ch = ctrl;
    irq_isa_set(&ch->s->vm->irq, ch->idx ? 15 : 14, level);
}

static void piix_dma_start(void *ctrl, struct ide_drive *d)
{
    struct piix_channel *ch = ctrl;
    ch->dma_drive = d;
}

static int piix_dma_ready(void *ctrl, struct ide_drive *d)
{
    struct piix_channel *ch = ctrl;
    return ch->dma_drive == d && (ch->bm_status & BM_ST_ACTIVE);
}

/* Move up to *N bytes between BUF and the memory the PRD table describes (TO_MEM: device to
 * host). *N becomes what moved. */
static enum ide_dma_result piix_dma_rw(void *ctrl, struct ide_drive *d, uint8_t *buf, size_t *n,
                                       int to_mem)
{
    struct piix_channel *ch = ctrl;
    struct mem *mem = ch->s->vm->mem;
    size_t want = *n, moved = 0;
    enum ide_dma_result r = IDE_DMA_OK;
    /* Bus mastering off (PCI command bit 2): the engine gets no memory cycle, neither for
     * the PRD table nor for the data; the transfer ends in error, as a master abort. */
    if (!(pci_get16(ch->s->pci, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        *n = 0;
        ide_guest_error(d, "bus master started with bus mastering disabled (PCI command %#x)",
                        pci_get16(ch->s->pci, PCI_COMMAND));
        ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
        return IDE_DMA_FAULT;
    }
    while (moved < want) {
        if (ch->prd_left == 0) {
            uint8_t e[8];
            if (ch->prd_eot || ch->prd_count >= IDE_PRD_MAX) {
                r = IDE_DMA_END;
                break;
            }
            if (mem_read(mem, ch->prd_next, e, sizeof(e)) < 0) {
                r = IDE_DMA_FAULT;
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
            r = IDE_DMA_FAULT;
            break;
        }
        int e = to_mem ? mem_write(mem, ch->prd_addr, buf + moved, k)
                       : mem_read(mem, ch->prd_addr, buf + moved, k);
        if (e < 0) {
            r = IDE_DMA_FAULT;
            break;
        }
        ch->prd_addr += k;
        ch->prd_left -= (uint32_t)k;
        moved += k;
    }
    *n = moved;
    if (r == IDE_DMA_FAULT) {
        ide_guest_error(d, "bus master: PRD table %#x or a buffer it names is not guest RAM",
                        ch->bm_prd);
        ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
    } else if (r == IDE_DMA_END) {
        /* the table is smaller than the transfer: the engine stops without an interrupt */
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    }
    return r;
}

static void piix_dma_end(void *ctrl, struct ide_drive *d, int done)
{
    struct piix_channel *ch = ctrl;
    /* The bus master goes idle if the PRD table ended with the transfer; if the table has
     * room left it stays active (SFF-8038i: interrupt with active set). */
    if (done && ch->prd_left == 0 && (ch->prd_eot || ch->prd_count >= IDE_PRD_MAX))
        ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    if (ch->dma_drive == d)
        ch->dma_drive = NULL;
}

static const struct ide_ctrl_ops piix_ctrl_ops = {
    .intr = piix_intr, .irq = piix_irq,
    .dma_start = piix_dma_start, .dma_ready = piix_dma_ready,
    .dma_rw = piix_dma_rw, .dma_end = piix_dma_end,
};

/* ---- the bus master registers ---- */

static void bm_start(struct piix_channel *ch)
{
    ch->bm_status |= BM_ST_ACTIVE;
    ch->prd_next = ch->bm_prd;
    ch->prd_count = 0;
    ch->prd_left = 0;
    ch->prd_eot = 0;
    if (ch->dma_drive) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ide_dma_run(ch->dma_drive);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ch->s->st.bm_runs++;
        ch->s->st.bm_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll +
                                      (t1.tv_nsec - t0.tv_nsec));
    }
}

static void bm_stop(struct piix_channel *ch)
{
    if ((ch->bm_status & BM_ST_ACTIVE) && ch->dma_drive)
        ide_dma_cancel(ch->dma_drive);
    ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
}

static uint8_t bm_reg_read(struct piix_channel *ch, unsigned reg)
{
    switch (reg) {
    case 0: return ch->bm_cmd;
    case 2: return ch->bm_status;
    case 4: case 5: case 6: case 7: return (uint8_t)(ch->bm_prd >> (8 * (reg - 4)));
    default: return 0;
    }
}

static void bm_reg_write(struct piix_channel *ch, unsigned reg, uint8_t v)
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
    struct piix_ide *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        v |= (uint64_t)bm_reg_read(&s->ch[(o >> 3) & 1], o & 7) << (8 * i);
    }
    return v;
}

static void bm_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix_ide *s = opaque;
    /* a dword to the PRD pointer at once, so a start that follows sees all of it */
    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        bm_reg_write(&s->ch[(o >> 3) & 1], o & 7, (uint8_t)(val >> (8 * i)));
    }
}

static const struct io_ops bm_ops = { .read = bm_read, .write = bm_write };

/* ---- the legacy ports: command block (8) and control block (1) of each channel ---- */

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix_channel *ch = opaque;
    uint64_t v = 0;
    if (off == 0 && size >= 2) {
        uint8_t b[4];
        ide_bus_data_in(&ch->bus, b, size);
        return ldn(b, size);
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(off + i == 0 ? 0xff : ide_bus_read(&ch->bus, (unsigned)off + i)) << (8 * i);
    return v;
}

static void cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix_channel *ch = opaque;
    if (off == 0 && size >= 2) {
        uint8_t b[4];
        stn(b, size, val);
        ide_bus_data_out(&ch->bus, b, size);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        if (off + i != 0)
            ide_bus_write(&ch->bus, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

/* rep insw / insl on the data port: the whole string in one go. */
static uint32_t cmd_read_rep(void *opaque, uint64_t off, unsigned size, uint32_t count, void *buf)
{
    struct piix_channel *ch = opaque;
    if (off != 0 || size < 2)
        return 0;
    ide_bus_data_in(&ch->bus, buf, (size_t)count * size);
    return count;
}

static uint32_t cmd_write_rep(void *opaque, uint64_t off, unsigned size, uint32_t count,
                              const void *buf)
{
    struct piix_channel *ch = opaque;
    if (off != 0 || size < 2)
        return 0;
    ide_bus_data_out(&ch->bus, buf, (size_t)count * size);
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
    struct piix_channel *ch = opaque;
    /* alternate status: the status without touching the interrupt */
    uint8_t v = ide_bus_alt_status(&ch->bus);
    return size == 1 ? v : v | (ones(size) & ~0xffull);
}

static void ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix_channel *ch = opaque;
    ide_bus_ctl_write(&ch->bus, (uint8_t)val);
}

static const struct io_ops ctl_ops = { .read = ctl_read, .write = ctl_write };

/* ---- state (dm/snapshot.h): the function's config space, each channel's bus (the drives'
 * task files, transfers and buffers) and bus master: registers, the PRD walk, which drive owns
 * the engine ---- */

void piix_ide_save(struct piix_ide *s, struct snap_writer *w)
{
    static const char *const chan[2] = { "ch0", "ch1" };
    pci_dev_save(s->pci, w);
    for (unsigned c = 0; c < 2; c++) {
        struct piix_channel *ch = &s->ch[c];
        snap_put_enter(w, chan[c]);
        ide_bus_save(&ch->bus, w);
        snap_put_u8(w, "bm_cmd", ch->bm_cmd);
        snap_put_u8(w, "bm_status", ch->bm_status);
        snap_put_u32(w, "bm_prd", ch->bm_prd);
        snap_put_u32(w, "prd_next", ch->prd_next);
        snap_put_u32(w, "prd_count", ch->prd_count);
        snap_put_u64(w, "prd_addr", ch->prd_addr);
        snap_put_u32(w, "prd_left", ch->prd_left);
        snap_put_bool(w, "prd_eot", ch->prd_eot);
        snap_put_u8(w, "dma_drive", ch->dma_drive ? (uint8_t)ch->dma_drive->unit : 2);
        snap_put_leave(w);
    }
}

static int channel_load(struct snap_reader *r, struct piix_channel *t, uint8_t *dma)
{
    if (snap_get_u8(r, "bm_cmd", &t->bm_cmd) < 0 ||
        snap_check(r, !(t->bm_cmd & ~(BM_CMD_START | BM_CMD_READ)), NULL, "%#x", t->bm_cmd) < 0 ||
        snap_get_u8(r, "bm_status", &t->bm_status) < 0 ||
        snap_check(r, !(t->bm_status & ~(BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR | BM_ST_DMA0 |
                                          BM_ST_DMA1)), NULL, "%#x", t->bm_status) < 0 ||
        snap_get_u32(r, "bm_prd", &t->bm_prd) < 0 ||
        snap_check(r, !(t->bm_prd & 3), NULL, "%#x: not dword-aligned", t->bm_prd) < 0 ||
        snap_get_u32(r, "prd_next", &t->prd_next) < 0 ||
        snap_get_u32_in(r, "prd_count", &t->prd_count, 0, IDE_PRD_MAX) < 0 ||
        snap_get_u64(r, "prd_addr", &t->prd_addr) < 0 ||
        snap_check(r, t->prd_addr <= MEM_4G, NULL, "%#llx: above 4 GiB",
                   (unsigned long long)t->prd_addr) < 0 ||
        snap_get_u32_in(r, "prd_left", &t->prd_left, 0, 0x10000) < 0 ||
        snap_get_bool(r, "prd_eot", &t->prd_eot) < 0 || snap_get_u8_in(r, "dma_drive", dma, 0, 2) < 0)
        return -EINVAL;
    if (*dma < 2) {
        const struct ide_xfer *x = &t->bus.drive[*dma].x;
        return snap_check(r, x->active && x->dma, NULL, "drive %u has no DMA transfer", *dma);
    }
    return 0;
}

int piix_ide_load(struct piix_ide *s, struct snap_reader *r, int commit)
{
    static const char *const chan[2] = { "ch0", "ch1" };
    struct pci_dev_state pci;
    struct piix_channel t[2];
    uint8_t dma[2];
    uint8_t *scratch = NULL;
    int rc = -EINVAL;
    if (!commit && !(scratch = malloc(IDE_BUF_SIZE)))
        return snap_refuse(r, "ide", "out of memory");
    if (pci_dev_load(s->pci, r, &pci) < 0)
        goto out;
    for (unsigned c = 0; c < 2; c++) {
        t[c] = s->ch[c];
        snap_get_enter(r, chan[c]);
        if (ide_bus_load(&s->ch[c].bus, r, &t[c].bus, scratch) < 0 ||
            channel_load(r, &t[c], &dma[c]) < 0)
            goto out;
        snap_get_leave(r);
    }
    rc = 0;
    if (!commit)
        goto out;
    pci_dev_commit(s->pci, &pci);
    for (unsigned c = 0; c < 2; c++) {
        struct piix_channel *ch = &s->ch[c];
        ide_bus_commit(&ch->bus, &t[c].bus);
        ch->bm_cmd = t[c].bm_cmd;
        ch->bm_status = t[c].bm_status;
        ch->bm_prd = t[c].bm_prd;
        ch->prd_next = t[c].prd_next;
        ch->prd_count = t[c].prd_count;
        ch->prd_addr = t[c].prd_addr;
        ch->prd_left = t[c].prd_left;
        ch->prd_eot = t[c].prd_eot;
        ch->dma_drive = dma[c] < 2 ? &ch->bus.drive[dma[c]] : NULL;
    }
out:
    free(scratch);
    return rc;
}

/* ---- the function ---- */

struct ide_drive *piix_ide_drive(struct piix_ide *s, unsigned n)
{
    return n < 4 ? &s->ch[n / 2].bus.drive[n % 2] : NULL;
}

void piix_ide_unplug(struct piix_ide *s, unsigned mask)
{
    static const char *const place[4] = { "primary master", "primary slave", "secondary master",
                                          "secondary slave" };
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = piix_ide_drive(s, i);
        if (d->kind != IDE_DISK)
            continue;
        if (!(mask & VM_UNPLUG_IDE_DISKS) && !((mask & VM_UNPLUG_AUX_IDE_DISKS) && i != 0))
            continue;
        log_info("ide: the guest's PV driver unplugs the disk %s (%s)", blk_path(d->blk),
                 place[i]);
        ide_drive_unplug(d);
    }
}

const struct ide_stats *piix_ide_stats(const struct piix_ide *s) { return &s->st; }

void piix_ide_free(struct piix_ide *s)
{
    if (!s)
        return;
    for (unsigned c = 0; c < 2; c++) {
        struct piix_channel *ch = &s->ch[c];
        for (unsigned u = 0; u < 2; u++)
            ide_drive_free(&ch->bus.drive[u]);
        if (ch->bus.irq_level)
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

int piix_ide_new(struct vm *vm, const struct ide_drive_conf conf[4], struct piix_ide **out,
                 char *err, size_t errlen)
{
    static const uint16_t cmd_base[2] = { 0x1f0, 0x170 }, ctl_base[2] = { 0x3f6, 0x376 };
    static const char *const cmd_name[2] = { "ide0", "ide1" }, *const ctl_name[2] = { "ide0-ctl", "ide1-ctl" };
    static const char *const bus_name[2] = { "primary", "secondary" };
    struct piix_ide *s = calloc(1, sizeof(*s));
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
        s->ch[c].s = s;
        s->ch[c].idx = c;
        ide_bus_init(&s->ch[c].bus, bus_name[c], &piix_ctrl_ops, &s->ch[c], &s->st, &s->rl);
        s->ch[c].bus.vm = vm;
    }
    /* every position before touching the bus; after a refusal the rest of the media close */
    r = 0;
    for (unsigned i = 0; i < 4; i++) {
        char serial[21];
        if (r < 0) {
            blk_close(conf[i].blk);
            continue;
        }
        snprintf(serial, sizeof(serial), "HVMD%04u%u", vm->domid % 10000, i);
        r = ide_drive_init(&s->ch[i / 2].bus, i % 2, &conf[i], serial, i, err, errlen);
    }
    if (r < 0)
        goto fail;
    r = -ENOMEM;
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
        struct piix_channel *ch = &s->ch[c];
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
    piix_ide_free(s);
    return r;
}

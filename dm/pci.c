/* SPDX-License-Identifier: GPL-2.0-only */
/* PCI bus 0 (see pci.h). */
#include "dm/pci.h"
#include "dm/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pci_bus {
    struct bus *bus;
    struct irq *irq;
    struct hv hv;
    struct pci_dev *dev[256];
    uint32_t cf8;
    struct io_region *cf8_region;
    const struct io_ops *rcr_ops;
    void *rcr_opaque;
    struct ratelimit rl;        /* BAR placement lines: the guest moves BARs at will */
};

/* ---- the 0xcf8 dword: the config address latch, and the PIIX3's reset control at 0xcf9 ---- */

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
    struct pci_bus *pb = opaque;
    if (off == 0 && size == 4)
        return pb->cf8;
    if (off == 1 && size == 1 && pb->rcr_ops)
        return pb->rcr_ops->read(pb->rcr_opaque, 0, 1);
    return ones(size);
}

static void cf8_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct pci_bus *pb = opaque;
    if (off == 0 && size == 4)
        pb->cf8 = (uint32_t)val;
    else if (off == 1 && size == 1 && pb->rcr_ops)
        pb->rcr_ops->write(pb->rcr_opaque, 0, 1, val);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

void pci_bus_set_rcr(struct pci_bus *pb, const struct io_ops *ops, void *opaque)
{
    pb->rcr_ops = ops;
    pb->rcr_opaque = opaque;
}

struct pci_bus *pci_bus_new(struct bus *bus, struct irq *irq, const struct hv *hv)
{
    struct pci_bus *pb = calloc(1, sizeof(*pb));
    if (!pb)
        return NULL;
    pb->bus = bus;
    pb->irq = irq;
    pb->hv = *hv;
    if (bus_add_pio(bus, "pci-cf8", 0xcf8, 4, &cf8_ops, pb, &pb->cf8_region) < 0) {
        free(pb);
        return NULL;
    }
    return pb;
}

void pci_bus_free(struct pci_bus *pb)
{
    if (!pb)
        return;
    for (unsigned i = 0; i < 256; i++)
        if (pb->dev[i])
            pci_dev_del(pb->dev[i]);
    bus_del(pb->bus, pb->cf8_region);
    free(pb);
}

/* ---- functions ---- */

void pci_set_wmask(struct pci_dev *d, unsigned reg, unsigned n, uint32_t mask)
{
    for (unsigned i = 0; i < n && i < 4 && reg + i < PCI_CFG_SIZE; i++)
        d->wmask[reg + i] = (uint8_t)(mask >> (8 * i));
}

struct pci_dev *pci_dev_new(struct pci_bus *pb, uint8_t devfn, const char *name,
                            uint16_t vendor, uint16_t device, uint32_t class_code,
                            uint8_t revision, const struct pci_dev_ops *ops, void *opaque)
{
    struct pci_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->bus = pb;
    d->name = name;
    d->devfn = devfn;
    d->ops = ops;
    d->opaque = opaque;
    pci_set16(d, PCI_VENDOR_ID, vendor);
    pci_set16(d, PCI_DEVICE_ID, device);
    pci_set8(d, PCI_REVISION_ID, revision);
    pci_set8(d, PCI_CLASS_PROG, (uint8_t)class_code);
    pci_set16(d, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
    pci_set_wmask(d, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                     0x40 /* parity */ | 0x100 /* SERR */ |
                                     PCI_COMMAND_INTX_DISABLE);
    d->w1cmask[PCI_STATUS + 1] = 0xf9; /* parity, target / master aborts, SERR, parity error */
    pci_set_wmask(d, 0x0c, 2, 0xffff);   /* cache line size, latency timer */
    pci_set_wmask(d, PCI_INTERRUPT_LINE, 1, 0xff);
    d->next_cap = 0x40;
    return d;
}

int pci_bar_init(struct pci_dev *d, unsigned i, enum pci_bar_type type, uint64_t size,
                 const struct io_ops *ops, void *opaque)
{
    unsigned reg = i == PCI_ROM_BAR ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * i;
    uint64_t mask = ~(size - 1);

    if (i >= PCI_NUM_BARS || size == 0 || (size & (size - 1)) || !ops ||
        (i == PCI_ROM_BAR) != (type == PCI_BAR_ROM) || d->bar[i].type != PCI_BAR_NONE)
        return -EINVAL;
    switch (type) {
    case PCI_BAR_IO:
        if (size < 4 || size > 0x10000)
            return -EINVAL;
        pci_set32(d, reg, 0x1);
        pci_set_wmask(d, reg, 4, (uint32_t)mask & 0xfffffffc);
        break;
    case PCI_BAR_MEM32:
    case PCI_BAR_MEM32_PREF:
        if (size < 16 || size > (1ull << 31))
            return -EINVAL;
        pci_set32(d, reg, type == PCI_BAR_MEM32_PREF ? 0x8 : 0);
        pci_set_wmask(d, reg, 4, (uint32_t)mask & 0xfffffff0);
        break;
    case PCI_BAR_MEM64:
    case PCI_BAR_MEM64_PREF:
        if (size < 16 || i >= 5 || d->bar[i + 1].type != PCI_BAR_NONE)
            return -EINVAL;
        pci_set32(d, reg, 0x4 | (type == PCI_BAR_MEM64_PREF ? 0x8 : 0));
        pci_set_wmask(d, reg, 4, (uint32_t)mask & 0xfffffff0);
        pci_set_wmask(d, reg + 4, 4, (uint32_t)(mask >> 32));
        break;
    case PCI_BAR_ROM:
        if (size < 2048 || size > (1ull << 31))
            return -EINVAL;
        pci_set_wmask(d, reg, 4, ((uint32_t)mask & 0xfffff800) | 1);
        break;
    default:
        return -EINVAL;
    }
    d->bar[i].type = type;
    d->bar[i].size = size;
    d->bar[i].ops = ops;
    d->bar[i].opaque = opaque;
    return 0;
}

static uint64_t bar_decode(const struct pci_dev *d, unsigned i)
{
    const struct pci_bar *b = &d->bar[i];
    uint16_t cmd = pci_get16(d, PCI_COMMAND);
    uint64_t addr, last;

    switch (b->type) {
    case PCI_BAR_IO:
        if (!(cmd & PCI_COMMAND_IO))
            return 0;
        addr = pci_get32(d, PCI_BAR0 + 4 * i) & ~3u;
        if (addr == 0 || addr + b->size > 0x10000)
            return 0;
        return addr;
    case PCI_BAR_MEM32:
    case PCI_BAR_MEM32_PREF:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return 0;
        addr = pci_get32(d, PCI_BAR0 + 4 * i) & ~0xfu;
        last = addr + b->size - 1;
        /* A 32-bit BAR ending at 4 GiB is one being sized (all-ones written): not decoded. */
        return (addr == 0 || last >= 0xffffffffull) ? 0 : addr;
    case PCI_BAR_MEM64:
    case PCI_BAR_MEM64_PREF:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return 0;
        addr = (pci_get32(d, PCI_BAR0 + 4 * i) & ~0xfull) |
               ((uint64_t)pci_get32(d, PCI_BAR0 + 4 * i + 4) << 32);
        last = addr + b->size - 1;
        /* Beyond 2^52 (Xen's physical address width) or wrapping: being sized. */
        return (addr == 0 || last < addr || last >= (1ull << 52)) ? 0 : addr;
    case PCI_BAR_ROM: {
        uint32_t v = pci_get32(d, PCI_ROM_ADDRESS);
        if (!(cmd & PCI_COMMAND_MEMORY) || !(v & 1))
            return 0;
        addr = v & ~0x7ffu;
        last = addr + b->size - 1;
        return (addr == 0 || last >= 0xffffffffull) ? 0 : addr;
    }
    default:
        return 0;
    }
}

uint64_t pci_bar_addr(const struct pci_dev *d, unsigned i)
{
    return i < PCI_NUM_BARS && d->bar[i].region ? d->bar[i].region->base : 0;
}

static void update_bars(struct pci_dev *d)
{
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        struct pci_bar *b = &d->bar[i];
        if (b->type == PCI_BAR_NONE)
            continue;
        uint64_t want = bar_decode(d, i);
        if (b->region && b->region->base == want)
            continue;
        if (!b->region && !want)
            continue;
        if (b->region) {
            bus_del(d->bus->bus, b->region);
            b->region = NULL;
        }
        if (!want)
            continue;
        int r = b->type == PCI_BAR_IO
                    ? bus_add_pio(d->bus->bus, d->name, (uint16_t)want, (uint32_t)b->size, b->ops,
                                  b->opaque, &b->region)
                    : bus_add_mmio(d->bus->bus, d->name, want, b->size, b->ops, b->opaque,
                                   &b->region);
        if (r < 0) {
            b->region = NULL;
            log_limited(&d->bus->rl, LOG_WARN, "pci %02x.%x %s: BAR %u at %#llx not decoded: %d",
                        PCI_SLOT(d->devfn), PCI_FN(d->devfn), d->name, i,
                        (unsigned long long)want, r);
        } else {
            log_limited(&d->bus->rl, LOG_DEBUG, "pci %02x.%x %s: BAR %u at %#llx+%#llx",
                        PCI_SLOT(d->devfn), PCI_FN(d->devfn), d->name, i,
                        (unsigned long long)want, (unsigned long long)b->size);
        }
    }
}

static void update_intx(struct pci_dev *d)
{
    uint8_t pin = pci_get8(d, PCI_INTERRUPT_PIN);
    int on = d->intx_level && !(pci_get16(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
    if (pin >= 1 && pin <= 4)
        irq_pci_intx(d->bus->irq, PCI_SLOT(d->devfn), (unsigned)pin - 1, on);
}

void pci_set_irq(struct pci_dev *d, int level)
{
    d->intx_level = !!level;
    if (level)
        d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    update_intx(d);
}

int pci_add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
    unsigned off = (d->next_cap + 3u) & ~3u;
    if (len < 2 || off + len > PCI_CFG_SIZE)
        return -ENOSPC;
    if (!d->cfg[PCI_CAPABILITY_LIST]) {
        d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
    } else {
        unsigned p = d->cfg[PCI_CAPABILITY_LIST];
        for (unsigned n = 0; d->cfg[p + 1] && n < 48; n++)
            p = d->cfg[p + 1];
        d->cfg[p + 1] = (uint8_t)off;
    }
    d->cfg[off] = id;
    d->cfg[off + 1] = 0;
    d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->next_cap = (uint8_t)MIN(off + len, 0xffu);
    return (int)off;
}

static int touches(unsigned reg, unsigned size, unsigned lo, unsigned hi)
{
    return reg < hi && reg + size > lo;
}

/* ---- MSI (PCI Local Bus 3.0, 6.8.1: 64-bit address, per-vector masking, one vector) ---- */

#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA 12
#define MSI_MASK 16
#define MSI_PENDING 20
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT 0x0080
#define MSI_CTRL_MASKABLE 0x0100

int pci_msi_init(struct pci_dev *d)
{
    int off = pci_add_cap(d, 0x05, 24);
    if (off < 0)
        return off;
    unsigned o = (unsigned)off;
    pci_set16(d, o + MSI_CTRL, MSI_CTRL_64BIT | MSI_CTRL_MASKABLE); /* 1 vector capable */
    pci_set_wmask(d, o + MSI_CTRL, 2, MSI_CTRL_ENABLE | 0x0070); /* enable, multiple enable */
    pci_set_wmask(d, o + MSI_ADDR_LO, 4, 0xfffffffc);
    pci_set_wmask(d, o + MSI_ADDR_HI, 4, 0xffffffff);
    pci_set_wmask(d, o + MSI_DATA, 2, 0xffff);
    pci_set_wmask(d, o + MSI_MASK, 4, 0x00000001);
    d->msi_cap = (uint8_t)o;
    return off;
}

int pci_msi_enabled(const struct pci_dev *d)
{
    return d->msi_cap && (pci_get16(d, d->msi_cap + MSI_CTRL) & MSI_CTRL_ENABLE);
}

static void msi_send(struct pci_dev *d)
{
    unsigned o = d->msi_cap;
    uint64_t addr = pci_get32(d, o + MSI_ADDR_LO) | ((uint64_t)pci_get32(d, o + MSI_ADDR_HI) << 32);
    d->msi_pending = 0;
    d->cfg[o + MSI_PENDING] &= (uint8_t)~1;
    irq_msi(d->bus->irq, addr, pci_get16(d, o + MSI_DATA));
}

void pci_msi_notify(struct pci_dev *d)
{
    if (!pci_msi_enabled(d) || !(pci_get16(d, PCI_COMMAND) & PCI_COMMAND_MASTER))
        return; /* an MSI is a memory write: no bus mastering, no message */
    if (pci_get32(d, d->msi_cap + MSI_MASK) & 1) {
        d->msi_pending = 1;
        d->cfg[d->msi_cap + MSI_PENDING] |= 1;
        return;
    }
    msi_send(d);
}

/* After a config write: an unmasked vector with a message pending sends it. */
static void msi_update(struct pci_dev *d, unsigned reg, unsigned size)
{
    if (d->msi_cap && d->msi_pending && touches(reg, size, d->msi_cap, d->msi_cap + 24u) &&
        pci_msi_enabled(d) && !(pci_get32(d, d->msi_cap + MSI_MASK) & 1))
        msi_send(d);
}

int pci_dev_add(struct pci_dev *d)
{
    struct pci_bus *pb = d->bus;
    uint8_t fn0 = PCI_DEVFN(PCI_SLOT(d->devfn), 0);

    if (pb->dev[d->devfn])
        return -EEXIST;
    if (PCI_FN(d->devfn) != 0 && !pb->dev[fn0])
        return -EINVAL; /* function 0 first: a guest scans only slots whose fn 0 answers */
    int r = pb->hv.ops->map_range(pb->hv.be, HV_PCI, d->devfn, d->devfn);
    if (r < 0) {
        log_err("pci %02x.%x %s: cannot claim its config space: %d", PCI_SLOT(d->devfn),
                PCI_FN(d->devfn), d->name, r);
        return r;
    }
    pb->dev[d->devfn] = d;
    if (PCI_FN(d->devfn) != 0)
        pb->dev[fn0]->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_MULTI;
    update_bars(d);
    return 0;
}

void pci_dev_del(struct pci_dev *d)
{
    if (!d)
        return;
    struct pci_bus *pb = d->bus;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        if (d->bar[i].region) {
            bus_del(pb->bus, d->bar[i].region);
            d->bar[i].region = NULL;
        }
    if (pb->dev[d->devfn] == d) {
        if (d->intx_level)
            pci_set_irq(d, 0);
        pb->dev[d->devfn] = NULL;
        int r = pb->hv.ops->unmap_range(pb->hv.be, HV_PCI, d->devfn, d->devfn);
        if (r < 0)
            log_warn("pci %02x.%x %s: releasing config space: %d", PCI_SLOT(d->devfn),
                     PCI_FN(d->devfn), d->name, r);
    }
    free(d);
}

struct pci_dev *pci_dev_find(struct pci_bus *pb, uint8_t devfn) { return pb->dev[devfn]; }

uint32_t pci_cfg_read(struct pci_bus *pb, uint8_t devfn, unsigned reg, unsigned size)
{
    struct pci_dev *d = pb->dev[devfn];
    uint32_t v = 0;

    if (size == 0 || size > 4)
        return 0xffffffffu;
    if (!d)
        return (uint32_t)ones(size);
    d->cfg_reads++;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(reg + i < PCI_CFG_SIZE ? d->cfg[reg + i] : 0xff) << (8 * i);
    if (d->ops && d->ops->cfg_read && reg < PCI_CFG_SIZE)
        v = d->ops->cfg_read(d->opaque, d, reg, size, v) & (uint32_t)ones(size);
    return v;
}

void pci_cfg_write(struct pci_bus *pb, uint8_t devfn, unsigned reg, unsigned size, uint32_t val)
{
    struct pci_dev *d = pb->dev[devfn];

    if (!d || size == 0 || size > 4 || reg >= PCI_CFG_SIZE)
        return;
    d->cfg_writes++;
    uint16_t old_cmd = pci_get16(d, PCI_COMMAND);
    for (unsigned i = 0; i < size && reg + i < PCI_CFG_SIZE; i++) {
        unsigned r = reg + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t nv = (uint8_t)((d->cfg[r] & ~d->wmask[r]) | (b & d->wmask[r]));
        nv &= (uint8_t)~(b & d->w1cmask[r]);
        d->cfg[r] = nv;
    }
    if (d->ops && d->ops->cfg_write)
        d->ops->cfg_write(d->opaque, d, reg, size, val);
    /* cfg[] now holds the new values (a hook may have changed them too): decode from it. */
    if (touches(reg, size, PCI_COMMAND, PCI_COMMAND + 2) || touches(reg, size, PCI_BAR0, 0x28) ||
        touches(reg, size, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))
        update_bars(d);
    if ((old_cmd ^ pci_get16(d, PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE)
        update_intx(d);
    msi_update(d, reg, size);
}

void pci_for_each(struct pci_bus *pb, void (*fn)(void *opaque, struct pci_dev *d), void *opaque)
{
    for (unsigned i = 0; i < 256; i++)
        if (pb->dev[i])
            fn(opaque, pb->dev[i]);
}

/* ---- device state ---- */

void pci_dev_save(const struct pci_dev *d, struct snap_writer *w)
{
    snap_put_enter(w, "pci");
    snap_put_bytes(w, "config", d->cfg, PCI_CFG_SIZE);
    snap_put_bool(w, "intx_level", d->intx_level);
    snap_put_bool(w, "msi_pending", d->msi_pending);
    snap_put_leave(w);
}

int pci_dev_load(const struct pci_dev *d, struct snap_reader *r, struct pci_dev_state *st)
{
    memset(st, 0, sizeof(*st));
    snap_get_enter(r, "pci");
    if (snap_get_bytes(r, "config", st->cfg, PCI_CFG_SIZE) < 0)
        goto out;
    for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
        uint8_t may = d->wmask[i] | d->w1cmask[i];
        if (i == PCI_STATUS)
            may |= PCI_STATUS_INTERRUPT;             /* checked against intx_level below */
        if (d->msi_cap && i == d->msi_cap + (unsigned)MSI_PENDING)
            may |= 1;                                /* checked against msi_pending below */
        if ((st->cfg[i] ^ d->cfg[i]) & ~may) {
            snap_fail(r, NULL, "byte %#x is %#x, %#x here: bits %#x are read-only", i,
                      st->cfg[i], d->cfg[i], (st->cfg[i] ^ d->cfg[i]) & ~may & 0xff);
            goto out;
        }
    }
    if (snap_get_bool(r, "intx_level", &st->intx_level) < 0 ||
        snap_check(r, !!(st->cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT) == st->intx_level, NULL,
                   "%d, but the status register's interrupt bit says %d", st->intx_level,
                   !!(st->cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT)) < 0)
        goto out;
    if (snap_get_bool(r, "msi_pending", &st->msi_pending) < 0)
        goto out;
    if (d->msi_cap)
        snap_check(r, (st->cfg[d->msi_cap + MSI_PENDING] & 1) == st->msi_pending, NULL,
                   "%d, but the MSI pending bit says %d", st->msi_pending,
                   st->cfg[d->msi_cap + MSI_PENDING] & 1);
    else
        snap_check(r, !st->msi_pending, NULL, "set on a function without MSI");
out:
    snap_get_leave(r);
    return snap_reader_error(r);
}

void pci_dev_commit(struct pci_dev *d, const struct pci_dev_state *st)
{
    memcpy(d->cfg, st->cfg, PCI_CFG_SIZE);
    d->intx_level = st->intx_level;
    d->msi_pending = st->msi_pending;
    update_bars(d);
    update_intx(d);
}

static uint64_t rom_bar_read(void *opaque, uint64_t off, unsigned size)
{
    const struct pci_dev *r = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < r->rom.len)
            v |= (uint64_t)r->rom.data[off + i] << (8 * i);
    return v;
}

static void rom_bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val) {}

static const struct io_ops rom_bar_ops = { .read = rom_bar_read, .write = rom_bar_write };

int pci_rom_init(struct pci_dev *d, const uint8_t *data, uint32_t len)
{
    uint64_t size = 2048;
    if (!len || !data)
        return 0;
    while (size < len)
        size <<= 1;
    d->rom.data = data;
    d->rom.len = len;
    return pci_bar_init(d, PCI_ROM_BAR, PCI_BAR_ROM, size, &rom_bar_ops, d);
}

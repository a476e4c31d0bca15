/* SPDX-License-Identifier: GPL-2.0-only */
/* The Xen platform PCI device (5853:0001) at 00:03.0 and its fixed I/O ports 0x10-0x13.
 * Spec: Xen's docs/misc/hvm-emulated-unplug.pandoc (the unplug protocol, the driver log port)
 * and include/public/hvm/pvdrivers.h (product numbers).
 * Emulated: the header (class ff80, subsystem 5853:0001, INTA, revision 1); BAR 0, 256 bytes
 * of I/O (offset 0: platform flags, offset 8: driver log bytes); BAR 1, 16 MiB of prefetchable
 * memory that PV drivers use as address space for grant table and shared-info mappings (Xen
 * maps pages there; reads of the rest are 0, writes are dropped).
 * Fixed ports: 0x10 (2 bytes) reads the magic 0x49d2; a 2-byte write there is the unplug
 * mask (bit 0 IDE disks, 1 NICs, 2 IDE disks but the primary master, 3 NVMe), passed to the
 * devices that registered for it (vm_on_unplug); a 4-byte write is the driver build number;
 * 0x10 (1 byte) the platform flags; 0x12 (1 byte) reads the protocol version 1, a 1-byte
 * write logs one byte of the drivers' log (a line per newline, rate-limited), a 2-byte write
 * is the product number.
 * Left out: the driver blacklist (/mh/driver-blacklist in xenstore: the magic never changes
 * to 0xd249), the ROM-lock platform flag (stored, the ROM area stays writable), the old
 * SUSE/Novell unplug writes into BAR 1. */
#include <errno.h>
#include <string.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#define FIXED_BASE 0x10
#define MAGIC 0x49d2

struct xen_platform {
    struct dev_base base; /* the PCI function and the fixed ports */
    uint8_t flags;
    uint16_t product;
    uint32_t build;
    unsigned unplugged;
    struct guest_line log;
    struct ratelimit rl;
    struct ratelimit build_rl;  /* the build number line: a guest may write it in a loop */
};

static void log_byte(struct xen_platform *s, uint8_t c)
{
    log_guest_line(&s->log, "xen-platform", "driver log: ", c, 0);
}

static uint64_t fixed_read(void *opaque, uint64_t off, unsigned size)
{
    struct xen_platform *s = opaque;
    if (off == 0 && size == 2)
        return MAGIC;
    if (off == 0 && size == 1)
        return s->flags;
    if (off == 2 && size == 1)
        return 1; /* protocol version */
    return ones(size);
}

static void fixed_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct xen_platform *s = opaque;
    if (off == 0 && size == 2) {
        unsigned mask = (unsigned)val & 0xf;
        s->unplugged |= mask;
        vm_unplug(s->base.vm, mask);
    } else if (off == 0 && size == 4) {
        s->build = (uint32_t)val;
        log_limited(&s->build_rl, LOG_INFO, "xen-platform: PV drivers, product %u build %u",
                    s->product, s->build);
    } else if (off == 0 && size == 1) {
        s->flags = (uint8_t)(val & 1);
    } else if (off == 2 && size == 1) {
        log_byte(s, (uint8_t)val);
    } else if (off == 2 && size == 2) {
        s->product = (uint16_t)val;
    } else {
        log_guest(&s->rl, "xen-platform", "%u-byte write of %#llx to port %#x ignored", size,
                  (unsigned long long)val, (unsigned)(FIXED_BASE + off));
    }
}

static const struct io_ops fixed_ops = { .read = fixed_read, .write = fixed_write };

static uint64_t bar0_read(void *opaque, uint64_t off, unsigned size)
{
    struct xen_platform *s = opaque;
    return off == 0 && size == 1 ? s->flags : ones(size);
}

static void bar0_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct xen_platform *s = opaque;
    if (size != 1)
        return;
    if (off == 0)
        s->flags = (uint8_t)(val & 1);
    else if (off == 8)
        log_byte(s, (uint8_t)val);
}

static const struct io_ops bar0_ops = { .read = bar0_read, .write = bar0_write };

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size) { return 0; }
static void mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct xen_platform *s = opaque;
    log_guest(&s->rl, "xen-platform", "write to BAR 1 offset %#llx ignored",
              (unsigned long long)off);
}
static const struct io_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* State: the configuration space (BARs), the platform flags, the drivers' product and build
 * numbers and what they unplugged (each device unplugged carries that in its own state). The
 * driver log line being gathered is the host's log, not state. */
static int platform_save(void *state, struct snap_writer *w)
{
    struct xen_platform *s = state;
    pci_dev_save(s->base.pci, w);
    snap_put_u8(w, "flags", s->flags);
    snap_put_u16(w, "product", s->product);
    snap_put_u32(w, "build", s->build);
    snap_put_u8(w, "unplugged", (uint8_t)s->unplugged);
    return 0;
}

static int platform_load(void *state, struct snap_reader *r, int commit)
{
    struct xen_platform *s = state;
    struct pci_dev_state pci;
    uint8_t flags, unplugged;
    uint16_t product;
    uint32_t build;
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u8_in(r, "flags", &flags, 0, 1) < 0 ||
        snap_get_u16(r, "product", &product) < 0 || snap_get_u32(r, "build", &build) < 0 ||
        snap_get_u8_in(r, "unplugged", &unplugged, 0, 0xf) < 0)
        return -EINVAL;
    if (!commit)
        return 0;
    pci_dev_commit(s->base.pci, &pci);
    s->flags = flags;
    s->product = product;
    s->build = build;
    s->unplugged = unplugged;
    return 0;
}

static int platform_create(struct vm *vm, void **state)
{
    *state = NULL;
    if (vm->cfg && !vm->cfg->xen_platform)
        return 0; /* -machine pc: no platform device (xen_platform_pci=0) */
    struct xen_platform *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    struct pci_dev *d = pci_dev_new(vm->pci, PCI_DEVFN(3, 0), "xen-platform", 0x5853, 0x0001,
                                    0xff8000, 1, NULL, NULL);
    if (!d)
        return dev_created(state, s, -ENOMEM, dev_free);
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x5853);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x0001);
    pci_set8(d, PCI_INTERRUPT_PIN, 1);
    int r = pci_bar_init(d, 0, PCI_BAR_IO, 0x100, &bar0_ops, s);
    if (r == 0)
        r = pci_bar_init(d, 1, PCI_BAR_MEM32_PREF, 0x1000000, &mmio_ops, s);
    if (r < 0)
        pci_dev_del(d);
    else
        r = dev_add_pci(s, d);
    if (r == 0)
        r = dev_add_pio(s, "xen-platform-fixed", FIXED_BASE, 4, &fixed_ops, s);
    return dev_created(state, s, r, dev_free);
}

DEVICE(dev_xen_platform, "xen-platform", 1,
       platform_create, dev_free, platform_save, platform_load);

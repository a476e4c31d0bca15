/* SPDX-License-Identifier: GPL-2.0-only */
/* PCI bus 0: configuration space of each function, BAR sizing and decoding, INTx, and the
 * 0xcf8 address port.
 *
 * Config space is 256 bytes per function. A write goes through the function's write mask
 * (bits the guest may change) and write-1-to-clear mask (status bits); then, if it touched the
 * command register or a BAR, the function's BAR regions move on the bus (and so with Xen) to
 * where the BARs now point, or leave it when decoding is off. A BAR reads back its size as
 * hardware does: write all-ones, read ~(size - 1) | type bits.
 *
 * Xen decodes 0xcf8/0xcfc itself and sends IOREQ_TYPE_PCI_CONFIG for the functions this
 * process registered (pci_dev_add does that); absent functions read all-ones without asking
 * us. The 0xcf8 port still comes here (Xen passes its writes on), so reads of it work. */
#ifndef HVMD_PCI_H
#define HVMD_PCI_H

#include <stdint.h>
#include "dm/bus.h"
#include "dm/irq.h"
#include "dm/snapshot.h"
#include "dm/util.h"

#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn) ((devfn) >> 3)
#define PCI_FN(devfn) ((devfn) & 7)

/* Standard header offsets and bits */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define  PCI_COMMAND_IO 0x1
#define  PCI_COMMAND_MEMORY 0x2
#define  PCI_COMMAND_MASTER 0x4
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define  PCI_STATUS_INTERRUPT 0x08
#define  PCI_STATUS_CAP_LIST 0x10
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define  PCI_HEADER_MULTI 0x80
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CFG_SIZE 256

enum pci_bar_type {
    PCI_BAR_NONE = 0,
    PCI_BAR_IO,          /* I/O space */
    PCI_BAR_MEM32,       /* 32-bit memory */
    PCI_BAR_MEM32_PREF,  /* 32-bit prefetchable memory */
    PCI_BAR_MEM64,       /* 64-bit memory: takes this BAR and the next */
    PCI_BAR_MEM64_PREF,
    PCI_BAR_ROM,         /* expansion ROM (BAR index 6, config 0x30) */
};
#define PCI_ROM_BAR 6
#define PCI_NUM_BARS 7

struct pci_bus;
struct pci_dev;

/* Optional hooks for device-specific config registers. After the generic handling,
 * cfg_write sees the access (the new value is already in cfg[] through the masks);
 * cfg_read may replace the value read (VAL is what cfg[] holds). */
struct pci_dev_ops {
    void (*cfg_write)(void *opaque, struct pci_dev *d, unsigned reg, unsigned size, uint32_t val);
    uint32_t (*cfg_read)(void *opaque, struct pci_dev *d, unsigned reg, unsigned size,
                         uint32_t val);
};

struct pci_bar {
    enum pci_bar_type type;
    uint64_t size;               /* power of two; I/O >= 4, memory >= 16, ROM >= 2048 */
    const struct io_ops *ops;
    void *opaque;
    struct io_region *region;    /* where it is decoded now, or NULL */
};

struct pci_dev {
    struct pci_bus *bus;
    const char *name;
    uint8_t devfn;
    uint8_t cfg[PCI_CFG_SIZE];
    uint8_t wmask[PCI_CFG_SIZE];
    uint8_t w1cmask[PCI_CFG_SIZE];
    struct pci_bar bar[PCI_NUM_BARS];
    const struct pci_dev_ops *ops;
    void *opaque;
    int intx_level;
    uint64_t cfg_reads, cfg_writes;
    uint8_t next_cap;            /* where pci_add_cap puts the next capability */
    uint8_t msi_cap;             /* offset of the MSI capability, 0: none */
    int msi_pending;             /* a message held back by the mask bit */
    struct { const uint8_t *data; uint32_t len; } rom; /* pci_rom_init's option ROM */
};

struct pci_bus *pci_bus_new(struct bus *bus, struct irq *irq, const struct hv *hv);
void pci_bus_free(struct pci_bus *pb);

/* A new function at DEVFN with its IDs, class (base << 16 | sub << 8 | prog-if) and
 * revision. Command (I/O, memory, master, INTx disable), the cache line size, latency timer
 * and interrupt line are guest-writable, status error bits write-1-to-clear; the caller sets
 * up the rest with pci_set_* / pci_bar_init / pci_add_cap before pci_dev_add. */
struct pci_dev *pci_dev_new(struct pci_bus *pb, uint8_t devfn, const char *name,
                            uint16_t vendor, uint16_t device, uint32_t class_code,
                            uint8_t revision, const struct pci_dev_ops *ops, void *opaque);
/* Declare BAR I (0-5, or PCI_ROM_BAR) of SIZE bytes served by OPS. */
int pci_bar_init(struct pci_dev *d, unsigned i, enum pci_bar_type type, uint64_t size,
                 const struct io_ops *ops, void *opaque) WUR;
/* LEN bytes at DATA (an option ROM, kept by the caller for the function's life; LEN 0: nothing
 * to do) as D's expansion ROM BAR, sized to LEN rounded up to a power of two (at least 2 KiB):
 * reads past LEN are 0, writes are ignored. 0, or negative errno from pci_bar_init. */
int pci_rom_init(struct pci_dev *d, const uint8_t *data, uint32_t len) WUR;
/* Put the function on the bus and ask the hypervisor for its config cycles. */
int pci_dev_add(struct pci_dev *d) WUR;
/* Take it off the bus (also its BAR regions) and free it. */
void pci_dev_del(struct pci_dev *d);
struct pci_dev *pci_dev_find(struct pci_bus *pb, uint8_t devfn);

/* Append a capability of LEN bytes (ID at +0, next at +1) to the list; returns its offset
 * (>= 0x40) or a negative errno. */
int pci_add_cap(struct pci_dev *d, uint8_t id, unsigned len) WUR;

/* Initial config values (not through the masks). */
static inline void pci_set8(struct pci_dev *d, unsigned reg, uint8_t v) { d->cfg[reg] = v; }
static inline void pci_set16(struct pci_dev *d, unsigned reg, uint16_t v) { st16(&d->cfg[reg], v); }
static inline void pci_set32(struct pci_dev *d, unsigned reg, uint32_t v) { st32(&d->cfg[reg], v); }
static inline uint8_t pci_get8(const struct pci_dev *d, unsigned reg) { return d->cfg[reg]; }
static inline uint16_t pci_get16(const struct pci_dev *d, unsigned reg) { return ld16(&d->cfg[reg]); }
static inline uint32_t pci_get32(const struct pci_dev *d, unsigned reg) { return ld32(&d->cfg[reg]); }
/* Which bits of [REG, REG+N) the guest may write (N <= 4, MASK little-endian). */
void pci_set_wmask(struct pci_dev *d, unsigned reg, unsigned n, uint32_t mask);

/* Where BAR I decodes now (0 if it does not). */
uint64_t pci_bar_addr(const struct pci_dev *d, unsigned i);

/* Raise / lower the function's INTx (its interrupt pin, 0x3d), honouring INTx disable and
 * showing it in the status register. */
void pci_set_irq(struct pci_dev *d, int level);

/* MSI: give the function an MSI capability (one vector, 64-bit address, per-vector masking)
 * before pci_dev_add. Returns its offset or a negative errno. */
int pci_msi_init(struct pci_dev *d) WUR;
/* Is MSI enabled by the guest (then use pci_msi_notify instead of INTx)? */
int pci_msi_enabled(const struct pci_dev *d);
/* Send the function's MSI, as the guest programmed it (nothing if disabled or masked: a
 * masked vector is remembered as pending and sent when unmasked). */
void pci_msi_notify(struct pci_dev *d);

/* Config cycles, as IOREQ_TYPE_PCI_CONFIG delivers them: REG 0-255, SIZE 1, 2 or 4, REG
 * aligned to SIZE or not (split as needed). Absent functions read all-ones. */
uint32_t pci_cfg_read(struct pci_bus *pb, uint8_t devfn, unsigned reg, unsigned size);
void pci_cfg_write(struct pci_bus *pb, uint8_t devfn, unsigned reg, unsigned size, uint32_t val);

/* Port 0xcf9 (PIIX3 reset control) shares the 0xcf8 dword: who handles byte accesses to it. */
void pci_bus_set_rcr(struct pci_bus *pb, const struct io_ops *ops, void *opaque);

/* Device state of a function, for its device's save / load hooks: the 256 config bytes (BARs,
 * command, interrupt line, capabilities), the INTx level and an MSI held back by its mask.
 * pci_dev_save writes them as fields "pci.*"; pci_dev_load reads them into ST and checks them
 * as the guest's own writes would be: a bit the guest cannot write must equal this machine's
 * (so IDs, BAR types and sizes, capabilities match), the status interrupt bit must match the
 * INTx level. pci_dev_commit makes ST the function's state and decodes its BARs where they
 * now point (a clash is logged and left undecoded, as for a guest write) and drives its INTx;
 * the function's cfg_write hook is not called: the device re-derives its own state after. */
struct pci_dev_state {
    uint8_t cfg[PCI_CFG_SIZE];
    int intx_level;
    int msi_pending;
};
void pci_dev_save(const struct pci_dev *d, struct snap_writer *w);
int pci_dev_load(const struct pci_dev *d, struct snap_reader *r, struct pci_dev_state *st) WUR;
void pci_dev_commit(struct pci_dev *d, const struct pci_dev_state *st);

/* Every present function, in devfn order. */
void pci_for_each(struct pci_bus *pb, void (*fn)(void *opaque, struct pci_dev *d), void *opaque);

#endif

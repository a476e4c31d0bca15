/* SPDX-License-Identifier: GPL-2.0-only */
/* One guest as hvmd sees it: the hypervisor handle, the loop, the port/MMIO bus, PCI bus 0,
 * guest memory, interrupt lines, the parsed command line, and a few machine-wide events
 * (guest reset / power-off requests, the Xen platform device's unplug). No global state:
 * a test or a fuzzer can hold several side by side. */
#ifndef HVMD_VM_H
#define HVMD_VM_H

#include <stdint.h>
#include "dm/bus.h"
#include "dm/hv.h"
#include "dm/irq.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/mem.h"
#include "dm/pci.h"
#include "dm/util.h"

struct config;
struct qmp;
struct chardev;
struct display;
struct input;
struct net;
struct pvhost;

#define VM_MAX_CHARDEVS 8

/* Bits of the Xen platform device's unplug request (docs/misc/hvm-emulated-unplug.pandoc). */
#define VM_UNPLUG_IDE_DISKS 0x1   /* all IDE disks, not CD-ROMs */
#define VM_UNPLUG_NICS 0x2
#define VM_UNPLUG_AUX_IDE_DISKS 0x4 /* all IDE disks but the primary master */
#define VM_UNPLUG_NVME 0x8

struct ioreq_stats {
    uint64_t pio, mmio, pci_config, invalidate, timeoffset; /* requests by type */
    uint64_t buffered;    /* of which came through the buffered ring */
    uint64_t rep_items;   /* items moved by rep requests */
    uint64_t bad;         /* malformed requests refused */
};

struct vm_hook {
    void (*fn)(void *opaque, unsigned arg);
    void *opaque;
    struct vm_hook *next;
};

struct vm {
    uint32_t domid;
    struct hv hv;
    struct loop *loop;
    struct bus *bus;
    struct pci_bus *pci;
    struct mem *mem;
    struct irq irq;
    struct config *cfg;          /* the command line; devices mark the options they serve claimed */
    struct ioreq_stats ioreq;
    struct ratelimit ioreq_rl;   /* for malformed requests and bad rep buffers */
    struct ratelimit guest_rl;   /* for the unplug and shutdown lines a guest can repeat */
    int64_t rtc_offset;          /* sum of TIMEOFFSET requests: seconds the guest moved its RTC */
    int running;                 /* QMP's view: 0 after "stop", 1 after "cont" */
    enum hv_shutdown shutdown;   /* what the guest last asked for, when shutdown_requested */
    int shutdown_requested;
    struct vm_hook *unplug_hooks;
    struct chardev *chardevs[VM_MAX_CHARDEVS]; /* the guest's character devices, for QMP */
    unsigned n_chardevs;
    struct qmp *qmp;             /* where devices register QMP commands and send events (or NULL) */
    struct display *display;     /* the screen (dm/display.h), NULL without a display adapter */
    struct input *input;         /* keyboard and pointer routing (dm/input.h) */
    struct net *nets;            /* network backends from -netdev (dm/net.h), a list */
    struct pvhost *pv;           /* xenstore, event channels, grants for PV backends (or NULL) */
};

/* Set up VM's bus, PCI bus, memory (RAM [0, lowmem_end) and [4 GiB, highmem_end)) and IRQs.
 * CFG may be NULL (tests). On failure nothing is left allocated. */
int vm_init(struct vm *vm, const struct hv *hv, struct loop *loop, struct config *cfg,
            uint32_t domid, uint64_t lowmem_end, uint64_t highmem_end) WUR;
void vm_fini(struct vm *vm);

/* The guest asked to power off, reboot or crash: tell the hypervisor. */
void vm_shutdown(struct vm *vm, enum hv_shutdown reason);

/* FN(OPAQUE, mask) runs when a guest driver asks the platform device to unplug devices. */
int vm_on_unplug(struct vm *vm, void (*fn)(void *opaque, unsigned mask), void *opaque) WUR;
void vm_unplug(struct vm *vm, unsigned mask);

/* List C among the guest's character devices (QMP query-chardev), or take it off. */
int vm_add_chardev(struct vm *vm, struct chardev *c) WUR;
void vm_del_chardev(struct vm *vm, struct chardev *c);

#endif

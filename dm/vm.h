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
    uint64_t unclaimed;   /* port or MMIO round trips to no region of the bus */
};

/* A medium request a device keeps under the stop policy (see vm_io_stop). The device embeds
 * it and sets RETRY. */
struct vm_kept {
    void (*retry)(struct vm_kept *k); /* submit the kept request again (it may stop again) */
    struct vm_kept *next;
    int listed;
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
    struct vm_hook *cont_hooks;  /* QMP cont (vm_on_cont) */
    struct chardev *chardevs[VM_MAX_CHARDEVS]; /* the guest's character devices, for QMP */
    unsigned n_chardevs;
    struct qmp *qmp;             /* where devices register QMP commands and send events (or NULL) */
    struct display *display;     /* the screen (dm/display.h), NULL without a display adapter */
    struct input *input;         /* keyboard and pointer routing (dm/input.h) */
    struct net *nets;            /* network backends from -netdev (dm/net.h), a list */
    struct pvhost *pv;           /* xenstore, event channels, grants for PV backends (or NULL) */
    /* host I/O errors with the stop policy (vm_io_stop) */
    int io_error;                /* QMP's run state is "io-error" until cont */
    int io_paused;               /* hvmd holds one pause of the domain for it */
    struct vm_kept *kept;        /* requests waiting for cont, oldest first */
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

/* ---- host I/O errors with the stop policy (dm/block.h: werror / rerror = stop | enospc) ----
 * A device whose medium request failed with BLK_ACT_STOP does not complete it to the guest: it
 * keeps it (the request, its buffer, the guest-visible busy state) in K and calls vm_io_stop.
 * The domain is paused (hv pause: hvmd holds one pause however many requests are kept), QMP's
 * run state becomes "io-error" (query-status running false); the device sent BLOCK_IO_ERROR and
 * STOP before (dm/qmp.h qmp_block_io_error). The guest sees nothing: its vCPUs stop with the request still busy.
 * vm_io_resume (QMP cont) retries the kept requests, oldest first, while the domain is still
 * paused; a retry that fails again with STOP is kept again. Then, if nothing is kept:
 * HANDOVER 0 hvmd unpauses the domain; HANDOVER 1 (the cont came on libxl's own QMP socket:
 * that is `xl unpause`, which sends cont and then unpauses the domain itself) hvmd leaves its
 * pause for libxl's unpause to undo. If a retry stopped again, the domain stays paused (with
 * HANDOVER, hvmd pauses once more for libxl's unpause to take). vm_io_forget drops K (the
 * device was reset, unplugged, freed, its medium ejected): it is not retried. */
void vm_io_stop(struct vm *vm, struct vm_kept *k);
void vm_io_forget(struct vm *vm, struct vm_kept *k);
void vm_io_resume(struct vm *vm, int handover);

/* FN(OPAQUE, 0) runs at each QMP cont, after the run state is running again (the guest runs
 * on after a save that did not end it: a failed migration, xl save -c; or -S's first cont).
 * vm_off_cont removes every hook of OPAQUE (a device going away). */
int vm_on_cont(struct vm *vm, void (*fn)(void *opaque, unsigned arg), void *opaque) WUR;
void vm_off_cont(struct vm *vm, void *opaque);
void vm_cont(struct vm *vm);

/* List C among the guest's character devices (QMP query-chardev), or take it off. */
int vm_add_chardev(struct vm *vm, struct chardev *c) WUR;
void vm_del_chardev(struct vm *vm, struct chardev *c);

#endif

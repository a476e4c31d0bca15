/* SPDX-License-Identifier: GPL-2.0-only */
/* The hypervisor as the device model sees it: a small interface with two implementations,
 * dm/xen.c (libxendevicemodel, libxenforeignmemory: the real thing) and tests/lib/fakexen.c (an
 * in-process stand-in that unit tests and fuzzers drive as Xen would). Everything in dm/ and
 * devices/ reaches the hypervisor through this, never through a Xen library directly. */
#ifndef HVMD_HV_H
#define HVMD_HV_H

#include <stddef.h>
#include <stdint.h>

enum hv_space {
    HV_PIO = 0,  /* port range [start, end] */
    HV_MMIO = 1, /* guest-physical range [start, end] */
    HV_PCI = 2,  /* one PCI function: start = end = segment << 16 | bus << 8 | devfn */
};

/* Reasons for hv_ops.shutdown, the values of Xen's SHUTDOWN_* (sched.h). */
enum hv_shutdown { HV_POWEROFF = 0, HV_REBOOT = 1, HV_CRASH = 3 };

struct hv_ops {
    /* Route guest accesses in [start, end] of SPACE to this device model, or stop routing. */
    int (*map_range)(void *be, enum hv_space space, uint64_t start, uint64_t end);
    int (*unmap_range)(void *be, enum hv_space space, uint64_t start, uint64_t end);
    /* Interrupt lines. */
    int (*set_isa_irq)(void *be, unsigned irq, unsigned level);
    int (*set_pci_intx)(void *be, unsigned slot, unsigned intx, unsigned level);
    int (*set_pci_link)(void *be, unsigned link, unsigned irq);
    int (*inject_msi)(void *be, uint64_t addr, uint32_t data);
    int (*shutdown)(void *be, enum hv_shutdown reason);
    /* Guest memory: map N pages from guest frame GFN on, readable and writable, at *ADDR.
     * ERR[i] is 0 for a page that is mapped, a negative errno for one that is not (a hole,
     * MMIO): touching such a page would fault, so callers check ERR. Fails (nothing mapped)
     * only if the call as a whole fails. */
    int (*map_gfn)(void *be, uint64_t gfn, size_t n, void **addr, int *err);
    void (*unmap_gfn)(void *be, void *addr, size_t n);
    /* The domain's vCPUs: *MAX of them (its max_vcpus), and in ONLINE (LEN bytes, bit i of
     * byte i / 8) those the hypervisor runs now (up; a hot-plugged vCPU the guest has not
     * started yet is down). 0 or a negative errno. */
    int (*vcpu_info)(void *be, unsigned *max, uint8_t *online, size_t len);
    /* HVM_PARAM_ACPI_S_STATE: 3 puts the domain into ACPI S3 (Xen pauses it and resets its
     * vCPUs, vCPU0 to the reset vector), 0 wakes it (unpaused). Not a dm_op in Xen. */
    int (*set_s_state)(void *be, unsigned state);
    /* Press the ACPI power button (Xen's PM1a PWRBTN_STS + SCI; `xl trigger D power`). */
    int (*power_button)(void *be);
    /* Video RAM as guest memory (as qemu-xen's xen_ram_alloc): give the domain N new pages at
     * guest frames GFN.. (from its own allowance: libxl counts videoram in maxmem) and map
     * them into this process at *ADDR for good. The guest then reads and writes them with no
     * request to the device model. 0 or a negative errno (nothing left behind). */
    int (*vram_alloc)(void *be, uint64_t gfn, size_t n, void **addr);
    void (*vram_free)(void *be, void *addr, size_t n);
    /* Move those N pages in the guest's physical map from frame FROM to frame TO (a BAR moved;
     * the mapping at ADDR stays valid: the pages are the same). 0 or a negative errno. */
    int (*vram_move)(void *be, uint64_t from, uint64_t to, size_t n);
    /* Which of N pages from frame GFN the guest wrote since the last call (bit i of BITMAP,
     * N / 8 bytes rounded up, set: written), as Xen's dirty-VRAM tracking reports them; one
     * range is tracked at a time, and a new range reads all dirty. 0 or a negative errno. */
    int (*vram_dirty)(void *be, uint64_t gfn, size_t n, uint8_t *bitmap);
    /* Pause (ON 1) or unpause (ON 0) the domain's vCPUs, as `xl pause` / `xl unpause` do
     * (XEN_DOMCTL_pausedomain: Xen counts the pauses, each needs its unpause; an unpause of a
     * domain nobody paused fails). 0 or a negative errno. */
    int (*pause)(void *be, int on);
    /* Hold (ON 1) the domain still with no request of any vCPU in flight, or let it go (ON
     * 0): pauses it, and if a vCPU has a request hvmd has not answered or Xen has not taken
     * the answer of yet, lets it go again and fails with -EAGAIN. While held, the guest's
     * physical map may change under guest memory that an emulated instruction was about to
     * touch through a request (Xen crashes a domain whose re-executed access no longer
     * matches its request). 0 or a negative errno. */
    int (*hold)(void *be, int on);
    /* Tell the hypervisor the device model wrote N guest pages from frame GFN on (DMA), so a
     * live migration's dirty log sends them again (xendevicemodel_modified_memory). Called
     * only while the global dirty log is on (QMP xen-set-global-dirty-log). 0 or -errno. */
    int (*modified_memory)(void *be, uint64_t gfn, size_t n);
};

/* The ops table of a backend whose functions are named P_map_range, P_unmap_range, ...: one
 * list for both backends (dm/xen.c, tests/lib/fakexen.c), so neither can miss an op. */
#define HV_OPS_OF(p)                                                                        \
    {                                                                                       \
        .map_range = p##_map_range, .unmap_range = p##_unmap_range,                         \
        .set_isa_irq = p##_set_isa_irq, .set_pci_intx = p##_set_pci_intx,                   \
        .set_pci_link = p##_set_pci_link, .inject_msi = p##_inject_msi,                     \
        .shutdown = p##_shutdown, .map_gfn = p##_map_gfn, .unmap_gfn = p##_unmap_gfn,       \
        .vcpu_info = p##_vcpu_info, .set_s_state = p##_set_s_state,                         \
        .power_button = p##_power_button,                                                   \
        .vram_alloc = p##_vram_alloc,                                                       \
        .vram_free = p##_vram_free,                                                         \
        .vram_move = p##_vram_move,                                                         \
        .vram_dirty = p##_vram_dirty,                                                       \
        .pause = p##_pause,                                                                 \
        .hold = p##_hold,                                                                   \
        .modified_memory = p##_modified_memory,                                             \
    }

struct hv {
    const struct hv_ops *ops;
    void *be;
};

#endif

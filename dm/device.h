/* SPDX-License-Identifier: GPL-2.0-only */
/* What every devices/<dev>.c exports: one const struct device. The machine's device table
 * (dm/machine.c) lists them in init order; nothing else names a device. */
#ifndef HVMD_DEVICE_H
#define HVMD_DEVICE_H

#include "dm/snapshot.h"
#include "dm/vm.h"

struct device {
    const char *name;            /* also its section's name in the state stream */
    /* Create the device's instances for VM, reading what it needs from vm->cfg (if not NULL)
     * and marking the options it serves claimed. *STATE gets its private state, or NULL if the
     * configuration asks for none. Negative errno on failure, with nothing left behind. */
    int (*create)(struct vm *vm, void **state);
    void (*destroy)(void *state);

    /* Device state (DESIGN.md rule 10), called in table order for every device whose STATE
     * is not NULL. Host configuration (backends, media, files, the command line) is not
     * state: the machine a stream is loaded into is created from the same command line.
     * VERSION is the layout of the device's fields, written into its section; bump it when
     * the fields change (a stream of another version is refused, or read by a load that
     * asks snap_version). */
    uint32_t version;
    /* Write the whole guest-visible state as fields of the open section (dm/snapshot.h). 0, or
     * a negative errno (-EBUSY: not now). */
    int (*save)(void *state, struct snap_writer *w);
    /* Read the fields back in the order save wrote them, into a scratch copy, and check every
     * one as guest input (ranges, enums, lengths, consistency), refusing with snap_fail /
     * snap_check / snap_range. Only if COMMIT, and the whole section was good, make the copy
     * the device's state and put the device where the guest left it (BARs decoded, lines
     * raised); without COMMIT change nothing. machine_load calls every device with COMMIT 0,
     * then, if all accepted the stream, again with 1: a load is all or nothing, and a commit
     * must not fail on anything the first pass checked. 0 or -EINVAL. */
    int (*load)(void *state, struct snap_reader *r, int commit);
    /* Optional: put the guest-visible state back as the guest finds it after power returns
     * from S3 (QMP system_wakeup; dm/machine.c machine_reset), keeping host configuration
     * and what the hardware keeps powered (battery-backed CMOS, the ACPI CPU map). */
    void (*reset)(void *state);
};

/* The one way a devices/ file exports itself: name, state version and the five hooks every
 * device has, so a device without save and load (rule 10) does not build; optional members
 * follow as designated initializers. */
#define DEVICE(sym, devname, ver, create_fn, destroy_fn, save_fn, load_fn, ...)                \
    const struct device sym = { .name = (devname), .version = (ver), .create = (create_fn),    \
                                .destroy = (destroy_fn), .save = (save_fn), .load = (load_fn), \
                                __VA_ARGS__ }

/* What a device holds on its vm, released in one call. A device's state struct starts with
 * it (first member), so dev_free can take the state itself: `.destroy = dev_free` for a
 * device that holds nothing else. */
#define DEV_MAX_REGIONS 4
struct dev_base {
    struct vm *vm;
    struct io_region *region[DEV_MAX_REGIONS]; /* fixed port ranges, in the order added */
    unsigned n_regions;
    struct pci_dev *pci;                       /* its PCI function, or NULL */
};

/* A zeroed state of SIZE bytes (>= sizeof(struct dev_base)) for VM, or NULL. */
void *dev_new(struct vm *vm, size_t size);
/* Claim ports [BASE, BASE+LEN) for OPS (OPAQUE: the state), released by dev_free. */
int dev_add_pio(void *state, const char *name, uint16_t base, uint32_t len,
                const struct io_ops *ops, void *opaque) WUR;
/* Put the state's PCI function D on the bus (pci_dev_add); on failure D is deleted. */
int dev_add_pci(void *state, struct pci_dev *d) WUR;
/* Release every region and the PCI function, then free STATE (NULL: nothing). */
void dev_free(void *state);
/* The end of a create hook: if R < 0, undo with DESTROY(S) and return R; else hand S out
 * through *STATE and return 0. */
int dev_created(void **state, void *s, int r, void (*destroy)(void *)) WUR;
/* save / load hooks for a device whose whole state is its PCI function's (config space). */
int dev_save_pci(void *state, struct snap_writer *w);
int dev_load_pci(void *state, struct snap_reader *r, int commit);

#endif

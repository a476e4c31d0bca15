/* SPDX-License-Identifier: GPL-2.0-only */
/* What devices share to hold their resources on a vm (see device.h). */
#include "dm/device.h"

#include <errno.h>
#include <stdlib.h>

void *dev_new(struct vm *vm, size_t size)
{
    struct dev_base *b = calloc(1, size < sizeof(*b) ? sizeof(*b) : size);
    if (b)
        b->vm = vm;
    return b;
}

int dev_add_pio(void *state, const char *name, uint16_t base, uint32_t len,
                const struct io_ops *ops, void *opaque)
{
    struct dev_base *b = state;
    if (b->n_regions == DEV_MAX_REGIONS)
        return -ENOSPC;
    int r = bus_add_pio(b->vm->bus, name, base, len, ops, opaque, &b->region[b->n_regions]);
    if (r == 0)
        b->n_regions++;
    return r;
}

int dev_add_pci(void *state, struct pci_dev *d)
{
    struct dev_base *b = state;
    int r = b->pci ? -EEXIST : pci_dev_add(d);
    if (r < 0) {
        pci_dev_del(d);
        return r;
    }
    b->pci = d;
    return 0;
}

void dev_free(void *state)
{
    struct dev_base *b = state;
    if (!b)
        return;
    while (b->n_regions)
        bus_del(b->vm->bus, b->region[--b->n_regions]);
    pci_dev_del(b->pci);
    free(b);
}

int dev_created(void **state, void *s, int r, void (*destroy)(void *))
{
    if (r < 0) {
        destroy(s);
        return r;
    }
    *state = s;
    return 0;
}

int dev_save_pci(void *state, struct snap_writer *w)
{
    struct dev_base *b = state;
    pci_dev_save(b->pci, w);
    return 0;
}

int dev_load_pci(void *state, struct snap_reader *r, int commit)
{
    struct dev_base *b = state;
    struct pci_dev_state st;
    if (pci_dev_load(b->pci, r, &st) < 0)
        return -EINVAL;
    if (commit)
        pci_dev_commit(b->pci, &st);
    return 0;
}

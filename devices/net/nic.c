/* SPDX-License-Identifier: GPL-2.0-only */
/* What the emulated NICs share (devices/net/nic.h). */
#include "devices/net/nic.h"

#include <errno.h>
#include <string.h>
#include "dm/pci.h"

int nic_model(const char *model)
{
    return !strcmp(model, "rtl8139") || !strcmp(model, "e1000");
}

int nic_slot(struct vm *vm, const struct cfg_opt *o)
{
    unsigned idx = 0;
    for (unsigned i = 0; i < vm->cfg->n_opts && &vm->cfg->opts[i] != o; i++) {
        const struct cfg_opt *p = &vm->cfg->opts[i];
        if (!strcmp(p->option, "-device") && nic_model(p->first))
            idx++;
    }
    for (unsigned slot = NIC_FIRST_SLOT + idx; slot < 32; slot++)
        if (!pci_dev_find(vm->pci, PCI_DEVFN(slot, 0)))
            return (int)slot;
    return -ENOSPC;
}

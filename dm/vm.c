/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-guest context (see vm.h). */
#include "dm/vm.h"
#include "dm/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vm_init(struct vm *vm, const struct hv *hv, struct loop *loop, struct config *cfg,
            uint32_t domid, uint64_t lowmem_end, uint64_t highmem_end)
{
    memset(vm, 0, sizeof(*vm));
    vm->domid = domid;
    vm->hv = *hv;
    vm->loop = loop;
    vm->cfg = cfg;
    vm->running = 1;
    irq_init(&vm->irq, hv);
    vm->bus = bus_new(hv);
    if (!vm->bus)
        goto fail;
    vm->mem = mem_new(hv, lowmem_end, highmem_end);
    if (!vm->mem)
        goto fail_bus;
    vm->pci = pci_bus_new(vm->bus, &vm->irq, hv);
    if (!vm->pci)
        goto fail_mem;
    return 0;
fail_mem:
    mem_free(vm->mem);
fail_bus:
    bus_free(vm->bus);
fail:
    memset(vm, 0, sizeof(*vm));
    return -ENOMEM;
}

void vm_fini(struct vm *vm)
{
    pci_bus_free(vm->pci);
    bus_free(vm->bus);
    mem_free(vm->mem);
    while (vm->unplug_hooks) {
        struct vm_hook *h = vm->unplug_hooks;
        vm->unplug_hooks = h->next;
        free(h);
    }
    memset(vm, 0, sizeof(*vm));
}

void vm_shutdown(struct vm *vm, enum hv_shutdown reason)
{
    static const char *const what[] = { [HV_POWEROFF] = "power off", [HV_REBOOT] = "reboot",
                                        [HV_CRASH] = "crash" };
    log_info("guest asks to %s", reason <= HV_CRASH && what[reason] ? what[reason] : "shut down");
    vm->shutdown = reason;
    vm->shutdown_requested = 1;
    int r = vm->hv.ops->shutdown(vm->hv.be, reason);
    if (r < 0)
        log_err("asking the hypervisor to shut the domain down: %d", r);
}

int vm_on_unplug(struct vm *vm, void (*fn)(void *opaque, unsigned mask), void *opaque)
{
    struct vm_hook *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->fn = fn;
    h->opaque = opaque;
    h->next = vm->unplug_hooks;
    vm->unplug_hooks = h;
    return 0;
}

void vm_unplug(struct vm *vm, unsigned mask)
{
    log_info("guest driver unplugs emulated devices, mask %#x", mask);
    for (struct vm_hook *h = vm->unplug_hooks; h; h = h->next)
        h->fn(h->opaque, mask);
}

int vm_add_chardev(struct vm *vm, struct chardev *c)
{
    if (vm->n_chardevs == VM_MAX_CHARDEVS)
        return -ENOSPC;
    vm->chardevs[vm->n_chardevs++] = c;
    return 0;
}

void vm_del_chardev(struct vm *vm, struct chardev *c)
{
    for (unsigned i = 0; i < vm->n_chardevs; i++)
        if (vm->chardevs[i] == c) {
            memmove(&vm->chardevs[i], &vm->chardevs[i + 1],
                    (vm->n_chardevs - i - 1) * sizeof(vm->chardevs[0]));
            vm->n_chardevs--;
            return;
        }
}

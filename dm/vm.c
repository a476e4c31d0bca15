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
    while (vm->cont_hooks) {
        struct vm_hook *h = vm->cont_hooks;
        vm->cont_hooks = h->next;
        free(h);
    }
    memset(vm, 0, sizeof(*vm));
}

void vm_shutdown(struct vm *vm, enum hv_shutdown reason)
{
    static const char *const what[] = { [HV_POWEROFF] = "power off", [HV_REBOOT] = "reboot",
                                        [HV_CRASH] = "crash" };
    log_limited(&vm->guest_rl, LOG_INFO, "guest asks to %s",
                reason <= HV_CRASH && what[reason] ? what[reason] : "shut down");
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
    log_limited(&vm->guest_rl, LOG_INFO, "guest driver unplugs emulated devices, mask %#x",
                mask);
    for (struct vm_hook *h = vm->unplug_hooks; h; h = h->next)
        h->fn(h->opaque, mask);
}

int vm_on_cont(struct vm *vm, void (*fn)(void *opaque, unsigned arg), void *opaque)
{
    struct vm_hook *h = calloc(1, sizeof(*h)), **p = &vm->cont_hooks;
    if (!h)
        return -ENOMEM;
    h->fn = fn;
    h->opaque = opaque;
    while (*p) /* in the order registered */
        p = &(*p)->next;
    *p = h;
    return 0;
}

void vm_off_cont(struct vm *vm, void *opaque)
{
    for (struct vm_hook **p = &vm->cont_hooks; *p;) {
        struct vm_hook *h = *p;
        if (h->opaque == opaque) {
            *p = h->next;
            free(h);
        } else {
            p = &h->next;
        }
    }
}

void vm_cont(struct vm *vm)
{
    for (struct vm_hook *h = vm->cont_hooks; h; h = h->next)
        h->fn(h->opaque, 0);
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

/* ---- host I/O errors with the stop policy ---- */

static int hv_pause(struct vm *vm, int on)
{
    int r = vm->hv.ops->pause ? vm->hv.ops->pause(vm->hv.be, on) : -ENOSYS;
    if (r < 0)
        log_err("%s the domain for a host I/O error: %s", on ? "pausing" : "unpausing",
                strerror(-r));
    return r;
}

void vm_io_stop(struct vm *vm, struct vm_kept *k)
{
    if (!k->listed) {
        struct vm_kept **p = &vm->kept;
        while (*p)
            p = &(*p)->next;
        k->next = NULL;
        *p = k;
        k->listed = 1;
    }
    if (!vm->io_error) {
        vm->io_error = 1;
        vm->running = 0;
        log_warn("host I/O error: the guest is paused until QMP cont (xl unpause) retries "
                 "the request");
    }
    if (!vm->io_paused && hv_pause(vm, 1) == 0)
        vm->io_paused = 1;
}

void vm_io_forget(struct vm *vm, struct vm_kept *k)
{
    if (!k->listed)
        return;
    for (struct vm_kept **p = &vm->kept; *p; p = &(*p)->next) {
        if (*p == k) {
            *p = k->next;
            break;
        }
    }
    k->next = NULL;
    k->listed = 0;
}

void vm_io_resume(struct vm *vm, int handover)
{
    unsigned n = 0;
    if (!vm->io_error && !vm->kept)
        return;
    for (struct vm_kept *k = vm->kept; k; k = k->next)
        n++;
    vm->io_error = 0;
    /* the requests kept now, oldest first; one that stops again goes to the end */
    while (n-- && vm->kept) {
        struct vm_kept *k = vm->kept;
        vm->kept = k->next;
        k->next = NULL;
        k->listed = 0;
        k->retry(k);
    }
    if (vm->io_error) {
        /* stopped again: the domain stays paused; libxl's unpause after this cont takes
         * one pause, so hvmd adds one */
        if (handover && vm->io_paused)
            hv_pause(vm, 1);
        return;
    }
    log_info("the kept requests were retried: the guest runs again");
    if (vm->io_paused) {
        if (!handover)
            hv_pause(vm, 0);
        vm->io_paused = 0;
    }
}

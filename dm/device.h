/* What every devices/<dev>.c exports: one const struct device. The machine's device table
 * (dm/machine.c) lists them in init order; nothing else names a device. */
#ifndef HVMD_DEVICE_H
#define HVMD_DEVICE_H

#include "dm/vm.h"

struct device {
    const char *name;
    /* Create the device's instances for VM, reading what it needs from vm->cfg (if not NULL)
     * and marking the options it serves claimed. *STATE gets its private state, or NULL if the
     * configuration asks for none. Negative errno on failure, with nothing left behind. */
    int (*create)(struct vm *vm, void **state);
    void (*destroy)(void *state);
};

#endif

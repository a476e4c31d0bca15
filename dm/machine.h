/* The machine: hvmd's one device table (xenfv / pc under Xen), created in order on a vm. */
#ifndef HVMD_MACHINE_H
#define HVMD_MACHINE_H

#include <stddef.h>
#include "dm/vm.h"

#define MACHINE_MAX_DEVICES 16

struct machine {
    struct vm *vm;
    void *state[MACHINE_MAX_DEVICES];
    unsigned n;
};

/* Create every device of the table on VM (vm->cfg may be NULL: defaults only). Then refuse
 * any -device / -drive / -netdev / -chardev / -mon option no device claimed, naming it.
 * 0, or a negative errno with ERR set and nothing left created. */
int machine_create(struct machine *m, struct vm *vm, char *err, size_t errlen) WUR;
void machine_destroy(struct machine *m);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine: hvmd's one device table (xenfv / pc under Xen), created in order on a vm. */
#ifndef HVMD_MACHINE_H
#define HVMD_MACHINE_H

#include <stddef.h>
#include "dm/snapshot.h"
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

/* Reset every device that has a reset hook, in table order (QMP system_wakeup: what the
 * guest finds when power returns after S3). machine_create registers it with vm->qmp. */
void machine_reset(struct machine *m);

/* The state of every device, in table order, as one stream (dm/snapshot.h): header, one
 * section per device present, end marker. 0 or a negative errno (then W holds a partial
 * stream: throw it away). */
int machine_save(struct machine *m, struct snap_writer *w) WUR;
/* Load a stream machine_save wrote on a machine created from the same configuration. Every
 * device present must have its section, in table order, and no other section may be there.
 * All or nothing: every section is read and checked before any device takes its state.
 * 0, or -EINVAL with snap_error(R) naming the device and field refused. */
int machine_load(struct machine *m, struct snap_reader *r) WUR;

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* A whole machine (every device of the table) on the fake hypervisor, built from a command line
 * as hvmd builds it: where a device test that needs the machine around it starts. */
#ifndef HVMD_TESTS_LIB_MACHINE_H
#define HVMD_TESTS_LIB_MACHINE_H

#include <stddef.h>
#include "dm/config.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"

struct fx_machine {
    struct fakexen *fx; /* 64 MiB of RAM */
    struct config cfg;
    struct machine m;
};

/* Parse "-xen-domid 1 -m 64" and the N words of EXTRA, then create the machine. 0, or the
 * negative errno of the parse or of machine_create with ERR set and nothing held. */
int fx_machine_up(struct fx_machine *b, const char *const *extra, int n, char *err, size_t errlen);
void fx_machine_down(struct fx_machine *b);

#endif

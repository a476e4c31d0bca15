/* SPDX-License-Identifier: GPL-2.0-only */
/* A whole machine on the fake hypervisor (tests/lib/machine.h). */
#include "tests/lib/machine.h"

#include <string.h>

#define MAX_ARGS 40

int fx_machine_up(struct fx_machine *b, const char *const *extra, int n, char *err, size_t errlen)
{
    const char *argv[MAX_ARGS] = { "-xen-domid", "1", "-m", "64" };
    int argc = 4;
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < n && argc < MAX_ARGS; i++)
        argv[argc++] = extra[i];
    int r = config_parse(&b->cfg, argc, argv, err, errlen);
    if (r < 0)
        return r;
    b->fx = fx_new(64 << 20);
    b->fx->vm.cfg = &b->cfg;
    r = machine_create(&b->m, &b->fx->vm, err, errlen);
    if (r < 0) {
        fx_free(b->fx);
        config_free(&b->cfg);
    }
    return r;
}

void fx_machine_down(struct fx_machine *b)
{
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
}

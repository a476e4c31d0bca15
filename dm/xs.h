/* SPDX-License-Identifier: GPL-2.0-only */
/* xenstore, for what libxl watches: /local/domain/0/device-model/D/state. The connection is
 * made once, before the sandbox (which allows no new socket and no connect), and kept. */
#ifndef HVMD_XS_H
#define HVMD_XS_H

#include <stddef.h>
#include <stdint.h>
#include "dm/util.h"

struct xs_dm;

/* Connect to xenstore for domain DOMID's device-model keys. NULL with ERR set on failure. */
struct xs_dm *xs_dm_open(uint32_t domid, char *err, size_t errlen);
void xs_dm_close(struct xs_dm *x);
/* dm_restrict: the same, through the xenstore broker (xsbroker.h), which it starts now. */
struct restrict_plan;
struct xs_dm *xs_dm_open_brokered(uint32_t domid, const struct restrict_plan *plan, char *err,
                                  size_t errlen);
/* -xen-domid-restrict: the PV backends' event channel handle reaches this domain only. The
 * grant handle cannot be restricted (Linux's gntdev has no such ioctl): dm/RESTRICT.md. */
int xs_dm_restrict(struct xs_dm *x, char *err, size_t errlen) WUR;

/* Write STATE ("running") to /local/domain/0/device-model/DOMID/state. 0 or -errno. */
int xs_dm_state(struct xs_dm *x, const char *state) WUR;

/* The PV backends' host (dm/pvhost.h) over this connection, libxenevtchn and libxengnttab:
 * opens the event channel and grant devices and hands their fds and xenstore's watch fd to
 * LOOP. Before the sandbox (it opens files). 0 or a negative errno with ERR set. */
struct pvhost;
struct loop;
int xs_dm_pv_open(struct xs_dm *x, struct loop *loop, struct pvhost *p, char *err,
                  size_t errlen) WUR;
void xs_dm_pv_close(struct xs_dm *x);

#endif

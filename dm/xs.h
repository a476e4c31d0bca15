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

/* Write STATE ("running") to /local/domain/0/device-model/DOMID/state. 0 or -errno. */
int xs_dm_state(struct xs_dm *x, const char *state) WUR;

#endif

/* xenstore, for what libxl watches: /local/domain/0/device-model/D/state. */
#ifndef HVMD_XS_H
#define HVMD_XS_H

#include <stdint.h>
#include "dm/util.h"

/* Write STATE ("running") to /local/domain/0/device-model/DOMID/state. 0 or -errno. */
int xs_dm_state(uint32_t domid, const char *state) WUR;

#endif

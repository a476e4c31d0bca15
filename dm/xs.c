/* xenstore helper (see xs.h). */
#include "dm/xs.h"
#include "dm/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

int xs_dm_state(uint32_t domid, const char *state)
{
    char path[96];
    struct xs_handle *h = xs_open(0);
    if (!h)
        return errno ? -errno : -EIO;
    snprintf(path, sizeof(path), "/local/domain/0/device-model/%u/state", domid);
    int r = xs_write(h, XBT_NULL, path, state, (unsigned)strlen(state)) ? 0 : (errno ? -errno : -EIO);
    xs_close(h);
    if (r < 0)
        log_err("writing %s: %s", path, strerror(-r));
    return r;
}

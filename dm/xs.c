/* xenstore helper (see xs.h). */
#include "dm/xs.h"
#include "dm/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

struct xs_dm {
    struct xs_handle *h;
    uint32_t domid;
};

struct xs_dm *xs_dm_open(uint32_t domid, char *err, size_t errlen)
{
    struct xs_dm *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->domid = domid;
    x->h = xs_open(0);
    if (!x->h) {
        snprintf(err, errlen, "connecting to xenstore: %s", strerror(errno ? errno : EIO));
        free(x);
        return NULL;
    }
    return x;
}

void xs_dm_close(struct xs_dm *x)
{
    if (!x)
        return;
    xs_close(x->h);
    free(x);
}

int xs_dm_state(struct xs_dm *x, const char *state)
{
    char path[96];
    snprintf(path, sizeof(path), "/local/domain/0/device-model/%u/state", x->domid);
    int r = xs_write(x->h, XBT_NULL, path, state, (unsigned)strlen(state)) ? 0 : (errno ? -errno : -EIO);
    if (r < 0)
        log_err("writing %s: %s", path, strerror(-r));
    return r;
}

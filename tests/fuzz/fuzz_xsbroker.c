/* SPDX-License-Identifier: GPL-2.0-only */
/* The xenstore broker's check of a request from hvmd (dm/xsbroker.h): under dm_restrict hvmd
 * is the side not trusted, so any message, and what it accepts must lie inside the message
 * and inside the policy. */
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dm/xsbroker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly SIZE bytes: ASan sees a read past the message */
    uint8_t *m = malloc(size ? size : 1);
    if (!m)
        return 0;
    memcpy(m, data, size);
    struct xsb_parsed p;
    int r = xsb_check_request(5, m, size, &p);
    if (r == 0) {
        const char *end = (const char *)m + size;
        if (p.path < (const char *)m || p.path >= end || p.s2 + p.len2 > end ||
            strnlen(p.path, (size_t)(end - p.path)) == (size_t)(end - p.path))
            abort();
        int w = p.op == 2 || p.op == 3 || p.op == 5;
        if (p.op == 8) { /* a grant map: the refs, 1-1024 of them, no path */
            if (p.path[0] || p.owner == 0 || p.owner > 1024 || p.len2 != (size_t)p.owner * 4)
                abort();
        } else if (!xsb_allowed(5, w ? XSB_WRITE : XSB_READ, p.path)) {
            abort();
        }
    } else if (r != -EINVAL && r != -EACCES) {
        abort();
    }
    free(m);
    return 0;
}

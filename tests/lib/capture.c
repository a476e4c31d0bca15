/* SPDX-License-Identifier: GPL-2.0-only */
#include "tests/lib/capture.h"

#include <string.h>

void fx_capture_bytes(void *opaque, const char *data, size_t n)
{
    struct fx_capture *c = opaque;
    if (c->len + n < sizeof(c->text)) {
        memcpy(c->text + c->len, data, n);
        c->len += n;
        c->text[c->len] = 0;
    }
}

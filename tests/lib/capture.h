/* SPDX-License-Identifier: GPL-2.0-only */
/* What a test gathers from an output callback (a QMP connection's replies), as one string. */
#ifndef HVMD_TESTS_LIB_CAPTURE_H
#define HVMD_TESTS_LIB_CAPTURE_H

#include <stddef.h>

struct fx_capture {
    char text[16384]; /* NUL-terminated */
    size_t len;       /* a test sets it to 0 to start over */
};

/* An output callback: OPAQUE is a struct fx_capture; DATA is added, or dropped whole when it
 * would not fit. */
void fx_capture_bytes(void *opaque, const char *data, size_t n);

/* A stream connection to the AF_UNIX socket at PATH (a QMP client, as libxl is): its fd, or
 * -1 with errno set. */
int fx_unix_connect(const char *path);

#endif

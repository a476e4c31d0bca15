/* SPDX-License-Identifier: GPL-2.0-only */
#include "tests/lib/capture.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void fx_capture_bytes(void *opaque, const char *data, size_t n)
{
    struct fx_capture *c = opaque;
    if (c->len + n < sizeof(c->text)) {
        memcpy(c->text + c->len, data, n);
        c->len += n;
        c->text[c->len] = 0;
    }
}

int fx_unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

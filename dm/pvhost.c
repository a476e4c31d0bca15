/* SPDX-License-Identifier: GPL-2.0-only */
/* The PV host interface's dispatch and helpers (see pvhost.h). */
#include "dm/pvhost.h"
#include "dm/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256

void pvhost_init(struct pvhost *p, const struct pvhost_ops *ops, void *be)
{
    memset(p, 0, sizeof(*p));
    p->ops = ops;
    p->be = be;
    for (unsigned i = 0; i < PVHOST_MAX_PORTS; i++)
        p->ports[i].port = -1;
}

void pvhost_fini(struct pvhost *p)
{
    for (int i = 0; i < PVHOST_MAX_WATCHES; i++)
        if (p->watches[i].path)
            pvhost_unwatch(p, i);
    for (unsigned i = 0; i < PVHOST_MAX_PORTS; i++)
        if (p->ports[i].port >= 0)
            pvhost_unbind(p, p->ports[i].port);
}

int pvhost_watch(struct pvhost *p, const char *path, pvhost_watch_fn *fn, void *opaque)
{
    for (int i = 0; i < PVHOST_MAX_WATCHES; i++) {
        struct pvhost_watch *w = &p->watches[i];
        if (w->path)
            continue;
        char token[16];
        snprintf(token, sizeof(token), "hvmd%d", i);
        w->path = strdup(path);
        if (!w->path)
            return -ENOMEM;
        w->fn = fn;
        w->opaque = opaque;
        int r = p->ops->watch(p->be, path, token);
        if (r < 0) {
            free(w->path);
            memset(w, 0, sizeof(*w));
            return r;
        }
        return i;
    }
    return -ENOSPC;
}

void pvhost_unwatch(struct pvhost *p, int handle)
{
    if (handle < 0 || handle >= PVHOST_MAX_WATCHES || !p->watches[handle].path)
        return;
    struct pvhost_watch *w = &p->watches[handle];
    char token[16];
    snprintf(token, sizeof(token), "hvmd%d", handle);
    p->ops->unwatch(p->be, w->path, token);
    free(w->path);
    memset(w, 0, sizeof(*w));
}

void pvhost_watch_fired(struct pvhost *p, const char *path, const char *token)
{
    char *end;
    if (strncmp(token, "hvmd", 4))
        return;
    unsigned long i = strtoul(token + 4, &end, 10);
    if (*end || i >= PVHOST_MAX_WATCHES || !p->watches[i].path)
        return; /* a watch removed since: its events may still be queued */
    size_t n = strlen(p->watches[i].path);
    if (strncmp(path, p->watches[i].path, n) || (path[n] && path[n] != '/'))
        return;
    p->watch_events++;
    p->watches[i].fn(p->watches[i].opaque, path);
}

int pvhost_bind(struct pvhost *p, uint32_t domid, uint32_t remote, pvhost_port_fn *fn,
                void *opaque)
{
    for (unsigned i = 0; i < PVHOST_MAX_PORTS; i++) {
        struct pvhost_port *s = &p->ports[i];
        if (s->port >= 0)
            continue;
        int port = p->ops->bind(p->be, domid, remote);
        if (port < 0)
            return port;
        s->port = port;
        s->fn = fn;
        s->opaque = opaque;
        return port;
    }
    return -ENOSPC;
}

void pvhost_unbind(struct pvhost *p, int port)
{
    for (unsigned i = 0; i < PVHOST_MAX_PORTS; i++) {
        if (p->ports[i].port == port && port >= 0) {
            p->ops->unbind(p->be, (unsigned)port);
            p->ports[i].port = -1;
            p->ports[i].fn = NULL;
            p->ports[i].opaque = NULL;
            return;
        }
    }
}

int pvhost_notify(struct pvhost *p, int port)
{
    return port < 0 ? -EINVAL : p->ops->notify(p->be, (unsigned)port);
}

void pvhost_port_fired(struct pvhost *p, unsigned port)
{
    for (unsigned i = 0; i < PVHOST_MAX_PORTS; i++) {
        if (p->ports[i].port == (int)port) {
            p->events++;
            p->ports[i].fn(p->ports[i].opaque);
            return;
        }
    }
}

static int vpath(char *path, const char *fmt, va_list ap)
{
    int n = vsnprintf(path, PATH_MAX_LEN, fmt, ap);
    return n < 0 || n >= PATH_MAX_LEN ? -ENAMETOOLONG : 0;
}

int pvhost_read(struct pvhost *p, char *buf, size_t len, const char *fmt, ...)
{
    char path[PATH_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int r = vpath(path, fmt, ap);
    va_end(ap);
    return r < 0 ? r : p->ops->read(p->be, path, buf, len);
}

int pvhost_read_uint(struct pvhost *p, uint64_t max, uint64_t *v, const char *fmt, ...)
{
    char path[PATH_MAX_LEN], buf[32];
    va_list ap;
    va_start(ap, fmt);
    int r = vpath(path, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    r = p->ops->read(p->be, path, buf, sizeof(buf));
    if (r == -E2BIG)
        return -EINVAL;
    if (r < 0)
        return r;
    if (buf[0] < '0' || buf[0] > '9')
        return -EINVAL;
    uint64_t x = 0;
    for (const char *c = buf; *c; c++) {
        if (*c < '0' || *c > '9')
            return -EINVAL;
        uint64_t d = (uint64_t)(*c - '0');
        if (d > max || x > (max - d) / 10) /* (d > max: MAX - d would wrap, "5" pass for 4) */
            return -EINVAL;
        x = x * 10 + (uint64_t)(*c - '0');
    }
    *v = x;
    return 0;
}

int pvhost_write(struct pvhost *p, const char *val, const char *fmt, ...)
{
    char path[PATH_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    int r = vpath(path, fmt, ap);
    va_end(ap);
    return r < 0 ? r : p->ops->write(p->be, path, val);
}

int pvhost_printf(struct pvhost *p, const char *path, const char *fmt, ...)
{
    char val[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(val))
        return -E2BIG;
    return p->ops->write(p->be, path, val);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The in-process PV host (see fakepv.h). */
#include "tests/lib/fakepv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PORT_BASE 1000

struct fx_pv_node {
    char *path, *val;
    uint32_t owner, reader;
    int has_perms;
};

/* ---- xenstore ---- */

static struct fx_pv_node *find(struct fakepv *fp, const char *path)
{
    for (unsigned i = 0; i < fp->n_nodes; i++)
        if (!strcmp(fp->nodes[i].path, path))
            return &fp->nodes[i];
    return NULL;
}

static int under(const char *path, const char *top)
{
    size_t n = strlen(top);
    return !strncmp(path, top, n) && (path[n] == 0 || path[n] == '/');
}

static void fire(struct fakepv *fp, const char *path)
{
    for (unsigned i = 0; i < fp->n_watches; i++) {
        if (!under(path, fp->watches[i].path) && !under(fp->watches[i].path, path))
            continue;
        if (fp->q_len == FXPV_QUEUE)
            return; /* a test that floods more than this does not care about the rest */
        unsigned slot = (fp->q_head + fp->q_len++) % FXPV_QUEUE;
        /* an event for a removed parent names the watched path, as xenstored does */
        fp->queue[slot].path = strdup(under(path, fp->watches[i].path) ? path : fp->watches[i].path);
        fp->queue[slot].token = strdup(fp->watches[i].token);
    }
}

static struct fx_pv_node *add(struct fakepv *fp, const char *path)
{
    struct fx_pv_node *n = find(fp, path);
    if (n)
        return n;
    /* parents exist, as xenstored makes them */
    char *parent = strdup(path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        add(fp, parent);
    }
    free(parent);
    if (fp->n_nodes == fp->cap_nodes) {
        fp->cap_nodes = fp->cap_nodes ? fp->cap_nodes * 2 : 64;
        fp->nodes = realloc(fp->nodes, fp->cap_nodes * sizeof(*fp->nodes));
    }
    n = &fp->nodes[fp->n_nodes++];
    memset(n, 0, sizeof(*n));
    n->path = strdup(path);
    n->val = strdup("");
    return n;
}

static void rm_tree(struct fakepv *fp, const char *path)
{
    for (unsigned i = 0; i < fp->n_nodes;) {
        if (under(fp->nodes[i].path, path)) {
            free(fp->nodes[i].path);
            free(fp->nodes[i].val);
            fp->nodes[i] = fp->nodes[--fp->n_nodes];
        } else {
            i++;
        }
    }
    fire(fp, path);
}

void fx_pv_write(struct fakepv *fp, const char *path, const char *val)
{
    if (!val) {
        rm_tree(fp, path);
        return;
    }
    struct fx_pv_node *n = add(fp, path);
    free(n->val);
    n->val = strdup(val);
    fire(fp, path);
}

void fx_pv_writef(struct fakepv *fp, const char *path, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fx_pv_write(fp, path, buf);
}

static void write_in(struct fakepv *fp, const char *dir, const char *key, const char *val)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, key);
    fx_pv_write(fp, p, val);
}

void fx_pv_add_device(struct fakepv *fp, const char *be, const char *fe,
                      const char *const *fe_extra, const char *const *be_extra)
{
    char id[16];
    snprintf(id, sizeof(id), "%u", fp->domid);
    write_in(fp, fe, "backend", be);
    write_in(fp, fe, "backend-id", "0");
    write_in(fp, fe, "state", "1");
    for (unsigned i = 0; fe_extra && fe_extra[i]; i += 2)
        write_in(fp, fe, fe_extra[i], fe_extra[i + 1]);
    write_in(fp, be, "frontend", fe);
    write_in(fp, be, "frontend-id", id);
    write_in(fp, be, "online", "1");
    for (unsigned i = 0; be_extra && be_extra[i]; i += 2)
        write_in(fp, be, be_extra[i], be_extra[i + 1]);
    write_in(fp, be, "state", "1");
}

const char *fx_pv_read(struct fakepv *fp, const char *path)
{
    struct fx_pv_node *n = find(fp, path);
    return n ? n->val : NULL;
}

int fx_pv_perms(struct fakepv *fp, const char *path, uint32_t owner, uint32_t reader)
{
    struct fx_pv_node *n = find(fp, path);
    return n && n->has_perms && n->owner == owner && n->reader == reader;
}

static int f_read(void *be, const char *path, char *buf, size_t len)
{
    struct fx_pv_node *n = find(be, path);
    if (!n)
        return -ENOENT;
    size_t l = strlen(n->val);
    if (l >= len)
        return -E2BIG;
    memcpy(buf, n->val, l + 1);
    return 0;
}

static int f_write(void *be, const char *path, const char *val)
{
    struct fakepv *fp = be;
    if (fp->xs_fail_writes) {
        fp->xs_fail_writes--;
        return -EIO;
    }
    fp->xs_writes++;
    fx_pv_write(fp, path, val);
    return 0;
}

static int f_rm(void *be, const char *path)
{
    struct fakepv *fp = be;
    if (!find(fp, path))
        return -ENOENT;
    rm_tree(fp, path);
    return 0;
}

static int f_directory(void *be, const char *path, char ***names, unsigned *count)
{
    struct fakepv *fp = be;
    if (!find(fp, path))
        return -ENOENT;
    size_t plen = strlen(path), bytes = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < fp->n_nodes; i++) {
        const char *p = fp->nodes[i].path;
        if (!strncmp(p, path, plen) && p[plen] == '/' && !strchr(p + plen + 1, '/')) {
            n++;
            bytes += strlen(p + plen + 1) + 1;
        }
    }
    char **v = malloc((n + 1) * sizeof(char *) + bytes + 1);
    if (!v)
        return -ENOMEM;
    char *s = (char *)(v + n + 1);
    unsigned k = 0;
    for (unsigned i = 0; i < fp->n_nodes && k < n; i++) {
        const char *p = fp->nodes[i].path;
        if (!strncmp(p, path, plen) && p[plen] == '/' && !strchr(p + plen + 1, '/')) {
            v[k++] = s;
            strcpy(s, p + plen + 1);
            s += strlen(s) + 1;
        }
    }
    v[n] = NULL;
    *names = v;
    *count = n;
    return 0;
}

static int f_set_perms(void *be, const char *path, uint32_t owner, uint32_t reader)
{
    struct fx_pv_node *n = find(be, path);
    if (!n)
        return -ENOENT;
    n->has_perms = 1;
    n->owner = owner;
    n->reader = reader;
    return 0;
}

static int f_watch(void *be, const char *path, const char *token)
{
    struct fakepv *fp = be;
    if (fp->n_watches == ARRAY_SIZE(fp->watches))
        return -ENOSPC;
    fp->watches[fp->n_watches].path = strdup(path);
    fp->watches[fp->n_watches].token = strdup(token);
    fp->n_watches++;
    /* xenstored fires a new watch once */
    if (fp->q_len < FXPV_QUEUE) {
        unsigned slot = (fp->q_head + fp->q_len++) % FXPV_QUEUE;
        fp->queue[slot].path = strdup(path);
        fp->queue[slot].token = strdup(token);
    }
    return 0;
}

static int f_unwatch(void *be, const char *path, const char *token)
{
    struct fakepv *fp = be;
    for (unsigned i = 0; i < fp->n_watches; i++) {
        if (!strcmp(fp->watches[i].path, path) && !strcmp(fp->watches[i].token, token)) {
            free(fp->watches[i].path);
            free(fp->watches[i].token);
            fp->watches[i] = fp->watches[--fp->n_watches];
            return 0;
        }
    }
    return -ENOENT;
}

/* ---- event channels ---- */

int fx_pv_alloc_port(struct fakepv *fp)
{
    for (int i = 0; i < FXPV_PORTS; i++) {
        if (!fp->ports[i].allocated) {
            memset(&fp->ports[i], 0, sizeof(fp->ports[i]));
            fp->ports[i].allocated = 1;
            return i + 1;
        }
    }
    return -1;
}

static int f_bind(void *be, uint32_t domid, uint32_t remote)
{
    struct fakepv *fp = be;
    if (domid != fp->domid || remote < 1 || remote > FXPV_PORTS)
        return -EINVAL;
    unsigned i = remote - 1;
    if (!fp->ports[i].allocated || fp->ports[i].bound)
        return -EINVAL; /* Xen: the remote port must be unbound */
    fp->ports[i].bound = 1;
    fp->binds_live++;
    return (int)(PORT_BASE + i);
}

static void f_unbind(void *be, unsigned port)
{
    struct fakepv *fp = be;
    if (port >= PORT_BASE && port < PORT_BASE + FXPV_PORTS && fp->ports[port - PORT_BASE].bound) {
        fp->ports[port - PORT_BASE].bound = 0;
        fp->ports[port - PORT_BASE].allocated = 0; /* the frontend's end is closed too */
        fp->binds_live--;
    }
}

static int f_notify(void *be, unsigned port)
{
    struct fakepv *fp = be;
    if (port < PORT_BASE || port >= PORT_BASE + FXPV_PORTS || !fp->ports[port - PORT_BASE].bound)
        return -EINVAL;
    fp->ports[port - PORT_BASE].to_frontend++;
    return 0;
}

void fx_pv_notify(struct fakepv *fp, int port)
{
    if (port >= 1 && port <= FXPV_PORTS && fp->ports[port - 1].bound)
        fp->ports[port - 1].pending = 1;
}

unsigned fx_pv_notified(struct fakepv *fp, int port)
{
    return port >= 1 && port <= FXPV_PORTS ? fp->ports[port - 1].to_frontend : 0;
}

/* ---- grants ---- */

int fx_pv_grant(struct fakepv *fp, unsigned page, int writable)
{
    if (page >= FXPV_PAGES)
        return -1;
    for (int i = 1; i < FXPV_GRANTS; i++) { /* ref 0 is never granted, as in Linux */
        if (!fp->grants[i].used) {
            fp->grants[i].used = 1;
            fp->grants[i].writable = writable;
            fp->grants[i].page = page;
            return i;
        }
    }
    return -1;
}

void fx_pv_revoke(struct fakepv *fp, int ref)
{
    if (ref > 0 && ref < FXPV_GRANTS)
        fp->grants[ref].used = 0;
}

static int grant_ok(struct fakepv *fp, uint32_t domid, uint32_t ref, int write)
{
    return domid == fp->domid && ref < FXPV_GRANTS && fp->grants[ref].used &&
           (!write || fp->grants[ref].writable);
}

static void *f_map(void *be, uint32_t domid, const uint32_t *refs, unsigned n, int writable)
{
    struct fakepv *fp = be;
    if (n == 0 || n > FXPV_PAGES) {
        errno = EINVAL;
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (!grant_ok(fp, domid, refs[i], writable)) {
            errno = EINVAL;
            return NULL;
        }
    }
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    uint8_t *base = mmap(NULL, (size_t)n * PVHOST_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        void *p = mmap(base + (size_t)i * PVHOST_PAGE, PVHOST_PAGE, prot, MAP_SHARED | MAP_FIXED,
                       fp->memfd, (off_t)fp->grants[refs[i]].page * PVHOST_PAGE);
        if (p == MAP_FAILED) {
            munmap(base, (size_t)n * PVHOST_PAGE);
            return NULL;
        }
    }
    fp->maps_live += n;
    return base;
}

static void f_unmap(void *be, void *addr, unsigned n)
{
    struct fakepv *fp = be;
    munmap(addr, (size_t)n * PVHOST_PAGE);
    fp->maps_live -= n;
}

static int f_copy(void *be, struct pvhost_copy *segs, unsigned n)
{
    struct fakepv *fp = be;
    for (unsigned i = 0; i < n; i++) {
        struct pvhost_copy *s = &segs[i];
        if (!grant_ok(fp, s->domid, s->ref, s->to_guest) || (unsigned)s->offset + s->len > PVHOST_PAGE) {
            s->status = -EIO;
            continue;
        }
        uint8_t *g = fx_pv_page(fp, fp->grants[s->ref].page) + s->offset;
        if (s->to_guest)
            memcpy(g, s->local, s->len);
        else
            memcpy(s->local, g, s->len);
        s->status = 0;
        fp->copies++;
    }
    return 0;
}

static const struct pvhost_ops fake_ops = {
    .read = f_read, .write = f_write, .rm = f_rm, .directory = f_directory,
    .set_perms = f_set_perms, .watch = f_watch, .unwatch = f_unwatch,
    .bind = f_bind, .unbind = f_unbind, .notify = f_notify,
    .map = f_map, .unmap = f_unmap, .copy = f_copy,
};

struct fakepv *fx_pv_new(uint32_t domid)
{
    struct fakepv *fp = calloc(1, sizeof(*fp));
    if (!fp)
        return NULL;
    fp->domid = domid;
    fp->memfd = memfd_create("fakepv", 0);
    if (fp->memfd < 0 || ftruncate(fp->memfd, (off_t)FXPV_PAGES * PVHOST_PAGE) < 0)
        goto fail;
    fp->pages = mmap(NULL, (size_t)FXPV_PAGES * PVHOST_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
                     fp->memfd, 0);
    if (fp->pages == MAP_FAILED)
        goto fail;
    pvhost_init(&fp->pv, &fake_ops, fp);
    return fp;
fail:
    if (fp->memfd >= 0)
        close(fp->memfd);
    free(fp);
    return NULL;
}

void fx_pv_free(struct fakepv *fp)
{
    if (!fp)
        return;
    pvhost_fini(&fp->pv);
    for (unsigned i = 0; i < fp->n_nodes; i++) {
        free(fp->nodes[i].path);
        free(fp->nodes[i].val);
    }
    free(fp->nodes);
    for (unsigned i = 0; i < fp->n_watches; i++) {
        free(fp->watches[i].path);
        free(fp->watches[i].token);
    }
    for (unsigned i = 0; i < fp->q_len; i++) {
        unsigned slot = (fp->q_head + i) % FXPV_QUEUE;
        free(fp->queue[slot].path);
        free(fp->queue[slot].token);
    }
    munmap(fp->pages, (size_t)FXPV_PAGES * PVHOST_PAGE);
    close(fp->memfd);
    free(fp);
}

unsigned fx_pv_run(struct fakepv *fp, unsigned max)
{
    unsigned done = 0;
    if (!max)
        max = 100000;
    while (done < max) {
        int any = 0;
        if (fp->q_len) {
            char *path = fp->queue[fp->q_head].path, *token = fp->queue[fp->q_head].token;
            fp->q_head = (fp->q_head + 1) % FXPV_QUEUE;
            fp->q_len--;
            pvhost_watch_fired(&fp->pv, path, token);
            free(path);
            free(token);
            done++;
            any = 1;
        }
        for (unsigned i = 0; i < FXPV_PORTS && done < max; i++) {
            if (fp->ports[i].bound && fp->ports[i].pending) {
                fp->ports[i].pending = 0;
                pvhost_port_fired(&fp->pv, PORT_BASE + i);
                done++;
                any = 1;
            }
        }
        if (!any)
            break;
    }
    return done;
}

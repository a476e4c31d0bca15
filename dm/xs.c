/* SPDX-License-Identifier: GPL-2.0-only */
/* xenstore helper (see xs.h). */
#include <xenctrl.h> /* first: __XEN_TOOLS__ for the grant table's GNTCOPY_* flags */
#include <xenevtchn.h>
#include <xengnttab.h>

#include "dm/xs.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/pvhost.h"
#include "dm/sandbox.h"
#include "dm/xsbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/sys/gntdev.h>
#include <xenstore.h>

struct xs_dm {
    struct xs_handle *h;
    struct xsb *b;       /* dm_restrict: the broker instead of h (xsbroker.h) */
    int gnt_fd;          /* dm_restrict: /dev/xen/gntdev, shared with the broker, or -1 */
    uint32_t domid;
    /* the PV backends' host (xs_dm_pv_open) */
    struct pvhost *pv;
    struct loop *loop;
    xenevtchn_handle *xce;
    xengnttab_handle *xgt;
    int xs_fd, evtchn_fd;
};

struct xs_dm *xs_dm_open(uint32_t domid, char *err, size_t errlen)
{
    struct xs_dm *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->domid = domid;
    x->xs_fd = x->evtchn_fd = -1;
    x->gnt_fd = -1;
    x->h = xs_open(0);
    if (!x->h) {
        snprintf(err, errlen, "connecting to xenstore: %s", strerror(errno ? errno : EIO));
        free(x);
        return NULL;
    }
    return x;
}

struct xs_dm *xs_dm_open_brokered(uint32_t domid, const struct restrict_plan *plan, char *err,
                                  size_t errlen)
{
    struct xs_dm *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->domid = domid;
    x->xs_fd = x->evtchn_fd = -1;
    /* the grant device, opened before the broker starts so that both hold the same file:
     * the broker maps this domain's grants into it, hvmd only mmaps them */
    x->gnt_fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
    if (x->gnt_fd < 0)
        log_warn("dm_restrict: /dev/xen/gntdev: %s (PV backends cannot map grants)",
                 strerror(errno));
    x->b = xsb_start(domid, plan, x->gnt_fd, err, errlen);
    if (!x->b) {
        if (x->gnt_fd >= 0)
            close(x->gnt_fd);
        free(x);
        return NULL;
    }
    sandbox_refuse_grant_maps(); /* hvmd's filter: no map or copy ioctl of its own */
    return x;
}

int xs_dm_restrict(struct xs_dm *x, char *err, size_t errlen)
{
    if (x->xce && xenevtchn_restrict(x->xce, (domid_t)x->domid) < 0) {
        int e = errno ? errno : EIO;
        snprintf(err, errlen, "-xen-domid-restrict: restricting the PV backends' event channel "
                 "handle to domain %u: %s", x->domid, strerror(e));
        return -e;
    }
    return 0;
}

void xs_dm_close(struct xs_dm *x)
{
    if (!x)
        return;
    xs_dm_pv_close(x);
    if (x->b)
        xsb_close(x->b);
    else
        xs_close(x->h);
    if (x->b && x->gnt_fd >= 0)
        close(x->gnt_fd);
    free(x);
}

int xs_dm_state(struct xs_dm *x, const char *state)
{
    char path[96];
    snprintf(path, sizeof(path), "/local/domain/0/device-model/%u/state", x->domid);
    int r = x->b ? xsb_write(x->b, path, state, (unsigned)strlen(state))
                 : xs_write(x->h, XBT_NULL, path, state, (unsigned)strlen(state)) ? 0
                                                                                 : (errno ? -errno : -EIO);
    if (r < 0)
        log_err("writing %s: %s", path, strerror(-r));
    return r;
}

/* ---- the PV backends' host over libxenstore, libxenevtchn, libxengnttab ---- */

static int err_of(int fallback)
{
    return errno ? -errno : fallback;
}

static int pv_read(void *be, const char *path, char *buf, size_t len)
{
    struct xs_dm *x = be;
    unsigned n = 0;
    errno = 0;
    char *v = NULL;
    if (x->b) {
        int br = xsb_read(x->b, path, &v, &n);
        if (br < 0)
            return br;
    } else {
        v = xs_read(x->h, XBT_NULL, path, &n);
        if (!v)
            return err_of(-ENOENT);
    }
    int r = 0;
    if (n >= len || memchr(v, 0, n)) {
        r = n >= len ? -E2BIG : -EINVAL;
    } else {
        memcpy(buf, v, n);
        buf[n] = 0;
    }
    free(v);
    return r;
}

static int pv_write(void *be, const char *path, const char *val)
{
    struct xs_dm *x = be;
    errno = 0;
    if (x->b)
        return xsb_write(x->b, path, val, (unsigned)strlen(val));
    return xs_write(x->h, XBT_NULL, path, val, (unsigned)strlen(val)) ? 0 : err_of(-EIO);
}

static int pv_rm(void *be, const char *path)
{
    struct xs_dm *x = be;
    errno = 0;
    if (x->b)
        return xsb_rm(x->b, path);
    return xs_rm(x->h, XBT_NULL, path) ? 0 : err_of(-EIO);
}

static int pv_directory(void *be, const char *path, char ***names, unsigned *n)
{
    struct xs_dm *x = be;
    errno = 0;
    if (x->b)
        return xsb_directory(x->b, path, names, n);
    *names = xs_directory(x->h, XBT_NULL, path, n);
    return *names ? 0 : err_of(-ENOENT);
}

static int pv_set_perms(void *be, const char *path, uint32_t owner, uint32_t reader)
{
    struct xs_dm *x = be;
    struct xs_permissions perms[2] = { { .id = owner, .perms = XS_PERM_NONE },
                                       { .id = reader, .perms = XS_PERM_READ } };
    errno = 0;
    if (x->b)
        return xsb_set_perms(x->b, path, owner, reader);
    return xs_set_permissions(x->h, XBT_NULL, path, perms, 2) ? 0 : err_of(-EIO);
}

static int pv_watch(void *be, const char *path, const char *token)
{
    struct xs_dm *x = be;
    errno = 0;
    if (x->b)
        return xsb_watch(x->b, path, token);
    return xs_watch(x->h, path, token) ? 0 : err_of(-EIO);
}

static int pv_unwatch(void *be, const char *path, const char *token)
{
    struct xs_dm *x = be;
    errno = 0;
    if (x->b)
        return xsb_unwatch(x->b, path, token);
    return xs_unwatch(x->h, path, token) ? 0 : err_of(-EIO);
}

static int pv_bind(void *be, uint32_t domid, uint32_t remote)
{
    struct xs_dm *x = be;
    errno = 0;
    xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(x->xce, domid, remote);
    return p < 0 ? err_of(-EIO) : (int)p;
}

static void pv_unbind(void *be, unsigned port)
{
    struct xs_dm *x = be;
    xenevtchn_unbind(x->xce, port);
}

static int pv_notify(void *be, unsigned port)
{
    struct xs_dm *x = be;
    errno = 0;
    return xenevtchn_notify(x->xce, port) < 0 ? err_of(-EIO) : 0;
}

/* dm_restrict: the broker maps (this domain's grants only), hvmd mmaps the offset */
static void *broker_map(struct xs_dm *x, uint32_t domid, const uint32_t *refs, unsigned n,
                        int writable)
{
    uint64_t index;
    if (domid != x->domid || x->gnt_fd < 0) {
        errno = EPERM;
        return NULL;
    }
    int r = xsb_grant_map(x->b, refs, n, &index);
    if (r < 0) {
        errno = -r;
        return NULL;
    }
    void *a = mmap(NULL, (size_t)n << 12, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
                   x->gnt_fd, (off_t)index);
    if (a == MAP_FAILED) {
        int e = errno;
        struct ioctl_gntdev_unmap_grant_ref u = { .index = index, .count = n };
        ioctl(x->gnt_fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
        errno = e;
        return NULL;
    }
    return a;
}

static int broker_unmap(struct xs_dm *x, void *addr, unsigned n)
{
    struct ioctl_gntdev_get_offset_for_vaddr g = { .vaddr = (uint64_t)(uintptr_t)addr };
    if (ioctl(x->gnt_fd, IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR, &g) < 0)
        return -errno;
    if (munmap(addr, (size_t)n << 12) < 0)
        return -errno;
    struct ioctl_gntdev_unmap_grant_ref u = { .index = g.offset, .count = g.count };
    return ioctl(x->gnt_fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u) < 0 ? -errno : 0;
}

static void *pv_map(void *be, uint32_t domid, const uint32_t *refs, unsigned n, int writable)
{
    struct xs_dm *x = be;
    if (x->b)
        return broker_map(x, domid, refs, n, writable);
    return xengnttab_map_domain_grant_refs(x->xgt, n, domid, (uint32_t *)refs,
                                           PROT_READ | (writable ? PROT_WRITE : 0));
}

static void pv_unmap(void *be, void *addr, unsigned n)
{
    struct xs_dm *x = be;
    int r = x->b ? broker_unmap(x, addr, n) : (xengnttab_unmap(x->xgt, addr, n) < 0 ? -errno : 0);
    if (r < 0)
        log_warn("unmapping %u granted pages: %s", n, strerror(-r));
}

/* dm_restrict: a grant copy is a map, a memcpy and an unmap (hvmd's filter refuses
 * IOCTL_GNTDEV_GRANT_COPY, whose domain ids it cannot see): the segments of one direction
 * mapped together, or one by one when that fails (a bad ref fails only its segment) */
static void broker_copy_group(struct xs_dm *x, struct pvhost_copy *segs, const unsigned *idx,
                              unsigned k, int to_guest)
{
    uint32_t refs[64] = { 0 };
    if (k == 0 || k > 64)
        return;
    for (unsigned i = 0; i < k; i++)
        refs[i] = segs[idx[i]].ref;
    uint8_t *a = k > 1 ? broker_map(x, x->domid, refs, k, to_guest) : NULL;
    if (!a && k > 1) {
        for (unsigned i = 0; i < k; i++)
            broker_copy_group(x, segs, &idx[i], 1, to_guest);
        return;
    }
    if (!a)
        a = broker_map(x, x->domid, refs, 1, to_guest);
    if (!a) {
        segs[idx[0]].status = -EIO;
        return;
    }
    for (unsigned i = 0; i < k; i++) {
        struct pvhost_copy *c = &segs[idx[i]];
        uint8_t *page = a + ((size_t)i << 12);
        if (to_guest)
            memcpy(page + c->offset, c->local, c->len);
        else
            memcpy(c->local, page + c->offset, c->len);
        c->status = 0;
    }
    if (broker_unmap(x, a, k) < 0)
        log_warn("unmapping %u granted pages after a copy: %s", k, strerror(errno));
}

static int broker_copy(struct xs_dm *x, struct pvhost_copy *segs, unsigned n)
{
    unsigned idx[64];
    for (unsigned done = 0; done < n;) {
        unsigned k = MIN(n - done, 64u);
        for (int dir = 0; dir < 2; dir++) {
            unsigned m = 0;
            for (unsigned i = done; i < done + k; i++) {
                struct pvhost_copy *c = &segs[i];
                if (!!c->to_guest != dir)
                    continue;
                if (c->domid != x->domid || (unsigned)c->offset + c->len > 4096) {
                    c->status = -EIO;
                    continue;
                }
                idx[m++] = i;
            }
            if (m)
                broker_copy_group(x, segs, idx, m, dir);
        }
        done += k;
    }
    return 0;
}

#define PV_COPY_BATCH 64
static int pv_copy(void *be, struct pvhost_copy *segs, unsigned n)
{
    struct xs_dm *x = be;
    if (x->b)
        return broker_copy(x, segs, n);
    xengnttab_grant_copy_segment_t g[PV_COPY_BATCH];
    for (unsigned done = 0; done < n;) {
        unsigned k = MIN(n - done, (unsigned)PV_COPY_BATCH);
        memset(g, 0, sizeof(g));
        for (unsigned i = 0; i < k; i++) {
            struct pvhost_copy *s = &segs[done + i];
            if (s->to_guest) {
                g[i].source.virt = s->local;
                g[i].dest.foreign.ref = s->ref;
                g[i].dest.foreign.offset = s->offset;
                g[i].dest.foreign.domid = (uint16_t)s->domid;
                g[i].flags = GNTCOPY_dest_gref;
            } else {
                g[i].dest.virt = s->local;
                g[i].source.foreign.ref = s->ref;
                g[i].source.foreign.offset = s->offset;
                g[i].source.foreign.domid = (uint16_t)s->domid;
                g[i].flags = GNTCOPY_source_gref;
            }
            g[i].len = s->len;
        }
        errno = 0;
        if (xengnttab_grant_copy(x->xgt, k, g) < 0)
            return err_of(-EIO);
        for (unsigned i = 0; i < k; i++)
            segs[done + i].status = g[i].status == GNTST_okay ? 0 : -EIO;
        done += k;
    }
    return 0;
}

static const struct pvhost_ops xs_pv_ops = {
    .read = pv_read, .write = pv_write, .rm = pv_rm, .directory = pv_directory,
    .set_perms = pv_set_perms, .watch = pv_watch, .unwatch = pv_unwatch,
    .bind = pv_bind, .unbind = pv_unbind, .notify = pv_notify,
    .map = pv_map, .unmap = pv_unmap, .copy = pv_copy,
};

static void on_xs_fd(void *opaque, uint32_t events)
{
    struct xs_dm *x = opaque;
    char **v;
    if (x->b) {
        const char *path, *token;
        for (unsigned i = 0; i < 256 && xsb_event(x->b, &path, &token); i++)
            pvhost_watch_fired(x->pv, path, token);
        return;
    }
    /* bounded: what is queued now, at most 256 per wake-up (the loop comes back) */
    for (unsigned i = 0; i < 256 && (v = xs_check_watch(x->h)); i++) {
        pvhost_watch_fired(x->pv, v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
        free(v);
    }
}

static void on_evtchn_fd(void *opaque, uint32_t events)
{
    struct xs_dm *x = opaque;
    xenevtchn_port_or_error_t port = xenevtchn_pending(x->xce);
    if (port < 0)
        return;
    if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0)
        log_warn("event channel %d: unmask: %s", port, strerror(errno));
    pvhost_port_fired(x->pv, (unsigned)port);
}

int xs_dm_pv_open(struct xs_dm *x, struct loop *loop, struct pvhost *p, char *err,
                  size_t errlen)
{
    pvhost_init(p, &xs_pv_ops, x);
    x->pv = p;
    x->loop = loop;
    x->xce = xenevtchn_open(NULL, 0);
    if (!x->xce) {
        snprintf(err, errlen, "PV backends: opening the event channel device: %s",
                 strerror(errno));
        goto fail;
    }
    x->xgt = x->b ? NULL : xengnttab_open(NULL, 0); /* (brokered: gnt_fd, xs_dm_open_brokered) */
    if (!x->xgt && !x->b) {
        snprintf(err, errlen, "PV backends: opening the grant device: %s", strerror(errno));
        goto fail;
    }
    x->xs_fd = x->b ? xsb_event_fd(x->b) : xs_fileno(x->h); /* the watch pipe: made now, before the sandbox */
    x->evtchn_fd = xenevtchn_fd(x->xce);
    if (x->xs_fd < 0 || loop_add_fd(loop, x->xs_fd, EPOLLIN, on_xs_fd, x) < 0) {
        x->xs_fd = -1;
        snprintf(err, errlen, "PV backends: watching xenstore: %s", strerror(errno));
        goto fail;
    }
    if (loop_add_fd(loop, x->evtchn_fd, EPOLLIN, on_evtchn_fd, x) < 0) {
        x->evtchn_fd = -1;
        snprintf(err, errlen, "PV backends: watching event channels: %s", strerror(errno));
        goto fail;
    }
    return 0;
fail:
    xs_dm_pv_close(x);
    return -EIO;
}

void xs_dm_pv_close(struct xs_dm *x)
{
    if (!x->pv)
        return;
    pvhost_fini(x->pv);
    if (x->xs_fd >= 0)
        loop_del_fd(x->loop, x->xs_fd);
    if (x->evtchn_fd >= 0)
        loop_del_fd(x->loop, x->evtchn_fd);
    x->xs_fd = x->evtchn_fd = -1;
    if (x->xgt)
        xengnttab_close(x->xgt);
    if (x->xce)
        xenevtchn_close(x->xce);
    x->xgt = NULL;
    x->xce = NULL;
    x->pv = NULL;
}

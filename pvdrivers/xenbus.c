/* SPDX-License-Identifier: GPL-2.0-only */
/* The XenBus backend core (see xenbus.h). Protocol: Xen's xen/io/xenbus.h and
 * docs/misc/xenstore-paths.pandoc; the toolstack's side as libxl 4.17 plays it
 * (pvdrivers/README.md). What it leaves out: Reconfiguring / Reconfigured (no backend of ours
 * changes its configuration while connected), hotplug scripts (libxl runs none for the
 * device model's backends). */
#include "pvdrivers/xenbus.h"
#include "dm/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xenbus {
    struct vm *vm;
    struct pvhost *pv;
    const struct xb_ops *ops;
    void *opaque;
    char dir[XB_PATH - 24];      /* /local/domain/0/backend/TYPE/D */
    int watch;
    struct xb_dev *devs[XB_MAX_DEVS];
    unsigned n;
    struct ratelimit rl;
    int scanning;
    int started;                 /* the devices present at xenbus_new are taken */
};

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected", "Closing", "Closed",
    "Reconfiguring", "Reconfigured",
};

const char *xb_state_name(enum xb_state s)
{
    return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "invalid";
}

static void dev_log(struct xb_dev *d, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void dev_log(struct xb_dev *d, const char *fmt, va_list ap)
{
    char msg[256], name[48];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    snprintf(name, sizeof(name), "%s-%u", d->bus->ops->type, d->id);
    log_guest(&d->rl, name, "%s", msg);
}

int xb_fe_uint(struct xb_dev *d, const char *name, uint64_t max, uint64_t *v)
{
    return pvhost_read_uint(d->pv, max, v, "%s/%s", d->fe_path, name);
}

int xb_be_printf(struct xb_dev *d, const char *name, const char *fmt, ...)
{
    char path[XB_PATH + 64], val[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(val))
        return -E2BIG;
    snprintf(path, sizeof(path), "%s/%s", d->be_path, name);
    return d->pv->ops->write(d->pv->be, path, val);
}

static void set_state(struct xb_dev *d, enum xb_state s)
{
    if (d->be_state == s)
        return;
    log_debug("%s: backend %s -> %s (frontend %s)", d->be_path, xb_state_name(d->be_state),
              xb_state_name(s), xb_state_name(d->fe_state));
    d->be_state = s;
    if (xb_be_printf(d, "state", "%u", (unsigned)s) < 0)
        log_warn("%s: writing state %u failed", d->be_path, (unsigned)s);
}

static void disconnect(struct xb_dev *d)
{
    if (!d->connected)
        return;
    d->connected = 0;
    d->bus->ops->disconnect(d->bus->opaque, d);
}

void xb_fail(struct xb_dev *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dev_log(d, fmt, ap);
    va_end(ap);
    disconnect(d);
    /* Closing: the frontend sees it and closes; its Closed brings ours */
    set_state(d, XB_CLOSING);
}

/* Where the device should be, from both sides' states and online; called on every change
 * (idempotent: it writes only what differs). */
static void evaluate(struct xb_dev *d)
{
    struct xenbus *b = d->bus;
    uint64_t v;
    int r;

    /* online and the backend state as the toolstack may have set them */
    r = pvhost_read_uint(d->pv, 1, &v, "%s/online", d->be_path);
    d->online = r == 0 ? (int)v : 0;
    r = pvhost_read_uint(d->pv, XB_RECONFIGURED, &v, "%s/state", d->be_path);
    if (r == 0 && (enum xb_state)v != d->be_state && v == XB_CLOSING) {
        /* the toolstack's removal (libxl writes online 0 and state Closing) */
        d->be_state = XB_CLOSING;
        d->online = 0;
    }

    r = xb_fe_uint(d, "state", XB_RECONFIGURED, &v);
    enum xb_state fe;
    if (r == -ENOENT) {
        fe = XB_UNKNOWN; /* the frontend's directory is gone (or not there yet) */
    } else if (r < 0) {
        xb_fail(d, "frontend state is not a XenBus state: closing the device");
        d->fe_state = XB_UNKNOWN;
        return;
    } else {
        fe = (enum xb_state)v;
    }
    enum xb_state prev = d->fe_state;
    d->fe_state = fe;

    if (!d->online) {
        d->reoffered = 0;
        disconnect(d);
        if (fe == XB_CONNECTED || fe == XB_INITIALISED || fe == XB_CLOSING)
            set_state(d, XB_CLOSING);
        else
            set_state(d, XB_CLOSED);
        return;
    }

    switch (fe) {
    case XB_UNKNOWN:
        /* no frontend (yet, or any more) */
        if (d->reoffered) {
            d->reoffered = 0;
            set_state(d, XB_CLOSED);
        } else if (d->connected) {
            disconnect(d);
            set_state(d, XB_CLOSED);
        } else if (d->be_state == XB_CLOSING) {
            set_state(d, XB_CLOSED);
        }
        break;
    case XB_INITIALISING:
    case XB_INITWAIT:
        /* a frontend (re)starting: after a close, offer the device again */
        d->reoffered = 0;
        if (d->connected) {
            disconnect(d);
        }
        if (d->be_state != XB_INITWAIT) {
            if (d->be_state != XB_CLOSED && d->be_state != XB_INITIALISING &&
                d->be_state != XB_UNKNOWN) {
                /* from Connected or Closing straight back: say Closed first, as the
                 * frontend's xenbus reset expects to see */
                set_state(d, XB_CLOSED);
            }
            set_state(d, XB_INITWAIT);
        }
        break;
    case XB_INITIALISED:
    case XB_CONNECTED:
        if (d->connected || d->be_state == XB_CLOSING || d->be_state == XB_CLOSED)
            break; /* connected already, or closing: wait for the frontend to restart */
        if (d->be_state != XB_INITWAIT && !d->reoffered)
            set_state(d, XB_INITWAIT);
        r = b->ops->connect(b->opaque, d);
        d->reoffered = 0;
        if (r < 0) {
            xb_fail(d, "cannot connect (%s): closing the device", strerror(-r));
            break;
        }
        d->connected = 1;
        d->connects++;
        set_state(d, XB_CONNECTED);
        log_info("%s: connected to %s", d->be_path, d->fe_path);
        break;
    case XB_CLOSING:
        d->reoffered = 0;
        disconnect(d);
        set_state(d, XB_CLOSING);
        break;
    case XB_CLOSED:
        if (d->reoffered)
            break; /* offered again already: waiting for the frontend's driver */
        if (b->ops->reoffer && prev == XB_CONNECTED && d->connected &&
            d->be_state == XB_CONNECTED) {
            /* unbound in the guest (see xb_ops.reoffer): Closed, then offered again */
            disconnect(d);
            set_state(d, XB_CLOSED);
            d->reoffered = 1;
            set_state(d, XB_CONNECTED);
            log_info("%s: the frontend closed without Closing (its driver unbound): offered "
                     "again", d->be_path);
            break;
        }
        disconnect(d);
        set_state(d, XB_CLOSED);
        break;
    case XB_RECONFIGURING:
    case XB_RECONFIGURED:
        break; /* not a protocol of ours: ignored */
    }
}

static void fe_changed(void *opaque, const char *path)
{
    evaluate(opaque);
}

static void dev_free(struct xb_dev *d)
{
    disconnect(d);
    if (d->fe_watch >= 0)
        pvhost_unwatch(d->pv, d->fe_watch);
    if (d->bus->ops->release)
        d->bus->ops->release(d->bus->opaque, d);
    free(d->priv);
    free(d);
}

static struct xb_dev *find(struct xenbus *b, unsigned id)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->devs[i]->id == id)
            return b->devs[i];
    return NULL;
}

/* A device the toolstack made: backend/TYPE/D/ID with frontend and frontend-id. */
static void dev_add(struct xenbus *b, unsigned id)
{
    char fe[XB_PATH], prefix[64];
    uint64_t fe_domid;

    if (pvhost_read(b->pv, fe, sizeof(fe), "%s/%u/frontend", b->dir, id) < 0 ||
        pvhost_read_uint(b->pv, UINT32_MAX, &fe_domid, "%s/%u/frontend-id", b->dir, id) < 0)
        return; /* not complete yet: the next event brings the rest */
    snprintf(prefix, sizeof(prefix), "/local/domain/%u/", b->vm->domid);
    if (fe_domid != b->vm->domid || strncmp(fe, prefix, strlen(prefix)) || strstr(fe, "..")) {
        log_guest(&b->rl, b->ops->type, "device %u: frontend %s of domain %llu is not domain %u's",
                  id, fe, (unsigned long long)fe_domid, b->vm->domid);
        return;
    }
    if (b->ops->claim && !b->ops->claim(b->opaque, id, fe))
        return;
    if (b->n == XB_MAX_DEVS) {
        log_guest(&b->rl, b->ops->type, "device %u: more than %d devices", id, XB_MAX_DEVS);
        return;
    }
    struct xb_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return;
    d->bus = b;
    d->pv = b->pv;
    d->id = id;
    d->fe_domid = (uint32_t)fe_domid;
    d->fe_watch = -1;
    d->late = b->started;
    snprintf(d->be_path, sizeof(d->be_path), "%s/%u", b->dir, id);
    snprintf(d->fe_path, sizeof(d->fe_path), "%s", fe);
    if (b->ops->priv_size && !(d->priv = calloc(1, b->ops->priv_size))) {
        free(d);
        return;
    }
    /* what libxl wrote: Initialising; ours starts from there */
    d->be_state = XB_INITIALISING;
    b->devs[b->n++] = d;
    d->seen = 1;
    int r = b->ops->setup ? b->ops->setup(b->opaque, d) : 0;
    if (r < 0) {
        log_warn("%s: setting up: %s", d->be_path, strerror(-r));
        set_state(d, XB_CLOSED);
        return;
    }
    d->fe_watch = pvhost_watch(b->pv, d->fe_path, fe_changed, d);
    if (d->fe_watch < 0)
        log_warn("%s: watching %s: %s", d->be_path, d->fe_path, strerror(-d->fe_watch));
    set_state(d, XB_INITWAIT);
    evaluate(d);
}

static void scan(struct xenbus *b)
{
    char **names = NULL;
    unsigned n = 0;

    if (b->scanning)
        return;
    b->scanning = 1;
    for (unsigned i = 0; i < b->n; i++)
        b->devs[i]->seen = 0;
    if (b->pv->ops->directory(b->pv->be, b->dir, &names, &n) == 0) {
        for (unsigned i = 0; i < n; i++) {
            char *end;
            const char *s = names[i];
            if (*s < '0' || *s > '9')
                continue;
            unsigned long id = strtoul(s, &end, 10);
            if (*end || id > INT32_MAX)
                continue;
            struct xb_dev *d = find(b, (unsigned)id);
            if (d) {
                d->seen = 1;
                evaluate(d);
            } else {
                dev_add(b, (unsigned)id);
            }
        }
        free(names);
    }
    /* devices whose directory went away: libxl removed them */
    for (unsigned i = 0; i < b->n;) {
        if (!b->devs[i]->seen) {
            struct xb_dev *d = b->devs[i];
            log_info("%s: removed", d->be_path);
            b->devs[i] = b->devs[--b->n];
            dev_free(d);
        } else {
            i++;
        }
    }
    b->scanning = 0;
}

static void be_changed(void *opaque, const char *path)
{
    struct xenbus *b = opaque;
    size_t n = strlen(b->dir);
    /* a node of one device: evaluate that one only, unless it is new */
    if (path[n] == '/') {
        char *end;
        unsigned long id = strtoul(path + n + 1, &end, 10);
        struct xb_dev *d = (*end == '/' && id <= INT32_MAX) ? find(b, (unsigned)id) : NULL;
        if (d) {
            evaluate(d);
            return;
        }
    }
    scan(b);
}

void xenbus_rescan(struct xenbus *b)
{
    scan(b);
}

struct xenbus *xenbus_new(struct vm *vm, const struct xb_ops *ops, void *opaque)
{
    struct xenbus *b = calloc(1, sizeof(*b));
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->vm = vm;
    b->pv = vm->pv;
    b->ops = ops;
    b->opaque = opaque;
    b->watch = -1;
    snprintf(b->dir, sizeof(b->dir), "/local/domain/0/backend/%s/%u", ops->type, vm->domid);
    /* what qemu-xen does: name the types served (libxl only looks for qusb there) */
    int r = pvhost_write(b->pv, "", "/local/domain/0/device-model/%u/backends/%s", vm->domid,
                         ops->type);
    if (r < 0)
        log_warn("writing device-model/%u/backends/%s: %s", vm->domid, ops->type, strerror(-r));
    scan(b);
    b->started = 1;
    b->watch = pvhost_watch(b->pv, b->dir, be_changed, b);
    if (b->watch < 0) {
        errno = -b->watch;
        free(b);
        return NULL;
    }
    return b;
}

void xenbus_free(struct xenbus *b)
{
    if (!b)
        return;
    if (b->watch >= 0)
        pvhost_unwatch(b->pv, b->watch);
    while (b->n > 0)
        dev_free(b->devs[--b->n]);
    free(b);
}

struct xb_dev *xenbus_dev(struct xenbus *b, unsigned n)
{
    return n < b->n ? b->devs[n] : NULL;
}

unsigned xenbus_count(const struct xenbus *b)
{
    return b->n;
}

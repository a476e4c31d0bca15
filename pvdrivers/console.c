/* SPDX-License-Identifier: GPL-2.0-only */
/* PV consoles beyond the first (Xen's xen/io/console.h ring; Linux's hvc_xen "xenconsole"
 * frontend): libxl 4.17 turns each channel= entry into console N = 1, 2, ...
 * (backend/console/D/N, frontend type "ioemu") and hands it to the device model; console 0 is
 * xenconsoled's and is left alone. Each console this backend claims is on a pty (output "pty",
 * channel connection=pty; libxl also passes -chardev pty,id=libxl-channelN, claimed here),
 * whose path goes to the frontend's "tty" node, where `xl console -n N` looks. The pty is
 * opened when the device is first seen, which for libxl's consoles is before the sandbox
 * (they exist before the device model starts). Left out: connection=socket channels
 * (output "chardev:libxl-channelN" over a listening socket): their -chardev socket option is
 * not claimed, so hvmd refuses it at start, naming it.
 *
 * The ring belongs to the frontend: out_prod and in_cons are read once per pass and checked
 * (more than the ring holds: the device is closed), and at most one ring's worth moves per
 * event. Input from the pty is taken only while the in ring has room.
 *
 * State: none saved (a PV console frontend reconnects after restore). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/io/console.h>

#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/pvhost.h"
#include "pvdrivers/xenbus.h"

struct pvcon_dev {
    struct xb_dev *d;
    struct pvcon *owner;
    struct chardev *chr;
    struct xencons_interface *ring;
    int port;
    uint64_t out_bytes, in_bytes;
};

struct pvcon {
    struct vm *vm;
    struct xenbus *bus;
};

static int ring_ok(struct pvcon_dev *c, uint32_t *out_cons, uint32_t *out_prod,
                   uint32_t *in_cons, uint32_t *in_prod)
{
    volatile struct xencons_interface *r = c->ring;
    *out_cons = r->out_cons;
    *out_prod = r->out_prod;
    *in_cons = r->in_cons;
    *in_prod = r->in_prod;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (*out_prod - *out_cons > sizeof(r->out) || *in_prod - *in_cons > sizeof(r->in)) {
        xb_fail(c->d, "ring indexes out of range (out %u..%u, in %u..%u): closing", *out_cons,
                *out_prod, *in_cons, *in_prod);
        return 0;
    }
    return 1;
}

/* the frontend wrote output, or read input: drain its out ring to the pty */
static void con_event(void *opaque)
{
    struct pvcon_dev *c = opaque;
    uint32_t oc, op, ic, ip;
    if (!c->ring || !ring_ok(c, &oc, &op, &ic, &ip))
        return;
    uint8_t buf[sizeof(c->ring->out)];
    size_t n = 0;
    for (uint32_t i = oc; i != op; i++)
        buf[n++] = (uint8_t)c->ring->out[MASK_XENCONS_IDX(i, c->ring->out)];
    if (n) {
        chardev_write(c->chr, buf, n);
        c->out_bytes += n;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ((volatile struct xencons_interface *)c->ring)->out_cons = op;
    }
    chardev_input_ready(c->chr); /* it may have made room in the in ring */
    if (n && pvhost_notify(c->d->pv, c->port) < 0)
        log_guest(&c->d->rl, "console", "notify failed");
}

static size_t con_can_receive(void *opaque)
{
    struct pvcon_dev *c = opaque;
    uint32_t oc, op, ic, ip;
    if (!c->ring || !c->d->connected || !ring_ok(c, &oc, &op, &ic, &ip))
        return 0;
    return sizeof(c->ring->in) - (ip - ic);
}

static void con_receive(void *opaque, const uint8_t *data, size_t n)
{
    struct pvcon_dev *c = opaque;
    uint32_t oc, op, ic, ip;
    if (!c->ring || !c->d->connected || !ring_ok(c, &oc, &op, &ic, &ip))
        return;
    size_t room = sizeof(c->ring->in) - (ip - ic);
    n = MIN(n, room);
    for (size_t i = 0; i < n; i++)
        c->ring->in[MASK_XENCONS_IDX(ip + (uint32_t)i, c->ring->in)] = (char)data[i];
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ((volatile struct xencons_interface *)c->ring)->in_prod = ip + (uint32_t)n;
    c->in_bytes += n;
    if (n && pvhost_notify(c->d->pv, c->port) < 0)
        log_guest(&c->d->rl, "console", "notify failed");
}

static const struct chardev_ops con_chr_ops = { .can_receive = con_can_receive,
                                                .receive = con_receive };

static int con_claim(void *opaque, unsigned id, const char *fe_path)
{
    struct pvcon *s = opaque;
    char type[32];
    if (id == 0)
        return 0; /* xenconsoled's */
    return pvhost_read(s->vm->pv, type, sizeof(type), "%s/type", fe_path) == 0 &&
           !strcmp(type, "ioemu");
}

static int con_setup(void *opaque, struct xb_dev *d)
{
    struct pvcon *s = opaque;
    struct pvcon_dev *c = d->priv;
    char out[64], err[256], label[32];
    c->d = d;
    c->owner = s;
    c->port = -1;
    if (pvhost_read(d->pv, out, sizeof(out), "%s/output", d->fe_path) < 0)
        snprintf(out, sizeof(out), "pty");
    if (d->late) {
        log_warn("%s: a console added after start-up is not served (no new pty under the "
                 "sandbox)", d->be_path);
        return -EPERM;
    }
    if (strcmp(out, "pty")) {
        log_warn("%s: output %s: only pty consoles are served", d->be_path, out);
        return -EOPNOTSUPP;
    }
    snprintf(label, sizeof(label), "console%u", d->id);
    c->chr = chardev_open(s->vm->loop, "pty", label, err, sizeof(err));
    if (!c->chr) {
        log_warn("%s: %s", d->be_path, err);
        return -EIO;
    }
    chardev_set_frontend(c->chr, &con_chr_ops, c);
    const char *fn = chardev_filename(c->chr);
    if (!strncmp(fn, "pty:", 4))
        fn += 4;
    if (pvhost_write(d->pv, fn, "%s/tty", d->fe_path) < 0)
        log_warn("%s: writing %s/tty failed", d->be_path, d->fe_path);
    log_info("%s: console %u on %s", d->be_path, d->id, fn);
    return 0;
}

static int con_connect(void *opaque, struct xb_dev *d)
{
    struct pvcon_dev *c = d->priv;
    uint64_t ref, port;
    if (xb_fe_uint(d, "ring-ref", UINT32_MAX, &ref) < 0 ||
        xb_fe_uint(d, "port", UINT32_MAX, &port) < 0) {
        log_guest(&d->rl, "console", "ring-ref or port missing or not a number");
        return -EINVAL;
    }
    uint32_t r32 = (uint32_t)ref;
    c->ring = d->pv->ops->map(d->pv->be, d->fe_domid, &r32, 1, 1);
    if (!c->ring) {
        log_guest(&d->rl, "console", "ring-ref %llu cannot be mapped", (unsigned long long)ref);
        return -EINVAL;
    }
    c->port = pvhost_bind(d->pv, d->fe_domid, (uint32_t)port, con_event, c);
    if (c->port < 0) {
        int r = c->port;
        d->pv->ops->unmap(d->pv->be, c->ring, 1);
        c->ring = NULL;
        c->port = -1;
        log_guest(&d->rl, "console", "port %llu cannot be bound", (unsigned long long)port);
        return r;
    }
    return 0;
}

static void con_disconnect(void *opaque, struct xb_dev *d)
{
    struct pvcon_dev *c = d->priv;
    if (c->port >= 0)
        pvhost_unbind(d->pv, c->port);
    c->port = -1;
    if (c->ring)
        d->pv->ops->unmap(d->pv->be, c->ring, 1);
    c->ring = NULL;
}

static void con_release(void *opaque, struct xb_dev *d)
{
    struct pvcon_dev *c = d->priv;
    if (c->chr)
        chardev_close(c->chr);
    c->chr = NULL;
}

static const struct xb_ops con_ops = {
    .type = "console",
    .priv_size = sizeof(struct pvcon_dev),
    .claim = con_claim,
    .setup = con_setup,
    .connect = con_connect,
    .disconnect = con_disconnect,
    .release = con_release,
};

static void con_destroy(void *state)
{
    struct pvcon *s = state;
    if (!s)
        return;
    xenbus_free(s->bus);
    free(s);
}

static int con_create(struct vm *vm, void **state)
{
    *state = NULL;
    /* libxl's -chardev pty,id=libxl-channelN for each pty channel: the console device is
     * what serves it (the pty itself is made per device, above) */
    for (unsigned i = 0; vm->cfg; i++) {
        struct cfg_opt *o = cfg_nth(vm->cfg, "-chardev", i);
        if (!o)
            break;
        const char *id = cfg_get(o, "id");
        if (vm->pv && id && !strncmp(id, "libxl-channel", 13) && !strcmp(o->first, "pty"))
            o->claimed = 1;
    }
    if (!vm->pv)
        return 0;
    struct pvcon *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->vm = vm;
    s->bus = xenbus_new(vm, &con_ops, s);
    if (!s->bus) {
        int r = -errno;
        free(s);
        return r < 0 ? r : -EIO;
    }
    *state = s;
    return 0;
}

static int con_save(void *state, struct snap_writer *w) { return 0; }
static int con_load(void *state, struct snap_reader *r, int commit) { return 0; }

struct xenbus *pvcon_bus(void *state);
struct xenbus *pvcon_bus(void *state)
{
    return state ? ((struct pvcon *)state)->bus : NULL;
}

DEVICE(pv_console, "pvconsole", 1, con_create, con_destroy, con_save, con_load);

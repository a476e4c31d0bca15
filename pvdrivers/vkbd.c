/* SPDX-License-Identifier: GPL-2.0-only */
/* The PV keyboard and absolute pointer (Xen's xen/io/kbdif.h; Linux's xen-kbdfront), the
 * device libxl 4.17 adds to every HVM guest unless vkb_device = 0 (backend/vkbd/D/0, backend
 * domain 0: the device model's). Served: keys (Linux KEY_* codes, as dm/input.h has them),
 * the absolute pointer (XENKBD_TYPE_POS, scaled to the width and height the backend offers;
 * buttons as BTN_LEFT/RIGHT/MIDDLE key events; the wheel as rel_z) or, to a frontend that did
 * not ask for absolute events, relative motion. The shared page comes from page-gref (a grant,
 * mapped writable) or, from an older frontend that gives only page-ref, from the guest frame
 * (HVM guests). Left out: multi-touch, raw pointer, the out ring (kbdif defines no out events).
 *
 * While connected the device is dm/input.h's keyboard and absolute pointer of priority
 * VKBD_PRIORITY (above the i8042 and PS/2 mouse, whose events would take a trip per byte;
 * below a USB tablet the guest's file asked for and the guest configured). The ring belongs to the frontend: only its in_cons is read, once per
 * event, and an in_cons that says more than the ring holds is treated as a full ring (events
 * dropped, one rate-limited line); our producer index is kept privately.
 *
 * State: none saved. A PV frontend reconnects after restore (it re-grants its page and binds a
 * new event channel in its resume path), so the section is empty. */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/io/kbdif.h>

#include "dm/device.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/pvhost.h"
#include "pvdrivers/xenbus.h"

#define VKBD_PRIORITY 20

struct vkbd_dev {
    struct xb_dev *d;
    struct vkbd *owner;
    uint8_t *page;
    int by_gref;             /* mapped through the grant (else a guest frame) */
    int port;
    int abs;                 /* the frontend asked for absolute events */
    unsigned width, height;  /* the pointer's range as offered */
    uint32_t prod;           /* ours; written to in_prod */
    unsigned buttons;
    int have_pos;
    unsigned last_x, last_y;
    int targets;             /* registered with dm/input.h */
    uint64_t sent, dropped;
};

struct vkbd {
    struct vm *vm;
    struct xenbus *bus;
};

/* ---- the ring ---- */

static int ring_put(struct vkbd_dev *v, const union xenkbd_in_event *ev)
{
    volatile struct xenkbd_page *pg = (volatile struct xenkbd_page *)v->page;
    uint32_t cons = pg->in_cons;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (v->prod - cons >= XENKBD_IN_RING_LEN) {
        v->dropped++;
        if (v->prod - cons > XENKBD_IN_RING_LEN)
            log_guest(&v->d->rl, "vkbd", "in_cons %u is not within the ring (prod %u): "
                      "event dropped", cons, v->prod);
        return -ENOSPC; /* full (or a frontend that is not reading): drop */
    }
    memcpy(v->page + XENKBD_IN_RING_OFFS +
               (size_t)(v->prod % XENKBD_IN_RING_LEN) * XENKBD_IN_EVENT_SIZE,
           ev, XENKBD_IN_EVENT_SIZE);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* the event before the index */
    v->prod++;
    pg->in_prod = v->prod;
    v->sent++;
    return 0;
}

static void ring_kick(struct vkbd_dev *v)
{
    if (pvhost_notify(v->d->pv, v->port) < 0)
        log_guest(&v->d->rl, "vkbd", "notifying event channel %d failed", v->port);
}

static void put_key(struct vkbd_dev *v, unsigned code, int down)
{
    union xenkbd_in_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.key.type = XENKBD_TYPE_KEY;
    ev.key.pressed = down ? 1 : 0;
    ev.key.keycode = code;
    ring_put(v, &ev);
}

/* ---- dm/input.h targets ---- */

static int vkbd_active(void *opaque)
{
    struct vkbd_dev *v = opaque;
    return v->d->connected && v->page;
}

static void vkbd_key(void *opaque, unsigned code, int down)
{
    struct vkbd_dev *v = opaque;
    if (!vkbd_active(v))
        return;
    put_key(v, code, down);
    ring_kick(v);
}

static void vkbd_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
    struct vkbd_dev *v = opaque;
    union xenkbd_in_event ev;
    if (!vkbd_active(v))
        return;
    x = MIN(x, (unsigned)INPUT_ABS_MAX);
    y = MIN(y, (unsigned)INPUT_ABS_MAX);
    unsigned sx = (unsigned)((uint64_t)x * v->width / INPUT_ABS_MAX);
    unsigned sy = (unsigned)((uint64_t)y * v->height / INPUT_ABS_MAX);
    memset(&ev, 0, sizeof(ev));
    if (v->abs) {
        ev.pos.type = XENKBD_TYPE_POS;
        ev.pos.abs_x = (int32_t)sx;
        ev.pos.abs_y = (int32_t)sy;
        ev.pos.rel_z = -dz; /* kbdfront reports REL_WHEEL as -rel_z; dz > 0 is up */
        ring_put(v, &ev);
    } else if (!v->have_pos || sx != v->last_x || sy != v->last_y || dz) {
        ev.motion.type = XENKBD_TYPE_MOTION;
        ev.motion.rel_x = v->have_pos ? (int32_t)sx - (int32_t)v->last_x : 0;
        ev.motion.rel_y = v->have_pos ? (int32_t)sy - (int32_t)v->last_y : 0;
        ev.motion.rel_z = -dz;
        ring_put(v, &ev);
    }
    v->have_pos = 1;
    v->last_x = sx;
    v->last_y = sy;
    static const struct { unsigned bit, code; } btn[] = {
        { INPUT_BTN_LEFT, BTN_LEFT }, { INPUT_BTN_RIGHT, BTN_RIGHT }, { INPUT_BTN_MIDDLE, BTN_MIDDLE },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(btn); i++)
        if ((buttons ^ v->buttons) & btn[i].bit)
            put_key(v, btn[i].code, !!(buttons & btn[i].bit));
    v->buttons = buttons;
    ring_kick(v);
}

/* ---- XenBus ---- */

static int vkbd_setup(void *opaque, struct xb_dev *d)
{
    struct vkbd *s = opaque;
    struct vkbd_dev *v = d->priv;
    uint64_t w, h;
    v->d = d;
    v->owner = s;
    v->port = -1;
    /* the range the toolstack set (vkb width=, height=), else ours */
    if (pvhost_read_uint(d->pv, 1u << 16, &w, "%s/" XENKBD_FIELD_WIDTH, d->be_path) < 0 || !w) {
        w = INPUT_ABS_MAX;
        if (xb_be_printf(d, XENKBD_FIELD_WIDTH, "%u", INPUT_ABS_MAX) < 0)
            return -EIO;
    }
    if (pvhost_read_uint(d->pv, 1u << 16, &h, "%s/" XENKBD_FIELD_HEIGHT, d->be_path) < 0 || !h) {
        h = INPUT_ABS_MAX;
        if (xb_be_printf(d, XENKBD_FIELD_HEIGHT, "%u", INPUT_ABS_MAX) < 0)
            return -EIO;
    }
    v->width = (unsigned)w;
    v->height = (unsigned)h;
    if (xb_be_printf(d, XENKBD_FIELD_FEAT_ABS_POINTER, "1") < 0)
        return -EIO;
    struct input_target kbd = { .kind = INPUT_KEYBOARD, .priority = VKBD_PRIORITY,
                                .name = "xen-vkbd", .active = vkbd_active, .key = vkbd_key,
                                .opaque = v };
    struct input_target ptr = { .kind = INPUT_ABS, .priority = VKBD_PRIORITY,
                                .name = "xen-vkbd-pointer", .active = vkbd_active,
                                .abs = vkbd_abs, .opaque = v };
    if (input_add_target(s->vm, &kbd) < 0 || input_add_target(s->vm, &ptr) < 0) {
        input_del_target(s->vm, v);
        log_warn("%s: no room for its input targets: the PV keyboard gets no input", d->be_path);
    } else {
        v->targets = 1;
    }
    return 0;
}

static void on_event(void *opaque)
{
    /* kbdif defines no frontend-to-backend event: nothing to read */
}

static void unmap_page(struct vkbd_dev *v)
{
    if (!v->page)
        return;
    if (v->by_gref)
        v->d->pv->ops->unmap(v->d->pv->be, v->page, 1);
    else
        v->owner->vm->hv.ops->unmap_gfn(v->owner->vm->hv.be, v->page, 1);
    v->page = NULL;
}

static int vkbd_connect(void *opaque, struct xb_dev *d)
{
    struct vkbd *s = opaque;
    struct vkbd_dev *v = d->priv;
    uint64_t ref, port, abs = 0;
    int r;

    if ((r = xb_fe_uint(d, XENKBD_FIELD_EVT_CHANNEL, UINT32_MAX, &port)) < 0) {
        log_guest(&d->rl, "vkbd", "event-channel missing or not a port");
        return r == -ENOENT ? -ENOENT : -EINVAL;
    }
    if (xb_fe_uint(d, XENKBD_FIELD_REQ_ABS_POINTER, 1, &abs) < 0)
        abs = 0;
    v->abs = (int)abs;
    if (xb_fe_uint(d, XENKBD_FIELD_RING_GREF, UINT32_MAX, &ref) == 0) {
        uint32_t r32 = (uint32_t)ref;
        v->page = d->pv->ops->map(d->pv->be, d->fe_domid, &r32, 1, 1);
        v->by_gref = 1;
        if (!v->page) {
            log_guest(&d->rl, "vkbd", "page-gref %llu cannot be mapped", (unsigned long long)ref);
            return -EINVAL;
        }
    } else if (xb_fe_uint(d, XENKBD_FIELD_RING_REF, (1ull << 40) - 1, &ref) == 0) {
        void *p = NULL;
        int err = 0;
        v->by_gref = 0;
        if (s->vm->hv.ops->map_gfn(s->vm->hv.be, ref, 1, &p, &err) < 0 || err < 0) {
            if (p)
                s->vm->hv.ops->unmap_gfn(s->vm->hv.be, p, 1);
            log_guest(&d->rl, "vkbd", "page-ref %#llx is not guest RAM", (unsigned long long)ref);
            return -EINVAL;
        }
        v->page = p;
    } else {
        log_guest(&d->rl, "vkbd", "neither page-gref nor page-ref is a number");
        return -EINVAL;
    }
    v->port = pvhost_bind(d->pv, d->fe_domid, (uint32_t)port, on_event, v);
    if (v->port < 0) {
        r = v->port;
        v->port = -1;
        unmap_page(v);
        log_guest(&d->rl, "vkbd", "event-channel %llu cannot be bound", (unsigned long long)port);
        return r;
    }
    volatile struct xenkbd_page *pg = (volatile struct xenkbd_page *)v->page;
    v->prod = pg->in_prod; /* from here on ours */
    v->buttons = 0;
    v->have_pos = 0;
    return 0;
}

static void vkbd_disconnect(void *opaque, struct xb_dev *d)
{
    struct vkbd_dev *v = d->priv;
    if (v->port >= 0)
        pvhost_unbind(d->pv, v->port);
    v->port = -1;
    unmap_page(v);
}

static void vkbd_release(void *opaque, struct xb_dev *d)
{
    struct vkbd *s = opaque;
    struct vkbd_dev *v = d->priv;
    if (v->targets)
        input_del_target(s->vm, v);
    v->targets = 0;
}

static const struct xb_ops vkbd_ops = {
    .type = "vkbd",
    .priv_size = sizeof(struct vkbd_dev),
    .setup = vkbd_setup,
    .connect = vkbd_connect,
    .disconnect = vkbd_disconnect,
    .release = vkbd_release,
};

static void vkbd_destroy(void *state)
{
    struct vkbd *s = state;
    if (!s)
        return;
    xenbus_free(s->bus);
    free(s);
}

static int vkbd_create(struct vm *vm, void **state)
{
    *state = NULL;
    if (!vm->pv)
        return 0; /* no xenstore (a test without the PV host): nothing to serve */
    struct vkbd *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->vm = vm;
    s->bus = xenbus_new(vm, &vkbd_ops, s);
    if (!s->bus) {
        int r = -errno;
        free(s);
        return r < 0 ? r : -EIO;
    }
    *state = s;
    return 0;
}

/* No guest-visible state kept across a save: the frontend reconnects (see the top). */
static int vkbd_save(void *state, struct snap_writer *w) { return 0; }
static int vkbd_load(void *state, struct snap_reader *r, int commit) { return 0; }

/* For tests: the vkbd backend of STATE (the device's state) and its devices. */
struct xenbus *vkbd_bus(void *state);
struct xenbus *vkbd_bus(void *state)
{
    return state ? ((struct vkbd *)state)->bus : NULL;
}

DEVICE(pv_vkbd, "vkbd", 1, vkbd_create, vkbd_destroy, vkbd_save, vkbd_load);

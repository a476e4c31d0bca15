/* SPDX-License-Identifier: GPL-2.0-only */
/* The XenBus backend core: one instance per backend type hvmd serves (vkbd, console, ...),
 * over dm/pvhost.h. It watches /local/domain/0/backend/TYPE/D (new devices, removal, the
 * toolstack's writes to the backend's own online and state nodes) and each device's frontend
 * directory, and runs the state machine of xen/io/xenbus.h on both sides:
 *
 *   backend:  (new) -> type setup -> InitWait
 *             frontend Initialised or Connected  -> type connect -> Connected (or Closing)
 *             frontend Closing                   -> disconnect   -> Closing
 *             frontend Closed / gone             -> disconnect   -> Closed
 *             frontend Initialising after that (module reload, kexec's xenbus reset) -> InitWait
 *             online = 0 (toolstack removal)     -> disconnect, Closing until the frontend has
 *                                                   closed, then Closed
 *
 * Everything the frontend wrote is hostile: states, ports and grant references are read as
 * bounded decimals, and a device whose frontend says something it cannot use is closed with
 * a rate-limited log line. All of it runs on the loop's thread (watches and event channels
 * come through pvhost); no thread per device. */
#ifndef HVMD_PVDRIVERS_XENBUS_H
#define HVMD_PVDRIVERS_XENBUS_H

#include <stdint.h>
#include "dm/log.h"
#include "dm/pvhost.h"
#include "dm/util.h"

struct vm;
struct xenbus;

#define XB_PATH 128
#define XB_MAX_DEVS 16

/* xen/io/xenbus.h's enum xenbus_state */
enum xb_state {
    XB_UNKNOWN = 0, XB_INITIALISING = 1, XB_INITWAIT = 2, XB_INITIALISED = 3,
    XB_CONNECTED = 4, XB_CLOSING = 5, XB_CLOSED = 6, XB_RECONFIGURING = 7, XB_RECONFIGURED = 8,
};

struct xb_dev {
    struct xenbus *bus;
    struct pvhost *pv;
    unsigned id;                 /* the N of backend/TYPE/D/N */
    uint32_t fe_domid;
    char be_path[XB_PATH];       /* /local/domain/0/backend/TYPE/D/N */
    char fe_path[XB_PATH];       /* from its "frontend" node */
    enum xb_state be_state, fe_state;
    int online;
    int connected;               /* the type's connect succeeded, no disconnect since */
    int fe_watch;                /* pvhost watch handle, -1: none */
    int seen;                    /* scan mark */
    unsigned connects;           /* times connected (a frontend that restarts: > 1) */
    int reoffered;               /* Connected offered again after the frontend's unbind
                                    (xb_ops.reoffer), no connection yet */
    int late;                    /* appeared after xenbus_new (hvmd may be sandboxed: a type
                                    that must open a file for it cannot) */
    struct ratelimit rl;
    void *priv;                  /* the type's, priv_size bytes, zeroed at creation */
};

struct xb_ops {
    const char *type;            /* the backend directory's name: "vkbd", "console", ... */
    size_t priv_size;
    /* Is device ID (frontend FE_PATH) this backend's? Not: it is left alone, never written
     * (console 0 is xenconsoled's). NULL: every device is. */
    int (*claim)(void *opaque, unsigned id, const char *fe_path);
    /* A new device, before InitWait: write the backend's feature nodes. 0 or a negative
     * errno (the device goes to Closed). */
    int (*setup)(void *opaque, struct xb_dev *d);
    /* The frontend is ready (Initialised or Connected): read its nodes, map its rings, bind
     * its event channel. 0: the backend goes Connected; a negative errno: the type has
     * undone what it did, the backend goes Closing. */
    int (*connect)(void *opaque, struct xb_dev *d);
    /* Undo connect (unmap, unbind). Only called after a connect that succeeded. */
    void (*disconnect)(void *opaque, struct xb_dev *d);
    /* The device is going away (after disconnect if it was connected). May be NULL. */
    void (*release)(void *opaque, struct xb_dev *d);
    /* A connected frontend that drops straight to Closed (no Closing first) while the device
     * stays online: its driver was unbound or unloaded in the guest (Linux: blkfront's module
     * removed). Linux's frontend drivers write no state when bound again and reconnect only
     * to a backend they see Connected, so with REOFFER set the backend, after its Closed,
     * goes Connected again without a connection (the nodes of the last one still there) and
     * connects when the frontend comes back with Initialised or Connected. A frontend that
     * comes back through Initialising is served as ever (InitWait). */
    int reoffer;
};

/* Serve OPS->type for VM's domain on VM->pv: write device-model/D/backends/TYPE, take the
 * devices already there (now: before the sandbox, so a type's setup may still open files),
 * and watch backend/TYPE/D. NULL with errno set on failure. */
struct xenbus *xenbus_new(struct vm *vm, const struct xb_ops *ops, void *opaque);
/* Disconnect and release every device, drop the watches (the nodes stay: libxl removes them). */
void xenbus_free(struct xenbus *b);

/* The devices of B (for tests and the types' own lookups): N-th or NULL. */
struct xb_dev *xenbus_dev(struct xenbus *b, unsigned n);
unsigned xenbus_count(const struct xenbus *b);
/* A rescan, as if the watches had fired (tests: after the fake's queue overflowed). */
void xenbus_rescan(struct xenbus *b);

/* For the types: read the frontend's node NAME as a decimal in [0, MAX]. 0, -ENOENT or
 * -EINVAL. */
int xb_fe_uint(struct xb_dev *d, const char *name, uint64_t max, uint64_t *v);
/* Write the backend's node NAME. */
int xb_be_printf(struct xb_dev *d, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The frontend did something the backend cannot serve: log it (rate-limited) and close the
 * device (disconnect, Closing). Safe from the type's event handler. */
void xb_fail(struct xb_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *xb_state_name(enum xb_state s);

#endif

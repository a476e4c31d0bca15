/* SPDX-License-Identifier: GPL-2.0-only */
/* What a userspace PV backend needs of the host: xenstore (read, write, directory, watches),
 * event channels (bind to a frontend's port, notify, unbind) and grants (map a frontend's
 * pages, copy to and from granted pages). Two implementations, as for hv.h: dm/xs.c
 * (libxenstore, libxenevtchn, libxengnttab: the real thing, its handles opened before the
 * sandbox) and tests/lib/fakepv.c (an in-process xenstore, event channels and grant table
 * that unit tests and fuzzers drive as a frontend would, hostile ones included).
 *
 * Watches and events are delivered on the loop's thread: the implementation calls
 * pvhost_watch_fired / pvhost_port_fired, which dispatch to the callback registered for the
 * token or port. A callback may add or remove watches and ports, itself too. */
#ifndef HVMD_PVHOST_H
#define HVMD_PVHOST_H

#include <stddef.h>
#include <stdint.h>
#include "dm/util.h"

#define PVHOST_PAGE 4096
#define PVHOST_MAX_WATCHES 64
#define PVHOST_MAX_PORTS 64

/* One grant copy segment: LEN bytes between LOCAL and page REF of DOMID at OFFSET (offset +
 * len within the page). TO_GUEST: local -> granted page (the grant must be writable). STATUS:
 * 0 or a negative errno after the copy. */
struct pvhost_copy {
    uint32_t domid, ref;
    uint16_t offset, len;
    int to_guest;
    void *local;
    int status;
};

struct pvhost_ops {
    /* xenstore, absolute paths. read: the value, NUL-terminated, into BUF (LEN bytes):
     * 0, -ENOENT, -E2BIG (longer than LEN - 1) or another -errno. */
    int (*read)(void *be, const char *path, char *buf, size_t len);
    int (*write)(void *be, const char *path, const char *val);
    int (*rm)(void *be, const char *path);
    /* The names under PATH, as one malloc'd block (*NAMES, free() it), *N of them. */
    int (*directory)(void *be, const char *path, char ***names, unsigned *n);
    /* PATH owned by OWNER (others: no access), readable by READER ("n<owner>", "r<reader>"). */
    int (*set_perms)(void *be, const char *path, uint32_t owner, uint32_t reader);
    int (*watch)(void *be, const char *path, const char *token);
    int (*unwatch)(void *be, const char *path, const char *token);
    /* Event channels: bind to DOMID's port REMOTE; the local port, or a negative errno. */
    int (*bind)(void *be, uint32_t domid, uint32_t remote);
    void (*unbind)(void *be, unsigned port);
    int (*notify)(void *be, unsigned port);
    /* Grants: map N pages REFS of DOMID contiguously, writable or not; NULL with errno. */
    void *(*map)(void *be, uint32_t domid, const uint32_t *refs, unsigned n, int writable);
    void (*unmap)(void *be, void *addr, unsigned n);
    /* Do N segments; 0 if the call was made (look at each status), or a negative errno. */
    int (*copy)(void *be, struct pvhost_copy *segs, unsigned n);
};

typedef void pvhost_watch_fn(void *opaque, const char *path);
typedef void pvhost_port_fn(void *opaque);

struct pvhost_watch {
    char *path;
    pvhost_watch_fn *fn;
    void *opaque;
};

struct pvhost_port {
    int port;            /* -1: free */
    pvhost_port_fn *fn;
    void *opaque;
};

struct pvhost {
    const struct pvhost_ops *ops;
    void *be;
    struct pvhost_watch watches[PVHOST_MAX_WATCHES]; /* the token is the index */
    struct pvhost_port ports[PVHOST_MAX_PORTS];
    uint64_t events, watch_events;                   /* delivered */
};

/* Set P up over OPS/BE (no watches, no ports). */
void pvhost_init(struct pvhost *p, const struct pvhost_ops *ops, void *be);
/* Drop every watch and port still registered (at exit). */
void pvhost_fini(struct pvhost *p);

/* Watch PATH (and everything under it): FN(OPAQUE, path that changed) runs on each change,
 * and once soon after this call, as xenstore does. A handle >= 0 or a negative errno. */
int pvhost_watch(struct pvhost *p, const char *path, pvhost_watch_fn *fn, void *opaque) WUR;
void pvhost_unwatch(struct pvhost *p, int handle);

/* Bind to DOMID's port REMOTE; FN(OPAQUE) runs when the frontend notifies. The local port
 * or a negative errno. */
int pvhost_bind(struct pvhost *p, uint32_t domid, uint32_t remote, pvhost_port_fn *fn,
                void *opaque) WUR;
void pvhost_unbind(struct pvhost *p, int port);
int pvhost_notify(struct pvhost *p, int port);

/* For the implementations: a watch fired (TOKEN as given to ops->watch), an event came. */
void pvhost_watch_fired(struct pvhost *p, const char *path, const char *token);
void pvhost_port_fired(struct pvhost *p, unsigned port);

/* xenstore helpers over ops: printf-style paths. */
int pvhost_read(struct pvhost *p, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An unsigned decimal no larger than MAX (no sign, no junk, no leading spaces): 0 with *V,
 * -ENOENT if absent, -EINVAL if not such a number. */
int pvhost_read_uint(struct pvhost *p, uint64_t max, uint64_t *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int pvhost_write(struct pvhost *p, const char *val, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pvhost_printf(struct pvhost *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* An in-process stand-in for what PV backends use of the host (dm/pvhost.h), as
 * tests/lib/fakexen.h is for the hypervisor: a xenstore tree with watches, event channels
 * between the backend and a frontend the test plays, and a grant table over a pool of
 * "guest" pages. Watches and events queue up and are delivered by fx_pv_run(), as hvmd's loop
 * would deliver them; a test or a fuzzer writes the frontend's nodes, grants pages, notifies,
 * and looks at what the backend wrote. Every frontend-side call may be hostile: the fake
 * checks what Xen checks (a grant is granted, writable, to this domain; a port is unbound)
 * and nothing more. */
#ifndef HVMD_TESTS_FAKEPV_H
#define HVMD_TESTS_FAKEPV_H

#include <stddef.h>
#include <stdint.h>
#include "dm/pvhost.h"

#define FXPV_PAGES 64        /* the frontend's pool of pages */
#define FXPV_GRANTS 2048      /* (qdisk's persistent grants: more than it keeps mapped) */
#define FXPV_PORTS 32
#define FXPV_QUEUE 4096

struct fx_pv_node;

struct fakepv {
    struct pvhost pv;            /* what the backend sees: put &fp->pv in vm->pv */
    uint32_t domid;              /* the frontend's domain */
    /* xenstore */
    struct fx_pv_node *nodes;
    unsigned n_nodes, cap_nodes;
    struct { char *path, *token; } watches[PVHOST_MAX_WATCHES * 2];
    unsigned n_watches;
    struct { char *path, *token; } queue[FXPV_QUEUE];
    unsigned q_head, q_len;
    unsigned xs_fail_writes;     /* fail the backend's next N writes with -EIO */
    uint64_t xs_writes;          /* the backend's writes */
    /* event channels: frontend port i+1 <-> backend port 1000+i */
    struct { int allocated, bound; unsigned to_frontend; int pending; } ports[FXPV_PORTS];
    unsigned binds_live;
    /* grants: ref i */
    int memfd;
    uint8_t *pages;              /* the frontend's view of its FXPV_PAGES pages */
    struct { int used, writable; unsigned page; } grants[FXPV_GRANTS];
    unsigned maps_live;          /* pages the backend has mapped now */
    uint64_t copies;             /* copy segments done */
};

struct fakepv *fx_pv_new(uint32_t domid);
void fx_pv_free(struct fakepv *fp);

/* Deliver queued watch events and notifications, as the loop would (bounded: at most MAX
 * callbacks, 0 for all that queue up, up to 100000). Returns the number delivered. */
unsigned fx_pv_run(struct fakepv *fp, unsigned max);

/* xenstore as anyone (the toolstack, the frontend): fires watches. VAL NULL: remove. */
void fx_pv_write(struct fakepv *fp, const char *path, const char *val);
void fx_pv_writef(struct fakepv *fp, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* What libxl__device_add writes for a device of frontend domain FE_DOMID (the fake's domain),
 * in its order: FE/backend, FE/backend-id 0, FE/state 1, then FE_EXTRA; BE/frontend,
 * BE/frontend-id, BE/online 1, then BE_EXTRA, and BE/state 1 last. Each EXTRA: key, value
 * pairs (keys relative to the directory), NULL-terminated, or NULL for none. */
void fx_pv_add_device(struct fakepv *fp, const char *be, const char *fe,
                      const char *const *fe_extra, const char *const *be_extra);
/* The value at PATH or NULL (the fake's own string: copy it before the next write). */
const char *fx_pv_read(struct fakepv *fp, const char *path);
/* Perms as last set by the backend: 1 if PATH is owned by OWNER and readable by READER. */
int fx_pv_perms(struct fakepv *fp, const char *path, uint32_t owner, uint32_t reader);

/* The frontend's side. */
int fx_pv_alloc_port(struct fakepv *fp);           /* an unbound port, or -1 */
void fx_pv_notify(struct fakepv *fp, int port);    /* frontend -> backend (queued) */
unsigned fx_pv_notified(struct fakepv *fp, int port); /* backend -> frontend notifications */
int fx_pv_grant(struct fakepv *fp, unsigned page, int writable); /* a ref, or -1 */
void fx_pv_revoke(struct fakepv *fp, int ref);
static inline uint8_t *fx_pv_page(struct fakepv *fp, unsigned page)
{
    return fp->pages + (size_t)page * PVHOST_PAGE;
}

#endif

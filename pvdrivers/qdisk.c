/* SPDX-License-Identifier: GPL-2.0-only */
/* The PV block backend libxl calls qdisk (Xen's xen/io/blkif.h; Linux's xen-blkfront), over
 * dm/block.c: backend/qdisk/D/N with params "aio:PATH" or "raw:PATH" (a raw image), mode r|w.
 * libxl hands a disk to the device model as qdisk when xl.cfg says backendtype=qdisk, or for
 * formats dom0's blkback cannot serve (pvdrivers/README.md).
 *
 * Served: the native (x86_64) ring ABI on one page (ring-ref, event-channel), READ and WRITE
 * of 1..11 segments, FLUSH_DISKCACHE (ordered after the writes it covers by dm/block.c);
 * data moves by grant copy into a private buffer, never through a mapping the frontend could
 * change under us. At most one ring's worth of requests is in flight; a request is copied
 * once from the ring and checked: an unknown operation gets BLKIF_RSP_EOPNOTSUPP, zero or too
 * many segments, a sector range past the image, a write to a read-only disk or a grant that
 * does not copy get BLKIF_RSP_ERROR. A producer index more than a ring ahead closes the device.
 * A disconnect waits for the requests in flight before the ring is unmapped.
 *
 * Not yet (said plainly): the x86_32 ABI (a "protocol" of x86_32-abi closes the device),
 * multi-page rings (max-ring-page-order not offered), several queues, indirect segments,
 * persistent grants, discard, write barriers (none offered, so Linux does not use them);
 * CD-ROMs (device-type cdrom: the emulated IDE CD-ROM serves them, and Linux's blkfront leaves
 * an HVM guest's CD-ROMs alone); image formats other than raw; disks hot-plugged after
 * start-up (xl block-attach: the sandbox opens no file); -machine xenpv.
 *
 * State: none saved (a blkfront reconnects and resubmits after restore). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
/* ring.h's barriers, for x86: full (the req_event / rsp_event checks), compiler-only for the
 * ordered loads and stores */
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#include "dm/block.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/pvhost.h"
#include "dm/qmp.h"
#include "dm/vm.h"
#include "pvdrivers/xenbus.h"

#define QD_RING_MAX __CONST_RING_SIZE(blkif, PVHOST_PAGE)
#define QD_SEG_MAX BLKIF_MAX_SEGMENTS_PER_REQUEST

struct qdisk_dev;

struct qd_req {
    struct blk_req br;
    struct qdisk_dev *q;
    int used;
    uint64_t id;
    uint8_t op;
    unsigned nseg;
    struct { uint32_t ref; uint16_t off, len; } seg[QD_SEG_MAX];
    size_t len;
    uint8_t *buf;
    /* the host failed it and the disk's policy said stop: kept until QMP cont (dm/vm.h) */
    struct vm_kept kept;
    int kept_err;
    int retried;
};

struct qdisk_dev {
    struct xb_dev *d;
    struct qdisk *owner;
    struct blk *blk;
    int readonly;
    void *page;
    blkif_back_ring_t ring;
    int port;
    int draining, processing;
    unsigned inflight;
    struct qd_req reqs[QD_RING_MAX];
    uint64_t done, errors;
};

struct qdisk {
    struct vm *vm;
    struct xenbus *bus;
};

/* ---- responses ---- */

static void respond(struct qdisk_dev *q, uint64_t id, uint8_t op, int16_t status)
{
    struct blkif_response rsp;
    memset(&rsp, 0, sizeof(rsp));
    rsp.id = id;
    rsp.operation = op;
    rsp.status = status;
    memcpy(RING_GET_RESPONSE(&q->ring, q->ring.rsp_prod_pvt), &rsp, sizeof(rsp));
    q->ring.rsp_prod_pvt++;
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify && pvhost_notify(q->d->pv, q->port) < 0)
        log_guest(&q->d->rl, "qdisk", "notify failed");
    if (status != BLKIF_RSP_OKAY)
        q->errors++;
    q->done++;
}

static void process(struct qdisk_dev *q);

static int copy_segs(struct qdisk_dev *q, struct qd_req *r, int to_guest)
{
    struct pvhost_copy c[QD_SEG_MAX];
    size_t at = 0;
    memset(c, 0, sizeof(c));
    for (unsigned i = 0; i < r->nseg; i++) {
        c[i].domid = q->d->fe_domid;
        c[i].ref = r->seg[i].ref;
        c[i].offset = r->seg[i].off;
        c[i].len = r->seg[i].len;
        c[i].to_guest = to_guest;
        c[i].local = r->buf + at;
        at += r->seg[i].len;
    }
    if (q->d->pv->ops->copy(q->d->pv->be, c, r->nseg) < 0)
        return -EIO;
    for (unsigned i = 0; i < r->nseg; i++) {
        if (c[i].status < 0) {
            log_guest(&q->d->rl, "qdisk", "grant %u of request %llu does not copy",
                      r->seg[i].ref, (unsigned long long)r->id);
            return -EIO;
        }
    }
    return 0;
}

static void finish(struct qd_req *r, int ret)
{
    struct qdisk_dev *q = r->q;
    int16_t st = ret < 0 ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
    if (!q->draining) {
        if (ret >= 0 && r->op == BLKIF_OP_READ && copy_segs(q, r, 1) < 0)
            st = BLKIF_RSP_ERROR;
        respond(q, r->id, r->op, st);
    }
    r->used = 0;
    q->inflight--;
    if (!q->draining && !q->processing)
        process(q); /* a slot is free: requests that waited for one */
}

/* The host failed R with *RET (< 0): the disk's policy (-io-error; dm/block.h) decides. 1: R
 * is kept (stop: the guest is paused, R submitted again at cont), 0: finish R with *RET
 * (report: the error; ignore: success). */
static int host_error(struct qd_req *r, int *ret)
{
    struct qdisk_dev *q = r->q;
    struct vm *vm = q->owner->vm;
    enum blk_action a = blk_error_action(q->blk, r->br.op, *ret);
    int retried = r->retried;
    char name[48];
    const char *slash = strrchr(q->d->be_path, '/');
    r->retried = 0;
    if (q->draining || (a == BLK_ACT_STOP && retried && r->br.op == BLK_FLUSH))
        a = BLK_ACT_REPORT; /* a failed flush stays failed (block.h): the second goes to the guest */
    snprintf(name, sizeof(name), "qdisk-%.32s", slash ? slash + 1 : q->d->be_path);
    qmp_block_io_error(vm->qmp, name, r->br.op, a, *ret);
    if (a == BLK_ACT_IGNORE)
        *ret = r->br.op == BLK_FLUSH ? 0 : (int)r->br.len;
    if (a != BLK_ACT_STOP)
        return 0;
    r->kept_err = *ret;
    vm_io_stop(vm, &r->kept);
    return 1;
}

static void blk_done(struct blk_req *br, int ret)
{
    struct qd_req *r = container_of(br, struct qd_req, br);
    if (ret < 0 && host_error(r, &ret))
        return;
    r->retried = 0;
    finish(r, ret);
}

/* ---- requests ---- */

static void submit(struct qdisk_dev *q, struct qd_req *r, enum blk_op op, uint64_t off);

/* QMP cont: the kept request again, as it was (a write's data is still in its buffer). */
static void retry(struct vm_kept *k)
{
    struct qd_req *r = container_of(k, struct qd_req, kept);
    r->retried = 1;
    submit(r->q, r, r->br.op, r->br.off);
}

static void submit(struct qdisk_dev *q, struct qd_req *r, enum blk_op op, uint64_t off)
{
    memset(&r->br, 0, sizeof(r->br));
    r->br.op = op;
    r->br.off = off;
    r->br.buf = op == BLK_FLUSH ? NULL : r->buf;
    r->br.len = op == BLK_FLUSH ? 0 : r->len;
    r->br.done = blk_done;
    r->br.opaque = r;
    r->kept.retry = retry;
    int s = blk_submit(q->blk, &r->br);
    int ret = s == 1 ? r->br.ret : s;
    if (s == 1 && ret < 0 && host_error(r, &ret))
        return;
    if (s != 0) {
        r->retried = 0;
        finish(r, ret);
    }
}

static void dispatch(struct qdisk_dev *q, const struct blkif_request *req)
{
    struct qd_req *r = NULL;
    for (unsigned i = 0; i < QD_RING_MAX; i++) {
        if (!q->reqs[i].used) {
            r = &q->reqs[i];
            break;
        }
    }
    if (!r) { /* cannot happen: the ring holds no more than QD_RING_MAX unanswered */
        respond(q, req->id, req->operation, BLKIF_RSP_ERROR);
        return;
    }
    r->used = 1;
    r->q = q;
    r->id = req->id;
    r->op = req->operation;
    r->nseg = 0;
    r->len = 0;
    q->inflight++;
    switch (req->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE: {
        if (req->nr_segments == 0 || req->nr_segments > QD_SEG_MAX) {
            log_guest(&q->d->rl, "qdisk", "request %llu: %u segments",
                      (unsigned long long)req->id, req->nr_segments);
            finish(r, -EINVAL);
            return;
        }
        if (req->operation == BLKIF_OP_WRITE && q->readonly) {
            finish(r, -EROFS);
            return;
        }
        for (unsigned i = 0; i < req->nr_segments; i++) {
            const struct blkif_request_segment *s = &req->seg[i];
            if (s->first_sect > s->last_sect || s->last_sect >= PVHOST_PAGE / BLK_SECTOR) {
                log_guest(&q->d->rl, "qdisk", "request %llu: segment %u sectors %u..%u",
                          (unsigned long long)req->id, i, s->first_sect, s->last_sect);
                finish(r, -EINVAL);
                return;
            }
            r->seg[i].ref = s->gref;
            r->seg[i].off = (uint16_t)(s->first_sect * BLK_SECTOR);
            r->seg[i].len = (uint16_t)((s->last_sect - s->first_sect + 1) * BLK_SECTOR);
            r->len += r->seg[i].len;
        }
        r->nseg = req->nr_segments;
        if (req->sector_number > blk_size(q->blk) / BLK_SECTOR ||
            req->sector_number * BLK_SECTOR + r->len > blk_size(q->blk)) {
            finish(r, -EINVAL); /* past the end of the image */
            return;
        }
        if (req->operation == BLKIF_OP_WRITE && copy_segs(q, r, 0) < 0) {
            finish(r, -EIO);
            return;
        }
        submit(q, r, req->operation == BLKIF_OP_READ ? BLK_READ : BLK_WRITE,
               req->sector_number * BLK_SECTOR);
        return;
    }
    case BLKIF_OP_FLUSH_DISKCACHE:
        submit(q, r, BLK_FLUSH, 0);
        return;
    default:
        /* barrier, discard, indirect: not offered */
        log_guest(&q->d->rl, "qdisk", "request %llu: operation %u not supported",
                  (unsigned long long)req->id, req->operation);
        r->used = 0;
        q->inflight--;
        respond(q, req->id, req->operation, BLKIF_RSP_EOPNOTSUPP);
        return;
    }
}

static void process(struct qdisk_dev *q)
{
    if (!q->page || q->draining)
        return;
    q->processing = 1;
    for (unsigned pass = 0; pass < 4 && q->page; pass++) {
        RING_IDX rp = q->ring.sring->req_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (RING_REQUEST_PROD_OVERFLOW(&q->ring, rp)) {
            q->processing = 0;
            xb_fail(q->d, "req_prod %u is more than a ring ahead of %u: closing", rp,
                    q->ring.rsp_prod_pvt);
            return;
        }
        while (q->page && q->ring.req_cons != rp && q->inflight < QD_RING_MAX) {
            struct blkif_request req;
            memcpy(&req, RING_GET_REQUEST(&q->ring, q->ring.req_cons), sizeof(req));
            q->ring.req_cons++;
            dispatch(q, &req);
        }
        if (q->inflight >= QD_RING_MAX)
            break; /* a completion calls us again */
        int more;
        RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
        if (!more)
            break;
    }
    q->processing = 0;
}

static void on_event(void *opaque)
{
    process(opaque);
}

/* ---- XenBus ---- */

static int qd_claim(void *opaque, unsigned id, const char *fe_path)
{
    struct qdisk *s = opaque;
    char type[16];
    if (pvhost_read(s->vm->pv, type, sizeof(type), "/local/domain/0/backend/qdisk/%u/%u/device-type",
                    s->vm->domid, id) == 0 && !strcmp(type, "cdrom"))
        return 0; /* the emulated CD-ROM's twin: see the top */
    return 1;
}

static int qd_setup(void *opaque, struct xb_dev *d)
{
    struct qdisk *s = opaque;
    struct qdisk_dev *q = d->priv;
    char params[512], mode[8], err[256];
    q->d = d;
    q->owner = s;
    q->port = -1;
    if (d->late) {
        log_warn("%s: a disk added after start-up is not served (no file is opened under the "
                 "sandbox)", d->be_path);
        return -EPERM;
    }
    if (pvhost_read(d->pv, params, sizeof(params), "%s/params", d->be_path) < 0) {
        log_warn("%s: no params", d->be_path);
        return -EINVAL;
    }
    const char *path = params;
    char *colon = strchr(params, ':');
    if (colon && params[0] != '/') {
        *colon = 0;
        if (strcmp(params, "aio") && strcmp(params, "raw")) {
            log_warn("%s: format %s: only raw images are served", d->be_path, params);
            return -EOPNOTSUPP;
        }
        path = colon + 1;
    }
    q->readonly = !(pvhost_read(d->pv, mode, sizeof(mode), "%s/mode", d->be_path) == 0 &&
                    mode[0] == 'w');
    struct blk_opts o = { .path = path, .fd = -1, .readonly = q->readonly,
                          .cache = BLK_CACHE_WRITEBACK,
                          /* no -drive for it: hvmd's -io-error (default report) */
                          .werror = s->vm->cfg ? (enum blk_policy)s->vm->cfg->werror : 0,
                          .rerror = s->vm->cfg ? (enum blk_policy)s->vm->cfg->rerror : 0 };
    int r = blk_open(&q->blk, s->vm->loop, &o, err, sizeof(err));
    if (r < 0) {
        log_warn("%s: %s", d->be_path, err);
        return r;
    }
    for (unsigned i = 0; i < QD_RING_MAX; i++) {
        q->reqs[i].buf = blk_buf_alloc(QD_SEG_MAX * PVHOST_PAGE);
        if (!q->reqs[i].buf)
            return -ENOMEM;
    }
    if (xb_be_printf(d, "feature-flush-cache", "1") < 0)
        return -EIO;
    log_info("%s: %s (%s, %llu sectors)", d->be_path, path, q->readonly ? "read-only" : "read-write",
             (unsigned long long)(blk_size(q->blk) / BLK_SECTOR));
    return 0;
}

static int qd_connect(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    char proto[32];
    uint64_t ref, port, order;
    if (!q->blk)
        return -ENODEV;
    if (pvhost_read(d->pv, proto, sizeof(proto), "%s/protocol", d->fe_path) == 0 &&
        strcmp(proto, XEN_IO_PROTO_ABI_NATIVE)) {
        log_guest(&d->rl, "qdisk", "protocol %s is not served (only %s)", proto,
                  XEN_IO_PROTO_ABI_NATIVE);
        return -EPROTONOSUPPORT;
    }
    if (xb_fe_uint(d, "ring-page-order", 16, &order) == 0 && order != 0) {
        log_guest(&d->rl, "qdisk", "ring-page-order %llu was not offered", (unsigned long long)order);
        return -EINVAL;
    }
    if (xb_fe_uint(d, "ring-ref", UINT32_MAX, &ref) < 0 &&
        xb_fe_uint(d, "ring-ref0", UINT32_MAX, &ref) < 0) {
        log_guest(&d->rl, "qdisk", "ring-ref missing or not a number");
        return -EINVAL;
    }
    if (xb_fe_uint(d, "event-channel", UINT32_MAX, &port) < 0) {
        log_guest(&d->rl, "qdisk", "event-channel missing or not a number");
        return -EINVAL;
    }
    uint32_t r32 = (uint32_t)ref;
    q->page = d->pv->ops->map(d->pv->be, d->fe_domid, &r32, 1, 1);
    if (!q->page) {
        log_guest(&d->rl, "qdisk", "ring-ref %llu cannot be mapped", (unsigned long long)ref);
        return -EINVAL;
    }
    BACK_RING_INIT(&q->ring, (blkif_sring_t *)q->page, PVHOST_PAGE);
    /* the frontend's indexes as they are now (a frontend that resumes may not start at 0) */
    q->ring.req_cons = q->ring.rsp_prod_pvt = q->ring.sring->rsp_prod;
    q->port = pvhost_bind(d->pv, d->fe_domid, (uint32_t)port, on_event, q);
    if (q->port < 0) {
        int r = q->port;
        q->port = -1;
        d->pv->ops->unmap(d->pv->be, q->page, 1);
        q->page = NULL;
        log_guest(&d->rl, "qdisk", "event-channel %llu cannot be bound", (unsigned long long)port);
        return r;
    }
    /* what blkfront reads when it sees Connected */
    xb_be_printf(d, "sectors", "%llu", (unsigned long long)(blk_size(q->blk) / BLK_SECTOR));
    xb_be_printf(d, "info", "%u", q->readonly ? VDISK_READONLY : 0);
    xb_be_printf(d, "sector-size", "%u", BLK_SECTOR);
    xb_be_printf(d, "physical-sector-size", "%u", BLK_SECTOR);
    process(q); /* requests queued before we were connected */
    return 0;
}

static void qd_disconnect(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    /* requests in flight finish (their buffers are ours) before the ring goes; kept ones
     * are not retried */
    q->draining = 1;
    for (unsigned i = 0; i < QD_RING_MAX; i++) {
        struct qd_req *r = &q->reqs[i];
        if (r->used && r->kept.listed) {
            vm_io_forget(q->owner->vm, &r->kept);
            finish(r, r->kept_err);
        }
    }
    if (q->blk)
        blk_drain(q->blk);
    q->draining = 0;
    if (q->port >= 0)
        pvhost_unbind(d->pv, q->port);
    q->port = -1;
    if (q->page)
        d->pv->ops->unmap(d->pv->be, q->page, 1);
    q->page = NULL;
}

static void qd_release(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    if (q->blk)
        blk_close(q->blk);
    q->blk = NULL;
    for (unsigned i = 0; i < QD_RING_MAX; i++) {
        free(q->reqs[i].buf);
        q->reqs[i].buf = NULL;
    }
}

static const struct xb_ops qd_ops = {
    .type = "qdisk",
    .priv_size = sizeof(struct qdisk_dev),
    .claim = qd_claim,
    .setup = qd_setup,
    .connect = qd_connect,
    .disconnect = qd_disconnect,
    .release = qd_release,
};

static void qd_destroy(void *state)
{
    struct qdisk *s = state;
    if (!s)
        return;
    xenbus_free(s->bus);
    free(s);
}

static int qd_create(struct vm *vm, void **state)
{
    *state = NULL;
    if (!vm->pv)
        return 0;
    struct qdisk *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->vm = vm;
    s->bus = xenbus_new(vm, &qd_ops, s);
    if (!s->bus) {
        int r = -errno;
        free(s);
        return r < 0 ? r : -EIO;
    }
    *state = s;
    return 0;
}

static int qd_save(void *state, struct snap_writer *w) { return 0; }
static int qd_load(void *state, struct snap_reader *r, int commit) { return 0; }

struct xenbus *qdisk_bus(void *state);
struct xenbus *qdisk_bus(void *state)
{
    return state ? ((struct qdisk *)state)->bus : NULL;
}

/* For tests: the medium of the disk D serves (error injection). */
struct blk *qdisk_blk(struct xb_dev *d);
struct blk *qdisk_blk(struct xb_dev *d)
{
    return d ? ((struct qdisk_dev *)d->priv)->blk : NULL;
}

DEVICE(pv_qdisk, "qdisk", 1, qd_create, qd_destroy, qd_save, qd_load);

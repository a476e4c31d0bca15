/* SPDX-License-Identifier: GPL-2.0-only */
/* The PV block backend libxl calls qdisk (Xen's xen/io/blkif.h; Linux's xen-blkfront), over
 * dm/block.c: backend/qdisk/D/N with params "aio:PATH" or "raw:PATH" (a raw image), mode r|w.
 * libxl hands a disk to the device model as qdisk when xl.cfg says backendtype=qdisk, or for
 * formats dom0's blkback cannot serve (pvdrivers/README.md).
 *
 * Served:
 *  - the ring ABIs of the frontend's "protocol" node: x86_64-abi (also when the node is
 *    absent: hvmd's native), x86_32-abi (4-byte aligned 64-bit fields: id at 4, sector at
 *    12, 108-byte ring entries, 12-byte responses); any other string closes the device.
 *    Requests are read by offset from a private copy of the ring entry (abi[] below), never
 *    as a struct over the shared page;
 *  - multi-page rings: max-ring-page-order QD_MAX_ORDER offered, ring-page-order and
 *    ring-ref0..N-1 read (ring-ref for one page);
 *  - several queues: multi-queue-max-queues QD_MAX_QUEUES offered; a frontend asking for more
 *    than one writes queue-N/ring-ref* and queue-N/event-channel, one ring and one event
 *    channel each, all on the one disk and the one loop;
 *  - READ and WRITE of 1..11 segments; INDIRECT (feature-max-indirect-segments QD_MAX_SEGS)
 *    of 1..QD_MAX_SEGS segments whose descriptors are grant-copied out of the indirect pages
 *    once; the response carries the indirect operation, as blkfront checks;
 *  - FLUSH_DISKCACHE (ordered after the writes it covers by dm/block.c; segments, if any, are
 *    written after the flush) and WRITE_BARRIER (feature-barrier): the queue takes no further
 *    request until it is done; a flush first (every earlier write complete and durable), then
 *    its data, if any, written through (FUA);
 *  - DISCARD (feature-discard, discard-granularity 4096, discard-alignment 0; not offered on a
 *    read-only disk or when the toolstack's discard-enable is 0): a hole punched through
 *    dm/block.c; refused (BLKIF_RSP_ERROR) on a read-only disk, EOPNOTSUPP where not offered
 *    or where the file system cannot;
 *  - persistent grants (feature-persistent, when the frontend says so too): the data grants a
 *    queue sees are mapped once, writable, and kept (at most QD_PGNT_MAX per queue; past that,
 *    or for a grant that does not map, grant copy as without the feature), all unmapped at
 *    disconnect. The image is read into and written from the mappings themselves (preadv /
 *    pwritev over them, dm/block.c's iov requests): the frontend can change such a page
 *    during the I/O, which changes only what it reads or writes of its own raw disk (as with
 *    a kernel backend); no image metadata passes through them. An indirect request's
 *    descriptors are copied out of a mapped indirect page once, then checked, as from a
 *    grant copy.
 * Data otherwise moves by grant copy into a private buffer.
 *
 * Hostile frontends: every request is copied once out of the ring and checked; an unknown
 * operation gets BLKIF_RSP_EOPNOTSUPP; zero or too many segments, a sector range outside a
 * page or past the image, a write to a read-only disk, a grant (data or indirect page) that
 * does not copy get BLKIF_RSP_ERROR. A producer index that runs ahead of the ring closes the
 * device (from the loop, never from inside a completion). At most QD_SLOTS requests per queue
 * and QD_MAX_BYTES of buffers per disk are in flight, at most QD_BUDGET requests are taken
 * per queue per callback (the rest from a timer, so one notification cannot hold the loop),
 * and every message about the guest is rate-limited. A disconnect waits for the requests in
 * flight before anything of the frontend's is unmapped.
 *
 * Not yet (said plainly): CD-ROMs (device-type cdrom: the emulated IDE CD-ROM serves them,
 * and Linux's blkfront leaves an HVM guest's CD-ROMs alone); image formats other than raw;
 * disks hot-plugged after start-up (xl block-attach: the sandbox opens no file); discard
 * ordered against writes still in flight on an O_DIRECT image (the guest's block layer does
 * not order them either); -machine xenpv.
 *
 * State: none saved. A save (qd_save) completes the requests in flight first and then takes
 * nothing more from the rings until QMP cont: what the host did is all done before the state
 * is written, and nothing is done behind it. The guest (Linux's blkfront, suspended through
 * control/shutdown) either resumes on a new hvmd after a restore or migration, where it
 * connects a new ring and sends again every request it has not seen answered (blkfront_resume
 * and blkif_recover: a write done before the save is done again, with the same data, before
 * the guest learns it was done; a request still waiting in the old ring is done then, once),
 * or it resumes here after a cancelled suspend (a failed migration, xl save -c) on the same
 * ring, finding the answers on it, and libxl's cont lets qdisk take the rest. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <xen/xen.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#include "dm/block.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/pvhost.h"
#include "dm/qmp.h"
#include "dm/vm.h"
#include "pvdrivers/xenbus.h"

#define QD_MAX_ORDER 4                  /* rings of up to 16 pages */
#define QD_MAX_PAGES (1u << QD_MAX_ORDER)
#define QD_MAX_QUEUES 4
#define QD_SEG_DIRECT BLKIF_MAX_SEGMENTS_PER_REQUEST
#define QD_MAX_SEGS 256                 /* indirect: 1 MiB requests */
#define QD_SEG_BYTES 8                  /* struct blkif_request_segment, both ABIs */
#define QD_SEGS_PER_PAGE (PVHOST_PAGE / QD_SEG_BYTES)
#define QD_SLOTS 64                     /* requests in flight per queue */
#define QD_BUDGET 128                   /* requests taken per queue per callback */
#define QD_MAX_BYTES (16u << 20)        /* request buffers per disk */
#define QD_BUF_KEEP (64u << 10)         /* larger buffers are freed after their request */
#define QD_PGNT_MAX 1024                /* persistently mapped grants per queue */
#define QD_PGNT_HASH 2048               /* open addressing, > QD_PGNT_MAX */
#define QD_DISCARD_GRANULARITY 4096

/* The shared ring page: four indexes, then the entries after a 64-byte header. */
#define SR_REQ_PROD 0
#define SR_REQ_EVENT 4
#define SR_RSP_PROD 8
#define SR_RSP_EVENT 12
#define SR_HEADER 64

/* Where the fields are in one ABI's ring entry. Common to both: operation at 0,
 * nr_segments (indirect: indirect_op) at 1, indirect nr_segments (16 bits) at 2; segments of
 * 8 bytes (gref, first_sect, last_sect); a response's id at 0, operation at 8, status at 10. */
struct qd_abi {
    const char *name;
    unsigned entry;       /* ring entry: the larger of request and response */
    unsigned rsp;         /* response size */
    unsigned id, sector;  /* read/write, flush, barrier, discard, indirect alike */
    unsigned seg;         /* read/write: seg[0]; discard: nr_sectors */
    unsigned ind_grefs;   /* indirect: indirect_grefs[0] */
};

static const struct qd_abi abi_x86_64 = {
    XEN_IO_PROTO_ABI_X86_64, 112, 16, 8, 16, 24, 28,
};
/* i386 aligns 64-bit fields to 4 (checked against xen/io/blkif.h compiled with -m32) */
static const struct qd_abi abi_x86_32 = {
    XEN_IO_PROTO_ABI_X86_32, 108, 12, 4, 12, 20, 24,
};

/* The host's own ABI is x86_64: its header must agree with the table. */
_Static_assert(sizeof(union blkif_sring_entry) == 112, "x86_64 ring entry");
_Static_assert(sizeof(struct blkif_response) == 16, "x86_64 response");
_Static_assert(offsetof(struct blkif_request, id) == 8, "x86_64 id");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "x86_64 sector");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "x86_64 seg");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "x86_64 discard");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "x86_64 indirect");
_Static_assert(offsetof(struct blkif_response, status) == 10, "response status");
_Static_assert(offsetof(struct blkif_sring, ring) == SR_HEADER, "ring header");
_Static_assert(sizeof(struct blkif_request_segment) == QD_SEG_BYTES, "segment");

struct qdisk_dev;
struct qd_queue;

struct qd_seg {
    uint32_t ref;
    uint16_t off, len;
    uint8_t *map;         /* a persistent mapping of the grant, or NULL: grant copy */
};

enum qd_stage { ST_IO, ST_PREFLUSH };

struct qd_req {
    struct blk_req br;
    struct qd_queue *qq;
    int used;
    uint64_t id;
    uint8_t op;           /* the operation the response names */
    uint8_t stage;        /* ST_PREFLUSH: a flush, then the data (if any) */
    uint8_t fua;
    uint8_t to_disk;      /* data direction: write (1) or read (0) */
    uint64_t off;
    size_t len;
    size_t held;          /* counted in the disk's bytes in flight */
    unsigned nseg;
    struct qd_seg *seg;   /* QD_MAX_SEGS */
    /* niov > 0: the data moves between the image and the persistent mappings themselves
     * (iov[], QD_MAX_SEGS), through buf only for the segments that are not mapped */
    struct iovec *iov;
    unsigned niov;
    uint8_t *buf;
    size_t cap;
    /* the host failed it and the disk's policy said stop: kept until QMP cont (dm/vm.h) */
    struct vm_kept kept;
    int kept_err;
    int retried;
};

struct qd_pgnt {
    uint32_t ref;
    uint8_t *addr;        /* NULL: a free bucket */
};

struct qd_queue {
    struct qdisk_dev *q;
    unsigned idx;
    uint8_t *page;        /* the ring, npages pages; NULL: not connected */
    unsigned npages, nr_ents;
    uint32_t req_cons, rsp_prod_pvt;
    int port;
    int processing;
    int unpushed;         /* responses written but not yet published */
    unsigned inflight;
    struct qd_req *barrier; /* a barrier in progress: nothing more is taken until it is done */
    struct qd_req *slots;   /* QD_SLOTS */
    struct qd_seg *segs;    /* QD_SLOTS * QD_MAX_SEGS */
    struct iovec *iovs;     /* QD_SLOTS * QD_MAX_SEGS, with persistent grants */
    struct qd_pgnt *pg;     /* QD_PGNT_HASH buckets, with persistent grants */
    unsigned npg;
    uint64_t events, done, errors, notifies;
};

struct qdisk_dev {
    struct xb_dev *d;
    struct qdisk *owner;
    struct blk *blk;
    int readonly, discard;
    const struct qd_abi *abi;
    unsigned nq;
    int persistent;
    int draining;
    int failing;          /* close the device from the loop (kick) */
    char fail_msg[96];
    struct loop_timer *kick;
    size_t bytes;         /* buffers of requests in flight */
    struct qd_queue qs[QD_MAX_QUEUES];
};

struct qdisk {
    struct vm *vm;
    struct xenbus *bus;
    int frozen;           /* saved: no request is taken from a ring until QMP cont */
};

static void process(struct qd_queue *qq);
static void process_all(struct qdisk_dev *q);

/* ---- the shared ring ---- */

static uint32_t sr_load(struct qd_queue *qq, unsigned off)
{
    return __atomic_load_n((uint32_t *)(qq->page + off), __ATOMIC_ACQUIRE);
}

static void sr_store(struct qd_queue *qq, unsigned off, uint32_t v)
{
    __atomic_store_n((uint32_t *)(qq->page + off), v, __ATOMIC_RELEASE);
}

static uint8_t *sr_entry(struct qd_queue *qq, uint32_t idx)
{
    return qq->page + SR_HEADER + (size_t)(idx & (qq->nr_ents - 1)) * qq->q->abi->entry;
}

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Entries in a ring of NPAGES pages of ENTRY bytes each: a power of two. */
static unsigned ring_entries(unsigned npages, unsigned entry)
{
    unsigned n = (npages * PVHOST_PAGE - SR_HEADER) / entry, p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
}

/* Publish the responses written so far; notify if the frontend asked (rsp_event). */
static void push(struct qd_queue *qq)
{
    if (!qq->unpushed || !qq->page)
        return;
    qq->unpushed = 0;
    uint32_t old = sr_load(qq, SR_RSP_PROD), now = qq->rsp_prod_pvt;
    sr_store(qq, SR_RSP_PROD, now);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t ev = sr_load(qq, SR_RSP_EVENT);
    if ((uint32_t)(now - ev) < (uint32_t)(now - old)) {
        qq->notifies++;
        if (pvhost_notify(qq->q->d->pv, qq->port) < 0)
            log_guest(&qq->q->d->rl, "qdisk", "notify failed");
    }
}

static void respond(struct qd_queue *qq, uint64_t id, uint8_t op, int16_t status)
{
    uint8_t rsp[16];
    memset(rsp, 0, sizeof(rsp));
    memcpy(rsp, &id, 8);
    rsp[8] = op;
    memcpy(rsp + 10, &status, 2);
    memcpy(sr_entry(qq, qq->rsp_prod_pvt), rsp, qq->q->abi->rsp);
    qq->rsp_prod_pvt++;
    qq->unpushed = 1;
    if (status != BLKIF_RSP_OKAY)
        qq->errors++;
    qq->done++;
    if (!qq->processing)
        push(qq);
}

/* Close the device, later, from the loop: never from inside a completion (dm/block.c is
 * reaping) nor from connect. */
static void fail_later(struct qdisk_dev *q, const char *msg)
{
    if (q->failing)
        return;
    q->failing = 1;
    snprintf(q->fail_msg, sizeof(q->fail_msg), "%s", msg);
    loop_timer_arm(q->kick, 1);
}

/* ---- persistent grants ---- */

/* The mapping of REF, made now if there is room; NULL: use grant copy. */
static uint8_t *pgnt_get(struct qd_queue *qq, uint32_t ref)
{
    struct qdisk_dev *q = qq->q;
    if (!q->persistent || !qq->pg)
        return NULL;
    unsigned h = (ref * 2654435761u) & (QD_PGNT_HASH - 1);
    for (unsigned i = 0; i < QD_PGNT_HASH; i++, h = (h + 1) & (QD_PGNT_HASH - 1)) {
        if (!qq->pg[h].addr)
            break;
        if (qq->pg[h].ref == ref)
            return qq->pg[h].addr;
    }
    if (qq->npg >= QD_PGNT_MAX)
        return NULL;
    /* writable: the frontend grants persistent pages so (blkif.h, note 8); one that does not
     * is served by grant copy */
    uint8_t *a = q->d->pv->ops->map(q->d->pv->be, q->d->fe_domid, &ref, 1, 1);
    if (!a)
        return NULL;
    qq->pg[h].ref = ref;
    qq->pg[h].addr = a;
    qq->npg++;
    return a;
}

static void pgnt_drop_all(struct qd_queue *qq)
{
    if (!qq->pg)
        return;
    for (unsigned i = 0; i < QD_PGNT_HASH; i++)
        if (qq->pg[i].addr)
            qq->q->d->pv->ops->unmap(qq->q->d->pv->be, qq->pg[i].addr, 1);
    free(qq->pg);
    qq->pg = NULL;
    qq->npg = 0;
}

/* ---- data ---- */

/* Move R's data between its buffer and the frontend's pages. */
static int move_data(struct qd_queue *qq, struct qd_req *r, int to_guest)
{
    struct qdisk_dev *q = qq->q;
    struct pvhost_copy c[QD_MAX_SEGS];
    unsigned n = 0;
    size_t at = 0;
    for (unsigned i = 0; i < r->nseg; i++) {
        struct qd_seg *s = &r->seg[i];
        if (s->map && r->niov) {
            /* the image's data went straight to or from the mapping */
        } else if (s->map) {
            if (to_guest)
                memcpy(s->map + s->off, r->buf + at, s->len);
            else
                memcpy(r->buf + at, s->map + s->off, s->len);
        } else {
            memset(&c[n], 0, sizeof(c[n]));
            c[n].domid = q->d->fe_domid;
            c[n].ref = s->ref;
            c[n].offset = s->off;
            c[n].len = s->len;
            c[n].to_guest = to_guest;
            c[n].local = r->buf + at;
            n++;
        }
        at += s->len;
    }
    if (!n)
        return 0;
    if (q->d->pv->ops->copy(q->d->pv->be, c, n) < 0)
        return -EIO;
    for (unsigned i = 0; i < n; i++) {
        if (c[i].status < 0) {
            log_guest(&q->d->rl, "qdisk", "grant %u of request %llu does not copy", c[i].ref,
                      (unsigned long long)r->id);
            return -EIO;
        }
    }
    return 0;
}

/* ---- requests ---- */

static void req_done(struct qd_req *r, int ret);

static void complete(struct qd_req *r, int ret)
{
    struct qd_queue *qq = r->qq;
    struct qdisk_dev *q = qq->q;
    int16_t st = ret == -EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP
                 : ret < 0         ? BLKIF_RSP_ERROR
                                   : BLKIF_RSP_OKAY;
    if (!q->draining) {
        if (st == BLKIF_RSP_OKAY && r->nseg && !r->to_disk && move_data(qq, r, 1) < 0)
            st = BLKIF_RSP_ERROR;
        respond(qq, r->id, r->op, st);
    }
    r->used = 0;
    qq->inflight--;
    q->bytes -= r->held;
    r->held = 0;
    r->len = 0;
    if (r->cap > QD_BUF_KEEP) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    if (qq->barrier == r)
        qq->barrier = NULL;
    if (!q->draining)
        process_all(q); /* a slot is free: requests that waited for one */
}

/* The host failed R with *RET (< 0): the disk's policy (-io-error; dm/block.h) decides. 1: R
 * is kept (stop: the guest is paused, R submitted again at cont), 0: finish R with *RET
 * (report: the error; ignore: success). */
static int host_error(struct qd_req *r, int *ret)
{
    struct qdisk_dev *q = r->qq->q;
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
    req_done(r, ret);
}

static void submit(struct qd_req *r, enum blk_op op);

/* QMP cont: the kept request's stage again, as it was (a write's data is still in its buffer) */
static void retry(struct vm_kept *k)
{
    struct qd_req *r = container_of(k, struct qd_req, kept);
    r->retried = 1;
    submit(r, r->br.op);
}

static void submit(struct qd_req *r, enum blk_op op)
{
    memset(&r->br, 0, sizeof(r->br));
    r->br.op = op;
    r->br.off = r->off;
    if ((op == BLK_READ || op == BLK_WRITE) && r->niov) {
        r->br.iov = r->iov;
        r->br.iovcnt = r->niov;
    } else {
        r->br.buf = op == BLK_READ || op == BLK_WRITE ? r->buf : NULL;
    }
    r->br.len = op == BLK_FLUSH ? 0 : r->len;
    r->br.fua = op == BLK_WRITE && r->fua;
    r->br.done = blk_done;
    r->br.opaque = r;
    r->kept.retry = retry;
    int s = blk_submit(r->qq->q->blk, &r->br);
    int ret = s == 1 ? r->br.ret : s;
    if (s == 1 && ret < 0 && host_error(r, &ret))
        return;
    if (s != 0) {
        r->retried = 0;
        req_done(r, ret);
    }
}

/* A stage of R is done: the next one, or the response. */
static void req_done(struct qd_req *r, int ret)
{
    if (ret >= 0 && r->stage == ST_PREFLUSH && r->nseg && !r->qq->q->draining) {
        r->stage = ST_IO;
        submit(r, BLK_WRITE);
        return;
    }
    complete(r, ret);
}

/* Check and take NSEG segment descriptors from RAW into R. */
static int take_segs(struct qd_queue *qq, struct qd_req *r, const uint8_t *raw, unsigned nseg)
{
    r->len = 0;
    for (unsigned i = 0; i < nseg; i++) {
        const uint8_t *s = raw + (size_t)i * QD_SEG_BYTES;
        uint8_t first = s[4], last = s[5];
        if (first > last || last >= PVHOST_PAGE / BLK_SECTOR) {
            log_guest(&qq->q->d->rl, "qdisk", "request %llu: segment %u sectors %u..%u",
                      (unsigned long long)r->id, i, first, last);
            return -EINVAL;
        }
        r->seg[i].ref = get32(s);
        r->seg[i].off = (uint16_t)(first * BLK_SECTOR);
        r->seg[i].len = (uint16_t)((last - first + 1) * BLK_SECTOR);
        r->seg[i].map = NULL;
        r->len += r->seg[i].len;
    }
    r->nseg = nseg;
    return 0;
}

static int in_image(struct qdisk_dev *q, uint64_t sector, uint64_t bytes)
{
    uint64_t size = blk_size(q->blk);
    return sector <= size / BLK_SECTOR && bytes <= size - sector * BLK_SECTOR;
}

/* Segments taken and SECTOR known: check the range, get a buffer, fetch a write's data. */
static int prepare_data(struct qd_queue *qq, struct qd_req *r, uint64_t sector)
{
    struct qdisk_dev *q = qq->q;
    if (!in_image(q, sector, r->len)) {
        log_guest(&q->d->rl, "qdisk", "request %llu: sectors %llu+%zu past the image",
                  (unsigned long long)r->id, (unsigned long long)sector, r->len / BLK_SECTOR);
        return -EINVAL;
    }
    if (r->to_disk && q->readonly)
        return -EROFS;
    r->off = sector * BLK_SECTOR;
    r->niov = 0;
    unsigned mapped = 0;
    if (q->persistent)
        for (unsigned i = 0; i < r->nseg; i++)
            mapped += (r->seg[i].map = pgnt_get(qq, r->seg[i].ref)) != NULL;
    /* a buffer for what is not mapped (at the segment's place in the request) */
    if (mapped < r->nseg) {
        if (r->cap < r->len) {
            free(r->buf);
            r->cap = 0;
            r->buf = blk_buf_alloc(r->len);
            if (!r->buf)
                return -ENOMEM;
            r->cap = r->len;
        }
        q->bytes += r->len;
        r->held = r->len;
    }
    if (mapped && qq->iovs && !blk_direct(q->blk)) {
        /* the image reads into and writes from the frontend's mapped pages (the frontend can
         * change them during the I/O, as with a kernel backend: it changes only what it reads
         * or writes of its own disk); adjacent pieces of the buffer are one. Through the page
         * cache only (qdisk opens its image writeback): O_DIRECT would need the kernel to pin
         * gntdev's pages (get_user_pages), which a PV dom0's grant mappings may refuse */
        struct iovec *v = qq->iovs + (size_t)(r - qq->slots) * QD_MAX_SEGS;
        unsigned n = 0;
        size_t at = 0;
        for (unsigned i = 0; i < r->nseg; i++) {
            struct qd_seg *sg = &r->seg[i];
            uint8_t *base = sg->map ? sg->map + sg->off : r->buf + at;
            if (n && !sg->map && !r->seg[i - 1].map)
                v[n - 1].iov_len += sg->len;
            else
                v[n++] = (struct iovec){ base, sg->len };
            at += sg->len;
        }
        r->iov = v;
        r->niov = n;
    }
    if (r->to_disk && move_data(qq, r, 0) < 0)
        return -EIO;
    return 0;
}

/* An indirect request's descriptors, copied out of its indirect pages. */
static int take_indirect(struct qd_queue *qq, struct qd_req *r, const uint8_t *e, unsigned nseg)
{
    struct qdisk_dev *q = qq->q;
    uint8_t raw[QD_MAX_SEGS * QD_SEG_BYTES];
    struct pvhost_copy c[(QD_MAX_SEGS + QD_SEGS_PER_PAGE - 1) / QD_SEGS_PER_PAGE];
    unsigned npages = (nseg + QD_SEGS_PER_PAGE - 1) / QD_SEGS_PER_PAGE, n = 0;
    memset(c, 0, sizeof(c));
    for (unsigned i = 0; i < npages; i++) {
        unsigned here = MIN(nseg - i * QD_SEGS_PER_PAGE, (unsigned)QD_SEGS_PER_PAGE);
        uint32_t ref = get32(e + q->abi->ind_grefs + 4 * i);
        /* a persistently granted indirect page (Linux's blkfront grants them from its pool):
         * its descriptors copied out of the mapping once, as from a grant copy */
        const uint8_t *m = pgnt_get(qq, ref);
        if (m) {
            memcpy(raw + (size_t)i * PVHOST_PAGE, m, (size_t)here * QD_SEG_BYTES);
            continue;
        }
        c[n].domid = q->d->fe_domid;
        c[n].ref = ref;
        c[n].offset = 0;
        c[n].len = (uint16_t)(here * QD_SEG_BYTES);
        c[n].local = raw + (size_t)i * PVHOST_PAGE;
        n++;
    }
    if (n && q->d->pv->ops->copy(q->d->pv->be, c, n) < 0)
        return -EIO;
    for (unsigned i = 0; i < n; i++) {
        if (c[i].status < 0) {
            log_guest(&q->d->rl, "qdisk", "request %llu: indirect page %u (grant %u) does not copy",
                      (unsigned long long)r->id, i, c[i].ref);
            return -EIO;
        }
    }
    return take_segs(qq, r, raw, nseg);
}

/* One request, copied out of the ring into E. */
static void dispatch(struct qd_queue *qq, const uint8_t *e)
{
    struct qdisk_dev *q = qq->q;
    const struct qd_abi *abi = q->abi;
    struct qd_req *r = NULL;
    for (unsigned i = 0; i < QD_SLOTS; i++) {
        if (!qq->slots[i].used) {
            r = &qq->slots[i];
            break;
        }
    }
    if (!r) /* cannot happen: process() takes no more than QD_SLOTS */
        return;
    r->used = 1;
    r->qq = qq;
    r->id = get64(e + abi->id);
    r->op = e[0];
    r->stage = ST_IO;
    r->fua = 0;
    r->to_disk = 0;
    r->nseg = 0;
    r->niov = 0;
    r->len = 0;
    r->off = 0;
    qq->inflight++;
    uint64_t sector = get64(e + abi->sector);
    int ret;

    switch (e[0]) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (e[1] == 0 || e[1] > QD_SEG_DIRECT) {
            log_guest(&q->d->rl, "qdisk", "request %llu: %u segments", (unsigned long long)r->id,
                      e[1]);
            complete(r, -EINVAL);
            return;
        }
        r->to_disk = e[0] == BLKIF_OP_WRITE;
        ret = take_segs(qq, r, e + abi->seg, e[1]);
        if (ret == 0)
            ret = prepare_data(qq, r, sector);
        if (ret < 0) {
            complete(r, ret);
            return;
        }
        submit(r, r->to_disk ? BLK_WRITE : BLK_READ);
        return;
    case BLKIF_OP_INDIRECT: {
        unsigned nseg = get16(e + 2);
        r->op = e[1]; /* blkfront wants the indirect operation back */
        if (e[1] != BLKIF_OP_READ && e[1] != BLKIF_OP_WRITE) {
            log_guest(&q->d->rl, "qdisk", "request %llu: indirect operation %u",
                      (unsigned long long)r->id, e[1]);
            complete(r, -EINVAL);
            return;
        }
        if (nseg == 0 || nseg > QD_MAX_SEGS) {
            log_guest(&q->d->rl, "qdisk", "request %llu: %u indirect segments (at most %u)",
                      (unsigned long long)r->id, nseg, QD_MAX_SEGS);
            complete(r, -EINVAL);
            return;
        }
        r->to_disk = e[1] == BLKIF_OP_WRITE;
        ret = take_indirect(qq, r, e, nseg);
        if (ret == 0)
            ret = prepare_data(qq, r, sector);
        if (ret < 0) {
            complete(r, ret);
            return;
        }
        submit(r, r->to_disk ? BLK_WRITE : BLK_READ);
        return;
    }
    case BLKIF_OP_FLUSH_DISKCACHE:
    case BLKIF_OP_WRITE_BARRIER:
        /* a flush; then the data, if there is any (a barrier's written through) */
        if (e[1] > QD_SEG_DIRECT) {
            complete(r, -EINVAL);
            return;
        }
        if (e[1]) {
            r->to_disk = 1;
            ret = take_segs(qq, r, e + abi->seg, e[1]);
            if (ret == 0)
                ret = prepare_data(qq, r, sector);
            if (ret < 0) {
                complete(r, ret);
                return;
            }
        }
        r->stage = ST_PREFLUSH;
        r->fua = e[0] == BLKIF_OP_WRITE_BARRIER;
        if (e[0] == BLKIF_OP_WRITE_BARRIER)
            qq->barrier = r;
        submit(r, BLK_FLUSH);
        return;
    case BLKIF_OP_DISCARD: {
        uint64_t nr = get64(e + abi->seg);
        if (q->readonly) {
            log_guest(&q->d->rl, "qdisk", "request %llu: discard on a read-only disk",
                      (unsigned long long)r->id);
            complete(r, -EROFS);
            return;
        }
        if (!q->discard) {
            complete(r, -EOPNOTSUPP);
            return;
        }
        if (nr > UINT64_MAX / BLK_SECTOR || !in_image(q, sector, nr * BLK_SECTOR)) {
            log_guest(&q->d->rl, "qdisk", "request %llu: discard of %llu+%llu past the image",
                      (unsigned long long)r->id, (unsigned long long)sector,
                      (unsigned long long)nr);
            complete(r, -EINVAL);
            return;
        }
        r->off = sector * BLK_SECTOR;
        /* (len stays 0: no buffer; the range goes in the blk request) */
        memset(&r->br, 0, sizeof(r->br));
        r->br.op = BLK_DISCARD;
        r->br.off = r->off;
        r->br.len = nr * BLK_SECTOR;
        r->br.done = blk_done;
        r->br.opaque = r;
        int s = blk_submit(q->blk, &r->br);
        req_done(r, s == 1 ? r->br.ret : s < 0 ? s : 0);
        return;
    }
    default:
        log_guest(&q->d->rl, "qdisk", "request %llu: operation %u not supported",
                  (unsigned long long)r->id, e[0]);
        complete(r, -EOPNOTSUPP);
        return;
    }
}

/* Can QQ take one more request now? (Else a completion, or the kick, calls process again.) */
static int room(struct qd_queue *qq)
{
    struct qdisk_dev *q = qq->q;
    return !qq->barrier && qq->inflight < QD_SLOTS &&
           blk_inflight(q->blk) < BLK_QUEUE_DEPTH &&
           q->bytes + (size_t)QD_MAX_SEGS * PVHOST_PAGE <= QD_MAX_BYTES;
}

static void process(struct qd_queue *qq)
{
    struct qdisk_dev *q = qq->q;
    if (!qq->page || q->draining || q->failing || qq->processing || q->owner->frozen)
        return;
    qq->processing = 1;
    unsigned budget = QD_BUDGET;
    for (;;) {
        uint32_t rp = sr_load(qq, SR_REQ_PROD);
        uint32_t unconsumed = rp - qq->req_cons;
        uint32_t space = qq->nr_ents - (qq->req_cons - qq->rsp_prod_pvt);
        if (unconsumed > space) {
            char msg[96];
            snprintf(msg, sizeof(msg), "queue %u: req_prod %u runs ahead of the ring (%u answered)",
                     qq->idx, rp, qq->rsp_prod_pvt);
            fail_later(q, msg);
            break;
        }
        if (!unconsumed) {
            /* tell the frontend to notify for the next one, and look once more */
            sr_store(qq, SR_REQ_EVENT, qq->req_cons + 1);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (sr_load(qq, SR_REQ_PROD) == qq->req_cons)
                break;
            continue;
        }
        if (!room(qq))
            break;
        if (!budget--) {
            loop_timer_arm(q->kick, 1); /* the rest from the loop, after other work */
            break;
        }
        uint8_t e[112];
        memcpy(e, sr_entry(qq, qq->req_cons), q->abi->entry);
        qq->req_cons++;
        dispatch(qq, e);
        if (!qq->page || q->failing)
            break;
    }
    qq->processing = 0;
    push(qq);
}

static void process_all(struct qdisk_dev *q)
{
    for (unsigned i = 0; i < q->nq; i++)
        process(&q->qs[i]);
}

static void on_event(void *opaque)
{
    struct qd_queue *qq = opaque;
    qq->events++;
    process(qq);
}

static void on_kick(void *opaque)
{
    struct qdisk_dev *q = opaque;
    if (q->failing) {
        q->failing = 0;
        if (q->d->connected)
            xb_fail(q->d, "%s: closing", q->fail_msg);
        return;
    }
    process_all(q);
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
    char params[512], mode[8], err[256], de[8];
    q->d = d;
    q->owner = s;
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
    /* libxl's discard-enable (xl.cfg discard / no-discard): absent means yes */
    q->discard = !q->readonly &&
                 !(pvhost_read(d->pv, de, sizeof(de), "%s/discard-enable", d->be_path) == 0 &&
                   !strcmp(de, "0"));
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
    q->kick = loop_timer_new(s->vm->loop, on_kick, q);
    if (!q->kick)
        return -ENOMEM;
    if (xb_be_printf(d, "feature-flush-cache", "1") < 0 ||
        xb_be_printf(d, "feature-barrier", "1") < 0 ||
        xb_be_printf(d, "feature-persistent", "1") < 0 ||
        xb_be_printf(d, "feature-max-indirect-segments", "%u", QD_MAX_SEGS) < 0 ||
        xb_be_printf(d, "max-ring-page-order", "%u", QD_MAX_ORDER) < 0 ||
        xb_be_printf(d, "multi-queue-max-queues", "%u", QD_MAX_QUEUES) < 0)
        return -EIO;
    if (q->discard && (xb_be_printf(d, "feature-discard", "1") < 0 ||
                       xb_be_printf(d, "discard-granularity", "%u", QD_DISCARD_GRANULARITY) < 0 ||
                       xb_be_printf(d, "discard-alignment", "0") < 0))
        return -EIO;
    log_info("%s: %s (%s, %llu sectors)", d->be_path, path, q->readonly ? "read-only" : "read-write",
             (unsigned long long)(blk_size(q->blk) / BLK_SECTOR));
    return 0;
}

static void queue_free(struct qd_queue *qq)
{
    struct pvhost *pv = qq->q->d->pv;
    if (qq->port >= 0)
        pvhost_unbind(pv, qq->port);
    qq->port = -1;
    pgnt_drop_all(qq);
    if (qq->page)
        pv->ops->unmap(pv->be, qq->page, qq->npages);
    qq->page = NULL;
    if (qq->slots)
        for (unsigned i = 0; i < QD_SLOTS; i++)
            free(qq->slots[i].buf);
    free(qq->slots);
    free(qq->segs);
    free(qq->iovs);
    qq->slots = NULL;
    qq->segs = NULL;
    qq->iovs = NULL;
}

/* Queue I's ring (NPAGES pages) and event channel, from the frontend's DIR ("" or "queue-I/"). */
static int queue_connect(struct qdisk_dev *q, unsigned i, const char *dir, unsigned npages)
{
    struct xb_dev *d = q->d;
    struct qd_queue *qq = &q->qs[i];
    uint32_t refs[QD_MAX_PAGES];
    uint64_t v, port;
    char name[64];

    memset(qq, 0, sizeof(*qq));
    qq->q = q;
    qq->idx = i;
    qq->port = -1;
    for (unsigned k = 0; k < npages; k++) {
        int r = -ENOENT;
        if (npages == 1) {
            snprintf(name, sizeof(name), "%sring-ref", dir);
            r = xb_fe_uint(d, name, UINT32_MAX, &v);
        }
        if (r == -ENOENT) {
            snprintf(name, sizeof(name), "%sring-ref%u", dir, k);
            r = xb_fe_uint(d, name, UINT32_MAX, &v);
        }
        if (r < 0) {
            log_guest(&d->rl, "qdisk", "%s missing or not a number", name);
            return -EINVAL;
        }
        refs[k] = (uint32_t)v;
    }
    snprintf(name, sizeof(name), "%sevent-channel", dir);
    if (xb_fe_uint(d, name, UINT32_MAX, &port) < 0) {
        log_guest(&d->rl, "qdisk", "%s missing or not a number", name);
        return -EINVAL;
    }
    qq->slots = calloc(QD_SLOTS, sizeof(*qq->slots));
    qq->segs = calloc((size_t)QD_SLOTS * QD_MAX_SEGS, sizeof(*qq->segs));
    if (q->persistent) {
        qq->pg = calloc(QD_PGNT_HASH, sizeof(*qq->pg));
        qq->iovs = calloc((size_t)QD_SLOTS * QD_MAX_SEGS, sizeof(*qq->iovs));
    }
    if (!qq->slots || !qq->segs || (q->persistent && (!qq->pg || !qq->iovs))) {
        queue_free(qq);
        return -ENOMEM;
    }
    for (unsigned k = 0; k < QD_SLOTS; k++)
        qq->slots[k].seg = qq->segs + (size_t)k * QD_MAX_SEGS;
    qq->page = d->pv->ops->map(d->pv->be, d->fe_domid, refs, npages, 1);
    if (!qq->page) {
        log_guest(&d->rl, "qdisk", "queue %u: the %u ring page(s) cannot be mapped", i, npages);
        queue_free(qq);
        return -EINVAL;
    }
    qq->npages = npages;
    qq->nr_ents = ring_entries(npages, q->abi->entry);
    /* the frontend's indexes as they are now (a frontend that resumes may not start at 0) */
    qq->req_cons = qq->rsp_prod_pvt = sr_load(qq, SR_RSP_PROD);
    qq->port = pvhost_bind(d->pv, d->fe_domid, (uint32_t)port, on_event, qq);
    if (qq->port < 0) {
        int r = qq->port;
        qq->port = -1;
        log_guest(&d->rl, "qdisk", "queue %u: event-channel %llu cannot be bound", i,
                  (unsigned long long)port);
        queue_free(qq);
        return r;
    }
    return 0;
}

static void qd_disconnect(void *opaque, struct xb_dev *d);

static int qd_connect(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    char proto[32];
    uint64_t order = 0, nq = 1, pers = 0;
    int r;
    if (!q->blk)
        return -ENODEV;
    q->abi = &abi_x86_64;
    r = pvhost_read(d->pv, proto, sizeof(proto), "%s/protocol", d->fe_path);
    if (r == 0 && !strcmp(proto, XEN_IO_PROTO_ABI_X86_32)) {
        q->abi = &abi_x86_32;
    } else if ((r == 0 && strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) || (r < 0 && r != -ENOENT)) {
        log_guest(&d->rl, "qdisk", "protocol %s is not served (%s or %s)", r == 0 ? proto : "?",
                  XEN_IO_PROTO_ABI_X86_64, XEN_IO_PROTO_ABI_X86_32);
        return -EPROTONOSUPPORT;
    }
    r = xb_fe_uint(d, "ring-page-order", QD_MAX_ORDER, &order);
    if (r == -EINVAL) {
        log_guest(&d->rl, "qdisk", "ring-page-order is not a number up to %u", QD_MAX_ORDER);
        return -EINVAL;
    }
    r = xb_fe_uint(d, "multi-queue-num-queues", QD_MAX_QUEUES, &nq);
    if (r == -EINVAL || nq == 0) {
        log_guest(&d->rl, "qdisk", "multi-queue-num-queues is not a number in 1..%u", QD_MAX_QUEUES);
        return -EINVAL;
    }
    if (r == -ENOENT)
        nq = 1;
    if (order > QD_MAX_ORDER || nq > QD_MAX_QUEUES) /* (bounded above already; kept local) */
        return -EINVAL;
    q->persistent = xb_fe_uint(d, "feature-persistent", 1, &pers) == 0 && pers == 1;
    q->failing = 0;
    q->bytes = 0;
    q->nq = 0;
    for (unsigned i = 0; i < nq; i++) {
        char dir[16] = "";
        if (nq > 1)
            snprintf(dir, sizeof(dir), "queue-%u/", i);
        r = queue_connect(q, i, dir, 1u << order);
        if (r < 0) {
            qd_disconnect(NULL, d);
            return r;
        }
        q->nq = i + 1;
    }
    /* what blkfront reads when it sees Connected */
    xb_be_printf(d, "sectors", "%llu", (unsigned long long)(blk_size(q->blk) / BLK_SECTOR));
    xb_be_printf(d, "info", "%u", q->readonly ? VDISK_READONLY : 0);
    xb_be_printf(d, "sector-size", "%u", BLK_SECTOR);
    xb_be_printf(d, "physical-sector-size", "%u", BLK_SECTOR);
    log_info("%s: %s, %u queue(s) of %u-page rings, persistent grants %s", d->be_path,
             q->abi->name, q->nq, 1u << order, q->persistent ? "on" : "off");
    /* requests queued before we were connected: from the loop, once Connected is written */
    loop_timer_arm(q->kick, 1);
    return 0;
}

static void qd_disconnect(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    /* requests in flight finish (their buffers are ours) before anything is unmapped; kept
     * ones are not retried */
    q->draining = 1;
    for (unsigned i = 0; i < q->nq; i++)
        for (unsigned j = 0; q->qs[i].slots && j < QD_SLOTS; j++) {
            struct qd_req *r = &q->qs[i].slots[j];
            if (r->used && r->kept.listed) {
                vm_io_forget(q->owner->vm, &r->kept);
                complete(r, r->kept_err);
            }
        }
    if (q->blk)
        blk_drain(q->blk);
    q->draining = 0;
    uint64_t done = 0, errors = 0, events = 0, notifies = 0, pg = 0;
    for (unsigned i = 0; i < q->nq; i++) {
        done += q->qs[i].done;
        errors += q->qs[i].errors;
        events += q->qs[i].events;
        notifies += q->qs[i].notifies;
        pg += q->qs[i].npg;
    }
    if (q->nq)
        log_info("%s: disconnected: %llu requests answered (%llu with an error) on %u queue(s), "
                 "%llu events from the frontend, %llu notifications to it, %llu grants kept "
                 "mapped", d->be_path, (unsigned long long)done, (unsigned long long)errors, q->nq,
                 (unsigned long long)events, (unsigned long long)notifies, (unsigned long long)pg);
    for (unsigned i = 0; i < q->nq; i++)
        queue_free(&q->qs[i]);
    q->nq = 0;
    q->failing = 0;
    q->bytes = 0;
    if (q->kick)
        loop_timer_arm(q->kick, 0);
}

static void qd_release(void *opaque, struct xb_dev *d)
{
    struct qdisk_dev *q = d->priv;
    if (q->blk)
        blk_close(q->blk);
    q->blk = NULL;
    loop_timer_free(q->kick);
    q->kick = NULL;
}

static const struct xb_ops qd_ops = {
    .type = "qdisk",
    .priv_size = sizeof(struct qdisk_dev),
    .claim = qd_claim,
    .setup = qd_setup,
    .connect = qd_connect,
    .disconnect = qd_disconnect,
    .release = qd_release,
    .reoffer = 1,
};

static void qd_on_cont(void *opaque, unsigned arg);

static void qd_destroy(void *state)
{
    struct qdisk *s = state;
    if (!s)
        return;
    vm_off_cont(s->vm, s);
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
    if (vm_on_cont(vm, qd_on_cont, s) < 0) {
        xenbus_free(s->bus);
        free(s);
        return -ENOMEM;
    }
    *state = s;
    return 0;
}

/* The rings again after a save (QMP cont): what waited is taken, from the loop. */
static void qd_thaw(struct qdisk *s)
{
    if (!s->frozen)
        return;
    s->frozen = 0;
    for (unsigned i = 0; i < xenbus_count(s->bus); i++) {
        struct xb_dev *d = xenbus_dev(s->bus, i);
        struct qdisk_dev *q = d ? d->priv : NULL;
        if (q && q->kick && q->nq)
            loop_timer_arm(q->kick, 1);
    }
}

static void qd_on_cont(void *opaque, unsigned arg)
{
    (void)arg;
    qd_thaw(opaque);
}

/* Nothing in flight in a saved stream (xen-save-devices-state runs once the guest has
 * suspended, before Xen's last memory pass): the rings are frozen (nothing more is taken from
 * them, not even by a completion that frees a slot), then every request the host has
 * completes now, its data and response in guest memory, so none completes later behind the
 * restored guest's back (after a localhost migration the new hvmd has the same image open).
 * What a resumed blkfront did not see answered it sends again to the new hvmd (see the top);
 * a request kept for the stop policy stays kept (retried at cont, or sent again by the
 * resumed frontend). The rings stay frozen until QMP cont, unless the guest was running at
 * the save (a save without stop: the guest runs on, as QEMU's save restarts it). Each
 * connected disk says what the save found. */
static int qd_save(void *state, struct snap_writer *w)
{
    struct qdisk *s = state;
    (void)w;
    if (!s)
        return 0;
    s->frozen = 1;
    for (unsigned i = 0; i < xenbus_count(s->bus); i++) {
        struct xb_dev *d = xenbus_dev(s->bus, i);
        struct qdisk_dev *q = d ? d->priv : NULL;
        if (!q || !q->blk || !q->nq)
            continue;
        unsigned busy = 0, kept = 0, waiting = 0;
        for (unsigned k = 0; k < q->nq; k++) {
            struct qd_queue *qq = &q->qs[k];
            for (unsigned j = 0; qq->slots && j < QD_SLOTS; j++)
                kept += qq->slots[j].used && qq->slots[j].kept.listed;
            busy += qq->inflight;
            if (qq->page) /* (the frontend's index: only counted, never used) */
                waiting += sr_load(qq, SR_REQ_PROD) - qq->req_cons;
        }
        busy -= kept;
        /* a completion may start a request's second stage (a flush's data): a few rounds */
        for (unsigned n = 0; blk_inflight(q->blk) && n < 8; n++)
            blk_drain(q->blk);
        log_info("%s: at the save: %u request(s) in flight, %s; %u kept for cont, %u not yet "
                 "taken from the ring (left to the frontend)", d->be_path, busy,
                 busy ? "completed and answered before the state was written"
                      : "nothing to complete",
                 kept, waiting);
        if (blk_inflight(q->blk))
            log_warn("%s: %u request(s) still in flight after the save", d->be_path,
                     blk_inflight(q->blk));
    }
    if (s->vm->running)
        qd_thaw(s);
    return 0;
}
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

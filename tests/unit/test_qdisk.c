/* SPDX-License-Identifier: GPL-2.0-only */
/* pvdrivers/qdisk.c through the fake PV host: a disk as libxl 4.17 writes it
 * (backend/qdisk/D/51712, params aio:PATH, mode w), a frontend playing xen-blkfront's part
 * (one or several queues, rings of one or more pages, the x86_64 or the x86_32 ring ABI,
 * indirect requests, persistent grants), data checked in the image file; then what a
 * hostile frontend sends. The frontend here writes ring entries by byte offset from its own
 * table of the two ABIs (checked against xen/io/blkif.h for the host's own), not through
 * the backend's code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/io/blkif.h>
#include "dm/block.h"
#include "dm/bus.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/machine.h"
#include "dm/pci.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/pvhost.h"
#include "dm/sandbox.h"
#include "dm/vm.h"
#include "pvdrivers/xenbus.h"
#include "tests/lib/fakepv.h"
#include "tests/lib/fakexen.h"

extern const struct device pv_qdisk;
struct xenbus *qdisk_bus(void *state);
struct blk *qdisk_blk(struct xb_dev *d);

#define BE "/local/domain/0/backend/qdisk/1/51712"
#define FE "/local/domain/1/device/vbd/51712"
#define IMG_SECTORS 2048
#define DATA0 40          /* the frontend's data pages: 40..63 */

/* the frontend's view of the ring ABIs */
struct abi {
    const char *name;
    unsigned entry, rsp, id, sector, seg, ind_grefs;
};
static const struct abi ABI64 = { "x86_64-abi", 112, 16, 8, 16, 24, 28 };
static const struct abi ABI32 = { "x86_32-abi", 108, 12, 4, 12, 20, 24 };

struct fq {
    uint8_t *page;
    unsigned npages, nr_ents;
    uint32_t req_prod_pvt, rsp_cons;
    int port;
    int refs[16];
    /* responses taken off the ring but not yet asked for (they may come in any order) */
    unsigned nheld;
    struct { uint64_t id; int16_t st; uint8_t op; } held[600];
};

struct bed {
    struct fakexen *fx;
    struct fakepv *fp;
    void *dev;
    char img[64];
    const struct abi *abi;
    struct fq q[4];
    unsigned nq;
    struct config cfg;
    int have_cfg;
};

/* a request, in neither ABI */
struct rq {
    uint8_t op, b1;          /* b1: nr_segments, or an indirect request's operation */
    uint16_t ind_nseg;
    uint64_t id, sector, nr_sectors;
    unsigned nseg;
    struct { uint32_t gref; uint8_t first, last; } seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    uint32_t igref[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};

static void toolstack_disk(struct bed *b, const char *be, const char *fe, const char *params,
                           const char *mode, const char *type)
{
    const char *const fe_extra[] = { "device-type", type, NULL };
    const char *const be_extra[] = { "params", params, "mode", mode, "device-type", type,
                                     "type", "qdisk", NULL };
    fx_pv_add_device(b->fp, be, fe, fe_extra, be_extra);
}

static struct bed *bed_new_args(const char *mode, const char *discard_enable,
                                const char *const *argv, int argc)
{
    struct bed *b = calloc(1, sizeof(*b));
    char params[96], err[200];
    snprintf(b->img, sizeof(b->img), "/tmp/hvmd-qdisk-XXXXXX");
    int fd = mkstemp(b->img);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, IMG_SECTORS * 512), 0);
    close(fd);
    b->fx = fx_new(16 << 20);
    if (argc) {
        assert_int_equal(config_parse(&b->cfg, argc, argv, err, sizeof(err)), 0);
        b->have_cfg = 1;
        b->fx->vm.cfg = &b->cfg;
    }
    b->fp = fx_pv_new(1);
    b->fx->vm.pv = &b->fp->pv;
    b->abi = &ABI64;
    snprintf(params, sizeof(params), "aio:%s", b->img);
    toolstack_disk(b, BE, FE, params, mode, "disk");
    if (discard_enable)
        fx_pv_write(b->fp, BE "/discard-enable", discard_enable);
    /* the HVM guest's CD-ROM twin: left to the emulated CD-ROM */
    toolstack_disk(b, "/local/domain/0/backend/qdisk/1/5632", "/local/domain/1/device/vbd/5632",
                   "aio:/nonexistent.iso", "r", "cdrom");
    assert_int_equal(pv_qdisk.create(&b->fx->vm, &b->dev), 0);
    assert_non_null(b->dev);
    fx_pv_run(b->fp, 0);
    return b;
}

static struct bed *bed_new(const char *mode, const char *discard_enable)
{
    return bed_new_args(mode, discard_enable, NULL, 0);
}

static int setup(void **state)
{
    *state = bed_new("w", NULL);
    return 0;
}

static int setup_ro(void **state)
{
    *state = bed_new("r", NULL);
    return 0;
}

static int setup_nodiscard(void **state)
{
    *state = bed_new("w", "0");
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    pv_qdisk.destroy(b->dev);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_free(b->fp);
    fx_free(b->fx);
    if (b->have_cfg)
        config_free(&b->cfg);
    unlink(b->img);
    free(b);
    return 0;
}

static int be_state(struct bed *b)
{
    const char *s = fx_pv_read(b->fp, BE "/state");
    return s ? atoi(s) : -1;
}

/* watches, events and the backend's timer, until things are quiet */
static void settle(struct bed *b)
{
    for (int i = 0; i < 6; i++) {
        fx_pv_run(b->fp, 0);
        loop_run_once(b->fx->loop, 2);
    }
    fx_pv_run(b->fp, 0);
}

static void put(uint8_t *p, uint64_t v, unsigned bytes)
{
    memcpy(p, &v, bytes);
}

static unsigned ring_entries(unsigned npages, unsigned entry)
{
    unsigned n = (npages * PVHOST_PAGE - 64) / entry, p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
}

/* xen-blkfront's connect: NQ queues of rings of 1 << ORDER pages (queue i on pages
 * i * 4 ..., or 0..15 for one queue), PROTOCOL (NULL: no node), feature-persistent if
 * PERSISTENT; Initialised. Nodes are written as blkfront does: ring-ref for one page,
 * ring-ref0.. for more; queue-N/ for more than one queue. */
static void fe_connect_mq(struct bed *b, const char *protocol, unsigned order, unsigned nq,
                          int persistent)
{
    char p[160];
    b->abi = protocol && !strcmp(protocol, "x86_32-abi") ? &ABI32 : &ABI64;
    b->nq = nq;
    for (unsigned i = 0; i < nq; i++) {
        struct fq *q = &b->q[i];
        unsigned n = 1u << order, first = nq == 1 ? 0 : i * 4;
        char dir[24] = "";
        if (nq > 1)
            snprintf(dir, sizeof(dir), "/queue-%u", i);
        memset(q, 0, sizeof(*q));
        q->page = fx_pv_page(b->fp, first);
        q->npages = n;
        q->nr_ents = ring_entries(n, b->abi->entry);
        memset(q->page, 0, (size_t)n * PVHOST_PAGE);
        put(q->page + 4, 1, 4);  /* req_event, rsp_event: as SHARED_RING_INIT */
        put(q->page + 12, 1, 4);
        for (unsigned k = 0; k < n; k++) {
            q->refs[k] = fx_pv_grant(b->fp, first + k, 1);
            if (n == 1)
                snprintf(p, sizeof(p), FE "%s/ring-ref", dir);
            else
                snprintf(p, sizeof(p), FE "%s/ring-ref%u", dir, k);
            fx_pv_writef(b->fp, p, "%d", q->refs[k]);
        }
        q->port = fx_pv_alloc_port(b->fp);
        snprintf(p, sizeof(p), FE "%s/event-channel", dir);
        fx_pv_writef(b->fp, p, "%d", q->port);
    }
    if (order)
        fx_pv_writef(b->fp, FE "/ring-page-order", "%u", order);
    if (nq > 1)
        fx_pv_writef(b->fp, FE "/multi-queue-num-queues", "%u", nq);
    if (persistent)
        fx_pv_write(b->fp, FE "/feature-persistent", "1");
    if (protocol)
        fx_pv_write(b->fp, FE "/protocol", protocol);
    fx_pv_write(b->fp, FE "/state", "3");
    settle(b);
}

static void fe_connect(struct bed *b, const char *protocol)
{
    fe_connect_mq(b, protocol, 0, 1, 0);
}

/* Write R into queue QI's ring (not yet published). */
static void queue_req(struct bed *b, unsigned qi, const struct rq *r)
{
    struct fq *q = &b->q[qi];
    const struct abi *a = b->abi;
    uint8_t *e = q->page + 64 + (size_t)(q->req_prod_pvt & (q->nr_ents - 1)) * a->entry;
    memset(e, 0, a->entry);
    e[0] = r->op;
    e[1] = r->b1;
    put(e + a->id, r->id, 8);
    put(e + a->sector, r->sector, 8);
    if (r->op == BLKIF_OP_INDIRECT) {
        put(e + 2, r->ind_nseg, 2);
        for (unsigned i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
            put(e + a->ind_grefs + 4 * i, r->igref[i], 4);
    } else if (r->op == BLKIF_OP_DISCARD) {
        put(e + a->seg, r->nr_sectors, 8);
    } else {
        for (unsigned i = 0; i < r->nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
            uint8_t *s = e + a->seg + 8 * i;
            put(s, r->seg[i].gref, 4);
            s[4] = r->seg[i].first;
            s[5] = r->seg[i].last;
        }
    }
    q->req_prod_pvt++;
}

static void publish(struct bed *b, unsigned qi)
{
    struct fq *q = &b->q[qi];
    __atomic_store_n((uint32_t *)q->page, q->req_prod_pvt, __ATOMIC_RELEASE);
    fx_pv_notify(b->fp, q->port);
}

static void pushq(struct bed *b, unsigned qi, const struct rq *r)
{
    queue_req(b, qi, r);
    publish(b, qi);
}

static void push(struct bed *b, const struct rq *r)
{
    pushq(b, 0, r);
}

static int has_response(struct bed *b, unsigned qi)
{
    struct fq *q = &b->q[qi];
    return __atomic_load_n((uint32_t *)(q->page + 8), __ATOMIC_ACQUIRE) != q->rsp_cons;
}

/* Deliver, run completions, and take the response to request ID of queue QI (responses
 * come in any order): its status; its operation in *OP if OP. */
static int16_t responseq(struct bed *b, unsigned qi, uint64_t id, uint8_t *op)
{
    struct fq *q = &b->q[qi];
    for (int i = 0; i < 200; i++) {
        fx_pv_run(b->fp, 0);
        while (has_response(b, qi)) {
            uint8_t *e = q->page + 64 + (size_t)(q->rsp_cons & (q->nr_ents - 1)) * b->abi->entry;
            assert_true(q->nheld < sizeof(q->held) / sizeof(q->held[0]));
            memcpy(&q->held[q->nheld].id, e, 8);
            memcpy(&q->held[q->nheld].st, e + 10, 2);
            q->held[q->nheld].op = e[8];
            q->nheld++;
            q->rsp_cons++;
            put(q->page + 12, q->rsp_cons + 1, 4); /* rsp_event: notify for the next one */
        }
        for (unsigned k = 0; k < q->nheld; k++) {
            if (q->held[k].id == id) {
                int16_t st = q->held[k].st;
                if (op)
                    *op = q->held[k].op;
                q->held[k] = q->held[--q->nheld];
                return st;
            }
        }
        loop_run_once(b->fx->loop, 10);
    }
    fail_msg("no response to request %llu", (unsigned long long)id);
    return 99;
}

static int16_t response(struct bed *b, uint64_t id)
{
    return responseq(b, 0, id, NULL);
}

static struct rq rw(uint8_t op, uint64_t id, uint64_t sector, unsigned nseg, const int *refs,
                    uint8_t first, uint8_t last)
{
    struct rq r;
    memset(&r, 0, sizeof(r));
    r.op = op;
    r.b1 = (uint8_t)nseg;
    r.nseg = nseg;
    r.id = id;
    r.sector = sector;
    for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r.seg[i].gref = (uint32_t)refs[i];
        r.seg[i].first = first;
        r.seg[i].last = last;
    }
    return r;
}

static struct rq discard(uint64_t id, uint64_t sector, uint64_t nr)
{
    struct rq r;
    memset(&r, 0, sizeof(r));
    r.op = BLKIF_OP_DISCARD;
    r.id = id;
    r.sector = sector;
    r.nr_sectors = nr;
    return r;
}

/* An indirect request of NSEG segments described on page IPAGE (granted read-only): segment
 * i is the whole of the page REFS[i % NREFS]. */
static struct rq indirect(struct bed *b, uint8_t op, uint64_t id, uint64_t sector, unsigned nseg,
                          unsigned ipage, const int *refs, unsigned nrefs)
{
    struct rq r;
    memset(&r, 0, sizeof(r));
    r.op = BLKIF_OP_INDIRECT;
    r.b1 = op;
    r.ind_nseg = (uint16_t)nseg;
    r.id = id;
    r.sector = sector;
    uint8_t *pg = fx_pv_page(b->fp, ipage);
    memset(pg, 0, PVHOST_PAGE);
    for (unsigned i = 0; i < nseg && i < PVHOST_PAGE / 8; i++) {
        put(pg + 8 * i, (uint32_t)refs[i % nrefs], 4);
        pg[8 * i + 4] = 0;
        pg[8 * i + 5] = 7;
    }
    r.igref[0] = (uint32_t)fx_pv_grant(b->fp, ipage, 0);
    return r;
}

static void file_read(struct bed *b, void *buf, size_t len, uint64_t off)
{
    int fd = open(b->img, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void file_fill(struct bed *b, int byte, size_t len, uint64_t off)
{
    uint8_t buf[65536];
    assert_true(len <= sizeof(buf));
    memset(buf, byte, len);
    int fd = open(b->img, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static int all_bytes(const uint8_t *p, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* ---- tests ---- */

static void test_offers_and_connects(void **state)
{
    struct bed *b = *state;
    assert_int_equal(xenbus_count(qdisk_bus(b->dev)), 1); /* the CD-ROM is not ours */
    assert_int_equal(atoi(fx_pv_read(b->fp, "/local/domain/0/backend/qdisk/1/5632/state")), 1);
    assert_int_equal(be_state(b), XB_INITWAIT);
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-flush-cache"), "1");
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-barrier"), "1");
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-discard"), "1");
    assert_string_equal(fx_pv_read(b->fp, BE "/discard-granularity"), "4096");
    assert_string_equal(fx_pv_read(b->fp, BE "/discard-alignment"), "0");
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-persistent"), "1");
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-max-indirect-segments"), "256");
    assert_string_equal(fx_pv_read(b->fp, BE "/max-ring-page-order"), "4");
    assert_string_equal(fx_pv_read(b->fp, BE "/multi-queue-max-queues"), "4");
    fe_connect(b, "x86_64-abi");
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/sectors")), IMG_SECTORS);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/info")), 0);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/sector-size")), 512);
    assert_int_equal(b->fp->maps_live, 1);
    assert_int_equal(b->fp->binds_live, 1);
}

static void test_write_read_flush(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int refs[2] = { fx_pv_grant(b->fp, 1 + DATA0, 0), fx_pv_grant(b->fp, 2 + DATA0, 0) };
    memset(fx_pv_page(b->fp, 1 + DATA0), 0xa1, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, 2 + DATA0), 0xb2, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE, 7, 16, 2, refs, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 7), BLKIF_RSP_OKAY);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 8, 0, 0, NULL, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 8), BLKIF_RSP_OKAY);
    /* in the file, where sector 16 is */
    uint8_t buf[8192];
    file_read(b, buf, sizeof(buf), 16 * 512);
    assert_int_equal(buf[0], 0xa1);
    assert_int_equal(buf[4095], 0xa1);
    assert_int_equal(buf[4096], 0xb2);
    /* read back part of it: sectors 2..5 of a page, into a writable grant */
    int wref = fx_pv_grant(b->fp, 3 + DATA0, 1);
    memset(fx_pv_page(b->fp, 3 + DATA0), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 9, 24, 1, &wref, 2, 5);
    push(b, &r);
    assert_int_equal(response(b, 9), BLKIF_RSP_OKAY);
    assert_int_equal(fx_pv_page(b->fp, 3 + DATA0)[0], 0);
    assert_int_equal(fx_pv_page(b->fp, 3 + DATA0)[1024], 0xb2);
    assert_int_equal(fx_pv_page(b->fp, 3 + DATA0)[3071], 0xb2);
    assert_int_equal(fx_pv_page(b->fp, 3 + DATA0)[3072], 0);
    /* a flush that carries data: written after the flush */
    memset(fx_pv_page(b->fp, 1 + DATA0), 0xc3, PVHOST_PAGE);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 10, 100, 1, refs, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 10), BLKIF_RSP_OKAY);
    file_read(b, buf, 1024, 100 * 512);
    assert_true(all_bytes(buf, 512, 0xc3));
    assert_true(all_bytes(buf + 512, 512, 0));
}

/* A save (xen-save-devices-state) with a request in flight completes it first: its response
 * is on the ring when the save returns, and the medium has nothing left to do. */
static void test_save_completes_in_flight(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int refs[1] = { fx_pv_grant(b->fp, 1 + DATA0, 0) };
    memset(fx_pv_page(b->fp, 1 + DATA0), 0x5e, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE, 21, 40, 1, refs, 0, 7);
    push(b, &r);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 22, 0, 0, NULL, 0, 0);
    push(b, &r);
    fx_pv_run(b->fp, 0); /* the backend takes both; the flush goes to the kernel */
    struct xb_dev *d = xenbus_dev(qdisk_bus(b->dev), 0);
    assert_non_null(d);
    struct blk *blk = qdisk_blk(d);
    assert_true(blk_inflight(blk) > 0); /* the flush, in the kernel's hands */
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(pv_qdisk.save(b->dev, &w), 0);
    snap_writer_free(&w);
    assert_int_equal(blk_inflight(blk), 0);
    assert_true(has_response(b, 0)); /* without running the loop */
    assert_int_equal(response(b, 21), BLKIF_RSP_OKAY);
    assert_int_equal(response(b, 22), BLKIF_RSP_OKAY);
    uint8_t buf[4096];
    file_read(b, buf, sizeof(buf), 40 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x5e));
}

/* A save takes nothing more from the ring: a request that waited there (behind a barrier in
 * flight) is not done by the saving hvmd, before or after the state is written (the resumed
 * blkfront sends it again to the new hvmd; done here too it would be done twice, and maybe
 * after the new hvmd's writes). QMP cont (a cancelled suspend: the guest runs on here, on the
 * same ring) takes it. A save while the guest runs (no stop first) leaves the rings as they
 * were. */
static void test_save_takes_nothing_more_until_cont(void **state)
{
    struct bed *b = *state;
    struct vm *vm = &b->fx->vm;
    fe_connect(b, NULL);
    int refs[2] = { fx_pv_grant(b->fp, 1 + DATA0, 0), fx_pv_grant(b->fp, 2 + DATA0, 0) };
    memset(fx_pv_page(b->fp, 1 + DATA0), 0x3c, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, 2 + DATA0), 0x4d, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE_BARRIER, 31, 60, 1, refs, 0, 7);
    push(b, &r);
    fx_pv_run(b->fp, 0); /* the barrier's flush goes to the kernel */
    r = rw(BLKIF_OP_WRITE, 32, 80, 1, refs + 1, 0, 7);
    push(b, &r);
    fx_pv_run(b->fp, 0); /* 32 waits behind the barrier */
    struct blk *blk = qdisk_blk(xenbus_dev(qdisk_bus(b->dev), 0));
    assert_true(blk_inflight(blk) > 0);
    vm->running = 0; /* libxl's QMP stop */
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(pv_qdisk.save(b->dev, &w), 0);
    snap_writer_free(&w);
    assert_int_equal(blk_inflight(blk), 0);
    assert_int_equal(response(b, 31), BLKIF_RSP_OKAY); /* done, flush and data */
    uint8_t buf[4096];
    file_read(b, buf, sizeof(buf), 60 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x3c));
    /* 32 stays in the ring: not at the save, nor from the loop after it, nor on an event */
    settle(b);
    fx_pv_notify(b->fp, b->q[0].port);
    settle(b);
    assert_false(has_response(b, 0));
    assert_int_equal(b->q[0].nheld, 0);
    assert_int_equal(blk_stats(blk)->writes, 1);
    file_read(b, buf, sizeof(buf), 80 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0));
    /* cont: the guest runs on here; 32 is taken and done once */
    vm->running = 1;
    vm_cont(vm);
    assert_int_equal(response(b, 32), BLKIF_RSP_OKAY);
    file_read(b, buf, sizeof(buf), 80 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x4d));
    assert_int_equal(blk_stats(blk)->writes, 2);
    /* a save while running (no stop): the rings are not frozen after it */
    snap_writer_init(&w);
    assert_int_equal(pv_qdisk.save(b->dev, &w), 0);
    snap_writer_free(&w);
    memset(fx_pv_page(b->fp, 1 + DATA0), 0x5a, PVHOST_PAGE);
    r = rw(BLKIF_OP_WRITE, 33, 90, 1, refs, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 33), BLKIF_RSP_OKAY);
    file_read(b, buf, sizeof(buf), 90 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x5a));
}

static void test_bad_requests_get_errors(void **state)
{
    struct bed *b = *state;
    fe_connect(b, "x86_64-abi");
    int ro = fx_pv_grant(b->fp, 1 + DATA0, 0), rwr = fx_pv_grant(b->fp, 2 + DATA0, 1);
    int refs11[11];
    for (int i = 0; i < 11; i++)
        refs11[i] = rwr;
    struct rq r;
    r = rw(BLKIF_OP_READ, 1, 0, 0, NULL, 0, 7);                 /* no segment */
    push(b, &r); assert_int_equal(response(b, 1), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 2, 0, 11, refs11, 0, 7);
    r.b1 = 12;                                                  /* too many */
    push(b, &r); assert_int_equal(response(b, 2), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 3, 0, 1, &rwr, 5, 2);                 /* first > last */
    push(b, &r); assert_int_equal(response(b, 3), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 4, 0, 1, &rwr, 0, 8);                 /* past the page */
    push(b, &r); assert_int_equal(response(b, 4), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 5, IMG_SECTORS - 4, 1, &rwr, 0, 7);   /* past the image */
    push(b, &r); assert_int_equal(response(b, 5), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 6, UINT64_MAX / 256, 1, &rwr, 0, 7);  /* far past, overflowing */
    push(b, &r); assert_int_equal(response(b, 6), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 7, 0, 1, &ro, 0, 7);                  /* read into a read-only grant */
    push(b, &r); assert_int_equal(response(b, 7), BLKIF_RSP_ERROR);
    int bogus = 99;
    r = rw(BLKIF_OP_WRITE, 8, 0, 1, &bogus, 0, 7);              /* never granted */
    push(b, &r); assert_int_equal(response(b, 8), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 9, 0, 11, refs11, 0, 7);
    r.b1 = 12;                                                  /* a flush with too many */
    push(b, &r); assert_int_equal(response(b, 9), BLKIF_RSP_ERROR);
    r = rw(200, 10, 0, 0, NULL, 0, 0);
    push(b, &r); assert_int_equal(response(b, 10), BLKIF_RSP_EOPNOTSUPP);
    r = rw(BLKIF_OP_RESERVED_1, 11, 0, 0, NULL, 0, 0);
    push(b, &r); assert_int_equal(response(b, 11), BLKIF_RSP_EOPNOTSUPP);
    r = rw(BLKIF_OP_WRITE_BARRIER, 12, IMG_SECTORS, 1, &rwr, 0, 0); /* a barrier past the end */
    push(b, &r); assert_int_equal(response(b, 12), BLKIF_RSP_ERROR);
    r = discard(13, IMG_SECTORS - 1, 2);                         /* discard past the end */
    push(b, &r); assert_int_equal(response(b, 13), BLKIF_RSP_ERROR);
    r = discard(14, 1, UINT64_MAX / 4);                          /* overflowing */
    push(b, &r); assert_int_equal(response(b, 14), BLKIF_RSP_ERROR);
    assert_int_equal(be_state(b), XB_CONNECTED);
    /* nothing was written anywhere */
    uint8_t buf[512];
    file_read(b, buf, sizeof(buf), 0);
    assert_true(all_bytes(buf, sizeof(buf), 0));
}

static void test_readonly_disk(void **state)
{
    struct bed *b = *state;
    assert_null(fx_pv_read(b->fp, BE "/feature-discard"));
    fe_connect(b, NULL);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/info")), VDISK_READONLY);
    int ref = fx_pv_grant(b->fp, 1 + DATA0, 0);
    struct rq r = rw(BLKIF_OP_WRITE, 1, 0, 1, &ref, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_ERROR);
    r = discard(2, 0, 8);
    push(b, &r);
    assert_int_equal(response(b, 2), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_WRITE_BARRIER, 3, 0, 1, &ref, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 3), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 4, 0, 0, NULL, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 4), BLKIF_RSP_OKAY);
}

static void test_discard_punches_a_hole(void **state)
{
    struct bed *b = *state;
    file_fill(b, 0x5a, 64 * 512, 64 * 512); /* sectors 64..127 */
    fe_connect(b, NULL);
    struct rq r = discard(1, 72, 16);       /* 80..87: 4 KiB aligned */
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_OKAY);
    r = discard(2, 100, 1);                 /* one sector, not aligned to the granularity */
    push(b, &r);
    assert_int_equal(response(b, 2), BLKIF_RSP_OKAY);
    r = discard(3, 0, 0);                   /* nothing */
    push(b, &r);
    assert_int_equal(response(b, 3), BLKIF_RSP_OKAY);
    uint8_t buf[64 * 512];
    file_read(b, buf, sizeof(buf), 64 * 512);
    assert_true(all_bytes(buf, 8 * 512, 0x5a));              /* 64..71 */
    assert_true(all_bytes(buf + 8 * 512, 16 * 512, 0));      /* 72..87 */
    assert_true(all_bytes(buf + 24 * 512, 12 * 512, 0x5a));  /* 88..99 */
    assert_true(all_bytes(buf + 36 * 512, 512, 0));          /* 100 */
    assert_true(all_bytes(buf + 37 * 512, 27 * 512, 0x5a));  /* 101..127 */
    /* and the guest reads zeros there */
    int w = fx_pv_grant(b->fp, DATA0, 1);
    memset(fx_pv_page(b->fp, DATA0), 0xff, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 4, 72, 1, &w, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 4), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0), PVHOST_PAGE, 0));
}

static void test_no_discard_when_disabled(void **state)
{
    struct bed *b = *state;
    assert_null(fx_pv_read(b->fp, BE "/feature-discard"));
    fe_connect(b, NULL);
    struct rq r = discard(1, 0, 8);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_EOPNOTSUPP);
}

static void test_write_barrier(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int refs[2] = { fx_pv_grant(b->fp, DATA0, 0), fx_pv_grant(b->fp, DATA0 + 1, 0) };
    memset(fx_pv_page(b->fp, DATA0), 0x11, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, DATA0 + 1), 0x22, PVHOST_PAGE);
    /* a write, a barrier with data, a write after it: all in one batch */
    struct rq r = rw(BLKIF_OP_WRITE, 1, 200, 1, refs, 0, 7);
    queue_req(b, 0, &r);
    r = rw(BLKIF_OP_WRITE_BARRIER, 2, 200, 1, refs + 1, 0, 3); /* overwrites 200..203 */
    queue_req(b, 0, &r);
    r = rw(BLKIF_OP_WRITE_BARRIER, 3, 0, 0, NULL, 0, 0);       /* an empty barrier */
    queue_req(b, 0, &r);
    r = rw(BLKIF_OP_WRITE, 4, 202, 1, refs, 0, 0);             /* after the barriers */
    queue_req(b, 0, &r);
    publish(b, 0);
    uint8_t op;
    assert_int_equal(responseq(b, 0, 1, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_WRITE);
    assert_int_equal(responseq(b, 0, 2, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_WRITE_BARRIER);
    assert_int_equal(responseq(b, 0, 3, &op), BLKIF_RSP_OKAY);
    assert_int_equal(responseq(b, 0, 4, &op), BLKIF_RSP_OKAY);
    uint8_t buf[8 * 512];
    file_read(b, buf, sizeof(buf), 200 * 512);
    assert_true(all_bytes(buf, 2 * 512, 0x22));
    assert_true(all_bytes(buf + 2 * 512, 512, 0x11)); /* the write after the barrier won */
    assert_true(all_bytes(buf + 3 * 512, 512, 0x22));
    assert_true(all_bytes(buf + 4 * 512, 4 * 512, 0x11));
}

static void test_indirect_segments(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int src[8], dst[10];
    for (int i = 0; i < 8; i++) {
        memset(fx_pv_page(b->fp, DATA0 + i), 0x40 + i, PVHOST_PAGE);
        src[i] = fx_pv_grant(b->fp, DATA0 + i, 0);
    }
    for (int i = 0; i < 10; i++) {
        memset(fx_pv_page(b->fp, DATA0 + 10 + i), 0, PVHOST_PAGE);
        dst[i] = fx_pv_grant(b->fp, DATA0 + 10 + i, 1);
    }
    /* 40 segments of 4 KiB at sector 128: 160 KiB, page i % 8 each */
    struct rq r = indirect(b, BLKIF_OP_WRITE, 1, 128, 40, 30, src, 8);
    push(b, &r);
    uint8_t op;
    assert_int_equal(responseq(b, 0, 1, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_WRITE); /* the indirect operation, as blkfront checks */
    uint8_t buf[4096];
    for (int i = 0; i < 40; i++) {
        file_read(b, buf, sizeof(buf), 128 * 512 + (uint64_t)i * 4096);
        assert_true(all_bytes(buf, sizeof(buf), 0x40 + i % 8));
    }
    /* read 20 of them back into 10 pages: the later 10 win */
    r = indirect(b, BLKIF_OP_READ, 2, 128, 20, 31, dst, 10);
    push(b, &r);
    assert_int_equal(responseq(b, 0, 2, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_READ);
    for (int j = 0; j < 10; j++)
        assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 10 + j), PVHOST_PAGE, 0x40 + (j + 10) % 8));
    /* the largest offered: 256 segments, 1 MiB */
    r = indirect(b, BLKIF_OP_WRITE, 3, 0, 256, 30, src, 8);
    push(b, &r);
    assert_int_equal(response(b, 3), BLKIF_RSP_OKAY);
    file_read(b, buf, sizeof(buf), 255 * 4096);
    assert_true(all_bytes(buf, sizeof(buf), 0x40 + 255 % 8));

    /* hostile ones: nothing is written */
    file_fill(b, 0, 65536, 1024 * 512);
    r = indirect(b, BLKIF_OP_WRITE, 10, 1024, 0, 30, src, 8);          /* no segment */
    push(b, &r); assert_int_equal(response(b, 10), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 11, 1024, 257, 30, src, 8);        /* more than offered */
    push(b, &r); assert_int_equal(response(b, 11), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 12, 1024, 512, 30, src, 8);
    r.ind_nseg = 4096;                                                  /* 8 pages' worth */
    push(b, &r); assert_int_equal(response(b, 12), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_FLUSH_DISKCACHE, 13, 1024, 4, 30, src, 8); /* not READ/WRITE */
    push(b, &r); assert_int_equal(response(b, 13), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_INDIRECT, 14, 1024, 4, 30, src, 8);       /* nor itself */
    push(b, &r); assert_int_equal(response(b, 14), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 15, 1024, 4, 30, src, 8);
    r.igref[0] = 1999;                                                  /* not granted */
    push(b, &r); assert_int_equal(response(b, 15), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 16, 1024, 4, 30, src, 8);
    fx_pv_page(b->fp, 30)[8 * 3 + 5] = 8;                               /* a segment past its page */
    push(b, &r); assert_int_equal(response(b, 16), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 17, 1024, 4, 30, src, 8);
    put(fx_pv_page(b->fp, 30) + 8 * 2, 1999, 4);                        /* a data grant not granted */
    push(b, &r); assert_int_equal(response(b, 17), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_WRITE, 18, IMG_SECTORS - 8, 2, 30, src, 8); /* past the image */
    push(b, &r); assert_int_equal(response(b, 18), BLKIF_RSP_ERROR);
    r = indirect(b, BLKIF_OP_READ, 19, 1024, 2, 30, src, 8);            /* read into read-only */
    push(b, &r); assert_int_equal(response(b, 19), BLKIF_RSP_ERROR);
    uint8_t big[65536];
    file_read(b, big, sizeof(big), 1024 * 512);
    assert_true(all_bytes(big, sizeof(big), 0));
    assert_int_equal(be_state(b), XB_CONNECTED);
}

/* the x86_32 layout: 108-byte entries, 4-aligned 64-bit fields, 12-byte responses */
static void test_x86_32_abi(void **state)
{
    struct bed *b = *state;
    fe_connect(b, "x86_32-abi");
    assert_int_equal(be_state(b), XB_CONNECTED);
    int s = fx_pv_grant(b->fp, DATA0, 0), d = fx_pv_grant(b->fp, DATA0 + 1, 1);
    memset(fx_pv_page(b->fp, DATA0), 0x32, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, DATA0 + 1), 0, PVHOST_PAGE);
    /* several in one batch: the response entries must be where the ABI puts them */
    struct rq r = rw(BLKIF_OP_WRITE, 0x1122334455667788ull, 300, 1, &s, 0, 7);
    queue_req(b, 0, &r);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 2, 0, 0, NULL, 0, 0);
    queue_req(b, 0, &r);
    r = rw(BLKIF_OP_READ, 3, 302, 1, &d, 1, 2);
    queue_req(b, 0, &r);
    r = discard(4, 304, 2);
    queue_req(b, 0, &r);
    int srcs[1] = { s };
    r = indirect(b, BLKIF_OP_WRITE, 5, 400, 3, 30, srcs, 1);
    queue_req(b, 0, &r);
    publish(b, 0);
    uint8_t op;
    assert_int_equal(responseq(b, 0, 0x1122334455667788ull, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_WRITE);
    assert_int_equal(responseq(b, 0, 2, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_FLUSH_DISKCACHE);
    assert_int_equal(responseq(b, 0, 3, &op), BLKIF_RSP_OKAY);
    assert_int_equal(responseq(b, 0, 4, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_DISCARD);
    assert_int_equal(responseq(b, 0, 5, &op), BLKIF_RSP_OKAY);
    assert_int_equal(op, BLKIF_OP_WRITE);
    /* the response entries are 108 bytes apart, the responses themselves 12 bytes */
    assert_int_equal(b->q[0].nr_ents, 32);
    uint8_t buf[8 * 512];
    file_read(b, buf, sizeof(buf), 300 * 512);
    assert_true(all_bytes(buf, 4 * 512, 0x32));
    assert_true(all_bytes(buf + 4 * 512, 2 * 512, 0));     /* discarded */
    assert_true(all_bytes(buf + 6 * 512, 2 * 512, 0x32));
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1), 512, 0));
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1) + 512, 1024, 0x32));
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1) + 1536, 512, 0));
    file_read(b, buf, sizeof(buf), 400 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x32));
    /* a request that is wrong in this ABI is still answered, in this ABI */
    r = rw(BLKIF_OP_READ, 6, 0, 0, NULL, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 6), BLKIF_RSP_ERROR);
}

static void test_unknown_protocol_closes(void **state)
{
    struct bed *b = *state;
    static const char *const bad[] = { "arm-abi", "x86_64-abi ", "", "x86_32", "native" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fe_connect(b, bad[i]);
        assert_int_equal(be_state(b), XB_CLOSING);
        assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
        fx_pv_write(b->fp, FE "/state", "6");
        settle(b);
        fx_pv_write(b->fp, FE "/state", "1");
        settle(b);
        for (unsigned k = 0; k < b->q[0].npages; k++)
            fx_pv_revoke(b->fp, b->q[0].refs[k]);
    }
    /* and a good one after all that */
    fe_connect(b, "x86_64-abi");
    assert_int_equal(be_state(b), XB_CONNECTED);
}

static void test_multi_page_ring(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 2, 1, 0);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->maps_live, 4);
    assert_int_equal(b->q[0].nr_ents, 128);
    int w = fx_pv_grant(b->fp, DATA0, 1);
    /* more than a one-page ring holds, in one batch and one notification */
    for (unsigned i = 0; i < 120; i++) {
        struct rq r = i % 3 == 2 ? rw(BLKIF_OP_FLUSH_DISKCACHE, i, 0, 0, NULL, 0, 0)
                                 : rw(BLKIF_OP_READ, i, i, 1, &w, 0, 7);
        queue_req(b, 0, &r);
    }
    publish(b, 0);
    for (unsigned i = 0; i < 120; i++)
        assert_int_equal(response(b, i), BLKIF_RSP_OKAY);
    /* round the ring twice more */
    for (unsigned i = 0; i < 256; i++) {
        struct rq r = rw(BLKIF_OP_READ, 1000 + i, i, 1, &w, 0, 0);
        push(b, &r);
        assert_int_equal(response(b, 1000 + i), BLKIF_RSP_OKAY);
    }
}

/* 16 pages, 512 entries, one notification: more than the backend takes per callback */
static void test_largest_ring_bounded_work(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 4, 1, 0);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->q[0].nr_ents, 512);
    int w = fx_pv_grant(b->fp, DATA0, 1);
    for (unsigned i = 0; i < 500; i++) {
        struct rq r = rw(BLKIF_OP_READ, i, i, 1, &w, 0, 7);
        queue_req(b, 0, &r);
    }
    publish(b, 0);
    fx_pv_run(b->fp, 0); /* the event: one callback */
    uint32_t first = __atomic_load_n((uint32_t *)(b->q[0].page + 8), __ATOMIC_ACQUIRE);
    assert_true(first > 0);
    assert_true(first < 500); /* not all of it at once */
    for (unsigned i = 0; i < 500; i++)
        assert_int_equal(response(b, i), BLKIF_RSP_OKAY);
}

static void test_bad_ring_parameters(void **state)
{
    struct bed *b = *state;
    static const struct { const char *node, *val; } bad[] = {
        { "ring-page-order", "5" }, { "ring-page-order", "abc" },
        { "ring-page-order", "18446744073709551617" }, { "ring-page-order", "-1" },
        { "multi-queue-num-queues", "5" }, { "multi-queue-num-queues", "0" },
        { "multi-queue-num-queues", "1x" }, { "ring-ref", "4294967296" },
        { "ring-ref", "1999" }, { "event-channel", "99" }, { "event-channel", "" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fe_connect(b, NULL);
        assert_int_equal(be_state(b), XB_CONNECTED);
        fx_pv_write(b->fp, FE "/state", "6");
        settle(b);
        fx_pv_write(b->fp, FE "/state", "1");
        settle(b);
        char p[128];
        snprintf(p, sizeof(p), FE "/%s", bad[i].node);
        fx_pv_write(b->fp, p, bad[i].val);
        fx_pv_write(b->fp, FE "/state", "3");
        settle(b);
        assert_int_equal(be_state(b), XB_CLOSING);
        assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
        fx_pv_write(b->fp, p, NULL);
        fx_pv_write(b->fp, FE "/state", "6");
        settle(b);
        fx_pv_write(b->fp, FE "/state", "1");
        settle(b);
        fx_pv_revoke(b->fp, b->q[0].refs[0]);
    }
    /* order 1 with its second page missing */
    fx_pv_write(b->fp, FE "/ring-page-order", "1");
    fx_pv_write(b->fp, FE "/ring-ref0", "1");
    fx_pv_write(b->fp, FE "/state", "3");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
}

static void test_multi_queue(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 1, 3, 0);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->maps_live, 6);
    assert_int_equal(b->fp->binds_live, 3);
    int s = fx_pv_grant(b->fp, DATA0, 0), w = fx_pv_grant(b->fp, DATA0 + 1, 1);
    memset(fx_pv_page(b->fp, DATA0), 0x77, PVHOST_PAGE);
    unsigned before[3];
    for (unsigned qi = 0; qi < 3; qi++)
        before[qi] = fx_pv_notified(b->fp, b->q[qi].port);
    for (unsigned qi = 0; qi < 3; qi++) {
        struct rq r = rw(BLKIF_OP_WRITE, 10 + qi, 8 * qi, 1, &s, 0, 7);
        pushq(b, qi, &r);
    }
    for (unsigned qi = 0; qi < 3; qi++) {
        assert_int_equal(responseq(b, qi, 10 + qi, NULL), BLKIF_RSP_OKAY);
        assert_true(fx_pv_notified(b->fp, b->q[qi].port) > before[qi]);
    }
    struct rq r = rw(BLKIF_OP_READ, 20, 16, 1, &w, 0, 7);
    pushq(b, 2, &r);
    assert_int_equal(responseq(b, 2, 20, NULL), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1), PVHOST_PAGE, 0x77));
    /* one queue's ring running ahead closes the whole device */
    __atomic_store_n((uint32_t *)b->q[1].page, b->q[1].req_prod_pvt + 1000, __ATOMIC_RELEASE);
    fx_pv_notify(b->fp, b->q[1].port);
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    /* a queue without its event channel: the queues before it are undone, nothing stays */
    fx_pv_write(b->fp, FE "/state", "1");
    settle(b);
    for (unsigned qi = 0; qi < 2; qi++) {
        char p[96];
        b->q[qi].port = fx_pv_alloc_port(b->fp);
        snprintf(p, sizeof(p), FE "/queue-%u/event-channel", qi);
        fx_pv_writef(b->fp, p, "%d", b->q[qi].port);
    }
    fx_pv_write(b->fp, FE "/queue-2/event-channel", NULL);
    fx_pv_write(b->fp, FE "/state", "3");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
}

/* the bounded decimals every frontend value goes through (dm/pvhost.c): a digit larger than
 * a small bound must not wrap the check ("5" for at most 4 queues) */
static void test_read_uint_bounds(void **state)
{
    struct bed *b = *state;
    static const struct { const char *val; uint64_t max; int ok; uint64_t v; } c[] = {
        { "4", 4, 1, 4 }, { "5", 4, 0, 0 }, { "9", 8, 0, 0 }, { "0", 0, 1, 0 }, { "1", 0, 0, 0 },
        { "10", 9, 0, 0 }, { "16", 16, 1, 16 }, { "17", 16, 0, 0 }, { "99", 16, 0, 0 },
        { "18446744073709551615", UINT64_MAX, 1, UINT64_MAX },
        { "18446744073709551616", UINT64_MAX, 0, 0 }, { "4294967296", UINT32_MAX, 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t v = 12345;
        fx_pv_write(b->fp, FE "/x", c[i].val);
        int r = pvhost_read_uint(&b->fp->pv, c[i].max, &v, FE "/x");
        if (c[i].ok) {
            assert_int_equal(r, 0);
            assert_true(v == c[i].v);
        } else {
            assert_int_equal(r, -EINVAL);
            assert_true(v == 12345);
        }
    }
}

/* five queues, each complete: more than offered */
static void test_too_many_queues(void **state)
{
    struct bed *b = *state;
    for (unsigned i = 0; i < 5; i++) {
        char p[96];
        snprintf(p, sizeof(p), FE "/queue-%u/ring-ref", i);
        fx_pv_writef(b->fp, p, "%d", fx_pv_grant(b->fp, i, 1));
        snprintf(p, sizeof(p), FE "/queue-%u/event-channel", i);
        fx_pv_writef(b->fp, p, "%d", fx_pv_alloc_port(b->fp));
    }
    fx_pv_write(b->fp, FE "/multi-queue-num-queues", "5");
    fx_pv_write(b->fp, FE "/state", "3");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
}

static void count_region(void *opaque, const struct io_region *r)
{
    (*(unsigned *)opaque)++;
}

static void count_pci(void *opaque, struct pci_dev *d)
{
    (*(unsigned *)opaque)++;
}

/* -machine xenpv, libxl's argv for a PV or PVH guest whose disk is qdisk's: the machine has
 * the PV backends and nothing else (no PCI device, no port or MMIO region), and the disk is
 * served */
static void test_xenpv_machine(void **state)
{
    struct bed *b = *state;
    const char *argv[] = {
        "-xen-domid", "1", "-no-shutdown", "-nodefaults", "-no-user-config", "-xen-attach",
        "-name", "pvh", "-vnc", "none", "-display", "none", "-machine", "xenpv", "-m", "512",
    };
    struct config cfg;
    char err[256] = "";
    assert_int_equal(config_parse(&cfg, (int)(sizeof(argv) / sizeof(argv[0])), argv, err,
                                  sizeof(err)), 0);
    /* the bed's own qdisk goes; the machine's takes the disk */
    pv_qdisk.destroy(b->dev);
    b->dev = NULL;
    fx_pv_write(b->fp, BE "/state", "1");
    b->fx->vm.cfg = &cfg;
    struct machine m;
    unsigned regions0 = 0, regions = 0, pcidevs = 0;
    bus_for_each(b->fx->vm.bus, count_region, &regions0); /* the empty PCI bus's 0xcf8 */
    assert_int_equal(machine_create(&m, &b->fx->vm, err, sizeof(err)), 0);
    fx_pv_run(b->fp, 0);
    bus_for_each(b->fx->vm.bus, count_region, &regions);
    pci_for_each(b->fx->vm.pci, count_pci, &pcidevs);
    assert_int_equal(regions, regions0);
    assert_int_equal(pcidevs, 0);
    assert_int_equal(be_state(b), XB_INITWAIT);
    fe_connect_mq(b, "x86_64-abi", 2, 2, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int w = fx_pv_grant(b->fp, DATA0, 1);
    struct rq r = rw(BLKIF_OP_READ, 1, 0, 1, &w, 0, 7);
    pushq(b, 1, &r);
    assert_int_equal(responseq(b, 1, 1, NULL), BLKIF_RSP_OKAY);
    machine_destroy(&m);
    b->fx->vm.cfg = NULL;
    config_free(&cfg);
}

static void test_persistent_grants(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 0, 1, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int g[2] = { fx_pv_grant(b->fp, DATA0, 1), fx_pv_grant(b->fp, DATA0 + 1, 1) };
    memset(fx_pv_page(b->fp, DATA0), 0x61, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, DATA0 + 1), 0x62, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE, 1, 500, 2, g, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_OKAY);
    assert_int_equal(b->fp->maps_live, 3); /* the ring and the two data grants, kept */
    uint64_t copies = b->fp->copies;
    /* the same grants again: no grant copy, no new mapping */
    memset(fx_pv_page(b->fp, DATA0), 0x63, PVHOST_PAGE);
    r = rw(BLKIF_OP_WRITE, 2, 508, 2, g, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 2), BLKIF_RSP_OKAY);
    memset(fx_pv_page(b->fp, DATA0), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 3, 500, 1, g, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 3), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0), PVHOST_PAGE, 0x61));
    assert_int_equal(b->fp->copies, copies);
    assert_int_equal(b->fp->maps_live, 3);
    uint8_t buf[4096];
    file_read(b, buf, sizeof(buf), 508 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x63));
    /* a grant that is read-only does not map writable: grant copy serves it */
    int ro = fx_pv_grant(b->fp, DATA0 + 2, 0);
    memset(fx_pv_page(b->fp, DATA0 + 2), 0x64, PVHOST_PAGE);
    r = rw(BLKIF_OP_WRITE, 4, 516, 1, &ro, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 4), BLKIF_RSP_OKAY);
    assert_int_equal(b->fp->maps_live, 3);
    file_read(b, buf, sizeof(buf), 516 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x64));
    /* a frontend that never reuses its grants: the mapped set stays bounded */
    for (unsigned i = 0; i < 1100; i++) {
        int ref = fx_pv_grant(b->fp, DATA0 + 3 + i % 8, 1);
        assert_true(ref > 0);
        r = rw(BLKIF_OP_READ, 100 + i, i % 64, 1, &ref, 0, 0);
        push(b, &r);
        assert_int_equal(response(b, 100 + i), BLKIF_RSP_OKAY);
    }
    assert_true(b->fp->maps_live <= 1 + 1024);
    assert_true(b->fp->maps_live >= 1000);
    /* disconnect unmaps them all */
    fx_pv_write(b->fp, FE "/state", "5");
    settle(b);
    assert_int_equal(b->fp->maps_live, 0);
}

/* A frontend that closes and comes back (a guest reboot without a new domain: kexec; a resume):
 * Closing/Closed unmap and unbind everything, Initialising gets InitWait, the new connection
 * serves the same disk (what was written before is read back, new writes land); and straight
 * from Connected to Initialising (a frontend that lost its state) the same. */
static void test_frontend_restarts(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 0, 1, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int g = fx_pv_grant(b->fp, DATA0, 1);
    memset(fx_pv_page(b->fp, DATA0), 0x71, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE, 1, 64, 1, &g, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_OKAY);
    assert_int_equal(b->fp->maps_live, 2); /* the ring and the persistent data grant */
    fx_pv_write(b->fp, FE "/state", "5");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSED);
    fx_pv_revoke(b->fp, g);
    fx_pv_revoke(b->fp, b->q[0].refs[0]);
    fx_pv_write(b->fp, FE "/state", "1");
    settle(b);
    assert_int_equal(be_state(b), XB_INITWAIT);
    /* the new connection: new ring, new event channel, new grants */
    fe_connect_mq(b, NULL, 0, 1, 1);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int g2 = fx_pv_grant(b->fp, DATA0 + 1, 1);
    memset(fx_pv_page(b->fp, DATA0 + 1), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 2, 64, 1, &g2, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 2), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1), PVHOST_PAGE, 0x71));
    memset(fx_pv_page(b->fp, DATA0 + 1), 0x72, PVHOST_PAGE);
    r = rw(BLKIF_OP_WRITE, 3, 72, 1, &g2, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 3), BLKIF_RSP_OKAY);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 4, 0, 0, NULL, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 4), BLKIF_RSP_OKAY);
    uint8_t buf[4096];
    file_read(b, buf, sizeof(buf), 72 * 512);
    assert_true(all_bytes(buf, sizeof(buf), 0x72));
    /* straight from Connected to Initialising */
    fx_pv_write(b->fp, FE "/state", "1");
    settle(b);
    assert_int_equal(be_state(b), XB_INITWAIT);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_revoke(b->fp, g2);
    fx_pv_revoke(b->fp, b->q[0].refs[0]);
    fe_connect_mq(b, NULL, 0, 1, 0);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int g3 = fx_pv_grant(b->fp, DATA0 + 2, 1);
    memset(fx_pv_page(b->fp, DATA0 + 2), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 5, 72, 1, &g3, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 5), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 2), PVHOST_PAGE, 0x72));
}

/* Linux's blkfront unbound or its module unloaded, then loaded again (no reboot): the frontend
 * drops from Connected straight to Closed; the backend answers Closed and offers the device
 * again (Connected, no connection); the rebound blkfront writes a new ring and event channel,
 * Initialised then Connected, without going through Initialising; the data written before is
 * read back. A shutdown's Closing then Closed is not offered again. */
static void test_frontend_rebinds(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, NULL, 0, 1, 1);
    fx_pv_write(b->fp, FE "/state", "4");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED);
    int g = fx_pv_grant(b->fp, DATA0, 1);
    memset(fx_pv_page(b->fp, DATA0), 0x5b, PVHOST_PAGE);
    struct rq r = rw(BLKIF_OP_WRITE, 1, 80, 1, &g, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_OKAY);
    /* unbind: Connected -> Closed */
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED); /* (Closed, then offered again) */
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_revoke(b->fp, g);
    fx_pv_revoke(b->fp, b->q[0].refs[0]);
    /* another change of the frontend's directory while it is unbound changes nothing */
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->maps_live, 0);
    /* bound again: talk_to_blkback (Initialised), then Connected at once */
    fe_connect_mq(b, NULL, 0, 1, 1);
    fx_pv_write(b->fp, FE "/state", "4");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->binds_live, 1);
    int g2 = fx_pv_grant(b->fp, DATA0 + 1, 1);
    memset(fx_pv_page(b->fp, DATA0 + 1), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 2, 80, 1, &g2, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 2), BLKIF_RSP_OKAY);
    assert_true(all_bytes(fx_pv_page(b->fp, DATA0 + 1), PVHOST_PAGE, 0x5b));
    /* a shutdown: Closing, then Closed: the backend stays Closed */
    fx_pv_write(b->fp, FE "/state", "5");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSED);
    assert_int_equal(b->fp->maps_live, 0);
    assert_int_equal(b->fp->binds_live, 0);
    /* back through Initialising, unbound, then removed by the toolstack (online 0, state
     * Closing, as libxl writes them): Closed */
    fx_pv_revoke(b->fp, g2);
    fx_pv_revoke(b->fp, b->q[0].refs[0]);
    fx_pv_write(b->fp, FE "/state", "1");
    settle(b);
    assert_int_equal(be_state(b), XB_INITWAIT);
    fe_connect_mq(b, NULL, 0, 1, 0);
    fx_pv_write(b->fp, FE "/state", "4");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED);
    fx_pv_write(b->fp, FE "/state", "6");
    settle(b);
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(b->fp->binds_live, 0);
    fx_pv_write(b->fp, BE "/online", "0");
    fx_pv_write(b->fp, BE "/state", "5");
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSED);
    assert_int_equal(b->fp->maps_live, 0);
}

static void test_producer_ahead_closes(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    __atomic_store_n((uint32_t *)b->q[0].page, 1000, __ATOMIC_RELEASE);
    fx_pv_notify(b->fp, b->q[0].port);
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
}

/* a producer index that goes backwards, behind what was taken */
static void test_producer_behind_closes(void **state)
{
    struct bed *b = *state;
    fe_connect_mq(b, "x86_32-abi", 1, 1, 0);
    int w = fx_pv_grant(b->fp, DATA0, 1);
    for (unsigned i = 0; i < 5; i++) {
        struct rq r = rw(BLKIF_OP_READ, i, i, 1, &w, 0, 7);
        push(b, &r);
        assert_int_equal(response(b, i), BLKIF_RSP_OKAY);
    }
    __atomic_store_n((uint32_t *)b->q[0].page, 3, __ATOMIC_RELEASE);
    fx_pv_notify(b->fp, b->q[0].port);
    settle(b);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
}

/* a full ring of requests, then the frontend goes away with them in flight */
static void test_full_ring_then_close(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int ref = fx_pv_grant(b->fp, 1 + DATA0, 1);
    unsigned n = b->q[0].nr_ents;
    for (unsigned i = 0; i < n; i++) {
        struct rq r = i % 2 ? rw(BLKIF_OP_FLUSH_DISKCACHE, i, 0, 0, NULL, 0, 0)
                            : rw(BLKIF_OP_READ, i, i, 1, &ref, 0, 7);
        queue_req(b, 0, &r);
    }
    publish(b, 0);
    fx_pv_run(b->fp, 0);
    fx_pv_write(b->fp, FE "/state", "5");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
    fx_pv_write(b->fp, FE "/state", "6");
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSED);
    /* and it comes back */
    fx_pv_write(b->fp, FE "/state", "1");
    fx_pv_run(b->fp, 0);
    fx_pv_revoke(b->fp, b->q[0].refs[0]);
    fe_connect(b, NULL);
    assert_int_equal(be_state(b), XB_CONNECTED);
    struct rq r = rw(BLKIF_OP_READ, 77, 0, 1, &ref, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 77), BLKIF_RSP_OKAY);
}

/* the backend's whole life after the seccomp filter, every feature used: what it does itself
 * is allowed (the real host's gntdev and event channel ioctls are in the list test_sandbox
 * checks; the image was opened before, as hvmd does) */
static void test_under_the_sandbox(void **state)
{
    struct bed *b = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(10);
        int bad = 0;
        fe_connect_mq(b, "x86_32-abi", 1, 2, 1);
        if (be_state(b) != XB_CONNECTED)
            _exit(11);
        int s = fx_pv_grant(b->fp, DATA0, 1), w = fx_pv_grant(b->fp, DATA0 + 1, 1);
        memset(fx_pv_page(b->fp, DATA0), 0x99, PVHOST_PAGE);
        struct rq r = rw(BLKIF_OP_WRITE, 1, 0, 1, &s, 0, 7);
        pushq(b, 0, &r);
        bad |= responseq(b, 0, 1, NULL) != BLKIF_RSP_OKAY;
        r = rw(BLKIF_OP_WRITE_BARRIER, 2, 8, 1, &s, 0, 7);
        pushq(b, 1, &r);
        bad |= responseq(b, 1, 2, NULL) != BLKIF_RSP_OKAY;
        r = indirect(b, BLKIF_OP_WRITE, 3, 16, 20, 30, &s, 1);
        pushq(b, 0, &r);
        bad |= responseq(b, 0, 3, NULL) != BLKIF_RSP_OKAY;
        r = discard(4, 8, 8);
        pushq(b, 1, &r);
        bad |= responseq(b, 1, 4, NULL) != BLKIF_RSP_OKAY;
        r = rw(BLKIF_OP_FLUSH_DISKCACHE, 5, 0, 0, NULL, 0, 0);
        pushq(b, 0, &r);
        bad |= responseq(b, 0, 5, NULL) != BLKIF_RSP_OKAY;
        r = rw(BLKIF_OP_READ, 6, 16, 1, &w, 0, 7);
        pushq(b, 1, &r);
        bad |= responseq(b, 1, 6, NULL) != BLKIF_RSP_OKAY;
        bad |= !all_bytes(fx_pv_page(b->fp, DATA0 + 1), PVHOST_PAGE, 0x99);
        if (bad)
            _exit(12);
        /* a hostile index closes it, from the loop */
        __atomic_store_n((uint32_t *)b->q[1].page, 77777, __ATOMIC_RELEASE);
        fx_pv_notify(b->fp, b->q[1].port);
        settle(b);
        if (be_state(b) != XB_CLOSING || b->fp->maps_live || b->fp->binds_live)
            _exit(13);
        fx_pv_write(b->fp, FE "/state", "6");
        settle(b);
        fx_pv_write(b->fp, BE, NULL);
        settle(b);
        pv_qdisk.destroy(b->dev);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* what the child wrote is in the image: discarded 8..15, the barrier's data gone with it */
    uint8_t buf[24 * 512];
    file_read(b, buf, sizeof(buf), 0);
    assert_true(all_bytes(buf, 8 * 512, 0x99));
    assert_true(all_bytes(buf + 8 * 512, 8 * 512, 0));
    assert_true(all_bytes(buf + 16 * 512, 8 * 512, 0x99));
}

static int setup_enospc(void **state)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "16", "-io-error",
                                        "werror=enospc" };
    *state = bed_new_args("w", NULL, argv, 6);
    return 0;
}

/* hvmd -io-error werror=enospc (libxl passes no -drive for a qdisk): a write the host refuses
 * with ENOSPC gets no response and the domain is paused; cont writes it once, then answers */
static void test_enospc_stop_cont(void **state)
{
    struct bed *b = *state;
    struct vm *vm = &b->fx->vm;
    fe_connect(b, NULL);
    struct blk *blk = qdisk_blk(xenbus_dev(qdisk_bus(b->dev), 0));
    assert_non_null(blk);
    assert_int_equal(blk_werror(blk), BLK_POLICY_ENOSPC);
    int ref = fx_pv_grant(b->fp, DATA0, 0);
    memset(fx_pv_page(b->fp, DATA0), 0xc3, PVHOST_PAGE);
    blk_inject_error(blk, BLK_WRITE, ENOSPC, 1);
    struct rq r = rw(BLKIF_OP_WRITE, 5, 40, 1, &ref, 0, 7);
    push(b, &r);
    for (int i = 0; i < 5; i++) {
        fx_pv_run(b->fp, 0);
        loop_run_once(b->fx->loop, 1);
    }
    assert_false(has_response(b, 0));
    assert_int_equal(b->fx->pause_count, 1);
    assert_true(vm->io_error);
    uint64_t writes = blk_stats(blk)->writes;
    vm_io_resume(vm, 0);
    assert_int_equal(response(b, 5), BLKIF_RSP_OKAY);
    assert_int_equal(b->fx->pause_count, 0);
    assert_int_equal(blk_stats(blk)->writes, writes + 1);
    uint8_t buf[4096];
    int fd = open(b->img, O_RDONLY);
    assert_int_equal(pread(fd, buf, sizeof(buf), 40 * 512), (ssize_t)sizeof(buf));
    close(fd);
    assert_int_equal(buf[0], 0xc3);
    assert_int_equal(buf[4095], 0xc3);
    /* another error than ENOSPC: reported as before */
    blk_inject_error(blk, BLK_WRITE, EIO, 1);
    push(b, &r);
    assert_int_equal(response(b, 5), BLKIF_RSP_ERROR);
    assert_int_equal(b->fx->pause_count, 0);
    /* kept, then the frontend goes away: the kept request is dropped, not retried */
    blk_inject_error(blk, BLK_WRITE, ENOSPC, 1);
    push(b, &r);
    fx_pv_run(b->fp, 0);
    assert_non_null(vm->kept);
    fx_pv_write(b->fp, FE "/state", "5");
    fx_pv_run(b->fp, 0);
    assert_null(vm->kept);
    vm_io_resume(vm, 0);
    assert_int_equal(blk_stats(blk)->writes, writes + 1);
    assert_int_equal(b->fx->pause_count, 0);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enospc_stop_cont, setup_enospc, teardown),
        cmocka_unit_test_setup_teardown(test_offers_and_connects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_read_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_completes_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_takes_nothing_more_until_cont, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_get_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_disk, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_discard_punches_a_hole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_discard_when_disabled, setup_nodiscard, teardown),
        cmocka_unit_test_setup_teardown(test_write_barrier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_32_abi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_protocol_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_page_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_largest_ring_bounded_work, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ring_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_uint_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_queues, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frontend_rebinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_ahead_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_behind_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_under_the_sandbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xenpv_machine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

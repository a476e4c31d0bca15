/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the blkif rings of pvdrivers/qdisk.c: a frontend that connects with
 * any protocol string, ring-page-order, number of queues and feature-persistent, pushes
 * requests of any operation (read, write, flush, barrier, discard, indirect, unknown) with
 * any segment count, sector, grant and sector range, indirect pages of any content,
 * scribbles the shared rings' indexes, revokes grants, writes hostile values to its nodes,
 * flips states, restarts and reconnects, saves (xen-save-devices-state, after stop or not)
 * and conts, over a small raw image. Every request gets an
 * answer or the device closes; at the end nothing of the frontend's stays mapped or bound
 * and the image has not grown (nothing was written outside it).
 *
 * Input: 4 bytes of connection parameters (protocol, ring-page-order, queues, persistent),
 * then a program of operations (pv_fuzz.h's byte reader). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/io/blkif.h>
#include "dm/loop.h"
#include "tests/fuzz/pv_fuzz.h"

extern const struct device pv_qdisk;

#define QBE "/local/domain/0/backend/qdisk/1/51712"
#define QFE "/local/domain/1/device/vbd/51712"
#define IMG_BYTES (256 * 1024)
#define IPAGE 47                 /* the indirect descriptors' page */
#define DPAGE 48                 /* data pages 48..55 */

static char img[64];

struct abi {
    unsigned entry, id, sector, seg, ind_grefs;
};
static const struct abi abi64 = { 112, 8, 16, 24, 28 };
static const struct abi abi32 = { 108, 4, 12, 20, 24 };

struct fq {
    unsigned first, npages, nr_ents;
    uint32_t req_prod_pvt;
    int port;
};

struct fe {
    struct fakepv *fp;
    const struct abi *abi;
    unsigned nq;
    struct fq q[5];
    int refs[8], iref;
};

static void remove_img(void)
{
    unlink(img);
}

static void add_disk(struct fakepv *fp)
{
    char params[96];
    snprintf(params, sizeof(params), "aio:%s", img);
    fx_pv_write(fp, QFE "/backend", QBE);
    fx_pv_write(fp, QFE "/state", "1");
    fx_pv_write(fp, QBE "/frontend", QFE);
    fx_pv_write(fp, QBE "/frontend-id", "1");
    fx_pv_write(fp, QBE "/online", "1");
    fx_pv_write(fp, QBE "/params", params);
    fx_pv_write(fp, QBE "/mode", "w");
    fx_pv_write(fp, QBE "/device-type", "disk");
    fx_pv_write(fp, QBE "/state", "1");
}

static uint8_t *ring(struct fe *f, unsigned qi)
{
    return fx_pv_page(f->fp, f->q[qi].first);
}

static unsigned entries(unsigned npages, unsigned entry)
{
    unsigned n = (npages * PVHOST_PAGE - 64) / entry, p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
}

/* blkfront's connect, with the parameters in the next 4 bytes: any of them may be wrong */
static void connect(struct fe *f, struct pvf *in)
{
    static const char *const protos[] = { NULL, "x86_64-abi", "x86_32-abi", "arm-abi" };
    char p[96];
    unsigned proto = pvf_byte(in) % 4, order = pvf_byte(in) % 6, nq = pvf_byte(in) % 6;
    int persistent = pvf_byte(in) & 1;
    unsigned per = order <= 4 ? 1u << order : 1;
    f->abi = proto == 2 ? &abi32 : &abi64;
    f->nq = nq ? nq : 1;
    if (f->nq > 4)
        f->nq = 4;
    for (unsigned i = 0; i < f->nq; i++) {
        struct fq *q = &f->q[i];
        char dir[16] = "";
        if (nq > 1)
            snprintf(dir, sizeof(dir), "/queue-%u", i);
        q->first = (i * per) % 32;
        q->npages = per;
        q->nr_ents = entries(per, f->abi->entry);
        q->req_prod_pvt = 0;
        memset(ring(f, i), 0, (size_t)per * PVHOST_PAGE);
        ring(f, i)[4] = ring(f, i)[12] = 1; /* req_event, rsp_event */
        for (unsigned k = 0; k < per; k++) {
            int ref = fx_pv_grant(f->fp, q->first + k, 1);
            snprintf(p, sizeof(p), per == 1 ? QFE "%s/ring-ref" : QFE "%s/ring-ref%u", dir, k);
            fx_pv_writef(f->fp, p, "%d", ref);
        }
        q->port = fx_pv_alloc_port(f->fp);
        snprintf(p, sizeof(p), QFE "%s/event-channel", dir);
        fx_pv_writef(f->fp, p, "%d", q->port);
    }
    if (order)
        fx_pv_writef(f->fp, QFE "/ring-page-order", "%u", order);
    else
        fx_pv_write(f->fp, QFE "/ring-page-order", NULL);
    if (nq != 1)
        fx_pv_writef(f->fp, QFE "/multi-queue-num-queues", "%u", nq);
    else
        fx_pv_write(f->fp, QFE "/multi-queue-num-queues", NULL);
    fx_pv_write(f->fp, QFE "/feature-persistent", persistent ? "1" : NULL);
    fx_pv_write(f->fp, QFE "/protocol", protos[proto]);
    fx_pv_write(f->fp, QFE "/state", "3");
    fx_pv_run(f->fp, 0);
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    memcpy(p, &v, n);
}

static uint32_t gref(struct fe *f, struct pvf *in)
{
    unsigned g = pvf_byte(in);
    return g < 200 ? (uint32_t)f->refs[g % 8] : g == 255 ? pvf_u32(in) : g;
}

static void request(struct fe *f, struct pvf *in)
{
    static const uint8_t opsel[] = {
        BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER,
        BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT, BLKIF_OP_READ, BLKIF_OP_WRITE,
    };
    unsigned qi = pvf_byte(in) % f->nq;
    struct fq *q = &f->q[qi];
    const struct abi *a = f->abi;
    uint8_t e[112];
    memset(e, 0, sizeof(e));
    unsigned k = pvf_byte(in);
    e[0] = k < 240 ? opsel[k % 8] : (uint8_t)k;
    put(e + a->id, pvf_u32(in), 8);
    unsigned s = pvf_byte(in);
    put(e + a->sector, s < 250 ? s * 2 : (uint64_t)pvf_u32(in) << (s & 31), 8);
    switch (e[0]) {
    case BLKIF_OP_DISCARD: {
        unsigned n = pvf_byte(in);
        put(e + a->seg, n < 250 ? n : (uint64_t)pvf_u32(in) << (n & 63), 8);
        break;
    }
    case BLKIF_OP_INDIRECT: {
        unsigned iop = pvf_byte(in), n = pvf_byte(in);
        e[1] = iop < 200 ? iop % 2 : (uint8_t)iop;
        uint16_t nseg = n < 200 ? (uint16_t)(n * 2) : (uint16_t)pvf_u32(in);
        put(e + 2, nseg, 2);
        /* descriptors: the first few from the input, then a pattern of the same */
        uint8_t *pg = fx_pv_page(f->fp, IPAGE), d[8 * 8];
        memset(d, 0, sizeof(d));
        for (unsigned i = 0; i < 8; i++) {
            put(d + 8 * i, gref(f, in), 4);
            d[8 * i + 4] = (uint8_t)(pvf_byte(in) % 10);
            d[8 * i + 5] = (uint8_t)(d[8 * i + 4] + pvf_byte(in) % 4);
        }
        for (unsigned i = 0; i < PVHOST_PAGE / 8; i++)
            memcpy(pg + 8 * i, d + 8 * (i % 8), 8);
        unsigned g = pvf_byte(in);
        put(e + a->ind_grefs, g < 200 ? (uint32_t)f->iref : g, 4);
        break;
    }
    default:
        e[1] = (uint8_t)(pvf_byte(in) % 14);
        for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
            uint8_t *sg = e + a->seg + 8 * i;
            put(sg, gref(f, in), 4);
            sg[4] = (uint8_t)(pvf_byte(in) % 10);
            sg[5] = (uint8_t)(sg[4] + pvf_byte(in) % 4);
        }
        break;
    }
    memcpy(ring(f, qi) + 64 + (size_t)(q->req_prod_pvt & (q->nr_ents - 1)) * a->entry, e, a->entry);
    q->req_prod_pvt++;
    __atomic_store_n((uint32_t *)ring(f, qi), q->req_prod_pvt, __ATOMIC_RELEASE);
    if (pvf_byte(in) & 1)
        fx_pv_notify(f->fp, q->port);
}

static const char *const fe_nodes[] = {
    "state", "ring-ref", "ring-ref0", "ring-ref1", "event-channel", "ring-page-order",
    "multi-queue-num-queues", "queue-0/ring-ref", "queue-1/event-channel", "feature-persistent",
    "protocol",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvf in = { data, size };
    struct fe f;
    char val[64], path[128];
    void *dev = NULL;

    log_set_sink(pvf_quiet, NULL);
    if (!img[0]) {
        /* tmpfs where there is one: the flushes' fdatasync costs nothing there */
        snprintf(img, sizeof(img), "%s/hvmd-fuzz-qdisk-%d",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
        atexit(remove_img);
    }
    int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, IMG_BYTES) < 0)
        abort();
    close(fd);
    struct fakexen *fx = fx_new(1 << 20);
    struct fakepv *fp = fx_pv_new(1);
    if (!fx || !fp)
        abort();
    memset(&f, 0, sizeof(f));
    f.fp = fp;
    fx->vm.pv = &fp->pv;
    add_disk(fp);
    if (pv_qdisk.create(&fx->vm, &dev) < 0 || !dev)
        abort();
    fx_pv_run(fp, 0);
    for (int i = 0; i < 8; i++)
        f.refs[i] = fx_pv_grant(fp, DPAGE + i, i != 7);
    f.iref = fx_pv_grant(fp, IPAGE, 0);
    connect(&f, &in);
    for (unsigned ops = 0; in.left && ops < 300; ops++) {
        switch (pvf_byte(&in) % 13) {
        case 0:
        case 1:
        case 2:
        case 3:
            request(&f, &in);
            break;
        case 4:
            fx_pv_run(fp, 1 + pvf_byte(&in) % 8);
            loop_run_once(fx->loop, 0);
            break;
        case 5: { /* the frontend takes its responses */
            uint8_t *r = ring(&f, pvf_byte(&in) % f.nq);
            uint32_t prod;
            memcpy(&prod, r + 8, 4);
            put(r + 12, prod + 1, 4);
            break;
        }
        case 6: { /* an index scribbled */
            unsigned qi = pvf_byte(&in) % f.nq;
            uint32_t v = pvf_u32(&in);
            put(ring(&f, qi) + 4 * (pvf_byte(&in) % 4), v, 4);
            fx_pv_notify(fp, f.q[qi].port);
            break;
        }
        case 7: /* a node of the frontend's */
            pvf_value(&in, val, sizeof(val), f.refs[0], f.q[0].port);
            snprintf(path, sizeof(path), QFE "/%s",
                     fe_nodes[pvf_byte(&in) % (sizeof(fe_nodes) / sizeof(fe_nodes[0]))]);
            fx_pv_write(fp, path, val);
            break;
        case 8:
            connect(&f, &in);
            break;
        case 9:
            fx_pv_revoke(fp, f.refs[pvf_byte(&in) % 8]);
            break;
        case 10: /* the toolstack's removal */
            fx_pv_write(fp, QBE "/online", "0");
            fx_pv_write(fp, QBE "/state", "5");
            break;
        case 11: { /* a save (after libxl's stop, or not), then perhaps cont */
            struct snap_writer w;
            fx->vm.running = pvf_byte(&in) & 1;
            snap_writer_init(&w);
            if (pv_qdisk.save(dev, &w) < 0)
                abort();
            snap_writer_free(&w);
            if (!fx->vm.running && (pvf_byte(&in) & 1)) {
                fx->vm.running = 1;
                vm_cont(&fx->vm);
            }
            break;
        }
        default: /* the frontend restarts (a reboot, a module reload) */
            fx_pv_write(fp, QFE "/state", "6");
            fx_pv_run(fp, 0);
            fx_pv_write(fp, QFE "/state", "1");
            break;
        }
    }
    fx_pv_run(fp, 0);
    loop_run_once(fx->loop, 0);
    pv_qdisk.destroy(dev);
    if (fp->maps_live || fp->binds_live)
        abort();
    struct stat st;
    if (stat(img, &st) < 0 || st.st_size != IMG_BYTES)
        abort(); /* something was written past the image */
    fx_pv_free(fp);
    fx_free(fx);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the blkif ring of pvdrivers/qdisk.c: a frontend that pushes requests
 * with any operation, segment count, sector, grant and sector range, scribbles the shared
 * ring's indexes, revokes grants, flips states and reconnects, over a small raw image.
 * Every request gets an answer or the device closes; nothing is written outside the image
 * (dm/block.c refuses it) and nothing stays mapped or bound (pv_fuzz.h's helpers). */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <xen/xen.h>
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/blkif.h>
#include "dm/loop.h"
#include "tests/fuzz/pv_fuzz.h"

extern const struct device pv_qdisk;

#define QBE "/local/domain/0/backend/qdisk/1/51712"
#define QFE "/local/domain/1/device/vbd/51712"
#define IMG_BYTES (256 * 1024)

static char img[64];

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

static void connect(struct fakepv *fp, blkif_front_ring_t *ring, int *ref, int *port)
{
    blkif_sring_t *s = (blkif_sring_t *)fx_pv_page(fp, 0);
    memset(s, 0, PVHOST_PAGE);
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(ring, s, PVHOST_PAGE);
    *ref = fx_pv_grant(fp, 0, 1);
    *port = fx_pv_alloc_port(fp);
    fx_pv_writef(fp, QFE "/ring-ref", "%d", *ref);
    fx_pv_writef(fp, QFE "/event-channel", "%d", *port);
    fx_pv_write(fp, QFE "/state", "3");
    fx_pv_run(fp, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvf f = { data, size };
    blkif_front_ring_t ring;
    int ref = -1, port = -1, refs[8];
    char val[64];
    void *dev = NULL;

    log_set_sink(pvf_quiet, NULL);
    if (!img[0]) {
        snprintf(img, sizeof(img), "/tmp/hvmd-fuzz-qdisk-%d", (int)getpid());
        int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ftruncate(fd, IMG_BYTES) < 0)
            abort();
        close(fd);
        atexit(remove_img);
    }
    struct fakexen *fx = fx_new(1 << 20);
    struct fakepv *fp = fx_pv_new(1);
    if (!fx || !fp)
        abort();
    fx->vm.pv = &fp->pv;
    add_disk(fp);
    if (pv_qdisk.create(&fx->vm, &dev) < 0 || !dev)
        abort();
    fx_pv_run(fp, 0);
    for (int i = 0; i < 8; i++)
        refs[i] = fx_pv_grant(fp, 1 + i, i & 1);
    connect(fp, &ring, &ref, &port);
    for (unsigned ops = 0; f.left && ops < 300; ops++) {
        switch (pvf_byte(&f) % 10) {
        case 0:
        case 1:
        case 2: { /* a request */
            struct blkif_request r;
            memset(&r, 0, sizeof(r));
            static const uint8_t opsel[] = { 0, 1, 3, 0, 1, 2, 5, 6 };
            unsigned k = pvf_byte(&f);
            r.operation = k < 240 ? opsel[k % 8] : (uint8_t)k;
            r.nr_segments = (uint8_t)(pvf_byte(&f) % 14);
            r.id = pvf_u32(&f);
            unsigned s = pvf_byte(&f);
            r.sector_number = s < 250 ? s * 2 : (uint64_t)pvf_u32(&f) << (s & 31);
            for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
                unsigned g = pvf_byte(&f);
                r.seg[i].gref = g < 200 ? (grant_ref_t)refs[g % 8] : g;
                r.seg[i].first_sect = (uint8_t)(pvf_byte(&f) % 10);
                r.seg[i].last_sect = (uint8_t)(r.seg[i].first_sect + pvf_byte(&f) % 4);
            }
            memcpy(RING_GET_REQUEST(&ring, ring.req_prod_pvt), &r, sizeof(r));
            ring.req_prod_pvt++;
            RING_PUSH_REQUESTS(&ring);
            if (pvf_byte(&f) & 1)
                fx_pv_notify(fp, port);
            break;
        }
        case 3:
            fx_pv_run(fp, 1 + pvf_byte(&f) % 8);
            loop_run_once(fx->loop, 0);
            break;
        case 4: /* the frontend takes its responses */
            ring.rsp_cons = ring.sring->rsp_prod;
            ring.sring->rsp_event = ring.rsp_cons + 1;
            break;
        case 5: { /* an index scribbled */
            uint32_t v = pvf_u32(&f);
            blkif_sring_t *sr = (blkif_sring_t *)fx_pv_page(fp, 0);
            switch (pvf_byte(&f) % 4) {
            case 0: sr->req_prod = v; break;
            case 1: sr->req_event = v; break;
            case 2: sr->rsp_prod = v; break;
            default: sr->rsp_event = v; break;
            }
            fx_pv_notify(fp, port);
            break;
        }
        case 6: /* a node of the frontend's */
            pvf_value(&f, val, sizeof(val), ref, port);
            switch (pvf_byte(&f) % 4) {
            case 0: fx_pv_write(fp, QFE "/state", val); break;
            case 1: fx_pv_write(fp, QFE "/ring-ref", val); break;
            case 2: fx_pv_write(fp, QFE "/event-channel", val); break;
            default: fx_pv_write(fp, QFE "/protocol", pvf_byte(&f) & 1 ? "x86_32-abi" : "x86_64-abi"); break;
            }
            break;
        case 7:
            connect(fp, &ring, &ref, &port);
            break;
        case 8:
            fx_pv_revoke(fp, refs[pvf_byte(&f) % 8]);
            break;
        default:
            fx_pv_write(fp, QBE "/online", "0");
            fx_pv_write(fp, QBE "/state", "5");
            break;
        }
    }
    fx_pv_run(fp, 0);
    pv_qdisk.destroy(dev);
    if (fp->maps_live || fp->binds_live)
        abort();
    fx_pv_free(fp);
    fx_free(fx);
    return 0;
}

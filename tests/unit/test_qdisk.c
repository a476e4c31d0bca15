/* SPDX-License-Identifier: GPL-2.0-only */
/* pvdrivers/qdisk.c through the fake PV host: a disk as libxl 4.17 writes it
 * (backend/qdisk/D/51712, params aio:PATH, mode w), a frontend playing xen-blkfront's part on a
 * one-page ring, data checked in the image file; then what a hostile frontend sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/xen.h>
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#include <xen/io/blkif.h>
#include "dm/block.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/vm.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "pvdrivers/xenbus.h"
#include "tests/lib/fakepv.h"
#include "tests/lib/fakexen.h"

extern const struct device pv_qdisk;
struct xenbus *qdisk_bus(void *state);
struct blk *qdisk_blk(struct xb_dev *d);

#define BE "/local/domain/0/backend/qdisk/1/51712"
#define FE "/local/domain/1/device/vbd/51712"
#define IMG_SECTORS 2048

struct bed {
    struct fakexen *fx;
    struct fakepv *fp;
    void *dev;
    char img[64];
    int ring_ref, port;
    blkif_front_ring_t ring;
    struct config cfg;
    int have_cfg;
};

static void toolstack_disk(struct bed *b, const char *be, const char *fe, const char *params,
                           const char *mode, const char *type)
{
    char p[200];
    snprintf(p, sizeof(p), "%s/backend", fe); fx_pv_write(b->fp, p, be);
    snprintf(p, sizeof(p), "%s/backend-id", fe); fx_pv_write(b->fp, p, "0");
    snprintf(p, sizeof(p), "%s/state", fe); fx_pv_write(b->fp, p, "1");
    snprintf(p, sizeof(p), "%s/device-type", fe); fx_pv_write(b->fp, p, type);
    snprintf(p, sizeof(p), "%s/frontend", be); fx_pv_write(b->fp, p, fe);
    snprintf(p, sizeof(p), "%s/frontend-id", be); fx_pv_write(b->fp, p, "1");
    snprintf(p, sizeof(p), "%s/online", be); fx_pv_write(b->fp, p, "1");
    snprintf(p, sizeof(p), "%s/params", be); fx_pv_write(b->fp, p, params);
    snprintf(p, sizeof(p), "%s/mode", be); fx_pv_write(b->fp, p, mode);
    snprintf(p, sizeof(p), "%s/device-type", be); fx_pv_write(b->fp, p, type);
    snprintf(p, sizeof(p), "%s/type", be); fx_pv_write(b->fp, p, "qdisk");
    snprintf(p, sizeof(p), "%s/state", be); fx_pv_write(b->fp, p, "1");
}

static struct bed *bed_new_args(const char *mode, const char *const *argv, int argc)
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
    snprintf(params, sizeof(params), "aio:%s", b->img);
    toolstack_disk(b, BE, FE, params, mode, "disk");
    /* the HVM guest's CD-ROM twin: left to the emulated CD-ROM */
    toolstack_disk(b, "/local/domain/0/backend/qdisk/1/5632", "/local/domain/1/device/vbd/5632",
                   "aio:/nonexistent.iso", "r", "cdrom");
    assert_int_equal(pv_qdisk.create(&b->fx->vm, &b->dev), 0);
    assert_non_null(b->dev);
    fx_pv_run(b->fp, 0);
    return b;
}

static struct bed *bed_new(const char *mode)
{
    return bed_new_args(mode, NULL, 0);
}

static int setup(void **state)
{
    *state = bed_new("w");
    return 0;
}

static int setup_ro(void **state)
{
    *state = bed_new("r");
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

/* xen-blkfront: the ring on page 0, Initialised */
static void fe_connect(struct bed *b, const char *protocol)
{
    blkif_sring_t *s = (blkif_sring_t *)fx_pv_page(b->fp, 0);
    memset(s, 0, PVHOST_PAGE);
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&b->ring, s, PVHOST_PAGE);
    b->ring_ref = fx_pv_grant(b->fp, 0, 1);
    b->port = fx_pv_alloc_port(b->fp);
    fx_pv_writef(b->fp, FE "/ring-ref", "%d", b->ring_ref);
    fx_pv_writef(b->fp, FE "/event-channel", "%d", b->port);
    if (protocol)
        fx_pv_write(b->fp, FE "/protocol", protocol);
    fx_pv_write(b->fp, FE "/state", "3");
    fx_pv_run(b->fp, 0);
}

static void push(struct bed *b, const struct blkif_request *req)
{
    memcpy(RING_GET_REQUEST(&b->ring, b->ring.req_prod_pvt), req, sizeof(*req));
    b->ring.req_prod_pvt++;
    RING_PUSH_REQUESTS(&b->ring);
    fx_pv_notify(b->fp, b->port);
}

/* Deliver, run completions, and take one response. */
static int16_t response(struct bed *b, uint64_t id)
{
    for (int i = 0; i < 200; i++) {
        fx_pv_run(b->fp, 0);
        if (RING_HAS_UNCONSUMED_RESPONSES(&b->ring)) {
            struct blkif_response *r = RING_GET_RESPONSE(&b->ring, b->ring.rsp_cons);
            b->ring.rsp_cons++;
            assert_int_equal(r->id, id);
            return r->status;
        }
        loop_run_once(b->fx->loop, 10);
    }
    fail_msg("no response to request %llu", (unsigned long long)id);
    return 99;
}

static struct blkif_request rw(uint8_t op, uint64_t id, uint64_t sector, unsigned nseg,
                               const int *refs, uint8_t first, uint8_t last)
{
    struct blkif_request r;
    memset(&r, 0, sizeof(r));
    r.operation = op;
    r.nr_segments = (uint8_t)nseg;
    r.id = id;
    r.sector_number = sector;
    for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r.seg[i].gref = (grant_ref_t)refs[i];
        r.seg[i].first_sect = first;
        r.seg[i].last_sect = last;
    }
    return r;
}

static void test_offers_and_connects(void **state)
{
    struct bed *b = *state;
    assert_int_equal(xenbus_count(qdisk_bus(b->dev)), 1); /* the CD-ROM is not ours */
    assert_int_equal(atoi(fx_pv_read(b->fp, "/local/domain/0/backend/qdisk/1/5632/state")), 1);
    assert_int_equal(be_state(b), XB_INITWAIT);
    assert_string_equal(fx_pv_read(b->fp, BE "/feature-flush-cache"), "1");
    fe_connect(b, "x86_64-abi");
    assert_int_equal(be_state(b), XB_CONNECTED);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/sectors")), IMG_SECTORS);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/info")), 0);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/sector-size")), 512);
}

static void test_write_read_flush(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int refs[2] = { fx_pv_grant(b->fp, 1, 0), fx_pv_grant(b->fp, 2, 0) };
    memset(fx_pv_page(b->fp, 1), 0xa1, PVHOST_PAGE);
    memset(fx_pv_page(b->fp, 2), 0xb2, PVHOST_PAGE);
    struct blkif_request r = rw(BLKIF_OP_WRITE, 7, 16, 2, refs, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 7), BLKIF_RSP_OKAY);
    r = rw(BLKIF_OP_FLUSH_DISKCACHE, 8, 0, 0, NULL, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 8), BLKIF_RSP_OKAY);
    /* in the file, where sector 16 is */
    uint8_t buf[8192];
    int fd = open(b->img, O_RDONLY);
    assert_int_equal(pread(fd, buf, sizeof(buf), 16 * 512), (ssize_t)sizeof(buf));
    close(fd);
    assert_int_equal(buf[0], 0xa1);
    assert_int_equal(buf[4095], 0xa1);
    assert_int_equal(buf[4096], 0xb2);
    /* read back part of it: sectors 2..5 of a page, into a writable grant */
    int wref = fx_pv_grant(b->fp, 3, 1);
    memset(fx_pv_page(b->fp, 3), 0, PVHOST_PAGE);
    r = rw(BLKIF_OP_READ, 9, 24, 1, &wref, 2, 5);
    push(b, &r);
    assert_int_equal(response(b, 9), BLKIF_RSP_OKAY);
    assert_int_equal(fx_pv_page(b->fp, 3)[0], 0);
    assert_int_equal(fx_pv_page(b->fp, 3)[1024], 0xb2);
    assert_int_equal(fx_pv_page(b->fp, 3)[3071], 0xb2);
    assert_int_equal(fx_pv_page(b->fp, 3)[3072], 0);
}

static void test_bad_requests_get_errors(void **state)
{
    struct bed *b = *state;
    fe_connect(b, "x86_64-abi");
    int ro = fx_pv_grant(b->fp, 1, 0), rwr = fx_pv_grant(b->fp, 2, 1);
    int refs12[12];
    for (int i = 0; i < 12; i++)
        refs12[i] = rwr;
    struct blkif_request r;
    r = rw(BLKIF_OP_READ, 1, 0, 0, NULL, 0, 7);                 /* no segment */
    push(b, &r); assert_int_equal(response(b, 1), BLKIF_RSP_ERROR);
    r = rw(BLKIF_OP_READ, 2, 0, 11, refs12, 0, 7);
    r.nr_segments = 12;                                         /* too many */
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
    r = rw(BLKIF_OP_DISCARD, 9, 0, 0, NULL, 0, 0);              /* not offered */
    push(b, &r); assert_int_equal(response(b, 9), BLKIF_RSP_EOPNOTSUPP);
    r = rw(200, 10, 0, 0, NULL, 0, 0);
    push(b, &r); assert_int_equal(response(b, 10), BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(be_state(b), XB_CONNECTED);
    /* nothing was written anywhere */
    uint8_t buf[512];
    int fd = open(b->img, O_RDONLY);
    assert_int_equal(pread(fd, buf, sizeof(buf), 0), 512);
    close(fd);
    for (int i = 0; i < 512; i++)
        assert_int_equal(buf[i], 0);
}

static void test_readonly_disk(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    assert_int_equal(atoi(fx_pv_read(b->fp, BE "/info")), VDISK_READONLY);
    int ref = fx_pv_grant(b->fp, 1, 0);
    struct blkif_request r = rw(BLKIF_OP_WRITE, 1, 0, 1, &ref, 0, 7);
    push(b, &r);
    assert_int_equal(response(b, 1), BLKIF_RSP_ERROR);
}

static void test_producer_ahead_closes(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    b->ring.sring->req_prod = 1000;
    fx_pv_notify(b->fp, b->port);
    fx_pv_run(b->fp, 0);
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live, 0);
}

static void test_x86_32_protocol_closes(void **state)
{
    struct bed *b = *state;
    fe_connect(b, "x86_32-abi");
    assert_int_equal(be_state(b), XB_CLOSING);
    assert_int_equal(b->fp->maps_live + b->fp->binds_live, 0);
}

/* a full ring of requests, then the frontend goes away with them in flight */
static void test_full_ring_then_close(void **state)
{
    struct bed *b = *state;
    fe_connect(b, NULL);
    int ref = fx_pv_grant(b->fp, 1, 1);
    unsigned n = RING_SIZE(&b->ring);
    for (unsigned i = 0; i < n; i++) {
        struct blkif_request r = i % 2 ? rw(BLKIF_OP_FLUSH_DISKCACHE, i, 0, 0, NULL, 0, 0)
                                       : rw(BLKIF_OP_READ, i, i, 1, &ref, 0, 7);
        memcpy(RING_GET_REQUEST(&b->ring, b->ring.req_prod_pvt), &r, sizeof(r));
        b->ring.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS(&b->ring);
    fx_pv_notify(b->fp, b->port);
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
    fx_pv_revoke(b->fp, b->ring_ref);
    fe_connect(b, NULL);
    assert_int_equal(be_state(b), XB_CONNECTED);
    struct blkif_request r = rw(BLKIF_OP_READ, 77, 0, 1, &ref, 0, 0);
    push(b, &r);
    assert_int_equal(response(b, 77), BLKIF_RSP_OKAY);
}

static int setup_enospc(void **state)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "16", "-io-error",
                                        "werror=enospc" };
    *state = bed_new_args("w", argv, 6);
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
    int ref = fx_pv_grant(b->fp, 1, 0);
    memset(fx_pv_page(b->fp, 1), 0xc3, PVHOST_PAGE);
    blk_inject_error(blk, BLK_WRITE, ENOSPC, 1);
    struct blkif_request r = rw(BLKIF_OP_WRITE, 5, 40, 1, &ref, 0, 7);
    push(b, &r);
    for (int i = 0; i < 5; i++) {
        fx_pv_run(b->fp, 0);
        loop_run_once(b->fx->loop, 1);
    }
    assert_false(RING_HAS_UNCONSUMED_RESPONSES(&b->ring));
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
        cmocka_unit_test_setup_teardown(test_offers_and_connects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_read_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_get_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly_disk, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_producer_ahead_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_32_protocol_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_ring_then_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_stop_cont, setup_enospc, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

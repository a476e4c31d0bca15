/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/block: opening media (and the errors a person gets for bad ones), the page-cache path
 * completing at once, the O_DIRECT + libaio path completing through the loop, the bounded
 * queue, flushes ordered behind the writes they cover, the fallbacks (a file system without
 * O_DIRECT, unaligned buffers), and durability: what a process acknowledged before a flush
 * it saw complete is in the file after the process is killed with SIGKILL.
 *
 * The cases that use open media run in a child process under hvmd's own seccomp filter (as
 * hvmd serves requests): a system call outside the allow-list kills the child with SIGSYS and
 * fails the case. Images are opened before the filter, as hvmd opens them (or, for media
 * opened later, handed over as descriptors, as QMP add-fd does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dm/block.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/sandbox.h"

#define PRE_FDS 8

struct fix {
    char dir[200];
    char path[256];
    struct loop *loop;
    int child;               /* this is the sandboxed child */
    int pre[2][PRE_FDS];     /* [readonly] descriptors of path opened before the filter */
    unsigned npre[2];
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct stat st;
    snprintf(f->dir, sizeof(f->dir), "%s/hvmd-blk-XXXXXX", stat("build", &st) == 0 ? "build" : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/img", f->dir);
    int fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 << 20), 0);
    close(fd);
    f->loop = loop_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    if (f->child) {
        fflush(NULL);
        _exit(1); /* a failed assertion in the sandboxed child: the parent reports it */
    }
    loop_free(f->loop);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct blk *open_img(struct fix *f, int ro, enum blk_cache c)
{
    struct blk *b;
    char err[256];
    struct blk_opts o = { .path = f->path, .fd = -1, .readonly = ro, .cache = c };
    if (f->child) {
        /* nothing is opened by path in the sandbox: a descriptor opened before it */
        assert_true(f->npre[ro] > 0);
        o.fd = f->pre[ro][--f->npre[ro]];
    }
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), 0);
    return b;
}

/* Run BODY in a child under hvmd's filter (SANDBOX_ON: anything outside the allow-list kills
 * it), with descriptors of the image opened before, as hvmd opens its media before the filter
 * and takes later ones as descriptors (QMP add-fd). */
static void in_sandbox(void **state, void (*body)(void **state))
{
    struct fix *f = *state;
    int st = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        f->child = 1;
        for (int ro = 0; ro < 2; ro++)
            for (f->npre[ro] = 0; f->npre[ro] < PRE_FDS; f->npre[ro]++) {
                int fd = open(f->path, ro ? O_RDONLY : O_RDWR);
                if (fd < 0)
                    _exit(2);
                f->pre[ro][f->npre[ro]] = fd;
            }
        f->loop = loop_new(); /* its own epoll set, not the parent's */
        if (!f->loop || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(3);
        body(state);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: the block layer made a system call outside hvmd's "
                 "allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed case failed (status %#x)", st);
}

#define SANDBOXED(name) \
    static void name##_sandboxed(void **state) { in_sandbox(state, name); }

struct done_log {
    int order[16];
    int ret[16];
    unsigned n;
};

static void on_done(struct blk_req *req, int ret)
{
    struct done_log *l = req->opaque;
    if (l->n < 16) {
        l->order[l->n] = (int)req->seq;
        l->ret[l->n] = ret;
        l->n++;
    }
}

static void req_init(struct blk_req *r, enum blk_op op, uint64_t off, void *buf, size_t len,
                     struct done_log *l)
{
    memset(r, 0, sizeof(*r));
    r->op = op;
    r->off = off;
    r->buf = buf;
    r->len = len;
    r->done = on_done;
    r->opaque = l;
}

static void test_open_errors(void **state)
{
    struct fix *f = *state;
    struct blk *b;
    char err[256], p[300];
    struct blk_opts o = { .fd = -1 };

    o.path = "/nonexistent-dir/disk.img";
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent-dir/disk.img"));
    assert_non_null(strstr(err, "No such file"));
    o.path = f->dir; /* a directory */
    assert_true(blk_open(&b, f->loop, &o, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, f->dir));
    o.path = "/dev/null";
    o.readonly = 1;
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "neither a regular file nor a block device"));
    /* an empty image */
    snprintf(p, sizeof(p), "%s/empty", f->dir);
    close(open(p, O_RDWR | O_CREAT | O_TRUNC, 0644));
    o.path = p;
    o.readonly = 0;
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty"));
    unlink(p);
    /* a descriptor opened read-only for a writable drive */
    o.path = f->path;
    o.fd = open(f->path, O_RDONLY);
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), -EBADF);
    assert_non_null(strstr(err, "read-only"));
    /* ... which is fine for read-only media */
    o.fd = open(f->path, O_RDONLY);
    o.readonly = 1;
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(blk_size(b), 4 << 20);
    assert_true(blk_readonly(b));
    assert_false(blk_write_cache(b));
    blk_close(b);
    /* a file without write permission, for a writable drive: a hint about readonly */
    if (geteuid() != 0) {
        chmod(f->path, 0444);
        o.fd = -1;
        o.readonly = 0;
        assert_true(blk_open(&b, f->loop, &o, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "readonly=on"));
        chmod(f->path, 0644);
    }
    enum blk_cache c;
    assert_int_equal(blk_parse_cache("none", &c), 0);
    assert_int_equal(c, BLK_CACHE_NONE);
    assert_int_equal(blk_parse_cache("writeback", &c), 0);
    assert_int_equal(c, BLK_CACHE_WRITEBACK);
    assert_int_equal(blk_parse_cache("bogus", &c), -EINVAL);
    assert_int_equal(blk_parse_cache(NULL, &c), -EINVAL);
}

static void test_page_cache_sync(void **state)
{
    struct fix *f = *state;
    struct blk *b = open_img(f, 0, BLK_CACHE_WRITEBACK);
    struct done_log l = { .n = 0 };
    struct blk_req r;
    uint8_t *buf = blk_buf_alloc(8192);
    assert_false(blk_direct(b));
    assert_true(blk_write_cache(b));
    memset(buf, 0x5a, 8192);
    req_init(&r, BLK_WRITE, 4096, buf, 8192, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 8192);
    memset(buf, 0, 8192);
    req_init(&r, BLK_READ, 4096, buf, 8192, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 8192);
    assert_int_equal(buf[0], 0x5a);
    assert_int_equal(buf[8191], 0x5a);
    /* unaligned offsets and lengths are fine here */
    req_init(&r, BLK_READ, 4097, buf, 3, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 3);
    assert_int_equal(l.n, 0); /* no callbacks for what completed at once */
    assert_true(blk_stats(b)->sync_done >= 3);
    /* refused: past the end, zero length, too long, no buffer */
    req_init(&r, BLK_READ, (4 << 20) - 512, buf, 1024, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    req_init(&r, BLK_READ, UINT64_MAX - 10, buf, 512, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    req_init(&r, BLK_READ, 0, buf, 0, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    req_init(&r, BLK_READ, 0, NULL, 512, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    req_init(&r, BLK_READ, 0, buf, BLK_MAX_REQ + 1, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    /* a flush goes through libaio and completes from the loop */
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    int s = blk_submit(b, &r);
    assert_true(s == 0 || s == 1);
    if (s == 0) {
        while (l.n == 0)
            loop_run_once(f->loop, 1000);
        assert_int_equal(l.ret[0], 0);
    }
    assert_int_equal(blk_stats(b)->flushes, 1);
    free(buf);
    blk_close(b);
    /* read-only: writes refused, flushes trivially fine */
    b = open_img(f, 1, BLK_CACHE_WRITEBACK);
    buf = blk_buf_alloc(512);
    req_init(&r, BLK_WRITE, 0, buf, 512, &l);
    assert_int_equal(blk_submit(b, &r), -EROFS);
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    free(buf);
    blk_close(b);
}

static void test_direct_async_and_queue_bound(void **state)
{
    struct fix *f = *state;
    struct blk *b = open_img(f, 0, BLK_CACHE_NONE);
    struct done_log l = { .n = 0 };
    struct blk_req *r = calloc(BLK_QUEUE_DEPTH + 1, sizeof(*r));
    uint8_t *buf = blk_buf_alloc((BLK_QUEUE_DEPTH + 1) * 4096);
    assert_true(blk_direct(b)); /* build/ is on a file system that takes O_DIRECT */
    for (unsigned i = 0; i <= BLK_QUEUE_DEPTH; i++)
        memset(buf + i * 4096, (int)i + 1, 4096);
    for (unsigned i = 0; i < BLK_QUEUE_DEPTH; i++) {
        req_init(&r[i], BLK_WRITE, i * 4096ull, buf + i * 4096, 4096, &l);
        assert_int_equal(blk_submit(b, &r[i]), 0);
    }
    assert_int_equal(blk_inflight(b), BLK_QUEUE_DEPTH);
    req_init(&r[BLK_QUEUE_DEPTH], BLK_WRITE, 0, buf, 4096, &l);
    assert_int_equal(blk_submit(b, &r[BLK_QUEUE_DEPTH]), -EBUSY);
    blk_drain(b);
    assert_int_equal(blk_inflight(b), 0);
    assert_int_equal(blk_stats(b)->writes, BLK_QUEUE_DEPTH);
    assert_int_equal(blk_stats(b)->async_done, BLK_QUEUE_DEPTH);
    /* read back through the loop */
    memset(buf, 0, 8192);
    struct done_log l2 = { .n = 0 };
    req_init(&r[0], BLK_READ, 4096, buf, 8192, &l2);
    assert_int_equal(blk_submit(b, &r[0]), 0);
    while (l2.n == 0)
        assert_true(loop_run_once(f->loop, 1000) >= 0);
    assert_int_equal(l2.ret[0], 8192);
    assert_int_equal(buf[0], 2);
    assert_int_equal(buf[4096], 3);
    /* an unaligned buffer or offset goes through the page cache, synchronously */
    req_init(&r[0], BLK_READ, 4096, buf + 1, 512, &l2);
    assert_int_equal(blk_submit(b, &r[0]), 1);
    assert_int_equal(r[0].ret, 512);
    assert_int_equal(buf[1], 2);
    req_init(&r[0], BLK_READ, 4097, buf, 511, &l2);
    assert_int_equal(blk_submit(b, &r[0]), 1);
    assert_int_equal(r[0].ret, 511);
    free(buf);
    free(r);
    blk_close(b);
}

SANDBOXED(test_page_cache_sync)
SANDBOXED(test_direct_async_and_queue_bound)

/* What O_DIRECT refuses (unaligned buffer, offset or length) goes through the page cache, in
 * the sandbox: on a medium opened before the filter and on one taken as a descriptor after it
 * (QMP add-fd + change-medium). Issue 16 item 2: this reopened the file through /proc/self/fd
 * and SIGSYS killed hvmd. */
static void test_unaligned_direct(void **state)
{
    struct fix *f = *state;
    struct done_log l = { .n = 0 };
    struct blk_req r;
    uint8_t *buf = blk_buf_alloc(8192);
    for (int round = 0; round < 2; round++) {
        struct blk *b = open_img(f, 0, round ? BLK_CACHE_DIRECTSYNC : BLK_CACHE_NONE);
        assert_true(blk_direct(b));
        memset(buf, 0x11 + round, 8192);
        req_init(&r, BLK_WRITE, 1000 + round, buf + 3, 700, &l);
        assert_int_equal(blk_submit(b, &r), 1);
        assert_int_equal(r.ret, 700);
        memset(buf, 0, 8192);
        req_init(&r, BLK_READ, 999 + round, buf + 1, 702, &l);
        assert_int_equal(blk_submit(b, &r), 1);
        assert_int_equal(r.ret, 702);
        /* buf[1 + k] is byte 999 + round + k; round 0 wrote 1000..1699, round 1 1001..1700 */
        assert_int_equal(buf[1], round ? 0x11 : 0);
        assert_int_equal(buf[2], 0x11 + round);
        assert_int_equal(buf[701], 0x11 + round);
        assert_int_equal(buf[702], 0);
        /* aligned requests still take the direct path afterwards */
        req_init(&r, BLK_READ, 0, buf, 4096, &l);
        assert_int_equal(blk_submit(b, &r), 0);
        blk_drain(b);
        assert_int_equal(l.ret[l.n - 1], 4096);
        assert_int_equal(buf[1000 + round], 0x11 + round);
        blk_close(b);
    }
    free(buf);
}
SANDBOXED(test_unaligned_direct)

/* Issue 16 item 3: a failed fdatasync fails every later flush, until the image is reopened;
 * writes go on. */
static void flush_error_sticks(struct fix *f, enum blk_cache c)
{
    struct done_log l = { .n = 0 };
    struct blk_req r;
    uint8_t *buf = blk_buf_alloc(4096);
    struct blk *b = open_img(f, 0, c);
    memset(buf, 0x42, 4096);
    blk_inject_error(b, BLK_FLUSH, EIO, 1);
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, -EIO);
    for (int i = 0; i < 3; i++) {
        req_init(&r, BLK_WRITE, 4096, buf, 4096, &l);
        int s = blk_submit(b, &r);
        assert_true(s == 0 || s == 1);
        blk_drain(b);
        assert_int_equal(s ? r.ret : l.ret[l.n - 1], 4096);
        /* the next flush (parked behind the write or not) fails as well */
        req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
        unsigned before = l.n;
        s = blk_submit(b, &r);
        assert_true(s == 0 || s == 1);
        blk_drain(b);
        assert_int_equal(s ? r.ret : l.ret[before], -EIO);
    }
    assert_true(blk_stats(b)->errors >= 4);
    blk_close(b);
    /* reopened: flushes work again */
    b = open_img(f, 0, c);
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    unsigned before = l.n;
    int s = blk_submit(b, &r);
    blk_drain(b);
    assert_int_equal(s ? r.ret : l.ret[before], 0);
    /* injected read and write errors do nothing and do not stick */
    blk_inject_error(b, BLK_WRITE, ENOSPC, 1);
    req_init(&r, BLK_WRITE, 0, buf, 4096, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, -ENOSPC);
    blk_inject_error(b, BLK_READ, EIO, 1);
    req_init(&r, BLK_READ, 0, buf, 4096, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, -EIO);
    req_init(&r, BLK_READ, 0, buf, 4096, &l);
    s = blk_submit(b, &r);
    blk_drain(b);
    assert_int_equal(s ? r.ret : l.ret[l.n - 1], 4096);
    assert_int_equal(buf[0], 0); /* the failed write wrote nothing */
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    before = l.n;
    s = blk_submit(b, &r);
    blk_drain(b);
    assert_int_equal(s ? r.ret : l.ret[before], 0);
    blk_close(b);
    free(buf);
}

static void test_flush_error_sticks(void **state)
{
    flush_error_sticks(*state, BLK_CACHE_WRITEBACK);
    flush_error_sticks(*state, BLK_CACHE_NONE);
}
SANDBOXED(test_flush_error_sticks)

/* A flush submitted behind writes in flight waits for them, then runs. */
static void test_flush_ordering(void **state)
{
    struct fix *f = *state;
    struct blk *b = open_img(f, 0, BLK_CACHE_NONE);
    struct done_log l = { .n = 0 };
    struct blk_req r[5];
    uint8_t *buf = blk_buf_alloc(3 * 65536);
    memset(buf, 0x77, 3 * 65536);
    for (unsigned i = 0; i < 3; i++) {
        req_init(&r[i], BLK_WRITE, i * 65536ull, buf + i * 65536, 65536, &l);
        assert_int_equal(blk_submit(b, &r[i]), 0);
    }
    req_init(&r[3], BLK_FLUSH, 0, NULL, 0, &l);
    assert_int_equal(blk_submit(b, &r[3]), 0);
    /* a write after the flush is not held back by it */
    req_init(&r[4], BLK_WRITE, 4 * 65536ull, buf, 4096, &l);
    assert_int_equal(blk_submit(b, &r[4]), 0);
    while (l.n < 5)
        assert_true(loop_run_once(f->loop, 1000) >= 0);
    int flush_at = -1;
    for (unsigned i = 0; i < 5; i++) {
        assert_true(l.ret[i] >= 0);
        if (l.order[i] == (int)r[3].seq)
            flush_at = (int)i;
    }
    /* every write submitted before the flush completed before it */
    for (unsigned i = 0; i < 5; i++)
        if (l.order[i] < (int)r[3].seq)
            assert_true((int)i < flush_at);
    assert_int_equal(blk_stats(b)->flushes, 1);
    /* cache=unsafe: flushes are no-ops */
    blk_close(b);
    b = open_img(f, 0, BLK_CACHE_UNSAFE);
    req_init(&r[0], BLK_FLUSH, 0, NULL, 0, &l);
    assert_int_equal(blk_submit(b, &r[0]), 1);
    assert_int_equal(r[0].ret, 0);
    blk_close(b);
    free(buf);
}
SANDBOXED(test_flush_ordering)

/* tmpfs took no O_DIRECT before Linux 6.6: cache=none then falls back to the page cache. The
 * medium uses O_DIRECT exactly when the kernel takes it for that file, and works either way. */
static void test_no_direct_fallback(void **state)
{
    struct fix *f = *state;
    char p[64];
    struct stat st;
    if (stat("/dev/shm", &st) != 0)
        fail_msg("/dev/shm (tmpfs) is needed for this test");
    snprintf(p, sizeof(p), "/dev/shm/hvmd-blk-%d", (int)getpid());
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 65536), 0);
    close(fd);
    struct blk *b;
    char err[256];
    struct blk_opts o = { .path = p, .fd = -1, .cache = BLK_CACHE_NONE };
    int dfd = open(p, O_RDWR | O_DIRECT);
    int kernel_takes_direct = dfd >= 0;
    if (dfd >= 0)
        close(dfd);
    assert_int_equal(blk_open(&b, f->loop, &o, err, sizeof(err)), 0);
    assert_int_equal(blk_direct(b), kernel_takes_direct);
    uint8_t *buf = blk_buf_alloc(4096);
    memset(buf, 0x3c, 4096);
    struct blk_req r;
    struct done_log l = { .n = 0 };
    req_init(&r, BLK_WRITE, 0, buf, 4096, &l);
    int s = blk_submit(b, &r);
    assert_int_equal(s, kernel_takes_direct ? 0 : 1);
    blk_drain(b);
    assert_int_equal(blk_stats(b)->writes, 1);
    uint8_t c = 0;
    fd = open(p, O_RDONLY);
    assert_int_equal(pread(fd, &c, 1, 4095), 1);
    close(fd);
    assert_int_equal(c, 0x3c);
    free(buf);
    blk_close(b);
    unlink(p);
}

/* The child writes, flushes, waits for the flush, tells the parent, and is killed with
 * SIGKILL before it can do anything else: the parent finds every acknowledged byte. */
static void durability(struct fix *f, enum blk_cache cache)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        struct loop *loop = loop_new();
        struct blk *b;
        char err[256];
        /* as hvmd: the image opened, then the filter, then the guest's I/O */
        struct blk_opts o = { .path = f->path, .fd = open(f->path, O_RDWR), .cache = cache };
        if (!loop || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0 ||
            blk_open(&b, loop, &o, err, sizeof(err)) < 0)
            _exit(2);
        uint8_t *buf = blk_buf_alloc(1 << 20);
        struct done_log l = { .n = 0 };
        struct blk_req r[9];
        for (unsigned i = 0; i < 8; i++) {
            memset(buf + i * 131072, 0xa0 + (int)i, 131072);
            req_init(&r[i], BLK_WRITE, 1048576 + i * 131072ull, buf + i * 131072, 131072, &l);
            if (blk_submit(b, &r[i]) < 0)
                _exit(3);
        }
        req_init(&r[8], BLK_FLUSH, 0, NULL, 0, &l);
        int s = blk_submit(b, &r[8]);
        if (s < 0)
            _exit(4);
        unsigned want = blk_direct(b) ? 9 : (s == 0 ? 1 : 0);
        while (l.n < want)
            loop_run_once(loop, 1000);
        for (unsigned i = 0; i < l.n; i++)
            if (l.ret[i] < 0)
                _exit(5);
        if (write(pfd[1], "k", 1) != 1)
            _exit(6);
        for (;;)
            sleep(1000); /* hold everything open: no close, no exit handlers (pause is not
                            on hvmd's allow-list: it never needs it) */
    }
    close(pfd[1]);
    char c;
    assert_int_equal(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* not SIGSYS */
    uint8_t *back = malloc(1 << 20);
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(pread(fd, back, 1 << 20, 1048576), 1 << 20);
    close(fd);
    for (unsigned i = 0; i < 8; i++)
        for (unsigned k = 0; k < 131072; k += 4096)
            assert_int_equal(back[i * 131072 + k], 0xa0 + i);
    free(back);
}

static void test_survives_sigkill(void **state)
{
    struct fix *f = *state;
    durability(f, BLK_CACHE_WRITEBACK);
    durability(f, BLK_CACHE_NONE);
}

/* Issue 16's figure "flushed writes lost after an injected flush error followed by a good
 * flush: 0 in 20 trials". A trial, in a sandboxed child as hvmd: 8 random writes, a flush that
 * succeeds (they are acknowledged); 8 more writes, a flush that fails (an injected EIO); the
 * parent then does what the kernel may do after a writeback error, drops the data of those 8
 * (zeros over them in the file, with a flush of its own); then a flush with nothing injected
 * (the "good flush": it must not vouch for the dropped writes, so it fails as the error
 * sticks); then, as a guest told of the error would, the medium reopened (a descriptor opened
 * before the filter), the 8 written again and flushed (acknowledged now); a guest told its
 * data is safe would write nothing again. The parent kills the child with SIGKILL and counts the
 * acknowledged writes the file does not hold. Without the sticky error the good flush would
 * acknowledge the 8 dropped writes and every trial would lose them. */
struct trial_msg {
    uint32_t off[8];
    uint8_t val[8];
    int32_t ret;
};

static uint32_t trial_rng;
static uint32_t trial_rnd(void)
{
    trial_rng = trial_rng * 1103515245u + 12345u;
    return trial_rng >> 8;
}

/* the request's result, waiting for it if it went in flight */
static int run_req(struct blk *b, struct blk_req *r, struct done_log *l)
{
    l->n = 0;
    int s = blk_submit(b, r);
    if (s < 0)
        return s;
    if (s == 1)
        return r->ret;
    blk_drain(b);
    return l->n ? l->ret[l->n - 1] : -EIO;
}

static void trial_batch(struct blk *b, uint8_t *buf, struct trial_msg *m, uint32_t base, int fresh)
{
    struct done_log l = { .n = 0 };
    struct blk_req r;
    for (unsigned i = 0; i < 8; i++) {
        if (fresh) {
            m->off[i] = base + (i * 8 + trial_rnd() % 8) * 4096; /* distinct 4 KiB blocks */
            m->val[i] = (uint8_t)(1 + trial_rnd() % 254);
        }
        memset(buf, m->val[i], 4096);
        req_init(&r, BLK_WRITE, m->off[i], buf, 4096, &l);
        if (run_req(b, &r, &l) != 4096)
            _exit(10);
    }
}

static int trial_flush(struct blk *b)
{
    struct done_log l = { .n = 0 };
    struct blk_req r;
    req_init(&r, BLK_FLUSH, 0, NULL, 0, &l);
    return run_req(b, &r, &l);
}

static void trial_send(int fd, const struct trial_msg *m)
{
    if (write(fd, m, sizeof(*m)) != (ssize_t)sizeof(*m))
        _exit(11);
}

static void trial_recv(int fd, struct trial_msg *m)
{
    assert_int_equal(read(fd, m, sizeof(*m)), (ssize_t)sizeof(*m));
}

/* one trial; adds to *ACKED, *LOST (acknowledged writes not in the file) and *FALSE_ACKS
 * (flushes that succeeded after the failed one, before the reopen) */
static void flush_trial(struct fix *f, enum blk_cache cache, uint32_t seed, unsigned *acked,
                        unsigned *lost, unsigned *false_acks)
{
    int c2p[2], p2c[2];
    int fd = open(f->path, O_RDWR | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 << 20), 0);
    close(fd);
    assert_int_equal(pipe(c2p), 0);
    assert_int_equal(pipe(p2c), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(c2p[0]);
        close(p2c[1]);
        trial_rng = seed;
        struct loop *loop = loop_new();
        struct blk *b;
        char err[256], c;
        struct trial_msg a = { .ret = 0 }, m = { .ret = 0 };
        struct blk_opts o = { .path = f->path, .fd = open(f->path, O_RDWR), .cache = cache };
        int fd2 = open(f->path, O_RDWR); /* for the reopen, as QMP add-fd hands one over */
        if (!loop || fd2 < 0 || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0 ||
            blk_open(&b, loop, &o, err, sizeof(err)) < 0)
            _exit(2);
        uint8_t *buf = blk_buf_alloc(4096);
        trial_batch(b, buf, &a, 0, 1);
        a.ret = trial_flush(b);
        trial_send(c2p[1], &a);
        trial_batch(b, buf, &m, 2 << 20, 1);
        blk_inject_error(b, BLK_FLUSH, EIO, 1);
        m.ret = trial_flush(b);
        trial_send(c2p[1], &m);
        if (read(p2c[0], &c, 1) != 1) /* the parent dropped the data */
            _exit(12);
        m.ret = trial_flush(b); /* the good flush */
        trial_send(c2p[1], &m);
        if (m.ret != 0) {
            /* a guest told of the error writes again (here after the reopen that clears it);
             * one told its data is safe does not */
            blk_close(b);
            o.fd = fd2;
            if (blk_open(&b, loop, &o, err, sizeof(err)) < 0)
                _exit(13);
            trial_batch(b, buf, &m, 0, 0);
            m.ret = trial_flush(b);
        } else {
            m.ret = 1;
        }
        trial_send(c2p[1], &m);
        for (;;)
            sleep(1000); /* killed here, everything open */
    }
    close(c2p[1]);
    close(p2c[0]);
    struct trial_msg a, m, good, again;
    struct { uint32_t off; uint8_t val; } ack[24];
    unsigned nack = 0;
    trial_recv(c2p[0], &a);
    assert_int_equal(a.ret, 0);
    for (unsigned i = 0; i < 8; i++)
        ack[nack].off = a.off[i], ack[nack++].val = a.val[i];
    trial_recv(c2p[0], &m);
    assert_int_equal(m.ret, -EIO);
    /* what the kernel may do after a writeback error: the dirty data is gone */
    fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t zero[4096] = { 0 };
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(pwrite(fd, zero, 4096, m.off[i]), 4096);
    assert_int_equal(fdatasync(fd), 0);
    close(fd);
    assert_int_equal(write(p2c[1], "c", 1), 1);
    trial_recv(c2p[0], &good);
    if (good.ret == 0) {
        (*false_acks)++;
        for (unsigned i = 0; i < 8; i++)
            ack[nack].off = m.off[i], ack[nack++].val = m.val[i];
    }
    trial_recv(c2p[0], &again);
    if (again.ret == 0 && good.ret != 0)
        for (unsigned i = 0; i < 8; i++)
            ack[nack].off = again.off[i], ack[nack++].val = again.val[i];
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* not SIGSYS, not an _exit */
    close(c2p[0]);
    close(p2c[1]);
    fd = open(f->path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t back[4096];
    for (unsigned i = 0; i < nack; i++) {
        assert_int_equal(pread(fd, back, 4096, ack[i].off), 4096);
        unsigned k = 0;
        while (k < 4096 && back[k] == ack[i].val)
            k++;
        if (k < 4096)
            (*lost)++;
    }
    close(fd);
    *acked += nack;
}

static void test_flush_error_trials(void **state)
{
    unsigned acked = 0, lost = 0, false_acks = 0, trials = 20;
    for (unsigned t = 0; t < trials; t++)
        flush_trial(*state, t & 1 ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK, 0x5eed0000u + t,
                    &acked, &lost, &false_acks);
    print_message("flush error then good flush: %u trials, %u acknowledged writes, %u lost, "
                  "%u flushes that vouched for dropped data\n", trials, acked, lost, false_acks);
    assert_int_equal(false_acks, 0);
    assert_int_equal(lost, 0);
    assert_int_equal(acked, trials * 16);
}

/* A discard punches a hole: the range reads zeros, the rest is kept, the file keeps its size;
 * read-only media and ranges past the end are refused with nothing done; an injected error
 * comes back; a zero-length discard is done at once. */
static void test_discard(void **state)
{
    struct fix *f = *state;
    struct done_log l = { .n = 0 };
    struct blk_req r;
    uint8_t *buf = blk_buf_alloc(65536);
    struct blk *b = open_img(f, 0, BLK_CACHE_WRITEBACK);
    memset(buf, 0x6d, 65536);
    req_init(&r, BLK_WRITE, 0, buf, 65536, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    req_init(&r, BLK_DISCARD, 8192, NULL, 16384, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 0);
    req_init(&r, BLK_DISCARD, 40960, NULL, 512, &l); /* a sector inside a 4 KiB block */
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 0);
    req_init(&r, BLK_DISCARD, 0, NULL, 0, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, 0);
    req_init(&r, BLK_DISCARD, (4 << 20) - 512, NULL, 1024, &l); /* past the end */
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    req_init(&r, BLK_DISCARD, UINT64_MAX - 511, NULL, 1024, &l);
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    blk_inject_error(b, BLK_DISCARD, EIO, 1);
    req_init(&r, BLK_DISCARD, 0, NULL, 4096, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    assert_int_equal(r.ret, -EIO);
    assert_int_equal(blk_stats(b)->discards, 3);
    memset(buf, 0xff, 65536);
    req_init(&r, BLK_READ, 0, buf, 65536, &l);
    assert_int_equal(blk_submit(b, &r), 1);
    for (unsigned i = 0; i < 65536; i++) {
        int hole = (i >= 8192 && i < 24576) || (i >= 40960 && i < 41472);
        if (buf[i] != (hole ? 0 : 0x6d))
            fail_msg("byte %u: %#x", i, buf[i]);
    }
    assert_int_equal(l.n, 0); /* all synchronous: no callback */
    struct stat st;
    assert_true(f->npre[1] > 1);
    assert_int_equal(fstat(f->pre[1][--f->npre[1]], &st), 0); /* (opened before the filter) */
    blk_close(b);
    assert_int_equal(st.st_size, 4 << 20);
    b = open_img(f, 1, BLK_CACHE_WRITEBACK);
    req_init(&r, BLK_DISCARD, 0, NULL, 4096, &l);
    assert_int_equal(blk_submit(b, &r), -EROFS);
    blk_close(b);
    free(buf);
}
SANDBOXED(test_discard)

/* A request scattered over pieces (qdisk's persistently mapped grants): written and read back
 * on a buffered medium and on a direct one (through libaio when every piece is sector-sized,
 * through the page cache when one is not); a piece list that does not add up is refused. */
static void scatter_on(struct fix *f, enum blk_cache cache)
{
    struct blk *b = open_img(f, 0, cache);
    struct done_log l = { .n = 0 };
    struct blk_req r;
    uint8_t *a = blk_buf_alloc(8192), *c = blk_buf_alloc(4096);
    struct iovec v[3] = { { a + 4096, 4096 }, { c + 512, 1024 }, { a, 512 } };
    memset(a, 0x11, 8192);
    memset(c, 0x22, 4096);
    memset(a, 0x33, 512);
    req_init(&r, BLK_WRITE, 8192, NULL, 5632, &l);
    r.iov = v;
    r.iovcnt = 3;
    int s = blk_submit(b, &r);
    assert_true(s == 0 || s == 1);
    if (s == 0)
        blk_drain(b);
    assert_int_equal(s == 1 ? r.ret : l.ret[0], 5632);
    uint8_t *back = blk_buf_alloc(8192);
    memset(back, 0, 8192);
    req_init(&r, BLK_READ, 8192, back, 8192, &l);
    s = blk_submit(b, &r);
    if (s == 0)
        blk_drain(b);
    assert_int_equal(back[0], 0x11);
    assert_int_equal(back[4095], 0x11);
    assert_int_equal(back[4096], 0x22);
    assert_int_equal(back[5119], 0x22);
    assert_int_equal(back[5120], 0x33);
    assert_int_equal(back[5631], 0x33);
    /* scattered read, an odd piece (a direct medium takes it through the page cache) */
    memset(a, 0, 8192);
    struct iovec w[2] = { { a, 4096 + 100 }, { c, 1436 } };
    req_init(&r, BLK_READ, 8192, NULL, 5632, &l);
    r.iov = w;
    r.iovcnt = 2;
    s = blk_submit(b, &r);
    assert_int_equal(s, 1);
    assert_int_equal(r.ret, 5632);
    assert_int_equal(a[4095], 0x11);
    assert_int_equal(a[4096], 0x22);
    assert_int_equal(c[0], 0x22);
    assert_int_equal(c[1435], 0x33);
    /* refused: pieces that do not add up to the length, none, a NULL piece */
    req_init(&r, BLK_READ, 0, NULL, 4096, &l);
    r.iov = w;
    r.iovcnt = 2;
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    r.iovcnt = 0;
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    struct iovec z = { NULL, 4096 };
    r.iov = &z;
    r.iovcnt = 1;
    assert_int_equal(blk_submit(b, &r), -EINVAL);
    free(a);
    free(c);
    free(back);
    blk_close(b);
}

static void test_scatter(void **state)
{
    scatter_on(*state, BLK_CACHE_WRITEBACK);
    scatter_on(*state, BLK_CACHE_NONE);
}
SANDBOXED(test_scatter)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_cache_sync_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_direct_async_and_queue_bound_sandboxed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unaligned_direct_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_error_sticks_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_ordering_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_direct_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_error_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scatter_sandboxed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

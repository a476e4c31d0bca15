/* SPDX-License-Identifier: GPL-2.0-only */
/* Block media (see block.h). */
#include "dm/block.h"
#include "dm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

struct blk {
    struct loop *loop;
    char *path;
    int fd;
    int direct;
    int readonly;
    int blockdev;         /* a block device (discard: BLKDISCARD), else a regular file */
    enum blk_cache cache;
    enum blk_policy werror, rerror;
    int nowait_ok;        /* RWF_NOWAIT reads still worth trying */
    int aio_fsync_ok;     /* IOCB_CMD_FDSYNC accepted by the kernel */
    uint64_t size;
    io_context_t ctx;
    int efd;
    unsigned inflight;
    struct blk_req *flying;    /* requests in the kernel */
    struct blk_req *parked;    /* flushes waiting for earlier writes, in order */
    uint64_t seq;
    int flush_err;        /* a failed fdatasync: every later flush fails with it (sticky) */
    struct { int err; unsigned count; } inject[4]; /* per blk_op: fail the next COUNT */
    struct blk_stats st;
    struct ratelimit err_rl; /* a guest can repeat a request that fails */
};

static void on_event(void *opaque, uint32_t events);

int blk_parse_cache(const char *s, enum blk_cache *out)
{
    static const char *const names[] = {
        [BLK_CACHE_WRITEBACK] = "writeback", [BLK_CACHE_NONE] = "none",
        [BLK_CACHE_WRITETHROUGH] = "writethrough", [BLK_CACHE_DIRECTSYNC] = "directsync",
        [BLK_CACHE_UNSAFE] = "unsafe",
    };
    for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum blk_cache)i;
            return 0;
        }
    }
    return -EINVAL;
}

static const char *const policy_names[] = {
    [BLK_POLICY_REPORT] = "report", [BLK_POLICY_IGNORE] = "ignore",
    [BLK_POLICY_STOP] = "stop", [BLK_POLICY_ENOSPC] = "enospc",
};

int blk_parse_policy(const char *s, enum blk_policy *out)
{
    for (unsigned i = 0; i < ARRAY_SIZE(policy_names); i++) {
        if (s && strcmp(s, policy_names[i]) == 0) {
            *out = (enum blk_policy)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *blk_policy_name(enum blk_policy p)
{
    return (unsigned)p < ARRAY_SIZE(policy_names) ? policy_names[p] : "report";
}

const char *blk_action_name(enum blk_action a)
{
    return a == BLK_ACT_STOP ? "stop" : a == BLK_ACT_IGNORE ? "ignore" : "report";
}

enum blk_action blk_policy_action(enum blk_policy policy, int err)
{
    switch (policy) {
    case BLK_POLICY_IGNORE:
        return BLK_ACT_IGNORE;
    case BLK_POLICY_STOP:
        return BLK_ACT_STOP;
    case BLK_POLICY_ENOSPC:
        return err == -ENOSPC || err == -EDQUOT ? BLK_ACT_STOP : BLK_ACT_REPORT;
    case BLK_POLICY_REPORT:
    default:
        return BLK_ACT_REPORT;
    }
}

enum blk_policy blk_werror(const struct blk *b) { return b->werror; }
enum blk_policy blk_rerror(const struct blk *b) { return b->rerror; }

void blk_set_policy(struct blk *b, enum blk_policy werror, enum blk_policy rerror)
{
    b->werror = werror;
    b->rerror = rerror;
}

enum blk_action blk_error_action(const struct blk *b, int op, int err)
{
    return blk_policy_action(op == BLK_READ ? b->rerror : b->werror, err);
}

void *blk_buf_alloc(size_t len)
{
    void *p = NULL;
    if (posix_memalign(&p, BLK_BUF_ALIGN, len ? len : BLK_BUF_ALIGN) != 0)
        return NULL;
    return p;
}

uint64_t blk_size(const struct blk *b) { return b->size; }
int blk_readonly(const struct blk *b) { return b->readonly; }
int blk_direct(const struct blk *b) { return b->direct; }
const char *blk_path(const struct blk *b) { return b->path; }
unsigned blk_inflight(const struct blk *b) { return b->inflight; }
const struct blk_stats *blk_stats(const struct blk *b) { return &b->st; }

int blk_write_cache(const struct blk *b)
{
    return !b->readonly && (b->cache == BLK_CACHE_WRITEBACK || b->cache == BLK_CACHE_NONE ||
                            b->cache == BLK_CACHE_UNSAFE);
}

/* Writes durable one by one (O_DSYNC semantics, per request). */
static int write_through(const struct blk *b)
{
    return b->cache == BLK_CACHE_WRITETHROUGH || b->cache == BLK_CACHE_DIRECTSYNC;
}

int blk_open(struct blk **out, struct loop *loop, const struct blk_opts *o, char *err,
             size_t errlen)
{
    const char *name = o->path ? o->path : "(fd)";
    struct blk *b = calloc(1, sizeof(*b));
    struct stat st;
    int r;

    *out = NULL;
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", name);
        if (o->fd >= 0)
            close(o->fd);
        return -ENOMEM;
    }
    b->fd = o->fd;
    b->efd = -1;
    b->loop = loop;
    b->readonly = o->readonly;
    b->cache = o->cache;
    b->werror = o->werror;
    b->rerror = o->rerror;
    b->nowait_ok = 1;
    b->aio_fsync_ok = 1;
    b->path = strdup(name);
    if (!b->path) {
        snprintf(err, errlen, "%s: out of memory", name);
        r = -ENOMEM;
        goto fail;
    }
    if (b->fd < 0) {
        if (!o->path) {
            snprintf(err, errlen, "no file given");
            r = -EINVAL;
            goto fail;
        }
        b->fd = open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (b->fd < 0) {
            r = -errno;
            if (r == -EROFS || (r == -EACCES && !o->readonly && access(o->path, R_OK) == 0))
                snprintf(err, errlen, "%s: cannot open for writing (%s); give readonly=on "
                         "for read-only media", name, strerror(-r));
            else
                snprintf(err, errlen, "%s: cannot open: %s", name, strerror(-r));
            goto fail;
        }
    } else {
        int fl = fcntl(b->fd, F_GETFL);
        if (fl < 0) {
            r = -errno;
            snprintf(err, errlen, "%s: bad file descriptor: %s", name, strerror(-r));
            goto fail;
        }
        if (!o->readonly && (fl & O_ACCMODE) == O_RDONLY) {
            snprintf(err, errlen, "%s: the file was opened read-only, but the drive is writable",
                     name);
            r = -EBADF;
            goto fail;
        }
        if ((fl & O_ACCMODE) == O_WRONLY) {
            snprintf(err, errlen, "%s: the file was opened write-only", name);
            r = -EBADF;
            goto fail;
        }
    }
    if (fstat(b->fd, &st) < 0) {
        r = -errno;
        snprintf(err, errlen, "%s: cannot stat: %s", name, strerror(-r));
        goto fail;
    }
    if (S_ISREG(st.st_mode)) {
        b->size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        b->blockdev = 1;
        if (ioctl(b->fd, BLKGETSIZE64, &b->size) < 0) {
            r = -errno;
            snprintf(err, errlen, "%s: cannot get the block device's size: %s", name, strerror(-r));
            goto fail;
        }
    } else {
        snprintf(err, errlen, "%s: neither a regular file nor a block device", name);
        r = -EINVAL;
        goto fail;
    }
    if (b->size < BLK_SECTOR) {
        snprintf(err, errlen, "%s: the image is empty (%llu bytes; a disk or CD-ROM medium needs at "
                 "least one 512-byte sector)", name, (unsigned long long)b->size);
        r = -EINVAL;
        goto fail;
    }
    /* Is it readable at all? (A directory slips through open; an unreadable device fails
     * here rather than at the guest's first read.) */
    {
        uint8_t probe[BLK_SECTOR];
        ssize_t n = pread(b->fd, probe, sizeof(probe), 0);
        if (n != (ssize_t)sizeof(probe)) {
            r = n < 0 ? -errno : -EIO;
            snprintf(err, errlen, "%s: cannot read the first sector: %s", name, strerror(-r));
            goto fail;
        }
    }
    /* Direct I/O where the cache mode asks for it and the file system allows it. */
    if (loop && !b->readonly && (b->cache == BLK_CACHE_NONE || b->cache == BLK_CACHE_DIRECTSYNC)) {
        int fl = fcntl(b->fd, F_GETFL);
        if (fl >= 0 && fcntl(b->fd, F_SETFL, fl | O_DIRECT) == 0)
            b->direct = 1;
        else
            log_info("%s: the file system refuses O_DIRECT; using the page cache", name);
    }
    *out = b;
    return 0;
fail:
    /* the caller's fd is ours from the start: close it on failure too */
    if (b->fd >= 0)
        close(b->fd);
    if (b->efd >= 0)
        close(b->efd);
    if (b->ctx)
        io_destroy(b->ctx);
    free(b->path);
    free(b);
    return r;
}

static void flying_del(struct blk *b, struct blk_req *req)
{
    for (struct blk_req **p = &b->flying; *p; p = &(*p)->next) {
        if (*p == req) {
            *p = req->next;
            req->next = NULL;
            return;
        }
    }
}

/* Synchronous read / write of the whole request, from byte DONE on. Bytes, or a negative
 * errno. */
static int rw_sync(struct blk *b, struct blk_req *req, size_t done)
{
    int fd = b->fd;
    int flags = req->op == BLK_WRITE && (req->fua || write_through(b)) ? RWF_DSYNC : 0;
    struct iovec one = { req->buf, req->len };
    const struct iovec *all = req->iov ? req->iov : &one;
    unsigned cnt = req->iov ? req->iovcnt : 1;
    while (done < req->len) {
        /* the pieces from DONE on (the first one cut), at most BLK_MAX_IOV */
        struct iovec v[BLK_MAX_IOV];
        unsigned n = 0;
        size_t skip = done;
        for (unsigned i = 0; i < cnt; i++) {
            if (skip >= all[i].iov_len) {
                skip -= all[i].iov_len;
                continue;
            }
            v[n].iov_base = (uint8_t *)all[i].iov_base + skip;
            v[n].iov_len = all[i].iov_len - skip;
            skip = 0;
            n++;
        }
        if (!n)
            return -EIO;
        ssize_t r = req->op == BLK_READ ? preadv2(fd, v, (int)n, (off_t)(req->off + done), 0)
                                        : pwritev2(fd, v, (int)n, (off_t)(req->off + done), flags);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -EIO; /* the file shrank under us */
        done += (size_t)r;
    }
    return (int)req->len;
}

/* What O_DIRECT refuses (an unaligned buffer, offset or length; a device with larger logical
 * sectors) goes through the page cache: O_DIRECT is cleared on the fd for this one synchronous
 * request and set again. (Not a second descriptor opened through /proc/self/fd: hvmd runs in
 * its sandbox by then, where nothing is opened by path.) Requests already in the kernel keep
 * the flags they were submitted with. */
static int rw_buffered(struct blk *b, struct blk_req *req)
{
    int fl = fcntl(b->fd, F_GETFL), r;
    if (fl < 0 || fcntl(b->fd, F_SETFL, fl & ~O_DIRECT) < 0) {
        r = -errno;
        log_warn("%s: cannot clear O_DIRECT: %s", b->path, strerror(-r));
        return r;
    }
    r = rw_sync(b, req, 0);
    if (fcntl(b->fd, F_SETFL, fl) < 0)
        log_warn("%s: cannot set O_DIRECT again: %s", b->path, strerror(errno));
    return r;
}

/* A flush's result: an fdatasync that failed once fails every flush after it, until the
 * image is reopened. (The kernel reports a writeback error to one fdatasync only and may have
 * dropped the dirty pages: a later flush that succeeds would promise data that is gone.) */
static int flush_result(struct blk *b, int ret)
{
    if (ret < 0 && !b->flush_err) {
        b->flush_err = ret;
        log_err("%s: flush failed (%s): every flush fails from now on until the image is "
                "reopened", b->path, strerror(-ret));
    }
    return b->flush_err ? b->flush_err : ret;
}

void blk_inject_error(struct blk *b, enum blk_op op, int err, unsigned count)
{
    if ((unsigned)op < ARRAY_SIZE(b->inject)) {
        b->inject[op].err = err;
        b->inject[op].count = count;
    }
}

/* an injected error for this request, or 0 */
static int injected(struct blk *b, enum blk_op op)
{
    if ((unsigned)op >= ARRAY_SIZE(b->inject) || !b->inject[op].count)
        return 0;
    b->inject[op].count--;
    return -b->inject[op].err;
}

static void account(struct blk *b, struct blk_req *req, int ret)
{
    if (ret < 0) {
        b->st.errors++;
        log_limited(&b->err_rl, LOG_WARN, "%s: %s at %llu+%zu failed: %s", b->path,
                    req->op == BLK_READ ? "read" : req->op == BLK_WRITE ? "write" :
                    req->op == BLK_DISCARD ? "discard" : "flush",
                 (unsigned long long)req->off, req->len, strerror(-ret));
        return;
    }
    switch (req->op) {
    case BLK_READ:
        b->st.reads++;
        b->st.bytes_read += req->len;
        break;
    case BLK_WRITE:
        b->st.writes++;
        b->st.bytes_written += req->len;
        break;
    case BLK_FLUSH:
        b->st.flushes++;
        break;
    case BLK_DISCARD:
        b->st.discards++;
        break;
    }
}

/* A discard, synchronously (see block.h). */
static int discard(struct blk *b, struct blk_req *req)
{
    if (req->len == 0)
        return 0;
    if (b->blockdev) {
        uint64_t range[2] = { req->off, req->len };
        return ioctl(b->fd, BLKDISCARD, range) < 0 ? -errno : 0;
    }
    if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)req->off,
                  (off_t)req->len) < 0)
        return errno == ENOSYS ? -EOPNOTSUPP : -errno;
    return 0;
}

/* The io context and its eventfd on the loop, made on first use: media that never need them
 * (read-only, page cache without flushes) do not pay for io_setup / io_destroy. */
static int aio_ready(struct blk *b)
{
    int r;
    if (b->ctx)
        return 0;
    if (!b->loop)
        return -EINVAL;
    r = io_setup(BLK_QUEUE_DEPTH, &b->ctx);
    if (r < 0) {
        b->ctx = 0;
        log_err("%s: io_setup: %s", b->path, strerror(-r));
        return r;
    }
    b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->efd < 0) {
        r = -errno;
        goto fail;
    }
    r = loop_add_fd(b->loop, b->efd, EPOLLIN, on_event, b);
    if (r < 0)
        goto fail;
    return 0;
fail:
    log_err("%s: setting up asynchronous I/O: %s", b->path, strerror(-r));
    if (b->efd >= 0)
        close(b->efd);
    b->efd = -1;
    io_destroy(b->ctx);
    b->ctx = 0;
    return r;
}

static int kernel_submit(struct blk *b, struct blk_req *req)
{
    int ar = aio_ready(b);
    if (ar < 0)
        return ar;
    struct iocb *cbs[1] = { &req->iocb };
    memset(&req->iocb, 0, sizeof(req->iocb));
    switch (req->op) {
    case BLK_READ:
        if (req->iov)
            io_prep_preadv(&req->iocb, b->fd, req->iov, (int)req->iovcnt, (long long)req->off);
        else
            io_prep_pread(&req->iocb, b->fd, req->buf, req->len, (long long)req->off);
        break;
    case BLK_WRITE:
        if (req->iov)
            io_prep_pwritev(&req->iocb, b->fd, req->iov, (int)req->iovcnt, (long long)req->off);
        else
            io_prep_pwrite(&req->iocb, b->fd, req->buf, req->len, (long long)req->off);
        if (req->fua || write_through(b))
            req->iocb.aio_rw_flags = RWF_DSYNC;
        break;
    case BLK_FLUSH:
        io_prep_fdsync(&req->iocb, b->fd);
        break;
    case BLK_DISCARD:
        return -EINVAL; /* synchronous, never here */
    }
    req->iocb.data = req;
    io_set_eventfd(&req->iocb, b->efd);
    int r = io_submit(b->ctx, 1, cbs);
    if (r != 1)
        return r < 0 ? r : -EIO;
    req->next = b->flying;
    b->flying = req;
    b->inflight++;
    return 0;
}

/* Is a write older than SEQ still in flight? */
static int older_writes(const struct blk *b, uint64_t seq)
{
    for (const struct blk_req *r = b->flying; r; r = r->next)
        if (r->op == BLK_WRITE && r->seq < seq)
            return 1;
    return 0;
}

/* Start a flush whose earlier writes are done. 1: done at once (ret set), 0: in flight. */
static int flush_start(struct blk *b, struct blk_req *req)
{
    int inj;
    if (b->cache == BLK_CACHE_UNSAFE) {
        req->ret = 0;
        return 1;
    }
    inj = injected(b, BLK_FLUSH);
    if (inj || b->flush_err) {
        req->ret = flush_result(b, inj);
        return 1;
    }
    if (b->loop && b->aio_fsync_ok) {
        int r = kernel_submit(b, req);
        if (r == 0)
            return 0;
        if (r == -EINVAL || r == -EOPNOTSUPP) {
            b->aio_fsync_ok = 0;
            log_info("%s: no asynchronous fdatasync here; flushing synchronously", b->path);
        }
        /* (any other failure to submit: this one flush synchronously) */
    }
    req->ret = flush_result(b, fdatasync(b->fd) < 0 ? -errno : 0);
    return 1;
}

/* Flushes parked behind writes that have now completed go on. */
static void release_parked(struct blk *b)
{
    while (b->parked && !older_writes(b, b->parked->seq)) {
        struct blk_req *req = b->parked;
        b->parked = req->next;
        req->next = NULL;
        b->inflight--; /* it was counted while parked */
        if (flush_start(b, req)) {
            account(b, req, req->ret);
            b->st.async_done++;
            req->done(req, req->ret);
        }
    }
}

int blk_submit(struct blk *b, struct blk_req *req)
{
    req->b = b;
    req->next = NULL;
    req->ret = 0;
    if (b->inflight >= BLK_QUEUE_DEPTH)
        return -EBUSY;
    req->seq = ++b->seq;
    if (req->op == BLK_FLUSH) {
        if (b->readonly) {
            req->ret = 0;
            b->st.sync_done++;
            b->st.flushes++;
            return 1;
        }
        if (older_writes(b, req->seq) || b->parked) {
            /* keep flushes in order behind the writes they cover */
            struct blk_req **p = &b->parked;
            while (*p)
                p = &(*p)->next;
            *p = req;
            b->inflight++;
            return 0;
        }
        if (flush_start(b, req)) {
            account(b, req, req->ret);
            b->st.sync_done++;
            return 1;
        }
        return 0;
    }
    if (req->op == BLK_DISCARD) {
        if (req->off > b->size || req->len > b->size - req->off)
            return -EINVAL;
        if (b->readonly)
            return -EROFS;
        int inj = injected(b, req->op);
        req->ret = inj ? inj : discard(b, req);
        account(b, req, req->ret);
        b->st.sync_done++;
        return 1;
    }
    if (req->op != BLK_READ && req->op != BLK_WRITE)
        return -EINVAL;
    if (req->len == 0 || req->len > BLK_MAX_REQ || req->off > b->size ||
        req->len > b->size - req->off)
        return -EINVAL;
    if (req->iov) {
        size_t sum = 0;
        if (req->iovcnt == 0 || req->iovcnt > BLK_MAX_IOV)
            return -EINVAL;
        for (unsigned i = 0; i < req->iovcnt; i++) {
            if (!req->iov[i].iov_base || req->iov[i].iov_len > BLK_MAX_REQ)
                return -EINVAL;
            sum += req->iov[i].iov_len;
        }
        if (sum != req->len)
            return -EINVAL;
    } else if (!req->buf) {
        return -EINVAL;
    }
    if (req->op == BLK_WRITE && b->readonly)
        return -EROFS;
    int inj = injected(b, req->op);
    if (inj) {
        req->ret = inj;
        account(b, req, inj);
        b->st.sync_done++;
        return 1;
    }

    if (b->direct) {
        int aligned = (req->off % BLK_SECTOR) == 0 && (req->len % BLK_SECTOR) == 0;
        if (!req->iov)
            aligned = aligned && ((uintptr_t)req->buf % BLK_BUF_ALIGN) == 0;
        for (unsigned i = 0; req->iov && aligned && i < req->iovcnt; i++)
            aligned = ((uintptr_t)req->iov[i].iov_base % BLK_SECTOR) == 0 &&
                      (req->iov[i].iov_len % BLK_SECTOR) == 0;
        if (aligned) {
            int r = kernel_submit(b, req);
            if (r == 0)
                return 0;
            if (r != -EINVAL)
                return r;
        }
        /* what O_DIRECT cannot take goes through the page cache, synchronously */
        req->ret = rw_buffered(b, req);
        account(b, req, req->ret);
        b->st.sync_done++;
        return 1;
    }

    size_t done = 0;
    if (req->op == BLK_READ && b->nowait_ok) {
        struct iovec iov = { req->buf, req->len };
        ssize_t n = req->iov ? preadv2(b->fd, req->iov, (int)req->iovcnt, (off_t)req->off, RWF_NOWAIT)
                             : preadv2(b->fd, &iov, 1, (off_t)req->off, RWF_NOWAIT);
        if (n > 0)
            done = (size_t)n;
        else if (n < 0 && errno == EOPNOTSUPP)
            b->nowait_ok = 0;
        if (done < req->len)
            b->st.cache_misses++;
    }
    req->ret = rw_sync(b, req, done);
    account(b, req, req->ret);
    b->st.sync_done++;
    return 1;
}

/* Take completions: at least MIN of them (0: only what is there). */
static void reap(struct blk *b, long min)
{
    struct io_event ev[BLK_QUEUE_DEPTH];
    struct timespec zero = { 0, 0 };
    int n;

    do {
        n = io_getevents(b->ctx, min, BLK_QUEUE_DEPTH, ev, min ? NULL : &zero);
    } while (n == -EINTR);
    if (n < 0) {
        log_err("%s: io_getevents: %s", b->path, strerror(-n));
        return;
    }
    for (int i = 0; i < n; i++) {
        struct blk_req *req = ev[i].data;
        long res = (long)ev[i].res;
        int ret;
        flying_del(b, req);
        b->inflight--;
        if (req->op == BLK_FLUSH)
            ret = flush_result(b, res < 0 ? (int)res : 0);
        else if (res == (long)req->len)
            ret = (int)req->len;
        else if (res == -EINVAL)
            ret = rw_buffered(b, req); /* alignment O_DIRECT refused */
        else
            ret = res < 0 ? (int)res : -EIO;
        req->ret = ret;
        account(b, req, ret);
        b->st.async_done++;
        release_parked(b);
        req->done(req, ret);
    }
}

static void on_event(void *opaque, uint32_t events)
{
    struct blk *b = opaque;
    uint64_t cnt;
    if (read(b->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
        log_warn("%s: reading the aio eventfd: %s", b->path, strerror(errno));
    reap(b, 0);
}

void blk_drain(struct blk *b)
{
    while (b->inflight) {
        if (b->flying)
            reap(b, 1);
        else
            release_parked(b); /* only parked flushes left: nothing older can hold them */
    }
}

void blk_close(struct blk *b)
{
    if (!b)
        return;
    blk_drain(b);
    if (b->efd >= 0)
        loop_del_fd(b->loop, b->efd);
    if (b->efd >= 0)
        close(b->efd);
    if (b->ctx)
        io_destroy(b->ctx);
    close(b->fd);
    free(b->path);
    free(b);
}

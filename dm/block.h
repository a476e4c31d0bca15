/* SPDX-License-Identifier: GPL-2.0-only */
/* Block media for the emulated disks and CD-ROMs (and later the PV block backend): raw images,
 * regular files or block devices, read-write or read-only.
 *
 * Two ways to the data, chosen from the cache mode when the medium is opened (the modes mean
 * what they mean to QEMU, whose -drive options libxl passes):
 *   direct    cache=none|directsync on a writable image whose file system allows it: O_DIRECT,
 *             asynchronous through libaio (one io context, a bounded queue of BLK_QUEUE_DEPTH
 *             requests, completions through an eventfd on the loop). dom0's page cache holds no
 *             second copy of what the guest caches itself.
 *   buffered  cache=writeback (libxl's choice for every disk), writethrough and unsafe, read-only
 *             media, and files whose file system refuses O_DIRECT (tmpfs): the page cache. Reads
 *             are tried with RWF_NOWAIT first and complete at once when the data is cached (an
 *             ISO read by firmware a sector at a time: the guest's first status poll sees the
 *             data); a miss is read synchronously. Writes are synchronous copies into the page
 *             cache.
 * Flushes go through libaio (IOCB_CMD_FDSYNC, so a slow fdatasync does not stall the loop),
 * falling back to a synchronous fdatasync where the kernel refuses that. A flush that failed
 * makes every later flush of the medium fail too, until it is reopened: the kernel reports a
 * writeback error once and may have dropped the data, so no later flush can vouch for it.
 * Nothing here opens a file by path once a medium is open (hvmd is sandboxed by then).
 *
 * Durability: a request's completion means the kernel holds the data (page cache or device),
 * never a buffer of this process; a flush completes only after every write that completed
 * before it was submitted, and every write still in flight when it was submitted, and then
 * an fdatasync. So a write the guest saw complete before a flush it saw complete survives
 * hvmd being killed (and, for the flush, the host losing power). cache=unsafe turns flushes
 * into no-ops; cache=writethrough|directsync make every write durable (O_DSYNC) and report
 * no volatile write cache.
 *
 * Single-threaded: the loop's thread is the only user. */
#ifndef HVMD_BLOCK_H
#define HVMD_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <libaio.h>
#include "dm/loop.h"
#include "dm/util.h"

#define BLK_QUEUE_DEPTH 64
/* Buffers handed to blk_submit must be aligned to this for direct I/O (blk_buf_alloc). */
#define BLK_BUF_ALIGN 4096
#define BLK_SECTOR 512

enum blk_cache {
    BLK_CACHE_WRITEBACK = 0, /* the default, and what libxl passes */
    BLK_CACHE_NONE,
    BLK_CACHE_WRITETHROUGH,
    BLK_CACHE_DIRECTSYNC,
    BLK_CACHE_UNSAFE,
};

/* What a device does when a host read or write (or flush) of the medium fails, as QEMU's
 * -drive werror= (writes, flushes) and rerror= (reads) name it:
 *   report  the request fails to the guest (an I/O error status): hvmd's default
 *   ignore  the request completes to the guest as if it had worked (data not moved)
 *   stop    the request is kept, not completed, and the guest is paused (QMP status
 *           "io-error", event BLOCK_IO_ERROR) until QMP cont retries it (dm/vm.h)
 *   enospc  stop for ENOSPC and EDQUOT (the host's disk or quota is full: free space, cont),
 *           report for every other error */
enum blk_policy { BLK_POLICY_REPORT = 0, BLK_POLICY_IGNORE, BLK_POLICY_STOP, BLK_POLICY_ENOSPC };
/* What to do with one error: REPORT, IGNORE or STOP (never ENOSPC). */
enum blk_action { BLK_ACT_REPORT = 0, BLK_ACT_IGNORE, BLK_ACT_STOP };
/* "report", "ignore", "stop", "enospc" -> *OUT. 0 or -EINVAL. */
int blk_parse_policy(const char *s, enum blk_policy *out) WUR;
const char *blk_policy_name(enum blk_policy p);
const char *blk_action_name(enum blk_action a); /* as BLOCK_IO_ERROR's "action" says it */
/* The action POLICY asks for on the error ERR (a negative errno). */
enum blk_action blk_policy_action(enum blk_policy policy, int err);

struct blk_opts {
    const char *path;     /* what to open (if fd < 0), and the name in messages */
    int fd;               /* an open file to take over (QMP add-fd), or -1 */
    int readonly;
    enum blk_cache cache;
    enum blk_policy werror;   /* writes and flushes that fail (default report) */
    enum blk_policy rerror;   /* reads that fail (default report) */
};

/* "writeback", "none", "writethrough", "directsync", "unsafe" -> *OUT. 0 or -EINVAL. */
int blk_parse_cache(const char *s, enum blk_cache *out) WUR;


struct blk;

/* Open a medium. LOOP carries the completions (NULL: everything synchronous, for tools and
 * fuzzers). A missing, unreadable or empty image, or something that is neither a regular
 * file nor a block device, fails with a negative errno and a message naming the file in ERR.
 * On success the medium owns O->fd if one was given. */
int blk_open(struct blk **out, struct loop *loop, const struct blk_opts *o, char *err,
             size_t errlen) WUR;
/* Wait for every request in flight (their callbacks run), then close. */
void blk_close(struct blk *b);

uint64_t blk_size(const struct blk *b);          /* bytes */
int blk_readonly(const struct blk *b);
int blk_direct(const struct blk *b);             /* O_DIRECT in use */
int blk_write_cache(const struct blk *b);        /* writes need a flush to be durable */
const char *blk_path(const struct blk *b);
/* The medium's error policies (from blk_opts; QMP query-block shows them), and what a failed
 * request of OP with the error ERR asks of the device that made it. */
enum blk_policy blk_werror(const struct blk *b);
enum blk_policy blk_rerror(const struct blk *b);
enum blk_action blk_error_action(const struct blk *b, int op, int err);
void blk_set_policy(struct blk *b, enum blk_policy werror, enum blk_policy rerror);

/* BLK_DISCARD: the range's data may go (reads of it return zeros afterwards): a hole punched
 * in a regular file (FALLOC_FL_PUNCH_HOLE, keeping the size), BLKDISCARD on a block device;
 * synchronous; -EOPNOTSUPP where the file system or device cannot. No buffer, any length up
 * to the end of the medium. */
enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD };

struct blk_req;
/* RET: bytes moved (== len) or 0 for a flush, or a negative errno. */
typedef void blk_done_fn(struct blk_req *req, int ret);

struct blk_req {
    enum blk_op op;
    uint64_t off;         /* bytes; READ / WRITE */
    void *buf;            /* BLK_BUF_ALIGN-aligned if the medium is direct */
    size_t len;           /* > 0, <= BLK_MAX_REQ */
    /* READ / WRITE scattered over IOVCNT (1..BLK_MAX_IOV) pieces instead of BUF (NULL then),
     * whose lengths add up to LEN; on a direct medium each piece's address and length a
     * multiple of BLK_SECTOR goes to the kernel as it is, anything else through the page
     * cache synchronously. The array must stay untouched until the request completes. */
    const struct iovec *iov;
    unsigned iovcnt;
    int fua;              /* WRITE: durable when it completes */
    blk_done_fn *done;
    void *opaque;
    int ret;              /* the result, when blk_submit returned 1 */
    /* private */
    struct blk *b;
    struct iocb iocb;
    uint64_t seq;
    struct blk_req *next;
};
#define BLK_MAX_REQ (64u << 20)
#define BLK_MAX_IOV 1024

/* Start REQ. Returns 1 if it completed at once (REQ->ret holds the result, DONE is not
 * called), 0 if it is in flight (DONE runs later from the loop, or from blk_drain), or a
 * negative errno if it was refused and nothing was done: -EINVAL (length, alignment, range
 * past the end), -EROFS (a write to read-only media), -EBUSY (BLK_QUEUE_DEPTH in flight).
 * REQ and its buffer must stay untouched until it completes. */
int blk_submit(struct blk *b, struct blk_req *req) WUR;

/* Host errors on demand (tests, fuzzers): the next COUNT requests of OP fail with -ERR and do
 * nothing (a flush's error sticks like a real one). COUNT 0 stops it. */
void blk_inject_error(struct blk *b, enum blk_op op, int err, unsigned count);

/* Run completions until nothing is in flight. */
void blk_drain(struct blk *b);
unsigned blk_inflight(const struct blk *b);

/* An aligned buffer for requests (free with free()). NULL on failure. */
void *blk_buf_alloc(size_t len);

struct blk_stats {
    uint64_t reads, writes, flushes;   /* requests completed */
    uint64_t bytes_read, bytes_written;
    uint64_t sync_done;                /* completed inside blk_submit */
    uint64_t async_done;               /* completed later through libaio */
    uint64_t cache_misses;             /* buffered reads that had to wait for the disk */
    uint64_t errors;
    uint64_t discards;                 /* discard requests completed */
};
const struct blk_stats *blk_stats(const struct blk *b);

#endif

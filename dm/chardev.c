/* Character backends (see chardev.h). A pty keeps its slave side open itself: then the master
 * never reports a hang-up while no console is attached (which would spin the loop), and output
 * waits in the pty until `xl console` opens it. When the pty (or a pipe) is full because its
 * reader lags, what the guest wrote waits in a bounded backlog (CHARDEV_BACKLOG bytes) that the
 * loop flushes when the fd takes more (EPOLLOUT); only a full backlog drops bytes. A file
 * takes at most its max-size: what the guest writes beyond is dropped and counted, with one
 * log line, so a guest cannot fill dom0's disk through its serial port. */
#include "dm/chardev.h"
#include "dm/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct chardev {
    struct loop *loop;
    char label[32];
    char filename[256];
    int in_fd, out_fd, slave_fd;
    int own_fds;          /* close in_fd / out_fd on close */
    int watching;         /* in_fd is in the loop */
    int reading;          /* ... with EPOLLIN */
    int out_watched;      /* out_fd (when not in_fd) is in the loop for EPOLLOUT */
    const struct chardev_ops *ops;
    void *opaque;
    uint64_t dropped;
    uint64_t out_max;     /* file: bytes it may take in all (0: no limit) */
    uint64_t out_bytes;   /* ... taken so far */
    uint64_t over;        /* ... dropped beyond out_max */
    /* bytes the fd did not take yet, in order: a ring of CHARDEV_BACKLOG, allocated on need */
    uint8_t *bl;
    size_t bl_head, bl_len;
};

static void update_watch(struct chardev *c);

static void set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static void flush_backlog(struct chardev *c);

static void on_input(void *opaque, uint32_t events)
{
    struct chardev *c = opaque;
    uint8_t buf[256];

    if (events & EPOLLOUT) {
        flush_backlog(c);
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !c->reading)
            return;
    }
    size_t room = c->ops && c->ops->can_receive ? c->ops->can_receive(c->opaque) : sizeof(buf);

    if (room == 0) {
        /* frontend full: stop reading until chardev_input_ready */
        c->reading = 0;
        update_watch(c);
        return;
    }
    ssize_t n = read(c->in_fd, buf, MIN(room, sizeof(buf)));
    if (n > 0) {
        if (c->ops && c->ops->receive)
            c->ops->receive(c->opaque, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* end of input (or an error): keep the output side */
    loop_del_fd(c->loop, c->in_fd);
    c->watching = c->reading = 0;
    if (c->out_fd == c->in_fd && c->bl_len) {
        /* the fd cannot tell when it takes more now: what waits is lost */
        c->dropped += c->bl_len;
        c->bl_len = 0;
    }
}

static void on_output(void *opaque, uint32_t events)
{
    (void)events;
    flush_backlog(opaque);
}

/* the loop watches what is wanted: input while the frontend has room, output while a backlog
 * waits */
static void update_watch(struct chardev *c)
{
    uint32_t out = c->bl_len ? EPOLLOUT : 0;

    if (c->watching) {
        uint32_t ev = (c->reading ? EPOLLIN : 0) | (c->out_fd == c->in_fd ? out : 0);
        if (loop_mod_fd(c->loop, c->in_fd, ev) < 0)
            log_warn("%s: cannot change the watch on fd %d", c->label, c->in_fd);
    }
    if (c->out_fd >= 0 && c->out_fd != c->in_fd) {
        if (out && !c->out_watched)
            c->out_watched = loop_add_fd(c->loop, c->out_fd, EPOLLOUT, on_output, c) == 0;
        else if (!out && c->out_watched) {
            loop_del_fd(c->loop, c->out_fd);
            c->out_watched = 0;
        }
    }
}

void chardev_input_ready(struct chardev *c)
{
    if (c->watching && !c->reading) {
        c->reading = 1;
        update_watch(c);
    }
}

static struct chardev *new_chardev(struct loop *loop, const char *label)
{
    struct chardev *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->loop = loop;
    c->in_fd = c->out_fd = c->slave_fd = -1;
    snprintf(c->label, sizeof(c->label), "%s", label);
    return c;
}

static void attach(struct chardev *c)
{
    if (c->in_fd >= 0 && loop_add_fd(c->loop, c->in_fd, EPOLLIN, on_input, c) == 0)
        c->watching = c->reading = 1; /* a regular file or /dev/null cannot be watched: no input */
}

struct chardev *chardev_open_fds(struct loop *loop, int in_fd, int out_fd, const char *label)
{
    struct chardev *c = new_chardev(loop, label);
    if (!c)
        return NULL;
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    snprintf(c->filename, sizeof(c->filename), "fd:%d,%d", in_fd, out_fd);
    attach(c);
    return c;
}

/* "file:PATH[,max-size=N[K|M|G]]" -> PATH and the limit (CHARDEV_FILE_MAX if not given;
 * max-size=0: none) */
static int parse_file(const char *spec, char *path, size_t pathlen, uint64_t *max, char *err,
                      size_t errlen)
{
    const char *p = spec + 5, *opt = strstr(p, ",max-size=");
    size_t n = opt ? (size_t)(opt - p) : strlen(p);
    *max = CHARDEV_FILE_MAX;
    if (n == 0 || n >= pathlen) {
        snprintf(err, errlen, "-serial %s: bad file name", spec);
        return -EINVAL;
    }
    memcpy(path, p, n);
    path[n] = 0;
    if (opt) {
        char *end;
        const char *v = opt + strlen(",max-size=");
        unsigned long long m = strtoull(v, &end, 10);
        unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
        if (shift)
            end++;
        if (end == v || *end || *v == '-' || m > (UINT64_MAX >> shift)) {
            snprintf(err, errlen, "-serial %s: max-size takes bytes (or a number with K, M or "
                     "G; 0: no limit)", spec);
            return -EINVAL;
        }
        *max = (uint64_t)m << shift;
    }
    return 0;
}

struct chardev *chardev_open(struct loop *loop, const char *spec, const char *label, char *err,
                             size_t errlen)
{
    struct chardev *c = new_chardev(loop, label);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->own_fds = 1;
    if (!strcmp(spec, "pty")) {
        int m, sl;
        char name[128];
        if (openpty(&m, &sl, name, NULL, NULL) < 0) {
            snprintf(err, errlen, "-serial pty: openpty: %s", strerror(errno));
            goto fail;
        }
        set_raw(sl);
        fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
        fcntl(m, F_SETFD, FD_CLOEXEC);
        fcntl(sl, F_SETFD, FD_CLOEXEC);
        c->in_fd = c->out_fd = m;
        c->slave_fd = sl;
        snprintf(c->filename, sizeof(c->filename), "pty:%s", name);
        log_info("%s: %s", label, name);
    } else if (!strcmp(spec, "stdio")) {
        c->in_fd = STDIN_FILENO;
        c->out_fd = STDOUT_FILENO;
        c->own_fds = 0;
        snprintf(c->filename, sizeof(c->filename), "stdio");
    } else if (!strcmp(spec, "null")) {
        snprintf(c->filename, sizeof(c->filename), "null");
    } else if (!strncmp(spec, "file:", 5) && spec[5]) {
        char path[sizeof(c->filename) - 8];
        if (parse_file(spec, path, sizeof(path), &c->out_max, err, errlen) < 0)
            goto fail;
        c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->out_fd < 0) {
            snprintf(err, errlen, "-serial %s: %s", spec, strerror(errno));
            goto fail;
        }
        snprintf(c->filename, sizeof(c->filename), "file:%s", path);
    } else if (!strncmp(spec, "/dev/", 5)) {
        c->in_fd = c->out_fd = open(spec, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (c->in_fd < 0) {
            snprintf(err, errlen, "-serial %s: %s", spec, strerror(errno));
            goto fail;
        }
        set_raw(c->in_fd);
        snprintf(c->filename, sizeof(c->filename), "tty:%s", spec);
    } else {
        snprintf(err, errlen, "-serial %s: unknown backend", spec);
        goto fail;
    }
    attach(c);
    return c;
fail:
    free(c);
    return NULL;
}

void chardev_close(struct chardev *c)
{
    if (!c)
        return;
    if (c->watching)
        loop_del_fd(c->loop, c->in_fd);
    if (c->out_watched)
        loop_del_fd(c->loop, c->out_fd);
    if (c->over)
        log_info("%s: %llu bytes dropped beyond the file's max-size", c->label,
                 (unsigned long long)c->over);
    free(c->bl);
    if (c->own_fds) {
        if (c->in_fd >= 0)
            close(c->in_fd);
        if (c->out_fd >= 0 && c->out_fd != c->in_fd)
            close(c->out_fd);
    }
    if (c->slave_fd >= 0)
        close(c->slave_fd);
    free(c);
}

void chardev_set_frontend(struct chardev *c, const struct chardev_ops *ops, void *opaque)
{
    c->ops = ops;
    c->opaque = opaque;
}

/* write what the fd takes now; returns the bytes written, or -1 on an error other than a full fd */
static ssize_t write_some(struct chardev *c, const uint8_t *p, size_t n)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = write(c->out_fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return -1;
        break;
    }
    return (ssize_t)done;
}

/* can this backend tell when it takes more? (an fd the loop watches for EPOLLOUT) */
static int can_wait(struct chardev *c)
{
    return c->out_fd == c->in_fd ? c->watching : 1;
}

static void backlog_add(struct chardev *c, const uint8_t *p, size_t n)
{
    if (!c->bl && can_wait(c))
        c->bl = malloc(CHARDEV_BACKLOG);
    if (!c->bl) {
        c->dropped += n;
        return;
    }
    while (n && c->bl_len < CHARDEV_BACKLOG) {
        size_t tail = (c->bl_head + c->bl_len) % CHARDEV_BACKLOG;
        size_t room = MIN(CHARDEV_BACKLOG - c->bl_len, CHARDEV_BACKLOG - tail);
        size_t k = MIN(n, room);
        memcpy(c->bl + tail, p, k);
        c->bl_len += k;
        p += k;
        n -= k;
    }
    c->dropped += n; /* the backlog is full too: the reader is gone or far behind */
}

static void flush_backlog(struct chardev *c)
{
    while (c->bl_len) {
        size_t k = MIN(c->bl_len, CHARDEV_BACKLOG - c->bl_head);
        ssize_t w = write_some(c, c->bl + c->bl_head, k);
        if (w < 0) {
            c->dropped += c->bl_len;
            c->bl_len = 0;
            break;
        }
        c->bl_head = (c->bl_head + (size_t)w) % CHARDEV_BACKLOG;
        c->bl_len -= (size_t)w;
        if ((size_t)w < k)
            break;
    }
    if (!c->bl_len)
        c->bl_head = 0;
    update_watch(c);
}

void chardev_write(struct chardev *c, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    ssize_t w;
    int was_empty = c->bl_len == 0;

    if (c->out_fd < 0 || !n)
        return;
    if (c->out_max) {
        uint64_t room = c->out_max - c->out_bytes;
        if (n > room) {
            if (!c->over)
                log_warn("%s: %s reached its max-size of %llu bytes: further output is "
                         "dropped (counted)", c->label, c->filename,
                         (unsigned long long)c->out_max);
            c->over += n - room;
            c->dropped += n - room;
            n = (size_t)room;
            if (!n)
                return;
        }
        c->out_bytes += n;
    }
    if (c->bl_len) {
        /* behind bytes that wait: keep the order */
        backlog_add(c, p, n);
        return;
    }
    w = write_some(c, p, n);
    if (w < 0) {
        c->dropped += n;
        return;
    }
    if ((size_t)w < n) {
        backlog_add(c, p + w, n - (size_t)w);
        if (was_empty && c->bl_len)
            update_watch(c);
    }
}

size_t chardev_backlog(const struct chardev *c) { return c->bl_len; }

const char *chardev_label(const struct chardev *c) { return c->label; }
const char *chardev_filename(const struct chardev *c) { return c->filename; }
uint64_t chardev_dropped(const struct chardev *c) { return c->dropped; }

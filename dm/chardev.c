/* Character backends (see chardev.h). A pty keeps its slave side open itself: then the master
 * never reports a hang-up while no console is attached (which would spin the loop), output
 * waits in the pty until `xl console` opens it, and only a full pty buffer drops bytes. */
#include "chardev.h"
#include "log.h"

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
    const struct chardev_ops *ops;
    void *opaque;
    uint64_t dropped;
};

static void set_raw(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static void on_input(void *opaque, uint32_t events)
{
    struct chardev *c = opaque;
    uint8_t buf[256];
    size_t room = c->ops && c->ops->can_receive ? c->ops->can_receive(c->opaque) : sizeof(buf);

    if (room == 0) {
        /* frontend full: stop reading until chardev_input_ready */
        if (loop_mod_fd(c->loop, c->in_fd, 0) == 0)
            c->reading = 0;
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
}

void chardev_input_ready(struct chardev *c)
{
    if (c->watching && !c->reading && loop_mod_fd(c->loop, c->in_fd, EPOLLIN) == 0)
        c->reading = 1;
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
        c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (c->out_fd < 0) {
            snprintf(err, errlen, "-serial %s: %s", spec, strerror(errno));
            goto fail;
        }
        snprintf(c->filename, sizeof(c->filename), "%s", spec);
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

void chardev_write(struct chardev *c, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    if (c->out_fd < 0)
        return;
    while (n) {
        ssize_t w = write(c->out_fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        c->dropped += n; /* EAGAIN (nobody reading a full pty) or an error */
        return;
    }
}

const char *chardev_label(const struct chardev *c) { return c->label; }
const char *chardev_filename(const struct chardev *c) { return c->filename; }
uint64_t chardev_dropped(const struct chardev *c) { return c->dropped; }

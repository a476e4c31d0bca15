/* Character backends for serial ports: a pty (what libxl asks for; QMP query-chardev reports
 * its path), file:PATH (output only), stdio, null, a host tty (/dev/...), or a pair of fds
 * (tests). A file is capped (max-size, 64 MiB by default). Output never blocks the loop: what the backend cannot take now (a pty whose
 * reader lags) waits in a bounded backlog the loop flushes when the fd takes more; beyond
 * that, or on a backend that cannot say when it takes more, bytes are dropped and counted,
 * like a serial line with nobody listening. Input is read only while the frontend
 * has room (chardev_ops.can_receive), so a full UART FIFO pushes back instead of losing bytes. */
#ifndef HVMD_CHARDEV_H
#define HVMD_CHARDEV_H

#include <stddef.h>
#include <stdint.h>
#include "dm/loop.h"

struct chardev;

struct chardev_ops {
    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t n);
};

/* SPEC: pty | stdio | null | file:PATH[,max-size=N[K|M|G]] | /dev/TTY. LABEL: QMP's name for
 * it ("serial0"). A file takes at most max-size bytes (default CHARDEV_FILE_MAX; 0: no limit);
 * the rest is dropped and counted (chardev_dropped), with one log line.
 * NULL with ERR set on failure. */
struct chardev *chardev_open(struct loop *loop, const char *spec, const char *label, char *err,
                             size_t errlen);
/* Over existing fds (IN_FD may be -1: no input). The chardev does not close them. */
struct chardev *chardev_open_fds(struct loop *loop, int in_fd, int out_fd, const char *label);
void chardev_close(struct chardev *c);

void chardev_set_frontend(struct chardev *c, const struct chardev_ops *ops, void *opaque);
/* The frontend has room again: resume reading input. */
void chardev_input_ready(struct chardev *c);
void chardev_write(struct chardev *c, const void *buf, size_t n);

const char *chardev_label(const struct chardev *c);
/* As QMP query-chardev reports it: "pty:/dev/pts/3", "file:/tmp/x", "stdio", "null". */
const char *chardev_filename(const struct chardev *c);
uint64_t chardev_dropped(const struct chardev *c);
/* bytes written by the frontend that the fd has not taken yet (at most CHARDEV_BACKLOG) */
size_t chardev_backlog(const struct chardev *c);

#define CHARDEV_BACKLOG (64 * 1024)
#define CHARDEV_FILE_MAX (64ull << 20)

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#include "dm/savestate.h"
#include "dm/log.h"
#include "dm/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int savestate_write(struct machine *m, int fd, struct savestate_stats *st, char *err,
                    size_t errlen)
{
    struct snap_writer w;
    struct stat sb;
    double t0 = now_ms();
    int regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    snap_writer_init(&w);
    int r = machine_save(m, &w);
    if (r < 0) {
        snprintf(err, errlen, "saving the device state: %s", strerror(-r));
        snap_writer_free(&w);
        return r;
    }
    /* libxl opens the file without O_TRUNC: what an earlier save left must not trail ours */
    if (regular && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)) {
        r = -errno;
        snprintf(err, errlen, "truncating the device-state file: %s", strerror(-r));
        snap_writer_free(&w);
        return r;
    }
    r = snap_write_fd(&w, fd);
    if (r < 0) {
        /* EFBIG: past RLIMIT_FSIZE (libxl's dm_restrict sets 256 KiB; SIGXFSZ is ignored) */
        snprintf(err, errlen, "writing the device state (%zu bytes): %s", w.len, strerror(-r));
        if (regular && ftruncate(fd, 0) < 0)
            log_warn("device state: truncating the half-written file: %s", strerror(errno));
        snap_writer_free(&w);
        return r;
    }
    if (st) {
        st->bytes = w.len;
        st->ms = now_ms() - t0;
    }
    snap_writer_free(&w);
    return 0;
}

int savestate_read(struct machine *m, int fd, struct savestate_stats *st, char *err,
                   size_t errlen)
{
    double t0 = now_ms();
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= SAVESTATE_MAX) {
                snprintf(err, errlen, "the device state is larger than %zu MiB: refused",
                         SAVESTATE_MAX >> 20);
                free(buf);
                return -EFBIG;
            }
            size_t ncap = cap * 2 > SAVESTATE_MAX ? SAVESTATE_MAX : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "out of memory");
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            snprintf(err, errlen, "reading the device state: %s", strerror(e));
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    struct snap_reader r;
    snap_reader_init(&r, buf, len);
    int rc = machine_load(m, &r);
    if (rc < 0) {
        if (len >= 4 && !memcmp(buf, "QEVM", 4))
            snprintf(err, errlen, "device state refused: a QEMU migration stream (saved under "
                     "qemu-xen), not hvmd's: restore it with qemu-xen as the device model");
        else
            snprintf(err, errlen, "device state refused (%zu bytes): %s", len,
                     *snap_error(&r) ? snap_error(&r) : strerror(-rc));
    } else if (st) {
        st->bytes = len;
        st->ms = now_ms() - t0;
    }
    free(buf);
    return rc < 0 ? -EINVAL : 0;
}

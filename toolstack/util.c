/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * util.c: diagnostics, the error convention (ts.h) and small helpers every part of hvmctl uses.
 * Messages name their source as compilers do ("FILE:LINE: KEY: ..."), so an editor can jump there.
 */
#include "toolstack/ts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void vdiag(struct ts_diag *d, const char *kind, const char *file, int line,
                  const char *key, const char *fmt, va_list ap)
{
    FILE *f = d && d->out ? d->out : stderr;

    if (file && line > 0)
        fprintf(f, "%s:%d: ", file, line);
    else if (file)
        fprintf(f, "%s: ", file);
    if (kind)
        fprintf(f, "%s: ", kind);
    if (key)
        fprintf(f, "%s: ", key);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
}

void ts_error_at(struct ts_diag *d, const char *file, int line, const char *key,
                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(d, NULL, file, line, key, fmt, ap);
    va_end(ap);
    if (d)
        d->errors++;
}

void ts_warn_at(struct ts_diag *d, const char *file, int line, const char *key,
                const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(d, "warning", file, line, key, fmt, ap);
    va_end(ap);
    if (d)
        d->warnings++;
}

void ts_vinfo(const char *fmt, va_list ap)
{
    fputs("hvmctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ts_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ts_vinfo(fmt, ap);
    va_end(ap);
}

void ts_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ts_vinfo(fmt, ap);
    va_end(ap);
}

void ts_vfail(char *buf, size_t len, bool quiet, const char *fmt, va_list ap)
{
    vsnprintf(buf, len, fmt, ap);
    if (!quiet)
        ts_err("%s", buf);
}

int ts_fail(char *buf, size_t len, bool quiet, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ts_vfail(buf, len, quiet, fmt, ap);
    va_end(ap);
    return err < 0 ? err : -EINVAL;
}

char *ts_strdup(const char *s)
{
    char *r;

    if (!s)
        return NULL;
    r = strdup(s);
    if (!r) {
        fputs("hvmctl: out of memory\n", stderr);
        exit(1);
    }
    return r;
}

char *ts_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *r;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&r, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fputs("hvmctl: out of memory\n", stderr);
        exit(1);
    }
    return r;
}

/* A config file is small: refuse anything over 1 MiB rather than read a disk image by mistake. */
#define TS_MAX_FILE (1 << 20)

int ts_read_file(const char *path, char **data, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        goto fail;
    }
    if (st.st_size > TS_MAX_FILE) {
        rc = -EFBIG;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto fail;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto fail;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    *data = buf;
    *len = got;
    return 0;
fail:
    free(buf);
    close(fd);
    return rc;
}

int ts_parse_long(const char *s, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 0);
    if (errno == ERANGE)
        return -ERANGE;
    if (end == s || *end != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

int ts_mkdir_p(const char *dir)
{
    char *buf = ts_strdup(dir), *q;
    int rc = 0;

    for (q = buf + 1; *q && !rc; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            rc = -errno;
        *q = '/';
    }
    if (!rc && mkdir(buf, 0755) < 0 && errno != EEXIST)
        rc = -errno;
    free(buf);
    return rc;
}

int ts_lock_file(const char *path, mode_t mode, char *why, size_t whylen)
{
    char *dir = ts_strdup(path), *slash = strrchr(dir, '/');
    int fd, rc;

    if (slash && slash != dir) {
        *slash = '\0';
        ts_mkdir_p(dir);
    }
    free(dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0)
        return ts_fail(why, whylen, true, -errno, "cannot open %s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            rc = ts_fail(why, whylen, true, -errno, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
    }
    return fd;
}

ssize_t ts_read_small(const char *path, char *buf, size_t len)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    if (n < 0)
        n = -errno;
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

bool ts_pid_alive(long pid)
{
    char path[64], buf[512], *rp;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (ts_read_small(path, buf, sizeof(buf)) <= 0)
        return false;
    rp = strrchr(buf, ')');               /* the state follows the command name in parentheses */
    return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

int ts_usage(const char *text, int status)
{
    fputs(text, status ? stderr : stdout);
    return status;
}

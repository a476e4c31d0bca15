/* SPDX-License-Identifier: GPL-2.0-only */
/* Blobs: files opened for on-demand reads, or bytes in memory (firmware/blob.h). */
#include "firmware/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dm/log.h"

void blob_init(struct blob *b)
{
    memset(b, 0, sizeof(*b));
    b->fd = -1;
}

void blob_free(struct blob *b)
{
    free(b->data);
    if (b->fd >= 0)
        close(b->fd);
    blob_init(b);
}

int blob_open(struct blob *b, const char *what, const char *path)
{
    struct stat st;
    blob_init(b);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        log_err("%s %s: %s", what, path, strerror(e));
        return -e;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        log_err("%s %s: not a regular, non-empty file", what, path);
        close(fd);
        return -EINVAL;
    }
    if ((uint64_t)st.st_size > UINT32_MAX) {
        log_err("%s %s: too large (4 GiB or more)", what, path);
        close(fd);
        return -EFBIG;
    }
    b->fd = fd;
    b->len = (uint32_t)st.st_size;
    return 0;
}

int blob_read(const struct blob *b, uint64_t off, void *buf, uint32_t len)
{
    uint64_t avail = off < b->len ? b->len - off : 0;
    uint32_t n = (uint32_t)MIN(avail, (uint64_t)len);
    if (n && b->fd < 0) {
        memcpy(buf, b->data + off, n);
    } else if (n) {
        uint32_t done = 0;
        while (done < n) {
            ssize_t r = pread(b->fd, (uint8_t *)buf + done, n - done, (off_t)(b->off + off + done));
            if (r <= 0)
                return -EIO;
            done += (uint32_t)r;
        }
    }
    memset((uint8_t *)buf + n, 0, len - n);
    return 0;
}

int blob_load(struct blob *b, const char *what, const char *path, uint32_t max)
{
    struct blob f;
    int r = blob_open(&f, what, path);
    if (r < 0)
        return r;
    blob_init(b);
    if (f.len > max) {
        log_err("%s %s: larger than %u bytes", what, path, max);
        blob_free(&f);
        return -EFBIG;
    }
    b->data = malloc(f.len);
    if (!b->data) {
        blob_free(&f);
        return -ENOMEM;
    }
    b->len = f.len;
    r = blob_read(&f, 0, b->data, f.len);
    blob_free(&f);
    if (r < 0) {
        log_err("%s %s: cannot read it", what, path);
        blob_free(b);
    }
    return r;
}

int blob_copy(struct blob *b, const void *data, uint32_t len)
{
    blob_init(b);
    b->data = malloc(len ? len : 1);
    if (!b->data)
        return -ENOMEM;
    if (len)
        memcpy(b->data, data, len);
    b->len = len;
    return 0;
}

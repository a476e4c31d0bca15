/* SPDX-License-Identifier: GPL-2.0-only */
/* A blob: bytes that firmware/ hands to a device for the guest, held in memory or read from a
 * file as the guest asks for them (a kernel or an initrd is never held in memory). Who owns a
 * blob frees it with blob_free; a device that keeps the file takes the descriptor (sets fd to
 * -1) before that. */
#ifndef HVMD_FIRMWARE_BLOB_H
#define HVMD_FIRMWARE_BLOB_H

#include <stdint.h>
#include "dm/util.h"

struct blob {
    uint8_t *data; /* LEN bytes in memory (malloc'd), or NULL: */
    int fd;        /* ... LEN bytes of this file from OFF (pread); -1 when in memory */
    uint64_t off;
    uint32_t len;
};

/* An empty blob (nothing to free). */
void blob_init(struct blob *b);
/* The whole of the regular, non-empty file PATH (< 4 GiB), read on demand. WHAT names it in
 * messages ("-kernel"). 0, or negative errno (logged) with B empty. */
int blob_open(struct blob *b, const char *what, const char *path) WUR;
/* The whole of the file PATH, at most MAX bytes, in memory. 0, or negative errno (logged). */
int blob_load(struct blob *b, const char *what, const char *path, uint32_t max) WUR;
/* A copy of LEN bytes of DATA in memory. 0 or -ENOMEM. */
int blob_copy(struct blob *b, const void *data, uint32_t len) WUR;
/* Copy [OFF, OFF+LEN) of B into BUF; bytes past its end read 0. 0, or -EIO. */
int blob_read(const struct blob *b, uint64_t off, void *buf, uint32_t len) WUR;
void blob_free(struct blob *b);

#endif

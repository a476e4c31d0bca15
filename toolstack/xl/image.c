/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image.c: xl's saved-image header and migration handshake (image.h), as plain bytes on fds.
 *   32 bytes  "Xen saved domain, xl format\n \0 \r"
 *   u32       0x01020304 (byte order), u32 mandatory flags (bit 0 JSON config, bit 1 stream v2),
 *   u32       optional flags (0), u32 length of the optional data
 *   optional  u32 config length, the domain's configuration as libxl JSON (NUL-terminated)
 * then libxl's stream. A header is input from a file or a peer: every length is bounded.
 */
#include "toolstack/xl/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char magic[32] = "Xen saved domain, xl format\n \0 \r";
#define BYTEORDER 0x01020304u
#define FLAG_JSON (1u << 0)
#define FLAG_STREAMV2 (1u << 1)

struct hdr {
    char magic[32];
    uint32_t byteorder, mandatory, optional, optional_len;
};

int ts_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int ts_read_all(int fd, void *p, size_t n)
{
    char *c = p;

    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ENODATA;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int ts_image_write_header(int fd, const char *json)
{
    size_t len = strlen(json) + 1;
    uint32_t clen = (uint32_t)len;
    struct hdr h;
    int rc;

    if (len > TS_IMAGE_CONFIG_MAX)
        return -E2BIG;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, magic, sizeof(h.magic));
    h.byteorder = BYTEORDER;
    h.mandatory = FLAG_JSON | FLAG_STREAMV2;
    h.optional_len = 4 + clen;
    rc = ts_write_all(fd, &h, sizeof(h));
    if (!rc)
        rc = ts_write_all(fd, &clen, 4);
    if (!rc)
        rc = ts_write_all(fd, json, len);
    return rc;
}

int ts_image_read_header(int fd, char **json, char *why, size_t whylen)
{
    struct hdr h;
    uint32_t clen;
    char *opt;
    int rc;

    *json = NULL;
    rc = ts_read_all(fd, &h, sizeof(h));
    if (rc == -ENODATA || (!rc && memcmp(h.magic, magic, sizeof(magic))))
        return ts_fail(why, whylen, true, -EINVAL, "not a saved domain (no xl saved-image header)");
    if (rc)
        return ts_fail(why, whylen, true, rc, "reading the header: %s", strerror(-rc));
    if (h.byteorder != BYTEORDER)
        return ts_fail(why, whylen, true, -EINVAL, "saved on a host of another byte order");
    if (h.mandatory & ~(FLAG_JSON | FLAG_STREAMV2))
        return ts_fail(why, whylen, true, -EINVAL, "needs features this hvmctl lacks (flags %#x)",
                       h.mandatory);
    if (!(h.mandatory & FLAG_JSON) || !(h.mandatory & FLAG_STREAMV2))
        return ts_fail(why, whylen, true, -EINVAL,
                       "an old-format image (no JSON configuration, or libxl stream v1)");
    if (h.optional_len < 5 || h.optional_len > TS_IMAGE_CONFIG_MAX + 4)
        return ts_fail(why, whylen, true, -EINVAL,
                       "a configuration of %u bytes: damaged image", h.optional_len);
    opt = malloc(h.optional_len + 1);
    if (!opt)
        return ts_fail(why, whylen, true, -ENOMEM, "out of memory");
    rc = ts_read_all(fd, opt, h.optional_len);
    if (rc) {
        free(opt);
        return ts_fail(why, whylen, true, rc == -ENODATA ? -EINVAL : rc,
                       "truncated in its configuration");
    }
    memcpy(&clen, opt, 4);
    if (clen < 1 || clen > h.optional_len - 4) {
        free(opt);
        return ts_fail(why, whylen, true, -EINVAL, "configuration length %u: damaged image", clen);
    }
    memmove(opt, opt + 4, clen);
    opt[clen - 1] = '\0';
    *json = opt;
    return 0;
}

/* ---- the migration handshake ---- */

static const struct {
    const char *text;
    size_t len;
    const char *name;
} msgs[] = {
    [TS_MIG_BANNER] = { "xl migration receiver ready, send binary domain data.\n", 54, "banner" },
    [TS_MIG_READY] = { "domain received, ready to unpause", 34, "ready message" },
    [TS_MIG_GO] = { "domain is yours, you are cleared to unpause", 44, "go message" },
    [TS_MIG_REPORT] = { "my copy unpause results are as follows", 39, "result report" },
};

const char *ts_mig_msg_name(enum ts_mig_msg m)
{
    return msgs[m].name;
}

int ts_mig_send(int fd, enum ts_mig_msg m)
{
    return ts_write_all(fd, msgs[m].text, msgs[m].len);
}

int ts_mig_expect(int fd, enum ts_mig_msg m, char *why, size_t whylen)
{
    char buf[64];
    int rc = ts_read_all(fd, buf, msgs[m].len);

    if (rc == -ENODATA)
        return ts_fail(why, whylen, true, rc, "the stream ended before the %s", msgs[m].name);
    if (rc)
        return ts_fail(why, whylen, true, rc, "reading the %s: %s", msgs[m].name, strerror(-rc));
    if (memcmp(buf, msgs[m].text, msgs[m].len))
        return ts_fail(why, whylen, true, -EPROTO, "other bytes instead of the %s",
                       msgs[m].name);
    return 0;
}

char *ts_mig_rune(const char *ssh, const char *host, const char *receiver)
{
    if (ssh && !*ssh)
        return ts_strdup(host);
    return ts_asprintf("exec %s %s %s", ssh ? ssh : "ssh", host, receiver);
}

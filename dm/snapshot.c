/* SPDX-License-Identifier: GPL-2.0-only */
/* The device-state stream (see snapshot.h). */
#include "dm/snapshot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const type_name[] = {
    [SNAP_U8] = "u8", [SNAP_U16] = "u16", [SNAP_U32] = "u32", [SNAP_U64] = "u64",
    [SNAP_BYTES] = "bytes",
};

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > SNAP_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- name prefixes ---- */

static void path_enter(struct snap_path *p, const char *name)
{
    size_t n = strlen(name);
    if (p->depth < SNAP_DEPTH_MAX)
        p->mark[p->depth] = p->len;
    p->depth++;
    if (p->depth > SNAP_DEPTH_MAX || p->len + n + 1 > SNAP_NAME_MAX) {
        p->len = SNAP_NAME_MAX + 1; /* poisoned: every name under it is too long */
        return;
    }
    memcpy(p->s + p->len, name, n);
    p->s[p->len + n] = '.';
    p->len += n + 1;
    p->s[p->len] = 0;
}

static void path_leave(struct snap_path *p)
{
    if (p->depth == 0)
        return;
    p->depth--;
    if (p->depth < SNAP_DEPTH_MAX) {
        p->len = p->mark[p->depth];
        p->s[p->len] = 0;
    }
}

/* PREFIX.NAME into OUT (SNAP_NAME_MAX + 1 bytes); its length, or 0 if it does not fit. */
static size_t path_join(const struct snap_path *p, const char *name, char *out)
{
    size_t n = strlen(name);
    if (p->len > SNAP_NAME_MAX || p->len + n > SNAP_NAME_MAX) {
        out[0] = 0;
        return 0;
    }
    memcpy(out, p->s, p->len);
    memcpy(out + p->len, name, n);
    out[p->len + n] = 0;
    return p->len + n;
}

/* ---- writer ---- */

void snap_writer_init(struct snap_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void snap_writer_free(struct snap_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static void put_raw(struct snap_writer *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        while (n > cap - w->len) {
            if (cap > SIZE_MAX / 2) {
                w->err = -ENOMEM;
                return;
            }
            cap *= 2;
        }
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->err = -ENOMEM;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    if (n)
        memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_le32(struct snap_writer *w, uint32_t v)
{
    uint8_t b[4];
    st32(b, v);
    put_raw(w, b, 4);
}

static void put_name(struct snap_writer *w, const char *s, size_t n)
{
    if (!name_ok(s, n)) {
        if (!w->err)
            w->err = -EINVAL; /* a host bug: a name the reader would refuse */
        return;
    }
    uint8_t len = (uint8_t)n;
    put_raw(w, &len, 1);
    put_raw(w, s, n);
}

void snap_put_header(struct snap_writer *w)
{
    put_raw(w, SNAP_MAGIC, SNAP_MAGIC_LEN);
    put_le32(w, SNAP_FORMAT_VERSION);
}

void snap_put_end(struct snap_writer *w)
{
    uint8_t z = 0;
    if (w->section && !w->err)
        w->err = -EINVAL; /* a section left open */
    put_raw(w, &z, 1);
}

void snap_section_begin(struct snap_writer *w, const char *dev, uint32_t version)
{
    if (w->section && !w->err)
        w->err = -EINVAL;
    put_name(w, dev, strlen(dev));
    put_le32(w, version);
    if (!w->err)
        w->section = w->len;
    put_le32(w, 0); /* the length, filled in by snap_section_end */
    memset(&w->path, 0, sizeof(w->path));
}

void snap_section_end(struct snap_writer *w)
{
    if (w->err)
        return;
    if (!w->section || w->path.depth) {
        w->err = -EINVAL;
        return;
    }
    size_t n = w->len - w->section - 4;
    if (n > UINT32_MAX) {
        w->err = -EFBIG;
        return;
    }
    st32(w->buf + w->section, (uint32_t)n);
    w->section = 0;
}

static void put_field(struct snap_writer *w, const char *name, enum snap_type type,
                      const void *p, size_t n)
{
    char full[SNAP_NAME_MAX + 1];
    size_t fl = path_join(&w->path, name, full);
    if (w->err)
        return;
    if (!w->section || n > UINT32_MAX) {
        w->err = -EINVAL;
        return;
    }
    put_name(w, full, fl);
    uint8_t t = (uint8_t)type;
    put_raw(w, &t, 1);
    put_le32(w, (uint32_t)n);
    put_raw(w, p, n);
}

void snap_put_u8(struct snap_writer *w, const char *name, uint8_t v)
{
    put_field(w, name, SNAP_U8, &v, 1);
}

void snap_put_u16(struct snap_writer *w, const char *name, uint16_t v)
{
    uint8_t b[2];
    st16(b, v);
    put_field(w, name, SNAP_U16, b, 2);
}

void snap_put_u32(struct snap_writer *w, const char *name, uint32_t v)
{
    uint8_t b[4];
    st32(b, v);
    put_field(w, name, SNAP_U32, b, 4);
}

void snap_put_u64(struct snap_writer *w, const char *name, uint64_t v)
{
    uint8_t b[8];
    st64(b, v);
    put_field(w, name, SNAP_U64, b, 8);
}

void snap_put_bool(struct snap_writer *w, const char *name, int v)
{
    snap_put_u8(w, name, v ? 1 : 0);
}

void snap_put_bytes(struct snap_writer *w, const char *name, const void *p, size_t len)
{
    put_field(w, name, SNAP_BYTES, p, len);
}

void snap_put_regs(struct snap_writer *w, const void *s, const struct snap_reg *regs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snap_put_u8(w, regs[i].name, *((const uint8_t *)s + regs[i].off));
}

void snap_put_enter(struct snap_writer *w, const char *name)
{
    path_enter(&w->path, name);
}

void snap_put_leave(struct snap_writer *w)
{
    path_leave(&w->path);
}

int snap_write_fd(const struct snap_writer *w, int fd)
{
    size_t done = 0;
    if (w->err)
        return w->err;
    while (done < w->len) {
        ssize_t n = write(fd, w->buf + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* ---- reader ---- */

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->len = buf ? len : 0;
}

/* The first error, prefixed with where it is: "stream: ", "device D: ", "device D: field F: ". */
static int vfail(struct snap_reader *r, const char *field, const char *fmt, va_list ap)
{
    if (r->failed)
        return -EINVAL;
    r->failed = 1;
    int n;
    if (!r->dev[0])
        n = snprintf(r->msg, sizeof(r->msg), "stream: ");
    else if (field && field[0])
        n = snprintf(r->msg, sizeof(r->msg), "device %s: field %s: ", r->dev, field);
    else
        n = snprintf(r->msg, sizeof(r->msg), "device %s: ", r->dev);
    if (n < 0 || (size_t)n >= sizeof(r->msg))
        n = 0;
    vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
    return -EINVAL;
}

static int __attribute__((format(printf, 3, 4)))
fail_at(struct snap_reader *r, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = vfail(r, field, fmt, ap);
    va_end(ap);
    return ret;
}

/* vfail for FIELD under the prefix (NULL: the field last read). */
static int vfail_field(struct snap_reader *r, const char *field, const char *fmt, va_list ap)
{
    char full[SNAP_NAME_MAX + 1];
    if (!field)
        return vfail(r, r->field, fmt, ap);
    if (!path_join(&r->path, field, full))
        snprintf(full, sizeof(full), "%.*s", SNAP_NAME_MAX, field);
    return vfail(r, full, fmt, ap);
}

int snap_fail(struct snap_reader *r, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int ret = vfail_field(r, field, fmt, ap);
    va_end(ap);
    return ret;
}

int snap_refuse(struct snap_reader *r, const char *dev, const char *fmt, ...)
{
    if (r->failed)
        return -EINVAL;
    snprintf(r->dev, sizeof(r->dev), "%s", dev);
    va_list ap;
    va_start(ap, fmt);
    int ret = vfail(r, NULL, fmt, ap);
    va_end(ap);
    return ret;
}

int snap_check(struct snap_reader *r, int ok, const char *field, const char *fmt, ...)
{
    if (ok)
        return r->failed ? -EINVAL : 0;
    va_list ap;
    va_start(ap, fmt);
    int ret = vfail_field(r, field, fmt, ap);
    va_end(ap);
    return ret;
}

/* Bytes left before LIMIT (the open section's end, or the stream's). */
static size_t left(const struct snap_reader *r)
{
    size_t end = r->sec_end ? r->sec_end : r->len;
    return end > r->pos ? end - r->pos : 0;
}

static uint32_t take32(struct snap_reader *r)
{
    uint32_t v = ld32(r->buf + r->pos);
    r->pos += 4;
    return v;
}

int snap_get_header(struct snap_reader *r)
{
    if (r->failed)
        return -EINVAL;
    if (r->len < SNAP_MAGIC_LEN + 4)
        return fail_at(r, NULL, "%zu bytes: too short for the header", r->len);
    if (memcmp(r->buf, SNAP_MAGIC, SNAP_MAGIC_LEN))
        return fail_at(r, NULL, "not an hvmd device-state stream (bad magic)");
    r->pos = SNAP_MAGIC_LEN;
    uint32_t v = take32(r);
    if (v != SNAP_FORMAT_VERSION)
        return fail_at(r, NULL, "format version %u, this hvmd reads version %u", v,
                       SNAP_FORMAT_VERSION);
    r->body = r->pos;
    return 0;
}

void snap_reader_rewind(struct snap_reader *r)
{
    r->pos = r->body;
    r->sec_end = 0;
    r->dev[0] = 0;
    r->field[0] = 0;
    r->version = 0;
    memset(&r->path, 0, sizeof(r->path));
}

/* A name (u8 length, bytes) at pos within LIMIT bytes into OUT; 0, or -EINVAL without failing
 * the reader (the caller says what it was). Length 0 is returned as an empty name. */
static int take_name(struct snap_reader *r, char *out)
{
    size_t avail = left(r);
    out[0] = 0;
    if (avail < 1)
        return -EINVAL;
    size_t n = r->buf[r->pos];
    if (n == 0) {
        r->pos++;
        return 0;
    }
    if (n > avail - 1 || !name_ok((const char *)r->buf + r->pos + 1, n))
        return -EINVAL;
    memcpy(out, r->buf + r->pos + 1, n);
    out[n] = 0;
    r->pos += 1 + n;
    return 0;
}

int snap_section_open(struct snap_reader *r, char *dev, uint32_t *version)
{
    dev[0] = 0;
    *version = 0;
    if (r->failed)
        return -EINVAL;
    if (r->sec_end)
        return fail_at(r, NULL, "section opened inside another");
    size_t at = r->pos;
    char name[SNAP_NAME_MAX + 1];
    if (left(r) < 1)
        return fail_at(r, NULL, "truncated at offset %zu (no end marker)", at);
    if (take_name(r, name) < 0)
        return fail_at(r, NULL, "malformed device name at offset %zu", at);
    if (!name[0]) {
        if (r->pos != r->len)
            return fail_at(r, NULL, "%zu bytes after the end marker", r->len - r->pos);
        return 0;
    }
    memcpy(r->dev, name, sizeof(name));
    if (left(r) < 8)
        return fail_at(r, NULL, "section header truncated");
    r->version = take32(r);
    uint32_t n = take32(r);
    if (n > left(r))
        return fail_at(r, NULL, "section of %u bytes, only %zu left in the stream", n, left(r));
    r->sec_end = r->pos + n;
    r->field[0] = 0;
    memset(&r->path, 0, sizeof(r->path));
    memcpy(dev, name, sizeof(name));
    *version = r->version;
    return 1;
}

int snap_section_close(struct snap_reader *r)
{
    if (r->failed)
        return -EINVAL;
    if (!r->sec_end)
        return fail_at(r, NULL, "no section open");
    if (r->pos != r->sec_end) {
        char name[SNAP_NAME_MAX + 1];
        size_t rest = r->sec_end - r->pos;
        if (take_name(r, name) == 0 && name[0])
            return fail_at(r, name, "not known to this hvmd (device state version %u)",
                           r->version);
        return fail_at(r, NULL, "%zu bytes left over after the last field", rest);
    }
    r->sec_end = 0;
    r->dev[0] = 0;
    r->field[0] = 0;
    return 0;
}

/* The next field, which must be NAME (under the prefix) of TYPE and SIZE bytes, into OUT. */
static int get_field(struct snap_reader *r, const char *name, enum snap_type type, void *out,
                     size_t size)
{
    if (size)
        memset(out, 0, size);
    if (r->failed)
        return -EINVAL;
    if (!path_join(&r->path, name, r->field)) {
        snprintf(r->field, sizeof(r->field), "%.*s", SNAP_NAME_MAX, name);
        return fail_at(r, r->field, "name too long (a host bug)");
    }
    if (!r->sec_end)
        return fail_at(r, r->field, "read outside a section (a host bug)");
    if (left(r) == 0)
        return fail_at(r, r->field, "missing (the section ends before it)");
    char got[SNAP_NAME_MAX + 1];
    if (take_name(r, got) < 0 || !got[0])
        return fail_at(r, r->field, "malformed field name in the stream");
    if (strcmp(got, r->field))
        return fail_at(r, r->field, "the stream has field %s here", got);
    if (left(r) < 5)
        return fail_at(r, r->field, "truncated");
    uint8_t t = r->buf[r->pos++];
    uint32_t n = take32(r);
    if (t != type) {
        const char *tn = t < ARRAY_SIZE(type_name) && type_name[t] ? type_name[t] : "unknown type";
        return fail_at(r, r->field, "is %s (type %u) in the stream, expected %s", tn, t,
                       type_name[type]);
    }
    if (n != size)
        return fail_at(r, r->field, "%u bytes in the stream, expected %zu", n, size);
    if (n > left(r))
        return fail_at(r, r->field, "%u bytes, only %zu left in the section", n, left(r));
    if (n)
        memcpy(out, r->buf + r->pos, n);
    r->pos += n;
    return 0;
}

int snap_get_u8(struct snap_reader *r, const char *name, uint8_t *v)
{
    return get_field(r, name, SNAP_U8, v, 1);
}

int snap_get_u16(struct snap_reader *r, const char *name, uint16_t *v)
{
    uint8_t b[2];
    int ret = get_field(r, name, SNAP_U16, b, 2);
    *v = ld16(b);
    return ret;
}

int snap_get_u32(struct snap_reader *r, const char *name, uint32_t *v)
{
    uint8_t b[4];
    int ret = get_field(r, name, SNAP_U32, b, 4);
    *v = ld32(b);
    return ret;
}

int snap_get_u64(struct snap_reader *r, const char *name, uint64_t *v)
{
    uint8_t b[8];
    int ret = get_field(r, name, SNAP_U64, b, 8);
    *v = ld64(b);
    return ret;
}

int snap_get_bool(struct snap_reader *r, const char *name, int *v)
{
    uint8_t b;
    int ret = snap_get_u8_in(r, name, &b, 0, 1);
    *v = b;
    return ret;
}

int snap_get_bytes(struct snap_reader *r, const char *name, void *p, size_t len)
{
    return get_field(r, name, SNAP_BYTES, p, len);
}

int snap_range(struct snap_reader *r, uint64_t v, uint64_t lo, uint64_t hi)
{
    if (r->failed)
        return -EINVAL;
    if (v < lo || v > hi)
        return fail_at(r, r->field, "%llu out of range [%llu, %llu]", (unsigned long long)v,
                       (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

int snap_get_u8_in(struct snap_reader *r, const char *name, uint8_t *v, uint8_t lo, uint8_t hi)
{
    int ret = snap_get_u8(r, name, v);
    return ret ? ret : snap_range(r, *v, lo, hi);
}

int snap_get_u16_in(struct snap_reader *r, const char *name, uint16_t *v, uint16_t lo,
                    uint16_t hi)
{
    int ret = snap_get_u16(r, name, v);
    return ret ? ret : snap_range(r, *v, lo, hi);
}

int snap_get_u32_in(struct snap_reader *r, const char *name, uint32_t *v, uint32_t lo,
                    uint32_t hi)
{
    int ret = snap_get_u32(r, name, v);
    return ret ? ret : snap_range(r, *v, lo, hi);
}

int snap_get_regs(struct snap_reader *r, void *s, const struct snap_reg *regs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (snap_get_u8_in(r, regs[i].name, (uint8_t *)s + regs[i].off, regs[i].lo, regs[i].hi) < 0)
            return -EINVAL;
    return 0;
}

void snap_get_enter(struct snap_reader *r, const char *name)
{
    path_enter(&r->path, name);
}

void snap_get_leave(struct snap_reader *r)
{
    path_leave(&r->path);
}

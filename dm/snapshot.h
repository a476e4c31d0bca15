/* SPDX-License-Identifier: GPL-2.0-only */
/* The device-state stream: what machine_save writes and machine_load reads (DESIGN.md rule 10).
 *
 * Versioned and self-describing, little-endian throughout:
 *   header   8 bytes magic "HVMDSTAT", u32 format version (SNAP_FORMAT_VERSION)
 *   section  u8 name length (1-63), the device's name, u32 the device's own state version,
 *            u32 length of the fields that follow, the fields
 *   field    u8 name length (1-63), name, u8 type (enum snap_type), u32 size, size bytes
 *   end      u8 0 (a section name of length 0); nothing may follow it
 * Names are [A-Za-z0-9_.-]. A device writes its fields in a fixed order and reads them back
 * in the same order, each asked for by name, type and size: the reader refuses any other
 * field with a message naming the device and the field ("device uart: field serial0.ier:
 * ..."), as it refuses a truncated stream, a length past the end, a field left unread, an
 * unknown device, another format or device version.
 *
 * The reader works on untrusted bytes: every length is bounded by what is left, nothing is
 * read past the end, no stream byte reaches an assert. Its errors are sticky: after the first
 * one every snap_get_* fails (and zeroes its output), so a load hook may read straight on and
 * check once. The writer's errors (out of memory) are sticky too. */
#ifndef HVMD_SNAPSHOT_H
#define HVMD_SNAPSHOT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "dm/util.h"

#define SNAP_MAGIC "HVMDSTAT"
#define SNAP_MAGIC_LEN 8
#define SNAP_FORMAT_VERSION 1
#define SNAP_NAME_MAX 63        /* a device or (full, prefixed) field name */
#define SNAP_DEPTH_MAX 4        /* nested name prefixes (snap_put_enter) */
#define SNAP_MSG_MAX 256

enum snap_type {
    SNAP_U8 = 1,
    SNAP_U16 = 2,
    SNAP_U32 = 3,
    SNAP_U64 = 4,
    SNAP_BYTES = 5,
};

/* The current name prefix: "serial0." inside snap_put_enter(w, "serial0"). */
struct snap_path {
    char s[SNAP_NAME_MAX + 1];
    size_t len;
    size_t mark[SNAP_DEPTH_MAX];
    unsigned depth;
};

struct snap_writer {
    uint8_t *buf;
    size_t len, cap;
    int err;                   /* first error (-ENOMEM, -EINVAL for a bad name), sticky */
    size_t section;            /* offset of the open section's length field; 0: none */
    struct snap_path path;
};

struct snap_reader {
    const uint8_t *buf;
    size_t len, pos;
    size_t body;               /* where the first section starts (after the header) */
    size_t sec_end;            /* end of the open section's fields; 0: none open */
    char dev[SNAP_NAME_MAX + 1];   /* the open section's device */
    uint32_t version;              /* and its state version */
    struct snap_path path;
    char field[SNAP_NAME_MAX + 1]; /* the field last asked for */
    int failed;
    char msg[SNAP_MSG_MAX];
};

/* ---- writing ---- */

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* The header; then sections; then the end marker. */
void snap_put_header(struct snap_writer *w);
void snap_put_end(struct snap_writer *w);
void snap_section_begin(struct snap_writer *w, const char *dev, uint32_t version);
void snap_section_end(struct snap_writer *w);
/* Fields of the open section, named PREFIX.NAME (see snap_put_enter). */
void snap_put_u8(struct snap_writer *w, const char *name, uint8_t v);
void snap_put_u16(struct snap_writer *w, const char *name, uint16_t v);
void snap_put_u32(struct snap_writer *w, const char *name, uint32_t v);
void snap_put_u64(struct snap_writer *w, const char *name, uint64_t v);
void snap_put_bool(struct snap_writer *w, const char *name, int v); /* a u8, 0 or 1 */
void snap_put_bytes(struct snap_writer *w, const char *name, const void *p, size_t len);
/* A byte register of a device's state struct: saved as a u8 field named after the member,
 * loaded only if within [LO, HI]. */
struct snap_reg {
    const char *name;
    size_t off;
    uint8_t lo, hi;
};
#define SNAP_REG(type, member, lo, hi) { #member, offsetof(type, member), (lo), (hi) }
void snap_put_regs(struct snap_writer *w, const void *s, const struct snap_reg *regs, size_t n);
/* Until the matching leave, field names get "NAME." in front (nesting up to SNAP_DEPTH_MAX). */
void snap_put_enter(struct snap_writer *w, const char *name);
void snap_put_leave(struct snap_writer *w);
/* 0, or the first error. */
static inline int snap_writer_error(const struct snap_writer *w) { return w->err; }
/* Write the whole stream to FD (all of it, retrying short writes). 0 or a negative errno. */
int snap_write_fd(const struct snap_writer *w, int fd) WUR;

/* ---- reading ---- */

/* Read the LEN bytes at BUF (kept, not copied: they must outlive the reader). */
void snap_reader_init(struct snap_reader *r, const void *buf, size_t len);
/* Check the header (magic, format version). 0 or -EINVAL. */
int snap_get_header(struct snap_reader *r) WUR;
/* Open the next section: 1 with DEV (SNAP_NAME_MAX + 1 bytes) and VERSION filled in, 0 at
 * the end marker (then nothing may follow), -EINVAL on a malformed stream. */
int snap_section_open(struct snap_reader *r, char *dev, uint32_t *version) WUR;
/* Every field of the open section must have been read: -EINVAL names the first one left. */
int snap_section_close(struct snap_reader *r) WUR;
/* Back to the first section (a second pass over the same bytes). */
void snap_reader_rewind(struct snap_reader *r);
/* The open section's device state version (a load hook reading an older layout asks). */
static inline uint32_t snap_version(const struct snap_reader *r) { return r->version; }

/* Fields, in the order they were written: each refuses a field of another name, type or size. */
int snap_get_u8(struct snap_reader *r, const char *name, uint8_t *v) WUR;
int snap_get_u16(struct snap_reader *r, const char *name, uint16_t *v) WUR;
int snap_get_u32(struct snap_reader *r, const char *name, uint32_t *v) WUR;
int snap_get_u64(struct snap_reader *r, const char *name, uint64_t *v) WUR;
int snap_get_bool(struct snap_reader *r, const char *name, int *v) WUR;
/* Exactly LEN bytes. */
int snap_get_bytes(struct snap_reader *r, const char *name, void *p, size_t len) WUR;
/* Read a u8 / u16 / u32 that must lie in [LO, HI]. */
int snap_get_u8_in(struct snap_reader *r, const char *name, uint8_t *v, uint8_t lo, uint8_t hi) WUR;
int snap_get_u16_in(struct snap_reader *r, const char *name, uint16_t *v, uint16_t lo,
                    uint16_t hi) WUR;
int snap_get_u32_in(struct snap_reader *r, const char *name, uint32_t *v, uint32_t lo,
                    uint32_t hi) WUR;
/* The registers snap_put_regs wrote, into the struct at S (a scratch copy). */
int snap_get_regs(struct snap_reader *r, void *s, const struct snap_reg *regs, size_t n) WUR;
void snap_get_enter(struct snap_reader *r, const char *name);
void snap_get_leave(struct snap_reader *r);

/* The range check: V of the field last read must lie in [LO, HI]. 0 or -EINVAL. */
int snap_range(struct snap_reader *r, uint64_t v, uint64_t lo, uint64_t hi) WUR;
/* Refuse the stream because of FIELD (NULL: the field last read; a name is taken relative
 * to the current prefix): "device D: field F: <message>". Returns -EINVAL. Only the first
 * error is kept. */
int snap_fail(struct snap_reader *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuse the stream because of device DEV as a whole ("device DEV: <message>"). -EINVAL. */
int snap_refuse(struct snap_reader *r, const char *dev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuse unless OK (a consistency check between fields): snap_fail(r, FIELD, ...). */
int snap_check(struct snap_reader *r, int ok, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 0 or -EINVAL once anything failed; the message ("" if none). */
static inline int snap_reader_error(const struct snap_reader *r) { return r->failed ? -EINVAL : 0; }
static inline const char *snap_error(const struct snap_reader *r) { return r->msg; }

#endif

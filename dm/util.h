/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by dm/ and devices/: attributes, array size, little-endian loads and stores. */
#ifndef HVMD_UTIL_H
#define HVMD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WUR __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Each argument evaluated once. */
#define MIN(a, b) ({ __typeof__(a) min_a_ = (a); __typeof__(b) min_b_ = (b); min_a_ < min_b_ ? min_a_ : min_b_; })
#define MAX(a, b) ({ __typeof__(a) max_a_ = (a); __typeof__(b) max_b_ = (b); max_a_ > max_b_ ? max_a_ : max_b_; })
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* All-ones of an access of SIZE bytes (1, 2, 4 or 8): what a read of nothing returns. */
static inline uint64_t ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint16_t ld16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void st16(void *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void st32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st64(void *p, uint64_t v) { memcpy(p, &v, 8); }

/* Network (big-endian) byte order: frames, SCSI/ATAPI command blocks. */
static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, (uint16_t)(v >> 16));
    put_be16(p + 2, (uint16_t)v);
}

/* Load / store SIZE (1..8) bytes little-endian (the host is x86, as is the guest). */
static inline uint64_t ldn(const void *p, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, p, size > 8 ? 8 : size);
    return v;
}
static inline void stn(void *p, unsigned size, uint64_t v)
{
    memcpy(p, &v, size > 8 ? 8 : size);
}
/* A register window: SIZE (1..8) bytes little-endian at OFF of the LEN bytes at P; bytes past
 * the end read 0. */
static inline uint64_t ld_window(const void *p, size_t len, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    if (off < len)
        memcpy(&v, (const uint8_t *)p + off, MIN((size_t)(size > 8 ? 8 : size), len - (size_t)off));
    return v;
}

#endif

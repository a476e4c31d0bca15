/* SPDX-License-Identifier: GPL-2.0-only */
/* Guest memory accessor and map cache (see mem.h). Buckets sit in a small array searched
 * linearly (64 entries) after a one-entry last-hit check; a bucket records which of its pages
 * the hypervisor would map, so a bucket that straddles the end of RAM or a hole still serves
 * its good pages. A page can become RAM after its bucket was mapped (a balloon gives it back:
 * Xen sends INVALIDATE only after a decrease_reservation), so an access that meets a page its
 * bucket recorded as unmapped maps the bucket again, once per access, before it fails.
 * Single-threaded: the loop's thread is the only user. */
#include "dm/mem.h"
#include "dm/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
    uint64_t idx;      /* gpa >> MEM_BUCKET_SHIFT */
    uint8_t *va;       /* NULL: slot free */
    uint64_t last_use;
    uint64_t bad[MEM_BUCKET_PAGES / 64]; /* bit set: page not mapped */
};

struct mem {
    struct hv hv;
    uint64_t lowmem_end, highmem_end;
    struct bucket b[MEM_MAX_BUCKETS];
    struct bucket *last;
    uint64_t clock;
    struct mem_stats st;
    mem_hook_fn *hook;
    void *hook_opaque;
    struct ratelimit rl;    /* a failed mapping: the guest chooses the addresses it DMAs to */
    int dirty_log;          /* QMP xen-set-global-dirty-log */
};

void mem_set_dirty_log(struct mem *mem, int on) { mem->dirty_log = on; }
int mem_dirty_log(const struct mem *mem) { return mem->dirty_log; }

static void modified(struct mem *mem, uint64_t first, size_t n)
{
    if (!mem->dirty_log || n == 0 || !mem->hv.ops->modified_memory)
        return;
    int r = mem->hv.ops->modified_memory(mem->hv.be, first, n);
    if (r < 0)
        log_limited(&mem->rl, LOG_WARN, "marking %zu pages from %#llx modified for migration: %s", n,
               (unsigned long long)first << MEM_PAGE_SHIFT, strerror(-r));
    else
        mem->st.modified += n;
}

struct mem *mem_new(const struct hv *hv, uint64_t lowmem_end, uint64_t highmem_end)
{
    struct mem *mem = calloc(1, sizeof(*mem));
    if (!mem)
        return NULL;
    mem->hv = *hv;
    mem->lowmem_end = MIN(lowmem_end, MEM_4G);
    mem->highmem_end = highmem_end;
    return mem;
}

static void drop(struct mem *mem, struct bucket *b)
{
    if (!b->va)
        return;
    mem->hv.ops->unmap_gfn(mem->hv.be, b->va, MEM_BUCKET_PAGES);
    b->va = NULL;
    if (mem->last == b)
        mem->last = NULL;
}

void mem_invalidate(struct mem *mem)
{
    for (unsigned i = 0; i < MEM_MAX_BUCKETS; i++)
        drop(mem, &mem->b[i]);
    mem->st.invalidations++;
}

void mem_free(struct mem *mem)
{
    if (!mem)
        return;
    for (unsigned i = 0; i < MEM_MAX_BUCKETS; i++)
        drop(mem, &mem->b[i]);
    free(mem);
}

int mem_is_ram(const struct mem *mem, uint64_t gpa, size_t len)
{
    uint64_t end = gpa + len;
    if (len == 0 || end < gpa)
        return 0;
    if (end <= mem->lowmem_end)
        return 1;
    return gpa >= MEM_4G && end <= mem->highmem_end;
}

static struct bucket *lookup(struct mem *mem, uint64_t idx)
{
    struct bucket *b = mem->last, *victim = NULL;

    if (b && b->va && b->idx == idx)
        goto hit;
    for (unsigned i = 0; i < MEM_MAX_BUCKETS; i++) {
        b = &mem->b[i];
        if (b->va && b->idx == idx)
            goto hit;
        if (!b->va) {
            if (!victim || victim->va)
                victim = b; /* a free slot beats any mapped one */
        } else if (!victim || (victim->va && b->last_use < victim->last_use)) {
            victim = b;
        }
    }
    b = victim;
    if (b->va) {
        drop(mem, b);
        mem->st.evictions++;
    }
    int err[MEM_BUCKET_PAGES];
    void *va;
    int r = mem->hv.ops->map_gfn(mem->hv.be, idx << (MEM_BUCKET_SHIFT - MEM_PAGE_SHIFT),
                                 MEM_BUCKET_PAGES, &va, err);
    if (r < 0) {
        log_limited(&mem->rl, LOG_WARN, "map cache: mapping guest bucket %#llx failed: %d",
                    (unsigned long long)idx, r);
        return NULL;
    }
    memset(b->bad, 0, sizeof(b->bad));
    for (unsigned i = 0; i < MEM_BUCKET_PAGES; i++)
        if (err[i])
            b->bad[i / 64] |= 1ull << (i % 64);
    b->va = va;
    b->idx = idx;
    mem->st.maps++;
hit:
    b->last_use = ++mem->clock;
    mem->last = b;
    return b;
}

/* Does bucket B cover bytes [off, off+n) with mapped pages? */
static int covers(const struct bucket *b, size_t off, size_t n)
{
    for (size_t p = off >> MEM_PAGE_SHIFT; p <= (off + n - 1) >> MEM_PAGE_SHIFT; p++)
        if (b->bad[p / 64] & (1ull << (p % 64)))
            return 0;
    return 1;
}

/* Walk [gpa, gpa+len) a bucket at a time; with BUF == NULL only check that it is mappable.
 * *REMAPPED: the access already mapped a bucket again (at most once per access: a guest that
 * aims DMA at a real hole costs one mapping per request, not a loop). */
static int walk(struct mem *mem, uint64_t gpa, uint8_t *buf, size_t len, int write,
                int *remapped)
{
    while (len) {
        uint64_t idx = gpa >> MEM_BUCKET_SHIFT;
        size_t off = gpa & ((1u << MEM_BUCKET_SHIFT) - 1);
        size_t n = MIN(len, (size_t)(1u << MEM_BUCKET_SHIFT) - off);
        struct bucket *b = lookup(mem, idx);
        if (b && !covers(b, off, n) && !*remapped) {
            /* mapped when a page here was not RAM: ask the hypervisor again */
            *remapped = 1;
            drop(mem, b);
            mem->st.remaps++;
            b = lookup(mem, idx);
        }
        if (!b || !covers(b, off, n))
            return -EFAULT;
        if (buf) {
            if (write)
                memcpy(b->va + off, buf, n);
            else
                memcpy(buf, b->va + off, n);
            buf += n;
        }
        gpa += n;
        len -= n;
    }
    return 0;
}

static int copy(struct mem *mem, uint64_t gpa, void *buf, size_t len, int write)
{
    int remapped = 0;
    if (len == 0)
        return 0;
    if (!mem_is_ram(mem, gpa, len))
        goto fault;
    if (mem->hook)
        mem->hook(mem->hook_opaque, gpa, len, write);
    /* Spanning buckets: check every page first, so a failure leaves nothing half-copied. */
    if ((gpa >> MEM_BUCKET_SHIFT) != ((gpa + len - 1) >> MEM_BUCKET_SHIFT) &&
        walk(mem, gpa, NULL, len, write, &remapped) < 0)
        goto fault;
    if (walk(mem, gpa, buf, len, write, &remapped) < 0)
        goto fault;
    return 0;
fault:
    mem->st.faults++;
    return -EFAULT;
}

int mem_read(struct mem *mem, uint64_t gpa, void *buf, size_t len)
{
    return copy(mem, gpa, buf, len, 0);
}

int mem_write(struct mem *mem, uint64_t gpa, const void *buf, size_t len)
{
    int r = copy(mem, gpa, (void *)buf, len, 1);
    if (r == 0 && len && mem->dirty_log)
        modified(mem, gpa >> MEM_PAGE_SHIFT,
                 (size_t)(((gpa + len - 1) >> MEM_PAGE_SHIFT) - (gpa >> MEM_PAGE_SHIFT) + 1));
    return r;
}

int mem_read_firmware(struct mem *mem, uint64_t gpa, void *buf, size_t len)
{
    if (len > MEM_FW_MAX)
        return -EFAULT;
    if (mem_is_ram(mem, gpa, len))
        return mem_read(mem, gpa, buf, len);
    if (len == 0 || gpa < MEM_FW_BASE || gpa + len > MEM_4G) {
        mem->st.faults++;
        return -EFAULT;
    }
    uint64_t first = gpa >> MEM_PAGE_SHIFT, last = (gpa + len - 1) >> MEM_PAGE_SHIFT;
    size_t n = (size_t)(last - first + 1); /* at most 2 */
    int err[2] = { 0, 0 };
    void *va;
    if (mem->hv.ops->map_gfn(mem->hv.be, first, n, &va, err) < 0) {
        mem->st.faults++;
        return -EFAULT;
    }
    int r = 0;
    for (size_t i = 0; i < n; i++)
        if (err[i])
            r = -EFAULT;
    if (r == 0)
        memcpy(buf, (uint8_t *)va + (gpa & (MEM_PAGE_SIZE - 1)), len);
    else
        mem->st.faults++;
    mem->hv.ops->unmap_gfn(mem->hv.be, va, n);
    return r;
}

int mem_pin(struct mem *mem, uint64_t gpa, size_t len, struct mem_pin *pin)
{
    memset(pin, 0, sizeof(*pin));
    if (!mem_is_ram(mem, gpa, len)) {
        mem->st.faults++;
        return -EFAULT;
    }
    uint64_t first = gpa >> MEM_PAGE_SHIFT, last = (gpa + len - 1) >> MEM_PAGE_SHIFT;
    size_t n = (size_t)(last - first + 1);
    int *err = calloc(n, sizeof(*err));
    void *va;
    if (!err)
        return -ENOMEM;
    int r = mem->hv.ops->map_gfn(mem->hv.be, first, n, &va, err);
    if (r < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (err[i]) {
            mem->hv.ops->unmap_gfn(mem->hv.be, va, n);
            mem->st.faults++;
            r = -EFAULT;
            goto out;
        }
    }
    pin->base = va;
    pin->npages = n;
    pin->gfn = first;
    pin->ptr = (uint8_t *)va + (gpa & (MEM_PAGE_SIZE - 1));
out:
    free(err);
    return r;
}

void mem_unpin(struct mem *mem, struct mem_pin *pin)
{
    if (pin->base) {
        modified(mem, pin->gfn, pin->npages);
        mem->hv.ops->unmap_gfn(mem->hv.be, pin->base, pin->npages);
    }
    memset(pin, 0, sizeof(*pin));
}

void mem_set_hook(struct mem *mem, mem_hook_fn *fn, void *opaque)
{
    mem->hook = fn;
    mem->hook_opaque = opaque;
}

const struct mem_stats *mem_stats(const struct mem *mem) { return &mem->st; }

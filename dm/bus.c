/* Port table and MMIO range map (see bus.h). */
#include "dm/bus.h"
#include "dm/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIO_REGIONS 255

struct bus {
    struct hv hv;
    uint8_t port[65536];                          /* 0: free, else index into pio[] */
    struct io_region *pio[MAX_PIO_REGIONS + 1];   /* [0] unused */
    struct io_region **mmio;                      /* sorted by base */
    unsigned n_mmio, cap_mmio;
};

struct bus *bus_new(const struct hv *hv)
{
    struct bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    bus->hv = *hv;
    return bus;
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    for (unsigned i = 1; i <= MAX_PIO_REGIONS; i++)
        if (bus->pio[i])
            bus_del(bus, bus->pio[i]);
    while (bus->n_mmio)
        bus_del(bus, bus->mmio[0]);
    free(bus->mmio);
    free(bus);
}

/* A region for [BASE, BASE+LEN) of SPACE, claimed from the hypervisor (its accesses come to
 * hvmd from now on). 0, or negative errno (logged) with nothing claimed. */
static int region_claim(struct bus *bus, const char *name, enum hv_space space, uint64_t base,
                        uint64_t len, const struct io_ops *ops, void *opaque,
                        struct io_region **out)
{
    struct io_region *r = malloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    *r = (struct io_region){ .name = name, .space = space, .base = base, .len = len,
                             .ops = ops, .opaque = opaque };
    int err = bus->hv.ops->map_range(bus->hv.be, space, base, base + len - 1);
    if (err < 0) {
        log_err("%s: cannot claim %s %#llx+%#llx: %d", name, space == HV_PIO ? "ports" : "MMIO",
                (unsigned long long)base, (unsigned long long)len, err);
        free(r);
        return err;
    }
    *out = r;
    return 0;
}

int bus_add_pio(struct bus *bus, const char *name, uint16_t base, uint32_t len,
                const struct io_ops *ops, void *opaque, struct io_region **out)
{
    unsigned slot;
    int err;

    if (len == 0 || base + len > 0x10000u || !ops || !ops->read || !ops->write)
        return -EINVAL;
    for (uint32_t p = base; p < base + len; p++)
        if (bus->port[p]) {
            log_err("%s: ports %#x+%u overlap %s", name, base, len, bus->pio[bus->port[p]]->name);
            return -EEXIST;
        }
    for (slot = 1; slot <= MAX_PIO_REGIONS && bus->pio[slot]; slot++)
        ;
    if (slot > MAX_PIO_REGIONS)
        return -ENOSPC;
    struct io_region *r;
    err = region_claim(bus, name, HV_PIO, base, len, ops, opaque, &r);
    if (err < 0)
        return err;
    bus->pio[slot] = r;
    memset(&bus->port[base], (int)slot, len);
    if (out)
        *out = r;
    return 0;
}

/* Index of the first MMIO region whose base is > ADDR. */
static unsigned mmio_upper(const struct bus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->n_mmio;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (bus->mmio[mid]->base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int bus_add_mmio(struct bus *bus, const char *name, uint64_t base, uint64_t len,
                 const struct io_ops *ops, void *opaque, struct io_region **out)
{
    int err;

    if (len == 0 || base + len < base || !ops || !ops->read || !ops->write)
        return -EINVAL;
    unsigned i = mmio_upper(bus, base);
    /* The one before must end at or before BASE; the one at I must start at or after the end. */
    if (i > 0 && bus->mmio[i - 1]->base + bus->mmio[i - 1]->len > base) {
        log_err("%s: MMIO %#llx+%#llx overlaps %s", name, (unsigned long long)base,
                (unsigned long long)len, bus->mmio[i - 1]->name);
        return -EEXIST;
    }
    if (i < bus->n_mmio && bus->mmio[i]->base < base + len) {
        log_err("%s: MMIO %#llx+%#llx overlaps %s", name, (unsigned long long)base,
                (unsigned long long)len, bus->mmio[i]->name);
        return -EEXIST;
    }
    if (bus->n_mmio == bus->cap_mmio) {
        unsigned cap = bus->cap_mmio ? bus->cap_mmio * 2 : 16;
        struct io_region **n = realloc(bus->mmio, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        bus->mmio = n;
        bus->cap_mmio = cap;
    }
    struct io_region *r;
    err = region_claim(bus, name, HV_MMIO, base, len, ops, opaque, &r);
    if (err < 0)
        return err;
    memmove(&bus->mmio[i + 1], &bus->mmio[i], (bus->n_mmio - i) * sizeof(*bus->mmio));
    bus->mmio[i] = r;
    bus->n_mmio++;
    if (out)
        *out = r;
    return 0;
}

void bus_del(struct bus *bus, struct io_region *r)
{
    if (!r)
        return;
    if (r->space == HV_PIO) {
        unsigned slot = bus->port[r->base];
        if (!slot || bus->pio[slot] != r)
            return;
        memset(&bus->port[r->base], 0, r->len);
        bus->pio[slot] = NULL;
    } else {
        unsigned i;
        for (i = 0; i < bus->n_mmio && bus->mmio[i] != r; i++)
            ;
        if (i == bus->n_mmio)
            return;
        memmove(&bus->mmio[i], &bus->mmio[i + 1], (bus->n_mmio - i - 1) * sizeof(*bus->mmio));
        bus->n_mmio--;
    }
    int err = bus->hv.ops->unmap_range(bus->hv.be, r->space, r->base, r->base + r->len - 1);
    if (err < 0)
        log_warn("%s: releasing %#llx+%#llx: %d", r->name, (unsigned long long)r->base,
                 (unsigned long long)r->len, err);
    free(r);
}

struct io_region *bus_find_pio(struct bus *bus, uint16_t port)
{
    return bus->port[port] ? bus->pio[bus->port[port]] : NULL;
}

struct io_region *bus_find_mmio(struct bus *bus, uint64_t addr)
{
    unsigned i = mmio_upper(bus, addr);
    if (i == 0)
        return NULL;
    struct io_region *r = bus->mmio[i - 1];
    return addr - r->base < r->len ? r : NULL;
}

static uint64_t region_read(struct io_region *r, uint64_t addr, unsigned size)
{
    r->reads++;
    return r->ops->read(r->opaque, addr - r->base, size) & ones(size);
}

static void region_write(struct io_region *r, uint64_t addr, unsigned size, uint64_t val)
{
    r->writes++;
    r->ops->write(r->opaque, addr - r->base, size, val & ones(size));
}

static int fits(const struct io_region *r, uint64_t addr, unsigned size)
{
    return r && addr - r->base + size <= r->len;
}

static struct io_region *find(struct bus *bus, enum hv_space space, uint64_t addr)
{
    return space == HV_PIO ? bus_find_pio(bus, (uint16_t)addr) : bus_find_mmio(bus, addr);
}

/* Byte I of an access at ADDR: port numbers wrap at 64 KiB, as the CPU's do. */
static uint64_t byte_addr(enum hv_space space, uint64_t addr, unsigned i)
{
    return space == HV_PIO ? (uint16_t)(addr + i) : addr + i;
}

/* An access one region holds whole goes to it; any other is split into bytes, each to the
 * region that holds it (a byte nobody holds reads 0xff, a write to it is dropped). */
static uint64_t bus_read(struct bus *bus, enum hv_space space, uint64_t addr, unsigned size)
{
    struct io_region *r = find(bus, space, addr);
    if (fits(r, addr, size))
        return region_read(r, addr, size);
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = byte_addr(space, addr, i);
        r = find(bus, space, a);
        v |= (r ? region_read(r, a, 1) : 0xff) << (8 * i);
    }
    return v;
}

static void bus_write(struct bus *bus, enum hv_space space, uint64_t addr, unsigned size,
                      uint64_t val)
{
    struct io_region *r = find(bus, space, addr);
    if (fits(r, addr, size)) {
        region_write(r, addr, size, val);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = byte_addr(space, addr, i);
        r = find(bus, space, a);
        if (r)
            region_write(r, a, 1, (val >> (8 * i)) & 0xff);
    }
}

uint64_t bus_pio_read(struct bus *bus, uint16_t port, unsigned size)
{
    return bus_read(bus, HV_PIO, port, size);
}

void bus_pio_write(struct bus *bus, uint16_t port, unsigned size, uint64_t val)
{
    bus_write(bus, HV_PIO, port, size, val);
}

uint64_t bus_mmio_read(struct bus *bus, uint64_t addr, unsigned size)
{
    return bus_read(bus, HV_MMIO, addr, size);
}

void bus_mmio_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val)
{
    bus_write(bus, HV_MMIO, addr, size, val);
}

void bus_for_each(struct bus *bus, void (*fn)(void *opaque, const struct io_region *r),
                  void *opaque)
{
    for (unsigned i = 1; i <= MAX_PIO_REGIONS; i++)
        if (bus->pio[i])
            fn(opaque, bus->pio[i]);
    for (unsigned i = 0; i < bus->n_mmio; i++)
        fn(opaque, bus->mmio[i]);
}

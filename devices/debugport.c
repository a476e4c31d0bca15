/* QEMU's debug console port 0x402 (isa-debugcon): bytes a guest writes there are logged, a
 * line at a time (rate-limited). Reads return 0xff: the port does not answer the 0xe9
 * read-back that firmware probes for, so SeaBIOS and OVMF keep their debug output on Xen's
 * own port 0xe9, which Xen prints as (dN) lines without a round trip to hvmd.
 * Port 0x80 (POST codes) and 0xe9 are Xen's and never reach hvmd. */
#include <errno.h>
#include "dm/device.h"
#include "dm/log.h"

#define DEBUGCON_PORT 0x402

struct debugport {
    struct dev_base base; /* the port */
    char line[256];
    unsigned len;
    struct ratelimit rl;
};

static uint64_t dbg_read(void *opaque, uint64_t off, unsigned size) { return ones(size); }

static void dbg_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct debugport *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint8_t c = (uint8_t)(val >> (8 * i));
        if (c == '\n' || s->len == sizeof(s->line) - 1) {
            s->line[s->len] = 0;
            log_guest_at(&s->rl, LOG_INFO, "debugcon", "%s", s->line);
            s->len = 0;
            if (c == '\n')
                continue;
        }
        if (c != '\r')
            s->line[s->len++] = (char)((c >= 0x20 && c < 0x7f) ? c : '.');
    }
}

static const struct io_ops dbg_ops = { .read = dbg_read, .write = dbg_write };

/* State: none the guest can see (the port reads 0xff; the line being gathered is the host's
 * log): an empty section, so a stream still says the device was there. */
static int dbg_save(void *state, struct snap_writer *w) { return 0; }
static int dbg_load(void *state, struct snap_reader *r, int commit) { return 0; }

static int dbg_create(struct vm *vm, void **state)
{
    struct debugport *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    return dev_created(state, s, dev_add_pio(s, "debugcon", DEBUGCON_PORT, 1, &dbg_ops, s),
                       dev_free);
}

const struct device dev_debugport = {
    .name = "debugport",
    .create = dbg_create,
    .destroy = dev_free,
    .version = 1,
    .save = dbg_save,
    .load = dbg_load,
};

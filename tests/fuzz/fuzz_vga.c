/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the standard VGA (devices/display/): the legacy registers 0x3b0-0x3df,
 * Bochs VBE at 0x1ce-0x1d0, the 0xa0000 window in every memory mode, the framebuffer (BAR 0)
 * and the register BAR (BAR 2) wherever the input moves them, the VGA BIOS in the ROM BAR,
 * and the renderer, text view and legacy read-back the display's consumers use, plus a state
 * save and load, all in the order and with the values the input gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm/display.h"
#include "dm/loop.h"
#include "dm/log.h"
#include "dm/snapshot.h"
#include "dm/config.h"
#include "dm/device.h"
#include "tests/lib/fakexen.h"

#define DF PCI_DEVFN(2, 0)

struct in {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)(in->n ? *in->p : 0) << (8 * i);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

static const unsigned sizes[4] = { 1, 2, 4, 8 };

extern const struct device dev_vga;

/* The device's state through its own hooks, as machine_save / machine_load drive them. */
static void save_load(void *vga)
{
    struct snap_writer w;
    snap_writer_init(&w);
    snap_put_header(&w);
    snap_section_begin(&w, dev_vga.name, dev_vga.version);
    if (dev_vga.save(vga, &w) < 0)
        abort();
    snap_section_end(&w);
    snap_put_end(&w);
    for (int commit = 0; commit <= 1 && !snap_writer_error(&w); commit++) {
        struct snap_reader r;
        char name[SNAP_NAME_MAX + 1];
        uint32_t version;
        snap_reader_init(&r, w.buf, w.len);
        if (snap_get_header(&r) < 0 || snap_section_open(&r, name, &version) != 1 ||
            dev_vga.load(vga, &r, commit) < 0 || snap_section_close(&r) < 0)
            abort(); /* a stream the device just wrote must load */
    }
    snap_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "16", "-device",
                                        "VGA,vgamem_mb=1" };
    static struct config cfg;
    static int parsed;
    char err[256];
    struct in in = { data, size };
    uint32_t lfb = 0xe0000000u, mmio = 0xe1000000u;
    void *vga = NULL;

    log_set_level(LOG_ERR);
    if (!parsed) {
        if (config_parse(&cfg, 6, argv, err, sizeof(err)) < 0)
            abort();
        parsed = 1;
    }
    struct fakexen *fx = fx_new(1 << 20);
    if (!fx)
        abort();
    fx->vm.cfg = &cfg;
    if (dev_vga.create(&fx->vm, &vga) < 0 || !vga)
        abort();
    struct display *d = display_of(&fx->vm);
    fx_cfg_write(fx, DF, 0x10, 4, lfb);
    fx_cfg_write(fx, DF, 0x18, 4, mmio);
    fx_cfg_write(fx, DF, 0x30, 4, 0xe2000001u);
    fx_cfg_write(fx, DF, PCI_COMMAND, 2, 3);
    unsigned waits = 0;
    for (unsigned ops = 0; in.n > 0 && ops < 4096; ops++) {
        unsigned op = (unsigned)take(&in, 1);
        unsigned sz = sizes[(op >> 4) & 3];
        switch (op & 15) {
        case 0: case 1: case 2: /* legacy registers (most of the input) */
            fx_out(fx, (uint16_t)(0x3b0 + take(&in, 1) % 0x30), sz > 2 ? 2 : sz,
                   (uint32_t)take(&in, 2));
            break;
        case 3:
            (void)fx_in(fx, (uint16_t)(0x3b0 + take(&in, 1) % 0x30), sz > 2 ? 1 : sz);
            break;
        case 4: /* VBE */
            fx_out(fx, 0x1ce, 2, (uint32_t)take(&in, 1) % 12);
            fx_out(fx, (op & 0x40) ? 0x1d0 : 0x1cf, (op & 0x80) ? 1 : 2, (uint32_t)take(&in, 2));
            break;
        case 5:
            fx_out(fx, 0x1ce, 2, (uint32_t)take(&in, 1) % 12);
            (void)fx_in(fx, 0x1cf, 2);
            break;
        case 6: case 7: { /* the window */
            uint64_t a = 0xa0000 + take(&in, 3) % 0x20000;
            if (a + sz > 0xc0000)
                a = 0xc0000 - sz;
            fx_mmio_write(fx, a, sz, take(&in, sz));
            break;
        }
        case 8: {
            uint64_t a = 0xa0000 + take(&in, 3) % 0x20000;
            if (a + sz > 0xc0000)
                a = 0xc0000 - sz;
            (void)fx_mmio_read(fx, a, sz);
            break;
        }
        case 9: { /* BAR 0 and BAR 2 wherever they are now */
            uint64_t off = take(&in, 3);
            int bar2 = op & 0x40;
            uint64_t a = bar2 ? mmio + off % 0x1000 : lfb + off % (1 << 20);
            if (op & 0x80)
                fx_mmio_write(fx, a, sz, take(&in, sz));
            else
                (void)fx_mmio_read(fx, a, sz);
            break;
        }
        case 10: { /* move a BAR (anywhere: fakexen routes what hvmd claims), decoding on/off */
            unsigned bar = (unsigned)take(&in, 1) % 3;
            uint32_t v = (uint32_t)take(&in, 4);
            unsigned reg = bar == 0 ? 0x10 : bar == 1 ? 0x18 : 0x30;
            fx_cfg_write(fx, DF, reg, 4, v);
            uint32_t now = fx_cfg_read(fx, DF, reg, 4);
            if (bar == 0)
                lfb = now & ~0xfu;
            else if (bar == 1)
                mmio = now & ~0xfu;
            fx_cfg_write(fx, DF, PCI_COMMAND, 2, (uint32_t)take(&in, 1) & 3);
            break;
        }
        case 11: { /* what the consumers do */
            const struct display_surface *s = display_refresh(d);
            if (!s || s->width < 1 || s->height < 1)
                abort();
            struct display_text *t = malloc(sizeof(*t));
            if (t && display_text(d, t) == 0 &&
                (t->cols * t->rows > DISPLAY_TEXT_MAX_CELLS || t->cols == 0))
                abort();
            free(t);
            uint8_t buf[64];
            (void)display_read_legacy(d, 0xa0000 + take(&in, 3) % 0x20000, buf,
                                      (size_t)take(&in, 1) % sizeof(buf));
            break;
        }
        case 12: { /* rep movs / stos into the window */
            uint64_t a = 0xa0000 + take(&in, 3) % 0x20000;
            unsigned count = 1 + (unsigned)take(&in, 1);
            for (unsigned i = 0; i < count && a + sz <= 0xc0000; i++, a += sz)
                fx_mmio_write(fx, a, sz, take(&in, 1) * 0x0101010101010101ull);
            break;
        }
        case 13: { /* save, and load it back */
            save_load(vga);
            break;
        }
        case 14: /* the ROM BAR */
            (void)fx_mmio_read(fx, 0xe2000000u + take(&in, 2) % 0x10000, sz);
            break;
        case 15: /* time passes (at most 8 times): the text window's pages move in, unless
                    a vCPU's request is in flight when the domain is held */
            if (waits++ < 8) {
                fx->hold_busy = (unsigned)take(&in, 1) & 1;
                loop_run_once(fx->loop, 2);
            }
            break;
        default:
            (void)fx_in(fx, 0x3da, 1);
            break;
        }
    }
    display_refresh(d);
    dev_vga.destroy(vga);
    fx->vm.cfg = NULL;
    fx_free(fx);
    return 0;
}

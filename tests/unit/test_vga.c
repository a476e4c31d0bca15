/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/display/vga: the PCI function, the register file, text mode as the VGA BIOS sets it
 * up (font in plane 2, characters at 0xb8000), the renderer and the text view, a VBE mode set
 * through 0x1ce/0x1cf and BAR 2 with pixels through the LFB, the banked window, and the state
 * saved and loaded through the machine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/display.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "dm/snapshot.h"
#include "tests/lib/machine.h"

#define DF PCI_DEVFN(2, 0)
#define LFB 0xe0000000u
#define MMIO 0xe1000000u

static int setup(void **state)
{
    struct fx_machine *b = calloc(1, sizeof(*b));
    static const char *const extra[] = { "-device", "VGA,vgamem_mb=4" };
    char err[256];
    assert_int_equal(fx_machine_up(b, extra, 2, err, sizeof(err)), 0);
    /* as hvmloader: BARs, then decoding on */
    fx_cfg_write(b->fx, DF, 0x10, 4, LFB);
    fx_cfg_write(b->fx, DF, 0x18, 4, MMIO);
    fx_cfg_write(b->fx, DF, PCI_COMMAND, 2, 3);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct fx_machine *b = *state;
    fx_machine_down(b);
    free(b);
    return 0;
}

static void test_pci(void **state)
{
    struct fx_machine *b = *state;
    struct fakexen *fx = b->fx;
    assert_int_equal(fx_cfg_read(fx, DF, 0, 4), 0x11111234);
    assert_int_equal(fx_cfg_read(fx, DF, 8, 4) >> 8, 0x030000);
    uint32_t bar0 = fx_cfg_read(fx, DF, 0x10, 4);
    fx_cfg_write(fx, DF, 0x10, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(fx, DF, 0x10, 4), 0xffc00008); /* 4 MiB, prefetchable */
    fx_cfg_write(fx, DF, 0x10, 4, bar0);
    uint32_t bar2 = fx_cfg_read(fx, DF, 0x18, 4);
    fx_cfg_write(fx, DF, 0x18, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(fx, DF, 0x18, 4), 0xfffff000);
    fx_cfg_write(fx, DF, 0x18, 4, bar2);
    assert_true(fx_claimed(fx, HV_PIO, 0x3c0, 0x3df));
    assert_true(fx_claimed(fx, HV_PIO, 0x1ce, 0x1cf));
    assert_true(fx_claimed(fx, HV_MMIO, 0xa0000, 0xbffff));
    assert_true(fx_claimed(fx, HV_MMIO, LFB, LFB + (4 << 20) - 1));
    assert_non_null(display_of(&fx->vm));
}

static void test_registers(void **state)
{
    struct fakexen *fx = ((struct fx_machine *)*state)->fx;
    fx_out(fx, 0x3c2, 1, 0x67); /* colour: CRTC at 0x3d4 */
    assert_int_equal(fx_in(fx, 0x3cc, 1), 0x67);
    fx_out(fx, 0x3d4, 2, 0x550e); /* index + data in one word */
    assert_int_equal(fx_in(fx, 0x3d5, 1), 0x55);
    assert_int_equal(fx_in(fx, 0x3b5, 1), 0xff); /* mono CRTC absent in colour mode */
    fx_out(fx, 0x3d4, 2, 0x8011); /* protect CR0-7 */
    fx_out(fx, 0x3d4, 2, 0x1201);
    fx_out(fx, 0x3d4, 1, 1);
    assert_int_equal(fx_in(fx, 0x3d5, 1), 0);
    fx_out(fx, 0x3d4, 2, 0x0011);
    /* status 1 toggles retrace and resets the attribute flip-flop */
    uint8_t a = (uint8_t)fx_in(fx, 0x3da, 1), c = (uint8_t)fx_in(fx, 0x3da, 1);
    assert_int_equal(a ^ c, 0x09);
    fx_out(fx, 0x3c0, 1, 0x10);
    fx_out(fx, 0x3c0, 1, 0x0c);
    fx_out(fx, 0x3c0, 1, 0x10);
    assert_int_equal(fx_in(fx, 0x3c1, 1), 0x0c);
    /* DAC: write index, three components, read back */
    fx_out(fx, 0x3c8, 1, 5);
    fx_out(fx, 0x3c9, 1, 0x3f);
    fx_out(fx, 0x3c9, 1, 0x20);
    fx_out(fx, 0x3c9, 1, 0x01);
    fx_out(fx, 0x3c7, 1, 5);
    assert_int_equal(fx_in(fx, 0x3c9, 1), 0x3f);
    assert_int_equal(fx_in(fx, 0x3c9, 1), 0x20);
    assert_int_equal(fx_in(fx, 0x3c9, 1), 0x01);
    /* any register, any value: no crash */
    for (unsigned p = 0x3b0; p < 0x3e0; p++)
        for (unsigned v = 0; v < 256; v += 37) {
            fx_out(fx, (uint16_t)p, 1, v);
            (void)fx_in(fx, (uint16_t)p, 1);
        }
}

/* Mode 3 (80x25 text, 9x16 cells) as the IBM tables give it. */
static void set_mode3(struct fakexen *fx)
{
    static const uint8_t sr[] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
    static const uint8_t cr[] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f,
                                  0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28,
                                  0x1f, 0x96, 0xb9, 0xa3, 0xff };
    static const uint8_t gr[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
    static const uint8_t ar[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39,
                                  0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08,
                                  0x00 };
    fx_out(fx, 0x3c2, 1, 0x67);
    for (unsigned i = 0; i < sizeof(sr); i++)
        fx_out(fx, 0x3c4, 2, (uint32_t)sr[i] << 8 | i);
    fx_out(fx, 0x3d4, 2, 0x0011);
    for (unsigned i = 0; i < sizeof(cr); i++)
        fx_out(fx, 0x3d4, 2, (uint32_t)cr[i] << 8 | i);
    for (unsigned i = 0; i < sizeof(gr); i++)
        fx_out(fx, 0x3ce, 2, (uint32_t)gr[i] << 8 | i);
    (void)fx_in(fx, 0x3da, 1);
    for (unsigned i = 0; i < sizeof(ar); i++) {
        fx_out(fx, 0x3c0, 1, i);
        fx_out(fx, 0x3c0, 1, ar[i]);
    }
    fx_out(fx, 0x3c0, 1, 0x20); /* palette address source: display on */
    /* DAC 0: black, 7: grey, 0x3f: white */
    fx_out(fx, 0x3c8, 1, 0);
    for (unsigned i = 0; i < 3; i++)
        fx_out(fx, 0x3c9, 1, 0);
    fx_out(fx, 0x3c8, 1, 7);
    for (unsigned i = 0; i < 3; i++)
        fx_out(fx, 0x3c9, 1, 0x2a);
}

/* A glyph for character CH into plane 2 (font map 0), as the BIOS loads fonts. */
static void load_glyph(struct fakexen *fx, unsigned ch, const uint8_t rows[16])
{
    fx_out(fx, 0x3c4, 2, 0x0402); /* map mask: plane 2 */
    fx_out(fx, 0x3c4, 2, 0x0704); /* sequential, no odd/even */
    fx_out(fx, 0x3ce, 2, 0x0204); /* read map 2 */
    fx_out(fx, 0x3ce, 2, 0x0005); /* no odd/even */
    fx_out(fx, 0x3ce, 2, 0x0406); /* 0xa0000, 64 KiB, text */
    for (unsigned i = 0; i < 16; i++)
        fx_mmio_write(fx, 0xa0000 + ch * 32 + i, 1, rows[i]);
    fx_out(fx, 0x3c4, 2, 0x0302);
    fx_out(fx, 0x3c4, 2, 0x0304);
    fx_out(fx, 0x3ce, 2, 0x0004);
    fx_out(fx, 0x3ce, 2, 0x1005);
    fx_out(fx, 0x3ce, 2, 0x0e06);
}

static uint32_t px(const struct display_surface *s, unsigned x, unsigned y)
{
    return s->pixels[y * (s->stride / 4) + x];
}

static void test_text(void **state)
{
    struct fakexen *fx = ((struct fx_machine *)*state)->fx;
    struct display *d = display_of(&fx->vm);
    static const uint8_t bar[16] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };
    set_mode3(fx);
    load_glyph(fx, 'H', bar);
    const char *msg = "Hi";
    for (unsigned i = 0; msg[i]; i++)
        fx_mmio_write(fx, 0xb8000 + 2 * i, 2, 0x0700u | (uint8_t)msg[i]);
    fx_mmio_write(fx, 0xb8000 + 160, 4, 0x07420741); /* "AB" on row 1 */
    assert_int_equal(fx_mmio_read(fx, 0xb8000, 2), 0x0748);
    const struct display_surface *s = display_refresh(d);
    assert_int_equal(s->width, 720);
    assert_int_equal(s->height, 400);
    assert_int_equal(px(s, 0, 0), 0xaaaaaa);  /* 'H': column 0 lit, grey */
    assert_int_equal(px(s, 1, 0), 0);
    assert_int_equal(px(s, 9, 0), 0);         /* 'i' has no glyph loaded */
    struct display_text t;
    assert_int_equal(display_text(d, &t), 0);
    assert_int_equal(t.cols, 80);
    assert_int_equal(t.rows, 25);
    assert_int_equal(t.cells[0], 0x0748);
    assert_int_equal(t.cells[1], 0x0769);
    assert_int_equal(t.cells[80], 0x0741);
    assert_int_equal(t.cells[81], 0x0742);
    uint8_t buf[4];
    assert_int_equal(display_read_legacy(d, 0xb8000, buf, 4), 0);
    assert_memory_equal(buf, "H\x07i\x07", 4);
    assert_int_equal(display_read_legacy(d, 0xbfffe, buf, 4), -EFAULT);
    /* cursor at row 1, col 2, visible (cursor start 0x0d) */
    fx_out(fx, 0x3d4, 2, 0x000e);
    fx_out(fx, 0x3d4, 2, 0x520f);
    assert_int_equal(display_text(d, &t), 0);
    assert_true(t.cursor_visible);
    assert_int_equal(t.cursor_row, 1);
    assert_int_equal(t.cursor_col, 2);
    /* scrolling as the VGA BIOS does it: rep movsw inside the window, which Xen sends as a
     * read of the source with the destination (MMIO too, not RAM) as its pointer */
    for (uint64_t g = 0xa0; g < 0xc0; g++)
        fx_set_hole(fx, g);
    ioreq_t rq = { .type = IOREQ_TYPE_COPY, .addr = 0xb8000, .size = 2, .count = 2,
                   .data_is_ptr = 1, .data = 0xb8000 + 160 * 3, .dir = IOREQ_READ };
    assert_int_equal(fx_request(fx, &rq), 0);
    assert_int_equal(display_text(d, &t), 0);
    assert_int_equal(t.cells[240], 0x0748);
    assert_int_equal(t.cells[241], 0x0769);
    /* a PPM of the screen */
    FILE *f = tmpfile();
    assert_int_equal(display_write_ppm(display_surface(d), fileno(f)), 0);
    assert_int_equal(lseek(fileno(f), 0, SEEK_END), 15 + 720 * 400 * 3);
    fclose(f);
    f = tmpfile();
    assert_int_equal(display_write_png(display_surface(d), fileno(f)), 0);
    assert_true(lseek(fileno(f), 0, SEEK_END) > 100);
    fclose(f);
}

static void vbe(struct fakexen *fx, unsigned idx, unsigned val)
{
    fx_out(fx, 0x1ce, 2, idx);
    fx_out(fx, 0x1cf, 2, val);
}

static unsigned vbe_get(struct fakexen *fx, unsigned idx)
{
    fx_out(fx, 0x1ce, 2, idx);
    return fx_in(fx, 0x1cf, 2);
}

static void test_vbe(void **state)
{
    struct fakexen *fx = ((struct fx_machine *)*state)->fx;
    struct display *d = display_of(&fx->vm);
    assert_int_equal(vbe_get(fx, 0), 0xb0c5);
    assert_int_equal(vbe_get(fx, 10), 64); /* 4 MiB */
    vbe(fx, 4, 0x02);                      /* GETCAPS */
    assert_int_equal(vbe_get(fx, 1), DISPLAY_MAX_WIDTH);
    assert_int_equal(vbe_get(fx, 3), 32);
    vbe(fx, 4, 0);
    vbe(fx, 1, 1024);
    vbe(fx, 2, 768);
    vbe(fx, 3, 32);
    vbe(fx, 4, 0x41); /* enabled, LFB */
    assert_int_equal(vbe_get(fx, 6), 1024);
    assert_int_equal(vbe_get(fx, 7), 1024); /* 4 MiB / 4 KiB lines */
    vbe(fx, 1, 640);                        /* refused while enabled */
    assert_int_equal(vbe_get(fx, 1), 1024);
    fx_mmio_write(fx, LFB + (10 * 1024 + 20) * 4, 4, 0x00123456);
    fx_mmio_write(fx, LFB + (767 * 1024 + 1023) * 4, 8, 0xffffffffffffffffull); /* last pixel */
    const struct display_surface *s = display_refresh(d);
    assert_int_equal(s->width, 1024);
    assert_int_equal(s->height, 768);
    assert_int_equal(px(s, 20, 10), 0x123456);
    assert_int_equal(px(s, 1023, 767), 0xffffff);
    assert_int_equal(display_text(d, &(struct display_text){ 0 }), -ENOTSUP);
    /* panning through Y_OFFSET; out of range is clamped */
    vbe(fx, 9, 10);
    s = display_refresh(d);
    assert_int_equal(px(s, 20, 0), 0x123456);
    vbe(fx, 9, 60000);
    assert_int_equal(vbe_get(fx, 9), 1024 - 768);
    /* the same registers through BAR 2 (dispi at 0x500) */
    assert_int_equal(fx_mmio_read(fx, MMIO + 0x500 + 2 * 1, 2), 1024);
    assert_int_equal(fx_mmio_read(fx, MMIO + 0x604, 4), 0x1e1e1e1e);
    fx_mmio_write(fx, MMIO + 0x500 + 2 * 4, 2, 0);
    fx_mmio_write(fx, MMIO + 0x500 + 2 * 1, 2, 800);
    fx_mmio_write(fx, MMIO + 0x500 + 2 * 2, 2, 600);
    fx_mmio_write(fx, MMIO + 0x500 + 2 * 3, 2, 16);
    fx_mmio_write(fx, MMIO + 0x500 + 2 * 4, 2, 0xc1); /* no clear */
    fx_mmio_write(fx, LFB, 2, 0xf800);                /* red in 5:6:5 */
    s = display_refresh(d);
    assert_int_equal(s->width, 800);
    assert_int_equal(px(s, 0, 0), 0xff0000);
    /* banked window: bank 1 maps LFB + 64 KiB at 0xa0000 */
    vbe(fx, 5, 1);
    fx_mmio_write(fx, 0xa0000, 2, 0x001f);
    assert_int_equal(fx_mmio_read(fx, LFB + 0x10000, 2), 0x001f);
    vbe(fx, 5, 0xffff); /* masked to the banks there are */
    assert_int_equal(vbe_get(fx, 5), 63);
    /* a mode that does not fit is refused */
    vbe(fx, 4, 0);
    vbe(fx, 1, 2560);
    vbe(fx, 2, 1600);
    vbe(fx, 3, 32);
    vbe(fx, 4, 1);
    assert_int_equal(vbe_get(fx, 4) & 1, 0);
}

struct damage {
    unsigned n, y0, y1;
};
static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
    struct damage *d = opaque;
    if (!d->n++ || y < d->y0)
        d->y0 = y;
    if (y + h - 1 > d->y1)
        d->y1 = y + h - 1;
}

/* Video RAM is guest memory: populated above RAM (64 MiB here), moved with BAR 0 into the PCI
 * hole and parked again when BAR 0 decodes elsewhere; guest framebuffer writes reach it with
 * no request, and only the lines on pages Xen saw written are drawn again. */
static void test_vram_guest_memory(void **state)
{
    struct fakexen *fx = ((struct fx_machine *)*state)->fx;
    struct display *d = display_of(&fx->vm);
    assert_non_null(fx->vram.mem);
    assert_int_equal(fx->vram.n, 1024);
    assert_int_equal(fx->vram.gfn, LFB >> 12);
    vbe(fx, 1, 1024);
    vbe(fx, 2, 768);
    vbe(fx, 3, 32);
    vbe(fx, 4, 0x41);
    uint64_t before = fx->forwarded;
    fx_mmio_write(fx, LFB + (500 * 1024 + 7) * 4, 4, 0xabcdef);
    assert_int_equal(fx->forwarded, before); /* no request */
    const struct display_surface *s = display_refresh(d);
    assert_int_equal(px(s, 7, 500), 0xabcdef);
    struct damage dm = { 0 };
    struct display_listener l = { .damage = on_damage, .opaque = &dm };
    assert_int_equal(display_listen(d, &l), 0);
    display_refresh(d);
    assert_int_equal(dm.n, 0); /* nothing written: nothing drawn */
    fx_mmio_write(fx, LFB + (600 * 1024 + 9) * 4, 4, 0x123456);
    s = display_refresh(d);
    assert_int_equal(px(s, 9, 600), 0x123456);
    assert_int_equal(dm.n, 1);
    assert_int_equal(dm.y0, 600);
    assert_int_equal(dm.y1, 600);
    assert_int_equal(display_unlisten(d, &dm), 0);
    /* BAR 0 moves: the pages follow; decoding off or outside the hole: parked above RAM */
    fx_cfg_write(fx, DF, 0x10, 4, 0xd0000000u);
    assert_int_equal(fx->vram.gfn, 0xd0000);
    assert_int_equal(fx_mmio_read(fx, 0xd0000000u + (600 * 1024 + 9) * 4, 4), 0x123456);
    fx_cfg_write(fx, DF, PCI_COMMAND, 2, 1);
    assert_int_equal(fx->vram.gfn, (64 << 20) >> 12);
    fx_cfg_write(fx, DF, 0x10, 4, 0xfe000000u);
    fx_cfg_write(fx, DF, PCI_COMMAND, 2, 3);
    assert_int_equal(fx->vram.gfn, (64 << 20) >> 12);
    /* there, the framebuffer is served by requests, on the same memory */
    assert_int_equal(fx_mmio_read(fx, 0xfe000000u + (600 * 1024 + 9) * 4, 4), 0x123456);
    fx_cfg_write(fx, DF, 0x10, 4, LFB);
    assert_int_equal(fx->vram.gfn, LFB >> 12);
}

/* The text window as guest memory: in a plain text mode the first access moves eight pages
 * to 0xb8000 holding the planes' bytes; the guest then writes its screen with no request, and
 * the renderer reads the cells there (an unchanged screen is not drawn again). A register
 * write that ends the mode (the BIOS loading a font: planar, plane 2) moves them out and
 * copies them into the planes; what is written meanwhile through the planes is in them when
 * they move back in; the state saved holds what the pages hold. */
/* the loop's turns until the text window's pages are at 0xb8000 (at most 10 s) */
static void move_in(struct fakexen *fx)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        loop_run_once(fx->loop, 5);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (fx->vram_more[0].gfn != 0xb8 && t.tv_sec - t0.tv_sec < 10);
    assert_int_equal(fx->vram_more[0].gfn, 0xb8);
    assert_int_equal(fx->held, 0);
}

static void test_text_window(void **state)
{
    struct fx_machine *b = *state;
    struct fakexen *fx = b->fx;
    struct display *d = display_of(&fx->vm);
    struct display_text t;
    const uint64_t park = ((64u << 20) + (4u << 20)) >> 12; /* after 4 MiB of VRAM */
    assert_non_null(fx->vram_more[0].mem);
    assert_int_equal(fx->vram_more[0].n, 8);
    assert_int_equal(fx->vram_more[0].gfn, park);
    set_mode3(fx);
    assert_int_equal(fx->vram_more[0].gfn, park); /* (lazily: no access yet) */
    uint64_t before = fx->forwarded;
    fx_mmio_write(fx, 0xb8000, 2, 0x0748); /* a request, on the planes: the pages move in */
    assert_int_equal(fx->forwarded, before + 1);
    assert_int_equal(fx->vram_more[0].gfn, park); /* (not inside the request) */
    fx->hold_busy = 3; /* from the loop, once no vCPU's request is in flight */
    move_in(fx);
    assert_int_equal(fx->hold_busy, 0);
    assert_int_equal(fx->holds, 1);
    for (unsigned i = 1; i < 1000; i++)
        fx_mmio_write(fx, 0xb8000 + 2 * (i % 2000), 2, 0x0700u | ('A' + i % 26));
    fx_mmio_write(fx, 0xbfffe, 2, 0x1e5a); /* the window's last cell */
    assert_int_equal(fx->forwarded, before + 1); /* no request for the other 1,000 */
    assert_int_equal(fx_mmio_read(fx, 0xb8002, 2), 0x0742);
    assert_int_equal(display_text(d, &t), 0);
    assert_int_equal(t.cells[0], 0x0748);
    assert_int_equal(t.cells[1], 0x0742);
    uint8_t buf[2];
    assert_int_equal(display_read_legacy(d, 0xb8000, buf, 2), 0);
    assert_memory_equal(buf, "H\x07", 2);
    /* drawn once; unchanged, not again; a cell written, its line */
    struct damage dm = { 0 };
    struct display_listener l = { .damage = on_damage, .opaque = &dm };
    display_refresh(d);
    assert_int_equal(display_listen(d, &l), 0);
    display_refresh(d);
    assert_int_equal(dm.n, 0);
    static const uint8_t bar[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    /* a font load: planar, plane 2: the pages move out, their bytes into planes 0 and 1 */
    load_glyph(fx, 'Q', bar);
    assert_int_equal(fx->vram_more[0].gfn, park);
    dm.n = 0;
    fx_mmio_write(fx, 0xb8000 + 160 * 2, 2, 0x0751); /* 'Q' on row 2 (a request, moves in) */
    move_in(fx);
    const struct display_surface *sf = display_refresh(d);
    assert_int_equal(dm.n, 1); /* (row 0 holds a Q too) */
    assert_int_equal(px(sf, 0, 2 * 16), 0xaaaaaa); /* the glyph loaded while out */
    dm = (struct damage){ 0 };
    fx_mmio_write(fx, 0xb8000 + 160 * 3, 2, 0x0751); /* RAM: seen by comparing the cells */
    display_refresh(d);
    assert_int_equal(dm.n, 1);
    assert_int_equal(dm.y0, 3 * 16);
    assert_int_equal(dm.y1, 3 * 16 + 15);
    /* written through the planes while out (map mask: plane 0 only, not plain): kept */
    fx_out(fx, 0x3c4, 2, 0x0102);
    assert_int_equal(fx->vram_more[0].gfn, park);
    fx_mmio_write(fx, 0xb8004, 1, 'X');
    assert_int_equal(fx->vram_more[0].gfn, park);
    fx_out(fx, 0x3c4, 2, 0x0302);
    assert_int_equal(fx_mmio_read(fx, 0xb8000, 4), 0x07420748);
    move_in(fx);
    assert_int_equal(fx_mmio_read(fx, 0xb8004, 2), 0x0700 | 'X');
    assert_int_equal(fx_mmio_read(fx, 0xbfffe, 2), 0x1e5a);
    assert_int_equal(display_unlisten(d, &dm), 0);
    /* saved with the pages in, loaded over the same memory (xen-load-devices-state: the guest's
     * memory, video RAM and these pages included, is Xen's to restore, not the stream's): the
     * screen as the pages have it, the pages out, and in again later */
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m, &w), 0);
    struct snap_reader r;
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(machine_load(&b->m, &r), 0);
    assert_int_equal(fx->vram_more[0].gfn, park);
    assert_int_equal(display_text(d, &t), 0);
    assert_int_equal(t.cells[0], 0x0748);
    assert_int_equal(t.cells[2], 0x0700 | 'X');
    move_in(fx); /* (a restored guest may make no request there: no need to) */
    assert_int_equal(fx_mmio_read(fx, 0xb8000, 2), 0x0748);
    snap_writer_free(&w);
    /* a VBE mode (chain-4, another memory map): out; BAR 0 can never cover the parked pages */
    vbe(fx, 1, 640);
    vbe(fx, 2, 480);
    vbe(fx, 3, 32);
    vbe(fx, 4, 0x41);
    assert_int_equal(fx->vram_more[0].gfn, park);
    fx_cfg_write(fx, DF, 0x10, 4, (uint32_t)(park << 12) - (2u << 20));
    assert_int_equal(fx->vram.gfn, (64u << 20) >> 12); /* parked, not over the text pages */
    fx_cfg_write(fx, DF, 0x10, 4, LFB);
}

/* A 1 MiB VGA on a machine whose hypervisor gives no pages for video RAM (hvmd keeps it):
 * its fake hypervisor; CFG (the caller's, it must outlive the machine) and *VGA filled in. */
static struct fakexen *vga_kept_vram(struct config *cfg, void **vga)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "16", "-device",
                                        "VGA,vgamem_mb=1" };
    extern const struct device dev_vga;
    char err[256];
    assert_int_equal(config_parse(cfg, 6, argv, err, sizeof(err)), 0);
    struct fakexen *fx = fx_new(16 << 20);
    fx->vram_refuse = -ENOSYS;
    fx->vm.cfg = cfg;
    assert_int_equal(dev_vga.create(&fx->vm, vga), 0);
    return fx;
}

/* Where video RAM cannot be guest memory, hvmd keeps it and serves the framebuffer as MMIO. */
static void test_vram_fallback(void **state)
{
    extern const struct device dev_vga;
    struct config cfg;
    void *vga = NULL;
    (void)state;
    struct fakexen *fx = vga_kept_vram(&cfg, &vga);
    assert_null(fx->vram.mem);
    fx_cfg_write(fx, DF, 0x10, 4, LFB);
    fx_cfg_write(fx, DF, PCI_COMMAND, 2, 3);
    vbe(fx, 1, 640);
    vbe(fx, 2, 400); /* fits in 1 MiB */
    vbe(fx, 3, 32);
    vbe(fx, 4, 0x41);
    uint64_t before = fx->forwarded;
    fx_mmio_write(fx, LFB + 4, 4, 0x00ff00);
    assert_int_equal(fx->forwarded, before + 1);
    const struct display_surface *s = display_refresh(display_of(&fx->vm));
    assert_int_equal(px(s, 1, 0), 0x00ff00);
    dev_vga.destroy(vga);
    fx->vm.cfg = NULL;
    fx_free(fx);
    config_free(&cfg);
}

static char qmp_out[65536];
static void collect(void *opaque, const char *data, size_t n)
{
    size_t l = strlen(qmp_out);
    if (l + n < sizeof(qmp_out)) {
        memcpy(qmp_out + l, data, n);
        qmp_out[l + n] = 0;
    }
}

static const char *qmp_say(struct qmp_conn *c, const char *json)
{
    qmp_out[0] = 0;
    assert_int_equal(qmp_conn_input(c, json, strlen(json)), 0);
    return qmp_out;
}

/* QMP screendump (QEMU 7: filename, format ppm|png) and HMP screendump / xp through the
 * display: the text screen as a 720x400 picture, the characters at 0xb8000 */
static void test_screendump(void **state)
{
    struct fx_machine *b = *state;
    struct fakexen *fx = b->fx;
    char err[256], ppm[64], png[64], cmd[160];
    static const struct qmp_ops ops = { 0 };
    snprintf(ppm, sizeof(ppm), "/tmp/hvmd-vga-%d.ppm", (int)getpid());
    snprintf(png, sizeof(png), "/tmp/hvmd-vga-%d.png", (int)getpid());
    unlink(ppm);
    unlink(png);
    set_mode3(fx);
    fx_mmio_write(fx, 0xb8000, 4, 0x074b074f); /* "OK" */
    struct qmp *q = qmp_new(&fx->vm, &b->cfg, &ops, NULL, err, sizeof(err));
    assert_non_null(q);
    struct qmp_conn *c = qmp_conn_new(q, collect, NULL);
    assert_non_null(c);
    qmp_say(c, "{\"execute\":\"qmp_capabilities\"}");
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\"}}", ppm);
    assert_string_equal(qmp_say(c, cmd), "{\"return\":{}}\r\n");
    FILE *f = fopen(ppm, "rb");
    char hdr[16] = "";
    assert_non_null(f);
    assert_int_equal(fread(hdr, 1, 15, f), 15);
    fclose(f);
    assert_memory_equal(hdr, "P6\n720 400\n255\n", 15);
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"%s\",\"format\":\"png\"}}", png);
    assert_string_equal(qmp_say(c, cmd), "{\"return\":{}}\r\n");
    f = fopen(png, "rb");
    assert_non_null(f);
    assert_int_equal(fread(hdr, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(hdr, "\x89PNG\r\n\x1a\n", 8);
    /* an earlier screendump is replaced; any other file is not */
    assert_string_equal(qmp_say(c, cmd), "{\"return\":{}}\r\n");
    assert_non_null(strstr(qmp_say(c, "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"/etc/passwd\"}}"),
                           "failed to open file '/etc/passwd'"));
    assert_non_null(strstr(qmp_say(c, "{\"execute\":\"screendump\",\"arguments\":{\"filename\":\"/tmp/x\",\"format\":\"bmp\"}}"),
                           "does not accept value 'bmp'"));
    /* HMP, as xl qemu-monitor-command sends it */
    unlink(ppm);
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"screendump %s\"}}", ppm);
    assert_string_equal(qmp_say(c, cmd), "{\"return\":\"\"}\r\n");
    assert_int_equal(access(ppm, F_OK), 0);
    assert_non_null(strstr(qmp_say(c, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"xp /4xb 0xb8000\"}}"),
                           "00000000000b8000: 0x4f 0x07 0x4b 0x07"));
    /* x-text-screen: the cells shown, from the CRTC's start address on (xp's format, the
     * address column counting cells x 2 from 0): 80x25, 250 lines of 8 */
    const char *ts = "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"x-text-screen\"}}";
    const char *out = qmp_say(c, ts);
    assert_non_null(strstr(out, "{\"return\":\"0000000000000000: 0x074f 0x074b 0x0"));
    assert_non_null(strstr(out, "\\r\\n0000000000000f90: 0x"));     /* cell 1992 */
    assert_null(strstr(out, "0000000000000fa0:"));
    /* Linux's console scrolls by moving the start address: row 1 at the top now */
    fx_mmio_write(fx, 0xb8000 + 160, 4, 0x07490748); /* "HI" */
    fx_out(fx, 0x3d4, 2, 0x000c);
    fx_out(fx, 0x3d4, 2, 0x500d);   /* start address 80 */
    out = qmp_say(c, ts);
    assert_non_null(strstr(out, "{\"return\":\"0000000000000000: 0x0748 0x0749 0x0"));
    /* (xp still reads the window itself) */
    assert_non_null(strstr(qmp_say(c, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"xp /2xh 0xb8000\"}}"),
                           "00000000000b8000: 0x074f 0x074b"));
    fx_out(fx, 0x3d4, 2, 0x000d);
    qmp_conn_free(c);
    qmp_free(q);
    unlink(ppm);
    unlink(png);
}

/* libxl's default (-device cirrus-vga) and -vga std get the same standard VGA; Cirrus is said
 * once in the log */
static char cirrus_line[300];
static void sink(void *opaque, enum log_level level, const char *line)
{
    if (strstr(line, "Cirrus"))
        snprintf(cirrus_line, sizeof(cirrus_line), "%s", line);
}

static void test_cirrus_and_vga_std(void **state)
{
    struct fx_machine b;
    char err[256];
    static const char *const cirrus[] = { "-device", "cirrus-vga,vgamem_mb=8" };
    static const char *const std[] = { "-vga", "std" };
    static const char *const big[] = { "-device", "VGA,vgamem_mb=1024" };
    (void)state;
    log_set_sink(sink, NULL);
    log_set_level(LOG_INFO);
    assert_int_equal(fx_machine_up(&b, cirrus, 2, err, sizeof(err)), 0);
    log_set_sink(NULL, NULL);
    log_set_level(LOG_ERR);
    assert_non_null(strstr(cirrus_line, "hvmd serves the standard VGA"));
    assert_int_equal(fx_cfg_read(b.fx, DF, 0, 4), 0x11111234);
    fx_out(b.fx, 0x1ce, 2, 10);
    assert_int_equal(fx_in(b.fx, 0x1cf, 2), 128); /* 8 MiB */
    fx_machine_down(&b);
    assert_int_equal(fx_machine_up(&b, std, 2, err, sizeof(err)), 0);
    fx_out(b.fx, 0x1ce, 2, 10);
    assert_int_equal(fx_in(b.fx, 0x1cf, 2), 256); /* 16 MiB default */
    fx_machine_down(&b);
    assert_true(fx_machine_up(&b, big, 2, err, sizeof(err)) < 0);
}

static void test_state(void **state)
{
    struct fx_machine *b = *state;
    struct fakexen *fx = b->fx;
    struct display *d = display_of(&fx->vm);
    set_mode3(fx);
    fx_mmio_write(fx, 0xb8000, 2, 0x1f41);
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m, &w), 0);
    /* video RAM is guest memory: Xen's memory stream carries it, not the device stream
     * (test_save.c: a VGA restoring with -incoming maps it; test_vram_in_stream: hvmd's own
     * video RAM is in the stream) */
    assert_true(w.len < 64 * 1024);
    size_t vbytes = fx->vram.n * 4096;
    uint8_t *mem = malloc(vbytes);
    memcpy(mem, fx->vram.mem, vbytes);
    fx_mmio_write(fx, 0xb8000, 2, 0x0000);
    fx_out(fx, 0x3d4, 2, 0x0001);
    memcpy(fx->vram.mem, mem, vbytes); /* as the memory stream puts it back */
    free(mem);
    struct snap_reader r;
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(machine_load(&b->m, &r), 0);
    struct display_text t;
    assert_int_equal(display_text(d, &t), 0);
    assert_int_equal(t.cols, 80);
    assert_int_equal(t.cells[0], 0x1f41);
    snap_writer_free(&w);
}

/* Video RAM hvmd keeps itself (the hypervisor gave no pages) travels in the device stream. */
static void test_vram_in_stream(void **state)
{
    extern const struct device dev_vga;
    struct config cfg;
    void *vga = NULL;
    (void)state;
    struct fakexen *fx = vga_kept_vram(&cfg, &vga);
    set_mode3(fx);
    fx_mmio_write(fx, 0xb8000, 2, 0x1f41);
    struct snap_writer w;
    snap_writer_init(&w);
    snap_section_begin(&w, "vga", dev_vga.version);
    assert_int_equal(dev_vga.save(vga, &w), 0);
    snap_section_end(&w);
    assert_true(w.len > (1u << 20));
    fx_mmio_write(fx, 0xb8000, 2, 0x0000);
    struct snap_reader r;
    char dev[SNAP_NAME_MAX + 1];
    uint32_t ver;
    for (int commit = 0; commit < 2; commit++) {
        snap_reader_init(&r, w.buf, w.len);
        assert_int_equal(snap_section_open(&r, dev, &ver), 1);
        assert_int_equal(dev_vga.load(vga, &r, commit), 0);
        assert_int_equal(snap_section_close(&r), 0);
    }
    assert_int_equal(fx_mmio_read(fx, 0xb8000, 2), 0x1f41);
    snap_writer_free(&w);
    dev_vga.destroy(vga);
    fx_free(fx);
    config_free(&cfg);
}

/* The VGA BIOS through the ROM BAR: Debian's seabios ships it (images/deps installs it); with
 * -L of a directory without it, no ROM BAR and the adapter still works */
static void test_rom(void **state)
{
    (void)state;
    struct fx_machine b = { 0 };
    static const char *const dflt[] = { "-device", "VGA" };
    static const char *const none[] = { "-device", "VGA", "-L", "/nonexistent" };
    char err[256];
    assert_int_equal(access("/usr/share/seabios/vgabios-stdvga.bin", R_OK), 0);
    assert_int_equal(fx_machine_up(&b, dflt, 2, err, sizeof(err)), 0);
    fx_cfg_write(b.fx, DF, PCI_ROM_ADDRESS, 4, 0xfffff800);
    uint32_t mask = (uint32_t)fx_cfg_read(b.fx, DF, PCI_ROM_ADDRESS, 4);
    assert_true(mask != 0 && mask <= 0xffff8000u); /* 32 KiB or more: a BIOS, not empty */
    fx_cfg_write(b.fx, DF, PCI_ROM_ADDRESS, 4, 0xfe000001);
    fx_cfg_write(b.fx, DF, PCI_COMMAND, 2, 2);
    assert_int_equal(fx_mmio_read(b.fx, 0xfe000000, 2), 0xaa55);
    fx_machine_down(&b);
    memset(&b, 0, sizeof(b));
    assert_int_equal(fx_machine_up(&b, none, 4, err, sizeof(err)), 0);
    fx_cfg_write(b.fx, DF, PCI_ROM_ADDRESS, 4, 0xfffff800);
    assert_int_equal(fx_cfg_read(b.fx, DF, PCI_ROM_ADDRESS, 4), 0);
    fx_out(b.fx, 0x3c4, 1, 1); /* the adapter answers without its BIOS */
    fx_out(b.fx, 0x3c5, 1, 0x21);
    assert_int_equal(fx_in(b.fx, 0x3c5, 1), 0x21);
    fx_machine_down(&b);
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pci, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vbe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test(test_cirrus_and_vga_std),
        cmocka_unit_test_setup_teardown(test_vram_guest_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_window, setup, teardown),
        cmocka_unit_test(test_vram_fallback),
        cmocka_unit_test(test_vram_in_stream),
        cmocka_unit_test_setup_teardown(test_screendump, setup, teardown),
        cmocka_unit_test(test_rom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The standard VGA's renderer: the guest's video memory and registers into the display's
 * surface (0x00RRGGBB), run when a consumer asks (dm/display.h: refresh), never on a timer.
 * Modes: VBE (8 bpp through the DAC, 15, 16, 24, 32 bpp); text (8 or 9 dot characters from the
 * font the BIOS loaded into plane 2, both character maps, 16-colour attributes through the
 * attribute controller and the DAC, line-graphics 9th column, the cursor; blink is shown as
 * steady); 256-colour graphics (chain-4 mode 13h and unchained "mode X"); 16-colour planar
 * graphics. The mode's geometry comes from the CRTC (horizontal display end, vertical display
 * end, maximum scan line and double scan, offset, start address), as a monitor would see it.
 * A line is rendered into scratch and compared with what the surface holds, so only lines
 * that changed are copied and reported as damage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/display/vga.h"

static uint32_t dac_rgb(const struct vga *s, unsigned i)
{
    const uint8_t *p = &s->palette[(i & 0xff) * 3];
    if (s->vbe[VBE_ENABLE] & VBE_EN_8BIT_DAC)
        return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    uint32_t r = p[0] & 0x3f, g = p[1] & 0x3f, b = p[2] & 0x3f;
    r = (r << 2) | (r >> 4);
    g = (g << 2) | (g >> 4);
    b = (b << 2) | (b >> 4);
    return r << 16 | g << 8 | b;
}

/* A 4-bit colour through the attribute controller's palette into a DAC entry. */
static uint32_t attr_rgb(const struct vga *s, unsigned c)
{
    unsigned v = s->ar[c & 0xf];
    if (s->ar[0x10] & 0x80)
        v = (v & 0xf) | ((s->ar[0x14] & 3u) << 4);
    v |= (s->ar[0x14] & 0xcu) << 4;
    return dac_rgb(s, v & s->pel_mask);
}

enum mode { M_BLANK, M_TEXT, M_PLANAR, M_256, M_VBE };

struct geom {
    enum mode mode;
    unsigned width, height;
    unsigned cols, rows, cw, ch;  /* text */
};

static void geometry(const struct vga *s, struct geom *g)
{
    memset(g, 0, sizeof(*g));
    if (s->vbe[VBE_ENABLE] & VBE_EN_ENABLED) {
        g->mode = s->vbe[VBE_BPP] == 4 ? M_BLANK : M_VBE;
        g->width = s->vbe[VBE_XRES];
        g->height = s->vbe[VBE_YRES];
        return;
    }
    unsigned hde = s->cr[1] + 1u;
    unsigned vde = (s->cr[0x12] | ((s->cr[7] & 0x02u) << 7) | ((s->cr[7] & 0x40u) << 3)) + 1u;
    unsigned msl = (s->cr[9] & 0x1fu) + 1u;
    if (s->cr[9] & 0x80)
        vde /= 2;
    if (!(s->gr[6] & 1)) {
        g->mode = M_TEXT;
        g->cw = (s->sr[1] & 1) ? 8 : 9;
        g->ch = msl;
        g->cols = hde;
        g->rows = vde / msl;
        if (g->cols > 132)
            g->cols = 132;
        if (g->rows > 60)
            g->rows = 60;
        if (g->rows == 0)
            g->rows = 1;
        g->width = g->cols * g->cw;
        g->height = g->rows * g->ch;
    } else {
        g->mode = (s->gr[5] & 0x40) ? M_256 : M_PLANAR;
        g->width = hde * 8 / (g->mode == M_256 ? 2 : 1);
        g->height = vde / msl;
    }
    if (g->height == 0)
        g->height = 1;
    if (g->width > DISPLAY_MAX_WIDTH)
        g->width = DISPLAY_MAX_WIDTH;
    if (g->height > DISPLAY_MAX_HEIGHT)
        g->height = DISPLAY_MAX_HEIGHT;
    /* display off: the attribute controller's palette address source, or screen off */
    if (!(s->ar_index & 0x20) || (s->sr[1] & 0x20))
        g->mode = M_BLANK;
}

static uint8_t vb(const struct vga *s, uint64_t off) { return s->vram[off & (s->vram_size - 1)]; }

static unsigned line_bytes(const struct vga *s) { return s->cr[0x13] * 8u; }
static unsigned start_addr(const struct vga *s) { return (unsigned)s->cr[0xc] << 8 | s->cr[0xd]; }

/* Text cell IDX: its character (low byte) and attribute (high byte), bytes IDX of planes 0
 * and 1, read from the text window's pages while they are in the guest's map (vga.c). */
static unsigned cell(const struct vga *s, uint64_t idx)
{
    uint64_t o = (idx * 4) & (s->vram_size - 1);
    if (s->text_in && o / 4 < VGA_TEXT_LEN / 2)
        return s->text[o / 2] | (unsigned)s->text[o / 2 + 1] << 8;
    return s->vram[o] | (unsigned)s->vram[o + 1] << 8;
}

/* plane-2 offset of character map M (0-7) */
static unsigned font_base(unsigned m) { return ((m & 3) * 2 + (m >> 2)) * 8192; }

static void text_line(struct vga *s, const struct geom *g, unsigned y)
{
    unsigned row = y / g->ch, cl = y % g->ch;
    unsigned sr3 = s->sr[3];
    unsigned map_a = ((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3);
    unsigned map_b = ((sr3 >> 4) & 1) << 2 | (sr3 & 3);
    unsigned pitch = s->cr[0x13] * 2u, start = start_addr(s);
    unsigned cur = (unsigned)s->cr[0xe] << 8 | s->cr[0xf];
    int cur_on = !(s->cr[0xa] & 0x20) && cl >= (s->cr[0xa] & 0x1fu) && cl <= (s->cr[0xb] & 0x1fu);
    uint32_t *out = s->line;
    for (unsigned col = 0; col < g->cols; col++) {
        uint64_t idx = (uint64_t)start + (uint64_t)row * pitch + col;
        unsigned c = cell(s, idx), chr = c & 0xff, attr = c >> 8;
        unsigned fg = attr & 0xf, bg = attr >> 4;
        if (s->ar[0x10] & 0x08)
            bg &= 7;
        unsigned map = (map_a != map_b && (attr & 8)) ? map_a : map_b;
        unsigned glyph = vb(s, ((uint64_t)font_base(map) + chr * 32u + cl) * 4 + 2);
        if (cur_on && idx == cur)
            glyph = 0xff;
        uint32_t f = attr_rgb(s, fg), b = attr_rgb(s, bg);
        for (unsigned x = 0; x < 8; x++)
            *out++ = (glyph & (0x80u >> x)) ? f : b;
        if (g->cw == 9)
            *out++ = (chr >= 0xc0 && chr <= 0xdf && (s->ar[0x10] & 4) && (glyph & 1)) ? f : b;
    }
}

static void planar_line(struct vga *s, const struct geom *g, unsigned y)
{
    uint64_t addr = (uint64_t)start_addr(s) * 4 + (uint64_t)y * line_bytes(s);
    for (unsigned x = 0; x < g->width; x += 8) {
        uint64_t a = addr + (x / 8) * 4;
        uint8_t p[4] = { vb(s, a), vb(s, a + 1), vb(s, a + 2), vb(s, a + 3) };
        for (unsigned b = 0; b < 8 && x + b < g->width; b++) {
            unsigned c = 0;
            for (unsigned k = 0; k < 4; k++)
                c |= ((p[k] >> (7 - b)) & 1u) << k;
            s->line[x + b] = attr_rgb(s, c & s->ar[0x12]);
        }
    }
}

static void line256(struct vga *s, const struct geom *g, unsigned y)
{
    uint64_t addr = (uint64_t)start_addr(s) * 4 + (uint64_t)y * line_bytes(s);
    for (unsigned x = 0; x < g->width; x++)
        s->line[x] = dac_rgb(s, vb(s, addr + x) & s->pel_mask);
}

static void vbe_line(struct vga *s, const struct geom *g, unsigned y)
{
    /* vbe_fixup keeps start + yres lines of vbe_line bytes inside VRAM */
    const uint8_t *p = s->vram + s->vbe_start + (uint64_t)y * s->vbe_line;
    uint32_t *out = s->line;
    switch (s->vbe[VBE_BPP]) {
    case 8:
        for (unsigned x = 0; x < g->width; x++)
            out[x] = dac_rgb(s, p[x]);
        break;
    case 15:
        for (unsigned x = 0; x < g->width; x++) {
            unsigned v = p[2 * x] | p[2 * x + 1] << 8;
            unsigned r = (v >> 10) & 31, gg = (v >> 5) & 31, b = v & 31;
            out[x] = ((r << 3 | r >> 2) << 16) | ((gg << 3 | gg >> 2) << 8) | (b << 3 | b >> 2);
        }
        break;
    case 16:
        for (unsigned x = 0; x < g->width; x++) {
            unsigned v = p[2 * x] | p[2 * x + 1] << 8;
            unsigned r = (v >> 11) & 31, gg = (v >> 5) & 63, b = v & 31;
            out[x] = ((r << 3 | r >> 2) << 16) | ((gg << 2 | gg >> 4) << 8) | (b << 3 | b >> 2);
        }
        break;
    case 24:
        for (unsigned x = 0; x < g->width; x++)
            out[x] = (uint32_t)p[3 * x + 2] << 16 | (uint32_t)p[3 * x + 1] << 8 | p[3 * x];
        break;
    default:
        for (unsigned x = 0; x < g->width; x++)
            out[x] = ((uint32_t)p[4 * x + 2] << 16 | (uint32_t)p[4 * x + 1] << 8 | p[4 * x]);
        break;
    }
}

/* Whether the visible cells differ from those last seen; remembers them. */
static int text_changed(struct vga *s, const struct geom *g)
{
    unsigned n = MIN(g->cols * g->rows, (unsigned)DISPLAY_TEXT_MAX_CELLS);
    unsigned pitch = s->cr[0x13] * 2u, start = start_addr(s), changed = 0;
    if (!s->text_seen && !(s->text_seen = calloc(DISPLAY_TEXT_MAX_CELLS, sizeof(uint16_t))))
        return 1;
    if (n != s->text_seen_n)
        changed = 1;
    s->text_seen_n = n;
    for (unsigned i = 0; i < n; i++) {
        uint16_t c = (uint16_t)cell(s, (uint64_t)start + (uint64_t)(i / g->cols) * pitch +
                                           i % g->cols);
        if (c != s->text_seen[i]) {
            s->text_seen[i] = c;
            changed = 1;
        }
    }
    return (int)changed;
}

void vga_render(struct vga *s)
{
    struct geom g;
    geometry(s, &g);
    const struct display_surface *cur = display_surface(s->disp);
    struct display_surface *surf;
    int resized = 0;
    if (!cur || cur->width != g.width || cur->height != g.height) {
        surf = display_resize(s->disp, g.width, g.height);
        if (!surf)
            return;
        resized = 1;
    } else {
        surf = (struct display_surface *)cur;
    }
    unsigned w = MIN(g.width, surf->width), h = MIN(g.height, surf->height);
    int y0 = -1, y1 = -1;
    /* Nothing to draw when no register, no window request and (text) no cell changed: a
     * watched idle screen costs a comparison of its cells. Planar and 256-colour modes change
     * only through requests (their video memory written through BAR 0 instead is seen at
     * the next register or window write). */
    if (g.mode != M_VBE && !s->redraw && !resized &&
        (g.mode != M_TEXT || !text_changed(s, &g)))
        return;
    if (g.mode == M_TEXT)
        text_changed(s, &g); /* (what is drawn now is what was seen) */
    /* a VBE mode in guest memory, registers untouched: only lines on pages Xen saw written */
    int tracked = 0;
    uint32_t span = (uint32_t)MIN((uint64_t)s->vbe_line * h, (uint64_t)s->vram_size - s->vbe_start);
    if (g.mode == M_VBE && vga_dirty_pages(s, s->vbe_start, span) == 0 && !s->redraw &&
        !resized)
        tracked = 1;
    s->redraw = 0;
    for (unsigned y = 0; y < h; y++) {
        if (tracked) {
            uint32_t a = s->vbe_line * y, b = a + s->vbe_line - 1;
            uint32_t p0 = (s->vbe_start + a) / 4096 - s->vbe_start / 4096;
            uint32_t p1 = (s->vbe_start + MIN(b, span - 1)) / 4096 - s->vbe_start / 4096;
            int dirty = 0;
            for (uint32_t p = p0; p <= p1 && !dirty; p++)
                dirty = (s->dirty[p / 8] >> (p % 8)) & 1;
            if (!dirty) {
                s->lines_skipped++;
                continue;
            }
        }
        switch (g.mode) {
        case M_TEXT: text_line(s, &g, y); break;
        case M_PLANAR: planar_line(s, &g, y); break;
        case M_256: line256(s, &g, y); break;
        case M_VBE: vbe_line(s, &g, y); break;
        default: memset(s->line, 0, w * sizeof(uint32_t)); break;
        }
        uint32_t *row = (uint32_t *)((uint8_t *)surf->pixels + (size_t)y * surf->stride);
        if (memcmp(row, s->line, w * sizeof(uint32_t))) {
            memcpy(row, s->line, w * sizeof(uint32_t));
            if (y0 < 0)
                y0 = (int)y;
            y1 = (int)y;
        }
    }
    if (y0 >= 0)
        display_damage(s->disp, 0, (unsigned)y0, w, (unsigned)(y1 - y0 + 1));
}

int vga_text(struct vga *s, struct display_text *t)
{
    struct geom g;
    geometry(s, &g);
    if (g.mode != M_TEXT)
        return -ENOTSUP;
    unsigned pitch = s->cr[0x13] * 2u, start = start_addr(s);
    unsigned cur = (unsigned)s->cr[0xe] << 8 | s->cr[0xf];
    t->cols = g.cols;
    t->rows = MIN(g.rows, (unsigned)(DISPLAY_TEXT_MAX_CELLS / g.cols));
    for (unsigned r = 0; r < t->rows; r++)
        for (unsigned c = 0; c < t->cols; c++) {
            uint64_t idx = (uint64_t)start + (uint64_t)r * pitch + c;
            t->cells[r * t->cols + c] = (uint16_t)cell(s, idx);
        }
    t->cursor_visible = 0;
    t->cursor_col = t->cursor_row = 0;
    if (pitch && cur >= start) {
        unsigned off = cur - start;
        t->cursor_row = off / pitch;
        t->cursor_col = off % pitch;
        t->cursor_visible = !(s->cr[0xa] & 0x20) && t->cursor_row < t->rows &&
                            t->cursor_col < t->cols;
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The standard VGA QEMU calls "VGA" (PCI 1234:1111, class 0x0300, at 00:02.0): what libxl asks
 * for with vga="stdvga" (-device VGA,vgamem_mb=N) and, since hvmd does not emulate Cirrus, also
 * what it serves for libxl's default -device cirrus-vga (said once in the log).
 * Specs: IBM VGA Technical Reference (registers, memory modes, write modes 0-3, read modes 0-1);
 * Bochs' VBE "dispi" interface (vbe.h of Bochs / QEMU: ports 0x1ce-0x1cf, IDs 0xB0C0-0xB0C5);
 * Linux drivers/gpu/drm/tiny/bochs.c for what the bochs DRM driver reads (BAR 0 framebuffer,
 * BAR 2 with the VGA ports at 0x400, dispi at 0x500, QEMU's extended registers at 0x600).
 * Emulated: the sequencer, CRT, graphics and attribute controllers, the DAC, misc output and
 * status registers at 0x3b0-0x3df (mono / colour CRTC addressing by misc bit 0, CRTC write
 * protection); the 0xa0000-0xbffff window with its four memory maps, chain-4, odd/even and
 * planar access, write modes 0-3 (rotate, set/reset, logical function, bit mask, map mask),
 * read modes 0-1 and the latches; VBE with its banked window and the linear framebuffer in
 * BAR 0 (prefetchable, vgamem_mb, default 16 MiB); BAR 2 (4 KiB MMIO: no EDID, the VGA ports,
 * dispi, the extended registers reporting little-endian); the VGA BIOS (seabios'
 * vgabios-stdvga.bin, from -L or /usr/share/seabios) in the PCI ROM BAR. Rendering (text with
 * the font the BIOS loaded into plane 2, 16-colour planar, 256-colour chained / unchained,
 * VBE 8/15/16/24/32 bpp) is render.c's, on demand of the display's consumers.
 * Video RAM is guest memory where the hypervisor gives it (see "video RAM in the guest's
 * physical map" below), else hvmd's own with BAR 0 served as MMIO requests.
 * Left out: CGA 2-bpp and Hercules graphics, split screen (line compare), panning below a
 * byte, light pen, EDID, blinking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/display/vga.h"
#include "dm/config.h"
#include "dm/loop.h"
#include "firmware/rom.h"

#define VGA_DEVFN PCI_DEVFN(2, 0)
#define WINDOW_BASE 0xa0000
#define WINDOW_LEN 0x20000
#define BAR2_SIZE 0x1000
#define VGABIOS "vgabios-stdvga.bin"
#define VGABIOS_DIR "/usr/share/seabios"


static void vram_touched(struct vga *s, uint64_t off, uint64_t len);

/* ---- the registers behind 0x3c0-0x3df (offsets from 0x3c0; 0x3b4/0x3b5/0x3ba fold in) ---- */

static int mono(const struct vga *s) { return !(s->misc & 1); }

static uint8_t port_read(struct vga *s, unsigned port)
{
    /* the CRTC and status 1 answer only at the addresses misc selects */
    if ((port >= 0x3b0 && port < 0x3c0 && !mono(s)) || (port >= 0x3d0 && mono(s)))
        return 0xff;
    switch (port) {
    case 0x3c0: return s->ar_flip ? 0 : s->ar_index;
    case 0x3c1: return s->ar[s->ar_index & 0x1f];
    case 0x3c2: return 0;                   /* input status 0 */
    case 0x3c4: return s->sr_index;
    case 0x3c5: return s->sr[s->sr_index & 7];
    case 0x3c6: return s->pel_mask;
    case 0x3c7: return s->dac_state;
    case 0x3c8: return s->dac_write;
    case 0x3c9: {
        uint8_t v = s->palette[s->dac_read * 3 + s->dac_sub];
        if (++s->dac_sub == 3) {
            s->dac_sub = 0;
            s->dac_read++;
        }
        return v;
    }
    case 0x3ca: return s->fcr;
    case 0x3cc: return s->misc;
    case 0x3ce: return s->gr_index;
    case 0x3cf: return s->gr[s->gr_index & 15];
    case 0x3b4: case 0x3d4: return s->cr_index;
    case 0x3b5: case 0x3d5: return s->cr[s->cr_index];
    case 0x3ba: case 0x3da:
        /* display enable and vertical retrace toggle, so a poll for either ends at once */
        s->st01 ^= 0x09;
        s->ar_flip = 0;
        return s->st01;
    default: return 0xff;
    }
}

/* What the screen shows of the registers: a write that leaves them as they were (a BIOS
 * setting the cursor where it is, a register written in a loop) draws nothing again. */
struct shown {
    uint8_t misc, sr[8], gr[16], cr[256], ar[32], ar_on, pel_mask, palette[768];
};

static void shown_of(const struct vga *s, struct shown *w)
{
    w->misc = s->misc;
    memcpy(w->sr, s->sr, sizeof(w->sr));
    memcpy(w->gr, s->gr, sizeof(w->gr));
    memcpy(w->cr, s->cr, sizeof(w->cr));
    memcpy(w->ar, s->ar, sizeof(w->ar));
    w->ar_on = s->ar_index & 0x20;
    w->pel_mask = s->pel_mask;
    memcpy(w->palette, s->palette, sizeof(w->palette));
}

static void port_write(struct vga *s, unsigned port, uint8_t v)
{
    if ((port >= 0x3b0 && port < 0x3c0 && !mono(s)) || (port >= 0x3d0 && mono(s)))
        return;
    switch (port) {
    case 0x3c0:
        if (!s->ar_flip) {
            s->ar_index = v & 0x3f;
        } else {
            unsigned i = s->ar_index & 0x1f;
            if (i < 0x10)
                s->ar[i] = v & 0x3f;
            else if (i <= 0x14)
                s->ar[i] = i == 0x12 ? v & 0x3f : i == 0x13 ? v & 0x0f : i == 0x14 ? v & 0x0f : v;
        }
        s->ar_flip ^= 1;
        break;
    case 0x3c2: s->misc = v; break;
    case 0x3c4: s->sr_index = v & 7; break;
    case 0x3c5: s->sr[s->sr_index & 7] = v; break;
    case 0x3c6: s->pel_mask = v; break;
    case 0x3c7: s->dac_read = v; s->dac_sub = 0; s->dac_state = 3; break;
    case 0x3c8: s->dac_write = v; s->dac_sub = 0; s->dac_state = 0; break;
    case 0x3c9:
        s->dac_cache[s->dac_sub++] = v;
        if (s->dac_sub == 3) {
            memcpy(&s->palette[s->dac_write * 3], s->dac_cache, 3);
            s->dac_sub = 0;
            s->dac_write++;
        }
        break;
    case 0x3ce: s->gr_index = v & 15; break;
    case 0x3cf: s->gr[s->gr_index & 15] = v; break;
    case 0x3b4: case 0x3d4: s->cr_index = v; break;
    case 0x3b5: case 0x3d5:
        /* CR11 bit 7 protects CR0-7, but for CR7's line compare bit */
        if ((s->cr[0x11] & 0x80) && s->cr_index <= 7) {
            if (s->cr_index == 7)
                s->cr[7] = (uint8_t)((s->cr[7] & ~0x10) | (v & 0x10));
            break;
        }
        s->cr[s->cr_index] = v;
        break;
    case 0x3ba: case 0x3da: s->fcr = v & 0x10; break;
    default: break;
    }
}

static uint64_t ports_read(void *opaque, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)port_read(opaque, (unsigned)(0x3b0 + off + i)) << (8 * i);
    return v;
}

static void text_check(struct vga *s);

static void ports_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vga *s = opaque;
    struct shown before, after;
    shown_of(s, &before);
    for (unsigned i = 0; i < size; i++)
        port_write(opaque, (unsigned)(0x3b0 + off + i), (uint8_t)(val >> (8 * i)));
    shown_of(s, &after);
    if (memcmp(&before, &after, sizeof(before)))
        s->redraw = 1;
    text_check(opaque);
}

static const struct io_ops ports_ops = { .read = ports_read, .write = ports_write };

/* ---- Bochs VBE ---- */

static int vbe_on(const struct vga *s) { return s->vbe[VBE_ENABLE] & VBE_EN_ENABLED; }

static unsigned bytes_pp(unsigned bpp) { return (bpp + 7) / 8; }

/* Make the visible area fit in VRAM: virtual width at least the width, offsets inside. */
static void vbe_fixup(struct vga *s)
{
    unsigned bpp = s->vbe[VBE_BPP], xres = s->vbe[VBE_XRES], yres = s->vbe[VBE_YRES];
    unsigned bpp_b = bytes_pp(bpp == 4 ? 8 : bpp);
    if (xres < 8 || yres < 1 || !bpp) {
        log_guest(&s->rl, "vga", "VBE enabled with no mode set (%ux%ux%u): refused", xres, yres,
                  bpp);
        s->vbe[VBE_ENABLE] &= (uint16_t)~VBE_EN_ENABLED;
        return;
    }
    unsigned vw = s->vbe[VBE_VIRT_WIDTH];
    if (vw < xres)
        vw = xres;
    uint64_t line = (uint64_t)vw * bpp_b;
    if (bpp == 4)
        line = vw / 2;
    if (line == 0 || line * yres > s->vram_size) {
        vw = xres;
        line = (uint64_t)vw * bpp_b;
        if (line * yres > s->vram_size) { /* cannot show it: turn VBE off */
            log_guest(&s->rl, "vga", "VBE mode %ux%ux%u does not fit in %u MiB of video "
                      "memory: refused", xres, yres, bpp, s->vram_size >> 20);
            s->vbe[VBE_ENABLE] &= (uint16_t)~VBE_EN_ENABLED;
            return;
        }
    }
    unsigned vh = (unsigned)MIN((uint64_t)s->vram_size / line, (uint64_t)0xffff);
    unsigned xo = s->vbe[VBE_X_OFFSET], yo = s->vbe[VBE_Y_OFFSET];
    if (xo + xres > vw)
        xo = vw - xres;
    if (yo + yres > vh)
        yo = vh - yres;
    s->vbe[VBE_VIRT_WIDTH] = (uint16_t)vw;
    s->vbe[VBE_VIRT_HEIGHT] = (uint16_t)vh;
    s->vbe[VBE_X_OFFSET] = (uint16_t)xo;
    s->vbe[VBE_Y_OFFSET] = (uint16_t)yo;
    s->vbe_line = (uint32_t)line;
    s->vbe_start = (uint32_t)(yo * line + (uint64_t)xo * bpp_b);
}

static uint16_t vbe_read(struct vga *s)
{
    unsigned i = s->vbe_index;
    if (i >= VBE_NREGS)
        return 0;
    if (s->vbe[VBE_ENABLE] & VBE_EN_GETCAPS) {
        if (i == VBE_XRES)
            return VBE_MAX_XRES;
        if (i == VBE_YRES)
            return VBE_MAX_YRES;
        if (i == VBE_BPP)
            return 32;
    }
    return s->vbe[i];
}

static void vbe_write(struct vga *s, uint16_t v)
{
    unsigned i = s->vbe_index;
    switch (i) {
    case VBE_ID:
        if (v >= VBE_ID0 && v <= VBE_ID5)
            s->vbe[VBE_ID] = v;
        break;
    case VBE_XRES:
    case VBE_YRES:
    case VBE_BPP:
        if (vbe_on(s))
            break; /* as Bochs: the mode changes only while VBE is off */
        if (i == VBE_XRES && v >= 8 && v <= VBE_MAX_XRES && !(v & 7))
            s->vbe[i] = v;
        else if (i == VBE_YRES && v >= 1 && v <= VBE_MAX_YRES)
            s->vbe[i] = v;
        else if (i == VBE_BPP && (v == 0 || v == 4 || v == 8 || v == 15 || v == 16 || v == 24 ||
                                  v == 32))
            s->vbe[i] = v ? v : 8;
        else
            log_guest(&s->rl, "vga", "VBE register %u = %u refused", i, v);
        break;
    case VBE_BANK: {
        uint32_t banks = s->vram_size >> 16;
        s->vbe[VBE_BANK] = (uint16_t)(v & (banks - 1));
        s->bank_offset = (uint32_t)s->vbe[VBE_BANK] << 16;
        break;
    }
    case VBE_ENABLE:
        if ((v & VBE_EN_ENABLED) && !vbe_on(s)) {
            s->vbe[VBE_ENABLE] = v;
            s->vbe[VBE_VIRT_WIDTH] = s->vbe[VBE_XRES];
            s->vbe[VBE_X_OFFSET] = s->vbe[VBE_Y_OFFSET] = 0;
            s->bank_offset = 0;
            s->vbe[VBE_BANK] = 0;
            vbe_fixup(s);
            if (vbe_on(s) && !(v & VBE_EN_NOCLEARMEM)) {
                uint64_t n = MIN((uint64_t)s->vbe_line * s->vbe[VBE_YRES], (uint64_t)s->vram_size);
                memset(s->vram, 0, n);
                vram_touched(s, 0, n);
            }
            /* the VGA side as graphics with chain-4, as the BIOS leaves it for a VBE mode */
            s->gr[6] = (uint8_t)((s->gr[6] & ~0x0c) | 0x05);
            s->sr[4] |= 0x08;
        } else {
            s->vbe[VBE_ENABLE] = v;
            if (!(v & VBE_EN_ENABLED))
                s->bank_offset = 0;
        }
        break;
    case VBE_VIRT_WIDTH:
    case VBE_X_OFFSET:
    case VBE_Y_OFFSET:
        s->vbe[i] = v;
        if (vbe_on(s))
            vbe_fixup(s);
        break;
    default:
        break; /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
    }
}

static uint64_t vbe_ports_read(void *opaque, uint64_t off, unsigned size)
{
    struct vga *s = opaque;
    if (off == 0)
        return s->vbe_index & ones(size);
    return vbe_read(s) & ones(size); /* (a word at 0x1cf spans 0x1d0: one register) */
}

static void vbe_ports_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vga *s = opaque;
    s->redraw = 1;
    if (off == 0)
        s->vbe_index = (uint16_t)val;
    else if (size == 2 || off == 2)
        vbe_write(s, (uint16_t)val);
    /* a byte write to 0x1cf alone: ignored, as Bochs' data port takes words */
    text_check(s);
}

static const struct io_ops vbe_ops = { .read = vbe_ports_read, .write = vbe_ports_write };

/* ---- the text window in the guest's physical map ----
 * In a plain text mode (memory map B8000-BFFFF, odd/even addressing of planes 0 and 1, both
 * written) the window is a linear array: byte A of it is byte A / 2 of plane A & 1. Served
 * as requests, each character the guest writes is a round trip through Xen; so while that
 * mode holds, eight pages of guest memory (populated at create, parked after the video RAM,
 * where qemu-xen puts its next RAM block) are moved to B8000 holding the window's bytes,
 * and the guest writes its screen with no request at all. The renderer reads the cells from
 * them. A register write that ends the mode (another memory map, chain-4, planar, a plane
 * mask or read map that makes the linear view wrong, the VGA BIOS loading a font) moves the
 * pages out first and copies their bytes into the planes, so nothing is lost; they move in
 * again, planes copied into them, after the next window access the mode allows (lazily: a
 * mode set's intermediate register states cost nothing). Moving in happens from the loop,
 * never inside a request, with the domain held still and no vCPU's request in flight: a
 * vCPU whose emulated access to the window waits for hvmd re-executes it when answered, and
 * Xen crashes the domain if the window is RAM by then (seen: the VGA BIOS's rep stosw
 * clearing the screen). */

static int text_plain(const struct vga *s)
{
    return ((s->gr[6] >> 2) & 3) == 3 && !(s->sr[4] & 0x08) && (s->gr[5] & 0x10) &&
           !(s->gr[4] & 2) && (s->sr[2] & 3) == 3;
}

/* window byte A (0..VGA_TEXT_LEN) <-> plane-interleaved VRAM (window_writeb's odd/even) */
static uint64_t text_vram_off(uint32_t a) { return ((uint64_t)(a >> 1) << 2) | (a & 1); }

static void text_from_planes(struct vga *s)
{
    for (uint32_t a = 0; a < VGA_TEXT_LEN; a++)
        s->text[a] = s->vram[text_vram_off(a)];
}

static void text_to_planes(struct vga *s)
{
    for (uint32_t a = 0; a < VGA_TEXT_LEN; a++)
        s->vram[text_vram_off(a)] = s->text[a];
}

static void text_enter(struct vga *s)
{
    if (!s->text || s->text_in || !text_plain(s))
        return;
    text_from_planes(s);
    int r = s->base.vm->hv.ops->vram_move(s->base.vm->hv.be, s->text_park, VGA_TEXT_GFN,
                                          VGA_TEXT_PAGES);
    if (r < 0) { /* the window stays served by requests, for good */
        log_warn("vga: the text window cannot be guest memory (%s): every write to it is a "
                 "request", strerror(-r));
        s->base.vm->hv.ops->vram_free(s->base.vm->hv.be, s->text, VGA_TEXT_PAGES);
        s->text = NULL;
        return;
    }
    s->text_in = 1;
    if (!s->text_switches++)
        log_info("vga: the text window 0xb8000-0xbffff is guest memory now (a plain text mode)");
}

static void text_leave(struct vga *s)
{
    if (!s->text_in)
        return;
    /* out of the guest's reach first, then into the planes (a write racing from another
     * vCPU comes to hvmd as a request, after this) */
    int r = s->base.vm->hv.ops->vram_move(s->base.vm->hv.be, VGA_TEXT_GFN, s->text_park,
                                          VGA_TEXT_PAGES);
    text_to_planes(s);
    s->text_in = 0;
    s->text_switches++;
    s->redraw = 1;
    if (r < 0) { /* the pages stay at B8000, where hvmd no longer reads them */
        log_warn("vga: moving the text window's pages out: %s; the text window is stale "
                 "from now on", strerror(-r));
        s->text = NULL;
    }
}

/* from the loop: move the pages in, if the mode still allows it and the domain can be held
 * with no request in flight (else again a little later) */
static void text_enter_later(void *opaque)
{
    struct vga *s = opaque;
    const struct hv_ops *ops = s->base.vm->hv.ops;
    s->text_armed = 0;
    if (!s->text || s->text_in || !text_plain(s))
        return;
    int r = ops->hold ? ops->hold(s->base.vm->hv.be, 1) : -ENOSYS;
    if (r == -EAGAIN) {
        if (++s->text_tries < 100) { /* then again at the next window access */
            s->text_armed = 1;
            loop_timer_arm(s->text_timer, 1000000ull * MIN(s->text_tries, 20u));
        }
        return;
    }
    if (r < 0) {
        log_warn("vga: the text window stays served by requests: holding the domain: %s",
                 strerror(-r));
        s->base.vm->hv.ops->vram_free(s->base.vm->hv.be, s->text, VGA_TEXT_PAGES);
        s->text = NULL;
        return;
    }
    text_enter(s);
    ops->hold(s->base.vm->hv.be, 0);
    s->text_tries = 0;
}

/* after a register write: leave the text window if the mode no longer allows it */
static void text_check(struct vga *s)
{
    if (s->text_in && !text_plain(s))
        text_leave(s);
}

/* ---- the 0xa0000 window ---- */

/* The VRAM byte offset OFF of the window maps to (plane-interleaved), or -1 if the memory map
 * GR6 selects does not cover OFF. */
static int64_t window_base(const struct vga *s, uint64_t off)
{
    switch ((s->gr[6] >> 2) & 3) {
    case 0: return (int64_t)off;
    case 1: return off < 0x10000 ? (int64_t)(off + s->bank_offset) : -1;
    case 2: return off >= 0x10000 && off < 0x18000 ? (int64_t)(off - 0x10000) : -1;
    default: return off >= 0x18000 ? (int64_t)(off - 0x18000) : -1;
    }
}

static uint8_t window_readb(struct vga *s, uint64_t off)
{
    int64_t a = window_base(s, off);
    if (a < 0)
        return 0xff;
    if (s->sr[4] & 0x08) /* chain 4 */
        return (uint64_t)a < s->vram_size ? s->vram[a] : 0xff;
    if (s->gr[5] & 0x10) { /* odd/even */
        unsigned plane = (s->gr[4] & 2) | (unsigned)(a & 1);
        uint64_t o = ((uint64_t)(a & ~1) << 1) | plane;
        return o < s->vram_size ? s->vram[o] : 0xff;
    }
    uint64_t o = (uint64_t)a << 2;
    if (o + 4 > s->vram_size)
        return 0xff;
    memcpy(&s->latch, &s->vram[o], 4);
    if (!(s->gr[5] & 0x08)) /* read mode 0 */
        return (uint8_t)(s->latch >> (8 * (s->gr[4] & 3)));
    /* read mode 1: colour compare against GR2, planes chosen by GR7 */
    uint8_t r = 0xff;
    for (unsigned p = 0; p < 4; p++) {
        if (!(s->gr[7] & (1u << p)))
            continue;
        uint8_t plane = (uint8_t)(s->latch >> (8 * p));
        uint8_t want = (s->gr[2] & (1u << p)) ? 0xff : 0;
        r &= (uint8_t)~(plane ^ want);
    }
    return r;
}

static uint32_t expand4(unsigned bits) /* bit p -> 0xff in byte p */
{
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; p++)
        if (bits & (1u << p))
            v |= 0xffu << (8 * p);
    return v;
}

/* hvmd wrote [OFF, OFF+LEN) of video RAM that is guest memory: while a migration's dirty
 * log is on, Xen must send those pages again (the guest's own writes it sees itself). */
static void vram_touched(struct vga *s, uint64_t off, uint64_t len)
{
    struct vm *vm = s->base.vm;
    if (!s->vram_guest || len == 0 || off >= s->vram_size || !mem_dirty_log(vm->mem) ||
        !vm->hv.ops->modified_memory)
        return;
    uint64_t first = off >> 12, last = MIN(off + len - 1, (uint64_t)s->vram_size - 1) >> 12;
    if (vm->hv.ops->modified_memory(vm->hv.be, s->vram_gfn + first, (size_t)(last - first + 1)) < 0)
        log_guest(&s->rl, "vga", "marking video RAM modified for migration failed");
}

static void window_writeb(struct vga *s, uint64_t off, uint8_t v)
{
    int64_t a = window_base(s, off);
    if (a < 0)
        return;
    unsigned mask = s->sr[2] & 0xf;
    if (s->sr[4] & 0x08) { /* chain 4 */
        if ((uint64_t)a < s->vram_size && (vbe_on(s) || (mask & (1u << (a & 3))))) {
            s->vram[a] = v;
            vram_touched(s, (uint64_t)a, 1);
        }
        return;
    }
    if (s->gr[5] & 0x10) { /* odd/even */
        unsigned plane = (s->gr[4] & 2) | (unsigned)(a & 1);
        uint64_t o = ((uint64_t)(a & ~1) << 1) | plane;
        if (o < s->vram_size && (mask & (1u << plane))) {
            s->vram[o] = v;
            vram_touched(s, o, 1);
        }
        return;
    }
    uint64_t o = (uint64_t)a << 2;
    if (o + 4 > s->vram_size)
        return;
    unsigned mode = s->gr[5] & 3, rot = s->gr[3] & 7;
    uint32_t val, bitmask = s->gr[8];
    switch (mode) {
    case 0:
        v = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
        val = v * 0x01010101u;
        {
            uint32_t sr = expand4(s->gr[0]), en = expand4(s->gr[1]);
            val = (val & ~en) | (sr & en);
        }
        break;
    case 1:
        val = s->latch; /* write mode 1: the latches as they are */
        goto store;
    case 2:
        val = expand4(v & 0xf);
        break;
    default:
        v = (uint8_t)((v >> rot) | (v << ((8 - rot) & 7)));
        bitmask &= v;
        val = expand4(s->gr[0]);
        break;
    }
    switch ((s->gr[3] >> 3) & 3) { /* logical function with the latches */
    case 1: val &= s->latch; break;
    case 2: val |= s->latch; break;
    case 3: val ^= s->latch; break;
    default: break;
    }
    bitmask *= 0x01010101u;
    val = (val & bitmask) | (s->latch & ~bitmask);
store:;
    uint32_t pm = expand4(mask), cur;
    memcpy(&cur, &s->vram[o], 4);
    cur = (cur & ~pm) | (val & pm);
    memcpy(&s->vram[o], &cur, 4);
    vram_touched(s, o, 4);
}

#define TEXT_WINDOW 0x18000 /* B8000 in the window */

/* An access to the text window: served on its pages if they are in (1: a request queued
 * before they moved), else on the planes (0), the pages asked to move in soon if the mode
 * allows it. */
static int text_access(struct vga *s, uint64_t off, unsigned size)
{
    if (off < TEXT_WINDOW || off + size > TEXT_WINDOW + VGA_TEXT_LEN)
        return 0;
    if (s->text_in)
        return 1;
    if (s->text && s->text_timer && text_plain(s) && !s->text_armed) {
        s->text_tries = 0;
        s->text_armed = 1;
        loop_timer_arm(s->text_timer, 1000000); /* 1 ms: after this request's answer */
    }
    return 0;
}

static uint64_t window_read(void *opaque, uint64_t off, unsigned size)
{
    struct vga *s = opaque;
    uint64_t v = 0;
    if (text_access(s, off, size)) { /* (a request queued before the move, or Xen's) */
        memcpy(&v, &s->text[off - TEXT_WINDOW], size);
        return v;
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)window_readb(opaque, off + i) << (8 * i);
    return v;
}

static void window_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vga *s = opaque;
    s->redraw = 1;
    if (text_access(s, off, size)) {
        memcpy(&s->text[off - TEXT_WINDOW], &val, size);
        return;
    }
    for (unsigned i = 0; i < size; i++)
        window_writeb(opaque, off + i, (uint8_t)(val >> (8 * i)));
}

static const struct io_ops window_ops = { .read = window_read, .write = window_write };

/* The window as read mode 0 / odd-even / chain-4 would give it, with no latch load. */
int vga_peek_window(const struct vga *s, uint64_t off, void *buf, size_t len)
{
    uint8_t *b = buf;
    if (off > WINDOW_LEN || len > WINDOW_LEN - off)
        return -EFAULT;
    for (size_t i = 0; i < len; i++) {
        int64_t a = window_base(s, off + i);
        uint64_t o;
        if (s->text_in && off + i >= TEXT_WINDOW && off + i < TEXT_WINDOW + VGA_TEXT_LEN) {
            b[i] = s->text[off + i - TEXT_WINDOW];
            continue;
        }
        if (a < 0) {
            b[i] = 0xff;
            continue;
        }
        if (s->sr[4] & 0x08)
            o = (uint64_t)a;
        else if (s->gr[5] & 0x10)
            o = ((uint64_t)(a & ~1) << 1) | (s->gr[4] & 2) | (uint64_t)(a & 1);
        else
            o = ((uint64_t)a << 2) | (s->gr[4] & 3);
        b[i] = o < s->vram_size ? s->vram[o] : 0xff;
    }
    return 0;
}

/* ---- BARs ---- */

static uint64_t lfb_read(void *opaque, uint64_t off, unsigned size)
{
    struct vga *s = opaque;
    uint64_t v = 0;
    if (off + size <= s->vram_size)
        memcpy(&v, &s->vram[off], size);
    return v;
}

static void lfb_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vga *s = opaque;
    s->redraw = 1; /* not seen by Xen's dirty tracking */
    if (off + size <= s->vram_size) {
        memcpy(&s->vram[off], &val, size);
        vram_touched(s, off, size);
    }
}

static const struct io_ops lfb_ops = { .read = lfb_read, .write = lfb_write };

/* BAR 2: 0x000-0x3ff EDID (none: zeros), 0x400-0x41f the ports 0x3c0-0x3df, 0x500-0x515 the
 * dispi registers (index = offset / 2), 0x600 QEMU's extended registers (size, byte order). */
static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct vga *s = opaque;
    if (off >= 0x400 && off + size <= 0x420)
        return ports_read(s, off - 0x400 + 0x10, size);
    if (off >= 0x500 && off + size <= 0x500 + 2 * VBE_NREGS && size == 2 && !(off & 1)) {
        uint16_t save = s->vbe_index, v;
        s->vbe_index = (uint16_t)((off - 0x500) / 2);
        v = vbe_read(s);
        s->vbe_index = save;
        return v;
    }
    if (off == 0x600 && size == 4)
        return 8;          /* size of the extended register block */
    if (off == 0x604 && size == 4)
        return 0x1e1e1e1e; /* little endian framebuffer */
    return 0;
}

static void mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct vga *s = opaque;
    s->redraw = 1;
    if (off >= 0x400 && off + size <= 0x420) {
        ports_write(s, off - 0x400 + 0x10, size, val);
    } else if (off >= 0x500 && off + size <= 0x500 + 2 * VBE_NREGS && size == 2 && !(off & 1)) {
        uint16_t save = s->vbe_index;
        s->vbe_index = (uint16_t)((off - 0x500) / 2);
        vbe_write(s, (uint16_t)val);
        s->vbe_index = save;
        text_check(s);
    } else if (off == 0x604 && size == 4 && val != 0x1e1e1e1e) {
        log_guest(&s->rl, "vga", "big-endian framebuffer asked for: not supported");
    }
}

static const struct io_ops mmio_ops = { .read = mmio_read, .write = mmio_write };


/* ---- video RAM in the guest's physical map ----
 * As qemu-xen does: the pages are the domain's (populated at create, parked just above its
 * RAM, where qemu-xen parks them), mapped into hvmd for good, and moved in the guest's
 * physical map to wherever BAR 0 decodes, so the guest reads and writes its framebuffer
 * with no request to hvmd; Xen's dirty-VRAM tracking tells the renderer which pages changed.
 * BAR 0 is followed only into the PCI hole (above RAM, below 0xfc000000, where the I/O APIC,
 * HPET, LAPIC, Xen's special pages and the BIOS are); anywhere else (a sizing probe left
 * decoding, a hostile guest) the pages go back to where they were parked, and accesses there
 * come to hvmd as requests on the same memory. */

static void follow_bar(struct vga *s)
{
    if (!s->vram_guest)
        return;
    /* where BAR 0 decodes, read from config space as dm/pci.c decodes it (the hook runs
     * before pci.c moves the BAR's region) */
    const struct pci_dev *d = s->base.pci;
    uint64_t a = (pci_get16(d, PCI_COMMAND) & PCI_COMMAND_MEMORY) ? pci_get32(d, PCI_BAR0) & ~0xfu : 0;
    uint64_t n = s->vram_size >> 12, want = s->park_gfn;
    if (a && (a >> 12) >= s->lowmem_end >> 12 && (a >> 12) + n <= s->hole_end &&
        !(s->text && (a >> 12) < s->text_park + VGA_TEXT_PAGES && s->text_park < (a >> 12) + n))
        want = a >> 12; /* (never over the text window's parked pages) */
    if (want == s->vram_gfn)
        return;
    int r = s->base.vm->hv.ops->vram_move(s->base.vm->hv.be, s->vram_gfn, want, n);
    if (r < 0) {
        log_guest(&s->rl, "vga", "moving video RAM from %#llx to %#llx: %s",
                  (unsigned long long)s->vram_gfn << 12, (unsigned long long)want << 12,
                  strerror(-r));
        return;
    }
    /* a guest's PCI code turns decoding off and on around sizing: say only new places */
    if (want != s->park_gfn && want != s->logged_gfn) {
        log_info("vga: video RAM at %#llx (BAR 0)", (unsigned long long)want << 12);
        s->logged_gfn = want;
    }
    s->vram_gfn = want;
    s->redraw = 1;
}

static void vga_cfg_write(void *opaque, struct pci_dev *d, unsigned reg, unsigned size,
                          uint32_t val)
{
    if (reg < PCI_BAR0 + 4 && reg + size > PCI_COMMAND)
        follow_bar(opaque);
}

static const struct pci_dev_ops vga_pci_ops = { .cfg_write = vga_cfg_write };

/* Which pages of [OFF, OFF+LEN) of video RAM the guest wrote since the last call: fills
 * s->dirty for those pages (bit i: page OFF/4096 + i). 0, or -1 if unknown (all dirty). */
int vga_dirty_pages(struct vga *s, uint32_t off, uint32_t len)
{
    if (!s->vram_guest || s->vram_gfn == s->park_gfn || len == 0)
        return -1;
    uint64_t first = off >> 12, last = ((uint64_t)off + len - 1) >> 12;
    if (last >= s->vram_size >> 12)
        return -1;
    s->dirty_queries++;
    return s->base.vm->hv.ops->vram_dirty(s->base.vm->hv.be, s->vram_gfn + first,
                                          (size_t)(last - first + 1), s->dirty) < 0 ? -1 : 0;
}

/* ---- the display's view ---- */

static void adapter_refresh(void *opaque) { vga_render(opaque); }
static int adapter_text(void *opaque, struct display_text *t) { return vga_text(opaque, t); }
static int adapter_read_legacy(void *opaque, uint64_t gpa, void *buf, size_t len)
{
    if (gpa < WINDOW_BASE)
        return -EFAULT;
    return vga_peek_window(opaque, gpa - WINDOW_BASE, buf, len);
}

static const struct display_adapter_ops adapter_ops = {
    .refresh = adapter_refresh, .text = adapter_text, .read_legacy = adapter_read_legacy,
};

/* ---- state (DESIGN.md rule 10) ---- */

/* -incoming: swap the placeholder for the domain's own video RAM pages at frame GFN (Xen's
 * memory stream restored them; populating new ones would take them twice). 0 or -errno. */
static int vram_adopt(struct vga *s, uint64_t gfn)
{
    struct vm *vm = s->base.vm;
    size_t n = s->vram_size >> 12;
    void *va;
    int *err = calloc(n, sizeof(*err));
    if (!err)
        return -ENOMEM;
    int r = vm->hv.ops->map_gfn(vm->hv.be, gfn, n, &va, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (err[i]) {
            vm->hv.ops->unmap_gfn(vm->hv.be, va, n);
            r = err[i];
        }
    free(err);
    if (r < 0)
        return r;
    munmap(s->vram, s->vram_size);
    s->vram = va;
    s->vram_guest = 1;
    s->vram_incoming = 0;
    s->vram_gfn = gfn;
    log_info("vga: video RAM restored by Xen at %#llx, mapped", (unsigned long long)gfn << 12);
    return 0;
}

/* Everything the guest sees, video memory included (a guest's screen, and the font the BIOS
 * loaded, live only there). The renderer's scratch and the ROM (host configuration) are not
 * state. */
static int vga_save(void *state, struct snap_writer *w)
{
    struct vga *s = state;
    if (s->text_in) /* the planes as the guest would see them */
        text_to_planes(s);
    pci_dev_save(s->base.pci, w);
    snap_put_u8(w, "misc", s->misc);
    snap_put_u8(w, "fcr", s->fcr);
    snap_put_u8(w, "sr_index", s->sr_index);
    snap_put_bytes(w, "sr", s->sr, sizeof(s->sr));
    snap_put_u8(w, "gr_index", s->gr_index);
    snap_put_bytes(w, "gr", s->gr, sizeof(s->gr));
    snap_put_u8(w, "cr_index", s->cr_index);
    snap_put_bytes(w, "cr", s->cr, sizeof(s->cr));
    snap_put_u8(w, "ar_index", s->ar_index);
    snap_put_bytes(w, "ar", s->ar, sizeof(s->ar));
    snap_put_u8(w, "ar_flip", s->ar_flip);
    snap_put_u8(w, "st01", s->st01);
    snap_put_u8(w, "dac_read", s->dac_read);
    snap_put_u8(w, "dac_write", s->dac_write);
    snap_put_u8(w, "dac_sub", s->dac_sub);
    snap_put_u8(w, "dac_state", s->dac_state);
    snap_put_u8(w, "pel_mask", s->pel_mask);
    snap_put_bytes(w, "dac_cache", s->dac_cache, sizeof(s->dac_cache));
    snap_put_bytes(w, "palette", s->palette, sizeof(s->palette));
    snap_put_u32(w, "latch", s->latch);
    snap_put_u16(w, "vbe_index", s->vbe_index);
    for (unsigned i = 0; i < VBE_NREGS; i++) {
        char n[16];
        snprintf(n, sizeof(n), "vbe%u", i);
        snap_put_u16(w, n, s->vbe[i]);
    }
    snap_put_u32(w, "vram_size", s->vram_size);
    /* video RAM that is guest memory goes with the guest's memory (Xen's stream, as under
     * qemu-xen): the stream says where it is; hvmd's own goes here */
    snap_put_bool(w, "vram_guest", s->vram_guest);
    snap_put_u64(w, "vram_gfn", s->vram_guest ? s->vram_gfn : 0);
    snap_put_bytes(w, "vram", s->vram, s->vram_guest ? 0 : s->vram_size);
    /* the text window's pages go with the guest's memory too: where they are (0 hvmd has
     * none, 1 parked after the video RAM, 2 at 0xb8000) */
    snap_put_u8(w, "text_at", !s->text ? 0 : s->text_in ? 2 : 1);
    return 0;
}

/* Restoring: the text window's pages came back with the domain's memory, where the saved hvmd
 * had them (AT: 1 parked after the video RAM, 2 at 0xb8000): map them there, so that hvmd
 * reads the screen the guest writes (at 0xb8000 the planes from the stream hold the same). */
static void text_adopt(struct vga *s, uint8_t at)
{
    struct vm *vm = s->base.vm;
    uint64_t park = s->park_gfn + (s->vram_size >> 12), gfn = at == 2 ? VGA_TEXT_GFN : park;
    int err[VGA_TEXT_PAGES];
    void *va;
    int r = vm->hv.ops->map_gfn(vm->hv.be, gfn, VGA_TEXT_PAGES, &va, err);
    for (unsigned i = 0; r == 0 && i < VGA_TEXT_PAGES; i++)
        if (err[i]) {
            vm->hv.ops->unmap_gfn(vm->hv.be, va, VGA_TEXT_PAGES);
            r = err[i];
        }
    if (r < 0) {
        log_warn("vga: the restored text window's pages at %#llx: %s; %s",
                 (unsigned long long)gfn << 12, strerror(-r),
                 at == 2 ? "the screen hvmd shows is stale until the mode changes"
                         : "the text window is served by requests");
        return;
    }
    s->text = va;
    s->text_park = park;
    s->text_in = at == 2;
    if (vm->loop && !s->text_timer && !(s->text_timer = loop_timer_new(vm->loop, text_enter_later, s)))
        log_warn("vga: no timer for the text window: it stays as it is");
    log_info("vga: the text window's pages restored by Xen at %#llx, mapped",
             (unsigned long long)gfn << 12);
}

static int vga_load(void *state, struct snap_reader *r, int commit)
{
    struct vga *s = state;
    struct pci_dev_state pci;
    struct vga *t = calloc(1, sizeof(*t));
    uint32_t vram_size;
    int rc = -EINVAL;
    if (!t)
        return -ENOMEM;
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u8(r, "misc", &t->misc) < 0 ||
        snap_get_u8(r, "fcr", &t->fcr) < 0 || snap_get_u8_in(r, "sr_index", &t->sr_index, 0, 7) < 0 ||
        snap_get_bytes(r, "sr", t->sr, sizeof(t->sr)) < 0 ||
        snap_get_u8_in(r, "gr_index", &t->gr_index, 0, 15) < 0 ||
        snap_get_bytes(r, "gr", t->gr, sizeof(t->gr)) < 0 ||
        snap_get_u8(r, "cr_index", &t->cr_index) < 0 ||
        snap_get_bytes(r, "cr", t->cr, sizeof(t->cr)) < 0 ||
        snap_get_u8_in(r, "ar_index", &t->ar_index, 0, 0x3f) < 0 ||
        snap_get_bytes(r, "ar", t->ar, sizeof(t->ar)) < 0 ||
        snap_get_u8_in(r, "ar_flip", &t->ar_flip, 0, 1) < 0 ||
        snap_get_u8(r, "st01", &t->st01) < 0 || snap_get_u8(r, "dac_read", &t->dac_read) < 0 ||
        snap_get_u8(r, "dac_write", &t->dac_write) < 0 ||
        snap_get_u8_in(r, "dac_sub", &t->dac_sub, 0, 2) < 0 ||
        snap_get_u8(r, "dac_state", &t->dac_state) < 0 ||
        snap_get_u8(r, "pel_mask", &t->pel_mask) < 0 ||
        snap_get_bytes(r, "dac_cache", t->dac_cache, sizeof(t->dac_cache)) < 0 ||
        snap_get_bytes(r, "palette", t->palette, sizeof(t->palette)) < 0 ||
        snap_get_u32(r, "latch", &t->latch) < 0 || snap_get_u16(r, "vbe_index", &t->vbe_index) < 0)
        goto out;
    for (unsigned i = 0; i < VBE_NREGS; i++) {
        char n[16];
        snprintf(n, sizeof(n), "vbe%u", i);
        if (snap_get_u16(r, n, &t->vbe[i]) < 0)
            goto out;
    }
    int vguest;
    uint64_t vgfn;
    if (snap_get_u32_in(r, "vram_size", &vram_size, s->vram_size, s->vram_size) < 0 ||
        snap_get_bool(r, "vram_guest", &vguest) < 0 || snap_get_u64(r, "vram_gfn", &vgfn) < 0)
        goto out;
    /* guest memory in the stream: at the park or inside the PCI hole, as follow_bar puts it;
     * this hvmd must have (or, restoring, map) the domain's pages */
    if (vguest && (snap_check(r, vgfn == s->park_gfn || (vgfn >= s->lowmem_end >> 12 &&
                                                         vgfn + (s->vram_size >> 12) <= s->hole_end),
                              "vram_gfn", "%#llx: neither the park nor inside the PCI hole",
                              (unsigned long long)vgfn) < 0 ||
                   snap_check(r, s->vram_guest || s->vram_incoming, "vram_guest",
                              "video RAM was guest memory; this hvmd keeps its own") < 0))
        goto out;

    /* VBE: the same checks a guest's writes get */
    if (t->vbe[VBE_XRES] > VBE_MAX_XRES || t->vbe[VBE_YRES] > VBE_MAX_YRES ||
        (t->vbe[VBE_BPP] != 4 && t->vbe[VBE_BPP] != 8 && t->vbe[VBE_BPP] != 15 &&
         t->vbe[VBE_BPP] != 16 && t->vbe[VBE_BPP] != 24 && t->vbe[VBE_BPP] != 32) ||
        t->vbe[VBE_BANK] >= (s->vram_size >> 16) ||
        t->vbe[VBE_VIDEO_MEMORY_64K] != (s->vram_size >> 16) ||
        (t->vbe[VBE_ID] < VBE_ID0 || t->vbe[VBE_ID] > VBE_ID5)) {
        rc = snap_fail(r, "vbe0", "VBE registers out of range or not this machine's");
        goto out;
    }
    size_t vbytes = vguest ? 0 : s->vram_size;
    uint8_t text_at;
    if (!commit) { /* check the VRAM field, into scratch pages */
        if (!vbytes) {
            uint8_t none;
            rc = snap_get_bytes(r, "vram", &none, 0) < 0 ||
                 snap_get_u8_in(r, "text_at", &text_at, 0, vguest ? 2 : 0) < 0 ? -EINVAL : 0;
            goto out;
        }
        void *scratch = mmap(NULL, vbytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (scratch == MAP_FAILED) {
            rc = -ENOMEM;
            goto out;
        }
        rc = snap_get_bytes(r, "vram", scratch, vbytes) < 0 ||
             snap_get_u8_in(r, "text_at", &text_at, 0, vguest ? 2 : 0) < 0 ? -EINVAL : 0;
        munmap(scratch, vbytes);
        goto out;
    }
    text_leave(s); /* the loaded planes are the truth; the pages move in again lazily */
    if (vguest && s->vram_incoming) {
        /* the domain's video RAM pages, restored by Xen at VGFN: map them (not populate) */
        if (vram_adopt(s, vgfn) < 0) {
            rc = snap_fail(r, "vram_gfn", "mapping the restored video RAM at %#llx failed",
                           (unsigned long long)vgfn << 12);
            goto out;
        }
    } else if (!vguest && s->vram_incoming) {
        s->vram_incoming = 0; /* hvmd kept it when saved: the placeholder is its own now */
    } else if (vguest && vgfn != s->vram_gfn) {
        /* the same domain's pages (xen-load-devices-state): where the stream had them */
        if (s->base.vm->hv.ops->vram_move(s->base.vm->hv.be, s->vram_gfn, vgfn,
                                          s->vram_size >> 12) == 0)
            s->vram_gfn = vgfn;
    }
    uint8_t none;
    if (snap_get_bytes(r, "vram", vbytes ? s->vram : &none, vbytes) < 0 ||
        snap_get_u8_in(r, "text_at", &text_at, 0, vguest ? 2 : 0) < 0)
        goto out;
    if (text_at && vguest && s->vram_guest && !s->text)
        text_adopt(s, text_at); /* restoring (-incoming): the pages are the domain's already */
    pci_dev_commit(s->base.pci, &pci);
    follow_bar(s);
    s->redraw = 1;
    memcpy(&s->misc, &t->misc, offsetof(struct vga, line) - offsetof(struct vga, misc));
    s->vram_size = vram_size;
    s->bank_offset = (uint32_t)s->vbe[VBE_BANK] << 16;
    if (vbe_on(s)) {
        if (s->vbe[VBE_XRES] < 8 || s->vbe[VBE_YRES] < 1)
            s->vbe[VBE_ENABLE] &= (uint16_t)~VBE_EN_ENABLED;
        else
            vbe_fixup(s);
    }
    /* in a plain text mode the pages move in without waiting for a request: a domain restored
     * with RAM at 0xb8000 (the pages travelled with its memory) would make none, and hvmd
     * would not see its screen (they replace that RAM, the screen coming from the planes) */
    if (s->text && s->text_timer && text_plain(s) && !s->text_armed) {
        s->text_armed = 1;
        s->text_tries = 0;
        loop_timer_arm(s->text_timer, 1000000);
    }
    rc = 0;
out:
    free(t);
    return rc;
}

static void vga_reset(void *state)
{
    struct vga *s = state;
    text_leave(s);
    memset(&s->misc, 0, offsetof(struct vga, line) - offsetof(struct vga, misc));
    s->vbe[VBE_ID] = VBE_ID5;
    s->vbe[VBE_BPP] = 8;
    s->vbe[VBE_VIDEO_MEMORY_64K] = (uint16_t)(s->vram_size >> 16);
    s->pel_mask = 0xff;
}

static void vga_destroy(void *state)
{
    struct vga *s = state;
    if (!s)
        return;
    if (s->disp)
        display_free(s->disp);
    if (s->window)
        bus_del(s->base.vm->bus, s->window);
    free(s->text_seen);
    if (s->text_timer)
        loop_timer_free(s->text_timer);
    if (s->text)
        s->base.vm->hv.ops->vram_free(s->base.vm->hv.be, s->text, VGA_TEXT_PAGES);
    if (s->vram && s->vram_guest)
        s->base.vm->hv.ops->vram_free(s->base.vm->hv.be, s->vram, s->vram_size >> 12);
    else if (s->vram)
        munmap(s->vram, s->vram_size);
    blob_free(&s->rom);
    dev_free(s);
}

static int vga_create(struct vm *vm, void **state)
{
    struct config *cfg = vm->cfg;
    struct cfg_opt *o = NULL;
    uint64_t mb = 16;
    int cirrus = 0;

    *state = NULL;
    if (cfg) {
        o = cfg_device(cfg, "VGA", 0);
        if (!o && (o = cfg_device(cfg, "cirrus-vga", 0)))
            cirrus = 1;
        if (!o && !cfg->vga_std)
            return 0;
        if (o) {
            o->claimed = 1;
            const char *m = cfg_get(o, "vgamem_mb");
            if (m) {
                char *end;
                mb = strtoull(m, &end, 0);
                if (*end || mb < 1 || mb > 256) {
                    log_err("-device %s: vgamem_mb=%s: hvmd takes 1-256", o->raw, m);
                    return -EINVAL;
                }
            }
        }
    }
    while (mb & (mb - 1))
        mb++;
    if (cirrus)
        log_info("-device %s: hvmd serves the standard VGA (1234:1111, Bochs VBE) for a Cirrus "
                 "request; it does not emulate Cirrus", o->raw);

    struct vga *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    blob_init(&s->rom);
    s->vram_size = (uint32_t)(mb << 20);
    uint64_t low = 0xf0000000ull, high = 0;
    if (cfg && cfg->mem_mb)
        cfg_ram_layout(cfg, &low, &high);
    s->lowmem_end = low;
    s->hole_end = 0xfc000000ull >> 12;
    /* parked where qemu-xen parks it: right after the guest's RAM in QEMU's RAM space */
    s->park_gfn = (high > MEM_4G ? high : low) >> 12;
    s->vram_gfn = s->park_gfn;
    void *va = NULL;
    int incoming = cfg && cfg->incoming;
    int vr = incoming ? -EAGAIN
             : vm->hv.ops->vram_alloc ? vm->hv.ops->vram_alloc(vm->hv.be, s->park_gfn,
                                                                s->vram_size >> 12, &va)
                                      : -ENOSYS;
    if (incoming) {
        /* restoring: the domain has its video RAM pages already; the load maps them */
        s->vram = mmap(NULL, s->vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (s->vram == MAP_FAILED) {
            s->vram = NULL;
            return dev_created(state, s, -ENOMEM, vga_destroy);
        }
        s->vram_incoming = 1;
    } else if (vr == 0) {
        s->vram = va;
        s->vram_guest = 1;
        /* the text window's pages, parked right after the video RAM */
        s->text_park = s->park_gfn + (s->vram_size >> 12);
        int tr = vm->hv.ops->vram_alloc(vm->hv.be, s->text_park, VGA_TEXT_PAGES, &va);
        if (tr == 0)
            s->text = va;
        else
            log_warn("vga: the text window cannot be guest memory (%s): every write to it is "
                     "a request", strerror(-tr));
        if (s->text && vm->loop && !(s->text_timer = loop_timer_new(vm->loop, text_enter_later, s)))
            log_warn("vga: no timer for the text window: it stays served by requests");
    } else {
        log_warn("vga: video RAM cannot be guest memory (%s): hvmd keeps it, and every guest "
                 "access to the framebuffer is a request", strerror(-vr));
        s->vram = mmap(NULL, s->vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (s->vram == MAP_FAILED) {
            s->vram = NULL;
            return dev_created(state, s, -ENOMEM, vga_destroy);
        }
    }
    vga_reset(s);
    s->redraw = 1;
    /* the VGA BIOS: -L DIR's, else the default directory's, else seabios' own directory */
    rom_find(&s->rom, cfg ? cfg->fw_dir : NULL, VGABIOS, VGABIOS_DIR, "vga",
             "the guest runs without a VGA BIOS (no text until its own driver)");

    struct pci_dev *d = pci_dev_new(vm->pci, VGA_DEVFN, "vga", 0x1234, 0x1111, 0x030000, 2,
                                    &vga_pci_ops, s);
    if (!d)
        return dev_created(state, s, -ENOMEM, vga_destroy);
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4); /* as QEMU's VGA */
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x1100);
    int r = pci_bar_init(d, 0, PCI_BAR_MEM32_PREF, s->vram_size, &lfb_ops, s);
    if (r == 0)
        r = pci_bar_init(d, 2, PCI_BAR_MEM32, BAR2_SIZE, &mmio_ops, s);
    if (r == 0)
        r = pci_rom_init(d, s->rom.data, s->rom.len);
    if (r < 0)
        pci_dev_del(d);
    else
        r = dev_add_pci(s, d);
    if (r == 0)
        r = dev_add_pio(s, "vga", 0x3b0, 0x30, &ports_ops, s);
    if (r == 0)
        r = dev_add_pio(s, "vbe", 0x1ce, 3, &vbe_ops, s); /* 0x1cf and 0x1d0: data, as QEMU */
    if (r == 0)
        r = bus_add_mmio(vm->bus, "vga-window", WINDOW_BASE, WINDOW_LEN, &window_ops, s,
                         &s->window);
    if (r == 0)
        r = display_new(vm, &adapter_ops, s) < 0 ? -EBUSY : 0;
    if (r == 0)
        s->disp = display_of(vm);
    if (r == 0)
        log_info("vga: standard VGA at 00:02.0, %u MiB video memory (%s), VGA BIOS %s",
                 s->vram_size >> 20, s->vram_guest ? "guest memory, parked above its RAM" :
                 "in hvmd", s->rom.len ? "in the ROM BAR" : "missing");
    return dev_created(state, s, r, vga_destroy);
}

DEVICE(dev_vga, "vga", 3, vga_create, vga_destroy, vga_save, vga_load, .reset = vga_reset);

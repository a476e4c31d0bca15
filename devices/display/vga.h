/* SPDX-License-Identifier: GPL-2.0-only */
/* The standard VGA's state, shared by its register file (vga.c) and its renderer (render.c).
 * Video memory is kept as QEMU and real planar hardware address it: byte B of plane P at
 * vram[B * 4 + P], so chain-4 (mode 13h) and the linear framebuffer (VBE) see it as one linear
 * array, and the planar modes see four planes. */
#ifndef HVMD_DEVICES_DISPLAY_VGA_H
#define HVMD_DEVICES_DISPLAY_VGA_H

#include <stddef.h>
#include <stdint.h>
#include "dm/device.h"
#include "dm/display.h"
#include "dm/log.h"
#include "firmware/blob.h"

/* Bochs VBE (dispi) registers, as Bochs' and QEMU's vbe.h number them */
#define VBE_ID 0
#define VBE_XRES 1
#define VBE_YRES 2
#define VBE_BPP 3
#define VBE_ENABLE 4
#define VBE_BANK 5
#define VBE_VIRT_WIDTH 6
#define VBE_VIRT_HEIGHT 7
#define VBE_X_OFFSET 8
#define VBE_Y_OFFSET 9
#define VBE_VIDEO_MEMORY_64K 10
#define VBE_NREGS 11
#define VBE_ID0 0xb0c0
#define VBE_ID5 0xb0c5
#define VBE_EN_ENABLED 0x01
#define VBE_EN_GETCAPS 0x02
#define VBE_EN_8BIT_DAC 0x20
#define VBE_EN_LFB 0x40
#define VBE_EN_NOCLEARMEM 0x80
#define VBE_MAX_XRES DISPLAY_MAX_WIDTH
#define VBE_MAX_YRES DISPLAY_MAX_HEIGHT

struct vga {
    struct dev_base base;          /* ports 0x3b0-0x3df, 0x1ce-0x1cf; function 00:02.0 */
    struct io_region *window;      /* 0xa0000-0xbffff */
    struct display *disp;
    uint8_t *vram;                 /* vram_size bytes, mmap'ed (pages untouched stay free) */
    uint32_t vram_size;            /* a power of two, 1-256 MiB */
    int vram_guest;                /* vram is guest memory (hv vram_alloc), else hvmd's own */
    int vram_incoming;             /* -incoming: vram is a placeholder until the load maps the
                                      guest's pages (restored by Xen's memory stream) */
    uint64_t park_gfn;             /* where the video RAM sits while BAR 0 does not decode */
    uint64_t vram_gfn;             /* where it sits now */
    uint64_t logged_gfn;           /* the BAR 0 place last logged */
    uint64_t hole_end;             /* BAR 0 may take guest frames [lowmem_end, hole_end) */
    uint64_t lowmem_end;
    int redraw;                    /* registers or hvmd-side video memory changed: draw all */
    uint8_t dirty[(256u << 20) / 4096 / 8]; /* the last dirty-VRAM bitmap */
    uint64_t dirty_queries, lines_skipped;
    struct blob rom;               /* the VGA BIOS for the ROM BAR, or empty */
    struct ratelimit rl;
    /* the text window B8000-BFFFF as guest memory while the adapter is in plain text mode
     * (vga.c: "the text window in the guest's physical map") */
    uint8_t *text;                 /* its 32 KiB as the guest addresses it, or NULL: none */
    uint64_t text_park;            /* where its pages sit while out of the window */
    int text_in;                   /* they are at B8000: the guest writes them, not the planes */
    uint64_t text_switches;        /* moves in and out */
    struct loop_timer *text_timer; /* moves them in, from the loop (never inside a request) */
    unsigned text_tries;           /* holds refused (a vCPU's request in flight) since asked */
    int text_armed;                /* text_timer is armed */
    uint16_t *text_seen;           /* the cells last drawn (render.c: nothing changed, no draw) */
    unsigned text_seen_n;

    /* legacy registers */
    uint8_t misc, fcr;
    uint8_t sr_index, sr[8];
    uint8_t gr_index, gr[16];
    uint8_t cr_index, cr[256];
    uint8_t ar_index, ar[32];      /* ar_index bit 5: palette address source (display on) */
    uint8_t ar_flip;               /* 0: next 0x3c0 write is an index, 1: data */
    uint8_t st01;                  /* retrace bits, toggled on each read of status 1 */
    uint8_t dac_read, dac_write, dac_sub, dac_state, pel_mask;
    uint8_t dac_cache[3];
    uint8_t palette[768];          /* 6 bits per component (8 with VBE's 8-bit DAC) */
    uint32_t latch;

    /* Bochs VBE */
    uint16_t vbe_index;
    uint16_t vbe[VBE_NREGS];
    uint32_t vbe_start;            /* byte offset of the first visible pixel */
    uint32_t vbe_line;             /* bytes per line */
    uint32_t bank_offset;          /* the 64 KiB window's start in VRAM (VBE bank) */

    /* the renderer's scratch: one line of pixels */
    uint32_t line[DISPLAY_MAX_WIDTH];
    unsigned cursor_blink;
};

/* the text window's pages (vga.c) */
#define VGA_TEXT_GFN 0xb8
#define VGA_TEXT_PAGES 8
#define VGA_TEXT_LEN (VGA_TEXT_PAGES * 4096)

/* render.c */
void vga_render(struct vga *s);
int vga_text(struct vga *s, struct display_text *t);
/* The 0xa0000 window as the guest reads it, without side effects (no latch load): 0 or
 * -EFAULT. */
/* vga.c: dirty pages of video RAM (see there) */
int vga_dirty_pages(struct vga *s, uint32_t off, uint32_t len);
int vga_peek_window(const struct vga *s, uint64_t off, void *buf, size_t len);

#endif

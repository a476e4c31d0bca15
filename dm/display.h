/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's screen, between the one display adapter that draws it (devices/display/) and the
 * consumers that show or keep it (the VNC server, QMP screendump, the text screen hvmctl run
 * reads). The adapter renders into a surface the display owns, in one pixel format; consumers
 * ask for a refresh when they want fresh pixels (the VNC server on its own timer while a client
 * watches, screendump once), so an unwatched guest costs nothing. Everything runs on the loop's
 * thread. */
#ifndef HVMD_DISPLAY_H
#define HVMD_DISPLAY_H
#include <stddef.h>
#include <stdint.h>
#include "dm/util.h"

struct vm;
struct display;

#define DISPLAY_MAX_WIDTH 2560
#define DISPLAY_MAX_HEIGHT 1600

/* Pixels are 32 bits, 0x00RRGGBB in host order (little endian: B, G, R, X in memory), rows
 * STRIDE bytes apart. The surface is valid until the next display_resize or display_free. */
struct display_surface {
    unsigned width, height, stride;
    uint32_t *pixels;
};

/* What a text mode shows, for consumers that want characters rather than pixels (hvmctl run's
 * text screen, HMP). CELLS holds COLS*ROWS entries, character in the low byte (code page 437),
 * attribute in the high byte, as at 0xb8000. */
#define DISPLAY_TEXT_MAX_CELLS (132 * 60)
struct display_text {
    unsigned cols, rows;
    unsigned cursor_col, cursor_row;
    int cursor_visible;
    uint16_t cells[DISPLAY_TEXT_MAX_CELLS];
};

/* What the adapter provides. */
struct display_adapter_ops {
    /* Bring the surface up to date with the guest's video memory and registers, calling
     * display_resize if the mode changed and display_damage for what changed. */
    void (*refresh)(void *adapter);
    /* Fill T if the adapter is in a text mode: 0, or -ENOTSUP in a graphics mode. */
    int (*text)(void *adapter, struct display_text *t);
    /* Optional: read LEN bytes of the legacy window at guest-physical GPA (0xa0000-0xbffff)
     * as the guest would see them (HMP xp on 0xb8000 when that is the adapter's, not RAM).
     * 0 or -EFAULT. */
    int (*read_legacy)(void *adapter, uint64_t gpa, void *buf, size_t len);
};

/* What a consumer is told. Every callback is optional. */
struct display_listener {
    /* The surface changed size or was reallocated: everything is new. */
    void (*resize)(void *opaque, const struct display_surface *s);
    /* The rectangle changed (already clipped to the surface). */
    void (*damage)(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h);
    void *opaque;
};

/* ---- the adapter's side ---- */
/* Make VM's display, drawn by OPS on ADAPTER (one per vm; -EBUSY for a second). The surface
 * starts at 640x480, black. */
int display_new(struct vm *vm, const struct display_adapter_ops *ops, void *adapter) WUR;
void display_free(struct display *d);
/* A surface of W x H (clamped to 1..DISPLAY_MAX_*); returns it, its pixels zeroed if the size
 * changed (then every listener's resize runs), or NULL if out of memory (the old one stays). */
struct display_surface *display_resize(struct display *d, unsigned w, unsigned h);
/* Pixels in the rectangle changed: tell the listeners (clipped; empty rectangles ignored). */
void display_damage(struct display *d, unsigned x, unsigned y, unsigned w, unsigned h);

/* ---- the consumers' side ---- */
/* VM's display, or NULL if the guest has none (vga="none"). */
struct display *display_of(const struct vm *vm);
/* Ask the adapter to refresh; returns the surface (never NULL once created). */
const struct display_surface *display_refresh(struct display *d);
const struct display_surface *display_surface(const struct display *d);
int display_text(struct display *d, struct display_text *t);
int display_read_legacy(struct display *d, uint64_t gpa, void *buf, size_t len);
/* Add or remove a listener (L is copied; up to 4 at once). 0, -ENOSPC or -ENOENT. */
int display_listen(struct display *d, const struct display_listener *l) WUR;
int display_unlisten(struct display *d, void *opaque);
/* Write the surface as PPM (P6) or PNG to FD. 0 or a negative errno. */
int display_write_ppm(const struct display_surface *s, int fd) WUR;
int display_write_png(const struct display_surface *s, int fd) WUR;
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's screen between its adapter and its consumers (see display.h). */
#include "dm/display.h"
#include "dm/log.h"
#include "dm/vm.h"
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTENERS 4

struct display {
    struct vm *vm;
    const struct display_adapter_ops *ops;
    void *adapter;
    struct display_surface surface;
    struct display_listener listener[MAX_LISTENERS];
    unsigned n_listeners;
};

int display_new(struct vm *vm, const struct display_adapter_ops *ops, void *adapter)
{
    if (vm->display)
        return -EBUSY;
    struct display *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->vm = vm;
    d->ops = ops;
    d->adapter = adapter;
    vm->display = d;
    if (!display_resize(d, 640, 480)) {
        vm->display = NULL;
        free(d);
        return -ENOMEM;
    }
    return 0;
}

void display_free(struct display *d)
{
    if (!d)
        return;
    if (d->vm && d->vm->display == d)
        d->vm->display = NULL;
    free(d->surface.pixels);
    free(d);
}

struct display *display_of(const struct vm *vm) { return vm->display; }

struct display_surface *display_resize(struct display *d, unsigned w, unsigned h)
{
    w = MIN(MAX(w, 1u), (unsigned)DISPLAY_MAX_WIDTH);
    h = MIN(MAX(h, 1u), (unsigned)DISPLAY_MAX_HEIGHT);
    if (d->surface.pixels && d->surface.width == w && d->surface.height == h)
        return &d->surface;
    uint32_t *p = calloc((size_t)w * h, sizeof(uint32_t));
    if (!p) {
        log_err("display: no memory for a %ux%u surface", w, h);
        return NULL;
    }
    free(d->surface.pixels);
    d->surface = (struct display_surface){ .width = w, .height = h, .stride = w * 4, .pixels = p };
    for (unsigned i = 0; i < d->n_listeners; i++)
        if (d->listener[i].resize)
            d->listener[i].resize(d->listener[i].opaque, &d->surface);
    return &d->surface;
}

void display_damage(struct display *d, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (x >= d->surface.width || y >= d->surface.height || !w || !h)
        return;
    w = MIN(w, d->surface.width - x);
    h = MIN(h, d->surface.height - y);
    for (unsigned i = 0; i < d->n_listeners; i++)
        if (d->listener[i].damage)
            d->listener[i].damage(d->listener[i].opaque, x, y, w, h);
}

const struct display_surface *display_refresh(struct display *d)
{
    if (d->ops && d->ops->refresh)
        d->ops->refresh(d->adapter);
    return &d->surface;
}

const struct display_surface *display_surface(const struct display *d) { return &d->surface; }

int display_text(struct display *d, struct display_text *t)
{
    if (!d->ops || !d->ops->text)
        return -ENOTSUP;
    memset(t, 0, sizeof(*t));
    return d->ops->text(d->adapter, t);
}

int display_read_legacy(struct display *d, uint64_t gpa, void *buf, size_t len)
{
    if (!d->ops || !d->ops->read_legacy)
        return -EFAULT;
    return d->ops->read_legacy(d->adapter, gpa, buf, len);
}

int display_listen(struct display *d, const struct display_listener *l)
{
    if (d->n_listeners == MAX_LISTENERS)
        return -ENOSPC;
    d->listener[d->n_listeners++] = *l;
    return 0;
}

int display_unlisten(struct display *d, void *opaque)
{
    for (unsigned i = 0; i < d->n_listeners; i++) {
        if (d->listener[i].opaque != opaque)
            continue;
        memmove(&d->listener[i], &d->listener[i + 1],
                (d->n_listeners - i - 1) * sizeof(d->listener[0]));
        d->n_listeners--;
        return 0;
    }
    return -ENOENT;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One row of the surface as R, G, B bytes. */
static void row_rgb(const struct display_surface *s, unsigned y, uint8_t *out)
{
    const uint32_t *px = (const uint32_t *)((const char *)s->pixels + (size_t)y * s->stride);
    for (unsigned x = 0; x < s->width; x++) {
        out[3 * x] = (uint8_t)(px[x] >> 16);
        out[3 * x + 1] = (uint8_t)(px[x] >> 8);
        out[3 * x + 2] = (uint8_t)px[x];
    }
}

int display_write_ppm(const struct display_surface *s, int fd)
{
    char head[64];
    int n = snprintf(head, sizeof(head), "P6\n%u %u\n255\n", s->width, s->height);
    int r = write_all(fd, head, (size_t)n);
    uint8_t *row = malloc((size_t)s->width * 3);
    if (!row)
        return -ENOMEM;
    for (unsigned y = 0; y < s->height && r == 0; y++) {
        row_rgb(s, y, row);
        r = write_all(fd, row, (size_t)s->width * 3);
    }
    free(row);
    return r;
}

struct png_sink {
    int fd;
    int err;
};

static void png_sink_write(png_structp png, png_bytep data, size_t len)
{
    struct png_sink *k = png_get_io_ptr(png);
    if (!k->err)
        k->err = write_all(k->fd, data, len);
}

static void png_sink_flush(png_structp png) { (void)png; }

static void png_warn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void png_fail(png_structp png, png_const_charp msg)
{
    log_err("display: PNG: %s", msg);
    png_longjmp(png, 1);
}

int display_write_png(const struct display_surface *s, int fd)
{
    struct png_sink sink = { .fd = fd };
    uint8_t *volatile row = malloc((size_t)s->width * 3);
    if (!row)
        return -ENOMEM;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        free(row);
        return -ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return sink.err ? sink.err : -EIO;
    }
    png_set_write_fn(png, &sink, png_sink_write, png_sink_flush);
    png_set_IHDR(png, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);
    png_write_info(png, info);
    for (unsigned y = 0; y < s->height; y++) {
        row_rgb(s, y, row);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return sink.err;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's screen (see display.h): one surface per vm, drawn by its adapter on demand,
 * listeners told of size changes and damage, and the surface written as PPM or PNG (libpng,
 * the one file that uses it). */
#include "dm/display.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dm/log.h"
#include "dm/vm.h"

#define MAX_LISTENERS 4

struct display {
    struct vm *vm;
    const struct display_adapter_ops *ops;
    void *adapter;
    struct display_surface surface;
    struct display_listener listeners[MAX_LISTENERS];
    unsigned n_listeners;
};

static void clamp(unsigned *w, unsigned *h)
{
    if (*w < 1)
        *w = 1;
    if (*h < 1)
        *h = 1;
    if (*w > DISPLAY_MAX_WIDTH)
        *w = DISPLAY_MAX_WIDTH;
    if (*h > DISPLAY_MAX_HEIGHT)
        *h = DISPLAY_MAX_HEIGHT;
}

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
    d->surface.width = 640;
    d->surface.height = 480;
    d->surface.stride = 640 * 4;
    d->surface.pixels = calloc((size_t)640 * 480, 4);
    if (!d->surface.pixels) {
        free(d);
        return -ENOMEM;
    }
    vm->display = d;
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

struct display_surface *display_resize(struct display *d, unsigned w, unsigned h)
{
    clamp(&w, &h);
    if (w == d->surface.width && h == d->surface.height)
        return &d->surface;
    uint32_t *p = calloc((size_t)w * h, 4);
    if (!p)
        return NULL;
    free(d->surface.pixels);
    d->surface.pixels = p;
    d->surface.width = w;
    d->surface.height = h;
    d->surface.stride = w * 4;
    for (unsigned i = 0; i < d->n_listeners; i++)
        if (d->listeners[i].resize)
            d->listeners[i].resize(d->listeners[i].opaque, &d->surface);
    return &d->surface;
}

void display_damage(struct display *d, unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (x >= d->surface.width || y >= d->surface.height)
        return;
    w = MIN(w, d->surface.width - x);
    h = MIN(h, d->surface.height - y);
    if (!w || !h)
        return;
    for (unsigned i = 0; i < d->n_listeners; i++)
        if (d->listeners[i].damage)
            d->listeners[i].damage(d->listeners[i].opaque, x, y, w, h);
}

struct display *display_of(const struct vm *vm) { return vm->display; }

const struct display_surface *display_refresh(struct display *d)
{
    if (d->ops && d->ops->refresh)
        d->ops->refresh(d->adapter);
    return &d->surface;
}

const struct display_surface *display_surface(const struct display *d) { return &d->surface; }

int display_text(struct display *d, struct display_text *t)
{
    memset(t, 0, sizeof(*t));
    if (!d->ops || !d->ops->text)
        return -ENOTSUP;
    return d->ops->text(d->adapter, t);
}

int display_read_legacy(struct display *d, uint64_t gpa, void *buf, size_t len)
{
    if (!d->ops || !d->ops->read_legacy)
        return -EFAULT;
    if (gpa < 0xa0000 || gpa > 0xc0000 || len > 0xc0000 - gpa)
        return -EFAULT;
    return d->ops->read_legacy(d->adapter, gpa, buf, len);
}

int display_listen(struct display *d, const struct display_listener *l)
{
    if (d->n_listeners == MAX_LISTENERS)
        return -ENOSPC;
    d->listeners[d->n_listeners++] = *l;
    return 0;
}

int display_unlisten(struct display *d, void *opaque)
{
    for (unsigned i = 0; i < d->n_listeners; i++) {
        if (d->listeners[i].opaque != opaque)
            continue;
        memmove(&d->listeners[i], &d->listeners[i + 1],
                (d->n_listeners - i - 1) * sizeof(d->listeners[0]));
        d->n_listeners--;
        return 0;
    }
    return -ENOENT;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
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

static void row_rgb(const struct display_surface *s, unsigned y, uint8_t *out)
{
    const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->stride);
    for (unsigned x = 0; x < s->width; x++) {
        out[3 * x] = (uint8_t)(row[x] >> 16);
        out[3 * x + 1] = (uint8_t)(row[x] >> 8);
        out[3 * x + 2] = (uint8_t)row[x];
    }
}

int display_write_ppm(const struct display_surface *s, int fd)
{
    char hdr[64];
    int n = snprintf(hdr, sizeof(hdr), "P6\n%u %u\n255\n", s->width, s->height);
    uint8_t *buf = malloc((size_t)s->width * 3 * 16);
    if (!buf)
        return -ENOMEM;
    int r = write_all(fd, hdr, (size_t)n);
    for (unsigned y = 0; r == 0 && y < s->height; y += 16) {
        unsigned k = MIN(16u, s->height - y);
        for (unsigned i = 0; i < k; i++)
            row_rgb(s, y + i, buf + (size_t)i * s->width * 3);
        r = write_all(fd, buf, (size_t)k * s->width * 3);
    }
    free(buf);
    return r;
}

struct png_out {
    int fd;
    int err;
};

static void png_write_cb(png_structp p, png_bytep data, png_size_t len)
{
    struct png_out *o = png_get_io_ptr(p);
    if (!o->err)
        o->err = write_all(o->fd, data, len);
}

static void png_flush_cb(png_structp p) { (void)p; }

int display_write_png(const struct display_surface *s, int fd)
{
    struct png_out o = { fd, 0 };
    uint8_t *volatile row = malloc((size_t)s->width * 3);
    png_structp p = NULL;
    png_infop info = NULL;
    int r = -ENOMEM;
    if (!row)
        return -ENOMEM;
    p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!p)
        goto out;
    info = png_create_info_struct(p);
    if (!info)
        goto out;
    if (setjmp(png_jmpbuf(p))) {
        r = o.err ? o.err : -EIO;
        goto out;
    }
    png_set_write_fn(p, &o, png_write_cb, png_flush_cb);
    png_set_compression_level(p, 6);
    png_set_IHDR(p, info, s->width, s->height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (unsigned y = 0; y < s->height && !o.err; y++) {
        row_rgb(s, y, row);
        png_write_row(p, row);
    }
    png_write_end(p, NULL);
    r = o.err;
out:
    png_destroy_write_struct(&p, &info);
    free(row);
    return r;
}

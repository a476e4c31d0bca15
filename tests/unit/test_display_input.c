/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/display and dm/input without a device: a fake adapter drawing into the surface, the
 * listeners a consumer sees, PPM/PNG output read back; input routed to the active target of
 * highest priority, absolute motion as relative for a mouse, held keys released. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/input-event-codes.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dm/display.h"
#include "dm/input.h"
#include "tests/lib/fakexen.h"

struct adapter {
    struct display *d;
    unsigned refreshes;
    int text_mode;
};

static void ad_refresh(void *o)
{
    struct adapter *a = o;
    a->refreshes++;
    struct display_surface *s = display_resize(a->d, 4, 2);
    s->pixels[0] = 0x00ff0000;          /* red at (0,0) */
    s->pixels[5] = 0x0000ff00;          /* green at (1,1) */
    display_damage(a->d, 0, 0, 100, 100); /* clipped to 4x2 */
    display_damage(a->d, 9, 9, 1, 1);     /* outside: ignored */
}

static int ad_text(void *o, struct display_text *t)
{
    struct adapter *a = o;
    if (!a->text_mode)
        return -ENOTSUP;
    t->cols = 80;
    t->rows = 25;
    t->cells[0] = 0x0700 | 'G';
    return 0;
}

static const struct display_adapter_ops ad_ops = { .refresh = ad_refresh, .text = ad_text };

struct watcher {
    unsigned resizes, damages, last_w, last_h;
};

static void w_resize(void *o, const struct display_surface *s)
{
    struct watcher *w = o;
    w->resizes++;
    w->last_w = s->width;
    w->last_h = s->height;
}

static void w_damage(void *o, unsigned x, unsigned y, unsigned ww, unsigned h)
{
    struct watcher *w = o;
    w->damages++;
    assert_true(x + ww <= 4 && y + h <= 2);
}

static void display_surface_and_listeners(void **st)
{
    (void)st;
    struct fakexen *fx = fx_new(16 << 20);
    struct vm *vm = fx_vm(fx);
    struct adapter a = { 0 };
    assert_null(display_of(vm));
    assert_int_equal(display_new(vm, &ad_ops, &a), 0);
    a.d = display_of(vm);
    assert_non_null(a.d);
    assert_int_equal(display_new(vm, &ad_ops, &a), -EBUSY);
    assert_int_equal(display_surface(a.d)->width, 640);
    struct watcher w = { 0 };
    struct display_listener l = { w_resize, w_damage, &w };
    assert_int_equal(display_listen(a.d, &l), 0);
    const struct display_surface *s = display_refresh(a.d);
    assert_int_equal(a.refreshes, 1);
    assert_int_equal(w.resizes, 1);
    assert_int_equal(w.last_w, 4);
    assert_int_equal(s->width, 4);
    assert_int_equal(s->stride, 16);
    assert_int_equal(w.damages, 1);
    display_refresh(a.d); /* same size: no resize */
    assert_int_equal(w.resizes, 1);
    /* sizes are clamped */
    display_resize(a.d, 100000, 0);
    assert_int_equal(display_surface(a.d)->width, DISPLAY_MAX_WIDTH);
    assert_int_equal(display_surface(a.d)->height, 1);
    struct display_text *t = malloc(sizeof(*t));
    assert_int_equal(display_text(a.d, t), -ENOTSUP);
    a.text_mode = 1;
    assert_int_equal(display_text(a.d, t), 0);
    assert_int_equal(t->cells[0] & 0xff, 'G');
    free(t);
    uint8_t b[2];
    assert_int_equal(display_read_legacy(a.d, 0xb8000, b, 2), -EFAULT); /* adapter has none */
    assert_int_equal(display_unlisten(a.d, &w), 0);
    assert_int_equal(display_unlisten(a.d, &w), -ENOENT);
    display_free(a.d);
    assert_null(display_of(vm));
    fx_free(fx);
}

static void screendump_formats(void **st)
{
    (void)st;
    struct fakexen *fx = fx_new(16 << 20);
    struct adapter a = { 0 };
    assert_int_equal(display_new(fx_vm(fx), &ad_ops, &a), 0);
    a.d = display_of(fx_vm(fx));
    const struct display_surface *s = display_refresh(a.d);
    FILE *f = tmpfile();
    assert_int_equal(display_write_ppm(s, fileno(f)), 0);
    char buf[128];
    rewind(f);
    size_t n = fread(buf, 1, sizeof(buf), f);
    assert_int_equal(n, 11 + 4 * 2 * 3);
    assert_memory_equal(buf, "P6\n4 2\n255\n", 11);
    assert_memory_equal(buf + 11, "\xff\x00\x00", 3);         /* red */
    assert_memory_equal(buf + 11 + 15, "\x00\xff\x00", 3);    /* (1,1) green */
    fclose(f);
    /* PNG, read back with libpng */
    f = tmpfile();
    assert_int_equal(display_write_png(s, fileno(f)), 0);
    rewind(f);
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_stdio(&img, f));
    assert_int_equal(img.width, 4);
    assert_int_equal(img.height, 2);
    img.format = PNG_FORMAT_RGB;
    uint8_t px[4 * 2 * 3];
    assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
    assert_memory_equal(px, "\xff\x00\x00", 3);
    assert_memory_equal(px + 15, "\x00\xff\x00", 3);
    fclose(f);
    /* a file that cannot be written: an error, no crash */
    assert_true(display_write_png(s, -1) < 0);
    assert_true(display_write_ppm(s, -1) < 0);
    display_free(a.d);
    fx_free(fx);
}

struct target {
    int on;
    unsigned keys, last_key, rels, abses;
    int last_down, dx, dy;
    unsigned x, y, buttons;
};

static int t_active(void *o) { return ((struct target *)o)->on; }
static void t_key(void *o, unsigned code, int down)
{
    struct target *t = o;
    t->keys++;
    t->last_key = code;
    t->last_down = down;
}
static void t_rel(void *o, int dx, int dy, int dz, unsigned b)
{
    struct target *t = o;
    (void)dz;
    t->rels++;
    t->dx += dx;
    t->dy += dy;
    t->buttons = b;
}
static void t_abs(void *o, unsigned x, unsigned y, int dz, unsigned b)
{
    struct target *t = o;
    (void)dz;
    t->abses++;
    t->x = x;
    t->y = y;
    t->buttons = b;
}

static void input_routing(void **st)
{
    (void)st;
    struct fakexen *fx = fx_new(16 << 20);
    struct vm *vm = fx_vm(fx);
    struct target kbd = { .on = 1 }, pv = { .on = 0 }, mouse = { .on = 1 }, tablet = { .on = 0 };
    struct input_target tk = { INPUT_KEYBOARD, 0, "i8042", t_active, t_key, NULL, NULL, &kbd };
    struct input_target tp = { INPUT_KEYBOARD, 10, "vkbd", t_active, t_key, NULL, NULL, &pv };
    struct input_target tm = { INPUT_REL, 0, "ps2", NULL, NULL, t_rel, NULL, &mouse };
    struct input_target tt = { INPUT_ABS, 10, "tablet", t_active, NULL, NULL, t_abs, &tablet };
    assert_int_equal(input_add_target(vm, &tk), 0);
    assert_int_equal(input_add_target(vm, &tp), 0);
    assert_int_equal(input_add_target(vm, &tm), 0);
    assert_int_equal(input_add_target(vm, &tt), 0);
    /* the PV keyboard is not connected: keys go to the i8042 */
    input_key(vm, KEY_A, 1);
    assert_int_equal(kbd.keys, 1);
    assert_int_equal(kbd.last_key, KEY_A);
    pv.on = 1; /* connected: it wins */
    input_key(vm, KEY_A, 0);
    assert_int_equal(pv.keys, 1);
    assert_int_equal(kbd.keys, 1);
    input_key(vm, 0, 1);            /* nonsense codes go nowhere */
    input_key(vm, 100000, 1);
    assert_int_equal(pv.keys, 1);
    /* no tablet: absolute motion reaches the mouse as relative motion */
    input_abs(vm, 0, 0, 0, 0);
    input_abs(vm, INPUT_ABS_MAX + 1, INPUT_ABS_MAX + 1, 0, INPUT_BTN_LEFT); /* clamped */
    assert_true(mouse.dx > 0 && mouse.dy > 0);
    assert_int_equal(mouse.buttons, INPUT_BTN_LEFT);
    tablet.on = 1;
    input_abs(vm, 100, 200, 0, 0);
    assert_int_equal(tablet.abses, 1);
    assert_int_equal(tablet.x, 100);
    assert_int_equal(tablet.y, 200);
    /* a source that goes away: held keys and buttons released */
    input_key(vm, KEY_LEFTSHIFT, 1);
    input_abs(vm, 100, 200, 0, INPUT_BTN_RIGHT);
    input_release_all(vm);
    assert_int_equal(pv.last_key, KEY_LEFTSHIFT);
    assert_int_equal(pv.last_down, 0);
    assert_int_equal(tablet.buttons, 0);
    /* a device going away */
    input_del_target(vm, &pv);
    input_key(vm, KEY_B, 1);
    assert_int_equal(kbd.last_key, KEY_B);
    /* names QMP send-key takes */
    assert_int_equal(input_qcode("ctrl"), KEY_LEFTCTRL);
    assert_int_equal(input_qcode("delete"), KEY_DELETE);
    assert_int_equal(input_qcode("kp_enter"), KEY_KPENTER);
    assert_int_equal(input_qcode("less"), KEY_102ND);
    assert_int_equal(input_qcode("nonsense"), -1);
    input_fini(vm);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(display_surface_and_listeners),
        cmocka_unit_test(screendump_formats),
        cmocka_unit_test(input_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

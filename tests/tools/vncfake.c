/* SPDX-License-Identifier: GPL-2.0-only */
/* vncfake: hvmd's VNC server (dm/vnc.c) on a fakexen machine, for tests that need a VNC server
 * without Xen (the browser console test): the screen is a fixed picture (640x480, the left half
 * red, the right half blue, a white bar at the top), and every byte the guest would read from
 * its i8042 is printed on stdout as "i8042 XX", one a line.
 * At the end it prints the CPU time it used ("cpu_ms N"), for figures of the VNC server's cost.
 *   vncfake ADDR:DISPLAY[,...] SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "dm/config.h"
#include "dm/display.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/vnc.h"
#include "tests/lib/fakexen.h"

struct picture {
    struct display *d;
    int drawn;
};

static void refresh(void *o)
{
    struct picture *p = o;
    if (p->drawn)
        return;
    struct display_surface *s = display_resize(p->d, 640, 480);
    if (!s)
        return;
    for (unsigned y = 0; y < s->height; y++)
        for (unsigned x = 0; x < s->width; x++)
            s->pixels[y * (s->stride / 4) + x] = y < 40 ? 0xffffff : x < 320 ? 0xff0000 : 0x0000ff;
    display_damage(p->d, 0, 0, s->width, s->height);
    p->drawn = 1;
}

static int text(void *o, struct display_text *t)
{
    (void)o;
    (void)t;
    return -1;
}

static const struct display_adapter_ops ops = { .refresh = refresh, .text = text };

int main(int argc, char **argv)
{
    char err[256];
    struct machine m;
    struct vnc *v = NULL;
    struct picture pic = { 0 };
    if (argc != 3) {
        fprintf(stderr, "usage: vncfake ADDR:DISPLAY SECONDS\n");
        return 2;
    }
    /* libxl's command line with vga="none": this program's picture is the display */
    struct config cfg;
    const char *args[] = { "-xen-domid", "1", "-m", "16" };
    if (config_parse(&cfg, 4, args, err, sizeof(err)) < 0)
        return 1;
    struct fakexen *fx = fx_new(16 << 20);
    if (!fx)
        return 1;
    fx->vm.cfg = &cfg;
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        return 1;
    if (display_new(&fx->vm, &ops, &pic) < 0)
        return 1;
    pic.d = display_of(&fx->vm);
    if (vnc_new(&fx->vm, argv[1], NULL, &v, err, sizeof(err)) < 0 || !v) {
        fprintf(stderr, "vncfake: %s\n", err);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do { /* the loop sleeps until something happens, as hvmd's does */
        loop_run_once(fx->loop, 100);
        while (fx_in(fx, 0x64, 1) & 1)
            printf("i8042 %02x\n", fx_in(fx, 0x60, 1));
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < atol(argv[2]));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    printf("cpu_ms %.1f\n", (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6);
    vnc_free(v);
    machine_destroy(&m);
    fx_free(fx);
    return 0;
}

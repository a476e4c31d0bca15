/* SPDX-License-Identifier: GPL-2.0-only */
/* vnctype: a VNC client (libvncclient) for the boot scenarios: connects to a VNC server, waits
 * for the first frame, then plays its steps: types text and keys as a person at a viewer with
 * a US keyboard would (Shift held for capitals and shifted symbols), waits, or saves the
 * screen as a PPM. Exits 0 once every step was sent, 1 on any failure (said on stderr).
 *
 *   vnctype [-p PASSWORD] HOST:PORT STEP...
 *   STEP: text:STRING   type STRING (\n is Return)
 *         key:NAME      press and release a key: Return, Escape, Tab, BackSpace, Up, Down, c...
 *         sleep:MS      wait (serving the server's messages meanwhile)
 *         shot:FILE     the current screen as a binary PPM
 * Between two key events it waits 40 ms, so a guest reading its keyboard through the BIOS
 * keeps up. */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *password;
static int frames;

static char *get_password(rfbClient *cl)
{
    (void)cl;
    return strdup(password ? password : "");
}

static void got_update(rfbClient *cl, int x, int y, int w, int h)
{
    (void)cl;
    (void)x;
    (void)y;
    (void)w;
    (void)h;
    frames++;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Serve the server for MS milliseconds. 0, or -1 if the connection failed. */
static int serve(rfbClient *cl, int ms)
{
    double end = now() + ms / 1000.0;
    while (now() < end) {
        int n = WaitForMessage(cl, 10000);
        if (n < 0)
            return -1;
        if (n > 0 && !HandleRFBServerMessage(cl))
            return -1;
    }
    return 0;
}

static int key(rfbClient *cl, uint32_t sym, int down)
{
    if (!SendKeyEvent(cl, sym, down ? TRUE : FALSE))
        return -1;
    return serve(cl, 40);
}

static int tap(rfbClient *cl, uint32_t sym, int shift)
{
    if (shift && key(cl, XK_Shift_L, 1) < 0)
        return -1;
    if (key(cl, sym, 1) < 0 || key(cl, sym, 0) < 0)
        return -1;
    if (shift && key(cl, XK_Shift_L, 0) < 0)
        return -1;
    return 0;
}

static int type_text(rfbClient *cl, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            if (tap(cl, XK_Return, 0) < 0)
                return -1;
            continue;
        }
        if (c < 0x20 || c > 0x7e) {
            fprintf(stderr, "vnctype: cannot type byte %#x\n", c);
            return -1;
        }
        int shift = (c >= 'A' && c <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", c);
        if (tap(cl, c, shift) < 0)
            return -1;
    }
    return 0;
}

static const struct {
    const char *name;
    uint32_t sym;
} keys[] = {
    { "Return", XK_Return }, { "Escape", XK_Escape }, { "Tab", XK_Tab },
    { "BackSpace", XK_BackSpace }, { "Up", XK_Up }, { "Down", XK_Down }, { "Left", XK_Left },
    { "Right", XK_Right }, { "Delete", XK_Delete }, { "Home", XK_Home }, { "End", XK_End },
    { "F1", XK_F1 }, { "F2", XK_F2 }, { "F10", XK_F10 }, { "F12", XK_F12 },
};

static int press(rfbClient *cl, const char *name)
{
    if (strlen(name) == 1)
        return tap(cl, (unsigned char)name[0], 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(keys[i].name, name))
            return tap(cl, keys[i].sym, 0);
    fprintf(stderr, "vnctype: no key named %s\n", name);
    return -1;
}

static int shot(rfbClient *cl, const char *file)
{
    FILE *f = fopen(file, "wb");
    if (!f)
        return -1;
    int w = cl->width, h = cl->height;
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    const uint8_t *p = cl->frameBuffer; /* 32 bits: R at bits 0-7, G 8-15, B 16-23 (default) */
    unsigned lit = 0;
    for (int i = 0; i < w * h; i++) {
        fputc(p[4 * i], f);
        fputc(p[4 * i + 1], f);
        fputc(p[4 * i + 2], f);
        lit += (p[4 * i] | p[4 * i + 1] | p[4 * i + 2]) != 0;
    }
    fclose(f);
    printf("vnctype: %s: %dx%d, %u pixels not black\n", file, w, h, lit);
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && !strcmp(argv[i], "-p")) {
        password = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: vnctype [-p PASSWORD] HOST:PORT STEP...\n");
        return 2;
    }
    char host[256];
    snprintf(host, sizeof(host), "%s", argv[i++]);
    char *colon = strrchr(host, ':');
    if (!colon) {
        fprintf(stderr, "vnctype: %s: expected HOST:PORT\n", host);
        return 2;
    }
    *colon = 0;
    rfbEnableClientLogging = FALSE;
    rfbClient *cl = rfbGetClient(8, 3, 4);
    if (!cl)
        return 1;
    cl->serverHost = strdup(host);
    cl->serverPort = atoi(colon + 1);
    cl->GetPassword = get_password;
    cl->GotFrameBufferUpdate = got_update;
    cl->appData.encodingsString = "raw copyrect";
    if (!rfbInitClient(cl, NULL, NULL)) { /* frees cl on failure */
        fprintf(stderr, "vnctype: cannot connect to %s:%s or log in\n", host, colon + 1);
        return 1;
    }
    printf("vnctype: connected to %s:%s, desktop %dx%d \"%s\"\n", host, colon + 1, cl->width,
           cl->height, cl->desktopName ? cl->desktopName : "");
    double t0 = now();
    while (!frames && now() - t0 < 20)
        if (serve(cl, 100) < 0)
            break;
    if (!frames) {
        fprintf(stderr, "vnctype: no frame within 20 s\n");
        rfbClientCleanup(cl);
        return 1;
    }
    printf("vnctype: first frame after %.2f s\n", now() - t0);
    int rc = 0;
    for (; i < argc && !rc; i++) {
        const char *s = argv[i];
        if (!strncmp(s, "text:", 5))
            rc = type_text(cl, s + 5);
        else if (!strncmp(s, "key:", 4))
            rc = press(cl, s + 4);
        else if (!strncmp(s, "sleep:", 6))
            rc = serve(cl, atoi(s + 6));
        else if (!strncmp(s, "shot:", 5))
            rc = shot(cl, s + 5);
        else {
            fprintf(stderr, "vnctype: unknown step %s\n", s);
            rc = -1;
        }
        if (rc)
            fprintf(stderr, "vnctype: step %s failed\n", s);
    }
    printf("vnctype: %u frame updates\n", frames);
    rfbClientCleanup(cl);
    return rc ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The VNC console (see vnc.h), on libvncserver. libvncserver runs on hvmd's one loop, no
 * threads of its own: hvmd owns the listening socket (so to= can probe ports and the socket
 * exists before the sandbox), accepts, and hands each connection to rfbNewClient; each client
 * socket is watched by the loop, which calls rfbProcessEvents with a zero timeout when it is
 * readable, and a frame timer refreshes the display and sends updates while at least one
 * client is connected (every 50 ms while the screen changes or the viewer types, backing off
 * to 2 s while nothing changes, as QEMU's VNC server backs off to 3 s: a watched idle text
 * screen costs half a wake-up a second). An idle guest with nobody watching costs no wake-up.
 *
 * libvncserver blocks on a client only inside one message (reading the rest of a message that
 * began, writing an update the socket cannot take at once): such waits are bounded by
 * maxClientWait (below), after which the client is dropped.
 *
 * Keys: the client sends X keysyms; the layout (-k) says which key of the guest's keyboard
 * makes that symbol, and the key goes to the guest as a Linux KEY_* code (dm/input.h). The
 * client's own modifier presses (Shift, AltGr) are passed on as keys, so the guest, set to the
 * same layout, makes the same symbol; a client that speaks QEMU's extended key event sends the
 * key's scan code too, which is used as it is. Pointer: absolute positions to input_abs, which the
 * input layer gives to a tablet, or as motion to the PS/2 mouse. */
#include "dm/vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dm/display.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/vm.h"

#define FRAME_NS (50 * 1000 * 1000ull)       /* while the screen changes or the user types */
#define FRAME_IDLE_NS (2000 * 1000 * 1000ull) /* the longest wait, after frames with no change */
#define MAX_CLIENTS 8
#define CLIENT_WAIT_MS 1000 /* a client stuck in the middle of a message is dropped after this */
#define BLANK_W 640
#define BLANK_H 480

enum layout { LAYOUT_EN_US, LAYOUT_DE };

struct vnc_client {
    struct vnc *v;
    int fd;
    int buttons;           /* the VNC button mask last seen */
    char host[64];
};

struct vnc {
    struct vm *vm;
    struct display *display;   /* NULL: a black screen of our own */
    uint32_t *blank;
    rfbScreenInfoPtr screen;
    int listen_fd;
    struct loop_timer *frame;
    enum layout layout;
    int password_on;
    char password[9];
    int have_password;
    unsigned n_clients;
    uint64_t frame_ns;         /* the frame timer's interval now */
    int damaged;               /* the last refresh changed something */
    char host[64];
    int family;                /* AF_INET / AF_INET6 */
    unsigned port;
    struct ratelimit rl;
};

static void frame_soon(struct vnc *v);

/* ---- libvncserver's log, into ours ---- */

static void lvs_log(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    buf[strcspn(buf, "\n")] = 0;
    log_debug("vnc: %s", buf);
}

static void lvs_err(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    buf[strcspn(buf, "\n")] = 0;
    log_info("vnc: %s", buf);
}

/* ---- keysyms to keys ---- */

struct symkey {
    unsigned sym;
    unsigned short key;
};

/* Keys whose keysym is the same on every layout (X11 keysymdef.h: 0xff.. and 0xfe03). */
static const struct symkey common_keys[] = {
    { 0xff08, KEY_BACKSPACE }, { 0xff09, KEY_TAB },       { 0xfe20, KEY_TAB }, /* ISO_Left_Tab */
    { 0xff0d, KEY_ENTER },     { 0xff13, KEY_PAUSE },     { 0xff14, KEY_SCROLLLOCK },
    { 0xff15, KEY_SYSRQ },     { 0xff1b, KEY_ESC },       { 0xffff, KEY_DELETE },
    { 0xff50, KEY_HOME },      { 0xff51, KEY_LEFT },      { 0xff52, KEY_UP },
    { 0xff53, KEY_RIGHT },     { 0xff54, KEY_DOWN },      { 0xff55, KEY_PAGEUP },
    { 0xff56, KEY_PAGEDOWN },  { 0xff57, KEY_END },       { 0xff61, KEY_SYSRQ }, /* Print */
    { 0xff63, KEY_INSERT },    { 0xff67, KEY_COMPOSE },   { 0xff7f, KEY_NUMLOCK },
    { 0xff8d, KEY_KPENTER },   { 0xff95, KEY_KP7 },       { 0xff96, KEY_KP4 },
    { 0xff97, KEY_KP8 },       { 0xff98, KEY_KP6 },       { 0xff99, KEY_KP2 },
    { 0xff9a, KEY_KP9 },       { 0xff9b, KEY_KP3 },       { 0xff9c, KEY_KP1 },
    { 0xff9d, KEY_KP5 },       { 0xff9e, KEY_KP0 },       { 0xff9f, KEY_KPDOT },
    { 0xffaa, KEY_KPASTERISK }, { 0xffab, KEY_KPPLUS },   { 0xffac, KEY_KPDOT },
    { 0xffad, KEY_KPMINUS },   { 0xffae, KEY_KPDOT },     { 0xffaf, KEY_KPSLASH },
    { 0xffb0, KEY_KP0 },       { 0xffb1, KEY_KP1 },       { 0xffb2, KEY_KP2 },
    { 0xffb3, KEY_KP3 },       { 0xffb4, KEY_KP4 },       { 0xffb5, KEY_KP5 },
    { 0xffb6, KEY_KP6 },       { 0xffb7, KEY_KP7 },       { 0xffb8, KEY_KP8 },
    { 0xffb9, KEY_KP9 },       { 0xffbd, KEY_KPEQUAL },   { 0xffbe, KEY_F1 },
    { 0xffbf, KEY_F2 },        { 0xffc0, KEY_F3 },        { 0xffc1, KEY_F4 },
    { 0xffc2, KEY_F5 },        { 0xffc3, KEY_F6 },        { 0xffc4, KEY_F7 },
    { 0xffc5, KEY_F8 },        { 0xffc6, KEY_F9 },        { 0xffc7, KEY_F10 },
    { 0xffc8, KEY_F11 },       { 0xffc9, KEY_F12 },       { 0xffe1, KEY_LEFTSHIFT },
    { 0xffe2, KEY_RIGHTSHIFT }, { 0xffe3, KEY_LEFTCTRL }, { 0xffe4, KEY_RIGHTCTRL },
    { 0xffe5, KEY_CAPSLOCK },  { 0xffe7, KEY_LEFTMETA },  { 0xffe8, KEY_RIGHTMETA },
    { 0xffe9, KEY_LEFTALT },   { 0xffea, KEY_RIGHTALT },  { 0xffeb, KEY_LEFTMETA },
    { 0xffec, KEY_RIGHTMETA }, { 0xfe03, KEY_RIGHTALT },  /* ISO_Level3_Shift: AltGr */
    { 0xff7e, KEY_RIGHTALT },  /* Mode_switch */
    { 0x20, KEY_SPACE },
};

/* The printable symbols of a US keyboard, Latin-1 keysyms (= their code points), each with
 * the key that makes it (shifted or not). */
static const struct symkey us_keys[] = {
    { '1', KEY_1 }, { '!', KEY_1 }, { '2', KEY_2 }, { '@', KEY_2 }, { '3', KEY_3 },
    { '#', KEY_3 }, { '4', KEY_4 }, { '$', KEY_4 }, { '5', KEY_5 }, { '%', KEY_5 },
    { '6', KEY_6 }, { '^', KEY_6 }, { '7', KEY_7 }, { '&', KEY_7 }, { '8', KEY_8 },
    { '*', KEY_8 }, { '9', KEY_9 }, { '(', KEY_9 }, { '0', KEY_0 }, { ')', KEY_0 },
    { '-', KEY_MINUS }, { '_', KEY_MINUS }, { '=', KEY_EQUAL }, { '+', KEY_EQUAL },
    { '[', KEY_LEFTBRACE }, { '{', KEY_LEFTBRACE }, { ']', KEY_RIGHTBRACE },
    { '}', KEY_RIGHTBRACE }, { ';', KEY_SEMICOLON }, { ':', KEY_SEMICOLON },
    { '\'', KEY_APOSTROPHE }, { '"', KEY_APOSTROPHE }, { '`', KEY_GRAVE }, { '~', KEY_GRAVE },
    { '\\', KEY_BACKSLASH }, { '|', KEY_BACKSLASH }, { ',', KEY_COMMA }, { '<', KEY_COMMA },
    { '.', KEY_DOT }, { '>', KEY_DOT }, { '/', KEY_SLASH }, { '?', KEY_SLASH },
};

/* A German (T1) keyboard: Y and Z swapped, umlauts, AltGr symbols (keysyms: X11's Latin-1 for
 * the Latin-1 ones, dead keys 0xfe5x, EuroSign 0x20ac). */
static const struct symkey de_keys[] = {
    { '1', KEY_1 }, { '!', KEY_1 }, { '2', KEY_2 }, { '"', KEY_2 }, { 0xb2, KEY_2 },
    { '3', KEY_3 }, { 0xa7, KEY_3 }, { 0xb3, KEY_3 }, { '4', KEY_4 }, { '$', KEY_4 },
    { '5', KEY_5 }, { '%', KEY_5 }, { '6', KEY_6 }, { '&', KEY_6 }, { '7', KEY_7 },
    { '/', KEY_7 }, { '{', KEY_7 }, { '8', KEY_8 }, { '(', KEY_8 }, { '[', KEY_8 },
    { '9', KEY_9 }, { ')', KEY_9 }, { ']', KEY_9 }, { '0', KEY_0 }, { '=', KEY_0 },
    { '}', KEY_0 }, { 0xdf, KEY_MINUS }, { '?', KEY_MINUS }, { '\\', KEY_MINUS },
    { 0xfe51, KEY_EQUAL }, { 0xfe50, KEY_EQUAL }, { 0xb4, KEY_EQUAL }, { '`', KEY_EQUAL },
    { 0xfc, KEY_LEFTBRACE }, { 0xdc, KEY_LEFTBRACE }, { '+', KEY_RIGHTBRACE },
    { '*', KEY_RIGHTBRACE }, { '~', KEY_RIGHTBRACE }, { 0xfe53, KEY_RIGHTBRACE },
    { 0xf6, KEY_SEMICOLON }, { 0xd6, KEY_SEMICOLON }, { 0xe4, KEY_APOSTROPHE },
    { 0xc4, KEY_APOSTROPHE }, { '#', KEY_BACKSLASH }, { '\'', KEY_BACKSLASH },
    { '^', KEY_GRAVE }, { 0xfe52, KEY_GRAVE }, { 0xb0, KEY_GRAVE }, { '<', KEY_102ND },
    { '>', KEY_102ND }, { '|', KEY_102ND }, { ',', KEY_COMMA }, { ';', KEY_COMMA },
    { '.', KEY_DOT }, { ':', KEY_DOT }, { '-', KEY_SLASH }, { '_', KEY_SLASH },
    { '@', KEY_Q }, { 0x20ac, KEY_E }, { 0xb5, KEY_M },
};

static const unsigned short letters[26] = {
    KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I, KEY_J, KEY_K, KEY_L, KEY_M,
    KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R, KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
};

static unsigned lookup(const struct symkey *t, size_t n, unsigned sym)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].sym == sym)
            return t[i].key;
    return 0;
}

unsigned vnc_keysym_to_key(unsigned layout, unsigned sym)
{
    unsigned k = lookup(common_keys, ARRAY_SIZE(common_keys), sym);
    if (k)
        return k;
    if (sym >= 'A' && sym <= 'Z')
        sym += 'a' - 'A';
    if (sym >= 'a' && sym <= 'z') {
        k = letters[sym - 'a'];
        if (layout == LAYOUT_DE && k == KEY_Y)
            return KEY_Z;
        if (layout == LAYOUT_DE && k == KEY_Z)
            return KEY_Y;
        return k;
    }
    if (layout == LAYOUT_DE)
        return lookup(de_keys, ARRAY_SIZE(de_keys), sym);
    return lookup(us_keys, ARRAY_SIZE(us_keys), sym);
}

static void kbd_event(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct vnc *v = c->v;
    unsigned key = vnc_keysym_to_key(v->layout, (unsigned)sym);
    if (!key) {
        log_guest(&v->rl, "vnc", "client %s: keysym %#x has no key on this layout, ignored",
                  c->host, (unsigned)sym);
        return;
    }
    input_key(v->vm, key, !!down);
    frame_soon(v);
}

/* ---- QEMU's extended key event: the key's XT scan code beside the keysym ----
 * A client that offers pseudo-encoding -258 (gtk-vnc, QEMU's own viewers) learns from an empty
 * rectangle of that encoding that the server takes message 255/0, which carries the scan code
 * of the key pressed (QEMU's "qnum": the set 1 code, | 0x80 for E0-prefixed keys); hvmd sends
 * that key whatever the layout, so no -k is needed for such a client. */

/* qnum to Linux KEY_*: set 1 codes 0x01-0x53 are the KEY_ codes themselves; the rest here */
static const struct symkey qnum_keys[] = {
    { 0x56, KEY_102ND },     { 0x57, KEY_F11 },       { 0x58, KEY_F12 },
    { 0x70, KEY_KATAKANAHIRAGANA }, { 0x73, KEY_RO }, { 0x79, KEY_HENKAN },
    { 0x7b, KEY_MUHENKAN },  { 0x7d, KEY_YEN },       { 0x9c, KEY_KPENTER },
    { 0x9d, KEY_RIGHTCTRL }, { 0xa0, KEY_MUTE },      { 0xae, KEY_VOLUMEDOWN },
    { 0xb0, KEY_VOLUMEUP },  { 0xb5, KEY_KPSLASH },   { 0xb7, KEY_SYSRQ },
    { 0xb8, KEY_RIGHTALT },  { 0xc6, KEY_PAUSE },     { 0xc7, KEY_HOME },
    { 0xc8, KEY_UP },        { 0xc9, KEY_PAGEUP },    { 0xcb, KEY_LEFT },
    { 0xcd, KEY_RIGHT },     { 0xcf, KEY_END },       { 0xd0, KEY_DOWN },
    { 0xd1, KEY_PAGEDOWN },  { 0xd2, KEY_INSERT },    { 0xd3, KEY_DELETE },
    { 0xdb, KEY_LEFTMETA },  { 0xdc, KEY_RIGHTMETA }, { 0xdd, KEY_COMPOSE },
    { 0xde, KEY_POWER },
};

unsigned vnc_qnum_to_key(unsigned qnum)
{
    if (qnum >= 0x01 && qnum <= 0x53)
        return qnum;
    return lookup(qnum_keys, ARRAY_SIZE(qnum_keys), qnum);
}

static int qemu_encodings[] = { (int)rfbEncodingQemuExtendedKeyEvent, 0 };

static rfbBool qemu_enable(rfbClientPtr cl, void **data, int enc)
{
    (void)data;
    if (enc != (int)rfbEncodingQemuExtendedKeyEvent)
        return FALSE;
    /* the acknowledgement: a FramebufferUpdate of one empty rectangle of encoding -258 */
    uint8_t m[16] = { rfbFramebufferUpdate, 0, 0, 1 };
    uint32_t e = htonl(rfbEncodingQemuExtendedKeyEvent);
    memcpy(m + 12, &e, 4);
    if (rfbWriteExact(cl, (char *)m, sizeof(m)) < 0)
        rfbCloseClient(cl);
    return TRUE;
}

static rfbBool qemu_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
    struct vnc_client *c = cl->clientData;
    uint8_t b[sz_rfbQemuExtendedKeyEventMsg];
    (void)data;
    if (msg->type != rfbQemuEvent || !c)
        return FALSE;
    if (rfbReadExact(cl, (char *)b + 1, sizeof(b) - 1) <= 0) {
        rfbCloseClient(cl);
        return TRUE;
    }
    if (b[1] != 0) {
        log_warn("vnc: client %s: QEMU message subtype %u unknown, dropped", c->host, b[1]);
        rfbCloseClient(cl);
        return TRUE;
    }
    unsigned down = (unsigned)(b[2] << 8 | b[3]);
    unsigned sym = (unsigned)b[4] << 24 | (unsigned)b[5] << 16 | (unsigned)b[6] << 8 | b[7];
    unsigned qnum = (unsigned)b[8] << 24 | (unsigned)b[9] << 16 | (unsigned)b[10] << 8 | b[11];
    unsigned key = qnum ? vnc_qnum_to_key(qnum) : 0;
    if (!key)
        key = vnc_keysym_to_key(c->v->layout, sym);
    if (!key) {
        log_guest(&c->v->rl, "vnc", "client %s: key %#x (keysym %#x) unknown, ignored", c->host,
                  qnum, sym);
        return TRUE;
    }
    input_key(c->v->vm, key, down != 0);
    frame_soon(c->v);
    return TRUE;
}

static rfbProtocolExtension qemu_ext = {
    .pseudoEncodings = qemu_encodings,
    .enablePseudoEncoding = qemu_enable,
    .handleMessage = qemu_message,
};

static void ptr_event(int mask, int x, int y, rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    struct vnc *v = c->v;
    int w = v->screen->width, h = v->screen->height;
    int dz = 0;
    unsigned buttons = 0;

    /* wheel: buttons 4 (up) and 5 (down), counted when pressed */
    if ((mask & 0x08) && !(c->buttons & 0x08))
        dz++;
    if ((mask & 0x10) && !(c->buttons & 0x10))
        dz--;
    c->buttons = mask;
    if (mask & 1)
        buttons |= INPUT_BTN_LEFT;
    if (mask & 2)
        buttons |= INPUT_BTN_MIDDLE;
    if (mask & 4)
        buttons |= INPUT_BTN_RIGHT;
    x = x < 0 ? 0 : x >= w ? w - 1 : x;
    y = y < 0 ? 0 : y >= h ? h - 1 : y;
    unsigned ax = w > 1 ? (unsigned)((uint64_t)x * INPUT_ABS_MAX / (unsigned)(w - 1)) : 0;
    unsigned ay = h > 1 ? (unsigned)((uint64_t)y * INPUT_ABS_MAX / (unsigned)(h - 1)) : 0;
    input_abs(v->vm, ax, ay, dz, buttons);
    frame_soon(v);
}

static void cut_text(char *str, int len, rfbClientPtr cl)
{
    (void)str;
    (void)len;
    (void)cl; /* the guest has no clipboard channel: dropped */
}

/* ---- the framebuffer ---- */

static void set_format(rfbScreenInfoPtr s)
{
    /* the display's pixels: 0x00RRGGBB in host (little-endian) order */
    s->serverFormat.redShift = 16;
    s->serverFormat.greenShift = 8;
    s->serverFormat.blueShift = 0;
    s->serverFormat.redMax = s->serverFormat.greenMax = s->serverFormat.blueMax = 255;
    s->serverFormat.bigEndian = 0;
    s->serverFormat.trueColour = 1;
}

static void use_surface(struct vnc *v, uint32_t *pixels, unsigned w, unsigned h, unsigned stride)
{
    rfbNewFramebuffer(v->screen, (char *)pixels, (int)w, (int)h, 8, 3, 4);
    set_format(v->screen);
    v->screen->paddedWidthInBytes = (int)stride;
    /* rfbNewFramebuffer chose its translation before our format: choose again */
    rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
    rfbClientPtr cl;
    while ((cl = rfbClientIteratorNext(it)))
        rfbSetTranslateFunction(cl);
    rfbReleaseClientIterator(it);
}

static void on_resize(void *opaque, const struct display_surface *s)
{
    struct vnc *v = opaque;
    use_surface(v, s->pixels, s->width, s->height, s->stride);
}

static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
    struct vnc *v = opaque;
    v->damaged = 1;
    rfbMarkRectAsModified(v->screen, (int)x, (int)y, (int)(x + w), (int)(y + h));
}

/* Input from a viewer: the screen will likely change, look soon. */
static void frame_soon(struct vnc *v)
{
    if (v->frame_ns > FRAME_NS) {
        v->frame_ns = FRAME_NS;
        loop_timer_arm(v->frame, FRAME_NS);
    }
}

/* Refresh and send; every 50 ms while the screen changes, backing off to 2 s while it does
 * not (each wake-up of a watched idle text screen cost about 1 ms of dom0 CPU on the nested
 * bed: at 400 ms that was 2.4 ms/s, hvmd-display-figures). */
static void frame(void *opaque)
{
    struct vnc *v = opaque;
    if (!v->n_clients)
        return;
    v->damaged = 0;
    if (v->display)
        display_refresh(v->display);
    rfbProcessEvents(v->screen, 0);
    if (v->damaged)
        v->frame_ns = FRAME_NS;
    else if (v->frame_ns < FRAME_IDLE_NS)
        v->frame_ns = MIN(v->frame_ns * 2, FRAME_IDLE_NS);
    if (v->n_clients)
        loop_timer_arm(v->frame, v->frame_ns);
}

/* ---- clients ---- */

static void client_readable(void *opaque, uint32_t events)
{
    struct vnc_client *c = opaque;
    struct vnc *v = c->v;
    (void)events;
    /* one message per readable client; the client may go away in here (c freed) */
    rfbProcessEvents(v->screen, 0);
}

static void client_gone(rfbClientPtr cl)
{
    struct vnc_client *c = cl->clientData;
    if (!c)
        return;
    struct vnc *v = c->v;
    loop_del_fd(v->vm->loop, c->fd);
    log_info("vnc: client %s disconnected", c->host);
    v->n_clients--;
    if (!v->n_clients) {
        loop_timer_arm(v->frame, 0);
        input_release_all(v->vm); /* nobody left to release what is held */
    }
    cl->clientData = NULL;
    free(c);
    /* libvncserver 0.9.14 frees a client without the extension records it made for it (the
     * QEMU key extension's): free them here, or each such client leaks one */
    rfbExtensionData *e = cl->extensions;
    while (e) {
        rfbExtensionData *n = e->next;
        free(e->data);
        free(e);
        e = n;
    }
    cl->extensions = NULL;
}

static enum rfbNewClientAction client_new(rfbClientPtr cl)
{
    struct vnc *v = cl->screen->screenData;
    if (v->n_clients >= MAX_CLIENTS) {
        log_warn("vnc: client %s refused: %u clients already", cl->host ? cl->host : "?",
                 v->n_clients);
        return RFB_CLIENT_REFUSE;
    }
    struct vnc_client *c = calloc(1, sizeof(*c));
    if (!c)
        return RFB_CLIENT_REFUSE;
    c->v = v;
    c->fd = cl->sock;
    snprintf(c->host, sizeof(c->host), "%s", cl->host ? cl->host : "?");
    if (loop_add_fd(v->vm->loop, c->fd, EPOLLIN, client_readable, c) < 0) {
        log_warn("vnc: client %s refused: cannot watch its socket", c->host);
        free(c);
        return RFB_CLIENT_REFUSE;
    }
    cl->clientData = c;
    cl->clientGoneHook = client_gone;
    v->n_clients++;
    log_info("vnc: client %s connected (%u now)", c->host, v->n_clients);
    if (v->n_clients == 1) {
        v->frame_ns = FRAME_NS;
        loop_timer_arm(v->frame, 1); /* the first frame at once */
    }
    return RFB_CLIENT_ACCEPT;
}

/* VNC authentication: the client's DES answer to the challenge, with the password set by QMP.
 * With none set yet, every login is refused. */
static rfbBool check_password(rfbClientPtr cl, const char *response, int len)
{
    struct vnc *v = cl->screen->screenData;
    uint8_t expect[CHALLENGESIZE];
    if (!v->have_password) {
        log_warn("vnc: client %s refused: no password set yet (QMP change-vnc-password)",
                 cl->host ? cl->host : "?");
        return FALSE;
    }
    if (len != CHALLENGESIZE) {
        log_warn("vnc: client %s refused: an answer of %d bytes", cl->host ? cl->host : "?", len);
        return FALSE;
    }
    memcpy(expect, cl->authChallenge, CHALLENGESIZE);
    rfbEncryptBytes(expect, v->password);
    if (memcmp(expect, response, CHALLENGESIZE) != 0) {
        log_warn("vnc: client %s refused: wrong password", cl->host ? cl->host : "?");
        return FALSE;
    }
    return TRUE;
}

int vnc_add_client(struct vnc *v, int fd)
{
    if (fd < 0 || fd >= FD_SETSIZE) { /* libvncserver keeps its sockets in fd_sets */
        log_warn("vnc: a connection refused: descriptor %d is beyond select's %d", fd, FD_SETSIZE);
        if (fd >= 0)
            close(fd);
        return -EMFILE;
    }
    /* rfbNewClient sends the protocol version and runs client_new; on refusal or failure it
     * closes FD itself */
    rfbClientPtr cl = rfbNewClient(v->screen, fd);
    return cl ? 0 : -ECONNREFUSED;
}

static void on_accept(void *opaque, uint32_t events)
{
    struct vnc *v = opaque;
    (void)events;
    for (int i = 0; i < 4; i++) {
        int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_guest(&v->rl, "vnc", "accept: %s", strerror(errno));
            return;
        }
        if (vnc_add_client(v, fd) < 0)
            log_info("vnc: a connection was refused or failed in its greeting");
    }
}

/* ---- set-up ---- */

struct vnc_args {
    char host[64];
    unsigned display, to;
    int has_to, password;
    enum layout layout;
};

static int parse_args(const char *spec, const char *keymap, struct vnc_args *a, char *err,
                      size_t errlen)
{
    memset(a, 0, sizeof(*a));
    if (keymap) {
        if (!strcmp(keymap, "en-us"))
            a->layout = LAYOUT_EN_US;
        else if (!strcmp(keymap, "de"))
            a->layout = LAYOUT_DE;
        else {
            snprintf(err, errlen, "-k %s: hvmd knows the keyboard layouts en-us and de", keymap);
            return -EINVAL;
        }
    }
    if (!spec)
        return 0;
    char buf[256];
    if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
        snprintf(err, errlen, "-vnc: argument too long");
        return -EINVAL;
    }
    char *save = NULL, *item = strtok_r(buf, ",", &save);
    if (!item) {
        snprintf(err, errlen, "-vnc %s: expected ADDRESS:DISPLAY or none", spec);
        return -EINVAL;
    }
    char *colon = strrchr(item, ':');
    char *end = NULL;
    if (!colon || colon[1] == 0) {
        snprintf(err, errlen, "-vnc %s: expected ADDRESS:DISPLAY (e.g. 127.0.0.1:0) or none", spec);
        return -EINVAL;
    }
    unsigned long d = strtoul(colon + 1, &end, 10);
    if (*end || d > 65535 - 5900) {
        snprintf(err, errlen, "-vnc %s: display %s is not a number up to %d", spec, colon + 1,
                 65535 - 5900);
        return -EINVAL;
    }
    a->display = (unsigned)d;
    *colon = 0;
    char *host = item;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        host++;
    }
    if (strlen(host) >= sizeof(a->host)) {
        snprintf(err, errlen, "-vnc %s: address too long", spec);
        return -EINVAL;
    }
    snprintf(a->host, sizeof(a->host), "%s", host);
    while ((item = strtok_r(NULL, ",", &save))) {
        if (!strncmp(item, "to=", 3)) {
            unsigned long t = strtoul(item + 3, &end, 10);
            if (*end || !item[3] || t > 65535 - 5900) {
                snprintf(err, errlen, "-vnc %s: %s is not a display number", spec, item);
                return -EINVAL;
            }
            a->to = (unsigned)t;
            a->has_to = 1;
        } else if (!strcmp(item, "password") || !strcmp(item, "password=on")) {
            a->password = 1;
        } else if (!strcmp(item, "password=off")) {
            a->password = 0;
        } else {
            snprintf(err, errlen, "-vnc %s: option %s not supported by hvmd (it knows to= and "
                     "password=on)", spec, item);
            return -EINVAL;
        }
    }
    return 0;
}

int vnc_check_args(const char *spec, const char *keymap, char *err, size_t errlen)
{
    struct vnc_args a;
    if (spec && !strcmp(spec, "none"))
        spec = NULL;
    return parse_args(spec, keymap, &a, err, errlen);
}

/* Listen on HOST, port 5900+DISPLAY or the first free one up to 5900+TO. */
static int listen_on(struct vnc *v, const struct vnc_args *a, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    unsigned last = a->has_to && a->to > a->display ? a->to : a->display;
    int r = getaddrinfo(a->host[0] ? a->host : NULL, "5900", &hints, &res);
    if (r) {
        snprintf(err, errlen, "-vnc: address %s: %s", a->host, gai_strerror(r));
        return -EINVAL;
    }
    int e = EADDRINUSE;
    for (unsigned d = a->display; d <= last; d++) {
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) {
                e = errno;
                continue;
            }
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            struct sockaddr_storage sa;
            memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
            if (ai->ai_family == AF_INET)
                ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)(5900 + d));
            else
                ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)(5900 + d));
            if (bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen) < 0 || listen(fd, 8) < 0) {
                e = errno;
                close(fd);
                continue;
            }
            v->listen_fd = fd;
            v->port = 5900 + d;
            v->family = ai->ai_family;
            getnameinfo(ai->ai_addr, ai->ai_addrlen, v->host, sizeof(v->host), NULL, 0,
                        NI_NUMERICHOST);
            freeaddrinfo(res);
            return 0;
        }
    }
    freeaddrinfo(res);
    if (last > a->display)
        snprintf(err, errlen, "-vnc: no port free on %s from %u to %u: %s",
                 a->host[0] ? a->host : "*", 5900 + a->display, 5900 + last, strerror(e));
    else
        snprintf(err, errlen, "-vnc: cannot listen on %s port %u: %s",
                 a->host[0] ? a->host : "*", 5900 + a->display, strerror(e));
    return -e;
}

static struct vnc *create(struct vm *vm, enum layout layout, int password)
{
    struct vnc *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->vm = vm;
    v->listen_fd = -1;
    v->layout = layout;
    v->password_on = password;
    snprintf(v->host, sizeof(v->host), "none");
    rfbLog = lvs_log;
    rfbErr = lvs_err;
    static int ext_registered;
    if (!ext_registered) { /* libvncserver's list of extensions is the process's */
        rfbRegisterProtocolExtension(&qemu_ext);
        ext_registered = 1;
    }
    v->display = display_of(vm);
    v->frame = loop_timer_new(vm->loop, frame, v);
    v->screen = rfbGetScreen(NULL, NULL, BLANK_W, BLANK_H, 8, 3, 4);
    if (!v->frame || !v->screen)
        goto fail;
    rfbScreenInfoPtr s = v->screen;
    s->screenData = v;
    s->desktopName = "hvmd";
    s->port = 0;          /* hvmd listens and accepts itself */
    s->ipv6port = 0;
    s->httpPort = 0;
    s->http6Port = 0;
    s->autoPort = FALSE;
    s->alwaysShared = TRUE;
    s->deferUpdateTime = 0;
    s->deferPtrUpdateTime = 0;
    s->maxClientWait = CLIENT_WAIT_MS;
    s->cursor = NULL;     /* no cursor drawn into the guest's pixels */
    s->newClientHook = client_new;
    s->kbdAddEvent = kbd_event;
    s->ptrAddEvent = ptr_event;
    s->setXCutText = cut_text;
    if (password) {
        s->authPasswdData = v; /* non-NULL: offer VNC authentication */
        s->passwordCheck = check_password;
    }
    if (v->display) {
        const struct display_surface *ds = display_surface(v->display);
        use_surface(v, ds->pixels, ds->width, ds->height, ds->stride);
        struct display_listener l = { .resize = on_resize, .damage = on_damage, .opaque = v };
        if (display_listen(v->display, &l) < 0)
            goto fail;
    } else {
        v->blank = calloc(BLANK_W * BLANK_H, 4);
        if (!v->blank)
            goto fail;
        use_surface(v, v->blank, BLANK_W, BLANK_H, BLANK_W * 4);
    }
    rfbInitServer(s);
    return v;
fail:
    vnc_free(v);
    return NULL;
}

struct vnc *vnc_new_unlistened(struct vm *vm, const char *keymap, int password)
{
    struct vnc_args a;
    char err[128];
    if (parse_args(NULL, keymap, &a, err, sizeof(err)) < 0)
        return NULL;
    return create(vm, a.layout, password);
}

int vnc_new(struct vm *vm, const char *spec, const char *keymap, struct vnc **out, char *err,
            size_t errlen)
{
    struct vnc_args a;
    *out = NULL;
    if (spec && !strcmp(spec, "none"))
        spec = NULL;
    int r = parse_args(spec, keymap, &a, err, errlen);
    if (r < 0 || !spec)
        return r;
    struct vnc *v = create(vm, a.layout, a.password);
    if (!v) {
        snprintf(err, errlen, "-vnc: out of memory");
        return -ENOMEM;
    }
    r = listen_on(v, &a, err, errlen);
    if (r == 0 && loop_add_fd(vm->loop, v->listen_fd, EPOLLIN, on_accept, v) < 0) {
        snprintf(err, errlen, "-vnc: cannot watch the listening socket");
        r = -ENOMEM;
    }
    if (r < 0) {
        vnc_free(v);
        return r;
    }
    log_info("vnc: listening on %s port %u%s, keyboard layout %s%s", v->host, v->port,
             a.password ? ", password required" : "", a.layout == LAYOUT_DE ? "de" : "en-us",
             v->display ? "" : " (no display adapter: a black screen)");
    *out = v;
    return 0;
}

void vnc_free(struct vnc *v)
{
    if (!v)
        return;
    if (v->listen_fd >= 0) {
        loop_del_fd(v->vm->loop, v->listen_fd);
        close(v->listen_fd);
    }
    if (v->screen) {
        /* disconnect every client (their gone hooks run), then free the screen */
        rfbShutdownServer(v->screen, TRUE);
        rfbScreenCleanup(v->screen);
    }
    if (v->display)
        display_unlisten(v->display, v);
    loop_timer_free(v->frame);
    free(v->blank);
    free(v);
}

void vnc_query(const struct vnc *v, struct vnc_info *i)
{
    memset(i, 0, sizeof(*i));
    snprintf(i->host, sizeof(i->host), "%s", v->host);
    i->family = v->family == AF_INET6 ? "ipv6" : "ipv4";
    i->port = v->port;
    i->auth = v->password_on ? "vnc" : "none";
    i->clients = v->n_clients;
}

unsigned vnc_clients(const struct vnc *v)
{
    return v->n_clients;
}

int vnc_set_password(struct vnc *v, const char *password, char *err, size_t errlen)
{
    if (!v->password_on) {
        snprintf(err, errlen, "Could not set password: the VNC server was started without "
                 "password=on (vncpasswd= in xl.cfg)");
        return -EINVAL;
    }
    memset(v->password, 0, sizeof(v->password));
    snprintf(v->password, sizeof(v->password), "%s", password);
    v->have_password = 1;
    log_info("vnc: password set");
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel 8042 keyboard controller with a PS/2 keyboard and mouse behind it, both input targets
 * (dm/input.h): keys from the VNC console and QMP arrive as Linux KEY_* codes, pointer motion as
 * relative moves.
 * Spec: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device
 * Controller" (status, command byte, controller commands 0x20-0xff) and "Keyboard" /
 * "Pointing Device" (device commands and replies).
 * Emulated: status register, command byte, the controller commands firmware and drivers use
 * (read/write command byte, self tests 0xaa/0xab/0xa9, enable/disable keyboard and aux,
 * read/write output port, write keyboard/aux output buffer 0xd2/0xd3, write to aux 0xd4,
 * pulse output lines 0xf0-0xff), the keyboard commands (reset, identify, LEDs, scan code set,
 * typematic, enable/disable, defaults, echo) and the mouse commands (reset, identify, rates,
 * resolution, scaling, status, stream/remote mode). Replies wait in a queue; each reaches
 * the output buffer as soon as the previous one is read, raising IRQ 1 or 12 when the command
 * byte enables it, so a driver's first poll of the status register already sees it; a read
 * lowers the line first, so each byte is a new edge.
 * The reset line: command 0xfe (pulse bit 0) or an output-port write with bit 0 clear asks
 * Xen to reboot the domain. A20 is always on under Xen (the output port's bit 1 is stored).
 * System Control Port A (0x92) is left unclaimed on purpose: A20 cannot be off under Xen,
 * SeaBIOS reads it on every switch between 16 and 32 bits (about 300 round trips per boot,
 * measured), and an unclaimed port reads 0xff, which says "A20 on" and makes SeaBIOS write
 * nothing.
 * Keys: each KEY_* code has its scan code set 2 sequence (E0-prefixed extended keys, the
 * PrintScreen and Pause sequences) and the set 1 sequence the controller's translation turns it
 * into; set 1 goes out when the command byte's translate bit is set (firmware and Linux) or the
 * guest switched the keyboard to set 1, set 2 otherwise. Only the keyboard's scan codes are
 * translated, not its command replies. A key is sent whole or not at all (a guest that does not
 * read its keyboard loses keys, as with a real keyboard's overrun; logged).
 * Mouse: 3-byte packets, 4-byte IntelliMouse packets with the wheel after the rate sequence
 * 200, 100, 80 (identify then answers 3); streamed only while the guest enabled data reporting
 * (0xf4) in stream mode, read with 0xeb in remote mode. Motion the queue has no room for waits,
 * summed, and goes out as the guest reads.
 * Left out: typematic repeat (a VNC client repeats keys itself), scan code set 3, the Explorer
 * mouse's extra buttons, the password and test-input commands. */
#include <errno.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/input.h"
#include "dm/log.h"

#define DATA 0x60
#define CMD 0x64 /* status on read */

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08   /* last write was to the command port */
#define ST_UNLOCKED 0x10
#define ST_AUXB 0x20

#define CCB_KBD_INT 0x01
#define CCB_AUX_INT 0x02
#define CCB_SYS 0x04
#define CCB_KBD_DISABLE 0x10
#define CCB_AUX_DISABLE 0x20
#define CCB_XLATE 0x40

#define ACK 0xfa
#define QLEN 64
/* Input (keys, mouse packets) leaves this many queue slots for command replies. */
#define QRESERVE 8
/* Rates 200, 100, 80 in a row switch the mouse to IntelliMouse (wheel). */
#define IMPS_SEQ 0xc86450u

struct i8042 {
    struct dev_base base;    /* the data and command ports */
    uint8_t status, ccb, outport;
    uint8_t obuf;            /* the output buffer (valid when ST_OBF) */
    int obuf_aux;
    struct { uint8_t b; uint8_t aux; } q[QLEN];
    unsigned q_head, q_len;
    uint8_t pending_cmd;     /* controller command waiting for its data byte */
    uint8_t kbd_cmd;         /* keyboard command waiting for its parameter */
    uint8_t aux_cmd;         /* mouse command waiting for its parameter */
    int kbd_enabled, aux_enabled;
    uint8_t aux_rate, aux_res, aux_scaling, aux_stream;
    uint8_t kbd_set;         /* the keyboard's scan code set: 1 or 2 */
    uint8_t aux_id;          /* 0: standard mouse, 3: IntelliMouse */
    uint32_t aux_rates;      /* the last three sample rates set, oldest in bits 16-23 */
    uint8_t aux_buttons;     /* INPUT_BTN_* last reported */
    int aux_dx, aux_dy, aux_dz; /* motion not reported yet (host side, not saved) */
    unsigned aux_pending_buttons;
    int registered;          /* the input targets are on the vm */
    struct ratelimit rl, in_rl;
};

static void update_irq(struct i8042 *s)
{
    int kbd = 0, aux = 0;
    if (s->status & ST_OBF) {
        if (s->obuf_aux)
            aux = !!(s->ccb & CCB_AUX_INT);
        else
            kbd = !!(s->ccb & CCB_KBD_INT);
    }
    irq_isa_set(&s->base.vm->irq, 1, kbd);
    irq_isa_set(&s->base.vm->irq, 12, aux);
}

/* Move the next queued byte into the empty output buffer. */
static void refill(struct i8042 *s)
{
    if (!(s->status & ST_OBF) && s->q_len) {
        s->obuf = s->q[s->q_head].b;
        s->obuf_aux = s->q[s->q_head].aux;
        s->q_head = (s->q_head + 1) % QLEN;
        s->q_len--;
        s->status |= ST_OBF;
        if (s->obuf_aux)
            s->status |= ST_AUXB;
        else
            s->status &= (uint8_t)~ST_AUXB;
    }
    update_irq(s);
}

static void queue(struct i8042 *s, uint8_t b, int aux)
{
    if (s->q_len == QLEN) {
        log_guest(&s->rl, "i8042", "reply queue full, byte %#x dropped", b);
        return;
    }
    s->q[(s->q_head + s->q_len) % QLEN].b = b;
    s->q[(s->q_head + s->q_len) % QLEN].aux = (uint8_t)aux;
    s->q_len++;
}

static void reset_line(struct i8042 *s)
{
    vm_shutdown(s->base.vm, HV_REBOOT);
}

/* Free queue slots input may take (keys, mouse packets), leaving QRESERVE to command replies. */
static unsigned input_room(const struct i8042 *s)
{
    return s->q_len + QRESERVE >= QLEN ? 0 : QLEN - QRESERVE - s->q_len;
}

/* ---- keys: Linux KEY_* to scan codes ---- */

/* A key's make code in set 1 and set 2, and whether both are E0-prefixed. The break code is
 * the make code | 0x80 in set 1, F0 before it in set 2. */
struct scancode {
    uint8_t set1, set2, e0;
};

#define K(code, s1, s2) [code] = { (s1), (s2), 0 }
#define E(code, s1, s2) [code] = { (s1), (s2), 1 }
static const struct scancode scancodes[KEY_COMPOSE + 1] = {
    K(KEY_ESC, 0x01, 0x76),        K(KEY_1, 0x02, 0x16),          K(KEY_2, 0x03, 0x1e),
    K(KEY_3, 0x04, 0x26),          K(KEY_4, 0x05, 0x25),          K(KEY_5, 0x06, 0x2e),
    K(KEY_6, 0x07, 0x36),          K(KEY_7, 0x08, 0x3d),          K(KEY_8, 0x09, 0x3e),
    K(KEY_9, 0x0a, 0x46),          K(KEY_0, 0x0b, 0x45),          K(KEY_MINUS, 0x0c, 0x4e),
    K(KEY_EQUAL, 0x0d, 0x55),      K(KEY_BACKSPACE, 0x0e, 0x66),  K(KEY_TAB, 0x0f, 0x0d),
    K(KEY_Q, 0x10, 0x15),          K(KEY_W, 0x11, 0x1d),          K(KEY_E, 0x12, 0x24),
    K(KEY_R, 0x13, 0x2d),          K(KEY_T, 0x14, 0x2c),          K(KEY_Y, 0x15, 0x35),
    K(KEY_U, 0x16, 0x3c),          K(KEY_I, 0x17, 0x43),          K(KEY_O, 0x18, 0x44),
    K(KEY_P, 0x19, 0x4d),          K(KEY_LEFTBRACE, 0x1a, 0x54),  K(KEY_RIGHTBRACE, 0x1b, 0x5b),
    K(KEY_ENTER, 0x1c, 0x5a),      K(KEY_LEFTCTRL, 0x1d, 0x14),   K(KEY_A, 0x1e, 0x1c),
    K(KEY_S, 0x1f, 0x1b),          K(KEY_D, 0x20, 0x23),          K(KEY_F, 0x21, 0x2b),
    K(KEY_G, 0x22, 0x34),          K(KEY_H, 0x23, 0x33),          K(KEY_J, 0x24, 0x3b),
    K(KEY_K, 0x25, 0x42),          K(KEY_L, 0x26, 0x4b),          K(KEY_SEMICOLON, 0x27, 0x4c),
    K(KEY_APOSTROPHE, 0x28, 0x52), K(KEY_GRAVE, 0x29, 0x0e),      K(KEY_LEFTSHIFT, 0x2a, 0x12),
    K(KEY_BACKSLASH, 0x2b, 0x5d),  K(KEY_Z, 0x2c, 0x1a),          K(KEY_X, 0x2d, 0x22),
    K(KEY_C, 0x2e, 0x21),          K(KEY_V, 0x2f, 0x2a),          K(KEY_B, 0x30, 0x32),
    K(KEY_N, 0x31, 0x31),          K(KEY_M, 0x32, 0x3a),          K(KEY_COMMA, 0x33, 0x41),
    K(KEY_DOT, 0x34, 0x49),        K(KEY_SLASH, 0x35, 0x4a),      K(KEY_RIGHTSHIFT, 0x36, 0x59),
    K(KEY_KPASTERISK, 0x37, 0x7c), K(KEY_LEFTALT, 0x38, 0x11),    K(KEY_SPACE, 0x39, 0x29),
    K(KEY_CAPSLOCK, 0x3a, 0x58),   K(KEY_F1, 0x3b, 0x05),         K(KEY_F2, 0x3c, 0x06),
    K(KEY_F3, 0x3d, 0x04),         K(KEY_F4, 0x3e, 0x0c),         K(KEY_F5, 0x3f, 0x03),
    K(KEY_F6, 0x40, 0x0b),         K(KEY_F7, 0x41, 0x83),         K(KEY_F8, 0x42, 0x0a),
    K(KEY_F9, 0x43, 0x01),         K(KEY_F10, 0x44, 0x09),        K(KEY_NUMLOCK, 0x45, 0x77),
    K(KEY_SCROLLLOCK, 0x46, 0x7e), K(KEY_KP7, 0x47, 0x6c),        K(KEY_KP8, 0x48, 0x75),
    K(KEY_KP9, 0x49, 0x7d),        K(KEY_KPMINUS, 0x4a, 0x7b),    K(KEY_KP4, 0x4b, 0x6b),
    K(KEY_KP5, 0x4c, 0x73),        K(KEY_KP6, 0x4d, 0x74),        K(KEY_KPPLUS, 0x4e, 0x79),
    K(KEY_KP1, 0x4f, 0x69),        K(KEY_KP2, 0x50, 0x72),        K(KEY_KP3, 0x51, 0x7a),
    K(KEY_KP0, 0x52, 0x70),        K(KEY_KPDOT, 0x53, 0x71),      K(KEY_102ND, 0x56, 0x61),
    K(KEY_F11, 0x57, 0x78),        K(KEY_F12, 0x58, 0x07),        K(KEY_RO, 0x73, 0x51),
    K(KEY_KATAKANAHIRAGANA, 0x70, 0x13), K(KEY_HENKAN, 0x79, 0x64), K(KEY_MUHENKAN, 0x7b, 0x67),
    K(KEY_YEN, 0x7d, 0x6a),
    E(KEY_KPENTER, 0x1c, 0x5a),    E(KEY_RIGHTCTRL, 0x1d, 0x14),  E(KEY_KPSLASH, 0x35, 0x4a),
    E(KEY_RIGHTALT, 0x38, 0x11),   E(KEY_HOME, 0x47, 0x6c),       E(KEY_UP, 0x48, 0x75),
    E(KEY_PAGEUP, 0x49, 0x7d),     E(KEY_LEFT, 0x4b, 0x6b),       E(KEY_RIGHT, 0x4d, 0x74),
    E(KEY_END, 0x4f, 0x69),        E(KEY_DOWN, 0x50, 0x72),       E(KEY_PAGEDOWN, 0x51, 0x7a),
    E(KEY_INSERT, 0x52, 0x70),     E(KEY_DELETE, 0x53, 0x71),     E(KEY_MUTE, 0x20, 0x23),
    E(KEY_VOLUMEDOWN, 0x2e, 0x21), E(KEY_VOLUMEUP, 0x30, 0x32),   E(KEY_POWER, 0x5e, 0x37),
    E(KEY_LEFTMETA, 0x5b, 0x1f),   E(KEY_RIGHTMETA, 0x5c, 0x27),  E(KEY_COMPOSE, 0x5d, 0x2f),
};
#undef K
#undef E

/* The bytes KEY sends when pressed (DOWN) or released, in set 1 or 2, into B (8 bytes).
 * 0 if the key has no scan code (or, for Pause, on release). */
static unsigned key_bytes(unsigned key, int down, int set1, uint8_t b[8])
{
    static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
    static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
    static const uint8_t print1[2][4] = { { 0xe0, 0xb7, 0xe0, 0xaa }, { 0xe0, 0x2a, 0xe0, 0x37 } };
    static const uint8_t print2[2][6] = { { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 },
                                          { 0xe0, 0x12, 0xe0, 0x7c } };
    unsigned n = 0;

    if (key == KEY_PAUSE) { /* make only: the key has no break code */
        if (!down)
            return 0;
        n = set1 ? sizeof(pause1) : sizeof(pause2);
        memcpy(b, set1 ? pause1 : pause2, n);
        return n;
    }
    if (key == KEY_SYSRQ || key == KEY_PRINT) { /* PrintScreen: shift-like prefix, then E0 37 */
        n = set1 ? 4 : down ? 4 : 6;
        memcpy(b, set1 ? print1[!!down] : print2[!!down], n);
        return n;
    }
    if (key >= ARRAY_SIZE(scancodes) || !scancodes[key].set1)
        return 0;
    const struct scancode *c = &scancodes[key];
    if (c->e0)
        b[n++] = 0xe0;
    if (set1) {
        b[n++] = (uint8_t)(down ? c->set1 : c->set1 | 0x80);
    } else {
        if (!down)
            b[n++] = 0xf0;
        b[n++] = c->set2;
    }
    return n;
}

static int kbd_active(void *opaque)
{
    struct i8042 *s = opaque;
    return s->kbd_enabled && !(s->ccb & CCB_KBD_DISABLE);
}

static void kbd_key(void *opaque, unsigned key, int down)
{
    struct i8042 *s = opaque;
    uint8_t b[8];
    unsigned n = key_bytes(key, down, (s->ccb & CCB_XLATE) || s->kbd_set == 1, b);

    if (!kbd_active(s))
        return;
    if (!n) {
        if (key != KEY_PAUSE)
            log_guest(&s->in_rl, "i8042", "key %u has no scan code, not sent", key);
        return;
    }
    if (input_room(s) < n) {
        log_guest(&s->in_rl, "i8042", "keyboard buffer full (guest not reading), key %u lost", key);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        queue(s, b[i], 0);
    refill(s);
}

/* ---- mouse packets ---- */

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void aux_forget_motion(struct i8042 *s)
{
    s->aux_dx = s->aux_dy = s->aux_dz = 0;
    s->aux_pending_buttons = s->aux_buttons;
}

/* Queue one packet with as much of the waiting motion as it carries. */
static void aux_packet(struct i8042 *s)
{
    int dx = clamp(s->aux_dx, -255, 255);
    int dy = clamp(s->aux_dy, -255, 255);  /* screen direction: +y down */
    int dz = clamp(s->aux_dz, -127, 127);  /* +: scroll up */
    s->aux_dx -= dx;
    s->aux_dy -= dy;
    s->aux_dz -= dz;
    s->aux_buttons = (uint8_t)(s->aux_pending_buttons & 7);
    int y = -dy;                           /* PS/2: +y up */
    queue(s, (uint8_t)(0x08 | s->aux_buttons | (dx < 0 ? 0x10 : 0) | (y < 0 ? 0x20 : 0)), 1);
    queue(s, (uint8_t)dx, 1);
    queue(s, (uint8_t)y, 1);
    if (s->aux_id == 3)
        queue(s, (uint8_t)-dz, 1);         /* IntelliMouse: + is toward the user */
}

static int aux_has_motion(const struct i8042 *s)
{
    return s->aux_dx || s->aux_dy || s->aux_dz || s->aux_pending_buttons != s->aux_buttons;
}

/* Stream what motion waits, as far as the queue has room (bounded: a packet per call moves at
 * least 127 units, and the queue holds at most a few packets). */
static void aux_flush(struct i8042 *s)
{
    unsigned len = s->aux_id == 3 ? 4 : 3;
    if (!s->aux_enabled || !s->aux_stream || (s->ccb & CCB_AUX_DISABLE))
        return;
    for (int i = 0; i < 16 && aux_has_motion(s) && input_room(s) >= len; i++)
        aux_packet(s);
}

static int aux_active(void *opaque)
{
    struct i8042 *s = opaque;
    return s->aux_enabled && !(s->ccb & CCB_AUX_DISABLE);
}

static void aux_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    struct i8042 *s = opaque;
    if (!aux_active(s))
        return;
    /* sums bounded so that a client flooding motion cannot overflow them */
    s->aux_dx = clamp(s->aux_dx + clamp(dx, -65536, 65536), -65536, 65536);
    s->aux_dy = clamp(s->aux_dy + clamp(dy, -65536, 65536), -65536, 65536);
    s->aux_dz = clamp(s->aux_dz + clamp(dz, -1024, 1024), -1024, 1024);
    s->aux_pending_buttons = buttons & 7;
    aux_flush(s);
    refill(s);
}

/* ---- the keyboard ---- */

static void kbd_write(struct i8042 *s, uint8_t v)
{
    if (s->kbd_cmd) {
        uint8_t c = s->kbd_cmd;
        s->kbd_cmd = 0;
        if (c == 0xf0 && v == 0) {
            queue(s, ACK, 0);
            queue(s, s->kbd_set, 0); /* the current scan code set */
            return;
        }
        if (c == 0xf0 && (v == 1 || v == 2))
            s->kbd_set = v;          /* set 3 is not offered: the keyboard stays where it is */
        queue(s, ACK, 0); /* LEDs, scan code set, typematic: parameter taken */
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf0: /* scan code set */
    case 0xf3: /* typematic rate */
        s->kbd_cmd = v;
        queue(s, ACK, 0);
        break;
    case 0xee: /* echo */
        queue(s, 0xee, 0);
        break;
    case 0xf2: /* identify: MF2 keyboard */
        queue(s, ACK, 0);
        queue(s, 0xab, 0);
        queue(s, 0x83, 0);
        break;
    case 0xf4:
        s->kbd_enabled = 1;
        queue(s, ACK, 0);
        break;
    case 0xf5:
        s->kbd_enabled = 0;
        queue(s, ACK, 0);
        break;
    case 0xf6: /* defaults */
        s->kbd_set = 2;
        queue(s, ACK, 0);
        break;
    case 0xff: /* reset: ack, then self-test passed */
        s->kbd_enabled = 1;
        s->kbd_set = 2;
        queue(s, ACK, 0);
        queue(s, 0xaa, 0);
        break;
    default: /* 0xf7-0xfd set modes, anything else: acknowledged */
        queue(s, ACK, 0);
        break;
    }
}

/* ---- the mouse ---- */

static void aux_write(struct i8042 *s, uint8_t v)
{
    if (s->aux_cmd) {
        uint8_t c = s->aux_cmd;
        s->aux_cmd = 0;
        if (c == 0xf3) {
            s->aux_rate = v;
            s->aux_rates = ((s->aux_rates << 8) | v) & 0xffffff;
            if (s->aux_rates == IMPS_SEQ)
                s->aux_id = 3;
        }
        else if (c == 0xe8)
            s->aux_res = v & 3;
        queue(s, ACK, 1);
        return;
    }
    switch (v) {
    case 0xe6: s->aux_scaling = 1; queue(s, ACK, 1); break;
    case 0xe7: s->aux_scaling = 2; queue(s, ACK, 1); break;
    case 0xe8: /* resolution */
    case 0xf3: /* sample rate */
        s->aux_cmd = v;
        queue(s, ACK, 1);
        break;
    case 0xe9: /* status request */
        queue(s, ACK, 1);
        queue(s, (uint8_t)((s->aux_stream ? 0 : 0x40) | (s->aux_enabled ? 0x20 : 0) |
                           (s->aux_scaling == 2 ? 0x10 : 0)), 1);
        queue(s, s->aux_res, 1);
        queue(s, s->aux_rate, 1);
        break;
    case 0xea: s->aux_stream = 1; queue(s, ACK, 1); break;
    case 0xf0: s->aux_stream = 0; queue(s, ACK, 1); break;
    case 0xeb: /* read data: a packet with the motion since the last one */
        queue(s, ACK, 1);
        aux_packet(s);
        break;
    case 0xf2: /* identify: standard PS/2 mouse, or IntelliMouse after its rate sequence */
        queue(s, ACK, 1);
        queue(s, s->aux_id, 1);
        break;
    case 0xf4:
        s->aux_enabled = 1;
        aux_forget_motion(s);
        queue(s, ACK, 1);
        break;
    case 0xf5:
        s->aux_enabled = 0;
        aux_forget_motion(s);
        queue(s, ACK, 1);
        break;
    case 0xf6:
        s->aux_rate = 100;
        s->aux_res = 2;
        s->aux_scaling = 1;
        queue(s, ACK, 1);
        break;
    case 0xff:
        s->aux_enabled = 0;
        s->aux_id = 0;
        s->aux_rates = 0;
        s->aux_buttons = 0;
        aux_forget_motion(s);
        s->aux_rate = 100;
        s->aux_res = 2;
        s->aux_scaling = 1;
        s->aux_stream = 1;
        queue(s, ACK, 1);
        queue(s, 0xaa, 1);
        queue(s, 0x00, 1);
        break;
    default:
        queue(s, ACK, 1);
        break;
    }
}

/* ---- the controller ---- */

static void controller_cmd(struct i8042 *s, uint8_t c)
{
    switch (c) {
    case 0x20: /* read command byte */
        queue(s, s->ccb, 0);
        break;
    case 0x60: /* write command byte */
    case 0xd1: /* write output port */
    case 0xd2: /* write keyboard output buffer */
    case 0xd3: /* write aux output buffer */
    case 0xd4: /* write to aux device */
        s->pending_cmd = c;
        break;
    case 0xa7: s->ccb |= CCB_AUX_DISABLE; break;
    case 0xa8: s->ccb &= (uint8_t)~CCB_AUX_DISABLE; break;
    case 0xa9: queue(s, 0x00, 0); break; /* aux interface test: OK */
    case 0xaa:                          /* self test */
        s->status |= ST_SYS;
        queue(s, 0x55, 0);
        break;
    case 0xab: queue(s, 0x00, 0); break; /* keyboard interface test: OK */
    case 0xad: s->ccb |= CCB_KBD_DISABLE; break;
    case 0xae: s->ccb &= (uint8_t)~CCB_KBD_DISABLE; break;
    case 0xc0: queue(s, 0x80, 0); break; /* input port: keyboard not inhibited */
    case 0xd0: queue(s, s->outport, 0); break;
    case 0xe0: queue(s, 0x00, 0); break; /* test inputs */
    default:
        if (c >= 0xf0) {
            /* pulse output port bits whose mask bit is 0; bit 0 is the reset line */
            if (!(c & 1))
                reset_line(s);
        } else {
            log_guest(&s->rl, "i8042", "unknown controller command %#x", c);
        }
        break;
    }
}

static void data_write(struct i8042 *s, uint8_t v)
{
    uint8_t c = s->pending_cmd;
    s->pending_cmd = 0;
    switch (c) {
    case 0x60:
        s->ccb = v;
        if (v & CCB_SYS)
            s->status |= ST_SYS;
        else
            s->status &= (uint8_t)~ST_SYS;
        break;
    case 0xd1:
        s->outport = v;
        if (!(v & 1))
            reset_line(s);
        break;
    case 0xd2:
        queue(s, v, 0);
        break;
    case 0xd3:
        queue(s, v, 1);
        break;
    case 0xd4:
        aux_write(s, v);
        break;
    default:
        kbd_write(s, v);
        break;
    }
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return ones(size);
    uint8_t v = s->obuf;
    s->status &= (uint8_t)~(ST_OBF | ST_AUXB);
    /* the read lowers the line; the next byte raises it again: an edge for each byte, which
     * the (edge-triggered) ISA interrupt needs (seen: SeaBIOS got only a key's first byte) */
    update_irq(s);
    aux_flush(s);
    refill(s);
    return v;
}

static void data_port_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return;
    s->status &= (uint8_t)~ST_CMD;
    data_write(s, (uint8_t)val);
    refill(s);
}

static uint64_t status_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return ones(size);
    return s->status;
}

static void cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return;
    s->status |= ST_CMD;
    s->pending_cmd = 0;
    controller_cmd(s, (uint8_t)val);
    refill(s);
}

static const struct io_ops data_ops = { .read = data_read, .write = data_port_write };
static const struct io_ops cmd_ops = { .read = status_read, .write = cmd_write };

/* ---- state: the controller, its output buffer and reply queue, both devices' modes ---- */

static const struct snap_reg i8042_regs[] = {
    SNAP_REG(struct i8042, status, 0, 0xff),
    SNAP_REG(struct i8042, ccb, 0, 0xff),
    SNAP_REG(struct i8042, outport, 0, 0xff),
    SNAP_REG(struct i8042, obuf, 0, 0xff),
    SNAP_REG(struct i8042, pending_cmd, 0, 0xff),
    SNAP_REG(struct i8042, kbd_cmd, 0, 0xff),
    SNAP_REG(struct i8042, aux_cmd, 0, 0xff),
    SNAP_REG(struct i8042, aux_rate, 0, 0xff),
    SNAP_REG(struct i8042, aux_res, 0, 3),
    SNAP_REG(struct i8042, aux_scaling, 1, 2),
    SNAP_REG(struct i8042, aux_stream, 0, 1),
    SNAP_REG(struct i8042, kbd_set, 1, 2),
    SNAP_REG(struct i8042, aux_buttons, 0, 7),
};

static int i8042_save(void *state, struct snap_writer *w)
{
    struct i8042 *s = state;
    uint8_t qb[QLEN], qaux[QLEN];
    for (unsigned i = 0; i < s->q_len; i++) {
        qb[i] = s->q[(s->q_head + i) % QLEN].b;
        qaux[i] = s->q[(s->q_head + i) % QLEN].aux;
    }
    snap_put_regs(w, s, i8042_regs, ARRAY_SIZE(i8042_regs));
    snap_put_bool(w, "obuf_aux", s->obuf_aux);
    snap_put_bool(w, "kbd_enabled", s->kbd_enabled);
    snap_put_bool(w, "aux_enabled", s->aux_enabled);
    snap_put_u8(w, "queue_len", (uint8_t)s->q_len);
    snap_put_bytes(w, "queue", qb, s->q_len);
    snap_put_bytes(w, "queue_aux", qaux, s->q_len);
    snap_put_u8(w, "aux_id", s->aux_id);
    snap_put_u32(w, "aux_rates", s->aux_rates);
    return 0;
}

static int one_of(uint8_t v, const char *set)
{
    return memchr(set, v, strlen(set) + 1) != NULL; /* the terminating 0 is in the set */
}

static int load_queue(struct i8042 *t, struct snap_reader *r)
{
    uint8_t qb[QLEN], qaux[QLEN], n;
    if (snap_get_u8_in(r, "queue_len", &n, 0, QLEN) < 0 || snap_get_bytes(r, "queue", qb, n) < 0 ||
        snap_get_bytes(r, "queue_aux", qaux, n) < 0)
        return -EINVAL;
    t->q_head = 0;
    t->q_len = n;
    for (unsigned i = 0; i < n; i++) {
        if (qaux[i] > 1)
            return snap_fail(r, NULL, "byte %u is %u, not 0 (keyboard) or 1 (aux)", i, qaux[i]);
        t->q[i].b = qb[i];
        t->q[i].aux = qaux[i];
    }
    return 0;
}

static int i8042_load(void *state, struct snap_reader *r, int commit)
{
    struct i8042 *s = state;
    struct i8042 t = *s;
    const uint8_t st_bits = ST_OBF | ST_SYS | ST_CMD | ST_UNLOCKED | ST_AUXB;

    if (snap_get_regs(r, &t, i8042_regs, ARRAY_SIZE(i8042_regs)) < 0 ||
        snap_get_bool(r, "obuf_aux", &t.obuf_aux) < 0 ||
        snap_get_bool(r, "kbd_enabled", &t.kbd_enabled) < 0 ||
        snap_get_bool(r, "aux_enabled", &t.aux_enabled) < 0 || load_queue(&t, r) < 0 ||
        snap_get_u8(r, "aux_id", &t.aux_id) < 0 ||
        snap_check(r, t.aux_id == 0 || t.aux_id == 3, "aux_id",
                   "%u: 0 (standard mouse) or 3 (IntelliMouse)", t.aux_id) < 0 ||
        snap_get_u32_in(r, "aux_rates", &t.aux_rates, 0, 0xffffff) < 0 ||
        snap_check(r, !(t.status & ~st_bits) && (t.status & ST_UNLOCKED), "status",
                   "%#x: only bits %#x, and %#x always set", t.status, st_bits, ST_UNLOCKED) < 0 ||
        snap_check(r, !(t.status & ST_AUXB) == !((t.status & ST_OBF) && t.obuf_aux), "status",
                   "AUXB must say whether the full output buffer holds a mouse byte") < 0 ||
        snap_check(r, !t.q_len || (t.status & ST_OBF), "status",
                   "output buffer empty with %u bytes queued", t.q_len) < 0 ||
        snap_check(r, one_of(t.pending_cmd, "\x60\xd1\xd2\xd3\xd4"), "pending_cmd",
                   "%#x is no controller command that takes a data byte", t.pending_cmd) < 0 ||
        snap_check(r, one_of(t.kbd_cmd, "\xed\xf0\xf3"), "kbd_cmd",
                   "%#x is no keyboard command that takes a parameter", t.kbd_cmd) < 0 ||
        snap_check(r, one_of(t.aux_cmd, "\xe8\xf3"), "aux_cmd",
                   "%#x is no mouse command that takes a parameter", t.aux_cmd) < 0)
        return -EINVAL;
    if (commit) {
        *s = t;
        aux_forget_motion(s);
        update_irq(s);
    }
    return 0;
}

static void i8042_destroy(void *state)
{
    struct i8042 *s = state;
    if (s) {
        if (s->registered)
            input_del_target(s->base.vm, s);
        irq_isa_set(&s->base.vm->irq, 1, 0);
        irq_isa_set(&s->base.vm->irq, 12, 0);
    }
    dev_free(s);
}

static int i8042_create(struct vm *vm, void **state)
{
    struct i8042 *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->status = ST_UNLOCKED;
    s->ccb = CCB_KBD_INT | CCB_AUX_INT | CCB_XLATE;
    s->outport = 0x03; /* reset line high (not resetting), A20 on */
    s->kbd_enabled = 1;
    s->aux_rate = 100;
    s->aux_res = 2;
    s->aux_scaling = 1;
    s->aux_stream = 1;
    s->kbd_set = 2;
    int r = dev_add_pio(s, "i8042-data", DATA, 1, &data_ops, s);
    if (r == 0)
        r = dev_add_pio(s, "i8042-cmd", CMD, 1, &cmd_ops, s);
    if (r == 0) {
        const struct input_target kbd = { .kind = INPUT_KEYBOARD, .priority = 0,
                                          .name = "i8042 keyboard", .active = kbd_active,
                                          .key = kbd_key, .opaque = s };
        const struct input_target mouse = { .kind = INPUT_REL, .priority = 0,
                                            .name = "i8042 mouse", .active = aux_active,
                                            .rel = aux_rel, .opaque = s };
        s->registered = 1;
        r = input_add_target(vm, &kbd);
        if (r == 0)
            r = input_add_target(vm, &mouse);
    }
    return dev_created(state, s, r, i8042_destroy);
}

DEVICE(dev_i8042, "i8042", 2, i8042_create, i8042_destroy, i8042_save, i8042_load);

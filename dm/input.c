/* SPDX-License-Identifier: GPL-2.0-only */
/* Input routing from sources to guest devices (see input.h). */
#include "dm/input.h"
#include "dm/display.h"
#include "dm/log.h"
#include "dm/vm.h"
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 8
#define KEY_BITS (KEY_MAX + 1)

struct input {
    struct input_target target[MAX_TARGETS];
    unsigned n;
    uint8_t held[KEY_BITS / 8];    /* keys a source pressed and has not released */
    unsigned buttons;              /* buttons held, as last reported */
    int have_abs;                  /* last absolute position known (for relative fallback) */
    unsigned abs_x, abs_y;
};

static struct input *input_get(struct vm *vm)
{
    if (!vm->input)
        vm->input = calloc(1, sizeof(struct input));
    return vm->input;
}

int input_add_target(struct vm *vm, const struct input_target *t)
{
    struct input *in = input_get(vm);
    if (!in)
        return -ENOMEM;
    if (in->n == MAX_TARGETS)
        return -ENOSPC;
    in->target[in->n++] = *t;
    return 0;
}

void input_del_target(struct vm *vm, void *opaque)
{
    struct input *in = vm->input;
    if (!in)
        return;
    for (unsigned i = 0; i < in->n;) {
        if (in->target[i].opaque == opaque) {
            memmove(&in->target[i], &in->target[i + 1], (in->n - i - 1) * sizeof(in->target[0]));
            in->n--;
        } else {
            i++;
        }
    }
}

void input_fini(struct vm *vm)
{
    free(vm->input);
    vm->input = NULL;
}

/* The active target of KIND with the highest priority (the first registered among equals). */
static struct input_target *route(struct input *in, enum input_kind kind)
{
    struct input_target *best = NULL;
    for (unsigned i = 0; i < in->n; i++) {
        struct input_target *t = &in->target[i];
        if (t->kind != kind || (t->active && !t->active(t->opaque)))
            continue;
        if (!best || t->priority > best->priority)
            best = t;
    }
    return best;
}

void input_key(struct vm *vm, unsigned code, int down)
{
    struct input *in = input_get(vm);
    if (!in || code == 0 || code >= KEY_BITS)
        return;
    if (down)
        in->held[code / 8] |= (uint8_t)(1u << (code % 8));
    else
        in->held[code / 8] &= (uint8_t)~(1u << (code % 8));
    struct input_target *t = route(in, INPUT_KEYBOARD);
    if (t && t->key)
        t->key(t->opaque, code, !!down);
}

void input_rel(struct vm *vm, int dx, int dy, int dz, unsigned buttons)
{
    struct input *in = input_get(vm);
    if (!in)
        return;
    in->buttons = buttons;
    struct input_target *t = route(in, INPUT_REL);
    if (t && t->rel)
        t->rel(t->opaque, dx, dy, dz, buttons);
}

/* Absolute motion as relative motion for a PS/2 mouse: in screen pixels when the display's
 * size is known, else in 1/32 of the absolute range's units (about a pixel at 1024 wide). */
static int scale_delta(int d, unsigned extent)
{
    if (!extent)
        return d / 32;
    return (int)((long long)d * (long long)extent / (INPUT_ABS_MAX + 1));
}

void input_abs(struct vm *vm, unsigned x, unsigned y, int dz, unsigned buttons)
{
    struct input *in = input_get(vm);
    if (!in)
        return;
    x = MIN(x, (unsigned)INPUT_ABS_MAX);
    y = MIN(y, (unsigned)INPUT_ABS_MAX);
    struct input_target *t = route(in, INPUT_ABS);
    if (t && t->abs) {
        t->abs(t->opaque, x, y, dz, buttons);
    } else {
        int dx = 0, dy = 0;
        if (in->have_abs) {
            const struct display_surface *s =
                vm->display ? display_surface(vm->display) : NULL;
            dx = scale_delta((int)x - (int)in->abs_x, s ? s->width : 0);
            dy = scale_delta((int)y - (int)in->abs_y, s ? s->height : 0);
        }
        struct input_target *r = route(in, INPUT_REL);
        if (r && r->rel && (dx || dy || dz || buttons != in->buttons))
            r->rel(r->opaque, dx, dy, dz, buttons);
    }
    in->have_abs = 1;
    in->abs_x = x;
    in->abs_y = y;
    in->buttons = buttons;
}

void input_release_all(struct vm *vm)
{
    struct input *in = vm->input;
    if (!in)
        return;
    for (unsigned code = 1; code < KEY_BITS; code++)
        if (in->held[code / 8] & (1u << (code % 8)))
            input_key(vm, code, 0);
    if (in->buttons) {
        if (in->have_abs)
            input_abs(vm, in->abs_x, in->abs_y, 0, 0);
        else
            input_rel(vm, 0, 0, 0, 0);
    }
}

/* QEMU's QKeyCode names (qapi/ui.json) and the Linux codes they stand for. */
static const struct {
    const char *name;
    unsigned short code;
} qcodes[] = {
    { "shift", KEY_LEFTSHIFT }, { "shift_r", KEY_RIGHTSHIFT }, { "alt", KEY_LEFTALT },
    { "alt_r", KEY_RIGHTALT }, { "ctrl", KEY_LEFTCTRL }, { "ctrl_r", KEY_RIGHTCTRL },
    { "menu", KEY_COMPOSE }, { "esc", KEY_ESC }, { "1", KEY_1 }, { "2", KEY_2 }, { "3", KEY_3 },
    { "4", KEY_4 }, { "5", KEY_5 }, { "6", KEY_6 }, { "7", KEY_7 }, { "8", KEY_8 },
    { "9", KEY_9 }, { "0", KEY_0 }, { "minus", KEY_MINUS }, { "equal", KEY_EQUAL },
    { "backspace", KEY_BACKSPACE }, { "tab", KEY_TAB }, { "q", KEY_Q }, { "w", KEY_W },
    { "e", KEY_E }, { "r", KEY_R }, { "t", KEY_T }, { "y", KEY_Y }, { "u", KEY_U },
    { "i", KEY_I }, { "o", KEY_O }, { "p", KEY_P }, { "bracket_left", KEY_LEFTBRACE },
    { "bracket_right", KEY_RIGHTBRACE }, { "ret", KEY_ENTER }, { "a", KEY_A }, { "s", KEY_S },
    { "d", KEY_D }, { "f", KEY_F }, { "g", KEY_G }, { "h", KEY_H }, { "j", KEY_J },
    { "k", KEY_K }, { "l", KEY_L }, { "semicolon", KEY_SEMICOLON },
    { "apostrophe", KEY_APOSTROPHE }, { "grave_accent", KEY_GRAVE },
    { "backslash", KEY_BACKSLASH }, { "z", KEY_Z }, { "x", KEY_X }, { "c", KEY_C },
    { "v", KEY_V }, { "b", KEY_B }, { "n", KEY_N }, { "m", KEY_M }, { "comma", KEY_COMMA },
    { "dot", KEY_DOT }, { "slash", KEY_SLASH }, { "asterisk", KEY_KPASTERISK },
    { "spc", KEY_SPACE }, { "caps_lock", KEY_CAPSLOCK }, { "f1", KEY_F1 }, { "f2", KEY_F2 },
    { "f3", KEY_F3 }, { "f4", KEY_F4 }, { "f5", KEY_F5 }, { "f6", KEY_F6 }, { "f7", KEY_F7 },
    { "f8", KEY_F8 }, { "f9", KEY_F9 }, { "f10", KEY_F10 }, { "num_lock", KEY_NUMLOCK },
    { "scroll_lock", KEY_SCROLLLOCK }, { "kp_divide", KEY_KPSLASH },
    { "kp_multiply", KEY_KPASTERISK }, { "kp_subtract", KEY_KPMINUS },
    { "kp_add", KEY_KPPLUS }, { "kp_enter", KEY_KPENTER }, { "kp_decimal", KEY_KPDOT },
    { "sysrq", KEY_SYSRQ }, { "kp_0", KEY_KP0 }, { "kp_1", KEY_KP1 }, { "kp_2", KEY_KP2 },
    { "kp_3", KEY_KP3 }, { "kp_4", KEY_KP4 }, { "kp_5", KEY_KP5 }, { "kp_6", KEY_KP6 },
    { "kp_7", KEY_KP7 }, { "kp_8", KEY_KP8 }, { "kp_9", KEY_KP9 }, { "less", KEY_102ND },
    { "f11", KEY_F11 }, { "f12", KEY_F12 }, { "print", KEY_SYSRQ }, { "home", KEY_HOME },
    { "pgup", KEY_PAGEUP }, { "pgdn", KEY_PAGEDOWN }, { "end", KEY_END }, { "left", KEY_LEFT },
    { "up", KEY_UP }, { "down", KEY_DOWN }, { "right", KEY_RIGHT }, { "insert", KEY_INSERT },
    { "delete", KEY_DELETE }, { "pause", KEY_PAUSE }, { "meta_l", KEY_LEFTMETA },
    { "meta_r", KEY_RIGHTMETA }, { "kp_equals", KEY_KPEQUAL }, { "power", KEY_POWER },
    { "sleep", KEY_SLEEP }, { "wake", KEY_WAKEUP }, { "ro", KEY_RO }, { "yen", KEY_YEN },
    { "henkan", KEY_HENKAN }, { "muhenkan", KEY_MUHENKAN }, { "katakanahiragana", KEY_KATAKANAHIRAGANA },
    { "hiragana", KEY_HIRAGANA }, { "kp_comma", KEY_KPCOMMA }, { "audionext", KEY_NEXTSONG },
    { "audioprev", KEY_PREVIOUSSONG }, { "audiostop", KEY_STOPCD }, { "audioplay", KEY_PLAYPAUSE },
    { "audiomute", KEY_MUTE }, { "volumeup", KEY_VOLUMEUP }, { "volumedown", KEY_VOLUMEDOWN },
    { "compose", KEY_COMPOSE }, { "stop", KEY_STOP }, { "again", KEY_AGAIN }, { "props", KEY_PROPS },
    { "undo", KEY_UNDO }, { "front", KEY_FRONT }, { "copy", KEY_COPY }, { "open", KEY_OPEN },
    { "paste", KEY_PASTE }, { "find", KEY_FIND }, { "cut", KEY_CUT }, { "help", KEY_HELP },
    { "lf", KEY_LINEFEED },
};

int input_qcode(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(qcodes); i++)
        if (!strcmp(qcodes[i].name, name))
            return qcodes[i].code;
    return -1;
}

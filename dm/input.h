/* SPDX-License-Identifier: GPL-2.0-only */
/* Keyboard and pointer input, from the sources that produce it (the VNC server, QMP send-key /
 * input-send-event, HMP sendkey) to the guest devices that deliver it (the i8042 keyboard and
 * PS/2 mouse, the USB tablet, the PV keyboard and pointer). Keys are Linux input event codes
 * (<linux/input-event-codes.h> KEY_*, BTN_*): the one code set every target maps from (i8042
 * to scan code set 1/2, USB HID to usages, Xen's kbdif uses them as they are). Sources
 * translate into it (the VNC server from keysyms per keyboard layout, QMP from qcodes).
 *
 * Routing: a key goes to the active keyboard of highest priority; an absolute pointer event
 * to the active absolute pointer of highest priority, and if none is active, as the motion
 * since the last absolute position to the active relative pointer (the PS/2 mouse). A target
 * is active when it says so (a USB tablet the guest configured, a connected PV frontend).
 * Everything runs on the loop's thread. */
#ifndef HVMD_INPUT_H
#define HVMD_INPUT_H
#include <stdint.h>
#include "dm/util.h"

struct vm;

/* Absolute coordinates are scaled to [0, INPUT_ABS_MAX] on each axis whatever the screen. */
#define INPUT_ABS_MAX 0x7fff

/* Buttons, as bits. */
#define INPUT_BTN_LEFT 0x01
#define INPUT_BTN_RIGHT 0x02
#define INPUT_BTN_MIDDLE 0x04

enum input_kind { INPUT_KEYBOARD, INPUT_REL, INPUT_ABS };

struct input_target {
    enum input_kind kind;
    int priority;                 /* higher wins among active targets of a kind */
    const char *name;             /* for the log and QMP */
    /* Is the guest listening now? NULL: always. */
    int (*active)(void *opaque);
    /* INPUT_KEYBOARD: CODE a Linux KEY_* code, DOWN 1 on press, 0 on release. */
    void (*key)(void *opaque, unsigned code, int down);
    /* INPUT_REL: motion DX, DY (screen direction: +y down), wheel DZ (+: away from the user,
     * i.e. scroll up), BUTTONS the INPUT_BTN_* held now. */
    void (*rel)(void *opaque, int dx, int dy, int dz, unsigned buttons);
    /* INPUT_ABS: X, Y in [0, INPUT_ABS_MAX], DZ and BUTTONS as for rel. */
    void (*abs)(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons);
    void *opaque;
};

/* ---- targets (devices) ---- */
/* Register T (copied) on VM: 0, -ENOSPC (at most 8) or -ENOMEM. */
int input_add_target(struct vm *vm, const struct input_target *t) WUR;
/* Remove every target with this OPAQUE (a device going away). */
void input_del_target(struct vm *vm, void *opaque);

/* ---- sources ---- */
void input_key(struct vm *vm, unsigned code, int down);
void input_rel(struct vm *vm, int dx, int dy, int dz, unsigned buttons);
/* X, Y in [0, INPUT_ABS_MAX] (clamped). */
void input_abs(struct vm *vm, unsigned x, unsigned y, int dz, unsigned buttons);
/* The Linux KEY_* code of a QEMU QKeyCode name ("a", "ctrl", "alt", "delete", "kp_enter",
 * "ret", "spc", ...), or -1: what QMP send-key and HMP sendkey take. */
int input_qcode(const char *name);
/* Release every key and button a source left held (a VNC client that went away). */
void input_release_all(struct vm *vm);

/* Free VM's input state (vm_fini). */
void input_fini(struct vm *vm);
#endif

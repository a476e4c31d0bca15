/* SPDX-License-Identifier: GPL-2.0-only */
/* The VNC console (libvncserver, on the loop's thread): the guest's display (dm/display.h) to
 * RFB clients, their keys and pointer to the guest (dm/input.h). What libxl passes:
 *   -vnc none | -vnc ADDR:DISPLAY[,password=on][,to=N]   (port 5900+DISPLAY, trying the next
 *                                                        ones up to 5900+N with to=)
 *   -k LAYOUT                                            (en-us, the default, or de)
 * The listening socket is made at vnc_new, before the sandbox; serving a client needs only
 * accept4 and reads and writes on its socket. Frames are refreshed on a loop timer only while a
 * client is connected. With password=on every login is refused until QMP change-vnc-password
 * sets one (as QEMU does). */
#ifndef HVMD_VNC_H
#define HVMD_VNC_H

#include <stddef.h>
#include "dm/util.h"

struct vm;
struct vnc;

/* Parse -vnc SPEC and -k KEYMAP (either may be NULL) without opening anything: 0, or -EINVAL
 * with ERR set. Used by the command line parser so a bad option fails early. */
int vnc_check_args(const char *spec, const char *keymap, char *err, size_t errlen) WUR;

/* Start the server SPEC asks for on VM (its display if it has one, else a black screen) and
 * listen. *OUT is NULL for "-vnc none" / no SPEC. 0, or a negative errno with ERR set. */
int vnc_new(struct vm *vm, const char *spec, const char *keymap, struct vnc **out, char *err,
            size_t errlen) WUR;
void vnc_free(struct vnc *v);

/* What QMP query-vnc says. */
struct vnc_info {
    char host[64];        /* the address listened on, numeric */
    const char *family;   /* "ipv4" / "ipv6" */
    unsigned port;
    const char *auth;     /* "none" / "vnc" */
    unsigned clients;
};
void vnc_query(const struct vnc *v, struct vnc_info *i);
/* QMP change-vnc-password: 0, or -EINVAL with ERR set (the server was not started with
 * password=on). Only the first 8 characters count (VNC authentication). */
int vnc_set_password(struct vnc *v, const char *password, char *err, size_t errlen) WUR;

/* Tests and fuzzing: serve a client already connected on FD (taken over), as if accepted. */
int vnc_add_client(struct vnc *v, int fd) WUR;
/* Tests and fuzzing: a server with no listening socket. */
struct vnc *vnc_new_unlistened(struct vm *vm, const char *keymap, int password);
/* How many clients are connected. */
unsigned vnc_clients(const struct vnc *v);

/* The Linux KEY_* code for X keysym SYM on LAYOUT (0: en-us, 1: de), or 0 (tests). */
unsigned vnc_keysym_to_key(unsigned layout, unsigned sym);
/* The Linux KEY_* code for QEMU's key number QNUM (XT scan code, | 0x80 if E0-prefixed), or 0. */
unsigned vnc_qnum_to_key(unsigned qnum);

#endif

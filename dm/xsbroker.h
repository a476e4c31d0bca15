/* SPDX-License-Identifier: GPL-2.0-only */
/* The xenstore broker, for dm_restrict (dm/RESTRICT.md). hvmd's own connection to xenstored
 * is a dom0 connection: with it, a device model taken over by its guest could rewrite every
 * domain's nodes (other guests' backends, libxl's records), which is why qemu-xen closes it
 * under dm_restrict and loses its PV backends. hvmd keeps its backends: a small process
 * forked before the drop (hvmd-xs) makes the xenstore connection as root, then chroots and
 * drops to the same unprivileged user as hvmd, and carries out only the requests of
 * xsb_allowed on hvmd's behalf, over a socket pair (requests and replies) and a second one
 * (watch events); under dm_restrict it also maps the guest's grants (xsb_grant_map). Nothing
 * else of hvmd's is open in it. */
#ifndef HVMD_XSBROKER_H
#define HVMD_XSBROKER_H

#include <stddef.h>
#include <stdint.h>
#include "dm/restrict.h"
#include "dm/util.h"

enum xsb_access { XSB_READ, XSB_WRITE };

/* The policy, for domain DOMID. Paths are absolute, in xenstore's character set (letters,
 * digits, - / _ @), no empty component, at most 1024 bytes. Read (and watch):
 *   /local/domain/0/backend/TYPE/DOMID[/...]     the backends' nodes (any TYPE)
 *   /local/domain/0/device-model/DOMID[/...]     libxl's records for this device model
 *   /local/domain/DOMID[/...]                    the guest's own tree (its frontends)
 * Write, remove, set permissions: the first two, and /local/domain/DOMID/device/... (the PV
 * console's tty node, in the frontend's directory, as qemu-xen writes it).
 * Permissions: owner dom0 only, readable by dom0 or DOMID. 1: allowed, 0: refused. */
int xsb_allowed(uint32_t domid, enum xsb_access a, const char *path);

/* The broker's check of one request message from hvmd (which, under dm_restrict, is the side
 * not trusted): 0 with OUT pointing into BUF, -EINVAL (malformed: a length past the message,
 * a path not NUL-terminated where it says, an unknown request, a bad token), or -EACCES (the
 * policy above refuses it). */
struct xsb_parsed {
    uint32_t op;
    const char *path, *s2;
    size_t len2;
    uint32_t owner, reader;
};
int xsb_check_request(uint32_t domid, const void *buf, size_t n, struct xsb_parsed *out);
/* A request message for xsb_check_request's tests: OP (1 read .. 7 unwatch, 8 grant map: A
 * refs in S2, PATH ""), PATH, S2/LEN2.
 * Its length, or 0 if it does not fit in BUF (LEN bytes). */
size_t xsb_make_request(void *buf, size_t len, uint32_t op, uint32_t a, uint32_t b,
                        const char *path, const void *s2, size_t len2);

struct xsb;

/* Fork the broker for DOMID: it connects to xenstore (libxenstore's xs_open, as root), then
 * (PLAN's runas) chroots and becomes PLAN's user. GNT_FD: hvmd's /dev/xen/gntdev (or -1), the
 * same open file in both: the broker maps grants into it (IOCTL_GNTDEV_MAP_GRANT_REF, always
 * of DOMID), hvmd mmaps the offset it is given and unmaps; hvmd's filter refuses the map and
 * copy ioctls (sandbox_refuse_grant_maps), so it reaches no other domain's grants. NULL with
 * ERR set. */
struct xsb *xsb_start(uint32_t domid, const struct restrict_plan *plan, int gnt_fd, char *err,
                      size_t errlen);
/* Map N (1-1024) grant refs of the broker's domain into the shared gntdev file: 0 with *INDEX
 * (the mmap offset), or a negative errno. */
int xsb_grant_map(struct xsb *b, const uint32_t *refs, unsigned n, uint64_t *index);
void xsb_close(struct xsb *b);

/* As libxenstore's calls (absolute paths, no transaction): 0 or a negative errno (-EACCES:
 * refused by the policy, logged by the broker). read: *VAL malloc'd, NUL-terminated, *LEN
 * bytes without the NUL. directory: one malloc'd block like xs_directory's. */
int xsb_read(struct xsb *b, const char *path, char **val, unsigned *len);
int xsb_write(struct xsb *b, const char *path, const char *val, unsigned len);
int xsb_rm(struct xsb *b, const char *path);
int xsb_directory(struct xsb *b, const char *path, char ***names, unsigned *n);
int xsb_set_perms(struct xsb *b, const char *path, uint32_t owner, uint32_t reader);
int xsb_watch(struct xsb *b, const char *path, const char *token);
int xsb_unwatch(struct xsb *b, const char *path, const char *token);

/* Watch events arrive on this descriptor (readable): take them with xsb_event, 1 with PATH
 * and TOKEN pointing into B (valid to the next call), 0 when none is queued. */
int xsb_event_fd(const struct xsb *b);
int xsb_event(struct xsb *b, const char **path, const char **token);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* dm_restrict: what libxl's dm_restrict=1 asks of the device model (LIBXL-QMP.md section 9),
 * -xen-domid-restrict, -chroot DIR, -runas USER|UID:GID. hvmd opens everything first (Xen
 * handles, images, sockets, ptys, its helper processes), then: restricts its privcmd and
 * event channel handles to the guest's domain (xen.c, xs.c), chroots into DIR (libxl's empty
 * /var/run/xen/qemu-root-D), drops to UID:GID with no supplementary groups, and enters the
 * seccomp sandbox (sandbox.h). See dm/RESTRICT.md for what stays reachable and why. */
#ifndef HVMD_RESTRICT_H
#define HVMD_RESTRICT_H

#include <stddef.h>
#include <sys/types.h>
#include "dm/util.h"

struct restrict_plan {
    int domid_restrict;      /* -xen-domid-restrict */
    const char *chroot_dir;  /* -chroot DIR, or NULL */
    int runas;               /* -runas given: uid, gid below */
    uid_t uid;
    gid_t gid;
};

/* -runas SPEC: "UID:GID" (numbers, as libxl passes for xen-qemuuser-range-base) or a user
 * name (xen-qemuuser-shared; its uid and primary group from the password database, read now,
 * before any chroot). Root (uid or gid 0), an unknown name, a malformed pair: -EINVAL with
 * ERR set. */
int restrict_parse_runas(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen) WUR;

/* -chroot DIR: DIR must be an existing directory (libxl makes it, mode 0000, owned by root).
 * 0 or -EINVAL with ERR set. */
int restrict_check_chroot(const char *dir, char *err, size_t errlen) WUR;

/* After everything is open, before the seccomp filter: chroot(DIR) + chdir("/"), then
 * setgroups(1, {gid}), setresgid, setresuid (all three ids), and a check that root cannot be
 * had back. Also ignores SIGXFSZ (libxl's 256 KiB RLIMIT_FSIZE: a write past it fails with
 * EFBIG instead of killing hvmd). 0 or a negative errno with ERR set. */
int restrict_enter(const struct restrict_plan *p, char *err, size_t errlen) WUR;

/* libxl's dm_restrict sets RLIMIT_FSIZE to 256 KiB; Linux checks it against each write's
 * position, so a guest's disk image (a file) could not be written past 256 KiB. While still
 * root: raise it (soft and hard) to the size of the largest regular file this process has
 * open for writing, no further. 1 raised, 0 nothing to do, or a negative errno. (Called by
 * restrict_enter.) */
int restrict_fit_fsize(void);

/* Is anything of dm_restrict asked for? */
static inline int restrict_wanted(const struct restrict_plan *p)
{
    return p->domid_restrict || p->chroot_dir || p->runas;
}

/* For helper processes forked before the drop (the opener): the same drop, without chroot
 * (it opens host paths as that user), plus no new privileges. 0 or a negative errno. */
int restrict_drop_ids(uid_t uid, gid_t gid) WUR;

/* Keep uid 0 but give up every capability (effective, permitted, inheritable, bounding set)
 * and set no-new-privileges: what stays is the owner's access to root-owned files (the
 * cleaner's unlink in /var/run/xen). 0 or a negative errno. */
int restrict_drop_caps(void) WUR;

#endif

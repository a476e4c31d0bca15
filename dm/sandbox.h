/* SPDX-License-Identifier: GPL-2.0-only */
/* The sandbox hvmd enters once its setup is done (every Xen handle, image, socket and pty is
 * open): no new privileges, and a seccomp allow-list of the system calls its steady state and
 * its shutdown make. Anything else kills the process: a guest that takes over the device model
 * gets no exec, no new socket, no connect, no file opened or removed by path, no ioctl but
 * the few requests hvmd makes, no ptrace.
 *
 * Modes: on (the default), off (no filter: for debugging), log (the filter's default action is
 * to log, so a missing system call shows in dom0's kernel log as an audit "type=1326" line with
 * its number; how the allow-list was found). Chosen with -sandbox on|off|log or HVMD_SANDBOX. */
#ifndef HVMD_SANDBOX_H
#define HVMD_SANDBOX_H

#include <stddef.h>
#include "dm/util.h"

enum sandbox_mode { SANDBOX_ON, SANDBOX_OFF, SANDBOX_LOG };

/* "on", "off", "log" (the first comma-separated word); -1 for anything else */
int sandbox_mode_parse(const char *s);
const char *sandbox_mode_name(enum sandbox_mode m);

/* What the sandbox needs from the file system, read now (the time zone, libgcc_s for thread
 * cancellation): before a chroot (dm_restrict). sandbox_enter does it if not done. */
void sandbox_preload(void);

/* Enter the sandbox for this process and all its threads. 0, or a negative errno with ERR set. */
int sandbox_enter(enum sandbox_mode m, char *err, size_t errlen);

/* The mode this process entered (SANDBOX_OFF before sandbox_enter): code that would open a
 * file by path asks, since the filter kills a process that calls open. */
enum sandbox_mode sandbox_current(void);

/* How many system calls the allow-list holds (for the log and the tests). */
unsigned sandbox_allowed_count(void);
/* The ioctl requests allowed (for the tests): the Ith, or 0 past the end. */
unsigned sandbox_ioctl_count(void);
unsigned long sandbox_ioctl_request(unsigned i);

/* Before the filter: have the sockets at PATHS (made by this process, still there) removed
 * once this process is gone, however it ends, by a small process started now that holds
 * nothing of hvmd's (sandbox.c: the cleaner); in the sandbox, unlink fails with EPERM. A path
 * that is no longer the same socket by then is left alone. Returns a descriptor to keep open
 * (closing it starts the removal), or a negative errno with ERR set. */
#define SANDBOX_MAX_PATHS 8
int sandbox_remove_at_exit(const char *const *paths, unsigned n, char *err, size_t errlen) WUR;

/* Files the sandboxed process writes by path (QMP / HMP screendump): the filter allows no
 * open, so a small process started now, before the filter (sandbox.c: the opener), opens
 * them on request and hands the descriptor back. It creates a new file (never following a
 * symbolic link), or replaces one that already holds a screendump (starts as a PPM or PNG,
 * or is empty); anything else is refused with EEXIST, so a device model taken over by its
 * guest cannot overwrite the host's files through it. Without the opener (no sandbox,
 * tests) the same rule applies in-process. */
int sandbox_opener_start(char *err, size_t errlen) WUR;
/* An O_WRONLY descriptor for PATH under that rule, or a negative errno. */
int sandbox_open_output(const char *path);

/* dm_restrict (restrict.h), before the helpers start: the opener drops to P's user (it opens
 * the host paths it is asked for as that user, outside the chroot), and the cleaner keeps
 * uid 0, the owner of the directories it removes sockets from, with no capability left. P
 * must outlive the helpers' start. */
struct restrict_plan;
void sandbox_helpers_restrict(const struct restrict_plan *p);

/* dm_restrict: the filter leaves out IOCTL_GNTDEV_MAP_GRANT_REF and IOCTL_GNTDEV_GRANT_COPY
 * (grants are mapped by the xenstore broker, for the guest's domain only: xsbroker.h).
 * Before sandbox_enter. */
void sandbox_refuse_grant_maps(void);

#endif

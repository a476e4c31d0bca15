/* The sandbox hvmd enters once its setup is done (every Xen handle, image, socket and pty is
 * open): no new privileges, and a seccomp allow-list of the system calls its steady state and
 * its shutdown make. Anything else kills the process: a guest that takes over the device model
 * gets no exec, no new socket, no file opened by path, no ptrace.
 *
 * Modes: on (the default), off (no filter: for debugging), log (the filter's default action is
 * to log, so a missing system call shows in dom0's kernel log as an audit "type=1326" line with
 * its number; how the allow-list was found). Chosen with -sandbox on|off|log or HVMD_SANDBOX. */
#ifndef HVMD_SANDBOX_H
#define HVMD_SANDBOX_H

#include <stddef.h>

enum sandbox_mode { SANDBOX_ON, SANDBOX_OFF, SANDBOX_LOG };

/* "on", "off", "log" (the first comma-separated word); -1 for anything else */
int sandbox_mode_parse(const char *s);
const char *sandbox_mode_name(enum sandbox_mode m);

/* Enter the sandbox for this process and all its threads. 0, or a negative errno with ERR set. */
int sandbox_enter(enum sandbox_mode m, char *err, size_t errlen);

/* How many system calls the allow-list holds (for the log and the tests). */
unsigned sandbox_allowed_count(void);

#endif

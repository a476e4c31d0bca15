/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ts.h: what every part of hvmctl shares (the root helpers): diagnostics, the error convention,
 * small helpers. Parts: xl/ (domains), net/ (dom0's network), run/ (CI runs); hvmctl.c joins them.
 *
 * Errors, one convention for the whole toolstack:
 *   - a function that can fail returns 0 (or a count, an fd) on success and a negative errno on
 *     failure; never a bare -1 and never a positive errno. TS_MUST_CHECK marks the ones whose
 *     result must be looked at;
 *   - the message for a person is made once, where the failure is understood, and starts with
 *     "hvmctl: " (ts_err); a problem in a file a person wrote names FILE:LINE: KEY: (ts_error_at,
 *     counted in a struct ts_diag);
 *   - a layer that must be able to stay quiet (the network layer under unit tests and a hotplug
 *     probe, a run's checks) keeps the message in a buffer for its caller with ts_fail (which also
 *     prints it unless asked to be quiet), or fills a (char *why, size_t whylen) pair;
 *   - a command returns its exit status: 0 done, 1 failed (the reason printed), 2 a usage error.
 */
#ifndef HVMCTL_TS_H
#define HVMCTL_TS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define TS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TS_MUST_CHECK __attribute__((warn_unused_result))

/* ---- diagnostics: every message names where it comes from ------------------------------ */
struct ts_diag {
    FILE *out;          /* where messages go (stderr; a memstream in the tests) */
    int errors;
    int warnings;
};
/* "FILE:LINE: KEY: message" (line 0 leaves out the line, key NULL leaves out the key) */
void ts_error_at(struct ts_diag *d, const char *file, int line, const char *key,
                 const char *fmt, ...) TS_PRINTF(5, 6);
void ts_warn_at(struct ts_diag *d, const char *file, int line, const char *key,
                const char *fmt, ...) TS_PRINTF(5, 6);
/* "hvmctl: message" */
void ts_err(const char *fmt, ...) TS_PRINTF(1, 2);
void ts_info(const char *fmt, ...) TS_PRINTF(1, 2);
void ts_vinfo(const char *fmt, va_list ap) TS_PRINTF(1, 0);

/* Formats the message into buf (len bytes), prints it as ts_err does unless quiet, and returns
 * err (a negative errno; -EINVAL if err is not negative). */
int ts_fail(char *buf, size_t len, bool quiet, int err, const char *fmt, ...) TS_PRINTF(5, 6);
void ts_vfail(char *buf, size_t len, bool quiet, const char *fmt, va_list ap) TS_PRINTF(4, 0);

/* ---- small helpers ------------------------------------------------------------------------- */
char *ts_strdup(const char *s);
char *ts_asprintf(const char *fmt, ...) TS_PRINTF(1, 2);
int ts_read_file(const char *path, char **data, size_t *len) TS_MUST_CHECK;
/* parse a decimal/hex long: 0 or -EINVAL / -ERANGE */
int ts_parse_long(const char *s, long *out) TS_MUST_CHECK;

/* mkdir -p: 0, or the negative errno of the first directory that could not be made */
int ts_mkdir_p(const char *dir);
/* Opens (creating it, mode, and its folder) and locks PATH exclusively, waiting for it: the fd,
 * or a negative errno with the reason ("cannot open PATH: ...") in why. */
int ts_lock_file(const char *path, mode_t mode, char *why, size_t whylen) TS_MUST_CHECK;
/* Reads at most len - 1 bytes of PATH (a /proc file) into buf, NUL-terminated: the count, or a
 * negative errno. */
ssize_t ts_read_small(const char *path, char *buf, size_t len);
/* the process exists and is not a zombie */
bool ts_pid_alive(long pid);
/* A command's usage text: on stdout for --help (status 0), else on stderr; returns status,
 * the command's exit status (0 or 2). */
int ts_usage(const char *text, int status);

#endif

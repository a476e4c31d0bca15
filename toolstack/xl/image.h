/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xl/image.h: the bytes hvmctl shares with xl around libxl's save stream, without libxl:
 *   - xl's saved-image header (a file of `xl save` / `hvmctl save`, and the start of a migration
 *     stream): magic, byte order, flags, the domain's configuration as libxl JSON;
 *   - xl's migration handshake: the receiver's banner, then after libxl's stream the receiver's
 *     "ready", the sender's "go", the receiver's report and one status byte.
 * Speaking xl's bytes lets `hvmctl migrate` send to `xl migrate-receive` and `xl migrate` to
 * `hvmctl migrate-receive` (the formats are xl's; the code is ours).
 */
#ifndef HVMCTL_XL_IMAGE_H
#define HVMCTL_XL_IMAGE_H

#include "toolstack/ts.h"

#include <stddef.h>

#define TS_IMAGE_CONFIG_MAX (16u << 20)

/* Writes the header with JSON (the configuration, NUL included) to fd: 0 or a negative errno. */
int ts_image_write_header(int fd, const char *json) TS_MUST_CHECK;
/* Reads the header from fd into *json (malloc'd, NUL-terminated): 0, or a negative errno with
 * the reason in why ("not a saved domain ...", "truncated ...", ...). Nothing beyond the header
 * is read. */
int ts_image_read_header(int fd, char **json, char *why, size_t whylen) TS_MUST_CHECK;

/* the handshake's messages, as xl sends them: the banner without its NUL, the others with it */
enum ts_mig_msg { TS_MIG_BANNER, TS_MIG_READY, TS_MIG_GO, TS_MIG_REPORT };
const char *ts_mig_msg_name(enum ts_mig_msg m);
int ts_mig_send(int fd, enum ts_mig_msg m) TS_MUST_CHECK;
/* Reads the message m from fd: 0; -ENODATA if the stream ended first (the peer went away);
 * -EPROTO if other bytes came (why says which); another negative errno. */
int ts_mig_expect(int fd, enum ts_mig_msg m, char *why, size_t whylen) TS_MUST_CHECK;

/* the receiver's command: HOST (with ssh "") is the whole command; else "exec SSH HOST
 * RECEIVER" (RECEIVER: "hvmctl migrate-receive" or "xl migrate-receive", with its options) */
char *ts_mig_rune(const char *ssh, const char *host, const char *receiver);

int ts_write_all(int fd, const void *p, size_t n) TS_MUST_CHECK;
/* 0, -ENODATA at end of stream before n bytes, or a negative errno */
int ts_read_all(int fd, void *p, size_t n) TS_MUST_CHECK;

#endif

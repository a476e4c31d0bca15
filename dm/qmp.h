/* QMP, the QEMU Machine Protocol, on the sockets libxl names with
 *   -chardev socket,id=ID,path=PATH,server=on,wait=off -mon chardev=ID,mode=control
 * Serves what libxl 4.17 sends at start, pause, unpause and shutdown: the greeting,
 * qmp_capabilities, query-status, stop, cont, query-chardev (a pty's path, which libxl writes
 * to xenstore for `xl console`), query-vnc, query-version, query-commands, quit; anything else
 * gets a CommandNotFound error naming it. One JSON object per command; each connection
 * negotiates capabilities first, as in QEMU. */
#ifndef HVMD_QMP_H
#define HVMD_QMP_H

#include <stddef.h>
#include <sys/types.h>
#include "util.h"

struct config;
struct vm;
struct qmp;
struct qmp_conn;

struct qmp_ops {
    void (*stop)(void *opaque); /* "stop": pause emulation */
    void (*cont)(void *opaque); /* "cont": resume */
    void (*quit)(void *opaque); /* "quit": exit after answering */
};

/* Claim every -mon / -chardev pair of CFG that is a control monitor on a UNIX socket server,
 * and listen on its path (replacing a stale socket file). Unusable monitor options are
 * refused with ERR set. NULL on failure, nothing left behind. */
struct qmp *qmp_new(struct vm *vm, struct config *cfg, const struct qmp_ops *ops, void *opaque,
                    char *err, size_t errlen);
/* Close every connection and listening socket and remove the socket files. */
void qmp_free(struct qmp *q);

/* A connection without a socket (tests, fuzzing): OUT receives what would be sent. */
typedef void qmp_out_fn(void *opaque, const char *data, size_t n);
struct qmp_conn *qmp_conn_new(struct qmp *q, qmp_out_fn *out, void *out_opaque);
/* Feed received bytes. Returns 0, or -1 if the connection must be closed (input too large
 * or too deeply nested). */
int qmp_conn_input(struct qmp_conn *c, const char *data, size_t n);
void qmp_conn_free(struct qmp_conn *c);

#endif

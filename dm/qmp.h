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
#include "dm/util.h"

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

/* ---- commands and events of devices (added for the IDE CD-ROM: eject, blockdev-change-medium,
 * DEVICE_TRAY_MOVED), and file descriptors passed with add-fd ----
 * A device finds the server at vm->qmp (NULL: no QMP, e.g. in tests). */
struct qmp_req;
typedef void qmp_cmd_fn(void *opaque, struct qmp_req *req);
/* Serve command NAME with FN. 0, -EEXIST (taken), -ENOSPC. */
int qmp_register(struct qmp *q, const char *name, qmp_cmd_fn *fn, void *opaque) WUR;
/* Drop every command registered with OPAQUE. */
void qmp_unregister(struct qmp *q, void *opaque);
/* The command's arguments: a string (NULL if absent or not a string), a boolean. */
const char *qmp_arg_str(const struct qmp_req *r, const char *key);
int qmp_arg_bool(const struct qmp_req *r, const char *key, int dflt);
/* The answer: {"return": {}} unless the handler calls one of these (once). JSON: the value of
 * "return" as JSON text. */
void qmp_req_error(struct qmp_req *r, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void qmp_req_return(struct qmp_req *r, const char *json);
/* Send EVENT to every client that negotiated capabilities; DATA: a JSON object's text, or NULL. */
void qmp_event(struct qmp *q, const char *event, const char *data);
/* Open PATH for a device, as QEMU does: "/dev/fdset/N" is a duplicate of a descriptor that
 * add-fd put in set N with the access mode FLAGS asks for; anything else is opened.
 * A descriptor (close-on-exec), or a negative errno with ERR set. */
int qmp_open(struct qmp *q, const char *path, int flags, char *err, size_t errlen);
/* Write S as a JSON string (quoted, escaped) into OUT. The length it needs, as snprintf. */
size_t qmp_json_str(char *out, size_t len, const char *s);

/* A connection without a socket (tests, fuzzing): OUT receives what would be sent. */
typedef void qmp_out_fn(void *opaque, const char *data, size_t n);
struct qmp_conn *qmp_conn_new(struct qmp *q, qmp_out_fn *out, void *out_opaque);
/* Feed received bytes. Returns 0, or -1 if the connection must be closed (input too large
 * or too deeply nested). */
int qmp_conn_input(struct qmp_conn *c, const char *data, size_t n);
void qmp_conn_free(struct qmp_conn *c);
/* As if FD came with the next message through SCM_RIGHTS (tests). The connection owns it. */
void qmp_conn_pass_fd(struct qmp_conn *c, int fd);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* QMP server (see qmp.h). Framing: a message is one top-level JSON object; the reader tracks
 * strings and nesting to find its end, refusing more than QMP_MAX_DEPTH levels or
 * QMP_MAX_INPUT bytes, then yajl parses it (yajl_tree) and replies are built with yajl_gen. */
#include "dm/qmp.h"
#include "dm/bus.h"
#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/input.h"
#include "dm/display.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/mem.h"
#include "dm/pci.h"
#include "dm/sandbox.h"
#include "dm/vm.h"
#include "dm/vnc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define QMP_MAX_INPUT 65536
#define QMP_MAX_DEPTH 32
#define QMP_MAX_LISTEN 4
#define QMP_MAX_CONNS 8
#define QMP_MAX_BLOCKDEVS 4  /* block devices registered */
#define QMP_MAX_BLOCK_ROWS 16 /* drives of one */
#define QMP_MAX_PASSED 8     /* descriptors received, waiting for add-fd, per connection */
#define QMP_MAX_FDSETS 16
#define QMP_FDSET_FDS 4
#define QMP_CPU_TYPE "qemu32-i386-cpu" /* what qemu-system-i386 (Xen's) calls its vCPUs */
#define HMP_MAX_OUT 32768            /* a human-monitor-command answer (libxl reads 1 MiB) */
#define HMP_XP_MAX 4096              /* bytes one xp may dump */

struct qmp_req;

struct listener {
    struct qmp *q;
    int fd;
    char id[64];
    char path[108];
};

struct qmp_conn {
    struct qmp *q;
    int fd;                  /* -1: no socket (qmp_conn_new) */
    qmp_out_fn *out;
    void *out_opaque;
    char buf[QMP_MAX_INPUT + 1];
    size_t len;
    size_t scan;             /* how far the framing has looked */
    int depth, in_string, escape;
    int negotiated;
    int closing;
    int libxl;               /* on libxl's own socket (chardev id libxl-cmd): cont is xl unpause */
    int passed[QMP_MAX_PASSED]; /* SCM_RIGHTS descriptors not yet taken by add-fd */
    unsigned n_passed;
};

struct qmp_blockdev {
    const struct qmp_block_ops *ops;
    void *opaque;
};

struct fdset {
    int used;
    int64_t id;
    int fd[QMP_FDSET_FDS];
    char *opaque[QMP_FDSET_FDS];
    unsigned n;
};

struct qmp {
    struct vm *vm;
    struct loop *loop;
    const struct qmp_ops *ops;
    void *opaque;
    struct listener lis[QMP_MAX_LISTEN];
    unsigned n_lis;
    struct qmp_conn *conns[QMP_MAX_CONNS];
    struct qmp_blockdev blocks[QMP_MAX_BLOCKDEVS];
    unsigned n_blocks;
    struct fdset sets[QMP_MAX_FDSETS];
    const struct qmp_cpu_ops *cpu_ops;  /* the ACPI CPU map's device, or NULL */
    void *cpu_opaque;
    void (*reset)(void *opaque);        /* the machine's reset */
    void *reset_opaque;
    int suspended;                      /* the guest is in S3 */
    int launched;                       /* cont since -S (else "prelaunch") */
    struct vnc *vnc;                    /* the VNC server, or NULL */
    struct { unsigned x, y, buttons; int have_abs; } ptr; /* input-send-event's pointer */
    struct { uint64_t window_start_ms; unsigned sent, dropped; } ioerr_rl; /* BLOCK_IO_ERROR */
};

/* ---- output ---- */

static void send_raw(struct qmp_conn *c, const char *data, size_t n)
{
    if (c->out) {
        c->out(c->out_opaque, data, n);
        return;
    }
    while (n && c->fd >= 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w > 0) {
            data += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            c->closing = 1; /* peer gone, or not reading: give up on it */
            return;
        }
    }
}

static void send_gen(struct qmp_conn *c, yajl_gen g)
{
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        send_raw(c, (const char *)buf, len);
        send_raw(c, "\r\n", 2);
    }
    yajl_gen_free(g);
}

static void gstr(yajl_gen g, const char *s) { yajl_gen_string(g, (const unsigned char *)s, strlen(s)); }
/* "key": value */
static void gkv_str(yajl_gen g, const char *k, const char *v) { gstr(g, k); gstr(g, v); }
static void gkv_bool(yajl_gen g, const char *k, int v) { gstr(g, k); yajl_gen_bool(g, v); }
static void gkv_int(yajl_gen g, const char *k, long long v) { gstr(g, k); yajl_gen_integer(g, v); }

/* Echo a JSON value (the command's id) as it came. */
static void gen_value(yajl_gen g, yajl_val v, int depth)
{
    if (!v || depth > QMP_MAX_DEPTH) {
        yajl_gen_null(g);
        return;
    }
    switch (v->type) {
    case yajl_t_string: gstr(g, v->u.string); break;
    case yajl_t_number: yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)); break;
    case yajl_t_true: yajl_gen_bool(g, 1); break;
    case yajl_t_false: yajl_gen_bool(g, 0); break;
    case yajl_t_object:
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            gstr(g, v->u.object.keys[i]);
            gen_value(g, v->u.object.values[i], depth + 1);
        }
        yajl_gen_map_close(g);
        break;
    case yajl_t_array:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen_value(g, v->u.array.values[i], depth + 1);
        yajl_gen_array_close(g);
        break;
    default: yajl_gen_null(g); break;
    }
}

/* Start a message {"KEY": ...; the caller writes the value and closes the object. */
static yajl_gen msg_open(const char *key)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return NULL;
    yajl_gen_map_open(g);
    gstr(g, key);
    return g;
}

/* Start {"return": ...; the caller fills the value and calls finish(). */
static yajl_gen reply_open(void) { return msg_open("return"); }

static void reply_finish(struct qmp_conn *c, yajl_gen g, yajl_val id)
{
    if (id) {
        gstr(g, "id");
        gen_value(g, id, 0);
    }
    yajl_gen_map_close(g);
    send_gen(c, g);
}

static void reply_empty(struct qmp_conn *c, yajl_val id)
{
    yajl_gen g = reply_open();
    if (!g)
        return;
    yajl_gen_map_open(g);
    yajl_gen_map_close(g);
    reply_finish(c, g, id);
}

static void reply_error(struct qmp_conn *c, yajl_val id, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reply_error(struct qmp_conn *c, yajl_val id, const char *cls, const char *fmt, ...)
{
    char desc[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    yajl_gen g = msg_open("error");
    if (!g)
        return;
    yajl_gen_map_open(g);
    gkv_str(g, "class", cls);
    gkv_str(g, "desc", desc);
    yajl_gen_map_close(g);
    reply_finish(c, g, id);
}

/* {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "hvmd"}: libxl picks commands by
 * the QEMU version it is told, so say the version whose commands hvmd answers like. */
static void gen_version(struct qmp_req *r, yajl_gen g)
{
    yajl_gen_map_open(g);
    gstr(g, "qemu");
    yajl_gen_map_open(g);
    gkv_int(g, "micro", 0);
    gkv_int(g, "minor", 2);
    gkv_int(g, "major", 7);
    yajl_gen_map_close(g);
    gkv_str(g, "package", "hvmd");
    yajl_gen_map_close(g);
}

static void greet(struct qmp_conn *c)
{
    yajl_gen g = msg_open("QMP");
    if (!g)
        return;
    yajl_gen_map_open(g);
    gstr(g, "version");
    gen_version(NULL, g);
    gstr(g, "capabilities");
    yajl_gen_array_open(g);
    gstr(g, "oob");
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    send_gen(c, g);
}

/* ---- commands ---- */

struct qmp_req {
    struct qmp_conn *c;
    yajl_val id;
    yajl_val args;
    int answered;
    long long val[2];        /* for the generator of the answer */
    const char *text;        /* likewise */
};

static void req_error(struct qmp_req *r, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void req_error(struct qmp_req *r, const char *cls, const char *fmt, ...)
{
    char desc[256];
    va_list ap;
    if (r->answered)
        return;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    r->answered = 1;
    reply_error(r->c, r->id, cls, "%s", desc);
}

/* Answer {"return": V} with V written by GEN. */
typedef void gen_fn(struct qmp_req *r, yajl_gen g);
static void req_return(struct qmp_req *r, gen_fn *gen)
{
    if (r->answered)
        return;
    r->answered = 1;
    yajl_gen g = reply_open();
    if (!g)
        return;
    gen(r, g);
    reply_finish(r->c, g, r->id);
}

static yajl_val arg(const struct qmp_req *r, const char *key)
{
    if (!r->args)
        return NULL;
    for (size_t i = 0; i < r->args->u.object.len; i++)
        if (!strcmp(r->args->u.object.keys[i], key))
            return r->args->u.object.values[i];
    return NULL;
}

static const char *arg_str(const struct qmp_req *r, const char *key)
{
    return YAJL_GET_STRING(arg(r, key));
}

static int arg_bool(const struct qmp_req *r, const char *key, int dflt)
{
    yajl_val v = arg(r, key);
    return YAJL_IS_TRUE(v) ? 1 : YAJL_IS_FALSE(v) ? 0 : dflt;
}

static int64_t arg_int(const struct qmp_req *r, const char *key, int64_t dflt, int *present)
{
    yajl_val v = arg(r, key);
    *present = YAJL_IS_INTEGER(v);
    return *present ? YAJL_GET_INTEGER(v) : dflt;
}

/* The run state, as QEMU names it: suspended (S3), running, prelaunch (-S, no cont yet), paused. */
static const char *run_state(const struct qmp *q)
{
    if (q->suspended)
        return "suspended";
    if (q->vm->io_error)
        return "io-error";
    if (q->vm->running)
        return "running";
    if (!q->launched && q->vm->cfg && q->vm->cfg->start_stopped && !q->vm->cfg->incoming)
        return "prelaunch"; /* (with -incoming: "paused", the state loaded, as libxl checks) */
    return "paused";
}

static void gen_status(struct qmp_req *r, yajl_gen g)
{
    const char *st = run_state(r->c->q);
    yajl_gen_map_open(g);
    gkv_str(g, "status", st);
    gkv_bool(g, "singlestep", 0);
    gkv_bool(g, "running", !strcmp(st, "running"));
    yajl_gen_map_close(g);
}

static void chardev_entry(yajl_gen g, const char *label, const char *filename)
{
    yajl_gen_map_open(g);
    gkv_bool(g, "frontend-open", 1);
    gkv_str(g, "filename", filename);
    gkv_str(g, "label", label);
    yajl_gen_map_close(g);
}

static void gen_chardevs(struct qmp_req *r, yajl_gen g)
{
    struct qmp *q = r->c->q;
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < q->vm->n_chardevs; i++)
        chardev_entry(g, chardev_label(q->vm->chardevs[i]), chardev_filename(q->vm->chardevs[i]));
    for (unsigned i = 0; i < q->n_lis; i++) {
        char fn[160];
        if (q->lis[i].path[0])
            snprintf(fn, sizeof(fn), "unix:%s,server=on", q->lis[i].path);
        else
            snprintf(fn, sizeof(fn), "socket");
        chardev_entry(g, q->lis[i].id, fn);
    }
    yajl_gen_array_close(g);
}

static void gen_vnc(struct qmp_req *r, yajl_gen g)
{
    struct vnc *v = r->c->q->vnc;
    yajl_gen_map_open(g);
    gkv_bool(g, "enabled", v != NULL);
    if (v) { /* as QEMU answers: libxl writes host and service to console/vnc-listen, -port */
        struct vnc_info i;
        char port[16];
        vnc_query(v, &i);
        snprintf(port, sizeof(port), "%u", i.port);
        gkv_str(g, "host", i.host);
        gkv_str(g, "family", i.family);
        gkv_str(g, "service", port);
        gkv_str(g, "auth", i.auth);
        gstr(g, "clients");
        yajl_gen_array_open(g);
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);
}

static void cmd_change_vnc_password(struct qmp_req *r)
{
    char err[200];
    if (!r->c->q->vnc) {
        req_error(r, "GenericError", "Could not set password");
        return;
    }
    if (vnc_set_password(r->c->q->vnc, arg_str(r, "password"), err, sizeof(err)) < 0)
        req_error(r, "GenericError", "%s", err);
}

/* Keys pressed in order and released in reverse, as QEMU's send-key and sendkey do (at once:
 * no hold time). At most this many at once. */
#define SENDKEY_MAX 16

static void send_keys(struct vm *vm, const int *codes, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        input_key(vm, (unsigned)codes[i], 1);
    for (unsigned i = n; i-- > 0;)
        input_key(vm, (unsigned)codes[i], 0);
}

static void cmd_send_key(struct qmp_req *r)
{
    yajl_val keys = arg(r, "keys");
    int codes[SENDKEY_MAX];
    size_t n = keys->u.array.len;
    if (n == 0 || n > SENDKEY_MAX) {
        req_error(r, "GenericError", "send-key: 1 to %d keys at once, not %zu", SENDKEY_MAX, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val k = keys->u.array.values[i];
        const char *path_type[] = { "type", NULL }, *path_data[] = { "data", NULL };
        yajl_val t = YAJL_IS_OBJECT(k) ? yajl_tree_get(k, path_type, yajl_t_string) : NULL;
        yajl_val d = YAJL_IS_OBJECT(k) ? yajl_tree_get(k, path_data, yajl_t_any) : NULL;
        if (!t || !d) {
            req_error(r, "GenericError", "send-key: key %zu: expected {\"type\": \"qcode\", "
                      "\"data\": NAME}", i);
            return;
        }
        const char *type = YAJL_GET_STRING(t);
        if (!type || strcmp(type, "qcode") || !YAJL_IS_STRING(d)) {
            req_error(r, "GenericError", "send-key: key %zu: hvmd takes keys of type qcode only",
                      i);
            return;
        }
        codes[i] = input_qcode(YAJL_GET_STRING(d));
        if (codes[i] < 0) {
            req_error(r, "GenericError", "Parameter 'keys.data' does not accept value '%.32s'",
                      YAJL_GET_STRING(d));
            return;
        }
    }
    send_keys(r->c->q->vm, codes, (unsigned)n);
}

void qmp_vnc_register(struct qmp *q, struct vnc *v)
{
    if (q)
        q->vnc = v;
}

static void gen_commands(struct qmp_req *r, yajl_gen g);

static void cmd_capabilities(struct qmp_req *r)
{
    req_error(r, "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
}

/* x-hvmd-io-stats: hvmd's request counters so far (make profile reads them at the phases of
 * a boot): requests by type, and per bus region its round trips (synchronous requests whose
 * first byte it holds), per port for a port region's first IO_REGION_PORTS ports, and the
 * accesses its device served; per PCI function its config accesses; and timer-wakeups, the
 * loop's timer expirations (hvmd waking itself, as while the guest idles). Regions with no
 * access are left out. */
static void gen_region_stats(void *opaque, const struct io_region *rg)
{
    yajl_gen g = opaque;
    if (!rg->trips && !rg->reads && !rg->writes)
        return;
    yajl_gen_map_open(g);
    gkv_str(g, "name", rg->name);
    gkv_str(g, "space", rg->space == HV_PIO ? "port" : "mmio");
    gkv_int(g, "base", (long long)rg->base);
    gkv_int(g, "len", (long long)rg->len);
    gkv_int(g, "trips", (long long)rg->trips);
    gkv_int(g, "reads", (long long)rg->reads);
    gkv_int(g, "writes", (long long)rg->writes);
    if (rg->space == HV_PIO) {
        gstr(g, "ports");
        yajl_gen_array_open(g);
        for (unsigned i = 0; i < IO_REGION_PORTS && i < rg->len; i++) {
            if (!rg->port_trips[0][i] && !rg->port_trips[1][i])
                continue;
            yajl_gen_map_open(g);
            gkv_int(g, "port", (long long)(rg->base + i));
            gkv_int(g, "in", rg->port_trips[0][i]);
            gkv_int(g, "out", rg->port_trips[1][i]);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);
}

static void gen_pci_stats(void *opaque, struct pci_dev *d)
{
    yajl_gen g = opaque;
    if (!d->cfg_reads && !d->cfg_writes)
        return;
    yajl_gen_map_open(g);
    gkv_str(g, "name", d->name);
    gkv_int(g, "slot", PCI_SLOT(d->devfn));
    gkv_int(g, "function", PCI_FN(d->devfn));
    gkv_int(g, "config-reads", (long long)d->cfg_reads);
    gkv_int(g, "config-writes", (long long)d->cfg_writes);
    yajl_gen_map_close(g);
}

static void gen_io_stats(struct qmp_req *r, yajl_gen g)
{
    struct vm *vm = r->c->q->vm;
    const struct ioreq_stats *s = &vm->ioreq;
    yajl_gen_map_open(g);
    gkv_int(g, "pio", (long long)s->pio);
    gkv_int(g, "mmio", (long long)s->mmio);
    gkv_int(g, "pci-config", (long long)s->pci_config);
    gkv_int(g, "invalidate", (long long)s->invalidate);
    gkv_int(g, "timeoffset", (long long)s->timeoffset);
    gkv_int(g, "buffered", (long long)s->buffered);
    gkv_int(g, "rep-items", (long long)s->rep_items);
    gkv_int(g, "refused", (long long)s->bad);
    gkv_int(g, "unclaimed", (long long)s->unclaimed);
    gkv_int(g, "timer-wakeups", vm->loop ? (long long)loop_timer_wakeups(vm->loop) : 0);
    gstr(g, "regions");
    yajl_gen_array_open(g);
    if (vm->bus)
        bus_for_each(vm->bus, gen_region_stats, g);
    yajl_gen_array_close(g);
    gstr(g, "pci");
    yajl_gen_array_open(g);
    if (vm->pci)
        pci_for_each(vm->pci, gen_pci_stats, g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static void cmd_io_stats(struct qmp_req *r) { req_return(r, gen_io_stats); }
static void cmd_query_status(struct qmp_req *r) { req_return(r, gen_status); }
static void cmd_query_chardev(struct qmp_req *r) { req_return(r, gen_chardevs); }
static void cmd_query_vnc(struct qmp_req *r) { req_return(r, gen_vnc); }
static void cmd_query_version(struct qmp_req *r) { req_return(r, gen_version); }
static void cmd_query_commands(struct qmp_req *r) { req_return(r, gen_commands); }

static void send_event(struct qmp *q, const char *event,
                       void (*data)(yajl_gen g, const void *ctx), const void *ctx);

static void cmd_stop(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    if (q->vm->running && q->ops && q->ops->stop)
        q->ops->stop(q->opaque);
    q->vm->running = 0;
}

static void cmd_cont(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    int io_error = q->vm->io_error || q->vm->kept;
    if (!q->vm->running && q->ops && q->ops->cont)
        q->ops->cont(q->opaque);
    q->vm->running = 1;
    q->launched = 1; /* a guest in S3 stays "suspended" until system_wakeup (QEMU >= 9) */
    vm_cont(q->vm); /* devices that hold still after a save take up their work (dm/vm.h) */
    if (io_error) {
        /* retry the requests the stop policy kept (dm/vm.h); one that fails again stops the
         * guest again (run state io-error, STOP) */
        vm_io_resume(q->vm, r->c->libxl);
        if (q->vm->io_error)
            q->vm->running = 0;
        else
            send_event(q, "RESUME", NULL, NULL);
    }
}

static void cmd_quit(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    reply_empty(r->c, r->id);
    r->answered = 1;
    if (q->ops && q->ops->quit)
        q->ops->quit(q->opaque);
}

/* ---- save, restore, migration: xen-save-devices-state, xen-load-devices-state,
 * xen-set-global-dirty-log ---- */

static int state_open(struct qmp *q, const char *path, int flags, char *err, size_t errlen);

static void cmd_save_devices_state(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    char err[400];
    int fd = state_open(q, arg_str(r, "filename"), O_WRONLY, err, sizeof(err));
    if (fd < 0) {
        req_error(r, "GenericError", "%s", err);
        return;
    }
    int rc = -ENOSYS;
    snprintf(err, sizeof(err), "no machine to save");
    if (q->ops && q->ops->save)
        rc = q->ops->save(q->opaque, fd, arg_bool(r, "live", 0), err, sizeof(err));
    close(fd);
    if (rc < 0)
        req_error(r, "GenericError", "%s", err);
}

static void cmd_load_devices_state(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    char err[400];
    if (!q->ops || !q->ops->load) {
        req_error(r, "GenericError", "no machine to load into");
        return;
    }
    if (q->vm->running) {
        req_error(r, "GenericError", "xen-load-devices-state: stop the guest first (QMP stop)");
        return;
    }
    int fd = state_open(q, arg_str(r, "filename"), O_RDONLY, err, sizeof(err));
    if (fd < 0) {
        req_error(r, "GenericError", "%s", err);
        return;
    }
    int rc = q->ops->load(q->opaque, fd, err, sizeof(err));
    close(fd);
    if (rc < 0)
        req_error(r, "GenericError", "%s", err);
}

static void cmd_dirty_log(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    if (q->ops && q->ops->dirty_log)
        q->ops->dirty_log(q->opaque, arg_bool(r, "enable", 0));
}

/* ---- descriptor sets (add-fd, remove-fd, query-fdsets) ---- */

static struct fdset *fdset_find(struct qmp *q, int64_t id)
{
    for (unsigned i = 0; i < QMP_MAX_FDSETS; i++)
        if (q->sets[i].used && q->sets[i].id == id)
            return &q->sets[i];
    return NULL;
}

static void gen_added_fd(struct qmp_req *r, yajl_gen g)
{
    yajl_gen_map_open(g);
    gkv_int(g, "fdset-id", r->val[0]);
    gkv_int(g, "fd", r->val[1]);
    yajl_gen_map_close(g);
}

static void cmd_add_fd(struct qmp_req *r)
{
    struct qmp_conn *c = r->c;
    struct qmp *q = c->q;
    int have_id;
    int64_t id = arg_int(r, "fdset-id", 0, &have_id);
    const char *opaque = arg_str(r, "opaque");
    struct fdset *set;

    if (c->n_passed == 0) {
        req_error(r, "GenericError", "No file descriptor supplied via SCM_RIGHTS");
        return;
    }
    if (have_id && id < 0) {
        req_error(r, "GenericError", "Parameter 'fdset-id' expects a non-negative value");
        return;
    }
    if (!have_id) /* the lowest free set number */
        for (id = 0; fdset_find(q, id); id++)
            ;
    set = fdset_find(q, id);
    if (!set) {
        for (unsigned i = 0; i < QMP_MAX_FDSETS && !set; i++)
            if (!q->sets[i].used)
                set = &q->sets[i];
        if (!set) {
            req_error(r, "GenericError", "too many descriptor sets (at most %d)", QMP_MAX_FDSETS);
            return;
        }
        memset(set, 0, sizeof(*set));
        set->used = 1;
        set->id = id;
    }
    if (set->n == QMP_FDSET_FDS) {
        req_error(r, "GenericError", "descriptor set %lld is full", (long long)id);
        return;
    }
    int fd = c->passed[0];
    memmove(c->passed, c->passed + 1, (c->n_passed - 1) * sizeof(int));
    c->n_passed--;
    set->fd[set->n] = fd;
    set->opaque[set->n] = opaque ? strdup(opaque) : NULL;
    set->n++;
    log_info("QMP add-fd: descriptor %d in set %lld%s%s", fd, (long long)id,
             opaque ? ", " : "", opaque ? opaque : "");
    r->val[0] = id;
    r->val[1] = fd;
    req_return(r, gen_added_fd);
}

static void cmd_remove_fd(struct qmp_req *r)
{
    int have_id, have_fd;
    int64_t id = arg_int(r, "fdset-id", 0, &have_id), fd = arg_int(r, "fd", -1, &have_fd);
    struct fdset *set = have_id ? fdset_find(r->c->q, id) : NULL;
    if (!set) {
        req_error(r, "GenericError", "File descriptor named 'fdset-id:%lld' not found",
                  (long long)id);
        return;
    }
    unsigned k = 0, removed = 0;
    for (unsigned i = 0; i < set->n; i++) {
        if (!have_fd || set->fd[i] == fd) {
            close(set->fd[i]);
            free(set->opaque[i]);
            removed++;
        } else {
            set->fd[k] = set->fd[i];
            set->opaque[k++] = set->opaque[i];
        }
    }
    set->n = k;
    if (!removed) {
        req_error(r, "GenericError", "File descriptor named 'fdset-id:%lld, fd:%lld' not found",
                  (long long)id, (long long)fd);
        return;
    }
    if (k == 0)
        set->used = 0;
}

static void gen_fdsets(struct qmp_req *r, yajl_gen g)
{
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < QMP_MAX_FDSETS; i++) {
        struct fdset *set = &r->c->q->sets[i];
        if (!set->used)
            continue;
        yajl_gen_map_open(g);
        gkv_int(g, "fdset-id", set->id);
        gstr(g, "fds");
        yajl_gen_array_open(g);
        for (unsigned k = 0; k < set->n; k++) {
            yajl_gen_map_open(g);
            gkv_int(g, "fd", set->fd[k]);
            if (set->opaque[k])
                gkv_str(g, "opaque", set->opaque[k]);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void cmd_query_fdsets(struct qmp_req *r) { req_return(r, gen_fdsets); }

/* ---- block devices (query-block, eject, blockdev-change-medium) ---- */

/* The provider that lists DEVICE in its query-block rows, or NULL. */
static const struct qmp_blockdev *block_find(struct qmp *q, const char *device)
{
    struct qmp_block_info rows[QMP_MAX_BLOCK_ROWS];
    for (unsigned i = 0; i < q->n_blocks; i++) {
        const struct qmp_blockdev *b = &q->blocks[i];
        unsigned n = b->ops->query(b->opaque, rows, QMP_MAX_BLOCK_ROWS);
        for (unsigned k = 0; k < n && k < QMP_MAX_BLOCK_ROWS; k++)
            if (rows[k].device && !strcmp(rows[k].device, device))
                return b;
    }
    return NULL;
}

static void gen_blocks(struct qmp_req *r, yajl_gen g)
{
    struct qmp *q = r->c->q;
    struct qmp_block_info rows[QMP_MAX_BLOCK_ROWS];
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < q->n_blocks; i++) {
        unsigned n = q->blocks[i].ops->query(q->blocks[i].opaque, rows, QMP_MAX_BLOCK_ROWS);
        for (unsigned k = 0; k < n && k < QMP_MAX_BLOCK_ROWS; k++) {
            const struct qmp_block_info *b = &rows[k];
            const char *name = b->device ? b->device : "";
            yajl_gen_map_open(g);
            gkv_str(g, "device", name);
            gkv_str(g, "qdev", name);
            gkv_bool(g, "removable", b->removable);
            gkv_bool(g, "locked", b->locked);
            gkv_str(g, "type", "unknown");
            if (b->removable)
                gkv_bool(g, "tray_open", b->tray_open);
            if (b->file) {
                gstr(g, "inserted");
                yajl_gen_map_open(g);
                gkv_str(g, "file", b->file);
                gkv_bool(g, "ro", b->readonly);
                gkv_str(g, "drv", "raw");
                yajl_gen_map_close(g);
            }
            yajl_gen_map_close(g);
        }
    }
    yajl_gen_array_close(g);
}

static void cmd_query_block(struct qmp_req *r) { req_return(r, gen_blocks); }

/* The drive a command names: "id" (libxl), else "device". */
static const char *drive_name(const struct qmp_req *r)
{
    const char *id = arg_str(r, "id");
    return id ? id : arg_str(r, "device");
}

static void cmd_eject(struct qmp_req *r)
{
    const char *id = drive_name(r);
    const struct qmp_blockdev *b;
    char err[300];
    if (!id) {
        req_error(r, "GenericError", "Parameter 'id' is missing");
        return;
    }
    b = block_find(r->c->q, id);
    if (!b) {
        req_error(r, "GenericError", "Device '%s' not found", id);
        return;
    }
    if (b->ops->eject(b->opaque, id, arg_bool(r, "force", 0), err, sizeof(err)) < 0)
        req_error(r, "GenericError", "%s", err);
}

static void cmd_change_medium(struct qmp_req *r)
{
    const char *id = drive_name(r), *file = arg_str(r, "filename");
    const char *fmt = arg_str(r, "format"), *mode = arg_str(r, "read-only-mode");
    const struct qmp_blockdev *b;
    char err[300];

    if (!id || !file) {
        req_error(r, "GenericError", "Parameter '%s' is missing", id ? "filename" : "id");
        return;
    }
    if (fmt && strcmp(fmt, "raw")) {
        req_error(r, "GenericError", "format '%s': hvmd reads raw images only", fmt);
        return;
    }
    if (mode && strcmp(mode, "retain") && strcmp(mode, "read-only")) {
        req_error(r, "GenericError", "read-only-mode '%s': a CD-ROM is read-only", mode);
        return;
    }
    int fd = qmp_open(r->c->q, file, O_RDONLY, err, sizeof(err));
    if (fd < 0) {
        req_error(r, "GenericError", "%s", err);
        return;
    }
    b = block_find(r->c->q, id);
    if (!b) {
        close(fd);
        req_error(r, "GenericError", "Device '%s' not found", id);
        return;
    }
    if (b->ops->change_medium(b->opaque, id, file, fd, err, sizeof(err)) < 0)
        req_error(r, "GenericError", "%s", err);
}

/* ---- the machine: vCPUs, S3, power button, reset ---- */

struct cpu_view {
    unsigned max;                         /* the domain's vCPUs (<= QMP_MAX_CPUS) */
    uint8_t present[QMP_MAX_CPUS / 8];
};

/* The vCPUs the guest has: those in the ACPI CPU map (-smp, then device_add), and any the
 * hypervisor runs, of the domain's vCPUs (as the hypervisor counts them; -smp maxcpus if it
 * cannot say). vCPU 0 always. */
static void cpu_view(struct qmp *q, struct cpu_view *v)
{
    uint8_t online[QMP_MAX_CPUS / 8];
    const struct config *cfg = q->vm->cfg;
    unsigned max = 0;
    memset(v, 0, sizeof(*v));
    if (q->vm->hv.ops->vcpu_info(q->vm->hv.be, &max, online, sizeof(online)) < 0)
        memset(online, 0, sizeof(online));
    if (max == 0)
        max = cfg ? cfg->maxcpus : 1;
    v->max = MAX(1u, MIN(max, (unsigned)QMP_MAX_CPUS));
    for (unsigned i = 0; i < v->max; i++) {
        int in_map = q->cpu_ops ? q->cpu_ops->present(q->cpu_opaque, i)
                                : i < (cfg ? cfg->smp : 1u);
        if (i == 0 || in_map || (online[i / 8] >> (i % 8) & 1))
            v->present[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

static int cpu_in(const struct cpu_view *v, unsigned i)
{
    return i < v->max && (v->present[i / 8] >> (i % 8) & 1);
}

static void gen_qom_path(yajl_gen g, const char *key, unsigned i)
{
    char path[64];
    snprintf(path, sizeof(path), "/machine/unattached/device[%u]", i);
    gkv_str(g, key, path);
}

static void gen_cpu_props(yajl_gen g, unsigned i)
{
    gstr(g, "props");
    yajl_gen_map_open(g);
    gkv_int(g, "core-id", 0);
    gkv_int(g, "thread-id", 0);
    gkv_int(g, "socket-id", i);
    yajl_gen_map_close(g);
}

/* query-cpus-fast (libxl reads "cpu-index" of each: the present vCPUs' bitmap) and, if
 * r->val[0], query-cpus (libxl's fallback, gone from QEMU 6.0; libxl reads "CPU"). */
static void gen_cpus(struct qmp_req *r, yajl_gen g)
{
    int legacy = r->val[0] != 0;
    struct cpu_view v;
    cpu_view(r->c->q, &v);
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < v.max; i++) {
        if (!cpu_in(&v, i))
            continue;
        yajl_gen_map_open(g);
        gkv_int(g, legacy ? "CPU" : "cpu-index", i);
        if (legacy) {
            gkv_bool(g, "current", i == 0);
            gkv_bool(g, "halted", 0);
        }
        gen_qom_path(g, legacy ? "qom_path" : "qom-path", i);
        gkv_int(g, legacy ? "thread_id" : "thread-id", getpid());
        gen_cpu_props(g, i);
        if (legacy) {
            gkv_str(g, "arch", "x86");
            gkv_int(g, "pc", 0);
        } else {
            gkv_str(g, "target", "i386");
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

/* query-hotpluggable-cpus: every possible vCPU, highest first as QEMU lists them; libxl reads
 * the "type" of the first (and puts socket-id = index in device_add). */
static void gen_hotpluggable(struct qmp_req *r, yajl_gen g)
{
    struct cpu_view v;
    cpu_view(r->c->q, &v);
    yajl_gen_array_open(g);
    for (unsigned k = v.max; k-- > 0;) {
        yajl_gen_map_open(g);
        gen_cpu_props(g, k);
        gkv_int(g, "vcpus-count", 1);
        if (cpu_in(&v, k))
            gen_qom_path(g, "qom-path", k);
        gkv_str(g, "type", QMP_CPU_TYPE);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void cmd_query_cpus_fast(struct qmp_req *r) { req_return(r, gen_cpus); }
static void cmd_query_cpus(struct qmp_req *r)
{
    r->val[0] = 1;
    req_return(r, gen_cpus);
}
static void cmd_query_hotpluggable(struct qmp_req *r) { req_return(r, gen_hotpluggable); }

/* An integer argument KEY of device_add, in [0, max): its value, or -1 with the error sent. */
static int64_t cpu_prop(struct qmp_req *r, const char *key, int64_t max, int required)
{
    yajl_val v = arg(r, key);
    if (!v && !required)
        return 0;
    if (!v) {
        req_error(r, "GenericError", "CPU %s is not set", key);
        return -1;
    }
    if (!YAJL_IS_INTEGER(v)) {
        req_error(r, "GenericError", "Invalid parameter type for '%s', expected: integer", key);
        return -1;
    }
    int64_t n = YAJL_GET_INTEGER(v);
    if (n < 0 || n >= max) {
        req_error(r, "GenericError", "Invalid CPU %s: %lld must be in range 0:%lld", key,
                  (long long)n, (long long)max - 1);
        return -1;
    }
    return n;
}

static void cpu_add(struct qmp_req *r)
{
    static const char *const known[] = { "driver", "id", "socket-id", "core-id", "thread-id",
                                         "die-id", "node-id" };
    struct qmp *q = r->c->q;
    struct cpu_view v;
    char err[200];

    for (size_t i = 0; r->args && i < r->args->u.object.len; i++) {
        unsigned k;
        for (k = 0; k < ARRAY_SIZE(known) && strcmp(known[k], r->args->u.object.keys[i]); k++)
            ;
        if (k == ARRAY_SIZE(known)) {
            req_error(r, "GenericError", "Property '%s.%s' not found", QMP_CPU_TYPE,
                      r->args->u.object.keys[i]);
            return;
        }
    }
    if (arg(r, "id") && !YAJL_IS_STRING(arg(r, "id"))) {
        req_error(r, "GenericError", "Invalid parameter type for 'id', expected: string");
        return;
    }
    cpu_view(q, &v);
    int64_t socket = cpu_prop(r, "socket-id", v.max, 1);
    if (socket < 0 || cpu_prop(r, "core-id", 1, 0) < 0 || cpu_prop(r, "thread-id", 1, 0) < 0 ||
        cpu_prop(r, "die-id", 1, 0) < 0 || cpu_prop(r, "node-id", 1, 0) < 0)
        return;
    if (cpu_in(&v, (unsigned)socket)) {
        req_error(r, "GenericError", "CPU[%lld] with APIC ID %lld exists", (long long)socket,
                  (long long)socket);
        return;
    }
    if (!q->cpu_ops) {
        req_error(r, "GenericError", "CPU hot-plug needs the ACPI PM function (the guest has "
                  "none: -no-acpi)");
        return;
    }
    if (q->cpu_ops->plug(q->cpu_opaque, (unsigned)socket, err, sizeof(err)) < 0) {
        req_error(r, "GenericError", "%s", err);
        return;
    }
    log_info("QMP device_add: vCPU %lld plugged", (long long)socket);
}

static void cmd_device_add(struct qmp_req *r)
{
    yajl_val drv = arg(r, "driver");
    if (!drv) {
        req_error(r, "GenericError", "Parameter 'driver' is missing");
        return;
    }
    if (!YAJL_IS_STRING(drv)) {
        req_error(r, "GenericError", "Invalid parameter type for 'driver', expected: string");
        return;
    }
    if (!strcmp(drv->u.string, QMP_CPU_TYPE)) {
        cpu_add(r);
        return;
    }
    /* PCI pass-through (xen-pci-passthrough), USB controllers and devices: libxl removes its
     * xenstore entries and the xl command fails with this; the guest is not touched. */
    log_info("QMP device_add %s: hvmd has no such device", drv->u.string);
    req_error(r, "GenericError", "'%s' is not a valid device model name", drv->u.string);
}

static void cmd_device_del(struct qmp_req *r)
{
    const char *id = arg_str(r, "id");
    struct cpu_view v;
    unsigned n;
    char tail;
    cpu_view(r->c->q, &v);
    if (sscanf(id, "cpu-%u%c", &n, &tail) == 1 && cpu_in(&v, n)) {
        req_error(r, "GenericError", "vCPU %u: hot-unplug is not supported by hvmd (libxl never "
                  "asks it; offline the vCPU in the guest)", n);
        return;
    }
    req_error(r, "DeviceNotFound", "Device '%s' not found", id);
}


static void cmd_system_wakeup(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    if (!q->suspended) {
        req_error(r, "GenericError", "Unable to wake up: guest is not in suspended state");
        return;
    }
    /* as power returning: devices first, then Xen resets the vCPUs' clocks and unpauses the
     * domain; vCPU 0 starts at the reset vector, where SeaBIOS finds CMOS 0x0F = 0xFE */
    if (q->reset)
        q->reset(q->reset_opaque);
    int rc = q->vm->hv.ops->set_s_state(q->vm->hv.be, 0);
    if (rc < 0) {
        log_err("QMP system_wakeup: Xen refused HVM_PARAM_ACPI_S_STATE 0: %s", strerror(-rc));
        req_error(r, "GenericError", "Unable to wake up: the hypervisor refused (%s)",
                  strerror(-rc));
        return;
    }
    q->suspended = 0;
    log_info("QMP system_wakeup: the guest resumes from S3");
    send_event(q, "WAKEUP", NULL, NULL);
}

static void cmd_system_powerdown(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    int rc = q->vm->hv.ops->power_button(q->vm->hv.be);
    if (rc < 0) {
        req_error(r, "GenericError", "the ACPI power button could not be pressed: %s",
                  strerror(-rc));
        return;
    }
    log_info("QMP system_powerdown: ACPI power button pressed");
    send_event(q, "POWERDOWN", NULL, NULL);
}

static void gen_reset_event(yajl_gen g, const void *ctx)
{
    yajl_gen_map_open(g);
    gkv_bool(g, "guest", 0);
    gkv_str(g, "reason", "host-qmp-system-reset");
    yajl_gen_map_close(g);
}

/* As qemu-xen: a reset of an HVM guest is Xen's reboot of the domain (libxl then follows
 * on_reboot). */
static void cmd_system_reset(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    reply_empty(r->c, r->id);
    r->answered = 1;
    send_event(q, "RESET", gen_reset_event, NULL);
    vm_shutdown(q->vm, HV_REBOOT);
}

static void gen_pci_fn(void *opaque, struct pci_dev *d)
{
    yajl_gen g = opaque;
    yajl_gen_map_open(g);
    gkv_int(g, "bus", 0);
    gkv_int(g, "slot", PCI_SLOT(d->devfn));
    gkv_int(g, "function", PCI_FN(d->devfn));
    gstr(g, "class_info");
    yajl_gen_map_open(g);
    gkv_int(g, "class", pci_get16(d, 0x0a));
    yajl_gen_map_close(g);
    gstr(g, "id");
    yajl_gen_map_open(g);
    gkv_int(g, "device", pci_get16(d, 0x02));
    gkv_int(g, "vendor", pci_get16(d, 0x00));
    yajl_gen_map_close(g);
    gkv_str(g, "qdev_id", "");
    gstr(g, "regions");
    yajl_gen_array_open(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

/* query-pci: libxl asks it only around PCI pass-through, which hvmd refuses; a valid list. */
static void gen_pci(struct qmp_req *r, yajl_gen g)
{
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    gkv_int(g, "bus", 0);
    gstr(g, "devices");
    yajl_gen_array_open(g);
    pci_for_each(r->c->q->vm->pci, gen_pci_fn, g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
}

static void cmd_query_pci(struct qmp_req *r) { req_return(r, gen_pci); }

/* ---- screendump ---- */

/* Refresh the guest's screen and write it to FILE as FORMAT ("ppm" or "png"). 0, or -1 with
 * ERR set (QEMU's wording where it has one). The file is opened through the sandbox's opener
 * (a new file, or one that holds an earlier screendump: sandbox.h). */
static int screendump(struct qmp *q, const char *file, const char *format, char *err,
                      size_t errlen)
{
    struct display *d = display_of(q->vm);
    int png;
    if (!format || !strcmp(format, "ppm")) {
        png = 0;
    } else if (!strcmp(format, "png")) {
        png = 1;
    } else {
        snprintf(err, errlen, "Parameter 'format' does not accept value '%.32s'", format);
        return -1;
    }
    if (!d) {
        snprintf(err, errlen, "There is no console to take a screendump from (the guest has no "
                 "display: vga=\"none\")");
        return -1;
    }
    const struct display_surface *s = display_refresh(d);
    int fd = sandbox_open_output(file);
    if (fd < 0) {
        snprintf(err, errlen, "failed to open file '%.200s': %s", file, strerror(-fd));
        return -1;
    }
    int r = png ? display_write_png(s, fd) : display_write_ppm(s, fd);
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0) {
        snprintf(err, errlen, "failed to write '%.200s': %s", file, strerror(-r));
        return -1;
    }
    log_info("screendump: %ux%u %s to %s", s->width, s->height, png ? "PNG" : "PPM", file);
    return 0;
}

static void cmd_screendump(struct qmp_req *r)
{
    char err[320];
    if (screendump(r->c->q, arg_str(r, "filename"), arg_str(r, "format"), err, sizeof(err)) < 0)
        req_error(r, "GenericError", "%s", err); /* else {} */
}

/* ---- human-monitor-command: the HMP commands users and tools send ---- */

struct hmp {
    struct qmp *q;
    char *buf;
    size_t len;
    int truncated;
};

static void hmp_printf(struct hmp *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hmp_printf(struct hmp *h, const char *fmt, ...)
{
    va_list ap;
    if (h->truncated)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(h->buf + h->len, HMP_MAX_OUT - h->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= HMP_MAX_OUT - h->len) {
        h->truncated = 1;
        h->buf[h->len] = 0;
        return;
    }
    h->len += (size_t)n;
}

static void hmp_info_block(struct hmp *h)
{
    struct qmp_block_info rows[QMP_MAX_BLOCK_ROWS];
    for (unsigned i = 0; i < h->q->n_blocks; i++) {
        unsigned n = h->q->blocks[i].ops->query(h->q->blocks[i].opaque, rows, QMP_MAX_BLOCK_ROWS);
        for (unsigned k = 0; k < n && k < QMP_MAX_BLOCK_ROWS; k++) {
            const struct qmp_block_info *b = &rows[k];
            const char *name = b->device ? b->device : "";
            if (h->len)
                hmp_printf(h, "\r\n");
            if (b->file)
                hmp_printf(h, "%s: %s (raw%s)\r\n", name, b->file, b->readonly ? ", read-only" : "");
            else
                hmp_printf(h, "%s: [not inserted]\r\n", name);
            hmp_printf(h, "    Attached to:      %s\r\n", name);
            if (b->removable)
                hmp_printf(h, "    Removable device: %slocked, tray %s\r\n", b->locked ? "" : "not ",
                           b->tray_open ? "open" : "closed");
        }
    }
}

/* "/[count][format][size]" of xp, as QEMU's monitor reads it. 0, or -1 (H has the error). */
static int xp_format(struct hmp *h, const char **p, unsigned long *count, char *fmt, unsigned *size)
{
    const char *s = *p;
    *count = 1;
    *fmt = 'x';
    *size = 4;
    if (*s != '/')
        return 0;
    s++;
    if (isdigit((unsigned char)*s))
        *count = strtoul(s, (char **)&s, 10);
    for (; *s && !isspace((unsigned char)*s); s++) {
        switch (*s) {
        case 'x': case 'd': case 'u': case 'o': case 'c': *fmt = *s; break;
        case 'b': *size = 1; break;
        case 'h': *size = 2; break;
        case 'w': *size = 4; break;
        case 'g': *size = 8; break;
        default:
            hmp_printf(h, "invalid char in format: '%c'\r\n", *s);
            return -1;
        }
    }
    if (*fmt == 'c')
        *size = 1;
    *p = s;
    return 0;
}

static void hmp_printc(struct hmp *h, unsigned c)
{
    switch (c) {
    case '\'': hmp_printf(h, "'\\''"); break;
    case '\\': hmp_printf(h, "'\\\\'"); break;
    case '\n': hmp_printf(h, "'\\n'"); break;
    case '\r': hmp_printf(h, "'\\r'"); break;
    default:
        if (c >= 32 && c <= 126)
            hmp_printf(h, "'%c'", c);
        else
            hmp_printf(h, "'\\x%02x'", c);
    }
}

/* xp /fmt ADDR: guest physical memory, read through the bounds-checked accessor, printed as
 * QEMU's monitor prints it ("%016x:" then the items, 16 bytes a line, 8 for bytes). */
static void hmp_xp(struct hmp *h, const char *args)
{
    unsigned long count;
    unsigned size;
    char fmt;
    while (isspace((unsigned char)*args))
        args++;
    if (xp_format(h, &args, &count, &fmt, &size) < 0)
        return;
    while (isspace((unsigned char)*args))
        args++;
    char *end;
    errno = 0;
    unsigned long long addr = strtoull(args, &end, 0);
    while (isspace((unsigned char)*end))
        end++;
    if (end == args || *end || errno || *args == '-') {
        hmp_printf(h, "Error: xp: expected an address (a number), got '%s'\r\n", args);
        return;
    }
    if (count == 0 || count > HMP_XP_MAX / size) {
        hmp_printf(h, "Error: xp: at most %u bytes at once\r\n", HMP_XP_MAX);
        return;
    }
    unsigned digits = fmt == 'o' ? (size * 8 + 2) / 3 : fmt == 'x' ? size * 2
                                                                    : (size * 80 + 32) / 33;
    size_t len = count * size, line = size == 1 ? 8 : 16;
    while (len > 0) {
        uint8_t buf[16];
        size_t l = MIN(len, line);
        hmp_printf(h, "%016llx:", addr);
        struct display *d = display_of(h->q->vm);
        int legacy = d && addr >= 0xa0000 && addr < 0xc0000 && addr + l <= 0xc0000;
        if (addr > UINT64_MAX - l ||
            (legacy ? display_read_legacy(d, addr, buf, l) : mem_read(h->q->vm->mem, addr, buf, l)) < 0) {
            hmp_printf(h, " Cannot access memory\r\n");
            return;
        }
        for (size_t i = 0; i < l; i += size) {
            uint64_t v = 0;
            memcpy(&v, buf + i, size); /* x86: little-endian */
            int64_t sv = size == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size);
            hmp_printf(h, " ");
            switch (fmt) {
            case 'o': hmp_printf(h, "%#*llo", digits, (unsigned long long)v); break;
            case 'u': hmp_printf(h, "%*llu", digits, (unsigned long long)v); break;
            case 'd': hmp_printf(h, "%*lld", digits, (long long)sv); break;
            case 'c': hmp_printc(h, (unsigned)v); break;
            default: hmp_printf(h, "0x%0*llx", digits, (unsigned long long)v); break;
            }
        }
        hmp_printf(h, "\r\n");
        addr += l;
        len -= l;
    }
}

/* sendkey KEYS [HOLD]: KEYS as "ctrl-alt-delete", QEMU's QKeyCode names joined by '-'. */
static void hmp_sendkey(struct hmp *h, const char *rest)
{
    int codes[SENDKEY_MAX];
    unsigned n = 0;
    size_t len = strcspn(rest, " \t\r\n");
    const char *p = rest, *end = rest + len;
    if (!len) {
        hmp_printf(h, "Error: sendkey: which keys? (e.g. sendkey ctrl-alt-delete)\r\n");
        return;
    }
    while (p < end) {
        size_t l = strcspn(p, "-");
        if (p + l > end)
            l = (size_t)(end - p);
        char name[32];
        if (l == 0 || l >= sizeof(name) || n == SENDKEY_MAX) {
            hmp_printf(h, "Error: sendkey: invalid key list '%.*s'\r\n", (int)MIN(len, (size_t)64),
                       rest);
            return;
        }
        memcpy(name, p, l);
        name[l] = 0;
        codes[n] = input_qcode(name);
        if (codes[n] < 0) {
            hmp_printf(h, "Error: sendkey: unknown key: '%s'\r\n", name);
            return;
        }
        n++;
        p += l;
        if (p < end)
            p++; /* the '-' */
    }
    send_keys(h->q->vm, codes, n);
}

/* x-text-screen: the cells a text mode shows now (from the CRTC's start address on, as the
 * display draws them, not the text window at 0xb8000, which Linux's console leaves behind when
 * it scrolls by moving the start address), printed as `xp /Nhx` prints memory, the address
 * column counting from 0: hvmctl run reads it in the same way (toolstack/run/vga.c). */
static void hmp_text_screen(struct hmp *h)
{
    struct display *d = display_of(h->q->vm);
    struct display_text *t = calloc(1, sizeof(*t));
    if (!t) {
        hmp_printf(h, "Error: x-text-screen: out of memory\r\n");
        return;
    }
    if (!d || display_text(d, t) < 0) {
        hmp_printf(h, "Error: x-text-screen: %s\r\n",
                   d ? "the display is not in a text mode" : "no display");
    } else if (t->cols * t->rows > 3200) {   /* ~10 bytes a cell: within HMP_MAX_OUT */
        hmp_printf(h, "Error: x-text-screen: %ux%u cells, more than this command answers\r\n",
                   t->cols, t->rows);
    } else {
        unsigned n = t->cols * t->rows;
        for (unsigned i = 0; i < n; i++) {
            if (i % 8 == 0)
                hmp_printf(h, "%016x:", i * 2);
            hmp_printf(h, " 0x%04x%s", t->cells[i], i % 8 == 7 || i + 1 == n ? "\r\n" : "");
        }
    }
    free(t);
}

/* screendump FILENAME [-f FORMAT] (QEMU 7's HMP order; the format also before the name) */
static void hmp_screendump(struct hmp *h, const char *args)
{
    char file[1024] = "", format[8] = "ppm", err[320];
    while (*args) {
        size_t n = strcspn(args, " \t\r\n");
        if (n == 2 && !strncmp(args, "-f", 2)) {
            args += n;
            while (isspace((unsigned char)*args))
                args++;
            n = strcspn(args, " \t\r\n");
            snprintf(format, sizeof(format), "%.*s", (int)MIN(n, sizeof(format) - 1), args);
        } else if (!file[0] && n < sizeof(file)) {
            memcpy(file, args, n);
            file[n] = 0;
        }
        args += n;
        while (isspace((unsigned char)*args))
            args++;
    }
    if (!file[0]) {
        hmp_printf(h, "Error: screendump: expected a file name\r\n");
        return;
    }
    if (screendump(h->q, file, format, err, sizeof(err)) < 0)
        hmp_printf(h, "Error: %s\r\n", err);
}

static const char hmp_help[] =
    "help|? [cmd] -- show the help\r\n"
    "info status -- show the current VM status (running|paused|suspended)\r\n"
    "info version -- show the version of QEMU hvmd answers as\r\n"
    "info block -- show the block devices\r\n"
    "info cpus -- show infos for each CPU\r\n"
    "screendump filename [-f ppm|png] -- save screen as an image\r\n"
    "sendkey keys -- send keys to the VM (QKeyCode names joined by '-': ctrl-alt-delete)\r\n"
    "xp /fmt addr -- physical memory dump starting at 'addr'\r\n"
    "x-text-screen -- the cells a text mode shows, as xp /hx prints them (hvmd)\r\n";

static void hmp_run(struct hmp *h, const char *line)
{
    struct qmp *q = h->q;
    while (isspace((unsigned char)*line))
        line++;
    size_t n = strcspn(line, " \t\r\n");
    const char *rest = line + n;
    while (isspace((unsigned char)*rest))
        rest++;
#define IS(w) (n == strlen(w) && !strncmp(line, w, n))
    if (n == 0) {
        return;
    } else if (IS("help") || IS("?")) {
        hmp_printf(h, "%s", hmp_help);
    } else if (IS("info")) {
        size_t m = strcspn(rest, " \t\r\n");
        if (m == 6 && !strncmp(rest, "status", 6)) {
            const char *st = run_state(q);
            if (!strcmp(st, "running") || !strcmp(st, "paused"))
                hmp_printf(h, "VM status: %s\r\n", st);
            else
                hmp_printf(h, "VM status: paused (%s)\r\n", st);
        } else if (m == 7 && !strncmp(rest, "version", 7)) {
            hmp_printf(h, "7.2.0 (hvmd)\r\n");
        } else if (m == 5 && !strncmp(rest, "block", 5)) {
            hmp_info_block(h);
        } else if (m == 4 && !strncmp(rest, "cpus", 4)) {
            struct cpu_view v;
            cpu_view(q, &v);
            for (unsigned i = 0; i < v.max; i++)
                if (cpu_in(&v, i))
                    hmp_printf(h, "%c CPU #%u: thread_id=%d\r\n", i ? ' ' : '*', i, getpid());
        } else {
            hmp_printf(h, "info status|version|block|cpus -- hvmd answers these\r\n");
        }
    } else if (IS("xp")) {
        hmp_xp(h, rest);
    } else if (IS("screendump")) {
        hmp_screendump(h, rest);
    } else if (IS("sendkey")) {
        hmp_sendkey(h, rest);
    } else if (IS("x-text-screen")) {
        hmp_text_screen(h);
    } else {
        hmp_printf(h, "unknown command: '%.*s'\r\n", (int)MIN(n, (size_t)64), line);
    }
#undef IS
}

static void gen_text(struct qmp_req *r, yajl_gen g) { gstr(g, r->text); }

static void cmd_hmp(struct qmp_req *r)
{
    struct hmp h = { r->c->q, malloc(HMP_MAX_OUT), 0, 0 };
    if (!h.buf) {
        req_error(r, "GenericError", "out of memory");
        return;
    }
    h.buf[0] = 0;
    hmp_run(&h, arg_str(r, "command-line"));
    if (h.truncated) {
        h.len = MIN(h.len, (size_t)HMP_MAX_OUT - 32);
        h.buf[h.len] = 0;
        hmp_printf(&h, "(output truncated)\r\n");
    }
    r->text = h.buf;
    req_return(r, gen_text);
    free(h.buf);
}

/* ---- input-send-event: QMP as an input source (dm/input.h) ---- */

static yajl_val member(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o))
        return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (!strcmp(o->u.object.keys[i], key))
            return o->u.object.values[i];
    return NULL;
}

/* One event of QEMU's InputEvent union into the batch; APPLY 0 only checks. 0 or -1 answered. */
struct input_batch { unsigned x, y, buttons; int dx, dy, dz, abs, rel, btn; };
static int input_event(struct qmp_req *r, yajl_val e, unsigned i, struct input_batch *b, int apply)
{
    static const struct { const char *name; unsigned bit; int dz; } buttons[] = {
        { "left", INPUT_BTN_LEFT, 0 }, { "right", INPUT_BTN_RIGHT, 0 },
        { "middle", INPUT_BTN_MIDDLE, 0 }, { "wheel-up", 0, 1 }, { "wheel-down", 0, -1 },
    };
    const char *type = YAJL_GET_STRING(member(e, "type"));
    yajl_val data = member(e, "data");
    if (!type || !YAJL_IS_OBJECT(data)) {
        req_error(r, "GenericError", "events[%u]: expected {\"type\": ..., \"data\": {...}}", i);
        return -1;
    }
    if (!strcmp(type, "key")) {
        yajl_val key = member(data, "key"), down = member(data, "down");
        const char *kt = YAJL_GET_STRING(member(key, "type"));
        const char *name = YAJL_GET_STRING(member(key, "data"));
        int code = kt && !strcmp(kt, "qcode") && name ? input_qcode(name) : -1;
        if (code < 0 || !(YAJL_IS_TRUE(down) || YAJL_IS_FALSE(down))) {
            req_error(r, "GenericError", "events[%u]: a key event needs a known qcode and 'down'", i);
            return -1;
        }
        if (apply)
            input_key(r->c->q->vm, (unsigned)code, YAJL_IS_TRUE(down));
        return 0;
    }
    if (!strcmp(type, "btn")) {
        const char *name = YAJL_GET_STRING(member(data, "button"));
        yajl_val down = member(data, "down");
        unsigned k;
        for (k = 0; name && k < ARRAY_SIZE(buttons) && strcmp(buttons[k].name, name); k++)
            ;
        if (!name || k == ARRAY_SIZE(buttons) || !(YAJL_IS_TRUE(down) || YAJL_IS_FALSE(down))) {
            req_error(r, "GenericError", "events[%u]: a btn event needs 'down' and a button of left, "
                      "right, middle, wheel-up, wheel-down", i);
            return -1;
        }
        if (YAJL_IS_TRUE(down))
            b->buttons |= buttons[k].bit;
        else
            b->buttons &= ~buttons[k].bit;
        if (YAJL_IS_TRUE(down))
            b->dz += buttons[k].dz;
        b->btn = 1;
        return 0;
    }
    if (!strcmp(type, "abs") || !strcmp(type, "rel")) {
        const char *axis = YAJL_GET_STRING(member(data, "axis"));
        yajl_val value = member(data, "value");
        if (!axis || (strcmp(axis, "x") && strcmp(axis, "y")) || !YAJL_IS_INTEGER(value)) {
            req_error(r, "GenericError", "events[%u]: an %s event needs 'axis' (x or y) and an "
                      "integer 'value'", i, type);
            return -1;
        }
        long long v = YAJL_GET_INTEGER(value);
        if (type[0] == 'a') {
            unsigned c = (unsigned)(v < 0 ? 0 : v > INPUT_ABS_MAX ? INPUT_ABS_MAX : v);
            if (axis[0] == 'x')
                b->x = c;
            else
                b->y = c;
            b->abs = 1;
        } else {
            int c = (int)(v < -65536 ? -65536 : v > 65536 ? 65536 : v);
            if (axis[0] == 'x')
                b->dx += c;
            else
                b->dy += c;
            b->rel = 1;
        }
        return 0;
    }
    req_error(r, "GenericError", "events[%u]: event type '%.32s' is not served (key, btn, abs, rel)",
              i, type);
    return -1;
}

/* input-send-event {"events": [...]} (device and head are accepted and not used: one console).
 * The events of one command form one report, as in QEMU; the pointer's position and buttons
 * persist between commands. */
static void cmd_input_send_event(struct qmp_req *r)
{
    struct qmp *q = r->c->q;
    yajl_val ev = arg(r, "events");
    for (int apply = 0; apply < 2; apply++) {
        struct input_batch b = { q->ptr.x, q->ptr.y, q->ptr.buttons, 0, 0, 0, 0, 0, 0 };
        for (size_t i = 0; i < ev->u.array.len; i++)
            if (input_event(r, ev->u.array.values[i], (unsigned)i, &b, apply) < 0)
                return;
        if (!apply)
            continue;
        q->ptr.x = b.x;
        q->ptr.y = b.y;
        q->ptr.buttons = b.buttons;
        if (b.abs || ((b.btn || b.dz) && !b.rel && q->ptr.have_abs)) {
            q->ptr.have_abs = 1;
            input_abs(q->vm, b.x, b.y, b.dz, b.buttons);
        } else if (b.rel || b.btn) {
            input_rel(q->vm, b.dx, b.dy, b.dz, b.buttons);
        }
    }
}

/* ---- dispatch ---- */

/* ARGS: the arguments a command takes, "name:T" separated by blanks, T one of s (string),
 * i (integer), b (boolean), a (array), "name?:T" if optional; NULL: the command checks its
 * own (device_add takes the properties of the device it adds). */
static const struct builtin {
    const char *name;
    void (*fn)(struct qmp_req *r);
    int block;               /* served once a block device registered */
    const char *args;
} builtins[] = {
    { "qmp_capabilities", cmd_capabilities, 0, "enable?:a" },
    { "query-status", cmd_query_status, 0, "" },
    { "x-hvmd-io-stats", cmd_io_stats, 0, "" },
    { "stop", cmd_stop, 0, "" },
    { "cont", cmd_cont, 0, "" },
    { "query-chardev", cmd_query_chardev, 0, "" },
    { "query-vnc", cmd_query_vnc, 0, "" },
    { "change-vnc-password", cmd_change_vnc_password, 0, "password:s" },
    { "send-key", cmd_send_key, 0, "keys:a hold-time?:i" },
    { "query-version", cmd_query_version, 0, "" },
    { "query-commands", cmd_query_commands, 0, "" },
    { "quit", cmd_quit, 0, "" },
    { "add-fd", cmd_add_fd, 0, "fdset-id?:i opaque?:s" },
    { "remove-fd", cmd_remove_fd, 0, "fdset-id:i fd?:i" },
    { "query-fdsets", cmd_query_fdsets, 0, "" },
    { "eject", cmd_eject, 1, "id?:s device?:s force?:b" },
    { "blockdev-change-medium", cmd_change_medium, 1,
      "id?:s device?:s filename:s format?:s read-only-mode?:s force?:b" },
    { "query-block", cmd_query_block, 1, "" },
    { "query-cpus-fast", cmd_query_cpus_fast, 0, "" },
    { "query-cpus", cmd_query_cpus, 0, "" },
    { "query-hotpluggable-cpus", cmd_query_hotpluggable, 0, "" },
    { "device_add", cmd_device_add, 0, NULL },
    { "device_del", cmd_device_del, 0, "id:s" },
    { "system_wakeup", cmd_system_wakeup, 0, "" },
    { "system_powerdown", cmd_system_powerdown, 0, "" },
    { "system_reset", cmd_system_reset, 0, "" },
    { "human-monitor-command", cmd_hmp, 0, "command-line:s cpu-index?:i" },
    { "query-pci", cmd_query_pci, 0, "" },
    { "screendump", cmd_screendump, 0, "filename:s device?:s head?:i format?:s" },
    { "input-send-event", cmd_input_send_event, 0, "device?:s head?:i events:a" },
    { "xen-save-devices-state", cmd_save_devices_state, 0, "filename:s live?:b" },
    { "xen-load-devices-state", cmd_load_devices_state, 0, "filename:s" },
    { "xen-set-global-dirty-log", cmd_dirty_log, 0, "enable:b" },
};

static int type_ok(yajl_val v, char t)
{
    switch (t) {
    case 's': return YAJL_IS_STRING(v);
    case 'i': return YAJL_IS_INTEGER(v);
    case 'b': return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v);
    case 'a': return YAJL_IS_ARRAY(v);
    default: return 0;
    }
}

static const char *type_name(char t)
{
    return t == 's' ? "string" : t == 'i' ? "integer" : t == 'b' ? "boolean" : "array";
}

/* Check R's arguments against SPEC (see builtins): 0, or -1 with the error answered. */
static int check_args(struct qmp_req *r, const char *spec)
{
    /* every argument given: known, of its type */
    for (size_t i = 0; r->args && i < r->args->u.object.len; i++) {
        const char *k = r->args->u.object.keys[i];
        size_t kl = strlen(k);
        const char *p = spec;
        char t = 0;
        while (*p) {
            size_t nl = strcspn(p, "?:");
            const char *colon = strchr(p, ':');
            if (nl == kl && !strncmp(p, k, kl)) {
                t = colon[1];
                break;
            }
            p = colon + 2;
            while (*p == ' ')
                p++;
        }
        if (!t) {
            req_error(r, "GenericError", "Parameter '%.64s' is unexpected", k);
            return -1;
        }
        if (!type_ok(r->args->u.object.values[i], t)) {
            req_error(r, "GenericError", "Invalid parameter type for '%.64s', expected: %s", k,
                      type_name(t));
            return -1;
        }
    }
    /* every argument required: given */
    for (const char *p = spec; *p;) {
        size_t nl = strcspn(p, "?:");
        const char *colon = strchr(p, ':');
        char name[32];
        if (p[nl] == ':' && nl < sizeof(name)) {
            memcpy(name, p, nl);
            name[nl] = 0;
            if (!arg(r, name)) {
                req_error(r, "GenericError", "Parameter '%s' is missing", name);
                return -1;
            }
        }
        p = colon + 2;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static int served(const struct qmp *q, const struct builtin *b)
{
    return !b->block || q->n_blocks > 0;
}

static void gen_commands(struct qmp_req *r, yajl_gen g)
{
    yajl_gen_array_open(g);
    for (unsigned i = 0; i < ARRAY_SIZE(builtins); i++) {
        if (!served(r->c->q, &builtins[i]))
            continue;
        yajl_gen_map_open(g);
        gkv_str(g, "name", builtins[i].name);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void execute(struct qmp_conn *c, yajl_val msg)
{
    yajl_val id = NULL, exec = NULL, args = NULL;
    const char *unexpected = NULL;

    if (!YAJL_IS_OBJECT(msg)) {
        reply_error(c, NULL, "GenericError", "QMP input must be a JSON object");
        return;
    }
    for (size_t i = 0; i < msg->u.object.len; i++) {
        const char *k = msg->u.object.keys[i];
        if (!strcmp(k, "id"))
            id = msg->u.object.values[i];
        else if (!strcmp(k, "execute"))
            exec = msg->u.object.values[i];
        else if (!strcmp(k, "arguments"))
            args = msg->u.object.values[i];
        else if (!unexpected)
            unexpected = k;
    }
    if (unexpected) {
        reply_error(c, id, "GenericError", "QMP input member '%.64s' is unexpected", unexpected);
        return;
    }
    if (args && !YAJL_IS_OBJECT(args)) {
        reply_error(c, id, "GenericError", "QMP input member 'arguments' must be an object");
        return;
    }
    if (!exec) {
        reply_error(c, id, "GenericError", "QMP input lacks member 'execute'");
        return;
    }
    const char *name = YAJL_GET_STRING(exec);
    if (!name) {
        reply_error(c, id, "GenericError", "QMP input member 'execute' must be a string");
        return;
    }
    if (!c->negotiated) {
        if (strcmp(name, "qmp_capabilities")) {
            reply_error(c, id, "CommandNotFound",
                        "Expecting capabilities negotiation with 'qmp_capabilities'");
            return;
        }
        c->negotiated = 1;
        reply_empty(c, id);
        return;
    }
    unsigned i;
    for (i = 0; i < ARRAY_SIZE(builtins) && strcmp(builtins[i].name, name); i++)
        ;
    if (i == ARRAY_SIZE(builtins) || !served(c->q, &builtins[i])) {
        log_info("QMP: %s is not implemented", name);
        reply_error(c, id, "CommandNotFound", "The command %s has not been found", name);
        return;
    }
    struct qmp_req r = { c, id, YAJL_IS_OBJECT(args) ? args : NULL, 0, { 0, 0 }, NULL };
    if (builtins[i].args && check_args(&r, builtins[i].args) < 0)
        return;
    builtins[i].fn(&r);
    if (!r.answered)
        reply_empty(c, id);
}


/* ---- framing ---- */

static void handle_message(struct qmp_conn *c, char *text)
{
    char errbuf[128];
    yajl_val v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
    if (!v) {
        char *nl = strchr(errbuf, '\n');
        if (nl)
            *nl = 0;
        reply_error(c, NULL, "GenericError", "JSON parse error, %s", errbuf);
        return;
    }
    execute(c, v);
    yajl_tree_free(v);
}

int qmp_conn_input(struct qmp_conn *c, const char *data, size_t n)
{
    while (n) {
        size_t take = MIN(n, (size_t)QMP_MAX_INPUT - c->len);
        if (take == 0) {
            log_warn("QMP: a message longer than %d bytes; closing the connection", QMP_MAX_INPUT);
            return -1;
        }
        memcpy(c->buf + c->len, data, take);
        c->len += take;
        data += take;
        n -= take;
        /* find complete top-level values */
        size_t start = 0;
        for (; c->scan < c->len; c->scan++) {
            char ch = c->buf[c->scan];
            if (c->in_string) {
                if (c->escape)
                    c->escape = 0;
                else if (ch == '\\')
                    c->escape = 1;
                else if (ch == '"')
                    c->in_string = 0;
                continue;
            }
            if (ch == '"') {
                c->in_string = 1;
            } else if (ch == '{' || ch == '[') {
                if (c->depth == 0)
                    start = c->scan; /* a message starts at its opening bracket */
                if (++c->depth > QMP_MAX_DEPTH) {
                    log_warn("QMP: input nested deeper than %d; closing the connection", QMP_MAX_DEPTH);
                    return -1;
                }
            } else if (ch == '}' || ch == ']') {
                if (c->depth > 0 && --c->depth == 0) {
                    char save = c->buf[c->scan + 1];
                    c->buf[c->scan + 1] = 0;
                    handle_message(c, c->buf + start);
                    c->buf[c->scan + 1] = save;
                    start = c->scan + 1;
                } else if (c->depth == 0) {
                    start = c->scan + 1; /* a stray closing bracket: drop it */
                }
            } else if (c->depth == 0) {
                start = c->scan + 1; /* blanks, or a scalar at top level: not a command, dropped */
            }
        }
        if (c->depth == 0 && !c->in_string)
            start = c->scan; /* only blanks left over */
        memmove(c->buf, c->buf + start, c->len - start);
        c->len -= start;
        c->scan -= start;
    }
    return c->closing ? -1 : 0;
}

struct qmp_conn *qmp_conn_new(struct qmp *q, qmp_out_fn *out, void *out_opaque)
{
    struct qmp_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->q = q;
    c->fd = -1;
    c->out = out;
    c->out_opaque = out_opaque;
    /* in the table too, so that events reach it (a full table: commands only) */
    for (unsigned i = 0; i < QMP_MAX_CONNS; i++)
        if (!q->conns[i]) {
            q->conns[i] = c;
            break;
        }
    greet(c);
    return c;
}

void qmp_conn_free(struct qmp_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0) {
        loop_del_fd(c->q->loop, c->fd);
        close(c->fd);
    }
    for (unsigned i = 0; i < QMP_MAX_CONNS; i++)
        if (c->q->conns[i] == c)
            c->q->conns[i] = NULL;
    for (unsigned i = 0; i < c->n_passed; i++)
        close(c->passed[i]);
    free(c);
}

void qmp_conn_pass_fd(struct qmp_conn *c, int fd)
{
    if (c->n_passed == QMP_MAX_PASSED) {
        log_warn("QMP: more than %d descriptors passed and not taken; closing one", QMP_MAX_PASSED);
        close(fd);
        return;
    }
    c->passed[c->n_passed++] = fd;
}

/* ---- sockets ---- */

static void on_conn(void *opaque, uint32_t events)
{
    struct qmp_conn *c = opaque;
    char buf[4096];
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * QMP_MAX_PASSED)];
    } ctl;
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                         .msg_controllen = sizeof(ctl.b) };
    ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
    /* descriptors passed with SCM_RIGHTS (libxl's add-fd sends the file on the first byte) */
    for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            qmp_conn_pass_fd(c, fd);
        }
    }
    if (mh.msg_flags & MSG_CTRUNC)
        log_warn("QMP: descriptors passed beyond %d were dropped", QMP_MAX_PASSED);
    if (n > 0) {
        if (qmp_conn_input(c, buf, (size_t)n) < 0)
            qmp_conn_free(c);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    qmp_conn_free(c); /* closed by the peer */
}

static void on_accept(void *opaque, uint32_t events)
{
    struct listener *l = opaque;
    struct qmp *q = l->q;
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    unsigned slot;
    for (slot = 0; slot < QMP_MAX_CONNS && q->conns[slot]; slot++)
        ;
    if (slot == QMP_MAX_CONNS) {
        log_warn("QMP: too many connections; refusing one on %s", l->path);
        close(fd);
        return;
    }
    struct qmp_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->q = q;
    c->fd = fd;
    c->libxl = !strcmp(l->id, "libxl-cmd");
    if (loop_add_fd(q->loop, fd, EPOLLIN, on_conn, c) < 0) {
        close(fd);
        free(c);
        return;
    }
    q->conns[slot] = c;
    greet(c);
}

void qmp_free(struct qmp *q)
{
    if (!q)
        return;
    for (unsigned i = 0; i < QMP_MAX_CONNS; i++)
        if (q->conns[i])
            qmp_conn_free(q->conns[i]);
    for (unsigned i = 0; i < q->n_lis; i++) {
        loop_del_fd(q->loop, q->lis[i].fd);
        close(q->lis[i].fd);
        if (q->lis[i].path[0]) /* fd=: the socket is libxl's, and so is its name */
            unlink(q->lis[i].path);
    }
    for (unsigned i = 0; i < QMP_MAX_FDSETS; i++)
        for (unsigned k = 0; k < q->sets[i].n; k++) {
            close(q->sets[i].fd[k]);
            free(q->sets[i].opaque[k]);
        }
    free(q);
}

static int add_listener(struct qmp *q, const char *id, const char *path, int fd, char *err,
                        size_t errlen)
{
    struct listener *l = &q->lis[q->n_lis];
    l->q = q;
    l->fd = fd;
    strcpy(l->id, id);
    strcpy(l->path, path);
    if (loop_add_fd(q->loop, fd, EPOLLIN, on_accept, l) < 0) {
        close(fd);
        if (*path)
            unlink(path);
        snprintf(err, errlen, "-chardev id=%s: loop: out of memory", id);
        return -ENOMEM;
    }
    q->n_lis++;
    return 0;
}

/* -chardev socket,id=ID,fd=N,server=on: a socket libxl bound and put in listen() and handed
 * down (dm_restrict: libxl__pre_open_qmp_socket); hvmd accepts on it and never unlinks it. */
static int listen_fd(struct qmp *q, const char *id, const char *fds, char *err, size_t errlen)
{
    char *end;
    int acc = 0;
    socklen_t len = sizeof(acc);
    struct stat st;
    errno = 0;
    long n = strtol(fds, &end, 10);
    if (q->n_lis == QMP_MAX_LISTEN || strlen(id) >= sizeof(q->lis[0].id)) {
        snprintf(err, errlen, "-mon chardev=%s: at most %d monitors", id, QMP_MAX_LISTEN);
        return -EINVAL;
    }
    if (errno || end == fds || *end || n < 3 || n > 65535) {
        snprintf(err, errlen, "-chardev id=%s: fd=%s: not a descriptor number (3 or more)", id,
                 fds);
        return -EINVAL;
    }
    int fd = (int)n;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc) {
        snprintf(err, errlen, "-chardev id=%s: fd=%d is not a listening socket%s", id, fd,
                 errno == EBADF ? " (not open)" : "");
        return -EINVAL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(err, errlen, "-chardev id=%s: fd=%d: %s", id, fd, strerror(errno));
        return -EINVAL;
    }
    return add_listener(q, id, "", fd, err, errlen);
}

static int listen_on(struct qmp *q, const char *id, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    if (q->n_lis == QMP_MAX_LISTEN) {
        snprintf(err, errlen, "-mon chardev=%s: at most %d monitors", id, QMP_MAX_LISTEN);
        return -EINVAL;
    }
    if (strlen(path) >= sizeof(sa.sun_path) || strlen(id) >= sizeof(q->lis[0].id)) {
        snprintf(err, errlen, "-chardev id=%s: path %s too long", id, path);
        return -EINVAL;
    }
    strcpy(sa.sun_path, path);
    /* a stale socket from an earlier device model for this domain id */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        snprintf(err, errlen, "-chardev id=%s: cannot listen on %s: %s", id, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    return add_listener(q, id, path, fd, err, errlen);
}

struct qmp *qmp_new(struct vm *vm, struct config *cfg, const struct qmp_ops *ops, void *opaque,
                    char *err, size_t errlen)
{
    struct qmp *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    q->vm = vm;
    q->loop = vm->loop;
    q->ops = ops;
    q->opaque = opaque;
    for (unsigned i = 0; cfg; i++) {
        struct cfg_opt *mon = cfg_nth(cfg, "-mon", i);
        if (!mon)
            break;
        const char *chr = cfg_get(mon, "chardev");
        const char *mode = cfg_get(mon, "mode");
        struct cfg_opt *cd = chr ? cfg_by_id(cfg, "-chardev", chr) : NULL;
        if (!cd || !mode || strcmp(mode, "control")) {
            snprintf(err, errlen, "-mon %s: hvmd serves control monitors (mode=control) on a "
                     "-chardev socket only", mon->raw);
            goto fail;
        }
        const char *path = cfg_get(cd, "path");
        const char *server = cfg_get(cd, "server");
        const char *fds = cfg_get(cd, "fd");
        if (strcmp(cd->first, "socket") || !path == !fds || !server ||
            (strcmp(server, "on") && strcmp(server, ""))) {
            snprintf(err, errlen, "-chardev %s: hvmd serves QMP only as a UNIX socket server "
                     "(socket,path=...,server=on or socket,fd=N,server=on)", cd->raw);
            goto fail;
        }
        if ((fds ? listen_fd(q, chr, fds, err, errlen) : listen_on(q, chr, path, err, errlen)) < 0)
            goto fail;
        mon->claimed = cd->claimed = 1;
    }
    return q;
fail:
    qmp_free(q);
    return NULL;
}

/* ---- block devices' registration and events ---- */

int qmp_block_register(struct qmp *q, const struct qmp_block_ops *ops, void *opaque)
{
    for (unsigned i = 0; i < q->n_blocks; i++)
        if (q->blocks[i].opaque == opaque)
            return -EEXIST;
    if (q->n_blocks == QMP_MAX_BLOCKDEVS)
        return -ENOSPC;
    q->blocks[q->n_blocks++] = (struct qmp_blockdev){ ops, opaque };
    return 0;
}

void qmp_block_unregister(struct qmp *q, void *opaque)
{
    unsigned k = 0;
    for (unsigned i = 0; i < q->n_blocks; i++)
        if (q->blocks[i].opaque != opaque)
            q->blocks[k++] = q->blocks[i];
    q->n_blocks = k;
}

int qmp_cpu_register(struct qmp *q, const struct qmp_cpu_ops *ops, void *opaque)
{
    if (q->cpu_ops)
        return q->cpu_opaque == opaque ? -EEXIST : -ENOSPC;
    q->cpu_ops = ops;
    q->cpu_opaque = opaque;
    return 0;
}

void qmp_cpu_unregister(struct qmp *q, void *opaque)
{
    if (q && q->cpu_opaque == opaque) {
        q->cpu_ops = NULL;
        q->cpu_opaque = NULL;
    }
}

void qmp_set_reset(struct qmp *q, void (*reset)(void *opaque), void *opaque)
{
    q->reset = reset;
    q->reset_opaque = opaque;
}

void qmp_suspended(struct qmp *q)
{
    if (!q || q->suspended)
        return;
    q->suspended = 1;
    send_event(q, "SUSPEND", NULL, NULL);
}

/* Send EVENT to every client that negotiated capabilities, with the "data" DATA writes (none
 * if NULL). */
static void send_event(struct qmp *q, const char *event,
                       void (*data)(yajl_gen g, const void *ctx), const void *ctx)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (unsigned i = 0; i < QMP_MAX_CONNS; i++) {
        struct qmp_conn *c = q->conns[i];
        if (!c || !c->negotiated)
            continue;
        yajl_gen g = msg_open("timestamp");
        if (!g)
            break;
        yajl_gen_map_open(g);
        gkv_int(g, "seconds", (long long)ts.tv_sec);
        gkv_int(g, "microseconds", ts.tv_nsec / 1000);
        yajl_gen_map_close(g);
        gkv_str(g, "event", event);
        if (data) {
            gstr(g, "data");
            data(g, ctx);
        }
        yajl_gen_map_close(g);
        send_gen(c, g);
    }
}

struct io_error_ev {
    const char *device, *node, *op, *action, *reason;
    int nospace;
};

static void gen_io_error(yajl_gen g, const void *ctx)
{
    const struct io_error_ev *e = ctx;
    yajl_gen_map_open(g);
    gkv_str(g, "device", e->device);
    gkv_str(g, "node-name", e->node);
    gkv_str(g, "operation", e->op);
    gkv_str(g, "action", e->action);
    gkv_bool(g, "nospace", e->nospace);
    gkv_str(g, "reason", e->reason);
    yajl_gen_map_close(g);
}

/* At most this many BLOCK_IO_ERROR events with action report or ignore per window (a guest
 * can repeat a failing read in a loop); those with stop always go (the guest is paused). */
#define IOERR_EV_BURST 10
#define IOERR_EV_WINDOW_MS 5000

void qmp_block_io_error(struct qmp *q, const char *device, int op, enum blk_action action,
                        int err)
{
    if (!q)
        return;
    if (action != BLK_ACT_STOP) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        if (now - q->ioerr_rl.window_start_ms >= IOERR_EV_WINDOW_MS) {
            if (q->ioerr_rl.dropped)
                log_warn("QMP: %u BLOCK_IO_ERROR events not sent (rate limit)",
                         q->ioerr_rl.dropped);
            q->ioerr_rl.window_start_ms = now;
            q->ioerr_rl.sent = q->ioerr_rl.dropped = 0;
        }
        if (q->ioerr_rl.sent >= IOERR_EV_BURST) {
            q->ioerr_rl.dropped++;
            return;
        }
        q->ioerr_rl.sent++;
    }
    /* QEMU: device is the block backend's name, node-name its node's; hvmd has no block
     * graph, so both name the drive */
    struct io_error_ev e = { device ? device : "", device ? device : "",
                             op == BLK_READ ? "read" : "write", blk_action_name(action),
                             strerror(err < 0 ? -err : err), err == -ENOSPC };
    send_event(q, "BLOCK_IO_ERROR", gen_io_error, &e);
    if (action == BLK_ACT_STOP && !q->vm->io_error)
        send_event(q, "STOP", NULL, NULL); /* the device stops the guest next (dm/vm.h) */
}

struct tray_moved {
    const char *device;
    int open;
};

static void gen_tray_moved(yajl_gen g, const void *ctx)
{
    const struct tray_moved *t = ctx;
    yajl_gen_map_open(g);
    gkv_str(g, "device", t->device);
    gkv_bool(g, "tray-open", t->open);
    gkv_str(g, "id", t->device);
    yajl_gen_map_close(g);
}

void qmp_tray_moved(struct qmp *q, const char *device, int open)
{
    struct tray_moved t = { device ? device : "", open };
    if (q)
        send_event(q, "DEVICE_TRAY_MOVED", gen_tray_moved, &t);
}


int qmp_open(struct qmp *q, const char *path, int flags, char *err, size_t errlen)
{
    static const char pre[] = "/dev/fdset/";
    if (strncmp(path, pre, sizeof(pre) - 1) != 0) {
        /* the sandbox's filter kills a process that calls open: refuse, and say what works
         * (libxl never sends a path: xl cd-insert passes the file with add-fd) */
        if (sandbox_current() == SANDBOX_ON) {
            snprintf(err, errlen, "Could not open '%s': hvmd runs in a seccomp sandbox and "
                     "opens no file by path once started; pass the file with add-fd "
                     "(SCM_RIGHTS) and name it /dev/fdset/N, as xl cd-insert does, or start "
                     "hvmd with -sandbox off", path);
            return -EPERM;
        }
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "Could not open '%s': %s", path, strerror(e));
            return -e;
        }
        return fd;
    }
    char *end;
    errno = 0;
    long long id = strtoll(path + sizeof(pre) - 1, &end, 10);
    struct fdset *set = q && !errno && *end == 0 && end != path + sizeof(pre) - 1
                            ? fdset_find(q, id) : NULL;
    if (!set) {
        snprintf(err, errlen, "Could not open '%s': no such descriptor set", path);
        return -ENOENT;
    }
    for (unsigned i = 0; i < set->n; i++) {
        int fl = fcntl(set->fd[i], F_GETFL);
        if (fl < 0)
            continue;
        int want = flags & O_ACCMODE, have = fl & O_ACCMODE;
        if (have == want || (have == O_RDWR && want == O_RDONLY)) {
            int fd = fcntl(set->fd[i], F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                int e = errno;
                snprintf(err, errlen, "Could not open '%s': %s", path, strerror(e));
                return -e;
            }
            return fd;
        }
    }
    snprintf(err, errlen, "Could not open '%s': no descriptor in the set with a matching access mode",
             path);
    return -EACCES;
}

/* The device-state file: "/dev/fdset/N" (libxl's add-fd) as qmp_open gives it; a path is
 * opened (created 0600 for writing) only outside the sandbox. */
static int state_open(struct qmp *q, const char *path, int flags, char *err, size_t errlen)
{
    if (!strncmp(path, "/dev/fdset/", 11) || sandbox_current() == SANDBOX_ON)
        return qmp_open(q, path, flags, err, errlen);
    int fd = open(path, flags | O_CLOEXEC | (flags == O_WRONLY ? O_CREAT : 0), 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "Could not open '%s': %s", path, strerror(e));
        return -e;
    }
    return fd;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The xenstore broker (xsbroker.h). Requests are one SOCK_SEQPACKET message each:
 * struct xsb_req, then the payload (a path, NUL, a second string: the value, or the token);
 * the reply is struct xsb_rep and its data (read: the value; directory: the names, each
 * NUL-terminated). Watch events go the other way on a second socket pair: path NUL token NUL. */
#include "dm/xsbroker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xen/sys/gntdev.h>
#include <xenstore.h>

#include "dm/log.h"

enum { Q_READ = 1, Q_WRITE, Q_RM, Q_DIR, Q_PERMS, Q_WATCH, Q_UNWATCH, Q_GMAP };

#define XSB_PATH_MAX 1024
#define XSB_GMAP_MAX 1024 /* grants in one map: up to 4 KiB of refs */
#define XSB_VAL_MAX 4096
#define XSB_MSG_MAX (sizeof(struct xsb_req) + XSB_PATH_MAX + XSB_VAL_MAX + 8)
#define XSB_REP_MAX (sizeof(struct xsb_rep) + 65536)

struct xsb_req {
    uint32_t op;
    uint32_t a, b;   /* Q_PERMS: owner, reader */
    uint32_t len1;   /* the path's length (without NUL); the second string follows it */
};
struct xsb_rep {
    int32_t rc;
    uint32_t len;
};

struct xsb {
    int fd, ev_fd;
    pid_t pid;
    char ev[XSB_PATH_MAX + 256];
};

/* ---- the policy ---- */

static int valid_path(const char *p)
{
    size_t n = strlen(p);
    if (n < 2 || n > XSB_PATH_MAX || p[0] != '/' || p[n - 1] == '/' || strstr(p, "//"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '/' || c == '_' || c == '@'))
            return 0;
    }
    return 1;
}

/* PATH is PREFIX or below it */
static int under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(path, prefix, n) && (path[n] == 0 || path[n] == '/');
}

int xsb_allowed(uint32_t domid, enum xsb_access a, const char *path)
{
    char pre[64];
    if (!path || !valid_path(path))
        return 0;
    snprintf(pre, sizeof(pre), "/local/domain/0/device-model/%u", domid);
    if (under(path, pre))
        return 1;
    static const char be[] = "/local/domain/0/backend/";
    if (!strncmp(path, be, sizeof(be) - 1)) {
        const char *type = path + sizeof(be) - 1;
        const char *slash = strchr(type, '/');
        if (slash && slash > type) {
            snprintf(pre, sizeof(pre), "/%u", domid);
            if (under(slash, pre))
                return 1;
        }
        return 0;
    }
    snprintf(pre, sizeof(pre), "/local/domain/%u/device", domid);
    if (under(path, pre))
        return 1;
    snprintf(pre, sizeof(pre), "/local/domain/%u", domid);
    return a == XSB_READ && under(path, pre);
}

/* ---- the broker process ---- */

static void reply(int fd, int32_t rc, const void *data, size_t len)
{
    static char buf[XSB_REP_MAX];
    struct xsb_rep r = { rc, 0 };
    if (rc == 0 && len > XSB_REP_MAX - sizeof(r)) {
        r.rc = -E2BIG;
        len = 0;
    }
    if (r.rc)
        len = 0;
    r.len = (uint32_t)len;
    memcpy(buf, &r, sizeof(r));
    if (len)
        memcpy(buf + sizeof(r), data, len);
    if (send(fd, buf, sizeof(r) + len, MSG_NOSIGNAL) < 0)
        _exit(0);
}

static int err_now(void)
{
    return errno ? -errno : -EIO;
}

int xsb_check_request(uint32_t domid, const void *buf, size_t n, struct xsb_parsed *out)
{
    const char *msg = buf;
    struct xsb_req q;
    memset(out, 0, sizeof(*out));
    if (n < sizeof(q) || n > XSB_MSG_MAX)
        return -EINVAL;
    memcpy(&q, msg, sizeof(q));
    const char *path = msg + sizeof(q);
    size_t rest = n - sizeof(q);
    /* the path NUL-terminated inside the message, the second string after it */
    if (q.len1 >= rest || path[q.len1] != 0 || strnlen(path, rest) != q.len1)
        return -EINVAL;
    const char *s2 = path + q.len1 + 1;
    size_t len2 = rest - q.len1 - 1;
    if (q.op == Q_GMAP) {
        /* A grant refs of domain DOMID (the broker puts it in): no path, A refs */
        if (q.len1 != 0 || q.a == 0 || q.a > XSB_GMAP_MAX || len2 != (size_t)q.a * 4)
            return -EINVAL;
        out->op = q.op;
        out->path = path;
        out->s2 = s2;
        out->len2 = len2;
        out->owner = q.a;
        return 0;
    }
    if (q.op < Q_READ || q.op > Q_UNWATCH || len2 > XSB_VAL_MAX)
        return -EINVAL;
    out->op = q.op;
    out->path = path;
    out->s2 = s2;
    out->len2 = len2;
    out->owner = q.a;
    out->reader = q.b;
    int write_op = q.op == Q_WRITE || q.op == Q_RM || q.op == Q_PERMS;
    if (!xsb_allowed(domid, write_op ? XSB_WRITE : XSB_READ, path))
        return -EACCES;
    if (q.op == Q_PERMS && (q.a != 0 || (q.b != 0 && q.b != domid)))
        return -EACCES;
    /* a token: 1-64 bytes, NUL-terminated, nothing after */
    if ((q.op == Q_WATCH || q.op == Q_UNWATCH) &&
        (len2 < 2 || len2 > 65 || memchr(s2, 0, len2) != s2 + len2 - 1))
        return -EINVAL;
    return 0;
}

static void grant_map(int fd, int gfd, uint32_t domid, const struct xsb_parsed *pr)
{
    uint32_t count = pr->owner;
    struct ioctl_gntdev_map_grant_ref *m =
        calloc(1, sizeof(*m) + count * sizeof(struct ioctl_gntdev_grant_ref));
    if (!m || gfd < 0) {
        free(m);
        reply(fd, gfd < 0 ? -ENODEV : -ENOMEM, NULL, 0);
        return;
    }
    m->count = count;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t ref;
        memcpy(&ref, pr->s2 + 4 * i, 4);
        m->refs[i].domid = domid; /* this domain's grants only, whatever hvmd asks */
        m->refs[i].ref = ref;
    }
    int r = ioctl(gfd, IOCTL_GNTDEV_MAP_GRANT_REF, m) < 0 ? err_now() : 0;
    uint64_t index = m->index;
    free(m);
    reply(fd, r, &index, sizeof(index));
}

static void serve_one(struct xs_handle *h, int fd, int gfd, uint32_t domid, const char *msg,
                      size_t n, unsigned *refusals)
{
    struct xsb_parsed pr;
    int cr = xsb_check_request(domid, msg, n, &pr);
    if (cr < 0) {
        if ((*refusals)++ < 20)
            log_warn("hvmd-xs: refused request %u on %.200s (%s)", pr.op,
                     pr.path ? pr.path : "(malformed)",
                     cr == -EACCES ? "dm_restrict: outside the domain's own nodes"
                                   : "malformed");
        reply(fd, cr, NULL, 0);
        return;
    }
    if (pr.op == Q_GMAP) {
        grant_map(fd, gfd, domid, &pr);
        return;
    }
    struct xsb_req q = { pr.op, pr.owner, pr.reader, 0 };
    const char *path = pr.path, *s2 = pr.s2;
    size_t len2 = pr.len2;
    errno = 0;
    switch (q.op) {
    case Q_READ: {
        unsigned len = 0;
        char *v = xs_read(h, XBT_NULL, path, &len);
        if (!v) {
            reply(fd, err_now(), NULL, 0);
        } else {
            reply(fd, 0, v, len);
            free(v);
        }
        return;
    }
    case Q_WRITE:
        reply(fd, xs_write(h, XBT_NULL, path, s2, (unsigned)len2) ? 0 : err_now(), NULL, 0);
        return;
    case Q_RM:
        reply(fd, xs_rm(h, XBT_NULL, path) ? 0 : err_now(), NULL, 0);
        return;
    case Q_DIR: {
        unsigned k = 0;
        char **names = xs_directory(h, XBT_NULL, path, &k);
        if (!names) {
            reply(fd, err_now(), NULL, 0);
            return;
        }
        static char buf[65536];
        size_t used = 0;
        int r = 0;
        for (unsigned i = 0; i < k && !r; i++) {
            size_t l = strlen(names[i]) + 1;
            if (used + l > sizeof(buf))
                r = -E2BIG;
            else
                memcpy(buf + used, names[i], l);
            used += l;
        }
        free(names);
        reply(fd, r, buf, r ? 0 : used);
        return;
    }
    case Q_PERMS: {
        struct xs_permissions p[2] = { { .id = q.a, .perms = XS_PERM_NONE },
                                       { .id = q.b, .perms = XS_PERM_READ } };
        reply(fd, xs_set_permissions(h, XBT_NULL, path, p, 2) ? 0 : err_now(), NULL, 0);
        return;
    }
    case Q_WATCH:
        reply(fd, xs_watch(h, path, s2) ? 0 : err_now(), NULL, 0);
        return;
    case Q_UNWATCH:
        reply(fd, xs_unwatch(h, path, s2) ? 0 : err_now(), NULL, 0);
        return;
    }
    reply(fd, -EINVAL, NULL, 0);
}

static void broker(int fd, int ev, int gfd, uint32_t domid, const struct restrict_plan *plan)
{
    static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE };
    static char msg[XSB_MSG_MAX];
    unsigned refusals = 0;

    for (unsigned i = 0; i < ARRAY_SIZE(sigs); i++)
        signal(sigs[i], SIG_IGN);
    prctl(PR_SET_NAME, "hvmd-xs", 0, 0, 0);
    struct xs_handle *h = xs_open(0);
    if (!h)
        _exit(1);
    int xfd = xs_fileno(h); /* the watch pipe, made now (before the drop) */
    if (xfd < 0)
        _exit(1);
    if (plan && plan->runas &&
        ((plan->chroot_dir && (chroot(plan->chroot_dir) < 0 || chdir("/") < 0)) ||
         restrict_drop_ids(plan->uid, plan->gid) < 0))
        _exit(1);
    for (;;) {
        struct pollfd p[2] = { { fd, POLLIN, 0 }, { xfd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        if (p[0].revents) {
            ssize_t n = recv(fd, msg, sizeof(msg), 0);
            if (n <= 0)
                _exit(0); /* hvmd is gone */
            serve_one(h, fd, gfd, domid, msg, (size_t)n, &refusals);
        }
        if (p[1].revents) {
            char **v;
            for (unsigned i = 0; i < 256 && (v = xs_check_watch(h)); i++) {
                char e[XSB_PATH_MAX + 256];
                int l = snprintf(e, sizeof(e), "%s%c%s", v[XS_WATCH_PATH], 0, v[XS_WATCH_TOKEN]);
                free(v);
                if (l > 0 && (size_t)l < sizeof(e) &&
                    send(ev, e, (size_t)l + 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
                    _exit(0);
            }
        }
    }
}

struct xsb *xsb_start(uint32_t domid, const struct restrict_plan *plan, int gnt_fd, char *err,
                      size_t errlen)
{
    int sv[2], ev[2];
    struct xsb *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "xenstore broker: socket pair: %s", strerror(errno));
        free(b);
        return NULL;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ev) < 0) {
        snprintf(err, errlen, "xenstore broker: socket pair: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        free(b);
        return NULL;
    }
    int big = 1 << 20; /* watch events: room for many before the broker waits */
    setsockopt(ev[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "xenstore broker: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        close(ev[0]);
        close(ev[1]);
        free(b);
        return NULL;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        /* nothing of hvmd's but stdio (its log), the two sockets and the grant device, as 3,
         * 4 and 5 */
        int a = fcntl(sv[1], F_DUPFD, 100), e = fcntl(ev[1], F_DUPFD, 100);
        int g = gnt_fd >= 0 ? fcntl(gnt_fd, F_DUPFD, 100) : -1;
        if (a < 0 || e < 0 || (gnt_fd >= 0 && g < 0) || dup2(a, 3) < 0 || dup2(e, 4) < 0 ||
            (g >= 0 && dup2(g, 5) < 0))
            _exit(1);
        if (close_range(g >= 0 ? 6 : 5, ~0u, 0) < 0)
            for (int fd = g >= 0 ? 6 : 5; fd < 65536; fd++)
                close(fd);
        broker(3, 4, g >= 0 ? 5 : -1, domid, plan);
        _exit(0);
    }
    close(sv[1]);
    close(ev[1]);
    b->fd = sv[0];
    b->ev_fd = ev[0];
    b->pid = pid;
    log_info("xenstore broker hvmd-xs (pid %d): domain %u's backend and device-model nodes only",
             (int)pid, domid);
    return b;
}

void xsb_close(struct xsb *b)
{
    if (!b)
        return;
    close(b->fd); /* the broker reads end of file and exits */
    close(b->ev_fd);
    free(b);
}

size_t xsb_make_request(void *buf, size_t len, uint32_t op, uint32_t a, uint32_t b,
                        const char *path, const void *s2, size_t len2)
{
    size_t l1 = strlen(path);
    struct xsb_req q = { op, a, b, (uint32_t)l1 };
    if (sizeof(q) + l1 + 1 + len2 > len)
        return 0;
    char *m = buf;
    memcpy(m, &q, sizeof(q));
    memcpy(m + sizeof(q), path, l1 + 1);
    if (len2)
        memcpy(m + sizeof(q) + l1 + 1, s2, len2);
    return sizeof(q) + l1 + 1 + len2;
}

/* one request, its reply: rc; *DATA malloc'd (NUL-terminated beyond LEN) when asked */
static int call(struct xsb *b, uint32_t op, uint32_t a, uint32_t bb, const char *path,
                const char *s2, size_t len2, char **data, size_t *len)
{
    static char buf[XSB_REP_MAX + 1];
    char msg[XSB_MSG_MAX];
    if (strlen(path) > XSB_PATH_MAX || len2 > XSB_VAL_MAX)
        return -E2BIG;
    size_t ml = xsb_make_request(msg, sizeof(msg), op, a, bb, path, s2, len2);
    if (!ml)
        return -E2BIG;
    if (send(b->fd, msg, ml, MSG_NOSIGNAL) < 0)
        return -EPIPE;
    ssize_t n;
    do
        n = recv(b->fd, buf, XSB_REP_MAX, 0);
    while (n < 0 && errno == EINTR);
    struct xsb_rep r;
    if (n < (ssize_t)sizeof(r))
        return -EPIPE;
    memcpy(&r, buf, sizeof(r));
    if (r.len != (size_t)n - sizeof(r))
        return -EPIPE;
    if (r.rc == 0 && data) {
        *data = malloc(r.len + 1);
        if (!*data)
            return -ENOMEM;
        memcpy(*data, buf + sizeof(r), r.len);
        (*data)[r.len] = 0;
        *len = r.len;
    }
    return r.rc;
}

int xsb_read(struct xsb *b, const char *path, char **val, unsigned *len)
{
    size_t l = 0;
    int r = call(b, Q_READ, 0, 0, path, NULL, 0, val, &l);
    *len = (unsigned)l;
    return r;
}

int xsb_write(struct xsb *b, const char *path, const char *val, unsigned len)
{
    return call(b, Q_WRITE, 0, 0, path, val, len, NULL, NULL);
}

int xsb_rm(struct xsb *b, const char *path)
{
    return call(b, Q_RM, 0, 0, path, NULL, 0, NULL, NULL);
}

int xsb_directory(struct xsb *b, const char *path, char ***names, unsigned *n)
{
    char *d = NULL;
    size_t len = 0;
    int r = call(b, Q_DIR, 0, 0, path, NULL, 0, &d, &len);
    if (r < 0)
        return r;
    unsigned k = 0;
    for (size_t i = 0; i < len; i++)
        k += d[i] == 0;
    /* as xs_directory: the pointers, then the strings, in one block */
    char **v = malloc(k * sizeof(char *) + len + 1);
    if (!v) {
        free(d);
        return -ENOMEM;
    }
    char *s = (char *)(v + k);
    memcpy(s, d, len);
    s[len] = 0;
    free(d);
    for (unsigned i = 0; i < k; i++) {
        v[i] = s;
        s += strlen(s) + 1;
    }
    *names = v;
    *n = k;
    return 0;
}

int xsb_set_perms(struct xsb *b, const char *path, uint32_t owner, uint32_t reader)
{
    return call(b, Q_PERMS, owner, reader, path, NULL, 0, NULL, NULL);
}

int xsb_watch(struct xsb *b, const char *path, const char *token)
{
    return call(b, Q_WATCH, 0, 0, path, token, strlen(token) + 1, NULL, NULL);
}

int xsb_unwatch(struct xsb *b, const char *path, const char *token)
{
    return call(b, Q_UNWATCH, 0, 0, path, token, strlen(token) + 1, NULL, NULL);
}

int xsb_grant_map(struct xsb *b, const uint32_t *refs, unsigned n, uint64_t *index)
{
    char *d = NULL;
    size_t len = 0;
    if (n == 0 || n > XSB_GMAP_MAX)
        return -EINVAL;
    int r = call(b, Q_GMAP, n, 0, "", (const char *)refs, (size_t)n * 4, &d, &len);
    if (r == 0) {
        if (len != sizeof(*index))
            r = -EPIPE;
        else
            memcpy(index, d, sizeof(*index));
    }
    free(d);
    return r;
}

int xsb_event_fd(const struct xsb *b)
{
    return b->ev_fd;
}

int xsb_event(struct xsb *b, const char **path, const char **token)
{
    ssize_t n = recv(b->ev_fd, b->ev, sizeof(b->ev) - 1, MSG_DONTWAIT);
    if (n <= 0)
        return 0;
    b->ev[n] = 0;
    size_t l = strnlen(b->ev, (size_t)n);
    if (l + 1 >= (size_t)n)
        return 0;
    *path = b->ev;
    *token = b->ev + l + 1;
    return 1;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Network backends (see net.h): a tap in dom0 that libxl's vif script puts on a bridge, or
 * any packet fd a test hands in. */
#include "dm/net.h"
#include "dm/config.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/vm.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RX_BATCH 64 /* frames read per wake-up at most: bounded work, fair to the guest */

struct net {
    struct vm *vm;
    struct net *next;
    char id[64];
    char ifname[IFNAMSIZ];
    int fd;
    int watching;                /* the fd is on the loop */
    int rx_blocked;              /* not reading: the NIC has no room */
    int link_up;
    const struct net_client_ops *ops;
    void *opaque;
    struct net_stats stats;
    struct ratelimit rl;
    uint8_t buf[NET_MAX_FRAME];
};

struct net *net_find(struct vm *vm, const char *id)
{
    for (struct net *n = vm->nets; n; n = n->next)
        if (!strcmp(n->id, id))
            return n;
    return NULL;
}

static void set_link(struct net *n, int up)
{
    if (n->link_up == up)
        return;
    n->link_up = up;
    log_info("net %s%s%s: link %s", n->id, n->ifname[0] ? " " : "", n->ifname, up ? "up" : "down");
    if (n->ops && n->ops->link)
        n->ops->link(n->opaque, up);
}

/* Read frames while the NIC takes them, at most RX_BATCH. */
static void pump(struct net *n)
{
    for (unsigned i = 0; i < RX_BATCH; i++) {
        if (!n->ops || !n->ops->can_receive(n->opaque)) {
            n->rx_blocked = 1;
            if (loop_mod_fd(n->vm->loop, n->fd, 0) < 0)
                log_guest(&n->rl, n->id, "cannot stop watching its fd");
            return;
        }
        ssize_t len = read(n->fd, n->buf, sizeof(n->buf));
        n->stats.reads++;
        if (len < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (len <= 0) {
            /* EBADFD / EIO: the tap was deleted in dom0; 0: a socket's peer went. Stop
             * watching (the fd would stay readable); the link is down. */
            log_guest(&n->rl, n->id, "reading: %s; link down",
                      len < 0 ? strerror(errno) : "the other end is gone");
            loop_del_fd(n->vm->loop, n->fd);
            n->watching = 0;
            set_link(n, 0);
            return;
        }
        struct iovec iov = { n->buf, (size_t)len };
        n->stats.rx_frames++;
        n->stats.rx_bytes += (uint64_t)len;
        n->ops->receive(n->opaque, &iov, 1, (size_t)len);
    }
}

static void on_readable(void *opaque, uint32_t events)
{
    struct net *n = opaque;
    (void)events;
    pump(n);
}

struct net *net_new_fd(struct vm *vm, const char *id, int fd)
{
    struct net *n = calloc(1, sizeof(*n));
    if (!n || strlen(id) >= sizeof(n->id)) {
        free(n);
        close(fd);
        return NULL;
    }
    n->vm = vm;
    n->fd = fd;
    n->link_up = 1;
    snprintf(n->id, sizeof(n->id), "%s", id);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        loop_add_fd(vm->loop, fd, 0, on_readable, n) < 0) {
        close(fd);
        free(n);
        return NULL;
    }
    n->watching = 1;
    n->rx_blocked = 1; /* nothing is read until a NIC attaches */
    n->next = vm->nets;
    vm->nets = n;
    return n;
}

int net_attach(struct net *n, const struct net_client_ops *ops, void *opaque)
{
    if (n->ops)
        return -EBUSY;
    n->ops = ops;
    n->opaque = opaque;
    net_rx_ready(n);
    return 0;
}

void net_detach(struct net *n)
{
    n->ops = NULL;
    n->opaque = NULL;
    if (n->watching && loop_mod_fd(n->vm->loop, n->fd, 0) < 0)
        log_guest(&n->rl, n->id, "cannot stop watching its fd");
    n->rx_blocked = 1;
}

void net_rx_ready(struct net *n)
{
    if (!n->watching || !n->rx_blocked || !n->ops)
        return;
    n->rx_blocked = 0;
    if (loop_mod_fd(n->vm->loop, n->fd, EPOLLIN) < 0)
        log_guest(&n->rl, n->id, "cannot watch its fd");
}

void net_poll(struct net *n)
{
    if (n->watching && !n->rx_blocked && n->ops)
        pump(n);
}

int net_send(struct net *n, const struct iovec *iov, int niov)
{
    size_t len = 0;
    for (int i = 0; i < niov; i++)
        len += iov[i].iov_len;
    if (!n->link_up || n->fd < 0 || len == 0 || len > NET_MAX_FRAME) {
        n->stats.tx_dropped++;
        return len > NET_MAX_FRAME ? -EMSGSIZE : -ENETDOWN;
    }
    ssize_t w;
    do
        w = writev(n->fd, iov, niov);
    while (w < 0 && errno == EINTR);
    n->stats.writes++;
    if (w < 0) {
        int e = errno;
        n->stats.tx_dropped++;
        if (e != EAGAIN && e != ENOBUFS)
            log_guest(&n->rl, n->id, "sending a frame of %zu bytes: %s", len, strerror(e));
        return -e;
    }
    n->stats.tx_frames++;
    n->stats.tx_bytes += len;
    return 0;
}

int net_link_up(const struct net *n) { return n->link_up; }
const char *net_ifname(const struct net *n) { return n->ifname; }
const struct net_stats *net_stats(const struct net *n) { return &n->stats; }

static void net_free(struct net *n)
{
    if (n->fd >= 0) {
        if (n->watching)
            loop_del_fd(n->vm->loop, n->fd);
        close(n->fd);
    }
    free(n);
}

void net_free_all(struct vm *vm)
{
    while (vm->nets) {
        struct net *n = vm->nets;
        vm->nets = n->next;
        if (n->stats.rx_frames || n->stats.tx_frames)
            log_info("net %s: %llu frames in (%llu dropped), %llu out (%llu dropped)", n->id,
                     (unsigned long long)n->stats.rx_frames, (unsigned long long)n->stats.rx_dropped,
                     (unsigned long long)n->stats.tx_frames, (unsigned long long)n->stats.tx_dropped);
        net_free(n);
    }
}

/* Open the tap IFNAME (created if it does not exist; libxl's hotplug script then bridges it). */
static int open_tap(const char *ifname, char *err, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "-netdev tap ifname=%s: cannot open /dev/net/tun: %s", ifname,
                 strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        snprintf(err, errlen, "-netdev tap ifname=%s: cannot create the tap: %s", ifname,
                 strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return r;
}

/* One -netdev: check its keys, open its tap. */
static int create_one(struct vm *vm, struct cfg_opt *o, char *err, size_t errlen)
{
    static const char *const known[] = { "type", "id", "ifname", "script", "downscript", "br" };
    const char *type = cfg_get(o, "type");
    const char *id = cfg_get(o, "id");
    const char *ifname = cfg_get(o, "ifname");
    if (!type && o->first[0])
        type = o->first;
    for (unsigned i = 0; i < o->n_kv; i++) {
        unsigned k = 0;
        while (k < ARRAY_SIZE(known) && strcmp(o->kv[i].key, known[k]))
            k++;
        if (k == ARRAY_SIZE(known) && strcmp(o->kv[i].key, o->first))
            return fail(err, errlen, -EINVAL, "-netdev %s: option %s is not supported by hvmd",
                        o->raw, o->kv[i].key);
    }
    if (!type || strcmp(type, "tap"))
        return fail(err, errlen, -EINVAL, "-netdev %s: type %s is not supported by hvmd (tap only)",
                    o->raw, type ? type : "(none)");
    if (!id || !id[0])
        return fail(err, errlen, -EINVAL, "-netdev %s: no id=", o->raw);
    if (net_find(vm, id))
        return fail(err, errlen, -EINVAL, "-netdev %s: a second backend with id=%s", o->raw, id);
    if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ)
        return fail(err, errlen, -EINVAL, "-netdev %s: ifname= must name the tap (1 to 15 "
                    "characters)", o->raw);
    const char *s = cfg_get(o, "script"), *ds = cfg_get(o, "downscript");
    if ((s && strcmp(s, "no")) || (ds && strcmp(ds, "no")))
        return fail(err, errlen, -EINVAL, "-netdev %s: hvmd runs no scripts (script=no, "
                    "downscript=no; libxl's hotplug script bridges the tap)", o->raw);
    int fd = open_tap(ifname, err, errlen);
    if (fd < 0)
        return fd;
    struct net *n = net_new_fd(vm, id, fd);
    if (!n)
        return fail(err, errlen, -ENOMEM, "-netdev %s: out of memory", o->raw);
    snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
    o->claimed = 1;
    log_info("net %s: tap %s", id, ifname);
    return 0;
}

int net_create_all(struct vm *vm, char *err, size_t errlen)
{
    if (!vm->cfg)
        return 0;
    struct cfg_opt *o;
    for (unsigned i = 0; (o = cfg_nth(vm->cfg, "-netdev", i)); i++) {
        int r = create_one(vm, o, err, errlen);
        if (r < 0) {
            net_free_all(vm);
            return r;
        }
    }
    return 0;
}

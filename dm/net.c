/* SPDX-License-Identifier: GPL-2.0-only */
/* Network backends (see net.h): a tap in dom0 that libxl's vif script puts on a bridge, or
 * any packet fd a test hands in. */
#include "dm/net.h"
#include "dm/net_offload.h"
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

#define RX_BATCH 64 /* reads per wake-up at most: bounded work, fair to the guest */
#define TX_MAX_IOV 8

struct net {
    struct vm *vm;
    struct net *next;
    char id[64];
    char ifname[IFNAMSIZ];
    int fd;
    int watching;                /* the fd is on the loop */
    int rx_blocked;              /* not reading: the NIC has no room */
    int link_up;
    int vnet;                    /* the fd carries a virtio-net header each way (a tap with offloads) */
    int pumping;
    struct net_offload off;      /* what is left of the last frame read (a GSO segment) */
    const struct net_client_ops *ops;
    void *opaque;
    struct net_stats stats;
    struct ratelimit rl;
    uint8_t buf[NET_VNET_HDR_LEN + NET_MAX_FRAME + 32]; /* header, frame (a VLAN tag beyond 64 KiB) */
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

static void block(struct net *n)
{
    n->rx_blocked = 1;
    if (loop_mod_fd(n->vm->loop, n->fd, 0) < 0)
        log_guest(&n->rl, n->id, "cannot stop watching its fd");
}

/* Give the NIC the frames left of the last one read while it takes them: 1 when all went, 0
 * when it is full. */
static int give(struct net *n)
{
    struct iovec iov[2];
    int cnt;
    while (n->off.active) {
        if (!n->ops || !n->ops->can_receive(n->opaque))
            return 0;
        size_t len = net_offload_next(&n->off, iov, &cnt);
        if (!len)
            break;
        n->stats.rx_frames++;
        n->stats.rx_bytes += (uint64_t)len;
        n->stats.rx_gso_frames += !n->off.whole;
        n->ops->receive(n->opaque, iov, cnt, len);
    }
    return 1;
}

/* A frame as read: with a virtio-net header, checked and taken apart for give(); else given. */
static void take(struct net *n, size_t len)
{
    if (!n->vnet) {
        struct iovec iov = { n->buf, len };
        n->stats.rx_frames++;
        n->stats.rx_bytes += (uint64_t)len;
        n->ops->receive(n->opaque, &iov, 1, len);
        return;
    }
    const char *why = "shorter than its virtio-net header";
    if (len < NET_VNET_HDR_LEN ||
        net_offload_start(&n->off, n->buf, n->buf + NET_VNET_HDR_LEN, len - NET_VNET_HDR_LEN, &why) < 0) {
        n->stats.rx_refused++;
        log_guest(&n->rl, n->id, "a frame of %zu bytes from dom0 refused: %s", len, why);
        return;
    }
    if (!n->off.whole)
        n->stats.rx_gso++;
}

/* Read frames while the NIC takes them, at most RX_BATCH reads. */
static void pump(struct net *n)
{
    if (n->pumping)
        return;
    n->pumping = 1;
    for (unsigned i = 0;; i++) {
        if (!give(n)) {
            block(n);
            break;
        }
        if (i == RX_BATCH)
            break;
        if (!n->ops || !n->ops->can_receive(n->opaque)) {
            block(n);
            break;
        }
        ssize_t len = read(n->fd, n->buf, sizeof(n->buf));
        n->stats.reads++;
        if (len < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (len <= 0) {
            /* EBADFD / EIO: the tap was deleted in dom0; 0: a socket's peer went. Stop
             * watching (the fd would stay readable); the link is down. */
            log_guest(&n->rl, n->id, "reading: %s; link down",
                      len < 0 ? strerror(errno) : "the other end is gone");
            loop_del_fd(n->vm->loop, n->fd);
            n->watching = 0;
            n->off.active = 0;
            set_link(n, 0);
            break;
        }
        take(n, (size_t)len);
    }
    n->pumping = 0;
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
    n->off.active = 0;
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
    /* frames of a segment already read go first; the fd is watched again once they went */
    if (n->off.active) {
        if (n->pumping)
            return;
        n->pumping = 1; /* a NIC that polls from its receive path does not re-enter give() */
        int all = give(n);
        n->pumping = 0;
        if (!all)
            return;
    }
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
    static const uint8_t no_offload[NET_VNET_HDR_LEN]; /* a whole frame, its checksums done */
    struct iovec v[1 + TX_MAX_IOV];
    if (n->vnet) {
        if (niov > TX_MAX_IOV) {
            n->stats.tx_dropped++;
            return -EMSGSIZE;
        }
        v[0].iov_base = (void *)no_offload;
        v[0].iov_len = sizeof(no_offload);
        memcpy(v + 1, iov, (size_t)niov * sizeof(*iov));
        iov = v;
        niov++;
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

void net_use_vnet_hdr(struct net *n) { n->vnet = 1; }
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
            log_info("net %s: %llu frames in (%llu reads, %llu GSO segments cut into %llu frames, "
                     "%llu refused), %llu out (%llu dropped)", n->id,
                     (unsigned long long)n->stats.rx_frames, (unsigned long long)n->stats.reads,
                     (unsigned long long)n->stats.rx_gso, (unsigned long long)n->stats.rx_gso_frames,
                     (unsigned long long)n->stats.rx_refused, (unsigned long long)n->stats.tx_frames,
                     (unsigned long long)n->stats.tx_dropped);
        net_free(n);
    }
}

/* Open the tap IFNAME (created if it does not exist; libxl's hotplug script then bridges it),
 * with a virtio-net header and TCP offloads unless HVMD_TAP_OFFLOAD=0 (*VNET set when it has
 * the header). */
static int open_tap(const char *ifname, int *vnet, char *err, size_t errlen)
{
    const char *knob = getenv("HVMD_TAP_OFFLOAD");
    *vnet = !(knob && !strcmp(knob, "0"));
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "-netdev tap ifname=%s: cannot open /dev/net/tun: %s", ifname,
                 strerror(e));
        return -e;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (*vnet ? IFF_VNET_HDR : 0));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        snprintf(err, errlen, "-netdev tap ifname=%s: cannot create the tap: %s", ifname,
                 strerror(e));
        close(fd);
        return -e;
    }
    if (*vnet) {
        int sz = NET_VNET_HDR_LEN;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
            int e = errno;
            snprintf(err, errlen, "-netdev tap ifname=%s: cannot size its virtio-net header: %s",
                     ifname, strerror(e));
            close(fd);
            return -e;
        }
        /* without offloads (an old kernel) the header stays, always empty */
        if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN) < 0)
            log_warn("tap %s: no TCP offloads (%s): dom0 segments every frame", ifname,
                     strerror(errno));
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
    int vnet;
    int fd = open_tap(ifname, &vnet, err, errlen);
    if (fd < 0)
        return fd;
    struct net *n = net_new_fd(vm, id, fd);
    if (!n)
        return fail(err, errlen, -ENOMEM, "-netdev %s: out of memory", o->raw);
    snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
    n->vnet = vnet;
    o->claimed = 1;
    log_info("net %s: tap %s%s", id, ifname, vnet ? " (TCP segmentation and checksums offloaded)" : "");
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

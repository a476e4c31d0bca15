/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: rtnetlink through libmnl.
 *
 * One request at a time on the ctx's socket: build the message, send it, read replies until the
 * kernel's ACK (or NLMSG_DONE for a dump). Kernel errors come back as negative errno. Only what the
 * topologies need: links (incl. bridge creation with its IFLA_BR_* attributes and port state),
 * IPv4/IPv6 addresses and routes of the main table, and the bridge FDB for `show`.
 */
#include "toolstack/net/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NL_BUF (64 * 1024)   /* receive: dumps come in pages of up to 32 KiB */
#define NL_MSG 8192          /* one request */
#define USER_HZ 100   /* the unit of the bridge's clock_t attributes */

static int nl_talk(struct net_ctx *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
    char *buf;
    int ret;
    unsigned int seq;

    if (!c->nl)
        return -ENOTCONN;
    buf = malloc(NL_BUF);
    if (!buf)
        return -ENOMEM;
    seq = ++c->seq;
    nlh->nlmsg_seq = seq;
    /* NLM_F_DUMP shares its bits with NLM_F_REPLACE|NLM_F_EXCL: only an RTM_GET* is a dump */
    if (!((nlh->nlmsg_type & 3) == 2 && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP))
        nlh->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
        ret = -errno;
        goto out;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(c->nl, buf, NL_BUF);
        if (n < 0) {
            ret = -errno;
            break;
        }
        ret = mnl_cb_run(buf, (size_t)n, seq, c->portid, cb, data);
        if (ret < 0) {
            ret = -errno;
            break;
        }
        if (ret == MNL_CB_STOP) {
            ret = 0;
            break;
        }
    }
out:
    free(buf);
    return ret;
}

/* Starts a request of TYPE in BUF: NLM_F_REQUEST | FLAGS, then a zeroed family header of HDR
 * bytes (mnl_nlmsg_get_payload() returns it). */
static struct nlmsghdr *nl_request(char *buf, int type, int flags, size_t hdr)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

    nlh->nlmsg_type = (uint16_t)type;
    nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
    mnl_nlmsg_put_extra_header(nlh, hdr);
    return nlh;
}

/* the flags of a request that creates (RTM_NEW*) or deletes, by TYPE */
static int change_flags(int type, int new_type)
{
    return type == new_type ? NLM_F_CREATE | NLM_F_EXCL : 0;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
    return MNL_CB_OK;
}

/* A dump: each reply of TYPE goes to ENTRY, which parses it and calls the caller's callback
 * (its return, or 0 to pass the message over); after the first nonzero return the rest of the
 * dump is read and dropped, and that return is the dump's. The per-kind struct embeds this one
 * first and carries the caller's typed callback. */
struct dump {
    int type;
    int (*entry)(const struct nlmsghdr *nlh, struct dump *d);
    int rc;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
    struct dump *d = data;

    if (nlh->nlmsg_type == d->type && !d->rc)
        d->rc = d->entry(nlh, d);
    return MNL_CB_OK;
}

static int nl_dump(struct net_ctx *c, struct nlmsghdr *nlh, struct dump *d)
{
    int rc = nl_talk(c, nlh, dump_cb, d);

    return rc ? rc : d->rc;
}

/* ---- links ---- */

/* a link request of TYPE for IFINDEX (0: none) */
static struct nlmsghdr *link_request(char *buf, int type, int flags, int ifindex)
{
    struct nlmsghdr *nlh = nl_request(buf, type, flags, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    return nlh;
}

struct link_parse {
    struct nl_link *l;
};

static int brport_attr(const struct nlattr *a, void *data)
{
    struct nl_link *l = data;

    if (mnl_attr_get_type(a) == IFLA_BRPORT_STATE && mnl_attr_get_payload_len(a) >= 1)
        l->brport_state = *(const uint8_t *)mnl_attr_get_payload(a);
    return MNL_CB_OK;
}

static int br_attr(const struct nlattr *a, void *data)
{
    struct nl_link *l = data;

    if (mnl_attr_get_payload_len(a) < 4)
        return MNL_CB_OK;
    switch (mnl_attr_get_type(a)) {
    case IFLA_BR_STP_STATE: l->br_stp = mnl_attr_get_u32(a); l->has_br = true; break;
    case IFLA_BR_FORWARD_DELAY: l->br_fwd_delay = mnl_attr_get_u32(a) / USER_HZ; break;
    case IFLA_BR_AGEING_TIME: l->br_ageing = mnl_attr_get_u32(a) / USER_HZ; break;
    }
    return MNL_CB_OK;
}

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
    size_t n = mnl_attr_get_payload_len(a);
    const char *s = mnl_attr_get_payload(a);

    if (n >= len)
        n = len - 1;
    memcpy(dst, s, n);
    dst[n] = 0;
    dst[strnlen(dst, n)] = 0;
}

static int linkinfo_attr(const struct nlattr *a, void *data)
{
    struct nl_link *l = data;

    switch (mnl_attr_get_type(a)) {
    case IFLA_INFO_KIND: copy_str(l->kind, sizeof(l->kind), a); break;
    case IFLA_INFO_SLAVE_KIND: copy_str(l->slave_kind, sizeof(l->slave_kind), a); break;
    case IFLA_INFO_DATA:
        if (!strcmp(l->kind, "bridge"))
            mnl_attr_parse_nested(a, br_attr, l);
        break;
    case IFLA_INFO_SLAVE_DATA:
        if (!strcmp(l->slave_kind, "bridge"))
            mnl_attr_parse_nested(a, brport_attr, l);
        break;
    }
    return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
    struct nl_link *l = data;
    size_t n = mnl_attr_get_payload_len(a);

    switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME: copy_str(l->name, sizeof(l->name), a); break;
    case IFLA_MTU: if (n >= 4) l->mtu = mnl_attr_get_u32(a); break;
    case IFLA_MASTER: if (n >= 4) l->master = (int)mnl_attr_get_u32(a); break;
    case IFLA_OPERSTATE: if (n >= 1) l->operstate = mnl_attr_get_u8(a); break;
    case IFLA_IFALIAS: copy_str(l->alias, sizeof(l->alias), a); break;
    case IFLA_ADDRESS:
        if (n == 6) {
            memcpy(l->mac, mnl_attr_get_payload(a), 6);
            l->has_mac = true;
        }
        break;
    case IFLA_LINKINFO:
        /* kind first, then data: the nested attributes come in that order from the kernel */
        mnl_attr_parse_nested(a, linkinfo_attr, l);
        break;
    }
    return MNL_CB_OK;
}

static void link_from_msg(const struct nlmsghdr *nlh, struct nl_link *l)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    memset(l, 0, sizeof(*l));
    l->brport_state = -1;
    l->ifindex = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    mnl_attr_parse(nlh, sizeof(*ifi), link_attr, l);
}

static int link_one_cb(const struct nlmsghdr *nlh, void *data)
{
    if (nlh->nlmsg_type == RTM_NEWLINK)
        link_from_msg(nlh, data);
    return MNL_CB_OK;
}

int nl_link_get(struct net_ctx *c, const char *name, int ifindex, struct nl_link *out)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0, ifindex);
    int rc;

    if (name) {
        if (!net_valid_ifname(name))
            return -ENODEV;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    }
    memset(out, 0, sizeof(*out));
    rc = nl_talk(c, nlh, link_one_cb, out);
    if (rc == -ENODEV || (rc == 0 && out->ifindex == 0))
        return -ENODEV;
    return rc;
}

struct link_dump {
    struct dump d;
    nl_link_cb cb;
    void *data;
};

static int link_entry(const struct nlmsghdr *nlh, struct dump *dump)
{
    struct link_dump *d = (struct link_dump *)dump;
    struct nl_link l;

    link_from_msg(nlh, &l);
    return d->cb(&l, d->data);
}

int nl_link_dump(struct net_ctx *c, nl_link_cb cb, void *data)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, NLM_F_DUMP, 0);
    struct link_dump d = { { RTM_NEWLINK, link_entry, 0 }, cb, data };

    return nl_dump(c, nlh, &d.d);
}

int nl_link_set(struct net_ctx *c, int ifindex, const struct nl_link_change *ch)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, 0, ifindex);
    struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

    if (ch->up >= 0) {
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = ch->up ? IFF_UP : 0;
    }
    if (ch->master >= 0)
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)ch->master);
    if (ch->mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, ch->mtu);
    if (ch->mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, ch->mac);
    if (ch->name)
        mnl_attr_put_strz(nlh, IFLA_IFNAME, ch->name);
    if (ch->alias)
        mnl_attr_put(nlh, IFLA_IFALIAS, strlen(ch->alias), ch->alias);
    return nl_talk(c, nlh, noop_cb, NULL);
}

int nl_link_del(struct net_ctx *c, int ifindex)
{
    char buf[NL_MSG];

    return nl_talk(c, link_request(buf, RTM_DELLINK, 0, ifindex), noop_cb, NULL);
}

int nl_bridge_add(struct net_ctx *c, const char *name, bool stp, unsigned int fwd_delay,
                  unsigned int ageing, unsigned int mtu, const uint8_t *mac)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
    struct nlattr *li, *data;

    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    if (mac)
        mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
    li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    /* the kernel applies the forward delay before the STP state, so a short delay set while STP
     * is still off never trips the 2..30 s range STP enforces */
    mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, fwd_delay * USER_HZ);
    mnl_attr_put_u32(nlh, IFLA_BR_AGEING_TIME, ageing * USER_HZ);
    mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, stp ? 1 : 0);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, li);
    return nl_talk(c, nlh, noop_cb, NULL);
}

/* ---- addresses ---- */

static int addr_attr(const struct nlattr *a, void *data)
{
    struct nl_addr *ad = data;
    size_t n = mnl_attr_get_payload_len(a), alen = ad->family == AF_INET ? 4 : 16;

    switch (mnl_attr_get_type(a)) {
    case IFA_LOCAL:
        if (n == alen) { memcpy(ad->local, mnl_attr_get_payload(a), alen); ad->has_local = true; }
        break;
    case IFA_ADDRESS:
        if (n == alen) { memcpy(ad->address, mnl_attr_get_payload(a), alen); ad->has_address = true; }
        break;
    case IFA_BROADCAST:
        if (n == alen) { memcpy(ad->brd, mnl_attr_get_payload(a), alen); ad->has_brd = true; }
        break;
    case IFA_LABEL: copy_str(ad->label, sizeof(ad->label), a); break;
    case IFA_FLAGS: if (n >= 4) ad->flags = mnl_attr_get_u32(a); break;
    case IFA_CACHEINFO:
        if (n >= sizeof(struct ifa_cacheinfo)) {
            const struct ifa_cacheinfo *ci = mnl_attr_get_payload(a);
            ad->valid = ci->ifa_valid;
            ad->pref = ci->ifa_prefered;
        }
        break;
    }
    return MNL_CB_OK;
}

struct addr_dump {
    struct dump d;
    int family, ifindex;
    nl_addr_cb cb;
    void *data;
};

static int addr_entry(const struct nlmsghdr *nlh, struct dump *dump)
{
    struct addr_dump *d = (struct addr_dump *)dump;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    struct nl_addr a;

    if ((d->family && ifa->ifa_family != d->family) ||
        (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
        (d->ifindex && (int)ifa->ifa_index != d->ifindex))
        return 0;
    memset(&a, 0, sizeof(a));
    a.family = ifa->ifa_family;
    a.ifindex = (int)ifa->ifa_index;
    a.plen = ifa->ifa_prefixlen;
    a.scope = ifa->ifa_scope;
    a.flags = ifa->ifa_flags;
    a.valid = a.pref = 0xffffffffu;
    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, &a);
    if (!a.has_local && a.has_address) {   /* IPv6 sends only IFA_ADDRESS */
        memcpy(a.local, a.address, 16);
        a.has_local = true;
    }
    return d->cb(&a, d->data);
}

int nl_addr_dump(struct net_ctx *c, int family, int ifindex, nl_addr_cb cb, void *data)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = nl_request(buf, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    struct addr_dump d = { { RTM_NEWADDR, addr_entry, 0 }, family, ifindex, cb, data };

    ifa->ifa_family = (uint8_t)family;
    return nl_dump(c, nlh, &d.d);
}

static int addr_change(struct net_ctx *c, int type, int ifindex, const struct nl_addr *a)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = nl_request(buf, type, change_flags(type, RTM_NEWADDR),
                                      sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    size_t alen = a->family == AF_INET ? 4 : 16;

    ifa->ifa_family = (uint8_t)a->family;
    ifa->ifa_prefixlen = a->plen;
    ifa->ifa_scope = a->scope;
    ifa->ifa_index = (uint32_t)ifindex;
    if (a->has_local)
        mnl_attr_put(nlh, IFA_LOCAL, alen, a->local);
    if (a->has_address)
        mnl_attr_put(nlh, IFA_ADDRESS, alen, a->address);
    else if (a->has_local)
        mnl_attr_put(nlh, IFA_ADDRESS, alen, a->local);
    if (type == RTM_NEWADDR) {
        /* kernel-managed bits (secondary, tentative, permanent ...) are not ours to set */
        uint32_t keep = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE |
                        IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;
        ifa->ifa_flags = (uint8_t)(a->flags & keep & 0xff);
        mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags & keep);
        if (a->has_brd)
            mnl_attr_put(nlh, IFA_BROADCAST, alen, a->brd);
        if (a->valid != 0xffffffffu || a->pref != 0xffffffffu) {
            struct ifa_cacheinfo ci = { .ifa_prefered = a->pref, .ifa_valid = a->valid };
            mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
        }
    }
    return nl_talk(c, nlh, noop_cb, NULL);
}

int nl_addr_add(struct net_ctx *c, int ifindex, const struct nl_addr *a)
{
    return addr_change(c, RTM_NEWADDR, ifindex, a);
}

int nl_addr_del(struct net_ctx *c, int ifindex, const struct nl_addr *a)
{
    return addr_change(c, RTM_DELADDR, ifindex, a);
}

/* ---- routes ---- */

static int route_attr(const struct nlattr *a, void *data)
{
    struct nl_route *r = data;
    size_t n = mnl_attr_get_payload_len(a), alen = r->family == AF_INET ? 4 : 16;

    switch (mnl_attr_get_type(a)) {
    case RTA_DST: if (n == alen) memcpy(r->dst, mnl_attr_get_payload(a), alen); break;
    case RTA_GATEWAY:
        if (n == alen) { memcpy(r->gw, mnl_attr_get_payload(a), alen); r->has_gw = true; }
        break;
    case RTA_PREFSRC:
        if (n == alen) { memcpy(r->prefsrc, mnl_attr_get_payload(a), alen); r->has_prefsrc = true; }
        break;
    case RTA_PRIORITY:
        if (n >= 4) { r->priority = mnl_attr_get_u32(a); r->has_priority = true; }
        break;
    case RTA_OIF: if (n >= 4) r->oif = (int)mnl_attr_get_u32(a); break;
    case RTA_TABLE: if (n >= 4) r->table = mnl_attr_get_u32(a); break;
    case RTA_MULTIPATH: r->multipath = true; break;
    }
    return MNL_CB_OK;
}

struct route_dump {
    struct dump d;
    nl_route_cb cb;
    void *data;
};

static int route_entry(const struct nlmsghdr *nlh, struct dump *dump)
{
    struct route_dump *d = (struct route_dump *)dump;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    struct nl_route r;

    if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
        return 0;
    memset(&r, 0, sizeof(r));
    r.family = rtm->rtm_family;
    r.dst_len = rtm->rtm_dst_len;
    r.protocol = rtm->rtm_protocol;
    r.scope = rtm->rtm_scope;
    r.type = rtm->rtm_type;
    r.table = rtm->rtm_table;
    mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &r);
    return d->cb(&r, d->data);
}

int nl_route_dump(struct net_ctx *c, int family, nl_route_cb cb, void *data)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = nl_request(buf, RTM_GETROUTE, NLM_F_DUMP, sizeof(struct rtmsg));
    struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    struct route_dump d = { { RTM_NEWROUTE, route_entry, 0 }, cb, data };

    rtm->rtm_family = (uint8_t)family;
    return nl_dump(c, nlh, &d.d);
}

static int route_change(struct net_ctx *c, int type, const struct nl_route *r)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = nl_request(buf, type, change_flags(type, RTM_NEWROUTE),
                                      sizeof(struct rtmsg));
    struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    size_t alen = r->family == AF_INET ? 4 : 16;

    rtm->rtm_family = (uint8_t)r->family;
    rtm->rtm_dst_len = r->dst_len;
    rtm->rtm_protocol = r->protocol;
    rtm->rtm_scope = r->scope;
    rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
    rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
    mnl_attr_put_u32(nlh, RTA_TABLE, r->table ? r->table : RT_TABLE_MAIN);
    if (r->dst_len)
        mnl_attr_put(nlh, RTA_DST, alen, r->dst);
    if (r->has_gw)
        mnl_attr_put(nlh, RTA_GATEWAY, alen, r->gw);
    if (r->has_prefsrc)
        mnl_attr_put(nlh, RTA_PREFSRC, alen, r->prefsrc);
    if (r->has_priority)
        mnl_attr_put_u32(nlh, RTA_PRIORITY, r->priority);
    if (r->oif)
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
    return nl_talk(c, nlh, noop_cb, NULL);
}

int nl_route_add(struct net_ctx *c, const struct nl_route *r)
{
    return route_change(c, RTM_NEWROUTE, r);
}

int nl_route_del(struct net_ctx *c, const struct nl_route *r)
{
    return route_change(c, RTM_DELROUTE, r);
}

/* ---- bridge FDB ---- */

static int fdb_attr(const struct nlattr *a, void *data)
{
    struct nl_fdb *f = data;
    size_t n = mnl_attr_get_payload_len(a);

    switch (mnl_attr_get_type(a)) {
    case NDA_LLADDR: if (n == 6) memcpy(f->mac, mnl_attr_get_payload(a), 6); break;
    case NDA_MASTER: if (n >= 4) f->master = (int)mnl_attr_get_u32(a); break;
    case NDA_CACHEINFO:
        if (n >= sizeof(struct nda_cacheinfo)) {
            const struct nda_cacheinfo *ci = mnl_attr_get_payload(a);
            f->updated_s = ci->ndm_updated / USER_HZ;
            f->has_updated = true;
        }
        break;
    }
    return MNL_CB_OK;
}

struct fdb_dump {
    struct dump d;
    nl_fdb_cb cb;
    void *data;
};

static int fdb_entry(const struct nlmsghdr *nlh, struct dump *dump)
{
    struct fdb_dump *d = (struct fdb_dump *)dump;
    const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    struct nl_fdb f;

    if (ndm->ndm_family != AF_BRIDGE)
        return 0;
    memset(&f, 0, sizeof(f));
    f.ifindex = ndm->ndm_ifindex;
    f.state = ndm->ndm_state;
    f.flags = ndm->ndm_flags;
    mnl_attr_parse(nlh, sizeof(*ndm), fdb_attr, &f);
    return d->cb(&f, d->data);
}

int nl_fdb_dump(struct net_ctx *c, nl_fdb_cb cb, void *data)
{
    char buf[NL_MSG];
    struct nlmsghdr *nlh = nl_request(buf, RTM_GETNEIGH, NLM_F_DUMP, sizeof(struct ndmsg));
    struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
    struct fdb_dump d = { { RTM_NEWNEIGH, fdb_entry, 0 }, cb, data };

    ndm->ndm_family = AF_BRIDGE;
    return nl_dump(c, nlh, &d.d);
}

/* ---- sysctl ---- */

int net_sysctl_get(const char *path, char *buf, size_t len)
{
    char p[256];
    int fd;
    ssize_t n;

    snprintf(p, sizeof(p), "/proc/sys/%s", path);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = 0;
    return 0;
}

int net_sysctl_set(const char *path, const char *val)
{
    char p[256];
    int fd, rc = 0;
    size_t len = strlen(val);

    snprintf(p, sizeof(p), "/proc/sys/%s", path);
    fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (write(fd, val, len) != (ssize_t)len)
        rc = -errno ? -errno : -EIO;
    close(fd);
    return rc;
}

/* ---- text forms: "family=inet local=10.0.0.2 plen=24 brd=10.0.0.255 ..." ---- */

static const char *fam(int f)
{
    return f == AF_INET6 ? "inet6" : "inet";
}

int nl_addr_format(const struct nl_addr *a, char *buf, size_t len)
{
    char l[INET6_ADDRSTRLEN], p[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int n;

    inet_ntop(a->family, a->local, l, sizeof(l));
    inet_ntop(a->family, a->has_address ? a->address : a->local, p, sizeof(p));
    inet_ntop(a->family, a->brd, b, sizeof(b));
    n = snprintf(buf, len, "family=%s local=%s peer=%s plen=%u scope=%u flags=%u valid=%u pref=%u",
                 fam(a->family), l, p, a->plen, a->scope, a->flags, a->valid, a->pref);
    if (a->has_brd && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " brd=%s", b);
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

int nl_route_format(const struct nl_route *r, char *buf, size_t len)
{
    char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN];
    int n;

    inet_ntop(r->family, r->dst, d, sizeof(d));
    inet_ntop(r->family, r->gw, g, sizeof(g));
    inet_ntop(r->family, r->prefsrc, s, sizeof(s));
    n = snprintf(buf, len, "family=%s dst=%s plen=%u proto=%u scope=%u type=%u table=%u",
                 fam(r->family), d, r->dst_len, r->protocol, r->scope, r->type, r->table);
    if (r->has_gw && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " gw=%s", g);
    if (r->has_prefsrc && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " src=%s", s);
    if (r->has_priority && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " metric=%u", r->priority);
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

/* walk "k=v k=v": calls fn(k, v) for each; returns the first error */
static int kv_walk(const char *s, int (*fn)(const char *k, const char *v, void *d), void *d)
{
    char tmp[512], *save = NULL, *tok;
    int rc;

    if (strlen(s) >= sizeof(tmp))
        return -EINVAL;
    strcpy(tmp, s);
    for (tok = strtok_r(tmp, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return -EINVAL;
        *eq = 0;
        if ((rc = fn(tok, eq + 1, d)) < 0)
            return rc;
    }
    return 0;
}

static int u32_of(const char *v, uint32_t *out)
{
    char *end;
    unsigned long x;

    errno = 0;
    x = strtoul(v, &end, 10);
    if (errno || *end || !*v || x > 0xffffffffUL)
        return -EINVAL;
    *out = (uint32_t)x;
    return 0;
}

/* "family=inet|inet6" into *FAMILY: 1 if K is that key, else 0 (-EINVAL: a bad family, or no
 * family before K, since the addresses that follow need it) */
static int family_kv(const char *k, const char *v, int *family)
{
    if (!strcmp(k, "family")) {
        *family = !strcmp(v, "inet6") ? AF_INET6 : !strcmp(v, "inet") ? AF_INET : -1;
        return *family < 0 ? -EINVAL : 1;
    }
    return *family ? 0 : -EINVAL;
}

/* an address of FAMILY from V into DST; *HAS set (even when V is no address: the parse fails) */
static int addr_of(int family, const char *v, void *dst, bool *has)
{
    if (has)
        *has = true;
    return inet_pton(family, v, dst) == 1 ? 0 : -EINVAL;
}

static int addr_kv(const char *k, const char *v, void *d)
{
    struct nl_addr *a = d;
    uint32_t u;

    int rc = family_kv(k, v, &a->family);

    if (rc)
        return rc < 0 ? rc : 0;
    if (!strcmp(k, "local"))
        return addr_of(a->family, v, a->local, &a->has_local);
    if (!strcmp(k, "peer"))
        return addr_of(a->family, v, a->address, &a->has_address);
    if (!strcmp(k, "brd"))
        return addr_of(a->family, v, a->brd, &a->has_brd);
    if (u32_of(v, &u) < 0)
        return -EINVAL;
    if (!strcmp(k, "plen") && u <= 128) a->plen = (uint8_t)u;
    else if (!strcmp(k, "scope") && u <= 255) a->scope = (uint8_t)u;
    else if (!strcmp(k, "flags")) a->flags = u;
    else if (!strcmp(k, "valid")) a->valid = u;
    else if (!strcmp(k, "pref")) a->pref = u;
    else return -EINVAL;
    return 0;
}

int nl_addr_parse(const char *s, struct nl_addr *a)
{
    memset(a, 0, sizeof(*a));
    a->valid = a->pref = 0xffffffffu;
    if (kv_walk(s, addr_kv, a) < 0 || !a->family || !a->has_local)
        return -EINVAL;
    return 0;
}

static int route_kv(const char *k, const char *v, void *d)
{
    struct nl_route *r = d;
    uint32_t u;

    int rc = family_kv(k, v, &r->family);

    if (rc)
        return rc < 0 ? rc : 0;
    if (!strcmp(k, "dst"))
        return addr_of(r->family, v, r->dst, NULL);
    if (!strcmp(k, "gw"))
        return addr_of(r->family, v, r->gw, &r->has_gw);
    if (!strcmp(k, "src"))
        return addr_of(r->family, v, r->prefsrc, &r->has_prefsrc);
    if (u32_of(v, &u) < 0)
        return -EINVAL;
    if (!strcmp(k, "plen") && u <= 128) r->dst_len = (uint8_t)u;
    else if (!strcmp(k, "proto") && u <= 255) r->protocol = (uint8_t)u;
    else if (!strcmp(k, "scope") && u <= 255) r->scope = (uint8_t)u;
    else if (!strcmp(k, "type") && u <= 255) r->type = (uint8_t)u;
    else if (!strcmp(k, "table")) r->table = u;
    else if (!strcmp(k, "metric")) { r->priority = u; r->has_priority = true; }
    else return -EINVAL;
    return 0;
}

int nl_route_parse(const char *s, struct nl_route *r)
{
    memset(r, 0, sizeof(*r));
    if (kv_walk(s, route_kv, r) < 0 || !r->family)
        return -EINVAL;
    return 0;
}

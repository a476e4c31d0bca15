/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: rtnetlink through libmnl (links, bridges, addresses, routes, bridge FDB). */
#ifndef HVMCTL_NET_NL_H
#define HVMCTL_NET_NL_H

#include "toolstack/net/net.h"

struct nl_link {
    int ifindex;
    char name[IFNAMSIZ];
    unsigned int flags;          /* IFF_* */
    unsigned int mtu;
    int master;                  /* ifindex of the bridge it is a port of, 0 = none */
    uint8_t mac[6];
    bool has_mac;
    char kind[32];               /* IFLA_INFO_KIND: bridge, veth, tun, dummy, "" for a NIC */
    char slave_kind[32];         /* "bridge" for a bridge port */
    int brport_state;            /* BR_STATE_* of a bridge port, -1 unknown */
    char alias[128];
    uint8_t operstate;
    bool has_br;                 /* the bridge attributes below are valid */
    uint32_t br_stp, br_fwd_delay, br_ageing;   /* seconds */
};

struct nl_addr {
    int family;                  /* AF_INET or AF_INET6 */
    int ifindex;
    uint8_t plen, scope;
    uint32_t flags;              /* IFA_F_* (IFA_FLAGS when present) */
    uint8_t local[16], address[16], brd[16];
    bool has_local, has_address, has_brd;
    uint32_t valid, pref;        /* lifetimes in seconds, 0xffffffff = forever */
    char label[IFNAMSIZ];
};

struct nl_route {
    int family;
    uint8_t dst_len, protocol, scope, type;
    uint32_t table;
    uint8_t dst[16], gw[16], prefsrc[16];
    bool has_gw, has_prefsrc, has_priority, multipath;
    uint32_t priority;           /* metric */
    int oif;
};

struct nl_fdb {
    int ifindex, master;
    uint8_t mac[6];
    uint16_t state;              /* NUD_* */
    uint8_t flags;               /* NTF_* */
    uint32_t updated_s;          /* seconds since last seen (learned entries) */
    bool has_updated;
};

/* what to change on a link; fields left at their "keep" value are not sent */
struct nl_link_change {
    int up;                      /* -1 keep, 0 down, 1 up */
    int master;                  /* -1 keep, 0 release, >0 ifindex of the bridge */
    unsigned int mtu;            /* 0 keep */
    const uint8_t *mac;          /* NULL keep */
    const char *name;            /* NULL keep */
    const char *alias;           /* NULL keep, "" clear */
};
#define NL_LINK_KEEP { .up = -1, .master = -1 }

int nl_link_get(struct net_ctx *c, const char *name, int ifindex, struct nl_link *out);
typedef int (*nl_link_cb)(const struct nl_link *l, void *data);
int nl_link_dump(struct net_ctx *c, nl_link_cb cb, void *data);
int nl_link_set(struct net_ctx *c, int ifindex, const struct nl_link_change *ch);
int nl_link_del(struct net_ctx *c, int ifindex);
int nl_bridge_add(struct net_ctx *c, const char *name, bool stp, unsigned int fwd_delay,
                  unsigned int ageing, unsigned int mtu, const uint8_t *mac);

typedef int (*nl_addr_cb)(const struct nl_addr *a, void *data);
int nl_addr_dump(struct net_ctx *c, int family, int ifindex, nl_addr_cb cb, void *data);
int nl_addr_add(struct net_ctx *c, int ifindex, const struct nl_addr *a);
int nl_addr_del(struct net_ctx *c, int ifindex, const struct nl_addr *a);

typedef int (*nl_route_cb)(const struct nl_route *r, void *data);
int nl_route_dump(struct net_ctx *c, int family, nl_route_cb cb, void *data);
int nl_route_add(struct net_ctx *c, const struct nl_route *r);
int nl_route_del(struct net_ctx *c, const struct nl_route *r);

typedef int (*nl_fdb_cb)(const struct nl_fdb *f, void *data);
int nl_fdb_dump(struct net_ctx *c, nl_fdb_cb cb, void *data);

/* /proc/sys/net/... of this network namespace */
int net_sysctl_get(const char *path, char *buf, size_t len);
int net_sysctl_set(const char *path, const char *val);

/* text forms for state files and show */
int nl_addr_format(const struct nl_addr *a, char *buf, size_t len);
int nl_addr_parse(const char *s, struct nl_addr *a);
int nl_route_format(const struct nl_route *r, char *buf, size_t len);
int nl_route_parse(const char *s, struct nl_route *r);

#endif

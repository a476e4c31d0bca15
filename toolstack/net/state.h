/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: the run directory (default /run/hvmd, or $HVMD_RUN_DIR).
 *   lock              flock'd by every command that changes the network
 *   net/NAME          one state file per network that is up: its config as brought up, and what
 *                     `down` must give back (the NIC's addresses, routes, sysctls)
 *   vif/IFNAME        one per vif hvmctl plumbed: its network and what `vif remove` must undo
 *   ip_forward.orig   net.ipv4.ip_forward before the first route/nat network turned it on
 *   dnsmasq-NAME.*    pid, leases and fixed hosts of a NAT network's dnsmasq
 */
#ifndef HVMCTL_NET_STATE_H
#define HVMCTL_NET_STATE_H

#include "toolstack/net/net.h"
#include "toolstack/net/nl.h"

#define NET_MAX_SAVED 32

struct net_state {
    struct net_conf conf;        /* as brought up; conf.netdev resolved ("" only for nat) */
    int bridge_ifindex;
    /* bridge mode: the NIC as it was */
    bool nic_was_up;
    unsigned int nic_mtu;
    struct nl_addr addrs[NET_MAX_SAVED];
    int naddrs;
    struct nl_route routes[NET_MAX_SAVED];
    int nroutes;
    /* route mode */
    char proxy_arp_before[8];
    /* nat mode */
    int dnsmasq_pid;
};

struct vif_state {
    char ifname[IFNAMSIZ];
    char network[IFNAMSIZ];
    enum net_mode mode;
    bool tap;
    bool has_mac;
    uint8_t mac[6];              /* the guest's MAC */
    struct in_addr ips[NET_MAX_IPS];
    int nips;
    struct in_addr dom0ip;       /* route mode: dom0's address put on the vif */
    bool dhcp_host;              /* nat mode: a fixed DHCP lease was added for mac -> ips[0] */
};

int net_state_lock(struct net_ctx *c);          /* create the run dir, take the lock */
int net_state_path(struct net_ctx *c, char *buf, size_t len, const char *kind, const char *name);

int net_state_write(struct net_ctx *c, const struct net_state *s);
int net_state_read(struct net_ctx *c, const char *name, struct net_state *s);   /* -ENOENT: down */
int net_state_remove(struct net_ctx *c, const char *name);
/* every network that is up, in name order; returns how many (at most max) */
int net_state_list(struct net_ctx *c, char names[][IFNAMSIZ], int max);

int vif_state_write(struct net_ctx *c, const struct vif_state *v);
int vif_state_read(struct net_ctx *c, const char *ifname, struct vif_state *v);
int vif_state_remove(struct net_ctx *c, const char *ifname);
int vif_state_list(struct net_ctx *c, char names[][IFNAMSIZ], int max);

/* serialisation, exposed for the unit tests */
int net_state_format(const struct net_state *s, char *buf, size_t len);
int net_state_parse(const char *text, struct net_state *s);
int vif_state_format(const struct vif_state *v, char *buf, size_t len);
int vif_state_parse(const char *text, struct vif_state *v);

#endif

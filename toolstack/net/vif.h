/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl vif: a guest's vif (netback) or tap (emulated NIC) plumbed into an hvmctl network. */
#ifndef HVMCTL_VIF_H
#define HVMCTL_VIF_H

#include "toolstack/net/state.h"

struct vif_req {
    char ifname[IFNAMSIZ];
    char network[IFNAMSIZ];      /* "" = the default network */
    char bridge_hint[IFNAMSIZ];  /* from a vif spec's bridge=; used when no network is named */
    bool has_mac;
    uint8_t mac[6];              /* the guest's MAC */
    struct in_addr ips[NET_MAX_IPS];
    int nips;
    unsigned int mtu;            /* 0 = the bridge's */
    int tap;                     /* -1 guess (kind tun or name *-emu), 0 vif, 1 tap */
};

/* Attach; on failure nothing is left changed and c->err says why. */
int vif_attach(struct net_ctx *c, const struct vif_req *r);
/* Detach (whatever is left of it); the device itself is not deleted. */
int vif_detach(struct net_ctx *c, const char *ifname);
/* "a.b.c.d[/n] a.b.c.d ..." as in a vif spec's ip= (libxl writes it space-separated) */
int vif_parse_ips(const char *s, struct vif_req *r, char *why, size_t whylen);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: bringing one network up or down, per mode, with rollback. */
#ifndef HVMCTL_NET_TOPO_H
#define HVMCTL_NET_TOPO_H

#include "toolstack/net/state.h"

/* Everything that can be checked without changing the host: devices exist, names are free, the
 * NIC is not taken. 0 if up would start; -EALREADY if it is up already. */
int net_topo_check(struct net_ctx *c, const struct net_conf *n);
/* Bring n up; on failure the host is as it was and c->err says why. */
int net_topo_up(struct net_ctx *c, const struct net_conf *n);
/* Take network name down. Refuses (-EBUSY) while vifs use it unless force. */
int net_topo_down(struct net_ctx *c, const char *name, bool force);

/* helpers shared with vif.c and show.c */
int net_first_ip4(struct net_ctx *c, int ifindex, struct in_addr *a, int *plen);
/* the ports of bridge ifindex other than skip (names, at most max); returns the count */
int net_bridge_ports(struct net_ctx *c, int br, const char *skip, char names[][IFNAMSIZ], int max);
/* the vifs hvmctl plumbed into network name; returns the count */
int net_network_vifs(struct net_ctx *c, const char *name, char names[][IFNAMSIZ], int max);

#endif

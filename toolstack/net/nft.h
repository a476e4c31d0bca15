/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: NAT rules in `table ip hvmctl` through libnftables. */
#ifndef HVMCTL_NET_NFT_H
#define HVMCTL_NET_NFT_H

#include "toolstack/net/net.h"

#define NET_NFT_TABLE "hvmctl"
#define NET_NFT_MAX (16 * 1024)

/* the nft commands that bring a NAT network's rules up (one batch) */
int net_nft_ruleset(const struct net_conf *n, char *buf, size_t len);
int net_nft_up(struct net_ctx *c, const struct net_conf *n);
/* remove a network's chains, and the table if they were its last */
int net_nft_down(struct net_ctx *c, const char *name);
/* the text of `table ip hvmctl` (malloc'd), -ENOENT if there is none */
int net_nft_list(struct net_ctx *c, char **out);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: dnsmasq as the DHCP (and DNS) server of a NAT network. */
#ifndef HVMCTL_NET_DHCP_H
#define HVMCTL_NET_DHCP_H

#include "toolstack/net/net.h"

#define NET_DHCP_MAXARGS 24

/* dnsmasq's argv for network n (strings live in store, which must hold 4 KiB) */
int net_dhcp_argv(const struct net_ctx *c, const struct net_conf *n, char *argv[NET_DHCP_MAXARGS],
                  char *store, size_t storelen);
/* start it; returns its pid (> 0) or a negative errno with the reason in c->err */
int net_dhcp_start(struct net_ctx *c, const struct net_conf *n);
/* stop the dnsmasq of network name (pid from its pid file, checked to be ours); remove its files */
int net_dhcp_stop(struct net_ctx *c, const char *name);
/* is pid the dnsmasq of network name? */
bool net_dhcp_running(struct net_ctx *c, const char *name, int pid);
/* fixed leases (MAC -> address), dnsmasq told to reread them */
int net_dhcp_host_add(struct net_ctx *c, const char *name, const uint8_t mac[6], struct in_addr ip);
int net_dhcp_host_del(struct net_ctx *c, const char *name, const uint8_t mac[6]);
int net_dhcp_file(const struct net_ctx *c, const char *name, const char *ext, char *buf, size_t len);

#endif

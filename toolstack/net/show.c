/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network show: what brctl show / showmacs, ip route and nft list gave, for hvmctl's
 * networks: each network, its bridge and ports with their STP state, the MACs the bridge learned,
 * the vifs, the host routes hvmctl added (protocol 175), the NAT rules and DHCP leases. */
#include "toolstack/net/show.h"

#include "toolstack/net/dhcp.h"
#include "toolstack/net/nft.h"
#include "toolstack/net/topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *stp_state(int s)
{
    switch (s) {
    case BR_STATE_DISABLED: return "disabled";
    case BR_STATE_LISTENING: return "listening";
    case BR_STATE_LEARNING: return "learning";
    case BR_STATE_FORWARDING: return "forwarding";
    case BR_STATE_BLOCKING: return "blocking";
    default: return "?";
    }
}

struct port_walk {
    int br;
    struct net_ctx *c;
};

static int port_cb(const struct nl_link *l, void *data)
{
    struct port_walk *w = data;
    struct vif_state v;
    char m[18], a[INET_ADDRSTRLEN];
    int i;

    if (l->master != w->br)
        return 0;
    printf("    %-16s %-11s %-5s mtu %-5u", l->name, stp_state(l->brport_state),
           (l->flags & IFF_UP) ? "up" : "down", l->mtu);
    if (vif_state_read(w->c, l->name, &v) == 0) {
        printf("  %s", v.tap ? "tap" : "vif");
        if (v.has_mac) {
            net_format_mac(v.mac, m);
            printf(" guest %s", m);
        }
        for (i = 0; i < v.nips; i++)
            printf(" %s", inet_ntop(AF_INET, &v.ips[i], a, sizeof(a)));
    }
    printf("\n");
    return 0;
}

#define SHOW_MAX 512

/* dump callbacks only collect: a netlink request made inside a dump would read its replies */
struct fdb_walk {
    int br, n;
    struct nl_fdb e[SHOW_MAX];
};

static int fdb_cb(const struct nl_fdb *f, void *data)
{
    struct fdb_walk *w = data;

    if (f->master != w->br || (f->flags & NTF_SELF) || f->ifindex == w->br)
        return 0;
    if (f->mac[0] & 1)                       /* multicast entries are not learned stations */
        return 0;
    if (w->n < SHOW_MAX)
        w->e[w->n++] = *f;
    return 0;
}

static void show_fdb(struct net_ctx *c, int br)
{
    struct fdb_walk *w = calloc(1, sizeof(*w));
    struct nl_link port;
    char m[18];
    int i;

    if (!w)
        return;
    w->br = br;
    nl_fdb_dump(c, fdb_cb, w);
    for (i = 0; i < w->n; i++) {
        const struct nl_fdb *f = &w->e[i];
        if (nl_link_get(c, NULL, f->ifindex, &port) < 0)
            snprintf(port.name, sizeof(port.name), "#%d", f->ifindex);
        net_format_mac(f->mac, m);
        if (!i)
            printf("  learned MACs:\n    %-16s %-18s %-6s %s\n", "PORT", "MAC", "LOCAL", "AGEING");
        if (f->state & NUD_PERMANENT)
            printf("    %-16s %-18s %-6s %s\n", port.name, m, "yes", "-");
        else
            printf("    %-16s %-18s %-6s %u s\n", port.name, m, "no",
                   f->has_updated ? f->updated_s : 0);
    }
    free(w);
}

struct addr_walk {
    int n;
};

static int addr_cb(const struct nl_addr *a, void *data)
{
    struct addr_walk *w = data;
    char s[INET6_ADDRSTRLEN];

    if (a->family == AF_INET6 && a->scope != RT_SCOPE_UNIVERSE)
        return 0;
    printf("%s%s/%u", w->n++ ? ", " : "", inet_ntop(a->family, a->local, s, sizeof(s)), a->plen);
    return 0;
}

struct route_walk {
    int n;
    struct nl_route r[SHOW_MAX];
};

static int route_cb(const struct nl_route *r, void *data)
{
    struct route_walk *w = data;

    if (r->family == AF_INET && r->protocol == NET_RTPROT && w->n < SHOW_MAX)
        w->r[w->n++] = *r;
    return 0;
}

static void show_routes(struct net_ctx *c, const char *network)
{
    struct route_walk *w = calloc(1, sizeof(*w));
    struct nl_link l;
    struct vif_state v;
    char d[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];
    int i, shown = 0;

    if (!w)
        return;
    nl_route_dump(c, AF_INET, route_cb, w);
    for (i = 0; i < w->n; i++) {
        const struct nl_route *r = &w->r[i];
        if (nl_link_get(c, NULL, r->oif, &l) < 0)
            snprintf(l.name, sizeof(l.name), "#%d", r->oif);
        if (vif_state_read(c, l.name, &v) < 0 || strcmp(v.network, network))
            continue;
        if (!shown++)
            printf("  routes (protocol %d):\n", NET_RTPROT);
        printf("    %s/%u dev %s", inet_ntop(AF_INET, r->dst, d, sizeof(d)), r->dst_len, l.name);
        if (r->has_prefsrc)
            printf(" src %s", inet_ntop(AF_INET, r->prefsrc, s, sizeof(s)));
        if (r->has_priority)
            printf(" metric %u", r->priority);
        printf("\n");
    }
    free(w);
}

static void show_leases(struct net_ctx *c, const char *name)
{
    char path[PATH_MAX], line[512];
    FILE *f;
    int n = 0;

    net_dhcp_file(c, name, "leases", path, sizeof(path));
    f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char exp[32], mac[64], ip[64], host[128];
        if (sscanf(line, "%31s %63s %63s %127s", exp, mac, ip, host) != 4)
            continue;
        if (!n++)
            printf("  DHCP leases:\n");
        printf("    %-16s %-18s %s\n", ip, mac, strcmp(host, "*") ? host : "");
    }
    fclose(f);
}

static void show_one(struct net_ctx *c, const struct net_state *s)
{
    const struct net_conf *n = &s->conf;
    struct nl_link br, nic;
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], m[18], vifs[64][IFNAMSIZ];
    int i, nv;

    printf("network %s: %s mode%s\n", n->name, net_mode_name(n->mode),
           n->is_default ? ", default" : "");
    if (n->mode != NET_MODE_ROUTE) {
        if (nl_link_get(c, n->name, 0, &br) < 0) {
            printf("  bridge %s: MISSING (removed behind hvmctl's back? `hvmctl network down "
                   "%s` clears the state)\n", n->name, n->name);
            return;
        }
        net_format_mac(br.mac, m);
        printf("  bridge %s %s mtu %u %s, stp %s", br.name, m, br.mtu,
               (br.flags & IFF_UP) ? "up" : "down", br.br_stp ? "on" : "off");
        printf(", forward-delay %u s, ageing %u s\n", br.br_fwd_delay, br.br_ageing);
        {
            struct addr_walk w = { 0 };
            printf("  addresses: ");
            nl_addr_dump(c, AF_UNSPEC, br.ifindex, addr_cb, &w);
            printf("%s\n", w.n ? "" : "none");
        }
        if (n->mode == NET_MODE_BRIDGE)
            printf("  netdev %s\n", n->netdev);
        printf("  ports:\n");
        {
            struct port_walk w = { br.ifindex, c };
            nl_link_dump(c, port_cb, &w);
        }
        show_fdb(c, br.ifindex);
    }
    if (n->mode == NET_MODE_ROUTE) {
        char v[8] = "?";
        struct in_addr ip;
        printf("  netdev %s", n->netdev);
        if (nl_link_get(c, n->netdev, 0, &nic) == 0 && net_first_ip4(c, nic.ifindex, &ip, NULL) == 0)
            printf(" (dom0 %s)", inet_ntop(AF_INET, &ip, a, sizeof(a)));
        net_sysctl_get("net/ipv4/ip_forward", v, sizeof(v));
        printf(", ip_forward %s\n", v);
        nv = net_network_vifs(c, n->name, vifs, 64);
        for (i = 0; i < nv; i++) {
            struct vif_state vs;
            int j;
            if (vif_state_read(c, vifs[i], &vs) < 0)
                continue;
            printf("  vif %s ->", vs.ifname);
            for (j = 0; j < vs.nips; j++)
                printf(" %s", inet_ntop(AF_INET, &vs.ips[j], a, sizeof(a)));
            printf("\n");
        }
        show_routes(c, n->name);
    }
    if (n->mode == NET_MODE_NAT) {
        printf("  subnet %s/%d", inet_ntop(AF_INET, &n->gw, a, sizeof(a)), n->plen);
        printf(", outgoing %s", n->netdev[0] ? n->netdev : "any device but the bridge");
        if (n->dhcp) {
            printf(", DHCP %s - ", inet_ntop(AF_INET, &n->dhcp_lo, a, sizeof(a)));
            printf("%s (dnsmasq pid %d, %s)", inet_ntop(AF_INET, &n->dhcp_hi, b, sizeof(b)),
                   s->dnsmasq_pid,
                   net_dhcp_running(c, n->name, s->dnsmasq_pid) ? "running" : "NOT RUNNING");
        }
        printf("\n");
        for (i = 0; i < n->nfwd; i++)
            printf("  forward %s %u -> %s:%u\n", n->fwd[i].proto == IPPROTO_UDP ? "udp" : "tcp",
                   n->fwd[i].port, inet_ntop(AF_INET, &n->fwd[i].to, a, sizeof(a)),
                   n->fwd[i].to_port);
        show_leases(c, n->name);
    }
}

int net_show(struct net_ctx *c, char **names, int nnames)
{
    char up[NET_MAX_NETS * 2][IFNAMSIZ];
    struct net_state *s = calloc(1, sizeof(*s));
    char *nft = NULL;
    int n, i, rc = 0, shown = 0;
    bool nat = false;

    if (!s)
        return -ENOMEM;
    n = net_state_list(c, up, NET_MAX_NETS * 2);
    for (i = 0; i < nnames; i++)
        if (net_state_read(c, names[i], s) < 0)
            rc = net_fail(c, -ENOENT, "network %s is not up", names[i]);
    for (i = 0; i < n; i++) {
        int j, want = nnames == 0;
        for (j = 0; j < nnames; j++)
            want |= !strcmp(names[j], up[i]);
        if (!want || net_state_read(c, up[i], s) < 0)
            continue;
        if (shown++)
            printf("\n");
        show_one(c, s);
        nat |= s->conf.mode == NET_MODE_NAT;
    }
    if (!n && !nnames)
        printf("no hvmctl network is up (hvmctl network up)\n");
    if (nat && net_nft_list(c, &nft) == 0) {
        printf("\nnftables (table ip %s):\n%s", NET_NFT_TABLE, nft);
        free(nft);
    }
    free(s);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: one network up or down.
 *
 * bridge: a bridge takes the NIC as its port, the NIC's MAC, MTU, addresses and routes (what
 *         xend's network-bridge did); down gives them all back to the NIC from the state file.
 * route:  IP forwarding and proxy ARP on the NIC; the per-vif host routes come with the vifs.
 * nat:    an internal bridge with dom0's address on the subnet, masquerading and port forwards in
 *         `table ip hvmctl`, dnsmasq serving DHCP on the bridge.
 * Each up first checks all it can without touching the host, then applies its steps in order and
 * on a failure undoes the steps done, in reverse, so the host is left as it was.
 */
#include "toolstack/net/topo.h"

#include "toolstack/net/dhcp.h"
#include "toolstack/net/nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FWD_SYSCTL "net/ipv4/ip_forward"

/* ---- small queries ---- */

struct first_ip {
    struct in_addr a;
    int plen;
    bool found;
};

static int first_ip_cb(const struct nl_addr *a, void *data)
{
    struct first_ip *f = data;

    if (!f->found && a->family == AF_INET && a->scope == RT_SCOPE_UNIVERSE) {
        memcpy(&f->a, a->local, 4);
        f->plen = a->plen;
        f->found = true;
    }
    return 0;
}

int net_first_ip4(struct net_ctx *c, int ifindex, struct in_addr *a, int *plen)
{
    struct first_ip f = { .found = false };
    int rc = nl_addr_dump(c, AF_INET, ifindex, first_ip_cb, &f);

    if (rc < 0)
        return rc;
    if (!f.found)
        return -ENOENT;
    *a = f.a;
    if (plen)
        *plen = f.plen;
    return 0;
}

struct ports {
    int br;
    const char *skip;
    char (*names)[IFNAMSIZ];
    int max, n;
};

static int ports_cb(const struct nl_link *l, void *data)
{
    struct ports *p = data;

    if (l->master == p->br && (!p->skip || strcmp(l->name, p->skip)) && p->n < p->max)
        snprintf(p->names[p->n++], IFNAMSIZ, "%s", l->name);
    return 0;
}

int net_bridge_ports(struct net_ctx *c, int br, const char *skip, char names[][IFNAMSIZ], int max)
{
    struct ports p = { br, skip, names, max, 0 };
    int rc = nl_link_dump(c, ports_cb, &p);

    return rc < 0 ? rc : p.n;
}

int net_network_vifs(struct net_ctx *c, const char *name, char names[][IFNAMSIZ], int max)
{
    char all[64][IFNAMSIZ];
    int n = vif_state_list(c, all, 64), i, k = 0;
    struct vif_state v;

    for (i = 0; i < n && k < max; i++)
        if (vif_state_read(c, all[i], &v) == 0 && !strcmp(v.network, name))
            snprintf(names[k++], IFNAMSIZ, "%s", all[i]);
    return k;
}

static void join(char names[][IFNAMSIZ], int n, char *buf, size_t len)
{
    size_t used = 0;
    int i;

    buf[0] = 0;
    for (i = 0; i < n && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

struct defroute {
    int oif;
    uint32_t metric;
    bool found;
};

static int defroute_cb(const struct nl_route *r, void *data)
{
    struct defroute *d = data;
    uint32_t m = r->has_priority ? r->priority : 0;

    if (r->family == AF_INET && r->dst_len == 0 && r->table == RT_TABLE_MAIN && r->oif &&
        r->type == RTN_UNICAST && (!d->found || m < d->metric)) {
        d->oif = r->oif;
        d->metric = m;
        d->found = true;
    }
    return 0;
}

/* the NIC a network uses: netdev= or the device of the default route */
static int resolve_netdev(struct net_ctx *c, const struct net_conf *n, struct nl_link *nic)
{
    struct defroute d = { 0, 0, false };
    int rc;

    if (n->netdev[0]) {
        rc = nl_link_get(c, n->netdev, 0, nic);
        if (rc == -ENODEV)
            return net_fail(c, -ENODEV, "network %s: netdev %s: no such device", n->name,
                            n->netdev);
        if (rc < 0)
            return net_fail(c, rc, "network %s: netdev %s: %s", n->name, n->netdev, strerror(-rc));
        return 0;
    }
    if ((rc = nl_route_dump(c, AF_INET, defroute_cb, &d)) < 0)
        return net_fail(c, rc, "cannot read the routing table: %s", strerror(-rc));
    if (!d.found)
        return net_fail(c, -ENODEV, "network %s: no netdev = given and there is no default "
                        "route to take it from", n->name);
    if ((rc = nl_link_get(c, NULL, d.oif, nic)) < 0)
        return net_fail(c, rc, "network %s: the default route's device (index %d): %s", n->name,
                        d.oif, strerror(-rc));
    return 0;
}

/* A network's bridge name must be free (or be ours and up already: -EALREADY). */
static int check_bridge_name(struct net_ctx *c, const struct net_conf *n)
{
    struct nl_link l;
    struct net_state s;
    int rc = nl_link_get(c, n->name, 0, &l);

    if (rc == -ENODEV)
        return 0;
    if (rc < 0)
        return net_fail(c, rc, "network %s: %s", n->name, strerror(-rc));
    if (!strncmp(l.alias, NET_ALIAS_PREFIX, strlen(NET_ALIAS_PREFIX)) &&
        net_state_read(c, n->name, &s) == 0)
        return -EALREADY;
    return net_fail(c, -EEXIST, "network %s: name clash: a device named %s already exists (%s%s); "
                    "choose another name for the network", n->name, n->name,
                    l.kind[0] ? l.kind : "a network interface", l.kind[0] ? " device" : "");
}

static int check_nic(struct net_ctx *c, const struct net_conf *n, const struct nl_link *nic)
{
    struct nl_link m;

    if (nic->flags & IFF_LOOPBACK)
        return net_fail(c, -EINVAL, "network %s: netdev %s is the loopback device", n->name,
                        nic->name);
    if (!strcmp(nic->kind, "bridge"))
        return net_fail(c, -EINVAL, "network %s: netdev %s is itself a bridge; name the NIC it "
                        "should take as its port", n->name, nic->name);
    if (nic->master) {
        if (nl_link_get(c, NULL, nic->master, &m) < 0)
            snprintf(m.name, sizeof(m.name), "index %d", nic->master);
        return net_fail(c, -EBUSY, "network %s: netdev %s is already a port of bridge %s", n->name,
                        nic->name, m.name);
    }
    if (!nic->has_mac)
        return net_fail(c, -EINVAL, "network %s: netdev %s has no Ethernet address (not an "
                        "Ethernet device?)", n->name, nic->name);
    return 0;
}

struct overlap {
    uint32_t net, mask;
    int hit_ifindex;
    char hit[INET_ADDRSTRLEN];
    int hit_plen;
};

static int overlap_cb(const struct nl_addr *a, void *data)
{
    struct overlap *o = data;
    uint32_t x, m;

    if (a->family != AF_INET || o->hit_ifindex)
        return 0;
    memcpy(&x, a->local, 4);
    x = ntohl(x);
    m = net_mask(a->plen) & o->mask;         /* the larger of the two networks */
    if ((x & m) == (o->net & m)) {
        o->hit_ifindex = a->ifindex;
        inet_ntop(AF_INET, a->local, o->hit, sizeof(o->hit));
        o->hit_plen = a->plen;
    }
    return 0;
}

int net_topo_check(struct net_ctx *c, const struct net_conf *n)
{
    struct nl_link nic, l;
    struct net_state s;
    int rc;

    if (net_state_read(c, n->name, &s) == 0)
        return -EALREADY;
    switch (n->mode) {
    case NET_MODE_BRIDGE:
        if ((rc = check_bridge_name(c, n)) < 0)
            return rc;
        if ((rc = resolve_netdev(c, n, &nic)) < 0)
            return rc;
        return check_nic(c, n, &nic);
    case NET_MODE_ROUTE:
        if ((rc = resolve_netdev(c, n, &nic)) < 0)
            return rc;
        if (nic.flags & IFF_LOOPBACK)
            return net_fail(c, -EINVAL, "network %s: netdev %s is the loopback device", n->name,
                            nic.name);
        if (net_first_ip4(c, nic.ifindex, &(struct in_addr){ 0 }, NULL) < 0)
            return net_fail(c, -EADDRNOTAVAIL, "network %s: netdev %s has no IPv4 address (route "
                            "mode routes guests through dom0's address on it)", n->name, nic.name);
        return 0;
    case NET_MODE_NAT: {
        struct overlap o = { ntohl(n->gw.s_addr) & net_mask(n->plen), net_mask(n->plen), 0, "", 0 };
        char sub[INET_ADDRSTRLEN];
        if ((rc = check_bridge_name(c, n)) < 0)
            return rc;
        if (n->netdev[0] && (rc = resolve_netdev(c, n, &nic)) < 0)
            return rc;
        if ((rc = nl_addr_dump(c, AF_INET, 0, overlap_cb, &o)) < 0)
            return net_fail(c, rc, "cannot read addresses: %s", strerror(-rc));
        if (o.hit_ifindex) {
            if (nl_link_get(c, NULL, o.hit_ifindex, &l) < 0)
                snprintf(l.name, sizeof(l.name), "index %d", o.hit_ifindex);
            inet_ntop(AF_INET, &n->gw, sub, sizeof(sub));
            return net_fail(c, -EADDRINUSE, "network %s: subnet %s/%d overlaps %s/%d on %s",
                            n->name, sub, n->plen, o.hit, o.hit_plen, l.name);
        }
        if (n->dhcp && access(n->dnsmasq, X_OK) < 0)
            return net_fail(c, -ENOENT, "network %s: cannot run %s: %s (install dnsmasq-base, or "
                            "set dnsmasq = PATH, or dhcp = off)", n->name, n->dnsmasq,
                            strerror(errno));
        return 0;
    }
    default:
        return net_fail(c, -EINVAL, "network %s: no mode", n->name);
    }
}

/* ---- ip_forward, shared by route and nat networks ---- */

static int forward_acquire(struct net_ctx *c)
{
    char path[PATH_MAX], cur[16];
    FILE *f;
    int rc;

    if ((rc = net_sysctl_get(FWD_SYSCTL, cur, sizeof(cur))) < 0)
        return net_fail(c, rc, "cannot read %s: %s", FWD_SYSCTL, strerror(-rc));
    snprintf(path, sizeof(path), "%s/ip_forward.orig", c->rundir);
    if (access(path, F_OK) < 0) {
        f = fopen(path, "w");
        if (!f || fprintf(f, "%s\n", cur) < 0 || fclose(f) != 0)
            return net_fail(c, -EIO, "cannot write %s", path);
    }
    if (strcmp(cur, "1") && (rc = net_sysctl_set(FWD_SYSCTL, "1")) < 0)
        return net_fail(c, rc, "cannot turn on IP forwarding: %s", strerror(-rc));
    return 0;
}

/* give ip_forward back when no route/nat network other than except is up */
static void forward_release(struct net_ctx *c, const char *except)
{
    char names[NET_MAX_NETS * 2][IFNAMSIZ], path[PATH_MAX], orig[16] = "";
    struct net_state s;
    int n = net_state_list(c, names, NET_MAX_NETS * 2), i;
    FILE *f;

    for (i = 0; i < n; i++)
        if (strcmp(names[i], except) && net_state_read(c, names[i], &s) == 0 &&
            (s.conf.mode == NET_MODE_ROUTE || s.conf.mode == NET_MODE_NAT))
            return;
    snprintf(path, sizeof(path), "%s/ip_forward.orig", c->rundir);
    f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(orig, sizeof(orig), f))
        orig[strcspn(orig, "\n")] = 0;
    fclose(f);
    if (orig[0] == '0' || orig[0] == '1')
        net_sysctl_set(FWD_SYSCTL, orig);
    unlink(path);
}

/* ---- bridge mode ---- */

struct collect {
    struct net_state *s;
    int ifindex;
    int err;
};

/* room for one more saved address or route (else the walk ends in -E2BIG) */
static bool room(struct collect *k, int n)
{
    if (n < NET_MAX_SAVED)
        return true;
    k->err = -E2BIG;
    return false;
}

static int collect_addr(const struct nl_addr *a, void *data)
{
    struct collect *k = data;

    if (a->ifindex != k->ifindex)
        return 0;
    /* IPv6 link-local and autoconfigured addresses are the kernel's: the bridge makes its own */
    if (a->family == AF_INET6 && (a->scope != RT_SCOPE_UNIVERSE || !(a->flags & IFA_F_PERMANENT)))
        return 0;
    if (room(k, k->s->naddrs))
        k->s->addrs[k->s->naddrs++] = *a;
    return 0;
}

static int collect_route(const struct nl_route *r, void *data)
{
    struct collect *k = data;

    if (r->oif != k->ifindex || r->table != RT_TABLE_MAIN || r->multipath)
        return 0;
    if (r->protocol == RTPROT_KERNEL || r->protocol == RTPROT_RA || r->type != RTN_UNICAST)
        return 0;                       /* made by the kernel from the addresses, or by RAs */
    if (r->family == AF_INET6 && r->dst[0] == 0xfe && (r->dst[1] & 0xc0) == 0x80)
        return 0;
    if (room(k, k->s->nroutes))
        k->s->routes[k->s->nroutes++] = *r;
    return 0;
}

/* move addresses and routes from one device to another (both directions use it) */
static int move_addrs_routes(struct net_ctx *c, const struct net_state *s, int from, int to,
                             const char *fromname, const char *toname)
{
    int i, rc;
    char txt[256];

    /* routes first (they may name addresses), then addresses, secondaries before primaries */
    if (from) {
        for (i = s->nroutes - 1; i >= 0; i--) {
            struct nl_route r = s->routes[i];
            r.oif = from;
            nl_route_del(c, &r);   /* may be gone with its address already */
        }
        for (i = s->naddrs - 1; i >= 0; i--) {
            rc = nl_addr_del(c, from, &s->addrs[i]);
            if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENOENT && rc != -ESRCH) {
                nl_addr_format(&s->addrs[i], txt, sizeof(txt));
                return net_fail(c, rc, "cannot remove address (%s) from %s: %s", txt, fromname,
                                strerror(-rc));
            }
        }
    }
    if (!to)
        return 0;
    for (i = 0; i < s->naddrs; i++) {
        rc = nl_addr_add(c, to, &s->addrs[i]);
        if (rc < 0 && rc != -EEXIST) {
            nl_addr_format(&s->addrs[i], txt, sizeof(txt));
            return net_fail(c, rc, "cannot add address (%s) to %s: %s", txt, toname, strerror(-rc));
        }
    }
    /* link routes before the ones through a gateway they make reachable */
    for (int pass = 0; pass < 2; pass++)
        for (i = 0; i < s->nroutes; i++) {
            struct nl_route r = s->routes[i];
            if (r.has_gw != (pass == 1))
                continue;
            r.oif = to;
            rc = nl_route_add(c, &r);
            if (rc < 0 && rc != -EEXIST) {
                nl_route_format(&r, txt, sizeof(txt));
                return net_fail(c, rc, "cannot add route (%s) on %s: %s", txt, toname,
                                strerror(-rc));
            }
        }
    return 0;
}

/* Makes network n's bridge and looks it up into br: 0, or a negative errno; *step becomes 1
 * once the bridge exists (the callers' undo step that deletes it). */
static int bridge_make(struct net_ctx *c, const struct net_conf *n, bool stp,
                       unsigned int fwd_delay, unsigned int ageing, unsigned int mtu,
                       const uint8_t *mac, struct nl_link *br, int *step)
{
    int rc = nl_bridge_add(c, n->name, stp, fwd_delay, ageing, mtu, mac);

    if (rc < 0)
        return net_fail(c, rc, "network %s: cannot create bridge %s: %s", n->name, n->name,
                        strerror(-rc));
    *step = 1;
    rc = nl_link_get(c, n->name, 0, br);
    if (rc < 0)
        return net_fail(c, rc, "network %s: bridge %s vanished: %s", n->name, n->name,
                        strerror(-rc));
    return 0;
}

static int bridge_up(struct net_ctx *c, const struct net_conf *n)
{
    struct net_state *s = calloc(1, sizeof(*s));
    struct nl_link nic, br;
    struct collect k;
    struct nl_link_change ch = NL_LINK_KEEP;
    char alias[64];
    int rc, step = 0;

    if (!s)
        return -ENOMEM;
    if ((rc = resolve_netdev(c, n, &nic)) < 0 || (rc = check_nic(c, n, &nic)) < 0)
        goto out;
    s->conf = *n;
    snprintf(s->conf.netdev, sizeof(s->conf.netdev), "%s", nic.name);
    s->nic_was_up = (nic.flags & IFF_UP) != 0;
    s->nic_mtu = nic.mtu;
    k = (struct collect){ s, nic.ifindex, 0 };
    if ((rc = nl_addr_dump(c, AF_UNSPEC, nic.ifindex, collect_addr, &k)) < 0 ||
        (rc = nl_route_dump(c, AF_UNSPEC, collect_route, &k)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot read %s's addresses and routes: %s", n->name,
                      nic.name, strerror(-rc));
        goto out;
    }
    if (k.err) {
        rc = net_fail(c, k.err, "network %s: %s has more than %d addresses or routes to move",
                      n->name, nic.name, NET_MAX_SAVED);
        goto out;
    }

    /* 1: the bridge, with the NIC's MAC (so the LAN sees dom0 as before) and MTU */
    rc = bridge_make(c, n, n->stp, n->fwd_delay, n->ageing, n->mtu ? n->mtu : nic.mtu, nic.mac,
                     &br, &step);
    if (rc < 0)
        goto undo;
    s->bridge_ifindex = br.ifindex;
    snprintf(alias, sizeof(alias), NET_ALIAS_PREFIX "bridge netdev=%s", nic.name);
    ch.alias = alias;
    if ((rc = nl_link_set(c, br.ifindex, &ch)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot label bridge %s: %s", n->name, n->name,
                      strerror(-rc));
        goto undo;
    }
    /* 2: the NIC becomes its port */
    ch = (struct nl_link_change)NL_LINK_KEEP;
    ch.master = br.ifindex;
    if ((rc = nl_link_set(c, nic.ifindex, &ch)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot make %s a port of %s: %s", n->name, nic.name,
                      n->name, strerror(-rc));
        goto undo;
    }
    step = 2;
    /* 3: the bridge up, the NIC's addresses and routes moved onto it */
    ch = (struct nl_link_change)NL_LINK_KEEP;
    ch.up = 1;
    if ((rc = nl_link_set(c, br.ifindex, &ch)) < 0 || (rc = nl_link_set(c, nic.ifindex, &ch)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot bring %s up: %s", n->name, n->name, strerror(-rc));
        goto undo;
    }
    step = 3;
    if ((rc = move_addrs_routes(c, s, nic.ifindex, br.ifindex, nic.name, n->name)) < 0)
        goto undo;
    if ((rc = net_state_write(c, s)) < 0)
        goto undo;
    net_note(c, "network %s up: bridge %s on %s (%d addresses, %d routes moved)", n->name, n->name,
             nic.name, s->naddrs, s->nroutes);
    rc = 0;
    goto out;

undo:
    if (step >= 2) {
        struct nl_link_change rel = NL_LINK_KEEP;
        rel.master = 0;
        nl_link_set(c, nic.ifindex, &rel);
    }
    if (step >= 1)
        nl_link_del(c, br.ifindex);      /* whatever reached the bridge goes with it */
    if (step >= 3) {
        /* give the NIC back whatever of its own it lost (what it kept is EEXIST, skipped) */
        move_addrs_routes(c, s, 0, nic.ifindex, n->name, nic.name);
        if (!s->nic_was_up) {
            struct nl_link_change dn = NL_LINK_KEEP;
            dn.up = 0;
            nl_link_set(c, nic.ifindex, &dn);
        }
    }
out:
    free(s);
    return rc;
}

static int bridge_down(struct net_ctx *c, struct net_state *s)
{
    struct nl_link nic, br;
    struct nl_link_change ch = NL_LINK_KEEP;
    int rc, err = 0;

    if (nl_link_get(c, s->conf.name, 0, &br) == 0) {
        ch.master = 0;
        if (nl_link_get(c, s->conf.netdev, 0, &nic) == 0 && nic.master == br.ifindex)
            nl_link_set(c, nic.ifindex, &ch);
        if ((rc = nl_link_del(c, br.ifindex)) < 0)
            return net_fail(c, rc, "network %s: cannot delete bridge %s: %s", s->conf.name,
                            s->conf.name, strerror(-rc));
    }
    if (nl_link_get(c, s->conf.netdev, 0, &nic) < 0) {
        net_note(c, "network %s: netdev %s is gone; nothing to give back to it", s->conf.name,
                 s->conf.netdev);
        return 0;
    }
    ch = (struct nl_link_change)NL_LINK_KEEP;
    if (s->nic_mtu && s->nic_mtu != nic.mtu)
        ch.mtu = s->nic_mtu;
    ch.up = s->nic_was_up ? 1 : 0;
    if ((rc = nl_link_set(c, nic.ifindex, &ch)) < 0)
        err = net_fail(c, rc, "network %s: cannot restore %s: %s", s->conf.name, nic.name,
                       strerror(-rc));
    if ((rc = move_addrs_routes(c, s, 0, nic.ifindex, s->conf.name, nic.name)) < 0)
        err = rc;
    return err;
}

/* ---- route mode ---- */

static int route_up(struct net_ctx *c, const struct net_conf *n)
{
    struct net_state *s = calloc(1, sizeof(*s));
    struct nl_link nic;
    char path[128];
    int rc;

    if (!s)
        return -ENOMEM;
    if ((rc = resolve_netdev(c, n, &nic)) < 0)
        goto out;
    s->conf = *n;
    snprintf(s->conf.netdev, sizeof(s->conf.netdev), "%s", nic.name);
    snprintf(path, sizeof(path), "net/ipv4/conf/%s/proxy_arp", nic.name);
    if ((rc = net_sysctl_get(path, s->proxy_arp_before, sizeof(s->proxy_arp_before))) < 0) {
        rc = net_fail(c, rc, "network %s: cannot read %s: %s", n->name, path, strerror(-rc));
        goto out;
    }
    if ((rc = forward_acquire(c)) < 0)
        goto out;
    if ((rc = net_sysctl_set(path, "1")) < 0) {
        rc = net_fail(c, rc, "network %s: cannot turn on proxy ARP on %s: %s", n->name, nic.name,
                      strerror(-rc));
        forward_release(c, n->name);
        goto out;
    }
    if ((rc = net_state_write(c, s)) < 0) {
        net_sysctl_set(path, s->proxy_arp_before);
        forward_release(c, n->name);
        goto out;
    }
    net_note(c, "network %s up: routing guests through %s (forwarding and proxy ARP on)", n->name,
             nic.name);
out:
    free(s);
    return rc;
}

static int route_down(struct net_ctx *c, struct net_state *s)
{
    char path[128];

    snprintf(path, sizeof(path), "net/ipv4/conf/%s/proxy_arp", s->conf.netdev);
    if (s->proxy_arp_before[0])
        net_sysctl_set(path, s->proxy_arp_before);   /* the NIC may be gone: nothing to restore */
    return 0;
}

/* ---- nat mode ---- */

static int nat_up(struct net_ctx *c, const struct net_conf *n)
{
    struct net_state *s = calloc(1, sizeof(*s));
    struct nl_link br;
    struct nl_link_change ch = NL_LINK_KEEP;
    struct nl_addr a;
    uint32_t bc;
    char alias[64];
    int rc, step = 0;

    if (!s)
        return -ENOMEM;
    s->conf = *n;
    rc = bridge_make(c, n, false, 0, 300, n->mtu, NULL, &br, &step);
    if (rc < 0)
        goto undo;
    s->bridge_ifindex = br.ifindex;
    snprintf(alias, sizeof(alias), NET_ALIAS_PREFIX "nat");
    ch.alias = alias;
    ch.up = 1;
    if ((rc = nl_link_set(c, br.ifindex, &ch)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot bring bridge up: %s", n->name, strerror(-rc));
        goto undo;
    }
    memset(&a, 0, sizeof(a));
    a.family = AF_INET;
    a.plen = (uint8_t)n->plen;
    memcpy(a.local, &n->gw, 4);
    a.has_local = true;
    bc = htonl(ntohl(n->gw.s_addr) | ~net_mask(n->plen));
    memcpy(a.brd, &bc, 4);
    a.has_brd = true;
    a.valid = a.pref = 0xffffffffu;
    if ((rc = nl_addr_add(c, br.ifindex, &a)) < 0) {
        rc = net_fail(c, rc, "network %s: cannot give %s its address: %s", n->name, n->name,
                      strerror(-rc));
        goto undo;
    }
    if ((rc = forward_acquire(c)) < 0)
        goto undo;
    step = 2;
    if ((rc = net_nft_up(c, n)) < 0)
        goto undo;
    step = 3;
    if (n->dhcp) {
        rc = net_dhcp_start(c, n);
        if (rc < 0)
            goto undo;
        s->dnsmasq_pid = rc;
        step = 4;
    }
    if ((rc = net_state_write(c, s)) < 0)
        goto undo;
    net_note(c, "network %s up: NAT bridge %s%s", n->name, n->name,
             n->dhcp ? " with DHCP (dnsmasq)" : "");
    rc = 0;
    goto out;
undo:
    if (step >= 4)
        net_dhcp_stop(c, n->name);
    if (step >= 3)
        net_nft_down(c, n->name);
    if (step >= 2)
        forward_release(c, n->name);
    if (step >= 1)
        nl_link_del(c, br.ifindex);
out:
    free(s);
    return rc;
}

static int nat_down(struct net_ctx *c, struct net_state *s)
{
    struct nl_link br;
    int rc, err = 0;

    if ((rc = net_dhcp_stop(c, s->conf.name)) < 0)
        err = rc;
    if ((rc = net_nft_down(c, s->conf.name)) < 0)
        err = rc;
    if (nl_link_get(c, s->conf.name, 0, &br) == 0 && (rc = nl_link_del(c, br.ifindex)) < 0)
        err = net_fail(c, rc, "network %s: cannot delete bridge: %s", s->conf.name, strerror(-rc));
    return err;
}

/* ---- entry points ---- */

int net_topo_up(struct net_ctx *c, const struct net_conf *n)
{
    int rc = net_topo_check(c, n);

    if (rc < 0)
        return rc;
    switch (n->mode) {
    case NET_MODE_BRIDGE: return bridge_up(c, n);
    case NET_MODE_ROUTE: return route_up(c, n);
    case NET_MODE_NAT: return nat_up(c, n);
    default: return -EINVAL;
    }
}

int net_topo_down(struct net_ctx *c, const char *name, bool force)
{
    struct net_state *s = calloc(1, sizeof(*s));
    char users[64][IFNAMSIZ], list[512];
    int rc, nusers = 0, i;

    if (!s)
        return -ENOMEM;
    rc = net_state_read(c, name, s);
    if (rc == -ENOENT) {
        rc = net_fail(c, -ENOENT, "network %s is not up", name);
        goto out;
    }
    if (rc < 0)
        goto out;
    /* in use: guests' vifs on the bridge (bridge, nat) or routed through it (route) */
    if (s->conf.mode != NET_MODE_ROUTE && s->bridge_ifindex) {
        struct nl_link br;
        if (nl_link_get(c, name, 0, &br) == 0) {
            rc = net_bridge_ports(c, br.ifindex, s->conf.mode == NET_MODE_BRIDGE ? s->conf.netdev
                                                                                  : NULL, users, 64);
            if (rc > 0)
                nusers = rc;
        }
    } else {
        nusers = net_network_vifs(c, name, users, 64);
    }
    if (nusers > 0 && !force) {
        qsort(users, (size_t)nusers, IFNAMSIZ, (int (*)(const void *, const void *))strcmp);
        join(users, nusers, list, sizeof(list));
        rc = net_fail(c, -EBUSY, "network %s is in use by %s (remove %s first, or use --force)",
                      name, list, nusers > 1 ? "them" : "it");
        goto out;
    }
    switch (s->conf.mode) {
    case NET_MODE_BRIDGE: rc = bridge_down(c, s); break;
    case NET_MODE_ROUTE: rc = route_down(c, s); break;
    case NET_MODE_NAT: rc = nat_down(c, s); break;
    default: rc = -EINVAL;
    }
    if (s->conf.mode != NET_MODE_BRIDGE)
        forward_release(c, name);
    /* vifs that were still attached (--force) lose their hvmctl state with the network */
    nusers = net_network_vifs(c, name, users, 64);
    for (i = 0; i < nusers; i++)
        vif_state_remove(c, users[i]);
    net_state_remove(c, name);
    if (rc == 0)
        net_note(c, "network %s down", name);
out:
    free(s);
    return rc;
}

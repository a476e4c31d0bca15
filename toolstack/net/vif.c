/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl vif: the per-guest plumbing, and the libxl hotplug entry point vif-hvmctl.
 *
 * A vif (vifD.N, made by netback for a PV NIC) or a tap (vifD.N-emu, made by the device model for
 * an emulated NIC) joins an hvmctl network:
 *   bridge, nat: MAC fe:ff:ff:ff:ff:ff on the dom0 side (never taken by the bridge as its own),
 *                the bridge's MTU (or the vif spec's), port of the bridge, up. In a nat network a
 *                vif with a MAC and an ip= also gets that address as a fixed DHCP lease.
 *   route:       dom0's address as a /32 on the vif, proxy ARP on it, and a host route per guest
 *                address (protocol 175, metric 1 for a tap and 2 for a vif, as vif-route did).
 * What was done is kept in RUNDIR/vif/IFNAME so remove undoes exactly that.
 *
 * libxl runs the vif script of a vif spec (script=/usr/lib/hvmd/vif-hvmctl) as
 *     SCRIPT online|offline type_if=vif      for the PV vif (netback's vifD.N)
 *     SCRIPT add|remove type_if=tap          for the emulated NIC's tap (vifD.N-emu)
 * with XENBUS_PATH=backend/vif/DOMID/DEVID, vif=vifD.N, INTERFACE=vifD.N-emu (taps), netdev=
 * (the spec's gatewaydev) in the environment; the rest (bridge, ip, mac, mtu, vifname) is read
 * from the backend directory in xenstore. Success of `online` is reported by writing
 * hotplug-status = connected (netback waits for it); a failure by hotplug-error = MESSAGE,
 * hotplug-status = error and exit status 1, which libxl prints as "script: MESSAGE".
 */
#include "toolstack/net/vif.h"

#include "toolstack/net/dhcp.h"
#include "toolstack/net/topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

static const uint8_t host_mac[6] = NET_VIF_HOST_MAC;

int net_default_network(char *buf, size_t len, const char *rundir)
{
    struct net_ctx c;
    char names[NET_MAX_NETS * 2][IFNAMSIZ];
    struct net_state s;
    int n, i, rc = -ENOENT;

    if (net_ctx_init(&c, rundir, false) < 0)
        return -EINVAL;
    c.quiet = true;
    n = net_state_list(&c, names, NET_MAX_NETS * 2);
    for (i = 0; i < n; i++)
        if (net_state_read(&c, names[i], &s) == 0 && (s.conf.is_default || n == 1)) {
            snprintf(buf, len, "%s", names[i]);
            rc = 0;
            break;
        }
    net_ctx_fini(&c);
    return rc;
}

int vif_script_path(char *buf, size_t len)
{
    char exe[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n > 0) {
        exe[n] = 0;
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;            /* PREFIX/sbin -> PREFIX/lib/hvmd/vif-hvmctl */
            slash = strrchr(exe, '/');
            if (slash) {
                *slash = 0;
                if ((size_t)snprintf(buf, len, "%s/lib/hvmd/vif-hvmctl", exe) < len &&
                    access(buf, X_OK) == 0)
                    return 0;
            }
        }
    }
    if ((size_t)snprintf(buf, len, "/usr/lib/hvmd/vif-hvmctl") >= len)
        return -ENAMETOOLONG;
    return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

int vif_parse_ips(const char *s, struct vif_req *r, char *why, size_t whylen)
{
    char tmp[512], *save = NULL, *tok;

    if (strlen(s) >= sizeof(tmp)) {
        snprintf(why, whylen, "ip list too long");
        return -EINVAL;
    }
    strcpy(tmp, s);
    for (tok = strtok_r(tmp, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        char *slash = strchr(tok, '/');
        if (slash)
            *slash = 0;
        if (r->nips >= NET_MAX_IPS) {
            snprintf(why, whylen, "more than %d addresses", NET_MAX_IPS);
            return -E2BIG;
        }
        if (net_parse_ip4(tok, &r->ips[r->nips]) < 0) {
            snprintf(why, whylen, "'%s' is not an IPv4 address", tok);
            return -EINVAL;
        }
        r->nips++;
    }
    return 0;
}

/* which network: named, or the bridge of a vif spec, or the default one */
static int pick_network(struct net_ctx *c, const struct vif_req *r, struct net_state *s,
                        bool *foreign)
{
    char def[IFNAMSIZ];
    struct nl_link l;

    *foreign = false;
    if (r->network[0]) {
        if (net_state_read(c, r->network, s) == 0)
            return 0;
        return net_fail(c, -ENOENT, "vif %s: network %s is not up (hvmctl network up %s)",
                        r->ifname, r->network, r->network);
    }
    if (r->bridge_hint[0]) {
        if (net_state_read(c, r->bridge_hint, s) == 0)
            return 0;
        /* a bridge hvmctl did not make: join it as vif-bridge would */
        if (nl_link_get(c, r->bridge_hint, 0, &l) == 0 && !strcmp(l.kind, "bridge")) {
            memset(s, 0, sizeof(*s));
            snprintf(s->conf.name, sizeof(s->conf.name), "%s", r->bridge_hint);
            s->conf.mode = NET_MODE_BRIDGE;
            s->bridge_ifindex = l.ifindex;
            *foreign = true;
            return 0;
        }
    }
    if (net_default_network(def, sizeof(def), c->rundir) == 0 && net_state_read(c, def, s) == 0) {
        if (r->bridge_hint[0])
            net_note(c, "vif %s: no bridge or network %s; using the default network %s",
                     r->ifname, r->bridge_hint, def);
        return 0;
    }
    if (r->bridge_hint[0])
        return net_fail(c, -ENOENT, "vif %s: could not find bridge device %s, and no hvmctl "
                        "network is up (hvmctl network up)", r->ifname, r->bridge_hint);
    return net_fail(c, -ENOENT, "vif %s: no hvmctl network is up (hvmctl network up)", r->ifname);
}

static bool in_subnet(const struct net_conf *n, struct in_addr a)
{
    uint32_t m = net_mask(n->plen);

    return (ntohl(a.s_addr) & m) == (ntohl(n->gw.s_addr) & m);
}

static int attach_bridge(struct net_ctx *c, const struct vif_req *r, const struct net_state *s,
                         const struct nl_link *l, struct vif_state *v)
{
    struct nl_link br;
    struct nl_link_change ch = NL_LINK_KEEP;
    unsigned int mtu;
    int rc;

    if ((rc = nl_link_get(c, s->conf.name, 0, &br)) < 0)
        return net_fail(c, rc, "vif %s: bridge %s: %s", r->ifname, s->conf.name,
                        rc == -ENODEV ? "no such device" : strerror(-rc));
    if (l->master && l->master != br.ifindex)
        return net_fail(c, -EBUSY, "vif %s is already a port of another bridge", r->ifname);
    mtu = r->mtu ? r->mtu : br.mtu;
    if (s->conf.mode == NET_MODE_NAT && r->has_mac && r->nips) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &r->ips[0], a, sizeof(a));
        if (!in_subnet(&s->conf, r->ips[0]) || r->ips[0].s_addr == s->conf.gw.s_addr)
            return net_fail(c, -EINVAL, "vif %s: address %s is not a guest address of network "
                            "%s's subnet", r->ifname, a, s->conf.name);
    }
    /* down while the MAC changes (a tap or veth refuses a new MAC only while up on some
     * drivers), then MTU, port, up */
    ch.up = 0;
    if ((rc = nl_link_set(c, l->ifindex, &ch)) < 0)
        goto fail;
    ch = (struct nl_link_change)NL_LINK_KEEP;
    if (!l->has_mac || memcmp(l->mac, host_mac, 6))
        ch.mac = host_mac;
    if (mtu != l->mtu)
        ch.mtu = mtu;
    ch.master = br.ifindex;
    if ((rc = nl_link_set(c, l->ifindex, &ch)) < 0)
        goto fail;
    ch = (struct nl_link_change)NL_LINK_KEEP;
    ch.up = 1;
    if ((rc = nl_link_set(c, l->ifindex, &ch)) < 0)
        goto fail;
    if (s->conf.mode == NET_MODE_NAT && s->conf.dhcp && r->has_mac && r->nips) {
        if ((rc = net_dhcp_host_add(c, s->conf.name, r->mac, r->ips[0])) < 0)
            goto undo;
        v->dhcp_host = true;
    }
    return 0;
fail:
    rc = net_fail(c, rc, "vif %s: cannot join bridge %s: %s", r->ifname, s->conf.name,
                  strerror(-rc));
undo:
    ch = (struct nl_link_change)NL_LINK_KEEP;
    ch.master = 0;
    ch.up = (l->flags & IFF_UP) ? 1 : 0;
    ch.mtu = l->mtu;
    ch.mac = l->has_mac ? l->mac : NULL;
    nl_link_set(c, l->ifindex, &ch);
    return rc;
}

static void host_route(struct nl_route *rt, int oif, struct in_addr dst, struct in_addr src,
                       bool tap)
{
    memset(rt, 0, sizeof(*rt));
    rt->family = AF_INET;
    rt->dst_len = 32;
    memcpy(rt->dst, &dst, 4);
    memcpy(rt->prefsrc, &src, 4);
    rt->has_prefsrc = true;
    rt->priority = tap ? 1 : 2;
    rt->has_priority = true;
    rt->protocol = NET_RTPROT;
    rt->scope = RT_SCOPE_LINK;
    rt->type = RTN_UNICAST;
    rt->table = RT_TABLE_MAIN;
    rt->oif = oif;
}

static void dom0_addr(struct nl_addr *a, struct in_addr ip)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET;
    a->plen = 32;
    memcpy(a->local, &ip, 4);
    a->has_local = true;
    a->valid = a->pref = 0xffffffffu;
}

static void route_undo(struct net_ctx *c, const struct nl_link *l, const struct vif_state *v,
                       int nroutes)
{
    struct nl_route rt;
    struct nl_addr a;
    int i;

    for (i = 0; i < nroutes; i++) {
        host_route(&rt, l->ifindex, v->ips[i], v->dom0ip, v->tap);
        nl_route_del(c, &rt);
    }
    dom0_addr(&a, v->dom0ip);
    nl_addr_del(c, l->ifindex, &a);
}

static int attach_route(struct net_ctx *c, const struct vif_req *r, const struct net_state *s,
                        const struct nl_link *l, struct vif_state *v)
{
    struct nl_link nic;
    struct nl_link_change ch = NL_LINK_KEEP;
    struct nl_route rt;
    struct nl_addr a;
    char path[128], txt[INET_ADDRSTRLEN];
    int rc, i;

    if (!r->nips)
        return net_fail(c, -EINVAL, "vif %s: route mode needs the guest's address (ip= in the "
                        "vif spec, or --ip)", r->ifname);
    if (l->master)
        return net_fail(c, -EBUSY, "vif %s is a port of a bridge; a routed vif cannot be",
                        r->ifname);
    if ((rc = nl_link_get(c, s->conf.netdev, 0, &nic)) < 0 ||
        (rc = net_first_ip4(c, nic.ifindex, &v->dom0ip, NULL)) < 0)
        return net_fail(c, rc, "vif %s: network %s: netdev %s has no IPv4 address to route "
                        "through", r->ifname, s->conf.name, s->conf.netdev);
    ch.up = 1;
    if (!l->has_mac || memcmp(l->mac, host_mac, 6))
        ch.mac = host_mac;
    if (r->mtu && r->mtu != l->mtu)
        ch.mtu = r->mtu;
    if ((rc = nl_link_set(c, l->ifindex, &ch)) < 0)
        return net_fail(c, rc, "vif %s: cannot bring it up: %s", r->ifname, strerror(-rc));
    dom0_addr(&a, v->dom0ip);
    rc = nl_addr_add(c, l->ifindex, &a);
    if (rc < 0 && rc != -EEXIST) {
        rc = net_fail(c, rc, "vif %s: cannot give it dom0's address: %s", r->ifname, strerror(-rc));
        goto undo;
    }
    snprintf(path, sizeof(path), "net/ipv4/conf/%s/proxy_arp", l->name);
    if ((rc = net_sysctl_set(path, "1")) < 0) {
        rc = net_fail(c, rc, "vif %s: cannot turn on proxy ARP: %s", r->ifname, strerror(-rc));
        route_undo(c, l, v, 0);
        goto undo;
    }
    for (i = 0; i < r->nips; i++) {
        host_route(&rt, l->ifindex, r->ips[i], v->dom0ip, v->tap);
        if ((rc = nl_route_add(c, &rt)) < 0) {
            inet_ntop(AF_INET, &r->ips[i], txt, sizeof(txt));
            rc = net_fail(c, rc, "vif %s: cannot add the route to %s: %s%s", r->ifname, txt,
                          strerror(-rc), rc == -EEXIST ? " (another vif routes it)" : "");
            route_undo(c, l, v, i);
            goto undo;
        }
    }
    return 0;
undo:
    ch = (struct nl_link_change)NL_LINK_KEEP;
    ch.up = (l->flags & IFF_UP) ? 1 : 0;
    ch.mac = l->has_mac ? l->mac : NULL;
    if (r->mtu && r->mtu != l->mtu)
        ch.mtu = l->mtu;
    nl_link_set(c, l->ifindex, &ch);
    return rc;
}

int vif_attach(struct net_ctx *c, const struct vif_req *r)
{
    struct net_state *s = calloc(1, sizeof(*s));
    struct vif_state v, old;
    struct nl_link l;
    bool foreign;
    size_t nlen;
    int rc;

    if (!s)
        return -ENOMEM;
    rc = nl_link_get(c, r->ifname, 0, &l);
    if (rc < 0) {
        rc = net_fail(c, rc, "vif %s: %s", r->ifname,
                      rc == -ENODEV ? "no such device" : strerror(-rc));
        goto out;
    }
    if (!strcmp(l.kind, "bridge") || (l.flags & IFF_LOOPBACK)) {
        rc = net_fail(c, -EINVAL, "vif %s is a %s, not a guest's vif or tap", r->ifname,
                      (l.flags & IFF_LOOPBACK) ? "loopback device" : "bridge");
        goto out;
    }
    if (vif_state_read(c, r->ifname, &old) == 0) {
        if (!strcmp(old.network, r->network[0] ? r->network : old.network)) {
            net_note(c, "vif %s is already in network %s", r->ifname, old.network);
            rc = 0;
        } else {
            rc = net_fail(c, -EBUSY, "vif %s is already in network %s", r->ifname, old.network);
        }
        goto out;
    }
    if ((rc = pick_network(c, r, s, &foreign)) < 0)
        goto out;
    memset(&v, 0, sizeof(v));
    snprintf(v.ifname, sizeof(v.ifname), "%s", r->ifname);
    snprintf(v.network, sizeof(v.network), "%s", s->conf.name);
    v.mode = s->conf.mode;
    nlen = strlen(r->ifname);
    v.tap = r->tap >= 0 ? r->tap : (!strcmp(l.kind, "tun") ||
                                    (nlen > 4 && !strcmp(r->ifname + nlen - 4, "-emu")));
    v.has_mac = r->has_mac;
    memcpy(v.mac, r->mac, 6);
    memcpy(v.ips, r->ips, sizeof(v.ips));
    v.nips = r->nips;
    if (s->conf.mode == NET_MODE_ROUTE)
        rc = attach_route(c, r, s, &l, &v);
    else
        rc = attach_bridge(c, r, s, &l, &v);
    if (rc < 0)
        goto out;
    if ((rc = vif_state_write(c, &v)) < 0) {
        vif_detach(c, r->ifname);
        goto out;
    }
    net_note(c, "vif %s joined network %s (%s%s)", r->ifname, s->conf.name,
             net_mode_name(s->conf.mode), foreign ? ", a bridge hvmctl did not make" : "");
out:
    free(s);
    return rc;
}

int vif_detach(struct net_ctx *c, const char *ifname)
{
    struct vif_state v;
    struct nl_link l;
    struct nl_link_change ch = NL_LINK_KEEP;
    bool have_link = nl_link_get(c, ifname, 0, &l) == 0;
    int rc = vif_state_read(c, ifname, &v);

    if (rc < 0) {
        if (rc == -ENOENT)
            return net_fail(c, -ENOENT, "vif %s is not in any hvmctl network", ifname);
        return net_fail(c, rc, "vif %s: damaged state file in %s/vif", ifname, c->rundir);
    }
    if (v.mode == NET_MODE_ROUTE) {
        if (have_link) {
            route_undo(c, &l, &v, v.nips);
            ch.up = 0;
            nl_link_set(c, l.ifindex, &ch);
        }
    } else {
        if (have_link && l.master) {
            ch.master = 0;
            ch.up = 0;
            nl_link_set(c, l.ifindex, &ch);
        }
        if (v.dhcp_host && v.has_mac)
            net_dhcp_host_del(c, v.network, v.mac);
    }
    vif_state_remove(c, ifname);
    net_note(c, "vif %s left network %s", ifname, v.network);
    return 0;
}

/* ---- hvmctl vif ... ---- */

static void vif_usage(FILE *f)
{
    fputs("usage: hvmctl vif add IFNAME [--network NAME] [--ip ADDR]... [--mac MAC] [--mtu N]\n"
          "                                [--tap|--vif]\n"
          "       hvmctl vif remove IFNAME\n"
          "       hvmctl vif list\n"
          "       hvmctl vif hotplug online|offline|add|remove [type_if=vif|tap]\n"
          "\n"
          "Plumb a guest's network device into a network that `hvmctl network up` made:\n"
          "  add      IFNAME (a vifD.N of netback, a vifD.N-emu tap of a device model, or any\n"
          "           device playing one) joins the network (default: the default network).\n"
          "           bridge/nat: becomes a bridge port with MAC fe:ff:ff:ff:ff:ff and the\n"
          "           bridge's MTU; in a nat network --mac and --ip make a fixed DHCP lease.\n"
          "           route: gets dom0's address as a /32, proxy ARP, and a host route to each\n"
          "           --ip (required).\n"
          "  remove   undo what add did (the device itself stays)\n"
          "  list     the vifs hvmctl plumbed, with network and addresses\n"
          "  hotplug  what libxl runs as a vif script (vif-hvmctl): see hvmctl(1)\n"
          "Options:\n"
          "  --network NAME   the network to join          --ip ADDR  the guest's address\n"
          "  --mac MAC        the guest's MAC (with --ip: a fixed DHCP lease in a nat network)\n"
          "  --mtu N          MTU of the device (default: the bridge's)\n"
          "  --tap, --vif     what IFNAME is (default: a tun device or a name ending -emu is a tap)\n"
          "  --run-dir DIR    state directory (default $HVMD_RUN_DIR or /run/hvmd)\n", f);
}

static int vif_list(struct net_ctx *c)
{
    char names[256][IFNAMSIZ], m[18], a[INET_ADDRSTRLEN];
    struct vif_state v;
    int n = vif_state_list(c, names, 256), i, j;

    printf("%-16s %-16s %-7s %-4s %-18s %s\n", "VIF", "NETWORK", "MODE", "TYPE", "GUEST MAC",
           "ADDRESSES");
    for (i = 0; i < n; i++) {
        if (vif_state_read(c, names[i], &v) < 0)
            continue;
        if (v.has_mac)
            net_format_mac(v.mac, m);
        printf("%-16s %-16s %-7s %-4s %-18s", v.ifname, v.network, net_mode_name(v.mode),
               v.tap ? "tap" : "vif", v.has_mac ? m : "-");
        for (j = 0; j < v.nips; j++)
            printf("%s%s", j ? "," : " ", inet_ntop(AF_INET, &v.ips[j], a, sizeof(a)));
        printf("\n");
    }
    return 0;
}

int vif_cmd_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "network", required_argument, NULL, 'n' }, { "ip", required_argument, NULL, 'i' },
        { "mac", required_argument, NULL, 'm' },     { "mtu", required_argument, NULL, 'u' },
        { "tap", no_argument, NULL, 't' },           { "vif", no_argument, NULL, 'v' },
        { "run-dir", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vif_req r;
    struct net_ctx c;
    const char *rundir = NULL, *sub;
    char why[200];
    int ch, rc;

    if (argc >= 2 && !strcmp(argv[1], "hotplug"))
        return vif_hotplug_main(argc - 1, argv + 1);
    memset(&r, 0, sizeof(r));
    r.tap = -1;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (!net_valid_ifname(optarg)) {
                ts_err("vif: '%s' is not a network name", optarg);
                return 2;
            }
            snprintf(r.network, sizeof(r.network), "%s", optarg);
            break;
        case 'i':
            if (vif_parse_ips(optarg, &r, why, sizeof(why)) < 0) {
                ts_err("vif: --ip %s: %s", optarg, why);
                return 2;
            }
            break;
        case 'm':
            if (net_parse_mac(optarg, r.mac, why, sizeof(why)) < 0) {
                ts_err("vif: invalid MAC: %s", why);
                return 2;
            }
            r.has_mac = true;
            break;
        case 'u':
            if (net_parse_uint(optarg, 65535, &r.mtu) < 0 || r.mtu < 68) {
                ts_err("vif: --mtu %s: want 68 to 65535", optarg);
                return 2;
            }
            break;
        case 't': r.tap = 1; break;
        case 'v': r.tap = 0; break;
        case 'r': rundir = optarg; break;
        case 'h': vif_usage(stdout); return 0;
        default: vif_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        vif_usage(stderr);
        return 2;
    }
    sub = argv[optind++];
    if (!strcmp(sub, "list")) {
        if (net_ctx_init(&c, rundir, false) < 0)
            return 1;
        rc = vif_list(&c);
        net_ctx_fini(&c);
        return rc ? 1 : 0;
    }
    if (strcmp(sub, "add") && strcmp(sub, "remove")) {
        ts_err("vif: unknown command '%s'", sub);
        vif_usage(stderr);
        return 2;
    }
    if (optind != argc - 1) {
        ts_err("vif %s: want one IFNAME", sub);
        return 2;
    }
    if (!net_valid_ifname(argv[optind])) {
        ts_err("vif: '%s' is not a valid interface name", argv[optind]);
        return 2;
    }
    snprintf(r.ifname, sizeof(r.ifname), "%s", argv[optind]);
    if (net_ctx_init(&c, rundir, true) < 0)
        return 1;
    if ((rc = net_state_lock(&c)) == 0) {
        if (!strcmp(sub, "add")) {
            rc = vif_attach(&c, &r);
        } else {
            rc = vif_detach(&c, r.ifname);
        }
    }
    net_ctx_fini(&c);
    return rc < 0 ? 1 : 0;
}

/* ---- the libxl hotplug entry ---- */

bool vif_is_hotplug_call(int argc, char **argv)
{
    static const char *cmds[] = { "online", "offline", "add", "remove" };
    size_t i;

    if (argc < 2 || !getenv("XENBUS_PATH"))
        return false;
    for (i = 0; i < 4; i++)
        if (!strcmp(argv[1], cmds[i]))
            return true;
    return false;
}

static char *xs_get(struct xs_handle *xs, const char *base, const char *key)
{
    char path[512];
    unsigned int len;

    snprintf(path, sizeof(path), "%s/%s", base, key);
    return xs_read(xs, XBT_NULL, path, &len);
}

static void xs_put(struct xs_handle *xs, const char *base, const char *key, const char *val)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", base, key);
    if (!xs_write(xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
        ts_err("vif-hvmctl: cannot write %s: %s", path, strerror(errno));
}

int vif_hotplug_main(int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : "", *xbp = getenv("XENBUS_PATH");
    const char *type_if = "vif", *dev;
    struct xs_handle *xs = NULL;
    struct net_ctx c;
    struct vif_req r;
    char why[200], *val;
    bool up;
    int i, rc = 0;

    for (i = 2; i < argc; i++)
        if (!strncmp(argv[i], "type_if=", 8))
            type_if = argv[i] + 8;
    if (getenv("type_if") && argc < 3)
        type_if = getenv("type_if");
    if (strcmp(cmd, "online") && strcmp(cmd, "offline") && strcmp(cmd, "add") &&
        strcmp(cmd, "remove")) {
        ts_err("vif-hvmctl: invalid command '%s' (want online, offline, add or "
               "remove, as libxl calls a vif script)", cmd);
        return 1;
    }
    if (strcmp(type_if, "vif") && strcmp(type_if, "tap")) {
        ts_err("vif-hvmctl: unknown interface type %s", type_if);
        return 1;
    }
    /* online/offline are the vif's events, add/remove the tap's (as vif-common.sh) */
    if (!strcmp(type_if, "vif") ? (!strcmp(cmd, "add") || !strcmp(cmd, "remove"))
                                : (!strcmp(cmd, "online") || !strcmp(cmd, "offline")))
        return 0;
    up = !strcmp(cmd, "online") || !strcmp(cmd, "add");
    dev = !strcmp(type_if, "vif") ? getenv("vif") : getenv("INTERFACE");
    if (!xbp || !*xbp) {
        ts_err("vif-hvmctl: XENBUS_PATH is not set (libxl sets it)");
        return 1;
    }
    if (!dev || !net_valid_ifname(dev)) {
        ts_err("vif-hvmctl: %s is not set to an interface name (libxl sets it)",
               !strcmp(type_if, "vif") ? "vif" : "INTERFACE");
        return 1;
    }
    xs = xs_open(0);
    if (!xs) {
        ts_err("vif-hvmctl: cannot open xenstore: %s", strerror(errno));
        return 1;
    }
    memset(&r, 0, sizeof(r));
    r.tap = !strcmp(type_if, "tap");
    snprintf(r.ifname, sizeof(r.ifname), "%s", dev);
    if (net_ctx_init(&c, NULL, true) < 0) {
        rc = -EIO;
        goto report;
    }
    if (!strcmp(type_if, "vif") && (val = xs_get(xs, xbp, "vifname"))) {
        /* a vif spec's vifname=: netback's vifD.N is renamed, as vif-common.sh does */
        struct nl_link l;
        if (*val && net_valid_ifname(val)) {
            if (up && nl_link_get(&c, val, 0, &l) == -ENODEV &&
                nl_link_get(&c, dev, 0, &l) == 0) {
                struct nl_link_change ch = NL_LINK_KEEP;
                ch.name = val;
                ch.up = 0;
                if ((rc = nl_link_set(&c, l.ifindex, &ch)) < 0) {
                    net_fail(&c, rc, "vif %s: cannot rename it to %s: %s", dev, val, strerror(-rc));
                    free(val);
                    goto report;
                }
            }
            snprintf(r.ifname, sizeof(r.ifname), "%s", val);
        }
        free(val);
    }
    if ((rc = net_state_lock(&c)) < 0)
        goto report;
    if (!up) {
        c.quiet = true;           /* the device may be gone already: nothing to report */
        vif_detach(&c, r.ifname);
        rc = 0;
        goto done;
    }
    if ((val = xs_get(xs, xbp, "bridge"))) {
        if (net_valid_ifname(val))
            snprintf(r.bridge_hint, sizeof(r.bridge_hint), "%s", val);
        free(val);
    }
    if ((val = xs_get(xs, xbp, "ip"))) {
        if (*val && vif_parse_ips(val, &r, why, sizeof(why)) < 0) {
            rc = net_fail(&c, -EINVAL, "vif %s: ip '%s': %s", r.ifname, val, why);
            free(val);
            goto report;
        }
        free(val);
    }
    if ((val = xs_get(xs, xbp, "mac"))) {
        r.has_mac = net_parse_mac(val, r.mac, why, sizeof(why)) == 0;
        free(val);
    }
    if ((val = xs_get(xs, xbp, "mtu"))) {
        if (net_parse_uint(val, 65535, &r.mtu) < 0 || r.mtu < 68)
            r.mtu = 0;
        free(val);
    }
    rc = vif_attach(&c, &r);
report:
    if (rc < 0) {
        xs_put(xs, xbp, "hotplug-error", c.err[0] ? c.err : "vif-hvmctl failed");
        xs_put(xs, xbp, "hotplug-status", "error");
    } else if (!strcmp(cmd, "online")) {
        xs_put(xs, xbp, "hotplug-status", "connected");
    }
done:
    net_ctx_fini(&c);
    xs_close(xs);
    return rc < 0 ? 1 : 0;
}

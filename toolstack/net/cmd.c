/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: the command line (up, down, show, check). */
#include "toolstack/net/net.h"

#include "toolstack/net/show.h"
#include "toolstack/net/topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: hvmctl network up [NAME...]      bring networks of the config up (default: all)\n"
          "       hvmctl network down [NAME...]    take them down (default: all that are up)\n"
          "       hvmctl network show [NAME...]    bridges, ports, STP, learned MACs, routes, NAT\n"
          "       hvmctl network check             validate the config file only\n"
          "Options:\n"
          "  -c, --config FILE  network config (default $HVMD_NETWORK_CONF or " NET_DEFAULT_CONF ")\n"
          "  --run-dir DIR      state directory (default $HVMD_RUN_DIR or " NET_DEFAULT_RUNDIR ")\n"
          "  -f, --force        down: also when guests' vifs still use the network\n"
          "\n"
          "The config has one [NAME] section per network:\n"
          "  [xenbr0]                      bridge mode: the bridge takes netdev as its port, with\n"
          "  mode = bridge                 its MAC, addresses and routes; down gives them back\n"
          "  netdev = eth0                 (default: the device of the default route)\n"
          "  stp = off                     spanning tree (default off)\n"
          "  forward-delay = 0             seconds (default 0; 2-30 with stp on, default 15)\n"
          "  ageing = 300                  seconds a learned MAC is kept\n"
          "  default = yes                 the network vifs join when none is named\n"
          "\n"
          "  [routed]                      route mode: forwarding and proxy ARP on netdev; each\n"
          "  mode = route                  vif gets a host route to its guest's ip=\n"
          "  netdev = eth0\n"
          "\n"
          "  [nat0]                        nat mode: an internal bridge, masquerading through\n"
          "  mode = nat                    nftables (table ip hvmctl), DHCP by dnsmasq\n"
          "  subnet = 10.0.100.1/24        dom0's address on the bridge / the guests' subnet\n"
          "  netdev = eth0                 outgoing device (default: any but the bridge)\n"
          "  dhcp = on                     dhcp-range = FIRST LAST (default: upper half)\n"
          "  lease = 3600                  dns = on (dnsmasq forwards DNS for the guests)\n"
          "  forward = tcp 8022 10.0.100.50 22   a port of dom0 forwarded to a guest\n"
          "See hvmctl(1) and toolstack/NETWORK.md.\n", f);
}

static int load(const char *path, struct net_config *cfg)
{
    char err[4096];
    int rc = net_conf_load(path, cfg, err, sizeof(err));

    if (rc < 0)
        ts_err("%s", err);
    return rc;
}

/* check: what the host can tell before anything changes: each network's netdev exists (when
 * named), and a NAT network's address is not already held by another interface. Every problem
 * is printed; the number of them. (A network that is up already holds its own address on its
 * own bridge: that is not a problem.) */
static int host_checks(const struct net_config *cfg)
{
    struct ifaddrs *ifa = NULL, *i;
    int k, bad = 0;

    if (getifaddrs(&ifa) < 0)
        ifa = NULL;
    for (k = 0; k < cfg->n; k++) {
        const struct net_conf *n = &cfg->net[k];
        char a[INET_ADDRSTRLEN];

        if (n->netdev[0] && !if_nametoindex(n->netdev)) {
            fprintf(stderr, "%s:%d: [%s]: netdev %s: no such network interface on this host\n",
                    cfg->file, n->line, n->name, n->netdev);
            bad++;
        }
        if (n->mode != NET_MODE_NAT || !n->plen)
            continue;
        inet_ntop(AF_INET, &n->gw, a, sizeof(a));
        for (i = ifa; i; i = i->ifa_next) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;

            if (!sin || sin->sin_family != AF_INET || !strcmp(i->ifa_name, n->name))
                continue;
            if (sin->sin_addr.s_addr == n->gw.s_addr) {
                fprintf(stderr, "%s:%d: [%s]: subnet %s/%d: %s is already in use on %s\n",
                        cfg->file, n->line, n->name, a, n->plen, a, i->ifa_name);
                bad++;
            }
        }
    }
    if (ifa)
        freeifaddrs(ifa);
    return bad;
}

static int cmd_up(struct net_ctx *c, const struct net_config *cfg, char **names, int nnames)
{
    const struct net_conf *sel[NET_MAX_NETS];
    bool did[NET_MAX_NETS] = { false };
    int nsel = 0, i, rc;

    if (nnames == 0) {
        for (i = 0; i < cfg->n; i++)
            sel[nsel++] = &cfg->net[i];
    } else {
        for (i = 0; i < nnames && nsel < NET_MAX_NETS; i++) {
            const struct net_conf *n = net_conf_find(cfg, names[i]);
            if (!n)
                return net_fail(c, -ENOENT, "no network %s in %s", names[i], cfg->file);
            sel[nsel++] = n;
        }
    }
    /* check everything before changing anything */
    for (i = 0; i < nsel; i++) {
        rc = net_topo_check(c, sel[i]);
        if (rc < 0 && rc != -EALREADY)
            return rc;
    }
    for (i = 0; i < nsel; i++) {
        rc = net_topo_up(c, sel[i]);
        if (rc == -EALREADY) {
            net_note(c, "network %s is already up", sel[i]->name);
            continue;
        }
        if (rc < 0) {
            /* all or nothing: take down what this command brought up */
            char keep[sizeof(c->err)];
            memcpy(keep, c->err, sizeof(keep));
            while (--i >= 0)
                if (did[i])
                    net_topo_down(c, sel[i]->name, true);
            memcpy(c->err, keep, sizeof(keep));
            return rc;
        }
        did[i] = true;
    }
    return 0;
}

static int cmd_down(struct net_ctx *c, char **names, int nnames, bool force)
{
    char up[NET_MAX_NETS * 2][IFNAMSIZ];
    int n, i, rc = 0, r;

    if (nnames == 0) {
        n = net_state_list(c, up, NET_MAX_NETS * 2);
        if (n == 0) {
            net_note(c, "no hvmctl network is up");
            return 0;
        }
    } else {
        for (n = 0; n < nnames && n < NET_MAX_NETS * 2; n++) {
            struct net_state s;
            if (!net_valid_ifname(names[n]) || net_state_read(c, names[n], &s) < 0)
                return net_fail(c, -ENOENT, "network %s is not up", names[n]);
            snprintf(up[n], IFNAMSIZ, "%s", names[n]);
        }
    }
    /* in use anywhere: refuse before taking any down */
    if (!force) {
        for (i = 0; i < n; i++) {
            struct net_state s;
            char users[64][IFNAMSIZ];
            int k = 0;
            if (net_state_read(c, up[i], &s) < 0)
                continue;
            if (s.conf.mode == NET_MODE_ROUTE) {
                k = net_network_vifs(c, up[i], users, 64);
            } else {
                struct nl_link br;
                if (nl_link_get(c, up[i], 0, &br) == 0)
                    k = net_bridge_ports(c, br.ifindex, s.conf.mode == NET_MODE_BRIDGE
                                                         ? s.conf.netdev : NULL, users, 64);
            }
            if (k > 0)
                return net_topo_down(c, up[i], false);   /* says who uses it */
        }
    }
    for (i = 0; i < n; i++)
        if ((r = net_topo_down(c, up[i], force)) < 0)
            rc = r;
    return rc;
}

int net_cmd_main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "run-dir", required_argument, NULL, 'r' },
        { "force", no_argument, NULL, 'f' },        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf = getenv("HVMD_NETWORK_CONF"), *rundir = NULL, *sub;
    struct net_config *cfg = NULL;
    struct net_ctx c;
    bool force = false;
    int ch, rc;

    if (!conf || !*conf)
        conf = NET_DEFAULT_CONF;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf = optarg; break;
        case 'r': rundir = optarg; break;
        case 'f': force = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    sub = argv[optind++];
    if (strcmp(sub, "up") && strcmp(sub, "down") && strcmp(sub, "show") && strcmp(sub, "check")) {
        ts_err("network: unknown command '%s'", sub);
        usage(stderr);
        return 2;
    }
    if (!strcmp(sub, "up") || !strcmp(sub, "check")) {
        cfg = calloc(1, sizeof(*cfg));
        if (!cfg)
            return 1;
        if (load(conf, cfg) < 0) {
            free(cfg);
            return 1;
        }
        if (!strcmp(sub, "check")) {
            int bad = host_checks(cfg);

            if (bad)
                fprintf(stderr, "%s: %d problem%s on this host\n", conf, bad, bad == 1 ? "" : "s");
            else
                printf("%s: %d network%s, valid\n", conf, cfg->n, cfg->n == 1 ? "" : "s");
            free(cfg);
            return bad ? 1 : 0;
        }
    }
    if (net_ctx_init(&c, rundir, true) < 0) {
        free(cfg);
        return 1;
    }
    if (!strcmp(sub, "show")) {
        rc = net_show(&c, argv + optind, argc - optind);
    } else if ((rc = net_state_lock(&c)) == 0) {
        if (!strcmp(sub, "up"))
            rc = cmd_up(&c, cfg, argv + optind, argc - optind);
        else
            rc = cmd_down(&c, argv + optind, argc - optind, force);
    }
    net_ctx_fini(&c);
    free(cfg);
    return rc < 0 ? 1 : 0;
}

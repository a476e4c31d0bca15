/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: the dom0 side of guest networking (bridge, route and NAT topologies, vifs).
 *
 * What the network-bridge / vif-bridge / vif-route / vif-nat scripts of xend did with ip, brctl and
 * iptables, done here through rtnetlink (libmnl) and nftables (libnftables). The layers:
 *   util.c       parsing and formatting: MAC, IPv4 prefixes, interface names, vif names
 *   conf.c       /etc/hvmd/network.conf, fully validated before anything is touched
 *   nl.c         rtnetlink: links, bridges, addresses, routes, bridge FDB
 *   state.c      the run directory: lock, one state file per network that is up, one per vif
 *   nft.c        the `table ip hvmctl` NAT ruleset
 *   dhcp.c       dnsmasq for NAT networks
 *   topo.c       network up / down for each mode, with rollback
 *   show.c       network show
 *   cmd.c        the `hvmctl network` command line
 *   vif.c        vif add / remove and the libxl hotplug entry (vif-hvmctl)
 * Errors follow ts.h: negative errno; the message for a person is kept in ctx->err (and printed
 * on stderr unless ctx->quiet) by net_fail, which is ts_fail on the context.
 */
#ifndef HVMCTL_NET_H
#define HVMCTL_NET_H

#include "toolstack/ts.h"

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_DEFAULT_CONF   "/etc/hvmd/network.conf"
#define NET_DEFAULT_RUNDIR "/run/hvmd"
#define NET_DEFAULT_DNSMASQ "/usr/sbin/dnsmasq"
/* Routes hvmctl adds itself (route mode host routes) carry this rtnetlink protocol number, so
 * `show` and `down` find exactly them (`ip route show proto 175`). */
#define NET_RTPROT 175
/* Bridges hvmctl made carry this interface alias. */
#define NET_ALIAS_PREFIX "hvmctl:"
/* The dom0 side of a vif or tap: the numerically largest unicast, locally administered MAC, so a
 * bridge never takes it as its own address (what Xen's scripts and netback use). */
#define NET_VIF_HOST_MAC { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff }

#define NET_MAX_NETS 16
#define NET_MAX_FWD  32
#define NET_MAX_IPS  8

enum net_mode { NET_MODE_NONE = 0, NET_MODE_BRIDGE, NET_MODE_ROUTE, NET_MODE_NAT };

struct net_fwd {                 /* a NAT port forward: dom0's PORT to guest TO:TO_PORT */
    uint8_t proto;               /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t port;
    struct in_addr to;
    uint16_t to_port;
};

/* One network of network.conf (one [section]). */
struct net_conf {
    char name[IFNAMSIZ];         /* bridge name in bridge and nat mode, a label in route mode */
    enum net_mode mode;
    char netdev[IFNAMSIZ];       /* "" = the device of the default route */
    bool is_default;
    /* bridge */
    bool stp;
    unsigned int fwd_delay;      /* seconds */
    unsigned int ageing;         /* seconds */
    unsigned int mtu;            /* 0 = the netdev's (bridge) or 1500 (nat) */
    /* nat */
    struct in_addr gw;           /* dom0's address on the NAT bridge */
    int plen;                    /* prefix length of the NAT subnet */
    bool dhcp, dns;
    struct in_addr dhcp_lo, dhcp_hi;
    unsigned int lease;          /* seconds */
    struct net_fwd fwd[NET_MAX_FWD];
    int nfwd;
    char dnsmasq[PATH_MAX];
    char boot_dir[PATH_MAX];     /* TFTP root served by its dnsmasq ("": no TFTP) */
    char boot_file[256];         /* DHCP boot file name, relative to boot_dir ("": none) */
    /* where it was read */
    int line;
};

struct net_config {
    char file[PATH_MAX];
    struct net_conf net[NET_MAX_NETS];
    int n;
};

struct mnl_socket;

struct net_ctx {
    struct mnl_socket *nl;
    unsigned int seq, portid;
    char rundir[3072];           /* leaves room for the file names under it in a PATH_MAX */
    int lockfd;
    bool quiet;                  /* keep errors in err only (unit tests, hotplug probing) */
    char err[1024];
};

/* ctx: open netlink (if want_nl) and remember the run directory (NULL: $HVMD_RUN_DIR or
 * /run/hvmd). */
int net_ctx_init(struct net_ctx *c, const char *rundir, bool want_nl);
void net_ctx_fini(struct net_ctx *c);
/* Record (and print, unless quiet) an error for a person; returns err (negative errno). */
int net_fail(struct net_ctx *c, int err, const char *fmt, ...) TS_PRINTF(3, 4);
/* Print a note (a change made, a warning) on stderr unless quiet. */
void net_note(struct net_ctx *c, const char *fmt, ...) TS_PRINTF(2, 3);

/* ---- util.c ---- */
int net_parse_mac(const char *s, uint8_t mac[6], char *why, size_t whylen);
void net_format_mac(const uint8_t mac[6], char buf[18]);
void net_random_mac(uint8_t mac[6]);       /* 00:16:3e:xx:xx:xx as libxl makes them */
int net_parse_prefix4(const char *s, struct in_addr *a, int *plen);   /* a.b.c.d/n */
int net_parse_ip4(const char *s, struct in_addr *a);
bool net_valid_ifname(const char *s);
int net_parse_uint(const char *s, unsigned int max, unsigned int *out);
int net_parse_bool(const char *s, bool *out);
const char *net_mode_name(enum net_mode m);
uint32_t net_mask(int plen);                 /* host order */
/* vifD.N or vifD.N-emu, as libxl names them. */
int net_vif_name(char *buf, size_t len, uint32_t domid, int devid, bool emu);
int net_parse_vif_name(const char *name, uint32_t *domid, int *devid, bool *emu);

/* ---- conf.c ---- */
int net_conf_parse_text(const char *text, const char *fname, struct net_config *cfg, char *err,
                        size_t errlen);
int net_conf_load(const char *path, struct net_config *cfg, char *err, size_t errlen);
const struct net_conf *net_conf_find(const struct net_config *cfg, const char *name);

/* ---- cmd.c / vif.c: the hvmctl commands (argv[0] is the command's own name) ---- */
int net_cmd_main(int argc, char **argv);
int vif_cmd_main(int argc, char **argv);
int vif_hotplug_main(int argc, char **argv);
/* Is this argv/environment a libxl hotplug call (argv[1] online|offline|add|remove and
 * XENBUS_PATH set)? hvmctl's main sends those to vif_hotplug_main. */
bool vif_is_hotplug_call(int argc, char **argv);

/* ---- for the domain commands (hvmctl create): what a vif spec should say ---- */
/* The name of the network vifs join by default ("xenbr0" style), if hvmctl has one up. */
int net_default_network(char *buf, size_t len, const char *rundir);
/* The vif script to give libxl: vif-hvmctl installed next to this hvmctl (PREFIX/lib/hvmd). */
int vif_script_path(char *buf, size_t len);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: parsing and formatting helpers (MAC, IPv4, names), the error context. */
#include "toolstack/net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int net_ctx_init(struct net_ctx *c, const char *rundir, bool want_nl)
{
    const char *env = getenv("HVMD_RUN_DIR");

    memset(c, 0, sizeof(*c));
    c->lockfd = -1;
    if (!rundir || !*rundir)
        rundir = (env && *env) ? env : NET_DEFAULT_RUNDIR;
    if (strlen(rundir) >= sizeof(c->rundir) - 64)
        return net_fail(c, -ENAMETOOLONG, "run directory name too long: %s", rundir);
    snprintf(c->rundir, sizeof(c->rundir), "%s", rundir);
    if (!want_nl)
        return 0;
    c->nl = mnl_socket_open(NETLINK_ROUTE);
    if (!c->nl)
        return net_fail(c, -errno, "cannot open a netlink socket: %s", strerror(errno));
    if (mnl_socket_bind(c->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = -errno;
        mnl_socket_close(c->nl);
        c->nl = NULL;
        return net_fail(c, e, "cannot bind the netlink socket: %s", strerror(-e));
    }
    c->portid = mnl_socket_get_portid(c->nl);
    c->seq = (unsigned int)getpid() << 8;
    return 0;
}

void net_ctx_fini(struct net_ctx *c)
{
    if (c->nl)
        mnl_socket_close(c->nl);
    c->nl = NULL;
    if (c->lockfd >= 0)
        close(c->lockfd);
    c->lockfd = -1;
}

int net_fail(struct net_ctx *c, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ts_vfail(c->err, sizeof(c->err), c->quiet, fmt, ap);
    va_end(ap);
    return err < 0 ? err : -EINVAL;
}

void net_note(struct net_ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->quiet)
        return;
    va_start(ap, fmt);
    ts_vinfo(fmt, ap);
    va_end(ap);
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* aa:bb:cc:dd:ee:ff (or with '-'); a guest's MAC must be unicast and not all zero. */
int net_parse_mac(const char *s, uint8_t mac[6], char *why, size_t whylen)
{
    int i;

    if (!s || strlen(s) != 17)
        goto bad;
    for (i = 0; i < 6; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0)
            goto bad;
        if (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-')
            goto bad;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    if (mac[0] & 1) {
        snprintf(why, whylen, "%s is a multicast address (the low bit of the first byte is set)", s);
        return -EINVAL;
    }
    if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        snprintf(why, whylen, "%s is the all-zero address", s);
        return -EINVAL;
    }
    return 0;
bad:
    snprintf(why, whylen, "'%s' is not a MAC address (want six hex bytes, aa:bb:cc:dd:ee:ff)",
             s ? s : "");
    return -EINVAL;
}

void net_format_mac(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

void net_random_mac(uint8_t mac[6])
{
    uint8_t r[3] = { 0, 0, 0 };

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* getrandom on Linux >= 3.17 does not fail for 3 bytes; keep going if it did */
        unsigned int x = (unsigned int)getpid() ^ (unsigned int)time(NULL);
        r[0] = (uint8_t)x;
        r[1] = (uint8_t)(x >> 8);
        r[2] = (uint8_t)(x >> 16);
    }
    mac[0] = 0x00;
    mac[1] = 0x16;
    mac[2] = 0x3e;
    mac[3] = r[0] & 0x7f;
    mac[4] = r[1];
    mac[5] = r[2];
}

int net_parse_ip4(const char *s, struct in_addr *a)
{
    /* inet_pton accepts exactly dotted quads of 0..255 */
    if (!s || inet_pton(AF_INET, s, a) != 1)
        return -EINVAL;
    return 0;
}

int net_parse_prefix4(const char *s, struct in_addr *a, int *plen)
{
    char buf[32];
    const char *slash;
    unsigned int n;

    if (!s || !(slash = strchr(s, '/')) || (size_t)(slash - s) >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = 0;
    if (net_parse_ip4(buf, a) < 0)
        return -EINVAL;
    if (net_parse_uint(slash + 1, 32, &n) < 0)
        return -EINVAL;
    *plen = (int)n;
    return 0;
}

uint32_t net_mask(int plen)
{
    return plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : ~((1u << (32 - plen)) - 1);
}

bool net_valid_ifname(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;

    if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

int net_parse_uint(const char *s, unsigned int max, unsigned int *out)
{
    unsigned long v;
    char *end;

    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -ERANGE;
    *out = (unsigned int)v;
    return 0;
}

int net_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = { "1", "yes", "on", "true" }, *no[] = { "0", "no", "off", "false" };
    size_t i;

    for (i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

const char *net_mode_name(enum net_mode m)
{
    switch (m) {
    case NET_MODE_BRIDGE: return "bridge";
    case NET_MODE_ROUTE: return "route";
    case NET_MODE_NAT: return "nat";
    default: return "none";
    }
}

int net_vif_name(char *buf, size_t len, uint32_t domid, int devid, bool emu)
{
    int n = snprintf(buf, len, "vif%u.%d%s", domid, devid, emu ? "-emu" : "");

    if (devid < 0 || n < 0 || (size_t)n >= len || n >= IFNAMSIZ)
        return -ENAMETOOLONG;
    return 0;
}

int net_parse_vif_name(const char *name, uint32_t *domid, int *devid, bool *emu)
{
    unsigned int d, n;
    int used = 0;

    if (!name || strncmp(name, "vif", 3) || !isdigit((unsigned char)name[3]))
        return -EINVAL;
    if (sscanf(name + 3, "%u.%u%n", &d, &n, &used) != 2)
        return -EINVAL;
    name += 3 + used;
    if (*name && strcmp(name, "-emu"))
        return -EINVAL;
    *domid = d;
    *devid = (int)n;
    *emu = *name != 0;
    return 0;
}

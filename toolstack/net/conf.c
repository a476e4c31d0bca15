/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: the configuration file (default /etc/hvmd/network.conf).
 *
 * An ini-style file, one [section] per network, the section name being the bridge's name (bridge
 * and nat mode) or a label (route mode). Every key is checked here, with the file and line in the
 * message, so that `network up` never starts changing the host on a config it cannot finish.
 *
 *   [xenbr0]                  [nat0]                          [routed]
 *   mode = bridge             mode = nat                      mode = route
 *   netdev = eth0             subnet = 10.0.100.1/24          netdev = eth0
 *   stp = off                 dhcp-range = 10.0.100.50 10.0.100.99
 *   forward-delay = 0         forward = tcp 8022 10.0.100.50 22
 *   ageing = 300              boot-dir = /srv/pxe  (TFTP root, this network only)
 *   default = yes             boot-file = boot.ipxe (DHCP boot file, in boot-dir)
 */
#include "toolstack/net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX_BYTES (256 * 1024)

struct parse {
    const char *fname;
    int line;
    char *err;
    size_t errlen;
    int errors;         /* every error is reported: one line each in err, as many as fit */
};

/* an error: appended to err (a line each, "FILE:LINE: message"); -EINVAL */
__attribute__((format(printf, 2, 3))) static int perr(struct parse *p, const char *fmt, ...)
{
    va_list ap;
    size_t at = strlen(p->err);
    int n;

    p->errors++;
    if (at && at + 1 < p->errlen)
        p->err[at++] = '\n';
    p->err[at] = '\0';
    if (at + 1 >= p->errlen)
        return -EINVAL;
    n = snprintf(p->err + at, p->errlen - at, "%s:%d: ", p->fname, p->line);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen - at)
        vsnprintf(p->err + at + n, p->errlen - at - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static uint32_t h(struct in_addr a)
{
    return ntohl(a.s_addr);
}

static bool in_subnet(const struct net_conf *n, struct in_addr a)
{
    uint32_t m = net_mask(n->plen);

    return (h(a) & m) == (h(n->gw) & m);
}

/* which modes a key is for */
enum { M_B = 1 << NET_MODE_BRIDGE, M_R = 1 << NET_MODE_ROUTE, M_N = 1 << NET_MODE_NAT };

struct keyinfo {
    const char *key;
    unsigned int modes;
};

static const struct keyinfo keys[] = {
    { "mode", M_B | M_R | M_N },     { "netdev", M_B | M_R | M_N }, { "default", M_B | M_R | M_N },
    { "stp", M_B },                  { "forward-delay", M_B },      { "ageing", M_B },
    { "mtu", M_B | M_N },            { "subnet", M_N },             { "dhcp", M_N },
    { "dhcp-range", M_N },           { "lease", M_N },              { "dns", M_N },
    { "forward", M_N },              { "dnsmasq", M_N },            { "boot-dir", M_N },
    { "boot-file", M_N },
};

static int set_key(struct parse *p, struct net_conf *n, const char *k, char *v, bool *seen_fd,
                   bool *seen_range)
{
    unsigned int u;

    if (!strcmp(k, "mode")) {
        if (!strcmp(v, "bridge"))
            n->mode = NET_MODE_BRIDGE;
        else if (!strcmp(v, "route"))
            n->mode = NET_MODE_ROUTE;
        else if (!strcmp(v, "nat"))
            n->mode = NET_MODE_NAT;
        else
            return perr(p, "mode '%s': want bridge, route or nat", v);
    } else if (!strcmp(k, "netdev")) {
        if (!net_valid_ifname(v))
            return perr(p, "netdev '%s' is not a valid interface name", v);
        snprintf(n->netdev, sizeof(n->netdev), "%s", v);
    } else if (!strcmp(k, "default")) {
        if (net_parse_bool(v, &n->is_default) < 0)
            return perr(p, "default '%s': want yes or no", v);
    } else if (!strcmp(k, "stp")) {
        if (net_parse_bool(v, &n->stp) < 0)
            return perr(p, "stp '%s': want on or off", v);
    } else if (!strcmp(k, "forward-delay")) {
        if (net_parse_uint(v, 30, &u) < 0)
            return perr(p, "forward-delay '%s': want seconds, 0 to 30", v);
        n->fwd_delay = u;
        *seen_fd = true;
    } else if (!strcmp(k, "ageing")) {
        if (net_parse_uint(v, 1000000, &u) < 0)
            return perr(p, "ageing '%s': want seconds, 0 to 1000000", v);
        n->ageing = u;
    } else if (!strcmp(k, "mtu")) {
        if (net_parse_uint(v, 65535, &u) < 0 || u < 68)
            return perr(p, "mtu '%s': want 68 to 65535", v);
        n->mtu = u;
    } else if (!strcmp(k, "subnet")) {
        if (net_parse_prefix4(v, &n->gw, &n->plen) < 0)
            return perr(p, "subnet '%s' is not an IPv4 address with a prefix length "
                           "(dom0's address on the NAT bridge, e.g. 10.0.100.1/24)", v);
        if (n->plen < 8 || n->plen > 30)
            return perr(p, "subnet '%s': prefix length /%d, want /8 to /30", v, n->plen);
        {
            uint32_t m = net_mask(n->plen), a = h(n->gw);
            char ab[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &n->gw, ab, sizeof(ab));
            if ((a & ~m) == 0 || (a & ~m) == ~m)
                return perr(p, "subnet '%s': %s is the %s address of the subnet, not one dom0 "
                               "can take", v, ab, (a & ~m) ? "broadcast" : "network");
        }
    } else if (!strcmp(k, "dhcp")) {
        if (net_parse_bool(v, &n->dhcp) < 0)
            return perr(p, "dhcp '%s': want on or off", v);
    } else if (!strcmp(k, "dns")) {
        if (net_parse_bool(v, &n->dns) < 0)
            return perr(p, "dns '%s': want on or off", v);
    } else if (!strcmp(k, "dhcp-range")) {
        char *a = strtok(v, " \t,-"), *b = strtok(NULL, " \t,-");
        if (!a || !b || strtok(NULL, " \t") || net_parse_ip4(a, &n->dhcp_lo) < 0 ||
            net_parse_ip4(b, &n->dhcp_hi) < 0)
            return perr(p, "dhcp-range: want two IPv4 addresses, first and last");
        *seen_range = true;
    } else if (!strcmp(k, "lease")) {
        if (net_parse_uint(v, 1u << 30, &u) < 0 || u < 120)
            return perr(p, "lease '%s': want seconds, at least 120", v);
        n->lease = u;
    } else if (!strcmp(k, "forward")) {
        struct net_fwd *f;
        char *proto = strtok(v, " \t"), *port = strtok(NULL, " \t"), *to = strtok(NULL, " \t"),
             *toport = strtok(NULL, " \t");
        unsigned int p1, p2;
        if (n->nfwd >= NET_MAX_FWD)
            return perr(p, "too many forwards (at most %d)", NET_MAX_FWD);
        f = &n->fwd[n->nfwd];
        if (!proto || !port || !to || strtok(NULL, " \t"))
            return perr(p, "forward: want 'tcp|udp PORT GUEST-ADDRESS [GUEST-PORT]'");
        if (!strcmp(proto, "tcp"))
            f->proto = IPPROTO_TCP;
        else if (!strcmp(proto, "udp"))
            f->proto = IPPROTO_UDP;
        else
            return perr(p, "forward: protocol '%s', want tcp or udp", proto);
        if (net_parse_uint(port, 65535, &p1) < 0 || p1 == 0)
            return perr(p, "forward: port '%s', want 1 to 65535", port);
        p2 = p1;
        if (toport && (net_parse_uint(toport, 65535, &p2) < 0 || p2 == 0))
            return perr(p, "forward: guest port '%s', want 1 to 65535", toport);
        if (net_parse_ip4(to, &f->to) < 0)
            return perr(p, "forward: '%s' is not an IPv4 address", to);
        f->port = (uint16_t)p1;
        f->to_port = (uint16_t)p2;
        n->nfwd++;
    } else if (!strcmp(k, "dnsmasq")) {
        if (v[0] != '/' || strlen(v) >= sizeof(n->dnsmasq))
            return perr(p, "dnsmasq '%s': want an absolute path", v);
        snprintf(n->dnsmasq, sizeof(n->dnsmasq), "%s", v);
    } else if (!strcmp(k, "boot-dir")) {
        if (v[0] != '/' || strlen(v) >= sizeof(n->boot_dir) || strchr(v, ','))
            return perr(p, "boot-dir '%s': want an absolute path (no comma)", v);
        snprintf(n->boot_dir, sizeof(n->boot_dir), "%s", v);
    } else if (!strcmp(k, "boot-file")) {
        if (!v[0] || v[0] == '/' || strstr(v, "..") || strchr(v, ',') ||
            strlen(v) >= sizeof(n->boot_file))
            return perr(p, "boot-file '%s': want a file name under boot-dir", v);
        snprintf(n->boot_file, sizeof(n->boot_file), "%s", v);
    }
    return 0;
}

static void set_defaults(struct net_conf *n)
{
    n->ageing = 300;
    n->dhcp = true;
    n->dns = true;
    n->lease = 3600;
    snprintf(n->dnsmasq, sizeof(n->dnsmasq), "%s", NET_DEFAULT_DNSMASQ);
}

/* checks of a whole section, once all its keys are read */
static int finish_section(struct parse *p, struct net_conf *n, unsigned int keys_seen, bool seen_fd,
                          bool seen_range)
{
    size_t i;
    int line = p->line;

    p->line = n->line;
    if (n->mode == NET_MODE_NONE)
        return perr(p, "[%s]: no mode (want mode = bridge, route or nat)", n->name);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((keys_seen & (1u << i)) && !(keys[i].modes & (1u << n->mode)))
            return perr(p, "[%s]: '%s' does not apply to %s mode", n->name, keys[i].key,
                        net_mode_name(n->mode));
    if (n->mode == NET_MODE_BRIDGE && n->stp) {
        if (!seen_fd)
            n->fwd_delay = 15;
        if (n->fwd_delay < 2)
            return perr(p, "[%s]: with stp on, forward-delay must be 2 to 30 seconds", n->name);
    }
    if (n->mode == NET_MODE_NAT) {
        uint32_t m, net, bc;
        char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
        int j;

        if (!n->plen)
            return perr(p, "[%s]: nat mode needs subnet = ADDRESS/PREFIX (dom0's address on "
                           "the NAT bridge)", n->name);
        m = net_mask(n->plen);
        net = h(n->gw) & m;
        bc = net | ~m;
        if (!seen_range) {
            /* the upper half of the subnet, the lower half left for fixed addresses */
            n->dhcp_lo.s_addr = htonl(net + (~m + 1) / 2);
            n->dhcp_hi.s_addr = htonl(bc - 1);
        }
        inet_ntop(AF_INET, &n->dhcp_lo, a, sizeof(a));
        inet_ntop(AF_INET, &n->dhcp_hi, b, sizeof(b));
        if (!in_subnet(n, n->dhcp_lo) || !in_subnet(n, n->dhcp_hi) || h(n->dhcp_lo) == net ||
            h(n->dhcp_hi) == bc || h(n->dhcp_lo) > h(n->dhcp_hi))
            return perr(p, "[%s]: dhcp-range %s - %s is not an ascending range of host "
                           "addresses inside the subnet", n->name, a, b);
        if (h(n->gw) >= h(n->dhcp_lo) && h(n->gw) <= h(n->dhcp_hi))
            return perr(p, "[%s]: dhcp-range %s - %s holds dom0's own address", n->name, a, b);
        if ((n->boot_dir[0] || n->boot_file[0]) && !n->dhcp)
            return perr(p, "[%s]: boot-dir and boot-file need dhcp = on (its dnsmasq serves "
                           "them)", n->name);
        if (n->boot_file[0] && !n->boot_dir[0])
            return perr(p, "[%s]: boot-file needs boot-dir (the TFTP root it is in)", n->name);
        for (j = 0; j < n->nfwd; j++) {
            const struct net_fwd *f = &n->fwd[j];
            uint32_t t = h(f->to);
            inet_ntop(AF_INET, &f->to, a, sizeof(a));
            if (!in_subnet(n, f->to) || t == net || t == bc || t == h(n->gw))
                return perr(p, "[%s]: forward to %s: not a guest address of the subnet", n->name,
                            a);
        }
    }
    p->line = line;
    return 0;
}

/* the section's own checks, unless its lines had errors already (they would only repeat them) */
static void finish(struct parse *p, struct net_conf *n, unsigned int keys_seen, bool seen_fd,
                   bool seen_range, int errors_before)
{
    int line = p->line;

    if (p->errors == errors_before)
        finish_section(p, n, keys_seen, seen_fd, seen_range);
    p->line = line;
}

static int cross_checks(struct parse *p, struct net_config *cfg)
{
    int i, j, ndef = 0;

    for (i = 0; i < cfg->n; i++) {
        struct net_conf *a = &cfg->net[i];
        ndef += a->is_default;
        for (j = 0; j < i; j++) {
            struct net_conf *b = &cfg->net[j];
            p->line = a->line;
            if (!strcmp(a->name, b->name))
                perr(p, "[%s] is defined twice (first at line %d)", a->name, b->line);
            if (a->mode == NET_MODE_BRIDGE && b->mode == NET_MODE_BRIDGE && a->netdev[0] &&
                !strcmp(a->netdev, b->netdev))
                perr(p, "[%s] and [%s] both want netdev %s; a NIC can be a port of one "
                        "bridge only", b->name, a->name, a->netdev);
            if (a->mode == NET_MODE_NAT && b->mode == NET_MODE_NAT && a->plen && b->plen) {
                int pl = a->plen < b->plen ? a->plen : b->plen;
                if ((h(a->gw) & net_mask(pl)) == (h(b->gw) & net_mask(pl)))
                    perr(p, "[%s] subnet overlaps the subnet of [%s]", a->name, b->name);
            }
        }
    }
    if (ndef > 1) {
        p->line = 0;
        perr(p, "more than one network says default = yes");
    }
    if (ndef == 0 && cfg->n > 0)
        cfg->net[0].is_default = true;
    return p->errors ? -EINVAL : 0;
}

int net_conf_parse_text(const char *text, const char *fname, struct net_config *cfg, char *err,
                        size_t errlen)
{
    struct parse p = { .fname = fname, .line = 0, .err = err, .errlen = errlen };
    struct net_conf *cur = NULL;
    unsigned int seen = 0;
    bool seen_fd = false, seen_range = false;
    const char *s = text;
    char line[1024];
    bool skipping = false;      /* after a bad section header: up to the next one */
    int sec_errors = 0;         /* errors before the section began */

    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->file, sizeof(cfg->file), "%s", fname);
    err[0] = 0;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char *l, *eq, *k, *v, *hash;

        p.line++;
        if (len >= sizeof(line)) {
            perr(&p, "line too long");
            s += len + (nl ? 1 : 0);
            continue;
        }
        memcpy(line, s, len);
        line[len] = 0;
        s += len + (nl ? 1 : 0);
        if ((hash = strchr(line, '#')))
            *hash = 0;
        l = trim(line);
        if (!*l)
            continue;
        if (*l == '[') {
            char *e = strchr(l, ']');
            if (cur)
                finish(&p, cur, seen, seen_fd, seen_range, sec_errors);
            cur = NULL;     /* the keys up to a good section header are not checked */
            skipping = true;
            if (!e || trim(e + 1)[0]) {
                perr(&p, "want [NAME]");
                continue;
            }
            *e = 0;
            l = trim(l + 1);
            if (!net_valid_ifname(l)) {
                perr(&p, "network name '%s' is not a valid interface name (1 to %d "
                         "letters, digits, '-', '_', '.')", l, IFNAMSIZ - 1);
                continue;
            }
            skipping = false;
            if (cfg->n >= NET_MAX_NETS)
                return perr(&p, "too many networks (at most %d)", NET_MAX_NETS);
            cur = &cfg->net[cfg->n++];
            set_defaults(cur);
            snprintf(cur->name, sizeof(cur->name), "%s", l);
            cur->line = p.line;
            sec_errors = p.errors;
            seen = 0;
            seen_fd = seen_range = false;
            continue;
        }
        if (!(eq = strchr(l, '='))) {
            perr(&p, "want KEY = VALUE or [NAME]");
            continue;
        }
        *eq = 0;
        k = trim(l);
        v = trim(eq + 1);
        if (skipping)
            continue;
        if (!cur) {
            perr(&p, "'%s' outside a [network] section", k);
            continue;
        }
        {
            size_t i, nk = sizeof(keys) / sizeof(keys[0]);
            for (i = 0; i < nk && strcmp(keys[i].key, k); i++)
                ;
            if (i == nk) {
                perr(&p, "unknown key '%s'", k);
                continue;
            }
            if ((seen & (1u << i)) && strcmp(k, "forward")) {
                perr(&p, "'%s' given twice in [%s]", k, cur->name);
                continue;
            }
            seen |= 1u << i;
        }
        if (!*v) {
            perr(&p, "'%s' has no value", k);
            continue;
        }
        set_key(&p, cur, k, v, &seen_fd, &seen_range);
    }
    if (cur)
        finish(&p, cur, seen, seen_fd, seen_range, sec_errors);
    if (cfg->n == 0 && !p.errors) {
        p.line = 0;
        return perr(&p, "no network defined");
    }
    return cross_checks(&p, cfg);
}

int net_conf_load(const char *path, struct net_config *cfg, char *err, size_t errlen)
{
    FILE *f;
    char *buf;
    size_t n;
    int rc;

    f = fopen(path, "r");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    buf = malloc(CONF_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    n = fread(buf, 1, CONF_MAX_BYTES + 1, f);
    fclose(f);
    if (n > CONF_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, "%s: larger than %d bytes", path, CONF_MAX_BYTES);
        return -EFBIG;
    }
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        free(buf);
        snprintf(err, errlen, "%s: not a text file", path);
        return -EINVAL;
    }
    rc = net_conf_parse_text(buf, path, cfg, err, errlen);
    free(buf);
    return rc;
}

const struct net_conf *net_conf_find(const struct net_config *cfg, const char *name)
{
    int i;

    for (i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->net[i].name, name))
            return &cfg->net[i];
    return NULL;
}

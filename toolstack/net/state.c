/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: state files in the run directory (see state.h). Text, "key value" lines,
 * written to a temporary file and renamed, so a reader sees the old or the new one whole. */
#include "toolstack/net/state.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX (64 * 1024)

int net_state_path(struct net_ctx *c, char *buf, size_t len, const char *kind, const char *name)
{
    int n;

    if (name && (!net_valid_ifname(name)))
        return -EINVAL;
    n = name ? snprintf(buf, len, "%s/%s/%s", c->rundir, kind, name)
             : snprintf(buf, len, "%s/%s", c->rundir, kind);
    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int net_state_lock(struct net_ctx *c)
{
    char p[PATH_MAX], why[sizeof(c->err)];
    int rc, fd;

    if (c->lockfd >= 0)
        return 0;
    if ((rc = ts_mkdir_p(c->rundir)) < 0)
        return net_fail(c, rc, "cannot create the run directory %s: %s", c->rundir, strerror(-rc));
    snprintf(p, sizeof(p), "%s/net", c->rundir);
    if ((rc = ts_mkdir_p(p)) < 0)
        return net_fail(c, rc, "cannot create %s: %s", p, strerror(-rc));
    snprintf(p, sizeof(p), "%s/vif", c->rundir);
    if ((rc = ts_mkdir_p(p)) < 0)
        return net_fail(c, rc, "cannot create %s: %s", p, strerror(-rc));
    snprintf(p, sizeof(p), "%s/lock", c->rundir);
    fd = ts_lock_file(p, 0644, why, sizeof(why));
    if (fd < 0)
        return net_fail(c, fd, "%s", why);
    c->lockfd = fd;
    return 0;
}

static int write_atomic(const char *path, const char *text)
{
    char tmp[PATH_MAX + 8];
    size_t len = strlen(text);
    int fd, rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, text, len) != (ssize_t)len)
        rc = errno ? -errno : -EIO;
    if (!rc && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, path) < 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

static int read_text(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    ssize_t n;

    if (fd < 0)
        return -errno;
    buf = malloc(STATE_MAX + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    n = read(fd, buf, STATE_MAX + 1);
    close(fd);
    if (n < 0 || n > STATE_MAX) {
        free(buf);
        return n < 0 ? -errno : -EFBIG;
    }
    buf[n] = 0;
    *out = buf;
    return 0;
}

/* ---- formatting ---- */

struct out {
    char *buf;
    size_t len, used;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->used)
        o->full = true;
    else
        o->used += (size_t)n;
}

static const char *ip(struct in_addr a, char *b)
{
    return inet_ntop(AF_INET, &a, b, INET_ADDRSTRLEN);
}

int net_state_format(const struct net_state *s, char *buf, size_t len)
{
    struct out o = { buf, len, 0, false };
    const struct net_conf *n = &s->conf;
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], line[512];
    int i;

    put(&o, "# hvmctl network state: written by `hvmctl network up`, read by down/show/vif\n");
    put(&o, "name %s\nmode %s\n", n->name, net_mode_name(n->mode));
    if (n->netdev[0])
        put(&o, "netdev %s\n", n->netdev);
    put(&o, "default %d\nbridge_ifindex %d\n", n->is_default, s->bridge_ifindex);
    put(&o, "stp %d\nforward_delay %u\nageing %u\nmtu %u\n", n->stp, n->fwd_delay, n->ageing,
        n->mtu);
    if (n->mode == NET_MODE_NAT) {
        put(&o, "subnet %s/%d\ndhcp %d\ndns %d\n", ip(n->gw, a), n->plen, n->dhcp, n->dns);
        put(&o, "dhcp_range %s %s\nlease %u\ndnsmasq %s\n", ip(n->dhcp_lo, a), ip(n->dhcp_hi, b),
            n->lease, n->dnsmasq);
        if (n->boot_dir[0])
            put(&o, "boot_dir %s\n", n->boot_dir);
        if (n->boot_file[0])
            put(&o, "boot_file %s\n", n->boot_file);
        for (i = 0; i < n->nfwd; i++)
            put(&o, "forward %s %u %s %u\n", n->fwd[i].proto == IPPROTO_UDP ? "udp" : "tcp",
                n->fwd[i].port, ip(n->fwd[i].to, a), n->fwd[i].to_port);
        put(&o, "dnsmasq_pid %d\n", s->dnsmasq_pid);
    }
    if (n->mode == NET_MODE_BRIDGE) {
        put(&o, "nic_was_up %d\nnic_mtu %u\n", s->nic_was_up, s->nic_mtu);
        for (i = 0; i < s->naddrs; i++)
            if (nl_addr_format(&s->addrs[i], line, sizeof(line)) == 0)
                put(&o, "addr %s\n", line);
        for (i = 0; i < s->nroutes; i++)
            if (nl_route_format(&s->routes[i], line, sizeof(line)) == 0)
                put(&o, "route %s\n", line);
    }
    if (n->mode == NET_MODE_ROUTE)
        put(&o, "proxy_arp_before %s\n", s->proxy_arp_before);
    return o.full ? -ENOSPC : 0;
}

/* split "key rest-of-line"; returns the rest or NULL for a blank/comment line */
static char *kv(char *line, char **key)
{
    char *sp;

    while (*line == ' ')
        line++;
    if (!*line || *line == '#')
        return NULL;
    *key = line;
    sp = strchr(line, ' ');
    if (!sp)
        return line + strlen(line);
    *sp = 0;
    return sp + 1;
}

static int parse_u(const char *v, unsigned int *u)
{
    return net_parse_uint(v, 0x7fffffff, u);
}

int net_state_parse(const char *text, struct net_state *s)
{
    char *copy = strdup(text), *save = NULL, *line;
    struct net_conf *n = &s->conf;
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    memset(s, 0, sizeof(*s));
    for (line = strtok_r(copy, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        char *k, *v = kv(line, &k);
        unsigned int u = 0;
        bool b;

        if (!v)
            continue;
        if (!strcmp(k, "name")) {
            if (!net_valid_ifname(v)) rc = -EINVAL;
            else snprintf(n->name, sizeof(n->name), "%s", v);
        } else if (!strcmp(k, "mode")) {
            n->mode = !strcmp(v, "bridge") ? NET_MODE_BRIDGE : !strcmp(v, "route") ? NET_MODE_ROUTE
                    : !strcmp(v, "nat") ? NET_MODE_NAT : NET_MODE_NONE;
        } else if (!strcmp(k, "netdev")) {
            if (!net_valid_ifname(v)) rc = -EINVAL;
            else snprintf(n->netdev, sizeof(n->netdev), "%s", v);
        } else if (!strcmp(k, "default")) {
            rc = net_parse_bool(v, &b); n->is_default = b;
        } else if (!strcmp(k, "bridge_ifindex")) {
            rc = parse_u(v, &u); s->bridge_ifindex = (int)u;
        } else if (!strcmp(k, "stp")) {
            rc = net_parse_bool(v, &b); n->stp = b;
        } else if (!strcmp(k, "forward_delay")) {
            rc = parse_u(v, &n->fwd_delay);
        } else if (!strcmp(k, "ageing")) {
            rc = parse_u(v, &n->ageing);
        } else if (!strcmp(k, "mtu")) {
            rc = parse_u(v, &n->mtu);
        } else if (!strcmp(k, "subnet")) {
            rc = net_parse_prefix4(v, &n->gw, &n->plen);
        } else if (!strcmp(k, "dhcp")) {
            rc = net_parse_bool(v, &b); n->dhcp = b;
        } else if (!strcmp(k, "dns")) {
            rc = net_parse_bool(v, &b); n->dns = b;
        } else if (!strcmp(k, "dhcp_range")) {
            char *sp = strchr(v, ' ');
            if (!sp) { rc = -EINVAL; continue; }
            *sp = 0;
            rc = net_parse_ip4(v, &n->dhcp_lo);
            if (!rc) rc = net_parse_ip4(sp + 1, &n->dhcp_hi);
        } else if (!strcmp(k, "lease")) {
            rc = parse_u(v, &n->lease);
        } else if (!strcmp(k, "dnsmasq")) {
            snprintf(n->dnsmasq, sizeof(n->dnsmasq), "%s", v);
        } else if (!strcmp(k, "boot_dir")) {
            snprintf(n->boot_dir, sizeof(n->boot_dir), "%s", v);
        } else if (!strcmp(k, "boot_file")) {
            snprintf(n->boot_file, sizeof(n->boot_file), "%s", v);
        } else if (!strcmp(k, "forward")) {
            char proto[8], to[INET_ADDRSTRLEN];
            unsigned int p1, p2;
            struct net_fwd *f = &n->fwd[n->nfwd];
            if (n->nfwd >= NET_MAX_FWD ||
                sscanf(v, "%7s %u %15s %u", proto, &p1, to, &p2) != 4 || p1 > 65535 || p2 > 65535) {
                rc = -EINVAL; continue;
            }
            f->proto = strcmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
            f->port = (uint16_t)p1;
            f->to_port = (uint16_t)p2;
            rc = net_parse_ip4(to, &f->to);
            n->nfwd++;
        } else if (!strcmp(k, "dnsmasq_pid")) {
            rc = parse_u(v, &u); s->dnsmasq_pid = (int)u;
        } else if (!strcmp(k, "nic_was_up")) {
            rc = net_parse_bool(v, &b); s->nic_was_up = b;
        } else if (!strcmp(k, "nic_mtu")) {
            rc = parse_u(v, &s->nic_mtu);
        } else if (!strcmp(k, "addr")) {
            if (s->naddrs >= NET_MAX_SAVED) rc = -E2BIG;
            else rc = nl_addr_parse(v, &s->addrs[s->naddrs++]);
        } else if (!strcmp(k, "route")) {
            if (s->nroutes >= NET_MAX_SAVED) rc = -E2BIG;
            else rc = nl_route_parse(v, &s->routes[s->nroutes++]);
        } else if (!strcmp(k, "proxy_arp_before")) {
            snprintf(s->proxy_arp_before, sizeof(s->proxy_arp_before), "%s", v);
        }
        /* unknown keys are skipped: a newer hvmctl may add some */
    }
    free(copy);
    if (!rc && (!n->name[0] || n->mode == NET_MODE_NONE))
        rc = -EINVAL;
    return rc;
}

int vif_state_format(const struct vif_state *v, char *buf, size_t len)
{
    struct out o = { buf, len, 0, false };
    char a[INET_ADDRSTRLEN], m[18];
    int i;

    put(&o, "# hvmctl vif state\nifname %s\nnetwork %s\nmode %s\ntap %d\n", v->ifname, v->network,
        net_mode_name(v->mode), v->tap);
    if (v->has_mac) {
        net_format_mac(v->mac, m);
        put(&o, "mac %s\n", m);
    }
    for (i = 0; i < v->nips; i++)
        put(&o, "ip %s\n", ip(v->ips[i], a));
    if (v->mode == NET_MODE_ROUTE)
        put(&o, "dom0ip %s\n", ip(v->dom0ip, a));
    put(&o, "dhcp_host %d\n", v->dhcp_host);
    return o.full ? -ENOSPC : 0;
}

int vif_state_parse(const char *text, struct vif_state *v)
{
    char *copy = strdup(text), *save = NULL, *line, why[128];
    int rc = 0;
    bool b;

    if (!copy)
        return -ENOMEM;
    memset(v, 0, sizeof(*v));
    for (line = strtok_r(copy, "\n", &save); line && !rc; line = strtok_r(NULL, "\n", &save)) {
        char *k, *val = kv(line, &k);

        if (!val)
            continue;
        if (!strcmp(k, "ifname") || !strcmp(k, "network")) {
            if (!net_valid_ifname(val)) rc = -EINVAL;
            else snprintf(k[0] == 'i' ? v->ifname : v->network, IFNAMSIZ, "%s", val);
        } else if (!strcmp(k, "mode")) {
            v->mode = !strcmp(val, "bridge") ? NET_MODE_BRIDGE : !strcmp(val, "route")
                    ? NET_MODE_ROUTE : !strcmp(val, "nat") ? NET_MODE_NAT : NET_MODE_NONE;
        } else if (!strcmp(k, "tap")) {
            rc = net_parse_bool(val, &b); v->tap = b;
        } else if (!strcmp(k, "mac")) {
            rc = net_parse_mac(val, v->mac, why, sizeof(why)); v->has_mac = true;
        } else if (!strcmp(k, "ip")) {
            if (v->nips >= NET_MAX_IPS) rc = -E2BIG;
            else rc = net_parse_ip4(val, &v->ips[v->nips++]);
        } else if (!strcmp(k, "dom0ip")) {
            rc = net_parse_ip4(val, &v->dom0ip);
        } else if (!strcmp(k, "dhcp_host")) {
            rc = net_parse_bool(val, &b); v->dhcp_host = b;
        }
    }
    free(copy);
    if (!rc && (!v->ifname[0] || !v->network[0] || v->mode == NET_MODE_NONE))
        rc = -EINVAL;
    return rc;
}

/* ---- files ---- */

/* TEXT into RUNDIR/KIND/NAME, atomically */
static int write_state(struct net_ctx *c, const char *kind, const char *name, const char *text)
{
    char path[PATH_MAX];
    int rc = net_state_path(c, path, sizeof(path), kind, name);

    return rc < 0 ? rc : write_atomic(path, text);
}

/* RUNDIR/KIND/NAME gone (already gone is no error) */
static int remove_state(struct net_ctx *c, const char *kind, const char *name)
{
    char path[PATH_MAX];
    int rc = net_state_path(c, path, sizeof(path), kind, name);

    if (rc < 0)
        return rc;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int net_state_write(struct net_ctx *c, const struct net_state *s)
{
    char *buf = malloc(STATE_MAX);
    int rc;

    if (!buf)
        return -ENOMEM;
    rc = net_state_format(s, buf, STATE_MAX);
    if (!rc)
        rc = write_state(c, "net", s->conf.name, buf);
    free(buf);
    if (rc < 0)
        return net_fail(c, rc, "cannot write the state of network %s in %s: %s", s->conf.name,
                        c->rundir, strerror(-rc));
    return 0;
}

/* RUNDIR/KIND/NAME (its path in PATH) read and PARSEd into OUT: 0, negative errno when it cannot
 * be read, 1 when PARSE refuses it (a damaged file) */
static int read_state(struct net_ctx *c, const char *kind, const char *name,
                      char path[PATH_MAX], int (*parse)(const char *text, void *out), void *out)
{
    char *text = NULL;
    int rc = net_state_path(c, path, PATH_MAX, kind, name);

    if (rc < 0 || (rc = read_text(path, &text)) < 0)
        return rc;
    rc = parse(text, out);
    free(text);
    return rc < 0 ? 1 : 0;
}

static int parse_net(const char *text, void *out)
{
    return net_state_parse(text, out);
}

static int parse_vif(const char *text, void *out)
{
    return vif_state_parse(text, out);
}

int net_state_read(struct net_ctx *c, const char *name, struct net_state *s)
{
    char path[PATH_MAX];
    int rc = read_state(c, "net", name, path, parse_net, s);

    if (rc > 0)
        return net_fail(c, -EBADMSG, "%s: damaged state file", path);
    return rc;
}

int net_state_remove(struct net_ctx *c, const char *name)
{
    return remove_state(c, "net", name);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int list_dir(struct net_ctx *c, const char *kind, char names[][IFNAMSIZ], int max)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int n = 0;

    if (net_state_path(c, path, sizeof(path), kind, NULL) < 0)
        return 0;
    d = opendir(path);
    if (!d)
        return 0;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.' || !net_valid_ifname(e->d_name) || strstr(e->d_name, ".tmp"))
            continue;
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);   /* < IFNAMSIZ: checked */
    }
    closedir(d);
    qsort(names, (size_t)n, IFNAMSIZ, cmp_names);
    return n;
}

int net_state_list(struct net_ctx *c, char names[][IFNAMSIZ], int max)
{
    return list_dir(c, "net", names, max);
}

int vif_state_write(struct net_ctx *c, const struct vif_state *v)
{
    char buf[4096];
    int rc = vif_state_format(v, buf, sizeof(buf));

    if (!rc)
        rc = write_state(c, "vif", v->ifname, buf);
    if (rc < 0)
        return net_fail(c, rc, "cannot write the state of vif %s in %s: %s", v->ifname, c->rundir,
                        strerror(-rc));
    return 0;
}

int vif_state_read(struct net_ctx *c, const char *ifname, struct vif_state *v)
{
    char path[PATH_MAX];
    int rc = read_state(c, "vif", ifname, path, parse_vif, v);

    return rc > 0 ? -EBADMSG : rc;
}

int vif_state_remove(struct net_ctx *c, const char *ifname)
{
    return remove_state(c, "vif", ifname);
}

int vif_state_list(struct net_ctx *c, char names[][IFNAMSIZ], int max)
{
    return list_dir(c, "vif", names, max);
}

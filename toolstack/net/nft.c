/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: NAT through nftables (libnftables).
 *
 * Everything hvmctl puts into netfilter lives in one table, `table ip hvmctl`, in chains named
 * after the network ("NAME-post" masquerades the subnet, "NAME-pre" holds the port forwards), so
 * `network down` removes exactly those chains, and the table with the last of them. Each change is
 * one nft batch: it applies whole or not at all.
 */
#include "toolstack/net/nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 4, 5))) static int add(char *buf, size_t len, size_t *used,
                                                      const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*used >= len)
        return -ENOSPC;
    va_start(ap, fmt);
    n = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *used)
        return -ENOSPC;
    *used += (size_t)n;
    return 0;
}

int net_nft_ruleset(const struct net_conf *n, char *buf, size_t len)
{
    char gw[INET_ADDRSTRLEN], sub[INET_ADDRSTRLEN], to[INET_ADDRSTRLEN];
    struct in_addr net = { htonl(ntohl(n->gw.s_addr) & net_mask(n->plen)) };
    char oif[64], iif[64];
    size_t used = 0;
    int i, rc = 0;

    inet_ntop(AF_INET, &n->gw, gw, sizeof(gw));
    inet_ntop(AF_INET, &net, sub, sizeof(sub));
    /* without a netdev, everything that leaves by another device than the NAT bridge is NATed
     * (so it follows the default route wherever it goes) */
    if (n->netdev[0]) {
        snprintf(oif, sizeof(oif), "oifname \"%s\"", n->netdev);
        snprintf(iif, sizeof(iif), "iifname \"%s\"", n->netdev);
    } else {
        snprintf(oif, sizeof(oif), "oifname != \"%s\"", n->name);
        snprintf(iif, sizeof(iif), "iifname != \"%s\"", n->name);
    }
    buf[0] = 0;
    rc |= add(buf, len, &used, "add table ip %s\n", NET_NFT_TABLE);
    rc |= add(buf, len, &used,
              "add chain ip %s post-%s { type nat hook postrouting priority srcnat; "
              "policy accept; }\n", NET_NFT_TABLE, n->name);
    rc |= add(buf, len, &used,
              "add rule ip %s post-%s ip saddr %s/%d ip daddr != %s/%d %s masquerade\n",
              NET_NFT_TABLE, n->name, sub, n->plen, sub, n->plen, oif);
    if (n->nfwd) {
        rc |= add(buf, len, &used,
                  "add chain ip %s pre-%s { type nat hook prerouting priority dstnat; "
                  "policy accept; }\n", NET_NFT_TABLE, n->name);
        for (i = 0; i < n->nfwd; i++) {
            const struct net_fwd *f = &n->fwd[i];
            const char *p = f->proto == IPPROTO_UDP ? "udp" : "tcp";
            inet_ntop(AF_INET, &f->to, to, sizeof(to));
            rc |= add(buf, len, &used,
                      "add rule ip %s pre-%s %s fib daddr type local %s dport %u "
                      "dnat to %s:%u\n", NET_NFT_TABLE, n->name, iif, p, f->port, to, f->to_port);
        }
    }
    return rc ? -ENOSPC : 0;
}

static int run(struct net_ctx *c, const char *cmd, char **out, const char *what)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    int rc;

    if (!nft)
        return net_fail(c, -ENOMEM, "cannot create an nftables context");
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    rc = nft_run_cmd_from_buffer(nft, cmd);
    if (rc) {
        const char *e = nft_ctx_get_error_buffer(nft);
        char msg[600];
        size_t l;
        snprintf(msg, sizeof(msg), "%s", e ? e : "");
        msg[strcspn(msg, "\n")] = 0;            /* the first line says it; the rest is context */
        l = strlen(msg);
        while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
            msg[--l] = 0;
        rc = what ? net_fail(c, -EIO, "nftables: %s: %s", what, msg[0] ? msg : "failed") : -EIO;
    } else if (out) {
        const char *o = nft_ctx_get_output_buffer(nft);
        *out = strdup(o ? o : "");
        if (!*out)
            rc = -ENOMEM;
    }
    nft_ctx_free(nft);
    return rc;
}

int net_nft_up(struct net_ctx *c, const struct net_conf *n)
{
    char *buf = malloc(NET_NFT_MAX);
    char what[64];
    int rc;

    if (!buf)
        return -ENOMEM;
    rc = net_nft_ruleset(n, buf, NET_NFT_MAX);
    snprintf(what, sizeof(what), "NAT rules of %s", n->name);
    if (!rc)
        rc = run(c, buf, NULL, what);
    free(buf);
    return rc;
}

/* does `table ip hvmctl` exist, and if so, its text */
int net_nft_list(struct net_ctx *c, char **out)
{
    int rc;

    *out = NULL;
    rc = run(c, "list table ip " NET_NFT_TABLE, out, NULL);
    return rc ? -ENOENT : 0;
}

static bool has_chain(const char *text, const char *name, const char *kind)
{
    char pat[64];

    snprintf(pat, sizeof(pat), "chain %s-%s {", kind, name);
    return strstr(text, pat) != NULL;
}

int net_nft_down(struct net_ctx *c, const char *name)
{
    char *text = NULL, cmd[512];
    size_t used = 0;
    int rc;
    const char *p;
    int chains = 0, ours = 0;

    if (net_nft_list(c, &text) < 0)
        return 0;                       /* no table: nothing of ours is there */
    for (p = text; (p = strstr(p, "\tchain ")); p++)
        chains++;
    cmd[0] = 0;
    if (has_chain(text, name, "post")) {
        ours++;
        add(cmd, sizeof(cmd), &used, "delete chain ip %s post-%s\n", NET_NFT_TABLE, name);
    }
    if (has_chain(text, name, "pre")) {
        ours++;
        add(cmd, sizeof(cmd), &used, "delete chain ip %s pre-%s\n", NET_NFT_TABLE, name);
    }
    if (chains == ours) {               /* ours were the last: the table goes too */
        used = 0;
        add(cmd, sizeof(cmd), &used, "delete table ip %s\n", NET_NFT_TABLE);
    }
    free(text);
    if (!used)
        return 0;
    rc = run(c, cmd, NULL, "removing NAT rules");
    return rc;
}

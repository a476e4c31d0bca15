/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * webconsole.c: `hvmctl console --web DOM`: a guest's screen in a web browser.
 *
 * The device model serves the guest's display over VNC and libxl writes where
 * (/local/domain/D/console/vnc-listen and vnc-port, from QMP query-vnc). hvmctl starts
 * websockify (Debian: websockify) on the address the user asked for, 127.0.0.1 unless told
 * otherwise, serving noVNC's pages (Debian: novnc, /usr/share/novnc) and bridging the page's
 * WebSocket to that VNC port; it prints the URL and becomes websockify (Ctrl-C ends it).
 * Nothing else listens. The VNC password, if the guest has one, is asked by the page.
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#define NOVNC_DIR "/usr/share/novnc"
#define WEBSOCKIFY "/usr/bin/websockify"

/* HOST:PORT (HOST may be [v6]) into HOST and PORT; 0 or -EINVAL. */
int ts_split_hostport(const char *s, char *host, size_t hostlen, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon || colon == s)
        return -EINVAL;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || !colon[1] || p == 0 || p > 65535)
        return -EINVAL;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -EINVAL;
    memcpy(host, s, hl);
    host[hl] = 0;
    *port = (unsigned)p;
    return 0;
}

/* Where libxl says DOMID's VNC server listens. 0, or -ENOENT (no VNC console). */
static int vnc_of_domain(uint32_t domid, char *host, size_t hostlen, unsigned *port)
{
    struct xs_handle *xs = xs_open(XS_OPEN_READONLY);
    char path[96];
    unsigned int len;
    int rc = -ENOENT;
    if (!xs) {
        ts_err("console --web: cannot reach xenstore: %s", strerror(errno));
        return -EIO;
    }
    snprintf(path, sizeof(path), "/local/domain/%u/console/vnc-port", domid);
    char *p = xs_read(xs, XBT_NULL, path, &len);
    snprintf(path, sizeof(path), "/local/domain/%u/console/vnc-listen", domid);
    char *l = xs_read(xs, XBT_NULL, path, &len);
    if (p && l) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (!*end && v > 0 && v <= 65535 && strlen(l) < hostlen) {
            snprintf(host, hostlen, "%s", l);
            *port = (unsigned)v;
            rc = 0;
        }
    }
    free(p);
    free(l);
    xs_close(xs);
    return rc;
}

static int is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return !strcmp(host, "localhost");
}

int ts_web_console(const char *dom, uint32_t domid, const char *vnc, const char *listen)
{
    char vhost[128], lhost[128];
    unsigned vport, lport;

    if (vnc) {
        if (ts_split_hostport(vnc, vhost, sizeof(vhost), &vport) < 0) {
            ts_err("console --web: --vnc %s: expected HOST:PORT", vnc);
            return 2;
        }
    } else if (vnc_of_domain(domid, vhost, sizeof(vhost), &vport) < 0) {
        ts_err("console --web: %s has no VNC console (vnc = 1 in its xl.cfg; libxl writes "
               "console/vnc-port once the device model answered query-vnc)", dom);
        return 1;
    }
    if (!strcmp(vhost, "0.0.0.0") || !strcmp(vhost, "::"))
        snprintf(vhost, sizeof(vhost), "127.0.0.1"); /* listening everywhere: reach it here */
    if (listen) {
        if (ts_split_hostport(listen, lhost, sizeof(lhost), &lport) < 0) {
            ts_err("console --web: --listen %s: expected ADDRESS:PORT", listen);
            return 2;
        }
    } else {
        snprintf(lhost, sizeof(lhost), "127.0.0.1");
        lport = 6080 + (vport >= 5900 && vport < 5900 + 1000 ? vport - 5900 : 0);
    }
    if (access(WEBSOCKIFY, X_OK) < 0 || access(NOVNC_DIR "/vnc.html", R_OK) < 0) {
        ts_err("console --web: needs websockify (%s) and noVNC (%s): apt install websockify "
               "novnc", WEBSOCKIFY, NOVNC_DIR);
        return 1;
    }
    char target[160], source[160];
    snprintf(target, sizeof(target), "%s%s%s:%u", strchr(vhost, ':') ? "[" : "", vhost,
             strchr(vhost, ':') ? "]" : "", vport);
    snprintf(source, sizeof(source), "%s%s%s:%u", strchr(lhost, ':') ? "[" : "", lhost,
             strchr(lhost, ':') ? "]" : "", lport);
    printf("console of %s (VNC %s) in a browser: http://%s/vnc.html?autoconnect=true&resize=scale"
           "\n", dom ? dom : target, target, source);
    if (!is_loopback(lhost))
        printf("note: %s is reachable from other machines: whoever opens the page gets the "
               "guest's console (a VNC password, vncpasswd=, still applies)\n", lhost);
    printf("Ctrl-C ends it.\n");
    fflush(stdout);
    /* websockify: the page's WebSocket to the VNC port, noVNC's files from --web, nothing else */
    execl(WEBSOCKIFY, "websockify", "--web", NOVNC_DIR, source, target, (char *)NULL);
    ts_err("console --web: cannot run %s: %s", WEBSOCKIFY, strerror(errno));
    return 1;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmctl network: Debian's dnsmasq as DHCP server (and DNS forwarder) on a NAT bridge.
 *
 * hvmctl starts it with everything on its command line (no config file read: -C /dev/null), bound
 * to the NAT bridge only, with its pid, lease, fixed-hosts and log files in the run directory as
 * dnsmasq-NAME.{pid,leases,hosts,log}. dnsmasq forks into the background once it is serving and
 * reports a startup error by its exit status, which `network up` turns into an error (and a
 * rollback). `down` stops exactly the process its pid file names, after checking that process's
 * command line names that pid file too.
 */
#include "toolstack/net/dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int net_dhcp_file(const struct net_ctx *c, const char *name, const char *ext, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/dnsmasq-%s.%s", c->rundir, name, ext);

    return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int net_dhcp_argv(const struct net_ctx *c, const struct net_conf *n, char *argv[NET_DHCP_MAXARGS],
                  char *store, size_t storelen)
{
    char lo[INET_ADDRSTRLEN], hi[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
    char f[PATH_MAX];
    struct in_addr m = { htonl(net_mask(n->plen)) };
    size_t used = 0;
    int i = 0;

#define ARG(...)                                                                                 \
    do {                                                                                         \
        int k_ = snprintf(store + used, storelen - used, __VA_ARGS__);                           \
        if (k_ < 0 || (size_t)k_ >= storelen - used || i >= NET_DHCP_MAXARGS - 1)                \
            return -ENOSPC;                                                                      \
        argv[i++] = store + used;                                                                \
        used += (size_t)k_ + 1;                                                                  \
    } while (0)

    inet_ntop(AF_INET, &n->dhcp_lo, lo, sizeof(lo));
    inet_ntop(AF_INET, &n->dhcp_hi, hi, sizeof(hi));
    inet_ntop(AF_INET, &n->gw, gw, sizeof(gw));
    inet_ntop(AF_INET, &m, mask, sizeof(mask));
    ARG("%s", n->dnsmasq);
    ARG("--conf-file=/dev/null");
    net_dhcp_file(c, n->name, "pid", f, sizeof(f));
    ARG("--pid-file=%s", f);
    ARG("--interface=%s", n->name);
    ARG("--except-interface=lo");
    ARG("--bind-interfaces");
    ARG("--dhcp-range=%s,%s,%s,%u", lo, hi, mask, n->lease);
    ARG("--dhcp-option=option:router,%s", gw);
    ARG("--dhcp-authoritative");
    net_dhcp_file(c, n->name, "leases", f, sizeof(f));
    ARG("--dhcp-leasefile=%s", f);
    net_dhcp_file(c, n->name, "hosts", f, sizeof(f));
    ARG("--dhcp-hostsfile=%s", f);
    net_dhcp_file(c, n->name, "log", f, sizeof(f));
    ARG("--log-facility=%s", f);
    if (!n->dns)
        ARG("--port=0");
    if (n->boot_dir[0]) {
        /* TFTP on this network's bridge only (--bind-interfaces above) */
        ARG("--enable-tftp");
        ARG("--tftp-root=%s", n->boot_dir);
        if (n->boot_file[0])
            ARG("--dhcp-boot=%s", n->boot_file);
    }
    argv[i] = NULL;
#undef ARG
    return 0;
}

static int read_pidfile(const char *path)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    unsigned int pid;

    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -ENOENT;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    if (net_parse_uint(buf, 0x3fffffff, &pid) < 0 || pid == 0)
        return -EINVAL;
    return (int)pid;
}

bool net_dhcp_running(struct net_ctx *c, const char *name, int pid)
{
    char p[64], cmdline[8192], want[PATH_MAX + 16], pidf[PATH_MAX];
    ssize_t n, i;

    if (pid <= 0 || !ts_pid_alive(pid))
        return false;
    snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
    n = ts_read_small(p, cmdline, sizeof(cmdline));
    if (n <= 0)
        return false;
    net_dhcp_file(c, name, "pid", pidf, sizeof(pidf));
    snprintf(want, sizeof(want), "--pid-file=%s", pidf);
    for (i = 0; i < n; i += (ssize_t)strlen(cmdline + i) + 1)
        if (!strcmp(cmdline + i, want))
            return true;
    return false;
}

static void tail_of(const char *path, char *out, size_t len)
{
    char buf[2048];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    char *last, *p;

    out[0] = 0;
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    last = buf;
    for (p = buf; (p = strchr(p, '\n')); p++)
        last = p + 1;
    n = (ssize_t)strlen(last);
    if ((size_t)n >= len)
        n = (ssize_t)len - 1;
    memcpy(out, last, (size_t)n);
    out[n] = 0;
}

int net_dhcp_start(struct net_ctx *c, const struct net_conf *n)
{
    char *argv[NET_DHCP_MAXARGS], store[4096], pidf[PATH_MAX], logf[PATH_MAX], hostf[PATH_MAX];
    char leasef[PATH_MAX], why[600];
    int rc, status, fd, pid, tries;
    pid_t child;

    if ((rc = net_dhcp_argv(c, n, argv, store, sizeof(store))) < 0)
        return net_fail(c, rc, "dnsmasq command line for %s too long", n->name);
    if (n->boot_dir[0] && access(n->boot_dir, R_OK | X_OK) < 0)
        return net_fail(c, -errno, "network %s: boot-dir %s: %s", n->name, n->boot_dir,
                        strerror(errno));
    if (access(n->dnsmasq, X_OK) < 0)
        return net_fail(c, -errno, "network %s: cannot run %s: %s (install the dnsmasq-base "
                        "package, or set dnsmasq = PATH, or dhcp = off)", n->name, n->dnsmasq,
                        strerror(errno));
    net_dhcp_file(c, n->name, "pid", pidf, sizeof(pidf));
    net_dhcp_file(c, n->name, "log", logf, sizeof(logf));
    net_dhcp_file(c, n->name, "hosts", hostf, sizeof(hostf));
    net_dhcp_file(c, n->name, "leases", leasef, sizeof(leasef));
    unlink(pidf);
    /* the fixed-hosts file must exist (dnsmasq reads it as its own user after dropping root) */
    fd = open(hostf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return net_fail(c, -errno, "cannot create %s: %s", hostf, strerror(errno));
    close(fd);
    fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = net_fail(c, -errno, "cannot create %s: %s", logf, strerror(errno));
        goto fail;
    }
    child = fork();
    if (child < 0) {
        rc = net_fail(c, -errno, "fork: %s", strerror(errno));
        close(fd);
        goto fail;
    }
    if (child == 0) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
        }
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fd);
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            rc = net_fail(c, -errno, "waitpid: %s", strerror(errno));
            goto fail;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tail_of(logf, why, sizeof(why));
        rc = net_fail(c, -EIO, "network %s: %s did not start (%s %d)%s%s", n->name, n->dnsmasq,
                      WIFEXITED(status) ? "exit status" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                      why[0] ? ": " : "", why);
        goto fail;
    }
    /* the daemon writes its pid file before the parent returns; allow for a slow disk */
    for (tries = 0; tries < 50; tries++) {
        pid = read_pidfile(pidf);
        if (pid > 0 && net_dhcp_running(c, n->name, pid))
            return pid;
        usleep(20000);
    }
    rc = net_fail(c, -EIO, "network %s: %s started but left no pid file %s", n->name, n->dnsmasq,
                  pidf);
fail:
    unlink(pidf);
    unlink(hostf);
    unlink(logf);
    unlink(leasef);
    return rc;
}

int net_dhcp_stop(struct net_ctx *c, const char *name)
{
    char f[PATH_MAX];
    const char *exts[] = { "pid", "leases", "hosts", "log" };
    int pid, i;

    net_dhcp_file(c, name, "pid", f, sizeof(f));
    pid = read_pidfile(f);
    if (pid > 0 && net_dhcp_running(c, name, pid)) {
        kill(pid, SIGTERM);
        for (i = 0; i < 100 && ts_pid_alive(pid); i++)      /* up to 2 s */
            usleep(20000);
        if (ts_pid_alive(pid)) {
            kill(pid, SIGKILL);
            for (i = 0; i < 50 && ts_pid_alive(pid); i++)
                usleep(20000);
        }
        if (ts_pid_alive(pid))
            return net_fail(c, -EBUSY, "dnsmasq of network %s (pid %d) does not stop", name, pid);
    }
    for (i = 0; i < 4; i++) {
        net_dhcp_file(c, name, exts[i], f, sizeof(f));
        unlink(f);
    }
    return 0;
}

static int hosts_edit(struct net_ctx *c, const char *name, const uint8_t mac[6],
                      const struct in_addr *ip)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], m[18], line[128], a[INET_ADDRSTRLEN];
    FILE *in, *out;
    int pid, rc = 0;

    net_dhcp_file(c, name, "hosts", path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    net_format_mac(mac, m);
    out = fopen(tmp, "w");
    if (!out)
        return net_fail(c, -errno, "cannot write %s: %s", tmp, strerror(errno));
    in = fopen(path, "r");
    if (in) {
        while (fgets(line, sizeof(line), in))
            if (strncasecmp(line, m, 17))
                fputs(line, out);
        fclose(in);
    }
    if (ip)
        fprintf(out, "%s,%s\n", m, inet_ntop(AF_INET, ip, a, sizeof(a)));
    if (fclose(out) != 0 || rename(tmp, path) < 0) {
        rc = net_fail(c, -errno, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return rc;
    }
    chmod(path, 0644);
    net_dhcp_file(c, name, "pid", path, sizeof(path));
    pid = read_pidfile(path);
    if (pid > 0 && net_dhcp_running(c, name, pid))
        kill(pid, SIGHUP);
    return 0;
}

int net_dhcp_host_add(struct net_ctx *c, const char *name, const uint8_t mac[6], struct in_addr ip)
{
    return hosts_edit(c, name, mac, &ip);
}

int net_dhcp_host_del(struct net_ctx *c, const char *name, const uint8_t mac[6])
{
    return hosts_edit(c, name, mac, NULL);
}

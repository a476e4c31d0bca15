/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domctl.c: hvmctl's commands on running domains: list, pause, unpause, shutdown, reboot,
 * destroy, cd-insert, cd-eject, log. Each is a thin layer over one libxl call; what hvmctl adds
 * is a name or an id for DOM, a clear error, and (list) which device model serves the guest.
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

/* ---- list ------------------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void state_string(const libxl_dominfo *i, char out[7])
{
    bool crashed = i->shutdown && i->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH;

    out[0] = i->running ? 'r' : '-';
    out[1] = i->blocked ? 'b' : '-';
    out[2] = i->paused ? 'p' : '-';
    out[3] = i->shutdown && !crashed ? 's' : '-';
    out[4] = crashed ? 'c' : '-';
    out[5] = i->dying ? 'd' : '-';
    out[6] = '\0';
}

/* which device model serves domid: its pid (0: none) and what it is ("hvmd", "qemu-xen", path) */
static long dm_of(struct xs_handle *xs, uint32_t domid, char *what, size_t wlen)
{
    char path[64], exe[PATH_MAX], link[64];
    unsigned int len;
    char *v;
    long pid = 0;
    ssize_t n;

    snprintf(what, wlen, "-");
    if (!xs)
        return 0;
    snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid", domid);
    v = xs_read(xs, XBT_NULL, path, &len);
    if (!v)
        return 0;
    if (ts_parse_long(v, &pid) < 0 || pid <= 0) {
        free(v);
        return 0;
    }
    free(v);
    snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
    n = readlink(link, exe, sizeof(exe) - 1);
    if (n <= 0) {
        snprintf(what, wlen, "gone");
        return pid;
    }
    exe[n] = '\0';
    if (strstr(exe, "/hvmd"))
        snprintf(what, wlen, "hvmd");
    else if (strstr(exe, "qemu"))
        snprintf(what, wlen, "qemu-xen");
    else
        snprintf(what, wlen, "%s", exe);
    return pid;
}

static long monitor_of(struct ts_xl *x, uint32_t domid)
{
    uint8_t *data = NULL;
    int len = 0;
    long pid = 0;
    char *p;

    if (libxl_userdata_retrieve(x->ctx, domid, "hvmctl", &data, &len) || !data || len <= 0)
        return 0;
    p = strstr((char *)data, "\"monitor_pid\":");
    if (p)
        pid = strtol(p + 14, NULL, 10);
    free(data);
    /* a monitor that went away (killed) is no monitor */
    if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        pid = 0;
    return pid;
}

static const char list_usage[] =
    "usage: hvmctl list [--json] [DOM ...]\n"
    "The domains Xen runs: name, id, memory, vCPUs, state (r running, b blocked, p paused,\n"
    "s shut down, c crashed, d dying), CPU time, type, device model, hvmctl's monitor.\n"
    "  --json   one JSON array, an object per domain\n";

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xs_handle *xs;
    libxl_dominfo *info;
    struct ts_xl x;
    bool json = false;
    int opt, n, i, k, printed = 0, status = 0;

    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (opt) {
        case 'j': json = true; break;
        case 'h': return ts_usage(list_usage, 0);
        default: return ts_usage(list_usage, 2);
        }
    }
    if (ts_xl_open(&x, NULL, 0) < 0)
        return 1;
    /* only the listed ones, if any: check they exist first */
    for (k = optind; k < argc; k++) {
        uint32_t domid;
        if (libxl_domain_qualifier_to_domid(x.ctx, argv[k], &domid) ||
            libxl_domain_info(x.ctx, NULL, domid)) {
            ts_err("no domain '%s'", argv[k]);
            status = 1;
        }
    }
    info = libxl_list_domain(x.ctx, &n);
    if (!info) {
        ts_err("cannot list domains");
        ts_xl_close(&x);
        return 1;
    }
    xs = xs_open(XS_OPEN_READONLY);
    if (json)
        fputs("[", stdout);
    else
        printf("%-20s %5s %7s %5s %-6s %9s %-4s %-14s %s\n", "Name", "ID", "Mem(MB)", "VCPUs",
               "State", "Time(s)", "Type", "Device model", "Monitor");
    for (i = 0; i < n; i++) {
        char *name = libxl_domid_to_name(x.ctx, info[i].domid);
        char st[7], dm[PATH_MAX];
        const char *type = info[i].domid == 0 ? "pv"
                           : libxl_domain_type_to_string(ts_domain_type(&x, info[i].domid));
        long dmpid = info[i].domid ? dm_of(xs, info[i].domid, dm, sizeof(dm)) : 0;
        long mon = info[i].domid ? monitor_of(&x, info[i].domid) : 0;
        bool wanted = optind >= argc;

        for (k = optind; k < argc && !wanted; k++) {
            uint32_t domid;
            wanted = !libxl_domain_qualifier_to_domid(x.ctx, argv[k], &domid) &&
                     domid == info[i].domid;
        }
        if (!wanted) {
            free(name);
            continue;
        }
        if (!dmpid)
            snprintf(dm, sizeof(dm), "-");
        state_string(&info[i], st);
        if (json) {
            fputs(printed++ ? ",\n {" : "\n {", stdout);
            fputs("\"name\": ", stdout);
            json_str(stdout, name ? name : "");
            printf(", \"domid\": %u, \"memory_mb\": %" PRIu64 ", \"max_memory_mb\": %" PRIu64
                   ", \"vcpus\": %u, \"state\": \"%s\", \"cpu_time_s\": %.1f, \"type\": \"%s\"",
                   info[i].domid, info[i].current_memkb / 1024, info[i].max_memkb / 1024,
                   info[i].vcpu_online, st, (double)info[i].cpu_time / 1e9,
                   type ? type : "unknown");
            if (dmpid) {
                printf(", \"device_model\": {\"pid\": %ld, \"kind\": ", dmpid);
                json_str(stdout, dm);
                fputs("}", stdout);
            } else {
                fputs(", \"device_model\": null", stdout);
            }
            if (mon)
                printf(", \"monitor_pid\": %ld}", mon);
            else
                fputs(", \"monitor_pid\": null}", stdout);
        } else {
            char dmcol[64], moncol[24];

            if (dmpid)
                snprintf(dmcol, sizeof(dmcol), "%.30s %ld", dm, dmpid);
            else
                snprintf(dmcol, sizeof(dmcol), "-");
            if (mon)
                snprintf(moncol, sizeof(moncol), "%ld", mon);
            else
                snprintf(moncol, sizeof(moncol), "-");
            printf("%-20s %5u %7" PRIu64 " %5u %-6s %9.1f %-4s %-14s %s\n", name ? name : "?",
                   info[i].domid, info[i].current_memkb / 1024, info[i].vcpu_online, st,
                   (double)info[i].cpu_time / 1e9, type ? type : "?", dmcol, moncol);
        }
        free(name);
    }
    if (json)
        fputs(printed ? "\n]\n" : "]\n", stdout);
    if (xs)
        xs_close(xs);
    libxl_dominfo_list_free(info, n);
    ts_xl_close(&x);
    return status;
}

/* ---- pause, unpause, destroy: DOM ... -------------------------------------------------------- */

enum simple_op { OP_PAUSE, OP_UNPAUSE, OP_DESTROY };

static int simple(int argc, char **argv, enum simple_op op, const char *usage)
{
    struct ts_xl x;
    uint32_t domid;
    int i, rc, status = 0;

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (ts_xl_open(&x, NULL, 0) < 0)
        return 1;
    for (i = 1; i < argc; i++) {
        if (ts_find_domain(&x, argv[i], &domid) < 0) {
            status = 1;
            continue;
        }
        switch (op) {
        case OP_PAUSE: rc = libxl_domain_pause(x.ctx, domid, NULL); break;
        case OP_UNPAUSE: rc = libxl_domain_unpause(x.ctx, domid, NULL); break;
        default: rc = libxl_domain_destroy(x.ctx, domid, NULL); break;
        }
        if (rc) {
            ts_err("%s %s: %s", argv[0], argv[i], ts_libxl_strerror(rc));
            status = 1;
        }
    }
    ts_xl_close(&x);
    return status;
}

int cmd_pause(int argc, char **argv)
{
    return simple(argc, argv, OP_PAUSE,
                  "usage: hvmctl pause DOM ...\nStop scheduling the guest's vCPUs (hvmctl "
                  "unpause resumes them).\n");
}

int cmd_unpause(int argc, char **argv)
{
    return simple(argc, argv, OP_UNPAUSE, "usage: hvmctl unpause DOM ...\nResume a paused guest.\n");
}

int cmd_destroy(int argc, char **argv)
{
    return simple(argc, argv, OP_DESTROY,
                  "usage: hvmctl destroy DOM ...\nEnd the guest at once, as a power cut would; "
                  "its device model, vifs, backends\nand xenstore nodes go with it.\n");
}

/* ---- shutdown, reboot ---------------------------------------------------------------------------- */

static int wait_for_end(struct ts_xl *x, uint32_t domid, long secs)
{
    struct timespec t0, now;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        libxl_dominfo info;
        int rc;

        libxl_dominfo_init(&info);
        rc = libxl_domain_info(x->ctx, &info, domid);
        libxl_dominfo_dispose(&info);
        if (rc == ERROR_DOMAIN_NOTFOUND)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= secs)
            return -ETIMEDOUT;
        usleep(200 * 1000);
    }
}

static int shutdown_or_reboot(int argc, char **argv, bool reboot)
{
    static const struct option opts[] = {
        { "force-acpi", no_argument, NULL, 'F' },
        { "wait", no_argument, NULL, 'w' },
        { "timeout", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *usage = reboot
        ? "usage: hvmctl reboot [-F] DOM\nAsk the guest to reboot (through its PV control "
          "interface); its monitor builds it again.\n"
          "  -F   a guest without PV drivers gets an ACPI reset instead\n"
        : "usage: hvmctl shutdown [-F] [-w [--timeout SECS]] DOM\nAsk the guest to power off "
          "(through its PV control interface).\n"
          "  -F   a guest without PV drivers gets an ACPI power button press instead\n"
          "  -w   wait until the domain is gone (default timeout 60 s)\n";
    struct ts_xl x;
    uint32_t domid;
    bool force = false, wait = false;
    long timeout = 60;
    int opt, rc, status = 1;

    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "Fwt:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'F': force = true; break;
        case 'w': wait = true; break;
        case 't':
            if (ts_parse_long(optarg, &timeout) < 0 || timeout < 1) {
                ts_err("%s: --timeout %s: seconds", argv[0], optarg);
                return 2;
            }
            break;
        case 'h': return ts_usage(usage, 0);
        default: return ts_usage(usage, 2);
        }
    }
    if (optind != argc - 1) {
        return ts_usage(usage, 2);
    }
    if (ts_xl_open(&x, NULL, 0) < 0)
        return 1;
    if (ts_find_domain(&x, argv[optind], &domid) < 0)
        goto out;
    rc = reboot ? libxl_domain_reboot(x.ctx, domid, NULL)
                : libxl_domain_shutdown(x.ctx, domid, NULL);
    if (rc == ERROR_NOPARAVIRT) {
        if (!force) {
            ts_err("%s %s: the guest has no PV control interface (no PV drivers yet?); -F "
                   "sends an ACPI %s instead", argv[0], argv[optind],
                   reboot ? "reset" : "power button press");
            goto out;
        }
        rc = libxl_send_trigger(x.ctx, domid, reboot ? LIBXL_TRIGGER_RESET : LIBXL_TRIGGER_POWER,
                                0, NULL);
    }
    if (rc) {
        ts_err("%s %s: %s", argv[0], argv[optind], ts_libxl_strerror(rc));
        goto out;
    }
    status = 0;
    if (wait && !reboot) {
        if (wait_for_end(&x, domid, timeout) < 0) {
            ts_err("%s %s: the domain is still there after %ld s", argv[0], argv[optind],
                   timeout);
            status = 1;
        }
    }
out:
    ts_xl_close(&x);
    return status;
}

int cmd_shutdown(int argc, char **argv)
{
    return shutdown_or_reboot(argc, argv, false);
}

int cmd_reboot(int argc, char **argv)
{
    return shutdown_or_reboot(argc, argv, true);
}

/* ---- cd-insert, cd-eject ------------------------------------------------------------------------- */

static int cd_change(const char *cmd, const char *dom, const char *vdev, const char *file)
{
    libxl_device_disk disk;
    XLU_Config *cfg;
    struct ts_xl x;
    uint32_t domid;
    char *spec;
    const char *specs[1];
    int rc, status = 1;

    if (strpbrk(vdev, ",=") || (file && strchr(file, ','))) {
        ts_err("%s: a ',' or '=' in '%s' cannot be in a disk spec", cmd, file ? file : vdev);
        return 1;
    }
    if (file) {
        struct stat st;
        if (stat(file, &st) < 0 || access(file, R_OK) < 0) {
            ts_err("%s: %s: %s", cmd, file, strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            ts_err("%s: %s: is a directory", cmd, file);
            return 1;
        }
    }
    spec = ts_asprintf("vdev=%s,access=r,devtype=cdrom,format=raw,target=%s", vdev,
                       file ? file : "");
    specs[0] = spec;
    cfg = xlu_cfg_init(stderr, "command line");
    libxl_device_disk_init(&disk);
    if (!cfg || xlu_disk_parse(cfg, 1, specs, &disk)) {
        ts_err("%s: '%s' is not a valid CD-ROM spec", cmd, spec);
        goto out_nox;
    }
    if (ts_xl_open(&x, NULL, 0) < 0)
        goto out_nox;
    if (ts_find_domain(&x, dom, &domid) < 0)
        goto out;
    rc = libxl_cdrom_insert(x.ctx, domid, &disk, NULL);
    if (rc) {
        ts_err("%s %s %s: %s (is %s a CD-ROM drive of that guest?)", cmd, dom, vdev,
               ts_libxl_strerror(rc), vdev);
        goto out;
    }
    status = 0;
out:
    ts_xl_close(&x);
out_nox:
    libxl_device_disk_dispose(&disk);
    if (cfg)
        xlu_cfg_destroy(cfg);
    free(spec);
    return status;
}

int cmd_cd_insert(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs("usage: hvmctl cd-insert DOM VDEV FILE\nPut the image FILE into the guest's "
              "CD-ROM drive VDEV (e.g. hdc).\n", stdout);
        return 0;
    }
    if (argc != 4) {
        fputs("usage: hvmctl cd-insert DOM VDEV FILE\n", stderr);
        return 2;
    }
    return cd_change("cd-insert", argv[1], argv[2], argv[3]);
}

int cmd_cd_eject(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs("usage: hvmctl cd-eject DOM VDEV\nEmpty the guest's CD-ROM drive VDEV "
              "(e.g. hdc).\n", stdout);
        return 0;
    }
    if (argc != 3) {
        fputs("usage: hvmctl cd-eject DOM VDEV\n", stderr);
        return 2;
    }
    return cd_change("cd-eject", argv[1], argv[2], NULL);
}

/* ---- log ---------------------------------------------------------------------------------------- */

static volatile sig_atomic_t log_stop;
static void on_int(int sig)
{
    (void)sig;
    log_stop = 1;
}

static const char log_usage[] =
    "usage: hvmctl log DOM [-f] [--monitor]\n"
    "Print the device model's log of a guest (/var/log/xen/qemu-dm-NAME.log, where libxl puts\n"
    "it, for hvmd as for qemu-xen). DOM may also name a guest that is gone.\n"
    "  -f, --follow   keep printing what is added, until Ctrl-C\n"
    "  --monitor      hvmctl's monitor log of the guest instead (LOG_DIR/hvmctl-NAME.log)\n";

int cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {
        { "follow", no_argument, NULL, 'f' },
        { "monitor", no_argument, NULL, 'm' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    bool follow = false, mon = false;
    char *name = NULL, *path = NULL;
    int opt, fd = -1, status = 1;
    long idl;

    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (opt) {
        case 'f': follow = true; break;
        case 'm': mon = true; break;
        case 'h': return ts_usage(log_usage, 0);
        default: return ts_usage(log_usage, 2);
        }
    }
    if (optind != argc - 1) {
        return ts_usage(log_usage, 2);
    }
    if (ts_settings_load(&s, NULL, &d) < 0) {
        ts_settings_free(&s);
        return 1;
    }
    /* a domid names a running guest; a name may be a guest that is gone */
    if (ts_parse_long(argv[optind], &idl) == 0) {
        struct ts_xl x;

        if (ts_xl_open(&x, NULL, 0) == 0) {
            name = libxl_domid_to_name(x.ctx, (uint32_t)idl);
            ts_xl_close(&x);
        }
        if (!name) {
            ts_err("log: no domain with id %ld", idl);
            goto out;
        }
    } else {
        name = ts_strdup(argv[optind]);
    }
    if (strchr(name, '/')) {
        ts_err("log: '%s' is not a domain name", name);
        goto out;
    }
    path = mon ? ts_asprintf("%s/hvmctl-%s.log", s.log_dir, name)
               : ts_asprintf("/var/log/xen/qemu-dm-%s.log", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && !mon)
            ts_err("log: %s: no device model log (a PV or PVH guest has a device model only "
                   "for qdisk disks or a framebuffer; its console log is "
                   "/var/log/xen/console/guest-%s.log)", path, name);
        else
            ts_err("log: %s: %s", path, strerror(errno));
        goto out;
    }
    if (follow) {
        signal(SIGINT, on_int);
        signal(SIGTERM, on_int);
    }
    for (;;) {
        char buf[8192];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n > 0) {
            if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR && !log_stop)
            continue;
        if (!follow || log_stop)
            break;
        fflush(stdout);
        usleep(300 * 1000);
        if (log_stop)
            break;
    }
    fflush(stdout);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(name);
    free(path);
    ts_settings_free(&s);
    return status;
}

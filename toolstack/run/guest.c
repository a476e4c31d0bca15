/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.c: one `hvmctl run` of one config, on Xen: build the guest paused through libxl,
 * open what it will print on before it prints anything, unpause, follow it to a verdict, tear
 * everything down, write the artifacts.
 *
 * What is followed (each line timestamped from the create):
 *   serial  the emulated UART of an HVM guest: the pty the device model opened, which libxl
 *           writes to /local/domain/D/serial/0/tty (serial = "pty", hvmctl's default);
 *   pv      the PV console: xenconsoled's pty, /local/domain/D/console/tty;
 *   xen     Xen's console ring (xc_readconsolering, incremental from where it stood before
 *           the create): the guest's own (dN) lines (hvmloader, SeaBIOS through the debug port,
 *           a kernel's earlyprintk=xen) and Xen's lines about the domain (dNvM: triple fault);
 *   dm      the device model's log, /var/log/xen/qemu-dm-NAME.log (libxl's name for it).
 * The domain's end comes from its state (libxl_domain_info), checked every tick and at once
 * when xenstore's @releaseDomain watch fires (xenstored fires it on a shutdown as well as on a
 * destroy). The device model's death: its pid (image/device-model-pid) is gone or a zombie.
 *
 * The domain is built as `hvmctl create` builds it (xl/create.c: load, lock, check, build).
 * The run is its own toolstack for the guest: on_poweroff/on_reboot/on_crash are not carried out
 * (a run ends with the domain's first shutdown), and the teardown is libxl_domain_destroy, then
 * a check that nothing is left: the domain, its device model, its xenstore nodes (its own, the
 * device model's, every backend's), its vifs. What is left is an infrastructure error.
 */
#include "toolstack/run/run.h"
#include "toolstack/xl/xl.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>

struct guest {
    const struct run_opts *o;
    struct run_result *r;
    struct ts_settings s;
    bool settings;
    struct ts_guest tg;     /* the config, the libxl context, the create lock (xl/create.c) */
    struct xs_handle *xs;
    xc_interface *xch;
    uint32_t con_index;     /* Xen console ring: where we are */
    char *con_part;         /* a partial line from the ring */
    size_t con_part_len;
    uint32_t domid;
    bool created;
    long dm_pid;
    char *reboot_left;      /* what a domain destroyed at a followed reboot left, or NULL */
    bool screen;            /* the text screen is a source (run_spec_wants_screen) */
    double screen_next;     /* when to read it next */
    char *screen_prev;      /* what it showed last (NULL: nothing read yet) */
    char *dm_log_path;
    FILE *log[RUN_NSRC];
    FILE *all;
    unsigned long long log_bytes[RUN_NSRC], all_bytes;   /* written into them (RUN_LOG_MAX) */
    struct run_fd fds[RUN_NSRC];
    int nfds;
    struct run_engine *engine;
};

/* ---- artifacts -------------------------------------------------------------------------------- */

static const char *const artifact_files[] = {
    "serial.log", "pv.log", "xen.log", "dm.log", "console.log", "result.json", "junit.xml",
    "domain.json", "vga.txt", "screen.png", "screen.log", NULL,
};

/* a run's folder: made, and cleared of what an earlier run left in it (our files only) */
static int prepare_dir(const char *dir)
{
    struct stat st;
    int i, rc = ts_mkdir_p(dir);

    if (rc == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        rc = -ENOTDIR;
    if (rc)
        return rc;
    for (i = 0; artifact_files[i]; i++) {
        char *p = ts_asprintf("%s/%s", dir, artifact_files[i]);
        unlink(p);
        free(p);
    }
    return 0;
}

static FILE *open_artifact(struct guest *g, const char *file)
{
    char *p = ts_asprintf("%s/%s", g->o->artifacts, file);
    FILE *f = fopen(p, "w");

    if (!f)
        ts_err("run: %s: %s", p, strerror(errno));
    else
        setvbuf(f, NULL, _IOLBF, 0);
    free(p);
    return f;
}

/* each source's artifact log */
static const char *const src_files[RUN_NSRC] = { "serial.log", "pv.log", "xen.log", "dm.log",
                                                 "screen.log" };

/* each finished line: its source's file, the merged console.log, and the live output */
static void on_line(void *opaque, enum run_src src, double t, const char *line, size_t len)
{
    struct guest *g = opaque;

    run_log_printf(g->log[src], &g->log_bytes[src], RUN_LOG_MAX, src_files[src],
                   "[%9.3f] %s\n", t, line);
    run_log_printf(g->all, &g->all_bytes, RUN_LOG_MAX, "console.log", "[%9.3f] %-6s| %s\n", t,
                   run_src_name(src), line);
    if (g->o->live_prefix) {
        char *out = ts_asprintf("%s[%8.3f %-6s] %s\n", g->o->live_prefix, t, run_src_name(src),
                                line);
        size_t n = strlen(out), off = 0;

        /* one write per line: runs side by side (-j) interleave whole lines */
        while (off < n) {
            ssize_t w = write(1, out + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        free(out);
    }
    (void)len;
}

static void follow_source(struct guest *g, enum run_src src, int fd, bool follow, const char *what)
{
    g->r->followed[src] = true;
    free(g->r->console_files[src]);
    g->r->console_files[src] = ts_strdup(src_files[src]);
    if (!g->log[src])
        g->log[src] = open_artifact(g, src_files[src]);
    if (fd >= 0) {
        g->fds[g->nfds].fd = fd;
        g->fds[g->nfds].src = src;
        g->fds[g->nfds].follow = follow;
        g->fds[g->nfds].eof = false;
        g->nfds++;
    }
    if (g->o->verbose >= 0)
        ts_info("run: %s: following %s (%s)", g->r->name, run_src_name(src), what);
}

/* ---- the sources -------------------------------------------------------------------------------- */

static char *xs_read_str(struct xs_handle *xs, const char *path)
{
    unsigned int len;
    char *v = xs_read(xs, XBT_NULL, path, &len);

    if (v && !*v) {
        free(v);
        v = NULL;
    }
    return v;
}

/* wait (bounded) for a xenstore node that a daemon writes soon after the create */
static char *xs_wait_str(struct guest *g, const char *path, double secs)
{
    double end = run_now() + secs;

    for (;;) {
        char *v = xs_read_str(g->xs, path);

        if (v || run_now() >= end)
            return v;
        usleep(20 * 1000);
    }
}

static int open_pty(const char *path)
{
    struct termios tio;
    /* read and write: --write and --login type on it, as xl console does */
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    /* raw: no line buffering, no CR/NL rewriting, no echo back to the guest */
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSANOW, &tio);
    }
    return fd;
}

static bool serial_is_pty(const libxl_domain_config *dc)
{
    const char *s = dc->b_info.u.hvm.serial;

    if (dc->b_info.u.hvm.serial_list && dc->b_info.u.hvm.serial_list[0])
        s = dc->b_info.u.hvm.serial_list[0];
    return s && !strncmp(s, "pty", 3);
}

/* Xen's console ring: start from where it stands now */
static int xen_console_open(struct guest *g)
{
    char buf[16384];
    unsigned int n;
    int guard;

    g->xch = xc_interface_open(NULL, NULL, 0);
    if (!g->xch)
        return -errno;
    g->con_index = 0;
    for (guard = 0; guard < 4096; guard++) {
        n = sizeof(buf);
        if (xc_readconsolering(g->xch, buf, &n, 0, 1, &g->con_index) < 0)
            return -errno;
        if (n < sizeof(buf))
            break;
    }
    return 0;
}

static void xen_console_line(struct guest *g, struct run_engine *e, char *line, size_t len,
                             double t)
{
    long off;

    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    off = run_xen_line_of(line, g->domid);
    if (off >= 0)
        run_engine_line(e, RUN_SRC_XEN, line + off, len - (size_t)off, t);
}

static void xen_console_poll(struct guest *g, struct run_engine *e, double t)
{
    char buf[16384];
    int rounds;

    if (!g->xch)
        return;
    for (rounds = 0; rounds < 64; rounds++) {
        unsigned int n = sizeof(buf);
        size_t i, start = 0;
        char *joined;

        if (xc_readconsolering(g->xch, buf, &n, 0, 1, &g->con_index) < 0 || n == 0)
            return;
        /* split into lines, the partial one kept for the next read */
        joined = realloc(g->con_part, g->con_part_len + n + 1);
        if (!joined)
            return;
        memcpy(joined + g->con_part_len, buf, n);
        g->con_part = joined;
        g->con_part_len += n;
        for (i = 0; i < g->con_part_len; i++) {
            if (g->con_part[i] != '\n')
                continue;
            g->con_part[i] = '\0';
            xen_console_line(g, e, g->con_part + start, i - start, t);
            start = i + 1;
        }
        memmove(g->con_part, g->con_part + start, g->con_part_len - start);
        g->con_part_len -= start;
        if (g->con_part_len > RUN_LINE_MAX) {
            g->con_part[g->con_part_len] = '\0';
            xen_console_line(g, e, g->con_part, g->con_part_len, t);
            g->con_part_len = 0;
        }
        if (n < sizeof(buf))
            return;
    }
}

/* the device model's pid, 0 if there is none */
static long dm_pid_of(struct guest *g)
{
    char path[80];
    char *v;
    long pid = 0;

    snprintf(path, sizeof(path), "/local/domain/%u/image/device-model-pid", g->domid);
    v = xs_read_str(g->xs, path);
    if (v && (ts_parse_long(v, &pid) < 0 || pid <= 0))
        pid = 0;
    free(v);
    return pid;
}

/* ---- the text screen as a source ---------------------------------------------------------------- */

struct screen_feed {
    struct run_engine *e;
    double t;
};

static void screen_row(void *opaque, const char *row, size_t len)
{
    struct screen_feed *f = opaque;

    run_engine_line(f->e, RUN_SRC_SCREEN, row, len, f->t);
}

/* twice a second: the rows the screen shows that it did not show before. Before the device
 * model's monitor is up, or in a graphics mode, there is nothing to read: tried again. */
static void screen_poll(struct guest *g, struct run_engine *e, double t)
{
    struct screen_feed f = { e, t };
    char why[200], *text;

    if (!g->screen || t < g->screen_next || e->verdict != RUN_RUNNING)
        return;
    g->screen_next = t + 0.5;
    if (run_vga_text(g->domid, &text, why, sizeof(why)) < 0)
        return;
    run_screen_diff(g->screen_prev, text, screen_row, &f);
    free(g->screen_prev);
    g->screen_prev = text;
}

/* ---- the hook: Xen console, domain state, device model ------------------------------------------ */

static void follow_all(struct guest *g);
static int guest_reboot(struct guest *g, struct run_engine *e, double t);

static void hook_poll(void *opaque, struct run_engine *e, double t, struct run_dom_state *st)
{
    struct guest *g = opaque;
    libxl_dominfo info;
    int rc;

    xen_console_poll(g, e, t);
    screen_poll(g, e, t);
    libxl_dominfo_init(&info);
    rc = libxl_domain_info(g->tg.x.ctx, &info, g->domid);
    if (rc == ERROR_DOMAIN_NOTFOUND || (rc == 0 && info.dying)) {
        st->ended = true;
        st->ev = RUN_EV_GONE;
    } else if (rc == 0 && info.shutdown) {
        st->ended = true;
        switch (info.shutdown_reason) {
        case LIBXL_SHUTDOWN_REASON_POWEROFF: st->ev = RUN_EV_POWEROFF; break;
        case LIBXL_SHUTDOWN_REASON_REBOOT:
            st->ev = RUN_EV_REBOOT;
            /* --reboots: followed, as xl's on_reboot = "restart" would */
            if (e->n_reboots < g->o->spec->reboots && e->verdict == RUN_RUNNING) {
                libxl_dominfo_dispose(&info);
                st->ended = false;
                guest_reboot(g, e, t);
                return;
            }
            break;
        case LIBXL_SHUTDOWN_REASON_CRASH: st->ev = RUN_EV_CRASH; break;
        case LIBXL_SHUTDOWN_REASON_WATCHDOG: st->ev = RUN_EV_WATCHDOG; break;
        case LIBXL_SHUTDOWN_REASON_SUSPEND: st->ev = RUN_EV_SUSPEND; break;
        case LIBXL_SHUTDOWN_REASON_SOFT_RESET: st->ev = RUN_EV_SOFT_RESET; break;
        default: st->ev = RUN_EV_GONE; break;
        }
    } else if (g->dm_pid > 0 && !ts_pid_alive(g->dm_pid)) {
        st->ended = true;
        st->ev = RUN_EV_DM_EXIT;
        snprintf(st->detail, sizeof(st->detail), "pid %ld, its log is %s", g->dm_pid,
                 g->dm_log_path ? g->dm_log_path : "?");
    }
    libxl_dominfo_dispose(&info);
}

static void hook_watch(void *opaque)
{
    struct guest *g = opaque;
    unsigned int n;
    char **w = xs_read_watch(g->xs, &n);

    free(w);
}

/* ---- teardown ---------------------------------------------------------------------------------- */

static void add_left(char **left, const char *fmt, ...) TS_PRINTF(2, 3);
static void add_left(char **left, const char *fmt, ...)
{
    va_list ap;
    char *one, *joined;

    va_start(ap, fmt);
    if (vasprintf(&one, fmt, ap) < 0)
        one = NULL;
    va_end(ap);
    if (!one)
        return;
    joined = *left ? ts_asprintf("%s, %s", *left, one) : ts_strdup(one);
    free(one);
    free(*left);
    *left = joined;
}

/* what of domain domid (whose device model was dm_pid, 0 if none) is still there (NULL:
 * nothing) */
static char *leftovers(struct guest *g, uint32_t domid, long dm_pid)
{
    char path[96], **types;
    unsigned int i, n = 0;
    char *left = NULL, *v;
    glob_t gl;

    if (libxl_domain_info(g->tg.x.ctx, NULL, domid) != ERROR_DOMAIN_NOTFOUND)
        add_left(&left, "domain %u", domid);
    if (dm_pid > 0 && ts_pid_alive(dm_pid))
        add_left(&left, "device model pid %ld", dm_pid);
    snprintf(path, sizeof(path), "/local/domain/0/device-model/%u", domid);
    if ((v = xs_read(g->xs, XBT_NULL, path, &i)) != NULL) {
        free(v);
        add_left(&left, "xenstore %s", path);
    }
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    if ((v = xs_read(g->xs, XBT_NULL, path, &i)) != NULL) {
        free(v);
        add_left(&left, "xenstore %s", path);
    }
    types = xs_directory(g->xs, XBT_NULL, "/local/domain/0/backend", &n);
    for (i = 0; types && i < n; i++) {
        unsigned int l;

        snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", types[i], domid);
        if ((v = xs_read(g->xs, XBT_NULL, path, &l)) != NULL) {
            free(v);
            add_left(&left, "xenstore %s", path);
        }
    }
    free(types);
    snprintf(path, sizeof(path), "/sys/class/net/vif%u.*", domid);
    if (glob(path, 0, NULL, &gl) == 0) {
        for (i = 0; i < gl.gl_pathc; i++)
            add_left(&left, "network interface %s", strrchr(gl.gl_pathv[i], '/') + 1);
        globfree(&gl);
    }
    return left;
}

/* after libxl_domain_destroy of domid: what of it is still there once libxl is done and
 * the backends' hotplug scripts, which may trail a little, have had 15 s (NULL: nothing) */
static char *leftovers_after_destroy(struct guest *g, uint32_t domid, long dm_pid)
{
    double end = run_now() + 15;
    char *left = NULL;

    for (;;) {
        free(left);
        left = leftovers(g, domid, dm_pid);
        if (!left || run_now() >= end)
            return left;
        usleep(100 * 1000);
    }
}

static void teardown(struct guest *g)
{
    struct run_result *r = g->r;
    double t0 = run_now();
    char *left = NULL;
    int rc;

    if (!g->created && !g->reboot_left)
        return;
    if (g->created) {
        rc = libxl_domain_destroy(g->tg.x.ctx, g->domid, NULL);
        if (rc && rc != ERROR_DOMAIN_NOTFOUND)
            ts_err("run: %s: libxl_domain_destroy: %s", r->name, ts_libxl_strerror(rc));
        left = leftovers_after_destroy(g, g->domid, g->dm_pid);
    }
    if (g->reboot_left) {
        /* what the domains before a followed reboot left counts as well */
        char *both = left ? ts_asprintf("%s, %s", g->reboot_left, left)
                          : ts_strdup(g->reboot_left);

        free(left);
        left = both;
    }
    r->teardown_s = run_now() - t0;
    r->teardown_ok = left == NULL;
    r->left = left;
    if (left) {
        char *why = ts_asprintf("%s; the teardown left: %s", r->reason ? r->reason : "", left);

        free(r->reason);
        r->reason = why;
        r->verdict = RUN_ERROR;
        free(r->kind);
        r->kind = ts_strdup("teardown");
    }
}

/* the VGA text screen, while the device model still runs: what BIOS, a boot loader or an
 * installer showed last */
static void capture_vga(struct guest *g)
{
    const libxl_domain_config *dc = &g->tg.cfg.dc;
    char why[300], *text = NULL;
    FILE *f;

    if (dc->c_info.type != LIBXL_DOMAIN_TYPE_HVM ||
        dc->b_info.u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_NONE)
        return;
    if (g->dm_pid <= 0 || !ts_pid_alive(g->dm_pid)) {
        g->r->vga_note = ts_strdup("the device model was gone before the screen could be read");
        return;
    }
    if (run_vga_text(g->domid, &text, why, sizeof(why)) < 0) {
        g->r->vga_note = ts_strdup(why);
        ts_info("run: %s: no VGA text screen: %s", g->r->name, why);
        return;
    }
    f = open_artifact(g, "vga.txt");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    g->r->vga = text;
}

/* the uid and gid process PID runs as (/proc/PID/status, read line by line: its size is 0): 0
 * or -1 */
static int proc_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
    char path[64], line[256];
    unsigned long u = 0, g = 0;
    int have = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (have != 3 && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "Uid: %lu", &u) == 1)
            have |= 1;
        else if (sscanf(line, "Gid: %lu", &g) == 1)
            have |= 2;
    }
    fclose(f);
    if (have != 3)
        return -1;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
}

/* SRC to DST: a rename, or a copy where they are on different file systems; SRC is gone */
static int move_file(const char *src, const char *dst)
{
    char *data = NULL;
    size_t len;
    int fd, rc = -1;

    if (rename(src, dst) == 0)
        return 0;
    if (errno != EXDEV || ts_read_file(src, &data, &len) < 0)
        return -1;
    fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        rc = write(fd, data, len) == (ssize_t)len ? 0 : -1;
        if (close(fd) < 0)
            rc = -1;
    }
    free(data);
    unlink(src);
    return rc;
}

/* the last screen as a PNG (screen.png), written by the device model (QMP screendump through
 * HMP, as qemu-xen and hvmd both answer it): any mode, text or graphics. The device model may
 * run as another user (dm_restrict, hvmctl's default for hvmd): it writes into a directory of
 * its own under /tmp, and hvmctl moves the file into the artifacts. */
static void capture_png(struct guest *g)
{
    const libxl_domain_config *dc = &g->tg.cfg.dc;
    char why[300], tmpl[] = "/tmp/hvmctl-screen.XXXXXX", *p, *abs, *dir, *shot;
    uid_t uid;
    gid_t gid;

    if (dc->c_info.type != LIBXL_DOMAIN_TYPE_HVM ||
        dc->b_info.u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_NONE)
        return;
    if (g->dm_pid <= 0 || !ts_pid_alive(g->dm_pid))
        return;
    p = ts_asprintf("%s/screen.png", g->o->artifacts);
    abs = realpath(g->o->artifacts, NULL);
    if (abs) {
        free(p);
        p = ts_asprintf("%s/screen.png", abs);
        free(abs);
    }
    dir = mkdtemp(tmpl);
    if (!dir) {
        ts_info("run: %s: no screen.png: a directory for it: %s", g->r->name, strerror(errno));
        free(p);
        return;
    }
    if (proc_ids(g->dm_pid, &uid, &gid) < 0)
        ts_info("run: %s: screen.png: the device model's user is unknown (/proc/%ld/status)",
                g->r->name, (long)g->dm_pid);
    else if (uid != 0 && chown(dir, uid, gid) < 0)
        ts_info("run: %s: screen.png: %s for the device model's user: %s", g->r->name, dir,
                strerror(errno));
    shot = ts_asprintf("%s/screen.png", dir);
    if (run_vga_screendump(g->domid, shot, why, sizeof(why)) < 0)
        ts_info("run: %s: no screen.png: %s", g->r->name, why);
    else if (move_file(shot, p) < 0)
        ts_info("run: %s: no screen.png: moving it to %s: %s", g->r->name, p, strerror(errno));
    else
        g->r->vga_png = true;
    unlink(shot);
    rmdir(dir);
    free(shot);
    free(p);
}

/* the fd a console source is followed on, or -1 */
static int console_fd(struct guest *g, enum run_src src)
{
    int i;

    for (i = 0; i < g->nfds; i++)
        if (g->fds[i].src == src && g->fds[i].fd >= 0 && !g->fds[i].follow)
            return g->fds[i].fd;
    return -1;
}

/* all of s to a non-blocking fd, waiting up to 2 s for room: 0 or negative errno */
static int write_fd(int fd, const char *s, size_t n)
{
    double end = run_now() + 2;

    while (n) {
        ssize_t w = write(fd, s, n);

        if (w > 0) {
            s += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR) && run_now() < end) {
            usleep(10 * 1000);
            continue;
        }
        return w < 0 ? -errno : -EIO;
    }
    return 0;
}

/* --write and --login: text to the console src */
static void console_send(struct guest *g, const char *what, const char *bytes, enum run_src src,
                         double t)
{
    int fd = console_fd(g, src), rc;

    if (fd < 0) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "%s: the %s console is not open to "
                          "write to", what, run_src_name(src));
        return;
    }
    rc = write_fd(fd, bytes, strlen(bytes));
    if (rc < 0) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "%s: writing to the %s console "
                          "failed at %.1f s: %s", what, run_src_name(src), t, strerror(-rc));
        return;
    }
    g->r->n_sent++;
}

/* --login on the screen: WORD and Return on the display keyboard */
static void screen_login(struct guest *g, const char *what, const char *word, double t)
{
    size_t n = strlen(word), i, o = 0;
    char *text = malloc(2 * n + 3), **keys, why[300];

    if (!text) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "%s: out of memory", what);
        return;
    }
    for (i = 0; i < n; i++) {      /* run_keys_of's escapes: a backslash is typed as one */
        if (word[i] == '\\')
            text[o++] = '\\';
        text[o++] = word[i];
    }
    memcpy(text + o, "\\n", 3);
    keys = run_keys_of(text, why, sizeof(why));
    free(text);
    if (!keys) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "%s: cannot be typed: %s", what, why);
        return;
    }
    if (run_vga_type(g->domid, keys, why, sizeof(why)) < 0)
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "%s: typing failed: %s", what, why);
    else
        g->r->n_sent++;
    run_keys_free(keys);
}

/* a --send whose pattern was seen: its keys, now (or --write's, --login's text) */
static void on_send(void *opaque, int i, enum run_src src, double t)
{
    struct guest *g = opaque;
    const struct run_spec *spec = g->o->spec;
    const struct run_send *sd = i >= 0 ? &spec->sends[i] : NULL;
    const libxl_domain_config *dc = &g->tg.cfg.dc;
    char why[300];

    if (i < 0 && src == RUN_SRC_SCREEN) {
        bool pass = i == RUN_SEND_LOGIN_PASS;

        screen_login(g, pass ? "--login (the password)" : "--login",
                     pass ? spec->login_pass : spec->login_user, t);
        if (g->o->live_prefix)
            ts_info("run: %s: %s prompt on the screen at %.1f s: typed %s", g->r->name,
                    pass ? "password" : "login", t, pass ? "the password" : spec->login_user);
        return;
    }
    if (i < 0) {
        bool pass = i == RUN_SEND_LOGIN_PASS;
        char *text = ts_asprintf("%s\r", pass ? spec->login_pass : spec->login_user);

        console_send(g, pass ? "--login (the password)" : "--login", text, src, t);
        free(text);
        if (g->o->live_prefix)
            ts_info("run: %s: %s prompt on %s at %.1f s: typed %s", g->r->name,
                    pass ? "password" : "login", run_src_name(src), t,
                    pass ? "the password" : spec->login_user);
        return;
    }
    if (sd->console) {
        char *bytes = run_text_bytes(sd->text), *what = ts_asprintf("--write /%s/", sd->pat.text);

        if (bytes)
            console_send(g, what, bytes, src, t);
        free(bytes);
        free(what);
        if (g->o->live_prefix)
            ts_info("run: %s: /%s/ seen on %s at %.1f s: wrote '%s'", g->r->name, sd->pat.text,
                    run_src_name(src), t, sd->text);
        return;
    }
    if (dc->c_info.type != LIBXL_DOMAIN_TYPE_HVM ||
        dc->b_info.u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_NONE) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t,
                          "--send /%s/: the guest has no display keyboard to type on (an HVM "
                          "guest with a display has one; --write types on a console)", sd->pat.text);
        return;
    }
    if (run_vga_type(g->domid, sd->keys, why, sizeof(why)) < 0) {
        run_engine_decide(g->engine, RUN_ERROR, "send", t, "--send /%s/: typing failed: %s",
                          sd->pat.text, why);
        return;
    }
    g->r->n_sent++;
    if (g->o->live_prefix)
        ts_info("run: %s: /%s/ seen on %s at %.1f s: typed '%s'", g->r->name, sd->pat.text,
                run_src_name(src), t, sd->text);
}

/* ---- one run ------------------------------------------------------------------------------------ */

static void set_error(struct run_result *r, const char *kind, const char *fmt, ...) TS_PRINTF(3, 4);
static void set_error(struct run_result *r, const char *kind, const char *fmt, ...)
{
    va_list ap;

    r->verdict = RUN_ERROR;
    free(r->kind);
    r->kind = ts_strdup(kind);
    free(r->reason);
    va_start(ap, fmt);
    if (vasprintf(&r->reason, fmt, ap) < 0)
        r->reason = NULL;
    va_end(ap);
}

static bool stop_pending(int stop_fd)
{
    struct pollfd p = { .fd = stop_fd, .events = POLLIN };

    return stop_fd >= 0 && poll(&p, 1, 0) == 1;
}

static void write_domain_json(struct guest *g)
{
    char *json = libxl_domain_config_to_json(g->tg.x.ctx, &g->tg.cfg.dc);
    FILE *f;

    if (!json)
        return;
    f = open_artifact(g, "domain.json");
    if (f) {
        fputs(json, f);
        fclose(f);
    }
    free(json);
}

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    char *n = ts_strdup(b ? b + 1 : path), *dot = strrchr(n, '.');

    if (dot && dot != n)
        *dot = '\0';
    return n;
}

/* the result's fields known before anything runs; the steps all "not reached" */
static void result_start(struct run_result *r, const char *cfg_file, const struct run_opts *o)
{
    struct timespec rt;

    clock_gettime(CLOCK_REALTIME, &rt);
    r->started = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
    r->config = ts_strdup(cfg_file);
    r->artifacts = ts_strdup(o->artifacts);
    r->name = base_name(cfg_file);
    r->spec = o->spec;
    r->n_steps = o->spec->n_expects + (o->spec->wait_poweroff ? 1 : 0);
    r->steps = r->n_steps ? calloc((size_t)r->n_steps, sizeof(*r->steps)) : NULL;
    if (!r->steps)
        r->n_steps = 0;
}

static void result_config(struct run_result *r, const struct ts_config *c)
{
    free(r->name);
    r->name = ts_strdup(c->dc.c_info.name);
    r->type = c->dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM   ? "hvm"
              : c->dc.c_info.type == LIBXL_DOMAIN_TYPE_PVH ? "pvh"
                                                          : "pv";
    if (c->dm_note)
        r->dm = ts_strdup(c->dm_note);
}

/* settings, the config, the engine, then the lock, libxl and the host checks (xl/create.c):
 * 0, or -1 with the result's verdict set */
static int guest_prepare_diag(struct guest *g, const char *cfg_file, struct run_engine *e,
                              bool *engine, struct ts_diag *dp)
{
    struct run_result *r = g->r;
    int stage;

    g->settings = true;
    if (ts_settings_load(&g->s, NULL, dp) < 0) {
        set_error(r, "settings", "hvmctl's settings do not parse (see above)");
        return -EINVAL;
    }
    ts_guest_init(&g->tg, &g->s, g->o->overrides, g->o->n_overrides);
    stage = ts_guest_load(&g->tg, cfg_file, dp);
    if (stage == TS_GUEST_OK) {
        result_config(r, &g->tg.cfg);
        if (run_engine_init(e, g->o->spec, on_line, g) < 0) {
            set_error(r, "internal", "cannot set up the checks (out of memory)");
            return -ENOMEM;
        }
        *engine = true;
        g->engine = e;
        e->on_send = on_send;
        if (run_spec_wants_screen(g->o->spec)) {
            const libxl_domain_config *dc = &g->tg.cfg.dc;

            if (dc->c_info.type != LIBXL_DOMAIN_TYPE_HVM ||
                dc->b_info.u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_NONE) {
                set_error(r, "config", "%s: a screen: pattern or --login-on screen needs a "
                          "text screen to read, and this guest has no display (an HVM guest "
                          "with vga other than \"none\" has one)", cfg_file);
                return -EINVAL;
            }
            g->screen = true;
        }
        stage = ts_guest_prepare(&g->tg, g->o->verbose > 0 ? g->o->verbose : 0, dp);
    }
    switch (stage) {
    case TS_GUEST_OK:
        break;
    case TS_GUEST_LOCK:
        set_error(r, "lock", "%s", g->tg.why);
        return -EAGAIN;
    case TS_GUEST_XEN:
        set_error(r, "xen", "cannot talk to Xen through libxl (is this dom0?)");
        return -ENODEV;
    default:
        set_error(r, "config", "%s: not created (%d error%s, above)", cfg_file, dp->errors,
                  dp->errors == 1 ? "" : "s");
        return -EINVAL;
    }
    g->xs = xs_open(0);
    if (!g->xs) {
        set_error(r, "xen", "cannot open xenstore: %s", strerror(errno));
        return -ENODEV;
    }
    return 0;
}

/* the config's messages go to standard error as they always did, and a config that does not
 * load carries them in its reason: the JSON and JUnit reports name every error, not "above" */
static int guest_prepare(struct guest *g, const char *cfg_file, struct run_engine *e,
                         bool *engine)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct ts_diag d = { .out = mem ? mem : stderr };
    struct run_result *r = g->r;
    int rc = guest_prepare_diag(g, cfg_file, e, engine, &d);

    if (mem) {
        fclose(mem);
        if (text && *text)
            fputs(text, stderr);
    }
    if (rc == -EINVAL && r->kind && !strcmp(r->kind, "config") && text && *text) {
        size_t i, n = strlen(text);

        while (n && text[n - 1] == '\n')
            text[--n] = '\0';
        if (n > 3000)
            strcpy(text + 2990, " ...");
        {
            char *one = malloc(2 * n + 1), *o = one;

            for (i = 0; one && text[i]; i++) {
                if (text[i] == '\n') {
                    *o++ = ';';
                    *o++ = ' ';
                } else {
                    *o++ = text[i];
                }
            }
            if (one)
                *o = '\0';
            free(r->reason);
            r->reason = ts_asprintf("%s: not created (%d error%s): %s", cfg_file, d.errors,
                                    d.errors == 1 ? "" : "s", one ? one : text);
            free(one);
        }
    }
    free(text);
    return rc;
}

/* the create: paused, so that nothing the guest prints is missed. 0, or a negative errno with
 * the result's verdict set */
static int guest_create(struct guest *g, int stop_fd, double *t0)
{
    struct run_result *r = g->r;
    int rc;

    rc = xen_console_open(g);
    if (rc < 0)
        ts_err("run: %s: Xen's console ring cannot be read (%s): no xen source",
               r->name, strerror(-rc));
    if (stop_pending(stop_fd)) {
        set_error(r, "interrupted", "interrupted before the create");
        return -EINTR;
    }
    *t0 = run_now();
    rc = ts_guest_build(&g->tg, true);
    r->create_s = run_now() - *t0;
    if (rc) {
        set_error(r, "create", "libxl could not create the domain: %s (libxl's messages above "
                  "say why)", ts_libxl_strerror(rc));
        return -EIO;
    }
    g->domid = g->tg.domid;
    g->created = true;
    r->domid = g->domid;
    ts_guest_unlock(&g->tg);
    write_domain_json(g);
    return 0;
}

/* a console's pty, named in xenstore at PATH by whoever opened it */
static void follow_pty(struct guest *g, enum run_src src, const char *path, const char *what,
                       const char *none)
{
    char *tty = xs_wait_str(g, path, 10);
    int fd;

    if (!tty) {
        ts_err("run: %s: %s (%s)%s", g->r->name, none, path,
               src == RUN_SRC_PV ? ": is xenconsoled running?" : "");
        return;
    }
    fd = open_pty(tty);
    if (fd >= 0)
        follow_source(g, src, fd, false, tty);
    else
        ts_err("run: %s: %s %s: %s", g->r->name, what, tty, strerror(-fd));
    free(tty);
}

/* the consoles and the device model's log, before the guest runs */
static void follow_all(struct guest *g)
{
    const libxl_domain_config *dc = &g->tg.cfg.dc;
    char path[80];

    if (g->xch)
        follow_source(g, RUN_SRC_XEN, -1, false, "Xen's console ring, this domain's lines");
    snprintf(path, sizeof(path), "/local/domain/%u/console/tty", g->domid);
    follow_pty(g, RUN_SRC_PV, path, "PV console", "no PV console pty in xenstore");
    if (dc->c_info.type == LIBXL_DOMAIN_TYPE_HVM && serial_is_pty(dc)) {
        snprintf(path, sizeof(path), "/local/domain/%u/serial/0/tty", g->domid);
        follow_pty(g, RUN_SRC_SERIAL, path, "serial", "the device model gave no serial pty");
    } else if (dc->c_info.type == LIBXL_DOMAIN_TYPE_HVM) {
        ts_info("run: %s: serial is not a pty in the config: not followed", g->r->name);
    }
    if (g->screen) {
        follow_source(g, RUN_SRC_SCREEN, -1, false, "the display's text screen, twice a second");
        free(g->screen_prev);
        g->screen_prev = NULL;
        g->screen_next = 0;
    }
    g->dm_pid = dm_pid_of(g);
    if (g->dm_pid > 0) {
        int fd;

        g->dm_log_path = ts_asprintf("/var/log/xen/qemu-dm-%s.log", g->r->name);
        fd = open(g->dm_log_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
            follow_source(g, RUN_SRC_DM, fd, true, g->dm_log_path);
        else
            ts_err("run: %s: device model log %s: %s", g->r->name, g->dm_log_path,
                   strerror(errno));
    }
}

/* --reboots: the guest rebooted: what its consoles still hold, then destroy it and build it
 * again from the same configuration (as xl's on_reboot = "restart"), its consoles followed
 * anew, and let it run. The engine hears of it as a step boundary. 0, or -1 with the verdict
 * an error. */
static int guest_reboot(struct guest *g, struct run_engine *e, double t)
{
    char buf[4096], *left;
    int i, rc;

    for (i = 0; i < g->nfds; i++) {
        ssize_t n;

        if (g->fds[i].fd < 0)
            continue;
        while ((n = read(g->fds[i].fd, buf, sizeof(buf))) > 0)
            run_engine_feed(e, g->fds[i].src, buf, (size_t)n, t);
        close(g->fds[i].fd);
        g->fds[i].fd = -1;
    }
    xen_console_poll(g, e, t);
    g->nfds = 0;        /* (the loop keeps its count: the closed slots are skipped) */
    free(g->dm_log_path);
    g->dm_log_path = NULL;
    run_engine_rebooted(e, t);
    if (g->o->live_prefix)
        ts_info("run: %s: the guest rebooted at %.1f s (reboot %d of at most %d): building it "
                "again", g->r->name, t, e->n_reboots, g->o->spec->reboots);
    rc = libxl_domain_destroy(g->tg.x.ctx, g->domid, NULL);
    if (rc && rc != ERROR_DOMAIN_NOTFOUND)
        ts_err("run: %s: libxl_domain_destroy: %s", g->r->name, ts_libxl_strerror(rc));
    g->created = false;
    /* each domain of the run is checked for leftovers, not only the last one: what this one
     * left is reported with the teardown's verdict (its dm.log artifact keeps the last) */
    left = leftovers_after_destroy(g, g->domid, g->dm_pid);
    if (left) {
        char *all = ts_asprintf("%s%s%s (domain %u, before reboot %d)",
                                g->reboot_left ? g->reboot_left : "",
                                g->reboot_left ? ", " : "", left, g->domid, e->n_reboots);

        ts_err("run: %s: domain %u, destroyed at reboot %d, left: %s", g->r->name, g->domid,
               e->n_reboots, left);
        free(left);
        free(g->reboot_left);
        g->reboot_left = all;
    }
    g->dm_pid = 0;
    rc = ts_guest_build(&g->tg, true);
    if (rc) {
        run_engine_decide(e, RUN_ERROR, "reboot", t, "the guest rebooted at %.1f s and could not "
                          "be built again: %s", t, ts_libxl_strerror(rc));
        return -1;
    }
    g->domid = g->tg.domid;
    g->created = true;
    g->r->domid = g->domid;
    follow_all(g);
    rc = libxl_domain_unpause(g->tg.x.ctx, g->domid, NULL);
    if (rc) {
        run_engine_decide(e, RUN_ERROR, "reboot", t, "cannot unpause the guest after its reboot: "
                          "%s", ts_libxl_strerror(rc));
        return -1;
    }
    return 0;
}

/* unpause and follow the guest to a verdict */
static void guest_follow(struct guest *g, struct run_engine *e, int stop_fd, double t0)
{
    struct run_hooks h = {
        .opaque = g,
        .poll = hook_poll,
        .watch_fd = -1,
        .watch = hook_watch,
        .tick_s = 0.2,
        .settle_s = 0.5,
        .grace_s = 1.0,
    };
    int rc;

    if (xs_watch(g->xs, "@releaseDomain", "run"))
        h.watch_fd = xs_fileno(g->xs);
    if (stop_pending(stop_fd)) {
        run_engine_decide(e, RUN_ERROR, "interrupted", run_now() - t0,
                          "interrupted before the guest ran");
    } else {
        rc = libxl_domain_unpause(g->tg.x.ctx, g->domid, NULL);
        if (rc)
            run_engine_decide(e, RUN_ERROR, "unpause", run_now() - t0,
                              "cannot unpause the guest: %s", ts_libxl_strerror(rc));
    }
    run_loop(e, g->fds, g->nfds, &h, stop_fd, t0);
    if (h.watch_fd >= 0)
        xs_unwatch(g->xs, "@releaseDomain", "run");
}

/* everything but the result: files, handles, the config, the settings */
static void guest_close(struct guest *g)
{
    int i;

    for (i = 0; i < g->nfds; i++)
        if (g->fds[i].fd >= 0)
            close(g->fds[i].fd);
    for (i = 0; i < RUN_NSRC; i++)
        if (g->log[i])
            fclose(g->log[i]);
    if (g->all)
        fclose(g->all);
    g->all = NULL;
    free(g->con_part);
    free(g->reboot_left);
    free(g->screen_prev);
    free(g->dm_log_path);
    if (g->xch)
        xc_interface_close(g->xch);
    if (g->xs)
        xs_close(g->xs);
}

void run_guest(const char *cfg_file, const struct run_opts *o, int stop_fd, struct run_result *r)
{
    struct guest g;
    struct run_engine e;
    bool engine = false;
    double t0 = 0, wall0 = run_now();
    int rc, i;

    memset(&g, 0, sizeof(g));
    g.o = o;
    g.r = r;
    g.domid = INVALID_DOMID;
    ts_guest_init(&g.tg, NULL, NULL, 0);
    for (i = 0; i < RUN_NSRC; i++)
        g.fds[i].fd = -1;
    result_start(r, cfg_file, o);

    rc = prepare_dir(o->artifacts);
    if (rc) {
        set_error(r, "artifacts", "cannot use the artifacts folder %s: %s", o->artifacts,
                  strerror(-rc));
    } else {
        g.all = open_artifact(&g, "console.log");
        if (guest_prepare(&g, cfg_file, &e, &engine) == 0 && guest_create(&g, stop_fd, &t0) == 0) {
            follow_all(&g);
            guest_follow(&g, &e, stop_fd, t0);
            run_result_take(r, &e);
            capture_vga(&g);
            capture_png(&g);
        }
    }
    ts_guest_unlock(&g.tg);
    teardown(&g);
    r->duration_s = run_now() - wall0;
    /* the consoles' files are closed before the reports are written */
    for (i = 0; i < RUN_NSRC; i++)
        if (g.log[i])
            fclose(g.log[i]);
    memset(g.log, 0, sizeof(g.log));
    if (g.all)
        fclose(g.all);
    g.all = NULL;
    if (r->artifacts && run_report_write_own(r, r->artifacts) < 0)
        ts_err("run: cannot write the reports into %s", r->artifacts);
    if (engine)
        run_engine_free(&e);
    guest_close(&g);
    ts_guest_free(&g.tg);
    if (g.settings)
        ts_settings_free(&g.s);
}

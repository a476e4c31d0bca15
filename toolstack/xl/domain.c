/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * domain.c: `hvmctl create`: build a domain from an xl.cfg file with libxl, and keep a monitor
 * process beside it that carries out on_poweroff / on_reboot / on_crash.
 *
 * The flow (the same as xl's, in a different order): load, lock and check everything first
 * (create.c, the path `hvmctl run` takes too); then fork a monitor (double fork, its own session)
 * that builds the domain with a libxl context of its own and reports the result back through a
 * pipe; the command prints it and exits, the monitor stays with the domain. A libxl context
 * never crosses a fork. A create that fails leaves nothing of the domain behind (create.c).
 *
 * The monitor waits for libxl's domain-death events: a guest that shuts down is dealt with as
 * its config says (destroy, restart, rename-restart, preserve, coredump-*); a domain destroyed
 * from outside ends the monitor. Its messages go to LOG_DIR/hvmctl-NAME.log.
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct create_result {
    int32_t rc;                 /* 0, or a libxl error */
    uint32_t domid;
};

/* the command line of `hvmctl create` */
struct create_args {
    const char *file;
    char **kv;                  /* KEY=VALUE overrides */
    int nkv;
    bool console, dry, paused, foreground, quiet;
    int verbose;
};

static void mlog(const char *fmt, ...) TS_PRINTF(1, 2);
static void mlog(const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;

    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(stderr, "[%s] ", stamp);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* build the domain in g->cfg (running unless paused); on failure nothing of it is left */
static int create_once(struct ts_guest *g, bool paused)
{
    int rc = ts_guest_build(g, false);

    if (rc)
        return rc;
    if (!g->userdata_stored)
        mlog("warning: cannot store hvmctl's userdata for domain %u", g->domid);
    return paused ? 0 : ts_guest_start(g);
}

/* ---- the monitor ---------------------------------------------------------------------------- */

static void wait_gone(struct ts_guest *g, uint32_t domid, int secs)
{
    int i;

    for (i = 0; i < secs * 10; i++) {
        if (libxl_domain_info(g->x.ctx, NULL, domid) == ERROR_DOMAIN_NOTFOUND)
            return;
        usleep(100 * 1000);
    }
}

static const char *reason_name(int r)
{
    switch (r) {
    case LIBXL_SHUTDOWN_REASON_POWEROFF: return "poweroff";
    case LIBXL_SHUTDOWN_REASON_REBOOT: return "reboot";
    case LIBXL_SHUTDOWN_REASON_SUSPEND: return "suspend";
    case LIBXL_SHUTDOWN_REASON_CRASH: return "crash";
    case LIBXL_SHUTDOWN_REASON_WATCHDOG: return "watchdog";
    case LIBXL_SHUTDOWN_REASON_SOFT_RESET: return "soft-reset";
    default: return "unknown";
    }
}

/* rebuild the guest from the text it was created from (restart, rename-restart) */
static int recreate(struct ts_guest *g)
{
    struct ts_diag d = { .out = stderr };
    int rc;

    /* an adopted guest (restored, migrated in) has no text: g->cfg.dc is libxl's view of it,
     * taken before the old domain went (monitor) */
    if (g->text && ts_guest_reload(g, &d)) {
        mlog("cannot restart: the configuration no longer parses");
        return -EINVAL;
    }
    if (ts_guest_lock(g))
        ts_err("%s", g->why);
    rc = create_once(g, false);
    ts_guest_unlock(g);
    if (rc) {
        mlog("cannot restart: libxl_domain_create_new: %s", ts_libxl_strerror(rc));
        return rc;
    }
    mlog("restarted as domain %u", g->domid);
    return 0;
}

static void core_dump(struct ts_guest *g)
{
    char path[256];
    time_t now = time(NULL);

    ts_mkdir_p("/var/lib/xen/dump");
    snprintf(path, sizeof(path), "/var/lib/xen/dump/%s-%ld.core", g->cfg.dc.c_info.name,
             (long)now);
    mlog("dumping core to %s", path);
    if (libxl_domain_core_dump(g->x.ctx, g->domid, path, NULL))
        mlog("core dump failed");
}

/* Waits for the domain's shutdown: 1 with its reason, 0 if it was destroyed from outside (the
 * monitor ends), -1 if libxl's events fail. */
static int wait_shutdown(struct ts_guest *g, int *reason)
{
    libxl_evgen_domain_death *deathw = NULL;
    libxl_event *ev = NULL;
    int rc;

    mlog("monitoring domain %u (%s)", g->domid, g->cfg.dc.c_info.name);
    rc = libxl_evenable_domain_death(g->x.ctx, g->domid, 0, &deathw);
    if (rc) {
        mlog("cannot watch domain %u: %s", g->domid, ts_libxl_strerror(rc));
        return -1;
    }
    for (;;) {
        rc = libxl_event_wait(g->x.ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL);
        if (rc) {
            mlog("waiting for events failed: %s", ts_libxl_strerror(rc));
            return -1;
        }
        if (ev->domid == g->domid && ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH) {
            mlog("domain %u was destroyed; the monitor ends", g->domid);
            rc = 0;
            break;
        }
        if (ev->domid == g->domid && ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN) {
            *reason = ev->u.domain_shutdown.shutdown_reason;
            rc = 1;
            break;
        }
        libxl_event_free(g->x.ctx, ev);
    }
    libxl_event_free(g->x.ctx, ev);
    libxl_evdisable_domain_death(g->x.ctx, deathw);
    return rc;
}

static libxl_action_on_shutdown action_for(const libxl_domain_config *dc, int reason)
{
    switch (reason) {
    case LIBXL_SHUTDOWN_REASON_POWEROFF: return dc->on_poweroff;
    case LIBXL_SHUTDOWN_REASON_REBOOT: return dc->on_reboot;
    case LIBXL_SHUTDOWN_REASON_CRASH: return dc->on_crash;
    case LIBXL_SHUTDOWN_REASON_WATCHDOG: return dc->on_watchdog;
    case LIBXL_SHUTDOWN_REASON_SOFT_RESET: return dc->on_soft_reset;
    default: return LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    }
}

/* keep the shut-down domain under a new name (rename-restart): 0 or -1 */
static int keep_renamed(struct ts_guest *g)
{
    char suffix[32];
    libxl_uuid uuid;
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(suffix, sizeof(suffix), "-%Y%m%dT%H%MZ", &tm);
    libxl_uuid_generate(&uuid);
    if (libxl_domain_preserve(g->x.ctx, g->domid, &g->cfg.dc.c_info, suffix, uuid)) {
        mlog("cannot rename domain %u; left as it is", g->domid);
        return -1;
    }
    mlog("domain %u kept as %s%s", g->domid, g->cfg.dc.c_info.name, suffix);
    return 0;
}

/* Carries out ACTION on the shut-down domain: 1 if it is to be built again, 0 if the monitor
 * ends, -1 on a failure. */
static int carry_out(struct ts_guest *g, libxl_action_on_shutdown action)
{
    uint32_t old = g->domid;
    int restart = 0;

    if (action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY ||
        action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART) {
        core_dump(g);
        action = action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY
                     ? LIBXL_ACTION_ON_SHUTDOWN_DESTROY : LIBXL_ACTION_ON_SHUTDOWN_RESTART;
    }
    switch (action) {
    case LIBXL_ACTION_ON_SHUTDOWN_PRESERVE:
        mlog("domain %u preserved (hvmctl destroy removes it); the monitor ends", g->domid);
        return 0;
    case LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME:
        return keep_renamed(g) < 0 ? -1 : 1;
    case LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET:
        mlog("soft reset is done as a restart");
        /* fall through */
    case LIBXL_ACTION_ON_SHUTDOWN_RESTART:
        restart = 1;
        /* fall through */
    case LIBXL_ACTION_ON_SHUTDOWN_DESTROY:
    default:
        libxl_domain_destroy(g->x.ctx, old, NULL);
        wait_gone(g, old, 10);
        mlog("domain %u destroyed", old);
        return restart;
    }
}

/* A suspended domain (saved, migrating): 1 once it runs again (a save -c, a failed migration),
 * 0 once it is gone (saved and destroyed, migrated away). */
static int wait_resumed(struct ts_guest *g)
{
    libxl_dominfo info;

    mlog("domain %u suspended (a save or a migration); waiting for its end or its resume",
         g->domid);
    for (;;) {
        libxl_dominfo_init(&info);
        int rc = libxl_domain_info(g->x.ctx, &info, g->domid);
        bool down = info.shutdown;

        libxl_dominfo_dispose(&info);
        if (rc == ERROR_DOMAIN_NOTFOUND) {
            mlog("domain %u is gone (saved or migrated away); the monitor ends", g->domid);
            return 0;
        }
        if (rc) {
            mlog("cannot see domain %u: %s", g->domid, ts_libxl_strerror(rc));
            return -1;
        }
        if (!down) {
            mlog("domain %u resumed; monitoring it again", g->domid);
            return 1;
        }
        usleep(200 * 1000);
    }
}

/* Wait for the domain's end; returns the monitor's exit status when it has nothing left to do. */
static int monitor(struct ts_guest *g)
{
    time_t window = time(NULL);
    int restarts_in_window = 0;

    for (;;) {
        libxl_action_on_shutdown action;
        int reason = 0, rc = wait_shutdown(g, &reason);

        if (rc <= 0)
            return rc < 0 ? 1 : 0;
        if (reason == LIBXL_SHUTDOWN_REASON_SUSPEND) {
            /* a save or a migration: the saver destroys it, or resumes it if that failed */
            rc = wait_resumed(g);
            if (rc <= 0)
                return rc < 0 ? 1 : 0;
            continue;
        }
        action = action_for(&g->cfg.dc, reason);
        if (!g->text && ts_guest_refresh(g))
            mlog("cannot retrieve domain %u's configuration; restarting with the one it "
                 "came with", g->domid);
        mlog("domain %u shut down (%s): %s", g->domid, reason_name(reason),
             ts_action_name(action));
        rc = carry_out(g, action);
        if (rc <= 0)
            return rc < 0 ? 1 : 0;
        /* a guest that dies at once, over and over, is not restarted for ever */
        if (time(NULL) - window > 60) {
            window = time(NULL);
            restarts_in_window = 0;
        }
        if (++restarts_in_window > 10) {
            mlog("restarted 10 times within a minute: giving up");
            return 1;
        }
        if (recreate(g))
            return 1;
    }
}

/* ---- the command ------------------------------------------------------------------------------ */

static const char create_usage[] =
    "usage: hvmctl create CFG [KEY=VALUE ...] [-c] [-p] [-F] [-n] [-q] [-v]\n"
    "Build a guest from an xl.cfg file (PV, PVH or HVM) and keep a monitor process with it\n"
    "that carries out on_poweroff, on_reboot and on_crash.\n"
    "  CFG           the guest's xl.cfg file (xl.cfg(5) syntax and keys)\n"
    "  KEY=VALUE     set or override a key, as a line added at the end of the file\n"
    "                (a bare word is quoted for you: name=web2; as in xl, one argument\n"
    "                may hold several: 'memory=512; vcpus=2')\n"
    "  -c, --console attach to the guest's console once it is built (Ctrl-] leaves)\n"
    "  -p, --paused  leave the guest paused (hvmctl unpause starts it)\n"
    "  -F, --foreground  keep the monitor in this process (it logs to stderr)\n"
    "  -n, --dry-run parse and check only; print libxl's view of the guest as JSON\n"
    "  -q, --quiet   print only errors\n"
    "  -v, --verbose more of libxl's messages (twice: debug)\n"
    "HVM guests get hvmd, or the device model of /etc/hvmd/hvmctl.conf (device_model =\n"
    "\"hvmd\", \"qemu-xen\" or a path), unless the file sets device_model_override; vga\n"
    "defaults to stdvga (under hvmd as under qemu-xen), serial to a pty. Errors name the file, line and key, and a create that fails leaves no\n"
    "domain, device model, tap or xenstore node behind.\n";

/* Parses the command line into a: -1 to go on, else the exit status. */
static int parse_create_args(int argc, char **argv, struct create_args *a)
{
    static const struct option opts[] = {
        { "console", no_argument, NULL, 'c' },
        { "paused", no_argument, NULL, 'p' },
        { "foreground", no_argument, NULL, 'F' },
        { "dry-run", no_argument, NULL, 'n' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt, i;

    memset(a, 0, sizeof(*a));
    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "cpFnqvh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': a->console = true; break;
        case 'p': a->paused = true; break;
        case 'F': a->foreground = true; break;
        case 'n': a->dry = true; break;
        case 'q': a->quiet = true; break;
        case 'v': a->verbose++; break;
        case 'h': return ts_usage(create_usage, 0);
        default: return ts_usage(create_usage, 2);
        }
    }
    a->kv = calloc((size_t)argc + 1, sizeof(char *));
    if (!a->kv)
        return 1;
    for (i = optind; i < argc; i++) {
        if (strchr(argv[i], '='))
            a->kv[a->nkv++] = argv[i];
        else if (!a->file)
            a->file = argv[i];
        else {
            ts_err("create: one config file only ('%s' and '%s')", a->file, argv[i]);
            return 2;
        }
    }
    if (!a->file) {
        return ts_usage(create_usage, 2);
    }
    if (a->console && a->foreground) {
        ts_err("create: -c and -F do not go together (the monitor holds the terminal)");
        return 2;
    }
    return -1;
}

static int dry_run(struct ts_guest *g)
{
    char *json = libxl_domain_config_to_json(g->x.ctx, &g->cfg.dc);

    if (json)
        fputs(json, stdout);
    free(json);
    return 0;
}

static int create_foreground(struct ts_guest *g, const struct create_args *a)
{
    int rc = create_once(g, a->paused);

    ts_guest_unlock(g);
    if (rc) {
        ts_err("%s: not created: %s (libxl's messages above say why)", a->file,
               ts_libxl_strerror(rc));
        return 1;
    }
    ts_info("created %s (domain %u); monitoring it here", g->cfg.dc.c_info.name, g->domid);
    return monitor(g);
}

static void send_result(int fd, const struct create_result *res)
{
    if (write(fd, res, sizeof(*res)) < 0)
        mlog("the create command went away");
}

/* The parent's side of send_result: waits for the first child (it exits once the monitor is
 * forked off) and reads the monitor's report; -1 if it died before it reported */
static int read_report(pid_t child, int fd, struct create_result *res)
{
    ssize_t n;

    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    do
        n = read(fd, res, sizeof(*res));
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*res) ? 0 : -1;
}

/* from here on the monitor talks to its log, not to the terminal */
static void to_log(const char *dir, const char *path)
{
    int nul = open("/dev/null", O_RDWR), logfd;

    ts_mkdir_p(dir);
    logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (nul >= 0)
        dup2(nul, 0);
    if (logfd >= 0) {
        dup2(logfd, 1);
        dup2(logfd, 2);
        close(logfd);
    } else if (nul >= 0) {
        dup2(nul, 1);
        dup2(nul, 2);
    }
    if (nul > 2)
        close(nul);
}

/* In the first child: a session of its own, then the monitor goes on as a grandchild (the
 * first child exits here, which the parent waits for), deaf to its terminal's hang-up and to
 * a closed pipe */
static void detach_monitor(void)
{
    pid_t gc;

    setsid();
    gc = fork();
    if (gc != 0)
        _exit(gc < 0 ? 1 : 0);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}

/* the first child: a session of its own, then the monitor as a grandchild; never returns */
static void monitor_child(struct ts_guest *g, const struct create_args *a, const char *logpath,
                          int wfd)
{
    struct create_result res = { .rc = ERROR_FAIL, .domid = INVALID_DOMID };
    int rc;

    detach_monitor();
    if (ts_xl_open(&g->x, NULL, a->verbose) < 0) {
        send_result(wfd, &res);
        _exit(1);
    }
    rc = create_once(g, a->paused);
    res.rc = rc;
    res.domid = g->domid;
    ts_guest_unlock(g);
    if (rc) {
        send_result(wfd, &res);
        ts_xl_close(&g->x);
        _exit(1);
    }
    to_log(g->s->log_dir, logpath);
    send_result(wfd, &res);
    close(wfd);
    mlog("created %s as domain %u from %s%s%s", g->cfg.dc.c_info.name, g->domid, a->file,
         g->cfg.dm_note ? "; device model " : "", g->cfg.dm_note ? g->cfg.dm_note : "");
    rc = monitor(g);
    ts_xl_close(&g->x);
    _exit(rc);
}

/* hvmctl create -c: the guest's console once it is built */
static int attach_console(const struct ts_guest *g, uint32_t domid, bool quiet)
{
    libxl_console_type t = g->cfg.dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM
                               ? LIBXL_CONSOLE_TYPE_SERIAL : LIBXL_CONSOLE_TYPE_PV;
    struct ts_xl x;
    int status = 0;

    if (ts_xl_open(&x, NULL, 0) < 0)
        return 1;
    if (ts_console_run(&x, domid, t, 0, 10, quiet) < 0)
        status = 1;
    ts_xl_close(&x);
    return status;
}

/* the monitor in a process of its own, the result reported back through a pipe */
static int create_daemon(struct ts_guest *g, const struct create_args *a)
{
    struct create_result res = { .rc = -1, .domid = INVALID_DOMID };
    char *logpath = ts_asprintf("%s/hvmctl-%s.log", g->s->log_dir, g->cfg.dc.c_info.name);
    int pipefd[2], status = 1;
    pid_t child;

    /* the monitor gets a libxl context of its own: none may cross the fork */
    ts_xl_close(&g->x);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        ts_err("pipe: %s", strerror(errno));
        free(logpath);
        return 1;
    }
    fflush(NULL);
    child = fork();
    if (child == 0) {
        close(pipefd[0]);
        monitor_child(g, a, logpath, pipefd[1]);
    }
    close(pipefd[1]);
    if (child < 0) {
        ts_err("fork: %s", strerror(errno));
        goto out;
    }
    if (read_report(child, pipefd[0], &res) < 0) {
        ts_err("%s: the monitor process died before it reported (see %s)", a->file, logpath);
        goto out;
    }
    ts_guest_unlock(g);
    if (res.rc) {
        ts_err("%s: not created: %s (libxl's messages above say why)", a->file,
               ts_libxl_strerror(res.rc));
        goto out;
    }
    if (!a->quiet)
        ts_info("created %s (domain %u)%s; its monitor logs to %s", g->cfg.dc.c_info.name,
                res.domid, a->paused ? ", paused" : "", logpath);
    printf("%u\n", res.domid);
    fflush(stdout);
    status = a->console ? attach_console(g, res.domid, a->quiet) : 0;
out:
    close(pipefd[0]);
    free(logpath);
    return status;
}

/* ---- a monitor for a domain built elsewhere (restore, migrate-receive) ---------------------- */

int ts_monitor_adopt(const struct ts_settings *s, uint32_t domid, const char *name, int verbose)
{
    char *logpath = ts_asprintf("%s/hvmctl-%s.log", s->log_dir, name);
    struct create_result res = { .rc = ERROR_FAIL, .domid = domid };
    int pipefd[2], rc;
    pid_t child;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        ts_err("pipe: %s", strerror(errno));
        free(logpath);
        return -errno;
    }
    fflush(NULL);
    child = fork();
    if (child == 0) {
        struct ts_guest g;

        close(pipefd[0]);
        detach_monitor();
        ts_guest_init(&g, s, NULL, 0);
        to_log(s->log_dir, logpath);
        if (ts_xl_open(&g.x, NULL, verbose) == 0)
            res.rc = ts_guest_adopt(&g, domid);
        send_result(pipefd[1], &res);
        close(pipefd[1]);
        if (res.rc)
            _exit(1);
        mlog("took on domain %u (%s), built by hvmctl restore or a migration", domid, name);
        rc = monitor(&g);
        ts_guest_free(&g);
        _exit(rc);
    }
    close(pipefd[1]);
    rc = -ECHILD;
    if (child < 0) {
        rc = -errno;
        ts_err("fork: %s", strerror(errno));
        goto out;
    }
    if (read_report(child, pipefd[0], &res) < 0) {
        ts_err("%s: the monitor process died before it reported (see %s)", name, logpath);
        goto out;
    }
    if (res.rc) {
        ts_err("%s: the monitor cannot take on domain %u: %s (see %s)", name, domid,
               ts_libxl_strerror(res.rc), logpath);
        goto out;
    }
    ts_info("%s (domain %u): its monitor logs to %s", name, domid, logpath);
    rc = 0;
out:
    close(pipefd[0]);
    free(logpath);
    return rc;
}

/* load, lock, check (create.c), then build as asked */
static int create_guest(const struct create_args *a, const struct ts_settings *s,
                        struct ts_diag *d)
{
    struct ts_guest g;
    int stage, status = 1;

    ts_guest_init(&g, s, (const char *const *)a->kv, a->nkv);
    stage = ts_guest_load(&g, a->file, d);
    if (stage == TS_GUEST_OK) {
        if (g.cfg.dm_note && !a->quiet)
            ts_info("%s: device model %s", g.cfg.dc.c_info.name, g.cfg.dm_note);
        stage = ts_guest_prepare(&g, a->verbose, d);
    }
    if (stage == TS_GUEST_PARSE || stage == TS_GUEST_CHECK)
        ts_err("%s: not created (%d error%s)", a->file, d->errors, d->errors == 1 ? "" : "s");
    else if (stage == TS_GUEST_LOCK)
        ts_err("%s", g.why);
    else if (stage == TS_GUEST_OK)
        status = a->dry ? dry_run(&g) : a->foreground ? create_foreground(&g, a)
                                                       : create_daemon(&g, a);
    ts_guest_free(&g);
    return status;
}

int cmd_create(int argc, char **argv)
{
    struct create_args a;
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    int status = parse_create_args(argc, argv, &a);

    if (status < 0) {
        status = 1;
        if (ts_settings_load(&s, NULL, &d) == 0)
            status = create_guest(&a, &s, &d);
        ts_settings_free(&s);
    }
    free(a.kv);
    return status;
}

/* ---- check: lint xl.cfg files without Xen ---------------------------------------------------- */

static const char check_usage[] =
    "usage: hvmctl check CFG... [KEY=VALUE ...] [-q]\n"
    "Parse and check each xl.cfg file fully as hvmctl create would, without Xen and without\n"
    "building anything: every error names the file, line and key. What only this host can\n"
    "answer (free memory, names of running domains) is left to create.\n"
    "  KEY=VALUE  overrides, as for create (xl's 'k=v; k2=v2' too)\n"
    "  -q         print only errors\n"
    "Exit status: 0 every file is good, 1 a file has errors, 2 a file cannot be read (or\n"
    "hvmctl's own settings cannot) or a usage error: hvmctl cannot tell.\n";

int cmd_check(int argc, char **argv)
{
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    const char **files = calloc((size_t)argc + 1, sizeof(char *));
    const char **kv = calloc((size_t)argc + 1, sizeof(char *));
    int nfiles = 0, nkv = 0, i, status = 0;
    bool quiet = false;

    if (!files || !kv) {
        free(files);
        free(kv);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(check_usage, stdout);
            free(files);
            free(kv);
            return 0;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            ts_err("check: unknown option '%s'", argv[i]);
            free(files);
            free(kv);
            return ts_usage(check_usage, 2);
        } else if (strchr(argv[i], '=')) {
            kv[nkv++] = argv[i];
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (!nfiles) {
        ts_err("check: no config file");
        free(files);
        free(kv);
        return ts_usage(check_usage, 2);
    }
    if (ts_settings_load(&s, NULL, &d) < 0) {
        ts_settings_free(&s);
        free(files);
        free(kv);
        return 2;
    }
    for (i = 0; i < nfiles; i++) {
        struct ts_guest g;
        int before = d.errors, stage;

        ts_guest_init(&g, &s, kv, nkv);
        stage = ts_guest_load(&g, files[i], &d);
        if (stage == TS_GUEST_READ) {
            status = 2;
        } else if (stage != TS_GUEST_OK) {
            int n = d.errors - before;
            ts_err("%s: %d error%s", files[i], n, n == 1 ? "" : "s");
            if (status < 1)
                status = 1;
        } else if (!quiet) {
            printf("%s: good (%s guest %s)\n", files[i],
                   libxl_domain_type_to_string(g.cfg.dc.c_info.type), g.cfg.dc.c_info.name);
        }
        ts_guest_free(&g);
    }
    ts_settings_free(&s);
    free(files);
    free(kv);
    return status;
}

/*
 * domain.c: `hvmctl create`: build a domain from an xl.cfg file with libxl, and keep a monitor
 * process beside it that carries out on_poweroff / on_reboot / on_crash.
 *
 * The flow (the same as xl's, in a different order): parse and check everything first, holding
 * a lock so that two creates cannot both pass the name check; then fork a monitor (double fork,
 * its own session) that creates the domain with a libxl context of its own and reports the
 * result back through a pipe; the command prints it and exits, the monitor stays with the
 * domain. A libxl context never crosses a fork. libxl_domain_create_new leaves nothing behind
 * when it fails (it destroys the half-built domain: device model, backends, xenstore nodes); if
 * it returned a domid anyway, hvmctl destroys that too.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct mon {
    struct ts_xl x;
    struct ts_config cfg;
    const struct ts_settings *s;
    char *text;                 /* the file as read at create time: restarts parse it again */
    size_t text_len;
    const char *const *overrides;
    int n_overrides;
    uint32_t domid;
};

struct create_result {
    int32_t rc;                 /* 0, or a libxl error */
    uint32_t domid;
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

static void mkdir_p(const char *dir)
{
    char buf[256], *q;

    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
        return;
    for (q = buf + 1; *q; q++) {
        if (*q == '/') {
            *q = '\0';
            mkdir(buf, 0755);
            *q = '/';
        }
    }
    mkdir(buf, 0755);
}

/* the lock that makes "no domain of that name" and the create one step */
static int take_lock(const struct ts_settings *s)
{
    char *dir = ts_strdup(s->lock_file), *slash = strrchr(dir, '/');
    int fd;

    if (slash && slash != dir) {
        *slash = '\0';
        mkdir_p(dir);
    }
    free(dir);
    fd = open(s->lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        ts_err("%s: %s", s->lock_file, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            ts_err("%s: cannot lock: %s", s->lock_file, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void store_userdata(struct mon *m)
{
    char *json;

    json = ts_asprintf("{\"config\": \"%s\", \"monitor_pid\": %ld}\n",
                       m->cfg.file ? m->cfg.file : "", (long)getpid());
    /* the path may hold a quote: keep the JSON valid by dropping such a path */
    if (m->cfg.file && strpbrk(m->cfg.file, "\"\\")) {
        free(json);
        json = ts_asprintf("{\"config\": null, \"monitor_pid\": %ld}\n", (long)getpid());
    }
    if (libxl_userdata_store(m->x.ctx, m->domid, "hvmctl", (const uint8_t *)json,
                             (int)strlen(json)))
        mlog("warning: cannot store hvmctl's userdata for domain %u", m->domid);
    free(json);
}

/* build the domain in m->cfg; on failure nothing of it is left */
static int create_once(struct mon *m, bool paused)
{
    uint32_t domid = INVALID_DOMID;
    int rc;

    rc = libxl_domain_create_new(m->x.ctx, &m->cfg.dc, &domid, NULL, NULL);
    if (rc) {
        /* libxl destroys what it built when it fails; anything still there goes here */
        if (libxl_domid_valid_guest(domid) && !libxl_domain_info(m->x.ctx, NULL, domid))
            libxl_domain_destroy(m->x.ctx, domid, NULL);
        return rc;
    }
    m->domid = domid;
    store_userdata(m);
    if (!paused) {
        rc = libxl_domain_unpause(m->x.ctx, domid, NULL);
        if (rc) {
            libxl_domain_destroy(m->x.ctx, domid, NULL);
            m->domid = INVALID_DOMID;
            return rc;
        }
    }
    return 0;
}

static void wait_gone(struct mon *m, uint32_t domid, int secs)
{
    int i;

    for (i = 0; i < secs * 10; i++) {
        if (libxl_domain_info(m->x.ctx, NULL, domid) == ERROR_DOMAIN_NOTFOUND)
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
static int recreate(struct mon *m)
{
    struct ts_diag d = { .out = stderr };
    char *file = ts_strdup(m->cfg.file);
    int rc, lock;

    ts_config_free(&m->cfg);
    rc = ts_config_parse(&m->cfg, file, m->text, m->text_len, m->overrides, m->n_overrides,
                         m->s, &d);
    free(file);
    if (rc) {
        mlog("cannot restart: the configuration no longer parses");
        return rc;
    }
    lock = take_lock(m->s);
    rc = create_once(m, false);
    if (lock >= 0)
        close(lock);
    if (rc) {
        mlog("cannot restart: libxl_domain_create_new: %s", ts_libxl_strerror(rc));
        return rc;
    }
    mlog("restarted as domain %u", m->domid);
    return 0;
}

static void core_dump(struct mon *m)
{
    char path[256];
    time_t now = time(NULL);

    mkdir_p("/var/lib/xen/dump");
    snprintf(path, sizeof(path), "/var/lib/xen/dump/%s-%ld.core", m->cfg.dc.c_info.name,
             (long)now);
    mlog("dumping core to %s", path);
    if (libxl_domain_core_dump(m->x.ctx, m->domid, path, NULL))
        mlog("core dump failed");
}

/* Wait for the domain's end; returns when the monitor has nothing left to do. */
static int monitor(struct mon *m)
{
    time_t window = time(NULL);
    int restarts_in_window = 0;

    for (;;) {
        libxl_evgen_domain_death *deathw = NULL;
        libxl_event *ev = NULL;
        libxl_action_on_shutdown action;
        bool restart = false;
        int rc;

        mlog("monitoring domain %u (%s)", m->domid, m->cfg.dc.c_info.name);
        rc = libxl_evenable_domain_death(m->x.ctx, m->domid, 0, &deathw);
        if (rc) {
            mlog("cannot watch domain %u: %s", m->domid, ts_libxl_strerror(rc));
            return 1;
        }
        for (;;) {
            rc = libxl_event_wait(m->x.ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL);
            if (rc) {
                mlog("waiting for events failed: %s", ts_libxl_strerror(rc));
                return 1;
            }
            if (ev->domid != m->domid) {
                libxl_event_free(m->x.ctx, ev);
                continue;
            }
            if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_DEATH) {
                mlog("domain %u was destroyed; the monitor ends", m->domid);
                libxl_event_free(m->x.ctx, ev);
                libxl_evdisable_domain_death(m->x.ctx, deathw);
                return 0;
            }
            if (ev->type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
                break;
            libxl_event_free(m->x.ctx, ev);
        }
        switch (ev->u.domain_shutdown.shutdown_reason) {
        case LIBXL_SHUTDOWN_REASON_POWEROFF: action = m->cfg.dc.on_poweroff; break;
        case LIBXL_SHUTDOWN_REASON_REBOOT: action = m->cfg.dc.on_reboot; break;
        case LIBXL_SHUTDOWN_REASON_CRASH: action = m->cfg.dc.on_crash; break;
        case LIBXL_SHUTDOWN_REASON_WATCHDOG: action = m->cfg.dc.on_watchdog; break;
        case LIBXL_SHUTDOWN_REASON_SOFT_RESET: action = m->cfg.dc.on_soft_reset; break;
        case LIBXL_SHUTDOWN_REASON_SUSPEND:
            mlog("domain %u suspended; left as it is", m->domid);
            libxl_event_free(m->x.ctx, ev);
            libxl_evdisable_domain_death(m->x.ctx, deathw);
            return 0;
        default: action = LIBXL_ACTION_ON_SHUTDOWN_DESTROY; break;
        }
        mlog("domain %u shut down (%s): %s", m->domid,
             reason_name(ev->u.domain_shutdown.shutdown_reason), ts_action_name(action));
        libxl_event_free(m->x.ctx, ev);
        libxl_evdisable_domain_death(m->x.ctx, deathw);

        if (action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY ||
            action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART) {
            core_dump(m);
            action = action == LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY
                         ? LIBXL_ACTION_ON_SHUTDOWN_DESTROY : LIBXL_ACTION_ON_SHUTDOWN_RESTART;
        }
        switch (action) {
        case LIBXL_ACTION_ON_SHUTDOWN_PRESERVE:
            mlog("domain %u preserved (hvmctl destroy removes it); the monitor ends", m->domid);
            return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME: {
            char suffix[32];
            libxl_uuid uuid;
            time_t now = time(NULL);
            struct tm tm;

            gmtime_r(&now, &tm);
            strftime(suffix, sizeof(suffix), "-%Y%m%dT%H%MZ", &tm);
            libxl_uuid_generate(&uuid);
            if (libxl_domain_preserve(m->x.ctx, m->domid, &m->cfg.dc.c_info, suffix, uuid)) {
                mlog("cannot rename domain %u; left as it is", m->domid);
                return 1;
            }
            mlog("domain %u kept as %s%s", m->domid, m->cfg.dc.c_info.name, suffix);
            restart = true;
            break;
        }
        case LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET:
            mlog("soft reset is done as a restart");
            /* fall through */
        case LIBXL_ACTION_ON_SHUTDOWN_RESTART:
            restart = true;
            /* fall through */
        case LIBXL_ACTION_ON_SHUTDOWN_DESTROY:
        default: {
            uint32_t old = m->domid;

            libxl_domain_destroy(m->x.ctx, old, NULL);
            wait_gone(m, old, 10);
            mlog("domain %u destroyed", old);
            break;
        }
        }
        if (!restart)
            return 0;
        /* a guest that dies at once, over and over, is not restarted for ever */
        if (time(NULL) - window > 60) {
            window = time(NULL);
            restarts_in_window = 0;
        }
        if (++restarts_in_window > 10) {
            mlog("restarted 10 times within a minute: giving up");
            return 1;
        }
        if (recreate(m))
            return 1;
    }
}

static const char create_usage[] =
    "usage: hvmctl create CFG [KEY=VALUE ...] [-c] [-p] [-F] [-n] [-q] [-v]\n"
    "Build a guest from an xl.cfg file (PV, PVH or HVM) and keep a monitor process with it\n"
    "that carries out on_poweroff, on_reboot and on_crash.\n"
    "  CFG           the guest's xl.cfg file (xl.cfg(5) syntax and keys)\n"
    "  KEY=VALUE     set or override a key, as a line added at the end of the file\n"
    "                (a bare word is quoted for you: name=web2)\n"
    "  -c, --console attach to the guest's console once it is built (Ctrl-] leaves)\n"
    "  -p, --paused  leave the guest paused (hvmctl unpause starts it)\n"
    "  -F, --foreground  keep the monitor in this process (it logs to stderr)\n"
    "  -n, --dry-run parse and check only; print libxl's view of the guest as JSON\n"
    "  -q, --quiet   print only errors\n"
    "  -v, --verbose more of libxl's messages (twice: debug)\n"
    "HVM guests get the device model of /etc/hvmd/hvmctl.conf (device_model = \"hvmd\",\n"
    "\"qemu-xen\" or a path) unless the file sets device_model_override; vga defaults to stdvga,\n"
    "serial to a pty. Errors name the file, line and key, and a create that fails leaves no\n"
    "domain, device model, tap or xenstore node behind.\n";

int cmd_create(int argc, char **argv)
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
    struct ts_create_opts o = { 0 };
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    struct mon m;
    struct create_result res = { .rc = -1, .domid = INVALID_DOMID };
    const char *file = NULL;
    char **kv = NULL;
    bool console = false, dry = false;
    int opt, nkv = 0, i, rc, lock = -1, pipefd[2] = { -1, -1 }, status = 1;
    char *logpath = NULL;
    pid_t child;

    optind = 0;     /* glibc: start over (the command may not be the first parse) */
    while ((opt = getopt_long(argc, argv, "cpFnqvh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': console = true; break;
        case 'p': o.paused = true; break;
        case 'F': o.foreground = true; break;
        case 'n': dry = true; break;
        case 'q': o.quiet = true; break;
        case 'v': o.verbose++; break;
        case 'h': fputs(create_usage, stdout); return 0;
        default: fputs(create_usage, stderr); return 2;
        }
    }
    kv = calloc((size_t)argc + 1, sizeof(char *));
    if (!kv)
        return 1;
    for (i = optind; i < argc; i++) {
        if (strchr(argv[i], '='))
            kv[nkv++] = argv[i];
        else if (!file)
            file = argv[i];
        else {
            ts_err("create: one config file only ('%s' and '%s')", file, argv[i]);
            free(kv);
            return 2;
        }
    }
    if (!file) {
        fputs(create_usage, stderr);
        free(kv);
        return 2;
    }
    if (console && o.foreground) {
        ts_err("create: -c and -F do not go together (the monitor holds the terminal)");
        free(kv);
        return 2;
    }

    memset(&m, 0, sizeof(m));
    m.domid = INVALID_DOMID;
    if (ts_settings_load(&s, NULL, &d) < 0) {
        ts_settings_free(&s);
        free(kv);
        return 1;
    }
    m.s = &s;
    m.overrides = (const char *const *)kv;
    m.n_overrides = nkv;
    rc = ts_read_file(file, &m.text, &m.text_len);
    if (rc < 0) {
        ts_error_at(&d, file, 0, NULL, "cannot read: %s", strerror(-rc));
        goto out;
    }
    rc = ts_config_parse(&m.cfg, file, m.text, m.text_len, (const char *const *)kv, nkv, &s, &d);
    if (rc < 0) {
        ts_err("%s: not created (%d error%s)", file, d.errors, d.errors == 1 ? "" : "s");
        goto out;
    }
    if (m.cfg.dm_note && !o.quiet)
        ts_info("%s: device model %s", m.cfg.dc.c_info.name, m.cfg.dm_note);

    lock = take_lock(&s);
    if (lock < 0)
        goto out;
    if (ts_xl_open(&m.x, NULL, o.verbose) < 0)
        goto out;
    if (ts_config_check_host(&m.cfg, m.x.ctx, &d) < 0) {
        ts_err("%s: not created (%d error%s)", file, d.errors, d.errors == 1 ? "" : "s");
        goto out;
    }
    if (dry) {
        char *json = libxl_domain_config_to_json(m.x.ctx, &m.cfg.dc);
        if (json)
            fputs(json, stdout);
        free(json);
        status = 0;
        goto out;
    }
    logpath = ts_asprintf("%s/hvmctl-%s.log", s.log_dir, m.cfg.dc.c_info.name);

    if (o.foreground) {
        rc = create_once(&m, o.paused);
        close(lock);
        lock = -1;
        if (rc) {
            ts_err("%s: not created: %s (libxl's messages above say why)", file,
                   ts_libxl_strerror(rc));
            goto out;
        }
        ts_info("created %s (domain %u); monitoring it here", m.cfg.dc.c_info.name, m.domid);
        status = monitor(&m);
        goto out;
    }

    /* the monitor gets a libxl context of its own: none may cross the fork */
    ts_xl_close(&m.x);
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        ts_err("pipe: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        ts_err("fork: %s", strerror(errno));
        goto out;
    }
    if (child == 0) {
        /* first child: a session of its own, then the monitor as a grandchild */
        pid_t gc;

        close(pipefd[0]);
        setsid();
        gc = fork();
        if (gc != 0)
            _exit(gc < 0 ? 1 : 0);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        if (ts_xl_open(&m.x, NULL, o.verbose) < 0) {
            res.rc = ERROR_FAIL;
            if (write(pipefd[1], &res, sizeof(res)) < 0)
                _exit(1);
            _exit(1);
        }
        rc = create_once(&m, o.paused);
        res.rc = rc;
        res.domid = m.domid;
        close(lock);
        if (rc) {
            if (write(pipefd[1], &res, sizeof(res)) < 0)
                _exit(1);
            ts_xl_close(&m.x);
            _exit(1);
        }
        /* from here on the monitor talks to its log, not to the terminal */
        {
            int nul = open("/dev/null", O_RDWR), logfd;

            mkdir_p(s.log_dir);
            logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
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
        if (write(pipefd[1], &res, sizeof(res)) < 0)
            mlog("the create command went away");
        close(pipefd[1]);
        mlog("created %s as domain %u from %s%s%s", m.cfg.dc.c_info.name, m.domid, file,
             m.cfg.dm_note ? "; device model " : "", m.cfg.dm_note ? m.cfg.dm_note : "");
        rc = monitor(&m);
        ts_xl_close(&m.x);
        _exit(rc);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    {
        ssize_t n;

        do
            n = read(pipefd[0], &res, sizeof(res));
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(res)) {
            ts_err("%s: the monitor process died before it reported (see %s)", file, logpath);
            goto out;
        }
    }
    close(lock);
    lock = -1;
    if (res.rc) {
        ts_err("%s: not created: %s (libxl's messages above say why)", file,
               ts_libxl_strerror(res.rc));
        goto out;
    }
    if (!o.quiet)
        ts_info("created %s (domain %u)%s; its monitor logs to %s", m.cfg.dc.c_info.name,
                res.domid, o.paused ? ", paused" : "", logpath);
    printf("%u\n", res.domid);
    fflush(stdout);
    status = 0;
    if (console) {
        struct ts_xl x;

        if (ts_xl_open(&x, NULL, 0) == 0) {
            libxl_console_type t = m.cfg.dc.c_info.type == LIBXL_DOMAIN_TYPE_HVM
                                       ? LIBXL_CONSOLE_TYPE_SERIAL : LIBXL_CONSOLE_TYPE_PV;
            if (ts_console_run(&x, res.domid, t, 0, 10, o.quiet) < 0)
                status = 1;
            ts_xl_close(&x);
        } else {
            status = 1;
        }
    }
out:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (lock >= 0)
        close(lock);
    ts_xl_close(&m.x);
    ts_config_free(&m.cfg);
    ts_settings_free(&s);
    free(m.text);
    free(logpath);
    free(kv);
    return status;
}

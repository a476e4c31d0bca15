/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migrate.c: `hvmctl migrate DOM HOST` and `hvmctl migrate-receive`, live migration through
 * libxl (libxl_domain_suspend with LIBXL_SUSPEND_LIVE on the sender, libxl_domain_create_restore
 * on the receiver), speaking xl's wire protocol, so either end may be xl:
 *
 *   sender                                     receiver (`ssh HOST hvmctl migrate-receive`)
 *                          <- banner
 *   saved-image header + config (JSON) ->
 *   libxl's stream (memory rounds, then
 *   the device model's state)           ->     libxl_domain_create_restore, paused, as NAME--incoming
 *                          <- "ready"
 *   rename itself NAME--migratedaway
 *   "go"                                ->     rename to NAME, its monitor, unpause
 *                          <- report + status byte (0: running there)
 *   destroy its copy                           (status != 0: destroys its copy, then "go" back:
 *                                               the sender renames back and resumes)
 *
 * Why not a receiver of our own design: xl's protocol already carries everything (config,
 * stream, a two-phase commit so that at most one copy runs), and speaking it lets a pool mix
 * hosts that run xl and hosts that run hvmctl. The receiver hvmctl adds is the monitor (as
 * hvmctl create's), which xl's daemonized receiver also keeps.
 *
 * Nothing half-done: until "go" the sender's guest is only suspended (resumed if anything
 * fails); a receiver that fails destroys what it built (libxl does, on a failed restore).
 */
#include "toolstack/xl/xl.h"
#include "toolstack/xl/domains.h"
#include "toolstack/xl/image.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BANNER_WAIT_S 120   /* ssh's connection and the receiver's libxl start-up */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the sender ---- */

/* Lets the guest run on after a failed send: resumed if it got as far as its suspend (a live
 * send can fail while it still runs: then there is nothing to undo). Says which. */
static const char *run_on(struct ts_xl *x, uint32_t domid)
{
    libxl_dominfo info;
    bool suspended;

    libxl_dominfo_init(&info);
    suspended = !libxl_domain_info(x->ctx, &info, domid) && info.shutdown &&
                info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
    libxl_dominfo_dispose(&info);
    if (!suspended)
        return "it never stopped";
    if (libxl_domain_resume(x->ctx, domid, 1, NULL))
        return "but it did not resume: see hvmctl log";
    return "resumed";
}

struct transport {
    pid_t pid;
    int to, from;       /* to the receiver (its stdin), from it (its stdout) */
    char *rune;
};

static int transport_start(struct transport *t)
{
    int to[2], from[2];

    if (pipe2(to, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(from, O_CLOEXEC) < 0) {
        close(to[0]);
        close(to[1]);
        return -errno;
    }
    fflush(NULL);
    t->pid = fork();
    if (t->pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        execl("/bin/sh", "sh", "-c", t->rune, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    if (t->pid < 0) {
        int e = -errno;
        close(to[1]);
        close(from[0]);
        return e;
    }
    t->to = to[1];
    t->from = from[0];
    return 0;
}

/* Closes our end and reaps the transport (ssh and the receiver) within a few seconds; its exit
 * status is said if it failed. */
static void transport_end(struct transport *t)
{
    int st, i;

    if (t->to >= 0)
        close(t->to);
    t->to = -1;
    for (i = 0; i < 100 && t->pid > 0; i++) {
        pid_t r = waitpid(t->pid, &st, WNOHANG);
        if (r == t->pid) {
            if (WIFEXITED(st) && WEXITSTATUS(st))
                ts_err("the receiver's command exited with status %d (%s)", WEXITSTATUS(st),
                       t->rune);
            else if (WIFSIGNALED(st))
                ts_err("the receiver's command was killed by signal %d", WTERMSIG(st));
            t->pid = -1;
            break;
        }
        usleep(50 * 1000);
    }
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        waitpid(t->pid, &st, 0);
        t->pid = -1;
    }
    if (t->from >= 0)
        close(t->from);
    t->from = -1;
}

/* waits up to SECS for the receiver to say something: 0, or -ETIMEDOUT */
static int wait_readable(int fd, int secs)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;

    do
        r = poll(&p, 1, secs * 1000);
    while (r < 0 && errno == EINTR);
    return r > 0 ? 0 : -ETIMEDOUT;
}

static const char migrate_usage[] =
    "usage: hvmctl migrate [-s SSH] [-r RECEIVER] [-p] [-v] DOM HOST\n"
    "Move a running guest to HOST (live: its memory is copied while it runs, then it stops\n"
    "for the last round and its device state) through `SSH HOST RECEIVER`, in xl's migration\n"
    "protocol: the receiver may be `hvmctl migrate-receive` or `xl migrate-receive`.\n"
    "If anything fails before the receiver runs the guest, it runs on here.\n"
    "  -s SSH       the command that reaches HOST (default: ssh); with -s \"\" HOST is\n"
    "               the receiver's whole command, run here (localhost: \"hvmctl migrate-receive\")\n"
    "  -r RECEIVER  the command run on HOST (default: hvmctl migrate-receive)\n"
    "  -p           leave the guest paused on HOST\n"
    "  -v           libxl's messages too\n";

int cmd_migrate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ssh", required_argument, NULL, 's' },
        { "receiver", required_argument, NULL, 'r' },
        { "paused", no_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *ssh = NULL, *receiver = "hvmctl migrate-receive";
    struct transport t = { .pid = -1, .to = -1, .from = -1 };
    struct ts_xl x = { 0 };
    libxl_domain_config dc;
    char *json = NULL, *recv_cmd = NULL, *name = NULL, *away = NULL, why[200];
    bool paused = false;
    int verbose = 0, c, rc, status = 1;
    uint32_t domid;
    uint8_t st;
    double t0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+s:r:pvh", opts, NULL)) != -1) {
        switch (c) {
        case 's': ssh = optarg; break;
        case 'r': receiver = optarg; break;
        case 'p': paused = true; break;
        case 'v': verbose++; break;
        case 'h': return ts_usage(migrate_usage, 0);
        default: return ts_usage(migrate_usage, 2);
        }
    }
    if (argc - optind != 2)
        return ts_usage(migrate_usage, 2);
    const char *dom = argv[optind], *host = argv[optind + 1];
    if (!*host) {
        ts_err("migrate: no host");
        return 2;
    }
    libxl_domain_config_init(&dc);
    if (ts_xl_open_progress(&x, verbose) < 0)
        goto out;
    json = ts_domain_config_json(&x, "migrate", dom, &domid, &dc);
    if (!json)
        goto out;
    name = ts_strdup(dc.c_info.name ? dc.c_info.name : dom);
    recv_cmd = paused ? ts_asprintf("%s -p", receiver) : ts_strdup(receiver);
    t.rune = ts_mig_rune(ssh, host, recv_cmd);
    signal(SIGPIPE, SIG_IGN);   /* a receiver that dies is an error to report, not our end */
    rc = transport_start(&t);
    if (rc < 0) {
        ts_err("migrate %s: cannot start `%s`: %s", dom, t.rune, strerror(-rc));
        goto out;
    }
    why[0] = '\0';
    if (wait_readable(t.from, BANNER_WAIT_S) < 0)
        snprintf(why, sizeof(why), "no answer within %d s", BANNER_WAIT_S);
    else if (ts_mig_expect(t.from, TS_MIG_BANNER, why, sizeof(why)) < 0 && !why[0])
        snprintf(why, sizeof(why), "no banner");
    if (why[0]) {
        transport_end(&t);
        ts_err("migrate %s: the receiver did not start (%s; the command was: %s); the guest "
               "runs on here", dom, why, t.rune);
        goto out;
    }
    if (ts_image_write_header(t.to, json) < 0) {
        transport_end(&t);
        ts_err("migrate %s: the receiver went away before the stream; the guest runs on here",
               dom);
        goto out;
    }
    ts_info("migrating %s (domain %u) to %s: memory while it runs, then its last round and "
            "device state", name, domid, host);
    t0 = now_s();
    rc = libxl_domain_suspend(x.ctx, domid, t.to, LIBXL_SUSPEND_LIVE, NULL);
    if (rc) {
        transport_end(&t);
        ts_err("migrate %s: sending failed (%s); the guest runs on here (%s)", dom,
               ts_libxl_strerror(rc), run_on(&x, domid));
        goto out;
    }
    ts_info("sent in %.1f s; waiting for the receiver", now_s() - t0);
    if (ts_mig_expect(t.from, TS_MIG_READY, why, sizeof(why)) < 0) {
        transport_end(&t);
        ts_err("migrate %s: the receiver failed to build the guest (%s); the guest runs on "
               "here (%s)", dom, why, run_on(&x, domid));
        goto out;
    }
    /* before the receiver may run its copy, ours gives up the name */
    away = ts_asprintf("%s--migratedaway", name);
    rc = libxl_domain_rename(x.ctx, domid, name, away);
    if (rc) {
        transport_end(&t);
        ts_err("migrate %s: cannot rename it away (%s); the guest runs on here (%s)", dom,
               ts_libxl_strerror(rc), run_on(&x, domid));
        goto out;
    }
    if (ts_mig_send(t.to, TS_MIG_GO) < 0 ||
        ts_mig_expect(t.from, TS_MIG_REPORT, why, sizeof(why)) < 0 ||
        ts_read_all(t.from, &st, 1) < 0) {
        /* the receiver may or may not run its copy now: both are left for a person */
        transport_end(&t);
        ts_err("migrate %s: the receiver went away after it was told to start the guest; "
               "ours is kept suspended as %s (domain %u). Check on %s whether the guest runs "
               "there before resuming ours: never run both", dom, away, domid, host);
        goto out;
    }
    if (st) {
        rc = ts_mig_expect(t.from, TS_MIG_GO, why, sizeof(why));
        transport_end(&t);
        if (rc < 0) {
            ts_err("migrate %s: the receiver failed to start the guest (status %d) and did not "
                   "say it removed its copy; ours is kept suspended as %s (domain %u)", dom, st,
                   away, domid);
            goto out;
        }
        libxl_domain_rename(x.ctx, domid, away, name);
        ts_err("migrate %s: the receiver failed to start the guest (status %d) and removed its "
               "copy; the guest runs on here (%s)", dom, st, run_on(&x, domid));
        goto out;
    }
    transport_end(&t);
    libxl_domain_destroy(x.ctx, domid, NULL);
    ts_info("migrated %s to %s in %.1f s%s", name, host, now_s() - t0,
            paused ? " (paused there)" : "");
    status = 0;
out:
    free(json);
    free(recv_cmd);
    free(t.rune);
    free(name);
    free(away);
    libxl_domain_config_dispose(&dc);
    ts_xl_close(&x);
    return status;
}

/* ---- the receiver: stdin from the sender, stdout back to it (messages on stderr) ---- */

static const char receive_usage[] =
    "usage: hvmctl migrate-receive [-p] [-v]\n"
    "The receiving end of `hvmctl migrate` or `xl migrate` (which run it through ssh): reads\n"
    "the guest on stdin, answers on stdout in xl's migration protocol, builds the guest with\n"
    "libxl, runs it once the sender has let go of it, and leaves a monitor with it (as\n"
    "hvmctl create's). A receive that fails leaves nothing behind; the sender resumes.\n"
    "  -p   leave the guest paused\n"
    "  -v   libxl's messages too\n";

/* tells the sender how starting went (status 0: running); after a failure, our copy goes and
 * the sender may resume */
static int report(struct ts_xl *x, uint32_t domid, int rc)
{
    uint8_t st = (uint8_t)(rc ? (-rc > 0 && -rc < 256 ? -rc : 1) : 0);

    if (ts_mig_send(1, TS_MIG_REPORT) < 0 || ts_write_all(1, &st, 1) < 0)
        ts_err("migrate-receive: the sender went away before the report");
    if (!rc)
        return 0;
    libxl_domain_destroy(x->ctx, domid, NULL);
    ts_err("migrate-receive: our copy destroyed; the sender may resume its own");
    if (ts_mig_send(1, TS_MIG_GO) < 0)
        ts_err("migrate-receive: the sender went away");
    return 1;
}

int cmd_migrate_receive(int argc, char **argv)
{
    static const struct option opts[] = {
        { "paused", no_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ts_xl x = { 0 };
    libxl_domain_config dc;
    libxl_domain_restore_params params;
    char why[200], *name = NULL, *incoming = NULL;
    bool paused = false;
    int verbose = 0, c, rc, status = 1;
    uint32_t domid = INVALID_DOMID;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+pvh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': paused = true; break;
        case 'v': verbose++; break;
        case 'h': return ts_usage(receive_usage, 0);
        default: return ts_usage(receive_usage, 2);
        }
    }
    if (argc != optind)
        return ts_usage(receive_usage, 2);
    signal(SIGPIPE, SIG_IGN);
    libxl_domain_config_init(&dc);
    libxl_domain_restore_params_init(&params);
    if (ts_xl_open_progress(&x, verbose) < 0)
        goto out;
    ts_info("migrate-receive: ready");
    if (ts_mig_send(1, TS_MIG_BANNER) < 0) {
        ts_err("migrate-receive: cannot answer the sender: %s", strerror(errno));
        goto out;
    }
    if (ts_read_config(&x, 0, &dc, why, sizeof(why)) < 0) {
        ts_err("migrate-receive: the stream: %s", why);
        goto out;
    }
    name = ts_strdup(dc.c_info.name ? dc.c_info.name : "guest");
    incoming = ts_asprintf("%s--incoming", name);
    free(dc.c_info.name);
    dc.c_info.name = ts_strdup(incoming);
    params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
    params.stream_version = 2;
    ts_info("migrate-receive: receiving %s", name);
    double t0 = now_s();
    rc = libxl_domain_create_restore(x.ctx, &dc, &domid, 0, -1, &params, NULL, NULL);
    if (rc) {
        if (libxl_domid_valid_guest(domid) && !libxl_domain_info(x.ctx, NULL, domid))
            libxl_domain_destroy(x.ctx, domid, NULL);
        ts_err("migrate-receive: %s was not built (%s); nothing is left of it here (the device "
               "model's reason is in /var/log/xen/qemu-dm-%s.log)", name, ts_libxl_strerror(rc),
               incoming);
        goto out;
    }
    ts_info("migrate-receive: %s received in %.1f s as domain %u, paused", name, now_s() - t0,
            domid);
    if (ts_mig_send(1, TS_MIG_READY) < 0 ||
        ts_mig_expect(0, TS_MIG_GO, why, sizeof(why)) < 0) {
        ts_err("migrate-receive: no go from the sender (%s): our copy goes", why);
        status = report(&x, domid, ERROR_FAIL);
        goto out;
    }
    rc = libxl_domain_rename(x.ctx, domid, incoming, name);
    if (rc) {
        ts_err("migrate-receive: cannot rename domain %u to %s (%s)", domid, name,
               ts_libxl_strerror(rc));
        status = report(&x, domid, rc);
        goto out;
    }
    /* the monitor takes the domain on before it runs (no libxl context crosses its fork) */
    ts_xl_close(&x);
    struct ts_settings s;
    struct ts_diag d = { .out = stderr };
    rc = ts_settings_load(&s, NULL, &d);
    if (rc == 0)
        rc = ts_monitor_adopt(&s, domid, name, verbose);
    ts_settings_free(&s);
    if (ts_xl_open_progress(&x, verbose) < 0) {
        /* no libxl: the sender keeps its copy suspended (no report) */
        goto out;
    }
    if (rc < 0) {
        status = report(&x, domid, ERROR_FAIL);
        goto out;
    }
    if (!paused) {
        rc = libxl_domain_unpause(x.ctx, domid, NULL);
        if (rc) {
            ts_err("migrate-receive: domain %u does not run (%s)", domid,
                   ts_libxl_strerror(rc));
            status = report(&x, domid, rc);
            goto out;
        }
    }
    status = report(&x, domid, 0);
    ts_info("migrate-receive: %s runs here as domain %u%s", name, domid,
            paused ? " (paused)" : "");
out:
    free(name);
    free(incoming);
    libxl_domain_restore_params_dispose(&params);
    libxl_domain_config_dispose(&dc);
    ts_xl_close(&x);
    return status;
}

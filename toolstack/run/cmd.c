/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cmd.c: `hvmctl run CFG... [KEY=VALUE...] --expect REGEX ...`: the options, the runs (one
 * in this process; several each in a child process of its own, -j N at a time), the signals,
 * the reports and the exit status (0 pass, 1 fail, 2 infrastructure error).
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are written to a pipe the run's loop watches, so a run
 * that is interrupted still tears its guest down and writes its reports (verdict "error", kind
 * "interrupted"). With several runs, the parent passes SIGTERM on to the children that are
 * running and starts no more.
 */
#include "toolstack/run/run.h"
#include "toolstack/ts.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char run_usage[] =
    "usage: hvmctl run CFG [CFG...] [KEY=VALUE...] [--expect [SRC:]REGEX]... [--fail [SRC:]REGEX]...\n"
    "                  [--step-timeout SECS] [--timeout SECS] [--wait-poweroff]\n"
    "                  [--no-check NAME[,NAME...]] [--no-checks] [--artifacts DIR]\n"
    "                  [--send [SRC:]REGEX TEXT]... [--json FILE] [--junit FILE] [-j N] [-q] [-v]\n"
    "                  [--tests tap,ltp] [--test [SRC:]REGEX]... [--write [SRC:]REGEX TEXT]...\n"
    "                  [--login USER[:PASS]] [--login-on SRC[,SRC]] [--reboots N]\n"
    "Boot a guest from an xl.cfg file, follow its consoles, and decide: pass (exit 0), fail (1),\n"
    "or infrastructure error (2: bad config, no Xen, cannot create, interrupted, teardown left\n"
    "something). The guest is always destroyed at the end, and nothing of it is left.\n"
    "  --expect [SRC:]REGEX  a step: REGEX (POSIX extended) must appear, after the step before;\n"
    "                   SRC limits it to serial, pv, console (serial or pv), xen, dm or screen\n"
    "  --fail [SRC:]REGEX    fail at once when REGEX appears\n"
    "  --send [SRC:]REGEX TEXT  once REGEX appears (after the --send before this one has typed),\n"
    "                   type TEXT on the guest's display keyboard (HVM with a display: the device\n"
    "                   model's sendkey, a US layout); TEXT is printable ASCII with the escapes\n"
    "                   \\n (Return), \\t (Tab), \\e (Escape), \\\\ (a backslash)\n"
    "  --write [SRC:]REGEX TEXT  as --send, but TEXT is written to the console REGEX matched on\n"
    "                   (SRC serial:, pv: or console:); \\n is Enter (a carriage return)\n"
    "  --login USER[:PASS]  answer every login prompt on a console (... login: ) with USER, and\n"
    "                   the password prompt after it with PASS\n"
    "  --login-on SRC[,SRC]  where --login answers: serial, pv, console (the default) or screen\n"
    "                   (the prompt read from the display's text screen, the answer typed on\n"
    "                   its keyboard: a guest whose getty runs on tty1 only)\n"
    "  --reboots N      follow up to N reboots of the guest (each is re-created, as xl does; the\n"
    "                   step waited for is timed from the reboot); one more fails the run\n"
    "  --tests tap,ltp  per-test results: TAP/KTAP lines (ok N name, not ok N name # SKIP;\n"
    "                   kselftest, KUnit) and LTP's result lines each become a JUnit test case;\n"
    "                   a failed test fails the run at its end, an unreadable result line or a\n"
    "                   name reported twice fails it at once\n"
    "  --test [SRC:]REGEX  a result line of your own: \\1 the test's name, \\2 its result\n"
    "                   (pass, ok, fail, error, skip, ...)\n"
    "  --step-timeout SECS   the timeout of each step given after this option (default: none)\n"
    "  --timeout SECS   the whole run, from the create (default 300; 0: none)\n"
    "  --wait-poweroff  a last step: the guest powers off by itself (the default without\n"
    "                   --expect); a poweroff before the last step is a failure\n"
    "  --no-check NAME  switch a built-in check off (--list-checks shows them); --no-checks: all\n"
    "  --artifacts DIR  where each run's folder goes (default ./hvmctl-run): DIR/CFGNAME/ holds\n"
    "                   serial.log pv.log xen.log dm.log console.log result.json junit.xml,\n"
    "                   and for an HVM guest with a display vga.txt and screen.png (its last screen)\n"
    "  --json FILE      the verdicts, reasons and step times of all runs as JSON (- : to\n"
    "                   standard output; the runs' own output then goes to standard error)\n"
    "  --junit FILE     the same as JUnit XML (a test suite per guest, a test case per step)\n"
    "  -j N             run up to N configs at once, each in a process of its own (default 1)\n"
    "  -q, --quiet      no live console lines, no progress messages: the summary only\n"
    "  -v, --verbose    libxl's messages too\n"
    "  KEY=VALUE        set or override a key of every config, as hvmctl create does\n"
    "Sources: serial (an HVM guest's UART, serial = \"pty\"), pv (the PV console), xen (Xen's\n"
    "console lines of the domain: hvmloader, SeaBIOS), dm (the device model's log), screen (an\n"
    "HVM guest's text screen, its rows as they appear or change, read twice a second while a\n"
    "pattern names screen: or --login-on does; a pattern without SRC matches it too then).\n"
    "See hvmctl(1), BOOT TESTS, and toolstack/RUN.md.\n";

/* ---- signals ------------------------------------------------------------------------------- */

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;

    if (sig_pipe[1] >= 0 && write(sig_pipe[1], &sig, sizeof(sig)) < 0) {
        /* the pipe is full: a signal is already pending */
    }
    errno = saved;
}

static int signals_setup(void)
{
    struct sigaction sa;

    if (sig_pipe[0] >= 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
    }
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void signals_reset(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

/* ---- the runs ------------------------------------------------------------------------------ */

struct job {
    const char *cfg;
    char *dir;
    pid_t pid;
    int pipe_rd;
    bool done;
    struct run_brief brief;
};

static void brief_of(struct run_brief *b, const struct run_result *r)
{
    memset(b, 0, sizeof(*b));
    b->verdict = r->verdict;
    b->counts = run_report_counts(r);
    b->duration_s = r->duration_s;
    run_summary_line(b->summary, sizeof(b->summary), r);
}

static void one_run(struct job *j, const struct run_opts *base, const char *prefix)
{
    struct run_opts o = *base;
    struct run_result r;

    o.artifacts = j->dir;
    o.live_prefix = prefix;
    run_result_init(&r);
    run_guest(j->cfg, &o, sig_pipe[0], &r);
    brief_of(&j->brief, &r);
    run_result_free(&r);
    j->done = true;
}

static void say_brief(const struct job *j)
{
    printf("%s\n", j->brief.summary);
    fflush(stdout);
}

/* a run in a child that ended in an error: the end of its messages (libxl's say why) */
static void say_child_log(const struct job *j)
{
    char *path = ts_asprintf("%s/hvmctl.log", j->dir), *data = NULL, *p;
    size_t len = 0;
    int lines = 0;

    if (ts_read_file(path, &data, &len) == 0 && len) {
        for (p = data + len; p > data; p--)
            if (p[-1] == '\n' && p != data + len && ++lines == 15)
                break;
        ts_err("run: the end of %s:", path);
        for (; *p; ) {
            char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);

            fprintf(stderr, "  | %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    free(data);
    free(path);
}

static int spawn(struct job *j, const struct run_opts *base, bool quiet)
{
    int p[2];
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -errno;
    }
    if (pid == 0) {
        char *prefix = NULL, *log;
        const char *b = strrchr(j->dir, '/');
        int fd;

        close(p[0]);
        signals_reset();
        if (signals_setup() < 0)
            _exit(2);
        /* the child's messages (libxl's, hvmctl's) go to its folder, not the terminal */
        if (mkdir(j->dir, 0755) < 0 && errno != EEXIST)
            _exit(2);
        log = ts_asprintf("%s/hvmctl.log", j->dir);
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        free(log);
        if (!quiet)
            prefix = ts_asprintf("%-12s ", b ? b + 1 : j->dir);
        one_run(j, base, prefix);
        if (write(p[1], &j->brief, sizeof(j->brief)) != (ssize_t)sizeof(j->brief))
            _exit(2);
        free(prefix);
        _exit(run_exit_code(j->brief.verdict));
    }
    close(p[1]);
    j->pid = pid;
    j->pipe_rd = p[0];
    return 0;
}

static void reap(struct job *j, int status)
{
    ssize_t n = read(j->pipe_rd, &j->brief, sizeof(j->brief));

    close(j->pipe_rd);
    j->pipe_rd = -1;
    j->done = true;
    if (n != (ssize_t)sizeof(j->brief)) {
        memset(&j->brief, 0, sizeof(j->brief));
        j->brief.verdict = RUN_ERROR;
        j->brief.counts.tests = 1;
        j->brief.counts.errors = 1;
        snprintf(j->brief.summary, sizeof(j->brief.summary),
                 "ERROR %s: the run's process died (%s %d) before it reported; see %s/hvmctl.log",
                 j->cfg, WIFSIGNALED(status) ? "signal" : "status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), j->dir);
    }
}

static void run_many(struct job *jobs, int n, int par, const struct run_opts *base, bool quiet)
{
    int next = 0, running = 0, i;
    bool stopping = false;

    while (next < n || running > 0) {
        struct pollfd p = { .fd = sig_pipe[0], .events = POLLIN };
        int status;
        pid_t pid;

        while (!stopping && running < par && next < n) {
            struct job *j = &jobs[next++];

            if (spawn(j, base, quiet) < 0) {
                j->done = true;
                j->brief.verdict = RUN_ERROR;
                j->brief.counts.tests = j->brief.counts.errors = 1;
                snprintf(j->brief.summary, sizeof(j->brief.summary),
                         "ERROR %s: cannot start its process: %s", j->cfg, strerror(errno));
                say_brief(j);
                continue;
            }
            running++;
        }
        if (!running)
            break;
        if (poll(&p, 1, 200) == 1 && !stopping) {
            int sig;

            while (read(sig_pipe[0], &sig, sizeof(sig)) > 0)
                ;
            stopping = true;
            for (i = 0; i < n; i++)
                if (jobs[i].pid > 0 && !jobs[i].done)
                    kill(jobs[i].pid, SIGTERM);
        }
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (i = 0; i < n; i++) {
                if (jobs[i].pid == pid && !jobs[i].done) {
                    reap(&jobs[i], status);
                    say_brief(&jobs[i]);
                    if (jobs[i].brief.verdict == RUN_ERROR)
                        say_child_log(&jobs[i]);
                    running--;
                }
            }
        }
    }
    /* the ones never started */
    for (i = 0; i < n; i++) {
        if (jobs[i].done)
            continue;
        jobs[i].done = true;
        jobs[i].brief.verdict = RUN_ERROR;
        jobs[i].brief.counts.tests = jobs[i].brief.counts.errors = 1;
        snprintf(jobs[i].brief.summary, sizeof(jobs[i].brief.summary),
                 "ERROR %s: not run (interrupted)", jobs[i].cfg);
        say_brief(&jobs[i]);
    }
}

/* DIR/NAME for each config, NAME its file's base name, made unique */
static char *job_dir(const char *root, const char *cfg, struct job *jobs, int upto)
{
    const char *b = strrchr(cfg, '/');
    char *name = ts_strdup(b ? b + 1 : cfg), *dot = strrchr(name, '.'), *dir = NULL;
    int k, i;

    if (dot && dot != name)
        *dot = '\0';
    for (k = 1;; k++) {
        bool clash = false;

        free(dir);
        dir = k == 1 ? ts_asprintf("%s/%s", root, name) : ts_asprintf("%s/%s-%d", root, name, k);
        for (i = 0; i < upto; i++)
            if (!strcmp(jobs[i].dir, dir))
                clash = true;
        if (!clash)
            break;
    }
    free(name);
    return dir;
}

static int parse_secs(const char *opt, const char *v, double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || d < 0 || d > 86400 * 7) {
        ts_err("run: %s %s: a number of seconds", opt, v);
        return -EINVAL;
    }
    *out = d;
    return 0;
}

static void list_checks(void)
{
    int i;

    printf("%-16s %s\n", "CHECK", "fails the run on");
    for (i = 0; i < RUN_NCHECKS; i++)
        printf("%-16s %s\n", run_check_info(i)->name, run_check_info(i)->about);
}

/* the command line of `hvmctl run` */
struct run_args {
    struct run_spec spec;
    const char *art, *json, *junit;
    const char **cfgs, **kv;
    int ncfg, nkv, par, verbose;
    bool quiet, poweroff_seen;
    double step_timeout;
};

static int no_check(struct run_spec *spec, const char *arg)
{
    char *list = ts_strdup(arg), *save = NULL, *w;
    int rc = 0;

    for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int c = run_check_by_name(w);
        if (c < 0) {
            ts_err("run: --no-check %s: no such check (hvmctl run --list-checks)", w);
            rc = -EINVAL;
            break;
        }
        spec->checks &= ~(1u << c);
    }
    free(list);
    return rc;
}

enum { O_EXPECT = 256, O_FAIL, O_STEP, O_TIMEOUT, O_POWEROFF, O_NOCHECK, O_NOCHECKS, O_ART,
       O_JSON, O_JUNIT, O_LIST, O_TESTS, O_TEST, O_LOGIN, O_REBOOTS,
       O_LOGIN_ON };

/* one option: -1 to go on, else the exit status */
static int run_option(int opt, const char *arg, struct run_args *a)
{
    char err[300];
    long v;

    switch (opt) {
    case O_EXPECT:
        if (run_spec_add_expect(&a->spec, arg, a->step_timeout, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_FAIL:
        if (run_spec_add_fail(&a->spec, arg, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_TESTS:
        if (run_spec_set_tests(&a->spec, arg, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_LOGIN:
        if (run_spec_set_login(&a->spec, arg, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_LOGIN_ON:
        if (run_spec_set_login_srcs(&a->spec, arg, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_REBOOTS:
        if (ts_parse_long(arg, &v) < 0 || v < 0 || v > RUN_MAX_REBOOTS) {
            ts_err("run: --reboots %s: a number of reboots, 0 to %d", arg, RUN_MAX_REBOOTS);
            return 2;
        }
        a->spec.reboots = (int)v;
        return -1;
    case O_TEST:
        if (run_spec_add_test_pattern(&a->spec, arg, err, sizeof(err)) < 0) {
            ts_err("run: %s", err);
            return 2;
        }
        return -1;
    case O_STEP:
        return parse_secs("--step-timeout", arg, &a->step_timeout) < 0 ? 2 : -1;
    case O_TIMEOUT:
        return parse_secs("--timeout", arg, &a->spec.timeout_s) < 0 ? 2 : -1;
    case O_POWEROFF:
        a->spec.wait_poweroff = true;
        a->spec.poweroff_timeout_s = a->step_timeout;
        a->poweroff_seen = true;
        return -1;
    case O_NOCHECK:
        return no_check(&a->spec, arg) < 0 ? 2 : -1;
    case O_NOCHECKS:
        a->spec.checks = 0;
        return -1;
    case O_ART: a->art = arg; return -1;
    case O_JSON: a->json = arg; return -1;
    case O_JUNIT: a->junit = arg; return -1;
    case O_LIST:
        list_checks();
        return 0;
    case 'j':
        if (ts_parse_long(arg, &v) < 0 || v < 1 || v > 64) {
            ts_err("run: -j %s: a number of runs at once, 1 to 64", arg);
            return 2;
        }
        a->par = (int)v;
        return -1;
    case 'q': a->quiet = true; return -1;
    case 'v': a->verbose++; return -1;
    case 'h':
        return ts_usage(run_usage, 0);
    default:
        return ts_usage(run_usage, 2);
    }
}

/* --send PATTERN TEXT takes two arguments, which getopt cannot: they are taken out of argv
 * first (up to a "--"), into a->spec. argv keeps the rest, in order; *argcp its count.
 * -1 to go on, else the exit status. */
static int take_sends(int *argcp, char **argv, struct run_args *a)
{
    int i, n = 0, argc = *argcp;
    bool rest = false;

    for (i = 0; i < argc; i++) {
        if (!rest && !strcmp(argv[i], "--"))
            rest = true;
        if (rest || (strcmp(argv[i], "--send") && strcmp(argv[i], "--write"))) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 2 >= argc) {
            ts_err("run: %s takes two arguments: [SRC:]REGEX TEXT", argv[i]);
            return 2;
        }
        {
            char err[400];

            if ((!strcmp(argv[i], "--send") ? run_spec_add_send : run_spec_add_write)(
                    &a->spec, argv[i + 1], argv[i + 2], err, sizeof(err)) < 0) {
                ts_err("run: %s", err);
                return 2;
            }
        }
        i += 2;
    }
    argv[n] = NULL;
    *argcp = n;
    return -1;
}

/* Parses the command line into a: -1 to go on, else the exit status. */
static int parse_run_args(int argc, char **argv, struct run_args *a)
{
    static const struct option opts[] = {
        { "expect", required_argument, NULL, O_EXPECT },
        { "fail", required_argument, NULL, O_FAIL },
        { "step-timeout", required_argument, NULL, O_STEP },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "wait-poweroff", no_argument, NULL, O_POWEROFF },
        { "no-check", required_argument, NULL, O_NOCHECK },
        { "no-checks", no_argument, NULL, O_NOCHECKS },
        { "artifacts", required_argument, NULL, O_ART },
        { "json", required_argument, NULL, O_JSON },
        { "junit", required_argument, NULL, O_JUNIT },
        { "list-checks", no_argument, NULL, O_LIST },
        { "tests", required_argument, NULL, O_TESTS },
        { "test", required_argument, NULL, O_TEST },
        { "login", required_argument, NULL, O_LOGIN },
        { "reboots", required_argument, NULL, O_REBOOTS },
        { "login-on", required_argument, NULL, O_LOGIN_ON },
        { "jobs", required_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt, i, status;

    if ((status = take_sends(&argc, argv, a)) >= 0)
        return status;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:qvh", opts, NULL)) != -1)
        if ((status = run_option(opt, optarg, a)) >= 0)
            return status;
    a->cfgs = calloc((size_t)argc + 1, sizeof(*a->cfgs));
    a->kv = calloc((size_t)argc + 1, sizeof(*a->kv));
    if (!a->cfgs || !a->kv)
        return 2;
    for (i = optind; i < argc; i++) {
        if (strchr(argv[i], '='))
            a->kv[a->nkv++] = argv[i];
        else
            a->cfgs[a->ncfg++] = argv[i];
    }
    if (!a->ncfg) {
        ts_err("run: no config file");
        return ts_usage(run_usage, 2);
    }
    if (a->json && a->junit && !strcmp(a->json, "-") && !strcmp(a->junit, "-")) {
        ts_err("run: --json - and --junit -: only one report can go to standard output");
        return ts_usage(run_usage, 2);
    }
    if (!a->spec.n_expects && !a->poweroff_seen) {
        /* nothing to see: the test is that the guest powers off by itself */
        a->spec.wait_poweroff = true;
        a->spec.poweroff_timeout_s = a->step_timeout;
    }
    return -1;
}

/* "hvmctl run: N passed, ..." after several runs */
static void say_totals(const struct job *jobs, int n, int par, double wall_s)
{
    int p = 0, f = 0, e = 0, i;

    for (i = 0; i < n; i++) {
        if (jobs[i].brief.verdict == RUN_PASS)
            p++;
        else if (jobs[i].brief.verdict == RUN_FAIL)
            f++;
        else
            e++;
    }
    printf("hvmctl run: %d passed, %d failed, %d error%s (%d configs, -j %d, %.1f s)\n", p, f,
           e, e == 1 ? "" : "s", n, par, wall_s);
}

/* the runs, their summary and the combined reports: the exit status */
static int run_all(struct job *jobs, const struct run_args *a)
{
    struct run_opts o;
    char **dirs = calloc((size_t)a->ncfg, sizeof(*dirs));
    struct run_brief *briefs = calloc((size_t)a->ncfg, sizeof(*briefs));
    double wall0;
    int i, worst = 0, status = 2;

    if (!dirs || !briefs)
        goto out;
    memset(&o, 0, sizeof(o));
    o.spec = &a->spec;
    o.overrides = a->kv;
    o.n_overrides = a->nkv;
    o.verbose = a->quiet ? -1 : a->verbose;
    wall0 = run_now();
    if (a->ncfg == 1) {
        one_run(&jobs[0], &o, a->quiet ? NULL : "");
        say_brief(&jobs[0]);
    } else {
        run_many(jobs, a->ncfg, a->par, &o, a->quiet);
    }
    for (i = 0; i < a->ncfg; i++) {
        int code = run_exit_code(jobs[i].brief.verdict);

        dirs[i] = jobs[i].dir;
        briefs[i] = jobs[i].brief;
        if (code > worst)
            worst = code;
    }
    if (a->ncfg > 1)
        say_totals(jobs, a->ncfg, a->par, run_now() - wall0);
    status = worst;
    if (run_report_combine(a->json, a->junit, dirs, briefs, a->ncfg, run_now() - wall0) < 0)
        status = 2;
out:
    free(dirs);
    free(briefs);
    return status;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a = { .art = "hvmctl-run", .par = 1 };
    struct job *jobs = NULL;
    int i, status;

    run_spec_init(&a.spec);
    a.spec.timeout_s = 300;
    status = parse_run_args(argc, argv, &a);
    if (status >= 0)
        goto out;
    status = 2;
    if (signals_setup() < 0) {
        ts_err("run: cannot set up signal handling: %s", strerror(errno));
        goto out;
    }
    jobs = calloc((size_t)a.ncfg, sizeof(*jobs));
    if (!jobs)
        goto out;
    for (i = 0; i < a.ncfg; i++) {
        jobs[i].cfg = a.cfgs[i];
        jobs[i].pipe_rd = -1;
        jobs[i].dir = job_dir(a.art, a.cfgs[i], jobs, i);
    }
    if (mkdir(a.art, 0755) < 0 && errno != EEXIST) {
        ts_err("run: --artifacts %s: %s", a.art, strerror(errno));
        goto out;
    }
    /* a report to standard output (--json - / --junit -) has it to itself: what the runs say
     * (summaries, live consoles, the runs' children) goes to standard error instead */
    if ((a.json && !strcmp(a.json, "-")) || (a.junit && !strcmp(a.junit, "-"))) {
        int fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
        if (fd < 0 || dup2(2, 1) < 0) {
            ts_err("run: standard output for the report: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            goto out;
        }
        run_report_stdout(fd);
    }
    status = run_all(jobs, &a);
out:
    for (i = 0; jobs && i < a.ncfg; i++)
        free(jobs[i].dir);
    free(jobs);
    free(a.cfgs);
    free(a.kv);
    run_spec_free(&a.spec);
    return status;
}

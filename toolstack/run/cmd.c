/*
 * run_cmd.c: `hvmctl run CFG... [KEY=VALUE...] --expect REGEX ...`: the options, the runs (one
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
    "                  [--json FILE] [--junit FILE] [-j N] [-q] [-v]\n"
    "Boot a guest from an xl.cfg file, follow its consoles, and decide: pass (exit 0), fail (1),\n"
    "or infrastructure error (2: bad config, no Xen, cannot create, interrupted, teardown left\n"
    "something). The guest is always destroyed at the end, and nothing of it is left.\n"
    "  --expect [SRC:]REGEX  a step: REGEX (POSIX extended) must appear, after the step before;\n"
    "                   SRC limits it to serial, pv, console (serial or pv), xen or dm\n"
    "  --fail [SRC:]REGEX    fail at once when REGEX appears\n"
    "  --step-timeout SECS   the timeout of each step given after this option (default: none)\n"
    "  --timeout SECS   the whole run, from the create (default 300; 0: none)\n"
    "  --wait-poweroff  a last step: the guest powers off by itself (the default without\n"
    "                   --expect); a poweroff before the last step is a failure\n"
    "  --no-check NAME  switch a built-in check off (--list-checks shows them); --no-checks: all\n"
    "  --artifacts DIR  where each run's folder goes (default ./hvmctl-run): DIR/CFGNAME/ holds\n"
    "                   serial.log pv.log xen.log dm.log console.log result.json junit.xml\n"
    "  --json FILE      the verdicts, reasons and step times of all runs as JSON\n"
    "  --junit FILE     the same as JUnit XML (a test suite per guest, a test case per step)\n"
    "  -j N             run up to N configs at once, each in a process of its own (default 1)\n"
    "  -q, --quiet      no live console lines, no progress messages: the summary only\n"
    "  -v, --verbose    libxl's messages too\n"
    "  KEY=VALUE        set or override a key of every config, as hvmctl create does\n"
    "Sources: serial (an HVM guest's UART, serial = \"pty\"), pv (the PV console), xen (Xen's\n"
    "console lines of the domain: hvmloader, SeaBIOS), dm (the device model's log).\n"
    "See hvmctl-run(1).\n";

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

int cmd_run(int argc, char **argv)
{
    enum { O_EXPECT = 256, O_FAIL, O_STEP, O_TIMEOUT, O_POWEROFF, O_NOCHECK, O_NOCHECKS, O_ART,
           O_JSON, O_JUNIT, O_LIST };
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
        { "jobs", required_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct run_spec spec;
    struct run_opts o;
    const char *art = "hvmctl-run", *json = NULL, *junit = NULL;
    const char **cfgs = NULL, **kv = NULL;
    struct job *jobs = NULL;
    char **dirs = NULL;
    struct run_brief *briefs = NULL;
    double step_timeout = 0, wall0;
    bool quiet = false, poweroff_seen = false;
    int opt, ncfg = 0, nkv = 0, par = 1, verbose = 0, i, status = 2, worst = 0;
    char err[300];

    run_spec_init(&spec);
    spec.timeout_s = 300;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "j:qvh", opts, NULL)) != -1) {
        switch (opt) {
        case O_EXPECT:
            if (run_spec_add_expect(&spec, optarg, step_timeout, err, sizeof(err)) < 0) {
                ts_err("run: %s", err);
                goto out;
            }
            break;
        case O_FAIL:
            if (run_spec_add_fail(&spec, optarg, err, sizeof(err)) < 0) {
                ts_err("run: %s", err);
                goto out;
            }
            break;
        case O_STEP:
            if (parse_secs("--step-timeout", optarg, &step_timeout) < 0)
                goto out;
            break;
        case O_TIMEOUT:
            if (parse_secs("--timeout", optarg, &spec.timeout_s) < 0)
                goto out;
            break;
        case O_POWEROFF:
            spec.wait_poweroff = true;
            spec.poweroff_timeout_s = step_timeout;
            poweroff_seen = true;
            break;
        case O_NOCHECK: {
            char *list = ts_strdup(optarg), *save = NULL, *w;
            bool bad = false;

            for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                int c = run_check_by_name(w);
                if (c < 0) {
                    ts_err("run: --no-check %s: no such check (hvmctl run --list-checks)", w);
                    bad = true;
                    break;
                }
                spec.checks &= ~(1u << c);
            }
            free(list);
            if (bad)
                goto out;
            break;
        }
        case O_NOCHECKS:
            spec.checks = 0;
            break;
        case O_ART:
            art = optarg;
            break;
        case O_JSON:
            json = optarg;
            break;
        case O_JUNIT:
            junit = optarg;
            break;
        case O_LIST:
            list_checks();
            status = 0;
            goto out;
        case 'j': {
            long v;
            if (ts_parse_long(optarg, &v) < 0 || v < 1 || v > 64) {
                ts_err("run: -j %s: a number of runs at once, 1 to 64", optarg);
                goto out;
            }
            par = (int)v;
            break;
        }
        case 'q':
            quiet = true;
            break;
        case 'v':
            verbose++;
            break;
        case 'h':
            fputs(run_usage, stdout);
            status = 0;
            goto out;
        default:
            fputs(run_usage, stderr);
            goto out;
        }
    }
    cfgs = calloc((size_t)argc + 1, sizeof(*cfgs));
    kv = calloc((size_t)argc + 1, sizeof(*kv));
    if (!cfgs || !kv)
        goto out;
    for (i = optind; i < argc; i++) {
        if (strchr(argv[i], '='))
            kv[nkv++] = argv[i];
        else
            cfgs[ncfg++] = argv[i];
    }
    if (!ncfg) {
        ts_err("run: no config file");
        fputs(run_usage, stderr);
        goto out;
    }
    if (!spec.n_expects && !poweroff_seen) {
        /* nothing to see: the test is that the guest powers off by itself */
        spec.wait_poweroff = true;
        spec.poweroff_timeout_s = step_timeout;
    }
    if (signals_setup() < 0) {
        ts_err("run: cannot set up signal handling: %s", strerror(errno));
        goto out;
    }

    memset(&o, 0, sizeof(o));
    o.spec = &spec;
    o.overrides = kv;
    o.n_overrides = nkv;
    o.verbose = quiet ? -1 : verbose;
    jobs = calloc((size_t)ncfg, sizeof(*jobs));
    dirs = calloc((size_t)ncfg, sizeof(*dirs));
    briefs = calloc((size_t)ncfg, sizeof(*briefs));
    if (!jobs || !dirs || !briefs)
        goto out;
    for (i = 0; i < ncfg; i++) {
        jobs[i].cfg = cfgs[i];
        jobs[i].pipe_rd = -1;
        jobs[i].dir = job_dir(art, cfgs[i], jobs, i);
    }
    if (mkdir(art, 0755) < 0 && errno != EEXIST) {
        ts_err("run: --artifacts %s: %s", art, strerror(errno));
        goto out;
    }

    wall0 = run_now();
    if (ncfg == 1) {
        one_run(&jobs[0], &o, quiet ? NULL : "");
        say_brief(&jobs[0]);
    } else {
        run_many(jobs, ncfg, par, &o, quiet);
    }
    for (i = 0; i < ncfg; i++) {
        int code = run_exit_code(jobs[i].brief.verdict);

        dirs[i] = jobs[i].dir;
        briefs[i] = jobs[i].brief;
        if (code > worst)
            worst = code;
    }
    if (ncfg > 1) {
        int p = 0, f = 0, e = 0;

        for (i = 0; i < ncfg; i++) {
            if (briefs[i].verdict == RUN_PASS)
                p++;
            else if (briefs[i].verdict == RUN_FAIL)
                f++;
            else
                e++;
        }
        printf("hvmctl run: %d passed, %d failed, %d error%s (%d configs, -j %d, %.1f s)\n", p, f,
               e, e == 1 ? "" : "s", ncfg, par, run_now() - wall0);
    }
    status = worst;
    if (run_report_combine(json, junit, dirs, briefs, ncfg, run_now() - wall0) < 0)
        status = 2;

out:
    if (jobs) {
        for (i = 0; i < ncfg; i++)
            free(jobs[i].dir);
    }
    free(jobs);
    free(dirs);
    free(briefs);
    free(cfgs);
    free(kv);
    run_spec_free(&spec);
    return status;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ts_run.c: `hvmctl run`'s verdict, driven as a guest would drive it: console bytes through
 * pipes (and a growing log file) into the real poll loop and engine, the domain's end through the
 * loop's hook, a signal through the stop pipe; then the JSON and JUnit reports, checked with
 * Python's own json and xml parsers. No Xen: run/guest.c plugs Xen's sources into the same loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "toolstack/run/run.h"

/* ---- a harness: pipes for the consoles, a scripted domain, a recorded output ---------------- */

struct piece {
    enum run_src src;
    double at;              /* seconds after the start */
    const char *data;
};

struct dom_script {
    double end_at;          /* < 0: never */
    enum run_event ev;
    int polls;
};

struct rec {
    char *text;             /* every line the engine finished: "src|line\n" */
    size_t len;
    FILE *f;
};

static void rec_line(void *opaque, enum run_src src, double t, const char *line, size_t len)
{
    struct rec *r = opaque;

    (void)t;
    fprintf(r->f, "%s|%.*s\n", run_src_name(src), (int)len, line);
    fflush(r->f);
}

static void dom_poll(void *opaque, struct run_engine *e, double t, struct run_dom_state *st)
{
    struct dom_script *d = opaque;

    (void)e;
    d->polls++;
    if (d->end_at >= 0 && t >= d->end_at) {
        st->ended = true;
        st->ev = d->ev;
    }
}

/* a writer process: each piece into its source's pipe at its time, then EOF on all */
static pid_t start_writer(int wfd[RUN_NSRC], const struct piece *p, int n)
{
    pid_t pid = fork();
    int i;

    assert_true(pid >= 0);
    if (pid == 0) {
        double t0 = run_now();

        for (i = 0; i < n; i++) {
            double wait = p[i].at - (run_now() - t0);
            if (wait > 0)
                usleep((useconds_t)(wait * 1e6));
            if (write(wfd[p[i].src], p[i].data, strlen(p[i].data)) < 0)
                _exit(1);
        }
        _exit(0);
    }
    return pid;
}

struct run {
    struct run_spec spec;
    struct run_engine e;
    struct rec rec;
    struct dom_script dom;
    double took;
};

static void run_init(struct run *r)
{
    memset(r, 0, sizeof(*r));
    run_spec_init(&r->spec);
    r->dom.end_at = -1;
}

static void expect(struct run *r, const char *arg, double step_timeout)
{
    char err[200];

    assert_int_equal(run_spec_add_expect(&r->spec, arg, step_timeout, err, sizeof(err)), 0);
}

/* Runs the loop over pipes fed by pieces (serial and pv), with the scripted domain; returns
 * after the verdict. stop_after > 0 sends SIGTERM's number through the stop pipe then. */
static void run_pipes(struct run *r, const struct piece *p, int n, double stop_after)
{
    int rfd[RUN_NSRC], wfd[RUN_NSRC], stop[2], i;
    struct run_fd fds[2];
    struct run_hooks h = {
        .opaque = &r->dom, .poll = dom_poll, .watch_fd = -1, .tick_s = 0.05,
        .settle_s = 0.2, .grace_s = 0.3,
    };
    pid_t w, stopper = -1;
    double t0;

    for (i = 0; i < RUN_NSRC; i++) {
        int pp[2];
        assert_int_equal(pipe2(pp, O_CLOEXEC), 0);
        rfd[i] = pp[0];
        wfd[i] = pp[1];
        fcntl(rfd[i], F_SETFL, O_NONBLOCK);
    }
    assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
    r->rec.f = open_memstream(&r->rec.text, &r->rec.len);
    assert_non_null(r->rec.f);
    assert_int_equal(run_engine_init(&r->e, &r->spec, rec_line, &r->rec), 0);
    fds[0] = (struct run_fd){ .fd = rfd[RUN_SRC_SERIAL], .src = RUN_SRC_SERIAL };
    fds[1] = (struct run_fd){ .fd = rfd[RUN_SRC_PV], .src = RUN_SRC_PV };
    t0 = run_now();
    w = start_writer(wfd, p, n);
    if (stop_after > 0) {
        stopper = fork();
        assert_true(stopper >= 0);
        if (stopper == 0) {
            int sig = SIGTERM;
            usleep((useconds_t)(stop_after * 1e6));
            if (write(stop[1], &sig, sizeof(sig)) < 0)
                _exit(1);
            _exit(0);
        }
    }
    for (i = 0; i < RUN_NSRC; i++)
        close(wfd[i]);
    run_loop(&r->e, fds, 2, &h, stop[0], t0);
    r->took = run_now() - t0;
    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    if (stopper > 0) {
        kill(stopper, SIGKILL);
        waitpid(stopper, NULL, 0);
    }
    for (i = 0; i < RUN_NSRC; i++)
        close(rfd[i]);
    close(stop[0]);
    close(stop[1]);
    fflush(r->rec.f);
}

static void run_free(struct run *r)
{
    run_engine_free(&r->e);
    if (r->rec.f)
        fclose(r->rec.f);
    free(r->rec.text);
    run_spec_free(&r->spec);
}

/* ---- steps ----------------------------------------------------------------------------------- */

static void test_two_markers_in_order_pass(void **state)
{
    const struct piece p[] = {
        { RUN_SRC_PV, 0.00, "Linux version 6.1\r\nBOOT-A" },
        { RUN_SRC_PV, 0.15, " done\r\n" },
        { RUN_SRC_SERIAL, 0.30, "login: " },
    };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "BOOT-A done", 5);
    expect(&r, "serial:^login: $", 5);
    run_pipes(&r, p, 3, 0);
    assert_int_equal(r.e.verdict, RUN_PASS);
    assert_string_equal(r.e.kind, "pass");
    assert_true(r.e.steps[0].done && r.e.steps[1].done);
    assert_int_equal(r.e.steps[0].src, RUN_SRC_PV);
    assert_int_equal(r.e.steps[1].src, RUN_SRC_SERIAL);
    /* the first step ends with the line's second half, the second on a prompt without newline */
    assert_true(r.e.steps[0].at_s >= 0.1 && r.e.steps[0].at_s < 2);
    assert_true(r.e.steps[1].at_s >= 0.25 && r.e.steps[1].at_s < 3);
    assert_true(r.e.steps[1].took_s > 0.05);
    assert_string_equal(r.e.steps[0].line, "BOOT-A done");
    assert_string_equal(r.e.steps[1].line, "login: ");
    /* the carriage return is gone from the recorded line */
    assert_non_null(strstr(r.rec.text, "pv|Linux version 6.1\n"));
    run_free(&r);
}

static void test_order_matters(void **state)
{
    /* B comes before A: waiting for A, then B again, which never comes */
    const struct piece p[] = {
        { RUN_SRC_PV, 0.0, "MARK-B\n" },
        { RUN_SRC_PV, 0.1, "MARK-A\n" },
    };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "MARK-A", 0);
    expect(&r, "MARK-B", 0.6);
    run_pipes(&r, p, 2, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "step-timeout");
    assert_true(r.e.steps[0].done);
    assert_false(r.e.steps[1].done);
    assert_non_null(strstr(r.e.reason, "step 2 (/MARK-B/)"));
    assert_true(r.took >= 0.6 && r.took < 3);
    run_free(&r);
}

static void test_two_steps_on_one_line(void **state)
{
    const struct piece p[] = { { RUN_SRC_SERIAL, 0, "one two three\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "one", 0);
    expect(&r, "^one", 0.5);   /* not again from the line's start: only after "one" */
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_true(r.e.steps[0].done);
    assert_false(r.e.steps[1].done);
    run_free(&r);

    run_init(&r);
    expect(&r, "one", 0);
    expect(&r, "two", 0);
    expect(&r, "three", 0);
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_PASS);
    run_free(&r);
}

static void test_partial_line_not_matched_twice(void **state)
{
    /* a prompt matches as it arrives; when its line ends, the same text is not matched again */
    const struct piece p[] = {
        { RUN_SRC_SERIAL, 0.0, "Password: " },
        { RUN_SRC_SERIAL, 0.1, "\n" },
    };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "Password:", 0);
    expect(&r, "Password:", 0.5);
    run_pipes(&r, p, 2, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "step-timeout");
    assert_true(r.e.steps[0].done);
    assert_false(r.e.steps[1].done);
    run_free(&r);
}

static void test_source_restriction(void **state)
{
    const struct piece p[] = { { RUN_SRC_PV, 0, "HVMD-GUEST-UP\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "serial:HVMD-GUEST-UP", 0);
    r.spec.timeout_s = 0.5;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "timeout");
    assert_non_null(strstr(r.e.reason, "timed out after 0 s"));
    run_free(&r);

    run_init(&r);
    expect(&r, "console:HVMD-GUEST-UP", 0);
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_PASS);
    run_free(&r);
}

/* ---- built-in checks and --fail ---------------------------------------------------------------- */

struct check_case {
    const char *line;
    const char *kind;       /* NULL: no failure */
    enum run_src src;
};

static void test_builtin_checks(void **state)
{
    static const struct check_case cases[] = {
        { "[    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs", "check:panic", RUN_SRC_PV },
        { "[    1.0] BUG: kernel NULL pointer dereference, address: 0000000000000000", "check:bug", RUN_SRC_SERIAL },
        { "[    1.0] kernel BUG at mm/slub.c:123!", "check:bug", RUN_SRC_SERIAL },
        { "[    1.0] BUG: KASAN: slab-out-of-bounds in foo+0x12/0x40", "check:kasan", RUN_SRC_PV },
        { "[    1.0] UBSAN: shift-out-of-bounds in kernel/time/x.c:12:3", "check:ubsan", RUN_SRC_PV },
        { "[    1.0] Oops: 0002 [#1] PREEMPT SMP NOPTI", "check:oops", RUN_SRC_PV },
        { "[    1.0] general protection fault, probably for non-canonical address: 0000 [#1] SMP", "check:oops", RUN_SRC_PV },
        { "[    1.0] WARNING: CPU: 0 PID: 1 at drivers/base/dd.c:555 really_probe+0x3e/0x3a0", "check:warning", RUN_SRC_PV },
        { "No bootable device.  Retrying in 60 seconds.", "check:no-boot-device", RUN_SRC_XEN },
        { "(XEN) d3v0 Triple fault - invoking HVM shutdown action 1", "check:triple-fault", RUN_SRC_XEN },
        /* the same words elsewhere are not a failure */
        { "Triple fault", NULL, RUN_SRC_PV },
        { "DEBUG: all fine; no BUGs here, WARNING: disk almost full", NULL, RUN_SRC_PV },
        { "Kernel panic - not syncing", NULL, RUN_SRC_DM },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run_spec spec;
        struct run_engine e;
        char err[100];

        run_spec_init(&spec);
        assert_int_equal(run_spec_add_expect(&spec, "never", 0, err, sizeof(err)), 0);
        assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
        run_engine_line(&e, cases[i].src, cases[i].line, strlen(cases[i].line), 1.5);
        if (cases[i].kind) {
            if (e.verdict != RUN_FAIL || strcmp(e.kind, cases[i].kind))
                fail_msg("'%s' on %s: %s/%s, wanted %s", cases[i].line,
                         run_src_name(cases[i].src), run_verdict_name(e.verdict), e.kind,
                         cases[i].kind);
            assert_true(e.fail_has_line);
            assert_string_equal(e.fail_line, cases[i].line);
            assert_int_equal(e.fail_src, cases[i].src);
        } else if (e.verdict != RUN_RUNNING) {
            fail_msg("'%s' on %s failed the run: %s", cases[i].line, run_src_name(cases[i].src),
                     e.reason);
        }
        run_engine_free(&e);
        /* and switched off, the line passes */
        if (cases[i].kind) {
            int c = run_check_by_name(cases[i].kind + strlen("check:"));

            assert_true(c >= 0);
            spec.checks &= ~(1u << c);
            assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
            run_engine_line(&e, cases[i].src, cases[i].line, strlen(cases[i].line), 1.5);
            if (e.verdict != RUN_RUNNING)
                fail_msg("'%s' with --no-check %s: %s", cases[i].line, run_check_info(c)->name,
                         e.reason);
            run_engine_free(&e);
        }
        run_spec_free(&spec);
    }
    assert_int_equal(run_check_by_name("no-such-check"), -1);
}

static void test_panic_fails_at_once_and_keeps_the_trace(void **state)
{
    const struct piece p[] = {
        { RUN_SRC_PV, 0.0, "[    0.9] Run /init as init process\n" },
        { RUN_SRC_PV, 0.1, "[    1.0] Kernel panic - not syncing: Attempted to kill init!\n" },
        { RUN_SRC_PV, 0.2, "[    1.0] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0\n" },
        { RUN_SRC_PV, 0.25, "[    1.0] Call Trace:\n" },
    };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 60);
    r.spec.timeout_s = 60;
    run_pipes(&r, p, 4, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "check:panic");
    assert_non_null(strstr(r.e.reason, "Kernel panic on pv at"));
    /* seconds, not the step's 60 s */
    assert_true(r.took < 5);
    assert_true(r.e.decided_at >= 0.05 && r.e.decided_at < 2);
    /* the grace time recorded the lines after the panic */
    assert_non_null(strstr(r.rec.text, "pv|[    1.0] Call Trace:\n"));
    run_free(&r);
}

static void test_fail_pattern(void **state)
{
    const struct piece p[] = {
        { RUN_SRC_SERIAL, 0.0, "HVMD-CHECK ata-piix PASS\n" },
        { RUN_SRC_SERIAL, 0.05, "HVMD-CHECK disk-pattern FAIL read back 1234\n" },
        { RUN_SRC_SERIAL, 0.1, "HVMD-GUEST-DONE\n" },
    };
    struct run r;
    char err[200];

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-DONE", 10);
    assert_int_equal(run_spec_add_fail(&r.spec, "serial:HVMD-CHECK [a-z-]+ FAIL", err,
                                       sizeof(err)), 0);
    run_pipes(&r, p, 3, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "fail-pattern");
    assert_string_equal(r.e.fail_line, "HVMD-CHECK disk-pattern FAIL read back 1234");
    assert_false(r.e.steps[0].done);
    run_free(&r);
}

static void test_bad_patterns_refused(void **state)
{
    struct run_spec spec;
    char err[200];

    (void)state;
    run_spec_init(&spec);
    assert_int_equal(run_spec_add_expect(&spec, "boot(", 0, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular expression"));
    assert_int_equal(run_spec_add_expect(&spec, "serial:", 0, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty pattern"));
    assert_int_equal(run_spec_add_fail(&spec, "[z-a]", err, sizeof(err)), -EINVAL);
    /* an unknown prefix is part of the pattern */
    assert_int_equal(run_spec_add_expect(&spec, "HVMD: up", 0, err, sizeof(err)), 0);
    assert_string_equal(spec.expects[0].text, "HVMD: up");
    assert_int_equal(spec.expects[0].srcs, RUN_SRC_ALL);
    assert_int_equal(run_spec_add_expect(&spec, "any:pv: x", 0, err, sizeof(err)), 0);
    assert_string_equal(spec.expects[1].text, "pv: x");
    assert_int_equal(spec.n_expects, 2);
    assert_int_equal(spec.n_fails, 0);
    run_spec_free(&spec);
}

/* ---- the domain's end ---------------------------------------------------------------------------- */

static void test_poweroff_before_the_marker_fails(void **state)
{
    const struct piece p[] = { { RUN_SRC_PV, 0, "booting\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 30);
    r.dom.end_at = 0.3;
    r.dom.ev = RUN_EV_POWEROFF;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "domain");
    assert_non_null(strstr(r.e.reason, "powered off"));
    assert_non_null(strstr(r.e.reason, "step 1 (/HVMD-GUEST-UP/)"));
    assert_true(r.took < 3);
    run_free(&r);
}

static void test_wait_poweroff_step(void **state)
{
    const struct piece p[] = { { RUN_SRC_PV, 0, "HVMD-GUEST-DONE\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-DONE", 30);
    r.spec.wait_poweroff = true;
    r.spec.poweroff_timeout_s = 10;
    r.dom.end_at = 0.4;
    r.dom.ev = RUN_EV_POWEROFF;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_PASS);
    assert_int_equal(r.e.n_steps, 2);
    assert_true(r.e.steps[1].done);
    assert_true(r.e.steps[1].at_s >= 0.4);
    run_free(&r);

    /* a reboot instead is a failure of that step */
    run_init(&r);
    expect(&r, "HVMD-GUEST-DONE", 30);
    r.spec.wait_poweroff = true;
    r.dom.end_at = 0.2;
    r.dom.ev = RUN_EV_REBOOT;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_non_null(strstr(r.e.reason, "rebooted"));
    assert_non_null(strstr(r.e.reason, "step 2 (poweroff)"));
    run_free(&r);
}

static void test_crash_reason_prefers_the_console(void **state)
{
    /* Xen reports the crash before the console has delivered the panic: the loop lets the
     * consoles settle, and the panic line is the reason */
    const struct piece p[] = {
        { RUN_SRC_PV, 0.0, "booting\n" },
        { RUN_SRC_PV, 0.35, "Kernel panic - not syncing: sysrq triggered crash\n" },
    };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 30);
    r.dom.end_at = 0.25;
    r.dom.ev = RUN_EV_CRASH;
    run_pipes(&r, p, 2, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "check:panic");
    run_free(&r);

    /* with nothing on the console, the crash itself */
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 30);
    r.dom.end_at = 0.1;
    r.dom.ev = RUN_EV_CRASH;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "check:crash");
    assert_non_null(strstr(r.e.reason, "crashed (Xen)"));
    run_free(&r);

    /* crash check off: still a failure (the domain ended early), named as what it was */
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 30);
    r.spec.checks &= ~(1u << RUN_CHECK_CRASH);
    r.dom.end_at = 0.1;
    r.dom.ev = RUN_EV_CRASH;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "domain");
    assert_non_null(strstr(r.e.reason, "the guest crashed"));
    run_free(&r);
}

static void test_device_model_exit(void **state)
{
    const struct piece p[] = { { RUN_SRC_SERIAL, 0, "SeaBIOS\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 30);
    r.dom.end_at = 0.1;
    r.dom.ev = RUN_EV_DM_EXIT;
    run_pipes(&r, p, 1, 0);
    assert_int_equal(r.e.verdict, RUN_FAIL);
    assert_string_equal(r.e.kind, "device-model");
    run_free(&r);
}

static void test_signal_interrupts(void **state)
{
    const struct piece p[] = { { RUN_SRC_PV, 0, "booting\n" } };
    struct run r;

    (void)state;
    run_init(&r);
    expect(&r, "HVMD-GUEST-UP", 60);
    run_pipes(&r, p, 1, 0.3);
    assert_int_equal(r.e.verdict, RUN_ERROR);
    assert_string_equal(r.e.kind, "interrupted");
    assert_non_null(strstr(r.e.reason, "interrupted by Terminated"));
    assert_true(r.took >= 0.25 && r.took < 3);
    run_free(&r);
}

/* ---- bytes into lines -------------------------------------------------------------------------- */

static void feed_str(struct run_engine *e, enum run_src src, const char *s, double t)
{
    run_engine_feed(e, src, s, strlen(s), t);
}

static void test_escapes_and_long_lines(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    struct rec rec = { 0 };
    char err[100], *big;
    size_t i;

    (void)state;
    run_spec_init(&spec);
    assert_int_equal(run_spec_add_expect(&spec, "^Booting from DVD/CD\\.\\.\\.$", 0, err,
                                         sizeof(err)), 0);
    rec.f = open_memstream(&rec.text, &rec.len);
    assert_int_equal(run_engine_init(&e, &spec, rec_line, &rec), 0);
    /* SeaBIOS/isolinux colour and cursor sequences, split across reads */
    feed_str(&e, RUN_SRC_SERIAL, "\x1b[2J\x1b[0", 0.1);
    feed_str(&e, RUN_SRC_SERIAL, "1;1HBooting \x1b]0;title\x07" "from DVD/", 0.2);
    feed_str(&e, RUN_SRC_SERIAL, "CD...\r", 0.3);
    assert_int_equal(e.verdict, RUN_PASS);
    run_engine_feed(&e, RUN_SRC_SERIAL, "\n", 1, 0.3);
    fflush(rec.f);
    assert_non_null(strstr(rec.text, "serial|Booting from DVD/CD...\n"));
    run_engine_free(&e);

    /* a line longer than RUN_LINE_MAX is cut, nothing lost */
    assert_int_equal(run_engine_init(&e, &spec, rec_line, &rec), 0);
    big = malloc(RUN_LINE_MAX + 100);
    assert_non_null(big);
    for (i = 0; i < RUN_LINE_MAX + 99; i++)
        big[i] = (char)('a' + i % 26);
    big[RUN_LINE_MAX + 99] = '\n';
    run_engine_feed(&e, RUN_SRC_PV, big, RUN_LINE_MAX + 100, 1);
    assert_int_equal(e.n_lines[RUN_SRC_PV], 2);
    assert_int_equal(e.n_bytes[RUN_SRC_PV], RUN_LINE_MAX + 100);
    free(big);
    run_engine_free(&e);
    fclose(rec.f);
    free(rec.text);
    run_spec_free(&spec);
}

static void test_followed_log_file(void **state)
{
    /* the device model's log: a regular file that grows while the loop runs */
    char path[] = "/tmp/test_ts_run_dm.XXXXXX";
    int fd = mkstemp(path), wfd, stop[2];
    struct run r;
    struct run_fd fds[1];
    struct run_hooks h = { .opaque = NULL, .watch_fd = -1, .tick_s = 0.05, .settle_s = 0.1 };
    pid_t w;

    (void)state;
    assert_true(fd >= 0);
    wfd = open(path, O_WRONLY | O_APPEND);
    assert_true(wfd >= 0);
    assert_int_equal(write(wfd, "hvmd: starting\n", 15), 15);
    run_init(&r);
    h.opaque = &r.dom;
    h.poll = dom_poll;
    expect(&r, "dm:ioreq server [0-9]+ ready", 5);
    r.rec.f = open_memstream(&r.rec.text, &r.rec.len);
    assert_int_equal(run_engine_init(&r.e, &r.spec, rec_line, &r.rec), 0);
    assert_int_equal(pipe2(stop, O_CLOEXEC), 0);
    fds[0] = (struct run_fd){ .fd = fd, .src = RUN_SRC_DM, .follow = true };
    w = fork();
    assert_true(w >= 0);
    if (w == 0) {
        usleep(200000);
        if (write(wfd, "hvmd: ioreq server ", 19) < 0)
            _exit(1);
        usleep(100000);
        if (write(wfd, "1 ready\n", 8) < 0)
            _exit(1);
        _exit(0);
    }
    run_loop(&r.e, fds, 1, &h, stop[0], run_now());
    waitpid(w, NULL, 0);
    assert_int_equal(r.e.verdict, RUN_PASS);
    assert_int_equal(r.e.steps[0].src, RUN_SRC_DM);
    fflush(r.rec.f);
    assert_non_null(strstr(r.rec.text, "dm|hvmd: starting\n"));
    close(wfd);
    close(fd);
    close(stop[0]);
    close(stop[1]);
    unlink(path);
    run_free(&r);
}

static void test_xen_lines_of_a_domain(void **state)
{
    static const struct {
        const char *line;
        long off;
    } cases[] = {
        { "(d5) SeaBIOS (version 1.16.2)", 5 },
        { "(d5) ", 5 },
        { "(XEN) d5v0 Triple fault - invoking HVM shutdown action 1", 0 },
        { "(XEN) HVM d5 save: PIC", 0 },
        { "(XEN) Domain 5 (vcpu#0) crashed on cpu#0:", 0 },
        { "(XEN) domain_crash called from p2m.c:123: d5", 0 },
        /* other domains, and dom0's own lines */
        { "(d50) SeaBIOS", -1 },
        { "(d4) (d5) forged", -1 },
        { "(XEN) d50v0 Triple fault", -1 },
        { "(XEN) d5x is not a domain", -1 },
        { "(XEN) Domain 50 crashed", -1 },
        { "(XEN) subdomain 5", -1 },
        { "[    1.0] Kernel panic - not syncing (d5)", -1 },
        { "", -1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = run_xen_line_of(cases[i].line, 5);
        if (got != cases[i].off)
            fail_msg("'%s': %ld, wanted %ld", cases[i].line, got, cases[i].off);
    }
}

/* ---- the VGA text screen ----------------------------------------------------------------------- */

/* what qemu's "xp /2000hx 0xb8000" prints for a screen: 8 cells a line, "ADDR: 0x.. 0x.." */
static char *xp_of(const unsigned short *cells, int n, const char *eol)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int i;

    for (i = 0; i < n; i++) {
        if (i % 8 == 0)
            fprintf(f, "%016x:", 0xb8000 + i * 2);
        fprintf(f, " 0x%04x", cells[i]);
        if (i % 8 == 7 || i == n - 1)
            fputs(eol, f);
    }
    fclose(f);
    return out;
}

static void screen_put(unsigned short *cells, int row, int col, const char *s)
{
    for (; *s; s++, col++)
        cells[row * 80 + col] = (unsigned short)(0x0700 | (unsigned char)*s);
}

static void test_vga_decode(void **state)
{
    static unsigned short cells[2000];
    char *xp, *text;
    int i;

    (void)state;
    for (i = 0; i < 2000; i++)
        cells[i] = 0x0720;     /* blank, grey on black */
    screen_put(cells, 0, 0, "SeaBIOS (version 1.16.2-debian-1.16.2-1)");
    screen_put(cells, 2, 2, "Booting from DVD/CD...");
    /* GRUB's box: code page 437 corners and lines */
    cells[4 * 80 + 0] = 0x07da;
    cells[4 * 80 + 1] = 0x07c4;
    cells[4 * 80 + 2] = 0x07bf;
    cells[5 * 80 + 79] = 0x0000;        /* a NUL cell is a blank */
    cells[6 * 80 + 3] = 0x1f01;         /* a control glyph */
    xp = xp_of(cells, 2000, "\r\n");
    assert_int_equal(run_vga_decode(xp, &text), 0);
    assert_string_equal(text, "SeaBIOS (version 1.16.2-debian-1.16.2-1)\n"
                              "\n"
                              "  Booting from DVD/CD...\n"
                              "\n"
                              "\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90\n"
                              "\n"
                              "   .\n");
    free(text);
    free(xp);

    /* a blank screen is empty text */
    for (i = 0; i < 2000; i++)
        cells[i] = 0x0720;
    xp = xp_of(cells, 2000, "\n");
    assert_int_equal(run_vga_decode(xp, &text), 0);
    assert_string_equal(text, "");
    free(text);
    free(xp);

    /* not 2000 cells, or not cells at all: refused */
    xp = xp_of(cells, 1999, "\n");
    assert_int_equal(run_vga_decode(xp, &text), -EINVAL);
    assert_null(text);
    free(xp);
    assert_int_equal(run_vga_decode("Cannot access memory\n", &text), -EINVAL);
    assert_int_equal(run_vga_decode("00000000000b8000: 0x10000\n", &text), -EINVAL);
    assert_int_equal(run_vga_decode("00000000000b8000: 0x07zz\n", &text), -EINVAL);
    assert_int_equal(run_vga_decode("", &text), -EINVAL);
}

/* a QMP monitor as qemu runs it: greeting, capabilities, an event, then the HMP command */
static pid_t fake_qmp(const char *path, const char *answer, bool answer_at_all)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    pid_t pid;

    assert_true(ls >= 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    unlink(path);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(ls, 1), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char buf[4096];
        size_t len = 0;
        int c = accept(ls, NULL, NULL), lines = 0;
        const char *greet = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
                            "\"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n";

        if (c < 0 || write(c, greet, strlen(greet)) < 0)
            _exit(1);
        while (lines < 2) {
            ssize_t r = read(c, buf + len, sizeof(buf) - 1 - len);
            char *nl;

            if (r <= 0)
                _exit(1);
            len += (size_t)r;
            buf[len] = '\0';
            while ((nl = strchr(buf, '\n'))) {
                *nl = '\0';
                lines++;
                if (lines == 1) {
                    const char *ev = "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                                     "\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}}\r\n";
                    if (!strstr(buf, "\"qmp_capabilities\"") ||
                        write(c, ev, strlen(ev)) < 0 || write(c, "{\"return\": {}}\r\n", 16) < 0)
                        _exit(1);
                } else {
                    if (!strstr(buf, "\"human-monitor-command\"") ||
                        !strstr(buf, "\"command-line\": \"xp /2000hx 0xb8000\""))
                        _exit(2);
                    if (!answer_at_all) {
                        sleep(5);
                        _exit(0);
                    }
                    if (write(c, answer, strlen(answer)) < 0)
                        _exit(1);
                }
                memmove(buf, nl + 1, len - (size_t)(nl + 1 - buf) + 1);
                len -= (size_t)(nl + 1 - buf);
            }
        }
        _exit(0);
    }
    close(ls);
    return pid;
}

static void test_qmp_client(void **state)
{
    static unsigned short cells[2000];
    char path[] = "/tmp/test_ts_run_qmp.XXXXXX", sock[80], err[256];
    char *xp, *json, *out, *text;
    size_t i, n;
    pid_t pid;
    int status;

    (void)state;
    assert_non_null(mkdtemp(path));
    snprintf(sock, sizeof(sock), "%s/qmp-libxenstat-7", path);
    for (i = 0; i < 2000; i++)
        cells[i] = 0x0720;
    screen_put(cells, 1, 0, "GRUB loading. \"quoted\" \\ back");
    xp = xp_of(cells, 2000, "\r\n");
    /* qemu's answer: the text as a JSON string */
    json = malloc(strlen(xp) * 2 + 64);
    assert_non_null(json);
    n = (size_t)sprintf(json, "{\"return\": \"");
    for (i = 0; xp[i]; i++) {
        if (xp[i] == '\r')
            n += (size_t)sprintf(json + n, "\\r");
        else if (xp[i] == '\n')
            n += (size_t)sprintf(json + n, "\\n");
        else
            json[n++] = xp[i];
    }
    sprintf(json + n, "\"}\r\n");

    pid = fake_qmp(sock, json, true);
    assert_int_equal(run_qmp_hmp(sock, "xp /2000hx 0xb8000", 5, &out, err, sizeof(err)), 0);
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(out, xp);
    assert_int_equal(run_vga_decode(out, &text), 0);
    assert_string_equal(text, "\nGRUB loading. \"quoted\" \\ back\n");
    free(text);
    free(out);

    /* an error from the monitor: its description */
    pid = fake_qmp(sock, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no VGA\"}}\r\n", true);
    assert_int_equal(run_qmp_hmp(sock, "xp /2000hx 0xb8000", 5, &out, err, sizeof(err)), -EPROTO);
    assert_null(out);
    assert_string_equal(err, "no VGA");
    waitpid(pid, NULL, 0);

    /* a monitor that does not answer: the timeout, not a hang */
    pid = fake_qmp(sock, NULL, false);
    {
        double t0 = run_now();
        assert_int_equal(run_qmp_hmp(sock, "xp /2000hx 0xb8000", 0.5, &out, err, sizeof(err)),
                         -ETIMEDOUT);
        assert_true(run_now() - t0 < 3);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);

    /* nobody there */
    unlink(sock);
    assert_true(run_qmp_hmp(sock, "xp", 1, &out, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "No such file"));
    free(json);
    free(xp);
    rmdir(path);
}

/* ---- --send ------------------------------------------------------------------------------------ */

static void test_send_keys(void **state)
{
    char err[200];
    char **k;

    (void)state;
    k = run_keys_of("ls -l /A_b?\\n\\t\\e\\\\", err, sizeof(err));
    assert_non_null(k);
    {
        static const char *const want[] = { "l", "s", "spc", "minus", "l", "spc", "slash",
                                            "shift-a", "shift-minus", "b", "shift-slash", "ret",
                                            "tab", "esc", "backslash", NULL };
        for (size_t i = 0; want[i] || k[i]; i++) {
            assert_non_null(want[i]);
            assert_non_null(k[i]);
            assert_string_equal(k[i], want[i]);
        }
    }
    run_keys_free(k);
    /* every printable character has a key */
    {
        char all[96];
        for (int c = 0x20; c < 0x7f; c++)
            all[c - 0x20] = c == '\\' ? 'x' : (char)c;
        all[95] = '\0';
        k = run_keys_of(all, err, sizeof(err));
        assert_non_null(k);
        run_keys_free(k);
    }
    /* bad input: refused with the byte that is wrong */
    assert_null(run_keys_of("", err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));
    assert_null(run_keys_of("caf\xc3\xa9", err, sizeof(err)));
    assert_non_null(strstr(err, "byte 3 (0xc3): not printable ASCII"));
    assert_null(run_keys_of("a\x01", err, sizeof(err)));
    assert_non_null(strstr(err, "byte 1"));
    assert_null(run_keys_of("a\\q", err, sizeof(err)));
    assert_non_null(strstr(err, "is no escape"));
    assert_null(run_keys_of("trailing\\", err, sizeof(err)));
    {
        char *big = malloc(5000);
        assert_non_null(big);
        memset(big, 'a', 4999);
        big[4999] = '\0';
        assert_null(run_keys_of(big, err, sizeof(err)));
        assert_non_null(strstr(err, "at most 4096"));
        free(big);
    }
}

struct sent {
    int n;
    int which[4];
    enum run_src src[4];
};

static void rec_send(void *opaque, int i, enum run_src src, double t)
{
    struct sent *s = opaque;
    (void)t;
    if (s->n < 4) {
        s->which[s->n] = i;
        s->src[s->n] = src;
    }
    s->n++;
}

static void test_send_fires_in_order(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    struct sent sent = { 0 };
    char err[300];

    (void)state;
    run_spec_init(&spec);
    assert_int_equal(run_spec_add_send(&spec, "serial:grub>", "ls\\n", err, sizeof(err)), 0);
    assert_int_equal(run_spec_add_send(&spec, "grub>", "echo hi\\n", err, sizeof(err)), 0);
    assert_int_equal(run_spec_add_expect(&spec, "hi", 0, err, sizeof(err)), 0);
    /* bad --send arguments: refused, nothing added */
    assert_int_equal(run_spec_add_send(&spec, "serial:", "x", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "empty pattern"));
    assert_int_equal(run_spec_add_send(&spec, "boot(", "x", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular expression"));
    assert_int_equal(run_spec_add_send(&spec, "x", "\x7f", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not printable ASCII"));
    assert_int_equal(spec.n_sends, 2);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    e.on_send = rec_send;
    e.opaque = &sent;
    /* the prompt on the PV console: not the first one's source */
    run_engine_feed(&e, RUN_SRC_PV, "grub> ", 6, 1.0);
    assert_int_equal(sent.n, 0);
    /* a prompt (no newline yet) fires the first; the same text does not fire the second */
    run_engine_feed(&e, RUN_SRC_SERIAL, "grub> ", 6, 1.0);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.which[0], 0);
    run_engine_feed(&e, RUN_SRC_SERIAL, "ls\n(hd0) (cd0)\n", 15, 1.1);
    assert_int_equal(sent.n, 1);
    run_engine_feed(&e, RUN_SRC_SERIAL, "grub> ", 6, 1.2);
    assert_int_equal(sent.n, 2);
    assert_int_equal(sent.which[1], 1);
    assert_int_equal(sent.src[1], RUN_SRC_SERIAL);
    run_engine_feed(&e, RUN_SRC_SERIAL, "echo hi\nhi\ngrub> ", 17, 1.3);
    assert_int_equal(sent.n, 2); /* all sent: no more */
    assert_int_equal(e.verdict, RUN_PASS);
    run_engine_free(&e);
    run_spec_free(&spec);
}

/* ---- reports ------------------------------------------------------------------------------------ */

static const char validator[] =
    "import json, sys, xml.etree.ElementTree as ET\n"
    "j = json.load(open(sys.argv[1]))\n"
    "x = ET.parse(sys.argv[2]).getroot()\n"
    "assert x.tag == 'testsuites', x.tag\n"
    "want = json.loads(sys.argv[3])\n"
    "assert j['verdict'] == want['verdict'], (j['verdict'], want)\n"
    "assert j['exit_code'] == want['exit_code']\n"
    "runs = j['runs']\n"
    "assert len(runs) == len(x.findall('testsuite')) == want['runs']\n"
    "tot = {'tests': 0, 'failures': 0, 'errors': 0, 'skipped': 0}\n"
    "for run, ts in zip(runs, x.findall('testsuite')):\n"
    "    assert ts.get('name') == run['name']\n"
    "    cases = ts.findall('testcase')\n"
    "    n = {'tests': len(cases), 'failures': sum(1 for c in cases if c.find('failure') is not None),\n"
    "         'errors': sum(1 for c in cases if c.find('error') is not None),\n"
    "         'skipped': sum(1 for c in cases if c.find('skipped') is not None)}\n"
    "    for k in n:\n"
    "        assert int(ts.get(k)) == n[k], (k, ts.get(k), n[k])\n"
    "        tot[k] += n[k]\n"
    "    float(ts.get('time'))\n"
    "    for c in cases:\n"
    "        assert c.get('classname') and c.get('name')\n"
    "        float(c.get('time'))\n"
    "    steps = [c for c in cases if c.get('name').startswith('step ')]\n"
    "    assert len(steps) == len(run['steps'])\n"
    "    for s, c in zip(run['steps'], steps):\n"
    "        if s['status'] == 'pass':\n"
    "            assert abs(float(c.get('time')) - s['took_s']) < 0.002\n"
    "            assert s['at_s'] >= s['took_s'] >= 0\n"
    "    if run['verdict'] != 'pass':\n"
    "        assert run['failure']['kind'] == run['kind']\n"
    "    if run['vga']:\n"
    "        assert run['vga']['text'] in ''.join(ts.itertext())\n"
    "for k in tot:\n"
    "    assert int(x.get(k)) == tot[k]\n"
    "print('reports valid:', json.dumps([r['verdict'] for r in runs]), [r['reason'] for r in runs])\n";

static void validate(const char *json, const char *junit, const char *want)
{
    char script[] = "/tmp/test_ts_run_val.XXXXXX";
    int fd = mkstemp(script);
    char *cmd;
    int rc;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, validator, strlen(validator)), (ssize_t)strlen(validator));
    close(fd);
    assert_true(asprintf(&cmd, "python3 %s %s %s '%s' >&2", script, json, junit, want) > 0);
    rc = system(cmd);
    free(cmd);
    unlink(script);
    if (rc != 0)
        fail_msg("the reports do not validate (python3 said so above; status %d)", rc);
}

static void make_result(struct run_result *res, struct run *r, const char *name, const char *dir)
{
    run_result_init(res);
    res->name = strdup(name);
    res->config = strdup("/tmp/guest.cfg");
    res->artifacts = strdup(dir);
    res->domid = 7;
    res->type = "pv";
    res->create_s = 0.4;
    res->duration_s = 3.2;
    res->teardown_s = 0.5;
    run_result_take(res, &r->e);
}

static void test_reports_validate(void **state)
{
    /* a pass and a failure with hostile console text, combined as -j would */
    /* (the second piece comes well after the first: a loop that first looks after both were
     * written reads serial before pv, and the steps would come in the wrong order; 0.1 s
     * apart failed once in a loaded make check) */
    const struct piece pass[] = {
        { RUN_SRC_PV, 0.0, "HVMD-GUEST-UP kernel 6.1\n" },
        { RUN_SRC_SERIAL, 0.8, "HVMD-GUEST-DONE\n" },
    };
    const struct piece bad[] = {
        { RUN_SRC_PV, 0.0, "HVMD-GUEST-UP \"q\" <x> & \xff\xfe bad utf8 \xc3\x28 \x01\x02 caf\xc3\xa9\n" },
        { RUN_SRC_PV, 0.1, "[  1.0] Kernel panic - not syncing: <\"]]>&'\xe2\x82\n" },
    };
    char tmp[] = "/tmp/test_ts_run_rep.XXXXXX";
    char *d1, *d2, *json, *junit, *dirs[2];
    struct run_result res1, res2;
    struct run_brief b[2];
    struct run r1, r2;
    char line[1024];

    (void)state;
    assert_non_null(mkdtemp(tmp));
    assert_true(asprintf(&d1, "%s/a", tmp) > 0 && asprintf(&d2, "%s/b", tmp) > 0);
    assert_true(asprintf(&json, "%s/all.json", tmp) > 0 && asprintf(&junit, "%s/all.xml", tmp) > 0);
    assert_int_equal(mkdir(d1, 0755), 0);
    assert_int_equal(mkdir(d2, 0755), 0);

    run_init(&r1);
    expect(&r1, "HVMD-GUEST-UP", 30);
    expect(&r1, "serial:HVMD-GUEST-DONE", 30);
    run_pipes(&r1, pass, 2, 0);
    assert_int_equal(r1.e.verdict, RUN_PASS);
    run_init(&r2);
    expect(&r2, "HVMD-GUEST-UP", 30);
    expect(&r2, "HVMD-GUEST-DONE", 30);
    r2.spec.wait_poweroff = true;
    run_pipes(&r2, bad, 2, 0);
    assert_int_equal(r2.e.verdict, RUN_FAIL);

    make_result(&res1, &r1, "pv<1>", d1);
    make_result(&res2, &r2, "hvm \"2\"", d2);
    res2.vga = strdup("\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90 <GRUB> & \"menu\"\n   .\n");
    assert_int_equal(run_report_write_own(&res1, d1), 0);
    assert_int_equal(run_report_write_own(&res2, d2), 0);
    {
        struct run_counts c = run_report_counts(&res2);
        /* create, 3 steps (up, done, poweroff), teardown: step 2 failed, step 3 not reached */
        assert_int_equal(c.tests, 5);
        assert_int_equal(c.failures, 1);
        assert_int_equal(c.errors, 0);
        assert_int_equal(c.skipped, 1);
    }
    run_summary_line(line, sizeof(line), &res2);
    if (strncmp(line, "FAIL hvm \"2\" (domain 7): Kernel panic on pv at ", 47) ||
        !strstr(line, ": [  1.0] Kernel panic - not syncing: "))
        fail_msg("summary: %s", line);
    run_summary_line(line, sizeof(line), &res1);
    if (strncmp(line, "PASS pv<1> (domain 7): 2 steps in ", 34))
        fail_msg("summary: %s", line);

    b[0] = (struct run_brief){ .verdict = res1.verdict, .counts = run_report_counts(&res1) };
    b[1] = (struct run_brief){ .verdict = res2.verdict, .counts = run_report_counts(&res2) };
    dirs[0] = d1;
    dirs[1] = d2;
    assert_int_equal(run_report_combine(json, junit, dirs, b, 2, 4.5), 0);
    validate(json, junit, "{\"verdict\": \"fail\", \"exit_code\": 1, \"runs\": 2}");

    /* a run whose process died without its files: described from its brief, still valid */
    {
        char *d3, *dirs3[3];
        struct run_brief b3[3];

        assert_true(asprintf(&d3, "%s/c", tmp) > 0);
        b3[0] = b[0];
        b3[1] = b[1];
        b3[2] = (struct run_brief){ .verdict = RUN_ERROR, .counts = { 1, 0, 1, 0 } };
        snprintf(b3[2].summary, sizeof(b3[2].summary), "ERROR c: the run's process died <&>");
        dirs3[0] = d1;
        dirs3[1] = d2;
        dirs3[2] = d3;
        assert_int_equal(run_report_combine(json, junit, dirs3, b3, 3, 9), 0);
        free(d3);
    }
    {
        /* the tools' own check: the combined JSON still parses */
        char *cmd;
        assert_true(asprintf(&cmd, "python3 -c \"import json,sys,xml.etree.ElementTree as E; "
                                   "j=json.load(open('%s')); E.parse('%s'); "
                                   "assert j['verdict']=='error' and j['exit_code']==2 and "
                                   "len(j['runs'])==3\"", json, junit) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
    }

    run_result_free(&res1);
    run_result_free(&res2);
    run_free(&r1);
    run_free(&r2);
    free(json);
    assert_true(asprintf(&json, "rm -rf %s", tmp) > 0);
    assert_int_equal(system(json), 0);
    free(json);
    free(junit);
    free(d1);
    free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_markers_in_order_pass),
        cmocka_unit_test(test_order_matters),
        cmocka_unit_test(test_two_steps_on_one_line),
        cmocka_unit_test(test_partial_line_not_matched_twice),
        cmocka_unit_test(test_source_restriction),
        cmocka_unit_test(test_builtin_checks),
        cmocka_unit_test(test_panic_fails_at_once_and_keeps_the_trace),
        cmocka_unit_test(test_fail_pattern),
        cmocka_unit_test(test_bad_patterns_refused),
        cmocka_unit_test(test_poweroff_before_the_marker_fails),
        cmocka_unit_test(test_wait_poweroff_step),
        cmocka_unit_test(test_crash_reason_prefers_the_console),
        cmocka_unit_test(test_device_model_exit),
        cmocka_unit_test(test_signal_interrupts),
        cmocka_unit_test(test_escapes_and_long_lines),
        cmocka_unit_test(test_followed_log_file),
        cmocka_unit_test(test_xen_lines_of_a_domain),
        cmocka_unit_test(test_vga_decode),
        cmocka_unit_test(test_qmp_client),
        cmocka_unit_test(test_send_keys),
        cmocka_unit_test(test_send_fires_in_order),
        cmocka_unit_test(test_reports_validate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test_ts_tests.c: `hvmctl run`'s per-test results (run/tests.c): TAP/KTAP, LTP and --test
 * lines fed to the engine as a guest prints them, the verdict at the last step, a malformed
 * line and a repeated name, the bound on kept results, and the reports (JSON and JUnit, parsed
 * by Python's own parsers: one test case per result line); --login's answers, --write's
 * console text and --reboots' step boundaries and verdict.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "toolstack/run/run.h"

static void feed(struct run_engine *e, enum run_src src, const char *s, double t)
{
    run_engine_feed(e, src, s, strlen(s), t);
}

/* an engine with --tests FORMATS (NULL: none) and one --expect MARK */
static void setup(struct run_spec *spec, struct run_engine *e, const char *formats, const char *mark)
{
    char err[300];

    run_spec_init(spec);
    if (formats)
        assert_int_equal(run_spec_set_tests(spec, formats, err, sizeof(err)), 0);
    assert_int_equal(run_spec_add_expect(spec, mark, 0, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(e, spec, NULL, NULL), 0);
}

static const struct run_test *find(const struct run_engine *e, const char *name)
{
    int i;

    for (i = 0; i < e->tests.n; i++)
        if (!strcmp(e->tests.v[i].name, name))
            return &e->tests.v[i];
    fail_msg("no test '%s' among %d", name, e->tests.n);
    return NULL;
}

static void test_tap_and_ktap(void **state)
{
    struct run_spec spec;
    struct run_engine e;

    (void)state;
    setup(&spec, &e, "tap", "pv:^ALL-DONE$");
    feed(&e, RUN_SRC_PV, "TAP version 13\n1..4\n", 0.1);
    feed(&e, RUN_SRC_PV, "ok 1 - boots\r\n", 0.2);
    feed(&e, RUN_SRC_PV, "[    1.234567] not ok 2 fails on purpose\n", 0.3);
    feed(&e, RUN_SRC_PV, "ok 3 needs hardware # SKIP no such device\n", 0.4);
    /* KTAP subtests, a kselftest comment that is not a result, a numbered test without a name */
    feed(&e, RUN_SRC_PV, "    KTAP version 1\n    # Subtest: suite\n    1..2\n", 0.5);
    feed(&e, RUN_SRC_PV, "    ok 1 case_a\n    not ok 2 case_b # TODO later\n", 0.5);
    feed(&e, RUN_SRC_PV, "# ok 7 this is output, not a result\nokay then\n", 0.5);
    feed(&e, RUN_SRC_PV, "ok 4\n", 0.6);
    assert_int_equal(e.verdict, RUN_RUNNING);
    assert_int_equal(e.tests.n, 6);
    assert_int_equal(find(&e, "boots")->status, RUN_TEST_PASS);
    assert_int_equal(find(&e, "fails on purpose")->status, RUN_TEST_FAIL);
    assert_int_equal(find(&e, "fails on purpose")->src, RUN_SRC_PV);
    assert_int_equal(find(&e, "needs hardware")->status, RUN_TEST_SKIP);
    assert_int_equal(find(&e, "suite.case_a")->status, RUN_TEST_PASS);
    assert_int_equal(find(&e, "suite.case_b")->status, RUN_TEST_SKIP);
    assert_int_equal(find(&e, "test 4")->status, RUN_TEST_PASS);
    /* the last step: a failed test fails the run, naming it */
    feed(&e, RUN_SRC_PV, "ALL-DONE\n", 0.7);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests");
    assert_non_null(strstr(e.reason, "1 of 6 tests failed (the first: fails on purpose)"));
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_all_pass_and_plan(void **state)
{
    struct run_spec spec;
    struct run_engine e;

    (void)state;
    setup(&spec, &e, "tap", "END");
    feed(&e, RUN_SRC_SERIAL, "1..2\nok 1 a\nok 2 b\nEND\n", 0.1);
    assert_int_equal(e.verdict, RUN_PASS);
    run_engine_free(&e);
    run_spec_free(&spec);

    /* a plan of 3 with 2 results: the run fails at its end */
    setup(&spec, &e, "tap", "END");
    feed(&e, RUN_SRC_SERIAL, "1..3\nok 1 a\nok 2 b\nEND\n", 0.1);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests");
    assert_non_null(strstr(e.reason, "plan said 1..3, 2 top-level results came"));
    run_engine_free(&e);
    run_spec_free(&spec);

    /* without --tests, TAP lines are only lines */
    setup(&spec, &e, NULL, "END");
    feed(&e, RUN_SRC_SERIAL, "not ok 1 a\nEND\n", 0.1);
    assert_int_equal(e.verdict, RUN_PASS);
    assert_int_equal(e.tests.n, 0);
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_malformed_and_repeated(void **state)
{
    struct run_spec spec;
    struct run_engine e;

    (void)state;
    setup(&spec, &e, "tap", "END");
    feed(&e, RUN_SRC_PV, "ok 1 a\nnot ok\n", 0.2);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests:malformed");
    assert_non_null(strstr(e.reason, "neither a number nor a name on pv at 0.2 s"));
    assert_true(e.fail_has_line);
    assert_string_equal(e.fail_line, "not ok");
    run_engine_free(&e);
    run_spec_free(&spec);

    setup(&spec, &e, "tap", "END");
    feed(&e, RUN_SRC_PV, "ok 1 same\n", 0.2);
    feed(&e, RUN_SRC_SERIAL, "ok 2 same\n", 0.5);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests:repeated");
    assert_non_null(strstr(e.reason, "test 'same' reported twice (on pv at 0.2 s, again on serial at 0.5 s)"));
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_ltp(void **state)
{
    struct run_spec spec;
    struct run_engine e;

    (void)state;
    setup(&spec, &e, "ltp", "END");
    feed(&e, RUN_SRC_SERIAL,
         "tag=abort01 stime=1700000000 dur=0 exit=exited stat=0 core=no cu=0 cs=0\n"
         "tag=accept01 stime=1700000001 dur=1 exit=exited stat=1 core=no cu=0 cs=0\n"
         "tag=acct01 stime=1700000002 dur=0 exit=exited stat=32 core=no cu=0 cs=0\n"
         "tag=crash01 stime=1700000003 dur=0 exit=signaled stat=0 core=yes cu=0 cs=0\n"
         "Testcase                                           Result     Exit Value\n"
         "mmap01                                             PASS       0\n"
         "mmap02                                             BROK       2\n"
         "foo01.c:12: TPASS: not a table row\n", 0.3);
    assert_int_equal(e.verdict, RUN_RUNNING);
    assert_int_equal(e.tests.n, 6);
    assert_int_equal(find(&e, "abort01")->status, RUN_TEST_PASS);
    assert_int_equal(find(&e, "accept01")->status, RUN_TEST_FAIL);
    assert_int_equal(find(&e, "acct01")->status, RUN_TEST_SKIP);
    assert_int_equal(find(&e, "crash01")->status, RUN_TEST_FAIL);
    assert_int_equal(find(&e, "mmap01")->status, RUN_TEST_PASS);
    assert_int_equal(find(&e, "mmap02")->status, RUN_TEST_FAIL);
    feed(&e, RUN_SRC_SERIAL, "tag=broken stime=1\n", 0.4);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests:malformed");
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_own_pattern(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    char err[300];

    (void)state;
    run_spec_init(&spec);
    /* one group only, an unknown format: refused */
    assert_int_equal(run_spec_add_test_pattern(&spec, "^T (.*)$", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "needs two groups"));
    assert_int_equal(run_spec_set_tests(&spec, "tap,junit", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no format 'junit'"));
    assert_int_equal(run_spec_add_test_pattern(&spec, "seral:^T (.*): (.*)$", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_add_test_pattern(&spec, "pv:^RESULT ([a-z_]+): ([A-Za-z]+)$", err,
                                               sizeof(err)), 0);
    assert_int_equal(run_spec_add_expect(&spec, "END", 0, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    feed(&e, RUN_SRC_SERIAL, "RESULT on_serial: FAIL\n", 0.1);     /* not its source */
    feed(&e, RUN_SRC_PV, "RESULT one: PASS\nRESULT two: Skipped\n", 0.2);
    assert_int_equal(e.tests.n, 2);
    assert_int_equal(find(&e, "two")->status, RUN_TEST_SKIP);
    feed(&e, RUN_SRC_PV, "RESULT three: MAYBE\n", 0.3);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "tests:malformed");
    assert_non_null(strstr(e.reason, "result 'MAYBE' is none of"));
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_bounded(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    char line[64];
    int i;

    (void)state;
    setup(&spec, &e, "tap", "END");
    for (i = 0; i < RUN_TESTS_MAX + 50; i++) {
        snprintf(line, sizeof(line), "ok %d t%d\n", i + 1, i);
        feed(&e, RUN_SRC_PV, line, 0.1);
    }
    assert_int_equal(e.tests.n, RUN_TESTS_MAX);
    assert_int_equal((int)e.tests.dropped, 50);
    /* a very long name is cut */
    {
        char big[3000];

        memset(big, 'x', sizeof(big));
        memcpy(big, "ok 1 ", 5);
        big[sizeof(big) - 2] = '\n';
        big[sizeof(big) - 1] = '\0';
        run_engine_free(&e);
        assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
        feed(&e, RUN_SRC_PV, big, 0.1);
        assert_int_equal(e.tests.n, 1);
        assert_true(strlen(e.tests.v[0].name) <= 200);
    }
    run_engine_free(&e);
    run_spec_free(&spec);
}

static void test_reports(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    struct run_result res;
    struct run_counts c;
    char tmp[] = "/tmp/test_ts_tests.XXXXXX", *cmd;

    (void)state;
    setup(&spec, &e, "tap", "END");
    feed(&e, RUN_SRC_PV, "1..3\nok 1 - boots <&\">\nnot ok 2 - fails \xff\n"
                         "ok 3 - hw # SKIP none\nEND\n", 0.5);
    run_engine_event(&e, RUN_EV_POWEROFF, NULL, 0.6);
    assert_int_equal(e.verdict, RUN_FAIL);
    run_result_init(&res);
    res.name = strdup("tap-guest");
    res.config = strdup("/tmp/g.cfg");
    res.domid = 3;
    res.type = "pv";
    run_result_take(&res, &e);
    c = run_report_counts(&res);
    /* create, 1 step, 3 tests, teardown; the failed test, the skipped one */
    assert_int_equal(c.tests, 6);
    assert_int_equal(c.failures, 1);
    assert_int_equal(c.skipped, 1);
    assert_non_null(mkdtemp(tmp));
    assert_int_equal(run_report_write_own(&res, tmp), 0);
    assert_true(asprintf(&cmd, "python3 -c \"import json,xml.etree.ElementTree as E\n"
                         "j=json.load(open('%s/result.json'))\n"
                         "assert [t['status'] for t in j['tests']]==['pass','fail','skip'], j['tests']\n"
                         "assert j['kind']=='tests' and j['test_counts']['failed']==1\n"
                         "cs=[c for c in E.parse('%s/junit.xml').iter('testcase') if c.get('classname').endswith('.tests')]\n"
                         "assert [c.get('name') for c in cs]==['boots <&\\\">','fails \\ufffd','hw'], [c.get('name') for c in cs]\n"
                         "assert cs[1].find('failure') is not None and cs[2].find('skipped') is not None\n"
                         "\"; rm -rf %s", tmp, tmp, tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    run_result_free(&res);
    run_engine_free(&e);
    run_spec_free(&spec);
}

struct sent {
    int i[8];
    enum run_src src[8];
    int n;
};

static void on_send(void *opaque, int i, enum run_src src, double t)
{
    struct sent *s = opaque;

    (void)t;
    if (s->n < 8) {
        s->i[s->n] = i;
        s->src[s->n++] = src;
    }
}

static void test_login_and_write(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    struct sent sent = { .n = 0 };
    char err[300], *b;

    (void)state;
    run_spec_init(&spec);
    assert_int_equal(run_spec_set_login(&spec, "bad user", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_set_login(&spec, ":pw", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_set_login(&spec, "root:se cret", err, sizeof(err)), 0);
    assert_string_equal(spec.login_user, "root");
    assert_string_equal(spec.login_pass, "se cret");
    /* --write must name a console */
    assert_int_equal(run_spec_add_write(&spec, "^# $", "ls\\n", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "serial:, pv: or console:"));
    assert_int_equal(run_spec_add_write(&spec, "xen:^# $", "ls\\n", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_add_write(&spec, "pv:^# $", "bad\\q", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_add_write(&spec, "pv:^# $", "echo hi\\n", err, sizeof(err)), 0);
    assert_true(spec.sends[0].console);
    b = run_text_bytes("a\\tb\\\\c\\n");
    assert_string_equal(b, "a\tb\\c\r");
    free(b);
    assert_int_equal(run_spec_add_expect(&spec, "pv:^hi$", 0, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    e.on_send = on_send;
    e.opaque = &sent;
    /* the prompt without a newline, growing: answered once */
    feed(&e, RUN_SRC_PV, "\r\nDebian GNU/Linux 12 box hvc0\n\nbox login: ", 0.1);
    feed(&e, RUN_SRC_PV, " ", 0.15);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.i[0], RUN_SEND_LOGIN_USER);
    assert_int_equal(sent.src[0], RUN_SRC_PV);
    /* the echo, then the password prompt; "Last login: ..." is no prompt */
    feed(&e, RUN_SRC_PV, "root\nPassword: ", 0.2);
    assert_int_equal(sent.n, 2);
    assert_int_equal(sent.i[1], RUN_SEND_LOGIN_PASS);
    feed(&e, RUN_SRC_PV, "\nLast login: today\n# ", 0.3);
    assert_int_equal(sent.n, 3);
    assert_int_equal(sent.i[2], 0);
    feed(&e, RUN_SRC_PV, "echo hi\nhi\n", 0.4);
    assert_int_equal(e.verdict, RUN_PASS);
    run_engine_free(&e);
    run_spec_free(&spec);
}

/* --login-on screen: prompts read from the text screen are answered (typed on the display by
 * the owner); the consoles' are not, unless named too. --login-on's bad names are refused. */
static void test_login_on_screen(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    struct sent sent = { .n = 0 };
    char err[300];

    (void)state;
    run_spec_init(&spec);
    assert_false(run_spec_wants_screen(&spec));
    assert_int_equal(run_spec_set_login_srcs(&spec, "screan", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'screan' is not one of serial, pv, console, screen"));
    assert_int_equal(run_spec_set_login_srcs(&spec, "xen", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_set_login_srcs(&spec, "", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_set_login_srcs(&spec, "serial,,pv", err, sizeof(err)), -EINVAL);
    assert_int_equal(run_spec_set_login_srcs(&spec, "screen,serial", err, sizeof(err)), 0);
    assert_int_equal(spec.login_srcs, RUN_SRC_BIT(RUN_SRC_SCREEN) | RUN_SRC_BIT(RUN_SRC_SERIAL));
    assert_int_equal(run_spec_set_login_srcs(&spec, "screen", err, sizeof(err)), 0);
    assert_false(run_spec_wants_screen(&spec));     /* no --login yet */
    assert_int_equal(run_spec_set_login(&spec, "root:pw", err, sizeof(err)), 0);
    assert_true(run_spec_wants_screen(&spec));
    assert_int_equal(run_spec_add_expect(&spec, "screen:^# typed$", 0, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    e.on_send = on_send;
    e.opaque = &sent;
    /* a prompt on the serial port: not answered (screen only) */
    feed(&e, RUN_SRC_SERIAL, "box login: ", 0.1);
    assert_int_equal(sent.n, 0);
    run_engine_line(&e, RUN_SRC_SCREEN, "Debian GNU/Linux 12 box tty1", 28, 0.5);
    run_engine_line(&e, RUN_SRC_SCREEN, "box login:", 10, 0.5);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.i[0], RUN_SEND_LOGIN_USER);
    assert_int_equal(sent.src[0], RUN_SRC_SCREEN);
    run_engine_line(&e, RUN_SRC_SCREEN, "box login: root", 15, 1.0);
    run_engine_line(&e, RUN_SRC_SCREEN, "Password:", 9, 1.0);
    assert_int_equal(sent.n, 2);
    assert_int_equal(sent.i[1], RUN_SEND_LOGIN_PASS);
    run_engine_line(&e, RUN_SRC_SCREEN, "# typed", 7, 1.5);
    assert_int_equal(e.verdict, RUN_PASS);
    run_engine_free(&e);
    run_spec_free(&spec);
    /* a pattern naming screen: makes a run read it; one without a prefix does not */
    run_spec_init(&spec);
    assert_int_equal(run_spec_add_expect(&spec, "login:", 0, err, sizeof(err)), 0);
    assert_false(run_spec_wants_screen(&spec));
    assert_int_equal(run_spec_add_expect(&spec, "screen:login:", 0, err, sizeof(err)), 0);
    assert_true(run_spec_wants_screen(&spec));
    /* (a mistyped prefix is refused, screen among the names) */
    assert_int_equal(run_spec_add_expect(&spec, "scren:login:", 0, err, sizeof(err)), -EINVAL);
    run_spec_free(&spec);
}

struct rows {
    char got[8][90];
    int n;
};

static void add_row(void *opaque, const char *row, size_t len)
{
    struct rows *r = opaque;

    if (r->n < 8 && len < 90) {
        memcpy(r->got[r->n], row, len);
        r->got[r->n++][len] = 0;
    }
}

static void diff(const char *prev, const char *cur, struct rows *r)
{
    memset(r, 0, sizeof(*r));
    run_screen_diff(prev, cur, add_row, r);
}

/* the screen as lines: what is new after a scroll, a row that grew, a redraw */
static void test_screen_diff(void **state)
{
    struct rows r;

    (void)state;
    diff(NULL, "SeaBIOS\n\nBooting\n", &r);             /* the first look: every row */
    assert_int_equal(r.n, 2);
    assert_string_equal(r.got[0], "SeaBIOS");
    assert_string_equal(r.got[1], "Booting");
    diff("a\nb\n", "a\nb\n", &r);                        /* nothing new */
    assert_int_equal(r.n, 0);
    diff("a\nlogin:\n", "a\nlogin: root\n", &r);          /* the last row grew */
    assert_int_equal(r.n, 1);
    assert_string_equal(r.got[0], "login: root");
    diff("a\nlogin: root\n", "a\nlogin: root\nPassword:\n", &r);  /* a row below */
    assert_int_equal(r.n, 1);
    assert_string_equal(r.got[0], "Password:");
    /* a full screen scrolled by two rows: the two new ones */
    {
        char prev[25 * 4 + 1] = "", cur[25 * 4 + 1] = "";
        int i;

        for (i = 0; i < 25; i++)
            sprintf(prev + strlen(prev), "%02d\n", i);
        for (i = 2; i < 27; i++)
            sprintf(cur + strlen(cur), "%02d\n", i);
        diff(prev, cur, &r);
        assert_int_equal(r.n, 2);
        assert_string_equal(r.got[0], "25");
        assert_string_equal(r.got[1], "26");
    }
    /* a redraw (cleared, new text): all of it */
    diff("x\ny\nz\n", "menu\n\n  item\n", &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.got[0], "menu");
    assert_string_equal(r.got[1], "  item");
    /* a cleared screen: nothing */
    diff("x\n", "", &r);
    assert_int_equal(r.n, 0);
}

/* a console that floods: its artifact log keeps MAX bytes, then one line saying so */
static void test_log_limit(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    unsigned long long bytes = 0;
    int i;

    (void)state;
    assert_non_null(f);
    for (i = 0; i < 1000; i++)
        run_log_printf(f, &bytes, 100, "pv.log", "[%9.3f] %s\n", i * 0.001, "flood");
    fclose(f);
    assert_int_equal(bytes, 100);
    /* 6 lines of 18 bytes crossed 100; then the notice, and nothing after it */
    assert_int_equal(strncmp(buf + 6 * 18, "[hvmctl run: pv.log reached 0 MiB", 33), 0);
    assert_non_null(strstr(buf, "(they are still judged)]\n"));
    assert_int_equal(strlen(strstr(buf, "(they are still judged)]\n")), 25);
    free(buf);
    /* no file: nothing; max 0: no limit */
    run_log_printf(NULL, &bytes, 100, "x", "%s", "y");
    bytes = 0;
    f = open_memstream(&buf, &len);
    for (i = 0; i < 100; i++)
        run_log_printf(f, &bytes, 0, "x", "%s\n", "0123456789");
    fclose(f);
    assert_int_equal(len, 1100);
    free(buf);
}

static void test_reboots(void **state)
{
    struct run_spec spec;
    struct run_engine e;
    char err[300];

    (void)state;
    run_spec_init(&spec);
    spec.reboots = 2;
    assert_int_equal(run_spec_add_expect(&spec, "pv:^AFTER$", 5, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    feed(&e, RUN_SRC_PV, "half a line", 1.0);
    run_engine_rebooted(&e, 4.0);
    /* the partial line ended at the reboot; the step is timed from it */
    assert_int_equal(e.n_reboots, 1);
    assert_true(run_engine_tick(&e, 8.0) < 1.5);
    assert_int_equal(e.verdict, RUN_RUNNING);
    run_engine_rebooted(&e, 8.5);
    /* a third reboot: more than allowed */
    run_engine_event(&e, RUN_EV_REBOOT, NULL, 9.0);
    assert_int_equal(e.verdict, RUN_FAIL);
    assert_string_equal(e.kind, "reboots");
    assert_non_null(strstr(e.reason, "rebooted a 3rd time at 9.0 s, more than --reboots 2 allows"));
    run_engine_free(&e);
    run_spec_free(&spec);

    /* without --reboots, a reboot ends the run as before */
    run_spec_init(&spec);
    assert_int_equal(run_spec_add_expect(&spec, "X", 0, err, sizeof(err)), 0);
    assert_int_equal(run_engine_init(&e, &spec, NULL, NULL), 0);
    run_engine_event(&e, RUN_EV_REBOOT, NULL, 1.0);
    assert_string_equal(e.kind, "domain");
    assert_non_null(strstr(e.reason, "rebooted"));
    run_engine_free(&e);
    run_spec_free(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tap_and_ktap),
        cmocka_unit_test(test_all_pass_and_plan),
        cmocka_unit_test(test_malformed_and_repeated),
        cmocka_unit_test(test_ltp),
        cmocka_unit_test(test_own_pattern),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_login_and_write),
        cmocka_unit_test(test_login_on_screen),
        cmocka_unit_test(test_screen_diff),
        cmocka_unit_test(test_log_limit),
        cmocka_unit_test(test_reboots),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tests.c: per-test results for `hvmctl run`: guest output lines that report one test each
 * become named test cases (pass, fail, skip) in the JSON and JUnit reports.
 *
 * Formats (--tests tap,ltp) and the user's own patterns (--test [SRC:]REGEX, \1 the name, \2
 * the result word):
 *   tap   TAP 13/14 and KTAP (kselftest, KUnit): "ok N - name", "not ok N name # SKIP why",
 *         "1..N" (the plan), "# Subtest: NAME" headers; a result indented by 4*d spaces (or d
 *         tabs) is a subtest, named "PARENT.name" after the header at its level. Lines that
 *         start with "#" are comments (kselftest's "# ok 1 ..." output of a test is not a
 *         result). Directives: SKIP and TODO make a skip, XFAIL a pass. A printk timestamp
 *         "[    1.234567] " before the line is ignored.
 *   ltp   LTP's result lines: ltp-pan's "tag=NAME stime=... dur=... exit=TYPE stat=N ..." (stat
 *         0 pass, 32 (TCONF) skip, else fail; a signal is a fail) and the rows of runltp's
 *         result table "NAME   PASS|FAIL|CONF|BROK|WARN   EXIT".
 * What a verdict needs: a result line that cannot be read (a TAP "ok" with neither number nor
 * name, a "tag=" line without stat=, a --test match whose result word is unknown) and a name
 * reported twice each fail the run at once (engine.c), naming the line; a failed test fails
 * the run when the last step is reached, and so does a TAP plan that was not met. At most
 * RUN_TESTS_MAX results are kept (the rest are counted); names and lines are cut to bounded
 * lengths.
 */
#include "toolstack/run/run.h"
#include "toolstack/ts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 200
#define LINE_MAX_LEN 400

const char *run_test_status_name(enum run_test_status s)
{
    return s == RUN_TEST_PASS ? "pass" : s == RUN_TEST_FAIL ? "fail" : "skip";
}

int run_spec_set_tests(struct run_spec *s, const char *formats, char *err, size_t errlen)
{
    char *list = ts_strdup(formats), *save = NULL, *w;
    int rc = 0;

    if (!list) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (!strcmp(w, "tap") || !strcmp(w, "ktap"))
            s->test_formats |= RUN_TESTS_TAP;
        else if (!strcmp(w, "ltp"))
            s->test_formats |= RUN_TESTS_LTP;
        else {
            snprintf(err, errlen, "--tests %s: no format '%s'; the formats are tap (TAP and "
                     "KTAP: kselftest, KUnit) and ltp", formats, w);
            rc = -EINVAL;
            break;
        }
    }
    if (!rc && !s->test_formats) {
        snprintf(err, errlen, "--tests '%s': no format named", formats);
        rc = -EINVAL;
    }
    free(list);
    return rc;
}

int run_spec_add_test_pattern(struct run_spec *s, const char *arg, char *err, size_t errlen)
{
    struct run_pattern p, *na;
    int rc = run_pattern_parse(&p, arg, "--test", err, errlen);

    if (rc)
        return rc;
    if (p.re.re_nsub < 2) {
        snprintf(err, errlen, "--test '%s': needs two groups, \\1 the test's name and \\2 its "
                 "result (pass, ok, fail, error, skip, ...): e.g. '^TEST (.*): (PASS|FAIL)$'", arg);
        regfree(&p.re);
        free(p.text);
        return -EINVAL;
    }
    na = realloc(s->test_pats, sizeof(*na) * (size_t)(s->n_test_pats + 1));
    if (!na) {
        regfree(&p.re);
        free(p.text);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    na[s->n_test_pats++] = p;
    s->test_pats = na;
    return 0;
}

void run_tests_free(struct run_tests *ts)
{
    int i;

    for (i = 0; i < ts->n; i++) {
        free(ts->v[i].name);
        free(ts->v[i].line);
    }
    free(ts->v);
    for (i = 0; i < RUN_TEST_DEPTH; i++)
        free(ts->subtest[i]);
    memset(ts, 0, sizeof(*ts));
    ts->plan = -1;
}

void run_tests_init(struct run_tests *ts)
{
    memset(ts, 0, sizeof(*ts));
    ts->plan = -1;
}

int run_tests_copy(struct run_tests *dst, const struct run_tests *src)
{
    int i;

    run_tests_init(dst);
    dst->dropped = src->dropped;
    dst->plan = src->plan;
    dst->top = src->top;
    dst->n_fail = src->n_fail;
    dst->n_skip = src->n_skip;
    if (!src->n)
        return 0;
    dst->v = calloc((size_t)src->n, sizeof(*dst->v));
    if (!dst->v)
        return -ENOMEM;
    for (i = 0; i < src->n; i++) {
        dst->v[i] = src->v[i];
        dst->v[i].name = ts_strdup(src->v[i].name);
        dst->v[i].line = ts_strdup(src->v[i].line);
        dst->n++;
    }
    return 0;
}

/* the name, cut and made one line */
static char *name_of(const char *s, size_t n)
{
    char *r;
    size_t i;

    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n > NAME_MAX_LEN)
        n = NAME_MAX_LEN;
    r = strndup(s, n);
    if (r)
        for (i = 0; r[i]; i++)
            if ((unsigned char)r[i] < 0x20)
                r[i] = ' ';
    return r;
}

/* record a result: 1, or -2 (a repeated name), with why */
static int record(struct run_tests *ts, char *name, enum run_test_status st, enum run_src src,
                  const char *line, double t, char *why, size_t whylen)
{
    struct run_test *x;
    int i;

    if (!name)
        return 0;
    for (i = 0; i < ts->n; i++) {
        if (!strcmp(ts->v[i].name, name)) {
            snprintf(why, whylen, "test '%s' reported twice (on %s at %.1f s, again on %s at %.1f s)",
                     name, run_src_name(ts->v[i].src), ts->v[i].at_s, run_src_name(src), t);
            free(name);
            return -2;
        }
    }
    if (st == RUN_TEST_FAIL)
        ts->n_fail++;
    else if (st == RUN_TEST_SKIP)
        ts->n_skip++;
    if (ts->n >= RUN_TESTS_MAX) {
        ts->dropped++;
        free(name);
        return 1;
    }
    if (ts->n == ts->cap) {
        int cap = ts->cap ? ts->cap * 2 : 32;
        struct run_test *nv = realloc(ts->v, sizeof(*nv) * (size_t)cap);

        if (!nv) {
            ts->dropped++;
            free(name);
            return 1;
        }
        ts->v = nv;
        ts->cap = cap;
    }
    x = &ts->v[ts->n++];
    x->name = name;
    x->status = st;
    x->src = src;
    x->at_s = t;
    x->line = strndup(line, LINE_MAX_LEN);
    return 1;
}

static int status_word(const char *w, size_t n)
{
    static const struct { const char *w; enum run_test_status st; } words[] = {
        { "pass", RUN_TEST_PASS }, { "passed", RUN_TEST_PASS }, { "ok", RUN_TEST_PASS },
        { "success", RUN_TEST_PASS }, { "tpass", RUN_TEST_PASS },
        { "fail", RUN_TEST_FAIL }, { "failed", RUN_TEST_FAIL }, { "failure", RUN_TEST_FAIL },
        { "error", RUN_TEST_FAIL }, { "not ok", RUN_TEST_FAIL }, { "tfail", RUN_TEST_FAIL },
        { "tbrok", RUN_TEST_FAIL }, { "brok", RUN_TEST_FAIL },
        { "skip", RUN_TEST_SKIP }, { "skipped", RUN_TEST_SKIP }, { "tconf", RUN_TEST_SKIP },
        { "conf", RUN_TEST_SKIP }, { "unsupported", RUN_TEST_SKIP },
    };
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].w) == n && !strncasecmp(words[i].w, w, n))
            return (int)words[i].st;
    return -1;
}

/* a TAP / KTAP line (without the printk timestamp): 0 not one, else as run_tests_line */
static int tap_line(struct run_tests *ts, enum run_src src, const char *full, const char *s,
                    double t, char *why, size_t whylen)
{
    int depth = 0, spaces = 0, st;
    const char *p = s, *desc, *hash, *end;
    bool num = false;
    char *name;

    while (*p == ' ' || *p == '\t') {
        if (*p == '\t')
            depth++;
        else if (++spaces == 4) {
            depth++;
            spaces = 0;
        }
        p++;
    }
    if (depth >= RUN_TEST_DEPTH)
        depth = RUN_TEST_DEPTH - 1;
    if (!strncmp(p, "# Subtest:", 10)) {
        free(ts->subtest[depth]);
        ts->subtest[depth] = name_of(p + 10, strlen(p + 10));
        return 0;
    }
    if (depth == 0 && p[0] == '1' && p[1] == '.' && p[2] == '.' && isdigit((unsigned char)p[3])) {
        ts->plan = strtol(p + 3, NULL, 10);
        return 0;
    }
    if (!strncmp(p, "ok", 2) && (p[2] == ' ' || p[2] == '\0')) {
        st = RUN_TEST_PASS;
        p += 2;
    } else if (!strncmp(p, "not ok", 6) && (p[6] == ' ' || p[6] == '\0')) {
        st = RUN_TEST_FAIL;
        p += 6;
    } else {
        return 0;
    }
    while (*p == ' ')
        p++;
    desc = p;
    while (isdigit((unsigned char)*p))
        p++;
    if (p > desc && (*p == ' ' || *p == '\0')) {
        num = true;
    } else {
        p = desc;
    }
    {
        const char *numstart = desc;
        size_t numlen = (size_t)(p - desc);

        while (*p == ' ')
            p++;
        if (*p == '-' && (p[1] == ' ' || p[1] == '\0'))
            p++;
        while (*p == ' ')
            p++;
        /* the directive: the first '#' not escaped */
        for (hash = p; *hash; hash++)
            if (*hash == '#' && (hash == p || hash[-1] != '\\'))
                break;
        end = hash;
        if (*hash) {
            const char *d = hash + 1;

            while (*d == ' ')
                d++;
            if (!strncasecmp(d, "skip", 4) || !strncasecmp(d, "todo", 4))
                st = RUN_TEST_SKIP;
            else if (!strncasecmp(d, "xfail", 5))
                st = RUN_TEST_PASS;
        }
        while (end > p && end[-1] == ' ')
            end--;
        if (end == p && !num) {
            snprintf(why, whylen, "a TAP result line with neither a number nor a name on %s at "
                     "%.1f s", run_src_name(src), t);
            return -1;
        }
        if (end > p)
            name = name_of(p, (size_t)(end - p));
        else
            name = ts_asprintf("test %.*s", (int)numlen, numstart);
    }
    if (depth > 0) {
        char *full_name;

        if (ts->subtest[depth])
            full_name = ts_asprintf("%s.%s", ts->subtest[depth], name ? name : "");
        else
            full_name = ts_asprintf("%d.%s", ts->top + 1, name ? name : "");
        free(name);
        name = full_name;
    } else {
        ts->top++;
        /* a top-level result ends the subtests before it */
        for (int i = 1; i < RUN_TEST_DEPTH; i++) {
            free(ts->subtest[i]);
            ts->subtest[i] = NULL;
        }
    }
    return record(ts, name, (enum run_test_status)st, src, full, t, why, whylen);
}

/* LTP: ltp-pan's tag= lines and runltp's result table rows */
static int ltp_line(struct run_tests *ts, enum run_src src, const char *full, const char *s,
                    double t, char *why, size_t whylen)
{
    const char *p, *e;
    int st;

    if (!strncmp(s, "tag=", 4)) {
        const char *stat = strstr(s, " stat="), *ex = strstr(s, " exit=");
        long v;

        for (e = s + 4; *e && *e != ' '; e++)
            ;
        if (e == s + 4 || !stat || !isdigit((unsigned char)stat[6])) {
            snprintf(why, whylen, "an LTP result line (tag=) without a name or stat= on %s at "
                     "%.1f s", run_src_name(src), t);
            return -1;
        }
        v = strtol(stat + 6, NULL, 10);
        if (ex && strncmp(ex + 6, "exited", 6))
            st = RUN_TEST_FAIL;         /* signaled, ... */
        else
            st = v == 0 ? RUN_TEST_PASS : v == 32 ? RUN_TEST_SKIP : RUN_TEST_FAIL;
        return record(ts, name_of(s + 4, (size_t)(e - s - 4)), (enum run_test_status)st, src,
                      full, t, why, whylen);
    }
    /* NAME  PASS  0 */
    for (e = s; *e && !isspace((unsigned char)*e); e++)
        ;
    if (e == s || (*e != ' ' && *e != '\t'))
        return 0;
    for (p = e; *p == ' ' || *p == '\t'; p++)
        ;
    if (strncmp(p, "PASS", 4) && strncmp(p, "FAIL", 4) && strncmp(p, "CONF", 4) &&
        strncmp(p, "BROK", 4) && strncmp(p, "WARN", 4))
        return 0;
    if (p[4] != ' ' && p[4] != '\t')
        return 0;
    {
        const char *q = p + 4;

        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '-')
            q++;
        if (!isdigit((unsigned char)*q))
            return 0;
        while (isdigit((unsigned char)*q))
            q++;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q)
            return 0;
    }
    st = !strncmp(p, "PASS", 4) ? RUN_TEST_PASS : !strncmp(p, "CONF", 4) ? RUN_TEST_SKIP
                                                                         : RUN_TEST_FAIL;
    return record(ts, name_of(s, (size_t)(e - s)), (enum run_test_status)st, src, full, t, why,
                  whylen);
}

int run_tests_line(struct run_tests *ts, const struct run_spec *spec, enum run_src src,
                   const char *line, double t, char *why, size_t whylen)
{
    const char *s = line;
    int i, rc;

    if (!spec->test_formats && !spec->n_test_pats)
        return 0;
    for (i = 0; i < spec->n_test_pats; i++) {
        const struct run_pattern *p = &spec->test_pats[i];
        regmatch_t m[3];

        if (!(p->srcs & RUN_SRC_BIT(src)) || regexec(&p->re, line, 3, m, 0) != 0)
            continue;
        if (m[1].rm_so < 0 || m[2].rm_so < 0 || m[1].rm_eo == m[1].rm_so) {
            snprintf(why, whylen, "--test /%s/ matched on %s at %.1f s without a name or a result",
                     p->text, run_src_name(src), t);
            return -1;
        }
        rc = status_word(line + m[2].rm_so, (size_t)(m[2].rm_eo - m[2].rm_so));
        if (rc < 0) {
            snprintf(why, whylen, "--test /%s/ on %s at %.1f s: result '%.*s' is none of pass, "
                     "ok, fail, error, skip (and their -ed forms, LTP's TPASS/TFAIL/TBROK/TCONF)",
                     p->text, run_src_name(src), t, (int)(m[2].rm_eo - m[2].rm_so > 40 ? 40 :
                     m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
            return -1;
        }
        return record(ts, name_of(line + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so)),
                      (enum run_test_status)rc, src, line, t, why, whylen);
    }
    if (!(src == RUN_SRC_SERIAL || src == RUN_SRC_PV || src == RUN_SRC_XEN))
        return 0;
    /* a printk timestamp: "[    1.234567] " */
    if (*s == '[') {
        const char *q = s + 1;

        while (*q == ' ')
            q++;
        while (isdigit((unsigned char)*q) || *q == '.')
            q++;
        if (*q == ']' && q[1] == ' ')
            s = q + 2;
    }
    if ((spec->test_formats & RUN_TESTS_TAP) && (rc = tap_line(ts, src, line, s, t, why, whylen)))
        return rc;
    if ((spec->test_formats & RUN_TESTS_LTP) && (rc = ltp_line(ts, src, line, s, t, why, whylen)))
        return rc;
    return 0;
}

/* at the last step: 0, or -1 with why (a failed test, a plan not met) */
int run_tests_final(const struct run_tests *ts, const struct run_spec *spec, char *why,
                    size_t whylen)
{
    int i, total = ts->n + (int)ts->dropped;

    if (!spec->test_formats && !spec->n_test_pats)
        return 0;
    if (ts->n_fail) {
        const char *first = "";

        for (i = 0; i < ts->n; i++)
            if (ts->v[i].status == RUN_TEST_FAIL) {
                first = ts->v[i].name;
                break;
            }
        snprintf(why, whylen, "%d of %d test%s failed (the first: %s)", ts->n_fail, total,
                 total == 1 ? "" : "s", first);
        return -1;
    }
    if (ts->plan >= 0 && ts->top != ts->plan) {
        snprintf(why, whylen, "the TAP plan said 1..%ld, %d top-level result%s came", ts->plan,
                 ts->top, ts->top == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

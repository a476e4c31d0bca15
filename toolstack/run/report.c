/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * report.c: what `hvmctl run` writes about a run: result.json (the verdict, its reason and
 * each step's time), JUnit XML (one <testsuite> per guest: a test case for the create, one per
 * step, one for the teardown, as GitLab and GitHub show test reports), and the one summary line.
 *
 * Guest text ends up in these files, so every string goes through an encoder that keeps them
 * valid whatever the guest printed: invalid UTF-8 becomes U+FFFD, control characters are
 * escaped (JSON) or dropped (XML 1.0 cannot carry them at all).
 */
#include "toolstack/run/run.h"
#include "toolstack/ts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- text encoders ------------------------------------------------------------------------- */

/* length of the valid UTF-8 sequence at s (0: invalid); *cp gets the code point */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0], n, i, v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;   /* also stops at the NUL */
        v = (v << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Each code point of STR (NULL: "") through EMIT with its N bytes at S; a byte that starts no
 * valid UTF-8 sequence is written as BAD instead, and the walk goes on at the next byte. */
static void utf8_each(FILE *f, const char *str, const char *bad,
                      void (*emit)(FILE *f, unsigned cp, const unsigned char *s, size_t n))
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");

    while (*s) {
        unsigned cp;
        size_t n = utf8_seq(s, &cp);

        if (!n) {
            fputs(bad, f);
            s++;
            continue;
        }
        emit(f, cp, s, n);
        s += n;
    }
}

static void json_cp(FILE *f, unsigned cp, const unsigned char *s, size_t n)
{
    if (cp == '"' || cp == '\\')
        fprintf(f, "\\%c", (char)cp);
    else if (cp == '\n')
        fputs("\\n", f);
    else if (cp == '\t')
        fputs("\\t", f);
    else if (cp < 0x20 || cp == 0x7f)
        fprintf(f, "\\u%04x", cp);
    else
        fwrite(s, 1, n, f);
}

void run_json_str(FILE *f, const char *str)
{
    fputc('"', f);
    utf8_each(f, str, "\\ufffd", json_cp);
    fputc('"', f);
}

static void xml_cp(FILE *f, unsigned cp, const unsigned char *s, size_t n)
{
    switch (cp) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&apos;", f); break;
    case '\n': fputs("&#10;", f); break;
    case '\t': fputs("&#9;", f); break;
    default:
        if (cp >= 0x20 && cp != 0x7f && cp != 0xfffe && cp != 0xffff)
            fwrite(s, 1, n, f);
        break;
    }
}

void run_xml_str(FILE *f, const char *str)
{
    utf8_each(f, str, "\xef\xbf\xbd", xml_cp);
}

/* element text: newlines kept as they are */
static void xml_text(FILE *f, const char *str)
{
    const char *nl;

    while (str && (nl = strchr(str, '\n'))) {
        char *part = strndup(str, (size_t)(nl - str));

        if (part) {
            run_xml_str(f, part);
            free(part);
        }
        fputc('\n', f);
        str = nl + 1;
    }
    if (str)
        run_xml_str(f, str);
}

/* ---- results ------------------------------------------------------------------------------- */

void run_result_init(struct run_result *r)
{
    memset(r, 0, sizeof(*r));
    r->domid = -1;
    r->verdict = RUN_ERROR;
    r->teardown_ok = true;
    run_tests_init(&r->tests);
}

void run_result_free(struct run_result *r)
{
    int i;

    free(r->name);
    free(r->config);
    free(r->artifacts);
    free(r->dm);
    free(r->kind);
    free(r->reason);
    free(r->left);
    for (i = 0; i < r->n_steps; i++)
        free(r->steps[i].line);
    free(r->steps);
    free(r->fail_line);
    free(r->tail);
    for (i = 0; i < RUN_NSRC; i++)
        free(r->console_files[i]);
    free(r->vga);
    free(r->vga_note);
    run_tests_free(&r->tests);
    memset(r, 0, sizeof(*r));
}

struct tail_buf {
    FILE *f;
};

static void tail_one(void *opaque, double t, enum run_src src, const char *text)
{
    struct tail_buf *tb = opaque;

    fprintf(tb->f, "[%9.3f] %-6s| %s\n", t, run_src_name(src), text);
}

void run_result_take(struct run_result *r, const struct run_engine *e)
{
    struct tail_buf tb;
    size_t len = 0;
    int i;

    r->spec = e->spec;
    r->verdict = e->verdict;
    free(r->kind);
    free(r->reason);
    r->kind = ts_strdup(e->kind);
    r->reason = ts_strdup(e->reason);
    r->boot_s = e->decided_at;
    for (i = 0; i < r->n_steps; i++)
        free(r->steps[i].line);
    free(r->steps);
    r->n_steps = e->n_steps;
    r->steps = e->n_steps ? calloc((size_t)e->n_steps, sizeof(*r->steps)) : NULL;
    if (e->n_steps && !r->steps)
        r->n_steps = 0;
    for (i = 0; i < r->n_steps; i++) {
        r->steps[i] = e->steps[i];
        r->steps[i].line = ts_strdup(e->steps[i].line);
    }
    r->fail_has_line = e->fail_has_line;
    r->fail_src = e->fail_src;
    r->fail_at = e->fail_at;
    free(r->fail_line);
    r->fail_line = ts_strdup(e->fail_line);
    for (i = 0; i < RUN_NSRC; i++)
        r->n_lines[i] = e->n_lines[i];
    r->n_reboots = e->n_reboots;
    memcpy(r->reboot_at, e->reboot_at, sizeof(r->reboot_at));
    run_tests_free(&r->tests);
    if (run_tests_copy(&r->tests, &e->tests) < 0)
        r->tests.dropped += (unsigned long)e->tests.n;
    free(r->tail);
    r->tail = NULL;
    tb.f = open_memstream(&r->tail, &len);
    if (tb.f) {
        run_engine_tail(e, tail_one, &tb);
        fclose(tb.f);
    }
}

static const char *srcs_name(unsigned mask)
{
    if (mask == RUN_SRC_ALL)
        return "any";
    if (mask == RUN_SRC_CONSOLES)
        return "console";
    if (mask == RUN_SRC_BIT(RUN_SRC_SERIAL))
        return "serial";
    if (mask == RUN_SRC_BIT(RUN_SRC_PV))
        return "pv";
    if (mask == RUN_SRC_BIT(RUN_SRC_XEN))
        return "xen";
    if (mask == RUN_SRC_BIT(RUN_SRC_DM))
        return "dm";
    if (mask == RUN_SRC_BIT(RUN_SRC_SCREEN))
        return "screen";
    return "some";
}

/* the step a failure or an error belongs to: the one waited for, or -1 (none: create) */
static int failed_step(const struct run_result *r)
{
    int i;

    if (r->verdict == RUN_PASS || r->domid < 0 || (r->kind && !strcmp(r->kind, "teardown")))
        return -1;
    for (i = 0; i < r->n_steps; i++)
        if (!r->steps[i].done)
            return i;
    return -1;
}

static bool create_failed(const struct run_result *r)
{
    return r->domid < 0 && r->verdict != RUN_PASS;
}

static void step_label(const struct run_result *r, int k, char *buf, size_t len)
{
    if (r->spec && k < r->spec->n_expects)
        snprintf(buf, len, "step %d: /%s/%s%s", k + 1, r->spec->expects[k].text,
                 r->spec->expects[k].srcs == RUN_SRC_ALL ? "" : " on ",
                 r->spec->expects[k].srcs == RUN_SRC_ALL ? ""
                                                         : srcs_name(r->spec->expects[k].srcs));
    else
        snprintf(buf, len, "step %d: the guest powers off", k + 1);
}

static void iso_time(double epoch, char *buf, size_t len)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* S as a JSON string, or null when there is none */
static void json_str_or_null(FILE *f, const char *s)
{
    if (s)
        run_json_str(f, s);
    else
        fputs("null", f);
}

static void json_num_or_null(FILE *f, bool have, double v)
{
    if (have)
        fprintf(f, "%.3f", v);
    else
        fputs("null", f);
}

void run_report_json(FILE *f, const struct run_result *r, int indent)
{
    char pad[32], when[40];
    int i, fs = failed_step(r);

    snprintf(pad, sizeof(pad), "%*s", indent, "");
    iso_time(r->started, when, sizeof(when));
    fprintf(f, "{\n%s  \"name\": ", pad);
    run_json_str(f, r->name);
    fprintf(f, ",\n%s  \"config\": ", pad);
    run_json_str(f, r->config);
    fprintf(f, ",\n%s  \"verdict\": \"%s\",\n%s  \"exit_code\": %d,\n%s  \"kind\": ", pad,
            run_verdict_name(r->verdict), pad, run_exit_code(r->verdict), pad);
    run_json_str(f, r->kind);
    fprintf(f, ",\n%s  \"reason\": ", pad);
    run_json_str(f, r->reason);
    fprintf(f, ",\n%s  \"domid\": ", pad);
    if (r->domid >= 0)
        fprintf(f, "%lld", (long long)r->domid);
    else
        fputs("null", f);
    fprintf(f, ",\n%s  \"type\": ", pad);
    json_str_or_null(f, r->type);
    fprintf(f, ",\n%s  \"device_model\": ", pad);
    json_str_or_null(f, r->dm);
    fprintf(f, ",\n%s  \"started\": \"%s\",\n%s  \"duration_s\": %.3f,\n%s  \"create_s\": ", pad,
            when, pad, r->duration_s, pad);
    json_num_or_null(f, r->domid >= 0, r->create_s);
    fprintf(f, ",\n%s  \"boot_s\": ", pad);
    json_num_or_null(f, r->domid >= 0, r->boot_s);
    fprintf(f, ",\n%s  \"teardown\": {\"ok\": %s, \"s\": %.3f, \"left\": ", pad,
            r->teardown_ok ? "true" : "false", r->teardown_s);
    json_str_or_null(f, r->left);
    fprintf(f, "},\n%s  \"steps\": [", pad);
    for (i = 0; i < r->n_steps; i++) {
        const struct run_step *s = &r->steps[i];
        bool expect = r->spec && i < r->spec->n_expects;

        fprintf(f, "%s\n%s    {\"step\": %d, \"pattern\": ", i ? "," : "", pad, i + 1);
        if (expect)
            run_json_str(f, r->spec->expects[i].text);
        else
            fputs("null", f);
        fprintf(f, ", \"sources\": \"%s\", \"timeout_s\": ",
                expect ? srcs_name(r->spec->expects[i].srcs) : "xen");
        json_num_or_null(f, true, expect ? r->spec->expects[i].timeout_s
                                         : r->spec ? r->spec->poweroff_timeout_s : 0);
        fprintf(f, ", \"status\": \"%s\"", s->done ? "pass" : i == fs ? "fail" : "not reached");
        if (s->done) {
            fprintf(f, ", \"at_s\": %.3f, \"took_s\": %.3f, \"source\": \"%s\", \"line\": ",
                    s->at_s, s->took_s, run_src_name(s->src));
            run_json_str(f, s->line);
        }
        fputc('}', f);
    }
    if (r->n_steps)
        fprintf(f, "\n%s  ", pad);
    fprintf(f, "],\n%s  \"failure\": ", pad);
    if (r->verdict == RUN_PASS) {
        fputs("null", f);
    } else {
        fputs("{\"kind\": ", f);
        run_json_str(f, r->kind);
        fputs(", \"step\": ", f);
        if (fs >= 0)
            fprintf(f, "%d", fs + 1);
        else
            fputs("null", f);
        if (r->fail_has_line) {
            fprintf(f, ", \"source\": \"%s\", \"at_s\": %.3f, \"line\": ", run_src_name(r->fail_src),
                    r->fail_at);
            run_json_str(f, r->fail_line);
        }
        fputc('}', f);
    }
    fprintf(f, ",\n%s  \"reboots\": [", pad);
    for (i = 0; i < r->n_reboots && i < RUN_MAX_REBOOTS; i++)
        fprintf(f, "%s{\"reboot\": %d, \"at_s\": %.3f}", i ? ", " : "", i + 1, r->reboot_at[i]);
    fprintf(f, "],\n%s  \"tests\": [", pad);
    for (i = 0; i < r->tests.n; i++) {
        const struct run_test *x = &r->tests.v[i];

        fprintf(f, "%s\n%s    {\"name\": ", i ? "," : "", pad);
        run_json_str(f, x->name);
        fprintf(f, ", \"status\": \"%s\", \"at_s\": %.3f, \"source\": \"%s\", \"line\": ",
                run_test_status_name(x->status), x->at_s, run_src_name(x->src));
        run_json_str(f, x->line);
        fputc('}', f);
    }
    if (r->tests.n)
        fprintf(f, "\n%s  ", pad);
    fprintf(f, "],\n%s  \"test_counts\": {\"tests\": %lu, \"failed\": %d, \"skipped\": %d, "
            "\"not_kept\": %lu},\n%s  \"consoles\": {", pad,
            (unsigned long)r->tests.n + r->tests.dropped, r->tests.n_fail, r->tests.n_skip,
            r->tests.dropped, pad);
    for (i = 0; i < RUN_NSRC; i++) {
        fprintf(f, "%s\"%s\": {\"followed\": %s, \"lines\": %lu, \"file\": ", i ? ", " : "",
                run_src_name((enum run_src)i), r->followed[i] ? "true" : "false", r->n_lines[i]);
        json_str_or_null(f, r->console_files[i]);
        fputc('}', f);
    }
    fprintf(f, "},\n%s  \"vga\": ", pad);
    if (r->vga) {
        fputs("{\"file\": \"vga.txt\", \"text\": ", f);
        run_json_str(f, r->vga);
        fputc('}', f);
    } else if (r->vga_note) {
        fputs("{\"file\": null, \"note\": ", f);
        run_json_str(f, r->vga_note);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n%s  \"artifacts\": ", pad);
    json_str_or_null(f, r->artifacts);
    fprintf(f, ",\n%s  \"tail\": [", pad);
    if (r->tail) {
        const char *p = r->tail, *nl;
        bool first = true;

        while ((nl = strchr(p, '\n'))) {
            char *one = strndup(p, (size_t)(nl - p));

            if (one) {
                fprintf(f, "%s\n%s    ", first ? "" : ",", pad);
                run_json_str(f, one);
                free(one);
                first = false;
            }
            p = nl + 1;
        }
        if (!first)
            fprintf(f, "\n%s  ", pad);
    }
    fprintf(f, "]\n%s}", pad);
}

struct run_counts run_report_counts(const struct run_result *r)
{
    struct run_counts c = { 0 };
    int i, fs = failed_step(r);

    c.tests = 1 + r->n_steps + (r->domid >= 0 ? 1 : 0) + r->tests.n +
              (r->n_reboots < RUN_MAX_REBOOTS ? r->n_reboots : RUN_MAX_REBOOTS);
    for (i = 0; i < r->tests.n; i++) {
        if (r->tests.v[i].status == RUN_TEST_FAIL)
            c.failures++;
        else if (r->tests.v[i].status == RUN_TEST_SKIP)
            c.skipped++;
    }
    if (r->verdict == RUN_FAIL && r->kind && !strcmp(r->kind, "tests") && !r->tests.n_fail) {
        c.tests++;      /* the plan not met: a case of its own (run_report_junit_suite) */
        c.failures++;
    }
    if (create_failed(r)) {
        c.errors = 1;
        c.skipped = r->n_steps;
        return c;
    }
    for (i = 0; i < r->n_steps; i++) {
        if (r->steps[i].done)
            continue;
        if (i == fs) {
            if (r->verdict == RUN_FAIL)
                c.failures++;
            else
                c.errors++;
        } else {
            c.skipped++;
        }
    }
    if (r->domid >= 0 && !r->teardown_ok)
        c.errors++;
    return c;
}

static void junit_case_open(FILE *f, const struct run_result *r, const char *name, double t)
{
    fputs("    <testcase classname=\"hvmctl-run.", f);
    run_xml_str(f, r->name);
    fputs("\" name=\"", f);
    run_xml_str(f, name);
    fprintf(f, "\" time=\"%.3f\"", t < 0 ? 0 : t);
}

static void junit_problem(FILE *f, const struct run_result *r, const char *elem)
{
    fprintf(f, ">\n      <%s message=\"", elem);
    run_xml_str(f, r->reason);
    fputs("\" type=\"", f);
    run_xml_str(f, r->kind);
    fputs("\">", f);
    if (r->fail_has_line) {
        char head[64];

        snprintf(head, sizeof(head), "%s at %.3f s: ", run_src_name(r->fail_src), r->fail_at);
        xml_text(f, head);
        xml_text(f, r->fail_line);
        fputs("\n\n", f);
    }
    if (r->tail) {
        xml_text(f, "the last lines of the consoles:\n");
        xml_text(f, r->tail);
    }
    if (r->vga) {
        xml_text(f, "\nthe VGA text screen:\n");
        xml_text(f, r->vga);
    }
    fprintf(f, "</%s>\n    </testcase>\n", elem);
}

void run_report_junit_suite(FILE *f, const struct run_result *r)
{
    struct run_counts c = run_report_counts(r);
    char when[40], label[300];
    int i, fs = failed_step(r);

    iso_time(r->started, when, sizeof(when));
    fputs("  <testsuite name=\"", f);
    run_xml_str(f, r->name);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\" "
               "timestamp=\"%s\">\n    <properties>\n", c.tests, c.failures, c.errors, c.skipped,
            r->duration_s, when);
#define PROP(k, v)                                                                    \
    do {                                                                              \
        fputs("      <property name=\"" k "\" value=\"", f);                         \
        run_xml_str(f, v);                                                            \
        fputs("\"/>\n", f);                                                           \
    } while (0)
    PROP("config", r->config);
    PROP("verdict", run_verdict_name(r->verdict));
    PROP("reason", r->reason);
    if (r->domid >= 0) {
        char d[24];

        snprintf(d, sizeof(d), "%lld", (long long)r->domid);
        PROP("domid", d);
    }
    if (r->type)
        PROP("type", r->type);
    if (r->dm)
        PROP("device_model", r->dm);
    if (r->artifacts)
        PROP("artifacts", r->artifacts);
#undef PROP
    fputs("    </properties>\n", f);

    junit_case_open(f, r, "create", r->create_s);
    if (create_failed(r))
        junit_problem(f, r, "error");
    else
        fputs("/>\n", f);
    for (i = 0; i < r->n_steps; i++) {
        const struct run_step *s = &r->steps[i];

        step_label(r, i, label, sizeof(label));
        if (s->done) {
            junit_case_open(f, r, label, s->took_s);
            fputs("/>\n", f);
        } else if (i == fs) {
            junit_case_open(f, r, label, r->boot_s - (i ? r->steps[i - 1].at_s : 0));
            junit_problem(f, r, r->verdict == RUN_FAIL ? "failure" : "error");
        } else {
            junit_case_open(f, r, label, 0);
            fputs(">\n      <skipped message=\"not reached\"/>\n    </testcase>\n", f);
        }
    }
    for (i = 0; i < r->n_reboots && i < RUN_MAX_REBOOTS; i++) {
        char rb[40];

        snprintf(rb, sizeof(rb), "reboot %d", i + 1);
        junit_case_open(f, r, rb, r->reboot_at[i] - (i ? r->reboot_at[i - 1] : 0));
        fputs("/>\n", f);
    }
    for (i = 0; i < r->tests.n; i++) {
        const struct run_test *x = &r->tests.v[i];
        char head[64];

        /* a test's time: from the result before it (or the create) */
        fputs("    <testcase classname=\"hvmctl-run.", f);
        run_xml_str(f, r->name);
        fputs(".tests\" name=\"", f);
        run_xml_str(f, x->name);
        fprintf(f, "\" time=\"%.3f\"", i ? x->at_s - r->tests.v[i - 1].at_s : x->at_s);
        if (x->status == RUN_TEST_PASS) {
            fputs("/>\n", f);
            continue;
        }
        fprintf(f, ">\n      <%s message=\"", x->status == RUN_TEST_FAIL ? "failure" : "skipped");
        run_xml_str(f, x->line);
        fputs("\"", f);
        if (x->status == RUN_TEST_SKIP) {
            fputs("/>\n    </testcase>\n", f);
            continue;
        }
        fputs(" type=\"test\">", f);
        snprintf(head, sizeof(head), "%s at %.3f s: ", run_src_name(x->src), x->at_s);
        xml_text(f, head);
        xml_text(f, x->line);
        fputs("</failure>\n    </testcase>\n", f);
    }
    if (r->verdict == RUN_FAIL && r->kind && !strcmp(r->kind, "tests") && !r->tests.n_fail) {
        junit_case_open(f, r, "test results: the plan", 0);
        junit_problem(f, r, "failure");
    }
    if (r->domid >= 0) {
        junit_case_open(f, r, "teardown: nothing left behind", r->teardown_s);
        if (r->teardown_ok) {
            fputs("/>\n", f);
        } else {
            fputs(">\n      <error message=\"", f);
            run_xml_str(f, r->left ? r->left : "teardown failed");
            fputs("\" type=\"teardown\"/>\n    </testcase>\n", f);
        }
    }
    if (r->artifacts || r->tail) {
        fputs("    <system-out>", f);
        if (r->artifacts) {
            xml_text(f, "artifacts: ");
            xml_text(f, r->artifacts);
            fputc('\n', f);
        }
        if (r->tail)
            xml_text(f, r->tail);
        if (r->vga) {
            xml_text(f, "\nthe VGA text screen at the end:\n");
            xml_text(f, r->vga);
        }
        fputs("</system-out>\n", f);
    }
    fputs("  </testsuite>\n", f);
}

void run_summary_line(char *buf, size_t len, const struct run_result *r)
{
    const char *v = r->verdict == RUN_PASS ? "PASS" : r->verdict == RUN_FAIL ? "FAIL" : "ERROR";
    char dom[32] = "";

    if (r->domid >= 0)
        snprintf(dom, sizeof(dom), " (domain %lld)", (long long)r->domid);
    if (r->verdict == RUN_PASS)
        snprintf(buf, len, "%s %s%s: %s, teardown %.1f s", v, r->name ? r->name : "?", dom,
                 r->reason ? r->reason : "", r->teardown_s);
    else
        snprintf(buf, len, "%s %s%s: %s%s%s", v, r->name ? r->name : "?", dom,
                 r->reason ? r->reason : "", r->fail_has_line ? ": " : "",
                 r->fail_has_line && r->fail_line ? r->fail_line : "");
}

/* ---- the combined files ---------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;

    if (ts_read_file(path, &data, &len) < 0)
        return NULL;
    return data;
}

/* The head of a junit file: the <testsuites> element that opens it, for COUNTS in TIME_S. */
static void junit_head(FILE *f, const struct run_counts *c, double time_s)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"hvmctl run\" "
               "tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
            c->tests, c->failures, c->errors, c->skipped, time_s);
}

/* PATH written by BODY(f, ARG): 0, or a negative errno; with OPT (the option that named PATH),
 * a failure is also said as "run: OPT PATH: why". */
/* where a report named "-" goes: standard output as it was before the runs (cmd.c) */
static int report_stdout_fd = 1;

void run_report_stdout(int fd)
{
    report_stdout_fd = fd;
}

static int report_file(const char *opt, const char *path, void (*body)(FILE *f, const void *arg),
                       const void *arg)
{
    FILE *f;
    int e;

    if (!strcmp(path, "-")) {
        int fd = dup(report_stdout_fd);
        f = fd < 0 ? NULL : fdopen(fd, "w");
        if (!f && fd >= 0)
            close(fd);
    } else {
        f = fopen(path, "w");
    }
    if (!f) {
        e = errno;
        if (opt)
            ts_err("run: %s %s: %s", opt, path, strerror(e));
        return -e;
    }
    body(f, arg);
    if (fclose(f) != 0) {
        if (opt)
            ts_err("run: %s %s: %s", opt, path, strerror(errno));
        return -EIO;
    }
    return 0;
}

/* what the combined files say of the runs */
struct combined {
    char *const *dirs;
    const struct run_brief *b;
    int n, passed, failed, errors;
    struct run_counts tot;
    enum run_verdict all;
    double wall_s;
};

static void combined_json(FILE *f, const void *arg)
{
    const struct combined *c = arg;
    int i;

    fprintf(f, "{\n  \"tool\": \"hvmctl run\",\n  \"verdict\": \"%s\",\n  \"exit_code\": "
               "%d,\n  \"passed\": %d,\n  \"failed\": %d,\n  \"errors\": %d,\n"
               "  \"duration_s\": %.3f,\n  \"runs\": [",
            run_verdict_name(c->all), run_exit_code(c->all), c->passed, c->failed, c->errors,
            c->wall_s);
    for (i = 0; i < c->n; i++) {
        char *path = ts_asprintf("%s/result.json", c->dirs[i]);
        char *obj = slurp(path);

        fputs(i ? ",\n    " : "\n    ", f);
        if (obj) {
            /* the run's own file: one object; indent it under "runs" */
            size_t len = strlen(obj);
            const char *p;

            while (len && obj[len - 1] == '\n')
                obj[--len] = '\0';
            for (p = obj; *p; p++) {
                fputc(*p, f);
                if (*p == '\n' && p[1])
                    fputs("    ", f);
            }
            free(obj);
        } else {
            /* the run never wrote its file (it died): say so from the brief */
            fputs("{\"artifacts\": ", f);
            run_json_str(f, c->dirs[i]);
            fprintf(f, ", \"verdict\": \"%s\", \"reason\": ", run_verdict_name(c->b[i].verdict));
            run_json_str(f, c->b[i].summary);
            fputc('}', f);
        }
        free(path);
    }
    fputs(c->n ? "\n  ]\n}\n" : "]\n}\n", f);
}

static void combined_junit(FILE *f, const void *arg)
{
    const struct combined *c = arg;
    int i;

    junit_head(f, &c->tot, c->wall_s);
    for (i = 0; i < c->n; i++) {
        char *path = ts_asprintf("%s/junit.xml", c->dirs[i]);
        char *doc = slurp(path);
        char *s = doc ? strstr(doc, "  <testsuite ") : NULL;
        char *e = s ? strstr(s, "</testsuite>\n") : NULL;

        if (s && e) {
            fwrite(s, 1, (size_t)(e - s) + strlen("</testsuite>\n"), f);
        } else {
            fputs("  <testsuite name=\"", f);
            run_xml_str(f, c->dirs[i]);
            fputs("\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\">\n"
                  "    <testcase classname=\"hvmctl-run\" name=\"run\" time=\"0\">\n"
                  "      <error message=\"", f);
            run_xml_str(f, c->b[i].summary);
            fputs("\" type=\"error\"/>\n    </testcase>\n  </testsuite>\n", f);
        }
        free(doc);
        free(path);
    }
    fputs("</testsuites>\n", f);
}

int run_report_combine(const char *json_path, const char *junit_path, char *const *dirs,
                       const struct run_brief *b, int n, double wall_s)
{
    struct combined c = { .dirs = dirs, .b = b, .n = n, .wall_s = wall_s };
    int i, r, rc = 0;

    for (i = 0; i < n; i++) {
        if (b[i].verdict == RUN_PASS)
            c.passed++;
        else if (b[i].verdict == RUN_FAIL)
            c.failed++;
        else
            c.errors++;
        c.tot.tests += b[i].counts.tests;
        c.tot.failures += b[i].counts.failures;
        c.tot.errors += b[i].counts.errors;
        c.tot.skipped += b[i].counts.skipped;
    }
    c.all = c.errors ? RUN_ERROR : c.failed ? RUN_FAIL : RUN_PASS;
    if (json_path && (r = report_file("--json", json_path, combined_json, &c)) < 0)
        rc = r;
    if (junit_path && (r = report_file("--junit", junit_path, combined_junit, &c)) < 0)
        rc = r;
    return rc;
}

static void own_json(FILE *f, const void *arg)
{
    run_report_json(f, arg, 0);
    fputc('\n', f);
}

static void own_junit(FILE *f, const void *arg)
{
    const struct run_result *r = arg;
    struct run_counts c = run_report_counts(r);

    junit_head(f, &c, r->duration_s);
    run_report_junit_suite(f, r);
    fputs("</testsuites>\n", f);
}

/* a run's own files, in its folder: 0, or the first failure */
int run_report_write_own(const struct run_result *r, const char *dir)
{
    char *p = ts_asprintf("%s/result.json", dir);
    int rc = report_file(NULL, p, own_json, r), rc2;

    free(p);
    p = ts_asprintf("%s/junit.xml", dir);
    rc2 = report_file(NULL, p, own_junit, r);
    free(p);
    return rc ? rc : rc2;
}

void run_log_printf(FILE *f, unsigned long long *bytes, unsigned long long max, const char *name,
                    const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!f || (max && *bytes >= max))
        return;
    va_start(ap, fmt);
    n = vfprintf(f, fmt, ap);
    va_end(ap);
    if (n > 0)
        *bytes += (unsigned long long)n;
    if (max && *bytes >= max) {
        fprintf(f, "[hvmctl run: %s reached %llu MiB: the run's later lines are not kept in it "
                "(they are still judged)]\n", name, max >> 20);
        *bytes = max;
    }
}

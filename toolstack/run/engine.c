/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * engine.c: the verdict of `hvmctl run` from a guest's console bytes and its domain's fate.
 *
 * Bytes become lines per source: carriage returns, escape sequences (CSI, OSC, the two-byte
 * ones) and other control characters are dropped, a line longer than RUN_LINE_MAX is cut. Each
 * finished line goes, in this order, through
 *   1. the --fail patterns, then the built-in checks (Kernel panic, KASAN, UBSAN, BUG:, Oops,
 *      "WARNING: ... at", No bootable device, triple fault): a match fails the run;
 *   2. the per-test result lines (tests.c: --tests, --test): one that cannot be read or names
 *      a test again fails the run;
 *   3. the --expect patterns, in order: the one waited for may match, then the next one from
 *      where that match ended, and so on; then the --send/--write patterns, and --login's
 *      prompts (a partial line too: "login: " has no newline).
 * A partial line (a prompt with no newline yet) is tried against the --expect patterns as it
 * grows, so "login: " is seen before anyone presses Enter; what matched is not matched again
 * when the line ends. Steps are timed from the create (at_s) and from the step before (took_s);
 * a step has its own timeout and the run has one in all. Once decided, the verdict stays:
 * later lines are still recorded (the rest of a panic's trace), never judged.
 */
#include "toolstack/run/run.h"
#include "toolstack/ts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* where a kernel's or the firmware's messages show: the consoles, the screen, Xen's console */
#define RUN_SRC_TEXT (RUN_SRC_CONSOLES | RUN_SRC_BIT(RUN_SRC_SCREEN) | RUN_SRC_BIT(RUN_SRC_XEN))

static const struct run_check_info checks[RUN_NCHECKS] = {
    [RUN_CHECK_PANIC] = { "panic", "Kernel panic", "Kernel panic - not syncing",
                          RUN_SRC_TEXT,
                          "Linux: Kernel panic - not syncing" },
    /* KASAN and UBSAN before BUG: "BUG: KASAN: ..." is a KASAN report */
    [RUN_CHECK_KASAN] = { "kasan", "KASAN report", "BUG: KASAN: |KASAN: [a-z-]+ in ",
                          RUN_SRC_TEXT,
                          "Linux: a KASAN report (BUG: KASAN: ...)" },
    [RUN_CHECK_UBSAN] = { "ubsan", "UBSAN report", "(^|[^A-Za-z_])UBSAN: ",
                          RUN_SRC_TEXT,
                          "Linux: an UBSAN report (UBSAN: ...)" },
    [RUN_CHECK_BUG] = { "bug", "BUG", "(^|[^A-Za-z_])BUG: |kernel BUG at ",
                        RUN_SRC_TEXT,
                        "Linux: BUG: ... and kernel BUG at ..." },
    [RUN_CHECK_OOPS] = { "oops", "Oops", "(^|[^A-Za-z_])Oops: |: [0-9a-f]{4} \\[#[0-9]+\\]",
                         RUN_SRC_TEXT,
                         "Linux: an oops (Oops: ..., or any die() banner: ... [#1])" },
    [RUN_CHECK_WARNING] = { "warning", "kernel WARNING",
                            "WARNING: CPU: [0-9]+ PID: [0-9]+ at |WARNING: at [^ ]",
                            RUN_SRC_TEXT,
                            "Linux: WARNING: CPU: N PID: N at FILE:LINE" },
    [RUN_CHECK_NO_BOOT] = { "no-boot-device", "No bootable device", "No bootable device",
                            RUN_SRC_TEXT,
                            "SeaBIOS: No bootable device" },
    [RUN_CHECK_TRIPLE_FAULT] = { "triple-fault", "triple fault", "[Tt]riple fault",
                                 RUN_SRC_BIT(RUN_SRC_XEN),
                                 "Xen: the domain triple-faulted" },
    [RUN_CHECK_CRASH] = { "crash", "the domain crashed", NULL, 0,
                          "Xen: the domain shut down with reason crash" },
};

const struct run_check_info *run_check_info(int i)
{
    return i >= 0 && i < RUN_NCHECKS ? &checks[i] : NULL;
}

int run_check_by_name(const char *name)
{
    int i;

    for (i = 0; i < RUN_NCHECKS; i++)
        if (!strcmp(checks[i].name, name))
            return i;
    return -1;
}

const char *run_src_name(enum run_src s)
{
    switch (s) {
    case RUN_SRC_SERIAL: return "serial";
    case RUN_SRC_PV: return "pv";
    case RUN_SRC_XEN: return "xen";
    case RUN_SRC_DM: return "dm";
    case RUN_SRC_SCREEN: return "screen";
    default: return "?";
    }
}

const char *run_verdict_name(enum run_verdict v)
{
    switch (v) {
    case RUN_RUNNING: return "running";
    case RUN_PASS: return "pass";
    case RUN_FAIL: return "fail";
    default: return "error";
    }
}

int run_exit_code(enum run_verdict v)
{
    return v == RUN_PASS ? 0 : v == RUN_FAIL ? 1 : 2;
}

/* ---- the spec ------------------------------------------------------------------------------- */

void run_spec_init(struct run_spec *s)
{
    memset(s, 0, sizeof(*s));
    s->checks = RUN_CHECKS_ALL;
}

static void pattern_free(struct run_pattern *p)
{
    free(p->text);
    regfree(&p->re);
}

void run_spec_free(struct run_spec *s)
{
    int i;

    for (i = 0; i < s->n_expects; i++)
        pattern_free(&s->expects[i]);
    for (i = 0; i < s->n_fails; i++)
        pattern_free(&s->fails[i]);
    for (i = 0; i < s->n_sends; i++) {
        pattern_free(&s->sends[i].pat);
        free(s->sends[i].text);
        run_keys_free(s->sends[i].keys);
    }
    for (i = 0; i < s->n_test_pats; i++)
        pattern_free(&s->test_pats[i]);
    free(s->test_pats);
    free(s->sends);
    free(s->login_user);
    free(s->login_pass);
    free(s->expects);
    free(s->fails);
    memset(s, 0, sizeof(*s));
}

static const struct {
    const char *name;
    unsigned mask;
} src_prefixes[] = {
    { "serial", RUN_SRC_BIT(RUN_SRC_SERIAL) },
    { "pv", RUN_SRC_BIT(RUN_SRC_PV) },
    { "console", RUN_SRC_CONSOLES },
    { "xen", RUN_SRC_BIT(RUN_SRC_XEN) },
    { "dm", RUN_SRC_BIT(RUN_SRC_DM) },
    { "screen", RUN_SRC_BIT(RUN_SRC_SCREEN) },
    { "any", RUN_SRC_ALL },
};

/* Edit distance of A[0..na) and B, both short (a source name's length): 0 when equal. */
static size_t edit_distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b), row[16], i, j;

    if (na >= 16 || nb >= 16)
        return 16;
    for (j = 0; j <= nb; j++)
        row[j] = j;
    for (i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (j = 1; j <= nb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[nb];
}

/* [SOURCE:]REGEX into p; an unprefixed pattern matches on any source. A lowercase word before
 * the first ':' that is one or two letters off a source's name ("seral:login") is a mistyped
 * prefix, refused with the names; any:REGEX says a pattern's own "word:" is meant. */
int run_pattern_parse(struct run_pattern *p, const char *arg, const char *what, char *err,
                      size_t errlen)
{
    const char *colon = strchr(arg, ':'), *re = arg;
    unsigned mask = RUN_SRC_ALL;
    size_t i;
    int rc;

    memset(p, 0, sizeof(*p));
    if (colon) {
        size_t wlen = (size_t)(colon - arg), close = SIZE_MAX;
        for (i = 0; i < sizeof(src_prefixes) / sizeof(src_prefixes[0]); i++) {
            size_t n = strlen(src_prefixes[i].name);
            if (wlen == n && !strncmp(arg, src_prefixes[i].name, n)) {
                mask = src_prefixes[i].mask;
                re = colon + 1;
                break;
            }
            if (wlen && strspn(arg, "abcdefghijklmnopqrstuvwxyz") == wlen &&
                edit_distance(arg, wlen, src_prefixes[i].name) <= (n > 3 ? 2u : 1u))
                close = i;
        }
        if (re == arg && close != SIZE_MAX) {
            snprintf(err, errlen, "%s '%s': no source '%.*s' (did you mean %s?); the sources "
                     "are serial, pv, console, xen, dm and any (any:REGEX for a pattern that "
                     "starts with a word and a colon)", what, arg, (int)wlen, arg,
                     src_prefixes[close].name);
            return -EINVAL;
        }
    }
    if (!*re) {
        snprintf(err, errlen, "%s '%s': an empty pattern", what, arg);
        return -EINVAL;
    }
    rc = regcomp(&p->re, re, REG_EXTENDED);
    if (rc) {
        char msg[160];

        regerror(rc, &p->re, msg, sizeof(msg));
        snprintf(err, errlen, "%s '%s': not a regular expression: %s", what, re, msg);
        regfree(&p->re);
        return -EINVAL;
    }
    p->text = ts_strdup(re);
    p->srcs = mask;
    return 0;
}

static int spec_add(struct run_pattern **arr, int *n, struct run_pattern *p)
{
    struct run_pattern *na = realloc(*arr, sizeof(**arr) * (size_t)(*n + 1));

    if (!na)
        return -ENOMEM;
    na[*n] = *p;
    *arr = na;
    (*n)++;
    return 0;
}

int run_spec_add_expect(struct run_spec *s, const char *arg, double step_timeout_s, char *err,
                        size_t errlen)
{
    struct run_pattern p;
    int rc = run_pattern_parse(&p, arg, "--expect", err, errlen);

    if (rc)
        return rc;
    p.timeout_s = step_timeout_s;
    rc = spec_add(&s->expects, &s->n_expects, &p);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        pattern_free(&p);
    }
    return rc;
}

int run_spec_add_fail(struct run_spec *s, const char *arg, char *err, size_t errlen)
{
    struct run_pattern p;
    int rc = run_pattern_parse(&p, arg, "--fail", err, errlen);

    if (rc)
        return rc;
    rc = spec_add(&s->fails, &s->n_fails, &p);
    if (rc) {
        snprintf(err, errlen, "out of memory");
        pattern_free(&p);
    }
    return rc;
}

/* ---- --send: text into key presses ---------------------------------------------------------- */

/* US layout: the QKeyCode of each printable character, '+' before it: with Shift */
static const char *const us_keys[95] = {
    "spc", "+1", "+apostrophe", "+3", "+4", "+5", "+7", "apostrophe", "+9", "+0", "+8",
    "+equal", "comma", "minus", "dot", "slash", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    "+semicolon", "semicolon", "+comma", "equal", "+dot", "+slash", "+2",
    "+a", "+b", "+c", "+d", "+e", "+f", "+g", "+h", "+i", "+j", "+k", "+l", "+m", "+n", "+o",
    "+p", "+q", "+r", "+s", "+t", "+u", "+v", "+w", "+x", "+y", "+z",
    "bracket_left", "backslash", "bracket_right", "+6", "+minus", "grave_accent",
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
    "+bracket_left", "+backslash", "+bracket_right", "+grave_accent",
};

void run_keys_free(char **keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        free(keys[i]);
    free(keys);
}

char **run_keys_of(const char *text, char *err, size_t errlen)
{
    size_t n = 0, len = strlen(text), i;
    char **keys;

    if (!len) {
        snprintf(err, errlen, "an empty text");
        return NULL;
    }
    if (len > 4096) {
        snprintf(err, errlen, "a text of %zu bytes (at most 4096)", len);
        return NULL;
    }
    keys = calloc(len + 1, sizeof(*keys));
    if (!keys) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        const char *k = NULL;

        if (c == '\\') {
            switch (text[++i]) {
            case 'n': k = "ret"; break;
            case 't': k = "tab"; break;
            case 'e': k = "esc"; break;
            case '\\': k = "backslash"; break;
            default:
                snprintf(err, errlen, "byte %zu: '\\%.1s' is no escape (\\n \\t \\e \\\\)", i,
                         text + i);
                run_keys_free(keys);
                return NULL;
            }
        } else if (c >= 0x20 && c < 0x7f) {
            k = us_keys[c - 0x20];
        } else {
            snprintf(err, errlen, "byte %zu (0x%02x): not printable ASCII", i, c);
            run_keys_free(keys);
            return NULL;
        }
        keys[n++] = k[0] == '+' ? ts_asprintf("shift-%s", k + 1) : ts_strdup(k);
    }
    return keys;
}

static int add_send(struct run_spec *s, const char *pattern, const char *text, bool console,
                    char *err, size_t errlen)
{
    struct run_send sd;
    struct run_send *na;
    char why[200];
    int rc = run_pattern_parse(&sd.pat, pattern, console ? "--write" : "--send", err, errlen);

    if (rc)
        return rc;
    sd.console = console;
    if (console && (sd.pat.srcs & ~RUN_SRC_CONSOLES)) {
        snprintf(err, errlen, "--write '%s': the pattern must name the console the text goes "
                 "to: serial:, pv: or console:", pattern);
        pattern_free(&sd.pat);
        return -EINVAL;
    }
    sd.keys = run_keys_of(text, why, sizeof(why));
    if (!sd.keys) {
        snprintf(err, errlen, "%s '%s' '%s': %s", console ? "--write" : "--send", pattern,
                 text, why);
        pattern_free(&sd.pat);
        return -EINVAL;
    }
    sd.text = ts_strdup(text);
    na = realloc(s->sends, sizeof(*na) * (size_t)(s->n_sends + 1));
    if (!na) {
        snprintf(err, errlen, "out of memory");
        pattern_free(&sd.pat);
        free(sd.text);
        run_keys_free(sd.keys);
        return -ENOMEM;
    }
    na[s->n_sends++] = sd;
    s->sends = na;
    return 0;
}

int run_spec_add_send(struct run_spec *s, const char *pattern, const char *text, char *err,
                      size_t errlen)
{
    return add_send(s, pattern, text, false, err, errlen);
}

int run_spec_add_write(struct run_spec *s, const char *pattern, const char *text, char *err,
                       size_t errlen)
{
    return add_send(s, pattern, text, true, err, errlen);
}

int run_spec_set_login(struct run_spec *s, const char *arg, char *err, size_t errlen)
{
    const char *colon = strchr(arg, ':');
    char *user = colon ? strndup(arg, (size_t)(colon - arg)) : ts_strdup(arg), *bytes;
    size_t i;

    if (!user)
        return -ENOMEM;
    for (i = 0; user[i]; i++)
        if (user[i] <= ' ' || user[i] == 0x7f || (unsigned char)user[i] >= 0x80)
            break;
    if (!*user || user[i]) {
        snprintf(err, errlen, "--login '%s': USER[:PASSWORD], a user name of printable ASCII "
                 "without spaces", arg);
        free(user);
        return -EINVAL;
    }
    if (colon) {
        for (i = 1; colon[i]; i++)
            if (colon[i] < ' ' || colon[i] == 0x7f || (unsigned char)colon[i] >= 0x80)
                break;
        if (colon[i] || !(bytes = ts_strdup(colon + 1))) {
            snprintf(err, errlen, "--login: the password must be printable ASCII");
            free(user);
            return -EINVAL;
        }
        free(s->login_pass);
        s->login_pass = bytes;
    }
    free(s->login_user);
    s->login_user = user;
    return 0;
}

int run_spec_set_login_srcs(struct run_spec *s, const char *arg, char *err, size_t errlen)
{
    unsigned mask = 0;
    const char *p = arg;

    while (*p) {
        size_t n = strcspn(p, ","), i;
        unsigned bit = 0;

        for (i = 0; i < sizeof(src_prefixes) / sizeof(src_prefixes[0]); i++)
            if (strlen(src_prefixes[i].name) == n && !strncmp(p, src_prefixes[i].name, n))
                bit = src_prefixes[i].mask;
        if (!bit || (bit & ~(RUN_SRC_CONSOLES | RUN_SRC_BIT(RUN_SRC_SCREEN)))) {
            snprintf(err, errlen, "--login-on '%s': '%.*s' is not one of serial, pv, console, "
                     "screen", arg, (int)(n > 40 ? 40 : n), p);
            return -EINVAL;
        }
        mask |= bit;
        p += n;
        if (*p == ',' && *++p == '\0')
            break;
    }
    if (!mask) {
        snprintf(err, errlen, "--login-on '%s': name serial, pv, console or screen", arg);
        return -EINVAL;
    }
    s->login_srcs = mask;
    return 0;
}

static bool names_screen(const struct run_pattern *p)
{
    return p->srcs == RUN_SRC_BIT(RUN_SRC_SCREEN);
}

bool run_spec_wants_screen(const struct run_spec *s)
{
    int i;

    if (s->login_user && (s->login_srcs & RUN_SRC_BIT(RUN_SRC_SCREEN)))
        return true;
    for (i = 0; i < s->n_expects; i++)
        if (names_screen(&s->expects[i]))
            return true;
    for (i = 0; i < s->n_fails; i++)
        if (names_screen(&s->fails[i]))
            return true;
    for (i = 0; i < s->n_sends; i++)
        if (names_screen(&s->sends[i].pat))
            return true;
    for (i = 0; i < s->n_test_pats; i++)
        if (names_screen(&s->test_pats[i]))
            return true;
    return false;
}

char *run_text_bytes(const char *text)
{
    char why[200], **keys = run_keys_of(text, why, sizeof(why));
    char *out, *o;
    const char *p;

    if (!keys)
        return NULL;
    run_keys_free(keys);
    out = malloc(strlen(text) + 1);
    if (!out)
        return NULL;
    for (o = out, p = text; *p; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        p++;
        *o++ = *p == 'n' ? '\r' : *p == 't' ? '\t' : *p == 'e' ? '\033' : *p;
    }
    *o = '\0';
    return out;
}

/* ---- the engine ----------------------------------------------------------------------------- */

int run_engine_init(struct run_engine *e, const struct run_spec *spec, run_line_fn on_line,
                    void *opaque)
{
    int i;

    memset(e, 0, sizeof(*e));
    e->spec = spec;
    e->on_line = on_line;
    e->opaque = opaque;
    run_tests_init(&e->tests);
    if (spec->login_user) {
        if (regcomp(&e->login_re[0], "(^|[^A-Za-z])login: *$", REG_EXTENDED | REG_NOSUB))
            return -EINVAL;
        if (regcomp(&e->login_re[1], "[Pp]assword: *$", REG_EXTENDED | REG_NOSUB)) {
            regfree(&e->login_re[0]);
            return -EINVAL;
        }
        e->login_compiled = true;
    }
    e->n_steps = spec->n_expects + (spec->wait_poweroff ? 1 : 0);
    if (e->n_steps) {
        e->steps = calloc((size_t)e->n_steps, sizeof(*e->steps));
        if (!e->steps)
            return -ENOMEM;
    }
    /* every check's pattern, also of those switched off: a line belongs to the first check
     * it matches ("BUG: KASAN:" is KASAN's, not BUG's, even with kasan off) */
    for (i = 0; i < RUN_NCHECKS; i++) {
        if (!checks[i].regex)
            continue;
        if (regcomp(&e->check_re[i], checks[i].regex, REG_EXTENDED | REG_NOSUB)) {
            run_engine_free(e);
            return -EINVAL;
        }
        e->check_compiled[i] = true;
    }
    return 0;
}

void run_engine_free(struct run_engine *e)
{
    int i;

    for (i = 0; i < RUN_NCHECKS; i++)
        if (e->check_compiled[i])
            regfree(&e->check_re[i]);
    for (i = 0; i < e->n_steps; i++)
        free(e->steps[i].line);
    free(e->steps);
    for (i = 0; i < RUN_TAIL; i++)
        free(e->tail[i].text);
    free(e->fail_line);
    run_tests_free(&e->tests);
    if (e->login_compiled) {
        regfree(&e->login_re[0]);
        regfree(&e->login_re[1]);
    }
    memset(e, 0, sizeof(*e));
}

static void vdecide(struct run_engine *e, enum run_verdict v, const char *kind, double t,
                    const char *fmt, va_list ap)
{
    if (e->verdict != RUN_RUNNING)
        return;
    e->verdict = v;
    e->decided_at = t;
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
}

void run_engine_decide(struct run_engine *e, enum run_verdict v, const char *kind, double t,
                       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdecide(e, v, kind, t, fmt, ap);
    va_end(ap);
}

static void fail_at_line(struct run_engine *e, const char *kind, enum run_src src, double t,
                         const char *line, const char *fmt, ...) TS_PRINTF(6, 7);
static void fail_at_line(struct run_engine *e, const char *kind, enum run_src src, double t,
                         const char *line, const char *fmt, ...)
{
    va_list ap;

    if (e->verdict != RUN_RUNNING)
        return;
    va_start(ap, fmt);
    vdecide(e, RUN_FAIL, kind, t, fmt, ap);
    va_end(ap);
    e->fail_has_line = true;
    e->fail_src = src;
    e->fail_at = t;
    e->fail_line = ts_strdup(line);
}

/* "step 2 (/HVMD-GUEST-UP/)" */
static void step_name(const struct run_engine *e, int k, char *buf, size_t len)
{
    if (k < e->spec->n_expects)
        snprintf(buf, len, "step %d (/%s/)", k + 1, e->spec->expects[k].text);
    else
        snprintf(buf, len, "step %d (poweroff)", k + 1);
}

static void step_done(struct run_engine *e, enum run_src src, double t, const char *line)
{
    struct run_step *s = &e->steps[e->step];

    s->done = true;
    s->at_s = t;
    s->took_s = t - e->step_start;
    s->src = src;
    s->line = ts_strdup(line);
    e->step++;
    e->step_start = t;
    if (e->step == e->n_steps) {
        char why[400];

        /* the per-test results: a failed test, a TAP plan not met */
        if (e->n_steps && run_tests_final(&e->tests, e->spec, why, sizeof(why)) < 0)
            run_engine_decide(e, RUN_FAIL, "tests", t, "%s", why);
        else if (e->n_steps)
            run_engine_decide(e, RUN_PASS, "pass", t, "%d step%s in %.1f s", e->n_steps,
                              e->n_steps == 1 ? "" : "s", t);
    }
}

/* does P (for SRC) match line[from..len)? then 1 and *end where the match ended, else 0 */
static int pattern_at(const struct run_pattern *p, enum run_src src, char *line, size_t len,
                      size_t from, size_t *end)
{
    regmatch_t m[1];
    char saved;
    int rc;

    if (!(p->srcs & RUN_SRC_BIT(src)) || from > len)
        return 0;
    m[0].rm_so = (regoff_t)from;
    m[0].rm_eo = (regoff_t)len;
    saved = line[len];
    line[len] = '\0';
    rc = regexec(&p->re, line, 1, m, REG_STARTEND | (from ? REG_NOTBOL : 0));
    line[len] = saved;
    if (rc != 0)
        return 0;
    *end = (size_t)m[0].rm_eo;
    return 1;
}

/* try the --expect patterns on line[from..len); returns where the last match ended */
static size_t match_expects(struct run_engine *e, enum run_src src, char *line, size_t len,
                            size_t from, double t)
{
    while (e->verdict == RUN_RUNNING && e->step < e->spec->n_expects &&
           pattern_at(&e->spec->expects[e->step], src, line, len, from, &from))
        step_done(e, src, t, line);
    return from;
}

/* try the next --send patterns on line[from..len); returns where the last match ended */
static size_t match_sends(struct run_engine *e, enum run_src src, char *line, size_t len,
                          size_t from, double t)
{
    while (e->verdict == RUN_RUNNING && e->send < e->spec->n_sends &&
           pattern_at(&e->spec->sends[e->send].pat, src, line, len, from, &from)) {
        if (e->on_send)
            e->on_send(e->opaque, e->send, src, t);
        e->send++;
    }
    return from;
}

/* --login: a login prompt (then a password prompt) at the end of a console's line */
static void match_login(struct run_engine *e, enum run_src src, struct run_line *l, double t)
{
    unsigned srcs = e->spec->login_srcs ? e->spec->login_srcs : RUN_SRC_CONSOLES;

    if (!e->login_compiled || l->login_done || e->verdict != RUN_RUNNING ||
        !(srcs & RUN_SRC_BIT(src)))
        return;
    l->buf[l->len] = '\0';
    if (e->login_stage == 1 && regexec(&e->login_re[1], l->buf, 0, NULL, 0) == 0) {
        l->login_done = true;
        e->login_stage = 0;
        if (e->on_send)
            e->on_send(e->opaque, RUN_SEND_LOGIN_PASS, src, t);
    } else if (regexec(&e->login_re[0], l->buf, 0, NULL, 0) == 0) {
        l->login_done = true;
        e->login_stage = e->spec->login_pass ? 1 : 0;
        if (e->on_send)
            e->on_send(e->opaque, RUN_SEND_LOGIN_USER, src, t);
    }
}

void run_engine_rebooted(struct run_engine *e, double t)
{
    int s;

    run_engine_flush_all(e, t);
    for (s = 0; s < RUN_NSRC; s++)
        e->lines[s].esc = 0;
    if (e->n_reboots < RUN_MAX_REBOOTS)
        e->reboot_at[e->n_reboots] = t;
    e->n_reboots++;
    e->step_start = t;      /* the step waited for is timed from the reboot */
    e->login_stage = 0;
}

static void tail_add(struct run_engine *e, enum run_src src, double t, const char *line)
{
    struct run_tail_line *tl = &e->tail[e->tail_next];

    free(tl->text);
    tl->text = ts_strdup(line);
    tl->t = t;
    tl->src = src;
    e->tail_next = (e->tail_next + 1) % RUN_TAIL;
}

void run_engine_tail(const struct run_engine *e,
                     void (*fn)(void *opaque, double t, enum run_src src, const char *text),
                     void *opaque)
{
    int i;

    for (i = 0; i < RUN_TAIL; i++) {
        const struct run_tail_line *tl = &e->tail[(e->tail_next + i) % RUN_TAIL];
        if (tl->text)
            fn(opaque, tl->t, tl->src, tl->text);
    }
}

/* a finished line: record it, then judge it */
static void judge_line(struct run_engine *e, enum run_src src, char *line, size_t len,
                       size_t from, double start, double t)
{
    int i;

    line[len] = '\0';
    e->n_lines[src]++;
    tail_add(e, src, start, line);
    if (e->on_line)
        e->on_line(e->opaque, src, start, line, len);
    if (e->verdict != RUN_RUNNING)
        return;
    for (i = 0; i < e->spec->n_fails; i++) {
        const struct run_pattern *p = &e->spec->fails[i];
        if ((p->srcs & RUN_SRC_BIT(src)) && regexec(&p->re, line, 0, NULL, 0) == 0) {
            fail_at_line(e, "fail-pattern", src, t, line, "--fail /%s/ matched on %s at %.1f s",
                         p->text, run_src_name(src), t);
            return;
        }
    }
    for (i = 0; i < RUN_NCHECKS; i++) {
        if (!e->check_compiled[i] || !(checks[i].srcs & RUN_SRC_BIT(src)))
            continue;
        if (regexec(&e->check_re[i], line, 0, NULL, 0) == 0) {
            char kind[40];

            if (!(e->spec->checks & (1u << i)))
                break;  /* switched off */

            snprintf(kind, sizeof(kind), "check:%s", checks[i].name);
            fail_at_line(e, kind, src, t, line, "%s on %s at %.1f s", checks[i].reason,
                         run_src_name(src), t);
            return;
        }
    }
    {
        char why[400];
        int rc = run_tests_line(&e->tests, e->spec, src, line, t, why, sizeof(why));

        if (rc < 0) {
            fail_at_line(e, rc == -1 ? "tests:malformed" : "tests:repeated", src, t, line, "%s",
                         why);
            return;
        }
    }
    match_expects(e, src, line, len, from, t);
}

static void finish_line(struct run_engine *e, enum run_src src, double t)
{
    struct run_line *l = &e->lines[src];

    judge_line(e, src, l->buf, l->len, l->match_from, l->start, t);
    if (e->verdict == RUN_RUNNING)
        match_sends(e, src, l->buf, l->len, l->send_from, t);
    match_login(e, src, l, t);
    l->len = 0;
    l->match_from = 0;
    l->send_from = 0;
    l->login_done = false;
}

/* escape-sequence states */
enum { ESC_NONE, ESC_ESC, ESC_CSI, ESC_OSC, ESC_OSC_ESC };

void run_engine_feed(struct run_engine *e, enum run_src src, const char *buf, size_t n, double t)
{
    struct run_line *l;
    size_t i, before;

    if (src >= RUN_NSRC || !n)
        return;
    l = &e->lines[src];
    e->n_bytes[src] += n;
    before = l->len;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];

        switch (l->esc) {
        case ESC_ESC:
            l->esc = c == '[' ? ESC_CSI : c == ']' ? ESC_OSC : ESC_NONE;
            continue;
        case ESC_CSI:
            if (c >= 0x40 && c <= 0x7e)
                l->esc = ESC_NONE;
            continue;
        case ESC_OSC:
            if (c == 0x07)
                l->esc = ESC_NONE;
            else if (c == 0x1b)
                l->esc = ESC_OSC_ESC;
            continue;
        case ESC_OSC_ESC:
            l->esc = c == '\\' ? ESC_NONE : ESC_OSC;
            continue;
        default:
            break;
        }
        if (c == '\n') {
            if (!l->len)
                l->start = t;
            finish_line(e, src, t);
            before = 0;
            continue;
        }
        if (c == 0x1b) {
            l->esc = ESC_ESC;
            continue;
        }
        if (c == '\r')
            continue;   /* "\r\n" ends a line; a redraw after "\r" just follows on */
        if (c < 0x20 && c != '\t')
            continue;
        if (c == 0x7f)
            continue;
        if (!l->len)
            l->start = t;
        if (l->len == RUN_LINE_MAX) {
            finish_line(e, src, t);
            before = 0;
            l->start = t;
        }
        l->buf[l->len++] = (char)c;
    }
    /* a partial line that grew may hold a prompt an --expect waits for */
    if (l->len > before && l->len > l->match_from) {
        l->buf[l->len] = '\0';
        l->match_from = match_expects(e, src, l->buf, l->len, l->match_from, t);
    }
    /* ... or a prompt a --send types at */
    if (l->len > before && l->len > l->send_from) {
        l->buf[l->len] = '\0';
        l->send_from = match_sends(e, src, l->buf, l->len, l->send_from, t);
    }
    if (l->len > before)
        match_login(e, src, l, t);
}

void run_engine_flush(struct run_engine *e, enum run_src src, double t)
{
    if (src < RUN_NSRC && e->lines[src].len)
        finish_line(e, src, t);
}

void run_engine_flush_all(struct run_engine *e, double t)
{
    int s;

    for (s = 0; s < RUN_NSRC; s++)
        run_engine_flush(e, (enum run_src)s, t);
}

void run_engine_line(struct run_engine *e, enum run_src src, const char *line, size_t len,
                     double t)
{
    run_engine_flush(e, src, t);
    run_engine_feed(e, src, line, len, t);
    run_engine_feed(e, src, "\n", 1, t);
}

static const char *event_name(enum run_event ev)
{
    switch (ev) {
    case RUN_EV_POWEROFF: return "powered off";
    case RUN_EV_REBOOT: return "rebooted";
    case RUN_EV_CRASH: return "crashed";
    case RUN_EV_WATCHDOG: return "was reset by its watchdog";
    case RUN_EV_SUSPEND: return "suspended";
    case RUN_EV_SOFT_RESET: return "asked for a soft reset";
    case RUN_EV_GONE: return "was destroyed (not by hvmctl run)";
    case RUN_EV_DM_EXIT: return "lost its device model";
    default: return "ended";
    }
}

void run_engine_event(struct run_engine *e, enum run_event ev, const char *detail, double t)
{
    char step[200];

    if (e->verdict != RUN_RUNNING)
        return;
    step_name(e, e->step, step, sizeof(step));
    if (ev == RUN_EV_POWEROFF && e->spec->wait_poweroff && e->step == e->spec->n_expects) {
        step_done(e, RUN_SRC_XEN, t, "the guest powered off");
        return;
    }
    if (ev == RUN_EV_CRASH && (e->spec->checks & (1u << RUN_CHECK_CRASH))) {
        run_engine_decide(e, RUN_FAIL, "check:crash", t, "the domain crashed (Xen) at %.1f s, "
                          "waiting for %s%s%s", t, step, detail ? ": " : "", detail ? detail : "");
        return;
    }
    if (ev == RUN_EV_REBOOT && e->spec->reboots > 0) {
        run_engine_decide(e, RUN_FAIL, "reboots", t, "the guest rebooted a %d%s time at %.1f s, "
                          "more than --reboots %d allows, waiting for %s", e->n_reboots + 1,
                          e->n_reboots + 1 == 2 ? "nd" : e->n_reboots + 1 == 3 ? "rd" : "th", t,
                          e->spec->reboots, step);
        return;
    }
    if (ev == RUN_EV_DM_EXIT) {
        run_engine_decide(e, RUN_FAIL, "device-model", t, "the device model exited at %.1f s, "
                          "waiting for %s%s%s", t, step, detail ? ": " : "", detail ? detail : "");
        return;
    }
    run_engine_decide(e, RUN_FAIL, "domain", t, "the guest %s at %.1f s, waiting for %s%s%s",
                      event_name(ev), t, step, detail ? ": " : "", detail ? detail : "");
}

double run_engine_tick(struct run_engine *e, double t)
{
    double next = 1e9;
    char step[200];

    if (e->verdict != RUN_RUNNING)
        return next;
    if (e->step < e->n_steps) {
        double st = e->step < e->spec->n_expects ? e->spec->expects[e->step].timeout_s
                                                 : e->spec->poweroff_timeout_s;
        if (st > 0) {
            if (t - e->step_start >= st) {
                step_name(e, e->step, step, sizeof(step));
                run_engine_decide(e, RUN_FAIL, "step-timeout", t,
                                  "%s not seen within its %.0f s (at %.1f s)", step, st, t);
                return next;
            }
            next = e->step_start + st - t;
        }
    }
    if (e->spec->timeout_s > 0) {
        if (t >= e->spec->timeout_s) {
            if (e->step < e->n_steps) {
                step_name(e, e->step, step, sizeof(step));
                run_engine_decide(e, RUN_FAIL, "timeout", t,
                                  "timed out after %.0f s, waiting for %s", e->spec->timeout_s,
                                  step);
            } else {
                run_engine_decide(e, RUN_FAIL, "timeout", t, "timed out after %.0f s",
                                  e->spec->timeout_s);
            }
            return next;
        }
        if (e->spec->timeout_s - t < next)
            next = e->spec->timeout_s - t;
    }
    return next;
}

/* ---- Xen's console: which lines are about a domain ------------------------------------------- */

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* "d5" as a word in s (d5v0, (d5), d5:), not d50, id5 or d5x; "Domain 5" / "domain 5" */
static bool names_domain(const char *s, uint32_t domid)
{
    char tok[24];
    size_t n;
    const char *p;

    n = (size_t)snprintf(tok, sizeof(tok), "d%u", domid);
    for (p = strstr(s, tok); p; p = strstr(p + 1, tok)) {
        char after = p[n];

        if (p > s && is_word_char(p[-1]))
            continue;
        if (after == 'v' && p[n + 1] >= '0' && p[n + 1] <= '9')
            return true;    /* d5v0: a vCPU of the domain */
        if (!is_word_char(after))
            return true;
    }
    n = (size_t)snprintf(tok, sizeof(tok), "omain %u", domid);
    for (p = strstr(s, tok); p; p = strstr(p + 1, tok))
        if (p > s && (p[-1] == 'D' || p[-1] == 'd') && (p - 1 == s || !is_word_char(p[-2])) &&
            !(p[n] >= '0' && p[n] <= '9'))
            return true;
    return false;
}

long run_xen_line_of(const char *line, uint32_t domid)
{
    char prefix[24];
    size_t pl = (size_t)snprintf(prefix, sizeof(prefix), "(d%u) ", domid);

    /* the guest's own output (hvmloader, SeaBIOS, earlyprintk=xen): without the prefix */
    if (!strncmp(line, prefix, pl))
        return (long)pl;
    /* Xen's own lines about the domain, whole */
    if (!strncmp(line, "(XEN) ", 6) && names_domain(line + 6, domid))
        return 0;
    return -1;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/log's limits on what a guest can make hvmd write: one source's burst and window, and the
 * budget all sources share, on a clock the test moves (a guest that trips a hundred different
 * checks all day long). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "dm/log.h"

static uint64_t fake_ms = 1000;
static uint64_t fake_clock(void) { return fake_ms; }

struct seen {
    unsigned lines, guest, spent, budget_said;
    unsigned long long budget_dropped;
    char last[1100];
};

static void sink(void *o, enum log_level level, const char *line)
{
    struct seen *s = o;
    (void)level;
    s->lines++;
    if (!strncmp(line, "guest: ", 7))
        s->guest++;
    if (strstr(line, "budget for lines a guest can cause is spent"))
        s->spent++;
    unsigned long long n;
    if (sscanf(line, "(%llu lines a guest caused were dropped by the log's budget)", &n) == 1) {
        s->budget_said++;
        s->budget_dropped += n;
    }
    snprintf(s->last, sizeof(s->last), "%s", line);
}

static void one_source(void **st)
{
    (void)st;
    struct seen s = { 0 };
    log_set_sink(sink, &s);
    log_test_clock(fake_clock);
    struct ratelimit rl = { 0 };
    for (int i = 0; i < 50; i++)
        log_guest(&rl, "dev", "bad thing %d", i);
    assert_int_equal(s.guest, LOG_BURST);
    fake_ms += LOG_WINDOW_MS;
    log_guest(&rl, "dev", "again");
    assert_int_equal(s.lines, LOG_BURST + 2); /* "40 more messages dropped", then the line */
    assert_string_equal(s.last, "guest: dev: again");
    log_set_sink(NULL, NULL);
    log_test_clock(NULL);
}

static void many_sources_share_a_budget(void **st)
{
    (void)st;
    struct seen s = { 0 };
    log_set_sink(sink, &s);
    log_test_clock(fake_clock);
    static struct ratelimit rl[100];
    memset(rl, 0, sizeof(rl));
    unsigned long long tried = 0;
    /* a day: every source trips 20 times in each 5-second window */
    for (uint64_t t = 0; t < 24ull * 3600 * 1000; t += LOG_WINDOW_MS) {
        fake_ms = 1000 + t;
        for (unsigned k = 0; k < 100; k++)
            for (int i = 0; i < 20; i++, tried++)
                log_guest(&rl[k], "dev", "source %u line %d", k, i);
    }
    /* about the burst and one line every refill, plus the counts said */
    unsigned day = 24u * 3600 * 1000 / LOG_BUDGET_REFILL_MS;
    assert_true(s.lines <= LOG_BUDGET_BURST + 2 * day + 2);
    assert_true(s.lines >= LOG_BUDGET_BURST + day / 2);
    assert_int_equal(s.spent, 1);
    assert_true(s.budget_said > day / 4);
    /* every line tried is shown, dropped by its source's limit, or counted by the budget */
    assert_true(s.budget_dropped > tried / 2);
    /* a quiet guest gets its budget back */
    fake_ms += (uint64_t)LOG_BUDGET_BURST * LOG_BUDGET_REFILL_MS;
    unsigned before = s.guest;
    struct ratelimit fresh = { 0 };
    for (int i = 0; i < 5; i++)
        log_guest(&fresh, "other", "later %d", i);
    assert_int_equal(s.guest - before, 5);
    log_set_sink(NULL, NULL);
    log_test_clock(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_source),
        cmocka_unit_test(many_sources_share_a_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

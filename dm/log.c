/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging to stderr with a level, a sink for tests, and a per-source rate limit for guest input. */
#include "dm/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level cur_level = LOG_INFO;
static log_sink_fn *sink_fn;
static void *sink_opaque;

void log_set_level(enum log_level level) { cur_level = level; }
enum log_level log_get_level(void) { return cur_level; }

void log_set_sink(log_sink_fn *fn, void *opaque)
{
    sink_fn = fn;
    sink_opaque = opaque;
}

static const char *const level_name[] = { "error", "warning", "info", "debug" };

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    int n;

    if (level > cur_level)
        return;
    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    if (sink_fn) {
        sink_fn(sink_opaque, level, line);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld hvmd %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, level_name[level], line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t (*clock_fn)(void) = mono_ms;
static uint64_t now_ms(void) { return clock_fn(); }

/* The budget all rate-limited lines share (log.h). */
static struct {
    int init, spent_said;
    unsigned tokens;
    uint64_t last_ms;
    unsigned long long dropped;
} budget;

void log_test_clock(uint64_t (*fn)(void))
{
    clock_fn = fn ? fn : mono_ms;
    memset(&budget, 0, sizeof(budget));
}

/* May one more rate-limited line go out? A line the budget drops is counted, and the count is
 * said with the next line it allows. */
static int budget_take(enum log_level level)
{
    uint64_t t = now_ms();
    if (!budget.init) {
        budget.init = 1;
        budget.tokens = LOG_BUDGET_BURST;
        budget.last_ms = t;
    }
    uint64_t add = (t - budget.last_ms) / LOG_BUDGET_REFILL_MS;
    if (budget.tokens >= LOG_BUDGET_BURST)
        budget.last_ms = t;
    else if (add) {
        budget.tokens = add >= LOG_BUDGET_BURST - budget.tokens ? LOG_BUDGET_BURST
                                                                : budget.tokens + (unsigned)add;
        budget.last_ms += add * LOG_BUDGET_REFILL_MS;
    }
    if (!budget.tokens) {
        if (!budget.spent_said) {
            budget.spent_said = 1;
            log_msg(LOG_WARN, "the log's budget for lines a guest can cause is spent (%u lines): "
                    "one more every %u s from now on, the rest counted", LOG_BUDGET_BURST,
                    LOG_BUDGET_REFILL_MS / 1000);
        }
        budget.dropped++;
        return 0;
    }
    budget.tokens--;
    if (budget.dropped) {
        log_msg(level, "(%llu lines a guest caused were dropped by the log's budget)", budget.dropped);
        budget.dropped = 0;
    }
    return 1;
}

/* May one more line go through RL now? A new window first reports what the last one dropped
 * (DEV: the device, for a guest's line; NULL: any other limited line). */
static int rl_take(struct ratelimit *rl, enum log_level level, const char *dev)
{
    uint64_t t = now_ms();

    if (t - rl->window_start_ms >= LOG_WINDOW_MS || rl->window_start_ms == 0) {
        if (rl->dropped && !budget_take(level))
            budget.dropped += rl->dropped - 1; /* the summary's own drop is counted */
        else if (rl->dropped && dev)
            log_msg(level, "guest: %s: %u more messages dropped", dev, rl->dropped);
        else if (rl->dropped)
            log_msg(level, "(%u more lines like the last one dropped by the rate limit)",
                    rl->dropped);
        rl->window_start_ms = t ? t : 1;
        rl->printed = 0;
        rl->dropped = 0;
    }
    if (rl->printed >= LOG_BURST) {
        rl->dropped++;
        return 0;
    }
    rl->printed++;
    return budget_take(level);
}

static void guest_v(struct ratelimit *rl, enum log_level level, const char *dev, const char *fmt,
                    va_list ap) __attribute__((format(printf, 4, 0)));
static void guest_v(struct ratelimit *rl, enum log_level level, const char *dev, const char *fmt,
                    va_list ap)
{
    char msg[512];

    if (level > cur_level || !rl_take(rl, level, dev))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    log_msg(level, "guest: %s: %s", dev, msg);
}

void log_limited(struct ratelimit *rl, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level > cur_level || !rl_take(rl, level, NULL))
        return;
    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

void log_guest(struct ratelimit *rl, const char *dev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    guest_v(rl, LOG_WARN, dev, fmt, ap);
    va_end(ap);
}

void log_guest_at(struct ratelimit *rl, enum log_level level, const char *dev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    guest_v(rl, level, dev, fmt, ap);
    va_end(ap);
}

void log_guest_line(struct guest_line *l, const char *dev, const char *prefix, uint8_t c,
                    int drop_cr)
{
    if (c == '\n' || l->len == sizeof(l->text) - 1) {
        l->text[l->len] = 0;
        log_guest_at(&l->rl, LOG_INFO, dev, "%s%s", prefix, l->text);
        l->len = 0;
        if (c == '\n')
            return;
    }
    if (c != '\r' || !drop_cr)
        l->text[l->len++] = (char)((c >= 0x20 && c < 0x7f) ? c : '.');
}

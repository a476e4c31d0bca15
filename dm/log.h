/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging: one line per message to stderr (libxl points it at /var/log/xen/qemu-dm-NAME.log).
 * Guest mistakes go through log_guest(), rate-limited per device so a hostile guest cannot fill
 * the disk. Tests can take the lines instead (log_set_sink). */
#ifndef HVMD_LOG_H
#define HVMD_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Messages above LEVEL are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Send every line that passes the level to FN instead of stderr (NULL: back to stderr). */
typedef void log_sink_fn(void *opaque, enum log_level level, const char *line);
void log_set_sink(log_sink_fn *fn, void *opaque);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Rate limit for one source of guest-caused messages: at most LOG_BURST lines per
 * LOG_WINDOW_MS, then one line saying how many were dropped. Zero-initialise it. */
#define LOG_BURST 10
#define LOG_WINDOW_MS 5000
/* And all of them together, however many sources a guest finds: LOG_BUDGET_BURST lines, then
 * one more every LOG_BUDGET_REFILL_MS (about 8,600 lines a day), the rest counted and the count
 * said with the next line let through; a guest that trips every check there is cannot grow the
 * log by more than about a megabyte a day. */
#define LOG_BUDGET_BURST 2000
#define LOG_BUDGET_REFILL_MS 10000
/* Tests: the clock the limits read (NULL: CLOCK_MONOTONIC), and a full budget again. */
void log_test_clock(uint64_t (*fn)(void));
struct ratelimit {
    uint64_t window_start_ms;
    unsigned printed;
    unsigned dropped;
};
/* A guest did something wrong: "guest: DEV: message" as a warning, rate-limited through RL. */
void log_guest(struct ratelimit *rl, const char *dev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Something a guest says (a driver's log line, a debug port): "guest: DEV: message" at LEVEL,
 * rate-limited through RL. */
void log_guest_at(struct ratelimit *rl, enum log_level level, const char *dev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A line of hvmd's own that a guest can cause again and again (a tray it moves, an unplug, a
 * BAR it places where nothing can be decoded): LEVEL, as written, rate-limited through RL. */
void log_limited(struct ratelimit *rl, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A line a guest writes a byte at a time (a debug port, a driver's log port): logged through
 * log_guest_at(LOG_INFO) at a newline or once 255 bytes wait; a byte outside printable ASCII
 * is kept as '.'. Zero-initialise it. */
struct guest_line {
    char text[256];
    unsigned len;
    struct ratelimit rl;
};
/* Adds C to L, logging "guest: DEV: PREFIXline" when a line ends; with DROP_CR a '\r' is left out. */
void log_guest_line(struct guest_line *l, const char *dev, const char *prefix, uint8_t c,
                    int drop_cr);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run/run.h: `hvmctl run`, boot tests for CI: a guest is built, its consoles are followed, and a
 * verdict (pass, fail, error) comes out of what they print and of what happens to the domain.
 *
 * Three layers, the first two without Xen (tests/unit/test_ts_run*.c drive them through pipes):
 *   the engine (engine.c)      turns console bytes into timestamped lines and decides: the
 *                              --expect patterns in order, each within its step timeout; the
 *                              --fail patterns and the built-in checks (Kernel panic, Oops, ...);
 *                              the domain's end (poweroff, crash, ...), a device model that exits;
 *   the loop (loop.c)          polls the console fds and a signal pipe, asks a hook for what has
 *                              no fd (Xen's console ring, the domain's state), feeds the engine;
 *   the guest (guest.c)        the create (xl/create.c, paused), the consoles' ptys, Xen's console ring,
 *                              the device model's log, unpause, the loop, teardown, artifacts;
 * and the command (cmd.c): options, -j N (a child process per config), the reports
 * (report.c: JSON and JUnit XML).
 */
#ifndef HVMCTL_RUN_H
#define HVMCTL_RUN_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- where a line came from ------------------------------------------------------------- */
enum run_src {
    RUN_SRC_SERIAL,     /* the emulated UART of an HVM guest (the device model's pty) */
    RUN_SRC_PV,         /* the Xen PV console (xenconsoled's pty) */
    RUN_SRC_XEN,        /* Xen's console: the domain's (dN) lines (hvmloader, SeaBIOS), and
                           Xen's own lines about it (dNvM ..., triple fault) */
    RUN_SRC_DM,         /* the device model's log */
    RUN_SRC_SCREEN,     /* the display's text screen (an HVM guest with a display): its rows as
                           they appear or change, read twice a second through the device
                           model's monitor while a pattern names screen: or --login-on does */
    RUN_NSRC
};
#define RUN_SRC_BIT(s) (1u << (s))
#define RUN_SRC_ALL ((1u << RUN_NSRC) - 1)
#define RUN_SRC_CONSOLES (RUN_SRC_BIT(RUN_SRC_SERIAL) | RUN_SRC_BIT(RUN_SRC_PV))
const char *run_src_name(enum run_src s);

/* ---- what a run looks for ----------------------------------------------------------------- */
struct run_pattern {
    char *text;             /* the regular expression, without its SOURCE: prefix */
    unsigned srcs;          /* sources it may match (RUN_SRC_BIT mask) */
    double timeout_s;       /* step timeout of an --expect (0: only the run's --timeout) */
    regex_t re;
};

/* the built-in checks; each can be switched off by name */
enum run_check {
    RUN_CHECK_PANIC,
    RUN_CHECK_KASAN,
    RUN_CHECK_UBSAN,
    RUN_CHECK_BUG,
    RUN_CHECK_OOPS,
    RUN_CHECK_WARNING,
    RUN_CHECK_NO_BOOT,
    RUN_CHECK_TRIPLE_FAULT,
    RUN_CHECK_CRASH,        /* Xen says the domain crashed (no pattern: the domain's state) */
    RUN_NCHECKS
};
#define RUN_CHECKS_ALL ((1u << RUN_NCHECKS) - 1)
struct run_check_info {
    const char *name;       /* for --no-check */
    const char *reason;     /* what the verdict says */
    const char *regex;      /* NULL: not a pattern */
    unsigned srcs;
    const char *about;
};
const struct run_check_info *run_check_info(int i);
int run_check_by_name(const char *name);        /* -1: no such check */

/* --send [SOURCE:]PATTERN TEXT: once PATTERN is seen (after the --send before it has fired),
 * TEXT is typed into the guest */
struct run_send {
    struct run_pattern pat;
    char *text;             /* as given (escapes \n \t \e \\ not yet decoded) */
    char **keys;            /* the key presses, QKeyCode names ("shift-a", "ret"), NULL-ended */
    bool console;           /* --write: TEXT goes to the console the pattern matched on */
};

struct run_spec {
    unsigned test_formats;  /* RUN_TESTS_TAP | RUN_TESTS_LTP (--tests) */
    struct run_pattern *test_pats;  /* --test [SRC:]REGEX: \1 a test's name, \2 its result */
    int n_test_pats;
    struct run_send *sends;
    int n_sends;
    int reboots;            /* --reboots N: reboots the guest may make (each a step boundary) */
    char *login_user;       /* --login USER[:PASS]: answers every login prompt on a console */
    char *login_pass;       /* NULL: no password prompt expected */
    unsigned login_srcs;    /* --login-on: the sources whose prompts are answered (RUN_SRC_BIT
                               mask; 0: the consoles) */
    struct run_pattern *expects;
    int n_expects;
    struct run_pattern *fails;
    int n_fails;
    unsigned checks;        /* built-in checks on: bit (1 << enum run_check) */
    double timeout_s;       /* the whole run, from the create (0: none) */
    bool wait_poweroff;     /* the last step: the guest powers off by itself */
    double poweroff_timeout_s;
};
void run_spec_init(struct run_spec *s);
void run_spec_free(struct run_spec *s);
/* ARG is [SOURCE:]REGEX, SOURCE one of serial, pv, console (serial or pv), xen, dm, any.
 * Returns 0, or -EINVAL with the reason in err. */
int run_spec_add_expect(struct run_spec *s, const char *arg, double step_timeout_s,
                        char *err, size_t errlen);
int run_spec_add_fail(struct run_spec *s, const char *arg, char *err, size_t errlen);
/* [SOURCE:]REGEX into p (what: the option, for err): 0 or -EINVAL with the reason */
int run_pattern_parse(struct run_pattern *p, const char *arg, const char *what, char *err,
                      size_t errlen);
/* --tests FORMAT[,FORMAT] (tap, ltp) and --test [SRC:]REGEX (tests.c) */
#define RUN_TESTS_TAP 1u
#define RUN_TESTS_LTP 2u
int run_spec_set_tests(struct run_spec *s, const char *formats, char *err, size_t errlen);
int run_spec_add_test_pattern(struct run_spec *s, const char *arg, char *err, size_t errlen);
/* --send: PATTERN as for --expect; TEXT printable ASCII and the escapes \n (Return), \t
 * (Tab), \e (Escape), \\ (a backslash), typed with a US keyboard layout. 0, or -EINVAL with
 * the reason in err. */
int run_spec_add_send(struct run_spec *s, const char *pattern, const char *text, char *err,
                      size_t errlen);
/* --write [SOURCE:]PATTERN TEXT: as --send, TEXT written to the console (serial or pv) the
 * pattern matched on; PATTERN must name serial:, pv: or console: */
int run_spec_add_write(struct run_spec *s, const char *pattern, const char *text, char *err,
                       size_t errlen);
/* --login USER[:PASS] */
int run_spec_set_login(struct run_spec *s, const char *arg, char *err, size_t errlen);
/* TEXT (as above) into the bytes a terminal sends: \n is Enter (a carriage return), \t a Tab,
 * \e Escape; NULL if TEXT is not valid (run_keys_of's rules) */
char *run_text_bytes(const char *text);
/* TEXT (as above) into QKeyCode key presses: a NULL-ended array (free with run_keys_free),
 * or NULL with the reason in err */
char **run_keys_of(const char *text, char *err, size_t errlen);
void run_keys_free(char **keys);

/* ---- per-test results (tests.c) ---------------------------------------------------------- */
enum run_test_status { RUN_TEST_PASS, RUN_TEST_FAIL, RUN_TEST_SKIP };
const char *run_test_status_name(enum run_test_status s);   /* "pass", "fail", "skip" */
#define RUN_TESTS_MAX 4096      /* results kept; more are counted (dropped) */
#define RUN_TEST_DEPTH 8
struct run_test {
    char *name;
    enum run_test_status status;
    double at_s;
    enum run_src src;
    char *line;
};
struct run_tests {
    struct run_test *v;
    int n, cap;
    unsigned long dropped;
    char *subtest[RUN_TEST_DEPTH];  /* TAP "# Subtest: NAME" per indentation level */
    long plan;              /* the top-level TAP plan 1..N (-1: none) */
    int top;                /* top-level TAP results */
    int n_fail, n_skip;     /* also of dropped ones */
};
void run_tests_init(struct run_tests *ts);
void run_tests_free(struct run_tests *ts);
int run_tests_copy(struct run_tests *dst, const struct run_tests *src);
/* one finished line: 0 not a result, 1 a result recorded, -1 a result line that cannot be
 * read, -2 a name reported before (why says which) */
int run_tests_line(struct run_tests *ts, const struct run_spec *spec, enum run_src src,
                   const char *line, double t, char *why, size_t whylen);
/* at the last step: 0, or -1 and why (a test failed, the TAP plan was not met) */
int run_tests_final(const struct run_tests *ts, const struct run_spec *spec, char *why,
                    size_t whylen);

/* ---- the engine --------------------------------------------------------------------------- */
enum run_verdict { RUN_RUNNING, RUN_PASS, RUN_FAIL, RUN_ERROR };
const char *run_verdict_name(enum run_verdict v);   /* "running", "pass", "fail", "error" */

/* the domain's end, and other things the engine hears of besides lines */
enum run_event {
    RUN_EV_POWEROFF,
    RUN_EV_REBOOT,
    RUN_EV_CRASH,
    RUN_EV_WATCHDOG,
    RUN_EV_SUSPEND,
    RUN_EV_SOFT_RESET,
    RUN_EV_GONE,            /* destroyed from outside */
    RUN_EV_DM_EXIT,         /* the device model process went */
};

#define RUN_LINE_MAX 4096   /* longer lines are cut into pieces of this size */
#define RUN_MAX_REBOOTS 64
#define RUN_MAX_REBOOTS 64
#define RUN_TAIL 40         /* the last lines kept for the failure report */
#define RUN_LOG_MAX (64ull << 20)   /* bytes kept in each artifact log (a console that floods) */

/* one printf-formatted line into artifact log F (NAME), of which *BYTES were written: past
 * MAX bytes in all, one line saying so and nothing more (the lines are still judged) */
void run_log_printf(FILE *f, unsigned long long *bytes, unsigned long long max, const char *name,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

struct run_line {
    char buf[RUN_LINE_MAX + 1];
    size_t len;
    size_t match_from;      /* an --expect already matched this partial line up to here */
    size_t send_from;       /* ... a --send */
    bool login_done;        /* --login answered this (partial) line */
    double start;           /* when its first byte came */
    int esc;                /* escape-sequence state (CSI/OSC stripping across reads) */
};

struct run_step {
    bool done;
    double at_s;            /* from the create */
    double took_s;          /* from the step before (or the create) */
    enum run_src src;
    char *line;
};

struct run_tail_line {
    double t;
    enum run_src src;
    char *text;
};

/* what the engine gives its owner: each finished line (artifacts, live output) */
typedef void (*run_line_fn)(void *opaque, enum run_src src, double t, const char *line,
                            size_t len);
/* ... and each --send whose pattern was seen (index i of spec->sends), to be typed now */
typedef void (*run_send_fn)(void *opaque, int i, enum run_src src, double t);

struct run_engine {
    const struct run_spec *spec;
    regex_t check_re[RUN_NCHECKS];
    bool check_compiled[RUN_NCHECKS];
    struct run_line lines[RUN_NSRC];
    int step;               /* the --expect waited for; n_expects: all seen */
    double step_start;
    struct run_step *steps; /* n_expects (+1 for the poweroff step) */
    int n_steps;
    enum run_verdict verdict;
    char reason[600];
    char kind[40];          /* what decided: "pass", "check:panic", "fail-pattern", "timeout",
                               "step-timeout", "domain", "device-model", "interrupted", ... */
    double decided_at;
    bool fail_has_line;     /* the failure came from a line: */
    enum run_src fail_src;
    double fail_at;
    char *fail_line;
    struct run_tail_line tail[RUN_TAIL];
    int tail_next;
    unsigned long n_lines[RUN_NSRC];
    unsigned long n_bytes[RUN_NSRC];
    run_line_fn on_line;
    void *opaque;
    int send;               /* the --send waited for; n_sends: all typed */
    struct run_tests tests; /* per-test results (--tests, --test) */
    run_send_fn on_send;    /* (set by the owner after run_engine_init; NULL: none) */
    regex_t login_re[2];    /* --login: the login prompt, the password prompt */
    bool login_compiled;
    int login_stage;        /* 0: waiting for a login prompt, 1: for the password prompt */
    int n_reboots;          /* reboots followed */
    double reboot_at[RUN_MAX_REBOOTS];
};
/* the owner followed a reboot (--reboots): a step boundary: the step waited for is timed from
 * here, partial lines end. The owner calls run_engine_event(RUN_EV_REBOOT) instead for one
 * reboot too many. */
void run_engine_rebooted(struct run_engine *e, double t);
/* on_send's i for --login's answers */
#define RUN_SEND_LOGIN_USER (-1)
#define RUN_SEND_LOGIN_PASS (-2)

/* 0, or -EINVAL if a built-in pattern does not compile (a bug), -ENOMEM */
int run_engine_init(struct run_engine *e, const struct run_spec *spec, run_line_fn on_line,
                    void *opaque);
void run_engine_free(struct run_engine *e);
/* bytes from a source, arrived at t (seconds from the create) */
void run_engine_feed(struct run_engine *e, enum run_src src, const char *buf, size_t n, double t);
/* end the partial line of a source (EOF, the end of the run) */
void run_engine_flush(struct run_engine *e, enum run_src src, double t);
void run_engine_flush_all(struct run_engine *e, double t);
/* a whole line from a line-oriented source (Xen's console ring) */
void run_engine_line(struct run_engine *e, enum run_src src, const char *line, size_t len,
                     double t);
void run_engine_event(struct run_engine *e, enum run_event ev, const char *detail, double t);
/* timeouts; returns the seconds until the next deadline (a large value if none) */
double run_engine_tick(struct run_engine *e, double t);
/* decide from outside: an interruption, an infrastructure error */
void run_engine_decide(struct run_engine *e, enum run_verdict v, const char *kind, double t,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool run_engine_done(const struct run_engine *e)
{
    return e->verdict != RUN_RUNNING;
}
/* the kept tail, oldest first: calls fn for each line */
void run_engine_tail(const struct run_engine *e,
                     void (*fn)(void *opaque, double t, enum run_src src, const char *text),
                     void *opaque);

/* Xen's console ring holds every domain's lines and Xen's own: for a line of it, where the
 * part about domain domid starts ("(dN) text" gives text; a Xen line naming dN, dNvM or
 * "Domain N" is kept whole), or -1 if the line is not about that domain */
long run_xen_line_of(const char *line, uint32_t domid);

/* ---- the loop ------------------------------------------------------------------------------- */
struct run_fd {
    int fd;                 /* -1: not open (closed at EOF) */
    enum run_src src;
    bool follow;            /* a regular file that grows (the device model's log): read each tick */
    bool eof;               /* the loop saw its end (the fd stays open: its owner closes it) */
};

/* the domain as the hook sees it */
struct run_dom_state {
    bool ended;             /* shut down, destroyed, or its device model went */
    enum run_event ev;
    char detail[200];
};

struct run_hooks {
    void *opaque;
    /* called every tick and when watch_fd is readable: feed lines that have no fd (Xen's
     * console ring) to the engine and say whether the domain has ended */
    void (*poll)(void *opaque, struct run_engine *e, double t, struct run_dom_state *st);
    int watch_fd;           /* -1: none (a xenstore watch that fires on the domain's end) */
    void (*watch)(void *opaque);   /* read the watch event */
    double tick_s;          /* how often poll runs (0.2 s) */
    double settle_s;        /* after the domain ended: keep reading for this long before the
                               end is the verdict (the consoles lag behind Xen) */
    double grace_s;         /* after a failure seen in a line: keep recording for this long */
};

/* seconds on the monotonic clock */
double run_now(void);
/* Runs until the engine has a verdict (then reads for grace_s more on a failure). stop_fd: a
 * pipe a signal handler writes its signal number to (-1: none). t0: the create, on run_now(). */
void run_loop(struct run_engine *e, struct run_fd *fds, int nfds, const struct run_hooks *h,
              int stop_fd, double t0);

/* ---- a run's result and the reports --------------------------------------------------------- */
struct run_result {
    char *name;             /* the guest's name (or the config's base name if it did not parse) */
    char *config;
    char *artifacts;        /* this run's folder */
    int64_t domid;          /* -1: none */
    const char *type;       /* "pv", "pvh", "hvm" */
    char *dm;               /* which device model (HVM) */
    enum run_verdict verdict;
    char *kind;
    char *reason;
    double started;         /* wall clock (epoch seconds) */
    double duration_s;      /* create to the end of the teardown */
    double create_s;        /* libxl's create */
    double boot_s;          /* create to the verdict */
    double teardown_s;
    bool teardown_ok;
    char *left;             /* what the teardown left, or NULL */
    const struct run_spec *spec;
    struct run_step *steps; /* copied from the engine */
    int n_steps;
    bool fail_has_line;
    enum run_src fail_src;
    double fail_at;
    char *fail_line;
    char *tail;             /* the last lines, one per line: "[   1.234] pv| text" */
    unsigned long n_lines[RUN_NSRC];
    bool followed[RUN_NSRC];
    char *console_files[RUN_NSRC];
    char *vga;              /* the VGA text screen at the end (HVM with a display), or NULL */
    bool vga_png;           /* screen.png is in the artifacts */
    int n_sent;             /* --send texts typed */
    int n_reboots;          /* reboots followed (--reboots) */
    double reboot_at[RUN_MAX_REBOOTS];
    struct run_tests tests; /* per-test results */
    char *vga_note;         /* why there is none, when there should be one */
};
void run_result_init(struct run_result *r);
void run_result_free(struct run_result *r);
/* copy the engine's steps, verdict, failure and tail into r */
void run_result_take(struct run_result *r, const struct run_engine *e);
int run_exit_code(enum run_verdict v);          /* 0 pass, 1 fail, 2 error */

/* JSON: one object for a run; JUnit: one <testsuite> for a run */
void run_report_json(FILE *f, const struct run_result *r, int indent);
void run_report_junit_suite(FILE *f, const struct run_result *r);
/* JUnit totals of a run's suite */
struct run_counts { int tests, failures, errors, skipped; };
struct run_counts run_report_counts(const struct run_result *r);
/* the run's own result.json and junit.xml in DIR: 0 or negative errno */
int run_report_write_own(const struct run_result *r, const char *dir);
/* the one summary line: "PASS name (domain N): ..." */
void run_summary_line(char *buf, size_t len, const struct run_result *r);

/* what a run (maybe in a child process) tells the command when it is done */
struct run_brief {
    enum run_verdict verdict;
    struct run_counts counts;
    double duration_s;
    char summary[1024];
};
/* The --json and --junit files of all runs, from each run's own files in dirs[i] (a run that
 * wrote none is described from its brief). NULL paths are skipped. 0 or negative errno. */
int run_report_combine(const char *json_path, const char *junit_path, char *const *dirs,
                       const struct run_brief *b, int n, double wall_s);
/* A report path "-" is written to FD (standard output as it was; cmd.c points fd 1 at
 * standard error for the runs' own output). */
void run_report_stdout(int fd);

/* text for JSON / XML: invalid UTF-8 becomes U+FFFD, control characters are escaped/dropped */
void run_json_str(FILE *f, const char *s);
void run_xml_str(FILE *f, const char *s);

/* ---- the guest (Xen) ---------------------------------------------------------------------- */
struct run_opts {
    const struct run_spec *spec;
    const char *const *overrides;   /* KEY=VALUE for every config */
    int n_overrides;
    const char *artifacts;          /* this run's folder (made if missing) */
    const char *live_prefix;        /* NULL: no live output; "" or "name " before each line */
    int verbose;
};
/* Runs one config to a verdict and tears everything down; r holds the result, and the run's
 * folder gets the consoles, result.json and junit.xml. stop_fd as for run_loop. */
void run_guest(const char *cfg_file, const struct run_opts *o, int stop_fd, struct run_result *r);

/* ---- the VGA text screen (vga.c) -------------------------------------------------------------- */
/* HMP "xp /2000hx 0xb8000" output into 25 rows of text (UTF-8, code page 437 mapped, trailing
 * blanks and rows dropped): 0, -EINVAL if it is not exactly 2000 cells, -ENOMEM */
int run_vga_decode(const char *xp, char **text);
/* one HMP command through the QMP socket at path: 0 and its text output, or negative errno
 * with the reason in err */
int run_qmp_hmp(const char *path, const char *cmdline, double timeout_s, char **out, char *err,
                size_t errlen);
/* the text screen of domid's device model: 0 and the text, or negative errno and why. The
 * screen the display shows (hvmd's x-text-screen, which follows the CRTC's start address),
 * else the text window at 0xb8000 (xp, as qemu-xen answers it). */
int run_vga_text(uint32_t domid, char **text, char *why, size_t whylen);
/* The rows of text screen CUR (run_vga_decode's text) that are new against PREV, the screen
 * seen before (NULL: none), top to bottom, each given to fn: after a scroll the rows below
 * what PREV showed, and its last row again if it changed (a prompt being answered); a screen
 * redrawn other than by scrolling gives all its rows. Empty rows are skipped. */
void run_screen_diff(const char *prev, const char *cur,
                     void (*fn)(void *opaque, const char *row, size_t len), void *opaque);
/* --login-on SRC[,SRC...]: serial, pv, console or screen */
int run_spec_set_login_srcs(struct run_spec *s, const char *arg, char *err, size_t errlen);
/* whether a run of spec reads the text screen (a pattern names screen:, or --login-on) */
bool run_spec_wants_screen(const struct run_spec *s);
/* a PNG screendump of domid's screen into path (absolute), by the device model: 0 or
 * negative errno and why */
int run_vga_screendump(uint32_t domid, const char *path, char *why, size_t whylen);
/* KEYS (run_keys_of) pressed on domid's display keyboard, one HMP sendkey each: 0 or
 * negative errno and why */
int run_vga_type(uint32_t domid, char *const *keys, char *why, size_t whylen);

/* the command */
int cmd_run(int argc, char **argv);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The IDE device as the machine builds it from libxl's command line, and as libxl changes its
 * CD-ROM through QMP (xl cd-eject / cd-insert): query-block, eject with DEVICE_TRAY_MOVED
 * before the return, add-fd with a descriptor passed alongside, blockdev-change-medium from
 * /dev/fdset/N, the guest seeing a unit attention and reading the new medium; and the
 * command-line errors a person gets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dm/config.h"
#include "tests/lib/capture.h"
#include "tests/lib/ide_guest.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "dm/loop.h"
#include "dm/sandbox.h"

#include <signal.h>
#include <time.h>
#include <sys/wait.h>

struct bed {
    struct config cfg;
    struct fakexen *fx;
    struct qmp *qmp;
    struct machine m;
    struct qmp_conn *c;
    struct fx_capture out;
    char dir[200], disk[256], iso[256], iso2[256];
};

static int bed_up(struct bed *b, const char *const *extra, int n, char *err, size_t errlen)
{
    const char *argv[40] = { "-xen-domid", "3", "-m", "64" };
    int argc = 4, r;
    for (int i = 0; i < n; i++)
        argv[argc++] = extra[i];
    r = config_parse(&b->cfg, argc, argv, err, errlen);
    if (r < 0)
        return r;
    b->fx = fx_new(48 << 20);
    b->fx->vm.cfg = &b->cfg;
    b->qmp = qmp_new(&b->fx->vm, &b->cfg, NULL, NULL, err, errlen);
    assert_non_null(b->qmp);
    b->fx->vm.qmp = b->qmp;
    r = machine_create(&b->m, &b->fx->vm, err, errlen);
    if (r < 0) {
        qmp_free(b->qmp);
        fx_free(b->fx);
        config_free(&b->cfg);
    }
    return r;
}

static void bed_down(struct bed *b)
{
    qmp_free(b->qmp);
    b->fx->vm.qmp = NULL;
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
}

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    ideg_tmpdir(b->dir, sizeof(b->dir));
    snprintf(b->disk, sizeof(b->disk), "%s/disk.img", b->dir);
    snprintf(b->iso, sizeof(b->iso), "%s/a.iso", b->dir);
    snprintf(b->iso2, sizeof(b->iso2), "%s/b.iso", b->dir);
    ideg_make_image(b->disk, 2048, 512, 0);
    ideg_make_image(b->iso, 100, 2048, 1);
    ideg_make_image(b->iso2, 200, 2048, 2);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    unlink(b->disk);
    unlink(b->iso);
    unlink(b->iso2);
    rmdir(b->dir);
    free(b);
    return 0;
}

static void send_cmd(struct bed *b, const char *json)
{
    b->out.len = 0;
    b->out.text[0] = 0;
    assert_int_equal(qmp_conn_input(b->c, json, strlen(json)), 0);
}

static void test_libxl_cd_change(void **state)
{
    struct bed *b = *state;
    char err[512], d1[400], d2[400];
    snprintf(d1, sizeof(d1), "file=%s,if=ide,index=0,media=disk,format=raw,cache=writeback", b->disk);
    snprintf(d2, sizeof(d2), "if=none,readonly=on,id=ide-5632,file=%s,format=raw", b->iso);
    const char *argv[] = { "-drive", d1, "-drive", d2, "-device",
                           "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0", "-boot", "order=d" };
    assert_int_equal(bed_up(b, argv, 8, err, sizeof(err)), 0);
    struct ideg g = { .fx = b->fx };
    ideg_out(&g, SEC_CTL, 0);

    b->c = qmp_conn_new(b->qmp, fx_capture_bytes, &b->out);
    send_cmd(b, "{\"execute\":\"qmp_capabilities\",\"id\":1}");
    send_cmd(b, "{\"execute\":\"query-block\",\"id\":2}");
    assert_non_null(strstr(b->out.text, "\"qdev\":\"ide-5632\""));
    assert_non_null(strstr(b->out.text, "\"tray_open\":false"));
    assert_non_null(strstr(b->out.text, "a.iso\",\"ro\":true"));
    assert_non_null(strstr(b->out.text, "disk.img\",\"ro\":false"));
    send_cmd(b, "{\"execute\":\"query-commands\",\"id\":3}");
    assert_non_null(strstr(b->out.text, "\"blockdev-change-medium\""));
    assert_non_null(strstr(b->out.text, "\"add-fd\""));

    /* xl cd-eject: query-version, eject; the event comes before the return */
    send_cmd(b, "{\"execute\":\"query-version\",\"id\":2020372738}");
    send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\"},\"id\":2020372739}");
    char *ev = strstr(b->out.text, "\"event\":\"DEVICE_TRAY_MOVED\"");
    char *ret = strstr(b->out.text, "{\"return\":{},\"id\":2020372739}");
    assert_non_null(ev);
    assert_non_null(ret);
    assert_true(ev < ret);
    assert_non_null(strstr(b->out.text, "\"data\":{\"device\":\"ide-5632\",\"tray-open\":true,\"id\":\"ide-5632\"}"));
    assert_non_null(strstr(b->out.text, "\"timestamp\":{\"seconds\":"));
    uint8_t tur[12] = { 0 };
    ideg_packet(&g, SEC, 0, tur, 0, 0);
    assert_int_equal(ideg_status(&g, SEC) & 0x01, 0x01);
    assert_int_equal(ideg_sense(&g, SEC, 0), 0x023a02);

    /* xl cd-insert: eject, add-fd with the file, blockdev-change-medium from the set */
    send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\"},\"id\":10}");
    assert_string_equal(b->out.text, "{\"return\":{},\"id\":10}\r\n"); /* already open: no event */
    send_cmd(b, "{\"execute\":\"add-fd\",\"arguments\":{\"opaque\":\"raw:x\"},\"id\":11}");
    assert_non_null(strstr(b->out.text, "No file descriptor supplied via SCM_RIGHTS"));
    qmp_conn_pass_fd(b->c, open(b->iso2, O_RDONLY | O_CLOEXEC));
    char addfd[400];
    snprintf(addfd, sizeof(addfd), "{\"execute\":\"add-fd\",\"arguments\":{\"opaque\":\"raw:%s\"},\"id\":12}", b->iso2);
    send_cmd(b, addfd);
    assert_non_null(strstr(b->out.text, "{\"return\":{\"fdset-id\":0,\"fd\":"));
    send_cmd(b, "{\"execute\":\"query-fdsets\",\"id\":13}");
    assert_non_null(strstr(b->out.text, "\"opaque\":\"raw:"));
    send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\","
                "\"filename\":\"/dev/fdset/7\",\"format\":\"raw\"},\"id\":14}");
    assert_non_null(strstr(b->out.text, "\"error\""));
    assert_non_null(strstr(b->out.text, "/dev/fdset/7"));
    send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\","
                "\"filename\":\"/dev/fdset/0\",\"format\":\"qcow2\"},\"id\":15}");
    assert_non_null(strstr(b->out.text, "raw images only"));
    send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\","
                "\"filename\":\"/dev/fdset/0\",\"format\":\"raw\"},\"id\":16}");
    ev = strstr(b->out.text, "\"tray-open\":false");
    ret = strstr(b->out.text, "{\"return\":{},\"id\":16}");
    assert_non_null(ev);
    assert_non_null(ret);
    assert_true(ev < ret);
    send_cmd(b, "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":0},\"id\":17}");
    assert_string_equal(b->out.text, "{\"return\":{},\"id\":17}\r\n");

    /* the guest: unit attention, then the new medium's size and data */
    ideg_packet(&g, SEC, 0, tur, 0, 0);
    assert_int_equal(ideg_sense(&g, SEC, 0), 0x062800);
    uint8_t cap[12] = { 0x25 };
    ideg_packet(&g, SEC, 0, cap, 8, 0);
    assert_int_equal(ideg_atapi_pio_in(&g, SEC, G_BUF, NULL), 8);
    assert_int_equal(g.fx->ram[G_BUF + 3], 199);
    uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 50, 0, 0, 2 };
    ideg_packet(&g, SEC, 0, rd, 0xfffe, 0);
    assert_int_equal(ideg_atapi_pio_in(&g, SEC, G_BUF, NULL), 4096);
    assert_int_equal(ideg_check(g.fx->ram + G_BUF, 50, 2, 2048, 2), 0);

    /* the guest locks the tray: eject is refused, and asks the guest to eject */
    uint8_t lock[12] = { 0x1e, 0, 0, 0, 1 };
    ideg_packet(&g, SEC, 0, lock, 0, 0);
    send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\"},\"id\":18}");
    assert_non_null(strstr(b->out.text, "is locked and force was not specified"));
    send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\",\"force\":true},\"id\":19}");
    assert_non_null(strstr(b->out.text, "\"tray-open\":true"));
    /* unknown devices, the disk, missing arguments */
    send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-1\"},\"id\":20}");
    assert_non_null(strstr(b->out.text, "Device 'ide-1' not found"));
    send_cmd(b, "{\"execute\":\"eject\",\"id\":21}");
    assert_non_null(strstr(b->out.text, "Parameter 'id' is missing"));
    send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\"},\"id\":22}");
    assert_non_null(strstr(b->out.text, "Parameter 'filename' is missing"));
    /* a path works too outside the sandbox (-sandbox off; QMP users other than libxl) */
    char chg[400];
    snprintf(chg, sizeof(chg), "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"device\":"
             "\"ide-5632\",\"filename\":\"%s\"},\"id\":23}", b->iso);
    send_cmd(b, chg);
    assert_non_null(strstr(b->out.text, "{\"return\":{},\"id\":23}"));
    qmp_conn_free(b->c);
    bed_down(b);
}

/* xl cd-insert's sequence and a plain path, in a child under hvmd's own seccomp filter (as
 * hvmd serves QMP once the guest runs): the medium from add-fd works; a plain path cannot be
 * opened there, so it is refused with a QMP error that says why and what to do, and the
 * process lives on (the filter kills a process that calls open). */
#define CHILD_CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "line %d: %s\n  output: %s\n", __LINE__, #cond, b->out.text); \
            _exit(10); \
        } \
    } while (0)

static int open_ro(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

static void test_change_medium_sandboxed(void **state)
{
    struct bed *b = *state;
    int st = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512], d2[400], chg[600];
        snprintf(d2, sizeof(d2), "if=none,readonly=on,id=ide-5632,file=%s,format=raw", b->iso);
        const char *argv[] = { "-drive", d2, "-device",
                               "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0" };
        if (bed_up(b, argv, 4, err, sizeof(err)) < 0)
            _exit(2);
        int fd = open(b->iso2, O_RDONLY | O_CLOEXEC); /* what xl opens and passes */
        struct ideg g = { .fx = b->fx };
        b->c = qmp_conn_new(b->qmp, fx_capture_bytes, &b->out);
        if (fd < 0 || !b->c || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(3);
        ideg_out(&g, SEC_CTL, 0);
        send_cmd(b, "{\"execute\":\"qmp_capabilities\",\"id\":1}");
        /* a plain path: refused, naming the sandbox and the way that works */
        snprintf(chg, sizeof(chg), "{\"execute\":\"blockdev-change-medium\",\"arguments\":"
                 "{\"id\":\"ide-5632\",\"filename\":\"%s\"},\"id\":2}", b->iso2);
        send_cmd(b, chg);
        CHILD_CHECK(strstr(b->out.text, "\"error\""));
        CHILD_CHECK(strstr(b->out.text, "sandbox"));
        CHILD_CHECK(strstr(b->out.text, "add-fd"));
        CHILD_CHECK(strstr(b->out.text, "/dev/fdset/N"));
        /* the old medium is still in */
        uint8_t cap[12] = { 0x25 };
        ideg_packet(&g, SEC, 0, cap, 8, 0);
        CHILD_CHECK(ideg_atapi_pio_in(&g, SEC, G_BUF, NULL) == 8);
        CHILD_CHECK(g.fx->ram[G_BUF + 3] == 99);
        /* xl cd-insert: eject, add-fd, change-medium from the set */
        send_cmd(b, "{\"execute\":\"eject\",\"arguments\":{\"id\":\"ide-5632\"},\"id\":3}");
        qmp_conn_pass_fd(b->c, fd);
        send_cmd(b, "{\"execute\":\"add-fd\",\"arguments\":{\"opaque\":\"raw:b.iso\"},\"id\":4}");
        CHILD_CHECK(strstr(b->out.text, "{\"return\":{\"fdset-id\":0,\"fd\":"));
        send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\","
                    "\"filename\":\"/dev/fdset/0\",\"format\":\"raw\"},\"id\":5}");
        CHILD_CHECK(strstr(b->out.text, "{\"return\":{},\"id\":5}"));
        send_cmd(b, "{\"execute\":\"remove-fd\",\"arguments\":{\"fdset-id\":0},\"id\":6}");
        uint8_t tur[12] = { 0 };
        ideg_packet(&g, SEC, 0, tur, 0, 0);
        CHILD_CHECK(ideg_sense(&g, SEC, 0) == 0x062800);
        ideg_packet(&g, SEC, 0, cap, 8, 0);
        CHILD_CHECK(ideg_atapi_pio_in(&g, SEC, G_BUF, NULL) == 8);
        CHILD_CHECK(g.fx->ram[G_BUF + 3] == 199);
        uint8_t rd[12] = { 0x28, 0, 0, 0, 0, 150, 0, 0, 1 };
        ideg_packet(&g, SEC, 0, rd, 0xfffe, 0);
        CHILD_CHECK(ideg_atapi_pio_in(&g, SEC, G_BUF, NULL) == 2048);
        CHILD_CHECK(ideg_check(g.fx->ram + G_BUF, 150, 1, 2048, 2) == 0);
        fflush(NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: QMP made a system call outside hvmd's allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed case failed (status %#x)", st);
}

/* What a QMP client sees of DEVICE_TRAY_MOVED events, counted as they come. */
struct tray_events {
    unsigned n;
    int last_open;          /* -1: none yet */
};

static void count_events(void *opaque, const char *data, size_t n)
{
    struct tray_events *t = opaque;
    char buf[512];
    if (n >= sizeof(buf))
        return;
    memcpy(buf, data, n);
    buf[n] = 0;
    if (!strstr(buf, "DEVICE_TRAY_MOVED"))
        return;
    t->n++;
    t->last_open = strstr(buf, "\"tray-open\":true") != NULL;
}

static unsigned tray_lines;
static void count_lines(void *opaque, enum log_level level, const char *line)
{
    if (strstr(line, "tray"))
        tray_lines++;
}

/* A guest that opens and closes its tray 1,000 times (1,999 START STOP UNIT packets) gives a
 * bounded number of log lines and QMP events, and the client still learns the last state
 * (issue 16 item 6: each move was a line and an event). */
static void test_tray_flood(void **state)
{
    struct bed *b = *state;
    char err[512], d2[400];
    snprintf(d2, sizeof(d2), "if=none,readonly=on,id=ide-5632,file=%s,format=raw", b->iso);
    const char *argv[] = { "-drive", d2, "-device",
                           "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0" };
    assert_int_equal(bed_up(b, argv, 4, err, sizeof(err)), 0);
    struct ideg g = { .fx = b->fx };
    struct tray_events ev = { 0, -1 };
    ideg_out(&g, SEC_CTL, 0);
    b->c = qmp_conn_new(b->qmp, count_events, &ev);
    assert_int_equal(qmp_conn_input(b->c, "{\"execute\":\"qmp_capabilities\"}", 31), 0);

    ideg_sense(&g, SEC, 0); /* the power-on unit attention */
    tray_lines = 0;
    log_set_sink(count_lines, NULL);
    uint8_t open[12] = { 0x1b, 0, 0, 0, 0x02 }, close[12] = { 0x1b, 0, 0, 0, 0x03 };
    uint8_t tur[12] = { 0 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ideg_packet(&g, SEC, 0, open, 0, 0) & 0x89, 0);
        if (i < 999) {
            assert_int_equal(ideg_packet(&g, SEC, 0, close, 0, 0) & 0x89, 0);
            ideg_packet(&g, SEC, 0, tur, 0, 0); /* takes the unit attention the medium raised */
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    unsigned lines = tray_lines, events = ev.n;
    /* the limits' windows that began while the guest was at it (a slow run sees more) */
    unsigned ms = (unsigned)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    print_message("1,999 START STOP UNIT in %u ms: %u tray lines, %u events at once\n", ms,
                  lines, events);
    assert_true(lines <= (LOG_BURST + 1) * (ms / LOG_WINDOW_MS + 1));
    assert_true(events <= 8 * (ms / 1000 + 1));
    /* the tray ends open: the client hears so, at the latest once the limit's window ends */
    for (int i = 0; i < 30 && !(ev.last_open == 1 && ev.n > events); i++)
        loop_run_once(b->fx->loop, 100);
    log_set_sink(NULL, NULL);
    print_message("then %u events, the last one tray-open %d\n", ev.n, ev.last_open);
    assert_int_equal(ev.last_open, 1);
    assert_true(ev.n <= events + 1);
    /* a QMP command's own move is reported at once, before its return */
    struct fx_capture *out = &b->out;
    qmp_conn_free(b->c);
    b->c = qmp_conn_new(b->qmp, fx_capture_bytes, out);
    send_cmd(b, "{\"execute\":\"qmp_capabilities\",\"id\":1}");
    qmp_conn_pass_fd(b->c, open_ro(b->iso2));
    send_cmd(b, "{\"execute\":\"add-fd\",\"id\":2}");
    send_cmd(b, "{\"execute\":\"blockdev-change-medium\",\"arguments\":{\"id\":\"ide-5632\","
                "\"filename\":\"/dev/fdset/0\"},\"id\":3}");
    char *e = strstr(out->text, "\"tray-open\":false"), *r = strstr(out->text, "{\"return\":{},\"id\":3}");
    assert_non_null(e);
    assert_non_null(r);
    assert_true(e < r);
    qmp_conn_free(b->c);
    bed_down(b);
}

static char logged[4096];
static void sink(void *opaque, enum log_level level, const char *line)
{
    if (level == LOG_ERR)
        snprintf(logged, sizeof(logged), "%s", line);
}

/* The error a person sees: machine_create's ERR names the device, the log line says what. */
static void refused(struct bed *b, const char *const *argv, int n, const char *what)
{
    char err[512];
    logged[0] = 0;
    log_set_sink(sink, NULL);
    assert_true(bed_up(b, argv, n, err, sizeof(err)) < 0);
    log_set_sink(NULL, NULL);
    if (!strstr(err, what) && !strstr(logged, what))
        fail_msg("expected \"%s\" in \"%s\" or \"%s\"", what, err, logged);
}

static void test_command_line_errors(void **state)
{
    struct bed *b = *state;
    char err[512], d[400];
    /* a key hvmd does not serve */
    snprintf(d, sizeof(d), "file=%s,if=ide,index=0,media=disk,format=raw,discard=unmap", b->disk);
    const char *a1[] = { "-drive", d };
    refused(b, a1, 2, "discard= is not supported by hvmd");
    /* an unknown cache mode */
    snprintf(d, sizeof(d), "file=%s,if=ide,index=0,media=disk,format=raw,cache=sometimes", b->disk);
    refused(b, a1, 2, "cache=sometimes");
    /* a format other than raw, a position taken twice, a disk without a file, a missing one */
    snprintf(d, sizeof(d), "file=%s,if=ide,index=0,media=disk,format=qcow2", b->disk);
    refused(b, a1, 2, "raw images only");
    snprintf(d, sizeof(d), "file=%s,if=ide,index=0,media=disk", b->disk);
    const char *a2[] = { "-drive", d, "-drive", d };
    refused(b, a2, 4, "position 0 is taken");
    const char *a3[] = { "-drive", "if=ide,index=1,media=disk" };
    refused(b, a3, 2, "a disk needs file=");
    const char *a5[] = { "-drive", "file=/nonexistent/x.img,if=ide,index=1,media=disk" };
    refused(b, a5, 2, "/nonexistent/x.img: cannot open: No such file or directory");
    /* a read-only hard disk */
    snprintf(d, sizeof(d), "file=%s,if=ide,index=0,media=disk,readonly=on", b->disk);
    refused(b, a1, 2, "cannot be read-only");
    /* an empty CD-ROM drive is fine, and so is cache=none */
    const char *a4[] = { "-drive", "if=ide,index=2,media=cdrom" };
    assert_int_equal(bed_up(b, a4, 2, err, sizeof(err)), 0);
    bed_down(b);
    snprintf(d, sizeof(d), "file=%s,if=ide,index=1,media=disk,cache=none,aio=native", b->disk);
    assert_int_equal(bed_up(b, a1, 2, err, sizeof(err)), 0);
    struct ideg g = { .fx = b->fx };
    ideg_out(&g, PRI_CTL, 0);
    ideg_lba28(&g, PRI, 1, 33, 1);
    ideg_out(&g, PRI + 7, 0x20);
    assert_int_equal(ideg_wait(&g, PRI), 0x58);
    ideg_insw(&g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(g.fx->ram + G_BUF, 33, 1, 512, 0), 0);
    bed_down(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_libxl_cd_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_line_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_medium_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tray_flood, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

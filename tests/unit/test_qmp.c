/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/qmp: what libxl 4.17 sends (LIBXL-DM.md), over a real UNIX socket as libxl connects, and
 * malformed input over an in-memory connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/qmp.h"
#include "tests/lib/capture.h"
#include "tests/lib/fakexen.h"

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    struct qmp *qmp;
    char path[64], path2[64];
    int stops, conts, quits;
    struct fx_capture out;
};

static void op_stop(void *o) { ((struct bed *)o)->stops++; }
static void op_cont(void *o) { ((struct bed *)o)->conts++; }
static void op_quit(void *o) { ((struct bed *)o)->quits++; }
static const struct qmp_ops ops = { .stop = op_stop, .cont = op_cont, .quit = op_quit };

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    char err[256], ch1[160], ch2[160];
    snprintf(b->path, sizeof(b->path), "/tmp/hvmd-qmp-%d", getpid());
    snprintf(b->path2, sizeof(b->path2), "/tmp/hvmd-qmpstat-%d", getpid());
    snprintf(ch1, sizeof(ch1), "socket,id=libxl-cmd,path=%s,server=on,wait=off", b->path);
    snprintf(ch2, sizeof(ch2), "socket,id=libxenstat-cmd,path=%s,server=on,wait=off", b->path2);
    const char *argv[] = { "-xen-domid", "7", "-m", "16", "-chardev", ch1,
                           "-mon", "chardev=libxl-cmd,mode=control", "-chardev", ch2,
                           "-mon", "chardev=libxenstat-cmd,mode=control", "-serial", "pty" };
    assert_int_equal(config_parse(&b->cfg, 14, argv, err, sizeof(err)), 0);
    b->fx = fx_new(16 << 20);
    b->fx->vm.cfg = &b->cfg;
    b->qmp = qmp_new(&b->fx->vm, &b->cfg, &ops, b, err, sizeof(err));
    assert_non_null(b->qmp);
    assert_int_equal(machine_create(&b->m, &b->fx->vm, err, sizeof(err)), 0);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    struct bed *b = *state;
    qmp_free(b->qmp);
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
    free(b);
    return 0;
}

static int connect_to(const char *path)
{
    int fd = fx_unix_connect(path);
    assert_true(fd >= 0);
    return fd;
}

/* One line from the server, serving the loop meanwhile (libxl reads line by line). */
static void read_line(struct bed *b, int fd, char *line, size_t max)
{
    size_t n = 0;
    for (int tries = 0; tries < 200; tries++) {
        loop_run_once(b->fx->loop, 5);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        while (poll(&p, 1, 0) == 1 && n + 1 < max) {
            if (read(fd, line + n, 1) != 1)
                break;
            n++;
            if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n') {
                line[n - 2] = 0;
                return;
            }
        }
    }
    line[n] = 0;
    fail_msg("no complete line from the QMP server (got \"%s\")", line);
}

static void cmd(struct bed *b, int fd, const char *json, char *line, size_t max)
{
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    read_line(b, fd, line, max);
}

static void test_libxl_startup_sequence(void **state)
{
    struct bed *b = *state;
    char line[2048];
    struct stat st;
    assert_int_equal(stat(b->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(stat(b->path2, &st), 0);

    /* first connection: capabilities, query-chardev */
    int fd = connect_to(b->path);
    read_line(b, fd, line, sizeof(line));
    assert_non_null(strstr(line, "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7}"));
    assert_non_null(strstr(line, "\"capabilities\":[\"oob\"]"));
    cmd(b, fd, "{\"execute\":\"qmp_capabilities\",\"id\":2020372737}\r\n", line, sizeof(line));
    assert_string_equal(line, "{\"return\":{},\"id\":2020372737}");
    cmd(b, fd, "{\"execute\":\"query-chardev\",\"id\":2020372736}\r\n", line, sizeof(line));
    assert_non_null(strstr(line, "\"filename\":\"pty:/dev/pts/"));
    assert_non_null(strstr(line, "\"label\":\"serial0\""));
    assert_non_null(strstr(line, "\"label\":\"libxl-cmd\""));
    assert_non_null(strstr(line, "\"id\":2020372736}"));
    close(fd);

    /* second connection: capabilities, cont */
    fd = connect_to(b->path);
    read_line(b, fd, line, sizeof(line));
    cmd(b, fd, "{\"execute\":\"qmp_capabilities\",\"id\":1}", line, sizeof(line));
    cmd(b, fd, "{\"execute\":\"query-status\",\"id\":2}", line, sizeof(line));
    assert_string_equal(line, "{\"return\":{\"status\":\"running\",\"singlestep\":false,\"running\":true},\"id\":2}");
    cmd(b, fd, "{\"execute\":\"stop\",\"id\":3}", line, sizeof(line));
    assert_string_equal(line, "{\"return\":{},\"id\":3}");
    assert_int_equal(b->stops, 1);
    cmd(b, fd, "{\"execute\":\"query-status\",\"id\":4}", line, sizeof(line));
    assert_non_null(strstr(line, "\"status\":\"paused\""));
    cmd(b, fd, "{\"execute\":\"cont\",\"id\":5}", line, sizeof(line));
    assert_int_equal(b->conts, 1);
    cmd(b, fd, "{\"execute\":\"cont\",\"id\":6}", line, sizeof(line));
    assert_int_equal(b->conts, 1); /* already running */
    cmd(b, fd, "{\"execute\":\"query-vnc\",\"id\":7}", line, sizeof(line));
    assert_string_equal(line, "{\"return\":{\"enabled\":false},\"id\":7}");
    cmd(b, fd, "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info status\"},\"id\":8}",
        line, sizeof(line));
    assert_string_equal(line, "{\"return\":\"VM status: running\\r\\n\",\"id\":8}");
    cmd(b, fd, "{\"execute\":\"quit\",\"id\":9}", line, sizeof(line));
    assert_string_equal(line, "{\"return\":{},\"id\":9}");
    assert_int_equal(b->quits, 1);
    close(fd);
    /* the server notices closed connections */
    for (int i = 0; i < 5; i++)
        loop_run_once(b->fx->loop, 5);
}

static void test_protocol_errors(void **state)
{
    struct bed *b = *state;
    struct qmp_conn *c = qmp_conn_new(b->qmp, fx_capture_bytes, &b->out);
    assert_non_null(strstr(b->out.text, "\"QMP\""));
    b->out.len = 0;
    /* before capabilities negotiation */
    assert_int_equal(qmp_conn_input(c, "{\"execute\":\"query-status\"}", 26), 0);
    assert_non_null(strstr(b->out.text, "Expecting capabilities negotiation"));
    b->out.len = 0;
    /* split across reads, with string escapes and braces inside strings */
    const char *m = "{\"execute\":\"qmp_capabilities\",\"id\":\"a}\\\"{b\"}";
    assert_int_equal(qmp_conn_input(c, m, 10), 0);
    assert_int_equal(b->out.len, 0);
    assert_int_equal(qmp_conn_input(c, m + 10, strlen(m) - 10), 0);
    assert_string_equal(b->out.text, "{\"return\":{},\"id\":\"a}\\\"{b\"}\r\n");
    b->out.len = 0;
    assert_int_equal(qmp_conn_input(c, "{\"execute\":\"qmp_capabilities\"}", 30), 0);
    assert_non_null(strstr(b->out.text, "already complete"));
    b->out.len = 0;
    /* two messages in one read; an object id echoed */
    const char *two = "{\"execute\":\"query-vnc\",\"id\":{\"x\":[1,2]}} {\"execute\":\"nope\"}";
    assert_int_equal(qmp_conn_input(c, two, strlen(two)), 0);
    assert_non_null(strstr(b->out.text, "{\"return\":{\"enabled\":false},\"id\":{\"x\":[1,2]}}"));
    assert_non_null(strstr(b->out.text, "The command nope has not been found"));
    b->out.len = 0;
    /* not JSON, not an object, no execute, execute not a string, top-level junk */
    assert_int_equal(qmp_conn_input(c, "{\"execute\":}", 12), 0);
    assert_non_null(strstr(b->out.text, "JSON parse error"));
    b->out.len = 0;
    assert_int_equal(qmp_conn_input(c, "[1,2]", 5), 0);
    assert_non_null(strstr(b->out.text, "must be a JSON object"));
    b->out.len = 0;
    assert_int_equal(qmp_conn_input(c, "{\"id\":3}", 8), 0);
    assert_non_null(strstr(b->out.text, "lacks member 'execute'"));
    b->out.len = 0;
    assert_int_equal(qmp_conn_input(c, "{\"execute\":5}", 13), 0);
    assert_non_null(strstr(b->out.text, "must be a string"));
    b->out.len = 0;
    assert_int_equal(qmp_conn_input(c, "42 true ] } \"s{\" ", 17), 0);
    assert_int_equal(qmp_conn_input(c, "{\"execute\":\"query-vnc\"}", 23), 0);
    assert_string_equal(b->out.text, "{\"return\":{\"enabled\":false}}\r\n");
    /* too deep, too long: the connection is to be closed */
    char deep[100];
    memset(deep, '[', sizeof(deep));
    assert_int_equal(qmp_conn_input(c, deep, sizeof(deep)), -1);
    qmp_conn_free(c);
    c = qmp_conn_new(b->qmp, fx_capture_bytes, &b->out);
    char *big = malloc(70000);
    memset(big, ' ', 70000);
    big[0] = '{';
    big[1] = '"';
    assert_int_equal(qmp_conn_input(c, big, 70000), -1);
    free(big);
    qmp_conn_free(c);
}

static void test_bad_monitor_options(void **state)
{
    struct bed *b = *state;
    struct config cfg;
    char err[256];
    const char *a1[] = { "-xen-domid", "7", "-m", "16", "-mon", "chardev=nowhere,mode=control" };
    assert_int_equal(config_parse(&cfg, 6, a1, err, sizeof(err)), 0);
    assert_null(qmp_new(&b->fx->vm, &cfg, &ops, b, err, sizeof(err)));
    assert_non_null(strstr(err, "-mon chardev=nowhere"));
    config_free(&cfg);
    const char *a2[] = { "-xen-domid", "7", "-m", "16", "-chardev", "socket,id=m,host=1.2.3.4,port=5",
                         "-mon", "chardev=m,mode=control" };
    assert_int_equal(config_parse(&cfg, 8, a2, err, sizeof(err)), 0);
    assert_null(qmp_new(&b->fx->vm, &cfg, &ops, b, err, sizeof(err)));
    assert_non_null(strstr(err, "UNIX socket server"));
    config_free(&cfg);
    const char *a3[] = { "-xen-domid", "7", "-m", "16", "-chardev", "socket,id=m,path=/x,server=on",
                         "-mon", "chardev=m,mode=readline" };
    assert_int_equal(config_parse(&cfg, 8, a3, err, sizeof(err)), 0);
    assert_null(qmp_new(&b->fx->vm, &cfg, &ops, b, err, sizeof(err)));
    assert_non_null(strstr(err, "mode=control"));
    config_free(&cfg);
}

static void test_sockets_removed(void **state)
{
    struct bed *b = *state;
    struct stat st;
    qmp_free(b->qmp);
    b->qmp = NULL;
    assert_int_equal(stat(b->path, &st), -1);
    assert_int_equal(stat(b->path2, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_libxl_startup_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_monitor_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sockets_removed, setup, teardown),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

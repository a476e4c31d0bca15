/* dm/chardev: output to a reader that lags waits in the bounded backlog and arrives whole and
 * in order once the reader drains; beyond the backlog bytes are dropped and counted; a pty
 * whose console is not attached keeps what the guest wrote for `xl console` to read; a file
 * stops growing at its max-size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dm/chardev.h"
#include "dm/loop.h"

/* a pipe whose write end is non-blocking and as small as Linux allows (one page) */
static void small_pipe(int p[2])
{
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    assert_true(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 4096);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

/* what the pipe holds now, appended to OUT at *LEN */
static void drain(int fd, uint8_t *out, size_t cap, size_t *len)
{
    ssize_t n;
    while (*len < cap && (n = read(fd, out + *len, cap - *len)) > 0)
        *len += (size_t)n;
}

static void test_backlog_in_order(void **state)
{
    struct loop *loop = loop_new();
    int p[2];
    size_t total = 40000, got = 0;
    uint8_t *msg = malloc(total), *out = malloc(total + 1);

    (void)state;
    assert_non_null(loop);
    small_pipe(p);
    struct chardev *c = chardev_open_fds(loop, -1, p[1], "test");
    assert_non_null(c);
    for (size_t i = 0; i < total; i++)
        msg[i] = (uint8_t)(i * 7 + i / 251);

    /* the guest writes a byte at a time, as through THR, while nobody reads */
    for (size_t i = 0; i < total; i++)
        chardev_write(c, msg + i, 1);
    assert_int_equal(chardev_dropped(c), 0);
    assert_true(chardev_backlog(c) > 0);
    assert_true(chardev_backlog(c) <= CHARDEV_BACKLOG);

    /* the reader catches up: the loop flushes as the pipe takes more */
    for (int round = 0; round < 1000 && got < total; round++) {
        drain(p[0], out, total + 1, &got);
        assert_true(loop_run_once(loop, 100) >= 0);
    }
    drain(p[0], out, total + 1, &got);
    assert_int_equal(got, total);
    assert_memory_equal(out, msg, total);
    assert_int_equal(chardev_backlog(c), 0);
    assert_int_equal(chardev_dropped(c), 0);

    /* with the backlog empty the loop no longer waits for the fd: nothing is due */
    assert_int_equal(loop_run_once(loop, 0), 0);

    chardev_close(c);
    close(p[0]);
    close(p[1]);
    loop_free(loop);
    free(msg);
    free(out);
}

static void test_backlog_full_drops(void **state)
{
    struct loop *loop = loop_new();
    int p[2];
    uint8_t chunk[1024];
    size_t written = 0, got = 0, cap = 4 * CHARDEV_BACKLOG;
    uint8_t *out = malloc(cap);

    (void)state;
    small_pipe(p);
    struct chardev *c = chardev_open_fds(loop, -1, p[1], "test");
    assert_non_null(c);
    memset(chunk, 'x', sizeof(chunk));
    /* far more than the pipe and the backlog hold */
    for (int i = 0; i < 2 * CHARDEV_BACKLOG / (int)sizeof(chunk); i++) {
        chardev_write(c, chunk, sizeof(chunk));
        written += sizeof(chunk);
    }
    assert_int_equal(chardev_backlog(c), CHARDEV_BACKLOG);
    assert_true(chardev_dropped(c) > 0);
    for (int round = 0; round < 1000; round++) {
        drain(p[0], out, cap, &got);
        assert_true(loop_run_once(loop, 10) >= 0);
        if (!chardev_backlog(c))
            break;
    }
    drain(p[0], out, cap, &got);
    /* every byte is either delivered or counted as dropped */
    assert_int_equal(got + chardev_dropped(c), written);
    assert_true(got >= CHARDEV_BACKLOG);
    chardev_close(c);
    close(p[0]);
    close(p[1]);
    loop_free(loop);
    free(out);
}

/* a pty backend: what the guest writes before any console attaches is there for it */
static void test_pty_keeps_output(void **state)
{
    struct loop *loop = loop_new();
    char err[128], path[128], buf[64];
    const char *name;
    struct chardev *c = chardev_open(loop, "pty", "serial0", err, sizeof(err));
    int fd;
    ssize_t n;

    (void)state;
    assert_non_null(c);
    name = chardev_filename(c);
    assert_true(!strncmp(name, "pty:", 4));
    snprintf(path, sizeof(path), "%s", name + 4);
    chardev_write(c, "HVMD-GUEST-UP\n", 14);
    fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf));
    assert_int_equal(n, 14);
    assert_memory_equal(buf, "HVMD-GUEST-UP\n", 14);
    close(fd);
    chardev_close(c);
    loop_free(loop);
}

/* Issue 16 ("Also"): -serial file: grew without bound. It takes max-size bytes, drops and
 * counts the rest. */
static void test_file_capped(void **state)
{
    struct loop *loop = loop_new();
    char err[256], spec[300], path[200];
    uint8_t buf[600];
    struct stat st;
    (void)state;
    snprintf(path, sizeof(path), "%s/hvmd-serial-%d", stat("build", &st) == 0 ? "build" : "/tmp",
             (int)getpid());
    snprintf(spec, sizeof(spec), "file:%s,max-size=1000", path);
    struct chardev *c = chardev_open(loop, spec, "serial0", err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(chardev_filename(c) + 5, path);
    memset(buf, 'x', sizeof(buf));
    chardev_write(c, buf, 600);
    chardev_write(c, buf, 600);
    chardev_write(c, buf, 600);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1000);
    assert_int_equal(chardev_dropped(c), 800);
    chardev_close(c);
    /* K/M/G, 0 for none; bad values are refused by name */
    snprintf(spec, sizeof(spec), "file:%s,max-size=1K", path);
    c = chardev_open(loop, spec, "serial0", err, sizeof(err));
    assert_non_null(c);
    for (int i = 0; i < 4; i++)
        chardev_write(c, buf, 600);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1024);
    chardev_close(c);
    snprintf(spec, sizeof(spec), "file:%s,max-size=0", path);
    c = chardev_open(loop, spec, "serial0", err, sizeof(err));
    for (int i = 0; i < 4; i++)
        chardev_write(c, buf, 600);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 2400);
    assert_int_equal(chardev_dropped(c), 0);
    chardev_close(c);
    snprintf(spec, sizeof(spec), "file:%s,max-size=lots", path);
    assert_null(chardev_open(loop, spec, "serial0", err, sizeof(err)));
    assert_non_null(strstr(err, "max-size"));
    snprintf(spec, sizeof(spec), "file:%s,max-size=-1", path);
    assert_null(chardev_open(loop, spec, "serial0", err, sizeof(err)));
    /* the default: CHARDEV_FILE_MAX */
    snprintf(spec, sizeof(spec), "file:%s", path);
    c = chardev_open(loop, spec, "serial0", err, sizeof(err));
    uint8_t *big = calloc(1, 1 << 20);
    for (uint64_t i = 0; i < CHARDEV_FILE_MAX / (1 << 20) + 1; i++)
        chardev_write(c, big, 1 << 20);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, CHARDEV_FILE_MAX);
    assert_int_equal(chardev_dropped(c), 1 << 20);
    free(big);
    chardev_close(c);
    unlink(path);
    loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backlog_in_order),
        cmocka_unit_test(test_backlog_full_drops),
        cmocka_unit_test(test_pty_keeps_output),
        cmocka_unit_test(test_file_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

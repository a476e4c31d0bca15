/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/sandbox: in a child process (the filter cannot be taken back), what hvmd's steady state
 * does still works, and what a guest that took hvmd over would want kills it: exec, a socket,
 * connect, opening a file by path, a new process, an ioctl hvmd does not make; unlink fails
 * (the cleaner removes hvmd's sockets once it is gone, and only those). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dm/display.h"
#include "dm/sandbox.h"
#include "tests/lib/machine.h"

enum act { ACT_STEADY, ACT_EXEC, ACT_INET, ACT_OPEN, ACT_FORK, ACT_UNIX, ACT_CONNECT,
           ACT_IOCTL, ACT_UNLINK, ACT_CANCEL, ACT_SERVER };

static char scratch[96]; /* a file (ACT_UNLINK) or a listening socket (ACT_CONNECT) */

/* libxenstore's reader thread: blocked in read until xs_close cancels it */
static void *blocked_reader(void *arg)
{
    char b;
    while (read(*(int *)arg, &b, 1) != 0)
        ;
    return NULL;
}

/* the ioreq server's thread (dm/xen.c), started inside the filter: cancellable only in its
 * blocking read, each byte served under a lock the starting thread shares */
static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int served;
static void *server_thread(void *arg)
{
    int old;
    char b;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    for (;;) {
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
        ssize_t n = read(*(int *)arg, &b, 1);
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
        if (n != 1)
            continue;
        pthread_mutex_lock(&server_lock);
        served++;
        pthread_mutex_unlock(&server_lock);
    }
    return NULL;
}

/* the child's status after it entered the sandbox and did ACT */
static int run_child(enum sandbox_mode m, enum act act)
{
    pid_t pid = fork();
    int st = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        int p[2];
        int u = socket(AF_UNIX, SOCK_STREAM, 0); /* made before, as xenstore's connection */
        if (pipe(p) < 0 || u < 0)
            _exit(10);
        /* libxenstore starts its reader thread at the first watch, before the filter */
        pthread_t reader;
        if (act == ACT_CANCEL && pthread_create(&reader, NULL, blocked_reader, &p[0]) != 0)
            _exit(10);
        if (sandbox_enter(m, err, sizeof(err)) < 0)
            _exit(11);
        switch (act) {
        case ACT_STEADY: {
            char b = 'x';
            void *mem = malloc(1 << 20);
            if (!mem || write(p[1], &b, 1) != 1 || read(p[0], &b, 1) != 1)
                _exit(12);
            free(mem);
            /* every ioctl request hvmd makes passes the filter (a pipe answers ENOTTY) */
            for (unsigned i = 0; i < sandbox_ioctl_count(); i++)
                if (ioctl(p[0], sandbox_ioctl_request(i), NULL) != -1 || errno != ENOTTY)
                    _exit(13);
            if (isatty(p[0]))
                _exit(14);
            _exit(0);
        }
        case ACT_UNIX:
            socket(AF_UNIX, SOCK_STREAM, 0);
            _exit(24);
        case ACT_CONNECT: {
            struct sockaddr_un sa = { .sun_family = AF_UNIX };
            snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", scratch);
            connect(u, (struct sockaddr *)&sa, sizeof(sa));
            _exit(25);
        }
        case ACT_IOCTL: {
            int one = 1;
            ioctl(p[0], FIONBIO, &one); /* harmless, but not a request hvmd makes */
            _exit(26);
        }
        case ACT_UNLINK:
            _exit(unlink(scratch) == -1 && errno == EPERM ? 0 : 27);
        case ACT_CANCEL: {
            /* xs_close at hvmd's exit cancels the reader thread libxenstore started for the
             * PV backends' watches: glibc's pthread_cancel loads libgcc_s (openat) on first
             * use, which killed hvmd at every exit with a PV backend (seen: hvmd-pause) */
            if (pthread_cancel(reader) == 0 && pthread_join(reader, NULL) == 0)
                _exit(0);
            _exit(28);
        }
        case ACT_SERVER: {
            /* xen_attach after sandbox_enter: clone, the thread's stack and its set-up; a
             * byte served; at exit xen_stop cancels it in its read and joins it */
            pthread_t server;
            char b = 'x';
            if (pthread_create(&server, NULL, server_thread, &p[0]) != 0 || write(p[1], &b, 1) != 1)
                _exit(29);
            for (int i = 0; i < 2000; i++) {
                pthread_mutex_lock(&server_lock);
                int done = served;
                pthread_mutex_unlock(&server_lock);
                if (done)
                    break;
                struct timespec ts = { 0, 1000000 };
                nanosleep(&ts, NULL);
            }
            if (!served || pthread_cancel(server) != 0 || pthread_join(server, NULL) != 0)
                _exit(31);
            _exit(0);
        }
        case ACT_EXEC:
            execl("/bin/true", "true", (char *)NULL);
            _exit(20);
        case ACT_INET:
            socket(AF_INET, SOCK_STREAM, 0);
            _exit(21);
        case ACT_OPEN:
            open("/etc/passwd", O_RDONLY);
            _exit(22);
        case ACT_FORK:
            if (fork() == 0)
                _exit(0);
            _exit(23);
        }
        _exit(30);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static int listen_at(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path);
    assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l, 1), 0);
    return l;
}

static void test_steady_state_allowed(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_ON, ACT_STEADY);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_forbidden_kills(void **state)
{
    static const enum act acts[] = { ACT_EXEC, ACT_INET, ACT_OPEN, ACT_FORK, ACT_UNIX,
                                     ACT_CONNECT, ACT_IOCTL };
    (void)state;
    /* something to connect to: a listening socket */
    snprintf(scratch, sizeof(scratch), "/tmp/hvmd-sandbox-%d.sock", (int)getpid());
    int l = listen_at(scratch);
    for (unsigned i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
        int st = run_child(SANDBOX_ON, acts[i]);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
    }
    close(l);
    unlink(scratch);
}

/* Issue 16 item 5: in the sandbox no path can be removed (unlink fails, nothing is killed) */
static void test_unlink_refused(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/hvmd-sandbox-%d.file", (int)getpid());
    close(open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    int st = run_child(SANDBOX_ON, ACT_UNLINK);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(access(scratch, F_OK), 0); /* still there */
    unlink(scratch);
}

#ifndef __SANITIZE_ADDRESS__
static void test_thread_cancel_allowed(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_ON, ACT_CANCEL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_server_thread_allowed(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_ON, ACT_SERVER);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}
#endif

/* ... instead the cleaner removes the sockets hvmd made, once hvmd is gone, and only those:
 * not a socket someone else made at the path since. */
static void test_cleaner_removes_own_sockets(void **state)
{
    char a[96], b[96];
    (void)state;
    snprintf(a, sizeof(a), "/tmp/hvmd-sandbox-%d.a", (int)getpid());
    snprintf(b, sizeof(b), "/tmp/hvmd-sandbox-%d.b", (int)getpid());
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256], c;
        const char *paths[2] = { a, b };
        close(ready[0]);
        close(go[1]);
        listen_at(a);
        listen_at(b);
        if (sandbox_remove_at_exit(paths, 2, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            _exit(2);
        }
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(3);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(4);
        _exit(0);
    }
    char c;
    close(ready[1]);
    close(go[0]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    /* while "hvmd" runs, both are there; then someone replaces B with a socket of its own */
    assert_int_equal(access(a, F_OK), 0);
    int other = listen_at(b);
    assert_int_equal(write(go[1], "x", 1), 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    for (int i = 0; i < 200 && access(a, F_OK) == 0; i++)
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(b, F_OK), 0); /* not the socket hvmd made */
    close(other);
    unlink(b);
    close(ready[0]);
    close(go[1]);
    /* only sockets, and only so many */
    char err[256];
    const char *notsock[1] = { "/etc/hostname" };
    assert_int_equal(sandbox_remove_at_exit(notsock, 1, err, sizeof(err)), -EINVAL);
    assert_int_equal(sandbox_remove_at_exit(notsock, SANDBOX_MAX_PATHS + 1, err, sizeof(err)),
                     -E2BIG);
}

static void test_off_and_log_do_not_kill(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_OFF, ACT_INET);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 21);
    st = run_child(SANDBOX_LOG, ACT_OPEN);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 22);
}

/* Screendumps under the filter: the opener (started before) creates a new file or replaces
 * an earlier screendump, refuses any other file and symbolic links; the PNG and PPM writers
 * run in the sandbox. */
static void test_screendump_under_filter(void **state)
{
    char dir[64], png[96], ppm[96], other[96], link[96];
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hvmd-opener-%d", (int)getpid());
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(png, sizeof(png), "%s/a.png", dir);
    snprintf(ppm, sizeof(ppm), "%s/a.ppm", dir);
    snprintf(other, sizeof(other), "%s/passwd", dir);
    snprintf(link, sizeof(link), "%s/link.ppm", dir);
    FILE *f = fopen(other, "w");
    fputs("root:x:0:0\n", f);
    fclose(f);
    assert_int_equal(symlink(other, link), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const char *const extra[] = { "-device", "VGA,vgamem_mb=1" };
        struct fx_machine b;
        char err[256];
        memset(&b, 0, sizeof(b));
        if (fx_machine_up(&b, extra, 2, err, sizeof(err)) < 0)
            _exit(10);
        if (sandbox_opener_start(err, sizeof(err)) < 0 || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(11);
        struct display *d = display_of(&b.fx->vm);
        const struct display_surface *s = display_refresh(d);
        int fd = sandbox_open_output(png);
        if (fd < 0 || display_write_png(s, fd) < 0 || close(fd) < 0)
            _exit(12);
        fd = sandbox_open_output(ppm);
        if (fd < 0 || display_write_ppm(s, fd) < 0 || close(fd) < 0)
            _exit(13);
        fd = sandbox_open_output(ppm); /* an earlier screendump: replaced */
        if (fd < 0 || display_write_ppm(s, fd) < 0 || close(fd) < 0)
            _exit(14);
        if (sandbox_open_output(other) != -EEXIST)
            _exit(15);
        if (sandbox_open_output(link) >= 0)
            _exit(16);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    struct stat sb;
    assert_int_equal(stat(ppm, &sb), 0);
    assert_true(sb.st_size > 11); /* a P6 header and pixels */
    assert_int_equal(stat(png, &sb), 0);
    assert_true(sb.st_size > 50);
    assert_int_equal(stat(other, &sb), 0);
    assert_int_equal(sb.st_size, 11); /* untouched */
    unlink(png);
    unlink(ppm);
    unlink(link);
    unlink(other);
    rmdir(dir);
}

static void test_mode_names(void **state)
{
    (void)state;
    assert_int_equal(sandbox_mode_parse("on"), SANDBOX_ON);
    assert_int_equal(sandbox_mode_parse("off"), SANDBOX_OFF);
    assert_int_equal(sandbox_mode_parse("log"), SANDBOX_LOG);
    assert_int_equal(sandbox_mode_parse("on,obsolete=deny"), SANDBOX_ON);
    assert_int_equal(sandbox_mode_parse("yes"), -1);
    assert_int_equal(sandbox_mode_parse(""), -1);
    assert_true(sandbox_allowed_count() > 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_steady_state_allowed),
        cmocka_unit_test(test_forbidden_kills),
        cmocka_unit_test(test_off_and_log_do_not_kill),
        cmocka_unit_test(test_unlink_refused),
#ifndef __SANITIZE_ADDRESS__
        /* (not under ASan: its own thread teardown opens /proc/self/maps, and it links
         * libgcc_s from the start; hvmd is never run under ASan) */
        cmocka_unit_test(test_thread_cancel_allowed),
        cmocka_unit_test(test_server_thread_allowed),
#endif
        cmocka_unit_test(test_cleaner_removes_own_sockets),
        cmocka_unit_test(test_screendump_under_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* dm/sandbox: in a child process (the filter cannot be taken back), what hvmd's steady state
 * does still works, and what a guest that took hvmd over would want kills it: exec, a network
 * socket, opening a file by path, a new process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dm/sandbox.h"

enum act { ACT_STEADY, ACT_EXEC, ACT_INET, ACT_OPEN, ACT_FORK };

/* the child's status after it entered the sandbox and did ACT */
static int run_child(enum sandbox_mode m, enum act act)
{
    pid_t pid = fork();
    int st = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        int p[2];
        if (pipe(p) < 0)
            _exit(10);
        if (sandbox_enter(m, err, sizeof(err)) < 0)
            _exit(11);
        switch (act) {
        case ACT_STEADY: {
            char b = 'x';
            void *mem = malloc(1 << 20);
            int u = socket(AF_UNIX, SOCK_STREAM, 0);
            if (!mem || u < 0 || write(p[1], &b, 1) != 1 || read(p[0], &b, 1) != 1)
                _exit(12);
            free(mem);
            close(u);
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

static void test_steady_state_allowed(void **state)
{
    (void)state;
    int st = run_child(SANDBOX_ON, ACT_STEADY);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_forbidden_kills(void **state)
{
    static const enum act acts[] = { ACT_EXEC, ACT_INET, ACT_OPEN, ACT_FORK };
    (void)state;
    for (unsigned i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
        int st = run_child(SANDBOX_ON, acts[i]);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSYS);
    }
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* QMP under hvmd's own seccomp filter: every input of fuzz_qmp's seed corpus (and its
 * regression inputs), replayed as fuzz_qmp reads them, through one machine with libxl's CD-ROM
 * and a disk, in a child process that entered the filter after the set-up (as hvmd enters it
 * once its images, sockets and Xen handles are open). A system call outside the allow-list
 * kills the child with SIGSYS and fails the test, instead of a guest in production.
 *
 * Why not the fuzzer itself under the filter: libFuzzer and the sanitizers make calls hvmd's
 * list refuses, as strace of fuzz_qmp shows: openat and getdents64 (new corpus units written
 * and the corpus directory re-read), getrusage (the -rss_limit_mb thread, every second), at
 * exit LeakSanitizer's clone without CLONE_THREAD, ptrace, prctl(PR_SET_PTRACER) and wait4,
 * on a crash openat for the artifact and fork + execve of llvm-symbolizer; and each input's
 * fresh machine needs epoll_create1 and openat, which hvmd makes before its filter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include "dm/config.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/pci.h"
#include "dm/qmp.h"
#include "dm/sandbox.h"
#include "tests/lib/ide_guest.h"
#include "tests/lib/corpus.h"

#define MAX_INPUTS 512

static void discard(void *opaque, const char *data, size_t n)
{
    size_t *total = opaque;
    *total += n;
}

static void nop(void *opaque) { (void)opaque; }
static const struct qmp_ops ops = { .stop = nop, .cont = nop, .quit = nop };

static void test_qmp_corpus_sandboxed(void **state)
{
    static struct fx_input in[MAX_INPUTS];
    unsigned n = fx_corpus_read("tests/fuzz/seeds/fuzz_qmp", in, 0, MAX_INPUTS);
    n = fx_corpus_read("tests/fuzz/regress/fuzz_qmp", in, n, MAX_INPUTS);
    assert_true(n >= 10);

    char dir[200], iso[256], disk[256], d1[400], d2[400], err[300];
    ideg_tmpdir(dir, sizeof(dir));
    snprintf(iso, sizeof(iso), "%s/cd.iso", dir);
    snprintf(disk, sizeof(disk), "%s/disk.img", dir);
    ideg_make_image(iso, 64, 2048, 1);
    ideg_make_image(disk, 2048, 512, 0);
    snprintf(d1, sizeof(d1), "file=%s,if=ide,index=0,media=disk,format=raw,cache=writeback", disk);
    snprintf(d2, sizeof(d2), "if=none,readonly=on,id=ide-5632,file=%s,format=raw", iso);
    const char *argv[] = { "-xen-domid", "1", "-m", "1", "-drive", d1, "-drive", d2, "-device",
                           "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0" };
    int st = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct config cfg;
        struct machine m;
        size_t out = 0;
        log_set_level(LOG_ERR);
        if (config_parse(&cfg, (int)ARRAY_SIZE(argv), argv, err, sizeof(err)) < 0)
            _exit(2);
        struct fakexen *fx = fx_new(1 << 20);
        fx->max_vcpus = 4;
        fx->vm.cfg = &cfg;
        struct qmp *q = qmp_new(&fx->vm, NULL, &ops, NULL, err, sizeof(err));
        if (!q)
            _exit(3);
        fx->vm.qmp = q;
        if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
            _exit(4);
        /* hvmloader's PM base, so an input's S3 request reaches the PIIX4 */
        fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x40, 4, 0xb001);
        fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x80, 1, 1);
        int cdfd = open(iso, O_RDONLY | O_CLOEXEC);
        if (cdfd < 0 || sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(5);
        for (unsigned i = 0; i < n; i++) {
            const uint8_t *data = in[i].data;
            if (data[0] & 0x80) {
                fx_out(fx, 0xb004, 2, 0x2000 | 1 << 10 | 1);
                loop_run_once(fx->loop, 0);
            }
            struct qmp_conn *c = qmp_conn_new(q, discard, &out);
            if (!c)
                _exit(6);
            if (data[0] & 0x40)
                qmp_conn_pass_fd(c, fcntl(cdfd, F_DUPFD_CLOEXEC, 0));
            size_t step = (size_t)data[0] % 64 + 1, left = in[i].size - 1;
            const char *p = (const char *)data + 1;
            while (left) {
                size_t k = left < step ? left : step;
                if (qmp_conn_input(c, p, k) < 0)
                    break;
                p += k;
                left -= k;
            }
            qmp_conn_free(c);
            loop_run_once(fx->loop, 0);
        }
        fprintf(stderr, "%u inputs, %zu bytes of answers, under the filter\n", n, out);
        fflush(NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    unlink(iso);
    unlink(disk);
    rmdir(dir);
    for (unsigned i = 0; i < n; i++)
        free(in[i].data);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: QMP made a system call outside hvmd's allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed replay failed (status %#x)", st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qmp_corpus_sandboxed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

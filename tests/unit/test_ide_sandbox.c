/* SPDX-License-Identifier: GPL-2.0-only */
/* The IDE controller, its drives and the block layer under hvmd's own seccomp filter: every
 * seed and regression input of fuzz_ata and fuzz_atapi, interpreted as those targets do
 * (tests/fuzz/ide_fuzz.h: the task file, data port, bus master and PRD tables, config cycles,
 * loop turns, and the host's events: I/O errors injected into reads, writes and flushes, bus
 * mastering toggled, the disks unplugged mid-transfer), each on its own PIIX3 IDE function
 * set up before the filter (as hvmd opens its media before it), then all run in a child that
 * entered the filter. A system call outside the allow-list kills the child with SIGSYS and
 * fails the test. (libFuzzer itself cannot run under the filter: test_qmp_sandbox.c says why.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "dm/sandbox.h"
#include "tests/fuzz/ide_fuzz.h"
#include "tests/lib/corpus.h"

#define MAX_INPUTS 64

/* fuzz_ata's drives: two disks on the primary channel (its first byte picks the cache mode) */
static void ata_media(struct fakexen *fx, struct ide_drive_conf conf[4], uint8_t sel)
{
    int direct = (sel & 15) == 15;
    conf[0].kind = IDE_DISK;
    conf[0].id = "ide-768";
    conf[0].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0,
                         direct ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK, direct);
    conf[1].kind = IDE_DISK;
    conf[1].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0, BLK_CACHE_WRITEBACK, 0);
}

/* fuzz_atapi's: a disk, a CD-ROM with a medium and an empty one */
static void atapi_media(struct fakexen *fx, struct ide_drive_conf conf[4], uint8_t sel)
{
    conf[0].kind = IDE_DISK;
    conf[0].blk = fz_blk(fx, fz_image("disk", 1 << 20, 0), 0, BLK_CACHE_WRITEBACK, 0);
    conf[2].kind = IDE_CD;
    conf[2].id = "cd0";
    conf[2].blk = fz_blk(fx, fz_image("iso", 2 << 20, 1), 1, BLK_CACHE_WRITEBACK, 0);
    conf[3].kind = IDE_CD;
    conf[3].id = "cd1";
}

static void test_ide_corpus_sandboxed(void **state)
{
    static struct fx_input in[MAX_INPUTS];
    static struct fz *f[MAX_INPUTS];
    unsigned n_ata = fx_corpus_read("tests/fuzz/seeds/fuzz_ata", in, 0, MAX_INPUTS);
    n_ata = fx_corpus_read("tests/fuzz/regress/fuzz_ata", in, n_ata, MAX_INPUTS);
    unsigned n = fx_corpus_read("tests/fuzz/seeds/fuzz_atapi", in, n_ata, MAX_INPUTS);
    n = fx_corpus_read("tests/fuzz/regress/fuzz_atapi", in, n, MAX_INPUTS);
    assert_true(n_ata >= 5 && n - n_ata >= 5);
    int st = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        fz_quiet();
        for (unsigned i = 0; i < n; i++)
            f[i] = fz_new(i < n_ata ? ata_media : atapi_media, in[i].data, in[i].size);
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(2);
        for (unsigned i = 0; i < n; i++)
            while (fz_step(f[i], NULL))
                ;
        fprintf(stderr, "%u fuzz_ata and %u fuzz_atapi inputs under the filter\n", n_ata,
                n - n_ata);
        fflush(NULL);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    for (unsigned i = 0; i < n; i++)
        free(in[i].data);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: the IDE or block layer made a system call outside hvmd's "
                 "allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed replay failed (status %#x)", st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ide_corpus_sandboxed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

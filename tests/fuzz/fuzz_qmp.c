/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the QMP reader: message framing (strings, escapes, nesting, limits),
 * JSON parsing through yajl, command dispatch, argument checking and reply generation, with
 * the machine behind it (every command of dm/QMP.md: vCPU hot-plug into the PIIX4's CPU map,
 * S3 wake-up and the machine reset, human-monitor-command's xp through guest memory). The
 * input is cut into reads at the positions named by its first byte (bits 0-5), so messages
 * also arrive split; bit 7 of that byte puts the guest into S3 first (its PM1a_CNT write), so
 * that system_wakeup finds a suspended guest. The machine has libxl's CD-ROM (ide-5632, on a
 * memfd image) and a disk, so the block commands reach the drives: query-block, eject,
 * blockdev-change-medium (from /dev/fdset/N, or a path: the tray moves, the guest would see
 * it), add-fd / remove-fd / query-fdsets; bit 6 of the first byte passes a descriptor of an
 * image with the first message, as xl cd-insert does with add-fd. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/pci.h"
#include "dm/qmp.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

static void discard(void *opaque, const char *data, size_t n)
{
    size_t *total = opaque;
    *total += n;
}

static void nop(void *opaque) { (void)opaque; }
static const struct qmp_ops ops = { .stop = nop, .cont = nop, .quit = nop };

/* A 64-sector CD image in a memfd, made once: its descriptor. */
static int cd_image(void)
{
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create("fuzz-cd", 0);
        if (fd < 0 || ftruncate(fd, 64 * 2048) < 0)
            abort();
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    size_t out = 0;
    static char cd[200], disk[200];
    if (!cd[0]) {
        snprintf(cd, sizeof(cd), "if=none,readonly=on,id=ide-5632,file=/proc/self/fd/%d,format=raw",
                 cd_image());
        int dfd = memfd_create("fuzz-disk", 0);
        if (dfd < 0 || ftruncate(dfd, 1 << 20) < 0)
            abort();
        snprintf(disk, sizeof(disk), "file=/proc/self/fd/%d,if=ide,index=0,media=disk,"
                 "format=raw,cache=unsafe", dfd);
    }
    const char *const argv[] = { "-xen-domid", "1", "-m", "1", "-drive", disk, "-drive", cd,
                                 "-device", "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0" };
    struct config cfg;

    log_set_sink(fuzz_quiet, NULL);
    if (size < 1)
        return 0;
    if (config_parse(&cfg, (int)(sizeof(argv) / sizeof(argv[0])), argv, err, sizeof(err)) < 0)
        abort();
    struct fakexen *fx = fx_new(1 << 20);
    if (!fx) {
        config_free(&cfg);
        return 0;
    }
    fx->vm.cfg = &cfg;
    struct machine m;
    int m_up = 0;
    fx->max_vcpus = 4;
    struct qmp *q = qmp_new(&fx->vm, NULL, &ops, NULL, err, sizeof(err));
    if (!q)
        goto out;
    fx->vm.qmp = q;
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        goto out_q;
    m_up = 1;
    if (data[0] & 0x80) { /* hvmloader's PM base, then the guest's S3 request */
        fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x40, 4, 0xb001);
        fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x80, 1, 1);
        fx_out(fx, 0xb004, 2, 0x2000 | 1 << 10 | 1);
        loop_run_once(fx->loop, 0);
    }
    struct qmp_conn *c = qmp_conn_new(q, discard, &out);
    if (!c)
        goto out_q;
    if (data[0] & 0x40) /* a descriptor with the first message (add-fd) */
        qmp_conn_pass_fd(c, fcntl(cd_image(), F_DUPFD_CLOEXEC, 0));
    size_t step = (size_t)data[0] % 64 + 1;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    while (n) {
        size_t k = n < step ? n : step;
        if (qmp_conn_input(c, p, k) < 0)
            break;
        p += k;
        n -= k;
    }
    qmp_conn_free(c);
out_q:
    if (m_up)
        machine_destroy(&m);
    qmp_free(q);
    fx->vm.qmp = NULL;
out:
    fx_free(fx);
    config_free(&cfg);
    return 0;
}

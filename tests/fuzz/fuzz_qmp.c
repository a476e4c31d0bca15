/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the QMP reader: message framing (strings, escapes, nesting, limits),
 * JSON parsing through yajl, command dispatch, argument checking and reply generation, with
 * the machine behind it (every command of dm/QMP.md: vCPU hot-plug into the PIIX4's CPU map,
 * S3 wake-up and the machine reset, human-monitor-command's xp through guest memory). The
 * input is cut into reads at the positions named by its first byte (bits 0-5), so messages
 * also arrive split; bit 7 of that byte puts the guest into S3 first (its PM1a_CNT write), so
 * that system_wakeup finds a suspended guest. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/pci.h"
#include "dm/qmp.h"
#include "tests/lib/fakexen.h"

static void quiet(void *opaque, enum log_level level, const char *line)
{
    (void)opaque;
    (void)level;
    (void)line;
}

static void discard(void *opaque, const char *data, size_t n)
{
    size_t *total = opaque;
    *total += n;
}

static void nop(void *opaque) { (void)opaque; }
static const struct qmp_ops ops = { .stop = nop, .cont = nop, .quit = nop };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    size_t out = 0;

    log_set_sink(quiet, NULL);
    if (size < 1)
        return 0;
    struct fakexen *fx = fx_new(1 << 20);
    if (!fx)
        return 0;
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
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the QMP reader: message framing (strings, escapes, nesting, limits),
 * JSON parsing through yajl, command dispatch and reply generation. The input is cut into
 * reads at the positions named by its first byte, so messages also arrive split. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dm/log.h"
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
    struct qmp *q = qmp_new(&fx->vm, NULL, &ops, NULL, err, sizeof(err));
    if (!q)
        goto out;
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
    qmp_free(q);
out:
    fx_free(fx);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the xencons ring of pvdrivers/console.c: a channel (console 1) whose
 * frontend writes output and scribbles the ring's four indexes, notifies, flips its state and
 * reconnects, while dom0 types into the pty. Output never leaves the ring's bounds, a bad index
 * closes the device, and nothing stays mapped or bound (pv_fuzz.h's helpers). */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/io/console.h>
#include "dm/loop.h"
#include "tests/fuzz/pv_fuzz.h"

extern const struct device pv_console;

#define CBE "/local/domain/0/backend/console/1/1"
#define CFE "/local/domain/1/device/console/1"

static void add_console(struct fakepv *fp)
{
    static const char *const fe_extra[] = { "type", "ioemu", "output", "pty", NULL };
    fx_pv_add_device(fp, CBE, CFE, fe_extra, NULL);
}

static void connect(struct fakepv *fp, int *ref, int *port)
{
    memset(fx_pv_page(fp, 0), 0, PVHOST_PAGE);
    *ref = fx_pv_grant(fp, 0, 1);
    *port = fx_pv_alloc_port(fp);
    fx_pv_writef(fp, CFE "/ring-ref", "%d", *ref);
    fx_pv_writef(fp, CFE "/port", "%d", *port);
    fx_pv_write(fp, CFE "/state", "3");
    fx_pv_run(fp, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pvf f = { data, size };
    int ref = -1, port = -1, tty = -1;
    char val[64];
    void *dev = NULL;

    log_set_sink(pvf_quiet, NULL);
    struct fakexen *fx = fx_new(1 << 20);
    struct fakepv *fp = fx_pv_new(1);
    if (!fx || !fp)
        abort();
    fx->vm.pv = &fp->pv;
    add_console(fp);
    if (pv_console.create(&fx->vm, &dev) < 0 || !dev)
        abort();
    const char *path = fx_pv_read(fp, CFE "/tty");
    if (path && *path)
        tty = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    connect(fp, &ref, &port);
    struct xencons_interface *r = (struct xencons_interface *)fx_pv_page(fp, 0);
    for (unsigned ops = 0; f.left && ops < 300; ops++) {
        switch (pvf_byte(&f) % 9) {
        case 0: { /* output: bytes into the out ring as a frontend would */
            unsigned n = pvf_byte(&f) % 64;
            uint32_t prod = r->out_prod;
            for (unsigned i = 0; i < n; i++)
                r->out[MASK_XENCONS_IDX(prod + i, r->out)] = (char)pvf_byte(&f);
            r->out_prod = prod + n;
            fx_pv_notify(fp, port);
            break;
        }
        case 1: { /* an index scribbled */
            uint32_t v = pvf_u32(&f);
            switch (pvf_byte(&f) % 4) {
            case 0: r->in_cons = v; break;
            case 1: r->in_prod = v; break;
            case 2: r->out_cons = v; break;
            default: r->out_prod = v; break;
            }
            break;
        }
        case 2:
            fx_pv_notify(fp, port);
            /* fall through */
        case 3:
            fx_pv_run(fp, 1 + pvf_byte(&f) % 8);
            break;
        case 4: /* dom0 types */
            if (tty >= 0) {
                uint8_t b[16];
                unsigned n = pvf_byte(&f) % sizeof(b);
                for (unsigned i = 0; i < n; i++)
                    b[i] = (uint8_t)pvf_byte(&f);
                if (write(tty, b, n) < 0) {
                    /* a full pty: fine */
                }
            }
            loop_run_once(fx->loop, 0);
            break;
        case 5: /* the frontend reads its input */
            r->in_cons = r->in_prod;
            fx_pv_notify(fp, port);
            break;
        case 6: /* a state, or another node, from the hostile table or raw */
            pvf_value(&f, val, sizeof(val), ref, port);
            fx_pv_write(fp, pvf_byte(&f) & 1 ? CFE "/state" : CFE "/port", val);
            break;
        case 7:
            connect(fp, &ref, &port);
            break;
        default:
            if (pvf_byte(&f) & 1)
                fx_pv_revoke(fp, ref);
            else
                fx_pv_write(fp, CBE "/online", "0");
            break;
        }
    }
    fx_pv_run(fp, 0);
    pv_console.destroy(dev);
    if (tty >= 0)
        close(tty);
    if (fp->maps_live || fp->binds_live)
        abort();
    fx_pv_free(fp);
    fx_free(fx);
    return 0;
}

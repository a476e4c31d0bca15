/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the PV backend fuzz targets: a hostile frontend (and toolstack) played from the
 * input's bytes against pvdrivers/ on the fake PV host. The input is a program: each
 * operation is one byte (what) and a few bytes of arguments; values written to xenstore are
 * taken from a table of hostile strings or straight from the input. At the end the device is
 * destroyed and nothing may be left mapped or bound. */
#ifndef HVMD_TESTS_PV_FUZZ_H
#define HVMD_TESTS_PV_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dm/device.h"
#include "dm/input.h"
#include "dm/log.h"
#include "tests/lib/fakepv.h"
#include "tests/lib/fakexen.h"

extern const struct device pv_vkbd;

#define PVF_BE "/local/domain/0/backend/vkbd/1/0"
#define PVF_FE "/local/domain/1/device/vkbd/0"

struct pvf {
    const uint8_t *p;
    size_t left;
};

static inline unsigned pvf_byte(struct pvf *f)
{
    if (!f->left)
        return 0;
    f->left--;
    return *f->p++;
}

static inline uint32_t pvf_u32(struct pvf *f)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)pvf_byte(f) << (8 * i);
    return v;
}

static void pvf_quiet(void *opaque, enum log_level level, const char *line)
{
    (void)opaque;
    (void)level;
    (void)line;
}

static const char *const pvf_values[] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "", "-1", "4x", " 4", "+4", "0x10",
    "4294967295", "4294967296", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999999", "1\n", "abc", "/local/domain/1", "..", "3 ", "00003",
};

static const char *const pvf_fe_nodes[] = {
    "state", "event-channel", "page-gref", "page-ref", "request-abs-pointer", "",
};
static const char *const pvf_be_nodes[] = {
    "state", "online", "frontend", "frontend-id", "width", "height", "",
};

/* a value: from the table, a number of the frontend's own (a granted ref, an allocated port),
 * or up to 24 raw bytes of the input */
static void pvf_value(struct pvf *f, char *buf, size_t len, int ref, int port)
{
    unsigned k = pvf_byte(f);
    if (k < 160) {
        snprintf(buf, len, "%s", pvf_values[k % (sizeof(pvf_values) / sizeof(pvf_values[0]))]);
    } else if (k < 200) {
        snprintf(buf, len, "%d", k & 1 ? ref : port);
    } else {
        size_t n = MIN((size_t)(k - 200) % 25, len - 1);
        size_t i;
        for (i = 0; i < n && f->left; i++) {
            char c = (char)pvf_byte(f);
            buf[i] = c ? c : '0';
        }
        buf[i] = 0;
    }
}

static void pvf_toolstack_add(struct fakepv *fp)
{
    fx_pv_add_device(fp, PVF_BE, PVF_FE, NULL, NULL);
}

/* A well-behaved connect (xen-kbdfront's probe), so that ring operations have a ring. */
static void pvf_connect(struct fakepv *fp, int *ref, int *port)
{
    memset(fx_pv_page(fp, 0), 0, PVHOST_PAGE);
    *ref = fx_pv_grant(fp, 0, 1);
    *port = fx_pv_alloc_port(fp);
    fx_pv_writef(fp, PVF_FE "/page-gref", "%d", *ref);
    fx_pv_writef(fp, PVF_FE "/event-channel", "%d", *port);
    fx_pv_write(fp, PVF_FE "/request-abs-pointer", "1");
    fx_pv_write(fp, PVF_FE "/state", "3");
    fx_pv_run(fp, 0);
}

/* Run the program in DATA. RING_FOCUS: start connected and weigh ring operations. */
static int pvf_run(const uint8_t *data, size_t size, int ring_focus)
{
    struct pvf f = { data, size };
    char path[160], val[64];
    int ref = -1, port = -1;
    void *dev = NULL;

    log_set_sink(pvf_quiet, NULL);
    struct fakexen *fx = fx_new(1 << 20);
    struct fakepv *fp = fx_pv_new(1);
    if (!fx || !fp)
        abort();
    fx->vm.pv = &fp->pv;
    if (pv_vkbd.create(&fx->vm, &dev) < 0 || !dev)
        abort();
    pvf_toolstack_add(fp);
    fx_pv_run(fp, 0);
    if (ring_focus)
        pvf_connect(fp, &ref, &port);
    for (unsigned ops = 0; f.left && ops < 400; ops++) {
        unsigned op = pvf_byte(&f) % (ring_focus ? 14 : 12);
        switch (op) {
        case 0: /* the frontend writes one of its nodes */
        case 1:
            snprintf(path, sizeof(path), PVF_FE "/%s",
                     pvf_fe_nodes[pvf_byte(&f) % (sizeof(pvf_fe_nodes) / sizeof(pvf_fe_nodes[0]))]);
            pvf_value(&f, val, sizeof(val), ref, port);
            fx_pv_write(fp, path, val);
            break;
        case 2: /* the toolstack writes one of the backend's */
            snprintf(path, sizeof(path), PVF_BE "/%s",
                     pvf_be_nodes[pvf_byte(&f) % (sizeof(pvf_be_nodes) / sizeof(pvf_be_nodes[0]))]);
            pvf_value(&f, val, sizeof(val), ref, port);
            fx_pv_write(fp, path, val);
            break;
        case 3: /* grant, or revoke */
            if (pvf_byte(&f) & 1)
                ref = fx_pv_grant(fp, pvf_byte(&f) % FXPV_PAGES, pvf_byte(&f) & 1);
            else
                fx_pv_revoke(fp, ref);
            break;
        case 4:
            port = fx_pv_alloc_port(fp);
            break;
        case 5: /* deliver some of what is queued */
            fx_pv_run(fp, 1 + pvf_byte(&f) % 8);
            break;
        case 6:
            input_key(&fx->vm, pvf_byte(&f) | (pvf_byte(&f) & 1) << 8, pvf_byte(&f) & 1);
            break;
        case 7:
            input_abs(&fx->vm, pvf_u32(&f) & 0xffff, pvf_u32(&f) & 0xffff,
                      (int)(int8_t)pvf_byte(&f), pvf_byte(&f) & 7);
            break;
        case 8: /* directories go away, or come back */
            switch (pvf_byte(&f) % 4) {
            case 0: fx_pv_write(fp, PVF_FE, NULL); break;
            case 1: fx_pv_write(fp, PVF_BE, NULL); break;
            case 2: pvf_toolstack_add(fp); break;
            default: fx_pv_write(fp, "/local/domain/0/backend/vkbd/1", NULL); break;
            }
            break;
        case 9:
            fx_pv_notify(fp, port);
            break;
        case 10: /* a sensible frontend, for a while */
            pvf_connect(fp, &ref, &port);
            break;
        case 11: /* the toolstack's removal */
            fx_pv_write(fp, PVF_BE "/online", "0");
            fx_pv_write(fp, PVF_BE "/state", "5");
            break;
        default: { /* the frontend scribbles on its shared page */
            uint32_t v = pvf_u32(&f);
            unsigned off = pvf_byte(&f) % 4 * 4;
            unsigned page = pvf_byte(&f) % FXPV_PAGES;
            memcpy(fx_pv_page(fp, page) + off, &v, 4);
            break;
        }
        }
    }
    fx_pv_run(fp, 0);
    pv_vkbd.destroy(dev);
    /* host invariants: nothing of the frontend's left mapped or bound */
    if (fp->maps_live || fp->binds_live)
        abort();
    fx_pv_free(fp);
    fx_free(fx);
    return 0;
}

#endif

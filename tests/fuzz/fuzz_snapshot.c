/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the device-state loader: arbitrary bytes as a stream for machine_load
 * into a fresh machine (every device of the table). A stream is as hostile as a guest: the load
 * must refuse or succeed without a crash, a leak or undefined behaviour; a stream it accepts
 * must leave devices that serve the guest (a fixed round of guest accesses) and that save
 * again into a stream a second fresh machine accepts too.
 * Seeds (tests/fuzz/seeds/fuzz_snapshot) are real saves of the same configuration, written by
 * HVMD_WRITE_SEEDS=DIR build/unit/test_snapshot. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

/* the configuration of tests/unit/test_snapshot.c, which writes the seeds */
static const char *const argv[] = { "-xen-domid", "1", "-m", "16", "-serial", "null",
                                    "-serial", "none", "-serial", "null", "-smp", "2" };


struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
};

static int bed_up(struct bed *b)
{
    char err[256];
    memset(b, 0, sizeof(*b));
    if (config_parse(&b->cfg, (int)(sizeof(argv) / sizeof(argv[0])), argv, err, sizeof(err)) < 0)
        abort(); /* a host bug: the fixed command line */
    b->fx = fx_new(2 << 20);
    if (!b->fx)
        abort();
    b->fx->vm.cfg = &b->cfg;
    if (machine_create(&b->m, &b->fx->vm, err, sizeof(err)) < 0)
        abort();
    return 0;
}

static void bed_down(struct bed *b)
{
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
}

/* What a guest does after a restore: poll every device once. */
static void guest_round(struct fakexen *fx)
{
    static const uint16_t ports[] = { 0xcf9, 0x3f8, 0x3f9, 0x3fa, 0x3fd, 0x3fe, 0x3e8, 0x3ea,
                                      0x3ed, 0x60, 0x64, 0x60, 0x511, 0x511, 0x10, 0x12, 0xafe0 };
    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        fx_in(fx, ports[i], 1);
    for (unsigned devfn = 0; devfn < 32; devfn++)
        fx_cfg_read(fx, (uint8_t)devfn, 0x10, 4);
    fx_out(fx, 0x3f8, 1, 'z');
    fx_out(fx, 0x60, 1, 0xf2);
    fx_in(fx, 0x60, 1);
    uint32_t bar = fx_cfg_read(fx, 24, 0x10, 4) & ~3u; /* the platform device's I/O BAR */
    if (bar && bar < 0xff00)
        fx_in(fx, (uint16_t)bar, 1);
    fx_out(fx, 0x514, 4, 0);
    fx_out(fx, 0x514, 4, 0); /* a DMA at whatever the high half says */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bed a;
    struct snap_reader r;

    log_set_sink(fuzz_quiet, NULL);
    bed_up(&a);
    snap_reader_init(&r, data, size);
    if (machine_load(&a.m, &r) == 0) {
        guest_round(a.fx);
        struct snap_writer w;
        struct bed b;
        snap_writer_init(&w);
        if (machine_save(&a.m, &w) != 0)
            abort(); /* a loaded machine must save */
        bed_up(&b);
        snap_reader_init(&r, w.buf, w.len);
        if (machine_load(&b.m, &r) != 0)
            abort(); /* and what it saves must load */
        bed_down(&b);
        snap_writer_free(&w);
    } else if (!snap_error(&r)[0]) {
        abort(); /* a refusal always says why */
    }
    bed_down(&a);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* What the libFuzzer targets share: a silent log, the input as a stream of fields, draining a
 * socket the device writes to, and a machine saved and loaded back (its own stream must load;
 * one with a byte flipped must be refused or loaded, never crash). */
#ifndef HVMD_TESTS_FUZZ_UTIL_H
#define HVMD_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/config.h"
#include "dm/snapshot.h"
#include "tests/lib/fakexen.h"

#define FUZZ_UNUSED __attribute__((unused))

/* a log sink that drops every line (a target's runs would flood its output) */
static FUZZ_UNUSED void fuzz_quiet(void *opaque, enum log_level level, const char *line)
{
    (void)opaque;
    (void)level;
    (void)line;
}

/* A run's machine: the log silenced (its debug lines still formatted, as in hvmd), hvmd's
 * command line ARGV parsed into CFG, an in-process hypervisor with RAM bytes of guest memory
 * using it. NULL (nothing left to free) when either fails. */
static FUZZ_UNUSED struct fakexen *fuzz_fx(const char *const *argv, int argc, uint32_t ram,
                                           struct config *cfg)
{
    char err[256];
    log_set_sink(fuzz_quiet, NULL);
    log_set_level(LOG_DEBUG);
    if (config_parse(cfg, argc, argv, err, sizeof(err)) < 0)
        return NULL;
    struct fakexen *fx = fx_new(ram);
    if (!fx) {
        config_free(cfg);
        return NULL;
    }
    fx->vm.cfg = cfg;
    return fx;
}

/* the input, consumed from the front */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

/* LEN bytes of the input into OUT: 1, or 0 (nothing taken) when fewer are left */
static FUZZ_UNUSED int fuzz_take(struct fuzz_in *in, void *out, size_t len)
{
    if (in->n < len)
        return 0;
    memcpy(out, in->p, len);
    in->p += len;
    in->n -= len;
    return 1;
}

/* everything waiting on FD (bounded) */
static FUZZ_UNUSED void fuzz_drain(int fd)
{
    static uint8_t buf[65536];
    for (int i = 0; i < 4096 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
        ;
}

/* M saved and loaded back (its own stream must load: abort otherwise); with FLIP, once more
 * with the byte at FLIP_AT (scaled into the stream) XORed with FLIP, which may be refused */
static FUZZ_UNUSED void fuzz_save_load(struct machine *m, unsigned flip_at, uint8_t flip)
{
    struct snap_writer w;
    struct snap_reader r;
    snap_writer_init(&w);
    if (machine_save(m, &w) == 0) {
        snap_reader_init(&r, w.buf, w.len);
        if (machine_load(m, &r) < 0)
            abort();
        if (flip && w.len) {
            w.buf[(size_t)flip_at * 131 % w.len] ^= flip;
            snap_reader_init(&r, w.buf, w.len);
            (void)machine_load(m, &r);
        }
    }
    snap_writer_free(&w);
}

#endif

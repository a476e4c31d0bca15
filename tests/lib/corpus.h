/* SPDX-License-Identifier: GPL-2.0-only */
/* A fuzz target's inputs (seeds, regression inputs) read back by a unit test, which replays
 * them where libFuzzer cannot run (under hvmd's seccomp filter). */
#ifndef HVMD_TESTS_LIB_CORPUS_H
#define HVMD_TESTS_LIB_CORPUS_H

#include <stddef.h>
#include <stdint.h>

struct fx_input {
    uint8_t *data; /* malloc'd: free() each */
    size_t size;
};

/* The regular, non-empty files of DIR (at most 1 MiB each) into IN[N..MAX): the new count. A
 * missing DIR adds nothing; a file that cannot be read aborts the test. */
unsigned fx_corpus_read(const char *dir, struct fx_input *in, unsigned n, unsigned max);

#endif

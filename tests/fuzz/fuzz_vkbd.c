/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the kbdif ring of pvdrivers/vkbd.c: a connected frontend that scribbles
 * its page's indexes (in_cons ahead of, behind or far from our producer, in_prod rewritten)
 * between keys and pointer events, and reconnects, revokes and closes along the way
 * (pv_fuzz.h). Events land only inside the ring; nothing stays mapped or bound. */
#include "tests/fuzz/pv_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pvf_run(data, size, 1);
}

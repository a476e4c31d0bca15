/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the XenBus backend core (pvdrivers/xenbus.c) with the PV keyboard as
 * its type: hostile xenstore values in the frontend's nodes (states, ports, grant references
 * that are not numbers, are huge, or name what was never granted or bound), the toolstack's
 * writes and removals, random state flips, watches delivered late and in part. The device must
 * end with nothing mapped or bound, and never crash (pv_fuzz.h). */
#include "tests/fuzz/pv_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pvf_run(data, size, 0);
}

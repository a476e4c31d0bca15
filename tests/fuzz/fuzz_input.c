/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the input path into the guest: a whole hvmd machine on the in-process
 * ioreq source, its i8042 driven by a hostile guest through ports 0x60 / 0x64 while keys and
 * pointer events arrive from the console (dm/input.h) in any order and amount.
 *
 * Input: a sequence of records, an opcode byte and its operands (little-endian):
 *   0  port write: u8 port (bit 0: 0x60 or 0x64), u8 value
 *   1  port read: u8 port (bit 0: 0x60 or 0x64)
 *   2  key: u16 code, u8 down
 *   3  relative motion: i16 dx, i16 dy, i8 dz, u8 buttons
 *   4  absolute position: u16 x, u16 y, i8 dz, u8 buttons
 *   5  release everything held
 *   6  the guest reads the output buffer until it is empty (at most 256 reads)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dm/config.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine m;
    char err[256];
    struct fuzz_in in = { data, size };

    log_set_sink(fuzz_quiet, NULL);
    log_set_level(LOG_DEBUG);
    struct fakexen *fx = fx_new(1 << 20);
    if (!fx)
        return 0;
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        goto out;
    struct vm *vm = fx_vm(fx);
    uint8_t op;
    while (fuzz_take(&in, &op, 1)) {
        switch (op % 7) {
        case 0: {
            uint8_t port, v;
            if (!fuzz_take(&in, &port, 1) || !fuzz_take(&in, &v, 1))
                goto done;
            fx_out(fx, (port & 1) ? 0x64 : 0x60, 1, v);
            break;
        }
        case 1: {
            uint8_t port;
            if (!fuzz_take(&in, &port, 1))
                goto done;
            fx_in(fx, (port & 1) ? 0x64 : 0x60, 1);
            break;
        }
        case 2: {
            uint16_t code;
            uint8_t down;
            if (!fuzz_take(&in, &code, 2) || !fuzz_take(&in, &down, 1))
                goto done;
            input_key(vm, code, down & 1);
            break;
        }
        case 3: {
            int16_t dx, dy;
            int8_t dz;
            uint8_t b;
            if (!fuzz_take(&in, &dx, 2) || !fuzz_take(&in, &dy, 2) || !fuzz_take(&in, &dz, 1) || !fuzz_take(&in, &b, 1))
                goto done;
            input_rel(vm, dx, dy, dz, b);
            break;
        }
        case 4: {
            uint16_t x, y;
            int8_t dz;
            uint8_t b;
            if (!fuzz_take(&in, &x, 2) || !fuzz_take(&in, &y, 2) || !fuzz_take(&in, &dz, 1) || !fuzz_take(&in, &b, 1))
                goto done;
            input_abs(vm, x, y, dz, b);
            break;
        }
        case 5:
            input_release_all(vm);
            break;
        case 6:
            for (int i = 0; i < 256 && (fx_in(fx, 0x64, 1) & 1); i++)
                fx_in(fx, 0x60, 1);
            break;
        }
    }
done:
    machine_destroy(&m);
out:
    fx_free(fx);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the PIIX3 UHCI and the USB tablet behind it (devices/usb/): a machine
 * with -usb -usbdevice tablet on the in-process ioreq source, the controller set up as a
 * driver leaves it (BAR 4 at 0xc000, frame list at 0x1000 whose every entry points to the QH at
 * 0x2000, port 1 reset and enabled, running), then whatever the input makes of the registers,
 * the frame list, QHs and TDs anywhere in guest RAM (loops, links and buffers outside RAM,
 * any PID, length, address and endpoint), frames and input events.
 *
 * Input: records, an opcode byte and its operands (little-endian):
 *   0  register write: u8 offset (0-31), u8 size (1, 2, 4), u32 value
 *   1  register read: u8 offset, u8 size
 *   2  guest RAM: u16 offset (x 16, wraps in RAM), u8 len, then len bytes
 *   3  TD: u8 slot (a 16-byte TD at 0x3000 + 16 * slot), u32 link, ctrl, token, buffer
 *   4  QH: u8 slot (at 0x2000 + 16 * slot), u32 head, element
 *   5  frame list entry: u16 index (mod 1024), u32 link
 *   6  frames: u8 n; run n % 8 + 1 frames at once (stop and start, as a driver that restarts
 *      the controller: each start runs the frame at FRNUM)
 *   7  pointer: u16 x, u16 y, s8 wheel, u8 buttons (input_abs)
 *   8  time: u8 wait; run the loop's due callbacks (the frame timer), after waiting up to
 *      1 ms if wait is odd
 *   9  device state: save the machine and load it back
 * Frames never depend on the wall clock except in opcode 8, so most inputs replay exactly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "dm/config.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/snapshot.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

#define RAM (1u << 20)
#define IO 0xc000

static void put32(struct fakexen *fx, uint32_t a, uint32_t v)
{
    if (a + 4 <= RAM)
        memcpy(fx->ram + a, &v, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "1", "-usb", "-usbdevice", "tablet" };
    struct config cfg;
    struct machine m;
    char err[256];
    struct fuzz_in in = { data, size };

    struct fakexen *fx = fuzz_fx(argv, (int)(sizeof(argv) / sizeof(argv[0])), RAM, &cfg);
    if (!fx)
        return 0;
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        goto out;
    fx_cfg_write(fx, PCI_DEVFN(1, 2), 0x20, 4, IO);
    fx_cfg_write(fx, PCI_DEVFN(1, 2), 0x04, 2, 5);
    for (unsigned i = 0; i < 1024; i++)
        put32(fx, 0x1000 + 4 * i, 0x2000 | 2);
    put32(fx, 0x2000, 1);
    put32(fx, 0x2004, 1);
    fx_out(fx, IO + 0x08, 4, 0x1000);
    fx_out(fx, IO + 0x04, 2, 0xf);
    fx_out(fx, IO + 0x10, 2, 0x0200);
    fx_out(fx, IO + 0x10, 2, 0x0000);
    fx_out(fx, IO + 0x10, 2, 0x0004);

    uint8_t op;
    while (fuzz_take(&in, &op, 1)) {
        switch (op % 10) {
        case 0: {
            uint8_t off, sz;
            uint32_t val;
            if (!fuzz_take(&in, &off, 1) || !fuzz_take(&in, &sz, 1) || !fuzz_take(&in, &val, 4))
                goto done;
            unsigned s = 1u << (sz % 3);
            off = (uint8_t)((off % 32) & ~(s - 1));
            fx_out(fx, (uint16_t)(IO + off), s, val);
            break;
        }
        case 1: {
            uint8_t off, sz;
            if (!fuzz_take(&in, &off, 1) || !fuzz_take(&in, &sz, 1))
                goto done;
            unsigned s = 1u << (sz % 3);
            off = (uint8_t)((off % 32) & ~(s - 1));
            fx_in(fx, (uint16_t)(IO + off), s);
            break;
        }
        case 2: {
            uint16_t off;
            uint8_t len;
            if (!fuzz_take(&in, &off, 2) || !fuzz_take(&in, &len, 1) || in.n < len)
                goto done;
            uint32_t a = ((uint32_t)off * 16u) % RAM;
            size_t n = MIN((size_t)len, (size_t)(RAM - a));
            memcpy(fx->ram + a, in.p, n);
            in.p += len;
            in.n -= len;
            break;
        }
        case 3: {
            uint8_t slot;
            uint32_t w[4];
            if (!fuzz_take(&in, &slot, 1) || !fuzz_take(&in, w, sizeof(w)))
                goto done;
            for (unsigned i = 0; i < 4; i++)
                put32(fx, 0x3000 + 16u * slot + 4 * i, w[i]);
            break;
        }
        case 4: {
            uint8_t slot;
            uint32_t w[2];
            if (!fuzz_take(&in, &slot, 1) || !fuzz_take(&in, w, sizeof(w)))
                goto done;
            put32(fx, 0x2000 + 16u * slot, w[0]);
            put32(fx, 0x2000 + 16u * slot + 4, w[1]);
            break;
        }
        case 5: {
            uint16_t idx;
            uint32_t link;
            if (!fuzz_take(&in, &idx, 2) || !fuzz_take(&in, &link, 4))
                goto done;
            put32(fx, 0x1000 + 4u * (idx % 1024), link);
            break;
        }
        case 6: {
            uint8_t n;
            if (!fuzz_take(&in, &n, 1))
                goto done;
            for (unsigned i = 0; i <= n % 8u; i++) {
                fx_out(fx, IO + 0x00, 2, 0x0080);
                fx_out(fx, IO + 0x00, 2, 0x00c1);
            }
            break;
        }
        case 7: {
            uint16_t x, y;
            int8_t dz;
            uint8_t b;
            if (!fuzz_take(&in, &x, 2) || !fuzz_take(&in, &y, 2) || !fuzz_take(&in, &dz, 1) || !fuzz_take(&in, &b, 1))
                goto done;
            input_abs(&fx->vm, x, y, dz, b);
            break;
        }
        case 8: {
            uint8_t wait;
            if (!fuzz_take(&in, &wait, 1))
                goto done;
            loop_run_once(fx->loop, wait & 1);
            break;
        }
        case 9: {
            fuzz_save_load(&m, 0, 0);
            break;
        }
        }
    }
done:
    machine_destroy(&m);
out:
    fx_free(fx);
    config_free(&cfg);
    return 0;
}

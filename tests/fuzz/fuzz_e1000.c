/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for devices/net/e1000: a machine with one 82540EM on a SOCK_SEQPACKET
 * backend (dm/net's net_new_fd), BAR 0 at 0xf0000000 and BAR 1 at 0xc000, fed with what a
 * hostile guest controls (registers, descriptor rings and buffers in guest RAM, the I/O
 * window, config space) and what dom0 sends (frames of any length), with the loop turning
 * (delayed interrupts, the rest of a transmit ring) and save/load round trips in between.
 *
 * Input: a sequence of records, an opcode byte and its operands (little-endian):
 *   0  register write: u32 offset (modulo 128 KiB), u32 value
 *   1  register read: u32 offset
 *   2  guest RAM: u32 offset, u8 len, then len bytes
 *   3  a frame from dom0 (its first 10 bytes the tap's virtio-net header: GSO segments and
 *      partial checksums, dm/net_offload): u16 len (modulo 9000), then min(len, rest) bytes, padded with a
 *      pattern; then one turn of the loop
 *   4  one turn of the loop, and dom0 reads what the NIC sent
 *   5  a narrow or I/O access: u8 kind, u32 offset, u32 value (kind bit 0-1: size 1/2/4/8,
 *      bit 2: read, bit 3: through IOADDR/IODATA)
 *   6  config write: u8 reg, u8 size, u32 value
 *   7  save the machine and load the stream back (then a byte-flipped copy, refused or not)
 *   8  the descriptor ring helper: u8 which (bit 0: rx), u8 log2 count, u32 base, u16 head,
 *      u16 tail: RDBAL/RDLEN/RDH/RDT (or TD*) in one go
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/net.h"
#include "dm/snapshot.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

#define RAM (2u << 20)
#define BAR0 0xf0000000ull
#define IOBASE 0xc000
#define DEVFN PCI_DEVFN(4, 0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "2", "-device",
                                        "e1000,id=nic0,netdev=net0,mac=00:16:3e:00:00:01,romfile=" };
    static uint8_t frame[9000];
    struct config cfg;
    struct machine m;
    char err[256];
    int sv[2];
    struct fuzz_in in = { data, size };

    struct fakexen *fx = fuzz_fx(argv, (int)(sizeof(argv) / sizeof(argv[0])), RAM, &cfg);
    if (!fx)
        return 0;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
        goto out;
    struct net *net = net_new_fd(&fx->vm, "net0", sv[0]);
    if (!net) {
        close(sv[1]);
        goto out;
    }
    net_use_vnet_hdr(net); /* as hvmd's taps: each frame from dom0 starts with a virtio-net header */
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0) {
        close(sv[1]);
        goto out;
    }
    fx_cfg_write(fx, DEVFN, 0x10, 4, (uint32_t)BAR0);
    fx_cfg_write(fx, DEVFN, 0x14, 4, IOBASE);
    fx_cfg_write(fx, DEVFN, PCI_COMMAND, 2, 7);

    uint8_t op;
    while (fuzz_take(&in, &op, 1)) {
        switch (op % 9) {
        case 0: {
            uint32_t off, val;
            if (!fuzz_take(&in, &off, 4) || !fuzz_take(&in, &val, 4))
                goto done;
            fx_mmio_write(fx, BAR0 + (off & 0x1fffc), 4, val);
            break;
        }
        case 1: {
            uint32_t off;
            if (!fuzz_take(&in, &off, 4))
                goto done;
            fx_mmio_read(fx, BAR0 + (off & 0x1fffc), 4);
            break;
        }
        case 2: {
            uint32_t off;
            uint8_t len;
            if (!fuzz_take(&in, &off, 4) || !fuzz_take(&in, &len, 1))
                goto done;
            off %= RAM;
            if (len > RAM - off)
                len = (uint8_t)(RAM - off);
            if (!fuzz_take(&in, fx->ram + off, len))
                goto done;
            break;
        }
        case 3: {
            uint16_t len;
            if (!fuzz_take(&in, &len, 2))
                goto done;
            len %= sizeof(frame);
            size_t have = in.n < len ? in.n : len;
            memcpy(frame, in.p, have);
            in.p += have;
            in.n -= have;
            for (size_t i = have; i < len; i++)
                frame[i] = (uint8_t)i;
            if (len)
                (void)send(sv[1], frame, len, MSG_DONTWAIT);
            loop_run_once(fx->loop, 0);
            break;
        }
        case 4:
            loop_run_once(fx->loop, 0);
            fuzz_drain(sv[1]);
            break;
        case 5: {
            uint8_t kind;
            uint32_t off, val;
            if (!fuzz_take(&in, &kind, 1) || !fuzz_take(&in, &off, 4) || !fuzz_take(&in, &val, 4))
                goto done;
            unsigned sz = 1u << (kind & 3);
            if (kind & 8) {
                uint16_t port = (uint16_t)(IOBASE + (off & 0x3f));
                if (sz == 8)
                    sz = 4;
                if ((off & 0x3f) + sz > 0x40)
                    break;
                if (kind & 4)
                    fx_in(fx, port, sz);
                else
                    fx_out(fx, port, sz, val);
            } else {
                uint64_t a = BAR0 + (off % (0x20000 - 8));
                if (kind & 4)
                    fx_mmio_read(fx, a, sz);
                else
                    fx_mmio_write(fx, a, sz, (uint64_t)val << 32 | val);
            }
            break;
        }
        case 6: {
            uint8_t reg, sz;
            uint32_t val;
            if (!fuzz_take(&in, &reg, 1) || !fuzz_take(&in, &sz, 1) || !fuzz_take(&in, &val, 4))
                goto done;
            fx_cfg_write(fx, DEVFN, reg, 1u << (sz % 3), val);
            break;
        }
        case 7: {
            uint8_t at, flip;
            if (!fuzz_take(&in, &at, 1) || !fuzz_take(&in, &flip, 1))
                goto done;
            fuzz_save_load(&m, at, flip ? flip : 1);
            break;
        }
        case 8: {
            uint8_t which, lg;
            uint32_t base;
            uint16_t head, tail;
            if (!fuzz_take(&in, &which, 1) || !fuzz_take(&in, &lg, 1) || !fuzz_take(&in, &base, 4) ||
                !fuzz_take(&in, &head, 2) || !fuzz_take(&in, &tail, 2))
                goto done;
            unsigned r = (which & 1) ? 0x2800 : 0x3800;
            fx_mmio_write(fx, BAR0 + r, 4, base);
            fx_mmio_write(fx, BAR0 + r + 4, 4, 0);
            fx_mmio_write(fx, BAR0 + r + 8, 4, 16u << (lg % 14));
            fx_mmio_write(fx, BAR0 + r + 0x10, 4, head);
            fx_mmio_write(fx, BAR0 + r + 0x18, 4, tail);
            break;
        }
        }
    }
done:
    fuzz_drain(sv[1]);
    machine_destroy(&m);
    close(sv[1]);
out:
    fx_free(fx);
    config_free(&cfg);
    return 0;
}

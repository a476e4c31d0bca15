/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for devices/net/rtl8139.c: a machine with one RTL8139C+ on a SOCK_SEQPACKET pair
 * (dom0's end in the fuzzer's hands), driven by whatever the input makes of its registers (any
 * offset, size, value; through BAR 0), of the guest memory its rings and buffers live in
 * (descriptors that loop, point at the ring itself, outside RAM, zero and huge lengths, offload
 * bits on packets whose headers lie), of frames arriving from dom0 (any length, each after the
 * tap's virtio-net header: GSO segments cut and partial checksums finished by dm/net_offload,
 * headers that lie), and of unplug
 * and a save / load round trip in between. */
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

#define RAM (4u << 20)
#define IO 0xc000
#define DF PCI_DEVFN(4, 0)

struct in {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct in *in, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint32_t)*in->p << (8 * i);
    return v;
}

/* A guest address: mostly inside RAM (in the few places rings live), sometimes at its edge or
 * outside it. */
static uint64_t addr(struct in *in)
{
    uint32_t sel = take(in, 1);
    switch (sel & 7) {
    case 0: return RAM - (take(in, 1) & 0xff);
    case 1: return 0xfffff000u + take(in, 2) % 0x1000;
    case 2: return (uint64_t)take(in, 4) << 12;
    default: return ((sel >> 3) % 4) * 0x100000u + (take(in, 2) & 0xfff0);
    }
}

static void one_input(struct in *in)
{
    static const char *const argv[] = { "-xen-domid", "1", "-m", "4", "-L", "/nonexistent",
                                        "-device", "rtl8139,id=nic0,netdev=net0,mac=00:16:3e:00:00:01" };
    struct config cfg;
    struct machine m;
    char err[256];
    int sv[2];
    if (config_parse(&cfg, (int)(sizeof(argv) / sizeof(argv[0])), argv, err, sizeof(err)) < 0)
        abort();
    struct fakexen *fx = fx_new(RAM);
    fx->vm.cfg = &cfg;
    struct net *net;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || !(net = net_new_fd(&fx->vm, "net0", sv[0])))
        abort();
    net_use_vnet_hdr(net); /* as hvmd's taps: each frame from dom0 starts with a virtio-net header */
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        abort();
    fx_cfg_write(fx, DF, PCI_BAR0, 4, IO);
    fx_cfg_write(fx, DF, PCI_COMMAND, 2, 7);
    static uint8_t frame[NET_MAX_FRAME];
    for (unsigned steps = 0; in->n && steps < 4096; steps++) {
        uint8_t op = (uint8_t)take(in, 1);
        switch (op % 10) {
        case 0: case 1: case 2: { /* a register write; the common ones more often */
            static const uint8_t hot[] = { 0x10, 0x20, 0x30, 0x37, 0x38, 0x3c, 0x3e, 0x44, 0x50,
                                           0xd9, 0xe0, 0xe4, 0x24, 0xe8 };
            unsigned reg = op & 0x80 ? take(in, 1) : hot[take(in, 1) % sizeof(hot)];
            unsigned size = 1u << (take(in, 1) % 3);
            fx_out(fx, (uint16_t)(IO + (reg & 0xff)), size, take(in, 4));
            break;
        }
        case 3:
            (void)fx_in(fx, (uint16_t)(IO + take(in, 1)), 1u << (take(in, 1) % 3));
            break;
        case 4: { /* guest memory: a descriptor or some bytes */
            uint64_t a = addr(in);
            uint8_t d[16];
            for (unsigned i = 0; i < 16; i++)
                d[i] = (uint8_t)take(in, 1);
            if (op & 0x10) { /* a well-formed descriptor around a hostile address */
                uint64_t b = addr(in);
                memcpy(d + 8, &b, 8);
            }
            if (a + 16 <= RAM)
                memcpy(fx->ram + a, d, 16);
            break;
        }
        case 5: { /* a frame from dom0 */
            size_t len = take(in, 2) % (op & 0x10 ? NET_MAX_FRAME : 1600);
            for (size_t i = 0; i < len && i < 64; i++)
                frame[i] = (uint8_t)take(in, 1);
            if (len)
                (void)send(sv[1], frame, len, MSG_DONTWAIT);
            break;
        }
        case 6:
            loop_run_once(fx->loop, 0);
            while (recv(sv[1], frame, sizeof(frame), MSG_DONTWAIT) > 0)
                ;
            break;
        case 7: /* a whole packet in memory for the transmitters: IPv4 TCP-shaped */
        {
            uint64_t a = (take(in, 1) % 4) * 0x100000u;
            uint8_t *p = fx->ram + a;
            memset(p, 0, 64);
            p[12] = 0x08;
            p[14] = (uint8_t)(0x40 | (take(in, 1) & 0xf));
            p[16] = (uint8_t)take(in, 1);
            p[17] = (uint8_t)take(in, 1);
            p[23] = op & 0x10 ? 6 : 17;
            p[46] = (uint8_t)take(in, 1);
            break;
        }
        case 8:
            if (op & 0x10)
                fx_out(fx, 0x10, 2, 2); /* unplug */
            break;
        case 9: /* save and load back */
            fuzz_save_load(&m, 0, 0);
            break;
        }
    }
    machine_destroy(&m);
    fx_free(fx);
    config_free(&cfg);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    log_set_level(LOG_ERR);
    one_input(&in);
    return 0;
}

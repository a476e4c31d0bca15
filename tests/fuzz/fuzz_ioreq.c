/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for the request dispatch path: a whole hvmd machine (every device of the
 * table) on the in-process ioreq source, fed with what a hostile guest and a confused or
 * hostile hypervisor page could carry: raw ioreq slots (any type, size, count, pointer,
 * direction), port and MMIO accesses routed as Xen routes them, PCI config cycles, guest RAM
 * contents (for DMA structures and rep buffers) and buffered ring slots and pointers.
 *
 * Input: a sequence of records, each an opcode byte and its operands (little-endian):
 *   0  raw slot: 32 bytes, an ioreq_t as Xen would write it (state forced to READY)
 *   1  port access: u16 port, u8 size, u8 dir, u32 value
 *   2  MMIO access: u32 addr-low (high = 0), u8 size, u8 dir, u64 value
 *   3  config cycle: u8 devfn, u8 reg, u8 size, u8 dir, u32 value
 *   4  guest RAM: u32 offset, u8 len, then len bytes
 *   5  buffered slot: 8 bytes of buf_ioreq, appended to the ring, then the ring is served
 *   6  buffered pointers: u32 read, u32 write, then the ring is served
 *   7  rep port string: u16 port, u8 size, u16 count, u32 gpa, u8 flags (bit0 dir, bit1 df)
 * An opcode byte of 0xf0 or more is instead a change of the memory map, as ballooning makes it:
 * u16 gfn (modulo RAM's pages) becomes a hole (bit0 set) or RAM again (bit0 clear), then, if
 * bit1, Xen's INVALIDATE through the slot; the map cache meets holes between the DMA and rep
 * accesses around it. Opcodes 0xe0-0xef let time pass (the loop runs once: asynchronous
 * completions, timers such as the tray events'). Opcodes 0xd8-0xdf set pattern slot op & 7:
 * u8 stride, u8 len (len % 64 + 1), then len bytes.
 * Guest memory is filled on demand (tests/lib/fakexen.h fx_fill_*, as QEMU's generic-fuzz
 * does): when a device reads guest RAM that the input did not write (record 4) and that was
 * not filled or written before, it is filled first (with the patterns, or before any is set
 * with the input's own bytes), so the descriptor rings
 * and tables devices follow (IDE PRD tables, fw_cfg DMA descriptors, and their data) hold
 * fuzzer-chosen bytes wherever the guest points the device.
 * Opcodes 0xd0-0xd7: a frame arrives for NIC op & 1 (rtl8139, e1000): u8 len, len bytes.
 * The machine has an IDE disk (hda, cache=unsafe) and a CD-ROM (hdc) on memfd images, so the
 * guest reaches the drives' commands, DMA through the bus master (with bus mastering as the
 * input sets it) and the platform device's unplug in the middle of their transfers; the UHCI
 * with a USB tablet (frame lists, TDs, QHs in guest memory), and an RTL8139C+ and an e1000
 * on socket pairs (their descriptor rings in guest memory), their BARs placed as firmware
 * would: the fill above is what gives those rings contents the input never wrote.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/machine.h"
#include "dm/net.h"
#include "tests/lib/fakexen.h"
#include "tests/fuzz/fuzz_util.h"

#define RAM (2u << 20)

/* An image in a memfd (made once, shared by every run), named by its /proc/self/fd path. */
static void image(char *path, size_t len, uint64_t size, unsigned salt)
{
    int fd = memfd_create("fuzz-image", 0);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        abort();
    uint8_t b[2048];
    for (uint64_t off = 0; off < size; off += sizeof(b)) {
        for (unsigned i = 0; i < sizeof(b); i++)
            b[i] = (uint8_t)(off / 512 + i + salt);
        if (pwrite(fd, b, sizeof(b), (off_t)off) != (ssize_t)sizeof(b))
            abort();
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char disk[200], cd[200];
    if (!disk[0]) {
        char p[64];
        image(p, sizeof(p), 1 << 20, 0);
        snprintf(disk, sizeof(disk), "file=%s,if=ide,index=0,media=disk,format=raw,cache=unsafe", p);
        image(p, sizeof(p), 64 * 2048, 1);
        snprintf(cd, sizeof(cd), "file=%s,if=ide,index=2,media=cdrom,readonly=on", p);
    }
    const char *const argv[] = { "-xen-domid", "1", "-m", "2", "-serial", "null",
                                 "-boot", "order=cdn", "-smp", "2,maxcpus=4",
                                 "-drive", disk, "-drive", cd, "-usb", "-usbdevice", "tablet",
                                 "-device", "rtl8139,id=nic0,netdev=net0,mac=00:16:3e:00:00:01",
                                 "-device",
                                 "e1000,id=nic1,netdev=net1,mac=00:16:3e:00:00:02,romfile=",
                                 "-L", "/nonexistent" };
    int peer[2] = { -1, -1 };
    struct config cfg;
    struct machine m;
    char err[256];
    struct fuzz_in in = { data, size };

    struct fakexen *fx = fuzz_fx(argv, (int)(sizeof(argv) / sizeof(argv[0])), RAM, &cfg);
    if (!fx)
        return 0;
#ifndef FUZZ_IOREQ_NO_FILL /* (only to measure what the fill adds) */
    fx_fill_enable(fx, 256u << 10);
    fx_fill_source(fx, data, size);
#endif
    for (unsigned i = 0; i < 2; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
            abort();
        if (!net_new_fd(&fx->vm, i ? "net1" : "net0", sv[0]))
            abort();
        peer[i] = sv[1];
    }
    if (machine_create(&m, &fx->vm, err, sizeof(err)) < 0)
        goto out;
    /* firmware's usual set-up first, so BARs and the PM base decode */
    fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x40, 4, 0xb001);
    fx_cfg_write(fx, PCI_DEVFN(1, 3), 0x80, 1, 1);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x10, 4, 0xc001);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x14, 4, 0xf0000000);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x04, 2, 7);
    fx_cfg_write(fx, PCI_DEVFN(1, 1), 0x20, 4, 0xc101); /* the IDE bus master at 0xc100 */
    fx_cfg_write(fx, PCI_DEVFN(1, 1), 0x04, 2, 5);
    fx_cfg_write(fx, PCI_DEVFN(1, 2), 0x20, 4, 0xc201); /* UHCI at 0xc200 */
    fx_cfg_write(fx, PCI_DEVFN(1, 2), 0x04, 2, 5);
    fx_cfg_write(fx, PCI_DEVFN(4, 0), 0x10, 4, 0xc301); /* rtl8139: I/O 0xc300, MMIO */
    fx_cfg_write(fx, PCI_DEVFN(4, 0), 0x14, 4, 0xf1000000);
    fx_cfg_write(fx, PCI_DEVFN(4, 0), 0x04, 2, 7);
    fx_cfg_write(fx, PCI_DEVFN(5, 0), 0x10, 4, 0xf2000000); /* e1000: MMIO, I/O 0xc400 */
    fx_cfg_write(fx, PCI_DEVFN(5, 0), 0x14, 4, 0xc401);
    fx_cfg_write(fx, PCI_DEVFN(5, 0), 0x04, 2, 7);

    uint8_t op;
    while (fuzz_take(&in, &op, 1)) {
        if (op >= 0xe0 && op < 0xf0) {
            loop_run_once(fx->loop, 0);
            continue;
        }
        if (op >= 0xd0 && op < 0xd8) {
            static uint8_t frame[256];
            uint8_t len;
            if (!fuzz_take(&in, &len, 1) || !fuzz_take(&in, frame, len))
                goto done;
            if (send(peer[op & 1], frame, len ? len : 1, MSG_DONTWAIT) >= 0)
                loop_run_once(fx->loop, 0);
            continue;
        }
        if (op >= 0xd8 && op < 0xe0) {
            uint8_t stride, len, pat[FX_FILL_PATTERN_MAX];
            if (!fuzz_take(&in, &stride, 1) || !fuzz_take(&in, &len, 1))
                goto done;
            len = (uint8_t)(len % FX_FILL_PATTERN_MAX + 1);
            if (!fuzz_take(&in, pat, len))
                goto done;
            fx_fill_pattern(fx, op & 7, pat, len, stride);
            continue;
        }
        if (op >= 0xf0) {
            uint16_t gfn;
            if (!fuzz_take(&in, &gfn, 2))
                goto done;
            fx->hole[gfn % (RAM >> 12)] = op & 1;
            if (op & 2) {
                ioreq_t inv = { .type = IOREQ_TYPE_INVALIDATE, .size = 1, .count = 1 };
                fx_request(fx, &inv);
            }
            continue;
        }
        switch (op % 8) {
        case 0: {
            ioreq_t req;
            if (!fuzz_take(&in, &req, sizeof(req)))
                goto done;
            ioreq_t *slot = &fx->iopage->vcpu_ioreq[0];
            *slot = req;
            slot->state = STATE_IOREQ_READY;
            ioreq_serve_slot(&fx->vm, slot);
            break;
        }
        case 1: {
            uint16_t port;
            uint8_t sz, dir;
            uint32_t val;
            if (!fuzz_take(&in, &port, 2) || !fuzz_take(&in, &sz, 1) || !fuzz_take(&in, &dir, 1) || !fuzz_take(&in, &val, 4))
                goto done;
            unsigned s = 1u << (sz % 3);
            if (dir & 1)
                fx_in(fx, port, s);
            else
                fx_out(fx, port, s, val);
            break;
        }
        case 2: {
            uint32_t a;
            uint8_t sz, dir;
            uint64_t val;
            if (!fuzz_take(&in, &a, 4) || !fuzz_take(&in, &sz, 1) || !fuzz_take(&in, &dir, 1) || !fuzz_take(&in, &val, 8))
                goto done;
            unsigned s = 1u << (sz % 4);
            if (dir & 1)
                fx_mmio_read(fx, a, s);
            else
                fx_mmio_write(fx, a, s, val);
            break;
        }
        case 3: {
            uint8_t devfn, reg, sz, dir;
            uint32_t val;
            if (!fuzz_take(&in, &devfn, 1) || !fuzz_take(&in, &reg, 1) || !fuzz_take(&in, &sz, 1) ||
                !fuzz_take(&in, &dir, 1) || !fuzz_take(&in, &val, 4))
                goto done;
            unsigned s = 1u << (sz % 3);
            if (dir & 1)
                fx_cfg_read(fx, devfn, reg, s);
            else
                fx_cfg_write(fx, devfn, reg, s, val);
            break;
        }
        case 4: {
            uint32_t off;
            uint8_t len;
            if (!fuzz_take(&in, &off, 4) || !fuzz_take(&in, &len, 1))
                goto done;
            off %= RAM;
            if (len > RAM - off)
                len = (uint8_t)(RAM - off);
            if (!fuzz_take(&in, fx->ram + off, len))
                goto done;
            fx_fill_mark(fx, off, len);
            break;
        }
        case 5: {
            buffered_iopage_t *pg = fx->bufpage;
            if (!fuzz_take(&in, &pg->buf_ioreq[pg->write_pointer % IOREQ_BUFFER_SLOT_NUM], 8))
                goto done;
            pg->write_pointer++;
            fx_buffered_serve(fx);
            break;
        }
        case 6: {
            buffered_iopage_t *pg = fx->bufpage;
            uint32_t rd, wr;
            if (!fuzz_take(&in, &rd, 4) || !fuzz_take(&in, &wr, 4))
                goto done;
            pg->read_pointer = rd;
            pg->write_pointer = wr;
            fx_buffered_serve(fx);
            pg->read_pointer = pg->write_pointer = 0;
            break;
        }
        case 7: {
            uint16_t port, count;
            uint8_t sz, flags;
            uint32_t gpa;
            if (!fuzz_take(&in, &port, 2) || !fuzz_take(&in, &sz, 1) || !fuzz_take(&in, &count, 2) ||
                !fuzz_take(&in, &gpa, 4) || !fuzz_take(&in, &flags, 1))
                goto done;
            unsigned s = 1u << (sz % 3);
            uint32_t c = (uint32_t)(count % 4097);
            if (flags & 1)
                fx_rep_in(fx, port, s, c, gpa, flags & 2);
            else
                fx_rep_out(fx, port, s, c, gpa, flags & 2);
            break;
        }
        }
    }
done:
    machine_destroy(&m);
out:
    for (unsigned i = 0; i < 2; i++)
        if (peer[i] >= 0)
            close(peer[i]);
    fx_free(fx);
    config_free(&cfg);
    return 0;
}

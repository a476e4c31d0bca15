/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by fuzz_ata.c and fuzz_atapi.c: a fresh PIIX3 IDE function on the in-process ioreq
 * source for every input, and an interpreter that turns the input into guest actions (port
 * accesses to the task file, the control block and the bus master, rep ins/outs on the data
 * port, writes of PRD tables and packets into guest RAM, config cycles, loop turns for
 * asynchronous completions), as a hostile guest would make them. Images live in memfds.
 * Opcode bytes 0xf0-0xff are the host's and the machine's part instead: host I/O errors
 * injected into a drive's medium (EIO, ENOSPC, for reads, writes or flushes; with the stop
 * policies too, the operator's cont coming when time passes), bus mastering
 * turned off and on in the PCI command register, the platform device's unplug of the disks
 * (in the middle of whatever transfer is under way). */
#ifndef HVMD_FUZZ_IDE_H
#define HVMD_FUZZ_IDE_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dm/block.h"
#include "devices/ide/media.h"
#include "dm/log.h"
#include "tests/lib/fakexen.h"

#define FZ_RAM (1u << 20)
#define FZ_BM 0xc000

struct fz {
    const uint8_t *p;
    size_t n;
    struct fakexen *fx;
    struct piix_ide *ide;
};

static int fz_image(const char *name, uint64_t size, unsigned salt)
{
    static int cached[2] = { -1, -1 };
    int slot = salt & 1;
    if (cached[slot] < 0) {
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
            abort();
        uint8_t b[512];
        for (uint64_t off = 0; off < size; off += sizeof(b)) {
            for (unsigned i = 0; i < sizeof(b); i++)
                b[i] = (uint8_t)(off / 512 + i + salt);
            if (pwrite(fd, b, sizeof(b), (off_t)off) != (ssize_t)sizeof(b))
                abort();
        }
        cached[slot] = fd;
    }
    return fcntl(cached[slot], F_DUPFD_CLOEXEC, 0);
}

/* A medium on the memfd FD. ASYNC: on the source's loop (O_DIRECT with libaio for
 * cache=none, flushes through libaio); else everything synchronous, which keeps the fuzzer
 * fast (an io context costs about 40 ms to set up and tear down). */
static struct blk *fz_blk(struct fakexen *fx, int fd, int ro, enum blk_cache c, int async)
{
    struct blk *b = NULL;
    char err[256];
    struct blk_opts o = { .path = "fuzz", .fd = fd, .readonly = ro, .cache = c };
    if (blk_open(&b, async ? fx->loop : NULL, &o, err, sizeof(err)) < 0)
        abort();
    return b;
}

static int fz_byte(struct fz *f)
{
    if (!f->n)
        return -1;
    f->n--;
    return *f->p++;
}

static uint32_t fz_u(struct fz *f, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        int b = fz_byte(f);
        v |= (uint32_t)(b < 0 ? 0 : b) << (8 * i);
    }
    return v;
}

/* The ports a guest can reach: 0-7 primary task file, 8 primary control, 9-16 secondary,
 * 17 secondary control, 18-33 the bus master registers. */
static uint16_t fz_port(unsigned sel)
{
    sel %= 34;
    if (sel < 8)
        return (uint16_t)(0x1f0 + sel);
    if (sel == 8)
        return 0x3f6;
    if (sel < 17)
        return (uint16_t)(0x170 + sel - 9);
    if (sel == 17)
        return 0x376;
    return (uint16_t)(FZ_BM + sel - 18);
}

/* A fresh source and IDE function; MEDIA fills CONF (opening its media on the source's loop)
 * from the input's first byte. */
typedef void fz_media_fn(struct fakexen *fx, struct ide_drive_conf conf[4], uint8_t sel);

static struct fz *fz_new(fz_media_fn *media, const uint8_t *data, size_t size)
{
    struct fz *f = calloc(1, sizeof(*f));
    struct ide_drive_conf conf[4];
    char err[256];
    if (!f || size < 1)
        abort();
    memset(conf, 0, sizeof(conf));
    f->p = data + 1;
    f->n = size - 1;
    f->fx = fx_new(FZ_RAM);
    if (!f->fx)
        abort();
    struct pci_dev *f0 = pci_dev_new(f->fx->vm.pci, PCI_DEVFN(1, 0), "isa", 0x8086, 0x7000,
                                     0x060100, 0, NULL, NULL);
    if (!f0 || pci_dev_add(f0) < 0)
        abort();
    media(f->fx, conf, data[0]);
    if (piix_ide_new(&f->fx->vm, conf, &f->ide, err, sizeof(err)) < 0)
        abort();
    fx_cfg_write(f->fx, PCI_DEVFN(1, 1), 0x20, 4, FZ_BM);
    fx_cfg_write(f->fx, PCI_DEVFN(1, 1), PCI_COMMAND, 2, 5);
    return f;
}

static void fz_free(struct fz *f)
{
    piix_ide_free(f->ide);
    fx_free(f->fx);
    free(f);
}

/* The host's and machine's events (opcodes 0xf0-0xff). */
static void fz_host(struct fz *f, unsigned op)
{
    struct fakexen *fx = f->fx;
    switch (op & 0x0c) {
    case 0x00: case 0x04: { /* the next COUNT requests of a kind fail on drive op & 3 */
        static const int errs[] = { EIO, ENOSPC, EDQUOT, EROFS };
        struct ide_drive *d = piix_ide_drive(f->ide, op & 3);
        uint32_t sel = fz_u(f, 1);
        if (d && d->blk) {
            blk_inject_error(d->blk, (enum blk_op)(sel % 3), errs[(sel >> 2) & 3],
                             1 + ((sel >> 4) & 7));
            if (sel & 0x80) /* werror / rerror = enospc: the guest stops until time passes */
                blk_set_policy(d->blk, BLK_POLICY_ENOSPC, BLK_POLICY_STOP);
        }
        break;
    }
    case 0x08: { /* bus mastering off or on, I/O decode kept */
        uint16_t cmd = (uint16_t)fx_cfg_read(fx, PCI_DEVFN(1, 1), 0x04, 2);
        fx_cfg_write(fx, PCI_DEVFN(1, 1), 0x04, 2, (uint16_t)((cmd ^ 0x04) | 1));
        break;
    }
    default: /* a PV driver unplugs the disks (mask: all, or all but the primary master) */
        piix_ide_unplug(f->ide, (op & 1) ? VM_UNPLUG_AUX_IDE_DISKS : VM_UNPLUG_IDE_DISKS);
        loop_run_once(fx->loop, 0);
        break;
    }
}

/* One guest action; EXTRA handles opcodes >= 12 (the target's own). 0 at the end of input. */
static int fz_step(struct fz *f, void (*extra)(struct fz *f, unsigned op))
{
    int op = fz_byte(f);
    if (op < 0)
        return 0;
    struct fakexen *fx = f->fx;
    if (op >= 0xf0) {
        fz_host(f, (unsigned)op);
        return 1;
    }
    switch (op % 16) {
    case 0: { /* byte out */
        uint16_t port = fz_port(fz_u(f, 1));
        fx_out(fx, port, 1, fz_u(f, 1));
        break;
    }
    case 1: /* byte in */
        fx_in(fx, fz_port(fz_u(f, 1)), 1);
        break;
    case 2: { /* word / dword out, to any port */
        uint16_t port = fz_port(fz_u(f, 1));
        unsigned size = (fz_u(f, 1) & 1) ? 4 : 2;
        fx_out(fx, port, size, fz_u(f, size));
        break;
    }
    case 3: { /* word / dword in */
        uint16_t port = fz_port(fz_u(f, 1));
        fx_in(fx, port, (fz_u(f, 1) & 1) ? 4 : 2);
        break;
    }
    case 4: case 5: { /* rep insw / outsw / insl / outsl on a data port (or any port) */
        uint32_t sel = fz_u(f, 1);
        uint16_t port = (sel & 0x80) ? fz_port(sel) : (sel & 1) ? 0x170 : 0x1f0;
        unsigned size = (sel & 0x40) ? 4 : 2;
        uint32_t count = fz_u(f, 2) % IOREQ_MAX_COUNT + 1;
        uint64_t gpa = fz_u(f, 3) % (FZ_RAM + 65536); /* sometimes beyond RAM */
        int df = (sel & 0x20) != 0;
        if (op % 16 == 4)
            fx_rep_in(fx, port, size, count, gpa, df);
        else
            fx_rep_out(fx, port, size, count, gpa, df);
        break;
    }
    case 6: { /* guest RAM: PRD entries, packets, data */
        uint32_t gpa = fz_u(f, 3) % FZ_RAM;
        unsigned len = fz_u(f, 1) % 64;
        for (unsigned i = 0; i < len && gpa + i < FZ_RAM; i++)
            fx->ram[gpa + i] = (uint8_t)fz_u(f, 1);
        break;
    }
    case 7: { /* a PRD entry with a chosen shape */
        uint32_t table = (fz_u(f, 2) * 8) % FZ_RAM;
        uint32_t addr = fz_u(f, 4);
        uint32_t cnt = fz_u(f, 4);
        if (table + 8 <= FZ_RAM) {
            st32(fx->ram + table, addr % (FZ_RAM + 0x10000));
            st32(fx->ram + table + 4, cnt);
        }
        break;
    }
    case 8: { /* config cycle to the IDE function */
        unsigned reg = fz_u(f, 1);
        unsigned size = 1u << (fz_u(f, 1) % 3);
        uint32_t val = fz_u(f, 4);
        if (reg != 0x04 && (reg & ~3u) != 0x20) /* keep the bus master where we drive it */
            fx_cfg_write(fx, PCI_DEVFN(1, 1), reg & ~(size - 1), size, val);
        else if (reg == 0x04) /* the command register: I/O decode stays, the rest is the input's */
            fx_cfg_write(fx, PCI_DEVFN(1, 1), 0x04, 2, (val & 0xfffe) | 1);
        else
            fx_cfg_read(fx, PCI_DEVFN(1, 1), reg & ~(size - 1), size);
        break;
    }
    case 9: /* time passes: asynchronous completions, and the operator's cont (a guest paused
             * by the stop policy gets its kept requests retried) */
        loop_run_once(fx->loop, 0);
        if (fx->vm.io_error)
            vm_io_resume(&fx->vm, 0);
        break;
    case 10: { /* a command with its task file: the common shape, so the fuzzer finds depth */
        uint16_t base = (fz_u(f, 1) & 1) ? 0x170 : 0x1f0;
        for (unsigned r = 1; r <= 6; r++)
            fx_out(fx, (uint16_t)(base + r), 1, fz_u(f, 1));
        fx_out(fx, (uint16_t)(base + 7), 1, fz_u(f, 1));
        break;
    }
    case 11: { /* bus master: table, direction, start */
        unsigned ch = fz_u(f, 1) & 1;
        uint16_t bm = (uint16_t)(FZ_BM + 8 * ch);
        fx_out(fx, bm + 4, 4, (fz_u(f, 2) * 8) % FZ_RAM);
        uint8_t cmd = (uint8_t)fz_u(f, 1);
        fx_out(fx, bm, 1, cmd & 0x08);
        fx_out(fx, bm, 1, cmd);
        break;
    }
    default:
        if (extra)
            extra(f, (unsigned)op % 16);
        break;
    }
    return 1;
}

static void fz_quiet(void)
{
    static int done;
    if (!done) {
        log_set_level(LOG_ERR);
        done = 1;
    }
}

/* One input, the whole of each target's LLVMFuzzerTestOneInput: a fresh function with MEDIA's
 * drives, then the input's actions to its end (EXTRA: the target's own opcodes). */
static inline int fz_run(fz_media_fn *media, void (*extra)(struct fz *f, unsigned op),
                  const uint8_t *data, size_t size)
{
    fz_quiet();
    if (size < 1)
        return 0;
    struct fz *f = fz_new(media, data, size);
    while (fz_step(f, extra))
        ;
    fz_free(f);
    return 0;
}

#endif

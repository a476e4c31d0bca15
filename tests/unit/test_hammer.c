/* SPDX-License-Identifier: GPL-2.0-only */
/* A guest that hammers everything it can reach with random values (issue 16's figure: hvmd
 * keeps running and its log stays small): the whole machine with an IDE disk and CD-ROM, a
 * serial port and the platform device, and 300,000 random port accesses (all 64 Ki ports,
 * every size, in and out), MMIO accesses over the PCI hole, config cycles to every function
 * (BARs moved, bus mastering toggled) and writes of random guest RAM between them. Every
 * guest-caused line goes through a rate limit, so the log is bounded by the number of
 * sources, not by the number of accesses; the machine still serves a disk read after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "dm/loop.h"
#include "tests/lib/ide_guest.h"
#include "tests/lib/machine.h"

static size_t log_bytes, log_lines;
static void sink(void *opaque, enum log_level level, const char *line)
{
    log_bytes += strlen(line) + 30; /* with the time stamp and level stderr would carry */
    log_lines++;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_hammer_everything(void **state)
{
    char dir[200], disk[256], iso[256], d1[400], d2[400], err[300];
    ideg_tmpdir(dir, sizeof(dir));
    snprintf(disk, sizeof(disk), "%s/disk.img", dir);
    snprintf(iso, sizeof(iso), "%s/cd.iso", dir);
    ideg_make_image(disk, 4096, 512, 0);
    ideg_make_image(iso, 64, 2048, 1);
    snprintf(d1, sizeof(d1), "file=%s,if=ide,index=0,media=disk,format=raw,cache=writeback", disk);
    snprintf(d2, sizeof(d2), "file=%s,if=ide,index=2,media=cdrom,readonly=on", iso);
    const char *extra[] = { "-drive", d1, "-drive", d2, "-serial", "null" };
    struct fx_machine b;
    assert_int_equal(fx_machine_up(&b, extra, 6, err, sizeof(err)), 0);
    struct fakexen *fx = b.fx;
    log_set_sink(sink, NULL);
    log_set_level(LOG_INFO);
    for (unsigned i = 0; i < 300000; i++) {
        uint32_t r = rnd(), v = rnd();
        unsigned size = 1u << (r % 3);
        switch ((r >> 2) % 16) {
        default: { /* ports: half anywhere, half on the ones devices claim */
            static const uint16_t hot[] = { 0x10, 0x12, 0x1f0, 0x1f7, 0x3f6, 0x170, 0x177,
                                            0x376, 0x3f8, 0x3fd, 0x60, 0x64, 0x510, 0x514,
                                            0xcf8, 0xcfc, 0xb000, 0xb004, 0xc000, 0xc100 };
            uint16_t port = (r & 0x100000) ? (uint16_t)(rnd() & 0xffff)
                                           : (uint16_t)(hot[rnd() % ARRAY_SIZE(hot)] + (v & 7));
            if (r & 0x200000)
                fx_in(fx, port, size);
            else
                fx_out(fx, port, size, v);
            break;
        }
        case 12: case 13: { /* MMIO over the PCI hole */
            uint64_t a = 0xf0000000ull + (rnd() & 0x0ffffffcu);
            if (r & 0x200000)
                fx_mmio_read(fx, a, size);
            else
                fx_mmio_write(fx, a, size, v);
            break;
        }
        case 14: { /* config cycles: BARs, command (bus mastering), anything */
            uint8_t devfn = (uint8_t)((r >> 8) % 5 == 0 ? PCI_DEVFN(1, 1) : (r >> 8) & 0x1f);
            unsigned reg = (rnd() & 0xfc) | (r & 3 & (4 - size));
            if (r & 0x200000)
                fx_cfg_read(fx, devfn, reg, size);
            else
                fx_cfg_write(fx, devfn, reg, size, v);
            break;
        }
        case 15: /* guest RAM the devices may read (PRD tables, fw_cfg DMA descriptors) */
            for (unsigned k = 0; k < 16; k++)
                fx->ram[(rnd() % (1u << 20)) & ~7u] = (uint8_t)rnd();
            if (!(r & 0xf00))
                loop_run_once(fx->loop, 0);
            break;
        }
    }
    log_set_sink(NULL, NULL);
    log_set_level(LOG_ERR);
    print_message("300,000 random accesses (%llu reached hvmd): %zu log lines, about %zu bytes\n",
                  (unsigned long long)fx->forwarded, log_lines, log_bytes);
    assert_true(log_bytes < 64 * 1024);
    /* still serving: firmware's set-up again, then a PIO read from the disk */
    struct ideg g = { .fx = fx };
    fx_cfg_write(fx, IDE_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    fx_cfg_write(fx, IDE_DEVFN, 0x40, 2, 0x8000);
    ideg_out(&g, PRI_CTL, 0x04);
    ideg_out(&g, PRI_CTL, 0x00);
    ideg_wait(&g, PRI);
    ideg_lba28(&g, PRI, 0, 123, 1);
    ideg_out(&g, PRI + 7, 0x20);
    assert_int_equal(ideg_wait(&g, PRI) & 0x89, 0x08);
    ideg_insw(&g, PRI, G_BUF, 256);
    assert_int_equal(ideg_check(fx->ram + G_BUF, 123, 1, 512, 0), 0);
    fx_machine_down(&b);
    unlink(disk);
    unlink(iso);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hammer_everything),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

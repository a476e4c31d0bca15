/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/pci: a config walk like hvmloader's, through 0xcf8/0xcfc as the in-process source plays
 * Xen: IDs, absent functions, BAR sizing and placement, decode on / off, BAR moves, INTx,
 * capabilities, multi-function header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include "dm/log.h"
#include "tests/lib/fakexen.h"

struct regs {
    uint8_t r[0x100000];
    unsigned hits;
};
static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
    struct regs *g = opaque;
    g->hits++;
    return ldn(g->r + off, size);
}
static void regs_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct regs *g = opaque;
    g->hits++;
    stn(g->r + off, size, val);
}
static const struct io_ops regs_ops = { .read = regs_read, .write = regs_write };

struct fixture {
    struct fakexen *fx;
    struct pci_dev *d;
    struct regs *io, *mem, *mem64, *rom;
    unsigned hook_writes;
    uint32_t hook_last;
};

static void hook_write(void *opaque, struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
    struct fixture *fix = opaque;
    if (reg == 0x40) {
        fix->hook_writes++;
        fix->hook_last = val;
    }
}
static uint32_t hook_read(void *opaque, struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
    return reg == 0x44 ? 0xcafe : val;
}
static const struct pci_dev_ops hook_ops = { .cfg_write = hook_write, .cfg_read = hook_read };

static int setup(void **state)
{
    struct fixture *fix = calloc(1, sizeof(*fix));
    fix->fx = fx_new(1 << 20);
    fix->io = calloc(1, sizeof(struct regs));
    fix->mem = calloc(1, sizeof(struct regs));
    fix->mem64 = calloc(1, sizeof(struct regs));
    fix->rom = calloc(1, sizeof(struct regs));
    struct pci_dev *d = pci_dev_new(fix->fx->vm.pci, PCI_DEVFN(3, 0), "test", 0x1234, 0x5678,
                                    0x020000, 0x03, &hook_ops, fix);
    assert_non_null(d);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_IO, 0x20, &regs_ops, fix->io), 0);
    assert_int_equal(pci_bar_init(d, 1, PCI_BAR_MEM32, 0x1000, &regs_ops, fix->mem), 0);
    assert_int_equal(pci_bar_init(d, 2, PCI_BAR_MEM64_PREF, 0x100000, &regs_ops, fix->mem64), 0);
    assert_int_equal(pci_bar_init(d, PCI_ROM_BAR, PCI_BAR_ROM, 0x10000, &regs_ops, fix->rom), 0);
    pci_set8(d, PCI_INTERRUPT_PIN, 1);
    pci_set_wmask(d, 0x40, 4, 0xffffffff);
    assert_int_equal(pci_dev_add(d), 0);
    fix->d = d;
    *state = fix;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fix = *state;
    fx_free(fix->fx);
    free(fix->io);
    free(fix->mem);
    free(fix->mem64);
    free(fix->rom);
    free(fix);
    return 0;
}

static void test_ids_and_absent(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 0, 4), 0x56781234);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 2, 2), 0x5678);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 8, 4), 0x02000003);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 0x0b, 1), 0x02);
    /* IDs are read-only */
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0, 4, 0);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 0, 4), 0x56781234);
    /* absent functions: Xen answers all-ones without asking hvmd */
    uint64_t fwd = fx->forwarded;
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(4, 0), 0, 4), 0xffffffff);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 1), 0, 2), 0xffff);
    assert_int_equal(fx->forwarded, fwd + 2); /* just the two 0xcf8 writes */
    /* 0xcf8 reads back what was written (Linux's type-1 probe) */
    fx_out(fx, 0xcf8, 4, 0x80000000);
    assert_int_equal(fx_in(fx, 0xcf8, 4), 0x80000000);
    /* a hook sees its register, and can answer reads */
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x40, 4, 0xdeadbeef);
    assert_int_equal(fix->hook_writes, 1);
    assert_int_equal(fix->hook_last, 0xdeadbeef);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 0x40, 4), 0xdeadbeef);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), 0x44, 2), 0xcafe);
    /* a dword at 0xfe runs past the end: the bytes beyond read as all-ones */
    assert_int_equal(pci_cfg_read(fx->vm.pci, PCI_DEVFN(3, 0), 0xfe, 4) >> 16, 0xffff);
}

/* hvmloader's sizing: write all-ones, read back, restore. */
static uint64_t bar_size(struct fakexen *fx, uint8_t devfn, unsigned reg, int is64, int rom)
{
    uint32_t old = fx_cfg_read(fx, devfn, reg, 4);
    fx_cfg_write(fx, devfn, reg, 4, rom ? 0xfffff800 : 0xffffffff);
    uint32_t lo = fx_cfg_read(fx, devfn, reg, 4);
    fx_cfg_write(fx, devfn, reg, 4, old);
    uint64_t sz = rom ? (lo & 0xfffff800) : (lo & 1) ? (lo & 0xfffc) | 0xffff0000u : lo & ~0xfu;
    if (is64) {
        uint32_t oldh = fx_cfg_read(fx, devfn, reg + 4, 4);
        fx_cfg_write(fx, devfn, reg + 4, 4, 0xffffffff);
        sz |= (uint64_t)fx_cfg_read(fx, devfn, reg + 4, 4) << 32;
        fx_cfg_write(fx, devfn, reg + 4, 4, oldh);
    } else {
        sz |= 0xffffffff00000000ull;
    }
    return ~sz + 1;
}

static void test_bar_sizing_and_decode(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    uint8_t df = PCI_DEVFN(3, 0);

    assert_int_equal(fx_cfg_read(fx, df, 0x10, 4) & 3, 1);     /* I/O */
    assert_int_equal(fx_cfg_read(fx, df, 0x18, 4) & 0xf, 0xc); /* 64-bit prefetchable */
    assert_int_equal(bar_size(fx, df, 0x10, 0, 0), 0x20);
    assert_int_equal(bar_size(fx, df, 0x14, 0, 0), 0x1000);
    assert_int_equal(bar_size(fx, df, 0x18, 1, 0), 0x100000);
    assert_int_equal(bar_size(fx, df, 0x30, 0, 1), 0x10000);
    /* unused BARs size to nothing */
    assert_int_equal(fx_cfg_read(fx, df, 0x24, 4), 0);
    fx_cfg_write(fx, df, 0x24, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(fx, df, 0x24, 4), 0);

    /* place them with decoding off: nothing claimed yet */
    fx_cfg_write(fx, df, 0x10, 4, 0xc001);
    fx_cfg_write(fx, df, 0x14, 4, 0xf0001000);
    fx_cfg_write(fx, df, 0x18, 4, 0xf0100000);
    fx_cfg_write(fx, df, 0x1c, 4, 0);
    fx_cfg_write(fx, df, 0x30, 4, 0xf0200001);
    assert_false(fx_claimed(fx, HV_PIO, 0xc000, 0xc000));
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0001000, 0xf0001000));
    assert_int_equal(fx_cfg_read(fx, df, 0x10, 4), 0xc001);

    /* decode on: the hypervisor routes the ranges here, the device sees BAR offsets */
    fx_cfg_write(fx, df, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_true(fx_claimed(fx, HV_PIO, 0xc000, 0xc01f));
    assert_true(fx_claimed(fx, HV_MMIO, 0xf0001000, 0xf0001fff));
    assert_true(fx_claimed(fx, HV_MMIO, 0xf0100000, 0xf01fffff));
    assert_true(fx_claimed(fx, HV_MMIO, 0xf0200000, 0xf020ffff));
    assert_int_equal(pci_bar_addr(fix->d, 1), 0xf0001000);
    fx_out(fx, 0xc004, 4, 0x11223344);
    assert_int_equal(ld32(fix->io->r + 4), 0x11223344);
    fx_mmio_write(fx, 0xf0001ffc, 4, 0x55667788);
    assert_int_equal(ld32(fix->mem->r + 0xffc), 0x55667788);
    fx_mmio_write(fx, 0xf01ffff8, 8, 0x0102030405060708ull);
    assert_int_equal(ld64(fix->mem64->r + 0xffff8), 0x0102030405060708ull);
    fix->rom->r[0] = 0x55;
    assert_int_equal(fx_mmio_read(fx, 0xf0200000, 1), 0x55);

    /* move BAR1: old range released, new one claimed */
    fx_cfg_write(fx, df, 0x14, 4, 0xf0003000);
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0001000, 0xf0001000));
    assert_true(fx_claimed(fx, HV_MMIO, 0xf0003000, 0xf0003fff));
    assert_int_equal(fx_mmio_read(fx, 0xf0003ffc, 4), 0x55667788);
    /* move the 64-bit BAR above 4 GiB (two dword writes) */
    fx_cfg_write(fx, df, 0x1c, 4, 0x1);
    assert_true(fx_claimed(fx, HV_MMIO, 0x1f0100000ull, 0x1f01fffffull));
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0100000, 0xf0100000));
    /* sizing with decoding on does not leave the BAR decoding at the top of 4 GiB */
    fx_cfg_write(fx, df, 0x14, 4, 0xffffffff);
    assert_int_equal(pci_bar_addr(fix->d, 1), 0);
    assert_false(fx_claimed(fx, HV_MMIO, 0xfffff000, 0xfffff000));
    fx_cfg_write(fx, df, 0x14, 4, 0xf0003000);
    /* ROM enable bit */
    fx_cfg_write(fx, df, 0x30, 4, 0xf0200000);
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0200000, 0xf0200000));
    /* decode off releases everything */
    fx_cfg_write(fx, df, PCI_COMMAND, 2, 0);
    assert_false(fx_claimed(fx, HV_PIO, 0xc000, 0xc000));
    assert_false(fx_claimed(fx, HV_MMIO, 0xf0003000, 0xf0003000));
    assert_int_equal(fx_in(fx, 0xc004, 4), 0xffffffff);
    /* an I/O BAR that would run past 64 KiB is not decoded */
    fx_cfg_write(fx, df, 0x10, 4, 0xfff0 | 1);
    fx_cfg_write(fx, df, PCI_COMMAND, 2, PCI_COMMAND_IO);
    assert_int_equal(pci_bar_addr(fix->d, 0), 0xffe0); /* the low bits below the size are RO */
    fx_cfg_write(fx, df, 0x10, 4, 0x10000 | 1);
    assert_int_equal(pci_bar_addr(fix->d, 0), 0);
}

static void test_overlapping_bars_refused(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    struct regs *other = calloc(1, sizeof(*other));
    assert_int_equal(bus_add_mmio(fx->vm.bus, "other", 0xf0001000, 0x1000, &regs_ops, other, NULL), 0);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), 0x14, 4, 0xf0001000);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    /* the guest put the BAR on top of something else: it does not decode, the other stays */
    assert_int_equal(pci_bar_addr(fix->d, 1), 0);
    fx_mmio_write(fx, 0xf0001000, 4, 7);
    assert_int_equal(ld32(other->r), 7);
    free(other);
}

static void test_status_w1c_and_masks(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    uint8_t df = PCI_DEVFN(3, 0);
    pci_set16(fix->d, PCI_STATUS, 0xf900 | 0x10);
    fx_cfg_write(fx, df, PCI_STATUS, 2, 0x2000); /* clear master abort only */
    assert_int_equal(fx_cfg_read(fx, df, PCI_STATUS, 2), (0xf900 & ~0x2000) | 0x10);
    fx_cfg_write(fx, df, PCI_STATUS, 2, 0xffff);
    assert_int_equal(fx_cfg_read(fx, df, PCI_STATUS, 2), 0x10); /* capabilities bit stays */
    /* a byte write to the command register's high byte does not touch the low byte */
    fx_cfg_write(fx, df, PCI_COMMAND, 2, 0x0007);
    fx_cfg_write(fx, df, PCI_COMMAND + 1, 1, 0x04);
    assert_int_equal(fx_cfg_read(fx, df, PCI_COMMAND, 2), 0x0407);
    fx_cfg_write(fx, df, PCI_INTERRUPT_LINE, 1, 11);
    assert_int_equal(fx_cfg_read(fx, df, PCI_INTERRUPT_LINE, 1), 11);
    fx_cfg_write(fx, df, PCI_INTERRUPT_PIN, 1, 3);
    assert_int_equal(fx_cfg_read(fx, df, PCI_INTERRUPT_PIN, 1), 1);
}

static void test_intx(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    pci_set_irq(fix->d, 1);
    assert_int_equal(fx->intx[3][0], 1);
    assert_true(fx_cfg_read(fx, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* INTx disable masks the line, the status bit still shows it */
    fx_cfg_write(fx, PCI_DEVFN(3, 0), PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    assert_int_equal(fx->intx[3][0], 0);
    assert_true(fx_cfg_read(fx, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    fx_cfg_write(fx, PCI_DEVFN(3, 0), PCI_COMMAND, 2, 0);
    assert_int_equal(fx->intx[3][0], 1);
    pci_set_irq(fix->d, 0);
    assert_int_equal(fx->intx[3][0], 0);
    assert_false(fx_cfg_read(fx, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* the same level again costs no hypercall */
    uint64_t calls = fx->vm.irq.calls;
    pci_set_irq(fix->d, 0);
    assert_int_equal(fx->vm.irq.calls, calls);
}

static void test_caps_and_multifunction(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    struct pci_dev *f1 = pci_dev_new(fx->vm.pci, PCI_DEVFN(3, 1), "fn1", 0x1234, 0x0001, 0x0101, 0,
                                     NULL, NULL);
    int c1 = pci_add_cap(f1, 0x05, 14);
    int c2 = pci_add_cap(f1, 0x09, 6);
    assert_int_equal(c1, 0x40);
    assert_int_equal(c2, 0x50);
    assert_int_equal(pci_dev_add(f1), 0);
    assert_int_equal(pci_dev_add(f1), -EEXIST);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 0), PCI_HEADER_TYPE, 1), 0x80);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 1), PCI_CAPABILITY_LIST, 1), 0x40);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 1), 0x40, 2), 0x5005);
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 1), 0x50, 2), 0x0009);
    assert_true(fx_cfg_read(fx, PCI_DEVFN(3, 1), PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    /* function 1 of an empty slot is refused (a guest would never find it) */
    struct pci_dev *lone = pci_dev_new(fx->vm.pci, PCI_DEVFN(9, 1), "lone", 1, 1, 0, 0, NULL, NULL);
    assert_int_equal(pci_dev_add(lone), -EINVAL);
    pci_dev_del(lone);
    /* deleting a function releases its config space */
    assert_true(fx_claimed(fx, HV_PCI, PCI_DEVFN(3, 1), PCI_DEVFN(3, 1)));
    pci_dev_del(f1);
    assert_false(fx_claimed(fx, HV_PCI, PCI_DEVFN(3, 1), PCI_DEVFN(3, 1)));
    assert_int_equal(fx_cfg_read(fx, PCI_DEVFN(3, 1), 0, 4), 0xffffffff);
}

static void test_bar_init_rejects(void **state)
{
    struct fixture *fix = *state;
    struct pci_dev *d = pci_dev_new(fix->fx->vm.pci, PCI_DEVFN(5, 0), "x", 1, 1, 0, 0, NULL, NULL);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_IO, 3, &regs_ops, NULL), -EINVAL);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_MEM32, 8, &regs_ops, NULL), -EINVAL);
    assert_int_equal(pci_bar_init(d, 5, PCI_BAR_MEM64, 4096, &regs_ops, NULL), -EINVAL);
    assert_int_equal(pci_bar_init(d, 6, PCI_BAR_MEM32, 4096, &regs_ops, NULL), -EINVAL);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_ROM, 4096, &regs_ops, NULL), -EINVAL);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_MEM32, 4096, &regs_ops, NULL), 0);
    assert_int_equal(pci_bar_init(d, 0, PCI_BAR_MEM32, 4096, &regs_ops, NULL), -EINVAL);
    pci_dev_del(d);
}

static void test_msi(void **state)
{
    struct fixture *fix = *state;
    struct fakexen *fx = fix->fx;
    struct pci_dev *d = pci_dev_new(fx->vm.pci, PCI_DEVFN(6, 0), "msi", 1, 2, 0x020000, 0, NULL, NULL);
    int cap = pci_msi_init(d);
    assert_true(cap >= 0x40);
    assert_int_equal(pci_dev_add(d), 0);
    uint8_t df = PCI_DEVFN(6, 0);
    assert_int_equal(fx_cfg_read(fx, df, PCI_CAPABILITY_LIST, 1), cap);
    assert_int_equal(fx_cfg_read(fx, df, cap, 1), 0x05);
    assert_int_equal(fx_cfg_read(fx, df, cap + 2, 2), 0x0180); /* 64-bit, maskable */
    /* not enabled: nothing sent */
    pci_msi_notify(d);
    assert_int_equal(fx->n_msi, 0);
    /* Linux's order: address, data, then enable; bus master on */
    fx_cfg_write(fx, df, cap + 4, 4, 0xfee00000);
    fx_cfg_write(fx, df, cap + 8, 4, 0);
    fx_cfg_write(fx, df, cap + 12, 2, 0x4041);
    fx_cfg_write(fx, df, cap + 2, 2, 0x0001);
    assert_true(pci_msi_enabled(d));
    pci_msi_notify(d);
    assert_int_equal(fx->n_msi, 0); /* no bus mastering yet */
    fx_cfg_write(fx, df, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
    pci_msi_notify(d);
    assert_int_equal(fx->n_msi, 1);
    assert_int_equal(fx->msi[0].addr, 0xfee00000);
    assert_int_equal(fx->msi[0].data, 0x4041);
    /* masked: held as pending, sent on unmask */
    fx_cfg_write(fx, df, cap + 16, 4, 1);
    pci_msi_notify(d);
    assert_int_equal(fx->n_msi, 1);
    assert_int_equal(fx_cfg_read(fx, df, cap + 20, 4) & 1, 1);
    fx_cfg_write(fx, df, cap + 16, 4, 0);
    assert_int_equal(fx->n_msi, 2);
    assert_int_equal(fx_cfg_read(fx, df, cap + 20, 4) & 1, 0);
    /* the pending bits and the capability's ID are read-only */
    fx_cfg_write(fx, df, cap + 20, 4, 1);
    fx_cfg_write(fx, df, cap, 1, 0x11);
    assert_int_equal(fx_cfg_read(fx, df, cap + 20, 4), 0);
    assert_int_equal(fx_cfg_read(fx, df, cap, 1), 0x05);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ids_and_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing_and_decode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_bars_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_w1c_and_masks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_and_multifunction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_init_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's chipset as hvmloader and SeaBIOS meet it, through the in-process ioreq source:
 * the PCI functions a bus scan finds, PIRQ routing reaching Xen, the PIIX4 PM function (PM
 * base, S5 power-off, GPE0, CPU map), the reset paths, and refusal of unserved options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include "dm/log.h"
#include "tests/lib/machine.h"

static void test_bus_scan(void **state)
{
    struct fx_machine b;
    char err[256];
    const char *argv[] = { "-serial", "null" };
    assert_int_equal(fx_machine_up(&b, argv, 2, err, sizeof(err)), 0);
    unsigned found = 0;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        uint32_t id = fx_cfg_read(b.fx, (uint8_t)devfn, 0, 4);
        if (id == 0xffffffff)
            continue;
        found++;
        switch (devfn) {
        case PCI_DEVFN(0, 0):
            assert_int_equal(id, 0x12378086);
            assert_int_equal(fx_cfg_read(b.fx, 0, 0x0a, 2), 0x0600);
            break;
        case PCI_DEVFN(1, 0):
            assert_int_equal(id, 0x70008086);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 0), 0x0a, 2), 0x0601);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 0), PCI_HEADER_TYPE, 1), 0x80);
            break;
        case PCI_DEVFN(1, 1): /* IDE, present with no drives too (as under qemu-xen) */
            assert_int_equal(id, 0x70108086);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 1), 0x0a, 2), 0x0101);
            break;
        case PCI_DEVFN(1, 3):
            assert_int_equal(id, 0x71138086);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 3), 0x0a, 2), 0x0680);
            break;
        case PCI_DEVFN(3, 0):
            assert_int_equal(id, 0x00015853);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(3, 0), 0x2c, 4), 0x00015853);
            assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(3, 0), 0x0a, 2), 0xff80);
            break;
        default:
            fail_msg("unexpected function %02x.%x", devfn >> 3, devfn & 7);
        }
    }
    assert_int_equal(found, 5);
    /* what SeaBIOS's qemu_detect reads */
    assert_int_equal(fx_cfg_read(b.fx, 0, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    assert_int_equal(fx_cfg_read(b.fx, 0, PCI_SUBSYSTEM_ID, 2), 0x1100);
    fx_machine_down(&b);
}

static void test_pirq_routing(void **state)
{
    struct fx_machine b;
    char err[256];
    assert_int_equal(fx_machine_up(&b, NULL, 0, err, sizeof(err)), 0);
    /* hvmloader: links 0-3 to IRQ 5, 10, 11, 5 */
    static const uint8_t irq[4] = { 5, 10, 11, 5 };
    for (unsigned link = 0; link < 4; link++)
        fx_cfg_write(b.fx, PCI_DEVFN(1, 0), 0x60 + link, 1, irq[link]);
    for (unsigned link = 0; link < 4; link++) {
        assert_int_equal(b.fx->link[link], irq[link]);
        assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 0), 0x60 + link, 1), irq[link]);
    }
    /* a dword write routes all four; bit 7 disconnects a link */
    fx_cfg_write(b.fx, PCI_DEVFN(1, 0), 0x60, 4, 0x800b0a09);
    assert_int_equal(b.fx->link[0], 9);
    assert_int_equal(b.fx->link[1], 10);
    assert_int_equal(b.fx->link[2], 11);
    assert_int_equal(b.fx->link[3], 0);
    fx_machine_down(&b);
}

static void test_piix4_pm(void **state)
{
    struct fx_machine b;
    char err[256];
    const char *argv[] = { "-smp", "3,maxcpus=8" };
    assert_int_equal(fx_machine_up(&b, argv, 2, err, sizeof(err)), 0);
    uint8_t pm = PCI_DEVFN(1, 3);
    /* before hvmloader enables PM I/O, nothing at 0xb004 */
    assert_false(fx_claimed(b.fx, HV_PIO, 0xb004, 0xb005));
    fx_cfg_write(b.fx, pm, 0x3c, 2, 0x0009);
    fx_cfg_write(b.fx, pm, 0x40, 4, 0xb000 | 1);
    fx_cfg_write(b.fx, pm, 0x80, 1, 0x01);
    assert_int_equal(fx_cfg_read(b.fx, pm, 0x40, 4), 0xb001);
    assert_true(fx_claimed(b.fx, HV_PIO, 0xb004, 0xb005));
    /* Xen keeps PM1a_STS/EN and the timer: hvmd must not claim them */
    assert_false(fx_claimed(b.fx, HV_PIO, 0xb000, 0xb000));
    assert_false(fx_claimed(b.fx, HV_PIO, 0xb008, 0xb008));
    assert_int_equal(fx_in(b.fx, 0xb004, 2) & 1, 1); /* SCI_EN: ACPI mode */
    /* S3 (SLP_TYP 1) is not supported: ignored */
    fx_out(b.fx, 0xb004, 2, (1 << 10) | 0x2000 | 1);
    assert_int_equal(b.fx->shutdowns, 0);
    /* S5: Xen's \_S5 is SLP_TYP 0 */
    fx_out(b.fx, 0xb004, 2, 0x2000 | 1);
    assert_int_equal(b.fx->shutdowns, 1);
    assert_int_equal(b.fx->shutdown_reason, HV_POWEROFF);
    assert_int_equal(fx_in(b.fx, 0xb004, 2) & 0x2000, 0); /* SLP_EN reads 0 */
    /* moving the PM base moves the register */
    fx_cfg_write(b.fx, pm, 0x40, 4, 0x1f40 | 1);
    assert_false(fx_claimed(b.fx, HV_PIO, 0xb004, 0xb004));
    assert_true(fx_claimed(b.fx, HV_PIO, 0x1f44, 0x1f45));
    fx_cfg_write(b.fx, pm, 0x80, 1, 0);
    assert_false(fx_claimed(b.fx, HV_PIO, 0x1f44, 0x1f44));

    /* GPE0: status reads 0 and clears by writing 1s, enable is read/write */
    fx_out(b.fx, 0xafe2, 2, 0x0006);
    assert_int_equal(fx_in(b.fx, 0xafe0, 4), 0x00060000);
    fx_out(b.fx, 0xafe0, 2, 0xffff);
    assert_int_equal(fx_in(b.fx, 0xafe0, 2), 0);
    /* PCI hotplug: nothing up, nothing down */
    assert_int_equal(fx_in(b.fx, 0xae00, 4), 0);
    assert_int_equal(fx_in(b.fx, 0xae04, 4), 0);
    /* online vCPUs: 3 of 8 */
    assert_int_equal(fx_in(b.fx, 0xaf00, 1), 0x07);
    assert_int_equal(fx_in(b.fx, 0xaf01, 1), 0x00);
    fx_machine_down(&b);
}

static void test_reset_paths(void **state)
{
    struct fx_machine b;
    char err[256];
    assert_int_equal(fx_machine_up(&b, NULL, 0, err, sizeof(err)), 0);
    /* ACPI reset register (Xen's FADT: 0xcf9, value 6) */
    fx_out(b.fx, 0xcf9, 1, 0x02);
    assert_int_equal(b.fx->shutdowns, 0);
    assert_int_equal(fx_in(b.fx, 0xcf9, 1), 0x02);
    fx_out(b.fx, 0xcf9, 1, 0x06);
    assert_int_equal(b.fx->shutdowns, 1);
    assert_int_equal(b.fx->shutdown_reason, HV_REBOOT);
    /* the 0xcf8 latch next to it still works */
    fx_out(b.fx, 0xcf8, 4, 0x80000800);
    assert_int_equal(fx_in(b.fx, 0xcf8, 4), 0x80000800);
    /* port 0x92 is not claimed (A20 is always on under Xen): Xen answers 0xff, "A20 on",
     * and drops writes */
    assert_int_equal(fx_in(b.fx, 0x92, 1), 0xff);
    fx_out(b.fx, 0x92, 1, 0x03);
    assert_int_equal(b.fx->shutdowns, 1);
    fx_machine_down(&b);
}

static void test_optional_functions(void **state)
{
    struct fx_machine b;
    char err[256];
    const char *argv[] = { "-no-acpi", "-machine", "pc,accel=xen" };
    assert_int_equal(fx_machine_up(&b, argv, 3, err, sizeof(err)), 0);
    assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(1, 3), 0, 4), 0xffffffff);
    assert_int_equal(fx_cfg_read(b.fx, PCI_DEVFN(3, 0), 0, 4), 0xffffffff);
    assert_int_equal(fx_in(b.fx, 0x10, 2), 0xffff);
    assert_int_equal(fx_cfg_read(b.fx, 0, 0, 4), 0x12378086);
    fx_machine_down(&b);
}

static void test_unserved_options_refused(void **state)
{
    struct fx_machine b;
    char err[256] = "";
    const char *vga[] = { "-device", "qxl-vga,vgamem_mb=8" };
    assert_int_equal(fx_machine_up(&b, vga, 2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-device qxl-vga,vgamem_mb=8: not supported by hvmd (hvmd serves "
                                "the standard VGA"));
    /* a disk image that is not there: the IDE device refuses to start (it logs the path) */
    const char *disk[] = { "-drive", "file=/nonexistent-dir/d,if=ide,index=0,media=disk,format=raw" };
    assert_int_equal(fx_machine_up(&b, disk, 2, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "device ide"));
    const char *floppy[] = { "-drive", "file=/tmp/f,if=floppy,index=0" };
    assert_int_equal(fx_machine_up(&b, floppy, 2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-drive file=/tmp/f,if=floppy"));
    /* a NIC model hvmd does not emulate (e1000 is served now: devices/net/e1000.c) */
    const char *nic[] = { "-device", "ne2k_pci,id=nic0,mac=00:16:3e:00:00:01" };
    assert_int_equal(fx_machine_up(&b, nic, 2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "-device ne2k_pci,id=nic0,mac=00:16:3e:00:00:01: not supported"));
    /* a serial file that cannot be created: the machine reports the device's failure */
    const char *ser[] = { "-serial", "file:/nonexistent-dir/x.log" };
    assert_int_equal(fx_machine_up(&b, ser, 2, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "uart"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_scan),
        cmocka_unit_test(test_pirq_routing),
        cmocka_unit_test(test_piix4_pm),
        cmocka_unit_test(test_reset_paths),
        cmocka_unit_test(test_optional_functions),
        cmocka_unit_test(test_unserved_options_refused),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Intel 82441FX PCI and memory controller (PMC), the i440FX host bridge at 00:00.0.
 * Spec: Intel 82440FX PCIset datasheet (290549), section 3.2 (PCI configuration registers).
 * Emulated: the header (8086:1237, class 0600, revision 02, subsystem 1af4:1100 as QEMU's
 * machines report it), PMCCFG, DBC, the PAM shadow registers and SMRAM as plain read/write
 * storage. Xen maps guest RAM itself, so the PAM and SMRAM settings change nothing here.
 * The 0xcf8 configuration address port belongs to the PCI bus (dm/pci.c).
 * State (save / load): the configuration space, nothing else.
 * Left out: DRAM row boundaries and timing, error reporting, the ECC registers. */
#include <errno.h>
#include "dm/device.h"

/* Its whole state is its config space (PAM, SMRAM, PMCCFG, DBC included): dev_save_pci. */
static int i440fx_create(struct vm *vm, void **state)
{
    struct dev_base *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    struct pci_dev *d = pci_dev_new(vm->pci, PCI_DEVFN(0, 0), "i440fx", 0x8086, 0x1237, 0x060000,
                                    0x02, NULL, NULL);
    if (!d) {
        dev_free(s);
        return -ENOMEM;
    }
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x1100);
    pci_set16(d, PCI_STATUS, 0x0280); /* fast back-to-back, medium DEVSEL */
    pci_set16(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_wmask(d, 0x50, 2, 0xffff); /* PMCCFG */
    pci_set_wmask(d, 0x53, 1, 0xff);   /* DBC */
    pci_set_wmask(d, 0x59, 4, 0xffffffff); /* PAM0-3 */
    pci_set_wmask(d, 0x5d, 3, 0xffffff);   /* PAM4-6 */
    pci_set_wmask(d, 0x72, 1, 0x7f);   /* SMRAM (D_LCK not emulated) */
    pci_set8(d, 0x72, 0x02);
    return dev_created(state, s, dev_add_pci(s, d), dev_free);
}

const struct device dev_i440fx = {
    .name = "i440fx",
    .create = i440fx_create,
    .destroy = dev_free,
    .version = 1,
    .save = dev_save_pci,
    .load = dev_load_pci,
};

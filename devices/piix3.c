/* Intel 82371SB PIIX3 PCI-to-ISA bridge, function 0 at 00:01.0.
 * Spec: Intel 82371FB/SB PIIX/PIIX3 datasheet (290550), sections 2.2 (function 0 config) and
 * 4.1.14 (Reset Control Register, port 0xcf9).
 * Emulated: the header (8086:7000, class 0601, multi-function), the four PIRQ route control
 * registers 0x60-0x63, whose writes reach Xen as PCI link routes (Xen's own PIC and IOAPIC
 * then deliver each link's INTx), the other function-0 registers as read/write storage with
 * their reset values, and the Reset Control Register (0xcf9: RST_CPU asks Xen to reboot).
 * Left out: the ISA DMA controller, PIC, PIT, RTC and the ELCR, which Xen emulates itself or
 * no guest of ours needs; the top-of-memory and mode registers change nothing. */
#include <errno.h>
#include "dm/device.h"
#include "dm/log.h"

#define PIRQRC 0x60 /* PIRQ route control A-D */
#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

struct piix3 {
    struct dev_base base;
    uint8_t rcr;
};

static void route(struct piix3 *s, unsigned link)
{
    uint8_t v = pci_get8(s->base.pci, PIRQRC + link);
    irq_link_route(&s->base.vm->irq, link, (v & 0x80) ? 0 : (v & 0x0f));
}

static void piix3_cfg_write(void *opaque, struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
    for (unsigned r = reg; r < reg + size; r++)
        if (r >= PIRQRC && r < PIRQRC + 4)
            route(opaque, r - PIRQRC);
}

static const struct pci_dev_ops piix3_pci_ops = { .cfg_write = piix3_cfg_write };

static uint64_t rcr_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix3 *s = opaque;
    return s->rcr;
}

static void rcr_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix3 *s = opaque;
    s->rcr = val & RCR_SYS_RST; /* the kind of reset; RST_CPU reads back 0 */
    if (val & RCR_RST_CPU)
        vm_shutdown(s->base.vm, HV_REBOOT);
}

static const struct io_ops rcr_ops = { .read = rcr_read, .write = rcr_write };

/* State: the configuration space (PIRQ routes included, re-sent to Xen on load) and the
 * reset control register. */
static int piix3_save(void *state, struct snap_writer *w)
{
    struct piix3 *s = state;
    pci_dev_save(s->base.pci, w);
    snap_put_u8(w, "rcr", s->rcr);
    return 0;
}

static int piix3_load(void *state, struct snap_reader *r, int commit)
{
    struct piix3 *s = state;
    struct pci_dev_state pci;
    uint8_t rcr;
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u8(r, "rcr", &rcr) < 0 ||
        snap_check(r, !(rcr & ~RCR_SYS_RST), NULL, "%#x: only SYS_RST (%#x) reads back", rcr,
                   RCR_SYS_RST) < 0)
        return -EINVAL;
    if (!commit)
        return 0;
    pci_dev_commit(s->base.pci, &pci);
    for (unsigned link = 0; link < 4; link++)
        route(s, link);
    s->rcr = rcr;
    return 0;
}

static void piix3_destroy(void *state)
{
    struct piix3 *s = state;
    if (s)
        pci_bus_set_rcr(s->base.vm->pci, NULL, NULL);
    dev_free(s);
}

static int piix3_create(struct vm *vm, void **state)
{
    struct piix3 *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    struct pci_dev *d = pci_dev_new(vm->pci, PCI_DEVFN(1, 0), "piix3", 0x8086, 0x7000, 0x060100,
                                    0x00, &piix3_pci_ops, s);
    if (!d) {
        dev_free(s);
        return -ENOMEM;
    }
    pci_set8(d, PCI_HEADER_TYPE, PCI_HEADER_MULTI);
    pci_set16(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set16(d, PCI_STATUS, 0x0200); /* medium DEVSEL */
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x1100);
    /* reset values (datasheet 2.2): ISA I/O recovery, PIRQ routes disabled, top of memory,
     * motherboard IRQ and DMA routes disabled, APIC base */
    pci_set8(d, 0x4c, 0x4d);
    pci_set32(d, 0x60, 0x80808080);
    pci_set8(d, 0x69, 0x02);
    pci_set8(d, 0x70, 0x80);
    pci_set16(d, 0x76, 0x0c0c);
    pci_set8(d, 0x78, 0x02);
    pci_set8(d, 0xa0, 0x08);
    pci_set8(d, 0xa8, 0x0f);
    pci_set_wmask(d, 0x4c, 1, 0xff);
    pci_set_wmask(d, 0x4e, 2, 0xffff);
    pci_set_wmask(d, 0x60, 4, 0x8f8f8f8f);
    pci_set_wmask(d, 0x69, 2, 0xffff);
    pci_set_wmask(d, 0x70, 1, 0xff);
    pci_set_wmask(d, 0x76, 3, 0xffffff);
    pci_set_wmask(d, 0x80, 1, 0xff);
    pci_set_wmask(d, 0x82, 1, 0xff);
    pci_set_wmask(d, 0xa0, 1, 0xff);
    pci_set_wmask(d, 0xa2, 4, 0xffffffff); /* power management: 0xa2-0xab */
    pci_set_wmask(d, 0xa6, 4, 0xffffffff);
    pci_set_wmask(d, 0xaa, 2, 0xffff);
    int r = dev_add_pci(s, d);
    if (r == 0)
        pci_bus_set_rcr(vm->pci, &rcr_ops, s);
    return dev_created(state, s, r, dev_free);
}

const struct device dev_piix3 = {
    .name = "piix3",
    .create = piix3_create,
    .destroy = piix3_destroy,
    .version = 1,
    .save = piix3_save,
    .load = piix3_load,
};

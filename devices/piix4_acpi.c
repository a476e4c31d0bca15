/* Intel 82371AB PIIX4 power management function at 00:01.3, as hvmloader and Xen's ACPI
 * tables expect it (tools/firmware/hvmloader/pci.c, tools/libacpi).
 * Spec: Intel 82371AB PIIX4 datasheet (290562), sections 3.4 (function 3 config: PMBA 0x40,
 * PMREGMISC 0x80) and 7.2 (PM1 control); ACPI 1.0 sections 4.7.3 and 9.1 (sleep states).
 * Emulated: the header (8086:7113, class 0680), PMBA and PMREGMISC (hvmloader writes 0xb001
 * and 1); PM1a_CNT at PMBA + 4 once PM I/O is enabled: SCI_EN reads 1, and SLP_EN with
 * SLP_TYP 0 (Xen's \_S5 and \_S4 both use 0) asks Xen to power the domain off;
 * the GPE0 block at 0xafe0 (status write-1-to-clear, enable read/write; nothing here raises a
 * GPE), the PCI hotplug registers at 0xae00 (no slot ever changes: reads 0) and the online
 * vCPU bitmap at 0xaf00 that Xen's DSDT reads in its CPU hotplug handler.
 * Xen itself emulates PM1a_STS/PM1a_EN and the PM timer (0xb000, 0xb008) and raises the SCI
 * for the power button, so those stay out of here.
 * Left out: S1-S3 (SLP_TYP 1 is logged and ignored), SMBus, device monitors, GPE sources. */
#include <errno.h>
#include <string.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#define PMBA 0x40
#define PMREGMISC 0x80
#define GPE0_BASE 0xafe0
#define PCIHP_BASE 0xae00
#define CPUMAP_BASE 0xaf00
#define CPUMAP_LEN 32

#define PM1_SCI_EN 0x0001
#define PM1_SLP_EN 0x2000

struct piix4_acpi {
    struct dev_base base;        /* the PCI function, GPE0, PCI hotplug and CPU map ports */
    struct io_region *pm_region; /* PM1a_CNT, where PMBA puts it */
    uint16_t pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t cpumap[CPUMAP_LEN];
    struct ratelimit rl;
};

/* ---- PM1a_CNT ---- */

static uint64_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix4_acpi *s = opaque;
    return (uint64_t)s->pm1_cnt >> (8 * off);
}

static void pm_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix4_acpi *s = opaque;
    uint16_t v = s->pm1_cnt;
    /* byte writes update their half */
    if (off == 0 && size >= 2)
        v = (uint16_t)val;
    else if (off == 0)
        v = (uint16_t)((v & 0xff00) | (val & 0xff));
    else
        v = (uint16_t)((v & 0x00ff) | ((val & 0xff) << 8));
    s->pm1_cnt = (uint16_t)((v & ~PM1_SLP_EN) | PM1_SCI_EN);
    if (v & PM1_SLP_EN) {
        unsigned typ = (v >> 10) & 7;
        if (typ == 0)
            vm_shutdown(s->base.vm, HV_POWEROFF);
        else
            log_guest(&s->rl, "piix4-acpi", "sleep type %u requested: only S4/S5 (type 0) are "
                      "supported, ignored", typ);
    }
}

static const struct io_ops pm_ops = { .read = pm_read, .write = pm_write };

/* ---- GPE0: status (2 bytes, write 1 to clear), enable (2 bytes) ---- */

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix4_acpi *s = opaque;
    uint8_t b[4];
    st16(b, s->gpe_sts);
    st16(b + 2, s->gpe_en);
    return ld_window(b, sizeof(b), off, size);
}

static void gpe_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix4_acpi *s = opaque;
    for (unsigned i = 0; i < size && off + i < 4; i++) {
        unsigned o = (unsigned)off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (o < 2)
            s->gpe_sts &= (uint16_t)~((unsigned)b << (8 * o));
        else
            s->gpe_en = (uint16_t)((s->gpe_en & ~(0xffu << (8 * (o - 2)))) | ((unsigned)b << (8 * (o - 2))));
    }
}

static const struct io_ops gpe_ops = { .read = gpe_read, .write = gpe_write };

/* ---- PCI hotplug (up/down/eject/removability): nothing is ever hot-plugged ---- */

static uint64_t pcihp_read(void *opaque, uint64_t off, unsigned size) { return 0; }
static void pcihp_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix4_acpi *s = opaque;
    if (val)
        log_guest(&s->rl, "piix4-acpi", "PCI hotplug register %#x written %#llx: hotplug is not "
                  "supported", (unsigned)(PCIHP_BASE + off), (unsigned long long)val);
}
static const struct io_ops pcihp_ops = { .read = pcihp_read, .write = pcihp_write };

/* ---- online vCPU bitmap ---- */

static uint64_t cpumap_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix4_acpi *s = opaque;
    return ld_window(s->cpumap, CPUMAP_LEN, off, size);
}
static void cpumap_write(void *opaque, uint64_t off, unsigned size, uint64_t val) {}
static const struct io_ops cpumap_ops = { .read = cpumap_read, .write = cpumap_write };

/* PM I/O follows PMBA and PMREGMISC. */
static void update_pm_io(struct piix4_acpi *s)
{
    uint16_t base = pci_get16(s->base.pci, PMBA) & 0xffc0;
    int on = (pci_get8(s->base.pci, PMREGMISC) & 1) && base;
    if (s->pm_region && (!on || s->pm_region->base != base + 4u)) {
        bus_del(s->base.vm->bus, s->pm_region);
        s->pm_region = NULL;
    }
    if (on && !s->pm_region) {
        int r = bus_add_pio(s->base.vm->bus, "piix4-pm1a-cnt", (uint16_t)(base + 4), 2, &pm_ops, s,
                            &s->pm_region);
        if (r < 0)
            log_guest(&s->rl, "piix4-acpi", "PM base %#x not usable: %d", base, r);
    }
}

static void piix4_cfg_write(void *opaque, struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
    struct piix4_acpi *s = opaque;
    if ((reg < PMBA + 4 && reg + size > PMBA) || (reg <= PMREGMISC && reg + size > PMREGMISC))
        update_pm_io(s);
}

static const struct pci_dev_ops piix4_pci_ops = { .cfg_write = piix4_cfg_write };

/* State: the configuration space (PMBA, PMREGMISC, the SMBus base), PM1a_CNT and GPE0. The
 * CPU map follows -smp (host configuration: the guest cannot write it). */
static int piix4_save(void *state, struct snap_writer *w)
{
    struct piix4_acpi *s = state;
    pci_dev_save(s->base.pci, w);
    snap_put_u16(w, "pm1_cnt", s->pm1_cnt);
    snap_put_u16(w, "gpe_sts", s->gpe_sts);
    snap_put_u16(w, "gpe_en", s->gpe_en);
    return 0;
}

static int piix4_load(void *state, struct snap_reader *r, int commit)
{
    struct piix4_acpi *s = state;
    struct pci_dev_state pci;
    uint16_t pm1_cnt, gpe_sts, gpe_en;
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u16(r, "pm1_cnt", &pm1_cnt) < 0 ||
        snap_check(r, (pm1_cnt & PM1_SCI_EN) && !(pm1_cnt & PM1_SLP_EN), NULL,
                   "%#x: SCI_EN always reads 1, SLP_EN 0", pm1_cnt) < 0 ||
        snap_get_u16_in(r, "gpe_sts", &gpe_sts, 0, 0) < 0 || /* nothing here raises a GPE */
        snap_get_u16(r, "gpe_en", &gpe_en) < 0)
        return -EINVAL;
    if (!commit)
        return 0;
    pci_dev_commit(s->base.pci, &pci);
    s->pm1_cnt = pm1_cnt;
    s->gpe_sts = gpe_sts;
    s->gpe_en = gpe_en;
    update_pm_io(s);
    return 0;
}

static void piix4_destroy(void *state)
{
    struct piix4_acpi *s = state;
    if (s)
        bus_del(s->base.vm->bus, s->pm_region);
    dev_free(s);
}

static int piix4_create(struct vm *vm, void **state)
{
    if (vm->cfg && vm->cfg->no_acpi) {
        *state = NULL; /* -no-acpi: no PM function, as under QEMU */
        return 0;
    }
    struct piix4_acpi *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->pm1_cnt = PM1_SCI_EN;
    unsigned cpus = vm->cfg ? vm->cfg->smp : 1;
    for (unsigned i = 0; i < cpus && i < CPUMAP_LEN * 8; i++)
        s->cpumap[i / 8] |= (uint8_t)(1u << (i % 8));
    struct pci_dev *d = pci_dev_new(vm->pci, PCI_DEVFN(1, 3), "piix4-acpi", 0x8086, 0x7113,
                                    0x068000, 0x03, &piix4_pci_ops, s);
    if (!d)
        return dev_created(state, s, -ENOMEM, piix4_destroy);
    pci_set8(d, PCI_INTERRUPT_PIN, 1);
    pci_set16(d, PCI_STATUS, 0x0280);
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x1100);
    pci_set32(d, PMBA, 0x1); /* I/O space indicator */
    pci_set_wmask(d, PMBA, 4, 0x0000ffc0);
    pci_set_wmask(d, PMREGMISC, 1, 0x01);
    pci_set_wmask(d, 0x90, 4, 0x0000fff0); /* SMBus base: storage only */
    pci_set_wmask(d, 0xd2, 1, 0x0f);
    int r = dev_add_pci(s, d);
    if (r == 0)
        r = dev_add_pio(s, "piix4-gpe0", GPE0_BASE, 4, &gpe_ops, s);
    if (r == 0)
        r = dev_add_pio(s, "piix4-pcihp", PCIHP_BASE, 16, &pcihp_ops, s);
    if (r == 0)
        r = dev_add_pio(s, "piix4-cpumap", CPUMAP_BASE, CPUMAP_LEN, &cpumap_ops, s);
    return dev_created(state, s, r, piix4_destroy);
}

const struct device dev_piix4_acpi = {
    .name = "piix4-acpi",
    .create = piix4_create,
    .destroy = piix4_destroy,
    .version = 1,
    .save = piix4_save,
    .load = piix4_load,
};

/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel 82371AB PIIX4 power management function at 00:01.3, as hvmloader and Xen's ACPI
 * tables expect it (tools/firmware/hvmloader/pci.c, tools/libacpi: mk_dsdt.c for qemu-xen,
 * static_tables.c, ssdt_s3.asl), with the chip's battery-backed CMOS RAM beyond what Xen keeps.
 * Spec: Intel 82371AB PIIX4 datasheet (290562), sections 3.4 (function 3 config: PMBA 0x40,
 * PMREGMISC 0x80) and 7.2 (PM1 control); ACPI 1.0 sections 4.7.3, 5.2.9 (GPE blocks) and 9.1
 * (sleep states).
 * Emulated: the header (8086:7113, class 0680), PMBA and PMREGMISC (hvmloader writes 0xb001
 * and 1); PM1a_CNT at PMBA + 4 once PM I/O is enabled: SCI_EN reads 1; SLP_EN with SLP_TYP 0
 * (Xen's \_S5 and \_S4 both use 0) asks Xen to power the domain off, with SLP_TYP 1 (Xen's
 * \_S3) puts the domain into S3: CMOS 0x0F = 0x0A and the OS's waking vector (from the FACS) at
 * 40:67, so SeaBIOS jumps there at once on wake-up (0xFE, SeaBIOS's own S3 path, without a
 * vector: see s3_resume_mode), Xen's HVM_PARAM_ACPI_S_STATE = 3, QMP run state "suspended"
 * until system_wakeup;
 * the GPE0 block at 0xafe0 (status write-1-to-clear, enable read/write; bit 2 is CPU hot-plug,
 * SCI = ISA IRQ 9 while a status bit is set and enabled), the PCI hotplug registers at 0xae00
 * (no slot ever changes: reads 0) and the vCPU map at 0xaf00 (bit i: vCPU i present) that the
 * DSDT's \_GPE._E02 compares with the MADT; QMP device_add of a CPU sets its bit and GPE bit 2.
 * CMOS: Xen's vRTC keeps indices 0-13 and forwards index writes >= 14 and their data
 * accesses; hvmd keeps those 114 bytes (0xff at start, as when nobody answered; 0x0F 0;
 * 0x10 0, no floppy drive; 0x5F the domain's vCPUs - 1, which SeaBIOS's own S3 path counts).
 * Xen itself emulates PM1a_STS/PM1a_EN and the PM timer (0xb000, 0xb008) and raises the SCI
 * for the power button, so those stay out of here.
 * Left out: S1, S2 (logged and ignored), SMBus, device monitors, CPU hot-unplug (no libxl
 * command asks it; the guest offlines a vCPU itself). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/mem.h"
#include "dm/qmp.h"

#define PMBA 0x40
#define PMREGMISC 0x80
#define GPE0_BASE 0xafe0
#define PCIHP_BASE 0xae00
#define CPUMAP_BASE 0xaf00
#define CPUMAP_LEN 32            /* as QEMU's legacy CPU hot-plug; Xen's DSDT reads 16 */
#define CMOS_BASE 0x70
#define CMOS_XEN 14              /* Xen's vRTC keeps indices below this */
#define CMOS_SHUTDOWN 0x0f       /* the shutdown status byte: 0xfe = S3 resume (SeaBIOS) */
#define CMOS_FLOPPY 0x10        /* drive types: 0, none (0xff read as "bad floppy type 15") */
#define CMOS_SMP_COUNT 0x5f      /* CPUs - 1: SeaBIOS's S3 resume waits for that many + 1 */
#define SCI_IRQ 9

#define PM1_SCI_EN 0x0001
#define PM1_SLP_EN 0x2000
#define SLP_TYP_S3 1             /* Xen's \_S3 package: {1, 1, 0, 0} */
#define GPE_CPU_HOTPLUG 0x0004   /* GPE0 bit 2: \_GPE._E02 */

struct piix4_acpi {
    struct dev_base base;        /* the PCI function, GPE0, PCI hotplug, CPU map, CMOS ports */
    struct io_region *pm_region; /* PM1a_CNT, where PMBA puts it */
    uint16_t pm1_cnt;
    uint16_t gpe_sts, gpe_en;
    uint8_t cpumap[CPUMAP_LEN];
    uint8_t cmos_index;
    uint8_t cmos[128];           /* [CMOS_XEN, 128) used */
    int suspended;               /* in S3 (Xen's S_STATE is 3) */
    struct loop_timer *s3_timer; /* enters S3 once the PM1a_CNT write is answered */
    int registered;              /* with QMP for vCPU hot-plug */
    struct ratelimit rl;
};

static void update_sci(struct piix4_acpi *s)
{
    irq_isa_set(&s->base.vm->irq, SCI_IRQ, (s->gpe_sts & s->gpe_en) != 0);
}

/* ---- S3 ---- */

/* The OS's real-mode waking vector (ACPI 1.0 5.2.6, the FACS's Firmware_Waking_Vector), found
 * as SeaBIOS finds it at resume: the RSDP in the BIOS area (0xe0000-0xfffff, 16-byte aligned,
 * checksummed), its XSDT (revision >= 2) or RSDT, the FADT ("FACP") there, its FIRMWARE_CTRL
 * (X_FIRMWARE_CTRL if that is 0), the FACS. 0 if any step fails. Guest memory is hostile:
 * every read is bounded, at most 64 table entries are looked at. */
static uint32_t waking_vector(struct vm *vm)
{
    struct mem *mem = vm->mem;
    uint8_t b[MEM_FW_MAX], h[36];
    uint64_t rsdp = 0;
    if (!mem)
        return 0;
    for (uint64_t at = 0xe0000; at < 0x100000 && !rsdp; at += sizeof(b)) {
        if (mem_read_firmware(mem, at, b, sizeof(b)) < 0)
            continue;
        for (size_t o = 0; o + 36 <= sizeof(b); o += 16) {
            uint8_t sum = 0;
            if (memcmp(b + o, "RSD PTR ", 8))
                continue;
            for (unsigned i = 0; i < 20; i++)
                sum = (uint8_t)(sum + b[o + i]);
            if (sum == 0) {
                memcpy(h, b + o, 36);
                rsdp = at + o;
                break;
            }
        }
    }
    if (!rsdp)
        return 0;
    uint64_t sdt = h[15] >= 2 ? ld64(h + 24) : 0;
    unsigned esize = 8;
    if (!sdt) {
        sdt = ld32(h + 16);
        esize = 4;
    }
    if (mem_read_firmware(mem, sdt, h, 36) < 0 || memcmp(h, esize == 8 ? "XSDT" : "RSDT", 4))
        return 0;
    uint32_t len = ld32(h + 4);
    if (len < 36)
        return 0;
    uint32_t n = (len - 36) / esize;
    for (uint32_t i = 0; i < n && i < 64; i++) {
        uint8_t e[8] = { 0 }, f[140];
        if (mem_read_firmware(mem, sdt + 36 + (uint64_t)i * esize, e, esize) < 0)
            return 0;
        uint64_t t = esize == 8 ? ld64(e) : ld32(e);
        if (mem_read_firmware(mem, t, f, 8) < 0 || memcmp(f, "FACP", 4))
            continue;
        uint32_t flen = ld32(f + 4);
        if (flen < 40 || mem_read_firmware(mem, t, f, flen < sizeof(f) ? flen : sizeof(f)) < 0)
            return 0;
        uint64_t facs = ld32(f + 36);
        if (!facs && flen >= 140)
            facs = ld64(f + 132);
        if (!facs || mem_read_firmware(mem, facs, f, 16) < 0 || memcmp(f, "FACS", 4))
            return 0;
        return ld32(f + 12);
    }
    return 0;
}

/* How the firmware will resume the guest (CMOS 0x0F, the shutdown status byte SeaBIOS reads at
 * the reset vector, where Xen starts vCPU 0 on wake-up). Not SeaBIOS's own S3 path (0xFE):
 * that enables vCPU 0's local APIC (smp_resume) and then opens an interrupt window in real mode
 * (yield: sti; nop; cli) before it jumps to the waking vector. A Xen event-channel upcall
 * pending over S3 (an event that came while the guest had its interrupts off on the way down,
 * or while it slept) is injected by Xen as soon as the APIC is software-enabled, so SeaBIOS
 * takes the guest's upcall vector (Linux: 0xf3) through its real-mode IVT, whose default
 * handler returns without an EOI: the vector stays in service, and every interrupt of vCPU 0
 * (timer, xenstore, IPIs) is blocked after resume; the guest idles for ever (hvmd-xl-qmp's
 * flake; the manual hvmd-s3-loop shows it). Instead: status 0x0A, "jump via 40:67" (the
 * PC's warm-start protocol, which SeaBIOS serves at once in real mode with interrupts off),
 * with 40:67 holding the OS's waking vector. The OS then enables its APIC itself, Xen injects
 * the pending upcall there, and the OS's handler takes it and sends the EOI. The other vCPUs
 * stay down (the OS starts them with INIT/SIPI, as at boot). Without a waking vector below
 * 1 MiB: 0xFE, SeaBIOS's path, as before. */
#define CMOS_WARM_JUMP 0x0a
#define CMOS_S3_RESUME 0xfe
#define BDA_JUMP 0x467

static uint8_t s3_resume_mode(struct vm *vm)
{
    uint32_t v = waking_vector(vm);
    if (!v || v >= 0x100000)
        return CMOS_S3_RESUME;
    uint8_t jmp[4];
    st16(jmp, (uint16_t)(v & 0xf));      /* offset */
    st16(jmp + 2, (uint16_t)(v >> 4));   /* segment */
    if (mem_write(vm->mem, BDA_JUMP, jmp, sizeof(jmp)) < 0)
        return CMOS_S3_RESUME;
    return CMOS_WARM_JUMP;
}

/* After the guest's PM1a_CNT write is answered (its vCPU is then spinning on WAK_STS): Xen
 * resets the vCPUs in hvm_s3_suspend, so the request that asked must be complete first. */
static void s3_enter(void *opaque)
{
    struct piix4_acpi *s = opaque;
    struct vm *vm = s->base.vm;
    if (s->suspended)
        return;
    s->cmos[CMOS_SHUTDOWN] = s3_resume_mode(vm);
    int r = vm->hv.ops->set_s_state(vm->hv.be, 3);
    if (r < 0) {
        log_limited(&s->rl, LOG_ERR, "piix4-acpi: the guest asks for S3 (suspend to RAM), but Xen "
                    "refused HVM_PARAM_ACPI_S_STATE 3: %d; the guest waits for a wake-up that "
                    "cannot come", r);
        return;
    }
    s->suspended = 1;
    log_info("piix4-acpi: the guest is suspended to RAM (S3) until QMP system_wakeup "
             "(xl trigger s3resume)");
    qmp_suspended(vm->qmp);
}

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
        else if (typ == SLP_TYP_S3 && s->s3_timer)
            loop_timer_arm(s->s3_timer, 1);
        else
            log_guest(&s->rl, "piix4-acpi", "sleep type %u requested: only S3 (type 1) and "
                      "S4/S5 (type 0) are supported, ignored", typ);
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
    update_sci(s);
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

/* ---- present vCPU bitmap, and hot-plug through QMP ---- */

static uint64_t cpumap_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix4_acpi *s = opaque;
    return ld_window(s->cpumap, CPUMAP_LEN, off, size);
}
static void cpumap_write(void *opaque, uint64_t off, unsigned size, uint64_t val) {}
static const struct io_ops cpumap_ops = { .read = cpumap_read, .write = cpumap_write };

static int cpu_present(void *opaque, unsigned cpu)
{
    struct piix4_acpi *s = opaque;
    return cpu < QMP_MAX_CPUS && (s->cpumap[cpu / 8] >> (cpu % 8) & 1);
}

static int cpu_plug(void *opaque, unsigned cpu, char *err, size_t errlen)
{
    struct piix4_acpi *s = opaque;
    if (cpu >= QMP_MAX_CPUS || cpu_present(s, cpu)) {
        snprintf(err, errlen, "vCPU %u: %s", cpu, cpu >= QMP_MAX_CPUS ? "beyond the ACPI CPU map"
                                                                      : "present already");
        return -EINVAL;
    }
    s->cpumap[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
    s->gpe_sts |= GPE_CPU_HOTPLUG;
    update_sci(s);
    log_info("piix4-acpi: vCPU %u plugged (ACPI CPU map, GPE0 bit 2%s)", cpu,
             s->gpe_en & GPE_CPU_HOTPLUG ? ", SCI" : "; the guest has not enabled it");
    return 0;
}

static const struct qmp_cpu_ops cpu_ops = { .present = cpu_present, .plug = cpu_plug };

/* ---- CMOS RAM that Xen's vRTC forwards (indices >= 14) ---- */

static uint64_t cmos_read(void *opaque, uint64_t off, unsigned size)
{
    struct piix4_acpi *s = opaque;
    if (off != 1 || size != 1 || s->cmos_index < CMOS_XEN)
        return ~0ull; /* Xen answers these itself */
    return s->cmos[s->cmos_index];
}

static void cmos_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct piix4_acpi *s = opaque;
    if (size != 1)
        return;
    if (off == 0)
        s->cmos_index = (uint8_t)(val & 0x7f); /* bit 7: NMI disable */
    else if (s->cmos_index >= CMOS_XEN)
        s->cmos[s->cmos_index] = (uint8_t)val;
}

static const struct io_ops cmos_ops = { .read = cmos_read, .write = cmos_write };

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

/* State: the configuration space (PMBA, PMREGMISC, the SMBus base), PM1a_CNT, GPE0, the CPU
 * map (-smp at start, then QMP device_add), the CMOS RAM and its index, and S3. */
static int piix4_save(void *state, struct snap_writer *w)
{
    struct piix4_acpi *s = state;
    pci_dev_save(s->base.pci, w);
    snap_put_u16(w, "pm1_cnt", s->pm1_cnt);
    snap_put_u16(w, "gpe_sts", s->gpe_sts);
    snap_put_u16(w, "gpe_en", s->gpe_en);
    snap_put_bytes(w, "cpumap", s->cpumap, CPUMAP_LEN);
    snap_put_u8(w, "cmos_index", s->cmos_index);
    snap_put_bytes(w, "cmos", s->cmos + CMOS_XEN, sizeof(s->cmos) - CMOS_XEN);
    snap_put_bool(w, "suspended", s->suspended);
    return 0;
}

static int cpumap_sane(const uint8_t *map)
{
    for (unsigned i = QMP_MAX_CPUS / 8; i < CPUMAP_LEN; i++)
        if (map[i])
            return 0;
    return map[0] & 1;
}

static int piix4_load(void *state, struct snap_reader *r, int commit)
{
    struct piix4_acpi *s = state;
    struct pci_dev_state pci;
    uint16_t pm1_cnt, gpe_sts, gpe_en;
    uint8_t cpumap[CPUMAP_LEN], cmos[128], cmos_index;
    int suspended;
    memset(cmos, 0xff, sizeof(cmos));
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u16(r, "pm1_cnt", &pm1_cnt) < 0 ||
        snap_check(r, (pm1_cnt & PM1_SCI_EN) && !(pm1_cnt & PM1_SLP_EN), NULL,
                   "%#x: SCI_EN always reads 1, SLP_EN 0", pm1_cnt) < 0 ||
        snap_get_u16(r, "gpe_sts", &gpe_sts) < 0 ||
        snap_check(r, !(gpe_sts & ~GPE_CPU_HOTPLUG), NULL,
                   "%#x: only CPU hot-plug (bit 2) raises a GPE here", gpe_sts) < 0 ||
        snap_get_u16(r, "gpe_en", &gpe_en) < 0 ||
        snap_get_bytes(r, "cpumap", cpumap, CPUMAP_LEN) < 0 ||
        snap_check(r, cpumap_sane(cpumap), NULL, "vCPU 0 must be present, and none beyond %d",
                   QMP_MAX_CPUS) < 0 ||
        snap_get_u8_in(r, "cmos_index", &cmos_index, 0, 0x7f) < 0 ||
        snap_get_bytes(r, "cmos", cmos + CMOS_XEN, sizeof(cmos) - CMOS_XEN) < 0 ||
        snap_get_bool(r, "suspended", &suspended) < 0)
        return -EINVAL;
    if (!commit)
        return 0;
    pci_dev_commit(s->base.pci, &pci);
    s->pm1_cnt = pm1_cnt;
    s->gpe_sts = gpe_sts;
    s->gpe_en = gpe_en;
    memcpy(s->cpumap, cpumap, CPUMAP_LEN);
    s->cmos_index = cmos_index;
    memcpy(s->cmos, cmos, sizeof(cmos));
    s->suspended = suspended;
    if (suspended)
        qmp_suspended(s->base.vm->qmp);
    update_pm_io(s);
    update_sci(s);
    return 0;
}

/* Power returns after S3 (system_wakeup): the GPE block and PM1a_CNT as after power-on. Kept:
 * the CPU map (the vCPUs stay plugged), the CMOS RAM (battery-backed) and the configuration
 * space: on real hardware the firmware restores PMBA on resume, but under Xen no firmware
 * does (hvmloader does not run again), and the guest wakes through PM1a_CNT. */
static void piix4_reset(void *state)
{
    struct piix4_acpi *s = state;
    s->pm1_cnt = PM1_SCI_EN;
    s->gpe_sts = s->gpe_en = 0;
    s->suspended = 0;
    if (s->s3_timer)
        loop_timer_arm(s->s3_timer, 0);
    update_sci(s);
}

static void piix4_destroy(void *state)
{
    struct piix4_acpi *s = state;
    if (s) {
        if (s->registered)
            qmp_cpu_unregister(s->base.vm->qmp, s);
        if (s->s3_timer)
            loop_timer_free(s->s3_timer);
        bus_del(s->base.vm->bus, s->pm_region);
    }
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
    memset(s->cmos, 0xff, sizeof(s->cmos));
    s->cmos[CMOS_SHUTDOWN] = 0;
    s->cmos[CMOS_FLOPPY] = 0;
    /* SeaBIOS's S3 resume (smp_resume) broadcasts a SIPI and waits until as many CPUs have
     * answered as the larger of fw_cfg NB_CPUS and this byte + 1 say (0xff: 256, for ever).
     * Xen starts every vCPU of the domain on that SIPI, plugged or not, and the domain has
     * libxl's maxcpus of them. */
    unsigned maxcpus = vm->cfg ? vm->cfg->maxcpus : 1;
    s->cmos[CMOS_SMP_COUNT] = (uint8_t)((maxcpus ? maxcpus : 1) - 1);
    if (vm->loop) {
        s->s3_timer = loop_timer_new(vm->loop, s3_enter, s);
        if (!s->s3_timer)
            return dev_created(state, s, -ENOMEM, piix4_destroy);
    }
    unsigned cpus = vm->cfg ? vm->cfg->smp : 1;
    for (unsigned i = 0; i < cpus && i < QMP_MAX_CPUS; i++)
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
    if (r == 0)
        r = dev_add_pio(s, "cmos-ram", CMOS_BASE, 2, &cmos_ops, s);
    if (r == 0 && vm->qmp) {
        r = qmp_cpu_register(vm->qmp, &cpu_ops, s);
        s->registered = r == 0;
    }
    return dev_created(state, s, r, piix4_destroy);
}

DEVICE(dev_piix4_acpi, "piix4-acpi", 2,
       piix4_create, piix4_destroy, piix4_save, piix4_load, .reset = piix4_reset);

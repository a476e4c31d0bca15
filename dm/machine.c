/* SPDX-License-Identifier: GPL-2.0-only */
/* The device table (DESIGN.md rule 2: no constructors, no linker sets; init order readable).
 * PCI layout as under qemu-xen: 00:00.0 i440FX, 00:01.0 PIIX3, 00:01.1 IDE, 00:01.3 PIIX4 PM,
 * 00:02.0 VGA, 00:03.0 Xen platform device, 00:04.0 on: NICs. */
#include "dm/machine.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/input.h"
#include "dm/log.h"
#include "dm/net.h"
#include "dm/qmp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

extern const struct device dev_i440fx, dev_piix3, dev_piix4_acpi, dev_xen_platform, dev_uart,
    dev_i8042, dev_debugport, dev_fw_cfg, dev_ide;
extern const struct device dev_vga;
extern const struct device dev_uhci;
extern const struct device dev_rtl8139;
extern const struct device dev_e1000;
extern const struct device pv_vkbd, pv_console, pv_qdisk;

static const struct device *const devices[] = {
    &dev_i440fx,       /* 00:00.0 */
    &dev_piix3,        /* 00:01.0, and the reset control register 0xcf9 */
    &dev_ide,          /* 00:01.1, ports 0x1f0, 0x3f6, 0x170, 0x376; -drive, -device ide-* */
    &dev_uhci,         /* 00:01.2 with -usb / -usbdevice: UHCI, USB tablet */
    &dev_piix4_acpi,   /* 00:01.3 */
    &dev_xen_platform, /* 00:03.0, ports 0x10-0x13 */
    &dev_uart,         /* COM1-4 from -serial */
    &dev_i8042,        /* 0x60, 0x64 */
    &dev_debugport,    /* 0x402 */
    &dev_vga,          /* 00:02.0, 0x3b0-0x3df, 0x1ce, 0xa0000-0xbffff; -device VGA / cirrus-vga */
    &dev_rtl8139,      /* 00:04.0 on, in command-line order among the NICs; -device rtl8139 */
    &dev_e1000,        /* -device e1000: 00:04.0 on, in NIC order */
    &dev_fw_cfg,       /* last: its boot order lists the NICs found on the bus */
    &pv_vkbd,          /* PV backend: backend/vkbd/D (no state of the machine's) */
    &pv_console,       /* PV backend: backend/console/D/N, N >= 1 (channels) */
    &pv_qdisk,         /* PV backend: backend/qdisk/D (raw disks; not CD-ROMs) */
};

_Static_assert(sizeof(devices) / sizeof(devices[0]) <= MACHINE_MAX_DEVICES, "device table");

/* Is device I part of M's machine? -machine xenpv (a PV or PVH guest) has the PV backends
 * only: no chipset, no emulated device (pvdrivers/README.md). */
static int served(const struct machine *m, unsigned i)
{
    const struct device *d = devices[i];
    return !(m->vm && cfg_xenpv(m->vm->cfg)) || d == &pv_vkbd || d == &pv_console ||
           d == &pv_qdisk;
}

/* Why an option nobody claimed is refused: the devices that will serve it are not there yet. */
static const char *why_not(const struct cfg_opt *o)
{
    static const char *const vga[] = { "qxl-vga", "secondary-vga" };
    if (!strcmp(o->option, "-drive"))
        return " (only if=ide, or if=none with -device ide-cd / ide-hd)";
    if (!strcmp(o->option, "-netdev"))
        return " (no NIC names it: -device rtl8139|e1000,netdev=ID)";
    if (!strcmp(o->option, "-usbdevice") || strstr(o->first, "usb"))
        return " (USB: a PIIX3 UHCI (-usb, xl.cfg usb=1 or usbversion=1) with tablets "
               "(-usbdevice tablet, -device usb-tablet) only)";
    for (unsigned i = 0; i < ARRAY_SIZE(vga); i++)
        if (!strcmp(o->first, vga[i]))
            return " (hvmd serves the standard VGA: vga=\"stdvga\" or \"cirrus\" in xl.cfg)";
    return "";
}

void machine_reset(struct machine *m)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->state[i] && devices[i]->reset)
            devices[i]->reset(m->state[i]);
    log_info("devices reset");
}

static void reset_cb(void *opaque) { machine_reset(opaque); }

void machine_destroy(struct machine *m)
{
    if (m->vm && m->vm->qmp)
        qmp_set_reset(m->vm->qmp, NULL, NULL);
    while (m->n > 0) {
        m->n--;
        if (devices[m->n]->destroy && served(m, m->n))
            devices[m->n]->destroy(m->state[m->n]);
        m->state[m->n] = NULL;
    }
    if (m->vm) {
        net_free_all(m->vm);
        input_fini(m->vm);
    }
}

int machine_create(struct machine *m, struct vm *vm, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->vm = vm;
    int rn = net_create_all(vm, err, errlen); /* before the NICs that claim them */
    if (rn < 0)
        return rn;
    for (unsigned i = 0; i < ARRAY_SIZE(devices); i++) {
        if (!served(m, i)) {
            m->state[i] = NULL;
            m->n = i + 1;
            continue;
        }
        int r = devices[i]->create(vm, &m->state[i]);
        if (r < 0) {
            snprintf(err, errlen, "device %s: %s", devices[i]->name, strerror(-r));
            machine_destroy(m);
            return r;
        }
        m->n = i + 1;
    }
    if (vm->cfg) {
        const struct cfg_opt *o = cfg_unclaimed(vm->cfg);
        if (o) {
            snprintf(err, errlen, "%s %s: not supported by hvmd%s", o->option, o->raw, why_not(o));
            machine_destroy(m);
            return -EINVAL;
        }
    }
    if (vm->qmp)
        qmp_set_reset(vm->qmp, reset_cb, m);
    return 0;
}

/* ---- device state (DESIGN.md rule 10) ---- */

int machine_save(struct machine *m, struct snap_writer *w)
{
    snap_put_header(w);
    for (unsigned i = 0; i < m->n; i++) {
        const struct device *d = devices[i];
        if (!m->state[i])
            continue;
        snap_section_begin(w, d->name, d->version);
        int r = d->save(m->state[i], w);
        if (r < 0) {
            log_err("device %s: cannot save its state: %s", d->name, strerror(-r));
            return r;
        }
        snap_section_end(w);
    }
    snap_put_end(w);
    if (snap_writer_error(w) < 0)
        log_err("device state: cannot write the stream: %s", strerror(-snap_writer_error(w)));
    return snap_writer_error(w);
}

/* The stream names device NAME where it should not: say why. */
static int refuse_section(struct machine *m, struct snap_reader *r, const char *name,
                          const char *expected)
{
    for (unsigned i = 0; i < ARRAY_SIZE(devices); i++) {
        if (strcmp(devices[i]->name, name))
            continue;
        if (i >= m->n || !m->state[i])
            return snap_refuse(r, name, "in the stream, not in this machine (configured "
                                        "differently)");
        if (expected)
            return snap_refuse(r, expected, "missing from the stream (found %s instead)", name);
        return snap_refuse(r, name, "a second section");
    }
    return snap_refuse(r, name, "unknown device");
}

static int load_pass(struct machine *m, struct snap_reader *r, int commit)
{
    char name[SNAP_NAME_MAX + 1];
    uint32_t version;

    snap_reader_rewind(r);
    for (unsigned i = 0; i < m->n; i++) {
        const struct device *d = devices[i];
        if (!m->state[i])
            continue;
        int rc = snap_section_open(r, name, &version);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return snap_refuse(r, d->name, "missing from the stream (it ends before)");
        if (strcmp(name, d->name))
            return refuse_section(m, r, name, d->name);
        if (version != d->version)
            return snap_refuse(r, d->name, "state version %u in the stream, this hvmd reads "
                                           "version %u", version, d->version);
        if (d->load(m->state[i], r, commit) < 0)
            return snap_reader_error(r) ? -EINVAL
                                        : snap_refuse(r, d->name, "refused (no reason given)");
        if (snap_section_close(r) < 0)
            return -EINVAL;
    }
    int rc = snap_section_open(r, name, &version);
    if (rc > 0)
        return refuse_section(m, r, name, NULL);
    return rc;
}

int machine_load(struct machine *m, struct snap_reader *r)
{
    if (snap_get_header(r) < 0)
        return -EINVAL;
    int rc = load_pass(m, r, 0);
    if (rc == 0) {
        rc = load_pass(m, r, 1);
        if (rc < 0) /* cannot happen: the first pass read the same bytes */
            log_err("device state: loaded in part: %s", snap_error(r));
    }
    return rc;
}

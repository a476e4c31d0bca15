/* SPDX-License-Identifier: GPL-2.0-only */
/* The PIIX3 IDE function (00:01.1): an IDE controller of two buses (drive.h) with the legacy
 * ports and a bus master engine. What the machine's IDE device (media.c) and tests use. */
#ifndef HVMD_IDE_PIIX_H
#define HVMD_IDE_PIIX_H

#include <stddef.h>
#include "devices/ide/drive.h"
#include "dm/vm.h"

struct piix_ide;

/* The function with the drives of CONF: 0 primary master, 1 primary slave, 2 secondary master,
 * 3 secondary slave. The media in CONF belong to the device from this call on (also when it
 * fails). */
int piix_ide_new(struct vm *vm, const struct ide_drive_conf conf[4], struct piix_ide **out,
                 char *err, size_t errlen) WUR;
void piix_ide_free(struct piix_ide *s);
/* The drive at position N (0-3), present or not (kind IDE_NONE). */
struct ide_drive *piix_ide_drive(struct piix_ide *s, unsigned n);
/* The Xen platform device's unplug request (VM_UNPLUG_* of vm.h): the IDE disks it names
 * leave the bus (a PV driver takes over their images); CD-ROMs stay. */
void piix_ide_unplug(struct piix_ide *s, unsigned mask);
const struct ide_stats *piix_ide_stats(const struct piix_ide *s);
/* State (dm/device.h's hooks): save waits for medium requests in flight first; load checks
 * every field as guest input and changes nothing unless COMMIT. */
void piix_ide_save(struct piix_ide *s, struct snap_writer *w);
int piix_ide_load(struct piix_ide *s, struct snap_reader *r, int commit) WUR;

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's IDE device (dev_ide): the drives the command line names (-drive, -device
 * ide-cd / ide-hd) on the PIIX3 IDE function, and their media as QMP changes them. */
#ifndef HVMD_IDE_MEDIA_H
#define HVMD_IDE_MEDIA_H

#include <stddef.h>
#include "devices/ide/piix.h"

/* QMP eject: open the tray of the CD-ROM named ID and drop its medium. -ENODEV: no such
 * drive, or not a CD-ROM; -EBUSY if the guest locked it (the guest then sees an eject
 * request) unless FORCE. */
int ide_eject(struct piix_ide *s, const char *id, int force, char *err, size_t errlen) WUR;
/* QMP blockdev-change-medium: put BLK (taken over, also on failure) into the CD-ROM named ID
 * and close the tray; the guest sees a unit attention and a new-media event. */
int ide_change_medium(struct piix_ide *s, const char *id, struct blk *blk, char *err,
                      size_t errlen) WUR;
/* FN hears of every tray movement of the function's CD-ROMs. */
void ide_set_tray_cb(struct piix_ide *s, ide_tray_fn *fn, void *opaque);

#endif

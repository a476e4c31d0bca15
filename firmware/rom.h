/* SPDX-License-Identifier: GPL-2.0-only */
/* Option ROMs (linuxboot_dma.bin, later the VGA BIOS and iPXE) looked up where -L says, as
 * QEMU does: DIR/NAME, DIR defaulting to Debian's /usr/share/qemu (qemu-system-data, whose
 * links point to seabios and ipxe-qemu). hvmd ships no firmware binary (firmware/README.md). */
#ifndef HVMD_FIRMWARE_ROM_H
#define HVMD_FIRMWARE_ROM_H

#include "dm/util.h"
#include "firmware/blob.h"

#ifndef HVMD_FIRMWARE_DIR
#define HVMD_FIRMWARE_DIR "/usr/share/qemu"
#endif

/* A PCI option ROM's header gives its size in 512-byte units in one byte: under 128 KiB
 * (iPXE's pxe-rtl8139.rom is 74 KiB; the BIOS copies what it runs below 1 MiB). */
#define ROM_MAX 131072

/* Read the ROM NAME (a file name, no '/') from DIR (-L; NULL: HVMD_FIRMWARE_DIR) into memory.
 * 0, or negative errno (logged) with ROM empty. */
int rom_load(struct blob *rom, const char *dir, const char *name) WUR;

/* A device's option ROM NAME: from DIR when -L gave one; else from HVMD_FIRMWARE_DIR if NAME is
 * there, else from FALLBACK (the directory of the Debian package that ships it; NULL: none).
 * Missing, the device works without it: WHO's log line says so and what is lost (WITHOUT, e.g.
 * "no network boot"). 0, or negative errno with ROM empty. */
int rom_find(struct blob *rom, const char *dir, const char *name, const char *fallback,
             const char *who, const char *without);


#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Option ROM lookup under -L (firmware/rom.h). */
#include "firmware/rom.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "dm/log.h"

int rom_load(struct blob *rom, const char *dir, const char *name)
{
    char path[4096];
    blob_init(rom);
    if (!dir)
        dir = HVMD_FIRMWARE_DIR;
    if (!*name || strchr(name, '/'))
        return -EINVAL;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        log_err("option ROM %s: -L %s is too long a path", name, dir);
        return -ENAMETOOLONG;
    }
    return blob_load(rom, "option ROM", path, ROM_MAX);
}

static int rom_there(const char *dir, const char *name)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return 0;
    return access(path, R_OK) == 0;
}

int rom_find(struct blob *rom, const char *dir, const char *name, const char *fallback,
             const char *who, const char *without)
{
    const char *from = dir;
    blob_init(rom);
    if (!from)
        from = rom_there(HVMD_FIRMWARE_DIR, name) || !fallback ? HVMD_FIRMWARE_DIR : fallback;
    if (rom_there(from, name) && rom_load(rom, from, name) == 0)
        return 0;
    log_warn("%s: no option ROM (%s under %s%s%s): %s", who, name, dir ? dir : HVMD_FIRMWARE_DIR,
             !dir && fallback ? " or " : "", !dir && fallback ? fallback : "", without);
    return -ENOENT;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
    const struct blob *rom = opaque;
    uint8_t b[8] = { 0 };
    uint64_t v = 0;
    if (size > sizeof(b) || blob_read(rom, off, b, size) < 0)
        return 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val) {}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

int rom_bar_init(struct pci_dev *d, const struct blob *rom)
{
    uint64_t size = 2048;
    if (!rom->len)
        return 0;
    while (size < rom->len)
        size <<= 1;
    return pci_bar_init(d, PCI_ROM_BAR, PCI_BAR_ROM, size, &bar_ops, (void *)rom);
}

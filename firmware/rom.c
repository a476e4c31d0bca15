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

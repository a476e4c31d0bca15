/* SPDX-License-Identifier: GPL-2.0-only */
/* Option ROM lookup under -L (firmware/rom.h). */
#include "firmware/rom.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
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

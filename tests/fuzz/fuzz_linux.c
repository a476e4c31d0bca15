/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target for firmware/linux's bzImage parser (linux_layout): the header of a
 * kernel file the user names, with any file, initrd and RAM sizes and command line. Whatever
 * it accepts must be a layout a guest can boot: the setup within what was read and below the
 * command line, the kernel and initrd inside RAM and apart, the sizes adding up.
 *
 * Input (little-endian):
 *   u8 flags (bit 0: an initrd), u32 header length (mod LINUX_SETUP_MAX + 1; the file's
 *   first bytes as read), u32 file bytes past the header, u32 initrd size, u32 low RAM in
 *   4 KiB pages, u8 command line length and its bytes, then the header's bytes from offset
 *   0x1f0 on (setup_sects, the "HdrS" magic, the version, the flags...; the boot sector
 *   before it reads 0). The header buffer is allocated to its length exactly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dm/log.h"
#include "firmware/linux.h"
#include "tests/fuzz/fuzz_util.h"

#define HDR_AT 0x1f0

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char cmdline[256];
    struct linux_layout at;

    log_set_sink(fuzz_quiet, NULL);
    if (size < 18)
        return 0;
    uint8_t flags = data[0];
    uint32_t hdr_len = ld32(data + 1) % (LINUX_SETUP_MAX + 1);
    uint64_t extra = ld32(data + 5), isize = ld32(data + 9);
    uint64_t lowmem = (uint64_t)ld32(data + 13) << 12;
    size_t n = data[17];
    data += 18;
    size -= 18;
    if (size < n)
        return 0;
    memcpy(cmdline, data, n);
    cmdline[n] = 0;
    data += n;
    size -= n;

    uint8_t *hdr = calloc(1, hdr_len ? hdr_len : 1);
    if (!hdr)
        return 0;
    if (hdr_len > HDR_AT)
        memcpy(hdr + HDR_AT, data, MIN(size, (size_t)(hdr_len - HDR_AT)));
    struct linux_params p = { .kernel_name = "fuzz", .kernel_size = hdr_len + extra,
                              .cmdline = cmdline, .have_initrd = flags & 1,
                              .initrd_size = isize, .lowmem = lowmem };
    if (linux_layout(hdr, hdr_len, &p, &at) == 0) {
        uint64_t kernel_end = (uint64_t)at.kernel_addr + at.kernel_size;
        check(at.setup_size >= 512 && at.setup_size <= hdr_len);
        check((uint64_t)at.setup_size + at.kernel_size == p.kernel_size);
        check(at.setup_addr + at.setup_size <= at.cmdline_addr);
        check(at.cmdline_size == strlen(cmdline) + 1);
        check(at.cmdline_addr + at.cmdline_size <= 0xa0000);
        check(kernel_end <= lowmem - LINUX_ACPI_DATA_SIZE);
        if (p.have_initrd) {
            check(at.initrd_addr % 4096 == 0 && at.initrd_addr >= kernel_end);
            check(at.initrd_addr + isize <= lowmem - LINUX_ACPI_DATA_SIZE);
            check(ld32(hdr + 0x218) == at.initrd_addr && ld32(hdr + 0x21c) == isize);
        } else {
            check(at.initrd_addr == 0);
        }
    }
    free(hdr);
    return 0;
}

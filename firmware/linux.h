/* SPDX-License-Identifier: GPL-2.0-only */
/* Direct Linux boot (-kernel, -initrd, -append): the x86 boot protocol as a boot loader follows
 * it (Linux Documentation/arch/x86/boot.rst). From a bzImage's real-mode header this works out
 * where the setup code, the protected-mode kernel, the command line and the initrd go in the
 * guest, patches the header as a loader fills it in, and returns each part as a blob with its
 * load address. Whatever delivers them to the guest (fw_cfg and linuxboot_dma.bin) is the
 * caller's business: nothing here knows a fw_cfg key.
 *
 * The kernel and initrd are the user's files: every field read from them is bounds-checked,
 * and linux_layout, the parser, works on memory alone so it can be fuzzed
 * (tests/fuzz/fuzz_linux.c). Left out: multiboot and ELF (PVH) kernels, setup_data (dtb,
 * RNG seed), the 64-bit entry point (the loader enters in real mode). */
#ifndef HVMD_FIRMWARE_LINUX_H
#define HVMD_FIRMWARE_LINUX_H

#include <stdint.h>
#include "dm/util.h"
#include "firmware/blob.h"

/* The real-mode part is (setup_sects + 1) sectors and setup_sects is a byte: 128 KiB at most. */
#define LINUX_SETUP_MAX ((255 + 1) * 512)
/* What QEMU keeps free below the top of low RAM for ACPI data; the initrd goes below it. */
#define LINUX_ACPI_DATA_SIZE 0x28000

/* What the user gave, as sizes. */
struct linux_params {
    const char *kernel_name; /* for messages */
    uint64_t kernel_size;    /* bytes of the kernel file */
    const char *cmdline;     /* "" for none */
    int have_initrd;
    uint64_t initrd_size;
    uint64_t lowmem;         /* end of guest RAM below 4 GiB */
};

/* Where the boot loader puts each part. */
struct linux_layout {
    uint16_t protocol;       /* the header's boot protocol version (0x20f: 2.15) */
    uint32_t setup_addr, setup_size;    /* the real-mode part: the file's first setup_size bytes */
    uint32_t kernel_addr, kernel_size;  /* the protected-mode part: the rest of the file */
    uint32_t cmdline_addr, cmdline_size; /* with its NUL */
    uint32_t initrd_addr;    /* 0 without an initrd */
};

/* Parse and patch HDR, the first HDR_LEN bytes of the kernel file (all of it, or
 * LINUX_SETUP_MAX bytes if it is longer), for P; fill OUT. 0, or negative errno with a message
 * logged: -EINVAL (not a bzImage, setup larger than the file, command line too long, no room
 * in RAM, an initrd for a kernel too old for one), -EFBIG (the initrd does not fit). */
int linux_layout(uint8_t *hdr, uint32_t hdr_len, const struct linux_params *p,
                 struct linux_layout *out) WUR;

/* A kernel ready to boot: the layout and the four parts as blobs (the kernel and initrd read
 * from their files on demand, setup and command line in memory). */
struct linux_boot {
    struct linux_layout at;
    struct blob setup, kernel, cmdline, initrd; /* initrd empty without one */
};

/* Open KERNEL (and INITRD if not NULL), lay them out with CMDLINE (NULL: none) for a guest
 * whose low RAM ends at LOWMEM. 0, or negative errno (logged) with nothing held. */
int linux_load(struct linux_boot *lb, const char *kernel, const char *initrd, const char *cmdline,
               uint64_t lowmem) WUR;
/* Free what LB still holds (a blob whose fd the caller took is not closed again). */
void linux_free(struct linux_boot *lb);

#endif

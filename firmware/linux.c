/* SPDX-License-Identifier: GPL-2.0-only */
/* Direct Linux boot: the x86 boot protocol from the loader's side (firmware/linux.h).
 * Header offsets are those of Documentation/arch/x86/boot.rst. */
#include "firmware/linux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dm/log.h"

#define HDR_MIN 0x250          /* the header fields read here end below this */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_MAGIC 0x202        /* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_LOADER_TYPE 0x210
#define HDR_LOADFLAGS 0x211    /* bit 0 LOADED_HIGH, bit 7 CAN_USE_HEAP */
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236   /* bit 1 XLF_CAN_BE_LOADED_ABOVE_4G */
#define OLD_CL_MAGIC 0x20      /* protocol < 2.02: command line magic and offset */
#define OLD_CL_OFFSET 0x22

/* vga= on the command line sets the header's video mode, as boot loaders do. 1 if set,
 * 0 if absent, -EINVAL if unreadable. */
static int vga_mode(const char *cmdline, uint16_t *mode)
{
    const char *p = cmdline;
    while ((p = strstr(p, "vga="))) {
        if (p == cmdline || p[-1] == ' ')
            break;
        p += 4;
    }
    if (!p)
        return 0;
    p += 4;
    if (!strncmp(p, "normal", 6))
        *mode = 0xffff;
    else if (!strncmp(p, "ext", 3))
        *mode = 0xfffe;
    else if (!strncmp(p, "ask", 3))
        *mode = 0xfffd;
    else {
        char *end;
        unsigned long v = strtoul(p, &end, 0);
        if (end == p || (*end && *end != ' ') || v > 0xffff)
            return -EINVAL;
        *mode = (uint16_t)v;
    }
    return 1;
}

int linux_layout(uint8_t *hdr, uint32_t hdr_len, const struct linux_params *p,
                 struct linux_layout *out)
{
    const char *name = p->kernel_name ? p->kernel_name : "(kernel)";
    const char *cmdline = p->cmdline ? p->cmdline : "";
    size_t cmdline_len = strlen(cmdline);
    uint32_t real_addr, cmdline_addr, prot_addr, initrd_addr = 0;

    memset(out, 0, sizeof(*out));
    if (hdr_len < HDR_MIN || hdr_len > p->kernel_size || ld32(hdr + HDR_MAGIC) != 0x53726448) {
        log_err("-kernel %s: not a Linux bzImage (hvmd boots only bzImage kernels directly)", name);
        return -EINVAL;
    }
    if (p->kernel_size > UINT32_MAX) {
        log_err("-kernel %s: too large", name);
        return -EFBIG;
    }
    uint16_t protocol = ld16(hdr + HDR_VERSION);
    if (cmdline_len >= 0x8000) {
        log_err("-append: command line too long for this kernel");
        return -EINVAL;
    }
    if (protocol < 0x200 || !(hdr[HDR_LOADFLAGS] & 0x01)) {
        real_addr = 0x90000; /* zImage, loaded low */
        cmdline_addr = 0x9a000 - (uint32_t)((cmdline_len + 16) & ~15u);
        prot_addr = 0x10000;
    } else if (protocol < 0x202) {
        real_addr = 0x90000;
        cmdline_addr = 0x9a000 - (uint32_t)((cmdline_len + 16) & ~15u);
        prot_addr = 0x100000;
    } else {
        real_addr = 0x10000;
        cmdline_addr = 0x20000;
        prot_addr = 0x100000;
    }

    /* the real-mode part: setup_sects (0 means 4) + the boot sector, from the file, below
     * the command line */
    uint32_t setup_size = ((uint32_t)(hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4) + 1) * 512;
    if (setup_size > p->kernel_size || setup_size > hdr_len) {
        log_err("-kernel %s: invalid setup size (%u bytes, the file has %llu)", name, setup_size,
                (unsigned long long)p->kernel_size);
        return -EINVAL;
    }
    if (real_addr + setup_size > cmdline_addr) {
        log_err("-kernel %s: its setup (%u bytes) would overlap the command line at %#x", name,
                setup_size, cmdline_addr);
        return -EINVAL;
    }
    uint32_t kernel_size = (uint32_t)(p->kernel_size - setup_size);

    /* RAM: the protected-mode part, and the initrd as high as the kernel allows, below what
     * is kept free for ACPI data at the top of low RAM */
    if (p->lowmem <= LINUX_ACPI_DATA_SIZE + 0x200000) {
        log_err("-kernel %s: %llu bytes of RAM below 4 GiB are too few for a kernel", name,
                (unsigned long long)p->lowmem);
        return -EINVAL;
    }
    uint64_t ram_top = p->lowmem - LINUX_ACPI_DATA_SIZE;
    uint64_t kernel_end = (uint64_t)prot_addr + kernel_size;
    if (kernel_end > (prot_addr < real_addr ? real_addr : ram_top)) {
        log_err("-kernel %s: %u bytes of kernel do not fit at %#x", name, kernel_size, prot_addr);
        return -EFBIG;
    }
    uint64_t initrd_max;
    if (protocol >= 0x20c && (ld16(hdr + HDR_XLOADFLAGS) & 0x2))
        initrd_max = UINT32_MAX;
    else if (protocol >= 0x203)
        initrd_max = ld32(hdr + HDR_INITRD_ADDR_MAX);
    else
        initrd_max = 0x37ffffff;
    if (initrd_max >= ram_top)
        initrd_max = ram_top - 1;

    /* the header, filled in as a boot loader does */
    if (protocol >= 0x202) {
        st32(hdr + HDR_CMD_LINE_PTR, cmdline_addr);
    } else {
        st16(hdr + OLD_CL_MAGIC, 0xa33f);
        st16(hdr + OLD_CL_OFFSET, (uint16_t)(cmdline_addr - real_addr));
    }
    uint16_t mode;
    int r = vga_mode(cmdline, &mode);
    if (r < 0) {
        log_err("-append: bad vga= value");
        return r;
    }
    if (r > 0)
        st16(hdr + HDR_VID_MODE, mode);
    if (protocol >= 0x200)
        hdr[HDR_LOADER_TYPE] = 0xb0; /* QEMU's loader type, so kernels treat us alike */
    if (protocol >= 0x201) {
        hdr[HDR_LOADFLAGS] |= 0x80; /* CAN_USE_HEAP */
        st16(hdr + HDR_HEAP_END_PTR, (uint16_t)(cmdline_addr - real_addr - 0x200));
    }
    if (p->have_initrd) {
        if (protocol < 0x200) {
            log_err("-initrd: this kernel is too old to take an initrd");
            return -EINVAL;
        }
        uint64_t addr = p->initrd_size < initrd_max ? (initrd_max - p->initrd_size) & ~4095ull : 0;
        if (p->initrd_size >= initrd_max || addr < kernel_end) {
            log_err("-initrd: %llu bytes do not fit between the kernel (%#llx) and %#llx",
                    (unsigned long long)p->initrd_size, (unsigned long long)kernel_end,
                    (unsigned long long)initrd_max);
            return -EFBIG;
        }
        st32(hdr + HDR_RAMDISK_IMAGE, (uint32_t)addr);
        st32(hdr + HDR_RAMDISK_SIZE, (uint32_t)p->initrd_size);
        initrd_addr = (uint32_t)addr;
    }
    *out = (struct linux_layout){ .protocol = protocol,
                                  .setup_addr = real_addr, .setup_size = setup_size,
                                  .kernel_addr = prot_addr, .kernel_size = kernel_size,
                                  .cmdline_addr = cmdline_addr,
                                  .cmdline_size = (uint32_t)cmdline_len + 1,
                                  .initrd_addr = initrd_addr };
    return 0;
}

void linux_free(struct linux_boot *lb)
{
    blob_free(&lb->setup);
    blob_free(&lb->kernel);
    blob_free(&lb->cmdline);
    blob_free(&lb->initrd);
}

int linux_load(struct linux_boot *lb, const char *kernel, const char *initrd, const char *cmdline,
               uint64_t lowmem)
{
    uint8_t *hdr = NULL;
    int r;

    memset(lb, 0, sizeof(*lb));
    blob_init(&lb->setup);
    blob_init(&lb->cmdline);
    blob_init(&lb->initrd);
    if (!cmdline)
        cmdline = "";
    r = blob_open(&lb->kernel, "-kernel", kernel);
    if (r == 0 && initrd)
        r = blob_open(&lb->initrd, "-initrd", initrd);
    if (r < 0)
        goto fail;
    /* the setup, patched, is held in memory: up to 128 KiB */
    uint32_t hlen = MIN(lb->kernel.len, (uint32_t)LINUX_SETUP_MAX);
    hdr = malloc(hlen);
    r = -ENOMEM;
    if (!hdr)
        goto fail;
    r = blob_read(&lb->kernel, 0, hdr, hlen);
    if (r < 0) {
        log_err("-kernel %s: cannot read its header", kernel);
        goto fail;
    }
    struct linux_params p = { .kernel_name = kernel, .kernel_size = lb->kernel.len,
                              .cmdline = cmdline, .have_initrd = initrd != NULL,
                              .initrd_size = lb->initrd.len, .lowmem = lowmem };
    r = linux_layout(hdr, hlen, &p, &lb->at);
    if (r < 0)
        goto fail;
    lb->setup.data = hdr; /* hlen >= setup_size */
    lb->setup.len = lb->at.setup_size;
    hdr = NULL;
    lb->kernel.off = lb->at.setup_size;
    lb->kernel.len = lb->at.kernel_size;
    r = blob_copy(&lb->cmdline, cmdline, lb->at.cmdline_size);
    if (r < 0)
        goto fail;
    log_info("direct kernel boot: %s (%llu bytes, protocol %x), initrd %u bytes", kernel,
             (unsigned long long)p.kernel_size, lb->at.protocol, lb->initrd.len);
    return 0;
fail:
    free(hdr);
    linux_free(lb);
    return r;
}

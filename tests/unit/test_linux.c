/* SPDX-License-Identifier: GPL-2.0-only */
/* firmware/linux and firmware/rom: the bzImage header as a boot loader reads and patches it
 * (a good header, truncated files, a bad magic, setup too large, the initrd's placement
 * limits, old protocols), the parts returned as blobs, and option ROM lookup under -L. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dm/log.h"
#include "firmware/blob.h"
#include "firmware/linux.h"
#include "firmware/rom.h"

#define MiB (1u << 20)
#define KSIZE (256 * 1024)

/* A bzImage header: PROTOCOL, SETUP_SECTS, loaded high, initrd_addr_max 0x37ffffff. */
static void make_hdr(uint8_t *k, size_t n, uint16_t protocol, uint8_t setup_sects)
{
    for (size_t i = 0; i < n; i++)
        k[i] = (uint8_t)(i * 31 + 7);
    k[0x1f1] = setup_sects;
    memcpy(k + 0x202, "HdrS", 4);
    st16(k + 0x206, protocol);
    k[0x210] = 0;
    k[0x211] = 0x01;
    st32(k + 0x22c, 0x37ffffff);
    st16(k + 0x236, 0);
}

static struct linux_params params(uint64_t ksize, const char *cmdline, int initrd, uint64_t isize,
                                  uint64_t lowmem)
{
    struct linux_params p = { .kernel_name = "vmlinuz", .kernel_size = ksize, .cmdline = cmdline,
                              .have_initrd = initrd, .initrd_size = isize, .lowmem = lowmem };
    return p;
}

/* linux_layout of the first HLEN bytes at K for a file of KSIZE bytes and the rest of params(). */
static int layout(uint8_t *k, uint32_t hlen, uint64_t ksize, const char *cmdline, int initrd,
                  uint64_t isize, uint64_t lowmem, struct linux_layout *at)
{
    struct linux_params p = params(ksize, cmdline, initrd, isize, lowmem);
    return linux_layout(k, hlen, &p, at);
}

static void test_good_header(void **state)
{
    uint8_t *k = malloc(KSIZE);
    struct linux_layout at;
    make_hdr(k, KSIZE, 0x20f, 30);
    assert_int_equal(layout(k, KSIZE, KSIZE, "console=ttyS0 vga=0x317", 1, 100000, 64 * MiB, &at), 0);
    assert_int_equal(at.protocol, 0x20f);
    assert_int_equal(at.setup_addr, 0x10000);
    assert_int_equal(at.setup_size, 31 * 512);
    assert_int_equal(at.kernel_addr, 0x100000);
    assert_int_equal(at.kernel_size, KSIZE - 31 * 512);
    assert_int_equal(at.cmdline_addr, 0x20000);
    assert_int_equal(at.cmdline_size, strlen("console=ttyS0 vga=0x317") + 1);
    /* the initrd as high as it goes below the ACPI area, page-aligned */
    assert_int_equal(at.initrd_addr & 0xfff, 0);
    assert_true(at.initrd_addr + 100000 <= 64 * MiB - LINUX_ACPI_DATA_SIZE);
    assert_true(at.initrd_addr + 100000 + 4096 > 64 * MiB - LINUX_ACPI_DATA_SIZE - 1);
    /* the header as a loader fills it in */
    assert_int_equal(ld32(k + 0x218), at.initrd_addr);
    assert_int_equal(ld32(k + 0x21c), 100000);
    assert_int_equal(ld32(k + 0x228), 0x20000);
    assert_int_equal(k[0x210], 0xb0);
    assert_int_equal(k[0x211], 0x81);
    assert_int_equal(ld16(k + 0x224), 0x20000 - 0x10000 - 0x200);
    assert_int_equal(ld16(k + 0x1fa), 0x317);
    /* setup_sects 0 means 4; vga=normal; no initrd */
    make_hdr(k, KSIZE, 0x20f, 0);
    assert_int_equal(layout(k, KSIZE, KSIZE, "vga=normal", 0, 0, 64 * MiB, &at), 0);
    assert_int_equal(at.setup_size, 5 * 512);
    assert_int_equal(at.initrd_addr, 0);
    assert_int_equal(ld16(k + 0x1fa), 0xffff);
    for (unsigned j = 0x218; j < 0x220; j++) /* the ramdisk fields untouched */
        assert_int_equal(k[j], (uint8_t)(j * 31 + 7));
    /* vga= inside another word is not ours; a bad value is refused */
    make_hdr(k, KSIZE, 0x20f, 30);
    uint16_t mode = ld16(k + 0x1fa);
    assert_int_equal(layout(k, KSIZE, KSIZE, "xvga=12", 0, 0, 64 * MiB, &at), 0);
    assert_int_equal(ld16(k + 0x1fa), mode);
    assert_int_equal(layout(k, KSIZE, KSIZE, "vga=0x1ffff", 0, 0, 64 * MiB, &at), -EINVAL);
    free(k);
}

static void test_truncated_and_bad_magic(void **state)
{
    uint8_t *k = malloc(KSIZE);
    struct linux_layout at;
    make_hdr(k, KSIZE, 0x20f, 30);
    /* shorter than the header fields */
    assert_int_equal(layout(k, 0x24f, 0x24f, "", 0, 0, 64 * MiB, &at), -EINVAL);
    /* a header longer than the file it came from */
    assert_int_equal(layout(k, 0x2000, 0x1000, "", 0, 0, 64 * MiB, &at), -EINVAL);
    /* the whole header, but the file ends inside the setup code */
    assert_int_equal(layout(k, 30 * 512, 30 * 512, "", 0, 0, 64 * MiB, &at), -EINVAL);
    /* setup exactly the file: a kernel of 0 bytes is still laid out */
    assert_int_equal(layout(k, 31 * 512, 31 * 512, "", 0, 0, 64 * MiB, &at), 0);
    assert_int_equal(at.kernel_size, 0);
    /* bad magic */
    memcpy(k + 0x202, "HdrT", 4);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 0, 0, 64 * MiB, &at), -EINVAL);
    /* a file of 4 GiB or more */
    make_hdr(k, KSIZE, 0x20f, 30);
    assert_int_equal(layout(k, KSIZE, 1ull << 32, "", 0, 0, 64 * MiB, &at), -EFBIG);
    free(k);
}

static void test_oversized_setup(void **state)
{
    uint8_t *k = malloc(LINUX_SETUP_MAX);
    struct linux_layout at;
    /* 255 setup sectors: 128 KiB from 0x10000 would run over the command line at 0x20000 */
    make_hdr(k, LINUX_SETUP_MAX, 0x20f, 255);
    assert_int_equal(layout(k, LINUX_SETUP_MAX, 4 * MiB, "", 0, 0, 64 * MiB, &at), -EINVAL);
    /* 127 sectors (64 KiB) just fit */
    make_hdr(k, LINUX_SETUP_MAX, 0x20f, 127);
    assert_int_equal(layout(k, LINUX_SETUP_MAX, 4 * MiB, "", 0, 0, 64 * MiB, &at), 0);
    assert_int_equal(at.setup_addr + at.setup_size, at.cmdline_addr);
    /* the setup is larger than what the caller read of the file */
    make_hdr(k, LINUX_SETUP_MAX, 0x20f, 60);
    assert_int_equal(linux_layout(k, 30 * 512, &(struct linux_params){ .kernel_size = 30 * 512,
                                                                         .lowmem = 64 * MiB }, &at),
                     -EINVAL);
    /* a kernel larger than RAM */
    make_hdr(k, LINUX_SETUP_MAX, 0x20f, 30);
    assert_int_equal(layout(k, LINUX_SETUP_MAX, 63 * MiB, "", 0, 0, 64 * MiB, &at), -EFBIG);
    /* a command line of 32 KiB */
    char *cl = malloc(0x8001);
    memset(cl, 'a', 0x8000);
    cl[0x8000] = 0;
    assert_int_equal(layout(k, LINUX_SETUP_MAX, 4 * MiB, cl, 0, 0, 64 * MiB, &at), -EINVAL);
    cl[0x7fff] = 0;
    assert_int_equal(layout(k, LINUX_SETUP_MAX, 4 * MiB, cl, 0, 0, 64 * MiB, &at), 0);
    free(cl);
    free(k);
}

static void test_initrd_limits(void **state)
{
    uint8_t *k = malloc(KSIZE);
    struct linux_layout at;
    /* initrd_addr_max from the header (protocol 2.03 on) */
    make_hdr(k, KSIZE, 0x20f, 30);
    st32(k + 0x22c, 16 * MiB - 1);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 4 * MiB, 64 * MiB, &at), 0);
    assert_int_equal(at.initrd_addr, 12 * MiB - 4096);
    assert_true(at.initrd_addr + 4 * MiB <= 16 * MiB - 1);
    /* larger than the limit, or reaching down into the kernel */
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 16 * MiB, 64 * MiB, &at), -EFBIG);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 15 * MiB - 4096, 64 * MiB, &at), -EFBIG);
    /* XLF_CAN_BE_LOADED_ABOVE_4G (2.12 on): the limit is the top of RAM, less the ACPI area */
    make_hdr(k, KSIZE, 0x20f, 30);
    st32(k + 0x22c, 16 * MiB - 1);
    st16(k + 0x236, 0x2);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 32 * MiB, 64 * MiB, &at), 0);
    assert_int_equal(at.initrd_addr, (64 * MiB - LINUX_ACPI_DATA_SIZE - 1 - 32 * MiB) & ~4095u);
    /* before 2.03 the limit is 0x37ffffff whatever the header says */
    make_hdr(k, KSIZE, 0x202, 30);
    st32(k + 0x22c, 1 * MiB);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 4 * MiB, 2048ull * MiB, &at), 0);
    assert_int_equal(at.initrd_addr, (0x37ffffffu - 4 * MiB) & ~4095u);
    /* too little RAM for anything */
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 4096, 2 * MiB + LINUX_ACPI_DATA_SIZE, &at), -EINVAL);
    free(k);
}

static void test_old_protocols(void **state)
{
    uint8_t *k = malloc(KSIZE);
    struct linux_layout at;
    /* 2.01, loaded high: real-mode part at 0x90000, command line below 0x9a000 by the old way */
    make_hdr(k, KSIZE, 0x201, 4);
    assert_int_equal(layout(k, KSIZE, KSIZE, "root=/dev/sda", 1, 4096, 64 * MiB, &at), 0);
    assert_int_equal(at.setup_addr, 0x90000);
    assert_int_equal(at.kernel_addr, 0x100000);
    assert_int_equal(at.cmdline_addr, 0x9a000 - 16);
    assert_int_equal(ld16(k + 0x20), 0xa33f);
    assert_int_equal(ld16(k + 0x22), 0x9a000 - 16 - 0x90000);
    /* a zImage (not loaded high): the kernel at 0x10000 must end below the setup at 0x90000 */
    make_hdr(k, KSIZE, 0x201, 4);
    k[0x211] = 0;
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 0, 0, 64 * MiB, &at), 0);
    assert_int_equal(at.kernel_addr, 0x10000);
    assert_int_equal(layout(k, KSIZE, 0x80001 + 5 * 512, "", 0, 0, 64 * MiB, &at), -EFBIG);
    /* before 2.00: no initrd */
    make_hdr(k, KSIZE, 0x1ff, 4);
    assert_int_equal(layout(k, KSIZE, KSIZE, "", 1, 4096, 64 * MiB, &at), -EINVAL);
    free(k);
}

/* ---- from files ---- */

static char dir[64];

static void write_file(const char *name, const uint8_t *data, size_t n, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void test_load_files(void **state)
{
    char kpath[128], ipath[128], tpath[128];
    uint8_t *k = malloc(KSIZE), i[5000], got[64];
    struct linux_boot lb;
    make_hdr(k, KSIZE, 0x20f, 30);
    memset(i, 0x5a, sizeof(i));
    write_file("vmlinuz", k, KSIZE, kpath, sizeof(kpath));
    write_file("initrd", i, sizeof(i), ipath, sizeof(ipath));
    write_file("short", k, 0x200, tpath, sizeof(tpath));

    assert_int_equal(linux_load(&lb, kpath, ipath, "quiet", 64 * MiB), 0);
    assert_int_equal(lb.setup.len, 31 * 512);
    assert_non_null(lb.setup.data);
    assert_int_equal(lb.setup.data[0x210], 0xb0);
    assert_memory_equal(lb.setup.data + 0x400, k + 0x400, 31 * 512 - 0x400);
    /* the kernel is the rest of the file, read on demand */
    assert_true(lb.kernel.fd >= 0);
    assert_int_equal(lb.kernel.len, KSIZE - 31 * 512);
    assert_int_equal(blob_read(&lb.kernel, 0, got, sizeof(got)), 0);
    assert_memory_equal(got, k + 31 * 512, sizeof(got));
    /* past the end reads zeros */
    assert_int_equal(blob_read(&lb.kernel, lb.kernel.len - 8, got, 16), 0);
    assert_memory_equal(got, k + KSIZE - 8, 8);
    assert_memory_equal(got + 8, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal(lb.initrd.len, sizeof(i));
    assert_int_equal(lb.cmdline.len, 6);
    assert_string_equal((char *)lb.cmdline.data, "quiet");
    assert_int_equal(ld32(lb.setup.data + 0x218), lb.at.initrd_addr);
    linux_free(&lb);
    assert_int_equal(lb.kernel.fd, -1);

    /* no command line: an empty one */
    assert_int_equal(linux_load(&lb, kpath, NULL, NULL, 64 * MiB), 0);
    assert_int_equal(lb.cmdline.len, 1);
    assert_int_equal(lb.initrd.fd, -1);
    linux_free(&lb);
    /* refusals leave nothing open */
    assert_int_equal(linux_load(&lb, tpath, NULL, "", 64 * MiB), -EINVAL);
    assert_int_equal(lb.kernel.fd, -1);
    assert_int_equal(linux_load(&lb, "/nonexistent/vmlinuz", NULL, "", 64 * MiB), -ENOENT);
    assert_int_equal(linux_load(&lb, kpath, "/nonexistent/initrd", "", 64 * MiB), -ENOENT);
    assert_int_equal(lb.kernel.fd, -1);
    assert_int_equal(linux_load(&lb, dir, NULL, "", 64 * MiB), -EINVAL); /* not a file */
    unlink(kpath);
    unlink(ipath);
    unlink(tpath);
    free(k);
}

static void test_rom_lookup(void **state)
{
    char path[128];
    uint8_t rom[1536] = { 0x55, 0xaa, 3 };
    struct blob b;
    write_file("linuxboot_dma.bin", rom, sizeof(rom), path, sizeof(path));
    assert_int_equal(rom_load(&b, dir, "linuxboot_dma.bin"), 0);
    assert_int_equal(b.len, sizeof(rom));
    assert_int_equal(b.fd, -1);
    assert_memory_equal(b.data, rom, sizeof(rom));
    blob_free(&b);
    unlink(path);
    assert_int_equal(rom_load(&b, dir, "linuxboot_dma.bin"), -ENOENT);
    assert_int_equal(rom_load(&b, dir, "../etc/passwd"), -EINVAL);
    assert_int_equal(rom_load(&b, dir, ""), -EINVAL);
    /* larger than an option ROM can be */
    uint8_t *big = calloc(1, ROM_MAX + 1);
    write_file("big.rom", big, ROM_MAX + 1, path, sizeof(path));
    assert_int_equal(rom_load(&b, dir, "big.rom"), -EFBIG);
    assert_null(b.data);
    unlink(path);
    free(big);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/hvmd-linux-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_header),
        cmocka_unit_test(test_truncated_and_bad_magic),
        cmocka_unit_test(test_oversized_setup),
        cmocka_unit_test(test_initrd_limits),
        cmocka_unit_test(test_old_protocols),
        cmocka_unit_test(test_load_files),
        cmocka_unit_test(test_rom_lookup),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, setup, teardown);
}

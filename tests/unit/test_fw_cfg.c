/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/fw_cfg: the port and DMA interfaces as SeaBIOS and linuxboot_dma.bin use them, the
 * items SeaBIOS reads under Xen, and direct Linux boot from a bzImage-shaped file. */
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
#include <sys/stat.h>
#include <unistd.h>
#include "dm/log.h"
#include "tests/lib/machine.h"

#define KSIZE 65536
#define ISIZE 100000
#define SETUP_SIZE 15872 /* (30 + 1) * 512: more than the first 8 KiB, as Debian's kernel */

struct files {
    char dir[64], kernel[96], initrd[96], rom[96];
};

static void write_file(const char *path, const uint8_t *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

/* A file shaped like a bzImage: boot protocol 2.15, 30 setup sectors, loaded high. */
static void make_files(struct files *b, int bzimage)
{
    strcpy(b->dir, "/tmp/hvmd-fwcfg-XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    snprintf(b->kernel, sizeof(b->kernel), "%s/vmlinuz", b->dir);
    snprintf(b->initrd, sizeof(b->initrd), "%s/initrd", b->dir);
    snprintf(b->rom, sizeof(b->rom), "%s/linuxboot_dma.bin", b->dir);
    uint8_t *k = malloc(KSIZE), *i = malloc(ISIZE), rom[1536];
    for (int n = 0; n < KSIZE; n++)
        k[n] = (uint8_t)(n * 31 + 7);
    for (int n = 0; n < ISIZE; n++)
        i[n] = (uint8_t)(n * 17 + 3);
    if (bzimage) {
        k[0x1f1] = 30;
        memcpy(k + 0x202, "HdrS", 4);
        st16(k + 0x206, 0x20f);
        k[0x210] = 0;
        k[0x211] = 0x01;
        st32(k + 0x22c, 0x7fffffff);
        st16(k + 0x236, 0);
    } else {
        memcpy(k + 0x202, "NOPE", 4);
    }
    memset(rom, 0, sizeof(rom));
    rom[0] = 0x55;
    rom[1] = 0xaa;
    rom[2] = 3;
    write_file(b->kernel, k, KSIZE);
    write_file(b->initrd, i, ISIZE);
    write_file(b->rom, rom, sizeof(rom));
    free(k);
    free(i);
}

static void remove_files(struct files *b)
{
    unlink(b->kernel);
    unlink(b->initrd);
    unlink(b->rom);
    rmdir(b->dir);
}

/* ---- the guest side, as SeaBIOS does it ---- */

static void select_key(struct fx_machine *b, uint16_t key) { fx_out(b->fx, 0x510, 2, key); }

static void read_port(struct fx_machine *b, uint16_t key, uint8_t *buf, unsigned n)
{
    select_key(b, key);
    for (unsigned i = 0; i < n; i++)
        buf[i] = (uint8_t)fx_in(b->fx, 0x511, 1);
}

/* One DMA transfer with the access structure at 0x1000. Returns the control word after. */
static uint32_t dma(struct fx_machine *b, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t *acc = b->fx->ram + 0x1000;
    st32(acc, __builtin_bswap32(control));
    st32(acc + 4, __builtin_bswap32(len));
    st64(acc + 8, __builtin_bswap64(addr));
    fx_out(b->fx, 0x514, 4, 0);
    fx_out(b->fx, 0x518, 4, __builtin_bswap32(0x1000));
    return __builtin_bswap32(ld32(acc));
}

static uint32_t dma_read_entry(struct fx_machine *b, uint16_t key, uint32_t len, uint64_t addr)
{
    return dma(b, ((uint32_t)key << 16) | 0x08 | 0x02, len, addr);
}

/* Find a file in the directory; its select key, or 0. */
static uint16_t find_file(struct fx_machine *b, const char *name, uint32_t *size)
{
    uint8_t cnt[4];
    read_port(b, 0x19, cnt, 4);
    uint32_t n = __builtin_bswap32(ld32(cnt));
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[64];
        for (int k = 0; k < 64; k++)
            e[k] = (uint8_t)fx_in(b->fx, 0x511, 1);
        if (!strcmp((char *)e + 8, name)) {
            if (size)
                *size = __builtin_bswap32(ld32(e));
            return __builtin_bswap16(ld16(e + 4));
        }
    }
    return 0;
}

static uint32_t read_u32(struct fx_machine *b, uint16_t key)
{
    uint8_t v[4];
    read_port(b, key, v, 4);
    return ld32(v);
}

static void test_signature_and_seabios_items(void **state)
{
    struct fx_machine b = { 0 };
    char err[256];
    const char *argv[] = { "-serial", "null", "-smp", "2,maxcpus=4" };
    assert_int_equal(fx_machine_up(&b, argv, 4, err, sizeof(err)), 0);
    uint8_t sig[4];
    read_port(&b, 0x00, sig, 4);
    assert_memory_equal(sig, "QEMU", 4);
    assert_int_equal(read_u32(&b, 0x01), 3); /* traditional + DMA */
    /* past the end of an item: zeros; an absent key: zeros */
    assert_int_equal(fx_in(b.fx, 0x511, 1), 0);
    assert_int_equal(read_u32(&b, 0x8000), 0); /* no ACPI tables through fw_cfg */
    assert_int_equal(read_u32(&b, 0x8003), 0); /* no E820 reservations */
    uint8_t v[2];
    read_port(&b, 0x0e, v, 2);
    assert_int_equal(ld16(v), 0);             /* etc/show-boot-menu: no wait */
    read_port(&b, 0x05, v, 2);
    assert_int_equal(ld16(v), 2);
    read_port(&b, 0x0f, v, 2);
    assert_int_equal(ld16(v), 4);
    /* no display, COM1 present: SeaBIOS's console goes to the serial port */
    uint32_t size = 0;
    uint16_t key = find_file(&b, "etc/sercon-port", &size);
    assert_true(key >= 0x20);
    assert_int_equal(size, 2);
    read_port(&b, key, v, 2);
    assert_int_equal(ld16(v), 0x3f8);
    /* etc/e820 must exist (SeaBIOS under Xen reads CMOS for high RAM otherwise): guest RAM */
    key = find_file(&b, "etc/e820", &size);
    assert_true(key >= 0x20);
    assert_int_equal(size, 20);
    uint8_t e820[20];
    read_port(&b, key, e820, 20);
    assert_int_equal(ld64(e820), 0);
    assert_int_equal(ld64(e820 + 8), 64ull << 20);
    assert_int_equal(ld32(e820 + 16), 1);
    /* DMA signature on the DMA ports */
    assert_int_equal(fx_in(b.fx, 0x514, 4), 0x554d4551);
    assert_int_equal(fx_in(b.fx, 0x518, 4), 0x47464320);
    fx_machine_down(&b);
}

static void test_no_sercon_without_serial(void **state)
{
    struct fx_machine b = { 0 };
    char err[256];
    assert_int_equal(fx_machine_up(&b, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(find_file(&b, "etc/sercon-port", NULL), 0);
    assert_int_equal(find_file(&b, "bootorder", NULL), 0);
    fx_machine_down(&b);
}

static void test_dma(void **state)
{
    struct fx_machine b = { 0 };
    char err[256];
    assert_int_equal(fx_machine_up(&b, NULL, 0, err, sizeof(err)), 0);
    memset(b.fx->ram + 0x2000, 0xee, 64);
    assert_int_equal(dma_read_entry(&b, 0x00, 8, 0x2000), 0);
    assert_memory_equal(b.fx->ram + 0x2000, "QEMU\0\0\0\0", 8); /* past the end: zeros */
    assert_int_equal(b.fx->ram[0x2008], 0xee);
    /* select, then read in pieces with a skip between */
    assert_int_equal(dma(&b, 0x08, 0, 0), 0); /* select key 0, move nothing */
    assert_int_equal(dma(&b, 0x04, 1, 0), 0); /* skip 'Q' */
    assert_int_equal(dma(&b, 0x02, 2, 0x3000), 0);
    assert_memory_equal(b.fx->ram + 0x3000, "EM", 2);
    /* the port interface continues where DMA left off */
    assert_int_equal(fx_in(b.fx, 0x511, 1), 'U');
    /* writes are refused with the error bit */
    assert_int_equal(dma(&b, 0x10, 4, 0x3000), 1);
    /* a target outside RAM: error, and the structure still completes */
    assert_int_equal(dma_read_entry(&b, 0x00, 4, 0xfee00000), 1);
    /* an access structure outside RAM: nothing to answer, nothing breaks */
    fx_out(b.fx, 0x514, 4, 0);
    fx_out(b.fx, 0x518, 4, __builtin_bswap32(0xfffff000));
    assert_int_equal(fx_in(b.fx, 0x514, 4), 0x554d4551);
    fx_machine_down(&b);
}

static void test_bootorder_from_boot_option(void **state)
{
    struct fx_machine b = { 0 };
    char err[256];
    const char *argv[] = { "-boot", "order=dc" };
    assert_int_equal(fx_machine_up(&b, argv, 2, err, sizeof(err)), 0);
    /* no IDE drives yet in this machine: the order names nothing, so there is no file */
    assert_int_equal(find_file(&b, "bootorder", NULL), 0);
    fx_machine_down(&b);
}

/* boot="n" (-boot order=n...): the NICs first, then the disk, as SeaBIOS matches them */
static void test_bootorder_nic(void **state)
{
    struct fx_machine b = { 0 };
    char err[256], order[256] = "";
    uint32_t size;
    const char *argv[] = { "-boot", "order=nc", "-device", "rtl8139,id=nic0,mac=00:16:3e:00:00:01",
                           "-device", "rtl8139,id=nic1", "-L", "/nonexistent" };
    assert_int_equal(fx_machine_up(&b, argv, 8, err, sizeof(err)), 0);
    uint16_t bo = find_file(&b, "bootorder", &size);
    assert_true(bo >= 0x20);
    read_port(&b, bo, (uint8_t *)order, size);
    assert_string_equal(order, "/pci@i0cf8/ethernet@4\n/pci@i0cf8/ethernet@5");
    fx_machine_down(&b);
}

static void test_direct_kernel_boot(void **state)
{
    struct fx_machine b = { 0 };
    struct files f;
    char err[256];
    make_files(&f, 1);
    const char *argv[] = { "-kernel", f.kernel, "-initrd", f.initrd,
                           "-append", "console=ttyS0 vga=0x317", "-L", f.dir, "-serial", "null" };
    assert_int_equal(fx_machine_up(&b, argv, 10, err, sizeof(err)), 0);

    /* what linuxboot_dma.bin reads, in its order */
    assert_int_equal(dma_read_entry(&b, 0x16, 4, 0x2000), 0);
    uint32_t setup_addr = ld32(b.fx->ram + 0x2000);
    assert_int_equal(setup_addr, 0x10000);
    assert_int_equal(dma_read_entry(&b, 0x17, 4, 0x2000), 0);
    uint32_t setup_size = ld32(b.fx->ram + 0x2000);
    assert_int_equal(setup_size, SETUP_SIZE);
    assert_int_equal(dma_read_entry(&b, 0x18, setup_size, setup_addr), 0);
    uint8_t *hdr = b.fx->ram + setup_addr;
    assert_memory_equal(hdr + 0x202, "HdrS", 4);
    assert_int_equal(hdr[0x210], 0xb0);           /* type of loader */
    assert_int_equal(hdr[0x211] & 0x81, 0x81);    /* loaded high, can use heap */
    assert_int_equal(ld32(hdr + 0x228), 0x20000); /* command line */
    assert_int_equal(ld16(hdr + 0x224), 0x20000 - 0x10000 - 0x200);
    assert_int_equal(ld16(hdr + 0x1fa), 0x317);   /* vga= */
    uint32_t initrd_addr = ld32(hdr + 0x218);
    assert_int_equal(ld32(hdr + 0x21c), ISIZE);
    assert_int_equal(initrd_addr & 0xfff, 0);
    assert_true(initrd_addr + ISIZE <= (64u << 20) - 0x28000);
    assert_int_equal(read_u32(&b, 0x0a), initrd_addr);
    assert_int_equal(read_u32(&b, 0x0b), ISIZE);
    /* the rest of the setup is the file's */
    int fd = open(f.kernel, O_RDONLY);
    uint8_t *k = malloc(KSIZE);
    assert_int_equal(read(fd, k, KSIZE), KSIZE);
    close(fd);
    assert_memory_equal(hdr + 0x400, k + 0x400, SETUP_SIZE - 0x400);

    /* initrd and kernel in one DMA transfer each, byte for byte */
    uint64_t fwd = b.fx->forwarded;
    assert_int_equal(dma_read_entry(&b, 0x12, ISIZE, initrd_addr), 0);
    assert_int_equal(b.fx->forwarded - fwd, 2);
    for (int n = 0; n < ISIZE; n++)
        if (b.fx->ram[initrd_addr + n] != (uint8_t)(n * 17 + 3))
            fail_msg("initrd byte %d differs", n);
    assert_int_equal(read_u32(&b, 0x07), 0x100000);
    assert_int_equal(read_u32(&b, 0x08), KSIZE - SETUP_SIZE);
    assert_int_equal(dma_read_entry(&b, 0x11, KSIZE - SETUP_SIZE, 0x100000), 0);
    assert_memory_equal(b.fx->ram + 0x100000, k + SETUP_SIZE, KSIZE - SETUP_SIZE);
    /* the command line */
    assert_int_equal(read_u32(&b, 0x13), 0x20000);
    assert_int_equal(read_u32(&b, 0x14), strlen("console=ttyS0 vga=0x317") + 1);
    assert_int_equal(dma_read_entry(&b, 0x15, 24, 0x20000), 0);
    assert_string_equal((char *)b.fx->ram + 0x20000, "console=ttyS0 vga=0x317");
    /* the kernel through the data port too (rep insb, the old way), in bulk */
    select_key(&b, 0x11);
    fwd = b.fx->forwarded;
    fx_rep_in(b.fx, 0x511, 1, 4096, 0x400000, 0);
    assert_int_equal(b.fx->forwarded - fwd, 1);
    assert_memory_equal(b.fx->ram + 0x400000, k + SETUP_SIZE, 4096);
    free(k);

    /* the option ROM, first in the boot order */
    uint32_t size;
    uint16_t rom = find_file(&b, "genroms/linuxboot_dma.bin", &size);
    assert_true(rom >= 0x20);
    assert_int_equal(size, 1536);
    uint8_t sig[2];
    read_port(&b, rom, sig, 2);
    assert_int_equal(sig[0], 0x55);
    assert_int_equal(sig[1], 0xaa);
    uint16_t bo = find_file(&b, "bootorder", &size);
    char order[128] = "";
    read_port(&b, bo, (uint8_t *)order, size);
    assert_string_equal(order, "/rom@genroms/linuxboot_dma.bin");
    fx_machine_down(&b);
    remove_files(&f);
}

static void test_kernel_refusals(void **state)
{
    struct fx_machine b = { 0 };
    struct files f;
    char err[256] = "";
    make_files(&f, 0);
    const char *notbz[] = { "-kernel", f.kernel, "-L", f.dir };
    assert_true(fx_machine_up(&b, notbz, 4, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "fw_cfg"));
    remove_files(&f);
    make_files(&f, 1);
    const char *norom[] = { "-kernel", f.kernel, "-L", "/nonexistent" };
    assert_true(fx_machine_up(&b, norom, 4, err, sizeof(err)) < 0);
    const char *noinitrd[] = { "-kernel", f.kernel, "-initrd", "/nonexistent/initrd", "-L", f.dir };
    assert_true(fx_machine_up(&b, noinitrd, 6, err, sizeof(err)) < 0);
    /* with 2 MiB there is no room for a kernel and its initrd */
    const char *big[] = { "-kernel", f.kernel, "-initrd", f.kernel, "-L", f.dir, "-m", "2" };
    assert_true(fx_machine_up(&b, big, 8, err, sizeof(err)) < 0);
    remove_files(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_and_seabios_items),
        cmocka_unit_test(test_no_sercon_without_serial),
        cmocka_unit_test(test_dma),
        cmocka_unit_test(test_bootorder_from_boot_option),
        cmocka_unit_test(test_bootorder_nic),
        cmocka_unit_test(test_direct_kernel_boot),
        cmocka_unit_test(test_kernel_refusals),
    };
    log_set_level(LOG_ERR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

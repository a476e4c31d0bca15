/* SPDX-License-Identifier: GPL-2.0-only */
/* QEMU's firmware configuration device (fw_cfg) with its DMA interface, and direct Linux boot.
 * Spec: QEMU docs/specs/fw_cfg.rst (ports 0x510 selector, 0x511 data, 0x514 DMA address
 * big-endian high then low, the DMA access structure, the file directory); Linux
 * Documentation/arch/x86/boot.rst (the real-mode header a boot loader fills in).
 *
 * SeaBIOS under Xen (CONFIG_XEN) uses fw_cfg too: xen_preinit marks the platform PF_QEMU|PF_XEN
 * and qemu_cfg_init then probes the signature and reads the file directory (src/fw/xen.c,
 * src/fw/paravirt.c); only the RAM map and the ACPI/SMBIOS tables come from hvmloader
 * instead. qemu-xen creates fw_cfg only for -kernel; hvmd always does, so every boot gets:
 *   - etc/show-boot-menu (legacy key 0x0e) = 0: no "Press ESC" wait (2.6 s nested);
 *   - bootorder from -boot order=... (IDE disks, CD-ROMs, NICs found on PCI bus 0);
 *   - etc/sercon-port = 0x3f8 when there is no display but a COM1: SeaBIOS's text console,
 *     its messages and option ROMs' output go to the serial port;
 *   - etc/e820 (see add_e820: without it SeaBIOS invents RAM above 4 GiB from Xen's CMOS);
 *   - NOGRAPHIC, NB_CPUS, MAX_CPUS, an empty E820 reservation table;
 * and with -kernel: the kernel, initrd and command line items and the option ROM
 * genroms/linuxboot_dma.bin (Debian's qemu-system-data, from -L DIR, default /usr/share/qemu)
 * that loads them through DMA: one round trip per item instead of one per byte.
 * The kernel's parts and the option ROM come from firmware/ (firmware/linux.h, firmware/rom.h)
 * as blobs; this device publishes them under its keys. Data items are read from the files as
 * the guest asks (pread), never held in memory.
 * Left out: writable items, ACPI table-loader / SMBIOS items (hvmloader builds those). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "firmware/blob.h"
#include "firmware/linux.h"
#include "firmware/rom.h"

#define PORT_CTL 0x510 /* 2 bytes: selector at 0x510, data at 0x511 */
#define PORT_DMA 0x514 /* 8 bytes: address high, address low (big-endian) */

/* keys */
#define FW_SIGNATURE 0x00
#define FW_ID 0x01
#define FW_UUID 0x02
#define FW_NOGRAPHIC 0x04
#define FW_NB_CPUS 0x05
#define FW_KERNEL_ADDR 0x07
#define FW_KERNEL_SIZE 0x08
#define FW_KERNEL_CMDLINE 0x09
#define FW_INITRD_ADDR 0x0a
#define FW_INITRD_SIZE 0x0b
#define FW_BOOT_DEVICE 0x0c
#define FW_BOOT_MENU 0x0e
#define FW_MAX_CPUS 0x0f
#define FW_KERNEL_DATA 0x11
#define FW_INITRD_DATA 0x12
#define FW_CMDLINE_ADDR 0x13
#define FW_CMDLINE_SIZE 0x14
#define FW_CMDLINE_DATA 0x15
#define FW_SETUP_ADDR 0x16
#define FW_SETUP_SIZE 0x17
#define FW_SETUP_DATA 0x18
#define FW_FILE_DIR 0x19
#define FW_FILE_FIRST 0x20
#define FW_E820_TABLE 0x8003

#define FW_ID_TRADITIONAL 0x1
#define FW_ID_DMA 0x2

#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10

#define MAX_ITEMS 64
#define FILE_NAME_LEN 56
#define DMA_CHUNK 65536

struct item {
    uint16_t key;
    char name[FILE_NAME_LEN]; /* files only */
    struct blob blob;         /* in memory, or read from a file as the guest asks */
};

struct fw_cfg {
    struct vm *vm;
    struct io_region *r_ctl, *r_dma;
    struct item items[MAX_ITEMS];
    unsigned n_items;
    uint16_t next_file_key;
    struct item *cur; /* selected item, or NULL */
    uint32_t cur_off;
    uint32_t dma_hi;
    uint64_t dma_transfers, dma_bytes;
    struct ratelimit rl;
    uint8_t cache[512]; /* read-ahead for byte-wise reads of file-backed items */
    const struct item *cache_item;
    uint32_t cache_off, cache_len;
};

/* ---- items ---- */

static struct item *find(struct fw_cfg *s, uint16_t key)
{
    for (unsigned i = 0; i < s->n_items; i++)
        if (s->items[i].key == key)
            return &s->items[i];
    return NULL;
}

/* A cleared slot for KEY (counted once filled in), or NULL if full or KEY is taken. */
static struct item *new_item(struct fw_cfg *s, uint16_t key)
{
    if (s->n_items == MAX_ITEMS || find(s, key))
        return NULL;
    struct item *it = &s->items[s->n_items];
    memset(it, 0, sizeof(*it));
    it->key = key;
    return it;
}

static struct item *add_item(struct fw_cfg *s, uint16_t key, const void *data, uint32_t len)
{
    struct item *it = new_item(s, key);
    if (!it || blob_copy(&it->blob, data, len) < 0)
        return NULL;
    s->n_items++;
    return it;
}

/* Publish B under KEY: bytes in memory are copied, a file is taken (B's fd becomes -1). */
static struct item *add_blob(struct fw_cfg *s, uint16_t key, struct blob *b)
{
    if (b->fd < 0)
        return add_item(s, key, b->data, b->len);
    struct item *it = new_item(s, key);
    if (!it)
        return NULL;
    it->blob = *b;
    it->blob.data = NULL;
    b->fd = -1;
    s->n_items++;
    return it;
}

static int add_u16(struct fw_cfg *s, uint16_t key, uint16_t v)
{
    uint8_t b[2];
    st16(b, v);
    return add_item(s, key, b, 2) ? 0 : -ENOMEM;
}

static int add_u32(struct fw_cfg *s, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    st32(b, v);
    return add_item(s, key, b, 4) ? 0 : -ENOMEM;
}

static int add_named(struct fw_cfg *s, const char *name, const void *data, uint32_t len)
{
    if (strlen(name) >= FILE_NAME_LEN)
        return -EINVAL;
    struct item *it = add_item(s, s->next_file_key, data, len);
    if (!it)
        return -ENOMEM;
    s->next_file_key++;
    snprintf(it->name, sizeof(it->name), "%s", name);
    return 0;
}

/* The file directory: count, then {size, select, reserved, name[56]}, all big-endian. */
static int build_dir(struct fw_cfg *s)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->n_items; i++)
        if (s->items[i].key >= FW_FILE_FIRST && s->items[i].key < 0x4000)
            n++;
    uint32_t len = 4 + 64 * n;
    uint8_t *d = calloc(1, len);
    if (!d)
        return -ENOMEM;
    st32(d, __builtin_bswap32(n));
    uint8_t *e = d + 4;
    for (unsigned i = 0; i < s->n_items; i++) {
        const struct item *it = &s->items[i];
        if (it->key < FW_FILE_FIRST || it->key >= 0x4000)
            continue;
        st32(e, __builtin_bswap32(it->blob.len));
        st16(e + 4, __builtin_bswap16(it->key));
        memcpy(e + 8, it->name, FILE_NAME_LEN);
        e += 64;
    }
    struct item *it = add_item(s, FW_FILE_DIR, d, len);
    free(d);
    return it ? 0 : -ENOMEM;
}

static void select_key(struct fw_cfg *s, uint16_t key)
{
    s->cur = find(s, key);
    s->cur_off = 0;
    if ((key & 0x4000) && s->cur == NULL)
        log_guest(&s->rl, "fw_cfg", "write selector %#x: no writable items", key);
}

/* One byte of the selected item (0 past its end or with nothing selected). */
static uint8_t next_byte(struct fw_cfg *s)
{
    const struct item *it = s->cur;
    if (!it || s->cur_off >= it->blob.len)
        return 0;
    uint32_t off = s->cur_off++;
    if (it->blob.fd < 0)
        return it->blob.data[off];
    if (s->cache_item != it || off < s->cache_off || off >= s->cache_off + s->cache_len) {
        s->cache_item = it;
        s->cache_off = off;
        s->cache_len = MIN((uint32_t)sizeof(s->cache), it->blob.len - off);
        if (blob_read(&it->blob, off, s->cache, s->cache_len) < 0) {
            s->cache_item = NULL;
            return 0;
        }
    }
    return s->cache[off - s->cache_off];
}

/* ---- port interface ---- */

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    struct fw_cfg *s = opaque;
    if (off == 1 && size == 1)
        return next_byte(s);
    return 0; /* the selector is write-only */
}

static void ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct fw_cfg *s = opaque;
    if (off == 0 && size == 2)
        select_key(s, (uint16_t)val);
    /* data-port writes are ignored, as in QEMU since 2.4 */
}

static uint32_t ctl_read_rep(void *opaque, uint64_t off, unsigned size, uint32_t count, void *buf)
{
    struct fw_cfg *s = opaque;
    if (off != 1 || size != 1)
        return 0;
    const struct item *it = s->cur;
    uint32_t avail = it && s->cur_off < it->blob.len ? it->blob.len - s->cur_off : 0;
    uint32_t n = MIN(avail, count);
    if (it && n && blob_read(&it->blob, s->cur_off, buf, n) == 0) {
        s->cur_off += n;
    } else {
        n = 0;
    }
    memset((uint8_t *)buf + n, 0, count - n);
    return count;
}

static const struct io_ops ctl_ops = { .read = ctl_read, .write = ctl_write,
                                       .read_rep = ctl_read_rep };

/* ---- DMA ---- */

static void dma_run(struct fw_cfg *s, uint64_t addr)
{
    struct mem *mem = s->vm->mem;
    uint8_t acc[16];
    uint32_t status = 0;

    s->dma_transfers++;
    if (mem_read(mem, addr, acc, sizeof(acc)) < 0) {
        log_guest(&s->rl, "fw_cfg", "DMA access structure at %#llx is not in RAM",
                  (unsigned long long)addr);
        return; /* nowhere to report the error */
    }
    uint32_t control = __builtin_bswap32(ld32(acc));
    uint32_t length = __builtin_bswap32(ld32(acc + 4));
    uint64_t target = __builtin_bswap64(ld64(acc + 8));

    if (control & DMA_SELECT)
        select_key(s, (uint16_t)(control >> 16));
    if (control & DMA_WRITE) {
        status = DMA_ERROR; /* no writable items */
    } else if (control & DMA_READ) {
        uint8_t *buf = malloc(DMA_CHUNK);
        if (!buf) {
            status = DMA_ERROR;
        } else {
            uint32_t done = 0;
            while (done < length) {
                uint32_t n = MIN(length - done, (uint32_t)DMA_CHUNK);
                const struct item *it = s->cur;
                int r = 0;
                if (it)
                    r = blob_read(&it->blob, s->cur_off, buf, n);
                else
                    memset(buf, 0, n);
                if (r < 0 || mem_write(mem, target + done, buf, n) < 0) {
                    status = DMA_ERROR;
                    break;
                }
                if (it)
                    s->cur_off = (uint32_t)MIN((uint64_t)s->cur_off + n, (uint64_t)it->blob.len);
                done += n;
            }
            s->dma_bytes += done;
            free(buf);
            if (status)
                log_guest(&s->rl, "fw_cfg", "DMA read of %u bytes to %#llx failed", length,
                          (unsigned long long)target);
        }
    } else if (control & DMA_SKIP) {
        if (s->cur)
            s->cur_off = (uint32_t)MIN((uint64_t)s->cur_off + length, (uint64_t)s->cur->blob.len);
    }
    uint8_t ctl[4];
    st32(ctl, __builtin_bswap32(status));
    if (mem_write(mem, addr, ctl, 4) < 0)
        log_guest(&s->rl, "fw_cfg", "cannot complete DMA at %#llx", (unsigned long long)addr);
}

static uint64_t dma_read(void *opaque, uint64_t off, unsigned size)
{
    /* "QEMU CFG", big-endian, as the DMA interface's signature */
    static const uint8_t sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
    return ld_window(sig, sizeof(sig), off, size);
}

static void dma_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct fw_cfg *s = opaque;
    if (size != 4)
        return;
    if (off == 0) {
        s->dma_hi = __builtin_bswap32((uint32_t)val);
    } else if (off == 4) {
        uint64_t addr = ((uint64_t)s->dma_hi << 32) | __builtin_bswap32((uint32_t)val);
        s->dma_hi = 0;
        dma_run(s, addr);
    }
}

static const struct io_ops dma_ops = { .read = dma_read, .write = dma_write };

/* ---- direct Linux boot: firmware/linux's parts under their keys ---- */

/* One part of the kernel: its load address under ADDR_KEY, its size under SIZE_KEY, its
 * bytes under DATA_KEY (the item takes the blob's file). */
static int add_part(struct fw_cfg *s, uint16_t addr_key, uint16_t size_key, uint16_t data_key,
                    uint32_t addr, struct blob *b)
{
    uint32_t len = b->len;
    if (add_u32(s, addr_key, addr) < 0 || add_u32(s, size_key, len) < 0 ||
        !add_blob(s, data_key, b))
        return -ENOMEM;
    return 0;
}

static int add_linux(struct fw_cfg *s, const struct config *cfg)
{
    struct linux_boot lb;
    struct blob rom;
    uint64_t lowmem, highmem;

    cfg_ram_layout(cfg, &lowmem, &highmem);
    int r = linux_load(&lb, cfg->kernel, cfg->initrd, cfg->append, lowmem);
    if (r < 0)
        return r;
    if (cfg->initrd)
        r = add_part(s, FW_INITRD_ADDR, FW_INITRD_SIZE, FW_INITRD_DATA, lb.at.initrd_addr, &lb.initrd);
    if (r == 0)
        r = add_part(s, FW_CMDLINE_ADDR, FW_CMDLINE_SIZE, FW_CMDLINE_DATA, lb.at.cmdline_addr, &lb.cmdline);
    if (r == 0)
        r = add_part(s, FW_KERNEL_ADDR, FW_KERNEL_SIZE, FW_KERNEL_DATA, lb.at.kernel_addr, &lb.kernel);
    if (r == 0)
        r = add_part(s, FW_SETUP_ADDR, FW_SETUP_SIZE, FW_SETUP_DATA, lb.at.setup_addr, &lb.setup);
    linux_free(&lb);
    if (r < 0)
        return r;
    /* the option ROM that does the loading, first in the boot order */
    r = rom_load(&rom, cfg->fw_dir, "linuxboot_dma.bin");
    if (r < 0)
        return r;
    r = add_named(s, "genroms/linuxboot_dma.bin", rom.data, rom.len);
    blob_free(&rom);
    return r;
}

/* ---- boot order ---- */

struct nic_scan {
    char *buf;
    size_t len, cap;
};

static void append(struct nic_scan *b, const char *line)
{
    size_t n = strlen(line);
    if (b->len + n + 1 < b->cap) {
        memcpy(b->buf + b->len, line, n);
        b->len += n;
        b->buf[b->len] = 0;
    }
}

static void nic_line(void *opaque, struct pci_dev *d)
{
    struct nic_scan *b = opaque;
    char line[64];
    if (pci_get8(d, PCI_CLASS_DEVICE + 1) == 0x02 && PCI_FN(d->devfn) == 0) {
        snprintf(line, sizeof(line), "/pci@i0cf8/ethernet@%x\n", PCI_SLOT(d->devfn));
        append(b, line);
    }
}

static int build_bootorder(struct fw_cfg *s, struct config *cfg)
{
    char buf[1024] = "", line[96], err[256];
    struct nic_scan b = { buf, 0, sizeof(buf) };
    struct cfg_ide ide[4];

    if (cfg->kernel)
        append(&b, "/rom@genroms/linuxboot_dma.bin\n");
    if (cfg_ide(cfg, ide, err, sizeof(err)) < 0)
        memset(ide, 0, sizeof(ide)); /* the IDE device reports the error */
    for (const char *p = cfg->boot_order; *p; p++) {
        if (*p == 'c' || *p == 'd') {
            for (unsigned i = 0; i < 4; i++)
                if (ide[i].media == (*p == 'c' ? CFG_MEDIA_DISK : CFG_MEDIA_CDROM)) {
                    snprintf(line, sizeof(line), "/pci@i0cf8/ide@1,1/drive@%u/disk@%u\n", i / 2, i % 2);
                    append(&b, line);
                }
        } else if (*p == 'n') {
            pci_for_each(s->vm->pci, nic_line, &b);
        }
    }
    if (!b.len)
        return 0;
    b.buf[b.len - 1] = 0; /* no trailing newline */
    return add_named(s, "bootorder", b.buf, (uint32_t)b.len);
}

/* etc/e820: guest RAM, {u64 address, u64 length, u32 type} little-endian per entry. SeaBIOS
 * under Xen takes its memory map from hvmloader, but without this file its qemu_cfg_e820
 * adds "RAM above 4 GiB" from CMOS registers 0x5b-0x5d, which Xen's RTC does not hold (they
 * read 0xff: a terabyte of RAM that is not there, and a kernel that dies on it). */
static int add_e820(struct fw_cfg *s, const struct config *cfg)
{
    uint8_t e[2][20];
    uint64_t lowmem, highmem;
    unsigned n = 0;
    cfg_ram_layout(cfg, &lowmem, &highmem);
    st64(e[n], 0);
    st64(e[n] + 8, lowmem);
    st32(e[n] + 16, 1); /* E820_RAM */
    n++;
    if (highmem > (1ull << 32)) {
        st64(e[n], 1ull << 32);
        st64(e[n] + 8, highmem - (1ull << 32));
        st32(e[n] + 16, 1);
        n++;
    }
    return add_named(s, "etc/e820", e, 20 * n);
}

/* ---- state: the selector, the offset in the selected item, the DMA address's high half.
 * The items are host configuration (the command line, the kernel's files), not state: the
 * machine a stream is loaded into is created from the same command line, so the selected item
 * must exist here and be long enough. ---- */

static int fw_cfg_save(void *state, struct snap_writer *w)
{
    struct fw_cfg *s = state;
    snap_put_bool(w, "selected", s->cur != NULL);
    snap_put_u16(w, "key", s->cur ? s->cur->key : 0);
    snap_put_u32(w, "offset", s->cur_off);
    snap_put_u32(w, "dma_hi", s->dma_hi);
    return 0;
}

static int fw_cfg_load(void *state, struct snap_reader *r, int commit)
{
    struct fw_cfg *s = state;
    int selected;
    uint16_t key;
    uint32_t off, dma_hi;
    struct item *it = NULL;
    if (snap_get_bool(r, "selected", &selected) < 0 || snap_get_u16(r, "key", &key) < 0)
        return -EINVAL;
    if (selected && !(it = find(s, key)))
        return snap_fail(r, NULL, "item %#x is not in this machine's fw_cfg", key);
    if (!selected && key)
        return snap_fail(r, NULL, "%#x with no item selected", key);
    if (snap_get_u32_in(r, "offset", &off, 0, it ? it->blob.len : 0) < 0 ||
        snap_get_u32(r, "dma_hi", &dma_hi) < 0)
        return -EINVAL;
    if (commit) {
        s->cur = it;
        s->cur_off = off;
        s->dma_hi = dma_hi;
        s->cache_item = NULL;
    }
    return 0;
}

/* ---- the device ---- */

static void fw_cfg_destroy(void *state)
{
    struct fw_cfg *s = state;
    if (!s)
        return;
    bus_del(s->vm->bus, s->r_ctl);
    bus_del(s->vm->bus, s->r_dma);
    for (unsigned i = 0; i < s->n_items; i++)
        blob_free(&s->items[i].blob); /* each file backs one item */
    free(s);
}

static int fw_cfg_create(struct vm *vm, void **state)
{
    struct config *cfg = vm->cfg;
    static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
    uint8_t uuid[16] = { 0 };
    int r = -ENOMEM;
    struct fw_cfg *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->vm = vm;
    s->next_file_key = FW_FILE_FIRST;
    if (!add_item(s, FW_SIGNATURE, sig, 4) || add_u32(s, FW_ID, FW_ID_TRADITIONAL | FW_ID_DMA) ||
        !add_item(s, FW_UUID, uuid, 16) ||
        add_u16(s, FW_NOGRAPHIC, (uint16_t)(cfg && cfg->nographic)) ||
        add_u16(s, FW_NB_CPUS, (uint16_t)(cfg ? cfg->smp : 1)) ||
        add_u16(s, FW_MAX_CPUS, (uint16_t)(cfg ? cfg->maxcpus : 1)) ||
        add_u16(s, FW_BOOT_MENU, 0) || add_u32(s, FW_E820_TABLE, 0))
        goto fail;
    if (cfg) {
        if (cfg->kernel) {
            r = add_linux(s, cfg);
            if (r < 0)
                goto fail;
        }
        r = build_bootorder(s, cfg);
        if (r < 0)
            goto fail;
        r = add_e820(s, cfg);
        if (r < 0)
            goto fail;
        /* SeaBIOS's console (and iPXE's, GRUB's through the BIOS) on COM1; with a VGA,
         * SeaBIOS's sercon mirrors its int 10h output there beside the screen */
        if (cfg->n_serial > 0 && strcmp(cfg->serial[0], "none")) {
            uint8_t port[2];
            st16(port, 0x3f8);
            r = add_named(s, "etc/sercon-port", port, 2);
            if (r < 0)
                goto fail;
        }
    }
    r = build_dir(s);
    if (r < 0)
        goto fail;
    r = bus_add_pio(vm->bus, "fw_cfg", PORT_CTL, 2, &ctl_ops, s, &s->r_ctl);
    if (r == 0)
        r = bus_add_pio(vm->bus, "fw_cfg-dma", PORT_DMA, 8, &dma_ops, s, &s->r_dma);
    if (r < 0)
        goto fail;
    *state = s;
    return 0;
fail:
    fw_cfg_destroy(s);
    return r < 0 ? r : -ENOMEM;
}

DEVICE(dev_fw_cfg, "fw_cfg", 1, fw_cfg_create, fw_cfg_destroy, fw_cfg_save, fw_cfg_load);

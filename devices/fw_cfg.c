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
 * Data items are read from the files as the guest asks (pread), never held in memory.
 * Left out: writable items, ACPI table-loader / SMBIOS items (hvmloader builds those),
 * multiboot and ELF (PVH) kernels, setup_data (dtb, RNG seed). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#ifndef HVMD_FIRMWARE_DIR
#define HVMD_FIRMWARE_DIR "/usr/share/qemu"
#endif

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
    uint8_t *data;            /* in memory, or */
    int fd;                   /* ... read from fd at off (fd >= 0) */
    uint64_t off;
    uint32_t len;
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

static struct item *add_item(struct fw_cfg *s, uint16_t key, const void *data, uint32_t len)
{
    if (s->n_items == MAX_ITEMS || find(s, key))
        return NULL;
    struct item *it = &s->items[s->n_items];
    memset(it, 0, sizeof(*it));
    it->key = key;
    it->fd = -1;
    it->len = len;
    it->data = malloc(len ? len : 1);
    if (!it->data)
        return NULL;
    if (len)
        memcpy(it->data, data, len);
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

static int add_file_item(struct fw_cfg *s, uint16_t key, int fd, uint64_t off, uint32_t len)
{
    if (s->n_items == MAX_ITEMS || find(s, key))
        return -ENOSPC;
    struct item *it = &s->items[s->n_items++];
    memset(it, 0, sizeof(*it));
    it->key = key;
    it->fd = fd;
    it->off = off;
    it->len = len;
    return 0;
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
        st32(e, __builtin_bswap32(it->len));
        st16(e + 4, __builtin_bswap16(it->key));
        memcpy(e + 8, it->name, FILE_NAME_LEN);
        e += 64;
    }
    struct item *it = add_item(s, FW_FILE_DIR, d, len);
    free(d);
    return it ? 0 : -ENOMEM;
}

/* Copy [off, off+len) of IT into BUF; bytes past its end are 0. 0, or -EIO. */
static int item_read(const struct item *it, uint32_t off, uint8_t *buf, uint32_t len)
{
    uint32_t avail = off < it->len ? it->len - off : 0;
    uint32_t n = MIN(avail, len);
    if (n) {
        if (it->fd < 0) {
            memcpy(buf, it->data + off, n);
        } else {
            uint32_t done = 0;
            while (done < n) {
                ssize_t r = pread(it->fd, buf + done, n - done, (off_t)(it->off + off + done));
                if (r <= 0)
                    return -EIO;
                done += (uint32_t)r;
            }
        }
    }
    memset(buf + n, 0, len - n);
    return 0;
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
    if (!it || s->cur_off >= it->len)
        return 0;
    uint32_t off = s->cur_off++;
    if (it->fd < 0)
        return it->data[off];
    if (s->cache_item != it || off < s->cache_off || off >= s->cache_off + s->cache_len) {
        s->cache_item = it;
        s->cache_off = off;
        s->cache_len = MIN((uint32_t)sizeof(s->cache), it->len - off);
        if (item_read(it, off, s->cache, s->cache_len) < 0) {
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
    uint32_t avail = it && s->cur_off < it->len ? it->len - s->cur_off : 0;
    uint32_t n = MIN(avail, count);
    if (it && n && item_read(it, s->cur_off, buf, n) == 0) {
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
                    r = item_read(it, s->cur_off, buf, n);
                else
                    memset(buf, 0, n);
                if (r < 0 || mem_write(mem, target + done, buf, n) < 0) {
                    status = DMA_ERROR;
                    break;
                }
                if (it)
                    s->cur_off = (uint32_t)MIN((uint64_t)s->cur_off + n, (uint64_t)it->len);
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
            s->cur_off = (uint32_t)MIN((uint64_t)s->cur_off + length, (uint64_t)s->cur->len);
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
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)sig[off + i] << (8 * i);
    return v;
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

/* ---- direct Linux boot ---- */

#define ACPI_DATA_SIZE 0x28000 /* what QEMU keeps free below the top of low RAM */

static int open_file(const char *what, const char *path, uint64_t *size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_err("%s %s: %s", what, path, strerror(errno));
        return -errno;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        log_err("%s %s: not a regular, non-empty file", what, path);
        close(fd);
        return -EINVAL;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

/* vga= on the command line sets the header's video mode, as boot loaders do. */
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

#define SETUP_MAX ((255 + 1) * 512) /* setup_sects is a byte */

static int load_linux_into(struct fw_cfg *s, const struct config *cfg, int *kfd, int *ifd,
                           uint8_t *hdr)
{
    uint64_t ksize, isize = 0, lowmem, highmem;
    const char *cmdline = cfg->append ? cfg->append : "";
    int r;

    *kfd = open_file("-kernel", cfg->kernel, &ksize);
    if (*kfd < 0)
        return *kfd;
    if (ksize > 0xffffffffu) {
        log_err("-kernel %s: too large", cfg->kernel);
        return -EFBIG;
    }
    uint32_t hlen = (uint32_t)MIN(ksize, (uint64_t)SETUP_MAX);
    if (pread(*kfd, hdr, hlen, 0) != (ssize_t)hlen) {
        log_err("-kernel %s: cannot read its header", cfg->kernel);
        return -EIO;
    }
    if (hlen < 0x250 || ld32(hdr + 0x202) != 0x53726448 /* "HdrS" */) {
        log_err("-kernel %s: not a Linux bzImage (hvmd boots only bzImage kernels directly)",
                cfg->kernel);
        return -EINVAL;
    }
    uint16_t protocol = ld16(hdr + 0x206);
    uint32_t real_addr, cmdline_addr, prot_addr;
    size_t cmdline_len = strlen(cmdline);
    if (protocol < 0x200 || !(hdr[0x211] & 0x01)) {
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
    if (cmdline_len >= 0x8000 || (protocol < 0x202 && cmdline_len >= 0xa000 - 0x200)) {
        log_err("-append: command line too long for this kernel");
        return -EINVAL;
    }

    cfg_ram_layout(cfg, &lowmem, &highmem);
    uint32_t initrd_max;
    if (protocol >= 0x20c && (ld16(hdr + 0x236) & 0x2 /* XLF_CAN_BE_LOADED_ABOVE_4G */))
        initrd_max = 0xffffffffu;
    else if (protocol >= 0x203)
        initrd_max = ld32(hdr + 0x22c);
    else
        initrd_max = 0x37ffffff;
    if (lowmem <= ACPI_DATA_SIZE + 0x200000) {
        log_err("-m %llu: too little memory for a kernel", (unsigned long long)cfg->mem_mb);
        return -EINVAL;
    }
    if (initrd_max >= lowmem - ACPI_DATA_SIZE)
        initrd_max = (uint32_t)(lowmem - ACPI_DATA_SIZE - 1);

    if (protocol >= 0x202) {
        st32(hdr + 0x228, cmdline_addr);
    } else {
        st16(hdr + 0x20, 0xa33f);
        st16(hdr + 0x22, (uint16_t)(cmdline_addr - real_addr));
    }
    uint16_t mode;
    r = vga_mode(cmdline, &mode);
    if (r < 0) {
        log_err("-append: bad vga= value");
        return r;
    }
    if (r > 0)
        st16(hdr + 0x1fa, mode);
    if (protocol >= 0x200)
        hdr[0x210] = 0xb0; /* type_of_loader: QEMU's, so kernels treat us alike */
    if (protocol >= 0x201) {
        hdr[0x211] |= 0x80; /* CAN_USE_HEAP */
        st16(hdr + 0x224, (uint16_t)(cmdline_addr - real_addr - 0x200));
    }
    if (cfg->initrd) {
        if (protocol < 0x200) {
            log_err("-initrd: this kernel is too old to take an initrd");
            return -EINVAL;
        }
        *ifd = open_file("-initrd", cfg->initrd, &isize);
        if (*ifd < 0)
            return *ifd;
        if (isize >= initrd_max) {
            log_err("-initrd %s: %llu bytes do not fit below %#x", cfg->initrd,
                    (unsigned long long)isize, initrd_max);
            return -EFBIG;
        }
        uint32_t initrd_addr = (uint32_t)((initrd_max - isize) & ~4095ull);
        st32(hdr + 0x218, initrd_addr);
        st32(hdr + 0x21c, (uint32_t)isize);
        r = add_u32(s, FW_INITRD_ADDR, initrd_addr);
        if (r == 0)
            r = add_u32(s, FW_INITRD_SIZE, (uint32_t)isize);
        if (r == 0)
            r = add_file_item(s, FW_INITRD_DATA, *ifd, 0, (uint32_t)isize);
        if (r < 0)
            return r;
    }
    uint32_t setup_size = ((uint32_t)(hdr[0x1f1] ? hdr[0x1f1] : 4) + 1) * 512;
    if (setup_size > ksize) {
        log_err("-kernel %s: invalid setup size", cfg->kernel);
        return -EINVAL;
    }
    r = add_u32(s, FW_CMDLINE_ADDR, cmdline_addr);
    if (r == 0)
        r = add_u32(s, FW_CMDLINE_SIZE, (uint32_t)cmdline_len + 1);
    if (r == 0)
        r = add_item(s, FW_CMDLINE_DATA, cmdline, (uint32_t)cmdline_len + 1) ? 0 : -ENOMEM;
    if (r == 0)
        r = add_u32(s, FW_KERNEL_ADDR, prot_addr);
    if (r == 0)
        r = add_u32(s, FW_KERNEL_SIZE, (uint32_t)(ksize - setup_size));
    if (r == 0)
        r = add_file_item(s, FW_KERNEL_DATA, *kfd, setup_size, (uint32_t)(ksize - setup_size));
    if (r == 0)
        r = add_u32(s, FW_SETUP_ADDR, real_addr);
    if (r == 0)
        r = add_u32(s, FW_SETUP_SIZE, setup_size);
    if (r == 0)
        r = add_item(s, FW_SETUP_DATA, hdr, setup_size) ? 0 : -ENOMEM;
    if (r < 0)
        return r;

    /* the option ROM that does the loading, first in the boot order */
    char path[512];
    snprintf(path, sizeof(path), "%s/linuxboot_dma.bin", cfg->fw_dir ? cfg->fw_dir : HVMD_FIRMWARE_DIR);
    uint64_t rsize;
    int rfd = open_file("option ROM", path, &rsize);
    if (rfd < 0)
        return rfd;
    uint8_t rom[65536];
    if (rsize > sizeof(rom) || pread(rfd, rom, rsize, 0) != (ssize_t)rsize) {
        log_err("option ROM %s: cannot read it", path);
        close(rfd);
        return -EIO;
    }
    close(rfd);
    r = add_named(s, "genroms/linuxboot_dma.bin", rom, (uint32_t)rsize);
    if (r == 0)
        log_info("direct kernel boot: %s (%llu bytes, protocol %x), initrd %llu bytes",
                 cfg->kernel, (unsigned long long)ksize, protocol, (unsigned long long)isize);
    return r;
}

/* The real-mode part (setup) of the kernel, patched, is held in memory: up to 128 KiB. */
static int load_linux(struct fw_cfg *s, const struct config *cfg, int *kfd, int *ifd)
{
    uint8_t *hdr = calloc(1, SETUP_MAX);
    if (!hdr)
        return -ENOMEM;
    int r = load_linux_into(s, cfg, kfd, ifd, hdr);
    free(hdr);
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
    if (snap_get_u32_in(r, "offset", &off, 0, it ? it->len : 0) < 0 ||
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
    for (unsigned i = 0; i < s->n_items; i++) {
        free(s->items[i].data);
        if (s->items[i].fd >= 0)
            close(s->items[i].fd); /* each file backs one item */
    }
    free(s);
}

static int fw_cfg_create(struct vm *vm, void **state)
{
    struct config *cfg = (struct config *)vm->cfg;
    static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
    uint8_t uuid[16] = { 0 };
    int r = -ENOMEM, kfd = -1, ifd = -1;
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
            r = load_linux(s, cfg, &kfd, &ifd);
            if (r < 0) {
                if (kfd >= 0 && !find(s, FW_KERNEL_DATA))
                    close(kfd);
                if (ifd >= 0 && !find(s, FW_INITRD_DATA))
                    close(ifd);
                goto fail;
            }
        }
        r = build_bootorder(s, cfg);
        if (r < 0)
            goto fail;
        r = add_e820(s, cfg);
        if (r < 0)
            goto fail;
        /* no display: SeaBIOS's console (and iPXE's, GRUB's through the BIOS) on COM1 */
        if (!cfg_has_display(cfg) && cfg->n_serial > 0 && strcmp(cfg->serial[0], "none")) {
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

const struct device dev_fw_cfg = {
    .name = "fw_cfg",
    .create = fw_cfg_create,
    .destroy = fw_cfg_destroy,
    .version = 1,
    .save = fw_cfg_save,
    .load = fw_cfg_load,
};

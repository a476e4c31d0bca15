/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-hammer: a hostile guest for the device model's robustness (issue 16). As root in a
 * Linux HVM guest, with iopl(3), it writes and reads random values and widths on every I/O
 * port 0-0xffff (a full sweep first, then random ports, half of them in the ranges that
 * /proc/ioports and the PCI BARs name), string I/O (rep ins/outs, up to 64 items), every
 * memory BAR from /sys/bus/pci/devices/X/resource (mapped through resourceN, else /dev/mem),
 * the option ROM BARs (through /dev/mem, and read through sysfs rom files), the legacy VGA
 * window 0xa0000-0xbffff, and PCI configuration space through 0xcf8/0xcfc (the devices
 * present and random ones; BARs, command and ROM BAR are put back after a few hundred
 * operations, so that BARs move while the devices are hammered; so are the PIIX3's PIRQ
 * routes, which would leave device interrupts on the timer's line).
 *   hvmd-hammer SECONDS [SEED]      (SEED: decimal, default from the clock)
 *   hvmd-hammer scan                (what it would hammer: devices, MMIO regions, port ranges)
 * Reports on the kernel log (/dev/kmsg at level 2, so that it reaches the console through
 * printk's polled path even when the tty's interrupts are gone):
 *   HVMD-HAMMER start seed=S secs=N ...   HVMD-HAMMER alive t=N ops=N (every 5 s)
 *   HVMD-HAMMER done seed=S t=N ops=N ... (also on standard output)
 * The skip list: writes that would end or reset the guest on purpose; the point is the
 * device model's robustness, not the guest's (each entry is a device model's documented
 * reset or power path, nothing else is spared):
 *   - 0xcf8-0xcff only through the configuration routine (whole 0xcf8 dwords, then data): a
 *     random byte or word at 0xcf9 is the PIIX3 Reset Control Register (RST_CPU, bit 2,
 *     reboots); there bit 2 is cleared and the rest of 0xcf9 is hammered;
 *   - 0x64 values 0xd1 (write output port: a following 0x60 byte with bit 0 clear pulls the
 *     reset line) and 0xf0-0xff (pulse output lines: bit 0 is the reset line) become 0xd0
 *     (read output port);
 *   - 0x92 bit 0 (System Control Port A fast reset; hvmd leaves 0x92 unclaimed, qemu-xen
 *     resets) cleared;
 *   - PM1a_CNT (from /proc/ioports, else 0xb004) SLP_EN (bit 13) cleared: SLP_TYP 0 powers
 *     the domain off, 1 suspends it to S3 with nobody to wake it;
 *   - PIIX4 PM function (8086:7113) config 0x40-0x43 (PMBA): moving the PM block would put
 *     PM1a_CNT where the rule above does not look;
 *   - 0xe9 (Xen's own debug console, not the device model's: random bytes would flood Xen's
 *     console, where the scenario reads the domain's last words);
 *   - the PIT (0x40-0x43), the PICs (0x20-0x21, 0xa0-0xa1) and ELCR (0x4d0-0x4d1): Xen
 *     emulates them, no write there reaches the device model, and the guest's clock and
 *     interrupts hang on them (a PIT at 1 MHz starves it); reads are still made;
 *   - the RTC's registers 0-13 (Xen's vRTC: a periodic interrupt storm): a write to 0x70
 *     selects an index of 14 or more (the CMOS bytes hvmd's PIIX4 keeps), and a write to
 *     0x71 is preceded by such an index (rep outs there are not made);
 *   - the first MiB of the Xen platform device's BAR 1 (5853:0001), where Linux has Xen map
 *     the guest's grant table: RAM that never reaches the device model, whose corruption
 *     only takes the guest's PV drivers down.
 * The UART at 0x3f8 carries the guest's console: after every access that touches it its
 * LCR, divisor, IER and MCR are put back as they were (random writes to it are still made).
 * Freestanding (x86-64 Linux system calls, no libc), as hvmd-diskbench. Built by images/bed.sh;
 * run by the guest's check "hammer" (images/guest/checks/hammer), which starts it again with
 * the time left if it dies of its own damage. */

#include "freestanding.h"

#define O_RDONLY 0
#define O_WRONLY 01
#define O_RDWR 02
#define O_SYNC 04010000
#define O_DIRECTORY 0200000
#define PROT_RW 3
#define MAP_SHARED 1

typedef unsigned long u64;
typedef unsigned int u32;

static u64 rng;
static u64 rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dul;
}

static long xopen(const char *p, long fl) { return sys3(2, p, fl, 0); }
static long xread(long fd, void *b, long n) { return sys3(0, fd, b, n); }
static long xwrite(long fd, const void *b, long n) { return sys3(1, fd, b, n); }
static void xclose(long fd) { sys3(3, fd, 0, 0); }

static long kmsg = -1;
/* LINE (ends at its NUL) on the kernel log at level 2 */
static void say(const char *line)
{
    char b[300], *p = str(b, "<2>");
    for (const char *s = line; *s && p < b + sizeof(b) - 2; s++)
        *p++ = *s;
    *p++ = '\n';
    if (kmsg < 0)
        kmsg = xopen("/dev/kmsg", O_WRONLY);
    if (kmsg >= 0)
        xwrite(kmsg, b, p - b);
}

static char *hex(char *p, u64 v)
{
    static const char d[] = "0123456789abcdef";
    char t[20];
    int n = 0;
    p = str(p, "0x");
    do {
        t[n++] = d[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

/* the number at *S (0x... hex or decimal); *S moved past it */
static u64 parse(const char **s)
{
    const char *p = *s;
    u64 v = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (p[0] == '0' && p[1] == 'x') {
        for (p += 2;; p++) {
            int c = *p;
            if (c >= '0' && c <= '9')
                v = v * 16 + (u64)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v = v * 16 + (u64)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v = v * 16 + (u64)(c - 'A' + 10);
            else
                break;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (u64)(*p - '0');
    }
    *s = p;
    return v;
}

/* ---- port I/O ---- */

static u64 pin(u32 port, int size)
{
    u32 v = 0;
    if (size == 1) {
        unsigned char b;
        __asm__ volatile("inb %w1, %0" : "=a"(b) : "Nd"((unsigned short)port));
        v = b;
    } else if (size == 2) {
        unsigned short w;
        __asm__ volatile("inw %w1, %0" : "=a"(w) : "Nd"((unsigned short)port));
        v = w;
    } else {
        __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((unsigned short)port));
    }
    return v;
}

static void pout(u32 port, int size, u64 val)
{
    if (size == 1)
        __asm__ volatile("outb %b0, %w1" : : "a"((unsigned char)val), "Nd"((unsigned short)port));
    else if (size == 2)
        __asm__ volatile("outw %w0, %w1" : : "a"((unsigned short)val), "Nd"((unsigned short)port));
    else
        __asm__ volatile("outl %0, %w1" : : "a"((u32)val), "Nd"((unsigned short)port));
}

static void rep_in(u32 port, int size, void *buf, u64 n)
{
    __asm__ volatile("cld");
    if (size == 1)
        __asm__ volatile("rep insb" : "+D"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
    else if (size == 2)
        __asm__ volatile("rep insw" : "+D"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
    else
        __asm__ volatile("rep insl" : "+D"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
}

static void rep_out(u32 port, int size, const void *buf, u64 n)
{
    __asm__ volatile("cld");
    if (size == 1)
        __asm__ volatile("rep outsb" : "+S"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
    else if (size == 2)
        __asm__ volatile("rep outsw" : "+S"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
    else
        __asm__ volatile("rep outsl" : "+S"(buf), "+c"(n) : "d"((unsigned short)port) : "memory");
}

static u32 pm1a_cnt = 0xb004;
static int uart_touched, cmos_data;

/* the skip list (see the top of the file): 0 if the write of VAL (SIZE bytes at PORT) is not
 * made, else 1 with *VAL changed where a byte would reset or end the guest */
static int filt(u32 port, int size, u64 *val)
{
    for (int i = 0; i < size; i++) {
        u32 p = (port + (u32)i) & 0xffff;
        u64 b = (*val >> (8 * i)) & 0xff, nb = b;
        if (p >= 0xcf8 && p <= 0xcff)
            return 0;
        if (p == 0xe9)
            return 0;
        if ((p >= 0x40 && p <= 0x43) || p == 0x20 || p == 0x21 || p == 0xa0 || p == 0xa1 ||
            p == 0x4d0 || p == 0x4d1)
            return 0;
        if (p == 0x70 && (b & 0x7f) < 14)
            nb = (b & 0x80) | (14 + (b & 0x7f) % 114);
        if (p == 0x71)
            cmos_data = 1;
        if (p == 0x92)
            nb &= ~1ul;
        if (p == 0x64 && (b == 0xd1 || b >= 0xf0))
            nb = 0xd0;
        if (p == pm1a_cnt + 1)
            nb &= ~0x20ul;
        if (p >= 0x3f8 && p <= 0x3ff)
            uart_touched = 1;
        *val = (*val & ~(0xfful << (8 * i))) | (nb << (8 * i));
    }
    return 1;
}

/* COM1's line settings, read before and written back after an access that touched it */
static unsigned char u_lcr, u_ier, u_mcr, u_dll, u_dlm;
static void uart_save(void)
{
    u_lcr = (unsigned char)(pin(0x3fb, 1) & 0x7f);
    pout(0x3fb, 1, u_lcr);
    u_ier = (unsigned char)pin(0x3f9, 1);
    u_mcr = (unsigned char)pin(0x3fc, 1);
    pout(0x3fb, 1, u_lcr | 0x80);
    u_dll = (unsigned char)pin(0x3f8, 1);
    u_dlm = (unsigned char)pin(0x3f9, 1);
    pout(0x3fb, 1, u_lcr);
}
static void uart_restore(void)
{
    pout(0x3fb, 1, 0x80);
    pout(0x3f8, 1, u_dll);
    pout(0x3f9, 1, u_dlm);
    pout(0x3fb, 1, u_lcr);
    pout(0x3fa, 1, 0x87); /* FIFOs on and cleared, as the 8250 driver sets them */
    pout(0x3f9, 1, u_ier);
    pout(0x3fc, 1, u_mcr);
    uart_touched = 0;
}

static int rsize(void)
{
    static const int s[4] = { 1, 2, 4, 1 };
    return s[rnd() & 3];
}

static u64 n_pio, n_rep, n_mmio, n_cfg, n_rom, n_skip;
static unsigned char buf[4096] __attribute__((aligned(4096)));

/* one access at PORT, width and direction random */
static void port_op(u32 port)
{
    int size = rsize();
    if (port + (u32)size > 0x10000)
        size = 1;
    int before = uart_touched;
    if (port >= 0x3f5 && port <= 0x3ff)
        uart_save();
    if (rnd() & 1) {
        pin(port, size);
    } else {
        u64 v = rnd();
        cmos_data = 0;
        if (filt(port, size, &v)) {
            if (cmos_data && port != 0x70)
                pout(0x70, 1, 14 + rnd() % 114);
            pout(port, size, v);
        } else {
            n_skip++;
        }
    }
    if (uart_touched && !before)
        uart_restore();
    n_pio++;
}

static void rep_op(u32 port)
{
    int size = rsize();
    u64 n = 1 + rnd() % 64;
    if (port + (u32)size > 0x10000)
        return;
    if (port >= 0x3f5 && port <= 0x3ff)
        uart_save();
    if (rnd() & 1) {
        rep_in(port, size, buf, n);
        if (port + (u32)size > 0x3f8 && port <= 0x3ff)
            uart_touched = 1;
    } else {
        for (u64 i = 0; i < n * (u64)size; i++)
            buf[i] = (unsigned char)rnd();
        for (u64 i = 0; i < n; i++) {
            u64 v = 0;
            for (int k = 0; k < size; k++)
                v |= (u64)buf[i * (u64)size + (u64)k] << (8 * k);
            cmos_data = 0;
            if (!filt(port, size, &v) || cmos_data) {
                n_skip++;
                goto out;
            }
            for (int k = 0; k < size; k++)
                buf[i * (u64)size + (u64)k] = (unsigned char)(v >> (8 * k));
        }
        rep_out(port, size, buf, n);
    }
out:
    if (uart_touched)
        uart_restore();
    n_rep++;
}

/* ---- PCI devices, their BARs and ROMs ---- */

struct pcidev {
    char name[16]; /* 0000:00:01.3 */
    u32 bus, dev, fn, id;
    u64 rom_start, rom_len;
};
static struct pcidev devs[32];
static int ndevs;

struct region {
    volatile unsigned char *p;
    u64 phys, len;
};
static struct region regions[64];
static int nregions;

/* I/O port ranges worth more hits than a uniform draw gives them */
static u32 pr_base[96], pr_len[96];
static int nports;
static void add_ports(u64 base, u64 len)
{
    if (nports < 96 && len && base < 0x10000 && len <= 0x400) { /* (not bus windows) */
        pr_base[nports] = (u32)base;
        pr_len[nports] = (u32)len;
        nports++;
    }
}

static void *map(const char *path, u64 off, u64 len)
{
    long fd = xopen(path, O_RDWR | O_SYNC);
    if (fd < 0)
        return 0;
    long p = sys6(9, 0, (long)len, PROT_RW, MAP_SHARED, fd, (long)off);
    xclose(fd);
    if (p < 0 && p > -4096)
        return 0;
    return (void *)p;
}

/* the LEN bytes at PHYS, mapped from RES (a sysfs resourceN file) at OFF, else /dev/mem */
static void add_region(const char *res, u64 off, u64 phys, u64 len)
{
    if (nregions >= 64 || !len)
        return;
    u64 mlen = (len + 4095) & ~4095ul;
    void *p = res ? map(res, off, mlen) : 0;
    if (!p)
        p = map("/dev/mem", phys & ~4095ul, mlen);
    if (!p)
        return;
    regions[nregions].p = (volatile unsigned char *)p + (phys & 4095);
    regions[nregions].phys = phys;
    regions[nregions].len = len;
    nregions++;
}

static long read_file(const char *path, char *b, long n)
{
    long fd = xopen(path, O_RDONLY), got = 0, r;
    if (fd < 0)
        return -1;
    while (got < n - 1 && (r = xread(fd, b + got, n - 1 - got)) > 0)
        got += r;
    xclose(fd);
    b[got > 0 ? got : 0] = 0;
    return got;
}

static void scan_pci(void)
{
    char dents[4096], path[128], text[1024];
    long fd = xopen("/sys/bus/pci/devices", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    long n;
    while ((n = sys3(217, fd, dents, sizeof(dents))) > 0) {
        for (long o = 0; o < n;) {
            unsigned short reclen = *(unsigned short *)(dents + o + 16);
            const char *nm = dents + o + 19;
            o += reclen;
            if (nm[0] == '.' || ndevs >= 32)
                continue;
            struct pcidev *d = &devs[ndevs];
            int i = 0;
            for (; nm[i] && i < 15; i++)
                d->name[i] = nm[i];
            d->name[i] = 0;
            /* 0000:BB:DD.F */
            const char *s = nm + 5;
            char hb[8] = "0x";
            hb[2] = s[0], hb[3] = s[1], hb[4] = 0;
            const char *q = hb;
            d->bus = (u32)parse(&q);
            hb[2] = s[3], hb[3] = s[4];
            q = hb;
            d->dev = (u32)parse(&q);
            d->fn = (u32)(s[6] - '0');
            char *e = str(str(str(path, "/sys/bus/pci/devices/"), d->name), "/vendor");
            *e = 0;
            read_file(path, text, sizeof(text));
            q = text;
            d->id = (u32)parse(&q) << 16;
            e = str(str(str(path, "/sys/bus/pci/devices/"), d->name), "/device");
            *e = 0;
            read_file(path, text, sizeof(text));
            q = text;
            d->id |= (u32)parse(&q);
            e = str(str(str(path, "/sys/bus/pci/devices/"), d->name), "/resource");
            *e = 0;
            if (read_file(path, text, sizeof(text)) <= 0)
                continue;
            q = text;
            for (int bar = 0; bar < 7 && *q; bar++) {
                u64 start = parse(&q), end = parse(&q), flags = parse(&q);
                while (*q && *q != '\n')
                    q++;
                if (*q)
                    q++;
                if (!start || end < start)
                    continue;
                if (bar == 6) {
                    d->rom_start = start;
                    d->rom_len = end - start + 1;
                    add_region(0, 0, start, end - start + 1);
                } else if (flags & 0x100) {
                    add_ports(start, end - start + 1);
                } else if (flags & 0x200) {
                    char *r = str(str(str(path, "/sys/bus/pci/devices/"), d->name), "/resource");
                    *r++ = (char)('0' + bar);
                    *r = 0;
                    if (d->id == 0x58530001 && bar == 1) {
                        /* the platform device's BAR 1: Linux has Xen map its grant table
                         * at the start (up to 64 frames); those pages are RAM that never
                         * reaches the device model, so the first MiB is left alone */
                        if (end - start + 1 > 0x100000)
                            add_region(path, 0x100000, start + 0x100000, end - start + 1 - 0x100000);
                        continue;
                    }
                    add_region(path, 0, start, end - start + 1);
                }
            }
            ndevs++;
        }
    }
    xclose(fd);
}

/* /proc/ioports: every range as a favoured target, PM1a_CNT's address */
static void scan_ioports(void)
{
    static char text[8192];
    if (read_file("/proc/ioports", text, sizeof(text)) <= 0)
        return;
    for (const char *q = text; *q;) {
        const char *l = q;
        while (*q && *q != '\n')
            q++;
        const char *e = q;
        if (*q)
            q++;
        const char *s = l;
        while (*s == ' ')
            s++;
        char h[12] = "0x";
        int i = 2;
        for (; i < 10 && s[i - 2] && s[i - 2] != '-'; i++)
            h[i] = s[i - 2];
        h[i] = 0;
        const char *hp = h;
        u64 a = parse(&hp);
        s += i - 1;
        i = 2;
        for (; i < 10 && s[i - 2] && s[i - 2] != ' '; i++)
            h[i] = s[i - 2];
        h[i] = 0;
        hp = h;
        u64 b = parse(&hp);
        if (b >= a && a != 0 && !(a == 0 && b == 0xffff))
            add_ports(a, b - a + 1);
        for (const char *t = l; t + 16 <= e; t++)
            if (t[0] == 'P' && t[1] == 'M' && t[2] == '1' && t[3] == 'a' && t[4] == '_' && t[5] == 'C' &&
                t[6] == 'N' && t[7] == 'T')
                pm1a_cnt = (u32)a;
    }
}

static void mmio_op(struct region *r)
{
    static const int sizes[4] = { 1, 2, 4, 8 };
    int size = sizes[rnd() & 3];
    if (r->len < (u64)size)
        size = 1;
    u64 off = (rnd() % r->len) & ~(u64)(size - 1);
    volatile unsigned char *a = r->p + off;
    if (rnd() & 1) {
        switch (size) {
        case 1: (void)*a; break;
        case 2: (void)*(volatile unsigned short *)a; break;
        case 4: (void)*(volatile u32 *)a; break;
        default: (void)*(volatile u64 *)a; break;
        }
    } else {
        u64 v = rnd();
        switch (size) {
        case 1: *a = (unsigned char)v; break;
        case 2: *(volatile unsigned short *)a = (unsigned short)v; break;
        case 4: *(volatile u32 *)a = (u32)v; break;
        default: *(volatile u64 *)a = v; break;
        }
    }
    n_mmio++;
}

/* ---- configuration space ---- */

struct restore {
    u32 addr, val;
    u64 due;
};
static struct restore pending[16];
static int npending;
static u64 ops;

static u32 cfg_addr(u32 bus, u32 dev, u32 fn, u32 reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static void cfg_op(void)
{
    u32 bus, dev, fn, id = 0;
    if (ndevs && rnd() % 5) {
        struct pcidev *d = &devs[rnd() % (u64)ndevs];
        bus = d->bus, dev = d->dev, fn = d->fn, id = d->id;
    } else {
        u64 r = rnd();
        bus = (u32)(r & 0xff), dev = (u32)(r >> 8) & 31, fn = (u32)(r >> 13) & 7;
    }
    u32 reg = (u32)rnd() & 0xff;
    int size = rsize();
    reg &= ~(u32)(size - 1);
    u32 a = cfg_addr(bus, dev, fn, reg);
    n_cfg++;
    if (rnd() % 16 == 0) {
        /* 0xcf9 itself, RST_CPU cleared */
        pout(0xcf9, 1, rnd() & ~4ul);
        return;
    }
    pout(0xcf8, 4, a);
    if (rnd() & 1) {
        pin(0xcfc + (reg & 3), size);
        return;
    }
    if (id == 0x80867113 && reg < 0x44 && reg + (u32)size > 0x40) {
        n_skip++;
        return;
    }
    /* command, BARs, ROM BAR, the PIIX3's PIRQ routes: put back later */
    if ((reg < 0x08 && reg + (u32)size > 0x04) || (reg >= 0x10 && reg < 0x28) || (reg >= 0x30 && reg < 0x34) ||
        (id == 0x80867000 && reg >= 0x60 && reg < 0x64)) {
        if (npending < 16) {
            pending[npending].addr = a;
            pending[npending].val = (u32)pin(0xcfc, 4);
            pending[npending].due = ops + 1 + rnd() % 400;
            npending++;
        } else {
            n_skip++;
            return;
        }
        pout(0xcf8, 4, a);
    }
    pout(0xcfc + (reg & 3), size, rnd());
}

static void cfg_restore(int all)
{
    for (int i = 0; i < npending;) {
        if (all || pending[i].due <= ops) {
            pout(0xcf8, 4, pending[i].addr);
            pout(0xcfc, 4, pending[i].val);
            pending[i] = pending[--npending];
        } else {
            i++;
        }
    }
}

/* a device's ROM read through the kernel (it enables the ROM BAR, reads, disables it) */
static void rom_op(void)
{
    char path[96];
    struct pcidev *d = &devs[rnd() % (u64)ndevs];
    if (!d->rom_len)
        return;
    char *e = str(str(str(path, "/sys/bus/pci/devices/"), d->name), "/rom");
    *e = 0;
    long fd = xopen(path, O_RDWR);
    if (fd < 0)
        return;
    char line[96];
    *str(str(line, "HVMD-HAMMER reading the ROM of "), d->name) = 0;
    say(line); /* (rare: a ROM read is a long stretch in the kernel) */
    if (xwrite(fd, "1", 1) == 1) {
        sys4(8, fd, 0, 0, 0); /* lseek to 0 */
        for (int i = 0; i < 16 && xread(fd, buf, sizeof(buf)) > 0; i++)
            ;
        xwrite(fd, "0", 1);
    }
    xclose(fd);
    n_rom++;
}

static u32 pick_port(void)
{
    if (nports && (rnd() & 1)) {
        int i = (int)(rnd() % (u64)nports);
        return pr_base[i] + (u32)(rnd() % pr_len[i]);
    }
    return (u32)rnd() & 0xffff;
}

static char *counts(char *p)
{
    p = num(str(p, " ops="), (long)ops);
    p = num(str(p, " pio="), (long)n_pio);
    p = num(str(p, " rep="), (long)n_rep);
    p = num(str(p, " mmio="), (long)n_mmio);
    p = num(str(p, " cfg="), (long)n_cfg);
    p = num(str(p, " rom="), (long)n_rom);
    return num(str(p, " skipped="), (long)n_skip);
}

int cmain(long *sp)
{
    char line[256], *p;
    if (sp[0] < 2) {
        out("usage: hvmd-hammer SECONDS [SEED]\n");
        return 2;
    }
    const char *a = (const char *)sp[2];
    if (a[0] == 's' && a[1] == 'c' && a[2] == 'a' && a[3] == 'n' && !a[4]) {
        /* hvmd-hammer scan: what it would hammer, no I/O */
        scan_ioports();
        scan_pci();
        for (int i = 0; i < ndevs; i++) {
            p = hex(str(str(str(line, "pci "), devs[i].name), " id="), devs[i].id);
            p = hex(str(p, " rom="), devs[i].rom_start);
            p = str(p, "\n");
            *p = 0;
            out(line);
        }
        for (int i = 0; i < nregions; i++) {
            p = hex(str(line, "mmio "), regions[i].phys);
            p = hex(str(p, "+"), regions[i].len);
            p = str(p, "\n");
            *p = 0;
            out(line);
        }
        for (int i = 0; i < nports; i++) {
            p = hex(str(line, "ports "), pr_base[i]);
            p = hex(str(p, "+"), pr_len[i]);
            p = str(p, "\n");
            *p = 0;
            out(line);
        }
        p = hex(str(line, "pm1a_cnt "), pm1a_cnt);
        p = str(p, "\n");
        *p = 0;
        out(line);
        return 0;
    }
    long secs = (long)parse(&a);
    u64 seed;
    if (sp[0] > 2) {
        a = (const char *)sp[3];
        seed = parse(&a);
    } else {
        seed = (u64)now_us();
    }
    rng = seed * 0x9E3779B97F4A7C15ul + 1;
    long r = sys3(172, 3, 0, 0);
    if (r < 0) {
        p = num(str(line, "HVMD-HAMMER iopl(3) failed: "), r);
        *p = 0;
        say(line);
        out(line);
        out("\n");
        return 1;
    }
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)i;
    scan_ioports();
    scan_pci();
    add_region(0, 0, 0xa0000, 0x20000); /* the legacy VGA window */
    p = num(str(line, "HVMD-HAMMER start seed="), (long)seed);
    p = num(str(p, " secs="), secs);
    p = num(str(p, " pci_devices="), ndevs);
    p = num(str(p, " mmio_regions="), nregions);
    p = num(str(p, " port_ranges="), nports);
    p = hex(str(p, " pm1a_cnt="), pm1a_cnt);
    *p = 0;
    say(line);
    long t0 = now_us(), end = t0 + secs * 1000000, beat = t0 + 5000000, t = t0;
    /* every port once (read and write, random widths), then random operations */
    u32 sweep = 0;
    int sweeping = 1;
    while (t < end) {
        ops++;
        if (sweeping) {
            if (sweep < 0xcf8 || sweep > 0xcff) {
                port_op(sweep);
                port_op(sweep);
            }
            if (++sweep == 0x10000) {
                sweeping = 0;
                p = num(str(line, "HVMD-HAMMER swept every port 0-0xffff in ms="), (now_us() - t0) / 1000);
                *p = 0;
                say(line);
            }
        } else {
            u64 k = rnd() % 100;
            if (k < 50)
                port_op(pick_port());
            else if (k < 56)
                rep_op(pick_port());
            else if (k < 78 && nregions)
                mmio_op(&regions[rnd() % (u64)nregions]);
            else if (k < 99)
                cfg_op();
            else if (ndevs && rnd() % 20 == 0)
                rom_op();
        }
        if (npending)
            cfg_restore(0);
        if ((ops & 31) == 0) {
            t = now_us();
            if (t >= beat) {
                p = num(str(line, "HVMD-HAMMER alive t="), (t - t0) / 1000000);
                p = counts(p);
                *p = 0;
                say(line);
                beat = t + 5000000;
            }
        }
    }
    cfg_restore(1);
    p = num(str(line, "HVMD-HAMMER done seed="), (long)seed);
    p = num(str(p, " t="), (now_us() - t0) / 1000000);
    p = counts(p);
    *p = 0;
    say(line);
    out(line);
    out("\n");
    return 0;
}

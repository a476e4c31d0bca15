/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-vgabench: the cost of the guest's display writes, inside the test guest: 1,000 16-bit
 * writes to the VGA text buffer at 0xb8000 (through /dev/mem: the legacy window, which
 * qemu-xen serves as requests and hvmd, in a text mode, as guest memory) and one fill of a 1024x768x32 framebuffer (3 MiB of 8-byte writes to
 * the VGA's BAR 0, through its sysfs resource0 (the path given, else 00:02.0's): video RAM).
 * Prints one line:
 *   text_1000_us=N lfb_fill_us=N   (or lfb=unmapped:ERRNO if BAR 0 cannot be mapped)
 * Arguments: [RESOURCE0 [PHYS]]: BAR 0's sysfs file, and its physical address for /dev/mem
 * where that file does not map.
 * (a fill that takes more than 20 s is stopped there and its time extrapolated)
 * Freestanding (x86-64 Linux system calls, no libc), like hvmd-diskbench. Built by images/bed.sh. */

#include "freestanding.h"

#define O_RDWR 02
#define O_SYNC 04010000
#define PROT_RW 3
#define MAP_SHARED 1

/* PATH's bytes [OFF, OFF+LEN) mapped, or 0 with *ERR set to the failing call's -errno */
static void *map(const char *path, long off, long len, long *err)
{
    long fd = sys3(2, path, O_RDWR | O_SYNC, 0);
    if (fd < 0) {
        *err = fd;
        return 0;
    }
    long p = sys6(9, 0, len, PROT_RW, MAP_SHARED, fd, off);
    sys3(3, fd, 0, 0);
    if (p < 0 && p > -4096) {
        *err = p;
        return 0;
    }
    return (void *)p;
}

int cmain(long *sp)
{
    char line[160], *p = line;
    const char *bar0 = sp[0] > 1 ? (const char *)sp[2] : "/sys/bus/pci/devices/0000:00:02.0/resource0";
    long err = 0;
    volatile unsigned short *text = map("/dev/mem", 0xb8000, 4096, &err);
    if (!text) {
        p = num(str(line, "hvmd-vgabench: /dev/mem at 0xb8000: error -"), -err);
        *p++ = '\n';
        *p = 0;
        out(line);
        return 1;
    }
    long t0 = now_us();
    for (int i = 0; i < 1000; i++)
        text[i % 2000] = (unsigned short)(0x0700 | ('A' + i % 26));
    long t1 = now_us();
    p = num(str(p, "text_1000_us="), t1 - t0);
    volatile unsigned long *fb = map(bar0, 0, 1024 * 768 * 4, &err);
    if (!fb && sp[0] > 2) {
        /* the BAR's address through /dev/mem, where its sysfs file will not map (qemu-xen's
         * VGA in this bed: ENODEV) */
        const char *h = (const char *)sp[3];
        long addr = 0;
        if (h[0] == '0' && h[1] == 'x')
            h += 2;
        for (; *h; h++)
            addr = addr * 16 + (*h >= 'a' ? *h - 'a' + 10 : *h >= 'A' ? *h - 'A' + 10 : *h - '0');
        long err2 = 0;
        fb = map("/dev/mem", addr, 1024 * 768 * 4, &err2);
        if (fb)
            p = str(p, " lfb_via=devmem");
        else
            p = num(str(num(str(p, " lfb=unmapped:-"), -err), ",devmem:-"), -err2);
    } else if (!fb) {
        p = num(str(p, " lfb=unmapped:-"), -err);
    }
    if (fb) {
        long t2 = now_us(), t3 = t2, total = 1024 * 768 * 4 / 8, i;
        /* at most 20 s (a framebuffer served by requests takes minutes): then extrapolated */
        for (i = 0; i < total; i++) {
            fb[i] = 0x00336699u * 0x100000001ul;
            if ((i & 4095) == 4095 && (t3 = now_us()) - t2 > 20000000)
                break;
        }
        t3 = now_us();
        if (i < total)
            t3 = t2 + (t3 - t2) * (total / (i + 1));
        p = num(str(p, " lfb_fill_us="), t3 - t2);
    }
    *p++ = '\n';
    *p = 0;
    out(line);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-diskbench DEV [qd32] [gap]: disk throughput inside the test guest, with O_DIRECT (no page
 * cache): sequential reads of 1 MiB, random reads of 4 KiB (one at a time: queue depth 1),
 * sequential writes of 1 MiB at 16 MiB (then fsync). Prints one line:
 *   seq_read_mb_s=N.N rand_read_iops=N seq_write_mb_s=N.N
 * With qd32 also random reads of 4 KiB with 32 in flight (Linux AIO: io_submit/io_getevents on
 * the O_DIRECT descriptor, so the block layer has 32 requests to hand the driver at once), and
 * the line ends with " rand_read_qd32_iops=N". With gap, after each phase a line on the console
 * ("hvmd-diskbench: seq-read done", "rand-read done", "seq-write done") and 2 s of sleep, outside
 * the timed parts: dom0 reads the device model's counters per phase in that quiet gap.
 * Freestanding (x86-64 Linux system calls, no libc) so that it adds a few KiB to the guest's
 * initramfs and not a static libc. Built by images/bed.sh. */

#include "freestanding.h"

#define O_RDWR 02
#define O_DIRECT 040000
#define BLKGETSIZE64 0x80081272
#define MIB (1L << 20)

/* The 1 MiB buffer of the sequential and random parts: in a transparent huge page where the
 * kernel gives one (2 MiB aligned, MADV_HUGEPAGE), so that it is physically contiguous and
 * the block layer makes the same requests of it on every boot (a buffer of scattered 4 KiB
 * pages became one ATA command a 1 MiB read on some boots and two on others: ata_piix takes
 * 128 PRD entries a command); the bss one where the kernel will not. The line says how many
 * physically contiguous runs it had (buf_runs, from /proc/self/pagemap: 1 for a huge page). */
static unsigned char bss_buf[MIB] __attribute__((aligned(4096)));
static unsigned char *buf = bss_buf;

/* Linux AIO (linux/aio_abi.h, x86-64 little-endian layout) */
struct iocb {
    unsigned long data;
    unsigned int key, rw_flags;
    unsigned short opcode;
    short reqprio;
    unsigned int fildes;
    unsigned long buf, nbytes;
    long offset;
    unsigned long reserved2;
    unsigned int flags, resfd;
};
struct io_event {
    unsigned long data, obj;
    long res, res2;
};
#define QD 32
#define QD_READS 4096
static unsigned char qbuf[QD][4096] __attribute__((aligned(4096)));
static struct iocb cbs[QD];
static struct iocb *cbp[QD];
static struct io_event evs[QD];
static char inflight[QD];

/* V/10 with one decimal */
static char *dec1(char *p, long tenths)
{
    p = num(p, tenths / 10);
    *p++ = '.';
    *p++ = (char)('0' + tenths % 10);
    return p;
}

static int con_gap;

/* Write S to the file PATH, if it is there. */
static void put_file(const char *path, const char *s)
{
    long fd = sys3(2, path, 01 /* O_WRONLY */, 0), n = 0;
    while (s[n])
        n++;
    if (fd >= 0) {
        sys3(1, fd, s, n);
        sys3(3, fd, 0, 0);
    }
}

/* A 1 MiB buffer in a huge page if the kernel gives one, touched (faulted in) either way.
 * (Linux turns transparent huge pages off on a machine under 512 MiB, as the test guest's
 * 256: they are asked for where MADV_HUGEPAGE says so.) */
static void buf_setup(void)
{
    put_file("/sys/kernel/mm/transparent_hugepage/enabled", "madvise\n");
    put_file("/sys/kernel/mm/transparent_hugepage/defrag", "madvise\n");
    long m = sys6(9, 0, 4 * MIB, 3 /* PROT_READ | PROT_WRITE */,
                  0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0); /* mmap */
    if (m > 0 || m < -4095) {
        unsigned char *p = (unsigned char *)(((unsigned long)m + 2 * MIB - 1) & ~(2 * MIB - 1));
        sys3(28, p, 2 * MIB, 14 /* MADV_HUGEPAGE */); /* (refused: 4 KiB pages, as the bss) */
        buf = p;
    }
    for (long i = 0; i < MIB; i += 4096)
        buf[i] = 0;
}

/* The buffer's physically contiguous runs of pages (0: the frames are not readable). */
static long buf_runs(void)
{
    unsigned long pm[256];
    long fd = sys3(2, "/proc/self/pagemap", 0, 0), runs = 0;
    if (fd < 0)
        return 0;
    long n = sys4(17, fd, pm, sizeof(pm), ((unsigned long)buf >> 12) * 8);
    sys3(3, fd, 0, 0);
    if (n != (long)sizeof(pm))
        return 0;
    for (int i = 0; i < 256; i++) {
        unsigned long pfn = pm[i] & ((1ul << 55) - 1);
        if (!(pm[i] >> 63) || !pfn)
            return 0;
        if (i == 0 || pfn != (pm[i - 1] & ((1ul << 55) - 1)) + 1)
            runs++;
    }
    return runs;
}

/* the end of a phase: said on the console, then 2 s for dom0's counters (with gap) */
static void phase_done(const char *what)
{
    char l[64], *p = l;
    if (!con_gap)
        return;
    p = str(p, "hvmd-diskbench: ");
    p = str(p, what);
    p = str(p, " done\n");
    long con = sys3(2, "/dev/console", 01 /* O_WRONLY */, 0);
    if (con >= 0) {
        sys3(1, con, l, p - l);
        sys3(3, con, 0, 0);
    }
    struct ts t = { 2, 0 };
    sys3(35, &t, 0, 0); /* nanosleep */
}

static void die(const char *what)
{
    out("hvmd-diskbench: ");
    out(what);
    out(" failed\n");
    sys3(231, 1, 0, 0);
}

int cmain(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    unsigned long size = 0;
    char line[160], *p = line;

    int qd32 = 0;
    if (argc < 2 || argc > 4)
        die("usage: hvmd-diskbench DEV [qd32] [gap];");
    for (long i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == 'q' && a[1] == 'd' && a[2] == '3' && a[3] == '2' && !a[4])
            qd32 = 1;
        else if (a[0] == 'g' && a[1] == 'a' && a[2] == 'p' && !a[3])
            con_gap = 1;
        else
            die("usage: hvmd-diskbench DEV [qd32] [gap];");
    }
    long fd = sys3(2, argv[1], O_RDWR | O_DIRECT, 0);
    if (fd < 0)
        die("open");
    if (sys3(16, fd, BLKGETSIZE64, &size) < 0 || size < 48 * MIB)
        die("size (48 MiB at least)");

    buf_setup();
    long runs = buf_runs();

    /* the host side counts the device model's requests from here to the result line: say so
     * on the console at once (init hands the check's own output over only when it ends) */
    long con = sys3(2, "/dev/console", 01 /* O_WRONLY */, 0);
    if (con >= 0) {
        sys3(1, con, "hvmd-diskbench: start\n", 22);
        sys3(3, con, 0, 0);
    }

    /* sequential read: 32 MiB in 1 MiB requests */
    long t0 = now_us();
    for (long i = 0; i < 32; i++)
        if (sys4(17, fd, buf, MIB, i * MIB) != MIB)
            die("sequential read");
    long seq = now_us() - t0;
    phase_done("seq-read");

    /* random read: 4 KiB at 512 places in the first 48 MiB */
    unsigned long x = 12345;
    t0 = now_us();
    for (long i = 0; i < 512; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        long off = (long)((x >> 33) % (48 * MIB / 4096)) * 4096;
        if (sys4(17, fd, buf, 4096, off) != 4096)
            die("random read");
    }
    long rnd = now_us() - t0;
    phase_done("rand-read");

    /* sequential write: 16 MiB at 16 MiB, then fsync (FLUSH CACHE) */
    for (long i = 0; i < MIB; i++)
        buf[i] = (unsigned char)i;
    t0 = now_us();
    for (long i = 0; i < 16; i++)
        if (sys4(18, fd, buf, MIB, 16 * MIB + i * MIB) != MIB)
            die("sequential write");
    if (sys3(74, fd, 0, 0) < 0)
        die("fsync");
    long wr = now_us() - t0;
    phase_done("seq-write");

    /* random read at queue depth 32: QD_READS of 4 KiB in the first 48 MiB, 32 in flight */
    long q32 = 0;
    if (qd32) {
        unsigned long ctx = 0;
        long submitted = 0, completed = 0;
        if (sys3(206, QD, &ctx, 0) < 0) /* io_setup */
            die("io_setup");
        t0 = now_us();
        for (int i = 0; i < QD; i++) {
            cbs[i].data = (unsigned long)i;
            cbs[i].opcode = 0; /* IOCB_CMD_PREAD */
            cbs[i].fildes = (unsigned int)fd;
            cbs[i].buf = (unsigned long)qbuf[i];
            cbs[i].nbytes = 4096;
        }
        while (completed < QD_READS) {
            int n = 0;
            for (int i = 0; i < QD && submitted < QD_READS; i++) {
                if (inflight[i])
                    continue;
                x = x * 6364136223846793005ul + 1442695040888963407ul;
                cbs[i].offset = (long)((x >> 33) % (48 * MIB / 4096)) * 4096;
                inflight[i] = 1;
                cbp[n++] = &cbs[i];
                submitted++;
            }
            if (n && sys3(209, ctx, n, cbp) != n) /* io_submit */
                die("io_submit");
            long got = sys6(208, (long)ctx, 1, QD, (long)evs, 0, 0); /* io_getevents */
            if (got <= 0)
                die("io_getevents");
            for (long i = 0; i < got; i++) {
                if (evs[i].res != 4096 || evs[i].data >= QD)
                    die("random read (queue depth 32)");
                inflight[evs[i].data] = 0;
            }
            completed += got;
        }
        q32 = now_us() - t0;
        sys3(207, ctx, 0, 0); /* io_destroy */
    }

    p = line;
    for (const char *s = "seq_read_mb_s="; *s; s++)
        *p++ = *s;
    p = dec1(p, seq ? 32L * 10 * 1000000 / seq : 0);
    for (const char *s = " rand_read_iops="; *s; s++)
        *p++ = *s;
    p = num(p, rnd ? 512L * 1000000 / rnd : 0);
    for (const char *s = " seq_write_mb_s="; *s; s++)
        *p++ = *s;
    p = dec1(p, wr ? 16L * 10 * 1000000 / wr : 0);
    p = str(p, " buf_runs=");
    p = num(p, runs);
    if (qd32) {
        p = str(p, " rand_read_qd32_iops=");
        p = num(p, q32 ? (long)QD_READS * 1000000 / q32 : 0);
    }
    *p++ = '\n';
    *p = 0;
    out(line);
    sys3(3, fd, 0, 0);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* hvmd-portbench: what one guest port access costs when the device model answers it, against
 * the floor (tests/bench/floor.c: a minimal ioreq server in dom0 claiming one free port), in
 * the same boot, interleaved round by round so that both see the same load.
 *
 *   hvmd-portbench DM_PORT FLOOR_PORT [N [ROUNDS [WAIT_S]]]
 *
 * DM_PORT is a register of the device model with no side effect (the 16550's scratch register,
 * 0x3ff: a byte register that reads back what was written, touched by no driver after its
 * probe). First it writes 0xa5 there and reads it back (proof that the device model, not Xen,
 * answers), then waits up to WAIT_S seconds (default 120) for FLOOR_PORT to read 0x5a (the
 * floor server is started by dom0 after xl create). Then ROUNDS rounds (default 7) of N
 * (default 400) inb of DM_PORT, N inb of FLOOR_PORT, N outb of each, in blocks of 25
 * alternating between the ports (a bed's load drifts within a second). Prints one line:
 *   dm_in_ns=M(lo-hi) floor_in_ns=M(lo-hi) dm_out_ns=M(lo-hi) floor_out_ns=M(lo-hi)
 *   in_ratio=R(lo-hi) out_ratio=R(lo-hi) rounds=K n=N
 * (medians over the rounds with their range; a ratio is the median of the rounds' own
 * ratios, in thousandths); "hvmd-portbench: start" on standard error when the floor answers.
 * Freestanding (no libc), like hvmd-diskbench; built by images/bed.sh. */

#include "freestanding.h"

#define MAX_ROUNDS 31
#define BLOCK 25 /* accesses in a row to one port */

static long now_ns(void)
{
    struct ts t;
    sys3(228, CLOCK_MONOTONIC, &t, 0);
    return t.sec * 1000000000L + t.nsec;
}

static inline unsigned char inb(unsigned short port)
{
    unsigned char v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outb(unsigned char v, unsigned short port)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static long parse(const char *s)
{
    long v = 0;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (; *s; s++) {
        int d = *s >= 'a' ? *s - 'a' + 10 : *s >= 'A' ? *s - 'A' + 10 : *s - '0';
        if (d < 0 || d >= base)
            break;
        v = v * base + d;
    }
    return v;
}

static void sort(long *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* "NAME=median(lo-hi)" of the N values at V (sorted in place) */
static char *stat(char *p, const char *name, long *v, int n)
{
    sort(v, n);
    p = str(p, name);
    p = num(p, v[n / 2]);
    *p++ = '(';
    p = num(p, v[0]);
    *p++ = '-';
    p = num(p, v[n - 1]);
    *p++ = ')';
    *p++ = ' ';
    return p;
}

static void fail(const char *what)
{
    out("hvmd-portbench: ");
    out(what);
    out("\n");
}

int cmain(long *sp)
{
    char line[400], *p = line;
    if (sp[0] < 3) {
        fail("usage: hvmd-portbench DM_PORT FLOOR_PORT [N [ROUNDS [WAIT_S]]]");
        return 2;
    }
    unsigned short dm = (unsigned short)parse((const char *)sp[2]);
    unsigned short fl = (unsigned short)parse((const char *)sp[3]);
    long n = sp[0] > 3 ? parse((const char *)sp[4]) : 400;
    long rounds = sp[0] > 4 ? parse((const char *)sp[5]) : 7;
    long wait_s = sp[0] > 5 ? parse((const char *)sp[6]) : 120;
    if (n < 1 || n > 1000000 || rounds < 1 || rounds > MAX_ROUNDS) {
        fail("N must be 1-1000000 and ROUNDS 1-31");
        return 2;
    }
    if (sys3(172, 3, 0, 0) < 0) { /* iopl(3) */
        fail("iopl(3) failed (not root?)");
        return 1;
    }
    outb(0xa5, dm);
    if (inb(dm) != 0xa5) {
        fail("the device model's port does not read back 0xa5 (not served by the device model?)");
        return 1;
    }
    long until = now_ns() + wait_s * 1000000000L;
    while (inb(fl) != 0x5a) {
        if (now_ns() > until) {
            fail("the floor port never read 0x5a (is hvmd-floor running?)");
            return 1;
        }
        struct ts d = {0, 50000000};
        sys3(35, &d, 0, 0); /* nanosleep 50 ms */
    }
    sys3(1, 2, "hvmd-portbench: start\n", 22); /* on standard error: the check sends it to the console at once */
    long din[MAX_ROUNDS], fin[MAX_ROUNDS], dout[MAX_ROUNDS], fout[MAX_ROUNDS];
    long rin[MAX_ROUNDS], rout[MAX_ROUNDS];
    unsigned bad = 0;
    /* each round: N accesses of each kind, in blocks of BLOCK alternating between the two
     * ports, so that both see the same moments of a bed whose load moves by the second */
    for (int r = 0; r < rounds; r++) {
        long t_din = 0, t_fin = 0, t_dout = 0, t_fout = 0;
        for (long done = 0; done < n; done += BLOCK) {
            long m = n - done < BLOCK ? n - done : BLOCK;
            long t0 = now_ns();
            for (long i = 0; i < m; i++)
                bad += inb(dm) != 0xa5;
            long t1 = now_ns();
            for (long i = 0; i < m; i++)
                bad += inb(fl) != 0x5a;
            long t2 = now_ns();
            for (long i = 0; i < m; i++)
                outb(0xa5, dm);
            long t3 = now_ns();
            for (long i = 0; i < m; i++)
                outb(0xa5, fl);
            long t4 = now_ns();
            t_din += t1 - t0;
            t_fin += t2 - t1;
            t_dout += t3 - t2;
            t_fout += t4 - t3;
        }
        din[r] = t_din / n;
        fin[r] = t_fin / n;
        dout[r] = t_dout / n;
        fout[r] = t_fout / n;
        rin[r] = fin[r] ? din[r] * 1000 / fin[r] : 0;
        rout[r] = fout[r] ? dout[r] * 1000 / fout[r] : 0;
    }
    int k = (int)rounds;
    p = stat(p, "dm_in_ns=", din, k);
    p = stat(p, "floor_in_ns=", fin, k);
    p = stat(p, "dm_out_ns=", dout, k);
    p = stat(p, "floor_out_ns=", fout, k);
    p = stat(p, "in_ratio_milli=", rin, k);
    p = stat(p, "out_ratio_milli=", rout, k);
    p = num(str(p, "rounds="), k);
    p = num(str(p, " n="), n);
    *p++ = '\n';
    *p = 0;
    out(line);
    if (bad) {
        fail("some reads returned the wrong value");
        return 1;
    }
    return 0;
}

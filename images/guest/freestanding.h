/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's small freestanding tools (hvmd-diskbench, hvmd-vgabench): x86-64 Linux system
 * calls, number formatting, a monotonic clock and the process entry, without libc, so that
 * each adds a few KiB to the guest's initramfs and not a static libc. A tool defines
 * int cmain(long *sp) (SP: argc, then argv) and includes this once. */
#ifndef HVMD_GUEST_FREESTANDING_H
#define HVMD_GUEST_FREESTANDING_H

#define CLOCK_MONOTONIC 1

struct ts {
    long sec, nsec;
};

static __attribute__((unused)) long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* S on standard output */
static __attribute__((unused)) void out(const char *s)
{
    long n = 0;
    while (s[n])
        n++;
    sys3(1, 1, s, n);
}

/* V in decimal at P; returns the end */
static __attribute__((unused)) char *num(char *p, long v)
{
    char t[24];
    int n = 0;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = t[--n];
    return p;
}

/* S at P; returns the end */
static __attribute__((unused)) char *str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static __attribute__((unused)) long now_us(void)
{
    struct ts t;
    sys3(228, CLOCK_MONOTONIC, &t, 0);
    return t.sec * 1000000 + t.nsec / 1000;
}

int cmain(long *sp);

__asm__(".globl _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call cmain\n"
        "  mov %eax, %edi\n"
        "  mov $231, %eax\n"
        "  syscall\n"
        "  hlt\n");

#endif

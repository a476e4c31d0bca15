/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/net/e1000: the 82540EM driven through the fake hypervisor as Linux's e1000 driver
 * drives it (PCI config, BAR 0 registers, IOADDR/IODATA, EEPROM by EERD and by Microwire
 * bit-banging, PHY through MDIC, rings in guest RAM, INTx), with a SOCK_SEQPACKET socket pair
 * as the backend (dm/net's net_new_fd): transmit legacy and TSO, receive into a ring that
 * wraps, filters, interrupt causes and moderation, hostile rings, save and load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/net.h"
#include "dm/sandbox.h"
#include "tests/lib/fakexen.h"

#define DEVFN PCI_DEVFN(4, 0)
#define BAR0 0xf0000000ull
#define IOBASE 0xc000
#define RAM (32u << 20)
#define TXRING 0x100000u
#define RXRING 0x110000u
#define BUFS 0x200000u
#define MAC "00:16:3e:12:34:56"

/* registers */
#define CTRL 0x0000
#define STATUS 0x0008
#define EECD 0x0010
#define EERD 0x0014
#define MDIC 0x0020
#define ICR 0x00c0
#define ITR 0x00c4
#define ICS 0x00c8
#define IMS 0x00d0
#define IMC 0x00d8
#define RCTL 0x0100
#define TCTL 0x0400
#define RDBAL 0x2800
#define RDBAH 0x2804
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define RDTR 0x2820
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define GPRC 0x4074
#define GPTC 0x4080
#define MTA 0x5200
#define RAL0 0x5400
#define RAH0 0x5404

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    int peer; /* dom0's end of the backend */
    unsigned guest_lines;
    int child; /* this is the sandboxed child */
};

static void sink(void *opaque, enum log_level level, const char *line)
{
    struct bed *b = opaque;
    if (strstr(line, "guest: e1000"))
        b->guest_lines++;
}

static int bed_up(struct bed *b, const char *extra)
{
    char err[256], dev[200];
    int sv[2];
    snprintf(dev, sizeof(dev), "e1000,id=nic0,netdev=net0,mac=" MAC "%s", extra ? extra : "");
    const char *argv[] = { "-xen-domid", "1", "-m", "32", "-device", dev };
    memset(b, 0, sizeof(*b));
    if (config_parse(&b->cfg, 6, argv, err, sizeof(err)) < 0)
        return -1;
    b->fx = fx_new(RAM);
    b->fx->vm.cfg = &b->cfg;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
        return -1;
    b->peer = sv[1];
    if (!net_new_fd(&b->fx->vm, "net0", sv[0]))
        return -1;
    if (machine_create(&b->m, &b->fx->vm, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* firmware's part: BARs and the command register */
    fx_cfg_write(b->fx, DEVFN, 0x10, 4, (uint32_t)BAR0);
    fx_cfg_write(b->fx, DEVFN, 0x14, 4, IOBASE);
    fx_cfg_write(b->fx, DEVFN, PCI_INTERRUPT_LINE, 1, 11);
    fx_cfg_write(b->fx, DEVFN, PCI_COMMAND, 2, 7);
    log_set_sink(sink, b);
    log_set_level(LOG_WARN);
    return 0;
}

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    assert_int_equal(bed_up(b, ",romfile="), 0); /* no ROM: the ROM has a test of its own */
    *state = b;
    return 0;
}

static void bed_down(struct bed *b)
{
    log_set_sink(NULL, NULL);
    log_set_level(LOG_ERR);
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
    if (b->peer >= 0)
        close(b->peer);
}

static int teardown(void **state)
{
    struct bed *b = *state;
    if (b->child) {
        fflush(NULL);
        _exit(1); /* a failed assertion in the sandboxed child: the parent reports it */
    }
    bed_down(*state);
    free(*state);
    return 0;
}

static uint32_t rr(struct bed *b, unsigned off) { return (uint32_t)fx_mmio_read(b->fx, BAR0 + off, 4); }
static void ww(struct bed *b, unsigned off, uint32_t v) { fx_mmio_write(b->fx, BAR0 + off, 4, v); }
static int irq(struct bed *b) { return b->fx->intx[4][0]; }
static uint8_t *ram(struct bed *b, uint64_t gpa) { return b->fx->ram + gpa; }

static void pump(struct bed *b, int ms)
{
    while (loop_run_once(b->fx->loop, ms) > 0)
        ;
}

/* ---- PCI, EEPROM, PHY ---- */

static void test_pci_function(void **state)
{
    struct bed *b = *state;
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 0, 4), 0x100e8086);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 0x2c, 4), 0x001e8086);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 8, 4) >> 8, 0x020000);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
    /* status: link up at 1000 full duplex */
    assert_int_equal(rr(b, STATUS) & 0xc3, 0x83);
    /* RAL0/RAH0 hold the MAC from the EEPROM, address valid */
    assert_int_equal(rr(b, RAL0), 0x123e1600);
    assert_int_equal(rr(b, RAH0), 0x80005634);
    /* IOADDR / IODATA reach the same registers */
    fx_out(b->fx, IOBASE, 4, RAL0);
    assert_int_equal(fx_in(b->fx, IOBASE, 4), RAL0);
    assert_int_equal(fx_in(b->fx, IOBASE + 4, 4), 0x123e1600);
    fx_out(b->fx, IOBASE, 4, IMS);
    fx_out(b->fx, IOBASE + 4, 4, 0x4);
    assert_int_equal(rr(b, IMS), 0x4);
    /* a device reset through the I/O BAR (what Linux does on the 82540) */
    fx_out(b->fx, IOBASE, 4, CTRL);
    fx_out(b->fx, IOBASE + 4, 4, 0x04000000);
    assert_int_equal(rr(b, IMS), 0);
    assert_int_equal(rr(b, CTRL) & 0x04000000, 0);
    assert_int_equal(rr(b, RAH0), 0x80005634);
    /* sizes: 128 KiB of memory, 64 bytes of I/O */
    fx_cfg_write(b->fx, DEVFN, 0x10, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 0x10, 4), 0xfffe0000);
    fx_cfg_write(b->fx, DEVFN, 0x14, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 0x14, 4), 0xffffffc1);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, PCI_ROM_ADDRESS, 4), 0); /* romfile=: none */
}

/* iPXE's ROM through the ROM BAR, where Debian's ipxe-qemu has it */
static void test_rom(void **state)
{
    struct bed b;
    if (access("/usr/lib/ipxe/qemu/pxe-e1000.rom", R_OK) < 0) {
        skip();
        return;
    }
    assert_int_equal(bed_up(&b, ""), 0);
    fx_cfg_write(b.fx, DEVFN, PCI_ROM_ADDRESS, 4, 0xffffffff);
    uint32_t mask = fx_cfg_read(b.fx, DEVFN, PCI_ROM_ADDRESS, 4);
    assert_int_equal(mask & 0xfffff800, 0xfffe0000); /* 74 KiB in a 128 KiB BAR */
    fx_cfg_write(b.fx, DEVFN, PCI_ROM_ADDRESS, 4, 0xf1000001);
    assert_int_equal(fx_mmio_read(b.fx, 0xf1000000, 2), 0xaa55);
    uint16_t pcir = (uint16_t)fx_mmio_read(b.fx, 0xf1000018, 2);
    assert_int_equal(fx_mmio_read(b.fx, 0xf1000000 + pcir, 4), 0x52494350); /* "PCIR" */
    assert_int_equal(fx_mmio_read(b.fx, 0xf1000000 + pcir + 4, 4), 0x100e8086);
    bed_down(&b);
}

static uint16_t eerd(struct bed *b, unsigned addr)
{
    ww(b, EERD, addr << 8 | 1);
    uint32_t v = rr(b, EERD);
    assert_true(v & 0x10);
    assert_int_equal((v >> 8) & 0xff, addr);
    return (uint16_t)(v >> 16);
}

static void test_eeprom_eerd(void **state)
{
    struct bed *b = *state;
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++)
        sum = (uint16_t)(sum + eerd(b, i));
    assert_int_equal(sum, 0xbaba);
    assert_int_equal(eerd(b, 0), 0x1600);
    assert_int_equal(eerd(b, 1), 0x123e);
    assert_int_equal(eerd(b, 2), 0x5634);
    assert_int_equal(eerd(b, 0x0b), 0x001e);
    assert_int_equal(eerd(b, 0x0d), 0x100e);
    /* beyond the 64 words: 0 and a log line, no crash */
    assert_int_equal(eerd(b, 200), 0);
}

/* Linux's e1000_read_eeprom for the 82540: request, CS, opcode 110b, 6 address bits, 16 data
 * bits, each bit on a rising SK. */
static uint16_t microwire(struct bed *b, unsigned addr)
{
    uint32_t e = rr(b, EECD);
    ww(b, EECD, e | 0x40);
    e = rr(b, EECD);
    assert_true(e & 0x80); /* grant */
    assert_true(e & 0x100); /* present */
    e &= ~(0x4u | 0x1u);
    ww(b, EECD, e);
    e |= 0x2; /* CS */
    ww(b, EECD, e);
    uint32_t bits = (0x6u << 6) | addr;
    for (int i = 8; i >= 0; i--) {
        e = (e & ~0x4u) | ((bits >> i) & 1 ? 0x4u : 0);
        ww(b, EECD, e);
        ww(b, EECD, e | 1);
        ww(b, EECD, e);
    }
    e &= ~0x4u;
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        ww(b, EECD, e | 1);
        v = (uint16_t)(v << 1 | ((rr(b, EECD) & 0x8) ? 1 : 0));
        ww(b, EECD, e);
    }
    ww(b, EECD, e & ~0x2u & ~0x40u);
    return v;
}

static void test_eeprom_microwire(void **state)
{
    struct bed *b = *state;
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++) {
        uint16_t v = microwire(b, i);
        assert_int_equal(v, eerd(b, i));
        sum = (uint16_t)(sum + v);
    }
    assert_int_equal(sum, 0xbaba);
}

static uint32_t mdic(struct bed *b, unsigned phy, unsigned reg, int write, uint16_t v)
{
    ww(b, MDIC, (write ? 0x04000000u : 0x08000000u) | phy << 21 | reg << 16 | v);
    uint32_t r = rr(b, MDIC);
    assert_true(r & 0x10000000); /* ready on the first poll */
    return r;
}

static void test_phy(void **state)
{
    struct bed *b = *state;
    assert_int_equal(mdic(b, 1, 2, 0, 0) & 0xffff, 0x0141);
    assert_int_equal(mdic(b, 1, 3, 0, 0) & 0xfff0, 0x0c20);
    assert_int_equal(mdic(b, 1, 1, 0, 0) & 0x24, 0x24); /* link, autonegotiation complete */
    assert_int_equal(mdic(b, 1, 17, 0, 0) & 0xac00, 0xac00);
    /* another PHY address: error */
    assert_true(mdic(b, 2, 2, 0, 0) & 0x40000000);
    /* writable registers keep what is written; a PHY reset brings back the defaults */
    mdic(b, 1, 4, 1, 0x0de1);
    assert_int_equal(mdic(b, 1, 4, 0, 0) & 0xffff, 0x0de1);
    mdic(b, 1, 0, 1, 0x1340); /* restart autonegotiation: done at once */
    assert_int_equal(mdic(b, 1, 0, 0, 0) & 0x0200, 0);
    mdic(b, 1, 0, 1, 0x9140); /* software reset: self-clearing, the configuration stays */
    assert_int_equal(mdic(b, 1, 0, 0, 0) & 0xffff, 0x1140);
    assert_int_equal(mdic(b, 1, 4, 0, 0) & 0xffff, 0x0de1);
    uint32_t ctrl = rr(b, CTRL); /* CTRL.PHY_RST, as e1000_phy_hw_reset: the defaults */
    ww(b, CTRL, ctrl | 0x80000000u);
    ww(b, CTRL, ctrl);
    assert_int_equal(mdic(b, 1, 4, 0, 0) & 0xffff, 0x01e1);
    /* the MDIC interrupt */
    ww(b, IMS, 0x200);
    ww(b, MDIC, 0x28000000u | 1u << 21 | 2u << 16);
    assert_int_equal(irq(b), 1);
    assert_int_equal(rr(b, ICR), 0x200);
    assert_int_equal(irq(b), 0);
}

/* ---- interrupts ---- */

static void test_interrupt_causes(void **state)
{
    struct bed *b = *state;
    ww(b, IMC, 0xffffffff);
    (void)rr(b, ICR);
    ww(b, ICS, 0x84); /* RXT0 | LSC, masked */
    assert_int_equal(irq(b), 0);
    ww(b, IMS, 0x80);
    assert_int_equal(irq(b), 1);
    ww(b, IMC, 0x80);
    assert_int_equal(irq(b), 0);
    assert_int_equal(rr(b, IMS), 0);
    ww(b, IMS, 0x84);
    assert_int_equal(irq(b), 1);
    fx_mmio_write(b->fx, BAR0 + IMC + 1, 1, 0); /* a byte write clears no other mask bit */
    assert_int_equal(rr(b, IMS), 0x84);
    ww(b, ICR, 0x80); /* write 1 to clear */
    assert_int_equal(irq(b), 1);
    assert_int_equal(rr(b, ICS), 0x4); /* ICS reads the causes without clearing */
    assert_int_equal(rr(b, ICR), 0x4); /* read to clear */
    assert_int_equal(rr(b, ICR), 0);
    assert_int_equal(irq(b), 0);
    /* INTx disable in the command register holds the line low */
    fx_cfg_write(b->fx, DEVFN, PCI_COMMAND, 2, 0x407);
    ww(b, ICS, 0x4);
    assert_int_equal(irq(b), 0);
    fx_cfg_write(b->fx, DEVFN, PCI_COMMAND, 2, 0x007);
    assert_int_equal(irq(b), 1);
    (void)rr(b, ICR);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_itr_throttle(void **state)
{
    struct bed *b = *state;
    ww(b, ITR, 39063); /* 10 ms between interrupts (256 ns units) */
    ww(b, IMS, 0x4);
    /* A second cause within the 10 ms after an interrupt is held back until they are over.
     * The window is wall time: a try in which this process lost the CPU for most of it (a
     * loaded machine) shows nothing and is made again; 20 such tries in a row fail. */
    int tries = 0, held = 0;
    uint64_t ta, tb;
    for (;;) {
        assert_true(++tries <= 20);
        ta = mono_ms();
        ww(b, ICS, 0x4);
        assert_int_equal(irq(b), 1);
        (void)rr(b, ICR);
        ww(b, ICS, 0x4);
        held = irq(b) == 0;
        tb = mono_ms();
        if (tb - ta < 5)
            break;
        while (!irq(b) && mono_ms() - ta < 1000) /* a late try: end its window */
            loop_run_once(b->fx->loop, 20);
        (void)rr(b, ICR);
        uint64_t tw = mono_ms(); /* and the window of the interrupt that just came */
        while (mono_ms() - tw < 15)
            loop_run_once(b->fx->loop, 5);
    }
    assert_true(held);
    while (!irq(b) && mono_ms() - ta < 1000)
        loop_run_once(b->fx->loop, 20);
    assert_int_equal(irq(b), 1);
    assert_true(mono_ms() - ta >= 5); /* not before the window is (nearly) over */
    (void)rr(b, ICR);
    ww(b, ITR, 0);
}

/* ---- transmit ---- */

static void tx_ring(struct bed *b, unsigned n)
{
    memset(ram(b, TXRING), 0, n * 16);
    ww(b, TDBAL, TXRING);
    ww(b, TDBAH, 0);
    ww(b, TDLEN, n * 16);
    ww(b, TDH, 0);
    ww(b, TDT, 0);
    ww(b, TCTL, 0x2 | 0x8);
}

static void legacy_desc(struct bed *b, unsigned i, uint64_t addr, uint16_t len, uint8_t cmd)
{
    uint8_t *d = ram(b, TXRING + 16 * i);
    memset(d, 0, 16);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 2);
    d[11] = cmd;
}

static ssize_t peer_recv(struct bed *b, uint8_t *buf, size_t len)
{
    return recv(b->peer, buf, len, MSG_DONTWAIT);
}

static void test_tx_legacy(void **state)
{
    struct bed *b = *state;
    uint8_t frame[100], got[200];
    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7);
    memcpy(ram(b, BUFS), frame, 40);
    memcpy(ram(b, BUFS + 0x1000), frame + 40, 60);
    tx_ring(b, 8);
    ww(b, IMS, 0x1);
    legacy_desc(b, 0, BUFS, 40, 0x02);              /* IFCS */
    legacy_desc(b, 1, BUFS + 0x1000, 60, 0x0b);     /* EOP | IFCS | RS */
    ww(b, TDT, 2);
    assert_int_equal(rr(b, TDH), 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 100);
    assert_memory_equal(got, frame, 100);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    assert_int_equal(ram(b, TXRING + 16 + 12)[0] & 1, 1); /* DD on the RS descriptor */
    assert_int_equal(ram(b, TXRING + 12)[0] & 1, 0);
    assert_int_equal(irq(b), 1);
    assert_int_equal(rr(b, ICR) & 0x3, 0x3);
    assert_int_equal(irq(b), 0);
    assert_int_equal(rr(b, GPTC), 1);
    assert_int_equal(rr(b, GPTC), 0); /* read to clear */
    /* the ring wraps: descriptors 7 and 0 */
    ww(b, TDH, 7);
    ww(b, TDT, 7);
    legacy_desc(b, 7, BUFS, 40, 0);
    legacy_desc(b, 0, BUFS + 0x1000, 60, 0x09);
    ww(b, TDT, 1);
    assert_int_equal(rr(b, TDH), 1);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 100);
    assert_memory_equal(got, frame, 100);
    /* legacy checksum insertion (IC): CSS 14, CSO 16 */
    memset(ram(b, BUFS), 0, 64);
    for (unsigned i = 14; i < 64; i++)
        ram(b, BUFS)[i] = (uint8_t)i;
    ram(b, BUFS)[16] = ram(b, BUFS)[17] = 0;
    legacy_desc(b, 1, BUFS, 64, 0x0d);
    ram(b, TXRING + 16 + 10)[0] = 16; /* CSO */
    ram(b, TXRING + 16 + 13)[0] = 14; /* CSS */
    ww(b, TDT, 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 64);
    uint32_t sum = 0;
    for (unsigned i = 14; i < 64; i += 2)
        sum += (uint32_t)(got[i] << 8 | got[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    assert_int_equal(sum, 0xffff);
    (void)rr(b, ICR);
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t getbe16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A TCP/IPv4 superframe of 54 header bytes and PAY payload bytes at BUFS, as Linux's e1000_tso
 * leaves it (IP length and checksum 0, TCP checksum = the pseudo-header sum without length). */
static void build_tso(struct bed *b, unsigned pay)
{
    uint8_t *f = ram(b, BUFS);
    memset(f, 0, 54);
    memcpy(f, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x12\x34\x56\x08\x00", 14);
    uint8_t *ip = f + 14, *tcp = f + 34;
    ip[0] = 0x45;
    be16(ip + 4, 0x1000);
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
    be16(tcp, 40000);
    be16(tcp + 2, 5001);
    memcpy(tcp + 4, "\x10\x00\x00\x00", 4);
    tcp[12] = 0x50;
    tcp[13] = 0x19; /* ACK PSH FIN */
    be16(tcp + 14, 512);
    uint32_t ph = sum16(ip + 12, 8, 0) + 6;
    be16(tcp + 16, fold(ph));
    for (unsigned i = 0; i < pay; i++)
        f[54 + i] = (uint8_t)(i * 13 + 1);
}

static void test_tx_tso(void **state)
{
    struct bed *b = *state;
    const unsigned pay = 4000, mss = 1448;
    uint8_t got[2048];
    build_tso(b, pay);
    tx_ring(b, 16);
    /* context: IPCSS 14 IPCSO 24 IPCSE 33, TUCSS 34 TUCSO 50, TSE|IP|TCP, HDRLEN 54, MSS */
    uint8_t *c = ram(b, TXRING);
    memset(c, 0, 16);
    c[0] = 14; c[1] = 24; c[2] = 33; c[3] = 0;
    c[4] = 34; c[5] = 50;
    uint32_t cl = pay | 0u << 20 | (uint32_t)(0x20 | 0x04 | 0x02 | 0x01 | 0x08) << 24;
    memcpy(c + 8, &cl, 4);
    c[13] = 54;
    memcpy(c + 14, &mss, 2);
    /* data: 100 bytes then the rest, POPTS IXSM|TXSM */
    uint8_t *d = ram(b, TXRING + 16);
    uint64_t a = BUFS;
    uint32_t lower = 100 | 1u << 20 | (uint32_t)(0x20 | 0x04) << 24;
    uint32_t upper = 0x03u << 8;
    memcpy(d, &a, 8); memcpy(d + 8, &lower, 4); memcpy(d + 12, &upper, 4);
    d = ram(b, TXRING + 32);
    a = BUFS + 100;
    lower = (54 + pay - 100) | 1u << 20 | (uint32_t)(0x20 | 0x04 | 0x01 | 0x08) << 24;
    memcpy(d, &a, 8); memcpy(d + 8, &lower, 4); memcpy(d + 12, &upper, 4);
    ww(b, TDT, 3);
    assert_int_equal(rr(b, TDH), 3);
    unsigned off = 0;
    for (unsigned seg = 0; seg < 3; seg++) {
        unsigned want = seg < 2 ? mss : pay - 2 * mss;
        ssize_t n = peer_recv(b, got, sizeof(got));
        assert_int_equal(n, 54 + want);
        uint8_t *ip = got + 14, *tcp = got + 34;
        assert_int_equal(getbe16(ip + 2), 40 + want);
        assert_int_equal(getbe16(ip + 4), 0x1000 + seg);
        assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);
        uint32_t seq = (uint32_t)tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7];
        assert_int_equal(seq, 0x10000000u + off);
        assert_int_equal(tcp[13], seg < 2 ? 0x10 : 0x19);
        /* the TCP checksum over the pseudo-header with the length */
        uint32_t s = sum16(ip + 12, 8, 0) + 6 + 20 + want;
        assert_int_equal(fold(sum16(tcp, 20 + want, s)), 0xffff);
        assert_memory_equal(got + 54, ram(b, BUFS + 54 + off), want);
        off += want;
    }
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    assert_int_equal(ram(b, TXRING + 32 + 12)[0] & 1, 1);
    /* a checksum-only packet with the same context minus TSE: one frame, checksums right */
    build_tso(b, 200);
    ww(b, TDH, 0);
    ww(b, TDT, 0);
    c = ram(b, TXRING);
    cl = 0 | (uint32_t)(0x20 | 0x02 | 0x01) << 24;
    memcpy(c + 8, &cl, 4);
    d = ram(b, TXRING + 16);
    a = BUFS;
    lower = 254 | 1u << 20 | (uint32_t)(0x20 | 0x01 | 0x08) << 24;
    memcpy(d, &a, 8); memcpy(d + 8, &lower, 4); memcpy(d + 12, &upper, 4);
    /* CHECKSUM_PARTIAL: the seed includes the length; the IP header is complete */
    uint8_t *f = ram(b, BUFS);
    be16(f + 16, 240);
    be16(f + 50, fold(sum16(f + 26, 8, 0) + 6 + 220));
    ww(b, TDT, 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 254);
    assert_int_equal(fold(sum16(got + 14, 20, 0)), 0xffff);
    assert_int_equal(fold(sum16(got + 34, 220, sum16(got + 26, 8, 0) + 6 + 220)), 0xffff);
    (void)rr(b, ICR);
}

/* ---- receive ---- */

static void rx_ring(struct bed *b, unsigned n, uint32_t rctl)
{
    memset(ram(b, RXRING), 0, n * 16);
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = BUFS + 0x1000 * i;
        memcpy(ram(b, RXRING + 16 * i), &a, 8);
    }
    ww(b, RDBAL, RXRING);
    ww(b, RDBAH, 0);
    ww(b, RDLEN, n * 16);
    ww(b, RDH, 0);
    ww(b, RDT, n - 1);
    ww(b, RCTL, rctl);
}

static size_t make_frame(uint8_t *f, const char *dst, unsigned len, unsigned seed)
{
    unsigned m[6];
    sscanf(dst, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
    for (unsigned i = 0; i < 6; i++)
        f[i] = (uint8_t)m[i];
    memcpy(f + 6, "\x00\x16\x3e\x00\x00\x02\x08\x00", 8);
    for (unsigned i = 14; i < len; i++)
        f[i] = (uint8_t)(i + seed);
    return len;
}

static void test_rx_wrap(void **state)
{
    struct bed *b = *state;
    uint8_t f[1600];
    rx_ring(b, 8, 0x2 | 0x8000 | 0x04000000); /* EN, BAM, SECRC, 2048-byte buffers */
    ww(b, IMS, 0x80);
    for (unsigned i = 0; i < 10; i++) {
        size_t n = make_frame(f, MAC, 100 + i, i);
        assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    }
    pump(b, 0);
    /* seven descriptors were free: seven frames, the rest waits in the socket */
    assert_int_equal(rr(b, RDH), 7);
    for (unsigned i = 0; i < 7; i++) {
        uint8_t *d = ram(b, RXRING + 16 * i);
        assert_int_equal(d[8] | d[9] << 8, 100 + i);
        assert_int_equal(d[12] & 0x3, 0x3);
        make_frame(f, MAC, 100 + i, i);
        assert_memory_equal(ram(b, BUFS + 0x1000 * i), f, 100 + i);
    }
    assert_int_equal(irq(b), 1);
    assert_true(rr(b, ICR) & 0x80);
    /* the guest takes them and gives the descriptors back: the ring wraps */
    for (unsigned i = 0; i < 8; i++)
        ram(b, RXRING + 16 * i)[12] = 0;
    ww(b, RDT, 6);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 2);
    for (unsigned k = 7; k < 10; k++) {
        unsigned i = k % 8;
        uint8_t *d = ram(b, RXRING + 16 * i);
        assert_int_equal(d[8] | d[9] << 8, 100 + k);
        make_frame(f, MAC, 100 + k, k);
        assert_memory_equal(ram(b, BUFS + 0x1000 * i), f, 100 + k);
    }
    assert_int_equal(rr(b, GPRC), 10);
    /* filters: another unicast address and (without BAM) broadcast are not taken; a short
     * frame is padded to 60; without SECRC the FCS comes along (and is right) */
    ww(b, RCTL, 0x2);
    size_t n = make_frame(f, "00:16:3e:99:99:99", 80, 1);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    n = make_frame(f, "ff:ff:ff:ff:ff:ff", 80, 2);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    n = make_frame(f, MAC, 42, 3);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 3);
    uint8_t *d = ram(b, RXRING + 16 * 2);
    assert_int_equal(d[8] | d[9] << 8, 64);
    uint8_t *p = ram(b, BUFS + 0x2000);
    assert_memory_equal(p, f, 42);
    uint32_t c = 0xffffffffu;
    for (unsigned i = 0; i < 64; i++) { /* the CRC over data and FCS leaves the residue */
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    assert_int_equal(c, 0xdebb20e3);
    /* a multicast address through the MTA hash (MO 0: bits 47:36) */
    n = make_frame(f, "01:00:5e:00:00:fb", 80, 4);
    unsigned h = (0x00 >> 4 | 0xfb << 4) & 0xfff;
    ww(b, MTA + 4 * (h >> 5), 1u << (h & 31));
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 4);
    (void)rr(b, ICR);
}

static void test_rx_long_and_small_buffers(void **state)
{
    struct bed *b = *state;
    static uint8_t f[4000];
    /* 256-byte buffers (BSIZE 11b): a 1000-byte frame takes four descriptors */
    rx_ring(b, 16, 0x2 | 0x04000000 | 3u << 16);
    size_t n = make_frame(f, MAC, 1000, 5);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 4);
    for (unsigned i = 0; i < 4; i++) {
        uint8_t *d = ram(b, RXRING + 16 * i);
        assert_int_equal(d[8] | d[9] << 8, i < 3 ? 256 : 1000 - 768);
        assert_int_equal(d[12] & 0x2, i == 3 ? 2 : 0);
        assert_memory_equal(ram(b, BUFS + 0x1000 * i), f + 256 * i, i < 3 ? 256 : 232);
    }
    /* a long frame without LPE is dropped; with LPE it is taken */
    n = make_frame(f, MAC, 3000, 6);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 4);
    ww(b, RCTL, 0x2 | 0x20 | 0x04000000 | 0x02000000 | 3u << 16); /* LPE, 4096 (BSEX) */
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 5);
    assert_int_equal(ram(b, RXRING + 16 * 4 + 8)[0] | ram(b, RXRING + 16 * 4 + 9)[0] << 8, 3000);
    assert_memory_equal(ram(b, BUFS + 0x4000), f, 3000);
}

static void test_rx_delay_timer(void **state)
{
    struct bed *b = *state;
    uint8_t f[100];
    rx_ring(b, 8, 0x2 | 0x04000000);
    ww(b, RDTR, 2000); /* about 2 ms */
    ww(b, IMS, 0x80);
    (void)rr(b, ICR);
    size_t n = make_frame(f, MAC, 100, 0);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    loop_run_once(b->fx->loop, 0);
    assert_int_equal(rr(b, RDH), 1);
    assert_int_equal(irq(b), 0);
    uint64_t t0 = mono_ms();
    while (!irq(b) && mono_ms() - t0 < 1000)
        loop_run_once(b->fx->loop, 10);
    assert_int_equal(irq(b), 1);
    assert_true(rr(b, ICR) & 0x80);
    ww(b, RDTR, 0);
}

/* ---- hostile rings ---- */

static void test_hostile_tx(void **state)
{
    struct bed *b = *state;
    uint8_t got[256];
    tx_ring(b, 8);
    /* heads and tails beyond the ring: refused, nothing sent */
    ww(b, TDT, 100);
    assert_int_equal(rr(b, TDH), 0);
    ww(b, TDLEN, 0);
    ww(b, TDT, 3);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* a ring outside RAM */
    ww(b, TDLEN, 128);
    ww(b, TDBAL, 0xfff00000);
    ww(b, TDH, 0);
    ww(b, TDT, 5);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* buffers outside RAM, and a buffer that is the ring itself */
    tx_ring(b, 8);
    legacy_desc(b, 0, 0xfffff000ull, 64, 0x09);
    legacy_desc(b, 1, TXRING, 64, 0x09);
    ww(b, TDT, 2);
    assert_int_equal(rr(b, TDH), 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 64); /* the ring's bytes, as the guest asked */
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* a chain without EOP over the whole of a big ring, each descriptor 64 KiB-1: work is
     * bounded per doorbell, the packet grows to its cap and is dropped, nothing is sent */
    unsigned n = 4096;
    memset(ram(b, 0x800000), 0, n * 16);
    ww(b, TDBAL, 0x800000);
    ww(b, TDLEN, n * 16);
    ww(b, TDH, 0);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *d = ram(b, 0x800000 + 16 * i);
        uint64_t a = BUFS;
        uint16_t len = 0xffff;
        memcpy(d, &a, 8);
        memcpy(d + 8, &len, 2);
        d[11] = 0x08;
    }
    ww(b, TDT, n - 1);
    uint32_t h = rr(b, TDH);
    assert_true(h > 0 && h <= 256);
    unsigned turns = 0;
    while (rr(b, TDH) != n - 1 && turns++ < 100)
        loop_run_once(b->fx->loop, 0);
    assert_int_equal(rr(b, TDH), n - 1);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* the guest then loops the ring (TDT behind TDH): still bounded, still no frame */
    ww(b, TDT, 0);
    turns = 0;
    while (rr(b, TDH) != 0 && turns++ < 100)
        loop_run_once(b->fx->loop, 0);
    assert_int_equal(rr(b, TDH), 0);
    /* TSO with MSS 0, with headers past HDRLEN: the packet is dropped */
    tx_ring(b, 8);
    uint8_t *c = ram(b, TXRING);
    memset(c, 0, 32);
    uint32_t cl = 1000 | (uint32_t)(0x20 | 0x04 | 0x03) << 24;
    memcpy(c + 8, &cl, 4);
    c[13] = 54;
    uint8_t *d = ram(b, TXRING + 16);
    uint64_t a = BUFS;
    uint32_t lower = 1054 | 1u << 20 | (uint32_t)(0x20 | 0x04 | 0x01 | 0x08) << 24;
    memcpy(d, &a, 8);
    memcpy(d + 8, &lower, 4);
    ww(b, TDT, 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* a context descriptor inside a TSO packet (MSS 0 now) does not change the packet's: it
     * is cut by the MSS it started with (the loop that MSS 0 would make cannot happen) */
    build_tso(b, 300);
    ww(b, TDH, 0);
    ww(b, TDT, 0);
    memset(ram(b, TXRING), 0, 64);
    c = ram(b, TXRING);
    c[0] = 14; c[1] = 24; c[2] = 33; c[4] = 34; c[5] = 50;
    cl = 300 | (uint32_t)(0x20 | 0x04 | 0x03) << 24;
    memcpy(c + 8, &cl, 4);
    c[13] = 54;
    uint16_t mss = 100;
    memcpy(c + 14, &mss, 2);
    d = ram(b, TXRING + 16);
    a = BUFS;
    lower = 154 | 1u << 20 | (uint32_t)(0x20 | 0x04) << 24;
    memcpy(d, &a, 8);
    memcpy(d + 8, &lower, 4);
    memcpy(ram(b, TXRING + 32), c, 16);
    mss = 0;
    memcpy(ram(b, TXRING + 32 + 14), &mss, 2);
    d = ram(b, TXRING + 48);
    a = BUFS + 154;
    lower = 200 | 1u << 20 | (uint32_t)(0x20 | 0x04 | 0x01 | 0x08) << 24;
    memcpy(d, &a, 8);
    memcpy(d + 8, &lower, 4);
    ww(b, TDT, 4);
    for (unsigned k = 0; k < 3; k++)
        assert_int_equal(peer_recv(b, got, sizeof(got)), 154);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* an MSS under 64 is refused with its packet */
    ww(b, TDH, 0);
    ww(b, TDT, 0);
    mss = 8;
    memcpy(ram(b, TXRING + 14), &mss, 2);
    memcpy(ram(b, TXRING + 32 + 14), &mss, 2);
    ww(b, TDT, 4);
    assert_int_equal(rr(b, TDH), 4);
    assert_int_equal(peer_recv(b, got, sizeof(got)), -1);
    /* a checksum offset beyond the frame: sent without it, no write outside the frame */
    memset(ram(b, TXRING), 0, 32);
    ww(b, TDH, 0);
    ww(b, TDT, 0);
    c = ram(b, TXRING);
    d = ram(b, TXRING + 16);
    a = BUFS;
    memcpy(d, &a, 8);
    c[0] = 14; c[1] = 250; c[4] = 200; c[5] = 255;
    cl = (uint32_t)(0x20 | 0x03) << 24;
    memcpy(c + 8, &cl, 4);
    lower = 60 | 1u << 20 | (uint32_t)(0x20 | 0x01 | 0x08) << 24;
    uint32_t upper = 0x03u << 8;
    memcpy(d + 8, &lower, 4);
    memcpy(d + 12, &upper, 4);
    ww(b, TDH, 0);
    ww(b, TDT, 2);
    assert_int_equal(peer_recv(b, got, sizeof(got)), 60);
    assert_true(b->guest_lines > 0);
    (void)rr(b, ICR);
}

static void test_hostile_rx(void **state)
{
    struct bed *b = *state;
    uint8_t f[200];
    /* RDH beyond the ring: nothing is taken (the frame waits, the loop does not spin) */
    rx_ring(b, 8, 0x2 | 0x04000000);
    ww(b, RDH, 50);
    size_t n = make_frame(f, MAC, 100, 0);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 50);
    /* buffers outside RAM and a descriptor pointing at its own ring: bounded, no crash */
    rx_ring(b, 8, 0x2 | 0x04000000);
    uint64_t bad = 0xfffffff000ull, self = RXRING;
    memcpy(ram(b, RXRING), &bad, 8);
    memcpy(ram(b, RXRING + 16), &self, 8);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 2);
    /* RDLEN 0 with receive on: refused */
    ww(b, RDLEN, 0);
    assert_int_equal(send(b->peer, f, n, 0), (ssize_t)n);
    pump(b, 0);
    assert_int_equal(rr(b, RDH), 2);
    (void)rr(b, ICR);
}

/* ---- state ---- */

static void test_save_load(void **state)
{
    struct bed *b = *state;
    struct snap_writer w;
    struct snap_reader r;
    tx_ring(b, 8);
    rx_ring(b, 16, 0x2 | 0x8000 | 0x04000000);
    ww(b, IMS, 0x9d);
    ww(b, ICS, 0x4);
    ww(b, MTA + 8, 0x1234);
    (void)mdic(b, 1, 4, 1, 0x0de1);
    /* half a packet gathered (no EOP yet) */
    memset(ram(b, BUFS), 0xab, 30);
    legacy_desc(b, 0, BUFS, 30, 0);
    ww(b, TDT, 1);
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m, &w), 0);

    struct bed *c = calloc(1, sizeof(*c));
    assert_int_equal(bed_up(c, ",romfile="), 0);
    snap_reader_init(&r, w.buf, w.len);
    assert_int_equal(machine_load(&c->m, &r), 0);
    assert_int_equal(rr(c, IMS), 0x9d);
    assert_int_equal(irq(c), 1);
    assert_int_equal(rr(c, RDLEN), 256);
    assert_int_equal(rr(c, TDH), 1);
    assert_int_equal(rr(c, MTA + 8), 0x1234);
    assert_int_equal(mdic(c, 1, 4, 0, 0) & 0xffff, 0x0de1);
    /* the rest of the packet, sent by the loaded NIC */
    memcpy(c->fx->ram, b->fx->ram, RAM);
    memset(ram(c, BUFS + 0x100), 0xcd, 34);
    legacy_desc(c, 1, BUFS + 0x100, 34, 0x09);
    ww(c, TDT, 2);
    uint8_t got[100];
    assert_int_equal(peer_recv(c, got, sizeof(got)), 64);
    assert_int_equal(got[0], 0xab);
    assert_int_equal(got[63], 0xcd);

    /* a damaged stream is refused and changes nothing */
    uint8_t *bad = malloc(w.len);
    memcpy(bad, w.buf, w.len);
    for (size_t i = 0; i + 6 < w.len; i++)
        if (!memcmp(bad + i, "tx.len", 6)) {
            bad[i + 6 + 1 + 4] = 0xff; /* the value's low byte... */
            bad[i + 6 + 1 + 4 + 3] = 0x7f; /* ...and its top: far past the buffer */
            break;
        }
    snap_reader_init(&r, bad, w.len);
    assert_int_not_equal(machine_load(&c->m, &r), 0);
    assert_int_equal(rr(c, TDH), 2);
    free(bad);
    snap_writer_free(&w);
    bed_down(c);
    free(c);
    (void)rr(b, ICR);
}

/* The backend goes away (a tap deleted in dom0; here the socket's peer): the link drops, LSC
 * is raised, STATUS.LU and the PHY's link bits clear, frames sent are dropped. */
static void test_link_down(void **state)
{
    struct bed *b = *state;
    ww(b, IMS, 0x4);
    (void)rr(b, ICR);
    assert_int_equal(rr(b, STATUS) & 2, 2);
    rx_ring(b, 8, 0x2 | 0x04000000);
    close(b->peer);
    b->peer = -1;
    pump(b, 0);
    assert_int_equal(irq(b), 1);
    assert_int_equal(rr(b, ICR) & 0x4, 0x4);
    assert_int_equal(rr(b, STATUS) & 2, 0);
    assert_int_equal(mdic(b, 1, 1, 0, 0) & 0x4, 0);
    assert_int_equal(mdic(b, 1, 17, 0, 0) & 0x0400, 0);
    tx_ring(b, 8);
    legacy_desc(b, 0, BUFS, 60, 0x09);
    ww(b, TDT, 1);
    assert_int_equal(rr(b, TDH), 1); /* the ring moves on; the frame is dropped */
}

static void test_unplug(void **state)
{
    struct bed *b = *state;
    vm_unplug(&b->fx->vm, VM_UNPLUG_NICS);
    assert_int_equal(fx_cfg_read(b->fx, DEVFN, 0, 4), 0xffffffff);
    assert_int_equal(rr(b, STATUS), 0xffffffff);
    /* its state still saves */
    struct snap_writer w;
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m, &w), 0);
    snap_writer_free(&w);
}

/* Run BODY in a child under hvmd's seccomp filter (SANDBOX_ON: a system call outside its
 * allow-list kills it), the machine and the backend made before it, as in hvmd. */
static void in_sandbox(void **state, void (*body)(void **state))
{
    struct bed *b = *state;
    int st = 0;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        b->child = 1;
        if (sandbox_enter(SANDBOX_ON, err, sizeof(err)) < 0)
            _exit(3);
        body(state);
        _exit(0);
    }
    close(b->peer); /* dom0's end is the child's alone (a close there is a link down) */
    b->peer = -1;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        fail_msg("killed by SIGSYS: the e1000 made a system call outside hvmd's allow-list");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the sandboxed case failed (status %#x)", st);
}

#define SANDBOXED(name) \
    static void name##_sandboxed(void **state) { in_sandbox(state, name); }
SANDBOXED(test_tx_tso)
SANDBOXED(test_rx_wrap)
SANDBOXED(test_rx_delay_timer)
SANDBOXED(test_itr_throttle)
SANDBOXED(test_link_down)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pci_function, setup, teardown),
        cmocka_unit_test(test_rom),
        cmocka_unit_test_setup_teardown(test_eeprom_eerd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eeprom_microwire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_phy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_causes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_itr_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_long_and_small_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_delay_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_tso_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_wrap_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_delay_timer_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_itr_throttle_sandboxed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_sandboxed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

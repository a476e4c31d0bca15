/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel 82540EM Gigabit Ethernet controller (PCI 8086:100e, subsystem 8086:001e), one per
 * -device e1000,id=..,netdev=..,mac=.. (libxl's model=e1000), at 00:04.0 on in NIC order.
 * Spec: Intel PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's Manual
 * (8254x), chapters 3 (receive and transmit descriptors, context descriptors, TCP
 * segmentation), 5 (EEPROM map and checksum 0xBABA), 7 (interrupts and moderation), 8
 * (registers), 13 (the internal PHY's registers). How guests drive it was learnt from Linux's
 * e1000 driver and iPXE's intel driver.
 * Emulated: BAR 0 (128 KiB registers) and BAR 1 (I/O, IOADDR/IODATA); CTRL (device reset),
 * STATUS (link, full duplex, 1000 Mb/s), the 64-word Microwire EEPROM bit-banged through EECD
 * and read through EERD; MDIC with the internal PHY (M88E1011 ids, link in its status
 * registers); ICR read-to-clear, ICS, IMS, IMC; ITR, RDTR/RADV, TIDV/TADV moderation on loop
 * timers; legacy receive descriptors with RCTL.BSIZE/BSEX buffers, long packets (LPE), CRC
 * strip (SECRC, else a real FCS is appended), unicast (16 RA entries), multicast (MTA hash per
 * RCTL.MO, MPE) and broadcast (BAM) filters, promiscuous (UPE); VLAN strip/insert with
 * CTRL.VME; legacy and extended transmit descriptors, the context descriptor, IP/TCP/UDP
 * checksum insertion and TCP segmentation (IPv4 and IPv6) done segment by segment in a buffer
 * of one segment; statistics, read-to-clear; link from the backend (LSC).
 * Guest rings are hostile: heads and tails outside the ring, zero lengths and bad addresses are
 * refused with a rate-limited log line; a doorbell does a bounded amount of work and the rest
 * continues from the loop (so a ring that loops or a chain without end costs bounded time per
 * turn); frames never outgrow their buffer.
 * The option ROM (iPXE's pxe-e1000.rom, from -L, /usr/share/qemu or ipxe-qemu's directory)
 * through the expansion ROM BAR; the Xen platform device's NIC unplug.
 * Left out: receive checksum offload (descriptors say IXSM: not computed), loopback modes,
 * flow-control frames, wake-up and manageability (registers only hold what is written), the
 * flash BAR, PCI-X and power-management capabilities, EEPROM writes (read-only), the 82542
 * register aliases, receive small-packet detection and the VLAN filter table (VFE). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/net.h"
#include "devices/net/nic.h"
#include "firmware/rom.h"

#define E1000_MAX 4
#define ROM_NAME "pxe-e1000.rom"
#define ROM_FALLBACK_DIR "/usr/lib/ipxe/qemu" /* Debian's ipxe-qemu, when -L does not say */

/* ---- registers (byte offsets in BAR 0) ---- */
#define CTRL 0x0000
#define STATUS 0x0008
#define EECD 0x0010
#define EERD 0x0014
#define CTRL_EXT 0x0018
#define MDIC 0x0020
#define ICR 0x00c0
#define ITR 0x00c4
#define ICS 0x00c8
#define IMS 0x00d0
#define IMC 0x00d8
#define RCTL 0x0100
#define TCTL 0x0400
#define LEDCTL 0x0e00
#define PBA 0x1000
#define RDBAL 0x2800
#define RDBAH 0x2804
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define RDTR 0x2820
#define RADV 0x282c
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define TIDV 0x3820
#define TADV 0x382c
#define STATS_FIRST 0x4000
#define STATS_LAST 0x40fc
#define MTA 0x5200
#define RA 0x5400
#define VFTA 0x5600
#define VET 0x0038
#define REG_SPACE 0x6000 /* registers held; above reads 0 */
#define BAR0_SIZE 0x20000
#define BAR1_SIZE 0x40

/* statistics used (all read-to-clear) */
#define MPC 0x4010
#define ROC 0x40ac
#define RNBC 0x40a0
#define PRC64 0x405c
#define GPRC 0x4074
#define BPRC 0x4078
#define MPRC 0x407c
#define GPTC 0x4080
#define GORCL 0x4088
#define GOTCL 0x4090
#define TORL 0x40c0
#define TOTL 0x40c8
#define TPR 0x40d0
#define TPT 0x40d4
#define PTC64 0x40d8
#define MPTC 0x40f0
#define BPTC 0x40f4
#define TSCTC 0x40f8
#define TSCTFC 0x40fc

#define CTRL_FD 0x1
#define CTRL_SLU 0x40
#define CTRL_SPD_1000 0x200
#define CTRL_RST 0x04000000
#define CTRL_VME 0x40000000
#define CTRL_PHY_RST 0x80000000
#define STATUS_FD 0x1
#define STATUS_LU 0x2
#define STATUS_SPEED_1000 0x80
#define EECD_SK 0x1
#define EECD_CS 0x2
#define EECD_DI 0x4
#define EECD_DO 0x8
#define EECD_REQ 0x40
#define EECD_GNT 0x80
#define EECD_PRES 0x100
#define EECD_HOST (EECD_SK | EECD_CS | EECD_DI | 0x30 | EECD_REQ) /* bits the host drives */
#define EERD_START 0x1
#define EERD_DONE 0x10
#define CTRL_EXT_EE_RST 0x2000
#define MDIC_OP_WRITE 0x04000000
#define MDIC_OP_READ 0x08000000
#define MDIC_READY 0x10000000
#define MDIC_INT 0x20000000
#define MDIC_ERROR 0x40000000
#define ICR_TXDW 0x1
#define ICR_TXQE 0x2
#define ICR_LSC 0x4
#define ICR_RXDMT0 0x10
#define ICR_RXO 0x40
#define ICR_RXT0 0x80
#define ICR_MDAC 0x200
#define RCTL_EN 0x2
#define RCTL_UPE 0x8
#define RCTL_MPE 0x10
#define RCTL_LPE 0x20
#define RCTL_RDMTS_SHIFT 8
#define RCTL_MO_SHIFT 12
#define RCTL_BAM 0x8000
#define RCTL_BSIZE_SHIFT 16
#define RCTL_BSEX 0x02000000
#define RCTL_SECRC 0x04000000
#define TCTL_EN 0x2
#define TCTL_PSP 0x8
#define RDTR_FPD 0x80000000u
#define RAH_AV 0x80000000u

/* descriptors */
#define DESC_SIZE 16
#define RXD_DD 0x01
#define RXD_EOP 0x02
#define RXD_IXSM 0x04
#define RXD_VP 0x08
#define TXD_EOP 0x01
#define TXD_IC 0x04     /* legacy: insert checksum */
#define TXD_TSE 0x04    /* extended: TCP segmentation */
#define TXD_RS 0x08
#define TXD_DEXT 0x20
#define TXD_VLE 0x40
#define TXD_IDE 0x80
#define TXD_DD 0x01
#define DTYP_CONTEXT 0x0
#define DTYP_DATA 0x1
#define POPTS_IXSM 0x01
#define POPTS_TXSM 0x02
#define TUCMD_TCP 0x01
#define TUCMD_IP 0x02

/* PHY (internal, address 1) */
#define PHY_ADDR 1
#define PHY_CTRL 0
#define PHY_STATUS 1
#define PHY_ID1 2
#define PHY_ID2 3
#define PHY_LP_ABILITY 5
#define PHY_AN_EXP 6
#define PHY_1000T_STATUS 10
#define PHY_EXT_STATUS 15
#define PHY_SPEC_STATUS 17
#define PHY_INT_STATUS 19
#define PHY_RX_ERRORS 21
#define PHYC_RESET 0x8000
#define PHYC_RESTART_AN 0x0200

#define EE_WORDS 64
#define EE_CHECKSUM_WORD 0x3f
#define EE_SUM 0xbaba

/* Bounded work: one turn of the transmit ring handles at most this many descriptors or bytes,
 * then continues from the loop. */
#define TX_TURN_DESCS 256
#define TX_TURN_BYTES (1u << 20)
/* The smallest TSO segment taken (Linux's TCP_MIN_MSS is 88): fewer than 16,384 segments per
 * descriptor of up to 1 MiB. A smaller MSS is refused with the packet. */
#define TSO_MIN_MSS 64
#define TX_BUF_SIZE (NET_MAX_FRAME + 256)
#define RX_MAX_LPE 16384
#define RX_MAX_FRAME 1522
#define RX_BUF_SIZE (NET_MAX_FRAME + 64)

struct tx_ctx {
    uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdrlen;
    uint16_t ipcse, tucse, mss;
    uint32_t paylen;
};

struct e1000 {
    struct dev_base base; /* the PCI function */
    char name[40];
    struct net *net;
    uint8_t mac[6];
    uint8_t devfn;
    int link;             /* the backend's link */
    uint32_t ioaddr;      /* BAR 1's IOADDR */
    int unplugged;
    uint32_t regs[REG_SPACE / 4];
    uint16_t eeprom[EE_WORDS];
    uint16_t phy[32];
    /* Microwire EEPROM interface */
    struct {
        uint32_t in;
        uint8_t nin, reading, addr, dout;
        uint16_t out_pos;
    } ee;
    /* transmit: the packet being gathered and the context that applies */
    struct tx_ctx ctx;
    struct {
        uint8_t *buf;
        uint32_t len;
        int active;       /* inside a packet (its first descriptor seen) */
        int drop;         /* skip to the end of this packet */
        int tse, legacy;
        uint8_t popts, cso, css, vle;
        uint16_t vlan;
        uint8_t hdr[256]; /* TSO: the packet's headers as the guest wrote them */
        uint32_t sent;    /* TSO: payload bytes sent */
        uint16_t segs;
        struct tx_ctx pctx; /* the context as the packet's first descriptor found it */
    } tx;
    uint8_t *rxbuf;
    struct blob rom;      /* iPXE's option ROM, or empty */
    uint32_t crc[256];    /* CRC-32 table for the FCS */
    /* interrupts */
    int line;
    uint64_t irq_next_ns;
    struct loop_timer *t_itr, *t_rdtr, *t_radv, *t_tidv, *t_tadv, *t_tx;
    int itr_armed, rx_pending, radv_armed, tx_pending, tadv_armed, tx_kick;
    int in_tx;
    struct ratelimit rl;
    uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped, irqs;
};

struct e1000s {
    struct e1000 *n[E1000_MAX];
    unsigned count;
    struct vm *vm;
};

static inline uint32_t rd(const struct e1000 *s, unsigned off) { return s->regs[off >> 2]; }
static inline void wr(struct e1000 *s, unsigned off, uint32_t v) { s->regs[off >> 2] = v; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- interrupts ---- */

static void update_irq(struct e1000 *s)
{
    int want = (rd(s, ICR) & rd(s, IMS)) != 0;
    if (!s->base.pci)
        return;
    if (!want) {
        if (s->line) {
            s->line = 0;
            pci_set_irq(s->base.pci, 0);
        }
        return;
    }
    if (s->line)
        return;
    uint32_t itr = rd(s, ITR) & 0xffff;
    uint64_t now = itr ? now_ns() : 0;
    if (itr && now < s->irq_next_ns) {
        if (!s->itr_armed) {
            s->itr_armed = 1;
            loop_timer_arm(s->t_itr, s->irq_next_ns - now);
        }
        return;
    }
    s->line = 1;
    s->irqs++;
    pci_set_irq(s->base.pci, 1);
    if (itr)
        s->irq_next_ns = now + (uint64_t)itr * 256;
}

static void set_ics(struct e1000 *s, uint32_t bits)
{
    wr(s, ICR, rd(s, ICR) | bits);
    update_irq(s);
}

static void itr_fire(void *opaque)
{
    struct e1000 *s = opaque;
    s->itr_armed = 0;
    update_irq(s);
}

static void disarm(struct loop_timer *t, int *armed)
{
    if (*armed) {
        *armed = 0;
        loop_timer_arm(t, 0);
    }
}

static void rx_intr_now(struct e1000 *s)
{
    s->rx_pending = 0;
    loop_timer_arm(s->t_rdtr, 0);
    disarm(s->t_radv, &s->radv_armed);
    set_ics(s, ICR_RXT0);
}

static void rdtr_fire(void *opaque)
{
    struct e1000 *s = opaque;
    if (s->rx_pending)
        rx_intr_now(s);
}

static void radv_fire(void *opaque)
{
    struct e1000 *s = opaque;
    s->radv_armed = 0;
    if (s->rx_pending)
        rx_intr_now(s);
}

/* A frame went into the ring: RXT0 now, or after the packet timer (RDTR, restarted by each
 * frame) or the absolute timer (RADV), whichever ends first; units of 1.024 us. */
static void rx_intr(struct e1000 *s)
{
    uint32_t rdtr = rd(s, RDTR) & 0xffff, radv = rd(s, RADV) & 0xffff;
    if (!rdtr) {
        rx_intr_now(s);
        return;
    }
    s->rx_pending = 1;
    loop_timer_arm(s->t_rdtr, (uint64_t)rdtr * 1024);
    if (radv && !s->radv_armed) {
        s->radv_armed = 1;
        loop_timer_arm(s->t_radv, (uint64_t)radv * 1024);
    }
}

static void tx_intr_now(struct e1000 *s)
{
    s->tx_pending = 0;
    loop_timer_arm(s->t_tidv, 0);
    disarm(s->t_tadv, &s->tadv_armed);
    set_ics(s, ICR_TXDW);
}

static void tidv_fire(void *opaque)
{
    struct e1000 *s = opaque;
    if (s->tx_pending)
        tx_intr_now(s);
}

static void tadv_fire(void *opaque)
{
    struct e1000 *s = opaque;
    s->tadv_armed = 0;
    if (s->tx_pending)
        tx_intr_now(s);
}

/* Descriptors were written back: TXDW now, or (IDE) after TIDV / TADV. */
static void tx_intr(struct e1000 *s, int delayed)
{
    uint32_t tidv = rd(s, TIDV) & 0xffff, tadv = rd(s, TADV) & 0xffff;
    if (!delayed || !tidv) {
        tx_intr_now(s);
        return;
    }
    s->tx_pending = 1;
    loop_timer_arm(s->t_tidv, (uint64_t)tidv * 1024);
    if (tadv && !s->tadv_armed) {
        s->tadv_armed = 1;
        loop_timer_arm(s->t_tadv, (uint64_t)tadv * 1024);
    }
}

/* ---- statistics ---- */

static void stat_add(struct e1000 *s, unsigned off, uint32_t n)
{
    uint32_t v = rd(s, off);
    wr(s, off, v + n < v ? 0xffffffffu : v + n); /* the 32-bit counters saturate */
}

static void stat_add64(struct e1000 *s, unsigned lo, uint64_t n)
{
    uint64_t v = ((uint64_t)rd(s, lo + 4) << 32 | rd(s, lo)) + n;
    wr(s, lo, (uint32_t)v);
    wr(s, lo + 4, (uint32_t)(v >> 32));
}

/* The size bucket of the 64/127/255/511/1023/1522 counters (without the 4-byte FCS). */
static void stat_size(struct e1000 *s, unsigned first, size_t len)
{
    static const size_t top[] = { 64, 127, 255, 511, 1023 };
    unsigned i = 0;
    len += 4;
    while (i < ARRAY_SIZE(top) && len > top[i])
        i++;
    if (i < ARRAY_SIZE(top) || len <= 1522)
        stat_add(s, first + 4 * i, 1);
}

/* ---- EEPROM ---- */

static void eeprom_init(struct e1000 *s)
{
    uint16_t *e = s->eeprom, sum = 0;
    memset(e, 0, sizeof(s->eeprom));
    for (unsigned i = 0; i < 3; i++)
        e[i] = (uint16_t)(s->mac[2 * i] | s->mac[2 * i + 1] << 8);
    e[0x04] = 0xffff; /* LED settings: the defaults */
    e[0x05] = 0x2010; /* image version */
    e[0x08] = 0x3000; /* PBA number */
    e[0x09] = 0x1000;
    e[0x0a] = 0x4403; /* init control 1: signature 01b, load subsystem and device ids */
    e[0x0b] = 0x001e; /* subsystem id */
    e[0x0c] = 0x8086; /* subsystem vendor */
    e[0x0d] = 0x100e; /* device id */
    e[0x0e] = 0x8086; /* vendor */
    e[0x0f] = 0x3000; /* init control 2: no APM wake-up, no pause advertised */
    e[0x10] = 0x0008;
    e[0x14] = 0x00d8;
    for (unsigned i = 0; i < EE_CHECKSUM_WORD; i++)
        sum = (uint16_t)(sum + e[i]);
    e[EE_CHECKSUM_WORD] = (uint16_t)(EE_SUM - sum);
}

static uint32_t eecd_read(const struct e1000 *s)
{
    uint32_t v = (rd(s, EECD) & EECD_HOST) | EECD_PRES;
    if (v & EECD_REQ)
        v |= EECD_GNT;
    if ((v & EECD_CS) && s->ee.dout)
        v |= EECD_DO;
    return v;
}

/* The Microwire protocol on a rising edge of SK with CS high: a start bit, a 2-bit opcode and
 * 6 address bits shift in; after READ (10b) the words shift out MSB first, one bit per edge,
 * going on into the next word. Other commands (write, erase, EWEN) are taken and ignored. */
static void eecd_write(struct e1000 *s, uint32_t v)
{
    uint32_t old = rd(s, EECD);
    wr(s, EECD, v & EECD_HOST);
    if (!(v & EECD_CS)) {
        memset(&s->ee, 0, sizeof(s->ee));
        return;
    }
    if ((old & EECD_SK) || !(v & EECD_SK))
        return;
    if (s->ee.reading) {
        unsigned word = (s->ee.addr + s->ee.out_pos / 16u) % EE_WORDS;
        s->ee.dout = (uint8_t)((s->eeprom[word] >> (15 - s->ee.out_pos % 16u)) & 1);
        s->ee.out_pos = (uint16_t)((s->ee.out_pos + 1) % (EE_WORDS * 16));
        return;
    }
    if (s->ee.nin >= 9)
        return; /* a command we ignore: wait for CS to drop */
    if (s->ee.nin == 0 && !(v & EECD_DI))
        return; /* waiting for the start bit */
    s->ee.in = (s->ee.in << 1) | ((v & EECD_DI) ? 1 : 0);
    if (++s->ee.nin == 9 && ((s->ee.in >> 6) & 3) == 2) {
        s->ee.reading = 1;
        s->ee.addr = (uint8_t)(s->ee.in & 0x3f);
        s->ee.out_pos = 0;
        s->ee.dout = 0; /* the dummy 0 bit before the data */
    }
}

static void eerd_write(struct e1000 *s, uint32_t v)
{
    if (!(v & EERD_START)) {
        wr(s, EERD, v & 0xff00);
        return;
    }
    unsigned addr = (v >> 8) & 0xff;
    uint16_t data = addr < EE_WORDS ? s->eeprom[addr] : 0;
    if (addr >= EE_WORDS)
        log_guest(&s->rl, s->name, "EERD read of word %#x beyond the %u-word EEPROM", addr,
                  EE_WORDS);
    wr(s, EERD, (uint32_t)data << 16 | addr << 8 | EERD_DONE);
}

/* ---- PHY ---- */

static void phy_reset(struct e1000 *s)
{
    memset(s->phy, 0, sizeof(s->phy));
    s->phy[PHY_CTRL] = 0x1140;   /* autonegotiation on, full duplex, 1000 Mb/s */
    s->phy[PHY_ID1] = 0x0141;    /* Marvell, 88E1011 (what Linux's e1000 expects on 82540) */
    s->phy[PHY_ID2] = 0x0c20;
    s->phy[4] = 0x01e1;          /* autonegotiation advertisement */
    s->phy[9] = 0x0300;          /* 1000BASE-T control: advertise 1000 full and half */
    s->phy[16] = 0x0068;         /* PHY specific control */
    s->phy[20] = 0x0d60;         /* extended PHY specific control */
}

/* The registers that follow the link (read-only to the guest). */
static uint16_t phy_read(const struct e1000 *s, unsigned reg)
{
    int up = s->link;
    switch (reg) {
    case PHY_STATUS:
        return (uint16_t)(0x7949 | (up ? 0x0024 : 0)); /* link, autonegotiation complete */
    case PHY_LP_ABILITY:
        return up ? 0x41e1 : 0;
    case PHY_AN_EXP:
        return up ? 0x0001 : 0;
    case PHY_1000T_STATUS:
        return up ? 0x3c00 : 0;
    case PHY_EXT_STATUS:
        return 0x3000;
    case PHY_SPEC_STATUS:
        return up ? 0xac00 : 0; /* 1000 Mb/s, full duplex, resolved, link */
    case PHY_INT_STATUS:
    case PHY_RX_ERRORS:
        return 0;
    default:
        return s->phy[reg];
    }
}

static void phy_write(struct e1000 *s, unsigned reg, uint16_t v)
{
    switch (reg) {
    case PHY_CTRL:
        /* a software reset commits the configuration written before it (the M88's way) and
         * keeps it; the reset and restart bits clear at once (autonegotiation is instant).
         * CTRL.PHY_RST is the hardware reset that brings back the defaults. */
        s->phy[PHY_CTRL] = v & (uint16_t)~(PHYC_RESET | PHYC_RESTART_AN);
        return;
    case PHY_STATUS: case PHY_ID1: case PHY_ID2: case PHY_LP_ABILITY: case PHY_AN_EXP:
    case PHY_1000T_STATUS: case PHY_EXT_STATUS: case PHY_SPEC_STATUS: case PHY_INT_STATUS:
    case PHY_RX_ERRORS:
        return; /* read-only */
    default:
        s->phy[reg] = v;
    }
}

static void mdic_write(struct e1000 *s, uint32_t v)
{
    unsigned phy = (v >> 21) & 0x1f, reg = (v >> 16) & 0x1f;
    uint32_t r = v & 0x0fffffff;
    if (phy != PHY_ADDR) {
        r |= MDIC_ERROR;
    } else if (v & MDIC_OP_READ) {
        r = (r & ~0xffffu) | phy_read(s, reg);
    } else if (v & MDIC_OP_WRITE) {
        phy_write(s, reg, (uint16_t)v);
    } else {
        r |= MDIC_ERROR;
    }
    wr(s, MDIC, r | MDIC_READY | (v & MDIC_INT));
    if (v & MDIC_INT)
        set_ics(s, ICR_MDAC);
}

/* ---- link ---- */

static void set_link(struct e1000 *s, int up)
{
    up = !!up;
    if (up == s->link)
        return;
    s->link = up;
    log_info("%s: link %s", s->name, up ? "up" : "down");
    set_ics(s, ICR_LSC);
    if (up && s->net)
        net_rx_ready(s->net);
}

static uint32_t status_read(const struct e1000 *s)
{
    return STATUS_FD | STATUS_SPEED_1000 | (s->link ? STATUS_LU : 0);
}

/* ---- receive ---- */

static uint32_t rx_bufsize(const struct e1000 *s)
{
    uint32_t rctl = rd(s, RCTL), b = (rctl >> RCTL_BSIZE_SHIFT) & 3;
    if (rctl & RCTL_BSEX)
        return b == 0 ? 2048 : 32768u >> b; /* 16384, 8192, 4096 (00b reserved) */
    return 2048u >> b;                      /* 2048, 1024, 512, 256 */
}

/* The receive ring: 0 and its geometry if it is usable, else -1 (logged if the guest enabled
 * receive with a bad one). */
static int rx_ring(struct e1000 *s, uint64_t *base, uint32_t *n, uint32_t *head, uint32_t *tail)
{
    *n = (rd(s, RDLEN) & 0xfff80) / DESC_SIZE;
    *head = rd(s, RDH) & 0xffff;
    *tail = rd(s, RDT) & 0xffff;
    *base = (uint64_t)rd(s, RDBAH) << 32 | (rd(s, RDBAL) & ~0xfu);
    if (*n == 0 || *head >= *n || *tail >= *n)
        return -1;
    return 0;
}

static uint32_t rx_free(uint32_t n, uint32_t head, uint32_t tail)
{
    return (tail + n - head) % n;
}

static uint32_t rx_max_frame(const struct e1000 *s)
{
    return (rd(s, RCTL) & RCTL_LPE) ? RX_MAX_LPE : RX_MAX_FRAME;
}

static int e1000_can_receive(void *opaque)
{
    struct e1000 *s = opaque;
    uint64_t base;
    uint32_t n, head, tail;
    if (s->unplugged || !s->link || !(rd(s, RCTL) & RCTL_EN) ||
        rx_ring(s, &base, &n, &head, &tail) < 0)
        return 0;
    uint32_t bs = rx_bufsize(s), need = (rx_max_frame(s) + bs - 1) / bs;
    if (need > n - 1)
        need = n - 1; /* a ring too small for the longest frame: take what fits */
    if (need == 0)
        need = 1;
    return rx_free(n, head, tail) >= need;
}

static int mac_eq(const uint8_t *a, const uint8_t *b) { return !memcmp(a, b, 6); }

/* Unicast, multicast and broadcast filters (RAL/RAH, MTA, RCTL.UPE/MPE/BAM). */
static int rx_accept(const struct e1000 *s, const uint8_t *dst)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint32_t rctl = rd(s, RCTL);
    if (mac_eq(dst, bcast))
        return (rctl & (RCTL_BAM | RCTL_MPE)) != 0;
    if ((dst[0] & 1) && (rctl & RCTL_MPE))
        return 1;
    if (!(dst[0] & 1) && (rctl & RCTL_UPE))
        return 1;
    for (unsigned i = 0; i < 16; i++) {
        uint32_t lo = rd(s, RA + 8 * i), hi = rd(s, RA + 8 * i + 4);
        uint8_t a[6] = { (uint8_t)lo, (uint8_t)(lo >> 8), (uint8_t)(lo >> 16),
                         (uint8_t)(lo >> 24), (uint8_t)hi, (uint8_t)(hi >> 8) };
        if ((hi & RAH_AV) && mac_eq(a, dst))
            return 1;
    }
    if (dst[0] & 1) {
        static const unsigned shift[4] = { 4, 3, 2, 0 };
        unsigned mo = (rctl >> RCTL_MO_SHIFT) & 3;
        unsigned h = ((unsigned)dst[4] >> shift[mo] | (unsigned)dst[5] << (8 - shift[mo])) & 0xfff;
        return (rd(s, MTA + 4 * (h >> 5)) >> (h & 31)) & 1;
    }
    return 0;
}

/* The Ethernet FCS (CRC-32, reflected) a byte at a time, with the device's own table. */
static void crc32_init(uint32_t *t)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
        t[i] = c;
    }
}

static uint32_t crc32_eth(const uint32_t *t, const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        c = (c >> 8) ^ t[(c ^ p[i]) & 0xff];
    return ~c;
}

static void rx_drop(struct e1000 *s)
{
    s->rx_dropped++;
}

static void e1000_receive(void *opaque, const struct iovec *iov, int niov, size_t len)
{
    struct e1000 *s = opaque;
    uint8_t *f = s->rxbuf;
    uint64_t base;
    uint32_t n, head, tail;
    uint16_t special = 0;
    uint8_t status = RXD_DD | RXD_IXSM;

    if (s->unplugged || !(rd(s, RCTL) & RCTL_EN) || !s->link)
        return rx_drop(s);
    if (len > NET_MAX_FRAME || len < 14)
        return rx_drop(s);
    size_t got = 0;
    for (int i = 0; i < niov && got < len; i++) {
        size_t c = MIN(iov[i].iov_len, len - got);
        memcpy(f + got, iov[i].iov_base, c);
        got += c;
    }
    if (got < len)
        return rx_drop(s);
    if (!rx_accept(s, f))
        return; /* filtered: not a drop */
    if (len + 4 > rx_max_frame(s)) {
        stat_add(s, ROC, 1);
        return rx_drop(s);
    }
    if (len < 60) { /* what the wire carries: padded to the minimum */
        memset(f + len, 0, 60 - len);
        len = 60;
    }
    uint16_t vet = (uint16_t)(rd(s, VET) & 0xffff);
    if ((rd(s, CTRL) & CTRL_VME) && (uint16_t)(f[12] << 8 | f[13]) == vet) {
        special = (uint16_t)(f[14] << 8 | f[15]);
        memmove(f + 12, f + 16, len - 16);
        len -= 4;
        status |= RXD_VP;
    }
    size_t stat_len = len;
    if (!(rd(s, RCTL) & RCTL_SECRC)) {
        st32(f + len, crc32_eth(s->crc, f, len));
        len += 4;
    }
    if (rx_ring(s, &base, &n, &head, &tail) < 0) {
        log_guest(&s->rl, s->name, "receive ring unusable (RDLEN %#x, RDH %u, RDT %u): frame "
                  "dropped", rd(s, RDLEN), rd(s, RDH), rd(s, RDT));
        return rx_drop(s);
    }
    uint32_t bs = rx_bufsize(s), need = (uint32_t)((len + bs - 1) / bs);
    if (need > rx_free(n, head, tail)) {
        stat_add(s, MPC, 1);
        stat_add(s, RNBC, 1);
        set_ics(s, ICR_RXO);
        return rx_drop(s);
    }
    size_t off = 0;
    for (uint32_t k = 0; k < need; k++) {
        uint8_t d[DESC_SIZE];
        uint64_t da = base + (uint64_t)head * DESC_SIZE;
        size_t c = MIN((size_t)bs, len - off);
        if (mem_read(s->base.vm->mem, da, d, sizeof(d)) < 0) {
            log_guest(&s->rl, s->name, "receive descriptor %u at %#llx is not RAM", head,
                      (unsigned long long)da);
            return rx_drop(s);
        }
        uint64_t buf = ld64(d);
        if (mem_write(s->base.vm->mem, buf, f + off, c) < 0)
            log_guest(&s->rl, s->name, "receive buffer %#llx (%zu bytes) is not RAM: data lost",
                      (unsigned long long)buf, c);
        off += c;
        uint8_t wb[8] = { 0 };
        st16(wb, (uint16_t)c);
        wb[4] = (uint8_t)(status | (off == len ? RXD_EOP : 0));
        st16(wb + 6, special);
        if (mem_write(s->base.vm->mem, da + 8, wb, sizeof(wb)) < 0)
            log_guest(&s->rl, s->name, "receive descriptor %u write-back failed", head);
        head = (head + 1) % n;
    }
    wr(s, RDH, head);
    s->rx_frames++;
    stat_add(s, GPRC, 1);
    stat_add(s, TPR, 1);
    stat_add64(s, GORCL, stat_len + 4);
    stat_add64(s, TORL, stat_len + 4);
    stat_size(s, PRC64, stat_len);
    if (f[0] & 1)
        stat_add(s, mac_eq(f, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }) ? BPRC
                                                                                         : MPRC, 1);
    uint32_t left = rx_free(n, head, tail);
    uint32_t threshold = n >> (1 + ((rd(s, RCTL) >> RCTL_RDMTS_SHIFT) & 3));
    if (left <= threshold)
        wr(s, ICR, rd(s, ICR) | ICR_RXDMT0);
    rx_intr(s);
}

static void e1000_link_cb(void *opaque, int up)
{
    set_link(opaque, up);
}

static const struct net_client_ops e1000_net_ops = {
    .can_receive = e1000_can_receive,
    .receive = e1000_receive,
    .link = e1000_link_cb,
};

/* ---- transmit ---- */


/* The checksum of F[start .. end] (END inclusive; 0: to the frame's end) stored at F[at],
 * with EXTRA added into the sum (the TCP/UDP length of a TSO segment). A range outside the
 * frame is refused. */
static void insert_csum(struct e1000 *s, uint8_t *f, size_t len, unsigned start, unsigned at,
                        unsigned end, uint32_t extra, int udp)
{
    size_t stop = end ? (size_t)end + 1 : len;
    if (stop > len)
        stop = len;
    if (start >= stop || (size_t)at + 2 > len) {
        log_guest(&s->rl, s->name, "checksum range %u-%u (at %u) outside a %zu-byte frame",
                  start, end, at, len);
        return;
    }
    uint16_t c = net_csum_fold(net_csum_add(extra, f + start, stop - start));
    if (udp && c == 0)
        c = 0xffff;
    put_be16(f + at, c);
}

static void tx_send(struct e1000 *s, uint8_t *f, size_t len)
{
    struct iovec iov[3];
    uint8_t tag[4];
    int niov = 1;
    iov[0].iov_base = f;
    iov[0].iov_len = len;
    if (s->tx.vle && (rd(s, CTRL) & CTRL_VME) && len >= 12) {
        put_be16(tag, (uint16_t)rd(s, VET));
        put_be16(tag + 2, s->tx.vlan);
        iov[0].iov_len = 12;
        iov[1].iov_base = tag;
        iov[1].iov_len = 4;
        iov[2].iov_base = f + 12;
        iov[2].iov_len = len - 12;
        niov = 3;
    }
    s->tx_frames++;
    stat_add(s, GPTC, 1);
    stat_add(s, TPT, 1);
    stat_add64(s, GOTCL, len + 4);
    stat_add64(s, TOTL, len + 4);
    stat_size(s, PTC64, len);
    if (f[0] & 1)
        stat_add(s, mac_eq(f, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }) ? BPTC
                                                                                         : MPTC, 1);
    if (!s->net || net_send(s->net, iov, niov) < 0)
        s->tx_dropped++;
}

/* A whole (not segmented) packet: checksums as asked, then out. */
static void tx_packet(struct e1000 *s)
{
    uint8_t *f = s->tx.buf;
    size_t len = s->tx.len;
    const struct tx_ctx *c = &s->tx.pctx;
    if (s->tx.legacy) {
        if (s->tx.popts & POPTS_TXSM)
            insert_csum(s, f, len, s->tx.css, s->tx.cso, 0, 0, 0);
    } else {
        if (s->tx.popts & POPTS_IXSM)
            insert_csum(s, f, len, c->ipcss, c->ipcso, c->ipcse, 0, 0);
        if (s->tx.popts & POPTS_TXSM)
            insert_csum(s, f, len, c->tucss, c->tucso, c->tucse, 0, !(c->tucmd & TUCMD_TCP));
    }
    tx_send(s, f, len);
}

/* TSO: is C a context we can segment by (headers inside HDRLEN, an MSS of at least
 * TSO_MIN_MSS, a segment that fits the buffer)? */
static int tso_ctx_ok(const struct tx_ctx *c)
{
    unsigned l4 = (c->tucmd & TUCMD_TCP) ? 20 : 8;
    unsigned l3 = (c->tucmd & TUCMD_IP) ? 20 : 40;
    return c->mss >= TSO_MIN_MSS && c->hdrlen != 0 &&
           (uint32_t)c->hdrlen + c->mss <= TX_BUF_SIZE && (unsigned)c->ipcss + l3 <= c->hdrlen &&
           (unsigned)c->tucss + l4 <= c->hdrlen && (unsigned)c->tucso + 2 <= c->hdrlen &&
           (unsigned)c->ipcso + 2 <= c->hdrlen;
}

static int tso_ok(struct e1000 *s)
{
    const struct tx_ctx *c = &s->tx.pctx;
    if (!tso_ctx_ok(c)) {
        log_guest(&s->rl, s->name, "TSO context refused (hdrlen %u, mss %u, ipcss %u, tucss %u)",
                  c->hdrlen, c->mss, c->ipcss, c->tucss);
        return 0;
    }
    return 1;
}

/* Send the segment in the buffer (headers copied from tx.hdr, payload after them). */
static void tso_segment(struct e1000 *s, int last)
{
    const struct tx_ctx *c = &s->tx.pctx;
    uint8_t *f = s->tx.buf;
    size_t len = s->tx.len;
    uint32_t pay = (uint32_t)(len - c->hdrlen);
    memcpy(f, s->tx.hdr, c->hdrlen);
    if (c->tucmd & TUCMD_IP) {
        put_be16(f + c->ipcss + 2, (uint16_t)(len - c->ipcss));
        put_be16(f + c->ipcss + 4, (uint16_t)(get_be16(f + c->ipcss + 4) + s->tx.segs));
    } else {
        put_be16(f + c->ipcss + 4, (uint16_t)(len - c->ipcss - 40));
    }
    uint8_t *l4 = f + c->tucss;
    if (c->tucmd & TUCMD_TCP) {
        uint32_t seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
        seq += s->tx.sent;
        l4[4] = (uint8_t)(seq >> 24); l4[5] = (uint8_t)(seq >> 16);
        l4[6] = (uint8_t)(seq >> 8); l4[7] = (uint8_t)seq;
        if (!last)
            l4[13] &= (uint8_t)~0x09; /* FIN and PSH only on the last segment */
    } else {
        put_be16(l4 + 4, (uint16_t)(len - c->tucss));
    }
    if (s->tx.popts & POPTS_IXSM)
        insert_csum(s, f, len, c->ipcss, c->ipcso, c->ipcse, 0, 0);
    if (s->tx.popts & POPTS_TXSM)
        insert_csum(s, f, len, c->tucss, c->tucso, c->tucse, (uint32_t)(len - c->tucss),
                    !(c->tucmd & TUCMD_TCP));
    tx_send(s, f, len);
    s->tx.sent += pay;
    s->tx.segs++;
    s->tx.len = c->hdrlen;
}

static void tx_reset_packet(struct e1000 *s)
{
    s->tx.len = 0;
    s->tx.active = 0;
    s->tx.drop = 0;
    s->tx.sent = 0;
    s->tx.segs = 0;
}

/* Append LEN bytes from guest GPA to the packet (segmenting as it fills under TSO). Returns
 * the bytes copied. */
static uint32_t tx_gather(struct e1000 *s, uint64_t gpa, uint32_t len)
{
    const struct tx_ctx *c = &s->tx.pctx;
    uint32_t done = 0;
    while (done < len && !s->tx.drop) {
        uint32_t cap;
        if (!s->tx.tse)
            cap = NET_MAX_FRAME;
        else if (s->tx.len < c->hdrlen)
            cap = c->hdrlen;
        else
            cap = (uint32_t)c->hdrlen + c->mss; /* tso_ok: mss > 0, within the buffer */
        if (s->tx.len >= cap) {
            if (!s->tx.tse) {
                log_guest(&s->rl, s->name, "transmit packet over %u bytes: dropped", cap);
                s->tx.drop = 1;
                break;
            }
            tso_segment(s, 0); /* a full segment, and more data follows: send it */
            continue;
        }
        uint32_t n = MIN(cap - s->tx.len, len - done);
        if (mem_read(s->base.vm->mem, gpa + done, s->tx.buf + s->tx.len, n) < 0) {
            log_guest(&s->rl, s->name, "transmit buffer %#llx (%u bytes) is not RAM: packet "
                      "dropped", (unsigned long long)(gpa + done), n);
            s->tx.drop = 1;
            break;
        }
        s->tx.len += n;
        done += n;
        /* headers complete: keep the guest's copy for every segment */
        if (s->tx.tse && s->tx.segs == 0 && s->tx.len == c->hdrlen)
            memcpy(s->tx.hdr, s->tx.buf, c->hdrlen);
    }
    return done;
}

static void tx_end_packet(struct e1000 *s)
{
    if (s->tx.drop) {
        s->tx_dropped++;
    } else if (s->tx.tse) {
        if (s->tx.len < s->tx.pctx.hdrlen)
            log_guest(&s->rl, s->name, "TSO packet shorter than its %u-byte headers: dropped",
                      s->tx.pctx.hdrlen);
        else if (s->tx.len > s->tx.pctx.hdrlen || s->tx.segs == 0)
            tso_segment(s, 1);
        stat_add(s, TSCTC, 1);
    } else if (s->tx.len) {
        tx_packet(s);
    }
    tx_reset_packet(s);
}

/* One descriptor (a private copy). Returns the bytes it moved and whether it asked for
 * status (RS) and a delayed interrupt (IDE). */
static uint32_t tx_desc(struct e1000 *s, const uint8_t *d, int *rs, int *ide)
{
    uint64_t addr = ld64(d);
    uint32_t lower = ld32(d + 8), upper = ld32(d + 12);
    uint8_t cmd = (uint8_t)(lower >> 24);
    int dext = (cmd & TXD_DEXT) != 0;
    unsigned dtyp = (lower >> 20) & 0xf;
    uint32_t len, moved = 0;

    *rs = (cmd & TXD_RS) != 0;
    *ide = (cmd & TXD_IDE) != 0;
    if (dext && dtyp == DTYP_CONTEXT) {
        struct tx_ctx *c = &s->ctx;
        c->ipcss = d[0];
        c->ipcso = d[1];
        c->ipcse = ld16(d + 2);
        c->tucss = d[4];
        c->tucso = d[5];
        c->tucse = ld16(d + 6);
        c->paylen = lower & 0xfffff;
        c->tucmd = cmd;
        c->hdrlen = d[13];
        c->mss = ld16(d + 14);
        return 0;
    }
    if (dext && dtyp != DTYP_DATA) {
        log_guest(&s->rl, s->name, "transmit descriptor type %u ignored", dtyp);
        return 0;
    }
    len = dext ? (lower & 0xfffff) : (lower & 0xffff);
    if (!s->tx.active) {
        s->tx.active = 1;
        s->tx.pctx = s->ctx; /* a context descriptor inside a packet does not change it */
        s->tx.legacy = !dext;
        s->tx.vle = (cmd & TXD_VLE) != 0;
        s->tx.vlan = (uint16_t)(upper >> 16);
        if (dext) {
            s->tx.popts = (uint8_t)(upper >> 8);
            s->tx.tse = (cmd & TXD_TSE) != 0;
            if (s->tx.tse && !tso_ok(s))
                s->tx.drop = 1;
        } else {
            s->tx.popts = (cmd & TXD_IC) ? POPTS_TXSM : 0;
            s->tx.cso = (uint8_t)(lower >> 16);
            s->tx.css = (uint8_t)(upper >> 8);
            s->tx.tse = 0;
        }
    }
    if (len && !s->tx.drop)
        moved = tx_gather(s, addr, len);
    if (cmd & TXD_EOP)
        tx_end_packet(s);
    return moved;
}

static void tx_run(struct e1000 *s);

static void tx_kick_fire(void *opaque)
{
    struct e1000 *s = opaque;
    s->tx_kick = 0;
    tx_run(s);
}

/* The transmit ring from TDH to TDT, a bounded turn at a time. */
static void tx_run(struct e1000 *s)
{
    if (s->in_tx || s->unplugged || !(rd(s, TCTL) & TCTL_EN))
        return;
    uint32_t n = (rd(s, TDLEN) & 0xfff80) / DESC_SIZE;
    uint32_t head = rd(s, TDH) & 0xffff, tail = rd(s, TDT) & 0xffff;
    uint64_t base = (uint64_t)rd(s, TDBAH) << 32 | (rd(s, TDBAL) & ~0xfu);
    if (head == tail)
        return;
    if (n == 0 || head >= n || tail >= n) {
        log_guest(&s->rl, s->name, "transmit ring refused: TDLEN %#x, TDH %u, TDT %u",
                  rd(s, TDLEN), head, tail);
        return;
    }
    s->in_tx = 1;
    unsigned descs = 0;
    uint32_t bytes = 0;
    int any_rs = 0, delayed = 1;
    while (head != tail && descs < TX_TURN_DESCS && bytes < TX_TURN_BYTES) {
        uint8_t d[DESC_SIZE];
        uint64_t da = base + (uint64_t)head * DESC_SIZE;
        int rs = 0, ide = 0;
        descs++;
        if (mem_read(s->base.vm->mem, da, d, sizeof(d)) < 0) {
            log_guest(&s->rl, s->name, "transmit descriptor %u at %#llx is not RAM", head,
                      (unsigned long long)da);
            if (s->tx.active)
                s->tx.drop = 1;
        } else {
            bytes += tx_desc(s, d, &rs, &ide);
        }
        if (rs) {
            uint8_t st = (uint8_t)(d[12] | TXD_DD);
            if (mem_write(s->base.vm->mem, da + 12, &st, 1) < 0)
                log_guest(&s->rl, s->name, "transmit descriptor %u write-back failed", head);
            any_rs = 1;
            delayed &= ide;
        }
        head = (head + 1) % n;
    }
    wr(s, TDH, head);
    s->in_tx = 0;
    if (any_rs)
        tx_intr(s, delayed);
    if (head == tail)
        set_ics(s, ICR_TXQE);
    else if (!s->tx_kick) {
        s->tx_kick = 1; /* more next turn of the loop */
        loop_timer_arm(s->t_tx, 1);
    }
}

/* ---- reset ---- */

static void mac_reset(struct e1000 *s)
{
    memset(s->regs, 0, sizeof(s->regs));
    wr(s, CTRL, CTRL_FD | CTRL_SLU | CTRL_SPD_1000);
    wr(s, LEDCTL, 0x07068302);
    wr(s, PBA, 0x00000030);
    wr(s, TCTL, TCTL_PSP | 0x0f << 4 | 0x40 << 12);
    wr(s, VET, 0x8100);
    wr(s, RA, (uint32_t)s->mac[0] | s->mac[1] << 8 | s->mac[2] << 16 | (uint32_t)s->mac[3] << 24);
    wr(s, RA + 4, (uint32_t)s->mac[4] | s->mac[5] << 8 | RAH_AV);
    memset(&s->ee, 0, sizeof(s->ee));
    memset(&s->ctx, 0, sizeof(s->ctx));
    tx_reset_packet(s);
    s->tx.tse = 0;
    s->rx_pending = s->tx_pending = 0;
    loop_timer_arm(s->t_rdtr, 0);
    loop_timer_arm(s->t_tidv, 0);
    disarm(s->t_radv, &s->radv_armed);
    disarm(s->t_tadv, &s->tadv_armed);
    disarm(s->t_itr, &s->itr_armed);
    s->irq_next_ns = 0;
    update_irq(s);
}

/* ---- register access ---- */

static uint32_t reg_read(struct e1000 *s, unsigned off)
{
    uint32_t v;
    if (off >= REG_SPACE)
        return 0;
    switch (off) {
    case STATUS:
        return status_read(s);
    case EECD:
        return eecd_read(s);
    case ICR:
        v = rd(s, ICR);
        wr(s, ICR, 0);
        update_irq(s);
        return v;
    case ICS:
        return rd(s, ICR);
    case IMC:
        return 0;
    }
    if (off >= STATS_FIRST && off <= STATS_LAST) {
        v = rd(s, off);
        wr(s, off, 0);
        return v;
    }
    return rd(s, off);
}

static void reg_write(struct e1000 *s, unsigned off, uint32_t v)
{
    if (off >= REG_SPACE || (off >= STATS_FIRST && off <= STATS_LAST))
        return; /* nothing there; statistics are read-only */
    switch (off) {
    case CTRL:
        if (v & CTRL_RST) {
            mac_reset(s);
            wr(s, CTRL, v & ~(CTRL_RST | CTRL_PHY_RST));
            return;
        }
        if (v & CTRL_PHY_RST)
            phy_reset(s);
        wr(s, CTRL, v & ~(CTRL_RST | CTRL_PHY_RST));
        return;
    case STATUS:
        return;
    case EECD:
        eecd_write(s, v);
        return;
    case EERD:
        eerd_write(s, v);
        return;
    case CTRL_EXT:
        wr(s, off, v & ~(uint32_t)CTRL_EXT_EE_RST);
        return;
    case MDIC:
        mdic_write(s, v);
        return;
    case ICR:
        wr(s, ICR, rd(s, ICR) & ~v);
        update_irq(s);
        return;
    case ICS:
        set_ics(s, v);
        return;
    case IMS:
        wr(s, IMS, rd(s, IMS) | v);
        update_irq(s);
        return;
    case IMC:
        wr(s, IMS, rd(s, IMS) & ~v);
        update_irq(s);
        return;
    case ITR:
        wr(s, ITR, v & 0xffff);
        return;
    case RCTL:
        wr(s, RCTL, v);
        if (s->net && e1000_can_receive(s))
            net_rx_ready(s->net);
        return;
    case RDT:
        wr(s, RDT, v & 0xffff);
        if (s->net && e1000_can_receive(s))
            net_rx_ready(s->net);
        return;
    case RDH: case TDH:
        wr(s, off, v & 0xffff);
        return;
    case RDLEN: case TDLEN:
        wr(s, off, v & 0xfff80);
        return;
    case RDTR:
        wr(s, RDTR, v & 0xffff);
        if ((v & RDTR_FPD) && s->rx_pending)
            rx_intr_now(s);
        return;
    case TCTL:
        wr(s, TCTL, v);
        tx_run(s);
        return;
    case TDT:
        wr(s, TDT, v & 0xffff);
        tx_run(s);
        return;
    }
    wr(s, off, v);
}

static uint64_t bar0_read(void *opaque, uint64_t off, unsigned size)
{
    struct e1000 *s = opaque;
    if (size == 8)
        return reg_read(s, (unsigned)off & ~3u) |
               (uint64_t)reg_read(s, ((unsigned)off & ~3u) + 4) << 32;
    uint32_t v = reg_read(s, (unsigned)off & ~3u);
    return (v >> (8 * (off & 3))) & ones(size);
}

static void bar0_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000 *s = opaque;
    unsigned o = (unsigned)off & ~3u, sh = 8 * (unsigned)(off & 3);
    if (size == 8) {
        reg_write(s, o, (uint32_t)val);
        reg_write(s, o + 4, (uint32_t)(val >> 32));
        return;
    }
    if (size == 4 && sh == 0) {
        reg_write(s, o, (uint32_t)val);
        return;
    }
    if (sh + 8 * size > 32) {
        log_guest(&s->rl, s->name, "%u-byte write at %#x across registers ignored", size,
                  (unsigned)off);
        return;
    }
    /* a partial write: merged into what the register holds (but for the registers whose
     * writes are commands on bits: the other bytes write 0) */
    uint32_t mask = (uint32_t)ones(size) << sh;
    int cmd = o == ICR || o == ICS || o == IMS || o == IMC;
    uint32_t cur = o < REG_SPACE && !cmd ? rd(s, o) : 0;
    reg_write(s, o, (cur & ~mask) | (((uint32_t)val << sh) & mask));
}

static const struct io_ops bar0_ops = { .read = bar0_read, .write = bar0_write };

/* BAR 1: IOADDR (0) selects a register, IODATA (4) reads or writes it. */
static uint64_t bar1_read(void *opaque, uint64_t off, unsigned size)
{
    struct e1000 *s = opaque;
    if (size != 4)
        return ones(size);
    if (off == 0)
        return s->ioaddr;
    if (off == 4)
        return reg_read(s, s->ioaddr & 0x1fffc);
    return ones(size);
}

static void bar1_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct e1000 *s = opaque;
    if (size != 4) {
        log_guest(&s->rl, s->name, "%u-byte I/O write at %u ignored", size, (unsigned)off);
        return;
    }
    if (off == 0)
        s->ioaddr = (uint32_t)val & 0x1fffc;
    else if (off == 4)
        reg_write(s, s->ioaddr & 0x1fffc, (uint32_t)val);
}

static const struct io_ops bar1_ops = { .read = bar1_read, .write = bar1_write };

/* ---- unplug (the Xen platform device), reset ---- */

static void nic_unplug(struct e1000 *s)
{
    if (s->unplugged)
        return;
    s->unplugged = 1;
    loop_timer_arm(s->t_rdtr, 0);
    loop_timer_arm(s->t_tidv, 0);
    loop_timer_arm(s->t_radv, 0);
    loop_timer_arm(s->t_tadv, 0);
    loop_timer_arm(s->t_itr, 0);
    loop_timer_arm(s->t_tx, 0);
    s->rx_pending = s->tx_pending = s->radv_armed = s->tadv_armed = s->itr_armed = 0;
    s->tx_kick = 0;
    if (s->net)
        net_detach(s->net);
    s->net = NULL;
    if (s->base.pci) {
        pci_set_irq(s->base.pci, 0);
        pci_dev_del(s->base.pci);
        s->base.pci = NULL;
    }
    s->line = 0;
    log_info("%s: unplugged by the guest's PV drivers", s->name);
}

static void unplug_hook(void *opaque, unsigned mask)
{
    struct e1000s *set = opaque;
    if (!(mask & VM_UNPLUG_NICS))
        return;
    for (unsigned i = 0; i < set->count; i++)
        nic_unplug(set->n[i]);
}

static void e1000s_reset(void *state)
{
    struct e1000s *set = state;
    for (unsigned i = 0; i < set->count; i++) {
        struct e1000 *s = set->n[i];
        if (s->unplugged)
            continue;
        mac_reset(s);
        phy_reset(s);
        s->ioaddr = 0;
    }
}

/* ---- state: the PCI function, every register, the PHY, the EEPROM interface, the transmit
 * context and a packet being gathered, delayed interrupts (delivered at once after a load).
 * The EEPROM words and the MAC come from the command line; the link is the backend's. ---- */

#define CTX_BYTES 16
static void ctx_pack(const struct tx_ctx *c, uint8_t *b)
{
    b[0] = c->ipcss; b[1] = c->ipcso; b[2] = c->tucss; b[3] = c->tucso; b[4] = c->tucmd;
    b[5] = c->hdrlen;
    st16(b + 6, c->ipcse); st16(b + 8, c->tucse); st16(b + 10, c->mss);
    st32(b + 12, c->paylen);
}

static void ctx_unpack(struct tx_ctx *c, const uint8_t *b)
{
    c->ipcss = b[0]; c->ipcso = b[1]; c->tucss = b[2]; c->tucso = b[3]; c->tucmd = b[4];
    c->hdrlen = b[5];
    c->ipcse = ld16(b + 6); c->tucse = ld16(b + 8); c->mss = ld16(b + 10);
    c->paylen = ld32(b + 12);
}

static void nic_save(const struct e1000 *s, struct snap_writer *w, unsigned i)
{
    char name[16];
    snprintf(name, sizeof(name), "nic%u", i);
    snap_put_enter(w, name);
    snap_put_bool(w, "unplugged", s->unplugged);
    if (!s->unplugged)
        pci_dev_save(s->base.pci, w);
    snap_put_bytes(w, "regs", s->regs, sizeof(s->regs));
    snap_put_bytes(w, "phy", s->phy, sizeof(s->phy));
    snap_put_u32(w, "ioaddr", s->ioaddr);
    snap_put_u32(w, "ee.in", s->ee.in);
    snap_put_u8(w, "ee.nin", s->ee.nin);
    snap_put_bool(w, "ee.reading", s->ee.reading);
    snap_put_u8(w, "ee.addr", s->ee.addr);
    snap_put_u8(w, "ee.dout", s->ee.dout);
    snap_put_u16(w, "ee.out_pos", s->ee.out_pos);
    uint8_t cb[CTX_BYTES];
    ctx_pack(&s->ctx, cb);
    snap_put_bytes(w, "ctx", cb, sizeof(cb));
    ctx_pack(&s->tx.pctx, cb);
    snap_put_bytes(w, "tx.ctx", cb, sizeof(cb));
    snap_put_u32(w, "tx.len", s->tx.len);
    snap_put_bytes(w, "tx.buf", s->tx.buf, s->tx.len);
    uint8_t flags = (uint8_t)((s->tx.active ? 1 : 0) | (s->tx.drop ? 2 : 0) | (s->tx.tse ? 4 : 0) |
                              (s->tx.legacy ? 8 : 0) | (s->tx.vle ? 16 : 0));
    snap_put_u8(w, "tx.flags", flags);
    snap_put_u8(w, "tx.popts", s->tx.popts);
    snap_put_u8(w, "tx.cso", s->tx.cso);
    snap_put_u8(w, "tx.css", s->tx.css);
    snap_put_u16(w, "tx.vlan", s->tx.vlan);
    snap_put_bytes(w, "tx.hdr", s->tx.hdr, sizeof(s->tx.hdr));
    snap_put_u32(w, "tx.sent", s->tx.sent);
    snap_put_u16(w, "tx.segs", s->tx.segs);
    snap_put_bool(w, "rx_pending", s->rx_pending);
    snap_put_bool(w, "tx_pending", s->tx_pending);
    snap_put_leave(w);
}

static int e1000s_save(void *state, struct snap_writer *w)
{
    struct e1000s *set = state;
    snap_put_u8(w, "count", (uint8_t)set->count);
    for (unsigned i = 0; i < set->count; i++)
        nic_save(set->n[i], w, i);
    return 0;
}

/* What a load reads, checked before anything changes. */
struct nic_load {
    int unplugged;
    struct pci_dev_state pci;
    uint32_t regs[REG_SPACE / 4];
    uint16_t phy[32];
    uint32_t ioaddr;
    uint32_t ee_in;
    uint8_t ee_nin, ee_addr, ee_dout;
    int ee_reading;
    uint16_t ee_out_pos;
    struct tx_ctx ctx, pctx;
    uint32_t tx_len;
    uint8_t tx_flags, popts, cso, css;
    uint16_t vlan, segs;
    uint8_t hdr[256];
    uint32_t sent;
    int rx_pending, tx_pending;
};

static int nic_load(struct e1000 *s, struct snap_reader *r, unsigned i, struct nic_load *t,
                    uint8_t *txbuf)
{
    char name[16];
    uint8_t cb[CTX_BYTES], pb[CTX_BYTES];
    snprintf(name, sizeof(name), "nic%u", i);
    snap_get_enter(r, name);
    if (snap_get_bool(r, "unplugged", &t->unplugged) < 0)
        return -EINVAL;
    if (s->unplugged && !t->unplugged)
        return snap_fail(r, NULL, "unplugged here: the NIC cannot come back");
    if (!t->unplugged && pci_dev_load(s->base.pci, r, &t->pci) < 0)
        return -EINVAL;
    if (snap_get_bytes(r, "regs", t->regs, sizeof(t->regs)) < 0 ||
        snap_get_bytes(r, "phy", t->phy, sizeof(t->phy)) < 0 ||
        snap_get_u32_in(r, "ioaddr", &t->ioaddr, 0, 0x1fffc) < 0 ||
        snap_get_u32_in(r, "ee.in", &t->ee_in, 0, 0x1ff) < 0 ||
        snap_get_u8_in(r, "ee.nin", &t->ee_nin, 0, 9) < 0 ||
        snap_get_bool(r, "ee.reading", &t->ee_reading) < 0 ||
        snap_get_u8_in(r, "ee.addr", &t->ee_addr, 0, EE_WORDS - 1) < 0 ||
        snap_get_u8_in(r, "ee.dout", &t->ee_dout, 0, 1) < 0 ||
        snap_get_u16_in(r, "ee.out_pos", &t->ee_out_pos, 0, EE_WORDS * 16 - 1) < 0 ||
        snap_get_bytes(r, "ctx", cb, sizeof(cb)) < 0 ||
        snap_get_bytes(r, "tx.ctx", pb, sizeof(pb)) < 0 ||
        snap_get_u32_in(r, "tx.len", &t->tx_len, 0, TX_BUF_SIZE) < 0 ||
        snap_get_bytes(r, "tx.buf", txbuf, t->tx_len) < 0 ||
        snap_get_u8_in(r, "tx.flags", &t->tx_flags, 0, 31) < 0 ||
        snap_get_u8(r, "tx.popts", &t->popts) < 0 || snap_get_u8(r, "tx.cso", &t->cso) < 0 ||
        snap_get_u8(r, "tx.css", &t->css) < 0 || snap_get_u16(r, "tx.vlan", &t->vlan) < 0 ||
        snap_get_bytes(r, "tx.hdr", t->hdr, sizeof(t->hdr)) < 0 ||
        snap_get_u32(r, "tx.sent", &t->sent) < 0 || snap_get_u16(r, "tx.segs", &t->segs) < 0 ||
        snap_get_bool(r, "rx_pending", &t->rx_pending) < 0 ||
        snap_get_bool(r, "tx_pending", &t->tx_pending) < 0)
        return -EINVAL;
    ctx_unpack(&t->ctx, cb);
    ctx_unpack(&t->pctx, pb);
    /* a packet being segmented has a context we would have taken, and fits its segment */
    const struct tx_ctx *c = &t->pctx;
    int tse = (t->tx_flags & 4) != 0;
    if (snap_check(r, t->ctx.paylen <= 0xfffff && c->paylen <= 0xfffff, "ctx",
                   "a payload length over 20 bits") < 0 ||
        snap_check(r, !tse || tso_ctx_ok(c), "tx.ctx", "a TSO context this device refuses "
                   "(hdrlen %u, mss %u)", c->hdrlen, c->mss) < 0 ||
        snap_check(r, tse ? t->tx_len <= (uint32_t)c->hdrlen + c->mss
                          : t->tx_len <= NET_MAX_FRAME,
                   "tx.len", "%u bytes do not fit the packet's buffer", t->tx_len) < 0)
        return -EINVAL;
    snap_get_leave(r);
    return 0;
}

static void nic_commit(struct e1000 *s, const struct nic_load *t, const uint8_t *txbuf)
{
    if (t->unplugged && !s->unplugged)
        nic_unplug(s);
    if (!s->unplugged) {
        pci_dev_commit(s->base.pci, &t->pci);
        s->line = t->pci.intx_level;
    }
    memcpy(s->regs, t->regs, sizeof(s->regs));
    memcpy(s->phy, t->phy, sizeof(s->phy));
    s->ioaddr = t->ioaddr;
    s->ee.in = t->ee_in;
    s->ee.nin = t->ee_nin;
    s->ee.reading = (uint8_t)t->ee_reading;
    s->ee.addr = t->ee_addr;
    s->ee.dout = t->ee_dout;
    s->ee.out_pos = t->ee_out_pos;
    s->ctx = t->ctx;
    s->tx.pctx = t->pctx;
    memcpy(s->tx.buf, txbuf, t->tx_len);
    s->tx.len = t->tx_len;
    s->tx.active = t->tx_flags & 1;
    s->tx.drop = (t->tx_flags >> 1) & 1;
    s->tx.tse = (t->tx_flags >> 2) & 1;
    s->tx.legacy = (t->tx_flags >> 3) & 1;
    s->tx.vle = (uint8_t)((t->tx_flags >> 4) & 1);
    s->tx.popts = t->popts;
    s->tx.cso = t->cso;
    s->tx.css = t->css;
    s->tx.vlan = t->vlan;
    memcpy(s->tx.hdr, t->hdr, sizeof(s->tx.hdr));
    s->tx.sent = t->sent;
    s->tx.segs = t->segs;
    if (s->unplugged)
        return;
    s->irq_next_ns = 0;
    if (t->rx_pending)
        wr(s, ICR, rd(s, ICR) | ICR_RXT0);
    if (t->tx_pending)
        wr(s, ICR, rd(s, ICR) | ICR_TXDW);
    update_irq(s);
    if (s->net && e1000_can_receive(s))
        net_rx_ready(s->net);
}

static int e1000s_load(void *state, struct snap_reader *r, int commit)
{
    struct e1000s *set = state;
    uint8_t count;
    int rc = -ENOMEM;
    if (snap_get_u8(r, "count", &count) < 0 ||
        snap_check(r, count == set->count, NULL, "%u e1000 NICs in the stream, %u here", count,
                   set->count) < 0)
        return -EINVAL;
    struct nic_load *t = calloc(set->count ? set->count : 1, sizeof(*t));
    uint8_t *bufs = malloc((size_t)(set->count ? set->count : 1) * TX_BUF_SIZE);
    if (!t || !bufs) {
        snap_refuse(r, "e1000", "out of memory");
        rc = -EINVAL;
        goto out;
    }
    rc = 0;
    for (unsigned i = 0; i < set->count && rc == 0; i++)
        rc = nic_load(set->n[i], r, i, &t[i], bufs + (size_t)i * TX_BUF_SIZE) < 0 ? -EINVAL : 0;
    for (unsigned i = 0; commit && rc == 0 && i < set->count; i++)
        nic_commit(set->n[i], &t[i], bufs + (size_t)i * TX_BUF_SIZE);
out:
    free(t);
    free(bufs);
    return rc;
}

/* ---- creation ---- */

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char end;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
        return -EINVAL;
    for (unsigned i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return (mac[0] & 1) ? -EINVAL : 0;
}

static void nic_free(struct e1000 *s)
{
    if (!s)
        return;
    log_info("%s: %llu frames received, %llu sent, %llu dropped on receive, %llu on send, "
             "%llu interrupts", s->name, (unsigned long long)s->rx_frames,
             (unsigned long long)s->tx_frames, (unsigned long long)s->rx_dropped,
             (unsigned long long)s->tx_dropped, (unsigned long long)s->irqs);
    if (s->net)
        net_detach(s->net);
    loop_timer_free(s->t_itr);
    loop_timer_free(s->t_rdtr);
    loop_timer_free(s->t_radv);
    loop_timer_free(s->t_tidv);
    loop_timer_free(s->t_tadv);
    loop_timer_free(s->t_tx);
    free(s->tx.buf);
    free(s->rxbuf);
    blob_free(&s->rom);
    dev_free(s);
}

static int nic_create(struct vm *vm, struct cfg_opt *o, unsigned index, struct e1000 **out)
{
    const char *id = cfg_get(o, "id"), *netdev = cfg_get(o, "netdev"), *mac = cfg_get(o, "mac");
    struct e1000 *s = dev_new(vm, sizeof(*s));
    int r;
    if (!s)
        return -ENOMEM;
    blob_init(&s->rom);
    snprintf(s->name, sizeof(s->name), "e1000 %s", id ? id : "nic");
    uint8_t def[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index) };
    memcpy(s->mac, def, 6);
    if (mac && parse_mac(mac, s->mac) < 0) {
        log_err("%s: mac=%s is not a unicast MAC address", s->name, mac);
        r = -EINVAL;
        goto fail;
    }
    if (netdev) {
        s->net = net_find(vm, netdev);
        if (!s->net) {
            log_err("%s: netdev=%s: no -netdev with that id", s->name, netdev);
            r = -ENOENT;
            goto fail;
        }
    }
    s->tx.buf = malloc(TX_BUF_SIZE);
    s->rxbuf = malloc(RX_BUF_SIZE);
    s->t_itr = loop_timer_new(vm->loop, itr_fire, s);
    s->t_rdtr = loop_timer_new(vm->loop, rdtr_fire, s);
    s->t_radv = loop_timer_new(vm->loop, radv_fire, s);
    s->t_tidv = loop_timer_new(vm->loop, tidv_fire, s);
    s->t_tadv = loop_timer_new(vm->loop, tadv_fire, s);
    s->t_tx = loop_timer_new(vm->loop, tx_kick_fire, s);
    if (!s->tx.buf || !s->rxbuf || !s->t_itr || !s->t_rdtr || !s->t_radv || !s->t_tidv ||
        !s->t_tadv || !s->t_tx) {
        r = -ENOMEM;
        goto fail;
    }
    r = nic_slot(vm, o);
    if (r < 0)
        goto fail;
    s->devfn = PCI_DEVFN(r, 0);
    struct pci_dev *d = pci_dev_new(vm->pci, s->devfn, "e1000", 0x8086, 0x100e, 0x020000, 0x03,
                                    NULL, NULL);
    if (!d) {
        r = -ENOMEM;
        goto fail;
    }
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x001e);
    pci_set8(d, PCI_INTERRUPT_PIN, 1);
    const char *romfile = cfg_get(o, "romfile");
    if (!romfile || *romfile) /* romfile= (empty) leaves it out, as in QEMU */
        rom_find(&s->rom, vm->cfg->fw_dir, ROM_NAME, ROM_FALLBACK_DIR, s->name, "no network boot");
    r = pci_bar_init(d, 0, PCI_BAR_MEM32, BAR0_SIZE, &bar0_ops, s);
    if (r == 0)
        r = pci_bar_init(d, 1, PCI_BAR_IO, BAR1_SIZE, &bar1_ops, s);
    if (r == 0)
        r = pci_rom_init(d, s->rom.data, s->rom.len);
    if (r < 0) {
        pci_dev_del(d);
        goto fail;
    }
    r = dev_add_pci(s, d);
    if (r < 0)
        goto fail;
    eeprom_init(s);
    crc32_init(s->crc);
    phy_reset(s);
    mac_reset(s);
    if (s->net) {
        s->link = net_link_up(s->net);
        r = net_attach(s->net, &e1000_net_ops, s);
        if (r < 0) {
            log_err("%s: netdev=%s already has a NIC", s->name, netdev);
            s->net = NULL;
            goto fail;
        }
    }
    o->claimed = 1;
    log_info("%s: 82540EM at 00:%02x.0, MAC %02x:%02x:%02x:%02x:%02x:%02x%s%s%s", s->name,
             PCI_SLOT(s->devfn), s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4],
             s->mac[5], s->net ? " on " : " (no backend)",
             !s->net ? "" : net_ifname(s->net)[0] ? net_ifname(s->net) : netdev,
             s->rom.len ? ", option ROM " ROM_NAME : "");
    *out = s;
    return 0;
fail:
    nic_free(s);
    return r;
}

static void e1000s_destroy(void *state)
{
    struct e1000s *set = state;
    if (!set)
        return;
    for (unsigned i = 0; i < set->count; i++)
        nic_free(set->n[i]);
    free(set);
}

static int e1000s_create(struct vm *vm, void **state)
{
    struct e1000s *set;
    struct cfg_opt *o;
    int r = 0;
    *state = NULL;
    if (!vm->cfg || !cfg_device(vm->cfg, "e1000", 0))
        return 0;
    set = calloc(1, sizeof(*set));
    if (!set)
        return -ENOMEM;
    set->vm = vm;
    for (unsigned i = 0; (o = cfg_device(vm->cfg, "e1000", i)) != NULL; i++) {
        if (set->count == E1000_MAX) {
            log_err("e1000: at most %u NICs of this model", E1000_MAX);
            r = -E2BIG;
            break;
        }
        r = nic_create(vm, o, i, &set->n[set->count]);
        if (r < 0)
            break;
        set->count++;
    }
    if (r == 0)
        r = vm_on_unplug(vm, unplug_hook, set);
    if (r < 0) {
        e1000s_destroy(set);
        return r;
    }
    *state = set;
    return 0;
}

DEVICE(dev_e1000, "e1000", 1, e1000s_create, e1000s_destroy, e1000s_save, e1000s_load,
       .reset = e1000s_reset);

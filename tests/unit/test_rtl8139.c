/* SPDX-License-Identifier: GPL-2.0-only */
/* devices/net/rtl8139.c: the PCI function, the EEPROM as 8139too / 8139cp read it, normal-mode
 * transmit and the receive ring buffer (wrap, flow control), C+ descriptor rings (scatter-gather,
 * checksum insertion, LargeSend segmentation, VLAN insertion, receive), hostile rings, unplug,
 * save / load: through the fake hypervisor, with a SOCK_SEQPACKET pair as the tap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/config.h"
#include "dm/log.h"
#include "dm/machine.h"
#include "dm/net.h"
#include "tests/lib/fakexen.h"

#define DF PCI_DEVFN(4, 0)
#define IO 0xc000
#define RING 0x100000     /* normal-mode receive buffer */
#define TXB 0x200000      /* transmit buffers */
#define DESC 0x300000     /* C+ rings: rx at DESC, tx at DESC + 0x1000 */
#define RXBUF 0x400000    /* C+ receive buffers, 2 KiB apart */
#define MAC "00:16:3e:12:34:56"

struct bed {
    struct fakexen *fx;
    struct config cfg;
    struct machine m;
    int peer;             /* dom0's end of the "tap" */
};

static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };

static int bed_up(struct bed *b, const char *extra, const char *rom_dir)
{
    char err[256], buf[256];
    const char *argv[16] = { "-xen-domid", "1", "-m", "64", "-device", buf };
    int argc = 6, sv[2];
    memset(b, 0, sizeof(*b));
    snprintf(buf, sizeof(buf), "rtl8139,id=nic0,netdev=net0,mac=" MAC "%s", extra);
    argv[argc++] = "-L";
    argv[argc++] = rom_dir ? rom_dir : "/nonexistent";
    if (config_parse(&b->cfg, argc, argv, err, sizeof(err)) < 0)
        return -1;
    b->fx = fx_new(64 << 20);
    b->fx->vm.cfg = &b->cfg;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
        return -1;
    b->peer = sv[1];
    if (!net_new_fd(&b->fx->vm, "net0", sv[0]))
        return -1;
    int r = machine_create(&b->m, &b->fx->vm, err, sizeof(err));
    if (r < 0) {
        print_error("%s\n", err);
        return r;
    }
    fx_cfg_write(b->fx, DF, PCI_BAR0, 4, IO);
    fx_cfg_write(b->fx, DF, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return 0;
}

static void bed_down(struct bed *b)
{
    machine_destroy(&b->m);
    fx_free(b->fx);
    config_free(&b->cfg);
    close(b->peer);
}

static int setup(void **state)
{
    struct bed *b = calloc(1, sizeof(*b));
    log_set_level(LOG_ERR);
    assert_int_equal(bed_up(b, "", NULL), 0);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    bed_down(*state);
    free(*state);
    return 0;
}

static uint32_t in(struct bed *b, unsigned reg, unsigned size) { return fx_in(b->fx, (uint16_t)(IO + reg), size); }
static void out(struct bed *b, unsigned reg, unsigned size, uint32_t v) { fx_out(b->fx, (uint16_t)(IO + reg), size, v); }
static void pump(struct bed *b) { while (loop_run_once(b->fx->loop, 0) > 0) ; }
static int intx(struct bed *b) { return b->fx->intx[4][0]; }

/* ---- dom0 side ---- */

static void send_frame(struct bed *b, const uint8_t *f, size_t len)
{
    assert_int_equal(send(b->peer, f, len, 0), (ssize_t)len);
}

static ssize_t recv_frame(struct bed *b, uint8_t *f, size_t cap)
{
    return recv(b->peer, f, cap, MSG_DONTWAIT);
}

static size_t make_frame(uint8_t *f, const uint8_t *dst, size_t len, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
    f[12] = 0x08;
    f[13] = 0x06;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seed);
    return len;
}

/* ---- the EEPROM, bit-banged as 8139too's read_eeprom ---- */

static uint16_t ee_read(struct bed *b, unsigned loc, unsigned addr_len)
{
    unsigned cmd = loc | (6u << addr_len);
    uint16_t v = 0;
    out(b, 0x50, 1, 0x80);
    out(b, 0x50, 1, 0x88);
    for (int i = 4 + (int)addr_len; i >= 0; i--) {
        unsigned d = cmd & (1u << i) ? 2 : 0;
        out(b, 0x50, 1, 0x88 | d);
        out(b, 0x50, 1, 0x88 | d | 4);
    }
    out(b, 0x50, 1, 0x88);
    for (int i = 16; i > 0; i--) {
        out(b, 0x50, 1, 0x88 | 4);
        v = (uint16_t)(v << 1 | (in(b, 0x50, 1) & 1));
        out(b, 0x50, 1, 0x88);
    }
    out(b, 0x50, 1, 0);
    return v;
}

static void test_pci_and_eeprom(void **state)
{
    struct bed *b = *state;
    assert_int_equal(fx_cfg_read(b->fx, DF, 0, 4), 0x813910ec);
    assert_int_equal(fx_cfg_read(b->fx, DF, 8, 4), 0x02000020);
    assert_int_equal(fx_cfg_read(b->fx, DF, PCI_INTERRUPT_PIN, 1), 1);
    fx_cfg_write(b->fx, DF, 0x14, 4, 0xffffffff);
    assert_int_equal(fx_cfg_read(b->fx, DF, 0x14, 4), 0xffffff00);
    assert_int_equal(fx_cfg_read(b->fx, DF, 0x30, 4), 0); /* -L without the ROM: none */
    /* the MAC in IDR and in the EEPROM; a 93C46 (the 8-bit probe does not read 0x8129) */
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(in(b, i, 1), mac[i]);
    assert_int_not_equal(ee_read(b, 0, 8), 0x8129);
    assert_int_equal(ee_read(b, 0, 6), 0x8129);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(ee_read(b, 7 + i, 6), mac[2 * i] | mac[2 * i + 1] << 8);
    /* C+ chip version, link up in MSR and BMSR */
    assert_int_equal(in(b, 0x40, 4) & 0x7cc00000, 0x74800000);
    assert_int_equal(in(b, 0x58, 1) & 4, 0);
    assert_int_equal(in(b, 0x64, 2) & 4, 4);
    /* CONFIG1 and BMCR only while unlocked */
    uint8_t c1 = (uint8_t)in(b, 0x52, 1);
    out(b, 0x52, 1, c1 ^ 0x20);
    assert_int_equal(in(b, 0x52, 1), c1);
    out(b, 0x50, 1, 0xc0);
    out(b, 0x52, 1, c1 ^ 0x20);
    out(b, 0x50, 1, 0);
    assert_int_equal(in(b, 0x52, 1), c1 ^ 0x20);
    /* what iPXE's realtek driver tells chips apart by: 0xda (the RTL8169's RxMaxSize) keeps
     * no value, C+ command register does (an RTL8139C+, not an RTL8169; a regression: iPXE
     * took it for an RTL8169 and found no PHY registers) */
    out(b, 0xda, 2, 0x05f2);
    assert_int_equal(in(b, 0xda, 2), 0);
    out(b, 0xe0, 2, 0x40);
    assert_int_equal(in(b, 0xe0, 2), 0x40);
    /* reset: self-clearing, CAPR back to 0xfff0, buffer empty */
    out(b, 0x37, 1, 0x10);
    assert_int_equal(in(b, 0x37, 1), 0x01);
    assert_int_equal(in(b, 0x38, 2), 0xfff0);
}

static void normal_rx_setup(struct bed *b, uint32_t rcr)
{
    out(b, 0x37, 1, 0x10);
    out(b, 0x30, 4, RING);
    out(b, 0x44, 4, rcr);
    out(b, 0x3c, 2, 0xffff & 0xe1ff);
    out(b, 0x37, 1, 0x0c);
    pump(b);
}

static void test_normal_tx(void **state)
{
    struct bed *b = *state;
    uint8_t f[1600], g[1600];
    normal_rx_setup(b, 0x0e);
    for (unsigned i = 0; i < 6; i++) {
        size_t len = make_frame(f, mac, 60 + i * 200, (uint8_t)i);
        memcpy(b->fx->ram + TXB, f, len);
        out(b, 0x20 + 4 * (i % 4), 4, TXB);
        out(b, 0x10 + 4 * (i % 4), 4, (uint32_t)len | (8u << 16));
        uint32_t tsd = in(b, 0x10 + 4 * (i % 4), 4);
        assert_true(tsd & 0x2000);
        assert_true(tsd & 0x8000);
        assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
        assert_memory_equal(f, g, len);
        assert_true(in(b, 0x3e, 2) & 4);
        assert_true(intx(b));
        out(b, 0x3e, 2, 4);
        assert_false(intx(b));
    }
    /* a buffer outside RAM: aborted, TxErr, nothing sent */
    out(b, 0x20, 4, 0xfffff000);
    out(b, 0x10, 4, 100);
    assert_true(in(b, 0x10, 4) & 0x40000000);
    assert_true(in(b, 0x3e, 2) & 8);
    assert_true(recv_frame(b, g, sizeof(g)) < 0);
}

/* Read the frames the driver would from the ring at *CUR (8139too's rtl8139_rx), giving each
 * back through CAPR. Returns the number read. */
static unsigned drain_ring(struct bed *b, uint32_t *cur, uint32_t ringlen, int wrap,
                           uint8_t frames[][1600], size_t *lens, unsigned max)
{
    unsigned n = 0;
    while (!(in(b, 0x37, 1) & 1) && n < max) {
        uint8_t hdr[4];
        for (unsigned i = 0; i < 4; i++)
            hdr[i] = b->fx->ram[RING + (*cur + i) % ringlen];
        uint16_t st = ld16(hdr), size = ld16(hdr + 2);
        assert_true(st & 1);
        assert_true(size >= 64 && size <= 1518 + 4);
        for (unsigned i = 0; i < size - 4u; i++)
            frames[n][i] = b->fx->ram[RING + (wrap ? *cur + 4 + i : (*cur + 4 + i) % ringlen)];
        lens[n++] = size - 4u;
        *cur = (*cur + size + 4 + 3) & ~3u;
        *cur %= ringlen;
        out(b, 0x38, 2, (uint16_t)(*cur - 16));
        out(b, 0x3e, 2, 1);
    }
    return n;
}

static void test_normal_rx_ring(void **state)
{
    struct bed *b = *state;
    static uint8_t got[64][1600];
    size_t lens[64];
    uint8_t f[1600];
    for (int wrap = 0; wrap < 2; wrap++) {
        uint32_t cur = 0, sent = 0, recvd = 0;
        normal_rx_setup(b, 0x0a | (wrap ? 0x80 : 0)); /* 8 KiB + 16, broadcast + mine */
        /* 40 frames of 1000 bytes: five times round the 8 KiB ring; the rest waits in "dom0"
         * while the ring is full */
        for (unsigned i = 0; i < 40; i++) {
            make_frame(f, i % 2 ? mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 1000, (uint8_t)i);
            send_frame(b, f, 1000);
        }
        make_frame(f, (const uint8_t *)"\x02\x99\x99\x99\x99\x99", 1000, 0); /* not ours */
        send_frame(b, f, 1000);
        for (unsigned round = 0; round < 100 && recvd < 40; round++) {
            pump(b);
            unsigned n = drain_ring(b, &cur, 8192, wrap, got, lens, 64);
            for (unsigned k = 0; k < n; k++) {
                make_frame(f, recvd % 2 ? mac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 1000,
                           (uint8_t)recvd);
                assert_int_equal(lens[k], 1000);
                assert_memory_equal(got[k], f, 1000);
                recvd++;
            }
            sent = recvd;
        }
        assert_int_equal(sent, 40);
        pump(b);
        assert_int_equal(in(b, 0x37, 1) & 1, 1); /* the stranger's frame was filtered */
    }
    /* a short frame is padded to 60 bytes */
    uint32_t cur = 0;
    normal_rx_setup(b, 0x0a);
    make_frame(f, mac, 42, 1);
    send_frame(b, f, 42);
    pump(b);
    assert_int_equal(drain_ring(b, &cur, 8192, 0, got, lens, 64), 1);
    assert_int_equal(lens[0], 60);
    assert_memory_equal(got[0], f, 42);
}

/* ---- C+ mode ---- */

static void put_desc(struct bed *b, uint64_t at, uint32_t o1, uint32_t o2, uint64_t addr)
{
    st32(b->fx->ram + at, o1);
    st32(b->fx->ram + at + 4, o2);
    st64(b->fx->ram + at + 8, addr);
}

static void cplus_setup(struct bed *b, unsigned nrx)
{
    out(b, 0x37, 1, 0x10);
    out(b, 0xe0, 2, 0x0b);
    out(b, 0xe4, 4, DESC);
    out(b, 0xe8, 4, 0);
    out(b, 0x20, 4, DESC + 0x1000);
    out(b, 0x24, 4, 0);
    for (unsigned i = 0; i < nrx; i++)
        put_desc(b, DESC + 16 * i, (1u << 31) | (i == nrx - 1 ? 1u << 30 : 0) | 1536, 0,
                 RXBUF + 2048 * i);
    out(b, 0x37, 1, 0x0c);
    out(b, 0x44, 4, 0x0a);
    out(b, 0x3c, 2, 0x1ff);
    pump(b);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* An Ethernet + IPv4 + TCP (or UDP) packet with PAYLOAD bytes, checksums zero. */
static size_t make_ip(uint8_t *p, int tcp, size_t payload)
{
    size_t l4h = tcp ? 20 : 8, total = 20 + l4h + payload;
    memset(p, 0, 14 + total);
    memcpy(p, "\x02\x00\x00\x00\x00\x02", 6);
    memcpy(p + 6, mac, 6);
    p[12] = 0x08;
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[4] = 0x12;
    ip[5] = 0x34;
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    memcpy(ip + 12, "\x0a\x00\x00\x02\x0a\x00\x00\x01", 8);
    uint8_t *l4 = ip + 20;
    l4[0] = 0x30;
    l4[1] = 0x39;
    l4[3] = 80;
    if (tcp) {
        st32(l4 + 4, 0x01000000); /* seq 1 (big-endian) */
        l4[12] = 0x50;
        l4[13] = 0x18;            /* PSH ACK */
    } else {
        l4[4] = (uint8_t)((8 + payload) >> 8);
        l4[5] = (uint8_t)(8 + payload);
    }
    for (size_t i = 0; i < payload; i++)
        l4[l4h + i] = (uint8_t)(i * 13 + 5);
    return 14 + total;
}

static void check_ip(const uint8_t *p, size_t len)
{
    const uint8_t *ip = p + 14;
    size_t total = (size_t)ip[2] << 8 | ip[3];
    assert_int_equal(14 + total, len);
    assert_int_equal(csum(ip, 20, 0), 0);
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = ip[9];
    pseudo[10] = (uint8_t)((total - 20) >> 8);
    pseudo[11] = (uint8_t)(total - 20);
    uint32_t s = 0;
    for (unsigned i = 0; i < 12; i += 2)
        s += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
    assert_int_equal(csum(ip + 20, total - 20, s), 0);
}

static void test_cplus_tx(void **state)
{
    struct bed *b = *state;
    static uint8_t p[70000], g[70000];
    uint64_t tx = DESC + 0x1000;
    cplus_setup(b, 4);
    /* UDP in three fragments with IPCS | UDPCS */
    size_t len = make_ip(p, 0, 1000);
    memcpy(b->fx->ram + TXB, p, len);
    uint32_t cs = (1u << 18) | (1u << 17);
    put_desc(b, tx, (1u << 31) | (1u << 29) | cs | 14, 0, TXB);
    put_desc(b, tx + 16, (1u << 31) | cs | 100, 0, TXB + 14);
    put_desc(b, tx + 32, (1u << 31) | (1u << 28) | cs | (uint32_t)(len - 114), 0, TXB + 114);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    check_ip(g, len);
    assert_memory_equal(g + 42, p + 42, len - 42);
    assert_false(ld32(b->fx->ram + tx + 32) & (1u << 31));
    assert_true(in(b, 0x3e, 2) & 4);
    /* TCP LargeSend: 3000 bytes at MSS 1000, with a VLAN tag */
    len = make_ip(p, 1, 3000);
    memcpy(b->fx->ram + TXB, p, len);
    put_desc(b, tx + 48, (1u << 31) | (1u << 29) | (1u << 28) | (1u << 27) | (1000u << 16) |
             (uint32_t)len, (1u << 17) | 0x0500 /* VID 5, swapped */, TXB);
    out(b, 0xd9, 1, 0x40);
    for (unsigned k = 0; k < 3; k++) {
        ssize_t n = recv_frame(b, g, sizeof(g));
        assert_int_equal(n, 4 + 14 + 20 + 20 + 1000);
        assert_int_equal(g[12], 0x81);
        assert_int_equal(g[15], 5);
        memmove(g + 12, g + 16, (size_t)n - 16); /* untag */
        check_ip(g, (size_t)n - 4);
        uint32_t seq = (uint32_t)g[38] << 24 | (uint32_t)g[39] << 16 | (uint32_t)g[40] << 8 | g[41];
        assert_int_equal(seq, 1 + 1000 * k);
        assert_int_equal(g[47] & 0x08, k == 2 ? 0x08 : 0); /* PSH on the last */
        assert_memory_equal(g + 54, p + 54 + 1000 * k, 1000);
    }
    assert_true(recv_frame(b, g, sizeof(g)) < 0);
    /* a whole 64 KiB LargeSend packet in three fragments (a regression: one of 64 KiB was
     * taken for too long), cut at MSS 1448 */
    len = make_ip(p, 1, 65536 - 54);
    assert_int_equal(len, 65536);
    memcpy(b->fx->ram + TXB, p, len);
    uint32_t lso = (1u << 31) | (1u << 27) | (1448u << 16);
    put_desc(b, tx + 64, lso | (1u << 29) | 30000, 0, TXB);
    put_desc(b, tx + 80, lso | 30000, 0, TXB + 30000);
    put_desc(b, tx + 96, lso | (1u << 28) | 5536, 0, TXB + 60000);
    out(b, 0xd9, 1, 0x40);
    size_t total = 0;
    unsigned segs = 0;
    ssize_t n;
    while ((n = recv_frame(b, g, sizeof(g))) > 0) {
        check_ip(g, (size_t)n);
        assert_memory_equal(g + 54, p + 54 + total, (size_t)n - 54);
        total += (size_t)n - 54;
        segs++;
    }
    assert_int_equal(total, 65536 - 54);
    assert_int_equal(segs, (65536 - 54 + 1447) / 1448);
}

/* C+ transmit completions wait for the next interrupt of another cause (the ACK of what was
 * sent), the guest's ISR read, or their timer: one interrupt run per TCP segment and ACK
 * (8139cp's upload). A status read also takes in frames already waiting in dom0's queue. */
static void test_cplus_tx_completion(void **state)
{
    struct bed *b = *state;
    static uint8_t p[2000], g[2000];
    uint64_t tx = DESC + 0x1000;
    cplus_setup(b, 4);
    size_t len = make_ip(p, 1, 1000);
    memcpy(b->fx->ram + TXB, p, len);
    /* a segment: out at once, its descriptor the driver's, but no interrupt yet */
    put_desc(b, tx, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    assert_false(ld32(b->fx->ram + tx) & (1u << 31));
    assert_false(intx(b));
    /* the ACK comes: one interrupt with both causes */
    uint8_t f[100];
    make_frame(f, mac, 60, 1);
    send_frame(b, f, 60);
    pump(b);
    assert_true(intx(b));
    assert_int_equal(in(b, 0x3e, 2) & 5, 5);
    out(b, 0x3e, 2, 0xffff);
    assert_false(intx(b));
    /* the guest's status read sees a held completion */
    put_desc(b, tx + 16, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    assert_false(intx(b));
    assert_int_equal(in(b, 0x3e, 2) & 5, 4);
    out(b, 0x3e, 2, 0xffff);
    /* ... and takes in a frame that waits in dom0's queue (the loop has not run) */
    send_frame(b, f, 60);
    assert_int_equal(in(b, 0x3e, 2) & 1, 1);
    assert_false(ld32(b->fx->ram + DESC + 16) & (1u << 31));
    out(b, 0x3e, 2, 0xffff);
    /* alone, it comes when the guest has sent nothing for 1 ms */
    put_desc(b, tx + 32, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    assert_false(intx(b));
    for (unsigned i = 0; i < 50 && !intx(b); i++)
        loop_run_once(b->fx->loop, 10);
    assert_true(intx(b));
    /* a pure ACK (no TCP payload: the guest downloads) signals at once, with what was held */
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    put_desc(b, tx + 48, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    out(b, 0x3e, 2, 0xffff);
    assert_false(intx(b));
    size_t alen = make_ip(p, 1, 0);
    memcpy(b->fx->ram + TXB + 0x800, p, alen);
    put_desc(b, tx + 64, (1u << 31) | (3u << 28) | (uint32_t)alen, 0, TXB + 0x800);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)alen);
    assert_true(intx(b));
    assert_int_equal(in(b, 0x3e, 2) & 5, 4);
    out(b, 0x3e, 2, 0xffff);
    /* ... and one that carries a byte is held */
    size_t dlen = make_ip(p, 1, 1);
    memcpy(b->fx->ram + TXB + 0x800, p, dlen);
    put_desc(b, tx + 80, (1u << 31) | (3u << 28) | (uint32_t)dlen, 0, TXB + 0x800);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)dlen);
    assert_false(intx(b));
    for (unsigned i = 0; i < 50 && !intx(b); i++)
        loop_run_once(b->fx->loop, 10);
    assert_true(intx(b));
    out(b, 0x3e, 2, 0xffff);
    tx += 96 - 48;
    /* a transmit error is at once, with the held completion */
    put_desc(b, tx + 48, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    out(b, 0x3e, 2, 0xffff);
    assert_false(intx(b));
    put_desc(b, tx + 64, (1u << 31) | (1u << 28) | 10, 0, TXB); /* continues no packet */
    out(b, 0xd9, 1, 0x40);
    assert_true(intx(b));
    assert_int_equal(in(b, 0x3e, 2) & 0xc, 0xc);
}

/* HVMD_RTL8139_TOK_HOLD=0 (make bench's before figure, hvmd-netbench-nohold): a C+ transmit
 * completion interrupts at once */
static void test_cplus_tx_no_hold(void **state)
{
    struct bed *b = *state;
    static uint8_t p[2000], g[2000];
    uint64_t tx = DESC + 0x1000;
    bed_down(b);
    setenv("HVMD_RTL8139_TOK_HOLD", "0", 1);
    int r = bed_up(b, "", NULL);
    unsetenv("HVMD_RTL8139_TOK_HOLD");
    assert_int_equal(r, 0);
    cplus_setup(b, 4);
    size_t len = make_ip(p, 1, 1000);
    memcpy(b->fx->ram + TXB, p, len);
    put_desc(b, tx, (1u << 31) | (3u << 28) | (uint32_t)len, 0, TXB);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len);
    assert_true(intx(b));
    assert_int_equal(in(b, 0x3e, 2) & 5, 4);
}

static void test_cplus_rx(void **state)
{
    struct bed *b = *state;
    uint8_t f[1600];
    cplus_setup(b, 4);
    for (unsigned i = 0; i < 6; i++) {
        make_frame(f, mac, 100 + i, (uint8_t)i);
        send_frame(b, f, 100 + i);
    }
    pump(b);
    /* four descriptors, four frames; the rest waits */
    for (unsigned i = 0; i < 4; i++) {
        uint32_t o1 = ld32(b->fx->ram + DESC + 16 * i);
        assert_false(o1 & (1u << 31));
        assert_int_equal(o1 & 0x1fff, 100 + i + 4);
        assert_int_equal(o1 & (3u << 28), 3u << 28);
        make_frame(f, mac, 100 + i, (uint8_t)i);
        assert_memory_equal(b->fx->ram + RXBUF + 2048 * i, f, 100 + i);
    }
    assert_true(intx(b));
    /* the driver gives two back and acks (8139cp's cp_rx_poll): the next two come */
    for (unsigned i = 0; i < 2; i++)
        put_desc(b, DESC + 16 * i, (1u << 31) | 1536, 0, RXBUF + 2048 * i);
    out(b, 0x3e, 2, 0x71);
    pump(b);
    for (unsigned i = 0; i < 2; i++) {
        uint32_t o1 = ld32(b->fx->ram + DESC + 16 * i);
        assert_false(o1 & (1u << 31));
        assert_int_equal(o1 & 0x1fff, 104 + i + 4);
    }
    /* a frame too big for its buffer: the descriptor comes back with an error */
    put_desc(b, DESC + 32, (1u << 31) | 64, 0, RXBUF);
    make_frame(f, mac, 200, 9);
    send_frame(b, f, 200);
    out(b, 0x3e, 2, 0x71);
    pump(b);
    assert_true(ld32(b->fx->ram + DESC + 32) & (1u << 20));
}

/* Rings the guest points anywhere: they end, they touch only RAM. */
static void test_hostile(void **state)
{
    struct bed *b = *state;
    uint8_t g[70000];
    uint64_t tx = DESC + 0x1000;
    cplus_setup(b, 1);
    /* 64 owned descriptors, none with LastFrag, and each pointing at the ring itself */
    for (unsigned i = 0; i < 64; i++)
        put_desc(b, tx + 16 * i, (1u << 31) | (i == 0 ? 1u << 29 : 0) | 0xffff, 0, tx);
    out(b, 0xd9, 1, 0x40);
    assert_true(recv_frame(b, g, sizeof(g)) < 0);
    out(b, 0xd9, 1, 0x40); /* again: the chain is over 64 KiB by now, dropped */
    assert_true(recv_frame(b, g, sizeof(g)) < 0);
    /* ring outside RAM, buffers outside RAM, zero lengths */
    out(b, 0x20, 4, 0xfffffff0);
    out(b, 0xd9, 1, 0x40);
    assert_true(in(b, 0x3e, 2) & 8);
    out(b, 0x20, 4, tx);
    put_desc(b, tx, (1u << 31) | (3u << 28) | 100, 0, 0xfffffffffff0ull);
    put_desc(b, tx + 16, (1u << 31) | (3u << 28) | 0, 0, TXB);
    put_desc(b, tx + 32, (1u << 31) | (3u << 28) | (1u << 27) | 100, 0, TXB); /* LargeSend, MSS 0 */
    put_desc(b, tx + 48, 0, 0, 0);
    out(b, 0xd9, 1, 0x40);
    assert_true(recv_frame(b, g, sizeof(g)) < 0);
    /* checksum offload on a packet whose IP header claims more than it holds */
    size_t len = make_ip(b->fx->ram + TXB, 1, 100);
    b->fx->ram[TXB + 14] = 0x4f;          /* IHL 60 */
    b->fx->ram[TXB + 16] = 0xff;          /* total length 65xxx */
    put_desc(b, tx + 48, (1u << 31) | (3u << 28) | (7u << 16) | (uint32_t)len, 0, TXB);
    put_desc(b, tx + 64, 0, 0, 0);
    out(b, 0xd9, 1, 0x40);
    assert_int_equal(recv_frame(b, g, sizeof(g)), (ssize_t)len); /* sent as it was */
    /* receive ring outside RAM */
    out(b, 0xe4, 4, 0xfffffff0);
    uint8_t f[100];
    make_frame(f, mac, 100, 1);
    send_frame(b, f, 100);
    pump(b);
    /* all the registers, every size, every value class: no crash */
    for (unsigned reg = 0; reg < 256; reg++)
        for (unsigned sz = 1; sz <= 4; sz *= 2) {
            if (reg == 0x37 || reg == 0xd9 || (reg >= 0x10 && reg < 0x20))
                continue;
            out(b, reg, sz, 0xffffffff);
            (void)in(b, reg, sz);
        }
}

static void test_unplug(void **state)
{
    struct bed *b = *state;
    assert_int_equal(fx_cfg_read(b->fx, DF, 0, 2), 0x10ec);
    fx_out(b->fx, 0x10, 2, 0x1); /* disks only: the NIC stays */
    assert_int_equal(fx_cfg_read(b->fx, DF, 0, 2), 0x10ec);
    fx_out(b->fx, 0x10, 2, 0x2);
    assert_int_equal(fx_cfg_read(b->fx, DF, 0, 2), 0xffff);
    assert_int_equal(in(b, 0, 1), 0xff);
    uint8_t f[100];
    make_frame(f, mac, 100, 1);
    send_frame(b, f, 100); /* nobody reads it now: no crash */
    pump(b);
}

static void test_state(void **state)
{
    struct bed *b = *state, b2;
    struct snap_writer w;
    struct snap_reader r;
    uint8_t f[200];
    cplus_setup(b, 4);
    make_frame(f, mac, 100, 3);
    send_frame(b, f, 100);
    pump(b);
    snap_writer_init(&w);
    assert_int_equal(machine_save(&b->m, &w), 0);
    assert_int_equal(bed_up(&b2, "", NULL), 0);
    snap_reader_init(&r, w.buf, w.len);
    int rc = machine_load(&b2.m, &r);
    if (rc)
        print_error("%s\n", snap_error(&r));
    assert_int_equal(rc, 0);
    for (unsigned reg = 0; reg < 0x48; reg++)
        assert_int_equal(fx_in(b2.fx, (uint16_t)(IO + reg), 1), in(b, reg, 1));
    assert_int_equal(fx_in(b2.fx, IO + 0xe0, 2), in(b, 0xe0, 2));
    /* a stream with a broken field is refused */
    uint8_t *bad = malloc(w.len);
    memcpy(bad, w.buf, w.len);
    for (size_t i = 0; i + 6 < w.len; i++)
        if (!memcmp(bad + i, "cp_rx", 5)) {
            bad[i + 5 + 1 + 4] = 200; /* after the name: type byte, u32 size, then the value */
            break;
        }
    snap_reader_init(&r, bad, w.len);
    assert_int_equal(machine_load(&b2.m, &r), -EINVAL);
    free(bad);
    snap_writer_free(&w);
    bed_down(&b2);
}

/* iPXE's ROM through the ROM BAR, where Debian's ipxe-qemu has it */
static void test_rom(void **state)
{
    struct bed b;
    const char *dir = "/usr/lib/ipxe/qemu";
    /* images/deps installs ipxe-qemu: a test that cannot run is a failure, not a skip */
    assert_int_equal(access("/usr/lib/ipxe/qemu/pxe-rtl8139.rom", R_OK), 0);
    assert_int_equal(bed_up(&b, "", dir), 0);
    fx_cfg_write(b.fx, DF, 0x30, 4, 0xfffff800);
    assert_int_equal(fx_cfg_read(b.fx, DF, 0x30, 4), 0xfffe0000); /* 128 KiB */
    fx_cfg_write(b.fx, DF, 0x30, 4, 0xfe000001);
    assert_int_equal(fx_mmio_read(b.fx, 0xfe000000, 2), 0xaa55);
    bed_down(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pci_and_eeprom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normal_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_normal_rx_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cplus_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cplus_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cplus_tx_completion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cplus_tx_no_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test(test_rom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* dm/net_offload and the tap backend's virtio-net header: the checksum against a byte-wise
 * reference, TCP segments over IPv4 and IPv6 (with a VLAN tag) cut into frames whose lengths,
 * ids, sequence numbers, flags and checksums a receiver checks (checked here by a reference
 * written apart from the code under test), a partial UDP checksum finished, headers that lie
 * refused, and the backend giving a segment's frames as the NIC has room, the rest after
 * net_rx_ready, with an empty header before every frame it sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dm/loop.h"
#include "dm/net.h"
#include "dm/net_offload.h"
#include "tests/lib/fakexen.h"

/* ---- references, byte by byte ---- */

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A frame's TCP (or UDP, PROTO 17) checksum checks out: the sum over pseudo-header and segment
 * folds to 0xffff. */
static int l4_ok(const uint8_t *f, size_t l3, size_t l4, size_t len, int v6, uint8_t proto)
{
    uint32_t s = 0;
    size_t l4len = len - l4;
    if (!v6)
        s = ref_sum(s, f + l3 + 12, 8);
    else
        s = ref_sum(s, f + l3 + 8, 32);
    s += proto + (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
    s = ref_sum(s, f + l4, l4len);
    return ref_fold(s) == 0xffff;
}

static void vh(uint8_t *h, uint8_t flags, uint8_t type, uint16_t hdr_len, uint16_t gso, uint16_t cs,
               uint16_t co)
{
    h[0] = flags;
    h[1] = type;
    uint16_t v[4] = { hdr_len, gso, cs, co };
    for (int i = 0; i < 4; i++) {
        h[2 + 2 * i] = (uint8_t)v[i];
        h[3 + 2 * i] = (uint8_t)(v[i] >> 8);
    }
}

static void checksum_matches_reference(void **st)
{
    (void)st;
    static uint8_t buf[1100];
    srand(7);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(buf); len += (len < 70 ? 1 : 37)) {
            uint32_t init = (uint32_t)rand() & 0x1ffff;
            uint16_t want = (uint16_t)~ref_fold(ref_sum(init, buf + off, len));
            uint16_t got = net_csum_fold(net_csum_add(init, buf + off, len));
            if (want != got)
                fail_msg("offset %zu length %zu: %#x, want %#x", off, len, got, want);
        }
    /* all ones: the 32-bit words' carries */
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(net_csum_fold(net_csum_add(0, buf, 1024)), (uint16_t)~ref_fold(ref_sum(0, buf, 1024)));
}

/* Ethernet (a VLAN tag if VLAN), IPv4 or IPv6, TCP with 12 bytes of options, PAYLOAD bytes. */
static size_t tcp_frame(uint8_t *f, int v6, int vlan, size_t payload, uint8_t flags, size_t *l3p,
                        size_t *l4p)
{
    memset(f, 0, 256);
    memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
    size_t l3 = 14;
    if (vlan) {
        p16(f + 12, 0x8100);
        p16(f + 14, 5);
        l3 = 18;
    }
    p16(f + l3 - 2, v6 ? 0x86dd : 0x0800);
    size_t l4;
    if (!v6) {
        f[l3] = 0x45;
        p16(f + l3 + 2, (uint16_t)(20 + 32 + payload));
        p16(f + l3 + 4, 0xfffe); /* the id wraps within the segment */
        f[l3 + 6] = 0x40;
        f[l3 + 8] = 64;
        f[l3 + 9] = 6;
        memcpy(f + l3 + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        l4 = l3 + 20;
    } else {
        f[l3] = 0x60;
        p16(f + l3 + 4, (uint16_t)(32 + payload));
        f[l3 + 6] = 6;
        f[l3 + 7] = 64;
        f[l3 + 8] = 0xfd;
        f[l3 + 23] = 1;
        f[l3 + 24] = 0xfd;
        f[l3 + 39] = 2;
        l4 = l3 + 40;
    }
    p16(f + l4, 80);
    p16(f + l4 + 2, 40000);
    memcpy(f + l4 + 4, "\xff\xff\xfa\x00", 4); /* the sequence number wraps too */
    memcpy(f + l4 + 8, "\x00\x00\x00\x07", 4);
    f[l4 + 12] = 8 << 4; /* 32-byte header */
    f[l4 + 13] = flags;
    p16(f + l4 + 14, 502);
    p16(f + l4 + 16, 0xbeef); /* the kernel's partial sum: the code sums afresh */
    memcpy(f + l4 + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
    for (size_t i = 0; i < payload; i++)
        f[l4 + 32 + i] = (uint8_t)(i * 7 + 3);
    *l3p = l3;
    *l4p = l4;
    return l4 + 32 + payload;
}

static void cut(int v6, int vlan, size_t payload, unsigned mss)
{
    static uint8_t f[NET_MAX_FRAME], out[NET_MAX_FRAME];
    size_t l3, l4;
    size_t len = tcp_frame(f, v6, vlan, payload, 0x80 | 0x10 | 0x08 | 0x01, &l3, &l4); /* CWR ACK PSH FIN */
    uint8_t h[NET_VNET_HDR_LEN];
    vh(h, 1, (uint8_t)((v6 ? 4 : 1) | 0x80), (uint16_t)(l4 + 32), (uint16_t)mss, (uint16_t)l4, 16);
    struct net_offload o;
    const char *why = NULL;
    assert_int_equal(net_offload_start(&o, h, f, len, &why), 0);
    size_t frames = (payload + mss - 1) / mss, got = 0, seen = 0;
    struct iovec iov[2];
    int n;
    size_t flen;
    while ((flen = net_offload_next(&o, iov, &n))) {
        size_t at = 0;
        for (int i = 0; i < n; i++) {
            memcpy(out + at, iov[i].iov_base, iov[i].iov_len);
            at += iov[i].iov_len;
        }
        assert_int_equal(at, flen);
        size_t seg = flen - (l4 + 32);
        int last = got == frames - 1;
        assert_int_equal(seg, last ? payload - mss * (frames - 1) : mss);
        if (!v6) {
            assert_int_equal(g16(out + l3 + 2), 20 + 32 + seg);
            assert_int_equal(g16(out + l3 + 4), (uint16_t)(0xfffe + got));
            assert_int_equal(ref_fold(ref_sum(0, out + l3, 20)), 0xffff); /* header checksum */
        } else {
            assert_int_equal(g16(out + l3 + 4), 32 + seg);
        }
        assert_int_equal(g32(out + l4 + 4), (uint32_t)(0xfffffa00u + seen));
        uint8_t fl = out[l4 + 13];
        assert_int_equal(fl & 0x10, 0x10);                  /* ACK on every one */
        assert_int_equal(!!(fl & 0x80), got == 0);          /* CWR on the first only */
        assert_int_equal(!!(fl & 0x09), last);              /* FIN, PSH on the last only */
        assert_int_equal((fl & 0x09) == 0x09, last);
        assert_true(l4_ok(out, l3, l4, flen, v6, 6));
        assert_memory_equal(out + l4 + 20, f + l4 + 20, 12); /* options as they were */
        assert_memory_equal(out + l4 + 32, f + l4 + 32 + seen, seg);
        assert_memory_equal(out, f, 12);
        seen += seg;
        got++;
    }
    assert_int_equal(got, frames);
    assert_int_equal(seen, payload);
    assert_false(o.active);
    assert_int_equal(net_offload_next(&o, iov, &n), 0);
}

static void tcp_segments_cut(void **st)
{
    (void)st;
    cut(0, 0, 4000, 1448);   /* 3 frames, the last short */
    cut(0, 0, 2896, 1448);   /* 2 full ones */
    cut(1, 1, 5000, 1428);   /* IPv6 under a VLAN tag */
    cut(0, 1, 60000, 1448);  /* a 64 KiB-class segment: 42 frames */
    cut(0, 0, 100, 1448);    /* one frame */
}

static void partial_checksum_finished(void **st)
{
    (void)st;
    /* UDP over IPv4: the kernel leaves the pseudo-header's sum in the checksum field */
    uint8_t f[14 + 20 + 8 + 33] = { 0 };
    p16(f + 12, 0x0800);
    f[14] = 0x45;
    p16(f + 16, 20 + 8 + 33);
    f[23] = 17;
    memcpy(f + 26, "\xc0\xa8\x01\x01\xc0\xa8\x01\x02", 8);
    p16(f + 34, 53);
    p16(f + 36, 5353);
    p16(f + 38, 8 + 33);
    for (int i = 0; i < 33; i++)
        f[42 + i] = (uint8_t)(i + 100);
    uint32_t ps = ref_sum(0, f + 26, 8) + 17 + 8 + 33;
    p16(f + 40, ref_fold(ps));
    uint8_t h[NET_VNET_HDR_LEN];
    vh(h, 1, 0, 0, 0, 34, 6);
    struct net_offload o;
    assert_int_equal(net_offload_start(&o, h, f, sizeof(f), NULL), 0);
    assert_true(l4_ok(f, 14, 34, sizeof(f), 0, 17));
    struct iovec iov[2];
    int n = 0;
    assert_int_equal(net_offload_next(&o, iov, &n), sizeof(f));
    assert_int_equal(n, 1);
    assert_ptr_equal(iov[0].iov_base, f); /* the frame itself, not a copy */
    assert_int_equal(net_offload_next(&o, iov, &n), 0);
    /* no flags: the frame as it is */
    uint8_t g[60];
    memset(g, 0x5a, sizeof(g));
    vh(h, 0, 0, 0, 0, 0, 0);
    assert_int_equal(net_offload_start(&o, h, g, sizeof(g), NULL), 0);
    assert_int_equal(net_offload_next(&o, iov, &n), sizeof(g));
    assert_int_equal(g[59], 0x5a);
}

static void lying_headers_refused(void **st)
{
    (void)st;
    static uint8_t f[4096];
    size_t l3, l4;
    struct {
        uint8_t flags, type;
        uint16_t gso, cs, co;
        int edit;
        size_t len;
        const char *says;
    } bad[] = {
        { 1, 0, 0, 4000, 0, 0, 0, "outside the frame" },       /* checksum start past the end */
        { 1, 0, 0, 90, 16, 0, 100, "outside the frame" },      /* the field's two bytes past it */
        { 1, 0, 0, 99, 0, 0, 100, "outside the frame" },       /* one byte left */
        { 0, 3, 1448, 0, 0, 0, 0, "other than TCP" },          /* UFO */
        { 0, 4, 1448, 0, 0, 0, 0, "without an IPv6 header" },  /* TCPv6 over an IPv4 frame */
        { 0, 1, 1448, 0, 0, 1, 0, "carrying TCP" },            /* UDP inside */
        { 0, 1, 1448, 0, 0, 2, 0, "whole TCP header" },        /* data offset 4 */
        { 0, 1, 1448, 0, 0, 3, 0, "run past the frame" },      /* data offset 15, headers cut */
        { 0, 1, 20, 0, 0, 0, 0, "smallest MSS" },
        { 0, 1, 1448, 0, 0, 0, 10, "Ethernet header" },
        { 0, 1, 1448, 0, 0, 4, 0, "carrying TCP" },            /* IHL 4 */
        { 0, 1, 65535, 0, 0, 0, 0, "larger than an IP packet" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = tcp_frame(f, 0, 0, 40, 0x10, &l3, &l4);
        if (bad[i].len)
            len = bad[i].len;
        switch (bad[i].edit) {
        case 1: f[l3 + 9] = 17; break;
        case 2: f[l4 + 12] = 4 << 4; break;
        case 3: f[l4 + 12] = 15 << 4; len = l4 + 40; break;
        case 4: f[l3] = 0x44; break;
        }
        uint8_t h[NET_VNET_HDR_LEN];
        vh(h, bad[i].flags, bad[i].type, 0, bad[i].gso, bad[i].cs, bad[i].co);
        struct net_offload o;
        const char *why = NULL;
        assert_int_equal(net_offload_start(&o, h, f, len, &why), -1);
        assert_non_null(why);
        if (!strstr(why, bad[i].says))
            fail_msg("case %u: \"%s\", want \"%s\"", i, why, bad[i].says);
        struct iovec iov[2];
        int n;
        assert_int_equal(net_offload_next(&o, iov, &n), 0);
    }
    /* IPv6 with a hop-by-hop header first: refused, not read as TCP */
    size_t len = tcp_frame(f, 1, 0, 40, 0x10, &l3, &l4);
    f[l3 + 6] = 0;
    uint8_t h[NET_VNET_HDR_LEN];
    vh(h, 0, 4, 0, 1448, 0, 0);
    struct net_offload o;
    assert_int_equal(net_offload_start(&o, h, f, len, NULL), -1);
}

/* ---- the backend over a socket pair, with the header ---- */

struct nic {
    int room;
    unsigned got;
    size_t lens[64];
};

static int nic_can(void *o) { return ((struct nic *)o)->room > 0; }

static void nic_rx(void *o, const struct iovec *iov, int n, size_t len)
{
    struct nic *c = o;
    size_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += iov[i].iov_len;
    assert_int_equal(sum, len);
    c->room--;
    if (c->got < 64)
        c->lens[c->got] = len;
    c->got++;
}

static const struct net_client_ops nic_ops = { nic_can, nic_rx, NULL };

static void backend_gives_segments_as_room_allows(void **st)
{
    (void)st;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    struct fakexen *fx = fx_new(16 << 20);
    struct net *n = net_new_fd(fx_vm(fx), "net0", sv[0]);
    assert_non_null(n);
    net_use_vnet_hdr(n);
    struct nic c = { .room = 2 };
    assert_int_equal(net_attach(n, &nic_ops, &c), 0);
    static uint8_t msg[NET_VNET_HDR_LEN + 8192];
    size_t l3, l4;
    size_t len = tcp_frame(msg + NET_VNET_HDR_LEN, 0, 0, 4000, 0x18, &l3, &l4);
    vh(msg, 1, 1, 0, 1448, (uint16_t)l4, 16);
    assert_int_equal(write(sv[1], msg, NET_VNET_HDR_LEN + len), NET_VNET_HDR_LEN + len);
    /* a plain frame behind it */
    uint8_t plain[NET_VNET_HDR_LEN + 60] = { 0 };
    assert_int_equal(write(sv[1], plain, sizeof(plain)), sizeof(plain));
    for (int i = 0; i < 3; i++)
        loop_run_once(fx->loop, 20);
    assert_int_equal(c.got, 2); /* the NIC's room: the segment's third frame waits here */
    c.room = 10;
    net_rx_ready(n);
    assert_int_equal(c.got, 3); /* given at once: nothing new on the fd was needed */
    for (int i = 0; i < 3; i++)
        loop_run_once(fx->loop, 20);
    assert_int_equal(c.got, 4); /* then the plain frame */
    assert_int_equal(c.lens[0], l4 + 32 + 1448);
    assert_int_equal(c.lens[2], l4 + 32 + 4000 - 2 * 1448);
    assert_int_equal(c.lens[3], 60);
    const struct net_stats *s = net_stats(n);
    assert_int_equal(s->rx_frames, 4);
    assert_int_equal(s->rx_gso, 1);
    assert_int_equal(s->rx_gso_frames, 3);
    assert_int_equal(s->reads >= 2, 1);
    /* a header that lies: refused and counted, the next frame still comes */
    vh(msg, 1, 0, 0, 0, 9000, 0);
    assert_int_equal(write(sv[1], msg, NET_VNET_HDR_LEN + 60), NET_VNET_HDR_LEN + 60);
    assert_int_equal(write(sv[1], msg, 4), 4); /* shorter than the header */
    assert_int_equal(write(sv[1], plain, sizeof(plain)), sizeof(plain));
    for (int i = 0; i < 3; i++)
        loop_run_once(fx->loop, 20);
    assert_int_equal(s->rx_refused, 2);
    assert_int_equal(c.got, 5);
    /* sending: an empty header, then the frame */
    uint8_t f[60];
    memset(f, 0x33, sizeof(f));
    struct iovec iov[2] = { { f, 14 }, { f + 14, 46 } };
    assert_int_equal(net_send(n, iov, 2), 0);
    uint8_t in[200];
    assert_int_equal(read(sv[1], in, sizeof(in)), NET_VNET_HDR_LEN + 60);
    static const uint8_t zero[NET_VNET_HDR_LEN];
    assert_memory_equal(in, zero, NET_VNET_HDR_LEN);
    assert_memory_equal(in + NET_VNET_HDR_LEN, f, 60);
    assert_int_equal(s->tx_bytes, 60);
    /* detached with frames of a segment waiting: they are dropped, nothing is read */
    c.room = 1;
    vh(msg, 1, 1, 0, 1448, (uint16_t)l4, 16);
    assert_int_equal(write(sv[1], msg, NET_VNET_HDR_LEN + len), NET_VNET_HDR_LEN + len);
    for (int i = 0; i < 3; i++)
        loop_run_once(fx->loop, 20);
    assert_int_equal(c.got, 6);
    net_detach(n);
    c.room = 10;
    net_rx_ready(n);
    assert_int_equal(c.got, 6);
    net_free_all(fx_vm(fx));
    close(sv[1]);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checksum_matches_reference),
        cmocka_unit_test(tcp_segments_cut),
        cmocka_unit_test(partial_checksum_finished),
        cmocka_unit_test(lying_headers_refused),
        cmocka_unit_test(backend_gives_segments_as_room_allows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

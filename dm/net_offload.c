/* SPDX-License-Identifier: GPL-2.0-only */
/* Finishing what a tap with offloads hands over (see net_offload.h).
 * References: <linux/virtio_net.h> (the header), RFC 791 / RFC 8200 (IPv4 / IPv6 headers),
 * RFC 9293 (TCP header, checksum pseudo-headers), RFC 1071 (the checksum). */
#include "dm/net_offload.h"

#include <string.h>
#include "dm/util.h"

/* struct virtio_net_hdr, as the tap writes it (little-endian on x86, the tap's default) */
#define VH_F_NEEDS_CSUM 1
#define VH_GSO_NONE 0
#define VH_GSO_TCPV4 1
#define VH_GSO_TCPV6 4
#define VH_GSO_ECN 0x80

#define ETH_HLEN 14
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    /* one's complement sums do not depend on the byte order of the words but for a swap at the
     * end: sum host-order 32-bit words, fold to 16 bits, swap to big-endian on a little-endian
     * host */
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        acc += w;
    }
    if (i + 2 <= len) {
        uint16_t w;
        memcpy(&w, p + i, 2);
        acc += w;
        i += 2;
    }
    if (i < len) {
        uint8_t last[2] = { p[i], 0 };
        uint16_t w;
        memcpy(&w, last, 2);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    uint16_t w16 = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w16 = (uint16_t)(w16 >> 8 | w16 << 8);
#endif
    uint64_t s = (uint64_t)sum + w16;
    while (s >> 17)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint16_t net_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static int refuse(struct net_offload *o, const char **why, const char *what)
{
    o->active = 0;
    if (why)
        *why = what;
    return -1;
}

/* A partial checksum: the 16 bits at START + OFFSET hold the pseudo-header's sum; the checksum
 * covers START to the end of the frame. */
static int finish_csum(struct net_offload *o, uint8_t *f, size_t len, size_t start, size_t offset,
                       const char **why)
{
    if (start >= len || offset > len - start || len - start - offset < 2)
        return refuse(o, why, "checksum position outside the frame");
    uint16_t c = net_csum_fold(net_csum_add(0, f + start, len - start));
    put_be16(f + start + offset, c ? c : 0xffff);
    return 0;
}

int net_offload_start(struct net_offload *o, const uint8_t *vh, uint8_t *f, size_t len,
                      const char **why)
{
    memset(o, 0, offsetof(struct net_offload, hdr));
    uint8_t flags = vh[0], type = (uint8_t)(vh[1] & ~VH_GSO_ECN);
    unsigned gso_size = ld16(vh + 4);
    size_t cstart = ld16(vh + 6), coff = ld16(vh + 8);
    o->pkt = f;
    o->len = len;
    if (type == VH_GSO_NONE) {
        if ((flags & VH_F_NEEDS_CSUM) && finish_csum(o, f, len, cstart, coff, why) < 0)
            return -1;
        o->whole = 1;
        o->active = 1;
        return 0;
    }
    if (type != VH_GSO_TCPV4 && type != VH_GSO_TCPV6)
        return refuse(o, why, "a GSO type other than TCP");
    size_t l3 = ETH_HLEN;
    if (len < l3 + 4)
        return refuse(o, why, "GSO frame shorter than its Ethernet header");
    uint16_t proto = get_be16(f + 12);
    if (proto == 0x8100) {
        l3 += 4;
        proto = get_be16(f + 16);
    }
    o->v6 = type == VH_GSO_TCPV6;
    size_t l4;
    if (!o->v6) {
        if (proto != 0x0800 || len < l3 + 20 || f[l3] >> 4 != 4 || (f[l3] & 15) < 5 || f[l3 + 9] != 6)
            return refuse(o, why, "GSO TCPv4 frame without an IPv4 header carrying TCP");
        l4 = l3 + (size_t)(f[l3] & 15) * 4;
        o->ip_id = get_be16(f + l3 + 4);
    } else {
        if (proto != 0x86dd || len < l3 + 40 || f[l3] >> 4 != 6 || f[l3 + 6] != 6)
            return refuse(o, why, "GSO TCPv6 frame without an IPv6 header carrying TCP");
        l4 = l3 + 40;
    }
    if (len < l4 + 20 || (f[l4 + 12] >> 4) < 5)
        return refuse(o, why, "GSO frame without a whole TCP header");
    size_t hdrs = l4 + (size_t)(f[l4 + 12] >> 4) * 4;
    if (hdrs > len || hdrs > NET_OFFLOAD_HDR_MAX)
        return refuse(o, why, "GSO frame's headers run past the frame or are too long");
    if (gso_size < NET_OFFLOAD_MIN_MSS)
        return refuse(o, why, "GSO size under the smallest MSS taken");
    if (hdrs - l3 + gso_size > 65535)
        return refuse(o, why, "GSO size larger than an IP packet can carry");
    o->l3 = l3;
    o->l4 = l4;
    o->hdrs = hdrs;
    o->mss = gso_size;
    o->seq = get_be32(f + l4 + 4);
    o->active = 1;
    return 0;
}

size_t net_offload_next(struct net_offload *o, struct iovec iov[2], int *n)
{
    if (!o->active)
        return 0;
    if (o->whole) {
        o->active = 0;
        iov[0].iov_base = (void *)o->pkt;
        iov[0].iov_len = o->len;
        *n = 1;
        return o->len;
    }
    size_t payload = o->len - o->hdrs;
    if (o->off >= payload && !(payload == 0 && o->idx == 0)) {
        o->active = 0;
        return 0;
    }
    size_t seg = payload - o->off < o->mss ? payload - o->off : o->mss;
    int first = o->idx == 0, last = o->off + seg >= payload;
    const uint8_t *data = o->pkt + o->hdrs + o->off;
    uint8_t *h = o->hdr;
    size_t l3 = o->l3, l4 = o->l4, tcplen = o->hdrs - l4 + seg;
    memcpy(h, o->pkt, o->hdrs);
    uint32_t sum;
    if (!o->v6) {
        size_t ihl = l4 - l3;
        put_be16(h + l3 + 2, (uint16_t)(ihl + tcplen));
        put_be16(h + l3 + 4, (uint16_t)(o->ip_id + o->idx));
        put_be16(h + l3 + 10, 0);
        put_be16(h + l3 + 10, net_csum_fold(net_csum_add(0, h + l3, ihl)));
        sum = net_csum_add(0, h + l3 + 12, 8); /* source and destination */
        sum += 6 + (uint32_t)tcplen;
    } else {
        put_be16(h + l3 + 4, (uint16_t)tcplen);
        sum = net_csum_add(0, h + l3 + 8, 32);
        sum += 6 + (uint32_t)(tcplen >> 16) + (uint32_t)(tcplen & 0xffff);
    }
    put_be32(h + l4 + 4, o->seq + (uint32_t)o->off);
    uint8_t fl = h[l4 + 13];
    if (!last)
        fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
    if (!first)
        fl &= (uint8_t)~TCP_CWR;
    h[l4 + 13] = fl;
    put_be16(h + l4 + 16, 0);
    sum = net_csum_add(sum, h + l4, o->hdrs - l4);
    sum = net_csum_add(sum, data, seg);
    put_be16(h + l4 + 16, net_csum_fold(sum));
    o->off += seg;
    o->idx++;
    if (last)
        o->active = 0;
    iov[0].iov_base = h;
    iov[0].iov_len = o->hdrs;
    iov[1].iov_base = (void *)data;
    iov[1].iov_len = seg;
    *n = seg ? 2 : 1;
    return o->hdrs + seg;
}

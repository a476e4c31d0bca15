/* SPDX-License-Identifier: GPL-2.0-only */
/* Frames from a tap opened with a virtio-net header (IFF_VNET_HDR) and offloads
 * (TUNSETOFFLOAD: TUN_F_CSUM, TSO4, TSO6): dom0's kernel then hands hvmd a TCP stream in
 * segments of up to 64 KiB with their checksums left to finish, instead of segmenting and
 * summing every 1,514-byte frame itself and queueing each one on the tap. hvmd finishes them
 * here, for NICs that take plain Ethernet frames: a frame whose checksum is partial gets it
 * summed; a GSO segment is cut into frames of the MSS the header names, each with its IPv4
 * length, id and header checksum, IPv6 payload length, TCP sequence number, flags (FIN and
 * PSH on the last frame only, CWR on the first only) and TCP checksum. A frame's payload is not
 * copied: each comes out as two parts, its rewritten headers and a slice of the segment.
 *
 * What the header says is checked against the frame (the frame comes from dom0's bridge, which
 * other guests' frames cross): a checksum position outside the frame, a GSO type other than
 * TCP over IPv4 / IPv6, headers that do not parse as Ethernet (one VLAN tag at most), IPv4 or
 * IPv6 without extension headers, and TCP, or that run past the frame or NET_OFFLOAD_HDR_MAX,
 * an MSS under NET_OFFLOAD_MIN_MSS: the frame is refused (counted by the caller), never read
 * outside its bytes. */
#ifndef HVMD_NET_OFFLOAD_H
#define HVMD_NET_OFFLOAD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define NET_VNET_HDR_LEN 10    /* struct virtio_net_hdr, the tap's default header size */
#define NET_OFFLOAD_HDR_MAX 192 /* Ethernet + VLAN + IPv6 (or IPv4 with options) + TCP with options */
#define NET_OFFLOAD_MIN_MSS 64  /* Linux's own floor is 88: a 64 KiB segment is at most ~1,000 frames */

struct net_offload {
    /* the segment being cut (its bytes are the caller's, kept until done) */
    const uint8_t *pkt;
    size_t len;
    size_t l3, l4, hdrs; /* offsets of the IP header, the TCP header, the payload */
    unsigned mss;
    int v6;
    int whole;           /* one frame as it is (no GSO) */
    size_t off;          /* payload bytes already cut */
    unsigned idx;        /* frames already given */
    uint32_t seq;
    uint16_t ip_id;
    int active;
    uint8_t hdr[NET_OFFLOAD_HDR_MAX]; /* the frame being given: its headers */
};

/* The Internet checksum's sum (RFC 1071): SUM plus the 16-bit big-endian words of P (LEN bytes,
 * an odd last byte padded with zero), folded to at most 17 bits; fold and complement it for
 * the checksum. Summed a word of 32 bits at a time. */
uint32_t net_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t net_csum_fold(uint32_t sum);

/* Take FRAME (LEN bytes after the tap's header VH, NET_VNET_HDR_LEN bytes) into O: a partial
 * checksum is finished in FRAME itself. 0, or -1 with WHY set when the frame is refused (O is
 * then inactive). */
int net_offload_start(struct net_offload *o, const uint8_t *vh, uint8_t *frame, size_t len,
                      const char **why);
/* The next Ethernet frame of O as IOV[0..*N) (N at most 2), its length; 0 once all were given
 * (O is then inactive). The parts point into O and the frame: valid until the next call. */
size_t net_offload_next(struct net_offload *o, struct iovec iov[2], int *n);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Network backends: what a -netdev names (a dom0 tap, or for tests and fuzzers a packet
 * socket pair), between the emulated NIC that is its frontend and dom0. Frames are whole
 * Ethernet frames without FCS. One fd per backend on the vm's loop; no thread.
 *
 * Flow control: a backend reads from its fd only while its NIC says it can take a frame
 * (can_receive); a NIC whose ring was full calls net_rx_ready when the guest gave it room.
 * A frame the NIC cannot take when it arrives stays in the fd's queue in dom0, never copied
 * twice. Transmit is synchronous: net_send writes the frame or drops it (counted).
 *
 * A tap is opened with a virtio-net header and TCP segmentation and checksum offloads
 * (dm/net_offload.h): dom0 hands over TCP segments of up to 64 KiB, which the backend cuts into
 * frames as the NIC takes them; a segment the NIC has no room for stays here (one at most) and
 * goes first when net_rx_ready says there is room. HVMD_TAP_OFFLOAD=0 in hvmd's environment
 * opens taps without (a measurement knob). */
#ifndef HVMD_NET_H
#define HVMD_NET_H
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "dm/util.h"

struct vm;
struct net;

#define NET_MAX_FRAME 65536 /* largest frame either way (a TSO superframe from e1000) */
#define NET_MTU_FRAME 1514  /* largest frame without offloads */

struct net_client_ops {
    /* Can the NIC take a frame now (its receive ring has room, receive enabled)? */
    int (*can_receive)(void *opaque);
    /* One frame from dom0 (IOV, N parts, LEN bytes in all). The NIC copies it into the guest
     * or drops it; it must not keep the pointers. */
    void (*receive)(void *opaque, const struct iovec *iov, int n, size_t len);
    /* The backend's link went up (1) or down (0): a tap deleted in dom0, or back. Optional. */
    void (*link)(void *opaque, int up);
};

struct net_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rx_dropped, tx_dropped; /* the NIC refused; dom0 refused or the link was down */
    uint64_t reads, writes;          /* system calls, for the round-trip figures */
    uint64_t rx_gso;                 /* reads that were GSO segments */
    uint64_t rx_gso_frames;          /* the frames cut from them (part of rx_frames) */
    uint64_t rx_refused;             /* reads whose virtio-net header did not fit the frame */
};

/* The backend -netdev id=ID, or NULL. Backends are created from the command line by
 * net_create_all (-netdev type=tap,id=...,ifname=...,script=no,downscript=no) before the
 * devices, and claimed by the NIC whose -device ...,netdev=ID names them. */
struct net *net_find(struct vm *vm, const char *id);
/* Attach the NIC: OPS with OPAQUE become the frontend. -EBUSY if one is attached. */
int net_attach(struct net *n, const struct net_client_ops *ops, void *opaque) WUR;
void net_detach(struct net *n);
/* Send one frame to dom0. 0, or a negative errno (the frame was dropped and counted). */
int net_send(struct net *n, const struct iovec *iov, int niov);
/* The NIC has room again: read what waits. */
void net_rx_ready(struct net *n);
/* Read what waits now (while the NIC takes frames, at most a batch), as the loop would on its
 * next turn: a NIC calls it when the guest reads its interrupt status, so frames already in
 * dom0's queue are in the ring by the answer (one interrupt run for them, not two). */
void net_poll(struct net *n);
int net_link_up(const struct net *n);
const char *net_ifname(const struct net *n);
const struct net_stats *net_stats(const struct net *n);

/* ---- creation ---- */
/* Every -netdev on VM's command line (claimed), opening each tap. 0 or a negative errno with
 * an error in ERR and nothing left open. */
int net_create_all(struct vm *vm, char *err, size_t errlen) WUR;
void net_free_all(struct vm *vm);
/* A backend over FD (a tap, or one end of a SOCK_SEQPACKET / SOCK_DGRAM pair in tests), id
 * ID, owning FD from now on. NULL on failure (FD closed). */
struct net *net_new_fd(struct vm *vm, const char *id, int fd);
/* N's fd carries a virtio-net header (NET_VNET_HDR_LEN bytes) before every frame both ways, as
 * a tap with IFF_VNET_HDR does (the taps hvmd opens; tests and fuzzers over a socket pair). */
void net_use_vnet_hdr(struct net *n);
#endif

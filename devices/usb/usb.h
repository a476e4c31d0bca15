/* SPDX-License-Identifier: GPL-2.0-only */
/* A USB function as a host controller sees it (usb.c): the device state machine (default,
 * address, configured), the default control pipe with its SETUP / data / status stages and the
 * standard requests of USB 2.0 chapter 9 (GET_STATUS, CLEAR/SET_FEATURE, SET_ADDRESS,
 * GET_DESCRIPTOR, GET/SET_CONFIGURATION, GET/SET_INTERFACE); class requests and the other
 * endpoints go to the function's ops (hid_tablet.c). A controller (uhci.c) owns the root hub
 * ports, finds a function by its address and hands it one packet (one transaction) at a time.
 * Full speed only; no isochronous endpoints. Everything runs on the loop's thread. */
#ifndef HVMD_USB_H
#define HVMD_USB_H

#include <stddef.h>
#include <stdint.h>
#include "dm/snapshot.h"
#include "dm/util.h"

/* Token PIDs, as a UHCI TD carries them */
#define USB_PID_SETUP 0x2d
#define USB_PID_IN 0x69
#define USB_PID_OUT 0xe1

/* What a transaction got from the function. */
enum usb_ret {
    USB_ACK = 0,    /* data moved (IN: *actual bytes) */
    USB_NAK = -1,   /* nothing now: try again in a later frame */
    USB_STALL = -2, /* a request or endpoint error: the function halted the pipe */
    USB_BABBLE = -3,/* the function had more than the packet's maximum */
    USB_NODEV = -4, /* no handshake: nothing answered (CRC / time-out on the wire) */
};

/* Standard request codes and descriptor types (USB 2.0 tables 9-4 and 9-5) */
#define USB_REQ_GET_STATUS 0
#define USB_REQ_CLEAR_FEATURE 1
#define USB_REQ_SET_FEATURE 3
#define USB_REQ_SET_ADDRESS 5
#define USB_REQ_GET_DESCRIPTOR 6
#define USB_REQ_SET_DESCRIPTOR 7
#define USB_REQ_GET_CONFIGURATION 8
#define USB_REQ_SET_CONFIGURATION 9
#define USB_REQ_GET_INTERFACE 10
#define USB_REQ_SET_INTERFACE 11
#define USB_DT_DEVICE 1
#define USB_DT_CONFIG 2
#define USB_DT_STRING 3
#define USB_DIR_IN 0x80
#define USB_TYPE_MASK 0x60
#define USB_TYPE_STANDARD 0x00
#define USB_TYPE_CLASS 0x20
#define USB_RECIP_MASK 0x1f
#define USB_RECIP_DEVICE 0
#define USB_RECIP_INTERFACE 1
#define USB_RECIP_ENDPOINT 2

#define USB_CTRL_MAX 512 /* the longest control data stage served (descriptors are shorter) */

struct usb_setup {
    uint8_t type, request;
    uint16_t value, index, length;
};

struct usb_dev;

struct usb_dev_ops {
    /* GET_DESCRIPTOR of TYPE (device, configuration, string, or a class type asked of
     * RECIPIENT interface) and INDEX into BUF (at most MAX bytes): its whole length, or -1
     * (the function has none: STALL). */
    int (*descriptor)(struct usb_dev *d, uint8_t recip, uint8_t type, uint8_t index,
                      uint8_t *buf, size_t max);
    /* A class or vendor request. IN: fill BUF (at most S->length bytes), return the length;
     * OUT: BUF holds S->length bytes; return 0. -1: STALL. */
    int (*request)(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf);
    /* A transaction on endpoint EP (1-15) with PID IN or OUT: BUF of LEN bytes (IN: room for
     * LEN, *ACTUAL gets what was put there). */
    enum usb_ret (*data)(struct usb_dev *d, uint8_t pid, unsigned ep, uint8_t *buf, size_t len,
                         size_t *actual);
    /* The configuration changed (0: unconfigured), or a bus reset (also called with 0). */
    void (*configured)(struct usb_dev *d, uint8_t config);
    /* The function's own state (the core saves its part first). */
    void (*save)(struct usb_dev *d, struct snap_writer *w);
    int (*load)(struct usb_dev *d, struct snap_reader *r, int commit);
    void (*free)(struct usb_dev *d);
};

enum usb_ctrl_stage { USB_CTRL_IDLE = 0, USB_CTRL_DATA_IN, USB_CTRL_DATA_OUT, USB_CTRL_STATUS_IN,
                      USB_CTRL_STATUS_OUT, USB_CTRL_STAGES };

/* A function's guest-visible state as the core keeps it. */
struct usb_core_state {
    uint8_t addr;            /* 0 until SET_ADDRESS's status stage */
    uint8_t config;          /* bConfigurationValue, 0: unconfigured */
    uint8_t remote_wakeup;   /* DEVICE_REMOTE_WAKEUP feature set by the host */
    uint16_t ep_halt;        /* bit N: endpoint N (IN) halted (ENDPOINT_HALT feature) */
    /* the default control pipe */
    uint8_t stage;           /* enum usb_ctrl_stage */
    uint8_t stall;           /* the request failed: stall the data / status stage */
    uint8_t pending_addr;    /* SET_ADDRESS value, applied when its status stage completes */
    uint8_t setup[8];
    uint16_t len, pos;       /* data stage: bytes in buf, bytes moved */
    uint8_t buf[USB_CTRL_MAX];
};

struct usb_dev {
    const struct usb_dev_ops *ops;
    const char *name;
    uint8_t max_packet0;                 /* bMaxPacketSize0 */
    uint8_t n_configs;                   /* configurations 1..n_configs exist */
    uint8_t self_powered;
    struct usb_core_state st;
    /* Set by the controller: the function has something to say (remote wake-up, a report). */
    void (*wakeup)(void *opaque);
    void *wakeup_opaque;
};

/* One transaction addressed to D (its address matched): PID, endpoint EP, BUF of LEN bytes
 * (OUT / SETUP: the data; IN: room, *ACTUAL gets the length put there). */
enum usb_ret usb_dev_packet(struct usb_dev *d, uint8_t pid, unsigned ep, uint8_t *buf, size_t len,
                            size_t *actual);
/* A bus reset (port reset, global reset): default state, address 0. */
void usb_dev_reset(struct usb_dev *d);
/* Tell the controller the function has data (calls wakeup, if set). */
void usb_dev_wakeup(struct usb_dev *d);
/* State: the core's fields then the function's. */
void usb_dev_save(struct usb_dev *d, struct snap_writer *w);
int usb_dev_load(struct usb_dev *d, struct snap_reader *r, int commit) WUR;
void usb_dev_free(struct usb_dev *d);

/* A string descriptor (index 0: the language list, US English) of ASCII S into BUF. */
int usb_string_desc(const char *s, uint8_t *buf, size_t max);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* A USB HID tablet: the absolute pointer that makes the guest's pointer sit where the viewer's
 * is (xl.cfg usbdevice="tablet", QEMU's usb-tablet).
 * Spec: Device Class Definition for HID 1.11 (sections 6.2 descriptors, 7.2 class requests)
 * and HID Usage Tables 1.12 (Generic Desktop page: X, Y, Wheel; Button page).
 * Emulated: one configuration, one interface (class 3, no boot protocol), one interrupt IN
 * endpoint (8 bytes, polled every 10 ms) carrying 6-byte reports: buttons 1-3 in bits 0-2,
 * X and Y in 0..0x7fff (16 bits each, absolute), the wheel (-127..127, relative). The same
 * IDs and report layout as QEMU's tablet (0627:0001), so a guest installed under qemu-xen finds
 * the device it knows; our own descriptors and strings. Reports wait in a bounded queue
 * (moves merge into the newest queued report when the buttons did not change) and go out on
 * the interrupt endpoint; with nothing new the endpoint NAKs. GET_REPORT, GET/SET_IDLE,
 * GET/SET_PROTOCOL, SET_REPORT (ignored: no output reports).
 * Left out: idle-rate repetition (a report goes out only when something changed; Linux and
 * Windows set the idle rate to 0 for a pointer anyway), the boot protocol's report format
 * (the interface does not claim the boot subclass). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "devices/usb/hid_tablet.h"
#include "dm/input.h"
#include "dm/log.h"

#define REPORT_LEN 6
#define QUEUE_LEN 16

#define HID_GET_REPORT 0x01
#define HID_GET_IDLE 0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT 0x09
#define HID_SET_IDLE 0x0a
#define HID_SET_PROTOCOL 0x0b
#define HID_DT_HID 0x21
#define HID_DT_REPORT 0x22

struct tablet {
    struct usb_dev dev;
    struct vm *vm;
    uint8_t protocol;                  /* 0 boot, 1 report (the default) */
    uint8_t idle;                      /* as SET_IDLE left it (4 ms units) */
    uint8_t now[REPORT_LEN];           /* the pointer's state now (GET_REPORT) */
    uint8_t q[QUEUE_LEN][REPORT_LEN];  /* reports not yet fetched, oldest at head */
    uint8_t head, count;
    int registered;
    uint64_t reports, merged;
};

static const uint8_t report_desc[] = {
    0x05, 0x01,       /* Usage Page (Generic Desktop) */
    0x09, 0x02,       /* Usage (Mouse) */
    0xa1, 0x01,       /* Collection (Application) */
    0x09, 0x01,       /*   Usage (Pointer) */
    0xa1, 0x00,       /*   Collection (Physical) */
    0x05, 0x09,       /*     Usage Page (Button) */
    0x19, 0x01,       /*     Usage Minimum (1) */
    0x29, 0x03,       /*     Usage Maximum (3) */
    0x15, 0x00,       /*     Logical Minimum (0) */
    0x25, 0x01,       /*     Logical Maximum (1) */
    0x75, 0x01,       /*     Report Size (1) */
    0x95, 0x03,       /*     Report Count (3) */
    0x81, 0x02,       /*     Input (Data, Variable, Absolute): the buttons */
    0x75, 0x05,       /*     Report Size (5) */
    0x95, 0x01,       /*     Report Count (1) */
    0x81, 0x03,       /*     Input (Constant): padding */
    0x05, 0x01,       /*     Usage Page (Generic Desktop) */
    0x09, 0x30,       /*     Usage (X) */
    0x09, 0x31,       /*     Usage (Y) */
    0x15, 0x00,       /*     Logical Minimum (0) */
    0x26, 0xff, 0x7f, /*     Logical Maximum (0x7fff) */
    0x35, 0x00,       /*     Physical Minimum (0) */
    0x46, 0xff, 0x7f, /*     Physical Maximum (0x7fff) */
    0x75, 0x10,       /*     Report Size (16) */
    0x95, 0x02,       /*     Report Count (2) */
    0x81, 0x02,       /*     Input (Data, Variable, Absolute): X, Y */
    0x09, 0x38,       /*     Usage (Wheel) */
    0x15, 0x81,       /*     Logical Minimum (-127) */
    0x25, 0x7f,       /*     Logical Maximum (127) */
    0x35, 0x00,       /*     Physical Minimum (0): none */
    0x45, 0x00,       /*     Physical Maximum (0) */
    0x75, 0x08,       /*     Report Size (8) */
    0x95, 0x01,       /*     Report Count (1) */
    0x81, 0x06,       /*     Input (Data, Variable, Relative): the wheel */
    0xc0,             /*   End Collection */
    0xc0,             /* End Collection */
};

static const uint8_t device_desc[18] = {
    18, USB_DT_DEVICE, 0x10, 0x01, /* USB 1.1 */
    0, 0, 0,                       /* class in the interface */
    8,                             /* bMaxPacketSize0 */
    0x27, 0x06, 0x01, 0x00,        /* 0627:0001, as QEMU's tablet */
    0x00, 0x01,                    /* bcdDevice 1.00 */
    1, 2, 3,                       /* strings: manufacturer, product, serial */
    1,                             /* one configuration */
};

#define CONFIG_LEN (9 + 9 + 9 + 7)
static void config_desc(uint8_t *p)
{
    static const uint8_t c[CONFIG_LEN] = {
        9, USB_DT_CONFIG, CONFIG_LEN, 0, 1, 1, 0,
        0xa0, /* bus powered, remote wake-up */
        50,   /* 100 mA */
        /* interface 0: HID, no boot subclass, one endpoint */
        9, 4, 0, 0, 1, 3, 0, 0, 0,
        /* HID 1.11, no country, one report descriptor */
        9, HID_DT_HID, 0x11, 0x01, 0, 1, HID_DT_REPORT, sizeof(report_desc), 0,
        /* endpoint 1 IN, interrupt, 8 bytes, every 10 ms */
        7, 5, 0x81, 0x03, 8, 0, 10,
    };
    memcpy(p, c, sizeof(c));
}

static int tablet_descriptor(struct usb_dev *d, uint8_t recip, uint8_t type, uint8_t index,
                             uint8_t *buf, size_t max)
{
    static const char *const strings[] = { NULL, "hvmd", "hvmd USB tablet", "1" };
    uint8_t tmp[CONFIG_LEN];
    const uint8_t *src;
    size_t n;
    if (recip == USB_RECIP_INTERFACE) {
        if (type == HID_DT_REPORT) {
            src = report_desc;
            n = sizeof(report_desc);
        } else if (type == HID_DT_HID) {
            config_desc(tmp);
            src = tmp + 18;
            n = 9;
        } else {
            return -1;
        }
    } else if (type == USB_DT_DEVICE) {
        src = device_desc;
        n = sizeof(device_desc);
    } else if (type == USB_DT_CONFIG && index == 0) {
        config_desc(tmp);
        src = tmp;
        n = CONFIG_LEN;
    } else if (type == USB_DT_STRING && index < ARRAY_SIZE(strings)) {
        return usb_string_desc(strings[index], buf, max);
    } else {
        return -1;
    }
    n = MIN(n, max);
    memcpy(buf, src, n);
    return (int)n;
}

static int tablet_request(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    if ((s->type & USB_TYPE_MASK) != USB_TYPE_CLASS || (s->type & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
        return -1;
    if (s->type & USB_DIR_IN) {
        switch (s->request) {
        case HID_GET_REPORT: {
            size_t n = MIN((size_t)s->length, (size_t)REPORT_LEN);
            memcpy(buf, t->now, n);
            return (int)n;
        }
        case HID_GET_IDLE:
            buf[0] = t->idle;
            return 1;
        case HID_GET_PROTOCOL:
            buf[0] = t->protocol;
            return 1;
        default:
            return -1;
        }
    }
    switch (s->request) {
    case HID_SET_REPORT:
        return 0;
    case HID_SET_IDLE:
        t->idle = (uint8_t)(s->value >> 8);
        return 0;
    case HID_SET_PROTOCOL:
        if (s->value > 1)
            return -1;
        t->protocol = (uint8_t)s->value;
        return 0;
    default:
        return -1;
    }
}

static enum usb_ret tablet_data(struct usb_dev *d, uint8_t pid, unsigned ep, uint8_t *buf,
                                size_t len, size_t *actual)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    if (ep != 1 || pid != USB_PID_IN)
        return USB_STALL;
    if (!t->count)
        return USB_NAK;
    if (len < REPORT_LEN)
        return USB_BABBLE;
    memcpy(buf, t->q[t->head], REPORT_LEN);
    t->head = (uint8_t)((t->head + 1) % QUEUE_LEN);
    t->count--;
    *actual = REPORT_LEN;
    t->reports++;
    return USB_ACK;
}

static void tablet_configured(struct usb_dev *d, uint8_t config)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    t->head = t->count = 0; /* a freshly configured tablet has nothing old to say */
    if (!config) {
        t->protocol = 1;
        t->idle = 0;
    }
}

/* ---- input (dm/input.h) ---- */

static int tablet_active(void *opaque)
{
    struct tablet *t = opaque;
    return t->dev.st.config != 0;
}

static void tablet_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
    struct tablet *t = opaque;
    uint8_t r[REPORT_LEN];
    x = MIN(x, (unsigned)INPUT_ABS_MAX);
    y = MIN(y, (unsigned)INPUT_ABS_MAX);
    dz = dz < -127 ? -127 : dz > 127 ? 127 : dz;
    r[0] = (uint8_t)(buttons & (INPUT_BTN_LEFT | INPUT_BTN_RIGHT | INPUT_BTN_MIDDLE));
    st16(r + 1, (uint16_t)x);
    st16(r + 3, (uint16_t)y);
    r[5] = (uint8_t)(int8_t)dz;
    memcpy(t->now, r, REPORT_LEN);
    t->now[5] = 0;
    if (!t->dev.st.config)
        return;
    uint8_t *last = t->count ? t->q[(t->head + t->count - 1) % QUEUE_LEN] : NULL;
    if (last && ((last[0] == r[0] && !last[5] && !r[5]) || t->count == QUEUE_LEN)) {
        /* a move (or a full queue): the newest report takes the new position */
        int wheel = (int8_t)last[5] + dz;
        memcpy(last, r, 5);
        last[5] = (uint8_t)(int8_t)(wheel < -127 ? -127 : wheel > 127 ? 127 : wheel);
        t->merged++;
    } else {
        memcpy(t->q[(t->head + t->count) % QUEUE_LEN], r, REPORT_LEN);
        t->count++;
    }
    usb_dev_wakeup(&t->dev);
}

/* ---- state ---- */

static void tablet_save(struct usb_dev *d, struct snap_writer *w)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    snap_put_u8(w, "protocol", t->protocol);
    snap_put_u8(w, "idle", t->idle);
    snap_put_bytes(w, "now", t->now, sizeof(t->now));
    snap_put_u8(w, "head", t->head);
    snap_put_u8(w, "count", t->count);
    snap_put_bytes(w, "queue", t->q, sizeof(t->q));
}

static int tablet_load(struct usb_dev *d, struct snap_reader *r, int commit)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    uint8_t protocol, idle, head, count, now[REPORT_LEN], q[QUEUE_LEN][REPORT_LEN];
    if (snap_get_u8_in(r, "protocol", &protocol, 0, 1) < 0 || snap_get_u8(r, "idle", &idle) < 0 ||
        snap_get_bytes(r, "now", now, sizeof(now)) < 0 ||
        snap_get_u8_in(r, "head", &head, 0, QUEUE_LEN - 1) < 0 ||
        snap_get_u8_in(r, "count", &count, 0, QUEUE_LEN) < 0 ||
        snap_get_bytes(r, "queue", q, sizeof(q)) < 0)
        return -EINVAL;
    if (commit) {
        t->protocol = protocol;
        t->idle = idle;
        memcpy(t->now, now, sizeof(now));
        t->head = head;
        t->count = count;
        memcpy(t->q, q, sizeof(q));
    }
    return 0;
}

static void tablet_free(struct usb_dev *d)
{
    struct tablet *t = container_of(d, struct tablet, dev);
    if (t->registered)
        input_del_target(t->vm, t);
    free(t);
}

static const struct usb_dev_ops tablet_ops = {
    .descriptor = tablet_descriptor,
    .request = tablet_request,
    .data = tablet_data,
    .configured = tablet_configured,
    .save = tablet_save,
    .load = tablet_load,
    .free = tablet_free,
};

struct usb_dev *hid_tablet_new(struct vm *vm)
{
    struct tablet *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->vm = vm;
    t->dev.ops = &tablet_ops;
    t->dev.name = "usb-tablet";
    t->dev.max_packet0 = 8;
    t->dev.n_configs = 1;
    t->protocol = 1;
    usb_dev_reset(&t->dev);
    struct input_target it = {
        /* above the PV pointer (vkbd, 20) that libxl adds by default: a tablet is there
         * because the guest's file asked for one, and the guest configured it */
        .kind = INPUT_ABS, .priority = 30, .name = "usb-tablet",
        .active = tablet_active, .abs = tablet_abs, .opaque = t,
    };
    if (input_add_target(vm, &it) < 0) {
        free(t);
        return NULL;
    }
    t->registered = 1;
    return &t->dev;
}

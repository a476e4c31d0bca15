/* SPDX-License-Identifier: GPL-2.0-only */
/* The USB function core: device states and the default control pipe.
 * Spec: Universal Serial Bus Specification 2.0, chapter 8.5.3 (control transfers: SETUP,
 * optional data stage, status stage in the other direction; a new SETUP ends any transfer in
 * progress) and chapter 9 (device states, standard requests and their errors: a request the
 * function does not serve STALLs its data or status stage).
 * Emulated: default, address and configured states; the standard requests; SET_ADDRESS
 * taking effect once its status stage completes; ENDPOINT_HALT on IN endpoints; class and
 * vendor requests handed to the function. Every request answers in the transaction that asks,
 * so the host's next frame finds it done (no NAK on the control pipe).
 * Left out: data toggle checking (the host model never retries a packet), test modes,
 * SET_DESCRIPTOR and SYNCH_FRAME (STALL), alternate settings (only 0). */
#include <errno.h>
#include <string.h>
#include "devices/usb/usb.h"

#define FEATURE_ENDPOINT_HALT 0
#define FEATURE_REMOTE_WAKEUP 1
#define NO_ADDR 0xff

static int std_in(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf, size_t max)
{
    struct usb_core_state *st = &d->st;
    unsigned recip = s->type & USB_RECIP_MASK;
    switch (s->request) {
    case USB_REQ_GET_STATUS: {
        uint8_t v[2] = { 0, 0 };
        if (recip == USB_RECIP_DEVICE)
            v[0] = (uint8_t)((d->self_powered ? 1 : 0) | (st->remote_wakeup ? 2 : 0));
        else if (recip == USB_RECIP_ENDPOINT && (s->index & 0x0f) && (s->index & 0x80))
            v[0] = (st->ep_halt >> (s->index & 0x0f)) & 1;
        else if (recip != USB_RECIP_INTERFACE && !(recip == USB_RECIP_ENDPOINT && !(s->index & 0x0f)))
            return -1;
        memcpy(buf, v, MIN(max, sizeof(v))); /* a shorter read gets the start of it */
        return (int)MIN(max, sizeof(v));
    }
    case USB_REQ_GET_DESCRIPTOR:
        if (recip != USB_RECIP_DEVICE && recip != USB_RECIP_INTERFACE)
            return -1;
        return d->ops->descriptor(d, (uint8_t)recip, (uint8_t)(s->value >> 8),
                                  (uint8_t)s->value, buf, max);
    case USB_REQ_GET_CONFIGURATION:
        if (recip != USB_RECIP_DEVICE)
            return -1;
        buf[0] = st->config;
        return 1;
    case USB_REQ_GET_INTERFACE:
        if (recip != USB_RECIP_INTERFACE || !st->config)
            return -1;
        buf[0] = 0;
        return 1;
    default:
        return -1;
    }
}

static int std_out(struct usb_dev *d, const struct usb_setup *s)
{
    struct usb_core_state *st = &d->st;
    unsigned recip = s->type & USB_RECIP_MASK;
    switch (s->request) {
    case USB_REQ_CLEAR_FEATURE:
    case USB_REQ_SET_FEATURE: {
        int set = s->request == USB_REQ_SET_FEATURE;
        if (recip == USB_RECIP_DEVICE && s->value == FEATURE_REMOTE_WAKEUP) {
            st->remote_wakeup = (uint8_t)set;
            return 0;
        }
        if (recip == USB_RECIP_ENDPOINT && s->value == FEATURE_ENDPOINT_HALT) {
            unsigned ep = s->index & 0x0f;
            if (ep == 0)
                return 0;
            if (!(s->index & 0x80))
                return -1; /* the functions here have IN endpoints only */
            if (set)
                st->ep_halt |= (uint16_t)(1u << ep);
            else
                st->ep_halt &= (uint16_t)~(1u << ep);
            return 0;
        }
        return -1;
    }
    case USB_REQ_SET_ADDRESS:
        if (recip != USB_RECIP_DEVICE || s->value > 127)
            return -1;
        st->pending_addr = (uint8_t)s->value;
        return 0;
    case USB_REQ_SET_CONFIGURATION:
        if (recip != USB_RECIP_DEVICE || s->value > d->n_configs || st->addr == 0)
            return -1;
        st->config = (uint8_t)s->value;
        st->ep_halt = 0;
        if (d->ops->configured)
            d->ops->configured(d, st->config);
        return 0;
    case USB_REQ_SET_INTERFACE:
        if (recip != USB_RECIP_INTERFACE || !st->config || s->value != 0)
            return -1;
        st->ep_halt = 0;
        return 0;
    default:
        return -1;
    }
}

static int do_in(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf, size_t max)
{
    if ((s->type & USB_TYPE_MASK) == USB_TYPE_STANDARD)
        return std_in(d, s, buf, max);
    struct usb_setup t = *s;
    t.length = (uint16_t)MIN((size_t)s->length, max);
    return d->ops->request ? d->ops->request(d, &t, buf) : -1;
}

static int do_out(struct usb_dev *d, const struct usb_setup *s, uint8_t *buf)
{
    if ((s->type & USB_TYPE_MASK) == USB_TYPE_STANDARD)
        return std_out(d, s);
    return d->ops->request ? d->ops->request(d, s, buf) : -1;
}

static void parse_setup(const uint8_t *p, struct usb_setup *s)
{
    s->type = p[0];
    s->request = p[1];
    s->value = ld16(p + 2);
    s->index = ld16(p + 4);
    s->length = ld16(p + 6);
}

static enum usb_ret setup(struct usb_dev *d, const uint8_t *pkt)
{
    struct usb_core_state *st = &d->st;
    struct usb_setup s;
    memcpy(st->setup, pkt, 8);
    parse_setup(pkt, &s);
    st->stall = 0;
    st->pending_addr = NO_ADDR;
    st->len = st->pos = 0;
    if (s.type & USB_DIR_IN) {
        size_t max = MIN((size_t)s.length, sizeof(st->buf));
        int n = s.length ? do_in(d, &s, st->buf, max) : 0;
        if (n < 0)
            st->stall = 1;
        else
            st->len = (uint16_t)MIN((size_t)n, max);
        st->stage = s.length ? USB_CTRL_DATA_IN : USB_CTRL_STATUS_IN;
    } else if (s.length == 0) {
        st->stall = do_out(d, &s, st->buf) < 0;
        st->stage = USB_CTRL_STATUS_IN;
    } else {
        st->stall = s.length > sizeof(st->buf);
        st->len = st->stall ? 0 : s.length;
        st->stage = USB_CTRL_DATA_OUT;
    }
    return USB_ACK; /* a function always accepts SETUP */
}

/* The status stage (a zero-length packet) of a transfer that had no IN data stage. */
static enum usb_ret status_in(struct usb_dev *d)
{
    struct usb_core_state *st = &d->st;
    if (st->stage == USB_CTRL_DATA_OUT && !st->stall) {
        struct usb_setup s;
        parse_setup(st->setup, &s);
        if (st->pos < st->len)
            st->stall = 1; /* the host ended the data stage early */
        else
            st->stall = do_out(d, &s, st->buf) < 0;
    }
    st->stage = USB_CTRL_IDLE;
    if (st->stall)
        return USB_STALL;
    if (st->pending_addr != NO_ADDR) {
        st->addr = st->pending_addr;
        st->pending_addr = NO_ADDR;
    }
    return USB_ACK;
}

static enum usb_ret control(struct usb_dev *d, uint8_t pid, uint8_t *buf, size_t len,
                            size_t *actual)
{
    struct usb_core_state *st = &d->st;
    if (pid == USB_PID_SETUP)
        return len == 8 ? setup(d, buf) : USB_NODEV; /* a function ignores a malformed SETUP */
    if (pid == USB_PID_IN) {
        switch (st->stage) {
        case USB_CTRL_DATA_IN: {
            if (st->stall)
                return USB_STALL;
            size_t n = MIN(len, (size_t)(st->len - st->pos));
            if (n > d->max_packet0)
                n = d->max_packet0;
            memcpy(buf, st->buf + st->pos, n);
            st->pos = (uint16_t)(st->pos + n);
            *actual = n;
            return USB_ACK;
        }
        case USB_CTRL_DATA_OUT:
        case USB_CTRL_STATUS_IN:
            return status_in(d);
        default:
            return USB_STALL;
        }
    }
    switch (st->stage) { /* OUT */
    case USB_CTRL_DATA_OUT: {
        if (st->stall)
            return USB_STALL;
        size_t n = MIN(len, (size_t)(st->len - st->pos));
        memcpy(st->buf + st->pos, buf, n);
        st->pos = (uint16_t)(st->pos + n);
        return USB_ACK;
    }
    case USB_CTRL_DATA_IN: /* the status stage of an IN transfer */
    case USB_CTRL_STATUS_OUT:
        st->stage = USB_CTRL_IDLE;
        return st->stall ? USB_STALL : USB_ACK;
    default:
        return USB_STALL;
    }
}

enum usb_ret usb_dev_packet(struct usb_dev *d, uint8_t pid, unsigned ep, uint8_t *buf, size_t len,
                            size_t *actual)
{
    *actual = 0;
    if (ep == 0)
        return control(d, pid, buf, len, actual);
    if (pid == USB_PID_SETUP || !d->st.config)
        return USB_NODEV; /* no such endpoint yet */
    if (pid == USB_PID_IN && (d->st.ep_halt >> ep) & 1)
        return USB_STALL;
    return d->ops->data ? d->ops->data(d, pid, ep, buf, len, actual) : USB_STALL;
}

void usb_dev_reset(struct usb_dev *d)
{
    int was = d->st.config;
    memset(&d->st, 0, sizeof(d->st));
    d->st.pending_addr = NO_ADDR;
    if (d->ops->configured && was)
        d->ops->configured(d, 0);
}

void usb_dev_wakeup(struct usb_dev *d)
{
    if (d->wakeup)
        d->wakeup(d->wakeup_opaque);
}

void usb_dev_save(struct usb_dev *d, struct snap_writer *w)
{
    const struct usb_core_state *st = &d->st;
    snap_put_u8(w, "addr", st->addr);
    snap_put_u8(w, "config", st->config);
    snap_put_bool(w, "remote_wakeup", st->remote_wakeup);
    snap_put_u16(w, "ep_halt", st->ep_halt);
    snap_put_u8(w, "stage", st->stage);
    snap_put_bool(w, "stall", st->stall);
    snap_put_u8(w, "pending_addr", st->pending_addr);
    snap_put_bytes(w, "setup", st->setup, sizeof(st->setup));
    snap_put_u16(w, "len", st->len);
    snap_put_u16(w, "pos", st->pos);
    snap_put_bytes(w, "buf", st->buf, sizeof(st->buf));
    if (d->ops->save)
        d->ops->save(d, w);
}

int usb_dev_load(struct usb_dev *d, struct snap_reader *r, int commit)
{
    struct usb_core_state st;
    int rw = 0, stall = 0;
    memset(&st, 0, sizeof(st));
    if (snap_get_u8_in(r, "addr", &st.addr, 0, 127) < 0 ||
        snap_get_u8_in(r, "config", &st.config, 0, d->n_configs) < 0 ||
        snap_get_bool(r, "remote_wakeup", &rw) < 0 || snap_get_u16(r, "ep_halt", &st.ep_halt) < 0 ||
        snap_check(r, !(st.ep_halt & 1), NULL, "endpoint 0 cannot halt") < 0 ||
        snap_get_u8_in(r, "stage", &st.stage, 0, USB_CTRL_STAGES - 1) < 0 ||
        snap_get_bool(r, "stall", &stall) < 0 || snap_get_u8(r, "pending_addr", &st.pending_addr) < 0 ||
        snap_check(r, st.pending_addr <= 127 || st.pending_addr == NO_ADDR, NULL,
                   "%u is no address", st.pending_addr) < 0 ||
        snap_get_bytes(r, "setup", st.setup, sizeof(st.setup)) < 0 ||
        snap_get_u16_in(r, "len", &st.len, 0, USB_CTRL_MAX) < 0 ||
        snap_get_u16_in(r, "pos", &st.pos, 0, st.len) < 0 ||
        snap_get_bytes(r, "buf", st.buf, sizeof(st.buf)) < 0)
        return -EINVAL;
    st.remote_wakeup = (uint8_t)rw;
    st.stall = (uint8_t)stall;
    if (d->ops->load && d->ops->load(d, r, commit) < 0)
        return -EINVAL;
    if (commit)
        d->st = st;
    return 0;
}

void usb_dev_free(struct usb_dev *d)
{
    if (d && d->ops->free)
        d->ops->free(d);
}

int usb_string_desc(const char *s, uint8_t *buf, size_t max)
{
    uint8_t tmp[2 + 2 * 126];
    size_t n = 2;
    if (!s) { /* the language IDs: US English only */
        tmp[n++] = 0x09;
        tmp[n++] = 0x04;
    } else {
        for (; *s && n + 2 <= sizeof(tmp); s++) {
            tmp[n++] = (uint8_t)*s;
            tmp[n++] = 0;
        }
    }
    tmp[0] = (uint8_t)n;
    tmp[1] = USB_DT_STRING;
    n = MIN(n, max);
    memcpy(buf, tmp, n);
    return (int)n;
}

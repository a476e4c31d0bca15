/* SPDX-License-Identifier: GPL-2.0-only */
/* Intel PIIX3 USB host controller (UHCI), function 2 of the PIIX3 at 00:01.2, with its root
 * hub's two ports: what `-usb` (xl.cfg usb=1 / usbdevice=) gives under qemu-xen.
 * Spec: Universal Host Controller Interface Design Guide rev 1.1 (Intel, 1996): section 2
 * (I/O registers), 3 (frame list, TDs, QHs, link pointers, depth/breadth first), 4 (schedule
 * execution, error handling); Intel 82371SB PIIX3 datasheet (290550), 2.4 (function 2
 * configuration: USBBA at BAR 4, legacy support register 0xc0, interrupt on PIRQD).
 * Emulated: PCI 8086:7020, class 0c0300, 32-byte I/O BAR 4; USBCMD (run/stop, host controller
 * and global reset, global suspend, configure, max packet), USBSTS (interrupt, error
 * interrupt, resume detect, host system and process errors, halted), USBINTR, FRNUM,
 * FLBASEADD, SOFMOD, PORTSC1-2 (connect, enable, reset, suspend, resume detect and their
 * change bits); the frame list walked frame by frame, QH queues (element advanced on success,
 * depth-first or breadth-first as each TD's link says), TDs with IOC, short packet detect,
 * error counting, NAK, STALL and babble; interrupts at the end of a frame on INTx (pin D).
 * Time: FRNUM is the next frame to run, and frames run in batches when a loop timer fires:
 * every 1 ms while TDs complete, backing off to every 32 ms while the schedule only NAKs
 * (a HID tablet with nothing to say) or is empty; a function with news (a tablet report)
 * brings the 1 ms pace back at once, and a FRNUM read runs the frames that are due first. So
 * FRNUM never runs ahead of the schedule (a guest that unlinks a QH and waits for FRNUM to
 * move may free it). At the slow pace, a guest that reads the registers itself parks the timer
 * altogether: Linux's uhci-hcd, while its root hub runs, has usbcore poll the root hub's status
 * every 250 ms (HCD_FLAG_POLL_RH, set when the root hub starts), and each poll scans the
 * schedule, reading FRNUM first, then PORTSC; a FRNUM read runs the frames that are due, so a
 * TD the guest queued meanwhile runs within that poll. Parked, the timer is a safety net only,
 * pushed UHCI_PARK_MS past each register read: a guest that stops reading (or never read)
 * gets the 32 ms pace back, so one that queues TDs without touching a register waits at most
 * UHCI_PARK_MS once. A register write, a function with news or a FRNUM read that completes a
 * TD brings the 1 ms pace back. An idle Linux guest with the tablet thus costs no wake-up of
 * hvmd's own (none either when the controller is stopped or suspended). Within a pass, a frame ends at a QH
 * the pass met before with nothing done since (the schedule every frame shares is walked once
 * a pass, not once a frame).
 * Guest input is bounded: a frame follows at most UHCI_MAX_LINKS link pointers (a QH met again
 * with nothing done in between ends the frame quietly, as the full-speed bandwidth
 * reclamation loop of Linux needs; anything longer ends with a rate-limited log line); a
 * frame list, QH, TD or buffer outside guest RAM is a host system error (HSE, the HC halts, as
 * a PCI master abort does); an invalid PID or length is a process error (HCPE, halted).
 * Remote wake-up: a function the host allowed to wake it (SET_FEATURE DEVICE_REMOTE_WAKEUP)
 * that has news while its port or the bus is suspended sets the port's and USBSTS's resume
 * detect bits (and FGR under global suspend).
 * Left out: isochronous TDs (no function has such an endpoint: one runs as an ordinary TD and
 * stalls or times out), nested QHs
 * (a QH as a queue element ends the queue, logged), low-speed functions, the debug mode's
 * single stepping, SOF timing (SOFMOD is storage), the legacy keyboard emulation (the trap
 * bits of 0xc0 are storage). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "devices/usb/hid_tablet.h"
#include "devices/usb/usb.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#define UHCI_PORTS 2
#define UHCI_IO_SIZE 32
#define UHCI_MAX_LINKS 256     /* link pointers followed per frame */
#define UHCI_MAX_CATCHUP 64    /* frames run per pass; frames further behind are skipped */
#define UHCI_IDLE_MS 32        /* the slowest pace, while nothing completes */
#define UHCI_PARK_MS 600       /* parked: the safety pass this long after the last register read
                                * (Linux reads every 250 ms) */
#define UHCI_SEEN 32           /* QHs remembered per pass */
#define FRAME_NS 1000000ull
#define MAX_XFER 1280          /* the longest TD (MaxLen 0x4ff) */

/* registers */
#define USBCMD 0x00
#define USBSTS 0x02
#define USBINTR 0x04
#define FRNUM 0x06
#define FLBASEADD 0x08
#define SOFMOD 0x0c
#define PORTSC1 0x10

#define CMD_RS 0x0001
#define CMD_HCRESET 0x0002
#define CMD_GRESET 0x0004
#define CMD_EGSM 0x0008
#define CMD_FGR 0x0010
#define CMD_MASK 0x00ff

#define STS_USBINT 0x0001
#define STS_ERRINT 0x0002
#define STS_RD 0x0004
#define STS_HSE 0x0008
#define STS_HCPE 0x0010
#define STS_HCH 0x0020
#define STS_MASK 0x003f

#define INTR_TIMEOUT 0x0001
#define INTR_RESUME 0x0002
#define INTR_IOC 0x0004
#define INTR_SP 0x0008

#define PORT_CCS 0x0001
#define PORT_CSC 0x0002
#define PORT_PED 0x0004
#define PORT_PEDC 0x0008
#define PORT_DPLUS 0x0010
#define PORT_RD 0x0040
#define PORT_ONE 0x0080 /* reserved, reads 1 */
#define PORT_PR 0x0200
#define PORT_SUSP 0x1000
#define PORT_RW (PORT_PED | PORT_RD | PORT_PR | PORT_SUSP)
#define PORT_W1C (PORT_CSC | PORT_PEDC)

/* link pointers */
#define LINK_T 0x1
#define LINK_Q 0x2
#define LINK_VF 0x4
#define LINK_ADDR 0xfffffff0u

/* TD control and status */
#define TD_ACTLEN 0x000007ff
#define TD_BITSTUFF 0x00020000
#define TD_CRC 0x00040000
#define TD_NAK 0x00080000
#define TD_BABBLE 0x00100000
#define TD_DBE 0x00200000
#define TD_STALLED 0x00400000
#define TD_ACTIVE 0x00800000
#define TD_STATUS 0x00fe0000
#define TD_IOC 0x01000000
#define TD_SPD 0x20000000
#define TD_CERR_SHIFT 27

/* why USBINT is set: IOC and / or short packet (they have separate enables) */
#define ST2_IOC 0x1
#define ST2_SPD 0x2

#define USBLEGSUP 0xc0
#define SBRN 0x60

enum td_res { TD_INACTIVE, TD_DONE, TD_NAKED, TD_STOP, TD_FATAL };

struct uhci {
    struct dev_base base;
    uint16_t cmd, sts, intr, frnum;
    uint32_t flbase;
    uint8_t sofmod;
    uint8_t sts2;
    uint16_t portsc[UHCI_PORTS];
    struct usb_dev *dev[UHCI_PORTS];   /* what is plugged in (configuration, not state) */
    struct loop_timer *timer;
    uint64_t frame_time;               /* when frame FRNUM starts (CLOCK_MONOTONIC ns) */
    unsigned poll_ms;                  /* the pace now: 1 .. UHCI_IDLE_MS */
    int parked;                        /* idle, the guest reads registers: no pace at all */
    uint64_t last_read;                /* the last register read (ns), 0: none yet */
    uint64_t safety_due;               /* parked: when the safety pass is armed for (ns) */
    int in_pass;
    /* the QHs this pass met, and how far the pass had got then */
    struct { uint32_t addr; uint64_t progress; } seen[UHCI_SEEN];
    unsigned n_seen;
    struct ratelimit rl;
    uint64_t progress;                 /* TDs whose state changed */
    uint64_t frames, skipped, passes, links, naks, overruns, errors, parks, safety_passes;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int running(const struct uhci *s)
{
    return (s->cmd & CMD_RS) && !(s->sts & STS_HCH) && !(s->cmd & (CMD_EGSM | CMD_GRESET));
}

static void update_irq(struct uhci *s)
{
    int level = ((s->sts & STS_USBINT) &&
                 (((s->sts2 & ST2_IOC) && (s->intr & INTR_IOC)) ||
                  ((s->sts2 & ST2_SPD) && (s->intr & INTR_SP)))) ||
                ((s->sts & STS_ERRINT) && (s->intr & INTR_TIMEOUT)) ||
                ((s->sts & STS_RD) && (s->intr & INTR_RESUME)) ||
                (s->sts & (STS_HSE | STS_HCPE));
    pci_set_irq(s->base.pci, level);
}

static void arm(struct uhci *s)
{
    if (!s->timer)
        return;
    uint64_t ns = 0;
    if (running(s) && s->parked) {
        uint64_t now = now_ns();
        s->safety_due = s->last_read + (uint64_t)UHCI_PARK_MS * FRAME_NS;
        ns = s->safety_due > now ? s->safety_due - now : 1;
    } else if (running(s)) {
        ns = (uint64_t)s->poll_ms * FRAME_NS;
    }
    loop_timer_arm(s->timer, ns);
}

/* Back to the 1 ms pace (news, a register write, a TD completed). */
static void fast(struct uhci *s)
{
    int was = s->poll_ms == 1 && !s->parked;
    s->parked = 0;
    s->poll_ms = 1;
    if (!was)
        arm(s);
}

static void halt(struct uhci *s)
{
    s->cmd &= (uint16_t)~CMD_RS;
    s->sts |= STS_HCH;
    arm(s);
}

/* A host system error (guest memory that is not RAM) or a process error (a malformed TD):
 * the HC halts, as hardware does. */
static enum td_res fatal(struct uhci *s, uint16_t bit, const char *what, uint32_t addr)
{
    log_guest(&s->rl, "uhci", "frame %u: %s at %#x: %s, controller halted", s->frnum, what, addr,
              bit == STS_HSE ? "host system error" : "process error");
    s->sts |= bit;
    s->errors++;
    halt(s);
    return TD_FATAL;
}

static struct usb_dev *find_dev(struct uhci *s, unsigned addr)
{
    for (unsigned i = 0; i < UHCI_PORTS; i++) {
        struct usb_dev *d = s->dev[i];
        uint16_t p = s->portsc[i];
        if (d && (p & PORT_PED) && !(p & (PORT_PR | PORT_SUSP)) && d->st.addr == addr)
            return d;
    }
    return NULL;
}

static int write_ctrl(struct uhci *s, uint32_t td, uint32_t ctrl)
{
    uint32_t v = ctrl;
    return mem_write(s->base.vm->mem, td + 4, &v, 4);
}

/* Run the TD at ADDR (its four words in TD) once. */
static enum td_res exec_td(struct uhci *s, uint32_t addr, const uint32_t td[4], int in_queue)
{
    uint32_t ctrl = td[1], token = td[2], buf = td[3];
    if (!(ctrl & TD_ACTIVE))
        return TD_INACTIVE;
    uint8_t pid = (uint8_t)token;
    if (pid != USB_PID_IN && pid != USB_PID_OUT && pid != USB_PID_SETUP)
        return fatal(s, STS_HCPE, "a TD with an invalid PID", addr);
    size_t maxlen = ((token >> 21) + 1) & 0x7ff;
    if (maxlen > MAX_XFER)
        return fatal(s, STS_HCPE, "a TD with an invalid maximum length", addr);
    struct usb_dev *d = find_dev(s, (token >> 8) & 0x7f);
    unsigned ep = (token >> 15) & 0xf;
    uint8_t data[MAX_XFER];
    size_t actual = 0;
    enum usb_ret r = USB_NODEV;
    if (d && pid != USB_PID_IN) {
        if (maxlen && mem_read(s->base.vm->mem, buf, data, maxlen) < 0)
            return fatal(s, STS_HSE, "a TD buffer outside guest RAM", buf);
        r = usb_dev_packet(d, pid, ep, data, maxlen, &actual);
        actual = maxlen;
    } else if (d) {
        r = usb_dev_packet(d, pid, ep, data, maxlen, &actual);
        if (r == USB_ACK && actual > maxlen)
            r = USB_BABBLE;
        if (r == USB_ACK && actual && mem_write(s->base.vm->mem, buf, data, actual) < 0)
            return fatal(s, STS_HSE, "a TD buffer outside guest RAM", buf);
    }
    uint32_t old = ctrl;
    enum td_res res = TD_STOP;
    ctrl &= ~TD_STATUS;
    switch (r) {
    case USB_ACK:
        ctrl = (ctrl & ~TD_ACTLEN) | ((uint32_t)(actual - 1) & TD_ACTLEN);
        if (ctrl & TD_IOC)
            s->sts2 |= ST2_IOC;
        if (pid == USB_PID_IN && actual < maxlen && (ctrl & TD_SPD) && in_queue)
            s->sts2 |= ST2_SPD; /* the queue stops here; the driver picks it up */
        else
            res = TD_DONE;
        break;
    case USB_NAK:
        ctrl = old | TD_NAK;
        s->naks++;
        if (ctrl == old)
            return TD_NAKED;
        res = TD_NAKED;
        break;
    case USB_NODEV: { /* no handshake: a time-out, counted down by the error counter */
        unsigned cerr = (old >> TD_CERR_SHIFT) & 3;
        ctrl = old | TD_CRC;
        if (cerr) {
            cerr--;
            ctrl = (ctrl & ~(3u << TD_CERR_SHIFT)) | (cerr << TD_CERR_SHIFT);
            if (!cerr) {
                ctrl = (ctrl & ~TD_ACTIVE) | TD_STALLED | TD_ACTLEN;
                s->sts |= STS_ERRINT;
                if (ctrl & TD_IOC)
                    s->sts2 |= ST2_IOC;
            }
        }
        if (ctrl == old)
            return TD_STOP;
        break;
    }
    case USB_BABBLE:
        ctrl |= TD_BABBLE;
        /* fall through */
    case USB_STALL:
    default:
        ctrl |= TD_STALLED | TD_ACTLEN;
        s->sts |= STS_ERRINT;
        if (ctrl & TD_IOC)
            s->sts2 |= ST2_IOC;
        break;
    }
    if (r != USB_NAK && r != USB_NODEV)
        ctrl &= ~TD_ACTIVE;
    if (write_ctrl(s, addr, ctrl) < 0)
        return fatal(s, STS_HSE, "a TD outside guest RAM", addr);
    s->progress++;
    return res;
}

static int read_words(struct uhci *s, uint32_t addr, uint32_t *w, unsigned n)
{
    return mem_read(s->base.vm->mem, addr, w, n * 4u);
}

/* Run frame FRNUM: its frame list entry and everything it links to, within the budget. */
static void run_frame(struct uhci *s)
{
    uint32_t ent = (s->flbase & ~0xfffu) + (s->frnum & 0x3ffu) * 4u, link;
    unsigned budget = UHCI_MAX_LINKS;
    if (read_words(s, ent, &link, 1) < 0) {
        fatal(s, STS_HSE, "the frame list outside guest RAM", ent);
        return;
    }
    s->frames++;
    while (!(link & LINK_T)) {
        uint32_t a = link & LINK_ADDR, w[4];
        s->links++;
        if (!budget--) {
            s->overruns++;
            log_guest(&s->rl, "uhci", "frame %u: more than %u links (a loop?): the rest of the frame "
                      "is skipped", s->frnum, UHCI_MAX_LINKS);
            return;
        }
        if (!(link & LINK_Q)) { /* a TD on its own: run it, go on sideways */
            if (read_words(s, a, w, 4) < 0) {
                fatal(s, STS_HSE, "a TD outside guest RAM", a);
                return;
            }
            if (exec_td(s, a, w, 0) == TD_FATAL)
                return;
            link = w[0];
            continue;
        }
        uint32_t qh[2];
        if (read_words(s, a, qh, 2) < 0) {
            fatal(s, STS_HSE, "a QH outside guest RAM", a);
            return;
        }
        /* A QH this pass met before with nothing done since: what follows was walked already
         * with the same outcome (in this frame: a loop, as Linux's full-speed bandwidth
         * reclamation makes; in an earlier frame of the pass: the part of the schedule every
         * frame shares), so the frame ends here. */
        unsigned k;
        for (k = 0; k < s->n_seen && s->seen[k].addr != a; k++)
            ;
        if (k < s->n_seen) {
            if (s->seen[k].progress == s->progress)
                return;
            s->seen[k].progress = s->progress;
        } else if (s->n_seen < UHCI_SEEN) {
            s->seen[s->n_seen].addr = a;
            s->seen[s->n_seen].progress = s->progress;
            s->n_seen++;
        }
        uint32_t elem = qh[1];
        while (!(elem & LINK_T) && budget) {
            budget--;
            if (elem & LINK_Q) {
                log_guest(&s->rl, "uhci", "frame %u: QH %#x holds a QH: nested queues are not "
                          "served", s->frnum, a);
                break;
            }
            uint32_t ta = elem & LINK_ADDR;
            if (read_words(s, ta, w, 4) < 0) {
                fatal(s, STS_HSE, "a TD outside guest RAM", ta);
                return;
            }
            enum td_res r = exec_td(s, ta, w, 1);
            if (r == TD_FATAL)
                return;
            if (r != TD_DONE)
                break;
            elem = w[0]; /* the queue advances */
            if (mem_write(s->base.vm->mem, a + 4, &elem, 4) < 0) {
                fatal(s, STS_HSE, "a QH outside guest RAM", a);
                return;
            }
            if (!(elem & LINK_VF))
                break;
        }
        link = qh[0];
    }
}

/* Run the frames that are due by NOW (at most UHCI_MAX_CATCHUP; older ones are skipped). */
static void catch_up(struct uhci *s, uint64_t now)
{
    if (!running(s) || s->in_pass || now < s->frame_time)
        return;
    s->in_pass = 1;
    s->passes++;
    s->n_seen = 0;
    uint64_t due = (now - s->frame_time) / FRAME_NS + 1;
    if (due > UHCI_MAX_CATCHUP) {
        uint64_t skip = due - UHCI_MAX_CATCHUP;
        s->frnum = (uint16_t)((s->frnum + skip) & 0x7ff);
        s->frame_time += skip * FRAME_NS;
        s->skipped += skip;
        due = UHCI_MAX_CATCHUP;
    }
    for (uint64_t i = 0; i < due && running(s); i++) {
        run_frame(s);
        s->frnum = (s->frnum + 1) & 0x7ff;
        s->frame_time += FRAME_NS;
        if (s->sts2)
            s->sts |= STS_USBINT; /* at the end of the frame */
    }
    update_irq(s);
    s->in_pass = 0;
}

static void tick(void *opaque)
{
    struct uhci *s = opaque;
    uint64_t now = now_ns(), before = s->progress;
    if (s->parked) { /* the safety pass: the guest read no register for UHCI_PARK_MS */
        s->parked = 0;
        s->safety_passes++;
    }
    catch_up(s, now);
    if (s->progress != before) {
        s->poll_ms = 1;
    } else if (s->poll_ms < UHCI_IDLE_MS) {
        s->poll_ms = MIN(s->poll_ms * 2, (unsigned)UHCI_IDLE_MS);
    } else if (s->last_read && now - s->last_read < (uint64_t)UHCI_PARK_MS * FRAME_NS / 2) {
        s->parked = 1; /* the guest polls the registers: its reads run the frames from now */
        s->parks++;
    }
    arm(s);
}

/* A function has news (a tablet report): back to the 1 ms pace; a suspended function the host
 * let wake it signals resume (port RD, USBSTS RD, forced global resume if globally suspended). */
static void wakeup(void *opaque)
{
    struct uhci *s = opaque;
    for (unsigned i = 0; i < UHCI_PORTS; i++) {
        struct usb_dev *d = s->dev[i];
        uint16_t p = s->portsc[i];
        if (!d || !d->st.remote_wakeup || !(p & PORT_PED) || (p & PORT_RD) ||
            !((p & PORT_SUSP) || (s->cmd & CMD_EGSM)))
            continue;
        s->portsc[i] |= PORT_RD;
        if (s->cmd & CMD_EGSM)
            s->cmd |= CMD_FGR;
        s->sts |= STS_RD;
        update_irq(s);
    }
    if ((s->poll_ms > 1 || s->parked) && running(s))
        fast(s);
}

/* ---- ports and reset ---- */

static void port_attach(struct uhci *s, unsigned i)
{
    s->portsc[i] = s->dev[i] ? (PORT_CCS | PORT_CSC | PORT_DPLUS) : 0;
    if (s->dev[i])
        usb_dev_reset(s->dev[i]);
}

static void hc_reset(struct uhci *s)
{
    s->cmd = 0;
    s->sts = STS_HCH;
    s->sts2 = 0;
    s->intr = 0;
    s->frnum = 0;
    s->flbase = 0;
    s->sofmod = 0x40;
    s->poll_ms = 1;
    s->parked = 0;
    for (unsigned i = 0; i < UHCI_PORTS; i++)
        port_attach(s, i);
    arm(s);
    update_irq(s);
}

static void write_cmd(struct uhci *s, uint16_t val)
{
    uint16_t old = s->cmd;
    int was = running(s);
    if (val & CMD_HCRESET) {
        hc_reset(s); /* the bit clears itself when the reset is done: at once */
        return;
    }
    if ((val & CMD_GRESET) && !(old & CMD_GRESET))
        for (unsigned i = 0; i < UHCI_PORTS; i++)
            port_attach(s, i);
    s->cmd = val & CMD_MASK;
    if (s->cmd & CMD_RS)
        s->sts &= (uint16_t)~STS_HCH;
    else
        s->sts |= STS_HCH;
    if (running(s) && !was) {
        s->frame_time = now_ns(); /* the frame at FRNUM starts now */
        catch_up(s, s->frame_time);
    }
    s->poll_ms = 1;
    s->parked = 0;
    arm(s);
    update_irq(s);
}

static void write_port(struct uhci *s, unsigned i, uint16_t val)
{
    uint16_t p = s->portsc[i];
    if ((val & PORT_PR) && !(p & PORT_PR) && s->dev[i]) {
        usb_dev_reset(s->dev[i]); /* the bus reset; the port is disabled meanwhile */
        val &= (uint16_t)~PORT_PED;
    }
    p = (uint16_t)((p & ~PORT_RW) | (val & PORT_RW));
    p &= (uint16_t)~(val & PORT_W1C);
    if (!(p & PORT_CCS))
        p &= (uint16_t)~PORT_PED;
    s->portsc[i] = p;
}

/* ---- registers ---- */

static uint16_t read_word(struct uhci *s, unsigned off)
{
    switch (off) {
    case USBCMD: return s->cmd;
    case USBSTS: return s->sts;
    case USBINTR: return s->intr;
    case FRNUM: {
        uint64_t before = s->progress;
        catch_up(s, now_ns());
        if (s->progress != before)
            fast(s);
        return s->frnum;
    }
    case FLBASEADD: return (uint16_t)s->flbase;
    case FLBASEADD + 2: return (uint16_t)(s->flbase >> 16);
    case SOFMOD: return s->sofmod;
    case PORTSC1:
    case PORTSC1 + 2:
        return s->portsc[(off - PORTSC1) / 2] | PORT_ONE;
    case 0x0e: return 0;
    default: return 0xff7f; /* no port here: bit 7 clear ends a driver's port count */
    }
}

static void write_word(struct uhci *s, unsigned off, uint16_t val)
{
    switch (off) {
    case USBCMD:
        write_cmd(s, val);
        break;
    case USBSTS:
        s->sts &= (uint16_t)~(val & (STS_MASK & ~STS_HCH));
        if (!(s->sts & STS_USBINT))
            s->sts2 = 0;
        update_irq(s);
        break;
    case USBINTR:
        s->intr = val & 0xf;
        update_irq(s);
        break;
    case FRNUM:
        if (!running(s))
            s->frnum = val & 0x7ff;
        break;
    case FLBASEADD:
        s->flbase = (s->flbase & 0xffff0000u) | (val & 0xf000u);
        break;
    case FLBASEADD + 2:
        s->flbase = (s->flbase & 0xffffu) | ((uint32_t)val << 16);
        break;
    case SOFMOD:
        s->sofmod = val & 0x7f;
        break;
    case PORTSC1:
    case PORTSC1 + 2:
        write_port(s, (off - PORTSC1) / 2, val);
        break;
    default:
        break;
    }
}

/* bits of a word a byte write must not clear by writing the other byte back */
static uint16_t w1c_bits(unsigned off)
{
    if (off == USBSTS)
        return STS_MASK;
    if (off == PORTSC1 || off == PORTSC1 + 2)
        return PORT_W1C;
    return 0;
}

static uint64_t uhci_read(void *opaque, uint64_t off, unsigned size)
{
    struct uhci *s = opaque;
    uint64_t v = 0;
    s->last_read = now_ns();
    /* the safety pass moves on while the guest reads; at most one timer call per half period */
    if (s->parked && s->last_read + (uint64_t)UHCI_PARK_MS * FRAME_NS / 2 > s->safety_due)
        arm(s);
    for (unsigned i = 0; i < size; i += 2) {
        unsigned o = (unsigned)(off + i) & ~1u;
        v |= (uint64_t)read_word(s, o) << (8 * i);
    }
    if (off & 1)
        v >>= 8;
    return v & ones(size);
}

static void uhci_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct uhci *s = opaque;
    if (s->parked || s->poll_ms > 1)
        fast(s); /* the guest is at work: frames at the 1 ms pace again */
    if (size == 1) {
        unsigned o = (unsigned)off & ~1u;
        if (o == SOFMOD && !(off & 1)) {
            s->sofmod = val & 0x7f;
            return;
        }
        uint16_t cur = o == FRNUM ? s->frnum : read_word(s, o);
        cur &= (uint16_t)~w1c_bits(o);
        cur = (off & 1) ? (uint16_t)((cur & 0x00ff) | (val << 8)) : (uint16_t)((cur & 0xff00) | (val & 0xff));
        write_word(s, o, cur);
        return;
    }
    if (off & 1) {
        for (unsigned i = 0; i < size; i++)
            uhci_write(opaque, off + i, 1, (val >> (8 * i)) & 0xff);
        return;
    }
    for (unsigned i = 0; i < size; i += 2)
        write_word(s, (unsigned)off + i, (uint16_t)(val >> (8 * i)));
}

static const struct io_ops uhci_ops = { .read = uhci_read, .write = uhci_write };

/* ---- state ---- */

static int uhci_save(void *state, struct snap_writer *w)
{
    struct uhci *s = state;
    catch_up(s, now_ns());
    pci_dev_save(s->base.pci, w);
    snap_put_u16(w, "cmd", s->cmd);
    snap_put_u16(w, "sts", s->sts);
    snap_put_u8(w, "sts2", s->sts2);
    snap_put_u16(w, "intr", s->intr);
    snap_put_u16(w, "frnum", s->frnum);
    snap_put_u32(w, "flbase", s->flbase);
    snap_put_u8(w, "sofmod", s->sofmod);
    for (unsigned i = 0; i < UHCI_PORTS; i++) {
        char name[8] = "port0";
        name[4] = (char)('0' + i);
        snap_put_enter(w, name);
        snap_put_u16(w, "portsc", s->portsc[i]);
        if (s->dev[i])
            usb_dev_save(s->dev[i], w);
        snap_put_leave(w);
    }
    return 0;
}

static int uhci_load(void *state, struct snap_reader *r, int commit)
{
    struct uhci *s = state;
    struct pci_dev_state pci;
    uint16_t cmd, sts, intr, frnum, portsc[UHCI_PORTS];
    uint8_t sts2, sofmod;
    uint32_t flbase;
    if (pci_dev_load(s->base.pci, r, &pci) < 0 || snap_get_u16_in(r, "cmd", &cmd, 0, CMD_MASK) < 0 ||
        snap_check(r, !(cmd & CMD_HCRESET), NULL, "HCRESET clears itself") < 0 ||
        snap_get_u16_in(r, "sts", &sts, 0, STS_MASK) < 0 ||
        snap_check(r, !(cmd & CMD_RS) == !!(sts & STS_HCH) || (sts & (STS_HSE | STS_HCPE)), NULL,
                   "halted must match run/stop") < 0 ||
        snap_get_u8_in(r, "sts2", &sts2, 0, ST2_IOC | ST2_SPD) < 0 ||
        snap_get_u16_in(r, "intr", &intr, 0, 0xf) < 0 ||
        snap_get_u16_in(r, "frnum", &frnum, 0, 0x7ff) < 0 || snap_get_u32(r, "flbase", &flbase) < 0 ||
        snap_check(r, !(flbase & 0xfff), NULL, "%#x is not 4 KiB aligned", flbase) < 0 ||
        snap_get_u8_in(r, "sofmod", &sofmod, 0, 0x7f) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < UHCI_PORTS; i++) {
        char name[8] = "port0";
        name[4] = (char)('0' + i);
        snap_get_enter(r, name);
        uint16_t allowed = s->dev[i] ? (PORT_CCS | PORT_DPLUS | PORT_RW | PORT_W1C)
                                     : ((PORT_RW & ~PORT_PED) | PORT_W1C);
        if (snap_get_u16(r, "portsc", &portsc[i]) < 0 ||
            snap_check(r, !(portsc[i] & ~allowed), NULL, "%#x: bits this port cannot have", portsc[i]) < 0 ||
            snap_check(r, !s->dev[i] || (portsc[i] & PORT_CCS), NULL, "a device is connected") < 0 ||
            (s->dev[i] && usb_dev_load(s->dev[i], r, commit) < 0))
            return -EINVAL;
        snap_get_leave(r);
    }
    if (!commit)
        return 0;
    pci_dev_commit(s->base.pci, &pci);
    s->cmd = cmd;
    s->sts = sts;
    s->sts2 = sts2;
    s->intr = intr;
    s->frnum = frnum;
    s->flbase = flbase;
    s->sofmod = sofmod;
    memcpy(s->portsc, portsc, sizeof(portsc));
    s->frame_time = now_ns();
    s->poll_ms = 1;
    s->parked = 0;
    arm(s);
    update_irq(s);
    return 0;
}

static void uhci_reset(void *state)
{
    struct uhci *s = state;
    pci_set16(s->base.pci, USBLEGSUP, 0x2000);
    hc_reset(s);
}

/* ---- creation: -usb, -usbdevice tablet, -device piix3-usb-uhci / usb-tablet ---- */

static void uhci_destroy(void *state)
{
    struct uhci *s = state;
    if (!s)
        return;
    log_info("uhci: %llu frames run in %llu passes (%llu skipped), %llu links followed, %llu NAKs, "
             "%llu overlong frames, %llu errors, parked %llu times (%llu safety passes)",
             (unsigned long long)s->frames, (unsigned long long)s->passes,
             (unsigned long long)s->skipped, (unsigned long long)s->links,
             (unsigned long long)s->naks, (unsigned long long)s->overruns,
             (unsigned long long)s->errors, (unsigned long long)s->parks,
             (unsigned long long)s->safety_passes);
    if (s->timer)
        loop_timer_free(s->timer);
    for (unsigned i = 0; i < UHCI_PORTS; i++)
        usb_dev_free(s->dev[i]);
    dev_free(s);
}

/* Plug a tablet into port PORT (0-based; -1: the first free one). */
static int plug_tablet(struct uhci *s, int port, const char *what)
{
    if (port < 0)
        for (port = 0; port < UHCI_PORTS && s->dev[port]; port++)
            ;
    if (port >= UHCI_PORTS || s->dev[port]) {
        log_err("%s: the UHCI's root hub has two ports, and port %d is %s", what, port + 1,
                port >= UHCI_PORTS ? "not there" : "taken");
        return -EINVAL;
    }
    s->dev[port] = hid_tablet_new(s->base.vm);
    if (!s->dev[port])
        return -ENOMEM;
    s->dev[port]->wakeup = wakeup;
    s->dev[port]->wakeup_opaque = s;
    return 0;
}

static int plug_devices(struct uhci *s, struct config *cfg, const struct cfg_opt *ctl)
{
    const char *ctl_id = ctl ? cfg_get(ctl, "id") : NULL;
    struct cfg_opt *o;
    for (unsigned n = 0; (o = cfg_nth(cfg, "-usbdevice", n)); n++) {
        if (strcmp(o->first, "tablet") || o->n_kv)
            continue; /* left unclaimed: the machine refuses it by name */
        int r = plug_tablet(s, -1, "-usbdevice tablet");
        if (r < 0)
            return r;
        o->claimed = 1;
    }
    for (unsigned n = 0; (o = cfg_device(cfg, "usb-tablet", n)); n++) {
        const char *port = cfg_get(o, "port"), *bus = cfg_get(o, "bus");
        int p = -1;
        if (port) {
            if (strlen(port) != 1 || port[0] < '1' || port[0] > '0' + UHCI_PORTS) {
                log_err("-device %s: port=%s: the UHCI's ports are 1 and 2", o->raw, port);
                return -EINVAL;
            }
            p = port[0] - '1';
        }
        size_t idl = ctl_id ? strlen(ctl_id) : 0;
        int own = ctl_id && bus && !strncmp(bus, ctl_id, idl) && !strcmp(bus + idl, ".0");
        if (bus && !own && strcmp(bus, "usb.0") && strcmp(bus, "usb-bus.0")) {
            log_err("-device %s: bus=%s: the one USB bus is %s.0", o->raw, bus,
                    ctl_id ? ctl_id : "usb");
            return -EINVAL;
        }
        int r = plug_tablet(s, p, "-device usb-tablet");
        if (r < 0)
            return r;
        o->claimed = 1;
    }
    return 0;
}

static int uhci_create(struct vm *vm, void **state)
{
    struct config *cfg = vm->cfg;
    struct cfg_opt *ctl = cfg ? cfg_device(cfg, "piix3-usb-uhci", 0) : NULL;
    if (!cfg || (!cfg->usb && !ctl && !cfg_nth(cfg, "-usbdevice", 0))) {
        *state = NULL;
        return 0;
    }
    if (ctl)
        ctl->claimed = 1;
    struct uhci *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    struct pci_dev *d = pci_dev_new(vm->pci, PCI_DEVFN(1, 2), "uhci", 0x8086, 0x7020, 0x0c0300,
                                    0x01, NULL, s);
    if (!d) {
        dev_free(s);
        return -ENOMEM;
    }
    pci_set16(d, PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    pci_set16(d, PCI_SUBSYSTEM_ID, 0x1100);
    pci_set16(d, PCI_STATUS, 0x0280); /* medium DEVSEL, fast back-to-back */
    pci_set8(d, PCI_INTERRUPT_PIN, 4); /* INTD: PIRQD on the PIIX3 */
    pci_set8(d, SBRN, 0x10);           /* USB 1.0 */
    pci_set16(d, USBLEGSUP, 0x2000);   /* USB interrupt routed to PIRQD */
    pci_set_wmask(d, USBLEGSUP, 2, 0x20ff);
    d->w1cmask[USBLEGSUP + 1] = 0x8f;
    int r = pci_bar_init(d, 4, PCI_BAR_IO, UHCI_IO_SIZE, &uhci_ops, s);
    if (r < 0) {
        pci_dev_del(d);
        dev_free(s);
        return r;
    }
    r = dev_add_pci(s, d);
    if (r == 0 && vm->loop && !(s->timer = loop_timer_new(vm->loop, tick, s)))
        r = -ENOMEM;
    if (r == 0)
        r = plug_devices(s, cfg, ctl);
    if (r == 0)
        hc_reset(s);
    return dev_created(state, s, r, uhci_destroy);
}

DEVICE(dev_uhci, "uhci", 1, uhci_create, uhci_destroy, uhci_save, uhci_load,
       .reset = uhci_reset);

/* 16550A UART, one per -serial option: COM1 0x3f8 IRQ 4, COM2 0x2f8 IRQ 3, COM3 0x3e8 IRQ 4,
 * COM4 0x2e8 IRQ 3.
 * Spec: National Semiconductor PC16550D datasheet (June 1995), sections 8.1-8.10 (registers,
 * FIFO, interrupt priorities).
 * Emulated: the eleven registers with DLAB; the 16-byte receive FIFO (1 byte in 16450 mode)
 * with its trigger levels; the interrupts in priority order (line status, received data /
 * character timeout, THR empty, modem status) on the ISA line as a level; loopback mode with
 * MCR looped into MSR and transmitted bytes into the receiver; the scratch register.
 * Transmission is instant: a byte written to THR goes to the backend at once, so THRE and
 * TEMT always read 1 and a driver's first status poll already sees the line free (no round
 * trip wasted), and THRE interrupts come back right after each write.
 * A character that arrives below the trigger level is reported at once as a character
 * timeout (no timer runs: an idle guest costs nothing).
 * Left out: baud rate timing, parity / framing / break errors (the backends carry bytes, not
 * signals), the transmit FIFO's depth (never needed), DMA mode signalling. Like QEMU, OUT2
 * does not gate the interrupt line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dm/chardev.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#define UART_MAX 4
static const uint16_t uart_base[UART_MAX] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const uint8_t uart_irq[UART_MAX] = { 4, 3, 4, 3 };

/* register offsets */
#define RBR 0 /* read, DLAB 0 */
#define THR 0 /* write, DLAB 0 */
#define IER 1
#define IIR 2 /* read */
#define FCR 2 /* write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define FIFO_SIZE 16

struct uart {
    struct dev_base base; /* its eight ports */
    struct chardev *chr;
    char name[24];
    unsigned irq;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr, dll, dlm;
    uint8_t rx[FIFO_SIZE];
    unsigned rx_head, rx_count;
    int thr_pending; /* THR-empty interrupt waiting to be seen */
    uint64_t tx_bytes, rx_bytes;
    struct ratelimit rl;
};

struct uarts {
    struct uart *u[UART_MAX];
};

static unsigned rx_capacity(const struct uart *u)
{
    return (u->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
    static const unsigned level[4] = { 1, 4, 8, 14 };
    return (u->fcr & FCR_ENABLE) ? level[u->fcr >> 6] : 1;
}

/* The highest-priority pending interrupt, as IIR's identification bits. */
static uint8_t pending(const struct uart *u)
{
    if ((u->ier & IER_RLSI) && (u->lsr & (LSR_OE | LSR_BI)))
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
    if ((u->ier & IER_THRI) && u->thr_pending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && (u->msr & 0x0f))
        return IIR_MSI;
    return IIR_NONE;
}

static void update_irq(struct uart *u)
{
    irq_isa_set(&u->base.vm->irq, u->irq, pending(u) != IIR_NONE);
}

static uint8_t modem_status(const struct uart *u)
{
    if (u->mcr & MCR_LOOP) {
        uint8_t m = u->msr & 0x0f;
        if (u->mcr & MCR_RTS) m |= MSR_CTS;
        if (u->mcr & MCR_DTR) m |= MSR_DSR;
        if (u->mcr & MCR_OUT1) m |= MSR_RI;
        if (u->mcr & MCR_OUT2) m |= MSR_DCD;
        return m;
    }
    /* a backend is always "connected" */
    return (uint8_t)((u->msr & 0x0f) | MSR_CTS | MSR_DSR | MSR_DCD);
}

static void rx_push(struct uart *u, uint8_t b)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % FIFO_SIZE] = b;
    u->rx_count++;
    u->rx_bytes++;
}

static size_t uart_can_receive(void *opaque)
{
    struct uart *u = opaque;
    if (u->mcr & MCR_LOOP)
        return 0; /* in loopback the line is disconnected from the outside */
    return rx_capacity(u) - u->rx_count;
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t n)
{
    struct uart *u = opaque;
    for (size_t i = 0; i < n; i++)
        rx_push(u, buf[i]);
    update_irq(u);
}

static const struct chardev_ops uart_chr_ops = { .can_receive = uart_can_receive,
                                                  .receive = uart_receive };

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
    struct uart *u = opaque;
    uint8_t v = 0xff;

    if (size != 1) {
        log_guest(&u->rl, u->name, "%u-byte read of register %u", size, (unsigned)off);
        return ones(size);
    }
    switch (off) {
    case RBR:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
            break;
        }
        v = 0;
        if (u->rx_count) {
            v = u->rx[u->rx_head];
            u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
            u->rx_count--;
            if (u->chr)
                chardev_input_ready(u->chr);
        }
        update_irq(u);
        break;
    case IER:
        v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case IIR: {
        uint8_t id = pending(u);
        v = (uint8_t)(id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0));
        if (id == IIR_THRI) {
            u->thr_pending = 0; /* reading IIR acknowledges THR empty */
            update_irq(u);
        }
        break;
    }
    case LCR:
        v = u->lcr;
        break;
    case MCR:
        v = u->mcr;
        break;
    case LSR:
        v = (uint8_t)(u->lsr | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0));
        u->lsr &= (uint8_t)~(LSR_OE | LSR_BI); /* error bits clear on read */
        update_irq(u);
        break;
    case MSR:
        v = modem_status(u);
        u->msr &= 0xf0; /* delta bits clear on read */
        update_irq(u);
        break;
    case SCR:
        v = u->scr;
        break;
    }
    return v;
}

static void transmit(struct uart *u, uint8_t b)
{
    u->tx_bytes++;
    if (u->mcr & MCR_LOOP)
        rx_push(u, b);
    else if (u->chr)
        chardev_write(u->chr, &b, 1);
}

static void uart_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct uart *u = opaque;
    uint8_t v = (uint8_t)val;

    if (size != 1) {
        log_guest(&u->rl, u->name, "%u-byte write of register %u", size, (unsigned)off);
        return;
    }
    switch (off) {
    case THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            break;
        }
        /* THR empties at once: the line drops (if THRE was the cause) and rises again, which
         * gives an edge-triggered PIC the new interrupt a real UART would raise. */
        u->thr_pending = 0;
        update_irq(u);
        transmit(u, v);
        u->thr_pending = 1;
        update_irq(u);
        break;
    case IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            break;
        }
        /* enabling THRE interrupts with THR empty raises one at once (16550 behaviour) */
        if ((v & IER_THRI) && !(u->ier & IER_THRI))
            u->thr_pending = 1;
        u->ier = v & 0x0f;
        update_irq(u);
        break;
    case FCR:
        if ((v ^ u->fcr) & FCR_ENABLE)
            u->rx_count = u->rx_head = 0; /* switching FIFO mode clears the FIFOs */
        if (v & FCR_CLEAR_RX)
            u->rx_count = u->rx_head = 0;
        u->fcr = v & 0xc1;
        if (u->chr)
            chardev_input_ready(u->chr);
        update_irq(u);
        break;
    case LCR:
        u->lcr = v;
        break;
    case MCR: {
        uint8_t old = modem_status(u);
        u->mcr = v & 0x1f;
        uint8_t now = modem_status(u);
        /* delta bits for the looped-back modem lines */
        if ((old ^ now) & MSR_CTS) u->msr |= MSR_DCTS;
        if ((old ^ now) & MSR_DSR) u->msr |= MSR_DDSR;
        if ((old & MSR_RI) && !(now & MSR_RI)) u->msr |= MSR_TERI;
        if ((old ^ now) & MSR_DCD) u->msr |= MSR_DDCD;
        if (u->chr && !(u->mcr & MCR_LOOP))
            chardev_input_ready(u->chr);
        update_irq(u);
        break;
    }
    case LSR:
    case MSR:
        break; /* read-only (factory test writes) */
    case SCR:
        u->scr = v;
        break;
    }
}

static const struct io_ops uart_ops = { .read = uart_read, .write = uart_write };

/* ---- state: every register, the receive FIFO, a THR-empty interrupt not yet seen. The
 * bytes waiting in the backend are the host's, not state. ---- */

static const struct snap_reg uart_regs[] = {
    SNAP_REG(struct uart, ier, 0, 0x0f),
    SNAP_REG(struct uart, lcr, 0, 0xff),
    SNAP_REG(struct uart, mcr, 0, 0x1f),
    SNAP_REG(struct uart, lsr, 0, LSR_OE | LSR_BI), /* the error bits; the rest is computed */
    SNAP_REG(struct uart, msr, 0, 0x0f),            /* the delta bits; the lines follow MCR */
    SNAP_REG(struct uart, scr, 0, 0xff),
    SNAP_REG(struct uart, fcr, 0, 0xc1),
    SNAP_REG(struct uart, dll, 0, 0xff),
    SNAP_REG(struct uart, dlm, 0, 0xff),
};

static void uart_save(const struct uart *u, struct snap_writer *w)
{
    uint8_t rx[FIFO_SIZE];
    for (unsigned i = 0; i < u->rx_count; i++)
        rx[i] = u->rx[(u->rx_head + i) % FIFO_SIZE];
    snap_put_enter(w, u->name);
    snap_put_regs(w, u, uart_regs, ARRAY_SIZE(uart_regs));
    snap_put_u8(w, "rx_count", (uint8_t)u->rx_count);
    snap_put_bytes(w, "rx", rx, u->rx_count);
    snap_put_bool(w, "thr_pending", u->thr_pending);
    snap_put_leave(w);
}

/* Read one UART's fields into T (a copy of its state). */
static int uart_load(struct uart *t, struct snap_reader *r)
{
    uint8_t n;
    snap_get_enter(r, t->name);
    if (snap_get_regs(r, t, uart_regs, ARRAY_SIZE(uart_regs)) < 0 ||
        snap_check(r, !(t->lsr & ~(LSR_OE | LSR_BI)), "lsr",
                   "%#x: only the error bits OE and BI are held", t->lsr) < 0 ||
        snap_check(r, !(t->fcr & ~0xc1), "fcr", "%#x: only enable and trigger bits are held",
                   t->fcr) < 0 ||
        snap_get_u8_in(r, "rx_count", &n, 0, (uint8_t)rx_capacity(t)) < 0 ||
        snap_get_bytes(r, "rx", t->rx, n) < 0 || snap_get_bool(r, "thr_pending", &t->thr_pending) < 0)
        return -EINVAL;
    snap_get_leave(r);
    t->rx_head = 0;
    t->rx_count = n;
    return 0;
}

static int uarts_save(void *state, struct snap_writer *w)
{
    struct uarts *s = state;
    uint8_t ports = 0;
    for (unsigned i = 0; i < UART_MAX; i++)
        ports |= (uint8_t)(s->u[i] ? 1u << i : 0);
    snap_put_u8(w, "ports", ports);
    for (unsigned i = 0; i < UART_MAX; i++)
        if (s->u[i])
            uart_save(s->u[i], w);
    return 0;
}

static int uarts_load(void *state, struct snap_reader *r, int commit)
{
    struct uarts *s = state;
    struct uart t[UART_MAX];
    uint8_t ports, here = 0;
    for (unsigned i = 0; i < UART_MAX; i++)
        here |= (uint8_t)(s->u[i] ? 1u << i : 0);
    if (snap_get_u8(r, "ports", &ports) < 0 ||
        snap_check(r, ports == here, NULL, "COM ports %#x in the stream, %#x here", ports, here) < 0)
        return -EINVAL;
    for (unsigned i = 0; i < UART_MAX; i++) {
        if (!s->u[i])
            continue;
        t[i] = *s->u[i];
        if (uart_load(&t[i], r) < 0)
            return -EINVAL;
    }
    for (unsigned i = 0; commit && i < UART_MAX; i++) {
        struct uart *u = s->u[i];
        if (!u)
            continue;
        *u = t[i];
        update_irq(u);
        if (u->chr)
            chardev_input_ready(u->chr);
    }
    return 0;
}

static void uart_free(struct vm *vm, struct uart *u)
{
    if (!u)
        return;
    if (u->chr) {
        if (chardev_dropped(u->chr))
            log_info("%s: %llu bytes of output dropped (nobody read the backend)",
                     chardev_label(u->chr), (unsigned long long)chardev_dropped(u->chr));
        vm_del_chardev(vm, u->chr);
        chardev_close(u->chr);
    }
    irq_isa_set(&vm->irq, u->irq, 0);
    dev_free(u);
}

static void uarts_destroy(void *state)
{
    struct uarts *s = state;
    if (!s)
        return;
    for (unsigned i = 0; i < UART_MAX; i++)
        if (s->u[i])
            uart_free(s->u[i]->base.vm, s->u[i]);
    free(s);
}

static int uarts_create(struct vm *vm, void **state)
{
    struct uarts *s = calloc(1, sizeof(*s));
    char err[256];
    int r = 0;

    if (!s)
        return -ENOMEM;
    for (unsigned i = 0; vm->cfg && i < vm->cfg->n_serial && r == 0; i++) {
        const char *spec = vm->cfg->serial[i];
        if (!strcmp(spec, "none"))
            continue;
        struct uart *u = dev_new(vm, sizeof(*u));
        if (!u) {
            r = -ENOMEM;
            break;
        }
        s->u[i] = u;
        u->irq = uart_irq[i];
        snprintf(u->name, sizeof(u->name), "serial%u", i);
        u->lcr = 0x03;
        u->chr = chardev_open(vm->loop, spec, u->name, err, sizeof(err));
        if (!u->chr) {
            log_err("%s", err);
            r = -EINVAL;
            break;
        }
        r = vm_add_chardev(vm, u->chr);
        if (r == 0) {
            chardev_set_frontend(u->chr, &uart_chr_ops, u);
            r = dev_add_pio(u, u->name, uart_base[i], 8, &uart_ops, u);
        }
    }
    return dev_created(state, s, r, uarts_destroy);
}

const struct device dev_uart = {
    .name = "uart",
    .create = uarts_create,
    .destroy = uarts_destroy,
    .version = 1,
    .save = uarts_save,
    .load = uarts_load,
};

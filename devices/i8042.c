/* Intel 8042 keyboard controller with a PS/2 keyboard and mouse behind it (no key or motion
 * source yet: the devices answer commands).
 * Spec: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device
 * Controller" (status, command byte, controller commands 0x20-0xff) and "Keyboard" /
 * "Pointing Device" (device commands and replies).
 * Emulated: status register, command byte, the controller commands firmware and drivers use
 * (read/write command byte, self tests 0xaa/0xab/0xa9, enable/disable keyboard and aux,
 * read/write output port, write keyboard/aux output buffer 0xd2/0xd3, write to aux 0xd4,
 * pulse output lines 0xf0-0xff), the keyboard commands (reset, identify, LEDs, scan code set,
 * typematic, enable/disable, defaults, echo) and the mouse commands (reset, identify, rates,
 * resolution, scaling, status, stream/remote mode). Replies wait in a queue; each reaches
 * the output buffer as soon as the previous one is read, raising IRQ 1 or 12 when the command
 * byte enables it, so a driver's first poll of the status register already sees it.
 * The reset line: command 0xfe (pulse bit 0) or an output-port write with bit 0 clear asks
 * Xen to reboot the domain. A20 is always on under Xen (the output port's bit 1 is stored).
 * System Control Port A (0x92) is left unclaimed on purpose: A20 cannot be off under Xen,
 * SeaBIOS reads it on every switch between 16 and 32 bits (about 300 round trips per boot,
 * measured), and an unclaimed port reads 0xff, which says "A20 on" and makes SeaBIOS write
 * nothing.
 * Left out: scan code translation (no keys arrive yet), the password and test-input
 * commands, the keyboard's scan code sets beyond reporting set 2. */
#include <errno.h>
#include <string.h>
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"

#define DATA 0x60
#define CMD 0x64 /* status on read */

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08   /* last write was to the command port */
#define ST_UNLOCKED 0x10
#define ST_AUXB 0x20

#define CCB_KBD_INT 0x01
#define CCB_AUX_INT 0x02
#define CCB_SYS 0x04
#define CCB_KBD_DISABLE 0x10
#define CCB_AUX_DISABLE 0x20
#define CCB_XLATE 0x40

#define ACK 0xfa
#define QLEN 64

struct i8042 {
    struct dev_base base;    /* the data and command ports */
    uint8_t status, ccb, outport;
    uint8_t obuf;            /* the output buffer (valid when ST_OBF) */
    int obuf_aux;
    struct { uint8_t b; uint8_t aux; } q[QLEN];
    unsigned q_head, q_len;
    uint8_t pending_cmd;     /* controller command waiting for its data byte */
    uint8_t kbd_cmd;         /* keyboard command waiting for its parameter */
    uint8_t aux_cmd;         /* mouse command waiting for its parameter */
    int kbd_enabled, aux_enabled;
    uint8_t aux_rate, aux_res, aux_scaling, aux_stream;
    struct ratelimit rl;
};

static void update_irq(struct i8042 *s)
{
    int kbd = 0, aux = 0;
    if (s->status & ST_OBF) {
        if (s->obuf_aux)
            aux = !!(s->ccb & CCB_AUX_INT);
        else
            kbd = !!(s->ccb & CCB_KBD_INT);
    }
    irq_isa_set(&s->base.vm->irq, 1, kbd);
    irq_isa_set(&s->base.vm->irq, 12, aux);
}

/* Move the next queued byte into the empty output buffer. */
static void refill(struct i8042 *s)
{
    if (!(s->status & ST_OBF) && s->q_len) {
        s->obuf = s->q[s->q_head].b;
        s->obuf_aux = s->q[s->q_head].aux;
        s->q_head = (s->q_head + 1) % QLEN;
        s->q_len--;
        s->status |= ST_OBF;
        if (s->obuf_aux)
            s->status |= ST_AUXB;
        else
            s->status &= (uint8_t)~ST_AUXB;
    }
    update_irq(s);
}

static void queue(struct i8042 *s, uint8_t b, int aux)
{
    if (s->q_len == QLEN) {
        log_guest(&s->rl, "i8042", "reply queue full, byte %#x dropped", b);
        return;
    }
    s->q[(s->q_head + s->q_len) % QLEN].b = b;
    s->q[(s->q_head + s->q_len) % QLEN].aux = (uint8_t)aux;
    s->q_len++;
}

static void reset_line(struct i8042 *s)
{
    vm_shutdown(s->base.vm, HV_REBOOT);
}

/* ---- the keyboard ---- */

static void kbd_write(struct i8042 *s, uint8_t v)
{
    if (s->kbd_cmd) {
        uint8_t c = s->kbd_cmd;
        s->kbd_cmd = 0;
        if (c == 0xf0 && v == 0) {
            queue(s, ACK, 0);
            queue(s, 0x02, 0); /* current scan code set: 2 */
            return;
        }
        queue(s, ACK, 0); /* LEDs, scan code set, typematic: parameter taken */
        return;
    }
    switch (v) {
    case 0xed: /* set LEDs */
    case 0xf0: /* scan code set */
    case 0xf3: /* typematic rate */
        s->kbd_cmd = v;
        queue(s, ACK, 0);
        break;
    case 0xee: /* echo */
        queue(s, 0xee, 0);
        break;
    case 0xf2: /* identify: MF2 keyboard */
        queue(s, ACK, 0);
        queue(s, 0xab, 0);
        queue(s, 0x83, 0);
        break;
    case 0xf4:
        s->kbd_enabled = 1;
        queue(s, ACK, 0);
        break;
    case 0xf5:
        s->kbd_enabled = 0;
        queue(s, ACK, 0);
        break;
    case 0xff: /* reset: ack, then self-test passed */
        s->kbd_enabled = 1;
        queue(s, ACK, 0);
        queue(s, 0xaa, 0);
        break;
    default: /* 0xf6 defaults, 0xf7-0xfd set modes, anything else: acknowledged */
        queue(s, ACK, 0);
        break;
    }
}

/* ---- the mouse ---- */

static void aux_write(struct i8042 *s, uint8_t v)
{
    if (s->aux_cmd) {
        uint8_t c = s->aux_cmd;
        s->aux_cmd = 0;
        if (c == 0xf3)
            s->aux_rate = v;
        else if (c == 0xe8)
            s->aux_res = v & 3;
        queue(s, ACK, 1);
        return;
    }
    switch (v) {
    case 0xe6: s->aux_scaling = 1; queue(s, ACK, 1); break;
    case 0xe7: s->aux_scaling = 2; queue(s, ACK, 1); break;
    case 0xe8: /* resolution */
    case 0xf3: /* sample rate */
        s->aux_cmd = v;
        queue(s, ACK, 1);
        break;
    case 0xe9: /* status request */
        queue(s, ACK, 1);
        queue(s, (uint8_t)((s->aux_stream ? 0 : 0x40) | (s->aux_enabled ? 0x20 : 0) |
                           (s->aux_scaling == 2 ? 0x10 : 0)), 1);
        queue(s, s->aux_res, 1);
        queue(s, s->aux_rate, 1);
        break;
    case 0xea: s->aux_stream = 1; queue(s, ACK, 1); break;
    case 0xf0: s->aux_stream = 0; queue(s, ACK, 1); break;
    case 0xeb: /* read data: an empty packet */
        queue(s, ACK, 1);
        queue(s, 0x08, 1);
        queue(s, 0, 1);
        queue(s, 0, 1);
        break;
    case 0xf2: /* identify: standard PS/2 mouse */
        queue(s, ACK, 1);
        queue(s, 0x00, 1);
        break;
    case 0xf4: s->aux_enabled = 1; queue(s, ACK, 1); break;
    case 0xf5: s->aux_enabled = 0; queue(s, ACK, 1); break;
    case 0xf6:
        s->aux_rate = 100;
        s->aux_res = 2;
        s->aux_scaling = 1;
        queue(s, ACK, 1);
        break;
    case 0xff:
        s->aux_enabled = 0;
        s->aux_rate = 100;
        s->aux_res = 2;
        s->aux_scaling = 1;
        s->aux_stream = 1;
        queue(s, ACK, 1);
        queue(s, 0xaa, 1);
        queue(s, 0x00, 1);
        break;
    default:
        queue(s, ACK, 1);
        break;
    }
}

/* ---- the controller ---- */

static void controller_cmd(struct i8042 *s, uint8_t c)
{
    switch (c) {
    case 0x20: /* read command byte */
        queue(s, s->ccb, 0);
        break;
    case 0x60: /* write command byte */
    case 0xd1: /* write output port */
    case 0xd2: /* write keyboard output buffer */
    case 0xd3: /* write aux output buffer */
    case 0xd4: /* write to aux device */
        s->pending_cmd = c;
        break;
    case 0xa7: s->ccb |= CCB_AUX_DISABLE; break;
    case 0xa8: s->ccb &= (uint8_t)~CCB_AUX_DISABLE; break;
    case 0xa9: queue(s, 0x00, 0); break; /* aux interface test: OK */
    case 0xaa:                          /* self test */
        s->status |= ST_SYS;
        queue(s, 0x55, 0);
        break;
    case 0xab: queue(s, 0x00, 0); break; /* keyboard interface test: OK */
    case 0xad: s->ccb |= CCB_KBD_DISABLE; break;
    case 0xae: s->ccb &= (uint8_t)~CCB_KBD_DISABLE; break;
    case 0xc0: queue(s, 0x80, 0); break; /* input port: keyboard not inhibited */
    case 0xd0: queue(s, s->outport, 0); break;
    case 0xe0: queue(s, 0x00, 0); break; /* test inputs */
    default:
        if (c >= 0xf0) {
            /* pulse output port bits whose mask bit is 0; bit 0 is the reset line */
            if (!(c & 1))
                reset_line(s);
        } else {
            log_guest(&s->rl, "i8042", "unknown controller command %#x", c);
        }
        break;
    }
}

static void data_write(struct i8042 *s, uint8_t v)
{
    uint8_t c = s->pending_cmd;
    s->pending_cmd = 0;
    switch (c) {
    case 0x60:
        s->ccb = v;
        if (v & CCB_SYS)
            s->status |= ST_SYS;
        else
            s->status &= (uint8_t)~ST_SYS;
        break;
    case 0xd1:
        s->outport = v;
        if (!(v & 1))
            reset_line(s);
        break;
    case 0xd2:
        queue(s, v, 0);
        break;
    case 0xd3:
        queue(s, v, 1);
        break;
    case 0xd4:
        aux_write(s, v);
        break;
    default:
        kbd_write(s, v);
        break;
    }
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return ones(size);
    uint8_t v = s->obuf;
    s->status &= (uint8_t)~(ST_OBF | ST_AUXB);
    refill(s);
    return v;
}

static void data_port_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return;
    s->status &= (uint8_t)~ST_CMD;
    data_write(s, (uint8_t)val);
    refill(s);
}

static uint64_t status_read(void *opaque, uint64_t off, unsigned size)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return ones(size);
    return s->status;
}

static void cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
    struct i8042 *s = opaque;
    if (size != 1)
        return;
    s->status |= ST_CMD;
    s->pending_cmd = 0;
    controller_cmd(s, (uint8_t)val);
    refill(s);
}

static const struct io_ops data_ops = { .read = data_read, .write = data_port_write };
static const struct io_ops cmd_ops = { .read = status_read, .write = cmd_write };

/* ---- state: the controller, its output buffer and reply queue, both devices' modes ---- */

static const struct snap_reg i8042_regs[] = {
    SNAP_REG(struct i8042, status, 0, 0xff),
    SNAP_REG(struct i8042, ccb, 0, 0xff),
    SNAP_REG(struct i8042, outport, 0, 0xff),
    SNAP_REG(struct i8042, obuf, 0, 0xff),
    SNAP_REG(struct i8042, pending_cmd, 0, 0xff),
    SNAP_REG(struct i8042, kbd_cmd, 0, 0xff),
    SNAP_REG(struct i8042, aux_cmd, 0, 0xff),
    SNAP_REG(struct i8042, aux_rate, 0, 0xff),
    SNAP_REG(struct i8042, aux_res, 0, 3),
    SNAP_REG(struct i8042, aux_scaling, 1, 2),
    SNAP_REG(struct i8042, aux_stream, 0, 1),
};

static int i8042_save(void *state, struct snap_writer *w)
{
    struct i8042 *s = state;
    uint8_t qb[QLEN], qaux[QLEN];
    for (unsigned i = 0; i < s->q_len; i++) {
        qb[i] = s->q[(s->q_head + i) % QLEN].b;
        qaux[i] = s->q[(s->q_head + i) % QLEN].aux;
    }
    snap_put_regs(w, s, i8042_regs, ARRAY_SIZE(i8042_regs));
    snap_put_bool(w, "obuf_aux", s->obuf_aux);
    snap_put_bool(w, "kbd_enabled", s->kbd_enabled);
    snap_put_bool(w, "aux_enabled", s->aux_enabled);
    snap_put_u8(w, "queue_len", (uint8_t)s->q_len);
    snap_put_bytes(w, "queue", qb, s->q_len);
    snap_put_bytes(w, "queue_aux", qaux, s->q_len);
    return 0;
}

static int one_of(uint8_t v, const char *set)
{
    return memchr(set, v, strlen(set) + 1) != NULL; /* the terminating 0 is in the set */
}

static int load_queue(struct i8042 *t, struct snap_reader *r)
{
    uint8_t qb[QLEN], qaux[QLEN], n;
    if (snap_get_u8_in(r, "queue_len", &n, 0, QLEN) < 0 || snap_get_bytes(r, "queue", qb, n) < 0 ||
        snap_get_bytes(r, "queue_aux", qaux, n) < 0)
        return -EINVAL;
    t->q_head = 0;
    t->q_len = n;
    for (unsigned i = 0; i < n; i++) {
        if (qaux[i] > 1)
            return snap_fail(r, NULL, "byte %u is %u, not 0 (keyboard) or 1 (aux)", i, qaux[i]);
        t->q[i].b = qb[i];
        t->q[i].aux = qaux[i];
    }
    return 0;
}

static int i8042_load(void *state, struct snap_reader *r, int commit)
{
    struct i8042 *s = state;
    struct i8042 t = *s;
    const uint8_t st_bits = ST_OBF | ST_SYS | ST_CMD | ST_UNLOCKED | ST_AUXB;

    if (snap_get_regs(r, &t, i8042_regs, ARRAY_SIZE(i8042_regs)) < 0 ||
        snap_get_bool(r, "obuf_aux", &t.obuf_aux) < 0 ||
        snap_get_bool(r, "kbd_enabled", &t.kbd_enabled) < 0 ||
        snap_get_bool(r, "aux_enabled", &t.aux_enabled) < 0 || load_queue(&t, r) < 0 ||
        snap_check(r, !(t.status & ~st_bits) && (t.status & ST_UNLOCKED), "status",
                   "%#x: only bits %#x, and %#x always set", t.status, st_bits, ST_UNLOCKED) < 0 ||
        snap_check(r, !(t.status & ST_AUXB) == !((t.status & ST_OBF) && t.obuf_aux), "status",
                   "AUXB must say whether the full output buffer holds a mouse byte") < 0 ||
        snap_check(r, !t.q_len || (t.status & ST_OBF), "status",
                   "output buffer empty with %u bytes queued", t.q_len) < 0 ||
        snap_check(r, one_of(t.pending_cmd, "\x60\xd1\xd2\xd3\xd4"), "pending_cmd",
                   "%#x is no controller command that takes a data byte", t.pending_cmd) < 0 ||
        snap_check(r, one_of(t.kbd_cmd, "\xed\xf0\xf3"), "kbd_cmd",
                   "%#x is no keyboard command that takes a parameter", t.kbd_cmd) < 0 ||
        snap_check(r, one_of(t.aux_cmd, "\xe8\xf3"), "aux_cmd",
                   "%#x is no mouse command that takes a parameter", t.aux_cmd) < 0)
        return -EINVAL;
    if (commit) {
        *s = t;
        update_irq(s);
    }
    return 0;
}

static void i8042_destroy(void *state)
{
    struct i8042 *s = state;
    if (s) {
        irq_isa_set(&s->base.vm->irq, 1, 0);
        irq_isa_set(&s->base.vm->irq, 12, 0);
    }
    dev_free(s);
}

static int i8042_create(struct vm *vm, void **state)
{
    struct i8042 *s = dev_new(vm, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->status = ST_UNLOCKED;
    s->ccb = CCB_KBD_INT | CCB_AUX_INT | CCB_XLATE;
    s->outport = 0x03; /* reset line high (not resetting), A20 on */
    s->kbd_enabled = 1;
    s->aux_rate = 100;
    s->aux_res = 2;
    s->aux_scaling = 1;
    s->aux_stream = 1;
    int r = dev_add_pio(s, "i8042-data", DATA, 1, &data_ops, s);
    if (r == 0)
        r = dev_add_pio(s, "i8042-cmd", CMD, 1, &cmd_ops, s);
    return dev_created(state, s, r, i8042_destroy);
}

const struct device dev_i8042 = {
    .name = "i8042",
    .create = i8042_create,
    .destroy = i8042_destroy,
    .version = 1,
    .save = i8042_save,
    .load = i8042_load,
};

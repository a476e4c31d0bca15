/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's IDE device: the PIIX3 IDE function (piix.c) with the drives of the command
 * line, as libxl writes it for qemu-xen (-drive file=F,if=ide,index=N,media=disk|cdrom, or
 * -drive if=none,id=ID + -device ide-cd|ide-hd,drive=ID,bus=ide.B,unit=U; dm/config.c finds
 * the four positions), their media opened on dm/block, and the QMP block commands (dm/qmp.h:
 * query-block, eject, blockdev-change-medium, DEVICE_TRAY_MOVED) answered for them. */
#include "devices/ide/media.h"
#include "dm/config.h"
#include "dm/device.h"
#include "dm/log.h"
#include "dm/loop.h"
#include "dm/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the CD-ROMs' media ---- */

static struct ide_drive *find_cd(struct piix_ide *s, const char *id, char *err, size_t errlen)
{
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = piix_ide_drive(s, i);
        if (d->kind != IDE_NONE && id && strcmp(d->id, id) == 0) {
            if (d->kind != IDE_CD) {
                snprintf(err, errlen, "Device '%s' is not removable", id);
                return NULL;
            }
            return d;
        }
    }
    snprintf(err, errlen, "Device '%s' not found", id ? id : "");
    return NULL;
}

int ide_eject(struct piix_ide *s, const char *id, int force, char *err, size_t errlen)
{
    struct ide_drive *d = find_cd(s, id, err, errlen);
    return d ? atapi_eject(d, force, err, errlen) : -ENODEV;
}

int ide_change_medium(struct piix_ide *s, const char *id, struct blk *blk, char *err,
                      size_t errlen)
{
    struct ide_drive *d = find_cd(s, id, err, errlen);
    if (!d) {
        blk_close(blk);
        return -ENODEV;
    }
    return atapi_change_medium(d, blk, err, errlen);
}

void ide_set_tray_cb(struct piix_ide *s, ide_tray_fn *fn, void *opaque)
{
    for (unsigned i = 0; i < 4; i++) {
        struct ide_drive *d = piix_ide_drive(s, i);
        d->tray_fn = fn;
        d->tray_opaque = opaque;
    }
}

/* ---- the drives from the command line ---- */

/* What -drive may say: libxl's keys, and readonly / id / aio. */
static const char *const drive_keys[] = { "file", "if", "index", "media", "format", "cache",
                                          "readonly", "id", "aio", "werror", "rerror" };

/* The default policy for writes (WRITE) or reads: hvmd's -io-error, else report. */
static enum blk_policy cfg_policy(const struct vm *vm, int write)
{
    if (!vm->cfg)
        return BLK_POLICY_REPORT;
    return (enum blk_policy)(write ? vm->cfg->werror : vm->cfg->rerror);
}

static int open_drive(struct vm *vm, const struct cfg_ide *p, struct blk **out,
                      enum blk_policy *werror_out, enum blk_policy *rerror_out)
{
    const struct cfg_opt *o = p->drive;
    const char *cache_s = cfg_get(o, "cache"), *aio = cfg_get(o, "aio");
    enum blk_cache cache = BLK_CACHE_WRITEBACK;
    char err[300];

    *out = NULL;
    for (unsigned i = 0; i < o->n_kv; i++) {
        unsigned k;
        for (k = 0; k < ARRAY_SIZE(drive_keys) && strcmp(o->kv[i].key, drive_keys[k]); k++)
            ;
        if (k == ARRAY_SIZE(drive_keys)) {
            log_err("-drive %s: %s= is not supported by hvmd", o->raw, o->kv[i].key);
            return -EINVAL;
        }
    }
    if (cache_s && blk_parse_cache(cache_s, &cache) < 0) {
        log_err("-drive %s: cache=%s: hvmd knows writeback, none, writethrough, directsync and "
                "unsafe", o->raw, cache_s);
        return -EINVAL;
    }
    enum blk_policy werror = cfg_policy(vm, 1), rerror = cfg_policy(vm, 0);
    const char *we = cfg_get(o, "werror"), *re = cfg_get(o, "rerror");
    if ((we && blk_parse_policy(we, &werror) < 0) || (re && blk_parse_policy(re, &rerror) < 0)) {
        log_err("-drive %s: werror= and rerror= take report, ignore, stop or enospc", o->raw);
        return -EINVAL;
    }
    *werror_out = werror;
    *rerror_out = rerror;
    if (aio && strcmp(aio, "native") && strcmp(aio, "threads")) {
        log_err("-drive %s: aio=%s: hvmd knows native and threads (it uses libaio either way)",
                o->raw, aio);
        return -EINVAL;
    }
    if (!p->file) {
        if (p->media == CFG_MEDIA_CDROM)
            return 0; /* an empty drive */
        log_err("-drive %s: a disk needs file=", o->raw);
        return -EINVAL;
    }
    struct blk_opts bo = { .path = p->file, .fd = -1, .readonly = p->readonly, .cache = cache,
                           .werror = werror, .rerror = rerror };
    if (!strncmp(p->file, "/dev/fdset/", 11)) {
        bo.fd = qmp_open(vm->qmp, p->file, p->readonly ? O_RDONLY : O_RDWR, err, sizeof(err));
        if (bo.fd < 0) {
            log_err("-drive %s: %s", o->raw, err);
            return bo.fd;
        }
    }
    int r = blk_open(out, vm->loop, &bo, err, sizeof(err));
    if (r < 0) {
        log_err("-drive %s: %s", o->raw, err);
        return r;
    }
    log_info("ide: %s: %s, %llu bytes, %s%s; werror=%s, rerror=%s", p->file,
             p->media == CFG_MEDIA_CDROM ? "CD-ROM" : "disk",
             (unsigned long long)blk_size(*out), blk_readonly(*out) ? "read-only, " : "",
             blk_direct(*out) ? "O_DIRECT + libaio" : "page cache", blk_policy_name(werror),
             blk_policy_name(rerror));
    return 0;
}

/* ---- QMP ---- */

/* DEVICE_TRAY_MOVED: a move a QMP command makes is reported at once (before the command's
 * return, as QEMU does); a guest's moves (START STOP UNIT) at most TRAY_EV_BURST per
 * TRAY_EV_WINDOW_MS and drive, the rest coalesced: when the window ends, one event with the
 * tray's state then, if that is not what the client last heard. So a guest that moves its
 * tray in a loop cannot flood the QMP clients, and they still learn where it ended. */
#define TRAY_EV_BURST 8
#define TRAY_EV_WINDOW_MS 1000

struct tray_ev {
    uint64_t window_start_ms;
    unsigned sent;          /* events in this window */
    int reported;           /* the state the clients last heard: 1 open, 0 closed, -1 none */
    int held;               /* a move was held back */
    int open;               /* the tray's state now */
};

struct ide_dev {
    struct vm *vm;
    struct piix_ide *ide;
    int qmp_cmd;                /* inside a QMP command: its moves are reported at once */
    enum blk_policy rerror[4];  /* a CD-ROM's read policy, for the media QMP puts in */
    struct tray_ev ev[4];
    struct loop_timer *ev_timer;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tray_report(struct ide_dev *s, unsigned i, int open)
{
    struct tray_ev *e = &s->ev[i];
    e->reported = open;
    e->held = 0;
    e->sent++;
    qmp_tray_moved(s->vm->qmp, piix_ide_drive(s->ide, i)->id, open);
}

/* The window of a drive with a held move ended: report the state it ended in. */
static void tray_flush(void *opaque)
{
    struct ide_dev *s = opaque;
    uint64_t now = mono_ms(), next = 0;
    for (unsigned i = 0; i < 4; i++) {
        struct tray_ev *e = &s->ev[i];
        if (!e->held)
            continue;
        uint64_t end = e->window_start_ms + TRAY_EV_WINDOW_MS;
        if (now < end) {
            next = next && next < end ? next : end; /* not yet (another drive's timer) */
            continue;
        }
        e->window_start_ms = now;
        e->sent = 0;
        if (e->open != e->reported)
            tray_report(s, i, e->open);
        e->held = 0;
    }
    if (next)
        loop_timer_arm(s->ev_timer, (next - now) * 1000000ull);
}

static void qmp_tray(void *opaque, const char *id, int open)
{
    struct ide_dev *s = opaque;
    unsigned i;
    for (i = 0; i < 4 && strcmp(piix_ide_drive(s->ide, i)->id, id); i++)
        ;
    if (i == 4 || s->qmp_cmd || !s->ev_timer) {
        if (i < 4) {
            s->ev[i].open = open;
            s->ev[i].reported = open;
            s->ev[i].held = 0;
        }
        qmp_tray_moved(s->vm->qmp, id, open);
        return;
    }
    struct tray_ev *e = &s->ev[i];
    uint64_t now = mono_ms();
    e->open = open;
    if (e->held)
        return; /* the timer reports the state the window ends in */
    if (now - e->window_start_ms >= TRAY_EV_WINDOW_MS) {
        e->window_start_ms = now;
        e->sent = 0;
    }
    if (e->sent < TRAY_EV_BURST) {
        tray_report(s, i, open);
        return;
    }
    e->held = 1;
    loop_timer_arm(s->ev_timer, (e->window_start_ms + TRAY_EV_WINDOW_MS - now) * 1000000ull);
}

static unsigned qmp_query(void *opaque, struct qmp_block_info *rows, unsigned max)
{
    struct ide_dev *s = opaque;
    unsigned n = 0;
    for (unsigned i = 0; i < 4 && n < max; i++) {
        struct ide_drive_info info;
        ide_drive_info(piix_ide_drive(s->ide, i), &info);
        if (info.kind == IDE_NONE)
            continue;
        struct qmp_block_info *b = &rows[n++];
        memset(b, 0, sizeof(*b));
        b->device = info.id;
        b->removable = info.kind == IDE_CD;
        b->locked = info.locked;
        b->tray_open = info.tray_open;
        b->file = info.present ? info.file : NULL;
        b->readonly = info.readonly;
    }
    return n;
}

static int qmp_eject(void *opaque, const char *id, int force, char *err, size_t errlen)
{
    struct ide_dev *s = opaque;
    s->qmp_cmd = 1;
    int r = ide_eject(s->ide, id, force, err, errlen);
    s->qmp_cmd = 0;
    return r;
}

static int qmp_change_medium(void *opaque, const char *id, const char *file, int fd, char *err,
                             size_t errlen)
{
    struct ide_dev *s = opaque;
    struct blk_opts bo = { .path = file, .fd = fd, .readonly = 1 };
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(piix_ide_drive(s->ide, i)->id, id))
            bo.rerror = s->rerror[i]; /* the drive's, as its -drive said */
    struct blk *b;
    int r = blk_open(&b, s->vm->loop, &bo, err, errlen);
    if (r < 0)
        return r;
    s->qmp_cmd = 1;
    r = ide_change_medium(s->ide, id, b, err, errlen);
    s->qmp_cmd = 0;
    if (r < 0)
        return r;
    log_info("ide: %s: new medium %s", id, file);
    return 0;
}

static const struct qmp_block_ops qmp_ops = {
    .query = qmp_query,
    .eject = qmp_eject,
    .change_medium = qmp_change_medium,
};

/* ---- the device ---- */

static int dev_ide_save(void *state, struct snap_writer *w)
{
    struct ide_dev *s = state;
    piix_ide_save(s->ide, w);
    return 0;
}

static int dev_ide_load(void *state, struct snap_reader *r, int commit)
{
    struct ide_dev *s = state;
    return piix_ide_load(s->ide, r, commit);
}

static void unplug_hook(void *opaque, unsigned mask)
{
    struct ide_dev *s = opaque;
    piix_ide_unplug(s->ide, mask);
}

static void dev_ide_destroy(void *state)
{
    struct ide_dev *s = state;
    if (!s)
        return;
    const struct ide_stats *st = piix_ide_stats(s->ide);
    log_info("ide: %llu ATA commands, %llu ATAPI packets, %llu bytes by PIO, %llu by DMA; "
             "medium requests: %llu done at once, %llu asynchronously; %llu interrupts, "
             "%llu errors",
             (unsigned long long)st->commands, (unsigned long long)st->packets,
             (unsigned long long)st->pio_bytes, (unsigned long long)st->dma_bytes,
             (unsigned long long)st->sync_io, (unsigned long long)st->async_io,
             (unsigned long long)st->irqs, (unsigned long long)st->errors);
    log_info("ide: %llu bus master starts ran a transfer, %llu us inside them",
             (unsigned long long)st->bm_runs, (unsigned long long)st->bm_ns / 1000);
    if (s->vm->qmp)
        qmp_block_unregister(s->vm->qmp, s);
    loop_timer_free(s->ev_timer);
    piix_ide_free(s->ide);
    free(s);
}

static int dev_ide_create(struct vm *vm, void **state)
{
    struct config *cfg = vm->cfg;
    struct cfg_ide pos[4];
    struct ide_drive_conf conf[4];
    enum blk_policy werror[4] = { 0 }, rerror[4] = { 0 };
    struct ide_dev *s;
    char err[300];
    int r;

    *state = NULL;
    memset(pos, 0, sizeof(pos));
    memset(conf, 0, sizeof(conf));
    if (cfg && cfg_ide(cfg, pos, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -EINVAL;
    }
    for (unsigned i = 0; i < 4; i++) {
        if (pos[i].media == CFG_MEDIA_NONE)
            continue;
        r = open_drive(vm, &pos[i], &conf[i].blk, &werror[i], &rerror[i]);
        if (r < 0)
            goto fail;
        conf[i].kind = pos[i].media == CFG_MEDIA_CDROM ? IDE_CD : IDE_DISK;
        conf[i].id = pos[i].id;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        r = -ENOMEM;
        goto fail;
    }
    s->vm = vm;
    memcpy(s->rerror, rerror, sizeof(rerror));
    r = piix_ide_new(vm, conf, &s->ide, err, sizeof(err));
    if (r < 0) {
        log_err("%s", err);
        free(s);
        return r; /* piix_ide_new closed the media */
    }
    for (unsigned i = 0; i < 4; i++) {
        if (pos[i].drive)
            pos[i].drive->claimed = 1;
        if (pos[i].device)
            pos[i].device->claimed = 1;
    }
    r = vm_on_unplug(vm, unplug_hook, s);
    if (r < 0) {
        piix_ide_free(s->ide);
        free(s);
        return r;
    }
    if (vm->qmp) {
        for (unsigned i = 0; i < 4; i++)
            s->ev[i].reported = -1;
        /* made now, before the sandbox (timerfd_create); without it every move is reported */
        s->ev_timer = vm->loop ? loop_timer_new(vm->loop, tray_flush, s) : NULL;
        ide_set_tray_cb(s->ide, qmp_tray, s);
        if (qmp_block_register(vm->qmp, &qmp_ops, s) < 0) {
            log_err("ide: cannot register its drives with QMP");
            dev_ide_destroy(s);
            return -EEXIST;
        }
    }
    *state = s;
    return 0;
fail:
    for (unsigned i = 0; i < 4; i++)
        blk_close(conf[i].blk);
    return r;
}

DEVICE(dev_ide, "ide", 2, dev_ide_create, dev_ide_destroy, dev_ide_save, dev_ide_load);

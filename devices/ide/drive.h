/* SPDX-License-Identifier: GPL-2.0-only */
/* An IDE drive apart from its controller: the task file, the command protocols (PIO data
 * in / out in DRQ blocks, DMA through the controller's engine, PACKET), reset, the medium, and
 * a bus of one or two drives with its device control register and INTRQ (drive.c); the ATA
 * disk command set (ata.c) and the ATAPI CD-ROM (atapi.c) on top. A controller (piix.c, AHCI
 * later) gives each bus its struct ide_ctrl_ops (dma.h) and feeds the bus register accesses. */
#ifndef HVMD_IDE_DRIVE_H
#define HVMD_IDE_DRIVE_H

#include <stddef.h>
#include <stdint.h>
#include "devices/ide/dma.h"
#include "dm/block.h"
#include "dm/log.h"
#include "dm/snapshot.h"
#include "dm/util.h"
#include "dm/vm.h"

enum ide_kind { IDE_NONE = 0, IDE_DISK, IDE_CD };

/* A drive as the configuration names it. */
struct ide_drive_conf {
    enum ide_kind kind;
    struct blk *blk;        /* the medium; NULL for a CD-ROM without one */
    const char *id;         /* the drive's QMP name (libxl: "ide-5632"), or NULL */
};

/* Counted per controller; its drives add to them. */
struct ide_stats {
    uint64_t commands, packets;          /* ATA commands, ATAPI packets */
    uint64_t pio_bytes, dma_bytes;       /* moved to / from the guest */
    uint64_t sync_io, async_io;          /* medium requests done inside the guest's access / later */
    uint64_t irqs;                       /* interrupts raised */
    uint64_t errors;                     /* commands ended with an error */
    uint64_t bm_runs, bm_ns;             /* bus master starts that ran a transfer, the time
                                          * spent in them (the guest's access waits for it) */
};

/* The tray of a CD-ROM moved (QMP DEVICE_TRAY_MOVED): ID is the drive's QMP name. */
typedef void ide_tray_fn(void *opaque, const char *id, int open);

#define IDE_BUF_SIZE (256u * 1024)  /* per drive; a multiple of every DRQ block size */
#define ATA_SECTOR 512
#define CD_SECTOR 2048

/* status */
#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DSC 0x10
#define ST_DF 0x20
#define ST_DRDY 0x40
#define ST_BSY 0x80
/* error */
#define ER_AMNF 0x01
#define ER_ABRT 0x04
#define ER_IDNF 0x10
#define ER_UNC 0x40
/* device control */
#define CTL_NIEN 0x02
#define CTL_SRST 0x04
#define CTL_HOB 0x80
/* device register */
#define DEV_LBA 0x40
#define DEV_DEV 0x10
/* ATAPI interrupt reason (sector count register) */
#define IR_COD 0x01
#define IR_IO 0x02

struct ide_drive;
/* A transfer ended: ERR is 0, or a negative errno (medium error, DMA fault). */
typedef void ide_end_fn(struct ide_drive *d, int err);
typedef void ide_io_fn(struct ide_drive *d, int ret);

/* A command set: ata.c (disks), atapi.c (CD-ROMs). */
struct ide_cmdset {
    void (*init)(struct ide_drive *d);              /* sizes and settings from the medium */
    void (*exec)(struct ide_drive *d, uint8_t cmd); /* a command written to the drive */
    ide_end_fn *const *ends;    /* every step a transfer may end in (the state names them) */
    unsigned n_ends;
};
extern const struct ide_cmdset ide_ata, ide_atapi;

struct ide_xfer {
    int active;
    int out;            /* host -> device */
    int dma;            /* moved by the controller's engine */
    int packet;         /* receiving an ATAPI command packet */
    int medium;         /* to / from the medium at pos; else only the buffer */
    int fua;
    int atapi;
    uint64_t pos;       /* medium offset of the next load (in) or store (out) */
    uint64_t remain;    /* bytes not yet moved between the guest and the buffer */
    uint64_t unloaded;  /* in, medium: bytes not yet loaded into the buffer */
    size_t fill;        /* in, medium: zeros after the load's bytes (past the image's end) */
    size_t len;         /* buffer: valid bytes (in) / room (out) */
    size_t cur;         /* the guest's cursor in the buffer */
    size_t drq;         /* PIO: bytes per DRQ block (ATAPI: byte count limit) */
    size_t block_end;   /* PIO: cursor at the end of the current DRQ block */
    ide_end_fn *end;
};

struct ide_bus;

#define IDE_SERIAL_LEN 20         /* IDENTIFY words 10-19 */
struct ide_drive {
    struct ide_bus *bus;
    unsigned unit;          /* 0 master, 1 slave */
    enum ide_kind kind;
    const struct ide_cmdset *cmds;
    struct blk *blk;
    char id[64];
    char serial[IDE_SERIAL_LEN + 1];
    uint64_t sectors;       /* in the drive's sector size (512 disk, 2048 CD) */
    /* the task file as this device latched it */
    uint8_t feature, nsect, lbal, lbam, lbah;
    uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
    uint8_t select, status, error;
    /* ATA */
    uint32_t cyls;
    unsigned heads, spt;    /* current CHS translation */
    unsigned mult;          /* sectors per DRQ block of READ/WRITE MULTIPLE, 0: disabled */
    int wce;                /* volatile write cache enabled */
    uint8_t xfer_mode;      /* SET FEATURES 03h value */
    /* the current transfer and its buffer */
    struct ide_xfer x;
    uint8_t *buf;           /* IDE_BUF_SIZE, BLK_BUF_ALIGN-aligned */
    struct blk_req req;
    ide_io_fn *io_cont;     /* what to do when req completes */
    int io_busy;
    /* req failed and the medium's policy (werror / rerror) said stop: it is kept, status
     * BSY, the guest paused (dm/vm.h), until QMP cont retries it */
    int io_kept;
    int kept_err;           /* its error, for a snapshot taken meanwhile */
    int retried;            /* req is a kept request submitted again */
    struct vm_kept kept;
    char qname[16];         /* QEMU's name for the drive ("ide0-hd0"): events when id is "" */
    unsigned gen, io_gen;   /* a completion for an older generation is dropped */
    int reset_pending;      /* SRST / DEVICE RESET waits for io_busy to clear */
    int dma_running;        /* ide_dma_run is on the stack */
    /* ATAPI */
    uint8_t cdb[12];
    int pkt_dma;            /* PACKET's features bit 0 */
    uint8_t sense_key, asc, ascq;
    int ua;                 /* unit attention pending (medium may have changed) */
    int tray_open, locked;
    uint8_t event;          /* GET EVENT STATUS media event pending (0: none) */
    ide_tray_fn *tray_fn;
    void *tray_opaque;
    struct ratelimit tray_rl; /* the tray's log line: a guest can move it in a loop */
};

/* One or two drives sharing a task file's ports (an IDE channel), or one alone (an AHCI
 * port). */
struct ide_bus {
    struct ide_drive drive[2];
    unsigned cur;           /* selected device */
    uint8_t devctl;
    int irq_pending;        /* the selected device asserts INTRQ */
    int irq_level;
    const char *name;       /* for the log: "primary", "secondary" */
    const struct ide_ctrl_ops *ops;
    void *ctrl;
    struct ide_stats *st;
    struct ratelimit *rl;
    struct vm *vm;          /* for the stop policy and QMP events (NULL: report only) */
};

/* ---- for controllers ---- */

/* An empty bus whose interrupts and DMA go to OPS with CTRL; ST and RL are the controller's. */
void ide_bus_init(struct ide_bus *b, const char *name, const struct ide_ctrl_ops *ops,
                  void *ctrl, struct ide_stats *st, struct ratelimit *rl);
/* Put the drive CONF describes at UNIT (the medium belongs to the drive from here on, also
 * on failure); SERIAL for IDENTIFY, POS names the place in ERR. */
int ide_drive_init(struct ide_bus *b, unsigned unit, const struct ide_drive_conf *conf,
                   const char *serial, unsigned pos, char *err, size_t errlen) WUR;
/* Wait for the drive's medium request, close the medium, free the buffer. */
void ide_drive_free(struct ide_drive *d);
/* The drive leaves the bus (a PV driver took over its image). */
void ide_drive_unplug(struct ide_drive *d);
int ide_bus_empty(const struct ide_bus *b);
/* Command block registers 1-7 (error / features ... status / command), the device control
 * register, the alternate status, and the data register (N bytes at once: rep ins / outs). */
uint8_t ide_bus_read(struct ide_bus *b, unsigned reg);
void ide_bus_write(struct ide_bus *b, unsigned reg, uint8_t v);
void ide_bus_ctl_write(struct ide_bus *b, uint8_t v);
uint8_t ide_bus_alt_status(struct ide_bus *b);
void ide_bus_data_in(struct ide_bus *b, uint8_t *p, size_t n);
void ide_bus_data_out(struct ide_bus *b, const uint8_t *p, size_t n);
/* The controller's engine runs: move D's DMA data as far as it goes now. Loads and stores
 * that complete at once call back here; a guard keeps that from nesting, so a long transfer
 * runs in one flat loop. */
void ide_dma_run(struct ide_drive *d);
/* The guest stopped the engine in the middle of D's transfer: the device keeps waiting (DRQ)
 * until the driver resets it; a medium request in flight is waited for and dropped. */
void ide_dma_cancel(struct ide_drive *d);

/* State (dm/snapshot.h): the bus's registers and its drives' whole guest-visible state (task
 * file, settings, the transfer and its buffer, ATAPI sense, tray and events). Save waits for
 * a medium request in flight first. Load reads into T (a copy of B; SCRATCH, IDE_BUF_SIZE
 * bytes, receives the buffers, NULL: the drives' own) and checks every field as guest input;
 * commit makes T the bus's state. */
void ide_bus_save(struct ide_bus *b, struct snap_writer *w);
int ide_bus_load(struct ide_bus *b, struct snap_reader *r, struct ide_bus *t, uint8_t *scratch) WUR;
void ide_bus_commit(struct ide_bus *b, const struct ide_bus *t);

/* What QMP query-block reports for a drive. */
struct ide_drive_info {
    const char *id;
    enum ide_kind kind;
    int tray_open, locked, present;
    const char *file;
    int readonly;
};
void ide_drive_info(const struct ide_drive *d, struct ide_drive_info *info);

/* ---- for the command sets (ata.c, atapi.c) ---- */

void ide_set_irq(struct ide_drive *d);
/* Start a transfer of TOTAL bytes, device to host unless IDE_XF_OUT. IDE_XF_MEDIUM: at byte POS
 * of the medium; else the buffer holds the data (in) or receives it (out), TOTAL <=
 * IDE_BUF_SIZE. DRQ: PIO bytes per DRQ block. END runs when the last byte moved (or the
 * transfer failed). */
#define IDE_XF_OUT 0x1
#define IDE_XF_DMA 0x2
#define IDE_XF_MEDIUM 0x4
#define IDE_XF_FUA 0x8      /* writes durable at once */
#define IDE_XF_ATAPI 0x10   /* the data phase of a packet command (byte count, reason) */
void ide_xfer(struct ide_drive *d, unsigned flags, uint64_t pos, uint64_t total, size_t drq,
              ide_end_fn *end);
/* Receive an ATAPI command packet (12 bytes, PIO) into d->buf, then END. */
void ide_packet_xfer(struct ide_drive *d, ide_end_fn *end);
/* Final status of a command; IRQ: raise the interrupt. */
void ide_done(struct ide_drive *d, uint8_t status, uint8_t error, int irq);
/* Final status of a command that ends with IRQ: ok (DRDY DSC) or aborted (ERR, ABRT). */
void ide_ok(struct ide_drive *d);
void ide_abort(struct ide_drive *d);
/* A flush of the medium, then END (status BSY meanwhile). */
void ide_flush(struct ide_drive *d, ide_end_fn *end);
/* SET FEATURES 03h: a transfer mode the drive takes? Then it is kept. */
int ide_set_xfer_mode(struct ide_drive *d, uint8_t mode);
/* IDENTIFY (PACKET) DEVICE words 63 and 88 with the selected mode marked. */
void ide_id_modes(const struct ide_drive *d, uint16_t *w, uint16_t mwdma, uint16_t udma);
void ide_signature(struct ide_drive *d);
void ide_guest_error(struct ide_drive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ide_tray_moved(struct ide_drive *d, int open);
/* The medium goes: the transfer using it fails, the request in flight is dropped. */
void ide_drop_medium(struct ide_drive *d);
void ide_id_string(uint16_t *w, const char *str, unsigned words);
void ide_id_checksum(uint16_t *w);

/* atapi.c: QMP eject (-EBUSY if the guest locked the tray and not FORCE) and a new medium
 * (BLK taken over, also on failure). */
int atapi_eject(struct ide_drive *d, int force, char *err, size_t errlen) WUR;
int atapi_change_medium(struct ide_drive *d, struct blk *blk, char *err, size_t errlen) WUR;

#endif

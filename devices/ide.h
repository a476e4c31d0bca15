/* The PIIX3 IDE function (devices/ide.c) with its ATA disks (devices/ata.c) and ATAPI CD-ROMs
 * (devices/atapi.c). The first part is what the machine, QMP and tests use; the second is
 * shared by those three files only. */
#ifndef HVMD_IDE_H
#define HVMD_IDE_H

#include <stddef.h>
#include <stdint.h>
#include "dm/block.h"
#include "dm/log.h"
#include "dm/util.h"
#include "dm/vm.h"

enum ide_kind { IDE_NONE = 0, IDE_DISK, IDE_CD };

/* One of the four positions: 0 primary master, 1 primary slave, 2 secondary master,
 * 3 secondary slave. */
struct ide_drive_conf {
    enum ide_kind kind;
    struct blk *blk;        /* the medium; NULL for a CD-ROM without one */
    const char *id;         /* the drive's QMP name (libxl: "ide-5632"), or NULL */
};

struct ide;

/* The PIIX3 IDE function at 00:01.1 with the drives of CONF. The media in CONF belong to the
 * device from this call on (also when it fails). */
int ide_new(struct vm *vm, const struct ide_drive_conf conf[4], struct ide **out, char *err,
            size_t errlen) WUR;
void ide_free(struct ide *s);

/* The tray of a CD-ROM moved (QMP DEVICE_TRAY_MOVED): ID is the drive's QMP name. */
typedef void ide_tray_fn(void *opaque, const char *id, int open);
void ide_set_tray_cb(struct ide *s, ide_tray_fn *fn, void *opaque);

/* QMP eject: open the tray of the CD-ROM named ID and drop its medium. Refused with -EBUSY if
 * the guest locked it (the guest then sees an eject request) unless FORCE. */
int ide_eject(struct ide *s, const char *id, int force, char *err, size_t errlen) WUR;
/* QMP blockdev-change-medium: put BLK (taken over, also on failure) into the CD-ROM named ID
 * and close the tray; the guest sees a unit attention and a new-media event. */
int ide_change_medium(struct ide *s, const char *id, struct blk *blk, char *err,
                      size_t errlen) WUR;
/* The Xen platform device's unplug request (VM_UNPLUG_* of vm.h): the IDE disks it names
 * leave the bus (a PV driver takes over their images); CD-ROMs stay. */
void ide_unplug(struct ide *s, unsigned mask);
/* What QMP query-block reports for the drive named ID (or position N when ID is NULL). */
struct ide_drive_info {
    const char *id;
    enum ide_kind kind;
    int tray_open, locked, present;
    const char *file;
    int readonly;
};
int ide_drive_info(struct ide *s, unsigned n, struct ide_drive_info *info);

struct ide_stats {
    uint64_t commands, packets;          /* ATA commands, ATAPI packets */
    uint64_t pio_bytes, dma_bytes;       /* moved to / from the guest */
    uint64_t sync_io, async_io;          /* medium requests done inside the guest's access / later */
    uint64_t irqs;                       /* interrupts raised */
    uint64_t errors;                     /* commands ended with an error */
};
const struct ide_stats *ide_stats(const struct ide *s);

/* ---- shared by ide.c, ata.c and atapi.c ---------------------------------------------- */

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
struct ide_channel;
/* A transfer ended: ERR is 0, or a negative errno (medium error, DMA fault). */
typedef void ide_end_fn(struct ide_drive *d, int err);
typedef void ide_io_fn(struct ide_drive *d, int ret);

struct ide_xfer {
    int active;
    int out;            /* host -> device */
    int dma;            /* moved by the bus master */
    int packet;         /* receiving an ATAPI command packet */
    int medium;         /* to / from the medium at pos; else only the buffer */
    int fua;
    int atapi;
    uint64_t pos;       /* medium offset of the next load (in) or store (out) */
    uint64_t remain;    /* bytes not yet moved between the guest and the buffer */
    uint64_t unloaded;  /* in, medium: bytes not yet loaded into the buffer */
    size_t len;         /* buffer: valid bytes (in) / room (out) */
    size_t cur;         /* the guest's cursor in the buffer */
    size_t drq;         /* PIO: bytes per DRQ block (ATAPI: byte count limit) */
    size_t block_end;   /* PIO: cursor at the end of the current DRQ block */
    ide_end_fn *end;
};

struct ide_drive {
    struct ide_channel *ch;
    unsigned unit;
    enum ide_kind kind;
    struct blk *blk;
    char id[64];
    char serial[21];
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
    unsigned gen, io_gen;   /* a completion for an older generation is dropped */
    int reset_pending;      /* SRST / DEVICE RESET waits for io_busy to clear */
    /* ATAPI */
    uint8_t cdb[12];
    int pkt_dma;            /* PACKET's features bit 0 */
    uint8_t sense_key, asc, ascq;
    int ua;                 /* unit attention pending (medium may have changed) */
    int tray_open, locked;
    uint8_t event;          /* GET EVENT STATUS media event pending (0: none) */
};

struct ide_channel {
    struct ide *ide;
    unsigned idx;
    struct ide_drive drive[2];
    unsigned cur;           /* selected device */
    uint8_t devctl;
    int irq_pending;        /* the selected device asserts INTRQ */
    int irq_level;
    /* bus master */
    uint8_t bm_cmd, bm_status;
    uint32_t bm_prd;
    uint32_t prd_next;      /* next PRD entry to fetch */
    unsigned prd_count;     /* entries fetched since start */
    uint64_t prd_addr;      /* the current entry's next byte */
    uint32_t prd_left;      /* bytes left in the current entry */
    int prd_eot;            /* the current entry is the table's last */
    struct ide_drive *dma_drive; /* a DMA transfer waits for or uses the engine */
    int bm_running;
    struct io_region *cmd_region, *ctl_region;
};

struct ide {
    struct vm *vm;
    struct pci_dev *pci;
    struct ide_channel ch[2];
    ide_tray_fn *tray_fn;
    void *tray_opaque;
    struct ide_stats st;
    struct ratelimit rl;
};

/* ide.c, for ata.c and atapi.c */
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
/* A flush of the medium, then END (status BSY meanwhile). */
void ide_flush(struct ide_drive *d, ide_end_fn *end);
void ide_signature(struct ide_drive *d);
void ide_guest_error(struct ide_drive *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ide_tray_moved(struct ide_drive *d, int open);
void ide_id_string(uint16_t *w, const char *str, unsigned words);
void ide_id_checksum(uint16_t *w);

/* ata.c */
void ata_init(struct ide_drive *d);
void ata_exec(struct ide_drive *d, uint8_t cmd);

/* atapi.c */
void atapi_init(struct ide_drive *d);
void atapi_exec(struct ide_drive *d, uint8_t cmd);
/* The medium went (NEW_BLK NULL) or came: sense, events, sizes. */
void atapi_medium_changed(struct ide_drive *d);

#endif

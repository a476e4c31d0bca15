/* SPDX-License-Identifier: GPL-2.0-only */
/* What an IDE controller provides to its drives (devices/ide/drive.h): the interrupt line of a
 * bus and a DMA engine. The PIIX3 IDE function (piix.c) is one provider, with its bus master
 * and PRD tables; an AHCI port would be another, with its command tables. The drive owns the
 * command and its data phase; the controller owns where the bytes go in guest memory.
 *
 * A DMA data phase runs like this: the drive calls dma_start when a command enters it (status
 * DRQ), then, whenever dma_ready says the engine may move data, it fills or empties its buffer
 * from the medium and calls dma_rw to move bytes between the buffer and guest memory;
 * dma_end tells the controller the transfer is over. The controller calls ide_dma_run(d) when
 * its engine starts, and ide_dma_cancel(d) when the guest stops it mid-transfer. */
#ifndef HVMD_IDE_DMA_H
#define HVMD_IDE_DMA_H

#include <stddef.h>
#include <stdint.h>

struct ide_bus;
struct ide_drive;

/* dma_rw's answer */
enum ide_dma_result {
    IDE_DMA_OK,     /* moved all that was asked */
    IDE_DMA_END,    /* the scatter list ended first: the engine stopped, the drive waits */
    IDE_DMA_FAULT,  /* the list or a buffer is not guest RAM: the engine flagged an error */
};

struct ide_ctrl_ops {
    /* A device on BUS asserted INTRQ (also when the line is high already): the controller
     * latches it where its guest looks (the bus master's interrupt bit). */
    void (*intr)(void *ctrl, struct ide_bus *bus);
    /* The bus's interrupt line goes to LEVEL. */
    void (*irq)(void *ctrl, struct ide_bus *bus, int level);
    /* D enters a DMA data phase: the engine belongs to it until dma_end. */
    void (*dma_start)(void *ctrl, struct ide_drive *d);
    /* May D's transfer move data now (the engine started and D its owner)? */
    int (*dma_ready)(void *ctrl, struct ide_drive *d);
    /* Move up to *N bytes between BUF and guest memory (TO_MEM: device to host) through the
     * controller's scatter list; *N becomes what moved. */
    enum ide_dma_result (*dma_rw)(void *ctrl, struct ide_drive *d, uint8_t *buf, size_t *n,
                                  int to_mem);
    /* D's transfer is over (for every transfer, PIO too). DONE: a DMA transfer moved its
     * last byte (the controller may retire its scatter list); 0: it failed or was dropped. */
    void (*dma_end)(void *ctrl, struct ide_drive *d, int done);
};

#endif

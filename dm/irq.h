/* SPDX-License-Identifier: GPL-2.0-only */
/* Interrupts: ISA IRQ lines, PCI INTx lines and the PIIX3's four PCI links, and MSI. Xen owns
 * the interrupt controllers (PIC, IOAPIC, LAPIC); a device model only drives lines. Each line
 * remembers its level, so a device may call these on every register access and only a change
 * costs a hypercall. */
#ifndef HVMD_IRQ_H
#define HVMD_IRQ_H

#include <stdint.h>
#include "dm/hv.h"
#include "dm/log.h"

#define IRQ_ISA_LINES 16
#define IRQ_PCI_SLOTS 32

struct irq {
    struct hv hv;
    uint8_t isa[IRQ_ISA_LINES];
    uint8_t intx[IRQ_PCI_SLOTS][4];
    uint8_t link[4];        /* 0: disabled, else the ISA IRQ */
    uint64_t calls;         /* hypercalls made */
    struct ratelimit rl;    /* for what the hypervisor refuses (a guest's MSI address, ...) */
};

void irq_init(struct irq *irq, const struct hv *hv);
/* Drive ISA line IRQ (0-15) to LEVEL (0 / 1). */
void irq_isa_set(struct irq *irq, unsigned irq_line, int level);
/* Drive INTx line INTX (0 = INTA .. 3 = INTD) of PCI slot SLOT (bus 0). Xen maps it through
 * the link (slot + intx) & 3 to the ISA IRQ set by irq_link_route, and to its IOAPIC pin. */
void irq_pci_intx(struct irq *irq, unsigned slot, unsigned intx, int level);
/* PCI link LINK (0-3) to ISA IRQ (1-15), or 0 to disconnect it. */
void irq_link_route(struct irq *irq, unsigned link, unsigned isa_irq);
/* Deliver one MSI. */
void irq_msi(struct irq *irq, uint64_t addr, uint32_t data);

#endif

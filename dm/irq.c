/* SPDX-License-Identifier: GPL-2.0-only */
/* Interrupt lines with remembered levels (see irq.h). */
#include "dm/irq.h"
#include "dm/log.h"

#include <string.h>

void irq_init(struct irq *irq, const struct hv *hv)
{
    memset(irq, 0, sizeof(*irq));
    irq->hv = *hv;
}

void irq_isa_set(struct irq *irq, unsigned line, int level)
{
    level = !!level;
    if (line >= IRQ_ISA_LINES || irq->isa[line] == level)
        return;
    irq->isa[line] = (uint8_t)level;
    irq->calls++;
    int r = irq->hv.ops->set_isa_irq(irq->hv.be, line, (unsigned)level);
    if (r < 0)
        log_limited(&irq->rl, LOG_WARN, "ISA IRQ %u -> %d: %d", line, level, r);
}

void irq_pci_intx(struct irq *irq, unsigned slot, unsigned intx, int level)
{
    level = !!level;
    if (slot >= IRQ_PCI_SLOTS || intx > 3 || irq->intx[slot][intx] == level)
        return;
    irq->intx[slot][intx] = (uint8_t)level;
    irq->calls++;
    int r = irq->hv.ops->set_pci_intx(irq->hv.be, slot, intx, (unsigned)level);
    if (r < 0)
        log_limited(&irq->rl, LOG_WARN, "PCI 00:%02x INT%c -> %d: %d", slot, 'A' + intx, level, r);
}

void irq_link_route(struct irq *irq, unsigned link, unsigned isa_irq)
{
    if (link > 3)
        return;
    if (isa_irq >= IRQ_ISA_LINES)
        isa_irq = 0;
    if (irq->link[link] == isa_irq)
        return;
    irq->link[link] = (uint8_t)isa_irq;
    irq->calls++;
    int r = irq->hv.ops->set_pci_link(irq->hv.be, link, isa_irq);
    if (r < 0)
        log_limited(&irq->rl, LOG_WARN, "PCI link %u -> IRQ %u: %d", link, isa_irq, r);
}

void irq_msi(struct irq *irq, uint64_t addr, uint32_t data)
{
    irq->calls++;
    int r = irq->hv.ops->inject_msi(irq->hv.be, addr, data);
    if (r < 0)
        log_limited(&irq->rl, LOG_WARN, "MSI %#llx/%#x: %d", (unsigned long long)addr, data, r);
}

// SPDX-License-Identifier: MIT
/*
 * Local APIC and I/O APIC access. The boot code already enabled the local
 * APIC (SVR), masked LINT0 and set TPR to 0; everything here runs at CPL3.
 */
#include "apic.h"

volatile uint64_t irq_count[256] __attribute__((aligned(64)));

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_phys + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic_phys + reg, v);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

uint32_t ioapic_read(uint32_t base, uint32_t reg)
{
	mmio_write32(base + IOAPIC_IOREGSEL, reg);
	return mmio_read32(base + IOAPIC_IOWIN);
}

void ioapic_write(uint32_t base, uint32_t reg, uint32_t v)
{
	mmio_write32(base + IOAPIC_IOREGSEL, reg);
	mmio_write32(base + IOAPIC_IOWIN, v);
}

uint32_t ioapic_pins(uint32_t base)
{
	uint32_t ver;

	if (!phys_readable(base, 0x20))
		return 0;
	ver = ioapic_read(base, IOAPIC_VER);
	if (ver == 0xffffffff)
		return 0;
	return ((ver >> 16) & 0xff) + 1;	/* maximum redirection entry + 1 */
}

static const struct mp_ioapic *ioapic_for(uint32_t gsi)
{
	const struct mp_info *mp = mp_get(NULL);

	if (!mp)
		return NULL;
	for (unsigned int i = 0; i < mp->nioapics; i++) {
		const struct mp_ioapic *io = &mp->ioapics[i];

		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->pins)
			return io;
	}
	return NULL;
}

int irq_register(const struct irq_route *r, uint8_t vector)
{
	const struct mp_ioapic *io = ioapic_for(r->gsi);
	uint32_t pin, lo = vector;

	if (!io || vector < VEC_FIRST_IRQ || vector == VEC_SPURIOUS)
		return -1;
	pin = r->gsi - io->gsi_base;
	if (r->level)
		lo |= IOAPIC_RTE_LEVEL;
	if (r->active_low)
		lo |= IOAPIC_RTE_ACTIVE_LOW;
	/* Masked while the destination is written, then unmasked. */
	ioapic_write(io->addr, IOAPIC_REDTBL(pin), lo | IOAPIC_RTE_MASKED);
	ioapic_write(io->addr, IOAPIC_REDTBL(pin) + 1, lapic_id() << 24);
	ioapic_write(io->addr, IOAPIC_REDTBL(pin), lo);
	return 0;
}

void irq_mask(const struct irq_route *r)
{
	const struct mp_ioapic *io = ioapic_for(r->gsi);
	uint32_t pin, lo;

	if (!io)
		return;
	pin = r->gsi - io->gsi_base;
	lo = ioapic_read(io->addr, IOAPIC_REDTBL(pin));
	ioapic_write(io->addr, IOAPIC_REDTBL(pin), lo | IOAPIC_RTE_MASKED);
}

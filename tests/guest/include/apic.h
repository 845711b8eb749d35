/* SPDX-License-Identifier: MIT */
/*
 * Local APIC and I/O APIC from CPL3. Both pages are mapped user-accessible
 * and uncached, so the CPL3 loop acknowledges its device and then writes
 * EOI itself; the CPL0 stub only counts (irq_count[vector]).
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "guest.h"
#include "mptable.h"

/* I/O APIC registers (82093AA datasheet) */
#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10
#define IOAPIC_ID		0x00
#define IOAPIC_VER		0x01
#define IOAPIC_REDTBL(n)	(0x10 + 2 * (n))
#define IOAPIC_RTE_MASKED	(1u << 16)
#define IOAPIC_RTE_LEVEL	(1u << 15)
#define IOAPIC_RTE_ACTIVE_LOW	(1u << 13)

/* ICR low dword */
#define ICR_INIT		0x00000500
#define ICR_STARTUP		0x00000600
#define ICR_DELIVERY_PENDING	0x00001000
#define ICR_LEVEL_ASSERT	0x00004000

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t ioapic_read(uint32_t base, uint32_t reg);
void ioapic_write(uint32_t base, uint32_t reg, uint32_t v);
uint32_t ioapic_pins(uint32_t base);	/* 0 if it does not answer */

/*
 * Point r->gsi at vector on this CPU (fixed delivery, physical destination)
 * with r's trigger mode and polarity, unmasked. Returns 0 or -1.
 */
int irq_register(const struct irq_route *r, uint8_t vector);
void irq_mask(const struct irq_route *r);

static inline uint64_t irq_count_of(uint8_t vector)
{
	return irq_count[vector];
}

#endif /* GUEST_APIC_H */

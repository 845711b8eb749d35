/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 tables: processors, I/O APICs and
 * the routing of ISA and PCI interrupts to I/O APIC pins.
 */
#ifndef GUEST_MPTABLE_H
#define GUEST_MPTABLE_H

#include "guest.h"

#define MP_MAX_IOAPICS	8
#define MP_MAX_BUSES	32
#define MP_MAX_IRQS	128

/* Processor entry cpu flags */
#define MP_CPU_EN	0x01
#define MP_CPU_BP	0x02

/* I/O interrupt entry types */
#define MP_INT		0
#define MP_NMI		1
#define MP_SMI		2
#define MP_EXTINT	3

/* I/O interrupt entry flags: polarity bits 1:0, trigger mode bits 3:2 */
#define MP_POLARITY_MASK	0x03
#define MP_POLARITY_HIGH	0x01
#define MP_POLARITY_LOW		0x03
#define MP_TRIGGER_MASK		0x0c
#define MP_TRIGGER_EDGE		0x04
#define MP_TRIGGER_LEVEL	0x0c

struct mp_cpu {
	uint8_t apic_id;
	uint8_t flags;
};

struct mp_ioapic {
	uint8_t id;
	uint8_t flags;
	uint32_t addr;
	uint32_t gsi_base;	/* pins numbered in table order */
	uint32_t pins;		/* from IOAPICVER */
};

struct mp_bus {
	uint8_t id;
	char type[7];		/* "ISA", "PCI", ... (trailing blanks cut) */
};

struct mp_irq {
	uint8_t type;
	uint16_t flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_ioapic;
	uint8_t dst_pin;
};

struct mp_info {
	uint32_t fp_addr;	/* "_MP_" floating pointer */
	uint32_t table_addr;	/* "PCMP" configuration table */
	uint8_t spec_rev;
	char oem[9];
	char product[13];
	uint32_t lapic_addr;
	unsigned int ncpus;
	struct mp_cpu cpus[MAX_CPUS];
	unsigned int nioapics;
	struct mp_ioapic ioapics[MP_MAX_IOAPICS];
	unsigned int nbuses;
	struct mp_bus buses[MP_MAX_BUSES];
	unsigned int nirqs;
	struct mp_irq irqs[MP_MAX_IRQS];
};

/* Where an interrupt arrives and how to program its redirection entry. */
struct irq_route {
	uint32_t gsi;
	bool level;
	bool active_low;
};

/* Find and parse the table once; NULL (and *why set) if there is none. */
const struct mp_info *mp_get(const char **why);
/* Returns 0, or -1 if the table has no entry for it. */
int mp_route_isa(unsigned int irq, struct irq_route *r);
int mp_route_pci(unsigned int bus, unsigned int dev, unsigned int pin,
		 struct irq_route *r);

#endif /* GUEST_MPTABLE_H */

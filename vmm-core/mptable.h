/* SPDX-License-Identifier: MIT */
/*
 * Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI
 * learns its CPUs, its IOAPIC and how ISA and PCI interrupts reach it.
 *
 * The floating pointer comes first and the configuration table right after
 * it, so the buffer belongs where a guest scans for "_MP_" (Linux and
 * SeaBIOS-era guests look in the last KiB of base memory, among others) and
 * must be reserved in the e820 map.
 */
#ifndef VMM_MPTABLE_H
#define VMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pci.h"

/* The usual home: the last KiB of 640 KiB base memory. */
#define MPTABLE_DEFAULT_GPA	0x9fc00
#define MPTABLE_DEFAULT_SIZE	0x400

#define MP_LAPIC_BASE		0xfee00000u
#define MP_IOAPIC_BASE		0xfec00000u
#define MP_IOAPIC_PINS		24	/* KVM's IOAPIC */

/* Source bus ids of the tables built here. */
#define MP_BUS_PCI		0
#define MP_BUS_ISA		1

struct mptable_config {
	/* 1-254 CPUs, APIC IDs 0..nr_cpus-1; the IOAPIC gets ID nr_cpus. */
	unsigned nr_cpus;
	/* CPUID leaf 1 EAX (family/model/stepping) and EDX; 0 = plausible. */
	uint32_t cpu_signature;
	uint32_t cpu_features;
	/* One I/O interrupt entry each; pci_intx_routes() fills these. */
	const struct pci_intx_route *pci_irqs;
	size_t nr_pci_irqs;
};

/*
 * Writes the tables into @buf, which the guest will see at @gpa (16-byte
 * aligned, below 4 GiB).  Returns the number of bytes written, -ENOSPC if
 * @size is too small, or -EINVAL for a bad configuration.
 */
ssize_t mptable_build(void *buf, size_t size, uint64_t gpa,
		      const struct mptable_config *cfg);

#endif

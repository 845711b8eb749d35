/* SPDX-License-Identifier: MIT */
/*
 * Just enough ACPI to list processors from the MADT. The MP table is the
 * primary source; SeaBIOS lists only one CPU per package there, so under
 * QEMU with several cores per socket the MADT is the only complete list.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include "guest.h"

/* Enabled local APIC IDs from the MADT; the count, 0 if there is none. */
unsigned int acpi_madt_cpus(uint8_t *apic_ids, unsigned int max);

#endif /* GUEST_ACPI_H */

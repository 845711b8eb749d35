// SPDX-License-Identifier: MIT
/*
 * RSDP -> RSDT/XSDT -> MADT ("APIC"), processor local APIC entries only
 * (ACPI 6.x, section 5.2.12). The RSDP comes from the PVH start info, else
 * from the BIOS areas (first KiB of the EBDA, 0xE0000-0xFFFFF).
 */
#include "acpi.h"

#define MADT_LOCAL_APIC		0
#define MADT_LAPIC_ENABLED	0x01

struct rsdp {
	char signature[8];	/* "RSD PTR " */
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;	/* revision >= 2 from here on */
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	uint32_t creator;
	uint32_t creator_revision;
} __attribute__((packed));

_Static_assert(sizeof(struct rsdp) == 36, "rsdp");
_Static_assert(sizeof(struct sdt_header) == 36, "sdt header");

static bool sum_ok(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return sum == 0;
}

static const struct rsdp *rsdp_at(uint64_t a)
{
	const struct rsdp *r = phys(a);

	if (!phys_readable(a, 20) || memcmp(r->signature, "RSD PTR ", 8))
		return NULL;
	return sum_ok(r, 20) ? r : NULL;
}

static const struct rsdp *find_rsdp(void)
{
	uint32_t ebda = (uint32_t)bda_ebda_seg << 4;
	const struct rsdp *r;

	if (bootinfo_rsdp())
		return rsdp_at(bootinfo_rsdp());
	for (uint32_t a = ebda; ebda >= 0x400 && a < ebda + 1024; a += 16)
		if ((r = rsdp_at(a)))
			return r;
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if ((r = rsdp_at(a)))
			return r;
	return NULL;
}

static const struct sdt_header *table_at(uint64_t a, const char *sig)
{
	const struct sdt_header *h = phys(a);

	if (!phys_readable(a, sizeof(*h)) || !phys_readable(a, h->length))
		return NULL;
	if (h->length < sizeof(*h) || (sig && memcmp(h->signature, sig, 4)))
		return NULL;
	return sum_ok(h, h->length) ? h : NULL;
}

static const struct sdt_header *find_madt(void)
{
	const struct rsdp *r = find_rsdp();
	const struct sdt_header *root;
	unsigned int width, n;

	if (!r)
		return NULL;
	if (r->revision >= 2 && r->xsdt) {
		root = table_at(r->xsdt, "XSDT");
		width = 8;
	} else {
		root = table_at(r->rsdt, "RSDT");
		width = 4;
	}
	if (!root)
		return NULL;
	n = (root->length - sizeof(*root)) / width;
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)(root + 1) + i * width;
		uint64_t a = 0;
		const struct sdt_header *t;

		memcpy(&a, e, width);
		t = table_at(a, "APIC");
		if (t)
			return t;
	}
	return NULL;
}

unsigned int acpi_madt_cpus(uint8_t *apic_ids, unsigned int max)
{
	const struct sdt_header *madt = find_madt();
	const uint8_t *e, *end;
	unsigned int n = 0;

	if (!madt)
		return 0;
	/* Entries follow the header, the LAPIC address and the flags. */
	e = (const uint8_t *)(madt + 1) + 8;
	end = (const uint8_t *)madt + madt->length;
	while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
		if (e[0] == MADT_LOCAL_APIC && e[1] >= 8 &&
		    (e[4] & MADT_LAPIC_ENABLED) && n < max)
			apic_ids[n++] = e[3];
		e += e[1];
	}
	return n;
}

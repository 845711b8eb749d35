/* SPDX-License-Identifier: MIT */
/*
 * MP table: parse what the builder wrote the way a guest's mpparse does,
 * with offsets taken from the MultiProcessor Specification 1.4 rather than
 * from the builder's structs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mptable.h"

#define GPA		MPTABLE_DEFAULT_GPA
#define MAX_ENTRIES	256

struct entry {
	uint8_t type;
	const uint8_t *p;
};

struct parsed {
	const uint8_t *mpf;
	const uint8_t *mpc;
	unsigned length;	/* base table length */
	unsigned count;		/* entry count from the header */
	struct entry e[MAX_ENTRIES];
	unsigned n;
};

static unsigned le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Scans @buf for the floating pointer on 16-byte boundaries, as Linux does. */
static void parse(const uint8_t *buf, size_t len, struct parsed *t)
{
	const uint8_t *p;
	size_t off, pos;

	memset(t, 0, sizeof(*t));
	for (off = 0; off + 16 <= len; off += 16)
		if (!memcmp(buf + off, "_MP_", 4))
			break;
	assert_true(off + 16 <= len);
	t->mpf = buf + off;
	assert_int_equal(t->mpf[8], 1);		/* length in paragraphs */
	assert_int_equal(t->mpf[9], 4);		/* spec revision 1.4 */
	assert_int_equal(sum(t->mpf, 16), 0);
	assert_int_equal(t->mpf[11], 0);	/* a table, no default config */

	assert_true(le32(t->mpf + 4) >= GPA);
	off = le32(t->mpf + 4) - GPA;
	assert_true(off + 44 <= len);
	t->mpc = buf + off;
	assert_memory_equal(t->mpc, "PCMP", 4);
	t->length = le16(t->mpc + 4);
	assert_true(off + t->length <= len);
	assert_int_equal(t->mpc[6], 4);
	assert_int_equal(sum(t->mpc, t->length), 0);
	t->count = le16(t->mpc + 34);

	for (pos = 44; pos < t->length; ) {
		p = t->mpc + pos;
		assert_true(t->n < MAX_ENTRIES);
		assert_true(p[0] <= 4);
		t->e[t->n++] = (struct entry){ .type = p[0], .p = p };
		pos += p[0] == 0 ? 20 : 8;
	}
	assert_int_equal(pos, t->length);
}

static unsigned count_type(const struct parsed *t, uint8_t type)
{
	unsigned i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->e[i].type == type;
	return n;
}

/* The I/O interrupt entry from @bus/@irq, or NULL. */
static const uint8_t *find_intsrc(const struct parsed *t, uint8_t bus,
				  uint8_t irq)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].type == 3 && t->e[i].p[4] == bus &&
		    t->e[i].p[5] == irq)
			return t->e[i].p;
	return NULL;
}

/* The entry that must be there; fails the test otherwise. */
static const uint8_t *intsrc(const struct parsed *t, uint8_t bus, uint8_t irq)
{
	static const uint8_t missing[8] = { 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff };
	const uint8_t *e = find_intsrc(t, bus, irq);

	if (!e) {
		fail_msg("no I/O interrupt entry for bus %u irq %#x", bus, irq);
		return missing;
	}
	return e;
}

/* The bus id whose type string is @name, or -1. */
static int find_bus(const struct parsed *t, const char *name)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].type == 1 && !memcmp(t->e[i].p + 2, name, 6))
			return t->e[i].p[1];
	return -1;
}

static void build(uint8_t *buf, size_t size,
		  const struct mptable_config *cfg, struct parsed *t)
{
	ssize_t len = mptable_build(buf, size, GPA, cfg);

	assert_true(len > 0);
	assert_true((size_t)len <= size);
	parse(buf, len, t);
}

static void mptable_checksums_and_header_are_valid(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 2 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	assert_ptr_equal(t.mpf, buf);
	assert_int_equal(le32(t.mpf + 4), GPA + 16);
	assert_memory_equal(t.mpc + 8, "SPLITVMM", 8);
	assert_int_equal(le32(t.mpc + 36), 0xfee00000);
	assert_int_equal(le16(t.mpc + 40), 0);	/* no extended table */
	assert_int_equal(t.count, t.n);
}

static void mptable_entries_are_sorted_by_type(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 3 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	unsigned i;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	for (i = 1; i < t.n; i++)
		assert_true(t.e[i - 1].type <= t.e[i].type);
	assert_int_equal(count_type(&t, 0), 3);
	assert_int_equal(count_type(&t, 1), 2);
	assert_int_equal(count_type(&t, 2), 1);
	assert_int_equal(count_type(&t, 3), 15);
	assert_int_equal(count_type(&t, 4), 2);
}

static void mptable_lists_every_cpu_with_bsp_first(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 4 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	unsigned i;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	for (i = 0; i < 4; i++) {
		const uint8_t *p = t.e[i].p;

		assert_int_equal(p[0], 0);
		assert_int_equal(p[1], i);			/* APIC ID */
		assert_true(p[2] >= 0x10);			/* integrated */
		assert_int_equal(p[3], i == 0 ? 0x3 : 0x1);	/* EN, BP */
		assert_int_not_equal(le32(p + 4), 0);		/* signature */
		assert_true(le32(p + 8) & (1 << 9));		/* has APIC */
	}
}

static void mptable_uses_given_cpu_signature_and_features(void **state)
{
	struct mptable_config cfg = {
		.nr_cpus = 1,
		.cpu_signature = 0x000306a9,
		.cpu_features = 0x178bfbff,
	};
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	assert_int_equal(le32(t.e[0].p + 4), 0x000306a9);
	assert_int_equal(le32(t.e[0].p + 8), 0x178bfbff);
}

static void mptable_names_pci_and_isa_buses(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 1 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	assert_int_equal(find_bus(&t, "PCI   "), 0);
	assert_int_equal(find_bus(&t, "ISA   "), 1);
}

static void mptable_ioapic_id_follows_the_cpus(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 3 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	unsigned i;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	for (i = 0; i < t.n && t.e[i].type != 2; i++)
		;
	assert_true(i < t.n);
	assert_int_equal(t.e[i].p[1], 3);
	assert_int_equal(t.e[i].p[2], 0x11);
	assert_int_equal(t.e[i].p[3] & 1, 1);
	assert_int_equal(le32(t.e[i].p + 4), 0xfec00000);
	/* Every I/O interrupt entry targets it. */
	for (i = 0; i < t.n; i++)
		if (t.e[i].type == 3)
			assert_int_equal(t.e[i].p[6], 3);
}

static void mptable_isa_irq0_goes_to_intin2_and_irq2_is_absent(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 1 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	const uint8_t *e;
	int isa;
	unsigned irq;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	isa = find_bus(&t, "ISA   ");
	e = intsrc(&t, isa, 0);
	assert_int_equal(e[7], 2);
	assert_null(find_intsrc(&t, isa, 2));
	for (irq = 1; irq < 16; irq++) {
		if (irq == 2)
			continue;
		e = intsrc(&t, isa, irq);
		assert_int_equal(e[1], 0);		/* INT */
		assert_int_equal(le16(e + 2), 0);	/* conforming */
		assert_int_equal(e[7], irq);
	}
}

static void mptable_pci_entries_encode_device_and_pin(void **state)
{
	struct pio_bus *pio = pio_bus_new();
	struct pci_bus *pci = pci_bus_new(pio);
	struct pci_func_desc desc = { .vendor_id = 0x1022 };
	struct pci_intx_route routes[PCI_NR_DEVICES];
	struct mptable_config cfg = { .nr_cpus = 2, .pci_irqs = routes };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	unsigned pin;
	int pcibus;

	(void)state;
	assert_non_null(pci);
	for (pin = 1; pin <= 4; pin++) {
		desc.int_pin = pin;
		assert_int_equal(pci_add_function(pci, &desc), pin);
	}
	desc.int_pin = 0;
	assert_int_equal(pci_add_function(pci, &desc), 5);
	cfg.nr_pci_irqs = pci_intx_routes(pci, routes, PCI_NR_DEVICES);
	assert_int_equal(cfg.nr_pci_irqs, 4);

	build(buf, sizeof(buf), &cfg, &t);
	pcibus = find_bus(&t, "PCI   ");
	assert_int_equal(count_type(&t, 3), 15 + 4);
	for (pin = 1; pin <= 4; pin++) {
		unsigned dev = pin;
		const uint8_t *e = intsrc(&t, pcibus, (dev << 2) | (pin - 1));

		assert_int_equal(e[1], 0);
		/* Active high (01), level triggered (11). */
		assert_int_equal(le16(e + 2), 0x0d);
		assert_int_equal(e[7], pci_intx_gsi(dev, pin));
	}
	/* Device 5 has no pin and no entry. */
	for (pin = 0; pin < 4; pin++)
		assert_null(find_intsrc(&t, pcibus, 5 << 2 | pin));

	pci_bus_free(pci);
	pio_bus_free(pio);
}

static void mptable_local_interrupts_extint_lint0_nmi_lint1(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 2 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	bool extint = false, nmi = false;
	unsigned i;

	(void)state;
	build(buf, sizeof(buf), &cfg, &t);
	for (i = 0; i < t.n; i++) {
		const uint8_t *e = t.e[i].p;

		if (e[0] != 4)
			continue;
		assert_int_equal(e[6], 0xff);	/* all local APICs */
		if (e[1] == 3 && e[7] == 0)
			extint = true;
		if (e[1] == 1 && e[7] == 1)
			nmi = true;
	}
	assert_true(extint);
	assert_true(nmi);
}

static void mptable_fits_last_kib_for_8_cpus_and_31_devices(void **state)
{
	struct pci_intx_route routes[31];
	struct mptable_config cfg = {
		.nr_cpus = 8, .pci_irqs = routes, .nr_pci_irqs = 31,
	};
	uint8_t buf[MPTABLE_DEFAULT_SIZE];
	struct parsed t;
	unsigned i;

	(void)state;
	for (i = 0; i < 31; i++)
		routes[i] = (struct pci_intx_route){
			.dev = i + 1, .pin = 1, .gsi = pci_intx_gsi(i + 1, 1),
		};
	build(buf, sizeof(buf), &cfg, &t);
	assert_int_equal(count_type(&t, 0), 8);
	assert_int_equal(count_type(&t, 3), 15 + 31);
}

static void mptable_rejects_too_small_buffer(void **state)
{
	struct mptable_config cfg = { .nr_cpus = 2 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE + 1];
	ssize_t need;

	(void)state;
	need = mptable_build(buf, sizeof(buf), GPA, &cfg);
	assert_true(need > 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(mptable_build(buf, need - 1, GPA, &cfg), -ENOSPC);
	assert_int_equal(mptable_build(buf, 8, GPA, &cfg), -ENOSPC);
	assert_int_equal(mptable_build(buf, 0, GPA, &cfg), -ENOSPC);
	/* A refusal writes nothing; an exact fit writes nothing past it. */
	assert_int_equal(buf[0], 0xee);
	assert_int_equal(mptable_build(buf, need, GPA, &cfg), need);
	assert_int_equal(buf[need], 0xee);
}

static void mptable_rejects_bad_configuration(void **state)
{
	struct pci_intx_route bad_pin = { .dev = 1, .pin = 5, .gsi = 16 };
	struct pci_intx_route bad_gsi = { .dev = 1, .pin = 1, .gsi = 24 };
	struct mptable_config none = { .nr_cpus = 0 };
	struct mptable_config many = { .nr_cpus = 255 };
	struct mptable_config pin = {
		.nr_cpus = 1, .pci_irqs = &bad_pin, .nr_pci_irqs = 1,
	};
	struct mptable_config gsi = {
		.nr_cpus = 1, .pci_irqs = &bad_gsi, .nr_pci_irqs = 1,
	};
	struct mptable_config ok = { .nr_cpus = 1 };
	uint8_t buf[MPTABLE_DEFAULT_SIZE];

	(void)state;
	assert_int_equal(mptable_build(buf, sizeof(buf), GPA, &none), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), GPA, &many), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), GPA, &pin), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), GPA, &gsi), -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), GPA + 8, &ok),
			 -EINVAL);
	assert_int_equal(mptable_build(buf, sizeof(buf), 0xfffffff0, &ok),
			 -EINVAL);
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(mptable_checksums_and_header_are_valid),
		T(mptable_entries_are_sorted_by_type),
		T(mptable_lists_every_cpu_with_bsp_first),
		T(mptable_uses_given_cpu_signature_and_features),
		T(mptable_names_pci_and_isa_buses),
		T(mptable_ioapic_id_follows_the_cpus),
		T(mptable_isa_irq0_goes_to_intin2_and_irq2_is_absent),
		T(mptable_pci_entries_encode_device_and_pin),
		T(mptable_local_interrupts_extint_lint0_nmi_lint1),
		T(mptable_fits_last_kib_for_8_cpus_and_31_devices),
		T(mptable_rejects_too_small_buffer),
		T(mptable_rejects_bad_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

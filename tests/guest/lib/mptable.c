// SPDX-License-Identifier: MIT
/*
 * MP table parsing (MultiProcessor Specification 1.4, chapter 4). The
 * floating pointer is searched where the spec says: the first KiB of the
 * EBDA, the last KiB of base memory, and the BIOS ROM 0xF0000-0xFFFFF.
 */
#include "mptable.h"
#include "apic.h"

#define MPF_SIGNATURE	0x5f504d5f	/* "_MP_" */
#define MPC_SIGNATURE	0x504d4350	/* "PCMP" */

#define MPC_PROCESSOR	0
#define MPC_BUS		1
#define MPC_IOAPIC	2
#define MPC_INTSRC	3
#define MPC_LINTSRC	4

struct mpf {
	uint32_t signature;
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature1;	/* nonzero: a default configuration, no table */
	uint8_t feature2;
	uint8_t feature3_5[3];
} __attribute__((packed));

struct mpc_header {
	uint32_t signature;
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_processor {
	uint8_t type;
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t cpu_flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t id;
	char bus_type[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t ver;
	uint8_t flags;
	uint32_t addr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irq_type;
	uint16_t irq_flags;
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic;
	uint8_t dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16, "mpf");
_Static_assert(sizeof(struct mpc_header) == 44, "mpc header");
_Static_assert(sizeof(struct mpc_processor) == 20, "mpc processor");

static struct mp_info info;
static int state;		/* 0 not yet, 1 found, -1 none */
static const char *reason;

static uint8_t checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

static const struct mpf *scan(uint32_t base, uint32_t len)
{
	for (uint32_t a = base; a + 16 <= base + len; a += 16) {
		const struct mpf *f = phys(a);

		if (f->signature != MPF_SIGNATURE || !f->length)
			continue;
		if (!phys_readable(a, f->length * 16u))
			continue;
		if (checksum(f, f->length * 16u) == 0)
			return f;
	}
	return NULL;
}

static const struct mpf *find_mpf(void)
{
	uint32_t ebda = (uint32_t)bda_ebda_seg << 4;
	const struct mpf *f = NULL;

	if (ebda >= 0x400 && ebda < 0xa0000)
		f = scan(ebda, 1024);
	if (!f)
		f = scan(0x9fc00, 1024);
	if (!f)
		f = scan(0xf0000, 0x10000);
	return f;
}

static void copy_name(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

static void add_entry(const uint8_t *e)
{
	const struct mpc_processor *p = (const void *)e;
	const struct mpc_bus *b = (const void *)e;
	const struct mpc_ioapic *io = (const void *)e;
	const struct mpc_intsrc *is = (const void *)e;

	switch (e[0]) {
	case MPC_PROCESSOR:
		if (info.ncpus < MAX_CPUS)
			info.cpus[info.ncpus++] =
				(struct mp_cpu){ p->apic_id, p->cpu_flags };
		break;
	case MPC_BUS:
		if (info.nbuses < MP_MAX_BUSES) {
			struct mp_bus *d = &info.buses[info.nbuses++];

			d->id = b->id;
			copy_name(d->type, b->bus_type, 6);
		}
		break;
	case MPC_IOAPIC:
		if (info.nioapics < MP_MAX_IOAPICS)
			info.ioapics[info.nioapics++] = (struct mp_ioapic){
				.id = io->id, .flags = io->flags, .addr = io->addr
			};
		break;
	case MPC_INTSRC:
		if (info.nirqs < MP_MAX_IRQS)
			info.irqs[info.nirqs++] = (struct mp_irq){
				is->irq_type, is->irq_flags, is->src_bus,
				is->src_irq, is->dst_apic, is->dst_pin
			};
		break;
	}
}

static int parse_table(const struct mpc_header *h)
{
	const uint8_t *e = (const uint8_t *)(h + 1);
	const uint8_t *end = (const uint8_t *)h + h->length;

	info.spec_rev = h->spec_rev;
	copy_name(info.oem, h->oem, 8);
	copy_name(info.product, h->product, 12);
	info.lapic_addr = h->lapic;
	/* Walk by the table length, not the entry count, as Linux does:
	 * qboot (QEMU microvm) leaves the count at 0. */
	while (e < end) {
		/* Processor entries are 20 bytes, all others 8. */
		size_t len = e[0] == MPC_PROCESSOR ? 20 : 8;

		if (e[0] > MPC_LINTSRC || e + len > end) {
			reason = "MP table: malformed entry";
			return -1;
		}
		add_entry(e);
		e += len;
	}
	return 0;
}

/* GSIs follow the I/O APICs in table order, as Linux numbers them. */
static void number_gsis(void)
{
	uint32_t base = 0;

	for (unsigned int i = 0; i < info.nioapics; i++) {
		struct mp_ioapic *io = &info.ioapics[i];

		io->gsi_base = base;
		io->pins = ioapic_pins(io->addr);
		base += io->pins;
	}
}

static int load(void)
{
	const struct mpf *f = find_mpf();
	const struct mpc_header *h;

	if (!f) {
		reason = "no MP floating pointer (_MP_) found";
		return -1;
	}
	info.fp_addr = (uint32_t)(uintptr_t)f;
	if (f->feature1) {
		reason = "MP default configurations are not supported";
		return -1;
	}
	if (!phys_readable(f->physptr, sizeof(*h))) {
		reason = "MP configuration table pointer is not readable";
		return -1;
	}
	h = phys(f->physptr);
	info.table_addr = f->physptr;
	if (h->signature != MPC_SIGNATURE || h->length < sizeof(*h) ||
	    !phys_readable(f->physptr, h->length)) {
		reason = "MP configuration table has no PCMP signature";
		return -1;
	}
	if (checksum(h, h->length)) {
		reason = "MP configuration table checksum is wrong";
		return -1;
	}
	if (parse_table(h))
		return -1;
	number_gsis();
	return 0;
}

const struct mp_info *mp_get(const char **why)
{
	if (!state)
		state = load() ? -1 : 1;
	if (why)
		*why = reason;
	return state > 0 ? &info : NULL;
}

static const struct mp_bus *bus_by_id(uint8_t id)
{
	for (unsigned int i = 0; i < info.nbuses; i++)
		if (info.buses[i].id == id)
			return &info.buses[i];
	return NULL;
}

static const struct mp_ioapic *ioapic_by_id(uint8_t id)
{
	for (unsigned int i = 0; i < info.nioapics; i++)
		if (info.ioapics[i].id == id || id == 0xff)
			return &info.ioapics[i];
	return NULL;
}

/* "Conforms to bus" flags mean edge/high for ISA, level/low for PCI. */
static int route(const char *bus_type, unsigned int bus, unsigned int src,
		 struct irq_route *r)
{
	if (!mp_get(NULL))
		return -1;
	for (unsigned int i = 0; i < info.nirqs; i++) {
		const struct mp_irq *q = &info.irqs[i];
		const struct mp_bus *b = bus_by_id(q->src_bus);
		const struct mp_ioapic *io = ioapic_by_id(q->dst_ioapic);
		bool pci = !strcmp(bus_type, "PCI");
		unsigned int pol = q->flags & MP_POLARITY_MASK;
		unsigned int trig = q->flags & MP_TRIGGER_MASK;

		if (q->type != MP_INT || !b || !io || strcmp(b->type, bus_type))
			continue;
		if ((pci && q->src_bus != bus) || q->src_irq != src)
			continue;
		r->gsi = io->gsi_base + q->dst_pin;
		r->active_low = pol ? pol == MP_POLARITY_LOW : pci;
		r->level = trig ? trig == MP_TRIGGER_LEVEL : pci;
		return 0;
	}
	return -1;
}

int mp_route_isa(unsigned int irq, struct irq_route *r)
{
	return route("ISA", 0, irq, r);
}

/* pin: 1 = INTA .. 4 = INTD, as in the Interrupt Pin register. */
int mp_route_pci(unsigned int bus, unsigned int dev, unsigned int pin,
		 struct irq_route *r)
{
	if (pin < 1 || pin > 4)
		return -1;
	return route("PCI", bus, dev << 2 | (pin - 1), r);
}

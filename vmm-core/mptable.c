/* SPDX-License-Identifier: MIT */
/*
 * MP table builder, laid out as the MultiProcessor Specification 1.4
 * (Intel order number 242016-006), chapter 4, describes it.  The structures
 * below are the spec's tables, byte for byte.
 */
#include <errno.h>
#include <string.h>

#include "mptable.h"

#define MPF_SIGNATURE		"_MP_"
#define MPC_SIGNATURE		"PCMP"
#define MP_SPEC_REV		4	/* version 1.4 */
#define MPC_OEM_ID		"SPLITVMM"
#define MPC_PRODUCT_ID		"VMM-CORE    "

/* Entry types, in the ascending order the table lists them. */
enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
};

#define CPU_ENABLED		0x01
#define CPU_BOOTPROCESSOR	0x02
#define MPC_APIC_USABLE		0x01

/* Interrupt types. */
#define MP_INT			0
#define MP_NMI			1
#define MP_EXTINT		3

/* I/O and local interrupt flags: polarity 1:0, trigger mode 3:2. */
#define MP_IRQPOL_DEFAULT	0x0	/* conforms to the bus */
#define MP_IRQPOL_ACTIVE_HIGH	0x1
#define MP_IRQTRIG_DEFAULT	0x0
#define MP_IRQTRIG_LEVEL	0xc

#define MP_APIC_ALL		0xff	/* destination: every local APIC */
#define LAPIC_VERSION		0x14	/* integrated xAPIC */
#define IOAPIC_VERSION		0x11	/* 82093AA, what KVM reports */

/* A Pentium Pro-class CPU with FPU, TSC, MSR, PAE, MCE, CX8 and APIC. */
#define DEFAULT_CPU_SIGNATURE	0x0600
#define DEFAULT_CPU_FEATURES	0x000003f1

#define ISA_NR_IRQS		16
#define ISA_CASCADE_IRQ		2	/* the slave 8259, not an input */
#define ISA_TIMER_INTIN		2	/* IRQ0 reaches IOAPIC pin 2 */

struct mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature1;	/* 0: a configuration table is present */
	uint8_t feature2;	/* bit 7 IMCRP clear: virtual wire mode */
	uint8_t feature3;
	uint8_t feature4;
	uint8_t feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;	/* base table, header included */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;	/* number of entries */
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;	/* the CPU signature */
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

/* I/O (MP_INTSRC) and local (MP_LINTSRC) interrupt entries share a shape. */
struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer");
_Static_assert(sizeof(struct mpc_table) == 44, "MP table header");
_Static_assert(sizeof(struct mpc_cpu) == 20, "processor entry");
_Static_assert(sizeof(struct mpc_bus) == 8, "bus entry");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "I/O APIC entry");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "interrupt entry");

/* Bytes appended so far, in a buffer whose size was checked up front. */
struct mp_writer {
	uint8_t *buf;
	size_t pos;
	unsigned entries;
};

static void mp_put(struct mp_writer *w, const void *entry, size_t len)
{
	memcpy(w->buf + w->pos, entry, len);
	w->pos += len;
	w->entries++;
}

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

static size_t mp_nr_isa_irqs(void)
{
	return ISA_NR_IRQS - 1;	/* all but the cascade */
}

static size_t mpc_length(const struct mptable_config *cfg)
{
	return sizeof(struct mpc_table) +
	       cfg->nr_cpus * sizeof(struct mpc_cpu) +
	       2 * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (mp_nr_isa_irqs() + cfg->nr_pci_irqs) *
		       sizeof(struct mpc_intsrc) +
	       2 * sizeof(struct mpc_intsrc);
}

static int mp_check_config(uint64_t gpa, const struct mptable_config *cfg)
{
	size_t i;

	/* APIC ID 0xff is the broadcast ID; the IOAPIC takes nr_cpus. */
	if (cfg->nr_cpus < 1 || cfg->nr_cpus >= MP_APIC_ALL)
		return -EINVAL;
	/* The floating pointer must sit on a paragraph boundary. */
	if (gpa % 16)
		return -EINVAL;
	if (cfg->nr_pci_irqs && !cfg->pci_irqs)
		return -EINVAL;
	for (i = 0; i < cfg->nr_pci_irqs; i++) {
		const struct pci_intx_route *r = &cfg->pci_irqs[i];

		if (r->dev >= PCI_NR_DEVICES || r->pin < 1 || r->pin > 4 ||
		    r->gsi >= MP_IOAPIC_PINS)
			return -EINVAL;
	}
	return 0;
}

static void mp_put_cpus(struct mp_writer *w, const struct mptable_config *cfg)
{
	uint32_t sig = cfg->cpu_signature ? cfg->cpu_signature :
					    DEFAULT_CPU_SIGNATURE;
	uint32_t feat = cfg->cpu_features ? cfg->cpu_features :
					    DEFAULT_CPU_FEATURES;
	unsigned i;

	for (i = 0; i < cfg->nr_cpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = i,
			.apicver = LAPIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = sig,
			.featureflag = feat,
		};

		mp_put(w, &cpu, sizeof(cpu));
	}
}

static void mp_put_bus(struct mp_writer *w, uint8_t id, const char *type)
{
	struct mpc_bus bus = { .type = MP_BUS, .busid = id };

	memcpy(bus.bustype, type, sizeof(bus.bustype));
	mp_put(w, &bus, sizeof(bus));
}

static void mp_put_intsrc(struct mp_writer *w, uint8_t type, uint8_t irqtype,
			  uint16_t flags, uint8_t bus, uint8_t busirq,
			  uint8_t dstapic, uint8_t dstirq)
{
	struct mpc_intsrc e = {
		.type = type,
		.irqtype = irqtype,
		.irqflag = flags,
		.srcbus = bus,
		.srcbusirq = busirq,
		.dstapic = dstapic,
		.dstirq = dstirq,
	};

	mp_put(w, &e, sizeof(e));
}

/* ISA IRQs are identity-mapped, except that the timer sits on INTIN2. */
static void mp_put_isa_irqs(struct mp_writer *w, uint8_t ioapic_id)
{
	unsigned irq;

	for (irq = 0; irq < ISA_NR_IRQS; irq++) {
		if (irq == ISA_CASCADE_IRQ)
			continue;
		mp_put_intsrc(w, MP_INTSRC, MP_INT,
			      MP_IRQPOL_DEFAULT | MP_IRQTRIG_DEFAULT,
			      MP_BUS_ISA, irq, ioapic_id,
			      irq == 0 ? ISA_TIMER_INTIN : irq);
	}
}

/* PCI source bus IRQ: device number in bits 6:2, INTA#-INTD# in 1:0. */
static void mp_put_pci_irqs(struct mp_writer *w, uint8_t ioapic_id,
			    const struct mptable_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_pci_irqs; i++) {
		const struct pci_intx_route *r = &cfg->pci_irqs[i];

		mp_put_intsrc(w, MP_INTSRC, MP_INT,
			      MP_IRQPOL_ACTIVE_HIGH | MP_IRQTRIG_LEVEL,
			      MP_BUS_PCI, (r->dev << 2) | (r->pin - 1),
			      ioapic_id, r->gsi);
	}
}

ssize_t mptable_build(void *buf, size_t size, uint64_t gpa,
		      const struct mptable_config *cfg)
{
	struct mp_writer w = { .buf = buf };
	uint8_t ioapic_id = cfg->nr_cpus;
	struct mpf_intel mpf = {
		.signature = MPF_SIGNATURE,
		.physptr = gpa + sizeof(mpf),
		.length = sizeof(mpf) / 16,
		.specification = MP_SPEC_REV,
	};
	struct mpc_table mpc = {
		.signature = MPC_SIGNATURE,
		.spec = MP_SPEC_REV,
		.oem = MPC_OEM_ID,
		.productid = MPC_PRODUCT_ID,
		.lapic = MP_LAPIC_BASE,
	};
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC,
		.apicid = ioapic_id,
		.apicver = IOAPIC_VERSION,
		.flags = MPC_APIC_USABLE,
		.apicaddr = MP_IOAPIC_BASE,
	};
	size_t len;
	int ret;

	ret = mp_check_config(gpa, cfg);
	if (ret)
		return ret;
	len = mpc_length(cfg);
	/* The length field is 16 bits, the table pointer 32. */
	if (len > UINT16_MAX || gpa + sizeof(mpf) + len > 1ull << 32)
		return -EINVAL;
	if (size < sizeof(mpf) || len > size - sizeof(mpf))
		return -ENOSPC;

	/* Entries first, the header (which counts them) last. */
	w.pos = sizeof(mpf) + sizeof(mpc);
	mp_put_cpus(&w, cfg);
	mp_put_bus(&w, MP_BUS_PCI, "PCI   ");
	mp_put_bus(&w, MP_BUS_ISA, "ISA   ");
	mp_put(&w, &ioapic, sizeof(ioapic));
	mp_put_isa_irqs(&w, ioapic_id);
	mp_put_pci_irqs(&w, ioapic_id, cfg);
	mp_put_intsrc(&w, MP_LINTSRC, MP_EXTINT, 0, MP_BUS_ISA, 0,
		      MP_APIC_ALL, 0);
	mp_put_intsrc(&w, MP_LINTSRC, MP_NMI, 0, MP_BUS_ISA, 0,
		      MP_APIC_ALL, 1);

	mpc.length = len;
	mpc.oemcount = w.entries;
	memcpy(w.buf + sizeof(mpf), &mpc, sizeof(mpc));
	w.buf[sizeof(mpf) + offsetof(struct mpc_table, checksum)] =
		mp_checksum(w.buf + sizeof(mpf), len);

	memcpy(w.buf, &mpf, sizeof(mpf));
	w.buf[offsetof(struct mpf_intel, checksum)] =
		mp_checksum(w.buf, sizeof(mpf));
	return sizeof(mpf) + len;
}

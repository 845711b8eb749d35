// SPDX-License-Identifier: MIT
/*
 * The VMM's in-core PCI test function (vmm-core --testdev, 1234:5601):
 *
 * test=testdev [count=N]: find it on bus 0, check its ID and scratch
 * registers through its I/O BAR, and take N interrupts on its INTA# as the
 * MP table routes it, level-triggered: while the line stays asserted an EOI
 * brings the interrupt back, once it is lowered none comes.
 *
 * test=bench [count=N]: the figures of the foundation's benchmark, each
 * printed as "bench: NAME VALUE UNIT": a port read handled in the VMM (one
 * exit to userspace), a device interrupt round trip (raise, deliver, lower,
 * EOI), and a self-IPI (delivered without leaving the kernel).
 */
#include "apic.h"
#include "mptable.h"
#include "pci.h"
#include "scenarios.h"

#define TESTDEV_VENDOR	0x1234
#define TESTDEV_DEVICE	0x5601
#define TESTDEV_ID	0x0
#define TESTDEV_SCRATCH	0x4
#define TESTDEV_IRQ	0x8
#define TESTDEV_ID_VAL	0x544c5053u	/* "SPLT" */
#define TESTDEV_VECTOR	0x40
#define SELF_IPI_VECTOR	0x41
#define ICR_SELF	0x00040000u	/* destination shorthand: self */
#define WAIT_US		500000
#define BENCH_LOOP_US	3000000

struct testdev {
	struct pci_dev pci;
	uint16_t io;
	struct irq_route route;
	bool found;
};

static void match(const struct pci_dev *d, void *arg)
{
	struct testdev *t = arg;

	if (d->vendor == TESTDEV_VENDOR && d->device == TESTDEV_DEVICE &&
	    !t->found) {
		t->pci = *d;
		t->found = true;
	}
}

static void testdev_find(struct testdev *t)
{
	struct pci_bar bar;
	const char *why;

	*t = (struct testdev){ 0 };
	pci_scan_bus0(match, t);
	if (!t->found)
		fail(EXIT_FAIL, "no test device %04x:%04x on bus 0 (vmm-core --testdev)",
		     TESTDEV_VENDOR, TESTDEV_DEVICE);
	pci_bar_probe(&t->pci, 0, &bar);
	if (bar.type != PCI_BAR_TYPE_IO || bar.size < 16 || !bar.addr)
		fail(EXIT_FAIL, "test device BAR0 is not a placed I/O BAR");
	t->io = (uint16_t)bar.addr;
	if (!mp_get(&why))
		fail(EXIT_FAIL, "%s", why);
	if (mp_route_pci(0, t->pci.dev, t->pci.irq_pin, &t->route))
		fail(EXIT_FAIL, "MP table does not route 00:%02x.0 INT%c",
		     t->pci.dev, 'A' + t->pci.irq_pin - 1);
	if (irq_register(&t->route, TESTDEV_VECTOR))
		fail(EXIT_FAIL, "gsi %u is on no I/O APIC", t->route.gsi);
}

static void wait_vector(uint8_t vec, uint64_t seen, const char *what)
{
	if (!wait_until(irq_count_of(vec) != seen, WAIT_US))
		fail(EXIT_TIMEOUT, "%s: no interrupt on vector 0x%x", what, vec);
}

void scenario_testdev(void)
{
	uint64_t n = param_u64("count", 20), seen;
	struct testdev t;

	time_init();
	testdev_find(&t);
	if (inl(t.io + TESTDEV_ID) != TESTDEV_ID_VAL)
		fail(EXIT_FAIL, "test device ID reads 0x%x", inl(t.io + TESTDEV_ID));
	outl(t.io + TESTDEV_SCRATCH, 0x5a5aa5a5);
	if (inl(t.io + TESTDEV_SCRATCH) != 0x5a5aa5a5)
		fail(EXIT_FAIL, "scratch register does not hold its value");
	printf("testdev: 00:%02x.0 io 0x%x INT%c -> gsi %u (%s)\n", t.pci.dev,
	       t.io, 'A' + t.pci.irq_pin - 1, t.route.gsi,
	       t.route.level ? "level" : "edge");
	for (uint64_t i = 0; i < n; i++) {
		seen = irq_count_of(TESTDEV_VECTOR);
		outl(t.io + TESTDEV_IRQ, 1);
		wait_vector(TESTDEV_VECTOR, seen, "raised");
		/* Level-triggered: an EOI with the line still high re-fires. */
		seen = irq_count_of(TESTDEV_VECTOR);
		lapic_eoi();
		if (t.route.level)
			wait_vector(TESTDEV_VECTOR, seen, "still asserted after EOI");
		outl(t.io + TESTDEV_IRQ, 0);
		seen = irq_count_of(TESTDEV_VECTOR);
		lapic_eoi();
		udelay(1000);
		if (irq_count_of(TESTDEV_VECTOR) != seen)
			fail(EXIT_FAIL, "interrupt after the line was lowered");
	}
	irq_mask(&t.route);
	printf("testdev: %llu interrupts raised, re-raised and lowered\n",
	       (unsigned long long)n);
}

static uint64_t per_second(uint64_t n, uint64_t cycles)
{
	uint64_t us = tsc_to_us(cycles);

	return us ? n * 1000000 / us : 0;
}

void scenario_bench(void)
{
	uint64_t n = param_u64("count", 2000), t0, cycles, seen, done, end;
	struct testdev t;
	volatile uint32_t sink = 0;

	if (!n)
		fail(EXIT_USAGE, "count must be at least 1");
	time_init();
	testdev_find(&t);

	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		sink += inl(t.io + TESTDEV_SCRATCH);
	cycles = rdtsc() - t0;
	printf("bench: pio-read-in-core %llu ns\n",
	       (unsigned long long)(tsc_to_us(cycles * 1000) / n));

	/*
	 * The interrupt loops stop after BENCH_LOOP_US too: where delivery
	 * waits for a host timer tick (KVM nested on PVM delivers an
	 * interrupt that is pending at VM entry only at the next tick, some
	 * ms later), N round trips would take minutes.
	 */
	t0 = rdtsc();
	done = 0;
	end = deadline_us(BENCH_LOOP_US);
	while (done < n && !deadline_passed(end)) {
		seen = irq_count_of(TESTDEV_VECTOR);
		outl(t.io + TESTDEV_IRQ, 1);
		wait_vector(TESTDEV_VECTOR, seen, "bench");
		outl(t.io + TESTDEV_IRQ, 0);
		lapic_eoi();
		done++;
	}
	cycles = rdtsc() - t0;
	irq_mask(&t.route);
	printf("bench: testdev-irq-round-trip %llu per second (%llu round trips)\n",
	       (unsigned long long)per_second(done, cycles),
	       (unsigned long long)done);

	t0 = rdtsc();
	done = 0;
	end = deadline_us(BENCH_LOOP_US);
	while (done < n && !deadline_passed(end)) {
		seen = irq_count_of(SELF_IPI_VECTOR);
		lapic_write(LAPIC_ICR_LO, ICR_SELF | SELF_IPI_VECTOR);
		wait_vector(SELF_IPI_VECTOR, seen, "self-IPI");
		lapic_eoi();
		done++;
	}
	cycles = rdtsc() - t0;
	printf("bench: self-ipi %llu per second (%llu)\n",
	       (unsigned long long)per_second(done, cycles),
	       (unsigned long long)done);
	(void)sink;
}

// SPDX-License-Identifier: MIT
/*
 * test=bench-dev [count=N]: the device protocol's benchmark, side by side
 * in one run: a register read handled in vmm-core (--testdev) and the same
 * read forwarded to an out-of-process device (tests/refdev), posted writes
 * to that device, and interrupt round trips through its irqfd.  Prints
 * "bench: NAME VALUE UNIT" lines; the harness (tests/bench/run-dev-bench.sh)
 * runs it once with spinning doorbells and once with sleeping ones.
 */
#include "apic.h"
#include "mptable.h"
#include "pci.h"
#include "../../refdev/refdev.h"
#include "scenarios.h"

#define TESTDEV_VENDOR	0x1234
#define TESTDEV_DEVICE	0x5601
#define TESTDEV_SCRATCH	0x4
#define REFDEV_VECTOR	0x48
#define WAIT_US		500000

struct found {
	uint16_t vendor, device;
	struct pci_dev pci;
	bool ok;
};

static void match(const struct pci_dev *d, void *arg)
{
	struct found *f = arg;

	if (d->vendor == f->vendor && d->device == f->device && !f->ok) {
		f->pci = *d;
		f->ok = true;
	}
}

static uint16_t find_io(uint16_t vendor, uint16_t device, struct pci_dev *out)
{
	struct found f = { .vendor = vendor, .device = device };
	struct pci_bar bar;

	pci_scan_bus0(match, &f);
	if (!f.ok)
		fail(EXIT_FAIL, "bench-dev needs %04x:%04x on bus 0", vendor, device);
	pci_bar_probe(&f.pci, 0, &bar);
	if (bar.type != PCI_BAR_TYPE_IO || !bar.addr)
		fail(EXIT_FAIL, "%04x:%04x BAR0 is not a placed I/O BAR", vendor,
		     device);
	if (out)
		*out = f.pci;
	return (uint16_t)bar.addr;
}

static uint64_t ns_per(uint64_t cycles, uint64_t n)
{
	return tsc_to_us(cycles * 1000) / n;
}

static uint64_t per_second(uint64_t n, uint64_t cycles)
{
	uint64_t us = tsc_to_us(cycles);

	return us ? n * 1000000 / us : 0;
}

void scenario_bench_dev(void)
{
	uint64_t n = param_u64("count", 2000), t0, cycles, seen;
	uint16_t core_io, dev_io;
	struct pci_dev rd;
	struct irq_route route;
	volatile uint32_t sink = 0;
	const char *why;

	if (!n)
		fail(EXIT_USAGE, "count must be at least 1");
	time_init();
	core_io = find_io(TESTDEV_VENDOR, TESTDEV_DEVICE, NULL);
	dev_io = find_io(REFDEV_VENDOR, REFDEV_DEVICE, &rd);
	if (inl(dev_io + REFDEV_ID) != REFDEV_ID_VAL)
		fail(EXIT_FAIL, "refdev ID reads 0x%x", inl(dev_io + REFDEV_ID));

	/* Interleaved in blocks, so drift on a noisy host hits both alike. */
	uint64_t c_core = 0, c_dev = 0;

	for (uint64_t done = 0; done < n; done += 100) {
		uint64_t k = n - done < 100 ? n - done : 100;

		t0 = rdtsc();
		for (uint64_t i = 0; i < k; i++)
			sink += inl(core_io + TESTDEV_SCRATCH);
		c_core += rdtsc() - t0;
		t0 = rdtsc();
		for (uint64_t i = 0; i < k; i++)
			sink += inl(dev_io + REFDEV_SCRATCH);
		c_dev += rdtsc() - t0;
	}
	printf("bench: pio-read-in-core %llu ns\n",
	       (unsigned long long)ns_per(c_core, n));
	printf("bench: pio-read-forwarded %llu ns\n",
	       (unsigned long long)ns_per(c_dev, n));

	/* Posted writes; the read at the end waits until all have landed. */
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++)
		outl(dev_io + REFDEV_SCRATCH, (uint32_t)i);
	if (inl(dev_io + REFDEV_SCRATCH) != (uint32_t)(n - 1))
		fail(EXIT_FAIL, "posted writes: scratch lost the last value");
	cycles = rdtsc() - t0;
	printf("bench: posted-write %llu ns\n",
	       (unsigned long long)ns_per(cycles, n));
	printf("bench: posted-writes %llu per second\n",
	       (unsigned long long)per_second(n, cycles));

	/* Interrupt round trips through the device's irqfd. */
	if (!mp_get(&why))
		fail(EXIT_FAIL, "%s", why);
	if (mp_route_pci(0, rd.dev, rd.irq_pin, &route) ||
	    irq_register(&route, REFDEV_VECTOR))
		fail(EXIT_FAIL, "refdev INT%c is not routed", 'A' + rd.irq_pin - 1);
	t0 = rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		seen = irq_count_of(REFDEV_VECTOR);
		outl(dev_io + REFDEV_IRQ, 1);
		if (!wait_until(irq_count_of(REFDEV_VECTOR) != seen, WAIT_US))
			fail(EXIT_TIMEOUT, "refdev interrupt %llu never came",
			     (unsigned long long)i);
		outl(dev_io + REFDEV_IRQ, 0);
		/* The read drains the posted write first, so the line is low
		 * before the EOI and nothing re-fires (as a driver's ISR
		 * reads its status register). */
		sink += inl(dev_io + REFDEV_IRQ);
		lapic_eoi();
	}
	cycles = rdtsc() - t0;
	irq_mask(&route);
	printf("bench: irqfd-round-trip %llu per second\n",
	       (unsigned long long)per_second(n, cycles));
	(void)sink;
}

// SPDX-License-Identifier: MIT
/*
 * test=pci-scan: every function on bus 0, its BARs (sized), its interrupt
 * pin and where the MP table routes it. Needs a host bridge at 00:00.0.
 */
#include "mptable.h"
#include "pci.h"
#include "scenarios.h"

struct scan {
	bool host_bridge;
};

static const char *const bar_types[] = { "io", "mem32", "mem64" };

static void print_bars(const struct pci_dev *d)
{
	unsigned int n = pci_bar_count(d);

	for (unsigned int i = 0; i < n;) {
		struct pci_bar bar;
		unsigned int used = pci_bar_probe(d, i, &bar);

		if (bar.size)
			printf("  BAR%u %s%s addr 0x%llx size 0x%llx\n", i,
			       bar_types[bar.type],
			       bar.prefetch ? " prefetch" : "",
			       (unsigned long long)bar.addr,
			       (unsigned long long)bar.size);
		i += used;
	}
}

static void print_irq(const struct pci_dev *d)
{
	struct irq_route r;
	char pin = (char)('A' + d->irq_pin - 1);
	const char *why = NULL;

	if (!d->irq_pin)
		return;
	if (d->irq_pin > 4) {
		printf("  INT? pin register 0x%x is invalid\n", d->irq_pin);
		return;
	}
	if (!mp_get(&why)) {
		printf("  INT%c -> gsi ? (line %u; %s)\n", pin, d->irq_line,
		       why);
		return;
	}
	if (mp_route_pci(d->bus, d->dev, d->irq_pin, &r)) {
		printf("  INT%c -> gsi ? (line %u; no MP-table entry)\n", pin,
		       d->irq_line);
		return;
	}
	printf("  INT%c -> gsi %u (line %u, %s, active %s)\n", pin, r.gsi,
	       d->irq_line, r.level ? "level" : "edge",
	       r.active_low ? "low" : "high");
}

static void show(const struct pci_dev *d, void *arg)
{
	struct scan *s = arg;

	printf("pci 00:%02x.%x %04x:%04x class %06x rev %02x\n", d->dev, d->fn,
	       d->vendor, d->device, d->class, d->rev);
	if (d->dev == 0 && d->fn == 0 &&
	    d->class >> 8 == PCI_CLASS_HOST_BRIDGE)
		s->host_bridge = true;
	print_bars(d);
	print_irq(d);
}

void scenario_pci_scan(void)
{
	struct scan s = { 0 };
	unsigned int n = pci_scan_bus0(show, &s);

	printf("pci: %u functions on bus 0\n", n);
	if (!s.host_bridge)
		fail(EXIT_FAIL, "no host bridge (class 0600) at 00:00.0");
}

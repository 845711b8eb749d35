// SPDX-License-Identifier: MIT
/*
 * test=irq [count=N]: PIT channel 0 at ~1 kHz on ISA IRQ0, routed through
 * the I/O APIC as the MP table says (pin 2 on QEMU/SeaBIOS). The CPL3 loop
 * sees each interrupt in irq_count[] and writes EOI, as a driver would
 * after acknowledging its device.
 */
#include "apic.h"
#include "mptable.h"
#include "scenarios.h"

#define PIT_HZ		1193182
#define PIT_CH0		0x40
#define PIT_MODE	0x43
#define PIT_LOHI	0x30
#define PIT_MODE2	0x04	/* rate generator */
#define PIT_MODE0	0x00
#define IRQ_HZ		1000
#define IRQ_VECTOR	0x30
#define IRQ_TIMEOUT_US	200000	/* per interrupt; the PIT ticks every 1 ms */

static void pit_start(void)
{
	uint16_t div = (PIT_HZ + IRQ_HZ / 2) / IRQ_HZ;

	outb(PIT_MODE, PIT_LOHI | PIT_MODE2);
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
}

/* Mode 0 with no count written: OUT stays low, no more edges. */
static void pit_stop(void)
{
	outb(PIT_MODE, PIT_LOHI | PIT_MODE0);
}

static void report_stray(void)
{
	for (unsigned int v = VEC_FIRST_IRQ; v < 256; v++)
		if (v != IRQ_VECTOR && irq_count_of((uint8_t)v))
			printf("irq: vector 0x%x got %llu interrupts\n", v,
			       (unsigned long long)irq_count_of((uint8_t)v));
}

void scenario_irq(void)
{
	uint64_t want = param_u64("count", 50);
	uint64_t seen = irq_count_of(IRQ_VECTOR), got = 0, t0 = 0, us;
	struct irq_route r;
	const char *why;

	if (!want)
		fail(EXIT_USAGE, "count must be at least 1");
	if (!mp_get(&why))
		fail(EXIT_FAIL, "%s", why);
	if (mp_route_isa(0, &r))
		fail(EXIT_FAIL, "MP table does not route ISA IRQ0");
	time_init();	/* calibrate before the PIT's channel 0 runs */
	if (irq_register(&r, IRQ_VECTOR))
		fail(EXIT_FAIL, "gsi %u is on no I/O APIC", r.gsi);
	pit_start();
	while (got < want) {
		if (!wait_until(irq_count_of(IRQ_VECTOR) != seen,
				IRQ_TIMEOUT_US)) {
			pit_stop();
			irq_mask(&r);
			report_stray();
			fail(EXIT_TIMEOUT,
			     "%llu of %llu interrupts on vector 0x%x (gsi %u)",
			     (unsigned long long)got, (unsigned long long)want,
			     IRQ_VECTOR, r.gsi);
		}
		if (!got)
			t0 = rdtsc();
		seen = irq_count_of(IRQ_VECTOR);
		got++;
		lapic_eoi();
	}
	us = tsc_to_us(rdtsc() - t0);
	pit_stop();
	irq_mask(&r);
	printf("irq: %llu interrupts on vector 0x%x (gsi %u), ~%llu per second\n",
	       (unsigned long long)got, IRQ_VECTOR, r.gsi,
	       (unsigned long long)(us ? (got - 1) * 1000000 / us : 0));
}

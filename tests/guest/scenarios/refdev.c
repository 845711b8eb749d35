// SPDX-License-Identifier: MIT
/*
 * The reference out-of-process device (tests/refdev, 1234:5602), served by
 * a separate process through vmm-core --device-sock:
 *
 * test=refdev [mode=basic]: ID, 1000 SCRATCH writes each read back (a
 * posted write must land before the synchronous read that follows it),
 * WRITES counting exactly those, DMA of a pattern into guest RAM checked
 * byte by byte, DMA outside RAM flagged in STATUS, and 20 level-triggered
 * interrupts as the MP table routes INTA#.
 *
 * test=refdev mode=persist [ms=N] [every=N]: for N ms, write SCRATCH and
 * read back SCRATCH and WRITES, printing "refdev: persist ok k=..." every
 * N iterations; the harness kills and restarts refdev meanwhile, and
 * nothing may be lost: SCRATCH always holds the last write, WRITES never
 * goes back.
 *
 * test=refdev mode=pump [rounds=N]: with refdev --coalesce-go, DMA_GO is
 * a KVM coalesced port and costs no exit; each round writes it and then
 * only watches guest memory for the fill (nothing else leaves the guest),
 * which vmm-core's pump must deliver within its bound.
 *
 * test=refdev mode=absent [wait_ms=N]: the harness kills refdev for good
 * once "refdev: absent: waiting" is printed; the function must then read
 * as a removed one, all-ones, and ignore writes.
 */
#include "apic.h"
#include "mptable.h"
#include "pci.h"
#include "scenarios.h"
#include "../../refdev/refdev.h"

#define REFDEV_VECTOR	0x48
#define WAIT_US		500000
#define SCRATCH_ROUNDS	1000
#define IRQ_ROUNDS	20
#define STALE_MAX	2	/* in flight when the line is lowered */
#define DMA_SEED	0x5d
#define NOT_RAM		0xffff0000u	/* below 4 GiB, never guest RAM */
#define ALL_ONES	0xffffffffu

struct refdev {
	struct pci_dev pci;
	uint16_t io;
	struct irq_route route;
	bool found;
};

static uint8_t dma_buf[4096] __attribute__((aligned(4096)));

/* inl/outl do not clobber memory; the device writes dma_buf behind the
 * compiler's back. */
#define barrier() asm volatile("" ::: "memory")

static uint32_t rd(const struct refdev *t, uint16_t reg)
{
	return inl(t->io + reg);
}

static void wr(const struct refdev *t, uint16_t reg, uint32_t v)
{
	outl(t->io + reg, v);
}

static void match(const struct pci_dev *d, void *arg)
{
	struct refdev *t = arg;

	if (d->vendor == REFDEV_VENDOR && d->device == REFDEV_DEVICE &&
	    !t->found) {
		t->pci = *d;
		t->found = true;
	}
}

static void refdev_find(struct refdev *t)
{
	struct pci_bar bar;
	uint32_t id;

	*t = (struct refdev){ 0 };
	pci_scan_bus0(match, t);
	if (!t->found)
		fail(EXIT_FAIL, "no refdev %04x:%04x on bus 0 (vmm-core --device-sock with refdev attached)",
		     REFDEV_VENDOR, REFDEV_DEVICE);
	if (t->pci.class != REFDEV_CLASS || t->pci.irq_pin != 1)
		fail(EXIT_FAIL, "refdev class %06x INT pin %u, expected %06x INTA",
		     t->pci.class, t->pci.irq_pin, REFDEV_CLASS);
	pci_bar_probe(&t->pci, 0, &bar);
	if (bar.type != PCI_BAR_TYPE_IO || bar.size != REFDEV_BAR0_SIZE ||
	    !bar.addr)
		fail(EXIT_FAIL, "refdev BAR0 is not a placed %u-byte I/O BAR",
		     REFDEV_BAR0_SIZE);
	t->io = (uint16_t)bar.addr;
	id = rd(t, REFDEV_ID);
	if (id != REFDEV_ID_VAL)
		fail(EXIT_FAIL, "refdev ID reads 0x%x, expected 0x%x", id,
		     REFDEV_ID_VAL);
}

static void refdev_route(struct refdev *t)
{
	const char *why;

	if (!mp_get(&why))
		fail(EXIT_FAIL, "%s", why);
	if (mp_route_pci(0, t->pci.dev, t->pci.irq_pin, &t->route))
		fail(EXIT_FAIL, "MP table does not route 00:%02x.0 INT%c",
		     t->pci.dev, 'A' + t->pci.irq_pin - 1);
	if (irq_register(&t->route, REFDEV_VECTOR))
		fail(EXIT_FAIL, "gsi %u is on no I/O APIC", t->route.gsi);
}

static void check_scratch(const struct refdev *t)
{
	uint32_t w0 = rd(t, REFDEV_WRITES), w1, v, r;

	for (uint32_t i = 0; i < SCRATCH_ROUNDS; i++) {
		v = ((i + 1) * 0x9e3779b9u) ^ (i << 7);
		wr(t, REFDEV_SCRATCH, v);
		r = rd(t, REFDEV_SCRATCH);
		if (r != v)
			fail(EXIT_FAIL, "SCRATCH write %u of 0x%x read back 0x%x",
			     i, v, r);
	}
	w1 = rd(t, REFDEV_WRITES);
	if (w1 - w0 != SCRATCH_ROUNDS)
		fail(EXIT_FAIL, "WRITES rose by %u over %u writes", w1 - w0,
		     SCRATCH_ROUNDS);
	printf("refdev: %u scratch writes read back in order, WRITES +%u\n",
	       SCRATCH_ROUNDS, w1 - w0);
}

/* DMA [addr, +len) with @seed; returns STATUS after it. */
static uint32_t dma(const struct refdev *t, uint32_t addr, uint32_t len,
		    uint32_t seed)
{
	uint32_t st;

	barrier();
	wr(t, REFDEV_DMA_ADDR, addr);
	wr(t, REFDEV_DMA_LEN, len);
	wr(t, REFDEV_DMA_GO, seed);
	/* A read after the posted GO returns once the fill is done. */
	st = rd(t, REFDEV_STATUS);
	barrier();
	return st;
}

static void check_pattern(size_t from, size_t to, uint32_t seed)
{
	for (size_t i = from; i < to; i++) {
		uint8_t want = REFDEV_DMA_BYTE(i - from, seed);

		if (dma_buf[i] != want)
			fail(EXIT_FAIL, "DMA byte %zu is 0x%02x, expected 0x%02x",
			     i, dma_buf[i], want);
	}
}

static void check_untouched(size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (dma_buf[i])
			fail(EXIT_FAIL, "byte %zu outside the DMA range is 0x%02x",
			     i, dma_buf[i]);
}

static void check_dma(const struct refdev *t)
{
	uint32_t buf = (uint32_t)(uintptr_t)dma_buf, st;

	memset(dma_buf, 0, sizeof(dma_buf));
	st = dma(t, buf, sizeof(dma_buf), DMA_SEED);
	if (st)
		fail(EXIT_FAIL, "STATUS 0x%x after a DMA into RAM", st);
	check_pattern(0, sizeof(dma_buf), DMA_SEED);

	/* A short range leaves its neighbours alone. */
	memset(dma_buf, 0, sizeof(dma_buf));
	st = dma(t, buf + 100, 50, 0x11);
	if (st)
		fail(EXIT_FAIL, "STATUS 0x%x after a short DMA", st);
	check_untouched(0, 100);
	check_pattern(100, 150, 0x11);
	check_untouched(150, sizeof(dma_buf));

	/* Outside RAM, and a length running past the end of it. */
	st = dma(t, NOT_RAM, sizeof(dma_buf), DMA_SEED);
	if (!(st & REFDEV_STATUS_DMA_FAULT))
		fail(EXIT_FAIL, "DMA to 0x%x left STATUS 0x%x", NOT_RAM, st);
	wr(t, REFDEV_STATUS, REFDEV_STATUS_DMA_FAULT);
	if ((st = rd(t, REFDEV_STATUS)))
		fail(EXIT_FAIL, "STATUS 0x%x after writing 1 to clear it", st);
	st = dma(t, buf, ALL_ONES, DMA_SEED);
	if (!(st & REFDEV_STATUS_DMA_FAULT))
		fail(EXIT_FAIL, "DMA of 4 GiB left STATUS 0x%x", st);
	wr(t, REFDEV_STATUS, REFDEV_STATUS_DMA_FAULT);
	check_untouched(0, 100);
	printf("refdev: DMA of %zu bytes verified, faults flagged and cleared\n",
	       sizeof(dma_buf));
}

static void wait_vector(uint64_t seen, const char *what)
{
	if (!wait_until(irq_count_of(REFDEV_VECTOR) != seen, WAIT_US))
		fail(EXIT_TIMEOUT, "%s: no interrupt on vector 0x%x", what,
		     REFDEV_VECTOR);
}

/*
 * After IRQ=0 has been read back, the line must go quiet.  One more
 * interrupt may still come: a re-assertion the device signalled at a
 * resample just before it executed IRQ=0, which KVM injects
 * asynchronously (irqfd work for a level GSI).  A stuck line keeps coming
 * back and fails.  Returns the stale interrupts seen.
 */
static unsigned wait_quiet(void)
{
	uint64_t seen;

	for (unsigned stale = 0; stale <= STALE_MAX; stale++) {
		seen = irq_count_of(REFDEV_VECTOR);
		lapic_eoi();
		udelay(1000);
		if (irq_count_of(REFDEV_VECTOR) == seen)
			return stale;
	}
	fail(EXIT_FAIL, "interrupts go on after the line was lowered");
}

static void check_irq(struct refdev *t)
{
	uint64_t seen, before = irq_count_of(REFDEV_VECTOR);
	unsigned stale = 0;

	refdev_route(t);
	printf("refdev: 00:%02x.0 io 0x%x INT%c -> gsi %u (%s)\n", t->pci.dev,
	       t->io, 'A' + t->pci.irq_pin - 1, t->route.gsi,
	       t->route.level ? "level" : "edge");
	for (unsigned i = 0; i < IRQ_ROUNDS; i++) {
		seen = irq_count_of(REFDEV_VECTOR);
		wr(t, REFDEV_IRQ, 1);
		wait_vector(seen, "raised");
		/* Level-triggered: the device re-signals at the resample. */
		seen = irq_count_of(REFDEV_VECTOR);
		lapic_eoi();
		if (t->route.level)
			wait_vector(seen, "still asserted after EOI");
		wr(t, REFDEV_IRQ, 0);
		if (rd(t, REFDEV_IRQ))
			fail(EXIT_FAIL, "IRQ reads 1 after writing 0");
		stale += wait_quiet();
	}
	irq_mask(&t->route);
	/* More are counted than the 2 x IRQ_ROUNDS the guest waits for where
	 * the host acknowledges a level interrupt at delivery: the device
	 * re-asserts at each resample until the line is lowered. */
	printf("refdev: %u interrupts raised, re-raised and lowered (%llu counted, %u stale)\n",
	       IRQ_ROUNDS,
	       (unsigned long long)(irq_count_of(REFDEV_VECTOR) - before), stale);
}

static void mode_basic(struct refdev *t)
{
	check_scratch(t);
	check_dma(t);
	check_irq(t);
}

static void mode_persist(const struct refdev *t)
{
	uint64_t ms = param_u64("ms", 8000), every = param_u64("every", 1000);
	uint64_t dl, k, t0, stall, longest = 0;
	uint32_t v, r, w, prev = rd(t, REFDEV_WRITES);

	if (!every)
		fail(EXIT_USAGE, "every must be at least 1");
	dl = deadline_us(ms * 1000);
	for (k = 0; !deadline_passed(dl); k++) {
		v = 0x5a5a0000u + (uint32_t)(k & 0xffff);
		t0 = rdtsc();
		wr(t, REFDEV_SCRATCH, v);
		r = rd(t, REFDEV_SCRATCH);
		w = rd(t, REFDEV_WRITES);
		stall = rdtsc() - t0;
		if (stall > longest)
			longest = stall;
		if (r != v)
			fail(EXIT_FAIL, "k=%llu: SCRATCH reads 0x%x after writing 0x%x",
			     (unsigned long long)k, r, v);
		/* At least one more: a replayed write may count twice. */
		if (w <= prev)
			fail(EXIT_FAIL, "k=%llu: WRITES went from %u to %u",
			     (unsigned long long)k, prev, w);
		prev = w;
		if (k % every == 0)
			printf("refdev: persist ok k=%llu writes=%u\n",
			       (unsigned long long)k, w);
	}
	printf("refdev: persist %llu rounds consistent, longest round %llu ms\n",
	       (unsigned long long)k,
	       (unsigned long long)tsc_to_us(longest) / 1000);
}

static void mode_pump(const struct refdev *t)
{
	uint64_t rounds = param_u64("rounds", 200), t0, longest = 0, d;
	uint32_t buf = (uint32_t)(uintptr_t)dma_buf;

	wr(t, REFDEV_DMA_ADDR, buf);
	wr(t, REFDEV_DMA_LEN, 64);
	(void)rd(t, REFDEV_STATUS);	/* both applied */
	for (uint64_t k = 0; k < rounds; k++) {
		uint8_t seed = (uint8_t)(k + 1);

		barrier();
		t0 = rdtsc();
		wr(t, REFDEV_DMA_GO, seed);
		/* The last byte filled says the whole range is. */
		if (!wait_until(*(volatile uint8_t *)&dma_buf[63] ==
					REFDEV_DMA_BYTE(63u, seed), WAIT_US))
			fail(EXIT_TIMEOUT,
			     "round %llu: a coalesced DMA_GO was not delivered in %u ms without an exit",
			     (unsigned long long)k, WAIT_US / 1000);
		d = rdtsc() - t0;
		if (d > longest)
			longest = d;
		barrier();
		check_pattern(0, 64, seed);
	}
	printf("refdev: pump delivered %llu coalesced writes, longest %llu us\n",
	       (unsigned long long)rounds,
	       (unsigned long long)tsc_to_us(longest));
}

static void mode_absent(const struct refdev *t)
{
	uint64_t wait_ms = param_u64("wait_ms", 30000), dl;
	uint32_t id;

	printf("refdev: absent: waiting for the device to go away\n");
	dl = deadline_us(wait_ms * 1000);
	for (;;) {
		id = rd(t, REFDEV_ID);
		if (id == ALL_ONES)
			break;
		if (id != REFDEV_ID_VAL)
			fail(EXIT_FAIL, "ID reads 0x%x while the device goes away",
			     id);
		if (deadline_passed(dl))
			fail(EXIT_TIMEOUT, "ID still answers after %llu ms",
			     (unsigned long long)wait_ms);
		udelay(1000);
	}
	/* As a removed function: every read all-ones, writes go nowhere. */
	wr(t, REFDEV_SCRATCH, 0x1234);
	if (rd(t, REFDEV_SCRATCH) != ALL_ONES || inb(t->io + REFDEV_ID) != 0xff ||
	    inw(t->io + REFDEV_WRITES) != 0xffff)
		fail(EXIT_FAIL, "a removed refdev answers something but all-ones");
	printf("refdev: absent reads all-ones\n");
}

void scenario_refdev(void)
{
	const char *mode = param("mode");
	struct refdev t;

	if (!mode || !*mode)
		mode = "basic";
	if (strcmp(mode, "basic") && strcmp(mode, "persist") &&
	    strcmp(mode, "absent") && strcmp(mode, "pump"))
		fail(EXIT_USAGE, "mode=%s: expected basic, persist, pump or absent",
		     mode);
	time_init();
	refdev_find(&t);
	if (!strcmp(mode, "basic"))
		mode_basic(&t);
	else if (!strcmp(mode, "persist"))
		mode_persist(&t);
	else if (!strcmp(mode, "pump"))
		mode_pump(&t);
	else
		mode_absent(&t);
}

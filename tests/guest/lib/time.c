// SPDX-License-Identifier: MIT
/*
 * Time from the TSC, calibrated once against PIT channel 2 (the way both
 * QEMU and KVM's in-kernel PIT provide it: gate and OUT2 on port 0x61).
 * Every port access is a VM exit of a few tens of microseconds here, so the
 * window is 20 ms to keep the error near 0.2 %. Without port 0x61, channel 0
 * is read back with latch commands instead; then CPUID leaf 0x15/0x16.
 * "tsc_khz=N" on the command line overrides all of them.
 */
#include "guest.h"

#define PIT_HZ		1193182
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_MODE	0x43
#define PIT_SEL_CH0	0x00
#define PIT_SEL_CH2	0x80
#define PIT_LATCH	0x00	/* counter latch command (access bits 00) */
#define PIT_LOHI	0x30
#define PIT_MODE0	0x00	/* interrupt on terminal count: OUT high at 0 */
#define PIT_MODE2	0x04	/* rate generator */
#define PORT_B		0x61	/* NMI status and control */
#define PORT_B_GATE2	0x01
#define PORT_B_SPKR	0x02
#define PORT_B_OUT2	0x20

#define CAL_MS		20
#define CAL_POLLS_MAX	2000000
#define CAL_TSC_MAX	5000000000ull	/* >= 0.25 s at any plausible clock */
#define CAL_STUCK	1000		/* reads without the count moving */
#define KHZ_MIN		10000		/* 10 MHz .. 20 GHz: else not believed */
#define KHZ_MAX		20000000

static uint64_t khz;
static const char *source = "none";

static uint64_t calibrate_pit(void)
{
	uint16_t count = PIT_HZ * CAL_MS / 1000;
	uint64_t t0, t1, khz_pit;
	uint8_t b = inb(PORT_B);

	outb(PORT_B, (b & ~PORT_B_SPKR) | PORT_B_GATE2);
	outb(PIT_MODE, PIT_SEL_CH2 | PIT_LOHI | PIT_MODE0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	t0 = rdtsc();
	/* OUT2 goes low with the mode word; high already means no PIT
	 * (an unclaimed port reads 0xff). */
	if (inb(PORT_B) & PORT_B_OUT2)
		return 0;
	for (unsigned int i = 0;; i++) {
		if (inb(PORT_B) & PORT_B_OUT2)
			break;
		if (i > CAL_POLLS_MAX || rdtsc() - t0 > CAL_TSC_MAX)
			return 0;
	}
	t1 = rdtsc();
	outb(PORT_B, b & ~(PORT_B_SPKR | PORT_B_GATE2));
	khz_pit = (t1 - t0) * PIT_HZ / count / 1000;
	return khz_pit >= KHZ_MIN && khz_pit <= KHZ_MAX ? khz_pit : 0;
}

static uint16_t pit0_read(void)
{
	uint8_t lo, hi;

	outb(PIT_MODE, PIT_SEL_CH0 | PIT_LATCH);
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(hi << 8 | lo);
}

/* Channel 0 free-running from 65536 (IRQ0 is masked everywhere). */
static uint64_t calibrate_pit0(void)
{
	uint32_t want = PIT_HZ * CAL_MS / 1000, elapsed = 0;
	uint64_t t0, t1, khz_pit;
	uint16_t prev, cur;

	outb(PIT_MODE, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE2);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	prev = pit0_read();
	t0 = rdtsc();
	for (unsigned int i = 0; elapsed < want; i++) {
		cur = pit0_read();
		elapsed += (uint16_t)(prev - cur);	/* counts down */
		prev = cur;
		if ((i > CAL_STUCK && !elapsed) || i > CAL_POLLS_MAX ||
		    rdtsc() - t0 > CAL_TSC_MAX)
			return 0;
	}
	t1 = rdtsc();
	outb(PIT_MODE, PIT_SEL_CH0 | PIT_LOHI | PIT_MODE0);	/* stop */
	khz_pit = (t1 - t0) * PIT_HZ / elapsed / 1000;
	return khz_pit >= KHZ_MIN && khz_pit <= KHZ_MAX ? khz_pit : 0;
}

/* CPUID 0x15 (TSC/crystal ratio), else 0x16 (base MHz, approximate). */
static uint64_t calibrate_cpuid(void)
{
	uint32_t r[4];
	uint32_t max;

	cpuid(0, 0, r);
	max = r[0];
	if (max >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2])
			return (uint64_t)r[2] * r[1] / r[0] / 1000;
	}
	if (max >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff)
			return (uint64_t)(r[0] & 0xffff) * 1000;
	}
	return 0;
}

void time_init(void)
{
	if (khz)
		return;
	khz = param_u64("tsc_khz", 0);
	if (khz) {
		source = "command line";
		return;
	}
	khz = calibrate_pit();
	source = "PIT channel 2";
	if (khz)
		return;
	khz = calibrate_pit0();
	source = "PIT channel 0";
	if (khz)
		return;
	khz = calibrate_cpuid();
	source = "CPUID";
	if (khz < KHZ_MIN || khz > KHZ_MAX)
		fail(EXIT_TIMEOUT, "TSC calibration: the PIT does not count and "
		     "CPUID has no frequency (try tsc_khz=N)");
}

uint64_t tsc_khz(void)
{
	time_init();
	return khz;
}

const char *tsc_source(void)
{
	return source;
}

uint64_t tsc_from_us(uint64_t us)
{
	return us * tsc_khz() / 1000;
}

uint64_t tsc_to_us(uint64_t cycles)
{
	return cycles * 1000 / tsc_khz();
}

uint64_t deadline_us(uint64_t us)
{
	return rdtsc() + tsc_from_us(us);
}

bool deadline_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void udelay(uint64_t us)
{
	uint64_t d = deadline_us(us);

	while (!deadline_passed(d))
		cpu_relax();
}

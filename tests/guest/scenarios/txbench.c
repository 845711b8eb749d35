// SPDX-License-Identifier: MIT
/*
 * Bulk transmit for the Table 3 benchmark (tests/bench/run-table3.sh):
 *
 *   test=txbench ip=A peer=B [driver=linux|batch] [size=S] [frames=N]
 *                [pause_ms=P] [ring=R] [go=serial]
 *
 * N frames of S bytes (60..1514, no FCS) to a unicast address nobody on
 * the host owns (the host's interface counts and drops them: no replies
 * come back to disturb the count), ethertype 0x88b5 (local experimental).
 *
 *   driver=linux: pcnet32's pattern at one frame per interrupt: queue a
 *       frame, CSR0 = IENA | TDMD, wait for the interrupt, handle it
 *       (read CSR0, acknowledge, reclaim, IENA again), then the next.
 *   driver=batch: a batching driver (NetBSD pcn(4)'s way: 128 frames
 *       queued at most): CSR5 TOKINTD | LTINTEN, a 128-descriptor ring
 *       (ring=R: R of 16 to 512), fill every free descriptor, LTINT on
 *       the last, one TDMD per batch; refills when half the ring came
 *       back, read from the descriptors; the one interrupt per batch is
 *       handled as above.
 *
 * The timed part prints nothing (the console is port I/O too): "txbench:
 * ready" before it and "txbench: finished" after it are each followed by P ms
 * (default 1000) without port I/O, in which the harness reads the
 * processes' counters.  With go=serial the guest then also waits for a
 * byte on COM1, which the harness sends once it has read them: a slow
 * read (a loaded host, a sanitizer build) then makes the guest wait
 * instead of counting part of the run.  That wait polls COM1 every 50 ms,
 * so only reads that outlast the pause see a few exits.  Prints frames/s and Mbit/s as the guest saw them
 * (first frame queued to the last descriptor back).
 */
#include "net.h"
#include "scenarios.h"

#define TXBENCH_ETHERTYPE	0x88b5
#define IRQ_WAIT_US		1000000
#define GO_WAIT_US		60000000
#define GO_POLL_US		50000

static void build(uint8_t *f, uint32_t len, const struct net *n, uint64_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };

	memcpy(f, dst, 6);
	memcpy(f + 6, n->p.mac, 6);
	f[12] = TXBENCH_ETHERTYPE >> 8;
	f[13] = TXBENCH_ETHERTYPE & 0xff;
	memcpy(f + ETH_HLEN, &seq, sizeof(seq));
	for (uint32_t i = ETH_HLEN + 8; i < len; i++)
		f[i] = (uint8_t)i;
}

/* TSC cycles the driver spent waiting for the chip (interrupts handled
 * while waiting included): how much of the run the device side bounds. */
static uint64_t wait_cycles;

static void run_linux(struct net *n, uint8_t *f, uint32_t size, uint64_t frames)
{
	for (uint64_t i = 0; i < frames; i++) {
		uint64_t irqs = n->st.irqs, end, w0;

		memcpy(f + ETH_HLEN, &i, sizeof(i));
		if (!net_tx_frame(n, f, size, 0))
			fail(EXIT_FAIL, "TX ring full at frame %llu",
			     (unsigned long long)i);
		/* One frame per interrupt: its TINT is awaited. */
		w0 = rdtsc();
		end = deadline_us(IRQ_WAIT_US);
		while (n->st.irqs == irqs || net_tx_reclaim(n)) {
			net_poll(n, 1000);
			if (deadline_passed(end))
				fail(EXIT_FAIL, "no TX interrupt for frame %llu in 1 s",
				     (unsigned long long)i);
		}
		wait_cycles += rdtsc() - w0;
	}
}

static void run_batch(struct net *n, uint8_t *f, uint32_t size, uint64_t frames)
{
	unsigned int ring = net_tx_ring_size(n);
	uint64_t queued = 0;

	net_tx_ltint(n);
	while (queued < frames) {
		unsigned int room = ring - net_tx_reclaim(n);
		uint64_t end, w0;

		if (room > frames - queued)
			room = (unsigned int)(frames - queued);
		for (unsigned int k = 0; k < room; k++, queued++) {
			memcpy(f + ETH_HLEN, &queued, sizeof(queued));
			if (!net_tx_frame(n, f, size,
					  NET_TX_NOKICK |
					  (k + 1 == room ? NET_TX_LTINT : 0)))
				fail(EXIT_FAIL, "TX ring full at frame %llu",
				     (unsigned long long)queued);
		}
		net_tx_kick(n);
		/* Refill once half the ring is back (memory reads only). */
		w0 = rdtsc();
		end = deadline_us(IRQ_WAIT_US);
		while (net_tx_reclaim(n) > ring / 2) {
			net_poll(n, 0);
			if (deadline_passed(end))
				fail(EXIT_FAIL, "TX ring stuck at frame %llu",
				     (unsigned long long)queued);
		}
		wait_cycles += rdtsc() - w0;
	}
}

/* The pause after a mark, then (go=serial) the harness's go-ahead. */
static void mark_wait(uint64_t pause_ms, bool go, const char *mark)
{
	uint64_t end;

	udelay(pause_ms * 1000);
	if (!go)
		return;
	end = deadline_us(GO_WAIT_US);
	while (serial_getc() < 0) {
		if (deadline_passed(end))
			fail(EXIT_FAIL, "no go-ahead on COM1 %u s after '%s'",
			     GO_WAIT_US / 1000000, mark);
		udelay(GO_POLL_US);
	}
}

void scenario_txbench(void)
{
	uint64_t frames = param_u64("frames", 10000), size = param_u64("size", 1514);
	uint64_t pause_ms = param_u64("pause_ms", 1000), t0, us, end;
	uint64_t ring = param_u64("ring", 128);
	unsigned int ring_log;
	const char *drv = param("driver"), *go = param("go");
	static uint8_t f[NET_MAX_FRAME];
	bool batch;
	uint32_t ip, peer;
	const char *a = param("ip"), *b = param("peer");
	struct net n;
	struct pcn io0, io1;	/* the register access counts around the run */

	if (!drv)
		drv = "linux";
	batch = !strcmp(drv, "batch");
	if (!batch && strcmp(drv, "linux"))
		fail(EXIT_USAGE, "driver=linux or driver=batch");
	if (ring < 16 || ring > 512 || (ring & (ring - 1)) || (param("ring") && !batch))
		fail(EXIT_USAGE, "ring=16|32|64|128|256|512, for driver=batch only");
	ring_log = (unsigned int)__builtin_ctzll(ring);
	if (size < 60 || size > NET_MAX_FRAME || !frames)
		fail(EXIT_USAGE, "size must be 60..%u, frames at least 1",
		     NET_MAX_FRAME);
	if (!a || !b || !net_parse_ip(a, &ip) || !net_parse_ip(b, &peer))
		fail(EXIT_USAGE, "%s needs ip=A.B.C.D and peer=A.B.C.D", test_name);
	if (go && strcmp(go, "serial"))
		fail(EXIT_USAGE, "go=serial or no go=");
	time_init();
	/* NetBSD's pcn(4) keeps up to 128 frames queued (PCN_TXQUEUELEN),
	 * pcnet32 16 (its default ring); ring= takes the batching driver
	 * up to the chip's largest, 512 (pcnet32's ethtool -G maximum). */
	if (batch)
		net_set_tx_ring(ring_log);
	net_open(&n, ip, peer);
	build(f, (uint32_t)size, &n, 0);
	printf("txbench: ready driver=%s size=%llu frames=%llu ring=%u\n", drv,
	       (unsigned long long)size, (unsigned long long)frames,
	       net_tx_ring_size(&n));
	mark_wait(pause_ms, go, "ready");
	io0 = n.p;
	t0 = rdtsc();
	if (batch)
		run_batch(&n, f, (uint32_t)size, frames);
	else
		run_linux(&n, f, (uint32_t)size, frames);
	end = deadline_us(IRQ_WAIT_US);
	while (net_tx_reclaim(&n) && !deadline_passed(end))
		;
	us = tsc_to_us(rdtsc() - t0);
	io1 = n.p;
	if (net_tx_reclaim(&n))
		fail(EXIT_FAIL, "%u frames never came back", net_tx_reclaim(&n));
	/* Acknowledge the last batch's interrupt before the counters stop. */
	net_poll(&n, 1000);
	printf("txbench: finished\n");
	mark_wait(pause_ms, go, "finished");
	printf("txbench: %llu frames of %llu bytes in %llu us, %llu interrupts, %llu us waiting for the chip\n",
	       (unsigned long long)frames, (unsigned long long)size,
	       (unsigned long long)us, (unsigned long long)n.st.irqs,
	       (unsigned long long)tsc_to_us(wait_cycles));
	printf("txbench: in the run %llu register reads (%llu us) and %llu writes (%llu us)\n",
	       (unsigned long long)(io1.io_reads - io0.io_reads),
	       (unsigned long long)tsc_to_us(io1.io_rd_cycles - io0.io_rd_cycles),
	       (unsigned long long)(io1.io_writes - io0.io_writes),
	       (unsigned long long)tsc_to_us(io1.io_wr_cycles - io0.io_wr_cycles));
	if (us) {
		printf("bench: txbench-frames-per-s %llu\n",
		       (unsigned long long)(frames * 1000000 / us));
		printf("bench: txbench-kbit-per-s %llu\n",
		       (unsigned long long)(frames * size * 8 * 1000 / us));
	}
	net_close(&n);
}

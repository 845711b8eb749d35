// SPDX-License-Identifier: MIT
/*
 * Hostile guests: each class of bug known from QEMU's and VirtualBox's
 * PCnet, and the other ways a driver can lie, ends in what the chip would
 * do or a clean error bit, never a write outside the guest's buffers, a
 * hang or a crash.  Guest RAM is 1 MiB at 0; the BARs sit at BAR_GPA.
 */
#include <stdlib.h>

#include "harness.h"

static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void assert_merr_and_off(struct bench *b)
{
	struct pcnet_stats st;
	uint16_t csr0 = csr_r(b, 0);

	assert_int_equal(csr0 & (CSR0_MERR | CSR0_ERR), CSR0_MERR | CSR0_ERR);
	assert_int_equal(csr0 & (CSR0_TXON | CSR0_RXON), 0);
	assert_true(csr_r(b, 5) & 0x0800);	/* SINT */
	assert_int_equal(b->irq, 1);
	pcnet_get_stats(b->dev, &st);
	assert_true(st.dma_faults >= 1);
}

/* QEMU CVE-2015-3209: a chain adds up past the frame buffer. */
static void pcnet_cve_2015_3209_multi_descriptor_frame_over_buffer(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 4095, OWN);
	tmd_put(b, 2, TXBUF_GPA + 2 * TXBUF_STRIDE, 4095, OWN);
	tmd_put(b, 3, TXBUF_GPA + 3 * TXBUF_STRIDE, 4095, OWN | ENP);
	tmd_put(b, 0, TXBUF_GPA, 1000, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd_status(b, 1), ERR);
	assert_int_equal(tmd2(b, 1), TMD2_BUFF | TMD2_UFLO);
	/* The rest of the chain is left for a restart to skip (no STP). */
	assert_true(tmd_status(b, 2) & OWN);
	assert_false(csr_r(b, 0) & CSR0_TXON);
}

static void pcnet_one_descriptor_longer_than_a_frame_is_dropped(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	tmd_put(b, 0, TXBUF_GPA, 4095, OWN | STP | ENP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd2(b, 0), TMD2_BUFF | TMD2_UFLO);
}

/*
 * QEMU CVE-2015-7504: in loopback the FCS was appended past the buffer.
 * The longest frame loops back into a receive buffer of exactly frame
 * plus FCS, with a canary after it.
 */
static void pcnet_cve_2015_7504_loopback_fcs_stays_in_bounds(void **s)
{
	struct bench *b = *s;
	uint8_t *f = calloc(1, PCNET_MAX_FRAME);
	uint32_t rx = RXBUF_GPA;

	assert_non_null(f);
	chip_init(b, 2, 3, 3, MODE_LOOP | MODE_INTL, 1536);
	rmd_put(b, 0, rx, PCNET_MAX_FRAME + 4, true);
	memset(b->ram + rx + PCNET_MAX_FRAME + 4, 0xcc, 64);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	make_frame(f, bench_mac, PCNET_MAX_FRAME, 1);
	send_frame(b, 0, f, PCNET_MAX_FRAME);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 0), PCNET_MAX_FRAME + 4);
	assert_memory_equal(b->ram + rx, f, PCNET_MAX_FRAME);
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(b->ram[rx + PCNET_MAX_FRAME + 4 + i], 0xcc);
	/* One byte more is refused by the transmitter, not looped back. */
	tmd_put(b, 1, TXBUF_GPA, PCNET_MAX_FRAME + 1, OWN | STP | ENP);
	csr_w(b, 0, CSR0_TDMD);
	assert_int_equal(tmd2(b, 1), TMD2_BUFF | TMD2_UFLO);
	assert_true(rmd_status(b, 1) & OWN);
	free(f);
}

/* QEMU CVE-2015-7512: a frame from the network larger than the buffer. */
static void pcnet_cve_2015_7512_oversize_frame_from_port_is_dropped(void **s)
{
	struct bench *b = *s;
	size_t len = 70000;
	uint8_t *f = calloc(1, len);
	uint8_t *before = malloc(RAM_SIZE);

	assert_non_null(f);
	assert_non_null(before);
	chip_start(b, 2, 0);
	make_frame(f, bench_mac, len, 0);
	memcpy(before, b->ram, RAM_SIZE);
	assert_int_equal(recv_frame(b, f, len), PCNET_RX_DROPPED);
	assert_int_equal(recv_frame(b, f, PCNET_MAX_FRAME + 1),
			 PCNET_RX_DROPPED);
	assert_memory_equal(before, b->ram, RAM_SIZE);
	assert_int_equal(recv_frame(b, f, PCNET_MAX_FRAME),
			 PCNET_RX_DELIVERED);
	free(before);
	free(f);
}

/* QEMU CVE-2016-7909: a ring length of 0 looped forever. */
static void pcnet_cve_2016_7909_ring_length_zero_does_not_hang(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_init(b, 2, 3, 3, 0, 1536);
	/* Ring registers are writable only while stopped. */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 76, 0);
	csr_w(b, 78, 0);
	csr_w(b, 72, 0);
	csr_w(b, 74, 0x1234);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	pcnet_timer(b->dev, UINT64_MAX - 1);
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_NO_BUFFER);
	assert_false(pcnet_rx_ready(b->dev));
	assert_int_equal(b->ntx, 0);
	assert_int_equal(csr_r(b, 76), 0);
}

static void pcnet_cve_2016_7909_counters_stay_inside_the_ring(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_STOP);
	/* Counters pointing "before" the ring or far past it. */
	csr_w(b, 72, 0x0005);
	csr_w(b, 74, 0x8000);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	send_frame(b, 0, f, sizeof(f));
	/* A one-descriptor ring of 65535 entries is walked, but bounded. */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 78, 1);
	assert_int_equal(csr_r(b, 78), 1);
	csr_w(b, 0, CSR0_STRT | CSR0_TDMD);
}

/*
 * QEMU CVE-2021-3416: DMA aimed at the device's own registers.  Here the
 * BARs are not guest RAM, so every such DMA is a master abort: MERR,
 * SINT, transmitter and receiver off, nothing written.
 */
static void pcnet_cve_2021_3416_tx_buffer_at_own_bar_sets_merr(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	tmd_put(b, 0, BAR_GPA, 32, OWN | STP | ENP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_true(tmd_status(b, 0) & OWN);
	assert_merr_and_off(b);
	/* The driver's way back: STOP, INIT, STRT. */
	csr_w(b, 0, CSR0_STOP);
	assert_false(csr_r(b, 0) & CSR0_MERR);
	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_STRT);
	assert_true(csr_r(b, 0) & CSR0_TXON);
}

static void pcnet_cve_2021_3416_rx_buffer_at_own_bar_sets_merr(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	rmd_put(b, 0, BAR_GPA, 1536, true);
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	assert_true(rmd_status(b, 0) & OWN);
	assert_merr_and_off(b);
}

static void pcnet_cve_2021_3416_rings_and_init_block_at_own_bar(void **s)
{
	struct bench *b = *s;

	/* Init block there. */
	csr_w(b, 1, BAR_GPA & 0xffff);
	csr_w(b, 2, BAR_GPA >> 16);
	bcr_w(b, 20, 2);
	csr_w(b, 0, CSR0_INIT | CSR0_STRT | CSR0_IENA);
	assert_int_equal(csr_r(b, 0) & (CSR0_IDON | CSR0_MERR | CSR0_TXON),
			 CSR0_MERR);
	assert_int_equal(b->irq, 1);
	/* Ring bases there, through the alternative init registers. */
	csr_w(b, 0, CSR0_STOP);
	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 30, BAR_GPA & 0xffff);
	csr_w(b, 31, BAR_GPA >> 16);
	csr_w(b, 0, CSR0_STRT | CSR0_TDMD | CSR0_IENA);
	assert_merr_and_off(b);
}

/* A port that turns around and calls into the device it serves. */
static void reenter(struct bench *b, const struct pcnet_seg *seg,
		    unsigned int nseg, uint32_t len)
{
	struct iovec iov = { .iov_base = (void *)seg[0].host,
			     .iov_len = seg[0].len };

	(void)nseg;
	(void)len;
	assert_int_equal(pcnet_receive(b->dev, &iov, 1), PCNET_RX_DROPPED);
	assert_int_equal(pcnet_io_read(b->dev, 0x10, 2), 0xffff);
	pcnet_io_write(b->dev, 0x10, 2, CSR0_STOP);
	pcnet_io_write(b->dev, 0x10, 4, 0);
	pcnet_timer(b->dev, UINT64_MAX);
	pcnet_hard_reset(b->dev);
}

static void pcnet_cve_2021_3416_reentry_from_the_port_is_refused(void **s)
{
	struct bench *b = *s;
	struct pcnet_stats st;
	uint8_t f[64];

	chip_start(b, 2, 0);
	b->tx_hook = reenter;
	make_frame(f, bench_mac, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	b->tx_hook = NULL;
	assert_int_equal(b->ntx, 1);
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	/* Still running, still WIO, rings intact. */
	assert_true(csr_r(b, 0) & CSR0_TXON);
	assert_int_equal(bcr_r(b, 18) & 0x0080, 0);
	pcnet_get_stats(b->dev, &st);
	assert_int_equal(st.reentries, 6);
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(b->ntx, 2);
}

static void pcnet_descriptor_outside_ram_sets_merr(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 30, 0);
	csr_w(b, 31, 0x0010);		/* 1 MiB: just past RAM */
	csr_w(b, 0, CSR0_STRT | CSR0_TDMD | CSR0_IENA);
	assert_merr_and_off(b);
}

static void pcnet_buffer_wrapping_the_address_space_sets_merr(void **s)
{
	struct bench *b = *s;
	uint8_t *top = calloc(1, 0x1000);

	/* RAM at the very top of the 32-bit space too. */
	assert_non_null(top);
	assert_int_equal(guest_mem_add(&b->mem, 0xfffff000u, 0x1000, top, -1,
				       0), 0);
	chip_start(b, 2, 0);
	tmd_put(b, 0, 0xffffff00u, 0x200, OWN | STP | ENP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_merr_and_off(b);
	/* A descriptor straddling 4 GiB: the ring base is 8 below it. */
	csr_w(b, 0, CSR0_STOP);
	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 24, 0xfff8);
	csr_w(b, 25, 0xffff);
	/* OWN and the buffer address are below 4 GiB, RMD2 is past it. */
	memcpy(top + 0xff8, (uint8_t[8]){ 0x00, 0x00, 0x01, 0x00,
					  0x00, 0xfa, 0x00, 0x80 }, 8);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	{
		uint8_t f[64];

		make_frame(f, bench_mac, sizeof(f), 0);
		assert_int_equal(recv_frame(b, f, sizeof(f)),
				 PCNET_RX_DROPPED);
	}
	assert_merr_and_off(b);
	free(top);
}

/*
 * VirtualBox CVE-2020-14677 class: the guest rewrites a descriptor the
 * chip owns while the chip works on it.  The chip reads each descriptor
 * once; the port sees the validated buffers; the write-back only clears
 * OWN and sets status.
 */
static void flip_own(struct bench *b, const struct pcnet_seg *seg,
		     unsigned int nseg, uint32_t len)
{
	(void)nseg;
	assert_int_equal(len, 100);
	assert_int_equal(seg[0].len, 100);
	/* BCNT to 4095, buffer to the BAR, OWN off, ENP off. */
	put32(b, TDRA_GPA + 4, 0x0000f001);
	put32(b, TDRA_GPA, BAR_GPA);
}

static void pcnet_own_flipped_during_processing_is_harmless(void **s)
{
	struct bench *b = *s;
	uint8_t f[100];

	chip_start(b, 2, 0);
	b->tx_hook = flip_own;
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	b->tx_hook = NULL;
	assert_int_equal(b->ntx, 1);
	assert_memory_equal(b->tx[0].data, f, sizeof(f));
	assert_int_equal(get16(b, TDRA_GPA + 4), 0xf001);
	assert_int_equal(tmd_status(b, 0), 0);
	assert_true(csr_r(b, 0) & CSR0_TXON);
	assert_false(csr_r(b, 0) & CSR0_MERR);
}

static void pcnet_chain_without_enp_around_the_ring_is_bounded(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	for (unsigned int i = 1; i < 8; i++)
		tmd_put(b, i, TXBUF_GPA, 10, OWN);
	tmd_put(b, 0, TXBUF_GPA, 10, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd2(b, 7), TMD2_BUFF | TMD2_UFLO);
	for (unsigned int i = 0; i < 8; i++)
		assert_false(tmd_status(b, i) & OWN);
	assert_false(csr_r(b, 0) & CSR0_TXON);
}

static void pcnet_owned_descriptors_without_stp_are_bounded(void **s)
{
	struct bench *b = *s;

	chip_init(b, 2, 3, 9, 0, 1536);	/* 512 descriptors */
	csr_w(b, 0, CSR0_STRT);
	for (unsigned int i = 0; i < 512; i++)
		tmd_put(b, i, TXBUF_GPA, 10, OWN);
	csr_w(b, 0, CSR0_TDMD);
	pcnet_timer(b->dev, pcnet_next_deadline(b->dev));
	assert_int_equal(b->ntx, 0);
	assert_true(csr_r(b, 0) & CSR0_TXON);
}

static void pcnet_rx_zero_length_buffers_around_the_ring_are_bounded(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_init(b, 2, 3, 3, 0, 0);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_OVERFLOW);
	assert_int_equal(rmd_status(b, 7), ERR | RMD_BUFF | RMD_OFLO);
	assert_int_equal(rmd_status(b, 0), STP);
}

static void pcnet_dwio_switch_mid_run_keeps_working(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	/* RAP still 0: the switching write lands in CSR0 (IENA|TDMD). */
	pcnet_io_write(b->dev, 0x10, 4, CSR0_IENA);
	b->dwio = true;
	assert_true(csr_r(b, 0) & CSR0_TXON);
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(b->ntx, 2);
	/* Word accesses now do nothing at all. */
	wio_w(b, 0x12, 0);
	wio_w(b, 0x10, CSR0_STOP);
	assert_true(csr_r(b, 0) & CSR0_TXON);
}

static void pcnet_swstyle_switch_mid_run_waits_for_stop(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	bcr_w(b, 20, 0);
	assert_int_equal(bcr_r(b, 20), 0x0302);
	/* Under SPND the style may change: the ring is read the new way. */
	csr_w(b, 5, 0x0001);
	bcr_w(b, 20, 0);
	assert_int_equal(bcr_r(b, 20), 0x0200);
	csr_w(b, 5, 0);
	make_frame(f, bench_mac, sizeof(f), 0);
	(void)recv_frame(b, f, sizeof(f));
	b->swstyle = 0;
	send_frame(b, 0, f, sizeof(f));
	csr_w(b, 0, CSR0_STOP);
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
}

static void pcnet_init_strt_stop_written_together_only_stop(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	csr_w(b, 0, CSR0_INIT | CSR0_STRT | CSR0_STOP | CSR0_TDMD);
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
	/* STOP with INIT alone: stop, then initialize. */
	csr_w(b, 0, CSR0_INIT | CSR0_STOP);
	assert_int_equal(csr_r(b, 0) & (CSR0_IDON | CSR0_INIT | CSR0_STOP),
			 CSR0_IDON | CSR0_INIT);
}

static void pcnet_random_register_storm_leaves_a_working_chip(void **s)
{
	struct bench *b = *s;
	uint32_t x = 12345;
	uint8_t f[64];

	chip_start(b, 2, 0);
	for (unsigned int i = 0; i < 20000; i++) {
		uint32_t off, v;

		x = x * 1103515245 + 12345;
		off = (x >> 8) & 0x1f;
		v = x >> 12;
		if (x & 1)
			pcnet_io_write(b->dev, off, 1u << ((x >> 1) % 3), v);
		else
			(void)pcnet_io_read(b->dev, off, 1u << ((x >> 1) % 3));
		if (!(i % 97))
			(void)recv_frame(b, make_frame(f, bench_mac, 64, 0) ?
					 f : f, sizeof(f));
		if (!(i % 131))
			pcnet_timer(b->dev, b->now += 3000000);
	}
	pcnet_hard_reset(b->dev);
	b->dwio = false;
	b->ntx = 0;
	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
}

/* Crash recovery: a new process over the old state region. */
static void pcnet_resume_finishes_a_chain_handed_back_halfway(void **s)
{
	struct bench *b = *s;
	struct pcnet_config cfg = { .mem = &b->mem };
	const struct pcnet_ops no_ops = { 0 };
	struct pcnet *dev2;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	/* As if the process died after sending frame 1, mid write-back. */
	memcpy(b->ram + TXBUF_GPA + TXBUF_STRIDE, f, sizeof(f));
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, sizeof(f), OWN | STP | ENP);
	b->st.tx_inflight_start = 1;
	b->st.tx_inflight_count = 1;
	pcnet_destroy(b->dev);
	b->dev = NULL;

	assert_int_equal(pcnet_create(&dev2, &b->st, &cfg, &no_ops, b,
				      PCNET_RESUME), -22);
	b->irq = -1;
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 1);
	assert_int_equal(b->irq, 1);	/* the line is driven again */
	assert_int_equal(tmd_status(b, 1), STP | ENP);
	assert_int_equal(csr_r(b, 74), (uint16_t)-6);
	assert_true(csr_r(b, 0) & CSR0_TXON);
	/* And it goes on. */
	send_frame(b, 2, f, sizeof(f));
	assert_int_equal(b->ntx, 2);
}

/* Dies at the @die_at-th step of a receive hand-back. */
static jmp_buf rx_death;
static unsigned int rx_fault_hits, rx_die_at;

static void rx_fault(const char *point)
{
	if (!strcmp(point, "rx-handback") && ++rx_fault_hits == rx_die_at)
		longjmp(rx_death, 1);
}

/* The process dies mid-way; its successor starts over the same state. */
static void rx_die_and_resume(struct bench *b, const uint8_t *f, size_t len,
			      unsigned int die_at)
{
	struct pcnet_config cfg = { .mem = &b->mem };

	rx_fault_hits = 0;
	rx_die_at = die_at;
	pcnet_fault_hook = rx_fault;
	if (!setjmp(rx_death)) {
		(void)recv_frame(b, f, len);
		fail_msg("receive finished before step %u", die_at);
	}
	pcnet_fault_hook = NULL;
	pcnet_destroy(b->dev);
	b->dev = NULL;
	assert_int_equal(b->st.busy, 1);	/* torn, as a kill leaves it */
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 1);
}

/*
 * Killed with a frame in two buffers, none or one of its descriptors
 * handed back: the successor hands back the rest, so the frame arrives
 * whole (STP, ENP, MCNT, RINT) instead of as an error, and the ring goes
 * on where it would have.
 */
static void pcnet_resume_finishes_a_received_frame_handed_back_halfway(void **s)
{
	struct bench *b = *s;
	uint8_t f[400], g[64];

	make_frame(f, bench_mac, sizeof(f), 7);
	make_frame(g, bench_mac, sizeof(g), 9);
	for (unsigned int die_at = 1; die_at <= 2; die_at++) {
		chip_start(b, 2, 0);
		rmd_put(b, 1, RXBUF_GPA + RXBUF_STRIDE, 256, true);
		rmd_put(b, 0, RXBUF_GPA, 256, true);
		csr_w(b, 0, CSR0_RINT | CSR0_IENA);
		rx_die_and_resume(b, f, sizeof(f), die_at);

		assert_int_equal(rmd_status(b, 0), STP);
		assert_int_equal(rmd_status(b, 1), ENP | RMD_PAM);
		assert_int_equal(rmd_mcnt(b, 1), sizeof(f) + 4);
		assert_memory_equal(b->ram + RXBUF_GPA, f, 256);
		assert_memory_equal(b->ram + RXBUF_GPA + RXBUF_STRIDE, f + 256,
				    sizeof(f) - 256);
		assert_true(csr_r(b, 0) & CSR0_RINT);
		assert_int_equal(b->irq, 1);
		/* The next frame takes the next descriptor. */
		csr_w(b, 0, CSR0_RINT | CSR0_IENA);
		assert_int_equal(recv_frame(b, g, sizeof(g)), PCNET_RX_DELIVERED);
		assert_int_equal(rmd_status(b, 2), STP | ENP | RMD_PAM);
		assert_memory_equal(b->ram + RXBUF_GPA + 2 * RXBUF_STRIDE, g,
				    sizeof(g));
		chip_reset(b);
	}
}

/*
 * Killed after the STP descriptor went back, before the journal was
 * closed: the guest has the frame.  The successor writes nothing (the
 * driver may be reading the chain) and the ring moves on past it.
 */
static void pcnet_resume_leaves_a_finished_rx_hand_back_alone(void **s)
{
	struct bench *b = *s;
	struct pcnet_config cfg = { .mem = &b->mem };
	uint8_t f[400], g[64];

	chip_start(b, 2, 0);
	rmd_put(b, 1, RXBUF_GPA + RXBUF_STRIDE, 256, true);
	rmd_put(b, 0, RXBUF_GPA, 256, true);
	make_frame(f, bench_mac, sizeof(f), 7);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	/* The dead process's journal still names the chain... */
	b->st.rx_inflight_start = 0;
	b->st.rx_inflight_count = 2;
	b->st.rx_idx = 0;
	/* ... and the driver has already cleared the first descriptor's
	 * bits it read (the chip must not write them again). */
	put16(b, desc_gpa(b, RDRA_GPA, 0) + 6, 0);
	pcnet_destroy(b->dev);
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 1);
	assert_int_equal(rmd_status(b, 0), 0);
	assert_int_equal(rmd_status(b, 1), ENP | RMD_PAM);
	assert_int_equal(b->st.rx_inflight_count, 0);
	make_frame(g, bench_mac, sizeof(g), 9);
	assert_int_equal(recv_frame(b, g, sizeof(g)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 2), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_status(b, 0), 0);
}

static void pcnet_resume_of_a_foreign_region_resets(void **s)
{
	struct bench *b = *s;
	struct pcnet_config cfg = { .mem = &b->mem };

	memcpy(cfg.mac, bench_mac, 6);
	chip_start(b, 2, 0);
	pcnet_destroy(b->dev);
	b->st.magic ^= 1;
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 0);
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
	assert_int_equal(b->st.magic, PCNET_STATE_MAGIC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_cve_2015_3209_multi_descriptor_frame_over_buffer),
		T(pcnet_one_descriptor_longer_than_a_frame_is_dropped),
		T(pcnet_cve_2015_7504_loopback_fcs_stays_in_bounds),
		T(pcnet_cve_2015_7512_oversize_frame_from_port_is_dropped),
		T(pcnet_cve_2016_7909_ring_length_zero_does_not_hang),
		T(pcnet_cve_2016_7909_counters_stay_inside_the_ring),
		T(pcnet_cve_2021_3416_tx_buffer_at_own_bar_sets_merr),
		T(pcnet_cve_2021_3416_rx_buffer_at_own_bar_sets_merr),
		T(pcnet_cve_2021_3416_rings_and_init_block_at_own_bar),
		T(pcnet_cve_2021_3416_reentry_from_the_port_is_refused),
		T(pcnet_descriptor_outside_ram_sets_merr),
		T(pcnet_buffer_wrapping_the_address_space_sets_merr),
		T(pcnet_own_flipped_during_processing_is_harmless),
		T(pcnet_chain_without_enp_around_the_ring_is_bounded),
		T(pcnet_owned_descriptors_without_stp_are_bounded),
		T(pcnet_rx_zero_length_buffers_around_the_ring_are_bounded),
		T(pcnet_dwio_switch_mid_run_keeps_working),
		T(pcnet_swstyle_switch_mid_run_waits_for_stop),
		T(pcnet_init_strt_stop_written_together_only_stop),
		T(pcnet_random_register_storm_leaves_a_working_chip),
		T(pcnet_resume_finishes_a_chain_handed_back_halfway),
		T(pcnet_resume_finishes_a_received_frame_handed_back_halfway),
		T(pcnet_resume_leaves_a_finished_rx_hand_back_alone),
		T(pcnet_resume_of_a_foreign_region_resets),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_hostile", tests, NULL, NULL);
}

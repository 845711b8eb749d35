// SPDX-License-Identifier: MIT
/*
 * Transmit: frames through the port byte for byte, chains in place, OWN
 * released after the port is done and in ring order, TINT, send combining,
 * APAD_XMT, the TX ring poll, the error bits.
 */
#include "harness.h"

static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void tx_single_frame(struct bench *b, unsigned int style)
{
	uint8_t f[100];

	chip_start(b, style, 0);
	make_frame(f, peer, sizeof(f), 1);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
	assert_int_equal(b->tx[0].len, sizeof(f));
	assert_memory_equal(b->tx[0].data, f, sizeof(f));
	assert_int_equal(b->tx[0].nseg, 1);
	assert_int_equal(b->tx[0].gpa[0], TXBUF_GPA);
	assert_int_equal(b->tx[0].flags, 0);	/* chip adds the FCS */
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	assert_int_equal(tmd2(b, 0), 0);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	assert_false(csr_r(b, 0) & CSR0_TDMD);
	assert_int_equal(b->irq, 1);
	assert_int_equal(csr_r(b, 74), (uint16_t)-7);
}

static void pcnet_tx_single_frame_swstyle2_reaches_port_byte_exact(void **s)
{
	tx_single_frame(*s, 2);
}

static void pcnet_tx_single_frame_swstyle0_reaches_port_byte_exact(void **s)
{
	tx_single_frame(*s, 0);
}

static void pcnet_tx_single_frame_swstyle3_reaches_port_byte_exact(void **s)
{
	tx_single_frame(*s, 3);
}

static void pcnet_tx_chained_frame_hands_out_segments_in_order(void **st)
{
	struct bench *b = *st;
	uint8_t f[300];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 7);
	memcpy(b->ram + TXBUF_GPA, f, 100);
	memcpy(b->ram + TXBUF_GPA + TXBUF_STRIDE, f + 100, 0);
	memcpy(b->ram + TXBUF_GPA + 2 * TXBUF_STRIDE, f + 100, 200);
	/* Driver order: later descriptors first, STP's OWN last. */
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 0, OWN);
	tmd_put(b, 2, TXBUF_GPA + 2 * TXBUF_STRIDE, 200, OWN | ENP);
	tmd_put(b, 0, TXBUF_GPA, 100, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_int_equal(b->tx[0].len, 300);
	assert_memory_equal(b->tx[0].data, f, 300);
	/* The zero-length middle buffer adds no piece. */
	assert_int_equal(b->tx[0].nseg, 2);
	assert_int_equal(b->tx[0].gpa[0], TXBUF_GPA);
	assert_int_equal(b->tx[0].gpa[1], TXBUF_GPA + 2 * TXBUF_STRIDE);
	assert_int_equal(b->tx[0].seglen[1], 200);
	for (unsigned int i = 0; i < 3; i++)
		assert_false(tmd_status(b, i) & OWN);
	assert_int_equal(csr_r(b, 74), (uint16_t)-5);
}

static void check_still_owned(struct bench *b, const struct pcnet_seg *seg,
			      unsigned int nseg, uint32_t len)
{
	(void)seg;
	(void)nseg;
	(void)len;
	/* Zero copy: the buffers stay the chip's while the port has them. */
	for (unsigned int i = 0; i < 3; i++)
		assert_true(tmd_status(b, i) & OWN);
}

static void pcnet_tx_releases_descriptors_only_after_port_returns(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	b->tx_hook = check_still_owned;
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 20, OWN);
	tmd_put(b, 2, TXBUF_GPA + 2 * TXBUF_STRIDE, 20, OWN | ENP);
	tmd_put(b, 0, TXBUF_GPA, 20, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_false(tmd_status(b, 2) & OWN);
}

/* N one-descriptor 64-byte frames, frame i in descriptor i, owned by the
 * chip. */
static void queue_frames(struct bench *b, unsigned int n)
{
	uint8_t f[64];

	for (unsigned int i = 0; i < n; i++) {
		make_frame(f, peer, sizeof(f), (uint8_t)i);
		memcpy(b->ram + TXBUF_GPA + i * TXBUF_STRIDE, f, sizeof(f));
		tmd_put(b, i, TXBUF_GPA + i * TXBUF_STRIDE, sizeof(f),
			OWN | STP | ENP);
	}
}

static void pcnet_tx_send_combining_one_interrupt_per_demand(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	queue_frames(b, 5);
	b->irq_rises = 0;
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 5);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(b->tx[i].data[20], (uint8_t)(i + 20));
	assert_int_equal(b->irq_rises, 1);
}

static void pcnet_tx_without_send_combining_one_frame_per_demand(void **s)
{
	struct bench *b = *s;

	pcnet_set_tx_batch(b->dev, 1);
	chip_start(b, 2, 0);
	queue_frames(b, 3);
	b->irq_rises = 0;
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_false(tmd_status(b, 0) & OWN);
	assert_true(tmd_status(b, 1) & OWN);
	/* The next demand takes the next frame, in ring order. */
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 2);
	assert_int_equal(b->tx[1].data[20], 21);
	/* Back to the default: the rest in one poll. */
	pcnet_set_tx_batch(b->dev, 0);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 3);
	assert_false(tmd_status(b, 2) & OWN);
}

static void pcnet_tx_ring_wraps_around(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	for (unsigned int n = 0; n < 20; n++)
		send_frame(b, n % 8, f, sizeof(f));
	assert_int_equal(b->ntx, 20);
}

static void pcnet_tx_apad_pads_short_frames_to_60(void **s)
{
	struct bench *b = *s;
	uint8_t f[42];

	chip_start(b, 2, 0);	/* CSR4 0x0915: APAD_XMT */
	make_frame(f, peer, sizeof(f), 3);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->tx[0].len, 60);
	assert_memory_equal(b->tx[0].data, f, sizeof(f));
	for (unsigned int i = sizeof(f); i < 60; i++)
		assert_int_equal(b->tx[0].data[i], 0);
	assert_int_equal(b->tx[0].nseg, 2);
	assert_int_equal(b->tx[0].gpa[1], PCNET_SEG_NO_GPA);
	/* Without APAD_XMT the runt goes out as it is. */
	csr_w(b, 4, 0x0115);
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(b->tx[1].len, sizeof(f));
}

static void pcnet_tx_chain_without_enp_sets_buff_uflo_and_stops(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 100, 0);	/* not owned */
	tmd_put(b, 0, TXBUF_GPA, 100, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd_status(b, 0), ERR | STP);
	assert_int_equal(tmd2(b, 0), TMD2_BUFF | TMD2_UFLO);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	assert_false(csr_r(b, 0) & CSR0_TXON);
	assert_int_equal(b->irq, 1);
}

static void pcnet_tx_dxsuflo_keeps_transmitter_on(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	csr_w(b, 3, 0x0040);
	tmd_put(b, 0, TXBUF_GPA, 100, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_true(csr_r(b, 0) & CSR0_TXON);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
}

static void pcnet_tx_chain_over_buffer_is_dropped(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, 1000, OWN | ENP);
	tmd_put(b, 0, TXBUF_GPA, 1000, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd_status(b, 0), STP);
	assert_int_equal(tmd_status(b, 1), ERR | ENP);
	assert_int_equal(tmd2(b, 1), TMD2_BUFF | TMD2_UFLO);
}

static void pcnet_tx_descriptor_without_stp_is_skipped(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	memcpy(b->ram + TXBUF_GPA + TXBUF_STRIDE, f, sizeof(f));
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, sizeof(f), OWN | STP | ENP);
	tmd_put(b, 0, TXBUF_GPA, 10, OWN | ENP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_true(tmd_status(b, 0) & OWN);	/* skipped, not released */
	assert_false(tmd_status(b, 1) & OWN);
}

static void pcnet_tx_poll_timer_sends_without_tdmd(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];
	uint64_t t;

	chip_start(b, 2, 0);
	t = pcnet_next_deadline(b->dev);
	/* 65536 ticks of 33 MHz after STRT. */
	assert_int_equal(t, 1000 + 65536ull * 1000 / 33);
	make_frame(f, peer, sizeof(f), 0);
	memcpy(b->ram + TXBUF_GPA, f, sizeof(f));
	tmd_put(b, 0, TXBUF_GPA, sizeof(f), OWN | STP | ENP);
	pcnet_timer(b->dev, t - 1);
	assert_int_equal(b->ntx, 0);
	pcnet_timer(b->dev, t);
	assert_int_equal(b->ntx, 1);
	assert_int_equal(pcnet_next_deadline(b->dev), t + 65536ull * 1000 / 33);
	/* POLLINT shortens the interval (written while stopped). */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 47, (uint16_t)-330);
	chip_init(b, 2, 3, 3, 0, 1536);
	b->now = 5000;
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(pcnet_next_deadline(b->dev), 5000 + 10000);
}

static void pcnet_tx_dpoll_disables_the_ring_poll(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	csr_w(b, 4, 0x0915 | 0x1000);
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
	csr_w(b, 4, 0x0915);
	assert_true(pcnet_next_deadline(b->dev) != UINT64_MAX);
}

static void pcnet_tx_link_down_sets_lcar(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	pcnet_set_link(b->dev, false);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 0);
	assert_int_equal(tmd_status(b, 0), ERR | STP | ENP);
	assert_int_equal(tmd2(b, 0), TMD2_LCAR);
}

static void pcnet_tx_tokintd_suppresses_tint_unless_ltint(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	csr_w(b, 5, 0x8000 | 0x4000);	/* TOKINTD, LTINTEN */
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_false(csr_r(b, 0) & CSR0_TINT);
	memcpy(b->ram + TXBUF_GPA + TXBUF_STRIDE, f, sizeof(f));
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, sizeof(f),
		OWN | STP | ENP | LTINT);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	/* LTINT is the driver's bit and stays. */
	assert_int_equal(tmd_status(b, 1), STP | ENP | LTINT);
}

static void pcnet_tx_guest_fcs_is_flagged(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_init(b, 2, 3, 3, MODE_DXMTFCS, 1536);
	csr_w(b, 0, CSR0_STRT);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->tx[0].flags, PCNET_TX_FCS_INCLUDED);
	/* ADD_FCS brings the chip's FCS back for one frame. */
	memcpy(b->ram + TXBUF_GPA + TXBUF_STRIDE, f, sizeof(f));
	tmd_put(b, 1, TXBUF_GPA + TXBUF_STRIDE, sizeof(f),
		OWN | STP | ENP | ADD_FCS);
	csr_w(b, 0, CSR0_TDMD);
	assert_int_equal(b->tx[1].flags, 0);
	assert_int_equal(tmd_status(b, 1), STP | ENP | ADD_FCS);
}

static void pcnet_tx_port_drop_counts_but_completes(void **s)
{
	struct bench *b = *s;
	struct pcnet_stats stats;
	uint8_t f[64];

	chip_start(b, 2, 0);
	b->tx_result = PCNET_TX_DROPPED;
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	pcnet_get_stats(b->dev, &stats);
	assert_int_equal(stats.tx_dropped, 1);
	assert_int_equal(stats.tx_frames, 0);
}

static void pcnet_tx_more_segments_than_table_are_copied(void **s)
{
	struct bench *b = *s;
	uint8_t f[400];

	/* 40 descriptors of 10 bytes in a 64-entry ring. */
	chip_init(b, 2, 3, 6, 0, 1536);
	csr_w(b, 0, CSR0_STRT);
	make_frame(f, peer, sizeof(f), 9);
	for (unsigned int i = 1; i < 40; i++) {
		memcpy(b->ram + TXBUF_GPA + i * 16, f + i * 10, 10);
		tmd_put(b, i, TXBUF_GPA + i * 16, 10,
			OWN | (i == 39 ? ENP : 0));
	}
	memcpy(b->ram + TXBUF_GPA, f, 10);
	tmd_put(b, 0, TXBUF_GPA, 10, OWN | STP);
	csr_w(b, 0, CSR0_TDMD);
	assert_int_equal(b->ntx, 1);
	assert_int_equal(b->tx[0].len, 400);
	assert_int_equal(b->tx[0].nseg, 1);
	assert_int_equal(b->tx[0].gpa[0], PCNET_SEG_NO_GPA);
	assert_memory_equal(b->tx[0].data, f, 400);
}

static void pcnet_tx_babble_over_1518_bytes(void **s)
{
	struct bench *b = *s;
	uint8_t f[1520];

	chip_start(b, 2, 0);
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
	assert_int_equal(csr_r(b, 0) & (CSR0_BABL | CSR0_ERR),
			 CSR0_BABL | CSR0_ERR);
}

/*
 * Ring order with the ENP descriptor last: the ring ends 8 bytes into the
 * third descriptor, so only that one's write-back fails.
 */
static void pcnet_tx_chain_released_in_ring_order_enp_last(void **s)
{
	struct bench *b = *s;
	uint32_t base = RAM_SIZE - 40;

	chip_start(b, 2, 0);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 30, base & 0xffff);
	csr_w(b, 31, base >> 16);
	csr_w(b, 0, CSR0_STRT);
	put32(b, base + 32, TXBUF_GPA);
	put32(b, base + 36, 0x81000000u | (0xf000 | ((0u - 20) & 0xfff)));
	put32(b, base + 16, TXBUF_GPA);
	put32(b, base + 20, 0x80000000u | (0xf000 | ((0u - 20) & 0xfff)));
	put32(b, base, TXBUF_GPA);
	put32(b, base + 4, 0x82000000u | (0xf000 | ((0u - 20) & 0xfff)));
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 1);
	assert_false(get16(b, base + 6) & OWN);
	assert_false(get16(b, base + 22) & OWN);
	assert_true(get16(b, base + 38) & OWN);
	assert_true(csr_r(b, 0) & CSR0_MERR);
}

/*
 * pcnet32 acknowledges with the value it read.  Posted or queued by KVM,
 * that write may arrive after the guest queued another frame and the
 * chip's poll sent it: the acknowledge must not take that frame's TINT.
 */
static void pcnet_tx_late_ack_keeps_a_tint_not_yet_read(void **s)
{
	struct bench *b = *s;
	uint16_t seen;

	chip_start(b, 2, 0);
	queue_frames(b, 1);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	seen = csr_r(b, 0);
	assert_true(seen & CSR0_TINT);
	/* The next frame goes out before the acknowledge arrives. */
	queue_frames(b, 2);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->ntx, 2);
	csr_w(b, 0, seen & ~0x004f);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	b->irq_rises = 0;
	csr_w(b, 0, CSR0_IENA);
	assert_int_equal(b->irq_rises, 1);
	assert_int_equal(b->irq, 1);
	/* Read again, the acknowledge takes it. */
	seen = csr_r(b, 0);
	csr_w(b, 0, seen & ~0x004f);
	assert_false(csr_r(b, 0) & CSR0_TINT);
	assert_int_equal(b->irq, 0);
}

/* A TINT nobody read is cleared as the datasheet says (drivers that write
 * all the W1C bits at open or reset). */
static void pcnet_tx_blind_ack_clears_tint(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	(void)csr_r(b, 0);
	queue_frames(b, 1);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(b->irq, 1);
	csr_w(b, 0, 0x7f00 | CSR0_IENA);
	assert_false(csr_r(b, 0) & CSR0_TINT);
	assert_int_equal(b->irq, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_tx_single_frame_swstyle2_reaches_port_byte_exact),
		T(pcnet_tx_single_frame_swstyle0_reaches_port_byte_exact),
		T(pcnet_tx_single_frame_swstyle3_reaches_port_byte_exact),
		T(pcnet_tx_chained_frame_hands_out_segments_in_order),
		T(pcnet_tx_releases_descriptors_only_after_port_returns),
		T(pcnet_tx_send_combining_one_interrupt_per_demand),
		T(pcnet_tx_without_send_combining_one_frame_per_demand),
		T(pcnet_tx_ring_wraps_around),
		T(pcnet_tx_apad_pads_short_frames_to_60),
		T(pcnet_tx_chain_without_enp_sets_buff_uflo_and_stops),
		T(pcnet_tx_dxsuflo_keeps_transmitter_on),
		T(pcnet_tx_chain_over_buffer_is_dropped),
		T(pcnet_tx_descriptor_without_stp_is_skipped),
		T(pcnet_tx_poll_timer_sends_without_tdmd),
		T(pcnet_tx_dpoll_disables_the_ring_poll),
		T(pcnet_tx_link_down_sets_lcar),
		T(pcnet_tx_tokintd_suppresses_tint_unless_ltint),
		T(pcnet_tx_guest_fcs_is_flagged),
		T(pcnet_tx_port_drop_counts_but_completes),
		T(pcnet_tx_more_segments_than_table_are_copied),
		T(pcnet_tx_babble_over_1518_bytes),
		T(pcnet_tx_chain_released_in_ring_order_enp_last),
		T(pcnet_tx_late_ack_keeps_a_tint_not_yet_read),
		T(pcnet_tx_blind_ack_clears_tint),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_tx", tests, NULL, NULL);
}

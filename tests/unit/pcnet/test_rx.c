// SPDX-License-Identifier: MIT
/*
 * Receive: frames into the ring with their FCS, MCNT, the address filter
 * (PADR, broadcast, LADRF hash, PROM, DRCVPA, DRCVBC), MISS, chaining over
 * small buffers, BUFF/OFLO, ASTRP_RCV, hand-back order.
 */
#include "harness.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t stranger[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static void rx_frame_lands(struct bench *b, unsigned int style)
{
	uint8_t f[200];
	uint32_t fcs;

	chip_start(b, style, 0);
	make_frame(f, bench_mac, sizeof(f), 5);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
	fcs = ether_fcs(f, sizeof(f));
	assert_int_equal(get32(b, RXBUF_GPA + sizeof(f)), fcs);
	assert_int_equal(rmd_mcnt(b, 0), sizeof(f) + 4);
	assert_int_equal(rmd_status(b, 0),
			 STP | ENP | (style ? RMD_PAM : 0));
	assert_true(csr_r(b, 0) & CSR0_RINT);
	assert_int_equal(b->irq, 1);
	assert_int_equal(csr_r(b, 72), (uint16_t)-7);
	/* Buffer address untouched. */
	assert_int_equal(rmd_addr(b, 0), RXBUF_GPA);
}

static void pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle2(void **s)
{
	rx_frame_lands(*s, 2);
}

static void pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle0(void **s)
{
	rx_frame_lands(*s, 0);
}

static void pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle3(void **s)
{
	rx_frame_lands(*s, 3);
}

static void pcnet_rx_short_frame_padded_to_60(void **s)
{
	struct bench *b = *s;
	uint8_t f[42], padded[60] = { 0 };

	chip_start(b, 2, 0);
	make_frame(f, bench_mac, sizeof(f), 0);
	memcpy(padded, f, sizeof(f));
	memset(b->ram + RXBUF_GPA, 0xaa, 128);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_mcnt(b, 0), 64);
	assert_memory_equal(b->ram + RXBUF_GPA, padded, 60);
	assert_int_equal(get32(b, RXBUF_GPA + 60), ether_fcs(padded, 60));
	assert_int_equal(b->ram[RXBUF_GPA + 64], 0xaa);
}

static void pcnet_rx_broadcast_accepted_with_bam(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, bcast, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_BAM);
}

static void pcnet_rx_drcvbc_rejects_broadcast(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, MODE_DRCVBC);
	make_frame(f, bcast, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_FILTERED);
	assert_true(rmd_status(b, 0) & OWN);
	/* ... unless the logical filter takes it: then LAFM, not BAM. */
	csr_w(b, 0, CSR0_STOP);
	for (unsigned int i = 0; i < 4; i++)
		csr_w(b, 8 + i, 0xffff);
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_LAFM);
}

static void pcnet_rx_drcvpa_rejects_own_address(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, MODE_DRCVPA);
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_FILTERED);
}

static void pcnet_rx_other_unicast_is_filtered(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, stranger, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_FILTERED);
	assert_false(csr_r(b, 0) & CSR0_RINT);
}

static void pcnet_rx_multicast_hash_in_ladrf_accepted(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];
	/* Linux pcnet32_load_multicast: CRC-32 LE of the address >> 26. */
	uint32_t crc = ~ether_fcs(mcast, 6);
	unsigned int bit = crc >> 26;

	chip_start(b, 2, 0);
	make_frame(f, mcast, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_FILTERED);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 8 + bit / 16, (uint16_t)(1u << (bit % 16)));
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_LAFM);
	/* Another group that hashes elsewhere stays out. */
	f[5] = 0x02;
	if ((~ether_fcs(f, 6) >> 26) != bit)
		assert_int_equal(recv_frame(b, f, sizeof(f)),
				 PCNET_RX_FILTERED);
}

static void pcnet_rx_promiscuous_accepts_everything(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, MODE_PROM);
	make_frame(f, stranger, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_status(b, 0), STP | ENP);
}

static void pcnet_rx_no_owned_descriptor_sets_miss_and_missc(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	rmd_put(b, 0, RXBUF_GPA, 1536, false);
	assert_false(pcnet_rx_ready(b->dev));
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_NO_BUFFER);
	assert_int_equal(csr_r(b, 0) & (CSR0_MISS | CSR0_ERR),
			 CSR0_MISS | CSR0_ERR);
	assert_int_equal(csr_r(b, 112), 1);
	assert_int_equal(b->irq, 1);
	/* MISSM masks it. */
	csr_w(b, 0, CSR0_MISS | CSR0_IENA);
	csr_w(b, 3, 0x1000);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_NO_BUFFER);
	assert_int_equal(b->irq, 0);
	assert_int_equal(csr_r(b, 112), 2);
}

static void pcnet_rx_chains_over_small_buffers(void **s)
{
	struct bench *b = *s;
	uint8_t f[300];

	chip_init(b, 2, 3, 3, 0, 128);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	make_frame(f, bench_mac, sizeof(f), 2);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	/* 304 bytes: 128 + 128 + 48. */
	assert_int_equal(rmd_status(b, 0), STP);
	assert_int_equal(rmd_status(b, 1), 0);
	assert_int_equal(rmd_status(b, 2), ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 2), 304);
	assert_memory_equal(b->ram + RXBUF_GPA, f, 128);
	assert_memory_equal(b->ram + RXBUF_GPA + RXBUF_STRIDE, f + 128, 128);
	assert_memory_equal(b->ram + RXBUF_GPA + 2 * RXBUF_STRIDE, f + 256,
			    44);
	assert_true(rmd_status(b, 3) & OWN);
	assert_int_equal(csr_r(b, 72), (uint16_t)-5);
}

static void pcnet_rx_chain_running_out_sets_buff_oflo(void **s)
{
	struct bench *b = *s;
	uint8_t f[300];

	chip_init(b, 2, 3, 3, 0, 128);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	rmd_put(b, 1, RXBUF_GPA + RXBUF_STRIDE, 128, false);
	make_frame(f, bench_mac, sizeof(f), 2);
	memset(b->ram + RXBUF_GPA + RXBUF_STRIDE, 0xaa, 128);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_OVERFLOW);
	assert_int_equal(rmd_status(b, 0),
			 ERR | RMD_OFLO | RMD_BUFF | STP);
	assert_int_equal(b->ram[RXBUF_GPA + RXBUF_STRIDE], 0xaa);
	assert_true(csr_r(b, 0) & CSR0_RINT);
	assert_int_equal(csr_r(b, 72), (uint16_t)-7);
}

static void pcnet_rx_astrp_rcv_strips_pad_and_fcs(void **s)
{
	struct bench *b = *s;
	uint8_t f[60] = { 0 };

	chip_start(b, 2, 0);
	csr_w(b, 4, 0x0915 | 0x0400);
	make_frame(f, bench_mac, 14 + 20, 1);
	f[12] = 0;		/* 802.3 length: 20 bytes of data */
	f[13] = 20;
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_mcnt(b, 0), 34);
	/* An Ethernet II type is not a length: nothing stripped. */
	f[12] = 0x08;
	f[13] = 0x06;
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(rmd_mcnt(b, 1), 64);
}

static void pcnet_rx_dropped_when_stopped_or_link_down(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	chip_start(b, 2, 0);
	pcnet_set_link(b->dev, false);
	assert_false(pcnet_rx_ready(b->dev));
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	pcnet_set_link(b->dev, true);
	assert_true(pcnet_rx_ready(b->dev));
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	/* Suspended: nothing comes in. */
	csr_w(b, 5, 0x0001);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	csr_w(b, 5, 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
}

static void pcnet_rx_scatter_iov_is_reassembled(void **s)
{
	struct bench *b = *s;
	uint8_t f[150];
	struct iovec iov[3];

	chip_start(b, 2, 0);
	make_frame(f, bench_mac, sizeof(f), 4);
	iov[0] = (struct iovec){ f, 3 };
	iov[1] = (struct iovec){ f + 3, 0 };
	iov[2] = (struct iovec){ f + 3, sizeof(f) - 3 };
	assert_int_equal(pcnet_receive(b->dev, iov, 3), PCNET_RX_DELIVERED);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
	assert_int_equal(get32(b, RXBUF_GPA + sizeof(f)),
			 ether_fcs(f, sizeof(f)));
}

static void pcnet_rx_then_tx_poll_follows_receive(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	make_frame(f, bench_mac, sizeof(f), 0);
	memcpy(b->ram + TXBUF_GPA, f, sizeof(f));
	tmd_put(b, 0, TXBUF_GPA, sizeof(f), OWN | STP | ENP);
	assert_int_equal(b->ntx, 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(b->ntx, 1);
}

/* pcnet32_set_multicast_list(): SPND, filter and mode, then resume. */
static void pcnet_rx_filter_update_under_spnd(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	chip_start(b, 2, 0);
	csr_w(b, 5, csr_r(b, 5) | 0x0001);
	assert_true(csr_r(b, 5) & 0x0001);	/* suspended at once */
	csr_w(b, 15, MODE_PROM);
	for (unsigned int i = 0; i < 4; i++)
		csr_w(b, 8 + i, 0xffff);
	csr_w(b, 5, csr_r(b, 5) & ~0x0001);
	assert_int_equal(csr_r(b, 15), MODE_PROM);
	make_frame(f, stranger, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_true(pcnet_next_deadline(b->dev) != UINT64_MAX);
}

/*
 * The STP descriptor changes last: with the ENP descriptor's write-back
 * failing (its RMD2 is past the end of RAM), the STP one stays owned.
 */
static void pcnet_rx_stp_descriptor_released_last(void **s)
{
	struct bench *b = *s;
	uint32_t base = RAM_SIZE - 40;
	uint8_t f[200];

	chip_start(b, 2, 0);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 24, base & 0xffff);
	csr_w(b, 25, base >> 16);
	csr_w(b, 76, (uint16_t)-3);
	csr_w(b, 0, CSR0_STRT);
	for (uint32_t i = 0; i < 3; i++) {
		put32(b, base + 16 * i, RXBUF_GPA + i * RXBUF_STRIDE);
		put32(b, base + 16 * i + 4,
		      0x80000000u | (0xf000 | ((0u - 100) & 0xfff)));
	}
	make_frame(f, bench_mac, sizeof(f), 0);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	assert_true(get16(b, base + 6) & OWN);
	assert_true(get16(b, base + 22) & OWN);
	assert_true(csr_r(b, 0) & CSR0_MERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle2),
		T(pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle0),
		T(pcnet_rx_frame_lands_with_fcs_and_mcnt_swstyle3),
		T(pcnet_rx_short_frame_padded_to_60),
		T(pcnet_rx_broadcast_accepted_with_bam),
		T(pcnet_rx_drcvbc_rejects_broadcast),
		T(pcnet_rx_drcvpa_rejects_own_address),
		T(pcnet_rx_other_unicast_is_filtered),
		T(pcnet_rx_multicast_hash_in_ladrf_accepted),
		T(pcnet_rx_promiscuous_accepts_everything),
		T(pcnet_rx_no_owned_descriptor_sets_miss_and_missc),
		T(pcnet_rx_chains_over_small_buffers),
		T(pcnet_rx_chain_running_out_sets_buff_oflo),
		T(pcnet_rx_astrp_rcv_strips_pad_and_fcs),
		T(pcnet_rx_dropped_when_stopped_or_link_down),
		T(pcnet_rx_scatter_iov_is_reassembled),
		T(pcnet_rx_then_tx_poll_follows_receive),
		T(pcnet_rx_stp_descriptor_released_last),
		T(pcnet_rx_filter_update_under_spnd),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_rx", tests, NULL, NULL);
}

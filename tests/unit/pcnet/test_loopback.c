// SPDX-License-Identifier: MIT
/*
 * Loopback (CSR15 LOOP, INTL) and the Linux pcnet32 sequence end to end:
 * probe, open, transmit with TDMD, the interrupt handler's CSR0 write-back
 * and the NAPI CSR3 mask dance, receive.
 */
#include "harness.h"

static void pcnet_internal_loopback_returns_frame_byte_exact(void **s)
{
	struct bench *b = *s;
	uint8_t f[100];

	chip_start(b, 2, MODE_LOOP | MODE_INTL);
	make_frame(f, bench_mac, sizeof(f), 3);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 0);		/* nothing on the wire */
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 0), sizeof(f) + 4);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
	assert_int_equal(get32(b, RXBUF_GPA + sizeof(f)),
			 ether_fcs(f, sizeof(f)));
	assert_int_equal(tmd_status(b, 0), STP | ENP);
	assert_int_equal(csr_r(b, 0) & (CSR0_RINT | CSR0_TINT),
			 CSR0_RINT | CSR0_TINT);
}

static void pcnet_loopback_keeps_runts_unpadded_without_apad(void **s)
{
	struct bench *b = *s;
	uint8_t f[20];

	chip_init(b, 2, 3, 3, MODE_LOOP | MODE_INTL, 1536);
	csr_w(b, 0, CSR0_STRT);
	make_frame(f, bench_mac, sizeof(f), 3);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(rmd_mcnt(b, 0), 24);
}

static void pcnet_loopback_checks_the_guest_fcs(void **s)
{
	struct bench *b = *s;
	uint8_t f[104];
	uint32_t fcs;

	chip_init(b, 2, 3, 3, MODE_LOOP | MODE_INTL | MODE_DXMTFCS, 1536);
	csr_w(b, 0, CSR0_STRT);
	make_frame(f, bench_mac, 100, 3);
	fcs = ether_fcs(f, 100);
	for (unsigned int i = 0; i < 4; i++)
		f[100 + i] = (uint8_t)(fcs >> (8 * i));
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 0), 104);
	f[103] ^= 1;
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(rmd_status(b, 1), ERR | RMD_CRC | STP | ENP |
			 RMD_PAM);
}

static void pcnet_external_loopback_sends_and_receives(void **s)
{
	struct bench *b = *s;
	uint8_t f[80];

	chip_start(b, 2, MODE_LOOP);
	make_frame(f, bench_mac, sizeof(f), 3);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
}

static void pcnet_loopback_ignores_the_network(void **s)
{
	struct bench *b = *s;
	uint8_t f[80];

	chip_start(b, 2, MODE_LOOP | MODE_INTL);
	make_frame(f, bench_mac, sizeof(f), 3);
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DROPPED);
	assert_false(pcnet_rx_ready(b->dev));
}

static void pcnet_internal_loopback_works_with_link_down(void **s)
{
	struct bench *b = *s;
	uint8_t f[80];

	chip_start(b, 2, MODE_LOOP | MODE_INTL);
	pcnet_set_link(b->dev, false);
	make_frame(f, bench_mac, sizeof(f), 3);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(tmd2(b, 0), 0);
}

/* What pcnet32_interrupt() does on each interrupt. */
static uint16_t linux_isr(struct bench *b)
{
	uint16_t csr0 = csr_r(b, 0);

	if (csr0 & 0x8f00) {
		csr_w(b, 0, csr0 & ~0x004f);
		/* napi_schedule: mask everything in CSR3. */
		csr_w(b, 3, csr_r(b, 3) | 0x5f00);
	}
	return csr0;
}

static void linux_napi_done(struct bench *b)
{
	csr_w(b, 3, csr_r(b, 3) & 0x00ff);
	csr_w(b, 0, CSR0_IENA);
}

static void pcnet_linux_pcnet32_sequence_runs_end_to_end(void **s)
{
	struct bench *b = *s;
	uint8_t f[128];
	uint16_t csr0;

	/* Probe. */
	(void)wio_r(b, 0x14);
	assert_int_equal(csr_r(b, 0), 4);
	wio_w(b, 0x12, 88);
	assert_int_equal(wio_r(b, 0x12), 88);
	assert_int_equal(csr_r(b, 88) | (uint32_t)csr_r(b, 89) << 16,
			 0x02621003);
	/* Open: reset, SWSTYLE 2, init block, CSR4, INIT, IDON, STRT. */
	(void)wio_r(b, 0x14);
	chip_start(b, 2, 0);
	assert_int_equal(csr_r(b, 0) & 0x00ff, 0x0073);
	/* Link watchdog. */
	assert_true(bcr_r(b, 4) != 0xc0);

	/* xmit: fill, hand over, TDMD | IENA. */
	make_frame(f, bench_mac, sizeof(f), 0x40);
	b->irq_rises = 0;
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->irq, 1);
	csr0 = linux_isr(b);
	assert_true(csr0 & CSR0_TINT);
	assert_int_equal(b->irq, 0);
	assert_false(csr_r(b, 0) & (CSR0_TINT | CSR0_IENA));

	/* While NAPI polls, a frame comes in: no interrupt (masked). */
	assert_int_equal(recv_frame(b, f, sizeof(f)), PCNET_RX_DELIVERED);
	assert_int_equal(b->irq, 0);
	linux_napi_done(b);
	/* RINT is still pending: unmasking and IENA raise it again. */
	assert_int_equal(b->irq, 1);
	csr0 = linux_isr(b);
	assert_true(csr0 & CSR0_RINT);
	linux_napi_done(b);
	assert_int_equal(b->irq, 0);
	assert_int_equal(b->ntx, 1);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
}

static void pcnet_dwio_driver_runs_swstyle3_many_segments(void **s)
{
	struct bench *b = *s;
	uint8_t f[600];

	/* NetBSD pcn: both resets, DWIO switch, SWSTYLE 3. */
	(void)pcnet_io_read(b->dev, 0x14, 2);
	(void)pcnet_io_read(b->dev, 0x18, 4);
	pcnet_io_write(b->dev, 0x10, 4, 0);
	b->dwio = true;
	chip_init(b, 3, 3, 5, MODE_LOOP | MODE_INTL, 1536);
	csr_w(b, 4, 0x0915);
	csr_w(b, 0, CSR0_STRT | CSR0_IENA);
	make_frame(f, bench_mac, sizeof(f), 1);
	for (unsigned int i = 1; i < 12; i++) {
		memcpy(b->ram + TXBUF_GPA + i * 64, f + i * 50, 50);
		tmd_put(b, i, TXBUF_GPA + i * 64, 50,
			OWN | (i == 11 ? ENP : 0));
	}
	memcpy(b->ram + TXBUF_GPA, f, 50);
	tmd_put(b, 0, TXBUF_GPA, 50, OWN | STP);
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(rmd_status(b, 0), STP | ENP | RMD_PAM);
	assert_int_equal(rmd_mcnt(b, 0), 604);
	assert_memory_equal(b->ram + RXBUF_GPA, f, sizeof(f));
	for (unsigned int i = 0; i < 12; i++)
		assert_false(tmd_status(b, i) & OWN);
	assert_int_equal(b->irq, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_internal_loopback_returns_frame_byte_exact),
		T(pcnet_loopback_keeps_runts_unpadded_without_apad),
		T(pcnet_loopback_checks_the_guest_fcs),
		T(pcnet_external_loopback_sends_and_receives),
		T(pcnet_loopback_ignores_the_network),
		T(pcnet_internal_loopback_works_with_link_down),
		T(pcnet_linux_pcnet32_sequence_runs_end_to_end),
		T(pcnet_dwio_driver_runs_swstyle3_many_segments),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_loopback", tests, NULL, NULL);
}

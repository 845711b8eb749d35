// SPDX-License-Identifier: MIT
/*
 * Registers as drivers see them: reset values, the probe of Linux pcnet32
 * (RESET, CSR0 == 4, RAP 88 read back, chip ID in CSR88/89, APROM), the
 * WIO/DWIO maps and the switch between them, access rules, BCRs, the PHY.
 */
#include "harness.h"

static void pcnet_reset_read_leaves_csr0_stopped(void **state)
{
	struct bench *b = *state;

	chip_start(b, 2, 0);
	chip_reset(b);
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
	assert_int_equal(csr_r(b, 3), 0);
	assert_int_equal(csr_r(b, 4), 0x0115);
	assert_int_equal(csr_r(b, 5), 0);
	assert_int_equal(b->irq, 0);
}

static void pcnet_probe_reads_rap_back_and_chip_id_2621003(void **state)
{
	struct bench *b = *state;
	uint32_t id;

	(void)wio_r(b, 0x14);
	assert_int_equal(csr_r(b, 0), 4);
	wio_w(b, 0x12, 88);
	assert_int_equal(wio_r(b, 0x12), 88);
	id = csr_r(b, 88) | (uint32_t)csr_r(b, 89) << 16;
	assert_int_equal(id, 0x02621003);
	assert_int_equal(id & 0xfff, 0x003);
	assert_int_equal((id >> 12) & 0xffff, 0x2621);
}

static void pcnet_aprom_holds_mac_checksum_and_ww(void **state)
{
	struct bench *b = *state;
	uint8_t p[16];
	uint16_t sum = 0;

	for (unsigned int i = 0; i < 16; i++)
		p[i] = (uint8_t)pcnet_io_read(b->dev, i, 1);
	assert_memory_equal(p, bench_mac, 6);
	assert_int_equal(p[14], 'W');
	assert_int_equal(p[15], 'W');
	for (unsigned int i = 0; i < 16; i++)
		if (i != 12 && i != 13)
			sum += p[i];
	assert_int_equal(p[12] | p[13] << 8, sum);
	/* Word reads in WIO, as pcnet32 and iPXE do them. */
	assert_int_equal(pcnet_io_read(b->dev, 0, 2), bench_mac[0] |
			 bench_mac[1] << 8);
	assert_int_equal(pcnet_io_read(b->dev, 14, 2), 0x5757);
	/* Doubleword reads are a DWIO access. */
	assert_int_equal(pcnet_io_read(b->dev, 0, 4), 0xffffffffu);
}

static void pcnet_padr_matches_aprom_after_reset(void **state)
{
	struct bench *b = *state;

	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(csr_r(b, 12 + i), bench_mac[2 * i] |
				 bench_mac[2 * i + 1] << 8);
}

static void pcnet_aprom_writes_need_apromwe(void **state)
{
	struct bench *b = *state;

	pcnet_io_write(b->dev, 0, 1, 0x02);
	assert_int_equal(pcnet_io_read(b->dev, 0, 1), bench_mac[0]);
	bcr_w(b, 2, bcr_r(b, 2) | 0x0100);
	pcnet_io_write(b->dev, 0, 1, 0x02);
	assert_int_equal(pcnet_io_read(b->dev, 0, 1), 0x02);
	pcnet_hard_reset(b->dev);
	assert_int_equal(pcnet_io_read(b->dev, 0, 1), bench_mac[0]);
}

static void pcnet_dword_write_to_rdp_selects_dwio(void **state)
{
	struct bench *b = *state;

	assert_int_equal(bcr_r(b, 18) & 0x0080, 0);
	pcnet_io_write(b->dev, 0x10, 4, 0);
	/* Now 16-bit accesses are not decoded ... */
	assert_int_equal(wio_r(b, 0x12), 0xffff);
	/* ... and RAP/RESET/BDP moved to 0x14/0x18/0x1c. */
	b->dwio = true;
	assert_int_equal(bcr_r(b, 18) & 0x0080, 0x0080);
	pcnet_io_write(b->dev, 0x14, 4, 88);
	assert_int_equal(pcnet_io_read(b->dev, 0x14, 4) & 0xffff, 88);
	assert_int_equal(csr_r(b, 88) & 0xffff, 0x1003);
	/* A doubleword read of CSR88 is the whole chip ID (NetBSD's pcn). */
	pcnet_io_write(b->dev, 0x14, 4, 88);
	assert_int_equal(pcnet_io_read(b->dev, 0x10, 4), 0x02621003);
	/* The switching write went to CSR0 (RAP 0): a harmless 0. */
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
	/* APROM in doublewords. */
	assert_int_equal(pcnet_io_read(b->dev, 0, 4),
			 bench_mac[0] | bench_mac[1] << 8 |
			 bench_mac[2] << 16 | (uint32_t)bench_mac[3] << 24);
	/* S_RESET keeps DWIO, H_RESET drops it. */
	chip_reset(b);
	assert_int_equal(bcr_r(b, 18) & 0x0080, 0x0080);
	pcnet_hard_reset(b->dev);
	b->dwio = false;
	assert_int_equal(bcr_r(b, 18) & 0x0080, 0);
}

static void pcnet_wio_ignores_other_dword_and_byte_accesses(void **state)
{
	struct bench *b = *state;

	wio_w(b, 0x12, 15);
	pcnet_io_write(b->dev, 0x14, 4, 0x12345678);
	pcnet_io_write(b->dev, 0x10, 1, 0xff);
	assert_int_equal(pcnet_io_read(b->dev, 0x12, 4), 0xffffffffu);
	assert_int_equal(pcnet_io_read(b->dev, 0x10, 1), 0xff);
	assert_int_equal(wio_r(b, 0x12), 15);
	assert_int_equal(csr_r(b, 15), 0);
	assert_int_equal(bcr_r(b, 18) & 0x0080, 0);
	/* Reserved WIO offsets and misaligned words decode nothing. */
	assert_int_equal(pcnet_io_read(b->dev, 0x18, 2), 0xffff);
	assert_int_equal(pcnet_io_read(b->dev, 0x11, 2), 0xffff);
	assert_int_equal(pcnet_io_read(b->dev, 0x20, 2), 0xffff);
}

static void pcnet_csr0_interrupt_bits_are_write_one_to_clear(void **state)
{
	struct bench *b = *state;

	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_IENA);
	assert_true(csr_r(b, 0) & CSR0_IDON);
	assert_true(csr_r(b, 0) & CSR0_INTR);
	assert_int_equal(b->irq, 1);
	/* Writing 0 to IDON leaves it; writing 1 clears it. */
	csr_w(b, 0, CSR0_IENA);
	assert_true(csr_r(b, 0) & CSR0_IDON);
	csr_w(b, 0, CSR0_IENA | CSR0_IDON);
	assert_false(csr_r(b, 0) & (CSR0_IDON | CSR0_INTR));
	assert_int_equal(b->irq, 0);
	assert_true(csr_r(b, 0) & CSR0_IENA);
}

static void pcnet_csr3_masks_idon_but_intr_ignores_iena(void **state)
{
	struct bench *b = *state;

	csr_w(b, 3, 0x0100);
	chip_init(b, 2, 3, 3, 0, 1536);
	assert_int_equal(csr_r(b, 3), 0x0100);
	assert_false(csr_r(b, 0) & CSR0_INTR);
	csr_w(b, 3, 0);
	/* INTR shows the cause even with IENA clear; INTA stays low. */
	assert_true(csr_r(b, 0) & CSR0_INTR);
	assert_int_equal(b->irq, 0);
	csr_w(b, 0, CSR0_IENA);
	assert_int_equal(b->irq, 1);
}

static void pcnet_csr4_uintcmd_raises_uint_interrupt(void **state)
{
	struct bench *b = *state;

	csr_w(b, 0, CSR0_IENA);
	assert_int_equal(b->irq, 0);
	csr_w(b, 4, 0x0115 | 0x0080);
	assert_int_equal(csr_r(b, 4) & 0x00c0, 0x0040);
	assert_int_equal(b->irq, 1);
	csr_w(b, 4, 0x0115 | 0x0040);
	assert_int_equal(csr_r(b, 4), 0x0115);
	assert_int_equal(b->irq, 0);
}

static void pcnet_bcr_reset_values(void **state)
{
	struct bench *b = *state;

	assert_int_equal(bcr_r(b, 2), 0x0002);
	assert_int_equal(bcr_r(b, 4), 0x80c0);	/* link up: LEDOUT */
	assert_int_equal(bcr_r(b, 5), 0x0084);
	assert_int_equal(bcr_r(b, 6), 0x0088);
	assert_int_equal(bcr_r(b, 7), 0x0090);
	assert_int_equal(bcr_r(b, 9), 0);
	assert_int_equal(bcr_r(b, 18), 0x9001);
	assert_int_equal(bcr_r(b, 19), 0x0002);
	assert_int_equal(bcr_r(b, 20), 0x0200);
	assert_int_equal(bcr_r(b, 22), 0xff06);
	assert_int_equal(csr_r(b, 58), 0x0200);
}

static void pcnet_bcr4_ledout_follows_link(void **state)
{
	struct bench *b = *state;

	pcnet_set_link(b->dev, false);
	assert_int_equal(bcr_r(b, 4), 0x00c0);	/* pcnet32 watchdog: down */
	assert_false(pcnet_link(b->dev));
	pcnet_set_link(b->dev, true);
	assert_int_equal(bcr_r(b, 4), 0x80c0);
	/* LEDOUT is read only. */
	bcr_w(b, 4, 0x00c0 | 0x8000);
	assert_int_equal(bcr_r(b, 4), 0x80c0);
	bcr_w(b, 4, 0);
	assert_int_equal(bcr_r(b, 4), 0);
}

static void pcnet_swstyle_sets_ssize32_and_csrpcnet(void **state)
{
	struct bench *b = *state;
	static const uint16_t want[4] = { 0x0200, 0x0101, 0x0302, 0x0303 };

	for (unsigned int s = 0; s < 4; s++) {
		bcr_w(b, 20, (uint16_t)s);
		assert_int_equal(bcr_r(b, 20), want[s]);
		assert_int_equal(csr_r(b, 58), want[s]);
	}
	/* CSR58 writes land in BCR20; reserved styles change nothing. */
	csr_w(b, 58, 2);
	assert_int_equal(bcr_r(b, 20), 0x0302);
	bcr_w(b, 20, 0x0007);
	assert_int_equal(bcr_r(b, 20), 0x0302);
	/* S_RESET keeps the style (drivers rewrite it anyway). */
	chip_reset(b);
	assert_int_equal(bcr_r(b, 20), 0x0302);
}

static void pcnet_mode_writes_ignored_while_running(void **state)
{
	struct bench *b = *state;

	chip_start(b, 2, 0);
	csr_w(b, 15, MODE_PROM);
	assert_int_equal(csr_r(b, 15), 0);
	bcr_w(b, 20, 0);
	assert_int_equal(bcr_r(b, 20), 0x0302);
	csr_w(b, 1, 0x1234);
	assert_int_equal(csr_r(b, 1), IB_GPA & 0xffff);
	/* CSR3/4 are writable at any time. */
	csr_w(b, 3, 0x0400);
	assert_int_equal(csr_r(b, 3), 0x0400);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 15, MODE_PROM);
	assert_int_equal(csr_r(b, 15), MODE_PROM);
}

static void pcnet_ring_registers_read_twos_complement(void **state)
{
	struct bench *b = *state;

	chip_init(b, 2, 4, 3, 0, 1536);
	assert_int_equal(csr_r(b, 76), (uint16_t)-16);
	assert_int_equal(csr_r(b, 78), (uint16_t)-8);
	assert_int_equal(csr_r(b, 72), (uint16_t)-16);
	assert_int_equal(csr_r(b, 24), RDRA_GPA & 0xffff);
	assert_int_equal(csr_r(b, 30), TDRA_GPA & 0xffff);
	assert_int_equal(csr_r(b, 6), 0x3400);
	/* Alternative init: rings written directly while stopped. */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 78, (uint16_t)-4);
	csr_w(b, 74, (uint16_t)-2);
	assert_int_equal(csr_r(b, 78), (uint16_t)-4);
	assert_int_equal(csr_r(b, 74), (uint16_t)-2);
}

static void pcnet_indices_beyond_implemented_read_zero(void **state)
{
	struct bench *b = *state;

	for (unsigned int rap = 0; rap < 256; rap++) {
		wio_w(b, 0x12, (uint16_t)(rap | 0xff00));
		assert_int_equal(wio_r(b, 0x12), rap);
	}
	assert_int_equal(csr_r(b, 127), 0);
	assert_int_equal(csr_r(b, 200), 0);
	assert_int_equal(bcr_r(b, 35), 0);
	assert_int_equal(bcr_r(b, 255), 0);
	csr_w(b, 200, 0xffff);
	bcr_w(b, 255, 0xffff);
	bcr_w(b, 50, 0xffff);
	assert_int_equal(csr_r(b, 200), 0);
	assert_int_equal(bcr_r(b, 50), 0);
	/* Read-only registers stay. */
	csr_w(b, 88, 0);
	bcr_w(b, 0, 0);
	assert_int_equal(csr_r(b, 88), 0x1003);
	assert_int_equal(bcr_r(b, 0), 0x0005);
}

static void pcnet_mii_phy_reports_id_link_and_autoneg(void **state)
{
	struct bench *b = *state;

	assert_true(bcr_r(b, 32) & 0x4000);	/* MIIPD */
	bcr_w(b, 33, 0 << 5 | 2);
	assert_int_equal(bcr_r(b, 34), 0x0022);
	bcr_w(b, 33, 0 << 5 | 3);
	assert_int_equal(bcr_r(b, 34), 0x561b);
	bcr_w(b, 33, 0 << 5 | 0);
	assert_true(bcr_r(b, 34) & 0x1000);	/* AN enabled */
	bcr_w(b, 33, 0 << 5 | 1);
	assert_int_equal(bcr_r(b, 34) & 0x0024, 0x0024);
	bcr_w(b, 33, 0 << 5 | 5);
	assert_true(bcr_r(b, 34) & 0x4000);	/* partner acked */
	/* No PHY at other addresses. */
	bcr_w(b, 33, 7 << 5 | 1);
	assert_int_equal(bcr_r(b, 34), 0xffff);
	/* BMCR reset and restart clear themselves. */
	bcr_w(b, 33, 0);
	bcr_w(b, 34, 0x8000);
	assert_int_equal(bcr_r(b, 34), 0x3100);
	bcr_w(b, 34, 0x1200);
	assert_int_equal(bcr_r(b, 34), 0x1000);
}

static void pcnet_mii_bmsr_link_latches_low(void **state)
{
	struct bench *b = *state;

	bcr_w(b, 33, 1);
	pcnet_set_link(b->dev, false);
	pcnet_set_link(b->dev, true);
	assert_int_equal(bcr_r(b, 34) & 0x0004, 0);
	assert_int_equal(bcr_r(b, 34) & 0x0004, 0x0004);
}

static void pcnet_mmio_bar_maps_the_same_registers(void **state)
{
	struct bench *b = *state;

	pcnet_mmio_write(b->dev, 0x12, 2, 88);
	assert_int_equal(pcnet_mmio_read(b->dev, 0x10, 2), 0x1003);
	assert_int_equal(pcnet_mmio_read(b->dev, 0, 1), bench_mac[0]);
	assert_int_equal(pcnet_mmio_read(b->dev, 0x40, 2), 0xffff);
	pcnet_mmio_write(b->dev, 0x1000, 4, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_reset_read_leaves_csr0_stopped),
		T(pcnet_probe_reads_rap_back_and_chip_id_2621003),
		T(pcnet_aprom_holds_mac_checksum_and_ww),
		T(pcnet_padr_matches_aprom_after_reset),
		T(pcnet_aprom_writes_need_apromwe),
		T(pcnet_dword_write_to_rdp_selects_dwio),
		T(pcnet_wio_ignores_other_dword_and_byte_accesses),
		T(pcnet_csr0_interrupt_bits_are_write_one_to_clear),
		T(pcnet_csr3_masks_idon_but_intr_ignores_iena),
		T(pcnet_csr4_uintcmd_raises_uint_interrupt),
		T(pcnet_bcr_reset_values),
		T(pcnet_bcr4_ledout_follows_link),
		T(pcnet_swstyle_sets_ssize32_and_csrpcnet),
		T(pcnet_mode_writes_ignored_while_running),
		T(pcnet_ring_registers_read_twos_complement),
		T(pcnet_indices_beyond_implemented_read_zero),
		T(pcnet_mii_phy_reports_id_link_and_autoneg),
		T(pcnet_mii_bmsr_link_latches_low),
		T(pcnet_mmio_bar_maps_the_same_registers),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_regs", tests, NULL, NULL);
}

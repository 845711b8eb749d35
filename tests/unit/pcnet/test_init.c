// SPDX-License-Identifier: MIT
/*
 * Initialization: the init block in its 16-bit (SWSTYLE 0) and 32-bit
 * (SWSTYLE 2, 3) layouts, IDON and its interrupt, and the CSR0 commands.
 */
#include <stdlib.h>

#include "harness.h"

static const uint8_t other_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

static void check_loaded(struct bench *b, uint16_t mode)
{
	assert_int_equal(csr_r(b, 15), mode);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(csr_r(b, 12 + i), other_mac[2 * i] |
				 other_mac[2 * i + 1] << 8);
	assert_int_equal(csr_r(b, 8), 0x0201);
	assert_int_equal(csr_r(b, 11), 0x0807);
	assert_int_equal(csr_r(b, 24) | (uint32_t)csr_r(b, 25) << 16,
			 RDRA_GPA);
	assert_int_equal(csr_r(b, 30) | (uint32_t)csr_r(b, 31) << 16,
			 TDRA_GPA);
	assert_int_equal(csr_r(b, 76), (uint16_t)-16);
	assert_int_equal(csr_r(b, 78), (uint16_t)-4);
	assert_int_equal(csr_r(b, 0) & (CSR0_IDON | CSR0_INIT | CSR0_STOP),
			 CSR0_IDON | CSR0_INIT);
}

static void init_with(struct bench *b, unsigned int style)
{
	uint32_t ib = IB_GPA;
	uint16_t mode = MODE_DRCVBC | MODE_DXMTFCS;

	bcr_w(b, 20, (uint16_t)style);
	memset(b->ram + ib, 0, 32);
	put16(b, ib, mode);
	if (style == 0) {
		memcpy(b->ram + ib + 2, other_mac, 6);
		for (unsigned int i = 0; i < 8; i++)
			put8(b, ib + 8 + i, (uint8_t)(i + 1));
		put32(b, ib + 16, RDRA_GPA | 4u << 29);
		put32(b, ib + 20, TDRA_GPA | 2u << 29);
	} else {
		put8(b, ib + 2, 4 << 4);
		put8(b, ib + 3, 2 << 4);
		memcpy(b->ram + ib + 4, other_mac, 6);
		for (unsigned int i = 0; i < 8; i++)
			put8(b, ib + 12 + i, (uint8_t)(i + 1));
		put32(b, ib + 20, RDRA_GPA);
		put32(b, ib + 24, TDRA_GPA);
	}
	csr_w(b, 1, (uint16_t)ib);
	csr_w(b, 2, (uint16_t)(ib >> 16));
	csr_w(b, 0, CSR0_INIT);
	check_loaded(b, mode);
}

static void pcnet_init_swstyle0_loads_16bit_block_and_sets_idon(void **s)
{
	init_with(*s, 0);
}

static void pcnet_init_swstyle2_loads_32bit_block_and_sets_idon(void **s)
{
	init_with(*s, 2);
}

static void pcnet_init_swstyle3_loads_32bit_block_and_sets_idon(void **s)
{
	init_with(*s, 3);
}

static void pcnet_idon_raises_inta_when_iena(void **state)
{
	struct bench *b = *state;

	csr_w(b, 0, CSR0_IENA);
	assert_int_equal(b->irq, 0);
	chip_init(b, 2, 3, 3, 0, 1536);
	/* chip_init wrote INIT without IENA: IENA is plain read/write. */
	assert_int_equal(b->irq, 0);
	csr_w(b, 0, CSR0_IENA);
	assert_int_equal(b->irq, 1);
	assert_int_equal(pcnet_irq_level(b->dev), 1);
	csr_w(b, 0, CSR0_IENA | CSR0_IDON);
	assert_int_equal(b->irq, 0);
}

static void pcnet_init_16bit_upper_address_byte_comes_from_iadr(void **s)
{
	struct bench *b = *s;
	uint8_t *high = calloc(1, 0x10000);
	uint8_t *ib = high + 0x1000;

	/*
	 * SSIZE32 = 0: addresses in the block and descriptors are 24 bits;
	 * IADR[31:24] (CSR2 15:8) supplies the upper byte of all of them.
	 */
	assert_non_null(high);
	assert_int_equal(guest_mem_add(&b->mem, 0x01000000, 0x10000, high,
				       -1, 0), 0);
	bcr_w(b, 20, 0);
	ib[0] = 0;
	memcpy(ib + 2, other_mac, 6);
	ib[16] = 0x00; ib[17] = 0x20; ib[18] = 0x00; ib[19] = 3 << 5;
	ib[20] = 0x00; ib[21] = 0x40; ib[22] = 0x00; ib[23] = 3 << 5;
	csr_w(b, 1, 0x1000);
	csr_w(b, 2, 0x0100);
	csr_w(b, 0, CSR0_INIT);
	assert_int_equal(csr_r(b, 0) & (CSR0_IDON | CSR0_MERR), CSR0_IDON);
	assert_int_equal(csr_r(b, 24), 0x2000);
	assert_int_equal(csr_r(b, 25), 0x0100);
	assert_int_equal(csr_r(b, 31), 0x0100);
	/* A receive descriptor there is found through the upper byte. */
	high[0x2000 + 3] = 0x80;
	high[0x2000 + 4] = 0x00;
	high[0x2000 + 5] = 0xf8;	/* 2048-byte buffer at 0x01000000 */
	csr_w(b, 0, CSR0_STRT);
	assert_true(pcnet_rx_ready(b->dev));
	free(high);
}

static void pcnet_init_and_strt_together_start_after_init(void **state)
{
	struct bench *b = *state;

	chip_init(b, 2, 3, 3, 0, 1536);
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 0, CSR0_INIT | CSR0_STRT);
	assert_int_equal(csr_r(b, 0) & 0x013f,
			 CSR0_IDON | CSR0_RXON | CSR0_TXON | CSR0_STRT |
			 CSR0_INIT);
}

static void pcnet_stop_clears_iena_and_status(void **state)
{
	struct bench *b = *state;

	chip_start(b, 2, 0);
	csr_w(b, 4, 0x0115 | 0x0080);
	assert_int_equal(b->irq, 1);
	csr_w(b, 0, CSR0_STOP);
	assert_int_equal(csr_r(b, 0), CSR0_STOP);
	assert_int_equal(csr_r(b, 4) & 0x02ea, 0);
	assert_int_equal(b->irq, 0);
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
}

static void pcnet_strt_honors_dtx_and_drx(void **state)
{
	struct bench *b = *state;

	chip_init(b, 2, 3, 3, 0x0003, 1536);
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(csr_r(b, 0) & (CSR0_TXON | CSR0_RXON), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_init_swstyle0_loads_16bit_block_and_sets_idon),
		T(pcnet_init_swstyle2_loads_32bit_block_and_sets_idon),
		T(pcnet_init_swstyle3_loads_32bit_block_and_sets_idon),
		T(pcnet_idon_raises_inta_when_iena),
		T(pcnet_init_16bit_upper_address_byte_comes_from_iadr),
		T(pcnet_init_and_strt_together_start_after_init),
		T(pcnet_stop_clears_iena_and_status),
		T(pcnet_strt_honors_dtx_and_drx),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_init", tests, NULL, NULL);
}

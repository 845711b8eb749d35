// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest_mem.h"

static uint8_t low[4096], high[4096];

static void two_regions(struct guest_mem *gm)
{
	guest_mem_init(gm);
	assert_int_equal(guest_mem_add(gm, 0, sizeof(low), low, -1, 0), 0);
	assert_int_equal(guest_mem_add(gm, 0x100000000ull, sizeof(high), high,
				       -1, 0), 0);
}

static void guest_mem_translates_every_byte_inside_a_region(void **state)
{
	struct guest_mem gm;

	(void)state;
	two_regions(&gm);
	assert_ptr_equal(guest_mem_ptr(&gm, 0, 1), low);
	assert_ptr_equal(guest_mem_ptr(&gm, 4095, 1), low + 4095);
	assert_ptr_equal(guest_mem_ptr(&gm, 0, 4096), low);
	assert_ptr_equal(guest_mem_ptr(&gm, 0x100000000ull + 10, 100), high + 10);
}

static void guest_mem_rejects_ranges_crossing_a_region_end(void **state)
{
	struct guest_mem gm;

	(void)state;
	two_regions(&gm);
	assert_null(guest_mem_ptr(&gm, 4095, 2));
	assert_null(guest_mem_ptr(&gm, 0, 4097));
	assert_null(guest_mem_ptr(&gm, 4096, 1));
	assert_null(guest_mem_ptr(&gm, 0x100000000ull - 1, 2));
	assert_null(guest_mem_ptr(&gm, 0x100000000ull + 4096, 1));
}

static void guest_mem_rejects_lengths_that_wrap_the_address_space(void **state)
{
	struct guest_mem gm;

	(void)state;
	two_regions(&gm);
	assert_null(guest_mem_ptr(&gm, 16, UINT64_MAX));
	assert_null(guest_mem_ptr(&gm, 16, UINT64_MAX - 15));
	assert_null(guest_mem_ptr(&gm, UINT64_MAX, 2));
	assert_null(guest_mem_ptr(&gm, 0x100000000ull + 8, (uint64_t)-8));
}

static void guest_mem_read_write_copy_nothing_on_a_bad_range(void **state)
{
	struct guest_mem gm;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

	(void)state;
	two_regions(&gm);
	memset(low, 0, sizeof(low));
	assert_int_equal(guest_mem_write(&gm, 4092, buf, 8), -EFAULT);
	assert_int_equal(low[4092], 0);
	assert_int_equal(guest_mem_write(&gm, 100, buf, 8), 0);
	assert_int_equal(guest_mem_read(&gm, 100, out, 8), 0);
	assert_memory_equal(out, buf, 8);
	assert_int_equal(guest_mem_read(&gm, 5000, out, 1), -EFAULT);
}

static void guest_mem_refuses_overlapping_empty_and_wrapping_regions(void **state)
{
	struct guest_mem gm;

	(void)state;
	two_regions(&gm);
	assert_int_equal(guest_mem_add(&gm, 4095, 10, low, -1, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, 0x100000fffull, 1, low, -1, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, 0x200000, 0, low, -1, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, UINT64_MAX - 10, 12, low, -1, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, 0x200000, 10, NULL, -1, 0), -EINVAL);
	assert_int_equal(guest_mem_add(&gm, 4096, 10, low, -1, 0), 0);
}

static void guest_mem_table_full_is_an_error(void **state)
{
	struct guest_mem gm;

	(void)state;
	guest_mem_init(&gm);
	for (unsigned i = 0; i < GUEST_MEM_MAX_REGIONS; i++)
		assert_int_equal(guest_mem_add(&gm, i * 0x1000ull, 0x1000, low,
					       -1, 0), 0);
	assert_int_equal(guest_mem_add(&gm, 0x100000, 0x1000, low, -1, 0),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guest_mem_translates_every_byte_inside_a_region),
		cmocka_unit_test(guest_mem_rejects_ranges_crossing_a_region_end),
		cmocka_unit_test(guest_mem_rejects_lengths_that_wrap_the_address_space),
		cmocka_unit_test(guest_mem_read_write_copy_nothing_on_a_bad_range),
		cmocka_unit_test(guest_mem_refuses_overlapping_empty_and_wrapping_regions),
		cmocka_unit_test(guest_mem_table_full_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

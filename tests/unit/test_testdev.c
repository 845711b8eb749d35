// SPDX-License-Identifier: MIT
/* The in-core PCI test function, reached as a guest reaches it: through
 * config space for its BAR, then port I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pci.h"
#include "pio.h"
#include "testdev.h"

static unsigned last_gsi;
static int last_level = -1;

static void record(void *opaque, unsigned gsi, bool level)
{
	(void)opaque;
	last_gsi = gsi;
	last_level = level;
}

static uint32_t pio32(struct pio_bus *b, uint16_t port, bool wr, uint32_t v)
{
	uint8_t d[4];

	pio_put(d, 4, v);
	if (!pio_dispatch(b, NULL, port, d, 4, wr))
		return 0xffffffffu;
	return pio_get(d, 4);
}

static uint32_t cfg_read(struct pio_bus *b, unsigned dev, unsigned reg)
{
	pio32(b, PCI_CONFIG_ADDRESS, true, 0x80000000u | dev << 11 | reg);
	return pio32(b, PCI_CONFIG_DATA, false, 0);
}

static void testdev_is_found_by_id_and_serves_its_bar(void **state)
{
	struct pio_bus *b = pio_bus_new();
	struct pci_bus *pci = pci_bus_new(b);
	struct irq_line l = { .set_level = record };
	struct testdev *t = testdev_create(pci, l);
	uint16_t io;

	(void)state;
	assert_non_null(t);
	assert_int_equal(cfg_read(b, 1, 0), TESTDEV_DEVICE_ID << 16 | TESTDEV_VENDOR_ID);
	assert_int_equal(cfg_read(b, 1, 8) >> 8, TESTDEV_CLASS);
	io = (uint16_t)(cfg_read(b, 1, 0x10) & ~3u);
	assert_true(io >= PCI_IO_WINDOW_BASE);
	assert_int_equal(pio32(b, io + TESTDEV_ID, false, 0), TESTDEV_ID_VALUE);
	pio32(b, io + TESTDEV_SCRATCH, true, 0xdeadbeef);
	assert_int_equal(pio32(b, io + TESTDEV_SCRATCH, false, 0), 0xdeadbeef);

	/* The line is the swizzled INTA GSI, preset in Interrupt Line. */
	pio32(b, io + TESTDEV_IRQ, true, 1);
	assert_int_equal(last_level, 1);
	assert_int_equal(last_gsi, pci_intx_gsi(1, 1));
	assert_int_equal(cfg_read(b, 1, 0x3c) & 0xff, last_gsi);
	assert_int_equal(pio32(b, io + TESTDEV_IRQ, false, 0), 1);
	pio32(b, io + TESTDEV_IRQ, true, 0);
	assert_int_equal(last_level, 0);

	pci_bus_free(pci);
	testdev_free(t);
	pio_bus_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(testdev_is_found_by_id_and_serves_its_bar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

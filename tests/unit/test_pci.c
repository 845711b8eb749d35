/* SPDX-License-Identifier: MIT */
/* PCI bus 0 through config mechanism #1, as firmware and drivers use it. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pci.h"

struct fixture {
	struct pio_bus *pio;
	struct pci_bus *pci;
};

/* A device's I/O ports and hooks, recording what reached them. */
struct dev {
	unsigned pio_calls;
	uint16_t pio_offset;
	unsigned moves;
	unsigned moved_bar;
	uint64_t moved_old;
	uint64_t moved_new;
	bool moved_enabled;
	unsigned cfg_off;
	unsigned cfg_len;
	uint32_t cfg_val;
};

static void dev_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		    unsigned len, bool is_write, void *opaque)
{
	struct dev *d = opaque;

	(void)vcpu;
	d->pio_calls++;
	d->pio_offset = offset;
	if (!is_write)
		pio_put(data, len, 0x11223344);
}

static void dev_bar_moved(void *opaque, unsigned bar, uint64_t old_addr,
			  uint64_t new_addr, bool enabled)
{
	struct dev *d = opaque;

	d->moves++;
	d->moved_bar = bar;
	d->moved_old = old_addr;
	d->moved_new = new_addr;
	d->moved_enabled = enabled;
}

static uint32_t dev_cfg_read(void *opaque, unsigned offset, unsigned len)
{
	struct dev *d = opaque;

	d->cfg_off = offset;
	d->cfg_len = len;
	return 0xcafe0000 | offset;
}

static void dev_cfg_write(void *opaque, unsigned offset, unsigned len,
			  uint32_t val)
{
	struct dev *d = opaque;

	d->cfg_off = offset;
	d->cfg_len = len;
	d->cfg_val = val;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->pio = pio_bus_new();
	f->pci = f->pio ? pci_bus_new(f->pio) : NULL;
	*state = f;
	return f->pci ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_free(f->pci);
	pio_bus_free(f->pio);
	free(f);
	return 0;
}

static uint32_t port_in(struct fixture *f, uint16_t port, unsigned len)
{
	uint8_t data[4];

	memset(data, 0xff, sizeof(data));
	pio_dispatch(f->pio, NULL, port, data, len, false);
	return pio_get(data, len);
}

static void port_out(struct fixture *f, uint16_t port, unsigned len,
		     uint32_t v)
{
	uint8_t data[4];

	pio_put(data, len, v);
	pio_dispatch(f->pio, NULL, port, data, len, true);
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn,
			 unsigned off)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc);
}

static uint32_t cfg_read(struct fixture *f, unsigned dev, unsigned off,
			 unsigned len)
{
	port_out(f, PCI_CONFIG_ADDRESS, 4, cfg_addr(0, dev, 0, off));
	return port_in(f, PCI_CONFIG_DATA + (off & 3), len);
}

static void cfg_write(struct fixture *f, unsigned dev, unsigned off,
		      unsigned len, uint32_t v)
{
	port_out(f, PCI_CONFIG_ADDRESS, 4, cfg_addr(0, dev, 0, off));
	port_out(f, PCI_CONFIG_DATA + (off & 3), len, v);
}

static bool port_claimed(struct fixture *f, uint16_t port)
{
	uint8_t v;

	return pio_dispatch(f->pio, NULL, port, &v, 1, false);
}

/* A PCnet-like function: I/O BAR 0 of 32 bytes, a 32-bit memory BAR 1. */
static struct pci_func_desc nic_desc(struct dev *d)
{
	return (struct pci_func_desc){
		.vendor_id = 0x1022,
		.device_id = 0x2000,
		.subsys_vendor_id = 0x1af4,
		.subsys_id = 0x1100,
		.class_code = 0x020000,
		.revision = 0x10,
		.int_pin = 1,
		.bar[0] = { .size = 32, .type = PCI_BAR_IO, .pio = dev_pio,
			    .pio_opaque = d },
		.bar[1] = { .size = 32, .type = PCI_BAR_MEM32 },
		.opaque = d,
		.bar_moved = dev_bar_moved,
	};
}

static int add_nic(struct fixture *f, struct dev *d)
{
	struct pci_func_desc desc = nic_desc(d);

	return pci_add_function(f->pci, &desc);
}

static void pci_absent_functions_read_all_ones(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f, 5, PCI_VENDOR_ID, 4), 0xffffffff);
	assert_int_equal(cfg_read(f, 31, PCI_CLASS_REVISION, 2), 0xffff);
	assert_int_equal(cfg_read(f, 5, PCI_HEADER_TYPE, 1), 0xff);
	/* Function 1 of the host bridge and bus 1 are empty too. */
	port_out(f, PCI_CONFIG_ADDRESS, 4, cfg_addr(0, 0, 1, 0));
	assert_int_equal(port_in(f, PCI_CONFIG_DATA, 4), 0xffffffff);
	port_out(f, PCI_CONFIG_ADDRESS, 4, cfg_addr(1, 0, 0, 0));
	assert_int_equal(port_in(f, PCI_CONFIG_DATA, 4), 0xffffffff);
	/* Without the enable bit 0xCFC is not a config cycle. */
	port_out(f, PCI_CONFIG_ADDRESS, 4, 0);
	assert_int_equal(port_in(f, PCI_CONFIG_DATA, 4), 0xffffffff);
	/* And writes to absent functions go nowhere. */
	cfg_write(f, 5, PCI_COMMAND, 2, 0x7);
	assert_int_equal(cfg_read(f, 5, PCI_COMMAND, 2), 0xffff);
}

static void pci_config_address_latches_dword_writes_only(void **state)
{
	struct fixture *f = *state;

	port_out(f, PCI_CONFIG_ADDRESS, 4, 0x80001234);
	/* Bits 1:0 and 30:24 are reserved and read 0. */
	assert_int_equal(port_in(f, PCI_CONFIG_ADDRESS, 4), 0x80001234);
	port_out(f, PCI_CONFIG_ADDRESS, 4, 0xffffffff);
	assert_int_equal(port_in(f, PCI_CONFIG_ADDRESS, 4), 0x80fffffc);
	port_out(f, PCI_CONFIG_ADDRESS, 4, 0x80000000);
	port_out(f, PCI_CONFIG_ADDRESS, 1, 0x55);
	port_out(f, PCI_CONFIG_ADDRESS + 2, 2, 0x5555);
	assert_int_equal(port_in(f, PCI_CONFIG_ADDRESS, 4), 0x80000000);
	assert_int_equal(port_in(f, PCI_CONFIG_ADDRESS + 1, 1), 0xff);
}

static void pci_host_bridge_identifies_as_i440fx(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f, 0, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(cfg_read(f, 0, PCI_DEVICE_ID, 2), 0x1237);
	assert_int_equal(cfg_read(f, 0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(f, 0, PCI_HEADER_TYPE, 1),
			 PCI_HEADER_TYPE_NORMAL);
	assert_int_equal(cfg_read(f, 0, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_equal(cfg_read(f, 0, PCI_BASE_ADDRESS_0, 4), 0);
}

static void pci_function_header_shows_description(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	assert_int_equal(dev, 1);
	assert_int_equal(cfg_read(f, dev, PCI_VENDOR_ID, 4), 0x20001022);
	assert_int_equal(cfg_read(f, dev, PCI_CLASS_REVISION, 4), 0x02000010);
	assert_int_equal(cfg_read(f, dev, PCI_SUBSYSTEM_VENDOR_ID, 4),
			 0x11001af4);
	assert_int_equal(cfg_read(f, dev, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cfg_read(f, dev, PCI_CAPABILITY_LIST, 1), 0);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
			 0);
}

static void pci_read_only_fields_ignore_writes(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);
	static const unsigned ro[] = {
		PCI_VENDOR_ID, PCI_CLASS_REVISION, PCI_SUBSYSTEM_VENDOR_ID,
		PCI_ROM_ADDRESS, PCI_CAPABILITY_LIST, PCI_CARDBUS_CIS,
	};
	unsigned i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = cfg_read(f, dev, ro[i], 4);

		cfg_write(f, dev, ro[i], 4, 0xa5a5a5a5);
		cfg_write(f, dev, ro[i], 4, 0);
		assert_int_equal(cfg_read(f, dev, ro[i], 4), before);
	}
	/* Header type, BIST, interrupt pin, min_gnt/max_lat. */
	cfg_write(f, dev, PCI_HEADER_TYPE, 2, 0xffff);
	assert_int_equal(cfg_read(f, dev, PCI_HEADER_TYPE, 2), 0);
	cfg_write(f, dev, PCI_INTERRUPT_PIN, 1, 3);
	assert_int_equal(cfg_read(f, dev, PCI_INTERRUPT_PIN, 1), 1);
	cfg_write(f, dev, PCI_MIN_GNT, 2, 0xffff);
	assert_int_equal(cfg_read(f, dev, PCI_MIN_GNT, 2), 0);
	/* No expansion ROM: the ROM BAR sizes to 0. */
	cfg_write(f, dev, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, dev, PCI_ROM_ADDRESS, 4), 0);
}

static void pci_command_keeps_only_writable_bits(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(cfg_read(f, dev, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	cfg_write(f, dev, PCI_COMMAND, 2, 0);
	assert_int_equal(cfg_read(f, dev, PCI_COMMAND, 2), 0);
	cfg_write(f, dev, PCI_COMMAND, 1, PCI_COMMAND_MASTER);
	assert_int_equal(cfg_read(f, dev, PCI_COMMAND, 4),
			 PCI_COMMAND_MASTER);
}

static void pci_status_error_bits_are_write_one_to_clear(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);
	const uint16_t errs = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |
			      PCI_STATUS_REC_TARGET_ABORT |
			      PCI_STATUS_REC_MASTER_ABORT |
			      PCI_STATUS_SIG_SYSTEM_ERROR |
			      PCI_STATUS_DETECTED_PARITY;

	/* The guest cannot set them. */
	cfg_write(f, dev, PCI_STATUS, 2, 0xffff);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2), 0);

	pci_set_status(f->pci, dev, 0xffff);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2), errs);
	/* Writing 0s changes nothing, 1s clear just those bits. */
	cfg_write(f, dev, PCI_STATUS, 2, 0);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2), errs);
	cfg_write(f, dev, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2),
			 errs & ~PCI_STATUS_REC_MASTER_ABORT);
	/* A dword write to COMMAND with status 0 keeps the errors. */
	cfg_write(f, dev, PCI_COMMAND, 4, PCI_COMMAND_IO);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2),
			 errs & ~PCI_STATUS_REC_MASTER_ABORT);
	cfg_write(f, dev, PCI_STATUS + 1, 1, 0xff);
	assert_int_equal(cfg_read(f, dev, PCI_STATUS, 2), 0);
}

static void pci_cache_line_latency_and_interrupt_line_are_rw(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_CACHE_LINE_SIZE, 2, 0x4010);
	assert_int_equal(cfg_read(f, dev, PCI_CACHE_LINE_SIZE, 1), 0x10);
	assert_int_equal(cfg_read(f, dev, PCI_LATENCY_TIMER, 1), 0x40);
	cfg_write(f, dev, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(cfg_read(f, dev, PCI_INTERRUPT_LINE, 4),
			 0x0100 | 0x0b);
}

static void pci_io_bar_sizing_reads_back_size_mask(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);
	uint32_t orig = cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4);

	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4),
			 ~(32u - 1) | PCI_BASE_ADDRESS_SPACE_IO);
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, orig);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4), orig);
}

static void pci_mem32_bar_sizing_reads_back_size_mask(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc desc = {
		.vendor_id = 1,
		.bar[2] = { .size = 0x4000, .type = PCI_BAR_MEM32,
			    .prefetchable = true },
	};
	int dev = pci_add_function(f->pci, &desc);

	assert_true(dev > 0);
	cfg_write(f, dev, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_2, 4),
			 0xffffc000 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	/* Unused slots size to 0. */
	cfg_write(f, dev, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_1, 4), 0);
}

static void pci_mem64_bar_sizing_covers_both_halves(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc desc = {
		.vendor_id = 1,
		.bar[0] = { .size = 0x100000, .type = PCI_BAR_MEM64 },
	};
	int dev = pci_add_function(f->pci, &desc);

	assert_true(dev > 0);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4) & 0xf,
			 PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_1, 4), 0);
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	cfg_write(f, dev, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4),
			 0xfff00000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	cfg_write(f, dev, PCI_BASE_ADDRESS_1, 4, 0x1);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_1, 4), 0x1);
}

static void pci_bar_type_bits_are_read_only(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4),
			 PCI_BASE_ADDRESS_SPACE_IO);
	cfg_write(f, dev, PCI_BASE_ADDRESS_1, 4, 0xe000000f);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_1, 4), 0xe0000000);
}

static void pci_bars_placed_like_firmware(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 }, d2 = { 0 };
	struct pci_func_desc big = {
		.vendor_id = 1,
		.bar[0] = { .size = 0x100, .type = PCI_BAR_IO, .pio = dev_pio,
			    .pio_opaque = &d2 },
		.bar[1] = { .size = 0x1000, .type = PCI_BAR_MEM32 },
		.bar[2] = { .size = 0x100000, .type = PCI_BAR_MEM64 },
	};
	int a = add_nic(f, &d);
	int b = pci_add_function(f->pci, &big);
	uint64_t addr;
	bool on;

	assert_int_equal(b, 2);
	assert_int_equal(cfg_read(f, a, PCI_BASE_ADDRESS_0, 4), 0xc001);
	assert_int_equal(cfg_read(f, a, PCI_BASE_ADDRESS_1, 4), 0xe0000000);
	/* Naturally aligned after what is taken. */
	assert_int_equal(cfg_read(f, b, PCI_BASE_ADDRESS_0, 4), 0xc101);
	assert_int_equal(cfg_read(f, b, PCI_BASE_ADDRESS_1, 4), 0xe0001000);
	assert_int_equal(cfg_read(f, b, PCI_BASE_ADDRESS_2, 4),
			 0xe0100000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_read(f, b, PCI_BASE_ADDRESS_3, 4), 0);
	assert_int_equal(cfg_read(f, a, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY);

	assert_int_equal(pci_bar_get(f->pci, b, 2, &addr, &on), 0);
	assert_int_equal(addr, 0xe0100000);
	assert_true(on);
	assert_int_equal(pci_bar_get(f->pci, b, 3, &addr, &on), -ENOENT);
	assert_int_equal(pci_bar_get(f->pci, 7, 0, &addr, &on), -ENOENT);
	/* Placed and decoding from the start, without a guest. */
	assert_true(port_claimed(f, 0xc000));
	assert_true(port_claimed(f, 0xc1ff));
	assert_false(port_claimed(f, 0xc020));
	assert_int_equal(d.moves, 0);
}

static void pci_header_bytes_and_words_match_dword_view(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);
	unsigned off;

	cfg_write(f, dev, PCI_CACHE_LINE_SIZE, 2, 0x2010);
	pci_set_status(f->pci, dev, PCI_STATUS_REC_MASTER_ABORT);
	for (off = 0; off < 0x40; off += 4) {
		uint32_t dw = cfg_read(f, dev, off, 4);
		unsigned i;

		for (i = 0; i < 4; i++)
			assert_int_equal(cfg_read(f, dev, off + i, 1),
					 (dw >> (8 * i)) & 0xff);
		/* Words at byte lanes 0, 1 and 2 of CONFIG_DATA. */
		for (i = 0; i < 3; i++)
			assert_int_equal(cfg_read(f, dev, off + i, 2),
					 (dw >> (8 * i)) & 0xffff);
	}
}

static void pci_access_past_config_data_is_unclaimed(void **state)
{
	struct fixture *f = *state;
	uint8_t data[4];

	port_out(f, PCI_CONFIG_ADDRESS, 4, cfg_addr(0, 0, 0, 0));
	assert_false(pio_dispatch(f->pio, NULL, PCI_CONFIG_DATA + 3, data, 2,
				  false));
	assert_false(pio_dispatch(f->pio, NULL, PCI_CONFIG_DATA + 1, data, 4,
				  false));
	/* Register 0xFC, the last dword, still works. */
	assert_int_equal(cfg_read(f, 0, 0xfc, 4), 0);
}

static void pci_byte_writes_assemble_a_bar_address(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_BASE_ADDRESS_0 + 1, 1, 0xd0);
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 1, 0x40);
	assert_int_equal(cfg_read(f, dev, PCI_BASE_ADDRESS_0, 4), 0xd041);
	assert_true(port_claimed(f, 0xd040));
	assert_false(port_claimed(f, 0xc000));
}

static void pci_io_bar_move_reregisters_ports_and_reports_it(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);
	uint8_t v;

	assert_true(pio_dispatch(f->pio, NULL, 0xc004, &v, 1, false));
	assert_int_equal(d.pio_calls, 1);
	assert_int_equal(d.pio_offset, 4);

	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xd000);
	assert_int_equal(d.moves, 1);
	assert_int_equal(d.moved_bar, 0);
	assert_int_equal(d.moved_old, 0xc000);
	assert_int_equal(d.moved_new, 0xd000);
	assert_true(d.moved_enabled);

	assert_false(port_claimed(f, 0xc004));
	assert_int_equal(port_in(f, 0xd01c, 4), 0x11223344);
	assert_int_equal(d.pio_calls, 2);
	assert_int_equal(d.pio_offset, 0x1c);
	assert_false(port_claimed(f, 0xd020));

	/* Rewriting the same address is no move. */
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xd000);
	assert_int_equal(d.moves, 1);
}

static void pci_io_decode_disable_unregisters_bar(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	assert_false(port_claimed(f, 0xc000));
	assert_int_equal(d.moves, 1);
	assert_int_equal(d.moved_new, 0xc000);
	assert_false(d.moved_enabled);

	cfg_write(f, dev, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_true(port_claimed(f, 0xc000));
	assert_int_equal(d.moves, 2);
	assert_true(d.moved_enabled);
}

static void pci_mem_decode_disable_reports_mem_bar(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(d.moves, 1);
	assert_int_equal(d.moved_bar, 1);
	assert_false(d.moved_enabled);
	assert_true(port_claimed(f, 0xc000));

	cfg_write(f, dev, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	cfg_write(f, dev, PCI_BASE_ADDRESS_1, 4, 0xf0000000);
	assert_int_equal(d.moves, 3);
	assert_int_equal(d.moved_old, 0xe0000000);
	assert_int_equal(d.moved_new, 0xf0000000);
	assert_true(d.moved_enabled);
}

static void pci_bar_sizing_unregisters_io_range(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	assert_false(port_claimed(f, 0xc000));
	assert_false(port_claimed(f, 0xffe0));
	assert_false(d.moved_enabled);
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xc000);
	assert_true(port_claimed(f, 0xc000));
	assert_true(d.moved_enabled);
	assert_int_equal(d.moves, 2);
}

static void pci_io_bar_moved_onto_taken_ports_does_not_decode(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	int dev = add_nic(f, &d);

	/* 0xCE0-0xCFF holds CONFIG_ADDRESS and CONFIG_DATA. */
	cfg_write(f, dev, PCI_BASE_ADDRESS_0, 4, 0xce0);
	assert_int_equal(d.moved_new, 0xce0);
	assert_false(d.moved_enabled);
	assert_false(port_claimed(f, 0xce0));
	assert_false(port_claimed(f, 0xc000));
	/* The config ports still work. */
	assert_int_equal(cfg_read(f, 0, PCI_VENDOR_ID, 2), 0x8086);
}

static void pci_interrupt_line_preset_to_swizzled_gsi(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc desc = { .vendor_id = 1 };
	unsigned pin;

	for (pin = 1; pin <= 4; pin++) {
		int dev;

		desc.int_pin = pin;
		dev = pci_add_function(f->pci, &desc);
		assert_int_equal(dev, pin);
		assert_int_equal(cfg_read(f, dev, PCI_INTERRUPT_LINE, 1),
				 16 + ((dev + pin - 1) & 3));
	}
	assert_int_equal(pci_intx_gsi(1, 1), 17);
	assert_int_equal(pci_intx_gsi(3, 1), 19);
	assert_int_equal(pci_intx_gsi(3, 2), 16);
	assert_int_equal(pci_intx_gsi(31, 4), 18);
}

static void pci_intx_routes_list_functions_with_pins(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc desc = { .vendor_id = 1 };
	struct pci_intx_route r[4];

	desc.int_pin = 1;
	assert_int_equal(pci_add_function(f->pci, &desc), 1);
	desc.int_pin = 0;
	assert_int_equal(pci_add_function(f->pci, &desc), 2);
	desc.int_pin = 2;
	assert_int_equal(pci_add_function(f->pci, &desc), 3);

	assert_int_equal(pci_intx_routes(f->pci, r, 4), 2);
	assert_int_equal(r[0].dev, 1);
	assert_int_equal(r[0].pin, 1);
	assert_int_equal(r[0].gsi, 17);
	assert_int_equal(r[1].dev, 3);
	assert_int_equal(r[1].pin, 2);
	assert_int_equal(r[1].gsi, 16);
	/* Counting works without room to fill. */
	assert_int_equal(pci_intx_routes(f->pci, NULL, 0), 2);
}

static void pci_bus_holds_host_bridge_and_31_functions(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc desc = { .vendor_id = 0x1234, .device_id = 1 };
	int i;

	for (i = 1; i < 32; i++)
		assert_int_equal(pci_add_function(f->pci, &desc), i);
	assert_int_equal(pci_add_function(f->pci, &desc), -ENOSPC);
	assert_int_equal(cfg_read(f, 31, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(f, 0, PCI_VENDOR_ID, 2), 0x8086);
}

static void pci_add_function_rejects_bad_descriptions(void **state)
{
	struct fixture *f = *state;
	struct pci_func_desc bad[] = {
		{ .int_pin = 5 },
		{ .bar[0] = { .size = 24, .type = PCI_BAR_IO, .pio = dev_pio } },
		{ .bar[0] = { .size = 2, .type = PCI_BAR_IO, .pio = dev_pio } },
		{ .bar[0] = { .size = 32, .type = PCI_BAR_IO } },
		{ .bar[0] = { .size = 8, .type = PCI_BAR_MEM32 } },
		{ .bar[5] = { .size = 0x1000, .type = PCI_BAR_MEM64 } },
		{ .bar[0] = { .size = 0x1000, .type = PCI_BAR_MEM64 },
		  .bar[1] = { .size = 0x1000, .type = PCI_BAR_MEM32 } },
		{ .bar[0] = { .size = 0x1000, .type = PCI_BAR_UNUSED } },
		{ .class_code = 0x1000000 },
	};
	struct pci_func_desc huge = {
		.bar[0] = { .size = 0x40000000, .type = PCI_BAR_MEM32 },
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pci_add_function(f->pci, &bad[i]), -EINVAL);
	assert_int_equal(pci_add_function(f->pci, &huge), -ENOSPC);
	/* Nothing was consumed by the failures. */
	assert_int_equal(cfg_read(f, 1, PCI_VENDOR_ID, 4), 0xffffffff);
}

static void pci_failed_add_leaves_windows_untouched(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	struct pci_func_desc io_then_huge = {
		.bar[0] = { .size = 0x100, .type = PCI_BAR_IO, .pio = dev_pio },
		.bar[1] = { .size = 0x40000000, .type = PCI_BAR_MEM32 },
	};

	assert_int_equal(pci_add_function(f->pci, &io_then_huge), -ENOSPC);
	assert_false(port_claimed(f, 0xc000));
	assert_int_equal(add_nic(f, &d), 1);
	assert_int_equal(cfg_read(f, 1, PCI_BASE_ADDRESS_0, 4), 0xc001);
}

static void pci_device_specific_registers_reach_hooks(void **state)
{
	struct fixture *f = *state;
	struct dev d = { 0 };
	struct pci_func_desc desc = nic_desc(&d);
	int dev;

	desc.cfg_read = dev_cfg_read;
	desc.cfg_write = dev_cfg_write;
	dev = pci_add_function(f->pci, &desc);

	assert_int_equal(cfg_read(f, dev, 0x40, 4), 0xcafe0040);
	assert_int_equal(cfg_read(f, dev, 0x82, 2), 0x0082);
	assert_int_equal(d.cfg_off, 0x82);
	assert_int_equal(d.cfg_len, 2);
	cfg_write(f, dev, 0xff, 1, 0x5a);
	assert_int_equal(d.cfg_off, 0xff);
	assert_int_equal(d.cfg_len, 1);
	assert_int_equal(d.cfg_val, 0x5a);
	/* Without hooks the device-specific space reads 0. */
	assert_int_equal(cfg_read(f, 0, 0x40, 4), 0);
}

/*
 * Several vCPUs move their devices' I/O BARs back and forth (each config
 * cycle pair under a guest lock, as Linux's pci_config_lock does), while
 * others hit the ports.  The pio bus must end up exactly as the BARs say.
 */
#define RACE_DEVS	3
#define RACE_MOVES	500

struct race {
	struct fixture *f;
	pthread_mutex_t guest_lock;
	int dev[RACE_DEVS];
	bool stop;
};

struct mover_arg {
	struct race *race;
	unsigned i;
};

static void *race_mover(void *p)
{
	struct mover_arg *a = p;
	struct race *race = a->race;
	unsigned n;

	for (n = 0; n < RACE_MOVES; n++) {
		uint32_t to = 0x4000 + a->i * 0x100 + (n % 2) * 0x1000;

		pthread_mutex_lock(&race->guest_lock);
		cfg_write(race->f, race->dev[a->i], PCI_BASE_ADDRESS_0, 4, to);
		pthread_mutex_unlock(&race->guest_lock);
	}
	return NULL;
}

static void *race_poker(void *p)
{
	struct race *race = p;
	unsigned i = 0;

	while (!__atomic_load_n(&race->stop, __ATOMIC_RELAXED))
		port_claimed(race->f, 0x4000 + (i++ % 0x2000));
	return NULL;
}

static void pci_concurrent_bar_moves_leave_pio_bus_consistent(void **state)
{
	struct race race = { .f = *state };
	struct dev d[RACE_DEVS] = { 0 };
	struct mover_arg args[RACE_DEVS];
	pthread_t movers[RACE_DEVS], poker;
	unsigned i;

	pthread_mutex_init(&race.guest_lock, NULL);
	for (i = 0; i < RACE_DEVS; i++) {
		race.dev[i] = add_nic(race.f, &d[i]);
		args[i] = (struct mover_arg){ .race = &race, .i = i };
	}
	assert_int_equal(pthread_create(&poker, NULL, race_poker, &race), 0);
	for (i = 0; i < RACE_DEVS; i++)
		assert_int_equal(pthread_create(&movers[i], NULL, race_mover,
						&args[i]), 0);
	for (i = 0; i < RACE_DEVS; i++)
		pthread_join(movers[i], NULL);
	__atomic_store_n(&race.stop, true, __ATOMIC_RELAXED);
	pthread_join(poker, NULL);
	pthread_mutex_destroy(&race.guest_lock);

	/* RACE_MOVES is even: each BAR ended on its odd-numbered move. */
	for (i = 0; i < RACE_DEVS; i++) {
		uint16_t final = 0x5000 + i * 0x100;

		assert_true(port_claimed(race.f, final));
		assert_false(port_claimed(race.f, final - 0x1000));
		assert_int_equal(d[i].moves, RACE_MOVES);
		assert_int_equal(d[i].moved_new, final);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(pci_absent_functions_read_all_ones),
		T(pci_config_address_latches_dword_writes_only),
		T(pci_host_bridge_identifies_as_i440fx),
		T(pci_function_header_shows_description),
		T(pci_read_only_fields_ignore_writes),
		T(pci_command_keeps_only_writable_bits),
		T(pci_status_error_bits_are_write_one_to_clear),
		T(pci_cache_line_latency_and_interrupt_line_are_rw),
		T(pci_io_bar_sizing_reads_back_size_mask),
		T(pci_mem32_bar_sizing_reads_back_size_mask),
		T(pci_mem64_bar_sizing_covers_both_halves),
		T(pci_bar_type_bits_are_read_only),
		T(pci_bars_placed_like_firmware),
		T(pci_header_bytes_and_words_match_dword_view),
		T(pci_access_past_config_data_is_unclaimed),
		T(pci_byte_writes_assemble_a_bar_address),
		T(pci_io_bar_move_reregisters_ports_and_reports_it),
		T(pci_io_decode_disable_unregisters_bar),
		T(pci_mem_decode_disable_reports_mem_bar),
		T(pci_bar_sizing_unregisters_io_range),
		T(pci_io_bar_moved_onto_taken_ports_does_not_decode),
		T(pci_interrupt_line_preset_to_swizzled_gsi),
		T(pci_intx_routes_list_functions_with_pins),
		T(pci_bus_holds_host_bridge_and_31_functions),
		T(pci_add_function_rejects_bad_descriptions),
		T(pci_failed_add_leaves_windows_untouched),
		T(pci_device_specific_registers_reach_hooks),
		T(pci_concurrent_bar_moves_leave_pio_bus_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

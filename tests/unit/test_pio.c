/* SPDX-License-Identifier: MIT */
/* Port I/O bus: registration rules, routing, and (un)registration races. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pio.h"

/* What a handler saw on its last call. */
struct recorder {
	unsigned calls;
	uint16_t offset;
	unsigned len;
	bool is_write;
	uint32_t written;
	uint32_t answer;	/* returned on reads */
};

static void record_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		       unsigned len, bool is_write, void *opaque)
{
	struct recorder *r = opaque;

	(void)vcpu;
	r->calls++;
	r->offset = offset;
	r->len = len;
	r->is_write = is_write;
	if (is_write)
		r->written = pio_get(data, len);
	else
		pio_put(data, len, r->answer);
}

static int setup(void **state)
{
	*state = pio_bus_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	pio_bus_free(*state);
	return 0;
}

static bool read_port(struct pio_bus *bus, uint16_t port, unsigned len,
		      uint32_t *val)
{
	uint8_t data[4] = { 0 };
	bool claimed = pio_dispatch(bus, NULL, port, data, len, false);

	*val = pio_get(data, len);
	return claimed;
}

static bool write_port(struct pio_bus *bus, uint16_t port, unsigned len,
		       uint32_t val)
{
	uint8_t data[4];

	pio_put(data, len, val);
	return pio_dispatch(bus, NULL, port, data, len, true);
}

static void pio_register_rejects_overlapping_ranges(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };

	assert_int_equal(pio_register(bus, 0x100, 8, record_pio, &r), 0);
	assert_int_equal(pio_register(bus, 0x100, 8, record_pio, &r), -EBUSY);
	assert_int_equal(pio_register(bus, 0x104, 8, record_pio, &r), -EBUSY);
	assert_int_equal(pio_register(bus, 0x0fc, 8, record_pio, &r), -EBUSY);
	assert_int_equal(pio_register(bus, 0x102, 2, record_pio, &r), -EBUSY);
	assert_int_equal(pio_register(bus, 0x0f0, 0x40, record_pio, &r),
			 -EBUSY);
	assert_int_equal(pio_register(bus, 0x107, 1, record_pio, &r), -EBUSY);
	assert_int_equal(pio_register(bus, 0x0ff, 1, record_pio, &r), 0);
	assert_int_equal(pio_register(bus, 0x108, 1, record_pio, &r), 0);
}

static void pio_register_rejects_empty_and_wrapping_ranges(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };

	assert_int_equal(pio_register(bus, 0x200, 0, record_pio, &r), -EINVAL);
	assert_int_equal(pio_register(bus, 0xffff, 2, record_pio, &r),
			 -EINVAL);
	assert_int_equal(pio_register(bus, 0x0000, 0x10001, record_pio, &r),
			 -EINVAL);
	assert_int_equal(pio_register(bus, 0x200, 4, NULL, &r), -EINVAL);
	assert_int_equal(pio_register(bus, 0xffff, 1, record_pio, &r), 0);
	assert_int_equal(pio_register(bus, 0x0000, 0xffff, record_pio, &r), 0);
}

static void pio_dispatch_reaches_both_edges_with_relative_offsets(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };
	uint32_t v;

	assert_int_equal(pio_register(bus, 0x3f8, 8, record_pio, &r), 0);

	assert_true(write_port(bus, 0x3f8, 1, 0x41));
	assert_int_equal(r.offset, 0);
	assert_true(r.is_write);
	assert_int_equal(r.written, 0x41);

	r.answer = 0x5a;
	assert_true(read_port(bus, 0x3ff, 1, &v));
	assert_int_equal(r.offset, 7);
	assert_false(r.is_write);
	assert_int_equal(v, 0x5a);

	assert_false(read_port(bus, 0x3f7, 1, &v));
	assert_false(read_port(bus, 0x400, 1, &v));
	assert_int_equal(r.calls, 2);
}

static void pio_dispatch_passes_all_bytes_of_wide_accesses(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { .answer = 0xdeadbeef };
	uint32_t v;

	assert_int_equal(pio_register(bus, 0xc000, 0x20, record_pio, &r), 0);

	assert_true(write_port(bus, 0xc010, 4, 0x12345678));
	assert_int_equal(r.offset, 0x10);
	assert_int_equal(r.len, 4);
	assert_int_equal(r.written, 0x12345678);

	assert_true(read_port(bus, 0xc002, 2, &v));
	assert_int_equal(r.len, 2);
	assert_int_equal(v, 0xbeef);
}

static void pio_access_straddling_range_end_is_unclaimed(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };
	struct recorder next = { 0 };
	uint32_t v;

	assert_int_equal(pio_register(bus, 0x3f8, 8, record_pio, &r), 0);
	assert_int_equal(pio_register(bus, 0x400, 8, record_pio, &next), 0);
	assert_int_equal(pio_register(bus, 0xfffc, 4, record_pio, &r), 0);

	assert_false(read_port(bus, 0x3ff, 2, &v));
	assert_false(read_port(bus, 0x3fd, 4, &v));
	assert_false(write_port(bus, 0x3f7, 2, 0));
	assert_false(read_port(bus, 0xfffe, 4, &v));
	assert_false(read_port(bus, 0xffff, 2, &v));
	assert_int_equal(r.calls, 0);
	assert_int_equal(next.calls, 0);

	assert_true(read_port(bus, 0x3fc, 4, &v));
	assert_true(read_port(bus, 0xfffc, 4, &v));
	assert_int_equal(r.calls, 2);
}

static void pio_dispatch_rejects_odd_access_sizes(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };
	uint8_t data[8] = { 0 };

	assert_int_equal(pio_register(bus, 0x100, 16, record_pio, &r), 0);
	assert_false(pio_dispatch(bus, NULL, 0x100, data, 0, false));
	assert_false(pio_dispatch(bus, NULL, 0x100, data, 3, false));
	assert_false(pio_dispatch(bus, NULL, 0x100, data, 8, false));
	assert_int_equal(r.calls, 0);
}

static void pio_unregister_frees_the_range(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder r = { 0 };
	uint32_t v;

	assert_int_equal(pio_register(bus, 0x60, 1, record_pio, &r), 0);
	assert_int_equal(pio_register(bus, 0x64, 1, record_pio, &r), 0);
	assert_int_equal(pio_unregister(bus, 0x61), -ENOENT);
	assert_int_equal(pio_unregister(bus, 0x60), 0);
	assert_false(read_port(bus, 0x60, 1, &v));
	assert_true(read_port(bus, 0x64, 1, &v));
	assert_int_equal(pio_unregister(bus, 0x60), -ENOENT);
	assert_int_equal(pio_register(bus, 0x60, 4, record_pio, &r), 0);
	assert_true(read_port(bus, 0x63, 1, &v));
}

static void pio_dispatch_finds_each_of_many_ranges(void **state)
{
	struct pio_bus *bus = *state;
	static struct recorder r[200];
	unsigned i, order[200];
	uint32_t v;

	memset(r, 0, sizeof(r));
	/* Register in a scrambled order to exercise the sorted insert. */
	for (i = 0; i < 200; i++)
		order[i] = (i * 7919) % 200;
	for (i = 0; i < 200; i++)
		assert_int_equal(pio_register(bus, 0x1000 + order[i] * 8,
					      1 + order[i] % 8, record_pio,
					      &r[order[i]]), 0);
	for (i = 0; i < 200; i++) {
		r[i].answer = i;
		assert_true(read_port(bus, 0x1000 + i * 8 + i % 8, 1, &v));
		assert_int_equal(v, i);
		assert_int_equal(r[i].offset, i % 8);
		if (i % 8 != 7)
			assert_false(read_port(bus, 0x1000 + i * 8 + 1 + i % 8,
					       1, &v));
	}
}

/* A device that moves another device's range when written, like a BAR. */
struct mover {
	struct pio_bus *bus;
	struct recorder *target;
	int unregister_ret;
	int register_ret;
	int self_unregister_ret;
};

static void mover_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		      unsigned len, bool is_write, void *opaque)
{
	struct mover *m = opaque;
	uint16_t to = pio_get(data, len);

	(void)vcpu;
	(void)offset;
	if (!is_write)
		return;
	m->unregister_ret = pio_unregister(m->bus, 0x20);
	m->register_ret = pio_register(m->bus, to, 4, record_pio, m->target);
	m->self_unregister_ret = pio_unregister(m->bus, 0x10);
}

static void pio_handler_may_register_and_unregister(void **state)
{
	struct pio_bus *bus = *state;
	struct recorder target = { 0 };
	struct mover m = { .bus = bus, .target = &target };
	uint32_t v;

	assert_int_equal(pio_register(bus, 0x10, 1, mover_pio, &m), 0);
	assert_int_equal(pio_register(bus, 0x20, 4, record_pio, &target), 0);

	assert_true(write_port(bus, 0x10, 1, 0x30));
	assert_int_equal(m.unregister_ret, 0);
	assert_int_equal(m.register_ret, 0);
	assert_int_equal(m.self_unregister_ret, 0);

	assert_false(read_port(bus, 0x20, 1, &v));
	assert_false(write_port(bus, 0x10, 1, 0x40));
	assert_true(read_port(bus, 0x33, 1, &v));
	assert_int_equal(target.offset, 3);
}

/*
 * Readers hammer a fixed range and a moving one while a writer keeps
 * inserting and removing ranges around them (reallocs, memmoves).  The
 * fixed range must never be missed; every claimed access must reach its
 * handler exactly once.
 */
#define RACE_READERS	4
#define RACE_ROUNDS	2000
#define RACE_MIN_ACCESSES	20000

struct race {
	struct pio_bus *bus;
	atomic_bool stop;
	atomic_ulong fixed_calls;
	atomic_ulong moving_calls;
	atomic_ulong fixed_misses;
	atomic_ulong moving_claims;
};

static void fixed_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		      unsigned len, bool is_write, void *opaque)
{
	struct race *race = opaque;

	(void)vcpu;
	(void)is_write;
	pio_put(data, len, 0xabcd0000 | offset);
	atomic_fetch_add(&race->fixed_calls, 1);
}

static void moving_pio(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		       unsigned len, bool is_write, void *opaque)
{
	struct race *race = opaque;

	(void)vcpu;
	(void)offset;
	(void)is_write;
	pio_put(data, len, 0);
	atomic_fetch_add(&race->moving_calls, 1);
}

static void *race_reader(void *arg)
{
	struct race *race = arg;
	unsigned long misses = 0, claims = 0;
	uint32_t v;

	while (!atomic_load(&race->stop)) {
		if (!read_port(race->bus, 0x5002, 2, &v) || v != 0x0002)
			misses++;
		if (read_port(race->bus, 0x6000, 4, &v) ||
		    read_port(race->bus, 0x7000, 4, &v))
			claims++;
	}
	atomic_fetch_add(&race->fixed_misses, misses);
	atomic_fetch_add(&race->moving_claims, claims);
	return NULL;
}

static void pio_concurrent_dispatch_survives_reregistration(void **state)
{
	struct race race = { .bus = *state };
	pthread_t readers[RACE_READERS];
	unsigned i, j;

	assert_int_equal(pio_register(race.bus, 0x5000, 4, fixed_pio, &race),
			 0);
	assert_int_equal(pio_register(race.bus, 0x6000, 4, moving_pio, &race),
			 0);
	for (i = 0; i < RACE_READERS; i++)
		assert_int_equal(pthread_create(&readers[i], NULL, race_reader,
						&race), 0);

	/* Keep moving until the readers have really raced us. */
	for (i = 0; i < RACE_ROUNDS ||
		    atomic_load(&race.fixed_calls) < RACE_MIN_ACCESSES; i++) {
		uint16_t from = i % 2 ? 0x7000 : 0x6000;
		uint16_t to = i % 2 ? 0x6000 : 0x7000;

		/* Ranges below the fixed one shift it around the array. */
		for (j = 0; j < 8; j++)
			assert_int_equal(pio_register(race.bus, 0x100 + j * 4,
						      4, moving_pio, &race), 0);
		assert_int_equal(pio_unregister(race.bus, from), 0);
		assert_int_equal(pio_register(race.bus, to, 4, moving_pio,
					      &race), 0);
		for (j = 0; j < 8; j++)
			assert_int_equal(pio_unregister(race.bus,
							0x100 + j * 4), 0);
	}
	atomic_store(&race.stop, true);
	for (i = 0; i < RACE_READERS; i++)
		pthread_join(readers[i], NULL);

	assert_int_equal(atomic_load(&race.fixed_misses), 0);
	assert_true(atomic_load(&race.fixed_calls) > 0);
	assert_int_equal(atomic_load(&race.moving_calls),
			 atomic_load(&race.moving_claims));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(pio_register_rejects_overlapping_ranges),
		T(pio_register_rejects_empty_and_wrapping_ranges),
		T(pio_dispatch_reaches_both_edges_with_relative_offsets),
		T(pio_dispatch_passes_all_bytes_of_wide_accesses),
		T(pio_access_straddling_range_end_is_unclaimed),
		T(pio_dispatch_rejects_odd_access_sizes),
		T(pio_unregister_frees_the_range),
		T(pio_dispatch_finds_each_of_many_ranges),
		T(pio_handler_may_register_and_unregister),
		T(pio_concurrent_dispatch_survives_reregistration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* ipc/ring.h: the SPSC ring over the shared layout of proto/spsc_ring.h. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define ENTRIES		8u
#define ELEM		16u
#define GUARD		256u
#define GUARD_BYTE	0xa5

struct elem {
	uint64_t seq;
	uint64_t check;
};

/* A ring with guard bytes either side, to see nothing outside is touched. */
struct area {
	uint8_t *base;
	void *ring;
	size_t len;
};

static void area_init(struct area *a, uint32_t entries, uint32_t elem)
{
	a->len = ipc_ring_bytes(entries, elem);
	/* The ring wants 64-byte alignment: GUARD is a multiple of it. */
	assert_int_equal(posix_memalign((void **)&a->base, 64,
					a->len + 2 * GUARD), 0);
	memset(a->base, GUARD_BYTE, a->len + 2 * GUARD);
	a->ring = a->base + GUARD;
	assert_int_equal(ipc_ring_format(a->ring, a->len, entries, elem), 0);
}

static void assert_guards_intact(const struct area *a)
{
	for (size_t i = 0; i < GUARD; i++) {
		assert_int_equal(a->base[i], GUARD_BYTE);
		assert_int_equal(a->base[GUARD + a->len + i], GUARD_BYTE);
	}
}

static void area_free(struct area *a)
{
	assert_guards_intact(a);
	free(a->base);
}

static struct elem mk(uint64_t seq)
{
	return (struct elem){ .seq = seq, .check = ~seq * 0x9e3779b97f4a7c15ull };
}

static void pair(struct area *a, struct ipc_ring *p, struct ipc_ring *c)
{
	area_init(a, ENTRIES, ELEM);
	assert_int_equal(ipc_ring_attach_producer(p, a->ring, a->len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_attach_consumer(c, a->ring, a->len, ENTRIES,
						  ELEM), 0);
}

static void ring_format_rejects_bad_geometry(void **state)
{
	uint8_t _Alignas(64) mem[4096];

	(void)state;
	assert_int_equal(ipc_ring_format(mem, sizeof(mem), 0, 16), -1);
	assert_int_equal(ipc_ring_format(mem, sizeof(mem), 6, 16), -1);
	assert_int_equal(ipc_ring_format(mem, sizeof(mem), 8, 0), -1);
	assert_int_equal(ipc_ring_format(mem, sizeof(mem), 8, 12), -1);
	assert_int_equal(ipc_ring_format(mem, ipc_ring_bytes(8, 16) - 1, 8, 16),
			 -1);
	assert_int_equal(ipc_ring_format(NULL, sizeof(mem), 8, 16), -1);
	assert_int_equal(ipc_ring_format(mem, ipc_ring_bytes(8, 16), 8, 16), 0);
}

static void ring_attach_rejects_a_ring_of_other_geometry_or_unformatted(void **state)
{
	struct area a;
	struct ipc_ring r;
	struct spsc_ring *sh;

	(void)state;
	area_init(&a, ENTRIES, ELEM);
	sh = a.ring;
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, 16, ELEM), -1);
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES, 8), -1);
	assert_int_equal(ipc_ring_attach_producer(&r, a.ring, a.len - 1, ENTRIES,
						  ELEM), -1);
	sh->magic = 0;
	assert_int_equal(ipc_ring_attach_producer(&r, a.ring, a.len, ENTRIES,
						  ELEM), -1);
	sh->magic = SPSC_RING_MAGIC;
	sh->entries = 4;
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES,
						  ELEM), -1);
	sh->entries = ENTRIES;
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	area_free(&a);
}

static void ring_empty_gives_nothing(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct elem out[ENTRIES];

	(void)state;
	pair(&a, &p, &c);
	assert_int_equal(ipc_ring_count(&c), 0);
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES), 0);
	assert_int_equal(ipc_ring_used_producer(&p), 0);
	assert_false(ipc_ring_broken(&c));
	area_free(&a);
}

static void ring_full_refuses_more_and_keeps_contents(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct elem in, out[ENTRIES];

	(void)state;
	pair(&a, &p, &c);
	for (uint32_t i = 0; i < ENTRIES; i++) {
		in = mk(i);
		assert_int_equal(ipc_ring_produce(&p, &in, 1), 1);
	}
	assert_int_equal(ipc_ring_used_producer(&p), ENTRIES);
	in = mk(999);
	assert_int_equal(ipc_ring_produce(&p, &in, 1), 0);
	assert_int_equal(ipc_ring_count(&c), ENTRIES);
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES), ENTRIES);
	for (uint32_t i = 0; i < ENTRIES; i++) {
		struct elem want = mk(i);

		assert_memory_equal(&out[i], &want, sizeof(want));
	}
	assert_false(ipc_ring_broken(&p));
	assert_false(ipc_ring_broken(&c));
	area_free(&a);
}

static void ring_burst_produce_takes_only_what_fits(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct elem in[ENTRIES * 2], out[ENTRIES * 2];

	(void)state;
	pair(&a, &p, &c);
	for (uint32_t i = 0; i < ENTRIES * 2; i++)
		in[i] = mk(i);
	assert_int_equal(ipc_ring_produce(&p, in, 3), 3);
	assert_int_equal(ipc_ring_produce(&p, in + 3, ENTRIES * 2), ENTRIES - 3);
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES * 2), 0);
	assert_int_equal(ipc_ring_consume(&c, out, 2), 2);
	assert_int_equal(ipc_ring_produce(&p, in + ENTRIES, ENTRIES), 2);
	memset(out, 0, sizeof(out));
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES * 2), ENTRIES);
	for (uint32_t i = 0; i < ENTRIES; i++)
		assert_int_equal(out[i].seq, i + 2);
	/* Nothing beyond what was consumed was written. */
	assert_true(out[ENTRIES].seq == 0 && out[ENTRIES].check == 0);
	area_free(&a);
}

static void ring_consume_with_max_zero_takes_nothing(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct elem in = mk(7), out = mk(1234);

	(void)state;
	pair(&a, &p, &c);
	assert_int_equal(ipc_ring_produce(&p, &in, 1), 1);
	assert_int_equal(ipc_ring_consume(&c, &out, 0), 0);
	assert_int_equal(out.seq, 1234);
	assert_int_equal(((struct spsc_ring *)a.ring)->tail, 0);
	assert_int_equal(ipc_ring_produce(&p, &in, 0), 0);
	assert_int_equal(ipc_ring_count(&c), 1);
	assert_int_equal(ipc_ring_consume(&c, &out, 1), 1);
	assert_int_equal(out.seq, 7);
	area_free(&a);
}

static void ring_indices_wrap_around_2_pow_32(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct spsc_ring *sh;
	uint64_t next_in = 0, next_out = 0;

	(void)state;
	area_init(&a, ENTRIES, ELEM);
	sh = a.ring;
	sh->head = sh->tail = UINT32_MAX - 2 * ENTRIES - 3;
	assert_int_equal(ipc_ring_attach_producer(&p, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_attach_consumer(&c, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	/* Uneven bursts carry both indices over the wrap several ways. */
	for (int round = 0; round < 40; round++) {
		struct elem in[5], out[ENTRIES];
		uint32_t want = (uint32_t)(round % 5) + 1, n, got;

		for (uint32_t i = 0; i < want; i++)
			in[i] = mk(next_in + i);
		n = ipc_ring_produce(&p, in, want);
		next_in += n;
		got = ipc_ring_consume(&c, out, (uint32_t)(round % 3) + 1);
		for (uint32_t i = 0; i < got; i++) {
			assert_int_equal(out[i].seq, next_out);
			assert_int_equal(out[i].check, mk(next_out).check);
			next_out++;
		}
		assert_true(next_in - next_out <= ENTRIES);
	}
	while (next_out < next_in) {
		struct elem out;

		assert_int_equal(ipc_ring_consume(&c, &out, 1), 1);
		assert_int_equal(out.seq, next_out++);
	}
	/* The indices really went past the wrap. */
	assert_true(sh->head < 1000 && sh->tail == sh->head);
	assert_false(ipc_ring_broken(&p));
	assert_false(ipc_ring_broken(&c));
	area_free(&a);
}

static void ring_full_and_empty_are_told_apart_across_the_wrap(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct spsc_ring *sh;
	struct elem in[ENTRIES], out[ENTRIES];

	(void)state;
	area_init(&a, ENTRIES, ELEM);
	sh = a.ring;
	sh->head = sh->tail = UINT32_MAX - 3;	/* head wraps while filling */
	assert_int_equal(ipc_ring_attach_producer(&p, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_attach_consumer(&c, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	for (uint32_t i = 0; i < ENTRIES; i++)
		in[i] = mk(i);
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES), ENTRIES);
	assert_true(sh->head < sh->tail);	/* numerically wrapped */
	assert_int_equal(ipc_ring_count(&c), ENTRIES);
	assert_int_equal(ipc_ring_produce(&p, in, 1), 0);
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES), ENTRIES);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(ipc_ring_count(&c), 0);
	assert_int_equal(ipc_ring_used_producer(&p), 0);
	area_free(&a);
}

static void ring_peer_head_beyond_size_marks_broken_and_reads_nothing(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct spsc_ring *sh;
	struct elem in = mk(1), out[ENTRIES * 4];
	uint32_t tail;

	(void)state;
	pair(&a, &p, &c);
	sh = a.ring;
	assert_int_equal(ipc_ring_produce(&p, &in, 1), 1);
	tail = sh->tail;
	memset(out, 0x5a, sizeof(out));
	sh->head = c.local + ENTRIES + 1;		/* a hostile producer */
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES * 4), 0);
	assert_true(ipc_ring_broken(&c));
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(((uint8_t *)out)[i], 0x5a);
	assert_int_equal(sh->tail, tail);
	sh->head = c.local - 1;				/* behind the tail */
	assert_int_equal(ipc_ring_count(&c), 0);
	sh->head = UINT32_MAX;
	assert_int_equal(ipc_ring_consume(&c, out, ENTRIES * 4), 0);
	assert_int_equal(sh->tail, tail);
	area_free(&a);
}

static void ring_peer_tail_out_of_range_marks_broken_and_writes_nothing(void **state)
{
	struct area a;
	struct ipc_ring p, c;
	struct spsc_ring *sh;
	struct elem in[ENTRIES];
	uint8_t before[ENTRIES * ELEM];
	uint32_t head;

	(void)state;
	pair(&a, &p, &c);
	sh = a.ring;
	for (uint32_t i = 0; i < ENTRIES; i++)
		in[i] = mk(100 + i);
	assert_int_equal(ipc_ring_produce(&p, in, 2), 2);
	head = sh->head;
	memcpy(before, sh->data, sizeof(before));
	sh->tail = p.local + 1;			/* a hostile consumer: ahead */
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES), 0);
	assert_true(ipc_ring_broken(&p));
	assert_int_equal(ipc_ring_used_producer(&p), ENTRIES);	/* looks full */
	sh->tail = p.local - ENTRIES - 1;	/* too far behind */
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES), 0);
	assert_memory_equal(sh->data, before, sizeof(before));
	assert_int_equal(sh->head, head);
	area_free(&a);
}

static void ring_consumer_reattach_takes_up_at_the_shared_tail(void **state)
{
	struct area a;
	struct ipc_ring p, c, c2;
	struct elem in[6], out[6];

	(void)state;
	pair(&a, &p, &c);
	for (uint32_t i = 0; i < 6; i++)
		in[i] = mk(i);
	assert_int_equal(ipc_ring_produce(&p, in, 6), 6);
	assert_int_equal(ipc_ring_consume(&c, out, 2), 2);
	/* The consumer process dies; a new one attaches to the same memory. */
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(ipc_ring_attach_consumer(&c2, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_count(&c2), 4);
	assert_int_equal(ipc_ring_consume(&c2, out, 6), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(out[i].seq, i + 2);
	/* And the producer goes on as before. */
	assert_int_equal(ipc_ring_produce(&p, in, 6), 6);
	assert_int_equal(ipc_ring_consume(&c2, out, 6), 6);
	area_free(&a);
}

static void ring_peeked_entries_stay_until_released_and_survive_a_restart(void **state)
{
	struct area a;
	struct ipc_ring p, c, c2;
	struct elem in[ENTRIES], out[ENTRIES];

	(void)state;
	pair(&a, &p, &c);
	for (uint32_t i = 0; i < ENTRIES; i++)
		in[i] = mk(i);
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES), ENTRIES);
	assert_int_equal(ipc_ring_peek(&c, out, 3), 3);
	assert_int_equal(out[2].seq, 2);
	/* Peeked is not freed: the ring is still full to the producer. */
	assert_int_equal(ipc_ring_produce(&p, in, 1), 0);
	/* A consumer dying before the release: its successor sees them again. */
	assert_int_equal(ipc_ring_attach_consumer(&c2, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_peek(&c2, out, ENTRIES), ENTRIES);
	assert_int_equal(out[0].seq, 0);
	ipc_ring_release(&c2, 3);
	assert_int_equal(ipc_ring_count(&c2), ENTRIES - 3);
	assert_int_equal(ipc_ring_produce(&p, in, ENTRIES), 3);
	assert_int_equal(ipc_ring_consume(&c2, out, 1), 1);
	assert_int_equal(out[0].seq, 3);
	area_free(&a);
}

static void ring_producer_reattach_takes_up_at_the_shared_head(void **state)
{
	struct area a;
	struct ipc_ring p, p2, c;
	struct elem in[3] = { mk(0), mk(1), mk(2) }, out[3];

	(void)state;
	pair(&a, &p, &c);
	assert_int_equal(ipc_ring_produce(&p, in, 2), 2);
	assert_int_equal(ipc_ring_attach_producer(&p2, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_used_producer(&p2), 2);
	assert_int_equal(ipc_ring_produce(&p2, in + 2, 1), 1);
	assert_int_equal(ipc_ring_consume(&c, out, 3), 3);
	assert_memory_equal(out, in, sizeof(in));
	area_free(&a);
}

static void ring_attach_refuses_indices_further_apart_than_the_size(void **state)
{
	struct area a;
	struct ipc_ring r;
	struct spsc_ring *sh;

	(void)state;
	area_init(&a, ENTRIES, ELEM);
	sh = a.ring;
	sh->tail = 10;
	sh->head = 10 + ENTRIES + 1;
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES,
						  ELEM), -1);
	assert_int_equal(ipc_ring_attach_producer(&r, a.ring, a.len, ENTRIES,
						  ELEM), -1);
	sh->head = 9;		/* tail ahead of head */
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES,
						  ELEM), -1);
	sh->head = 10 + ENTRIES;	/* exactly full is fine */
	assert_int_equal(ipc_ring_attach_consumer(&r, a.ring, a.len, ENTRIES,
						  ELEM), 0);
	assert_int_equal(ipc_ring_count(&r), ENTRIES);
	area_free(&a);
}

/* ---------------------------------------------------------- two threads */

#define HAMMER_TOTAL	1000000u
#define HAMMER_ENTRIES	256u

struct hammer {
	struct ipc_ring p, c;
	uint64_t consumed;
	bool bad;
};

static void *hammer_producer(void *arg)
{
	struct hammer *h = arg;
	struct elem burst[32];
	uint64_t next = 0;
	unsigned k = 0;

	while (next < HAMMER_TOTAL) {
		uint32_t want = (k++ % 32) + 1, n;

		if (want > HAMMER_TOTAL - next)
			want = (uint32_t)(HAMMER_TOTAL - next);
		for (uint32_t i = 0; i < want; i++)
			burst[i] = mk(next + i);
		n = ipc_ring_produce(&h->p, burst, want);
		if (!n)
			sched_yield();
		next += n;
	}
	return NULL;
}

static void *hammer_consumer(void *arg)
{
	struct hammer *h = arg;
	struct elem burst[32];
	uint64_t next = 0;
	unsigned k = 0;

	while (next < HAMMER_TOTAL) {
		uint32_t n = ipc_ring_consume(&h->c, burst, (k++ % 17) + 1);

		if (!n)
			sched_yield();
		for (uint32_t i = 0; i < n; i++, next++)
			if (burst[i].seq != next || burst[i].check != mk(next).check)
				h->bad = true;
	}
	h->consumed = next;
	return NULL;
}

static void ring_two_threads_deliver_a_million_entries_in_order(void **state)
{
	struct area a;
	struct hammer h = { 0 };
	pthread_t tp, tc;

	(void)state;
	area_init(&a, HAMMER_ENTRIES, ELEM);
	assert_int_equal(ipc_ring_attach_producer(&h.p, a.ring, a.len,
						  HAMMER_ENTRIES, ELEM), 0);
	assert_int_equal(ipc_ring_attach_consumer(&h.c, a.ring, a.len,
						  HAMMER_ENTRIES, ELEM), 0);
	assert_int_equal(pthread_create(&tc, NULL, hammer_consumer, &h), 0);
	assert_int_equal(pthread_create(&tp, NULL, hammer_producer, &h), 0);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	assert_false(h.bad);
	assert_int_equal(h.consumed, HAMMER_TOTAL);
	assert_false(ipc_ring_broken(&h.p));
	assert_false(ipc_ring_broken(&h.c));
	area_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_format_rejects_bad_geometry),
		cmocka_unit_test(ring_attach_rejects_a_ring_of_other_geometry_or_unformatted),
		cmocka_unit_test(ring_empty_gives_nothing),
		cmocka_unit_test(ring_full_refuses_more_and_keeps_contents),
		cmocka_unit_test(ring_burst_produce_takes_only_what_fits),
		cmocka_unit_test(ring_consume_with_max_zero_takes_nothing),
		cmocka_unit_test(ring_indices_wrap_around_2_pow_32),
		cmocka_unit_test(ring_full_and_empty_are_told_apart_across_the_wrap),
		cmocka_unit_test(ring_peer_head_beyond_size_marks_broken_and_reads_nothing),
		cmocka_unit_test(ring_peer_tail_out_of_range_marks_broken_and_writes_nothing),
		cmocka_unit_test(ring_consumer_reattach_takes_up_at_the_shared_tail),
		cmocka_unit_test(ring_peeked_entries_stay_until_released_and_survive_a_restart),
		cmocka_unit_test(ring_producer_reattach_takes_up_at_the_shared_head),
		cmocka_unit_test(ring_attach_refuses_indices_further_apart_than_the_size),
		cmocka_unit_test(ring_two_threads_deliver_a_million_entries_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

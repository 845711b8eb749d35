// SPDX-License-Identifier: MIT
/*
 * Interrupt moderation (--irq-holdoff, pcnet_set_irq_holdoff()): INTA#
 * going up within the hold-off of its previous assertion waits for the
 * end of it, causes merge, an ack meanwhile raises nothing, and deasserts
 * are immediate.  Hold-off 0 is the chip as before.
 */
#include "harness.h"

#define US	1000ull
#define T0	(1000 * US)	/* when the first interrupt goes up */

static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* At @t the driver queues frame @n with a TDMD: TINT follows. */
static void frame_at(struct bench *b, uint64_t t, unsigned int n)
{
	uint8_t f[64];

	b->now = t;
	make_frame(f, peer, sizeof(f), (uint8_t)n);
	send_frame(b, n % b->tx_len, f, sizeof(f));
	assert_true(csr_r(b, 0) & CSR0_TINT);
}

/* At @t the driver acks TINT, the way its handler does. */
static void ack_at(struct bench *b, uint64_t t)
{
	b->now = t;
	csr_w(b, 0, CSR0_TINT | CSR0_IENA);
}

/* Started with a hold-off of @us, the first interrupt up and acked. */
static void start_with_first_irq(struct bench *b, uint64_t us)
{
	pcnet_set_irq_holdoff(b->dev, us * US);
	chip_start(b, 2, 0);
	frame_at(b, T0, 0);
	assert_int_equal(b->irq, 1);	/* nothing before it: at once */
	assert_int_equal(b->irq_rises, 1);
	ack_at(b, T0 + 1 * US);
	assert_int_equal(b->irq, 0);
}

static void pcnet_holdoff_two_causes_give_one_assertion_at_holdoff(void **s)
{
	struct bench *b = *s;
	struct pcnet_tune_stats ts;

	start_with_first_irq(b, 100);
	/* Two TINT causes 10 us apart, inside the hold-off. */
	frame_at(b, T0 + 10 * US, 1);
	assert_int_equal(b->irq, 0);
	assert_int_equal(pcnet_next_deadline(b->dev), T0 + 100 * US);
	frame_at(b, T0 + 20 * US, 2);
	assert_int_equal(b->irq, 0);
	/* CSR0 tells the truth all along; only the pin waits. */
	assert_true(csr_r(b, 0) & CSR0_INTR);
	bench_tick(b, T0 + 100 * US - 1);
	assert_int_equal(b->irq, 0);
	bench_tick(b, T0 + 100 * US);
	assert_int_equal(b->irq, 1);
	assert_int_equal(b->irq_rises, 2);
	assert_int_equal(b->irq_trace[b->nirq_trace - 1].at, T0 + 100 * US);
	pcnet_get_tune_stats(b->dev, &ts);
	assert_int_equal(ts.irq_deferred, 1);
	assert_int_equal(ts.irq_cancelled, 0);
	/* The deadline is spent: the timer has only the ring poll left. */
	assert_true(pcnet_next_deadline(b->dev) > T0 + 100 * US);
	assert_int_equal(pcnet_next_deadline(b->dev), b->st.next_poll_ns);
	/* The next hold-off counts from this assertion. */
	ack_at(b, T0 + 110 * US);
	frame_at(b, T0 + 150 * US, 3);
	assert_int_equal(b->irq, 0);
	assert_int_equal(pcnet_next_deadline(b->dev), T0 + 200 * US);
}

/* Past the hold-off, an interrupt is not delayed at all. */
static void pcnet_holdoff_after_the_holdoff_asserts_at_once(void **s)
{
	struct bench *b = *s;

	start_with_first_irq(b, 100);
	frame_at(b, T0 + 100 * US, 1);
	assert_int_equal(b->irq, 1);
	assert_int_equal(b->irq_rises, 2);
}

/* The same driver script with and without ever touching the setting. */
static void holdoff_script(struct bench *b)
{
	start_with_first_irq(b, 0);
	frame_at(b, T0 + 10 * US, 1);
	ack_at(b, T0 + 11 * US);
	frame_at(b, T0 + 20 * US, 2);
	frame_at(b, T0 + 21 * US, 3);
	ack_at(b, T0 + 30 * US);
	bench_tick(b, T0 + 100 * US);
}

static void pcnet_holdoff_zero_is_exactly_the_chip(void **s)
{
	struct bench *b = *s, *plain = bench_new();

	/* Moderation on, then off again: no trace of it may remain. */
	pcnet_set_irq_holdoff(b->dev, 100 * US);
	holdoff_script(b);
	/* The reference never heard of the setting. */
	chip_start(plain, 2, 0);
	frame_at(plain, T0, 0);
	ack_at(plain, T0 + 1 * US);
	frame_at(plain, T0 + 10 * US, 1);
	ack_at(plain, T0 + 11 * US);
	frame_at(plain, T0 + 20 * US, 2);
	frame_at(plain, T0 + 21 * US, 3);
	ack_at(plain, T0 + 30 * US);
	bench_tick(plain, T0 + 100 * US);

	assert_int_equal(b->irq_rises, 3);
	assert_int_equal(b->nirq_trace, plain->nirq_trace);
	for (unsigned int i = 0; i < plain->nirq_trace; i++) {
		assert_int_equal(b->irq_trace[i].at, plain->irq_trace[i].at);
		assert_int_equal(b->irq_trace[i].level,
				 plain->irq_trace[i].level);
	}
	assert_int_equal(b->irq_trace[2].at, T0 + 10 * US);
	assert_int_equal(pcnet_next_deadline(b->dev),
			 pcnet_next_deadline(plain->dev));
	bench_free(plain);
}

static void pcnet_holdoff_ack_before_the_deferred_time_raises_nothing(void **s)
{
	struct bench *b = *s;
	struct pcnet_tune_stats ts;

	start_with_first_irq(b, 100);
	frame_at(b, T0 + 10 * US, 1);
	assert_int_equal(pcnet_next_deadline(b->dev), T0 + 100 * US);
	/* The driver polls CSR0, sees TINT and acks it: no interrupt due. */
	ack_at(b, T0 + 50 * US);
	assert_int_equal(pcnet_next_deadline(b->dev), b->st.next_poll_ns);
	bench_tick(b, T0 + 100 * US);
	bench_tick(b, T0 + 200 * US);
	assert_int_equal(b->irq, 0);
	assert_int_equal(b->irq_rises, 1);
	pcnet_get_tune_stats(b->dev, &ts);
	assert_int_equal(ts.irq_deferred, 1);
	assert_int_equal(ts.irq_cancelled, 1);
	/* Masking the cause works the same way (CSR3 TINTM). */
	frame_at(b, T0 + 210 * US, 2);
	assert_int_equal(b->irq, 1);
	ack_at(b, T0 + 211 * US);
	frame_at(b, T0 + 220 * US, 3);
	csr_w(b, 3, 0x0200);
	bench_tick(b, T0 + 310 * US);
	assert_int_equal(b->irq, 0);
	assert_int_equal(b->irq_rises, 2);
}

static void pcnet_holdoff_deassert_is_never_delayed(void **s)
{
	struct bench *b = *s;

	pcnet_set_irq_holdoff(b->dev, 100 * US);
	chip_start(b, 2, 0);
	frame_at(b, T0, 0);
	assert_int_equal(b->irq, 1);
	/* Acked 1 us after it went up, well inside the hold-off. */
	ack_at(b, T0 + 1 * US);
	assert_int_equal(b->irq, 0);
	assert_int_equal(b->irq_trace[b->nirq_trace - 1].at, T0 + 1 * US);
	/* The deferred one, once up, goes down at the ack, as fast. */
	frame_at(b, T0 + 10 * US, 1);
	bench_tick(b, T0 + 100 * US);
	assert_int_equal(b->irq, 1);
	ack_at(b, T0 + 100 * US + 1);
	assert_int_equal(b->irq, 0);
	/* IENA cleared: down at once too. */
	frame_at(b, T0 + 300 * US, 2);
	assert_int_equal(b->irq, 1);
	b->now = T0 + 301 * US;
	csr_w(b, 0, 0);
	assert_int_equal(b->irq, 0);
	assert_int_equal(b->irq_trace[b->nirq_trace - 1].at, T0 + 301 * US);
}

/*
 * A cause the port brings in (a zero-copy completion), not a register
 * access: the held-off deadline still reaches the caller's timer.
 */
static void pcnet_holdoff_deadline_reaches_the_timer_from_a_port_call(void **s)
{
	struct bench *b = *s;
	uint32_t seq;
	uint8_t f[64];

	start_with_first_irq(b, 100);
	b->tx_result = PCNET_TX_PENDING;
	seq = pcnet_tx_seq(b->dev);
	b->now = T0 + 5 * US;
	make_frame(f, peer, sizeof(f), 1);
	send_frame(b, 1, f, sizeof(f));
	assert_int_equal(pcnet_tx_pending(b->dev), 1);
	assert_false(csr_r(b, 0) & CSR0_TINT);	/* the port holds it */
	b->deadline_calls = 0;
	b->now = T0 + 10 * US;
	assert_int_equal(pcnet_tx_complete(b->dev, seq, PCNET_TX_ACCEPTED), 0);
	assert_int_equal(b->irq, 0);
	assert_true(b->deadline_calls >= 1);
	assert_int_equal(b->deadline_seen, T0 + 100 * US);
	bench_tick(b, T0 + 100 * US);
	assert_int_equal(b->irq, 1);
}

/* Turning moderation off raises a held-off interrupt at once. */
static void pcnet_holdoff_off_raises_a_deferred_interrupt_now(void **s)
{
	struct bench *b = *s;

	start_with_first_irq(b, 100);
	frame_at(b, T0 + 10 * US, 1);
	assert_int_equal(b->irq, 0);
	b->now = T0 + 20 * US;
	pcnet_set_irq_holdoff(b->dev, 0);
	assert_int_equal(b->irq, 1);
	assert_int_equal(pcnet_next_deadline(b->dev), b->st.next_poll_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_holdoff_two_causes_give_one_assertion_at_holdoff),
		T(pcnet_holdoff_after_the_holdoff_asserts_at_once),
		T(pcnet_holdoff_zero_is_exactly_the_chip),
		T(pcnet_holdoff_ack_before_the_deferred_time_raises_nothing),
		T(pcnet_holdoff_deassert_is_never_delayed),
		T(pcnet_holdoff_deadline_reaches_the_timer_from_a_port_call),
		T(pcnet_holdoff_off_raises_a_deferred_interrupt_now),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_holdoff", tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * Exit-less transmit (--tx-poll, pcnet_set_tx_poll()): frames the driver
 * queued without a TDMD go out at the next ring poll, which runs at the
 * chip's CSR47 interval, a fixed one, or an adaptive one between a floor
 * and the chip's; TXDPOLL, STOP and SPND turn it off in every mode.
 */
#include "harness.h"

/* 65536 ticks of the 33 MHz clock: CSR47 POLLINT 0. */
#define CHIP_NS		(65536ull * 1000 / 33)
#define FLOOR_NS	PCNET_TX_POLL_FLOOR_NS

static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* @n one-descriptor frames from descriptor @first on, owned, no TDMD. */
static void queue_no_tdmd(struct bench *b, uint32_t first, unsigned int n)
{
	uint8_t f[64];

	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = (first + i) % b->tx_len;
		uint32_t buf = TXBUF_GPA + idx * TXBUF_STRIDE;

		make_frame(f, peer, sizeof(f), (uint8_t)(first + i));
		memcpy(b->ram + buf, f, sizeof(f));
		tmd_put(b, idx, buf, sizeof(f), OWN | STP | ENP);
	}
}

/* The interval the next poll was scheduled at, seen from @from. */
static uint64_t next_in(struct bench *b, uint64_t from)
{
	uint64_t t = pcnet_next_deadline(b->dev);

	assert_true(t != UINT64_MAX);
	return t - from;
}

/* Adaptive: empty polls until the interval is the chip's (bounded). */
static void back_off(struct bench *b)
{
	uint64_t t;
	unsigned int n = 0;

	while ((t = pcnet_next_deadline(b->dev)) - b->now < CHIP_NS) {
		assert_true(++n < 20);
		bench_tick(b, t);
	}
	assert_int_equal(next_in(b, b->now), CHIP_NS);
}

static void pcnet_txpoll_fixed_interval_sends_without_tdmd(void **s)
{
	struct bench *b = *s;
	struct pcnet_tune_stats ts;
	uint64_t t;

	pcnet_set_tx_poll(b->dev, 50000, false);
	chip_start(b, 2, 0);
	t = pcnet_next_deadline(b->dev);
	assert_int_equal(t, 1000 + 50000);
	queue_no_tdmd(b, 0, 3);
	/* Not before the interval has passed ... */
	bench_tick(b, t - 1);
	assert_int_equal(b->ntx, 0);
	assert_true(tmd_status(b, 0) & OWN);
	/* ... and all of them once it has, with no TDMD written. */
	bench_tick(b, t);
	assert_int_equal(b->ntx, 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_false(tmd_status(b, i) & OWN);
	assert_true(csr_r(b, 0) & CSR0_TINT);
	/* The next one 50 us on, busy or idle alike. */
	assert_int_equal(next_in(b, t), 50000);
	bench_tick(b, t + 50000);
	assert_int_equal(next_in(b, t + 50000), 50000);
	pcnet_get_tune_stats(b->dev, &ts);
	assert_int_equal(ts.tx_timer_polls, 2);
	assert_int_equal(ts.tx_timer_busy, 1);
	assert_int_equal(ts.tx_timer_frames, 3);
}

/* Set on a running chip, the poll scheduled at the chip's pace moves in. */
static void pcnet_txpoll_fixed_interval_set_late_pulls_the_poll_in(void **s)
{
	struct bench *b = *s;

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_next_deadline(b->dev), 1000 + CHIP_NS);
	b->now = 3000;
	pcnet_set_tx_poll(b->dev, 100000, false);
	assert_int_equal(pcnet_next_deadline(b->dev), 3000 + 100000);
	queue_no_tdmd(b, 0, 1);
	bench_tick(b, 3000 + 100000);
	assert_int_equal(b->ntx, 1);
	/* Slower than the chip is allowed too: N replaces the chip's. */
	pcnet_set_tx_poll(b->dev, 5000000, false);
	bench_tick(b, pcnet_next_deadline(b->dev));
	assert_int_equal(next_in(b, b->now), 5000000);
}

static void pcnet_txpoll_adaptive_floor_when_busy_backs_off_when_idle(void **s)
{
	struct bench *b = *s;
	uint64_t t, prev, iv;
	unsigned int n;

	pcnet_set_tx_poll(b->dev, 0, true);
	chip_start(b, 2, 0);
	/* Starts fast. */
	assert_int_equal(next_in(b, 1000), FLOOR_NS);
	/* Empty polls double the interval up to the chip's, never past. */
	prev = FLOOR_NS;
	for (n = 0; n < 20; n++) {
		t = pcnet_next_deadline(b->dev);
		bench_tick(b, t);
		iv = next_in(b, t);
		assert_true(iv <= CHIP_NS);
		if (prev < CHIP_NS / 2)
			assert_int_equal(iv, 2 * prev);
		else
			assert_int_equal(iv, CHIP_NS);
		prev = iv;
	}
	assert_int_equal(prev, CHIP_NS);
	assert_int_equal(b->ntx, 0);

	/* A frame found by the poll brings the floor back. */
	queue_no_tdmd(b, 0, 2);
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(b->ntx, 2);
	assert_int_equal(next_in(b, t), FLOOR_NS);
	/* Frames keep coming: it stays at the floor, each sent without TDMD. */
	for (n = 0; n < 4; n++) {
		queue_no_tdmd(b, 2 + n, 1);
		t = pcnet_next_deadline(b->dev);
		bench_tick(b, t);
		assert_int_equal(b->ntx, 3 + n);
		assert_int_equal(next_in(b, t), FLOOR_NS);
	}
	/* Traffic stops: one empty poll doubles it. */
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(next_in(b, t), 2 * FLOOR_NS);
}

static void pcnet_txpoll_adaptive_tdmd_resets_to_the_floor(void **s)
{
	struct bench *b = *s;
	uint8_t f[64];

	pcnet_set_tx_poll(b->dev, 30000, true);
	chip_start(b, 2, 0);
	assert_int_equal(next_in(b, 1000), 30000);
	back_off(b);
	/* A TDMD half-way, even one that finds nothing: the floor again. */
	b->now += 1000;
	csr_w(b, 0, CSR0_TDMD | CSR0_IENA);
	assert_int_equal(pcnet_next_deadline(b->dev), b->now + 30000);
	back_off(b);
	b->now += 1000;
	make_frame(f, peer, sizeof(f), 0);
	send_frame(b, 0, f, sizeof(f));
	assert_int_equal(b->ntx, 1);
	assert_int_equal(pcnet_next_deadline(b->dev), b->now + 30000);
	/* The driver queues the next frame without a TDMD: out at the floor. */
	queue_no_tdmd(b, 1, 1);
	bench_tick(b, b->now + 30000);
	assert_int_equal(b->ntx, 2);
}

/* A floor at or above the chip's interval is the chip's interval. */
static void pcnet_txpoll_adaptive_is_bounded_by_the_chip_interval(void **s)
{
	struct bench *b = *s;

	csr_w(b, 47, (uint16_t)-330);	/* 10 us (written while stopped) */
	pcnet_set_tx_poll(b->dev, 0, true);
	chip_start(b, 2, 0);
	assert_int_equal(next_in(b, 1000), 10000);
	bench_tick(b, 1000 + 10000);
	assert_int_equal(next_in(b, b->now), 10000);
}

static void dpoll_off_in_mode(struct bench *b, uint64_t min_ns, bool adaptive,
			      uint64_t interval)
{
	uint64_t t;

	pcnet_set_tx_poll(b->dev, min_ns, adaptive);
	chip_start(b, 2, 0);
	csr_w(b, 4, 0x0915 | 0x1000);	/* TXDPOLL */
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
	queue_no_tdmd(b, 0, 1);
	for (t = 1; t <= 10; t++)
		bench_tick(b, t * 2 * CHIP_NS);
	assert_int_equal(b->ntx, 0);
	/* Re-setting the mode does not bring the poll back either. */
	pcnet_set_tx_poll(b->dev, min_ns, adaptive);
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
	/* TXDPOLL cleared: polling at the mode's interval again. */
	csr_w(b, 4, 0x0915);
	assert_int_equal(next_in(b, b->now), interval);
	bench_tick(b, b->now + interval);
	assert_int_equal(b->ntx, 1);
	/* Suspended or stopped, no poll either. */
	csr_w(b, 5, 0x0001);		/* SPND */
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
	csr_w(b, 5, 0);
	assert_true(pcnet_next_deadline(b->dev) != UINT64_MAX);
	csr_w(b, 0, CSR0_STOP);
	assert_int_equal(pcnet_next_deadline(b->dev), UINT64_MAX);
}

static void pcnet_txpoll_dpoll_disables_polling_chip_mode(void **s)
{
	dpoll_off_in_mode(*s, 0, false, CHIP_NS);
}

static void pcnet_txpoll_dpoll_disables_polling_fixed_mode(void **s)
{
	dpoll_off_in_mode(*s, 40000, false, 40000);
}

static void pcnet_txpoll_dpoll_disables_polling_adaptive_mode(void **s)
{
	dpoll_off_in_mode(*s, 0, true, FLOOR_NS);
}

/* chip: the interval CSR47 gives, as before, also after another mode. */
static void pcnet_txpoll_chip_mode_unchanged(void **s)
{
	struct bench *b = *s;
	struct pcnet_tune_stats ts;
	uint64_t t;

	chip_start(b, 2, 0);
	assert_int_equal(pcnet_next_deadline(b->dev), 1000 + CHIP_NS);
	queue_no_tdmd(b, 0, 1);
	bench_tick(b, 1000 + CHIP_NS - 1);
	assert_int_equal(b->ntx, 0);
	bench_tick(b, 1000 + CHIP_NS);
	assert_int_equal(b->ntx, 1);
	assert_int_equal(next_in(b, b->now), CHIP_NS);
	/* Busy or idle, the chip's pace does not adapt. */
	queue_no_tdmd(b, 1, 1);
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(next_in(b, t), CHIP_NS);

	pcnet_set_tx_poll(b->dev, 50000, false);
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(next_in(b, t), 50000);
	pcnet_set_tx_poll(b->dev, 0, false);
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(next_in(b, t), CHIP_NS);
	/* POLLINT still sets it. */
	csr_w(b, 0, CSR0_STOP);
	csr_w(b, 47, (uint16_t)-330);
	chip_init(b, 2, 3, 3, 0, 1536);
	b->now = 5000000;
	csr_w(b, 0, CSR0_STRT);
	assert_int_equal(pcnet_next_deadline(b->dev), 5000000 + 10000);
	pcnet_get_tune_stats(b->dev, &ts);
	assert_int_equal(ts.tx_timer_busy, 2);
}

/*
 * A process setting: the state region does not carry it.  A restarted
 * process over the same state polls at the chip's pace until it sets its
 * own, and the poll the old one scheduled moves in when it does.
 */
static void pcnet_txpoll_setting_is_the_processes_not_the_states(void **s)
{
	struct bench *b = *s;
	struct pcnet_config cfg = { .mem = &b->mem };
	struct pcnet_state before;
	uint64_t t;

	pcnet_set_tx_poll(b->dev, 0, true);
	chip_start(b, 2, 0);
	/* Back off to the chip's pace so the state holds a far deadline. */
	back_off(b);
	/* Changing the setting writes nothing of the chip's but the poll. */
	memcpy(&before, &b->st, sizeof(before));
	pcnet_set_tx_poll(b->dev, 0, false);
	before.next_poll_ns = b->st.next_poll_ns;
	assert_memory_equal(&before, &b->st, sizeof(before));

	pcnet_destroy(b->dev);
	memcpy(cfg.mac, b->mac, 6);
	assert_int_equal(pcnet_create(&b->dev, &b->st, &cfg, bench_ops(), b,
				      PCNET_RESUME), 1);
	t = pcnet_next_deadline(b->dev);
	bench_tick(b, t);
	assert_int_equal(next_in(b, t), CHIP_NS);
	/* The successor sets its own: fast from now on. */
	b->now += 1000;
	pcnet_set_tx_poll(b->dev, 0, true);
	assert_int_equal(pcnet_next_deadline(b->dev), b->now + FLOOR_NS);
	queue_no_tdmd(b, b->st.tx_idx, 1);
	bench_tick(b, b->now + FLOOR_NS);
	assert_int_equal(b->ntx, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, bench_setup, bench_teardown)
		T(pcnet_txpoll_fixed_interval_sends_without_tdmd),
		T(pcnet_txpoll_fixed_interval_set_late_pulls_the_poll_in),
		T(pcnet_txpoll_adaptive_floor_when_busy_backs_off_when_idle),
		T(pcnet_txpoll_adaptive_tdmd_resets_to_the_floor),
		T(pcnet_txpoll_adaptive_is_bounded_by_the_chip_interval),
		T(pcnet_txpoll_dpoll_disables_polling_chip_mode),
		T(pcnet_txpoll_dpoll_disables_polling_fixed_mode),
		T(pcnet_txpoll_dpoll_disables_polling_adaptive_mode),
		T(pcnet_txpoll_chip_mode_unchanged),
		T(pcnet_txpoll_setting_is_the_processes_not_the_states),
#undef T
	};

	return cmocka_run_group_tests_name("pcnet_txpoll", tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/* ipc/doorbell.h: eventfd doorbells with a shared need-wake flag. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "doorbell.h"

struct work {
	uint32_t flag;		/* the need-wake flag, as in shared memory */
	uint32_t avail;		/* the "work" */
	struct ipc_doorbell db;
	unsigned delay_ms;
	int ring_rc;
};

static int setup(void **state)
{
	static struct work w;

	w = (struct work){ 0 };
	w.db.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w.db.need_wake = &w.flag;
	*state = &w;
	return w.db.fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct work *w = *state;

	close(w->db.fd);
	return 0;
}

static bool has_work(void *opaque)
{
	struct work *w = opaque;

	return __atomic_load_n(&w->avail, __ATOMIC_ACQUIRE) != 0;
}

static void doorbell_ring_with_the_flag_clear_writes_nothing(void **state)
{
	struct work *w = *state;

	assert_int_equal(ipc_doorbell_ring(&w->db), 0);
	assert_int_equal(ipc_doorbell_ring(&w->db), 0);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 0);
}

static void doorbell_ring_with_the_flag_set_wakes_the_eventfd(void **state)
{
	struct work *w = *state;

	w->flag = 1;
	assert_int_equal(ipc_doorbell_ring(&w->db), 0);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 1);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 0);
	/* The ringer leaves the flag to its owner. */
	assert_int_equal(w->flag, 1);
}

static void doorbell_without_a_flag_always_signals(void **state)
{
	struct work *w = *state;
	struct ipc_doorbell db = { .fd = w->db.fd, .need_wake = NULL };

	assert_int_equal(ipc_doorbell_ring(&db), 0);
	assert_int_equal(ipc_doorbell_ring(&db), 0);
	assert_int_equal(ipc_eventfd_drain(db.fd), 2);
}

static void eventfd_signal_adds_up_and_drain_clears(void **state)
{
	struct work *w = *state;

	for (int i = 0; i < 3; i++)
		assert_int_equal(ipc_eventfd_signal(w->db.fd), 0);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 3);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 0);
	assert_int_equal(ipc_eventfd_signal(-1), -EBADF);
}

static void eventfd_drain_never_blocks_on_a_blocking_eventfd(void **state)
{
	int fd = eventfd(0, EFD_CLOEXEC);	/* blocking */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ipc_eventfd_drain(fd), 0);
	assert_int_equal(ipc_eventfd_signal(fd), 0);
	assert_int_equal(ipc_eventfd_drain(fd), 1);
	assert_int_equal(ipc_eventfd_drain(fd), 0);
	close(fd);
}

static void doorbell_wait_returns_ready_at_once_when_work_is_there(void **state)
{
	struct work *w = *state;

	w->avail = 1;
	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w, 0, -1),
			 IPC_WAIT_READY);
	assert_int_equal(w->flag, 0);
}

static void doorbell_wait_times_out_without_work_and_clears_the_flag(void **state)
{
	struct work *w = *state;
	uint64_t t0 = ipc_now_ns(), dt;

	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w, 100000, 50),
			 IPC_WAIT_TIMEOUT);
	dt = ipc_now_ns() - t0;
	assert_true(dt >= 50000000ull);
	assert_true(dt < 5000000000ull);
	assert_int_equal(w->flag, 0);
	/* A zero timeout looks once more and returns. */
	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w, 0, 0),
			 IPC_WAIT_TIMEOUT);
}

static void doorbell_wait_absorbs_spurious_wakeups(void **state)
{
	struct work *w = *state;
	uint64_t t0 = ipc_now_ns();

	/* Signalled, but no work: the wait goes on until its timeout. */
	assert_int_equal(ipc_eventfd_signal(w->db.fd), 0);
	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w, 0, 30),
			 IPC_WAIT_TIMEOUT);
	assert_true(ipc_now_ns() - t0 >= 30000000ull);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 0);
}

static void *publish_later(void *arg)
{
	struct work *w = arg;

	usleep(w->delay_ms * 1000);
	__atomic_store_n(&w->avail, 1, __ATOMIC_RELEASE);
	w->ring_rc = ipc_doorbell_ring(&w->db);
	return NULL;
}

static void doorbell_wait_returns_ready_when_another_thread_rings(void **state)
{
	struct work *w = *state;
	pthread_t t;
	uint64_t t0 = ipc_now_ns();

	w->delay_ms = 100;
	assert_int_equal(pthread_create(&t, NULL, publish_later, w), 0);
	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w, 0, 20000),
			 IPC_WAIT_READY);
	pthread_join(t, NULL);
	assert_int_equal(w->ring_rc, 0);
	assert_true(ipc_now_ns() - t0 < 15000000000ull);
	assert_int_equal(w->flag, 0);
}

static void doorbell_wait_that_spins_finds_work_without_a_wakeup(void **state)
{
	struct work *w = *state;
	pthread_t t;

	w->delay_ms = 10;
	assert_int_equal(pthread_create(&t, NULL, publish_later, w), 0);
	/* A budget far longer than the delay: found while spinning. */
	assert_int_equal(ipc_doorbell_wait(&w->db, has_work, w,
					   30000000000ull, 60000),
			 IPC_WAIT_READY);
	pthread_join(t, NULL);
	assert_int_equal(w->flag, 0);
	assert_int_equal(ipc_eventfd_drain(w->db.fd), 0);	/* no syscall */
}

static void doorbell_wait_on_a_closed_fd_is_an_error(void **state)
{
	struct work *w = *state;
	struct ipc_doorbell db = { .need_wake = &w->flag };

	db.fd = dup(w->db.fd);
	close(db.fd);
	errno = 0;
	assert_int_equal(ipc_doorbell_wait(&db, has_work, w, 0, 1000),
			 IPC_WAIT_ERROR);
	assert_int_equal(errno, EBADF);
	assert_int_equal(w->flag, 0);
}

/* Two threads bounce a token; a lost wake-up shows as a timeout. */
#define PINGS 20000u

struct pingpong {
	uint32_t token, flag[2];
	struct ipc_doorbell db[2];
	unsigned timeouts;
};

struct turn {
	struct pingpong *pp;
	unsigned me;
	uint32_t want;
};

static bool my_turn(void *opaque)
{
	struct turn *t = opaque;

	return __atomic_load_n(&t->pp->token, __ATOMIC_ACQUIRE) == t->want;
}

static void *player(void *arg)
{
	struct turn *t = arg;
	struct pingpong *pp = t->pp;

	for (uint32_t i = 0; i < PINGS; i++) {
		t->want = 2 * i + t->me;
		/* Mix sleeping at once and spinning a little first. */
		if (ipc_doorbell_wait(&pp->db[t->me], my_turn, t,
				      (i & 1) ? 2000 : 0, 5000) != IPC_WAIT_READY) {
			__atomic_fetch_add(&pp->timeouts, 1, __ATOMIC_RELAXED);
			break;
		}
		__atomic_store_n(&pp->token, t->want + 1, __ATOMIC_RELEASE);
		ipc_doorbell_ring(&pp->db[!t->me]);
	}
	return NULL;
}

static void doorbell_ping_pong_loses_no_wakeup(void **state)
{
	struct pingpong pp = { 0 };
	struct turn t[2] = { { &pp, 0, 0 }, { &pp, 1, 0 } };
	pthread_t th[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		pp.db[i].fd = eventfd(0, EFD_CLOEXEC);
		pp.db[i].need_wake = &pp.flag[i];
		assert_true(pp.db[i].fd >= 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, player, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(pp.timeouts, 0);
	assert_int_equal(pp.token, 2 * PINGS);
	for (int i = 0; i < 2; i++)
		close(pp.db[i].fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(doorbell_ring_with_the_flag_clear_writes_nothing),
		T(doorbell_ring_with_the_flag_set_wakes_the_eventfd),
		T(doorbell_without_a_flag_always_signals),
		T(eventfd_signal_adds_up_and_drain_clears),
		cmocka_unit_test(eventfd_drain_never_blocks_on_a_blocking_eventfd),
		T(doorbell_wait_returns_ready_at_once_when_work_is_there),
		T(doorbell_wait_times_out_without_work_and_clears_the_flag),
		T(doorbell_wait_absorbs_spurious_wakeups),
		T(doorbell_wait_returns_ready_when_another_thread_rings),
		T(doorbell_wait_that_spins_finds_work_without_a_wakeup),
		T(doorbell_wait_on_a_closed_fd_is_an_error),
		cmocka_unit_test(doorbell_ping_pong_loses_no_wakeup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

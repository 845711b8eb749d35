// SPDX-License-Identifier: MIT
/*
 * Doorbells.  The need-wake protocol is the store-buffer (Dekker) pattern:
 *
 *   ringer:  publish work;  fence(seq_cst);  if (need_wake) signal
 *   waiter:  need_wake = 1; fence(seq_cst);  if (work) don't sleep
 *
 * With a full fence on both sides at least one of them sees the other's
 * store, so either the ringer signals or the waiter finds the work.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "doorbell.h"

uint64_t ipc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ipc_spin_yield(void)
{
	sched_yield();
}

int ipc_eventfd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(one))
		return 0;
	/* A non-blocking eventfd at its maximum count is signalled already. */
	if (n < 0 && errno == EAGAIN)
		return 0;
	return n < 0 ? -errno : -EIO;
}

uint64_t ipc_eventfd_drain(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t v = 0;
	ssize_t n;

	/*
	 * poll() first so a blocking eventfd never blocks here; O_NONBLOCK is
	 * not an option, it would change the descriptor in the peer too.
	 */
	for (;;) {
		int r = poll(&p, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || !(p.revents & POLLIN))
			return 0;
		break;
	}
	do
		n = read(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(v) ? v : 0;
}

int ipc_doorbell_ring(const struct ipc_doorbell *db)
{
	if (db->need_wake) {
		/* Order the caller's publication of work before the flag load. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(db->need_wake, __ATOMIC_RELAXED))
			return 0;
	}
	return ipc_eventfd_signal(db->fd);
}

static void set_need_wake(const struct ipc_doorbell *db, uint32_t v)
{
	if (db->need_wake)
		__atomic_store_n(db->need_wake, v, __ATOMIC_RELAXED);
}

enum ipc_wait_result ipc_doorbell_wait(const struct ipc_doorbell *db,
				       ipc_ready_fn *ready, void *opaque,
				       uint64_t spin_ns, int timeout_ms)
{
	uint64_t start = ipc_now_ns(), deadline = 0;

	if (ready(opaque))
		return IPC_WAIT_READY;
	if (timeout_ms >= 0)
		deadline = start + (uint64_t)timeout_ms * 1000000ull;

	/* Spin: cheap while the peer is busy and work comes soon. */
	if (spin_ns) {
		for (unsigned i = 1;; i++) {
			if (ready(opaque))
				return IPC_WAIT_READY;
			ipc_spin_yield();
			if (!(i & 15) && ipc_now_ns() - start >= spin_ns)
				break;
		}
	}

	for (;;) {
		struct pollfd p = { .fd = db->fd, .events = POLLIN };
		int slice = -1, r;

		set_need_wake(db, 1);
		/* Order the flag store before the re-check of the work. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ready(opaque)) {
			set_need_wake(db, 0);
			return IPC_WAIT_READY;
		}
		if (timeout_ms >= 0) {
			uint64_t now = ipc_now_ns(), left;

			if (now >= deadline) {
				set_need_wake(db, 0);
				return IPC_WAIT_TIMEOUT;
			}
			left = (deadline - now + 999999) / 1000000;
			slice = left < (uint64_t)timeout_ms ? (int)left : timeout_ms;
		}
		r = poll(&p, 1, slice);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			set_need_wake(db, 0);
			return IPC_WAIT_ERROR;
		}
		if (r > 0) {
			if (p.revents & (POLLERR | POLLNVAL)) {
				set_need_wake(db, 0);
				errno = (p.revents & POLLNVAL) ? EBADF : EIO;
				return IPC_WAIT_ERROR;
			}
			/* Consume the wake-up; the work itself is re-checked. */
			ipc_eventfd_drain(db->fd);
		}
	}
}

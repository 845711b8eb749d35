/* SPDX-License-Identifier: MIT */
/*
 * Doorbells: an eventfd plus a need-wake flag in shared memory.  The waiter
 * spins for a bounded budget while work may arrive, then sets the flag,
 * re-checks, and sleeps on the eventfd; the ringer signals the eventfd only
 * while the flag is set, so a busy peer costs no system call.  The flag
 * and the work are checked under sequentially consistent fences on both
 * sides (the classic store-buffer pattern), so no wake-up is lost.
 */
#ifndef IPC_DOORBELL_H
#define IPC_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

struct ipc_doorbell {
	int fd;			/* eventfd; not owned */
	uint32_t *need_wake;	/* in shared memory; NULL: always signal */
};

/* True when there is work; called repeatedly while spinning. */
typedef bool ipc_ready_fn(void *opaque);

enum ipc_wait_result {
	IPC_WAIT_READY = 0,	/* @ready said so */
	IPC_WAIT_TIMEOUT = 1,	/* @timeout_ms passed */
	IPC_WAIT_ERROR = -1,	/* poll or read failed: errno says why */
};

/* Ring: after the caller published work, wake the waiter if it sleeps.
 * Returns 0 or -errno from the eventfd write. */
int ipc_doorbell_ring(const struct ipc_doorbell *db);

/* Unconditional eventfd signal (for waiters that do not use the flag). */
int ipc_eventfd_signal(int fd);
/* Reads (clears) an eventfd without blocking; returns the count, 0 if none. */
uint64_t ipc_eventfd_drain(int fd);

/*
 * Wait until @ready(@opaque): spin for up to @spin_ns nanoseconds (0: no
 * spin), then sleep on the eventfd with the need-wake flag set, for at most
 * @timeout_ms (-1: forever).  Spurious wake-ups are absorbed here.
 */
enum ipc_wait_result ipc_doorbell_wait(const struct ipc_doorbell *db,
				       ipc_ready_fn *ready, void *opaque,
				       uint64_t spin_ns, int timeout_ms);

/*
 * One look's pause while spinning: any other runnable thread on this CPU
 * runs first (a spinner that shares its CPU with the peer it waits for
 * must not keep that peer off it for a time slice), and with none the
 * call comes straight back.
 */
void ipc_spin_yield(void);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ipc_now_ns(void);

#endif

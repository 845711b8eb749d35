/* SPDX-License-Identifier: MIT */
/*
 * The device side of the device protocol, as one API (the way
 * libvfio-user gives a device server callbacks and hides the sockets): a
 * device process describes itself, connects to vmm-core's device socket,
 * and gets callbacks for the accesses the guest makes to its BARs.  Guest
 * RAM, the state region and the INTx line come with the connection.
 *
 * Threading: everything runs on the thread that calls devsrv_run(); the
 * callbacks run there and may call devsrv_set_irq() and the guest_mem
 * accessors.
 */
#ifndef IPC_DEVSRV_H
#define IPC_DEVSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devproto.h"
#include "guest_mem.h"

struct devsrv;

struct devsrv_ops {
	/* An access to BAR @bar at @offset of @size bytes (1, 2, 4, or 8). */
	uint64_t (*read)(void *opaque, unsigned bar, uint64_t offset,
			 unsigned size);
	void (*write)(void *opaque, unsigned bar, uint64_t offset,
		      unsigned size, uint64_t value);
	/*
	 * Optional.  Called once the connection is set up, before the first
	 * access: @state is the state region (@state_size bytes, zero-filled
	 * on the first attach), @resumed true when the core handed back the
	 * region of an earlier process (generation > 1), so the device
	 * continues from what is stored there.
	 */
	void (*attached)(void *opaque, void *state, size_t state_size,
			 bool resumed);
	/* Optional: the guest moved or (un)decoded a BAR. */
	void (*bar_moved)(void *opaque, unsigned bar, uint64_t addr,
			  bool enabled);
	/*
	 * Optional: the core answered a read from a shadow entry flagged
	 * DP_SHADOW_F_NOTE (devsrv_shadow_publish()) with @value; @token is
	 * the entry's.  In order with the vCPU's posted writes.
	 */
	void (*shadow_read)(void *opaque, unsigned bar, uint64_t offset,
			    unsigned size, uint32_t value, uint32_t token);
	/*
	 * Optional, for work sources of the device's own in shared memory
	 * (a virtqueue's used ring), looked at only with spin_ns > 0:
	 * @poll at every turn of the serving loop, returning how much it
	 * did (not 0 keeps the loop busy), so the device may turn those
	 * sources' notifications off while the loop spins; @before_sleep
	 * just before the loop sleeps, to turn them on again, returning
	 * true if work came meanwhile (the loop goes on instead).
	 */
	unsigned (*poll)(void *opaque);
	bool (*before_sleep)(void *opaque);
};

struct devsrv_config {
	const char *sock_path;		/* vmm-core's --device-sock */
	int connect_timeout_ms;		/* retry connect() this long; 0: once */
	uint64_t spin_ns;		/* poll the rings this long before sleeping,
					 * yielding the CPU between looks */
	struct dp_hello hello;		/* hdr is filled in by devsrv */
};

/*
 * Connects and completes the set-up (HELLO, WELCOME, MEM_REGIONs, BARs,
 * READY both ways).  0, or -1 with one line in @err.
 */
int devsrv_connect(struct devsrv **out, const struct devsrv_config *cfg,
		   const struct devsrv_ops *ops, void *opaque, char *err,
		   size_t errlen);

/* Guest RAM as mapped from the core's MEM_REGIONs: for DMA. */
const struct guest_mem *devsrv_guest_mem(const struct devsrv *s);

/* What the core said in WELCOME (generation, gsi, nr_vcpus, ...). */
const struct dp_welcome *devsrv_welcome(const struct devsrv *s);

/* Where BAR @bar is now (0 if never placed), and whether it decodes. */
uint64_t devsrv_bar_addr(const struct devsrv *s, unsigned bar, bool *enabled);

/*
 * The level of the device's INTx line.  Asserting signals the irqfd (from
 * a posted write's callback: once that entry is freed); while
 * the line stays asserted, every resample (the guest's EOI) signals it
 * again, as VFIO does for level-triggered INTx.  Deasserting takes effect
 * at the next EOI.
 */
void devsrv_set_irq(struct devsrv *s, bool level);

/*
 * With DP_F_SHADOW_READS in force (offered in the HELLO and granted):
 * publishes what reads of the registers in @regs (@n, at most
 * DP_SHADOW_REGS) answer now, and @index, the index register (flags 0:
 * none).  Call it after every change the guest could read and before
 * the interrupt that tells of one: before each callback returns, and
 * before devsrv_set_irq(true).  A call with nothing changed costs a
 * compare.  Without the feature it does nothing; devsrv_shadow_on()
 * tells.
 */
void devsrv_shadow_publish(struct devsrv *s, const struct dp_shadow_reg *index,
			   const struct dp_shadow_reg *regs, unsigned n);
bool devsrv_shadow_on(const struct devsrv *s);

/*
 * Extra descriptors the device wants woken on (a timerfd, a vhost-user
 * socket): @fn runs on the devsrv thread when @fd is readable.  At most
 * 8.  0 or -1.
 */
typedef void devsrv_fd_fn(void *opaque, int fd);
int devsrv_add_fd(struct devsrv *s, int fd, devsrv_fd_fn *fn, void *opaque);
void devsrv_del_fd(struct devsrv *s, int fd);

/*
 * Serves I/O until the core closes the connection (returns 0), a protocol
 * error (returns -1 after sending ERROR where it can, with the reason on
 * stderr), or devsrv_stop() (returns 1).
 */
int devsrv_run(struct devsrv *s);

/* Async-signal-safe: makes devsrv_run() return 1 soon. */
void devsrv_stop(struct devsrv *s);

/* Unmaps and closes everything. */
void devsrv_free(struct devsrv *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A fake vhost-user front-end for the back-end's unit tests: one end of a
 * socketpair, "guest RAM" in two memfds (GPA 0 and 1 MiB, one region
 * each), the driver side of both virtqueues in that RAM (ipc/virtq.h),
 * eventfds for kick, call and err, and a host path stub that records what
 * it is given and delivers what a test queues.  Single-threaded: a test
 * sends a message, then lets the back-end handle it (vb_handle_message) or
 * run a turn of its loop (vb_poll).
 */
#ifndef TEST_BACKEND_HARNESS_H
#define TEST_BACKEND_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "vhost_backend.h"
#include "vhost_user.h"
#include "virtq.h"

#define FE_REGION_SIZE	(1u << 20)
#define FE_NREGIONS	2
#define FE_QSIZE	64
#define STUB_MAX_FRAMES	64
#define STUB_FRAME_MAX	9000

struct stub_frame {
	size_t len;
	uint8_t data[STUB_FRAME_MAX];
	/* tx: where the back-end's iovecs pointed (guest RAM or not) */
	unsigned iovcnt;
	const void *iov_base[HOST_MAX_IOV];
	size_t iov_len[HOST_MAX_IOV];
};

struct stub_host {
	struct host_path h;
	int efd;			/* readable while rx frames are queued */
	size_t max_frame;
	/* tx: what the back-end sent */
	unsigned ntx;
	struct stub_frame tx[STUB_MAX_FRAMES];
	unsigned tx_max_iovcnt;
	unsigned tx_calls;		/* tx_burst calls with frames */
	/* Frames longer than STUB_FRAME_MAX: refused (tx_errors), as a
	 * real path refuses one too long for it; the last one's length. */
	unsigned tx_refused;
	size_t tx_refused_len;
	/* rx: what the back-end will receive, in order */
	unsigned nrx, rx_next;
	struct stub_frame rx[STUB_MAX_FRAMES];
	int tx_fail;			/* tx_burst returns this when < 0 */
};

struct fe {
	int sock;			/* the front-end's end */
	struct vhost_backend *vb;
	struct stub_host host;
	int memfd[FE_NREGIONS];
	uint8_t *ram[FE_NREGIONS];	/* region i is GPA i * 1 MiB */
	size_t alloc[FE_NREGIONS];	/* bump allocators */
	struct virtq_drv q[VB_NQUEUES];
	void *ring[VB_NQUEUES][3];	/* desc, avail, used */
	int kick[VB_NQUEUES], call[VB_NQUEUES], err[VB_NQUEUES];
	uint64_t features;
};

/* Everything up to an idle connection (no message sent yet). */
void fe_init(struct fe *fe, const struct vb_config *cfg);
void fe_fini(struct fe *fe);

/* Local memory in region @r, zeroed, @align-aligned; its GPA. */
void *fe_alloc(struct fe *fe, unsigned r, size_t size, size_t align);
uint64_t fe_gpa(const struct fe *fe, const void *p);
/* The front-end virtual address of @p (we use our own mapping's). */
uint64_t fe_uva(const void *p);
/*
 * Whether [@p, @p + @len) overlaps guest RAM in any mapping of this
 * process (the front-end's or the back-end's own, found in
 * /proc/self/maps by the memfds' inodes).
 */
bool fe_in_ram(const struct fe *fe, const void *p, size_t len);
/* The GPA of @p when [@p, @p + @len) lies in one such mapping, else
 * false. */
bool fe_ram_gpa(const struct fe *fe, const void *p, size_t len,
		uint64_t *gpa);

/* Sends one request; the back-end handles it; its return value. */
int fe_send(struct fe *fe, uint32_t request, uint32_t flags,
	    const void *payload, uint32_t size, const int *fds,
	    unsigned nfds);
/* Takes a waiting reply: its size, or -1 when there is none. */
int fe_reply(struct fe *fe, struct vu_msg *m);
/* A request with NEED_REPLY: the acked u64, or -1 without a reply. */
int64_t fe_ack(struct fe *fe, uint32_t request, const void *payload,
	       uint32_t size, const int *fds, unsigned nfds);
/* A GET_* request with a u64 answer. */
uint64_t fe_get_u64(struct fe *fe, uint32_t request);

/* SET_OWNER, features (offered & @want), REPLY_ACK. */
void fe_negotiate(struct fe *fe, uint64_t want);
/* SET_MEM_TABLE with both memfds; the ack. */
int64_t fe_mem_table(struct fe *fe);
/* Queue @qi: rings in region 0, NUM/BASE/ADDR/CALL/ERR/KICK/ENABLE. */
void fe_queue(struct fe *fe, unsigned qi);
/* All of the above, both queues. */
void fe_bring_up(struct fe *fe, uint64_t want);

/* Driver side: a chain of @n buffers (out or in), made available. */
void fe_add(struct fe *fe, unsigned qi, const struct virtq_buf *bufs,
	    unsigned n_out, unsigned n_in, void *token);
void fe_kick(struct fe *fe, unsigned qi);
/* Eventfd counts (0 if not signalled), drained. */
uint64_t fe_calls(struct fe *fe, unsigned qi);
uint64_t fe_errs(struct fe *fe, unsigned qi);

/* Runs the back-end's loop @turns times without waiting. */
void fe_run(struct fe *fe, unsigned turns);

/* Queues a frame on the stub's receive side. */
void stub_rx_push(struct stub_host *s, const void *data, size_t len);

#endif

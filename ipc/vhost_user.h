/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user codec both ends use (proto/vhost_user_proto.h is the format):
 * sending and receiving one message on the AF_UNIX SOCK_STREAM socket with
 * its SCM_RIGHTS descriptors, validating it, and mapping the memory table
 * a back-end receives.
 *
 * Receiving and checking are separate steps, as in ipc/dp_msg.h:
 * vu_msg_recv() only frames (header, size bound, payload, fds);
 * vu_msg_check() decides whether the payload is well-formed for its
 * request.  A message refused by either keeps its fds only if the caller
 * still holds them: vu_msg_recv() closes what it refuses itself, after
 * vu_msg_check() fails the caller closes them (ipc_close_fds()).
 *
 * A stream socket has no message boundaries: after a receive error other
 * than -EAGAIN and -EMSGSIZE the stream is out of step and the connection
 * must be dropped.
 */
#ifndef IPC_VHOST_USER_H
#define IPC_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"
#include "vhost_user_proto.h"	/* proto/: the wire format */

/*
 * One message in memory.  On the wire the payload follows the 12-byte
 * header directly; here it sits at its natural alignment, the codec
 * moves the two parts separately.  Only the first hdr.size bytes of
 * payload are meaningful.
 */
struct vu_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
};

/* Fills a request header: version 1, @size payload bytes (not zeroed). */
void vu_msg_init(struct vu_msg *m, uint32_t request, uint32_t size);

/* Fills a reply to @req: same request code, REPLY flag, @size bytes. */
void vu_reply_init(struct vu_msg *reply, const struct vu_msg *req,
		   uint32_t size);

/* "SET_MEM_TABLE" etc., or NULL for an unknown code. */
const char *vu_request_name(uint32_t request);

/*
 * Sends @m (header plus m->hdr.size payload bytes) and @nfds descriptors
 * with the header.  Partial writes are continued and EINTR retried, the
 * fds go with the first byte only; MSG_NOSIGNAL, so a vanished peer gives
 * -EPIPE, never SIGPIPE.  0, or -EMSGSIZE (size > VHOST_USER_MAX_PAYLOAD
 * or nfds > VHOST_USER_MAX_FDS), -EINVAL (nfds without fds), -errno.
 * On a non-blocking socket it waits (poll) for room rather than return
 * half a message.
 */
int vu_msg_send(int sock, const struct vu_msg *m, const int *fds,
		unsigned nfds);

/*
 * Receives one message: exactly the 12-byte header with its SCM_RIGHTS,
 * then exactly hdr.size payload bytes (never a byte of the next message,
 * so never its descriptors).  Up to @max_fds descriptors go to @fds
 * (close-on-exec), *@nfds says how many.  Returns the bytes of the whole
 * message (> 0); 0 if the peer closed the connection before a header
 * began; -EAGAIN on a non-blocking socket with nothing to read (once a
 * header has begun it waits for the rest); -EMSGSIZE (more than @max_fds
 * descriptors, or a control part cut short: the message was read whole,
 * so the stream stays in step), -E2BIG (hdr.size > VHOST_USER_MAX_PAYLOAD:
 * nothing after the header is read), -EPROTO (the peer closed
 * mid-message), or -errno.  On every error all descriptors that came are
 * closed and *@nfds is 0.  EINTR is retried.  @m's contents are
 * meaningful only on success (and m->hdr after -EMSGSIZE / -E2BIG).
 */
int vu_msg_recv(int sock, struct vu_msg *m, int *fds, unsigned max_fds,
		unsigned *nfds);

/*
 * Validates a received message that came with @nfds descriptors.
 * @from_frontend: true in the back-end (@m is a front-end request), false
 * in the front-end (@m is the back-end's reply to one of its requests).
 * Checks, in this order: version bits, reserved flag bits, REPLY bit as
 * the direction needs (and no NEED_REPLY on a reply), known and supported
 * request, payload size exact for the request, fields, fd count.  Fields:
 *   SET_MEM_TABLE: nregions 1..8, fds == nregions, every region sized,
 *     guest_phys_addr + size, userspace_addr + size and mmap_offset +
 *     size do not wrap, no two regions overlap in guest-physical space
 *     (front-end virtual ranges may: a RAM block aliased at two GPAs);
 *   ADD_MEM_REG/REM_MEM_REG: the same for its one region; 1 fd / 0-1 fd;
 *   SET_VRING_KICK/CALL/ERR: bits 9-63 zero, one fd unless
 *     VHOST_USER_VRING_NOFD_MASK is set, then none;
 *   SET_VRING_NUM: 1..32768 and a power of two (split rings only);
 *   SET_VRING_BASE: <= 0xffff; SET_VRING_ENABLE: 0 or 1;
 *   SET_VRING_ADDR: known flags, desc/used/avail aligned 16/4/2;
 *   GET/SET_CONFIG: size <= 256, hdr.size == 12 + size, offset + size
 *     <= 256, flags known;
 *   SET_LOG_BASE: one fd, size non-zero and offset + size not wrapping.
 * Replies: GET_* carry their payload (u64, vring state, config), every
 * other request's reply is the u64 of REPLY_ACK; no fds.
 * Returns 0, or -EPROTO (header, size, fd count), -EBADMSG (a field),
 * -EOPNOTSUPP (unknown or unsupported request), with one line in @err
 * (may be NULL).
 */
int vu_msg_check(const struct vu_msg *m, unsigned nfds, bool from_frontend,
		 char *err, size_t errlen);

/* ---- the back-end's view of the front-end's memory --------------------- */

/*
 * The memory table a back-end received, mapped: GPA translation through
 * @gm (for descriptor addresses, which are guest-physical) and front-end
 * virtual address translation through @uva[] (for vring addresses).
 * Slot i of @uva[] describes @gm.r[i].
 */
struct vu_mem_map {
	uint64_t uva;		/* front-end virtual address of gm.r[i].gpa */
	void *map_base;		/* what mmap returned (page-aligned) */
	size_t map_len;		/* what to munmap */
};

struct vu_mem {
	struct guest_mem gm;	/* gm.r[i].host = local mapping; fd is -1 */
	struct vu_mem_map map[GUEST_MEM_MAX_REGIONS];
};

/* An empty table. */
void vu_mem_init(struct vu_mem *m);

/*
 * Maps a table vu_msg_check() accepted (SET_MEM_TABLE), replacing what
 * @m held only once every new region is mapped.  For each region the fd
 * is fstat'ed first: mmap_offset + memory_size must fit its size (a
 * region past EOF would SIGBUS on access).  Takes the @fds (t->nregions
 * of them, when that is 1..8) in every case: they are closed (a mapping
 * outlives its fd) and set to -1.  0, or -EINVAL (bad table, region
 * beyond the file), -errno from fstat/mmap; on error @m is unchanged.
 * On success every pointer from the old table is dangling: translate the
 * vring addresses again and virtq_dev_move_rings().  &m->gm stays put, so
 * a virtq_dev's mem pointer stays valid.
 */
int vu_mem_set_table(struct vu_mem *m, const struct vhost_user_mem_table *t,
		     int *fds);

/*
 * ADD_MEM_REG: maps one more region (same checks, and no guest-physical
 * overlap with those held).  Takes @fd in every case.  0, -EINVAL,
 * -ENOSPC, -errno.
 */
int vu_mem_add_region(struct vu_mem *m, const struct vhost_user_mem_region *r,
		      int fd);

/*
 * REM_MEM_REG: unmaps the region with the same guest_phys_addr,
 * userspace_addr and memory_size (mmap_offset is ignored, as the spec
 * says).  0, or -ENOENT.  Pointers into it are dangling afterwards.
 */
int vu_mem_remove_region(struct vu_mem *m,
			 const struct vhost_user_mem_region *r);

/* Unmaps everything; @m is empty (and reusable) afterwards. */
void vu_mem_free(struct vu_mem *m);

/*
 * Local pointer to front-end virtual [uva, uva + len), or NULL unless the
 * whole range lies in one region (len 0 is treated as 1; where regions
 * overlap, the first that holds all of it).  For vring addresses from
 * SET_VRING_ADDR.
 */
void *vu_uva_to_ptr(const struct vu_mem *m, uint64_t uva, uint64_t len);

/* Local pointer to guest-physical [gpa, gpa + len), as guest_mem_ptr(). */
static inline void *vu_gpa_to_ptr(const struct vu_mem *m, uint64_t gpa,
				  uint64_t len)
{
	return guest_mem_ptr(&m->gm, gpa, len);
}

#endif

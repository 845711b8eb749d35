/* SPDX-License-Identifier: MIT */
/*
 * Checking and building device-protocol messages (proto/devproto.h).  The
 * one parser both ends run over what arrives on the device socket: a
 * message is accepted only if its header, size, type, fd count and every
 * field are valid, and the reason for a refusal is one line fit for a
 * DP_MSG_ERROR and a log.
 */
#ifndef IPC_DP_MSG_H
#define IPC_DP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devproto.h"

/* Who is parsing: each side accepts only the messages the other sends. */
enum dp_side {
	DP_SIDE_CORE,		/* parses what a device sends */
	DP_SIDE_DEVICE,		/* parses what the core sends */
};

/*
 * Validates one received message of @len bytes that came with @nfds
 * descriptors.  0 if it is well-formed for @side to receive; otherwise
 * -EPROTO (bad magic/flags/size field, wrong fd count), -EBADMSG (a field
 * out of range), -EOPNOTSUPP (unknown or wrong-direction type) or
 * -EPROTONOSUPPORT (version), with one line in @err (may be NULL).  For
 * WELCOME, the fd count depends on nr_vcpus and is checked too.  The
 * message's type is in ((const struct dp_hdr *)buf)->type when @len >=
 * sizeof(struct dp_hdr).
 */
int dp_msg_check(enum dp_side side, const void *buf, size_t len,
		 unsigned nfds, char *err, size_t errlen);

/* Fills a header. */
void dp_hdr_init(struct dp_hdr *h, enum dp_msg_type type, uint32_t size,
		 uint32_t seq);

/* Builds an ERROR reply to a refused message of @refused_type. */
void dp_error_init(struct dp_error *e, uint32_t seq, uint16_t refused_type,
		   int code, const char *text);

/* Number of fds a WELCOME for @nr_vcpus vCPUs carries. */
static inline unsigned dp_welcome_nfds(uint32_t nr_vcpus)
{
	return DP_WELCOME_FDS + nr_vcpus;
}

/*
 * Size of the I/O region for @nr_vcpus vCPUs, and its offsets (any output
 * pointer may be NULL).  All zero when @nr_vcpus is outside
 * 1..DP_MAX_VCPUS.
 */
void dp_io_layout(uint32_t nr_vcpus, uint32_t *slot_offset,
		  uint32_t *posted_offset, uint32_t *posted_stride,
		  uint32_t *io_size);

/* Where struct dp_shadow sits in that layout (0 without a layout). */
uint32_t dp_io_shadow_offset(uint32_t nr_vcpus);

/*
 * The shadow's sequence lock (PROTOCOL.md §3.4).  dp_shadow_store():
 * the one writer copies @src into @sh, @src->seq being its own counter
 * (advanced).  dp_shadow_load(): a stable copy of @sh in @out (nr
 * clamped), or false while it is being written; dp_shadow_load_index()
 * the same of the index register's entry alone.  dp_shadow_find(): the
 * entry of a snapshot that answers a read of @size at @offset of BAR
 * @bar while the index register holds @index, or NULL.
 */
void dp_shadow_store(struct dp_shadow *sh, struct dp_shadow *src);
bool dp_shadow_load(const struct dp_shadow *sh, struct dp_shadow *out);
bool dp_shadow_load_index(const struct dp_shadow *sh,
			  struct dp_shadow_reg *out);
bool dp_shadow_decodes(const struct dp_shadow_reg *r, unsigned bar,
		       uint64_t offset, unsigned size);
const struct dp_shadow_reg *dp_shadow_find(const struct dp_shadow *snap,
					   unsigned bar, uint64_t offset,
					   unsigned size, uint32_t index);

/*
 * What a posted entry @e the device has not executed yet means for a read
 * the core would answer from @snap (PROTOCOL.md §3.4), with *@index the
 * index register's value the entries before it leave (advanced by an
 * index write): DP_PENDING_NONE for a note or an EOI, DP_PENDING_INDEX
 * for an index write, DP_PENDING_QUIET for a write its entry calls
 * quiet, DP_PENDING_BLOCKS for anything else (the read must go to the
 * device).
 */
enum dp_pending {
	DP_PENDING_NONE,
	DP_PENDING_INDEX,
	DP_PENDING_QUIET,
	DP_PENDING_BLOCKS,
};
enum dp_pending dp_shadow_pending(const struct dp_shadow *snap,
				  const struct dp_posted *e, uint32_t *index);

/*
 * Checks an I/O region header the peer formatted against what the
 * protocol says it must be for @nr_vcpus and @io_size; 0 or -EBADMSG.
 */
int dp_io_header_check(const struct dp_io_header *h, uint32_t nr_vcpus,
		       uint32_t io_size, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Single-producer single-consumer ring over the shared layout of
 * proto/spsc_ring.h.  Each side keeps its own index privately and only publishes
 * it, so a peer that scribbles on the shared header can make the ring look
 * full, empty or broken, never make this side read or write outside the
 * entry array.  The peer's index is checked on every load: a distance
 * beyond the ring's size marks the ring broken (ipc_ring_broken()), and the
 * owner of the ring reports that as a protocol error.
 *
 * Memory ordering: the producer writes entries, then store-releases head;
 * the consumer load-acquires head, reads entries, then store-releases tail;
 * the producer load-acquires tail before reusing entries.
 *
 * Burst calls are the normal API: produce up to n, consume up to max.
 */
#ifndef IPC_RING_H
#define IPC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "spsc_ring.h"	/* proto/: the shared layout */

struct ipc_ring {
	struct spsc_ring *sh;	/* the shared header and entries */
	uint32_t entries;	/* private copies: never re-read from sh */
	uint32_t mask;
	uint32_t elem_size;
	uint32_t local;		/* this side's index: head or tail */
	bool broken;		/* the peer's index went out of range */
};

/* Bytes a ring of @entries entries of @elem_size bytes takes. */
static inline size_t ipc_ring_bytes(uint32_t entries, uint32_t elem_size)
{
	return sizeof(struct spsc_ring) + (size_t)entries * elem_size;
}

/*
 * Formats @mem (@len bytes) as an empty ring.  0, or -1 if @entries is not
 * a power of two, @elem_size is not a non-zero multiple of 8, or @len is too
 * small.
 */
int ipc_ring_format(void *mem, size_t len, uint32_t entries,
		    uint32_t elem_size);

/*
 * Attaches to a ring some side formatted, as its producer or consumer.
 * The geometry is taken from the caller (what the protocol says it must
 * be), and the shared header must agree with it.  0, or -1.
 */
int ipc_ring_attach_producer(struct ipc_ring *r, void *mem, size_t len,
			     uint32_t entries, uint32_t elem_size);
int ipc_ring_attach_consumer(struct ipc_ring *r, void *mem, size_t len,
			     uint32_t entries, uint32_t elem_size);

static inline bool ipc_ring_broken(const struct ipc_ring *r)
{
	return r->broken;
}

static inline void *ipc_ring_elem(const struct ipc_ring *r, uint32_t idx)
{
	return r->sh->data + (size_t)(idx & r->mask) * r->elem_size;
}

/* Entries the consumer has not taken yet, as the producer sees it. */
static inline uint32_t ipc_ring_used_producer(struct ipc_ring *r)
{
	uint32_t tail = __atomic_load_n(&r->sh->tail, __ATOMIC_ACQUIRE);
	uint32_t used = r->local - tail;

	if (used > r->entries) {
		r->broken = true;
		return r->entries;	/* looks full: nothing is overwritten */
	}
	return used;
}

/* Entries ready to consume. */
static inline uint32_t ipc_ring_count(struct ipc_ring *r)
{
	uint32_t head = __atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE);
	uint32_t n = head - r->local;

	if (n > r->entries) {
		r->broken = true;
		return 0;		/* looks empty: nothing bogus is read */
	}
	return n;
}

/* Copies up to @n entries in; returns how many fit. */
static inline uint32_t ipc_ring_produce(struct ipc_ring *r, const void *elems,
					uint32_t n)
{
	uint32_t space = r->entries - ipc_ring_used_producer(r);
	const uint8_t *src = elems;

	if (n > space)
		n = space;
	for (uint32_t i = 0; i < n; i++)
		memcpy(ipc_ring_elem(r, r->local + i), src + (size_t)i * r->elem_size,
		       r->elem_size);
	if (n) {
		r->local += n;
		__atomic_store_n(&r->sh->head, r->local, __ATOMIC_RELEASE);
	}
	return n;
}

/*
 * Copies up to @max entries out without freeing them; ipc_ring_release()
 * frees them once they are dealt with.  A consumer that dies in between
 * leaves them to its successor (at least once, never lost).
 */
static inline uint32_t ipc_ring_peek(struct ipc_ring *r, void *elems,
				     uint32_t max)
{
	uint32_t n = ipc_ring_count(r);
	uint8_t *dst = elems;

	if (n > max)
		n = max;
	for (uint32_t i = 0; i < n; i++)
		memcpy(dst + (size_t)i * r->elem_size, ipc_ring_elem(r, r->local + i),
		       r->elem_size);
	return n;
}

/* Frees @n entries that ipc_ring_peek() returned. */
static inline void ipc_ring_release(struct ipc_ring *r, uint32_t n)
{
	if (!n)
		return;
	r->local += n;
	__atomic_store_n(&r->sh->tail, r->local, __ATOMIC_RELEASE);
}

/* Copies up to @max entries out and frees their space; returns how many. */
static inline uint32_t ipc_ring_consume(struct ipc_ring *r, void *elems,
					uint32_t max)
{
	uint32_t n = ipc_ring_peek(r, elems, max);

	ipc_ring_release(r, n);
	return n;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory layout of a single-producer single-consumer ring, as
 * DPDK's rte_ring and memif lay theirs out: a header whose producer and
 * consumer indices sit on cache lines of their own, then a power-of-two
 * array of fixed-size entries.  Indices run free (uint32_t, wrapping) and
 * are masked on use.  The operations are in ipc/ring.h.
 *
 *   0     head          written by the producer only (entries produced)
 *   64    tail          written by the consumer only (entries consumed)
 *   128   entries, elem_size, magic: written once, by whoever formats it
 *   192   the entries
 */
#ifndef PROTO_SPSC_RING_H
#define PROTO_SPSC_RING_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#define SPSC_RING_MAGIC 0x474e5253u	/* "SRNG" */

struct spsc_ring {
	_Alignas(64) uint32_t head;
	_Alignas(64) uint32_t tail;
	_Alignas(64) uint32_t entries;	/* a power of two */
	uint32_t elem_size;		/* bytes, a multiple of 8 */
	uint32_t magic;			/* SPSC_RING_MAGIC once formatted */
	_Alignas(64) uint8_t data[];
};

static_assert(offsetof(struct spsc_ring, tail) == 64, "spsc_ring.tail");
static_assert(offsetof(struct spsc_ring, entries) == 128, "spsc_ring.entries");
static_assert(offsetof(struct spsc_ring, data) == 192, "spsc_ring.data");
static_assert(sizeof(struct spsc_ring) == 192, "spsc_ring");

#endif

// SPDX-License-Identifier: MIT
#include "ring.h"

static bool geometry_ok(size_t len, uint32_t entries, uint32_t elem_size)
{
	if (!entries || (entries & (entries - 1)) || entries > (1u << 24))
		return false;
	if (!elem_size || elem_size % 8 || elem_size > 4096)
		return false;
	return len >= ipc_ring_bytes(entries, elem_size);
}

int ipc_ring_format(void *mem, size_t len, uint32_t entries,
		    uint32_t elem_size)
{
	struct spsc_ring *sh = mem;

	if (!mem || !geometry_ok(len, entries, elem_size))
		return -1;
	memset(sh, 0, sizeof(*sh));
	sh->entries = entries;
	sh->elem_size = elem_size;
	__atomic_store_n(&sh->magic, SPSC_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

static int attach(struct ipc_ring *r, void *mem, size_t len, uint32_t entries,
		  uint32_t elem_size)
{
	struct spsc_ring *sh = mem;

	memset(r, 0, sizeof(*r));
	if (!mem || !geometry_ok(len, entries, elem_size))
		return -1;
	if (__atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) != SPSC_RING_MAGIC ||
	    sh->entries != entries || sh->elem_size != elem_size)
		return -1;
	r->sh = sh;
	r->entries = entries;
	r->mask = entries - 1;
	r->elem_size = elem_size;
	return 0;
}

/* A side that attaches takes up where the previous owner of its index
 * left off (a device restarted under a live core), if that is sane. */
int ipc_ring_attach_producer(struct ipc_ring *r, void *mem, size_t len,
			     uint32_t entries, uint32_t elem_size)
{
	if (attach(r, mem, len, entries, elem_size))
		return -1;
	r->local = __atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE);
	if (r->local - __atomic_load_n(&r->sh->tail, __ATOMIC_ACQUIRE) > entries)
		return -1;
	return 0;
}

int ipc_ring_attach_consumer(struct ipc_ring *r, void *mem, size_t len,
			     uint32_t entries, uint32_t elem_size)
{
	if (attach(r, mem, len, entries, elem_size))
		return -1;
	r->local = __atomic_load_n(&r->sh->tail, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE) - r->local > entries)
		return -1;
	return 0;
}

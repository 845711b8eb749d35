/* SPDX-License-Identifier: MIT */
/*
 * Port I/O bus: a sorted array of non-overlapping port ranges, searched
 * with a binary search under a read lock.
 *
 * Locking: pio_dispatch() copies the handler (fn, opaque, base) out under
 * the read lock and calls it after dropping the lock.  That is what lets a
 * handler (un)register ranges itself: a PCI config-space write that moves an
 * I/O BAR arrives through pio_dispatch() and re-registers the BAR from
 * inside the 0xCFC handler.  The price is that a handler may still be
 * running on another vCPU after pio_unregister() returned, so the owner of
 * @opaque keeps it alive until no vCPU can be inside the handler (devices
 * live as long as the VM, or the owner quiesces the vCPUs first).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "pio.h"

/* x86 I/O space is 64 KiB: ports 0x0000-0xFFFF. */
#define PIO_SPACE_SIZE 0x10000u

struct pio_range {
	uint32_t base;
	uint32_t len;
	pio_fn *fn;
	void *opaque;
};

struct pio_bus {
	pthread_rwlock_t lock;
	struct pio_range *ranges;	/* sorted by base, never overlapping */
	size_t nr;
	size_t cap;
};

struct pio_bus *pio_bus_new(void)
{
	struct pio_bus *bus = calloc(1, sizeof(*bus));
	pthread_rwlockattr_t attr;
	int err;

	if (!bus)
		return NULL;
	/*
	 * vCPUs dispatching port I/O back to back must not starve a BAR
	 * move; writer preference is safe because nothing here takes the
	 * read lock recursively.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = pthread_rwlock_init(&bus->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (err) {
		free(bus);
		return NULL;
	}
	return bus;
}

void pio_bus_free(struct pio_bus *bus)
{
	if (!bus)
		return;
	pthread_rwlock_destroy(&bus->lock);
	free(bus->ranges);
	free(bus);
}

/* Index of the first range whose base is greater than @port. */
static size_t pio_upper_bound(const struct pio_bus *bus, uint32_t port)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The range containing @port, or NULL. */
static const struct pio_range *pio_find(const struct pio_bus *bus,
					uint32_t port)
{
	size_t i = pio_upper_bound(bus, port);
	const struct pio_range *r;

	if (i == 0)
		return NULL;
	r = &bus->ranges[i - 1];
	return port - r->base < r->len ? r : NULL;
}

static int pio_grow(struct pio_bus *bus)
{
	size_t cap = bus->cap ? bus->cap * 2 : 16;
	struct pio_range *r;

	if (bus->nr < bus->cap)
		return 0;
	r = reallocarray(bus->ranges, cap, sizeof(*r));
	if (!r)
		return -ENOMEM;
	bus->ranges = r;
	bus->cap = cap;
	return 0;
}

int pio_register(struct pio_bus *bus, uint16_t base, uint32_t len, pio_fn *fn,
		 void *opaque)
{
	size_t i;
	int ret;

	if (!fn || len == 0 || len > PIO_SPACE_SIZE - base)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = pio_upper_bound(bus, base);
	/* The range before must end at or below base, the one after start
	 * at or above base + len. */
	if (i > 0 && bus->ranges[i - 1].base + bus->ranges[i - 1].len > base) {
		ret = -EBUSY;
		goto out;
	}
	if (i < bus->nr && bus->ranges[i].base < (uint32_t)base + len) {
		ret = -EBUSY;
		goto out;
	}
	ret = pio_grow(bus);
	if (ret)
		goto out;
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct pio_range){
		.base = base, .len = len, .fn = fn, .opaque = opaque,
	};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int pio_unregister(struct pio_bus *bus, uint16_t base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = pio_upper_bound(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base) {
		i--;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool pio_dispatch(struct pio_bus *bus, struct vcpu *vcpu, uint16_t port,
		  uint8_t *data, unsigned len, bool is_write)
{
	const struct pio_range *r;
	struct pio_range hit;
	bool claimed = false;

	if (len != 1 && len != 2 && len != 4)
		return false;

	pthread_rwlock_rdlock(&bus->lock);
	r = pio_find(bus, port);
	/* An access running past the end of its range is nobody's. */
	if (r && (uint32_t)port + len <= r->base + r->len) {
		hit = *r;
		claimed = true;
	}
	pthread_rwlock_unlock(&bus->lock);

	if (claimed)
		hit.fn(vcpu, (uint16_t)(port - hit.base), data, len, is_write,
		       hit.opaque);
	return claimed;
}

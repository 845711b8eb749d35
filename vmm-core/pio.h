/* SPDX-License-Identifier: MIT */
/*
 * Port I/O bus: the one way a device, in-core or out-of-process, claims x86
 * I/O ports.  One handler signature for every device (as kvmtool does), so
 * the vCPU loop never knows a device's insides.
 */
#ifndef VMM_PIO_H
#define VMM_PIO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct vcpu;

/*
 * @offset is relative to the base the range was registered at, so a device
 * whose BAR the guest moves needs no change.  @data holds @len (1, 2 or 4)
 * little-endian bytes: filled by the handler on a read, by the guest on a
 * write.  @vcpu is NULL when the access does not come from a vCPU (tests).
 *
 * Handlers run without the bus lock and may (un)register ranges (a PCI BAR
 * move does, from a config write); a handler may still be running on
 * another thread after pio_unregister() returns, so its owner keeps
 * @opaque alive as long as the VM.
 */
typedef void pio_fn(struct vcpu *vcpu, uint16_t offset, uint8_t *data,
		    unsigned len, bool is_write, void *opaque);

struct pio_bus;

struct pio_bus *pio_bus_new(void);
void pio_bus_free(struct pio_bus *bus);

/* 0, or -EINVAL (empty or wrapping range) / -EBUSY (overlap) / -ENOMEM. */
int pio_register(struct pio_bus *bus, uint16_t base, uint32_t len, pio_fn *fn,
		 void *opaque);
/* 0, or -ENOENT if nothing is registered at exactly @base. */
int pio_unregister(struct pio_bus *bus, uint16_t base);

/*
 * Routes one access.  Returns false when no device claims the port; the
 * caller then answers a read with all-ones (nothing drives the bus) and drops
 * a write.  An access straddling the end of a range is not claimed.
 */
bool pio_dispatch(struct pio_bus *bus, struct vcpu *vcpu, uint16_t port,
		  uint8_t *data, unsigned len, bool is_write);

static inline uint32_t pio_get(const uint8_t *data, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, data, len > 4 ? 4 : len);
	return v;
}

static inline void pio_put(uint8_t *data, unsigned len, uint32_t v)
{
	memcpy(data, &v, len > 4 ? 4 : len);
}

#endif

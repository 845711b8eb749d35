/* SPDX-License-Identifier: MIT */
/*
 * The core's side of the device protocol (proto/PROTOCOL.md): one
 * listening socket per --device-sock, a PCI function built from the
 * device's HELLO, its I/O BARs forwarded over the shared-memory I/O region
 * (posted writes on the vCPU's ring, everything else through the vCPU's
 * slot), INTx as a KVM irqfd with a resample fd, and a monitor thread that
 * notices a dead device, lets a restarted one re-attach, and turns a device
 * gone for longer than --device-timeout into a removed function.
 */
#ifndef VMM_DEVPROXY_H
#define VMM_DEVPROXY_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct devproxy;

struct devproxy_stats {
	uint64_t reads;		/* through the slot */
	uint64_t sync_writes;	/* through the slot */
	uint64_t posted_writes;	/* through the ring */
	uint64_t kicks;		/* eventfd writes to the device */
	uint64_t wait_slices;	/* 50 ms waits a vCPU sat out unanswered */
	uint64_t absent;	/* accesses answered as a removed function */
	uint64_t shadow_reads;	/* answered from the device's shadow */
	uint64_t shadow_tracked;/* of those, with index or quiet writes queued */
	uint64_t shadow_quiet;	/* of those, with a quiet write (a kick) queued */
	uint64_t quiet_writes;	/* posted index writes, no doorbell rung */
	uint32_t generation;	/* attaches so far */
};

/*
 * Listens on every --device-sock, then waits, up to --device-wait, until
 * each device has attached (its PCI function is then on the bus, so call
 * before the MP table is written), then starts a monitor thread per device
 * (after the sandbox: no thread exists before it).  0, or -1 after printing
 * why.
 */
int devproxy_listen_all(struct vm *vm);
int devproxy_wait_all(struct vm *vm);
int devproxy_start_monitors(struct vm *vm);
/* Stops the monitors, closes everything, removes the sockets. */
void devproxy_stop_all(struct vm *vm);

/*
 * A guest access to guest-physical @gpa that no memslot backs: if it falls
 * in a decoding memory BAR of a device, forwards it (as the I/O BARs are)
 * and returns true.  @len is 1, 2, 4 or 8.
 */
struct vcpu;
bool devproxy_mmio(struct vm *vm, struct vcpu *vcpu, uint64_t gpa,
		   uint8_t *data, unsigned len, bool is_write);

/*
 * With the pump (vm->pump_on): the eventfd KVM signals at the guest's EOI
 * of the device's interrupt (-1 until the device first attached), and
 * what the pump calls then, after it forwarded the coalesced writes.
 */
int devproxy_eoi_fd(struct devproxy *d);
void devproxy_eoi(struct devproxy *d);

void devproxy_get_stats(const struct devproxy *d, struct devproxy_stats *out);

#endif

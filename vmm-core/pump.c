/* SPDX-License-Identifier: MIT */
/*
 * The coalesced ring and its pump.
 *
 * KVM queues a guest's writes to ports a device declared coalescable in a
 * ring page instead of exiting (the paper's I/O "without a world switch").
 * Nothing tells userspace: a vCPU delivers what is queued at its next exit,
 * which may never come while the guest runs on in its own memory.  So a
 * pump thread delivers them too: every --pump-us while it finds writes the
 * vCPUs left queued, its period doubling with each look that found none
 * (the vCPUs exit often enough, or the guest is idle) up to PUMP_IDLE_NS,
 * so it does not take CPU from a vCPU that drains the ring itself; and at
 * once when the guest EOIs a device's interrupt: KVM's resample eventfd comes to
 * the pump, which forwards the queued writes (the handler's acknowledge)
 * before it tells the device to look at its interrupt line again.
 *
 * Order: the ring is consumed under coalesced_lock, by the pump or a vCPU,
 * and a vCPU takes it before every exit it handles, so a vCPU's own access
 * follows every write the pump took out before it; the device drains every
 * posted ring before it serves any slot (PROTOCOL.md §5).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "devproxy.h"
#include "doorbell.h"
#include "pio.h"
#include "vm.h"

#define PUMP_IDLE_NS	1000000ull	/* the longest period: the bound */

unsigned coalesced_drain(struct vm *vm, struct vcpu *as)
{
	struct kvm_coalesced_mmio_ring *r = vm->coalesced;
	unsigned n = 0;

	if (!r)
		return 0;
	/* Without the pump, only vCPUs consume and each drains before its
	 * own access: an empty ring needs no lock.  With it, the pump may
	 * hold entries it took out but has not posted yet. */
	if (!vm->pump_on && __atomic_load_n(&r->first, __ATOMIC_ACQUIRE) ==
			    __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&vm->coalesced_lock);
	for (;;) {
		uint32_t first = r->first;
		struct kvm_coalesced_mmio e;

		if (first == __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
			break;
		if (first >= vm->coalesced_max) {	/* never, unless KVM broke */
			r->first = 0;
			continue;
		}
		e = r->coalesced_mmio[first];
		__atomic_store_n(&r->first, (first + 1) % vm->coalesced_max,
				 __ATOMIC_RELEASE);
		if (e.len > sizeof(e.data))
			continue;
		n++;
		if (e.pio)
			pio_dispatch(vm->pio, as, (uint16_t)e.phys_addr, e.data,
				     e.len, true);
		else
			devproxy_mmio(vm, as, e.phys_addr, e.data, e.len, true);
	}
	pthread_mutex_unlock(&vm->coalesced_lock);
	__atomic_add_fetch(&as->coalesced_writes, n, __ATOMIC_RELAXED);
	return n;
}

static void *pump_thread(void *arg)
{
	struct vm *vm = arg;
	uint64_t floor = (uint64_t)vm->opt->pump_us * 1000u, period = floor;

	pthread_setname_np(pthread_self(), "pump");
	if (vm->opt->pump_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(vm->opt->pump_cpu, &set);
		/* Itself only (pid 0): all the sandbox lets it pin. */
		if (sched_setaffinity(0, sizeof(set), &set)) {
			vm_request_end(vm, VM_END_ERROR, 0,
				       "pump: --pump-cpu %d: %s", vm->opt->pump_cpu,
				       strerror(errno));
			return NULL;
		}
	}
	for (;;) {
		struct pollfd p[1 + VMM_MAX_DEVICES];
		struct devproxy *who[1 + VMM_MAX_DEVICES];
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)period };
		unsigned n = 1;
		int rc;

		p[0] = (struct pollfd){ .fd = vm->pump_stop_fd, .events = POLLIN };
		for (unsigned i = 0; i < vm->nr_devices; i++) {
			int fd = devproxy_eoi_fd(vm->devices[i]);

			if (fd >= 0) {
				who[n] = vm->devices[i];
				p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			}
		}
		rc = ppoll(p, n, &ts, NULL);
		if (rc < 0 && errno != EINTR) {
			vm_request_end(vm, VM_END_ERROR, 0, "pump: ppoll: %s",
				       strerror(errno));
			break;
		}
		if (rc > 0 && p[0].revents)
			break;
		__atomic_add_fetch(&vm->pump_runs, 1, __ATOMIC_RELAXED);
		if (coalesced_drain(vm, &vm->pump_vcpu))
			period = floor;
		else if (period < PUMP_IDLE_NS)
			period = period * 2 < PUMP_IDLE_NS ? period * 2 : PUMP_IDLE_NS;
		for (unsigned i = 1; rc > 0 && i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			__atomic_add_fetch(&vm->pump_resamples, 1, __ATOMIC_RELAXED);
			devproxy_eoi(who[i]);
		}
	}
	return NULL;
}

int pump_start(struct vm *vm)
{
	if (!vm->pump_on)
		return 0;
	vm->pump_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->pump_stop_fd < 0 ||
	    pthread_create(&vm->pump_thread, NULL, pump_thread, vm)) {
		fprintf(stderr, "vmm-core: pump thread: %s\n", strerror(errno));
		return -1;
	}
	vm->pump_started = true;
	return 0;
}

void pump_stop(struct vm *vm)
{
	if (vm->pump_started) {
		ipc_eventfd_signal(vm->pump_stop_fd);
		pthread_join(vm->pump_thread, NULL);
		vm->pump_started = false;
	}
	if (vm->pump_stop_fd >= 0)
		close(vm->pump_stop_fd);
	vm->pump_stop_fd = -1;
}

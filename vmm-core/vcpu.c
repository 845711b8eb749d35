// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "devproxy.h"
#include "fault.h"
#include "pio.h"
#include "sandbox.h"
#include "vm.h"

#define KICK_SIGNAL SIGUSR1

/* The kvm_run of the vCPU this thread runs, for the kick handler. */
static __thread struct kvm_run *this_run;

/*
 * A kick sets immediate_exit, so a kick that lands just before KVM_RUN is
 * not lost: KVM_RUN then returns EINTR at once.
 */
static void on_kick(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

int vcpu_signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_kick };

	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL)) {
		fprintf(stderr, "vmm-core: sigaction: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->started)
		pthread_kill(v->thread, KICK_SIGNAL);
}

static struct kvm_cpuid2 *supported_cpuid(int kvm)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id)
{
	struct kvm_cpuid2 *c;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0) {
		fprintf(stderr, "vmm-core: KVM_CREATE_VCPU %u: %s\n", id,
			strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		fprintf(stderr, "vmm-core: mmap kvm_run: %s\n", strerror(errno));
		return -1;
	}
	c = supported_cpuid(vm->kvm_fd);
	if (!c) {
		fprintf(stderr, "vmm-core: KVM_GET_SUPPORTED_CPUID: %s\n",
			strerror(errno));
		return -1;
	}
	cpuid_fixup(c->entries, c->nent, id, vm->ncpus, vm->opt->cpuid_clear);
	if (ioctl(v->fd, KVM_SET_CPUID2, c)) {
		fprintf(stderr, "vmm-core: KVM_SET_CPUID2: %s\n", strerror(errno));
		free(c);
		return -1;
	}
	free(c);
	return 0;
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64,
		.g = 1,
	};
}

/* The boot CPU's state at the loader's entry point. */
int vcpu_setup_boot(struct vcpu *v)
{
	const struct boot_info *bi = &v->vm->boot;
	struct kvm_sregs s;
	struct kvm_regs r = { .rflags = 2, .rip = bi->entry };

	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		goto fail;
	s.gdt.base = BOOT_GDT_GPA;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, 3, false);
	s.tr = (struct kvm_segment){ .limit = 0x67, .type = 11, .present = 1 };
	if (bi->kind == BOOT_PVH) {
		/* Flat 32-bit protected mode, paging off (PVH ABI). */
		s.cs = flat_seg(0x20, 11, false);
		s.cr0 = 0x11;		/* PE, ET */
		s.cr4 = 0;
		s.efer = 0;
		r.rbx = bi->boot_data;
	} else {
		/* Long mode on the loader's identity map (boot protocol). */
		s.cs = flat_seg(0x10, 11, true);
		s.cr0 = 0x80050033;	/* PG WP NE ET MP PE */
		s.cr3 = BOOT_PML4_GPA;
		s.cr4 = 0x20;		/* PAE */
		s.efer = 0x500;		/* LME LMA */
		r.rsi = bi->boot_data;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) || ioctl(v->fd, KVM_SET_REGS, &r))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "vmm-core: setting boot registers: %s\n", strerror(errno));
	return -1;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	v->exits_io++;
	ipc_fault("pio");
	for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size) {
		if (!pio_dispatch(v->vm->pio, v, run->io.port, p, run->io.size,
				  out) && !out)
			memset(p, 0xff, run->io.size);	/* nothing drives the bus */
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	v->exits_mmio++;
	if (run->mmio.len <= sizeof(run->mmio.data) &&
	    devproxy_mmio(v->vm, v, run->mmio.phys_addr, run->mmio.data,
			  run->mmio.len, run->mmio.is_write))
		return;
	/* Nothing claims it: reads float high, writes are dropped. */
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	if (v->vm->opt->verbose)
		fprintf(stderr, "vmm-core: vCPU %u: unclaimed MMIO %s at 0x%llx\n",
			v->id, run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr);
}

static void answer_halt_check(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs r;
	bool off = false;

	if (!ioctl(v->fd, KVM_GET_MP_STATE, &mp)) {
		if (mp.mp_state == KVM_MP_STATE_HALTED)
			off = !ioctl(v->fd, KVM_GET_REGS, &r) &&
			      !(r.rflags & 0x200);
		/* An AP never started waits for a SIPI nobody will send. */
		else if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
			 mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
			off = true;
	}
	atomic_store(&v->halted_irqs_off, off);
	atomic_store(&v->check_halt, false);
}

static void internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_regs r = { 0 };
	struct kvm_sregs s = { 0 };

	ioctl(v->fd, KVM_GET_REGS, &r);
	ioctl(v->fd, KVM_GET_SREGS, &s);
	vm_request_end(v->vm, VM_END_ERROR, 0,
		       "vCPU %u: KVM internal error (suberror %u%s) at rip 0x%llx cs 0x%x cr0 0x%llx: the host's KVM could not run this guest code",
		       v->id, run->internal.suberror,
		       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			       ", emulation failure" : "",
		       r.rip, s.cs.selector, s.cr0);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	/* What the guest queued before this exit reaches the device first,
	 * in program order. */
	coalesced_drain(v->vm, v);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_request_end(v->vm, VM_END_TRIPLE_FAULT, 0,
			       "vCPU %u triple fault", v->id);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_request_end(v->vm, VM_END_RESET, 0,
			       "vCPU %u system event %u (reset or power off)",
			       v->id, run->system_event.type);
		return false;
	case KVM_EXIT_HLT:
		vm_request_end(v->vm, VM_END_HALTED, 0, "vCPU %u halted", v->id);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		internal_error(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_end(v->vm, VM_END_ERROR, 0,
			       "vCPU %u: VM entry failed (hardware reason 0x%llx)",
			       v->id, (unsigned long long)
			       run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		v->exits_other++;
		vm_request_end(v->vm, VM_END_ERROR, 0,
			       "vCPU %u: unexpected KVM exit %u", v->id,
			       run->exit_reason);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16], err[160];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	this_run = v->run;
	if (v->vm->sandbox &&
	    sandbox_enter_vcpu(v->vm->sandbox, err, sizeof(err))) {
		vm_request_end(v->vm, VM_END_ERROR, 0, "vCPU %u: --sandbox: %s",
			       v->id, err);
		return NULL;
	}
	while (!vm_ending(v->vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				vm_request_end(v->vm, VM_END_ERROR, 0,
					       "vCPU %u: KVM_RUN: %s", v->id,
					       strerror(errno));
				break;
			}
			v->run->immediate_exit = 0;
			if (atomic_load(&v->check_halt))
				answer_halt_check(v);
			continue;
		}
		if (!handle_exit(v))
			break;
	}
	this_run = NULL;
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	if (pthread_create(&v->thread, NULL, vcpu_thread, v))
		return -1;
	v->started = true;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->run_size);
	if (v->fd > 0)
		close(v->fd);
}

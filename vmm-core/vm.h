/* SPDX-License-Identifier: MIT */
/*
 * The VM: KVM handles, guest RAM in a memfd, the buses, the vCPUs, and how
 * the run ends.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "loader.h"
#include "options.h"

struct kvm_run;
struct kvm_coalesced_mmio_ring;
struct pio_bus;
struct pci_bus;
struct serial;

#define IOAPIC_GPA	0xfec00000u
#define LAPIC_GPA	0xfee00000u
#define ISA_IRQ_COM1	4

enum vm_end {
	VM_RUNNING,
	VM_END_RESET,		/* i8042 or KVM system event: clean */
	VM_END_TRIPLE_FAULT,	/* shutdown exit: clean, as QEMU -no-reboot */
	VM_END_HALTED,		/* every vCPU halted with interrupts off */
	VM_END_EXIT_DEVICE,	/* isa-debug-exit: status (v << 1) | 1 */
	VM_END_ERROR,		/* KVM or the VMM failed: status 1 */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;		
	atomic_bool check_halt;	/* the monitor asks: are you halted? */
	atomic_bool halted_irqs_off;
	uint64_t exits_io, exits_mmio, exits_other;
	uint64_t coalesced_writes;	/* delivered from the coalesced ring */
	bool is_pump;		/* the pump's stand-in, not a vCPU thread */
};

struct sandbox;

struct vm {
	const struct vmm_options *opt;
	const struct sandbox *sandbox;	/* vCPU threads add their filter */
	const struct boot_images *images;
	int kvm_fd, vm_fd;
	int run_size;
	int mem_fd;
	uint8_t *ram;		/* one mapping of the memfd, low then high */
	uint64_t ram_size;
	struct mem_layout layout;
	struct guest_mem gm;
	struct boot_info boot;
	struct pio_bus *pio;
	struct pci_bus *pci;
	struct serial *serial;
	struct testdev *testdev;
	struct devproxy **devices;	/* one per --device-sock */
	unsigned nr_devices;
	/* KVM's coalesced MMIO/PIO ring (NULL: --coalesced-pio off). */
	struct kvm_coalesced_mmio_ring *coalesced;
	unsigned coalesced_max;
	pthread_mutex_t coalesced_lock;
	/*
	 * The pump (pump.c) forwards coalesced writes while the vCPUs run in
	 * the guest; it posts them as vCPU 0 (pump_vcpu), so vCPU 0's posted
	 * rings have two producers, which take posted_lock.
	 */
	bool pump_on;
	struct vcpu pump_vcpu;
	pthread_mutex_t posted_lock;
	pthread_t pump_thread;
	bool pump_started;
	int pump_stop_fd;
	uint64_t pump_runs, pump_resamples;	/* relaxed atomics */
	int serial_out_fd;
	int console_stop_wfd;	/* tells the console input thread to stop */
	unsigned ncpus;
	struct vcpu *vcpus;

	pthread_mutex_t end_lock;
	pthread_cond_t end_cond;
	enum vm_end end;
	uint32_t exit_value;
	char end_msg[256];
};

/* Opens KVM and builds the machine; 0, or -1 after printing why. */
int vm_create(struct vm *vm, const struct vmm_options *opt,
	      const struct boot_images *images);
/* Loads the kernel, writes the MP table; 0 or -1 after printing why. */
int vm_load(struct vm *vm);
/* Starts every vCPU thread and waits for the end; returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Ends the run (first caller wins) and kicks every vCPU out of KVM_RUN. */
void vm_request_end(struct vm *vm, enum vm_end why, uint32_t value,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool vm_ending(struct vm *vm);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *v, unsigned id);
int vcpu_setup_boot(struct vcpu *v);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
int vcpu_signals_init(void);

/* pump.c */
/* Delivers what KVM queued in the coalesced ring, as @as; how many. */
unsigned coalesced_drain(struct vm *vm, struct vcpu *as);
/* Starts the pump thread if the VM has a coalesced ring; 0 or -1. */
int pump_start(struct vm *vm);
void pump_stop(struct vm *vm);

/* platform.c: the small in-core devices of a PC. */
int platform_init(struct vm *vm);
/* Starts the console input thread (after the sandbox: it inherits it). */
int platform_start(struct vm *vm);
void platform_fini(struct vm *vm);
/* Wires in-core interrupt lines to KVM_IRQ_LINE. */
void vm_set_irq(void *vm, unsigned gsi, bool level);

#endif

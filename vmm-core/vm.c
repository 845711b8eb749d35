// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "devproxy.h"
#include "mptable.h"
#include "pci.h"
#include "pio.h"
#include "serial.h"
#include "vm.h"
#include "stats.h"

#define KVM_TSS_GPA		0xfffbd000u	/* 3 pages, Intel only */
#define KVM_IDENTITY_MAP_GPA	0xfffbc000u
#define HALT_CHECK_MS		500

static int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		fprintf(stderr,
			"vmm-core: /dev/kvm does not exist: this host offers no KVM (no kvm module, or a VM without nested virtualization)\n");
	else if (errno == EACCES)
		fprintf(stderr,
			"vmm-core: /dev/kvm: permission denied (run as root or join the 'kvm' group)\n");
	else
		fprintf(stderr, "vmm-core: /dev/kvm: %s\n", strerror(errno));
	return -1;
}

static int check_caps(int kvm)
{
	static const struct { int cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_IRQ_ROUTING, "GSI routing" },
		{ KVM_CAP_IRQFD, "irqfd" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate_exit" },
		{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
	};

	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "vmm-core: KVM API version is not %d\n",
			KVM_API_VERSION);
		return -1;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(kvm, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			fprintf(stderr, "vmm-core: this KVM lacks %s\n",
				need[i].name);
			return -1;
		}
	}
	return 0;
}

static int setup_memory(struct vm *vm)
{
	uint64_t ram = vm->opt->mem_mib << 20;
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	struct kvm_userspace_memory_region slot = { 0 };

	if (pages > 0 && psz > 0 && ram > (uint64_t)pages * (uint64_t)psz) {
		fprintf(stderr,
			"vmm-core: --memory %llu MiB is more than this host's %llu MiB of RAM\n",
			(unsigned long long)vm->opt->mem_mib,
			(unsigned long long)((uint64_t)pages * psz >> 20));
		return -1;
	}
	/* A memfd, so device processes can map the same RAM; sealed so its
	 * size cannot change under them. */
	vm->mem_fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (vm->mem_fd < 0 || ftruncate(vm->mem_fd, (off_t)ram) ||
	    fcntl(vm->mem_fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		fprintf(stderr, "vmm-core: guest RAM memfd: %s\n", strerror(errno));
		return -1;
	}
	vm->ram = mmap(NULL, ram, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, vm->mem_fd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		fprintf(stderr, "vmm-core: mapping %llu MiB of guest RAM: %s\n",
			(unsigned long long)vm->opt->mem_mib, strerror(errno));
		return -1;
	}
	vm->ram_size = ram;
	madvise(vm->ram, ram, MADV_MERGEABLE);
	mem_layout_init(&vm->layout, ram);
	guest_mem_init(&vm->gm);
	guest_mem_add(&vm->gm, 0, vm->layout.low_size, vm->ram, vm->mem_fd, 0);
	slot.memory_size = vm->layout.low_size;
	slot.userspace_addr = (uintptr_t)vm->ram;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
		goto slot_err;
	if (vm->layout.high_size) {
		guest_mem_add(&vm->gm, HIGH_RAM_START, vm->layout.high_size,
			      vm->ram + vm->layout.low_size, vm->mem_fd,
			      vm->layout.low_size);
		slot.slot = 1;
		slot.guest_phys_addr = HIGH_RAM_START;
		slot.memory_size = vm->layout.high_size;
		slot.userspace_addr = (uintptr_t)(vm->ram + vm->layout.low_size);
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot))
			goto slot_err;
	}
	return 0;
slot_err:
	fprintf(stderr, "vmm-core: KVM_SET_USER_MEMORY_REGION: %s\n",
		strerror(errno));
	return -1;
}

/*
 * GSI routing as on a PC with an IOAPIC (and as QEMU sets it up): ISA IRQs
 * reach both 8259s and the IOAPIC, except that IRQ0 (the PIT) is wired to
 * IOAPIC pin 2 -- what the MP table's override tells the guest.  GSIs 16-23
 * are the IOAPIC pins PCI INTx lines use.
 */
static int setup_irq_routing(struct vm *vm)
{
	/* kvm_irq_routing ends in a flexible array: the entries follow it. */
	union {
		struct kvm_irq_routing r;
		uint8_t bytes[sizeof(struct kvm_irq_routing) +
			      40 * sizeof(struct kvm_irq_routing_entry)];
	} rt = { 0 };
	struct kvm_irq_routing_entry *e = rt.r.entries;
	unsigned n = 0;

	for (unsigned i = 0; i < 16; i++) {
		if (i == 2)
			continue;	/* the cascade */
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
						    KVM_IRQCHIP_PIC_SLAVE;
		e[n].u.irqchip.pin = i & 7;
		n++;
	}
	for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++) {
		if (i == 2)
			continue;
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n].u.irqchip.pin = i ? i : 2;
		n++;
	}
	rt.r.nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt)) {
		fprintf(stderr, "vmm-core: KVM_SET_GSI_ROUTING: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA) ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR,
		  &(uint64_t){ KVM_IDENTITY_MAP_GPA })) {
		fprintf(stderr, "vmm-core: KVM TSS/identity map: %s\n",
			strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0)) {
		fprintf(stderr, "vmm-core: KVM_CREATE_IRQCHIP: %s\n",
			strerror(errno));
		return -1;
	}
	if (setup_irq_routing(vm))
		return -1;
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit)) {
		fprintf(stderr, "vmm-core: KVM_CREATE_PIT2: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

void vm_set_irq(void *opaque, unsigned gsi, bool level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq))
		fprintf(stderr, "vmm-core: KVM_IRQ_LINE %u: %s\n", gsi,
			strerror(errno));
}

/*
 * The coalesced ring is a page of every vCPU's mapping; devices register
 * their zones in it (devproxy.c).  Without KVM_CAP_COALESCED_PIO, or with
 * --coalesced-pio off, those writes exit as any other.
 */
static int setup_coalesced(struct vm *vm)
{
	int page = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	long psz = sysconf(_SC_PAGESIZE);

	if (!vm->opt->coalesced_pio || page <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return 0;
	if ((long)(page + 1) * psz > vm->run_size) {
		fprintf(stderr, "vmm-core: KVM's coalesced ring lies outside the vCPU mapping\n");
		return -1;
	}
	vm->coalesced = (void *)((uint8_t *)vm->vcpus[0].run + (size_t)page * psz);
	vm->coalesced_max = (unsigned)((psz - sizeof(struct kvm_coalesced_mmio_ring)) /
				       sizeof(struct kvm_coalesced_mmio));
	/* Only devices register zones: without one the ring stays empty. */
	vm->pump_on = vm->opt->nr_devices > 0;
	return 0;
}

int vm_create(struct vm *vm, const struct vmm_options *opt,
	      const struct boot_images *images)
{
	int max;

	memset(vm, 0, sizeof(*vm));
	vm->opt = opt;
	vm->images = images;
	vm->kvm_fd = vm->vm_fd = vm->mem_fd = vm->serial_out_fd = -1;
	pthread_mutex_init(&vm->end_lock, NULL);
	pthread_cond_init(&vm->end_cond, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	pthread_mutex_init(&vm->posted_lock, NULL);
	vm->pump_stop_fd = -1;
	vm->pump_vcpu = (struct vcpu){ .vm = vm, .id = 0, .fd = -1,
				       .is_pump = true };

	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0 || check_caps(vm->kvm_fd))
		return -1;
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && opt->cpus > (unsigned)max) {
		fprintf(stderr, "vmm-core: --cpus %u: this KVM allows at most %d\n",
			opt->cpus, max);
		return -1;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0 || vm->run_size <= 0) {
		fprintf(stderr, "vmm-core: KVM_CREATE_VM: %s\n", strerror(errno));
		return -1;
	}
	if (setup_memory(vm) || setup_irqchip(vm))
		return -1;
	vm->pio = pio_bus_new();
	if (!vm->pio || platform_init(vm))
		return -1;
	vm->ncpus = opt->cpus;
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus || vcpu_signals_init())
		return -1;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_create(vm, &vm->vcpus[i], i))
			return -1;
	return setup_coalesced(vm);
}

static int write_mptable(struct vm *vm)
{
	struct pci_intx_route routes[32];
	struct mptable_config cfg = {
		.nr_cpus = vm->ncpus,
		.pci_irqs = routes,
	};
	uint8_t *mp = guest_mem_ptr(&vm->gm, MPTABLE_GPA, BIOS_END - MPTABLE_GPA);
	ssize_t n;

	cfg.nr_pci_irqs = pci_intx_routes(vm->pci, routes, 32);
	if (cfg.nr_pci_irqs > 32)
		cfg.nr_pci_irqs = 32;
	n = mp ? mptable_build(mp, BIOS_END - MPTABLE_GPA, MPTABLE_GPA, &cfg) :
		 -ENOSPC;
	if (n < 0) {
		fprintf(stderr, "vmm-core: MP table: %s\n", strerror((int)-n));
		return -1;
	}
	return 0;
}

int vm_load(struct vm *vm)
{
	char err[512];

	if (loader_load(&vm->gm, &vm->layout, vm->images, &vm->boot, err,
			sizeof(err))) {
		fprintf(stderr, "vmm-core: %s\n", err);
		return -1;
	}
	if (write_mptable(vm))
		return -1;
	if (vm->opt->verbose)
		fprintf(stderr, "vmm-core: %s kernel, entry 0x%llx, %u vCPU(s), %llu MiB\n",
			vm->boot.kind == BOOT_PVH ? "PVH" : "bzImage",
			(unsigned long long)vm->boot.entry, vm->ncpus,
			(unsigned long long)vm->opt->mem_mib);
	return vcpu_setup_boot(&vm->vcpus[0]);
}

bool vm_ending(struct vm *vm)
{
	bool r;

	pthread_mutex_lock(&vm->end_lock);
	r = vm->end != VM_RUNNING;
	pthread_mutex_unlock(&vm->end_lock);
	return r;
}

void vm_request_end(struct vm *vm, enum vm_end why, uint32_t value,
		    const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->end_lock);
	if (vm->end != VM_RUNNING) {
		pthread_mutex_unlock(&vm->end_lock);
		return;
	}
	vm->end = why;
	vm->exit_value = value;
	va_start(ap, fmt);
	vsnprintf(vm->end_msg, sizeof(vm->end_msg), fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&vm->end_cond);
	pthread_mutex_unlock(&vm->end_lock);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
}

/*
 * With an in-kernel LAPIC a halted vCPU never comes back to us, so a guest
 * that ends with "cli; hlt" would hang the VMM.  Ask every vCPU, now and
 * then, whether it is halted with interrupts off.
 */
static bool all_halted(struct vm *vm)
{
	struct timespec t0, t;

	for (unsigned i = 0; i < vm->ncpus; i++) {
		atomic_store(&vm->vcpus[i].halted_irqs_off, false);
		atomic_store(&vm->vcpus[i].check_halt, true);
		vcpu_kick(&vm->vcpus[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool pending = false;

		for (unsigned i = 0; i < vm->ncpus; i++)
			pending |= atomic_load(&vm->vcpus[i].check_halt);
		if (!pending)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > 200)
			return false;	/* someone is busy: not halted */
		usleep(1000);
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (!atomic_load(&vm->vcpus[i].halted_irqs_off))
			return false;
	return true;
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

struct exit_totals {
	uint64_t io, mmio, other, coalesced;
	uint64_t pumped, pump_runs, pump_resamples;	/* the pump's part */
};

/* Summed over the vCPUs; they may be running (each counter is read whole). */
static void exit_totals(const struct vm *vm, struct exit_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < vm->ncpus; i++) {
		const struct vcpu *c = &vm->vcpus[i];

		t->coalesced += __atomic_load_n(&c->coalesced_writes, __ATOMIC_RELAXED);
		t->io += __atomic_load_n(&c->exits_io, __ATOMIC_RELAXED);
		t->mmio += __atomic_load_n(&c->exits_mmio, __ATOMIC_RELAXED);
		t->other += __atomic_load_n(&c->exits_other, __ATOMIC_RELAXED);
	}
	t->pumped = __atomic_load_n(&vm->pump_vcpu.coalesced_writes,
				    __ATOMIC_RELAXED);
	t->coalesced += t->pumped;
	t->pump_runs = __atomic_load_n(&vm->pump_runs, __ATOMIC_RELAXED);
	t->pump_resamples = __atomic_load_n(&vm->pump_resamples,
					    __ATOMIC_RELAXED);
}

/* What the benchmarks divide by: exits to userspace, and device traffic. */
static void print_stats(struct vm *vm)
{
	struct exit_totals t;

	exit_totals(vm, &t);
	fprintf(stderr, "vmm-core: stats: exits io %llu mmio %llu other %llu coalesced-writes %llu\n",
		(unsigned long long)t.io, (unsigned long long)t.mmio,
		(unsigned long long)t.other, (unsigned long long)t.coalesced);
	fprintf(stderr, "vmm-core: stats: pump runs %llu writes %llu eois %llu\n",
		(unsigned long long)t.pump_runs, (unsigned long long)t.pumped,
		(unsigned long long)t.pump_resamples);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		struct devproxy_stats st;

		devproxy_get_stats(vm->devices[i], &st);
		fprintf(stderr, "vmm-core: stats: device %u reads %llu shadow-reads %llu sync-writes %llu posted-writes %llu kicks %llu wait-slices %llu absent %llu generation %u\n",
			i, (unsigned long long)st.reads,
			(unsigned long long)st.shadow_reads,
			(unsigned long long)st.sync_writes,
			(unsigned long long)st.posted_writes,
			(unsigned long long)st.kicks,
			(unsigned long long)st.wait_slices,
			(unsigned long long)st.absent, st.generation);
	}
}

/* The live counters (--stats-sock): what print_stats prints, by name. */
static void stats_snapshot(FILE *f, void *opaque)
{
	struct vm *vm = opaque;
	struct exit_totals t;
	char name[48];

	exit_totals(vm, &t);
	ipc_stat(f, "exits.io", t.io);
	ipc_stat(f, "exits.mmio", t.mmio);
	ipc_stat(f, "exits.other", t.other);
	ipc_stat(f, "coalesced_writes", t.coalesced);
	ipc_stat(f, "pump.runs", t.pump_runs);
	ipc_stat(f, "pump.writes", t.pumped);
	ipc_stat(f, "pump.eois", t.pump_resamples);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		static const char *const field[] = {
			"reads", "sync_writes", "posted_writes", "kicks",
			"wait_slices", "absent", "shadow_reads",
			"shadow_tracked", "quiet_writes", "shadow_quiet",
		};
		struct devproxy_stats st;
		uint64_t v[10];

		devproxy_get_stats(vm->devices[i], &st);
		v[0] = st.reads;
		v[1] = st.sync_writes;
		v[2] = st.posted_writes;
		v[3] = st.kicks;
		v[4] = st.wait_slices;
		v[5] = st.absent;
		v[6] = st.shadow_reads;
		v[7] = st.shadow_tracked;
		v[8] = st.quiet_writes;
		v[9] = st.shadow_quiet;
		for (unsigned k = 0; k < 10; k++) {
			snprintf(name, sizeof(name), "device%u.%s", i, field[k]);
			ipc_stat(f, name, v[k]);
		}
		snprintf(name, sizeof(name), "device%u.generation", i);
		ipc_stat(f, name, st.generation);
	}
}

int vm_run(struct vm *vm)
{
	struct ipc_stats *stats = NULL;
	pthread_condattr_t ca;
	char err[160];

	if (platform_start(vm))
		return 1;
	if (vm->opt->stats_sock &&
	    ipc_stats_start(vm->opt->stats_sock, "vmm-core", stats_snapshot, vm,
			    &stats, err, sizeof(err))) {
		fprintf(stderr, "vmm-core: %s\n", err);
		return 1;
	}

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_destroy(&vm->end_cond);
	pthread_cond_init(&vm->end_cond, &ca);
	pthread_condattr_destroy(&ca);

	if (pump_start(vm))
		vm_request_end(vm, VM_END_ERROR, 0, "cannot start the pump");
	for (unsigned i = 0; !vm_ending(vm) && i < vm->ncpus; i++) {
		if (vcpu_start(&vm->vcpus[i])) {
			vm_request_end(vm, VM_END_ERROR, 0,
				       "cannot start vCPU thread %u", i);
			break;
		}
	}
	pthread_mutex_lock(&vm->end_lock);
	while (vm->end == VM_RUNNING) {
		struct timespec ts;

		deadline_in(&ts, HALT_CHECK_MS);
		if (pthread_cond_timedwait(&vm->end_cond, &vm->end_lock, &ts) !=
		    ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&vm->end_lock);
		if (all_halted(vm))
			vm_request_end(vm, VM_END_HALTED, 0,
				       "every vCPU halted with interrupts disabled");
		pthread_mutex_lock(&vm->end_lock);
	}
	pthread_mutex_unlock(&vm->end_lock);
	/* Kick again: a vCPU that started while the end was being requested
	 * may have missed the first kick. */
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i].started)
			continue;
		vcpu_kick(&vm->vcpus[i]);
		pthread_join(vm->vcpus[i].thread, NULL);
	}
	pump_stop(vm);

	ipc_stats_stop(stats);
	if (vm->opt->verbose)
		print_stats(vm);
	switch (vm->end) {
	case VM_END_EXIT_DEVICE:
		if (vm->opt->verbose)
			fprintf(stderr, "vmm-core: %s\n", vm->end_msg);
		return (int)(((vm->exit_value << 1) | 1) & 0xff);
	case VM_END_ERROR:
		fprintf(stderr, "vmm-core: %s\n", vm->end_msg);
		return 1;
	default:
		fprintf(stderr, "vmm-core: guest shut down: %s\n", vm->end_msg);
		return 0;
	}
}

void vm_destroy(struct vm *vm)
{
	devproxy_stop_all(vm);	/* no vCPU runs any more: its BARs are idle */
	if (vm->vcpus)
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	platform_fini(vm);
	if (vm->pio)
		pio_bus_free(vm->pio);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->end_cond);
	pthread_mutex_destroy(&vm->end_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
	pthread_mutex_destroy(&vm->posted_lock);
}

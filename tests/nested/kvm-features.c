/*
 * kvm-features: checks inside a (nested) KVM that
 *  1. KVM_CREATE_IRQCHIP + KVM_CREATE_PIT2 work and PIT ticks reach a
 *     real-mode guest through the in-kernel 8259 PIC (IRQ0);
 *  2. an irqfd with KVM_IRQFD_FLAG_RESAMPLE on GSI 5 delivers (PIC IRQ5),
 *     and the resample fd fires after the guest's EOI;
 *  3. N vCPUs (default 2) run concurrently, each in its own thread.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (16u << 20)

extern const uint8_t g_irq[], g_irq_end[], g_irq0[], g_irq5[];
extern const uint8_t g_spin[], g_spin_end[];
__asm__(".pushsection .rodata\n.code16\n"
	"g_irq:\n"
	"cli\n xor %ax,%ax\n mov %ax,%ss\n mov $0x8000,%sp\n"
	"mov $0x11,%al\n out %al,$0x20\n"	/* ICW1 */
	"mov $0x20,%al\n out %al,$0x21\n"	/* ICW2: vectors 0x20.. */
	"mov $0x04,%al\n out %al,$0x21\n"	/* ICW3 */
	"mov $0x01,%al\n out %al,$0x21\n"	/* ICW4 */
	"mov $0xde,%al\n out %al,$0x21\n"	/* unmask IRQ0, IRQ5 */
	"mov $0xff,%al\n out %al,$0xa1\n"
	"mov $0x34,%al\n out %al,$0x43\n"	/* PIT ch0 mode 2 */
	"mov $0x9b,%al\n out %al,$0x40\n"	/* 11931: ~100 Hz */
	"mov $0x2e,%al\n out %al,$0x40\n"
	"out %al,$0x83\n"			/* ready */
	"sti\n"
	"1: hlt\n jmp 1b\n"
	"g_irq0:\n out %al,$0x91\n push %ax\n mov $0x20,%al\n out %al,$0x20\n pop %ax\n iret\n"
	"g_irq5:\n out %al,$0x90\n push %ax\n mov $0x20,%al\n out %al,$0x20\n pop %ax\n iret\n"
	"g_irq_end:\n"
	"g_spin:\n"
	"mov $20000000,%ecx\n 1: dec %ecx\n jnz 1b\n out %al,$0x84\n 2: hlt\n jmp 2b\n"
	"g_spin_end:\n"
	".code64\n.popsection\n");

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}
static void on_alarm(int sig) { (void)sig; }

static int kvm, run_size;

static int new_vm(uint8_t **mem)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		err(1, "KVM_CREATE_VM");
	*mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)*mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		err(1, "KVM_SET_USER_MEMORY_REGION");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		err(1, "KVM_CREATE_IRQCHIP");
	return vm;
}

static int new_vcpu(int vm, int id, struct kvm_run **run, uint16_t ip)
{
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, id);
	if (vcpu < 0)
		err(1, "KVM_CREATE_VCPU %d", id);
	*run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (*run == MAP_FAILED)
		err(1, "mmap run");
	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		err(1, "KVM_GET_SREGS");
	s.cs.selector = 0;
	s.cs.base = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		err(1, "KVM_SET_SREGS");
	struct kvm_regs r = { .rip = ip, .rflags = 2, .rsp = 0x8000 - id * 0x100 };
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		err(1, "KVM_SET_REGS");
	if (id) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
		if (ioctl(vcpu, KVM_SET_MP_STATE, &mp) < 0)
			err(1, "KVM_SET_MP_STATE");
	}
	return vcpu;
}

static int efd;
static void *kicker(void *arg)
{
	(void)arg;
	usleep(50000);
	uint64_t one = 1;
	if (write(efd, &one, 8) != 8)
		warn("eventfd write");
	return NULL;
}

static int test_irq(void)
{
	uint8_t *mem;
	int vm = new_vm(&mem);
	struct kvm_pit_config pit = { .flags = 0 };
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
		warn("KVM_CREATE_PIT2");
		return 1;
	}
	printf("KVM_CREATE_PIT2: ok\n");
	efd = eventfd(0, EFD_CLOEXEC);
	int rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct kvm_irqfd irqfd = { .fd = efd, .gsi = 5, .flags = KVM_IRQFD_FLAG_RESAMPLE,
				   .resamplefd = rfd };
	if (ioctl(vm, KVM_IRQFD, &irqfd) < 0) {
		warn("KVM_IRQFD resample");
		return 1;
	}
	memcpy(mem + 0x1000, g_irq, g_irq_end - g_irq);
	uint16_t *ivt = (uint16_t *)mem;
	ivt[0x20 * 2] = 0x1000 + (g_irq0 - g_irq);
	ivt[0x20 * 2 + 1] = 0;
	ivt[0x25 * 2] = 0x1000 + (g_irq5 - g_irq);
	ivt[0x25 * 2 + 1] = 0;
	struct kvm_run *run;
	int vcpu = new_vcpu(vm, 0, &run, 0x1000);

	int ticks = 0, irq5 = 0, resampled = 0, kicks = 0;
	double t0 = now(), t_ready = 0, t_first = 0, t_tick5 = 0;
	pthread_t th;
	signal(SIGALRM, on_alarm);
	alarm(20);
	int rc = 1;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR) {
				printf("irq test: timed out (ticks %d, irq5 %d, resampled %d)\n",
				       ticks, irq5, resampled);
				break;
			}
			err(1, "KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			printf("irq test: unexpected exit %u\n", run->exit_reason);
			break;
		}
		switch (run->io.port) {
		case 0x83:
			t_ready = now();
			pthread_create(&th, NULL, kicker, NULL);
			kicks = 1;
			break;
		case 0x91:
			if (++ticks == 1)
				t_first = now();
			if (ticks == 6)
				t_tick5 = now();
			break;
		case 0x90:
			irq5++;
			break;
		}
		uint64_t v;
		if (read(rfd, &v, 8) == 8) {
			resampled++;
			if (kicks == 1) {
				pthread_join(th, NULL);
				pthread_create(&th, NULL, kicker, NULL); /* re-assert once */
				kicks = 2;
			}
		}
		if (ticks >= 6 && irq5 >= 2 && resampled >= 2) {
			rc = 0;
			break;
		}
	}
	alarm(0);
	if (kicks)
		pthread_join(th, NULL);
	if (!rc)
		printf("irq test: ok: PIT ticks %d (setup %.1f ms, first tick after %.1f ms, "
		       "5 ticks in %.1f ms, expect 50), irqfd-resample irqs %d, resamples %d\n",
		       ticks, (t_ready - t0) * 1e3, (t_first - t_ready) * 1e3,
		       (t_tick5 - t_first) * 1e3, irq5, resampled);
	close(vcpu);
	close(vm);
	return rc;
}

struct spin_arg {
	int vcpu;
	struct kvm_run *run;
	double t;
	int ok;
};
static void *spin_thread(void *p)
{
	struct spin_arg *a = p;
	double t0 = now();
	for (;;) {
		if (ioctl(a->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			warn("KVM_RUN");
			return NULL;
		}
		if (a->run->exit_reason == KVM_EXIT_IO && a->run->io.port == 0x84) {
			a->t = now() - t0;
			a->ok = 1;
			return NULL;
		}
		warnx("spin: unexpected exit %u", a->run->exit_reason);
		return NULL;
	}
}

static int test_smp(int n)
{
	uint8_t *mem;
	int vm = new_vm(&mem);
	memcpy(mem + 0x2000, g_spin, g_spin_end - g_spin);
	struct spin_arg a[64];
	pthread_t th[64];
	double t0 = now();
	for (int i = 0; i < n; i++)
		a[i].vcpu = new_vcpu(vm, i, &a[i].run, 0x2000), a[i].ok = 0;
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, spin_thread, &a[i]);
	int ok = 1;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		ok &= a[i].ok;
	}
	printf("smp test: %d vCPUs %s in %.2f s wall:", n, ok ? "ok" : "FAILED", now() - t0);
	for (int i = 0; i < n; i++)
		printf(" vcpu%d %.2f s", i, a[i].t);
	printf("\n");
	close(vm);
	return !ok;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		err(1, "/dev/kvm");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	printf("caps: irqchip %d pit2 %d irqfd %d resample %d ioeventfd %d coalesced-pio %d "
	       "msi %d max-vcpus %d\n",
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_PIT2),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
	int rc = test_irq();
	rc |= test_smp(1);
	rc |= test_smp(n);
	return rc;
}

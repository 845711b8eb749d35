/* SPDX-License-Identifier: MIT */
/*
 * Layout and CPU helpers shared by the boot assembly and the C library.
 * Everything is identity mapped, so a physical address is a pointer.
 */
#ifndef GUEST_ARCH_H
#define GUEST_ARCH_H

/* Image and fixed addresses (see guest.ld and README.md). */
#define IMAGE_BASE		0x100000
#define AP_TRAMPOLINE		0x8000	/* SIPI vector 0x08 starts APs here */
#define LAPIC_DEFAULT_BASE	0xfee00000
#define IOAPIC_DEFAULT_BASE	0xfec00000

/* GDT selectors, in the order boot/head.S lays the GDT out. */
#define SEL_KCODE64		0x08
#define SEL_KDATA		0x10
#define SEL_KCODE32		0x18
#define SEL_UDATA		0x23	/* index 4, RPL 3 */
#define SEL_UCODE64		0x2b	/* index 5, RPL 3 */
#define SEL_TSS			0x30
#define GDT_SIZE		0x40	/* through the 16-byte TSS descriptor */

/* 64-bit TSS: RSP0 at 4, IST1 at 0x24, I/O map base at 0x66. */
#define TSS_RSP0		0x04
#define TSS_IST1		0x24
#define TSS_IOPB_OFF		0x66
#define TSS_IOPB		0x68
#define TSS_IOPB_BYTES		8192	/* one bit per port, 65536 ports */
#define TSS_SIZE		(TSS_IOPB + TSS_IOPB_BYTES + 1)	/* + 0xff terminator */

/* Vectors. 0x00-0x1f exceptions; every other vector only counts. */
#define VEC_FIRST_IRQ		0x20
#define VEC_SPURIOUS		0xff

/* sys_gate function numbers, in EAX (boot/entry.S). */
#define SYS_HALT		0	/* cli; hlt forever */
#define SYS_TRIPLE_FAULT	1	/* empty IDT, then an exception */

#define MAX_CPUS		64
#define KSTACK_SIZE		16384
#define DFSTACK_SIZE		4096
#define AP_STACK_SIZE		4096	/* shl 12 in ap_entry64 */
#define USTACK_SIZE		65536

/* Control registers and MSRs. */
#define CR0_PE			(1 << 0)
#define CR0_MP			(1 << 1)
#define CR0_NE			(1 << 5)
#define CR0_WP			(1 << 16)
#define CR0_PG			(1 << 31)
#define CR4_PAE			(1 << 5)
#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1 << 11)
#define MSR_EFER		0xc0000080
#define EFER_LME		(1 << 8)

/* Page-table entry bits. */
#define PTE_P			0x001
#define PTE_RW			0x002
#define PTE_US			0x004
#define PTE_PWT			0x008
#define PTE_PCD			0x010
#define PTE_PS			0x080

/* Local APIC register offsets (Intel SDM vol. 3, table 11-1). */
#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_LVT_MASKED	0x10000

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	asm volatile("cpuid"
		     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

/*
 * A pointer to physical memory.  The empty asm hides the integer origin
 * from GCC, which otherwise warns about constant addresses it believes
 * are derived from NULL.
 */
static inline void *phys(uint64_t addr)
{
	void *p = (void *)(uintptr_t)addr;

	asm("" : "+r"(p));
	return p;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)phys(addr);
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)phys(addr) = v;
}

/* Through the CPL0 system gate: stop this CPU for good. */
static inline __attribute__((noreturn)) void sys_halt(void)
{
	asm volatile("call sys_gate" : : "a"(SYS_HALT) : "memory");
	__builtin_unreachable();
}

/* Through the CPL0 system gate: reset the machine by triple fault. */
static inline __attribute__((noreturn)) void sys_triple_fault(void)
{
	asm volatile("call sys_gate" : : "a"(SYS_TRIPLE_FAULT) : "memory");
	__builtin_unreachable();
}

/* Symbols from boot/ and guest.ld. */
extern uint32_t lapic_phys;		/* from MSR_APIC_BASE at boot */
extern uint16_t bda_ebda_seg;		/* BIOS data area word 0x40e */
extern char __user_ro_start[], __user_ro_end[];
extern char __kernel_start[], __kernel_end[];
extern char __image_start[], __image_end[];
extern char ap_trampoline_start[], ap_trampoline_end[];

/* Per-vector interrupt counts, bumped by the CPL0 stubs (boot/entry.S). */
extern volatile uint64_t irq_count[256];

/* AP bookkeeping, written by ap_entry64 at CPL0. */
extern volatile uint32_t ap_ticket;
extern volatile uint32_t ap_online;
extern volatile uint32_t ap_apic_id[MAX_CPUS];

#endif /* __ASSEMBLER__ */
#endif /* GUEST_ARCH_H */

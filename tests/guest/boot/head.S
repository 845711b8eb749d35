/* SPDX-License-Identifier: MIT */
/*
 * PVH entry: 32-bit protected mode, paging off, EBX = struct hvm_start_info.
 * Builds the identity map, enters long mode, sets up GDT/TSS/IDT, the local
 * APIC and the 8259s, then drops to CPL3 for good.
 *
 * Every instruction here runs emulated on our KVM (about 0.6 us each), so
 * the page directories are static data and only the 4 KiB table for the
 * first 2 MiB (whose permissions depend on link-time symbols) is built here.
 */
#include "arch.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define PVH_START_INFO_SIZE		56	/* version 1 */
#define CR0_LONG	(CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE)

	/* The PVH note. The descriptor is 8 bytes, as Linux emits it: QEMU
	 * reads a host word from it. */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4			/* namesz: "Xen\0" */
	.long	8			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign 4
	.quad	pvh_entry
	.balign 4

/* Paging on, long mode, far jump to \target (shared by BSP and APs). */
.macro ENTER_LONG_MODE target
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	$CR0_LONG, %eax
	mov	%eax, %cr0
	ljmp	$SEL_KCODE64, $\target
.endm

	.section .text.boot, "ax"
	.code32
	.globl	pvh_entry
pvh_entry:
	cli
	cld
	/* Keep a copy of hvm_start_info: the loader may put it anywhere,
	 * even where the AP trampoline goes later. C checks the magic. */
	mov	%ebx, boot_start_info_paddr
	mov	%ebx, %esi
	mov	$boot_start_info, %edi
	mov	$(PVH_START_INFO_SIZE / 4), %ecx
	rep movsl
	movzwl	0x40e, %eax			/* BDA: EBDA segment */
	mov	%ax, bda_ebda_seg

	/* Zero .bss and .kbss ourselves: not every loader does. */
	xor	%eax, %eax
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	rep stosl
	mov	$__kbss_start, %edi
	mov	$__kbss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	rep stosl

	/* 4 KiB pages for 0..2 MiB: the image's text and rodata read-only,
	 * its CPL0 structures supervisor-only, the rest (BIOS tables,
	 * trampoline, loader data) user read-write, except page 0: read-only
	 * so that NULL writes fault (QEMU's PVH ROM keeps the memory map
	 * there, so it cannot be absent). */
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$12, %eax
	mov	$(PTE_P | PTE_RW | PTE_US), %edx
	cmp	$__user_ro_start, %eax
	jb	2f
	cmp	$__user_ro_end, %eax
	jae	2f
	mov	$(PTE_P | PTE_US), %edx
2:	cmp	$__kernel_start, %eax
	jb	3f
	cmp	$__kernel_end, %eax
	jae	3f
	mov	$(PTE_P | PTE_RW), %edx
3:	test	%ecx, %ecx
	jnz	4f
	mov	$(PTE_P | PTE_US), %edx
4:	or	%edx, %eax
	mov	%eax, pt0(,%ecx,8)
	inc	%ecx
	cmp	$512, %ecx
	jne	1b

	lgdt	gdt_ptr
	ljmp	$SEL_KCODE32, $5f
5:	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$kstack_top, %esp
	ENTER_LONG_MODE long_entry

	/* APs arrive here from the real-mode trampoline (boot/trampoline.S). */
	.globl	ap_entry32
ap_entry32:
	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	ENTER_LONG_MODE ap_entry64

	.code64
long_entry:
	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$kstack_top, %esp

	/* TSS: RSP0 for entries from CPL3, IST1 for #DF, all ports open
	 * (the bitmap is zero from .kbss) and the 0xff terminator. */
	movq	$kstack_top, tss + TSS_RSP0
	movq	$dfstack_top, tss + TSS_IST1
	movw	$TSS_IOPB, tss + TSS_IOPB_OFF
	movb	$0xff, tss + TSS_IOPB + TSS_IOPB_BYTES
	/* TSS descriptor: limit[15:0] base[23:0] type 0x89 base[31:24] */
	mov	$tss, %eax
	mov	%eax, %edx
	shl	$16, %edx
	or	$(TSS_SIZE - 1), %edx
	mov	%edx, gdt + SEL_TSS
	mov	%eax, %edx
	shr	$16, %edx
	and	$0xff, %edx
	or	$0x8900, %edx
	and	$0xff000000, %eax
	or	%eax, %edx
	mov	%edx, gdt + SEL_TSS + 4
	mov	$SEL_TSS, %eax
	ltr	%ax

	/* IDT: vector v -> isr_stubs + 16 * v, interrupt gate, DPL0. */
	mov	$idt, %edi
	mov	$isr_stubs, %eax
	xor	%ecx, %ecx
6:	mov	%eax, %edx
	and	$0xffff, %edx
	or	$(SEL_KCODE64 << 16), %edx
	mov	%edx, (%rdi)
	mov	%eax, %edx
	and	$0xffff0000, %edx
	or	$0x8e00, %edx
	mov	%edx, 4(%rdi)
	add	$16, %eax
	add	$16, %rdi
	inc	%ecx
	cmp	$256, %ecx
	jne	6b
	movb	$1, idt + 8 * 16 + 4		/* #DF on IST1 */
	lidt	idt_ptr

	/* 8259s: mask everything (KVM's are unmasked at reset). */
	mov	$0xff, %al
	out	%al, $0x21
	out	%al, $0xa1

	/* Local APIC: globally enabled, base for C, LINT0 masked (KVM resets
	 * it to ExtINT), TPR 0, software-enabled with spurious vector 0xff. */
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	or	$APIC_BASE_ENABLE, %eax
	wrmsr
	and	$0xfffff000, %eax
	mov	%eax, lapic_phys
	movl	$LAPIC_LVT_MASKED, LAPIC_LVT_LINT0(%rax)
	movl	$0, LAPIC_TPR(%rax)
	movl	$(LAPIC_SVR_ENABLE | VEC_SPURIOUS), LAPIC_SVR(%rax)

	/* To CPL3 with IF=1; the emulated iretq clears IOPL, hence the
	 * bitmap above. */
	pushq	$SEL_UDATA
	pushq	$ustack_top
	pushq	$0x202
	pushq	$SEL_UCODE64
	pushq	$user_entry
	iretq

	/* BSP C code starts here, at CPL3, with an ABI-aligned stack. */
	.text
user_entry:
	mov	$SEL_UDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	call	guest_main
	ud2

	/* CPL0 tables: supervisor-only pages (see the pt0 loop above). */
	.section .kdata, "aw"
	.balign 16
gdt:
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x08 kernel code, 64-bit */
	.quad	0x00cf93000000ffff	/* 0x10 kernel data */
	.quad	0x00cf9b000000ffff	/* 0x18 kernel code, 32-bit */
	.quad	0x00cff3000000ffff	/* 0x20 user data (0x23) */
	.quad	0x00affb000000ffff	/* 0x28 user code, 64-bit (0x2b) */
	.quad	0, 0			/* 0x30 TSS, filled in at boot */
gdt_end:
	.globl	gdt
	.if	gdt_end - gdt - GDT_SIZE
	.error	"GDT_SIZE in arch.h does not match the GDT"
	.endif

	.balign 8
	.word	0
gdt_ptr:
	.word	GDT_SIZE - 1
	.quad	gdt
	.balign 8
	.word	0
idt_ptr:
	.word	256 * 16 - 1
	.quad	idt
	.globl	idt_ptr

	/* Identity map of 0..4 GiB: PML4 -> PDPT -> 4 page directories of
	 * 2 MiB pages; the first 2 MiB use pt0, 3..4 GiB (LAPIC, IOAPIC,
	 * PCI BARs) is uncached. All user-accessible: CPL3 writes EOI, ICR
	 * and IOAPIC registers itself. */
	.balign 4096
	.globl	pml4
pml4:
	.quad	pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + (PTE_P | PTE_RW | PTE_US)
	.quad	pd + 0x1000 + (PTE_P | PTE_RW | PTE_US)
	.quad	pd + 0x2000 + (PTE_P | PTE_RW | PTE_US)
	.quad	pd + 0x3000 + (PTE_P | PTE_RW | PTE_US)
	.fill	508, 8, 0
pd:
	.quad	pt0 + (PTE_P | PTE_RW | PTE_US)
	.set	i, 1
	.rept	1535
	.quad	(i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.set	i, i + 1
	.endr
	.rept	512
	.quad	(i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PCD | PTE_PWT)
	.set	i, i + 1
	.endr

	.section .kbss, "aw", @nobits
	.balign 4096
pt0:	.skip	4096
idt:	.skip	256 * 16
	.balign 64
tss:	.skip	TSS_SIZE

	/* Stacks are not zeroed at boot. */
	.section .kstack, "aw", @nobits
	.balign 4096
	.skip	KSTACK_SIZE
kstack_top:
	.skip	DFSTACK_SIZE
dfstack_top:
	.globl	ap_stacks
ap_stacks:
	.skip	MAX_CPUS * AP_STACK_SIZE

	.section .ustack, "aw", @nobits
	.balign 4096
	.skip	USTACK_SIZE
ustack_top:

	.data
	.globl	boot_start_info, boot_start_info_paddr, bda_ebda_seg, lapic_phys
	.balign 8
boot_start_info:
	.fill	PVH_START_INFO_SIZE, 1, 0
boot_start_info_paddr:
	.long	0
lapic_phys:
	.long	LAPIC_DEFAULT_BASE
bda_ebda_seg:
	.word	0

	.section .note.GNU-stack, "", @progbits

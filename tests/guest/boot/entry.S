/* SPDX-License-Identifier: MIT */
/*
 * CPL0 entry points: one 16-byte stub per vector, the exception path, the
 * system gate and the AP entry. Kept to a handful of instructions each
 * because CPL0 code runs emulated on our KVM; the work happens at CPL3.
 */
#include "arch.h"

/* Exceptions that push an error code (SDM vol. 3, table 6-1). */
#define HAS_ERROR_CODE(v) \
	((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	 (v) == 29 || (v) == 30)

	.text
	.balign 16
	.globl	isr_stubs
isr_stubs:
	/* 0x00-0x1f: push a dummy error code where the CPU does not, then
	 * the vector, and report. */
	.set	vec, 0
	.rept	32
	.balign 16
	.if	HAS_ERROR_CODE(vec)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr
	/* 0x20-0xff: count and return. CPL3 notices the count, services
	 * the device and writes EOI itself (a level-triggered line stays
	 * masked by the ISR until then). */
	.rept	224
	.balign 16
	lock incq irq_count + 8 * vec
	iretq
	.set	vec, vec + 1
	.endr

exc_common:
	/* A #UD at sys_gate is a system call, not a fault: CPL3 cannot use
	 * 'int n' on this project's KVM (the PVM-based host turns it into #UD
	 * at the instruction), but exceptions are delivered everywhere.
	 * Stack: vector, error, rip, cs, rflags, rsp, ss. */
	cmpq	$6, (%rsp)
	jne	1f
	push	%rdx
	lea	sys_gate(%rip), %rdx
	cmp	%rdx, 24(%rsp)
	pop	%rdx
	jne	1f
	cmp	$SYS_HALT, %eax
	je	halt_forever
	cmp	$SYS_TRIPLE_FAULT, %eax
	je	triple_fault
1:	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	and	$-16, %rsp
	call	exception_handler	/* prints, exits through port 0xf4 */
	jmp	halt_forever

	/* The system gate CPL3 calls with EAX = function: SYS_HALT, or
	 * SYS_TRIPLE_FAULT (an empty IDT turns the next exception into a
	 * triple fault).  Unknown functions report as an ordinary #UD. */
	.globl	sys_gate
sys_gate:
	ud2

triple_fault:
	lidt	empty_idt_ptr
	ud2

	.section .rodata
	.balign	16
empty_idt_ptr:
	.word	0
	.quad	0
	.text

	.globl	halt_forever
halt_forever:
	cli
1:	hlt
	jmp	1b

	/* APs in long mode (from ap_entry32): take a ticket, switch to its
	 * stack, report the APIC ID, count in, and park with interrupts off. */
	.globl	ap_entry64
ap_entry64:
	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	lidt	idt_ptr
	mov	$1, %eax
	lock xadd %eax, ap_ticket
	cmp	$MAX_CPUS, %eax
	jae	halt_forever
	lea	1(%rax), %ecx
	shl	$12, %ecx
	lea	ap_stacks(%rcx), %rsp
	mov	lapic_phys, %edx
	mov	LAPIC_ID(%rdx), %edx
	shr	$24, %edx
	mov	%edx, ap_apic_id(, %rax, 4)
	lock incl ap_online
	jmp	halt_forever

	.section .note.GNU-stack, "", @progbits

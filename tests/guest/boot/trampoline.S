/* SPDX-License-Identifier: MIT */
/*
 * AP start-up code. CPL3 copies it to AP_TRAMPOLINE (0x8000) and sends
 * INIT-SIPI-SIPI with vector 0x08, so an AP starts here in real mode at
 * CS:IP = 0800:0000. It only loads the GDT and jumps to ap_entry32 in the
 * image, which does the rest like the BSP. Position-independent: every
 * reference inside is an offset from ap_trampoline_start.
 */
#include "arch.h"

#if AP_TRAMPOLINE != 0x8000
#error "SIPI vector below assumes 0x8000"
#endif

	.text
	.code16
	.globl	ap_trampoline_start, ap_trampoline_end
ap_trampoline_start:
	cli
	mov	%cs, %ax
	mov	%ax, %ds
	lgdtl	ap_gdt_ptr - ap_trampoline_start
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_KCODE32, $ap_entry32
	.balign 4
	.word	0
ap_gdt_ptr:
	.word	GDT_SIZE - 1
	.long	gdt
ap_trampoline_end:
	.code64

	.section .note.GNU-stack, "", @progbits

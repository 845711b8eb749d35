// SPDX-License-Identifier: MIT
/*
 * test=fault [kind=pf|kernel|ud|gp|de]: take a CPU exception at CPL3 on purpose,
 * to check that exceptions reach the CPL0 handler, which reports them
 * ("TEST FAIL fault: exception 14 #PF ...") and exits with EXIT_EXCEPTION.
 * Passing means failing in exactly that way.
 */
#include "guest.h"
#include "scenarios.h"

void scenario_fault(void)
{
	const char *kind = param("kind");

	if (!kind || !strcmp(kind, "pf")) {
		printf("fault: writing to address 0 (page 0 is read-only)\n");
		*(volatile uint32_t *)phys(0) = 0;
	} else if (!strcmp(kind, "kernel")) {
		printf("fault: reading CPL0 data at 0x%lx\n",
		       (unsigned long)(uintptr_t)__kernel_start);
		(void)*(volatile uint8_t *)__kernel_start;
	} else if (!strcmp(kind, "ud")) {
		printf("fault: ud2\n");
		asm volatile("ud2");
	} else if (!strcmp(kind, "gp")) {
		printf("fault: cli at CPL3\n");
		asm volatile("cli");
	} else if (!strcmp(kind, "de")) {
		uint32_t a = 1, d = 0, zero = 0;

		printf("fault: divide by zero\n");
		asm volatile("divl %2" : "+a"(a), "+d"(d) : "r"(zero));
	} else {
		fail(EXIT_USAGE, "kind=%s: expected pf, kernel, ud, gp or de", kind);
	}
	fail(EXIT_FAIL, "no exception");
}

// SPDX-License-Identifier: MIT
/*
 * test=shutdown how=halt|triple: the ways a guest ends other than the exit
 * port, which the VMM must turn into a clean shutdown with a message:
 * every CPU halted with interrupts off, or a triple fault.  Neither prints
 * TEST PASS: the harness checks the VMM's message and status instead.
 * (QEMU keeps a halted guest forever; it has no such rule.)
 */
#include "guest.h"
#include "scenarios.h"

void scenario_shutdown(void)
{
	const char *how = param("how");

	if (!how)
		fail(EXIT_USAGE, "shutdown needs how=halt or how=triple");
	printf("shutdown: %s\n", how);
	serial_flush();
	if (!strcmp(how, "halt"))
		sys_halt();
	if (!strcmp(how, "triple"))
		sys_triple_fault();
	fail(EXIT_USAGE, "shutdown: unknown how=%s", how);
}

// SPDX-License-Identifier: MIT
/*
 * test=exit code=N: exit(N), to test the VMM's exit device (N != 0) and
 * its reset-as-shutdown path (N == 0).
 */
#include "guest.h"
#include "scenarios.h"

void scenario_exit(void)
{
	uint64_t code = param_u64("code", 0);

	if (code > 0x7fffffff)
		fail(EXIT_USAGE, "code=%llu is out of range",
		     (unsigned long long)code);
	printf("exit: code %u\n", (unsigned int)code);
	exit((int)code);
}

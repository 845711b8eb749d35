// SPDX-License-Identifier: MIT
/*
 * test=hello: the console works, and this is what the loader handed over.
 */
#include "guest.h"
#include "scenarios.h"

static const char *memmap_type(uint32_t type)
{
	static const char *const names[] = {
		"?", "ram", "reserved", "acpi", "nvs", "unusable",
	};

	return type < ARRAY_SIZE(names) ? names[type] : "other";
}

void scenario_hello(void)
{
	const struct hvm_memmap_entry *m;
	uint32_t n;

	printf("Hello from the test guest\n");
	printf("cmdline: %s\n", cmdline());
	time_init();
	printf("tsc: %llu kHz (%s)\n", (unsigned long long)tsc_khz(),
	       tsc_source());
	if (!bootinfo_valid()) {
		printf("start info: none at 0x%x (bad magic)\n", bootinfo_paddr());
		return;
	}
	printf("start info: 0x%x version %u rsdp 0x%llx\n", bootinfo_paddr(),
	       bootinfo_version(), (unsigned long long)bootinfo_rsdp());
	m = bootinfo_memmap(&n);
	if (!m) {
		printf("memmap: none\n");
		return;
	}
	printf("memmap: %u entries\n", n);
	for (uint32_t i = 0; i < n; i++)
		printf("  0x%016llx-0x%016llx %s\n",
		       (unsigned long long)m[i].addr,
		       (unsigned long long)(m[i].addr + m[i].size - 1),
		       memmap_type(m[i].type));
}

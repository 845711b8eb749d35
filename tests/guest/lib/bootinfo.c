// SPDX-License-Identifier: MIT
/*
 * struct hvm_start_info, as handed over in EBX at the PVH entry (Xen's
 * arch-x86/hvm/start_info.h). boot/head.S copies the structure itself; the
 * command line and memory map are read where the loader put them.
 */
#include "guest.h"

#define HVM_START_MAGIC	0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;	/* version >= 1 */
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "start info layout");

extern struct hvm_start_info boot_start_info;
extern uint32_t boot_start_info_paddr;

bool phys_readable(uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	uint64_t ks = (uintptr_t)__kernel_start, ke = (uintptr_t)__kernel_end;

	if (end < addr || end > 0x100000000ull)
		return false;
	return end <= ks || addr >= ke;
}

bool bootinfo_valid(void)
{
	return boot_start_info.magic == HVM_START_MAGIC;
}

uint32_t bootinfo_paddr(void)
{
	return boot_start_info_paddr;
}

uint32_t bootinfo_version(void)
{
	return bootinfo_valid() ? boot_start_info.version : 0;
}

/* NULL if there is none or it is not where CPL3 can read it. */
const char *bootinfo_cmdline(void)
{
	uint64_t p = boot_start_info.cmdline_paddr;

	if (!bootinfo_valid() || !p || !phys_readable(p, 1))
		return NULL;
	return phys(p);
}

const struct hvm_memmap_entry *bootinfo_memmap(uint32_t *count)
{
	uint64_t p = boot_start_info.memmap_paddr;
	uint32_t n = boot_start_info.memmap_entries;

	*count = 0;
	if (!bootinfo_valid() || boot_start_info.version < 1 || !p || !n)
		return NULL;
	if (!phys_readable(p, (uint64_t)n * sizeof(struct hvm_memmap_entry)))
		return NULL;
	*count = n;
	return phys(p);
}

uint64_t bootinfo_rsdp(void)
{
	return bootinfo_valid() ? boot_start_info.rsdp_paddr : 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The PVH boot ABI's start-of-day structures, as Xen's public
 * arch-x86/hvm/start_info.h defines them (version 1).  Guest-visible, so it
 * lives in proto/: the loader writes it, the test guest reads it.
 */
#ifndef PROTO_PVH_H
#define PROTO_PVH_H

#include <stdint.h>

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u

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

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Where the loader puts the parts, relative to the start info. */
#define PVH_MODLIST_OFF	0x40
#define PVH_MEMMAP_OFF	0x80

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");

#endif

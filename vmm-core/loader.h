/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders: PVH (an ELF with the Xen PVH entry note) and the Linux
 * 64-bit boot protocol (bzImage).  They parse images held in memory, so unit
 * tests feed them crafted bytes; loader_map_files() maps the files.
 *
 * Guest-physical layout below 1 MiB (all in RAM unless said otherwise):
 *   0x00500  boot GDT
 *   0x01000  page tables for the 64-bit entry (identity map of 0..4 GiB)
 *   0x07000  Linux boot_params (the zero page)
 *   0x9d000  PVH hvm_start_info, module list, memory map
 *   0x9e000  kernel command line (up to BOOT_CMDLINE_MAX bytes)
 *   0x9fc00  MP table (reserved, up to 0x100000 with the BIOS area)
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

#define BOOT_GDT_GPA		0x500
#define BOOT_PML4_GPA		0x1000
#define BOOT_PDPT_GPA		0x2000
#define BOOT_PD_GPA		0x3000	/* four pages: 0..4 GiB */
#define BOOT_PARAMS_GPA		0x7000
#define PVH_INFO_GPA		0x9d000
#define BOOT_CMDLINE_GPA	0x9e000
#define BOOT_CMDLINE_MAX	(MPTABLE_GPA - BOOT_CMDLINE_GPA)
#define MPTABLE_GPA		0x9fc00
#define BIOS_END		0x100000
#define HIMEM_START		0x100000

/* RAM below the PCI hole ends here at most; the rest goes above 4 GiB. */
#define LOW_RAM_MAX		0xc0000000ull
#define HIGH_RAM_START		0x100000000ull

#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX	16

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct mem_layout {
	uint64_t low_size;	/* RAM at [0, low_size) */
	uint64_t high_size;	/* RAM at [4 GiB, 4 GiB + high_size) */
};

/* Splits @ram bytes around the PCI hole. */
void mem_layout_init(struct mem_layout *l, uint64_t ram);
/* The guest's memory map; returns the number of entries. */
unsigned e820_build(const struct mem_layout *l, struct e820_entry *e,
		    unsigned max);

enum boot_kind {
	BOOT_PVH,	/* 32-bit protected mode, paging off, EBX = start info */
	BOOT_LINUX64,	/* long mode, identity map, RSI = boot_params */
};

struct boot_info {
	enum boot_kind kind;
	uint64_t entry;
	uint64_t boot_data;	/* EBX for PVH, RSI for Linux */
	uint64_t kernel_end;	/* first byte above the loaded kernel */
};

struct boot_images {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;	/* may be NULL */
	size_t initrd_len;
	const char *cmdline;	/* may be NULL */
};

/*
 * Loads @img into guest memory and writes the boot data.  0, or -1 with one
 * line for the user in @err.
 */
int loader_load(struct guest_mem *gm, const struct mem_layout *l,
		const struct boot_images *img, struct boot_info *bi,
		char *err, size_t errlen);

/*
 * Maps the kernel and initrd read-only and checks the kernel's format, so
 * a user's mistake is reported before any VM exists.  0, or -1 and @err.
 */
int loader_map_files(struct boot_images *img, const char *kernel,
		     const char *initrd, const char *cmdline, char *err,
		     size_t errlen);
void loader_unmap_files(struct boot_images *img);
/* Is this a kernel we can boot?  0, or -1 and @err. */
int loader_probe(const struct boot_images *img, char *err, size_t errlen);

/* Per-format loaders, for loader_load() and the tests. */
int pvh_load(struct guest_mem *gm, const struct mem_layout *l,
	     const struct boot_images *img, struct boot_info *bi, char *err,
	     size_t errlen);
int bzimage_load(struct guest_mem *gm, const struct mem_layout *l,
		 const struct boot_images *img, struct boot_info *bi,
		 char *err, size_t errlen);
/* Finds the PVH entry in an ELF image: 0 and *entry, or -1 and @err. */
int pvh_find_entry(const uint8_t *img, size_t len, uint64_t *entry,
		   char *err, size_t errlen);

/* Shared by both: place the initrd at the top of low RAM under @max_end. */
int loader_place_initrd(struct guest_mem *gm, const struct mem_layout *l,
			const struct boot_images *img, uint64_t min_addr,
			uint64_t max_end, uint64_t *gpa, char *err,
			size_t errlen);
int loader_write_cmdline(struct guest_mem *gm, const char *cmdline,
			 size_t max, char *err, size_t errlen);
/* Identity map of 0..4 GiB with 2 MiB pages and a flat 64-bit GDT. */
int loader_write_long_mode_tables(struct guest_mem *gm);

#endif

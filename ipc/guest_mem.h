/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical memory as a process sees it: a small table of regions, each
 * a GPA range backed by a local mapping.  Every translation checks the whole
 * [gpa, gpa + len) range against one region, so an address or a length that
 * a guest controls never reaches memcpy unchecked.
 */
#ifndef IPC_GUEST_MEM_H
#define IPC_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 8

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;		/* local mapping of [gpa, gpa + size) */
	int fd;			/* backing memfd, -1 if none */
	uint64_t fd_offset;	/* offset of gpa within fd */
};

struct guest_mem {
	unsigned nr;
	struct guest_mem_region r[GUEST_MEM_MAX_REGIONS];
};

void guest_mem_init(struct guest_mem *gm);

/*
 * Adds a region.  0, or -EINVAL (empty, wrapping, or overlapping another
 * region) or -ENOSPC (table full).
 */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset);

/*
 * Local pointer to [gpa, gpa + len), or NULL unless the whole range lies in
 * one region (len 0 is treated as 1 so a NULL check stays meaningful).
 */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies out of / into guest memory; 0 or -EFAULT, nothing copied on error. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst,
		   size_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
		    size_t len);

/* The region containing @gpa, or NULL. */
const struct guest_mem_region *guest_mem_find(const struct guest_mem *gm,
					      uint64_t gpa);

#endif

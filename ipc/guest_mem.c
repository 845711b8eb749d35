// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "guest_mem.h"

void guest_mem_init(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Both ranges are known not to wrap: compare with the last bytes. */
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset)
{
	if (!size || !host || gpa + (size - 1) < gpa)
		return -EINVAL;
	for (unsigned i = 0; i < gm->nr; i++)
		if (ranges_overlap(gpa, size, gm->r[i].gpa, gm->r[i].size))
			return -EINVAL;
	if (gm->nr == GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	gm->r[gm->nr++] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .host = host,
		.fd = fd, .fd_offset = fd_offset,
	};
	return 0;
}

const struct guest_mem_region *guest_mem_find(const struct guest_mem *gm,
					      uint64_t gpa)
{
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct guest_mem_region *r = &gm->r[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct guest_mem_region *r = guest_mem_find(gm, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	if (!len)
		len = 1;
	off = gpa - r->gpa;
	/* off < size here, so size - off cannot underflow. */
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst,
		   size_t len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src,
		    size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

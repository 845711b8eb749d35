// SPDX-License-Identifier: MIT
/*
 * ipc/vhost_user.h memory table: memfd regions mapped as a back-end maps
 * the front-end's SET_MEM_TABLE, translation of guest-physical and
 * front-end virtual addresses at every edge, and nothing left mapped or
 * open afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vhost_user.h"

#define MEMFD_NAME	"vu-test-region"
#define PAGE		4096u

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Mappings of our test memfds in this process. */
static unsigned mapped_regions(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "memfd:" MEMFD_NAME))
			n++;
	fclose(f);
	return n;
}

/* A memfd of @pages pages; byte i holds (i / PAGE) + @tag. */
static int make_memfd(unsigned pages, uint8_t tag)
{
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
	uint8_t page[PAGE];

	assert_true(fd >= 0);
	for (unsigned p = 0; p < pages; p++) {
		memset(page, (int)(p + tag), sizeof(page));
		assert_int_equal(pwrite(fd, page, PAGE, (off_t)p * PAGE), PAGE);
	}
	return fd;
}

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uva, uint64_t off)
{
	return (struct vhost_user_mem_region){
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = uva, .mmap_offset = off,
	};
}

#define GPA	0x100000ull
#define UVA	0x7f0000000000ull

static void vu_mem_maps_a_region_at_its_file_offset(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 1 };
	struct vu_mem m;
	int fd = make_memfd(3, 0x10);
	unsigned before;
	uint8_t *p;

	(void)state;
	before = open_fds() - 1;	/* the memfd is handed over */
	t.regions[0] = region(GPA, 2 * PAGE, UVA, PAGE);
	vu_mem_init(&m);
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(open_fds(), before);
	p = vu_gpa_to_ptr(&m, GPA, 1);
	assert_non_null(p);
	assert_int_equal(p[0], 0x11);		/* file page 1 */
	assert_int_equal(p[PAGE], 0x12);	/* file page 2 */
	assert_ptr_equal(vu_uva_to_ptr(&m, UVA, 1), p);
	/* Writes reach the file: the mapping is shared. */
	p[5] = 0xee;
	assert_int_equal(((uint8_t *)vu_uva_to_ptr(&m, UVA + 5, 1))[0], 0xee);
	assert_int_equal(mapped_regions(), 1);
	vu_mem_free(&m);
	assert_int_equal(mapped_regions(), 0);
	assert_null(vu_gpa_to_ptr(&m, GPA, 1));
}

static void vu_mem_translation_is_bounded_at_every_edge(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 1 };
	const uint64_t size = 2 * PAGE;
	struct vu_mem m;
	int fd = make_memfd(2, 0);
	uint8_t *base;

	(void)state;
	t.regions[0] = region(GPA, size, UVA, 0);
	vu_mem_init(&m);
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), 0);
	base = vu_gpa_to_ptr(&m, GPA, size);
	assert_non_null(base);

	/* guest-physical */
	assert_null(vu_gpa_to_ptr(&m, GPA - 1, 1));
	assert_null(vu_gpa_to_ptr(&m, GPA - 1, 2));
	assert_ptr_equal(vu_gpa_to_ptr(&m, GPA + size - 1, 1),
			 base + size - 1);
	assert_ptr_equal(vu_gpa_to_ptr(&m, GPA + size - 1, 0),
			 base + size - 1);
	assert_null(vu_gpa_to_ptr(&m, GPA + size - 1, 2));
	assert_null(vu_gpa_to_ptr(&m, GPA + size, 0));
	assert_null(vu_gpa_to_ptr(&m, GPA + size, 1));
	assert_null(vu_gpa_to_ptr(&m, GPA, size + 1));
	assert_null(vu_gpa_to_ptr(&m, GPA + 1, size));
	assert_null(vu_gpa_to_ptr(&m, GPA + 1, UINT64_MAX));
	assert_null(vu_gpa_to_ptr(&m, UINT64_MAX, 1));

	/* front-end virtual */
	assert_ptr_equal(vu_uva_to_ptr(&m, UVA, size), base);
	assert_null(vu_uva_to_ptr(&m, UVA - 1, 1));
	assert_null(vu_uva_to_ptr(&m, UVA - 1, 2));
	assert_ptr_equal(vu_uva_to_ptr(&m, UVA + size - 1, 1),
			 base + size - 1);
	assert_ptr_equal(vu_uva_to_ptr(&m, UVA + size - 1, 0),
			 base + size - 1);
	assert_null(vu_uva_to_ptr(&m, UVA + size - 1, 2));
	assert_null(vu_uva_to_ptr(&m, UVA + size, 0));
	assert_null(vu_uva_to_ptr(&m, UVA, size + 1));
	assert_null(vu_uva_to_ptr(&m, UVA + 1, size));
	assert_null(vu_uva_to_ptr(&m, UVA + 8, UINT64_MAX - 4));
	assert_null(vu_uva_to_ptr(&m, UINT64_MAX, 1));
	/* A GPA is not a UVA and the reverse. */
	assert_null(vu_uva_to_ptr(&m, GPA, 1));
	assert_null(vu_gpa_to_ptr(&m, UVA, 1));
	vu_mem_free(&m);
}

static void vu_mem_translates_in_each_of_several_regions(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 3 };
	int fds[3] = { make_memfd(1, 0x20), make_memfd(2, 0x30),
		       make_memfd(1, 0x40) };
	struct vu_mem m;
	uint8_t *p;

	(void)state;
	t.regions[0] = region(0, PAGE, UVA + 0x100000, 0);
	t.regions[1] = region(PAGE, PAGE, UVA, PAGE);	/* adjacent GPA */
	t.regions[2] = region(1ull << 32, PAGE, UVA + PAGE, 0);
	vu_mem_init(&m);
	assert_int_equal(vu_mem_set_table(&m, &t, fds), 0);
	p = vu_gpa_to_ptr(&m, PAGE - 1, 1);
	assert_int_equal(*p, 0x20);
	p = vu_gpa_to_ptr(&m, PAGE, 1);
	assert_int_equal(*p, 0x31);
	/* No range may straddle two regions, even adjacent ones. */
	assert_null(vu_gpa_to_ptr(&m, PAGE - 1, 2));
	assert_null(vu_uva_to_ptr(&m, UVA + PAGE - 1, 2));
	p = vu_uva_to_ptr(&m, UVA + PAGE, 1);
	assert_int_equal(*p, 0x40);
	p = vu_uva_to_ptr(&m, UVA + 0x100000 + 10, 1);
	assert_int_equal(*p, 0x20);
	assert_int_equal(mapped_regions(), 3);
	vu_mem_free(&m);
	assert_int_equal(mapped_regions(), 0);
}

static void vu_mem_unaligned_mmap_offset_is_honoured(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 1 };
	struct vu_mem m;
	int fd = make_memfd(2, 0);
	uint8_t b = 0x99, *p;

	(void)state;
	assert_int_equal(pwrite(fd, &b, 1, PAGE + 100), 1);
	t.regions[0] = region(GPA, 100, UVA, PAGE + 100);
	vu_mem_init(&m);
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), 0);
	p = vu_gpa_to_ptr(&m, GPA, 100);
	assert_non_null(p);
	assert_int_equal(*p, 0x99);
	assert_null(vu_gpa_to_ptr(&m, GPA, 101));
	vu_mem_free(&m);
}

static void vu_mem_region_beyond_the_file_is_refused_and_fd_closed(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 1 };
	struct vu_mem m;
	unsigned before = open_fds();
	int fd;

	(void)state;
	vu_mem_init(&m);
	fd = make_memfd(2, 0);
	t.regions[0] = region(GPA, 2 * PAGE, UVA, 1);	/* one byte past EOF */
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	fd = make_memfd(2, 0);
	t.regions[0] = region(GPA, PAGE, UVA, 2 * PAGE);	/* at EOF */
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), -EINVAL);
	fd = make_memfd(2, 0);
	t.regions[0] = region(GPA, 3 * PAGE, UVA, 0);
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), -EINVAL);
	fd = make_memfd(2, 0);
	t.regions[0] = region(GPA, 2 * PAGE, UVA, 0);	/* exactly the file */
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), 0);
	assert_int_equal(open_fds(), before);
	assert_int_equal(mapped_regions(), 1);
	vu_mem_free(&m);
	assert_int_equal(mapped_regions(), 0);
}

static void vu_mem_failed_replacement_keeps_the_old_table(void **state)
{
	struct vhost_user_mem_table t = { .nregions = 1 };
	struct vhost_user_mem_table bad = { .nregions = 2 };
	int fd = make_memfd(1, 0x50), fds[2];
	unsigned before;
	struct vu_mem m;
	uint8_t *p;

	(void)state;
	t.regions[0] = region(GPA, PAGE, UVA, 0);
	vu_mem_init(&m);
	assert_int_equal(vu_mem_set_table(&m, &t, &fd), 0);
	before = open_fds();
	fds[0] = make_memfd(1, 0x60);
	fds[1] = make_memfd(1, 0x70);
	bad.regions[0] = region(0, PAGE, 0x1000, 0);
	bad.regions[1] = region(PAGE, 2 * PAGE, 0x100000, 0);	/* too big */
	assert_int_equal(vu_mem_set_table(&m, &bad, fds), -EINVAL);
	assert_int_equal(open_fds(), before);
	assert_int_equal(mapped_regions(), 1);
	p = vu_gpa_to_ptr(&m, GPA, 1);
	assert_non_null(p);
	assert_int_equal(*p, 0x50);
	assert_null(vu_gpa_to_ptr(&m, 0, 1));

	/* A good replacement takes over and unmaps the old. */
	fds[0] = make_memfd(1, 0x60);
	t.regions[0] = region(0, PAGE, 0x1000, 0);
	assert_int_equal(vu_mem_set_table(&m, &t, fds), 0);
	assert_int_equal(mapped_regions(), 1);
	assert_null(vu_gpa_to_ptr(&m, GPA, 1));
	p = vu_gpa_to_ptr(&m, 0, 1);
	assert_int_equal(*p, 0x60);
	vu_mem_free(&m);
}

static void vu_mem_add_and_remove_regions_one_by_one(void **state)
{
	struct vu_mem m;
	struct vhost_user_mem_region r[GUEST_MEM_MAX_REGIONS + 1];
	unsigned before = open_fds();
	uint8_t *p;

	(void)state;
	vu_mem_init(&m);
	for (unsigned i = 0; i <= GUEST_MEM_MAX_REGIONS; i++)
		r[i] = region((uint64_t)i * PAGE, PAGE,
			      UVA + (uint64_t)i * 0x10000, 0);
	for (unsigned i = 0; i < GUEST_MEM_MAX_REGIONS; i++)
		assert_int_equal(vu_mem_add_region(&m, &r[i],
						   make_memfd(1, (uint8_t)i)),
				 0);
	assert_int_equal(vu_mem_add_region(&m, &r[GUEST_MEM_MAX_REGIONS],
					   make_memfd(1, 0)), -ENOSPC);
	assert_int_equal(mapped_regions(), GUEST_MEM_MAX_REGIONS);
	assert_int_equal(open_fds(), before);

	/* Remove the third; the ones after it still translate right. */
	assert_int_equal(vu_mem_remove_region(&m, &r[2]), 0);
	assert_int_equal(vu_mem_remove_region(&m, &r[2]), -ENOENT);
	assert_null(vu_gpa_to_ptr(&m, 2 * PAGE, 1));
	assert_null(vu_uva_to_ptr(&m, r[2].userspace_addr, 1));
	for (unsigned i = 3; i < GUEST_MEM_MAX_REGIONS; i++) {
		p = vu_uva_to_ptr(&m, r[i].userspace_addr, PAGE);
		assert_non_null(p);
		assert_int_equal(*p, i);
		assert_ptr_equal(vu_gpa_to_ptr(&m, r[i].guest_phys_addr, 1), p);
	}
	/* Overlaps with what is held are refused, the fd closed. */
	r[2].guest_phys_addr = 3 * PAGE + 1;
	assert_int_equal(vu_mem_add_region(&m, &r[2], make_memfd(1, 0)),
			 -EINVAL);
	/* One block at two GPAs: the same front-end addresses, allowed. */
	r[2].guest_phys_addr = 2 * PAGE;
	r[2].userspace_addr = r[3].userspace_addr;
	assert_int_equal(vu_mem_add_region(&m, &r[2], make_memfd(1, 0x77)),
			 0);
	p = vu_uva_to_ptr(&m, r[3].userspace_addr, PAGE);
	assert_int_equal(*p, 3);	/* the first region that holds it */
	assert_int_equal(vu_mem_remove_region(&m, &r[2]), 0);
	/* REM_MEM_REG ignores mmap_offset but matches the rest. */
	r[4].mmap_offset = 12345;
	assert_int_equal(vu_mem_remove_region(&m, &r[4]), 0);
	r[5].memory_size = 2 * PAGE;
	assert_int_equal(vu_mem_remove_region(&m, &r[5]), -ENOENT);
	assert_int_equal(open_fds(), before);
	assert_int_equal(mapped_regions(), GUEST_MEM_MAX_REGIONS - 2);
	vu_mem_free(&m);
	assert_int_equal(mapped_regions(), 0);
}

static void vu_mem_refuses_a_bad_fd(void **state)
{
	struct vu_mem m;
	struct vhost_user_mem_region r = region(0, PAGE, UVA, 0);
	int fd;

	(void)state;
	vu_mem_init(&m);
	assert_int_equal(vu_mem_add_region(&m, &r, -1), -EINVAL);
	/* A pipe has size 0: nothing fits. */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		close(p[1]);
		fd = p[0];
	}
	assert_int_equal(vu_mem_add_region(&m, &r, fd), -EINVAL);
	assert_int_equal(m.gm.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vu_mem_maps_a_region_at_its_file_offset),
		cmocka_unit_test(vu_mem_translation_is_bounded_at_every_edge),
		cmocka_unit_test(vu_mem_translates_in_each_of_several_regions),
		cmocka_unit_test(vu_mem_unaligned_mmap_offset_is_honoured),
		cmocka_unit_test(
			vu_mem_region_beyond_the_file_is_refused_and_fd_closed),
		cmocka_unit_test(vu_mem_failed_replacement_keeps_the_old_table),
		cmocka_unit_test(vu_mem_add_and_remove_regions_one_by_one),
		cmocka_unit_test(vu_mem_refuses_a_bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

void mem_layout_init(struct mem_layout *l, uint64_t ram)
{
	l->low_size = ram < LOW_RAM_MAX ? ram : LOW_RAM_MAX;
	l->high_size = ram - l->low_size;
}

static unsigned e820_add(struct e820_entry *e, unsigned n, unsigned max,
			 uint64_t addr, uint64_t size, uint32_t type)
{
	if (n < max && size)
		e[n++] = (struct e820_entry){ addr, size, type };
	return n;
}

unsigned e820_build(const struct mem_layout *l, struct e820_entry *e,
		    unsigned max)
{
	unsigned n = 0;

	/* Base memory up to the MP table, which sits in its last KiB. */
	n = e820_add(e, n, max, 0, MPTABLE_GPA, E820_RAM);
	n = e820_add(e, n, max, MPTABLE_GPA, BIOS_END - MPTABLE_GPA,
		     E820_RESERVED);
	if (l->low_size > HIMEM_START)
		n = e820_add(e, n, max, HIMEM_START, l->low_size - HIMEM_START,
			     E820_RAM);
	n = e820_add(e, n, max, HIGH_RAM_START, l->high_size, E820_RAM);
	return n;
}

int loader_write_cmdline(struct guest_mem *gm, const char *cmdline,
			 size_t max, char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len + 1 > max) {
		snprintf(err, errlen,
			 "command line is %zu bytes; the kernel takes at most %zu",
			 len, max - 1);
		return -1;
	}
	if (guest_mem_write(gm, BOOT_CMDLINE_GPA, cmdline ? cmdline : "",
			    len + 1)) {
		snprintf(err, errlen, "guest RAM too small for the command line");
		return -1;
	}
	return 0;
}

int loader_place_initrd(struct guest_mem *gm, const struct mem_layout *l,
			const struct boot_images *img, uint64_t min_addr,
			uint64_t max_end, uint64_t *gpa, char *err,
			size_t errlen)
{
	uint64_t top = l->low_size < max_end ? l->low_size : max_end;
	uint64_t addr;

	*gpa = 0;
	if (!img->initrd)
		return 0;
	if (img->initrd_len > top || top - img->initrd_len < min_addr) {
		snprintf(err, errlen,
			 "initrd of %zu bytes does not fit in guest RAM above the kernel; add --memory",
			 img->initrd_len);
		return -1;
	}
	addr = (top - img->initrd_len) & ~UINT64_C(0xfff);
	if (addr < min_addr ||
	    guest_mem_write(gm, addr, img->initrd, img->initrd_len)) {
		snprintf(err, errlen,
			 "initrd of %zu bytes does not fit in guest RAM above the kernel; add --memory",
			 img->initrd_len);
		return -1;
	}
	*gpa = addr;
	return 0;
}

int loader_write_long_mode_tables(struct guest_mem *gm)
{
	uint64_t pml4 = BOOT_PDPT_GPA | 3, pdpt[4], pd[4 * 512];
	/* Flat GDT: 0x08 unused, 0x10 64-bit code, 0x18 data (Linux's
	 * __BOOT_CS/__BOOT_DS), 0x20 32-bit code for PVH. */
	uint64_t gdt[5] = {
		0,
		0,
		0x00af9b000000ffffull,
		0x00cf93000000ffffull,
		0x00cf9b000000ffffull,
	};

	for (int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_GPA + i * 0x1000ull) | 3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;	/* present, writable, 2 MiB */
	if (guest_mem_write(gm, BOOT_PML4_GPA, &pml4, sizeof(pml4)) ||
	    guest_mem_write(gm, BOOT_PDPT_GPA, pdpt, sizeof(pdpt)) ||
	    guest_mem_write(gm, BOOT_PD_GPA, pd, sizeof(pd)) ||
	    guest_mem_write(gm, BOOT_GDT_GPA, gdt, sizeof(gdt)))
		return -EFAULT;
	return 0;
}

static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

static bool is_elf(const struct boot_images *img)
{
	return img->kernel_len >= 4 && !memcmp(img->kernel, elf_magic, 4);
}

static bool is_bzimage(const struct boot_images *img)
{
	return img->kernel_len >= 0x206 &&
	       !memcmp(img->kernel + 0x202, "HdrS", 4);
}

int loader_probe(const struct boot_images *img, char *err, size_t errlen)
{
	uint64_t entry;

	if (is_elf(img))
		return pvh_find_entry(img->kernel, img->kernel_len, &entry,
				      err, errlen);
	if (is_bzimage(img))
		return 0;
	snprintf(err, errlen,
		 "kernel is neither an ELF with a PVH note nor a Linux bzImage");
	return -1;
}

int loader_load(struct guest_mem *gm, const struct mem_layout *l,
		const struct boot_images *img, struct boot_info *bi,
		char *err, size_t errlen)
{
	memset(bi, 0, sizeof(*bi));
	if (is_elf(img))
		return pvh_load(gm, l, img, bi, err, errlen);
	if (is_bzimage(img))
		return bzimage_load(gm, l, img, bi, err, errlen);
	return loader_probe(img, err, errlen);
}

/* Maps a whole file read-only; an empty file is an error. */
static int map_file(const char *path, const char *what, const uint8_t **p,
		    size_t *len, char *err, size_t errlen)
{
	struct stat st;
	void *m;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s '%s': not a non-empty regular file",
			 what, path);
		close(fd);
		return -1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	*p = m;
	*len = (size_t)st.st_size;
	return 0;
}

int loader_map_files(struct boot_images *img, const char *kernel,
		     const char *initrd, const char *cmdline, char *err,
		     size_t errlen)
{
	memset(img, 0, sizeof(*img));
	img->cmdline = cmdline;
	if (map_file(kernel, "kernel", &img->kernel, &img->kernel_len, err,
		     errlen))
		return -1;
	if (initrd && map_file(initrd, "initrd", &img->initrd,
			       &img->initrd_len, err, errlen)) {
		loader_unmap_files(img);
		return -1;
	}
	return loader_probe(img, err, errlen);
}

void loader_unmap_files(struct boot_images *img)
{
	if (img->initrd)
		munmap((void *)img->initrd, img->initrd_len);
	if (img->kernel)
		munmap((void *)img->kernel, img->kernel_len);
	img->kernel = img->initrd = NULL;
}

// SPDX-License-Identifier: MIT
/*
 * PVH boot (xen/include/public/arch-x86/hvm/start_info.h): the kernel is an
 * ELF whose note XEN_ELFNOTE_PHYS32_ENTRY names a 32-bit entry point, entered
 * in flat protected mode with paging off and EBX pointing at hvm_start_info.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"
#include "pvh.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* One program header, normalised from ELF32 or ELF64. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct elf_view {
	const uint8_t *img;
	size_t len;
	bool is64;
	uint64_t phoff;
	unsigned phnum, phentsize;
};

static bool in_file(const struct elf_view *v, uint64_t off, uint64_t len)
{
	return off <= v->len && len <= v->len - off;
}

static int elf_open(struct elf_view *v, const uint8_t *img, size_t len,
		    char *err, size_t errlen)
{
	v->img = img;
	v->len = len;
	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "kernel is not an ELF file");
		return -1;
	}
	if (img[EI_DATA] != ELFDATA2LSB ||
	    (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64)) {
		snprintf(err, errlen, "kernel ELF is not little-endian 32/64-bit");
		return -1;
	}
	v->is64 = img[EI_CLASS] == ELFCLASS64;
	if (v->is64) {
		Elf64_Ehdr eh;

		if (len < sizeof(eh))
			goto truncated;
		memcpy(&eh, img, sizeof(eh));
		if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
			goto machine;
		v->phoff = eh.e_phoff;
		v->phnum = eh.e_phnum;
		v->phentsize = eh.e_phentsize;
		if (v->phentsize < sizeof(Elf64_Phdr))
			goto truncated;
	} else {
		Elf32_Ehdr eh;

		if (len < sizeof(eh))
			goto truncated;
		memcpy(&eh, img, sizeof(eh));
		if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
			goto machine;
		v->phoff = eh.e_phoff;
		v->phnum = eh.e_phnum;
		v->phentsize = eh.e_phentsize;
		if (v->phentsize < sizeof(Elf32_Phdr))
			goto truncated;
	}
	if (!v->phnum || !in_file(v, v->phoff, (uint64_t)v->phnum * v->phentsize))
		goto truncated;
	return 0;
truncated:
	snprintf(err, errlen, "kernel ELF is truncated or its headers are malformed");
	return -1;
machine:
	snprintf(err, errlen, "kernel ELF is not for x86");
	return -1;
}

static void elf_phdr(const struct elf_view *v, unsigned i, struct phdr *p)
{
	const uint8_t *at = v->img + v->phoff + (uint64_t)i * v->phentsize;

	if (v->is64) {
		Elf64_Phdr h;

		memcpy(&h, at, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr,
				    h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;

		memcpy(&h, at, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr,
				    h.p_filesz, h.p_memsz };
	}
}

/* Walks the notes of one PT_NOTE segment; 1 and *entry if found. */
static int scan_notes(const struct elf_view *v, const struct phdr *p,
		      uint64_t *entry)
{
	uint64_t off = p->offset, end;

	if (!in_file(v, p->offset, p->filesz))
		return -1;
	end = p->offset + p->filesz;
	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;	/* same layout as Elf32_Nhdr */
		uint64_t name_off, desc_off, next;

		memcpy(&nh, v->img + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + ((nh.n_namesz + 3ull) & ~3ull);
		next = desc_off + ((nh.n_descsz + 3ull) & ~3ull);
		if (next > end || desc_off > end)
			return -1;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(v->img + name_off, "Xen", 4)) {
			uint64_t e = 0;

			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return -1;
			memcpy(&e, v->img + desc_off, nh.n_descsz);
			*entry = e;
			return 1;
		}
		off = next;
	}
	return 0;
}

int pvh_find_entry(const uint8_t *img, size_t len, uint64_t *entry,
		   char *err, size_t errlen)
{
	struct elf_view v;
	bool bad = false;

	if (elf_open(&v, img, len, err, errlen))
		return -1;
	for (unsigned i = 0; i < v.phnum; i++) {
		struct phdr p;
		int r;

		elf_phdr(&v, i, &p);
		if (p.type != PT_NOTE)
			continue;
		r = scan_notes(&v, &p, entry);
		if (r > 0) {
			if (*entry > 0xffffffffull) {
				snprintf(err, errlen,
					 "kernel's PVH entry 0x%llx is above 4 GiB",
					 (unsigned long long)*entry);
				return -1;
			}
			return 0;
		}
		bad |= r < 0;
	}
	snprintf(err, errlen, bad ? "kernel ELF has a malformed note segment" :
		 "kernel ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
		 "build it with CONFIG_PVH or boot a bzImage");
	return -1;
}

static int load_segments(struct guest_mem *gm, const struct elf_view *v,
			 uint64_t *kernel_end, char *err, size_t errlen)
{
	unsigned loaded = 0;

	*kernel_end = 0;
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr p;
		uint8_t *dst;

		elf_phdr(v, i, &p);
		if (p.type != PT_LOAD || !p.memsz)
			continue;
		if (p.filesz > p.memsz || !in_file(v, p.offset, p.filesz)) {
			snprintf(err, errlen,
				 "kernel ELF segment %u lies outside the file", i);
			return -1;
		}
		/* Below 1 MiB is ours: boot data, MP table, BIOS area. */
		dst = p.paddr >= HIMEM_START ?
			guest_mem_ptr(gm, p.paddr, p.memsz) : NULL;
		if (!dst) {
			snprintf(err, errlen,
				 "kernel ELF segment %u at 0x%llx+0x%llx is not in guest RAM above 1 MiB%s",
				 i, (unsigned long long)p.paddr,
				 (unsigned long long)p.memsz,
				 p.paddr >= HIMEM_START ? "; add --memory" : "");
			return -1;
		}
		memcpy(dst, v->img + p.offset, p.filesz);
		memset(dst + p.filesz, 0, p.memsz - p.filesz);
		if (p.paddr + p.memsz > *kernel_end)
			*kernel_end = p.paddr + p.memsz;
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "kernel ELF has no loadable segment");
		return -1;
	}
	return 0;
}

int pvh_load(struct guest_mem *gm, const struct mem_layout *l,
	     const struct boot_images *img, struct boot_info *bi, char *err,
	     size_t errlen)
{
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = 1,
		.cmdline_paddr = BOOT_CMDLINE_GPA,
		.memmap_paddr = PVH_INFO_GPA + PVH_MEMMAP_OFF,
	};
	struct hvm_memmap_table_entry mm[E820_MAX];
	struct e820_entry e[E820_MAX];
	struct hvm_modlist_entry mod = { 0 };
	struct elf_view v;
	uint64_t initrd_gpa;
	unsigned n;

	if (pvh_find_entry(img->kernel, img->kernel_len, &bi->entry, err,
			   errlen) ||
	    elf_open(&v, img->kernel, img->kernel_len, err, errlen) ||
	    load_segments(gm, &v, &bi->kernel_end, err, errlen))
		return -1;
	if (loader_write_cmdline(gm, img->cmdline, BOOT_CMDLINE_MAX, err,
				 errlen))
		return -1;
	/* The PVH ABI limits everything to 4 GiB. */
	if (loader_place_initrd(gm, l, img, bi->kernel_end, LOW_RAM_MAX,
				&initrd_gpa, err, errlen))
		return -1;
	if (img->initrd) {
		mod.paddr = initrd_gpa;
		mod.size = img->initrd_len;
		si.nr_modules = 1;
		si.modlist_paddr = PVH_INFO_GPA + PVH_MODLIST_OFF;
	}
	n = e820_build(l, e, E820_MAX);
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){
			.addr = e[i].addr, .size = e[i].size, .type = e[i].type,
		};
	si.memmap_entries = n;
	if (guest_mem_write(gm, PVH_INFO_GPA, &si, sizeof(si)) ||
	    guest_mem_write(gm, si.memmap_paddr, mm, n * sizeof(mm[0])) ||
	    (si.nr_modules &&
	     guest_mem_write(gm, si.modlist_paddr, &mod, sizeof(mod))) ||
	    loader_write_long_mode_tables(gm)) {
		snprintf(err, errlen, "guest RAM too small for the boot data");
		return -1;
	}
	bi->kind = BOOT_PVH;
	bi->boot_data = PVH_INFO_GPA;
	return 0;
}

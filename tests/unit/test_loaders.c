// SPDX-License-Identifier: MIT
/* PVH and bzImage loaders, fed crafted images: layout, boot data, errors. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader.h"
#include "pvh.h"

#define RAM_SIZE (64u << 20)

struct fixture {
	uint8_t *ram;
	struct guest_mem gm;
	struct mem_layout l;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->ram = calloc(1, RAM_SIZE);
	if (!f->ram)
		return -1;
	mem_layout_init(&f->l, RAM_SIZE);
	guest_mem_init(&f->gm);
	guest_mem_add(&f->gm, 0, RAM_SIZE, f->ram, -1, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f);
	return 0;
}

/* An ELF64 with one PT_NOTE (the PVH entry) and one PT_LOAD. */
struct pvh_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t payload[64];
};

static void make_pvh(struct pvh_image *img, uint64_t paddr, uint32_t entry)
{
	memset(img, 0, sizeof(*img));
	memcpy(img->eh.e_ident, ELFMAG, SELFMAG);
	img->eh.e_ident[EI_CLASS] = ELFCLASS64;
	img->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img->eh.e_ident[EI_VERSION] = EV_CURRENT;
	img->eh.e_type = ET_EXEC;
	img->eh.e_machine = EM_X86_64;
	img->eh.e_version = EV_CURRENT;
	img->eh.e_phoff = offsetof(struct pvh_image, ph);
	img->eh.e_ehsize = sizeof(Elf64_Ehdr);
	img->eh.e_phentsize = sizeof(Elf64_Phdr);
	img->eh.e_phnum = 2;
	img->ph[0].p_type = PT_NOTE;
	img->ph[0].p_offset = offsetof(struct pvh_image, nh);
	img->ph[0].p_filesz = sizeof(Elf64_Nhdr) + 4 + 4;
	img->ph[1].p_type = PT_LOAD;
	img->ph[1].p_offset = offsetof(struct pvh_image, payload);
	img->ph[1].p_paddr = paddr;
	img->ph[1].p_filesz = sizeof(img->payload);
	img->ph[1].p_memsz = 4096;	/* bss after the payload */
	img->nh.n_namesz = 4;
	img->nh.n_descsz = 4;
	img->nh.n_type = 18;	/* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(img->name, "Xen", 4);
	img->entry = entry;
	memset(img->payload, 0xab, sizeof(img->payload));
}

static int load(struct fixture *f, const void *k, size_t klen,
		const void *initrd, size_t ilen, const char *cmdline,
		struct boot_info *bi)
{
	struct boot_images img = {
		.kernel = k, .kernel_len = klen,
		.initrd = initrd, .initrd_len = ilen, .cmdline = cmdline,
	};

	return loader_load(&f->gm, &f->l, &img, bi, f->err, sizeof(f->err));
}

static void pvh_loads_segments_and_writes_start_info(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;
	struct hvm_start_info si;
	struct hvm_memmap_table_entry mm[8];
	struct hvm_modlist_entry mod;
	static const uint8_t initrd[5000] = { 7 };

	make_pvh(&img, 0x100000, 0x100040);
	memset(f->ram + 0x100000 + 64, 0x55, 100);	/* stale "bss" */
	assert_int_equal(load(f, &img, sizeof(img), initrd, sizeof(initrd),
			      "test=hello", &bi), 0);
	assert_int_equal(bi.kind, BOOT_PVH);
	assert_int_equal(bi.entry, 0x100040);
	assert_int_equal(bi.boot_data, PVH_INFO_GPA);
	assert_int_equal(f->ram[0x100000], 0xab);
	assert_int_equal(f->ram[0x100000 + 63], 0xab);
	assert_int_equal(f->ram[0x100000 + 64], 0);	/* bss zeroed */
	memcpy(&si, f->ram + PVH_INFO_GPA, sizeof(si));
	assert_int_equal(si.magic, XEN_HVM_START_MAGIC_VALUE);
	assert_int_equal(si.version, 1);
	assert_string_equal((char *)f->ram + si.cmdline_paddr, "test=hello");
	assert_int_equal(si.nr_modules, 1);
	memcpy(&mod, f->ram + si.modlist_paddr, sizeof(mod));
	assert_int_equal(mod.size, sizeof(initrd));
	assert_int_equal(mod.paddr % 4096, 0);
	assert_true(mod.paddr + mod.size <= RAM_SIZE);
	assert_true(mod.paddr >= bi.kernel_end);
	assert_int_equal(f->ram[mod.paddr], 7);
	assert_int_equal(si.memmap_entries, 3);
	memcpy(mm, f->ram + si.memmap_paddr, sizeof(mm[0]) * 3);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].size, MPTABLE_GPA);
	assert_int_equal(mm[0].type, E820_RAM);
	assert_int_equal(mm[1].addr, MPTABLE_GPA);
	assert_int_equal(mm[1].type, E820_RESERVED);
	assert_int_equal(mm[2].addr, 0x100000);
	assert_int_equal(mm[2].size, RAM_SIZE - 0x100000);
}

static void pvh_without_note_is_refused_with_a_hint(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;

	make_pvh(&img, 0x100000, 0x100000);
	img.nh.n_type = 1;
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "PVH"));
	make_pvh(&img, 0x100000, 0x100000);
	memcpy(img.name, "Lnx", 4);
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "PVH"));
}

static void pvh_segment_outside_ram_or_below_1mib_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;

	make_pvh(&img, RAM_SIZE - 100, 0x100000);
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "--memory"));
	make_pvh(&img, 0x8000, 0x8000);
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "1 MiB"));
	make_pvh(&img, UINT64_MAX - 10, 0x100000);
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
}

static void pvh_malformed_headers_are_refused_not_read(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;

	make_pvh(&img, 0x100000, 0x100000);
	img.eh.e_phnum = 60000;	/* program headers far past the file */
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	make_pvh(&img, 0x100000, 0x100000);
	img.ph[1].p_offset = 1u << 30;
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	make_pvh(&img, 0x100000, 0x100000);
	img.ph[1].p_filesz = 8192;	/* more than memsz */
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	make_pvh(&img, 0x100000, 0x100000);
	img.nh.n_descsz = 0xfffffff0;	/* note running off its segment */
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	make_pvh(&img, 0x100000, 0x100000);
	assert_int_equal(load(f, &img, 40, NULL, 0, NULL, &bi), -1); /* truncated */
	img.eh.e_machine = EM_ARM;
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "x86"));
}

static void unknown_kernel_format_is_named(void **state)
{
	struct fixture *f = *state;
	static const char junk[4096] = "MZ this is not a kernel";
	struct boot_info bi;

	assert_int_equal(load(f, junk, sizeof(junk), NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "neither"));
}

static void cmdline_longer_than_the_kernel_takes_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;
	char *cl = malloc(BOOT_CMDLINE_MAX + 1);

	assert_non_null(cl);
	memset(cl, 'a', BOOT_CMDLINE_MAX);
	cl[BOOT_CMDLINE_MAX] = '\0';
	make_pvh(&img, 0x100000, 0x100000);
	assert_int_equal(load(f, &img, sizeof(img), NULL, 0, cl, &bi), -1);
	assert_non_null(strstr(f->err, "command line"));
	free(cl);
}

static void initrd_too_big_for_ram_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pvh_image img;
	struct boot_info bi;
	uint8_t *big = calloc(1, RAM_SIZE);

	assert_non_null(big);
	make_pvh(&img, 0x100000, 0x100000);
	assert_int_equal(load(f, &img, sizeof(img), big, RAM_SIZE - 0x100000,
			      NULL, &bi), -1);
	assert_non_null(strstr(f->err, "initrd"));
	free(big);
}

/* A bzImage: setup sectors, then the protected-mode kernel. */
static uint8_t *make_bzimage(size_t *len, uint16_t version, uint8_t xlf)
{
	size_t setup_sects = 4, pm = 8192;
	uint8_t *k = calloc(1, (setup_sects + 1) * 512 + pm);
	uint32_t v32;
	uint64_t pref = 0x1000000;

	k[0x1f1] = (uint8_t)setup_sects;
	k[0x1fe] = 0x55;
	k[0x1ff] = 0xaa;
	k[0x201] = 0x6a;	/* header up to 0x26c */
	memcpy(k + 0x202, "HdrS", 4);
	memcpy(k + 0x206, &version, 2);
	k[0x211] = 0x01;	/* LOADED_HIGH */
	v32 = 0x100000;
	memcpy(k + 0x214, &v32, 4);
	v32 = 0x7fffffff;
	memcpy(k + 0x22c, &v32, 4);	/* initrd_addr_max */
	k[0x234] = 1;			/* relocatable */
	k[0x236] = xlf;
	v32 = 2047;
	memcpy(k + 0x238, &v32, 4);	/* cmdline_size */
	memcpy(k + 0x258, &pref, 8);
	v32 = 0x200000;
	memcpy(k + 0x260, &v32, 4);	/* init_size */
	memset(k + (setup_sects + 1) * 512, 0xcc, pm);
	*len = (setup_sects + 1) * 512 + pm;
	return k;
}

static void bzimage_loads_at_pref_address_with_boot_params(void **state)
{
	struct fixture *f = *state;
	struct boot_info bi;
	static const uint8_t initrd[3000] = { 9 };
	uint32_t ramdisk, ramdisk_size, cmd;
	size_t len;
	uint8_t *k = make_bzimage(&len, 0x020f, 1);

	assert_int_equal(load(f, k, len, initrd, sizeof(initrd),
			      "console=ttyS0", &bi), 0);
	assert_int_equal(bi.kind, BOOT_LINUX64);
	assert_int_equal(bi.entry, 0x1000000 + 0x200);
	assert_int_equal(bi.boot_data, BOOT_PARAMS_GPA);
	assert_int_equal(f->ram[0x1000000], 0xcc);
	assert_int_equal(f->ram[BOOT_PARAMS_GPA + 0x210], 0xff); /* loader */
	assert_memory_equal(f->ram + BOOT_PARAMS_GPA + 0x202, "HdrS", 4);
	memcpy(&cmd, f->ram + BOOT_PARAMS_GPA + 0x228, 4);
	assert_string_equal((char *)f->ram + cmd, "console=ttyS0");
	memcpy(&ramdisk, f->ram + BOOT_PARAMS_GPA + 0x218, 4);
	memcpy(&ramdisk_size, f->ram + BOOT_PARAMS_GPA + 0x21c, 4);
	assert_int_equal(ramdisk_size, sizeof(initrd));
	assert_true(ramdisk >= 0x1000000 + 0x200000);
	assert_int_equal(f->ram[ramdisk], 9);
	assert_int_equal(f->ram[BOOT_PARAMS_GPA + 0x1e8], 3);	/* e820 */
	/* Identity map for the 64-bit entry: PML4 -> PDPT -> 2 MiB pages. */
	assert_int_equal(f->ram[BOOT_PML4_GPA] & 1, 1);
	assert_int_equal(f->ram[BOOT_PD_GPA] & 0x81, 0x81);
	free(k);
}

static void bzimage_without_64bit_entry_is_refused(void **state)
{
	struct fixture *f = *state;
	struct boot_info bi;
	size_t len;
	uint8_t *k = make_bzimage(&len, 0x020f, 0);

	assert_int_equal(load(f, k, len, NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "64-bit"));
	free(k);
	k = make_bzimage(&len, 0x0206, 1);
	assert_int_equal(load(f, k, len, NULL, 0, NULL, &bi), -1);
	assert_non_null(strstr(f->err, "2.06"));
	free(k);
}

static void bzimage_cmdline_over_its_cmdline_size_is_refused(void **state)
{
	struct fixture *f = *state;
	struct boot_info bi;
	char cl[3000];
	size_t len;
	uint8_t *k = make_bzimage(&len, 0x020f, 1);

	memset(cl, 'x', sizeof(cl) - 1);
	cl[sizeof(cl) - 1] = '\0';
	assert_int_equal(load(f, k, len, NULL, 0, cl, &bi), -1);
	assert_non_null(strstr(f->err, "command line"));
	free(k);
}

static void e820_splits_ram_around_the_pci_hole(void **state)
{
	struct mem_layout l;
	struct e820_entry e[E820_MAX];
	unsigned n;

	(void)state;
	mem_layout_init(&l, 4ull << 30);
	assert_int_equal(l.low_size, LOW_RAM_MAX);
	assert_int_equal(l.high_size, (4ull << 30) - LOW_RAM_MAX);
	n = e820_build(&l, e, E820_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(e[2].addr + e[2].size, LOW_RAM_MAX);
	assert_int_equal(e[3].addr, HIGH_RAM_START);
	assert_int_equal(e[3].size, l.high_size);
	assert_int_equal(e[3].type, E820_RAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pvh_loads_segments_and_writes_start_info, setup, teardown),
		cmocka_unit_test_setup_teardown(pvh_without_note_is_refused_with_a_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(pvh_segment_outside_ram_or_below_1mib_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(pvh_malformed_headers_are_refused_not_read, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_kernel_format_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(cmdline_longer_than_the_kernel_takes_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(initrd_too_big_for_ram_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_loads_at_pref_address_with_boot_params, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_without_64bit_entry_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(bzimage_cmdline_over_its_cmdline_size_is_refused, setup, teardown),
		cmocka_unit_test(e820_splits_ram_around_the_pci_hole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

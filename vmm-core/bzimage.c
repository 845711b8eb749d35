// SPDX-License-Identifier: MIT
/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry:
 * the protected-mode kernel is loaded as is, boot_params (the "zero page")
 * carries the setup header, command line, initrd and e820 map, and the vCPU
 * starts in long mode at the load address + 0x200 with RSI = boot_params.
 */
#include <stdio.h>
#include <string.h>

#include "loader.h"

/* Offsets in the image and in boot_params (the setup header sits at the
 * same place in both). */
#define HDR_START		0x1f1
#define HDR_SETUP_SECTS		0x1f1
#define HDR_BOOT_FLAG		0x1fe
#define HDR_JUMP_END		0x201	/* header ends at 0x202 + this byte */
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_CODE32_START	0x214
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_KERNEL_ALIGNMENT	0x230
#define HDR_RELOCATABLE		0x234
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128

#define LOADFLAG_LOADED_HIGH	0x01
#define XLF_KERNEL_64		0x01
#define BOOT_PROTO_MIN		0x020c	/* xloadflags, 64-bit entry */

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

/* Where the protected-mode kernel goes, honouring relocatability. */
static uint64_t load_address(const uint8_t *k)
{
	uint64_t pref;

	memcpy(&pref, k + HDR_PREF_ADDRESS, 8);
	if (k[HDR_RELOCATABLE] && pref >= HIMEM_START)
		return pref;
	return rd32(k, HDR_CODE32_START);
}

static void fill_e820(uint8_t *bp, const struct mem_layout *l)
{
	struct e820_entry e[E820_MAX];
	unsigned n = e820_build(l, e, E820_MAX);

	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *at = bp + BP_E820_TABLE + i * 20;	/* packed */

		memcpy(at, &e[i].addr, 8);
		memcpy(at + 8, &e[i].size, 8);
		memcpy(at + 16, &e[i].type, 4);
	}
}

int bzimage_load(struct guest_mem *gm, const struct mem_layout *l,
		 const struct boot_images *img, struct boot_info *bi,
		 char *err, size_t errlen)
{
	const uint8_t *k = img->kernel;
	uint8_t bp[4096] = { 0 };
	size_t setup_len, hdr_end, pm_len;
	uint64_t load, init_size, initrd_gpa, initrd_max;
	uint32_t cmdline_size;
	uint16_t version;
	uint8_t *dst;

	if (img->kernel_len < HDR_INIT_SIZE + 8 ||
	    rd16(k, HDR_BOOT_FLAG) != 0xaa55 ||
	    memcmp(k + HDR_MAGIC, "HdrS", 4)) {
		snprintf(err, errlen, "kernel is not a Linux bzImage (no HdrS header)");
		return -1;
	}
	version = rd16(k, HDR_VERSION);
	if (version < BOOT_PROTO_MIN || !(k[HDR_XLOADFLAGS] & XLF_KERNEL_64) ||
	    !(k[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH)) {
		snprintf(err, errlen,
			 "bzImage boot protocol %u.%02u lacks a 64-bit entry point (need 2.12+ with XLF_KERNEL_64)",
			 version >> 8, version & 0xff);
		return -1;
	}
	setup_len = ((size_t)(k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4) + 1) * 512;
	hdr_end = 0x202 + (size_t)k[HDR_JUMP_END];
	if (setup_len >= img->kernel_len || hdr_end > setup_len ||
	    hdr_end > sizeof(bp)) {
		snprintf(err, errlen, "bzImage setup header is malformed");
		return -1;
	}
	pm_len = img->kernel_len - setup_len;
	load = load_address(k);
	memcpy(&init_size, k + HDR_INIT_SIZE, 4);
	init_size &= 0xffffffff;
	if (init_size < pm_len)
		init_size = pm_len;
	/* The kernel decompresses in place within init_size bytes. */
	dst = load >= HIMEM_START ? guest_mem_ptr(gm, load, init_size) : NULL;
	if (!dst) {
		snprintf(err, errlen,
			 "bzImage needs RAM at 0x%llx+0x%llx; add --memory",
			 (unsigned long long)load, (unsigned long long)init_size);
		return -1;
	}
	memcpy(dst, k + setup_len, pm_len);
	bi->kernel_end = load + init_size;

	memcpy(bp + HDR_START, k + HDR_START, hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = 0xff;	/* undefined loader */
	cmdline_size = version >= 0x0206 ? rd32(k, HDR_CMDLINE_SIZE) : 255;
	if (loader_write_cmdline(gm, img->cmdline,
				 cmdline_size + 1 < BOOT_CMDLINE_MAX ?
					 cmdline_size + 1 : BOOT_CMDLINE_MAX,
				 err, errlen))
		return -1;
	wr32(bp, HDR_CMD_LINE_PTR, BOOT_CMDLINE_GPA);
	initrd_max = (uint64_t)rd32(k, HDR_INITRD_ADDR_MAX) + 1;
	if (loader_place_initrd(gm, l, img, bi->kernel_end, initrd_max,
				&initrd_gpa, err, errlen))
		return -1;
	wr32(bp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
	wr32(bp, HDR_RAMDISK_SIZE, (uint32_t)img->initrd_len);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_gpa >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)img->initrd_len >> 32));
	fill_e820(bp, l);
	if (guest_mem_write(gm, BOOT_PARAMS_GPA, bp, sizeof(bp)) ||
	    loader_write_long_mode_tables(gm)) {
		snprintf(err, errlen, "guest RAM too small for the boot data");
		return -1;
	}
	bi->kind = BOOT_LINUX64;
	bi->entry = load + 0x200;
	bi->boot_data = BOOT_PARAMS_GPA;
	return 0;
}

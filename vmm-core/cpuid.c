// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <stdbool.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpuid.h"

enum reg { EAX, EBX, ECX, EDX };

struct feature {
	const char *name;	/* as /proc/cpuinfo spells it */
	uint32_t leaf, subleaf;
	enum reg reg;
	unsigned bit;
};

/*
 * The features worth hiding from a guest, chiefly those a nested or
 * emulating host cannot run (cx16, xsave) and those a test wants absent.
 */
static const struct feature features[] = {
	{ "pclmulqdq", 1, 0, ECX, 1 },
	{ "ssse3", 1, 0, ECX, 9 },
	{ "fma", 1, 0, ECX, 12 },
	{ "cx16", 1, 0, ECX, 13 },
	{ "pcid", 1, 0, ECX, 17 },
	{ "sse4_1", 1, 0, ECX, 19 },
	{ "sse4_2", 1, 0, ECX, 20 },
	{ "x2apic", 1, 0, ECX, 21 },
	{ "movbe", 1, 0, ECX, 22 },
	{ "popcnt", 1, 0, ECX, 23 },
	{ "tsc_deadline_timer", 1, 0, ECX, 24 },
	{ "aes", 1, 0, ECX, 25 },
	{ "xsave", 1, 0, ECX, 26 },
	{ "avx", 1, 0, ECX, 28 },
	{ "f16c", 1, 0, ECX, 29 },
	{ "rdrand", 1, 0, ECX, 30 },
	{ "hypervisor", 1, 0, ECX, 31 },
	{ "mtrr", 1, 0, EDX, 12 },
	{ "pge", 1, 0, EDX, 13 },
	{ "mca", 1, 0, EDX, 14 },
	{ "pat", 1, 0, EDX, 16 },
	{ "clflush", 1, 0, EDX, 19 },
	{ "fsgsbase", 7, 0, EBX, 0 },
	{ "bmi1", 7, 0, EBX, 3 },
	{ "avx2", 7, 0, EBX, 5 },
	{ "smep", 7, 0, EBX, 7 },
	{ "bmi2", 7, 0, EBX, 8 },
	{ "erms", 7, 0, EBX, 9 },
	{ "invpcid", 7, 0, EBX, 10 },
	{ "rtm", 7, 0, EBX, 11 },
	{ "avx512f", 7, 0, EBX, 16 },
	{ "rdseed", 7, 0, EBX, 18 },
	{ "adx", 7, 0, EBX, 19 },
	{ "smap", 7, 0, EBX, 20 },
	{ "clflushopt", 7, 0, EBX, 23 },
	{ "sha_ni", 7, 0, EBX, 29 },
	{ "umip", 7, 0, ECX, 2 },
	{ "pku", 7, 0, ECX, 3 },
	{ "la57", 7, 0, ECX, 16 },
	{ "rdpid", 7, 0, ECX, 22 },
	{ "arch_capabilities", 7, 0, EDX, 29 },
	{ "xsaveopt", 0xd, 1, EAX, 0 },
	{ "xsavec", 0xd, 1, EAX, 1 },
	{ "xsaves", 0xd, 1, EAX, 3 },
	{ "lahf_lm", 0x80000001, 0, ECX, 0 },
	{ "svm", 0x80000001, 0, ECX, 2 },
	{ "abm", 0x80000001, 0, ECX, 5 },
	{ "nx", 0x80000001, 0, EDX, 20 },
	{ "pdpe1gb", 0x80000001, 0, EDX, 26 },
	{ "rdtscp", 0x80000001, 0, EDX, 27 },
};

#define NFEATURES (sizeof(features) / sizeof(features[0]))

void cpuid_list_features(FILE *out)
{
	fprintf(out, "CPUID features --cpuid-clear knows:\n");
	for (size_t i = 0; i < NFEATURES; i++)
		fprintf(out, "%s%s", features[i].name,
			(i + 1) % 8 && i + 1 < NFEATURES ? " " : "\n");
}

/* '-' and '_' are the same, as QEMU and /proc/cpuinfo disagree on them. */
static bool name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++) {
		char x = a[i] == '-' ? '_' : (char)tolower((unsigned char)a[i]);

		if (x != b[i])
			return false;
	}
	return i == alen && !b[i];
}

static const struct feature *lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (name_eq(name, len, features[i].name))
			return &features[i];
	return NULL;
}

/* Calls @fn for each item of a comma list; stops at the first nonzero. */
static int for_each_item(const char *list,
			 int (*fn)(const char *s, size_t len, void *arg),
			 void *arg)
{
	const char *s = list;

	while (*s) {
		size_t len = strcspn(s, ",");
		int r = fn(s, len, arg);

		if (r)
			return r;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

struct check_ctx {
	char *err;
	size_t errlen;
};

static int check_one(const char *s, size_t len, void *arg)
{
	struct check_ctx *c = arg;

	if (len && lookup(s, len))
		return 0;
	snprintf(c->err, c->errlen,
		 "--cpuid-clear: unknown feature '%.*s' (--cpuid-clear help lists them)",
		 (int)len, s);
	return -1;
}

int cpuid_check_list(const char *list, char *err, size_t errlen)
{
	struct check_ctx c = { err, errlen };

	if (!*list) {
		snprintf(err, errlen, "--cpuid-clear: empty feature list");
		return -1;
	}
	return for_each_item(list, check_one, &c);
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum reg r)
{
	switch (r) {
	case EAX: return &e->eax;
	case EBX: return &e->ebx;
	case ECX: return &e->ecx;
	default: return &e->edx;
	}
}

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid_entry2 *e,
					  unsigned n, uint32_t leaf,
					  uint32_t subleaf)
{
	for (unsigned i = 0; i < n; i++) {
		if (e[i].function != leaf)
			continue;
		if ((e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e[i].index != subleaf)
			continue;
		return &e[i];
	}
	return NULL;
}

struct clear_ctx {
	struct kvm_cpuid_entry2 *e;
	unsigned n;
};

static int clear_one(const char *s, size_t len, void *arg)
{
	struct clear_ctx *c = arg;
	const struct feature *f = lookup(s, len);
	struct kvm_cpuid_entry2 *e;

	if (!f)
		return 0;	/* checked at parse time */
	e = find_leaf(c->e, c->n, f->leaf, f->subleaf);
	if (e)
		*reg_of(e, f->reg) &= ~(UINT32_C(1) << f->bit);
	return 0;
}

void cpuid_fixup(struct kvm_cpuid_entry2 *e, unsigned n, unsigned apic_id,
		 unsigned ncpus, const char *clear)
{
	for (unsigned i = 0; i < n; i++) {
		switch (e[i].function) {
		case 1:
			/* Initial APIC ID and logical processor count. */
			e[i].ebx = (e[i].ebx & 0x0000ffff) | (apic_id << 24) |
				   ((ncpus & 0xff) << 16);
			/* A guest must know it is virtualized. */
			e[i].ecx |= UINT32_C(1) << 31;
			break;
		case 0xb:
		case 0x1f:
			e[i].edx = apic_id;	/* x2APIC ID */
			break;
		}
	}
	if (clear) {
		struct clear_ctx c = { e, n };

		for_each_item(clear, clear_one, &c);
	}
}

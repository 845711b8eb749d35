/* SPDX-License-Identifier: MIT */
/*
 * CPUID as the guest sees it: KVM's supported set, with the APIC IDs of each
 * vCPU filled in and the features the user asked to hide cleared.
 */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <stddef.h>
#include <stdio.h>

struct kvm_cpuid_entry2;

void cpuid_list_features(FILE *out);
/* 0 if every name in the comma-separated @list is known, else -1 + @err. */
int cpuid_check_list(const char *list, char *err, size_t errlen);
/*
 * Edits @n entries in place for vCPU @apic_id of @ncpus: clears the features
 * named in @clear (may be NULL) and sets the per-CPU identity fields.
 */
void cpuid_fixup(struct kvm_cpuid_entry2 *e, unsigned n, unsigned apic_id,
		 unsigned ncpus, const char *clear);

#endif

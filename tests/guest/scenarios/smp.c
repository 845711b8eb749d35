// SPDX-License-Identifier: MIT
/*
 * test=smp: start every enabled processor and wait for each to count in
 * from long mode. Processors come from the MP table; the ACPI MADT is used
 * instead where it lists more (SeaBIOS puts only one CPU per package in the
 * MP table). Neither table means a uniprocessor (MP spec 1.4, section 4).
 */
#include "acpi.h"
#include "apic.h"
#include "mptable.h"
#include "smp.h"
#include "scenarios.h"

#define AP_TIMEOUT_US	1000000

struct cpus {
	unsigned int n;
	uint8_t apic_id[MAX_CPUS];
};

static void cpus_from_mp(struct cpus *c)
{
	const char *why;
	const struct mp_info *mp = mp_get(&why);

	c->n = 0;
	if (!mp) {
		printf("smp: %s\n", why);
		return;
	}
	for (unsigned int i = 0; i < mp->ncpus; i++)
		if (mp->cpus[i].flags & MP_CPU_EN)
			c->apic_id[c->n++] = mp->cpus[i].apic_id;
}

static void find_cpus(struct cpus *c)
{
	struct cpus madt;

	cpus_from_mp(c);
	madt.n = acpi_madt_cpus(madt.apic_id, MAX_CPUS);
	if (madt.n > c->n) {
		printf("smp: MP table lists %u cpus, ACPI MADT %u: using the MADT\n",
		       c->n, madt.n);
		*c = madt;
	}
	if (!c->n) {
		printf("smp: no processor tables: uniprocessor\n");
		c->n = 1;
		c->apic_id[0] = (uint8_t)lapic_id();
	}
}

static bool start_one(uint8_t id)
{
	uint32_t got;

	if (smp_start_ap(id, AP_TIMEOUT_US)) {
		printf("smp: cpu apic-id %u did not come up\n", id);
		return false;
	}
	got = ap_apic_id[ap_online - 1];
	if (got != id) {
		printf("smp: cpu apic-id %u came up as apic-id %u\n", id, got);
		return false;
	}
	printf("smp: cpu apic-id %u online\n", id);
	return true;
}

void scenario_smp(void)
{
	struct cpus c;
	uint32_t bsp = lapic_id();
	unsigned int online = 0;

	find_cpus(&c);
	smp_install_trampoline();
	for (unsigned int i = 0; i < c.n; i++) {
		if (c.apic_id[i] == bsp) {
			printf("smp: cpu apic-id %u bsp\n", bsp);
			online++;
		} else if (start_one(c.apic_id[i])) {
			online++;
		}
	}
	printf("smp: %u/%u cpus online\n", online, c.n);
	if (online != c.n)
		fail(EXIT_FAIL, "%u of %u cpus came up", online, c.n);
}

// SPDX-License-Identifier: MIT
/*
 * INIT-SIPI-SIPI through the local APIC ICR, from CPL3 (the APIC page is
 * user-mapped), with the delays of the MultiProcessor Specification
 * (appendix B.4): 10 ms after INIT, 200 us between the STARTUPs.
 */
#include "apic.h"
#include "smp.h"

volatile uint32_t ap_ticket;
volatile uint32_t ap_online;
volatile uint32_t ap_apic_id[MAX_CPUS];

#define ICR_TIMEOUT_US	10000

void smp_install_trampoline(void)
{
	size_t len = (uintptr_t)ap_trampoline_end - (uintptr_t)ap_trampoline_start;

	memcpy(phys(AP_TRAMPOLINE), ap_trampoline_start, len);
}

static int send_ipi(uint8_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, (uint32_t)apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	if (!wait_until(!(lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING),
			ICR_TIMEOUT_US))
		return -1;
	return 0;
}

int smp_start_ap(uint8_t apic_id, uint64_t timeout_us)
{
	uint32_t before = ap_online;
	uint32_t sipi = ICR_STARTUP | (AP_TRAMPOLINE >> 12);

	if (send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT))
		return -1;
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		if (send_ipi(apic_id, sipi))
			return -1;
		if (wait_until(ap_online != before, 200))
			return 0;
	}
	return wait_until(ap_online != before, timeout_us) ? 0 : -1;
}

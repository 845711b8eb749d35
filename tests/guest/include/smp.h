/* SPDX-License-Identifier: MIT */
/*
 * Application processor start-up. APs run boot/trampoline.S, enter long
 * mode at CPL0, count themselves in (ap_online, ap_apic_id[]) and halt.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "guest.h"

/* Copy the real-mode trampoline to AP_TRAMPOLINE. */
void smp_install_trampoline(void);
/* INIT-SIPI-SIPI to apic_id; 0 once it has counted in, -1 on timeout. */
int smp_start_ap(uint8_t apic_id, uint64_t timeout_us);

#endif /* GUEST_SMP_H */

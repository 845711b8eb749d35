/* SPDX-License-Identifier: MIT */
/*
 * The scenarios, chosen by test=NAME. Each returns on success and calls
 * fail() otherwise; main.c then exits 0.
 */
#ifndef GUEST_SCENARIOS_H
#define GUEST_SCENARIOS_H

void scenario_hello(void);
void scenario_pci_scan(void);
void scenario_irq(void);
void scenario_smp(void);
void scenario_exit(void);
void scenario_fault(void);
void scenario_testdev(void);
void scenario_bench(void);
void scenario_shutdown(void);
void scenario_pcnet_linux(void);
void scenario_pcnet_ipxe(void);
void scenario_pcnet_netbsd(void);
void scenario_refdev(void);
void scenario_bench_dev(void);
void scenario_pcnet_mmio(void);
void scenario_pcnet_persist(void);
void scenario_ping(void);
void scenario_udp_send(void);
void scenario_udp_echo(void);
void scenario_multicast(void);
void scenario_pcnet_wire(void);
void scenario_rr(void);
void scenario_txbench(void);

#endif /* GUEST_SCENARIOS_H */

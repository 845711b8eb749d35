// SPDX-License-Identifier: MIT
/*
 * CPL3 entry (from boot/head.S): read the command line, run test=NAME.
 */
#include "guest.h"
#include "scenarios/scenarios.h"

struct scenario {
	const char *name;
	void (*run)(void);
};

static const struct scenario scenarios[] = {
	{ "hello", scenario_hello },
	{ "pci-scan", scenario_pci_scan },
	{ "irq", scenario_irq },
	{ "smp", scenario_smp },
	{ "exit", scenario_exit },
	{ "fault", scenario_fault },
	{ "testdev", scenario_testdev },
	{ "bench", scenario_bench },
	{ "shutdown", scenario_shutdown },
	{ "pcnet-linux", scenario_pcnet_linux },
	{ "pcnet-ipxe", scenario_pcnet_ipxe },
	{ "pcnet-netbsd", scenario_pcnet_netbsd },
	{ "refdev", scenario_refdev },
	{ "bench-dev", scenario_bench_dev },
	{ "pcnet-mmio", scenario_pcnet_mmio },
	{ "pcnet-persist", scenario_pcnet_persist },
	{ "ping", scenario_ping },
	{ "udp-send", scenario_udp_send },
	{ "udp-echo", scenario_udp_echo },
	{ "multicast", scenario_multicast },
	{ "pcnet-wire", scenario_pcnet_wire },
	{ "rr", scenario_rr },
	{ "txbench", scenario_txbench },
};

static __noreturn void unknown(const char *name)
{
	char list[128];
	size_t n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(scenarios) && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i ? " " : "", scenarios[i].name);
	if (!name)
		fail(EXIT_USAGE, "no test= on the command line (known: %s)",
		     list);
	fail(EXIT_USAGE, "unknown test '%s' (known: %s)", name, list);
}

void guest_main(void);

void guest_main(void)
{
	const char *name;

	serial_init();
	cmdline_init(bootinfo_cmdline());
	name = param("test");
	if (name)
		test_name = name;
	for (size_t i = 0; name && i < ARRAY_SIZE(scenarios); i++) {
		if (strcmp(name, scenarios[i].name))
			continue;
		scenarios[i].run();
		exit(EXIT_PASS);
	}
	unknown(name);
}

/* SPDX-License-Identifier: MIT */
/* Command-line options of vmm-core: parsed and checked before any KVM call. */
#ifndef VMM_OPTIONS_H
#define VMM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VMM_MAX_CPUS 32
#define VMM_DEFAULT_MEM_MIB 256
#define VMM_MIN_MEM_MIB 2
#define VMM_MAX_DEVICES 8
#define VMM_DEFAULT_DEVICE_TIMEOUT_MS 5000
#define VMM_DEFAULT_DEVICE_WAIT_MS 10000
#define VMM_DEFAULT_DEVICE_SPIN_NS 20000
#define VMM_DEFAULT_PUMP_US 20
#define VMM_MAX_PUMP_US 1000

enum serial_kind {
	SERIAL_STDIO,	/* output to stdout, input from stdin */
	SERIAL_FILE,	/* output appended to a file, no input */
	SERIAL_NONE,	/* the UART exists, its output goes nowhere */
};

struct vmm_options {
	uint64_t mem_mib;
	unsigned cpus;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	enum serial_kind serial;
	const char *serial_path;
	int exit_port;		/* isa-debug-exit port, -1 for none */
	const char *cpuid_clear; /* comma-separated feature names */
	bool verbose;
	bool testdev;		/* add the in-core PCI test function */
	/* Out-of-process PCI devices, one listening socket each. */
	const char *device_sock[VMM_MAX_DEVICES];
	unsigned nr_devices;
	unsigned device_timeout_ms;	/* a dead device's vCPUs wait this long */
	unsigned device_wait_ms;	/* for every device's hello, at start */
	uint64_t device_spin_ns;	/* a vCPU spins this long on its slot */
	bool coalesced_pio;	/* devices' coalescable ports cost no exit */
	unsigned pump_us;	/* coalesced writes forwarded this often */
	int pump_cpu;		/* the pump's host CPU; -1: as vmm-core's */
	bool posted_writes;	/* device writes go through the posted rings */
	bool shadow_reads;	/* devices' shadow registers answered here */
	const char *stats_sock;	/* live counters served here (NULL: none) */
	bool sandbox;		/* --sandbox: ipc/sandbox.h once set up */
	const char *user;	/* --user USER[:GROUP] then (NULL: stay) */
};

/* Outcome of options_parse(). */
enum options_result {
	OPTIONS_OK,
	OPTIONS_HELP,		/* --help or --version: print, exit 0 */
	OPTIONS_ERROR,		/* @err holds one line for the user */
};

enum options_result options_parse(int argc, char **argv,
				  struct vmm_options *o, char *err,
				  size_t errlen);
void options_usage(FILE *out, const char *prog);

#endif

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cpuid.h"
#include "options.h"

enum {
	OPT_SERIAL = 0x100,
	OPT_EXIT_PORT,
	OPT_CPUID_CLEAR,
	OPT_VERSION,
	OPT_TESTDEV,
	OPT_DEVICE_SOCK,
	OPT_DEVICE_TIMEOUT,
	OPT_DEVICE_WAIT,
	OPT_DEVICE_SPIN,
	OPT_COALESCED_PIO,
	OPT_PUMP_US,
	OPT_PUMP_CPU,
	OPT_POSTED_WRITES,
	OPT_SHADOW_READS,
	OPT_STATS_SOCK,
	OPT_SANDBOX,
	OPT_USER,
};

static const struct option long_opts[] = {
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'a' },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "exit-port", required_argument, NULL, OPT_EXIT_PORT },
	{ "cpuid-clear", required_argument, NULL, OPT_CPUID_CLEAR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "testdev", no_argument, NULL, OPT_TESTDEV },
	{ "device-sock", required_argument, NULL, OPT_DEVICE_SOCK },
	{ "device-timeout", required_argument, NULL, OPT_DEVICE_TIMEOUT },
	{ "device-wait", required_argument, NULL, OPT_DEVICE_WAIT },
	{ "device-spin-ns", required_argument, NULL, OPT_DEVICE_SPIN },
	{ "coalesced-pio", required_argument, NULL, OPT_COALESCED_PIO },
	{ "pump-us", required_argument, NULL, OPT_PUMP_US },
	{ "pump-cpu", required_argument, NULL, OPT_PUMP_CPU },
	{ "posted-writes", required_argument, NULL, OPT_POSTED_WRITES },
	{ "shadow-reads", required_argument, NULL, OPT_SHADOW_READS },
	{ "stats-sock", required_argument, NULL, OPT_STATS_SOCK },
	{ "sandbox", no_argument, NULL, OPT_SANDBOX },
	{ "user", required_argument, NULL, OPT_USER },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

void options_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s --kernel FILE [options]\n"
		"Runs a virtual machine on KVM.\n"
		"\n"
		"  -k, --kernel FILE       kernel to boot: an ELF with a PVH entry note\n"
		"                          (vmlinux, the test guest) or a Linux bzImage\n"
		"  -i, --initrd FILE       initial ramdisk\n"
		"  -a, --cmdline STRING    kernel command line\n"
		"  -m, --memory MIB        guest RAM in MiB (default %u, min %u)\n"
		"  -c, --cpus N            vCPUs, one thread each (default 1, max %u)\n"
		"      --serial WHERE      COM1 16550A: stdio (default), file:PATH, none\n"
		"      --exit-port PORT    isa-debug-exit port (default 0xf4); a write of V\n"
		"                          exits with status (V<<1)|1; 'none' disables it\n"
		"      --cpuid-clear LIST  hide CPUID features from the guest, e.g. cx16,xsave\n"
		"                          (names as in /proc/cpuinfo; '%s' lists them)\n"
		"      --testdev           add the in-core PCI test function (1234:5601)\n"
		"                          the test guest and the benchmarks use\n"
		"      --device-sock PATH  listen on PATH for an out-of-process PCI device\n"
		"                          (dev-pcnet, ...); repeatable, up to %u; the\n"
		"                          guest starts once every device has attached\n"
		"      --device-wait MS    how long to wait for them at start (default %u)\n"
		"      --device-timeout MS how long a vCPU waits for a dead device to come\n"
		"                          back before its function reads as removed\n"
		"                          (all-ones; default %u)\n"
		"      --device-spin-ns N  a vCPU polls a device's answer this long before\n"
		"                          it sleeps (default %u; 0: sleep at once)\n"
		"      --coalesced-pio on|off  writes to ports a device declares free of\n"
		"                          side effects are queued by KVM, no exit (on;\n"
		"                          only with --posted-writes on)\n"
		"      --pump-us N         a pump thread forwards such writes every N us\n"
		"                          while it finds some the vCPUs left queued\n"
		"                          (default %u, 1 to %u), backing off to 1 ms\n"
		"                          otherwise: none waits for the next exit\n"
		"      --pump-cpu N        the pump runs on host CPU N (default: any of\n"
		"                          vmm-core's); best one the vCPUs do not spin on\n"
		"      --posted-writes on|off  device writes are queued, the vCPU goes on\n"
		"                          (on); off: every write waits for the device\n"
		"      --shadow-reads on|off  reads of registers a device publishes as\n"
		"                          free of side effects are answered here, not\n"
		"                          forwarded (on)\n"
		"      --stats-sock PATH   serve live counters (exits by kind, per-device\n"
		"                          requests) on PATH: '%s stats PATH'\n"
		"      --sandbox           once set up: no file system but the socket\n"
		"                          directories, no capabilities, a seccomp\n"
		"                          allow-list (a narrower one for vCPU threads)\n"
		"      --user USER[:GROUP] with --sandbox: then run as this user\n"
		"  -v, --verbose           log VM set-up and exits to stderr\n"
		"  -h, --help              this text\n"
		"      --version           version\n"
		"\n"
		"Exit status: 0 when the guest shuts down (reset, triple fault, or halt\n"
		"with interrupts off), (V<<1)|1 after a write of V to the exit port,\n"
		"1 on an error (a message says which).\n"
		"\n"
		"       %s stats [--interval SEC] SOCK...\n"
		"Prints the live counters of running processes (vmm-core, dev-pcnet,\n"
		"dev-net-backend) from their --stats-sock; with --interval, again\n"
		"every SEC seconds with the rate of each counter that moved.\n",
		prog, VMM_DEFAULT_MEM_MIB, VMM_MIN_MEM_MIB, VMM_MAX_CPUS,
		"--cpuid-clear help", VMM_MAX_DEVICES, VMM_DEFAULT_DEVICE_WAIT_MS,
		VMM_DEFAULT_DEVICE_TIMEOUT_MS, VMM_DEFAULT_DEVICE_SPIN_NS,
		VMM_DEFAULT_PUMP_US, VMM_MAX_PUMP_US, prog,
		prog);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Whole-string unsigned parse in any base strtoull accepts; no sign. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static int parse_serial(const char *arg, struct vmm_options *o)
{
	if (!strcmp(arg, "stdio")) {
		o->serial = SERIAL_STDIO;
	} else if (!strcmp(arg, "none")) {
		o->serial = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		o->serial = SERIAL_FILE;
		o->serial_path = arg + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

enum options_result options_parse(int argc, char **argv,
				  struct vmm_options *o, char *err,
				  size_t errlen)
{
	uint64_t v;
	int c;

	*o = (struct vmm_options){
		.mem_mib = VMM_DEFAULT_MEM_MIB,
		.cpus = 1,
		.serial = SERIAL_STDIO,
		.exit_port = 0xf4,
		.device_timeout_ms = VMM_DEFAULT_DEVICE_TIMEOUT_MS,
		.device_wait_ms = VMM_DEFAULT_DEVICE_WAIT_MS,
		.device_spin_ns = VMM_DEFAULT_DEVICE_SPIN_NS,
		.coalesced_pio = true,
		.pump_us = VMM_DEFAULT_PUMP_US,
		.pump_cpu = -1,
		.posted_writes = true,
		.shadow_reads = true,
	};
	err[0] = '\0';
	optind = 0;	/* reset getopt: tests parse more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:c:k:i:a:vh", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_u64(optarg, &v) || v < VMM_MIN_MEM_MIB) {
				set_err(err, errlen,
					"--memory: '%s' is not a size in MiB (at least %u)",
					optarg, VMM_MIN_MEM_MIB);
				return OPTIONS_ERROR;
			}
			o->mem_mib = v;
			break;
		case 'c':
			if (parse_u64(optarg, &v) || v < 1 || v > VMM_MAX_CPUS) {
				set_err(err, errlen,
					"--cpus: '%s' is not a CPU count from 1 to %u",
					optarg, VMM_MAX_CPUS);
				return OPTIONS_ERROR;
			}
			o->cpus = (unsigned)v;
			break;
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'a':
			o->cmdline = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_TESTDEV:
			o->testdev = true;
			break;
		case OPT_DEVICE_SOCK:
			if (o->nr_devices == VMM_MAX_DEVICES) {
				set_err(err, errlen,
					"--device-sock: at most %u devices",
					VMM_MAX_DEVICES);
				return OPTIONS_ERROR;
			}
			if (!*optarg || strlen(optarg) >=
			    sizeof(((struct sockaddr_un *)0)->sun_path)) {
				set_err(err, errlen,
					"--device-sock: '%s' is not a socket path (1 to 107 bytes)",
					optarg);
				return OPTIONS_ERROR;
			}
			for (unsigned i = 0; i < o->nr_devices; i++) {
				if (!strcmp(o->device_sock[i], optarg)) {
					set_err(err, errlen,
						"--device-sock: '%s' given twice",
						optarg);
					return OPTIONS_ERROR;
				}
			}
			o->device_sock[o->nr_devices++] = optarg;
			break;
		case OPT_DEVICE_TIMEOUT:
		case OPT_DEVICE_WAIT:
			if (parse_u64(optarg, &v) || v > 3600000) {
				set_err(err, errlen,
					"%s: '%s' is not a time in ms (0 to 3600000)",
					c == OPT_DEVICE_WAIT ? "--device-wait" :
							       "--device-timeout",
					optarg);
				return OPTIONS_ERROR;
			}
			if (c == OPT_DEVICE_WAIT)
				o->device_wait_ms = (unsigned)v;
			else
				o->device_timeout_ms = (unsigned)v;
			break;
		case OPT_DEVICE_SPIN:
			if (parse_u64(optarg, &v) || v > 1000000000) {
				set_err(err, errlen,
					"--device-spin-ns: '%s' is not a time in ns (0 to 1000000000)",
					optarg);
				return OPTIONS_ERROR;
			}
			o->device_spin_ns = v;
			break;
		case OPT_PUMP_CPU:
			if (parse_u64(optarg, &v) || v >= CPU_SETSIZE) {
				set_err(err, errlen,
					"--pump-cpu: '%s' is not a CPU number (0 to %d)",
					optarg, CPU_SETSIZE - 1);
				return OPTIONS_ERROR;
			}
			o->pump_cpu = (int)v;
			break;
		case OPT_PUMP_US:
			if (parse_u64(optarg, &v) || !v || v > VMM_MAX_PUMP_US) {
				set_err(err, errlen,
					"--pump-us: '%s' is not a period in us (1 to %u)",
					optarg, VMM_MAX_PUMP_US);
				return OPTIONS_ERROR;
			}
			o->pump_us = (unsigned)v;
			break;
		case OPT_COALESCED_PIO:
		case OPT_POSTED_WRITES:
		case OPT_SHADOW_READS:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				set_err(err, errlen, "%s: '%s' is not on or off",
					c == OPT_COALESCED_PIO ? "--coalesced-pio" :
					c == OPT_POSTED_WRITES ? "--posted-writes" :
								 "--shadow-reads",
					optarg);
				return OPTIONS_ERROR;
			}
			if (c == OPT_COALESCED_PIO)
				o->coalesced_pio = !strcmp(optarg, "on");
			else if (c == OPT_POSTED_WRITES)
				o->posted_writes = !strcmp(optarg, "on");
			else
				o->shadow_reads = !strcmp(optarg, "on");
			break;
		case OPT_STATS_SOCK:
			o->stats_sock = optarg;
			break;
		case OPT_SANDBOX:
			o->sandbox = true;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_SERIAL:
			if (parse_serial(optarg, o)) {
				set_err(err, errlen,
					"--serial: '%s' is not stdio, none or file:PATH",
					optarg);
				return OPTIONS_ERROR;
			}
			break;
		case OPT_EXIT_PORT:
			if (!strcmp(optarg, "none")) {
				o->exit_port = -1;
				break;
			}
			if (parse_u64(optarg, &v) || v > 0xffff) {
				set_err(err, errlen,
					"--exit-port: '%s' is not a port from 0 to 0xffff or 'none'",
					optarg);
				return OPTIONS_ERROR;
			}
			o->exit_port = (int)v;
			break;
		case OPT_CPUID_CLEAR:
			if (!strcmp(optarg, "help")) {
				cpuid_list_features(stdout);
				return OPTIONS_HELP;
			}
			if (cpuid_check_list(optarg, err, errlen))
				return OPTIONS_ERROR;
			o->cpuid_clear = optarg;
			break;
		case 'h':
			options_usage(stdout, argv[0]);
			return OPTIONS_HELP;
		case OPT_VERSION:
			printf("vmm-core %s\n", VMM_VERSION);
			return OPTIONS_HELP;
		case ':':
			set_err(err, errlen, "option '%s' needs a value",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		default:
			set_err(err, errlen, "unknown option '%s' (see --help)",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		}
	}
	if (optind < argc) {
		set_err(err, errlen, "unexpected argument '%s' (see --help)",
			argv[optind]);
		return OPTIONS_ERROR;
	}
	if (!o->kernel) {
		set_err(err, errlen, "no kernel given: use --kernel FILE (see --help)");
		return OPTIONS_ERROR;
	}
	if (o->user && !o->sandbox) {
		set_err(err, errlen, "--user needs --sandbox");
		return OPTIONS_ERROR;
	}
	if (o->mem_mib > (UINT64_C(1) << 30)) {	/* 1 PiB: past any host */
		set_err(err, errlen, "--memory: %" PRIu64 " MiB is too much",
			o->mem_mib);
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}

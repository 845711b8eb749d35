// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

#define ARGV(...) ((char *[]){ "vmm-core", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "vmm-core", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) \
	options_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void options_defaults_with_only_a_kernel(void **state)
{
	struct vmm_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k.elf"), OPTIONS_OK);
	assert_string_equal(o.kernel, "k.elf");
	assert_int_equal(o.mem_mib, VMM_DEFAULT_MEM_MIB);
	assert_int_equal(o.cpus, 1);
	assert_int_equal(o.serial, SERIAL_STDIO);
	assert_int_equal(o.exit_port, 0xf4);
	assert_null(o.initrd);
	assert_null(o.cmdline);
	assert_null(o.cpuid_clear);
}

static void options_parse_every_setting(void **state)
{
	struct vmm_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-k", "bz", "--initrd", "i.gz",
			       "--cmdline", "console=ttyS0 test=hello",
			       "--memory", "1024", "--cpus", "4",
			       "--serial", "file:/tmp/x.log", "--exit-port", "0x501",
			       "--cpuid-clear", "cx16,xsave,arch-capabilities"),
			 OPTIONS_OK);
	assert_string_equal(o.initrd, "i.gz");
	assert_string_equal(o.cmdline, "console=ttyS0 test=hello");
	assert_int_equal(o.mem_mib, 1024);
	assert_int_equal(o.cpus, 4);
	assert_int_equal(o.serial, SERIAL_FILE);
	assert_string_equal(o.serial_path, "/tmp/x.log");
	assert_int_equal(o.exit_port, 0x501);
	assert_string_equal(o.cpuid_clear, "cx16,xsave,arch-capabilities");
	assert_int_equal(PARSE(&o, err, "-k", "bz", "--exit-port", "none",
			       "--serial", "none"), OPTIONS_OK);
	assert_int_equal(o.exit_port, -1);
	assert_int_equal(o.serial, SERIAL_NONE);
}

struct bad_case {
	const char *flag, *value, *needle;
};

static void options_bad_values_give_one_clear_line(void **state)
{
	static const struct bad_case cases[] = {
		{ "--memory", "lots", "--memory" },
		{ "--memory", "-5", "--memory" },
		{ "--memory", "1", "at least" },
		{ "--memory", "2000000000", "too much" },
		{ "--cpus", "0", "--cpus" },
		{ "--cpus", "33", "1 to 32" },
		{ "--cpus", "2x", "--cpus" },
		{ "--serial", "tcp:1", "stdio, none or file:PATH" },
		{ "--serial", "file:", "--serial" },
		{ "--exit-port", "0x10000", "--exit-port" },
		{ "--cpuid-clear", "cx16,warpdrive", "'warpdrive'" },
		{ "--cpuid-clear", "", "empty" },
	};
	struct vmm_options o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "vmm-core", "-k", "x", (char *)cases[i].flag,
				 (char *)cases[i].value, NULL };

		assert_int_equal(options_parse(5, argv, &o, err, sizeof(err)),
				 OPTIONS_ERROR);
		if (!strstr(err, cases[i].needle))
			fail_msg("%s %s: '%s' lacks '%s'", cases[i].flag,
				 cases[i].value, err, cases[i].needle);
		assert_null(strchr(err, '\n'));
	}
}

static void options_missing_kernel_unknown_flag_and_stray_argument(void **state)
{
	struct vmm_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--memory", "64"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--kernel"));
	assert_int_equal(PARSE(&o, err, "-k", "x", "--frobnicate"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "--frobnicate"));
	assert_int_equal(PARSE(&o, err, "-k", "x", "extra"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "extra"));
	assert_int_equal(PARSE(&o, err, "-k", "x", "--memory"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "needs a value"));
}

static void options_device_sockets_and_their_times(void **state)
{
	struct vmm_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-k", "k"), OPTIONS_OK);
	assert_int_equal(o.nr_devices, 0);
	assert_int_equal(o.device_timeout_ms, VMM_DEFAULT_DEVICE_TIMEOUT_MS);
	assert_int_equal(o.device_wait_ms, VMM_DEFAULT_DEVICE_WAIT_MS);
	assert_int_equal(o.device_spin_ns, VMM_DEFAULT_DEVICE_SPIN_NS);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-sock", "/run/a",
			       "--device-sock", "/run/b", "--device-timeout", "0",
			       "--device-wait", "1500", "--device-spin-ns", "0"),
			 OPTIONS_OK);
	assert_int_equal(o.nr_devices, 2);
	assert_string_equal(o.device_sock[0], "/run/a");
	assert_string_equal(o.device_sock[1], "/run/b");
	assert_int_equal(o.device_timeout_ms, 0);
	assert_int_equal(o.device_wait_ms, 1500);
	assert_int_equal(o.device_spin_ns, 0);

	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-sock", "/a",
			       "--device-sock", "/a"), OPTIONS_ERROR);
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-sock", ""),
			 OPTIONS_ERROR);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-timeout", "3600001"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--device-timeout"));
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-wait", "x"),
			 OPTIONS_ERROR);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-spin-ns", "-5"),
			 OPTIONS_ERROR);
	/* One more than VMM_MAX_DEVICES (8) sockets. */
	assert_int_equal(PARSE(&o, err, "-k", "k", "--device-sock", "1",
			       "--device-sock", "2", "--device-sock", "3",
			       "--device-sock", "4", "--device-sock", "5",
			       "--device-sock", "6", "--device-sock", "7",
			       "--device-sock", "8", "--device-sock", "9"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "at most 8"));

	assert_true(o.coalesced_pio && o.posted_writes && o.shadow_reads);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--coalesced-pio", "off",
			       "--posted-writes", "off", "--shadow-reads", "off"),
			 OPTIONS_OK);
	assert_false(o.coalesced_pio || o.posted_writes || o.shadow_reads);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--shadow-reads", "1"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--shadow-reads: '1' is not on or off"));
	assert_int_equal(PARSE(&o, err, "-k", "k", "--posted-writes", "yes"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--posted-writes: 'yes' is not on or off"));

	assert_int_equal(o.pump_us, VMM_DEFAULT_PUMP_US);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-us", "250"),
			 OPTIONS_OK);
	assert_int_equal(o.pump_us, 250);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-us", "0"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--pump-us: '0' is not a period in us (1 to 1000)"));
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-us", "1001"),
			 OPTIONS_ERROR);

	assert_int_equal(o.pump_cpu, -1);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-cpu", "1"),
			 OPTIONS_OK);
	assert_int_equal(o.pump_cpu, 1);
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-cpu", "-1"),
			 OPTIONS_ERROR);
	assert_non_null(strstr(err, "--pump-cpu: '-1' is not a CPU number"));
	assert_int_equal(PARSE(&o, err, "-k", "k", "--pump-cpu", "99999"),
			 OPTIONS_ERROR);
}

static void options_help_lists_every_option(void **state)
{
	static const char *const names[] = {
		"--kernel", "--initrd", "--cmdline", "--memory", "--cpus",
		"--serial", "--exit-port", "--cpuid-clear", "--verbose",
		"--help", "--version", "--testdev", "--device-sock",
		"--device-wait", "--device-timeout", "--device-spin-ns",
		"--coalesced-pio", "--posted-writes", "--pump-us", "--pump-cpu",
	};
	char buf[8192] = { 0 };
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	options_usage(f, "vmm-core");
	fclose(f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(buf, names[i]))
			fail_msg("--help lacks %s", names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_defaults_with_only_a_kernel),
		cmocka_unit_test(options_parse_every_setting),
		cmocka_unit_test(options_bad_values_give_one_clear_line),
		cmocka_unit_test(options_missing_kernel_unknown_flag_and_stray_argument),
		cmocka_unit_test(options_device_sockets_and_their_times),
		cmocka_unit_test(options_help_lists_every_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

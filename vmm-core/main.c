// SPDX-License-Identifier: MIT
/* vmm-core: wires options, the VM and its devices, then runs it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "devproxy.h"
#include "fault.h"
#include "options.h"
#include "sandbox.h"
#include "stats_cmd.h"
#include "vm.h"

/* The directories where sockets are made or removed after the sandbox:
 * the device sockets (removed at exit) and the stats socket. */
static int sandbox_prepare(struct sandbox *sb, const struct vmm_options *o,
			   char *err, size_t errlen)
{
	sb->on = o->sandbox;
	if (!sb->on)
		return 0;
	if (o->user && sandbox_parse_user(sb, o->user, err, errlen))
		return -1;
	for (unsigned i = 0; i < o->nr_devices; i++)
		if (sandbox_allow_socket(sb, o->device_sock[i], err, errlen))
			return -1;
	if (o->stats_sock && sandbox_allow_socket(sb, o->stats_sock, err, errlen))
		return -1;
	return 0;
}

/* With --user the devices' sockets belong to that user: a device running
 * as the same user can connect. */
static int own_sockets(const struct sandbox *sb, const struct vmm_options *o,
		       char *err, size_t errlen)
{
	for (unsigned i = 0; i < o->nr_devices; i++)
		if (sandbox_own_socket(sb, o->device_sock[i], err, errlen))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sandbox sb = { 0 };
	struct vmm_options opt;
	struct boot_images img;
	struct vm vm;
	char err[256];
	int status = 1;

	if (argc > 1 && !strcmp(argv[1], "stats"))
		return stats_cmd(argc - 1, argv + 1);
	switch (options_parse(argc, argv, &opt, err, sizeof(err))) {
	case OPTIONS_HELP:
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "vmm-core: %s\n", err);
		return 1;
	case OPTIONS_OK:
		break;
	}
	if (ipc_fault_setup("vmm-core"))
		return 1;
	if (sandbox_prepare(&sb, &opt, err, sizeof(err))) {
		fprintf(stderr, "vmm-core: --sandbox: %s\n", err);
		sandbox_free(&sb);
		return 1;
	}
	/* Files first: a user's mistake needs no KVM to be reported. */
	if (loader_map_files(&img, opt.kernel, opt.initrd, opt.cmdline, err,
			     sizeof(err))) {
		fprintf(stderr, "vmm-core: %s\n", err);
		sandbox_free(&sb);
		return 1;
	}
	/* Devices attach before the MP table is written: it routes their
	 * interrupts. */
	if (vm_create(&vm, &opt, &img) || devproxy_listen_all(&vm) ||
	    devproxy_wait_all(&vm) || vm_load(&vm))
		goto out;
	/* Set up: KVM, guest RAM, the console, the devices and the boot
	 * state exist, no thread yet.  Everything after runs in the sandbox. */
	vm.sandbox = &sb;
	/* The pump's --pump-us sleeps would stretch by the default 50 us of
	 * timer slack; its threads inherit the creator's (prctl is not
	 * allowed once sandboxed). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (own_sockets(&sb, &opt, err, sizeof(err)) ||
	    sandbox_enter(&sb, SANDBOX_VMM_CORE, err, sizeof(err))) {
		fprintf(stderr, "vmm-core: --sandbox: %s\n", err);
		goto out;
	}
	if (sb.on && opt.verbose)
		fprintf(stderr, "vmm-core: sandboxed%s\n",
			sb.set_user ? " as --user" : "");
	if (!devproxy_start_monitors(&vm))
		status = vm_run(&vm);
out:
	vm_destroy(&vm);
	loader_unmap_files(&img);
	sandbox_free(&sb);
	return status;
}

// SPDX-License-Identifier: MIT
/* vmm-core: wires options, the VM and its devices, then runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devproxy.h"
#include "options.h"
#include "stats_cmd.h"
#include "vm.h"

int main(int argc, char **argv)
{
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
	/* Files first: a user's mistake needs no KVM to be reported. */
	if (loader_map_files(&img, opt.kernel, opt.initrd, opt.cmdline, err,
			     sizeof(err))) {
		fprintf(stderr, "vmm-core: %s\n", err);
		return 1;
	}
	/* Devices attach before the MP table is written: it routes their
	 * interrupts. */
	if (!vm_create(&vm, &opt, &img) && !devproxy_start_all(&vm) &&
	    !vm_load(&vm))
		status = vm_run(&vm);
	vm_destroy(&vm);
	loader_unmap_files(&img);
	return status;
}

// SPDX-License-Identifier: MIT
/* Placeholder until the dpdk host path lands. */
#include <errno.h>
#include <stdio.h>

#include "host.h"

int dpdk_open(const char *args, struct host_path **out, char *err,
	      size_t errlen)
{
	(void)out;
	snprintf(err, errlen, "--host: the dpdk path is not written yet (%s)", args);
	return -ENOTSUP;
}

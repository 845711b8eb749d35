// SPDX-License-Identifier: MIT
/* --host SPEC: picks the host path. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

int host_open(const char *spec, struct host_path **out, char *err,
	      size_t errlen)
{
	if (has_prefix(spec, "tap:"))
		return tap_open(spec + 4, out, err, errlen);
	if (has_prefix(spec, "af-xdp:") || has_prefix(spec, "dpdk:")) {
		snprintf(err, errlen,
			 "--host %s: the %.*s host path is not built in yet (only tap:NAME is)",
			 spec, (int)(strchr(spec, ':') - spec), spec);
		return -ENOTSUP;
	}
	snprintf(err, errlen,
		 "--host '%s': expected tap:NAME, af-xdp:IFACE[,queue=N] or dpdk:<EAL args>",
		 spec);
	return -EINVAL;
}

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
	if (has_prefix(spec, "af-xdp:")) {
#ifdef HAVE_AF_XDP
		return afxdp_open(spec + 7, out, err, errlen);
#else
		snprintf(err, errlen,
			 "--host %s: this dev-net-backend was built without AF_XDP (libxdp-dev, libbpf-dev; meson -Daf_xdp=enabled)",
			 spec);
		return -ENOTSUP;
#endif
	}
	if (has_prefix(spec, "dpdk:")) {
#ifdef HAVE_DPDK
		return dpdk_open(spec + 5, out, err, errlen);
#else
		snprintf(err, errlen,
			 "--host %s: this dev-net-backend was built without DPDK (libdpdk-dev; meson -Ddpdk=enabled)",
			 spec);
		return -ENOTSUP;
#endif
	}
	snprintf(err, errlen,
		 "--host '%s': expected tap:NAME, af-xdp:IFACE[,queue=N] or dpdk:<EAL args>",
		 spec);
	return -EINVAL;
}

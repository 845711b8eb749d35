// SPDX-License-Identifier: MIT
/* SPLITVMM_FAULT=POINT:N[:ACTION]: see fault.h. */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum fault_action { FAULT_KILL, FAULT_SYSCALL, FAULT_MEMFD, FAULT_OPEN };

static const char *const action_names[] = {
	[FAULT_KILL] = "kill",
	[FAULT_SYSCALL] = "syscall",
	[FAULT_MEMFD] = "memfd",
	[FAULT_OPEN] = "open",
};

static const char *prog = "splitvmm";
static char point[32];
static unsigned long left;	/* passes to go; 0: nothing armed */
static enum fault_action action;

int ipc_fault_setup(const char *name)
{
	const char *e = getenv("SPLITVMM_FAULT"), *colon, *act;
	char *end;

	prog = name;
	left = 0;
	if (!e || !*e)
		return 0;
	colon = strchr(e, ':');
	if (!colon || colon == e || (size_t)(colon - e) >= sizeof(point))
		goto bad;
	errno = 0;
	left = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || !left || (*end && *end != ':'))
		goto bad;
	action = FAULT_KILL;
	if (*end == ':') {
		act = end + 1;
		for (action = 0; action < sizeof(action_names) / sizeof(action_names[0]); action++)
			if (!strcmp(act, action_names[action]))
				break;
		if (action == sizeof(action_names) / sizeof(action_names[0]))
			goto bad;
	}
	memcpy(point, e, (size_t)(colon - e));
	point[colon - e] = '\0';
	return 0;
bad:
	left = 0;
	fprintf(stderr, "%s: SPLITVMM_FAULT='%s': expected POINT:N[:kill|syscall|memfd|open] (N >= 1)\n",
		prog, e);
	return -1;
}

void ipc_fault(const char *p)
{
	int fd = -1;

	if (!__atomic_load_n(&left, __ATOMIC_RELAXED) || strcmp(p, point) ||
	    __atomic_sub_fetch(&left, 1, __ATOMIC_RELAXED))
		return;
	switch (action) {
	case FAULT_KILL:
		fprintf(stderr, "%s: fault injection: SIGKILL at %s\n", prog, p);
		raise(SIGKILL);
		break;
	case FAULT_SYSCALL:
		fprintf(stderr, "%s: fault injection: socket(AF_INET) at %s\n", prog, p);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		fprintf(stderr, "%s: fault injection: socket(AF_INET) %s\n", prog,
			fd >= 0 ? "was allowed" : strerror(errno));
		break;
	case FAULT_MEMFD:
		fprintf(stderr, "%s: fault injection: memfd_create at %s\n", prog, p);
		fd = memfd_create("fault", MFD_CLOEXEC);
		fprintf(stderr, "%s: fault injection: memfd_create %s\n", prog,
			fd >= 0 ? "was allowed" : strerror(errno));
		break;
	case FAULT_OPEN:
		fprintf(stderr, "%s: fault injection: open /etc/hostname at %s\n", prog, p);
		fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
		fprintf(stderr, "%s: fault injection: open /etc/hostname: %s\n", prog,
			fd >= 0 ? "was allowed" : strerror(errno));
		break;
	}
	if (fd >= 0)
		close(fd);
}

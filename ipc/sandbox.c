// SPDX-License-Identifier: MIT
/* The per-process sandbox: see sandbox.h for what and why. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sockios.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

/*
 * Landlock, by number: Debian 12's kernel headers predate the later ABI
 * versions, and the kernel we run on may be newer than the headers.
 */
#define LL_CREATE_RULESET_VERSION	(1u << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_FS_READ_FILE			(1ull << 2)
#define LL_FS_READ_DIR			(1ull << 3)
#define LL_FS_REMOVE_FILE		(1ull << 5)
#define LL_FS_MAKE_SOCK			(1ull << 9)
#define LL_FS_V1			((1ull << 13) - 1)	/* EXECUTE..MAKE_SYM */
#define LL_FS_REFER			(1ull << 13)		/* ABI 2 */
#define LL_FS_TRUNCATE			(1ull << 14)		/* ABI 3 */
#define LL_FS_IOCTL_DEV			(1ull << 15)		/* ABI 5 */
#define LL_NET_BIND_TCP			(1ull << 0)		/* ABI 4 */
#define LL_NET_CONNECT_TCP		(1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX		(1ull << 0)		/* ABI 6 */
#define LL_SCOPE_SIGNAL			(1ull << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static int ll_abi(void)
{
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			    LL_CREATE_RULESET_VERSION);
}

bool sandbox_fs_supported(char *err, size_t errlen)
{
	int abi = ll_abi();

	if (abi >= 1)
		return true;
	snprintf(err, errlen, "Landlock is not available (%s): the kernel lacks CONFIG_SECURITY_LANDLOCK or 'landlock' in its lsm= list",
		 strerror(errno));
	return false;
}

int sandbox_parse_user(struct sandbox *sb, const char *spec, char *err,
		       size_t errlen)
{
	char user[256], *group, *end;
	struct passwd *pw;
	struct group *gr;
	unsigned long n;

	if (strlen(spec) >= sizeof(user) || !*spec)
		goto bad;
	strcpy(user, spec);
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	errno = 0;
	n = strtoul(user, &end, 10);
	pw = getpwnam(user);
	if (pw) {
		sb->uid = pw->pw_uid;
		sb->gid = pw->pw_gid;
	} else if (*user && !*end && !errno && n < UINT32_MAX) {
		sb->uid = (uid_t)n;
		sb->gid = (gid_t)n;
	} else {
		snprintf(err, errlen, "--user: no user '%s'", user);
		return -1;
	}
	if (group) {
		errno = 0;
		n = strtoul(group, &end, 10);
		gr = *group ? getgrnam(group) : NULL;
		if (gr) {
			sb->gid = gr->gr_gid;
		} else if (*group && !*end && !errno && n < UINT32_MAX) {
			sb->gid = (gid_t)n;
		} else {
			snprintf(err, errlen, "--user: no group '%s'", group);
			return -1;
		}
	}
	sb->set_user = true;
	return 0;
bad:
	snprintf(err, errlen, "--user: expected USER[:GROUP], names or numbers");
	return -1;
}

int sandbox_allow_socket(struct sandbox *sb, const char *path, char *err,
			 size_t errlen)
{
	char copy[PATH_MAX], *dir, *abs;

	if (strlen(path) >= sizeof(copy)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(copy, path);
	dir = dirname(copy);
	abs = realpath(dir, NULL);
	if (!abs) {
		snprintf(err, errlen, "socket directory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < sb->n_dirs; i++) {
		if (!strcmp(sb->dirs[i], abs)) {
			free(abs);
			return 0;
		}
	}
	if (sb->n_dirs == SANDBOX_MAX_DIRS) {
		free(abs);
		snprintf(err, errlen, "more than %u socket directories",
			 SANDBOX_MAX_DIRS);
		return -1;
	}
	sb->dirs[sb->n_dirs++] = abs;
	return 0;
}

int sandbox_own_socket(const struct sandbox *sb, const char *path, char *err,
		       size_t errlen)
{
	if (!sb->set_user)
		return 0;
	if (chown(path, sb->uid, sb->gid)) {
		snprintf(err, errlen, "--user: chown %s: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

void sandbox_free(struct sandbox *sb)
{
	for (unsigned i = 0; i < sb->n_dirs; i++)
		free(sb->dirs[i]);
	sb->n_dirs = 0;
}

/* Step 2: nothing of the file system but sockets in the socket dirs. */
static int lock_fs(const struct sandbox *sb, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = LL_FS_V1 };
	size_t attr_size = sizeof(attr.handled_access_fs);
	int abi = ll_abi(), rfd;

	if (abi < 1) {
		sandbox_fs_supported(err, errlen);
		return -1;
	}
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		/* No TCP either (seccomp allows only AF_UNIX sockets
		 * anyway: this holds if that filter ever widens). */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6) {
		/* Pathname sockets only; signals only within the process. */
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rfd < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s",
			 strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < sb->n_dirs; i++) {
		struct ll_path_beneath_attr pb = {
			.allowed_access = LL_FS_MAKE_SOCK | LL_FS_REMOVE_FILE,
		};

		pb.parent_fd = open(sb->dirs[i], O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0 ||
		    syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH,
			    &pb, 0)) {
			snprintf(err, errlen, "landlock rule for %s: %s",
				 sb->dirs[i], strerror(errno));
			if (pb.parent_fd >= 0)
				close(pb.parent_fd);
			close(rfd);
			return -1;
		}
		close(pb.parent_fd);
	}
#if defined(__SANITIZE_ADDRESS__)
	/* The leak check at exit lists the threads in /proc/PID/task and
	 * reads /proc/self/maps: the sanitizer build lets it. */
	{
		struct ll_path_beneath_attr pb = {
			.allowed_access = LL_FS_READ_FILE | LL_FS_READ_DIR,
			.parent_fd = open("/proc", O_PATH | O_CLOEXEC),
		};

		if (pb.parent_fd >= 0) {
			syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH,
				&pb, 0);
			close(pb.parent_fd);
		}
	}
#endif
	if (syscall(SYS_landlock_restrict_self, rfd, 0)) {
		snprintf(err, errlen, "landlock_restrict_self: %s",
			 strerror(errno));
		close(rfd);
		return -1;
	}
	close(rfd);
	return 0;
}

/* Steps 3 and 4: the bounding set first (dropping it needs CAP_SETPCAP,
 * which a switch of user takes away), then the user, then the rest. */
static int drop_privileges(const struct sandbox *sb, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EPERM) {
			snprintf(err, errlen, "PR_CAPBSET_DROP %d: %s", cap,
				 strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL) {
		snprintf(err, errlen, "PR_CAP_AMBIENT_CLEAR_ALL: %s",
			 strerror(errno));
		return -1;
	}
	if (sb->set_user) {
		if (setgroups(0, NULL) || setresgid(sb->gid, sb->gid, sb->gid) ||
		    setresuid(sb->uid, sb->uid, sb->uid)) {
			snprintf(err, errlen, "--user %u:%u: %s",
				 (unsigned)sb->uid, (unsigned)sb->gid,
				 strerror(errno));
			return -1;
		}
	}
	if (syscall(SYS_capset, &hdr, data)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* -- seccomp -------------------------------------------------------------- */

/* What every process does once running: I/O on the fds it has, memory,
 * time, futexes, signals to itself, AF_UNIX sockets, threads. */
static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(exit),
	SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack), SCMP_SYS(mmap),
	SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(tgkill), SCMP_SYS(sched_yield), SCMP_SYS(getrandom),
	SCMP_SYS(newfstatat), SCMP_SYS(fstat), SCMP_SYS(lseek),
	SCMP_SYS(fcntl), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(accept4),
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(eventfd2), SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(restart_syscall), SCMP_SYS(sysinfo), SCMP_SYS(unlink),
	/* Opens fail anyway: Landlock refuses every path.  glibc and the
	 * sanitizers may still try one and handle the error. */
	SCMP_SYS(openat),
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANITIZER 1
/* The runtimes' own needs when a sanitizer is built in (the test build):
 * its reports read /proc/self/maps, its thread registry tears down
 * alternate stacks, and the leak check at exit stops the world with a
 * ptrace()ing clone. */
static const int sanitizer_calls[] = {
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
	SCMP_SYS(uname), SCMP_SYS(pipe2), SCMP_SYS(kill), SCMP_SYS(getppid),
	SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(ptrace),
	SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(clone), SCMP_SYS(open),
	SCMP_SYS(getdents),
};
#else
#define SANITIZER 0
#endif

static const int vmm_core_calls[] = {
	/* A device (re)attach makes its state and I/O regions, sealed. */
	SCMP_SYS(memfd_create), SCMP_SYS(ftruncate),
	/* Each vCPU thread adds its own filter: filters only take away. */
	SCMP_SYS(seccomp),
};

static const int dpdk_calls[] = {
	/* EAL's service threads (interrupts, multi-process, telemetry). */
	SCMP_SYS(epoll_create1), SCMP_SYS(timerfd_create), SCMP_SYS(pipe2),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity),
	SCMP_SYS(getcpu), SCMP_SYS(ioctl), SCMP_SYS(prctl),
	SCMP_SYS(getdents64), SCMP_SYS(readlink), SCMP_SYS(ftruncate),
	SCMP_SYS(fallocate), SCMP_SYS(flock), SCMP_SYS(mlock),
	SCMP_SYS(munlock), SCMP_SYS(get_mempolicy), SCMP_SYS(set_mempolicy),
	SCMP_SYS(mbind),
};

/* What a vCPU thread may do: run, answer its exits (forward a request,
 * write the console, raise an interrupt, move a coalesced zone), end. */
static const int vcpu_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(futex),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(sched_yield), SCMP_SYS(sendmsg),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(tgkill),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(mmap),
	SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(brk), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
};

static const unsigned long tty_ioctls[] = { TCGETS, TCSETS, TCSETSW, FIONBIO };

static const unsigned long vmm_core_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_IRQFD, KVM_CHECK_EXTENSION, KVM_GET_REGS,
	KVM_GET_SREGS, KVM_GET_MP_STATE, KVM_REGISTER_COALESCED_MMIO,
	KVM_UNREGISTER_COALESCED_MMIO,
};

static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_MP_STATE,
	KVM_REGISTER_COALESCED_MMIO, KVM_UNREGISTER_COALESCED_MMIO,
};

/* The TAP path re-reads the interface's MTU and flags. */
static const unsigned long backend_ioctls[] = { SIOCGIFMTU, SIOCGIFFLAGS };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	const ucontext_t *u = uc;
	char msg[128];
	int n;

	(void)sig;
	/* The first two arguments say which ioctl or socket it was. */
	n = snprintf(msg, sizeof(msg),
		     "sandbox: forbidden system call %d (0x%llx, 0x%llx) (SPLITVMM_SANDBOX_DEBUG)\n",
		     si->si_syscall,
		     (unsigned long long)u->uc_mcontext.gregs[REG_RDI],
		     (unsigned long long)u->uc_mcontext.gregs[REG_RSI]);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
		_exit(159);
	_exit(159);
}

static int add_calls(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		if (rc)
			return rc;
	}
	return 0;
}

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* The kernel reads the request as an unsigned int. */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
						  req[i]));

		if (rc)
			return rc;
	}
	return 0;
}

/* A filter that allows CALLS (and the sanitizer's); *rc is the first
 * error in adding them.  NULL with err set if there is no filter. */
static scmp_filter_ctx new_filter(bool all_threads, const int *calls,
				  size_t n, int *rc, char *err, size_t errlen)
{
	bool debug = getenv("SPLITVMM_SANDBOX_DEBUG") &&
		     *getenv("SPLITVMM_SANDBOX_DEBUG") == '1';
	scmp_filter_ctx ctx;

	if (debug) {
		struct sigaction sa = { .sa_sigaction = on_sigsys,
					.sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGSYS, &sa, NULL);
	}
	ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot make a filter");
		return NULL;
	}
	/* No new privileges is set already (sandbox_enter's first step). */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) ||
	    (all_threads && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1))) {
		seccomp_release(ctx);
		snprintf(err, errlen, "seccomp: no filter attributes");
		return NULL;
	}
	*rc = add_calls(ctx, calls, n);
#if SANITIZER
	if (!*rc)
		*rc = add_calls(ctx, sanitizer_calls, N(sanitizer_calls));
#endif
	return ctx;
}

static int load(scmp_filter_ctx ctx, int rc, char *err, size_t errlen)
{
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		snprintf(err, errlen, "seccomp: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

static int filter_process(enum sandbox_profile profile, char *err,
			  size_t errlen)
{
	/* DPDK's profile allows every ioctl and prctl (its PMDs' needs vary
	 * by driver), so it takes no narrower rules for them. */
	bool dpdk = profile == SANDBOX_NET_BACKEND_DPDK;
	scmp_filter_ctx ctx;
	int rc;

	ctx = new_filter(true, common_calls, N(common_calls), &rc, err, errlen);
	if (!ctx)
		return -1;
	/* Sockets: AF_UNIX only (the host paths' are open already). */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* Threads only, no processes; clone3's flags are out of reach of a
	 * filter, so glibc is told it does not exist and uses clone. */
	if (!rc && !SANITIZER)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
					      CLONE_THREAD));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      SCMP_SYS(clone3), 0);
	/* Threads name themselves (pthread_setname_np). */
	if (!rc && !SANITIZER && !dpdk)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				      SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (!rc && !dpdk)
		rc = add_ioctls(ctx, tty_ioctls, N(tty_ioctls));
	switch (profile) {
	case SANDBOX_VMM_CORE:
		if (!rc)
			rc = add_calls(ctx, vmm_core_calls, N(vmm_core_calls));
		if (!rc)
			rc = add_ioctls(ctx, vmm_core_ioctls, N(vmm_core_ioctls));
		/* The pump pins itself (--pump-cpu), never another task. */
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					      SCMP_SYS(sched_setaffinity), 1,
					      SCMP_A0(SCMP_CMP_EQ, 0));
		break;
	case SANDBOX_DEV_PCNET:
		break;
	case SANDBOX_NET_BACKEND_DPDK:
		if (!rc)
			rc = add_calls(ctx, dpdk_calls, N(dpdk_calls));
		break;
	case SANDBOX_NET_BACKEND:
		if (!rc)
			rc = add_ioctls(ctx, backend_ioctls, N(backend_ioctls));
		break;
	}
	return load(ctx, rc, err, errlen);
}

int sandbox_enter(const struct sandbox *sb, enum sandbox_profile profile,
		  char *err, size_t errlen)
{
	if (!sb->on)
		return 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (lock_fs(sb, err, errlen) || drop_privileges(sb, err, errlen) ||
	    filter_process(profile, err, errlen))
		return -1;
	return 0;
}

int sandbox_enter_vcpu(const struct sandbox *sb, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc;

	if (!sb->on)
		return 0;
	ctx = new_filter(false, vcpu_calls, N(vcpu_calls), &rc, err, errlen);
	if (!ctx)
		return -1;
	if (!rc)
		rc = add_ioctls(ctx, vcpu_ioctls, N(vcpu_ioctls));
	if (!rc)
		rc = add_ioctls(ctx, tty_ioctls, N(tty_ioctls));
	return load(ctx, rc, err, errlen);
}

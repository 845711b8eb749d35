// SPDX-License-Identifier: MIT
/*
 * ipc/sandbox.h and ipc/fault.h: option parsing and its errors, and, in a
 * child process, what the sandbox lets through and what it stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include <cmocka.h>

#include "fault.h"
#include "sandbox.h"

static void user_by_name_and_number(void **state)
{
	struct sandbox sb = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(sandbox_parse_user(&sb, "nobody", err, sizeof(err)), 0);
	assert_true(sb.set_user);
	assert_int_equal(sb.uid, 65534);
	assert_int_equal(sandbox_parse_user(&sb, "1234:5678", err, sizeof(err)), 0);
	assert_int_equal(sb.uid, 1234);
	assert_int_equal(sb.gid, 5678);
	assert_int_equal(sandbox_parse_user(&sb, "4321", err, sizeof(err)), 0);
	assert_int_equal(sb.gid, 4321);	/* no group: the same number */
	assert_int_equal(sandbox_parse_user(&sb, "root:0", err, sizeof(err)), 0);
	assert_int_equal(sb.uid, 0);
	assert_int_equal(sb.gid, 0);
}

static void bad_users_are_one_clear_error(void **state)
{
	static const char *const bad[] = {
		"", "no-such-user-here", "nobody:no-such-group", "12x", "-1",
		"99999999999", "nobody:",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sandbox sb = { 0 };

		err[0] = '\0';
		assert_int_equal(sandbox_parse_user(&sb, bad[i], err, sizeof(err)), -1);
		assert_false(sb.set_user);
		assert_non_null(strstr(err, "--user"));
	}
}

static void socket_dirs_are_resolved_once_each(void **state)
{
	struct sandbox sb = { 0 };
	char err[256], path[PATH_MAX];

	(void)state;
	assert_int_equal(sandbox_allow_socket(&sb, "/tmp/a.sock", err, sizeof(err)), 0);
	assert_int_equal(sandbox_allow_socket(&sb, "/tmp/../tmp/b.sock", err, sizeof(err)), 0);
	assert_int_equal(sb.n_dirs, 1);
	assert_string_equal(sb.dirs[0], "/tmp");
	assert_int_equal(sandbox_allow_socket(&sb, "/no/such/dir/x.sock", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/no/such/dir"));
	assert_int_equal(sb.n_dirs, 1);
	/* A relative path: its directory is the current one. */
	assert_int_equal(sandbox_allow_socket(&sb, "c.sock", err, sizeof(err)), 0);
	assert_non_null(getcwd(path, sizeof(path)));
	assert_string_equal(sb.dirs[1], path);
	sandbox_free(&sb);
	assert_int_equal(sb.n_dirs, 0);
}

static void too_many_socket_dirs(void **state)
{
	static const char *const dirs[] = { "/", "/tmp", "/dev", "/proc", "/sys",
					    "/etc", "/usr", "/var", "/run" };
	struct sandbox sb = { 0 };
	char err[256], path[64];
	size_t i;

	(void)state;
	for (i = 0; i < SANDBOX_MAX_DIRS; i++) {
		snprintf(path, sizeof(path), "%s/x.sock", dirs[i]);
		assert_int_equal(sandbox_allow_socket(&sb, path, err, sizeof(err)), 0);
	}
	snprintf(path, sizeof(path), "%s/x.sock", dirs[i]);
	assert_int_equal(sandbox_allow_socket(&sb, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socket directories"));
	sandbox_free(&sb);
}

static void off_is_nothing(void **state)
{
	struct sandbox sb = { 0 };
	char err[256];
	int fd;

	(void)state;
	assert_int_equal(sandbox_enter(&sb, SANDBOX_DEV_PCNET, err, sizeof(err)), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	close(fd);
}

static void bad_fault_specs_are_refused(void **state)
{
	static const char *const bad[] = {
		"reg-write", ":3", "reg-write:", "reg-write:0", "reg-write:x",
		"reg-write:3:explode", "reg-write:3x",
		"a-point-name-longer-than-thirty-one-characters:1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SPLITVMM_FAULT", bad[i], 1);
		assert_int_equal(ipc_fault_setup("unit"), -1);
	}
	setenv("SPLITVMM_FAULT", "elsewhere:1:kill", 1);
	assert_int_equal(ipc_fault_setup("unit"), 0);
	ipc_fault("here");	/* not the armed point: nothing happens */
	unsetenv("SPLITVMM_FAULT");
	assert_int_equal(ipc_fault_setup("unit"), 0);
	ipc_fault("elsewhere");	/* disarmed */
}

/* Runs FN in a child inside the sandbox; its wait status. */
static int in_sandbox(enum sandbox_profile profile, const char *dir,
		      int (*fn)(const char *dir))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox sb = { .on = true };
		char err[256];

		if (dir && sandbox_allow_socket(&sb, dir, err, sizeof(err)))
			_exit(100);
		if (sandbox_enter(&sb, profile, err, sizeof(err))) {
			fprintf(stderr, "sandbox_enter: %s\n", err);
			_exit(101);
		}
		_exit(fn(dir));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static bool can_sandbox(void)
{
	char err[256];

	if (RUNNING_ON_VALGRIND) {
		/* Valgrind's own system calls are not the program's. */
		skip();
	}
	if (!sandbox_fs_supported(err, sizeof(err))) {
		fprintf(stderr, "skipped: %s\n", err);
		skip();
	}
	return true;
}

static int allowed_work(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, s;

	/* What a device does all day: AF_UNIX sockets, memory, time. */
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 10;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
		return 11;	/* a socket in the socket directory */
	if (unlink(path))
		return 12;
	close(s);
	if (mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return 13;
	/* No file anywhere, not even in the socket directory. */
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES)
		return 14;
	fd = open("/tmp/sandbox-unit-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0 || errno != EACCES)
		return 15;
	return 0;
}

static void the_sandbox_allows_a_devices_work(void **state)
{
	char path[64];
	int st;

	(void)state;
	if (!can_sandbox())
		return;
	snprintf(path, sizeof(path), "/tmp/sandbox-unit-%d.sock", (int)getpid());
	st = in_sandbox(SANDBOX_DEV_PCNET, path, allowed_work);
	unlink(path);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int inet_socket(const char *dir)
{
	(void)dir;
	return socket(AF_INET, SOCK_DGRAM, 0) >= 0 ? 0 : 20;
}

static int __attribute__((unused)) make_process(const char *dir)
{
	(void)dir;
	return fork() >= 0 ? 0 : 21;
}

static int exec_shell(const char *dir)
{
	char *const argv[] = { "/bin/true", NULL };

	(void)dir;
	execv(argv[0], argv);
	return 22;
}

static int memfd(const char *dir)
{
	(void)dir;
	return memfd_create("x", 0) >= 0 ? 0 : 23;
}

static void forbidden_calls_kill_the_process(void **state)
{
	static const struct {
		enum sandbox_profile profile;
		int (*fn)(const char *dir);
	} cases[] = {
		{ SANDBOX_DEV_PCNET, inet_socket },
		{ SANDBOX_NET_BACKEND, inet_socket },
		{ SANDBOX_NET_BACKEND_DPDK, inet_socket },
		{ SANDBOX_VMM_CORE, inet_socket },
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_UNDEFINED__)
		/* The sanitizer build lets clone() be: its leak check needs
		 * a process of its own (ipc/sandbox.c). */
		{ SANDBOX_DEV_PCNET, make_process },
#endif
		{ SANDBOX_VMM_CORE, exec_shell },
		{ SANDBOX_DEV_PCNET, memfd },
	};

	(void)state;
	if (!can_sandbox())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = in_sandbox(cases[i].profile, NULL, cases[i].fn);

		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

static void vmm_core_may_make_memfds(void **state)
{
	int st;

	(void)state;
	if (!can_sandbox())
		return;
	st = in_sandbox(SANDBOX_VMM_CORE, NULL, memfd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_by_name_and_number),
		cmocka_unit_test(bad_users_are_one_clear_error),
		cmocka_unit_test(socket_dirs_are_resolved_once_each),
		cmocka_unit_test(too_many_socket_dirs),
		cmocka_unit_test(off_is_nothing),
		cmocka_unit_test(bad_fault_specs_are_refused),
		cmocka_unit_test(the_sandbox_allows_a_devices_work),
		cmocka_unit_test(forbidden_calls_kill_the_process),
		cmocka_unit_test(vmm_core_may_make_memfds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

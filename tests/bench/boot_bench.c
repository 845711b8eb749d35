// SPDX-License-Identifier: MIT
/*
 * The foundation's benchmark: boots the test guest on vmm-core several
 * times and prints, for this machine, the time from exec to the guest's
 * first console line, the cost of one port read handled in vmm-core, and
 * the interrupt rates the guest measures itself (test=bench).
 *
 *   boot-bench VMM GUEST [RUNS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_TIMEOUT_S 120

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct run {
	double first_line, exit;
	int status;
	char out[8192];
};

/* Runs VMM with @cmdline; collects timings and the console. */
static int run_once(const char *vmm, const char *guest, const char *cmdline,
		    struct run *r)
{
	char *argv[] = { (char *)vmm, "--kernel", (char *)guest, "--cmdline",
			 (char *)cmdline, "--testdev", "--memory", "64", NULL };
	size_t len = 0;
	double t0;
	int p[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(p))
		return -1;
	t0 = now();
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		alarm(RUN_TIMEOUT_S);	/* survives exec: bounds the run */
		execv(vmm, argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], r->out + len, sizeof(r->out) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!r->first_line && memchr(r->out + len, '\n', (size_t)n))
			r->first_line = now() - t0;
		len += (size_t)n;
		if (len == sizeof(r->out) - 1)
			len = 0;	/* keep reading; only the tail matters */
	}
	r->out[len] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	r->exit = now() - t0;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_bench_lines(const char *out)
{
	const char *l = out;

	while ((l = strstr(l, "bench: "))) {
		const char *e = strchr(l, '\n');
		int n = e ? (int)(e - l) : (int)strlen(l);

		printf("  %.*s\n", n - 7, l + 7);
		l += n;
	}
}

int main(int argc, char **argv)
{
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	double first[64], total[64];
	struct run r;

	if (argc < 3 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: %s VMM GUEST [RUNS 1-64]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < runs; i++) {
		if (run_once(argv[1], argv[2], "test=hello", &r) || r.status ||
		    !r.first_line) {
			fprintf(stderr, "boot-bench: run %d failed (status %d):\n%s\n",
				i, r.status, r.out);
			return 1;
		}
		first[i] = r.first_line;
		total[i] = r.exit;
	}
	qsort(first, (size_t)runs, sizeof(double), cmp);
	qsort(total, (size_t)runs, sizeof(double), cmp);
	printf("boot to first console line: median %.1f ms (min %.1f, max %.1f, %d runs)\n",
	       first[runs / 2] * 1e3, first[0] * 1e3, first[runs - 1] * 1e3, runs);
	printf("boot to clean exit (test=hello): median %.1f ms\n",
	       total[runs / 2] * 1e3);
	if (run_once(argv[1], argv[2], "test=bench", &r) || r.status) {
		fprintf(stderr, "boot-bench: test=bench failed (status %d):\n%s\n",
			r.status, r.out);
		return 1;
	}
	printf("measured by the guest (test=bench):\n");
	print_bench_lines(r.out);
	return 0;
}

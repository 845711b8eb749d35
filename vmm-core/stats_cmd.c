// SPDX-License-Identifier: MIT
/*
 * `vmm-core stats [--interval SEC] [--count N] SOCK...`: the live counters
 * of running processes, fetched from their --stats-sock.  Once by default;
 * with --interval, again every SEC seconds, each counter followed by its
 * rate per second since the previous round when it moved.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "stats_cmd.h"

#define MAX_SOCKS	16
#define MAX_COUNTERS	512

struct snap {
	unsigned n;
	char *name[MAX_COUNTERS];
	unsigned long long v[MAX_COUNTERS];
	double t;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void snap_free(struct snap *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->name[i]);
	s->n = 0;
}

static bool snap_find(const struct snap *s, const char *name,
		      unsigned long long *v)
{
	for (unsigned i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name)) {
			*v = s->v[i];
			return true;
		}
	return false;
}

/* Prints @text (a snapshot) with rates against @prev; fills @cur. */
static void show(const char *path, char *text, const struct snap *prev,
		 struct snap *cur)
{
	char *save = NULL, *line;

	cur->t = now_s();
	printf("== %s\n", path);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long v, old;
		double dt;

		if (sscanf(line, "%127s %llu", name, &v) != 2 ||
		    !strcmp(name, "process")) {
			printf("%s\n", line);
			continue;
		}
		if (cur->n < MAX_COUNTERS) {
			cur->name[cur->n] = strdup(name);
			cur->v[cur->n++] = v;
		}
		dt = cur->t - prev->t;
		if (prev->n && snap_find(prev, name, &old) && v > old && dt > 0)
			printf("  %-40s %20llu  %12.1f/s\n", name, v,
			       (double)(v - old) / dt);
		else
			printf("  %-40s %20llu\n", name, v);
	}
}

int stats_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct snap prev[MAX_SOCKS], cur[MAX_SOCKS];
	double interval = 0;
	long count = 1;
	int c, nsock, failed = 0;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "vmm-core stats: --interval: '%s' is not 0.1 to 3600 seconds\n",
					optarg);
				return 1;
			}
			if (count == 1)
				count = 0;	/* until interrupted */
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr, "vmm-core stats: --count: '%s' is not a positive number\n",
					optarg);
				return 1;
			}
			break;
		case 'h':
			printf("usage: vmm-core stats [--interval SEC] [--count N] SOCK...\n"
			       "Prints the live counters of vmm-core, dev-pcnet and dev-net-backend\n"
			       "from the sockets they serve with --stats-sock.\n");
			return 0;
		default:
			return 1;
		}
	}
	nsock = argc - optind;
	if (nsock < 1 || nsock > MAX_SOCKS) {
		fprintf(stderr, "vmm-core stats: give 1 to %d --stats-sock paths\n",
			MAX_SOCKS);
		return 1;
	}
	for (long round = 0; !count || round < count; round++) {
		if (round)
			nanosleep(&(struct timespec){
					  .tv_sec = (time_t)interval,
					  .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9),
				  }, NULL);
		failed = 0;
		for (int k = 0; k < nsock; k++) {
			const char *path = argv[optind + k];
			char err[256], *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			int rc;

			if (!f)
				return 1;
			rc = ipc_stats_fetch(path, f, 2000, err, sizeof(err));
			fclose(f);
			if (rc) {
				fprintf(stderr, "vmm-core stats: %s\n", err);
				failed++;
			} else {
				show(path, buf, &prev[k], &cur[k]);
				snap_free(&prev[k]);
				prev[k] = cur[k];
				cur[k].n = 0;
			}
			free(buf);
		}
		fflush(stdout);
		if (failed == nsock)
			break;	/* nothing left to watch */
	}
	for (int k = 0; k < nsock; k++)
		snap_free(&prev[k]);
	return failed ? 1 : 0;
}

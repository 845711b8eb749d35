/* SPDX-License-Identifier: MIT */
/*
 * Live counters: every process may serve a snapshot of its counters on a
 * UNIX stream socket (--stats-sock PATH).  A client connects and reads
 * text until EOF; `vmm-core stats PATH...` is that client.
 *
 * The format is one counter a line, "NAME VALUE", NAME dotted
 * (e.g. "device0.posted_writes 140"), after a first line "process NAME PID".
 * The snapshot is taken by a thread of its own while the process runs:
 * each counter is read whole, but counters are not read at one instant.
 */
#ifndef IPC_STATS_H
#define IPC_STATS_H

#include <stdint.h>
#include <stdio.h>

/* Writes the snapshot's counters ("NAME VALUE\n" each) to @f. */
typedef void ipc_stats_fn(FILE *f, void *opaque);

struct ipc_stats;

/*
 * Listens on @path (an existing socket there is replaced) and serves
 * snapshots from a thread until ipc_stats_stop.  0 and *@out, or -errno
 * with one line in @err.
 */
int ipc_stats_start(const char *path, const char *process, ipc_stats_fn *fn,
		    void *opaque, struct ipc_stats **out, char *err,
		    size_t errlen);
/* Stops the thread, closes the socket and removes its path. */
void ipc_stats_stop(struct ipc_stats *s);

/* One counter line, for ipc_stats_fn implementations. */
static inline void ipc_stat(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/*
 * The client: connects to @path, copies the snapshot to @out.  0, or
 * -errno with one line in @err (nothing listening, timeout after
 * @timeout_ms).
 */
int ipc_stats_fetch(const char *path, FILE *out, int timeout_ms, char *err,
		    size_t errlen);

#endif

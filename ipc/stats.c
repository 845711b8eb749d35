// SPDX-License-Identifier: MIT
/* Live counters over a UNIX stream socket (see stats.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "stats.h"

struct ipc_stats {
	int listen_fd, stop_fd;
	pthread_t thread;
	ipc_stats_fn *fn;
	void *opaque;
	char process[32];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int stats_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* the client went away or stalled: its loss */
		p += w;
		n -= (size_t)w;
	}
}

static void serve_one(struct ipc_stats *s, int fd)
{
	struct timeval tv = { .tv_sec = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	/* A client that does not read must not hold the thread. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, "process %s %ld\n", s->process, (long)getpid());
	s->fn(f, s->opaque);
	if (fclose(f) == 0)
		write_all(fd, buf, len);
	free(buf);
}

static void *stats_thread(void *arg)
{
	struct ipc_stats *s = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->stop_fd, .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

int ipc_stats_start(const char *path, const char *process, ipc_stats_fn *fn,
		    void *opaque, struct ipc_stats **out, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa;
	struct ipc_stats *s;
	struct stat st;
	int rc;

	*out = NULL;
	if (stats_addr(path, &sa)) {
		snprintf(err, errlen, "--stats-sock %s: path too long", path);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "--stats-sock: out of memory");
		return -ENOMEM;
	}
	s->fn = fn;
	s->opaque = opaque;
	snprintf(s->process, sizeof(s->process), "%s", process);
	strcpy(s->path, path);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->stop_fd < 0 || s->listen_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "--stats-sock: %s", strerror(-rc));
		goto fail;
	}
	/* A stale socket of an earlier run is replaced, nothing else. */
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode)) {
		rc = -EEXIST;
		snprintf(err, errlen, "--stats-sock %s: exists and is not a socket",
			 path);
		goto fail;
	}
	unlink(path);
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(s->listen_fd, 8)) {
		rc = -errno;
		snprintf(err, errlen, "--stats-sock %s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = -pthread_create(&s->thread, NULL, stats_thread, s);
	if (rc) {
		unlink(path);
		snprintf(err, errlen, "--stats-sock: thread: %s", strerror(-rc));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
	return rc;
}

void ipc_stats_stop(struct ipc_stats *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->stop_fd);
	unlink(s->path);
	free(s);
}

int ipc_stats_fetch(const char *path, FILE *out, int timeout_ms, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa;
	char buf[4096];
	int fd, rc = 0;

	if (stats_addr(path, &sa)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(-rc),
			 rc == -ECONNREFUSED || rc == -ENOENT ?
				 " (is the process running with --stats-sock?)" : "");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		rc = poll(&p, 1, timeout_ms);
		if (rc == 0) {
			snprintf(err, errlen, "%s: no snapshot within %d ms", path,
				 timeout_ms);
			rc = -ETIMEDOUT;
			break;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		n = rc < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		fwrite(buf, 1, (size_t)n, out);
	}
	close(fd);
	return rc;
}

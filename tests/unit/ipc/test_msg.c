// SPDX-License-Identifier: MIT
/* ipc/msg.h: whole messages and SCM_RIGHTS over SOCK_SEQPACKET. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"

struct sp {
	int a, b;
};

static int setup(void **state)
{
	static struct sp sp;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	sp.a = sv[0];
	sp.b = sv[1];
	*state = &sp;
	return 0;
}

static int teardown(void **state)
{
	struct sp *sp = *state;

	if (sp->a >= 0)
		close(sp->a);
	if (sp->b >= 0)
		close(sp->b);
	return 0;
}

static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static bool same_file(int x, int y)
{
	char px[64], py[64], lx[256] = "", ly[256] = "";

	snprintf(px, sizeof(px), "/proc/self/fd/%d", x);
	snprintf(py, sizeof(py), "/proc/self/fd/%d", y);
	if (readlink(px, lx, sizeof(lx) - 1) < 0 ||
	    readlink(py, ly, sizeof(ly) - 1) < 0)
		return false;
	return strcmp(lx, ly) == 0;
}

static void msg_round_trip_without_fds(void **state)
{
	struct sp *sp = *state;
	char out[64] = "hello, device", in[64];
	int fds[4] = { -1, -1, -1, -1 };
	unsigned nfds = 99;

	assert_int_equal(ipc_msg_send(sp->a, out, 14, NULL, 0), 0);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), fds, 4, &nfds), 14);
	assert_int_equal(nfds, 0);
	assert_string_equal(in, "hello, device");
	/* Message boundaries are kept. */
	assert_int_equal(ipc_msg_send(sp->a, "a", 1, NULL, 0), 0);
	assert_int_equal(ipc_msg_send(sp->a, "bc", 2, NULL, 0), 0);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), fds, 4, &nfds), 1);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), fds, 4, &nfds), 2);
}

static void msg_round_trip_with_one_fd_gives_a_cloexec_duplicate(void **state)
{
	struct sp *sp = *state;
	int efd = eventfd(0, EFD_CLOEXEC), got[2] = { -1, -1 };
	uint64_t v = 5;
	unsigned nfds = 0;
	char in[16];

	assert_true(efd >= 0);
	assert_int_equal(ipc_msg_send(sp->a, "x", 1, &efd, 1), 0);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 2, &nfds), 1);
	assert_int_equal(nfds, 1);
	assert_true(got[0] >= 0 && got[0] != efd);
	assert_int_equal(got[1], -1);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	/* The same eventfd: what is written through one is read at the other. */
	assert_int_equal(write(got[0], &v, sizeof(v)), sizeof(v));
	v = 0;
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 5);
	ipc_close_fds(got, 1);
	assert_int_equal(got[0], -1);
	close(efd);
}

static void msg_round_trip_with_many_fds_keeps_their_order(void **state)
{
	struct sp *sp = *state;
	static int src[IPC_MSG_MAX_FDS], got[IPC_MSG_MAX_FDS];
	unsigned before = open_fds(), nfds = 0;
	const unsigned counts[] = { 2, 69, IPC_MSG_MAX_FDS };
	int pfd[2];
	char in[8];

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];

		/* Alternate the pipe's ends so order mistakes show. */
		for (unsigned i = 0; i < n; i++)
			src[i] = fcntl(pfd[i % 2], F_DUPFD_CLOEXEC, 0);
		assert_int_equal(ipc_msg_send(sp->a, "many", 4, src, n), 0);
		assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got,
					      IPC_MSG_MAX_FDS, &nfds), 4);
		assert_int_equal(nfds, n);
		for (unsigned i = 0; i < n; i++)
			assert_true(same_file(got[i], pfd[i % 2]));
		ipc_close_fds(got, n);
		ipc_close_fds(src, n);
	}
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(open_fds(), before);
}

static void msg_longer_than_the_buffer_is_emsgsize_and_leaks_no_fd(void **state)
{
	struct sp *sp = *state;
	char big[600], in[512];
	int src[3], got[3] = { -1, -1, -1 };
	unsigned before = open_fds(), nfds = 7;

	memset(big, 'z', sizeof(big));
	for (unsigned i = 0; i < 3; i++)
		src[i] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(ipc_msg_send(sp->a, big, sizeof(big), src, 3), 0);
	ipc_close_fds(src, 3);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 3, &nfds),
			 -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);
	/* The next message is intact: the long one was dropped whole. */
	assert_int_equal(ipc_msg_send(sp->a, "ok", 3, NULL, 0), 0);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 3, &nfds), 3);
	assert_string_equal(in, "ok");
}

static void msg_with_more_fds_than_allowed_is_emsgsize_and_closes_them_all(void **state)
{
	struct sp *sp = *state;
	int src[5], got[2] = { -1, -1 };
	unsigned before = open_fds(), nfds = 7;
	char in[16];

	for (unsigned i = 0; i < 5; i++)
		src[i] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(ipc_msg_send(sp->a, "fds", 3, src, 5), 0);
	ipc_close_fds(src, 5);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 2, &nfds),
			 -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(got[0], -1);
	assert_int_equal(got[1], -1);
	assert_int_equal(open_fds(), before);

	/* No room at all (fds NULL) refuses any descriptor the same way. */
	src[0] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(ipc_msg_send(sp->a, "fd", 2, src, 1), 0);
	close(src[0]);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), NULL, 0, &nfds),
			 -EMSGSIZE);
	assert_int_equal(open_fds(), before);
}

static void msg_send_refuses_more_than_scm_max_fd(void **state)
{
	struct sp *sp = *state;
	static int src[IPC_MSG_MAX_FDS + 1];
	char in[8];
	unsigned nfds;

	for (unsigned i = 0; i <= IPC_MSG_MAX_FDS; i++)
		src[i] = sp->a;
	assert_int_equal(ipc_msg_send(sp->a, "x", 1, src, IPC_MSG_MAX_FDS + 1),
			 -EMSGSIZE);
	/* Nothing was sent. */
	fcntl(sp->b, F_SETFL, O_NONBLOCK);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), NULL, 0, &nfds),
			 -EAGAIN);
}

static void msg_send_refuses_an_empty_message(void **state)
{
	struct sp *sp = *state;

	assert_int_equal(ipc_msg_send(sp->a, "", 0, NULL, 0), -EINVAL);
}

static void msg_recv_after_the_peer_closed_returns_zero(void **state)
{
	struct sp *sp = *state;
	char in[8];
	int got[1] = { -1 };
	unsigned nfds = 3;

	assert_int_equal(ipc_msg_send(sp->a, "last", 4, NULL, 0), 0);
	close(sp->a);
	sp->a = -1;
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 1, &nfds), 4);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), got, 1, &nfds), 0);
	assert_int_equal(nfds, 0);
}

static void msg_send_to_a_closed_peer_is_epipe_without_sigpipe(void **state)
{
	struct sp *sp = *state;
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);	/* would kill us */

	close(sp->b);
	sp->b = -1;
	assert_int_equal(ipc_msg_send(sp->a, "x", 1, NULL, 0), -EPIPE);
	signal(SIGPIPE, old);
}

static void msg_recv_on_an_empty_nonblocking_socket_is_eagain(void **state)
{
	struct sp *sp = *state;
	char in[8];
	unsigned nfds = 1;

	fcntl(sp->b, F_SETFL, O_NONBLOCK);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), NULL, 0, &nfds),
			 -EAGAIN);
	assert_int_equal(nfds, 0);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void *send_late(void *arg)
{
	struct sp *sp = arg;

	usleep(300 * 1000);
	ipc_msg_send(sp->a, "late", 4, NULL, 0);
	return NULL;
}

static void msg_recv_retries_when_a_signal_interrupts_it(void **state)
{
	struct sp *sp = *state;
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_interval = { 0, 50000 },
				.it_value = { 0, 50000 } }, off = { 0 };
	pthread_t t;
	sigset_t block, prev;
	char in[8];
	unsigned nfds;

	/* No SA_RESTART: recvmsg() really fails with EINTR each time. */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	/* Only this thread takes the signal. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, &prev);
	assert_int_equal(pthread_create(&t, NULL, send_late, sp), 0);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(ipc_msg_recv(sp->b, in, sizeof(in), NULL, 0, &nfds), 4);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(t, NULL);
	/* A SIGALRM raised before the timer stopped may still be pending
	 * (valgrind delivers late): take it before the default action,
	 * termination, comes back. */
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	{
		struct timespec none = { 0, 0 };

		while (sigtimedwait(&block, NULL, &none) == SIGALRM)
			;
	}
	sigaction(SIGALRM, &old, NULL);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
}

static void close_fds_skips_negatives_and_resets_all(void **state)
{
	int fds[3] = { -1, eventfd(0, EFD_CLOEXEC), -5 };
	int keep = fds[1];

	(void)state;
	ipc_close_fds(fds, 3);
	assert_int_equal(fds[0], -1);
	assert_int_equal(fds[1], -1);
	assert_int_equal(fds[2], -1);
	assert_int_equal(fcntl(keep, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	ipc_close_fds(NULL, 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(msg_round_trip_without_fds),
		T(msg_round_trip_with_one_fd_gives_a_cloexec_duplicate),
		T(msg_round_trip_with_many_fds_keeps_their_order),
		T(msg_longer_than_the_buffer_is_emsgsize_and_leaks_no_fd),
		T(msg_with_more_fds_than_allowed_is_emsgsize_and_closes_them_all),
		T(msg_send_refuses_more_than_scm_max_fd),
		T(msg_send_refuses_an_empty_message),
		T(msg_recv_after_the_peer_closed_returns_zero),
		T(msg_send_to_a_closed_peer_is_epipe_without_sigpipe),
		T(msg_recv_on_an_empty_nonblocking_socket_is_eagain),
		T(msg_recv_retries_when_a_signal_interrupts_it),
		cmocka_unit_test(close_fds_skips_negatives_and_resets_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

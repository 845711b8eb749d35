// SPDX-License-Identifier: MIT
/*
 * One message per call over AF_UNIX SOCK_SEQPACKET, descriptors as
 * SCM_RIGHTS.  The receive side asks for every descriptor the kernel can
 * pass in one message (SCM_MAX_FD), so a control part is cut only when a
 * peer sends more than that; whatever is refused is closed before
 * returning.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"

/* Room for IPC_MSG_MAX_FDS descriptors, aligned for struct cmsghdr. */
union cmsg_space {
	struct cmsghdr align;
	char buf[CMSG_SPACE(IPC_MSG_MAX_FDS * sizeof(int))];
};

void ipc_close_fds(int *fds, unsigned n)
{
	if (!fds)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int ipc_msg_send(int sock, const void *buf, size_t len, const int *fds,
		 unsigned nfds)
{
	union cmsg_space ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > IPC_MSG_MAX_FDS)
		return -EMSGSIZE;
	/* The receiver could not tell an empty message from a hang-up. */
	if (!len || !buf || (nfds && !fds))
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* SOCK_SEQPACKET sends all or nothing; anything else is not ours. */
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

ssize_t ipc_msg_recv(int sock, void *buf, size_t cap, int *fds,
		     unsigned max_fds, unsigned *nfds)
{
	union cmsg_space ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh;
	struct cmsghdr *c;
	unsigned got = 0, kept = 0;
	bool refuse;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	if (!fds || !nfds)
		max_fds = 0;	/* nowhere to put them: refuse any */
	do {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Take every descriptor that came, in every SCM_RIGHTS part. */
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t bytes, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		bytes = c->cmsg_len - CMSG_LEN(0);
		cnt = bytes / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			got++;
			if (kept < max_fds)
				fds[kept++] = fd;
			else
				close(fd);
		}
	}

	refuse = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || got > max_fds;
	if (refuse) {
		ipc_close_fds(fds, kept);
		return -EMSGSIZE;
	}
	if (n == 0) {
		/* An orderly hang-up (we never send empty messages). */
		ipc_close_fds(fds, kept);
		return 0;
	}
	if (nfds)
		*nfds = kept;
	return n;
}

/* SPDX-License-Identifier: MIT */
/*
 * Messages on an AF_UNIX SOCK_SEQPACKET socket, with file descriptors as
 * SCM_RIGHTS.  One call sends or receives one whole message; a message or
 * a control part that does not fit is an error, never silently cut, and
 * every fd that arrives with a refused message is closed here so nothing
 * leaks.
 */
#ifndef IPC_MSG_H
#define IPC_MSG_H

#include <stddef.h>
#include <sys/types.h>

#define IPC_MSG_MAX_FDS 253	/* SCM_MAX_FD */

/*
 * Sends @len bytes and @nfds descriptors (may be 0) in one message.
 * Returns 0, or -errno (-EMSGSIZE when @nfds > IPC_MSG_MAX_FDS; -EINVAL
 * when @len is 0, which the receiver could not tell from a hang-up;
 * -EPIPE when the peer is gone; never raises SIGPIPE).  Retries EINTR.
 */
int ipc_msg_send(int sock, const void *buf, size_t len, const int *fds,
		 unsigned nfds);

/*
 * Receives one message into @buf (@cap bytes) and up to @max_fds
 * descriptors into @fds (made close-on-exec); *@nfds says how many came.
 * Returns the message length (> 0); 0 when the peer closed the
 * connection; -EMSGSIZE when the message was longer than @cap or carried
 * more than @max_fds descriptors (all of them are closed, *@nfds = 0);
 * -EAGAIN on a non-blocking socket with nothing to read; other -errno.
 * Retries EINTR.
 */
ssize_t ipc_msg_recv(int sock, void *buf, size_t cap, int *fds,
		     unsigned max_fds, unsigned *nfds);

/* Closes @n descriptors of @fds that are >= 0 and sets them to -1. */
void ipc_close_fds(int *fds, unsigned n);

#endif

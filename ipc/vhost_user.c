// SPDX-License-Identifier: MIT
/*
 * The vhost-user codec: framing on a stream socket, the validator, and the
 * back-end's map of the front-end's memory.
 *
 * Framing reads the header and then the payload with exact lengths, so a
 * recvmsg never reaches into the next message: SCM_RIGHTS descriptors ride
 * on the bytes they were sent with, and reading past our message could
 * take the next message's descriptors.  Every recvmsg collects whatever
 * descriptors it brings, so none is lost whichever way the sender split
 * its writes.
 *
 * The validator follows dp_msg.c: checks in a fixed order, one line of
 * reason, distinct codes for framing (-EPROTO), fields (-EBADMSG) and
 * requests we do not speak (-EOPNOTSUPP).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "vhost_user.h"

/* Room for as many descriptors as the kernel passes in one message. */
union vu_cmsg_space {
	struct cmsghdr align;
	char buf[CMSG_SPACE(IPC_MSG_MAX_FDS * sizeof(int))];
};

void vu_msg_init(struct vu_msg *m, uint32_t request, uint32_t size)
{
	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
}

void vu_reply_init(struct vu_msg *reply, const struct vu_msg *req,
		   uint32_t size)
{
	reply->hdr.request = req->hdr.request;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_F_REPLY;
	reply->hdr.size = size;
}

const char *vu_request_name(uint32_t request)
{
	static const char *const names[VHOST_USER_REQUEST_MAX] = {
		[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
		[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
		[VHOST_USER_SET_OWNER] = "SET_OWNER",
		[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
		[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
		[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
		[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
		[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
		[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[VHOST_USER_SEND_RARP] = "SEND_RARP",
		[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
		[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
		[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
		[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
		[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
		[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
		[VHOST_USER_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
		[VHOST_USER_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
		[VHOST_USER_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
		[VHOST_USER_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
		[VHOST_USER_POSTCOPY_END] = "POSTCOPY_END",
		[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
		[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
		[VHOST_USER_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
		[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
		[VHOST_USER_VRING_KICK] = "VRING_KICK",
		[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
		[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
		[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
		[VHOST_USER_SET_STATUS] = "SET_STATUS",
		[VHOST_USER_GET_STATUS] = "GET_STATUS",
	};

	if (request >= VHOST_USER_REQUEST_MAX)
		return NULL;
	return names[request];
}

/* ---- framing ----------------------------------------------------------- */

static int wait_for(int sock, short events)
{
	struct pollfd p = { .fd = sock, .events = events };
	int n;

	do
		n = poll(&p, 1, -1);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int vu_msg_send(int sock, const struct vu_msg *m, const int *fds,
		unsigned nfds)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	union vu_cmsg_space ctl;
	size_t total, done = 0;

	if (m->hdr.size > VHOST_USER_MAX_PAYLOAD || nfds > VHOST_USER_MAX_FDS)
		return -EMSGSIZE;
	if (nfds && !fds)
		return -EINVAL;
	/* One buffer: the wire has no padding between header and payload. */
	memcpy(buf, &m->hdr, VHOST_USER_HDR_SIZE);
	memcpy(buf + VHOST_USER_HDR_SIZE, &m->payload, m->hdr.size);
	total = VHOST_USER_HDR_SIZE + m->hdr.size;

	while (done < total) {
		struct iovec iov = {
			.iov_base = buf + done, .iov_len = total - done,
		};
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		/* The descriptors go with the first byte, and only once. */
		if (!done && nfds) {
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
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK) {
				e = -wait_for(sock, POLLOUT);
				if (!e)
					continue;
			}
			return -e;
		}
		done += (size_t)n;
	}
	return 0;
}

/* State of one message being received. */
struct rx {
	int *fds;
	unsigned max_fds;
	unsigned kept;		/* in fds[] */
	bool refuse;		/* too many, or a control part cut */
	size_t done;		/* bytes of this message read so far */
};

static void take_fds(struct rx *rx, struct msghdr *mh)
{
	struct cmsghdr *c;

	if (mh->msg_flags & MSG_CTRUNC)
		rx->refuse = true;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (rx->kept < rx->max_fds) {
				rx->fds[rx->kept++] = fd;
			} else {
				close(fd);
				rx->refuse = true;
			}
		}
	}
}

#define RX_EOF	1	/* recv_exact: the peer closed (not an errno) */

/*
 * Reads exactly @len bytes into @buf.  0, -EAGAIN (nothing of the message
 * yet, non-blocking socket), RX_EOF for a hang-up (the caller tells a
 * clean close from a cut message by rx->done), -errno.
 */
static int recv_exact(int sock, struct rx *rx, void *buf, size_t len)
{
	union vu_cmsg_space ctl;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = {
			.iov_base = (uint8_t *)buf + got, .iov_len = len - got,
		};
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK) {
				if (!rx->done)
					return -EAGAIN;
				/* Half a message: the rest is on its way. */
				e = -wait_for(sock, POLLIN);
				if (!e)
					continue;
			}
			return -e;
		}
		take_fds(rx, &mh);
		if (n == 0)
			return RX_EOF;
		got += (size_t)n;
		rx->done += (size_t)n;
	}
	return 0;
}

int vu_msg_recv(int sock, struct vu_msg *m, int *fds, unsigned max_fds,
		unsigned *nfds)
{
	struct rx rx = {
		.fds = fds, .max_fds = (fds && nfds) ? max_fds : 0,
	};
	int ret;

	if (nfds)
		*nfds = 0;
	ret = recv_exact(sock, &rx, &m->hdr, VHOST_USER_HDR_SIZE);
	if (ret == RX_EOF)
		ret = rx.done ? -EPROTO : 0;
	if (ret < 0 || rx.done < VHOST_USER_HDR_SIZE)
		goto fail;
	if (m->hdr.size > VHOST_USER_MAX_PAYLOAD) {
		ret = -E2BIG;
		goto fail;
	}
	ret = recv_exact(sock, &rx, &m->payload, m->hdr.size);
	if (ret == RX_EOF)
		ret = -EPROTO;
	if (ret < 0)
		goto fail;
	/* The whole message is read: the stream stays in step. */
	if (rx.refuse) {
		ret = -EMSGSIZE;
		goto fail;
	}
	if (nfds)
		*nfds = rx.kept;
	return (int)(VHOST_USER_HDR_SIZE + m->hdr.size);

fail:
	ipc_close_fds(fds, rx.kept);
	return ret;
}

/* ---- validation -------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#define FAIL(code, ...) \
	do { fail(err, errlen, __VA_ARGS__); return (code); } while (0)

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Both ranges are non-empty and known not to wrap. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + (blen - 1) && b <= a + (alen - 1);
}

static bool wraps(uint64_t base, uint64_t size)
{
	return base + (size - 1) < base;
}

static int check_region(const char *what, unsigned i,
			const struct vhost_user_mem_region *r,
			char *err, size_t errlen)
{
	if (!r->memory_size)
		FAIL(-EBADMSG, "%s: region %u has size 0", what, i);
	if (wraps(r->guest_phys_addr, r->memory_size))
		FAIL(-EBADMSG, "%s: region %u guest_phys_addr 0x%llx + size "
		     "0x%llx wraps", what, i,
		     (unsigned long long)r->guest_phys_addr,
		     (unsigned long long)r->memory_size);
	if (wraps(r->userspace_addr, r->memory_size))
		FAIL(-EBADMSG, "%s: region %u userspace_addr 0x%llx + size "
		     "0x%llx wraps", what, i,
		     (unsigned long long)r->userspace_addr,
		     (unsigned long long)r->memory_size);
	if (wraps(r->mmap_offset, r->memory_size))
		FAIL(-EBADMSG, "%s: region %u mmap_offset 0x%llx + size "
		     "0x%llx wraps", what, i,
		     (unsigned long long)r->mmap_offset,
		     (unsigned long long)r->memory_size);
	return 0;
}

static int check_mem_table(const struct vu_msg *m, unsigned nfds,
			   char *err, size_t errlen)
{
	const struct vhost_user_mem_table *t = &m->payload.mem;
	uint32_t n;
	int ret;

	if (m->hdr.size < vhost_user_mem_table_size(0))
		FAIL(-EPROTO, "SET_MEM_TABLE: size %u is too small",
		     m->hdr.size);
	n = t->nregions;
	if (n < 1 || n > VHOST_MEMORY_MAX_NREGIONS)
		FAIL(-EBADMSG, "SET_MEM_TABLE: %u regions, not 1..%u", n,
		     VHOST_MEMORY_MAX_NREGIONS);
	if (m->hdr.size != vhost_user_mem_table_size(n))
		FAIL(-EPROTO, "SET_MEM_TABLE: size %u, %u regions need %u",
		     m->hdr.size, n, vhost_user_mem_table_size(n));
	for (unsigned i = 0; i < n; i++) {
		ret = check_region("SET_MEM_TABLE", i, &t->regions[i], err,
				   errlen);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct vhost_user_mem_region *a = &t->regions[i];

		for (unsigned j = i + 1; j < n; j++) {
			const struct vhost_user_mem_region *b = &t->regions[j];

			/*
			 * Front-end addresses may overlap (one RAM block
			 * aliased at two GPAs): each translation stays in
			 * one region's own mapping, so that is harmless.
			 */
			if (overlap(a->guest_phys_addr, a->memory_size,
				    b->guest_phys_addr, b->memory_size))
				FAIL(-EBADMSG, "SET_MEM_TABLE: regions %u and "
				     "%u overlap in guest-physical space",
				     i, j);
		}
	}
	if (nfds != n)
		FAIL(-EPROTO, "SET_MEM_TABLE: %u regions came with %u fds", n,
		     nfds);
	return 0;
}

static int check_config(const char *name, const struct vu_msg *m,
			char *err, size_t errlen)
{
	const struct vhost_user_config *c = &m->payload.config;

	if (m->hdr.size < VHOST_USER_CONFIG_HDR_SIZE)
		FAIL(-EPROTO, "%s: size %u is too small", name, m->hdr.size);
	if (c->size > VHOST_USER_MAX_CONFIG_SIZE)
		FAIL(-EBADMSG, "%s: config size %u > %u", name, c->size,
		     VHOST_USER_MAX_CONFIG_SIZE);
	if (m->hdr.size != VHOST_USER_CONFIG_HDR_SIZE + c->size)
		FAIL(-EPROTO, "%s: size %u but config size %u", name,
		     m->hdr.size, c->size);
	if ((uint64_t)c->offset + c->size > VHOST_USER_MAX_CONFIG_SIZE)
		FAIL(-EBADMSG, "%s: config offset %u + size %u > %u", name,
		     c->offset, c->size, VHOST_USER_MAX_CONFIG_SIZE);
	if (c->flags > VHOST_USER_CONFIG_TYPE_MIGRATION)
		FAIL(-EBADMSG, "%s: config flags 0x%x unknown", name, c->flags);
	return 0;
}

/* Payload kinds with a fixed size. */
enum kind { K_NONE, K_U64, K_STATE, K_ADDR, K_LOG, K_MEM_REG, K_VAR };

static uint32_t kind_size(enum kind k)
{
	switch (k) {
	case K_NONE:	return 0;
	case K_U64:	return sizeof(uint64_t);
	case K_STATE:	return sizeof(struct vhost_user_vring_state);
	case K_ADDR:	return sizeof(struct vhost_user_vring_addr);
	case K_LOG:	return sizeof(struct vhost_user_log);
	case K_MEM_REG:	return sizeof(struct vhost_user_mem_single);
	case K_VAR:	break;
	}
	return 0;
}

/* What a request carries; false for one we do not speak. */
static bool request_kind(uint32_t req, enum kind *k)
{
	switch (req) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_RESET_DEVICE:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_SET_BACKEND_REQ_FD:
		*k = K_NONE;
		return true;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SEND_RARP:
	case VHOST_USER_NET_SET_MTU:
	case VHOST_USER_SET_STATUS:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		*k = K_U64;
		return true;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
	case VHOST_USER_VRING_KICK:
		*k = K_STATE;
		return true;
	case VHOST_USER_SET_VRING_ADDR:
		*k = K_ADDR;
		return true;
	case VHOST_USER_SET_LOG_BASE:
		*k = K_LOG;
		return true;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		*k = K_MEM_REG;
		return true;
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		*k = K_VAR;
		return true;
	}
	return false;
}

static int check_fds(const char *name, unsigned nfds, unsigned lo,
		     unsigned hi, char *err, size_t errlen)
{
	if (nfds < lo || nfds > hi) {
		if (lo == hi)
			FAIL(-EPROTO, "%s: came with %u fds, carries %u", name,
			     nfds, lo);
		FAIL(-EPROTO, "%s: came with %u fds, carries %u..%u", name,
		     nfds, lo, hi);
	}
	return 0;
}

static int check_request(const char *name, const struct vu_msg *m,
			 unsigned nfds, char *err, size_t errlen)
{
	const union vhost_user_payload *p = &m->payload;
	int ret;

	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
		return check_mem_table(m, nfds, err, errlen);
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		ret = check_config(name, m, err, errlen);
		return ret ? ret : check_fds(name, nfds, 0, 0, err, errlen);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: {
		unsigned want = (p->u64 & VHOST_USER_VRING_NOFD_MASK) ? 0 : 1;

		if (p->u64 & ~(VHOST_USER_VRING_IDX_MASK |
			       VHOST_USER_VRING_NOFD_MASK))
			FAIL(-EBADMSG, "%s: 0x%llx has bits beyond index and "
			     "NOFD", name, (unsigned long long)p->u64);
		return check_fds(name, nfds, want, want, err, errlen);
	}
	case VHOST_USER_SET_VRING_NUM:
		if (p->state.num > VHOST_USER_MAX_QUEUE_SIZE ||
		    !pow2(p->state.num))
			FAIL(-EBADMSG, "%s: queue size %u is not a power of "
			     "two in 1..%u", name, p->state.num,
			     VHOST_USER_MAX_QUEUE_SIZE);
		break;
	case VHOST_USER_SET_VRING_BASE:
		if (p->state.num > 0xffff)
			FAIL(-EBADMSG, "%s: base %u > 0xffff", name,
			     p->state.num);
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		if (p->state.num > 1)
			FAIL(-EBADMSG, "%s: enable %u is not 0 or 1", name,
			     p->state.num);
		break;
	case VHOST_USER_SET_VRING_ADDR: {
		const struct vhost_user_vring_addr *a = &p->addr;

		if (a->flags & ~VHOST_USER_VRING_F_LOG)
			FAIL(-EBADMSG, "%s: flags 0x%x unknown", name,
			     a->flags);
		if ((a->desc_user_addr & 15) || (a->used_user_addr & 3) ||
		    (a->avail_user_addr & 1))
			FAIL(-EBADMSG, "%s: ring addresses desc 0x%llx used "
			     "0x%llx avail 0x%llx are misaligned", name,
			     (unsigned long long)a->desc_user_addr,
			     (unsigned long long)a->used_user_addr,
			     (unsigned long long)a->avail_user_addr);
		break;
	}
	case VHOST_USER_SET_STATUS:
		if (p->u64 > 0xff)
			FAIL(-EBADMSG, "%s: status 0x%llx > 0xff", name,
			     (unsigned long long)p->u64);
		break;
	case VHOST_USER_SET_LOG_BASE:
		if (!p->log.mmap_size || wraps(p->log.mmap_offset,
					      p->log.mmap_size))
			FAIL(-EBADMSG, "%s: log size 0x%llx at 0x%llx", name,
			     (unsigned long long)p->log.mmap_size,
			     (unsigned long long)p->log.mmap_offset);
		return check_fds(name, nfds, 1, 1, err, errlen);
	case VHOST_USER_SET_LOG_FD:
	case VHOST_USER_SET_BACKEND_REQ_FD:
		return check_fds(name, nfds, 1, 1, err, errlen);
	case VHOST_USER_ADD_MEM_REG:
		ret = check_region(name, 0, &p->mem_reg.region, err, errlen);
		return ret ? ret : check_fds(name, nfds, 1, 1, err, errlen);
	case VHOST_USER_REM_MEM_REG:
		/* Older QEMU sends an fd; the spec lets us close it unused. */
		ret = check_region(name, 0, &p->mem_reg.region, err, errlen);
		return ret ? ret : check_fds(name, nfds, 0, 1, err, errlen);
	}
	return check_fds(name, nfds, 0, 0, err, errlen);
}

static int check_reply(const char *name, const struct vu_msg *m,
		       unsigned nfds, char *err, size_t errlen)
{
	uint32_t want = sizeof(uint64_t);	/* REPLY_ACK, SET_LOG_BASE */
	int ret;

	switch (m->hdr.request) {
	case VHOST_USER_GET_CONFIG:
		ret = check_config(name, m, err, errlen);
		if (ret)
			return ret;
		want = m->hdr.size;
		break;
	case VHOST_USER_GET_VRING_BASE:
		want = sizeof(struct vhost_user_vring_state);
		break;
	}
	if (m->hdr.size != want)
		FAIL(-EPROTO, "%s reply: size %u, carries %u", name,
		     m->hdr.size, want);
	return check_fds(name, nfds, 0, 0, err, errlen);
}

int vu_msg_check(const struct vu_msg *m, unsigned nfds, bool from_frontend,
		 char *err, size_t errlen)
{
	uint32_t flags = m->hdr.flags;
	const char *name = vu_request_name(m->hdr.request);
	enum kind k;

	if ((flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		FAIL(-EPROTO, "version %u, not %u",
		     flags & VHOST_USER_VERSION_MASK, VHOST_USER_VERSION);
	if (flags & ~VHOST_USER_FLAGS_KNOWN)
		FAIL(-EPROTO, "reserved flags 0x%x set",
		     flags & ~VHOST_USER_FLAGS_KNOWN);
	if (from_frontend && (flags & VHOST_USER_F_REPLY))
		FAIL(-EPROTO, "a front-end request has the REPLY flag");
	if (!from_frontend && !(flags & VHOST_USER_F_REPLY))
		FAIL(-EPROTO, "a back-end reply lacks the REPLY flag");
	if (!from_frontend && (flags & VHOST_USER_F_NEED_REPLY))
		FAIL(-EPROTO, "a back-end reply has the NEED_REPLY flag");
	if (m->hdr.size > VHOST_USER_MAX_PAYLOAD)
		FAIL(-EPROTO, "size %u > %u", m->hdr.size,
		     VHOST_USER_MAX_PAYLOAD);
	if (!name || !request_kind(m->hdr.request, &k))
		FAIL(-EOPNOTSUPP, "request %u (%s) is not supported",
		     m->hdr.request, name ? name : "unknown");
	if (!from_frontend)
		return check_reply(name, m, nfds, err, errlen);
	if (k != K_VAR && m->hdr.size != kind_size(k))
		FAIL(-EPROTO, "%s: size %u, carries %u", name, m->hdr.size,
		     kind_size(k));
	return check_request(name, m, nfds, err, errlen);
}

/* ---- the front-end's memory, mapped ------------------------------------ */

void vu_mem_init(struct vu_mem *m)
{
	memset(m, 0, sizeof(*m));
	guest_mem_init(&m->gm);
}

static void unmap_all(struct vu_mem *m)
{
	for (unsigned i = 0; i < m->gm.nr; i++)
		if (m->map[i].map_base)
			munmap(m->map[i].map_base, m->map[i].map_len);
	vu_mem_init(m);
}

void vu_mem_free(struct vu_mem *m)
{
	unmap_all(m);
}

/*
 * Maps region @r of @fd and appends it to @m.  The fd is not closed here.
 * The file's size is checked first: a mapping past EOF maps, then raises
 * SIGBUS on the first access, which a peer must not be able to cause.
 */
static int map_region(struct vu_mem *m, const struct vhost_user_mem_region *r,
		      int fd)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t off = r->mmap_offset, size = r->memory_size;
	uint64_t aligned, delta;
	struct vu_mem_map *slot;
	struct stat st;
	void *base;
	int ret;

	if (m->gm.nr == GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	if (!size || wraps(r->guest_phys_addr, size) ||
	    wraps(r->userspace_addr, size) || wraps(off, size) || fd < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 0 || off > (uint64_t)st.st_size ||
	    size > (uint64_t)st.st_size - off)
		return -EINVAL;
	aligned = off & ~(page - 1);
	delta = off - aligned;
	if (size + delta > SIZE_MAX)
		return -EINVAL;
	base = mmap(NULL, size + delta, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, (off_t)aligned);
	if (base == MAP_FAILED)
		return -errno;
	slot = &m->map[m->gm.nr];
	ret = guest_mem_add(&m->gm, r->guest_phys_addr, size,
			    (uint8_t *)base + delta, -1, off);
	if (ret) {
		munmap(base, size + delta);
		return ret;
	}
	*slot = (struct vu_mem_map){
		.uva = r->userspace_addr, .map_base = base,
		.map_len = size + delta,
	};
	return 0;
}

int vu_mem_set_table(struct vu_mem *m, const struct vhost_user_mem_table *t,
		     int *fds)
{
	struct vu_mem next;
	int ret = -EINVAL;
	unsigned n = t->nregions;

	vu_mem_init(&next);
	if (n < 1 || n > VHOST_MEMORY_MAX_NREGIONS)
		goto out;	/* fds: we cannot tell how many: none taken */
	for (unsigned i = 0; i < n; i++) {
		ret = map_region(&next, &t->regions[i], fds[i]);
		if (ret) {
			unmap_all(&next);
			break;
		}
	}
	ipc_close_fds(fds, n);
	if (ret)
		goto out;
	unmap_all(m);
	*m = next;
out:
	return ret;
}

int vu_mem_add_region(struct vu_mem *m, const struct vhost_user_mem_region *r,
		      int fd)
{
	int ret = map_region(m, r, fd);

	if (fd >= 0)
		close(fd);
	return ret;
}

int vu_mem_remove_region(struct vu_mem *m,
			 const struct vhost_user_mem_region *r)
{
	for (unsigned i = 0; i < m->gm.nr; i++) {
		if (m->gm.r[i].gpa != r->guest_phys_addr ||
		    m->gm.r[i].size != r->memory_size ||
		    m->map[i].uva != r->userspace_addr)
			continue;
		munmap(m->map[i].map_base, m->map[i].map_len);
		/* Keep slot i of map[] describing gm.r[i]: shift both. */
		for (unsigned j = i + 1; j < m->gm.nr; j++) {
			m->gm.r[j - 1] = m->gm.r[j];
			m->map[j - 1] = m->map[j];
		}
		m->gm.nr--;
		memset(&m->gm.r[m->gm.nr], 0, sizeof(m->gm.r[0]));
		memset(&m->map[m->gm.nr], 0, sizeof(m->map[0]));
		return 0;
	}
	return -ENOENT;
}

void *vu_uva_to_ptr(const struct vu_mem *m, uint64_t uva, uint64_t len)
{
	if (!len)
		len = 1;
	for (unsigned i = 0; i < m->gm.nr; i++) {
		const struct guest_mem_region *r = &m->gm.r[i];
		uint64_t off;

		if (uva < m->map[i].uva || uva - m->map[i].uva >= r->size)
			continue;
		off = uva - m->map[i].uva;
		/* off < size, so size - off cannot underflow.  Regions may
		 * overlap here: another one may hold the whole range. */
		if (len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

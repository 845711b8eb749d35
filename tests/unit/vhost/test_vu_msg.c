// SPDX-License-Identifier: MIT
/*
 * ipc/vhost_user.h: framing on a SOCK_STREAM socket with SCM_RIGHTS, and
 * the validator, message by message.  Malformed messages travel over a
 * real socket with real descriptors, so "refused" also means "no fd left
 * open" (counted in /proc/self/fd).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "vhost_user.h"

struct sp {
	int a, b;	/* a: front-end end, b: back-end end */
};

/*
 * The kernel sends a message this small over AF_UNIX in one piece, so
 * short writes are made here: the test links with -Wl,--wrap=sendmsg and
 * this caps each call at short_write bytes while it is non-zero.
 */
static size_t short_write;

ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct msghdr m = *mh;
	struct iovec iov;

	if (!short_write || m.msg_iovlen != 1 ||
	    m.msg_iov[0].iov_len <= short_write)
		return __real_sendmsg(fd, mh, flags);
	iov = m.msg_iov[0];
	iov.iov_len = short_write;
	m.msg_iov = &iov;
	return __real_sendmsg(fd, &m, flags);
}

static int setup(void **state)
{
	static struct sp sp;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
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
	struct stat sx, sy;

	if (fstat(x, &sx) || fstat(y, &sy))
		return false;
	return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

static void make_efds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uva, uint64_t off)
{
	return (struct vhost_user_mem_region){
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = uva, .mmap_offset = off,
	};
}

/* ---- framing ----------------------------------------------------------- */

static void vu_msg_round_trip_carries_payload_and_fds(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m, r;
	int fds[2], got[VHOST_USER_MAX_FDS];
	unsigned nfds = 99, before = open_fds();
	char err[160];

	memset(&m, 0, sizeof(m));
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE, vhost_user_mem_table_size(2));
	m.payload.mem.nregions = 2;
	m.payload.mem.regions[0] = region(0, 0x100000, 0x7f0000000000, 0);
	m.payload.mem.regions[1] = region(0x100000000, 0x200000,
					  0x7f1000000000, 0x100000);
	make_efds(fds, 2);
	assert_int_equal(vu_msg_send(sp->a, &m, fds, 2), 0);
	assert_int_equal(vu_msg_recv(sp->b, &r, got, VHOST_USER_MAX_FDS,
				     &nfds), 12 + 8 + 2 * 32);
	assert_int_equal(nfds, 2);
	assert_true(same_file(fds[0], got[0]));
	assert_true(same_file(fds[1], got[1]));
	assert_memory_equal(&m.hdr, &r.hdr, sizeof(m.hdr));
	assert_memory_equal(&m.payload, &r.payload, m.hdr.size);
	assert_int_equal(vu_msg_check(&r, nfds, true, err, sizeof(err)), 0);
	ipc_close_fds(got, nfds);
	ipc_close_fds(fds, 2);
	assert_int_equal(open_fds(), before);
}

static void vu_msg_wire_layout_has_payload_right_after_12_byte_header(
	void **state)
{
	struct sp *sp = *state;
	struct vu_msg m;
	uint8_t raw[64];
	uint64_t v = 0x1122334455667788ull;

	vu_msg_init(&m, VHOST_USER_SET_FEATURES, 8);
	m.payload.u64 = v;
	assert_int_equal(vu_msg_send(sp->a, &m, NULL, 0), 0);
	assert_int_equal(read(sp->b, raw, sizeof(raw)), 20);
	assert_memory_equal(raw, &m.hdr, 12);
	assert_memory_equal(raw + 12, &v, 8);
}

static void vu_msg_every_payload_kind_round_trips(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m[4], r;
	unsigned nfds;

	memset(m, 0, sizeof(m));
	vu_msg_init(&m[0], VHOST_USER_GET_FEATURES, 0);
	vu_msg_init(&m[1], VHOST_USER_SET_VRING_BASE, 8);
	m[1].payload.state = (struct vhost_user_vring_state){ 1, 77 };
	vu_msg_init(&m[2], VHOST_USER_SET_VRING_ADDR, 40);
	m[2].payload.addr = (struct vhost_user_vring_addr){
		.index = 1, .desc_user_addr = 0x1000, .used_user_addr = 0x2000,
		.avail_user_addr = 0x3000,
	};
	vu_msg_init(&m[3], VHOST_USER_SET_CONFIG, 12 + 256);
	m[3].payload.config.size = 256;
	for (unsigned i = 0; i < 256; i++)
		m[3].payload.config.region[i] = (uint8_t)i;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(vu_msg_send(sp->a, &m[i], NULL, 0), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vu_msg_recv(sp->b, &r, NULL, 0, &nfds),
				 12 + (int)m[i].hdr.size);
		assert_memory_equal(&r.hdr, &m[i].hdr, 12);
		assert_memory_equal(&r.payload, &m[i].payload, m[i].hdr.size);
		assert_int_equal(vu_msg_check(&r, nfds, true, NULL, 0), 0);
	}
}

static void vu_msg_recv_never_takes_the_next_messages_fds(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m, r;
	int fds[2], got[4];
	unsigned nfds, before = open_fds();

	make_efds(fds, 2);
	vu_msg_init(&m, VHOST_USER_SET_VRING_KICK, 8);
	m.payload.u64 = 0;
	assert_int_equal(vu_msg_send(sp->a, &m, &fds[0], 1), 0);
	m.payload.u64 = 1;
	assert_int_equal(vu_msg_send(sp->a, &m, &fds[1], 1), 0);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(vu_msg_recv(sp->b, &r, got, 4, &nfds), 20);
		assert_int_equal(nfds, 1);
		assert_int_equal(r.payload.u64, i);
		assert_true(same_file(got[0], fds[i]));
		close(got[0]);
	}
	ipc_close_fds(fds, 2);
	assert_int_equal(open_fds(), before);
}

struct dribble {
	int sock;
	const uint8_t *buf;
	size_t len;
	int fd;
};

/* Writes one byte at a time, the descriptor with the first, with pauses. */
static void *dribble_thread(void *arg)
{
	struct dribble *d = arg;

	for (size_t i = 0; i < d->len; i++) {
		char ctl[CMSG_SPACE(sizeof(int))];
		struct iovec iov = {
			.iov_base = (void *)(d->buf + i), .iov_len = 1,
		};
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (i == 0 && d->fd >= 0) {
			struct cmsghdr *c;

			memset(ctl, 0, sizeof(ctl));
			mh.msg_control = ctl;
			mh.msg_controllen = sizeof(ctl);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &d->fd, sizeof(int));
		}
		if (sendmsg(d->sock, &mh, MSG_NOSIGNAL) != 1)
			return (void *)1;
		if (i % 4 == 0)
			sleep_ms(1);
	}
	return NULL;
}

static void vu_msg_recv_reassembles_a_message_sent_byte_by_byte(void **state)
{
	struct sp *sp = *state;
	uint8_t raw[12 + 40];
	struct vhost_user_hdr h = {
		VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, 40,
	};
	struct dribble d = { sp->a, raw, sizeof(raw), -1 };
	struct vu_msg r;
	pthread_t t;
	void *res;
	int got[2];
	unsigned nfds;

	memcpy(raw, &h, 12);
	for (unsigned i = 12; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7);
	d.fd = eventfd(0, EFD_CLOEXEC);
	assert_true(d.fd >= 0);
	assert_int_equal(pthread_create(&t, NULL, dribble_thread, &d), 0);
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 2, &nfds), 52);
	pthread_join(t, &res);
	assert_null(res);
	assert_int_equal(nfds, 1);
	assert_true(same_file(got[0], d.fd));
	assert_memory_equal(&r.payload, raw + 12, 40);
	close(got[0]);
	close(d.fd);
}

struct drain {
	int sock;
	size_t junk;
	struct vu_msg r;
	int ret;
	unsigned nfds;
	int fd;
};

static void *drain_thread(void *arg)
{
	struct drain *d = arg;
	uint8_t buf[4096];
	size_t left = d->junk;

	sleep_ms(20);	/* let the sender find the buffer full */
	while (left) {
		ssize_t n = read(d->sock, buf, left < sizeof(buf) ?
				 left : sizeof(buf));

		if (n <= 0)
			return (void *)1;
		left -= (size_t)n;
	}
	d->ret = vu_msg_recv(d->sock, &d->r, &d->fd, 1, &d->nfds);
	return NULL;
}

static void vu_msg_send_waits_for_room_on_a_full_nonblocking_socket(
	void **state)
{
	struct sp *sp = *state;
	struct drain d = { .sock = sp->b, .fd = -1 };
	uint8_t junk[1000];
	struct vu_msg m;
	pthread_t t;
	void *res;
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	memset(junk, 0xab, sizeof(junk));
	assert_int_equal(fcntl(sp->a, F_SETFL, O_NONBLOCK), 0);
	/* Fill the socket until the kernel takes no more. */
	for (;;) {
		ssize_t n = send(sp->a, junk, sizeof(junk), MSG_NOSIGNAL);

		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			break;
		}
		d.junk += (size_t)n;
	}
	memset(&m, 0, sizeof(m));
	vu_msg_init(&m, VHOST_USER_SET_CONFIG, 12 + 200);
	m.payload.config.size = 200;
	for (unsigned i = 0; i < 200; i++)
		m.payload.config.region[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(pthread_create(&t, NULL, drain_thread, &d), 0);
	assert_int_equal(vu_msg_send(sp->a, &m, &fd, 1), 0);
	pthread_join(t, &res);
	assert_null(res);
	assert_int_equal(d.ret, 12 + 12 + 200);
	assert_int_equal(d.nfds, 1);
	assert_true(same_file(d.fd, fd));
	assert_memory_equal(&d.r.payload, &m.payload, m.hdr.size);
	close(d.fd);
	close(fd);
}

static void vu_msg_send_continues_short_writes_with_fds_sent_once(
	void **state)
{
	struct sp *sp = *state;
	struct vu_msg m, r;
	int fds[2], got[VHOST_USER_MAX_FDS];
	unsigned nfds, before = open_fds();

	make_efds(fds, 2);
	memset(&m, 0, sizeof(m));
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE, vhost_user_mem_table_size(2));
	m.payload.mem.nregions = 2;
	m.payload.mem.regions[0] = region(0, 0x1000, 0x10000, 0);
	m.payload.mem.regions[1] = region(0x1000, 0x1000, 0x11000, 0);
	short_write = 5;
	assert_int_equal(vu_msg_send(sp->a, &m, fds, 2), 0);
	short_write = 0;
	/* Sent again with each piece, the fds would be too many here. */
	assert_int_equal(vu_msg_recv(sp->b, &r, got, VHOST_USER_MAX_FDS,
				     &nfds), 12 + 72);
	assert_int_equal(nfds, 2);
	assert_true(same_file(got[0], fds[0]));
	assert_true(same_file(got[1], fds[1]));
	assert_memory_equal(&r.payload, &m.payload, 72);
	ipc_close_fds(got, 2);
	ipc_close_fds(fds, 2);
	assert_int_equal(open_fds(), before);
}

static void vu_msg_recv_refuses_a_size_beyond_the_largest_payload(void **state)
{
	struct sp *sp = *state;
	struct vhost_user_hdr h = {
		VHOST_USER_SET_CONFIG, VHOST_USER_VERSION,
		VHOST_USER_MAX_PAYLOAD + 1,
	};
	struct vu_msg m, r;
	int fd, got[2];
	unsigned nfds = 7, before = open_fds();

	fd = eventfd(0, EFD_CLOEXEC);
	memcpy(&m.hdr, &h, sizeof(h));
	/* vu_msg_send refuses to build it, so hand-make the header. */
	assert_int_equal(vu_msg_send(sp->a, &m, NULL, 0), -EMSGSIZE);
	assert_int_equal(ipc_msg_send(sp->a, &h, sizeof(h), &fd, 1), 0);
	close(fd);
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 2, &nfds), -E2BIG);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);
}

static void vu_msg_recv_refuses_more_fds_and_stays_in_step(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m, r;
	int fds[3], got[2];
	unsigned nfds = 7, before = open_fds();

	make_efds(fds, 3);
	memset(&m, 0, sizeof(m));
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE, vhost_user_mem_table_size(3));
	m.payload.mem.nregions = 3;
	assert_int_equal(vu_msg_send(sp->a, &m, fds, 3), 0);
	vu_msg_init(&m, VHOST_USER_SET_OWNER, 0);
	assert_int_equal(vu_msg_send(sp->a, &m, NULL, 0), 0);
	ipc_close_fds(fds, 3);
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 2, &nfds), -EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);
	/* The refused message was read whole: the next one is intact. */
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 2, &nfds), 12);
	assert_int_equal(r.hdr.request, VHOST_USER_SET_OWNER);
}

static void vu_msg_recv_tells_hangup_from_a_cut_message(void **state)
{
	struct sp *sp = *state;
	struct vhost_user_hdr h = {
		VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8,
	};
	struct vu_msg r;
	int fd = eventfd(0, EFD_CLOEXEC), got[1];
	unsigned nfds, before;

	/* A header and half a payload, with an fd, then the peer is gone. */
	assert_int_equal(ipc_msg_send(sp->a, &h, sizeof(h), &fd, 1), 0);
	assert_int_equal(write(sp->a, "abcd", 4), 4);
	close(fd);
	close(sp->a);
	sp->a = -1;
	before = open_fds();
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 1, &nfds), -EPROTO);
	assert_int_equal(nfds, 0);
	assert_int_equal(open_fds(), before);	/* the fd that came is closed */
	assert_int_equal(vu_msg_recv(sp->b, &r, got, 1, &nfds), 0);
}

static void vu_msg_recv_on_an_idle_nonblocking_socket_says_eagain(void **state)
{
	struct sp *sp = *state;
	struct vu_msg r;
	unsigned nfds;

	assert_int_equal(fcntl(sp->b, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(vu_msg_recv(sp->b, &r, NULL, 0, &nfds), -EAGAIN);
}

static void vu_msg_send_to_a_closed_peer_is_epipe_not_sigpipe(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m;

	close(sp->b);
	sp->b = -1;
	vu_msg_init(&m, VHOST_USER_SET_OWNER, 0);
	assert_int_equal(vu_msg_send(sp->a, &m, NULL, 0), -EPIPE);
}

static void vu_msg_send_refuses_too_many_fds(void **state)
{
	struct sp *sp = *state;
	struct vu_msg m;
	int fds[VHOST_USER_MAX_FDS + 1] = { 0 };

	vu_msg_init(&m, VHOST_USER_SET_OWNER, 0);
	assert_int_equal(vu_msg_send(sp->a, &m, fds, VHOST_USER_MAX_FDS + 1),
			 -EMSGSIZE);
	assert_int_equal(vu_msg_send(sp->a, &m, NULL, 1), -EINVAL);
}

/* ---- validation -------------------------------------------------------- */

struct check_case {
	const char *what;
	bool from_frontend;
	unsigned nfds;
	int want;
	struct vu_msg m;
};

#define REQ(r, sz)	.hdr = { (r), VHOST_USER_VERSION, (sz) }
#define REPLY_FLAGS	(VHOST_USER_VERSION | VHOST_USER_F_REPLY)
#define REP(r, sz)	.hdr = { (r), REPLY_FLAGS, (sz) }
#define MEM1(a)		.payload.mem = { .nregions = 1, .regions = { a } }
#define MEM2(a, b)	.payload.mem = { .nregions = 2, .regions = { a, b } }
#define RG(g, s, u, o)	{ (g), (s), (u), (o) }

static const struct check_case cases[] = {
	/* accepted */
	{ "GET_FEATURES", true, 0, 0, { REQ(VHOST_USER_GET_FEATURES, 0) } },
	{ "SET_FEATURES", true, 0, 0, { REQ(VHOST_USER_SET_FEATURES, 8) } },
	{ "NEED_REPLY", true, 0, 0, { .hdr = { VHOST_USER_SET_FEATURES,
		VHOST_USER_VERSION | VHOST_USER_F_NEED_REPLY, 8 } } },
	{ "mem table 1", true, 1, 0, { REQ(VHOST_USER_SET_MEM_TABLE, 40),
		MEM1(RG(0, 0x1000, 0x10000, 0)) } },
	{ "mem table adjacent", true, 2, 0, { REQ(VHOST_USER_SET_MEM_TABLE, 72),
		MEM2(RG(0, 0x1000, 0x10000, 0),
		     RG(0x1000, 0x1000, 0x11000, 0)) } },
	{ "mem table ends at 2^64", true, 1, 0,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 40),
		  MEM1(RG(0xfffffffffffff000, 0x1000, 0xfffffffffffff000,
			  0xfffffffffffff000)) } },
	{ "kick with fd", true, 1, 0, { REQ(VHOST_USER_SET_VRING_KICK, 8),
		.payload.u64 = 3 } },
	{ "kick NOFD", true, 0, 0, { REQ(VHOST_USER_SET_VRING_KICK, 8),
		.payload.u64 = 3 | VHOST_USER_VRING_NOFD_MASK } },
	{ "call index 255", true, 1, 0, { REQ(VHOST_USER_SET_VRING_CALL, 8),
		.payload.u64 = 255 } },
	{ "vring num 256", true, 0, 0, { REQ(VHOST_USER_SET_VRING_NUM, 8),
		.payload.state = { 0, 256 } } },
	{ "vring num 32768", true, 0, 0, { REQ(VHOST_USER_SET_VRING_NUM, 8),
		.payload.state = { 0, 32768 } } },
	{ "vring base 0xffff", true, 0, 0, { REQ(VHOST_USER_SET_VRING_BASE, 8),
		.payload.state = { 0, 0xffff } } },
	{ "vring addr", true, 0, 0, { REQ(VHOST_USER_SET_VRING_ADDR, 40),
		.payload.addr = { 0, 0, 0x1000, 0x2004, 0x3002, 0 } } },
	{ "get config", true, 0, 0, { REQ(VHOST_USER_GET_CONFIG, 12 + 8),
		.payload.config = { .offset = 0, .size = 8 } } },
	{ "add mem reg", true, 1, 0, { REQ(VHOST_USER_ADD_MEM_REG, 40),
		.payload.mem_reg.region = RG(0, 0x1000, 0x10000, 0) } },
	{ "rem mem reg", true, 0, 0, { REQ(VHOST_USER_REM_MEM_REG, 40),
		.payload.mem_reg.region = RG(0, 0x1000, 0x10000, 0) } },
	{ "rem mem reg old qemu fd", true, 1, 0,
		{ REQ(VHOST_USER_REM_MEM_REG, 40),
		  .payload.mem_reg.region = RG(0, 0x1000, 0x10000, 0) } },
	{ "log base", true, 1, 0, { REQ(VHOST_USER_SET_LOG_BASE, 16),
		.payload.log = { 0x1000, 0 } } },
	{ "reply features", false, 0, 0, { REP(VHOST_USER_GET_FEATURES, 8) } },
	{ "reply vring base", false, 0, 0,
		{ REP(VHOST_USER_GET_VRING_BASE, 8) } },
	{ "reply ack", false, 0, 0, { REP(VHOST_USER_SET_MEM_TABLE, 8) } },
	{ "reply config", false, 0, 0, { REP(VHOST_USER_GET_CONFIG, 12 + 4),
		.payload.config = { .size = 4 } } },

	/* header */
	{ "version 0", true, 0, -EPROTO, { .hdr = { VHOST_USER_SET_OWNER,
		0, 0 } } },
	{ "version 2", true, 0, -EPROTO, { .hdr = { VHOST_USER_SET_OWNER,
		2, 0 } } },
	{ "version 3", true, 0, -EPROTO, { .hdr = { VHOST_USER_SET_OWNER,
		3, 0 } } },
	{ "reserved flag", true, 0, -EPROTO, { .hdr = { VHOST_USER_SET_OWNER,
		VHOST_USER_VERSION | 0x10, 0 } } },
	{ "request with REPLY", true, 0, -EPROTO,
		{ REP(VHOST_USER_SET_OWNER, 0) } },
	{ "reply without REPLY", false, 0, -EPROTO,
		{ REQ(VHOST_USER_GET_FEATURES, 8) } },
	{ "reply with NEED_REPLY", false, 0, -EPROTO, { .hdr = {
		VHOST_USER_GET_FEATURES, VHOST_USER_VERSION |
		VHOST_USER_F_REPLY | VHOST_USER_F_NEED_REPLY, 8 } } },
	{ "unknown request", true, 0, -EOPNOTSUPP, { REQ(99, 0) } },
	{ "request 0", true, 0, -EOPNOTSUPP, { REQ(0, 0) } },
	{ "iotlb", true, 0, -EOPNOTSUPP, { REQ(VHOST_USER_IOTLB_MSG, 0) } },
	{ "postcopy", true, 0, -EOPNOTSUPP,
		{ REQ(VHOST_USER_POSTCOPY_ADVISE, 0) } },

	/* sizes */
	{ "GET_FEATURES size 8", true, 0, -EPROTO,
		{ REQ(VHOST_USER_GET_FEATURES, 8) } },
	{ "SET_FEATURES size 4", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_FEATURES, 4) } },
	{ "SET_FEATURES size 16", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_FEATURES, 16) } },
	{ "vring addr size 32", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_ADDR, 32) } },
	{ "vring state size 4", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_NUM, 4) } },
	{ "size beyond max", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_CONFIG, VHOST_USER_MAX_PAYLOAD + 1) } },
	{ "mem table size 4", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 4) } },
	{ "mem table size for 1, says 2", true, 2, -EPROTO,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 40),
		  MEM2(RG(0, 0x1000, 0x10000, 0),
		       RG(0x1000, 0x1000, 0x11000, 0)) } },
	{ "mem table full size, says 1", true, 1, -EPROTO,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 264),
		  MEM1(RG(0, 0x1000, 0x10000, 0)) } },
	{ "config size mismatch", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_CONFIG, 12 + 8),
		  .payload.config = { .size = 4 } } },
	{ "config too small", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_CONFIG, 8) } },
	{ "reply features size 0", false, 0, -EPROTO,
		{ REP(VHOST_USER_GET_FEATURES, 0) } },
	{ "reply vring base size 8+", false, 0, -EPROTO,
		{ REP(VHOST_USER_GET_VRING_BASE, 16) } },

	/* fields */
	{ "nregions 0", true, 0, -EBADMSG, { REQ(VHOST_USER_SET_MEM_TABLE, 8),
		.payload.mem = { .nregions = 0 } } },
	{ "nregions 9", true, 8, -EBADMSG, { REQ(VHOST_USER_SET_MEM_TABLE, 264),
		.payload.mem = { .nregions = 9 } } },
	{ "region size 0", true, 1, -EBADMSG,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 40),
		  MEM1(RG(0, 0, 0x1000, 0)) } },
	{ "gpa wraps", true, 1, -EBADMSG, { REQ(VHOST_USER_SET_MEM_TABLE, 40),
		MEM1(RG(0xfffffffffffff001, 0x1000, 0x1000, 0)) } },
	{ "uva wraps", true, 1, -EBADMSG, { REQ(VHOST_USER_SET_MEM_TABLE, 40),
		MEM1(RG(0, 0x1000, 0xffffffffffffff00, 0)) } },
	{ "offset wraps", true, 1, -EBADMSG,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 40),
		  MEM1(RG(0, 0x1000, 0x1000, 0xfffffffffffff800)) } },
	{ "gpa overlap", true, 2, -EBADMSG, { REQ(VHOST_USER_SET_MEM_TABLE, 72),
		MEM2(RG(0, 0x2000, 0x10000, 0),
		     RG(0x1fff, 0x1000, 0x20000, 0)) } },
	{ "gpa contained", true, 2, -EBADMSG,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 72),
		  MEM2(RG(0x1000, 0x1000, 0x10000, 0),
		       RG(0, 0x10000, 0x20000, 0)) } },
	{ "same uva at two gpas", true, 2, 0,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 72),
		  MEM2(RG(0, 0x1000, 0x10000, 0),
		       RG(0x100000, 0x1000, 0x10000, 0)) } },
	{ "add mem reg size 0", true, 1, -EBADMSG,
		{ REQ(VHOST_USER_ADD_MEM_REG, 40),
		  .payload.mem_reg.region = RG(0, 0, 0x10000, 0) } },
	{ "add mem reg wraps", true, 1, -EBADMSG,
		{ REQ(VHOST_USER_ADD_MEM_REG, 40),
		  .payload.mem_reg.region = RG(0xfffffffffffff000, 0x2000,
					       0x10000, 0) } },
	{ "kick high bits", true, 1, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_KICK, 8),
		  .payload.u64 = 1ull << 9 } },
	{ "vring num 0", true, 0, -EBADMSG, { REQ(VHOST_USER_SET_VRING_NUM, 8),
		.payload.state = { 0, 0 } } },
	{ "vring num 3", true, 0, -EBADMSG, { REQ(VHOST_USER_SET_VRING_NUM, 8),
		.payload.state = { 0, 3 } } },
	{ "vring num 65536", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_NUM, 8),
		  .payload.state = { 0, 65536 } } },
	{ "vring base 0x10000", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_BASE, 8),
		  .payload.state = { 0, 0x10000 } } },
	{ "vring enable 2", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_ENABLE, 8),
		  .payload.state = { 0, 2 } } },
	{ "vring addr desc misaligned", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_ADDR, 40),
		  .payload.addr = { 0, 0, 0x1008, 0x2000, 0x3000, 0 } } },
	{ "vring addr used misaligned", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_ADDR, 40),
		  .payload.addr = { 0, 0, 0x1000, 0x2002, 0x3000, 0 } } },
	{ "vring addr avail misaligned", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_ADDR, 40),
		  .payload.addr = { 0, 0, 0x1000, 0x2000, 0x3001, 0 } } },
	{ "vring addr flags", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_VRING_ADDR, 40),
		  .payload.addr = { 0, 2, 0x1000, 0x2000, 0x3000, 0 } } },
	{ "config offset+size > 256", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_GET_CONFIG, 12 + 8),
		  .payload.config = { .offset = 252, .size = 8 } } },
	{ "config flags", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_GET_CONFIG, 12 + 8),
		  .payload.config = { .size = 8, .flags = 2 } } },
	{ "status > 0xff", true, 0, -EBADMSG,
		{ REQ(VHOST_USER_SET_STATUS, 8), .payload.u64 = 0x100 } },
	{ "log size 0", true, 1, -EBADMSG, { REQ(VHOST_USER_SET_LOG_BASE, 16),
		.payload.log = { 0, 0 } } },

	/* fd counts */
	{ "kick without fd", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_KICK, 8), .payload.u64 = 0 } },
	{ "kick NOFD with fd", true, 1, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_KICK, 8),
		  .payload.u64 = VHOST_USER_VRING_NOFD_MASK } },
	{ "call with 2 fds", true, 2, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_CALL, 8), .payload.u64 = 0 } },
	{ "err without fd", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_VRING_ERR, 8), .payload.u64 = 0 } },
	{ "mem table 2 regions 1 fd", true, 1, -EPROTO,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 72),
		  MEM2(RG(0, 0x1000, 0x10000, 0),
		       RG(0x1000, 0x1000, 0x11000, 0)) } },
	{ "mem table 1 region 2 fds", true, 2, -EPROTO,
		{ REQ(VHOST_USER_SET_MEM_TABLE, 40),
		  MEM1(RG(0, 0x1000, 0x10000, 0)) } },
	{ "add mem reg no fd", true, 0, -EPROTO,
		{ REQ(VHOST_USER_ADD_MEM_REG, 40),
		  .payload.mem_reg.region = RG(0, 0x1000, 0x10000, 0) } },
	{ "rem mem reg 2 fds", true, 2, -EPROTO,
		{ REQ(VHOST_USER_REM_MEM_REG, 40),
		  .payload.mem_reg.region = RG(0, 0x1000, 0x10000, 0) } },
	{ "set owner with fd", true, 1, -EPROTO,
		{ REQ(VHOST_USER_SET_OWNER, 0) } },
	{ "log base no fd", true, 0, -EPROTO,
		{ REQ(VHOST_USER_SET_LOG_BASE, 16), .payload.log = { 1, 0 } } },
	{ "reply with fd", false, 1, -EPROTO,
		{ REP(VHOST_USER_GET_FEATURES, 8) } },
};

static void vu_msg_check_accepts_and_refuses_each_case(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct check_case *c = &cases[i];
		char err[200] = "";
		int ret = vu_msg_check(&c->m, c->nfds, c->from_frontend, err,
				       sizeof(err));

		if (ret != c->want)
			fail_msg("case '%s': got %d want %d (%s)", c->what, ret,
				 c->want, err);
		if (ret && !err[0])
			fail_msg("case '%s': refused without a reason",
				 c->what);
	}
}

/*
 * Every case over a real socket: what the back-end does with a message
 * (receive, check, close on refusal) leaves no descriptor behind.
 */
static void vu_msg_refused_messages_leak_no_fds(void **state)
{
	struct sp *sp = *state;
	unsigned before = open_fds();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct check_case *c = &cases[i];
		int fds[VHOST_USER_MAX_FDS], got[VHOST_USER_MAX_FDS];
		struct vhost_user_hdr h = c->m.hdr;
		uint8_t raw[12 + VHOST_USER_MAX_PAYLOAD + 1];
		size_t len = 12 + (h.size > VHOST_USER_MAX_PAYLOAD ?
				   0 : h.size);
		struct vu_msg r;
		unsigned nfds;
		int ret;

		/* Raw, so that what vu_msg_send would refuse still goes. */
		make_efds(fds, c->nfds);
		memcpy(raw, &h, 12);
		memcpy(raw + 12, &c->m.payload, len - 12);
		assert_int_equal(ipc_msg_send(sp->a, raw, len, fds, c->nfds),
				 0);
		ipc_close_fds(fds, c->nfds);
		ret = vu_msg_recv(sp->b, &r, got, VHOST_USER_MAX_FDS, &nfds);
		if (h.size > VHOST_USER_MAX_PAYLOAD) {
			assert_int_equal(ret, -E2BIG);
		} else {
			assert_int_equal(ret, (int)len);
			ret = vu_msg_check(&r, nfds, c->from_frontend, NULL, 0);
			if (ret != c->want)
				fail_msg("case '%s': got %d want %d", c->what,
					 ret, c->want);
			ipc_close_fds(got, nfds);
		}
		if (open_fds() != before)
			fail_msg("case '%s' leaked %d fds", c->what,
				 (int)(open_fds() - before));
	}
}

static void vu_msg_check_accepts_eight_regions_and_names_requests(void **state)
{
	struct vu_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE, vhost_user_mem_table_size(8));
	m.payload.mem.nregions = 8;
	for (unsigned i = 0; i < 8; i++)
		m.payload.mem.regions[i] = region((uint64_t)i << 32, 0x1000,
						  0x10000 + i * 0x1000, 0);
	assert_int_equal(vu_msg_check(&m, 8, true, NULL, 0), 0);
	assert_int_equal(vu_msg_check(&m, 7, true, NULL, 0), -EPROTO);
	m.payload.mem.regions[7].guest_phys_addr = 0x800;	/* into #0 */
	assert_int_equal(vu_msg_check(&m, 8, true, NULL, 0), -EBADMSG);
	assert_string_equal(vu_request_name(VHOST_USER_GET_MAX_MEM_SLOTS),
			    "GET_MAX_MEM_SLOTS");
	assert_null(vu_request_name(1000));
	assert_null(vu_request_name(VHOST_USER_REQUEST_MAX));
}

static void vu_reply_init_answers_the_request(void **state)
{
	struct vu_msg req, rep;

	(void)state;
	vu_msg_init(&req, VHOST_USER_GET_VRING_BASE, 8);
	req.hdr.flags |= VHOST_USER_F_NEED_REPLY;
	vu_reply_init(&rep, &req, 8);
	assert_int_equal(rep.hdr.request, VHOST_USER_GET_VRING_BASE);
	assert_int_equal(rep.hdr.flags, REPLY_FLAGS);
	rep.payload.state = (struct vhost_user_vring_state){ 0, 5 };
	assert_int_equal(vu_msg_check(&rep, 0, false, NULL, 0), 0);
	assert_int_equal(vu_msg_check(&rep, 0, true, NULL, 0), -EPROTO);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(vu_msg_round_trip_carries_payload_and_fds),
		T(vu_msg_wire_layout_has_payload_right_after_12_byte_header),
		T(vu_msg_every_payload_kind_round_trips),
		T(vu_msg_recv_never_takes_the_next_messages_fds),
		T(vu_msg_recv_reassembles_a_message_sent_byte_by_byte),
		T(vu_msg_send_waits_for_room_on_a_full_nonblocking_socket),
		T(vu_msg_send_continues_short_writes_with_fds_sent_once),
		T(vu_msg_recv_refuses_a_size_beyond_the_largest_payload),
		T(vu_msg_recv_refuses_more_fds_and_stays_in_step),
		T(vu_msg_recv_tells_hangup_from_a_cut_message),
		T(vu_msg_recv_on_an_idle_nonblocking_socket_says_eagain),
		T(vu_msg_send_to_a_closed_peer_is_epipe_not_sigpipe),
		T(vu_msg_send_refuses_too_many_fds),
		T(vu_msg_check_accepts_and_refuses_each_case),
		T(vu_msg_refused_messages_leak_no_fds),
		T(vu_msg_check_accepts_eight_regions_and_names_requests),
		T(vu_reply_init_answers_the_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: MIT
/*
 * The device side of the device protocol (devsrv.h, proto/NOTES).  Set-up
 * is a straight line of messages; serving is one loop that drains the
 * posted rings, answers the slots, spins for a while (polling the device's
 * own sources too, devsrv_ops.poll) and then sleeps in poll() with the
 * kick doorbell armed.
 *
 * Everything that comes from the core (messages, the I/O region) is
 * checked before it is used: a core is trusted to run the guest, not to be
 * bug-free, and a device must never crash on what it finds in shared
 * memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "devsrv.h"
#include "doorbell.h"
#include "dp_msg.h"
#include "msg.h"
#include "ring.h"

#define DEVSRV_MAX_EXTRA	8
#define DEVSRV_SETUP_TIMEOUT_MS	10000	/* for each set-up message */
#define DEVSRV_CONNECT_RETRY_MS	10
#define DEVSRV_POLL_EVERY_NS	1000000	/* socket check while busy */
#define DEVSRV_BURST		32	/* posted writes per batch */

struct devsrv_extra {
	int fd;
	devsrv_fd_fn *fn;
	void *opaque;
};

struct devsrv {
	int sock;
	int stop_fd;			/* eventfd: devsrv_stop() */
	int stop;			/* atomic */
	int fds[DP_MAX_FDS];		/* from WELCOME, -1 when not held */
	unsigned nfds;
	struct dp_welcome welcome;
	struct dp_bar_desc bars[6];	/* our own description, not shared */
	uint64_t bar_addr[6];
	bool bar_enabled[6];
	struct guest_mem gm;
	void *state;
	size_t state_size;
	uint8_t *io;
	size_t io_size;
	struct dp_io_header *hdr;	/* in the I/O region */
	struct dp_slot *slots;
	struct ipc_ring rings[DP_MAX_VCPUS];
	bool ring_reported[DP_MAX_VCPUS];
	struct dp_shadow *shadow;	/* in the I/O region; NULL: not in force */
	struct dp_shadow shadow_last;	/* what we published last */
	const struct devsrv_ops *ops;
	void *opaque;
	uint64_t spin_ns;
	bool irq_level;
	/* Inside a posted entry, an interrupt waits until it is freed. */
	bool in_posted;
	bool irq_deferred;
	uint64_t bad_accesses;
	uint32_t seq;			/* of the messages we send */
	uint32_t core_ready_seq;	/* what a set-up failure refers to */
	struct devsrv_extra extra[DEVSRV_MAX_EXTRA];
	unsigned nr_extra;
};

/* What one step of the serving loop decided. */
enum run_state {
	RUN_ON,
	RUN_HANGUP,	/* devsrv_run() returns 0 */
	RUN_STOP,	/* 1 */
	RUN_ERROR,	/* -1 */
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *msg_name(unsigned type)
{
	static const char *const names[] = {
		[DP_MSG_HELLO] = "HELLO", [DP_MSG_WELCOME] = "WELCOME",
		[DP_MSG_MEM_REGION] = "MEM_REGION", [DP_MSG_BAR] = "BAR",
		[DP_MSG_READY] = "READY", [DP_MSG_ERROR] = "ERROR",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

/* ------------------------------------------------------------ messages */

static int send_error(struct devsrv *s, uint32_t seq, uint16_t type, int code,
		      const char *text)
{
	struct dp_error e;

	dp_error_init(&e, seq, type, code, text);
	return ipc_msg_send(s->sock, &e, sizeof(e), NULL, 0);
}

static int send_simple(struct devsrv *s, void *msg, size_t len,
		       enum dp_msg_type type)
{
	dp_hdr_init(msg, type, (uint32_t)len, s->seq++);
	return ipc_msg_send(s->sock, msg, len, NULL, 0);
}

/* The text of a core's ERROR, made safe to print. */
static void error_text(const struct dp_error *e, char *out, size_t len)
{
	size_t n = strnlen(e->text, sizeof(e->text));

	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++) {
		char c = e->text[i];

		out[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[n] = '\0';
}

/*
 * Receives one set-up message, bounded in time.  Returns its length, or
 * -1 with @err set (the connection is then given up).
 */
static ssize_t recv_setup(struct devsrv *s, void *buf, int *fds,
			  unsigned *nfds, char *err, size_t errlen)
{
	struct pollfd p = { .fd = s->sock, .events = POLLIN };
	ssize_t n;
	int rc;

	*nfds = 0;
	do
		rc = poll(&p, 1, DEVSRV_SETUP_TIMEOUT_MS);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		set_err(err, errlen, "poll on the device socket: %s",
			strerror(errno));
		return -1;
	}
	if (!rc) {
		send_error(s, 0, 0, ETIMEDOUT, "set-up stalled: giving up");
		set_err(err, errlen, "vmm-core sent nothing for %d ms during set-up",
			DEVSRV_SETUP_TIMEOUT_MS);
		return -1;
	}
	n = ipc_msg_recv(s->sock, buf, DP_MAX_MSG, fds, DP_MAX_FDS, nfds);
	if (n == 0) {
		set_err(err, errlen, "vmm-core closed the connection during set-up");
		return -1;
	}
	if (n == -EMSGSIZE) {
		send_error(s, 0, 0, EMSGSIZE, "message or fds too large");
		set_err(err, errlen, "vmm-core sent an oversized message during set-up");
		return -1;
	}
	if (n < 0) {
		set_err(err, errlen, "receive from vmm-core: %s", strerror((int)-n));
		return -1;
	}
	return n;
}

/*
 * Checks a set-up message; a refused one is answered with ERROR (unless it
 * is itself an ERROR, which is reported in @err).  0 or -1.
 */
static int check_setup(struct devsrv *s, const void *buf, size_t len,
		       unsigned nfds, char *err, size_t errlen)
{
	const struct dp_hdr *h = buf;
	char why[DP_ERROR_TEXT_LEN], text[DP_ERROR_TEXT_LEN];
	int rc;

	rc = dp_msg_check(DP_SIDE_DEVICE, buf, len, nfds, why, sizeof(why));
	if (rc) {
		send_error(s, len >= sizeof(*h) ? h->seq : 0,
			   len >= sizeof(*h) ? h->type : 0, -rc, why);
		set_err(err, errlen, "bad message from vmm-core during set-up: %s",
			why);
		return -1;
	}
	if (h->type == DP_MSG_ERROR) {
		error_text(buf, text, sizeof(text));
		set_err(err, errlen, "vmm-core refused the device: %s (%s)", text,
			strerror(((const struct dp_error *)buf)->code));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- set-up */

static int connect_once(const char *path, int *out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, e;

	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		*out = fd;
		return 0;
	}
	e = errno;
	close(fd);
	return -e;
}

/* Retries while vmm-core is not listening yet (no file, or refused). */
static int connect_core(struct devsrv *s, const char *path, int timeout_ms,
			char *err, size_t errlen)
{
	uint64_t deadline = ipc_now_ns() + (uint64_t)timeout_ms * 1000000;
	struct timespec nap = { 0, DEVSRV_CONNECT_RETRY_MS * 1000000L };
	int rc;

	if (!path || !*path ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		set_err(err, errlen, "device socket path '%s' is empty or too long",
			path ? path : "");
		return -1;
	}
	for (;;) {
		rc = connect_once(path, &s->sock);
		if (!rc)
			return 0;
		if ((rc != -ENOENT && rc != -ECONNREFUSED && rc != -EAGAIN) ||
		    ipc_now_ns() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}
	if (timeout_ms > 0)
		set_err(err, errlen, "connect to %s: %s (retried for %d ms)",
			path, strerror(-rc), timeout_ms);
	else
		set_err(err, errlen, "connect to %s: %s", path, strerror(-rc));
	return -1;
}

static int send_hello(struct devsrv *s, const struct devsrv_config *cfg,
		      char *err, size_t errlen)
{
	struct dp_hello h = cfg->hello;
	char why[DP_ERROR_TEXT_LEN];
	int rc;

	dp_hdr_init(&h.hdr, DP_MSG_HELLO, sizeof(h), s->seq++);
	/* What the core would refuse is better said here, before connecting. */
	if (dp_msg_check(DP_SIDE_CORE, &h, sizeof(h), 0, why, sizeof(why))) {
		set_err(err, errlen, "invalid device description: %s", why);
		return -1;
	}
	rc = ipc_msg_send(s->sock, &h, sizeof(h), NULL, 0);
	if (rc) {
		set_err(err, errlen, "send HELLO: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/* True if @fd is at least @need bytes long, so that a mapping of it never
 * faults with SIGBUS. */
static bool fd_covers(int fd, uint64_t need)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_size >= 0 &&
	       (uint64_t)st.st_size >= need;
}

static void *map_fd(int fd, uint64_t size, uint64_t offset)
{
	void *p;

	if (offset + size < offset || (uint64_t)(size_t)size != size) {
		errno = EINVAL;
		return NULL;
	}
	if (!fd_covers(fd, offset + size)) {
		errno = ENXIO;	/* "no such address": the file is too short */
		return NULL;
	}
	p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)offset);
	return p == MAP_FAILED ? NULL : p;
}

static int take_welcome(struct devsrv *s, const struct devsrv_config *cfg,
			char *err, size_t errlen)
{
	_Alignas(8) uint8_t buf[DP_MAX_MSG];
	const struct dp_hdr *h = (const void *)buf;
	const struct dp_welcome *w = (const void *)buf;
	ssize_t n;

	n = recv_setup(s, buf, s->fds, &s->nfds, err, errlen);
	if (n < 0 || check_setup(s, buf, (size_t)n, s->nfds, err, errlen))
		return -1;
	if (h->type != DP_MSG_WELCOME) {
		send_error(s, h->seq, h->type, EPROTO, "expected WELCOME");
		set_err(err, errlen, "vmm-core sent %s where WELCOME was due",
			msg_name(h->type));
		return -1;
	}
	/* dp_msg_check did this; the arrays below depend on it. */
	if (w->nr_vcpus < 1 || w->nr_vcpus > DP_MAX_VCPUS ||
	    s->nfds != dp_welcome_nfds(w->nr_vcpus)) {
		send_error(s, h->seq, h->type, EPROTO, "bad vCPU or fd count");
		set_err(err, errlen, "WELCOME: bad vCPU or fd count");
		return -1;
	}
	if ((w->features & ~cfg->hello.features) ||
	    w->state_size < cfg->hello.state_size) {
		send_error(s, h->seq, h->type, EBADMSG,
			   "features or state size not what HELLO asked for");
		set_err(err, errlen,
			"WELCOME: features 0x%llx or state size %u not what was asked (0x%llx, %u)",
			(unsigned long long)w->features, w->state_size,
			(unsigned long long)cfg->hello.features,
			cfg->hello.state_size);
		return -1;
	}
	s->welcome = *w;
	return 0;
}

static int take_mem_region(struct devsrv *s, const struct dp_mem_region *m,
			   int *fd, char *err, size_t errlen)
{
	void *p;
	int rc;

	if (s->gm.nr >= s->welcome.nr_mem_regions) {
		send_error(s, m->hdr.seq, m->hdr.type, EPROTO,
			   "more MEM_REGIONs than WELCOME announced");
		set_err(err, errlen, "more MEM_REGIONs than WELCOME announced");
		return -1;
	}
	errno = 0;
	p = map_fd(*fd, m->size, m->fd_offset);
	if (!p) {
		rc = errno ? errno : EINVAL;
		send_error(s, m->hdr.seq, m->hdr.type, rc, "cannot map guest RAM");
		set_err(err, errlen,
			"map guest RAM 0x%llx+0x%llx (fd offset 0x%llx): %s",
			(unsigned long long)m->gpa, (unsigned long long)m->size,
			(unsigned long long)m->fd_offset, strerror(rc));
		return -1;
	}
	rc = guest_mem_add(&s->gm, m->gpa, m->size, p, *fd, m->fd_offset);
	if (rc) {
		munmap(p, (size_t)m->size);
		send_error(s, m->hdr.seq, m->hdr.type, -rc,
			   "guest RAM region overlaps or is one too many");
		set_err(err, errlen, "guest RAM region 0x%llx+0x%llx: %s",
			(unsigned long long)m->gpa, (unsigned long long)m->size,
			strerror(-rc));
		return -1;
	}
	*fd = -1;	/* the region owns it now */
	return 0;
}

static bool bar_described(const struct devsrv *s, unsigned bar)
{
	return bar < 6 && s->bars[bar].type != DP_BAR_UNUSED &&
	       s->bars[bar].size;
}

/* 0, or -errno for a BAR we did not describe. */
static int take_bar(struct devsrv *s, const struct dp_bar *b)
{
	if (!bar_described(s, b->index))
		return -EINVAL;
	s->bar_addr[b->index] = b->addr;
	s->bar_enabled[b->index] = b->enabled;
	return 0;
}

/* MEM_REGIONs and BARs, until READY. */
static int take_setup(struct devsrv *s, char *err, size_t errlen)
{
	_Alignas(8) uint8_t buf[DP_MAX_MSG];
	const struct dp_hdr *h = (const void *)buf;
	int fds[DP_MAX_FDS];
	unsigned nfds;
	ssize_t n;
	int rc = -1;

	for (;;) {
		n = recv_setup(s, buf, fds, &nfds, err, errlen);
		if (n < 0)
			return -1;
		if (check_setup(s, buf, (size_t)n, nfds, err, errlen))
			goto out;
		switch (h->type) {
		case DP_MSG_MEM_REGION:
			if (nfds != 1) {	/* dp_msg_check's job; fds[0] is used */
				set_err(err, errlen, "MEM_REGION without its memfd");
				goto out;
			}
			if (take_mem_region(s, (const void *)buf, &fds[0], err,
					    errlen))
				goto out;
			break;
		case DP_MSG_BAR:
			if (take_bar(s, (const void *)buf)) {
				send_error(s, h->seq, h->type, EINVAL,
					   "BAR index not described in HELLO");
				set_err(err, errlen, "BAR %u is not one this device has",
					((const struct dp_bar *)buf)->index);
				goto out;
			}
			break;
		case DP_MSG_READY:
			if (s->gm.nr != s->welcome.nr_mem_regions) {
				send_error(s, h->seq, h->type, EPROTO,
					   "READY before every MEM_REGION");
				set_err(err, errlen, "READY after %u of %u MEM_REGIONs",
					s->gm.nr, s->welcome.nr_mem_regions);
				goto out;
			}
			s->core_ready_seq = h->seq;
			rc = 0;
			goto out;
		default:
			send_error(s, h->seq, h->type, EPROTO,
				   "unexpected message during set-up");
			set_err(err, errlen, "vmm-core sent %s during set-up",
				msg_name(h->type));
			goto out;
		}
		ipc_close_fds(fds, nfds);
	}
out:
	ipc_close_fds(fds, nfds);
	return rc;
}

static int map_state_io(struct devsrv *s, char *err, size_t errlen)
{
	const struct dp_welcome *w = &s->welcome;

	errno = 0;
	if (w->state_size) {
		s->state = map_fd(s->fds[DP_FD_STATE], w->state_size, 0);
		if (!s->state) {
			set_err(err, errlen, "map the state region (%u bytes): %s",
				w->state_size, strerror(errno ? errno : EINVAL));
			return -1;
		}
		s->state_size = w->state_size;
	}
	s->io = map_fd(s->fds[DP_FD_IO], w->io_size, 0);
	if (!s->io) {
		set_err(err, errlen, "map the I/O region (%u bytes): %s",
			w->io_size, strerror(errno ? errno : EINVAL));
		return -1;
	}
	s->io_size = w->io_size;
	return 0;
}

void devsrv_shadow_publish(struct devsrv *s, const struct dp_shadow_reg *index,
			   const struct dp_shadow_reg *regs, unsigned n)
{
	struct dp_shadow *l = &s->shadow_last;

	if (!s->shadow)
		return;
	if (n > DP_SHADOW_REGS)
		n = DP_SHADOW_REGS;
	/* Unchanged (the common case): no store to the shared line. */
	if (l->nr == n && !memcmp(&l->index, index, sizeof(*index)) &&
	    !memcmp(l->reg, regs, n * sizeof(*regs)))
		return;
	l->nr = n;
	l->index = *index;
	memcpy(l->reg, regs, n * sizeof(*regs));
	memset(l->reg + n, 0, (DP_SHADOW_REGS - n) * sizeof(*regs));
	dp_shadow_store(s->shadow, l);
}

bool devsrv_shadow_on(const struct devsrv *s)
{
	return s->shadow != NULL;
}

/*
 * Checks the I/O region header and attaches to the rings.  The offsets
 * used are our own (dp_io_layout), compared once with a private copy of
 * the header, so a later change in shared memory cannot move them.
 */
static int attach_io(struct devsrv *s, char *err, size_t errlen)
{
	uint32_t nr = s->welcome.nr_vcpus, slot_off, posted_off, stride, size;
	struct dp_io_header copy;
	char why[DP_ERROR_TEXT_LEN];

	if (s->io_size < sizeof(copy)) {
		set_err(err, errlen, "I/O region of %zu bytes is too small",
			s->io_size);
		return -1;
	}
	memcpy(&copy, s->io, sizeof(copy));
	if (dp_io_header_check(&copy, nr, (uint32_t)s->io_size, why,
			       sizeof(why))) {
		set_err(err, errlen, "%s", why);	/* says "I/O region: ..." */
		return -1;
	}
	dp_io_layout(nr, &slot_off, &posted_off, &stride, &size);
	if (size > s->io_size || copy.slot_offset != slot_off ||
	    copy.posted_offset != posted_off || copy.posted_stride != stride) {
		set_err(err, errlen, "I/O region layout is not the protocol's");
		return -1;
	}
	s->hdr = (struct dp_io_header *)s->io;
	s->slots = (struct dp_slot *)(s->io + slot_off);
	if (s->welcome.features & DP_F_SHADOW_READS) {
		/* A predecessor's shadow may be older than the state we
		 * resume: nothing is answered from it until we publish. */
		s->shadow = (struct dp_shadow *)(s->io + dp_io_shadow_offset(nr));
		memset(&s->shadow_last, 0, sizeof(s->shadow_last));
		s->shadow_last.seq = __atomic_load_n(&s->shadow->seq,
						     __ATOMIC_RELAXED);
		dp_shadow_store(s->shadow, &s->shadow_last);
	}
	for (uint32_t i = 0; i < nr; i++) {
		if (ipc_ring_attach_consumer(&s->rings[i],
					     s->io + posted_off + (size_t)i * stride,
					     stride, DP_POSTED_ENTRIES,
					     sizeof(struct dp_posted))) {
			set_err(err, errlen, "vCPU %u posted ring is not usable", i);
			return -1;
		}
	}
	return 0;
}

static struct devsrv *devsrv_alloc(const struct devsrv_config *cfg,
				   const struct devsrv_ops *ops, void *opaque)
{
	struct devsrv *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->sock = -1;
	for (unsigned i = 0; i < DP_MAX_FDS; i++)
		s->fds[i] = -1;
	guest_mem_init(&s->gm);
	memcpy(s->bars, cfg->hello.bar, sizeof(s->bars));
	s->ops = ops;
	s->opaque = opaque;
	s->spin_ns = cfg->spin_ns;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0) {
		free(s);
		return NULL;
	}
	return s;
}

int devsrv_connect(struct devsrv **out, const struct devsrv_config *cfg,
		   const struct devsrv_ops *ops, void *opaque, char *err,
		   size_t errlen)
{
	char why[256] = "";	/* also the text of our ERROR: never NULL */
	struct dp_ready ready;
	struct devsrv *s;
	int rc;

	*out = NULL;
	if (!ops || !ops->read || !ops->write) {
		set_err(err, errlen, "devsrv: read and write callbacks are required");
		return -1;
	}
	s = devsrv_alloc(cfg, ops, opaque);
	if (!s) {
		set_err(err, errlen, "devsrv: %s", strerror(errno));
		return -1;
	}
	if (connect_core(s, cfg->sock_path, cfg->connect_timeout_ms, why,
			 sizeof(why)) ||
	    send_hello(s, cfg, why, sizeof(why)) ||
	    take_welcome(s, cfg, why, sizeof(why)) ||
	    take_setup(s, why, sizeof(why)))
		goto fail;
	/* From here on the failure is ours, after the core's READY. */
	if (map_state_io(s, why, sizeof(why)) ||
	    attach_io(s, why, sizeof(why))) {
		send_error(s, s->core_ready_seq, DP_MSG_READY, EINVAL, why);
		goto fail;
	}
	if (ops->attached)
		ops->attached(opaque, s->state, s->state_size,
			      s->welcome.generation > 1);
	rc = send_simple(s, &ready, sizeof(ready), DP_MSG_READY);
	if (rc) {
		set_err(why, sizeof(why), "send READY: %s", strerror(-rc));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	set_err(err, errlen, "%s", why);
	devsrv_free(s);
	return -1;
}

/* ------------------------------------------------------------ accessors */

const struct guest_mem *devsrv_guest_mem(const struct devsrv *s)
{
	return &s->gm;
}

const struct dp_welcome *devsrv_welcome(const struct devsrv *s)
{
	return &s->welcome;
}

uint64_t devsrv_bar_addr(const struct devsrv *s, unsigned bar, bool *enabled)
{
	if (bar >= 6) {
		if (enabled)
			*enabled = false;
		return 0;
	}
	if (enabled)
		*enabled = s->bar_enabled[bar];
	return s->bar_addr[bar];
}

/*
 * Signals the irqfd, or, while a posted entry executes, once it is freed:
 * the guest's handler then finds the entry that raised it done, so the
 * core may answer its register reads from the shadow (PROTOCOL.md §3.4).
 */
static void raise_irq(struct devsrv *s)
{
	if (s->in_posted)
		s->irq_deferred = true;
	else
		ipc_eventfd_signal(s->fds[DP_FD_IRQ]);
}

void devsrv_set_irq(struct devsrv *s, bool level)
{
	bool was = s->irq_level;

	s->irq_level = level;
	/* A deassert needs nothing: the next resample simply is not answered. */
	if (level && !was)
		raise_irq(s);
}

int devsrv_add_fd(struct devsrv *s, int fd, devsrv_fd_fn *fn, void *opaque)
{
	if (fd < 0 || !fn || s->nr_extra == DEVSRV_MAX_EXTRA)
		return -1;
	for (unsigned i = 0; i < s->nr_extra; i++)
		if (s->extra[i].fd == fd)
			return -1;
	s->extra[s->nr_extra++] = (struct devsrv_extra){ fd, fn, opaque };
	return 0;
}

void devsrv_del_fd(struct devsrv *s, int fd)
{
	for (unsigned i = 0; i < s->nr_extra; i++) {
		if (s->extra[i].fd != fd)
			continue;
		s->extra[i] = s->extra[--s->nr_extra];
		return;
	}
}

/* ------------------------------------------------------------- serving */

static bool access_ok(const struct devsrv *s, unsigned bar, unsigned size,
		      uint64_t offset)
{
	const struct dp_bar_desc *d;
	bool mem;

	if (!bar_described(s, bar))
		return false;
	d = &s->bars[bar];
	mem = d->type == DP_BAR_MEM32 || d->type == DP_BAR_MEM64;
	if (size != 1 && size != 2 && size != 4 && !(size == 8 && mem))
		return false;
	return offset < d->size && size <= d->size - offset;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void refused(struct devsrv *s, const char *what, unsigned bar,
		    unsigned size, uint64_t offset)
{
	/* Counted always, told once: a guest or core looping on it must not
	 * fill the log. */
	if (!s->bad_accesses++)
		fprintf(stderr,
			"devsrv: refused %s of size %u at BAR %u offset 0x%llx (further ones are only counted)\n",
			what, size, bar, (unsigned long long)offset);
}

/* A resample: KVM deasserted the line at the guest's EOI; still asserted
 * here, it is raised again (as VFIO does for INTx). */
static void resample(struct devsrv *s)
{
	if (s->irq_level)
		raise_irq(s);
}

static void do_posted(struct devsrv *s, const struct dp_posted *p)
{
	if (p->bar == DP_POSTED_EOI && !p->size && !p->offset && !p->data) {
		resample(s);
		return;
	}
	if (p->bar == DP_POSTED_SHADOW_READ) {
		if (!s->shadow || !access_ok(s, p->note_bar, p->size, p->offset)) {
			refused(s, "shadow read note", p->note_bar, p->size,
				p->offset);
			return;
		}
		if (s->ops->shadow_read)
			s->ops->shadow_read(s->opaque, p->note_bar, p->offset,
					    p->size, (uint32_t)p->data,
					    (uint32_t)(p->data >> 32));
		return;
	}
	if (!access_ok(s, p->bar, p->size, p->offset)) {
		refused(s, "posted write", p->bar, p->size, p->offset);
		return;
	}
	s->ops->write(s->opaque, p->bar, p->offset, p->size,
		      p->data & size_mask(p->size));
}

/*
 * Executes up to one ring's worth of posted writes of vCPU @i, freeing
 * each once done: a process killed half-way leaves the rest (and possibly
 * the one it was doing, which the next process repeats) for its
 * successor, so a write is never lost.  An interrupt the entry raised is
 * signalled after it is freed.  Returns how many it executed.
 */
static uint32_t drain_ring(struct devsrv *s, uint32_t i)
{
	struct ipc_ring *r = &s->rings[i];
	struct dp_posted batch[DEVSRV_BURST];
	uint32_t done = 0, n;

	while (done < DP_POSTED_ENTRIES && !ipc_ring_broken(r)) {
		n = ipc_ring_peek(r, batch, DEVSRV_BURST);
		if (!n)
			break;
		for (uint32_t k = 0; k < n; k++) {
			s->in_posted = true;
			do_posted(s, &batch[k]);
			s->in_posted = false;
			ipc_ring_release(r, 1);
			if (s->irq_deferred) {
				s->irq_deferred = false;
				if (s->irq_level)
					ipc_eventfd_signal(s->fds[DP_FD_IRQ]);
			}
		}
		done += n;
	}
	if (ipc_ring_broken(r) && !s->ring_reported[i]) {
		s->ring_reported[i] = true;
		fprintf(stderr,
			"devsrv: vCPU %u posted ring has a bad index; ignoring that ring from now on\n",
			i);
	}
	return done;
}

static uint32_t drain_rings(struct devsrv *s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->welcome.nr_vcpus; i++)
		n += drain_ring(s, i);
	return n;
}

static void serve_slot(struct devsrv *s, uint32_t i)
{
	struct dp_slot *sl = &s->slots[i];
	unsigned dir = __atomic_load_n(&sl->dir, __ATOMIC_RELAXED);
	unsigned size = __atomic_load_n(&sl->size, __ATOMIC_RELAXED);
	unsigned bar = __atomic_load_n(&sl->bar, __ATOMIC_RELAXED);
	uint64_t offset = __atomic_load_n(&sl->offset, __ATOMIC_RELAXED);
	uint64_t data = __atomic_load_n(&sl->data, __ATOMIC_RELAXED);
	bool ok = access_ok(s, bar, size, offset) &&
		  (dir == DP_DIR_READ || dir == DP_DIR_WRITE);

	if (!ok) {
		refused(s, dir == DP_DIR_WRITE ? "write" : "read", bar, size,
			offset);
		data = ~0ull;
	} else if (dir == DP_DIR_READ) {
		data = s->ops->read(s->opaque, bar, offset, size) &
		       size_mask(size);
	} else {
		s->ops->write(s->opaque, bar, offset, size,
			      data & size_mask(size));
	}
	__atomic_store_n(&sl->data, data, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->state, DP_SLOT_RESPONSE, __ATOMIC_RELEASE);
	/* Pairs with the vCPU's store of core_need_wake and its re-check. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sl->core_need_wake, __ATOMIC_RELAXED))
		ipc_eventfd_signal(s->fds[DP_WELCOME_FDS + i]);
}

static uint32_t serve_slots(struct devsrv *s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < s->welcome.nr_vcpus; i++) {
		if (__atomic_load_n(&s->slots[i].state, __ATOMIC_ACQUIRE) !=
		    DP_SLOT_REQUEST)
			continue;
		/* Earlier posted writes land before this access: the vCPU's
		 * own, and the core's pump's, which it posts on vCPU 0's ring
		 * for any vCPU (PROTOCOL.md §5). */
		drain_rings(s);
		serve_slot(s, i);
		n++;
	}
	return n;
}

static bool has_work(struct devsrv *s)
{
	for (uint32_t i = 0; i < s->welcome.nr_vcpus; i++) {
		if (!ipc_ring_broken(&s->rings[i]) && ipc_ring_count(&s->rings[i]))
			return true;
		if (__atomic_load_n(&s->slots[i].state, __ATOMIC_ACQUIRE) ==
		    DP_SLOT_REQUEST)
			return true;
	}
	return false;
}

/* A message from the core while serving: never fatal but for a hang-up. */
static enum run_state handle_message(struct devsrv *s)
{
	_Alignas(8) uint8_t buf[DP_MAX_MSG];
	const struct dp_hdr *h = (const void *)buf;
	char why[DP_ERROR_TEXT_LEN];
	int fds[DP_MAX_FDS];
	unsigned nfds = 0;
	ssize_t n;
	int rc;

	n = ipc_msg_recv(s->sock, buf, sizeof(buf), fds, DP_MAX_FDS, &nfds);
	if (n == 0)
		return RUN_HANGUP;
	if (n == -EAGAIN || n == -EINTR)
		return RUN_ON;
	if (n == -EMSGSIZE) {
		send_error(s, 0, 0, EMSGSIZE, "message or fds too large");
		return RUN_ON;
	}
	if (n == -ECONNRESET || n == -EPIPE)
		return RUN_HANGUP;
	if (n < 0) {
		fprintf(stderr, "devsrv: receive from vmm-core: %s\n",
			strerror((int)-n));
		return RUN_ERROR;
	}
	rc = dp_msg_check(DP_SIDE_DEVICE, buf, (size_t)n, nfds, why, sizeof(why));
	if (rc) {
		send_error(s, (size_t)n >= sizeof(*h) ? h->seq : 0,
			   (size_t)n >= sizeof(*h) ? h->type : 0, -rc, why);
	} else if (h->type == DP_MSG_BAR) {
		const struct dp_bar *b = (const void *)buf;

		if (take_bar(s, b))
			send_error(s, h->seq, h->type, EINVAL,
				   "BAR index not described in HELLO");
		else if (s->ops->bar_moved)
			s->ops->bar_moved(s->opaque, b->index, b->addr,
					  b->enabled);
	} else if (h->type == DP_MSG_ERROR) {
		error_text((const void *)buf, why, sizeof(why));
		fprintf(stderr, "devsrv: vmm-core refused our message %u: %s\n",
			h->seq, why);
	} else {
		send_error(s, h->seq, h->type, EOPNOTSUPP,
			   "message not expected while serving");
	}
	ipc_close_fds(fds, nfds);
	return RUN_ON;
}

static void run_extra(struct devsrv *s, int fd)
{
	/* Looked up again: an earlier callback may have removed it. */
	for (unsigned i = 0; i < s->nr_extra; i++) {
		if (s->extra[i].fd == fd) {
			s->extra[i].fn(s->extra[i].opaque, fd);
			return;
		}
	}
}

enum { PFD_SOCK, PFD_KICK, PFD_RESAMPLE, PFD_STOP, PFD_EXTRA };

static enum run_state poll_fds(struct devsrv *s, int timeout_ms)
{
	struct pollfd p[PFD_EXTRA + DEVSRV_MAX_EXTRA];
	unsigned n = PFD_EXTRA, nr_extra = s->nr_extra;
	enum run_state st = RUN_ON;
	int rc;

	p[PFD_SOCK] = (struct pollfd){ .fd = s->sock, .events = POLLIN };
	p[PFD_KICK] = (struct pollfd){ .fd = s->fds[DP_FD_KICK], .events = POLLIN };
	p[PFD_RESAMPLE] = (struct pollfd){ .fd = s->fds[DP_FD_RESAMPLE],
					   .events = POLLIN };
	p[PFD_STOP] = (struct pollfd){ .fd = s->stop_fd, .events = POLLIN };
	for (unsigned i = 0; i < nr_extra; i++)
		p[n++] = (struct pollfd){ .fd = s->extra[i].fd, .events = POLLIN };
	rc = poll(p, n, timeout_ms);
	if (rc < 0 && errno == EINTR)
		return RUN_ON;
	if (rc < 0) {
		fprintf(stderr, "devsrv: poll: %s\n", strerror(errno));
		return RUN_ERROR;
	}
	if (!rc)
		return RUN_ON;
	if (p[PFD_STOP].revents)
		return RUN_STOP;
	if (p[PFD_KICK].revents & POLLIN)
		ipc_eventfd_drain(s->fds[DP_FD_KICK]);
	if (p[PFD_RESAMPLE].revents & POLLIN) {
		ipc_eventfd_drain(s->fds[DP_FD_RESAMPLE]);
		/* A deassert the guest posted before its EOI counts first. */
		drain_rings(s);
		resample(s);
	}
	if (p[PFD_SOCK].revents & POLLIN)
		st = handle_message(s);
	else if (p[PFD_SOCK].revents & (POLLHUP | POLLERR | POLLNVAL))
		st = RUN_HANGUP;
	for (unsigned i = PFD_EXTRA; i < n && st == RUN_ON; i++)
		if (p[i].revents)
			run_extra(s, p[i].fd);
	return st;
}

/* The device's own sources, while the loop spins (devsrv_ops.poll). */
static unsigned poll_device(struct devsrv *s)
{
	return s->spin_ns && s->ops->poll ? s->ops->poll(s->opaque) : 0;
}

/* Arms the kick doorbell, re-checks for work, and sleeps. */
static enum run_state sleep_on_fds(struct devsrv *s)
{
	enum run_state st;

	__atomic_store_n(&s->hdr->device_need_kick, 1, __ATOMIC_RELAXED);
	/* Pairs with the core's fence between publishing work and reading
	 * the flag: one of the two sides sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (has_work(s) || __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) ||
	    (s->spin_ns && s->ops->before_sleep &&
	     s->ops->before_sleep(s->opaque))) {
		__atomic_store_n(&s->hdr->device_need_kick, 0, __ATOMIC_RELAXED);
		return RUN_ON;
	}
	st = poll_fds(s, -1);
	__atomic_store_n(&s->hdr->device_need_kick, 0, __ATOMIC_RELAXED);
	return st;
}

int devsrv_run(struct devsrv *s)
{
	uint64_t idle_since = ipc_now_ns(), last_poll = idle_since, now;
	enum run_state st = RUN_ON;

	while (st == RUN_ON) {
		if (__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
			st = RUN_STOP;
			break;
		}
		if (drain_rings(s) + serve_slots(s) + poll_device(s)) {
			now = idle_since = ipc_now_ns();
			/* Busy for long: the socket still gets looked at. */
			if (now - last_poll >= DEVSRV_POLL_EVERY_NS) {
				last_poll = now;
				st = poll_fds(s, 0);
			}
			continue;
		}
		now = ipc_now_ns();
		if (now - idle_since < s->spin_ns) {
			ipc_spin_yield();	/* the back-end may share the CPU */
			continue;
		}
		st = sleep_on_fds(s);
		idle_since = last_poll = ipc_now_ns();
	}
	if (s->bad_accesses > 1)
		fprintf(stderr, "devsrv: %llu accesses refused in all\n",
			(unsigned long long)s->bad_accesses);
	switch (st) {
	case RUN_HANGUP:
		return 0;
	case RUN_STOP:
		return 1;
	default:
		return -1;
	}
}

void devsrv_stop(struct devsrv *s)
{
	uint64_t one = 1;
	int saved = errno;	/* called from signal handlers */

	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	if (write(s->stop_fd, &one, sizeof(one)) < 0) {
		/* The flag alone stops the loop at its next turn. */
	}
	errno = saved;
}

void devsrv_free(struct devsrv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->gm.nr; i++) {
		munmap(s->gm.r[i].host, (size_t)s->gm.r[i].size);
		if (s->gm.r[i].fd >= 0)
			close(s->gm.r[i].fd);
	}
	if (s->state)
		munmap(s->state, s->state_size);
	if (s->io)
		munmap(s->io, s->io_size);
	ipc_close_fds(s->fds, DP_MAX_FDS);
	if (s->sock >= 0)
		close(s->sock);
	close(s->stop_fd);
	free(s);
}

// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "doorbell.h"
#include "harness.h"

/* ---- host path stub ---------------------------------------------------- */

static struct stub_host *to_stub(const struct host_path *h)
{
	return (struct stub_host *)h;
}

static int stub_tx_burst(struct host_path *h, const struct host_frame *f,
			 unsigned n)
{
	struct stub_host *s = to_stub(h);
	unsigned i, k;

	if (s->tx_fail < 0)
		return s->tx_fail;
	if (n)
		s->tx_calls++;
	for (i = 0; i < n; i++) {
		struct stub_frame *out;
		size_t off = 0;

		assert_true(f[i].iovcnt >= 1 && f[i].iovcnt <= HOST_MAX_IOV);
		if (f[i].len > STUB_FRAME_MAX) {
			s->tx_refused++;
			s->tx_refused_len = f[i].len;
			h->stats.tx_errors++;
			continue;
		}
		assert_true(s->ntx < STUB_MAX_FRAMES);
		out = &s->tx[s->ntx++];
		if (f[i].iovcnt > s->tx_max_iovcnt)
			s->tx_max_iovcnt = f[i].iovcnt;
		out->iovcnt = f[i].iovcnt;
		for (k = 0; k < f[i].iovcnt; k++) {
			assert_true(off + f[i].iov[k].iov_len <= STUB_FRAME_MAX);
			memcpy(out->data + off, f[i].iov[k].iov_base,
			       f[i].iov[k].iov_len);
			out->iov_base[k] = f[i].iov[k].iov_base;
			out->iov_len[k] = f[i].iov[k].iov_len;
			off += f[i].iov[k].iov_len;
		}
		assert_int_equal(off, f[i].len);
		out->len = off;
		h->stats.tx_frames++;
		h->stats.tx_bytes += off;
	}
	return (int)n;
}

static int stub_rx_burst(struct host_path *h, struct host_frame *f,
			 unsigned n)
{
	struct stub_host *s = to_stub(h);
	unsigned i = 0;

	while (i < n && s->rx_next < s->nrx) {
		const struct stub_frame *in = &s->rx[s->rx_next++];
		size_t cap = 0, off = 0;
		unsigned k;

		for (k = 0; k < f[i].iovcnt; k++)
			cap += f[i].iov[k].iov_len;
		if (in->len > cap) {
			h->stats.rx_truncated++;
			continue;
		}
		for (k = 0; k < f[i].iovcnt && off < in->len; k++) {
			size_t c = in->len - off < f[i].iov[k].iov_len ?
				   in->len - off : f[i].iov[k].iov_len;

			memcpy(f[i].iov[k].iov_base, in->data + off, c);
			off += c;
		}
		f[i].len = in->len;
		h->stats.rx_frames++;
		h->stats.rx_bytes += in->len;
		i++;
	}
	if (s->rx_next == s->nrx)
		ipc_eventfd_drain(s->efd);
	return (int)i;
}

static int stub_rx_fd(const struct host_path *h)
{
	return to_stub(h)->efd;
}

static size_t stub_max_frame(const struct host_path *h)
{
	return to_stub(h)->max_frame;
}

static void stub_close(struct host_path *h)
{
	(void)h;
}

static const struct host_ops stub_ops = {
	.kind = "stub",
	.tx_burst = stub_tx_burst,
	.rx_burst = stub_rx_burst,
	.rx_fd = stub_rx_fd,
	.max_frame = stub_max_frame,
	.close = stub_close,
};

void stub_rx_push(struct stub_host *s, const void *data, size_t len)
{
	assert_true(s->nrx < STUB_MAX_FRAMES && len <= STUB_FRAME_MAX);
	memcpy(s->rx[s->nrx].data, data, len);
	s->rx[s->nrx].len = len;
	s->nrx++;
	ipc_eventfd_signal(s->efd);
}

/* ---- the front-end ----------------------------------------------------- */

void fe_init(struct fe *fe, const struct vb_config *cfg)
{
	int sv[2];
	unsigned i;

	memset(fe, 0, sizeof(*fe));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	fe->sock = sv[0];
	fe->host.h.ops = &stub_ops;
	snprintf(fe->host.h.name, sizeof(fe->host.h.name), "stub");
	fe->host.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(fe->host.efd >= 0);
	fe->host.max_frame = 1518;
	fe->vb = vb_create(&fe->host.h, cfg);
	assert_non_null(fe->vb);
	vb_attach(fe->vb, sv[1]);
	for (i = 0; i < FE_NREGIONS; i++) {
		fe->memfd[i] = memfd_create("fe-ram", MFD_CLOEXEC);
		assert_true(fe->memfd[i] >= 0);
		assert_int_equal(ftruncate(fe->memfd[i], FE_REGION_SIZE), 0);
		fe->ram[i] = mmap(NULL, FE_REGION_SIZE, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fe->memfd[i], 0);
		assert_true(fe->ram[i] != MAP_FAILED);
	}
	for (i = 0; i < VB_NQUEUES; i++) {
		fe->kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		fe->call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		fe->err[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(fe->kick[i] >= 0 && fe->call[i] >= 0 &&
			    fe->err[i] >= 0);
	}
}

void fe_fini(struct fe *fe)
{
	unsigned i;

	vb_destroy(fe->vb);
	if (fe->sock >= 0)
		close(fe->sock);
	close(fe->host.efd);
	for (i = 0; i < VB_NQUEUES; i++) {
		if (fe->q[i].size)
			virtq_drv_free(&fe->q[i]);
		close(fe->kick[i]);
		close(fe->call[i]);
		close(fe->err[i]);
	}
	for (i = 0; i < FE_NREGIONS; i++) {
		munmap(fe->ram[i], FE_REGION_SIZE);
		close(fe->memfd[i]);
	}
}

void *fe_alloc(struct fe *fe, unsigned r, size_t size, size_t align)
{
	size_t off = (fe->alloc[r] + align - 1) & ~(align - 1);

	assert_true(off + size <= FE_REGION_SIZE);
	fe->alloc[r] = off + size;
	memset(fe->ram[r] + off, 0, size);
	return fe->ram[r] + off;
}

uint64_t fe_gpa(const struct fe *fe, const void *p)
{
	const uint8_t *b = p;
	unsigned i;

	for (i = 0; i < FE_NREGIONS; i++)
		if (b >= fe->ram[i] && b < fe->ram[i] + FE_REGION_SIZE)
			return (uint64_t)i * FE_REGION_SIZE +
			       (uint64_t)(b - fe->ram[i]);
	fail_msg("pointer outside the front-end's RAM");
	return 0;
}

/*
 * Looks through /proc/self/maps for mappings of the memfds (by inode):
 * @p's GPA when [@p, @p + @len) is inside one (*@inside), and whether the
 * range overlaps any (*@overlap).
 */
static void ram_maps(const struct fe *fe, const void *p, size_t len,
		     bool *overlap, bool *inside, uint64_t *gpa)
{
	uintptr_t b = (uintptr_t)p;
	ino_t ino[FE_NREGIONS];
	char line[512];
	FILE *f;
	unsigned i;

	*overlap = *inside = false;
	for (i = 0; i < FE_NREGIONS; i++) {
		struct stat st;

		assert_int_equal(fstat(fe->memfd[i], &st), 0);
		ino[i] = st.st_ino;
	}
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, off, inode;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %lu", &start, &end, &off,
			   &inode) != 4)
			continue;
		for (i = 0; i < FE_NREGIONS; i++) {
			if (inode != ino[i] || !strstr(line, "memfd:fe-ram"))
				continue;
			if (b < end && b + len > start)
				*overlap = true;
			if (b >= start && b + len <= end) {
				*inside = true;
				*gpa = (uint64_t)i * FE_REGION_SIZE + off +
				       (b - start);
			}
		}
	}
	fclose(f);
}

bool fe_in_ram(const struct fe *fe, const void *p, size_t len)
{
	bool overlap, inside;
	uint64_t gpa;

	ram_maps(fe, p, len, &overlap, &inside, &gpa);
	return overlap;
}

bool fe_ram_gpa(const struct fe *fe, const void *p, size_t len,
		uint64_t *gpa)
{
	bool overlap, inside;

	ram_maps(fe, p, len, &overlap, &inside, gpa);
	return inside;
}

uint64_t fe_uva(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int fe_send(struct fe *fe, uint32_t request, uint32_t flags,
	    const void *payload, uint32_t size, const int *fds,
	    unsigned nfds)
{
	struct vu_msg m;

	vu_msg_init(&m, request, size);
	m.hdr.flags |= flags;
	if (size)
		memcpy(&m.payload, payload, size);
	assert_int_equal(vu_msg_send(fe->sock, &m, fds, nfds), 0);
	return vb_handle_message(fe->vb);
}

int fe_reply(struct fe *fe, struct vu_msg *m)
{
	struct pollfd p = { .fd = fe->sock, .events = POLLIN };
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	int rc;

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return -1;
	rc = vu_msg_recv(fe->sock, m, fds, VHOST_USER_MAX_FDS, &nfds);
	if (rc <= 0)
		return -1;
	assert_int_equal(nfds, 0);
	assert_true(m->hdr.flags & VHOST_USER_F_REPLY);
	return (int)m->hdr.size;
}

int64_t fe_ack(struct fe *fe, uint32_t request, const void *payload,
	       uint32_t size, const int *fds, unsigned nfds)
{
	struct vu_msg r;

	assert_int_equal(fe_send(fe, request, VHOST_USER_F_NEED_REPLY,
				 payload, size, fds, nfds), 0);
	if (fe_reply(fe, &r) != 8)
		return -1;
	assert_int_equal(r.hdr.request, request);
	return (int64_t)r.payload.u64;
}

uint64_t fe_get_u64(struct fe *fe, uint32_t request)
{
	struct vu_msg r;

	assert_int_equal(fe_send(fe, request, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(fe_reply(fe, &r), 8);
	assert_int_equal(r.hdr.request, request);
	return r.payload.u64;
}

void fe_negotiate(struct fe *fe, uint64_t want)
{
	uint64_t offered, proto, rep = 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;

	assert_int_equal(fe_send(fe, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL,
				 0), 0);
	offered = fe_get_u64(fe, VHOST_USER_GET_FEATURES);
	fe->features = offered & want;
	proto = fe_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES);
	assert_true(proto & rep);
	assert_int_equal(fe_send(fe, VHOST_USER_SET_PROTOCOL_FEATURES, 0,
				 &rep, sizeof(rep), NULL, 0), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_FEATURES, &fe->features,
				sizeof(fe->features), NULL, 0), 0);
}

int64_t fe_mem_table(struct fe *fe)
{
	struct vhost_user_mem_table t = { .nregions = FE_NREGIONS };
	unsigned i;

	for (i = 0; i < FE_NREGIONS; i++) {
		t.regions[i].guest_phys_addr = (uint64_t)i * FE_REGION_SIZE;
		t.regions[i].memory_size = FE_REGION_SIZE;
		t.regions[i].userspace_addr = fe_uva(fe->ram[i]);
		t.regions[i].mmap_offset = 0;
	}
	return fe_ack(fe, VHOST_USER_SET_MEM_TABLE, &t,
		      vhost_user_mem_table_size(FE_NREGIONS), fe->memfd,
		      FE_NREGIONS);
}

void fe_queue(struct fe *fe, unsigned qi)
{
	struct vhost_user_vring_state s = { .index = qi, .num = FE_QSIZE };
	struct vhost_user_vring_addr a = { .index = qi };
	uint64_t u = qi;
	void *d = fe_alloc(fe, 0, virtq_desc_bytes(FE_QSIZE), 16);
	void *av = fe_alloc(fe, 0, virtq_avail_bytes(FE_QSIZE), 2);
	void *us = fe_alloc(fe, 0, virtq_used_bytes(FE_QSIZE), 4);

	fe->ring[qi][0] = d;
	fe->ring[qi][1] = av;
	fe->ring[qi][2] = us;
	assert_int_equal(virtq_drv_init(&fe->q[qi], FE_QSIZE, d, av, us,
					fe->features), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_NUM, &s, sizeof(s),
				NULL, 0), 0);
	s.num = 0;
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_BASE, &s, sizeof(s),
				NULL, 0), 0);
	a.desc_user_addr = fe_uva(d);
	a.avail_user_addr = fe_uva(av);
	a.used_user_addr = fe_uva(us);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a),
				NULL, 0), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_CALL, &u, sizeof(u),
				&fe->call[qi], 1), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_ERR, &u, sizeof(u),
				&fe->err[qi], 1), 0);
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_KICK, &u, sizeof(u),
				&fe->kick[qi], 1), 0);
	s.num = 1;
	assert_int_equal(fe_ack(fe, VHOST_USER_SET_VRING_ENABLE, &s,
				sizeof(s), NULL, 0), 0);
}

void fe_bring_up(struct fe *fe, uint64_t want)
{
	fe_negotiate(fe, want);
	assert_int_equal(fe_mem_table(fe), 0);
	fe_queue(fe, VB_RXQ);
	fe_queue(fe, VB_TXQ);
	assert_true(vb_queue_running(fe->vb, VB_RXQ));
	assert_true(vb_queue_running(fe->vb, VB_TXQ));
}

void fe_add(struct fe *fe, unsigned qi, const struct virtq_buf *bufs,
	    unsigned n_out, unsigned n_in, void *token)
{
	assert_int_equal(virtq_drv_add(&fe->q[qi], bufs, n_out, n_in, token),
			 0);
	virtq_drv_publish(&fe->q[qi]);
}

void fe_kick(struct fe *fe, unsigned qi)
{
	ipc_eventfd_signal(fe->kick[qi]);
}

uint64_t fe_calls(struct fe *fe, unsigned qi)
{
	return ipc_eventfd_drain(fe->call[qi]);
}

uint64_t fe_errs(struct fe *fe, unsigned qi)
{
	return ipc_eventfd_drain(fe->err[qi]);
}

void fe_run(struct fe *fe, unsigned turns)
{
	while (turns--)
		assert_int_equal(vb_poll(fe->vb, 0), 0);
}

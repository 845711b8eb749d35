// SPDX-License-Identifier: MIT
/*
 * The vhost-user-net back-end (QEMU docs/interop/vhost-user.rst): the
 * message state machine, the two rings of one queue pair, and the data
 * path between the rings and the host path.
 *
 * Negotiation.  Offered: VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF,
 * VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC (each a setting) and
 * VHOST_USER_F_PROTOCOL_FEATURES; protocol features REPLY_ACK only (MQ
 * off: one queue pair).  No offloads: the virtio-net header is written
 * zeroed (num_buffers aside) and ignored on transmit.
 *
 * Ring life cycle, as the spec puts it: a ring starts when it has a kick
 * (SET_VRING_KICK, with an fd or NOFD for polling), its addresses, its size
 * and a memory table; it stops at GET_VRING_BASE, which answers the next
 * avail index to take (the transmit ring is drained first, so what the
 * driver queued before the stop is sent or counted, not left behind).
 * Without PROTOCOL_FEATURES a started ring is enabled; with it,
 * SET_VRING_ENABLE decides.  A disabled transmit ring is
 * still drained (frames discarded), a disabled receive ring gets nothing.
 *
 * Zero copy: a transmit chain's readable buffers (after the header) go to
 * the host path as iovecs into guest RAM; a receive frame is read by the
 * host path straight into the chains' writable buffers.  With mergeable
 * buffers the back-end takes as many chains as the longest frame needs,
 * lets the host path fill them, returns the ones the frame used and puts
 * the rest back (vq_unpop()), so GET_VRING_BASE is exact at any moment.
 *
 * --tx-copy on (vb_config.tx_copy) exists only to measure what zero copy
 * saves: the same transmit path, with one step more.  Each frame's
 * iovecs, built and checked as in zero copy, are copied into the transmit
 * queue's own buffer (VB_TX_FRAME_MAX bytes, allocated once), frames of a
 * batch back to back, and the host path gets that copy.  A batch that
 * does not fit goes to the host path in parts.  Receive needs no such
 * mode: every host path already copies from its own buffers (or the
 * kernel's) into guest RAM.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "doorbell.h"
#include "fault.h"
#include "msg.h"
#include "virtq.h"
#include "vhost_user.h"
#include "vhost_backend.h"

#define ETH_HDR_LEN		14
#define VB_MAX_CHAINS		(HOST_BURST + HOST_MAX_IOV)
#define VB_POLL_NOFD_MS		1	/* a ring without kick fd is polled */
#define VB_BUSY_FDS_NS		20000	/* --busy-poll: the fds this often */
#define VB_MSG_TIMEOUT_MS	5000	/* default msg_timeout_ms */
#define VB_PARTIAL_POLL_MS	10	/* re-look at a message in the making */

struct vb_queue {
	/* what the front-end said */
	unsigned num;			/* SET_VRING_NUM; 0: not yet */
	uint16_t base;			/* SET_VRING_BASE */
	bool addr_set;
	struct vhost_user_vring_addr addr;
	bool kick_set;			/* SET_VRING_KICK came (fd or NOFD) */
	int kick_fd, call_fd, err_fd;	/* -1: none */
	bool enabled;			/* SET_VRING_ENABLE */
	/* ours */
	bool running;
	bool broken_reported;
	bool kick_on;			/* kicks asked for (we may sleep) */
	bool more;			/* work may be left: do not sleep */
	struct virtq_dev vq;
	struct vb_queue_stats st;
};

struct vhost_backend {
	struct vb_config cfg;
	struct host_path *host;
	bool host_dead;
	int sock;
	uint64_t features;		/* acked virtio features */
	uint64_t protocol;		/* acked protocol features */
	bool owner;
	uint8_t status;
	unsigned hdr_len;		/* virtio-net header bytes */
	struct vu_mem mem;
	struct vb_queue q[VB_NQUEUES];
	bool rx_wait;			/* too few rx buffers: wait for a kick */
	uint64_t partial_since;		/* a message began arriving; 0: none */
	uint64_t last_work_ns;
	uint64_t fds_looked_ns;		/* last poll() while busy-polling */
	/* --tx-copy on: the transmit queue's copy buffer, VB_TX_FRAME_MAX
	 * bytes (MQ off: one transmit queue); NULL in zero copy. */
	uint8_t *tx_buf;
	struct virtq_chain chains[VB_MAX_CHAINS];
	struct iovec iov[HOST_BURST][HOST_MAX_IOV];
	struct host_frame frames[HOST_BURST];
};

static void vb_log(const struct vhost_backend *vb, int level,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void vb_log(const struct vhost_backend *vb, int level,
		   const char *fmt, ...)
{
	va_list ap;

	if (level > vb->cfg.verbose)
		return;
	fputs("dev-net-backend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void vb_config_default(struct vb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mrg_rxbuf = true;
	cfg->event_idx = true;
	cfg->indirect = true;
	cfg->burst = HOST_BURST;
	cfg->msg_timeout_ms = VB_MSG_TIMEOUT_MS;
}

uint64_t vb_offered_features(const struct vb_config *cfg)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 |
		     1ull << VHOST_USER_F_PROTOCOL_FEATURES;

	if (cfg->mrg_rxbuf)
		f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (cfg->event_idx)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (cfg->indirect)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return f;
}

static const uint64_t offered_protocol =
	1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;

static bool has(uint64_t features, unsigned bit)
{
	return features & (1ull << bit);
}

static uint64_t now_ns(void)
{
	return ipc_now_ns();
}

/* ---- queues ------------------------------------------------------------ */

static void queue_reset(struct vb_queue *q)
{
	struct vb_queue_stats st = q->st;

	ipc_close_fds(&q->kick_fd, 1);
	ipc_close_fds(&q->call_fd, 1);
	ipc_close_fds(&q->err_fd, 1);
	memset(q, 0, sizeof(*q));
	q->kick_fd = q->call_fd = q->err_fd = -1;
	q->st = st;
}

static bool queue_enabled(const struct vhost_backend *vb,
			  const struct vb_queue *q)
{
	return q->enabled ||
	       !has(vb->features, VHOST_USER_F_PROTOCOL_FEATURES);
}

static bool queue_usable(const struct vb_queue *q)
{
	return q->running && !virtq_dev_broken(&q->vq);
}

/*
 * virtq.h has no way to put a chain back: chains taken but not used (the
 * most recent pops, none of them pushed) are returned by moving the
 * private avail index back over them, so they are taken again next time.
 */
static void vq_unpop(struct virtq_dev *vq, unsigned n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

static void queue_broke(struct vhost_backend *vb, unsigned qi, int err)
{
	struct vb_queue *q = &vb->q[qi];

	if (q->broken_reported)
		return;
	q->broken_reported = true;
	q->st.broken++;
	vb_log(vb, 0, "virtqueue %u broken (%s): stopped until set up again",
	       qi, strerror(-err));
	if (q->err_fd >= 0)
		ipc_eventfd_signal(q->err_fd);
}

/* Starts ring @qi once everything it needs has arrived. */
static int queue_start(struct vhost_backend *vb, unsigned qi)
{
	struct vb_queue *q = &vb->q[qi];
	void *desc, *avail, *used;
	uint16_t used_idx;
	int rc;

	if (q->running || !q->kick_set || !q->addr_set || !q->num ||
	    !vb->mem.gm.nr)
		return 0;
	desc = vu_uva_to_ptr(&vb->mem, q->addr.desc_user_addr,
			     virtq_desc_bytes(q->num));
	avail = vu_uva_to_ptr(&vb->mem, q->addr.avail_user_addr,
			      virtq_avail_bytes(q->num));
	used = vu_uva_to_ptr(&vb->mem, q->addr.used_user_addr,
			     virtq_used_bytes(q->num));
	if (!desc || !avail || !used) {
		vb_log(vb, 0, "virtqueue %u: ring addresses outside the memory table",
		       qi);
		return -EFAULT;
	}
	rc = virtq_dev_init(&q->vq, q->num, desc, avail, used, &vb->mem.gm,
			    vb->features);
	if (rc)
		return rc;
	/*
	 * Nothing is ever in flight here when a ring stops, so the base
	 * and used->idx agree.  A front-end that reconnects after losing
	 * its back-end (DPDK's virtio-user in server mode) sends base 0
	 * instead: as DPDK's vhost library and libvhost-user do, the used
	 * index in the ring is taken as the truth.  Frames in flight at the
	 * crash are then lost or resent once, never corrupted.
	 */
	used_idx = le16toh(__atomic_load_n(&((struct vring_used *)used)->idx,
					   __ATOMIC_ACQUIRE));
	if (used_idx != q->base) {
		vb_log(vb, 0, "virtqueue %u: base %u but used index %u: resuming from the used index",
		       qi, q->base, used_idx);
		q->base = used_idx;
	}
	virtq_dev_set_base(&q->vq, q->base);
	q->running = true;
	q->broken_reported = false;
	q->kick_on = true;
	q->more = true;		/* buffers may be waiting already */
	if (qi == VB_RXQ)
		vb->rx_wait = false;
	vb_log(vb, 1, "virtqueue %u started: size %u, base %u, kick %s", qi,
	       q->num, q->base, q->kick_fd >= 0 ? "eventfd" : "polled");
	return 0;
}

/* Stops ring @qi; its next avail index is kept for a restart. */
static void queue_stop(struct vhost_backend *vb, unsigned qi)
{
	struct vb_queue *q = &vb->q[qi];

	if (!q->running)
		return;
	virtq_dev_flush(&q->vq);
	q->base = virtq_dev_get_base(&q->vq);
	q->running = false;
	q->more = false;
	vb_log(vb, 1, "virtqueue %u stopped at %u", qi, q->base);
}

/* The memory table changed: rings are mapped again (or stop). */
static void queues_remap(struct vhost_backend *vb)
{
	unsigned qi;

	for (qi = 0; qi < VB_NQUEUES; qi++) {
		if (!vb->q[qi].running)
			continue;
		queue_stop(vb, qi);
		if (queue_start(vb, qi))
			vb_log(vb, 0, "virtqueue %u: no longer in the memory table",
			       qi);
	}
}

static void queue_call(struct vhost_backend *vb, struct vb_queue *q)
{
	(void)vb;
	if (virtq_dev_need_call(&q->vq) && q->call_fd >= 0) {
		ipc_eventfd_signal(q->call_fd);
		q->st.calls++;
	}
}

/*
 * Appends the @n_seg segments of @c starting at @first to @iov (at *@n),
 * leaving out the first @skip bytes.  false if more than HOST_MAX_IOV.
 */
static bool chain_iov(const struct virtq_chain *c, unsigned first,
		      unsigned n_seg, size_t skip, struct iovec *iov,
		      unsigned *n)
{
	unsigned i;

	for (i = first; i < first + n_seg; i++) {
		size_t len = c->iov[i].len;
		uint8_t *p = c->iov[i].ptr;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		if (*n == HOST_MAX_IOV)
			return false;
		iov[*n].iov_base = p + skip;
		iov[*n].iov_len = len - skip;
		(*n)++;
		skip = 0;
	}
	return true;
}

/* Writes @len bytes at the start of @c's writable segments. */
static void chain_write(const struct virtq_chain *c, const void *src,
			size_t len)
{
	const uint8_t *s = src;
	unsigned i;

	for (i = c->n_out; i < c->n && len; i++) {
		size_t k = c->iov[i].len < len ? c->iov[i].len : len;

		memcpy(c->iov[i].ptr, s, k);
		s += k;
		len -= k;
	}
}

/* ---- guest -> host ----------------------------------------------------- */

/*
 * Gives frames [0, @n) of vb->frames to the host path and counts what
 * became of them.
 */
static void tx_send(struct vhost_backend *vb, unsigned n)
{
	struct vb_queue *q = &vb->q[VB_TXQ];
	struct host_stats before = vb->host->stats;
	int rc;

	if (!n)
		return;
	if (vb->host_dead) {
		q->st.drop_host += n;
		return;
	}
	ipc_fault("tx");
	rc = vb->host->ops->tx_burst(vb->host, vb->frames, n);
	if (rc < 0) {
		vb_log(vb, 0, "host path %s: %s", vb->host->name,
		       strerror(-rc));
		vb->host_dead = true;
		q->st.drop_host += n;
	} else {
		const struct host_stats *now = &vb->host->stats;

		q->st.frames += now->tx_frames - before.tx_frames;
		q->st.bytes += now->tx_bytes - before.tx_bytes;
		q->st.drop_host += now->tx_errors - before.tx_errors;
		q->st.drop_host_busy += n - (unsigned)rc;
	}
}

/*
 * --tx-copy on: copies frame @f (its iovecs into guest RAM) to @dst, at
 * most @room bytes, and makes @f the one iovec @out over that copy.
 * false when it does not fit: the caller checked f->len already, this
 * bounds every single memcpy again.
 */
static bool tx_copy(struct host_frame *f, uint8_t *dst, size_t room,
		    struct iovec *out)
{
	size_t off = 0;
	unsigned k;

	if (f->len > room)
		return false;
	for (k = 0; k < f->iovcnt; k++) {
		if (f->iov[k].iov_len > room - off)
			return false;
		memcpy(dst + off, f->iov[k].iov_base, f->iov[k].iov_len);
		off += f->iov[k].iov_len;
	}
	out->iov_base = dst;
	out->iov_len = off;
	f->iov = out;
	f->iovcnt = 1;
	f->len = off;
	return true;
}

unsigned vb_process_tx(struct vhost_backend *vb)
{
	struct vb_queue *q = &vb->q[VB_TXQ];
	uint16_t heads[HOST_BURST];
	unsigned popped = 0, n = 0, i;
	size_t copied = 0;		/* of vb->tx_buf, by frames [0, n) */
	bool enabled = queue_enabled(vb, q);
	int rc;

	if (!queue_usable(q))
		return 0;
	while (popped < vb->cfg.burst) {
		struct virtq_chain *c = &vb->chains[0];
		struct host_frame *f;

		rc = virtq_dev_pop(&q->vq, c);
		if (rc < 0) {
			queue_broke(vb, VB_TXQ, rc);
			break;
		}
		if (!rc)
			break;
		heads[popped++] = c->head;
		if (!enabled) {
			q->st.drop_disabled++;
			continue;
		}
		if (c->n_in || c->out_len < vb->hdr_len) {
			q->st.drop_bad_chain++;
			continue;
		}
		if (c->out_len < vb->hdr_len + ETH_HDR_LEN) {
			q->st.drop_runt++;
			continue;
		}
		f = &vb->frames[n];
		f->iov = vb->iov[n];
		f->iovcnt = 0;
		f->len = c->out_len - vb->hdr_len;
		if (!chain_iov(c, 0, c->n_out, vb->hdr_len, f->iov,
			       &f->iovcnt)) {
			q->st.drop_bad_chain++;
			continue;
		}
		if (vb->tx_buf) {
			if (f->len > VB_TX_FRAME_MAX) {
				/* Longer than the copy buffer: refused as a
				 * host path refuses a frame too long for it. */
				q->st.drop_host++;
				continue;
			}
			if (f->len > VB_TX_FRAME_MAX - copied) {
				/* The buffer is full: the frames in it go
				 * first, this one starts it again.  Its iovecs
				 * stay in vb->iov[n], which tx_send() does not
				 * look at. */
				tx_send(vb, n);
				vb->frames[0] = *f;
				f = &vb->frames[0];
				n = 0;
				copied = 0;
			}
			if (!tx_copy(f, vb->tx_buf + copied,
				     VB_TX_FRAME_MAX - copied, &vb->iov[n][0])) {
				q->st.drop_host++;	/* checked above */
				continue;
			}
			copied += f->len;
			q->st.copy_bytes += f->len;
		}
		pcap_frame(vb->cfg.pcap, f->iov, f->iovcnt, f->len);
		n++;
	}
	tx_send(vb, n);
	/* Transmit buffers are only read: used length 0. */
	for (i = 0; i < popped; i++)
		virtq_dev_push(&q->vq, heads[i], 0);
	virtq_dev_flush(&q->vq);
	if (popped)
		queue_call(vb, q);
	return popped;
}

/* ---- host -> guest ----------------------------------------------------- */

struct rx_frame {
	unsigned first, nch;	/* its chains in vb->chains[] */
};

/*
 * Takes chains for up to one batch of frames: one chain a frame, or with
 * mergeable buffers as many as the longest frame needs.  A frame of more
 * than one chain ends the batch, so whatever the host path leaves unused
 * is always the most recent pops (vq_unpop()).  Returns the frames.
 */
static unsigned rx_gather(struct vhost_backend *vb, struct rx_frame *fr)
{
	struct vb_queue *q = &vb->q[VB_RXQ];
	bool mrg = has(vb->features, VIRTIO_NET_F_MRG_RXBUF);
	size_t need = vb->hdr_len + vb->host->ops->max_frame(vb->host);
	unsigned nfr = 0, nch = 0;
	bool empty = false;

	while (nfr < vb->cfg.burst && !empty) {
		unsigned first = nch, segs = 0;
		size_t cap = 0;
		int rc;

		while (nch < VB_MAX_CHAINS) {
			struct virtq_chain *c = &vb->chains[nch];

			rc = virtq_dev_pop(&q->vq, c);
			if (rc < 0)
				queue_broke(vb, VB_RXQ, rc);
			if (rc <= 0) {
				empty = true;
				break;
			}
			if (c->n_out || (nch == first && c->in_len < vb->hdr_len)) {
				/* Unusable.  Returned at once only when nothing
				 * is held, so it can never be un-popped. */
				if (nch) {
					vq_unpop(&q->vq, 1);
					empty = true;	/* ends the batch */
					break;
				}
				virtq_dev_push(&q->vq, c->head, 0);
				q->st.drop_bad_chain++;
				continue;
			}
			if (segs + c->n_in > HOST_MAX_IOV) {
				vq_unpop(&q->vq, 1);
				break;
			}
			segs += c->n_in;
			cap += c->in_len;
			nch++;
			if (!mrg || cap >= need)
				break;
		}
		if (nch == first)
			break;
		if (mrg && cap < need && empty && nfr == 0 &&
		    segs < HOST_MAX_IOV && nch - first < q->vq.size) {
			/* The driver is still refilling: wait for it. */
			vq_unpop(&q->vq, nch - first);
			nch = first;
			vb->rx_wait = true;
			break;
		}
		if (mrg && cap < need && nfr > 0) {
			/* Short of buffers: the frames before it go first. */
			vq_unpop(&q->vq, nch - first);
			nch = first;
			break;
		}
		fr[nfr].first = first;
		fr[nfr].nch = nch - first;
		nfr++;
		if (nch - first > 1 || nch == VB_MAX_CHAINS)
			break;
	}
	if (!nfr && nch == 0 && empty && !vb->rx_wait &&
	    !virtq_dev_broken(&q->vq))
		vb->rx_wait = true;
	return nfr;
}

/* Hands frame @f (of @len bytes) to the guest: header, used entries. */
static void rx_complete(struct vhost_backend *vb, const struct rx_frame *f,
			size_t len)
{
	struct vb_queue *q = &vb->q[VB_RXQ];
	struct virtio_net_hdr_mrg_rxbuf hdr = { 0 };
	size_t left = vb->hdr_len + len;
	unsigned j, used = 0;

	for (j = 0; j < f->nch && left; j++) {
		const struct virtq_chain *c = &vb->chains[f->first + j];
		uint32_t l = c->in_len < left ? c->in_len : (uint32_t)left;

		virtq_dev_push(&q->vq, c->head, l);
		left -= l;
		used++;
	}
	hdr.num_buffers = htole16((uint16_t)used);
	chain_write(&vb->chains[f->first], &hdr, vb->hdr_len);
	q->st.frames++;
	q->st.bytes += len;
	/* Not used: the caller puts them back. */
	if (used < f->nch)
		vq_unpop(&q->vq, f->nch - used);
}

unsigned vb_process_rx(struct vhost_backend *vb)
{
	struct vb_queue *q = &vb->q[VB_RXQ];
	struct host_stats before = vb->host->stats;
	struct rx_frame fr[HOST_BURST];
	unsigned nfr, i, held;
	int k;

	if (!queue_usable(q) || !queue_enabled(vb, q) || vb->host_dead ||
	    vb->rx_wait)
		return 0;
	nfr = rx_gather(vb, fr);
	if (!nfr) {
		/* Unusable chains may have been returned. */
		virtq_dev_flush(&q->vq);
		queue_call(vb, q);
		return 0;
	}
	for (i = 0; i < nfr; i++) {
		struct host_frame *h = &vb->frames[i];
		const struct virtq_chain *c = &vb->chains[fr[i].first];
		size_t skip = vb->hdr_len;
		unsigned j;

		h->iov = vb->iov[i];
		h->iovcnt = 0;
		h->len = 0;
		for (j = 0; j < fr[i].nch; j++, c++) {
			/* Fits: rx_gather() counted the segments. */
			chain_iov(c, c->n_out, c->n_in, skip, h->iov,
				  &h->iovcnt);
			skip = skip > c->in_len ? skip - c->in_len : 0;
		}
	}
	k = vb->host->ops->rx_burst(vb->host, vb->frames, nfr);
	if (k < 0) {
		vb_log(vb, 0, "host path %s: %s", vb->host->name,
		       strerror(-k));
		vb->host_dead = true;
		k = 0;
	}
	q->st.drop_truncated += vb->host->stats.rx_truncated -
				before.rx_truncated;
	q->st.drop_host += vb->host->stats.rx_errors - before.rx_errors;
	/* Frames [k, nfr) got nothing: their chains are the last pops.
	 * The last filled frame returns its own unused chains. */
	held = 0;
	for (i = (unsigned)k; i < nfr; i++)
		held += fr[i].nch;
	vq_unpop(&q->vq, held);
	for (i = 0; i < (unsigned)k; i++) {
		pcap_frame(vb->cfg.pcap, vb->frames[i].iov,
			   vb->frames[i].iovcnt, vb->frames[i].len);
		rx_complete(vb, &fr[i], vb->frames[i].len);
	}
	virtq_dev_flush(&q->vq);
	if (k)
		queue_call(vb, q);
	return (unsigned)k;
}

/* ---- messages ---------------------------------------------------------- */

/* Requests whose reply is their own payload, not REPLY_ACK's u64. */
static bool has_reply(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
	case VHOST_USER_GET_STATUS:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_GET_INFLIGHT_FD:
	case VHOST_USER_POSTCOPY_ADVISE:
	case VHOST_USER_CREATE_CRYPTO_SESSION:
		return true;
	default:
		return false;
	}
}

static int send_reply(struct vhost_backend *vb, const struct vu_msg *req,
		      const void *payload, uint32_t size)
{
	struct vu_msg r;
	int rc;

	vu_reply_init(&r, req, size);
	if (size)
		memcpy(&r.payload, payload, size);
	rc = vu_msg_send(vb->sock, &r, NULL, 0);
	if (rc)
		vb_log(vb, 0, "reply to %s: %s",
		       vu_request_name(req->hdr.request) ?: "?", strerror(-rc));
	return rc;
}

static int reply_u64(struct vhost_backend *vb, const struct vu_msg *req,
		     uint64_t v)
{
	return send_reply(vb, req, &v, sizeof(v));
}

/* After a request without a reply of its own: REPLY_ACK if asked for. */
static int ack(struct vhost_backend *vb, const struct vu_msg *req, int rc)
{
	if (!(req->hdr.flags & VHOST_USER_F_NEED_REPLY) ||
	    !has(vb->protocol, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		return 0;
	return reply_u64(vb, req, rc ? 1 : 0);
}

/* A request refused before or by its handler. */
static int answer_error(struct vhost_backend *vb, const struct vu_msg *req)
{
	/* An empty reply where a payload is expected: the front-end sees
	 * the failure instead of waiting for an answer. */
	if (has_reply(req->hdr.request) &&
	    !(req->hdr.flags & VHOST_USER_F_REPLY))
		return send_reply(vb, req, NULL, 0);
	return ack(vb, req, -1);
}

static int queue_index(const struct vhost_backend *vb, uint32_t index)
{
	(void)vb;
	return index < VB_NQUEUES ? (int)index : -1;
}

static void update_hdr_len(struct vhost_backend *vb)
{
	vb->hdr_len = has(vb->features, VIRTIO_F_VERSION_1) ||
		      has(vb->features, VIRTIO_NET_F_MRG_RXBUF) ?
		      sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		      sizeof(struct virtio_net_hdr);
}

static void device_reset(struct vhost_backend *vb)
{
	unsigned qi;

	for (qi = 0; qi < VB_NQUEUES; qi++)
		queue_reset(&vb->q[qi]);
	vu_mem_free(&vb->mem);
	vb->features = 0;
	vb->protocol = 0;
	vb->owner = false;
	vb->status = 0;
	vb->rx_wait = false;
	update_hdr_len(vb);
}

/* SET_VRING_KICK / CALL / ERR: takes fds[0] when the message has one. */
static int set_vring_fd(struct vhost_backend *vb, const struct vu_msg *m,
			int *fds, unsigned nfds)
{
	int qi = queue_index(vb, (uint32_t)(m->payload.u64 &
					    VHOST_USER_VRING_IDX_MASK));
	int fd = -1, *slot;
	struct vb_queue *q;

	if (qi < 0)
		return -EINVAL;
	q = &vb->q[qi];
	if (nfds) {
		fd = fds[0];
		fds[0] = -1;
	}
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_KICK:
		slot = &q->kick_fd;
		break;
	case VHOST_USER_SET_VRING_CALL:
		slot = &q->call_fd;
		break;
	default:
		slot = &q->err_fd;
		break;
	}
	ipc_close_fds(slot, 1);
	*slot = fd;
	if (m->hdr.request != VHOST_USER_SET_VRING_KICK)
		return 0;
	q->kick_set = true;
	if (q->running) {
		q->more = true;
		return 0;
	}
	return queue_start(vb, (unsigned)qi);
}

static int handle(struct vhost_backend *vb, const struct vu_msg *m, int *fds,
		  unsigned nfds)
{
	const struct vhost_user_vring_state *s = &m->payload.state;
	struct vb_queue *q = NULL;
	int qi, rc;

	switch (m->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		return reply_u64(vb, m, vb_offered_features(&vb->cfg));
	case VHOST_USER_SET_FEATURES:
		if (m->payload.u64 & ~vb_offered_features(&vb->cfg))
			return -EINVAL;
		vb->features = m->payload.u64;
		update_hdr_len(vb);
		vb_log(vb, 1, "features 0x%llx: %s%s%s%s", (unsigned long long)vb->features,
		       has(vb->features, VIRTIO_NET_F_MRG_RXBUF) ? "mrg_rxbuf " : "",
		       has(vb->features, VIRTIO_RING_F_EVENT_IDX) ? "event_idx " : "",
		       has(vb->features, VIRTIO_RING_F_INDIRECT_DESC) ? "indirect " : "",
		       has(vb->features, VHOST_USER_F_PROTOCOL_FEATURES) ?
		       "protocol_features" : "");
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return reply_u64(vb, m, offered_protocol);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (m->payload.u64 & ~offered_protocol)
			return -EINVAL;
		vb->protocol = m->payload.u64;
		return 0;
	case VHOST_USER_SET_OWNER:
		vb->owner = true;
		return 0;
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_RESET_DEVICE:
		device_reset(vb);
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		return reply_u64(vb, m, 1);
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		return reply_u64(vb, m, VHOST_MEMORY_MAX_NREGIONS);
	case VHOST_USER_SET_MEM_TABLE:
		rc = vu_mem_set_table(&vb->mem, &m->payload.mem, fds);
		if (!rc) {
			vb_log(vb, 1, "memory table: %u regions",
			       vb->mem.gm.nr);
			queues_remap(vb);
			for (qi = 0; qi < VB_NQUEUES; qi++)
				queue_start(vb, (unsigned)qi);
		}
		return rc;
	case VHOST_USER_ADD_MEM_REG:
		rc = vu_mem_add_region(&vb->mem, &m->payload.mem_reg.region,
				       fds[0]);
		fds[0] = -1;
		if (!rc)
			for (qi = 0; qi < VB_NQUEUES; qi++)
				queue_start(vb, (unsigned)qi);
		return rc;
	case VHOST_USER_REM_MEM_REG:
		/* Rings must not point into it any more. */
		for (qi = 0; qi < VB_NQUEUES; qi++)
			queue_stop(vb, (unsigned)qi);
		rc = vu_mem_remove_region(&vb->mem,
					  &m->payload.mem_reg.region);
		for (qi = 0; qi < VB_NQUEUES; qi++)
			if (vb->q[qi].kick_set)
				queue_start(vb, (unsigned)qi);
		return rc;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		qi = queue_index(vb, s->index);
		if (qi < 0)
			break;
		q = &vb->q[qi];
		break;
	case VHOST_USER_SET_VRING_ADDR:
		qi = queue_index(vb, m->payload.addr.index);
		if (qi < 0)
			return -EINVAL;
		q = &vb->q[qi];
		q->addr = m->payload.addr;
		q->addr_set = true;
		if (q->running) {
			queue_stop(vb, (unsigned)qi);
			return queue_start(vb, (unsigned)qi);
		}
		return queue_start(vb, (unsigned)qi);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return set_vring_fd(vb, m, fds, nfds);
	case VHOST_USER_SET_STATUS:
		vb->status = (uint8_t)m->payload.u64;
		return 0;
	case VHOST_USER_GET_STATUS:
		return reply_u64(vb, m, vb->status);
	case VHOST_USER_SEND_RARP:
	case VHOST_USER_NET_SET_MTU:
		return 0;	/* nothing to do for a host-side back-end */
	default:
		return -EOPNOTSUPP;
	}

	/* The vring-state requests (a GET_VRING_BASE refused here is
	 * answered empty by the caller). */
	if (!q)
		return -EINVAL;
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_NUM:
		if (q->running)
			vb_log(vb, 0, "virtqueue %u: size changed while running (kept %u until it restarts)",
			       qi, q->num);
		q->num = s->num;
		return 0;
	case VHOST_USER_SET_VRING_BASE:
		q->base = (uint16_t)s->num;
		return 0;
	case VHOST_USER_SET_VRING_ENABLE:
		q->enabled = s->num != 0;
		q->more = true;
		vb_log(vb, 1, "virtqueue %u %s", qi,
		       q->enabled ? "enabled" : "disabled");
		return 0;
	default: {	/* GET_VRING_BASE: stop, answer the next index */
		struct vhost_user_vring_state st = { .index = s->index };
		unsigned rounds = q->num / vb->cfg.burst + 1;

		/* What the driver queued for transmission before the stop
		 * is sent (or, on a disabled ring, discarded and counted),
		 * so the base covers it and nothing is silently lost. */
		if (qi == VB_TXQ)
			while (rounds-- && vb_process_tx(vb) == vb->cfg.burst)
				;
		queue_stop(vb, (unsigned)qi);
		st.num = q->base;
		ipc_close_fds(&q->kick_fd, 1);
		ipc_close_fds(&q->call_fd, 1);
		q->kick_set = false;
		if (qi == VB_RXQ)
			vb->rx_wait = false;
		return send_reply(vb, m, &st, sizeof(st));
	}
	}
}

/*
 * Whether the next message has arrived whole, looked at without taking it
 * (MSG_PEEK): vu_msg_recv() waits without limit for the rest of a message
 * it began, so the loop only calls it for a complete one and keeps the
 * rings moving meanwhile.  1: complete, or nothing/closed/refusable (let
 * vu_msg_recv() say); 0: partial.  A sender's message with its fds is one
 * sendmsg() (QEMU, DPDK, ipc/vhost_user.c), and a peek stops only after
 * the bytes that carry fds, so a whole message is always seen whole.
 */
static int msg_complete(const struct vhost_backend *vb)
{
	uint8_t buf[VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD];
	struct vhost_user_hdr h;
	ssize_t n;

	n = recv(vb->sock, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0)
		return 1;
	if ((size_t)n < VHOST_USER_HDR_SIZE)
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.size > VHOST_USER_MAX_PAYLOAD)
		return 1;
	return (size_t)n >= VHOST_USER_HDR_SIZE + h.size;
}

int vb_handle_message(struct vhost_backend *vb)
{
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	struct vu_msg m;
	char err[160];
	const char *name;
	int rc;

	if (vb->sock < 0)
		return -ENOTCONN;
	rc = vu_msg_recv(vb->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds);
	if (rc == 0)
		return -ENOTCONN;
	if (rc == -EAGAIN)
		return 0;
	if (rc == -EMSGSIZE) {
		/* Read whole, the stream is in step: refuse just this one. */
		vb_log(vb, 0, "request %u: too many descriptors, refused",
		       m.hdr.request);
		return answer_error(vb, &m) ? -EPIPE : 0;
	}
	if (rc < 0) {
		vb_log(vb, 0, "vhost-user connection: %s%s", strerror(-rc),
		       rc == -E2BIG ? " (payload size beyond the protocol's)" :
		       "");
		return rc;
	}
	vb->last_work_ns = now_ns();
	name = vu_request_name(m.hdr.request) ?: "?";
	rc = vu_msg_check(&m, nfds, true, err, sizeof(err));
	if (rc) {
		ipc_close_fds(fds, nfds);
		vb_log(vb, 0, "refused: %s", err);
		return answer_error(vb, &m) ? -EPIPE : 0;
	}
	vb_log(vb, 2, "%s", name);
	rc = handle(vb, &m, fds, nfds);
	ipc_close_fds(fds, nfds);
	if (has_reply(m.hdr.request)) {
		if (rc == -EPIPE || rc == -ECONNRESET || rc == -ENOTCONN)
			return rc;
		if (rc) {
			vb_log(vb, 0, "%s: %s", name, strerror(-rc));
			return answer_error(vb, &m) ? -EPIPE : 0;
		}
		return 0;
	}
	if (rc)
		vb_log(vb, 0, "%s failed: %s", name, strerror(-rc));
	return ack(vb, &m, rc) ? -EPIPE : 0;
}

/* ---- the object and its loop ------------------------------------------- */

struct vhost_backend *vb_create(struct host_path *host,
				const struct vb_config *cfg)
{
	struct vhost_backend *vb = calloc(1, sizeof(*vb));
	unsigned qi;

	if (!vb)
		return NULL;
	vb->cfg = *cfg;
	if (!vb->cfg.burst || vb->cfg.burst > HOST_BURST)
		vb->cfg.burst = HOST_BURST;
	if (!vb->cfg.msg_timeout_ms)
		vb->cfg.msg_timeout_ms = VB_MSG_TIMEOUT_MS;
	if (vb->cfg.tx_copy) {
		vb->tx_buf = malloc(VB_TX_FRAME_MAX);
		if (!vb->tx_buf) {
			free(vb);
			return NULL;
		}
	}
	vb->host = host;
	vb->sock = -1;
	vu_mem_init(&vb->mem);
	for (qi = 0; qi < VB_NQUEUES; qi++) {
		vb->q[qi].kick_fd = vb->q[qi].call_fd = vb->q[qi].err_fd = -1;
	}
	update_hdr_len(vb);
	return vb;
}

void vb_destroy(struct vhost_backend *vb)
{
	if (!vb)
		return;
	vb_detach(vb);
	free(vb->tx_buf);
	free(vb);
}

void vb_attach(struct vhost_backend *vb, int sock)
{
	vb_detach(vb);
	vb->sock = sock;
	vb->last_work_ns = now_ns();
}

bool vb_connected(const struct vhost_backend *vb)
{
	return vb->sock >= 0;
}

void vb_detach(struct vhost_backend *vb)
{
	device_reset(vb);
	vb->partial_since = 0;
	ipc_close_fds(&vb->sock, 1);
}

/* The kick fd of a running ring, or -1. */
static int kick_fd(const struct vb_queue *q)
{
	return q->running ? q->kick_fd : -1;
}

/*
 * Before sleeping: ask for kicks again; true if work came meanwhile.  Also
 * when kicks were never off: the avail_event a pop stored may still sit in
 * this CPU's store buffer while the driver reads the old one and skips its
 * kick, so the fence and second look of enable_kick are needed every time.
 */
static bool arm_kicks(struct vhost_backend *vb)
{
	struct vb_queue *tx = &vb->q[VB_TXQ], *rx = &vb->q[VB_RXQ];
	bool work = false;

	if (queue_usable(tx)) {
		tx->kick_on = true;
		if (virtq_dev_enable_kick(&tx->vq))
			work = tx->more = true;
	}
	if (queue_usable(rx) && vb->rx_wait) {
		rx->kick_on = true;
		if (virtq_dev_enable_kick(&rx->vq)) {
			vb->rx_wait = false;
			work = rx->more = true;
		}
	}
	return work;
}

static void quiet_kicks(struct vb_queue *q)
{
	if (q->kick_on && queue_usable(q)) {
		virtq_dev_disable_kick(&q->vq);
		q->kick_on = false;
	}
}

int vb_poll(struct vhost_backend *vb, int timeout_ms)
{
	struct vb_queue *tx = &vb->q[VB_TXQ], *rx = &vb->q[VB_RXQ];
	struct pollfd p[4];
	int i_sock = -1, i_tx = -1, i_rx = -1, i_host = -1, n = 0, rc;
	uint64_t now = now_ns();
	bool busy = vb->cfg.busy_poll_ns &&
		    now - vb->last_work_ns < vb->cfg.busy_poll_ns;
	unsigned moved = 0;

	if (vb->sock < 0)
		return -ENOTCONN;
	if (busy && queue_usable(tx))
		tx->more = true;
	/* Kicks are asked for again only when about to sleep. */
	if (tx->more || rx->more || busy || arm_kicks(vb))
		timeout_ms = 0;
	if (timeout_ms &&
	    ((tx->running && tx->kick_fd < 0) ||
	     (rx->running && rx->kick_fd < 0))) {
		/* NOFD: the front-end never kicks; look every millisecond. */
		if (timeout_ms < 0 || timeout_ms > VB_POLL_NOFD_MS)
			timeout_ms = VB_POLL_NOFD_MS;
		if (tx->running && tx->kick_fd < 0)
			tx->more = true;
		if (rx->running && rx->kick_fd < 0)
			vb->rx_wait = false;
	}

	if (queue_usable(rx) && queue_enabled(vb, rx) &&
	    !vb->rx_wait && !vb->host_dead &&
	    vb->host->ops->rx_fd(vb->host) < 0) {
		/* A poll-mode host path (DPDK) has no fd: look every turn,
		 * also while transmit or --busy-poll spins (timeout 0), and
		 * at least every millisecond. */
		if (timeout_ms < 0 || timeout_ms > VB_POLL_NOFD_MS)
			timeout_ms = VB_POLL_NOFD_MS;
		rx->more = true;
	}
	if (vb->partial_since && (timeout_ms < 0 ||
				  timeout_ms > VB_PARTIAL_POLL_MS))
		timeout_ms = VB_PARTIAL_POLL_MS;
	if (timeout_ms)
		pcap_flush(vb->cfg.pcap);	/* going idle */
	/* While a message is in the making its bytes keep the socket
	 * readable: look for hang-ups only, and at the bytes each turn. */
	p[n] = (struct pollfd){ .fd = vb->sock,
				.events = vb->partial_since ? 0 : POLLIN };
	i_sock = n++;
	if (kick_fd(tx) >= 0) {
		p[n] = (struct pollfd){ .fd = tx->kick_fd, .events = POLLIN };
		i_tx = n++;
	}
	if (kick_fd(rx) >= 0) {
		p[n] = (struct pollfd){ .fd = rx->kick_fd, .events = POLLIN };
		i_rx = n++;
	}
	if (queue_usable(rx) && queue_enabled(vb, rx) && !vb->rx_wait &&
	    !vb->host_dead && vb->host->ops->rx_fd(vb->host) >= 0) {
		p[n] = (struct pollfd){ .fd = vb->host->ops->rx_fd(vb->host),
					.events = POLLIN };
		i_host = n++;
	}
	if (busy && !timeout_ms && !vb->partial_since &&
	    now - vb->fds_looked_ns < VB_BUSY_FDS_NS) {
		/* Busy-polling, kicks off: the socket and the host's receive
		 * side can wait a few us; a poll() a burst is a syscall for
		 * nothing. */
		for (int i = 0; i < n; i++)
			p[i].revents = 0;
	} else {
		if (busy)
			vb->fds_looked_ns = now;
		rc = poll(p, (nfds_t)n, timeout_ms);
		if (rc < 0)
			return errno == EINTR ? -EINTR : -errno;
	}

	if (p[i_sock].revents || vb->partial_since) {
		if (!(p[i_sock].revents & (POLLHUP | POLLERR)) &&
		    !msg_complete(vb)) {
			now = now_ns();		/* poll() may have slept */
			if (!vb->partial_since)
				vb->partial_since = now;
			else if (now - vb->partial_since >=
				 (uint64_t)vb->cfg.msg_timeout_ms * 1000000) {
				vb_log(vb, 0, "front-end left a message unfinished for %u ms: dropped",
				       vb->cfg.msg_timeout_ms);
				vb_detach(vb);
				return -ENOTCONN;
			}
			goto data;
		}
		vb->partial_since = 0;
		rc = vb_handle_message(vb);
		if (rc < 0) {
			vb_log(vb, rc == -ENOTCONN ? 1 : 0,
			       "front-end %s", rc == -ENOTCONN ?
			       "closed the connection" : "dropped");
			vb_detach(vb);
			return -ENOTCONN;
		}
		/* The rings may have changed under the indexes below. */
		return 0;
	}
data:
	if (i_tx >= 0 && p[i_tx].revents) {
		tx->st.kicks += ipc_eventfd_drain(tx->kick_fd);
		tx->more = true;
	}
	if (i_rx >= 0 && p[i_rx].revents) {
		rx->st.kicks += ipc_eventfd_drain(rx->kick_fd);
		vb->rx_wait = false;
		rx->more = true;
	}
	if (i_host >= 0 && (p[i_host].revents & POLLIN))
		rx->more = true;
	if (i_host >= 0 && (p[i_host].revents & (POLLERR | POLLNVAL))) {
		vb_log(vb, 0, "host path %s: poll error", vb->host->name);
		vb->host_dead = true;
	}

	if (tx->more) {
		unsigned k;

		quiet_kicks(tx);
		k = vb_process_tx(vb);
		tx->more = k == vb->cfg.burst;
		moved += k;
	}
	if (rx->more) {
		unsigned k;

		if (!vb->rx_wait)
			quiet_kicks(rx);
		k = vb_process_rx(vb);
		rx->more = k == vb->cfg.burst && !vb->rx_wait;
		moved += k;
	}
	if (moved)
		vb->last_work_ns = now_ns();
	else if (busy)
		ipc_spin_yield();	/* an idle look: dev-pcnet may share the CPU */
	return 0;
}

const struct vb_queue_stats *vb_stats(const struct vhost_backend *vb,
				      unsigned q)
{
	return q < VB_NQUEUES ? &vb->q[q].st : NULL;
}

uint64_t vb_features(const struct vhost_backend *vb)
{
	return vb->features;
}

uint64_t vb_protocol_features(const struct vhost_backend *vb)
{
	return vb->protocol;
}

bool vb_host_failed(const struct vhost_backend *vb)
{
	return vb->host_dead;
}

bool vb_queue_running(const struct vhost_backend *vb, unsigned q)
{
	return q < VB_NQUEUES && queue_usable(&vb->q[q]);
}

/* The counters by name, for both printers below. */
#define VB_QSTAT(f) { #f, offsetof(struct vb_queue_stats, f) }
static const struct { const char *name; size_t off; } vb_qstats[] = {
	VB_QSTAT(frames), VB_QSTAT(bytes), VB_QSTAT(kicks), VB_QSTAT(calls),
	VB_QSTAT(copy_bytes),
	/* from here on: drops, by cause */
	VB_QSTAT(drop_bad_chain), VB_QSTAT(drop_runt), VB_QSTAT(drop_truncated),
	VB_QSTAT(drop_disabled), VB_QSTAT(drop_host), VB_QSTAT(drop_host_busy),
	VB_QSTAT(broken),
};
#define VB_QSTAT_DROPS	5
#define VB_HSTAT(f) { #f, offsetof(struct host_stats, f) }
static const struct { const char *name; size_t off; } vb_hstats[] = {
	VB_HSTAT(tx_frames), VB_HSTAT(tx_bytes), VB_HSTAT(tx_errors),
	VB_HSTAT(rx_frames), VB_HSTAT(rx_bytes), VB_HSTAT(rx_errors),
	VB_HSTAT(rx_truncated),
};
static const char *const vb_qnames[VB_NQUEUES] = { "rxq", "txq" };

/* A counter that another thread may be updating: read whole. */
static unsigned long long stat_at(const void *base, size_t off)
{
	return __atomic_load_n((const uint64_t *)((const char *)base + off),
			       __ATOMIC_RELAXED);
}

void vb_write_counters(const struct vhost_backend *vb, FILE *f)
{
	fprintf(f, "connected %d\n",
		__atomic_load_n(&vb->sock, __ATOMIC_RELAXED) >= 0);
	for (unsigned qi = 0; qi < VB_NQUEUES; qi++)
		for (size_t k = 0; k < sizeof(vb_qstats) / sizeof(vb_qstats[0]); k++)
			fprintf(f, "%s.%s %llu\n", vb_qnames[qi], vb_qstats[k].name,
				stat_at(&vb->q[qi].st, vb_qstats[k].off));
	for (size_t k = 0; k < sizeof(vb_hstats) / sizeof(vb_hstats[0]); k++)
		fprintf(f, "host.%s %llu\n", vb_hstats[k].name,
			stat_at(&vb->host->stats, vb_hstats[k].off));
}

/*
 * One line per queue, one for the host path; parsed by the tests, so the
 * words stay: "rxq frames N bytes N kicks N calls N drops bad_chain N ...".
 */
void vb_print_stats(const struct vhost_backend *vb, FILE *f)
{
	for (unsigned qi = 0; qi < VB_NQUEUES; qi++) {
		fprintf(f, "dev-net-backend: %s", vb_qnames[qi]);
		for (size_t k = 0; k < sizeof(vb_qstats) / sizeof(vb_qstats[0]); k++) {
			const char *n = vb_qstats[k].name;

			if (k >= VB_QSTAT_DROPS && !strncmp(n, "drop_", 5))
				n += 5;
			fprintf(f, "%s %s %llu", k == VB_QSTAT_DROPS ? " drops" : "",
				n, stat_at(&vb->q[qi].st, vb_qstats[k].off));
		}
		fputc('\n', f);
	}
	fprintf(f, "dev-net-backend: host %s", vb->host->name);
	for (size_t k = 0; k < sizeof(vb_hstats) / sizeof(vb_hstats[0]); k++) {
		/* "tx frames N bytes N errors N rx frames N ..." */
		const char *n = vb_hstats[k].name;
		bool first = k == 0 || strncmp(n, vb_hstats[k - 1].name, 3);

		fprintf(f, "%s%.2s %s %llu", first ? " " : "", first ? n : "",
			n + 3, stat_at(&vb->host->stats, vb_hstats[k].off));
	}
	fputc('\n', f);
	fflush(f);
}
